// SPDX-License-Identifier: Apache-2.0
// The guest's devices on QEMU's virt layout: the PL011 console, and the NIC in virtio-mmio
// slot 0 with the other slots answering "no device", as a virt guest's device tree lists them.
#include <cv/board.h>
#include <cv/config.h>
#include <cv/console.h>
#include <cv/virtio_empty.h>
#include <cv/vm.h>
#include <cv/vnet.h>
#include <cv/vpl011.h>

static struct vpl011 guest_uart;
static struct vnet guest_nic;

bool board_guest_devices_init(struct vm *vm)
{
    const struct board_guest_arch *gl = &board_desc.arch.guest;
    vpl011_init(&guest_uart, vm, gl->uart, gl->uart_irq);
    if (!vpl011_register(&guest_uart, &vm->bus)) {
        return false;
    }
    console_set_guest_uart(&guest_uart);
    vnet_init(&guest_nic, vm, gl->virtio_base, gl->virtio_first_irq, config_get()->guest_mac);
    if (!vnet_register(&guest_nic, &vm->bus) ||
        !virtio_empty_register(&vm->bus, gpa(gpa_raw(gl->virtio_base) + gl->virtio_stride),
                               gl->virtio_count - 1)) {
        return false;
    }
    return true;
}

struct vnet *board_guest_nic(void)
{
    return &guest_nic;
}
