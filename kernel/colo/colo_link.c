// SPDX-License-Identifier: Apache-2.0
// The COLO replication connection over lwIP's raw TCP API (cv/colo_link.h).
//
// lwIP's callback rules shape this file. A callback that frees its own pcb (tcp_abort) must
// return ERR_ABRT, and only then; the err callback comes after lwIP has freed the pcb. The
// engine's callbacks (rx, connected, lost) may close or replace the connection while lwIP is
// inside a callback of that pcb, so whatever they ask for that pcb is only recorded (pending)
// and carried out by the callback's epilogue, leave(). Every pcb we give up on is detached
// (no arg, no callbacks) before it is closed, and the arg of a live one is its generation, so
// a late callback for an old connection is recognised rather than taken for the current one.
#include <string.h>

#include <cv/colo_link.h>
#include <cv/config.h>
#include <cv/hvnet.h>
#include <cv/log.h>
#include <cv/timer.h>

#include "lwip/etharp.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#include <colo/auth.h>
#include <colo/transport.h>

/* A checkpoint's pages are streamed message by message as room appears (space()); the ring
 * only needs to cover TCP's send buffer many times over so that the engine rarely waits. */
#define RING_SIZE (4u << 20)
/* tcp_poll in 500 ms slow-timer ticks: retries a pump that tcp_write refused for lack of heap
 * while nothing was in flight (no tcp_sent to wake it). */
#define POLL_TICKS 1
/* A dead peer is declared after ~5 s without a segment from it (idle + cnt * intvl): the
 * primary must not wait long to fail over, and on a dedicated link 5 s of silence is death. */
#define KEEP_IDLE_MS 2000
#define KEEP_INTVL_MS 1000
#define KEEP_CNT 3
/* A connection has this many poll ticks (500 ms) to finish the handshake: three small
 * messages, a round trip and a half; 3 s is generous on any link that can carry checkpoints. */
#define AUTH_TICKS 6

#if !LWIP_TCP_KEEPALIVE
#error "colo_link needs LWIP_TCP_KEEPALIVE for the per-pcb keepalive timing"
#endif

enum pending { PEND_NONE, PEND_CLOSE, PEND_ABORT };

static struct {
    struct colo_link_ops ops;
    struct tcp_pcb *listener;
    u16_t listen_port;
    struct tcp_pcb *pcb; /* the current connection; NULL without one */
    uintptr_t gen;       /* its generation, the tcp_arg of its callbacks; never 0 */
    uintptr_t next_gen;
    bool up;                /* established */
    bool accepted;          /* came from the listener (else from colo_link_connect) */
    const char *broken;     /* tcp_write failed hard: reported by the next epilogue */
    bool warned_full;       /* "send without room" logged for this connection */
    struct tcp_pcb *cb_pcb; /* the pcb whose callback is running engine code */
    enum pending cb_pending;
    size_t head, fill; /* ring: the next byte for TCP is ring[head]; fill bytes queued */
    uint64_t bytes_tx, bytes_rx;
    uint16_t lose_type; /* colo_link_lose_next(): drop the next message of this type */
    /* ---- authentication (colo/auth.h) ---- */
    struct colo_link_auth who; /* who.psk NULL: plain connections */
    bool authing;              /* the current connection (ours) is still in the handshake */
    unsigned auth_ticks;
    struct colo_auth auth; /* its handshake */
    bool keyed;            /* keys hold the current session's keys until connected() took them */
    struct colo_session_keys keys;
    /* An incoming connection still authenticating: it has its own callbacks, and until it
     * proves the key it cannot touch the current session. */
    struct tcp_pcb *cand;
    uintptr_t cand_gen;
    unsigned cand_ticks;
    struct colo_auth cand_auth;
    struct colo_link_refusals refused;
    uint64_t auth_t0_us; /* the current handshake began (TCP connected or accepted) */
    uint64_t cand_t0_us;
} ln;

static uint8_t ring[RING_SIZE];

static bool is_current(void *arg, const struct tcp_pcb *pcb)
{
    return pcb && pcb == ln.pcb && (uintptr_t)arg == ln.gen;
}

static const char *err_why(err_t err, bool connecting)
{
    switch (err) {
    case ERR_RST:
        return connecting ? "connection refused" : "connection reset by peer";
    case ERR_ABRT: /* lwIP aborts on retransmission, SYN or keepalive timeouts */
        return connecting ? "connection timed out (no answer)" : "peer not responding (timed out)";
    case ERR_TIMEOUT:
        return "peer not responding (timed out)";
    case ERR_CONN:
        return connecting ? "connection refused" : "not connected";
    case ERR_CLSD:
        return "connection closed";
    case ERR_RTE:
        return "no route to host";
    case ERR_MEM:
    case ERR_BUF:
        return "out of memory";
    default:
        return "connection error";
    }
}

static void fmt_peer(const struct tcp_pcb *pcb, char *buf, size_t n)
{
    char ip[16];
    config_fmt_ip4(lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip))), ip, sizeof(ip));
    cv_snprintf(buf, n, "%s:%u", ip, pcb->remote_port);
}

static void detach(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, POLL_TICKS);
}

/* Drops the current connection from our state (no lwIP call); unsent ring bytes go with it. */
static void forget(void)
{
    ln.authing = false;
    ln.keyed = false;
    colo_port_wipe(&ln.keys, sizeof(ln.keys));
    colo_auth_wipe(&ln.auth);
    ln.pcb = NULL;
    ln.gen = 0;
    ln.up = false;
    ln.accepted = false;
    ln.broken = NULL;
    ln.head = ln.fill = 0;
}

/* Makes pcb the current connection with our callbacks. */
static void adopt(struct tcp_pcb *pcb, bool accepted)
{
    ln.pcb = pcb;
    ln.gen = ++ln.next_gen; /* 64 bits: never wraps back to 0 */
    ln.up = accepted;
    ln.accepted = accepted;
    ln.broken = NULL;
    ln.warned_full = false;
    ln.head = ln.fill = 0;
    ln.bytes_tx = ln.bytes_rx = 0;
    /* Never killed to make room for another pcb (tcp_alloc's tcp_kill_prio). */
    tcp_setprio(pcb, TCP_PRIO_MAX);
    tcp_arg(pcb, (void *)ln.gen);
    tcp_nagle_disable(pcb); /* small request/reply messages must not wait for an ACK */
    ip_set_option(pcb, SOF_KEEPALIVE);
    pcb->keep_idle = KEEP_IDLE_MS;
    pcb->keep_intvl = KEEP_INTVL_MS;
    pcb->keep_cnt = KEEP_CNT;
}

/* Ends a pcb we gave up on (already forgotten). Inside that pcb's own callback lwIP still
 * uses it after we return, so there the epilogue does it. */
static void release(struct tcp_pcb *pcb, bool abort)
{
    detach(pcb);
    if (pcb == ln.cb_pcb) {
        if (ln.cb_pending != PEND_ABORT) {
            ln.cb_pending = abort ? PEND_ABORT : PEND_CLOSE;
        }
        return;
    }
    if (abort || tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
    }
}

static void notify_lost(const char *why)
{
    log_info("colo link: connection lost: %s", why);
    if (ln.ops.lost) {
        ln.ops.lost(ln.ops.ctx, why);
    }
}

/* Moves ring bytes into TCP while its send buffer and segment queue take them. */
static void pump(struct tcp_pcb *pcb)
{
    bool wrote = false;
    while (ln.fill > 0 && !ln.broken) {
        size_t room = tcp_sndbuf(pcb);
        if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN) {
            break; /* tcp_sent calls again as ACKs free it */
        }
        if (room < TCP_MSS && ln.fill > room) {
            break; /* wait for a full segment's worth rather than send runts */
        }
        size_t n = MIN(MIN(ln.fill, RING_SIZE - ln.head), room);
        n = MIN(n, (size_t)0xffff);
        bool more = n < ln.fill;
        err_t err = tcp_write(pcb, ring + ln.head, (u16_t)n,
                              TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0));
        if (err == ERR_MEM) {
            break; /* heap or segment queue full: tcp_sent or tcp_poll retries */
        }
        if (err != ERR_OK) {
            log_err("colo link: tcp_write refused %zu bytes (err %d)", n, (int)err);
            ln.broken = "TCP refused the data";
            break;
        }
        ln.head = (ln.head + n) % RING_SIZE;
        ln.fill -= n;
        ln.bytes_tx += n;
        wrote = true;
    }
    if (wrote) {
        tcp_output(pcb); /* inside tcp_input this is a no-op; tcp_input outputs afterwards */
    }
}

/* Starts a callback of pcb that may run engine code or end the connection. */
static void enter(struct tcp_pcb *pcb)
{
    ln.cb_pcb = pcb;
    ln.cb_pending = PEND_NONE;
}

/*
 * Ends the callback of pcb: reports a hard send failure, carries out what was asked for pcb
 * meanwhile, and returns what the callback must return to lwIP (ERR_ABRT iff it aborted pcb).
 */
static err_t leave(struct tcp_pcb *pcb)
{
    const char *why = NULL;
    if (ln.pcb == pcb && ln.broken) {
        why = ln.broken;
        forget();
        release(pcb, true);
    }
    enum pending act = ln.cb_pending;
    ln.cb_pcb = NULL;
    ln.cb_pending = PEND_NONE;
    err_t ret = ERR_OK;
    if (act == PEND_CLOSE && tcp_close(pcb) != ERR_OK) {
        act = PEND_ABORT;
    }
    if (act == PEND_ABORT) {
        tcp_abort(pcb);
        ret = ERR_ABRT;
    }
    if (why) {
        notify_lost(why); /* pcb is settled: the engine may reconnect from here */
    }
    return ret;
}

/* A callback for a pcb that is not the current connection (we detach those, so this is a
 * leftover): end it rather than let it live on unowned. */
static err_t drop_stale(struct tcp_pcb *pcb)
{
    detach(pcb);
    tcp_abort(pcb);
    return ERR_ABRT;
}

/* ---- the handshake (colo/auth.h) ---- */

static struct colo_auth_cfg auth_cfg(bool initiator)
{
    return (struct colo_auth_cfg){.psk = ln.who.psk,
                                  .initiator = initiator,
                                  .role = ln.who.role,
                                  .board = ln.who.board,
                                  .peer_board = ln.who.peer_board,
                                  .boot_id = ln.who.boot_id};
}

/* A handshake message straight to TCP: it precedes everything in the ring. */
static bool auth_send(struct tcp_pcb *pcb, const uint8_t *m, size_t n)
{
    if (tcp_write(pcb, m, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
        return false;
    }
    tcp_output(pcb);
    return true;
}

/*
 * Runs the bytes of p from (q, off) through a handshake, sending its answers. Returns its state;
 * (q, off) then point at the first byte it did not take (the session's, once DONE).
 */
static enum colo_auth_state auth_run(struct colo_auth *a, struct tcp_pcb *pcb, struct pbuf **q,
                                     size_t *off)
{
    enum colo_auth_state st = a->state;
    while (*q && st != COLO_AUTH_DONE && st != COLO_AUTH_FAILED) {
        uint8_t out[COLO_AUTH_MSG_MAX];
        size_t used, n;
        st = colo_auth_feed(a, (const uint8_t *)(*q)->payload + *off, (*q)->len - *off, &used, out,
                            sizeof(out), &n);
        *off += used;
        if (n && !auth_send(pcb, out, n)) {
            a->state = st = COLO_AUTH_FAILED;
            a->why = "cannot send the handshake";
        }
        if (*off == (*q)->len) {
            *q = (*q)->next;
            *off = 0;
        }
    }
    return st;
}

/* The peer proved the key: pin its MAC so that nobody on the link can ARP-spoof it later. */
static void pin_peer(const struct tcp_pcb *pcb)
{
    struct eth_addr *eth = NULL;
    const ip4_addr_t *ip = NULL;
    struct netif *nif = hvnet_repl_netif();
    if (nif && etharp_find_addr(nif, ip_2_ip4(&pcb->remote_ip), &eth, &ip) >= 0 && eth) {
        struct eth_addr mac = *eth;
        ip4_addr_t at = *ip_2_ip4(&pcb->remote_ip);
        etharp_add_static_entry(&at, &mac);
    }
}

/* The current connection is authenticated (keys from a): the engine may have it. The bytes of
 * p after (q, off) are the session's first. Runs inside pcb's callback (enter() done). */
static void session_ready(struct tcp_pcb *pcb, struct colo_auth *a, struct pbuf *q, size_t off)
{
    char peer[24];
    fmt_peer(pcb, peer, sizeof(peer));
    colo_auth_keys(a, &ln.keys);
    colo_auth_wipe(a);
    ln.keyed = true;
    ln.authing = false;
    pin_peer(pcb);
    ln.refused.handshake_us = time_now_us() - ln.auth_t0_us;
    log_info("colo link: %s authenticated (pair key) in %llu us", peer,
             (unsigned long long)ln.refused.handshake_us);
    uintptr_t gen = ln.gen;
    if (ln.ops.connected) {
        ln.ops.connected(ln.ops.ctx);
    }
    /* the engine copied them into its session; nothing else needs them */
    ln.keyed = false;
    colo_port_wipe(&ln.keys, sizeof(ln.keys));
    for (; q && ln.pcb == pcb && ln.gen == gen; q = q->next, off = 0) {
        if (q->len > off) {
            ln.bytes_rx += q->len - off;
            if (ln.ops.rx) {
                ln.ops.rx(ln.ops.ctx, (const uint8_t *)q->payload + off, q->len - off);
            }
        }
    }
}

/* Our own connection (colo_link_connect) is still in the handshake: p is for it. */
static err_t authing_recv(struct tcp_pcb *pcb, struct pbuf *p)
{
    struct pbuf *q = p;
    size_t off = 0;
    enum colo_auth_state st = auth_run(&ln.auth, pcb, &q, &off);
    if (st == COLO_AUTH_FAILED) {
        char peer[24];
        fmt_peer(pcb, peer, sizeof(peer));
        log_warn("colo link: %s: authentication failed: %s", peer, ln.auth.why);
        ln.refused.auth++;
        pbuf_free(p);
        forget();
        release(pcb, true);
        notify_lost("the peer failed authentication");
        return leave(pcb);
    }
    if (st == COLO_AUTH_DONE) {
        session_ready(pcb, &ln.auth, q, off);
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return leave(pcb);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)err; /* always ERR_OK in lwIP 2.1.3 */
    if (!is_current(arg, pcb)) {
        if (p) {
            pbuf_free(p);
        }
        return drop_stale(pcb);
    }
    enter(pcb);
    if (!p) {
        forget();
        release(pcb, false); /* our FIN too, from leave() */
        notify_lost("peer closed the connection");
        return leave(pcb);
    }
    if (ln.authing) {
        return authing_recv(pcb, p);
    }
    u16_t total = p->tot_len;
    for (struct pbuf *q = p; q && is_current(arg, pcb); q = q->next) {
        if (q->len > 0) {
            ln.bytes_rx += q->len;
            if (ln.ops.rx) {
                ln.ops.rx(ln.ops.ctx, q->payload, q->len);
            }
        }
    }
    /* Before a pending tcp_close: lwIP resets instead of closing if data was not recved. */
    tcp_recved(pcb, total);
    pbuf_free(p);
    return leave(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    if (!is_current(arg, pcb)) {
        return drop_stale(pcb);
    }
    enter(pcb);
    if (len && ln.ops.acked) {
        ln.ops.acked(ln.ops.ctx);
    }
    pump(pcb);
    return leave(pcb);
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
    if (!is_current(arg, pcb)) {
        return drop_stale(pcb);
    }
    enter(pcb);
    if (ln.authing && ++ln.auth_ticks >= AUTH_TICKS) {
        ln.refused.timeout++;
        forget();
        release(pcb, true);
        notify_lost("the peer did not authenticate in time");
        return leave(pcb);
    }
    if (ln.up && !ln.authing) {
        pump(pcb);
    }
    return leave(pcb);
}

static void on_err(void *arg, err_t err)
{
    /* lwIP has freed (or is about to free) the pcb: only our state is touched. */
    if (!ln.pcb || (uintptr_t)arg != ln.gen) {
        return;
    }
    bool connecting = !ln.up;
    if (ln.cb_pcb == ln.pcb) {
        ln.cb_pcb = NULL; /* cannot happen (we abort only detached pcbs); never touch it */
        ln.cb_pending = PEND_NONE;
    }
    forget();
    notify_lost(err_why(err, connecting));
}

/* Sets the callbacks of an adopted pcb. */
static void arm(struct tcp_pcb *pcb)
{
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_poll(pcb, on_poll, POLL_TICKS);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    if (!is_current(arg, pcb)) {
        return drop_stale(pcb);
    }
    enter(pcb);
    if (err != ERR_OK) { /* lwIP 2.1.3 reports failures through tcp_err; kept for safety */
        forget();
        release(pcb, true);
        notify_lost(err_why(err, true));
        return leave(pcb);
    }
    ln.up = true;
    char peer[24];
    fmt_peer(pcb, peer, sizeof(peer));
    if (ln.who.psk) {
        uint8_t init[COLO_AUTH_MSG_MAX];
        struct colo_auth_cfg cfg = auth_cfg(true);
        size_t n = colo_auth_start(&ln.auth, &cfg, init, sizeof(init));
        ln.authing = true;
        ln.auth_ticks = 0;
        ln.auth_t0_us = time_now_us();
        if (!n || !auth_send(pcb, init, n)) {
            log_err("colo link: cannot start the handshake with %s: %s", peer,
                    n ? "send failed" : ln.auth.why);
            forget();
            release(pcb, true);
            notify_lost("no handshake");
            return leave(pcb);
        }
        log_info("colo link: connected to %s; authenticating", peer);
        return leave(pcb);
    }
    log_info("colo link: connected to %s (plain: no pair key)", peer);
    if (ln.ops.connected) {
        ln.ops.connected(ln.ops.ctx);
    }
    return leave(pcb);
}

static void close_current(bool abort)
{
    struct tcp_pcb *pcb = ln.pcb;
    if (!pcb) {
        return;
    }
    if (!abort && ln.up && !ln.broken) {
        pump(pcb); /* what TCP takes now still goes out before our FIN */
    }
    if (ln.fill > 0) {
        log_warn("colo link: closing with %zu queued bytes unsent", ln.fill);
    }
    forget();
    release(pcb, abort);
}

/* ---- incoming connections still authenticating ---- */

static void cand_forget(void)
{
    colo_auth_wipe(&ln.cand_auth);
    ln.cand = NULL;
    ln.cand_gen = 0;
}

/* Ends the candidate; inside its own callback the caller returns ERR_ABRT. */
static err_t cand_drop(struct tcp_pcb *pcb)
{
    detach(pcb);
    cand_forget();
    tcp_abort(pcb);
    return ERR_ABRT;
}

static bool is_cand(void *arg, const struct tcp_pcb *pcb)
{
    return pcb && pcb == ln.cand && (uintptr_t)arg == ln.cand_gen;
}

static err_t cand_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)err;
    if (!is_cand(arg, pcb)) {
        if (p) {
            pbuf_free(p);
        }
        return drop_stale(pcb);
    }
    char peer[24];
    fmt_peer(pcb, peer, sizeof(peer));
    if (!p) {
        log_warn("colo link: %s closed the connection before authenticating", peer);
        ln.refused.auth++;
        return cand_drop(pcb);
    }
    struct pbuf *q = p;
    size_t off = 0;
    enum colo_auth_state st = auth_run(&ln.cand_auth, pcb, &q, &off);
    if (st == COLO_AUTH_FAILED) {
        log_warn("colo link: connection from %s refused: %s", peer, ln.cand_auth.why);
        ln.refused.auth++;
        pbuf_free(p);
        return cand_drop(pcb);
    }
    if (st != COLO_AUTH_DONE) {
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        return ERR_OK;
    }
    /* Proven: only now may it take the place of the current connection. */
    static struct colo_auth done; /* static: it is large for a stack at EL2 */
    done = ln.cand_auth;
    detach(pcb);
    cand_forget();
    if (ln.pcb) {
        log_warn("colo link: %s authenticated; it replaces the current connection", peer);
        ln.refused.replaced++;
        close_current(true);
        notify_lost("replaced by an authenticated connection");
    }
    if (!ln.listener || ln.pcb) {
        /* lost() stopped listening or started a connection of its own: not wanted any more */
        colo_auth_wipe(&done);
        pbuf_free(p);
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    adopt(pcb, true);
    arm(pcb);
    enter(pcb);
    ln.auth_t0_us = ln.cand_t0_us;
    session_ready(pcb, &done, q, off);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return leave(pcb);
}

static err_t cand_poll(void *arg, struct tcp_pcb *pcb)
{
    if (!is_cand(arg, pcb)) {
        return drop_stale(pcb);
    }
    if (++ln.cand_ticks < AUTH_TICKS) {
        return ERR_OK;
    }
    char peer[24];
    fmt_peer(pcb, peer, sizeof(peer));
    log_warn("colo link: connection from %s dropped: no handshake within %u s", peer,
             AUTH_TICKS / 2);
    ln.refused.timeout++;
    return cand_drop(pcb);
}

static void cand_err(void *arg, err_t err)
{
    if (ln.cand && (uintptr_t)arg == ln.cand_gen) {
        /* lwIP freed the pcb: reset by the peer (one that failed our proof closes this way) */
        log_warn("colo link: a connection ended before authenticating (%s)", err_why(err, false));
        ln.refused.auth++;
        cand_forget();
    }
}

static void cand_close_any(void)
{
    if (ln.cand) {
        struct tcp_pcb *pcb = ln.cand;
        detach(pcb);
        cand_forget();
        tcp_abort(pcb);
    }
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb) {
        return ERR_VAL; /* out of pcbs: lwIP drops the SYN, the peer retries */
    }
    char peer[24];
    fmt_peer(pcb, peer, sizeof(peer));
    if (lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip))) != config_get()->peer_ip) {
        /* colo_link_tcp_filter drops such SYNs; the peer address may have changed since */
        ln.refused.syn++;
        log_warn("colo link: connection from %s refused: not the peer", peer);
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    if (ln.who.psk) {
        if (ln.cand) {
            log_warn("colo link: %s replaces a connection that had not authenticated", peer);
            ln.refused.auth++;
            cand_close_any();
        }
        ln.cand = pcb;
        ln.cand_gen = ++ln.next_gen;
        ln.cand_ticks = 0;
        ln.cand_t0_us = time_now_us();
        struct colo_auth_cfg cfg = auth_cfg(false);
        colo_auth_start(&ln.cand_auth, &cfg, NULL, 0);
        /* Killable for room until it proves itself (the current session's pcb is not). */
        tcp_setprio(pcb, TCP_PRIO_NORMAL);
        tcp_arg(pcb, (void *)ln.cand_gen);
        tcp_recv(pcb, cand_recv);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, cand_err);
        tcp_poll(pcb, cand_poll, POLL_TICKS);
        tcp_nagle_disable(pcb);
        log_info("colo link: connection from %s; authenticating", peer);
        return ERR_OK;
    }
    if (ln.pcb) {
        log_warn("colo link: %s replaces the current connection", peer);
        close_current(true);
        notify_lost("replaced by a new connection");
    }
    if (!ln.listener || ln.pcb) {
        /* lost() stopped listening or started a connection of its own: not wanted any more */
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    adopt(pcb, true);
    arm(pcb);
    log_info("colo link: connection from %s", peer);
    enter(pcb);
    if (ln.ops.connected) {
        ln.ops.connected(ln.ops.ctx);
    }
    return leave(pcb);
}

static void stop_listening(void)
{
    if (ln.listener) {
        tcp_close(ln.listener); /* never fails for a listener */
        ln.listener = NULL;
        ln.listen_port = 0;
    }
}

bool colo_link_listen(uint16_t port, const struct colo_link_ops *ops)
{
    struct netif *nif = hvnet_repl_netif();
    if (!nif) {
        log_err("colo link: no replication NIC to listen on");
        return false;
    }
    if (ln.listener && ln.listen_port == port) {
        ln.ops = *ops;
        return true;
    }
    if (ln.pcb && !ln.accepted) {
        close_current(false);
    }
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!pcb) {
        log_err("colo link: cannot listen on port %u: out of TCP pcbs", port);
        return false;
    }
    tcp_setprio(pcb, TCP_PRIO_MAX); /* inherited by the accepted pcbs */
    tcp_bind_netif(pcb, nif);
#if SO_REUSE
    ip_set_option(pcb, SOF_REUSEADDR); /* an old connection in TIME-WAIT must not block us */
#endif
    err_t err = tcp_bind(pcb, IP4_ADDR_ANY, port);
    if (err != ERR_OK) {
        tcp_close(pcb);
        log_err("colo link: cannot listen on port %u: %s", port,
                err == ERR_USE ? "in use" : "bind failed");
        return false;
    }
    struct tcp_pcb *l = tcp_listen(pcb);
    if (!l) {
        tcp_close(pcb);
        log_err("colo link: cannot listen on port %u: out of listen pcbs", port);
        return false;
    }
    stop_listening();
    tcp_arg(l, NULL);
    tcp_accept(l, on_accept);
    ln.listener = l;
    ln.listen_port = port;
    ln.ops = *ops;
    log_info("colo link: listening on port %u", port);
    return true;
}

bool colo_link_connect(uint32_t ip, uint16_t port, const struct colo_link_ops *ops)
{
    char a[16];
    config_fmt_ip4(ip, a, sizeof(a));
    struct netif *nif = hvnet_repl_netif();
    if (!nif) {
        log_err("colo link: no replication NIC to connect to %s:%u over", a, port);
        return false;
    }
    cand_close_any();
    stop_listening();
    close_current(false);
    ln.ops = *ops;
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!pcb) {
        log_err("colo link: cannot connect to %s:%u: out of TCP pcbs", a, port);
        return false;
    }
    tcp_bind_netif(pcb, nif);
    adopt(pcb, false);
    arm(pcb);
    ip_addr_t to = IPADDR4_INIT(lwip_htonl(ip));
    err_t err = tcp_connect(pcb, &to, port, on_connected);
    if (err != ERR_OK) {
        forget();
        release(pcb, true);
        log_err("colo link: cannot connect to %s:%u: %s", a, port, err_why(err, true));
        return false;
    }
    log_info("colo link: connecting to %s:%u", a, port);
    return true;
}

void colo_link_shutdown(void)
{
    cand_close_any();
    stop_listening();
    close_current(false);
}

void colo_link_lose_next(uint16_t type)
{
    ln.lose_type = type;
}

static bool link_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    if (!ln.pcb || !ln.up || ln.authing || ln.broken) {
        return false;
    }
    const uint8_t *b = buf;
    if (ln.lose_type && len >= 8 && (uint16_t)(b[6] | b[7] << 8) == ln.lose_type) {
        log_warn("colo link: a %zu-byte message lost on purpose (colo inject)", len);
        ln.lose_type = 0;
        return true;
    }
    if (len > RING_SIZE - ln.fill) {
        if (!ln.warned_full) {
            log_err("colo link: send of %zu bytes with only %zu free (space not checked)", len,
                    RING_SIZE - ln.fill);
            ln.warned_full = true;
        }
        return false;
    }
    size_t tail = (ln.head + ln.fill) % RING_SIZE;
    size_t first = MIN(len, RING_SIZE - tail);
    memcpy(ring + tail, buf, first);
    memcpy(ring, (const uint8_t *)buf + first, len - first);
    ln.fill += len;
    pump(ln.pcb);
    return true;
}

static size_t link_space(void *ctx)
{
    (void)ctx;
    return ln.pcb && ln.up && !ln.authing && !ln.broken ? RING_SIZE - ln.fill : 0;
}

static void link_close(void *ctx)
{
    (void)ctx;
    close_current(false);
}

static const struct colo_transport transport = {
    .send = link_send,
    .space = link_space,
    .close = link_close,
    .ctx = NULL,
};

const struct colo_transport *colo_link_transport(void)
{
    return &transport;
}

bool colo_link_up(void)
{
    return ln.pcb && ln.up && !ln.authing;
}

void colo_link_set_auth(const struct colo_link_auth *a)
{
    ln.who = *a;
}

const struct colo_session_keys *colo_link_keys(void)
{
    return ln.keyed ? &ln.keys : NULL;
}

void colo_link_refusals(struct colo_link_refusals *out)
{
    *out = ln.refused;
}

int colo_link_tcp_filter(const void *pcb, unsigned int src_be)
{
    if (!ln.listener || pcb != (const void *)ln.listener ||
        lwip_ntohl(src_be) == config_get()->peer_ip) {
        return 0;
    }
    if (ln.refused.syn++ == 0) {
        char ip[16];
        log_warn("colo link: refusing connections from %s (not the peer; counted from now on)",
                 config_fmt_ip4(lwip_ntohl(src_be), ip, sizeof(ip)));
    }
    return -1;
}

void colo_link_stats(struct colo_link_stats *out)
{
    out->bytes_tx = ln.bytes_tx;
    out->bytes_rx = ln.bytes_rx;
    out->queued = ln.fill;
}
