/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host page allocator and the host-physical <-> hypervisor-virtual mapping. The hypervisor maps
 * host RAM at an offset given by the arch layer (identity on arm64), so the conversions are the
 * only place that knows it.
 */
#ifndef CV_PAGE_H
#define CV_PAGE_H

#include <cv/types.h>

/** Hypervisor-virtual pointer for host-physical address a. Any context. */
void *hpa_to_hva(hpa_t a);
/** Host-physical address of a hypervisor pointer into RAM. Any context. */
hpa_t hva_to_hpa(const void *p);

/** Hands [base, base+size) of host RAM to the allocator. Boot context, once. */
void page_pool_init(hpa_t base, uint64_t size);
/** Allocates 2^order zeroed, naturally aligned pages; returns hpa 0 when out of memory. */
hpa_t page_alloc(unsigned order);
/** Allocates size bytes (page multiple) aligned to align; zeroed. hpa 0 on failure. */
hpa_t page_alloc_contig(uint64_t size, uint64_t align);
/**
 * As page_alloc_contig, but not zeroed: for large buffers every byte of which is written before it
 * is read (zeroing guest RAM's worth costs a noticeable pause).
 */
hpa_t page_alloc_contig_uninit(uint64_t size, uint64_t align);
/**
 * A zeroed buffer of at least bytes (rounded up to whole pages), as a hypervisor pointer; NULL
 * when the pool is out of memory. The pool cannot free: callers allocate once and keep it.
 */
static inline void *page_alloc_buf(uint64_t bytes)
{
    hpa_t p = page_alloc_contig(ALIGN_UP(bytes, PAGE_SIZE), PAGE_SIZE);
    return hpa_raw(p) ? hpa_to_hva(p) : NULL;
}
/** As page_alloc_buf, not zeroed (page_alloc_contig_uninit). */
static inline void *page_alloc_buf_uninit(uint64_t bytes)
{
    hpa_t p = page_alloc_contig_uninit(ALIGN_UP(bytes, PAGE_SIZE), PAGE_SIZE);
    return hpa_raw(p) ? hpa_to_hva(p) : NULL;
}
/** Bytes left in the pool. */
uint64_t page_pool_free(void);

#endif
