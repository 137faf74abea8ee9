// SPDX-License-Identifier: Apache-2.0
// The witness: request/reply codec, the record's rules, term and majority helpers (witness.h).
#include <string.h>

#include <colo/proto.h>
#include <colo/witness.h>

#include "colo_util.h"

/* Byte offsets; the layouts are drawn in witness.h. */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_KIND = 6,
    OFF_BOARD = 7,
    OFF_PAIR = 8,
    OFF_NONCE = 16,
    OFF_SEAL = 60,  /* COLO_WITNESS_TAG_LEN bytes */
    RSVD_TAIL = 52, /* 8 bytes, both messages */
    /* request */
    Q_MODE = 14,
    Q_RSVD = 15,
    Q_BOOT = 24,
    Q_TERM = 32,
    Q_EPOCH = 40,
    Q_TTL = 48,
    /* reply */
    R_VERDICT = 14,
    R_REASON = 15,
    R_TERM = 24,
    R_EPOCH = 32,
    R_OWNER = 40,
    R_MODE = 41,
    R_RSVD = 42, /* 2 bytes */
    R_TTL = 44,
    R_WAIT = 48,
};

static const char *const err_names[] = {
    [COLO_WITNESS_OK] = "ok",
    [COLO_WITNESS_E_LENGTH] = "bad length",
    [COLO_WITNESS_E_MAGIC] = "bad magic",
    [COLO_WITNESS_E_VERSION] = "bad version",
    [COLO_WITNESS_E_CRC] = "CRC mismatch",
    [COLO_WITNESS_E_AUTH] = "authentication failed",
    [COLO_WITNESS_E_KIND] = "bad kind",
    [COLO_WITNESS_E_BOARD] = "bad board id",
    [COLO_WITNESS_E_MODE] = "bad mode",
    [COLO_WITNESS_E_RESERVED] = "reserved bytes set",
    [COLO_WITNESS_E_TTL] = "bad ttl",
    [COLO_WITNESS_E_BOOT] = "zero boot id",
    [COLO_WITNESS_E_TERM] = "bad term",
    [COLO_WITNESS_E_FIELD] = "unused field set",
    [COLO_WITNESS_E_VERDICT] = "bad verdict",
    [COLO_WITNESS_E_REASON] = "bad reason",
};

static const char *const kind_names[] = {
    [COLO_WQ_RENEW] = "RENEW",
    [COLO_WQ_CLAIM_ALONE] = "CLAIM_ALONE",
    [COLO_WQ_CLAIM_TAKEOVER] = "CLAIM_TAKEOVER",
    [COLO_WQ_BOOT] = "BOOT",
    [COLO_WQ_QUERY] = "QUERY",
};

static const char *const mode_names[] = {
    [COLO_WITNESS_MODE_NONE] = "NONE",
    [COLO_WITNESS_MODE_PROTECTED] = "PROTECTED",
    [COLO_WITNESS_MODE_ALONE] = "ALONE",
    [COLO_WITNESS_MODE_TAKEOVER] = "TAKEOVER",
};

static const char *const reason_names[] = {
    [COLO_WR_OK] = "OK",
    [COLO_WR_LEASE_LIVE] = "LEASE_LIVE",
    [COLO_WR_STALE_REPLICA] = "STALE_REPLICA",
    [COLO_WR_NOT_OWNER] = "NOT_OWNER",
    [COLO_WR_STALE_TERM] = "STALE_TERM",
    [COLO_WR_NO_RECORD] = "NO_RECORD",
    [COLO_WR_STARTING] = "STARTING",
    [COLO_WR_PEER_HOLDS_REPLICA] = "PEER_HOLDS_REPLICA",
    [COLO_WR_BAD_REQUEST] = "BAD_REQUEST",
};

static const char *const verdict_names[] = {
    [COLO_WR_GRANTED] = "GRANTED",
    [COLO_WR_REFUSED] = "REFUSED",
};

#define NAME(tab, i) ((unsigned)(i) < ARRAY_SIZE(tab) && (tab)[i] ? (tab)[i] : "?")

const char *colo_witness_err_name(enum colo_witness_err e)
{
    return NAME(err_names, e);
}

const char *colo_wq_kind_name(unsigned kind)
{
    return NAME(kind_names, kind);
}

const char *colo_witness_mode_name(unsigned mode)
{
    return NAME(mode_names, mode);
}

const char *colo_wr_reason_name(unsigned reason)
{
    return NAME(reason_names, reason);
}

const char *colo_wr_verdict_name(unsigned verdict)
{
    return NAME(verdict_names, verdict);
}

static bool board_ok(uint8_t b)
{
    return b == 'a' || b == 'b';
}

static bool kind_ok(uint8_t k)
{
    return k >= COLO_WQ_RENEW && k <= COLO_WQ_QUERY;
}

static bool mode_ok(uint8_t m)
{
    return m >= COLO_WITNESS_MODE_PROTECTED && m <= COLO_WITNESS_MODE_TAKEOVER;
}

/* Bit 0 of a term names the board that proposed it. */
static bool term_of(uint64_t term, uint8_t board)
{
    return term != 0 && (term & 1u) == (board == 'b' ? 1u : 0u);
}

static bool zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

static bool carries_epoch(uint8_t kind, uint8_t mode)
{
    return kind == COLO_WQ_CLAIM_ALONE || kind == COLO_WQ_CLAIM_TAKEOVER ||
           (kind == COLO_WQ_RENEW && mode == COLO_WITNESS_MODE_PROTECTED);
}

/* The request's field rules, shared by encode and decode so the two cannot drift apart. */
static enum colo_witness_err wq_check(const struct colo_wq *q)
{
    if (!kind_ok(q->kind)) {
        return COLO_WITNESS_E_KIND;
    }
    if (!board_ok(q->board)) {
        return COLO_WITNESS_E_BOARD;
    }
    if (q->kind == COLO_WQ_RENEW ? !mode_ok(q->mode) : q->mode != 0) {
        return COLO_WITNESS_E_MODE;
    }
    return COLO_WITNESS_OK;
}

static enum colo_witness_err wq_check_values(const struct colo_wq *q)
{
    if (!q->boot_id) {
        return COLO_WITNESS_E_BOOT;
    }
    bool query = q->kind == COLO_WQ_QUERY;
    if (query ? q->ttl_ms != 0 : q->ttl_ms == 0 || q->ttl_ms > COLO_WITNESS_TTL_MAX) {
        return COLO_WITNESS_E_TTL;
    }
    if (query ? q->term != 0 : !term_of(q->term, q->board)) {
        return COLO_WITNESS_E_TERM;
    }
    if (q->epoch && !carries_epoch(q->kind, q->mode)) {
        return COLO_WITNESS_E_FIELD;
    }
    return COLO_WITNESS_OK;
}

#define MAC_INFO "colovisor witness"

void colo_witness_mac_key(const uint8_t psk[COLO_KEY_LEN], uint8_t out[COLO_KEY_LEN])
{
    /* A key of its own for the MAC, so the pre-shared key is never used directly and a later
     * use of it (another label) cannot be confused with this one. */
    colo_port_hkdf_sha256(NULL, 0, psk, COLO_KEY_LEN, MAC_INFO, sizeof(MAC_INFO) - 1, out,
                          COLO_KEY_LEN);
}

/* The seal of bytes 0..OFF_SEAL (colo_util.h). */
static void seal_of(const uint8_t *p, const uint8_t *key, uint8_t out[COLO_WITNESS_TAG_LEN])
{
    colo_datagram_seal(p, OFF_SEAL, key, out, COLO_WITNESS_TAG_LEN);
}

size_t colo_wq_encode(void *out, size_t cap, const struct colo_wq *q, const uint8_t *key)
{
    /* Refusing what decode refuses keeps the two exact inverses: a board cannot send a request
     * the witness drops without a word. */
    if (cap < COLO_WITNESS_LEN || wq_check(q) != COLO_WITNESS_OK ||
        wq_check_values(q) != COLO_WITNESS_OK) {
        return 0;
    }
    uint8_t *p = out;
    memset(p, 0, COLO_WITNESS_LEN);
    colo_put32(p + OFF_MAGIC, COLO_WQ_MAGIC);
    colo_put16(p + OFF_VERSION, COLO_WITNESS_VERSION);
    p[OFF_KIND] = q->kind;
    p[OFF_BOARD] = q->board;
    memcpy(p + OFF_PAIR, q->pair, 6);
    p[Q_MODE] = q->mode;
    colo_put64(p + OFF_NONCE, q->nonce);
    colo_put64(p + Q_BOOT, q->boot_id);
    colo_put64(p + Q_TERM, q->term);
    colo_put64(p + Q_EPOCH, q->epoch);
    colo_put32(p + Q_TTL, q->ttl_ms);
    seal_of(p, key, p + OFF_SEAL);
    return COLO_WITNESS_LEN;
}

/* Length, magic, version and CRC: the same for both messages. Magic and version come before the
 * CRC so "not ours" and "a newer peer" are told apart from damage. */
static enum colo_witness_err frame_check(const uint8_t *p, size_t len, uint32_t magic,
                                         const uint8_t *key)
{
    if (len != COLO_WITNESS_LEN) {
        return COLO_WITNESS_E_LENGTH;
    }
    if (colo_get32(p + OFF_MAGIC) != magic) {
        return COLO_WITNESS_E_MAGIC;
    }
    if (colo_get16(p + OFF_VERSION) != COLO_WITNESS_VERSION) {
        return COLO_WITNESS_E_VERSION;
    }
    uint8_t want[COLO_WITNESS_TAG_LEN];
    seal_of(p, key, want);
    if (!colo_port_ct_equal(want, p + OFF_SEAL, COLO_WITNESS_TAG_LEN)) {
        return key ? COLO_WITNESS_E_AUTH : COLO_WITNESS_E_CRC;
    }
    return COLO_WITNESS_OK;
}

enum colo_witness_err colo_wq_decode(const void *buf, size_t len, struct colo_wq *q,
                                     const uint8_t *key)
{
    const uint8_t *p = buf;
    enum colo_witness_err e = frame_check(p, len, COLO_WQ_MAGIC, key);
    if (e != COLO_WITNESS_OK) {
        return e;
    }
    q->kind = p[OFF_KIND];
    q->board = p[OFF_BOARD];
    q->mode = p[Q_MODE];
    e = wq_check(q);
    if (e != COLO_WITNESS_OK) {
        return e;
    }
    if (p[Q_RSVD] || !zero(p + RSVD_TAIL, 8)) {
        return COLO_WITNESS_E_RESERVED;
    }
    memcpy(q->pair, p + OFF_PAIR, 6);
    q->nonce = colo_get64(p + OFF_NONCE);
    q->boot_id = colo_get64(p + Q_BOOT);
    q->term = colo_get64(p + Q_TERM);
    q->epoch = colo_get64(p + Q_EPOCH);
    q->ttl_ms = colo_get32(p + Q_TTL);
    return wq_check_values(q);
}

static enum colo_witness_err wr_check(const struct colo_wr *r)
{
    if (!kind_ok(r->kind)) {
        return COLO_WITNESS_E_KIND;
    }
    if (!board_ok(r->board)) {
        return COLO_WITNESS_E_BOARD;
    }
    if (r->verdict != COLO_WR_GRANTED && r->verdict != COLO_WR_REFUSED) {
        return COLO_WITNESS_E_VERDICT;
    }
    if (r->reason >= COLO_WR_REASON_COUNT ||
        (r->verdict == COLO_WR_GRANTED) != (r->reason == COLO_WR_OK)) {
        return COLO_WITNESS_E_REASON;
    }
    if (r->owner && !board_ok(r->owner)) {
        return COLO_WITNESS_E_BOARD;
    }
    if (r->owner ? !mode_ok(r->mode) : r->mode != 0) {
        return COLO_WITNESS_E_MODE;
    }
    if (!r->owner && (r->term || r->epoch)) {
        return COLO_WITNESS_E_FIELD;
    }
    if (r->owner && !term_of(r->term, r->owner)) {
        return COLO_WITNESS_E_TERM;
    }
    return COLO_WITNESS_OK;
}

static enum colo_witness_err wr_check_values(const struct colo_wr *r)
{
    bool lease = r->verdict == COLO_WR_GRANTED && r->kind != COLO_WQ_QUERY;
    if (lease ? r->ttl_ms == 0 || r->ttl_ms > COLO_WITNESS_TTL_MAX : r->ttl_ms != 0) {
        return COLO_WITNESS_E_TTL;
    }
    if (r->wait_ms && r->reason != COLO_WR_LEASE_LIVE && r->reason != COLO_WR_STARTING) {
        return COLO_WITNESS_E_FIELD;
    }
    return COLO_WITNESS_OK;
}

size_t colo_wr_encode(void *out, size_t cap, const struct colo_wr *r, const uint8_t *key)
{
    if (cap < COLO_WITNESS_LEN || wr_check(r) != COLO_WITNESS_OK ||
        wr_check_values(r) != COLO_WITNESS_OK) {
        return 0;
    }
    uint8_t *p = out;
    memset(p, 0, COLO_WITNESS_LEN);
    colo_put32(p + OFF_MAGIC, COLO_WR_MAGIC);
    colo_put16(p + OFF_VERSION, COLO_WITNESS_VERSION);
    p[OFF_KIND] = r->kind;
    p[OFF_BOARD] = r->board;
    memcpy(p + OFF_PAIR, r->pair, 6);
    p[R_VERDICT] = r->verdict;
    p[R_REASON] = r->reason;
    colo_put64(p + OFF_NONCE, r->nonce);
    colo_put64(p + R_TERM, r->term);
    colo_put64(p + R_EPOCH, r->epoch);
    p[R_OWNER] = r->owner;
    p[R_MODE] = r->mode;
    colo_put32(p + R_TTL, r->ttl_ms);
    colo_put32(p + R_WAIT, r->wait_ms);
    seal_of(p, key, p + OFF_SEAL);
    return COLO_WITNESS_LEN;
}

enum colo_witness_err colo_wr_decode(const void *buf, size_t len, struct colo_wr *r,
                                     const uint8_t *key)
{
    const uint8_t *p = buf;
    enum colo_witness_err e = frame_check(p, len, COLO_WR_MAGIC, key);
    if (e != COLO_WITNESS_OK) {
        return e;
    }
    r->kind = p[OFF_KIND];
    r->board = p[OFF_BOARD];
    memcpy(r->pair, p + OFF_PAIR, 6);
    r->verdict = p[R_VERDICT];
    r->reason = p[R_REASON];
    r->nonce = colo_get64(p + OFF_NONCE);
    r->term = colo_get64(p + R_TERM);
    r->epoch = colo_get64(p + R_EPOCH);
    r->owner = p[R_OWNER];
    r->mode = p[R_MODE];
    r->ttl_ms = colo_get32(p + R_TTL);
    r->wait_ms = colo_get32(p + R_WAIT);
    e = wr_check(r);
    if (e != COLO_WITNESS_OK) {
        return e;
    }
    if (colo_get16(p + R_RSVD) || !zero(p + RSVD_TAIL, 8)) {
        return COLO_WITNESS_E_RESERVED;
    }
    return wr_check_values(r);
}

/* ---- the rules ---- */

uint64_t colo_witness_hold_ms(uint32_t ttl_ms)
{
    /* The board counts ttl from when it sent, which is earlier than our receipt; the extra 2 %
     * covers clocks whose rates differ by less than that, 20 ms the reply's delivery. */
    return (uint64_t)ttl_ms + ttl_ms / 50u + COLO_WITNESS_DELIVERY_MS;
}

bool colo_witness_rec_valid(const struct colo_witness_rec *rec)
{
    if (rec->max_ttl_ms > COLO_WITNESS_TTL_MAX) {
        return false;
    }
    if (!rec->owner) {
        return !rec->term && !rec->owner_boot && !rec->epoch && !rec->mode;
    }
    return board_ok(rec->owner) && mode_ok(rec->mode) && term_of(rec->term, rec->owner) &&
           rec->owner_boot != 0;
}

void colo_witness_rec_restart(struct colo_witness_rec *rec)
{
    rec->lease_until_ms = 0;
    rec->owner_dead = false;
    if (!rec->owner) {
        memset(rec->seen, 0, sizeof(rec->seen));
    }
}

/* The board's row of remembered boots (decoded requests name 'a' or 'b'). */
static struct colo_witness_seen *seen_row(struct colo_witness_rec *rec, uint8_t board)
{
    return rec->seen[board == 'b' ? 1 : 0];
}

bool colo_witness_replay(const struct colo_witness_rec *rec, const struct colo_wq *q)
{
    const struct colo_witness_seen *row = rec->seen[q->board == 'b' ? 1 : 0];
    for (unsigned i = 0; i < COLO_WITNESS_BOOTS; i++) {
        if (row[i].boot && row[i].boot == q->boot_id) {
            return q->nonce <= row[i].nonce;
        }
    }
    return false;
}

/* Remembers q's nonce as its boot's last, that boot first in its board's row. */
static void seen_note(struct colo_witness_rec *rec, const struct colo_wq *q)
{
    struct colo_witness_seen *row = seen_row(rec, q->board);
    unsigned i = 0;
    while (i < COLO_WITNESS_BOOTS - 1 && row[i].boot != q->boot_id) {
        i++;
    }
    /* Found at i, or i is the last slot: the oldest boot is forgotten. */
    memmove(&row[1], &row[0], i * sizeof(row[0]));
    row[0] = (struct colo_witness_seen){.boot = q->boot_id, .nonce = q->nonce};
}

/* The decision being built: the record is changed in place; `changed` notes the persisted part. */
struct decision {
    struct colo_witness_rec *rec;
    const struct colo_wq *q;
    const struct colo_witness_clock *clk;
    struct colo_wr *r;
    bool changed;
};

static void set_u64(struct decision *d, uint64_t *field, uint64_t v)
{
    d->changed |= *field != v;
    *field = v;
}

static void set_u8(struct decision *d, uint8_t *field, uint8_t v)
{
    d->changed |= *field != v;
    *field = v;
}

static void grant(struct decision *d)
{
    struct colo_witness_rec *rec = d->rec;
    d->r->verdict = COLO_WR_GRANTED;
    d->r->reason = COLO_WR_OK;
    if (d->q->kind == COLO_WQ_QUERY) {
        return;
    }
    uint64_t until = d->clk->now_ms + colo_witness_hold_ms(d->q->ttl_ms);
    /* Never shorten a lease already granted: a board may still count on the longer one. */
    if (until > rec->lease_until_ms) {
        rec->lease_until_ms = until;
    }
    if (d->q->ttl_ms > rec->max_ttl_ms) {
        /* Persisted with the record before the reply, or a restarted witness would size its
         * STARTING window too short for the lease this reply grants. */
        rec->max_ttl_ms = d->q->ttl_ms;
        d->changed = true;
    }
    d->r->ttl_ms = d->q->ttl_ms;
}

static void refuse(struct decision *d, enum colo_wr_reason why, uint64_t wait_ms)
{
    d->r->verdict = COLO_WR_REFUSED;
    d->r->reason = (uint8_t)why;
    d->r->wait_ms = wait_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)wait_ms;
}

/* A new owner (or a new boot of it) wins the record at term t. */
static void take(struct decision *d, uint64_t t, uint8_t mode, uint64_t epoch)
{
    struct colo_witness_rec *rec = d->rec;
    /* owner_dead is about the recorded boot: a different one is a live board, the same one
     * (a late datagram from it) stays known dead. */
    if (rec->owner != d->q->board || rec->owner_boot != d->q->boot_id) {
        rec->owner_dead = false;
    }
    set_u64(d, &rec->term, t);
    set_u8(d, &rec->owner, d->q->board);
    set_u64(d, &rec->owner_boot, d->q->boot_id);
    set_u8(d, &rec->mode, mode);
    set_u64(d, &rec->epoch, epoch);
}

static bool is_owner_boot(const struct decision *d)
{
    return d->rec->owner == d->q->board && d->rec->owner_boot == d->q->boot_id;
}

static void do_boot(struct decision *d)
{
    struct colo_witness_rec *rec = d->rec;
    const struct colo_wq *q = d->q;
    if (!rec->owner) {
        take(d, q->term, COLO_WITNESS_MODE_ALONE, 0);
        grant(d);
    } else if (is_owner_boot(d)) {
        grant(d); /* a retransmission */
    } else if (rec->owner == q->board && rec->mode == COLO_WITNESS_MODE_PROTECTED) {
        /* The peer holds a replica of the previous boot's guest: that boot is gone, so the
         * peer may take over at once, and this fresh guest must not run next to it. */
        rec->owner_dead = true;
        rec->lease_until_ms = d->clk->now_ms;
        refuse(d, COLO_WR_PEER_HOLDS_REPLICA, 0);
    } else if (rec->owner == q->board) {
        if (q->term <= rec->term) {
            refuse(d, COLO_WR_STALE_TERM, 0);
        } else {
            take(d, q->term, COLO_WITNESS_MODE_ALONE, 0);
            grant(d);
        }
    } else {
        refuse(d, COLO_WR_NOT_OWNER, 0);
    }
}

static void do_renew(struct decision *d)
{
    struct colo_witness_rec *rec = d->rec;
    const struct colo_wq *q = d->q;
    if (!rec->owner) {
        refuse(d, COLO_WR_NO_RECORD, 0);
    } else if (q->term > rec->term) {
        /* A majority decided without us: adopt it. */
        take(d, q->term, q->mode, q->epoch);
        grant(d);
    } else if (q->term == rec->term && is_owner_boot(d)) {
        if (q->mode == COLO_WITNESS_MODE_PROTECTED) {
            set_u8(d, &rec->mode, COLO_WITNESS_MODE_PROTECTED);
            set_u64(d, &rec->epoch, MAX(rec->epoch, q->epoch));
        } else if (q->mode != rec->mode) {
            /* Going ALONE takes a claim (a new term), TAKEOVER a takeover. */
            refuse(d, COLO_WR_BAD_REQUEST, 0);
            return;
        }
        grant(d);
    } else {
        refuse(d, COLO_WR_NOT_OWNER, 0);
    }
}

static void do_claim_alone(struct decision *d)
{
    struct colo_witness_rec *rec = d->rec;
    const struct colo_wq *q = d->q;
    if (!rec->owner) {
        take(d, q->term, COLO_WITNESS_MODE_ALONE, q->epoch);
        grant(d);
    } else if (!is_owner_boot(d)) {
        refuse(d, COLO_WR_NOT_OWNER, 0);
    } else if (q->term <= rec->term) {
        refuse(d, COLO_WR_STALE_TERM, 0);
    } else {
        take(d, q->term, COLO_WITNESS_MODE_ALONE, MAX(rec->epoch, q->epoch));
        grant(d);
    }
}

static void do_claim_takeover(struct decision *d)
{
    struct colo_witness_rec *rec = d->rec;
    const struct colo_wq *q = d->q;
    uint64_t now = d->clk->now_ms;
    uint64_t starting_until = d->clk->started_ms + colo_witness_hold_ms(rec->max_ttl_ms);
    if (!rec->owner) {
        refuse(d, COLO_WR_NO_RECORD, 0);
    } else if (rec->owner == q->board) {
        if (rec->owner_boot == q->boot_id && rec->mode == COLO_WITNESS_MODE_TAKEOVER &&
            rec->term == q->term) {
            grant(d); /* a retransmission */
        } else {
            refuse(d, COLO_WR_NOT_OWNER, 0);
        }
    } else if (rec->mode != COLO_WITNESS_MODE_PROTECTED || q->epoch < rec->epoch) {
        refuse(d, COLO_WR_STALE_REPLICA, 0);
    } else if (q->term <= rec->term) {
        refuse(d, COLO_WR_STALE_TERM, 0);
    } else if (now < starting_until) {
        refuse(d, COLO_WR_STARTING, starting_until - now);
    } else if (!rec->owner_dead && now < rec->lease_until_ms) {
        refuse(d, COLO_WR_LEASE_LIVE, rec->lease_until_ms - now);
    } else {
        take(d, q->term, COLO_WITNESS_MODE_TAKEOVER, q->epoch);
        rec->owner_dead = false;
        grant(d);
    }
}

bool colo_witness_decide(struct colo_witness_rec *rec, const struct colo_wq *q,
                         const struct colo_witness_clock *clk, struct colo_wr *reply)
{
    struct decision d = {.rec = rec, .q = q, .clk = clk, .r = reply};
    memset(reply, 0, sizeof(*reply));
    reply->kind = q->kind;
    reply->board = q->board;
    memcpy(reply->pair, q->pair, 6);
    reply->nonce = q->nonce;
    switch (q->kind) {
    case COLO_WQ_QUERY:
        grant(&d);
        break;
    case COLO_WQ_BOOT:
        do_boot(&d);
        break;
    case COLO_WQ_RENEW:
        do_renew(&d);
        break;
    case COLO_WQ_CLAIM_ALONE:
        do_claim_alone(&d);
        break;
    case COLO_WQ_CLAIM_TAKEOVER:
        do_claim_takeover(&d);
        break;
    default:
        /* colo_wq_decode lets no other kind through; answer as the rules would a bad one. */
        refuse(&d, COLO_WR_BAD_REQUEST, 0);
        break;
    }
    reply->term = rec->term;
    reply->epoch = rec->epoch;
    reply->owner = rec->owner;
    reply->mode = rec->mode;
    seen_note(rec, q);
    /* With an owner, the nonce is persisted before the reply: a witness restarted from the
     * file must still refuse this request sent again. */
    return d.changed || rec->owner != 0;
}

/* ---- board side ---- */

uint64_t colo_witness_next_term(uint64_t max_seen, char board)
{
    if (board != 'a' && board != 'b') {
        return 0;
    }
    uint64_t round = (max_seen >> 1) + 1;
    if (round > UINT64_MAX >> 1) {
        return 0;
    }
    return round << 1 | (board == 'b' ? 1u : 0u);
}

unsigned colo_witness_majority(unsigned n)
{
    return n / 2 + 1;
}

bool colo_witness_has_majority(unsigned granted, unsigned n)
{
    return granted <= n && granted >= colo_witness_majority(n);
}
