// SPDX-License-Identifier: Apache-2.0
// Hypervisor access to guest RAM (cv/vm.h). The only way to write guest RAM once the guest runs:
// stage 2 does not see these stores, so this is where the dirty log learns of them, and the raw
// translation hands out read-only pointers so that a device model cannot write around it.
#include <string.h>

#include <cv/dirty.h>
#include <cv/vm.h>

/* Writable: only vm_write hands it on, after the range check, and marks what it writes. */
static uint8_t *ram_hva(const struct vm *vm, gpa_t addr)
{
    return vm->ram.hva + (gpa_raw(addr) - gpa_raw(vm->ram.base));
}

bool vm_gpa_in_ram(const struct vm *vm, gpa_t addr, uint64_t len)
{
    uint64_t a = gpa_raw(addr), b = gpa_raw(vm->ram.base);
    return a >= b && a - b <= vm->ram.size && len <= vm->ram.size - (a - b);
}

const void *vm_gpa_to_hva(const struct vm *vm, gpa_t addr, uint64_t len)
{
    return vm_gpa_in_ram(vm, addr, len) ? ram_hva(vm, addr) : NULL;
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
    if (!vm_gpa_in_ram(vm, addr, len)) {
        return false;
    }
    memcpy(ram_hva(vm, addr), src, len);
    dirty_log_mark(vm, addr, len);
    return true;
}
