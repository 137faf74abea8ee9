/* SPDX-License-Identifier: Apache-2.0 */
/* The console hooks for host unit tests (console_stub.c): output goes to stdout and is kept. */
#ifndef TEST_CONSOLE_STUB_H
#define TEST_CONSOLE_STUB_H

#include <stddef.h>

/** Everything written since the last console_stub_clear() (the last 64 KiB at most). */
const char *console_stub_text(void);
void console_stub_clear(void);

#endif
