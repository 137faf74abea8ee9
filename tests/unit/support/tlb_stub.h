/* SPDX-License-Identifier: Apache-2.0 */
/* Counting stand-ins for arch/tlb.h in host unit tests (tlb_stub.c). */
#ifndef TEST_TLB_STUB_H
#define TEST_TLB_STUB_H

#include <cv/types.h>

struct tlb_stub_counts {
    unsigned long barrier;   /**< tlb_table_barrier */
    unsigned long flush_all; /**< tlb_flush_guest_all */
    unsigned long flush_ipa; /**< tlb_flush_guest_ipa */
    uint64_t last_ipa;       /**< argument of the last tlb_flush_guest_ipa */
    unsigned long set_hw_dirty_on, set_hw_dirty_off;
    bool hw_dirty; /**< current VTCR_EL2.HA/HD state */
};

extern struct tlb_stub_counts tlb_stub;
/** What arm64_read_id_aa64mmfr1() returns (HAFDBS = 2 by default). */
extern uint64_t tlb_stub_mmfr1;
/**
 * Called on every flush, so a test can model TLB contents: all=true for tlb_flush_guest_all and
 * arm64_s2_set_hw_dirty, else the IPA of a tlb_flush_guest_ipa. NULL: nothing.
 */
extern void (*tlb_stub_on_flush)(bool all, uint64_t ipa);
/** Zeroes the counts, HAFDBS back to 2; keeps tlb_stub_on_flush. */
void tlb_stub_reset(void);

#endif
