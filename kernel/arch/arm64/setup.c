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

bool cpu_arch_irq_init(void)
{
    if (!gicv3_init(&board_desc.arch.gic)) {
        return false;
    }
    gicv3_irq_enable(board_desc.arch.timer.hyp_ppi, 0x80);
    gicv3_irq_enable(board_desc.arch.timer.virt_ppi, 0x80);
    gicv3_irq_enable(board_desc.arch.timer.maint_ppi, 0x80);
    gicv3_irq_enable(board_desc.arch.uart.irq, 0xa0);
    return true;
}

void cpu_arch_irq_enable(uint32_t intid)
{
    /* virtio-mmio holds its line high until InterruptACK: level, not the edge the DT says. */
    gicv3_set_level_trigger(intid, true);
    gicv3_irq_enable(intid, 0xa0);
}

void cpu_arch_idle(struct vm *vm)
{
    dsb(sy);
    wfi();
    arm64_handle_host_irqs(vm);
}
