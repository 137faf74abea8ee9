/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checkpoint engine on the board: binds colo/ (the protocol and both state machines) to this
 * board's VM (struct vm, the dirty log, the vmstate stream) and to the replication link
 * (cv/colo_link.h), and carries out the operator's `colo` shell command (kernel/cmd/colo.c,
 * which parses the arguments and prints the replies). The board's role comes from its
 * configuration (cv/config.h): a secondary listens for its primary from boot; a primary enters
 * protection on `colo start`, or at boot with cv.colo_auto=1.
 *
 * Every state change prints one event line `colo: event=<what> role=... state=... epoch=...`
 * (docs/console.md) for scripts to follow.
 */
#ifndef CV_COLO_BOARD_H
#define CV_COLO_BOARD_H

#include <cv/types.h>

struct vm;

/** Allocates staging and starts listening (secondary) or auto-start (primary). Boot context,
 * after hvnet_init() and the guest's set-up. */
void colo_board_init(struct vm *vm);
/** Drives the engine: streaming, due checkpoints, retries, event lines. Main loop, every pass
 * (also from hv_wait_until), after hvnet_poll(). Cheap when idle. */
void colo_board_poll(void);

/**
 * Whether the COLO layer owns this board's guest, so that the operator must not run it by hand
 * (`guest resume`): a secondary holding a replica, replicating, or fenced; a primary in a
 * session. If so writes the reason (one line, no trailing newline) to why and returns true.
 */
bool colo_board_guest_held(char *why, size_t len);

/** Prints the output buffer's counters as key=value lines (for `net`). Hypervisor context. */
void colo_board_net_report(void);

/*
 * The `colo` command's actions. All run in hypervisor context (the shell), never from a callback
 * of the engine. Their refusals are returned for the caller to word; the board itself prints
 * only event lines and log lines. Where an action needs checkpointing (colo_board_ready()) it
 * says so, and returns COLO_BOARD_UNAVAILABLE without one.
 */

/** What an action did, or why it refused; each function lists the ones it returns. */
enum colo_board_result {
    COLO_BOARD_OK,
    COLO_BOARD_UNAVAILABLE,   /* checkpointing could not be set up at boot */
    COLO_BOARD_OUT_OF_RANGE,  /* a value outside its range */
    COLO_BOARD_BUSY,          /* a session (or the output it holds) is in the way: stop first */
    COLO_BOARD_NO_MEMORY,     /* the staging area could not be allocated (logged) */
    COLO_BOARD_STARTED,       /* start on a primary already protecting or trying to */
    COLO_BOARD_WAITING,       /* start on a secondary already waiting for its primary */
    COLO_BOARD_NOT_RUNNING,   /* start on a primary whose guest is not running */
    COLO_BOARD_LISTEN_FAILED, /* start on a secondary that could not listen */
    COLO_BOARD_NOT_STARTED,   /* stop on a primary that was not protecting: done anyway */
    COLO_BOARD_WRONG_ROLE,    /* failover on a primary */
    COLO_BOARD_NO_REPLICA,    /* failover without a committed checkpoint */
    COLO_BOARD_REFUSED,       /* switchover on a board that is not a protected primary */
    COLO_BOARD_NO_KEY,        /* start on a board without a pair key (and not cv.insecure=1) */
};

/** Checkpointing was refused at boot for want of a key (and cv.insecure=1 was not given). */
bool colo_board_no_key(void);
/** Whether checkpointing was set up at boot (staging memory, a replication NIC). */
bool colo_board_ready(void);
/** The state word of `colo status` and of event lines ("protected", "listening", ...). */
const char *colo_board_state_name(void);
/** Pages in the staging area: the most a checkpoint, or `colo measure`, can hold. */
uint32_t colo_board_staging_pages(void);

/** Prints `colo status`: key=value lines whose keys, and their order, scripts rely on. Works
 * without checkpointing too (role=none state=unavailable). */
void colo_board_print_status(void);
/** Prints `colo history`: a header line, then one line per recent checkpoint, oldest first. */
void colo_board_print_history(void);

/** What `colo measure` found: copy_bytes copied in copy_us, all ram_pages hashed in hash_us. */
struct colo_board_measure {
    uint64_t copy_bytes, copy_us, hash_us, ram_pages;
    uint32_t hash; /* the XOR of every page's hash, so that the hashing is not optimised out */
};

/**
 * Times the local part of a checkpoint pause with the guest held: copying pages guest pages
 * (1..colo_board_staging_pages()) into staging, then hashing all of guest RAM. Returns OK (*m
 * filled), UNAVAILABLE, OUT_OF_RANGE, BUSY (a session uses the staging) or NO_MEMORY.
 */
enum colo_board_result colo_board_measure(uint64_t pages, struct colo_board_measure *m);

/** The settings `colo set` changes, numbered for colo_board_set(). */
enum colo_board_setting {
    COLO_SET_CHECKPOINT_DELAY, /* ms; from the next checkpoint on */
    COLO_SET_DIRTY_THRESHOLD,  /* pages; 0: half the staging; from the next checkpoint on */
    COLO_SET_OUTPUT_DELAY,     /* ms held output may wait before it starts a checkpoint */
    COLO_SET_HB_PERIOD,        /* ms between heartbeats; restarts the heartbeat timer */
    COLO_SET_HB_MISS,          /* heartbeat periods of silence before the peer counts as dead */
    COLO_SET_BUFFER_KIB,       /* the output buffer's size; only while it holds nothing */
};

/** The settings as they are now, for the replies to `colo set`. */
struct colo_board_settings {
    uint32_t checkpoint_delay_ms, output_delay_ms, hb_period_ms, hb_miss;
    uint64_t dirty_threshold;
    size_t buffer_capacity; /* bytes */
    bool verify;
};
void colo_board_get_settings(struct colo_board_settings *s);

/**
 * Sets one setting to v. Returns OK, or OUT_OF_RANGE with the range accepted in *lo..*hi (1..0
 * if the configuration table lost the key); for COLO_SET_BUFFER_KIB also UNAVAILABLE, or BUSY
 * while the buffer holds the guest's output. Checkpointing need not be set up.
 */
enum colo_board_result colo_board_set(enum colo_board_setting what, uint64_t v, uint32_t *lo,
                                      uint32_t *hi);
/** Checkpoint verification for the next session. Returns OK, or BUSY on a primary in one (it
 * is agreed at the handshake). */
enum colo_board_result colo_board_set_verify(bool on);

/*
 * Start and stop leave the state's event line to colo_board_show_state(), so that the caller's
 * reply comes before it. Both need checkpointing.
 */

/** Primary: enters protection (and keeps re-entering it until stopped). Secondary: listens for
 * a primary again. Returns OK, STARTED or NOT_RUNNING (primary), WAITING or LISTEN_FAILED
 * (secondary), or UNAVAILABLE; the caller shows the state after OK and LISTEN_FAILED. */
enum colo_board_result colo_board_start(void);
/** Ends protection (a primary's after the checkpoint under way) or stops listening. Returns OK,
 * NOT_STARTED for a primary that was not protecting (stopped all the same), or UNAVAILABLE; the
 * caller shows the state after OK and NOT_STARTED. */
enum colo_board_result colo_board_stop(void);
/** Prints the event line for the state if it changed since the last one printed. */
void colo_board_show_state(void);

/** Secondary: runs the held replica as the primary (prints the failover event line). Returns
 * OK, UNAVAILABLE, WRONG_ROLE or NO_REPLICA. */
enum colo_board_result colo_board_failover(void);
/** `colo peer-down`: the operator says the peer is powered off; a primary that holds its output
 *  waiting for the peer (peer-check, degraded after a lost session) lets it go, a secondary
 *  with a replica takes over. REFUSED with *why when the peer is still heard or nothing waits
 *  for it. */
enum colo_board_result colo_board_peer_down(const char **why);
/** Protected primary: hands the guest to the secondary after the checkpoint under way. Returns
 * OK, UNAVAILABLE or REFUSED. */
enum colo_board_result colo_board_switchover(void);
/** `colo inject lose-abort`: the next ABORT this board sends on the replication link is lost
 *  (tests of the pair's decisions). Returns OK or UNAVAILABLE. */
enum colo_board_result colo_board_inject_lose_abort(void);

#endif
