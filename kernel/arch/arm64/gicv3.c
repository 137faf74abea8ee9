// SPDX-License-Identifier: Apache-2.0
// The host's GICv3 driver: the hypervisor's own interrupts (its timer, the UART, the GIC
// maintenance interrupt, the guest's virtual timer before it is forwarded). One CPU, affinity
// routing, everything group 1 (non-secure, or the only group with DS=1).
#include <arch/gicv3.h>
#include <cv/log.h>
#include <cv/page.h>

#define GICD_CTLR 0x0000u
#define GICD_TYPER 0x0004u
#define GICD_IGROUPR 0x0080u
#define GICD_ISENABLER 0x0100u
#define GICD_ICENABLER 0x0180u
#define GICD_ICPENDR 0x0280u
#define GICD_ICACTIVER 0x0380u
#define GICD_IPRIORITYR 0x0400u
#define GICD_ICFGR 0x0c00u
#define GICD_IROUTER 0x6000u
#define GIC_PIDR2 0xffe8u

#define GICR_CTLR 0x0000u
#define GICR_TYPER 0x0008u
#define GICR_WAKER 0x0014u
#define GICR_SGI 0x10000u /* SGI_base frame */
#define GICR_FRAME_SIZE 0x20000u
#define GICR_VLPI_FRAME_SIZE 0x40000u /* with GICR_TYPER.VLPIS (GICv4) */

#define CTLR_EN_GRP1 BIT(1) /* EnableGrp1 (DS=1) or EnableGrp1A (non-secure view) */
#define CTLR_ARE BIT(4)     /* ARE (DS=1) or ARE_NS (non-secure view) */
#define CTLR_RWP BIT(31)
#define GICR_CTLR_RWP BIT(3)
#define WAKER_PS BIT(1)
#define WAKER_CA BIT(2)
#define GICR_TYPER_VLPIS BIT(1)
#define GICR_TYPER_LAST BIT(4)

#define ICC_SRE_SRE BIT(0)
#define ICC_SRE_DFB BIT(1)
#define ICC_SRE_DIB BIT(2)
#define ICC_SRE_ENABLE BIT(3)
#define ICC_CTLR_EOIMODE BIT(1)

#define DEFAULT_PRIO 0xa0u
#define POLL_LIMIT 1000000u

static volatile uint8_t *gicd;
static volatile uint8_t *gicr_sgi;
static volatile uint8_t *gicr_rd;
static uint32_t nr_irqs;

static uint32_t rd32(volatile uint8_t *base, uint32_t off)
{
    return *(volatile uint32_t *)(base + off);
}

static void wr32(volatile uint8_t *base, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(base + off) = v;
}

static uint64_t rd64(volatile uint8_t *base, uint32_t off)
{
    return *(volatile uint64_t *)(base + off);
}

static void wr64(volatile uint8_t *base, uint32_t off, uint64_t v)
{
    *(volatile uint64_t *)(base + off) = v;
}

static void wr8(volatile uint8_t *base, uint32_t off, uint8_t v)
{
    base[off] = v;
}

/* Waits until the register write in flight (enables, CTLR) has reached the whole GIC. */
static void wait_rwp(volatile uint8_t *base, uint32_t ctlr, uint32_t bit)
{
    for (unsigned i = 0; i < POLL_LIMIT; i++) {
        if (!(rd32(base, ctlr) & bit)) {
            return;
        }
    }
    log_err("gicv3: RWP stuck at %p", (void *)(uintptr_t)base);
}

static void wait_dist(void)
{
    wait_rwp(gicd, GICD_CTLR, CTLR_RWP);
}

static void wait_redist(void)
{
    wait_rwp(gicr_rd, GICR_CTLR, GICR_CTLR_RWP);
}

static uint64_t mpidr_affinity(uint64_t mpidr)
{
    /* Aff3.Aff2.Aff1.Aff0 packed as GICR_TYPER[63:32] holds it. */
    return (bits_get(mpidr, 39, 32) << 24) | bits_get(mpidr, 23, 0);
}

static bool find_redist(const struct board_irqchip *gic, uint64_t aff)
{
    uint64_t off = 0;
    while (off + GICR_FRAME_SIZE <= gic->redist_size) {
        volatile uint8_t *rd = hpa_to_hva(hpa(hpa_raw(gic->redist) + off));
        uint32_t arch = (rd32(rd, GIC_PIDR2) >> 4) & 0xf;
        if (arch != 3 && arch != 4) {
            break;
        }
        uint64_t typer = rd64(rd, GICR_TYPER);
        if ((typer >> 32) == aff) {
            gicr_rd = rd;
            gicr_sgi = rd + GICR_SGI;
            return true;
        }
        if (typer & GICR_TYPER_LAST) {
            break;
        }
        off += (typer & GICR_TYPER_VLPIS) ? GICR_VLPI_FRAME_SIZE : GICR_FRAME_SIZE;
    }
    return false;
}

static void dist_init(uint64_t mpidr)
{
    wr32(gicd, GICD_CTLR, 0);
    wait_dist();
    wr32(gicd, GICD_CTLR, CTLR_ARE);
    wait_dist();
    for (uint32_t n = 32; n < nr_irqs; n += 32) {
        wr32(gicd, GICD_IGROUPR + n / 8, 0xffffffffu);
        wr32(gicd, GICD_ICENABLER + n / 8, 0xffffffffu);
        wr32(gicd, GICD_ICPENDR + n / 8, 0xffffffffu);
        wr32(gicd, GICD_ICACTIVER + n / 8, 0xffffffffu);
    }
    wait_dist();
    for (uint32_t n = 32; n < nr_irqs; n += 4) {
        wr32(gicd, GICD_IPRIORITYR + n, DEFAULT_PRIO * 0x01010101u);
    }
    for (uint32_t n = 32; n < nr_irqs; n += 16) {
        wr32(gicd, GICD_ICFGR + n / 4, 0); /* level; drivers switch to edge as needed */
    }
    /* Everything to this CPU, IRM=0. */
    uint64_t route = (bits_get(mpidr, 39, 32) << 32) | bits_get(mpidr, 23, 0);
    for (uint32_t n = 32; n < nr_irqs; n++) {
        wr64(gicd, GICD_IROUTER + 8 * n, route);
    }
    wr32(gicd, GICD_CTLR, CTLR_ARE | CTLR_EN_GRP1);
    wait_dist();
}

static bool redist_init(void)
{
    wr32(gicr_rd, GICR_WAKER, rd32(gicr_rd, GICR_WAKER) & ~(uint32_t)WAKER_PS);
    unsigned i = 0;
    while (rd32(gicr_rd, GICR_WAKER) & WAKER_CA) {
        if (++i == POLL_LIMIT) {
            log_err("gicv3: redistributor does not wake up");
            return false;
        }
    }
    wr32(gicr_sgi, GICD_IGROUPR, 0xffffffffu);
    wr32(gicr_sgi, GICD_ICENABLER, 0xffffffffu);
    wait_redist();
    wr32(gicr_sgi, GICD_ICPENDR, 0xffffffffu);
    wr32(gicr_sgi, GICD_ICACTIVER, 0xffffffffu);
    for (uint32_t n = 0; n < 32; n += 4) {
        wr32(gicr_sgi, GICD_IPRIORITYR + n, DEFAULT_PRIO * 0x01010101u);
    }
    return true;
}

static void cpuif_init(void)
{
    /* SRE for EL2 and lower ELs (Enable), so the guest gets the system-register interface. */
    icc_sre_el2_write(ICC_SRE_SRE | ICC_SRE_DFB | ICC_SRE_DIB | ICC_SRE_ENABLE);
    gic_isb();
    icc_sre_el1_write(ICC_SRE_SRE);
    gic_isb();
    icc_pmr_write(0xff);
    icc_bpr1_write(0);
    /* EOImode=1: gicv3_eoi only drops priority, so a HW-linked interrupt stays active. */
    icc_ctlr_write(ICC_CTLR_EOIMODE);
    icc_igrpen1_write(1);
    gic_isb();
}

bool gicv3_init(const struct board_irqchip *gic)
{
    gicd = hpa_to_hva(gic->dist);
    uint32_t arch = (rd32(gicd, GIC_PIDR2) >> 4) & 0xf;
    if (arch != 3 && arch != 4) {
        log_err("gicv3: distributor at 0x%llx is GIC architecture %u, need 3 or 4",
                (unsigned long long)hpa_raw(gic->dist), arch);
        return false;
    }
    uint32_t typer = rd32(gicd, GICD_TYPER);
    nr_irqs = MIN(((typer & 0x1f) + 1) * 32, 1020u);
    uint64_t mpidr = cpu_mpidr_read();
    if (!find_redist(gic, mpidr_affinity(mpidr))) {
        log_err("gicv3: no redistributor for MPIDR 0x%llx", (unsigned long long)mpidr);
        return false;
    }
    dist_init(mpidr);
    if (!redist_init()) {
        return false;
    }
    cpuif_init();
    if (!(icc_sre_el2_read() & ICC_SRE_SRE)) {
        log_err("gicv3: system-register interface cannot be enabled at EL2");
        return false;
    }
    log_info("gicv3: %u interrupt lines, EOImode=1", nr_irqs);
    return true;
}

void gicv3_irq_enable(uint32_t intid, uint8_t prio)
{
    if (intid < 32) {
        wr8(gicr_sgi, GICD_IPRIORITYR + intid, prio);
        wr32(gicr_sgi, GICD_ISENABLER, 1u << intid);
    } else if (intid < nr_irqs) {
        wr8(gicd, GICD_IPRIORITYR + intid, prio);
        wr32(gicd, GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
    }
}

void gicv3_irq_disable(uint32_t intid)
{
    if (intid < 32) {
        wr32(gicr_sgi, GICD_ICENABLER, 1u << intid);
        wait_redist();
    } else if (intid < nr_irqs) {
        wr32(gicd, GICD_ICENABLER + (intid / 32) * 4, 1u << (intid % 32));
        wait_dist();
    }
}

void gicv3_set_level_trigger(uint32_t intid, bool level)
{
    if (intid < 16 || intid >= nr_irqs) {
        return; /* SGIs are edge-triggered, fixed */
    }
    volatile uint8_t *base = intid < 32 ? gicr_sgi : gicd;
    uint32_t en_off = intid < 32 ? GICD_ISENABLER : GICD_ISENABLER + (intid / 32) * 4;
    uint32_t bit = 1u << (intid % 32);
    /* Changing the configuration of an enabled interrupt is UNPREDICTABLE. */
    bool was_enabled = rd32(base, en_off) & bit;
    if (was_enabled) {
        gicv3_irq_disable(intid);
    }
    uint32_t off = GICD_ICFGR + (intid / 16) * 4;
    uint32_t shift = 2 * (intid % 16) + 1;
    uint32_t v = rd32(base, off);
    v = level ? v & ~(1u << shift) : v | (1u << shift);
    wr32(base, off, v);
    if (was_enabled) {
        wr32(base, en_off, bit);
    }
}

uint32_t gicv3_ack(void)
{
    return icc_iar1_read();
}

void gicv3_eoi(uint32_t intid)
{
    icc_eoir1_write(intid);
}

void gicv3_deactivate(uint32_t intid)
{
    icc_dir_write(intid);
}
