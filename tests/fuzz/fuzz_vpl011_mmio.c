// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the emulated PL011 (kernel/dev/vpl011.c): guest MMIO accesses (through
// the MMIO bus or straight to the handlers, any offset and size) interleaved with bytes arriving
// from the console (vpl011_rx_push), resets and checkpoints of its vmstate section.
//
// Checked after every op: MMIO answers BUS_OK or BUS_BAD_ACCESS; a rejected access changes
// nothing, nor does a read other than DR's low byte (which pops the FIFO); a read value fits the
// access size; registers hold only their implemented bits; the FIFO holds at most its depth (1
// with FEN clear, 32 with FEN set), in order (DR returns the oldest byte, a pushed byte lands at
// the tail or is dropped with RSR.OE and RIS.OE set); FR reflects the FIFO; RIS.TX follows
// UARTEN && TXE; the interrupt line equals (RIS & IMSC) != 0 and was last driven to that level;
// RX/RT are not raised on an empty FIFO; and the section saved at any point is accepted by the
// loader and survives load + save unchanged.
#include <string.h>

#include <cv/bus.h>
#include <cv/vmstate.h>
#include <cv/vpl011.h>

#include "fake_vm.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE 0x09000000ull
#define INTID 33u

#define DR 0x000
#define RSR 0x004
#define FR 0x018
#define LCR_H 0x02c
#define CR 0x030
#define IMSC 0x038
#define ICR 0x044
#define FR_RXFE 0x10u
#define FR_RXFF 0x40u
#define FR_TXFE 0x80u
#define LCR_H_FEN 0x10u
#define INT_RX 0x10u
#define INT_TX 0x20u
#define INT_RT 0x40u
#define INT_OE 0x400u

enum op { OP_MMIO_LAST = 3, OP_PUSH, OP_BURST, OP_RESET, OP_CHECKPOINT };

/* MMIO flags byte */
#define MF_SIZE_MASK 3u
#define MF_WRITE 0x04u
#define MF_WILD 0x08u
#define MF_BUS 0x10u

static struct vpl011 U;
static struct bus bus;

static uint32_t depth(void)
{
    return (U.lcr_h & LCR_H_FEN) ? VPL011_FIFO : 1u;
}

static void check_state(void)
{
    FZ_CHECK(U.rx_head < VPL011_FIFO && U.rx_count <= depth(), "FIFO head %u count %u depth %u",
             U.rx_head, U.rx_count, depth());
    FZ_CHECK((U.rsr & ~0xfu) == 0 && (U.ilpr & ~0xffu) == 0 && (U.ibrd & ~0xffffu) == 0 &&
                 (U.fbrd & ~0x3fu) == 0 && (U.lcr_h & ~0xffu) == 0 && (U.cr & ~0xff87u) == 0 &&
                 (U.ifls & ~0x3fu) == 0 && (U.imsc & ~0x7ffu) == 0 && (U.ris & ~0x7ffu) == 0 &&
                 (U.dmacr & ~0x7u) == 0,
             "register outside its implemented bits");
    bool tx = (U.cr & 1u) && (U.cr & 0x100u);
    FZ_CHECK(!(U.ris & INT_TX) == !tx, "RIS.TX %d with CR 0x%x", !!(U.ris & INT_TX), U.cr);
    bool level = (U.ris & U.imsc) != 0;
    FZ_CHECK(U.line == level, "line %d, RIS&IMSC 0x%x", U.line, U.ris & U.imsc);
    FZ_CHECK(fake_vm.level == level && fake_vm.level_calls > 0, "line driven to %d, should be %d",
             fake_vm.level, level);
    FZ_CHECK(U.rx_count || !(U.ris & (INT_RX | INT_RT)), "RX/RT raised on an empty FIFO");
}

static void checkpoint(void)
{
    static uint8_t a[256], b[256];
    static struct vpl011 before;
    struct vs_buf w;
    vs_init_writer(&w, a, sizeof(a));
    fake_vm.ops.save(fake_vm.ops.ctx, &w);
    FZ_CHECK(!w.err, "save overflowed");
    size_t n = w.len;
    before = U;
    struct vs_buf r;
    vs_init_reader(&r, a, n);
    bool ok = fake_vm.ops.load(fake_vm.ops.ctx, &r, fake_vm.ops.version, false);
    FZ_CHECK(ok && !r.err && r.pos == r.len, "the loader rejects the state save wrote");
    FZ_CHECK(memcmp(&before, &U, sizeof(U)) == 0, "load(apply=false) changed the state");
    vs_init_reader(&r, a, n);
    ok = fake_vm.ops.load(fake_vm.ops.ctx, &r, fake_vm.ops.version, true);
    FZ_CHECK(ok && !r.err && r.pos == r.len, "load(apply=true) failed after the check");
    vs_init_writer(&w, b, sizeof(b));
    fake_vm.ops.save(fake_vm.ops.ctx, &w);
    FZ_CHECK(w.len == n && memcmp(a, b, n) == 0, "save -> load -> save differs");
}

static void push(uint8_t c)
{
    uint32_t count = U.rx_count;
    uint64_t dropped = U.rx_dropped;
    bool room = count < depth();
    vpl011_rx_push(&U, (char)c);
    if (room) {
        FZ_CHECK(U.rx_count == count + 1 && U.rx[(U.rx_head + count) % VPL011_FIFO] == c &&
                     (U.ris & INT_RX),
                 "pushed byte not at the tail");
    } else {
        FZ_CHECK(U.rx_count == count && U.rx_dropped == dropped + 1 && (U.rsr & 8u) &&
                     (U.ris & INT_OE),
                 "overflow not reported");
    }
}

static void op_mmio(struct fz *f)
{
    uint8_t fl = fz_u8(f);
    unsigned size = 1u << (fl & MF_SIZE_MASK);
    bool wr = fl & MF_WRITE;
    uint64_t off = (fl & MF_WILD) ? fz_u64(f) : (fz_u16(f) & 0xfffu);
    uint64_t val = wr ? ((fl & MF_WILD) ? fz_u64(f) : fz_u32(f)) : 0x5a5a5a5a5a5a5a5aull;
    struct bus_access a = {
        .addr = BASE + off, .offset = off, .size = size, .write = wr, .value = val};
    static struct vpl011 before;
    before = U;
    uint8_t oldest = U.rx[U.rx_head];
    enum bus_result r;
    if ((fl & MF_BUS) && !(fl & MF_WILD)) {
        r = bus_dispatch(&bus, &a);
    } else {
        r = wr ? vpl011_mmio_write(&U, &a) : vpl011_mmio_read(&U, &a);
    }
    FZ_CHECK(r == BUS_OK || r == BUS_BAD_ACCESS, "MMIO result %d", (int)r);
    bool pop = !wr && r == BUS_OK && off == DR;
    if (r != BUS_OK || (!wr && !pop)) {
        FZ_CHECK(memcmp(&before, &U, sizeof(U)) == 0,
                 "%s at 0x%llx size %u (result %d) changed "
                 "the state",
                 wr ? "write" : "read", (unsigned long long)off, size, (int)r);
    }
    if (r == BUS_OK && !wr) {
        FZ_CHECK(size == 8 || (a.value >> (8 * size)) == 0, "read at 0x%llx size %u: 0x%llx",
                 (unsigned long long)off, size, (unsigned long long)a.value);
    }
    if (pop) {
        if (before.rx_count) {
            FZ_CHECK(a.value == oldest && U.rx_count == before.rx_count - 1,
                     "DR returned 0x%llx, oldest byte 0x%x", (unsigned long long)a.value, oldest);
        } else {
            FZ_CHECK(a.value == 0 && U.rx_count == 0, "DR read on an empty FIFO");
        }
    }
    if (r == BUS_OK && !wr && off == FR && size == 4) {
        FZ_CHECK((a.value & FR_TXFE) && !(a.value & FR_RXFE) == (U.rx_count != 0) &&
                     !(a.value & FR_RXFF) == (U.rx_count < depth()),
                 "FR 0x%llx, %u bytes in a FIFO of %u", (unsigned long long)a.value, U.rx_count,
                 depth());
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    fake_vm_reset(INTID);
    memset(&bus, 0, sizeof(bus));
    vpl011_init(&U, &fake_vm.vm, gpa(BASE), INTID);
    FZ_CHECK(vpl011_register(&U, &bus), "vpl011_register failed");
    FZ_CHECK(fake_vm.registered == 1 && fake_vm.uart == &U && bus.count == 1, "registration");
    check_state();
    for (unsigned steps = 0; f.n && steps < 4096; steps++) {
        switch (fz_u8(&f) % 8) {
        case OP_PUSH:
            push(fz_u8(&f));
            break;
        case OP_BURST:
            for (unsigned n = fz_u8(&f) % 40; n; n--) {
                push(fz_u8(&f));
                check_state();
            }
            break;
        case OP_RESET: {
            uint64_t dropped = U.rx_dropped;
            vpl011_reset(&U);
            FZ_CHECK(U.rx_count == 0 && U.rx_dropped == dropped, "reset");
            break;
        }
        case OP_CHECKPOINT:
            checkpoint();
            break;
        default:
            op_mmio(&f);
            break;
        }
        check_state();
    }
    checkpoint();
    return 0;
}

/* ---- seeds: what amba-pl011 does at probe, then some traffic ---- */

struct prog {
    uint8_t b[512];
    size_t n;
};

static void emit(struct prog *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes && p->n < sizeof(p->b); i++) {
        p->b[p->n++] = (uint8_t)(v >> (8 * i));
    }
}

static void w32(struct prog *p, uint16_t off, uint32_t v)
{
    emit(p, 0, 1);
    emit(p, MF_WRITE | 2u | MF_BUS, 1);
    emit(p, off, 2);
    emit(p, v, 4);
}

static void r32(struct prog *p, uint16_t off)
{
    emit(p, 1, 1);
    emit(p, 2u | MF_BUS, 1);
    emit(p, off, 2);
}

void fuzz_make_seeds(void)
{
    struct prog p = {.n = 0};
    w32(&p, CR, 0);       /* disable */
    w32(&p, ICR, 0x7ff);  /* clear interrupts */
    w32(&p, 0x024, 1);    /* IBRD */
    w32(&p, 0x028, 0);    /* FBRD */
    w32(&p, LCR_H, 0x70); /* 8N1, FIFO on */
    w32(&p, CR, 0x301);   /* UARTEN | TXE | RXE */
    w32(&p, IMSC, 0x50);  /* RX | RT */
    emit(&p, OP_BURST, 1);
    emit(&p, 5, 1);
    emit(&p, 0x68656c6c6full, 5); /* "hello" */
    r32(&p, FR);
    r32(&p, DR);
    r32(&p, DR);
    emit(&p, OP_CHECKPOINT, 1);
    w32(&p, DR, 'x');
    w32(&p, CR, 0x381); /* loopback */
    w32(&p, DR, 'y');
    r32(&p, 0x03c);       /* RIS */
    r32(&p, 0x040);       /* MIS */
    r32(&p, 0xfe0);       /* PeriphID0 */
    w32(&p, LCR_H, 0x60); /* FIFO off: flushes */
    emit(&p, OP_PUSH, 1);
    emit(&p, 'a', 1);
    emit(&p, OP_PUSH, 1);
    emit(&p, 'b', 1); /* overrun */
    r32(&p, RSR);
    w32(&p, RSR, 0);
    emit(&p, OP_CHECKPOINT, 1);
    emit(&p, OP_RESET, 1);
    fuzz_write_seed("probe", p.b, p.n);

    p.n = 0;
    w32(&p, LCR_H, 0x10);
    emit(&p, OP_BURST, 1);
    emit(&p, 39, 1);
    for (unsigned i = 0; i < 39; i++) {
        emit(&p, 'A' + i % 26, 1);
    }
    emit(&p, OP_CHECKPOINT, 1);
    fuzz_write_seed("fill", p.b, p.n);
}
