/* SPDX-License-Identifier: Apache-2.0 */
/* Test control of the fake system registers (fake_sysreg.c). */
#ifndef FAKE_SYSREG_H
#define FAKE_SYSREG_H

#include <stdint.h>

/** Count of write_sysreg() calls made by the code under test since the last reset. */
extern unsigned fake_sysreg_writes;
/** Sets a register (by its read_sysreg spelling, e.g. "id_aa64pfr0_el1") without counting. */
void fake_sysreg_set(const char *name, uint64_t v);
/** Forgets every register: all read 0 again. */
void fake_sysreg_reset(void);

#endif
