// SPDX-License-Identifier: Apache-2.0
// cv/page.h for host unit tests: memory from aligned_alloc (never freed; tests are short),
// hypervisor-virtual == host-physical, and a knob to make allocations fail.
#include <stdlib.h>
#include <string.h>

#include <cv/page.h>

#include "fake_pages.h"

unsigned long fake_pages_allocs;
long fake_pages_fail_after = -1;
uint64_t fake_pages_pool_free = 1ull << 40;

void *hpa_to_hva(hpa_t a)
{
    return (void *)(uintptr_t)hpa_raw(a);
}

hpa_t hva_to_hpa(const void *p)
{
    return hpa((uint64_t)(uintptr_t)p);
}

void page_pool_init(hpa_t base, uint64_t size)
{
    (void)base;
    (void)size;
}

static hpa_t fake_alloc(uint64_t size, uint64_t align)
{
    if (fake_pages_fail_after == 0) {
        return hpa(0);
    }
    if (fake_pages_fail_after > 0) {
        fake_pages_fail_after--;
    }
    void *p = aligned_alloc((size_t)align, (size_t)size);
    if (!p) {
        return hpa(0);
    }
    memset(p, 0, (size_t)size);
    fake_pages_allocs++;
    return hva_to_hpa(p);
}

hpa_t page_alloc(unsigned order)
{
    return fake_alloc(PAGE_SIZE << order, PAGE_SIZE << order);
}

hpa_t page_alloc_contig(uint64_t size, uint64_t align)
{
    size = ALIGN_UP(size, PAGE_SIZE);
    return fake_alloc(size, align < PAGE_SIZE ? PAGE_SIZE : align);
}

uint64_t page_pool_free(void)
{
    return fake_pages_pool_free;
}
