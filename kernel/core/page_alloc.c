// SPDX-License-Identifier: Apache-2.0
// The host page allocator (cv/page.h): a bump pointer over the pool, plus per-order free lists
// that only hold the pieces skipped when the bump pointer is aligned up. There is no free: the
// hypervisor allocates its tables and buffers once and keeps them. Hypervisor context (never
// from an interrupt handler): one CPU, so no lock.
#include <string.h>

#include <cv/page.h>

#define MAX_ORDER 20u /* 4 GiB blocks */

static uint64_t pool_next; /* bump pointer (hpa) */
static uint64_t pool_end;
static uint64_t free_bytes; /* in the free lists */
/* Singly linked through the first word of each free block (hypervisor-virtual pointers). */
static uint64_t *free_list[MAX_ORDER + 1];

static void free_push(uint64_t a, unsigned order)
{
    uint64_t *p = hpa_to_hva(hpa(a));
    *p = (uint64_t)(uintptr_t)free_list[order];
    free_list[order] = p;
    free_bytes += PAGE_SIZE << order;
}

/* Puts [a, end) (page aligned) on the free lists as naturally aligned blocks. */
static void free_range(uint64_t a, uint64_t end)
{
    while (a < end) {
        unsigned order = 0;
        while (order < MAX_ORDER && IS_ALIGNED(a, PAGE_SIZE << (order + 1)) &&
               a + (PAGE_SIZE << (order + 1)) <= end) {
            order++;
        }
        free_push(a, order);
        a += PAGE_SIZE << order;
    }
}

void page_pool_init(hpa_t base, uint64_t size)
{
    uint64_t b = ALIGN_UP(hpa_raw(base), PAGE_SIZE);
    uint64_t e = ALIGN_DOWN(hpa_raw(base) + size, PAGE_SIZE);
    if (b == 0) {
        b = PAGE_SIZE; /* hpa 0 means failure */
    }
    pool_next = b;
    pool_end = e > b ? e : b;
}

/* Takes size bytes at alignment align from the bump pointer; 0 if it does not fit. */
static uint64_t bump(uint64_t size, uint64_t align)
{
    if (pool_next == 0) {
        return 0;
    }
    uint64_t a = ALIGN_UP(pool_next, align);
    if (a < pool_next || a > pool_end || size > pool_end - a) {
        return 0;
    }
    free_range(pool_next, a);
    pool_next = a + size;
    return a;
}

hpa_t page_alloc(unsigned order)
{
    if (order > MAX_ORDER) {
        return hpa(0);
    }
    uint64_t a = 0;
    for (unsigned o = order; o <= MAX_ORDER; o++) {
        uint64_t *p = free_list[o];
        if (!p) {
            continue;
        }
        free_list[o] = (uint64_t *)(uintptr_t)*p;
        free_bytes -= PAGE_SIZE << o;
        a = hpa_raw(hva_to_hpa(p));
        /* Give back the upper halves until the block has the order asked for. */
        while (o > order) {
            o--;
            free_push(a + (PAGE_SIZE << o), o);
        }
        break;
    }
    if (a == 0) {
        a = bump(PAGE_SIZE << order, PAGE_SIZE << order);
        if (a == 0) {
            return hpa(0);
        }
    }
    memset(hpa_to_hva(hpa(a)), 0, (size_t)(PAGE_SIZE << order));
    return hpa(a);
}

static hpa_t contig(uint64_t size, uint64_t align, bool zero)
{
    if (size == 0 || size > UINT64_MAX - PAGE_SIZE) {
        return hpa(0);
    }
    size = ALIGN_UP(size, PAGE_SIZE);
    if (align < PAGE_SIZE) {
        align = PAGE_SIZE;
    }
    if (align & (align - 1)) {
        return hpa(0);
    }
    uint64_t a = bump(size, align);
    if (a == 0) {
        return hpa(0);
    }
    if (zero) {
        memset(hpa_to_hva(hpa(a)), 0, (size_t)size);
    }
    return hpa(a);
}

hpa_t page_alloc_contig(uint64_t size, uint64_t align)
{
    return contig(size, align, true);
}

hpa_t page_alloc_contig_uninit(uint64_t size, uint64_t align)
{
    return contig(size, align, false);
}

uint64_t page_pool_free(void)
{
    return (pool_end - pool_next) + free_bytes;
}
