// SPDX-License-Identifier: Apache-2.0
// The host-test arch's hooks: every <object>_arch_<verb> that kernel/include/cv/ declares, with
// the simplest behaviour that keeps the generic caller's contract (the layout suite checks none
// is missing). All are weak, so a test that needs a sharper double defines its own and wins.
#include <stdlib.h>
#include <string.h>

#include <cv/board.h>
#include <cv/boot.h>
#include <cv/cache.h>
#include <cv/hv.h>
#include <cv/image.h>
#include <cv/timer.h>
#include <cv/vm.h>

#include <arch/fake.h>

#define FAKE __attribute__((weak))

uint64_t fake_arch_ticks;
uint64_t fake_arch_deadline;
unsigned fake_arch_resets, fake_arch_offs;

/* ---- boot, CPU, board ---- */

FAKE bool board_arch_check(const struct board *desc, struct boot_info *boot)
{
    /* No firmware description to check on a host: the board's minimum RAM is what there is. */
    boot->ram.base = desc->ram.base;
    boot->ram.size = desc->ram.size;
    return true;
}

FAKE bool cpu_arch_irq_init(void)
{
    return true;
}

FAKE void cpu_arch_irq_enable(uint32_t intid)
{
    (void)intid;
}

FAKE void cpu_arch_idle(struct vm *vm)
{
    /* Sleeping until the next interrupt: the deadline timer's, if one is set. */
    (void)vm;
    if (fake_arch_deadline > fake_arch_ticks) {
        fake_arch_ticks = fake_arch_deadline;
    } else {
        fake_arch_ticks++;
    }
}

FAKE NORETURN void cpu_arch_halt(void)
{
    abort();
}

FAKE void cpu_arch_panic_dump(void)
{
}

FAKE void system_arch_reset(void)
{
    fake_arch_resets++;
}

FAKE void system_arch_off(void)
{
    fake_arch_offs++;
}

FAKE void cache_arch_clean_to_poc(const void *hva, size_t len)
{
    /* A host test shares one coherent view of memory with its "guest". */
    (void)hva;
    (void)len;
}

/* ---- time ---- */

FAKE uint64_t timer_arch_ticks(void)
{
    return fake_arch_ticks;
}

FAKE uint64_t timer_arch_freq(void)
{
    return 1000000;
}

FAKE void timer_arch_set_deadline(uint64_t t)
{
    fake_arch_deadline = t;
}

FAKE void timer_arch_ack(void)
{
    fake_arch_deadline = 0;
}

uint64_t fake_arch_urgent;
unsigned fake_arch_irq_depth; /* cpu_arch_irq_save() sections open */

FAKE void timer_arch_set_urgent(uint64_t t)
{
    fake_arch_urgent = t;
}

FAKE void timer_arch_ack_urgent(void)
{
    fake_arch_urgent = 0;
}

FAKE unsigned long cpu_arch_irq_save(void)
{
    return fake_arch_irq_depth++;
}

FAKE void cpu_arch_irq_restore(unsigned long saved)
{
    fake_arch_irq_depth = (unsigned)saved;
}

/* ---- the VM and its vCPU ---- */

FAKE const char *exit_arch_name(enum exit_reason r)
{
    static const char *const names[EXIT__COUNT] = {
        [EXIT_HYPERCALL] = "hypercall",
        [EXIT_FIRMWARE] = "firmware",
        [EXIT_MMIO] = "mmio",
        [EXIT_PIO] = "pio",
        [EXIT_SYSREG] = "sysreg",
        [EXIT_IDLE] = "idle",
        [EXIT_IRQ] = "irq",
        [EXIT_DIRTY] = "dirty",
        [EXIT_INJECT_FAULT] = "fault_injected",
        [EXIT_INJECT_UND] = "undef_injected",
        [EXIT_OTHER] = "other",
    };
    return (unsigned)r < EXIT__COUNT ? names[r] : NULL;
}

FAKE bool vm_arch_init(struct vm *vm)
{
    memset(&vm->arch, 0, sizeof(vm->arch));
    return true;
}

FAKE bool vm_arch_map_ram(struct vm *vm)
{
    (void)vm;
    return true;
}

FAKE bool vm_arch_load_guest(struct vm *vm, const struct cv_image_info *info, const uint8_t *image)
{
    /* A flat kernel at the start of RAM, entered there. */
    if (!info->kernel || info->kernel->size > vm->ram.size) {
        return false;
    }
    memcpy(vm->ram.hva, image + info->kernel->offset, info->kernel->size);
    dirty_log_mark(vm, vm->ram.base, info->kernel->size);
    vm->entry = vm->ram.base;
    vm->entry_arg = 0;
    return true;
}

FAKE void vcpu_arch_reset(struct vcpu *vcpu, gpa_t entry, uint64_t arg)
{
    vcpu->arch.pc = gpa_raw(entry);
    vcpu->arch.arg = arg;
}

FAKE void vcpu_arch_run(struct vcpu *vcpu)
{
    /* The fake guest does nothing but exit. */
    vcpu->arch.runs++;
    vcpu->vm->exits[EXIT_OTHER]++;
}

FAKE void vm_arch_irq_set_level(struct vm *vm, uint32_t intid, bool level)
{
    if (intid >= FAKE_IRQ_LINES) {
        return;
    }
    uint64_t bit = 1ull << (intid % 64);
    vm->arch.irq_level[intid / 64] =
        level ? vm->arch.irq_level[intid / 64] | bit : vm->arch.irq_level[intid / 64] & ~bit;
}

bool fake_arch_irq_level(const struct vm *vm, uint32_t intid)
{
    return intid < FAKE_IRQ_LINES && (vm->arch.irq_level[intid / 64] >> (intid % 64)) & 1;
}

FAKE void vm_arch_shift_virtual_time(struct vm *vm, int64_t ticks)
{
    vm->arch.vtime_offset += (uint64_t)ticks;
}

FAKE void vm_arch_sync_guest_code(struct vm *vm)
{
    (void)vm;
}

FAKE void guest_mem_arch_sync(struct vm *vm, gpa_t addr, uint64_t len)
{
    (void)vm;
    (void)addr;
    (void)len;
}

/* ---- dirty logging: a software model of second-stage write protection and a hardware log ---- */

static size_t words(const struct vm *vm)
{
    return (size_t)((vm->dirty.npages + 63) / 64);
}

static bool test_bit(const uint64_t *b, uint64_t pfn)
{
    return b && (b[pfn / 64] >> (pfn % 64)) & 1;
}

FAKE bool dirty_arch_supported(struct vm *vm, enum dirty_mode mode)
{
    return mode == DIRTY_WP || (mode == DIRTY_HW && vm->arch.hw_dirty);
}

FAKE bool dirty_arch_arm_all(struct vm *vm, enum dirty_mode mode)
{
    free(vm->arch.wp);
    free(vm->arch.hw);
    vm->arch.wp = calloc(words(vm), sizeof(uint64_t));
    vm->arch.hw = mode == DIRTY_HW ? calloc(words(vm), sizeof(uint64_t)) : NULL;
    if (!vm->arch.wp || (mode == DIRTY_HW && !vm->arch.hw)) {
        return false;
    }
    /* DIRTY_HW leaves pages writable and logs in hardware; DIRTY_WP protects them all. */
    if (mode == DIRTY_WP) {
        memset(vm->arch.wp, 0xff, words(vm) * sizeof(uint64_t));
    }
    return true;
}

FAKE void dirty_arch_rearm(struct vm *vm, enum dirty_mode mode, const uint64_t *bits)
{
    if (mode != DIRTY_WP || !vm->arch.wp) {
        return;
    }
    for (size_t i = 0; i < words(vm); i++) {
        vm->arch.wp[i] |= bits[i];
    }
}

FAKE uint64_t dirty_arch_collect(struct vm *vm, uint64_t *out)
{
    uint64_t n = 0;
    for (size_t i = 0; vm->arch.hw && i < words(vm); i++) {
        out[i] |= vm->arch.hw[i];
        n += (uint64_t)__builtin_popcountll(vm->arch.hw[i]);
        vm->arch.hw[i] = 0;
    }
    return n;
}

FAKE uint64_t dirty_arch_count(struct vm *vm, const uint64_t *known)
{
    uint64_t n = 0;
    for (size_t i = 0; vm->arch.hw && i < words(vm); i++) {
        n += (uint64_t)__builtin_popcountll(vm->arch.hw[i] & ~known[i]);
    }
    return n;
}

FAKE bool dirty_arch_unprotect(struct vm *vm, gpa_t page)
{
    uint64_t pfn = (gpa_raw(page) - gpa_raw(vm->ram.base)) >> PAGE_SHIFT;
    if (!vm->arch.wp || pfn >= vm->dirty.npages) {
        return true;
    }
    bool was_writable = !test_bit(vm->arch.wp, pfn);
    vm->arch.wp[pfn / 64] &= ~(1ull << (pfn % 64));
    return was_writable;
}

FAKE void dirty_arch_disarm(struct vm *vm)
{
    free(vm->arch.wp);
    free(vm->arch.hw);
    vm->arch.wp = vm->arch.hw = NULL;
}

bool fake_arch_guest_write(struct vm *vm, gpa_t addr)
{
    uint64_t pfn = (gpa_raw(addr) - gpa_raw(vm->ram.base)) >> PAGE_SHIFT;
    if (pfn >= vm->dirty.npages) {
        return false;
    }
    if (test_bit(vm->arch.wp, pfn)) {
        return true;
    }
    if (vm->arch.hw) {
        vm->arch.hw[pfn / 64] |= 1ull << (pfn % 64);
    }
    return false;
}
