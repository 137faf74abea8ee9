// SPDX-License-Identifier: Apache-2.0
// The hypervisor's own EL2 translation: an identity map of the low 4 GiB of physical address
// space with 1 GiB blocks: the first GiB (the virt board's devices) as Device-nGnRE, never
// executable; RAM as normal write-back memory. Identity keeps hpa_to_hva() trivial, and the
// caches must be on before anything touches RAM heavily (guest RAM copies for checkpoints).
#include <cv/page.h>

#include <arch/arm64.h>
#include <arch/sysreg.h>

#define MAIR_IDX_DEVICE 0
#define MAIR_IDX_NORMAL 1
#define MAIR_VALUE ((0x04ull << (8 * MAIR_IDX_DEVICE)) | (0xffull << (8 * MAIR_IDX_NORMAL)))

#define PTE_VALID BIT(0)
#define PTE_ATTRIDX(i) ((uint64_t)(i) << 2)
#define PTE_AP_RW 0ull
#define PTE_SH_INNER (3ull << 8)
#define PTE_AF BIT(10)
#define PTE_XN BIT(54)

#define MAPPED_GIB 4

static uint64_t el2_l1[512] __attribute__((aligned(4096)));

void *hpa_to_hva(hpa_t a)
{
    return (void *)(uintptr_t)hpa_raw(a);
}

hpa_t hva_to_hpa(const void *p)
{
    return hpa((uint64_t)(uintptr_t)p);
}

void arm64_mmu_init(void)
{
    el2_l1[0] = 0 | PTE_VALID | PTE_ATTRIDX(MAIR_IDX_DEVICE) | PTE_AF | PTE_XN;
    for (uint64_t g = 1; g < MAPPED_GIB; g++) {
        el2_l1[g] = (g << 30) | PTE_VALID | PTE_ATTRIDX(MAIR_IDX_NORMAL) | PTE_SH_INNER | PTE_AF |
                    PTE_AP_RW;
    }
    uint64_t parange = read_sysreg(id_aa64mmfr0_el1) & 0xf;
    if (parange > 5) {
        parange = 5;
    }
    /* T0SZ=25 (39-bit VA, start at level 1), WBWA inner/outer, inner shareable, 4 KiB. */
    uint64_t tcr =
        25 | (1ull << 8) | (1ull << 10) | (3ull << 12) | (parange << 16) | BIT(23) | BIT(31);
    write_sysreg(mair_el2, MAIR_VALUE);
    write_sysreg(tcr_el2, tcr);
    write_sysreg(ttbr0_el2, (uint64_t)(uintptr_t)el2_l1);
    dsb(ish);
    __asm__ volatile("tlbi alle2" ::: "memory");
    dsb(ish);
    isb();
    uint64_t sctlr = read_sysreg(sctlr_el2);
    sctlr |= BIT(0) | BIT(2) | BIT(12); /* M, C, I */
    sctlr |= BIT(3);                    /* SA: catch a misaligned SP early */
    write_sysreg(sctlr_el2, sctlr);
    isb();
}
