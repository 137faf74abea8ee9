// SPDX-License-Identifier: Apache-2.0
// Emulated PL011 (PrimeCell UART, ARM DDI 0183). Transmission is instantaneous, so the transmit
// FIFO is always empty: FR says TXFE, never TXFF or BUSY, and TXRIS is set whenever the
// transmitter is enabled (Linux enables TXIM only when it has more to send and expects the
// interrupt to follow). Receive raises RXRIS and RTRIS as soon as the FIFO holds data, the way
// QEMU's model does: Linux drains the whole FIFO on either, and there is no timer to time out.
#include <cv/console.h>
#include <cv/log.h>
#include <cv/vm.h>
#include <cv/vpl011.h>

#define UART_DR 0x000
#define UART_RSR 0x004 /* read: RSR, write: ECR */
#define UART_FR 0x018
#define UART_ILPR 0x020
#define UART_IBRD 0x024
#define UART_FBRD 0x028
#define UART_LCR_H 0x02c
#define UART_CR 0x030
#define UART_IFLS 0x034
#define UART_IMSC 0x038
#define UART_RIS 0x03c
#define UART_MIS 0x040
#define UART_ICR 0x044
#define UART_DMACR 0x048
#define UART_ID0 0xfe0

#define FR_RXFE BIT(4)
#define FR_TXFF BIT(5)
#define FR_RXFF BIT(6)
#define FR_TXFE BIT(7)

#define RSR_OE BIT(3)
#define LCR_H_FEN BIT(4)
#define CR_UARTEN BIT(0)
#define CR_LBE BIT(7)
#define CR_TXE BIT(8)

#define INT_RX BIT(4)
#define INT_TX BIT(5)
#define INT_RT BIT(6)
#define INT_OE BIT(10)

/* Writable bits of each register; also what a loaded state must respect. */
#define MASK_RSR 0xfu
#define MASK_ILPR 0xffu
#define MASK_IBRD 0xffffu
#define MASK_FBRD 0x3fu
#define MASK_LCR_H 0xffu
#define MASK_CR 0xff87u
#define MASK_IFLS 0x3fu
#define MASK_INT 0x7ffu
#define MASK_DMACR 0x7u

#define RESET_CR 0x300u  /* TXE | RXE, UART disabled */
#define RESET_IFLS 0x12u /* 1/2 both ways */

#define VPL011_VS_VERSION 1

/* PeriphID0-3 then PCellID0-3: PL011 r1p5 (designer ARM), PrimeCell. */
static const uint8_t id_regs[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

static uint32_t fifo_depth(const struct vpl011 *u)
{
    return (u->lcr_h & LCR_H_FEN) ? VPL011_FIFO : 1;
}

static bool tx_enabled(const struct vpl011 *u)
{
    return (u->cr & CR_UARTEN) && (u->cr & CR_TXE);
}

/* Recomputes the derived TX bit and drives the line when its level changed (or force). */
static void update_irq(struct vpl011 *u, bool force)
{
    if (tx_enabled(u)) {
        u->ris |= INT_TX;
    } else {
        u->ris &= ~(uint32_t)INT_TX;
    }
    bool level = (u->ris & u->imsc) != 0;
    if (level != u->line || force) {
        u->line = level;
        if (u->vm) {
            vm_arch_irq_set_level(u->vm, u->intid, level);
        }
    }
}

static void flush_rx(struct vpl011 *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
    u->ris &= ~(uint32_t)(INT_RX | INT_RT);
}

static void reset_regs(struct vpl011 *u)
{
    flush_rx(u);
    u->rsr = 0;
    u->ilpr = 0;
    u->ibrd = 0;
    u->fbrd = 0;
    u->lcr_h = 0;
    u->cr = RESET_CR;
    u->ifls = RESET_IFLS;
    u->imsc = 0;
    u->ris = 0;
    u->dmacr = 0;
}

void vpl011_init(struct vpl011 *u, struct vm *vm, gpa_t base, uint32_t intid)
{
    *u = (struct vpl011){.vm = vm, .base = base, .intid = intid};
    reset_regs(u);
    update_irq(u, true);
}

void vpl011_reset(struct vpl011 *u)
{
    reset_regs(u);
    update_irq(u, true);
}

static void rx_put(struct vpl011 *u, uint8_t c)
{
    if (u->rx_count >= fifo_depth(u)) {
        u->rx_dropped++;
        u->rsr |= RSR_OE;
        u->ris |= INT_OE;
    } else {
        u->rx[(u->rx_head + u->rx_count) % VPL011_FIFO] = c;
        u->rx_count++;
        u->rx_bytes++;
        u->ris |= INT_RX | INT_RT;
    }
    update_irq(u, false);
}

void vpl011_rx_push(struct vpl011 *u, char c)
{
    rx_put(u, (uint8_t)c);
}

static uint32_t rx_pop(struct vpl011 *u)
{
    if (!u->rx_count) {
        return 0;
    }
    uint8_t c = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % VPL011_FIFO;
    u->rx_count--;
    if (!u->rx_count) {
        u->ris &= ~(uint32_t)(INT_RX | INT_RT);
        update_irq(u, false);
    }
    return c;
}

static uint32_t reg_read(struct vpl011 *u, uint64_t reg, bool pop)
{
    switch (reg) {
    case UART_DR:
        return pop ? rx_pop(u) : 0;
    case UART_RSR:
        return u->rsr;
    case UART_FR: {
        uint32_t fr = FR_TXFE;
        if (!u->rx_count) {
            fr |= FR_RXFE;
        }
        if (u->rx_count >= fifo_depth(u)) {
            fr |= FR_RXFF;
        }
        return fr;
    }
    case UART_ILPR:
        return u->ilpr;
    case UART_IBRD:
        return u->ibrd;
    case UART_FBRD:
        return u->fbrd;
    case UART_LCR_H:
        return u->lcr_h;
    case UART_CR:
        return u->cr;
    case UART_IFLS:
        return u->ifls;
    case UART_IMSC:
        return u->imsc;
    case UART_RIS:
        return u->ris;
    case UART_MIS:
        return u->ris & u->imsc;
    case UART_DMACR:
        return u->dmacr;
    default:
        if (reg >= UART_ID0 && reg < VPL011_SIZE) {
            return id_regs[(reg - UART_ID0) / 4];
        }
        return 0; /* reserved: RAZ/WI */
    }
}

static void tx_byte(struct vpl011 *u, uint8_t c)
{
    /* Sent even with the UART disabled: earlycon writes DR without ever setting UARTEN. */
    if (u->cr & CR_LBE) {
        rx_put(u, c);
        return;
    }
    u->tx_bytes++;
    console_guest_output((char)c);
}

/* Read-modify-write registers; the others (DR, ECR, ICR) act on the written bits only. */
static uint32_t *rmw_reg(struct vpl011 *u, uint64_t reg, uint32_t *mask)
{
    switch (reg) {
    case UART_ILPR:
        *mask = MASK_ILPR;
        return &u->ilpr;
    case UART_IBRD:
        *mask = MASK_IBRD;
        return &u->ibrd;
    case UART_FBRD:
        *mask = MASK_FBRD;
        return &u->fbrd;
    case UART_LCR_H:
        *mask = MASK_LCR_H;
        return &u->lcr_h;
    case UART_CR:
        *mask = MASK_CR;
        return &u->cr;
    case UART_IFLS:
        *mask = MASK_IFLS;
        return &u->ifls;
    case UART_IMSC:
        *mask = MASK_INT;
        return &u->imsc;
    case UART_DMACR:
        *mask = MASK_DMACR;
        return &u->dmacr;
    default:
        return NULL;
    }
}

static bool access_ok(const struct bus_access *a)
{
    if (a->size != 1 && a->size != 2 && a->size != 4) {
        return false;
    }
    return a->offset < VPL011_SIZE && a->offset % a->size == 0;
}

static uint32_t size_mask(unsigned size)
{
    return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

enum bus_result vpl011_mmio_read(void *ctx, struct bus_access *a)
{
    struct vpl011 *u = ctx;
    if (!access_ok(a)) {
        return BUS_BAD_ACCESS;
    }
    unsigned shift = (unsigned)(a->offset & 3) * 8;
    uint32_t v = reg_read(u, a->offset & ~3ull, shift == 0);
    a->value = (v >> shift) & size_mask(a->size);
    return BUS_OK;
}

enum bus_result vpl011_mmio_write(void *ctx, const struct bus_access *a)
{
    struct vpl011 *u = ctx;
    if (!access_ok(a)) {
        return BUS_BAD_ACCESS;
    }
    uint64_t reg = a->offset & ~3ull;
    unsigned shift = (unsigned)(a->offset & 3) * 8;
    uint32_t v = ((uint32_t)a->value & size_mask(a->size)) << shift;
    uint32_t mask;
    uint32_t *r = rmw_reg(u, reg, &mask);
    if (r) {
        uint32_t keep = ~(size_mask(a->size) << shift);
        uint32_t old_lcr = u->lcr_h;
        *r = ((*r & keep) | v) & mask;
        if (reg == UART_LCR_H && ((old_lcr ^ u->lcr_h) & LCR_H_FEN)) {
            flush_rx(u); /* as QEMU: switching the FIFOs on or off empties them */
        }
        update_irq(u, false);
        return BUS_OK;
    }
    switch (reg) {
    case UART_DR:
        if (shift == 0) {
            tx_byte(u, (uint8_t)v);
        }
        break;
    case UART_RSR:
        u->rsr = 0;
        u->ris &= ~(uint32_t)INT_OE;
        update_irq(u, false);
        break;
    case UART_ICR:
        u->ris &= ~(v & MASK_INT);
        update_irq(u, false);
        break;
    default:
        break; /* read-only and reserved registers ignore writes */
    }
    return BUS_OK;
}

static const struct bus_ops vpl011_ops = {
    .read = vpl011_mmio_read,
    .write = vpl011_mmio_write,
};

static void vpl011_save(void *ctx, struct vs_buf *w)
{
    const struct vpl011 *u = ctx;
    const uint32_t regs[] = {u->rsr, u->ilpr, u->ibrd, u->fbrd, u->lcr_h,
                             u->cr,  u->ifls, u->imsc, u->ris,  u->dmacr};
    for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
        vs_put_u32(w, regs[i]);
    }
    vs_put_u32(w, u->rx_count);
    for (uint32_t i = 0; i < u->rx_count; i++) {
        vs_put_u8(w, u->rx[(u->rx_head + i) % VPL011_FIFO]);
    }
}

/* Reads one register and checks it against its writable bits. */
static bool get_reg(struct vs_buf *r, uint32_t *dst, uint32_t mask)
{
    *dst = vs_get_u32(r);
    return (*dst & ~mask) == 0;
}

static bool vpl011_load(void *ctx, struct vs_buf *r, uint32_t version, bool apply)
{
    struct vpl011 *u = ctx;
    if (version != VPL011_VS_VERSION) {
        log_err("vpl011: state version %u, expected %u", version, VPL011_VS_VERSION);
        return false;
    }
    struct vpl011 t = *u;
    bool ok = get_reg(r, &t.rsr, MASK_RSR);
    ok &= get_reg(r, &t.ilpr, MASK_ILPR);
    ok &= get_reg(r, &t.ibrd, MASK_IBRD);
    ok &= get_reg(r, &t.fbrd, MASK_FBRD);
    ok &= get_reg(r, &t.lcr_h, MASK_LCR_H);
    ok &= get_reg(r, &t.cr, MASK_CR);
    ok &= get_reg(r, &t.ifls, MASK_IFLS);
    ok &= get_reg(r, &t.imsc, MASK_INT);
    ok &= get_reg(r, &t.ris, MASK_INT);
    ok &= get_reg(r, &t.dmacr, MASK_DMACR);
    t.rx_count = vs_get_u32(r);
    if (r->err || !ok || t.rx_count > fifo_depth(&t) ||
        (!t.rx_count && (t.ris & (INT_RX | INT_RT)))) {
        log_err("vpl011: invalid state section");
        return false;
    }
    t.rx_head = 0;
    vs_get_bytes(r, t.rx, t.rx_count);
    if (r->err) {
        log_err("vpl011: truncated state section");
        return false;
    }
    if (apply) {
        *u = t;
        update_irq(u, true);
    }
    return true;
}

static void vpl011_reset_cb(void *ctx)
{
    vpl011_reset(ctx);
}

bool vpl011_register(struct vpl011 *u, struct bus *bus)
{
    const struct bus_dev dev = {
        .name = "pl011",
        .base = gpa_raw(u->base),
        .size = VPL011_SIZE,
        .ops = &vpl011_ops,
        .ctx = u,
    };
    if (!bus_add(bus, &dev)) {
        return false;
    }
    if (u->vm) {
        const struct vmstate_ops vs = {
            .tag = VS_TAG('U', 'A', 'R', 'T'),
            .version = VPL011_VS_VERSION,
            .save = vpl011_save,
            .load = vpl011_load,
            .reset = vpl011_reset_cb,
            .ctx = u,
        };
        if (!vm_register_vmstate(u->vm, &vs)) {
            return false;
        }
    }
    console_set_guest_uart(u);
    return true;
}
