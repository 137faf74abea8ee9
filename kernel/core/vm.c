// SPDX-License-Identifier: Apache-2.0
// The generic VM: guest RAM, state, loading, the run step, power requests and VM state
// serialisation. Arch specifics come in through the *_arch_* hooks of cv/vm.h.
#include <string.h>

#include <cv/board.h>
#include <cv/hv.h>
#include <cv/image.h>
#include <cv/log.h>
#include <cv/page.h>
#include <cv/sections.h>
#include <cv/timer.h>
#include <cv/vm.h>

static struct vm the_vm;

struct vm *vm_current(void)
{
    return &the_vm;
}

bool vm_register_vmstate(struct vm *vm, const struct vmstate_ops *ops)
{
    if (vm->vmstate_count == VM_MAX_VMSTATE) {
        log_err("vm: too many state sections");
        return false;
    }
    vm->vmstate[vm->vmstate_count++] = *ops;
    return true;
}

static bool vm_load_guest(struct vm *vm)
{
    size_t len = (size_t)(__guest_image_end - __guest_image_start);
    struct cv_image_info info;
    char err[128];
    if (!cv_image_parse(__guest_image_start, len, &info, err, sizeof(err))) {
        log_err("%s", err);
        return false;
    }
    memset(vm->ram.hva, 0, vm->ram.size);
    return vm_arch_load_guest(vm, &info, __guest_image_start);
}

bool vm_create(struct vm *vm, hpa_t ram_host, uint64_t ram_size)
{
    vm->name = "guest";
    vm->vcpu.vm = vm;
    vm->ram.base = board_desc.guest.ram_base;
    vm->ram.size = ram_size;
    vm->ram.host = ram_host;
    vm->ram.hva = hpa_to_hva(ram_host);
    vm->dirty.npages = ram_size >> PAGE_SHIFT;
    vm->io_bus.space = BUS_PIO;
    if (!vm_arch_init(vm) || !vm_arch_map_ram(vm)) {
        return false;
    }
    return true;
}

bool vm_boot(struct vm *vm)
{
    enum dirty_mode logged = vm->dirty.mode;
    if (logged != DIRTY_OFF) {
        dirty_log_stop(vm);
    }
    bool loaded = vm_load_guest(vm);
    if (logged != DIRTY_OFF && vm->dirty.owner) {
        /* The checkpoint engine keeps its log across a guest reboot, and the reload rewrote
         * guest RAM behind stage 2's back: all of it is dirty. */
        if (dirty_log_start(vm, logged)) {
            dirty_log_mark(vm, vm->ram.base, vm->ram.size);
        } else {
            vm->dirty.owner = NULL;
        }
    }
    if (!loaded) {
        vm->state = VM_STOPPED;
        log_err("guest: not started");
        return false;
    }
    /* The loader zeroed and filled all of RAM; the guest starts with its MMU and caches off. */
    guest_mem_arch_sync(vm, vm->ram.base, vm->ram.size);
    for (unsigned i = 0; i < vm->vmstate_count; i++) {
        if (vm->vmstate[i].reset) {
            vm->vmstate[i].reset(vm->vmstate[i].ctx);
        }
    }
    vcpu_arch_reset(&vm->vcpu, vm->entry, vm->entry_arg);
    vm->state = VM_RUNNING;
    vm->power_req = VM_POWER_NONE;
    vm->started_us = time_now_us();
    return true;
}

void vm_pause(struct vm *vm)
{
    if (vm->state == VM_RUNNING) {
        vm->state = VM_PAUSED;
    }
}

void vm_resume(struct vm *vm)
{
    if (vm->state == VM_PAUSED) {
        vm->state = VM_RUNNING;
        vm_state_resumed(vm);
    }
}

void vm_run_once(struct vm *vm)
{
    dirty_log_guest_entering(&vm->dirty);
    vcpu_arch_run(&vm->vcpu);
    switch (vm->power_req) {
    case VM_POWER_OFF:
        vm->power_req = VM_POWER_NONE;
        vm->state = VM_STOPPED;
        log_info("guest: powered off (PSCI SYSTEM_OFF)");
        break;
    case VM_POWER_RESET:
        vm->power_req = VM_POWER_NONE;
        log_info("guest: reset (PSCI SYSTEM_RESET)");
        vm_boot(vm);
        break;
    case VM_POWER_NONE:
    default:
        break;
    }
}
