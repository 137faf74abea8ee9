// SPDX-License-Identifier: Apache-2.0
// The faulting IPA of a stage-2 abort. HPFAR_EL2 holds it only for some faults: the Arm ARM
// has it written for stage-2 translation, access-flag and address-size faults and for any
// fault on a stage-1 table walk (S1PTW), and UNKNOWN otherwise — in particular for a stage-2
// permission fault of an ordinary access, which is what every write-protect dirty-logging
// fault is. QEMU and many cores fill it in anyway, so trusting it works under TCG and fails
// only on some hardware. Cortex-A57 r0p0-r1p2 (ARM erratum 834220) may also report a stage-2
// translation fault, with a bogus HPFAR, for what is a stage-1 permission fault. Like KVM
// (__hpfar_is_valid / __translate_far_to_hpfar), the IPA is then recomputed by translating FAR
// at stage 1 with AT S1E1R, which runs in the guest's own, still live, EL1&0 regime.
#include <arch/fault_ipa.h>
#include <arch/sysreg.h>

#define MIDR_IMPL_ARM 0x41u
#define MIDR_PART_A57 0xd07u
#define PAR_F BIT(0)
#define PAR_PA_MASK 0x000ffffffffff000ull /* PA[51:12] */

bool midr_has_erratum_834220(uint64_t midr)
{
    unsigned impl = (unsigned)((midr >> 24) & 0xff), part = (unsigned)((midr >> 4) & 0xfff);
    unsigned var = (unsigned)((midr >> 20) & 0xf), rev = (unsigned)(midr & 0xf);
    /* r0p0 .. r1p2 */
    return impl == MIDR_IMPL_ARM && part == MIDR_PART_A57 && (var == 0 || (var == 1 && rev <= 2));
}

bool hpfar_is_valid(uint64_t esr, bool erratum_834220)
{
    unsigned ec = ESR_EC(esr), fsc = (unsigned)(esr & 0x3f);
    if (ec != EC_DABT_LOW && ec != EC_IABT_LOW) {
        return true; /* not a stage-2 abort: nobody reads it */
    }
    bool translation = (fsc & 0x3c) == 0x04, access = (fsc & 0x3c) == 0x08;
    bool permission = (fsc & 0x3c) == 0x0c, addr_size = (fsc & 0x3c) == 0x00;
    if (erratum_834220 && translation) {
        return false;
    }
    if (translation || access) {
        return true;
    }
    if ((esr & ESR_S1PTW) && permission) {
        return true;
    }
    return addr_size;
}

bool fault_ipa_fixup(struct vcpu_exit_info *e, bool erratum_834220)
{
    if (hpfar_is_valid(e->esr, erratum_834220)) {
        return true;
    }
    /* PAR_EL1 is the guest's register (not switched on exit): keep its value. */
    uint64_t guest_par = read_sysreg(par_el1);
    at_s1e1r(e->far);
    isb();
    uint64_t par = read_sysreg(par_el1);
    write_sysreg(par_el1, guest_par);
    if (par & PAR_F) {
        /*
         * The walk faulted (a stage-2 fault on a table page, or the guest changed its tables
         * meanwhile): let the guest run the instruction again; the next fault says more.
         */
        return false;
    }
    e->hpfar = (par & PAR_PA_MASK) >> 8; /* HPFAR_EL2.FIPA[43:4] = IPA[51:12] */
    return true;
}
