// SPDX-License-Identifier: Apache-2.0
// Routing of the single board serial line between the shell and the guest's emulated UART.
// Two rings: typed bytes (filled by the UART interrupt, drained by the main loop) and the tail
// of the guest's output (for `guest log`). Detached guest output is gathered into lines so that
// it interleaves with the hypervisor's own log as whole lines.
#include <cv/console.h>
#include <cv/log.h>
#include <cv/shell.h>
#include <cv/vpl011.h>

static struct {
    char rx[CONSOLE_RX_RING];
    uint32_t rx_head; /* next byte to dispatch */
    uint32_t rx_count;
    uint64_t rx_dropped;

    struct vpl011 *guest_uart;
    bool attached;
    bool shell_saw_cr;  /* last byte given to the shell was \r */
    bool skip_lf;       /* swallow the \n of a "guest console\r\n" line */
    bool at_line_start; /* last byte on the wire was \n (or nothing was sent yet) */
    bool shell_live;    /* the current wire line is the shell's prompt and input, nothing else */
    uint32_t col;       /* visible width of the current wire line */

    char line[CONSOLE_GUEST_LINE + 1];
    uint32_t line_len;

    char tail[CONSOLE_GUEST_TAIL];
    uint32_t tail_head; /* where the next byte goes */
    bool tail_wrapped;
} con = {.at_line_start = true};

static void wire(char c)
{
    board_console_putc(c);
    con.at_line_start = (c == '\n');
    if (c == '\n' || c == '\r') {
        con.col = 0;
    } else if (c == '\b') {
        con.col -= con.col ? 1 : 0;
    } else {
        con.col++;
    }
}

static void write_crlf(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            wire('\r');
        }
        wire(s[i]);
    }
}

static void wire_str(const char *s)
{
    while (*s) {
        wire(*s++);
    }
}

void console_write(const char *s, size_t n)
{
    con.shell_live = false;
    write_crlf(s, n);
}

void console_write_line(const char *s, size_t n)
{
    bool redraw = con.shell_live;
    int pad = 0;
    if (redraw) {
        /* Overwrite the prompt line, padding where the new line is shorter. */
        pad = (int)con.col - (int)(n ? n - 1 : 0);
        wire('\r');
    } else if (!con.at_line_start) {
        wire_str("\r\n");
    }
    con.shell_live = false;
    if (n && s[n - 1] == '\n') {
        write_crlf(s, n - 1);
        for (int i = 0; i < pad; i++) {
            wire(' ');
        }
        write_crlf("\n", 1);
    } else {
        write_crlf(s, n);
    }
    if (redraw) {
        shell_redraw();
    }
}

void console_shell_write(const char *s, size_t n)
{
    write_crlf(s, n);
    con.shell_live = !con.at_line_start;
}

void console_init(void)
{
    board_console_init();
}

void console_rx_push(char c)
{
    if (con.rx_count == CONSOLE_RX_RING) {
        con.rx_dropped++;
        return;
    }
    con.rx[(con.rx_head + con.rx_count) % CONSOLE_RX_RING] = c;
    con.rx_count++;
}

uint64_t console_rx_dropped(void)
{
    return con.rx_dropped;
}

void console_set_guest_uart(struct vpl011 *u)
{
    con.guest_uart = u;
}

bool console_guest_attached(void)
{
    return con.attached;
}

void console_attach_guest(bool on)
{
    if (on == con.attached) {
        return;
    }
    con.attached = on;
    con.shell_live = false;
    if (on) {
        con.skip_lf = con.shell_saw_cr;
        wire_str("[colovisor: attached to guest console, Ctrl-] to detach]\r\n");
        /* A partial line is usually the guest's own prompt: show it. */
        for (uint32_t i = 0; i < con.line_len; i++) {
            wire(con.line[i]);
        }
        con.line_len = 0;
    } else {
        wire_str("\r\n[colovisor: detached from guest console]\r\n");
        con.shell_saw_cr = false;
        shell_prompt();
    }
}

static void to_guest(char c)
{
    if (c == CONSOLE_ESCAPE) {
        console_attach_guest(false);
        return;
    }
    if (con.skip_lf) {
        con.skip_lf = false;
        if (c == '\n') {
            return;
        }
    }
    if (con.guest_uart) {
        vpl011_rx_push(con.guest_uart, c);
    }
}

static void to_shell(char c)
{
    con.shell_saw_cr = (c == '\r');
    shell_input(c);
}

void console_poll(void)
{
    int c;
    /* Also catches bytes that arrived without an interrupt (guest paused, early boot). */
    while ((c = board_console_getc()) >= 0) {
        console_rx_push((char)c);
    }
    while (con.rx_count) {
        char b = con.rx[con.rx_head];
        con.rx_head = (con.rx_head + 1) % CONSOLE_RX_RING;
        con.rx_count--;
        if (con.attached) {
            to_guest(b);
        } else {
            to_shell(b);
        }
    }
}

/*
 * A guest line takes the place of the shell's prompt line (erased with \r, overwritten, padded
 * where it is shorter), and the prompt with the half-typed command is drawn again below it: on a
 * terminal the prompt stays at the bottom while the guest's log scrolls above it.
 */
static void flush_guest_line(void)
{
    /* As a log line: it takes the prompt's place and the prompt is drawn again below it. */
    log_info("[guest] %.*s", (int)con.line_len, con.line);
    con.line_len = 0;
}

void console_guest_output(char c)
{
    con.tail[con.tail_head] = c;
    con.tail_head = (con.tail_head + 1) % CONSOLE_GUEST_TAIL;
    if (con.tail_head == 0) {
        con.tail_wrapped = true;
    }
    if (con.attached) {
        wire(c);
        return;
    }
    if (c == '\r') {
        return;
    }
    if (c == '\n') {
        flush_guest_line();
        return;
    }
    con.line[con.line_len++] = c;
    if (con.line_len == CONSOLE_GUEST_LINE) {
        flush_guest_line();
    }
}

void console_guest_tail(void)
{
    uint32_t start = con.tail_wrapped ? con.tail_head : 0;
    uint32_t n = con.tail_wrapped ? CONSOLE_GUEST_TAIL : con.tail_head;
    char last = '\n';
    for (uint32_t i = 0; i < n; i++) {
        char c = con.tail[(start + i) % CONSOLE_GUEST_TAIL];
        if (c == '\r') {
            continue; /* console_write() adds its own before each \n */
        }
        console_write(&c, 1);
        last = c;
    }
    if (last != '\n') {
        console_write("\n", 1);
    }
}
