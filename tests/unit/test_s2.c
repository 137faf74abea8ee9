// SPDX-License-Identifier: Apache-2.0
// Stage-2 tables (kernel/arch/arm64/s2.c): descriptors, lookups, refusals, the dirty-logging
// range operations and the TLB maintenance they do (counted by support/tlb_stub.c).
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <arch/s2.h>

#include "fake_pages.h"
#include "support/tlb_stub.h"

#define RAM_BASE 0x40000000ull
#define HOST_BASE 0x80000000ull

static struct s2_pgtable pt;

static int setup(void **state)
{
    (void)state;
    tlb_stub_reset();
    tlb_stub_on_flush = NULL;
    fake_pages_fail_after = -1;
    assert_true(s2_init(&pt));
    return 0;
}

static uint64_t oa(uint64_t d)
{
    return d & S2_DESC_OA_MASK;
}

static void test_init(void **state)
{
    (void)state;
    assert_non_null(pt.root_va);
    assert_true(IS_ALIGNED(hpa_raw(pt.root), 2 * PAGE_SIZE));
    assert_int_equal(pt.table_pages, 2);
    assert_int_equal(pt.mapped_pages, 0);
    for (unsigned i = 0; i < S2_ROOT_ENTRIES; i++) {
        assert_int_equal(pt.root_va[i], 0);
    }
}

static void test_map_normal_descriptors(void **state)
{
    (void)state;
    assert_true(
        s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), 4 * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RWX));
    assert_int_equal(pt.mapped_pages, 4);
    assert_int_equal(pt.table_pages, 4); /* root (2) + level 2 + level 3 */
    for (unsigned i = 0; i < 4; i++) {
        uint64_t *e = s2_leaf(&pt, gpa(RAM_BASE + i * PAGE_SIZE));
        assert_non_null(e);
        uint64_t d = *e;
        assert_int_equal(d & 3, 3);
        assert_int_equal(d & S2_DESC_MEMATTR_MASK, 0xfull << 2);
        assert_true(d & S2_DESC_S2AP_R);
        assert_true(d & S2_DESC_S2AP_W);
        assert_int_equal(d & S2_DESC_SH_MASK, 3ull << 8);
        assert_true(d & S2_DESC_AF);
        assert_int_equal(oa(d), HOST_BASE + i * PAGE_SIZE);
        assert_false(d & S2_DESC_DBM);
        assert_int_equal(d & S2_DESC_XN_MASK, 0);
    }
    /* An address inside a page finds the same descriptor. */
    assert_ptr_equal(s2_leaf(&pt, gpa(RAM_BASE + 0x1234)), s2_leaf(&pt, gpa(RAM_BASE + 0x1000)));
    /* Mapping needs only a barrier, never a TLB invalidation. */
    assert_int_equal(tlb_stub.flush_all, 0);
    assert_int_equal(tlb_stub.flush_ipa, 0);
    assert_true(tlb_stub.barrier >= 1);
}

static void test_map_perms_and_device(void **state)
{
    (void)state;
    assert_true(s2_map(&pt, gpa(0x1000), hpa(0x9000000), PAGE_SIZE, S2_MEM_DEVICE, S2_PERM_RWX));
    uint64_t d = *s2_leaf(&pt, gpa(0x1000));
    assert_int_equal(d & S2_DESC_MEMATTR_MASK, 0x1ull << 2);
    assert_int_equal(d & S2_DESC_XN_MASK, 2ull << 53);
    assert_int_equal(d & S2_DESC_SH_MASK, 0);
    assert_true(d & S2_DESC_AF);
    assert_int_equal(oa(d), 0x9000000);

    assert_true(s2_map(&pt, gpa(0x2000), hpa(0x10000), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_R));
    d = *s2_leaf(&pt, gpa(0x2000));
    assert_true(d & S2_DESC_S2AP_R);
    assert_false(d & S2_DESC_S2AP_W);
    assert_int_equal(d & S2_DESC_XN_MASK, 2ull << 53);

    assert_true(s2_map(&pt, gpa(0x3000), hpa(0x11000), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    d = *s2_leaf(&pt, gpa(0x3000));
    assert_true(d & S2_DESC_S2AP_W);
    assert_int_equal(d & S2_DESC_XN_MASK, 2ull << 53);

    assert_true(s2_map(&pt, gpa(0x4000), hpa(0x12000), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RX));
    d = *s2_leaf(&pt, gpa(0x4000));
    assert_false(d & S2_DESC_S2AP_W);
    assert_int_equal(d & S2_DESC_XN_MASK, 0);
}

/*
 * With HCR_EL2.FWB (FEAT_S2FWB) the MemAttr field means something else: normal RAM must use
 * the forced write-back encoding 0b0110 (0b1111 would be reserved/"use stage 1"), device
 * memory keeps 0b0001 (Device-nGnRE in both encodings).
 */
static void test_map_fwb_encoding(void **state)
{
    (void)state;
    pt.fwb = true;
    assert_true(s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RWX));
    assert_true(s2_map(&pt, gpa(0x1000), hpa(0x9000000), PAGE_SIZE, S2_MEM_DEVICE, S2_PERM_RW));
    uint64_t d = *s2_leaf(&pt, gpa(RAM_BASE));
    assert_int_equal(d & S2_DESC_MEMATTR_MASK, 0x6ull << 2);
    assert_int_equal(d & S2_DESC_SH_MASK, 3ull << 8);
    d = *s2_leaf(&pt, gpa(0x1000));
    assert_int_equal(d & S2_DESC_MEMATTR_MASK, 0x1ull << 2);
    /* Dirty logging changes permissions only: the encoding survives protect / unprotect. */
    assert_int_equal(s2_range_wrprotect(&pt, gpa(RAM_BASE), 1, false), 1);
    assert_true(s2_page_mkwrite(&pt, gpa(RAM_BASE), NULL));
    assert_int_equal(*s2_leaf(&pt, gpa(RAM_BASE)) & S2_DESC_MEMATTR_MASK, 0x6ull << 2);
}

static void test_unmapped_gives_null(void **state)
{
    (void)state;
    assert_null(s2_leaf(&pt, gpa(RAM_BASE)));
    assert_true(
        s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), 2 * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_null(s2_leaf(&pt, gpa(RAM_BASE - PAGE_SIZE)));
    assert_null(s2_leaf(&pt, gpa(RAM_BASE + 2 * PAGE_SIZE)));
    assert_null(s2_leaf(&pt, gpa(RAM_BASE + (1ull << 30))));
    assert_null(s2_leaf(&pt, gpa(S2_IPA_LIMIT)));
    assert_null(s2_leaf(&pt, gpa(~0ull)));
}

static void test_map_refusals(void **state)
{
    (void)state;
    assert_true(
        s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), 16 * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    uint64_t tables = pt.table_pages;
    /* overlaps: inside, straddling either end, exactly the same */
    assert_false(
        s2_map(&pt, gpa(RAM_BASE + 4 * PAGE_SIZE), hpa(0), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_false(s2_map(&pt, gpa(RAM_BASE - PAGE_SIZE), hpa(0x1000), 2 * PAGE_SIZE, S2_MEM_NORMAL,
                        S2_PERM_RW));
    assert_false(s2_map(&pt, gpa(RAM_BASE + 15 * PAGE_SIZE), hpa(0x1000), 2 * PAGE_SIZE,
                        S2_MEM_NORMAL, S2_PERM_RW));
    assert_false(
        s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), 16 * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    /* the page before the straddling attempt must not have been mapped */
    assert_null(s2_leaf(&pt, gpa(RAM_BASE - PAGE_SIZE)));
    assert_null(s2_leaf(&pt, gpa(RAM_BASE + 16 * PAGE_SIZE)));
    /* misaligned ipa, pa, size; zero size */
    assert_false(s2_map(&pt, gpa(0x100800), hpa(0x1000), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_false(s2_map(&pt, gpa(0x100000), hpa(0x1004), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_false(s2_map(&pt, gpa(0x100000), hpa(0x1000), 0x800, S2_MEM_NORMAL, S2_PERM_RW));
    assert_false(s2_map(&pt, gpa(0x100000), hpa(0x1000), 0, S2_MEM_NORMAL, S2_PERM_RW));
    /* out of the IPA space, wrapping, output beyond 48 bits */
    assert_false(s2_map(&pt, gpa(S2_IPA_LIMIT - PAGE_SIZE), hpa(0x1000), 2 * PAGE_SIZE,
                        S2_MEM_NORMAL, S2_PERM_RW));
    assert_false(s2_map(&pt, gpa(S2_IPA_LIMIT), hpa(0x1000), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_false(
        s2_map(&pt, gpa(~0ull & PAGE_MASK), hpa(0x1000), 2 * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_false(s2_map(&pt, gpa(0x100000), hpa(1ull << 48), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    /* permissions: none, write-only, unknown bits; unknown type */
    assert_false(
        s2_map(&pt, gpa(0x100000), hpa(0x1000), PAGE_SIZE, S2_MEM_NORMAL, (enum s2_perm)0));
    assert_false(s2_map(&pt, gpa(0x100000), hpa(0x1000), PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_W));
    assert_false(
        s2_map(&pt, gpa(0x100000), hpa(0x1000), PAGE_SIZE, S2_MEM_NORMAL, (enum s2_perm)9));
    assert_false(s2_map(&pt, gpa(0x100000), hpa(0x1000), PAGE_SIZE, (enum s2_mem)7, S2_PERM_RW));
    assert_null(s2_leaf(&pt, gpa(0x100000)));
    assert_int_equal(pt.mapped_pages, 16);
    assert_int_equal(pt.table_pages, tables);
    /* the highest page of the IPA space is fine */
    assert_true(s2_map(&pt, gpa(S2_IPA_LIMIT - PAGE_SIZE), hpa(0x1000), PAGE_SIZE, S2_MEM_NORMAL,
                       S2_PERM_RW));
    assert_non_null(s2_leaf(&pt, gpa(S2_IPA_LIMIT - 1)));
}

static void test_map_crosses_tables(void **state)
{
    (void)state;
    /* 3 pages across a 1 GiB boundary: two level-2 and two level-3 tables */
    uint64_t ipa = (1ull << 30) - PAGE_SIZE;
    assert_true(s2_map(&pt, gpa(ipa), hpa(HOST_BASE), 3 * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_int_equal(pt.table_pages, 2 + 2 + 2);
    for (unsigned i = 0; i < 3; i++) {
        uint64_t *e = s2_leaf(&pt, gpa(ipa + i * PAGE_SIZE));
        assert_non_null(e);
        assert_int_equal(oa(*e), HOST_BASE + i * PAGE_SIZE);
    }
    /* 4 MiB + 8 KiB from a 2 MiB boundary minus one page: 4 level-3 tables, the first (and
     * the level-2 table) already there from the mapping above */
    assert_true(s2_map(&pt, gpa(RAM_BASE + (2ull << 20) - PAGE_SIZE), hpa(HOST_BASE),
                       (4ull << 20) + 2 * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_int_equal(pt.table_pages, 6 + 3);
    assert_int_equal(pt.mapped_pages, 3 + 1024 + 2);
}

static void test_map_out_of_memory(void **state)
{
    (void)state;
    /* level 2 + first level 3 table succeed, the second level 3 table fails */
    fake_pages_fail_after = 2;
    assert_false(s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), 4ull << 20, S2_MEM_NORMAL, S2_PERM_RW));
    assert_int_equal(pt.mapped_pages, 0);
    assert_null(s2_leaf(&pt, gpa(RAM_BASE)));
    assert_null(s2_leaf(&pt, gpa(RAM_BASE + (2ull << 20))));
    fake_pages_fail_after = -1;
    assert_true(s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), 4ull << 20, S2_MEM_NORMAL, S2_PERM_RW));
    assert_int_equal(pt.mapped_pages, 1024);
}

static void test_unmap(void **state)
{
    (void)state;
    assert_true(
        s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), 8 * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RW));
    assert_true(s2_unmap(&pt, gpa(RAM_BASE + 2 * PAGE_SIZE), 3 * PAGE_SIZE));
    assert_int_equal(tlb_stub.flush_all, 1);
    assert_int_equal(pt.mapped_pages, 5);
    assert_non_null(s2_leaf(&pt, gpa(RAM_BASE + PAGE_SIZE)));
    assert_null(s2_leaf(&pt, gpa(RAM_BASE + 2 * PAGE_SIZE)));
    assert_null(s2_leaf(&pt, gpa(RAM_BASE + 4 * PAGE_SIZE)));
    assert_non_null(s2_leaf(&pt, gpa(RAM_BASE + 5 * PAGE_SIZE)));
    /* nothing there: no flush */
    assert_true(s2_unmap(&pt, gpa(RAM_BASE + 2 * PAGE_SIZE), 3 * PAGE_SIZE));
    assert_true(s2_unmap(&pt, gpa(0x7000000000ull), 1ull << 30));
    assert_int_equal(tlb_stub.flush_all, 1);
    assert_false(s2_unmap(&pt, gpa(RAM_BASE + 1), PAGE_SIZE));
    assert_false(s2_unmap(&pt, gpa(S2_IPA_LIMIT), PAGE_SIZE));
    /* the hole can be mapped again */
    assert_true(s2_map(&pt, gpa(RAM_BASE + 2 * PAGE_SIZE), hpa(0x1000), 3 * PAGE_SIZE,
                       S2_MEM_NORMAL, S2_PERM_R));
    assert_int_equal(pt.mapped_pages, 8);
}

static void test_vtcr_vttbr(void **state)
{
    (void)state;
    uint64_t v = s2_vtcr_value(48, false);
    assert_int_equal(bits_get(v, 5, 0), 24);
    assert_int_equal(bits_get(v, 7, 6), 1);
    assert_int_equal(bits_get(v, 9, 8), 1);
    assert_int_equal(bits_get(v, 11, 10), 1);
    assert_int_equal(bits_get(v, 13, 12), 3);
    assert_int_equal(bits_get(v, 15, 14), 0);
    assert_int_equal(bits_get(v, 18, 16), 5);
    assert_int_equal(bits_get(v, 19, 19), 0);
    assert_int_equal(bits_get(v, 22, 21), 0);
    assert_int_equal(bits_get(v, 31, 31), 1);
    assert_int_equal(s2_vtcr_value(48, true), v | BIT(21) | BIT(22));
    assert_int_equal(bits_get(s2_vtcr_value(52, false), 18, 16), 5);
    assert_int_equal(bits_get(s2_vtcr_value(44, false), 18, 16), 4);
    assert_int_equal(bits_get(s2_vtcr_value(42, false), 18, 16), 3);
    assert_int_equal(bits_get(s2_vtcr_value(40, false), 18, 16), 2);
    assert_int_equal(bits_get(s2_vtcr_value(36, false), 18, 16), 1);
    assert_int_equal(bits_get(s2_vtcr_value(32, false), 18, 16), 0);
    /* PARange encodings */
    assert_int_equal(s2_vtcr_value(5, false), v);
    assert_int_equal(bits_get(s2_vtcr_value(6, false), 18, 16), 5);
    assert_int_equal(bits_get(s2_vtcr_value(2, false), 18, 16), 2);
    assert_int_equal(bits_get(s2_vtcr_value(0, false), 18, 16), 0);

    uint64_t t = s2_vttbr_value(&pt, 5);
    assert_int_equal(t & S2_DESC_OA_MASK, hpa_raw(pt.root));
    assert_int_equal(t >> 48, 5);
    assert_int_equal(t & 1, 0);
}

#define NP 1500u /* range of the dirty tests: 3 level-3 tables, not 2 MiB aligned */
#define RBASE (RAM_BASE + 0x100000)

static void map_range(void)
{
    assert_true(
        s2_map(&pt, gpa(RBASE), hpa(HOST_BASE), NP * PAGE_SIZE, S2_MEM_NORMAL, S2_PERM_RWX));
    tlb_stub_reset();
}

static uint64_t *page_desc(unsigned i)
{
    uint64_t *e = s2_leaf(&pt, gpa(RBASE + (uint64_t)i * PAGE_SIZE));
    assert_non_null(e);
    return e;
}

static void test_wrprotect_and_mkwrite(void **state)
{
    (void)state;
    map_range();
    assert_int_equal(s2_range_wrprotect(&pt, gpa(RBASE), NP, false), NP);
    assert_int_equal(tlb_stub.flush_all, 1);
    for (unsigned i = 0; i < NP; i++) {
        uint64_t d = *page_desc(i);
        assert_false(d & S2_DESC_S2AP_W);
        assert_true(d & S2_DESC_S2AP_R);
        assert_false(d & S2_DESC_DBM);
        assert_int_equal(oa(d), HOST_BASE + (uint64_t)i * PAGE_SIZE);
    }
    /* nothing changes the second time: no flush */
    assert_int_equal(s2_range_wrprotect(&pt, gpa(RBASE), NP, false), NP);
    assert_int_equal(tlb_stub.flush_all, 1);

    assert_int_equal(s2_range_wrprotect(&pt, gpa(RBASE), NP, true), NP);
    assert_int_equal(tlb_stub.flush_all, 2);
    for (unsigned i = 0; i < NP; i++) {
        assert_true(*page_desc(i) & S2_DESC_DBM);
    }

    assert_int_equal(s2_range_mkwrite(&pt, gpa(RBASE), NP), NP);
    assert_int_equal(tlb_stub.flush_all, 3);
    for (unsigned i = 0; i < NP; i++) {
        uint64_t d = *page_desc(i);
        assert_true(d & S2_DESC_S2AP_W);
        assert_false(d & S2_DESC_DBM);
    }
    /* the range may cover holes; pages outside it are untouched */
    assert_int_equal(s2_range_wrprotect(&pt, gpa(RBASE - 8 * PAGE_SIZE), 10, false), 2);
    assert_false(*page_desc(1) & S2_DESC_S2AP_W);
    assert_true(*page_desc(2) & S2_DESC_S2AP_W);
    /* bad ranges do nothing */
    assert_int_equal(s2_range_wrprotect(&pt, gpa(RBASE + 1), 4, false), 0);
    assert_int_equal(s2_range_wrprotect(&pt, gpa(RBASE), 0, false), 0);
}

static void test_page_mkwrite(void **state)
{
    (void)state;
    map_range();
    s2_range_wrprotect(&pt, gpa(RBASE), NP, true);
    bool was = true;
    assert_true(s2_page_mkwrite(&pt, gpa(RBASE + 7 * PAGE_SIZE + 0x10), &was));
    assert_false(was);
    assert_int_equal(tlb_stub.flush_ipa, 1);
    assert_int_equal(tlb_stub.last_ipa, RBASE + 7 * PAGE_SIZE);
    uint64_t d = *page_desc(7);
    assert_true(d & S2_DESC_S2AP_W);
    assert_true(d & S2_DESC_DBM); /* DBM kept: collect sees the page as dirty */
    assert_false(*page_desc(6) & S2_DESC_S2AP_W);
    /* already writable (stale TLB entry): still flushed */
    assert_true(s2_page_mkwrite(&pt, gpa(RBASE + 7 * PAGE_SIZE), &was));
    assert_true(was);
    assert_int_equal(tlb_stub.flush_ipa, 2);
    assert_false(s2_page_mkwrite(&pt, gpa(RBASE + NP * PAGE_SIZE), NULL));
    assert_int_equal(tlb_stub.flush_ipa, 2);
}

static void test_collect_dbm(void **state)
{
    (void)state;
    map_range();
    s2_range_wrprotect(&pt, gpa(RBASE), NP, true);
    tlb_stub_reset();
    uint64_t bits[(NP + 63) / 64] = {0};
    assert_int_equal(s2_collect_dbm(&pt, gpa(RBASE), NP, bits), 0);
    assert_int_equal(tlb_stub.flush_all, 0);
    assert_true(tlb_stub.barrier >= 1);

    /* the "hardware" dirties some pages: first, last, table edges, a run */
    static const unsigned dirty[] = {0, 1, 2, 63, 64, 255, 256, 767, 768, 1000, 1001, 1499};
    for (unsigned k = 0; k < ARRAY_SIZE(dirty); k++) {
        *page_desc(dirty[k]) |= S2_DESC_S2AP_W;
    }
    /* a writable page without DBM is not dirty-tracked */
    *page_desc(500) = (*page_desc(500) & ~S2_DESC_DBM) | S2_DESC_S2AP_W;
    /* Counting changes nothing and skips pages already known dirty. */
    uint64_t known[(NP + 63) / 64] = {0};
    assert_int_equal(s2_count_dbm(&pt, gpa(RBASE), NP, known), ARRAY_SIZE(dirty));
    known[0] = BIT(1) | BIT(40);
    assert_int_equal(s2_count_dbm(&pt, gpa(RBASE), NP, known), ARRAY_SIZE(dirty) - 1);
    assert_int_equal(tlb_stub.flush_all, 0);
    assert_true(*page_desc(1000) & S2_DESC_S2AP_W);
    bits[0] = BIT(40); /* ORed into, not overwritten */
    assert_int_equal(s2_collect_dbm(&pt, gpa(RBASE), NP, bits), ARRAY_SIZE(dirty));
    assert_int_equal(tlb_stub.flush_all, 1);
    for (unsigned i = 0; i < NP; i++) {
        bool want = i == 40;
        for (unsigned k = 0; k < ARRAY_SIZE(dirty); k++) {
            want = want || dirty[k] == i;
        }
        assert_int_equal((bits[i / 64] >> (i % 64)) & 1, want);
        if (i != 500) {
            assert_false(*page_desc(i) & S2_DESC_S2AP_W);
            assert_true(*page_desc(i) & S2_DESC_DBM);
        }
    }
    /* a range not starting on a table boundary, with runs that are not multiples of 4 */
    *page_desc(1) |= S2_DESC_S2AP_W;
    *page_desc(2) |= S2_DESC_S2AP_W;
    *page_desc(1498) |= S2_DESC_S2AP_W;
    *page_desc(1499) |= S2_DESC_S2AP_W;
    uint64_t sub[(NP + 63) / 64] = {0};
    assert_int_equal(s2_collect_dbm(&pt, gpa(RBASE + PAGE_SIZE), NP - 2, sub), 3);
    assert_int_equal(tlb_stub.flush_all, 2);
    assert_int_equal(sub[0], BIT(0) | BIT(1));
    assert_int_equal(sub[1497 / 64], BIT(1497 % 64));
    assert_true(*page_desc(1499) & S2_DESC_S2AP_W);
    *page_desc(1499) &= ~S2_DESC_S2AP_W;
    /* collected pages are clean again */
    memset(bits, 0, sizeof(bits));
    assert_int_equal(s2_collect_dbm(&pt, gpa(RBASE), NP, bits), 0);
    assert_int_equal(tlb_stub.flush_all, 2);
    for (unsigned w = 0; w < ARRAY_SIZE(bits); w++) {
        assert_int_equal(bits[w], 0);
    }
}

static void test_reprotect_bits(void **state)
{
    (void)state;
    map_range();
    s2_range_wrprotect(&pt, gpa(RBASE), NP, false);
    uint64_t bits[(NP + 63) / 64] = {0};
    static const unsigned pages[] = {3, 64, 511, 512, 1023, 1024, 1499};
    for (unsigned k = 0; k < ARRAY_SIZE(pages); k++) {
        s2_page_mkwrite(&pt, gpa(RBASE + (uint64_t)pages[k] * PAGE_SIZE), NULL);
        bits[pages[k] / 64] |= 1ull << (pages[k] % 64);
    }
    bits[NP / 64] |= 1ull << (NP % 64 + 1); /* past the range: ignored */
    tlb_stub_reset();
    assert_int_equal(s2_reprotect_bits(&pt, gpa(RBASE), NP, bits, false), ARRAY_SIZE(pages));
    assert_int_equal(tlb_stub.flush_all, 1);
    for (unsigned i = 0; i < NP; i++) {
        assert_false(*page_desc(i) & (S2_DESC_S2AP_W | S2_DESC_DBM));
    }
    /* nothing writable any more: no flush; dbm=true sets DBM on the named pages only */
    assert_int_equal(s2_reprotect_bits(&pt, gpa(RBASE), NP, bits, true), 0);
    assert_int_equal(tlb_stub.flush_all, 1);
    assert_true(*page_desc(64) & S2_DESC_DBM);
    assert_false(*page_desc(65) & S2_DESC_DBM);
}

/* Host timing of a clean DBM scan and a WP rearm, per GiB of guest RAM (informational). */
static void test_scan_cost(void **state)
{
    (void)state;
    const uint64_t npages = (1ull << 30) >> PAGE_SHIFT;
    assert_true(s2_map(&pt, gpa(RAM_BASE), hpa(HOST_BASE), 1ull << 30, S2_MEM_NORMAL, S2_PERM_RWX));
    s2_range_wrprotect(&pt, gpa(RAM_BASE), npages, true);
    uint64_t *bits = calloc(npages / 64, sizeof(uint64_t));
    assert_non_null(bits);
    struct timespec t0, t1;
    const int reps = 20;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++) {
        /* 1% of the pages dirty */
        for (uint64_t p = 0; p < npages; p += 100) {
            *s2_leaf(&pt, gpa(RAM_BASE + p * PAGE_SIZE)) |= S2_DESC_S2AP_W;
        }
        assert_int_equal(s2_collect_dbm(&pt, gpa(RAM_BASE), npages, bits), (npages + 99) / 100);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us =
        ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / reps;
    printf("  s2 host: DBM harvest of 1 GiB, 1%% dirty (incl. dirtying): %.0f us\n", us);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++) {
        assert_int_equal(s2_collect_dbm(&pt, gpa(RAM_BASE), npages, bits), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / reps;
    printf("  s2 host: DBM scan of 1 GiB, clean: %.0f us\n", us);
    free(bits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init, setup),
        cmocka_unit_test_setup(test_map_normal_descriptors, setup),
        cmocka_unit_test_setup(test_map_perms_and_device, setup),
        cmocka_unit_test_setup(test_map_fwb_encoding, setup),
        cmocka_unit_test_setup(test_unmapped_gives_null, setup),
        cmocka_unit_test_setup(test_map_refusals, setup),
        cmocka_unit_test_setup(test_map_crosses_tables, setup),
        cmocka_unit_test_setup(test_map_out_of_memory, setup),
        cmocka_unit_test_setup(test_unmap, setup),
        cmocka_unit_test_setup(test_vtcr_vttbr, setup),
        cmocka_unit_test_setup(test_wrprotect_and_mkwrite, setup),
        cmocka_unit_test_setup(test_page_mkwrite, setup),
        cmocka_unit_test_setup(test_collect_dbm, setup),
        cmocka_unit_test_setup(test_reprotect_bits, setup),
        cmocka_unit_test_setup(test_scan_cost, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
