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
 * a new incoming connection replaces the current one (which is aborted and reported with
 * lost("replaced by a new connection") before the new one's connected), because a restarted
 * primary reconnects while the old connection may still look alive. A connection made by
 * colo_link_connect() is closed first, without a lost callback. Called again on the same port,
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

/** True while a connection is established. Hypervisor context (main loop or shell). */
bool colo_link_up(void);

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
