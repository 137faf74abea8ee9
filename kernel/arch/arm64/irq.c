// SPDX-License-Identifier: Apache-2.0
// Physical interrupts. They make the guest exit (HCR_EL2.IMO), or wake a WFI, and are drained
// here by polling the CPU interface. The one exception is the urgent timer (hv_urgent_start):
// it alone has a priority above ICC_PMR_EL1 while the hypervisor itself runs (PMR_EL2_WORK,
// setup.c), so it is taken as an IRQ at EL2 wherever the hypervisor runs unmasked.
// EOImode=1 splits priority drop from deactivation so the virtual timer can be handed to the
// guest with the list register's HW bit: the guest's deactivation of the virtual interrupt
// deactivates the physical one.
#include <cv/board.h>
#include <cv/console.h>
#include <cv/hv.h>
#include <cv/log.h>
#include <cv/net.h>
#include <cv/timer.h>

#include <arch/arm64.h>
#include <arch/gicv3.h>

/* Interrupts taken at EL2 that were not the urgent timer's (none should be: the PMR keeps them
 * out): priority dropped but left active, for the main loop to handle. */
static uint64_t deferred[1024 / 64];

static void urgent_fired(void)
{
    timer_arch_ack_urgent();
    hv_urgent_expired();
}

/* Handles one acknowledged, priority-dropped interrupt; false if it must stay active. */
static bool dispatch(struct vm *vm, uint32_t intid)
{
    if (intid == board_desc.arch.timer.virt_ppi) {
        /* Stays active until the guest deactivates its virtual copy. */
        vgic_inject_hw(&vm->arch.vgic, intid, intid);
        return false;
    }
    if (intid == board_desc.arch.timer.phys_ppi) {
        urgent_fired();
    } else if (intid == board_desc.arch.timer.hyp_ppi) {
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
    return true;
}

void arm64_handle_host_irqs(struct vm *vm)
{
    for (unsigned w = 0; w < ARRAY_SIZE(deferred); w++) {
        while (deferred[w]) {
            uint32_t intid = w * 64 + (uint32_t)__builtin_ctzll(deferred[w]);
            deferred[w] &= deferred[w] - 1;
            if (dispatch(vm, intid)) {
                gicv3_deactivate(intid);
            }
        }
    }
    for (unsigned n = 0; n < 64; n++) {
        uint32_t intid = gicv3_ack();
        if (intid >= 1020) {
            return;
        }
        gicv3_eoi(intid);
        if (dispatch(vm, intid)) {
            gicv3_deactivate(intid);
        }
    }
}

void arm64_el2_irq(void)
{
    for (unsigned n = 0; n < 8; n++) {
        uint32_t intid = gicv3_ack();
        if (intid >= 1020) {
            return;
        }
        gicv3_eoi(intid);
        if (intid == board_desc.arch.timer.phys_ppi) {
            urgent_fired();
            gicv3_deactivate(intid);
        } else {
            deferred[intid / 64] |= 1ull << (intid % 64);
        }
    }
}
