// SPDX-License-Identifier: Apache-2.0
// QEMU's arm64 "virt" machine (-M virt,virtualization=on,gic-version=3), as QEMU 7.2 lays it
// out. The guest sees the same layout, so a kernel built for "virt" runs unchanged.
#include <cv/board.h>

const struct board board_desc = {
    .name = "qemu-virt-arm64",
    .ram = {.base = {0x40000000}, .size = 512ull << 20},
    .hyp_reserved = 64ull << 20,
    .guest = {.ram_base = {0x40000000}, .ram_size = GUEST_RAM_MIB << 20},
    .arch =
        {
            .dt_compatible = "linux,dummy-virt",
            .uart = {.base = {0x09000000}, .size = 0x1000, .irq = 33},
            .gic =
                {
                    .dist = {0x08000000},
                    .dist_size = 0x10000,
                    .redist = {0x080a0000},
                    .redist_size = 0x20000,
                },
            .timer = {.hyp_ppi = 26, .virt_ppi = 27, .phys_ppi = 30, .maint_ppi = 25},
            .virtio = {.base = {0x0a000000}, .stride = 0x200, .count = 32, .first_irq = 48},
            .guest =
                {
                    .uart = {0x09000000},
                    .uart_irq = 33,
                    .gicd = {0x08000000},
                    .gicr = {0x080a0000},
                    .virtio_base = {0x0a000000},
                    .virtio_stride = 0x200,
                    .virtio_first_irq = 48,
                    .virtio_count = 8,
                },
        },
};
