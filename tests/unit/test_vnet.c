// SPDX-License-Identifier: Apache-2.0
// The guest's emulated virtio-net device, driven as a guest driver would drive it, against a
// fake guest RAM: negotiation, transmit, receive, and every kind of malformed ring.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cv/vm.h>
#include <cv/vnet.h>

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (1ull << 20)
#define DESC0 (RAM_BASE + 0x1000) /* rx ring */
#define AVAIL0 (RAM_BASE + 0x2000)
#define USED0 (RAM_BASE + 0x3000)
#define DESC1 (RAM_BASE + 0x4000) /* tx ring */
#define AVAIL1 (RAM_BASE + 0x5000)
#define USED1 (RAM_BASE + 0x6000)
#define BUFS (RAM_BASE + 0x10000)
#define QN 16u

static uint8_t *ram;
static struct vm fake_vm;
static struct vnet nic;
static bool irq_level;
static unsigned tx_count;
static uint8_t tx_last[2048];
static size_t tx_last_len;
static uint64_t dirty_marked;
static const uint8_t guest_mac[6] = {0x52, 0x54, 0, 0xc0, 0, 0x10};

/* ---- fakes of what vnet.c uses ---- */
void vm_arch_irq_set_level(struct vm *vm, uint32_t intid, bool level)
{
    (void)vm;
    assert_int_equal(intid, 48);
    irq_level = level;
}
bool vm_register_vmstate(struct vm *vm, const struct vmstate_ops *ops)
{
    vm->vmstate[vm->vmstate_count++] = *ops;
    return true;
}
void dirty_log_mark(struct vm *vm, gpa_t a, uint64_t len)
{
    (void)vm;
    (void)a;
    dirty_marked += len;
}
static bool tx_refused; /* the output pipeline has no room (COLO's buffer filter is full) */
bool net_guest_tx_room(size_t len)
{
    (void)len;
    return !tx_refused;
}

void net_guest_tx(const uint8_t *frame, size_t len)
{
    tx_count++;
    memcpy(tx_last, frame, len);
    tx_last_len = len;
}

/* ---- guest-driver helpers ---- */
static uint32_t rd(uint64_t off)
{
    struct bus_access a = {.offset = off, .size = 4};
    assert_int_equal(vnet_mmio_read(&nic, &a), BUS_OK);
    return (uint32_t)a.value;
}
static void wr(uint64_t off, uint32_t v)
{
    struct bus_access a = {.offset = off, .size = 4, .write = true, .value = v};
    assert_int_equal(vnet_mmio_write(&nic, &a), BUS_OK);
}
static void *g(uint64_t gpa_)
{
    return ram + (gpa_ - RAM_BASE);
}
static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t *d = g(table + 16ull * i);
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}
static void avail_push(uint64_t avail, uint16_t head)
{
    uint16_t idx;
    memcpy(&idx, g(avail + 2), 2);
    memcpy(g(avail + 4 + 2ull * (idx % QN)), &head, 2);
    idx++;
    memcpy(g(avail + 2), &idx, 2);
}
static uint16_t used_idx(uint64_t used)
{
    uint16_t v;
    memcpy(&v, g(used + 2), 2);
    return v;
}
static uint32_t used_len(uint64_t used, unsigned slot)
{
    uint32_t v;
    memcpy(&v, g(used + 4 + 8ull * slot + 4), 4);
    return v;
}
static void setup_queue(unsigned qi, uint64_t desc, uint64_t avail, uint64_t used)
{
    wr(0x030, qi);
    assert_int_equal(rd(0x034), VNET_QUEUE_MAX);
    wr(0x038, QN);
    wr(0x080, (uint32_t)desc);
    wr(0x084, (uint32_t)(desc >> 32));
    wr(0x090, (uint32_t)avail);
    wr(0x094, 0);
    wr(0x0a0, (uint32_t)used);
    wr(0x0a4, 0);
    wr(0x044, 1);
}
static void driver_init(void)
{
    wr(0x070, 0);
    wr(0x070, 1 | 2);
    wr(0x014, 1);
    assert_int_equal(rd(0x010) & 1, 1); /* VERSION_1 */
    wr(0x024, 0);
    wr(0x020, (1u << 5) | (1u << 16));
    wr(0x024, 1);
    wr(0x020, 1);
    wr(0x070, 1 | 2 | 8);
    assert_true(rd(0x070) & 8);
    setup_queue(0, DESC0, AVAIL0, USED0);
    setup_queue(1, DESC1, AVAIL1, USED1);
    wr(0x070, 1 | 2 | 8 | 4);
}

static int setup(void **state)
{
    (void)state;
    ram = calloc(1, RAM_SIZE);
    memset(&fake_vm, 0, sizeof(fake_vm));
    fake_vm.ram.base = gpa(RAM_BASE);
    fake_vm.ram.size = RAM_SIZE;
    fake_vm.ram.hva = ram;
    fake_vm.state = VM_RUNNING; /* a guest that is not running takes no frames */
    vnet_init(&nic, &fake_vm, gpa(0x0a000000), 48, guest_mac);
    static struct bus bus;
    memset(&bus, 0, sizeof(bus));
    assert_true(vnet_register(&nic, &bus));
    tx_count = 0;
    tx_refused = false;
    irq_level = false;
    dirty_marked = 0;
    driver_init();
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    free(ram);
    return 0;
}

/* Queues the frame at f (flen bytes) on the transmit ring and notifies. */
static void send_bytes(unsigned head, const uint8_t *f, size_t flen, uint16_t extra_flags)
{
    set_desc(DESC1, head, BUFS, VNET_HDR_LEN, 1 | extra_flags, (uint16_t)(head + 1));
    memcpy(g(BUFS + 0x100), f, flen);
    set_desc(DESC1, head + 1, BUFS + 0x100, (uint32_t)flen, 0, 0);
    avail_push(AVAIL1, (uint16_t)head);
    wr(0x050, 1);
}

/* A frame of 0xab bytes from the guest's own MAC (what the source filter lets through). */
static void send_frame(unsigned head, size_t flen, uint16_t extra_flags)
{
    set_desc(DESC1, head, BUFS, VNET_HDR_LEN, 1 | extra_flags, (uint16_t)(head + 1));
    memset(g(BUFS + 0x100), 0xab, flen);
    if (flen >= 12) {
        memcpy(g(BUFS + 0x106), guest_mac, 6);
    }
    set_desc(DESC1, head + 1, BUFS + 0x100, (uint32_t)flen, 0, 0);
    avail_push(AVAIL1, (uint16_t)head);
    wr(0x050, 1);
}

static void test_identity_and_config(void **state)
{
    (void)state;
    assert_int_equal(rd(0x000), 0x74726976u);
    assert_int_equal(rd(0x004), 2);
    assert_int_equal(rd(0x008), 1);
    struct bus_access a = {.offset = 0x100, .size = 1};
    assert_int_equal(vnet_mmio_read(&nic, &a), BUS_OK);
    assert_int_equal(a.value, 0x52);
    a = (struct bus_access){.offset = 0x106, .size = 2};
    vnet_mmio_read(&nic, &a);
    assert_int_equal(a.value, 1); /* link up */
    a = (struct bus_access){.offset = 0x070, .size = 2};
    assert_int_equal(vnet_mmio_read(&nic, &a), BUS_BAD_ACCESS);
    a = (struct bus_access){.offset = 0x070, .size = 8};
    assert_int_equal(vnet_mmio_read(&nic, &a), BUS_BAD_ACCESS);
}

static void test_feature_negotiation_needs_version_1(void **state)
{
    (void)state;
    wr(0x070, 0);
    wr(0x070, 3);
    wr(0x024, 0);
    wr(0x020, 1u << 5);
    wr(0x070, 3 | 8);
    assert_false(rd(0x070) & 8);
}

static void test_transmit(void **state)
{
    (void)state;
    send_frame(0, 60, 0);
    assert_int_equal(tx_count, 1);
    assert_int_equal(tx_last_len, 60);
    assert_int_equal(tx_last[0], 0xab);
    assert_int_equal(used_idx(USED1), 1);
    assert_true(irq_level);
    assert_int_equal(rd(0x060) & 1, 1);
    wr(0x064, 1);
    assert_false(irq_level);
    /* A runt is dropped and counted; the ring stays healthy. */
    send_frame(2, 8, 0);
    assert_int_equal(tx_count, 1);
    assert_int_equal(nic.stats.tx_errors, 1);
    assert_false(rd(0x070) & 64);
    assert_int_equal(used_idx(USED1), 2);
}

/* The source filter sits before the pipeline: a forged frame never reaches it, is counted by
 * reason, and costs the ring nothing (the guest gets its buffer back). */
static void test_transmit_filters_foreign_sources(void **state)
{
    (void)state;
    uint8_t f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0xc0, 2, 1, 0x08, 0x06};
    send_bytes(0, f, sizeof(f), 0); /* a board's MAC */
    assert_int_equal(tx_count, 0);
    assert_int_equal(nic.tx_filtered[GUEST_FILTER_MAC], 1);
    assert_int_equal(used_idx(USED1), 1);
    /* Own MAC, IPv4 from a board's service address (config_get(): board a's defaults). */
    memcpy(f + 6, guest_mac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    f[14] = 0x45;
    static const uint8_t board_ip[4] = {192, 0, 2, 2}, guest_ip[4] = {192, 0, 2, 10};
    memcpy(f + 14 + 12, board_ip, 4);
    send_bytes(2, f, sizeof(f), 0);
    assert_int_equal(nic.tx_filtered[GUEST_FILTER_IP], 1);
    /* Cut short of its IPv4 header. */
    send_bytes(4, f, 14 + 10, 0);
    assert_int_equal(nic.tx_filtered[GUEST_FILTER_MALFORMED], 1);
    assert_int_equal(tx_count, 0);
    assert_int_equal(nic.stats.tx_frames, 0);
    assert_int_equal(nic.stats.tx_errors, 0);
    /* The same frame from the guest's own address goes out. */
    memcpy(f + 14 + 12, guest_ip, 4);
    send_bytes(6, f, sizeof(f), 0);
    assert_int_equal(tx_count, 1);
    assert_int_equal(nic.stats.tx_frames, 1);
    assert_memory_equal(tx_last, f, sizeof(f));
    assert_int_equal(used_idx(USED1), 4);
    assert_false(rd(0x070) & 64);
}

static void post_rx(unsigned i, uint32_t len)
{
    set_desc(DESC0, i, BUFS + 0x1000 + 0x800ull * i, len, 2, 0);
    avail_push(AVAIL0, (uint16_t)i);
}

static void test_receive_and_pending(void **state)
{
    (void)state;
    uint8_t f[100];
    memset(f, 0x5a, sizeof(f));
    vnet_rx(&nic, f, sizeof(f)); /* no buffer yet: held */
    assert_int_equal(used_idx(USED0), 0);
    post_rx(0, 1526);
    wr(0x050, 0);
    assert_int_equal(used_idx(USED0), 1);
    assert_int_equal(used_len(USED0, 0), VNET_HDR_LEN + 100);
    uint8_t *b = g(BUFS + 0x1000);
    assert_int_equal(b[10], 1); /* num_buffers */
    assert_int_equal(b[VNET_HDR_LEN], 0x5a);
    assert_true(irq_level);
    assert_true(dirty_marked >= VNET_HDR_LEN + 100);
    /* Runt and oversize frames from the LAN are dropped and counted. */
    vnet_rx(&nic, f, 10);
    uint8_t big[1600] = {0};
    vnet_rx(&nic, big, sizeof(big));
    assert_int_equal(nic.stats.rx_errors, 2);
    /* More frames than buffers and the pending queue: drops are counted, nothing breaks. */
    for (unsigned i = 0; i < VNET_PENDING + 5; i++) {
        vnet_rx(&nic, f, sizeof(f));
    }
    assert_int_equal(nic.stats.rx_drops, 5);
}

/* Every malformed ring ends in DEVICE_NEEDS_RESET, never a crash; a reset recovers. */
static void expect_needs_reset(void)
{
    assert_true(rd(0x070) & 64);
    assert_true(rd(0x060) & 2);
    unsigned before = tx_count;
    send_frame(6, 60, 0); /* ignored while broken */
    assert_int_equal(tx_count, before);
    driver_init();
    assert_false(rd(0x070) & 64);
}

static void test_malformed_rings(void **state)
{
    (void)state;
    /* buffer outside guest RAM */
    set_desc(DESC1, 0, 0x90000000ull, 100, 0, 0);
    avail_push(AVAIL1, 0);
    wr(0x050, 1);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    driver_init();
    /* a chain that loops */
    set_desc(DESC1, 0, BUFS, 100, 1, 0);
    avail_push(AVAIL1, 0);
    wr(0x050, 1);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    driver_init();
    /* zero length */
    set_desc(DESC1, 0, BUFS, 0, 0, 0);
    avail_push(AVAIL1, 0);
    wr(0x050, 1);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    driver_init();
    /* oversize */
    set_desc(DESC1, 0, BUFS, 4000, 0, 0);
    avail_push(AVAIL1, 0);
    wr(0x050, 1);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    driver_init();
    /* device-writable buffer on the transmit queue, indirect descriptor */
    send_frame(0, 60, 2);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    driver_init();
    send_frame(0, 60, 4);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    driver_init();
    /* next index beyond the queue; head index beyond the queue */
    set_desc(DESC1, 0, BUFS, 60, 1, 200);
    avail_push(AVAIL1, 0);
    wr(0x050, 1);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    driver_init();
    avail_push(AVAIL1, 99);
    wr(0x050, 1);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    driver_init();
    /* avail index running ahead of the queue size */
    uint16_t idx = 500;
    memcpy(g(AVAIL1 + 2), &idx, 2);
    wr(0x050, 1);
    expect_needs_reset();
    memset(ram, 0, 0x10000);
    /* read-only buffer on the receive queue */
    driver_init();
    set_desc(DESC0, 0, BUFS, 1526, 0, 0);
    avail_push(AVAIL0, 0);
    uint8_t f[64] = {0};
    vnet_rx(&nic, f, sizeof(f));
    assert_true(rd(0x070) & 64);
    /* rings outside RAM or misaligned at QueueReady */
    wr(0x070, 0);
    wr(0x070, 3);
    wr(0x030, 0);
    wr(0x038, QN);
    wr(0x080, 0x10);
    wr(0x044, 1);
    assert_true(rd(0x070) & 64);
    assert_int_equal(rd(0x044), 0);
    wr(0x070, 0);
    wr(0x030, 1);
    wr(0x038, 3); /* not a power of two */
    wr(0x080, (uint32_t)DESC1);
    wr(0x090, (uint32_t)AVAIL1);
    wr(0x0a0, (uint32_t)USED1);
    wr(0x044, 1);
    assert_true(rd(0x070) & 64);
}

static void test_state_round_trip(void **state)
{
    (void)state;
    send_frame(0, 60, 0);
    const struct vmstate_ops *ops = &fake_vm.vmstate[0];
    static uint8_t buf[512], buf2[512];
    struct vs_buf w, r;
    vs_init_writer(&w, buf, sizeof(buf));
    ops->save(ops->ctx, &w);
    assert_false(w.err);
    vs_init_reader(&r, buf, w.len);
    assert_true(ops->load(ops->ctx, &r, 1, false));
    vs_init_reader(&r, buf, w.len);
    assert_true(ops->load(ops->ctx, &r, 1, true));
    struct vs_buf w2;
    vs_init_writer(&w2, buf2, sizeof(buf2));
    ops->save(ops->ctx, &w2);
    assert_int_equal(w2.len, w.len);
    assert_memory_equal(buf, buf2, w.len);
    /* corrupt: a ready queue whose ring lies outside RAM, a truncated section, bad version */
    memcpy(buf2, buf, w.len);
    uint64_t bad = 0x10;
    memcpy(buf2 + 36 + 5, &bad, 8);
    vs_init_reader(&r, buf2, w.len);
    assert_false(ops->load(ops->ctx, &r, 1, false));
    vs_init_reader(&r, buf, w.len - 3);
    assert_false(ops->load(ops->ctx, &r, 1, false) && !r.err);
    vs_init_reader(&r, buf, w.len);
    assert_false(ops->load(ops->ctx, &r, 2, false));
}

/* Three frames on the transmit ring, notified once, while the output pipeline refuses them. */
static void queue_under_backpressure(void)
{
    tx_refused = true;
    for (unsigned f = 0; f < 3; f++) {
        unsigned head = 4 * f;
        set_desc(DESC1, head, BUFS, VNET_HDR_LEN, 1, (uint16_t)(head + 1));
        set_desc(DESC1, head + 1, BUFS + 0x100, 60, 0, 0);
        avail_push(AVAIL1, (uint16_t)head);
    }
    memset(g(BUFS + 0x100), 0xcd, 60);
    memcpy(g(BUFS + 0x106), guest_mac, 6);
    wr(0x050, 1);
    assert_int_equal(tx_count, 0);
    assert_true(nic.tx_stalls > 0);
    assert_int_equal(used_idx(USED1), 0);
}

/*
 * A checkpoint taken while the guest's frames waited for room, then resumed (a takeover of the
 * replica, a state reload): the device sends them by itself. The guest does not notify again:
 * its ring is full and its queue stopped, it waits for used entries.
 */
static void test_tx_backpressure_resumes_after_state_load(void **state)
{
    (void)state;
    queue_under_backpressure();
    const struct vmstate_ops *ops = &fake_vm.vmstate[0];
    static uint8_t buf[512];
    struct vs_buf w, r;
    vs_init_writer(&w, buf, sizeof(buf));
    ops->save(ops->ctx, &w);
    assert_false(w.err);
    /* The replica: the device starts from power-on and gets the checkpoint's state. */
    fake_vm.state = VM_PAUSED;
    vnet_reset(&nic);
    vs_init_reader(&r, buf, w.len);
    assert_true(ops->load(ops->ctx, &r, 1, false));
    vs_init_reader(&r, buf, w.len);
    assert_true(ops->load(ops->ctx, &r, 1, true));
    tx_refused = false; /* the new primary's output is not held */
    assert_int_equal(tx_count, 0);
    fake_vm.state = VM_RUNNING;
    vm_state_resumed(&fake_vm); /* what vm_resume() does */
    assert_int_equal(tx_count, 3);
    assert_int_equal(tx_last_len, 60);
    assert_int_equal(tx_last[0], 0xcd);
    assert_int_equal(used_idx(USED1), 3);
    assert_true(irq_level);
}

/* The same without a state load: a guest paused under backpressure and resumed. */
static void test_tx_backpressure_resumes_after_pause(void **state)
{
    (void)state;
    queue_under_backpressure();
    fake_vm.state = VM_PAUSED;
    tx_refused = false;
    fake_vm.state = VM_RUNNING;
    vm_state_resumed(&fake_vm);
    assert_int_equal(tx_count, 3);
    assert_int_equal(used_idx(USED1), 3);
    /* Nothing left: another resume sends nothing twice. */
    vm_state_resumed(&fake_vm);
    assert_int_equal(tx_count, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity_and_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feature_negotiation_needs_version_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transmit_filters_foreign_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_and_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_rings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_backpressure_resumes_after_state_load, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tx_backpressure_resumes_after_pause, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
