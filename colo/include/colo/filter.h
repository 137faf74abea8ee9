/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The COLO buffer filter (output commit). While the guest is protected, a frame it sends may
 * depend on state the secondary does not have yet; if the primary died after sending it, the
 * secondary would resume from an older checkpoint and the outside world would have seen output
 * from a future that never happens. So frames are held until the checkpoint whose state produced
 * them (the next pause after they were sent) is committed on the secondary, then released in
 * the order the guest sent them.
 *
 * The buffer is a byte ring supplied by the caller; nothing is allocated. When it is full the
 * filter refuses frames instead of dropping them (colo_filter_room()): the guest's NIC keeps them
 * in its ring, which is the backpressure the guest's TCP already handles.
 *
 * Calling context for every function: engine context (hypervisor, between guest exits). The
 * filter is not reentrant: the emit callback must not call back into the same filter (it runs in
 * the middle of a ring walk); it should hand the frame to the NIC and return. The frame pointer
 * it gets is valid only for the duration of the call.
 */
#ifndef COLO_FILTER_H
#define COLO_FILTER_H

#include <colo/port.h>

/** Largest frame accepted: Ethernet without FCS. */
#define COLO_FILTER_MAX_FRAME 1514u
/** Bytes of each held record before the frame: [len u16][epoch u64], unaligned. */
#define COLO_FILTER_HDR 10u
/** Ring bytes one held frame of len bytes takes (plus, at the end of the ring, padding). */
#define COLO_FILTER_RECORD(len) (COLO_FILTER_HDR + (size_t)(len))
/** A ring of at least this many bytes can always hold one frame of any accepted size. */
#define COLO_FILTER_MIN_CAP COLO_FILTER_RECORD(COLO_FILTER_MAX_FRAME)

struct colo_filter_stats {
    uint64_t held_frames, held_bytes;         /* now in the buffer */
    uint64_t released_frames, released_bytes; /* total released after a commit or a flush */
    uint64_t passed_frames;                   /* went straight through (not holding) */
    uint64_t max_bytes;                       /* high-water mark of held bytes */
    uint64_t full_events;                     /* times colo_filter_room() said no */
    uint64_t flushed_frames;                  /* released by colo_filter_flush() (unprotected) */
    uint64_t discarded_frames;                /* thrown away by colo_filter_discard() */
};

struct colo_filter {
    /*
     * private: ring storage given by the caller. Records are [len u16][epoch u64][frame bytes],
     * each contiguous so that emit gets one pointer; a record that would cross the end of the
     * ring is placed at offset 0 instead, and the bytes skipped at the end count as used (a
     * len of 0 marks them, or nothing when fewer than COLO_FILTER_HDR bytes are left). When
     * used > 0, head is always at a record.
     */
    uint8_t *buf;
    size_t cap;
    size_t head, used;
    uint64_t open_epoch; /* epoch a newly held frame waits for */
    bool holding;
    void (*emit)(void *ctx, const uint8_t *frame, size_t len);
    void *ctx;
    struct colo_filter_stats st;
};

/**
 * Sets the filter up over buf (cap bytes, any alignment; it must outlive the filter), not
 * holding, stats zeroed. emit sends one frame out; it must not call into this filter.
 * A cap below COLO_FILTER_MIN_CAP works, but a frame whose record is larger than cap can never
 * be held (colo_filter_room() keeps saying no until the filter stops holding).
 * Engine context (hypervisor, between guest exits).
 */
void colo_filter_init(struct colo_filter *f, uint8_t *buf, size_t cap,
                      void (*emit)(void *ctx, const uint8_t *frame, size_t len), void *ctx);

/**
 * Starts holding: from now on frames wait for checkpoint `epoch` (the one whose pause comes
 * next). Called when protection begins, with an empty buffer. Called again while already
 * holding, it releases nothing and never lowers the open epoch (held tags must stay
 * non-decreasing in ring order); a larger `epoch` raises it, taking the frames still open along
 * (as colo_filter_checkpoint() does for a gap), so no frame waits less than before. A new
 * session must be preceded by colo_filter_flush() or colo_filter_discard() of the old one.
 * Engine context (hypervisor, between guest exits).
 */
void colo_filter_start(struct colo_filter *f, uint64_t epoch);

/**
 * True if a frame of len bytes can be taken now: not holding (it passes through), or holding
 * and the ring has room for its record. Callers with a frame they cannot hand over keep it
 * (backpressure): the guest's NIC leaves it in its ring until a commit frees room. Counts
 * full_events each time it says no for lack of room. A len outside 1..COLO_FILTER_MAX_FRAME is
 * a caller bug: always no, not counted.
 * Engine context (hypervisor, between guest exits).
 */
bool colo_filter_room(struct colo_filter *f, size_t len);

/**
 * Takes one guest frame (len 1..COLO_FILTER_MAX_FRAME): if not holding, emits it at once
 * (passed_frames); else copies it into the ring, tagged with the open epoch. Returns false only
 * if holding and there is no room (or len is out of range); then the frame is not taken and
 * nothing is emitted, so nothing is dropped silently. Callers check colo_filter_room() first.
 * Engine context (hypervisor, between guest exits).
 */
bool colo_filter_put(struct colo_filter *f, const uint8_t *frame, size_t len);

/**
 * Checkpoint `epoch` paused: the frames held so far belong to it, later ones wait for
 * epoch + 1. Normally `epoch` is the open epoch. A larger one (pauses the filter was not told
 * about) also moves the frames still open onto `epoch`, so that none is released by the commit
 * of a checkpoint that paused before it was sent. A smaller one (stale) changes nothing.
 * Ignored when not holding.
 * Engine context (hypervisor, between guest exits).
 */
void colo_filter_checkpoint(struct colo_filter *f, uint64_t epoch);

/**
 * Checkpoint `epoch` committed on the secondary: emits, in order, every held frame tagged
 * <= epoch, so skipped commits are covered by a later one. Frames of the open epoch (whose
 * pause has not been reported by colo_filter_checkpoint()) are never released here. A stale
 * commit releases nothing more.
 * Engine context (hypervisor, between guest exits).
 */
void colo_filter_commit(struct colo_filter *f, uint64_t epoch);

/**
 * Protection ended with the guest going on unprotected: emits everything held, in order
 * (released_frames and flushed_frames), and stops holding; later frames pass through.
 * Engine context (hypervisor, between guest exits).
 */
void colo_filter_flush(struct colo_filter *f);

/**
 * This board's guest output must never leave (the secondary took over): drops everything held
 * (discarded_frames), emits nothing, and stops holding.
 * Engine context (hypervisor, between guest exits).
 */
void colo_filter_discard(struct colo_filter *f);

/**
 * Fill level in per mille of cap, end-of-ring padding included since it is room a frame cannot
 * use either: for starting a checkpoint early when it passes a threshold. 1000 if cap is 0.
 * Engine context (hypervisor, between guest exits).
 */
unsigned colo_filter_fill_permille(const struct colo_filter *f);

#endif
