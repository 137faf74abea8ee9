// SPDX-License-Identifier: Apache-2.0
// The link's handshake (colo/auth.h) against a faulty and a hostile peer: chunked delivery,
// wrong keys, replayed handshakes, reflected messages, a flipped bit anywhere, and a second
// handshake while a sealed session runs.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cv/random.h>

#include <colo/auth.h>

static const uint8_t psk[COLO_KEY_LEN] = {0x11, 0x22, 0x33, 0x44};
static const uint8_t other_psk[COLO_KEY_LEN] = {0x11, 0x22, 0x33, 0x45};

static struct colo_auth_cfg cfg_i = {.psk = psk,
                                     .initiator = true,
                                     .role = COLO_ROLE_PRIMARY,
                                     .board = 'a',
                                     .peer_board = 'b',
                                     .boot_id = 0xa1};
static struct colo_auth_cfg cfg_r = {.psk = psk,
                                     .initiator = false,
                                     .role = COLO_ROLE_SECONDARY,
                                     .board = 'b',
                                     .peer_board = 'a',
                                     .boot_id = 0xb1};

/* The three messages of one handshake, as they went over the wire. */
struct trace {
    uint8_t init[COLO_AUTH_MSG_MAX], reply[COLO_AUTH_MSG_MAX], fin[COLO_AUTH_MSG_MAX];
    size_t ni, nr, nf;
};

/* Feeds msg to a in chunks of `chunk` bytes; returns the final state and what a sent back. */
static enum colo_auth_state feed(struct colo_auth *a, const uint8_t *msg, size_t len, size_t chunk,
                                 uint8_t *out, size_t *out_len)
{
    enum colo_auth_state st = a->state;
    *out_len = 0;
    size_t off = 0;
    while (off < len) {
        size_t used, n;
        size_t c = chunk < len - off ? chunk : len - off;
        st = colo_auth_feed(a, msg + off, c, &used, out, COLO_AUTH_MSG_MAX, &n);
        assert_true(used <= c);
        if (n) {
            *out_len = n;
        }
        off += used;
        if (st == COLO_AUTH_FAILED || st == COLO_AUTH_DONE) {
            break;
        }
        if (used == 0) {
            fail_msg("no progress");
        }
    }
    return st;
}

static void handshake(struct colo_auth *i, struct colo_auth *r, size_t chunk, struct trace *t)
{
    t->ni = colo_auth_start(i, &cfg_i, t->init, sizeof(t->init));
    assert_int_equal(t->ni, COLO_HDR_SIZE + COLO_AUTH_INIT_LEN + COLO_CRC_SIZE);
    assert_int_equal(colo_auth_start(r, &cfg_r, NULL, 0), 0);
    assert_int_equal(feed(r, t->init, t->ni, chunk, t->reply, &t->nr), COLO_AUTH_WAIT_FINISH);
    assert_int_equal(t->nr, COLO_HDR_SIZE + COLO_AUTH_REPLY_LEN + COLO_CRC_SIZE);
    assert_int_equal(feed(i, t->reply, t->nr, chunk, t->fin, &t->nf), COLO_AUTH_DONE);
    assert_int_equal(t->nf, COLO_HDR_SIZE + COLO_AUTH_FINISH_LEN + COLO_CRC_SIZE);
    uint8_t none[COLO_AUTH_MSG_MAX];
    size_t nn;
    assert_int_equal(feed(r, t->fin, t->nf, chunk, none, &nn), COLO_AUTH_DONE);
    assert_int_equal(nn, 0);
}

static void test_good_any_chunks(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 2, 7, 23, 24, 25, 1000};
    struct colo_session_keys first = {0};
    for (unsigned c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        struct colo_auth i, r;
        struct trace t;
        handshake(&i, &r, chunks[c], &t);
        struct colo_session_keys ki, kr;
        colo_auth_keys(&i, &ki);
        colo_auth_keys(&r, &kr);
        assert_memory_equal(ki.tx, kr.rx, COLO_KEY_LEN);
        assert_memory_equal(ki.rx, kr.tx, COLO_KEY_LEN);
        assert_memory_not_equal(ki.tx, ki.rx, COLO_KEY_LEN);
        assert_int_equal(i.peer_boot, 0xb1);
        assert_int_equal(r.peer_boot, 0xa1);
        /* fresh nonces: every session has keys of its own */
        if (c) {
            assert_memory_not_equal(first.tx, ki.tx, COLO_KEY_LEN);
        }
        first = ki;
        colo_auth_wipe(&i);
        colo_auth_wipe(&r);
        static const uint8_t zero[sizeof(i.keys)];
        assert_memory_equal(i.keys, zero, sizeof(zero));
    }
}

/* Bytes after FINISH are the session's: the responder leaves them. */
static void test_leaves_session_bytes(void **state)
{
    (void)state;
    struct colo_auth i, r;
    struct trace t;
    t.ni = colo_auth_start(&i, &cfg_i, t.init, sizeof(t.init));
    colo_auth_start(&r, &cfg_r, NULL, 0);
    size_t used, n;
    colo_auth_feed(&r, t.init, t.ni, &used, t.reply, sizeof(t.reply), &n);
    t.nr = n;
    colo_auth_feed(&i, t.reply, t.nr, &used, t.fin, sizeof(t.fin), &n);
    uint8_t wire[COLO_AUTH_MSG_MAX + 10];
    memcpy(wire, t.fin, n);
    memset(wire + n, 0xee, 10);
    uint8_t out[COLO_AUTH_MSG_MAX];
    size_t on;
    assert_int_equal(colo_auth_feed(&r, wire, n + 10, &used, out, sizeof(out), &on),
                     COLO_AUTH_DONE);
    assert_int_equal(used, n);
}

static void test_wrong_key(void **state)
{
    (void)state;
    /* the responder has another key: the initiator refuses its proof */
    struct colo_auth i, r;
    struct trace t;
    struct colo_auth_cfg cr = cfg_r;
    cr.psk = other_psk;
    t.ni = colo_auth_start(&i, &cfg_i, t.init, sizeof(t.init));
    colo_auth_start(&r, &cr, NULL, 0);
    assert_int_equal(feed(&r, t.init, t.ni, 64, t.reply, &t.nr), COLO_AUTH_WAIT_FINISH);
    assert_int_equal(feed(&i, t.reply, t.nr, 64, t.fin, &t.nf), COLO_AUTH_FAILED);
    assert_int_equal(t.nf, 0);
    assert_string_equal(i.why, "the responder does not hold the pair key");
    /* the initiator has another key: the responder refuses FINISH (an initiator that ignores
     * the bad proof and answers anyway gets nowhere) */
    struct colo_auth_cfg ci = cfg_i;
    ci.psk = other_psk;
    struct colo_auth i2, r2;
    t.ni = colo_auth_start(&i2, &ci, t.init, sizeof(t.init));
    colo_auth_start(&r2, &cfg_r, NULL, 0);
    feed(&r2, t.init, t.ni, 64, t.reply, &t.nr);
    assert_int_equal(feed(&i2, t.reply, t.nr, 64, t.fin, &t.nf), COLO_AUTH_FAILED);
    /* forge the FINISH it would need: with its own (wrong) key */
    struct colo_auth r3;
    colo_auth_start(&r3, &cfg_r, NULL, 0);
    uint8_t fin[COLO_AUTH_MSG_MAX];
    uint8_t mac[COLO_SHA256_LEN] = {0};
    size_t nf = colo_encode(NULL, fin, sizeof(fin), COLO_MSG_AUTH_FINISH, 0, mac, sizeof(mac));
    feed(&r3, t.init, t.ni, 64, t.reply, &t.nr);
    assert_int_equal(feed(&r3, fin, nf, 64, t.reply, &t.nr), COLO_AUTH_FAILED);
    assert_string_equal(r3.why, "the initiator does not hold the pair key");
}

/* A recorded handshake replayed to a fresh responder: its nonce is new, the old FINISH fails. */
static void test_replayed_session(void **state)
{
    (void)state;
    struct colo_auth i, r;
    struct trace t;
    handshake(&i, &r, 100, &t);
    struct colo_auth r2;
    colo_auth_start(&r2, &cfg_r, NULL, 0);
    uint8_t reply[COLO_AUTH_MSG_MAX];
    size_t nr;
    assert_int_equal(feed(&r2, t.init, t.ni, 100, reply, &nr), COLO_AUTH_WAIT_FINISH);
    assert_memory_not_equal(reply, t.reply, nr);
    assert_int_equal(feed(&r2, t.fin, t.nf, 100, reply, &nr), COLO_AUTH_FAILED);
    /* and a recorded REPLY replayed to a fresh initiator */
    struct colo_auth i2;
    uint8_t init[COLO_AUTH_MSG_MAX];
    colo_auth_start(&i2, &cfg_i, init, sizeof(init));
    uint8_t fin[COLO_AUTH_MSG_MAX];
    size_t nf;
    assert_int_equal(feed(&i2, t.reply, t.nr, 100, fin, &nf), COLO_AUTH_FAILED);
}

/* A board's own INIT reflected to it, or a peer in the wrong role or board: refused. */
static void test_reflection_and_identity(void **state)
{
    (void)state;
    struct colo_auth i, r;
    uint8_t init[COLO_AUTH_MSG_MAX], out[COLO_AUTH_MSG_MAX];
    size_t n = colo_auth_start(&i, &cfg_i, init, sizeof(init)), on;
    /* a responder that is board a too (the reflected case) */
    struct colo_auth_cfg ca = cfg_r;
    ca.board = 'a';
    ca.peer_board = 'b';
    colo_auth_start(&r, &ca, NULL, 0);
    assert_int_equal(feed(&r, init, n, 100, out, &on), COLO_AUTH_FAILED);
    assert_string_equal(r.why, "the peer is not the expected board");
    /* an INIT from a "secondary" */
    struct colo_auth_cfg cs = cfg_i;
    cs.role = COLO_ROLE_SECONDARY;
    n = colo_auth_start(&i, &cs, init, sizeof(init));
    colo_auth_start(&r, &cfg_r, NULL, 0);
    assert_int_equal(feed(&r, init, n, 100, out, &on), COLO_AUTH_FAILED);
    /* a REPLY where an INIT is due, an INIT where a FINISH is due */
    struct colo_auth i2, r2;
    struct trace t;
    handshake(&i2, &r2, 100, &t);
    colo_auth_start(&r, &cfg_r, NULL, 0);
    assert_int_equal(feed(&r, t.reply, t.nr, 100, out, &on), COLO_AUTH_FAILED);
    colo_auth_start(&r, &cfg_r, NULL, 0);
    feed(&r, t.init, t.ni, 100, out, &on);
    assert_int_equal(feed(&r, t.init, t.ni, 100, out, &on), COLO_AUTH_FAILED);
    /* a session message before the handshake */
    uint8_t m[64];
    size_t nm = colo_encode(NULL, m, sizeof(m), COLO_MSG_CHECKPOINT_READY, 0, NULL, 0);
    colo_auth_start(&r, &cfg_r, NULL, 0);
    assert_int_equal(feed(&r, m, nm, 100, out, &on), COLO_AUTH_FAILED);
    /* no key at all */
    struct colo_auth_cfg nk = cfg_r;
    nk.psk = NULL;
    colo_auth_start(&r, &nk, NULL, 0);
    assert_int_equal(r.state, COLO_AUTH_FAILED);
}

/* Every bit of every message flipped: that side or the other fails, never both DONE. */
static void test_flip_every_bit(void **state)
{
    (void)state;
    struct trace good;
    struct colo_auth gi, gr;
    handshake(&gi, &gr, 1000, &good);
    unsigned failed = 0;
    for (unsigned which = 0; which < 3; which++) {
        size_t len = which == 0 ? good.ni : which == 1 ? good.nr : good.nf;
        for (size_t bit = 0; bit < len * 8; bit++) {
            struct colo_auth i, r;
            uint8_t init[COLO_AUTH_MSG_MAX], reply[COLO_AUTH_MSG_MAX], fin[COLO_AUTH_MSG_MAX];
            size_t ni = colo_auth_start(&i, &cfg_i, init, sizeof(init)), nr = 0, nf = 0;
            colo_auth_start(&r, &cfg_r, NULL, 0);
            if (which == 0) {
                init[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }
            enum colo_auth_state sr = feed(&r, init, ni, 1000, reply, &nr);
            enum colo_auth_state si = i.state;
            if (sr != COLO_AUTH_FAILED) {
                if (which == 1) {
                    reply[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
                si = feed(&i, reply, nr, 1000, fin, &nf);
                if (si != COLO_AUTH_FAILED) {
                    if (which == 2) {
                        fin[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    }
                    uint8_t none[COLO_AUTH_MSG_MAX];
                    size_t nn;
                    sr = feed(&r, fin, nf, 1000, none, &nn);
                }
            }
            /* A flip in a length field leaves the receiver waiting for bytes that never come:
             * it is not DONE either, and the link's deadline drops it. */
            assert_false(si == COLO_AUTH_DONE && sr == COLO_AUTH_DONE);
            failed++;
        }
    }
    assert_true(failed > 1000);
}

/* A second handshake (garbage, a replay) while a sealed session runs leaves that session as it
 * was: its next records still open, in order. */
static void test_second_connection_keeps_session(void **state)
{
    (void)state;
    struct colo_auth i, r;
    struct trace t;
    handshake(&i, &r, 100, &t);
    struct colo_session_keys ki, kr;
    colo_auth_keys(&i, &ki);
    colo_auth_keys(&r, &kr);
    struct colo_seal tx;
    colo_seal_init(&tx, ki.tx);
    static struct colo_decoder d;
    colo_dec_init(&d);
    colo_dec_set_key(&d, kr.rx);
    uint8_t m[128];
    for (unsigned k = 0; k < 6; k++) {
        if (k == 3) {
            struct colo_auth intruder;
            uint8_t out[COLO_AUTH_MSG_MAX];
            size_t on;
            colo_auth_start(&intruder, &cfg_r, NULL, 0);
            feed(&intruder, t.init, t.ni, 100, out, &on);
            assert_int_equal(feed(&intruder, t.fin, t.nf, 100, out, &on), COLO_AUTH_FAILED);
        }
        size_t n = colo_encode_heartbeat(&tx, m, sizeof(m), k, 1000 + k);
        assert_int_equal(n, COLO_HDR_SIZE + COLO_HEARTBEAT_LEN + COLO_TAG_SIZE);
        size_t used;
        struct colo_msg msg;
        assert_int_equal(colo_dec_feed(&d, m, n, &used, &msg), COLO_DEC_MSG);
        assert_int_equal(msg.type, COLO_MSG_HEARTBEAT);
        assert_int_equal(colo_get64(msg.payload), 1000 + k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_any_chunks),
        cmocka_unit_test(test_leaves_session_bytes),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_replayed_session),
        cmocka_unit_test(test_reflection_and_identity),
        cmocka_unit_test(test_flip_every_bit),
        cmocka_unit_test(test_second_connection_keeps_session),
    };
    random_init(NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
