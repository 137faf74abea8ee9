// SPDX-License-Identifier: Apache-2.0
// The dirty log's fault path against the writes that bypass it: a device model's write into a
// page whose faulted store is held back as in flight, a DBM page the hardware dirtied before it
// faulted, and an instruction fetch whose stage-1 walk faults on a write-protected table page
// (arch/s2_abort.h). Each case used to lose a write from the next checkpoint, or crash the
// guest. Real stage-2 tables (s2.c), the real dirty log (dirty.c over s2_dirty.c).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arch/s2.h>
#include <arch/s2_abort.h>
#include <arch/sysreg.h>
#include <cv/dirty.h>
#include <cv/vm.h>

#include "console_stub.h"
#include "fake_pages.h"
#include "support/tlb_stub.h"

#define NPAGES 128u
#define RAM_BASE 0x40000000ull
#define WORDS ((NPAGES + 63) / 64)

static struct vm vm;

static int setup(void **state)
{
    (void)state;
    tlb_stub_reset();
    fake_pages_fail_after = -1;
    memset(&vm, 0, sizeof(vm));
    vm.state = VM_RUNNING;
    vm.ram.base = gpa(RAM_BASE);
    vm.ram.size = NPAGES * PAGE_SIZE;
    vm.ram.hva = aligned_alloc(PAGE_SIZE, NPAGES * PAGE_SIZE);
    assert_non_null(vm.ram.hva);
    vm.ram.host = hpa((uint64_t)(uintptr_t)vm.ram.hva);
    assert_true(s2_init(&vm.arch.s2));
    assert_true(
        s2_map(&vm.arch.s2, vm.ram.base, vm.ram.host, vm.ram.size, S2_MEM_NORMAL, S2_PERM_RWX));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dirty_log_stop(&vm);
    free(vm.ram.hva);
    return 0;
}

static gpa_t page_gpa(unsigned p)
{
    return gpa(RAM_BASE + (uint64_t)p * PAGE_SIZE);
}

static uint64_t *leaf(unsigned p)
{
    uint64_t *e = s2_leaf(&vm.arch.s2, page_gpa(p));
    assert_non_null(e);
    return e;
}

static bool bit(const uint64_t *bits, unsigned p)
{
    return (bits[p / 64] >> (p % 64)) & 1;
}

/* Starts logging and harvests once, so every page is clean and write-protected. */
static void start_clean(enum dirty_mode mode)
{
    assert_true(dirty_log_start(&vm, mode));
    uint64_t out[WORDS] = {0};
    dirty_log_harvest(&vm, out);
    for (unsigned p = 0; p < NPAGES; p++) {
        assert_false(*leaf(p) & S2_DESC_S2AP_W);
    }
}

/*
 * WP: the guest's store to P faults; before the vCPU re-enters, the main loop's virtio-net RX
 * writes a buffer into P (dirty_log_mark) and a checkpoint harvests. The device write happened:
 * P must be in that checkpoint, whether the store has retried or not.
 */
static void test_wp_device_write_after_fault(void **state)
{
    (void)state;
    for (int mode = DIRTY_WP; mode <= DIRTY_HW; mode++) {
        start_clean((enum dirty_mode)mode);
        assert_true(dirty_log_fault(&vm, gpa(gpa_raw(page_gpa(9)) + 0x80)));
        dirty_log_mark(&vm, gpa(gpa_raw(page_gpa(9)) + 0x100), 64);
        uint64_t out[WORDS] = {0};
        assert_int_equal(dirty_log_harvest(&vm, out), 1);
        assert_true(bit(out, 9));
        /* Reported and re-protected: a later write to P faults into the next epoch again. */
        assert_false(*leaf(9) & S2_DESC_S2AP_W);
        dirty_log_stop(&vm);
    }
}

/* A device write spanning pages cancels the hold-back when P is any page it covers. */
static void test_wp_device_write_spanning_fault_page(void **state)
{
    (void)state;
    start_clean(DIRTY_WP);
    assert_true(dirty_log_fault(&vm, page_gpa(21)));
    dirty_log_mark(&vm, gpa(gpa_raw(page_gpa(20)) + 0xf00), 2 * PAGE_SIZE);
    uint64_t out[WORDS] = {0};
    assert_int_equal(dirty_log_harvest(&vm, out), 3);
    assert_true(bit(out, 20) && bit(out, 21) && bit(out, 22));
}

/*
 * The hold-back itself stays: a device write into another page does not make the faulted,
 * still unexecuted store count as done (the log stays exact, not just conservative).
 */
static void test_wp_device_write_elsewhere_keeps_holdback(void **state)
{
    (void)state;
    start_clean(DIRTY_WP);
    assert_true(dirty_log_fault(&vm, page_gpa(9)));
    dirty_log_mark(&vm, page_gpa(10), 8);
    uint64_t out[WORDS] = {0};
    assert_int_equal(dirty_log_harvest(&vm, out), 1);
    assert_true(bit(out, 10));
    assert_false(bit(out, 9));
    assert_false(*leaf(9) & S2_DESC_S2AP_W); /* re-protected: the retried store faults again */
}

/* A device write before the fault: the page was dirty already, the fault cannot hold it back. */
static void test_wp_device_write_before_fault(void **state)
{
    (void)state;
    start_clean(DIRTY_WP);
    dirty_log_mark(&vm, page_gpa(5), 8);
    assert_true(dirty_log_fault(&vm, page_gpa(5)));
    uint64_t out[WORDS] = {0};
    assert_int_equal(dirty_log_harvest(&vm, out), 1);
    assert_true(bit(out, 5));
}

/*
 * DBM: the hardware dirtied P (set S2AP[1] through DBM) and then P takes a permission fault
 * anyway (QEMU's fault case, or a stale read-only TLB entry). Its bit in fault_bits was clear,
 * but the page is not clean: the harvest's scan must report it.
 */
static void test_dbm_hw_dirty_then_fault(void **state)
{
    (void)state;
    start_clean(DIRTY_HW);
    assert_true(*leaf(33) & S2_DESC_DBM);
    *leaf(33) |= S2_DESC_S2AP_W; /* the CPU's dirty-state update for the guest's write */
    assert_true(dirty_log_fault(&vm, page_gpa(33)));
    uint64_t out[WORDS] = {0};
    assert_int_equal(dirty_log_harvest(&vm, out), 1);
    assert_true(bit(out, 33));
    assert_false(*leaf(33) & S2_DESC_S2AP_W);
}

/* ESR for an abort from a lower EL: ec, IL set, iss. */
static uint64_t esr(uint32_t ec, uint64_t iss)
{
    return (uint64_t)ec << 26 | ESR_IL | iss;
}

#define ISS_S1PTW (1u << 7)
#define ISS_WNR (1u << 6)
#define FSC_PERM_L3 0x0fu
#define FSC_TRANS_L3 0x07u
#define FSC_AF_L3 0x0bu

static uint64_t hpfar_of(gpa_t ipa)
{
    return (gpa_raw(ipa) >> 12) << 4;
}

/*
 * A fetch whose stage-1 walk must set the access flag in a table page that logging made
 * read-only: EC 0x20 with S1PTW. It is a write by the walk, so it is logged and the page made
 * writable, with no abort for the guest; the next harvest (after the retry) reports the page.
 */
static void test_s1ptw_iabt_logged(void **state)
{
    (void)state;
    start_clean(DIRTY_WP);
    gpa_t table = page_gpa(70);
    uint64_t far = 0x0000aaaad0001234ull; /* the user VA fetched; unrelated to the table */
    uint64_t e = esr(EC_IABT_LOW, ISS_S1PTW | FSC_PERM_L3);
    gpa_t ipa = gpa(0);
    assert_true(s2_abort_dirty_candidate(e, hpfar_of(table), far, &ipa));
    assert_int_equal(ALIGN_DOWN(gpa_raw(ipa), PAGE_SIZE), gpa_raw(table));
    uint64_t faults = vm.dirty.faults;
    assert_true(s2_abort_dirty_fault(&vm, e, hpfar_of(table), far));
    assert_int_equal(vm.dirty.faults, faults + 1);
    assert_true(*leaf(70) & S2_DESC_S2AP_W);
    dirty_log_guest_entering(&vm.dirty); /* the fetch retries; the walk writes the flag */
    uint64_t out[WORDS] = {0};
    assert_int_equal(dirty_log_harvest(&vm, out), 1);
    assert_true(bit(out, 70));
}

/* What is and is not a dirty-log fault; logging off or outside RAM goes back to the caller. */
static void test_abort_classifier(void **state)
{
    (void)state;
    gpa_t ipa;
    uint64_t h = hpfar_of(page_gpa(3));
    /* data side: a store, or any access's walk, on a permission fault */
    assert_true(s2_abort_dirty_candidate(esr(EC_DABT_LOW, ISS_WNR | FSC_PERM_L3), h, 0x18, &ipa));
    assert_int_equal(gpa_raw(ipa), gpa_raw(page_gpa(3)) + 0x18);
    assert_true(s2_abort_dirty_candidate(esr(EC_DABT_LOW, ISS_S1PTW | 0x0d), h, 0, &ipa));
    /* a load's own permission fault, translation or access-flag faults: not the log's */
    assert_false(s2_abort_dirty_candidate(esr(EC_DABT_LOW, FSC_PERM_L3), h, 0, &ipa));
    assert_false(s2_abort_dirty_candidate(esr(EC_DABT_LOW, ISS_WNR | FSC_TRANS_L3), h, 0, &ipa));
    assert_false(s2_abort_dirty_candidate(esr(EC_DABT_LOW, ISS_WNR | FSC_AF_L3), h, 0, &ipa));
    /* instruction side: only the walk writes; a fetch's own fault is the guest's problem */
    assert_true(s2_abort_dirty_candidate(esr(EC_IABT_LOW, ISS_S1PTW | 0x0e), h, 0, &ipa));
    assert_false(s2_abort_dirty_candidate(esr(EC_IABT_LOW, FSC_PERM_L3), h, 0, &ipa));
    assert_false(s2_abort_dirty_candidate(esr(EC_IABT_LOW, ISS_S1PTW | FSC_TRANS_L3), h, 0, &ipa));
    /* other classes (bit 6 set in an IABT ISS is RES0, not WnR) */
    assert_false(s2_abort_dirty_candidate(esr(EC_IABT_LOW, ISS_WNR | FSC_PERM_L3), h, 0, &ipa));
    assert_false(s2_abort_dirty_candidate(esr(EC_DABT_CUR, ISS_WNR | FSC_PERM_L3), h, 0, &ipa));
    assert_false(s2_abort_dirty_candidate(esr(EC_HVC64, 0), h, 0, &ipa));
    /* logging off, or an IPA outside RAM: not handled, the caller injects */
    uint64_t e = esr(EC_IABT_LOW, ISS_S1PTW | FSC_PERM_L3);
    assert_false(s2_abort_dirty_fault(&vm, e, h, 0));
    start_clean(DIRTY_WP);
    assert_false(s2_abort_dirty_fault(&vm, e, hpfar_of(page_gpa(NPAGES)), 0));
    assert_true(s2_abort_dirty_fault(&vm, e, h, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wp_device_write_after_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wp_device_write_spanning_fault_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wp_device_write_elsewhere_keeps_holdback, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wp_device_write_before_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dbm_hw_dirty_then_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s1ptw_iabt_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_classifier, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
