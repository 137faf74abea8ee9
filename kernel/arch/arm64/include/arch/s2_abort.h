/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which stage-2 aborts are dirty-log write faults. Both abort classes from EL1/EL0 can be: a data
 * abort for a store (or for the stage-1 walk of any access), and an instruction abort whose
 * stage-1 walk had to set the access flag in a table page the log write-protects (S1PTW; Linux
 * enables TCR_EL1.HA when the CPU has HAFDBS, and maps fault-around pages old).
 */
#ifndef ARCH_S2_ABORT_H
#define ARCH_S2_ABORT_H

#include <cv/types.h>

struct vm;

/**
 * True if the abort in esr (EC 0x20 or 0x24) is a stage-2 permission fault that a write caused:
 * the guest's store, or the hardware's update of a stage-1 descriptor during the walk. *ipa is
 * then the IPA the write went to (for S1PTW the page of the stage-1 table; the low 12 bits come
 * from FAR and mean nothing then). hpfar must be valid (fault_ipa_fixup). Pure, host-tested.
 */
bool s2_abort_dirty_candidate(uint64_t esr, uint64_t hpfar, uint64_t far, gpa_t *ipa);

/**
 * Hands a candidate abort to the dirty log. True when it was logged: the page is writable now and
 * the guest only has to retry the access, with nothing injected. False: not a dirty-log fault
 * (logging off, not RAM, or another kind of abort), for the caller to handle.
 */
bool s2_abort_dirty_fault(struct vm *vm, uint64_t esr, uint64_t hpfar, uint64_t far);

#endif
