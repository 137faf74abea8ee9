/* SPDX-License-Identifier: Apache-2.0 */
/* The hypervisor's top level: boot, the main loop and the hooks between them and the arch. */
#ifndef CV_HV_H
#define CV_HV_H

#include <cv/boot.h>
#include <cv/vm.h>

#ifndef CV_VERSION
#define CV_VERSION "0.1.0-dev"
#endif

/**
 * Generic entry, called by the arch boot code with the MMU, timer and console up and boot->fw
 * set to what the firmware handed over (the board check fills in the rest of a copy).
 */
NORETURN void hv_main(const struct boot_info *boot);
/** The VM this board runs. */
struct vm *vm_current(void);
bool vm_create(struct vm *vm, hpa_t ram_host, uint64_t ram_size);
/** (Re)loads the guest image and starts the vCPU from its reset state. */
bool vm_boot(struct vm *vm);
/** Runs the guest for about ms milliseconds (it must be running), then returns. */
void vm_run_for_ms(struct vm *vm, unsigned ms);
/** Timed work run by the main loop between exits; one slot per user. */
enum hv_periodic_id {
    HV_PERIODIC_DIRTY,      /**< `dirty auto`: periodic harvests */
    HV_PERIODIC_CHECKPOINT, /**< the checkpoint engine */
    HV_PERIODIC_NET,        /**< wakes the main loop for lwIP's timers (cv/hvnet.h) */
    HV_PERIODIC_BRIDGE,     /**< service LAN link state into the guest's NIC */
    HV_PERIODIC_HEARTBEAT,  /**< COLO heartbeats on both paths, failure detection */
    HV_PERIODIC__COUNT,
};
typedef void (*hv_periodic_fn)(void *ctx);
/** Calls fn(ctx) every period_us from the main loop (hypervisor context). Replaces the slot. */
void hv_periodic_start(enum hv_periodic_id id, uint64_t period_us, hv_periodic_fn fn, void *ctx);
void hv_periodic_stop(enum hv_periodic_id id);
/**
 * Keeps the board going (NICs and lwIP via hvnet_poll, the guest if it runs, timed work) until
 * done(ctx) returns true or timeout_us passed; true if done. For shell commands that wait
 * (net ping, net send): hypervisor context, must not be nested. The console is not served
 * meanwhile (typed input waits in the UART).
 */
bool hv_wait_until(bool (*done)(void *ctx), void *ctx, uint64_t timeout_us);
/** Called from the interrupt path when the hypervisor's deadline timer fired. */
void hv_timer_expired(void);
/**
 * Calls fn(ctx) every period_us from the urgent timer's interrupt: it preempts the hypervisor
 * wherever it runs, except inside cpu_arch_irq_save() sections, so that a long loop (a large
 * release, a guest reset, a big copy) cannot delay it. fn may therefore use only what is made
 * for that context (netdev_tx_urgent) and its own data, which the main context changes under
 * cpu_arch_irq_save(). One user (the COLO heartbeats). Hypervisor context.
 */
void hv_urgent_start(uint64_t period_us, hv_periodic_fn fn, void *ctx);
/** Called from the interrupt path when the urgent timer fired. Interrupt context. */
void hv_urgent_expired(void);

/* ---- arch hooks ---- */
/** Sets up the interrupt controller and enables the hypervisor's interrupts. Boot context. */
bool cpu_arch_irq_init(void);
/** Enables a board device's (level-triggered) interrupt, e.g. a NIC's. Boot context. */
void cpu_arch_irq_enable(uint32_t intid);
/** Sleeps the CPU until an interrupt is pending, then handles host interrupts. */
void cpu_arch_idle(struct vm *vm);
/**
 * Keeps the urgent interrupt (hv_urgent_start) out until cpu_arch_irq_restore(saved): for the
 * few lines of main-context code that change what the urgent function reads. Nests. Any
 * context.
 */
unsigned long cpu_arch_irq_save(void);
void cpu_arch_irq_restore(unsigned long saved);
/** Stops the CPU for good (after a panic or a refused boot). */
NORETURN void cpu_arch_halt(void);
/** Prints what the CPU knows about where the hypervisor stopped (panic). Any context. */
void cpu_arch_panic_dump(void);
/** Board reset / power-off through the firmware. Returns only if the firmware refused. */
void system_arch_reset(void);
/** Board power-off through the firmware. Returns only if the firmware refused. */
void system_arch_off(void);

#endif
