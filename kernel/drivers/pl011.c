// SPDX-License-Identifier: Apache-2.0
// The board console PL011. QEMU ignores the baud rate; real boards need IBRD/FBRD to match
// UARTCLK, hence the divisor computed for 115200 from a 24 MHz clock.
#include <cv/board.h>
#include <cv/console.h>
#include <cv/page.h>
#include <drivers/pl011.h>

#define UART_DR 0x000
#define UART_RSR 0x004
#define UART_FR 0x018
#define UART_IBRD 0x024
#define UART_FBRD 0x028
#define UART_LCR_H 0x02c
#define UART_CR 0x030
#define UART_IFLS 0x034
#define UART_IMSC 0x038
#define UART_ICR 0x044

#define FR_BUSY BIT(3)
#define FR_RXFE BIT(4)
#define FR_TXFF BIT(5)

#define LCR_H_FEN BIT(4)
#define LCR_H_WLEN8 (3u << 5)

#define CR_UARTEN BIT(0)
#define CR_TXE BIT(8)
#define CR_RXE BIT(9)

#define INT_RX BIT(4)
#define INT_RT BIT(6)
#define INT_ALL 0x7ffu

#define UARTCLK_HZ 24000000u
#define BAUD 115200u

static volatile uint8_t *uart_base;

/* Lazily resolved so that a panic before pl011_init() still reaches the wire. */
static volatile uint8_t *regs(void)
{
    if (!uart_base) {
        uart_base = hpa_to_hva(board_desc.arch.uart.base);
    }
    return uart_base;
}

static uint32_t rd(unsigned off)
{
    return *(volatile uint32_t *)(regs() + off);
}

static void wr(unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(regs() + off) = v;
}

void pl011_init(void)
{
    /* Firmware may have left it running: finish what is in flight before reprogramming. */
    while (rd(UART_FR) & FR_BUSY) {
    }
    wr(UART_CR, 0);
    /* Clearing FEN flushes both FIFOs. */
    wr(UART_LCR_H, 0);
    /* The divisor in 1/64ths: 64 * UARTCLK / (16 * baud), rounded. */
    uint32_t div64 = (4u * UARTCLK_HZ + BAUD / 2) / BAUD;
    wr(UART_IBRD, div64 >> 6);
    wr(UART_FBRD, div64 & 0x3f);
    wr(UART_LCR_H, LCR_H_WLEN8 | LCR_H_FEN); /* LCR_H after the divisors latches them */
    wr(UART_IFLS, 0x12);                     /* RX and TX at 1/2 */
    wr(UART_RSR, 0);
    wr(UART_ICR, INT_ALL);
    wr(UART_IMSC, INT_RX | INT_RT);
    wr(UART_CR, CR_UARTEN | CR_TXE | CR_RXE);
}

void pl011_putc(char c)
{
    while (rd(UART_FR) & FR_TXFF) {
    }
    wr(UART_DR, (uint8_t)c);
}

int pl011_getc(void)
{
    if (rd(UART_FR) & FR_RXFE) {
        return -1;
    }
    /* Bits 11:8 carry framing/parity/break/overrun errors; the byte is delivered anyway. */
    return (int)(rd(UART_DR) & 0xff);
}

void pl011_irq(void)
{
    int c;
    while ((c = pl011_getc()) >= 0) {
        console_rx_push((char)c);
    }
    /* Reading the FIFO empty clears RX/RT; error interrupts are masked but may be latched. */
    wr(UART_ICR, INT_ALL);
    wr(UART_RSR, 0);
}
