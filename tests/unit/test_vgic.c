// SPDX-License-Identifier: Apache-2.0
// The vGIC (kernel/arch/arm64/vgicv3.c) against fake ICH_* registers: the register model as a
// guest driver uses it, the list-register state machine with a small model of the guest's
// virtual CPU interface (acknowledge / EOI on the fake LRs), and save/load.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arch/gicv3.h>
#include <arch/vgic.h>
#include <cv/bus.h>
#include <cv/vmstate.h>

/* ---- fake system registers (arch/gicv3.h shim) ---- */

#define FAKE_NR_LRS 4u
static uint64_t fake_lr[VGIC_MAX_LRS];
static uint64_t fake_hcr, fake_vmcr, fake_misr;
static uint64_t fake_ap0r[VGIC_MAX_APRS], fake_ap1r[VGIC_MAX_APRS];
/* QEMU's values: 4 LRs, 5 priority and preemption bits, 16 ID bits. */
static uint64_t fake_vtr = (FAKE_NR_LRS - 1) | (4ull << 26) | (4ull << 29);
static uint32_t dir_log[16];
static unsigned dir_count;
static unsigned hw_deact_count; /* physical deactivations done by the "hardware" (HW LRs) */

uint64_t ich_lr_read(unsigned n)
{
    assert_true(n < FAKE_NR_LRS);
    return fake_lr[n];
}

void ich_lr_write(unsigned n, uint64_t v)
{
    assert_true(n < FAKE_NR_LRS);
    fake_lr[n] = v;
}

uint64_t ich_hcr_read(void)
{
    return fake_hcr;
}

void ich_hcr_write(uint64_t v)
{
    fake_hcr = v;
}

uint64_t ich_vtr_read(void)
{
    return fake_vtr;
}

uint64_t ich_misr_read(void)
{
    return fake_misr;
}

uint64_t ich_elrsr_read(void)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < FAKE_NR_LRS; i++) {
        v |= (uint64_t)((fake_lr[i] >> 62) == 0) << i;
    }
    return v;
}

uint64_t ich_vmcr_read(void)
{
    return fake_vmcr;
}

void ich_vmcr_write(uint64_t v)
{
    fake_vmcr = v;
}

uint64_t ich_ap0r_read(unsigned n)
{
    assert_true(n < 1); /* PREbits=5: only register 0 exists */
    return fake_ap0r[n];
}

void ich_ap0r_write(unsigned n, uint64_t v)
{
    assert_true(n < 1);
    fake_ap0r[n] = v;
}

uint64_t ich_ap1r_read(unsigned n)
{
    assert_true(n < 1);
    return fake_ap1r[n];
}

void ich_ap1r_write(unsigned n, uint64_t v)
{
    assert_true(n < 1);
    fake_ap1r[n] = v;
}

void icc_dir_write(uint32_t intid)
{
    assert_true(dir_count < ARRAY_SIZE(dir_log));
    dir_log[dir_count++] = intid;
}

/* ---- the guest's side of the virtual CPU interface, on the fake LRs ---- */

#define LR_STATE(v) ((unsigned)((v) >> 62))

/* ICV_IAR1_EL1: highest-priority pending LR becomes active. Returns 1023 if none. */
static uint32_t guest_ack(void)
{
    int best = -1;
    for (unsigned i = 0; i < FAKE_NR_LRS; i++) {
        if ((fake_lr[i] & ICH_LR_PENDING) && !(fake_lr[i] & ICH_LR_ACTIVE) &&
            (best < 0 || bits_get(fake_lr[i], 55, 48) < bits_get(fake_lr[best], 55, 48))) {
            best = (int)i;
        }
    }
    if (best < 0) {
        return 1023;
    }
    fake_lr[best] = (fake_lr[best] & ~ICH_LR_PENDING) | ICH_LR_ACTIVE;
    return (uint32_t)(fake_lr[best] & 0xffffffff);
}

/* ICV_EOIR1_EL1 with EOImode=0: deactivates; no LR for it counts in ICH_HCR.EOIcount. */
static void guest_eoi(uint32_t intid)
{
    for (unsigned i = 0; i < FAKE_NR_LRS; i++) {
        if ((fake_lr[i] & 0xffffffff) == intid && (fake_lr[i] & ICH_LR_ACTIVE)) {
            fake_lr[i] &= ~ICH_LR_ACTIVE;
            if (fake_lr[i] & ICH_LR_HW) {
                hw_deact_count++;
            }
            return;
        }
    }
    fake_hcr += 1ull << ICH_HCR_EOICOUNT_SHIFT;
}

static int find_lr(uint32_t intid)
{
    for (unsigned i = 0; i < FAKE_NR_LRS; i++) {
        if (LR_STATE(fake_lr[i]) && (fake_lr[i] & 0xffffffff) == intid) {
            return (int)i;
        }
    }
    return -1;
}

static unsigned lrs_valid(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < FAKE_NR_LRS; i++) {
        n += LR_STATE(fake_lr[i]) != 0;
    }
    return n;
}

/* ---- MMIO helpers ---- */

static struct vgic G;

static enum bus_result acc(bool redist, uint64_t off, unsigned size, bool wr, uint64_t *v)
{
    struct bus_access a = {.addr = (redist ? 0x080a0000 : 0x08000000) + off,
                           .offset = off,
                           .size = size,
                           .write = wr,
                           .value = wr ? *v : 0};
    enum bus_result r;
    if (redist) {
        r = wr ? vgic_gicr_write(&G, &a) : vgic_gicr_read(&G, &a);
    } else {
        r = wr ? vgic_gicd_write(&G, &a) : vgic_gicd_read(&G, &a);
    }
    if (!wr) {
        *v = a.value;
    }
    return r;
}

static uint64_t rd(bool redist, uint64_t off, unsigned size)
{
    uint64_t v = 0xdeadbeefdeadbeefull;
    assert_int_equal(acc(redist, off, size, false, &v), BUS_OK);
    return v;
}

static void wr(bool redist, uint64_t off, unsigned size, uint64_t v)
{
    assert_int_equal(acc(redist, off, size, true, &v), BUS_OK);
}

static enum bus_result try_rd(bool redist, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    return acc(redist, off, size, false, &v);
}

static enum bus_result try_wr(bool redist, uint64_t off, unsigned size, uint64_t v)
{
    return acc(redist, off, size, true, &v);
}

#define D false
#define R true
#define SGI 0x10000u

static int setup(void **state)
{
    (void)state;
    memset(fake_lr, 0xff, sizeof(fake_lr)); /* vgic_init must clear them */
    fake_hcr = 0x1f;
    fake_vmcr = 0x1234;
    fake_ap0r[0] = fake_ap1r[0] = 7;
    fake_misr = 0;
    dir_count = 0;
    hw_deact_count = 0;
    vgic_init(&G, gpa(0x08000000), gpa(0x080a0000), 25);
    vgic_link_hw(&G, 27, 27);
    return 0;
}

/* What Linux's gic-v3 driver does at boot, reduced to what matters here. */
static void guest_boot(void)
{
    wr(R, 0x14, 4, 0); /* GICR_WAKER: wake up */
    assert_int_equal(rd(R, 0x14, 4) & 4, 0);
    wr(D, 0x0, 4, 0x13); /* ARE_NS | EnableGrp1 | EnableGrp0 */
    for (unsigned n = 1; n < 4; n++) {
        wr(D, 0x80 + 4 * n, 4, 0xffffffff); /* IGROUPR: group 1 */
    }
    wr(R, SGI + 0x80, 4, 0xffffffff);
    fake_vmcr = ICH_VMCR_ENG1 | (0xf0ull << ICH_VMCR_PMR_SHIFT);
}

static void enable_irq(uint32_t intid, uint8_t prio)
{
    if (intid < 32) {
        wr(R, SGI + 0x400 + intid, 1, prio);
        wr(R, SGI + 0x100, 4, 1u << intid);
    } else {
        wr(D, 0x400 + intid, 1, prio);
        wr(D, 0x100 + (intid / 32) * 4, 4, 1u << (intid % 32));
    }
}

/* ---- register model ---- */

static void test_id_registers(void **state)
{
    (void)state;
    uint64_t typer = rd(D, 0x4, 4);
    assert_int_equal(typer & 0x1f, 3);                          /* 128 INTIDs */
    assert_int_equal((typer >> 19) & 0x1f, 15);                 /* IDbits */
    assert_int_equal(typer & (BIT(17) | BIT(16) | BIT(10)), 0); /* no LPIs, MBIS, security */
    assert_int_equal(rd(D, 0xc, 4), 0);                         /* TYPER2 */
    assert_int_equal(rd(D, 0x8, 4), rd(R, 0x4, 4));             /* IIDR */
    assert_int_equal((rd(D, 0xffe8, 4) >> 4) & 0xf, 3);
    assert_int_equal((rd(R, 0xffe8, 4) >> 4) & 0xf, 3);
    /* GICR_TYPER: Last, processor 0, affinity 0, as one 64-bit or two 32-bit reads. */
    assert_int_equal(rd(R, 0x8, 8), 0x10);
    assert_int_equal(rd(R, 0x8, 4), 0x10);
    assert_int_equal(rd(R, 0xc, 4), 0);
    wr(R, 0x8, 8, ~0ull); /* read-only */
    assert_int_equal(rd(R, 0x8, 8), 0x10);
    assert_int_equal(rd(R, 0x0, 4), 0);  /* GICR_CTLR: no LPIs, RWP clear */
    assert_int_equal(rd(R, 0x70, 8), 0); /* PROPBASER RAZ/WI */
    wr(R, 0x70, 8, 0x1234000);
    assert_int_equal(rd(R, 0x70, 8), 0);
}

static void test_gicd_ctlr(void **state)
{
    (void)state;
    assert_int_equal(rd(D, 0, 4), 0x50); /* ARE and DS fixed at one, groups off */
    wr(D, 0, 4, 0x2);
    assert_int_equal(rd(D, 0, 4), 0x52);
    wr(D, 0, 4, 0xffffffff); /* RWP, E1NWF etc. do not stick */
    assert_int_equal(rd(D, 0, 4), 0x53);
    wr(D, 0, 4, 0);
    assert_int_equal(rd(D, 0, 4), 0x50);
    wr(D, 0x4, 4, 0); /* TYPER is read-only */
    assert_int_equal(rd(D, 0x4, 4) & 0x1f, 3);
}

static void test_waker_handshake(void **state)
{
    (void)state;
    assert_int_equal(rd(R, 0x14, 4), 0x6); /* asleep at reset */
    wr(R, 0x14, 4, 0);
    assert_int_equal(rd(R, 0x14, 4), 0);
    wr(R, 0x14, 4, 0x2);
    assert_int_equal(rd(R, 0x14, 4), 0x6);
    wr(R, 0x14, 4, 0x4); /* ChildrenAsleep is read-only */
    assert_int_equal(rd(R, 0x14, 4), 0);
}

static void test_enable_roundtrip(void **state)
{
    (void)state;
    wr(D, 0x104, 4, 0x00010001); /* ISENABLER1: SPIs 32, 48 */
    assert_int_equal(rd(D, 0x104, 4), 0x00010001);
    assert_int_equal(rd(D, 0x184, 4), 0x00010001);
    wr(D, 0x184, 4, 0x1); /* ICENABLER1 */
    assert_int_equal(rd(D, 0x104, 4), 0x00010000);
    /* Bank 0 lives in the redistributor with ARE: RAZ/WI in the distributor. */
    wr(D, 0x100, 4, 0xffffffff);
    assert_int_equal(rd(D, 0x100, 4), 0);
    assert_int_equal(rd(R, SGI + 0x100, 4), 0);
    wr(R, SGI + 0x100, 4, 1u << 27);
    assert_int_equal(rd(R, SGI + 0x100, 4), 1u << 27);
    wr(R, SGI + 0x180, 4, 1u << 27);
    assert_int_equal(rd(R, SGI + 0x180, 4), 0);
    /* Beyond ITLinesNumber: RAZ/WI. */
    wr(D, 0x110, 4, 0xffffffff);
    assert_int_equal(rd(D, 0x110, 4), 0);
    /* Group registers. */
    wr(D, 0x88, 4, 0xf0f0f0f0);
    assert_int_equal(rd(D, 0x88, 4), 0xf0f0f0f0);
    wr(R, SGI + 0x80, 4, 0x80000001);
    assert_int_equal(rd(R, SGI + 0x80, 4), 0x80000001);
}

static void test_priority_byte_word(void **state)
{
    (void)state;
    wr(D, 0x420, 4, 0x80604020); /* INTIDs 32..35 */
    assert_int_equal(rd(D, 0x420, 1), 0x20);
    assert_int_equal(rd(D, 0x423, 1), 0x80);
    wr(D, 0x421, 1, 0xff); /* 5 bits implemented */
    assert_int_equal(rd(D, 0x420, 4), 0x8060f820);
    /* SGI/PPI priorities in the redistributor; the distributor's copy is RAZ/WI. */
    wr(R, SGI + 0x41b, 1, 0xa0); /* PPI 27 */
    assert_int_equal(rd(R, SGI + 0x418, 4), 0xa0000000);
    wr(D, 0x41b, 1, 0x10);
    assert_int_equal(rd(D, 0x418, 4), 0);
    assert_int_equal(rd(R, SGI + 0x41b, 1), 0xa0);
    /* Sizes: no halfwords, no doublewords, no misalignment. */
    assert_int_equal(try_rd(D, 0x420, 2), BUS_BAD_ACCESS);
    assert_int_equal(try_wr(D, 0x420, 8, 0), BUS_BAD_ACCESS);
    assert_int_equal(try_rd(D, 0x422, 4), BUS_BAD_ACCESS);
    assert_int_equal(try_wr(R, SGI + 0x400, 2, 0), BUS_BAD_ACCESS);
    assert_int_equal(rd(D, 0x420, 4), 0x8060f820); /* rejected writes changed nothing */
}

static void test_config(void **state)
{
    (void)state;
    assert_int_equal(rd(R, SGI + 0xc00, 4), 0xaaaaaaaa); /* SGIs edge, read-only */
    wr(R, SGI + 0xc00, 4, 0);
    assert_int_equal(rd(R, SGI + 0xc00, 4), 0xaaaaaaaa);
    wr(R, SGI + 0xc04, 4, 0x00800000); /* PPI 27 edge */
    assert_int_equal(rd(R, SGI + 0xc04, 4), 0x00800000);
    wr(D, 0xc08, 4, 0xaaaa5555); /* INTIDs 32..47: odd bits only matter */
    assert_int_equal(rd(D, 0xc08, 4), 0xaaaa0000);
    assert_int_equal(rd(D, 0xc00, 4), 0); /* SGIs/PPIs not here with ARE */
}

static void test_bad_sizes(void **state)
{
    (void)state;
    assert_int_equal(try_rd(D, 0x0, 1), BUS_BAD_ACCESS); /* CTLR */
    assert_int_equal(try_rd(D, 0x0, 8), BUS_BAD_ACCESS);
    assert_int_equal(try_wr(D, 0x100, 2, 0), BUS_BAD_ACCESS);
    assert_int_equal(try_wr(D, 0x104, 1, 1), BUS_BAD_ACCESS);
    assert_int_equal(rd(D, 0x104, 4), 0);                    /* the byte write had no effect */
    assert_int_equal(try_rd(D, 0x6100, 2), BUS_BAD_ACCESS);  /* IROUTER */
    assert_int_equal(try_rd(D, 0x6104, 8), BUS_BAD_ACCESS);  /* misaligned 64-bit */
    assert_int_equal(try_rd(R, 0x14, 8), BUS_BAD_ACCESS);    /* WAKER */
    assert_int_equal(try_rd(R, 0x8, 2), BUS_BAD_ACCESS);     /* GICR_TYPER */
    assert_int_equal(try_rd(R, 0xffe8, 1), BUS_BAD_ACCESS);  /* PIDR2 */
    assert_int_equal(try_rd(D, 0x10000, 4), BUS_BAD_ACCESS); /* outside the window */
    assert_int_equal(try_rd(R, 0x20000, 4), BUS_BAD_ACCESS);
    /* Reserved offsets are RAZ/WI. */
    assert_int_equal(rd(D, 0x20, 4), 0);
    wr(D, 0x3000, 4, 0xffffffff);
    assert_int_equal(rd(D, 0x3000, 4), 0);
    assert_int_equal(rd(R, SGI + 0x84, 4), 0); /* extended PPI range */
    /* RAZ/WI registers of the right size. */
    wr(D, 0x820, 4, 0x01010101); /* ITARGETSR */
    assert_int_equal(rd(D, 0x820, 1), 0);
    wr(D, 0xd04, 4, ~0u); /* IGRPMODR */
    assert_int_equal(rd(D, 0xd04, 4), 0);
    wr(D, 0xf00, 4, 0x00010001); /* GICD_SGIR: WI with ARE */
    assert_int_equal(rd(R, SGI + 0x200, 4), 0);
}

static void test_irouter(void **state)
{
    (void)state;
    assert_int_equal(rd(D, 0x6000 + 8 * 40, 8), 0);
    wr(D, 0x6000 + 8 * 40, 8, 0xff800000010203ull); /* Aff3 and IRM are RES0 here */
    assert_int_equal(rd(D, 0x6000 + 8 * 40, 8), 0x010203);
    wr(D, 0x6000 + 8 * 40, 4, 0x0);
    assert_int_equal(rd(D, 0x6000 + 8 * 40, 8), 0);
    wr(D, 0x6000 + 8 * 40 + 4, 4, 0xffffffff);
    assert_int_equal(rd(D, 0x6000 + 8 * 40 + 4, 4), 0);
    wr(D, 0x6000 + 8 * 20, 8, 0x1); /* INTID < 32: reserved */
    assert_int_equal(rd(D, 0x6000 + 8 * 20, 8), 0);
    /* Routed to a PE that does not exist: not delivered. */
    guest_boot();
    enable_irq(40, 0x80);
    wr(D, 0x6000 + 8 * 40, 8, 0x100);
    vgic_inject_edge(&G, 40);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);
    vgic_sync(&G);
    wr(D, 0x6000 + 8 * 40, 8, 0);
    vgic_flush(&G);
    assert_true(find_lr(40) >= 0);
}

static void test_pending_active_regs(void **state)
{
    (void)state;
    wr(D, 0x204, 4, 0x3); /* ISPENDR1 */
    assert_int_equal(rd(D, 0x204, 4), 0x3);
    assert_int_equal(rd(D, 0x284, 4), 0x3);
    wr(D, 0x284, 4, 0x1);
    assert_int_equal(rd(D, 0x204, 4), 0x2);
    /* A level line that is high keeps the interrupt pending through ICPENDR. */
    vgic_set_level(&G, 33, true);
    wr(D, 0x284, 4, 0x2);
    assert_int_equal(rd(D, 0x204, 4), 0x2);
    vgic_set_level(&G, 33, false);
    assert_int_equal(rd(D, 0x204, 4), 0);
    wr(D, 0x304, 4, 0x80000000); /* ISACTIVER1 */
    assert_int_equal(rd(D, 0x384, 4), 0x80000000);
    wr(D, 0x384, 4, 0x80000000);
    assert_int_equal(rd(D, 0x304, 4), 0);
    wr(R, SGI + 0x200, 4, 0x2); /* SGI 1 */
    assert_int_equal(rd(R, SGI + 0x280, 4), 0x2);
}

static void test_mmio_bus(void **state)
{
    (void)state;
    struct bus bus = {0};
    assert_true(vgic_register_mmio(&G, &bus));
    assert_int_equal(bus.count, 2);
    struct bus_access a = {.addr = 0x080a0000 + 0x10000 + 0xc00, .size = 4};
    assert_int_equal(bus_dispatch(&bus, &a), BUS_OK);
    assert_int_equal(a.value, 0xaaaaaaaa);
    a = (struct bus_access){.addr = 0x08000004, .size = 4};
    assert_int_equal(bus_dispatch(&bus, &a), BUS_OK);
    assert_int_equal(a.value & 0x1f, 3);
    /* Overlapping registration fails. */
    assert_false(vgic_register_mmio(&G, &bus));
}

/* ---- injection and the list registers ---- */

static void test_init_clears_hw(void **state)
{
    (void)state;
    for (unsigned i = 0; i < FAKE_NR_LRS; i++) {
        assert_int_equal(fake_lr[i], 0);
    }
    assert_int_equal(fake_hcr, 0);
    assert_int_equal(fake_vmcr, 0);
    assert_int_equal(fake_ap0r[0], 0);
    assert_int_equal(fake_ap1r[0], 0);
    assert_int_equal(G.nr_lrs, 4);
    assert_int_equal(G.nr_aprs, 1);
}

static void test_edge_flow(void **state)
{
    (void)state;
    guest_boot();
    enable_irq(40, 0x80);
    vgic_inject_edge(&G, 40);
    assert_true(vgic_has_pending(&G));
    vgic_flush(&G);
    assert_true(fake_hcr & ICH_HCR_EN);
    assert_false(fake_hcr & (ICH_HCR_NPIE | ICH_HCR_UIE));
    assert_int_equal(fake_lr[0],
                     40 | ICH_LR_PENDING | ICH_LR_GROUP | (0x80ull << ICH_LR_PRIO_SHIFT));
    assert_int_equal(guest_ack(), 40);
    vgic_sync(&G);
    assert_int_equal(lrs_valid(), 0);
    assert_int_equal(rd(D, 0x304, 4), 1u << 8); /* active */
    assert_int_equal(rd(D, 0x204, 4), 0);       /* no longer pending */
    assert_false(vgic_has_pending(&G));
    /* Another edge while active: pending and active in one LR. */
    vgic_inject_edge(&G, 40);
    vgic_flush(&G);
    assert_int_equal(LR_STATE(fake_lr[0]), 3);
    guest_eoi(40);
    vgic_sync(&G);
    assert_int_equal(rd(D, 0x304, 4), 0);
    assert_int_equal(rd(D, 0x204, 4), 1u << 8);
    vgic_flush(&G);
    assert_int_equal(guest_ack(), 40);
    guest_eoi(40);
    vgic_sync(&G);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);
    /* Flush without guest activity then sync gives the pending state back. */
    vgic_sync(&G);
    vgic_inject_edge(&G, 40);
    vgic_flush(&G);
    vgic_sync(&G);
    assert_int_equal(rd(D, 0x204, 4), 1u << 8);
}

static void test_level_repend(void **state)
{
    (void)state;
    guest_boot();
    enable_irq(41, 0x80);
    vgic_set_level(&G, 41, true);
    vgic_flush(&G);
    int lr = find_lr(41);
    assert_true(lr >= 0);
    /* Line high: maintenance on deactivation, so that we see the line again. */
    assert_true(fake_lr[lr] & ICH_LR_EOI);
    assert_int_equal(guest_ack(), 41);
    guest_eoi(41); /* handler did not quiet the device */
    assert_int_equal(LR_STATE(fake_lr[lr]), 0);
    vgic_handle_maintenance(&G);
    assert_int_equal(lrs_valid(), 0);
    assert_int_equal(rd(D, 0x204, 4), 1u << 9); /* pending again: line still high */
    vgic_flush(&G);
    assert_int_equal(guest_ack(), 41);
    vgic_sync(&G); /* exit while active: e.g. the handler's MMIO access to the device */
    /* Still high while active: pending and active. */
    vgic_flush(&G);
    assert_int_equal(LR_STATE(fake_lr[find_lr(41)]), 3);
    vgic_sync(&G);
    vgic_set_level(&G, 41, false); /* the device deasserts */
    vgic_flush(&G);
    lr = find_lr(41);
    assert_int_equal(LR_STATE(fake_lr[lr]), 2);
    assert_false(fake_lr[lr] & ICH_LR_EOI);
    guest_eoi(41);
    vgic_sync(&G);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);
    assert_false(vgic_has_pending(&G));
}

static void test_hw_timer(void **state)
{
    (void)state;
    guest_boot();
    enable_irq(27, 0xa0);
    vgic_inject_hw(&G, 27, 27);
    vgic_flush(&G);
    int lr = find_lr(27);
    assert_true(lr >= 0);
    assert_true(fake_lr[lr] & ICH_LR_HW);
    assert_int_equal(bits_get(fake_lr[lr], 44, 32), 27);
    assert_int_equal(LR_STATE(fake_lr[lr]), 1);
    assert_int_equal(guest_ack(), 27);
    vgic_sync(&G);
    vgic_flush(&G);
    lr = find_lr(27);
    assert_int_equal(LR_STATE(fake_lr[lr]), 2);
    assert_true(fake_lr[lr] & ICH_LR_HW);
    guest_eoi(27);
    assert_int_equal(hw_deact_count, 1); /* the hardware deactivated pINTID */
    vgic_sync(&G);
    assert_int_equal(dir_count, 0); /* so the vGIC did not */
    assert_int_equal(G.irq[27].flags & VGIC_IRQ_HW, 0);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);

    /* The guest clears a HW interrupt by register: the vGIC deactivates the physical one. */
    vgic_inject_hw(&G, 27, 27);
    wr(R, SGI + 0x280, 4, 1u << 27);
    assert_int_equal(dir_count, 1);
    assert_int_equal(dir_log[0], 27);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);
    vgic_sync(&G);

    /* Guest reset while the physical interrupt is lent out. */
    vgic_inject_hw(&G, 27, 27);
    vgic_reset(&G);
    assert_int_equal(dir_count, 2);
}

static void test_priority_overflow(void **state)
{
    (void)state;
    guest_boot();
    static const uint8_t prio[6] = {0x90, 0x10, 0x50, 0x30, 0x70, 0x20};
    for (unsigned i = 0; i < 6; i++) {
        enable_irq(50 + i, prio[i]);
        vgic_inject_edge(&G, 50 + i);
    }
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 4);
    /* The four best: 51 (0x10), 55 (0x20), 53 (0x30), 52 (0x50). */
    assert_true(find_lr(51) >= 0 && find_lr(55) >= 0 && find_lr(53) >= 0 && find_lr(52) >= 0);
    assert_true(fake_hcr & ICH_HCR_NPIE);
    assert_int_equal(G.stats.overflows, 1);
    uint32_t order[4];
    for (unsigned i = 0; i < 4; i++) {
        order[i] = guest_ack();
        guest_eoi(order[i]);
    }
    assert_int_equal(order[0], 51);
    assert_int_equal(order[1], 55);
    assert_int_equal(order[2], 53);
    assert_int_equal(order[3], 52);
    vgic_handle_maintenance(&G); /* NPIE fired */
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 2);
    assert_false(fake_hcr & ICH_HCR_NPIE);
    assert_int_equal(guest_ack(), 54);
    assert_int_equal(guest_ack(), 50);
}

static void test_active_overflow_eoicount(void **state)
{
    (void)state;
    guest_boot();
    for (unsigned i = 0; i < 5; i++) {
        enable_irq(60 + i, (uint8_t)(0x10 * (i + 1)));
    }
    wr(D, 0x304, 4, 0xf0000000); /* 60..63 */
    wr(D, 0x308, 4, 0x1);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 4);
    assert_true(fake_hcr & ICH_HCR_LRENPIE);
    assert_true(fake_hcr & ICH_HCR_UIE); /* no pending LR: NPIE would loop */
    assert_false(fake_hcr & ICH_HCR_NPIE);
    assert_int_equal(find_lr(64), -1);
    guest_eoi(64); /* not in an LR: counted */
    vgic_sync(&G);
    assert_int_equal(G.stats.eoicount, 1);
    assert_int_equal(rd(D, 0x308, 4), 0);
    assert_int_equal(fake_hcr, ICH_HCR_EN);
}

static void test_not_delivered(void **state)
{
    (void)state;
    guest_boot();
    /* Not enabled. */
    wr(D, 0x400 + 45, 1, 0x80);
    vgic_inject_edge(&G, 45);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);
    assert_false(vgic_has_pending(&G));
    vgic_sync(&G);
    /* Enabled, but the distributor's group 1 is off. */
    wr(D, 0x104, 4, 1u << 13);
    wr(D, 0, 4, 0x1);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);
    assert_false(vgic_has_pending(&G));
    vgic_sync(&G);
    /* Group 0 interrupt with only group 0 enabled: delivered, group bit clear. */
    wr(D, 0x84, 4, 0);
    fake_vmcr |= ICH_VMCR_ENG0;
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 1);
    assert_false(fake_lr[0] & ICH_LR_GROUP);
    vgic_sync(&G);
    /* Distributor off: nothing. */
    wr(D, 0, 4, 0);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);
    vgic_sync(&G);
    /* Redistributor asleep: nothing. */
    wr(D, 0, 4, 0x3);
    wr(R, 0x14, 4, 0x2);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 0);
    vgic_sync(&G);
    wr(R, 0x14, 4, 0);
    vgic_flush(&G);
    assert_int_equal(lrs_valid(), 1);
    vgic_sync(&G);
    /* Lines outside the model are ignored. */
    vgic_set_level(&G, 200, true);
    vgic_set_level(&G, 3, true);
    vgic_inject_edge(&G, 128);
}

static void test_has_pending_pmr(void **state)
{
    (void)state;
    guest_boot();
    enable_irq(40, 0x80);
    vgic_inject_edge(&G, 40);
    fake_vmcr = ICH_VMCR_ENG1 | (0x80ull << ICH_VMCR_PMR_SHIFT); /* masks priority 0x80 */
    assert_false(vgic_has_pending(&G));
    fake_vmcr = ICH_VMCR_ENG1 | (0x88ull << ICH_VMCR_PMR_SHIFT);
    assert_true(vgic_has_pending(&G));
    fake_vmcr = 0xffull << ICH_VMCR_PMR_SHIFT; /* group 1 disabled at the CPU interface */
    assert_false(vgic_has_pending(&G));
    fake_vmcr = ICH_VMCR_ENG1 | (0xffull << ICH_VMCR_PMR_SHIFT);
    vgic_flush(&G); /* the pending state now sits in an LR */
    assert_true(vgic_has_pending(&G));
    vgic_sync(&G);
}

static void test_sgi(void **state)
{
    (void)state;
    guest_boot();
    enable_irq(3, 0x20);
    vgic_sgi_write(&G, (3ull << 24) | 1); /* to Aff 0.0.0, target list {0} */
    assert_int_equal(rd(R, SGI + 0x200, 4), 1u << 3);
    wr(R, SGI + 0x280, 4, 1u << 3);
    vgic_sgi_write(&G, (3ull << 24) | 2);                /* target 1: nobody */
    vgic_sgi_write(&G, (3ull << 24) | BIT(40));          /* IRM: all but self */
    vgic_sgi_write(&G, (3ull << 24) | (1ull << 16) | 1); /* Aff1=1 */
    assert_int_equal(rd(R, SGI + 0x200, 4), 0);
}

/* ---- save / load ---- */

static size_t save_now(uint8_t *buf, size_t cap)
{
    struct vs_buf w;
    vs_init_writer(&w, buf, cap);
    vgic_save(&G, &w);
    assert_false(w.err);
    return w.len;
}

static bool load_now(const uint8_t *buf, size_t len, uint32_t version, bool apply)
{
    struct vs_buf r;
    vs_init_reader(&r, buf, len);
    bool ok = vgic_load(&G, &r, version, apply);
    return ok && !r.err && r.pos == r.len;
}

static void make_rich_state(void)
{
    guest_boot();
    enable_irq(27, 0x20);
    enable_irq(33, 0x40);
    enable_irq(40, 0x80);
    wr(D, 0x6000 + 8 * 100, 8, 0x020100);
    wr(D, 0xc08, 4, 0x8);
    vgic_set_level(&G, 33, true);
    vgic_inject_edge(&G, 40);
    vgic_inject_hw(&G, 27, 27);
    fake_vmcr = ICH_VMCR_ENG1 | (0xf0ull << ICH_VMCR_PMR_SHIFT) | (2ull << 18);
    fake_ap1r[0] = 0x4;
    vgic_flush(&G); /* save with LRs loaded: their contents must travel too */
    assert_int_equal(guest_ack(), 27);
}

/*
 * A checkpoint of a VM that has been running: the timer was lent out, taken, deactivated, and
 * the LRs synced. Its state must load (regression: stale pINTID and LR INTIDs were saved).
 */
static void test_save_after_running_loads(void **state)
{
    (void)state;
    static uint8_t buf[16384];
    guest_boot();
    enable_irq(27, 0xa0);
    vgic_inject_hw(&G, 27, 27);
    vgic_flush(&G);
    assert_int_equal(guest_ack(), 27);
    vgic_sync(&G);
    vgic_flush(&G);
    guest_eoi(27);
    vgic_sync(&G);
    size_t n = save_now(buf, sizeof(buf));
    assert_true(load_now(buf, n, 1, false));
    assert_true(load_now(buf, n, 1, true));
}

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    static uint8_t a[8192], b[8192];
    make_rich_state();
    size_t n = save_now(a, sizeof(a));
    assert_true(n > 0);
    struct vgic saved = G;
    uint64_t lrs[FAKE_NR_LRS];
    memcpy(lrs, fake_lr, sizeof(lrs));
    uint64_t vmcr = fake_vmcr, ap1 = fake_ap1r[0], hcr = fake_hcr;

    /* Fresh VM. */
    setup(NULL);
    struct vgic fresh = G;
    assert_true(load_now(a, n, VGIC_VMSTATE_VERSION, false));
    assert_memory_equal(&G, &fresh, sizeof(G)); /* check only: nothing changed */
    assert_int_equal(fake_vmcr, 0);
    assert_true(load_now(a, n, VGIC_VMSTATE_VERSION, true));
    assert_memory_equal(G.irq, saved.irq, sizeof(G.irq));
    assert_memory_equal(G.irouter, saved.irouter, sizeof(G.irouter));
    assert_memory_equal(fake_lr, lrs, sizeof(lrs));
    assert_int_equal(fake_vmcr, vmcr);
    assert_int_equal(fake_ap1r[0], ap1);
    assert_int_equal(fake_hcr, hcr);
    assert_int_equal(G.gicd_ctlr, saved.gicd_ctlr);
    assert_int_equal(G.lrs_loaded, saved.lrs_loaded);
    assert_int_equal(G.lr_took_latch, saved.lr_took_latch);
    size_t m = save_now(b, sizeof(b));
    assert_int_equal(m, n);
    assert_memory_equal(a, b, n);

    /* And it keeps working: the guest finishes with the timer. */
    guest_eoi(27);
    vgic_sync(&G);
    assert_int_equal(G.irq[27].flags & VGIC_IRQ_HW, 0);
    assert_int_equal(rd(D, 0x204, 4), (1u << 1) | (1u << 8)); /* 33 (line), 40 (edge) */
}

static void test_save_overflow(void **state)
{
    (void)state;
    uint8_t small[64];
    struct vs_buf w;
    vs_init_writer(&w, small, sizeof(small));
    vgic_save(&G, &w);
    assert_true(w.err);
}

/* Offsets into the version-1 body (see vgicv3.c). */
#define OFF_CTLR 4u
#define OFF_WAKER 8u
#define OFF_IRQ(n) (12u + 6u * (n))
#define OFF_IROUTER(n) (OFF_IRQ(128) + 4u * (n))
#define OFF_NR_LRS OFF_IROUTER(96)
#define OFF_VMCR (OFF_NR_LRS + 8u)
#define OFF_AP0R (OFF_VMCR + 8u)
#define OFF_HCR (OFF_AP0R + 16u)
#define OFF_LOADED (OFF_HCR + 8u)
#define OFF_LRUSED (OFF_LOADED + 1u)
#define OFF_LR(n) (OFF_LRUSED + 5u + 9u * (n))

static void put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void test_load_rejects_corrupt(void **state)
{
    (void)state;
    static uint8_t good[8192], bad[8192];
    make_rich_state();
    size_t n = save_now(good, sizeof(good));
    assert_int_equal(n, OFF_LR(4));
    assert_int_equal(good[OFF_LR(0)], G.lr_intid[0]);
    struct vgic before = G;
    uint64_t lrs[FAKE_NR_LRS];
    memcpy(lrs, fake_lr, sizeof(lrs));

    struct {
        size_t off;
        uint8_t val;
    } flips[] = {
        {0, 127},                   /* nr_irqs */
        {OFF_CTLR, 0x10},           /* not a writable CTLR bit */
        {OFF_WAKER, 0x2},           /* asleep without ChildrenAsleep */
        {OFF_IRQ(40), 0x81},        /* priority below the implemented bits */
        {OFF_IRQ(40) + 1, 0x80},    /* unknown flag */
        {OFF_IRQ(3) + 1, 0x01},     /* SGI that is not edge */
        {OFF_IRQ(50) + 2, 27},      /* pINTID without HW */
        {OFF_IROUTER(5) + 3, 0x80}, /* IRM */
        {OFF_NR_LRS, 8},            /* LR count of another CPU */
        {OFF_VMCR + 1, 0x01},       /* VMCR reserved bit 8 */
        {OFF_HCR + 1, 0x01},        /* HCR bit 8 (TC) */
        {OFF_LOADED, 2},
        {OFF_LRUSED, 5},
        {OFF_LR(0), 200},          /* LR INTID out of range */
        {OFF_LR(0) + 1, 99},       /* LR vINTID disagrees with the bookkeeping */
        {OFF_LR(0) + 1 + 7, 0x0f}, /* LR RES0 bits [59:56] */
        {OFF_LR(3) + 1, 1},        /* unused LR not empty */
    };
    for (unsigned i = 0; i < ARRAY_SIZE(flips); i++) {
        memcpy(bad, good, n);
        bad[flips[i].off] = flips[i].val;
        assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    }
    /* Two LRs claiming the same INTID. */
    memcpy(bad, good, n);
    assert_true(G.lr_used >= 2);
    memcpy(&bad[OFF_LR(1)], &bad[OFF_LR(0)], 9);
    assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    /* HW flag with a pINTID out of range. */
    memcpy(bad, good, n);
    put32(&bad[OFF_IRQ(27) + 2], 1020);
    assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    /* Truncated, and wrong version. */
    assert_false(load_now(good, n - 1, VGIC_VMSTATE_VERSION, false));
    assert_false(load_now(good, 10, VGIC_VMSTATE_VERSION, false));
    assert_false(load_now(good, n, VGIC_VMSTATE_VERSION + 1, false));
    /* Nothing was touched, and the good image still loads. */
    assert_memory_equal(&G, &before, sizeof(G));
    assert_memory_equal(fake_lr, lrs, sizeof(lrs));
    assert_true(load_now(good, n, VGIC_VMSTATE_VERSION, false));
    assert_true(load_now(good, n, VGIC_VMSTATE_VERSION, true));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/*
 * A stream may carry a hardware link only for the pair the hypervisor makes (here vINTID 27 ->
 * pINTID 27, set up by vgic_link_hw): any other physical INTID would be deactivated at EL2 (by
 * vgic_reset, or by the hardware on the guest's EOI), e.g. the hypervisor's own timer (26).
 */
static void test_load_rejects_forged_hw_link(void **state)
{
    (void)state;
    static uint8_t good[8192], bad[8192];
    make_rich_state();
    size_t n = save_now(good, sizeof(good));
    unsigned l = 0;
    while (l < G.lr_used && G.lr_intid[l] != 27) {
        l++;
    }
    assert_true(l < G.lr_used);
    uint64_t lr = get64(&good[OFF_LR(l) + 1]);
    assert_true(lr & ICH_LR_HW);
    assert_int_equal((lr >> ICH_LR_PINTID_SHIFT) & 0x1fff, 27);
    struct vgic before = G;

    /* The model's link names another physical INTID. */
    memcpy(bad, good, n);
    put32(&bad[OFF_IRQ(27) + 2], 26);
    assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    /* The LR's physical INTID disagrees with the model. */
    memcpy(bad, good, n);
    put64(&bad[OFF_LR(l) + 1], (lr & ~ICH_LR_PINTID_MASK) | (26ull << ICH_LR_PINTID_SHIFT));
    assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    /* Both agree on the forged INTID. */
    put32(&bad[OFF_IRQ(27) + 2], 26);
    assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    /* A HW link on an interrupt the hypervisor never links (SPI 40 as pINTID 40). */
    memcpy(bad, good, n);
    bad[OFF_IRQ(40) + 1] |= VGIC_IRQ_HW;
    put32(&bad[OFF_IRQ(40) + 2], 40);
    assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    /* An LR with the HW bit whose model entry has no link. */
    memcpy(bad, good, n);
    bad[OFF_IRQ(27) + 1] &= (uint8_t)~VGIC_IRQ_HW;
    put32(&bad[OFF_IRQ(27) + 2], 0);
    assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    /* An LR priority with bits the model does not implement. */
    memcpy(bad, good, n);
    put64(&bad[OFF_LR(l) + 1], lr | (0x07ull << ICH_LR_PRIO_SHIFT));
    assert_false(load_now(bad, n, VGIC_VMSTATE_VERSION, false));
    /* Without a declared link no HW state loads at all. */
    G.hw_vintid = 0;
    assert_false(load_now(good, n, VGIC_VMSTATE_VERSION, false));
    G.hw_vintid = 27;

    assert_memory_equal(&G, &before, sizeof(G));
    assert_true(load_now(good, n, VGIC_VMSTATE_VERSION, true));
}

/* The hypervisor never lends an interrupt it did not link: dropped and deactivated. */
static void test_inject_hw_only_linked(void **state)
{
    (void)state;
    guest_boot();
    enable_irq(26, 0x20);
    vgic_inject_hw(&G, 26, 26);
    assert_int_equal(G.irq[26].flags & (VGIC_IRQ_HW | VGIC_IRQ_LATCH), 0);
    assert_int_equal(dir_count, 1);
    assert_int_equal(dir_log[0], 26);
    vgic_inject_hw(&G, 27, 26);
    assert_int_equal(G.irq[27].flags & VGIC_IRQ_HW, 0);
    assert_int_equal(dir_count, 2);
    vgic_inject_hw(&G, 27, 27);
    assert_true(G.irq[27].flags & VGIC_IRQ_HW);
    assert_int_equal(dir_count, 2);
}

static void test_vmstate_ops(void **state)
{
    (void)state;
    struct vmstate_ops ops;
    vgic_vmstate_ops(&G, &ops);
    assert_int_equal(ops.tag, VS_TAG('V', 'G', 'I', 'C'));
    assert_int_equal(ops.version, VGIC_VMSTATE_VERSION);
    assert_ptr_equal(ops.ctx, &G);
    uint8_t buf[4096];
    struct vs_buf w;
    vs_init_writer(&w, buf, sizeof(buf));
    ops.save(ops.ctx, &w);
    struct vs_buf r;
    vs_init_reader(&r, buf, w.len);
    assert_true(ops.load(ops.ctx, &r, ops.version, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_id_registers, setup),
        cmocka_unit_test_setup(test_gicd_ctlr, setup),
        cmocka_unit_test_setup(test_waker_handshake, setup),
        cmocka_unit_test_setup(test_enable_roundtrip, setup),
        cmocka_unit_test_setup(test_priority_byte_word, setup),
        cmocka_unit_test_setup(test_config, setup),
        cmocka_unit_test_setup(test_bad_sizes, setup),
        cmocka_unit_test_setup(test_irouter, setup),
        cmocka_unit_test_setup(test_pending_active_regs, setup),
        cmocka_unit_test_setup(test_mmio_bus, setup),
        cmocka_unit_test_setup(test_init_clears_hw, setup),
        cmocka_unit_test_setup(test_edge_flow, setup),
        cmocka_unit_test_setup(test_level_repend, setup),
        cmocka_unit_test_setup(test_hw_timer, setup),
        cmocka_unit_test_setup(test_priority_overflow, setup),
        cmocka_unit_test_setup(test_active_overflow_eoicount, setup),
        cmocka_unit_test_setup(test_not_delivered, setup),
        cmocka_unit_test_setup(test_has_pending_pmr, setup),
        cmocka_unit_test_setup(test_sgi, setup),
        cmocka_unit_test_setup(test_save_after_running_loads, setup),
        cmocka_unit_test_setup(test_save_load_roundtrip, setup),
        cmocka_unit_test_setup(test_save_overflow, setup),
        cmocka_unit_test_setup(test_load_rejects_corrupt, setup),
        cmocka_unit_test_setup(test_load_rejects_forged_hw_link, setup),
        cmocka_unit_test_setup(test_inject_hw_only_linked, setup),
        cmocka_unit_test_setup(test_vmstate_ops, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
