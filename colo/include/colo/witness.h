/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The witness (docs/colo-protocol.md "Witness"): a UDP service on the service LAN that keeps, per
 * pair, one record deciding which board owns the guest after a fault the two boards cannot settle
 * between themselves. This file has its wire codec (64-byte request CVWQ, 64-byte reply CVWR),
 * the decision rules as a pure function over one record (the C twin of tools/cv-witness; both
 * replay tests/witness/scenarios.txt), and the board-side helpers for terms and majorities.
 *
 * Request, board -> witness (little-endian, 76 bytes, sealed at 60):
 *
 *    0 magic u32 'CVWQ'  4 version u16 (2)  6 kind u8  7 board u8 ('a'/'b')  8 pair u8[6] (MAC)
 *   14 mode u8 (RENEW only, else 0)  15 reserved u8 (0)  16 nonce u64  24 boot_id u64 (never 0)
 *   32 term u64  40 epoch u64  48 ttl_ms u32  52 reserved u8[8] (0)  60 seal u8[16]
 *
 * Reply, witness -> board:
 *
 *    0 magic u32 'CVWR'  4 version u16 (2)  6 kind u8  7 board u8  8 pair u8[6]  14 verdict u8
 *   15 reason u8  16 nonce u64  24 term u64  32 epoch u64  40 owner u8 ('a'/'b'/0)  41 mode u8
 *   42 reserved u16 (0)  44 ttl_ms u32  48 wait_ms u32  52 reserved u8[8] (0)  60 seal u8[16]
 *
 * The seal: with a witness key, HMAC-SHA-256 of bytes 0..59 under the witness MAC key
 * (colo_witness_mac_key()), truncated to 16 bytes; without one (cv.insecure=1, cv-witness
 * --insecure), CRC32C of bytes 0..59 and 12 zero bytes. The nonce is a counter per boot of the
 * board's (from 1, one per transmission): a witness answers a (pair, board, boot_id) only above
 * the last nonce it accepted from it (colo_witness_replay), a board takes a reply only for a
 * nonce of its round in flight.
 *
 * Both decoders are strict: a field a kind does not use must be 0, and every value must be one
 * the other side can produce (the list is at colo_wq_decode and colo_wr_decode), so that a
 * witness never acts on, and a board never believes, a datagram no correct peer sends. A
 * refused request gets no reply.
 */
#ifndef COLO_WITNESS_H
#define COLO_WITNESS_H

#include <colo/port.h>

#define COLO_WQ_MAGIC 0x51575643u /* the bytes "CVWQ" on the wire */
#define COLO_WR_MAGIC 0x52575643u /* "CVWR" */
#define COLO_WITNESS_VERSION 2u
#define COLO_WITNESS_LEN 76u
#define COLO_WITNESS_TAG_LEN 16u
#define COLO_WITNESS_BOOTS 8u /**< boots per board whose last nonce a record remembers */
#define COLO_WITNESS_PORT 7790u
#define COLO_WITNESS_MAX 3u          /**< witnesses a board may be configured with */
#define COLO_WITNESS_TTL_MAX 60000u  /**< the longest lease a board may ask for, ms */
#define COLO_WITNESS_DELIVERY_MS 20u /**< margin for the reply's delivery */

/** Request kinds. */
enum colo_wq_kind {
    COLO_WQ_RENEW = 1,          /**< the owner renews its lease (and reports mode, epoch) */
    COLO_WQ_CLAIM_ALONE = 2,    /**< the owner wants to release output no checkpoint covers */
    COLO_WQ_CLAIM_TAKEOVER = 3, /**< the secondary wants to run its replica */
    COLO_WQ_BOOT = 4,           /**< a board booted as primary with a fresh guest */
    COLO_WQ_QUERY = 5,          /**< what is the record? (changes nothing) */
};

/** The record's mode, and RENEW's mode field. 0 is "no record" (replies only). */
enum colo_witness_mode {
    COLO_WITNESS_MODE_NONE = 0,
    COLO_WITNESS_MODE_PROTECTED = 1, /**< the peer holds a committed replica of the owner's guest */
    COLO_WITNESS_MODE_ALONE = 2,     /**< the owner released output no replica covers */
    COLO_WITNESS_MODE_TAKEOVER = 3,  /**< the owner runs a replica it took over; nobody holds it */
};

enum colo_wr_verdict {
    COLO_WR_GRANTED = 1,
    COLO_WR_REFUSED = 2,
};

/** Why (reply byte 15). GRANTED always carries OK, REFUSED never does. */
enum colo_wr_reason {
    COLO_WR_OK = 0,
    COLO_WR_LEASE_LIVE = 1,         /**< the owner's lease has not expired (wait_ms) */
    COLO_WR_STALE_REPLICA = 2,      /**< the owner went on without this replica */
    COLO_WR_NOT_OWNER = 3,          /**< another board or boot owns the guest */
    COLO_WR_STALE_TERM = 4,         /**< the proposed term is not above the record's */
    COLO_WR_NO_RECORD = 5,          /**< nothing known about this pair */
    COLO_WR_STARTING = 6,           /**< the witness restarted; leases it may have granted run */
    COLO_WR_PEER_HOLDS_REPLICA = 7, /**< BOOT refused: the peer may take the old guest over */
    COLO_WR_BAD_REQUEST = 8,        /**< a RENEW that would change mode other than by a claim */
    COLO_WR_REASON_COUNT,
};

/** Why a datagram was refused by a decoder (or an encoder). */
enum colo_witness_err {
    COLO_WITNESS_OK = 0,
    COLO_WITNESS_E_LENGTH,   /**< not COLO_WITNESS_LEN bytes */
    COLO_WITNESS_E_MAGIC,    /**< not this message */
    COLO_WITNESS_E_VERSION,  /**< a version we do not speak */
    COLO_WITNESS_E_CRC,      /**< damaged in transit (no key: the CRC) */
    COLO_WITNESS_E_AUTH,     /**< the tag is wrong: damaged, forged, or another key */
    COLO_WITNESS_E_KIND,     /**< kind not 1..5 */
    COLO_WITNESS_E_BOARD,    /**< board not 'a'/'b' (reply: owner not 'a'/'b'/0) */
    COLO_WITNESS_E_MODE,     /**< mode out of range or not what the kind/record allows */
    COLO_WITNESS_E_RESERVED, /**< a reserved byte nonzero */
    COLO_WITNESS_E_TTL,      /**< ttl_ms 0 or above 60000 where one is needed, nonzero elsewhere */
    COLO_WITNESS_E_BOOT,     /**< boot_id 0 */
    COLO_WITNESS_E_TERM,     /**< term 0 or not the board's parity (or nonzero in a QUERY) */
    COLO_WITNESS_E_FIELD,    /**< a field the kind does not use is nonzero */
    COLO_WITNESS_E_VERDICT,  /**< verdict not 1..2 */
    COLO_WITNESS_E_REASON,   /**< reason out of range, or not matching the verdict */
    COLO_WITNESS_E_COUNT,
};

/** A request's content (decoded, or to encode). */
struct colo_wq {
    uint8_t kind;    /**< enum colo_wq_kind */
    uint8_t board;   /**< the sender: 'a' or 'b' */
    uint8_t pair[6]; /**< the guest's MAC */
    uint8_t mode;    /**< RENEW: PROTECTED, ALONE or TAKEOVER; else 0 */
    uint64_t nonce;  /**< echoed: the board matches replies by it */
    uint64_t boot_id;
    /** RENEW: the term the sender won (by a majority); CLAIM_* and BOOT: the proposed term (from
     *  colo_witness_next_term); QUERY: 0. Any nonzero term has the sender's parity (bit 0: 0 for
     *  'a', 1 for 'b'), so the term alone names the board that proposed it. */
    uint64_t term;
    /** RENEW PROTECTED and CLAIM_ALONE: the last committed checkpoint; CLAIM_TAKEOVER: the
     *  replica's; else 0. */
    uint64_t epoch;
    uint32_t ttl_ms; /**< lease asked for, 1..60000; QUERY: 0 */
};

/** A reply's content. term/epoch/owner/mode are the record after the request was applied. */
struct colo_wr {
    uint8_t kind;  /**< echo */
    uint8_t board; /**< echo */
    uint8_t pair[6];
    uint8_t verdict; /**< enum colo_wr_verdict */
    uint8_t reason;  /**< enum colo_wr_reason */
    uint64_t nonce;
    uint64_t term;
    uint64_t epoch;
    uint8_t owner;    /**< 'a', 'b', or 0 when there is no record */
    uint8_t mode;     /**< enum colo_witness_mode; 0 exactly when owner is 0 */
    uint32_t ttl_ms;  /**< the lease granted; 0 when refused and for QUERY */
    uint32_t wait_ms; /**< LEASE_LIVE, STARTING: ms until the witness could grant; else 0 */
};

/**
 * The witness MAC key from the witness's pre-shared key psk (cv.witness_key, cv-witness
 * --key-file): HKDF-SHA-256, no salt, info "colovisor witness" (tools/cv-witness does the same).
 * Engine context.
 */
void colo_witness_mac_key(const uint8_t psk[COLO_KEY_LEN], uint8_t out[COLO_KEY_LEN]);

/**
 * Encodes q into out (cap bytes), sealed with key (the witness MAC key; NULL: the CRC). Returns
 * COLO_WITNESS_LEN, or 0 when cap is too small or q is something colo_wq_decode refuses. Any
 * context: pure but for the port's HMAC.
 */
size_t colo_wq_encode(void *out, size_t cap, const struct colo_wq *q, const uint8_t *key);

/**
 * Validates the request buf[0..len) (sealed with key, NULL: the CRC) and fills *q. Returns
 * COLO_WITNESS_OK or the first failed check, in this order: length, magic, version, seal
 * (E_AUTH with a key, E_CRC without), kind, board, mode (RENEW: 1..3, else 0),
 * reserved bytes, boot_id, ttl_ms (1..60000 except QUERY: 0), term (QUERY: 0; else nonzero with
 * the board's parity), epoch (only RENEW PROTECTED, CLAIM_ALONE and CLAIM_TAKEOVER may carry one:
 * E_FIELD). *q is unspecified on failure. Any context: pure.
 */
enum colo_witness_err colo_wq_decode(const void *buf, size_t len, struct colo_wq *q,
                                     const uint8_t *key);

/** As colo_wq_encode, for a reply. Any context: pure but for the port's HMAC. */
size_t colo_wr_encode(void *out, size_t cap, const struct colo_wr *r, const uint8_t *key);

/**
 * Validates the reply buf[0..len) and fills *r. Order: length, magic, version, seal, kind,
 * board, verdict, reason (in range; OK exactly when GRANTED), owner (E_BOARD), mode (0 exactly
 * when owner is 0; then term and epoch are 0 too, E_FIELD), term (nonzero with the owner's
 * parity when there is an owner), reserved, ttl_ms (GRANTED but QUERY: 1..60000, else 0),
 * wait_ms (only LEASE_LIVE and STARTING may carry one, E_FIELD). Any context: pure.
 */
enum colo_witness_err colo_wr_decode(const void *buf, size_t len, struct colo_wr *r,
                                     const uint8_t *key);

/** Short texts for the enums ("?" when out of range). Any context: pure. */
const char *colo_witness_err_name(enum colo_witness_err e);
const char *colo_wq_kind_name(unsigned kind);       /**< "RENEW", ... as in the scenario file */
const char *colo_witness_mode_name(unsigned mode);  /**< "NONE", "PROTECTED", ... */
const char *colo_wr_reason_name(unsigned reason);   /**< "OK", "LEASE_LIVE", ... */
const char *colo_wr_verdict_name(unsigned verdict); /**< "GRANTED", "REFUSED" */

/* ---- the witness's rules ---- */

/**
 * One pair's record. owner 0 means no record (then every other field is 0). The first group is
 * what a witness persists, durably, before it sends a GRANTED reply that changed it; the second
 * is volatile and starts at 0 when the witness starts.
 */
struct colo_witness_rec {
    uint64_t term;       /**< the term of the last decision; its parity names owner */
    uint64_t owner_boot; /**< the owner's boot_id when it won it */
    uint64_t epoch;      /**< the newest checkpoint a replica must hold to take over */
    uint8_t owner;       /**< 'a', 'b', 0 */
    uint8_t mode;        /**< enum colo_witness_mode */
    /** The longest ttl this witness granted on the record. Kept per record and written with it
     *  (the spec's witness-wide max_ttl_ms, narrowed to what protects this pair's leases): it
     *  sizes the STARTING window after a restart. */
    uint32_t max_ttl_ms;
    /** Per board ('a', 'b'), the last nonce accepted from each of its last COLO_WITNESS_BOOTS
     *  boots, newest first (boot 0: empty). Persisted with a record that has an owner (every
     *  request then changes it, so every answered one is written before its reply: a restarted
     *  witness must not answer a request it answered before); a pair without a record keeps
     *  them only while the witness runs (what such a pair is asked changes nothing). */
    struct colo_witness_seen {
        uint64_t boot, nonce;
    } seen[2][COLO_WITNESS_BOOTS];
    /* volatile */
    uint64_t lease_until_ms; /**< the owner's lease runs until then (witness clock) */
    bool owner_dead;         /**< the owner's boot was seen replaced (BOOT refused) */
};

/** A witness's clock: the request's receipt and the witness's own start, in monotonic ms. */
struct colo_witness_clock {
    uint64_t now_ms;
    uint64_t started_ms;
};

/** ttl + ttl/50 + 20: how long after receipt the witness holds a lease of ttl_ms. Pure. */
uint64_t colo_witness_hold_ms(uint32_t ttl_ms);

/**
 * The request is one this record has answered before, or older: its (board, boot_id) is
 * remembered with a nonce at or above q's. The witness drops it without a reply, before
 * colo_witness_decide (a replayed RENEW would extend a dead owner's lease, a replayed BOOT
 * declare a live owner's boot dead). A boot not remembered is new (or evicted, more than
 * COLO_WITNESS_BOOTS boots of that board ago). Pure.
 */
bool colo_witness_replay(const struct colo_witness_rec *rec, const struct colo_wq *q);

/**
 * Applies the rules (docs/colo-protocol.md "Witness", first match answers) for request *q (not
 * a replay: colo_witness_replay) to *rec, remembers q's nonce, and fills *reply: the echo of q, the
 * verdict and reason, the record as it is afterwards, the ttl granted, wait_ms. A GRANTED lease
 * holds until at least now + colo_witness_hold_ms(ttl) (a lease is never shortened, except by BOOT
 * finding its owner's boot replaced). Returns true when the persisted part of *rec changed: the
 * caller writes it durably before sending the reply (and, if it cannot, restores the old record and
 * sends nothing). q must have come from colo_wq_decode. Any context: pure.
 */
bool colo_witness_decide(struct colo_witness_rec *rec, const struct colo_wq *q,
                         const struct colo_witness_clock *clk, struct colo_wr *reply);

/** A restarted witness's record: the persisted part kept, the volatile part cleared (and the
 *  nonces of a pair without an owner, which are not persisted). Pure. */
void colo_witness_rec_restart(struct colo_witness_rec *rec);

/**
 * The record is one the rules can produce: no owner and all zero, or owner 'a'/'b', mode 1..3
 * and a nonzero term of the owner's parity, max_ttl_ms <= 60000. A host loading persisted
 * records refuses any other. Pure.
 */
bool colo_witness_rec_valid(const struct colo_witness_rec *rec);

/* ---- board side ---- */

/**
 * The term board ('a' or 'b') proposes after having seen max_seen: ((max_seen >> 1) + 1) << 1,
 * bit 0 set for 'b'. Two boards claiming in the same round propose different terms, and any later
 * claim a larger one. 0 for another board or when the term space is used up. Pure.
 */
uint64_t colo_witness_next_term(uint64_t max_seen, char board);

/** n / 2 + 1 of n configured witnesses (1 of 1, 2 of 2, 2 of 3). Pure. */
unsigned colo_witness_majority(unsigned n);

/** granted GRANTED replies (one per witness, same nonce) out of n are enough to act. Pure. */
bool colo_witness_has_majority(unsigned granted, unsigned n);

#endif
