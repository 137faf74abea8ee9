/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What kernel/dev/vpl011.c needs from the VM and the console, faked for the fuzz targets: the
 * interrupt line (last level and number of calls), the vmstate section it registers, and the
 * transmitted bytes (counted, not kept).
 */
#ifndef FUZZ_FAKE_VM_H
#define FUZZ_FAKE_VM_H

#include <cv/vm.h>
#include <cv/vmstate.h>
#include <cv/vpl011.h>

struct fake_vm {
    struct vm vm; /**< only its address is used */
    uint32_t intid;
    bool level;
    unsigned long level_calls;
    struct vmstate_ops ops;
    unsigned registered;
    unsigned long tx;
    struct vpl011 *uart;
};

extern struct fake_vm fake_vm;

/** Clears everything; intid is the line vm_arch_irq_set_level() must be called for. */
void fake_vm_reset(uint32_t intid);

#endif
