// SPDX-License-Identifier: Apache-2.0
// The generic VM: guest RAM, state, loading, the run step, power requests and VM state
// serialisation. Arch specifics come in through the *_arch_* hooks of cv/vm.h.
#include <string.h>

#include <cv/board.h>
#include <cv/hv.h>
#include <cv/image.h>
#include <cv/log.h>
#include <cv/page.h>
#include <cv/timer.h>
#include <cv/vm.h>

bool vm_arch_load_kernel(struct vm *vm, const void *img, uint64_t size, gpa_t *entry,
                         uint64_t *end_offset);
size_t vm_arch_build_fdt(struct vm *vm, void *buf, size_t cap, const char *cmdline,
                         uint64_t initrd_start, uint64_t initrd_end);

/* The top 2 MiB of guest RAM hold the device tree (the arm64 boot protocol's maximum size). */
#define DTB_AREA (2ull << 20)
#define DEFAULT_CMDLINE "console=ttyAMA0"

static struct vm the_vm;

struct vm *vm_current(void)
{
    return &the_vm;
}

const char *exit_reason_name(enum exit_reason r)
{
    static const char *const names[EXIT__COUNT] = {
        [EXIT_HVC] = "hvc",
        [EXIT_SMC] = "smc",
        [EXIT_MMIO] = "mmio",
        [EXIT_SYSREG] = "sysreg",
        [EXIT_WFX] = "wfx",
        [EXIT_IRQ] = "irq",
        [EXIT_DIRTY] = "dirty",
        [EXIT_INJECT_ABT] = "abort_injected",
        [EXIT_INJECT_UND] = "undef_injected",
        [EXIT_OTHER] = "other",
    };
    return (unsigned)r < EXIT__COUNT ? names[r] : "?";
}

bool vm_gpa_in_ram(const struct vm *vm, gpa_t addr, uint64_t len)
{
    uint64_t a = gpa_raw(addr), b = gpa_raw(vm->ram.base);
    return a >= b && a - b <= vm->ram.size && len <= vm->ram.size - (a - b);
}

void *vm_gpa_to_hva(const struct vm *vm, gpa_t addr, uint64_t len)
{
    if (!vm_gpa_in_ram(vm, addr, len)) {
        return NULL;
    }
    return vm->ram.hva + (gpa_raw(addr) - gpa_raw(vm->ram.base));
}

bool vm_read(const struct vm *vm, gpa_t addr, void *dst, uint64_t len)
{
    const void *src = vm_gpa_to_hva(vm, addr, len);
    if (!src) {
        return false;
    }
    memcpy(dst, src, len);
    return true;
}

bool vm_write(struct vm *vm, gpa_t addr, const void *src, uint64_t len)
{
    void *dst = vm_gpa_to_hva(vm, addr, len);
    if (!dst) {
        return false;
    }
    memcpy(dst, src, len);
    return true;
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
    extern const uint8_t __guest_image_start[], __guest_image_end[];
    size_t len = (size_t)(__guest_image_end - __guest_image_start);
    struct cv_image_info info;
    char err[128];
    if (!cv_image_parse(__guest_image_start, len, &info, err, sizeof(err))) {
        log_err("%s", err);
        return false;
    }
    memset(vm->ram.hva, 0, vm->ram.size);
    uint64_t end;
    if (!vm_arch_load_kernel(vm, __guest_image_start + info.kernel->offset, info.kernel->size,
                             &vm->entry, &end)) {
        return false;
    }
    /* Initrd just below the device tree area, page aligned; the kernel must end below it. */
    uint64_t dtb_off = vm->ram.size - DTB_AREA;
    uint64_t initrd_off = dtb_off, initrd_size = info.initrd ? info.initrd->size : 0;
    if (initrd_size) {
        if (initrd_size > dtb_off) {
            log_err("guest: initrd of %llu KiB does not fit in %llu KiB of guest RAM",
                    (unsigned long long)(initrd_size >> 10),
                    (unsigned long long)(vm->ram.size >> 10));
            return false;
        }
        initrd_off = ALIGN_DOWN(dtb_off - initrd_size, PAGE_SIZE);
        memcpy(vm->ram.hva + initrd_off, __guest_image_start + info.initrd->offset, initrd_size);
    }
    if (end > initrd_off) {
        log_err("guest: kernel (ends at +%llu KiB) and initrd/device tree (from +%llu KiB) "
                "overlap: guest RAM of %llu MiB is too small",
                (unsigned long long)(end >> 10), (unsigned long long)(initrd_off >> 10),
                (unsigned long long)(vm->ram.size >> 20));
        return false;
    }
    char cmdline[512];
    const char *src = DEFAULT_CMDLINE;
    size_t srclen = sizeof(DEFAULT_CMDLINE) - 1;
    if (info.cmdline) {
        src = (const char *)__guest_image_start + info.cmdline->offset;
        srclen = strnlen(src, info.cmdline->size);
    }
    if (srclen >= sizeof(cmdline)) {
        log_err("guest: command line longer than %zu bytes", sizeof(cmdline) - 1);
        return false;
    }
    memcpy(cmdline, src, srclen);
    cmdline[srclen] = 0;
    uint64_t base = gpa_raw(vm->ram.base);
    size_t dtb = vm_arch_build_fdt(vm, vm->ram.hva + dtb_off, 64 * 1024, cmdline,
                                   initrd_size ? base + initrd_off : 0,
                                   initrd_size ? base + initrd_off + initrd_size : 0);
    if (!dtb) {
        return false;
    }
    vm->entry_arg = base + dtb_off;
    log_info("guest: loaded '%s' (%llu KiB), entry 0x%llx%s, device tree at 0x%llx",
             info.kernel->name, (unsigned long long)(info.kernel->size >> 10),
             (unsigned long long)gpa_raw(vm->entry), initrd_size ? ", initrd" : "",
             (unsigned long long)vm->entry_arg);
    return true;
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
