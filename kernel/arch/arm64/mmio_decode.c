// SPDX-License-Identifier: Apache-2.0
#include <arch/mmio_decode.h>

void dabt_decode(uint64_t esr, struct dabt_info *d)
{
    uint64_t iss = esr & 0x1ffffff;
    d->isv = (iss >> 24) & 1;
    d->size = 1u << ((iss >> 22) & 3);
    d->sign_extend = (iss >> 21) & 1;
    d->rt = (unsigned)((iss >> 16) & 0x1f);
    d->sf = (iss >> 15) & 1;
    d->cache_maint = (iss >> 8) & 1;
    d->s1ptw = (iss >> 7) & 1;
    d->write = (iss >> 6) & 1;
    d->dfsc = (unsigned)(iss & 0x3f);
}

uint64_t dabt_load_value(const struct dabt_info *d, uint64_t raw)
{
    unsigned bits = d->size * 8;
    uint64_t v = bits == 64 ? raw : raw & ((1ull << bits) - 1);
    if (d->sign_extend && bits < 64 && (v >> (bits - 1)) & 1) {
        v |= ~0ull << bits;
    }
    if (!d->sf) {
        v &= 0xffffffffull;
    }
    return v;
}
