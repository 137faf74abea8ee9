/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The input log: the frames the primary's guest received since the replica's checkpoint, kept
 * on the secondary so that a guest taking over gets them at once (docs/colo.md "Input replay").
 *
 * Why it exists: a client whose request reached the primary just before it died has sent it
 * exactly once, and only its own retransmission timer, backed off during the silence, would
 * send it again; TCP gives no other way to make a Linux sender resend a lone segment (three
 * duplicate ACKs need three segments in flight, and with SACK pure duplicate ACKs are not loss
 * evidence at all). Delivering the logged frames to the resumed replica gives it the request
 * the dead primary's guest had, so it answers at once. It is safe: the frames' effects were
 * never seen by anyone (the dead guest's output that depended on them was held), so the new
 * guest receives each exactly once.
 *
 * Each frame carries the epoch whose checkpoint will contain its effect (the primary's last
 * paused checkpoint + 1). A commit of epoch N drops every frame of epoch N or below (the
 * replica has them); replay delivers those above the replica's epoch, in arrival order. The
 * memory is the caller's; records are packed (epoch u64, length u16, frame), so the log holds
 * as many frames as fit, and a frame that does not fit is dropped (the client retransmits it,
 * as it would without the log). Pure computation: any context, not reentrant.
 *
 * Local frames: what reaches the secondary's own service port for the guest while the primary
 * is silent (a switch floods the guest's address once the dead primary's port went down): a
 * client's request sent into the dead window. They are kept too, marked, and a replay skips
 * one that equals a forwarded frame it delivers (the same frame, seen on both boards).
 */
#ifndef COLO_INPUT_H
#define COLO_INPUT_H

#include <colo/port.h>

/** Shortest and longest frame kept (an Ethernet header; a VLAN-tagged 1500-byte frame). */
#define COLO_INPUT_MIN 14u
#define COLO_INPUT_MAX 1518u
/** Log bytes one record of a len-byte frame takes. */
#define COLO_INPUT_REC(len) (10u + (len))
/** In a record's length field: the frame was received locally, not forwarded. */
#define COLO_INPUT_LOCAL 0x8000u

struct colo_input_stats {
    uint64_t logged;   /**< frames added */
    uint64_t dropped;  /**< frames that did not fit */
    uint64_t pruned;   /**< frames a commit made unnecessary */
    uint64_t replayed; /**< frames handed to a guest that took over */
    uint64_t local;    /**< of the logged, frames received locally (colo_input_add_local) */
    uint64_t dups;     /**< local frames a replay skipped: the forwarded copy went instead */
};

struct colo_input {
    uint8_t *mem;
    size_t cap;
    size_t used;         /**< bytes of records in mem[0..used) */
    uint32_t count;      /**< records */
    uint64_t last_epoch; /**< the newest record's epoch (records never go back) */
    struct colo_input_stats st;
};

enum colo_input_res {
    COLO_INPUT_OK = 0,
    COLO_INPUT_FULL, /**< did not fit: dropped (counted) */
    COLO_INPUT_BAD,  /**< length outside COLO_INPUT_MIN..MAX, or an epoch older than the last */
};

/** An empty log over mem[0..cap). cap 0 (or mem NULL) makes a log that keeps nothing. */
void colo_input_init(struct colo_input *in, void *mem, size_t cap);
/** Forgets every record (a new session); the counters stay. */
void colo_input_clear(struct colo_input *in);
/** Appends one frame of epoch `epoch`. */
enum colo_input_res colo_input_add(struct colo_input *in, uint64_t epoch, const void *frame,
                                   size_t len);
/**
 * Appends a frame the secondary received itself; it belongs after `epoch` (the replica's
 * checkpoint), or after the newest frame logged if that is later. Same results as add.
 */
enum colo_input_res colo_input_add_local(struct colo_input *in, uint64_t epoch, const void *frame,
                                         size_t len);
/** Checkpoint `epoch` committed: drops the frames of it and of every epoch before it. */
void colo_input_prune(struct colo_input *in, uint64_t epoch);
/**
 * A replica of checkpoint `epoch` takes over: hands every frame of a later epoch to fn, oldest
 * first, then empties the log. Returns the number handed. fn must not call back into the log.
 */
uint32_t colo_input_replay(struct colo_input *in, uint64_t epoch,
                           void (*fn)(void *ctx, const uint8_t *frame, size_t len), void *ctx);

#endif
