/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage-2 translation tables: 4 KiB granule, 40-bit IPA space, lookup starting at level 1
 * (VTCR_EL2.T0SZ=24, SL0=1). A level-1 table for 40 bits has 1024 entries, so the root is two
 * concatenated pages (page_alloc(1), 8 KiB aligned as VTTBR_EL2 requires); levels 2 and 3 are
 * single pages from page_alloc(0). Tables are never freed (the page allocator has no free).
 *
 * Only 4 KiB page mappings are made. Dirty logging tracks and write-protects single pages; with
 * block mappings every arm would have to split blocks (break-before-make, new tables) and every
 * disarm would leave them split, so until that is needed everything is mapped page by page. The
 * cost is 2 MiB of level-3 tables per GiB of guest RAM and more TLB pressure for the guest.
 *
 * Every function runs in hypervisor context with the vCPU stopped (no concurrent hardware
 * update of a descriptor can happen), and does the TLB maintenance its change needs before it
 * returns (arch/tlb.h): removing a mapping or a permission invalidates the guest's TLB entries;
 * adding a mapping only makes the descriptor writes visible to the table walker. Callers never
 * flush for these functions.
 *
 * VTCR_EL2: VM init writes s2_vtcr_value(parange, hw_dirty); hw_dirty may be false, or true
 * when FEAT_HAFDBS is there (HD only acts on descriptors with DBM, and AF is always set). Either
 * way the dirty-logging hooks (s2_dirty.c) set VTCR_EL2.HA and HD with arm64_s2_set_hw_dirty()
 * (arch/tlb.h) when DBM logging is armed and clear them when it is disarmed. HA/HD are RES0
 * without FEAT_HAFDBS, so they are only set after checking ID_AA64MMFR1_EL1.HAFDBS >= 2.
 */
#ifndef ARCH_S2_H
#define ARCH_S2_H

#include <cv/types.h>

#define S2_IPA_BITS 40u
#define S2_IPA_LIMIT (1ull << S2_IPA_BITS)
#define S2_PA_LIMIT (1ull << 48)
#define S2_ROOT_ORDER 1u /**< two concatenated level-1 pages */
#define S2_ROOT_ENTRIES 1024u
#define S2_TABLE_ENTRIES 512u

/* Stage-2 block/page descriptor bits (level 3 page descriptor layout). */
#define S2_DESC_VALID BIT(0)
#define S2_DESC_TABLE BIT(1) /**< table at levels 1-2, "page" at level 3 */
#define S2_DESC_MEMATTR_MASK (0xfull << 2)
#define S2_DESC_MEMATTR_NORMAL_WB (0xfull << 2)     /**< outer and inner write-back cacheable */
#define S2_DESC_MEMATTR_DEVICE_NGNRE (0x1ull << 2)  /**< the same with HCR_EL2.FWB */
#define S2_DESC_MEMATTR_FWB_NORMAL_WB (0x6ull << 2) /**< HCR_EL2.FWB: forced Normal WB */
#define S2_DESC_S2AP_R BIT(6)
#define S2_DESC_S2AP_W BIT(7)
#define S2_DESC_SH_MASK (3ull << 8)
#define S2_DESC_SH_INNER (3ull << 8)
#define S2_DESC_AF BIT(10)
#define S2_DESC_OA_MASK 0x0000fffffffff000ull /**< output address [47:12] */
#define S2_DESC_DBM BIT(51)
#define S2_DESC_XN_MASK (3ull << 53)
#define S2_DESC_XN (2ull << 53) /**< not executable at EL1 or EL0 */

/* VTCR_EL2 fields. */
#define VTCR_T0SZ(n) ((uint64_t)(n))
#define VTCR_SL0_L1 (1ull << 6)
#define VTCR_IRGN0_WBWA (1ull << 8)
#define VTCR_ORGN0_WBWA (1ull << 10)
#define VTCR_SH0_INNER (3ull << 12)
#define VTCR_TG0_4K (0ull << 14)
#define VTCR_PS_SHIFT 16u
#define VTCR_HA BIT(21)
#define VTCR_HD BIT(22)
#define VTCR_RES1 BIT(31)

enum s2_mem {
    S2_MEM_NORMAL, /**< normal write-back memory, inner shareable */
    S2_MEM_DEVICE, /**< Device-nGnRE, never executable */
};

/** Permission flags; a mapping must at least be readable. */
enum s2_perm {
    S2_PERM_R = 1,
    S2_PERM_W = 2,
    S2_PERM_X = 4,
    S2_PERM_RW = 3,
    S2_PERM_RX = 5,
    S2_PERM_RWX = 7,
};

struct s2_pgtable {
    hpa_t root; /**< level-1 root (two pages), 0 before s2_init */
    uint64_t *root_va;
    uint64_t table_pages;  /**< pages of tables allocated, root included */
    uint64_t mapped_pages; /**< valid level-3 descriptors */
    /**
     * HCR_EL2.FWB is set for this VM (FEAT_S2FWB): normal memory is mapped with the forced
     * Normal Write-Back encoding, which a guest's stage-1 attributes (its MMU off) cannot
     * weaken. Set once after s2_init(), before the first s2_map().
     */
    bool fwb;
};

/** Allocates an empty root. False when out of memory. Boot context. */
bool s2_init(struct s2_pgtable *pt);
/** True if a CPU with this ID_AA64MMFR2_EL1 has FEAT_S2FWB (HCR_EL2.FWB). Pure. */
bool s2_fwb_supported(uint64_t id_aa64mmfr2);

/**
 * Maps [ipa, ipa+size) to [pa, pa+size) with 4 KiB pages. Refuses (returns false, changes
 * nothing) a size of 0, addresses or size not page aligned, a range beyond the 40-bit IPA space
 * or the 48-bit PA space, a permission without S2_PERM_R or with unknown bits, and any overlap
 * with an existing mapping. Device mappings are always XN. False also when tables cannot be
 * allocated (then nothing of the range stays mapped).
 */
bool s2_map(struct s2_pgtable *pt, gpa_t ipa, hpa_t pa, uint64_t size, enum s2_mem type,
            enum s2_perm perm);

/**
 * Removes the mappings in [ipa, ipa+size) (holes are fine) and invalidates the guest's TLB.
 * Tables stay allocated. False for a misaligned or out-of-range request.
 */
bool s2_unmap(struct s2_pgtable *pt, gpa_t ipa, uint64_t size);

/** The level-3 descriptor mapping ipa, or NULL if ipa is not mapped. */
uint64_t *s2_leaf(struct s2_pgtable *pt, gpa_t ipa);

/**
 * VTCR_EL2 for these tables: the PS field is the largest encoding not above pa_range_bits
 * (capped at 48 bits, the output addresses we use; the 40-bit IPA space needs PARange >= 40).
 * A value below 32 is taken as the ID_AA64MMFR0_EL1.PARange encoding itself (0 = 32 bits ...
 * 5 = 48 bits, 6 = 52 bits capped to 5), so `id_aa64mmfr0_el1 & 0xf` can be passed as is.
 * hw_dirty adds HA and HD (FEAT_HAFDBS stage-2 access flag and dirty state management).
 */
uint64_t s2_vtcr_value(unsigned pa_range_bits, bool hw_dirty);
/** VTTBR_EL2 for these tables and an 8-bit VMID (VTCR_EL2.VS = 0). */
uint64_t s2_vttbr_value(const struct s2_pgtable *pt, uint16_t vmid);

/*
 * Range operations for dirty logging, over a guest RAM range of npages pages starting at the
 * page-aligned base. Bitmaps have one bit per page of the range (bit i of word i/64 = page
 * base + i * 4 KiB). Unmapped pages in the range are skipped. Each walks the tables once and
 * flushes the guest TLB at most once, only if a descriptor lost a permission.
 */

/** Clears the write permission of every mapped page; sets DBM if dbm, else clears it. */
uint64_t s2_range_wrprotect(struct s2_pgtable *pt, gpa_t base, uint64_t npages, bool dbm);
/** Makes every mapped page writable and clears DBM. Returns the mapped pages seen. */
uint64_t s2_range_mkwrite(struct s2_pgtable *pt, gpa_t base, uint64_t npages);
/**
 * Makes the page at ipa writable (DBM untouched) and invalidates its TLB entries, also when it
 * was already writable (a write fault on a writable page means a stale TLB entry). False if
 * ipa is not mapped. was_writable (may be NULL) tells whether the descriptor already had write
 * permission: under DBM that means the hardware dirtied the page, so it is not clean.
 */
bool s2_page_mkwrite(struct s2_pgtable *pt, gpa_t ipa, bool *was_writable);
/**
 * Pages with DBM set whose write permission is set (by the hardware's dirty state management,
 * or by s2_page_mkwrite) are dirty: ORs them into out_bits, clears their write permission, and
 * returns how many there were.
 */
uint64_t s2_collect_dbm(struct s2_pgtable *pt, gpa_t base, uint64_t npages, uint64_t *out_bits);
/**
 * Counts pages the hardware made writable (DBM) whose bit is not set in known, changing
 * nothing: no re-protection, no TLB flush, so the guest's writes stay on the fast path.
 */
uint64_t s2_count_dbm(struct s2_pgtable *pt, gpa_t base, uint64_t npages, const uint64_t *known);
/**
 * Clears the write permission of the pages set in bits (DBM set if dbm, else cleared). Returns
 * the number of descriptors that were writable.
 */
uint64_t s2_reprotect_bits(struct s2_pgtable *pt, gpa_t base, uint64_t npages, const uint64_t *bits,
                           bool dbm);

#endif
