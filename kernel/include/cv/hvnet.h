/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hypervisor's own IP stack (lwIP, kernel/net/hvnet.c with lwip-port/): one lwIP netif per
 * board NIC it speaks on. The replication NIC (netdevs[0], see docs/networking.md) is lwIP's alone:
 * its received frames go straight to lwIP. The service LAN NIC belongs to the L2 bridge
 * (kernel/dev/vnet.c, kernel/net/net_bridge.c), which hands the hypervisor the frames addressed to
 * the board's service MAC and broadcasts or multicasts through hvnet_service_input(); the service
 * netif transmits directly on the NIC. Addresses come from the board configuration (cv/config.h).
 * Hypervisor context throughout.
 */
#ifndef CV_HVNET_H
#define CV_HVNET_H

#include <cv/net.h>

struct netif;

/** Creates the netifs over the probed NICs and starts lwIP. Boot context, after the probe. */
bool hvnet_init(void);
/** Polls the NICs and runs lwIP's timers. Main loop, every iteration; cheap when idle. */
void hvnet_poll(void);
/** The replication link's netif, NULL without one. */
struct netif *hvnet_repl_netif(void);
/** The service LAN netif, NULL without one. */
struct netif *hvnet_service_netif(void);
/** The replication / service LAN NICs, NULL if absent. */
struct netdev *hvnet_repl_dev(void);
struct netdev *hvnet_service_dev(void);
/** A frame from the service LAN for the hypervisor itself (copied; buffer not kept). */
void hvnet_service_input(const uint8_t *frame, size_t len);

#endif
