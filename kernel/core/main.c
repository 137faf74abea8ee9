// SPDX-License-Identifier: Apache-2.0
// Boot and the main loop. One physical CPU does everything: it runs the guest, and between
// exits serves the console and (later) the network and the checkpoint engine.
#include <cv/board.h>
#include <cv/colo_board.h>
#include <cv/config.h>
#include <cv/console.h>
#include <cv/hv.h>
#include <cv/hvnet.h>
#include <cv/log.h>
#include <cv/net_bridge.h>
#include <cv/random.h>
#include <cv/page.h>
#include <cv/sections.h>
#include <cv/shell.h>
#include <cv/timer.h>

/*
 * Timed work of the hypervisor (periodic dirty harvests today, checkpoints later) runs from the
 * main loop, between exits. The EL2 timer is programmed for the earliest deadline so that a
 * guest that never exits on its own is still interrupted on time.
 */
struct periodic {
    hv_periodic_fn fn;
    void *ctx;
    uint64_t period; /* ticks; 0 = slot unused */
    uint64_t next;
};
static struct periodic periodic[HV_PERIODIC__COUNT];
static uint64_t run_until; /* vm_run_for_ms deadline in ticks; 0 = none */

static void program_timer(void)
{
    uint64_t t = run_until;
    for (unsigned i = 0; i < HV_PERIODIC__COUNT; i++) {
        if (periodic[i].period && (t == 0 || periodic[i].next < t)) {
            t = periodic[i].next;
        }
    }
    timer_arch_set_deadline(t);
}

void hv_timer_expired(void)
{
    /* Nothing to do here: the main loop checks the deadlines after every exit. */
}

/*
 * The urgent function runs from its own timer's interrupt, which preempts everything the
 * hypervisor does outside cpu_arch_irq_save() (cv/hv.h). Its slot is written only with that
 * interrupt kept out.
 */
static struct {
    hv_periodic_fn fn;
    void *ctx;
    uint64_t period, next; /* ticks */
} urgent;

/* The deadline after one that came due at `now`: a period on, or a period from now if that
 * fell behind (skipped rounds are not run in a burst). */
static uint64_t next_deadline(uint64_t next, uint64_t period, uint64_t now)
{
    next += period;
    return next <= now ? now + period : next;
}

void hv_urgent_start(uint64_t period_us, hv_periodic_fn fn, void *ctx)
{
    uint64_t p = timer_us_to_ticks(period_us);
    unsigned long f = cpu_arch_irq_save();
    urgent.fn = fn;
    urgent.ctx = ctx;
    urgent.period = p ? p : 1;
    urgent.next = timer_arch_ticks() + urgent.period;
    timer_arch_set_urgent(urgent.next);
    cpu_arch_irq_restore(f);
}

void hv_urgent_expired(void)
{
    if (!urgent.fn) {
        return;
    }
    uint64_t now = timer_arch_ticks();
    if (now >= urgent.next) {
        urgent.next = next_deadline(urgent.next, urgent.period, now);
        urgent.fn(urgent.ctx);
    }
    timer_arch_set_urgent(urgent.next);
}

void hv_periodic_start(enum hv_periodic_id id, uint64_t period_us, hv_periodic_fn fn, void *ctx)
{
    uint64_t p = timer_us_to_ticks(period_us);
    periodic[id] = (struct periodic){fn, ctx, p ? p : 1, timer_arch_ticks() + (p ? p : 1)};
    program_timer();
}

void hv_periodic_stop(enum hv_periodic_id id)
{
    periodic[id].period = 0;
    program_timer();
}

static void run_due(void)
{
    uint64_t now = timer_arch_ticks();
    bool any = false;
    for (unsigned i = 0; i < HV_PERIODIC__COUNT; i++) {
        struct periodic *p = &periodic[i];
        if (p->period && now >= p->next) {
            p->next = next_deadline(p->next, p->period, now);
            p->fn(p->ctx);
            any = true;
        }
    }
    if (any) {
        program_timer();
    }
}

void vm_run_for_ms(struct vm *vm, unsigned ms)
{
    run_until = timer_arch_ticks() + timer_us_to_ticks((uint64_t)ms * 1000);
    program_timer();
    while (vm->state == VM_RUNNING && timer_arch_ticks() < run_until) {
        vm_run_once(vm);
    }
    run_until = 0;
    program_timer();
}

bool hv_wait_until(bool (*done)(void *ctx), void *ctx, uint64_t timeout_us)
{
    struct vm *vm = vm_current();
    uint64_t saved = run_until;
    uint64_t end = timer_arch_ticks() + timer_us_to_ticks(timeout_us);
    /* The timeout is a deadline for the EL2 timer too, so an idle board wakes up for it. */
    if (run_until == 0 || end < run_until) {
        run_until = end;
        program_timer();
    }
    bool ok;
    for (;;) {
        hvnet_poll();
        colo_board_poll();
        if ((ok = done(ctx)) || timer_arch_ticks() >= end) {
            break;
        }
        if (vm->state == VM_RUNNING) {
            vm_run_once(vm);
        } else {
            cpu_arch_idle(vm);
        }
        run_due();
    }
    run_until = saved;
    program_timer();
    return ok;
}

static bool setup_guest(struct vm *vm, const struct boot_info *boot)
{
    uint64_t ram_base = hpa_raw(boot->ram.base);
    uint64_t board_ram = boot->ram.size;
    uint64_t ram_end = ram_base + board_ram;
    uint64_t gsize = board_desc.guest.ram_size;
    uint64_t image_end = ALIGN_UP(hpa_raw(hva_to_hpa(__image_end)), PAGE_SIZE);
    /* Guest RAM at the top of board RAM, 2 MiB aligned; the hypervisor's pool below it. */
    uint64_t gbase = ALIGN_DOWN(ram_end - gsize, 2ull << 20);
    if (gsize > board_ram || gbase < image_end + (16ull << 20)) {
        log_err("board: %llu MiB of RAM cannot hold a %llu MiB guest and the hypervisor",
                (unsigned long long)(board_ram >> 20), (unsigned long long)(gsize >> 20));
        return false;
    }
    page_pool_init(hpa(image_end), gbase - image_end);
    log_info("memory: board %llu MiB, guest %llu MiB at 0x%llx, hypervisor pool %llu MiB",
             (unsigned long long)(board_ram >> 20), (unsigned long long)(gsize >> 20),
             (unsigned long long)gbase, (unsigned long long)((gbase - image_end) >> 20));
    return vm_create(vm, hpa(gbase), gsize) && board_guest_devices_init(vm);
}

void hv_main(const struct boot_info *from_fw)
{
    cv_printf("\ncolovisor %s (%s)\n", CV_VERSION, board_desc.name);
    /* The board check adds what it finds in the firmware's description. */
    struct boot_info boot = *from_fw;
    if (!board_arch_check(&board_desc, &boot)) {
        cv_printf("colovisor: board check failed; the board is halted\n");
        cpu_arch_halt();
    }
    /* The firmware's seed leaves its description here, before anything else could read it. */
    random_init(&boot);
    config_init(&boot);
    if (!cpu_arch_irq_init()) {
        panic("interrupt controller set-up failed");
    }
    struct vm *vm = vm_current();
    if (!setup_guest(vm, &boot)) {
        cv_printf("colovisor: guest set-up failed; the board is halted\n");
        cpu_arch_halt();
    }
    board_nics_probe();
    hvnet_init();
    net_bridge_init(board_guest_nic());
    vm_boot(vm);
    if (config_get()->role == CV_ROLE_SECONDARY) {
        /*
         * A secondary must not run its own copy of the guest on the shared service LAN (same
         * MAC and address as the primary's); it holds it until checkpoints or a failover
         * decide. `guest resume` starts it by hand, but only while it holds no replica.
         */
        vm_pause(vm);
        log_info("guest: held (secondary board: waits for the primary)");
    }
    colo_board_init(vm);
    log_info("colovisor: ready; type 'help' for commands");
    shell_prompt();
    for (;;) {
        console_poll();
        hvnet_poll();
        colo_board_poll();
        if (vm->state == VM_RUNNING) {
            vm_run_once(vm);
        } else {
            cpu_arch_idle(vm);
        }
        run_due();
    }
}
