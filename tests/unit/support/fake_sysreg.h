/* SPDX-License-Identifier: Apache-2.0 */
/* Test control of the fake system registers (fake_sysreg.c). */
#ifndef FAKE_SYSREG_H
#define FAKE_SYSREG_H

#include <stdint.h>
#include <stddef.h>

/** Count of write_sysreg() calls made by the code under test since the last reset. */
extern unsigned fake_sysreg_writes;
/** Sets a register (by its read_sysreg spelling, e.g. "id_aa64pfr0_el1") without counting. */
void fake_sysreg_set(const char *name, uint64_t v);
/** Forgets every register (all read 0 again) and the cache operation log. */
void fake_sysreg_reset(void);

/** One cache maintenance operation: "cvac", "cvau" (by VA) or "iallu" (va 0). */
struct fake_cache_op {
    char op[8];
    uintptr_t va;
};
#define FAKE_CACHE_OPS_MAX 4096u
extern struct fake_cache_op fake_cache_ops[FAKE_CACHE_OPS_MAX];
extern unsigned fake_cache_nops;
extern unsigned long fake_cache_dropped; /**< operations past the log's end, counted only */
void fake_cache_reset(void);
/** What an AT S1E1R (logged as "s1e1r" with its VA) leaves in PAR_EL1. */
extern uint64_t fake_at_par;

#endif
