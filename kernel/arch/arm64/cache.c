// SPDX-License-Identifier: Apache-2.0
// Making what the hypervisor wrote into guest RAM visible to the guest however it accesses it
// (cv/cache.h, guest_mem_arch_sync in cv/vm.h). Two guest views matter: data accesses with the
// MMU off, which are Device-nGnRnE at stage 1 and so never look in a cache, and instruction
// fetch, which has its own cache. With FEAT_S2FWB, stage 2 forces guest RAM to Normal
// Write-Back whatever stage 1 says, so the data side is coherent without maintenance; without
// it every written line is cleaned to the point of coherency.
#include <cv/cache.h>
#include <cv/vm.h>

#include <arch/s2.h>
#include <arch/sysreg.h>

static void clean_range(const void *hva, size_t len, bool to_poc)
{
    if (len == 0) {
        return;
    }
    uint64_t line = CTR_DMINLINE(read_sysreg(ctr_el0));
    uintptr_t a = ALIGN_DOWN((uintptr_t)hva, (uintptr_t)line);
    uintptr_t end = (uintptr_t)hva + len;
    for (; a < end; a += line) {
        if (to_poc) {
            dc_by_va(cvac, a);
        } else {
            dc_by_va(cvau, a);
        }
    }
    dsb(sy);
}

void cache_arch_clean_to_poc(const void *hva, size_t len)
{
    clean_range(hva, len, true);
}

bool s2_fwb_supported(uint64_t id_aa64mmfr2)
{
    return MMFR2_FWB(id_aa64mmfr2) >= 1;
}

void guest_mem_arch_sync(struct vm *vm, gpa_t addr, uint64_t len)
{
    /* vm_gpa_in_ram()'s check, here so host tests of this file need no vm.c. */
    uint64_t a = gpa_raw(addr), base = gpa_raw(vm->ram.base);
    if (len == 0 || a < base || a - base > vm->ram.size || len > vm->ram.size - (a - base)) {
        return;
    }
    const void *hva = vm->ram.hva + (a - base);
    if (!vm->arch.s2.fwb) {
        /* PoC is at or beyond PoU: this also serves instruction fetch. */
        cache_arch_clean_to_poc(hva, len);
    } else if (!(read_sysreg(ctr_el0) & CTR_IDC)) {
        clean_range(hva, len, false);
    }
    /* Instruction-cache lines of the old contents (a rebooted kernel, a replica's past); the
     * stores must be complete first even where no cleaning was needed (IDC). */
    dsb(ish);
    ic_iallu();
    dsb(ish);
    isb();
}
