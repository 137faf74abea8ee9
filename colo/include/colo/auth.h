/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replication link's handshake (docs/security.md): both boards prove they hold the pair's
 * pre-shared key, over fresh nonces from both sides, before either trusts a byte of the other;
 * it derives the session's two keys, which then seal every message (colo/proto.h, version 2).
 *
 * The initiator (the primary, which connects) and the responder (the secondary, which listens)
 * exchange three plain messages:
 *
 *   AUTH_INIT   I -> R   suite | role | board | boot_id_I | nonce_I
 *   AUTH_REPLY  R -> I   suite | role | board | boot_id_R | nonce_R | proof_R
 *   AUTH_FINISH I -> R   proof_I
 *
 * with T = the INIT payload || the REPLY payload without its proof, and
 *   k_I2R | k_R2I | m_R | m_I = HKDF-SHA-256(salt "colovisor link 2", ikm = PSK, info = T), 128 B
 *   proof_R = HMAC-SHA-256(m_R, "responder"), proof_I = HMAC-SHA-256(m_I, "initiator").
 *
 * Every key depends on both nonces, so a recorded handshake replayed gets nowhere: the other
 * side's nonce is new, and with it every key and proof. A proof is checked in constant time; a
 * responder gives its proof to anyone who asks, which teaches nothing (the keys of that
 * exchange belong to it alone). The suite names the primitives (1: HKDF-SHA-256, HMAC-SHA-256,
 * ChaCha20-Poly1305); role and board must be the expected peer's, so a board's own INIT
 * reflected back to it is refused.
 *
 * Pure computation over colo/port.h: any context. The state lives in struct colo_auth, which
 * is small (a connection that is still authenticating costs ~0.5 KiB, not a decoder).
 */
#ifndef COLO_AUTH_H
#define COLO_AUTH_H

#include <colo/port.h>
#include <colo/proto.h>

#define COLO_AUTH_SUITE 1u
/** The largest handshake message on the wire (REPLY), for the caller's out buffer. */
#define COLO_AUTH_MSG_MAX (COLO_HDR_SIZE + COLO_AUTH_REPLY_LEN + COLO_CRC_SIZE)

enum colo_auth_state {
    COLO_AUTH_WAIT_REPLY,  /**< initiator: INIT sent */
    COLO_AUTH_WAIT_INIT,   /**< responder: nothing received yet */
    COLO_AUTH_WAIT_FINISH, /**< responder: REPLY sent */
    COLO_AUTH_DONE,        /**< authenticated: colo_auth_keys() */
    COLO_AUTH_FAILED,      /**< refused: why says why; the connection must be dropped */
};

struct colo_auth_cfg {
    const uint8_t *psk; /**< COLO_KEY_LEN bytes, the pair's key; kept by the caller */
    bool initiator;
    uint8_t role;    /**< ours: COLO_ROLE_PRIMARY or COLO_ROLE_SECONDARY */
    char board;      /**< ours: 'a' or 'b' */
    char peer_board; /**< the peer we accept */
    uint64_t boot_id;
};

struct colo_auth {
    struct colo_auth_cfg cfg;
    enum colo_auth_state state;
    const char *why; /**< FAILED: a static text for the log */
    uint64_t peer_boot;
    uint8_t t[2 * COLO_AUTH_INIT_LEN]; /**< the transcript T */
    uint8_t keys[4 * COLO_KEY_LEN];    /**< k_I2R | k_R2I | m_R | m_I */
    /** The message being received: a handshake message is small, so is this. */
    size_t have, need;
    uint8_t buf[COLO_AUTH_MSG_MAX];
};

/**
 * Starts a handshake. The initiator gets its INIT in out (returns its size); the responder
 * gets 0 and waits. Returns 0 with state FAILED when cfg is unusable or the board has no
 * random numbers (colo_port_random).
 */
size_t colo_auth_start(struct colo_auth *a, const struct colo_auth_cfg *cfg, uint8_t *out,
                       size_t cap);

/**
 * Takes received bytes; *used says how many (bytes after the handshake's last message belong to
 * the session and are left alone). When a message must be sent in answer, it is in out
 * (cap >= COLO_AUTH_MSG_MAX) and *out_len is its size, else *out_len is 0. Returns the state:
 * DONE once both sides are proven (the initiator after it sent FINISH: the responder will drop
 * the connection if FINISH is wrong), FAILED on any malformed, unexpected or unproven message.
 */
enum colo_auth_state colo_auth_feed(struct colo_auth *a, const void *data, size_t len, size_t *used,
                                    uint8_t *out, size_t cap, size_t *out_len);

/** DONE: this side's session keys (tx and rx). */
void colo_auth_keys(const struct colo_auth *a, struct colo_session_keys *k);

/** Wipes every secret the state holds (call when done with it, whatever the outcome). */
void colo_auth_wipe(struct colo_auth *a);

const char *colo_auth_state_name(enum colo_auth_state s);

#endif
