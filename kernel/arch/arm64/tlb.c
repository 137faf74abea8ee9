// SPDX-License-Identifier: Apache-2.0
// TLB maintenance for the guest's translation regime (see arch/tlb.h). Target only: host unit
// tests link tests/unit/support/tlb_stub.c instead.
#include <arch/s2.h>
#include <arch/sysreg.h>
#include <arch/tlb.h>

void tlb_table_barrier(void)
{
    dsb(ish);
}

void tlb_flush_guest_all(void)
{
    dsb(ishst);
    __asm__ volatile("tlbi vmalls12e1is" ::: "memory");
    dsb(ish);
    isb();
}

void tlb_flush_guest_ipa(gpa_t ipa)
{
    dsb(ishst);
    __asm__ volatile("tlbi ipas2e1is, %0" ::"r"(gpa_raw(ipa) >> PAGE_SHIFT) : "memory");
    dsb(ish);
    __asm__ volatile("tlbi vmalle1is" ::: "memory");
    dsb(ish);
    isb();
}

uint64_t arm64_read_id_aa64mmfr1(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, id_aa64mmfr1_el1" : "=r"(v));
    return v;
}

void arm64_s2_set_hw_dirty(bool on)
{
    uint64_t old;
    __asm__ volatile("mrs %0, vtcr_el2" : "=r"(old));
    uint64_t v = on ? (old | VTCR_HA | VTCR_HD) : (old & ~(VTCR_HA | VTCR_HD));
    if (v == old) {
        return;
    }
    __asm__ volatile("msr vtcr_el2, %0" ::"r"(v));
    isb();
    tlb_flush_guest_all();
}
