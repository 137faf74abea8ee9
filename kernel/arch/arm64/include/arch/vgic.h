/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's GICv3 (docs/vgic.md). Distributor and redistributor are emulated from the MMIO
 * bus; the CPU interface is the hardware's virtual CPU interface, fed through the list
 * registers. One vCPU (affinity 0.0.0.0), INTIDs 0..127, no LPIs, one security state (DS=1).
 *
 * struct vgic is embedded in struct vm_arch and holds no pointers: it can be copied, zeroed
 * and serialised as it is. Everything here runs in hypervisor context (single pCPU, vCPU
 * stopped), except vgic_init/vgic_register_mmio which run at boot.
 *
 * Calling protocol around a guest entry:
 *     vgic_flush(g);   enter guest;   exit;   vgic_sync(g);   handle exit / host IRQs ...
 * Between vgic_sync() and vgic_flush() the software state below is authoritative and the list
 * registers are empty; injections and MMIO accesses happen only in that window.
 */
#ifndef ARCH_VGIC_H
#define ARCH_VGIC_H

#include <cv/bus.h>
#include <cv/types.h>
#include <cv/vmstate.h>

#define VGIC_NR_IRQS 128u /**< SGIs 0-15, PPIs 16-31, SPIs 32-127 */
#define VGIC_NR_PRIVATE 32u
#define VGIC_NR_SPIS (VGIC_NR_IRQS - VGIC_NR_PRIVATE)
#define VGIC_MAX_LRS 16u
#define VGIC_MAX_APRS 4u
#define VGIC_GICD_SIZE 0x10000ull
#define VGIC_GICR_SIZE 0x20000ull /**< RD_base frame + SGI_base frame */
#define VGIC_PRIO_MASK 0xf8u      /**< 5 priority bits, as the virtual CPU interface has */
#define VGIC_VMSTATE_VERSION 1u

/* struct vgic_irq.flags */
#define VGIC_IRQ_ENABLED 0x01u
#define VGIC_IRQ_LATCH 0x02u /**< pending by an edge, ISPENDR or a HW injection */
#define VGIC_IRQ_LINE 0x04u  /**< input line level (counts as pending if level-sensitive) */
#define VGIC_IRQ_ACTIVE 0x08u
#define VGIC_IRQ_GROUP1 0x10u
#define VGIC_IRQ_EDGE 0x20u /**< ICFGR: edge-triggered */
#define VGIC_IRQ_HW 0x40u   /**< linked to physical INTID pintid, which is active */
#define VGIC_IRQ_ALL_FLAGS 0x7fu

struct vgic_irq {
    uint8_t prio;
    uint8_t flags;
    uint16_t pintid; /**< valid with VGIC_IRQ_HW */
};

struct vgic_stats {
    uint64_t flushes;
    uint64_t overflows; /**< flushes that left deliverable interrupts out of the LRs */
    uint64_t maint;     /**< maintenance interrupts handled */
    uint64_t eoicount;  /**< guest EOIs of interrupts that were not in an LR */
};

struct vgic {
    gpa_t gicd_base;
    gpa_t gicr_base;
    uint32_t maint_intid;
    unsigned nr_lrs;  /**< from ICH_VTR_EL2 */
    unsigned nr_aprs; /**< ICH_AP{0,1}R<n>_EL2 present, from ICH_VTR_EL2.PREbits */

    uint32_t gicd_ctlr;  /**< EnableGrp0/EnableGrp1 only; ARE and DS are fixed at one */
    uint32_t gicr_waker; /**< ProcessorSleep | ChildrenAsleep */
    struct vgic_irq irq[VGIC_NR_IRQS];
    uint32_t irouter[VGIC_NR_SPIS]; /**< Aff2.Aff1.Aff0 of SPI 32+i; 0 = our vCPU */

    /* List register bookkeeping: valid while lrs_loaded (between flush and sync). */
    bool lrs_loaded;
    uint8_t lr_used; /**< LRs 0..lr_used-1 were written by the flush */
    uint8_t lr_intid[VGIC_MAX_LRS];
    uint16_t lr_took_latch; /**< bit i: LR i carries the latched pending state */

    /*
     * The one interrupt the hypervisor hands to the guest with the LR HW bit (vgic_link_hw):
     * vINTID hw_vintid is backed by physical hw_pintid. 0 means none. Configuration, kept
     * across reset and not part of the saved state: a stream may only name this link.
     */
    uint16_t hw_vintid;
    uint16_t hw_pintid;

    struct vgic_stats stats;
};

/**
 * Resets the model and the virtual CPU interface registers (LRs, ICH_HCR/VMCR/APRs) and
 * records where the guest sees the GIC. Boot context.
 */
void vgic_init(struct vgic *g, gpa_t gicd_base, gpa_t gicr_base, uint32_t maint_intid);
/**
 * Declares that physical pintid (acknowledged and priority-dropped by the hypervisor) is lent
 * to the guest as vintid with the LR HW bit, the guest's deactivation deactivating it. The only
 * such pair: vgic_inject_hw() and vgic_load() refuse any other, since the vGIC deactivates a
 * linked physical INTID itself at EL2. Boot context, after vgic_init().
 */
void vgic_link_hw(struct vgic *g, uint32_t vintid, uint32_t pintid);
/** Back to the reset state (guest reset); keeps addresses. Hypervisor context. */
void vgic_reset(struct vgic *g);
/** Registers the "gicd" (64 KiB) and "gicr" (128 KiB) windows on bus. Boot context. */
bool vgic_register_mmio(struct vgic *g, struct bus *bus);

/** Direct entry points of the two windows (also used by the unit tests). */
enum bus_result vgic_gicd_read(void *ctx, struct bus_access *a);
enum bus_result vgic_gicd_write(void *ctx, const struct bus_access *a);
enum bus_result vgic_gicr_read(void *ctx, struct bus_access *a);
enum bus_result vgic_gicr_write(void *ctx, const struct bus_access *a);

/**
 * Level of a device's interrupt line. Level-sensitive: pending while high. Configured as edge by
 * the guest: a rising edge makes it pending. intid 16..127.
 */
void vgic_set_level(struct vgic *g, uint32_t intid, bool level);
/** Makes intid pending once (edge). */
void vgic_inject_edge(struct vgic *g, uint32_t vintid);
/**
 * Makes vintid pending, linked to the physical interrupt pintid which the caller has
 * acknowledged and priority-dropped but NOT deactivated: the guest's deactivation of vintid
 * deactivates pintid in hardware (LR HW bit). If the guest instead clears the virtual
 * interrupt through ICPENDR/ICACTIVER, the vGIC deactivates pintid itself. Only for the pair
 * declared with vgic_link_hw(); any other is deactivated and dropped.
 */
void vgic_inject_hw(struct vgic *g, uint32_t vintid, uint32_t pintid);
/**
 * A trapped guest write of ICC_SGI1R_EL1 / ICC_ASGI1R_EL1 / ICC_SGI0R_EL1 (they trap with
 * HCR_EL2.IMO/FMO set): makes the SGI pending if it targets our vCPU.
 */
void vgic_sgi_write(struct vgic *g, uint64_t sgir);

/** Loads the list registers; call right before entering the guest. */
void vgic_flush(struct vgic *g);
/** Reads the list registers back into the model and empties them; call right after an exit. */
void vgic_sync(struct vgic *g);
/** The maintenance interrupt (maint_intid) was acknowledged: syncs if not done yet. */
void vgic_handle_maintenance(struct vgic *g);
/**
 * True if an interrupt is pending that the guest's CPU interface would signal (enabled,
 * group-enabled, routed, priority above the guest's PMR): a vCPU in WFI must wake.
 */
bool vgic_has_pending(const struct vgic *g);

/** Serialises the model and the virtual CPU interface registers. vCPU stopped. */
void vgic_save(struct vgic *g, struct vs_buf *w);
/** See struct vmstate_ops.load. Validates everything first; writes only when apply. */
bool vgic_load(struct vgic *g, struct vs_buf *r, uint32_t version, bool apply);
/** Fills ops (tag "VGIC") for vm_register_vmstate(). */
void vgic_vmstate_ops(struct vgic *g, struct vmstate_ops *ops);

#endif
