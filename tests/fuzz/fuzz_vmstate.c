// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the VM-state section loaders that will read bytes from the replication
// link: the vGIC's (vgic_load, kernel/arch/arm64/vgicv3.c) and the vPL011's (its vmstate_ops,
// kernel/dev/vpl011.c). Input: byte 0 picks the section (bit 0: 0 vGIC, 1 UART) and, for the
// vGIC, the CPU interface (bits 1-4: list registers - 1, bits 5-6: preemption bits - 5); byte 1
// is the section version (0 means the current one); the rest is the section body.
//
// Like vm_state_load() (kernel/core/vm.c), a body counts as accepted when load() returns true
// with no read overrun and every byte consumed. Checked:
//   - load(apply=false) changes nothing (model and CPU-interface registers), accepted or not;
//   - an accepted body is accepted again with apply=true and consumes the same bytes;
//   - round trip: saving right after the apply writes back the body byte for byte. One field
//     is derived by design and is not round-tripped: the vPL011's RIS.TXRIS (bit 5) is recomputed
//     on load from CR (set exactly when UARTEN and TXE are), because the transmit FIFO is always
//     empty in this model. For it the check is that the saved bit equals UARTEN && TXE and
//     everything else equals the input;
//   - the loaded state is one the model can run from: the vGIC flushes well-formed list registers
//     and syncs; the UART's FIFO drains in order; and what they then save is accepted again.
#include <string.h>

#include <arch/gicv3.h>
#include <arch/vgic.h>
#include <cv/bus.h>
#include <cv/vmstate.h>
#include <cv/vpl011.h>

#include "fake_ich.h"
#include "fake_vm.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UART_INTID 33u
#define UART_VERSION 1u
#define UART_RIS_OFF 32u /* byte offset of RIS in the UART body: 9th u32 */
#define UART_CR_OFF 20u
#define INT_TX 0x20u

static struct vgic G;
static struct vpl011 U;
static struct bus bus;
static uint8_t out[8192], out2[8192];

static bool accepted(bool ok, const struct vs_buf *r)
{
    return ok && !r->err && r->pos == r->len;
}

/* ---- vGIC ---- */

static struct fake_ich ich_before;

static void vgic_setup(uint8_t cfg)
{
    fake_ich_reset(1u + ((cfg >> 1) & 15u), 5u + ((cfg >> 5) & 3u) % 3u, false);
    vgic_init(&G, gpa(0x08000000), gpa(0x080a0000), 25);
    vgic_link_hw(&G, 27, 27);
}

static size_t vgic_save_now(uint8_t *buf, size_t cap)
{
    struct vs_buf w;
    vs_init_writer(&w, buf, cap);
    vgic_save(&G, &w);
    FZ_CHECK(!w.err, "vgic_save overflowed %zu bytes", cap);
    return w.len;
}

static void vgic_check_lrs(void)
{
    uint32_t seen[VGIC_NR_IRQS / 32] = {0};
    for (unsigned l = 0; l < fake_ich.nr_lrs; l++) {
        uint64_t lr = fake_ich.lr[l];
        if (l >= G.lr_used) {
            FZ_CHECK(lr == 0, "unused LR%u not empty", l);
            continue;
        }
        uint32_t v = (uint32_t)(lr & ICH_LR_VINTID_MASK);
        FZ_CHECK(v < VGIC_NR_IRQS && v == G.lr_intid[l], "LR%u vINTID %u", l, v);
        FZ_CHECK(!((seen[v / 32] >> (v % 32)) & 1), "vINTID %u in two LRs", v);
        seen[v / 32] |= 1u << (v % 32);
        FZ_CHECK((lr & 0x0f00e00000000000ull) == 0, "LR%u RES0", l);
        if (lr & ICH_LR_HW) {
            uint32_t p = (uint32_t)((lr >> 32) & 0x1fff);
            FZ_CHECK(v == 27 && p == 27, "LR%u HW link %u->%u is not the declared one", l, p, v);
            FZ_CHECK((lr >> 62) != 3, "LR%u HW pending+active", l);
        }
    }
}

static void vgic_one(const uint8_t *body, size_t n, uint32_t version)
{
    static struct vgic before;
    before = G;
    ich_before = fake_ich;
    struct vs_buf r;
    vs_init_reader(&r, body, n);
    bool ok = accepted(vgic_load(&G, &r, version, false), &r);
    size_t used = r.pos;
    FZ_CHECK(memcmp(&before, &G, sizeof(G)) == 0, "vgic_load(apply=false) changed the model");
    FZ_CHECK(memcmp(&ich_before, &fake_ich, sizeof(fake_ich)) == 0,
             "vgic_load(apply=false) wrote CPU-interface registers");
    if (!ok) {
        return;
    }
    vs_init_reader(&r, body, n);
    FZ_CHECK(accepted(vgic_load(&G, &r, version, true), &r) && r.pos == used,
             "vgic_load(apply=true) disagrees with the check");
    size_t m = vgic_save_now(out, sizeof(out));
    FZ_CHECK(m == n && memcmp(out, body, n) == 0, "round trip: saved %zu bytes, loaded %zu%s", m, n,
             m == n ? " (contents differ)" : "");

    /* Run from it: exit (sync), entry (flush), exit; then it must still save and load. */
    (void)vgic_has_pending(&G);
    vgic_sync(&G);
    vgic_flush(&G);
    vgic_check_lrs();
    vgic_sync(&G);
    for (unsigned l = 0; l < fake_ich.nr_lrs; l++) {
        FZ_CHECK(fake_ich.lr[l] == 0, "LR%u not empty after sync", l);
    }
    m = vgic_save_now(out2, sizeof(out2));
    vs_init_reader(&r, out2, m);
    FZ_CHECK(accepted(vgic_load(&G, &r, VGIC_VMSTATE_VERSION, false), &r),
             "state reached from a loaded state is rejected");
}

/* ---- vPL011 ---- */

static void uart_setup(void)
{
    fake_vm_reset(UART_INTID);
    memset(&bus, 0, sizeof(bus));
    vpl011_init(&U, &fake_vm.vm, gpa(0x09000000), UART_INTID);
    FZ_CHECK(vpl011_register(&U, &bus) && fake_vm.registered == 1, "vpl011_register");
}

static size_t uart_save_now(uint8_t *buf, size_t cap)
{
    struct vs_buf w;
    vs_init_writer(&w, buf, cap);
    fake_vm.ops.save(fake_vm.ops.ctx, &w);
    FZ_CHECK(!w.err, "UART save overflowed");
    return w.len;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void uart_one(const uint8_t *body, size_t n, uint32_t version)
{
    static struct vpl011 before;
    before = U;
    struct fake_vm vm_before = fake_vm;
    struct vs_buf r;
    vs_init_reader(&r, body, n);
    bool ok = accepted(fake_vm.ops.load(fake_vm.ops.ctx, &r, version, false), &r);
    size_t used = r.pos;
    FZ_CHECK(memcmp(&before, &U, sizeof(U)) == 0, "UART load(apply=false) changed the state");
    FZ_CHECK(memcmp(&vm_before, &fake_vm, sizeof(fake_vm)) == 0,
             "UART load(apply=false) drove the line");
    if (!ok) {
        return;
    }
    vs_init_reader(&r, body, n);
    FZ_CHECK(accepted(fake_vm.ops.load(fake_vm.ops.ctx, &r, version, true), &r) && r.pos == used,
             "UART load(apply=true) disagrees with the check");
    FZ_CHECK(fake_vm.level == U.line && U.line == ((U.ris & U.imsc) != 0),
             "line not driven after load");
    size_t m = uart_save_now(out, sizeof(out));
    FZ_CHECK(m == n, "round trip: saved %zu bytes, loaded %zu", m, n);
    /* RIS.TXRIS is derived from CR (see the top of this file); the rest must match. */
    uint32_t cr = le32(body + UART_CR_OFF);
    bool tx = (cr & 1u) && (cr & 0x100u);
    uint32_t ris_in = le32(body + UART_RIS_OFF), ris_out = le32(out + UART_RIS_OFF);
    FZ_CHECK(ris_out == ((ris_in & ~INT_TX) | (tx ? INT_TX : 0)), "RIS 0x%x saved as 0x%x", ris_in,
             ris_out);
    FZ_CHECK(memcmp(out, body, UART_RIS_OFF) == 0 &&
                 memcmp(out + UART_RIS_OFF + 4, body + UART_RIS_OFF + 4, n - UART_RIS_OFF - 4) == 0,
             "round trip differs outside RIS");

    /* Run from it: drain the FIFO in order through DR, then it must still save and load. */
    uint32_t count = le32(body + 40);
    for (uint32_t i = 0; i < count + 1; i++) {
        struct bus_access a = {.addr = 0x09000000, .offset = 0, .size = 4};
        FZ_CHECK(vpl011_mmio_read(&U, &a) == BUS_OK, "DR read rejected");
        FZ_CHECK(a.value == (i < count ? body[44 + i] : 0u), "byte %u of the FIFO", i);
    }
    vpl011_rx_push(&U, 'z');
    m = uart_save_now(out2, sizeof(out2));
    vs_init_reader(&r, out2, m);
    FZ_CHECK(accepted(fake_vm.ops.load(fake_vm.ops.ctx, &r, UART_VERSION, false), &r),
             "UART state reached from a loaded state is rejected");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    uint8_t sel = data[0];
    if (sel & 1) {
        uart_setup();
        uart_one(data + 2, size - 2, data[1] ? data[1] : UART_VERSION);
    } else {
        vgic_setup(sel);
        vgic_one(data + 2, size - 2, data[1] ? data[1] : VGIC_VMSTATE_VERSION);
    }
    return 0;
}

/* ---- seeds: sections saved from states a guest drives the models into ---- */

static void seed(const char *name, uint8_t sel, const uint8_t *body, size_t n)
{
    static uint8_t buf[sizeof(out) + 2];
    buf[0] = sel;
    buf[1] = 0;
    memcpy(buf + 2, body, n);
    fuzz_write_seed(name, buf, n + 2);
}

static void gw(bool redist, uint64_t off, unsigned size, uint64_t v)
{
    struct bus_access a = {.offset = off, .size = size, .write = true, .value = v};
    enum bus_result r = redist ? vgic_gicr_write(&G, &a) : vgic_gicd_write(&G, &a);
    FZ_CHECK(r == BUS_OK, "seed write");
}

static void uw(uint64_t off, uint32_t v)
{
    struct bus_access a = {.offset = off, .size = 4, .write = true, .value = v};
    FZ_CHECK(vpl011_mmio_write(&U, &a) == BUS_OK, "seed write");
}

void fuzz_make_seeds(void)
{
    char name[32];
    static const uint8_t cfgs[] = {3u << 1, 0, 15u << 1, (3u << 1) | (1u << 5)};
    for (unsigned c = 0; c < sizeof(cfgs); c++) {
        vgic_setup(cfgs[c]);
        snprintf(name, sizeof(name), "vgic-reset-%u", c);
        seed(name, cfgs[c], out, vgic_save_now(out, sizeof(out)));

        /* What test_vgic's make_rich_state does: boot, enables, lines, HW timer, LRs loaded. */
        gw(true, 0x14, 4, 0);
        gw(false, 0x0, 4, 0x13);
        for (unsigned n = 1; n < 4; n++) {
            gw(false, 0x80 + 4 * n, 4, 0xffffffff);
        }
        gw(true, 0x10080, 4, 0xffffffff);
        gw(true, 0x1041b, 1, 0x20);
        gw(true, 0x10100, 4, 1u << 27);
        gw(false, 0x421, 1, 0x40);
        gw(false, 0x428, 1, 0x80);
        gw(false, 0x104, 4, (1u << 1) | (1u << 8));
        gw(false, 0x6000 + 8 * 100, 8, 0x020100);
        gw(false, 0xc08, 4, 0x8);
        vgic_set_level(&G, 33, true);
        vgic_inject_edge(&G, 40);
        vgic_inject_hw(&G, 27, 27);
        fake_ich.vmcr = ICH_VMCR_ENG1 | (0xf0ull << ICH_VMCR_PMR_SHIFT) | (2ull << 18);
        fake_ich.ap1r[0] = 0x4;
        vgic_flush(&G);
        fake_ich.lr[0] = (fake_ich.lr[0] & ~ICH_LR_PENDING) | ICH_LR_ACTIVE; /* guest acks */
        snprintf(name, sizeof(name), "vgic-loaded-%u", c);
        seed(name, cfgs[c], out, vgic_save_now(out, sizeof(out)));
        vgic_sync(&G);
        snprintf(name, sizeof(name), "vgic-synced-%u", c);
        seed(name, cfgs[c], out, vgic_save_now(out, sizeof(out)));
    }

    uart_setup();
    seed("uart-reset", 1, out, uart_save_now(out, sizeof(out)));
    uw(0x02c, 0x70); /* FIFO on */
    uw(0x030, 0x301);
    uw(0x038, 0x50);
    for (const char *s = "hello, world"; *s; s++) {
        vpl011_rx_push(&U, *s);
    }
    struct bus_access a = {.offset = 0, .size = 4};
    vpl011_mmio_read(&U, &a); /* FIFO head no longer at 0 */
    seed("uart-rx", 1, out, uart_save_now(out, sizeof(out)));
    for (unsigned i = 0; i < 40; i++) {
        vpl011_rx_push(&U, (char)i);
    }
    seed("uart-full", 1, out, uart_save_now(out, sizeof(out)));
}
