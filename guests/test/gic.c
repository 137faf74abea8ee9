// SPDX-License-Identifier: Apache-2.0
// GICv3 set-up and interrupt dispatch, in the order and with the access sizes a real OS (Linux's
// irq-gic-v3) uses, so the same sequence exercises the hypervisor's emulation.

#include "guest.h"
#include "virtio_net.h"

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ICPENDR 0x0280
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IROUTER 0x6000

#define GICD_CTLR_RWP (1u << 31)
#define GICD_CTLR_ARE_NS (1u << 4)
#define GICD_CTLR_ENABLE_G1A (1u << 1)
#define GICD_CTLR_ENABLE_G1 (1u << 0)

#define GICR_CTLR 0x0000
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_CTLR_RWP (1u << 3)
#define GICR_TYPER_LAST (1ull << 4)
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)
#define GICR_FRAME_STRIDE 0x20000ull
#define GICR_SGI_OFFSET 0x10000ull

/* In the SGI frame */
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_ICENABLER0 0x0180
#define GICR_ICPENDR0 0x0280
#define GICR_ICACTIVER0 0x0380
#define GICR_IPRIORITYR 0x0400
#define GICR_ICFGR1 0x0c04

#define PRIO_DEFAULT 0xa0u
#define SPIN_LIMIT 10000000u

static uint64_t gicr_base;

static void wait_clear(uint64_t reg, uint32_t bit, const char *what)
{
    for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
        if (!(mmio_read32(reg) & bit)) {
            return;
        }
    }
    con_printf("testguest: gic: timeout waiting for %s\n", what);
}

static void set_prio32(uint64_t base, uint32_t intid, uint32_t prio)
{
    uint64_t reg = base + (intid & ~3u);
    uint32_t shift = (intid & 3u) * 8;
    uint32_t v = mmio_read32(reg);
    v = (v & ~(0xffu << shift)) | (prio << shift);
    mmio_write32(reg, v);
}

static uint64_t find_redistributor(void)
{
    uint64_t mpidr = read_sysreg(mpidr_el1);
    uint64_t aff = (mpidr & 0xffffffull) | ((mpidr >> 32) & 0xff) << 24;
    for (uint64_t i = 0; i < 8; i++) {
        uint64_t rd = GICR_BASE + i * GICR_FRAME_STRIDE;
        uint64_t typer = mmio_read64(rd + GICR_TYPER);
        if ((typer >> 32) == aff) {
            return rd;
        }
        if (typer & GICR_TYPER_LAST) {
            break;
        }
    }
    con_printf("testguest: gic: no redistributor for mpidr 0x%lx, using the first\n", mpidr);
    return GICR_BASE;
}

static void dist_init(void)
{
    uint32_t lines = ((mmio_read32(GICD_BASE + GICD_TYPER) & 0x1f) + 1) * 32;
    if (lines > 1020) {
        lines = 1020;
    }

    mmio_write32(GICD_BASE + GICD_CTLR, 0);
    wait_clear(GICD_BASE + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR.RWP");

    /* All SPIs: non-secure group 1, level, default priority, disabled, not pending/active. */
    for (uint32_t i = 32; i < lines; i += 32) {
        mmio_write32(GICD_BASE + GICD_IGROUPR + i / 8, ~0u);
        mmio_write32(GICD_BASE + GICD_ICENABLER + i / 8, ~0u);
        mmio_write32(GICD_BASE + GICD_ICPENDR + i / 8, ~0u);
        mmio_write32(GICD_BASE + GICD_ICACTIVER + i / 8, ~0u);
    }
    for (uint32_t i = 32; i < lines; i += 16) {
        mmio_write32(GICD_BASE + GICD_ICFGR + i / 4, 0);
    }
    for (uint32_t i = 32; i < lines; i += 4) {
        mmio_write32(GICD_BASE + GICD_IPRIORITYR + i, PRIO_DEFAULT * 0x01010101u);
    }
    wait_clear(GICD_BASE + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR.RWP");

    mmio_write32(GICD_BASE + GICD_CTLR,
                 GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1);
    wait_clear(GICD_BASE + GICD_CTLR, GICD_CTLR_RWP, "GICD_CTLR.RWP");

    /* Affinity routing: every SPI to this CPU (affinity 0.0.0.0 on the one-CPU machine). */
    uint64_t mpidr = read_sysreg(mpidr_el1);
    uint64_t route = (mpidr & 0xffffffull) | (mpidr & (0xffull << 32));
    for (uint32_t i = 32; i < lines; i++) {
        mmio_write64(GICD_BASE + GICD_IROUTER + i * 8, route);
    }
}

static void redist_init(void)
{
    gicr_base = find_redistributor();
    uint64_t sgi = gicr_base + GICR_SGI_OFFSET;

    uint32_t waker = mmio_read32(gicr_base + GICR_WAKER);
    mmio_write32(gicr_base + GICR_WAKER, waker & ~GICR_WAKER_PROCESSOR_SLEEP);
    wait_clear(gicr_base + GICR_WAKER, GICR_WAKER_CHILDREN_ASLEEP, "GICR_WAKER.ChildrenAsleep");

    /* SGIs and PPIs: group 1, all disabled and idle, default priority. */
    mmio_write32(sgi + GICR_IGROUPR0, ~0u);
    mmio_write32(sgi + GICR_ICENABLER0, ~0u);
    mmio_write32(sgi + GICR_ICPENDR0, ~0u);
    mmio_write32(sgi + GICR_ICACTIVER0, ~0u);
    for (uint32_t i = 0; i < 32; i += 4) {
        mmio_write32(sgi + GICR_IPRIORITYR + i, PRIO_DEFAULT * 0x01010101u);
    }
    wait_clear(gicr_base + GICR_CTLR, GICR_CTLR_RWP, "GICR_CTLR.RWP");
}

static void cpuif_init(void)
{
    uint64_t sre = read_sysreg(icc_sre_el1);
    write_sysreg(icc_sre_el1, sre | 1);
    isb();
    if (!(read_sysreg(icc_sre_el1) & 1)) {
        con_printf("testguest: gic: ICC_SRE_EL1.SRE does not stick\n");
    }
    write_sysreg(icc_pmr_el1, 0xff);
    write_sysreg(icc_bpr1_el1, 0);
    write_sysreg(icc_ctlr_el1, read_sysreg(icc_ctlr_el1) & ~2ull); /* EOImode 0 */
    write_sysreg(icc_igrpen1_el1, 1);
    isb();
}

static void enable_ppi(uint32_t intid)
{
    uint64_t sgi = gicr_base + GICR_SGI_OFFSET;
    set_prio32(sgi + GICR_IPRIORITYR, intid, PRIO_DEFAULT);
    /* PPIs' trigger mode is fixed on most parts; the timer is level, as ICFGR1 resets. */
    uint32_t cfg = mmio_read32(sgi + GICR_ICFGR1);
    mmio_write32(sgi + GICR_ICFGR1, cfg & ~(3u << ((intid - 16) * 2)));
    mmio_write32(sgi + GICR_ISENABLER0, 1u << intid);
}

void gic_enable_spi(uint32_t intid)
{
    set_prio32(GICD_BASE + GICD_IPRIORITYR, intid, PRIO_DEFAULT);
    uint64_t cfgreg = GICD_BASE + GICD_ICFGR + (intid / 16) * 4;
    mmio_write32(cfgreg, mmio_read32(cfgreg) & ~(3u << ((intid % 16) * 2))); /* level */
    uint64_t mpidr = read_sysreg(mpidr_el1);
    mmio_write64(GICD_BASE + GICD_IROUTER + intid * 8,
                 (mpidr & 0xffffffull) | (mpidr & (0xffull << 32)));
    mmio_write32(GICD_BASE + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
}

void gic_init(void)
{
    dist_init();
    redist_init();
    cpuif_init();
    enable_ppi(TIMER_INTID);
    gic_enable_spi(UART_INTID);
}

void gic_irq_entry(void)
{
    for (;;) {
        uint64_t iar = read_sysreg(icc_iar1_el1);
        uint32_t intid = (uint32_t)(iar & 0xffffff);
        if (intid >= 1020 && intid <= 1023) {
            return;
        }
        switch (intid) {
        case TIMER_INTID:
            timer_irq();
            break;
        case UART_INTID:
            con_irq();
            break;
        default:
            if (vnet_present() && intid == vnet_intid()) {
                vnet_irq();
                break;
            }
            con_printf("testguest: unexpected irq %u\n", intid);
            break;
        }
        write_sysreg(icc_eoir1_el1, iar);
        isb();
    }
}
