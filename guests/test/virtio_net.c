// SPDX-License-Identifier: Apache-2.0
// virtio-net over the virtio-mmio transport, modern (version 2) only: QEMU's
// virtio-net-device on the virt board, and the NIC colovisor emulates at 0x0a000000. One RX and
// one TX split virtqueue, one 2 KiB buffer per descriptor, no offloads and no merged RX
// buffers, so every frame is a 12-byte header and one whole Ethernet frame in one buffer.
//
// Received frames are delivered from thread context (vnet_rx_poll); the interrupt handler only
// acknowledges the device, which is what lowers its level-sensitive line. TX completions are
// reaped when the driver next sends or polls; TX interrupts are suppressed with the avail
// ring's NO_INTERRUPT hint (a device may ignore it; the handler copes either way).

#include <string.h>

#include "guest.h"
#include "virtio_net.h"

#define VIRTIO_MMIO_BASE 0x0a000000ull
#define VIRTIO_MMIO_STRIDE 0x200ull
#define VIRTIO_MMIO_COUNT 32u
#define VIRTIO_MMIO_FIRST_INTID 48u

/* virtio-mmio registers (virtio 1.1, 4.2.2) */
#define VM_MAGIC 0x000
#define VM_VERSION 0x004
#define VM_DEVICE_ID 0x008
#define VM_DEVICE_FEATURES 0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES 0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_QUEUE_SEL 0x030
#define VM_QUEUE_NUM_MAX 0x034
#define VM_QUEUE_NUM 0x038
#define VM_QUEUE_READY 0x044
#define VM_QUEUE_NOTIFY 0x050
#define VM_INTERRUPT_STATUS 0x060
#define VM_INTERRUPT_ACK 0x064
#define VM_STATUS 0x070
#define VM_QUEUE_DESC_LOW 0x080
#define VM_QUEUE_DESC_HIGH 0x084
#define VM_QUEUE_DRIVER_LOW 0x090
#define VM_QUEUE_DRIVER_HIGH 0x094
#define VM_QUEUE_DEVICE_LOW 0x0a0
#define VM_QUEUE_DEVICE_HIGH 0x0a4
#define VM_CONFIG_GENERATION 0x0fc
#define VM_CONFIG 0x100

#define VIRTIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_ID_NET 1u

#define STATUS_ACKNOWLEDGE 1u
#define STATUS_DRIVER 2u
#define STATUS_DRIVER_OK 4u
#define STATUS_FEATURES_OK 8u
#define STATUS_FAILED 128u

#define INT_USED_BUFFER 1u
#define INT_CONFIG_CHANGE 2u

#define F_NET_MAC 5u
#define F_NET_STATUS 16u
#define F_VERSION_1 32u

/* virtio-net config space */
#define CFG_MAC 0x00
#define CFG_STATUS 0x06
#define NET_S_LINK_UP 1u

#define DESC_F_WRITE 2u
#define AVAIL_F_NO_INTERRUPT 1u
#define USED_F_NO_NOTIFY 1u

#define RXQ 0u
#define TXQ 1u

/* With VIRTIO_F_VERSION_1 the header always has num_buffers: 12 bytes. */
#define NET_HDR_LEN 12u
#define BUF_SIZE 2048u
#define QSIZE_MAX 128u

_Static_assert(NET_HDR_LEN + VNET_FRAME_MAX <= BUF_SIZE, "a frame must fit one buffer");

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct vq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[QSIZE_MAX];
    uint16_t used_event;
};

struct vq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct vq_used {
    uint16_t flags;
    uint16_t idx;
    struct vq_used_elem ring[QSIZE_MAX];
    uint16_t avail_event;
};

struct vq {
    struct vq_desc desc[QSIZE_MAX] __attribute__((aligned(4096)));
    struct vq_avail avail __attribute__((aligned(4096)));
    struct vq_used used __attribute__((aligned(4096)));
    uint8_t buf[QSIZE_MAX][BUF_SIZE] __attribute__((aligned(4096)));
    uint16_t size;       /* descriptors in use: a power of two <= QSIZE_MAX */
    uint16_t avail_idx;  /* our copy of avail.idx */
    uint16_t used_seen;  /* used.idx we have consumed up to */
    uint16_t free_count; /* TX: descriptors not in flight */
    uint16_t free_list[QSIZE_MAX];
    bool in_flight[QSIZE_MAX];
};

static struct vq rxq, txq;
static uint64_t base;
static uint32_t intid;
static bool present;
static bool has_status;
static uint8_t mac[6];
static volatile uint32_t irq_count;
static volatile bool config_changed;
static struct vnet_stats stats;

/* The device is coherent with the CPU: ordering among normal-memory accesses is enough
 * between the rings, and a full barrier before the doorbell, which is Device memory. */
#define dmb(opt) __asm__ volatile("dmb " #opt ::: "memory")

static inline uint8_t mmio_read8(uint64_t addr)
{
    uint8_t v;
    __asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static inline uint16_t mmio_read16(uint64_t addr)
{
    uint16_t v;
    __asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static uint32_t reg_read(uint32_t off)
{
    return mmio_read32(base + off);
}

static void reg_write(uint32_t off, uint32_t v)
{
    mmio_write32(base + off, v);
}

static uint16_t ring_load16(const volatile uint16_t *p)
{
    return *p;
}

static void ring_store16(volatile uint16_t *p, uint16_t v)
{
    *p = v;
}

/* Reads 8-bit config fields consistently (the generation did not change meanwhile). */
static void config_read(uint32_t off, uint8_t *out, size_t len)
{
    for (int tries = 0; tries < 100; tries++) {
        uint32_t gen = reg_read(VM_CONFIG_GENERATION);
        for (size_t i = 0; i < len; i++) {
            out[i] = mmio_read8(base + VM_CONFIG + off + i);
        }
        if (reg_read(VM_CONFIG_GENERATION) == gen) {
            return;
        }
    }
}

static bool probe_slot(uint64_t b, bool *bus_error)
{
    /* Only the first read may fault: nothing there (a VM without virtio-mmio transports). */
    probe_begin();
    uint32_t magic = mmio_read32(b + VM_MAGIC);
    struct probe_result r = probe_end();
    if (r.caught) {
        *bus_error = true;
        return false;
    }
    if (magic != VIRTIO_MAGIC) {
        return false;
    }
    uint32_t version = mmio_read32(b + VM_VERSION);
    uint32_t id = mmio_read32(b + VM_DEVICE_ID);
    if (id != VIRTIO_ID_NET) {
        return false;
    }
    if (version != 2) {
        con_printf("testguest: net: virtio-mmio at 0x%lx is version %u, need 2 (QEMU: -global "
                   "virtio-mmio.force-legacy=false)\n",
                   b, version);
        return false;
    }
    return true;
}

static void fail(const char *why)
{
    con_printf("testguest: net: virtio-net at 0x%lx: %s\n", base, why);
    reg_write(VM_STATUS, reg_read(VM_STATUS) | STATUS_FAILED);
}

static bool queue_setup(struct vq *q, uint32_t index)
{
    reg_write(VM_QUEUE_SEL, index);
    if (reg_read(VM_QUEUE_READY) != 0) {
        fail("queue already live after reset");
        return false;
    }
    uint32_t max = reg_read(VM_QUEUE_NUM_MAX);
    if (max < 2) {
        fail("queue too small");
        return false;
    }
    uint32_t size = QSIZE_MAX;
    while (size > max) {
        size >>= 1;
    }
    memset(q->desc, 0, sizeof(q->desc));
    memset(&q->avail, 0, sizeof(q->avail));
    memset(&q->used, 0, sizeof(q->used));
    q->size = (uint16_t)size;
    q->avail_idx = 0;
    q->used_seen = 0;
    q->free_count = 0;
    for (uint32_t i = 0; i < size; i++) {
        q->desc[i].addr = (uint64_t)(uintptr_t)q->buf[i];
        q->in_flight[i] = false;
    }
    dsb(sy);
    uint64_t d = (uint64_t)(uintptr_t)q->desc;
    uint64_t a = (uint64_t)(uintptr_t)&q->avail;
    uint64_t u = (uint64_t)(uintptr_t)&q->used;
    reg_write(VM_QUEUE_NUM, size);
    reg_write(VM_QUEUE_DESC_LOW, (uint32_t)d);
    reg_write(VM_QUEUE_DESC_HIGH, (uint32_t)(d >> 32));
    reg_write(VM_QUEUE_DRIVER_LOW, (uint32_t)a);
    reg_write(VM_QUEUE_DRIVER_HIGH, (uint32_t)(a >> 32));
    reg_write(VM_QUEUE_DEVICE_LOW, (uint32_t)u);
    reg_write(VM_QUEUE_DEVICE_HIGH, (uint32_t)(u >> 32));
    reg_write(VM_QUEUE_READY, 1);
    return true;
}

/* Publishes the avail index and rings the doorbell unless the device asked not to. */
static void queue_kick(struct vq *q, uint32_t index)
{
    dmb(ish); /* descriptors and ring slots before the index */
    ring_store16(&q->avail.idx, q->avail_idx);
    dmb(ish); /* the index before we look at the device's NO_NOTIFY */
    if (!(ring_load16(&q->used.flags) & USED_F_NO_NOTIFY)) {
        dsb(sy);
        reg_write(VM_QUEUE_NOTIFY, index);
    }
}

static void rx_post(uint16_t id)
{
    rxq.desc[id].len = BUF_SIZE;
    rxq.desc[id].flags = DESC_F_WRITE;
    rxq.desc[id].next = 0;
    rxq.in_flight[id] = true;
    rxq.avail.ring[rxq.avail_idx % rxq.size] = id;
    rxq.avail_idx++;
}

static bool device_init(void)
{
    reg_write(VM_STATUS, 0);
    for (int i = 0; i < 1000000 && reg_read(VM_STATUS) != 0; i++) {
    }
    reg_write(VM_STATUS, STATUS_ACKNOWLEDGE);
    reg_write(VM_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);

    reg_write(VM_DEVICE_FEATURES_SEL, 0);
    uint32_t f_lo = reg_read(VM_DEVICE_FEATURES);
    reg_write(VM_DEVICE_FEATURES_SEL, 1);
    uint32_t f_hi = reg_read(VM_DEVICE_FEATURES);
    if (!(f_hi & (1u << (F_VERSION_1 - 32)))) {
        fail("VIRTIO_F_VERSION_1 not offered");
        return false;
    }
    uint32_t want_lo = f_lo & ((1u << F_NET_MAC) | (1u << F_NET_STATUS));
    uint32_t want_hi = 1u << (F_VERSION_1 - 32);
    reg_write(VM_DRIVER_FEATURES_SEL, 0);
    reg_write(VM_DRIVER_FEATURES, want_lo);
    reg_write(VM_DRIVER_FEATURES_SEL, 1);
    reg_write(VM_DRIVER_FEATURES, want_hi);
    reg_write(VM_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    if (!(reg_read(VM_STATUS) & STATUS_FEATURES_OK)) {
        fail("device refused our features");
        return false;
    }
    has_status = (want_lo & (1u << F_NET_STATUS)) != 0;

    if (want_lo & (1u << F_NET_MAC)) {
        config_read(CFG_MAC, mac, sizeof(mac));
    } else {
        /* Locally administered, fixed: the guest has no entropy worth using at boot. */
        static const uint8_t fallback[6] = {0x02, 0x00, 0x00, 0xc0, 0x00, 0x10};
        memcpy(mac, fallback, sizeof(mac));
    }

    if (!queue_setup(&rxq, RXQ) || !queue_setup(&txq, TXQ)) {
        return false;
    }
    /* TX completions are reaped by polling: ask the device not to interrupt for them. */
    txq.avail.flags = AVAIL_F_NO_INTERRUPT;
    for (uint16_t i = 0; i < txq.size; i++) {
        txq.free_list[txq.free_count++] = i;
    }
    for (uint16_t i = 0; i < rxq.size; i++) {
        rx_post(i);
    }

    reg_write(VM_STATUS,
              STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    if (reg_read(VM_STATUS) & STATUS_FAILED) {
        fail("device failed at DRIVER_OK");
        return false;
    }
    queue_kick(&rxq, RXQ);
    return true;
}

bool vnet_init(void)
{
    bool bus_error = false;
    for (uint32_t n = 0; n < VIRTIO_MMIO_COUNT && !bus_error; n++) {
        uint64_t b = VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_STRIDE;
        if (!probe_slot(b, &bus_error)) {
            continue;
        }
        base = b;
        intid = VIRTIO_MMIO_FIRST_INTID + n;
        if (!device_init()) {
            reg_write(VM_STATUS, 0);
            continue;
        }
        present = true;
        gic_enable_spi(intid);
        return true;
    }
    return false;
}

bool vnet_present(void)
{
    return present;
}

const uint8_t *vnet_mac(void)
{
    return mac;
}

uint64_t vnet_base(void)
{
    return base;
}

uint32_t vnet_intid(void)
{
    return intid;
}

uint16_t vnet_queue_size(bool tx)
{
    return tx ? txq.size : rxq.size;
}

bool vnet_link_up(void)
{
    if (!present) {
        return false;
    }
    if (!has_status) {
        return true;
    }
    /* Config fields are read at their own width (virtio 1.1, 4.2.2.2). */
    uint16_t st = 0;
    for (int tries = 0; tries < 100; tries++) {
        uint32_t gen = reg_read(VM_CONFIG_GENERATION);
        st = mmio_read16(base + VM_CONFIG + CFG_STATUS);
        if (reg_read(VM_CONFIG_GENERATION) == gen) {
            break;
        }
    }
    return (st & NET_S_LINK_UP) != 0;
}

bool vnet_link_changed(void)
{
    if (!config_changed) {
        return false;
    }
    config_changed = false;
    return true;
}

const struct vnet_stats *vnet_get_stats(void)
{
    return &stats;
}

void vnet_irq(void)
{
    uint32_t st = reg_read(VM_INTERRUPT_STATUS);
    /* Acknowledging is what drops the level-sensitive line; the work is done by polling. */
    reg_write(VM_INTERRUPT_ACK, st & (INT_USED_BUFFER | INT_CONFIG_CHANGE));
    if (st & INT_CONFIG_CHANGE) {
        config_changed = true;
    }
    irq_count = irq_count + 1;
}

bool vnet_pending(void)
{
    if (!present) {
        return false;
    }
    dmb(ish);
    return ring_load16(&rxq.used.idx) != rxq.used_seen || config_changed;
}

unsigned vnet_rx_poll(vnet_rx_fn deliver, void *ctx, unsigned budget)
{
    unsigned done = 0;
    if (!present) {
        return 0;
    }
    while (done < budget) {
        uint16_t used_idx = ring_load16(&rxq.used.idx);
        if (used_idx == rxq.used_seen) {
            break;
        }
        if ((uint16_t)(used_idx - rxq.used_seen) > rxq.size) {
            stats.rx_errors++;
            con_printf("testguest: net: rx used index jumped %u -> %u, ring size %u\n",
                       rxq.used_seen, used_idx, rxq.size);
            rxq.used_seen = used_idx; /* the entries are unusable; the device is broken */
            break;
        }
        dmb(ishld); /* the entry after the index that covers it */
        const volatile struct vq_used_elem *e = &rxq.used.ring[rxq.used_seen % rxq.size];
        uint32_t id = e->id;
        uint32_t len = e->len;
        rxq.used_seen++;
        done++;
        if (id >= rxq.size || !rxq.in_flight[id]) {
            stats.rx_errors++;
            continue; /* nothing to repost: it is not ours */
        }
        rxq.in_flight[id] = false;
        if (len < NET_HDR_LEN + 14 || len > NET_HDR_LEN + VNET_FRAME_MAX) {
            stats.rx_errors++;
        } else {
            stats.rx_frames++;
            stats.rx_bytes += len - NET_HDR_LEN;
            deliver(rxq.buf[id] + NET_HDR_LEN, len - NET_HDR_LEN, ctx);
        }
        rx_post((uint16_t)id);
    }
    if (done) {
        queue_kick(&rxq, RXQ);
    }
    return done;
}

void vnet_tx_reap(void)
{
    if (!present) {
        return;
    }
    for (;;) {
        uint16_t used_idx = ring_load16(&txq.used.idx);
        if (used_idx == txq.used_seen) {
            return;
        }
        if ((uint16_t)(used_idx - txq.used_seen) > txq.size) {
            stats.tx_errors++;
            txq.used_seen = used_idx;
            return;
        }
        dmb(ishld);
        uint32_t id = txq.used.ring[txq.used_seen % txq.size].id;
        txq.used_seen++;
        if (id >= txq.size || !txq.in_flight[id]) {
            stats.tx_errors++;
            continue;
        }
        txq.in_flight[id] = false;
        txq.free_list[txq.free_count++] = (uint16_t)id;
    }
}

uint8_t *vnet_tx_buf(void)
{
    if (!present) {
        return NULL;
    }
    if (txq.free_count == 0) {
        vnet_tx_reap();
        if (txq.free_count == 0) {
            return NULL;
        }
    }
    uint16_t id = txq.free_list[txq.free_count - 1];
    return txq.buf[id] + NET_HDR_LEN;
}

void vnet_tx_send(size_t len)
{
    uint16_t id = txq.free_list[--txq.free_count];
    memset(txq.buf[id], 0, NET_HDR_LEN); /* no offloads: flags 0, gso none */
    txq.desc[id].len = (uint32_t)(NET_HDR_LEN + len);
    txq.desc[id].flags = 0;
    txq.desc[id].next = 0;
    txq.in_flight[id] = true;
    txq.avail.ring[txq.avail_idx % txq.size] = id;
    txq.avail_idx++;
    stats.tx_frames++;
    stats.tx_bytes += len;
    queue_kick(&txq, TXQ);
}

void vnet_tx_drop(void)
{
    stats.tx_drops++;
}

uint32_t vnet_irq_count(void)
{
    return irq_count;
}
