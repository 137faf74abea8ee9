// SPDX-License-Identifier: Apache-2.0
// CRC32C: the table (the reference) against known values; the arm64 choice of implementation
// (ID_AA64ISAR0_EL1.CRC32) and crc32c()'s use of it; and the instruction loop of
// kernel/arch/arm64/crc32c_insn.c, over a bitwise model of the instructions (support/arm_acle.h),
// against the table at every alignment and length around its 8-byte steps.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cv/hash.h>

#include <arch/arm64.h>

#include "fake_sysreg.h"

static void test_table_known_values(void **state)
{
    (void)state;
    assert_int_equal(crc32c_table(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(crc32c_table(crc32c_table(0, "1234", 4), "56789", 5), 0xe3069283u);
    assert_int_equal(crc32c_table(0, "", 0), 0);
    /* RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xff. */
    uint8_t b[32];
    memset(b, 0, sizeof(b));
    assert_int_equal(crc32c_table(0, b, sizeof(b)), 0x8a9136aau);
    memset(b, 0xff, sizeof(b));
    assert_int_equal(crc32c_table(0, b, sizeof(b)), 0x62a8ab43u);
}

static void test_choice_follows_isar0(void **state)
{
    (void)state;
    fake_sysreg_reset();
    assert_null(crc32c_arch_impl());
    /* Other ISAR0 fields set, CRC32 (bits 19:16) clear: still none. */
    fake_sysreg_set("id_aa64isar0_el1", 0xf000000000000000ull | 0xfff0ull);
    assert_null(crc32c_arch_impl());
    fake_sysreg_set("id_aa64isar0_el1", 1ull << 16);
    assert_ptr_equal(crc32c_arch_impl(), arm64_crc32c);
    /* A later version of the field keeps the instructions. */
    fake_sysreg_set("id_aa64isar0_el1", 2ull << 16);
    assert_ptr_equal(crc32c_arch_impl(), arm64_crc32c);
}

static void test_crc32c_uses_the_instructions(void **state)
{
    (void)state;
    /* crc32c() chooses once, on its first call: here, with the CPU offering the instructions. */
    fake_sysreg_reset();
    fake_sysreg_set("id_aa64isar0_el1", 1ull << 16);
    assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
    fake_sysreg_reset();
    assert_int_equal(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

static void test_instruction_loop_matches_table(void **state)
{
    (void)state;
    static uint8_t buf[200];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 16; off++) {
        for (size_t len = 0; len + off <= sizeof(buf); len += (len < 40 ? 1 : 17)) {
            uint32_t seed = (uint32_t)(off * 0x9e3779b9u);
            assert_int_equal(arm64_crc32c(seed, buf + off, len),
                             crc32c_table(seed, buf + off, len));
        }
    }
    assert_int_equal(arm64_crc32c(0, "123456789", 9), 0xe3069283u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_known_values),
        cmocka_unit_test(test_choice_follows_isar0),
        cmocka_unit_test(test_crc32c_uses_the_instructions),
        cmocka_unit_test(test_instruction_loop_matches_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
