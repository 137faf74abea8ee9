/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The board console: one serial line shared by the hypervisor's shell and the guest's emulated
 * PL011. Bytes typed go to the shell, or, while attached (`guest console`), to the guest; Ctrl-]
 * detaches. Guest output is shown raw while attached and as "[guest] " log lines otherwise; the
 * last 16 KiB of it are kept for `guest log`. docs/console.md describes it for users.
 *
 * The UART itself is the board's (the board_console_* hooks below): a PL011 on arm64 boards,
 * a 16550 on a PC. Everything runs in hypervisor context (single pCPU, EL2 interrupts masked),
 * so the receive ring filled by board_console_irq() and drained by console_poll() needs no
 * lock.
 */
#ifndef CV_CONSOLE_H
#define CV_CONSOLE_H

#include <cv/types.h>

struct vpl011;

/** The escape byte that detaches the guest console: Ctrl-] */
#define CONSOLE_ESCAPE 0x1d
/** Receive ring size; several script lines fit while the main loop is busy. */
#define CONSOLE_RX_RING 4096u
/** Raw guest output kept for `guest log`. */
#define CONSOLE_GUEST_TAIL 16384u
/** A detached guest line is printed when it reaches this many bytes without a newline. */
#define CONSOLE_GUEST_LINE 200u

/** Initialises the board UART. Boot context, before the first guest entry. */
void console_init(void);
/** Drains the UART and the receive ring and dispatches the bytes. Main loop. */
void console_poll(void);
/** Queues one received byte (board_console_irq). Drops it, counting, when the ring is full. */
void console_rx_push(char c);
/** Bytes dropped because the receive ring was full. */
uint64_t console_rx_dropped(void);

/**
 * Writes the shell's prompt and the echo of the line being edited. Unlike console_write(), it
 * lets a guest line that arrives meanwhile take the prompt's place and draw it again below.
 */
void console_shell_write(const char *s, size_t n);

/** Names the emulated UART that receives typed bytes while attached (vpl011_register()). */
void console_set_guest_uart(struct vpl011 *u);
/** Attaches (prints a banner) or detaches (prints a notice and the shell prompt). */
void console_attach_guest(bool on);
bool console_guest_attached(void);
/** One byte the guest transmitted (vpl011 DR write). Exit context. */
void console_guest_output(char c);
/** Prints the kept tail of the guest's output (`guest log`). */
void console_guest_tail(void);

/* ---- board hooks: the console UART's driver (boards/<name>/platform.c) ---- */

/**
 * Programs the UART for the console (receive interrupts unmasked at the UART; the interrupt
 * controller side is the arch's). Boot context, first thing after the MMU is on; output before
 * it must still work, for an early panic.
 */
void board_console_init(void);
/** Sends one byte, waiting while the transmitter is full. Any context, also a panic. */
void board_console_putc(char c);
/** The next received byte, or -1 if none is waiting. Any context. */
int board_console_getc(void);
/** The UART's interrupt: moves what it received into console_rx_push(). Hypervisor context. */
void board_console_irq(void);

/* ---- provided by kernel/console/shell.c for the console ---- */

/** Prints the prompt and the line being edited again (after a guest line took its place). */
void shell_redraw(void);

#endif
