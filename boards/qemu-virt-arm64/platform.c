// SPDX-License-Identifier: Apache-2.0
// What the QEMU virt machine plugs into the generic hooks: its PL011 is the console, and its
// NICs are virtio-net devices on the virtio-mmio transports.
#include <cv/board.h>
#include <cv/console.h>
#include <drivers/pl011.h>
#include <cv/virtio_mmio.h>

void board_console_init(void)
{
    pl011_init();
}

void board_console_putc(char c)
{
    pl011_putc(c);
}

int board_console_getc(void)
{
    return pl011_getc();
}

void board_console_irq(void)
{
    pl011_irq();
}

unsigned board_nics_probe(void)
{
    return virtio_net_probe_all();
}
