// SPDX-License-Identifier: Apache-2.0
// Physical interrupts. The hypervisor never takes an IRQ exception at EL2: physical interrupts
// make the guest exit (HCR_EL2.IMO), or wake a WFI, and are drained here by polling the CPU
// interface. EOImode=1 splits priority drop from deactivation so the virtual timer can be
// handed to the guest with the list register's HW bit: the guest's deactivation of the
// virtual interrupt deactivates the physical one.
#include <cv/board.h>
#include <cv/console.h>
#include <cv/hv.h>
#include <cv/log.h>
#include <cv/net.h>
#include <cv/timer.h>

#include <arch/arm64.h>
#include <arch/gicv3.h>

void arm64_handle_host_irqs(struct vm *vm)
{
    for (unsigned n = 0; n < 64; n++) {
        uint32_t intid = gicv3_ack();
        if (intid >= 1020) {
            return;
        }
        gicv3_eoi(intid);
        if (intid == board_desc.arch.timer.virt_ppi) {
            /* Stays active until the guest deactivates its virtual copy. */
            vgic_inject_hw(&vm->arch.vgic, intid, intid);
            continue;
        }
        if (intid == board_desc.arch.timer.hyp_ppi) {
            timer_arch_ack();
            hv_timer_expired();
        } else if (intid == board_desc.arch.uart.irq) {
            board_console_irq();
        } else if (intid == board_desc.arch.timer.maint_ppi) {
            vgic_handle_maintenance(&vm->arch.vgic);
        } else if (netdev_irq(intid)) {
            /* The NIC acknowledged its interrupt status and was polled. */
        } else {
            log_warn("irq: unexpected physical interrupt %u", intid);
        }
        gicv3_deactivate(intid);
    }
}
