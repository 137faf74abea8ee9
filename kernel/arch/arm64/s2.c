// SPDX-License-Identifier: Apache-2.0
// Stage-2 translation tables (arch/s2.h). Plain C so that the host unit tests run it as is; the
// only hardware contact is through arch/tlb.h.
#include <string.h>

#include <arch/s2.h>
#include <arch/tlb.h>
#include <cv/page.h>

#define L1_SHIFT 30u
#define L2_SHIFT 21u
#define L2_SIZE (1ull << L2_SHIFT) /* what one level-3 table maps */

static uint64_t *desc_table(uint64_t d)
{
    return hpa_to_hva(hpa(d & S2_DESC_OA_MASK));
}

static bool desc_is_table(uint64_t d)
{
    return (d & (S2_DESC_VALID | S2_DESC_TABLE)) == (S2_DESC_VALID | S2_DESC_TABLE);
}

/* Follows (or with alloc, creates) the table behind *e. NULL if absent, a block, or no memory. */
static uint64_t *next_table(struct s2_pgtable *pt, uint64_t *e, bool alloc)
{
    uint64_t d = *e;
    if (d & S2_DESC_VALID) {
        return desc_is_table(d) ? desc_table(d) : NULL;
    }
    if (!alloc) {
        return NULL;
    }
    hpa_t t = page_alloc(0);
    if (hpa_raw(t) == 0) {
        return NULL;
    }
    pt->table_pages++;
    /* The zeroed table must be visible before the walker can follow the new entry; the
     * barrier that publishes the entry (tlb_table_barrier at the end of s2_map) orders both. */
    *e = (hpa_raw(t) & S2_DESC_OA_MASK) | S2_DESC_TABLE | S2_DESC_VALID;
    return hpa_to_hva(t);
}

/* The level-3 table covering ipa (< S2_IPA_LIMIT). */
static uint64_t *leaf_table(struct s2_pgtable *pt, uint64_t ipa, bool alloc)
{
    if (!pt->root_va) {
        return NULL;
    }
    uint64_t *l2 = next_table(pt, &pt->root_va[(ipa >> L1_SHIFT) & (S2_ROOT_ENTRIES - 1)], alloc);
    if (!l2) {
        return NULL;
    }
    return next_table(pt, &l2[(ipa >> L2_SHIFT) & (S2_TABLE_ENTRIES - 1)], alloc);
}

static unsigned l3_index(uint64_t ipa)
{
    return (unsigned)((ipa >> PAGE_SHIFT) & (S2_TABLE_ENTRIES - 1));
}

/* Entries of the level-3 table holding ipa that belong to [ipa, end). */
static unsigned chunk_len(uint64_t ipa, uint64_t end)
{
    uint64_t chunk_end = ALIGN_DOWN(ipa, L2_SIZE) + L2_SIZE;
    return (unsigned)((MIN(chunk_end, end) - ipa) >> PAGE_SHIFT);
}

static bool range_ok(uint64_t ipa, uint64_t size)
{
    return size != 0 && IS_ALIGNED(ipa, PAGE_SIZE) && IS_ALIGNED(size, PAGE_SIZE) &&
           size <= S2_IPA_LIMIT && ipa <= S2_IPA_LIMIT - size;
}

bool s2_init(struct s2_pgtable *pt)
{
    memset(pt, 0, sizeof(*pt));
    hpa_t r = page_alloc(S2_ROOT_ORDER);
    if (hpa_raw(r) == 0) {
        return false;
    }
    pt->root = r;
    pt->root_va = hpa_to_hva(r);
    pt->table_pages = 1u << S2_ROOT_ORDER;
    return true;
}

static uint64_t page_desc(const struct s2_pgtable *pt, uint64_t pa, enum s2_mem type,
                          enum s2_perm perm)
{
    uint64_t d = (pa & S2_DESC_OA_MASK) | S2_DESC_TABLE | S2_DESC_VALID | S2_DESC_AF;
    if (type == S2_MEM_NORMAL) {
        d |= (pt->fwb ? S2_DESC_MEMATTR_FWB_NORMAL_WB : S2_DESC_MEMATTR_NORMAL_WB) |
             S2_DESC_SH_INNER;
        if (!(perm & S2_PERM_X)) {
            d |= S2_DESC_XN;
        }
    } else {
        d |= S2_DESC_MEMATTR_DEVICE_NGNRE | S2_DESC_XN;
    }
    d |= S2_DESC_S2AP_R;
    if (perm & S2_PERM_W) {
        d |= S2_DESC_S2AP_W;
    }
    return d;
}

/* True if no page of [ipa, end) is mapped (and no block covers it). */
static bool range_unmapped(struct s2_pgtable *pt, uint64_t ipa, uint64_t end)
{
    while (ipa < end) {
        unsigned n = chunk_len(ipa, end);
        uint64_t *l1e = &pt->root_va[(ipa >> L1_SHIFT) & (S2_ROOT_ENTRIES - 1)];
        if (*l1e & S2_DESC_VALID) {
            if (!desc_is_table(*l1e)) {
                return false;
            }
            uint64_t *l2e = &desc_table(*l1e)[(ipa >> L2_SHIFT) & (S2_TABLE_ENTRIES - 1)];
            if (*l2e & S2_DESC_VALID) {
                if (!desc_is_table(*l2e)) {
                    return false;
                }
                const uint64_t *l3 = desc_table(*l2e) + l3_index(ipa);
                for (unsigned i = 0; i < n; i++) {
                    if (l3[i] & S2_DESC_VALID) {
                        return false;
                    }
                }
            }
        }
        ipa += (uint64_t)n << PAGE_SHIFT;
    }
    return true;
}

/* Clears the valid descriptors of [ipa, end); returns how many there were. */
static uint64_t clear_range(struct s2_pgtable *pt, uint64_t ipa, uint64_t end)
{
    uint64_t cleared = 0;
    while (ipa < end) {
        unsigned n = chunk_len(ipa, end);
        uint64_t *l3 = leaf_table(pt, ipa, false);
        if (l3) {
            l3 += l3_index(ipa);
            for (unsigned i = 0; i < n; i++) {
                if (l3[i] & S2_DESC_VALID) {
                    l3[i] = 0;
                    cleared++;
                }
            }
        }
        ipa += (uint64_t)n << PAGE_SHIFT;
    }
    pt->mapped_pages -= cleared;
    return cleared;
}

bool s2_map(struct s2_pgtable *pt, gpa_t ipa, hpa_t pa, uint64_t size, enum s2_mem type,
            enum s2_perm perm)
{
    uint64_t start = gpa_raw(ipa);
    uint64_t p = hpa_raw(pa);
    if (!pt->root_va || !range_ok(start, size) || !IS_ALIGNED(p, PAGE_SIZE) ||
        p > S2_PA_LIMIT - size) {
        return false;
    }
    if ((type != S2_MEM_NORMAL && type != S2_MEM_DEVICE) || !(perm & S2_PERM_R) ||
        (perm & ~S2_PERM_RWX)) {
        return false;
    }
    uint64_t end = start + size;
    if (!range_unmapped(pt, start, end)) {
        return false;
    }
    uint64_t d = page_desc(pt, p, type, perm);
    for (uint64_t a = start; a < end;) {
        unsigned n = chunk_len(a, end);
        uint64_t *l3 = leaf_table(pt, a, true);
        if (!l3) {
            /* Out of table memory: take back what this call mapped. The entries were never
             * used by the guest, but may have been fetched speculatively, so flush. */
            clear_range(pt, start, a);
            tlb_flush_guest_all();
            return false;
        }
        l3 += l3_index(a);
        for (unsigned i = 0; i < n; i++) {
            l3[i] = d;
            d += PAGE_SIZE;
        }
        pt->mapped_pages += n;
        a += (uint64_t)n << PAGE_SHIFT;
    }
    /* Invalid entries are never held in TLBs, so no invalidation: just publish the writes. */
    tlb_table_barrier();
    return true;
}

bool s2_unmap(struct s2_pgtable *pt, gpa_t ipa, uint64_t size)
{
    uint64_t start = gpa_raw(ipa);
    if (!pt->root_va || !range_ok(start, size)) {
        return false;
    }
    if (clear_range(pt, start, start + size)) {
        tlb_flush_guest_all();
    }
    return true;
}

uint64_t *s2_leaf(struct s2_pgtable *pt, gpa_t ipa)
{
    uint64_t a = gpa_raw(ipa);
    if (a >= S2_IPA_LIMIT) {
        return NULL;
    }
    uint64_t *l3 = leaf_table(pt, a, false);
    if (!l3) {
        return NULL;
    }
    uint64_t *e = &l3[l3_index(a)];
    return (*e & S2_DESC_VALID) ? e : NULL;
}

uint64_t s2_vtcr_value(unsigned pa_range_bits, bool hw_dirty)
{
    static const unsigned ps_bits[] = {32, 36, 40, 42, 44, 48};
    uint64_t ps = 0;
    if (pa_range_bits < ps_bits[0]) {
        /* An ID_AA64MMFR0_EL1.PARange encoding: the same numbering as PS. */
        ps = MIN(pa_range_bits, ARRAY_SIZE(ps_bits) - 1);
    } else {
        for (unsigned i = 0; i < ARRAY_SIZE(ps_bits); i++) {
            if (pa_range_bits >= ps_bits[i]) {
                ps = i;
            }
        }
    }
    uint64_t v = VTCR_RES1 | VTCR_T0SZ(64 - S2_IPA_BITS) | VTCR_SL0_L1 | VTCR_IRGN0_WBWA |
                 VTCR_ORGN0_WBWA | VTCR_SH0_INNER | VTCR_TG0_4K | (ps << VTCR_PS_SHIFT);
    if (hw_dirty) {
        v |= VTCR_HA | VTCR_HD;
    }
    return v;
}

uint64_t s2_vttbr_value(const struct s2_pgtable *pt, uint16_t vmid)
{
    return (hpa_raw(pt->root) & S2_DESC_OA_MASK) | ((uint64_t)(vmid & 0xff) << 48);
}

/*
 * The range walkers: visit each level-3 table covering [base, base + npages pages) once and
 * hand the callback the run of entries inside the range and the bitmap index of the first.
 */
typedef uint64_t (*leaf_run_fn)(uint64_t *l3, unsigned n, uint64_t first_bit, void *arg);

static uint64_t walk_range(struct s2_pgtable *pt, gpa_t base, uint64_t npages, leaf_run_fn fn,
                           void *arg)
{
    uint64_t start = gpa_raw(base);
    if (!pt->root_va || npages == 0 || npages > (S2_IPA_LIMIT >> PAGE_SHIFT) ||
        !range_ok(start, npages << PAGE_SHIFT)) {
        return 0;
    }
    uint64_t end = start + (npages << PAGE_SHIFT);
    uint64_t total = 0;
    for (uint64_t a = start; a < end;) {
        unsigned n = chunk_len(a, end);
        uint64_t *l3 = leaf_table(pt, a, false);
        if (l3) {
            total += fn(l3 + l3_index(a), n, (a - start) >> PAGE_SHIFT, arg);
        }
        a += (uint64_t)n << PAGE_SHIFT;
    }
    return total;
}

struct perm_arg {
    uint64_t clear, set;
    uint64_t seen, changed;
};

static uint64_t run_set_perm(uint64_t *l3, unsigned n, uint64_t first_bit, void *arg)
{
    (void)first_bit;
    struct perm_arg *p = arg;
    for (unsigned i = 0; i < n; i++) {
        uint64_t d = l3[i];
        if (!(d & S2_DESC_VALID)) {
            continue;
        }
        p->seen++;
        uint64_t nd = (d & ~p->clear) | p->set;
        if (nd != d) {
            p->changed++;
            l3[i] = nd;
        }
    }
    return 0;
}

static uint64_t set_perm_range(struct s2_pgtable *pt, gpa_t base, uint64_t npages, uint64_t clear,
                               uint64_t set)
{
    struct perm_arg p = {.clear = clear, .set = set};
    walk_range(pt, base, npages, run_set_perm, &p);
    /* Lost permissions must not survive in TLBs. Gained ones would only cause spurious
     * faults, but flush anyway so no fault handler has to recognise one after logging stops. */
    if (p.changed) {
        tlb_flush_guest_all();
    }
    return p.seen;
}

uint64_t s2_range_wrprotect(struct s2_pgtable *pt, gpa_t base, uint64_t npages, bool dbm)
{
    return set_perm_range(pt, base, npages, S2_DESC_S2AP_W | (dbm ? 0 : S2_DESC_DBM),
                          dbm ? S2_DESC_DBM : 0);
}

uint64_t s2_range_mkwrite(struct s2_pgtable *pt, gpa_t base, uint64_t npages)
{
    return set_perm_range(pt, base, npages, S2_DESC_DBM, S2_DESC_S2AP_W);
}

bool s2_page_mkwrite(struct s2_pgtable *pt, gpa_t ipa, bool *was_writable)
{
    uint64_t *e = s2_leaf(pt, gpa(ALIGN_DOWN(gpa_raw(ipa), PAGE_SIZE)));
    if (!e) {
        return false;
    }
    if (was_writable) {
        *was_writable = (*e & S2_DESC_S2AP_W) != 0;
    }
    *e |= S2_DESC_S2AP_W;
    tlb_flush_guest_ipa(gpa(ALIGN_DOWN(gpa_raw(ipa), PAGE_SIZE)));
    return true;
}

static void bit_set(uint64_t *bits, uint64_t i)
{
    bits[i / 64] |= 1ull << (i % 64);
}

static uint64_t run_collect(uint64_t *l3, unsigned n, uint64_t first_bit, void *arg)
{
    uint64_t *out = arg;
    const uint64_t dirty = S2_DESC_VALID | S2_DESC_DBM | S2_DESC_S2AP_W;
    uint64_t count = 0;
    unsigned i = 0;
    /* Test four descriptors per step: the clean case (nothing dirty) is what dominates. */
    for (; i + 4 <= n; i += 4) {
        uint64_t d0 = l3[i], d1 = l3[i + 1], d2 = l3[i + 2], d3 = l3[i + 3];
        if (!((d0 | d1 | d2 | d3) & S2_DESC_S2AP_W)) {
            continue;
        }
        for (unsigned j = i; j < i + 4; j++) {
            if ((l3[j] & dirty) == dirty) {
                l3[j] &= ~S2_DESC_S2AP_W;
                bit_set(out, first_bit + j);
                count++;
            }
        }
    }
    for (; i < n; i++) {
        if ((l3[i] & dirty) == dirty) {
            l3[i] &= ~S2_DESC_S2AP_W;
            bit_set(out, first_bit + i);
            count++;
        }
    }
    return count;
}

uint64_t s2_collect_dbm(struct s2_pgtable *pt, gpa_t base, uint64_t npages, uint64_t *out_bits)
{
    /* Complete the hardware's dirty-state updates before reading the descriptors. */
    tlb_table_barrier();
    uint64_t count = walk_range(pt, base, npages, run_collect, out_bits);
    if (count) {
        tlb_flush_guest_all();
    }
    return count;
}

static uint64_t run_count(uint64_t *l3, unsigned n, uint64_t first_bit, void *arg)
{
    const uint64_t *known = arg;
    const uint64_t dirty = S2_DESC_VALID | S2_DESC_DBM | S2_DESC_S2AP_W;
    uint64_t count = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t b = first_bit + i;
        if ((l3[i] & dirty) == dirty && !(known[b / 64] & (1ull << (b % 64)))) {
            count++;
        }
    }
    return count;
}

uint64_t s2_count_dbm(struct s2_pgtable *pt, gpa_t base, uint64_t npages, const uint64_t *known)
{
    tlb_table_barrier();
    /* walk_range's callback takes a mutable arg; run_count only reads through it. */
    return walk_range(pt, base, npages, run_count, (void *)(uintptr_t)known);
}

uint64_t s2_reprotect_bits(struct s2_pgtable *pt, gpa_t base, uint64_t npages, const uint64_t *bits,
                           bool dbm)
{
    uint64_t start = gpa_raw(base);
    if (!pt->root_va || npages == 0 || npages > (S2_IPA_LIMIT >> PAGE_SHIFT) ||
        !range_ok(start, npages << PAGE_SHIFT)) {
        return 0;
    }
    uint64_t changed = 0;
    uint64_t *l3 = NULL;
    uint64_t l3_chunk = ~0ull;
    size_t words = (size_t)((npages + 63) / 64);
    for (size_t w = 0; w < words; w++) {
        uint64_t word = bits[w];
        while (word) {
            unsigned b = (unsigned)__builtin_ctzll(word);
            word &= word - 1;
            uint64_t i = (uint64_t)w * 64 + b;
            if (i >= npages) {
                break;
            }
            uint64_t a = start + (i << PAGE_SHIFT);
            if ((a >> L2_SHIFT) != l3_chunk) {
                l3_chunk = a >> L2_SHIFT;
                l3 = leaf_table(pt, a, false);
            }
            if (!l3) {
                continue;
            }
            uint64_t *e = &l3[l3_index(a)];
            uint64_t d = *e;
            if (!(d & S2_DESC_VALID)) {
                continue;
            }
            if (d & S2_DESC_S2AP_W) {
                changed++;
            }
            *e = (d & ~(S2_DESC_S2AP_W | S2_DESC_DBM)) | (dbm ? S2_DESC_DBM : 0);
        }
    }
    if (changed) {
        tlb_flush_guest_all();
    }
    return changed;
}
