// SPDX-License-Identifier: Apache-2.0
// The replication link's handshake (colo/auth.h).
#include <string.h>

#include <colo/auth.h>

#include "colo_util.h"

static const char salt[] = "colovisor link 2";

const char *colo_auth_state_name(enum colo_auth_state s)
{
    switch (s) {
    case COLO_AUTH_WAIT_REPLY:
        return "wait-reply";
    case COLO_AUTH_WAIT_INIT:
        return "wait-init";
    case COLO_AUTH_WAIT_FINISH:
        return "wait-finish";
    case COLO_AUTH_DONE:
        return "done";
    case COLO_AUTH_FAILED:
        return "failed";
    default:
        return "?";
    }
}

static enum colo_auth_state fail(struct colo_auth *a, const char *why)
{
    a->state = COLO_AUTH_FAILED;
    a->why = why;
    colo_port_wipe(a->keys, sizeof(a->keys));
    return a->state;
}

void colo_auth_wipe(struct colo_auth *a)
{
    colo_port_wipe(a->keys, sizeof(a->keys));
    colo_port_wipe(a->t, sizeof(a->t));
    colo_port_wipe(a->buf, sizeof(a->buf));
    a->cfg.psk = NULL;
}

/* Our half of T: INIT's payload (initiator) or REPLY's without the proof (responder). */
static bool put_hello(struct colo_auth *a, uint8_t *p)
{
    colo_put16(p, COLO_AUTH_SUITE);
    p[2] = a->cfg.role;
    p[3] = (uint8_t)a->cfg.board;
    colo_put32(p + 4, 0);
    colo_put64(p + 8, a->cfg.boot_id);
    return colo_port_random(p + 16, COLO_AUTH_NONCE_LEN);
}

/* The peer's half: the suite we speak, the peer we expect, in the other role. */
static const char *check_hello(struct colo_auth *a, const uint8_t *p)
{
    uint8_t want_role = a->cfg.role == COLO_ROLE_PRIMARY ? COLO_ROLE_SECONDARY : COLO_ROLE_PRIMARY;
    if (colo_get16(p) != COLO_AUTH_SUITE) {
        return "the peer offers another cipher suite";
    }
    if (p[2] != want_role || p[3] != (uint8_t)a->cfg.peer_board || colo_get32(p + 4) != 0) {
        return "the peer is not the expected board";
    }
    a->peer_boot = colo_get64(p + 8);
    return a->peer_boot ? NULL : "the peer's boot id is 0";
}

static void derive(struct colo_auth *a)
{
    colo_port_hkdf_sha256(salt, sizeof(salt) - 1, a->cfg.psk, COLO_KEY_LEN, a->t, sizeof(a->t),
                          a->keys, sizeof(a->keys));
}

static void proof(const struct colo_auth *a, bool responder, uint8_t out[COLO_SHA256_LEN])
{
    static const char label_r[] = "responder", label_i[] = "initiator";
    const void *ptr[1] = {responder ? label_r : label_i};
    size_t len[1] = {(responder ? sizeof(label_r) : sizeof(label_i)) - 1};
    colo_port_hmac_sha256(a->keys + (responder ? 2 : 3) * COLO_KEY_LEN, COLO_KEY_LEN, 1, ptr, len,
                          out);
}

size_t colo_auth_start(struct colo_auth *a, const struct colo_auth_cfg *cfg, uint8_t *out,
                       size_t cap)
{
    memset(a, 0, sizeof(*a));
    a->cfg = *cfg;
    a->need = COLO_HDR_SIZE;
    a->state = cfg->initiator ? COLO_AUTH_WAIT_REPLY : COLO_AUTH_WAIT_INIT;
    if (!cfg->psk || !cfg->boot_id || (cfg->board != 'a' && cfg->board != 'b') ||
        cfg->role > COLO_ROLE_SECONDARY) {
        fail(a, "no key or bad configuration");
        return 0;
    }
    if (!cfg->initiator) {
        return 0;
    }
    if (!put_hello(a, a->t)) {
        fail(a, "no random numbers for the nonce");
        return 0;
    }
    size_t n = colo_encode(NULL, out, cap, COLO_MSG_AUTH_INIT, 0, a->t, COLO_AUTH_INIT_LEN);
    if (!n) {
        fail(a, "no room for AUTH_INIT");
    }
    return n;
}

/* One whole, CRC-checked message is in a->buf: moves the handshake on. */
static enum colo_auth_state on_msg(struct colo_auth *a, uint8_t *out, size_t cap, size_t *out_len)
{
    uint16_t type = colo_get16(a->buf + 6);
    const uint8_t *pl = a->buf + COLO_HDR_SIZE;
    const char *why;
    uint8_t mac[COLO_SHA256_LEN];
    switch (a->state) {
    case COLO_AUTH_WAIT_INIT:
        if (type != COLO_MSG_AUTH_INIT) {
            return fail(a, "the first message is not AUTH_INIT");
        }
        memcpy(a->t, pl, COLO_AUTH_INIT_LEN);
        if ((why = check_hello(a, a->t)) != NULL) {
            return fail(a, why);
        }
        if (!put_hello(a, a->t + COLO_AUTH_INIT_LEN)) {
            return fail(a, "no random numbers for the nonce");
        }
        derive(a);
        uint8_t reply[COLO_AUTH_REPLY_LEN];
        memcpy(reply, a->t + COLO_AUTH_INIT_LEN, COLO_AUTH_INIT_LEN);
        proof(a, true, reply + COLO_AUTH_INIT_LEN);
        *out_len = colo_encode(NULL, out, cap, COLO_MSG_AUTH_REPLY, 0, reply, sizeof(reply));
        if (!*out_len) {
            return fail(a, "no room for AUTH_REPLY");
        }
        a->state = COLO_AUTH_WAIT_FINISH;
        return a->state;
    case COLO_AUTH_WAIT_REPLY:
        if (type != COLO_MSG_AUTH_REPLY) {
            return fail(a, "the answer is not AUTH_REPLY");
        }
        memcpy(a->t + COLO_AUTH_INIT_LEN, pl, COLO_AUTH_INIT_LEN);
        if ((why = check_hello(a, a->t + COLO_AUTH_INIT_LEN)) != NULL) {
            return fail(a, why);
        }
        derive(a);
        proof(a, true, mac);
        if (!colo_port_ct_equal(mac, pl + COLO_AUTH_INIT_LEN, COLO_SHA256_LEN)) {
            return fail(a, "the responder does not hold the pair key");
        }
        proof(a, false, mac);
        *out_len = colo_encode(NULL, out, cap, COLO_MSG_AUTH_FINISH, 0, mac, sizeof(mac));
        if (!*out_len) {
            return fail(a, "no room for AUTH_FINISH");
        }
        a->state = COLO_AUTH_DONE;
        return a->state;
    case COLO_AUTH_WAIT_FINISH:
        if (type != COLO_MSG_AUTH_FINISH) {
            return fail(a, "the answer is not AUTH_FINISH");
        }
        proof(a, false, mac);
        if (!colo_port_ct_equal(mac, pl, COLO_SHA256_LEN)) {
            return fail(a, "the initiator does not hold the pair key");
        }
        a->state = COLO_AUTH_DONE;
        return a->state;
    default:
        return a->state;
    }
}

enum colo_auth_state colo_auth_feed(struct colo_auth *a, const void *data, size_t len, size_t *used,
                                    uint8_t *out, size_t cap, size_t *out_len)
{
    const uint8_t *in = data;
    *used = 0;
    *out_len = 0;
    while (*used < len && a->state != COLO_AUTH_DONE && a->state != COLO_AUTH_FAILED) {
        size_t n = MIN(len - *used, a->need - a->have);
        memcpy(a->buf + a->have, in + *used, n);
        a->have += n;
        *used += n;
        if (a->have < a->need) {
            break;
        }
        if (a->need == COLO_HDR_SIZE) {
            size_t need = 0;
            uint16_t type = colo_get16(a->buf + 6);
            /* epoch 0 too: every bit of a handshake message means something, or it is refused */
            if (colo_header_check(a->buf, false, &need) != COLO_OK ||
                (type != COLO_MSG_AUTH_INIT && type != COLO_MSG_AUTH_REPLY &&
                 type != COLO_MSG_AUTH_FINISH) ||
                colo_get64(a->buf + 8) != 0 || need > sizeof(a->buf)) {
                return fail(a, "not a handshake message");
            }
            a->need = need;
            continue;
        }
        uint32_t plen = colo_get32(a->buf + 16);
        if (colo_port_crc32c(0, a->buf + COLO_HDR_SIZE, plen) !=
            colo_get32(a->buf + COLO_HDR_SIZE + plen)) {
            return fail(a, "handshake message damaged (CRC)");
        }
        a->have = 0;
        a->need = COLO_HDR_SIZE;
        on_msg(a, out, cap, out_len);
        if (*out_len) {
            break; /* the answer goes out before anything else is read */
        }
    }
    return a->state;
}

void colo_auth_keys(const struct colo_auth *a, struct colo_session_keys *k)
{
    const uint8_t *i2r = a->keys, *r2i = a->keys + COLO_KEY_LEN;
    memcpy(k->tx, a->cfg.initiator ? i2r : r2i, COLO_KEY_LEN);
    memcpy(k->rx, a->cfg.initiator ? r2i : i2r, COLO_KEY_LEN);
}
