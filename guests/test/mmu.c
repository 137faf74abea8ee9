// SPDX-License-Identifier: Apache-2.0
// Stage-1 identity map with 4 KiB granule and a 39-bit VA (walks start at level 1): the device
// GiB below RAM as Device-nGnRnE, guest RAM (exactly GUEST_RAM_MIB) as Normal write-back in
// 2 MiB blocks, and the GiB at BAD_RAM_ADDR as Device so the "bad ram" probe reaches the bus
// (stage 2) rather than faulting here.

#include "guest.h"

#define DESC_TABLE 3ull
#define DESC_BLOCK 1ull
#define DESC_AF (1ull << 10)
#define DESC_SH_INNER (3ull << 8)
#define DESC_ATTR(i) ((uint64_t)(i) << 2)
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)

#define ATTR_DEVICE 0 /* MAIR index */
#define ATTR_NORMAL 1
#define MAIR_VALUE (0x00ull << (8 * ATTR_DEVICE) | 0xffull << (8 * ATTR_NORMAL))

#define TCR_T0SZ(n) ((uint64_t)(n))
#define TCR_IRGN0_WBWA (1ull << 8)
#define TCR_ORGN0_WBWA (1ull << 10)
#define TCR_SH0_INNER (3ull << 12)
#define TCR_TG0_4K (0ull << 14)
#define TCR_EPD1 (1ull << 23)
#define TCR_IPS_SHIFT 32

#define SCTLR_EL1_RES1 0x30d00800ull
#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_SA (1ull << 3)
#define SCTLR_I (1ull << 12)

#define BLOCK_2M (2ull << 20)
#define RAM_GIBS ((RAM_SIZE + GIB - 1) / GIB)

/* Not in .bss: written before the bss is cleared, which happens with the MMU on. */
static uint64_t pt_l1[512] __attribute__((aligned(4096), section(".pgtables")));
static uint64_t pt_l2_ram[RAM_GIBS][512] __attribute__((aligned(4096), section(".pgtables")));

static void dcache_inval(const void *start, size_t len)
{
    uint64_t ctr = read_sysreg(ctr_el0);
    uint64_t line = 4ull << ((ctr >> 16) & 0xf);
    uint64_t a = (uint64_t)(uintptr_t)start & ~(line - 1);
    for (; a < (uint64_t)(uintptr_t)start + len; a += line) {
        __asm__ volatile("dc ivac, %0" ::"r"(a) : "memory");
    }
    dsb(sy);
}

/* start.S switches the MMU on itself, so nothing written to the stack now is read back later. */
uint64_t mmu_init(void)
{
    /*
     * The tables are written with non-cacheable accesses: invalidate first so no dirty stale
     * line is evicted over them, and again so no line fetched meanwhile hides them.
     */
    dcache_inval(pt_l1, sizeof(pt_l1));
    dcache_inval(pt_l2_ram, sizeof(pt_l2_ram));

    for (unsigned i = 0; i < 512; i++) {
        pt_l1[i] = 0;
        for (unsigned g = 0; g < RAM_GIBS; g++) {
            pt_l2_ram[g][i] = 0;
        }
    }
    uint64_t dev = DESC_BLOCK | DESC_AF | DESC_ATTR(ATTR_DEVICE) | DESC_PXN | DESC_UXN;
    pt_l1[0] = 0 | dev;
    pt_l1[BAD_RAM_ADDR / GIB] = BAD_RAM_ADDR | dev;
    for (unsigned g = 0; g < RAM_GIBS; g++) {
        pt_l1[RAM_BASE / GIB + g] = (uint64_t)(uintptr_t)pt_l2_ram[g] | DESC_TABLE;
    }
    for (uint64_t i = 0; i < RAM_SIZE / BLOCK_2M; i++) {
        pt_l2_ram[i / 512][i % 512] = (RAM_BASE + i * BLOCK_2M) | DESC_BLOCK | DESC_AF |
                                      DESC_SH_INNER | DESC_ATTR(ATTR_NORMAL) | DESC_UXN;
    }
    dsb(sy);
    dcache_inval(pt_l1, sizeof(pt_l1));
    dcache_inval(pt_l2_ram, sizeof(pt_l2_ram));

    uint64_t parange = read_sysreg(id_aa64mmfr0_el1) & 0xf;
    if (parange > 5) {
        parange = 5;
    }
    write_sysreg(mair_el1, MAIR_VALUE);
    write_sysreg(tcr_el1, TCR_T0SZ(25) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
                              TCR_TG0_4K | TCR_EPD1 | parange << TCR_IPS_SHIFT);
    write_sysreg(ttbr0_el1, (uint64_t)(uintptr_t)pt_l1);
    isb();
    __asm__ volatile("tlbi vmalle1\n\tdsb nsh\n\tic iallu\n\tdsb nsh\n\tisb" ::: "memory");
    return SCTLR_EL1_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I;
}
