/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The COLO replication connection on the board: one TCP connection over the replication NIC's
 * lwIP netif (cv/hvnet.h), the secondary listening and the primary connecting. It gives the
 * engine its byte-stream transport (colo/include/colo/transport.h): sends are copied into a 4 MiB
 * ring and handed to TCP as its send buffer frees up, received bytes go to ops->rx as they arrive.
 *
 * The ops callbacks run from lwIP, i.e. inside hvnet_poll() in the main loop (or wherever the
 * main loop's work is run while the shell waits). They may call the transport's send, space
 * and close and any colo_link_* function, including from rx; a connection closed or replaced
 * from inside a callback gets no further callbacks, not even the rest of the current rx data.
 * A dead peer is noticed within about 5 s of silence (TCP keepalive); a connect nobody answers
 * ends after lwIP's SYN retries (about 20 s).
 */
#ifndef CV_COLO_LINK_H
#define CV_COLO_LINK_H

#include <cv/types.h>

struct colo_transport;
struct colo_session_keys;

/**
 * Who this board is on the link, and the pair's key. With a key every connection first runs the
 * handshake of colo/auth.h and is reported connected only once both boards proved they hold the
 * key; without one (cv.insecure=1) connections are plain. Either way only the configured peer
 * (cv.peer_ip, read at each connection) may connect: SYNs from any other address are dropped
 * before lwIP spends a pcb on them.
 */
struct colo_link_auth {
    const uint8_t *psk; /**< COLO_KEY_LEN bytes, kept by the caller; NULL: plain */
    uint8_t role;       /**< COLO_ROLE_* */
    char board, peer_board;
    uint64_t boot_id;
};

struct colo_link_ops {
    /** The TCP connection is established (either side). */
    void (*connected)(void *ctx);
    /** Bytes received, in order, in chunks of any size. */
    void (*rx)(void *ctx, const void *data, size_t len);
    /**
     * The connection is gone (reset, timeout, peer closed, refused, replaced); no more
     * callbacks for it. why is a static string for the log.
     */
    void (*lost)(void *ctx, const char *why);
    void *ctx;
    /**
     * Optional: the peer acknowledged bytes this side sent. Evidence that it is alive and
     * reading even while it has nothing to say (a long pre-copy), where heartbeats are lost.
     */
    void (*acked)(void *ctx);
};

/**
 * Secondary: listens on port, any address of the replication netif. One connection at a time:
 * a new incoming connection replaces the current one once it has authenticated (the current one
 * is then aborted and reported with lost("replaced by an authenticated connection") before the
 * new one's connected), because a restarted primary reconnects while the old connection may
 * still look alive; one that fails or does not finish the handshake within 3 s is dropped and
 * the current session never notices. Plain (no key): replaced at once, as before. A connection made
 * by colo_link_connect() is closed first, without a lost callback. Called again on the same port,
 * it only replaces ops (also for the current connection); on another port it moves the
 * listener and keeps the current connection. False (logged) without a replication NIC or if
 * the port cannot be bound.
 * Hypervisor context (main loop or shell).
 */
bool colo_link_listen(uint16_t port, const struct colo_link_ops *ops);

/**
 * Primary: connects to ip (host byte order, as in cv/config.h) : port over the replication
 * netif. Stops listening and closes any current connection first, without a lost callback.
 * Non-blocking: the outcome comes through ops->connected or ops->lost. False (logged, no
 * callback follows) without a replication NIC or if lwIP refuses at once (no route, no pcb).
 * Hypervisor context (main loop or shell).
 */
bool colo_link_connect(uint32_t ip, uint16_t port, const struct colo_link_ops *ops);

/**
 * Stops listening and closes any connection gracefully (what TCP already accepted is still
 * delivered); no callbacks afterwards.
 * Hypervisor context (main loop or shell).
 */
void colo_link_shutdown(void);

/**
 * The engine-facing transport (colo/include/colo/transport.h). It always acts on the current
 * connection: send fails and space is 0 without an established one, and after lost() it must
 * not be used for the old session (it would talk to the next connection).
 * Hypervisor context (main loop or shell).
 */
const struct colo_transport *colo_link_transport(void);

/** Sets who we are and the key (copied by pointer) for the connections from now on. */
void colo_link_set_auth(const struct colo_link_auth *a);

/**
 * The current connection's session keys once connected() was called for it (the engine seals
 * with them), NULL for a plain connection. Hypervisor context.
 */
const struct colo_session_keys *colo_link_keys(void);

/** True while a connection is established (and authenticated). Hypervisor context. */
bool colo_link_up(void);

/** What the link refused since boot (`colo status`: link_refused_*). */
struct colo_link_refusals {
    uint64_t syn;          /**< SYNs from an address other than the peer's */
    uint64_t auth;         /**< connections that failed the handshake */
    uint64_t timeout;      /**< connections that did not finish it in time */
    uint64_t replaced;     /**< authenticated connections that replaced the current one */
    uint64_t handshake_us; /**< the last handshake: TCP connected (or accepted) to proven */
};
void colo_link_refusals(struct colo_link_refusals *out);

/**
 * lwIP's TCP input hook (lwipopts.h, LWIP_HOOK_TCP_INPACKET_PCB): 0 lets the segment in, -1
 * drops it. Refuses segments to the listener from any address but the peer's. lwIP context.
 */
int colo_link_tcp_filter(const void *pcb, unsigned int src_be);

/** Counters of the current connection, or of the last one once it is gone. */
struct colo_link_stats {
    uint64_t bytes_tx; /* handed to TCP */
    uint64_t bytes_rx; /* delivered to ops->rx */
    size_t queued;     /* in the tx ring, not yet accepted by TCP */
};

/** Fills *out. Hypervisor context (main loop or shell). */
void colo_link_stats(struct colo_link_stats *out);

/**
 * Fault injection for tests (`colo inject`): the next message of this COLO type that the
 * engine sends is dropped as if the cable had lost it (send reports success). 0 cancels.
 * Hypervisor context.
 */
void colo_link_lose_next(uint16_t type);

#endif
