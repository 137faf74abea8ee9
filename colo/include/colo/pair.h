/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pair decision: which board of a pair runs the guest, and when the guest's output may
 * leave, as one state machine over explicit inputs (heartbeats on each path, session events,
 * witness replies, timers, operator commands, boot) and outputs (the ops below). The board
 * code wires it to the checkpoint engine, the filter and the links and decides nothing itself;
 * host tests drive two of these and the witness rules through every fault (test_pair_model.c).
 * docs/colo.md "Pair safety" is the argument; the rules in short:
 *
 * - A primary releases output that no committed checkpoint covers (ALONE) only when the replica
 *   its peer may hold can never run: the peer said DROPPED for this very boot (on either path),
 *   the peer restarted (its replica was in the RAM it lost), a majority of witnesses granted
 *   CLAIM_ALONE (they will refuse the peer's takeover), the guest is fresh and the peer holds no
 *   replica of it, or the operator declared the peer powered off (`colo peer-down`). Until then
 *   it holds output (DECIDING, BOOT_CHECK). A silent peer alone is never enough: it may be a
 *   secondary cut off on both paths, about to take over.
 * - A secondary takes over only while its replica is valid (ARMED): on the primary's silence on
 *   both heartbeat paths and the session (without witnesses at once, with them on a majority's
 *   CLAIM_TAKEOVER), on the primary's restart, on a planned switchover, on the primary handing
 *   the guest back, or on `colo failover`. It drops the replica for good (STALE, and says
 *   DROPPED) on any sign the primary went on without it: ALONE or WANT_DROP or SHUTDOWN from the
 *   primary's boot, a stopped or shut-down session, a witness's STALE_REPLICA.
 * - A board that hears its peer run the guest after a takeover, or is told by a witness that
 *   the peer owns it, gives its copy up (fence) unless it is itself the protected primary.
 */
#ifndef COLO_PAIR_H
#define COLO_PAIR_H

#include <colo/hb.h>
#include <colo/port.h>
#include <colo/witness.h>

enum colo_pair_state {
    COLO_PAIR_OFF = 0,    /**< not started (colo_pair_init not called) */
    COLO_PAIR_BOOT_CHECK, /**< primary, fresh guest: output held until no other copy can run */
    COLO_PAIR_ALONE,      /**< primary, guest unprotected: output goes out as the guest sends it */
    COLO_PAIR_CONNECTING, /**< primary, unprotected, a session is being set up (output free) */
    COLO_PAIR_PROTECTING, /**< primary with a session: output leaves as checkpoints commit */
    COLO_PAIR_DECIDING,   /**< primary, session over, output held until the replica is dropped */
    COLO_PAIR_SHUTDOWN,   /**< the guest shut down: nothing runs on either board */
    COLO_PAIR_STANDBY,    /**< secondary without a replica, waiting for a primary */
    COLO_PAIR_SYNCING,    /**< secondary, a session fills its replica (not yet valid) */
    COLO_PAIR_ARMED,      /**< secondary with a valid replica: may take over */
    COLO_PAIR_CLAIMING,   /**< secondary asking the witnesses for the takeover */
    COLO_PAIR_STALE,      /**< secondary whose replica may never run (dropped), waiting */
    COLO_PAIR_STATES,
};

/** Why a session ended (colo_pair_session_end). */
enum colo_pair_end {
    COLO_PAIR_END_LOST = 0,   /**< link or peer failure, a timeout, a protocol error */
    COLO_PAIR_END_STOPPED,    /**< the primary stopped protection (`colo stop`) */
    COLO_PAIR_END_SHUTDOWN,   /**< the guest shut down (GUEST_SHUTDOWN committed) */
    COLO_PAIR_END_SWITCHOVER, /**< the primary handed the guest over at the last checkpoint */
};

/**
 * What the machine makes the board do. Every op is called from the machine's inputs, in engine
 * context, and must not call back into the machine. ctx is colo_pair_cfg.ctx.
 */
struct colo_pair_ops {
    /** Hold all of the guest's output from now on, commits or not (a fresh guest at boot). */
    void (*hold_output)(void *ctx);
    /** Let held output go and let the guest's output run free (the guest is unprotected). */
    void (*release_output)(void *ctx);
    /** Primary: start setting up a session with the peer; its end comes as session_end. */
    void (*connect)(void *ctx);
    /** Secondary: accept a primary's session. */
    void (*listen)(void *ctx);
    /** End the session (if any) at once, without a message to the peer. */
    void (*end_session)(void *ctx);
    /** Run the replica as the guest, announce its addresses. False if it cannot (the machine
     *  drops the replica then). */
    bool (*take_over)(void *ctx, uint64_t epoch);
    /** Stop this board's guest for good and discard its held output. */
    void (*fence)(void *ctx);
    /** Send heartbeat h on both paths (the board fills path and encodes). */
    void (*send_hb)(void *ctx, const struct colo_hb *h);
    /** Send the witness request buf to configured witness i. */
    void (*send_witness)(void *ctx, unsigned i, const void *buf, size_t len);
    /** A decision worth a console line: what ("failover", "fenced", "alone", ...), why. */
    void (*event)(void *ctx, const char *what, const char *why);
};

struct colo_pair_cfg {
    char board;        /**< 'a' or 'b' */
    bool primary;      /**< booted as the primary (it runs a fresh guest) */
    bool auto_protect; /**< a primary seeks protection by itself (cv.colo_auto) */
    uint64_t boot_id;  /**< never 0 */
    uint32_t period_ms, miss;
    unsigned witnesses; /**< 0..COLO_WITNESS_MAX */
    uint32_t lease_ms;  /**< the lease asked of the witnesses */
    uint8_t pair_id[6]; /**< the guest's MAC */
    /** The heartbeat key and the witness MAC key (COLO_KEY_LEN bytes each, kept by reference
     *  and alive as long as the machine), or NULL: CRC-sealed datagrams (cv.insecure=1). */
    const uint8_t *hb_key, *witness_key;
    const struct colo_pair_ops *ops;
    void *ctx;
};

/** One witness request in flight (a round): sent to all, counted per witness. */
struct colo_pair_req {
    uint8_t kind; /**< enum colo_wq_kind, 0: none */
    /** The round's first transmission's nonce and the latest's: each transmission has its
     *  own (colo_pair.nonce_seq), and a reply to any of them counts. */
    uint64_t nonce_first, nonce;
    uint64_t term, epoch;
    uint64_t sent_us, next_us; /**< first send; next retransmission */
    uint8_t granted, refused;  /**< bitmaps per witness */
    uint8_t reason;            /**< the last refusal's reason */
    uint8_t mode;              /**< RENEW: the mode renewed */
    uint32_t wait_ms;          /**< the longest wait a refusal asked for */
};

struct colo_pair {
    struct colo_pair_cfg cfg;
    enum colo_pair_state state;
    bool primary_role; /**< this board acts as the primary now */
    bool want_protect; /**< primary: (re)connect when a secondary listens */
    bool took_over;    /**< runs a replica it took over; no secondary holds it yet */
    bool peer_down;    /**< the operator said the peer is powered off (until it is heard) */
    bool committed;    /**< primary: the current session committed at least once */
    /* the replica (secondary) or the last commit (primary) */
    uint64_t epoch;
    uint64_t rep_boot;     /**< secondary: the primary boot the replica belongs to */
    uint64_t session_peer; /**< the peer's boot when the current session started */
    uint64_t dropped_boot; /**< secondary: the primary boot whose replica it dropped */
    uint64_t session_rx_us;
    /** The peer's newest heartbeat when the session started: a flag in one sent before says
     *  nothing about this session's replica. */
    uint64_t session_hb_boot, session_hb_seq;
    uint64_t since_us;   /**< entered the current state */
    uint64_t connect_us; /**< the last connect (attempts are RETRY_CONNECT_MS apart) */
    uint64_t hb_seq;
    uint64_t hb_sent_us; /**< the last heartbeat sent (tick or keepalive) */
    uint64_t max_term, won_term;
    uint8_t rec_mode;        /**< the witness record's mode as this board last won it */
    uint64_t lease_until_us; /**< owner: the majority-granted lease runs until then */
    uint64_t next_renew_us;
    struct colo_pair_req req;
    uint64_t nonce_seq; /**< the last nonce sent: from 1, +1 per request, never reused */
    struct colo_hb_peer peer;
    char why[96];
    /* counters for `colo status` */
    uint64_t failovers, fences, drops, claims, witness_tx, witness_rx, witness_bad;
};

/** Starts the machine: a primary enters BOOT_CHECK (its guest's output held), a secondary
 *  STANDBY (listening). Engine context. */
void colo_pair_init(struct colo_pair *p, const struct colo_pair_cfg *cfg, uint64_t now_us);

/** Every heartbeat period (and after each input burst): send, check timers, act. Engine. */
void colo_pair_tick(struct colo_pair *p, uint64_t now_us, uint64_t now_ticks);

/**
 * From inside a long loop of the board's (releasing a large held output, for one): sends the
 * heartbeat the loop would otherwise delay, if a period has passed since the last one, and
 * decides nothing (that waits for the next tick). Safe wherever the send_hb op is.
 */
void colo_pair_keepalive(struct colo_pair *p, uint64_t now_us, uint64_t now_ticks);

/** A heartbeat datagram arrived on path. Engine context. */
enum colo_hb_err colo_pair_hb_rx(struct colo_pair *p, unsigned path, const void *buf, size_t len,
                                 uint64_t now_us, uint64_t now_ticks);

/** A reply datagram from witness i. Returns false if it was refused (counted). Engine. */
bool colo_pair_witness_rx(struct colo_pair *p, unsigned i, const void *buf, size_t len,
                          uint64_t now_us);

/* Session events, from the board's engine callbacks. */
void colo_pair_session_start(struct colo_pair *p, uint64_t now_us); /**< connected */
void colo_pair_session_rx(struct colo_pair *p, uint64_t now_us);    /**< any bytes from the peer */
/** A checkpoint committed: on the secondary its replica is epoch now, on the primary its
 *  secondary acknowledged it. */
void colo_pair_session_committed(struct colo_pair *p, uint64_t epoch, uint64_t now_us);
/** Secondary: a new synchronisation began writing over the replica. */
void colo_pair_replica_invalid(struct colo_pair *p, uint64_t now_us);
void colo_pair_session_end(struct colo_pair *p, enum colo_pair_end why, uint64_t now_us);
/** The guest powered itself off (primary) with no session to carry it. */
void colo_pair_guest_shutdown(struct colo_pair *p, uint64_t now_us);

/* Operator commands. Each returns false, with p->why explaining, when refused. */
bool colo_pair_start(struct colo_pair *p, uint64_t now_us);     /**< `colo start` */
bool colo_pair_stop(struct colo_pair *p, uint64_t now_us);      /**< `colo stop` */
bool colo_pair_failover(struct colo_pair *p, uint64_t now_us);  /**< `colo failover` */
bool colo_pair_peer_down(struct colo_pair *p, uint64_t now_us); /**< `colo peer-down` */
void colo_pair_set_hb(struct colo_pair *p, uint32_t period_ms, uint32_t miss);

/** The state's name as `colo status` prints it ("protecting", ...). Pure. */
const char *colo_pair_state_name(enum colo_pair_state s);

/**
 * A secondary keeps the frames for the guest that reach it itself (colo/input.h, local frames)
 * only while it holds a valid replica and the primary has been silent for a heartbeat period
 * on both paths and the session: when a switch floods the guest's address because the dead
 * primary's port went down, not while the primary receives them too. Pure.
 */
bool colo_pair_input_local(const struct colo_pair *p, uint64_t now_us);

/** The guest's output may leave without a commit now (ALONE/CONNECTING). Pure. */
bool colo_pair_output_free(const struct colo_pair *p);

/** This board runs the guest now (as the primary, in any primary state but SHUTDOWN). Pure. */
bool colo_pair_runs_guest(const struct colo_pair *p);

/** The replica: "yes" (ARMED/CLAIMING), "stale" (dropped), "no" (none, or the guest shut
 *  down). Pure. */
const char *colo_pair_replica_name(const struct colo_pair *p);

#endif
