// SPDX-License-Identifier: Apache-2.0
// The emulated PL011 as Linux's amba-pl011 driver sees it: registers, FIFO, interrupt line and
// the vmstate section.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cv/console.h>
#include <cv/vm.h>
#include <cv/vpl011.h>

#include "host_console.h"

/* ---- fakes for what vpl011.c uses from the core ---- */

static struct vm test_vm;
static bool irq_level;
static unsigned irq_calls;
static uint32_t irq_intid;
static char tx[256];
static size_t tx_len;
static struct vmstate_ops reg_ops;
static unsigned reg_count;
static struct vpl011 *bound_uart;

void vm_arch_irq_set_level(struct vm *vm, uint32_t intid, bool level)
{
    assert_ptr_equal(vm, &test_vm);
    irq_intid = intid;
    irq_level = level;
    irq_calls++;
}

bool vm_register_vmstate(struct vm *vm, const struct vmstate_ops *ops)
{
    assert_ptr_equal(vm, &test_vm);
    reg_ops = *ops;
    reg_count++;
    return true;
}

void console_guest_output(char c)
{
    if (tx_len < sizeof(tx) - 1) {
        tx[tx_len++] = c;
        tx[tx_len] = '\0';
    }
}

void console_set_guest_uart(struct vpl011 *u)
{
    bound_uart = u;
}

/* ---- helpers ---- */

#define BASE 0x09000000u
#define INTID 33u

#define DR 0x000
#define RSR 0x004
#define FR 0x018
#define ILPR 0x020
#define IBRD 0x024
#define FBRD 0x028
#define LCR_H 0x02c
#define CR 0x030
#define IFLS 0x034
#define IMSC 0x038
#define RIS 0x03c
#define MIS 0x040
#define ICR 0x044
#define DMACR 0x048

#define FR_RXFE 0x10u
#define FR_TXFF 0x20u
#define FR_RXFF 0x40u
#define FR_TXFE 0x80u
#define INT_RX 0x10u
#define INT_TX 0x20u
#define INT_RT 0x40u
#define INT_OE 0x400u
#define LCR_FEN 0x10u
#define CR_ON 0x301u /* UARTEN | TXE | RXE */

static struct vpl011 uart;

static int setup(void **state)
{
    (void)state;
    memset(&test_vm, 0, sizeof(test_vm));
    irq_level = true;
    irq_calls = 0;
    tx_len = 0;
    tx[0] = '\0';
    reg_count = 0;
    bound_uart = NULL;
    host_console_clear();
    vpl011_init(&uart, &test_vm, gpa(BASE), INTID);
    return 0;
}

static uint32_t rd_sz(uint64_t off, unsigned size)
{
    struct bus_access a = {.addr = BASE + off, .offset = off, .size = size, .value = ~0ull};
    assert_int_equal(vpl011_mmio_read(&uart, &a), BUS_OK);
    return (uint32_t)a.value;
}

static uint32_t rd(uint64_t off)
{
    return rd_sz(off, 4);
}

static void wr_sz(uint64_t off, uint32_t v, unsigned size)
{
    struct bus_access a = {
        .addr = BASE + off, .offset = off, .size = size, .write = true, .value = v};
    assert_int_equal(vpl011_mmio_write(&uart, &a), BUS_OK);
}

static void wr(uint64_t off, uint32_t v)
{
    wr_sz(off, v, 4);
}

/* ---- tests ---- */

static void test_reset_state(void **state)
{
    (void)state;
    assert_int_equal(rd(FR), FR_TXFE | FR_RXFE);
    assert_int_equal(rd(CR), 0x300);
    assert_int_equal(rd(IFLS), 0x12);
    assert_int_equal(rd(IMSC), 0);
    assert_int_equal(rd(RIS), 0); /* UART disabled: no TX interrupt yet */
    assert_int_equal(rd(MIS), 0);
    assert_int_equal(rd(LCR_H), 0);
    assert_int_equal(rd(RSR), 0);
    assert_int_equal(rd(DR), 0); /* empty FIFO reads 0 */
    /* init drives the line low explicitly */
    assert_true(irq_calls >= 1);
    assert_false(irq_level);
    assert_int_equal(irq_intid, INTID);
}

static void test_id_registers(void **state)
{
    (void)state;
    static const uint32_t ids[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(rd(0xfe0 + 4 * i), ids[i]);
    }
    /* amba bus: periphid 0x00141011, cellid 0xb105f00d */
    uint32_t pid = 0, cid = 0;
    for (unsigned i = 0; i < 4; i++) {
        pid |= (rd(0xfe0 + 4 * i) & 0xff) << (8 * i);
        cid |= (rd(0xff0 + 4 * i) & 0xff) << (8 * i);
    }
    assert_int_equal(pid & 0x000fffff, 0x00041011);
    assert_int_equal(cid, 0xb105f00d);
    wr(0xfe0, 0x55); /* read-only */
    assert_int_equal(rd(0xfe0), 0x11);
}

static void test_tx_goes_to_console(void **state)
{
    (void)state;
    /* earlycon writes DR without enabling the UART */
    wr(DR, 'h');
    wr_sz(DR, 'i', 1);
    wr_sz(DR, '\n', 2);
    assert_string_equal(tx, "hi\n");
    assert_int_equal(uart.tx_bytes, 3);
    assert_int_equal(rd(FR) & (FR_TXFF | FR_TXFE), FR_TXFE);
}

static void test_loopback(void **state)
{
    (void)state;
    wr(LCR_H, 0x70);
    wr(CR, CR_ON | 0x80);
    wr(DR, 'x');
    assert_int_equal(tx_len, 0);
    assert_int_equal(rd(FR) & FR_RXFE, 0);
    assert_int_equal(rd(DR), 'x');
}

static void test_rx_fifo_order_and_overflow(void **state)
{
    (void)state;
    wr(LCR_H, 0x70); /* 8 bits, FIFOs on */
    wr(CR, CR_ON);
    for (int i = 0; i < 32; i++) {
        vpl011_rx_push(&uart, (char)('A' + i));
    }
    assert_int_equal(rd(FR) & (FR_RXFE | FR_RXFF), FR_RXFF);
    assert_int_equal(uart.rx_dropped, 0);
    vpl011_rx_push(&uart, '!');
    assert_int_equal(uart.rx_dropped, 1);
    assert_int_equal(rd(RSR) & 0x8, 0x8); /* overrun */
    assert_int_equal(rd(RIS) & INT_OE, INT_OE);
    for (int i = 0; i < 32; i++) {
        assert_int_equal(rd(FR) & FR_RXFE, 0);
        assert_int_equal(rd(DR), 'A' + i);
        assert_int_equal(rd(FR) & FR_RXFF, 0);
    }
    assert_int_equal(rd(FR) & FR_RXFE, FR_RXFE);
    assert_int_equal(rd(DR), 0);
    wr(RSR, 0); /* ECR clears the error */
    assert_int_equal(rd(RSR), 0);
    assert_int_equal(rd(RIS) & INT_OE, 0);
    /* the ring wraps correctly */
    for (int i = 0; i < 40; i++) {
        vpl011_rx_push(&uart, (char)i);
        assert_int_equal(rd(DR), i);
    }
}

static void test_fifo_disabled_holds_one(void **state)
{
    (void)state;
    wr(LCR_H, 0x60); /* FEN clear */
    vpl011_rx_push(&uart, 'a');
    assert_int_equal(rd(FR) & (FR_RXFE | FR_RXFF), FR_RXFF);
    vpl011_rx_push(&uart, 'b');
    assert_int_equal(uart.rx_dropped, 1);
    assert_int_equal(rd(DR), 'a');
    /* switching the FIFOs on empties them */
    vpl011_rx_push(&uart, 'c');
    wr(LCR_H, 0x70);
    assert_int_equal(rd(FR) & FR_RXFE, FR_RXFE);
}

static void test_rx_interrupt_level(void **state)
{
    (void)state;
    wr(LCR_H, 0x70);
    wr(CR, CR_ON);
    wr(IMSC, INT_RX | INT_RT);
    assert_false(irq_level);
    vpl011_rx_push(&uart, 'a');
    assert_true(irq_level);
    assert_int_equal(rd(RIS) & (INT_RX | INT_RT), INT_RX | INT_RT);
    assert_int_equal(rd(MIS), INT_RX | INT_RT);
    vpl011_rx_push(&uart, 'b');
    assert_true(irq_level);
    rd(DR);
    assert_true(irq_level); /* still data */
    rd(DR);
    assert_false(irq_level);
    assert_int_equal(rd(MIS), 0);
    /* masking and unmasking with data pending */
    vpl011_rx_push(&uart, 'c');
    wr(IMSC, 0);
    assert_false(irq_level);
    wr(IMSC, INT_RX | INT_RT);
    assert_true(irq_level);
    /* ICR clears the sources even with data left; new data raises them again */
    wr(ICR, INT_RX | INT_RT);
    assert_false(irq_level);
    vpl011_rx_push(&uart, 'd');
    assert_true(irq_level);
    /* line changes are reported once, not on every access */
    unsigned calls = irq_calls;
    rd(FR);
    rd(RIS);
    wr(IMSC, INT_RX | INT_RT);
    assert_int_equal(irq_calls, calls);
}

static void test_tx_interrupt(void **state)
{
    (void)state;
    wr(IMSC, INT_TX);
    assert_false(irq_level); /* UART disabled */
    wr(CR, CR_ON);
    assert_int_equal(rd(RIS) & INT_TX, INT_TX);
    assert_true(irq_level);
    wr(DR, 'x'); /* stays asserted: the FIFO is empty again at once */
    assert_true(irq_level);
    wr(ICR, INT_TX); /* cannot clear it while the FIFO is below the level */
    assert_true(irq_level);
    wr(IMSC, INT_RX | INT_RT); /* Linux's stop_tx */
    assert_false(irq_level);
    wr(IMSC, INT_TX);
    assert_true(irq_level);
    wr(CR, 0x201); /* TXE off */
    assert_false(irq_level);
    assert_int_equal(rd(RIS) & INT_TX, 0);
}

static void test_linux_startup_sequence(void **state)
{
    (void)state;
    /* pl011_hwinit / pl011_startup / set_termios, in Linux's order */
    wr(ICR, 0x7ff);
    wr(IMSC, INT_RX | INT_RT);
    wr(IBRD, 13);
    wr(FBRD, 1);
    wr(LCR_H, 0x70);
    wr(IFLS, 0x12);
    wr(CR, CR_ON);
    wr(ICR, INT_RX | INT_RT);
    assert_false(irq_level);
    assert_int_equal(rd(IBRD), 13);
    assert_int_equal(rd(FBRD), 1);
    /* start_tx: fill, then TXIM; the interrupt must follow */
    wr(DR, 'o');
    wr(DR, 'k');
    wr(IMSC, INT_RX | INT_RT | INT_TX);
    assert_true(irq_level);
    assert_int_equal(rd(MIS), INT_TX);
    wr(IMSC, INT_RX | INT_RT);
    assert_false(irq_level);
    assert_string_equal(tx, "ok");
}

static void test_register_masks_and_subword(void **state)
{
    (void)state;
    wr(IBRD, 0xffffffff);
    assert_int_equal(rd(IBRD), 0xffff);
    wr(FBRD, 0xff);
    assert_int_equal(rd(FBRD), 0x3f);
    wr(DMACR, 0xff);
    assert_int_equal(rd(DMACR), 0x7);
    wr(ILPR, 0x1ff);
    assert_int_equal(rd(ILPR), 0xff);
    /* 16-bit write to the upper half of CR keeps the low byte */
    wr(CR, 0x0001);
    wr_sz(CR + 1, 0x03, 1);
    assert_int_equal(rd(CR), 0x301);
    assert_int_equal(rd_sz(CR + 1, 1), 0x03);
    assert_int_equal(rd_sz(FR, 2), FR_TXFE | FR_RXFE);
    assert_int_equal(rd_sz(FR, 1), FR_TXFE | FR_RXFE);
    /* a sub-word read of DR's upper half must not pop */
    vpl011_rx_push(&uart, 'q');
    assert_int_equal(rd_sz(DR + 2, 2), 0);
    assert_int_equal(rd_sz(DR, 1), 'q');
    /* reserved offsets read as zero and ignore writes */
    wr(0x100, 0x1234);
    assert_int_equal(rd(0x100), 0);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    struct bus_access a = {.addr = BASE, .offset = DR, .size = 8};
    assert_int_equal(vpl011_mmio_read(&uart, &a), BUS_BAD_ACCESS);
    a.write = true;
    assert_int_equal(vpl011_mmio_write(&uart, &a), BUS_BAD_ACCESS);
    assert_int_equal(tx_len, 0);
    struct bus_access b = {.addr = BASE + 0x1a, .offset = FR + 2, .size = 4};
    assert_int_equal(vpl011_mmio_read(&uart, &b), BUS_BAD_ACCESS); /* misaligned */
    struct bus_access c = {.addr = BASE + 0x31, .offset = CR + 1, .size = 2};
    assert_int_equal(vpl011_mmio_read(&uart, &c), BUS_BAD_ACCESS);
    struct bus_access d = {.addr = BASE, .offset = 0, .size = 3};
    assert_int_equal(vpl011_mmio_read(&uart, &d), BUS_BAD_ACCESS);
}

static void test_register_on_bus(void **state)
{
    (void)state;
    struct bus bus = {0};
    assert_true(vpl011_register(&uart, &bus));
    assert_ptr_equal(bound_uart, &uart);
    assert_int_equal(reg_count, 1);
    assert_int_equal(reg_ops.tag, VS_TAG('U', 'A', 'R', 'T'));
    struct bus_access a = {.addr = BASE + FR, .size = 4};
    assert_int_equal(bus_dispatch(&bus, &a), BUS_OK);
    assert_int_equal(a.value, FR_TXFE | FR_RXFE);
    struct bus_access w = {.addr = BASE + DR, .size = 1, .write = true, .value = 'z'};
    assert_int_equal(bus_dispatch(&bus, &w), BUS_OK);
    assert_string_equal(tx, "z");
    struct bus_access o = {.addr = BASE + 0xffc, .size = 4};
    assert_int_equal(bus_dispatch(&bus, &o), BUS_OK);
    assert_int_equal(o.value, 0xb1);
    /* a second registration overlaps and fails */
    assert_false(vpl011_register(&uart, &bus));
    /* without a vm: no vmstate */
    struct vpl011 u2;
    vpl011_init(&u2, NULL, gpa(0x09100000), 34);
    reg_count = 0;
    assert_true(vpl011_register(&u2, &bus));
    assert_int_equal(reg_count, 0);
}

static size_t save_state(struct vpl011 *u, uint8_t *buf, size_t cap)
{
    struct bus bus = {0};
    reg_count = 0;
    assert_true(vpl011_register(u, &bus));
    struct vs_buf w;
    vs_init_writer(&w, buf, cap);
    reg_ops.save(reg_ops.ctx, &w);
    assert_false(w.err);
    return w.len;
}

static void prepare_busy_uart(void)
{
    wr(IBRD, 13);
    wr(FBRD, 1);
    wr(LCR_H, 0x70);
    wr(CR, CR_ON);
    wr(IFLS, 0x24);
    wr(ILPR, 7);
    wr(DMACR, 0);
    wr(IMSC, INT_RX | INT_RT);
    for (int i = 0; i < 40; i++) { /* wrap the ring, then leave 5 bytes */
        vpl011_rx_push(&uart, (char)i);
        if (i < 35) {
            rd(DR);
        }
    }
}

static void test_vmstate_round_trip(void **state)
{
    (void)state;
    prepare_busy_uart();
    uint8_t buf[256];
    size_t len = save_state(&uart, buf, sizeof(buf));
    assert_int_equal(len, 11 * 4 + 5);

    struct vpl011 dst;
    vpl011_init(&dst, &test_vm, gpa(BASE), INTID);
    irq_level = false;
    struct vs_buf r;
    vs_init_reader(&r, buf, len);
    assert_true(reg_ops.load(&dst, &r, reg_ops.version, false));
    assert_int_equal(dst.rx_count, 0); /* check only: unchanged */
    assert_int_equal(dst.cr, 0x300);
    vs_init_reader(&r, buf, len);
    irq_calls = 0;
    assert_true(reg_ops.load(&dst, &r, reg_ops.version, true));
    assert_true(irq_calls >= 1); /* the line is re-driven after a load */
    assert_true(irq_level);
    assert_int_equal(r.pos, len);
    assert_int_equal(dst.cr, CR_ON);
    assert_int_equal(dst.ibrd, 13);
    assert_int_equal(dst.ifls, 0x24);
    assert_int_equal(dst.ilpr, 7);
    assert_int_equal(dst.imsc, INT_RX | INT_RT);
    assert_int_equal(dst.ris, uart.ris);
    assert_int_equal(dst.rx_count, 5);
    /* same bytes in the same order, read through the loaded device */
    struct vpl011 keep = uart;
    uart = dst;
    for (int i = 35; i < 40; i++) {
        assert_int_equal(rd(DR), i);
    }
    assert_false(irq_level);
    uart = keep;
}

static void test_vmstate_rejects_corrupt(void **state)
{
    (void)state;
    prepare_busy_uart();
    uint8_t good[256];
    size_t len = save_state(&uart, good, sizeof(good));

    struct vpl011 dst;
    vpl011_init(&dst, &test_vm, gpa(BASE), INTID);
    struct vpl011 before = dst;
    uint8_t bad[256];
    struct vs_buf r;

    /* every truncation */
    for (size_t n = 0; n < len; n++) {
        vs_init_reader(&r, good, n);
        assert_false(reg_ops.load(&dst, &r, reg_ops.version, false));
    }
    /* wrong version */
    vs_init_reader(&r, good, len);
    assert_false(reg_ops.load(&dst, &r, reg_ops.version + 1, false));
    /* reserved bits in each register */
    for (unsigned reg = 0; reg < 10; reg++) {
        memcpy(bad, good, len);
        bad[reg * 4 + 3] |= 0x80;
        vs_init_reader(&r, bad, len);
        assert_false(reg_ops.load(&dst, &r, reg_ops.version, false));
    }
    /* FIFO count beyond the FIFO */
    memcpy(bad, good, len);
    bad[40] = 33;
    vs_init_reader(&r, bad, sizeof(bad));
    assert_false(reg_ops.load(&dst, &r, reg_ops.version, false));
    /* more than one byte while the FIFOs are off */
    memcpy(bad, good, len);
    bad[16] &= (uint8_t)~LCR_FEN;
    vs_init_reader(&r, bad, len);
    assert_false(reg_ops.load(&dst, &r, reg_ops.version, false));
    /* receive interrupt pending with an empty FIFO */
    memcpy(bad, good, len);
    bad[40] = 0;
    vs_init_reader(&r, bad, 44);
    assert_false(reg_ops.load(&dst, &r, reg_ops.version, false));
    assert_memory_equal(&dst, &before, sizeof(dst));
    assert_true(host_console_count("vpl011: ") > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_state, setup),
        cmocka_unit_test_setup(test_id_registers, setup),
        cmocka_unit_test_setup(test_tx_goes_to_console, setup),
        cmocka_unit_test_setup(test_loopback, setup),
        cmocka_unit_test_setup(test_rx_fifo_order_and_overflow, setup),
        cmocka_unit_test_setup(test_fifo_disabled_holds_one, setup),
        cmocka_unit_test_setup(test_rx_interrupt_level, setup),
        cmocka_unit_test_setup(test_tx_interrupt, setup),
        cmocka_unit_test_setup(test_linux_startup_sequence, setup),
        cmocka_unit_test_setup(test_register_masks_and_subword, setup),
        cmocka_unit_test_setup(test_bad_sizes, setup),
        cmocka_unit_test_setup(test_register_on_bus, setup),
        cmocka_unit_test_setup(test_vmstate_round_trip, setup),
        cmocka_unit_test_setup(test_vmstate_rejects_corrupt, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
