/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM interface of the COLO engine: everything colo/ may do to a guest. The board glue
 * implements it over struct vm, the dirty log and the vmstate stream; host tests implement it
 * over an array. All calls are made from the engine's context (on the board: the hypervisor,
 * between guest exits, single pCPU), never concurrently with each other.
 */
#ifndef COLO_VM_H
#define COLO_VM_H

#include <colo/port.h>

struct colo_vm {
    /** Stops the guest's vCPUs (idempotent). RAM and state are stable until resume. */
    void (*pause)(void *ctx);
    /** Lets the guest run again (idempotent). */
    void (*resume)(void *ctx);
    /** Guest RAM size in pages of COLO_PAGE_SIZE; page numbers are 0 .. ram_pages - 1. */
    uint64_t (*ram_pages)(void *ctx);
    /**
     * Copies page pfn (< ram_pages) into buf (COLO_PAGE_SIZE bytes). Guest paused, or between
     * two of its exits (pre-copy reads pages while the guest runs; the dirty log catches
     * whatever it writes afterwards).
     */
    void (*read_page)(void *ctx, uint64_t pfn, void *buf);
    /** Overwrites page pfn (< ram_pages) with buf. Guest paused. */
    void (*write_page)(void *ctx, uint64_t pfn, const void *buf);
    /** Starts dirty logging: from now every page counts as clean. False if impossible. Primary. */
    bool (*log_start)(void *ctx);
    /** Stops dirty logging. Primary only. */
    void (*log_stop)(void *ctx);
    /**
     * ORs into bitmap (one bit per page, (ram_pages + 63) / 64 words) the pages written since
     * the previous harvest and re-arms logging; returns how many. Guest paused. Primary only.
     */
    uint64_t (*harvest)(void *ctx, uint64_t *bitmap);
    /** Writes the device-state stream into buf; returns its length, 0 if cap is too small. */
    size_t (*save_state)(void *ctx, void *buf, size_t cap);
    /**
     * Validates the whole stream first, then applies it; returns false (and has changed
     * nothing) if it is invalid. Guest paused.
     */
    bool (*load_state)(void *ctx, const void *buf, size_t len);
    /**
     * Pages dirtied since the last harvest, without harvesting (may over-count; never
     * under-counts by more than the writes of the current guest slice). Primary only.
     */
    uint64_t (*dirty_count)(void *ctx);
    /** Hash (colo_page_hash) of page pfn as it is now. Guest paused. */
    uint32_t (*page_hash)(void *ctx, uint64_t pfn);
    /**
     * Optional: names the place at byte off of a device-state stream (e.g. "section VGIC +0x40")
     * into out, for divergence reports. NULL: the report gives the offset only.
     */
    void (*describe_state)(void *ctx, const void *buf, size_t len, size_t off, char *out,
                           size_t outlen);
    void *ctx;
};

#endif
