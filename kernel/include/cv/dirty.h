/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dirty-page logging of guest RAM: the heart of COLO. The log is a bitmap with one bit per
 * 4 KiB guest page. Two mechanisms fill it (chosen at start; the arch does the work through
 * the dirty_arch_* hooks of cv/vm.h):
 *  - DIRTY_WP: the second-stage tables map RAM read-only; the first write to a page per epoch
 *              faults, the fault handler marks the page and makes it writable again.
 *  - DIRTY_HW: the hardware records writes itself (arm64: FEAT_HAFDBS stage-2 dirty state, the
 *              DBM bit; Intel: PML); harvest collects what it recorded. A write fault can
 *              still happen (QEMU raises one when a stage-1 table walk would have to set both
 *              dirty states), and it is handled as in DIRTY_WP, so no write is ever missed.
 * All functions run in hypervisor context with the vCPU stopped (single pCPU: between exits).
 */
#ifndef CV_DIRTY_H
#define CV_DIRTY_H

#include <cv/types.h>

struct vm;

enum dirty_mode {
    DIRTY_OFF,
    DIRTY_WP,
    DIRTY_HW,
};

struct dirty_log {
    enum dirty_mode mode;
    uint64_t npages;      /**< guest RAM pages covered */
    uint64_t *fault_bits; /**< pages marked by write faults since the last harvest */
    uint64_t faults;      /**< write faults taken, total */
    uint64_t harvests;    /**< harvests done, total */
    uint64_t last_count;  /**< pages in the last harvest */
    uint64_t inflight;    /**< 1 + page whose write faulted on the last exit; 0 if none */
    uint64_t last_fault;  /**< 1 + page of the latest write fault since the last harvest */
    /**
     * After a harvest: 1 + the page of the last write fault before it. If the guest was
     * stopped by an interrupt taken before the faulted store re-executed, that page is
     * reported while still unwritten (a harmless superset); its store lands in the next epoch.
     */
    uint64_t harvest_inflight;
    /** Who runs the log ("colo" while protecting); NULL: free for the `dirty` command. */
    const char *owner;
};

static inline size_t dirty_bitmap_words(uint64_t npages)
{
    return (size_t)((npages + 63) / 64);
}

const char *dirty_mode_name(enum dirty_mode m);
/** True when the CPU and board support the mode. */
bool dirty_mode_supported(struct vm *vm, enum dirty_mode m);
/** Starts logging; every page counts as clean from now on. False (logged) on failure. */
bool dirty_log_start(struct vm *vm, enum dirty_mode mode);
/**
 * Harvest-and-rearm: ORs into out (dirty_bitmap_words() words, caller-zeroed or not) the pages
 * written since the previous harvest (or start), and re-protects them, atomically with respect
 * to the guest (it is stopped). Returns the number of pages harvested.
 */
uint64_t dirty_log_harvest(struct vm *vm, uint64_t *out);
/**
 * Pages dirty since the last harvest, without harvesting: the checkpoint engine's trigger for
 * an early checkpoint. Asks the hardware's log in DIRTY_HW mode (cheap: see docs/benchmarks.md).
 */
uint64_t dirty_log_pending(struct vm *vm);
/** Stops logging and restores ordinary writable mappings. */
void dirty_log_stop(struct vm *vm);
/** The vCPU is about to run: a faulted write is no longer in flight. Hot path, inline. */
static inline void dirty_log_guest_entering(struct dirty_log *d)
{
    d->inflight = 0;
}
/** Called by the arch fault handler for a write to a logged page. Returns false if not logged. */
bool dirty_log_fault(struct vm *vm, gpa_t addr);
/**
 * Marks [addr, addr+len) dirty for a write the hypervisor itself made to guest RAM (device
 * models: virtio buffers and rings), which stage 2 cannot see. Outside RAM: ignored.
 */
void dirty_log_mark(struct vm *vm, gpa_t addr, uint64_t len);

#endif
