// SPDX-License-Identifier: Apache-2.0
// Where HPFAR_EL2 can be trusted for a stage-2 abort, and the AT S1E1R fallback
// (kernel/arch/arm64/fault_ipa.c), against fake system registers.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arch/fault_ipa.h>
#include <arch/sysreg.h>

#include "fake_sysreg.h"

#define DABT(fsc) (((uint64_t)EC_DABT_LOW << 26) | ESR_IL | (fsc))
#define IABT(fsc) (((uint64_t)EC_IABT_LOW << 26) | ESR_IL | (fsc))
#define WNR BIT(6)

static int setup(void **st)
{
    (void)st;
    fake_sysreg_reset();
    fake_at_par = 0;
    return 0;
}

static void test_midr_834220(void **st)
{
    (void)st;
    assert_true(midr_has_erratum_834220(0x411fd070));  /* A57 r1p0 */
    assert_true(midr_has_erratum_834220(0x411fd072));  /* A57 r1p2 */
    assert_true(midr_has_erratum_834220(0x410fd071));  /* A57 r0p1 */
    assert_false(midr_has_erratum_834220(0x411fd073)); /* A57 r1p3: fixed */
    assert_false(midr_has_erratum_834220(0x410fd083)); /* A72 r0p3 */
    assert_false(midr_has_erratum_834220(0x410fd034)); /* A53 r0p4 */
    assert_false(midr_has_erratum_834220(0x000fd070)); /* not Arm's */
}

static void test_hpfar_validity(void **st)
{
    (void)st;
    for (unsigned lvl = 0; lvl < 4; lvl++) {
        assert_true(hpfar_is_valid(DABT(0x04 + lvl), false));             /* translation */
        assert_true(hpfar_is_valid(DABT(0x08 + lvl), false));             /* access flag */
        assert_true(hpfar_is_valid(DABT(0x00 + lvl), false));             /* address size */
        assert_false(hpfar_is_valid(DABT(0x0c + lvl) | WNR, false));      /* permission: UNKNOWN */
        assert_false(hpfar_is_valid(IABT(0x0c + lvl), false));            /* execute permission */
        assert_true(hpfar_is_valid(DABT(0x0c + lvl) | ESR_S1PTW, false)); /* on a s1 walk */
        assert_true(hpfar_is_valid(IABT(0x0c + lvl) | ESR_S1PTW, false));
        /* Erratum 834220: a reported translation fault may be a stage-1 permission fault. */
        assert_false(hpfar_is_valid(DABT(0x04 + lvl), true));
        assert_true(hpfar_is_valid(DABT(0x08 + lvl), true));
    }
    assert_true(hpfar_is_valid((uint64_t)EC_HVC64 << 26, true)); /* not an abort */
}

/* A dirty-logging write fault: the IPA comes from AT S1E1R, and the guest's PAR survives. */
static void test_fixup_translates_far(void **st)
{
    (void)st;
    fake_sysreg_set("par_el1", 0x1234000);
    fake_at_par = 0xff00000045678000ull | (3ull << 7); /* attrs, SH, IPA 0x45678000, F=0 */
    struct vcpu_exit_info e = {.esr = DABT(0x0f) | WNR, .far = 0xffff000012345abc, .hpfar = 0};
    assert_true(fault_ipa_fixup(&e, false));
    assert_int_equal(e.hpfar, 0x45678000ull >> 8);
    assert_int_equal(((e.hpfar >> 4) << 12) | (e.far & 0xfff), 0x45678abc);
    assert_int_equal(fake_cache_nops, 1);
    assert_string_equal(fake_cache_ops[0].op, "s1e1r");
    assert_int_equal(fake_cache_ops[0].va, 0xffff000012345abc);
    assert_int_equal(host_sysreg_read("par_el1"), 0x1234000);
}

static void test_fixup_failed_walk_retries(void **st)
{
    (void)st;
    fake_at_par = 1 | (0x0bull << 1); /* F=1 */
    struct vcpu_exit_info e = {.esr = DABT(0x0f) | WNR, .far = 0x1000, .hpfar = 0x77};
    assert_false(fault_ipa_fixup(&e, false));
    assert_int_equal(host_sysreg_read("par_el1"), 0);
}

/* Where HPFAR is valid it is used as it is: no AT, no PAR access. */
static void test_fixup_trusts_valid_hpfar(void **st)
{
    (void)st;
    struct vcpu_exit_info e = {.esr = DABT(0x0f) | ESR_S1PTW, .far = 0x1000, .hpfar = 0x4567800};
    assert_true(fault_ipa_fixup(&e, false));
    assert_int_equal(e.hpfar, 0x4567800);
    e.esr = DABT(0x07);
    assert_true(fault_ipa_fixup(&e, false));
    assert_int_equal(fake_cache_nops, 0);
    assert_int_equal(fake_sysreg_writes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_midr_834220, setup),
        cmocka_unit_test_setup(test_hpfar_validity, setup),
        cmocka_unit_test_setup(test_fixup_translates_far, setup),
        cmocka_unit_test_setup(test_fixup_failed_walk_retries, setup),
        cmocka_unit_test_setup(test_fixup_trusts_valid_hpfar, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
