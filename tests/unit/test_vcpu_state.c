// SPDX-License-Identifier: Apache-2.0
// The vCPU state section (kernel/arch/arm64/vcpu_state.c) against fake system registers: a
// stream's PSTATE must be one ERET can restore on this CPU (decided from its ID registers), and a
// rejected section changes nothing.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arch/arm64.h>
#include <arch/sysreg.h>
#include <cv/vm.h>
#include <cv/vmstate.h>

#include "fake_sysreg.h"

void arm64_fpsimd_save(uint64_t *buf);
void arm64_fpsimd_load(const uint64_t *buf);

static uint64_t fake_fp[66];
static unsigned fp_loads;

void arm64_fpsimd_save(uint64_t *buf)
{
    memcpy(buf, fake_fp, sizeof(fake_fp));
}

void arm64_fpsimd_load(const uint64_t *buf)
{
    memcpy(fake_fp, buf, sizeof(fake_fp));
    fp_loads++;
}

/* arm64_vcpu_register_state() registers through this; the test keeps the ops. */
static struct vmstate_ops cpu_ops;

bool vm_register_vmstate(struct vm *vm, const struct vmstate_ops *ops)
{
    (void)vm;
    cpu_ops = *ops;
    return true;
}

static struct vm the_vm;

/* Cortex-A72-like: AArch64 and AArch32 at EL0..EL3; A76/N1-like: AArch32 at EL0 only; a CPU
 * without AArch32 (Apple-class, Cortex-A510/X3 big cores): AArch64 everywhere. */
#define PFR0_A32_ALL 0x2222ull
#define PFR0_A32_EL0 0x1112ull
#define PFR0_A64_ONLY 0x1111ull

static int setup(void **st)
{
    (void)st;
    fake_sysreg_reset();
    fake_sysreg_set("id_aa64pfr0_el1", PFR0_A64_ONLY);
    memset(&the_vm, 0, sizeof(the_vm));
    the_vm.vcpu.vm = &the_vm;
    assert_true(arm64_vcpu_register_state(&the_vm.vcpu));
    the_vm.vcpu.arch.regs.pc = 0x40080000;
    the_vm.vcpu.arch.regs.pstate = PSR_MODE_EL1h | PSR_DAIF;
    the_vm.vcpu.arch.regs.x[0] = 0x1234;
    fake_sysreg_set("sctlr_el1", 0x30d00800);
    fp_loads = 0;
    return 0;
}

static size_t save(uint8_t *buf, size_t cap)
{
    struct vs_buf w;
    vs_init_writer(&w, buf, cap);
    cpu_ops.save(cpu_ops.ctx, &w);
    assert_false(w.err);
    return w.len;
}

/* PSTATE is the 33rd u64 of the body (after x0..x30 and PC). */
static void set_pstate(uint8_t *buf, uint64_t p)
{
    for (unsigned k = 0; k < 8; k++) {
        buf[32 * 8 + k] = (uint8_t)(p >> (8 * k));
    }
}

static bool load(const uint8_t *buf, size_t n, bool apply)
{
    struct vs_buf r;
    vs_init_reader(&r, buf, n);
    return cpu_ops.load(cpu_ops.ctx, &r, cpu_ops.version, apply) && !r.err && r.pos == r.len;
}

static void test_round_trip(void **st)
{
    (void)st;
    uint8_t buf[2048];
    size_t n = save(buf, sizeof(buf));
    assert_true(load(buf, n, false));
    the_vm.vcpu.arch.regs.x[0] = 0;
    assert_true(load(buf, n, true));
    assert_int_equal(the_vm.vcpu.arch.regs.x[0], 0x1234);
    assert_int_equal(fp_loads, 1);
}

/* The case: an AArch32 PSTATE on a CPU without AArch32 at EL0 is an illegal return. */
static void test_aarch32_rejected_without_aarch32(void **st)
{
    (void)st;
    uint8_t buf[2048];
    size_t n = save(buf, sizeof(buf));
    set_pstate(buf, PSR32_MODE_USR);
    unsigned writes = fake_sysreg_writes;
    assert_false(load(buf, n, false));
    assert_int_equal(the_vm.vcpu.arch.regs.pstate, PSR_MODE_EL1h | PSR_DAIF);
    assert_int_equal(fake_sysreg_writes, writes);
    assert_int_equal(fp_loads, 0);

    /* The same stream is fine where EL0 runs AArch32. */
    fake_sysreg_set("id_aa64pfr0_el1", PFR0_A32_EL0);
    assert_true(load(buf, n, true));
    assert_int_equal(the_vm.vcpu.arch.regs.pstate, PSR32_MODE_USR);
}

static void test_pstate_rules(void **st)
{
    (void)st;
    struct pstate_ids a64 = {.pfr0 = PFR0_A64_ONLY};
    struct pstate_ids a32 = {.pfr0 = PFR0_A32_ALL};
    /* Modes ERET can return to from EL2 with HCR_EL2.RW set. */
    assert_null(vcpu_pstate_check(PSR_MODE_EL0t, &a64));
    assert_null(vcpu_pstate_check(PSR_MODE_EL1t | PSR_DAIF | PSR_NZCV, &a64));
    assert_null(vcpu_pstate_check(PSR_MODE_EL1h | PSR_IL | PSR_SS, &a64));
    for (uint64_t m = 0; m < 16; m++) {
        bool legal = m == PSR_MODE_EL0t || m == PSR_MODE_EL1t || m == PSR_MODE_EL1h;
        assert_int_equal(vcpu_pstate_check(m, &a32) == NULL, legal);
    }
    /* AArch32: User mode only (EL1 is AArch64), and only with AArch32 at EL0. */
    assert_non_null(vcpu_pstate_check(PSR32_MODE_USR, &a64));
    assert_null(vcpu_pstate_check(PSR32_MODE_USR | PSR32_T | PSR32_IT | PSR32_GE | PSR32_Q, &a32));
    for (uint64_t m = 0x10; m < 0x20; m++) {
        assert_int_equal(vcpu_pstate_check(m, &a32) == NULL, m == PSR32_MODE_USR);
    }
    /* Reserved bits, and bits of features this CPU lacks. */
    assert_non_null(vcpu_pstate_check(PSR_MODE_EL1h | BIT(5), &a64));
    assert_non_null(vcpu_pstate_check(PSR_MODE_EL1h | BIT(32), &a64));
    assert_non_null(vcpu_pstate_check(PSR_MODE_EL1h | (1ull << 63), &a64));
    assert_non_null(vcpu_pstate_check(PSR_MODE_EL1h | PSR_PAN, &a64));
    struct pstate_ids pan = {.pfr0 = PFR0_A64_ONLY, .mmfr1 = 1ull << 20};
    assert_null(vcpu_pstate_check(PSR_MODE_EL1h | PSR_PAN, &pan));
    assert_non_null(vcpu_pstate_check(PSR_MODE_EL1h | PSR_UAO, &pan));
    struct pstate_ids all = {.pfr0 = PFR0_A64_ONLY | (1ull << 48),
                             .pfr1 = 0x1111ull | (1ull << 36),
                             .mmfr1 = 1ull << 20,
                             .mmfr2 = 1ull << 4};
    uint64_t every = PSR_MODE_EL1h | PSR_DAIF | PSR_NZCV | PSR_PAN | PSR_UAO | PSR_DIT | PSR_TCO |
                     PSR_SSBS | PSR_BTYPE | PSR_ALLINT | PSR_SS | PSR_IL;
    assert_null(vcpu_pstate_check(every, &all));
    assert_non_null(vcpu_pstate_check(every | BIT(14), &all));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_round_trip, setup),
        cmocka_unit_test_setup(test_aarch32_rejected_without_aarch32, setup),
        cmocka_unit_test_setup(test_pstate_rules, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
