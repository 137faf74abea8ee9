/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host-test arch's halves of struct vm and struct vcpu (embedded by cv/vm.h). Generic code
 * never looks inside them; the fake hooks (kernel/arch/fake/hooks.c) keep what a test may want
 * to read back, so unit tests and fuzzers of generic code build against this arch and cannot
 * come to depend on one real arch's layout.
 */
#ifndef ARCH_VM_H
#define ARCH_VM_H

#include <cv/types.h>

#define FAKE_IRQ_LINES 128

struct vcpu_arch {
    uint64_t pc;   /**< where vcpu_arch_reset() put it */
    uint64_t arg;  /**< its first argument */
    uint64_t runs; /**< vcpu_arch_run() calls */
};

struct vm_arch {
    /** Pages the second-stage tables would have read-only (one bit per page); NULL: none. */
    uint64_t *wp;
    /** DIRTY_HW: pages the fake "hardware" logged (fake_arch_hw_write()). */
    uint64_t *hw;
    uint64_t vtime_offset;                   /**< vm_arch_shift_virtual_time() total */
    uint64_t irq_level[FAKE_IRQ_LINES / 64]; /**< vm_arch_irq_set_level() state */
    bool hw_dirty;                           /**< dirty_arch_supported(DIRTY_HW) answers this */
};

#endif
