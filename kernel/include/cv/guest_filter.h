/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest may only send as itself: every frame it transmits must carry its own NIC's MAC as
 * the Ethernet source and, for IPv4 and ARP, its own address as the sender. Otherwise a guest
 * could forge the boards' heartbeats or ARP-spoof the boards and the witnesses on the service
 * LAN, which the pair's decisions trust. The guest's NIC (kernel/dev/vnet.c) asks before a
 * frame enters the output pipeline, and counts what it drops by reason.
 */
#ifndef CV_GUEST_FILTER_H
#define CV_GUEST_FILTER_H

#include <cv/net.h>
#include <cv/types.h>

struct cv_config;

/** Why a frame was refused; the values index struct vnet's tx_filtered[] counters. */
enum guest_filter_verdict {
    GUEST_FILTER_PASS,
    GUEST_FILTER_MAC,       /**< Ethernet source is not the guest NIC's MAC */
    GUEST_FILTER_IP,        /**< IPv4 source address is not the guest's */
    GUEST_FILTER_ARP_MAC,   /**< ARP sender hardware address is not the guest NIC's MAC */
    GUEST_FILTER_ARP_IP,    /**< ARP sender protocol address is not the guest's */
    GUEST_FILTER_VLAN,      /**< stacked VLAN tags, or an 802.1ad / 0x9100 service tag */
    GUEST_FILTER_MALFORMED, /**< too short for the header its ethertype claims, or a bad one */
    GUEST_FILTER_REASONS,
};

/**
 * Decides whether the guest may send frame (len bytes, from its Ethernet header on) from the
 * NIC with MAC mac under configuration c. The sender IP must be c->guest_ip; with no guest
 * address configured (0, `cv.guest_ip=none`) any sender IP passes except the boards' and the
 * witnesses' own (c's svc_ip, peer_svc_ip, repl_ip, peer_ip, witness). 0.0.0.0 always passes:
 * it claims nobody's address and DHCP and ARP probes need it. One 802.1Q tag is looked
 * through. Pure; any context; reads at most the first 14 + 4 + 28 bytes.
 */
enum guest_filter_verdict guest_filter_check(const uint8_t mac[ETH_ALEN], const struct cv_config *c,
                                             const uint8_t *frame, size_t len);

/** The reason's name in status fields (`tx_filter_<name>`): "mac", "ip", ... */
const char *guest_filter_reason_name(enum guest_filter_verdict v);

#endif
