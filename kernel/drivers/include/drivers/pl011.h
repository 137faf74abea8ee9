/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver for the board's own PL011 (board_desc.arch.uart), the hypervisor's console. Polled
 * transmit, interrupt-driven receive: the receive FIFO is only 32 bytes deep, so pl011_irq()
 * moves it into the console's 4 KiB ring on every UART interrupt. A board with a PL011 console
 * wires the board_console_* hooks (cv/console.h) to it. Target only.
 */
#ifndef DRIVERS_PL011_H
#define DRIVERS_PL011_H

#include <cv/types.h>

/**
 * Programs the UART: 8N1, FIFOs on, transmit and receive enabled, receive and receive-timeout
 * interrupts unmasked (the interrupt controller side is the caller's). Boot context.
 */
void pl011_init(void);
/** Sends one byte, busy-waiting while the transmit FIFO is full. Any context. */
void pl011_putc(char c);
/** Returns the next received byte, or -1 if the receive FIFO is empty. Any context. */
int pl011_getc(void);
/** UART interrupt: drains the receive FIFO into console_rx_push(). Hypervisor context. */
void pl011_irq(void);

#endif
