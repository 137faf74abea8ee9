// SPDX-License-Identifier: Apache-2.0
// VM and console hooks for the vPL011 fuzz targets (fake_vm.h).
#include <string.h>

#include <cv/console.h>

#include "fake_vm.h"
#include "fuzz_common.h"

struct fake_vm fake_vm;

void fake_vm_reset(uint32_t intid)
{
    memset(&fake_vm, 0, sizeof(fake_vm));
    fake_vm.intid = intid;
}

void vm_arch_irq_set_level(struct vm *vm, uint32_t intid, bool level)
{
    FZ_CHECK(vm == &fake_vm.vm && intid == fake_vm.intid, "line %u of an unknown VM", intid);
    fake_vm.level = level;
    fake_vm.level_calls++;
}

bool vm_register_vmstate(struct vm *vm, const struct vmstate_ops *ops)
{
    FZ_CHECK(vm == &fake_vm.vm, "vmstate for an unknown VM");
    fake_vm.ops = *ops;
    fake_vm.registered++;
    return true;
}

void console_guest_output(char c)
{
    (void)c;
    fake_vm.tx++;
}

void console_set_guest_uart(struct vpl011 *u)
{
    fake_vm.uart = u;
}
