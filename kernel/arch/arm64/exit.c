// SPDX-License-Identifier: Apache-2.0
// Running the vCPU and handling its exits. Every exit is handled to completion here, with the
// vCPU stopped, before vcpu_arch_run() returns to the generic loop.
#include <cv/log.h>
#include <cv/vm.h>

#include <arch/arm64.h>
#include <arch/fault_ipa.h>
#include <arch/gicv3.h>
#include <arch/mmio_decode.h>
#include <arch/s2_abort.h>
#include <arch/sysreg.h>

static void skip_insn(struct vcpu *v)
{
    v->arch.regs.pc += (v->arch.exit.esr & ESR_IL) ? 4 : 2;
}

static enum exit_reason handle_dabt(struct vcpu *v)
{
    struct vm *vm = v->vm;
    struct dabt_info d;
    dabt_decode(v->arch.exit.esr, &d);
    gpa_t ipa = dabt_ipa(v->arch.exit.hpfar, v->arch.exit.far);

    /*
     * A write to write-protected RAM: dirty logging. A stage-1 walk that sets hardware
     * access/dirty flags in the guest's tables counts as a write too (S1PTW).
     */
    if (s2_abort_dirty_fault(vm, v->arch.exit.esr, v->arch.exit.hpfar, v->arch.exit.far)) {
        return EXIT_DIRTY;
    }
    if (vm_gpa_in_ram(vm, ipa, 1)) {
        log_guest(LOG_WARN,
                  "guest: unexpected stage-2 fault in RAM at 0x%llx (dfsc=0x%x), abort injected",
                  (unsigned long long)gpa_raw(ipa), d.dfsc);
        inject_dabt(v, v->arch.exit.far, d.write);
        return EXIT_INJECT_FAULT;
    }
    if (d.cache_maint) {
        /* Cache maintenance by VA on a device or hole: nothing to maintain; skip it. */
        skip_insn(v);
        return EXIT_MMIO;
    }
    if (!d.isv) {
        log_guest(LOG_WARN,
                  "guest: device access at 0x%llx without syndrome (pc=0x%llx), abort injected",
                  (unsigned long long)gpa_raw(ipa), (unsigned long long)v->arch.regs.pc);
        inject_dabt(v, v->arch.exit.far, d.write);
        return EXIT_INJECT_FAULT;
    }
    struct bus_access a = {.addr = gpa_raw(ipa), .size = d.size, .write = d.write};
    if (d.write) {
        uint64_t val = vcpu_get_reg(v, d.rt);
        a.value = d.size == 8 ? val : val & ((1ull << (d.size * 8)) - 1);
    }
    if (bus_dispatch(&vm->bus, &a) != BUS_OK) {
        const struct bus_dev *dev = bus_find(&vm->bus, gpa_raw(ipa), d.size);
        log_guest(LOG_WARN, "guest: bad %u-byte %s at 0x%llx (%s), abort injected", d.size,
                  d.write ? "write" : "read", (unsigned long long)gpa_raw(ipa),
                  dev ? dev->name : "no device");
        inject_dabt(v, v->arch.exit.far, d.write);
        return EXIT_INJECT_FAULT;
    }
    if (!d.write) {
        vcpu_set_reg(v, d.rt, dabt_load_value(&d, a.value));
    }
    skip_insn(v);
    return EXIT_MMIO;
}

static enum exit_reason handle_iabt(struct vcpu *v)
{
    /*
     * The stage-1 walk of a fetch had to set an access flag in a table page the dirty log
     * write-protects: log it and retry, exactly as for a data access.
     */
    if (s2_abort_dirty_fault(v->vm, v->arch.exit.esr, v->arch.exit.hpfar, v->arch.exit.far)) {
        return EXIT_DIRTY;
    }
    log_guest(LOG_WARN, "guest: instruction abort at 0x%llx (esr=0x%llx), abort injected",
              (unsigned long long)v->arch.exit.far, (unsigned long long)v->arch.exit.esr);
    inject_pabt(v, v->arch.exit.far);
    return EXIT_INJECT_FAULT;
}

static enum exit_reason handle_wfx(struct vcpu *v)
{
    uint64_t iss = ESR_ISS(v->arch.exit.esr);
    skip_insn(v);
    if ((iss & 3) == 1 || (iss & 3) == 3) {
        return EXIT_IDLE; /* WFE/WFET: a hint; one vCPU has nobody to wait for */
    }
    /*
     * WFI: sleep the physical CPU until any interrupt is pending (WFI wakes on a pending
     * interrupt even with PSTATE.I set), then handle it. One wait per trap: the generic loop
     * gets control back to serve the console, and a spurious WFI completion is architectural.
     */
    vgic_sync(&v->vm->arch.vgic);
    if (!vgic_has_pending(&v->vm->arch.vgic)) {
        uint64_t f = arm64_irq_all_begin();
        dsb(sy);
        wfi();
        arm64_handle_host_irqs(v->vm);
        arm64_irq_all_end(f);
    }
    return EXIT_IDLE;
}

static enum exit_reason handle_sync(struct vcpu *v)
{
    uint64_t esr = v->arch.exit.esr;
    switch (ESR_EC(esr)) {
    case EC_DABT_LOW:
        return handle_dabt(v);
    case EC_WFX:
        return handle_wfx(v);
    case EC_HVC64:
        /* HVC's preferred return address is already the next instruction. */
        smccc_call(v);
        return EXIT_HYPERCALL;
    case EC_SMC64:
        smccc_call(v);
        skip_insn(v);
        return EXIT_FIRMWARE;
    case EC_SYSREG:
        return sysreg_trap(v, esr);
    case EC_IABT_LOW:
        return handle_iabt(v);
    case EC_SVE:
    case EC_SME:
    case EC_FPSIMD:
    case EC_UNKNOWN:
        inject_undef(v);
        return EXIT_INJECT_UND;
    default:
        log_guest(LOG_WARN,
                  "guest: unhandled exception class 0x%x (esr=0x%llx pc=0x%llx), undef injected",
                  ESR_EC(esr), (unsigned long long)esr, (unsigned long long)v->arch.regs.pc);
        inject_undef(v);
        return EXIT_INJECT_UND;
    }
}

const char *exit_arch_name(enum exit_reason r)
{
    /* The names `status` printed before the categories became generic; scripts parse them. */
    static const char *const names[EXIT__COUNT] = {
        [EXIT_HYPERCALL] = "hvc",
        [EXIT_FIRMWARE] = "smc",
        [EXIT_MMIO] = "mmio",
        [EXIT_SYSREG] = "sysreg",
        [EXIT_IDLE] = "wfx",
        [EXIT_IRQ] = "irq",
        [EXIT_DIRTY] = "dirty",
        [EXIT_INJECT_FAULT] = "abort_injected",
        [EXIT_INJECT_UND] = "undef_injected",
        [EXIT_OTHER] = "other",
    };
    return (unsigned)r < EXIT__COUNT ? names[r] : NULL;
}

static bool cpu_has_erratum_834220(void)
{
    static int known = -1;
    if (known < 0) {
        known = midr_has_erratum_834220(read_sysreg(midr_el1));
    }
    return known;
}

void vcpu_arch_run(struct vcpu *vcpu)
{
    struct vm *vm = vcpu->vm;
    vgic_flush(&vm->arch.vgic);
    /* Every interrupt must make the guest exit; the exit is handled with them still masked. */
    uint64_t irqs = arm64_irq_all_begin();
    uint64_t kind = arm64_guest_enter(&vcpu->arch.regs);
    vcpu->arch.exit.kind = kind;
    vcpu->arch.exit.esr = read_sysreg(esr_el2);
    vcpu->arch.exit.far = read_sysreg(far_el2);
    vcpu->arch.exit.hpfar = read_sysreg(hpfar_el2);
    vgic_sync(&vm->arch.vgic);
    if (kind == 1 || kind == 2) {
        arm64_handle_host_irqs(vm);
    }
    /* From here the urgent timer may preempt the exit's handling (a guest reset takes long). */
    arm64_irq_all_end(irqs);

    enum exit_reason r;
    switch (kind) {
    case 0:
        /* HPFAR_EL2 is not valid for every abort (fault_ipa.c); else the guest retries. */
        r = fault_ipa_fixup(&vcpu->arch.exit, cpu_has_erratum_834220()) ? handle_sync(vcpu)
                                                                        : EXIT_OTHER;
        break;
    case 1:
    case 2:
        r = EXIT_IRQ;
        break;
    default:
        /* A physical SError taken while the guest ran: give it to the guest as a virtual one. */
        log_guest(LOG_WARN, "guest: SError (esr=0x%llx), forwarded as virtual SError",
                  (unsigned long long)vcpu->arch.exit.esr);
        write_sysreg(hcr_el2, read_sysreg(hcr_el2) | HCR_VSE);
        r = EXIT_OTHER;
        break;
    }
    vm->exits[r]++;
}
