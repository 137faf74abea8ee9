/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host stand-ins for the log layer's hooks (console_write, time_now_us) that keep what was
 * written, so tests can check the exact messages a module printed.
 */
#ifndef HOST_CONSOLE_H
#define HOST_CONSOLE_H

#include <stddef.h>

/** Everything written since the last clear, NUL-terminated (truncated past 64 KiB). */
const char *host_console_text(void);
void host_console_clear(void);
/** Number of times needle occurs in the captured text. */
size_t host_console_count(const char *needle);

#endif
