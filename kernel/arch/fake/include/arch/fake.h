/* SPDX-License-Identifier: Apache-2.0 */
/* What a host test may do to the fake arch (kernel/arch/fake/hooks.c) beyond the cv/ hooks. */
#ifndef ARCH_FAKE_H
#define ARCH_FAKE_H

#include <cv/types.h>

struct vm;

/** The fake system counter: 1 MHz, moved only by tests and by cpu_arch_idle(). */
extern uint64_t fake_arch_ticks;
/** The last deadline timer_arch_set_deadline() was given (0: none). */
extern uint64_t fake_arch_deadline;
extern uint64_t fake_arch_urgent;    /* timer_arch_set_urgent's deadline */
extern unsigned fake_arch_irq_depth; /* cpu_arch_irq_save() sections open */
/** system_arch_reset()/system_arch_off() calls. */
extern unsigned fake_arch_resets, fake_arch_offs;

/**
 * The guest writes the page at addr as the CPU would under dirty logging: DIRTY_HW logs it in
 * the fake hardware log; a write-protected page (DIRTY_WP) returns true, meaning "this write
 * faults", and the test then calls dirty_log_fault() as the arch's fault handler would.
 */
bool fake_arch_guest_write(struct vm *vm, gpa_t addr);
/** Level of virtual interrupt line intid as the device models last set it. */
bool fake_arch_irq_level(const struct vm *vm, uint32_t intid);

#endif
