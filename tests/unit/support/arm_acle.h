/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two ACLE CRC32C intrinsics kernel/arch/arm64/crc32c_insn.c uses, modelled bit by bit as the
 * Arm ARM defines CRC32CB/CRC32CX (reflected Castagnoli polynomial, no inversion, data taken
 * little-endian), so that host tests run that file's loop: its alignment and tail handling.
 */
#ifndef TEST_ARM_ACLE_H
#define TEST_ARM_ACLE_H

#include <stdint.h>

static inline uint32_t test_crc32c_bits(uint32_t crc, uint64_t data, int bits)
{
    for (int i = 0; i < bits; i++) {
        uint32_t bit = (crc ^ (uint32_t)(data >> i)) & 1u;
        crc = (crc >> 1) ^ (bit ? 0x82f63b78u : 0);
    }
    return crc;
}

static inline uint32_t __crc32cb(uint32_t crc, uint8_t data)
{
    return test_crc32c_bits(crc, data, 8);
}

static inline uint32_t __crc32cd(uint32_t crc, uint64_t data)
{
    return test_crc32c_bits(crc, data, 64);
}

#endif
