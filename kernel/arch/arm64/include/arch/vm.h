/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 halves of struct vm and struct vcpu (embedded by cv/vm.h). */
#ifndef ARCH_VM_H
#define ARCH_VM_H

#include <cv/types.h>

#include <arch/s2.h>
#include <arch/vgic.h>

/**
 * Guest registers the exit path saves and restores on every exit. The EL1 system registers,
 * FP/SIMD, the timer and the GIC virtual CPU interface are not here: the hypervisor never
 * touches them, so they stay live in the CPU while the guest is out (one vCPU on one pCPU), and
 * the CPU state section (vcpu_state.c) reads them out only when a checkpoint needs them.
 */
struct vcpu_regs {
    uint64_t x[31];
    uint64_t pc;     /**< ELR_EL2 */
    uint64_t pstate; /**< SPSR_EL2 */
};

/** What the exit path recorded about the last exit. */
struct vcpu_exit_info {
    uint64_t kind; /**< 0 = synchronous, 1 = IRQ, 2 = FIQ, 3 = SError */
    uint64_t esr;
    uint64_t far;
    uint64_t hpfar;
};

struct vcpu_arch {
    struct vcpu_regs regs; /**< offset 0: the exit path (vectors.S) depends on it */
    struct vcpu_exit_info exit;
    uint64_t mpidr;
    bool wfi_pending; /**< guest waits for an interrupt */
};

struct vm_arch {
    uint16_t vmid;
    struct s2_pgtable s2;
    struct vgic vgic;
};

#endif
