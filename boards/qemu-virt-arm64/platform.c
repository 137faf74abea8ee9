// SPDX-License-Identifier: Apache-2.0
// What the QEMU virt machine plugs into the generic hooks: its PL011 is the console, and its
// NICs are virtio-net devices on the virtio-mmio transports.
#include <cv/board.h>
#include <cv/console.h>
#include <cv/pl011.h>
#include <cv/virtio_mmio.h>

void console_platform_init(void)
{
    pl011_init();
}

void console_platform_putc(char c)
{
    pl011_putc(c);
}

int console_platform_getc(void)
{
    return pl011_getc();
}

void console_platform_irq(void)
{
    pl011_irq();
}

unsigned board_nics_probe(void)
{
    return virtio_net_probe_all();
}
