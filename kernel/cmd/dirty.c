// SPDX-License-Identifier: Apache-2.0
// The `dirty` shell command and the dirty-logging exactness test (cv/dirty_verify.h). Kept apart
// from dirty.c so that the logging core links into host unit tests without the shell.
#include <string.h>

#include <cv/dirty.h>
#include <cv/dirty_verify.h>
#include <cv/hash.h>
#include <cv/hv.h>
#include <cv/log.h>
#include <cv/page.h>
#include <cv/shell.h>
#include <cv/timer.h>
#include <cv/vm.h>

#define VERIFY_DEFAULT_REGION 0x41000000ull
#define VERIFY_DEFAULT_PAGES 4096ull
#define VERIFY_MAX_REPORTS 32u            /* MISSED/EXTRA lines printed per run; all are counted */
#define VERIFY_COPY_HEADROOM (8ull << 20) /* pool left over before a full RAM copy is used */

/*
 * Buffers kept from one use to the next: the page allocator cannot free, and guest RAM never
 * changes size, so each is allocated once.
 */
static uint64_t *harvest_bits;
static uint64_t harvest_words;
static uint64_t *seen_bits; /* pages whose content changed at some epoch of the run */
static uint64_t seen_words;
static uint64_t *suspect_bits; /* pages outside the region harvested while unchanged */
static uint64_t suspect_words;
static uint8_t *shadow_copy;
static uint64_t shadow_copy_size;
static uint64_t *shadow_hash;
static uint64_t shadow_hash_pages;

/* A zeroed bitmap for npages pages in *buf (of *have words), allocated on first use. */
static uint64_t *zeroed_bitmap(uint64_t **buf, uint64_t *have, uint64_t npages)
{
    uint64_t words = dirty_bitmap_words(npages);
    if (words > *have) {
        *buf = page_alloc_buf(words * sizeof(uint64_t));
        *have = *buf ? words : 0;
    }
    if (*buf) {
        memset(*buf, 0, (size_t)words * sizeof(uint64_t));
    }
    return *buf;
}

static uint64_t *get_bits(uint64_t npages)
{
    return zeroed_bitmap(&harvest_bits, &harvest_words, npages);
}

static bool bit_test(const uint64_t *bits, uint64_t i)
{
    return (bits[i / 64] >> (i % 64)) & 1;
}

static void bit_set(uint64_t *bits, uint64_t i)
{
    bits[i / 64] |= 1ull << (i % 64);
}

/* Sets up the shadow; returns false when there is no memory even for hashes. */
static bool shadow_setup(const struct vm *vm, uint64_t npages, bool *copy)
{
    uint64_t size = vm->ram.size;
    if (!shadow_copy && page_pool_free() >= size + VERIFY_COPY_HEADROOM) {
        shadow_copy = (uint8_t *)page_alloc_buf(size);
        shadow_copy_size = shadow_copy ? size : 0;
    }
    if (shadow_copy && shadow_copy_size >= size) {
        *copy = true;
        memcpy(shadow_copy, vm->ram.hva, (size_t)size);
        return true;
    }
    if (!shadow_hash || shadow_hash_pages < npages) {
        shadow_hash = page_alloc_buf(npages * sizeof(uint64_t));
        shadow_hash_pages = shadow_hash ? npages : 0;
    }
    if (!shadow_hash) {
        return false;
    }
    *copy = false;
    for (uint64_t p = 0; p < npages; p++) {
        shadow_hash[p] = page_hash(vm->ram.hva + p * PAGE_SIZE);
    }
    return true;
}

/* True if page p differs from the shadow; brings the shadow up to date. */
static bool page_changed(const struct vm *vm, uint64_t p, bool copy)
{
    const uint8_t *now = vm->ram.hva + p * PAGE_SIZE;
    if (copy) {
        uint8_t *old = shadow_copy + p * PAGE_SIZE;
        if (memcmp(old, now, PAGE_SIZE) == 0) {
            return false;
        }
        memcpy(old, now, PAGE_SIZE);
        return true;
    }
    uint64_t h = page_hash(now);
    if (h == shadow_hash[p]) {
        return false;
    }
    shadow_hash[p] = h;
    return true;
}

int dirty_verify_run(struct vm *vm, unsigned epochs, unsigned ms_per_epoch, gpa_t region,
                     uint64_t region_pages)
{
    struct dirty_log *d = &vm->dirty;
    if (d->mode == DIRTY_OFF) {
        cv_printf("dirty: verify: logging is off\n");
        return -1;
    }
    if (vm->state != VM_RUNNING) {
        cv_printf("dirty: verify: guest not running\n");
        return -1;
    }
    uint64_t npages = d->npages;
    uint64_t *bits = get_bits(npages);
    uint64_t *seen = zeroed_bitmap(&seen_bits, &seen_words, npages);
    uint64_t *suspect = zeroed_bitmap(&suspect_bits, &suspect_words, npages);
    if (!bits || !seen || !suspect) {
        cv_printf("dirty: verify: out of memory\n");
        return -1;
    }
    /* Start from a clean log; everything written before is in the shadow taken next. */
    dirty_log_harvest(vm, bits);
    bool copy = false;
    if (!shadow_setup(vm, npages, &copy)) {
        cv_printf("dirty: verify: out of memory\n");
        return -1;
    }

    uint64_t rlo = gpa_raw(region), rhi = rlo + region_pages * PAGE_SIZE;
    uint64_t base = gpa_raw(vm->ram.base);
    uint64_t total = 0, missed = 0, extra = 0, deferred = 0;
    uint64_t pending = 0; /* 1 + page reported before its faulted store ran; 0 if none */
    unsigned reports = 0;
    bool aborted = false;
    cv_printf("dirty: verify start mode=%s pages=%llu shadow=%s\n", dirty_mode_name(d->mode),
              (unsigned long long)npages, copy ? "copy" : "hash");
    for (unsigned e = 1; e <= epochs; e++) {
        vm_run_for_ms(vm, ms_per_epoch);
        if (vm->state != VM_RUNNING || d->mode == DIRTY_OFF) {
            cv_printf("dirty: verify: guest stopped or logging ended at epoch %u\n", e);
            aborted = true;
            break;
        }
        bits = get_bits(npages);
        total += dirty_log_harvest(vm, bits);
        uint64_t inflight = d->harvest_inflight;
        for (uint64_t p = 0; p < npages; p++) {
            bool harvested = bit_test(bits, p);
            bool changed = page_changed(vm, p, copy);
            uint64_t a = base + p * PAGE_SIZE;
            if (pending == p + 1) {
                /* Reported one epoch early; its store must have landed by now. */
                pending = 0;
                if (!changed && !(harvested && inflight == p + 1)) {
                    extra++;
                    if (reports++ < VERIFY_MAX_REPORTS) {
                        cv_printf("dirty: EXTRA page gpa=0x%llx epoch=%u (never written)\n",
                                  (unsigned long long)a, e);
                    }
                }
            }
            if (harvested && !changed && inflight == p + 1) {
                /*
                 * The guest's last write fault was on this page and its store had not run yet
                 * when the guest was stopped (an interrupt was taken first). Reporting it is
                 * right for a checkpoint; the check moves to the next epoch.
                 */
                pending = p + 1;
                deferred++;
                continue;
            }
            if (changed) {
                bit_set(seen, p);
            }
            if (changed && !harvested) {
                missed++;
                if (reports++ < VERIFY_MAX_REPORTS) {
                    cv_printf("dirty: MISSED page gpa=0x%llx epoch=%u\n", (unsigned long long)a, e);
                }
            } else if (harvested && !changed && a >= rlo && a < rhi) {
                extra++;
                if (reports++ < VERIFY_MAX_REPORTS) {
                    cv_printf("dirty: EXTRA page gpa=0x%llx epoch=%u\n", (unsigned long long)a, e);
                }
            } else if (harvested && !changed) {
                bit_set(suspect, p);
            }
        }
    }
    /*
     * Outside the region the guest may store equal values (its stack, flags), so one unchanged
     * report proves nothing; a page reported whose content never changed in the whole run is
     * taken as never written: an over-reporting log. (A guest storing the same bytes to a page
     * for the whole run would show here too; the test guest's workload does not.)
     */
    for (uint64_t p = 0; !aborted && p < npages; p++) {
        if (bit_test(suspect, p) && !bit_test(seen, p)) {
            extra++;
            if (reports++ < VERIFY_MAX_REPORTS) {
                cv_printf("dirty: EXTRA page gpa=0x%llx (outside the region, never changed)\n",
                          (unsigned long long)(base + p * PAGE_SIZE));
            }
        }
    }
    if (reports > VERIFY_MAX_REPORTS) {
        cv_printf("dirty: (%u more reports not printed)\n", reports - VERIFY_MAX_REPORTS);
    }
    bool pass = !aborted && missed == 0 && extra == 0;
    cv_printf("dirty: verify mode=%s epochs=%u harvested=%llu missed=%llu extra=%llu result=%s "
              "deferred=%llu\n",
              dirty_mode_name(d->mode), epochs, (unsigned long long)total,
              (unsigned long long)missed, (unsigned long long)extra, pass ? "PASS" : "FAIL",
              (unsigned long long)deferred);
    return pass ? 0 : 1;
}

static bool parse_mode(const char *s, enum dirty_mode *m)
{
    if (strcmp(s, "wp") == 0) {
        *m = DIRTY_WP;
    } else if (strcmp(s, "dbm") == 0) {
        *m = DIRTY_HW;
    } else {
        return false;
    }
    return true;
}

/* `dirty auto`: harvest every few milliseconds while the guest runs, as checkpoints will. */
static uint64_t auto_harvested;

static void auto_harvest(void *ctx)
{
    struct vm *vm = ctx;
    uint64_t *bits = get_bits(vm->dirty.npages);
    if (bits && vm->dirty.mode != DIRTY_OFF) {
        auto_harvested += dirty_log_harvest(vm, bits);
    }
}

static int cmd_auto(struct vm *vm, const char *arg)
{
    if (strcmp(arg, "off") == 0) {
        hv_periodic_stop(HV_PERIODIC_DIRTY);
        cv_printf("dirty: auto off harvested=%llu\n", (unsigned long long)auto_harvested);
        return 0;
    }
    uint64_t ms;
    if (!shell_parse_u64(arg, &ms) || ms == 0 || ms > 60000) {
        cv_printf("usage: dirty auto <ms 1..60000>|off\n");
        return 1;
    }
    if (vm->dirty.mode == DIRTY_OFF) {
        cv_printf("dirty: not logging; 'dirty start wp|dbm' first\n");
        return 1;
    }
    auto_harvested = 0;
    hv_periodic_start(HV_PERIODIC_DIRTY, (uint64_t)ms * 1000, auto_harvest, vm);
    cv_printf("dirty: auto every %llu ms\n", (unsigned long long)ms);
    return 0;
}

static int cmd_dirty(int argc, char **argv);

#define DIRTY_USAGE                                                                                \
    "dirty start wp|dbm | stop | status | harvest | auto <ms>|off | verify wp|dbm <epochs> <ms> "  \
    "[region_gpa region_pages]"
SHELL_CMD(dirty, {"dirty", DIRTY_USAGE, "guest RAM dirty-page logging", cmd_dirty});

static int cmd_verify(struct vm *vm, int argc, char **argv)
{
    enum dirty_mode mode;
    uint64_t epochs, ms, region = VERIFY_DEFAULT_REGION, pages = VERIFY_DEFAULT_PAGES;
    if ((argc != 5 && argc != 7) || !parse_mode(argv[2], &mode) ||
        !shell_parse_u64(argv[3], &epochs) || !shell_parse_u64(argv[4], &ms) || epochs == 0 ||
        epochs > 1000000 || ms > 3600000) {
        return shell_usage(&shell_cmd_dirty);
    }
    if (argc == 7 && (!shell_parse_u64(argv[5], &region) || !shell_parse_u64(argv[6], &pages))) {
        return shell_usage(&shell_cmd_dirty);
    }
    if (!IS_ALIGNED(region, PAGE_SIZE) || pages == 0 || pages > (vm->ram.size >> PAGE_SHIFT) ||
        !vm_gpa_in_ram(vm, gpa(region), pages * PAGE_SIZE)) {
        cv_printf("dirty: verify region must be page aligned and inside guest RAM\n");
        return 1;
    }
    enum dirty_mode was = vm->dirty.mode;
    if (was != mode) {
        dirty_log_stop(vm);
        if (!dirty_log_start(vm, mode)) {
            cv_printf("dirty: cannot start mode %s\n", dirty_mode_name(mode));
            if (was != DIRTY_OFF) {
                dirty_log_start(vm, was);
            }
            return 1;
        }
    }
    int r = dirty_verify_run(vm, (unsigned)epochs, (unsigned)ms, gpa(region), pages);
    if (was != mode) {
        dirty_log_stop(vm);
        if (was != DIRTY_OFF) {
            dirty_log_start(vm, was);
        }
    }
    return r == 0 ? 0 : 1;
}

static int cmd_dirty(int argc, char **argv)
{
    struct vm *vm = vm_current();
    if (argc < 2) {
        return shell_usage(&shell_cmd_dirty);
    }
    if (!vm) {
        cv_printf("dirty: no VM\n");
        return 1;
    }
    struct dirty_log *d = &vm->dirty;
    const char *sub = argv[1];
    if (d->owner && strcmp(sub, "status") != 0) {
        /* Restarting or harvesting the log under the checkpoint engine would lose pages. */
        cv_printf("dirty: the log is in use by %s; only 'dirty status' is allowed\n", d->owner);
        return 1;
    }
    if (strcmp(sub, "start") == 0) {
        enum dirty_mode mode;
        if (argc != 3 || !parse_mode(argv[2], &mode)) {
            return shell_usage(&shell_cmd_dirty);
        }
        if (!dirty_log_start(vm, mode)) {
            cv_printf("dirty: start %s failed\n", dirty_mode_name(mode));
            return 1;
        }
        cv_printf("dirty: started mode=%s\n", dirty_mode_name(mode));
        return 0;
    }
    if (strcmp(sub, "stop") == 0 && argc == 2) {
        hv_periodic_stop(HV_PERIODIC_DIRTY);
        dirty_log_stop(vm);
        cv_printf("dirty: stopped\n");
        return 0;
    }
    if (strcmp(sub, "status") == 0 && argc == 2) {
        cv_printf("dirty: mode=%s faults=%llu harvests=%llu last=%llu pages=%llu\n",
                  dirty_mode_name(d->mode), (unsigned long long)d->faults,
                  (unsigned long long)d->harvests, (unsigned long long)d->last_count,
                  (unsigned long long)d->npages);
        return 0;
    }
    if (strcmp(sub, "harvest") == 0 && argc == 2) {
        if (d->mode == DIRTY_OFF) {
            cv_printf("dirty: not logging\n");
            return 1;
        }
        uint64_t *bits = get_bits(d->npages);
        if (!bits) {
            cv_printf("dirty: out of memory\n");
            return 1;
        }
        uint64_t t0 = time_now_ns();
        uint64_t n = dirty_log_harvest(vm, bits);
        uint64_t t1 = time_now_ns();
        cv_printf("dirty: harvested=%llu ns=%llu\n", (unsigned long long)n,
                  (unsigned long long)(t1 - t0));
        return 0;
    }
    if (strcmp(sub, "auto") == 0 && argc == 3) {
        return cmd_auto(vm, argv[2]);
    }
    if (strcmp(sub, "verify") == 0) {
        return cmd_verify(vm, argc, argv);
    }
    return shell_usage(&shell_cmd_dirty);
}
