// SPDX-License-Identifier: Apache-2.0
// Dirty logging (kernel/core/dirty.c over the arm64 hooks in s2_dirty.c and s2.c) against a
// simulated guest: a 128-page VM whose writes go through the real stage-2 descriptors and a
// modelled TLB, with write-protect faults, DBM hardware updates, and QEMU's fault-instead-of-
// dirty-state case. A missing TLB flush would let a write through a stale writable entry go
// unlogged, and the exactness checks would catch it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arch/s2.h>
#include <cv/dirty.h>
#include <cv/hv.h>
#include <cv/dirty_verify.h>
#include <cv/log.h>
#include <cv/shell.h>
#include <cv/vm.h>

#include "console_stub.h"
#include "fake_pages.h"
#include "support/tlb_stub.h"

#define NPAGES 128u
#define RAM_BASE 0x40000000ull
#define WORDS ((NPAGES + 63) / 64)

static struct vm vm;

/*
 * The tests' own generator (xorshift32): libc's rand() differs between C libraries, and the
 * sequences below are chosen to hit or miss particular pages.
 */
static uint32_t rng_state = 1;
static void test_srand(unsigned seed)
{
    rng_state = seed * 2654435761u + 1u;
    if (rng_state == 0) {
        rng_state = 1;
    }
}
static int test_rand(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return (int)(x >> 1);
}
/* The modelled TLB: per page nothing cached, a read-only or a writable translation. */
enum { TLB_NONE, TLB_RO, TLB_RW };
static uint8_t tlb[NPAGES];
static bool truth[NPAGES]; /* pages the guest wrote since the last harvest */
static unsigned write_seq;

static void on_flush(bool all, uint64_t ipa)
{
    if (all) {
        memset(tlb, TLB_NONE, sizeof(tlb));
    } else if (ipa >= RAM_BASE && ipa < RAM_BASE + NPAGES * PAGE_SIZE) {
        tlb[(ipa - RAM_BASE) >> PAGE_SHIFT] = TLB_NONE;
    }
}

static int setup(void **state)
{
    (void)state;
    tlb_stub_reset();
    tlb_stub_on_flush = on_flush;
    fake_pages_fail_after = -1;
    memset(&vm, 0, sizeof(vm));
    memset(tlb, TLB_NONE, sizeof(tlb));
    memset(truth, 0, sizeof(truth));
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
    free(vm.ram.hva);
    tlb_stub_on_flush = NULL;
    return 0;
}

static uint64_t *leaf(unsigned p)
{
    uint64_t *e = s2_leaf(&vm.arch.s2, gpa(RAM_BASE + (uint64_t)p * PAGE_SIZE));
    assert_non_null(e);
    return e;
}

/*
 * One guest store to page p. qemu_fault: in DBM mode, fault instead of setting the dirty state
 * (what QEMU does when a stage-1 walk would also have to update). Returns the faults taken.
 */
static unsigned guest_write(unsigned p, bool qemu_fault)
{
    unsigned faults = 0;
    uint64_t off = ((uint64_t)test_rand() % PAGE_SIZE) & ~7ull;
    for (;;) {
        uint64_t *e = leaf(p);
        bool ok;
        if (tlb[p] != TLB_NONE) {
            ok = tlb[p] == TLB_RW; /* a cached translation wins, stale or not */
        } else {
            ok = *e & S2_DESC_S2AP_W;
            if (!ok && (*e & S2_DESC_DBM) && tlb_stub.hw_dirty && !qemu_fault) {
                *e |= S2_DESC_S2AP_W; /* the hardware's dirty state update */
                ok = true;
            }
            tlb[p] = ok ? TLB_RW : TLB_RO;
        }
        if (ok) {
            write_seq++;
            memcpy(vm.ram.hva + (uint64_t)p * PAGE_SIZE + off, &write_seq, sizeof(write_seq));
            truth[p] = true;
            return faults;
        }
        /* stage-2 permission fault; the arch handler passes the faulting IPA */
        assert_true(dirty_log_fault(&vm, gpa(RAM_BASE + (uint64_t)p * PAGE_SIZE + off)));
        dirty_log_guest_entering(&vm.dirty); /* the vCPU re-enters to retry the store */
        faults++;
        qemu_fault = false;
        assert_true(faults < 2); /* the retry must succeed */
    }
}

/* Harvests and checks the result is exactly the truth; clears the truth. */
static void harvest_check(bool prefill)
{
    uint64_t out[WORDS] = {0};
    uint64_t extra = 0;
    if (prefill) {
        extra = 1ull << (test_rand() % 64);
        out[0] = extra;
    }
    uint64_t n = dirty_log_harvest(&vm, out);
    uint64_t want = 0;
    for (unsigned p = 0; p < NPAGES; p++) {
        bool got = (out[p / 64] >> (p % 64)) & 1;
        bool pre = p < 64 && ((extra >> p) & 1);
        assert_int_equal(got, truth[p] || pre);
        want += truth[p];
    }
    assert_int_equal(n, want);
    assert_int_equal(vm.dirty.last_count, want);
    memset(truth, 0, sizeof(truth));
}

static void all_readonly(bool dbm)
{
    for (unsigned p = 0; p < NPAGES; p++) {
        uint64_t d = *leaf(p);
        assert_false(d & S2_DESC_S2AP_W);
        assert_int_equal(!!(d & S2_DESC_DBM), dbm);
    }
}

static void test_names_and_support(void **state)
{
    (void)state;
    assert_string_equal(dirty_mode_name(DIRTY_OFF), "off");
    assert_string_equal(dirty_mode_name(DIRTY_WP), "wp");
    assert_string_equal(dirty_mode_name(DIRTY_HW), "dbm");
    assert_true(dirty_mode_supported(&vm, DIRTY_WP));
    assert_true(dirty_mode_supported(&vm, DIRTY_HW));
    tlb_stub_mmfr1 = 1; /* HAFDBS = 1: access flag only */
    assert_false(dirty_mode_supported(&vm, DIRTY_HW));
    assert_true(dirty_mode_supported(&vm, DIRTY_WP));
    assert_false(dirty_log_start(&vm, DIRTY_HW));
    assert_int_equal(vm.dirty.mode, DIRTY_OFF);
    tlb_stub_mmfr1 = 0x2122; /* other fields don't matter */
    assert_true(dirty_mode_supported(&vm, DIRTY_HW));
}

static void test_wp_basic(void **state)
{
    (void)state;
    assert_int_equal(dirty_log_harvest(&vm, (uint64_t[WORDS]){0}), 0); /* off */
    assert_true(dirty_log_start(&vm, DIRTY_WP));
    assert_int_equal(vm.dirty.mode, DIRTY_WP);
    assert_int_equal(vm.dirty.npages, NPAGES);
    all_readonly(false);
    assert_int_equal(tlb_stub.set_hw_dirty_on, 0);
    assert_int_equal(guest_write(3, false), 1);
    assert_int_equal(guest_write(5, false), 1);
    assert_int_equal(guest_write(5, false), 0); /* already writable */
    assert_int_equal(guest_write(127, false), 1);
    assert_int_equal(vm.dirty.faults, 3);
    harvest_check(false);
    all_readonly(false);
    assert_int_equal(vm.dirty.harvests, 1);
    harvest_check(false); /* nothing new */
    assert_int_equal(vm.dirty.last_count, 0);
    /* written after a harvest: in the next one */
    assert_int_equal(guest_write(5, false), 1);
    harvest_check(true);
    assert_int_equal(vm.dirty.faults, 4);
    assert_int_equal(vm.dirty.harvests, 3);
    dirty_log_stop(&vm);
}

static void test_dbm_basic(void **state)
{
    (void)state;
    assert_true(dirty_log_start(&vm, DIRTY_HW));
    assert_true(tlb_stub.hw_dirty);
    all_readonly(true);
    assert_int_equal(guest_write(0, false), 0);
    assert_int_equal(guest_write(64, false), 0);
    assert_int_equal(guest_write(64, false), 0);
    assert_int_equal(vm.dirty.faults, 0);
    assert_int_equal(guest_write(100, true), 1); /* QEMU's fault instead of dirty state */
    assert_int_equal(vm.dirty.faults, 1);
    harvest_check(false);
    all_readonly(true);
    harvest_check(false);
    assert_int_equal(guest_write(64, true), 1);
    assert_int_equal(guest_write(65, false), 0);
    harvest_check(false);
    dirty_log_stop(&vm);
    assert_false(tlb_stub.hw_dirty);
}

static void random_epochs(enum dirty_mode mode, unsigned seed)
{
    test_srand(seed);
    assert_true(dirty_log_start(&vm, mode));
    uint64_t total = 0;
    for (unsigned e = 0; e < 1000; e++) {
        unsigned n = (unsigned)test_rand() % 48;
        /* sometimes a burst in one area, sometimes scattered */
        unsigned lo = (unsigned)test_rand() % NPAGES, span = 1 + (unsigned)test_rand() % NPAGES;
        for (unsigned i = 0; i < n; i++) {
            unsigned p = (test_rand() & 1) ? (lo + (unsigned)test_rand() % span) % NPAGES
                                           : (unsigned)test_rand() % NPAGES;
            guest_write(p, mode == DIRTY_HW && test_rand() % 5 == 0);
        }
        for (unsigned p = 0; p < NPAGES; p++) {
            total += truth[p];
        }
        harvest_check(e % 7 == 0);
    }
    assert_int_equal(vm.dirty.harvests, 1000);
    assert_true(total > 1000);
    dirty_log_stop(&vm);
}

static void test_random_wp(void **state)
{
    (void)state;
    random_epochs(DIRTY_WP, 1);
}

static void test_random_dbm(void **state)
{
    (void)state;
    random_epochs(DIRTY_HW, 2);
}

static void check_restored(void)
{
    assert_int_equal(vm.dirty.mode, DIRTY_OFF);
    for (unsigned p = 0; p < NPAGES; p++) {
        uint64_t d = *leaf(p);
        assert_true(d & S2_DESC_S2AP_W);
        assert_false(d & S2_DESC_DBM);
    }
    assert_false(dirty_log_fault(&vm, gpa(RAM_BASE)));
    assert_int_equal(dirty_log_harvest(&vm, (uint64_t[WORDS]){0}), 0);
    /* the guest writes freely again */
    assert_int_equal(guest_write(9, true), 0);
}

/* Hypervisor stores into guest RAM (device models) go through vm_write, which must log them. */
static void test_vm_write_marks(void **state)
{
    (void)state;
    /* the raw translation is read-only: a device model cannot write around vm_write */
    _Static_assert(_Generic(vm_gpa_to_hva(&vm, vm.ram.base, 1), const void * : 1, default : 0),
                   "vm_gpa_to_hva must return a const pointer");
    static const uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    for (enum dirty_mode m = DIRTY_WP; m <= DIRTY_HW; m++) {
        assert_true(dirty_log_start(&vm, m));
        uint64_t out[WORDS] = {0};
        dirty_log_harvest(&vm, out);
        memset(out, 0, sizeof(out));
        /* across the boundary of pages 4 and 5, one byte in page 9 */
        assert_true(vm_write(&vm, gpa(RAM_BASE + 5 * PAGE_SIZE - 8), data, sizeof(data)));
        assert_true(vm_write(&vm, gpa(RAM_BASE + 9 * PAGE_SIZE + 100), data, 1));
        /* leaving RAM: refused, nothing written or marked */
        vm.ram.hva[NPAGES * PAGE_SIZE - 1] = 0xee;
        assert_false(vm_write(&vm, gpa(RAM_BASE + NPAGES * PAGE_SIZE - 8), data, sizeof(data)));
        assert_int_equal(vm.ram.hva[NPAGES * PAGE_SIZE - 1], 0xee);
        assert_memory_equal(vm.ram.hva + 5 * PAGE_SIZE - 8, data, sizeof(data));
        uint8_t back[16];
        assert_true(vm_read(&vm, gpa(RAM_BASE + 5 * PAGE_SIZE - 8), back, sizeof(back)));
        assert_memory_equal(back, data, sizeof(data));
        assert_int_equal(dirty_log_harvest(&vm, out), 3);
        assert_int_equal(out[0], (1ull << 4) | (1ull << 5) | (1ull << 9));
        assert_int_equal(out[1], 0);
        dirty_log_stop(&vm);
    }
}

static void test_stop_restores(void **state)
{
    (void)state;
    for (int m = 0; m < 2; m++) {
        enum dirty_mode mode = m ? DIRTY_HW : DIRTY_WP;
        assert_true(dirty_log_start(&vm, mode));
        guest_write(1, false);
        guest_write(2, true);
        unsigned long flushes = tlb_stub.flush_all;
        dirty_log_stop(&vm);
        assert_true(tlb_stub.flush_all > flushes);
        assert_false(tlb_stub.hw_dirty);
        check_restored();
        dirty_log_stop(&vm); /* twice is fine */
        check_restored();
        memset(truth, 0, sizeof(truth));
    }
}

static void test_fault_outside_ram(void **state)
{
    (void)state;
    assert_true(dirty_log_start(&vm, DIRTY_WP));
    assert_false(dirty_log_fault(&vm, gpa(RAM_BASE - 1)));
    assert_false(dirty_log_fault(&vm, gpa(RAM_BASE + NPAGES * PAGE_SIZE)));
    assert_false(dirty_log_fault(&vm, gpa(0x09000000)));
    assert_false(dirty_log_fault(&vm, gpa(~0ull)));
    assert_int_equal(vm.dirty.faults, 0);
    assert_true(dirty_log_fault(&vm, gpa(RAM_BASE + NPAGES * PAGE_SIZE - 1)));
    assert_int_equal(vm.dirty.faults, 1);
    dirty_log_guest_entering(&vm.dirty); /* the store lands after re-entry */
    truth[NPAGES - 1] = true;
    harvest_check(false);
    dirty_log_stop(&vm);
    assert_false(dirty_log_fault(&vm, gpa(RAM_BASE)));
}

static void test_start_errors(void **state)
{
    (void)state;
    assert_false(dirty_log_start(&vm, DIRTY_OFF));
    assert_false(dirty_log_start(&vm, (enum dirty_mode)9));
    assert_true(dirty_log_start(&vm, DIRTY_WP));
    assert_false(dirty_log_start(&vm, DIRTY_HW)); /* already on */
    assert_int_equal(vm.dirty.mode, DIRTY_WP);
    dirty_log_stop(&vm);

    /* restart keeps the bitmap (the allocator has no free) and starts clean */
    unsigned long allocs = fake_pages_allocs;
    assert_true(dirty_log_start(&vm, DIRTY_HW));
    assert_int_equal(fake_pages_allocs, allocs);
    harvest_check(false);
    dirty_log_stop(&vm);

    /* a hole in guest RAM's mapping: refused, and left writable */
    assert_true(s2_unmap(&vm.arch.s2, gpa(RAM_BASE + 10 * PAGE_SIZE), PAGE_SIZE));
    assert_false(dirty_log_start(&vm, DIRTY_WP));
    assert_int_equal(vm.dirty.mode, DIRTY_OFF);
    assert_true(*leaf(11) & S2_DESC_S2AP_W);
}

static void test_start_no_memory(void **state)
{
    (void)state;
    fake_pages_fail_after = 0;
    assert_false(dirty_log_start(&vm, DIRTY_WP));
    assert_int_equal(vm.dirty.mode, DIRTY_OFF);
    assert_true(*leaf(0) & S2_DESC_S2AP_W);
    fake_pages_fail_after = -1;
}

/* ---- dirty_verify_run and the shell command (kernel/cmd/dirty.c) ---- */

#define REGION_FIRST 32u
#define REGION_PAGES 64u
#define REGION_WRITTEN 32u /* the workload writes the first half; the rest must never be logged */

static unsigned sabotage_missed; /* writes that bypass stage 2 in the next run */
static unsigned sabotage_same;   /* logged writes in the region that store the same bytes */
static unsigned runs;
static int64_t sabotage_over = -1; /* a page the log reports after each run, never written */
static unsigned out_prev = ~0u;    /* see vm_run_for_ms; reset by each command */

struct vm *vm_current(void)
{
    return &vm;
}

int shell_usage(const struct shell_cmd *cmd)
{
    cv_printf("usage: %s\n", cmd->usage);
    return 1;
}

/* The guest's workload: ms stores in the region (each changes its page), a few outside. */
/* `dirty auto` schedules through the main loop; the tests only check its argument handling. */
static hv_periodic_fn periodic_fn;
void hv_periodic_start(enum hv_periodic_id id, uint64_t period_us, hv_periodic_fn fn, void *ctx)
{
    (void)id;
    (void)period_us;
    (void)ctx;
    periodic_fn = fn;
}

void hv_periodic_stop(enum hv_periodic_id id)
{
    (void)id;
    periodic_fn = NULL;
}

void vm_run_for_ms(struct vm *v, unsigned ms)
{
    assert_ptr_equal(v, &vm);
    runs++;
    if (out_prev < REGION_FIRST) {
        /*
         * Outside the region, a store of what is already there (harvested, unchanged) to the
         * page the guest changed first in the previous epoch of this run, as a guest's stack gets.
         */
        uint8_t *b = vm.ram.hva + (uint64_t)out_prev * PAGE_SIZE;
        uint8_t keep[PAGE_SIZE];
        memcpy(keep, b, PAGE_SIZE);
        guest_write(out_prev, false);
        memcpy(b, keep, PAGE_SIZE);
    }
    for (unsigned i = 0; i < ms; i++) {
        /* two draws, sequenced: C leaves the order of arguments' evaluation open */
        unsigned p = REGION_FIRST + (unsigned)test_rand() % REGION_WRITTEN;
        bool qemu_fault = vm.dirty.mode == DIRTY_HW && test_rand() % 4 == 0;
        guest_write(p, qemu_fault);
        if (i % 8 == 0) {
            unsigned q = (unsigned)test_rand() % REGION_FIRST;
            guest_write(q, false);
            if (i == 0) {
                out_prev = q;
            }
        }
    }
    if (sabotage_over >= 0) {
        dirty_log_mark(&vm, gpa(RAM_BASE + (uint64_t)sabotage_over * PAGE_SIZE), 1);
    }
    if (sabotage_missed) {
        sabotage_missed--;
        vm.ram.hva[100 * PAGE_SIZE + 5]++; /* a write dirty logging cannot see */
    }
    if (sabotage_same) {
        sabotage_same--;
        unsigned p = REGION_FIRST + REGION_WRITTEN + 8;
        uint8_t *b = vm.ram.hva + (uint64_t)p * PAGE_SIZE;
        uint8_t keep[PAGE_SIZE];
        memcpy(keep, b, PAGE_SIZE);
        guest_write(p, false);
        memcpy(b, keep, PAGE_SIZE);
    }
    memset(truth, 0, sizeof(truth)); /* the verifier judges these runs, not harvest_check */
}

extern const struct shell_cmd __start_shell_cmds[], __stop_shell_cmds[];

static int run_cmd(const char *line)
{
    char buf[256], *argv[16];
    int argc = 0;
    snprintf(buf, sizeof(buf), "%s", line);
    for (char *t = strtok(buf, " "); t && argc < 16; t = strtok(NULL, " ")) {
        argv[argc++] = t;
    }
    for (const struct shell_cmd *c = __start_shell_cmds; c < __stop_shell_cmds; c++) {
        if (strcmp(c->name, argv[0]) == 0) {
            console_stub_clear();
            out_prev = ~0u;
            return c->fn(argc, argv);
        }
    }
    fail_msg("no command %s", argv[0]);
    return -1;
}

static bool out_has(const char *s)
{
    return strstr(console_stub_text(), s) != NULL;
}

static void prefill_ram(void)
{
    for (uint64_t i = 0; i < vm.ram.size; i++) {
        vm.ram.hva[i] = (uint8_t)(i * 7 + 1);
    }
}

static void test_verify_pass(void **state)
{
    (void)state;
    prefill_ram();
    test_srand(3);
    /* with little pool left the shadow is per-page hashes; it must be first (the copy, once
     * allocated, is kept) */
    fake_pages_pool_free = 1u << 20;
    assert_int_equal(run_cmd("dirty verify wp 20 50 0x40020000 64"), 0);
    assert_true(out_has("shadow=hash"));
    assert_true(out_has("dirty: verify mode=wp epochs=20 harvested="));
    assert_true(out_has("missed=0 extra=0 result=PASS"));
    assert_int_equal(vm.dirty.mode, DIRTY_OFF); /* it started logging, so it stopped it */
    fake_pages_pool_free = 1ull << 40;
    assert_int_equal(run_cmd("dirty verify dbm 20 50 0x40020000 64"), 0);
    assert_true(out_has("shadow=copy"));
    assert_true(out_has("dirty: verify mode=dbm epochs=20"));
    assert_true(out_has("missed=0 extra=0 result=PASS"));
    assert_false(out_has("harvested=0 "));
    /* logging already on in the same mode: left on */
    assert_int_equal(run_cmd("dirty start wp"), 0);
    assert_int_equal(run_cmd("dirty verify wp 5 20 0x40020000 64"), 0);
    assert_int_equal(vm.dirty.mode, DIRTY_WP);
    /* ... in the other mode: switched for the run, then back */
    assert_int_equal(run_cmd("dirty verify dbm 5 20 0x40020000 64"), 0);
    assert_int_equal(vm.dirty.mode, DIRTY_WP);
    assert_int_equal(run_cmd("dirty stop"), 0);
}

static void test_verify_detects(void **state)
{
    (void)state;
    prefill_ram();
    test_srand(4);
    sabotage_missed = 1;
    assert_int_equal(run_cmd("dirty verify wp 3 30 0x40020000 64"), 1);
    assert_true(out_has("dirty: MISSED page gpa=0x40064000 epoch=1"));
    assert_true(out_has("missed=1 extra=0 result=FAIL"));
    sabotage_same = 2;
    assert_int_equal(run_cmd("dirty verify dbm 3 30 0x40020000 64"), 1);
    assert_true(out_has("dirty: EXTRA page gpa=0x40048000 epoch=1"));
    assert_true(out_has("missed=0 extra=2 result=FAIL"));
    /* an over-reporting log: a page in the region's unwritten half, every epoch ... */
    sabotage_over = REGION_FIRST + REGION_WRITTEN + 20;
    assert_int_equal(run_cmd("dirty verify wp 3 30 0x40020000 64"), 1);
    assert_true(out_has("dirty: EXTRA page gpa=0x40054000 epoch=1"));
    assert_true(out_has("missed=0 extra=3 result=FAIL"));
    /* ... and one outside the region, which the guest never writes either */
    for (unsigned m = DIRTY_WP; m <= DIRTY_HW; m++) {
        sabotage_over = 110;
        assert_int_equal(run_cmd(m == DIRTY_WP ? "dirty verify wp 3 30 0x40020000 64"
                                               : "dirty verify dbm 3 30 0x40020000 64"),
                         1);
        assert_true(
            out_has("dirty: EXTRA page gpa=0x4006e000 (outside the region, never changed)"));
        assert_true(out_has("missed=0 extra=1 result=FAIL"));
    }
    sabotage_over = -1;
    assert_int_equal(run_cmd("dirty verify wp 3 30 0x40020000 64"), 0);
    assert_true(out_has("missed=0 extra=0 result=PASS"));
    /* the guest stopped: cannot run */
    vm.state = VM_STOPPED;
    assert_int_equal(run_cmd("dirty verify wp 3 30 0x40020000 64"), 1);
    assert_true(out_has("not running"));
}

static void test_shell_cmd(void **state)
{
    (void)state;
    assert_int_equal(run_cmd("dirty status"), 0);
    assert_true(out_has("mode=off faults=0 harvests=0 last=0"));
    assert_int_equal(run_cmd("dirty harvest"), 1);
    assert_true(out_has("not logging"));
    assert_int_equal(run_cmd("dirty start wp"), 0);
    assert_true(out_has("dirty: started mode=wp"));
    assert_int_equal(run_cmd("dirty start dbm"), 1);
    guest_write(7, false);
    guest_write(8, false);
    assert_int_equal(run_cmd("dirty harvest"), 0);
    assert_true(out_has("dirty: harvested=2 ns="));
    assert_int_equal(run_cmd("dirty status"), 0);
    assert_true(out_has("dirty: mode=wp faults=2 harvests=1 last=2"));
    assert_int_equal(run_cmd("dirty stop"), 0);
    assert_int_equal(vm.dirty.mode, DIRTY_OFF);
    static const char *const bad[] = {
        "dirty",
        "dirty start",
        "dirty start xx",
        "dirty start wp dbm",
        "dirty bogus",
        "dirty stop now",
        "dirty verify",
        "dirty verify wp",
        "dirty verify wp 3",
        "dirty verify xx 3 10",
        "dirty verify wp 0 10",
        "dirty verify wp 3x 10",
        "dirty verify wp 3 10 0x40020000",
        "dirty verify wp 3 10 0x4002000g 4",
        "dirty verify wp 99999999999999999999 10",
        "dirty verify wp 3 -1",
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(run_cmd(bad[i]), 1);
        assert_true(out_has("usage: dirty"));
    }
    /* regions outside RAM or misaligned */
    assert_int_equal(run_cmd("dirty verify wp 3 10 0x40020000 4096"), 1);
    assert_int_equal(run_cmd("dirty verify wp 3 10 0x40020001 4"), 1);
    assert_int_equal(run_cmd("dirty verify wp 3 10"), 1); /* default region: not in 512 KiB */
    assert_true(out_has("inside guest RAM"));
    assert_int_equal(vm.dirty.mode, DIRTY_OFF);
}

/*
 * A write fault is taken, then a harvest happens before the vCPU re-enters: the store has not
 * happened yet, so the page must not be reported now, and must be reported once it lands.
 */
static void test_inflight_write_not_reported_early(void **state)
{
    (void)state;
    for (int mode = DIRTY_WP; mode <= DIRTY_HW; mode++) {
        assert_true(dirty_log_start(&vm, (enum dirty_mode)mode));
        uint64_t out[WORDS] = {0};
        dirty_log_harvest(&vm, out);
        gpa_t a = gpa(RAM_BASE + 7 * PAGE_SIZE);
        assert_true(dirty_log_fault(&vm, a));
        memset(out, 0, sizeof(out));
        assert_int_equal(dirty_log_harvest(&vm, out), 0);
        assert_int_equal(out[0], 0);
        /* The vCPU re-enters and the store executes: it is logged for the next harvest. */
        dirty_log_guest_entering(&vm.dirty);
        memset(truth, 0, sizeof(truth));
        guest_write(7, false);
        harvest_check(false);
        dirty_log_stop(&vm);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inflight_write_not_reported_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_and_support, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wp_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dbm_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_wp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_dbm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vm_write_marks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_no_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_detects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shell_cmd, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
