// SPDX-License-Identifier: Apache-2.0
// Shell command `net`: the board NICs and the hypervisor's IP stack. status/config print
// key=value lines; ping, sink and send exercise the replication link with lwIP's raw API.
// Waiting commands keep the board running through hv_wait_until(); every wait has a limit, so
// the shell always comes back.
#include <string.h>

#include <cv/colo_board.h>
#include <cv/config.h>
#include <cv/guest_filter.h>
#include <cv/hash.h>
#include <cv/hv.h>
#include <cv/hvnet.h>
#include <cv/log.h>
#include <cv/net_bridge.h>
#include <cv/vnet.h>
#include <cv/net.h>
#include <cv/shell.h>
#include <cv/timer.h>
#include <cv/virtio_mmio.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

static int cmd_net(int argc, char **argv);
SHELL_CMD(net, {"net",
                "net [status|config|config set <key> <value>|ping <ip> [count]|sink <port>|"
                "send <ip> <port> <MiB> [bg]]",
                "hypervisor networking: NICs, configuration, ping, TCP test transfers", cmd_net});

#define SEND_STALL_US (10ull * 1000 * 1000) /* no acknowledged byte for this long: give up */
#define WATCHDOG_MS 500

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!shell_parse_u64(s, &v) || v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool parse_ip(const char *s, ip4_addr_t *out)
{
    uint32_t ip;
    if (!config_parse_ip4(s, strlen(s), &ip)) {
        return false;
    }
    ip4_addr_set_u32(out, lwip_htonl(ip));
    return true;
}

static const char *ipstr(const ip4_addr_t *a, char *buf, size_t n)
{
    return config_fmt_ip4(lwip_ntohl(ip4_addr_get_u32(a)), buf, n);
}

/* Mbit/s with one decimal, from bytes and microseconds. */
static void fmt_mbps(char *buf, size_t n, uint64_t bytes, uint64_t us)
{
    uint64_t tenths = us ? bytes * 80 / us : 0;
    cv_snprintf(buf, n, "%llu.%llu", (unsigned long long)(tenths / 10),
                (unsigned long long)(tenths % 10));
}

static bool never(void *ctx)
{
    (void)ctx;
    return false;
}

/* ---- status and config ---- */

static void print_nic(struct netdev *dev)
{
    struct netif *nif = NULL;
    const char *role = "none";
    if (dev == hvnet_repl_dev()) {
        nif = hvnet_repl_netif();
        role = "replication";
    } else if (dev == hvnet_service_dev()) {
        nif = hvnet_service_netif();
        role = "service";
    }
    const uint8_t *m = dev->mac;
    const struct net_stats *s = &dev->stats;
    const struct virtio_mmio *t = virtio_net_transport(dev);
    char ip[20] = "none";
    if (nif) {
        char a[16];
        uint32_t mask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(nif)));
        unsigned plen = 0;
        while (plen < 32 && (mask & (0x80000000u >> plen))) {
            plen++;
        }
        cv_snprintf(ip, sizeof(ip), "%s/%u", ipstr(netif_ip4_addr(nif), a, sizeof(a)), plen);
    }
    cv_printf("name=%s\nrole=%s\nmac=%02x:%02x:%02x:%02x:%02x:%02x\nlink=%s\nip=%s\n", dev->name,
              role, m[0], m[1], m[2], m[3], m[4], m[5], dev->ops->link_up(dev) ? "up" : "down", ip);
    if (t) {
        cv_printf("transport=0x%llx\nirq=%u\nresets=%llu\n", (unsigned long long)hpa_raw(t->base),
                  dev->irq, (unsigned long long)virtio_net_resets(dev));
    }
    cv_printf("rx_frames=%llu\nrx_bytes=%llu\nrx_drops=%llu\nrx_errors=%llu\n"
              "tx_frames=%llu\ntx_bytes=%llu\ntx_drops=%llu\ntx_errors=%llu\n",
              (unsigned long long)s->rx_frames, (unsigned long long)s->rx_bytes,
              (unsigned long long)s->rx_drops, (unsigned long long)s->rx_errors,
              (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes,
              (unsigned long long)s->tx_drops, (unsigned long long)s->tx_errors);
    cv_printf("urgent_tx=%llu\nurgent_deferred=%llu\nurgent_drops=%llu\n",
              (unsigned long long)dev->urgent_tx, (unsigned long long)dev->urgent_deferred,
              (unsigned long long)dev->urgent_drops);
}

/* The guest's emulated NIC and the bridge: rx = towards the guest, tx = from the guest. */
static void print_guest_nic(void)
{
    const struct vnet *g = net_bridge_guest_nic();
    if (!g) {
        return;
    }
    const uint8_t *m = g->mac;
    const struct net_stats *s = &g->stats;
    const struct net_bridge_stats *b = net_bridge_stats();
    cv_printf("name=guest\nrole=guest\nmac=%02x:%02x:%02x:%02x:%02x:%02x\nlink=%s\n"
              "needs_reset=%llu\n",
              m[0], m[1], m[2], m[3], m[4], m[5], g->link_up ? "up" : "down",
              (unsigned long long)g->resets_needed);
    cv_printf("rx_frames=%llu\nrx_bytes=%llu\nrx_drops=%llu\nrx_errors=%llu\n"
              "tx_frames=%llu\ntx_bytes=%llu\ntx_drops=%llu\ntx_errors=%llu\n",
              (unsigned long long)s->rx_frames, (unsigned long long)s->rx_bytes,
              (unsigned long long)s->rx_drops, (unsigned long long)s->rx_errors,
              (unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes,
              (unsigned long long)s->tx_drops, (unsigned long long)s->tx_errors);
    cv_printf("rx_held=%llu\ntx_stalls=%llu\n", (unsigned long long)g->rx_held,
              (unsigned long long)g->tx_stalls);
    for (unsigned r = GUEST_FILTER_PASS + 1; r < GUEST_FILTER_REASONS; r++) {
        cv_printf("tx_filter_%s=%llu\n", guest_filter_reason_name((enum guest_filter_verdict)r),
                  (unsigned long long)g->tx_filtered[r]);
    }
    colo_board_net_report();
    cv_printf("bridge_to_lan=%llu\nbridge_to_lan_drops=%llu\nbridge_to_guest=%llu\n"
              "bridge_not_ours=%llu\n",
              (unsigned long long)b->to_lan, (unsigned long long)b->to_lan_drops,
              (unsigned long long)b->to_guest, (unsigned long long)b->not_ours);
}

static int net_status(void)
{
    cv_printf("nics=%u\n", netdev_count);
    for (unsigned i = 0; i < netdev_count; i++) {
        print_nic(netdevs[i]);
    }
    print_guest_nic();
    const struct stats_proto *t = &lwip_stats.tcp;
    cv_printf("lwip_tcp_xmit=%u\nlwip_tcp_recv=%u\nlwip_tcp_drop=%u\nlwip_tcp_chkerr=%u\n"
              "lwip_tcp_memerr=%u\nlwip_tcp_proterr=%u\nlwip_tcp_err=%u\n",
              (unsigned)t->xmit, (unsigned)t->recv, (unsigned)t->drop, (unsigned)t->chkerr,
              (unsigned)t->memerr, (unsigned)t->proterr, (unsigned)t->err);
    cv_printf("lwip_link_drop=%u\nlwip_mem_err=%u\nlwip_pbuf_pool_err=%u\nlwip_pbuf_pool_max=%u\n",
              (unsigned)lwip_stats.link.drop, (unsigned)lwip_stats.mem.err,
              (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->err,
              (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->max);
    return 0;
}

/* ---- ping ---- */

struct ping {
    ip4_addr_t target;
    uint16_t id, seq;
    bool replied;
    uint64_t sent_us, rtt_us;
};

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
    (void)pcb;
    struct ping *pg = arg;
    struct icmp_echo_hdr echo;
    const struct ip_hdr *iph = p->payload;
    u16_t hlen = (u16_t)(IPH_HL(iph) * 4);
    if (p->len < sizeof(*iph) || !ip4_addr_cmp(ip_2_ip4(addr), &pg->target) ||
        pbuf_copy_partial(p, &echo, sizeof(echo), hlen) != sizeof(echo) || echo.type != ICMP_ER ||
        echo.id != lwip_htons(pg->id) || echo.seqno != lwip_htons(pg->seq)) {
        return 0; /* not ours: lwIP carries on with it */
    }
    pg->rtt_us = time_now_us() - pg->sent_us;
    pg->replied = true;
    pbuf_free(p);
    return 1;
}

static bool ping_done(void *ctx)
{
    return ((struct ping *)ctx)->replied;
}

static bool ping_send(struct raw_pcb *pcb, struct ping *pg)
{
    static const char payload[] = "colovisor ping 0123456789abcdef";
    u16_t len = (u16_t)(sizeof(struct icmp_echo_hdr) + sizeof(payload));
    struct pbuf *p = pbuf_alloc(PBUF_IP, len, PBUF_RAM);
    if (!p) {
        return false;
    }
    struct icmp_echo_hdr *e = p->payload;
    e->type = ICMP_ECHO;
    e->code = 0;
    e->chksum = 0;
    e->id = lwip_htons(pg->id);
    e->seqno = lwip_htons(pg->seq);
    memcpy(e + 1, payload, sizeof(payload));
    e->chksum = inet_chksum(e, len);
    ip_addr_t to;
    ip_addr_copy_from_ip4(to, pg->target);
    pg->replied = false;
    pg->sent_us = time_now_us();
    err_t err = raw_sendto(pcb, p, &to);
    pbuf_free(p);
    return err == ERR_OK;
}

static int net_ping(const char *iparg, const char *countarg)
{
    static uint16_t next_id = 0x4356;
    struct ping pg = {.id = next_id++};
    uint32_t count = 4;
    char a[16];
    if (!parse_ip(iparg, &pg.target) || (countarg && !parse_u32(countarg, 1000, &count)) ||
        count == 0) {
        return -1;
    }
    struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
    if (!pcb) {
        cv_printf("net: ping: out of raw pcbs\n");
        return 1;
    }
    raw_recv(pcb, ping_recv, &pg);
    unsigned sent = 0, received = 0;
    for (uint32_t i = 0; i < count; i++) {
        pg.seq = (uint16_t)(i + 1);
        if (!ping_send(pcb, &pg)) {
            cv_printf("net: ping %s seq=%u send failed (no route?)\n", ipstr(&pg.target, a, 16),
                      pg.seq);
        } else {
            sent++;
            if (hv_wait_until(ping_done, &pg, 1000000)) {
                received++;
                cv_printf("net: ping %s seq=%u time_us=%llu\n", ipstr(&pg.target, a, 16), pg.seq,
                          (unsigned long long)pg.rtt_us);
            } else {
                cv_printf("net: ping %s seq=%u timeout\n", ipstr(&pg.target, a, 16), pg.seq);
            }
        }
        if (i + 1 < count) {
            uint64_t since = time_now_us() - pg.sent_us;
            hv_wait_until(never, NULL, since < 200000 ? 200000 - since : 0);
        }
    }
    raw_remove(pcb);
    cv_printf("net: ping sent=%u received=%u\n", sent, received);
    return received ? 0 : 1;
}

/* ---- sink: counts bytes and their CRC32C per connection ---- */

#define SINK_CONNS 4
#define SINK_PORTS 4

struct sink_conn {
    bool used;
    u16_t port;
    uint64_t bytes, start_us;
    uint32_t crc;
};
static struct sink_conn sink_conns[SINK_CONNS];
static struct tcp_pcb *sink_listen[SINK_PORTS];

static void sink_report(struct sink_conn *c, const char *fail)
{
    char mbps[24];
    fmt_mbps(mbps, sizeof(mbps), c->bytes, time_now_us() - c->start_us);
    if (fail) {
        cv_printf("net: sink port=%u failed: %s after bytes=%llu\n", c->port, fail,
                  (unsigned long long)c->bytes);
    } else {
        cv_printf("net: sink port=%u bytes=%llu crc=0x%08x mbps=%s\n", c->port,
                  (unsigned long long)c->bytes, c->crc, mbps);
    }
    c->used = false;
}

static const char *err_reason(err_t err, bool connecting)
{
    switch (err) {
    case ERR_RST:
        return connecting ? "connection refused" : "connection reset by peer";
    case ERR_ABRT:
        return connecting ? "connection timed out"
                          : "connection aborted (retransmissions "
                            "timed out)";
    case ERR_CLSD:
        return "connection closed";
    case ERR_MEM:
        return "out of memory";
    case ERR_RTE:
        return "no route to host";
    default:
        return "error";
    }
}

static void sink_err(void *arg, err_t err)
{
    if (arg) {
        sink_report(arg, err_reason(err, false));
    }
}

static err_t sink_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct sink_conn *c = arg;
    (void)err;
    if (!p) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        sink_report(c, NULL);
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    for (struct pbuf *q = p; q; q = q->next) {
        c->crc = crc32c(c->crc, q->payload, q->len);
    }
    c->bytes += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t sink_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb) {
        return ERR_VAL;
    }
    for (unsigned i = 0; i < SINK_CONNS; i++) {
        struct sink_conn *c = &sink_conns[i];
        if (!c->used) {
            *c = (struct sink_conn){true, pcb->local_port, 0, time_now_us(), 0};
            tcp_arg(pcb, c);
            tcp_recv(pcb, sink_recv);
            tcp_err(pcb, sink_err);
            return ERR_OK;
        }
    }
    tcp_abort(pcb);
    return ERR_ABRT;
}

static int net_sink(const char *portarg)
{
    uint32_t port;
    if (!parse_u32(portarg, 65535, &port) || port == 0) {
        return -1;
    }
    unsigned slot = SINK_PORTS;
    for (unsigned i = 0; i < SINK_PORTS; i++) {
        if (sink_listen[i] && sink_listen[i]->local_port == port) {
            cv_printf("net: sink already listening on port %u\n", (unsigned)port);
            return 0;
        }
        if (!sink_listen[i] && slot == SINK_PORTS) {
            slot = i;
        }
    }
    struct tcp_pcb *pcb = slot < SINK_PORTS ? tcp_new() : NULL;
    if (!pcb) {
        cv_printf("net: sink: no free listener\n");
        return 1;
    }
    if (tcp_bind(pcb, IP_ANY_TYPE, (u16_t)port) != ERR_OK) {
        tcp_close(pcb);
        cv_printf("net: sink: port %u is in use\n", (unsigned)port);
        return 1;
    }
    struct tcp_pcb *l = tcp_listen(pcb);
    if (!l) {
        tcp_close(pcb);
        cv_printf("net: sink: listen failed\n");
        return 1;
    }
    tcp_accept(l, sink_accept);
    sink_listen[slot] = l;
    cv_printf("net: sink listening on port %u\n", (unsigned)port);
    return 0;
}

/* ---- send: a deterministic pattern, as fast as the window allows ---- */

enum send_state { SEND_IDLE, SEND_CONNECTING, SEND_SENDING, SEND_DONE, SEND_FAILED };

static struct {
    enum send_state state;
    struct tcp_pcb *pcb;
    uint64_t total, queued, acked;
    uint32_t crc;
    uint64_t start_us, connected_us, progress_us;
} snd;

/* Word k of the stream (bytes 8k..8k+7) is the little-endian 64-bit value k. */
static void pattern_fill(uint8_t *dst, uint64_t off, size_t n)
{
    size_t i = 0;
    for (; i < n && (off + i) % 8 != 0; i++) {
        uint64_t pos = off + i;
        dst[i] = (uint8_t)((pos / 8) >> (8 * (pos % 8)));
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w = (off + i) / 8; /* little-endian host: the bytes are already in order */
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++) {
        uint64_t pos = off + i;
        dst[i] = (uint8_t)((pos / 8) >> (8 * (pos % 8)));
    }
}

static void send_finish(enum send_state st, const char *why)
{
    snd.state = st;
    snd.pcb = NULL;
    uint64_t us = time_now_us() - (snd.connected_us ? snd.connected_us : snd.start_us);
    if (st == SEND_DONE) {
        char mbps[24];
        fmt_mbps(mbps, sizeof(mbps), snd.acked, us);
        cv_printf("net: send bytes=%llu crc=0x%08x ms=%llu mbps=%s\n",
                  (unsigned long long)snd.acked, snd.crc, (unsigned long long)(us / 1000), mbps);
    } else {
        cv_printf("net: send failed: %s (acked=%llu of %llu bytes)\n", why,
                  (unsigned long long)snd.acked, (unsigned long long)snd.total);
    }
}

static void send_detach(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
}

static void send_fail(const char *why)
{
    if (snd.pcb) {
        send_detach(snd.pcb);
        tcp_abort(snd.pcb);
    }
    send_finish(SEND_FAILED, why);
}

static void send_pump(void)
{
    static uint8_t chunk[TCP_MSS * 4];
    struct tcp_pcb *pcb = snd.pcb;
    while (snd.queued < snd.total) {
        size_t n = MIN((uint64_t)tcp_sndbuf(pcb), snd.total - snd.queued);
        n = MIN(n, sizeof(chunk));
        if (n == 0 || (n < TCP_MSS && snd.total - snd.queued > n)) {
            break; /* wait for a segment's worth of room; tcp_sent calls again */
        }
        pattern_fill(chunk, snd.queued, n);
        bool more = snd.queued + n < snd.total;
        err_t err =
            tcp_write(pcb, chunk, (u16_t)n, TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0));
        if (err == ERR_MEM) {
            break; /* segment queue full */
        }
        if (err != ERR_OK) {
            send_fail("tcp_write refused the data");
            return;
        }
        snd.crc = crc32c(snd.crc, chunk, n);
        snd.queued += n;
    }
    tcp_output(pcb);
}

static err_t send_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg;
    snd.acked += len;
    snd.progress_us = time_now_us();
    if (snd.acked >= snd.total) {
        send_detach(pcb);
        snd.pcb = NULL;
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            send_finish(SEND_DONE, NULL);
            return ERR_ABRT;
        }
        send_finish(SEND_DONE, NULL);
        return ERR_OK;
    }
    send_pump();
    return snd.state == SEND_FAILED ? ERR_ABRT : ERR_OK;
}

static err_t send_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (!p) {
        send_fail("the peer closed the connection early");
        return ERR_ABRT;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void send_err(void *arg, err_t err)
{
    (void)arg;
    snd.pcb = NULL; /* lwIP freed it */
    send_finish(SEND_FAILED, err_reason(err, snd.state == SEND_CONNECTING));
}

static err_t send_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    if (err != ERR_OK) {
        send_fail("connect failed");
        return ERR_ABRT;
    }
    snd.state = SEND_SENDING;
    snd.connected_us = snd.progress_us = time_now_us();
    send_pump();
    return snd.state == SEND_FAILED ? ERR_ABRT : ERR_OK;
}

static void send_watchdog(void *arg)
{
    (void)arg;
    if (snd.state != SEND_CONNECTING && snd.state != SEND_SENDING) {
        return;
    }
    if (time_now_us() - snd.progress_us > SEND_STALL_US) {
        send_fail(snd.state == SEND_CONNECTING ? "no connection within 10 s"
                                               : "no progress for 10 s (link down?)");
        return;
    }
    sys_timeout(WATCHDOG_MS, send_watchdog, NULL);
}

static bool send_over(void *ctx)
{
    (void)ctx;
    return snd.state == SEND_DONE || snd.state == SEND_FAILED;
}

static int net_send(int argc, char **argv)
{
    ip4_addr_t ip;
    uint32_t port, mib;
    bool bg = argc == 6 && strcmp(argv[5], "bg") == 0;
    if ((argc != 5 && !bg) || !parse_ip(argv[2], &ip) || !parse_u32(argv[3], 65535, &port) ||
        port == 0 || !parse_u32(argv[4], 1u << 20, &mib) || mib == 0) {
        return -1;
    }
    if (snd.state == SEND_CONNECTING || snd.state == SEND_SENDING) {
        cv_printf("net: send: a transfer is already running\n");
        return 1;
    }
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb) {
        cv_printf("net: send failed: out of TCP pcbs\n");
        return 1;
    }
    snd.state = SEND_CONNECTING;
    snd.pcb = pcb;
    snd.total = (uint64_t)mib << 20;
    snd.queued = snd.acked = 0;
    snd.crc = 0;
    snd.start_us = snd.progress_us = time_now_us();
    snd.connected_us = 0;
    tcp_sent(pcb, send_sent);
    tcp_recv(pcb, send_recv);
    tcp_err(pcb, send_err);
    ip_addr_t to;
    ip_addr_copy_from_ip4(to, ip);
    err_t err = tcp_connect(pcb, &to, (u16_t)port, send_connected);
    if (err != ERR_OK) {
        send_fail(err_reason(err, true));
        return 1;
    }
    sys_timeout(WATCHDOG_MS, send_watchdog, NULL);
    if (bg) {
        cv_printf("net: send started in the background\n");
        return 0;
    }
    /* The watchdog ends every transfer that stalls, so this wait ends too; the limit is a guard. */
    hv_wait_until(send_over, NULL, 24ull * 3600 * 1000000);
    if (!send_over(NULL)) {
        send_fail("gave up waiting");
    }
    return snd.state == SEND_DONE ? 0 : 1;
}

static int cmd_net(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "status";
    int rc = -1;
    if (strcmp(sub, "config") == 0 && argc == 2) {
        config_dump(config_get());
        return 0;
    }
    if (strcmp(sub, "config") == 0 && argc == 5 && strcmp(argv[2], "set") == 0) {
        char err[128];
        if (!config_set(argv[3], argv[4], err, sizeof(err))) {
            cv_printf("net: config: %s\n", err);
            return 1;
        }
        cv_printf("net: config %s=%s\n", argv[3], argv[4]);
        return 0;
    }
    if (strcmp(sub, "status") == 0 && argc <= 2) {
        return net_status();
    }
    if (!hvnet_repl_netif() &&
        (strcmp(sub, "ping") == 0 || strcmp(sub, "sink") == 0 || strcmp(sub, "send") == 0)) {
        cv_printf("net: the hypervisor has no network (no NICs found at boot)\n");
        return 1;
    }
    if (strcmp(sub, "ping") == 0 && (argc == 3 || argc == 4)) {
        rc = net_ping(argv[2], argc == 4 ? argv[3] : NULL);
    } else if (strcmp(sub, "sink") == 0 && argc == 3) {
        rc = net_sink(argv[2]);
    } else if (strcmp(sub, "send") == 0) {
        rc = net_send(argc, argv);
    }
    return rc < 0 ? shell_usage(&shell_cmd_net) : rc;
}
