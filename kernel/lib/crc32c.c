// SPDX-License-Identifier: Apache-2.0
// CRC32C, table-driven (slicing-by-1). The arm64 CRC32 instructions would be faster; they
// are an optional feature of v8.0, so the portable version stays the reference.
#include <cv/hash.h>

static uint32_t table[256];
static bool table_ready;

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

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
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
