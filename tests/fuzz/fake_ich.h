/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fake GICv3 virtual CPU interface registers (the arch/gicv3.h shim) for the vGIC fuzz targets,
 * plus a model of the physical interrupts lent to the guest through HW list registers: an INTID
 * is "active" from the moment the hypervisor acknowledged it (before vgic_inject_hw) until it is
 * deactivated, by icc_dir_write() or by the guest deactivating its HW list register.
 */
#ifndef FUZZ_FAKE_ICH_H
#define FUZZ_FAKE_ICH_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/vgic.h>

struct fake_ich {
    uint64_t vtr;
    unsigned nr_lrs;  /**< what vtr says, capped at VGIC_MAX_LRS */
    unsigned nr_aprs; /**< what vtr's PREbits imply */
    uint64_t lr[VGIC_MAX_LRS];
    uint64_t hcr, vmcr, misr;
    uint64_t ap0r[VGIC_MAX_APRS], ap1r[VGIC_MAX_APRS];
    /** Check the physical model: deactivating an INTID that is not active aborts. */
    bool strict;
    bool phys_active[1024];
    unsigned nr_active; /**< how many phys_active entries are set */
    unsigned long deactivations;
};

extern struct fake_ich fake_ich;

/**
 * Resets the fake registers to junk (vgic_init must clear them) for a CPU interface with
 * list_regs list registers (1..32, as ICH_VTR_EL2.ListRegs+1) and pre_bits preemption bits
 * (5..7 are architectural; 1..8 accepted).
 */
void fake_ich_reset(unsigned list_regs, unsigned pre_bits, bool strict);

/** The hypervisor acknowledged physical INTID p / the hardware deactivated it. */
void fake_ich_activate(uint32_t p);
void fake_ich_deactivate(uint32_t p);

#endif
