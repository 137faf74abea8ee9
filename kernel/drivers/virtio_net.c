// SPDX-License-Identifier: Apache-2.0
// virtio-net over virtio-mmio (modern): the board's NICs as struct netdev. One receive and one
// transmit queue of 256 single-buffer descriptors; every buffer is 2 KiB and holds the 12-byte
// virtio_net_hdr (VERSION_1 layout: num_buffers always present) and one frame. No offloads and
// no mergeable buffers: a frame never spans buffers. Receive is interrupt-driven (the
// interrupt only makes the guest exit; the rings are processed by poll, from the main loop or
// the interrupt path), transmit is batched: tx() queues, poll() publishes, kicks once and reaps.
#include <string.h>

#include <cv/board.h>
#include <cv/hv.h>
#include <cv/log.h>
#include <cv/net.h>
#include <cv/page.h>
#include <cv/virtio_mmio.h>

#define VNET_BUF_SIZE 2048u
#define VNET_QUEUE_SIZE 256u
#define VNET_RXQ 0u
#define VNET_TXQ 1u

struct vnic {
    struct netdev dev;
    struct virtio_mmio mmio;
    struct virtq rxq, txq;
    uint8_t *rx_bufs, *tx_bufs;
    void *rx_ring, *tx_ring;
    uint64_t features;
    uint64_t resets;
    bool tx_unkicked;  /* frames published to the device but not yet notified */
    uint32_t isr_seen; /* interrupt status acknowledged by vnic_irq_ack, for the next poll */
    bool broken;       /* re-initialisation failed: the NIC drops everything */
    char name[8];
};

static struct vnic nics[NETDEV_MAX];
static unsigned nic_count;

static bool vnic_start(struct vnic *n);

static struct vnic *to_vnic(struct netdev *dev)
{
    return dev->priv;
}

static void tx_reap(struct vnic *n)
{
    uint16_t id;
    uint32_t len;
    while (virtq_pop_used(&n->txq, &id, &len)) {
        virtq_put_free(&n->txq, id);
    }
}

static void tx_kick(struct vnic *n)
{
    if (virtq_publish(&n->txq) || n->tx_unkicked) {
        if (virtq_should_notify(&n->txq)) {
            virtio_mmio_notify(&n->mmio, VNET_TXQ);
        }
    }
    n->tx_unkicked = false;
}

static bool vnic_tx(struct netdev *dev, const uint8_t *frame, size_t len)
{
    struct vnic *n = to_vnic(dev);
    if (len < ETH_MIN_FRAME || len > ETH_MAX_FRAME) {
        dev->stats.tx_errors++;
        return false;
    }
    uint16_t id;
    if (n->broken) {
        dev->stats.tx_drops++;
        return false;
    }
    if (!virtq_get_free(&n->txq, &id)) {
        tx_reap(n);
        if (!virtq_get_free(&n->txq, &id)) {
            /* Full even after reaping: let the device drain what is queued, drop this one. */
            tx_kick(n);
            dev->stats.tx_drops++;
            return false;
        }
    }
    uint8_t *buf = n->tx_bufs + (size_t)id * VNET_BUF_SIZE;
    memset(buf, 0, VIRTIO_NET_HDR_LEN);
    memcpy(buf + VIRTIO_NET_HDR_LEN, frame, len);
    virtq_push(&n->txq, id, (uint32_t)(VIRTIO_NET_HDR_LEN + len), false);
    n->tx_unkicked = true;
    dev->stats.tx_frames++;
    dev->stats.tx_bytes += len;
    /* Batch: published and kicked by the next poll; a quarter ring at once keeps it moving. */
    if ((uint16_t)(n->txq.avail_idx - n->txq.published) >= VNET_QUEUE_SIZE / 4) {
        tx_kick(n);
    }
    return true;
}

static void rx_process(struct vnic *n)
{
    struct netdev *dev = &n->dev;
    uint16_t id;
    uint32_t len;
    bool refill = false;
    while (virtq_pop_used(&n->rxq, &id, &len)) {
        const uint8_t *buf = n->rx_bufs + (size_t)id * VNET_BUF_SIZE;
        size_t flen = len > VIRTIO_NET_HDR_LEN ? len - VIRTIO_NET_HDR_LEN : 0;
        if (len > VNET_BUF_SIZE || flen < ETH_MIN_FRAME || flen > ETH_MAX_FRAME) {
            dev->stats.rx_errors++;
        } else if (!dev->rx) {
            dev->stats.rx_drops++;
        } else {
            dev->stats.rx_frames++;
            dev->stats.rx_bytes += flen;
            dev->rx(dev, buf + VIRTIO_NET_HDR_LEN, flen, dev->rx_ctx);
        }
        /* The buffer goes straight back to the device (the callback was its only reader). */
        virtq_push(&n->rxq, id, VNET_BUF_SIZE, true);
        refill = true;
    }
    if (refill && virtq_publish(&n->rxq) && virtq_should_notify(&n->rxq)) {
        virtio_mmio_notify(&n->mmio, VNET_RXQ);
    }
}

static void vnic_recover(struct vnic *n)
{
    n->resets++;
    n->dev.stats.rx_errors++;
    uint16_t lost = virtq_in_flight(&n->txq);
    n->dev.stats.tx_drops += lost;
    log_err("%s: device needs reset (status 0x%x); resetting, %u queued frames dropped",
            n->dev.name, virtio_mmio_status(&n->mmio), lost);
    if (!vnic_start(n)) {
        n->broken = true;
        log_err("%s: re-initialisation failed; the NIC is out of service", n->dev.name);
    }
}

static void vnic_irq_ack(struct netdev *dev)
{
    struct vnic *n = to_vnic(dev);
    if (!n->broken) {
        n->isr_seen |= virtio_mmio_irq_ack(&n->mmio);
    }
}

static void vnic_poll(struct netdev *dev)
{
    struct vnic *n = to_vnic(dev);
    if (n->broken) {
        return;
    }
    uint32_t isr = virtio_mmio_irq_ack(&n->mmio) | n->isr_seen;
    n->isr_seen = 0;
    if ((isr & VIRTIO_MMIO_INT_CONFIG) &&
        (virtio_mmio_status(&n->mmio) & VIRTIO_STATUS_NEEDS_RESET)) {
        netdev_tx_begin(dev);
        vnic_recover(n);
        netdev_tx_end(dev);
        return;
    }
    rx_process(n); /* its callbacks transmit through netdev_tx() */
    netdev_tx_begin(dev);
    tx_reap(n);
    tx_kick(n);
    netdev_tx_end(dev);
}

static bool vnic_link_up(struct netdev *dev)
{
    struct vnic *n = to_vnic(dev);
    if (n->broken) {
        return false;
    }
    if (!(n->features & VIRTIO_NET_F_STATUS)) {
        return true; /* no status field: the link is always up (virtio 1.2, 5.1.4.2) */
    }
    return virtio_mmio_config16(&n->mmio, VIRTIO_NET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
}

static void vnic_tx_flush(struct netdev *dev)
{
    struct vnic *n = to_vnic(dev);
    if (!n->broken) {
        tx_reap(n);
        tx_kick(n);
    }
}

static const struct netdev_ops vnic_ops = {
    .tx = vnic_tx,
    .poll = vnic_poll,
    .link_up = vnic_link_up,
    .tx_flush = vnic_tx_flush,
    .irq_ack = vnic_irq_ack,
};

/* Resets the device and brings it up with fresh rings over the same memory. */
static bool vnic_start(struct vnic *n)
{
    const struct virtio_mmio *d = &n->mmio;
    virtio_mmio_reset(d);
    uint64_t got;
    if (!virtio_mmio_negotiate(d, VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS, VIRTIO_F_VERSION_1,
                               &got)) {
        log_err("%s: virtio-net at 0x%llx refused the features (offered & wanted = 0x%llx; "
                "VERSION_1 is required)",
                n->dev.name, (unsigned long long)hpa_raw(d->base), (unsigned long long)got);
        return false;
    }
    n->features = got;
    if (!virtq_init(&n->rxq, VNET_QUEUE_SIZE, n->rx_ring, hpa_raw(hva_to_hpa(n->rx_bufs)),
                    VNET_BUF_SIZE) ||
        !virtq_init(&n->txq, VNET_QUEUE_SIZE, n->tx_ring, hpa_raw(hva_to_hpa(n->tx_bufs)),
                    VNET_BUF_SIZE) ||
        !virtio_mmio_queue_setup(d, VNET_RXQ, &n->rxq) ||
        !virtio_mmio_queue_setup(d, VNET_TXQ, &n->txq)) {
        log_err("%s: virtio-net at 0x%llx: queue set-up failed (needs %u entries)", n->dev.name,
                (unsigned long long)hpa_raw(d->base), VNET_QUEUE_SIZE);
        virtio_mmio_write(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
        return false;
    }
    /* Transmit completions are reaped by poll; their interrupts would only cost exits. */
    n->txq.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    if (got & VIRTIO_NET_F_MAC) {
        for (unsigned i = 0; i < ETH_ALEN; i++) {
            n->dev.mac[i] = virtio_mmio_config8(d, VIRTIO_NET_CFG_MAC + i);
        }
    } else {
        /* Locally administered, unique per transport. */
        static const uint8_t base[ETH_ALEN] = {0x02, 0x00, 0x00, 0xc0, 0xff, 0x00};
        memcpy(n->dev.mac, base, ETH_ALEN);
        n->dev.mac[5] = (uint8_t)d->index;
    }
    virtio_mmio_driver_ok(d);
    uint16_t id;
    while (virtq_get_free(&n->rxq, &id)) {
        virtq_push(&n->rxq, id, VNET_BUF_SIZE, true);
    }
    virtq_publish(&n->rxq);
    virtio_mmio_notify(d, VNET_RXQ);
    n->tx_unkicked = false;
    n->broken = false;
    return true;
}

static bool vnic_alloc(struct vnic *n)
{
    uint64_t ring = ALIGN_UP(virtq_ring_bytes(VNET_QUEUE_SIZE), PAGE_SIZE);
    uint64_t bufs = (uint64_t)VNET_QUEUE_SIZE * VNET_BUF_SIZE;
    hpa_t rr = page_alloc_contig(ring, PAGE_SIZE);
    hpa_t tr = page_alloc_contig(ring, PAGE_SIZE);
    hpa_t rb = page_alloc_contig(bufs, PAGE_SIZE);
    hpa_t tb = page_alloc_contig(bufs, PAGE_SIZE);
    if (!hpa_raw(rr) || !hpa_raw(tr) || !hpa_raw(rb) || !hpa_raw(tb)) {
        return false;
    }
    n->rx_ring = hpa_to_hva(rr);
    n->tx_ring = hpa_to_hva(tr);
    n->rx_bufs = hpa_to_hva(rb);
    n->tx_bufs = hpa_to_hva(tb);
    return true;
}

static void probe_one(unsigned index)
{
    const struct board_virtio_mmio *v = &board_desc.arch.virtio;
    hpa_t base = hpa(hpa_raw(v->base) + index * v->stride);
    struct virtio_mmio m;
    switch (virtio_mmio_probe(&m, base, v->first_irq + index, index)) {
    case VIRTIO_PROBE_OK:
        break;
    case VIRTIO_PROBE_LEGACY:
        log_err("virtio: device %u at 0x%llx is a legacy (version 1) virtio-mmio device; only "
                "virtio 1.x is supported (QEMU: -global virtio-mmio.force-legacy=false)",
                m.device_id, (unsigned long long)hpa_raw(base));
        return;
    case VIRTIO_PROBE_BAD:
        log_warn("virtio: no virtio-mmio transport at 0x%llx", (unsigned long long)hpa_raw(base));
        return;
    case VIRTIO_PROBE_EMPTY:
    default:
        return;
    }
    if (m.device_id != VIRTIO_ID_NET) {
        log_debug("virtio: device %u at 0x%llx is not a NIC; ignored", m.device_id,
                  (unsigned long long)hpa_raw(base));
        return;
    }
    if (nic_count >= NETDEV_MAX) {
        log_warn("virtio: more than %u NICs; the one at 0x%llx is ignored", NETDEV_MAX,
                 (unsigned long long)hpa_raw(base));
        return;
    }
    struct vnic *n = &nics[nic_count];
    memset(n, 0, sizeof(*n));
    n->mmio = m;
    cv_snprintf(n->name, sizeof(n->name), "net%u", nic_count);
    n->dev.name = n->name;
    n->dev.ops = &vnic_ops;
    n->dev.priv = n;
    n->dev.irq = m.irq;
    if (!vnic_alloc(n)) {
        log_err("%s: out of memory for the virtqueues", n->name);
        return;
    }
    if (!vnic_start(n) || !netdev_register(&n->dev)) {
        return;
    }
    nic_count++;
    cpu_arch_irq_enable(n->dev.irq);
    const uint8_t *a = n->dev.mac;
    log_info("%s: virtio-net at 0x%llx irq %u mac %02x:%02x:%02x:%02x:%02x:%02x link %s", n->name,
             (unsigned long long)hpa_raw(base), n->dev.irq, a[0], a[1], a[2], a[3], a[4], a[5],
             vnic_link_up(&n->dev) ? "up" : "down");
}

unsigned virtio_net_probe_all(void)
{
    /*
     * From the highest transport down: QEMU's virt machine hands the -device options out from
     * the top transport, so this registers NICs in command-line order (docs/networking.md).
     */
    for (unsigned i = board_desc.arch.virtio.count; i-- > 0;) {
        probe_one(i);
    }
    return nic_count;
}

uint64_t virtio_net_resets(const struct netdev *dev)
{
    return dev->ops == &vnic_ops ? ((const struct vnic *)dev->priv)->resets : 0;
}

const struct virtio_mmio *virtio_net_transport(const struct netdev *dev)
{
    return dev->ops == &vnic_ops ? &((const struct vnic *)dev->priv)->mmio : NULL;
}
