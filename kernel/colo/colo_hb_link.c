// SPDX-License-Identifier: Apache-2.0
// UDP heartbeats on the replication and service netifs, and witness requests on the service
// netif (cv/colo_hb_link.h).
#include <string.h>

#include <cv/colo_hb_link.h>
#include <cv/hv.h>
#include <cv/hvnet.h>
#include <cv/log.h>
#include <cv/udp_frame.h>

#include "lwip/etharp.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

static struct {
    struct udp_pcb *pcb[COLO_HB_PATHS];
    colo_hb_link_rx_fn rx;
    void *ctx;
    struct udp_pcb *wpcb; /* witness requests: an ephemeral port on the service netif */
    colo_hb_link_witness_rx_fn wrx;
    void *wctx;
    struct netif *nif[COLO_HB_PATHS];
    /* the last heartbeat sent on each path, its frame's addresses and its payload, for
     * colo_hb_link_resend() (which turns the payload into its next copy and frames it) */
    struct udp_frame_addr again_addr[COLO_HB_PATHS];
    uint8_t again[COLO_HB_PATHS][COLO_HB_LINK_MAX];
    uint16_t again_len[COLO_HB_PATHS]; /* 0: none */
    uint8_t frame[ETH_MAX_FRAME];
    uint16_t ip_id;
} hb;

static bool send_on(struct udp_pcb *pcb, uint32_t ip, uint16_t port, const void *data, size_t len)
{
    if (len > 0xffff) {
        return false;
    }
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p) {
        return false;
    }
    pbuf_take(p, data, (u16_t)len);
    ip_addr_t a;
    IP_ADDR4(&a, ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    err_t e = udp_sendto(pcb, p, &a, port);
    pbuf_free(p);
    return e == ERR_OK;
}

/* Heartbeats and witness replies are small: a longer datagram is copied cut to the buffer,
 * and its decoder rejects it by its length all the same. Frees p. */
static u16_t take(struct pbuf *p, uint8_t *buf, size_t cap)
{
    u16_t n = pbuf_copy_partial(p, buf, (u16_t)MIN((size_t)p->tot_len, cap), 0);
    pbuf_free(p);
    return n;
}

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                    u16_t port)
{
    (void)pcb;
    (void)addr;
    (void)port;
    unsigned path = (unsigned)(uintptr_t)arg;
    uint8_t buf[128];
    u16_t n = take(p, buf, sizeof(buf));
    if (hb.rx) {
        hb.rx(hb.ctx, path, buf, n);
    }
}

static void on_witness_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                            u16_t port)
{
    (void)arg;
    (void)pcb;
    uint8_t buf[128];
    u16_t n = take(p, buf, sizeof(buf));
    if (hb.wrx && addr && IP_IS_V4(addr)) {
        hb.wrx(hb.wctx, lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(addr))), port, buf, n);
    }
}

bool colo_hb_link_witness_init(colo_hb_link_witness_rx_fn rx, void *ctx)
{
    struct netif *nif = hvnet_service_netif();
    hb.wrx = rx;
    hb.wctx = ctx;
    if (hb.wpcb) {
        return true;
    }
    if (!nif) {
        log_err("colo: no service LAN: the witnesses cannot be reached");
        return false;
    }
    struct udp_pcb *pcb = udp_new();
    if (!pcb) {
        log_err("colo: no UDP pcb for the witnesses");
        return false;
    }
    /* The witnesses are on the service LAN: their replies are what the clients' side of the
     * network sees, which is what a partition is judged by. */
    udp_bind_netif(pcb, nif);
    if (udp_bind(pcb, netif_ip_addr4(nif), 0) != ERR_OK) {
        log_err("colo: no local port for the witnesses");
        udp_remove(pcb);
        return false;
    }
    udp_recv(pcb, on_witness_recv, NULL);
    hb.wpcb = pcb;
    return true;
}

bool colo_hb_link_witness_send(uint32_t ip, uint16_t port, const void *data, size_t len)
{
    if (!hb.wpcb) {
        return false;
    }
    return send_on(hb.wpcb, ip, port, data, len);
}

bool colo_hb_link_init(uint16_t port, colo_hb_link_rx_fn rx, void *ctx)
{
    struct netif *nif[COLO_HB_PATHS] = {hvnet_repl_netif(), hvnet_service_netif()};
    hb.rx = rx;
    hb.ctx = ctx;
    bool any = false;
    for (unsigned i = 0; i < COLO_HB_PATHS; i++) {
        if (!nif[i] || hb.pcb[i]) {
            any = any || hb.pcb[i];
            continue;
        }
        struct udp_pcb *pcb = udp_new();
        if (!pcb) {
            log_err("colo: no UDP pcb for heartbeats");
            break;
        }
        /* Bound to its netif and address: a heartbeat must really have crossed that path (and
         * two sockets on one port need distinct local addresses). */
        udp_bind_netif(pcb, nif[i]);
        if (udp_bind(pcb, netif_ip_addr4(nif[i]), port) != ERR_OK) {
            log_err("colo: heartbeat port %u in use", port);
            udp_remove(pcb);
            continue;
        }
        udp_recv(pcb, on_recv, (void *)(uintptr_t)i);
        hb.pcb[i] = pcb;
        hb.nif[i] = nif[i];
        any = true;
    }
    return any;
}

bool colo_hb_link_has_path(unsigned path)
{
    return path < COLO_HB_PATHS && hb.pcb[path];
}

/* Keeps what send_on() just sent on path and where to, if the peer's MAC is known. */
static void keep_for_again(unsigned path, uint32_t ip, uint16_t port, const void *data, size_t len)
{
    struct netif *nif = hb.nif[path];
    ip4_addr_t dst;
    ip4_addr_set_u32(&dst, lwip_htonl(ip));
    struct eth_addr *mac;
    const ip4_addr_t *unused;
    struct udp_frame_addr a = {0};
    bool known = len <= COLO_HB_LINK_MAX && etharp_find_addr(nif, &dst, &mac, &unused) >= 0;
    if (known) {
        a = (struct udp_frame_addr){.src_ip = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(nif))),
                                    .dst_ip = ip,
                                    .src_port = hb.pcb[path]->local_port,
                                    .dst_port = port,
                                    .ttl = hb.pcb[path]->ttl};
        memcpy(a.src_mac, nif->hwaddr, ETH_ALEN);
        memcpy(a.dst_mac, mac->addr, ETH_ALEN);
    }
    unsigned long s = cpu_arch_irq_save();
    if (known) {
        hb.again_addr[path] = a;
        memcpy(hb.again[path], data, len);
    }
    hb.again_len[path] = known ? (uint16_t)len : 0;
    cpu_arch_irq_restore(s);
}

bool colo_hb_link_send(unsigned path, uint32_t ip, uint16_t port, const void *data, size_t len)
{
    if (!colo_hb_link_has_path(path) || !send_on(hb.pcb[path], ip, port, data, len)) {
        return false;
    }
    keep_for_again(path, ip, port, data, len);
    return true;
}

unsigned colo_hb_link_resend(colo_hb_link_again_fn again)
{
    unsigned sent = 0;
    for (unsigned i = 0; i < COLO_HB_PATHS; i++) {
        if (!hb.again_len[i] || !again(hb.again[i], hb.again_len[i])) {
            continue;
        }
        hb.again_addr[i].ip_id = hb.ip_id++;
        size_t n = udp_frame_build(hb.frame, sizeof(hb.frame), &hb.again_addr[i], hb.again[i],
                                   hb.again_len[i]);
        if (n && netdev_tx_urgent(hb.nif[i]->state, hb.frame, n)) {
            sent++;
        }
    }
    return sent;
}
