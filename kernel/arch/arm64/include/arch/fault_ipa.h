/* SPDX-License-Identifier: Apache-2.0 */
/* The faulting IPA of a stage-2 abort where HPFAR_EL2 cannot be trusted (fault_ipa.c). */
#ifndef ARCH_FAULT_IPA_H
#define ARCH_FAULT_IPA_H

#include <cv/types.h>

#include <arch/vm.h>

#define ESR_S1PTW BIT(7)

/** True for a Cortex-A57 r0p0..r1p2 MIDR_EL1 (ARM erratum 834220). Pure. */
bool midr_has_erratum_834220(uint64_t midr);
/**
 * True if HPFAR_EL2 holds the faulting IPA for an exit with this ESR_EL2 (always true for exits
 * that are not stage-2 aborts). Pure.
 */
bool hpfar_is_valid(uint64_t esr, bool erratum_834220);
/**
 * Right after an exit, with the guest's EL1 registers still live: where HPFAR_EL2 is not valid,
 * replaces e->hpfar with the IPA of e->far translated at stage 1 (AT S1E1R), keeping the
 * guest's PAR_EL1. False if that translation fails: the exit must not be handled, the guest
 * re-executes the instruction. Hypervisor context, vCPU stopped.
 */
bool fault_ipa_fixup(struct vcpu_exit_info *e, bool erratum_834220);

#endif
