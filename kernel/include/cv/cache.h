/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data-cache maintenance the generic code needs (arch hook). The hypervisor writes guest RAM
 * through its own cacheable mapping; an observer that does not look in the caches — a guest
 * running with its MMU off (all its data accesses Device, instruction fetches Non-cacheable), a
 * DMA master that does not snoop — sees memory only after the lines are cleaned to the point
 * of coherency. Under TCG there are no caches, so a missing clean shows only on hardware.
 */
#ifndef CV_CACHE_H
#define CV_CACHE_H

#include <cv/types.h>

/**
 * Cleans every data-cache line holding part of [hva, hva+len) to the point of coherency (by VA,
 * with the smallest line size the CPU reports) and waits for it to complete. Lines stay valid.
 * Any context; len 0 does nothing.
 */
void cache_arch_clean_to_poc(const void *hva, size_t len);

#endif
