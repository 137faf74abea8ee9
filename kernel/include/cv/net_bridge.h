/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's NIC bridged to the board's service LAN NIC (kernel/net/net_bridge.c). */
#ifndef CV_NET_BRIDGE_H
#define CV_NET_BRIDGE_H

#include <cv/types.h>

struct vnet;

struct net_bridge_stats {
    uint64_t to_lan;       /**< guest frames sent on the service LAN */
    uint64_t to_lan_drops; /**< ... dropped (no NIC or its ring full) */
    uint64_t to_guest;     /**< LAN frames handed to the guest's NIC */
    uint64_t not_ours;     /**< LAN frames for neither the guest nor the board */
};

/** Attaches the guest's NIC to the service LAN NIC (after hvnet_init). Boot context. */
void net_bridge_init(struct vnet *guest);
/** Mirrors the service NIC's link state into the guest's NIC. Main loop. */
void net_bridge_poll_link(void);
const struct net_bridge_stats *net_bridge_stats(void);
/** The guest's NIC attached to the bridge, or NULL. */
const struct vnet *net_bridge_guest_nic(void);

/**
 * Announces that mac (with IPv4 ip, host order) is now reached through this board's service
 * port: a gratuitous ARP (unless ip is 0: no guest address configured) and a RARP, broadcast.
 * After a takeover. Hypervisor context.
 */
void net_announce(const uint8_t mac[6], uint32_t ip);

#endif
