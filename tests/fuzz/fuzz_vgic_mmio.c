// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the emulated GICv3 (kernel/arch/arm64/vgicv3.c) as a guest and the
// hypervisor drive it. The input is a program: its first byte picks the CPU interface (number of
// list registers, preemption bits), then each op is an MMIO access to GICD or GICR, a line level
// change, an edge or HW injection, an SGI register write, a flush (guest entry) or sync (exit),
// something the guest's virtual CPU interface does to the list registers (acknowledge,
// deactivate, EOI of an interrupt not in an LR, a VMCR write), or a checkpoint (save, check,
// load, save again). The calling protocol of arch/vgic.h is kept: host-side ops first sync the
// list registers if the guest "ran", guest-side ops first flush them.
//
// Checked: MMIO answers BUS_OK or BUS_BAD_ACCESS; a rejected access or any read changes
// nothing; a read value fits the access size; the LRs a flush writes are well-formed (state set,
// vINTID < 128 and unique and as recorded, RES0 clear, priority within the implemented bits, HW
// with a lent pINTID in 16..1019 and never pending+active, EOI only without HW, group as
// configured), unused LRs are empty, and nothing deliverable is left out while an LR is free; a
// sync empties the LRs; physical interrupts lent to the guest are deactivated exactly once (the
// set of HW-linked INTIDs equals the set of lent physical INTIDs); the state saved at any point
// is accepted by vgic_load and survives load + save unchanged.
#include <string.h>

#include <arch/gicv3.h>
#include <arch/vgic.h>
#include <cv/bus.h>
#include <cv/vmstate.h>

#include "fake_ich.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GICD_BASE 0x08000000ull
#define GICR_BASE 0x080a0000ull
#define MAINT_INTID 25u
#define HW_INTID 27u /* the virtual timer PPI, lent as itself */
#define LR_RES0 0x0f00e00000000000ull
#define LR_PINTID(v) ((uint32_t)(((v) >> ICH_LR_PINTID_SHIFT) & 0x1fff))
#define VMCR_VALID 0xfffc021full
#define CTLR_ARE_DS 0x50u

enum op {
    OP_MMIO_LAST = 4, /* 0..4: MMIO access */
    OP_SET_LEVEL,
    OP_EDGE,
    OP_HW,
    OP_FLUSH,
    OP_SYNC,
    OP_GUEST_ACK,
    OP_GUEST_DEACT,
    OP_GUEST_EOI_NOLR,
    OP_GUEST_VMCR,
    OP_SGI,
    OP_MISC,
};

enum misc { MISC_HAS_PENDING, MISC_MAINT, MISC_RESET, MISC_CHECKPOINT };

/* MMIO flags byte */
#define MF_REDIST 0x01u
#define MF_SIZE_SHIFT 1
#define MF_WRITE 0x08u
#define MF_WILD 0x10u
#define MF_FRAME1 0x20u

static struct vgic G;

/* ---- reference predicates, from the documented model (arch/vgic.h, docs/vgic.md) ---- */

static bool model_pending(const struct vgic_irq *i)
{
    return (i->flags & VGIC_IRQ_LATCH) ||
           (!(i->flags & VGIC_IRQ_EDGE) && (i->flags & VGIC_IRQ_LINE));
}

static bool model_forwarded(uint32_t n)
{
    const struct vgic_irq *i = &G.irq[n];
    uint32_t grp = (i->flags & VGIC_IRQ_GROUP1) ? 2u : 1u;
    if (!(i->flags & VGIC_IRQ_ENABLED) || !(G.gicd_ctlr & grp) || (G.gicr_waker & 2u)) {
        return false;
    }
    return n < VGIC_NR_PRIVATE || G.irouter[n - VGIC_NR_PRIVATE] == 0;
}

/* ---- invariants ---- */

static void check_phys(void)
{
    /* Outside a guest run every lent physical INTID belongs to exactly one HW-linked vINTID:
     * each HW link names an active INTID, no two name the same, and the counts agree. */
    uint32_t linked[1024 / 32] = {0};
    unsigned links = 0;
    for (uint32_t n = 0; n < VGIC_NR_IRQS; n++) {
        const struct vgic_irq *i = &G.irq[n];
        FZ_CHECK((i->flags & ~VGIC_IRQ_ALL_FLAGS) == 0, "INTID %u flags 0x%x", n, i->flags);
        FZ_CHECK((i->prio & ~VGIC_PRIO_MASK) == 0, "INTID %u priority 0x%x", n, i->prio);
        if (n < 16) {
            FZ_CHECK((i->flags & VGIC_IRQ_EDGE) && !(i->flags & VGIC_IRQ_HW), "SGI %u flags 0x%x",
                     n, i->flags);
        }
        if (i->flags & VGIC_IRQ_HW) {
            uint32_t p = i->pintid;
            FZ_CHECK(p >= 16 && p < 1020, "INTID %u HW pINTID %u", n, p);
            FZ_CHECK(fake_ich.phys_active[p],
                     "INTID %u HW-linked to pINTID %u, which is no longer active", n, p);
            FZ_CHECK(!((linked[p / 32] >> (p % 32)) & 1), "pINTID %u linked twice", p);
            linked[p / 32] |= 1u << (p % 32);
            links++;
        }
    }
    FZ_CHECK(links == fake_ich.nr_active, "%u physical INTIDs lent, %u HW links (leaked)",
             fake_ich.nr_active, links);
    for (uint32_t n = 0; n < VGIC_NR_SPIS; n++) {
        FZ_CHECK((G.irouter[n] & ~0xffffffu) == 0, "IROUTER%u 0x%x", n + 32, G.irouter[n]);
    }
    FZ_CHECK((G.gicd_ctlr & ~3u) == 0, "GICD_CTLR 0x%x", G.gicd_ctlr);
    FZ_CHECK(G.gicr_waker == 0 || G.gicr_waker == 6, "GICR_WAKER 0x%x", G.gicr_waker);
}

static void check_after_flush(void)
{
    FZ_CHECK(G.lrs_loaded, "flush did not load the LRs");
    FZ_CHECK(G.lr_used <= fake_ich.nr_lrs, "lr_used %u of %u", G.lr_used, fake_ich.nr_lrs);
    FZ_CHECK((G.lr_took_latch >> G.lr_used) == 0, "lr_took_latch 0x%x, %u used", G.lr_took_latch,
             G.lr_used);
    uint32_t in_lr[VGIC_NR_IRQS / 32] = {0};
    for (unsigned l = 0; l < fake_ich.nr_lrs; l++) {
        uint64_t lr = fake_ich.lr[l];
        if (l >= G.lr_used) {
            FZ_CHECK(lr == 0, "unused LR%u = 0x%016llx", l, (unsigned long long)lr);
            continue;
        }
        uint32_t v = (uint32_t)(lr & ICH_LR_VINTID_MASK);
        FZ_CHECK(lr & (ICH_LR_PENDING | ICH_LR_ACTIVE), "LR%u written invalid", l);
        FZ_CHECK(v < VGIC_NR_IRQS, "LR%u vINTID %u", l, v);
        FZ_CHECK(v == G.lr_intid[l], "LR%u vINTID %u, recorded %u", l, v, G.lr_intid[l]);
        FZ_CHECK(!((in_lr[v / 32] >> (v % 32)) & 1), "vINTID %u in two LRs", v);
        in_lr[v / 32] |= 1u << (v % 32);
        FZ_CHECK((lr & LR_RES0) == 0, "LR%u RES0 bits: 0x%016llx", l, (unsigned long long)lr);
        uint32_t prio = (uint32_t)((lr & ICH_LR_PRIO_MASK) >> ICH_LR_PRIO_SHIFT);
        FZ_CHECK((prio & ~VGIC_PRIO_MASK) == 0, "LR%u priority 0x%x", l, prio);
        FZ_CHECK(prio == G.irq[v].prio, "LR%u priority 0x%x, INTID has 0x%x", l, prio,
                 G.irq[v].prio);
        FZ_CHECK(!(lr & ICH_LR_GROUP) == !(G.irq[v].flags & VGIC_IRQ_GROUP1), "LR%u group", l);
        if (lr & ICH_LR_HW) {
            uint32_t p = LR_PINTID(lr);
            FZ_CHECK(p >= 16 && p < 1020, "LR%u HW pINTID %u", l, p);
            FZ_CHECK(fake_ich.phys_active[p], "LR%u HW pINTID %u not lent to the guest", l, p);
            FZ_CHECK((lr & (ICH_LR_PENDING | ICH_LR_ACTIVE)) != (ICH_LR_PENDING | ICH_LR_ACTIVE),
                     "LR%u HW and pending+active", l);
            FZ_CHECK(G.irq[v].flags & VGIC_IRQ_HW, "LR%u HW for a non-HW INTID %u", l, v);
        } else {
            FZ_CHECK((LR_PINTID(lr) & ~(uint32_t)(ICH_LR_EOI >> 32)) == 0,
                     "LR%u pINTID bits without HW", l);
        }
        if (lr & ICH_LR_PENDING) {
            FZ_CHECK(model_forwarded(v), "LR%u pending but INTID %u is not forwarded", l, v);
        }
    }
    if (G.lr_used < fake_ich.nr_lrs) {
        for (uint32_t n = 0; n < VGIC_NR_IRQS; n++) {
            const struct vgic_irq *i = &G.irq[n];
            if ((in_lr[n / 32] >> (n % 32)) & 1) {
                continue;
            }
            FZ_CHECK(!(i->flags & VGIC_IRQ_ACTIVE), "active INTID %u left out, LRs free", n);
            FZ_CHECK(!(model_pending(i) && model_forwarded(n)),
                     "deliverable INTID %u left out, LRs free", n);
        }
    }
    FZ_CHECK((fake_ich.hcr & ICH_HCR_EN) && (fake_ich.hcr & ~0xfull) == 0, "ICH_HCR 0x%llx",
             (unsigned long long)fake_ich.hcr);
}

/* After a sync (hcr ICH_HCR_EN) or a reset (hcr 0): the LRs are empty and unaccounted for. */
static void check_idle(uint64_t hcr)
{
    FZ_CHECK(!G.lrs_loaded && G.lr_used == 0 && G.lr_took_latch == 0, "LR bookkeeping left");
    for (unsigned l = 0; l < fake_ich.nr_lrs; l++) {
        FZ_CHECK(fake_ich.lr[l] == 0, "LR%u = 0x%016llx", l, (unsigned long long)fake_ich.lr[l]);
    }
    FZ_CHECK(fake_ich.hcr == hcr, "ICH_HCR 0x%llx, expected 0x%llx",
             (unsigned long long)fake_ich.hcr, (unsigned long long)hcr);
    check_phys();
}

static void check_after_sync(void)
{
    check_idle(ICH_HCR_EN);
}

/* ---- protocol ---- */

static void do_flush(void)
{
    vgic_flush(&G);
    check_after_flush();
}

static void do_sync(void)
{
    if (!G.lrs_loaded) {
        /* Nothing loaded: a no-op (ICH_HCR stays 0 after init or reset). */
        uint64_t hcr = fake_ich.hcr;
        vgic_sync(&G);
        check_idle(hcr);
        return;
    }
    vgic_sync(&G);
    check_after_sync();
}

/* Host-side work happens between sync and flush. */
static void host_side(void)
{
    if (G.lrs_loaded) {
        do_sync();
    }
}

/* Guest-side work happens between flush and sync. */
static void guest_side(void)
{
    if (!G.lrs_loaded) {
        do_flush();
    }
}

/* ---- ops ---- */

static void op_mmio(struct fz *f)
{
    host_side();
    uint8_t fl = fz_u8(f);
    bool redist = fl & MF_REDIST;
    unsigned size = 1u << ((fl >> MF_SIZE_SHIFT) & 3);
    bool wr = fl & MF_WRITE;
    uint64_t off;
    if (fl & MF_WILD) {
        off = fz_u64(f);
    } else {
        off = fz_u16(f) | ((redist && (fl & MF_FRAME1)) ? 0x10000ull : 0);
    }
    uint64_t val = wr ? fz_u64(f) : 0;
    struct bus_access a = {.addr = (redist ? GICR_BASE : GICD_BASE) + off,
                           .offset = off,
                           .size = size,
                           .write = wr,
                           .value = wr ? val : 0x5a5a5a5a5a5a5a5aull};
    static struct vgic before;
    before = G;
    enum bus_result r;
    if (redist) {
        r = wr ? vgic_gicr_write(&G, &a) : vgic_gicr_read(&G, &a);
    } else {
        r = wr ? vgic_gicd_write(&G, &a) : vgic_gicd_read(&G, &a);
    }
    FZ_CHECK(r == BUS_OK || r == BUS_BAD_ACCESS, "MMIO result %d", (int)r);
    if (r != BUS_OK || !wr) {
        FZ_CHECK(memcmp(&before, &G, sizeof(G)) == 0,
                 "%s %s at 0x%llx size %u (result %d) changed the state", redist ? "GICR" : "GICD",
                 wr ? "write" : "read", (unsigned long long)off, size, (int)r);
    }
    if (r == BUS_OK && !wr && size < 8) {
        FZ_CHECK((a.value >> (8 * size)) == 0, "%s read at 0x%llx size %u returned 0x%llx",
                 redist ? "GICR" : "GICD", (unsigned long long)off, size,
                 (unsigned long long)a.value);
    }
    if (r == BUS_OK && !redist && off == 0 && !wr) {
        FZ_CHECK((a.value & CTLR_ARE_DS) == CTLR_ARE_DS, "GICD_CTLR ARE/DS not set");
    }
    check_phys();
}

static void op_hw(struct fz *f)
{
    host_side();
    uint32_t v = fz_u8(f);
    uint32_t p = fz_u16(f) % 1040u;
    if (v & 0x80) { /* mostly the one pair the hypervisor links; the rest must be dropped */
        v = p = HW_INTID;
    }
    /* A physical interrupt fires only when it is not active, and the hypervisor links one
     * physical interrupt to a vINTID at a time. */
    if ((p < 1020 && fake_ich.phys_active[p]) ||
        (v < VGIC_NR_IRQS && (G.irq[v].flags & VGIC_IRQ_HW))) {
        return;
    }
    if (p < 1020) {
        fake_ich_activate(p); /* acknowledged and priority-dropped by the caller */
    }
    vgic_inject_hw(&G, v, p);
    check_phys();
}

static void guest_ack(struct fz *f)
{
    guest_side();
    unsigned l = fz_u8(f) % fake_ich.nr_lrs;
    uint64_t *lr = &fake_ich.lr[l];
    if ((*lr & (ICH_LR_PENDING | ICH_LR_ACTIVE)) == ICH_LR_PENDING) {
        *lr = (*lr & ~ICH_LR_PENDING) | ICH_LR_ACTIVE;
    }
}

static void guest_deactivate(struct fz *f)
{
    guest_side();
    unsigned l = fz_u8(f) % fake_ich.nr_lrs;
    uint64_t *lr = &fake_ich.lr[l];
    if (!(*lr & ICH_LR_ACTIVE)) {
        return;
    }
    *lr &= ~ICH_LR_ACTIVE;
    if (*lr & ICH_LR_HW) {
        /* The hardware deactivates the physical interrupt with the virtual one. */
        uint32_t p = LR_PINTID(*lr);
        FZ_CHECK(p < 1020 && fake_ich.phys_active[p],
                 "guest deactivated HW LR%u: pINTID %u not active", l, p);
        fake_ich_deactivate(p);
    }
}

static void guest_eoi_not_in_lr(void)
{
    guest_side();
    uint64_t cnt = (fake_ich.hcr & ICH_HCR_EOICOUNT_MASK) >> ICH_HCR_EOICOUNT_SHIFT;
    if (cnt < 31) {
        fake_ich.hcr += 1ull << ICH_HCR_EOICOUNT_SHIFT;
    }
}

static void checkpoint(void)
{
    static uint8_t a[8192], b[8192];
    static struct vgic before;
    struct vs_buf w;
    vs_init_writer(&w, a, sizeof(a));
    vgic_save(&G, &w);
    FZ_CHECK(!w.err, "vgic_save overflowed %zu bytes", sizeof(a));
    size_t n = w.len;
    before = G;
    struct vs_buf r;
    vs_init_reader(&r, a, n);
    bool ok = vgic_load(&G, &r, VGIC_VMSTATE_VERSION, false);
    FZ_CHECK(ok && !r.err && r.pos == r.len, "vgic_load rejects the state vgic_save wrote");
    FZ_CHECK(memcmp(&before, &G, sizeof(G)) == 0, "vgic_load(apply=false) changed the state");
    vs_init_reader(&r, a, n);
    ok = vgic_load(&G, &r, VGIC_VMSTATE_VERSION, true);
    FZ_CHECK(ok && !r.err && r.pos == r.len, "vgic_load(apply=true) failed after the check");
    vs_init_writer(&w, b, sizeof(b));
    vgic_save(&G, &w);
    FZ_CHECK(w.len == n && memcmp(a, b, n) == 0, "save -> load -> save differs");
}

static void op_misc(struct fz *f)
{
    switch (fz_u8(f) % 4) {
    case MISC_HAS_PENDING:
        (void)vgic_has_pending(&G); /* allowed with the LRs loaded too */
        break;
    case MISC_MAINT:
        if (G.lrs_loaded) {
            vgic_handle_maintenance(&G);
            check_after_sync();
        }
        break;
    case MISC_RESET:
        host_side();
        vgic_reset(&G);
        check_idle(0);
        break;
    default:
        checkpoint();
        break;
    }
}

static void setup(uint8_t cfg)
{
    unsigned list_regs = (cfg & 0x80) ? 17u + (cfg & 15u) : 1u + (cfg & 15u);
    unsigned pre_bits = 5u + ((cfg >> 4) & 3u) % 3u;
    fake_ich_reset(list_regs, pre_bits, true);
    vgic_init(&G, gpa(GICD_BASE), gpa(GICR_BASE), MAINT_INTID);
    vgic_link_hw(&G, HW_INTID, HW_INTID);
    check_idle(0);
    FZ_CHECK(G.nr_lrs == fake_ich.nr_lrs && G.nr_aprs == fake_ich.nr_aprs,
             "vgic sees %u LRs / %u APRs, CPU has %u / %u", G.nr_lrs, G.nr_aprs, fake_ich.nr_lrs,
             fake_ich.nr_aprs);
    FZ_CHECK(fake_ich.vmcr == 0 && fake_ich.ap0r[0] == 0 && fake_ich.ap1r[0] == 0,
             "vgic_init left CPU interface state");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    setup(fz_u8(&f));
    for (unsigned steps = 0; f.n && steps < 4096; steps++) {
        uint8_t op = fz_u8(&f) % 16;
        switch (op) {
        case OP_SET_LEVEL: {
            host_side();
            uint32_t intid = fz_u8(&f);
            vgic_set_level(&G, intid, fz_u8(&f) & 1);
            break;
        }
        case OP_EDGE:
            host_side();
            vgic_inject_edge(&G, fz_u8(&f));
            break;
        case OP_HW:
            op_hw(&f);
            break;
        case OP_FLUSH:
            do_flush();
            break;
        case OP_SYNC:
            do_sync();
            break;
        case OP_GUEST_ACK:
            guest_ack(&f);
            break;
        case OP_GUEST_DEACT:
            guest_deactivate(&f);
            break;
        case OP_GUEST_EOI_NOLR:
            guest_eoi_not_in_lr();
            break;
        case OP_GUEST_VMCR:
            guest_side();
            fake_ich.vmcr = fz_u32(&f) & VMCR_VALID;
            break;
        case OP_SGI:
            host_side();
            vgic_sgi_write(&G, fz_u64(&f));
            break;
        case OP_MISC:
            op_misc(&f);
            break;
        default:
            op_mmio(&f);
            break;
        }
    }
    host_side();
    checkpoint();
    return 0;
}

/* ---- seeds: what Linux's GICv3 driver and the timer path do ---- */

struct prog {
    uint8_t b[1024];
    size_t n;
};

static void emit(struct prog *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes && p->n < sizeof(p->b); i++) {
        p->b[p->n++] = (uint8_t)(v >> (8 * i));
    }
}

static void mmio_w(struct prog *p, bool redist, uint32_t off, unsigned size, uint64_t v)
{
    unsigned lg = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    uint8_t fl = (uint8_t)((redist ? MF_REDIST : 0) | (lg << MF_SIZE_SHIFT) | MF_WRITE |
                           ((off & 0x10000) ? MF_FRAME1 : 0));
    emit(p, 0, 1);
    emit(p, fl, 1);
    emit(p, off & 0xffff, 2);
    emit(p, v, 8);
}

static void mmio_r(struct prog *p, bool redist, uint32_t off, unsigned size)
{
    unsigned lg = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    emit(p, 1, 1);
    emit(p, (redist ? MF_REDIST : 0) | (lg << MF_SIZE_SHIFT) | ((off & 0x10000) ? MF_FRAME1 : 0),
         1);
    emit(p, off & 0xffff, 2);
}

static void op2(struct prog *p, unsigned op, uint8_t a)
{
    emit(p, op, 1);
    emit(p, a, 1);
}

static void boot(struct prog *p, uint8_t cfg)
{
    p->n = 0;
    emit(p, cfg, 1);
    mmio_w(p, true, 0x14, 4, 0);    /* GICR_WAKER: wake */
    mmio_r(p, true, 0x14, 4);       /* poll ChildrenAsleep */
    mmio_w(p, false, 0x0, 4, 0x13); /* ARE | EnableGrp1 | EnableGrp0 */
    for (uint32_t n = 1; n < 4; n++) {
        mmio_w(p, false, 0x80 + 4 * n, 4, 0xffffffff); /* IGROUPR */
    }
    mmio_w(p, true, 0x10080, 4, 0xffffffff);   /* IGROUPR0 */
    mmio_w(p, true, 0x1041b, 1, 0xa0);         /* PPI 27 priority */
    mmio_w(p, true, 0x10100, 4, 1u << 27);     /* enable PPI 27 */
    mmio_w(p, false, 0x420, 4, 0x80604020);    /* SPIs 32..35 priorities */
    mmio_w(p, false, 0x104, 4, 0xf);           /* enable SPIs 32..35 */
    mmio_w(p, false, 0xc08, 4, 0x8);           /* SPI 33 edge */
    mmio_w(p, false, 0x6000 + 8 * 34, 8, 0x0); /* IROUTER34 */
    emit(p, OP_GUEST_VMCR, 1);
    emit(p, ICH_VMCR_ENG1 | ICH_VMCR_ENG0 | (0xf0ull << ICH_VMCR_PMR_SHIFT), 4);
}

void fuzz_make_seeds(void)
{
    struct prog p;
    static const uint8_t cfgs[] = {0x03, 0x00, 0x0f, 0x21};
    for (unsigned c = 0; c < sizeof(cfgs); c++) {
        char name[32];
        /* Timer: HW injection, the guest acknowledges and deactivates. */
        boot(&p, cfgs[c]);
        emit(&p, OP_HW, 1);
        emit(&p, 27, 1);
        emit(&p, 27, 2);
        emit(&p, OP_FLUSH, 1);
        op2(&p, OP_GUEST_ACK, 0);
        op2(&p, OP_GUEST_DEACT, 0);
        emit(&p, OP_SYNC, 1);
        snprintf(name, sizeof(name), "timer-%u", c);
        fuzz_write_seed(name, p.b, p.n);

        /* Level and edge SPIs, SGIs, overflow, EOIcount, checkpoints. */
        boot(&p, cfgs[c]);
        emit(&p, OP_SET_LEVEL, 1);
        emit(&p, 32, 1);
        emit(&p, 1, 1);
        op2(&p, OP_EDGE, 33);
        op2(&p, OP_EDGE, 34);
        op2(&p, OP_EDGE, 35);
        emit(&p, OP_SGI, 1);
        emit(&p, (3ull << 24) | 1, 8);
        mmio_w(&p, true, 0x10100, 4, 1u << 3);
        op2(&p, OP_MISC, MISC_CHECKPOINT);
        emit(&p, OP_FLUSH, 1);
        for (uint8_t l = 0; l < 4; l++) {
            op2(&p, OP_GUEST_ACK, l);
        }
        op2(&p, OP_MISC, MISC_CHECKPOINT);
        op2(&p, OP_GUEST_DEACT, 1);
        emit(&p, OP_GUEST_EOI_NOLR, 1);
        op2(&p, OP_MISC, MISC_MAINT);
        emit(&p, OP_SET_LEVEL, 1);
        emit(&p, 32, 1);
        emit(&p, 0, 1);
        mmio_w(&p, false, 0x284, 4, 0xf); /* ICPENDR1 */
        mmio_w(&p, false, 0x384, 4, 0xf); /* ICACTIVER1 */
        mmio_r(&p, false, 0x204, 4);
        op2(&p, OP_MISC, MISC_HAS_PENDING);
        op2(&p, OP_MISC, MISC_RESET);
        snprintf(name, sizeof(name), "spis-%u", c);
        fuzz_write_seed(name, p.b, p.n);
    }
}
