/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The test guest's virtio-net driver (virtio-mmio, modern). Everything but vnet_irq runs in
 * thread context (the command loop); vnet_irq runs in the IRQ handler.
 */
#ifndef TESTGUEST_VIRTIO_NET_H
#define TESTGUEST_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest Ethernet frame passed either way: header + 1500, no FCS, no VLAN tag. */
#define VNET_FRAME_MAX 1514u

struct vnet_stats {
    uint64_t rx_frames, rx_bytes, rx_errors;
    uint64_t tx_frames, tx_bytes, tx_errors, tx_drops;
};

typedef void (*vnet_rx_fn)(const uint8_t *frame, size_t len, void *ctx);

/**
 * Boot, after gic_init, IRQs may be on: probes the 32 virtio-mmio slots for a net device,
 * negotiates, sets up the queues and enables its SPI. False if there is none (or it failed).
 */
bool vnet_init(void);
bool vnet_present(void);
const uint8_t *vnet_mac(void);
uint64_t vnet_base(void);
uint32_t vnet_intid(void);
uint16_t vnet_queue_size(bool tx);
/** Reads the link bit (up when VIRTIO_NET_F_STATUS was not offered). */
bool vnet_link_up(void);
/** True once after the device signalled a configuration change. */
bool vnet_link_changed(void);
const struct vnet_stats *vnet_get_stats(void);
uint32_t vnet_irq_count(void);

/** IRQ context: acknowledges the device's interrupt. */
void vnet_irq(void);
/** Any context: received frames or a config change wait to be polled. */
bool vnet_pending(void);
/**
 * Hands up to `budget` received frames to `deliver` (the frame is valid during the call only)
 * and gives their buffers back to the device. Returns how many used entries it consumed.
 */
unsigned vnet_rx_poll(vnet_rx_fn deliver, void *ctx, unsigned budget);
/** Takes back TX buffers the device has finished with. */
void vnet_tx_reap(void);
/**
 * The buffer for the next frame (VNET_FRAME_MAX bytes), or NULL when all are in flight.
 * A non-NULL result must be followed by vnet_tx_send (or nothing: it stays free).
 */
uint8_t *vnet_tx_buf(void);
/** Queues the frame written into vnet_tx_buf()'s buffer. */
void vnet_tx_send(size_t len);
/** Counts a frame the caller had to drop (no buffer, too long). */
void vnet_tx_drop(void);

#endif
