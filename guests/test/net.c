// SPDX-License-Identifier: Apache-2.0
// The guest's network: lwIP (NO_SYS, raw API) on the virtio-net driver, a static TEST-NET
// address, ICMP echo, and the counter service on TCP port 7000. It runs in the background of
// the command loop: con_getc() calls net_poll() and sleeps through net_idle(), so the network is
// served while the console waits for input and pauses while a command runs.

#include <string.h>

#include "guest.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "virtio_net.h"

/*
 * The address, overridable at build time (-DNET_IP=192,0,2,11 -DNET_PREFIX=24 -DNET_GW=...):
 * only TEST-NET-1/2/3 (RFC 5737) addresses are accepted, so the guest can never claim or send
 * to a routable one. NET_GW 0,0,0,0 means no gateway.
 */
#ifndef NET_IP
#define NET_IP 192, 0, 2, 10
#endif
#ifndef NET_PREFIX
#define NET_PREFIX 24
#endif
#ifndef NET_GW
#define NET_GW 0, 0, 0, 0
#endif

#define IP4_U32_(a, b, c, d)                                                                       \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define IP4_U32(x) IP4_U32_(x)
#define IS_TEST_NET(a) ((a) >> 8 == 0xc00002u || (a) >> 8 == 0xc63364u || (a) >> 8 == 0xcb0071u)

_Static_assert(IS_TEST_NET(IP4_U32(NET_IP)), "NET_IP must be in a TEST-NET (RFC 5737)");
_Static_assert(NET_PREFIX >= 24 && NET_PREFIX <= 30, "NET_PREFIX must be 24..30 (TEST-NET)");
_Static_assert(IP4_U32(NET_GW) == 0 || IS_TEST_NET(IP4_U32(NET_GW)), "NET_GW must be TEST-NET");

#define COUNTER_PORT 7000
#define CONN_MAX MEMP_NUM_TCP_PCB
/* A request line is at most this many bytes including its '\n'; longer ones close. */
#define REQ_LINE_MAX 128u
#define REPLY_MAX (REQ_LINE_MAX + 24u)
#define RX_BUDGET 256u
#define TX_WAIT_US 1000u
#define POLL_INTERVAL 2 /* tcp_poll units of 500 ms */

struct conn {
    struct tcp_pcb *pcb;
    struct pbuf *rx; /* received, not yet processed; the first rx_off bytes are done */
    uint16_t rx_off;
    uint16_t len;
    bool in_use;
    bool peer_closed;
    char line[REQ_LINE_MAX];
};

static struct netif nif;
static bool net_up;
static uint64_t counter_next;
static struct conn conns[CONN_MAX];
static unsigned conns_open;
static uint64_t rx_drops;
static uint64_t cnt_freq;
static uint64_t flood_left, flood_sent;

#define FLOOD_LEN 1514u         /* the largest frame: the fewest a held-output buffer takes */
#define FLOOD_ETHERTYPE 0x88b5u /* IEEE 802 local experimental */
#define FLOOD_BATCH 64u

/* ---- netif on virtio-net ---- */

static err_t nif_linkoutput(struct netif *n, struct pbuf *p)
{
    (void)n;
    if (p->tot_len > VNET_FRAME_MAX) {
        vnet_tx_drop();
        return ERR_BUF;
    }
    uint8_t *buf = vnet_tx_buf();
    if (!buf) {
        /* All in flight: give the device a moment (it may complete only when kicked again). */
        uint64_t end = counter_now() + cnt_freq / 1000000 * TX_WAIT_US;
        while (!buf && counter_now() < end) {
            buf = vnet_tx_buf();
        }
        if (!buf) {
            vnet_tx_drop();
            return ERR_MEM;
        }
    }
    pbuf_copy_partial(p, buf, p->tot_len, 0);
    vnet_tx_send(p->tot_len);
    return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
    n->name[0] = 'v';
    n->name[1] = 'n';
    n->output = etharp_output;
    n->linkoutput = nif_linkoutput;
    n->mtu = 1500;
    n->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(n->hwaddr, vnet_mac(), ETH_HWADDR_LEN);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

static void rx_deliver(const uint8_t *frame, size_t len, void *ctx)
{
    (void)ctx;
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (!p) {
        rx_drops++;
        return;
    }
    pbuf_take(p, frame, (u16_t)len);
    if (nif.input(p, &nif) != ERR_OK) {
        pbuf_free(p);
    }
}

/* ---- counter service ---- */

static size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}

static void conn_release(struct conn *c)
{
    if (c->rx) {
        pbuf_free(c->rx);
    }
    c->rx = NULL;
    c->pcb = NULL;
    c->in_use = false;
    conns_open--;
}

/* Closes gracefully (queued replies still go out); ERR_ABRT if it had to abort instead. */
static err_t conn_close(struct conn *c)
{
    struct tcp_pcb *pcb = c->pcb;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
    conn_release(c);
    if (tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

/* Queues the reply to the line in c->line; false when the send buffer is full. */
static bool conn_reply(struct conn *c)
{
    size_t len = c->len;
    if (len && c->line[len - 1] == '\r') {
        len--;
    }
    if (len == 0) {
        return true; /* an empty line is no request */
    }
    char reply[REPLY_MAX];
    memcpy(reply, c->line, len);
    reply[len++] = ' ';
    len += fmt_u64(reply + len, counter_next);
    reply[len++] = '\n';
    /*
     * MORE: with nagle off, lwIP would otherwise size each segment's pbuf to this one reply and
     * chain a new pbuf per reply, hitting TCP_SND_QUEUELEN after a few dozen replies and
     * stalling until the peer's (delayed) ACK. With it, replies fill MSS-sized pbufs; the
     * tcp_output() after each batch still sends at once.
     */
    if (tcp_sndbuf(c->pcb) < len ||
        tcp_write(c->pcb, reply, (u16_t)len, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE) != ERR_OK) {
        return false;
    }
    counter_next++;
    return true;
}

/* Opens the receive window by n bytes. */
static void conn_recved(struct tcp_pcb *pcb, uint32_t n)
{
    while (n) {
        u16_t k = n > 0xffff ? 0xffff : (u16_t)n;
        tcp_recved(pcb, k);
        n -= k;
    }
}

/*
 * Answers every complete line received so far, in order, as long as the send buffer takes the
 * replies; the rest waits for the sent callback. Returns ERR_ABRT if the pcb was aborted.
 */
static err_t conn_process(struct conn *c)
{
    uint32_t consumed = 0;
    bool wrote = false, stalled = false;
    while (c->rx && !stalled) {
        struct pbuf *p = c->rx;
        const uint8_t *d = p->payload;
        while (c->rx_off < p->len) {
            uint8_t ch = d[c->rx_off];
            if (ch == '\n') {
                if (!conn_reply(c)) {
                    stalled = true;
                    break;
                }
                wrote = true;
                c->len = 0;
            } else if (c->len + 1u >= REQ_LINE_MAX) {
                /*
                 * The line (with its '\n') would exceed REQ_LINE_MAX bytes. Everything received
                 * counts as read, so lwIP closes with FIN (replies already queued still go
                 * out) rather than with the RST it sends when unread data is dropped.
                 */
                conn_recved(c->pcb, consumed + c->rx->tot_len - c->rx_off);
                if (wrote) {
                    tcp_output(c->pcb);
                }
                return conn_close(c);
            } else {
                c->line[c->len++] = (char)ch;
            }
            c->rx_off++;
            consumed++;
        }
        if (c->rx_off == p->len) {
            c->rx = pbuf_free_header(p, p->len);
            c->rx_off = 0;
        }
    }
    conn_recved(c->pcb, consumed);
    if (wrote) {
        tcp_output(c->pcb);
    }
    if (c->peer_closed && !c->rx) {
        return conn_close(c); /* an unterminated last line gets no reply */
    }
    return ERR_OK;
}

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct conn *c = arg;
    if (!c) {
        if (p) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        c->peer_closed = true;
    } else if (err != ERR_OK) {
        pbuf_free(p);
        return ERR_OK;
    } else if (c->rx) {
        pbuf_cat(c->rx, p);
    } else {
        c->rx = p;
        c->rx_off = 0;
    }
    return conn_process(c);
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    struct conn *c = arg;
    return c ? conn_process(c) : ERR_OK;
}

static err_t conn_poll(void *arg, struct tcp_pcb *pcb)
{
    (void)pcb;
    struct conn *c = arg;
    return c ? conn_process(c) : ERR_OK;
}

static void conn_err(void *arg, err_t err)
{
    (void)err;
    struct conn *c = arg;
    if (c) {
        conn_release(c); /* lwIP has freed the pcb already */
    }
}

static err_t counter_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb) {
        return ERR_VAL;
    }
    struct conn *c = NULL;
    for (unsigned i = 0; i < CONN_MAX; i++) {
        if (!conns[i].in_use) {
            c = &conns[i];
            break;
        }
    }
    if (!c) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    memset(c, 0, sizeof(*c));
    c->in_use = true;
    c->pcb = pcb;
    conns_open++;
    tcp_arg(pcb, c);
    tcp_recv(pcb, conn_recv);
    tcp_sent(pcb, conn_sent);
    tcp_err(pcb, conn_err);
    tcp_poll(pcb, conn_poll, POLL_INTERVAL);
    tcp_nagle_disable(pcb);
    return ERR_OK;
}

static bool counter_listen(void)
{
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!pcb) {
        return false;
    }
    if (tcp_bind(pcb, IP4_ADDR_ANY, COUNTER_PORT) != ERR_OK) {
        tcp_close(pcb);
        return false;
    }
    struct tcp_pcb *lpcb = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
    if (!lpcb) {
        tcp_close(pcb);
        return false;
    }
    tcp_accept(lpcb, counter_accept);
    return true;
}

/* ---- glue to the command loop ---- */

static void ip_str(char *out, uint32_t a)
{
    size_t n = 0;
    for (int i = 3; i >= 0; i--) {
        n += fmt_u64(out + n, (a >> (8 * i)) & 0xff);
        if (i) {
            out[n++] = '.';
        }
    }
    out[n] = 0;
}

void net_init(void)
{
    counter_next = 1;
    cnt_freq = read_sysreg(cntfrq_el0);
    if (!vnet_init()) {
        con_printf("testguest: net: no virtio-net device\n");
        return;
    }
    lwip_init();
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, (IP4_U32(NET_IP) >> 24) & 0xff, (IP4_U32(NET_IP) >> 16) & 0xff,
             (IP4_U32(NET_IP) >> 8) & 0xff, IP4_U32(NET_IP) & 0xff);
    ip4_addr_set_u32(&mask, lwip_htonl(~0u << (32 - NET_PREFIX)));
    IP4_ADDR(&gw, (IP4_U32(NET_GW) >> 24) & 0xff, (IP4_U32(NET_GW) >> 16) & 0xff,
             (IP4_U32(NET_GW) >> 8) & 0xff, IP4_U32(NET_GW) & 0xff);
    if (!netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ethernet_input)) {
        con_printf("testguest: net: netif_add failed\n");
        return;
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    if (vnet_link_up()) {
        netif_set_link_up(&nif);
    }
    if (!counter_listen()) {
        con_printf("testguest: net: cannot listen on port %u\n", COUNTER_PORT);
    }
    net_up = true;
    const uint8_t *m = vnet_mac();
    char ips[16];
    ip_str(ips, IP4_U32(NET_IP));
    con_printf("testguest: net: virtio-net at 0x%08lx intid=%u queues=%u/%u "
               "mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s/%u\n",
               vnet_base(), vnet_intid(), vnet_queue_size(false), vnet_queue_size(true), m[0], m[1],
               m[2], m[3], m[4], m[5], ips, NET_PREFIX);
}

/*
 * `txflood`: fills every free transmit slot with a frame for nobody, the way a driver with more
 * to send than the device takes keeps its ring full. Once full it waits for used entries (no
 * notify): a device that stops taking frames leaves this guest silent, like a stopped queue.
 */
static void flood_pump(void)
{
    static const uint8_t nobody[6] = {0x02, 0, 0, 0, 0, 0xfe}; /* local, unused on the LAN */
    /* A bounded batch per poll: the counter service still gets its turn and its slots. */
    for (unsigned batch = 0; flood_left && batch < FLOOD_BATCH; batch++) {
        uint8_t *f = vnet_tx_buf();
        if (!f) {
            return;
        }
        memcpy(f, nobody, 6);
        memcpy(f + 6, vnet_mac(), 6);
        f[12] = FLOOD_ETHERTYPE >> 8;
        f[13] = FLOOD_ETHERTYPE & 0xff;
        memcpy(f + 14, &flood_sent, sizeof(flood_sent));
        memset(f + 14 + sizeof(flood_sent), 0x5a, FLOOD_LEN - 14 - sizeof(flood_sent));
        vnet_tx_send(FLOOD_LEN);
        flood_left--;
        flood_sent++;
    }
}

void net_poll(void)
{
    if (!net_up) {
        return;
    }
    unsigned n;
    unsigned total = 0;
    do {
        n = vnet_rx_poll(rx_deliver, NULL, 64);
        total += n;
    } while (n && total < RX_BUDGET);
    vnet_tx_reap();
    flood_pump();
    if (vnet_link_changed()) {
        if (vnet_link_up()) {
            netif_set_link_up(&nif);
        } else {
            netif_set_link_down(&nif);
        }
    }
    sys_check_timeouts();
}

bool net_idle(void)
{
    if (!net_up) {
        return true;
    }
    if (vnet_pending() || (flood_left && vnet_tx_buf())) {
        return false;
    }
    u32_t ms = sys_timeouts_sleeptime();
    if (ms == 0) {
        return false;
    }
    if (ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
        /* One-shot: timer_irq() switches the timer off again when no `timer` command runs. */
        write_sysreg(cntv_cval_el0, counter_now() + (uint64_t)ms * cnt_freq / 1000 + 1);
        write_sysreg(cntv_ctl_el0, 1);
        isb();
    }
    return true;
}

void cmd_net(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct vnet_stats *s = vnet_get_stats();
    char ips[16];
    ip_str(ips, IP4_U32(NET_IP));
    if (vnet_present()) {
        const uint8_t *m = vnet_mac();
        con_printf("net: mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    } else {
        con_printf("net: mac=none");
    }
    con_printf(" ip=%s link=%s rx=%lu tx=%lu counter=%lu conns=%u\n", ips,
               net_up && netif_is_link_up(&nif) ? "up" : "down", s->rx_frames, s->tx_frames,
               counter_next, conns_open);
}

void cmd_counter(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("counter: %lu\n", counter_next);
}

void cmd_netstats(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct vnet_stats *s = vnet_get_stats();
    con_printf("netstats: rx_bytes=%lu tx_bytes=%lu rx_errors=%lu rx_drops=%lu tx_errors=%lu "
               "tx_drops=%lu irqs=%u\n",
               s->rx_bytes, s->tx_bytes, s->rx_errors, rx_drops, s->tx_errors, s->tx_drops,
               vnet_irq_count());
}

void cmd_txflood(int argc, char **argv)
{
    uint64_t n = 0;
    if (argc > 2 || (argc == 2 && !parse_u64(argv[1], &n))) {
        con_printf("txflood: usage: txflood [frames]\n");
        return;
    }
    if (argc == 2) {
        if (!net_up) {
            con_printf("txflood: no network\n");
            return;
        }
        flood_left += n;
    }
    con_printf("txflood: left=%lu sent=%lu\n", flood_left, flood_sent);
}
