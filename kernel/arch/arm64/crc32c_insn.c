// SPDX-License-Identifier: Apache-2.0
// arm64_crc32c(): CRC32C eight bytes per instruction. Only called where crc32c_arch_impl() found
// the instructions; its result is crc32c_table()'s (the COLO wire format checks every message with
// it, so a difference fails every checkpoint of the QEMU pair tests).
#include <arm_acle.h>

#include <cv/hash.h>

#include <arch/arm64.h>

#ifdef CV_HOST_TEST
/* Host tests run this loop over tests/unit/support/arm_acle.h's bitwise model of the instructions.
 */
#define TARGET_CRC
#else
#define TARGET_CRC __attribute__((target("+crc")))
#endif

TARGET_CRC uint32_t arm64_crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    /* Byte steps up to an 8-byte boundary: the image is built with -mstrict-align. */
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        crc = __crc32cb(crc, *p++);
        len--;
    }
    for (; len >= 8; len -= 8, p += 8) {
        crc = __crc32cd(crc, *(const uint64_t *)(const void *)p);
    }
    while (len > 0) {
        crc = __crc32cb(crc, *p++);
        len--;
    }
    return ~crc;
}
