/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dirty-logging exactness test behind the shell's `dirty verify` (kernel/cmd/dirty.c),
 * and the two services it needs from the VM core (kernel/core/vm.c).
 */
#ifndef CV_DIRTY_VERIFY_H
#define CV_DIRTY_VERIFY_H

#include <cv/types.h>

struct vm;

/**
 * The board's VM (what shell commands act on). Any hypervisor context. Provided by vm.c.
 */
struct vm *vm_current(void);

/**
 * Lets the guest run for about ms milliseconds of wall-clock time (vm_run_once() in a loop,
 * servicing host interrupts and devices as the main loop does, but not the shell), then
 * returns with the vCPU stopped. Returns at once if the VM is not VM_RUNNING. Called from a
 * shell handler, i.e. hypervisor context between exits. Provided by vm.c.
 */
void vm_run_for_ms(struct vm *vm, unsigned ms);

/**
 * Checks dirty logging against the guest's actual writes. Logging must be on (the mode is
 * taken from vm->dirty) and the VM running. Keeps a shadow of guest RAM (a full copy when the
 * page pool has room for one, else a 64-bit hash per page), then for each of epochs epochs:
 * vm_run_for_ms(ms_per_epoch), harvest, and compare. A page whose content changed but that was
 * not harvested is MISSED; a harvested page in [region, region + region_pages pages) whose
 * content did not change in that epoch is EXTRA. Outside the region the guest may store equal
 * values, so a harvested-but-unchanged page there is EXTRA only if its content never changed
 * in the whole run (checked over all of guest RAM after the last epoch). The workload should
 * leave part of the region unwritten, so that an over-reporting log shows. Prints one line per
 * problem and a final
 * "dirty: verify mode=.. epochs=.. harvested=.. missed=.. extra=.. result=PASS|FAIL".
 * Returns 0 on PASS, 1 on FAIL, -1 when it could not run. Hypervisor context (shell).
 */
int dirty_verify_run(struct vm *vm, unsigned epochs, unsigned ms_per_epoch, gpa_t region,
                     uint64_t region_pages);

#endif
