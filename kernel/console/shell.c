// SPDX-License-Identifier: Apache-2.0
// Line editing and command dispatch for the serial shell. Commands live in the "shell_cmds"
// section (SHELL_CMD in cv/shell.h); the linker provides its bounds. Input may come from a
// script over a pipe as fast as the line allows, so nothing here waits or times out.
#include <string.h>

#include <cv/console.h>
#include <cv/log.h>
#include <cv/shell.h>

#define SHELL_LINE_MAX 256
#define SHELL_MAX_ARGS 16

#define CTRL_C 0x03
#define BACKSPACE 0x08
#define DEL 0x7f
#define ESC 0x1b

static struct {
    char buf[SHELL_LINE_MAX];
    size_t len;
    bool last_cr;
    bool prompted;
    uint8_t esc; /* 1 after ESC, 2 inside "ESC [" until the final byte */
} sh;

static const char prompt[] = "colovisor> ";

int shell_usage(const struct shell_cmd *cmd)
{
    cv_printf("usage: %s\n", cmd->usage);
    return 1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

int shell_exec_line(char *line)
{
    char *argv[SHELL_MAX_ARGS + 1];
    int argc = 0;
    char *p = line;
    for (;;) {
        while (is_space(*p)) {
            p++;
        }
        if (!*p) {
            break;
        }
        if (argc == SHELL_MAX_ARGS) {
            cv_printf("too many arguments (at most %d)\n", SHELL_MAX_ARGS);
            return 1;
        }
        argv[argc++] = p;
        while (*p && !is_space(*p)) {
            p++;
        }
        if (*p) {
            *p++ = '\0';
        }
    }
    argv[argc] = NULL;
    if (argc == 0) {
        return 0;
    }
    for (const struct shell_cmd *c = __start_shell_cmds; c < __stop_shell_cmds; c++) {
        if (strcmp(c->name, argv[0]) == 0) {
            return c->fn(argc, argv);
        }
    }
    cv_printf("unknown command '%s'; type 'help'\n", argv[0]);
    return 1;
}

void shell_prompt(void)
{
    sh.prompted = true;
    console_shell_write(prompt, sizeof(prompt) - 1);
}

void shell_redraw(void)
{
    if (!sh.prompted) {
        return;
    }
    console_shell_write(prompt, sizeof(prompt) - 1);
    console_shell_write(sh.buf, sh.len);
}

static void end_line(void)
{
    cv_puts("\n");
    sh.buf[sh.len] = '\0';
    sh.len = 0;
    shell_exec_line(sh.buf);
    /* `guest console` hands the line to the guest; the prompt comes back on detach. */
    if (!console_guest_attached()) {
        shell_prompt();
    }
}

void shell_input(char c)
{
    bool after_cr = sh.last_cr;
    sh.last_cr = (c == '\r');
    /* Terminal escape sequences (arrow keys, ...) are swallowed whole: no history, no cursor. */
    if (sh.esc == 1) {
        sh.esc = (c == '[' || c == 'O') ? 2 : 0;
        return;
    }
    if (sh.esc == 2) {
        if (c >= 0x40 && c <= 0x7e) {
            sh.esc = 0;
        }
        return;
    }
    switch (c) {
    case ESC:
        sh.esc = 1;
        return;
    case '\n':
        if (after_cr) {
            return;
        }
        end_line();
        return;
    case '\r':
        end_line();
        return;
    case BACKSPACE:
    case DEL:
        if (sh.len) {
            sh.len--;
            console_shell_write("\b \b", 3);
        }
        return;
    case CTRL_C:
        sh.len = 0;
        cv_puts("^C\n");
        shell_prompt();
        return;
    default:
        break;
    }
    /* Other control bytes are ignored, not echoed. */
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
        return;
    }
    if (sh.len + 1 >= SHELL_LINE_MAX) {
        return;
    }
    sh.buf[sh.len++] = c;
    console_shell_write(&c, 1);
}
