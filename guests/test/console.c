// SPDX-License-Identifier: Apache-2.0
// PL011 console: transmit by polling the TX FIFO, receive through the RX interrupt into a ring
// that the command loop drains. A small printf, because libc's is off limits.

#include <stdarg.h>

#include "guest.h"

#define UARTDR 0x000
#define UARTFR 0x018
#define UARTIBRD 0x024
#define UARTFBRD 0x028
#define UARTLCR_H 0x02c
#define UARTCR 0x030
#define UARTIFLS 0x034
#define UARTIMSC 0x038
#define UARTICR 0x044

#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define LCR_FEN (1u << 4)
#define LCR_WLEN8 (3u << 5)
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)
#define INT_RX (1u << 4)
#define INT_RT (1u << 6)

#define RX_RING 256u

static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head; /* written by the IRQ handler */
static volatile uint32_t rx_tail; /* written by the reader */

void con_init(void)
{
    /* What an OS driver does: disable, drain, 115200 8N1 from the 24 MHz clock, FIFOs on. */
    mmio_write32(UART_BASE + UARTCR, 0);
    while (mmio_read32(UART_BASE + UARTFR) & FR_BUSY) {
    }
    mmio_write32(UART_BASE + UARTICR, 0x7ff);
    mmio_write32(UART_BASE + UARTIBRD, 13);
    mmio_write32(UART_BASE + UARTFBRD, 1);
    mmio_write32(UART_BASE + UARTLCR_H, LCR_WLEN8 | LCR_FEN);
    mmio_write32(UART_BASE + UARTIFLS, 0); /* RX interrupt at 1/8 full, timeout for the rest */
    mmio_write32(UART_BASE + UARTIMSC, INT_RX | INT_RT);
    mmio_write32(UART_BASE + UARTCR, CR_UARTEN | CR_TXE | CR_RXE);
}

static void uart_tx(char c)
{
    while (mmio_read32(UART_BASE + UARTFR) & FR_TXFF) {
    }
    mmio_write32(UART_BASE + UARTDR, (uint8_t)c);
}

void con_putc(char c)
{
    if (c == '\n') {
        uart_tx('\r');
    }
    uart_tx(c);
}

void con_puts(const char *s)
{
    while (*s) {
        con_putc(*s++);
    }
}

void con_irq(void)
{
    /* Drain the FIFO: that is what drops the level-triggered RX and timeout interrupts. */
    while (!(mmio_read32(UART_BASE + UARTFR) & FR_RXFE)) {
        uint32_t c = mmio_read32(UART_BASE + UARTDR) & 0xff;
        uint32_t next = (rx_head + 1) % RX_RING;
        if (next != rx_tail) {
            rx_ring[rx_head] = (uint8_t)c;
            rx_head = next;
        }
    }
    mmio_write32(UART_BASE + UARTICR, INT_RX | INT_RT);
}

int con_getc_nowait(void)
{
    uint32_t tail = rx_tail;
    if (tail == rx_head) {
        return -1;
    }
    int c = rx_ring[tail];
    rx_tail = (tail + 1) % RX_RING;
    return c;
}

int con_getc(void)
{
    for (;;) {
        /* The network runs while the console waits: frames, lwIP timers. */
        net_poll();
        /*
         * Check and sleep with IRQs masked: WFI still wakes on the pending interrupt, which is
         * then taken when we unmask, so a character or frame arriving in between is not slept
         * through. net_idle() arms the virtual timer for lwIP's next timeout.
         */
        irq_mask();
        int c = con_getc_nowait();
        if (c < 0 && net_idle()) {
            wfi();
        }
        irq_unmask();
        isb();
        if (c >= 0) {
            return c;
        }
    }
}

/* printf: %[-0][width][l|ll|z](d|i|u|x|X|p|s|c) and %% */

struct out {
    int n;
};

static void out_c(struct out *o, char c)
{
    con_putc(c);
    o->n++;
}

static void out_pad(struct out *o, char c, int count)
{
    while (count-- > 0) {
        out_c(o, c);
    }
}

static void out_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper, int width,
                    bool zero, bool left)
{
    char buf[24];
    int len = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        buf[len++] = digits[v % base];
        v /= base;
    } while (v);
    int total = len + (neg ? 1 : 0);
    if (!left && !zero) {
        out_pad(o, ' ', width - total);
    }
    if (neg) {
        out_c(o, '-');
    }
    if (!left && zero) {
        out_pad(o, '0', width - total);
    }
    while (len) {
        out_c(o, buf[--len]);
    }
    if (left) {
        out_pad(o, ' ', width - total);
    }
}

int con_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = con_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int con_vprintf(const char *fmt, va_list ap)
{
    struct out o = {0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_c(&o, *fmt);
            continue;
        }
        fmt++;
        bool left = false, zero = false;
        for (;; fmt++) {
            if (*fmt == '-') {
                left = true;
            } else if (*fmt == '0') {
                zero = true;
            } else {
                break;
            }
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }
        int lng = 0;
        while (*fmt == 'l' || *fmt == 'z') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            out_num(&o, mag, v < 0, 10, false, width, zero, left);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
            out_num(&o, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, zero, left);
            break;
        }
        case 'p':
            out_c(&o, '0');
            out_c(&o, 'x');
            out_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), false, 16, false, width, zero,
                    left);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) {
                s = "(null)";
            }
            int len = 0;
            while (s[len]) {
                len++;
            }
            if (!left) {
                out_pad(&o, ' ', width - len);
            }
            while (*s) {
                out_c(&o, *s++);
            }
            if (left) {
                out_pad(&o, ' ', width - len);
            }
            break;
        }
        case 'c':
            out_c(&o, (char)va_arg(ap, int));
            break;
        case '%':
            out_c(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            out_c(&o, '%');
            out_c(&o, *fmt);
            break;
        }
    }
    return o.n;
}
