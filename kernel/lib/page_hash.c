// SPDX-License-Identifier: Apache-2.0
// The page digest (cv/hash.h). Runs over all of guest RAM at every verified checkpoint pause, so
// it is cheap per word (also under QEMU's TCG) rather than strong.
#include <cv/hash.h>

uint64_t page_hash(const void *page)
{
    /* Two independent multiply-xor lanes: any single changed word changes the result. */
    const uint64_t *w = page;
    uint64_t a = 0x9e3779b97f4a7c15ull, b = 0xc2b2ae3d27d4eb4full;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i += 2) {
        a = (a ^ w[i]) * 0x100000001b3ull;
        b = (b ^ w[i + 1]) * 0xff51afd7ed558ccdull;
    }
    uint64_t h = a ^ (b >> 29) ^ (b << 35);
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}
