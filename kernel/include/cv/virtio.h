/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio 1.x as both sides of it are spoken here: the devices the guest sees (kernel/dev/vnet.c,
 * virtio_empty.c) and the drivers for the board's own devices (kernel/drivers/virtio_*.c,
 * virtq.c). The virtio-mmio transport with register layout version 2 ("modern"), split
 * virtqueues and virtio-net. Every multi-byte field in guest or device memory is little-endian
 * (virtio 1.x, 2.4.2). guests/test keeps a copy of its own: it builds without the kernel's headers.
 */
#ifndef CV_VIRTIO_H
#define CV_VIRTIO_H

#include <cv/types.h>

/* ---- virtio-mmio transport (virtio 1.2, 4.2.2) ---- */

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_VERSION_LEGACY 1u
#define VIRTIO_MMIO_VERSION_MODERN 2u
/** Bytes of one transport's register window (the registers, then 0x100 of device config). */
#define VIRTIO_MMIO_WINDOW 0x200u
/** VendorID of the devices the hypervisor emulates. */
#define VIRTIO_VENDOR_COLOVISOR 0x52535643u /* "CVSR" */

/* Register offsets. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

/* InterruptStatus / InterruptACK bits. */
#define VIRTIO_MMIO_INT_VRING BIT(0)
#define VIRTIO_MMIO_INT_CONFIG BIT(1)

/* ---- device status (2.1) ---- */

#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* ---- features (6) ---- */

#define VIRTIO_F_VERSION_1 BIT(32)

/* ---- split virtqueues (2.7) ---- */

#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

/* ---- virtio-net (5.1) ---- */

#define VIRTIO_ID_NET 1u

#define VIRTIO_NET_F_MAC BIT(5)
#define VIRTIO_NET_F_STATUS BIT(16)

/* Device configuration: mac[6] at 0, status le16 at 6. */
#define VIRTIO_NET_CFG_MAC 0
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_S_LINK_UP 1u

/**
 * struct virtio_net_hdr with VERSION_1: flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset, num_buffers (le16 at 10). It precedes every frame on both queues.
 */
#define VIRTIO_NET_HDR_LEN 12u
#define VIRTIO_NET_HDR_NUM_BUFFERS 10u

/**
 * The identification registers every virtio-mmio transport of the guest's answers alike (4.2.2:
 * magic, version, device and vendor ID): true and *value set if off (within the window) is one
 * of them. device_id 0: an empty slot. Pure.
 */
static inline bool virtio_mmio_ident_read(uint64_t off, uint32_t device_id, uint64_t *value)
{
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        *value = VIRTIO_MMIO_MAGIC;
        return true;
    case VIRTIO_MMIO_VERSION:
        *value = VIRTIO_MMIO_VERSION_MODERN;
        return true;
    case VIRTIO_MMIO_DEVICE_ID:
        *value = device_id;
        return true;
    case VIRTIO_MMIO_VENDOR_ID:
        *value = VIRTIO_VENDOR_COLOVISOR;
        return true;
    default:
        return false;
    }
}

#endif
