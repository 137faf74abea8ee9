/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The primary's side of a COLO session (docs/colo-protocol.md): the handshake, entering
 * protection by iterative pre-copy while the guest runs, then periodic checkpoints. A checkpoint
 * pauses the guest only for the local copy of its dirty pages and device state into the staging
 * area; the guest runs again while the staged copy streams to the secondary.
 *
 * Driving it: colo_primary_start() once the transport is connected, colo_primary_rx() with every
 * received chunk, colo_primary_conn_lost() when the connection drops, and colo_primary_poll()
 * often (every main-loop pass): it streams as the transport has room and starts checkpoints
 * when they are due. All functions run in the engine's context (colo_transport.h).
 */
#ifndef COLO_PRIMARY_H
#define COLO_PRIMARY_H

#include <colo/proto.h>
#include <colo/transport.h>
#include <colo/vm.h>

enum colo_pri_state {
    COLO_PRI_IDLE,      /**< no session */
    COLO_PRI_HANDSHAKE, /**< HELLO sent; waiting for HELLO_ACK and CHECKPOINT_READY */
    COLO_PRI_SYNC,      /**< entering protection: pre-copy passes while the guest runs */
    COLO_PRI_PROTECTED, /**< the secondary holds a committed checkpoint; checkpoints go on */
    COLO_PRI_CLOSED,    /**< ended cleanly (stopped, guest shut down) */
    COLO_PRI_FAILED,    /**< ended on an error; the guest runs on unprotected */
};

/** Where the current checkpoint is. */
enum colo_pri_ckpt {
    COLO_CK_NONE,
    COLO_CK_WAIT_REPLY,  /**< CHECKPOINT_REQUEST sent */
    COLO_CK_PAUSED_SYNC, /**< dirty set over the staging limit: guest held, pages as RAM_SYNC */
    COLO_CK_STREAM,      /**< staged; streaming while the guest runs */
    COLO_CK_WAIT_ACK,    /**< all sent; waiting for VMSTATE_RECEIVED / VMSTATE_LOADED */
};

/** Memory, owned by the caller. Staging bounds one checkpoint (with the secondary's limit). */
struct colo_pri_config {
    struct colo_hello local; /**< caps: COLO_CAP_VERIFY asks for verification */
    uint64_t *stage_pfns;    /**< stage_pages entries */
    uint8_t *stage_data;     /**< stage_pages * COLO_PAGE_SIZE bytes */
    uint32_t stage_pages;
    uint8_t *stage_state; /**< stage_state_cap bytes */
    size_t stage_state_cap;
    uint64_t *bitmap;        /**< dirty_bitmap_words(ram pages) words */
    uint32_t *verify_hashes; /**< one per RAM page; NULL: no verification */
    uint8_t *msg;            /**< encode buffer of COLO_PRI_MSG_CAP bytes */
    uint64_t (*now_us)(void);
    /**
     * Optional, for output commit: on_pause(epoch) as the guest resumes after checkpoint
     * `epoch` was staged (what it does from now on belongs to epoch + 1), on_commit(epoch) when
     * the secondary committed it. Engine context; they must not call back into the engine.
     */
    void (*on_pause)(void *ctx, uint64_t epoch);
    void (*on_commit)(void *ctx, uint64_t epoch);
    void *hook_ctx;
};

/** Pages per RAM_PAGES / RAM_SYNC message the primary sends. */
#define COLO_PRI_PAGES_PER_MSG 32u
#define COLO_PRI_MSG_CAP                                                                           \
    (COLO_HDR_SIZE + 4u + COLO_PRI_PAGES_PER_MSG * COLO_PAGE_ENTRY + COLO_TRAILER_MAX)
/**
 * The dirty threshold is checked against a count at most this old: dirty_count() may scan all of
 * stage 2 (DBM mode), far too dear for every main-loop pass, i.e. every guest exit.
 */
#define COLO_PRI_COUNT_PERIOD_US 1000u
/** Device-state and VERIFY chunk size. */
#define COLO_PRI_CHUNK ((COLO_PRI_MSG_CAP - COLO_HDR_SIZE - COLO_TRAILER_MAX) & ~15u)

/** Run-time settings (colo set). */
struct colo_pri_settings {
    uint32_t delay_ms;        /**< checkpoint every delay_ms (from the start of the previous) */
    uint64_t dirty_threshold; /**< ... or as soon as this many pages are dirty */
    uint32_t ack_timeout_ms;  /**< a checkpoint not acknowledged in this time ends the session */
};

struct colo_pri_stats {
    uint64_t epoch;       /**< last committed checkpoint */
    uint64_t checkpoints; /**< committed in this session */
    uint64_t sync_passes, sync_pages;
    uint64_t sync_us; /**< handshake done -> first checkpoint committed */
    uint64_t last_pages, last_bytes, last_pause_us, last_xfer_us;
    uint64_t total_pages, total_bytes, total_pause_us, total_xfer_us;
    uint64_t max_pause_us;
    uint64_t early;        /**< checkpoints started by the dirty threshold or the staging limit */
    uint64_t paused_syncs; /**< checkpoints whose dirty set overflowed staging */
    uint64_t bytes_tx, bytes_rx;
    /** INPUT: frames forwarded to the secondary's input log, and those left out because the
     *  link had no room for them (they cost only a faster failover, never correctness). */
    uint64_t input_frames, input_bytes, input_skipped;
    uint32_t caps;        /**< agreed in the handshake */
    uint32_t limit_pages; /**< pages one checkpoint may carry (min of both sides) */
    uint32_t reason;      /**< enum colo_abort_reason once ended */
    char reason_text[160];
};

struct colo_primary {
    const struct colo_vm *vm;
    const struct colo_transport *tr;
    struct colo_pri_config cfg;
    struct colo_pri_settings set;
    enum colo_pri_state state;
    enum colo_pri_ckpt ck;
    struct colo_pri_stats st;
    uint64_t ram_pages;
    size_t limit_state;
    bool got_ack;
    bool stopping;  /* colo stop: end once the current checkpoint is committed */
    bool switching; /* colo switchover: a last checkpoint with the guest held, then hand over */
    bool holding;   /* that last checkpoint keeps the guest paused */
    bool shutdown;  /* the guest powered off: end with GUEST_SHUTDOWN */
    /* pre-copy */
    uint64_t cursor;     /* next page to look at in the bitmap */
    uint64_t pass_pages; /* pages sent in the current pass */
    uint64_t prev_dirty;
    uint64_t sync_start_us;
    /* the current checkpoint */
    uint64_t cur;             /* its epoch */
    uint64_t ck_start_us;     /* request sent */
    uint64_t resume_us;       /* guest resumed after the copy */
    uint64_t ack_deadline_us; /* 0: none */
    bool early;
    uint32_t npages;     /* staged pages */
    size_t state_len;    /* staged state bytes */
    uint32_t sent_pages; /* streamed so far */
    size_t sent_state;
    uint64_t sent_verify;
    bool sent_begin;
    uint32_t crc;
    uint64_t bytes_ck; /* bytes sent for this checkpoint */
    uint64_t next_due_us;
    uint64_t input_epoch;    /* the checkpoint that will hold what the guest receives now */
    uint64_t count_at_us;    /* when dirty_count() last ran; 0: never in this session */
    uint64_t dirty_counts;   /* dirty_count() calls in this session (cost of the threshold check) */
    struct colo_seal tx;     /* this session's sending key and message number */
    struct colo_decoder dec; /* last: large */
};

void colo_primary_init(struct colo_primary *p, const struct colo_vm *vm,
                       const struct colo_transport *tr, const struct colo_pri_config *cfg,
                       const struct colo_pri_settings *set);
/** The transport is connected: starts the handshake (and a new session), plain framing. */
void colo_primary_start(struct colo_primary *p);
/**
 * The same for a session whose keys the link's authentication derived (colo/auth.h): every
 * message both ways is sealed (keys NULL: plain, as colo_primary_start).
 */
void colo_primary_start_sealed(struct colo_primary *p, const struct colo_session_keys *keys);
/** Delivers received bytes. Returns false once the session has ended. */
bool colo_primary_rx(struct colo_primary *p, const void *data, size_t len);
/** Streams, starts due checkpoints, checks timeouts. Returns false once the session has ended. */
bool colo_primary_poll(struct colo_primary *p);
/**
 * The guest just received frame[0..len) (written into its RAM): forwards it to the secondary's
 * input log (COLO_MSG_INPUT, tagged with the checkpoint that will contain it) when the session
 * agreed COLO_CAP_INPUT, a checkpoint of this session has been taken, and the link has room at
 * once; never waits. Returns true if it was sent.
 */
bool colo_primary_input(struct colo_primary *p, const void *frame, size_t len);
/** Asks for a checkpoint at the next poll (e.g. the guest's output buffer filled up). */
void colo_primary_request(struct colo_primary *p);
/** The connection is gone: ends the session; the guest runs on (resumed if it was held). */
void colo_primary_conn_lost(struct colo_primary *p);
/**
 * Ends the session by the operator's wish: ABORT(stopped) to the secondary, the guest runs on.
 * A checkpoint under way is completed first (colo_primary_active() stays true until then).
 */
void colo_primary_stop(struct colo_primary *p);
/**
 * Planned hand-over (protected only; false otherwise): after the checkpoint under way, one more
 * with the guest held and not resumed; once it is committed the secondary is told to take over
 * (ABORT(switchover)) and the session ends with the guest still paused here.
 */
bool colo_primary_switchover(struct colo_primary *p);
/** The guest powered off: GUEST_SHUTDOWN after the checkpoint under way; the session ends. */
void colo_primary_guest_shutdown(struct colo_primary *p);
/** True while a session is open (handshake, sync or protected). */
bool colo_primary_active(const struct colo_primary *p);
const char *colo_pri_state_name(enum colo_pri_state st);
const char *colo_pri_ckpt_name(enum colo_pri_ckpt ck);

#endif
