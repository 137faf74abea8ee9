// SPDX-License-Identifier: Apache-2.0
// The vCPU's complete architectural state as a VM state section ("CPU0"): general registers,
// PC/PSTATE, the EL1 system registers an unmodified Linux uses, pointer-authentication keys,
// FP/SIMD, and the virtual timer. Loading validates before it writes: a stream must never be
// able to put the vCPU in EL2 or an illegal state.
#include <cv/log.h>
#include <cv/vm.h>

#include <arch/arm64.h>
#include <arch/sysreg.h>

#define CPU_STATE_VERSION 1u
#define FPSIMD_WORDS (32 * 2 + 2)

// clang-format off
/* EL1 system registers, in stream order. Keep the two lists below in the same order. */
#define EL1_REGS(X)                                                                                \
    X(sctlr_el1)                                                                                   \
    X(actlr_el1)                                                                                   \
    X(cpacr_el1) X(ttbr0_el1) X(ttbr1_el1) X(tcr_el1) X(mair_el1) X(amair_el1) X(vbar_el1)         \
        X(contextidr_el1) X(tpidr_el0) X(tpidrro_el0) X(tpidr_el1) X(sp_el0) X(sp_el1) X(elr_el1)  \
            X(spsr_el1) X(esr_el1) X(far_el1) X(par_el1) X(afsr0_el1) X(afsr1_el1) X(cntkctl_el1)  \
                X(mdscr_el1) X(cntv_ctl_el0) X(cntv_cval_el0) X(cntvoff_el2)

// clang-format on
#define COUNT_REG(r) +1
#define EL1_REG_COUNT (0 EL1_REGS(COUNT_REG))

// clang-format off
/* APIA/APIB/APDA/APDB/APGA key halves, by encoding (older assemblers lack the names). */
#define PAUTH_REGS(X)                                                                              \
    X(S3_0_C2_C1_0)                                                                                \
    X(S3_0_C2_C1_1)                                                                                \
    X(S3_0_C2_C1_2) X(S3_0_C2_C1_3) X(S3_0_C2_C2_0) X(S3_0_C2_C2_1) X(S3_0_C2_C2_2)                \
        X(S3_0_C2_C2_3) X(S3_0_C2_C3_0) X(S3_0_C2_C3_1)
// clang-format on
#define PAUTH_REG_COUNT (0 PAUTH_REGS(COUNT_REG))

static bool have_pauth(void)
{
    uint64_t isar1 = read_sysreg(id_aa64isar1_el1);
    uint64_t isar2 = read_sysreg(S3_0_C0_C6_2);
    /* APA [7:4], API [11:8], GPA [27:24], GPI [31:28]; ISAR2 APA3 [15:12], GPA3 [11:8]. */
    return ((isar1 >> 4) & 0xff) != 0 || ((isar1 >> 24) & 0xff) != 0 || ((isar2 >> 8) & 0xff) != 0;
}

static void arm64_vcpu_el1_save(void *ctx, struct vs_buf *w)
{
    struct vcpu *v = ctx;
    for (unsigned i = 0; i < 31; i++) {
        vs_put_u64(w, v->arch.regs.x[i]);
    }
    vs_put_u64(w, v->arch.regs.pc);
    vs_put_u64(w, v->arch.regs.pstate);
    /*
     * CNTV_CTL_EL0.ISTATUS (bit 2) is read-only: the timer's state at the moment of reading,
     * recomputed by the CPU after a load. Saving it would make two copies of the same state
     * differ by when they were saved (COLO's verification compares them byte for byte).
     */
#define SAVE_REG(r)                                                                                \
    vs_put_u64(w, read_sysreg(r) & (__builtin_strcmp(#r, "cntv_ctl_el0") ? ~0ull : ~4ull));
    EL1_REGS(SAVE_REG)
    bool pauth = have_pauth();
    vs_put_u32(w, pauth ? PAUTH_REG_COUNT : 0);
    if (pauth) {
        PAUTH_REGS(SAVE_REG)
    }
#undef SAVE_REG
    uint64_t fp[FPSIMD_WORDS];
    arm64_fpsimd_save(fp);
    for (unsigned i = 0; i < FPSIMD_WORDS; i++) {
        vs_put_u64(w, fp[i]);
    }
}

static unsigned id_field(uint64_t reg, unsigned shift)
{
    return (unsigned)((reg >> shift) & 0xf);
}

/*
 * An exception return that the CPU deems illegal does not leave EL2: it sets PSTATE.IL and
 * carries on at ELR in EL2, where the next instruction takes an illegal-state exception and
 * the board halts. So a PSTATE from a stream must be one ERET can restore here: a mode the
 * guest may be in (EL0t, EL1t, EL1h; AArch32 only at EL0 and only if this CPU runs AArch32
 * there, as HCR_EL2.RW makes EL1 AArch64), and no bit outside those of the features this CPU
 * has (from its ID registers; features newer than this list, such as GCS's EXLOCK, count as
 * absent). The state a guest leaves in SPSR_EL2 on this CPU never has one, so this rejects only
 * forged streams and streams from a CPU with features this one lacks. IL is restorable as it is
 * (the guest takes the illegal-state exception at its own EL1), so it is accepted.
 */
const char *vcpu_pstate_check(uint64_t p, const struct pstate_ids *id)
{
    uint64_t ok = PSR_NZCV | PSR_SS | PSR_IL;
    if (id_field(id->mmfr1, 20) >= 1) {
        ok |= PSR_PAN;
    }
    if (id_field(id->pfr0, 48) >= 1) {
        ok |= PSR_DIT;
    }
    if (id_field(id->pfr1, 4) >= 1) {
        ok |= (p & PSR_AARCH32) ? PSR32_SSBS : PSR_SSBS;
    }
    if (p & PSR_AARCH32) {
        if (id_field(id->pfr0, 0) != 2) {
            return "AArch32 state, but this CPU has no AArch32 at EL0";
        }
        if ((p & PSR32_MODE_MASK) != PSR32_MODE_USR) {
            return "an AArch32 mode other than User";
        }
        ok |= PSR32_MODE_MASK | PSR32_T | PSR_A | PSR_I | PSR_F | PSR32_E | PSR32_IT | PSR32_GE |
              PSR32_Q;
    } else {
        uint64_t mode = p & PSR_MODE_MASK;
        if (mode != PSR_MODE_EL0t && mode != PSR_MODE_EL1t && mode != PSR_MODE_EL1h) {
            return "a mode other than EL0t, EL1t or EL1h";
        }
        ok |= PSR_MODE_MASK | PSR_DAIF;
        if (id_field(id->mmfr2, 4) >= 1) {
            ok |= PSR_UAO;
        }
        if (id_field(id->pfr1, 0) >= 1) {
            ok |= PSR_BTYPE;
        }
        if (id_field(id->pfr1, 8) >= 1) {
            ok |= PSR_TCO;
        }
        if (id_field(id->pfr1, 36) >= 1) {
            ok |= PSR_ALLINT;
        }
    }
    return (p & ~ok) ? "reserved bits, or bits of features this CPU does not have" : NULL;
}

static bool arm64_vcpu_el1_load(void *ctx, struct vs_buf *r, uint32_t version, bool apply)
{
    struct vcpu *v = ctx;
    if (version != CPU_STATE_VERSION) {
        log_err("vmstate: CPU section version %u unknown", version);
        return false;
    }
    uint64_t x[31];
    for (unsigned i = 0; i < 31; i++) {
        x[i] = vs_get_u64(r);
    }
    uint64_t pc = vs_get_u64(r), pstate = vs_get_u64(r);
    uint64_t el1[EL1_REG_COUNT];
    for (unsigned i = 0; i < EL1_REG_COUNT; i++) {
        el1[i] = vs_get_u64(r);
    }
    uint32_t npauth = vs_get_u32(r);
    uint64_t pauth[PAUTH_REG_COUNT] = {0};
    if (npauth != 0 && npauth != PAUTH_REG_COUNT) {
        return false;
    }
    for (unsigned i = 0; i < npauth; i++) {
        pauth[i] = vs_get_u64(r);
    }
    uint64_t fp[FPSIMD_WORDS];
    for (unsigned i = 0; i < FPSIMD_WORDS; i++) {
        fp[i] = vs_get_u64(r);
    }
    if (r->err) {
        log_err("vmstate: CPU section truncated");
        return false;
    }
    struct pstate_ids ids = {
        .pfr0 = read_sysreg(id_aa64pfr0_el1),
        .pfr1 = read_sysreg(id_aa64pfr1_el1),
        .mmfr1 = read_sysreg(id_aa64mmfr1_el1),
        .mmfr2 = read_sysreg(id_aa64mmfr2_el1),
    };
    const char *why = vcpu_pstate_check(pstate, &ids);
    if (why) {
        log_err("vmstate: CPU section's PSTATE 0x%llx cannot be restored here: %s",
                (unsigned long long)pstate, why);
        return false;
    }
    if (npauth && !have_pauth()) {
        log_err("vmstate: CPU section carries pointer-authentication keys; this CPU has none");
        return false;
    }
    if (!apply) {
        return true;
    }
    for (unsigned i = 0; i < 31; i++) {
        v->arch.regs.x[i] = x[i];
    }
    v->arch.regs.pc = pc;
    v->arch.regs.pstate = pstate;
    unsigned k = 0;
#define LOAD_REG(reg) write_sysreg(reg, el1[k++]);
    EL1_REGS(LOAD_REG)
    if (npauth) {
        k = 0;
#define LOAD_PAUTH(reg) write_sysreg(reg, pauth[k++]);
        PAUTH_REGS(LOAD_PAUTH)
    }
    arm64_fpsimd_load(fp);
    isb();
    return true;
}

bool arm64_vcpu_register_state(struct vcpu *vcpu)
{
    struct vmstate_ops ops = {
        .tag = VS_TAG('C', 'P', 'U', '0'),
        .version = CPU_STATE_VERSION,
        .save = arm64_vcpu_el1_save,
        .load = arm64_vcpu_el1_load,
        .ctx = vcpu,
    };
    return vm_register_vmstate(vcpu->vm, &ops);
}
