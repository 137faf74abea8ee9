// SPDX-License-Identifier: Apache-2.0
// Split-virtqueue bookkeeping (driver side). Memory only, no device registers, so the host unit
// tests (tests/unit/test_virtio_net.c) drive it with a fake device.
#include <string.h>

#include <cv/virtio_mmio.h>

/*
 * Ordering between our ring writes and the device's reads (and the reverse). The device is
 * cache-coherent (virtio's weak barriers): an inner-shareable dmb suffices between memory
 * accesses (the compiler emits `dmb ish` for a sequentially consistent fence on arm64).
 */
static inline void ring_mb(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

size_t virtq_ring_bytes(uint16_t size)
{
    size_t desc = 16u * size;
    size_t avail = ALIGN_UP(4u + 2u * size + 2u, 4u); /* flags, idx, ring, used_event */
    size_t used = 4u + 8u * size + 2u;                /* flags, idx, ring, avail_event */
    return ALIGN_UP(desc + avail, 4u) + ALIGN_UP(used, 16u);
}

bool virtq_init(struct virtq *vq, uint16_t size, void *ring, uint64_t buf_pa, uint32_t buf_size)
{
    if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) != 0) {
        return false;
    }
    memset(vq, 0, sizeof(*vq));
    memset(ring, 0, virtq_ring_bytes(size));
    uint8_t *p = ring;
    vq->size = size;
    vq->desc = (struct virtq_desc *)p;
    vq->avail = (struct virtq_avail *)(p + 16u * size);
    vq->used =
        (struct virtq_used *)(p + ALIGN_UP(16u * size + ALIGN_UP(4u + 2u * size + 2u, 4u), 4u));
    for (uint16_t i = 0; i < size; i++) {
        vq->desc[i].addr = buf_pa + (uint64_t)i * buf_size;
        vq->desc[i].len = buf_size;
    }
    /* Stack of free ids, lowest on top (tests and traces read easier). */
    for (uint16_t i = 0; i < size; i++) {
        vq->free_ids[i] = (uint16_t)(size - 1 - i);
    }
    vq->num_free = size;
    return true;
}

bool virtq_get_free(struct virtq *vq, uint16_t *id)
{
    if (vq->num_free == 0) {
        return false;
    }
    *id = vq->free_ids[--vq->num_free];
    return true;
}

void virtq_put_free(struct virtq *vq, uint16_t id)
{
    if (id < vq->size && vq->num_free < vq->size) {
        vq->free_ids[vq->num_free++] = id;
    }
}

void virtq_push(struct virtq *vq, uint16_t id, uint32_t len, bool device_writes)
{
    struct virtq_desc *d = &vq->desc[id];
    d->len = len;
    d->flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
    d->next = 0;
    vq->avail->ring[vq->avail_idx & (vq->size - 1)] = id;
    vq->avail_idx++;
}

bool virtq_publish(struct virtq *vq)
{
    if (vq->avail_idx == vq->published) {
        return false;
    }
    ring_mb(); /* descriptors and ring entries before the index that exposes them */
    __atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
    vq->published = vq->avail_idx;
    ring_mb(); /* the index before we read used->flags (notification suppression) */
    return true;
}

bool virtq_should_notify(const struct virtq *vq)
{
    return !(__atomic_load_n(&vq->used->flags, __ATOMIC_ACQUIRE) & VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_pop_used(struct virtq *vq, uint16_t *id, uint32_t *len)
{
    for (;;) {
        uint16_t idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
        if (idx == vq->last_used) {
            return false;
        }
        ring_mb(); /* the index before the entry it covers */
        const struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->size - 1)];
        uint32_t eid = e->id;
        uint32_t elen = e->len;
        vq->last_used++;
        if (eid >= vq->size) {
            vq->bad_used++;
            continue;
        }
        *id = (uint16_t)eid;
        *len = elen;
        return true;
    }
}

uint16_t virtq_in_flight(const struct virtq *vq)
{
    return (uint16_t)(vq->published - vq->last_used);
}
