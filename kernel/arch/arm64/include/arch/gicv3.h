/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's GICv3: the driver the hypervisor uses for its own physical interrupts (gicv3.c),
 * and the thin system-register shim (gicv3_sysreg.c) through which the vGIC touches the ICH_*
 * and ICC_* registers. The shim exists so that vgicv3.c can run in host unit tests against fake
 * registers; nothing else about it is clever.
 *
 * The hypervisor runs with PSTATE.I masked at EL2 and polls ICC_IAR1_EL1 after an IRQ exit, so
 * everything here is called in hypervisor context (or boot context for gicv3_init).
 */
#ifndef ARCH_GICV3_H
#define ARCH_GICV3_H

#include <arch/board.h>
#include <cv/types.h>

/** INTID ICC_IAR1_EL1 returns when nothing is pending. */
#define GIC_INTID_SPURIOUS 1023u

/* ---- ICH_LR<n>_EL2 ---- */
#define ICH_LR_VINTID_MASK 0xffffffffull
#define ICH_LR_PINTID_SHIFT 32
#define ICH_LR_PINTID_MASK (0x1fffull << ICH_LR_PINTID_SHIFT)
#define ICH_LR_EOI BIT(41)
#define ICH_LR_PRIO_SHIFT 48
#define ICH_LR_PRIO_MASK (0xffull << ICH_LR_PRIO_SHIFT)
#define ICH_LR_GROUP BIT(60)
#define ICH_LR_HW BIT(61)
#define ICH_LR_STATE_SHIFT 62
#define ICH_LR_PENDING BIT(62)
#define ICH_LR_ACTIVE BIT(63)

/* ---- ICH_HCR_EL2 ---- */
#define ICH_HCR_EN BIT(0)
#define ICH_HCR_UIE BIT(1)
#define ICH_HCR_LRENPIE BIT(2)
#define ICH_HCR_NPIE BIT(3)
#define ICH_HCR_EOICOUNT_SHIFT 27
#define ICH_HCR_EOICOUNT_MASK (0x1full << ICH_HCR_EOICOUNT_SHIFT)

/* ---- ICH_VTR_EL2 ---- */
#define ICH_VTR_LISTREGS(v) ((unsigned)((v)&0x1f) + 1u)
#define ICH_VTR_PREBITS(v) ((unsigned)(((v) >> 26) & 7) + 1u)
#define ICH_VTR_PRIBITS(v) ((unsigned)(((v) >> 29) & 7) + 1u)

/* ---- ICH_VMCR_EL2 ---- */
#define ICH_VMCR_ENG0 BIT(0)
#define ICH_VMCR_ENG1 BIT(1)
#define ICH_VMCR_PMR_SHIFT 24

/* ---- host driver (gicv3.c) ---- */

/**
 * Brings up the distributor, this CPU's redistributor and the EL2 CPU interface: affinity
 * routing, all interrupts group 1 and disabled, EOImode=1 (priority drop and deactivation
 * split, which HW-linked virtual interrupts need), system-register access allowed at EL1.
 * Returns false (logged) if the GIC is not a GICv3/v4 or the redistributor is not found.
 * Boot context, once.
 */
bool gicv3_init(const struct board_irqchip *gic);
/** Sets the priority of intid (SGI/PPI/SPI) and enables it. Hypervisor context. */
void gicv3_irq_enable(uint32_t intid, uint8_t prio);
/** Disables intid and waits until the GIC has taken note. Hypervisor context. */
void gicv3_irq_disable(uint32_t intid);
/** Level-sensitive (true) or edge-triggered (false). SGIs are always edge. Hypervisor context. */
void gicv3_set_level_trigger(uint32_t intid, bool level);
/** Acknowledges the highest-priority pending group 1 interrupt; GIC_INTID_SPURIOUS if none. */
uint32_t gicv3_ack(void);
/** Priority drop only (EOImode=1): the interrupt stays active until gicv3_deactivate(). */
void gicv3_eoi(uint32_t intid);
/** Deactivates intid. */
void gicv3_deactivate(uint32_t intid);

/* ---- system register shim (gicv3_sysreg.c; faked in host unit tests) ---- */

/** List register n (0..15; n must be below ICH_VTR_EL2.ListRegs+1). */
uint64_t ich_lr_read(unsigned n);
void ich_lr_write(unsigned n, uint64_t v);
uint64_t ich_hcr_read(void);
void ich_hcr_write(uint64_t v);
uint64_t ich_vtr_read(void);
uint64_t ich_misr_read(void);
uint64_t ich_elrsr_read(void);
uint64_t ich_vmcr_read(void);
void ich_vmcr_write(uint64_t v);
/** Active priority registers n (0..3; only those ICH_VTR_EL2.PREbits implies exist). */
uint64_t ich_ap0r_read(unsigned n);
void ich_ap0r_write(unsigned n, uint64_t v);
uint64_t ich_ap1r_read(unsigned n);
void ich_ap1r_write(unsigned n, uint64_t v);
/** ICC_DIR_EL1 at EL2: deactivates a physical interrupt. */
void icc_dir_write(uint32_t intid);
/** ICC_IAR1_EL1 / ICC_EOIR1_EL1 at EL2 (the physical interface). */
uint32_t icc_iar1_read(void);
void icc_eoir1_write(uint32_t intid);
/** Registers only gicv3_init needs. */
uint64_t icc_sre_el2_read(void);
void icc_sre_el2_write(uint64_t v);
void icc_sre_el1_write(uint64_t v);
void icc_pmr_write(uint64_t v);
uint64_t icc_pmr_read(void);
void icc_bpr1_write(uint64_t v);
void icc_ctlr_write(uint64_t v);
void icc_igrpen1_write(uint64_t v);
/** MPIDR_EL1 as seen at EL2: this physical CPU's affinity. */
uint64_t cpu_mpidr_read(void);
/** Instruction synchronisation barrier, after a group of GIC system-register writes. */
void gic_isb(void);

#endif
