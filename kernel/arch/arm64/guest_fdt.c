// SPDX-License-Identifier: Apache-2.0
// The device tree the guest boots with, generated from the board's guest layout: memory, one
// CPU with PSCI over HVC, the GICv3 the vGIC emulates, the architected timer, the emulated
// PL011, and the virtio-mmio transports. An unmodified Linux finds its devices in it; the test
// guest ignores it.
#include <string.h>

/* libfdt's headers use zero-length arrays and stray semicolons that -Wpedantic rejects. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <libfdt.h>
#pragma GCC diagnostic pop

#include <cv/board.h>
#include <cv/log.h>
#include <cv/vm.h>

#include <arch/arm64.h>

#define GIC_SPI 0u
#define GIC_PPI 1u
#define IRQ_EDGE_RISING 1u
#define IRQ_LEVEL_HIGH 4u
#define PHANDLE_GIC 1u
#define PHANDLE_CLK 2u

struct fdt_w {
    void *fdt;
    int err;
};

static void chk(struct fdt_w *w, int r)
{
    if (r < 0 && w->err == 0) {
        w->err = r;
    }
}

static void prop_u32(struct fdt_w *w, const char *name, uint32_t v)
{
    chk(w, fdt_property_u32(w->fdt, name, v));
}

static void prop_str(struct fdt_w *w, const char *name, const char *s)
{
    chk(w, fdt_property_string(w->fdt, name, s));
}

/* Big-endian cells. */
static void prop_cells(struct fdt_w *w, const char *name, const uint32_t *cells, unsigned n)
{
    fdt32_t be[16];
    for (unsigned i = 0; i < n && i < 16; i++) {
        be[i] = cpu_to_fdt32(cells[i]);
    }
    chk(w, fdt_property(w->fdt, name, be, (int)(n * sizeof(fdt32_t))));
}

static void reg64(struct fdt_w *w, uint64_t base, uint64_t size)
{
    uint32_t c[4] = {(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32),
                     (uint32_t)size};
    prop_cells(w, "reg", c, 4);
}

static void begin(struct fdt_w *w, const char *name, uint64_t addr, bool with_addr)
{
    char buf[48];
    if (with_addr) {
        cv_snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)addr);
        name = buf;
    }
    chk(w, fdt_begin_node(w->fdt, name));
}

static void end(struct fdt_w *w)
{
    chk(w, fdt_end_node(w->fdt));
}

size_t arm64_build_guest_fdt(struct vm *vm, void *buf, size_t cap, const char *cmdline,
                             uint64_t initrd_start, uint64_t initrd_end)
{
    const struct board_guest_arch *g = &board_desc.arch.guest;
    struct fdt_w w = {buf, 0};
    chk(&w, fdt_create(buf, (int)cap));
    chk(&w, fdt_finish_reservemap(buf));
    chk(&w, fdt_begin_node(buf, ""));
    prop_str(&w, "compatible", "linux,dummy-virt");
    prop_str(&w, "model", "colovisor guest");
    prop_u32(&w, "#address-cells", 2);
    prop_u32(&w, "#size-cells", 2);
    prop_u32(&w, "interrupt-parent", PHANDLE_GIC);

    begin(&w, "chosen", 0, false);
    prop_str(&w, "bootargs", cmdline);
    char stdout_path[48];
    cv_snprintf(stdout_path, sizeof(stdout_path), "/pl011@%llx",
                (unsigned long long)gpa_raw(g->uart));
    prop_str(&w, "stdout-path", stdout_path);
    if (initrd_end > initrd_start) {
        chk(&w, fdt_property_u64(buf, "linux,initrd-start", initrd_start));
        chk(&w, fdt_property_u64(buf, "linux,initrd-end", initrd_end));
    }
    end(&w);

    begin(&w, "memory", gpa_raw(vm->ram.base), true);
    prop_str(&w, "device_type", "memory");
    reg64(&w, gpa_raw(vm->ram.base), vm->ram.size);
    end(&w);

    begin(&w, "cpus", 0, false);
    prop_u32(&w, "#address-cells", 1);
    prop_u32(&w, "#size-cells", 0);
    begin(&w, "cpu", 0, true);
    prop_str(&w, "device_type", "cpu");
    prop_str(&w, "compatible", "arm,armv8");
    prop_u32(&w, "reg", 0);
    prop_str(&w, "enable-method", "psci");
    end(&w);
    end(&w);

    begin(&w, "psci", 0, false);
    static const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";
    chk(&w, fdt_property(buf, "compatible", psci_compat, sizeof(psci_compat)));
    prop_str(&w, "method", "hvc");
    end(&w);

    begin(&w, "intc", gpa_raw(g->gicd), true);
    prop_str(&w, "compatible", "arm,gic-v3");
    prop_u32(&w, "#interrupt-cells", 3);
    chk(&w, fdt_property(buf, "interrupt-controller", NULL, 0));
    prop_u32(&w, "#redistributor-regions", 1);
    uint32_t gic_reg[8] = {0, (uint32_t)gpa_raw(g->gicd), 0, 0x10000,
                           0, (uint32_t)gpa_raw(g->gicr), 0, 0x20000};
    prop_cells(&w, "reg", gic_reg, 8);
    /* The maintenance interrupt belongs to the hypervisor; the guest has no virtualisation. */
    prop_u32(&w, "phandle", PHANDLE_GIC);
    end(&w);

    begin(&w, "timer", 0, false);
    prop_str(&w, "compatible", "arm,armv8-timer");
    uint32_t timer_irqs[12] = {
        GIC_PPI, board_desc.arch.timer.phys_ppi - 16 - 1, IRQ_LEVEL_HIGH, /* secure phys (29) */
        GIC_PPI, board_desc.arch.timer.phys_ppi - 16,     IRQ_LEVEL_HIGH, /* non-secure phys */
        GIC_PPI, board_desc.arch.timer.virt_ppi - 16,     IRQ_LEVEL_HIGH, /* virtual */
        GIC_PPI, board_desc.arch.timer.hyp_ppi - 16,      IRQ_LEVEL_HIGH, /* hypervisor */
    };
    prop_cells(&w, "interrupts", timer_irqs, 12);
    chk(&w, fdt_property(buf, "always-on", NULL, 0));
    end(&w);

    begin(&w, "apb-pclk", 0, false);
    prop_str(&w, "compatible", "fixed-clock");
    prop_u32(&w, "#clock-cells", 0);
    prop_u32(&w, "clock-frequency", 24000000);
    prop_str(&w, "clock-output-names", "clk24mhz");
    prop_u32(&w, "phandle", PHANDLE_CLK);
    end(&w);

    begin(&w, "pl011", gpa_raw(g->uart), true);
    static const char uart_compat[] = "arm,pl011\0arm,primecell";
    chk(&w, fdt_property(buf, "compatible", uart_compat, sizeof(uart_compat)));
    reg64(&w, gpa_raw(g->uart), 0x1000);
    uint32_t uart_irq[3] = {GIC_SPI, g->uart_irq - 32, IRQ_LEVEL_HIGH};
    prop_cells(&w, "interrupts", uart_irq, 3);
    static const char clk_names[] = "uartclk\0apb_pclk";
    chk(&w, fdt_property(buf, "clock-names", clk_names, sizeof(clk_names)));
    uint32_t clks[2] = {PHANDLE_CLK, PHANDLE_CLK};
    prop_cells(&w, "clocks", clks, 2);
    end(&w);

    /* Highest slot first, so that Linux enumerates slot 0 (the NIC) first, as QEMU's DTs do. */
    for (unsigned i = g->virtio_count; i-- > 0;) {
        uint64_t base = gpa_raw(g->virtio_base) + i * g->virtio_stride;
        begin(&w, "virtio_mmio", base, true);
        prop_str(&w, "compatible", "virtio,mmio");
        reg64(&w, base, g->virtio_stride);
        uint32_t irq[3] = {GIC_SPI, g->virtio_first_irq + i - 32, IRQ_LEVEL_HIGH};
        prop_cells(&w, "interrupts", irq, 3);
        chk(&w, fdt_property(buf, "dma-coherent", NULL, 0));
        end(&w);
    }

    end(&w);
    chk(&w, fdt_finish(buf));
    if (w.err) {
        log_err("guest: cannot build its device tree: %s", fdt_strerror(w.err));
        return 0;
    }
    return fdt_totalsize(buf);
}
