// SPDX-License-Identifier: Apache-2.0
// Source filter on the guest's transmit path; see cv/guest_filter.h. It runs on every frame the
// guest sends, so it looks at fixed offsets only and compares a handful of words.
#include <string.h>

#include <cv/config.h>
#include <cv/guest_filter.h>

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_ARP 0x0806u
#define ETHERTYPE_VLAN 0x8100u
#define ETHERTYPE_QINQ 0x88a8u
#define ETHERTYPE_QINQ_OLD 0x9100u
#define VLAN_TAG_LEN 4u
#define IPV4_MIN_HLEN 20u
#define ARP_IPV4_LEN 28u /* Ethernet/IPv4 ARP: 8 bytes of header, 2 x (6 + 4) addresses */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool board_addr(const struct cv_config *c, uint32_t ip)
{
    if (ip == c->svc_ip.addr || ip == c->peer_svc_ip || ip == c->repl_ip.addr || ip == c->peer_ip) {
        return true;
    }
    for (uint32_t i = 0; i < c->witness.n && i < CV_WITNESS_MAX; i++) {
        if (ip == c->witness.w[i].ip) {
            return true;
        }
    }
    return false;
}

static bool sender_ip_ok(const struct cv_config *c, uint32_t ip)
{
    if (ip == 0) {
        return true; /* unspecified: a DHCP client or an ARP probe (RFC 5227) claims nothing */
    }
    return c->guest_ip ? ip == c->guest_ip : !board_addr(c, ip);
}

enum guest_filter_verdict guest_filter_check(const uint8_t mac[ETH_ALEN], const struct cv_config *c,
                                             const uint8_t *frame, size_t len)
{
    if (len < ETH_HLEN) {
        return GUEST_FILTER_MALFORMED;
    }
    if (memcmp(frame + ETH_ALEN, mac, ETH_ALEN) != 0) {
        return GUEST_FILTER_MAC;
    }
    size_t off = ETH_HLEN;
    uint16_t type = be16(frame + 12);
    if (type == ETHERTYPE_VLAN) {
        /* A tag must not hide the frame from the checks below: look at what it carries. */
        if (len < ETH_HLEN + VLAN_TAG_LEN) {
            return GUEST_FILTER_MALFORMED;
        }
        type = be16(frame + 16);
        off += VLAN_TAG_LEN;
    }
    if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
        /* Stacked tags have no use on a guest's access port; unwrapping them all is not worth
         * a loop on every frame. */
        return GUEST_FILTER_VLAN;
    }
    const uint8_t *p = frame + off;
    size_t plen = len - off;
    switch (type) {
    case ETHERTYPE_IPV4: {
        size_t ihl = (size_t)(p[0] & 0xf) * 4;
        if (plen < IPV4_MIN_HLEN || p[0] >> 4 != 4 || ihl < IPV4_MIN_HLEN || ihl > plen) {
            return GUEST_FILTER_MALFORMED;
        }
        return sender_ip_ok(c, be32(p + 12)) ? GUEST_FILTER_PASS : GUEST_FILTER_IP;
    }
    case ETHERTYPE_ARP:
        /* Only Ethernet/IPv4 ARP has a meaning here; other sizes would move the sender fields
         * out from under the checks. */
        if (plen < ARP_IPV4_LEN || be16(p + 2) != ETHERTYPE_IPV4 || p[4] != ETH_ALEN || p[5] != 4) {
            return GUEST_FILTER_MALFORMED;
        }
        if (memcmp(p + 8, mac, ETH_ALEN) != 0) {
            return GUEST_FILTER_ARP_MAC;
        }
        return sender_ip_ok(c, be32(p + 14)) ? GUEST_FILTER_PASS : GUEST_FILTER_ARP_IP;
    default:
        return GUEST_FILTER_PASS;
    }
}

const char *guest_filter_reason_name(enum guest_filter_verdict v)
{
    static const char *const names[GUEST_FILTER_REASONS] = {
        [GUEST_FILTER_PASS] = "pass",
        [GUEST_FILTER_MAC] = "mac",
        [GUEST_FILTER_IP] = "ip",
        [GUEST_FILTER_ARP_MAC] = "arp_mac",
        [GUEST_FILTER_ARP_IP] = "arp_ip",
        [GUEST_FILTER_VLAN] = "vlan",
        [GUEST_FILTER_MALFORMED] = "malformed",
    };
    return (unsigned)v < GUEST_FILTER_REASONS ? names[v] : "?";
}
