// SPDX-License-Identifier: Apache-2.0
// Guest-RAM cache maintenance (kernel/arch/arm64/cache.c) and the FEAT_S2FWB choice, against
// fake system registers: which lines are cleaned, to where, and when cleaning can be skipped
// because stage 2 forces write-back. Under TCG none of this is observable (no caches), so
// these tests are what checks it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arch/s2.h>
#include <arch/sysreg.h>
#include <cv/cache.h>
#include <cv/vm.h>

#include "fake_sysreg.h"

/* CTR_EL0 of a Cortex-A72 (DminLine 4: 64-byte lines, IDC clear) and of a Neoverse-N1-class
 * core (IDC set). */
#define CTR_A72 0x8444c004ull
#define CTR_IDC_SET (0x8444c004ull | (1ull << 28))

static struct vm vm;
static uint8_t *ram;
#define RAM_SIZE (64u * 1024u)
#define RAM_BASE 0x40000000ull

static int setup(void **st)
{
    (void)st;
    fake_sysreg_reset();
    fake_sysreg_set("ctr_el0", CTR_A72);
    if (!ram) {
        ram = aligned_alloc(4096, RAM_SIZE);
    }
    memset(&vm, 0, sizeof(vm));
    vm.ram.base = gpa(RAM_BASE);
    vm.ram.size = RAM_SIZE;
    vm.ram.hva = ram;
    return 0;
}

/* Every line from the one holding start to the one holding end-1, once each, in order. */
static void assert_lines(const char *op, uintptr_t start, size_t len, uintptr_t line, unsigned from)
{
    uintptr_t first = start & ~(line - 1);
    unsigned want = (unsigned)(((start + len + line - 1) / line) - first / line);
    unsigned got = 0;
    for (unsigned i = from; i < fake_cache_nops; i++) {
        if (strcmp(fake_cache_ops[i].op, op) != 0) {
            continue;
        }
        assert_int_equal(fake_cache_ops[i].va, first + (uintptr_t)got * line);
        got++;
    }
    assert_int_equal(got, want);
    assert_int_equal(fake_cache_dropped, 0);
}

static unsigned count_op(const char *op)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fake_cache_nops; i++) {
        n += strcmp(fake_cache_ops[i].op, op) == 0;
    }
    return n;
}

static void test_fwb_decision(void **st)
{
    (void)st;
    assert_false(s2_fwb_supported(0));             /* Cortex-A53/A57/A72, QEMU a72 */
    assert_true(s2_fwb_supported(1ull << 40));     /* Armv8.4+ with FEAT_S2FWB */
    assert_false(s2_fwb_supported(0xffull << 32)); /* neighbours (CCIDX, NV) only */
    assert_false(s2_fwb_supported(0xfull << 44));
    assert_true(s2_fwb_supported((1ull << 40) | 0x11111)); /* among other features */
}

static void test_clean_to_poc_lines(void **st)
{
    (void)st;
    /* Unaligned start and end: the partial lines at both ends are cleaned too. */
    cache_arch_clean_to_poc(ram + 100, 1000);
    assert_lines("cvac", (uintptr_t)ram + 100, 1000, 64, 0);
    assert_int_equal(count_op("cvau"), 0);
    fake_cache_reset();
    /* One byte: one line. Nothing: nothing. */
    cache_arch_clean_to_poc(ram + 63, 1);
    assert_int_equal(fake_cache_nops, 1);
    assert_int_equal(fake_cache_ops[0].va, (uintptr_t)ram);
    fake_cache_reset();
    cache_arch_clean_to_poc(ram, 0);
    assert_int_equal(fake_cache_nops, 0);
    /* The line size comes from CTR_EL0.DminLine: 16-byte lines. */
    fake_sysreg_set("ctr_el0", (CTR_A72 & ~(0xfull << 16)) | (2ull << 16));
    cache_arch_clean_to_poc(ram + 8, 4096);
    assert_lines("cvac", (uintptr_t)ram + 8, 4096, 16, 0);
}

/* Without FWB: a written page is cleaned to PoC, then the instruction cache invalidated. */
static void test_sync_without_fwb(void **st)
{
    (void)st;
    guest_mem_arch_sync(&vm, gpa(RAM_BASE + 4096), 4096);
    assert_lines("cvac", (uintptr_t)ram + 4096, 4096, 64, 0);
    assert_int_equal(count_op("cvau"), 0);
    assert_int_equal(count_op("iallu"), 1);
    assert_string_equal(fake_cache_ops[fake_cache_nops - 1].op, "iallu");
    /* Even where IDC says no PoU cleaning is needed for instruction fetch: PoC is. */
    fake_cache_reset();
    fake_sysreg_set("ctr_el0", CTR_IDC_SET);
    guest_mem_arch_sync(&vm, gpa(RAM_BASE), 8192);
    assert_lines("cvac", (uintptr_t)ram, 8192, 64, 0);
}

/* With FWB: no PoC cleaning; PoU cleaning for instruction fetch unless IDC. */
static void test_sync_with_fwb(void **st)
{
    (void)st;
    vm.arch.s2.fwb = true;
    guest_mem_arch_sync(&vm, gpa(RAM_BASE), 4096);
    assert_int_equal(count_op("cvac"), 0);
    assert_lines("cvau", (uintptr_t)ram, 4096, 64, 0);
    assert_int_equal(count_op("iallu"), 1);
    fake_cache_reset();
    fake_sysreg_set("ctr_el0", CTR_IDC_SET);
    guest_mem_arch_sync(&vm, gpa(RAM_BASE), 4096);
    assert_int_equal(count_op("cvac") + count_op("cvau"), 0);
    assert_int_equal(count_op("iallu"), 1);
}

/* Outside guest RAM, or empty: nothing (never maintenance on someone else's memory). */
static void test_sync_outside_ram(void **st)
{
    (void)st;
    guest_mem_arch_sync(&vm, gpa(RAM_BASE + RAM_SIZE - 64), 128);
    guest_mem_arch_sync(&vm, gpa(RAM_BASE - 4096), 4096);
    guest_mem_arch_sync(&vm, gpa(RAM_BASE), 0);
    assert_int_equal(fake_cache_nops, 0);
}

/* What failover and vm_boot use: all of RAM, every line. */
static void test_sync_guest_code_all_ram(void **st)
{
    (void)st;
    guest_mem_arch_sync(&vm, vm.ram.base, vm.ram.size);
    assert_lines("cvac", (uintptr_t)ram, RAM_SIZE, 64, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fwb_decision, setup),
        cmocka_unit_test_setup(test_clean_to_poc_lines, setup),
        cmocka_unit_test_setup(test_sync_without_fwb, setup),
        cmocka_unit_test_setup(test_sync_with_fwb, setup),
        cmocka_unit_test_setup(test_sync_outside_ram, setup),
        cmocka_unit_test_setup(test_sync_guest_code_all_ram, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
