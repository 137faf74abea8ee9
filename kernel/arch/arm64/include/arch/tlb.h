/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLB and translation-table maintenance for the guest's stage-1+2 regime, and the few system
 * register accesses the stage-2 code needs. Implemented with inline assembly in tlb.c; host
 * unit tests link counting stubs instead (tests/unit/support/tlb_stub.c), which is why the
 * stage-2 code (s2.c) calls only these functions and stays plain C.
 *
 * All run at EL2 in hypervisor context with the vCPU stopped. VTTBR_EL2 holds the single VM's
 * VMID, so "the guest" below means that VMID. Each flush starts with DSB ISHST so that
 * descriptor writes made before the call are visible to the table walkers before the TLBI.
 */
#ifndef ARCH_TLB_H
#define ARCH_TLB_H

#include <cv/types.h>

/**
 * DSB ISH: completes earlier descriptor writes (so the walker sees new valid entries before the
 * guest is entered) and hardware descriptor updates (before DBM dirty state is scanned).
 */
void tlb_table_barrier(void);
/** DSB ISHST; TLBI VMALLS12E1IS; DSB ISH; ISB: every stage-1 and stage-2 entry of the guest. */
void tlb_flush_guest_all(void);
/**
 * DSB ISHST; TLBI IPAS2E1IS (IPA >> 12); DSB ISH; TLBI VMALLE1IS; DSB ISH; ISB. The stage-1
 * invalidation is needed because stage-1 entries may cache the combined translation.
 */
void tlb_flush_guest_ipa(gpa_t ipa);
/** ID_AA64MMFR1_EL1 (HAFDBS is bits [3:0]). */
uint64_t arm64_read_id_aa64mmfr1(void);
/**
 * Sets (on) or clears VTCR_EL2.HA and HD, then invalidates the guest's TLB (VTCR fields may be
 * cached in TLB entries). Only call with on=true when ID_AA64MMFR1_EL1.HAFDBS >= 2.
 */
void arm64_s2_set_hw_dirty(bool on);

#endif
