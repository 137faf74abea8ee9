/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secondary's side of a COLO session: checks the primary's HELLO against its own, then
 * receives checkpoints into a staging area and applies one only when all of it has arrived and
 * verified (docs/colo-protocol.md, "Commit rule"); an overflow checkpoint, which arrives as
 * RAM_SYNC written straight into the VM, is undone from the undo log unless it commits. Whatever
 * goes wrong, the VM is left exactly at the last committed checkpoint and the session ends with
 * a logged reason (a replica found diverged by verification is given up instead).
 * All functions run in the engine's context (colo_transport.h).
 */
#ifndef COLO_SECONDARY_H
#define COLO_SECONDARY_H

#include <colo/input.h>
#include <colo/proto.h>
#include <colo/transport.h>
#include <colo/vm.h>

enum colo_sec_state {
    COLO_SEC_WAIT_HELLO,
    COLO_SEC_IDLE,      /**< between checkpoints: waiting for CHECKPOINT_REQUEST */
    COLO_SEC_WAIT_SEND, /**< replied, waiting for VMSTATE_SEND */
    COLO_SEC_RECEIVING, /**< staging RAM_PAGES / DEVICE_STATE until VMSTATE_SIZE */
    COLO_SEC_CLOSED,    /**< ended cleanly (guest shut down) */
    COLO_SEC_FAILED,    /**< ended on an error; reason in the status */
};

/** Staging memory, owned by the caller; bounds what one checkpoint may carry. */
struct colo_sec_config {
    struct colo_hello local; /**< this board's identity, compared with the primary's */
    uint64_t *stage_pfns;    /**< stage_pages entries */
    uint8_t *stage_data;     /**< stage_pages * COLO_PAGE_SIZE bytes */
    uint32_t stage_pages;
    uint8_t *stage_state; /**< stage_state_cap bytes */
    size_t stage_state_cap;
    /**
     * Verification (COLO_CAP_VERIFY) is offered only with both: verify_hashes has one entry per
     * guest RAM page, verify_state stage_state_cap bytes (the state re-saved after a load).
     */
    uint32_t *verify_hashes;
    uint8_t *verify_state;
    /**
     * The undo log: an overflow checkpoint's RAM_SYNC pages go straight into the replica, so
     * the page each one overwrites is saved first (undo_data, undo_pages pages, undo_pfns
     * entries; undo_map one bit per RAM page). A session whose undo area cannot hold all of
     * guest RAM is refused at the handshake: a dirty set of any size must be undoable.
     */
    uint8_t *undo_data;
    uint64_t *undo_pfns;
    uint64_t *undo_map;
    uint64_t undo_pages;
    /** The session's keys from the link's authentication (colo/auth.h): all messages sealed.
     *  NULL: plain framing (boards set cv.insecure=1, host tests). */
    const struct colo_session_keys *keys;
    /** The input log (colo/input.h); COLO_CAP_INPUT is offered only with one (input_cap
     *  bytes; a few times a checkpoint interval's worth of the guest's input). */
    uint8_t *input_mem;
    size_t input_cap;
};

struct colo_status {
    enum colo_role role;
    enum colo_sec_state state;
    uint64_t epoch;       /**< last committed checkpoint (0: none yet) */
    uint64_t checkpoints; /**< committed in this session */
    uint64_t last_pages;  /**< pages in the last committed checkpoint */
    uint64_t last_state_bytes;
    uint64_t bytes_rx, bytes_tx;
    uint64_t sync_pages;           /**< pre-copy pages written (RAM_SYNC) */
    uint64_t overflow_checkpoints; /**< committed checkpoints that came (partly) as RAM_SYNC */
    uint64_t undo_pages;           /**< replica pages saved to the undo log, in all */
    uint64_t rollbacks;            /**< overflow checkpoints undone: the replica went back */
    uint64_t undo_log_bytes;       /**< size of the undo area (its memory cost) */
    /** The VM equals committed checkpoint `epoch` (failover may use it); mid-overflow it does
     * once the session ends, which rolls the undo log back. */
    bool replica;
    uint32_t caps;   /**< agreed in the handshake */
    uint32_t reason; /**< enum colo_abort_reason once ended */
    char reason_text[96];
};

struct colo_secondary {
    const struct colo_vm *vm;
    const struct colo_transport *tr;
    struct colo_sec_config cfg;
    struct colo_status st;
    /* The checkpoint being received. */
    uint32_t npages;
    size_t state_len;
    uint32_t crc;
    uint64_t verify_next; /* next page whose VERIFY hash is due */
    uint64_t undo_n;      /* pages in the undo log: replica pages overwritten since the commit */
    /** Frames the primary's guest received since the replica's checkpoint; it outlives the
     *  session (a takeover replays it: colo_input_replay), a new session clears it. */
    struct colo_input input;
    struct colo_seal tx;     /* this session's sending key and message number */
    struct colo_decoder dec; /* last: large */
};

void colo_secondary_init(struct colo_secondary *s, const struct colo_vm *vm,
                         const struct colo_transport *tr, const struct colo_sec_config *cfg);
/** Delivers received bytes. Returns false once the session has ended (CLOSED or FAILED). */
bool colo_secondary_rx(struct colo_secondary *s, const void *data, size_t len);
/** The connection is gone: ends the session; a partly received checkpoint is dropped. */
void colo_secondary_conn_lost(struct colo_secondary *s);
/**
 * A frame for the guest reached this board itself while it holds a replica (the board asks
 * colo_pair_input_local() first): kept in the input log as a local frame. False if not kept.
 */
bool colo_secondary_local_input(struct colo_secondary *s, const void *frame, size_t len);
/** Ends the session by the operator's wish (ABORT(stopped) to the primary); replica kept. */
void colo_secondary_stop(struct colo_secondary *s);
const char *colo_sec_state_name(enum colo_sec_state st);

#endif
