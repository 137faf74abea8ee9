// SPDX-License-Identifier: Apache-2.0
// The guest's GICv3: emulated distributor and redistributor, list-register management for the
// hardware virtual CPU interface, and its serialisation. Design notes: docs/vgic.md.
#include <string.h>

#include <arch/gicv3.h>
#include <arch/vgic.h>
#include <cv/log.h>

/* ---- register layout ---- */

#define GICD_CTLR 0x0000u
#define GICD_TYPER 0x0004u
#define GICD_IIDR 0x0008u
#define GICD_TYPER2 0x000cu
#define GICD_STATUSR 0x0010u
#define GICD_IGROUPR 0x0080u
#define GICD_IPRIORITYR 0x0400u
#define GICD_ITARGETSR 0x0800u
#define GICD_ICFGR 0x0c00u
#define GICD_IGRPMODR 0x0d00u
#define GICD_NSACR 0x0e00u
#define GICD_SGIR 0x0f00u
#define GICD_CPENDSGIR 0x0f10u
#define GICD_SPENDSGIR 0x0f20u
#define GICD_IROUTER 0x6000u
#define GICD_IROUTER_END 0x7fe0u
#define GIC_IDREGS 0xffd0u
#define GIC_PIDR2 0xffe8u
#define GIC_CIDR0 0xfff0u

#define GICR_CTLR 0x0000u
#define GICR_IIDR 0x0004u
#define GICR_TYPER 0x0008u
#define GICR_STATUSR 0x0010u
#define GICR_WAKER 0x0014u
#define GICR_SETLPIR 0x0040u
#define GICR_CLRLPIR 0x0048u
#define GICR_PROPBASER 0x0070u
#define GICR_PENDBASER 0x0078u
#define GICR_INVLPIR 0x00a0u
#define GICR_INVALLR 0x00b0u
#define GICR_SYNCR 0x00c0u
#define GICR_FRAME 0x10000u /* SGI_base = RD_base + 64 KiB */
#define GICR_IPRIORITYR_END 0x0420u
#define GICR_ICFGR0 0x0c00u
#define GICR_ICFGR1 0x0c04u

#define CTLR_EN_GRP0 BIT(0)
#define CTLR_EN_GRP1 BIT(1)
#define CTLR_ARE BIT(4)
#define CTLR_DS BIT(6)
#define WAKER_PS BIT(1)
#define WAKER_CA BIT(2)

/* ITLinesNumber=3 (128 INTIDs), IDbits=15 (16 bits, as the virtual CPU interface reports),
 * No1N (SPIs go to one PE only), no LPIs, no MBIS, no security extension. */
#define VGIC_TYPER (3u | (15u << 19) | BIT(25))
/* Implementer 0x43B (JEP106 code used by Arm GIC implementations), ProductID 'C'. */
#define VGIC_IIDR (0x43bu | (0x43u << 24))
#define VGIC_PIDR2 0x3bu /* ArchRev 3 */
#define GICR_TYPER_LAST BIT(4)
#define IROUTER_AFF_MASK 0xffffffull /* A3V=0, No1N=1: Aff3 and IRM are RES0 */

/* One accepted access size per bit: 1, 2, 4, 8 bytes. */
#define SZ_W 4u
#define SZ_BW (1u | 4u)
#define SZ_DW (4u | 8u)
#define SZ_ANY (1u | 2u | 4u | 8u)

/* ---- interrupt state helpers ---- */

static bool irq_pending(const struct vgic_irq *i)
{
    return (i->flags & VGIC_IRQ_LATCH) ||
           (!(i->flags & VGIC_IRQ_EDGE) && (i->flags & VGIC_IRQ_LINE));
}

/* Whether the distributor/redistributor would forward intid to the CPU interface. */
static bool irq_forwarded(const struct vgic *g, uint32_t intid)
{
    const struct vgic_irq *i = &g->irq[intid];
    uint32_t grp = (i->flags & VGIC_IRQ_GROUP1) ? CTLR_EN_GRP1 : CTLR_EN_GRP0;
    if (!(i->flags & VGIC_IRQ_ENABLED) || !(g->gicd_ctlr & grp) || (g->gicr_waker & WAKER_PS)) {
        return false;
    }
    return intid < VGIC_NR_PRIVATE || g->irouter[intid - VGIC_NR_PRIVATE] == 0;
}

/*
 * A HW-linked interrupt that the guest no longer holds (neither pending nor active) after a
 * register write: deactivate the physical interrupt ourselves, or it would stay active forever.
 */
static void irq_hw_release(struct vgic_irq *i)
{
    if ((i->flags & VGIC_IRQ_HW) && !(i->flags & (VGIC_IRQ_LATCH | VGIC_IRQ_ACTIVE))) {
        icc_dir_write(i->pintid);
        i->flags &= (uint8_t)~VGIC_IRQ_HW;
    }
}

/* ---- reset, init ---- */

static void hw_regs_reset(const struct vgic *g)
{
    for (unsigned i = 0; i < g->nr_lrs; i++) {
        ich_lr_write(i, 0);
    }
    for (unsigned i = 0; i < g->nr_aprs; i++) {
        ich_ap0r_write(i, 0);
        ich_ap1r_write(i, 0);
    }
    ich_vmcr_write(0);
    ich_hcr_write(0);
}

void vgic_reset(struct vgic *g)
{
    /* Physical interrupts still lent to the guest would otherwise stay active for good. */
    for (uint32_t n = 0; n < VGIC_NR_IRQS; n++) {
        if (g->irq[n].flags & VGIC_IRQ_HW) {
            icc_dir_write(g->irq[n].pintid);
        }
    }
    g->gicd_ctlr = 0;
    g->gicr_waker = WAKER_PS | WAKER_CA;
    memset(g->irq, 0, sizeof(g->irq));
    memset(g->irouter, 0, sizeof(g->irouter));
    for (uint32_t i = 0; i < 16; i++) {
        g->irq[i].flags = VGIC_IRQ_EDGE; /* SGIs are always edge-triggered */
    }
    g->lrs_loaded = false;
    g->lr_used = 0;
    g->lr_took_latch = 0;
    memset(g->lr_intid, 0, sizeof(g->lr_intid));
    hw_regs_reset(g);
}

void vgic_link_hw(struct vgic *g, uint32_t vintid, uint32_t pintid)
{
    if (vintid < 16 || vintid >= VGIC_NR_IRQS || pintid < 16 || pintid >= 1020) {
        log_warn("vgic: HW link %u->%u out of range, not made", pintid, vintid);
        return;
    }
    g->hw_vintid = (uint16_t)vintid;
    g->hw_pintid = (uint16_t)pintid;
}

static bool is_hw_link(const struct vgic *g, uint32_t vintid, uint32_t pintid)
{
    return g->hw_vintid != 0 && vintid == g->hw_vintid && pintid == g->hw_pintid;
}

void vgic_init(struct vgic *g, gpa_t gicd_base, gpa_t gicr_base, uint32_t maint_intid)
{
    memset(g, 0, sizeof(*g));
    g->gicd_base = gicd_base;
    g->gicr_base = gicr_base;
    g->maint_intid = maint_intid;
    uint64_t vtr = ich_vtr_read();
    g->nr_lrs = MIN(ICH_VTR_LISTREGS(vtr), VGIC_MAX_LRS);
    unsigned pre = ICH_VTR_PREBITS(vtr);
    g->nr_aprs = pre >= 7 ? 4u : pre == 6 ? 2u : 1u;
    vgic_reset(g);
}

/* ---- register model ---- */

/* The six "one bit per interrupt" register groups plus IGROUPR, by (offset >> 7) & 7. */
enum bank_kind {
    BANK_IGROUPR = 1,
    BANK_ISENABLER,
    BANK_ICENABLER,
    BANK_ISPENDR,
    BANK_ICPENDR,
    BANK_ISACTIVER,
    BANK_ICACTIVER,
};

static uint32_t bank_read(const struct vgic *g, unsigned kind, uint32_t base)
{
    uint32_t v = 0;
    for (uint32_t b = 0; b < 32; b++) {
        const struct vgic_irq *i = &g->irq[base + b];
        bool set;
        switch (kind) {
        case BANK_IGROUPR:
            set = i->flags & VGIC_IRQ_GROUP1;
            break;
        case BANK_ISENABLER:
        case BANK_ICENABLER:
            set = i->flags & VGIC_IRQ_ENABLED;
            break;
        case BANK_ISPENDR:
        case BANK_ICPENDR:
            set = irq_pending(i);
            break;
        default:
            set = i->flags & VGIC_IRQ_ACTIVE;
            break;
        }
        v |= (uint32_t)set << b;
    }
    return v;
}

static void bank_write(struct vgic *g, unsigned kind, uint32_t base, uint32_t v)
{
    for (uint32_t b = 0; b < 32; b++) {
        struct vgic_irq *i = &g->irq[base + b];
        bool one = (v >> b) & 1;
        switch (kind) {
        case BANK_IGROUPR:
            i->flags = (uint8_t)(one ? i->flags | VGIC_IRQ_GROUP1 : i->flags & ~VGIC_IRQ_GROUP1);
            break;
        case BANK_ISENABLER:
            i->flags |= one ? VGIC_IRQ_ENABLED : 0;
            break;
        case BANK_ICENABLER:
            i->flags &= (uint8_t) ~(one ? VGIC_IRQ_ENABLED : 0);
            break;
        case BANK_ISPENDR:
            i->flags |= one ? VGIC_IRQ_LATCH : 0;
            break;
        case BANK_ICPENDR:
            /* A level line that is still high keeps the interrupt pending (LINE is untouched). */
            if (one) {
                i->flags &= (uint8_t)~VGIC_IRQ_LATCH;
                irq_hw_release(i);
            }
            break;
        case BANK_ISACTIVER:
            i->flags |= one ? VGIC_IRQ_ACTIVE : 0;
            break;
        default: /* BANK_ICACTIVER */
            if (one) {
                i->flags &= (uint8_t)~VGIC_IRQ_ACTIVE;
                irq_hw_release(i);
            }
            break;
        }
    }
}

/* IPRIORITYR: byte-accessible, one byte per INTID starting at first. */
static uint64_t prio_read(const struct vgic *g, uint32_t first, unsigned size)
{
    uint64_t v = 0;
    for (unsigned b = 0; b < size; b++) {
        v |= (uint64_t)g->irq[first + b].prio << (8 * b);
    }
    return v;
}

static void prio_write(struct vgic *g, uint32_t first, unsigned size, uint64_t v)
{
    for (unsigned b = 0; b < size; b++) {
        g->irq[first + b].prio = (uint8_t)((v >> (8 * b)) & VGIC_PRIO_MASK);
    }
}

/* ICFGR<n>: two bits per INTID, bit 2k+1 set = edge. */
static uint32_t cfg_read(const struct vgic *g, uint32_t base)
{
    uint32_t v = 0;
    for (uint32_t k = 0; k < 16; k++) {
        if (g->irq[base + k].flags & VGIC_IRQ_EDGE) {
            v |= 2u << (2 * k);
        }
    }
    return v;
}

static void cfg_write(struct vgic *g, uint32_t base, uint32_t v)
{
    for (uint32_t k = 0; k < 16; k++) {
        struct vgic_irq *i = &g->irq[base + k];
        if ((v >> (2 * k + 1)) & 1) {
            i->flags |= VGIC_IRQ_EDGE;
        } else {
            i->flags &= (uint8_t)~VGIC_IRQ_EDGE;
        }
    }
}

static uint64_t id_reg(uint32_t off)
{
    static const uint8_t cidr[4] = {0x0d, 0xf0, 0x05, 0xb1};
    if (off == GIC_PIDR2) {
        return VGIC_PIDR2;
    }
    if (off >= GIC_CIDR0) {
        return cidr[(off - GIC_CIDR0) / 4];
    }
    return 0;
}

/* Half of a 64-bit register for a 32-bit access at off, or all of it. */
static uint64_t reg64_read(uint64_t reg, uint32_t off, unsigned size)
{
    if (size == 8) {
        return reg;
    }
    return (off & 4) ? reg >> 32 : reg & 0xffffffffull;
}

static uint64_t reg64_merge(uint64_t reg, uint32_t off, unsigned size, uint64_t v)
{
    if (size == 8) {
        return v;
    }
    if (off & 4) {
        return (reg & 0xffffffffull) | (v << 32);
    }
    return (reg & ~0xffffffffull) | (v & 0xffffffffull);
}

/*
 * One access to the distributor. val is the value written, or receives the value read. Every
 * path decides the accepted sizes first, so a bad size never has side effects.
 */
static enum bus_result gicd_access(struct vgic *g, uint32_t off, unsigned size, bool wr,
                                   uint64_t *val)
{
    unsigned ok;
    if (off < 0x80) {
        ok = (off <= GICD_STATUSR && (off & 3) == 0) ? SZ_W : SZ_ANY;
    } else if (off < GICD_IPRIORITYR) {
        ok = SZ_W;
    } else if (off < GICD_ICFGR) {
        ok = SZ_BW; /* IPRIORITYR, ITARGETSR */
    } else if (off < GICD_SGIR) {
        ok = SZ_W; /* ICFGR, IGRPMODR, NSACR, reserved in between */
    } else if (off == GICD_SGIR) {
        ok = SZ_W;
    } else if (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR + 0x10) {
        ok = SZ_BW;
    } else if (off >= GICD_IROUTER && off < GICD_IROUTER_END) {
        ok = SZ_DW;
    } else if (off >= GIC_IDREGS) {
        ok = SZ_W;
    } else {
        ok = SZ_ANY; /* reserved */
    }
    if (!(ok & size) || !IS_ALIGNED(off, size)) {
        return BUS_BAD_ACCESS;
    }

    uint64_t v = wr ? *val : 0;
    if (off < 0x80) {
        switch (off) {
        case GICD_CTLR:
            if (wr) {
                g->gicd_ctlr = (uint32_t)v & (CTLR_EN_GRP0 | CTLR_EN_GRP1);
            }
            v = g->gicd_ctlr | CTLR_ARE | CTLR_DS; /* RWP is always 0 */
            break;
        case GICD_TYPER:
            v = VGIC_TYPER;
            break;
        case GICD_IIDR:
            v = VGIC_IIDR;
            break;
        default: /* TYPER2, STATUSR, reserved, SETSPI (no MBIS) */
            v = 0;
            break;
        }
    } else if (off < GICD_IPRIORITYR) {
        uint32_t n = (off & 0x7f) / 4;
        /* Bank 0 (SGIs, PPIs) lives in the redistributor with affinity routing. */
        if (n == 0 || n >= VGIC_NR_IRQS / 32) {
            v = 0;
        } else if (wr) {
            bank_write(g, (off >> 7) & 7, n * 32, (uint32_t)v);
        } else {
            v = bank_read(g, (off >> 7) & 7, n * 32);
        }
    } else if (off < GICD_ITARGETSR) {
        uint32_t intid = off - GICD_IPRIORITYR;
        if (intid < VGIC_NR_PRIVATE || intid >= VGIC_NR_IRQS) {
            v = 0;
        } else if (wr) {
            prio_write(g, intid, size, v);
        } else {
            v = prio_read(g, intid, size);
        }
    } else if (off >= GICD_ICFGR && off < GICD_IGRPMODR) {
        uint32_t n = (off - GICD_ICFGR) / 4;
        if (n < 2 || n >= VGIC_NR_IRQS / 16) {
            v = 0;
        } else if (wr) {
            cfg_write(g, n * 16, (uint32_t)v);
        } else {
            v = cfg_read(g, n * 16);
        }
    } else if (off >= GICD_IROUTER && off < GICD_IROUTER_END) {
        uint32_t n = (off - GICD_IROUTER) / 8;
        if (n < VGIC_NR_PRIVATE || n >= VGIC_NR_IRQS) {
            v = 0;
        } else {
            uint32_t *r = &g->irouter[n - VGIC_NR_PRIVATE];
            if (wr) {
                *r = (uint32_t)(reg64_merge(*r, off, size, v) & IROUTER_AFF_MASK);
            }
            v = reg64_read(*r, off, size);
        }
    } else if (off >= GIC_IDREGS) {
        v = id_reg(off);
    } else {
        v = 0; /* ITARGETSR, IGRPMODR, NSACR, SGIR, [CS]PENDSGIR with ARE; reserved */
    }
    if (!wr) {
        *val = v;
    }
    return BUS_OK;
}

static enum bus_result gicr_rd_access(struct vgic *g, uint32_t off, unsigned size, bool wr,
                                      uint64_t *val)
{
    unsigned ok;
    switch (off) {
    case GICR_TYPER:
    case GICR_TYPER + 4:
    case GICR_SETLPIR:
    case GICR_SETLPIR + 4:
    case GICR_CLRLPIR:
    case GICR_CLRLPIR + 4:
    case GICR_PROPBASER:
    case GICR_PROPBASER + 4:
    case GICR_PENDBASER:
    case GICR_PENDBASER + 4:
    case GICR_INVLPIR:
    case GICR_INVLPIR + 4:
    case GICR_INVALLR:
    case GICR_INVALLR + 4:
        ok = SZ_DW;
        break;
    case GICR_CTLR:
    case GICR_IIDR:
    case GICR_STATUSR:
    case GICR_WAKER:
    case GICR_SYNCR:
        ok = SZ_W;
        break;
    default:
        ok = off >= GIC_IDREGS ? SZ_W : SZ_ANY;
        break;
    }
    if (!(ok & size) || !IS_ALIGNED(off, size)) {
        return BUS_BAD_ACCESS;
    }
    uint64_t v = 0;
    switch (off) {
    case GICR_IIDR:
        v = VGIC_IIDR;
        break;
    case GICR_TYPER:
    case GICR_TYPER + 4:
        /* Processor_Number 0, Affinity 0.0.0.0, Last; no LPIs. */
        v = reg64_read(GICR_TYPER_LAST, off, size);
        break;
    case GICR_WAKER:
        if (wr) {
            /* The "children" go to sleep or wake up at once. */
            g->gicr_waker = (*val & WAKER_PS) ? (WAKER_PS | WAKER_CA) : 0;
        }
        v = g->gicr_waker;
        break;
    default:
        v = off >= GIC_IDREGS ? id_reg(off) : 0; /* CTLR (no LPIs), STATUSR, LPI regs, SYNCR */
        break;
    }
    if (!wr) {
        *val = v;
    }
    return BUS_OK;
}

static enum bus_result gicr_sgi_access(struct vgic *g, uint32_t off, unsigned size, bool wr,
                                       uint64_t *val)
{
    unsigned ok;
    if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR) {
        ok = SZ_W;
    } else if (off >= GICD_IPRIORITYR && off < GICR_IPRIORITYR_END) {
        ok = SZ_BW;
    } else if (off == GICR_ICFGR0 || off == GICR_ICFGR1 || off == GICD_IGRPMODR ||
               off == GICD_NSACR) {
        ok = SZ_W;
    } else {
        ok = SZ_ANY; /* reserved, including the extended-PPI ranges */
    }
    if (!(ok & size) || !IS_ALIGNED(off, size)) {
        return BUS_BAD_ACCESS;
    }
    uint64_t v = wr ? *val : 0;
    if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR) {
        if ((off & 0x7f) != 0) {
            v = 0; /* GICR_*R<n>E: no extended PPIs */
        } else if (wr) {
            bank_write(g, (off >> 7) & 7, 0, (uint32_t)v);
        } else {
            v = bank_read(g, (off >> 7) & 7, 0);
        }
    } else if (off >= GICD_IPRIORITYR && off < GICR_IPRIORITYR_END) {
        if (wr) {
            prio_write(g, off - GICD_IPRIORITYR, size, v);
        } else {
            v = prio_read(g, off - GICD_IPRIORITYR, size);
        }
    } else if (off == GICR_ICFGR0) {
        v = 0xaaaaaaaau; /* SGIs: edge, read-only */
    } else if (off == GICR_ICFGR1) {
        if (wr) {
            cfg_write(g, 16, (uint32_t)v);
        }
        v = cfg_read(g, 16);
    } else {
        v = 0; /* IGRPMODR0, NSACR (one security state), reserved */
    }
    if (!wr) {
        *val = v;
    }
    return BUS_OK;
}

static enum bus_result gicr_access(struct vgic *g, uint64_t off, unsigned size, bool wr,
                                   uint64_t *val)
{
    if (off >= VGIC_GICR_SIZE) {
        return BUS_BAD_ACCESS;
    }
    if (off >= GICR_FRAME) {
        return gicr_sgi_access(g, (uint32_t)(off - GICR_FRAME), size, wr, val);
    }
    return gicr_rd_access(g, (uint32_t)off, size, wr, val);
}

enum bus_result vgic_gicd_read(void *ctx, struct bus_access *a)
{
    if (a->offset >= VGIC_GICD_SIZE) {
        return BUS_BAD_ACCESS;
    }
    return gicd_access(ctx, (uint32_t)a->offset, a->size, false, &a->value);
}

enum bus_result vgic_gicd_write(void *ctx, const struct bus_access *a)
{
    uint64_t v = a->value;
    if (a->offset >= VGIC_GICD_SIZE) {
        return BUS_BAD_ACCESS;
    }
    return gicd_access(ctx, (uint32_t)a->offset, a->size, true, &v);
}

enum bus_result vgic_gicr_read(void *ctx, struct bus_access *a)
{
    return gicr_access(ctx, a->offset, a->size, false, &a->value);
}

enum bus_result vgic_gicr_write(void *ctx, const struct bus_access *a)
{
    uint64_t v = a->value;
    return gicr_access(ctx, a->offset, a->size, true, &v);
}

static const struct bus_ops gicd_ops = {.read = vgic_gicd_read, .write = vgic_gicd_write};
static const struct bus_ops gicr_ops = {.read = vgic_gicr_read, .write = vgic_gicr_write};

bool vgic_register_mmio(struct vgic *g, struct bus *bus)
{
    const struct bus_dev d = {.name = "gicd",
                              .base = gpa_raw(g->gicd_base),
                              .size = VGIC_GICD_SIZE,
                              .ops = &gicd_ops,
                              .ctx = g};
    const struct bus_dev r = {.name = "gicr",
                              .base = gpa_raw(g->gicr_base),
                              .size = VGIC_GICR_SIZE,
                              .ops = &gicr_ops,
                              .ctx = g};
    return bus_add(bus, &d) && bus_add(bus, &r);
}

/* ---- injection ---- */

void vgic_set_level(struct vgic *g, uint32_t intid, bool level)
{
    if (intid < 16 || intid >= VGIC_NR_IRQS) {
        log_warn("vgic: line level for INTID %u ignored", intid);
        return;
    }
    struct vgic_irq *i = &g->irq[intid];
    if (level && !(i->flags & VGIC_IRQ_LINE) && (i->flags & VGIC_IRQ_EDGE)) {
        i->flags |= VGIC_IRQ_LATCH;
    }
    i->flags = (uint8_t)(level ? i->flags | VGIC_IRQ_LINE : i->flags & ~VGIC_IRQ_LINE);
}

void vgic_inject_edge(struct vgic *g, uint32_t vintid)
{
    if (vintid >= VGIC_NR_IRQS) {
        log_warn("vgic: edge for INTID %u ignored", vintid);
        return;
    }
    g->irq[vintid].flags |= VGIC_IRQ_LATCH;
}

void vgic_inject_hw(struct vgic *g, uint32_t vintid, uint32_t pintid)
{
    if (!is_hw_link(g, vintid, pintid)) {
        /* Deactivate it, or the physical interrupt would never fire again. */
        log_warn("vgic: HW injection %u->%u ignored", pintid, vintid);
        if (pintid < 1020) {
            icc_dir_write(pintid);
        }
        return;
    }
    struct vgic_irq *i = &g->irq[vintid];
    i->flags |= VGIC_IRQ_LATCH | VGIC_IRQ_HW;
    i->pintid = (uint16_t)pintid;
}

void vgic_sgi_write(struct vgic *g, uint64_t sgir)
{
    uint32_t intid = (uint32_t)bits_get(sgir, 27, 24);
    bool irm = bits_get(sgir, 40, 40);
    /* IRM=1 means "everyone but me": nobody, with one vCPU. */
    if (irm || bits_get(sgir, 55, 48) || bits_get(sgir, 39, 32) || bits_get(sgir, 23, 16) ||
        bits_get(sgir, 47, 44) || !(sgir & 1)) {
        return;
    }
    g->irq[intid].flags |= VGIC_IRQ_LATCH;
}

/* ---- list registers ---- */

/* What vgic_flush would put in an LR for intid, or false if it does not need one. */
static bool irq_wants_lr(const struct vgic *g, uint32_t intid)
{
    const struct vgic_irq *i = &g->irq[intid];
    /* Active interrupts go back in whatever the enables say: the guest must be able to EOI. */
    return (i->flags & VGIC_IRQ_ACTIVE) || (irq_pending(i) && irq_forwarded(g, intid));
}

static uint64_t lr_value(const struct vgic *g, uint32_t intid, bool *took_latch)
{
    const struct vgic_irq *i = &g->irq[intid];
    bool active = i->flags & VGIC_IRQ_ACTIVE;
    bool pend = irq_pending(i) && irq_forwarded(g, intid);
    uint64_t lr = intid | ((uint64_t)i->prio << ICH_LR_PRIO_SHIFT);
    if (i->flags & VGIC_IRQ_GROUP1) {
        lr |= ICH_LR_GROUP;
    }
    if (i->flags & VGIC_IRQ_HW) {
        /* A HW interrupt cannot be pending and active in an LR; the pending half waits. */
        if (active) {
            pend = false;
        }
        lr |= ICH_LR_HW | ((uint64_t)i->pintid << ICH_LR_PINTID_SHIFT);
    } else if (!(i->flags & VGIC_IRQ_EDGE) && (i->flags & VGIC_IRQ_LINE)) {
        /*
         * The line is high: once the guest has acknowledged the interrupt the LR no longer
         * knows it is still pending. Ask for a maintenance interrupt on deactivation so that
         * vgic_sync sees the line and makes it pending again.
         */
        lr |= ICH_LR_EOI;
    }
    if (active) {
        lr |= ICH_LR_ACTIVE;
    }
    *took_latch = false;
    if (pend) {
        lr |= ICH_LR_PENDING;
        *took_latch = i->flags & VGIC_IRQ_LATCH;
    }
    return lr;
}

void vgic_flush(struct vgic *g)
{
    if (g->lrs_loaded) {
        vgic_sync(g);
    }
    uint32_t chosen[VGIC_NR_IRQS / 32] = {0};
    unsigned used = 0;
    bool any_pending_lr = false;
    g->lr_took_latch = 0;
    for (; used < g->nr_lrs; used++) {
        /* Best candidate: active first, then by priority, then by INTID. */
        uint32_t best = VGIC_NR_IRQS;
        unsigned best_key = ~0u;
        for (uint32_t n = 0; n < VGIC_NR_IRQS; n++) {
            if ((chosen[n / 32] >> (n % 32)) & 1 || !irq_wants_lr(g, n)) {
                continue;
            }
            unsigned key = g->irq[n].prio + ((g->irq[n].flags & VGIC_IRQ_ACTIVE) ? 0 : 0x100u);
            if (key < best_key) {
                best_key = key;
                best = n;
            }
        }
        if (best == VGIC_NR_IRQS) {
            break;
        }
        chosen[best / 32] |= 1u << (best % 32);
        bool took;
        uint64_t lr = lr_value(g, best, &took);
        if (took) {
            g->irq[best].flags &= (uint8_t)~VGIC_IRQ_LATCH;
            g->lr_took_latch |= (uint16_t)(1u << used);
        }
        any_pending_lr |= (lr & ICH_LR_PENDING) != 0;
        g->lr_intid[used] = (uint8_t)best;
        ich_lr_write(used, lr);
    }

    /* Left out: ask for an exit when there is room again. */
    bool left_pending = false;
    bool left_active = false;
    for (uint32_t n = 0; n < VGIC_NR_IRQS; n++) {
        if (!((chosen[n / 32] >> (n % 32)) & 1) && irq_wants_lr(g, n)) {
            if (g->irq[n].flags & VGIC_IRQ_ACTIVE) {
                left_active = true;
            } else {
                left_pending = true;
            }
        }
    }
    uint64_t hcr = ICH_HCR_EN;
    if (left_pending || left_active) {
        g->stats.overflows++;
        /*
         * NPIE fires once the guest has taken every pending LR. With only active LRs it would
         * fire at once and loop, so wait for LRs to empty instead (UIE: at most one valid).
         */
        if (any_pending_lr) {
            hcr |= ICH_HCR_NPIE;
        } else if (used >= 2) {
            hcr |= ICH_HCR_UIE;
        }
        if (left_active) {
            hcr |= ICH_HCR_LRENPIE; /* EOIs of interrupts not in an LR: see vgic_sync */
        }
    }
    ich_hcr_write(hcr);
    g->lr_used = (uint8_t)used;
    g->lrs_loaded = true;
    g->stats.flushes++;
}

void vgic_sync(struct vgic *g)
{
    if (!g->lrs_loaded) {
        return;
    }
    uint32_t in_lr[VGIC_NR_IRQS / 32] = {0};
    for (unsigned n = 0; n < g->lr_used; n++) {
        uint64_t lr = ich_lr_read(n);
        uint32_t intid = g->lr_intid[n];
        struct vgic_irq *i = &g->irq[intid];
        in_lr[intid / 32] |= 1u << (intid % 32);
        if (lr & ICH_LR_ACTIVE) {
            i->flags |= VGIC_IRQ_ACTIVE;
        } else {
            i->flags &= (uint8_t)~VGIC_IRQ_ACTIVE;
            /* HW and no longer active or pending: the guest's deactivation freed pINTID. */
            if ((i->flags & VGIC_IRQ_HW) && (lr & ICH_LR_HW) && !(lr & ICH_LR_PENDING)) {
                i->flags &= (uint8_t)~VGIC_IRQ_HW;
            }
        }
        /*
         * Still pending: give back the latch the LR took. Otherwise the guest acknowledged it
         * and the latch is consumed; a level line that is still high keeps it pending anyway.
         */
        if ((lr & ICH_LR_PENDING) && ((g->lr_took_latch >> n) & 1)) {
            i->flags |= VGIC_IRQ_LATCH;
        }
        ich_lr_write(n, 0);
    }

    uint64_t hcr = ich_hcr_read();
    unsigned eoicount = (unsigned)bits_get(hcr, 31, 27);
    g->stats.eoicount += eoicount;
    /*
     * The guest EOIed interrupts we could not fit in an LR. An EOI ends the highest-priority
     * active interrupt, so retire those in priority order.
     */
    while (eoicount--) {
        uint32_t best = VGIC_NR_IRQS;
        for (uint32_t n = 0; n < VGIC_NR_IRQS; n++) {
            if ((g->irq[n].flags & VGIC_IRQ_ACTIVE) && !((in_lr[n / 32] >> (n % 32)) & 1) &&
                (best == VGIC_NR_IRQS || g->irq[n].prio < g->irq[best].prio)) {
                best = n;
            }
        }
        if (best == VGIC_NR_IRQS) {
            break;
        }
        g->irq[best].flags &= (uint8_t)~VGIC_IRQ_ACTIVE;
        irq_hw_release(&g->irq[best]);
    }
    /* Drop UIE/NPIE/LRENPIE and EOIcount: the maintenance interrupt deasserts. */
    ich_hcr_write(ICH_HCR_EN);
    g->lr_used = 0;
    g->lr_took_latch = 0;
    g->lrs_loaded = false;
}

void vgic_handle_maintenance(struct vgic *g)
{
    g->stats.maint++;
    vgic_sync(g);
}

bool vgic_has_pending(const struct vgic *g)
{
    uint64_t vmcr = ich_vmcr_read();
    uint32_t pmr = (uint32_t)bits_get(vmcr, 31, 24);
    /* Normally called after vgic_sync; if not, the LRs hold part of the pending state. */
    uint32_t in_lr[VGIC_NR_IRQS / 32] = {0};
    for (unsigned l = 0; g->lrs_loaded && l < g->lr_used; l++) {
        if (ich_lr_read(l) & ICH_LR_PENDING) {
            in_lr[g->lr_intid[l] / 32] |= 1u << (g->lr_intid[l] % 32);
        }
    }
    for (uint32_t n = 0; n < VGIC_NR_IRQS; n++) {
        const struct vgic_irq *i = &g->irq[n];
        bool pend = (irq_pending(i) && irq_forwarded(g, n)) || ((in_lr[n / 32] >> (n % 32)) & 1);
        uint64_t en = (i->flags & VGIC_IRQ_GROUP1) ? ICH_VMCR_ENG1 : ICH_VMCR_ENG0;
        if (pend && (vmcr & en) && i->prio < pmr) {
            return true;
        }
    }
    return false;
}

/* ---- serialisation ---- */

/*
 * Section body, version 1 (little-endian):
 *   u32 nr_irqs (128), u32 gicd_ctlr, u32 gicr_waker,
 *   nr_irqs x {u8 prio, u8 flags, u16 pintid as u32}, 96 x u32 irouter,
 *   u32 nr_lrs, u32 nr_aprs, u64 ICH_VMCR, nr_aprs x u64 ICH_AP0R, nr_aprs x u64 ICH_AP1R,
 *   u64 ICH_HCR, u8 lrs_loaded, u8 lr_used, u32 lr_took_latch,
 *   nr_lrs x {u8 lr_intid, u64 ICH_LR}
 */
struct vgic_image {
    uint32_t gicd_ctlr;
    uint32_t gicr_waker;
    struct vgic_irq irq[VGIC_NR_IRQS];
    uint32_t irouter[VGIC_NR_SPIS];
    uint64_t vmcr;
    uint64_t ap0r[VGIC_MAX_APRS];
    uint64_t ap1r[VGIC_MAX_APRS];
    uint64_t hcr;
    bool lrs_loaded;
    uint8_t lr_used;
    uint16_t lr_took_latch;
    uint8_t lr_intid[VGIC_MAX_LRS];
    uint64_t lr[VGIC_MAX_LRS];
};

#define VMCR_VALID_BITS 0xfffc021full /* VENG0/1, VAckCtl, VFIQEn, VCBPR, VEOIM, BPRs, VPMR */
#define HCR_VALID_BITS (0xfull | ICH_HCR_EOICOUNT_MASK)
#define LR_RES0_BITS (0x0f00e00000000000ull) /* [59:56], [47:45] */

void vgic_save(struct vgic *g, struct vs_buf *w)
{
    vs_put_u32(w, VGIC_NR_IRQS);
    vs_put_u32(w, g->gicd_ctlr);
    vs_put_u32(w, g->gicr_waker);
    for (unsigned n = 0; n < VGIC_NR_IRQS; n++) {
        vs_put_u8(w, g->irq[n].prio);
        vs_put_u8(w, g->irq[n].flags);
        /* pintid is stale once HW is cleared; the format (and vgic_load) wants 0 then. */
        vs_put_u32(w, (g->irq[n].flags & VGIC_IRQ_HW) ? g->irq[n].pintid : 0u);
    }
    for (unsigned n = 0; n < VGIC_NR_SPIS; n++) {
        vs_put_u32(w, g->irouter[n]);
    }
    vs_put_u32(w, g->nr_lrs);
    vs_put_u32(w, g->nr_aprs);
    vs_put_u64(w, ich_vmcr_read());
    for (unsigned n = 0; n < g->nr_aprs; n++) {
        vs_put_u64(w, ich_ap0r_read(n));
    }
    for (unsigned n = 0; n < g->nr_aprs; n++) {
        vs_put_u64(w, ich_ap1r_read(n));
    }
    vs_put_u64(w, ich_hcr_read());
    vs_put_u8(w, g->lrs_loaded);
    vs_put_u8(w, g->lr_used);
    vs_put_u32(w, g->lr_took_latch);
    for (unsigned n = 0; n < g->nr_lrs; n++) {
        /* Entries past lr_used are stale after a sync; the format (and vgic_load) wants 0. */
        vs_put_u8(w, n < g->lr_used ? g->lr_intid[n] : 0);
        vs_put_u64(w, ich_lr_read(n));
    }
}

/*
 * One list register as vgic_flush (lr_value) can have written it and the guest's CPU interface
 * can have changed it since (state only): vINTID in range, a priority the model can hold, and
 * the HW bit only for the declared link, agreeing with the model's image of that interrupt.
 * A forged HW link would have the hardware deactivate some physical INTID of the hypervisor's
 * (its timer, the UART) when the guest EOIs, and vgic_reset deactivate it at EL2.
 */
static bool lr_valid(const struct vgic *g, const struct vgic_image *img, uint64_t lr)
{
    if (lr & LR_RES0_BITS) {
        return false;
    }
    if (lr == 0) {
        return true;
    }
    uint64_t vintid = lr & ICH_LR_VINTID_MASK;
    uint64_t pfield = bits_get(lr, 44, 32);
    uint64_t prio = bits_get(lr, 55, 48);
    if (vintid >= VGIC_NR_IRQS || (prio & ~(uint64_t)VGIC_PRIO_MASK) != 0) {
        return false;
    }
    if (lr & ICH_LR_HW) {
        const struct vgic_irq *i = &img->irq[vintid];
        return is_hw_link(g, (uint32_t)vintid, (uint32_t)pfield) && (i->flags & VGIC_IRQ_HW) &&
               i->pintid == pfield &&
               (lr & (ICH_LR_PENDING | ICH_LR_ACTIVE)) != (ICH_LR_PENDING | ICH_LR_ACTIVE);
    }
    return (pfield & ~(ICH_LR_EOI >> 32)) == 0;
}

/* Reads and checks one image; false on any inconsistency. Touches nothing but img. */
static bool image_read(const struct vgic *g, struct vs_buf *r, struct vgic_image *img)
{
    memset(img, 0, sizeof(*img));
    if (vs_get_u32(r) != VGIC_NR_IRQS) {
        return false;
    }
    img->gicd_ctlr = vs_get_u32(r);
    img->gicr_waker = vs_get_u32(r);
    bool ok = (img->gicd_ctlr & ~(uint32_t)(CTLR_EN_GRP0 | CTLR_EN_GRP1)) == 0 &&
              (img->gicr_waker == 0 || img->gicr_waker == (WAKER_PS | WAKER_CA));
    for (unsigned n = 0; n < VGIC_NR_IRQS; n++) {
        struct vgic_irq *i = &img->irq[n];
        i->prio = vs_get_u8(r);
        i->flags = vs_get_u8(r);
        uint32_t pintid = vs_get_u32(r);
        i->pintid = (uint16_t)pintid;
        ok = ok && (i->prio & ~VGIC_PRIO_MASK) == 0 && (i->flags & ~VGIC_IRQ_ALL_FLAGS) == 0;
        if (i->flags & VGIC_IRQ_HW) {
            ok = ok && is_hw_link(g, n, pintid);
        } else {
            ok = ok && pintid == 0;
        }
        if (n < 16) {
            ok = ok && (i->flags & VGIC_IRQ_EDGE) && !(i->flags & VGIC_IRQ_LINE);
        }
    }
    for (unsigned n = 0; n < VGIC_NR_SPIS; n++) {
        img->irouter[n] = vs_get_u32(r);
        ok = ok && (img->irouter[n] & ~IROUTER_AFF_MASK) == 0;
    }
    ok = ok && vs_get_u32(r) == g->nr_lrs && vs_get_u32(r) == g->nr_aprs;
    if (!ok || r->err) {
        return false; /* the counts below are only trusted once these matched */
    }
    img->vmcr = vs_get_u64(r);
    ok = (img->vmcr & ~VMCR_VALID_BITS) == 0;
    for (unsigned n = 0; n < g->nr_aprs; n++) {
        img->ap0r[n] = vs_get_u64(r);
        ok = ok && (img->ap0r[n] >> 32) == 0;
    }
    for (unsigned n = 0; n < g->nr_aprs; n++) {
        img->ap1r[n] = vs_get_u64(r);
        ok = ok && (img->ap1r[n] >> 32) == 0;
    }
    img->hcr = vs_get_u64(r);
    ok = ok && (img->hcr & ~HCR_VALID_BITS) == 0;
    uint8_t loaded = vs_get_u8(r);
    img->lrs_loaded = loaded == 1;
    img->lr_used = vs_get_u8(r);
    uint32_t took = vs_get_u32(r);
    img->lr_took_latch = (uint16_t)took;
    ok = ok && loaded <= 1 && img->lr_used <= g->nr_lrs && (loaded || img->lr_used == 0) &&
         (took >> img->lr_used) == 0;
    uint32_t seen[VGIC_NR_IRQS / 32] = {0};
    for (unsigned n = 0; n < g->nr_lrs; n++) {
        img->lr_intid[n] = vs_get_u8(r);
        img->lr[n] = vs_get_u64(r);
        ok = ok && lr_valid(g, img, img->lr[n]);
        if (n < img->lr_used) {
            uint32_t id = img->lr_intid[n];
            if (id >= VGIC_NR_IRQS || ((seen[id / 32] >> (id % 32)) & 1) ||
                (img->lr[n] & ICH_LR_VINTID_MASK) != id) {
                return false;
            }
            seen[id / 32] |= 1u << (id % 32);
        } else {
            ok = ok && img->lr_intid[n] == 0 && img->lr[n] == 0;
        }
    }
    return ok && !r->err;
}

bool vgic_load(struct vgic *g, struct vs_buf *r, uint32_t version, bool apply)
{
    struct vgic_image img;
    if (version != VGIC_VMSTATE_VERSION || !image_read(g, r, &img)) {
        return false;
    }
    if (!apply) {
        return true;
    }
    g->gicd_ctlr = img.gicd_ctlr;
    g->gicr_waker = img.gicr_waker;
    memcpy(g->irq, img.irq, sizeof(g->irq));
    memcpy(g->irouter, img.irouter, sizeof(g->irouter));
    g->lrs_loaded = img.lrs_loaded;
    g->lr_used = img.lr_used;
    g->lr_took_latch = img.lr_took_latch;
    memcpy(g->lr_intid, img.lr_intid, sizeof(g->lr_intid));
    ich_vmcr_write(img.vmcr);
    for (unsigned n = 0; n < g->nr_aprs; n++) {
        ich_ap0r_write(n, img.ap0r[n]);
        ich_ap1r_write(n, img.ap1r[n]);
    }
    for (unsigned n = 0; n < g->nr_lrs; n++) {
        ich_lr_write(n, img.lr[n]);
    }
    ich_hcr_write(img.hcr);
    return true;
}

static void vgic_vs_save(void *ctx, struct vs_buf *w)
{
    vgic_save(ctx, w);
}

static bool vgic_vs_load(void *ctx, struct vs_buf *r, uint32_t version, bool apply)
{
    return vgic_load(ctx, r, version, apply);
}

void vgic_vmstate_ops(struct vgic *g, struct vmstate_ops *ops)
{
    *ops = (struct vmstate_ops){
        .tag = VS_TAG('V', 'G', 'I', 'C'),
        .version = VGIC_VMSTATE_VERSION,
        .save = vgic_vs_save,
        .load = vgic_vs_load,
        .ctx = g,
    };
}
