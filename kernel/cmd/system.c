// SPDX-License-Identifier: Apache-2.0
// The generic shell commands: help, version, status, guest, reboot, log. Output formats are
// stable (key=value for status) because test scripts parse them.
#include <string.h>

#include <cv/board.h>
#include <cv/colo_board.h>
#include <cv/console.h>
#include <cv/hv.h>
#include <cv/log.h>
#include <cv/shell.h>
#include <cv/vm.h>

/* The build may pass a reproducible date; otherwise the compiler's. */
#ifndef CV_BUILD_DATE
#define CV_BUILD_DATE __DATE__
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_guest(int argc, char **argv);
static int cmd_reboot(int argc, char **argv);
static int cmd_log(int argc, char **argv);

SHELL_CMD(help, {"help", "help", "list the commands", cmd_help});
SHELL_CMD(version, {"version", "version", "show the version, board and build date", cmd_version});
SHELL_CMD(status, {"status", "status", "guest state, uptime and exit counters", cmd_status});
SHELL_CMD(guest, {"guest", "guest pause|resume|console|log",
                  "control the guest; console attaches (Ctrl-] detaches)", cmd_guest});
SHELL_CMD(reboot, {"reboot", "reboot", "reset the whole board", cmd_reboot});
SHELL_CMD(log, {"log", "log level [err|warn|info|debug]", "show or set the log level", cmd_log});

/* Sorted by name without a scratch array: repeatedly pick the smallest name after the last. */
static int cmd_help(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        return shell_usage(&shell_cmd_help);
    }
    const char *prev = NULL;
    for (;;) {
        const struct shell_cmd *next = NULL;
        for (const struct shell_cmd *c = __start_shell_cmds; c < __stop_shell_cmds; c++) {
            if (prev && strcmp(c->name, prev) <= 0) {
                continue;
            }
            if (!next || strcmp(c->name, next->name) < 0) {
                next = c;
            }
        }
        if (!next) {
            return 0;
        }
        cv_printf("  %-34s %s\n", next->usage, next->help);
        prev = next->name;
    }
}

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        return shell_usage(&shell_cmd_version);
    }
    cv_printf("colovisor %s board=%s built %s\n", CV_VERSION, board_desc.name, CV_BUILD_DATE);
    return 0;
}

static const char *state_name(const struct vm *vm)
{
    if (!vm) {
        return "stopped";
    }
    switch (vm->state) {
    case VM_RUNNING:
        return "running";
    case VM_PAUSED:
        return "paused";
    case VM_STOPPED:
    default:
        return "stopped";
    }
}

static int cmd_status(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        return shell_usage(&shell_cmd_status);
    }
    const struct vm *vm = vm_current();
    uint64_t now = time_now_us();
    uint64_t guest_us = 0;
    if (vm && vm->state != VM_STOPPED && now >= vm->started_us) {
        guest_us = now - vm->started_us;
    }
    cv_printf("guest=%s\n", state_name(vm));
    cv_printf("uptime_ms=%llu\n", (unsigned long long)(now / 1000));
    cv_printf("guest_uptime_ms=%llu\n", (unsigned long long)(guest_us / 1000));
    uint64_t total = 0;
    for (unsigned r = 0; r < EXIT__COUNT; r++) {
        total += vm ? vm->exits[r] : 0;
    }
    cv_printf("exits_total=%llu\n", (unsigned long long)total);
    for (unsigned r = 0; r < EXIT__COUNT; r++) {
        const char *name = exit_arch_name((enum exit_reason)r);
        if (name) {
            cv_printf("exit_%s=%llu\n", name, (unsigned long long)(vm ? vm->exits[r] : 0));
        }
    }
    return 0;
}

static int cmd_guest(int argc, char **argv)
{
    if (argc != 2) {
        return shell_usage(&shell_cmd_guest);
    }
    struct vm *vm = vm_current();
    const char *op = argv[1];
    if (strcmp(op, "console") == 0) {
        console_attach_guest(true);
        return 0;
    }
    if (strcmp(op, "log") == 0) {
        console_guest_tail();
        return 0;
    }
    if (strcmp(op, "pause") != 0 && strcmp(op, "resume") != 0) {
        return shell_usage(&shell_cmd_guest);
    }
    if (!vm || vm->state == VM_STOPPED) {
        cv_printf("guest: stopped\n");
        return 1;
    }
    if (op[0] == 'p') {
        vm_pause(vm);
        cv_printf("guest: paused\n");
    } else {
        /* A replica or a protected guest run by hand would be unfiltered and untracked. */
        char why[160];
        if (colo_board_guest_held(why, sizeof(why))) {
            cv_printf("guest resume: refused: %s\n", why);
            return 1;
        }
        vm_resume(vm);
        cv_printf("guest: running\n");
    }
    return 0;
}

static int cmd_reboot(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        return shell_usage(&shell_cmd_reboot);
    }
    cv_printf("rebooting\n");
    system_arch_reset();
    cv_printf("reboot: the firmware refused to reset the board\n");
    return 1;
}

static const char *const level_names[] = {"err", "warn", "info", "debug"};

static int cmd_log(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || strcmp(argv[1], "level") != 0) {
        return shell_usage(&shell_cmd_log);
    }
    if (argc == 3) {
        unsigned i = 0;
        while (i < ARRAY_SIZE(level_names) && strcmp(argv[2], level_names[i]) != 0) {
            i++;
        }
        if (i == ARRAY_SIZE(level_names)) {
            return shell_usage(&shell_cmd_log);
        }
        log_set_level((enum log_level)i);
    }
    cv_printf("log level: %s\n", level_names[log_get_level()]);
    return 0;
}
