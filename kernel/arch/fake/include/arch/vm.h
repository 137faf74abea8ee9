/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host-test arch's halves of struct vm and struct vcpu (embedded by cv/vm.h). Generic code
 * never looks inside them, so unit tests and fuzzers of generic code build against this arch
 * and cannot come to depend on one real arch's layout.
 */
#ifndef ARCH_VM_H
#define ARCH_VM_H

#include <cv/types.h>

/* ISO C wants a member; nothing reads these. */
struct vcpu_arch {
    uint64_t unused;
};

struct vm_arch {
    uint64_t unused;
};

#endif
