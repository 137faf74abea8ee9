// SPDX-License-Identifier: Apache-2.0
// IPv4/UDP frames built by hand (cv/udp_frame.h). RFC 791 header, RFC 768 checksum over the
// pseudo-header; big-endian on the wire.
#include <string.h>

#include <cv/udp_frame.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* One's-complement sum of big-endian 16-bit words, continuing sum. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

size_t udp_frame_build(uint8_t *out, size_t cap, const struct udp_frame_addr *a,
                       const void *payload, size_t len)
{
    size_t total = UDP_FRAME_HDR + len;
    if (total > cap || total > ETH_MAX_FRAME) {
        return 0;
    }
    uint8_t *eth = out, *ip = out + ETH_HLEN, *udp = ip + 20;
    memcpy(eth, a->dst_mac, ETH_ALEN);
    memcpy(eth + 6, a->src_mac, ETH_ALEN);
    put16(eth + 12, 0x0800);
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, (uint16_t)(20 + 8 + len));
    put16(ip + 4, a->ip_id);
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = a->ttl;
    ip[9] = 17;
    put16(ip + 10, 0);
    put32(ip + 12, a->src_ip);
    put32(ip + 16, a->dst_ip);
    put16(ip + 10, fold(sum16(0, ip, 20)));
    put16(udp, a->src_port);
    put16(udp + 2, a->dst_port);
    put16(udp + 4, (uint16_t)(8 + len));
    put16(udp + 6, 0);
    memcpy(udp + 8, payload, len);
    uint8_t pseudo[12];
    put32(pseudo, a->src_ip);
    put32(pseudo + 4, a->dst_ip);
    pseudo[8] = 0;
    pseudo[9] = 17;
    put16(pseudo + 10, (uint16_t)(8 + len));
    uint16_t c = fold(sum16(sum16(0, pseudo, sizeof(pseudo)), udp, 8 + len));
    put16(udp + 6, c ? c : 0xffff); /* 0 means "no checksum" (RFC 768) */
    return total;
}
