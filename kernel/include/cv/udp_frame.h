/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One IPv4/UDP datagram as a whole Ethernet frame, for the senders that must not go through
 * lwIP: the urgent heartbeats (kernel/colo/colo_hb_link.c), sent from an interrupt that may
 * have preempted lwIP itself. Pure computation: any context.
 */
#ifndef CV_UDP_FRAME_H
#define CV_UDP_FRAME_H

#include <cv/net.h>

struct udp_frame_addr {
    uint8_t src_mac[ETH_ALEN], dst_mac[ETH_ALEN];
    uint32_t src_ip, dst_ip; /**< host byte order */
    uint16_t src_port, dst_port;
    uint8_t ttl;
    uint16_t ip_id;
};

#define UDP_FRAME_HDR (ETH_HLEN + 20u + 8u)

/**
 * Writes the frame carrying payload[0..len) into out (cap bytes): Ethernet, IPv4 (no options,
 * DF, header checksum) and UDP (with its checksum). Returns its length, or 0 if it does not fit
 * in cap or in one Ethernet frame.
 */
size_t udp_frame_build(uint8_t *out, size_t cap, const struct udp_frame_addr *a,
                       const void *payload, size_t len);

#endif
