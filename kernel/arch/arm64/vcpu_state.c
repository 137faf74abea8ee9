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

void arch_fpsimd_save(uint64_t *buf);
void arch_fpsimd_load(const uint64_t *buf);

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

static void vcpu_arch_el1_save(void *ctx, struct vs_buf *w)
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
    arch_fpsimd_save(fp);
    for (unsigned i = 0; i < FPSIMD_WORDS; i++) {
        vs_put_u64(w, fp[i]);
    }
}

static bool pstate_valid(uint64_t p)
{
    if (p & PSR_AARCH32) {
        return (p & 0x1f) == 0x10; /* AArch32 User mode only: EL0 may run AArch32 code */
    }
    uint64_t mode = p & PSR_MODE_MASK;
    return mode == PSR_MODE_EL0t || mode == PSR_MODE_EL1t || mode == PSR_MODE_EL1h;
}

static bool vcpu_arch_el1_load(void *ctx, struct vs_buf *r, uint32_t version, bool apply)
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
    if (r->err || !pstate_valid(pstate)) {
        log_err("vmstate: CPU section truncated or with an illegal PSTATE 0x%llx",
                (unsigned long long)pstate);
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
    arch_fpsimd_load(fp);
    isb();
    return true;
}

bool vcpu_arch_register_state(struct vcpu *vcpu);
bool vcpu_arch_register_state(struct vcpu *vcpu)
{
    struct vmstate_ops ops = {
        .tag = VS_TAG('C', 'P', 'U', '0'),
        .version = CPU_STATE_VERSION,
        .save = vcpu_arch_el1_save,
        .load = vcpu_arch_el1_load,
        .ctx = vcpu,
    };
    return vm_register_vmstate(vcpu->vm, &ops);
}
