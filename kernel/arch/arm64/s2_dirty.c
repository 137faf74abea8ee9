// SPDX-License-Identifier: Apache-2.0
// The arm64 stage-2 dirty-logging hooks (cv/vm.h) on vm->arch.s2 over guest RAM (vm->ram).
// The TLB maintenance is done inside the s2_* range operations; this file adds the CPU feature
// check and VTCR_EL2.HA/HD for DBM mode. Hypervisor context, vCPU stopped.
#include <arch/s2.h>
#include <arch/tlb.h>
#include <cv/vm.h>

/* ID_AA64MMFR1_EL1.HAFDBS: 2 = access flag and dirty state, stage 1 and stage 2. */
#define MMFR1_HAFDBS_DIRTY 2u

static uint64_t ram_pages(const struct vm *vm)
{
    return vm->ram.size >> PAGE_SHIFT;
}

bool dirty_arch_supported(struct vm *vm, enum dirty_mode mode)
{
    (void)vm;
    switch (mode) {
    case DIRTY_OFF:
    case DIRTY_WP:
        return true;
    case DIRTY_HW:
        return bits_get(arm64_read_id_aa64mmfr1(), 3, 0) >= MMFR1_HAFDBS_DIRTY;
    default:
        return false;
    }
}

bool dirty_arch_arm_all(struct vm *vm, enum dirty_mode mode)
{
    uint64_t n = ram_pages(vm);
    bool dbm = mode == DIRTY_HW;
    if (mode != DIRTY_WP && !dbm) {
        return false;
    }
    if (dbm && !dirty_arch_supported(vm, mode)) {
        return false;
    }
    if (dbm) {
        /* Before the descriptors get DBM; the guest is stopped, so the order is free. */
        arm64_s2_set_hw_dirty(true);
    }
    uint64_t seen = s2_range_wrprotect(&vm->arch.s2, vm->ram.base, n, dbm);
    /* All of RAM must be mapped page by page, or writes to the holes would go unseen. */
    return n != 0 && seen == n;
}

void dirty_arch_rearm(struct vm *vm, enum dirty_mode mode, const uint64_t *bits)
{
    s2_reprotect_bits(&vm->arch.s2, vm->ram.base, ram_pages(vm), bits, mode == DIRTY_HW);
}

uint64_t dirty_arch_collect(struct vm *vm, uint64_t *out)
{
    return s2_collect_dbm(&vm->arch.s2, vm->ram.base, ram_pages(vm), out);
}

uint64_t dirty_arch_count(struct vm *vm, const uint64_t *known)
{
    return s2_count_dbm(&vm->arch.s2, vm->ram.base, ram_pages(vm), known);
}

bool dirty_arch_unprotect(struct vm *vm, gpa_t page)
{
    bool was_writable = false;
    s2_page_mkwrite(&vm->arch.s2, page, &was_writable);
    return was_writable;
}

void dirty_arch_disarm(struct vm *vm)
{
    s2_range_mkwrite(&vm->arch.s2, vm->ram.base, ram_pages(vm));
    if (dirty_arch_supported(vm, DIRTY_HW)) {
        arm64_s2_set_hw_dirty(false);
    }
}
