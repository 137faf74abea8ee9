// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the witness (colo/colo_witness.c): both decoders, both encoders, and the
// rules fed with whatever the request decoder lets through. Input: records, each `op u8,
// delta u16` (the witness clock advances delta ms), then by kind (op bits 0-1):
//   0: a request datagram arrives: len u8, len bytes; with op bit 2 the harness first rewrites
//      the seal (bytes 60..75) as the CRC of 0..59, so mutated fields get past the seal to the
//      field checks (the codec runs unkeyed here; keyed seals are test_colo_witness's);
//      accepted ones that are no replay (colo_witness_replay) are decided on one of four
//      records (pair byte 5 & 3);
//   1: a reply datagram (same framing), decoded only;
//   2: the witness restarts (volatile state cleared, the STARTING window from now);
//   3: 64 raw bytes read as the fields of a request and of a reply, to encode.
//
// Checked:
// - decode accepts only what encode produces: a decoded datagram is 76 bytes and re-encodes to
//   the same bytes; a struct encodes iff the bytes it would make decode, and then back to itself;
// - the rules: every reply encodes (and decodes to itself), echoes the request and carries the
//   record; the record stays valid and its term never goes down; the persist flag is exactly
//   "the persisted part changed or the record has an owner" (its nonces are persisted), and a
//   refusal changes none of the record's fields; the request's nonce is remembered, so the same
//   request is then a replay; a GRANTED lease holds for at
//   least hold(ttl) from now; the owner changes only by a record created from none, a RENEW with
//   a higher term (adoption) or a takeover, and a takeover is granted only after the STARTING
//   window and when the owner's lease ran out or its boot was seen replaced.
// Seeds: a pair's life (BOOT, renewals, a refused and a granted takeover, a restart), garbage, a
// reply.
#include <string.h>

#include <colo/witness.h>
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECS 4

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void reseal(uint8_t *b)
{
    put_le(b + 60, colo_port_crc32c(0, b, 60), 4);
    memset(b + 64, 0, COLO_WITNESS_TAG_LEN - 4);
}

static bool wq_equal(const struct colo_wq *a, const struct colo_wq *b)
{
    return a->kind == b->kind && a->board == b->board && !memcmp(a->pair, b->pair, 6) &&
           a->mode == b->mode && a->nonce == b->nonce && a->boot_id == b->boot_id &&
           a->term == b->term && a->epoch == b->epoch && a->ttl_ms == b->ttl_ms;
}

static bool wr_equal(const struct colo_wr *a, const struct colo_wr *b)
{
    return a->kind == b->kind && a->board == b->board && !memcmp(a->pair, b->pair, 6) &&
           a->verdict == b->verdict && a->reason == b->reason && a->nonce == b->nonce &&
           a->term == b->term && a->epoch == b->epoch && a->owner == b->owner &&
           a->mode == b->mode && a->ttl_ms == b->ttl_ms && a->wait_ms == b->wait_ms;
}

/* The bytes an encoder would write for q, without its checks. */
static void raw_wq(uint8_t *b, const struct colo_wq *q)
{
    memset(b, 0, COLO_WITNESS_LEN);
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
}

static void raw_wr(uint8_t *b, const struct colo_wr *r)
{
    memset(b, 0, COLO_WITNESS_LEN);
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
}

static void check_wq_struct(const struct colo_wq *q)
{
    uint8_t enc[COLO_WITNESS_LEN], raw[COLO_WITNESS_LEN];
    struct colo_wq d;
    size_t n = colo_wq_encode(enc, sizeof(enc), q, NULL);
    raw_wq(raw, q);
    enum colo_witness_err e = colo_wq_decode(raw, sizeof(raw), &d, NULL);
    FZ_CHECK((n == COLO_WITNESS_LEN) == (e == COLO_WITNESS_OK), "encode %zu, decode %s", n,
             colo_witness_err_name(e));
    if (n) {
        FZ_CHECK(!memcmp(enc, raw, sizeof(enc)) && wq_equal(&d, q), "request round trip");
    }
}

static void check_wr_struct(const struct colo_wr *r)
{
    uint8_t enc[COLO_WITNESS_LEN], raw[COLO_WITNESS_LEN];
    struct colo_wr d;
    size_t n = colo_wr_encode(enc, sizeof(enc), r, NULL);
    raw_wr(raw, r);
    enum colo_witness_err e = colo_wr_decode(raw, sizeof(raw), &d, NULL);
    FZ_CHECK((n == COLO_WITNESS_LEN) == (e == COLO_WITNESS_OK), "encode %zu, decode %s", n,
             colo_witness_err_name(e));
    if (n) {
        FZ_CHECK(!memcmp(enc, raw, sizeof(enc)) && wr_equal(&d, r), "reply round trip");
    }
}

static bool persisted_equal(const struct colo_witness_rec *a, const struct colo_witness_rec *b)
{
    return a->term == b->term && a->owner == b->owner && a->owner_boot == b->owner_boot &&
           a->mode == b->mode && a->epoch == b->epoch && a->max_ttl_ms == b->max_ttl_ms;
}

static void check_decide(struct colo_witness_rec *rec, const struct colo_wq *q,
                         const struct colo_witness_clock *clk)
{
    struct colo_witness_rec before = *rec;
    struct colo_wr r;
    bool persist = colo_witness_decide(rec, q, clk, &r);
    bool fields = !persisted_equal(&before, rec);
    FZ_CHECK(persist == (fields || rec->owner != 0), "persist flag");
    FZ_CHECK(colo_witness_replay(rec, q), "a decided request is not remembered");
    FZ_CHECK(colo_witness_rec_valid(rec), "invalid record: term %llu owner %u mode %u",
             (unsigned long long)rec->term, rec->owner, rec->mode);
    FZ_CHECK(rec->term >= before.term, "term went down");
    FZ_CHECK(r.kind == q->kind && r.board == q->board && r.nonce == q->nonce &&
                 !memcmp(r.pair, q->pair, 6),
             "echo");
    FZ_CHECK(r.term == rec->term && r.epoch == rec->epoch && r.owner == rec->owner &&
                 r.mode == rec->mode,
             "reply's record");
    uint8_t b[COLO_WITNESS_LEN];
    struct colo_wr back;
    FZ_CHECK(colo_wr_encode(b, sizeof(b), &r, NULL) == COLO_WITNESS_LEN,
             "reply does not encode: %s %s", colo_wr_verdict_name(r.verdict),
             colo_wr_reason_name(r.reason));
    FZ_CHECK(colo_wr_decode(b, sizeof(b), &back, NULL) == COLO_WITNESS_OK && wr_equal(&back, &r),
             "reply round trip");
    if (r.verdict != COLO_WR_GRANTED) {
        FZ_CHECK(!fields, "a refusal changed the record");
        return;
    }
    if (q->kind != COLO_WQ_QUERY) {
        FZ_CHECK(rec->lease_until_ms >= clk->now_ms + colo_witness_hold_ms(q->ttl_ms),
                 "lease too short");
        FZ_CHECK(r.ttl_ms == q->ttl_ms && rec->max_ttl_ms >= q->ttl_ms, "ttl");
    } else {
        FZ_CHECK(!fields, "a QUERY changed the record");
    }
    if (rec->owner != before.owner) {
        FZ_CHECK(!before.owner || (q->kind == COLO_WQ_RENEW && q->term > before.term) ||
                     q->kind == COLO_WQ_CLAIM_TAKEOVER,
                 "owner changed by %s", colo_wq_kind_name(q->kind));
    }
    if (q->kind == COLO_WQ_CLAIM_TAKEOVER && rec->term != before.term) {
        FZ_CHECK(before.owner && before.owner != q->board &&
                     before.mode == COLO_WITNESS_MODE_PROTECTED && q->epoch >= before.epoch,
                 "takeover of what was not a replica's");
        FZ_CHECK(clk->now_ms >= clk->started_ms + colo_witness_hold_ms(before.max_ttl_ms),
                 "takeover in the STARTING window");
        FZ_CHECK(before.owner_dead || clk->now_ms >= before.lease_until_ms,
                 "takeover with the owner's lease live");
    }
}

static size_t read_dgram(struct fz *f, uint8_t *b, bool seal)
{
    size_t len = fz_u8(f);
    len = len < f->n ? len : f->n;
    memcpy(b, f->p, len);
    f->p += len;
    f->n -= len;
    if (seal && len >= COLO_WITNESS_LEN) {
        reseal(b);
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    static struct colo_witness_rec recs[RECS];
    memset(recs, 0, sizeof(recs));
    struct colo_witness_clock clk = {.now_ms = 0, .started_ms = 0};
    while (f.n) {
        uint8_t op = fz_u8(&f);
        clk.now_ms += fz_u16(&f);
        uint8_t b[256];
        switch (op & 3) {
        case 0: {
            size_t len = read_dgram(&f, b, op & 4);
            struct colo_wq q;
            if (colo_wq_decode(b, len, &q, NULL) != COLO_WITNESS_OK) {
                break;
            }
            uint8_t again[COLO_WITNESS_LEN];
            FZ_CHECK(len == COLO_WITNESS_LEN, "accepted %zu bytes", len);
            FZ_CHECK(colo_wq_encode(again, sizeof(again), &q, NULL) == COLO_WITNESS_LEN &&
                         !memcmp(again, b, COLO_WITNESS_LEN),
                     "decoded request does not re-encode to itself");
            struct colo_witness_rec *rec = &recs[q.pair[5] & (RECS - 1)];
            if (!colo_witness_replay(rec, &q)) {
                check_decide(rec, &q, &clk);
            }
            break;
        }
        case 1: {
            size_t len = read_dgram(&f, b, op & 4);
            struct colo_wr r;
            if (colo_wr_decode(b, len, &r, NULL) == COLO_WITNESS_OK) {
                uint8_t again[COLO_WITNESS_LEN];
                FZ_CHECK(len == COLO_WITNESS_LEN, "accepted %zu bytes", len);
                FZ_CHECK(colo_wr_encode(again, sizeof(again), &r, NULL) == COLO_WITNESS_LEN &&
                             !memcmp(again, b, COLO_WITNESS_LEN),
                         "decoded reply does not re-encode to itself");
            }
            break;
        }
        case 2:
            for (unsigned i = 0; i < RECS; i++) {
                colo_witness_rec_restart(&recs[i]);
            }
            clk.started_ms = clk.now_ms;
            break;
        case 3:
        default: {
            struct colo_wq q = {.kind = fz_u8(&f), .board = fz_u8(&f), .mode = fz_u8(&f)};
            for (unsigned i = 0; i < 6; i++) {
                q.pair[i] = fz_u8(&f);
            }
            q.nonce = fz_u64(&f);
            q.boot_id = fz_u64(&f);
            q.term = fz_u64(&f);
            q.epoch = fz_u64(&f) >> (fz_u8(&f) & 63); /* small values too */
            q.ttl_ms = fz_u32(&f) >> (fz_u8(&f) & 31);
            check_wq_struct(&q);
            struct colo_wr r = {.kind = q.kind,
                                .board = q.board,
                                .verdict = fz_u8(&f),
                                .reason = fz_u8(&f),
                                .nonce = q.nonce,
                                .term = q.term,
                                .epoch = q.epoch,
                                .owner = fz_u8(&f),
                                .mode = q.mode,
                                .ttl_ms = q.ttl_ms,
                                .wait_ms = fz_u32(&f) >> (fz_u8(&f) & 31)};
            memcpy(r.pair, q.pair, 6);
            check_wr_struct(&r);
            break;
        }
        }
    }
    return 0;
}

/* ---- seeds ---- */

struct seed {
    uint8_t b[4096];
    size_t n;
};

static void put(struct seed *s, const void *p, size_t n)
{
    if (s->n + n <= sizeof(s->b)) {
        memcpy(s->b + s->n, p, n);
        s->n += n;
    }
}

static void op_hdr(struct seed *s, uint8_t op, uint16_t delta_ms)
{
    uint8_t h[3] = {op, (uint8_t)delta_ms, (uint8_t)(delta_ms >> 8)};
    put(s, h, 3);
}

static void seed_req(struct seed *s, uint16_t delta_ms, uint8_t kind, char board, uint8_t mode,
                     uint64_t boot, uint64_t term, uint64_t epoch, uint32_t ttl)
{
    struct colo_wq q = {.kind = kind,
                        .board = (uint8_t)board,
                        .pair = {2, 0, 0, 0, 0, 1},
                        .mode = mode,
                        .nonce = s->n,
                        .boot_id = boot,
                        .term = term,
                        .epoch = epoch,
                        .ttl_ms = ttl};
    uint8_t b[COLO_WITNESS_LEN + 1];
    b[0] = COLO_WITNESS_LEN;
    if (colo_wq_encode(b + 1, COLO_WITNESS_LEN, &q, NULL) != COLO_WITNESS_LEN) {
        return;
    }
    op_hdr(s, 0, delta_ms);
    put(s, b, sizeof(b));
}

void fuzz_make_seeds(void)
{
    static struct seed s;

    /* A pair's life: BOOT, renewals, a takeover refused then granted, a restart, adoption. */
    s.n = 0;
    seed_req(&s, 0, COLO_WQ_BOOT, 'a', 0, 0xa1, 2, 0, 1000);
    seed_req(&s, 100, COLO_WQ_RENEW, 'a', COLO_WITNESS_MODE_PROTECTED, 0xa1, 2, 5, 1000);
    seed_req(&s, 100, COLO_WQ_CLAIM_TAKEOVER, 'b', 0, 0xb1, 3, 5, 1000);
    seed_req(&s, 2000, COLO_WQ_CLAIM_TAKEOVER, 'b', 0, 0xb1, 3, 5, 1000);
    seed_req(&s, 10, COLO_WQ_RENEW, 'b', COLO_WITNESS_MODE_TAKEOVER, 0xb1, 3, 0, 1000);
    op_hdr(&s, 2, 10);
    seed_req(&s, 10, COLO_WQ_QUERY, 'a', 0, 0xa2, 0, 0, 0);
    seed_req(&s, 10, COLO_WQ_RENEW, 'a', COLO_WITNESS_MODE_PROTECTED, 0xa2, 4, 6, 500);
    seed_req(&s, 10, COLO_WQ_CLAIM_ALONE, 'a', 0, 0xa2, 6, 7, 500);
    seed_req(&s, 10, COLO_WQ_BOOT, 'a', 0, 0xa3, 8, 0, 500);
    fuzz_write_seed("life", s.b, s.n);

    /* A BOOT of a replaced boot while PROTECTED, then the peer's takeover at once. */
    s.n = 0;
    seed_req(&s, 0, COLO_WQ_BOOT, 'b', 0, 0xb1, 3, 0, 60000);
    seed_req(&s, 60000, COLO_WQ_RENEW, 'b', COLO_WITNESS_MODE_PROTECTED, 0xb1, 3, 9, 60000);
    seed_req(&s, 5000, COLO_WQ_BOOT, 'b', 0, 0xb2, 5, 0, 100);
    seed_req(&s, 1, COLO_WQ_CLAIM_TAKEOVER, 'a', 0, 0xa1, 4, 9, 100);
    fuzz_write_seed("owner-dead", s.b, s.n);

    /* Garbage, a sealed request with a bad field, a reply, raw fields. */
    s.n = 0;
    uint8_t junk[1 + COLO_WITNESS_LEN] = {COLO_WITNESS_LEN, 'C', 'V', 'W', 'Q', 1, 0, 4, 'a'};
    op_hdr(&s, 4, 0);
    put(&s, junk, sizeof(junk));
    struct colo_wr r = {.kind = COLO_WQ_RENEW,
                        .board = 'a',
                        .verdict = COLO_WR_REFUSED,
                        .reason = COLO_WR_LEASE_LIVE,
                        .term = 2,
                        .owner = 'a',
                        .mode = COLO_WITNESS_MODE_PROTECTED,
                        .wait_ms = 5};
    uint8_t rb[1 + COLO_WITNESS_LEN];
    rb[0] = COLO_WITNESS_LEN;
    colo_wr_encode(rb + 1, COLO_WITNESS_LEN, &r, NULL);
    op_hdr(&s, 1, 0);
    put(&s, rb, sizeof(rb));
    op_hdr(&s, 3, 0);
    uint8_t raw[64] = {COLO_WQ_RENEW, 'b', 1, 2, 0, 0, 0, 0, 1};
    raw[15] = 1; /* boot */
    raw[23] = 3; /* term */
    put(&s, raw, sizeof(raw));
    fuzz_write_seed("garbage", s.b, s.n);
}
