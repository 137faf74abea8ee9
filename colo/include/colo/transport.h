/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The byte-stream transport between the two boards (TCP over the replication link on the board,
 * a scripted fake in host tests). Sending is a call; receiving is a delivery: the owner of the
 * connection hands every chunk it receives, in order and of any size, to the engine's rx
 * function (colo_secondary_rx), and reports a lost connection with the engine's conn_lost.
 * Calls are made from the engine's context.
 */
#ifndef COLO_TRANSPORT_H
#define COLO_TRANSPORT_H

#include <colo/port.h>

struct colo_transport {
    /** Queues all len bytes in order; false if the connection is gone (nothing more is sent). */
    bool (*send)(void *ctx, const void *buf, size_t len);
    /**
     * Bytes send() can queue right now. The primary streams a checkpoint message by message as
     * room appears instead of queueing it whole; NULL means unbounded (host tests).
     */
    size_t (*space)(void *ctx);
    /** Closes the connection; no more deliveries follow. */
    void (*close)(void *ctx);
    void *ctx;
};

#endif
