// SPDX-License-Identifier: Apache-2.0
// Classifies stage-2 aborts for dirty logging (arch/s2_abort.h). Kept apart from exit.c, which
// reads the system registers, so the decision can be driven by host tests.
#include <cv/dirty.h>

#include <arch/mmio_decode.h>
#include <arch/s2_abort.h>
#include <arch/sysreg.h>

/* ISS bits shared by data and instruction aborts (IFSC has DFSC's encoding). */
#define ABT_ISS_S1PTW BIT(7)
#define DABT_ISS_WNR BIT(6)
#define ABT_ISS_FSC(iss) ((unsigned)((iss)&0x3f))

bool s2_abort_dirty_candidate(uint64_t esr, uint64_t hpfar, uint64_t far, gpa_t *ipa)
{
    uint64_t iss = ESR_ISS(esr);
    uint32_t ec = ESR_EC(esr);
    if (ec != EC_DABT_LOW && ec != EC_IABT_LOW) {
        return false;
    }
    if (!dfsc_is_permission(ABT_ISS_FSC(iss))) {
        return false;
    }
    /*
     * Stage 2 maps RAM readable and executable always, so a permission fault during a walk is
     * the walk's write of an access or dirty flag. An instruction fetch itself never writes.
     * HPFAR_EL2 always holds the IPA for a fault on a stage-1 walk; for a store's own
     * permission fault the architecture leaves it UNKNOWN, and exit.c has it recomputed from
     * FAR (fault_ipa_fixup) before this runs.
     */
    bool s1ptw = iss & ABT_ISS_S1PTW;
    bool write = ec == EC_DABT_LOW && (iss & DABT_ISS_WNR);
    if (!s1ptw && !write) {
        return false;
    }
    *ipa = dabt_ipa(hpfar, far);
    return true;
}

bool s2_abort_dirty_fault(struct vm *vm, uint64_t esr, uint64_t hpfar, uint64_t far)
{
    gpa_t ipa;
    return s2_abort_dirty_candidate(esr, hpfar, far, &ipa) && dirty_log_fault(vm, ipa);
}
