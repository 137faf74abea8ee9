// SPDX-License-Identifier: Apache-2.0
// The arm64 half of VM creation and vCPU reset: stage 2, the EL2 trap configuration, the vGIC.
#include <cv/board.h>
#include <cv/log.h>
#include <cv/vm.h>

#include <arch/arm64.h>
#include <arch/gicv3.h>
#include <arch/s2.h>
#include <arch/sysreg.h>
#include <arch/tlb.h>

/* Traps: see sysreg_emul.c for the policy behind TID3/TIDCP/TACR/TLOR and MDCR_EL2. */
#define GUEST_HCR                                                                                  \
    (HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_TWI | HCR_TID3 | HCR_TSC | HCR_TIDCP |  \
     HCR_TACR | HCR_RW | HCR_TLOR | HCR_APK | HCR_API)

/* HCR_EL2.FWB goes with the stage-2 encoding s2.c uses for this VM (s2_pgtable.fwb). */
static uint64_t guest_hcr(const struct vm *vm)
{
    return GUEST_HCR | (vm->arch.s2.fwb ? HCR_FWB : 0);
}

bool vm_arch_init(struct vm *vm)
{
    vm->arch.vmid = 1;
    if (!s2_init(&vm->arch.s2)) {
        log_err("vm: cannot allocate stage-2 tables");
        return false;
    }
    vm->arch.s2.fwb = s2_fwb_supported(read_sysreg(id_aa64mmfr2_el1));
    log_info("vm: stage 2 %s", vm->arch.s2.fwb
                                   ? "forces write-back (FEAT_S2FWB): no cleaning for the guest"
                                   : "without FEAT_S2FWB: guest RAM the hypervisor writes is "
                                     "cleaned to PoC before the guest runs");
    vgic_init(&vm->arch.vgic, board_desc.arch.guest.gicd, board_desc.arch.guest.gicr,
              board_desc.arch.timer.maint_ppi);
    /* The virtual timer's PPI is lent to the guest as itself (arm64_handle_host_irqs). */
    vgic_link_hw(&vm->arch.vgic, board_desc.arch.timer.virt_ppi, board_desc.arch.timer.virt_ppi);
    if (!vgic_register_mmio(&vm->arch.vgic, &vm->bus)) {
        return false;
    }
    arm64_vcpu_setup_el2(vm);
    struct vmstate_ops vgic_ops = {0};
    vgic_vmstate_ops(&vm->arch.vgic, &vgic_ops);
    return arm64_vcpu_register_state(&vm->vcpu) && vm_register_vmstate(vm, &vgic_ops);
}

bool vm_arch_map_ram(struct vm *vm)
{
    if (!s2_map(&vm->arch.s2, vm->ram.base, vm->ram.host, vm->ram.size, S2_MEM_NORMAL,
                S2_PERM_RWX)) {
        log_err("vm: cannot map guest RAM in stage 2");
        return false;
    }
    tlb_flush_guest_all();
    return true;
}

void vm_arch_irq_set_level(struct vm *vm, uint32_t intid, bool level)
{
    vgic_set_level(&vm->arch.vgic, intid, level);
}

void arm64_vcpu_setup_el2(struct vm *vm)
{
    write_sysreg(hcr_el2, guest_hcr(vm));
    /* FP/SIMD stays untrapped: the guest owns those registers (the hypervisor never uses them). */
    write_sysreg(cptr_el2, CPTR_RES1 | CPTR_TZ | CPTR_TSM | CPTR_TTA | CPTR_TAM);
    write_sysreg(mdcr_el2,
                 MDCR_TPMCR | MDCR_TPM | MDCR_TDA | MDCR_TDOSA | MDCR_TDRA | MDCR_TPMS | MDCR_TTRF);
    write_sysreg(cnthctl_el2, CNTHCTL_EL1PCTEN);
    write_sysreg(cntvoff_el2, 0);
    write_sysreg(vpidr_el2, read_sysreg(midr_el1));
    write_sysreg(vmpidr_el2, 0x80000000ull); /* uniprocessor-style MPIDR: Aff 0.0.0.0 */
    bool hw_dirty = dirty_arch_supported(vm, DIRTY_HW);
    write_sysreg(vtcr_el2, s2_vtcr_value(read_sysreg(id_aa64mmfr0_el1) & 0xf, hw_dirty));
    write_sysreg(vttbr_el2, s2_vttbr_value(&vm->arch.s2, vm->arch.vmid));
    isb();
    tlb_flush_guest_all();
}

void vcpu_arch_reset(struct vcpu *vcpu, gpa_t entry, uint64_t arg)
{
    struct vcpu_regs *r = &vcpu->arch.regs;
    for (unsigned i = 0; i < 31; i++) {
        r->x[i] = 0;
    }
    r->x[0] = arg;
    r->pc = gpa_raw(entry);
    r->pstate = PSR_MODE_EL1h | PSR_DAIF;
    vcpu->arch.mpidr = 0x80000000ull;
    vgic_reset(&vcpu->vm->arch.vgic);

    /* Architectural reset values of the EL1 state the guest may rely on. */
    write_sysreg(sctlr_el1, 0x30d00800ull);
    write_sysreg(cpacr_el1, 0);
    write_sysreg(tcr_el1, 0);
    write_sysreg(ttbr0_el1, 0);
    write_sysreg(ttbr1_el1, 0);
    write_sysreg(mair_el1, 0);
    write_sysreg(amair_el1, 0);
    write_sysreg(vbar_el1, 0);
    write_sysreg(contextidr_el1, 0);
    write_sysreg(tpidr_el0, 0);
    write_sysreg(tpidrro_el0, 0);
    write_sysreg(tpidr_el1, 0);
    write_sysreg(sp_el0, 0);
    write_sysreg(sp_el1, 0);
    write_sysreg(elr_el1, 0);
    write_sysreg(spsr_el1, 0);
    write_sysreg(esr_el1, 0);
    write_sysreg(far_el1, 0);
    write_sysreg(par_el1, 0);
    write_sysreg(afsr0_el1, 0);
    write_sysreg(afsr1_el1, 0);
    write_sysreg(cntkctl_el1, 0);
    write_sysreg(cntv_ctl_el0, 0);
    write_sysreg(cntv_cval_el0, 0);
    write_sysreg(mdscr_el1, 0);
    write_sysreg(hcr_el2, guest_hcr(vcpu->vm));
    isb();
}

void vm_arch_shift_virtual_time(struct vm *vm, int64_t ticks)
{
    (void)vm;
    /* CNTVCT = CNTPCT - CNTVOFF: a smaller offset moves the guest's clock forward. */
    write_sysreg(cntvoff_el2, read_sysreg(cntvoff_el2) - (uint64_t)ticks);
    isb();
}

void vm_arch_sync_guest_code(struct vm *vm)
{
    guest_mem_arch_sync(vm, vm->ram.base, vm->ram.size);
    tlb_flush_guest_all();
}
