/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The driver side of the virtio-mmio transport (virtio 1.x, "modern", register layout version 2)
 * and of split virtqueues (the definitions are cv/virtio.h), for the board devices the hypervisor
 * drives itself (virtio-net today). Legacy transports (version 1) are refused: on QEMU start it
 * with `-global virtio-mmio.force-legacy=false`.
 *
 * The virtqueue bookkeeping (struct virtq, virtq_*) is plain memory work with no device access,
 * so host unit tests run it against a fake device. Rings live in hypervisor memory, which is
 * identity mapped: the addresses given to the device are the pointers' host-physical values.
 * Everything here runs in hypervisor context (or boot context for set-up).
 */
#ifndef CV_VIRTIO_MMIO_H
#define CV_VIRTIO_MMIO_H

#include <cv/types.h>
#include <cv/virtio.h>

/* ---- split virtqueue, driver side ---- */

#define VIRTQ_MAX_SIZE 256u

/*
 * Driver side of one split virtqueue whose descriptors each own one fixed buffer (no chains):
 * descriptor i always points at buffer i, so a buffer id is a descriptor index. Free ids are a
 * stack, so a queue may be partly in flight.
 */
struct virtq {
    uint16_t size; /**< entries, power of two, <= VIRTQ_MAX_SIZE */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t avail_idx; /**< next avail->idx to publish (shadow) */
    uint16_t published; /**< avail->idx last published */
    uint16_t last_used; /**< next used->idx entry to consume */
    uint16_t num_free;
    uint16_t free_ids[VIRTQ_MAX_SIZE];
    uint64_t bad_used; /**< used entries with an out-of-range id (device bug), ignored */
};

/** Bytes of ring memory for a queue of size entries (descriptor table, avail, used). */
size_t virtq_ring_bytes(uint16_t size);
/**
 * Lays a queue out in ring memory (zeroed, 16-byte aligned, virtq_ring_bytes long) and points
 * descriptor i at buf_pa + i * buf_size with length buf_size. False if size is not a power of
 * two in 1..VIRTQ_MAX_SIZE.
 */
bool virtq_init(struct virtq *vq, uint16_t size, void *ring, uint64_t buf_pa, uint32_t buf_size);
/** Takes a free buffer id; false if every buffer is in flight. */
bool virtq_get_free(struct virtq *vq, uint16_t *id);
/** Returns a buffer id to the free stack (after its used entry was consumed). */
void virtq_put_free(struct virtq *vq, uint16_t id);
/**
 * Offers buffer id to the device with len bytes (device_writes: a receive buffer). Not visible
 * to the device until virtq_publish().
 */
void virtq_push(struct virtq *vq, uint16_t id, uint32_t len, bool device_writes);
/** Makes pushed buffers visible (barrier, then avail->idx). True if anything was new. */
bool virtq_publish(struct virtq *vq);
/** True unless the device asked not to be notified (VIRTQ_USED_F_NO_NOTIFY). After publish. */
bool virtq_should_notify(const struct virtq *vq);
/** Takes the next used entry; false if the device has returned nothing new. */
bool virtq_pop_used(struct virtq *vq, uint16_t *id, uint32_t *len);
/** Buffers currently owned by the device (pushed, not yet popped). */
uint16_t virtq_in_flight(const struct virtq *vq);

/* ---- transport ---- */

struct virtio_mmio {
    volatile uint8_t *regs;
    hpa_t base;
    uint32_t irq;       /**< physical INTID */
    unsigned index;     /**< transport number on the board */
    uint32_t device_id; /**< VIRTIO_ID_*, 0 for an empty slot */
};

enum virtio_probe {
    VIRTIO_PROBE_EMPTY,  /**< no device behind the transport */
    VIRTIO_PROBE_OK,     /**< a modern device; d->device_id says which */
    VIRTIO_PROBE_LEGACY, /**< a legacy (version 1) device: refused */
    VIRTIO_PROBE_BAD,    /**< no virtio-mmio magic / unknown version */
};

/** Reads the identification registers of transport index. Boot context. */
enum virtio_probe virtio_mmio_probe(struct virtio_mmio *d, hpa_t base, uint32_t irq,
                                    unsigned index);
uint32_t virtio_mmio_read(const struct virtio_mmio *d, unsigned off);
void virtio_mmio_write(const struct virtio_mmio *d, unsigned off, uint32_t v);
uint8_t virtio_mmio_config8(const struct virtio_mmio *d, unsigned off);
uint16_t virtio_mmio_config16(const struct virtio_mmio *d, unsigned off);
/** Resets the device (status 0) and waits until it reads back 0. */
void virtio_mmio_reset(const struct virtio_mmio *d);
/**
 * ACKNOWLEDGE, DRIVER, then features: accepts (offered & wanted); fails (and sets FAILED) if
 * any of required is missing or the device refuses FEATURES_OK. *got: what was accepted.
 */
bool virtio_mmio_negotiate(const struct virtio_mmio *d, uint64_t wanted, uint64_t required,
                           uint64_t *got);
/** Gives queue q to the device (QueueNum = vq->size, addresses, QueueReady). */
bool virtio_mmio_queue_setup(const struct virtio_mmio *d, unsigned q, const struct virtq *vq);
/** Completes initialisation (DRIVER_OK). */
void virtio_mmio_driver_ok(const struct virtio_mmio *d);
/** Notifies queue q (with the barrier that orders ring writes before it). */
void virtio_mmio_notify(const struct virtio_mmio *d, unsigned q);
/** Reads and acknowledges InterruptStatus; returns the bits that were set. */
uint32_t virtio_mmio_irq_ack(const struct virtio_mmio *d);
/** Device status register. */
uint32_t virtio_mmio_status(const struct virtio_mmio *d);

/* ---- virtio-net (kernel/drivers/virtio_net.c) ---- */

struct netdev;

/**
 * Probes every virtio-mmio transport of the board, brings up each modern virtio-net device and
 * registers it as a netdev. Needs the page pool. Returns how many NICs were registered. Order:
 * see docs/networking.md (QEMU fills transports from the top, so NICs are registered from the
 * highest transport down, which is the order of the -device options). Boot context.
 */
unsigned virtio_net_probe_all(void);
/** Device resets done after DEVICE_NEEDS_RESET, for `net`. */
uint64_t virtio_net_resets(const struct netdev *dev);
/** The transport a NIC sits on (for `net`); NULL if dev is not a virtio-net NIC. */
const struct virtio_mmio *virtio_net_transport(const struct netdev *dev);

#endif
