/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heartbeat datagrams on both paths between the boards: UDP on the replication link's netif
 * (path 0) and on the service LAN's netif (path 1), independent of the checkpoint stream's TCP
 * connection so that a long checkpoint queued in TCP never delays them. The datagrams' format
 * and the liveness rules are colo/include/colo/hb.h's; this only moves bytes. Witness requests
 * and replies (colo/include/colo/witness.h) go through a socket of their own on the service LAN.
 */
#ifndef CV_COLO_HB_LINK_H
#define CV_COLO_HB_LINK_H

#include <cv/types.h>

#define COLO_HB_PATHS 2u

/** Called for every datagram received on the heartbeat port of path 0 or 1. */
typedef void (*colo_hb_link_rx_fn)(void *ctx, unsigned path, const void *data, size_t len);

/**
 * Binds the heartbeat port on each path whose netif exists. False (logged) if none could be
 * bound. Boot context, after hvnet_init().
 */
bool colo_hb_link_init(uint16_t port, colo_hb_link_rx_fn rx, void *ctx);
/** Sends one datagram on path to ip:port (host byte order). Hypervisor context. */
bool colo_hb_link_send(unsigned path, uint32_t ip, uint16_t port, const void *data, size_t len);
/** True if path has a bound socket (its NIC exists). Any context. */
bool colo_hb_link_has_path(unsigned path);
/** The longest datagram colo_hb_link_resend() keeps (a heartbeat). */
#define COLO_HB_LINK_MAX 128u
/** Turns a kept datagram (len bytes, in place) into the one to send again; false: skip it. */
typedef bool (*colo_hb_link_again_fn)(void *payload, size_t len);
/**
 * Sends once more the datagrams the last colo_hb_link_send() sent on each path, each first
 * passed through again() (kept for this with their addresses, framed by hand: lwIP may be what
 * was preempted). Paths whose peer address was not yet resolved are skipped. Returns the number
 * of frames sent. Any context, the urgent interrupt's above all (netdev_tx_urgent); not
 * reentrant (the interrupt is its only caller).
 */
unsigned colo_hb_link_resend(colo_hb_link_again_fn again);

/** Called for every datagram that reaches the witness socket, with its source (host order). */
typedef void (*colo_hb_link_witness_rx_fn)(void *ctx, uint32_t ip, uint16_t port, const void *data,
                                           size_t len);
/**
 * Opens the socket witness requests leave from: an ephemeral UDP port on the service netif (the
 * witnesses live on the service LAN). False (logged) without one. Boot context, after
 * hvnet_init().
 */
bool colo_hb_link_witness_init(colo_hb_link_witness_rx_fn rx, void *ctx);
/** Sends one witness request to ip:port (host byte order). Hypervisor context. */
bool colo_hb_link_witness_send(uint32_t ip, uint16_t port, const void *data, size_t len);

#endif
