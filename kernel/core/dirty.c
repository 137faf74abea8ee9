// SPDX-License-Identifier: Apache-2.0
// Dirty-page logging of guest RAM (cv/dirty.h), independent of the architecture: the work on
// the second-stage tables is done by the dirty_arch_* hooks. Hypervisor context, vCPU stopped, so
// harvest and rearm are atomic with respect to the guest. docs/dirty-logging.md explains why no
// write can be missed.
#include <string.h>

#include <cv/dirty.h>
#include <cv/log.h>
#include <cv/page.h>
#include <cv/vm.h>

/* Without FP/SIMD the compiler's popcount would be a libgcc call; this is as fast. */
static unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

const char *dirty_mode_name(enum dirty_mode m)
{
    switch (m) {
    case DIRTY_OFF:
        return "off";
    case DIRTY_WP:
        return "wp";
    case DIRTY_HW:
        return "dbm";
    default:
        return "?";
    }
}

bool dirty_mode_supported(struct vm *vm, enum dirty_mode m)
{
    if (m == DIRTY_OFF) {
        return true;
    }
    if (m != DIRTY_WP && m != DIRTY_HW) {
        return false;
    }
    return dirty_arch_supported(vm, m);
}

bool dirty_log_start(struct vm *vm, enum dirty_mode mode)
{
    struct dirty_log *d = &vm->dirty;
    if (mode != DIRTY_WP && mode != DIRTY_HW) {
        log_err("dirty: bad mode %d", (int)mode);
        return false;
    }
    if (d->mode != DIRTY_OFF) {
        log_err("dirty: already logging (%s)", dirty_mode_name(d->mode));
        return false;
    }
    if (!dirty_mode_supported(vm, mode)) {
        log_err("dirty: mode %s not supported by this CPU", dirty_mode_name(mode));
        return false;
    }
    uint64_t npages = vm->ram.size >> PAGE_SHIFT;
    if (npages == 0) {
        log_err("dirty: guest has no RAM");
        return false;
    }
    size_t bytes = dirty_bitmap_words(npages) * sizeof(uint64_t);
    /* The allocator cannot free, so the bitmap is kept across stop/start of the same RAM. */
    if (!d->fault_bits || d->npages != npages) {
        uint64_t *b = page_alloc_buf(bytes);
        if (!b) {
            log_err("dirty: no memory for a %zu-byte bitmap", bytes);
            return false;
        }
        d->fault_bits = b;
    }
    memset(d->fault_bits, 0, bytes);
    d->npages = npages;
    d->faults = 0;
    d->harvests = 0;
    d->last_count = 0;
    /* Mode first: a fault taken later must find logging on (nothing runs in between anyway). */
    d->mode = mode;
    if (!dirty_arch_arm_all(vm, mode)) {
        log_err("dirty: cannot write-protect guest RAM (not all of it mapped?)");
        dirty_arch_disarm(vm);
        d->mode = DIRTY_OFF;
        return false;
    }
    return true;
}

uint64_t dirty_log_harvest(struct vm *vm, uint64_t *out)
{
    struct dirty_log *d = &vm->dirty;
    if (d->mode == DIRTY_OFF) {
        return 0;
    }
    /*
     * DBM: the hardware's dirty pages join the faulted ones (QEMU faults instead of setting
     * the dirty state in some cases, see cv/dirty.h); collect re-protects what it finds.
     */
    if (d->mode == DIRTY_HW) {
        dirty_arch_collect(vm, d->fault_bits);
    }
    size_t words = dirty_bitmap_words(d->npages);
    uint64_t count = 0;
    /*
     * A page whose write faulted on the guest's last exit has not been written yet: the store
     * re-executes after resume. It is re-protected with the others but not reported, so the
     * retried store lands in the next epoch's log (faulting again, or setting the DBM dirty
     * state), and the log stays exact instead of conservative.
     */
    d->harvest_inflight = d->last_fault;
    d->last_fault = 0;
    uint64_t skip_word = ~0ull, skip_mask = 0;
    if (d->inflight) {
        skip_word = (d->inflight - 1) / 64;
        skip_mask = 1ull << ((d->inflight - 1) % 64);
        d->inflight = 0;
    }
    for (size_t i = 0; i < words; i++) {
        uint64_t w = d->fault_bits[i];
        if (i == skip_word) {
            w &= ~skip_mask;
        }
        if (w) {
            out[i] |= w;
            count += popcount64(w);
        }
    }
    if (count) {
        /* Re-protect before clearing: the bits name the pages to rearm. */
        dirty_arch_rearm(vm, d->mode, d->fault_bits);
        for (size_t i = 0; i < words; i++) {
            d->fault_bits[i] = 0;
        }
    }
    d->harvests++;
    d->last_count = count;
    return count;
}

uint64_t dirty_log_pending(struct vm *vm)
{
    struct dirty_log *d = &vm->dirty;
    if (d->mode == DIRTY_OFF) {
        return 0;
    }
    uint64_t n = 0;
    if (d->mode == DIRTY_HW) {
        /*
         * Only counts the hardware's dirty states: collecting them would re-protect those
         * pages and flush the TLB at every poll, slowing the guest's writes for nothing.
         */
        n = dirty_arch_count(vm, d->fault_bits);
    }
    for (size_t i = 0; i < dirty_bitmap_words(d->npages); i++) {
        n += popcount64(d->fault_bits[i]);
    }
    return n;
}

void dirty_log_stop(struct vm *vm)
{
    struct dirty_log *d = &vm->dirty;
    if (d->mode == DIRTY_OFF) {
        return;
    }
    dirty_arch_disarm(vm);
    d->mode = DIRTY_OFF;
}

bool dirty_log_fault(struct vm *vm, gpa_t addr)
{
    struct dirty_log *d = &vm->dirty;
    if (d->mode == DIRTY_OFF || !vm_gpa_in_ram(vm, addr, 1)) {
        return false;
    }
    uint64_t i = (gpa_raw(addr) - gpa_raw(vm->ram.base)) >> PAGE_SHIFT;
    uint64_t bit = 1ull << (i % 64);
    bool was_dirty = (d->fault_bits[i / 64] & bit) != 0;
    d->fault_bits[i / 64] |= bit;
    d->last_fault = i + 1;
    /*
     * A page already dirty must be reported by the next harvest even if this store has not
     * re-executed by then: only a page dirty through this fault alone may be held back as in
     * flight. Already dirty means its bit was set (a device model wrote it, or an earlier fault)
     * or its descriptor was already writable (DBM: the hardware dirtied it; the harvest's scan
     * would find it, and the hold-back would drop it). dirty_log_mark() cancels the hold-back
     * for writes made after this fault.
     */
    bool was_writable = dirty_arch_unprotect(vm, gpa(ALIGN_DOWN(gpa_raw(addr), PAGE_SIZE)));
    d->inflight = (was_dirty || was_writable) ? 0 : i + 1;
    d->faults++;
    return true;
}

void dirty_log_mark(struct vm *vm, gpa_t addr, uint64_t len)
{
    struct dirty_log *d = &vm->dirty;
    if (d->mode == DIRTY_OFF || len == 0 || !vm_gpa_in_ram(vm, addr, len)) {
        return;
    }
    uint64_t first = (gpa_raw(addr) - gpa_raw(vm->ram.base)) >> PAGE_SHIFT;
    uint64_t last = (gpa_raw(addr) + len - 1 - gpa_raw(vm->ram.base)) >> PAGE_SHIFT;
    for (uint64_t i = first; i <= last; i++) {
        d->fault_bits[i / 64] |= 1ull << (i % 64);
    }
    /*
     * A device write into the page whose store is held back as in flight (between a fault exit
     * and the next entry the main loop serves the NICs) has happened: the next harvest must
     * report the page, or it would re-protect it, clear its bit and lose that write.
     */
    if (d->inflight && d->inflight - 1 >= first && d->inflight - 1 <= last) {
        d->inflight = 0;
    }
}
