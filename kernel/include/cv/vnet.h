/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's NIC: an emulated virtio-net device on a virtio-mmio (version 2, "modern")
 * transport, so an unmodified Linux virtio_net driver binds to it. It reads descriptors from
 * guest memory and trusts none of them: a malformed ring marks the device DEVICE_NEEDS_RESET
 * (virtio 1.x, 2.1.2) with a log line, and the hypervisor carries on. Frames the guest sends go
 * through the source filter (cv/guest_filter.h), then the net pipeline (cv/net.h); frames for
 * the guest arrive from the L2 bridge.
 * Hypervisor context only.
 */
#ifndef CV_VNET_H
#define CV_VNET_H

#include <cv/bus.h>
#include <cv/guest_filter.h>
#include <cv/net.h>
#include <cv/types.h>
#include <cv/virtio.h>

struct vm;

#define VNET_QUEUE_MAX 256u
#define VNET_PENDING 32u
#define VNET_HDR_LEN VIRTIO_NET_HDR_LEN

struct vnet_queue {
    uint32_t num;
    bool ready;
    uint64_t desc, avail, used; /* guest-physical */
    uint16_t last_avail;
    uint16_t used_idx;
};

struct vnet {
    struct vm *vm;
    gpa_t base;
    uint32_t intid;
    uint8_t mac[ETH_ALEN];
    bool link_up;
    uint32_t status;
    uint32_t dev_features_sel, drv_features_sel;
    uint64_t drv_features;
    uint32_t queue_sel;
    struct vnet_queue q[2]; /* 0: receiveq1, 1: transmitq1 */
    uint32_t isr;
    uint32_t config_generation;
    bool irq_level;
    struct net_stats stats; /* rx = towards the guest, tx = from the guest */
    uint64_t resets_needed; /* times a malformed ring forced DEVICE_NEEDS_RESET */
    uint64_t rx_held;       /**< frames dropped because the guest was not running (held replica) */
    uint64_t tx_stalls;     /**< times transmission waited for room in the output pipeline */
    /** Frames dropped because the guest sent as someone else, by reason (cv/guest_filter.h). */
    uint64_t tx_filtered[GUEST_FILTER_REASONS];
    /* Frames for the guest that arrived while it had no receive buffer posted. */
    uint8_t pend[VNET_PENDING][ETH_MAX_FRAME];
    uint16_t pend_len[VNET_PENDING];
    unsigned pend_head, pend_count;
    uint8_t txbuf[VNET_HDR_LEN + ETH_MAX_FRAME];
    /** Sees every frame once it is in the guest's RAM (the COLO input log); NULL: none. */
    void (*rx_tap)(void *ctx, const uint8_t *frame, size_t len);
    /** Sees every frame that arrived while the guest was not running (rx_held). */
    void (*held_tap)(void *ctx, const uint8_t *frame, size_t len);
    void *rx_tap_ctx;
};

void vnet_init(struct vnet *n, struct vm *vm, gpa_t base, uint32_t intid,
               const uint8_t mac[ETH_ALEN]);
/** Registers the MMIO window and the state section ("VNET"). Boot context. */
bool vnet_register(struct vnet *n, struct bus *bus);
/** Delivers one frame to the guest (queued briefly if it has no buffer posted). */
void vnet_rx(struct vnet *n, const uint8_t *frame, size_t len);
/** Reflects the service LAN's link state in the device's status field. */
void vnet_set_link(struct vnet *n, bool up);
/** Processes transmit descriptors left waiting for room in the pipeline. Hypervisor context. */
void vnet_tx_kick(struct vnet *n);
/** Guest reset (PSCI SYSTEM_RESET): back to the power-on state. */
void vnet_reset(struct vnet *n);

/* Exposed for the host tests and the fuzzer. */
enum bus_result vnet_mmio_read(void *ctx, struct bus_access *a);
enum bus_result vnet_mmio_write(void *ctx, const struct bus_access *a);

#endif
