// SPDX-License-Identifier: Apache-2.0
// Exception injection into the guest's EL1, following the architecture's rules for taking a
// synchronous exception to EL1 (vector offset by source, SPSR/ELR/ESR/FAR, DAIF and PAN).
#include <arch/arm64.h>
#include <arch/sysreg.h>

static void enter_el1_sync(struct vcpu *v, uint64_t esr)
{
    uint64_t pstate = v->arch.regs.pstate;
    uint64_t off;
    if (pstate & PSR_AARCH32) {
        off = 0x600;
    } else if ((pstate & PSR_MODE_MASK) == PSR_MODE_EL0t) {
        off = 0x400;
    } else if ((pstate & PSR_MODE_MASK) == PSR_MODE_EL1h) {
        off = 0x200;
    } else {
        off = 0x000;
    }
    write_sysreg(elr_el1, v->arch.regs.pc);
    write_sysreg(spsr_el1, pstate);
    write_sysreg(esr_el1, esr);
    uint64_t npstate = PSR_MODE_EL1h | PSR_DAIF | (pstate & PSR_PAN);
    if (!(read_sysreg(sctlr_el1) & SCTLR_EL1_SPAN)) {
        npstate |= PSR_PAN;
    }
    v->arch.regs.pstate = npstate;
    v->arch.regs.pc = read_sysreg(vbar_el1) + off;
}

static bool from_el0(const struct vcpu *v)
{
    return (v->arch.regs.pstate & PSR_AARCH32) ||
           (v->arch.regs.pstate & PSR_MODE_MASK) == PSR_MODE_EL0t;
}

void inject_undef(struct vcpu *v)
{
    enter_el1_sync(v, ((uint64_t)EC_UNKNOWN << 26) | ESR_IL);
}

void inject_dabt(struct vcpu *v, uint64_t far, bool write)
{
    uint64_t ec = from_el0(v) ? EC_DABT_LOW : EC_DABT_CUR;
    /* Synchronous external abort, not on a table walk. */
    uint64_t esr = (ec << 26) | ESR_IL | (write ? BIT(6) : 0) | 0x10;
    write_sysreg(far_el1, far);
    enter_el1_sync(v, esr);
}

void inject_pabt(struct vcpu *v, uint64_t far)
{
    uint64_t ec = from_el0(v) ? EC_IABT_LOW : EC_IABT_CUR;
    write_sysreg(far_el1, far);
    enter_el1_sync(v, (ec << 26) | ESR_IL | 0x10);
}
