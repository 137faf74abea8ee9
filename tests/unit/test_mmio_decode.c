// SPDX-License-Identifier: Apache-2.0
// Host tests of the arm64 data-abort decoding (kernel/arch/arm64/mmio_decode.c), which turns a
// trapped device access into a struct bus_access.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arch/mmio_decode.h>

static void test_dabt_decode(void **state)
{
    (void)state;
    struct dabt_info d;
    /* ldrsh w3, [x1]: ISV, SAS=1 (halfword), SSE, SRT=3, SF=0, read, DFSC translation L3. */
    uint64_t esr = (0x24ull << 26) | (1ull << 25) | (1ull << 24) | (1ull << 22) | (1ull << 21) |
                   (3ull << 16) | 0x07;
    dabt_decode(esr, &d);
    assert_true(d.isv);
    assert_int_equal(d.size, 2);
    assert_true(d.sign_extend);
    assert_int_equal(d.rt, 3);
    assert_false(d.write);
    assert_true(dfsc_is_translation(d.dfsc));
    assert_int_equal(dabt_load_value(&d, 0x8001), 0xffff8001ull);
    d.sf = true;
    assert_int_equal(dabt_load_value(&d, 0x8001), 0xffffffffffff8001ull);
    /* str x30, [x2]: 8 bytes, write, permission fault. */
    esr = (0x24ull << 26) | (1ull << 24) | (3ull << 22) | (30ull << 16) | (1ull << 15) |
          (1ull << 6) | 0x0f;
    dabt_decode(esr, &d);
    assert_int_equal(d.size, 8);
    assert_true(d.write);
    assert_int_equal(d.rt, 30);
    assert_true(dfsc_is_permission(d.dfsc));
    assert_int_equal(gpa_raw(dabt_ipa((0x09000ull) << 4, 0x123)), 0x09000123ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dabt_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
