// SPDX-License-Identifier: Apache-2.0
// From boot.S to the generic hv_main: MMU, time base, console, then the interrupt controller.
#include <cv/board.h>
#include <cv/boot.h>
#include <cv/console.h>
#include <cv/hv.h>
#include <cv/page.h>

#include <arch/arm64.h>
#include <arch/gicv3.h>
#include <arch/sysreg.h>

void arm64_boot(uint64_t fdt_pa)
{
    arm64_mmu_init();
    arm64_timer_init();
    console_init();
    struct boot_info boot = {.fw = {.kind = BOOT_FW_FDT, .desc = hpa_to_hva(hpa(fdt_pa))}};
    hv_main(&boot);
}

/*
 * Priorities: the urgent timer above everything; while the hypervisor runs, the CPU interface
 * signals only priorities above PMR_EL2_WORK, i.e. the urgent timer alone, which the
 * hypervisor takes as an IRQ at EL2 (PSTATE.I clear). Around guest entry, WFI and the polling
 * of pending interrupts the PMR is opened to all and PSTATE.I set (arm64_irq_all_begin).
 */
#define PRIO_URGENT 0x10
#define PMR_EL2_WORK 0x40
#define PMR_ALL 0xff

bool cpu_arch_irq_init(void)
{
    if (!gicv3_init(&board_desc.arch.gic)) {
        return false;
    }
    gicv3_irq_enable(board_desc.arch.timer.phys_ppi, PRIO_URGENT);
    gicv3_irq_enable(board_desc.arch.timer.hyp_ppi, 0x80);
    gicv3_irq_enable(board_desc.arch.timer.virt_ppi, 0x80);
    gicv3_irq_enable(board_desc.arch.timer.maint_ppi, 0x80);
    gicv3_irq_enable(board_desc.arch.uart.irq, 0xa0);
    icc_pmr_write(PMR_EL2_WORK);
    isb();
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    return true;
}

unsigned long cpu_arch_irq_save(void)
{
    uint64_t daif;
    __asm__ volatile("mrs %0, daif\n\tmsr daifset, #2" : "=r"(daif)::"memory");
    return (unsigned long)daif;
}

void cpu_arch_irq_restore(unsigned long saved)
{
    __asm__ volatile("msr daif, %0" ::"r"((uint64_t)saved) : "memory");
}

uint64_t arm64_irq_all_begin(void)
{
    uint64_t daif = cpu_arch_irq_save();
    uint64_t pmr = icc_pmr_read();
    icc_pmr_write(PMR_ALL);
    isb();
    return daif | pmr << 32;
}

void arm64_irq_all_end(uint64_t saved)
{
    icc_pmr_write(saved >> 32);
    isb();
    cpu_arch_irq_restore((unsigned long)(saved & 0xffffffffu));
}

void cpu_arch_irq_enable(uint32_t intid)
{
    /* virtio-mmio holds its line high until InterruptACK: level, not the edge the DT says. */
    gicv3_set_level_trigger(intid, true);
    gicv3_irq_enable(intid, 0xa0);
}

void cpu_arch_idle(struct vm *vm)
{
    uint64_t f = arm64_irq_all_begin();
    dsb(sy);
    wfi();
    arm64_handle_host_irqs(vm);
    arm64_irq_all_end(f);
}
