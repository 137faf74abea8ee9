// SPDX-License-Identifier: Apache-2.0
// The shell (line editing, parsing, the command table, the generic commands) and the console
// routing around it (guest lines, attach/detach, the receive ring), driven byte by byte as a
// script over the serial line would. The UART and the VM are fakes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cv/board.h>
#include <cv/colo_board.h>
#include <cv/console.h>
#include <cv/hv.h>
#include <cv/log.h>
#include <cv/shell.h>
#include <cv/vm.h>
#include <cv/vpl011.h>

/* ---- fakes: board UART, clock, VM, guest UART ---- */

static char wire[1 << 17];
static size_t wire_len;
static char uart_in[8192];
static size_t uart_in_len, uart_in_pos;
static char guest_in[8192];
static size_t guest_in_len;
static uint64_t now_us;
static struct vm test_vm;
static unsigned resets, pauses, resumes;
static struct vpl011 fake_uart;

void board_console_init(void)
{
}

void board_console_putc(char c)
{
    if (wire_len < sizeof(wire) - 1) {
        wire[wire_len++] = c;
        wire[wire_len] = '\0';
    }
}

int board_console_getc(void)
{
    return uart_in_pos < uart_in_len ? (unsigned char)uart_in[uart_in_pos++] : -1;
}

uint64_t time_now_us(void)
{
    return now_us;
}

struct vm *vm_current(void)
{
    return &test_vm;
}

void vm_pause(struct vm *vm)
{
    vm->state = VM_PAUSED;
    pauses++;
}

void vm_resume(struct vm *vm)
{
    vm->state = VM_RUNNING;
    resumes++;
}

const char *exit_arch_name(enum exit_reason r)
{
    /* EXIT_PIO unnamed: an arch without port I/O, whose status leaves the line out. */
    static const char *const names[EXIT__COUNT] = {
        [EXIT_HYPERCALL] = "hvc",
        [EXIT_FIRMWARE] = "smc",
        [EXIT_MMIO] = "mmio",
        [EXIT_SYSREG] = "sysreg",
        [EXIT_IDLE] = "wfx",
        [EXIT_IRQ] = "irq",
        [EXIT_DIRTY] = "dirty",
        [EXIT_INJECT_FAULT] = "inject_abt",
        [EXIT_INJECT_UND] = "inject_und",
        [EXIT_OTHER] = "other",
    };
    return names[r];
}

/* What the COLO layer says about the guest: NULL, free to run by hand; else why not. */
static const char *colo_held_why;

bool colo_board_guest_held(char *why, size_t len)
{
    if (!colo_held_why) {
        return false;
    }
    snprintf(why, len, "%s", colo_held_why);
    return true;
}

void system_arch_reset(void)
{
    resets++;
}

void vpl011_rx_push(struct vpl011 *u, char c)
{
    assert_ptr_equal(u, &fake_uart);
    guest_in[guest_in_len++] = c;
}

const struct board board_desc = {.name = "test-board"};

/* ---- test commands, found through the section like everyone else's ---- */

static char last_args[512];

static int cmd_echo(int argc, char **argv)
{
    last_args[0] = '\0';
    for (int i = 0; i < argc; i++) {
        strcat(last_args, argv[i]);
        strcat(last_args, "|");
    }
    cv_printf("echo:%s\n", last_args);
    return argc;
}

static int cmd_needarg(int argc, char **argv);
SHELL_CMD(test_echo, {"echo", "echo [words...]", "print the words", cmd_echo});
SHELL_CMD(test_needarg, {"needarg", "needarg <n>", "wants exactly one argument", cmd_needarg});

static int cmd_needarg(int argc, char **argv)
{
    (void)argv;
    if (argc != 2) {
        return shell_usage(&shell_cmd_test_needarg);
    }
    return 0;
}

/* ---- helpers ---- */

/* The wire with \r removed, which is how a script reading lines sees it. */
static const char *out(void)
{
    static char buf[sizeof(wire)];
    size_t n = 0;
    for (size_t i = 0; i < wire_len; i++) {
        if (wire[i] != '\r') {
            buf[n++] = wire[i];
        }
    }
    buf[n] = '\0';
    return buf;
}

static void clear_out(void)
{
    wire_len = 0;
    wire[0] = '\0';
}

static void type(const char *s)
{
    size_t n = strlen(s);
    memcpy(uart_in + uart_in_len, s, n);
    uart_in_len += n;
    console_poll();
}

static void guest_says(const char *s)
{
    while (*s) {
        console_guest_output(*s++);
    }
}

static void expect_out(const char *want)
{
    if (strcmp(out(), want) != 0) {
        fail_msg("output:\n---\n%s\n---\nwanted:\n---\n%s\n---", out(), want);
    }
}

static void expect_in_out(const char *want)
{
    if (!strstr(out(), want)) {
        fail_msg("\"%s\" not in output:\n---\n%s\n---", want, out());
    }
}

static int setup(void **state)
{
    (void)state;
    if (console_guest_attached()) {
        console_attach_guest(false);
    }
    console_guest_output('\n'); /* no partial guest line */
    uart_in_len = uart_in_pos = 0;
    type("\x03"); /* an empty line after a fresh prompt */
    guest_in_len = 0;
    memset(&test_vm, 0, sizeof(test_vm));
    test_vm.state = VM_RUNNING;
    resets = pauses = resumes = 0;
    colo_held_why = NULL;
    now_us = 0;
    log_set_level(LOG_INFO);
    console_set_guest_uart(&fake_uart);
    clear_out();
    return 0;
}

/* ---- parsing and the table ---- */

static void test_split_words(void **state)
{
    (void)state;
    char line[] = "  echo  a b\tc   ";
    assert_int_equal(shell_exec_line(line), 4);
    assert_string_equal(last_args, "echo|a|b|c|");
    char empty[] = "  \t ";
    assert_int_equal(shell_exec_line(empty), 0);
    expect_out("echo:echo|a|b|c|\n");
}

static void test_sixteen_args_max(void **state)
{
    (void)state;
    char ok[] = "echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";
    assert_int_equal(shell_exec_line(ok), 16);
    clear_out();
    char many[] = "echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
    assert_int_equal(shell_exec_line(many), 1);
    expect_out("too many arguments (at most 16)\n");
}

static void test_unknown_command(void **state)
{
    (void)state;
    char line[] = "frobnicate now";
    assert_int_equal(shell_exec_line(line), 1);
    expect_out("unknown command 'frobnicate'; type 'help'\n");
    /* prefixes are not matches */
    clear_out();
    char pre[] = "ech";
    assert_int_equal(shell_exec_line(pre), 1);
    expect_out("unknown command 'ech'; type 'help'\n");
}

static void test_usage(void **state)
{
    (void)state;
    char a[] = "needarg";
    assert_int_equal(shell_exec_line(a), 1);
    expect_out("usage: needarg <n>\n");
    /* newlines go out as \r\n */
    assert_non_null(strstr(wire, "usage: needarg <n>\r\n"));
    static const char *const bad[] = {
        "guest",   "guest jump", "guest pause now", "log",        "log level loud",
        "log lvl", "version 2",  "status x",        "reboot now", "help me",
    };
    static const char *const usage[] = {
        "guest pause|resume|console|log",
        "guest pause|resume|console|log",
        "guest pause|resume|console|log",
        "log level [err|warn|info|debug]",
        "log level [err|warn|info|debug]",
        "log level [err|warn|info|debug]",
        "version",
        "status",
        "reboot",
        "help",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char buf[64];
        char want[96];
        strcpy(buf, bad[i]);
        clear_out();
        assert_int_equal(shell_exec_line(buf), 1);
        snprintf(want, sizeof(want), "usage: %s\n", usage[i]);
        expect_out(want);
    }
    assert_int_equal(resets, 0);
}

static void test_help_lists_all_sorted(void **state)
{
    (void)state;
    type("help\r");
    const char *o = out();
    static const char *const names[] = {"  echo [words...]", "  guest pause|resume|console|log",
                                        "  help ",           "  log level",
                                        "  needarg <n>",     "  reboot ",
                                        "  status ",         "  version "};
    const char *prev = o;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *p = strstr(o, names[i]);
        if (!p) {
            fail_msg("\"%s\" missing from help:\n%s", names[i], o);
        }
        assert_true(p > prev);
        prev = p;
    }
    expect_in_out("wants exactly one argument\n");
}

/* ---- line editing ---- */

static void test_typed_line_runs_with_echo_and_prompt(void **state)
{
    (void)state;
    type("echo hi\r");
    expect_out("echo hi\necho:echo|hi|\ncolovisor> ");
}

static void test_backspace_and_del(void **state)
{
    (void)state;
    type("ecx\x7fho hi\bo\r");
    assert_string_equal(last_args, "echo|ho|");
    expect_in_out("ecx\b \bho hi\b \bo\n");
    /* backspace on an empty line does nothing */
    clear_out();
    type("\b\b\x7f"
         "echo z\r");
    assert_string_equal(last_args, "echo|z|");
    expect_out("echo z\necho:echo|z|\ncolovisor> ");
}

static void test_ctrl_c_clears_line(void **state)
{
    (void)state;
    last_args[0] = '\0';
    type("echo no\x03");
    assert_string_equal(last_args, "");
    expect_out("echo no^C\ncolovisor> ");
    type("echo yes\n");
    assert_string_equal(last_args, "echo|yes|");
}

static void test_crlf_is_one_line(void **state)
{
    (void)state;
    type("echo a\r\necho b\n\necho c\r\r\n");
    /* \r\n: one line; \n\n: a line and an empty line; \r\r\n: a line and an empty one */
    assert_int_equal(strstr(out(), "echo:echo|a|") != NULL, 1);
    assert_string_equal(last_args, "echo|c|");
    const char *o = out();
    size_t prompts = 0;
    for (const char *p = strstr(o, "colovisor> "); p; p = strstr(p + 1, "colovisor> ")) {
        prompts++;
    }
    assert_int_equal(prompts, 5);
}

static void test_control_and_escape_sequences_ignored(void **state)
{
    (void)state;
    type("ec\x1b[A\x1b[1;5Dho\x01\x1bOP k\t1\r");
    assert_string_equal(last_args, "echo|k1|"); /* tab is a control byte too */
}

static void test_long_line_truncated(void **state)
{
    (void)state;
    char line[600] = "echo ";
    memset(line + 5, 'x', 500);
    line[505] = '\r';
    line[506] = '\0';
    type(line);
    /* 255 bytes kept: "echo " and 250 x */
    assert_int_equal(strlen(last_args), strlen("echo|") + 250 + 1);
}

static void test_script_burst(void **state)
{
    (void)state;
    /* many lines arriving before the main loop gets to them */
    char burst[4000] = "";
    for (int i = 0; i < 100; i++) {
        char l[32];
        snprintf(l, sizeof(l), "echo %d\n", i);
        strcat(burst, l);
    }
    for (const char *p = burst; *p; p++) {
        console_rx_push(*p);
    }
    console_poll();
    assert_string_equal(last_args, "echo|99|");
    expect_in_out("echo:echo|0|\n");
    expect_in_out("echo:echo|57|\n");
    assert_int_equal(console_rx_dropped(), 0);
}

static void test_rx_ring_overflow_counts(void **state)
{
    (void)state;
    uint64_t before = console_rx_dropped();
    for (unsigned i = 0; i < CONSOLE_RX_RING + 10; i++) {
        console_rx_push('x');
    }
    assert_int_equal(console_rx_dropped() - before, 10);
    console_poll();
    type("\x03");
}

/* ---- generic commands ---- */

static void test_version(void **state)
{
    (void)state;
    char line[] = "version";
    assert_int_equal(shell_exec_line(line), 0);
    char want[128];
    snprintf(want, sizeof(want), "colovisor 0.1.0-dev board=test-board built %s\n", __DATE__);
    expect_out(want);
}

static void test_status(void **state)
{
    (void)state;
    now_us = 5123456;
    test_vm.started_us = 1000000;
    test_vm.exits[EXIT_MMIO] = 7;
    test_vm.exits[EXIT_IRQ] = 3;
    char line[] = "status";
    assert_int_equal(shell_exec_line(line), 0);
    expect_out("guest=running\nuptime_ms=5123\nguest_uptime_ms=4123\nexits_total=10\n"
               "exit_hvc=0\nexit_smc=0\nexit_mmio=7\nexit_sysreg=0\nexit_wfx=0\nexit_irq=3\n"
               "exit_dirty=0\nexit_inject_abt=0\nexit_inject_und=0\nexit_other=0\n");
    test_vm.state = VM_STOPPED;
    clear_out();
    char line2[] = "status";
    shell_exec_line(line2);
    expect_in_out("guest=stopped\nuptime_ms=5123\nguest_uptime_ms=0\n");
}

static void test_guest_pause_resume(void **state)
{
    (void)state;
    type("guest pause\r");
    assert_int_equal(pauses, 1);
    assert_int_equal(test_vm.state, VM_PAUSED);
    expect_in_out("guest: paused\n");
    char line[] = "status";
    clear_out();
    shell_exec_line(line);
    expect_in_out("guest=paused\n");
    clear_out();
    type("guest resume\r");
    assert_int_equal(resumes, 1);
    expect_in_out("guest: running\n");
    test_vm.state = VM_STOPPED;
    clear_out();
    char l2[] = "guest resume";
    assert_int_equal(shell_exec_line(l2), 1);
    expect_out("guest: stopped\n");
    assert_int_equal(resumes, 1);
}

static void test_guest_resume_refused_while_colo_holds(void **state)
{
    (void)state;
    test_vm.state = VM_PAUSED;
    colo_held_why = "this board holds the replica of 10.0.0.1 (checkpoint 7); use colo failover";
    char l1[] = "guest resume";
    assert_int_equal(shell_exec_line(l1), 1);
    expect_out("guest resume: refused: this board holds the replica of 10.0.0.1 (checkpoint 7); "
               "use colo failover\n");
    assert_int_equal(resumes, 0);
    assert_int_equal(test_vm.state, VM_PAUSED);
    clear_out();
    colo_held_why = "a COLO session with 10.0.0.1 is active; use colo stop first";
    char l2[] = "guest resume";
    assert_int_equal(shell_exec_line(l2), 1);
    expect_out("guest resume: refused: a COLO session with 10.0.0.1 is active; use colo stop "
               "first\n");
    assert_int_equal(resumes, 0);
    /* pausing stays allowed; resuming is again once COLO lets the guest go */
    clear_out();
    char l3[] = "guest pause";
    assert_int_equal(shell_exec_line(l3), 0);
    assert_int_equal(pauses, 1);
    colo_held_why = NULL;
    clear_out();
    char l4[] = "guest resume";
    assert_int_equal(shell_exec_line(l4), 0);
    expect_out("guest: running\n");
    assert_int_equal(resumes, 1);
    assert_int_equal(test_vm.state, VM_RUNNING);
}

static void test_log_level(void **state)
{
    (void)state;
    char a[] = "log level";
    assert_int_equal(shell_exec_line(a), 0);
    expect_out("log level: info\n");
    clear_out();
    char b[] = "log level debug";
    assert_int_equal(shell_exec_line(b), 0);
    expect_out("log level: debug\n");
    assert_int_equal(log_get_level(), LOG_DEBUG);
    char c[] = "log level err";
    shell_exec_line(c);
    assert_int_equal(log_get_level(), LOG_ERR);
}

static void test_reboot(void **state)
{
    (void)state;
    char a[] = "reboot";
    assert_int_equal(shell_exec_line(a), 1); /* the fake returns, like a refusing firmware */
    assert_int_equal(resets, 1);
    expect_out("rebooting\nreboot: the firmware refused to reset the board\n");
}

/* ---- the guest's console ---- */

static void test_guest_lines_when_detached(void **state)
{
    (void)state;
    now_us = 1500000;
    /* a guest line takes the prompt's place and the prompt comes back below it */
    guest_says("Booting Linux\r\nsecond ");
    assert_string_equal(wire, "\r[    1.500000] I: [guest] Booting Linux\r\ncolovisor> ");
    guest_says("line\r\n");
    expect_in_out("I: [guest] second line\ncolovisor> ");
    /* long lines are cut at 200 bytes */
    clear_out();
    char longline[450];
    memset(longline, 'y', 449);
    longline[449] = '\0';
    guest_says(longline);
    assert_int_equal(strlen(out()),
                     2 * (strlen("[    1.500000] I: [guest] ") + 200 + 1 + strlen("colovisor> ")));
    guest_says("\n");
    clear_out();
    /* the half-typed command is drawn again with the prompt */
    type("ec");
    guest_says("hello\n");
    type("ho x\r");
    assert_string_equal(wire, "ec\r[    1.500000] I: [guest] hello\r\ncolovisor> echo x\r\n"
                              "echo:echo|x|\r\ncolovisor> ");
    /* a guest line shorter than the typed text is padded so that none of it is left over */
    clear_out();
    type("echo 0123456789012345678901234567890");
    guest_says("hi\n");
    char want[256];
    /* padded to exactly the prompt line's width: 11 + 36 columns, the log line has 28 */
    snprintf(want, sizeof(want), "\r[    1.500000] I: [guest] hi%*s\r\ncolovisor> echo %s",
             11 + 36 - 28, "", "0123456789012345678901234567890");
    assert_non_null(strstr(wire, want));
    type("\x03");
    /* after other output the guest line starts on a line of its own */
    clear_out();
    cv_printf("partial");
    guest_says("x\n");
    assert_string_equal(wire, "partial\r\n[    1.500000] I: [guest] x\r\n");
    /* hypervisor log lines and events take the prompt's place the same way */
    clear_out();
    shell_prompt();
    type("sta");
    cv_print_line("colo: event=state role=primary");
    type("tus\r");
    assert_non_null(strstr(wire, "colovisor> sta\rcolo: event=state role=primary\r\ncolovisor> "
                                 "status\r\n"));
}

static void test_attach_detach(void **state)
{
    (void)state;
    guest_says("login: ");
    assert_int_equal(wire_len, 0); /* a partial line is held */
    type("guest console\r\n");
    assert_true(console_guest_attached());
    expect_out("guest console\n[colovisor: attached to guest console, Ctrl-] to detach]\n"
               "login: ");
    assert_int_equal(guest_in_len, 0); /* the \n of the command line is not the guest's */
    clear_out();
    type("root\r");
    assert_int_equal(guest_in_len, 5);
    assert_memory_equal(guest_in, "root\r", 5);
    assert_int_equal(wire_len, 0); /* no local echo: the guest echoes */
    guest_says("root\r\n# ");
    assert_string_equal(wire, "root\r\n# "); /* raw */
    clear_out();
    type("ls\x1d"
         "echo back\r");
    assert_false(console_guest_attached());
    assert_int_equal(guest_in_len, 7);
    assert_true(strncmp(wire, "\r\n[colovisor: detached from guest console]\r\ncolovisor> ",
                        strlen("\r\n[colovisor: detached from guest console]\r\ncolovisor> ")) ==
                0);
    assert_string_equal(last_args, "echo|back|");
    /* detached again: guest output becomes lines */
    clear_out();
    guest_says("bye\n");
    expect_in_out("[guest] bye\n");
}

static void test_attach_keeps_lf_for_guest_after_lf_line(void **state)
{
    (void)state;
    type("guest console\n");
    assert_true(console_guest_attached());
    type("\n");
    assert_int_equal(guest_in_len, 1);
    type("\x1d");
    assert_false(console_guest_attached());
}

static void test_guest_log_tail(void **state)
{
    (void)state;
    guest_says("first\r\nsecond\r\n");
    clear_out();
    type("guest log\r");
    expect_in_out("first\nsecond\n");
    /* after more than 16 KiB only the tail remains */
    for (int i = 0; i < 2100; i++) {
        char l[16];
        snprintf(l, sizeof(l), "L%05d\r\n", i); /* 8 bytes */
        guest_says(l);
    }
    clear_out();
    char line[] = "guest log";
    shell_exec_line(line);
    const char *o = out();
    assert_null(strstr(o, "first"));
    assert_null(strstr(o, "L00000"));
    assert_non_null(strstr(o, "\nL00100\n"));
    assert_non_null(strstr(o, "\nL02099\n"));
    assert_true(strlen(o) <= CONSOLE_GUEST_TAIL + 1);
    assert_true(strlen(o) > CONSOLE_GUEST_TAIL - 2100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_split_words, setup),
        cmocka_unit_test_setup(test_sixteen_args_max, setup),
        cmocka_unit_test_setup(test_unknown_command, setup),
        cmocka_unit_test_setup(test_usage, setup),
        cmocka_unit_test_setup(test_help_lists_all_sorted, setup),
        cmocka_unit_test_setup(test_typed_line_runs_with_echo_and_prompt, setup),
        cmocka_unit_test_setup(test_backspace_and_del, setup),
        cmocka_unit_test_setup(test_ctrl_c_clears_line, setup),
        cmocka_unit_test_setup(test_crlf_is_one_line, setup),
        cmocka_unit_test_setup(test_control_and_escape_sequences_ignored, setup),
        cmocka_unit_test_setup(test_long_line_truncated, setup),
        cmocka_unit_test_setup(test_script_burst, setup),
        cmocka_unit_test_setup(test_rx_ring_overflow_counts, setup),
        cmocka_unit_test_setup(test_version, setup),
        cmocka_unit_test_setup(test_status, setup),
        cmocka_unit_test_setup(test_guest_pause_resume, setup),
        cmocka_unit_test_setup(test_guest_resume_refused_while_colo_holds, setup),
        cmocka_unit_test_setup(test_log_level, setup),
        cmocka_unit_test_setup(test_reboot, setup),
        cmocka_unit_test_setup(test_guest_lines_when_detached, setup),
        cmocka_unit_test_setup(test_attach_detach, setup),
        cmocka_unit_test_setup(test_attach_keeps_lf_for_guest_after_lf_line, setup),
        cmocka_unit_test_setup(test_guest_log_tail, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
