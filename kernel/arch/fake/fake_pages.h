/* SPDX-License-Identifier: Apache-2.0 */
/* Host-test page allocator (fake_pages.c): cv/page.h over aligned_alloc, hva == hpa. */
#ifndef TEST_FAKE_PAGES_H
#define TEST_FAKE_PAGES_H

#include <cv/types.h>

/** Successful page_alloc/page_alloc_contig calls so far. */
extern unsigned long fake_pages_allocs;
/** After this many more successful allocations, fail (negative: never). */
extern long fake_pages_fail_after;

/** What page_pool_free() answers (default 1 TiB). */
extern uint64_t fake_pages_pool_free;

#endif
