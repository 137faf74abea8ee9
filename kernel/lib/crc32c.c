// SPDX-License-Identifier: Apache-2.0
// CRC32C: the CPU's instructions where the arch has them (crc32c_arch_impl), else a table
// (slicing-by-1). The table stays as the reference: the CRC instructions are optional in Armv8.0,
// and host tests compare against it.
#include <cv/hash.h>

static uint32_t table[256];
static bool table_ready;
static crc32c_fn *impl;

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        }
        table[i] = c;
    }
    table_ready = true;
}

uint32_t crc32c_table(uint32_t crc, const void *data, size_t len)
{
    if (!table_ready) {
        make_table();
    }
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
    /* Chosen on first use rather than by an init call: the image check runs before any. */
    if (impl == NULL) {
        crc32c_fn *arch = crc32c_arch_impl();
        impl = arch ? arch : crc32c_table;
    }
    return impl(crc, data, len);
}
