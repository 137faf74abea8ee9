// SPDX-License-Identifier: Apache-2.0
// virtio-mmio transport, modern (register layout version 2). The only code that touches a
// virtio device's registers; the rings are in virtq.c.
#include <string.h>

#include <cv/virtio_mmio.h>

#include <arch/io.h>

/* ---- transport ---- */

uint32_t virtio_mmio_read(const struct virtio_mmio *d, unsigned off)
{
    return *(volatile uint32_t *)(d->regs + off);
}

void virtio_mmio_write(const struct virtio_mmio *d, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(d->regs + off) = v;
}

uint8_t virtio_mmio_config8(const struct virtio_mmio *d, unsigned off)
{
    return *(volatile uint8_t *)(d->regs + VIRTIO_MMIO_CONFIG + off);
}

uint16_t virtio_mmio_config16(const struct virtio_mmio *d, unsigned off)
{
    return *(volatile uint16_t *)(d->regs + VIRTIO_MMIO_CONFIG + off);
}

enum virtio_probe virtio_mmio_probe(struct virtio_mmio *d, hpa_t base, uint32_t irq, unsigned index)
{
    memset(d, 0, sizeof(*d));
    d->regs = (volatile uint8_t *)(uintptr_t)hpa_raw(base);
    d->base = base;
    d->irq = irq;
    d->index = index;
    if (virtio_mmio_read(d, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC) {
        return VIRTIO_PROBE_BAD;
    }
    d->device_id = virtio_mmio_read(d, VIRTIO_MMIO_DEVICE_ID);
    if (d->device_id == 0) {
        return VIRTIO_PROBE_EMPTY;
    }
    switch (virtio_mmio_read(d, VIRTIO_MMIO_VERSION)) {
    case VIRTIO_MMIO_VERSION_MODERN:
        return VIRTIO_PROBE_OK;
    case VIRTIO_MMIO_VERSION_LEGACY:
        return VIRTIO_PROBE_LEGACY;
    default:
        return VIRTIO_PROBE_BAD;
    }
}

void virtio_mmio_reset(const struct virtio_mmio *d)
{
    virtio_mmio_write(d, VIRTIO_MMIO_STATUS, 0);
    for (unsigned i = 0; i < 1000000 && virtio_mmio_read(d, VIRTIO_MMIO_STATUS) != 0; i++) {
    }
}

static void set_status(const struct virtio_mmio *d, uint32_t bits)
{
    virtio_mmio_write(d, VIRTIO_MMIO_STATUS, virtio_mmio_read(d, VIRTIO_MMIO_STATUS) | bits);
}

bool virtio_mmio_negotiate(const struct virtio_mmio *d, uint64_t wanted, uint64_t required,
                           uint64_t *got)
{
    set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
    set_status(d, VIRTIO_STATUS_DRIVER);
    uint64_t offered = 0;
    for (uint32_t sel = 0; sel < 2; sel++) {
        virtio_mmio_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
        offered |= (uint64_t)virtio_mmio_read(d, VIRTIO_MMIO_DEVICE_FEATURES) << (32 * sel);
    }
    uint64_t accept = offered & (wanted | required);
    *got = accept;
    if ((accept & required) != required) {
        set_status(d, VIRTIO_STATUS_FAILED);
        return false;
    }
    for (uint32_t sel = 0; sel < 2; sel++) {
        virtio_mmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
        virtio_mmio_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(accept >> (32 * sel)));
    }
    set_status(d, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_mmio_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
        set_status(d, VIRTIO_STATUS_FAILED);
        return false;
    }
    return true;
}

bool virtio_mmio_queue_setup(const struct virtio_mmio *d, unsigned q, const struct virtq *vq)
{
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_SEL, q);
    if (virtio_mmio_read(d, VIRTIO_MMIO_QUEUE_READY) != 0) {
        return false;
    }
    uint32_t max = virtio_mmio_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max < vq->size) {
        return false;
    }
    uint64_t desc = (uint64_t)(uintptr_t)vq->desc;
    uint64_t avail = (uint64_t)(uintptr_t)vq->avail;
    uint64_t used = (uint64_t)(uintptr_t)vq->used;
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_NUM, vq->size);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
    return true;
}

void virtio_mmio_driver_ok(const struct virtio_mmio *d)
{
    set_status(d, VIRTIO_STATUS_DRIVER_OK);
}

void virtio_mmio_notify(const struct virtio_mmio *d, unsigned q)
{
    /* Ring memory writes complete before the device sees the doorbell (a Device write). */
    io_arch_wmb();
    virtio_mmio_write(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

uint32_t virtio_mmio_irq_ack(const struct virtio_mmio *d)
{
    uint32_t isr = virtio_mmio_read(d, VIRTIO_MMIO_INTERRUPT_STATUS);
    if (isr) {
        virtio_mmio_write(d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
    }
    return isr;
}

uint32_t virtio_mmio_status(const struct virtio_mmio *d)
{
    return virtio_mmio_read(d, VIRTIO_MMIO_STATUS);
}
