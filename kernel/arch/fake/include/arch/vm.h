/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host-test arch's halves of struct vm and struct vcpu (embedded by cv/vm.h). Generic code
 * never looks inside them, so unit tests and fuzzers of generic code build against this arch
 * and cannot come to depend on one real arch's layout.
 */
#ifndef ARCH_VM_H
#define ARCH_VM_H

#include <cv/types.h>

struct vcpu_arch {
    uint64_t pc; /**< where vcpu_arch_reset() put the vCPU, for a test to check */
    uint64_t arg;
};

struct vm_arch {
    unsigned runs; /**< vcpu_arch_run() calls, for a test that fakes them */
};

#endif
