// SPDX-License-Identifier: Apache-2.0
// Boot and the main loop. One physical CPU does everything: it runs the guest, and between
// exits serves the console and (later) the network and the checkpoint engine.
#include <cv/board.h>
#include <cv/console.h>
#include <cv/hv.h>
#include <cv/log.h>
#include <cv/page.h>
#include <cv/shell.h>
#include <cv/timer.h>
#include <cv/vpl011.h>

static struct vpl011 guest_uart;
static volatile bool deadline_hit;

void hv_timer_expired(void)
{
    deadline_hit = true;
}

void vm_run_for_ms(struct vm *vm, unsigned ms)
{
    uint64_t end = timer_arch_ticks() + timer_us_to_ticks((uint64_t)ms * 1000);
    deadline_hit = false;
    timer_arch_set_deadline(end);
    while (vm->state == VM_RUNNING && !deadline_hit && timer_arch_ticks() < end) {
        vm_run_once(vm);
    }
    timer_arch_set_deadline(0);
}

static bool setup_guest(struct vm *vm, uint64_t board_ram)
{
    extern uint8_t __image_end[];
    uint64_t ram_base = hpa_raw(board_desc.ram.base);
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
    if (!vm_create(vm, hpa(gbase), gsize)) {
        return false;
    }
    vpl011_init(&guest_uart, vm, board_desc.guest.uart, board_desc.guest.uart_irq);
    if (!vpl011_register(&guest_uart, &vm->bus)) {
        return false;
    }
    console_set_guest_uart(&guest_uart);
    return true;
}

void hv_main(const void *fdt)
{
    cv_printf("\ncolovisor %s (%s)\n", CV_VERSION, board_desc.name);
    uint64_t board_ram = 0;
    if (!board_check_fdt(&board_desc, fdt, &board_ram)) {
        cv_printf("colovisor: board check failed; the board is halted\n");
        arch_halt();
    }
    if (!cpu_arch_irq_init()) {
        panic("interrupt controller set-up failed");
    }
    struct vm *vm = vm_current();
    if (!setup_guest(vm, board_ram)) {
        cv_printf("colovisor: guest set-up failed; the board is halted\n");
        arch_halt();
    }
    vm_boot(vm);
    log_info("colovisor: ready; type 'help' for commands");
    shell_prompt();
    for (;;) {
        console_poll();
        if (vm->state == VM_RUNNING) {
            vm_run_once(vm);
        } else {
            cpu_arch_idle(vm);
        }
    }
}
