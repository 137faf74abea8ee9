/* SPDX-License-Identifier: Apache-2.0 */
/* Functions shared between the arm64 files; not part of the generic interface. */
#ifndef ARCH_ARM64_H
#define ARCH_ARM64_H

#include <cv/vm.h>

/** Enters the guest; returns the exit kind (0 sync, 1 IRQ, 2 FIQ, 3 SError). vectors.S. */
uint64_t arm64_guest_enter(struct vcpu_regs *regs);

/** Injects an exception into the guest's EL1, as the architecture would deliver it. */
void inject_undef(struct vcpu *vcpu);
void inject_dabt(struct vcpu *vcpu, uint64_t far, bool write);
void inject_pabt(struct vcpu *vcpu, uint64_t far);

/** Handles an EC 0x18 trap. Returns the exit reason to count. */
enum exit_reason sysreg_trap(struct vcpu *vcpu, uint64_t esr);
/** Handles an HVC or SMC call from the guest (SMCCC): PSCI and SMCCC discovery. */
void smccc_call(struct vcpu *vcpu);
/** Acknowledges and handles every pending physical interrupt. Hypervisor context, with every
 *  interrupt signalled (inside arm64_irq_all_begin/end). */
void arm64_handle_host_irqs(struct vm *vm);
/** The IRQ taken at EL2 (vectors.S): the urgent timer. Interrupt context. */
void arm64_el2_irq(void);
/**
 * Around guest entry, WFI and the polling of the CPU interface: interrupts masked at EL2 and
 * every priority signalled (ICC_PMR_EL1 0xff), so that they make the guest exit, wake the
 * WFI or show in ICC_IAR1_EL1. end() restores what begin() returned. Nests.
 */
uint64_t arm64_irq_all_begin(void);
void arm64_irq_all_end(uint64_t saved);
/** Boot-time EL2 set-up of the registers that control the guest. */
void arm64_vcpu_setup_el2(struct vm *vm);

/** Registers the vCPU's state section ("CPU0") with the VM. Boot context. */
bool arm64_vcpu_register_state(struct vcpu *vcpu);

/** The ID registers that decide which PSTATE values an exception return can restore. */
struct pstate_ids {
    uint64_t pfr0;  /**< ID_AA64PFR0_EL1 */
    uint64_t pfr1;  /**< ID_AA64PFR1_EL1 */
    uint64_t mmfr1; /**< ID_AA64MMFR1_EL1 */
    uint64_t mmfr2; /**< ID_AA64MMFR2_EL1 */
};
/**
 * NULL if ERET from EL2 restores pstate (an SPSR_EL2 value) on a CPU with these ID registers
 * without an illegal return and without dropping bits; otherwise why not. Pure.
 */
const char *vcpu_pstate_check(uint64_t pstate, const struct pstate_ids *id);

/**
 * Copies an arm64 Image (img, size bytes) into guest RAM at the boot protocol's offset; sets
 * *entry and the offset in RAM where its footprint (bss included) ends. False (logged) if it is
 * not an Image or does not fit. vm_arch_load_guest's context.
 */
bool arm64_load_kernel(struct vm *vm, const void *img, uint64_t size, gpa_t *entry,
                       uint64_t *end_offset);
/**
 * Writes the guest's device tree (board_desc.arch.guest's layout, vm's RAM, the command line and
 * the initrd's guest-physical range, none if start == end) into buf. Returns its size, 0 (logged)
 * if cap is too small. Pure apart from the log.
 */
size_t arm64_build_guest_fdt(struct vm *vm, void *buf, size_t cap, const char *cmdline,
                             uint64_t initrd_start, uint64_t initrd_end);

void arm64_mmu_init(void);
void arm64_timer_init(void);

/** Saves/loads V0-V31, FPSR and FPCR (32 x 16 bytes, then the two). fpsimd.S. */
void arm64_fpsimd_save(uint64_t *buf);
void arm64_fpsimd_load(const uint64_t *buf);

/* ---- entry points from assembly ---- */

/** From boot.S with the MMU off: brings the CPU up, then runs hv_main(). Never returns. */
void arm64_boot(uint64_t fdt_pa);
struct hyp_frame;
/** From vectors.S on an exception taken at EL2 (a hypervisor bug): dumps and halts. */
void arm64_hyp_fault(struct hyp_frame *f, uint64_t kind);

/** Guest register accessor honouring XZR (register 31 reads 0, writes are dropped). */
static inline uint64_t vcpu_get_reg(const struct vcpu *v, unsigned rt)
{
    return rt == 31 ? 0 : v->arch.regs.x[rt];
}
static inline void vcpu_set_reg(struct vcpu *v, unsigned rt, uint64_t val)
{
    if (rt != 31) {
        v->arch.regs.x[rt] = val;
    }
}

/**
 * CRC32C with the CPU's CRC instructions (crc32c_insn.c, board build only): crc32c_arch_impl()'s
 * answer where ID_AA64ISAR0_EL1 has them. Any context.
 */
uint32_t arm64_crc32c(uint32_t crc, const void *data, size_t len);

#endif
