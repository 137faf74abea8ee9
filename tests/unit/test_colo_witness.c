// SPDX-License-Identifier: Apache-2.0
// The witness (colo/colo_witness.c): both datagrams' exact layout and round trips, every refusal
// of both decoders (and of the encoders), the rules one by one where the scenario file cannot
// see (the persist flag, the volatile lease and owner_dead, restart, record validity), the
// conflicting claims at 1 and 3 witnesses in every order (never two majorities), the term and
// majority helpers, the seals (a known answer the service computes too, forged and CRC-sealed
// datagrams refused by a keyed decoder), the replay rule, and the replay of
// tests/witness/scenarios.txt, which the service's test replays too. The layout and refusal
// tests run unkeyed (CRC seals), which a test can reseal after a deliberate change.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cv/hash.h>

#include <colo/witness.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t PAIR[6] = {0x02, 0, 0, 0, 0, 0x01};

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Rewrites the CRC seal after a deliberate change, to reach the checks behind it. */
static void reseal(uint8_t *b)
{
    put_le(b + 60, crc32c(0, b, 60), 4);
    memset(b + 64, 0, COLO_WITNESS_TAG_LEN - 4);
}

/* The witness key of tests/witness/test_witness.py and another one (a forger's). */
static const uint8_t PSK[COLO_KEY_LEN] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t OTHER_PSK[COLO_KEY_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void mac_keys(uint8_t key[COLO_KEY_LEN], uint8_t other[COLO_KEY_LEN])
{
    colo_witness_mac_key(PSK, key);
    colo_witness_mac_key(OTHER_PSK, other);
}

static struct colo_wq wq(uint8_t kind, uint8_t board, uint8_t mode, uint64_t boot, uint64_t term,
                         uint64_t epoch, uint32_t ttl)
{
    struct colo_wq q = {.kind = kind,
                        .board = board,
                        .mode = mode,
                        .nonce = 0x1122334455667788ull,
                        .boot_id = boot,
                        .term = term,
                        .epoch = epoch,
                        .ttl_ms = ttl};
    memcpy(q.pair, PAIR, 6);
    return q;
}

static void assert_wq_equal(const struct colo_wq *a, const struct colo_wq *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->board, b->board);
    assert_memory_equal(a->pair, b->pair, 6);
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->nonce, b->nonce);
    assert_int_equal(a->boot_id, b->boot_id);
    assert_int_equal(a->term, b->term);
    assert_int_equal(a->epoch, b->epoch);
    assert_int_equal(a->ttl_ms, b->ttl_ms);
}

static void assert_wr_equal(const struct colo_wr *a, const struct colo_wr *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->board, b->board);
    assert_memory_equal(a->pair, b->pair, 6);
    assert_int_equal(a->verdict, b->verdict);
    assert_int_equal(a->reason, b->reason);
    assert_int_equal(a->nonce, b->nonce);
    assert_int_equal(a->term, b->term);
    assert_int_equal(a->epoch, b->epoch);
    assert_int_equal(a->owner, b->owner);
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->ttl_ms, b->ttl_ms);
    assert_int_equal(a->wait_ms, b->wait_ms);
}

/* ---- codec ---- */

static void test_request_layout(void **state)
{
    (void)state;
    struct colo_wq q = wq(COLO_WQ_RENEW, 'b', COLO_WITNESS_MODE_PROTECTED, 0xa1a2a3a4a5a6a7a8ull,
                          0x0102030405060709ull, 0xf0e0d0c0b0a09080ull, 60000);
    uint8_t b[COLO_WITNESS_LEN + 8];
    memset(b, 0xee, sizeof(b));
    assert_int_equal(colo_wq_encode(b, sizeof(b), &q, NULL), COLO_WITNESS_LEN);
    assert_int_equal(b[COLO_WITNESS_LEN], 0xee);
    assert_memory_equal(b, "CVWQ", 4);
    assert_int_equal(le(b + 4, 2), COLO_WITNESS_VERSION);
    assert_int_equal(b[6], COLO_WQ_RENEW);
    assert_int_equal(b[7], 'b');
    assert_memory_equal(b + 8, PAIR, 6);
    assert_int_equal(b[14], COLO_WITNESS_MODE_PROTECTED);
    assert_int_equal(b[15], 0);
    assert_int_equal(le(b + 16, 8), q.nonce);
    assert_int_equal(le(b + 24, 8), q.boot_id);
    assert_int_equal(le(b + 32, 8), q.term);
    assert_int_equal(le(b + 40, 8), q.epoch);
    assert_int_equal(le(b + 48, 4), 60000);
    assert_int_equal(le(b + 52, 8), 0);
    assert_int_equal(le(b + 60, 4), crc32c(0, b, 60));
    struct colo_wq d;
    assert_int_equal(colo_wq_decode(b, COLO_WITNESS_LEN, &d, NULL), COLO_WITNESS_OK);
    assert_wq_equal(&d, &q);

    /* Every valid combination of the small fields, with extremes of the large ones. */
    for (unsigned kind = 1; kind <= 5; kind++) {
        for (unsigned board = 'a'; board <= 'b'; board++) {
            for (unsigned mode = 0; mode <= 3; mode++) {
                if ((kind == COLO_WQ_RENEW) != (mode != 0)) {
                    continue;
                }
                bool query = kind == COLO_WQ_QUERY;
                bool epoch = kind == COLO_WQ_CLAIM_ALONE || kind == COLO_WQ_CLAIM_TAKEOVER ||
                             (kind == COLO_WQ_RENEW && mode == COLO_WITNESS_MODE_PROTECTED);
                uint64_t term = query ? 0 : (board == 'b' ? UINT64_MAX : UINT64_MAX - 1);
                struct colo_wq in = wq((uint8_t)kind, (uint8_t)board, (uint8_t)mode, UINT64_MAX,
                                       term, epoch ? UINT64_MAX : 0, query ? 0 : 1);
                in.nonce = kind & 1 ? 0 : UINT64_MAX;
                assert_int_equal(colo_wq_encode(b, COLO_WITNESS_LEN, &in, NULL), COLO_WITNESS_LEN);
                assert_int_equal(colo_wq_decode(b, COLO_WITNESS_LEN, &d, NULL), COLO_WITNESS_OK);
                assert_wq_equal(&d, &in);
            }
        }
    }
}

static void test_reply_layout(void **state)
{
    (void)state;
    struct colo_wr r = {.kind = COLO_WQ_CLAIM_TAKEOVER,
                        .board = 'b',
                        .verdict = COLO_WR_REFUSED,
                        .reason = COLO_WR_LEASE_LIVE,
                        .nonce = 0x8877665544332211ull,
                        .term = 0x100000000002ull,
                        .epoch = 0x0a0b0c0d0e0f1011ull,
                        .owner = 'a',
                        .mode = COLO_WITNESS_MODE_PROTECTED,
                        .wait_ms = 61220};
    memcpy(r.pair, PAIR, 6);
    uint8_t b[COLO_WITNESS_LEN + 8];
    memset(b, 0xee, sizeof(b));
    assert_int_equal(colo_wr_encode(b, sizeof(b), &r, NULL), COLO_WITNESS_LEN);
    assert_int_equal(b[COLO_WITNESS_LEN], 0xee);
    assert_memory_equal(b, "CVWR", 4);
    assert_int_equal(le(b + 4, 2), COLO_WITNESS_VERSION);
    assert_int_equal(b[6], COLO_WQ_CLAIM_TAKEOVER);
    assert_int_equal(b[7], 'b');
    assert_memory_equal(b + 8, PAIR, 6);
    assert_int_equal(b[14], COLO_WR_REFUSED);
    assert_int_equal(b[15], COLO_WR_LEASE_LIVE);
    assert_int_equal(le(b + 16, 8), r.nonce);
    assert_int_equal(le(b + 24, 8), r.term);
    assert_int_equal(le(b + 32, 8), r.epoch);
    assert_int_equal(b[40], 'a');
    assert_int_equal(b[41], COLO_WITNESS_MODE_PROTECTED);
    assert_int_equal(le(b + 42, 2), 0);
    assert_int_equal(le(b + 44, 4), 0);
    assert_int_equal(le(b + 48, 4), 61220);
    assert_int_equal(le(b + 52, 8), 0);
    assert_int_equal(le(b + 60, 4), crc32c(0, b, 60));
    struct colo_wr d;
    assert_int_equal(colo_wr_decode(b, COLO_WITNESS_LEN, &d, NULL), COLO_WITNESS_OK);
    assert_wr_equal(&d, &r);

    /* Every verdict/reason, owner and mode that go together. */
    for (unsigned kind = 1; kind <= 5; kind++) {
        for (unsigned reason = 0; reason < COLO_WR_REASON_COUNT; reason++) {
            for (unsigned owner = 0; owner < 3; owner++) {
                for (unsigned mode = owner ? 1 : 0; mode <= (owner ? 3u : 0u); mode++) {
                    struct colo_wr in = r;
                    in.kind = (uint8_t)kind;
                    in.reason = (uint8_t)reason;
                    in.verdict = reason ? COLO_WR_REFUSED : COLO_WR_GRANTED;
                    in.owner = owner == 0 ? 0 : owner == 1 ? 'a' : 'b';
                    in.mode = (uint8_t)mode;
                    in.term = owner == 0 ? 0 : owner == 1 ? 2 : UINT64_MAX;
                    in.epoch = owner ? UINT64_MAX : 0;
                    in.ttl_ms = !reason && kind != COLO_WQ_QUERY ? 60000 : 0;
                    in.wait_ms =
                        reason == COLO_WR_LEASE_LIVE || reason == COLO_WR_STARTING ? UINT32_MAX : 0;
                    assert_int_equal(colo_wr_encode(b, COLO_WITNESS_LEN, &in, NULL),
                                     COLO_WITNESS_LEN);
                    assert_int_equal(colo_wr_decode(b, COLO_WITNESS_LEN, &d, NULL),
                                     COLO_WITNESS_OK);
                    assert_wr_equal(&d, &in);
                }
            }
        }
    }
}

/* A request or reply the encoder refuses, with the error the decoder gives the same bytes. */
static void check_wq_refused(const struct colo_wq *q, enum colo_witness_err want)
{
    uint8_t b[COLO_WITNESS_LEN];
    assert_int_equal(colo_wq_encode(b, sizeof(b), q, NULL), 0);
    memset(b, 0, sizeof(b));
    put_le(b, COLO_WQ_MAGIC, 4);
    put_le(b + 4, COLO_WITNESS_VERSION, 2);
    b[6] = q->kind;
    b[7] = q->board;
    memcpy(b + 8, q->pair, 6);
    b[14] = q->mode;
    put_le(b + 16, q->nonce, 8);
    put_le(b + 24, q->boot_id, 8);
    put_le(b + 32, q->term, 8);
    put_le(b + 40, q->epoch, 8);
    put_le(b + 48, q->ttl_ms, 4);
    reseal(b);
    struct colo_wq d;
    assert_int_equal(colo_wq_decode(b, sizeof(b), &d, NULL), want);
}

static void check_wr_refused(const struct colo_wr *r, enum colo_witness_err want)
{
    uint8_t b[COLO_WITNESS_LEN];
    assert_int_equal(colo_wr_encode(b, sizeof(b), r, NULL), 0);
    memset(b, 0, sizeof(b));
    put_le(b, COLO_WR_MAGIC, 4);
    put_le(b + 4, COLO_WITNESS_VERSION, 2);
    b[6] = r->kind;
    b[7] = r->board;
    memcpy(b + 8, r->pair, 6);
    b[14] = r->verdict;
    b[15] = r->reason;
    put_le(b + 16, r->nonce, 8);
    put_le(b + 24, r->term, 8);
    put_le(b + 32, r->epoch, 8);
    b[40] = r->owner;
    b[41] = r->mode;
    put_le(b + 44, r->ttl_ms, 4);
    put_le(b + 48, r->wait_ms, 4);
    reseal(b);
    struct colo_wr d;
    assert_int_equal(colo_wr_decode(b, sizeof(b), &d, NULL), want);
}

static void test_request_refusals(void **state)
{
    (void)state;
    const struct colo_wq ok = wq(COLO_WQ_CLAIM_TAKEOVER, 'b', 0, 7, 3, 9, 1000);
    uint8_t good[COLO_WITNESS_LEN], b[COLO_WITNESS_LEN + 16];
    struct colo_wq d;
    assert_int_equal(colo_wq_encode(good, sizeof(good), &ok, NULL), COLO_WITNESS_LEN);
    assert_int_equal(colo_wq_encode(b, COLO_WITNESS_LEN - 1, &ok, NULL), 0);

    /* Every single-bit flip: magic and version told apart from damage, the rest is the CRC. */
    for (unsigned i = 0; i < COLO_WITNESS_LEN; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(b, good, COLO_WITNESS_LEN);
            b[i] ^= (uint8_t)(1u << bit);
            enum colo_witness_err want = i < 4   ? COLO_WITNESS_E_MAGIC
                                         : i < 6 ? COLO_WITNESS_E_VERSION
                                                 : COLO_WITNESS_E_CRC;
            assert_int_equal(colo_wq_decode(b, COLO_WITNESS_LEN, &d, NULL), want);
        }
    }
    for (size_t n = 0; n < sizeof(b); n++) {
        memcpy(b, good, COLO_WITNESS_LEN);
        if (n != COLO_WITNESS_LEN) {
            assert_int_equal(colo_wq_decode(b, n, &d, NULL), COLO_WITNESS_E_LENGTH);
        }
    }
    /* A reply is not a request. */
    struct colo_wr r = {
        .kind = 1, .board = 'a', .verdict = 1, .owner = 'a', .mode = 1, .term = 2, .ttl_ms = 1};
    assert_int_equal(colo_wr_encode(b, sizeof(b), &r, NULL), COLO_WITNESS_LEN);
    assert_int_equal(colo_wq_decode(b, COLO_WITNESS_LEN, &d, NULL), COLO_WITNESS_E_MAGIC);

    /* Reserved bytes, behind a resealed CRC (the encoder has no way to set them). */
    const unsigned rsvd[] = {15, 52, 55, 59};
    for (unsigned i = 0; i < ARRAY_LEN(rsvd); i++) {
        memcpy(b, good, COLO_WITNESS_LEN);
        b[rsvd[i]] = 0x80;
        reseal(b);
        assert_int_equal(colo_wq_decode(b, COLO_WITNESS_LEN, &d, NULL), COLO_WITNESS_E_RESERVED);
    }
    memcpy(b, good, COLO_WITNESS_LEN);
    put_le(b + 4, 1, 2); /* version 1: CRC-only, 64 bytes */
    reseal(b);
    assert_int_equal(colo_wq_decode(b, COLO_WITNESS_LEN, &d, NULL), COLO_WITNESS_E_VERSION);

    /* Fields: what the encoder refuses, the decoder refuses with the error named. */
    struct {
        struct colo_wq q;
        enum colo_witness_err want;
    } bad[] = {
        {wq(0, 'a', 0, 1, 2, 0, 1), COLO_WITNESS_E_KIND},
        {wq(6, 'a', 0, 1, 2, 0, 1), COLO_WITNESS_E_KIND},
        {wq(0xff, 'a', 0, 1, 2, 0, 1), COLO_WITNESS_E_KIND},
        {wq(COLO_WQ_BOOT, 'c', 0, 1, 2, 0, 1), COLO_WITNESS_E_BOARD},
        {wq(COLO_WQ_BOOT, 0, 0, 1, 2, 0, 1), COLO_WITNESS_E_BOARD},
        {wq(COLO_WQ_BOOT, 'A', 0, 1, 2, 0, 1), COLO_WITNESS_E_BOARD},
        {wq(COLO_WQ_RENEW, 'a', 0, 1, 2, 0, 1), COLO_WITNESS_E_MODE},
        {wq(COLO_WQ_RENEW, 'a', 4, 1, 2, 0, 1), COLO_WITNESS_E_MODE},
        {wq(COLO_WQ_BOOT, 'a', 1, 1, 2, 0, 1), COLO_WITNESS_E_MODE},
        {wq(COLO_WQ_QUERY, 'a', 2, 1, 0, 0, 0), COLO_WITNESS_E_MODE},
        {wq(COLO_WQ_CLAIM_ALONE, 'a', 3, 1, 2, 0, 1), COLO_WITNESS_E_MODE},
        {wq(COLO_WQ_BOOT, 'a', 0, 0, 2, 0, 1), COLO_WITNESS_E_BOOT},
        {wq(COLO_WQ_QUERY, 'a', 0, 0, 0, 0, 0), COLO_WITNESS_E_BOOT},
        {wq(COLO_WQ_BOOT, 'a', 0, 1, 2, 0, 0), COLO_WITNESS_E_TTL},
        {wq(COLO_WQ_RENEW, 'a', 1, 1, 2, 0, 60001), COLO_WITNESS_E_TTL},
        {wq(COLO_WQ_CLAIM_TAKEOVER, 'b', 0, 1, 3, 0, UINT32_MAX), COLO_WITNESS_E_TTL},
        {wq(COLO_WQ_QUERY, 'a', 0, 1, 0, 0, 1), COLO_WITNESS_E_TTL},
        {wq(COLO_WQ_BOOT, 'a', 0, 1, 0, 0, 1), COLO_WITNESS_E_TERM},
        {wq(COLO_WQ_BOOT, 'a', 0, 1, 3, 0, 1), COLO_WITNESS_E_TERM},
        {wq(COLO_WQ_RENEW, 'b', 1, 1, 2, 0, 1), COLO_WITNESS_E_TERM},
        {wq(COLO_WQ_CLAIM_ALONE, 'a', 0, 1, UINT64_MAX, 0, 1), COLO_WITNESS_E_TERM},
        {wq(COLO_WQ_QUERY, 'a', 0, 1, 2, 0, 0), COLO_WITNESS_E_TERM},
        {wq(COLO_WQ_BOOT, 'a', 0, 1, 2, 1, 1), COLO_WITNESS_E_FIELD},
        {wq(COLO_WQ_RENEW, 'a', 2, 1, 2, 1, 1), COLO_WITNESS_E_FIELD},
        {wq(COLO_WQ_RENEW, 'a', 3, 1, 2, 1, 1), COLO_WITNESS_E_FIELD},
        {wq(COLO_WQ_QUERY, 'a', 0, 1, 0, 1, 0), COLO_WITNESS_E_FIELD},
    };
    for (unsigned i = 0; i < ARRAY_LEN(bad); i++) {
        check_wq_refused(&bad[i].q, bad[i].want);
    }
    /* The edges that pass. */
    struct colo_wq edge[] = {
        wq(COLO_WQ_BOOT, 'a', 0, 1, 2, 0, 60000),
        wq(COLO_WQ_RENEW, 'b', 1, 1, 1, UINT64_MAX, 1),
        wq(COLO_WQ_QUERY, 'b', 0, UINT64_MAX, 0, 0, 0),
    };
    for (unsigned i = 0; i < ARRAY_LEN(edge); i++) {
        assert_int_equal(colo_wq_encode(b, sizeof(b), &edge[i], NULL), COLO_WITNESS_LEN);
        assert_int_equal(colo_wq_decode(b, COLO_WITNESS_LEN, &d, NULL), COLO_WITNESS_OK);
    }
}

static struct colo_wr wr(uint8_t kind, uint8_t verdict, uint8_t reason, uint8_t owner, uint8_t mode,
                         uint64_t term, uint64_t epoch, uint32_t ttl, uint32_t wait)
{
    struct colo_wr r = {.kind = kind,
                        .board = 'a',
                        .verdict = verdict,
                        .reason = reason,
                        .term = term,
                        .epoch = epoch,
                        .owner = owner,
                        .mode = mode,
                        .ttl_ms = ttl,
                        .wait_ms = wait};
    memcpy(r.pair, PAIR, 6);
    return r;
}

static void test_reply_refusals(void **state)
{
    (void)state;
    const struct colo_wr ok = wr(COLO_WQ_RENEW, COLO_WR_GRANTED, COLO_WR_OK, 'a', 1, 2, 5, 1000, 0);
    uint8_t good[COLO_WITNESS_LEN], b[COLO_WITNESS_LEN + 16];
    struct colo_wr d;
    assert_int_equal(colo_wr_encode(good, sizeof(good), &ok, NULL), COLO_WITNESS_LEN);
    assert_int_equal(colo_wr_encode(b, COLO_WITNESS_LEN - 1, &ok, NULL), 0);
    for (unsigned i = 0; i < COLO_WITNESS_LEN; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(b, good, COLO_WITNESS_LEN);
            b[i] ^= (uint8_t)(1u << bit);
            enum colo_witness_err want = i < 4   ? COLO_WITNESS_E_MAGIC
                                         : i < 6 ? COLO_WITNESS_E_VERSION
                                                 : COLO_WITNESS_E_CRC;
            assert_int_equal(colo_wr_decode(b, COLO_WITNESS_LEN, &d, NULL), want);
        }
    }
    for (size_t n = 0; n < sizeof(b); n++) {
        memcpy(b, good, COLO_WITNESS_LEN);
        if (n != COLO_WITNESS_LEN) {
            assert_int_equal(colo_wr_decode(b, n, &d, NULL), COLO_WITNESS_E_LENGTH);
        }
    }
    const unsigned rsvd[] = {42, 43, 52, 59};
    for (unsigned i = 0; i < ARRAY_LEN(rsvd); i++) {
        memcpy(b, good, COLO_WITNESS_LEN);
        b[rsvd[i]] = 1;
        reseal(b);
        assert_int_equal(colo_wr_decode(b, COLO_WITNESS_LEN, &d, NULL), COLO_WITNESS_E_RESERVED);
    }
    struct colo_wr board = ok;
    board.board = 'c';
    struct {
        struct colo_wr r;
        enum colo_witness_err want;
    } bad[] = {
        {wr(0, 1, 0, 'a', 1, 2, 0, 1, 0), COLO_WITNESS_E_KIND},
        {wr(6, 1, 0, 'a', 1, 2, 0, 1, 0), COLO_WITNESS_E_KIND},
        {board, COLO_WITNESS_E_BOARD},
        {wr(1, 0, 0, 'a', 1, 2, 0, 1, 0), COLO_WITNESS_E_VERDICT},
        {wr(1, 3, 1, 'a', 1, 2, 0, 0, 0), COLO_WITNESS_E_VERDICT},
        {wr(1, 2, 9, 'a', 1, 2, 0, 0, 0), COLO_WITNESS_E_REASON},
        {wr(1, 2, 0, 'a', 1, 2, 0, 0, 0), COLO_WITNESS_E_REASON},
        {wr(1, 1, 3, 'a', 1, 2, 0, 0, 0), COLO_WITNESS_E_REASON},
        {wr(1, 1, 0, 'c', 1, 2, 0, 1, 0), COLO_WITNESS_E_BOARD},
        {wr(1, 1, 0, 'a', 0, 2, 0, 1, 0), COLO_WITNESS_E_MODE},
        {wr(1, 1, 0, 'a', 4, 2, 0, 1, 0), COLO_WITNESS_E_MODE},
        {wr(5, 1, 0, 0, 1, 0, 0, 0, 0), COLO_WITNESS_E_MODE},
        {wr(5, 1, 0, 0, 0, 2, 0, 0, 0), COLO_WITNESS_E_FIELD},
        {wr(5, 1, 0, 0, 0, 0, 1, 0, 0), COLO_WITNESS_E_FIELD},
        {wr(1, 1, 0, 'a', 1, 0, 0, 1, 0), COLO_WITNESS_E_TERM},
        {wr(1, 1, 0, 'a', 1, 3, 0, 1, 0), COLO_WITNESS_E_TERM},
        {wr(1, 1, 0, 'b', 1, 2, 0, 1, 0), COLO_WITNESS_E_TERM},
        {wr(1, 1, 0, 'a', 1, 2, 0, 0, 0), COLO_WITNESS_E_TTL},
        {wr(1, 1, 0, 'a', 1, 2, 0, 60001, 0), COLO_WITNESS_E_TTL},
        {wr(5, 1, 0, 'a', 1, 2, 0, 1, 0), COLO_WITNESS_E_TTL},
        {wr(3, 2, 1, 'a', 1, 2, 0, 1, 5), COLO_WITNESS_E_TTL},
        {wr(1, 1, 0, 'a', 1, 2, 0, 1, 1), COLO_WITNESS_E_FIELD},
        {wr(3, 2, 3, 'a', 1, 2, 0, 0, 1), COLO_WITNESS_E_FIELD},
    };
    for (unsigned i = 0; i < ARRAY_LEN(bad); i++) {
        check_wr_refused(&bad[i].r, bad[i].want);
    }
}

static void test_names(void **state)
{
    (void)state;
    for (int e = 0; e < COLO_WITNESS_E_COUNT; e++) {
        assert_string_not_equal(colo_witness_err_name((enum colo_witness_err)e), "?");
        for (int f = 0; f < e; f++) {
            assert_string_not_equal(colo_witness_err_name((enum colo_witness_err)e),
                                    colo_witness_err_name((enum colo_witness_err)f));
        }
    }
    assert_string_equal(colo_witness_err_name(COLO_WITNESS_E_COUNT), "?");
    assert_string_equal(colo_wq_kind_name(COLO_WQ_CLAIM_TAKEOVER), "CLAIM_TAKEOVER");
    assert_string_equal(colo_wq_kind_name(0), "?");
    assert_string_equal(colo_wq_kind_name(6), "?");
    assert_string_equal(colo_witness_mode_name(0), "NONE");
    assert_string_equal(colo_witness_mode_name(4), "?");
    assert_string_equal(colo_wr_reason_name(COLO_WR_PEER_HOLDS_REPLICA), "PEER_HOLDS_REPLICA");
    assert_string_equal(colo_wr_reason_name(COLO_WR_REASON_COUNT), "?");
    assert_string_equal(colo_wr_verdict_name(COLO_WR_REFUSED), "REFUSED");
    assert_string_equal(colo_wr_verdict_name(0), "?");
}

/* ---- rules ---- */

/* Decides q on rec at now (the witness started at 0), and checks what holds for every reply:
 * the echo, the record copied out, the reply encodes, the flag says whether the persisted part
 * changed, the record stays valid. Returns the reason. */
static enum colo_wr_reason decide(struct colo_witness_rec *rec, const struct colo_wq *q,
                                  uint64_t now, uint64_t started, struct colo_wr *out)
{
    struct colo_witness_rec before = *rec;
    struct colo_witness_clock clk = {.now_ms = now, .started_ms = started};
    struct colo_wr r;
    bool persist = colo_witness_decide(rec, q, &clk, &r);
    bool changed = before.term != rec->term || before.owner != rec->owner ||
                   before.owner_boot != rec->owner_boot || before.mode != rec->mode ||
                   before.epoch != rec->epoch || before.max_ttl_ms != rec->max_ttl_ms;
    /* With an owner the request's nonce is persisted too, so every decision is written. */
    assert_int_equal(persist, changed || rec->owner != 0);
    assert_int_equal(rec->seen[q->board == 'b'][0].boot, q->boot_id);
    assert_int_equal(rec->seen[q->board == 'b'][0].nonce, q->nonce);
    if (r.verdict != COLO_WR_GRANTED) {
        /* A refusal changes nothing that is persisted. */
        assert_false(changed);
    }
    assert_true(colo_witness_rec_valid(rec));
    assert_true(rec->term >= before.term);
    assert_int_equal(r.kind, q->kind);
    assert_int_equal(r.board, q->board);
    assert_int_equal(r.nonce, q->nonce);
    assert_memory_equal(r.pair, q->pair, 6);
    assert_int_equal(r.term, rec->term);
    assert_int_equal(r.epoch, rec->epoch);
    assert_int_equal(r.owner, rec->owner);
    assert_int_equal(r.mode, rec->mode);
    uint8_t b[COLO_WITNESS_LEN];
    struct colo_wr back;
    /* The harness's decide() ignores the replay rule (test_replay has it): requests reuse
     * nonces here. */
    assert_int_equal(colo_wr_encode(b, sizeof(b), &r, NULL), COLO_WITNESS_LEN);
    assert_int_equal(colo_wr_decode(b, sizeof(b), &back, NULL), COLO_WITNESS_OK);
    assert_wr_equal(&back, &r);
    if (out) {
        *out = r;
    }
    return (enum colo_wr_reason)r.reason;
}

static void test_lease_and_persist(void **state)
{
    (void)state;
    struct colo_witness_rec rec = {0};
    struct colo_wr r;
    assert_int_equal(colo_witness_hold_ms(1000), 1040);
    assert_int_equal(colo_witness_hold_ms(49), 69);
    assert_int_equal(colo_witness_hold_ms(60000), 61220);

    struct colo_wq q = wq(COLO_WQ_QUERY, 'a', 0, 0xa1, 0, 0, 0);
    assert_int_equal(decide(&rec, &q, 0, 0, &r), COLO_WR_OK);
    assert_int_equal(r.verdict, COLO_WR_GRANTED);
    assert_int_equal(rec.lease_until_ms, 0); /* a QUERY grants no lease */

    q = wq(COLO_WQ_BOOT, 'a', 0, 0xa1, 2, 0, 1000);
    assert_int_equal(decide(&rec, &q, 100, 0, &r), COLO_WR_OK);
    assert_int_equal(rec.lease_until_ms, 1140);
    assert_int_equal(rec.max_ttl_ms, 1000);
    assert_int_equal(r.ttl_ms, 1000);
    /* The retransmission changes no field of the record (its nonce is written, the record has
     * an owner); a shorter lease does not shorten it. */
    q.ttl_ms = 10;
    struct colo_witness_clock clk = {.now_ms = 200};
    assert_true(colo_witness_decide(&rec, &q, &clk, &r));
    assert_int_equal(rec.term, 2);
    assert_int_equal(rec.lease_until_ms, 1140);
    assert_int_equal(rec.max_ttl_ms, 1000);
    /* A longer ttl is persisted (the STARTING window after a restart depends on it). */
    q.ttl_ms = 2000;
    assert_true(colo_witness_decide(&rec, &q, &clk, &r));
    assert_int_equal(rec.max_ttl_ms, 2000);
    assert_int_equal(rec.lease_until_ms, 2260);

    /* Restart: the persisted part stays, the volatile goes. */
    rec.owner_dead = true;
    struct colo_witness_rec kept = rec;
    colo_witness_rec_restart(&rec);
    assert_int_equal(rec.lease_until_ms, 0);
    assert_false(rec.owner_dead);
    assert_int_equal(rec.term, kept.term);
    assert_int_equal(rec.owner_boot, kept.owner_boot);
    assert_int_equal(rec.max_ttl_ms, kept.max_ttl_ms);
    assert_memory_equal(rec.seen, kept.seen, sizeof(rec.seen));
}

/* The same request sealed here and by tools/cv-witness (the tag below is its output for this
 * request and tests/witness's key): the two implementations of HKDF and HMAC agree. Forged,
 * CRC-sealed and damaged datagrams are refused by a keyed decoder, and a keyed datagram by an
 * unkeyed one. */
static void test_sealed(void **state)
{
    (void)state;
    uint8_t key[COLO_KEY_LEN], other[COLO_KEY_LEN];
    mac_keys(key, other);
    static const uint8_t want_key[COLO_KEY_LEN] = {0xd0, 0x48, 0x2d, 0x6e, 0xcb, 0x06, 0x26, 0x6e,
                                                   0x01, 0xfc, 0x78, 0xd6, 0x0b, 0x66, 0x8a, 0x81,
                                                   0xc3, 0x24, 0x94, 0x7c, 0x59, 0x58, 0xab, 0x2f,
                                                   0x4b, 0xed, 0x57, 0x67, 0x8b, 0x2c, 0x55, 0x35};
    static const uint8_t want_tag[COLO_WITNESS_TAG_LEN] = {0x04, 0xe7, 0xd1, 0x10, 0x98, 0x83,
                                                           0xfe, 0x30, 0x23, 0xde, 0x9b, 0x27,
                                                           0x54, 0x2f, 0x06, 0xd4};
    assert_memory_equal(key, want_key, COLO_KEY_LEN);
    struct colo_wq q = wq(COLO_WQ_BOOT, 'a', 0, 0xa1, 2, 0, 1000);
    q.nonce = 1;
    uint8_t b[COLO_WITNESS_LEN], c[COLO_WITNESS_LEN];
    struct colo_wq d;
    assert_int_equal(colo_wq_encode(b, sizeof(b), &q, key), COLO_WITNESS_LEN);
    assert_memory_equal(b + 60, want_tag, COLO_WITNESS_TAG_LEN);
    assert_int_equal(colo_wq_decode(b, sizeof(b), &d, key), COLO_WITNESS_OK);
    assert_int_equal(colo_wq_decode(b, sizeof(b), &d, other), COLO_WITNESS_E_AUTH);
    assert_int_equal(colo_wq_decode(b, sizeof(b), &d, NULL), COLO_WITNESS_E_CRC);
    assert_int_equal(colo_wq_encode(c, sizeof(c), &q, NULL), COLO_WITNESS_LEN);
    assert_int_equal(colo_wq_decode(c, sizeof(c), &d, key), COLO_WITNESS_E_AUTH);
    for (unsigned i = 6; i < COLO_WITNESS_LEN; i++) {
        memcpy(c, b, sizeof(c));
        c[i] ^= 0x01;
        assert_int_equal(colo_wq_decode(c, sizeof(c), &d, key), COLO_WITNESS_E_AUTH);
    }
    /* A forged reply (another key) and a CRC-sealed one: a keyed board believes neither. */
    struct colo_wr r = {
        .kind = 1, .board = 'a', .verdict = 1, .owner = 'a', .mode = 1, .term = 2, .ttl_ms = 1};
    struct colo_wr rd;
    assert_int_equal(colo_wr_encode(b, sizeof(b), &r, key), COLO_WITNESS_LEN);
    assert_int_equal(colo_wr_decode(b, sizeof(b), &rd, key), COLO_WITNESS_OK);
    assert_int_equal(colo_wr_encode(b, sizeof(b), &r, other), COLO_WITNESS_LEN);
    assert_int_equal(colo_wr_decode(b, sizeof(b), &rd, key), COLO_WITNESS_E_AUTH);
    assert_int_equal(colo_wr_encode(b, sizeof(b), &r, NULL), COLO_WITNESS_LEN);
    assert_int_equal(colo_wr_decode(b, sizeof(b), &rd, key), COLO_WITNESS_E_AUTH);
}

/* The replay rule: per board and boot, only above the last nonce decided; 8 boots a board. */
static void test_replay(void **state)
{
    (void)state;
    struct colo_witness_rec rec = {0};
    struct colo_witness_clock clk = {.now_ms = 0};
    struct colo_wr r;
    struct colo_wq q = wq(COLO_WQ_BOOT, 'a', 0, 0xa1, 2, 0, 1000);
    q.nonce = 5;
    assert_false(colo_witness_replay(&rec, &q));
    assert_true(colo_witness_decide(&rec, &q, &clk, &r));
    assert_true(colo_witness_replay(&rec, &q));
    q.nonce = 4;
    assert_true(colo_witness_replay(&rec, &q));
    q.nonce = 6;
    assert_false(colo_witness_replay(&rec, &q));
    /* The other board, or another boot, has its own count. */
    struct colo_wq qb = wq(COLO_WQ_QUERY, 'b', 0, 0xa1, 0, 0, 0);
    qb.nonce = 1;
    assert_false(colo_witness_replay(&rec, &qb));
    struct colo_wq q2 = q;
    q2.boot_id = 0xa2;
    q2.nonce = 1;
    assert_false(colo_witness_replay(&rec, &q2));
    /* A renewal extends the lease; the same one again is a replay and must not reach decide. */
    struct colo_wq renew = wq(COLO_WQ_RENEW, 'a', COLO_WITNESS_MODE_PROTECTED, 0xa1, 2, 3, 1000);
    renew.nonce = 7;
    assert_true(colo_witness_decide(&rec, &renew, &clk, &r));
    assert_true(colo_witness_replay(&rec, &renew));
    /* Eight more boots of b: the oldest of b's is forgotten, a's are not touched. */
    for (uint64_t boot = 1; boot <= COLO_WITNESS_BOOTS + 1; boot++) {
        qb.boot_id = boot;
        colo_witness_decide(&rec, &qb, &clk, &r);
    }
    qb.boot_id = 1;
    assert_false(colo_witness_replay(&rec, &qb));
    qb.boot_id = 2;
    assert_true(colo_witness_replay(&rec, &qb));
    assert_true(colo_witness_replay(&rec, &renew));
    /* A restart keeps a record's nonces; a pair without an owner forgets them. */
    colo_witness_rec_restart(&rec);
    assert_true(colo_witness_replay(&rec, &renew));
    struct colo_witness_rec none = {0};
    colo_witness_decide(&none, &qb, &clk, &r);
    assert_true(colo_witness_replay(&none, &qb));
    colo_witness_rec_restart(&none);
    assert_false(colo_witness_replay(&none, &qb));
}

static void test_owner_dead(void **state)
{
    (void)state;
    struct colo_witness_rec rec = {0};
    struct colo_wq q = wq(COLO_WQ_BOOT, 'a', 0, 0xa1, 2, 0, 1000);
    assert_int_equal(decide(&rec, &q, 0, 0, NULL), COLO_WR_OK);
    q = wq(COLO_WQ_RENEW, 'a', COLO_WITNESS_MODE_PROTECTED, 0xa1, 2, 4, 1000);
    assert_int_equal(decide(&rec, &q, 2000, 0, NULL), COLO_WR_OK);
    assert_int_equal(rec.lease_until_ms, 3040);
    q = wq(COLO_WQ_BOOT, 'a', 0, 0xa2, 4, 0, 1000);
    assert_int_equal(decide(&rec, &q, 2100, 0, NULL), COLO_WR_PEER_HOLDS_REPLICA);
    assert_true(rec.owner_dead);
    assert_int_equal(rec.lease_until_ms, 2100);
    /* A late RENEW of the dead boot (sent before it died) keeps it dead. */
    q = wq(COLO_WQ_RENEW, 'a', COLO_WITNESS_MODE_PROTECTED, 0xa1, 2, 4, 1000);
    assert_int_equal(decide(&rec, &q, 2101, 0, NULL), COLO_WR_OK);
    assert_true(rec.owner_dead);
    /* Adoption by another boot is a live owner again. */
    q = wq(COLO_WQ_RENEW, 'a', COLO_WITNESS_MODE_PROTECTED, 0xa3, 6, 5, 1000);
    assert_int_equal(decide(&rec, &q, 2102, 0, NULL), COLO_WR_OK);
    assert_false(rec.owner_dead);
    q = wq(COLO_WQ_BOOT, 'a', 0, 0xa4, 8, 0, 1000);
    assert_int_equal(decide(&rec, &q, 2103, 0, NULL), COLO_WR_PEER_HOLDS_REPLICA);
    assert_true(rec.owner_dead);
    q = wq(COLO_WQ_CLAIM_TAKEOVER, 'b', 0, 0xb1, 7, 5, 1000);
    assert_int_equal(decide(&rec, &q, 2104, 0, NULL), COLO_WR_OK);
    assert_false(rec.owner_dead);
    assert_int_equal(rec.owner, 'b');
}

static void test_rec_valid(void **state)
{
    (void)state;
    struct colo_witness_rec ok = {.term = 3, .owner = 'b', .owner_boot = 1, .mode = 1};
    struct colo_witness_rec none = {0};
    assert_true(colo_witness_rec_valid(&ok));
    assert_true(colo_witness_rec_valid(&none));
    struct colo_witness_rec bad[] = {
        {.term = 2, .owner = 'b', .owner_boot = 1, .mode = 1},
        {.term = 3, .owner = 'c', .owner_boot = 1, .mode = 1},
        {.term = 3, .owner = 'b', .owner_boot = 0, .mode = 1},
        {.term = 3, .owner = 'b', .owner_boot = 1, .mode = 0},
        {.term = 3, .owner = 'b', .owner_boot = 1, .mode = 4},
        {.term = 3, .owner = 'b', .owner_boot = 1, .mode = 1, .max_ttl_ms = 60001},
        {.term = 2},
        {.epoch = 1},
        {.mode = 1},
    };
    for (unsigned i = 0; i < ARRAY_LEN(bad); i++) {
        assert_false(colo_witness_rec_valid(&bad[i]));
    }
}

static void test_terms_and_majority(void **state)
{
    (void)state;
    assert_int_equal(colo_witness_next_term(0, 'a'), 2);
    assert_int_equal(colo_witness_next_term(0, 'b'), 3);
    assert_int_equal(colo_witness_next_term(2, 'a'), 4);
    assert_int_equal(colo_witness_next_term(2, 'b'), 5);
    assert_int_equal(colo_witness_next_term(3, 'a'), 4);
    assert_int_equal(colo_witness_next_term(5, 'b'), 7);
    assert_int_equal(colo_witness_next_term(0, 'c'), 0);
    assert_int_equal(colo_witness_next_term(UINT64_MAX - 3, 'b'), UINT64_MAX);
    assert_int_equal(colo_witness_next_term(UINT64_MAX - 2, 'a'), UINT64_MAX - 1);
    assert_int_equal(colo_witness_next_term(UINT64_MAX - 1, 'a'), 0);
    assert_int_equal(colo_witness_next_term(UINT64_MAX, 'a'), 0);
    /* Same round: different terms of each board's parity; any later round larger than both. */
    for (uint64_t m = 0; m < 100; m++) {
        uint64_t a = colo_witness_next_term(m, 'a'), b = colo_witness_next_term(m, 'b');
        assert_true(a > m && b > m && a != b);
        assert_int_equal(a & 1, 0);
        assert_int_equal(b & 1, 1);
        assert_true(colo_witness_next_term(b, 'a') > b && colo_witness_next_term(a, 'b') > a);
    }
    assert_int_equal(colo_witness_majority(1), 1);
    assert_int_equal(colo_witness_majority(2), 2);
    assert_int_equal(colo_witness_majority(3), 2);
    assert_true(colo_witness_has_majority(1, 1));
    assert_false(colo_witness_has_majority(1, 2));
    assert_true(colo_witness_has_majority(2, 3));
    assert_false(colo_witness_has_majority(1, 3));
    assert_false(colo_witness_has_majority(4, 3));
    assert_false(colo_witness_has_majority(0, 0));
}

/*
 * Conflicting claims: a (primary, its secondary silent) claims ALONE and b (secondary, its
 * primary silent) claims a takeover in the same round, at n witnesses, with the requests reaching
 * each witness in either order and a's lease live or expired at each; some witnesses may not
 * get one of the requests at all (lost). For every combination at most one board gets a
 * majority, and a second round (each loser retries with a larger term) changes nothing.
 */
enum { DELIVER_BOTH_AB, DELIVER_BOTH_BA, DELIVER_A, DELIVER_B, DELIVER_NONE, DELIVERIES };

static void setup_protected(struct colo_witness_rec *rec, uint64_t renew_at)
{
    memset(rec, 0, sizeof(*rec));
    struct colo_wq q = wq(COLO_WQ_BOOT, 'a', 0, 0xa1, 2, 0, 1000);
    assert_int_equal(decide(rec, &q, 0, 0, NULL), COLO_WR_OK);
    q = wq(COLO_WQ_RENEW, 'a', COLO_WITNESS_MODE_PROTECTED, 0xa1, 2, 5, 1000);
    assert_int_equal(decide(rec, &q, renew_at, 0, NULL), COLO_WR_OK);
}

static void conflict(unsigned n, const unsigned *delivery, const bool *expired)
{
    struct colo_witness_rec w[3];
    unsigned ga = 0, gb = 0;
    const uint64_t now = 5000;
    for (unsigned i = 0; i < n; i++) {
        /* The last RENEW: long ago (lease expired by now) or just before. */
        setup_protected(&w[i], expired[i] ? 1000 : now - 100);
        struct colo_wq qa = wq(COLO_WQ_CLAIM_ALONE, 'a', 0, 0xa1, 4, 5, 1000);
        struct colo_wq qb = wq(COLO_WQ_CLAIM_TAKEOVER, 'b', 0, 0xb1, 5, 5, 1000);
        struct colo_wr r;
        bool a_first = delivery[i] == DELIVER_BOTH_AB || delivery[i] == DELIVER_A;
        bool send_a = delivery[i] != DELIVER_B && delivery[i] != DELIVER_NONE;
        bool send_b = delivery[i] != DELIVER_A && delivery[i] != DELIVER_NONE;
        for (unsigned k = 0; k < 2; k++) {
            bool is_a = (k == 0) == a_first;
            if (is_a && send_a) {
                ga += decide(&w[i], &qa, now, 0, &r) == COLO_WR_OK;
            } else if (!is_a && send_b) {
                gb += decide(&w[i], &qb, now, 0, &r) == COLO_WR_OK;
            }
        }
    }
    bool ma = colo_witness_has_majority(ga, n), mb = colo_witness_has_majority(gb, n);
    assert_false(ma && mb);

    /* Round two, to every witness: each board retries with the next term after everything it
     * could have seen (7 for b, 8 for a); who won keeps it, no loser gets in. */
    unsigned ga2 = 0, gb2 = 0;
    for (unsigned i = 0; i < n; i++) {
        struct colo_wq qa = wq(COLO_WQ_CLAIM_ALONE, 'a', 0, 0xa1, 8, 5, 1000);
        struct colo_wq qb = wq(COLO_WQ_CLAIM_TAKEOVER, 'b', 0, 0xb1, 7, 5, 1000);
        ga2 += decide(&w[i], &qa, now + 1, 0, NULL) == COLO_WR_OK;
        gb2 += decide(&w[i], &qb, now + 1, 0, NULL) == COLO_WR_OK;
    }
    assert_false(colo_witness_has_majority(ga2, n) && colo_witness_has_majority(gb2, n));
    if (ma) {
        assert_false(colo_witness_has_majority(gb2, n));
    }
    if (mb) {
        assert_false(colo_witness_has_majority(ga2, n));
    }
}

static void test_conflicting_claims(void **state)
{
    (void)state;
    /* One witness: first come wins; a live lease lets only a in. */
    struct colo_witness_rec rec;
    setup_protected(&rec, 4900);
    struct colo_wq qb = wq(COLO_WQ_CLAIM_TAKEOVER, 'b', 0, 0xb1, 5, 5, 1000);
    struct colo_wq qa = wq(COLO_WQ_CLAIM_ALONE, 'a', 0, 0xa1, 4, 5, 1000);
    assert_int_equal(decide(&rec, &qb, 5000, 0, NULL), COLO_WR_LEASE_LIVE);
    assert_int_equal(decide(&rec, &qa, 5000, 0, NULL), COLO_WR_OK);
    assert_int_equal(decide(&rec, &qb, 9000, 0, NULL), COLO_WR_STALE_REPLICA);
    setup_protected(&rec, 1000);
    assert_int_equal(decide(&rec, &qb, 5000, 0, NULL), COLO_WR_OK);
    assert_int_equal(decide(&rec, &qa, 5000, 0, NULL), COLO_WR_NOT_OWNER);

    unsigned delivery[3];
    bool expired[3];
    for (unsigned n = 1; n <= 3; n++) {
        unsigned combos = 1;
        for (unsigned i = 0; i < n; i++) {
            combos *= DELIVERIES * 2;
        }
        for (unsigned c = 0; c < combos; c++) {
            unsigned x = c;
            for (unsigned i = 0; i < n; i++) {
                delivery[i] = x % DELIVERIES;
                x /= DELIVERIES;
                expired[i] = x & 1;
                x >>= 1;
            }
            conflict(n, delivery, expired);
        }
    }
}

/* ---- scenarios.txt ---- */

struct line {
    bool restart;
    uint64_t at;
    uint8_t dgram[COLO_WITNESS_LEN + 8];
    size_t len;
    uint8_t pair[6];
    bool drop, replay;
    char verdict[16], reason[32], owner, mode[16];
    uint64_t term, epoch, ttl, wait;
};

static bool num(const char *s, uint64_t *v)
{
    char *end;
    *v = strtoull(s, &end, 0);
    return end != s && *end == '\0';
}

static int name_index(const char *s, const char *(*name)(unsigned), unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        if (strcmp(s, name(i)) == 0) {
            return (int)i;
        }
    }
    uint64_t v;
    return num(s, &v) && v < 256 ? (int)v : -1;
}

static bool parse_pair(const char *s, uint8_t *pair)
{
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
        return false;
    }
    for (unsigned i = 0; i < 6; i++) {
        pair[i] = (uint8_t)v[i];
    }
    return true;
}

/* Parses one scenario line; fails the test with the line number on a syntax error. */
static void parse_line(char *text, unsigned lineno, struct line *l)
{
    memset(l, 0, sizeof(*l));
    char *tok[40];
    unsigned n = 0;
    for (char *t = strtok(text, " \t\n"); t && n < ARRAY_LEN(tok); t = strtok(NULL, " \t\n")) {
        tok[n++] = t;
    }
    if (n < 2 || tok[0][0] != '@' || !num(tok[0] + 1, &l->at)) {
        fail_msg("scenarios.txt:%u: expected @T", lineno);
    }
    if (strcmp(tok[1], "RESTART") == 0) {
        l->restart = true;
        return;
    }
    int kind = name_index(tok[1], colo_wq_kind_name, 6);
    if (n < 3 || kind < 0 || strlen(tok[2]) != 1) {
        fail_msg("scenarios.txt:%u: expected KIND BOARD", lineno);
    }
    uint8_t *b = l->dgram;
    put_le(b, COLO_WQ_MAGIC, 4);
    put_le(b + 4, COLO_WITNESS_VERSION, 2);
    b[6] = (uint8_t)kind;
    b[7] = (uint8_t)tok[2][0];
    memcpy(l->pair, PAIR, 6);
    put_le(b + 16, lineno, 8);
    l->len = COLO_WITNESS_LEN;
    bool badcrc = false, wrongkey = false, crc = false;
    unsigned i = 3;
    uint64_t magic = COLO_WQ_MAGIC, version = COLO_WITNESS_VERSION;
    for (; i < n && strcmp(tok[i], "=>") != 0; i++) {
        char *eq = strchr(tok[i], '=');
        uint64_t v = 0;
        if (strcmp(tok[i], "badcrc") == 0) {
            badcrc = true;
            continue;
        }
        if (strcmp(tok[i], "wrongkey") == 0) {
            wrongkey = true;
            continue;
        }
        if (strcmp(tok[i], "crc") == 0) {
            crc = true;
            continue;
        }
        if (!eq) {
            fail_msg("scenarios.txt:%u: bad token %s", lineno, tok[i]);
        }
        *eq = '\0';
        const char *k = tok[i], *val = eq + 1;
        if (strcmp(k, "pair") == 0) {
            if (!parse_pair(val, l->pair)) {
                fail_msg("scenarios.txt:%u: bad pair", lineno);
            }
            continue;
        }
        if (strcmp(k, "mode") == 0) {
            int m = name_index(val, colo_witness_mode_name, 4);
            if (m < 0) {
                fail_msg("scenarios.txt:%u: bad mode", lineno);
            }
            b[14] = (uint8_t)m;
            continue;
        }
        if (!num(val, &v)) {
            fail_msg("scenarios.txt:%u: bad number %s", lineno, val);
        }
        if (strcmp(k, "boot") == 0) {
            put_le(b + 24, v, 8);
        } else if (strcmp(k, "term") == 0) {
            put_le(b + 32, v, 8);
        } else if (strcmp(k, "epoch") == 0) {
            put_le(b + 40, v, 8);
        } else if (strcmp(k, "ttl") == 0) {
            put_le(b + 48, v, 4);
        } else if (strcmp(k, "nonce") == 0) {
            put_le(b + 16, v, 8);
        } else if (strcmp(k, "version") == 0) {
            version = v;
        } else if (strcmp(k, "magic") == 0) {
            magic = v;
        } else if (strcmp(k, "len") == 0 && v <= sizeof(l->dgram)) {
            l->len = (size_t)v;
        } else if (strcmp(k, "rsvd15") == 0) {
            b[15] = (uint8_t)v;
        } else if (strcmp(k, "rsvd52") == 0) {
            b[52] = (uint8_t)v;
        } else {
            fail_msg("scenarios.txt:%u: unknown key %s", lineno, k);
        }
    }
    memcpy(b + 8, l->pair, 6);
    put_le(b, magic, 4);
    put_le(b + 4, version, 2);
    /* Sealed as the service's test seals: the test's key, another one, or the CRC. The C
     * encoder cannot be used, it refuses what these lines must send. */
    reseal(b);
    if (!crc) {
        uint8_t key[COLO_KEY_LEN], other[COLO_KEY_LEN], mac[COLO_SHA256_LEN];
        mac_keys(key, other);
        const void *ptr[1] = {b};
        const size_t plen[1] = {60};
        colo_port_hmac_sha256(wrongkey ? other : key, COLO_KEY_LEN, 1, ptr, plen, mac);
        memcpy(b + 60, mac, COLO_WITNESS_TAG_LEN);
    }
    if (badcrc) {
        b[60] ^= 1;
    }
    if (i + 1 >= n) {
        fail_msg("scenarios.txt:%u: expected => and the outcome", lineno);
    }
    i++;
    if (strcmp(tok[i], "DROP") == 0) {
        l->drop = true;
        return;
    }
    if (strcmp(tok[i], "REPLAY") == 0) {
        l->replay = true;
        return;
    }
    if (i + 8 != n) {
        fail_msg("scenarios.txt:%u: expected VERDICT REASON and six fields", lineno);
    }
    snprintf(l->verdict, sizeof(l->verdict), "%s", tok[i]);
    snprintf(l->reason, sizeof(l->reason), "%s", tok[i + 1]);
    char owner[4];
    if (sscanf(tok[i + 2], "term=%" SCNu64, &l->term) != 1 ||
        sscanf(tok[i + 3], "owner=%3s", owner) != 1 ||
        sscanf(tok[i + 4], "mode=%15s", l->mode) != 1 ||
        sscanf(tok[i + 5], "epoch=%" SCNu64, &l->epoch) != 1 ||
        sscanf(tok[i + 6], "ttl=%" SCNu64, &l->ttl) != 1 ||
        sscanf(tok[i + 7], "wait=%" SCNu64, &l->wait) != 1) {
        fail_msg("scenarios.txt:%u: bad outcome fields", lineno);
    }
    l->owner = owner[0] == '-' ? 0 : owner[0];
}

struct witness {
    struct {
        uint8_t pair[6];
        struct colo_witness_rec rec;
    } pairs[8];
    unsigned npairs;
    uint64_t started, last;
};

static struct colo_witness_rec *lookup(struct witness *w, const uint8_t *pair)
{
    for (unsigned i = 0; i < w->npairs; i++) {
        if (memcmp(w->pairs[i].pair, pair, 6) == 0) {
            return &w->pairs[i].rec;
        }
    }
    assert_true(w->npairs < ARRAY_LEN(w->pairs));
    memcpy(w->pairs[w->npairs].pair, pair, 6);
    memset(&w->pairs[w->npairs].rec, 0, sizeof(struct colo_witness_rec));
    return &w->pairs[w->npairs++].rec;
}

static void replay_line(struct witness *w, struct line *l, unsigned lineno, unsigned *checked)
{
    if (l->at < w->last) {
        fail_msg("scenarios.txt:%u: time goes back", lineno);
    }
    w->last = l->at;
    if (l->restart) {
        for (unsigned i = 0; i < w->npairs; i++) {
            colo_witness_rec_restart(&w->pairs[i].rec);
        }
        w->started = l->at;
        return;
    }
    struct colo_wq q;
    uint8_t key[COLO_KEY_LEN], other[COLO_KEY_LEN];
    mac_keys(key, other);
    enum colo_witness_err e = colo_wq_decode(l->dgram, l->len, &q, key);
    if (l->drop) {
        if (e == COLO_WITNESS_OK) {
            fail_msg("scenarios.txt:%u: expected DROP, the decoder accepted it", lineno);
        }
        (*checked)++;
        return;
    }
    if (e != COLO_WITNESS_OK) {
        fail_msg("scenarios.txt:%u: decoder refused: %s", lineno, colo_witness_err_name(e));
    }
    /* A request the decoder accepts is exactly what the encoder makes of it. */
    uint8_t again[COLO_WITNESS_LEN];
    assert_int_equal(colo_wq_encode(again, sizeof(again), &q, key), COLO_WITNESS_LEN);
    assert_memory_equal(again, l->dgram, COLO_WITNESS_LEN);

    struct colo_witness_rec *rec = lookup(w, q.pair);
    if (colo_witness_replay(rec, &q) != l->replay) {
        fail_msg("scenarios.txt:%u: %s", lineno,
                 l->replay ? "expected REPLAY, the rules took it" : "refused as a replay");
    }
    if (l->replay) {
        (*checked)++;
        return;
    }
    struct colo_wr r;
    decide(rec, &q, l->at, w->started, &r);
    const char *verdict = colo_wr_verdict_name(r.verdict);
    const char *reason = colo_wr_reason_name(r.reason);
    const char *mode = colo_witness_mode_name(r.mode);
    if (strcmp(verdict, l->verdict) || strcmp(reason, l->reason) || r.term != l->term ||
        r.owner != l->owner || strcmp(mode, l->mode) || r.epoch != l->epoch || r.ttl_ms != l->ttl ||
        r.wait_ms != l->wait) {
        fail_msg("scenarios.txt:%u: got %s %s term=%llu owner=%c mode=%s epoch=%llu ttl=%u "
                 "wait=%u",
                 lineno, verdict, reason, (unsigned long long)r.term, r.owner ? r.owner : '-', mode,
                 (unsigned long long)r.epoch, r.ttl_ms, r.wait_ms);
    }
    (*checked)++;
}

static void test_scenarios(void **state)
{
    (void)state;
    const char *root = getenv("CV_SRCDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/witness/scenarios.txt", root ? root : "../..");
    FILE *f = fopen(path, "r");
    if (!f) {
        fail_msg("cannot open %s (CV_SRCDIR: the source tree)", path);
    }
    static struct witness w;
    memset(&w, 0, sizeof(w));
    char buf[1024];
    unsigned lineno = 0, checked = 0, scenarios = 0;
    bool in_scenario = false;
    while (fgets(buf, sizeof(buf), f)) {
        lineno++;
        char *hash = strchr(buf, '#');
        if (hash) {
            *hash = '\0';
        }
        char *p = buf;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        bool blank = *p == '\n' || *p == '\0';
        if (blank && !hash) {
            if (in_scenario) {
                memset(&w, 0, sizeof(w));
                in_scenario = false;
            }
            continue;
        }
        if (blank) {
            continue;
        }
        if (!in_scenario) {
            scenarios++;
            in_scenario = true;
        }
        struct line l;
        parse_line(p, lineno, &l);
        replay_line(&w, &l, lineno, &checked);
    }
    fclose(f);
    print_message("scenarios.txt: %u scenarios, %u requests checked\n", scenarios, checked);
    assert_true(scenarios >= 10);
    assert_true(checked >= 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_layout),
        cmocka_unit_test(test_sealed),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_reply_layout),
        cmocka_unit_test(test_request_refusals),
        cmocka_unit_test(test_reply_refusals),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_lease_and_persist),
        cmocka_unit_test(test_owner_dead),
        cmocka_unit_test(test_rec_valid),
        cmocka_unit_test(test_terms_and_majority),
        cmocka_unit_test(test_conflicting_claims),
        cmocka_unit_test(test_scenarios),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
