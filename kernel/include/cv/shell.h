/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serial shell. Modules add commands with SHELL_CMD() in their own file; the linker gathers
 * them into one table (section "shell_cmds"), so no central list needs editing.
 * Handlers run in hypervisor context (between guest exits) and print with cv_printf().
 */
#ifndef CV_SHELL_H
#define CV_SHELL_H

#include <cv/types.h>

struct shell_cmd {
    const char *name;  /**< first word, e.g. "guest" */
    const char *usage; /**< e.g. "guest pause|resume|console" */
    const char *help;  /**< one line for `help` */
    /** argv[0] is the command name. Return 0 on success, nonzero after printing usage/error. */
    int (*fn)(int argc, char **argv);
};

#define SHELL_CMD(id, ...)                                                                         \
    static const struct shell_cmd shell_cmd_##id                                                   \
        __attribute__((used, section("shell_cmds"), aligned(8))) = __VA_ARGS__

/** Prints "usage: <cmd->usage>". Returns 1 for convenient `return shell_usage(c);`. */
int shell_usage(const struct shell_cmd *cmd);
/** Runs one command line (modified in place). Returns the handler's result, or 1 if unknown. */
int shell_exec_line(char *line);
/**
 * Parses a command argument: decimal or 0x-prefixed hex, the whole string, no overflow. Our own,
 * because strtoull sets errno, which lives in TPIDR_EL0, a guest register.
 */
bool shell_parse_u64(const char *s, uint64_t *out);
/** Feeds one byte typed on the console (line editing, history-free). Hypervisor context. */
void shell_input(char c);
/** Prints the prompt. */
void shell_prompt(void);

/* The command table's bounds: GNU ld defines them for the orphan section "shell_cmds" (or the
 * linker script does). */
extern const struct shell_cmd __start_shell_cmds[];
extern const struct shell_cmd __stop_shell_cmds[];

#endif
