// SPDX-License-Identifier: Apache-2.0
// arch/tlb.h for host unit tests: no hardware, just call counts.
#include <string.h>

#include <arch/tlb.h>

#include "tlb_stub.h"

struct tlb_stub_counts tlb_stub;
uint64_t tlb_stub_mmfr1 = 2;
void (*tlb_stub_on_flush)(bool all, uint64_t ipa);

void tlb_stub_reset(void)
{
    memset(&tlb_stub, 0, sizeof(tlb_stub));
    tlb_stub_mmfr1 = 2;
}

void tlb_table_barrier(void)
{
    tlb_stub.barrier++;
}

void tlb_flush_guest_all(void)
{
    tlb_stub.flush_all++;
    if (tlb_stub_on_flush) {
        tlb_stub_on_flush(true, 0);
    }
}

void tlb_flush_guest_ipa(gpa_t ipa)
{
    tlb_stub.flush_ipa++;
    tlb_stub.last_ipa = gpa_raw(ipa);
    if (tlb_stub_on_flush) {
        tlb_stub_on_flush(false, gpa_raw(ipa));
    }
}

uint64_t arm64_read_id_aa64mmfr1(void)
{
    return tlb_stub_mmfr1;
}

void arm64_s2_set_hw_dirty(bool on)
{
    if (on) {
        tlb_stub.set_hw_dirty_on++;
    } else {
        tlb_stub.set_hw_dirty_off++;
    }
    /* Like tlb.c: VTCR_EL2 is written, and the TLB flushed, only on a change. */
    if (tlb_stub.hw_dirty != on && tlb_stub_on_flush) {
        tlb_stub_on_flush(true, 0);
    }
    tlb_stub.hw_dirty = on;
}
