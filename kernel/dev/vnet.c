// SPDX-License-Identifier: Apache-2.0
// Emulated virtio-net device (virtio 1.x over MMIO) for the guest; see cv/vnet.h.
#include <string.h>

#include <cv/config.h>
#include <cv/guest_filter.h>
#include <cv/le.h>
#include <cv/log.h>
#include <cv/virtio.h>
#include <cv/vm.h>
#include <cv/vmstate.h>
#include <cv/vnet.h>

#define DEVICE_FEATURES (VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS | VIRTIO_F_VERSION_1)

static void update_irq(struct vnet *n)
{
    bool level = n->isr != 0;
    if (level != n->irq_level) {
        n->irq_level = level;
        vm_arch_irq_set_level(n->vm, n->intid, level);
    }
}

static void needs_reset(struct vnet *n, const char *why)
{
    if (!(n->status & VIRTIO_STATUS_NEEDS_RESET)) {
        log_guest(LOG_WARN, "vnet: guest's virtio ring is malformed (%s); device needs reset", why);
        n->status |= VIRTIO_STATUS_NEEDS_RESET;
        n->resets_needed++;
        n->isr |= VIRTIO_MMIO_INT_CONFIG;
        update_irq(n);
    }
}

static bool running(const struct vnet *n, unsigned qi)
{
    return (n->status & VIRTIO_STATUS_DRIVER_OK) && !(n->status & VIRTIO_STATUS_NEEDS_RESET) &&
           n->q[qi].ready;
}

/* Guest memory access, bounds-checked; writes go through vm_write, which logs them dirty. */
static const void *gmem(struct vnet *n, uint64_t addr, uint64_t len)
{
    return vm_gpa_to_hva(n->vm, gpa(addr), len);
}

static bool gwrite(struct vnet *n, uint64_t addr, const void *src, uint64_t len)
{
    return vm_write(n->vm, gpa(addr), src, len);
}

static bool read_u16(struct vnet *n, uint64_t addr, uint16_t *v)
{
    const void *p = gmem(n, addr, 2);
    if (!p) {
        return false;
    }
    *v = le16_get(p);
    return true;
}

static bool read_desc(struct vnet *n, const struct vnet_queue *q, uint16_t i, struct virtq_desc *d)
{
    const uint8_t *p = gmem(n, q->desc + (uint64_t)i * sizeof(*d), sizeof(*d));
    if (!p) {
        return false;
    }
    d->addr = le64_get(p);
    d->len = le32_get(p + 8);
    d->flags = le16_get(p + 12);
    d->next = le16_get(p + 14);
    return true;
}

/* Number of new avail entries, or -1 if the driver's index is impossible. */
static int avail_pending(struct vnet *n, struct vnet_queue *q)
{
    uint16_t idx;
    if (!read_u16(n, q->avail + 2, &idx)) {
        needs_reset(n, "avail ring outside guest RAM");
        return -1;
    }
    uint16_t pending = (uint16_t)(idx - q->last_avail);
    if (pending > q->num) {
        needs_reset(n, "avail index ran ahead of the queue size");
        return -1;
    }
    return pending;
}

static bool avail_head(struct vnet *n, struct vnet_queue *q, uint16_t *head)
{
    uint16_t slot = (uint16_t)(q->last_avail % q->num);
    if (!read_u16(n, q->avail + 4 + 2ull * slot, head)) {
        needs_reset(n, "avail ring outside guest RAM");
        return false;
    }
    if (*head >= q->num) {
        needs_reset(n, "descriptor index beyond the queue");
        return false;
    }
    return true;
}

static bool push_used(struct vnet *n, struct vnet_queue *q, uint16_t head, uint32_t len)
{
    uint8_t elem[8];
    le32_put(elem, head);
    le32_put(elem + 4, len);
    uint16_t slot = (uint16_t)(q->used_idx % q->num);
    if (!gwrite(n, q->used + 4 + 8ull * slot, elem, sizeof(elem))) {
        needs_reset(n, "used ring outside guest RAM");
        return false;
    }
    q->used_idx++;
    /* The guest runs only after we return, on this CPU: program order suffices. */
    uint8_t idx[2];
    le16_put(idx, q->used_idx);
    if (!gwrite(n, q->used + 2, idx, sizeof(idx))) {
        needs_reset(n, "used ring outside guest RAM");
        return false;
    }
    n->isr |= VIRTIO_MMIO_INT_VRING;
    return true;
}

/*
 * Walks one descriptor chain. want_write selects receive chains (all device-writable) or
 * transmit chains (all device-readable). For transmit, gathers the bytes into txbuf; for
 * receive, scatters hdr+frame. Returns the byte count, or -1 after needs_reset().
 */
static long walk_chain(struct vnet *n, struct vnet_queue *q, uint16_t head, bool want_write,
                       const uint8_t *src, size_t srclen)
{
    uint16_t idx = head;
    size_t total = 0;
    for (uint32_t count = 0;; count++) {
        struct virtq_desc d;
        if (count >= q->num) {
            needs_reset(n, "descriptor chain loops or is longer than the queue");
            return -1;
        }
        if (!read_desc(n, q, idx, &d)) {
            needs_reset(n, "descriptor table outside guest RAM");
            return -1;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            needs_reset(n, "indirect descriptor (feature not offered)");
            return -1;
        }
        if (!!(d.flags & VIRTQ_DESC_F_WRITE) != want_write) {
            needs_reset(n, want_write ? "read-only buffer on the receive queue"
                                      : "device-writable buffer on the transmit queue");
            return -1;
        }
        if (d.len == 0) {
            needs_reset(n, "zero-length descriptor");
            return -1;
        }
        if (!gmem(n, d.addr, d.len)) {
            needs_reset(n, "buffer outside guest RAM");
            return -1;
        }
        if (want_write) {
            /* Without src: measure the chain's capacity. With src: scatter into it. */
            if (!src) {
                total += d.len;
            } else if (total < srclen) {
                size_t chunk = MIN((size_t)d.len, srclen - total);
                gwrite(n, d.addr, src + total, chunk);
                total += chunk;
            }
        } else {
            if (d.len > sizeof(n->txbuf) - total) {
                needs_reset(n, "transmit buffer longer than a frame");
                return -1;
            }
            memcpy(n->txbuf + total, gmem(n, d.addr, d.len), d.len);
            total += d.len;
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT)) {
            break;
        }
        if (d.next >= q->num) {
            needs_reset(n, "next descriptor beyond the queue");
            return -1;
        }
        idx = d.next;
    }
    return (long)total;
}

/* Capacity of a receive chain without writing anything; -1 after needs_reset(). */
static long rx_capacity(struct vnet *n, struct vnet_queue *q, uint16_t head)
{
    return walk_chain(n, q, head, true, NULL, 0);
}

static void process_tx(struct vnet *n)
{
    struct vnet_queue *q = &n->q[1];
    if (!running(n, 1)) {
        return;
    }
    int pending = avail_pending(n, q);
    for (int i = 0; i < pending; i++) {
        if (!net_guest_tx_room(ETH_MAX_FRAME)) {
            /* Output held back (COLO's buffer filter is full): the frame waits in the ring. */
            n->tx_stalls++;
            break;
        }
        uint16_t head;
        if (!avail_head(n, q, &head)) {
            return;
        }
        long len = walk_chain(n, q, head, false, NULL, 0);
        if (len < 0) {
            return;
        }
        q->last_avail++;
        size_t flen = (size_t)len > VNET_HDR_LEN ? (size_t)len - VNET_HDR_LEN : 0;
        const uint8_t *frame = n->txbuf + VNET_HDR_LEN;
        enum guest_filter_verdict why;
        if (flen < ETH_MIN_FRAME) {
            n->stats.tx_errors++; /* a runt: dropped, the ring itself is fine */
        } else if ((why = guest_filter_check(n->mac, config_get(), frame, flen)) !=
                   GUEST_FILTER_PASS) {
            /* Before the pipeline: COLO's output buffer never holds or releases a forgery. */
            n->tx_filtered[why]++;
        } else {
            n->stats.tx_frames++;
            n->stats.tx_bytes += flen;
            net_guest_tx(frame, flen);
        }
        if (!push_used(n, q, head, 0)) {
            return;
        }
    }
    update_irq(n);
}

/* Puts one frame into the guest's next receive buffer; false if none is posted. */
static bool deliver(struct vnet *n, const uint8_t *frame, size_t len)
{
    struct vnet_queue *q = &n->q[0];
    int pending = avail_pending(n, q);
    if (pending <= 0) {
        return false;
    }
    uint16_t head;
    if (!avail_head(n, q, &head)) {
        return false;
    }
    long cap = rx_capacity(n, q, head);
    if (cap < 0) {
        return false;
    }
    q->last_avail++;
    if ((size_t)cap < VNET_HDR_LEN + len) {
        /* Without mergeable buffers the driver must post 1526-byte buffers (5.1.6.3.1). */
        n->stats.rx_errors++;
        push_used(n, q, head, 0);
        return true;
    }
    uint8_t buf[VNET_HDR_LEN + ETH_MAX_FRAME];
    memset(buf, 0, VNET_HDR_LEN);
    le16_put(buf + VIRTIO_NET_HDR_NUM_BUFFERS, 1);
    memcpy(buf + VNET_HDR_LEN, frame, len);
    if (walk_chain(n, q, head, true, buf, VNET_HDR_LEN + len) < 0) {
        return false;
    }
    n->stats.rx_frames++;
    n->stats.rx_bytes += len;
    push_used(n, q, head, (uint32_t)(VNET_HDR_LEN + len));
    if (n->rx_tap) {
        n->rx_tap(n->rx_tap_ctx, frame, len);
    }
    return true;
}

static void flush_pending(struct vnet *n)
{
    while (n->pend_count && running(n, 0)) {
        if (!deliver(n, n->pend[n->pend_head], n->pend_len[n->pend_head])) {
            break;
        }
        n->pend_head = (n->pend_head + 1) % VNET_PENDING;
        n->pend_count--;
    }
    update_irq(n);
}

void vnet_rx(struct vnet *n, const uint8_t *frame, size_t len)
{
    if (len < ETH_MIN_FRAME || len > ETH_MAX_FRAME) {
        n->stats.rx_errors++;
        return;
    }
    if (!running(n, 0)) {
        n->stats.rx_drops++;
        return;
    }
    if (n->vm->state != VM_RUNNING) {
        /*
         * A guest that is not running takes no input: above all a secondary's held replica,
         * whose RAM must change only by checkpoints (its primary's guest gets these frames).
         */
        n->rx_held++;
        if (n->held_tap) {
            n->held_tap(n->rx_tap_ctx, frame, len);
        }
        return;
    }
    if (n->pend_count == 0 && deliver(n, frame, len)) {
        update_irq(n);
        return;
    }
    if (n->pend_count == VNET_PENDING) {
        n->stats.rx_drops++;
        return;
    }
    unsigned slot = (n->pend_head + n->pend_count) % VNET_PENDING;
    memcpy(n->pend[slot], frame, len);
    n->pend_len[slot] = (uint16_t)len;
    n->pend_count++;
    flush_pending(n);
}

static void reset_device(struct vnet *n)
{
    n->status = 0;
    n->dev_features_sel = n->drv_features_sel = 0;
    n->drv_features = 0;
    n->queue_sel = 0;
    memset(n->q, 0, sizeof(n->q));
    n->isr = 0;
    n->pend_count = 0;
    n->pend_head = 0;
    update_irq(n);
}

void vnet_tx_kick(struct vnet *n)
{
    process_tx(n);
}

void vnet_reset(struct vnet *n)
{
    reset_device(n);
}

static void vnet_reset_cb(void *ctx)
{
    reset_device(ctx);
}

/*
 * Frames the guest queued while output was held back (or before a checkpoint that a takeover
 * now resumes) are still in the ring, and a driver with a full ring has stopped its queue: it
 * waits for used entries and never notifies again. So the device looks at both rings itself.
 */
static void vnet_resume_cb(void *ctx)
{
    struct vnet *n = ctx;
    flush_pending(n);
    process_tx(n);
}

void vnet_set_link(struct vnet *n, bool up)
{
    if (up != n->link_up) {
        n->link_up = up;
        n->config_generation++;
        if (n->status & VIRTIO_STATUS_DRIVER_OK) {
            n->isr |= VIRTIO_MMIO_INT_CONFIG;
            update_irq(n);
        }
    }
}

static uint64_t config_read(const struct vnet *n, uint64_t off, unsigned size)
{
    /* mac and status, then zeros for an access (size <= 4) that runs past them */
    uint8_t cfg[8 + 4] = {0};
    memcpy(cfg + VIRTIO_NET_CFG_MAC, n->mac, ETH_ALEN);
    cfg[VIRTIO_NET_CFG_STATUS] = n->link_up ? VIRTIO_NET_S_LINK_UP : 0;
    return off < 8 && size <= 4 ? le_get(cfg + off, size) : 0;
}

enum bus_result vnet_mmio_read(void *ctx, struct bus_access *a)
{
    struct vnet *n = ctx;
    if (a->offset >= VIRTIO_MMIO_CONFIG) {
        if (a->offset - VIRTIO_MMIO_CONFIG + a->size > 0x100 || a->size > 4) {
            return BUS_BAD_ACCESS;
        }
        a->value = config_read(n, a->offset - VIRTIO_MMIO_CONFIG, a->size);
        return BUS_OK;
    }
    if (a->size != 4 || (a->offset & 3)) {
        return BUS_BAD_ACCESS; /* 4.2.2.2: the driver MUST use 32-bit accesses */
    }
    struct vnet_queue *q = n->queue_sel < 2 ? &n->q[n->queue_sel] : NULL;
    if (virtio_mmio_ident_read(a->offset, VIRTIO_ID_NET, &a->value)) {
        return BUS_OK;
    }
    switch (a->offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES:
        a->value =
            n->dev_features_sel < 2 ? (uint32_t)(DEVICE_FEATURES >> (32 * n->dev_features_sel)) : 0;
        break;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        a->value = q ? VNET_QUEUE_MAX : 0;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        a->value = q ? q->ready : 0;
        break;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        a->value = n->isr;
        break;
    case VIRTIO_MMIO_STATUS:
        a->value = n->status;
        break;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        a->value = n->config_generation;
        break;
    default:
        a->value = 0; /* write-only and reserved registers read as zero */
        break;
    }
    return BUS_OK;
}

static bool ring_ok(const struct vm *vm, const struct vnet_queue *q)
{
    uint64_t num = q->num;
    return q->num && (q->num & (q->num - 1)) == 0 && q->num <= VNET_QUEUE_MAX &&
           IS_ALIGNED(q->desc, 16) && IS_ALIGNED(q->avail, 2) && IS_ALIGNED(q->used, 4) &&
           vm_gpa_in_ram(vm, gpa(q->desc), 16 * num) &&
           vm_gpa_in_ram(vm, gpa(q->avail), 6 + 2 * num) &&
           vm_gpa_in_ram(vm, gpa(q->used), 6 + 8 * num);
}

static void set_addr(uint64_t *field, bool hi, uint32_t v)
{
    *field = hi ? (*field & 0xffffffffull) | ((uint64_t)v << 32) : (*field & ~0xffffffffull) | v;
}

static void status_write(struct vnet *n, uint32_t v)
{
    v &= 0xff; /* the status field is one byte wide */
    if (v == 0) {
        reset_device(n);
        return;
    }
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(n->status & VIRTIO_STATUS_FEATURES_OK)) {
        /* The only feature a driver must take is VERSION_1; unknown ones are refused. */
        if (!(n->drv_features & VIRTIO_F_VERSION_1) || (n->drv_features & ~DEVICE_FEATURES)) {
            v &= ~VIRTIO_STATUS_FEATURES_OK;
        }
    }
    n->status = (n->status & VIRTIO_STATUS_NEEDS_RESET) | (v & ~VIRTIO_STATUS_NEEDS_RESET);
    if (v & VIRTIO_STATUS_DRIVER_OK) {
        flush_pending(n);
    }
}

enum bus_result vnet_mmio_write(void *ctx, const struct bus_access *a)
{
    struct vnet *n = ctx;
    if (a->offset >= VIRTIO_MMIO_CONFIG) {
        return a->offset - VIRTIO_MMIO_CONFIG + a->size <= 0x100 ? BUS_OK : BUS_BAD_ACCESS; /* RO */
    }
    if (a->size != 4 || (a->offset & 3)) {
        return BUS_BAD_ACCESS;
    }
    uint32_t v = (uint32_t)a->value;
    struct vnet_queue *q = n->queue_sel < 2 ? &n->q[n->queue_sel] : NULL;
    /* Queue layout may only change while the queue is not live (4.2.3.2). */
    bool q_writable = q && !q->ready;
    switch (a->offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        n->dev_features_sel = v;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (!(n->status & VIRTIO_STATUS_FEATURES_OK) && n->drv_features_sel < 2) {
            unsigned sh = 32 * n->drv_features_sel;
            n->drv_features = (n->drv_features & ~(0xffffffffull << sh)) | ((uint64_t)v << sh);
        }
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        n->drv_features_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        n->queue_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (q_writable) {
            q->num = v;
        }
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (!q) {
            break;
        }
        if (v & 1) {
            if (!ring_ok(n->vm, q)) {
                needs_reset(n, "queue size or ring addresses invalid");
                break;
            }
            q->ready = true;
        } else {
            q->ready = false;
        }
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        if (v == 1) {
            process_tx(n);
        } else if (v == 0) {
            flush_pending(n);
        }
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        n->isr &= ~v;
        update_irq(n);
        break;
    case VIRTIO_MMIO_STATUS:
        status_write(n, v);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if (q_writable) {
            set_addr(&q->desc, a->offset == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
        }
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if (q_writable) {
            set_addr(&q->avail, a->offset == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
        }
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (q_writable) {
            set_addr(&q->used, a->offset == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
        }
        break;
    default:
        break; /* read-only and reserved registers ignore writes */
    }
    return BUS_OK;
}

static const struct bus_ops vnet_ops = {vnet_mmio_read, vnet_mmio_write};

/* ---- state ---- */

#define VNET_STATE_VERSION 1u

static void vnet_save(void *ctx, struct vs_buf *w)
{
    struct vnet *n = ctx;
    vs_put_u32(w, n->status);
    vs_put_u32(w, n->dev_features_sel);
    vs_put_u32(w, n->drv_features_sel);
    vs_put_u64(w, n->drv_features);
    vs_put_u32(w, n->queue_sel);
    vs_put_u32(w, n->isr);
    vs_put_u32(w, n->config_generation);
    for (unsigned i = 0; i < 2; i++) {
        const struct vnet_queue *q = &n->q[i];
        vs_put_u32(w, q->num);
        vs_put_u8(w, q->ready);
        vs_put_u64(w, q->desc);
        vs_put_u64(w, q->avail);
        vs_put_u64(w, q->used);
        vs_put_u32(w, q->last_avail);
        vs_put_u32(w, q->used_idx);
    }
}

static bool vnet_load(void *ctx, struct vs_buf *r, uint32_t version, bool apply)
{
    struct vnet *n = ctx;
    if (version != VNET_STATE_VERSION) {
        return false;
    }
    uint32_t status = vs_get_u32(r);
    uint32_t dfs = vs_get_u32(r), drs = vs_get_u32(r);
    uint64_t drv_features = vs_get_u64(r);
    uint32_t queue_sel = vs_get_u32(r), isr = vs_get_u32(r), gen = vs_get_u32(r);
    struct vnet_queue tq[2];
    for (unsigned i = 0; i < 2; i++) {
        struct vnet_queue *q = &tq[i];
        q->num = vs_get_u32(r);
        uint8_t ready = vs_get_u8(r);
        q->desc = vs_get_u64(r);
        q->avail = vs_get_u64(r);
        q->used = vs_get_u64(r);
        uint32_t la = vs_get_u32(r), ui = vs_get_u32(r);
        if (ready > 1 || la > 0xffff || ui > 0xffff || (ready && !ring_ok(n->vm, q))) {
            return false;
        }
        q->ready = ready;
        q->last_avail = (uint16_t)la;
        q->used_idx = (uint16_t)ui;
    }
    bool features_bad = (status & VIRTIO_STATUS_FEATURES_OK) && (drv_features & ~DEVICE_FEATURES);
    if (r->err || features_bad || (isr & ~3u) || (status & ~0xffu)) {
        return false;
    }
    if (apply) {
        n->status = status;
        n->dev_features_sel = dfs;
        n->drv_features_sel = drs;
        n->drv_features = drv_features;
        n->queue_sel = queue_sel;
        n->isr = isr;
        n->config_generation = gen;
        memcpy(n->q, tq, sizeof(n->q));
        n->pend_count = 0;
        n->irq_level = !n->isr; /* force the line to be driven */
        update_irq(n);
    }
    return true;
}

void vnet_init(struct vnet *n, struct vm *vm, gpa_t base, uint32_t intid,
               const uint8_t mac[ETH_ALEN])
{
    memset(n, 0, sizeof(*n));
    n->vm = vm;
    n->base = base;
    n->intid = intid;
    memcpy(n->mac, mac, ETH_ALEN);
    n->link_up = true;
    n->irq_level = true; /* so that the first update drives the line low */
    update_irq(n);
}

bool vnet_register(struct vnet *n, struct bus *bus)
{
    struct bus_dev dev = {"virtio-net", gpa_raw(n->base), VIRTIO_MMIO_WINDOW, &vnet_ops, n};
    if (!bus_add(bus, &dev)) {
        return false;
    }
    struct vmstate_ops ops = {
        .tag = VS_TAG('V', 'N', 'E', 'T'),
        .version = VNET_STATE_VERSION,
        .save = vnet_save,
        .load = vnet_load,
        .reset = vnet_reset_cb,
        .resume = vnet_resume_cb,
        .ctx = n,
    };
    return !n->vm || vm_register_vmstate(n->vm, &ops);
}
