// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for COLO heartbeats (colo/colo_hb.c): the datagram codec and the liveness
// tracker. Input: a header (peer board: bit 0 of the first byte, 'a' or 'b'; our start time,
// u32 ms), then records, each `op u8, delta u16` (our clock advances delta * 64 us) and then by
// kind (op bits 3-4):
//   0, 1: a datagram arrives on path op & 3 (2 and 3 are out of range): len u8, len bytes; with
//         op bit 2 the harness first rewrites the seal (bytes 88..103) as the CRC of 0..87, and
//         unless op bit 5 is set echo_boot (80..87) as our boot, so that mutated fields get
//         past the seal and the echo to the checks behind them;
//   2:    colo_hb_tick;
//   3:    period_ms u32 and miss u32 set at run time.
//
// Checked:
// - decode accepts only what encode produces: a decoded datagram is COLO_HB_LEN bytes and
//   re-encodes to the very same bytes; a struct built from the input bytes encodes iff its
//   fields are in range, and then decodes back to itself;
// - colo_hb_rx returns the decoder's verdict, or PEER / WRONG_PATH for a valid datagram from
//   another board or on another path; it counts exactly one rx or one bad on the arrival path
//   and nothing elsewhere (nothing at all for a path out of range); a refused datagram changes
//   nothing else; lost grows by exactly the sequence gap within one boot (never across a
//   restart or on a path's first heartbeat), `last` and the clock offset follow the newest
//   round (not a copy), a new boot_id replaces `last` and counts one restart, any remembered boot
//   but the newest is refused (a model of the boot list is kept here), a datagram not newer in
//   (seq, again) than its path's last is refused as a replay, one that does not echo our boot
//   changes nothing but the boot list and stale_echo;
// - liveness against a model kept here: a path is alive exactly while it was refreshed (a valid
//   heartbeat, or a window restarted after our own stall) within the window the peer last
//   advertised (ours before it was heard), probed at
//   several times; never alive for a path never heard; dead exactly when heard and both paths
//   are silent; the stall count matches the model's.
// Seeds: sessions of valid heartbeats on both paths with ticks, a path going quiet, our own
// stall, a peer restart, and refused datagrams.
#include <string.h>

#include <cv/image.h>

#include <colo/hb.h>
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DELTA_US 64u
#define TICKS_PER_US 24u
#define SELF_BOOT 0x5e1f5e1fu /* our boot: the datagrams the peer sends us echo it */

enum { KIND_RX0, KIND_RX1, KIND_TICK, KIND_CONFIG };

/* The model: what the tracker must say, kept independently. */
struct model {
    bool heard[COLO_HB_PATHS];
    uint64_t refresh[COLO_HB_PATHS];
    bool ticked;
    uint64_t last_tick;
    uint64_t stalls;
    bool heard_any;
    uint64_t last_ticks_at_rx;     /* our counter when `last` was taken */
    uint64_t boots[COLO_HB_BOOTS]; /* the peer's boots, newest first */
};

/* Where boot is in the model's list; COLO_HB_BOOTS if absent. */
static unsigned model_boot(const struct model *m, uint64_t boot)
{
    unsigned i = 0;
    while (i < COLO_HB_BOOTS && m->boots[i] != boot) {
        i++;
    }
    return i;
}

static void model_note(struct model *m, uint64_t boot)
{
    if (model_boot(m, boot) == COLO_HB_BOOTS) {
        for (unsigned i = COLO_HB_BOOTS - 1; i > 0; i--) {
            m->boots[i] = m->boots[i - 1];
        }
        m->boots[0] = boot;
    }
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t win(uint64_t period, uint64_t miss)
{
    uint64_t ms = (period ? period : 1) * (miss ? miss : 1);
    return ms > UINT64_MAX / 1000 ? UINT64_MAX : ms * 1000;
}

/* Our own window: the stall rule. */
static uint64_t own_window(const struct colo_hb_peer *p)
{
    return win(p->period_ms, p->miss);
}

/* The peer's silence is judged by what it advertised. */
static uint64_t model_window(const struct colo_hb_peer *p)
{
    return p->heard_any ? win(p->last.period_ms, p->last.miss) : own_window(p);
}

static bool model_alive(const struct model *m, const struct colo_hb_peer *p, unsigned path,
                        uint64_t t)
{
    if (!m->heard[path]) {
        return false;
    }
    uint64_t elapsed = t > m->refresh[path] ? t - m->refresh[path] : 0;
    return elapsed <= model_window(p);
}

static void check_liveness(const struct model *m, const struct colo_hb_peer *p, uint64_t now)
{
    uint64_t win = model_window(p);
    uint64_t probes[8] = {now, sat_add(now, 1), sat_add(now, win), sat_add(sat_add(now, win), 1)};
    unsigned n = 4;
    for (unsigned i = 0; i < COLO_HB_PATHS; i++) {
        if (m->heard[i]) {
            probes[n++] = sat_add(m->refresh[i], win);
            probes[n++] = sat_add(sat_add(m->refresh[i], win), 1);
        }
    }
    for (unsigned k = 0; k < n; k++) {
        uint64_t t = probes[k];
        bool any = false;
        for (unsigned i = 0; i < COLO_HB_PATHS; i++) {
            bool want = model_alive(m, p, i, t);
            FZ_CHECK(colo_hb_path_alive(p, i, t) == want,
                     "path %u alive=%d at %llu, refreshed at %llu (heard %d), window %llu", i,
                     !want, (unsigned long long)t, (unsigned long long)m->refresh[i], m->heard[i],
                     (unsigned long long)win);
            any |= want;
        }
        FZ_CHECK(!colo_hb_path_alive(p, COLO_HB_PATHS, t), "alive on a path out of range");
        FZ_CHECK(colo_hb_peer_alive(p, t) == any, "peer_alive disagrees with its paths");
        FZ_CHECK(colo_hb_peer_dead(p, t) == (m->heard_any && !any), "peer_dead=%d, heard_any %d",
                 colo_hb_peer_dead(p, t), m->heard_any);
    }
}

static bool fields_ok(const struct colo_hb *h)
{
    return h->path <= 1 && h->role <= 1 && !(h->flags & ~COLO_HB_F_ALL) &&
           (h->board == 'a' || h->board == 'b') && h->boot_id != 0 &&
           h->state <= COLO_HB_STATE_MAX && h->period_ms >= 1 &&
           h->period_ms <= COLO_HB_PERIOD_MAX && h->miss >= 1 && h->miss <= COLO_HB_MISS_MAX;
}

static bool hb_equal(const struct colo_hb *a, const struct colo_hb *b)
{
    return a->path == b->path && a->role == b->role && a->board == b->board &&
           a->flags == b->flags && a->seq == b->seq && a->epoch == b->epoch &&
           a->ticks == b->ticks && a->state == b->state && a->boot_id == b->boot_id &&
           a->term == b->term && a->rep_boot == b->rep_boot && a->period_ms == b->period_ms &&
           a->miss == b->miss && a->again == b->again && a->echo_boot == b->echo_boot;
}

/* Field by field: struct copies need not preserve padding. */
static bool path_equal(const struct colo_hb_path *a, const struct colo_hb_path *b)
{
    return a->last_rx_us == b->last_rx_us && a->rx == b->rx && a->bad == b->bad &&
           a->lost == b->lost && a->last_seq == b->last_seq && a->heard == b->heard &&
           a->last_boot == b->last_boot && a->last_again == b->last_again &&
           a->stale_echo == b->stale_echo;
}

static bool peer_equal(const struct colo_hb_peer *a, const struct colo_hb_peer *b)
{
    return a->period_ms == b->period_ms && a->miss == b->miss &&
           path_equal(&a->path[0], &b->path[0]) && path_equal(&a->path[1], &b->path[1]) &&
           hb_equal(&a->last, &b->last) && a->heard_any == b->heard_any &&
           a->clock_offset_ticks == b->clock_offset_ticks && a->last_tick_us == b->last_tick_us &&
           a->ticked == b->ticked && a->stalls == b->stalls && a->peer_board == b->peer_board &&
           a->restarts == b->restarts && a->old_boot == b->old_boot &&
           a->self_boot == b->self_boot && a->key == b->key &&
           memcmp(a->heard_boot, b->heard_boot, sizeof(a->heard_boot)) == 0;
}

/* The codec alone, on whatever bytes the record carries. */
static void check_codec(const uint8_t *b, size_t len)
{
    struct colo_hb h;
    uint8_t again[COLO_HB_LEN + 1];
    enum colo_hb_err e = colo_hb_decode(b, len, &h, NULL);
    FZ_CHECK((unsigned)e < COLO_HB_E_PEER && e != COLO_HB_E_AUTH, "decode returned %d", e);
    if (e == COLO_HB_OK) {
        FZ_CHECK(len == COLO_HB_LEN, "accepted %zu bytes", len);
        FZ_CHECK(fields_ok(&h), "decoded fields out of range");
        FZ_CHECK(colo_hb_encode(again, sizeof(again), &h, NULL) == COLO_HB_LEN, "no re-encode");
        FZ_CHECK(memcmp(again, b, COLO_HB_LEN) == 0, "re-encode differs");
    } else {
        FZ_CHECK(len != COLO_HB_LEN || e != COLO_HB_E_LENGTH, "length refused at %zu", len);
    }

    /* A struct of the input's bytes: encodes iff in range, and then round-trips. */
    struct fz f = {b, len};
    struct colo_hb in = {.path = fz_u8(&f) & 3, .role = fz_u8(&f) & 3, .board = fz_u8(&f)};
    in.flags = fz_u32(&f) & 0x800001ffu;
    in.seq = fz_u64(&f);
    in.epoch = fz_u64(&f);
    in.ticks = fz_u64(&f);
    in.state = fz_u8(&f) & 0x7f;
    in.boot_id = fz_u8(&f) & 1 ? 0 : fz_u64(&f);
    in.term = fz_u64(&f);
    in.rep_boot = fz_u64(&f);
    in.period_ms = fz_u32(&f) & 0x1ffff;
    in.miss = fz_u16(&f) & 0x7ff;
    in.again = fz_u32(&f);
    in.echo_boot = fz_u64(&f);
    size_t n = colo_hb_encode(again, sizeof(again), &in, NULL);
    FZ_CHECK(n == (fields_ok(&in) ? COLO_HB_LEN : 0), "encode gave %zu", n);
    FZ_CHECK(colo_hb_encode(again, COLO_HB_LEN - 1, &in, NULL) == 0, "encoded into a short buffer");
    if (n) {
        FZ_CHECK(colo_hb_decode(again, n, &h, NULL) == COLO_HB_OK && hb_equal(&h, &in),
                 "round trip failed");
        /* The next copy: again + 1 and nothing else, unless again would wrap. */
        struct colo_hb c;
        bool ok = colo_hb_again(again, n, NULL);
        FZ_CHECK(ok == (in.again != UINT32_MAX), "colo_hb_again at %u", in.again);
        FZ_CHECK(colo_hb_decode(again, n, &c, NULL) == COLO_HB_OK, "a copy that does not decode");
        in.again += ok;
        FZ_CHECK(hb_equal(&c, &in), "the copy changed more than again");
    }
}

static void do_rx(struct colo_hb_peer *p, struct model *m, unsigned path, const uint8_t *b,
                  size_t len, uint64_t now)
{
    uint64_t now_ticks = now * TICKS_PER_US;
    struct colo_hb_peer before = *p;
    struct colo_hb h;
    enum colo_hb_err dec = colo_hb_decode(b, len, &h, NULL);
    enum colo_hb_err e = colo_hb_rx(p, path, b, len, now, now_ticks);

    enum colo_hb_err want = dec;
    if (path >= COLO_HB_PATHS || (dec == COLO_HB_OK && h.path != path)) {
        want = COLO_HB_E_WRONG_PATH;
    }
    const struct colo_hb_path *o = &before.path[path & 1];
    bool same_boot = o->heard && h.boot_id == o->last_boot;
    if (dec == COLO_HB_OK && h.board != (uint8_t)p->peer_board) {
        want = COLO_HB_E_PEER;
    } else if (want == COLO_HB_OK && model_boot(m, h.boot_id) > 0 &&
               model_boot(m, h.boot_id) < COLO_HB_BOOTS) {
        want = COLO_HB_E_OLD_BOOT;
    } else if (want == COLO_HB_OK && same_boot &&
               (h.seq < o->last_seq || (h.seq == o->last_seq && h.again <= o->last_again))) {
        want = COLO_HB_E_REPLAY;
    } else if (want == COLO_HB_OK && h.echo_boot != SELF_BOOT) {
        want = COLO_HB_E_ECHO;
    }
    if (path >= COLO_HB_PATHS) {
        FZ_CHECK(e == COLO_HB_E_WRONG_PATH, "path %u: %d", path, e);
        FZ_CHECK(peer_equal(&before, p), "a datagram on no path changed state");
        return;
    }
    FZ_CHECK(e == want, "rx returned %s, decode %s", colo_hb_err_name(e), colo_hb_err_name(dec));

    const struct colo_hb_path *q = &p->path[path];
    const struct colo_hb_path *other = &p->path[path ^ 1];
    FZ_CHECK(path_equal(other, &before.path[path ^ 1]), "other path changed");
    if (e == COLO_HB_E_ECHO) {
        /* Authentic, about a boot of ours that is gone: only its boot id is noted. */
        model_note(m, h.boot_id);
        struct colo_hb_peer expect = before;
        expect.path[path].stale_echo++;
        memcpy(expect.heard_boot, m->boots, sizeof(expect.heard_boot));
        FZ_CHECK(peer_equal(&expect, p), "a stale echo changed more than the boots");
        return;
    }
    if (e != COLO_HB_OK) {
        struct colo_hb_peer expect = before;
        expect.path[path].bad++;
        FZ_CHECK(peer_equal(&expect, p), "a refused datagram changed more than bad");
        return;
    }
    model_note(m, h.boot_id);
    FZ_CHECK(memcmp(p->heard_boot, m->boots, sizeof(m->boots)) == 0, "boot list");

    FZ_CHECK(q->rx == o->rx + 1 && q->bad == o->bad, "counters");
    FZ_CHECK(q->heard && q->last_rx_us == now, "path not refreshed");
    uint64_t gap = same_boot && h.seq > o->last_seq ? h.seq - o->last_seq - 1 : 0;
    uint64_t lost = o->lost > UINT64_MAX - gap ? UINT64_MAX : o->lost + gap;
    FZ_CHECK(q->lost == lost, "lost %llu, want %llu", (unsigned long long)q->lost,
             (unsigned long long)lost);
    FZ_CHECK(q->last_seq == h.seq && q->last_again == h.again, "last_seq");
    FZ_CHECK(q->last_boot == h.boot_id, "last_boot");

    bool restart = before.heard_any && h.boot_id != before.last.boot_id;
    FZ_CHECK(p->restarts == before.restarts + restart, "restarts");
    FZ_CHECK(p->old_boot == (restart ? before.last.boot_id : before.old_boot), "old_boot");
    bool newest = !before.heard_any || restart || (h.again == 0 && h.seq > before.last.seq);
    if (newest) {
        FZ_CHECK(hb_equal(&p->last, &h), "`last` not the newest heartbeat");
        m->last_ticks_at_rx = now_ticks;
    } else {
        FZ_CHECK(hb_equal(&p->last, &before.last), "`last` rolled back");
    }
    FZ_CHECK(p->clock_offset_ticks == (int64_t)(p->last.ticks - m->last_ticks_at_rx),
             "clock offset %lld", (long long)p->clock_offset_ticks);
    FZ_CHECK(p->heard_any, "heard_any not set");
    m->heard[path] = true;
    m->refresh[path] = now;
    m->heard_any = true;
}

static void do_tick(struct colo_hb_peer *p, struct model *m, uint64_t now)
{
    uint64_t win = own_window(p);
    struct colo_hb_peer before = *p;
    colo_hb_tick(p, now);
    if (m->ticked && now > m->last_tick && now - m->last_tick > win) {
        m->stalls++;
        for (unsigned i = 0; i < COLO_HB_PATHS; i++) {
            if (m->heard[i] && model_alive(m, p, i, m->last_tick)) {
                m->refresh[i] = now;
            }
        }
    }
    m->ticked = true;
    m->last_tick = now;
    FZ_CHECK(p->stalls == m->stalls, "stalls %llu, want %llu", (unsigned long long)p->stalls,
             (unsigned long long)m->stalls);
    for (unsigned i = 0; i < COLO_HB_PATHS; i++) {
        FZ_CHECK(p->path[i].rx == before.path[i].rx && p->path[i].bad == before.path[i].bad &&
                     p->path[i].lost == before.path[i].lost &&
                     p->path[i].heard == before.path[i].heard,
                 "tick changed counters");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    struct colo_hb_peer p;
    struct model m;
    memset(&m, 0, sizeof(m));
    char board = fz_u8(&f) & 1 ? 'a' : 'b';
    uint64_t now = (uint64_t)fz_u32(&f) * 1000;
    colo_hb_peer_init(&p, board, 100, 3, SELF_BOOT, NULL);
    FZ_CHECK(!p.heard_any && !colo_hb_peer_dead(&p, now) && !colo_hb_peer_alive(&p, now), "init");

    while (f.n) {
        uint8_t op = fz_u8(&f);
        now = sat_add(now, (uint64_t)fz_u16(&f) * DELTA_US);
        switch ((op >> 3) & 3) {
        case KIND_RX0:
        case KIND_RX1: {
            uint8_t b[256];
            size_t len = fz_u8(&f);
            len = MIN(len, f.n);
            memcpy(b, f.p, len);
            f.p += len;
            f.n -= len;
            if ((op & 4) && len >= COLO_HB_LEN) {
                if (!(op & 0x20)) {
                    for (unsigned i = 0; i < 8; i++) {
                        b[80 + i] = (uint8_t)((uint64_t)SELF_BOOT >> (8 * i));
                    }
                }
                uint32_t c = crc32c(0, b, COLO_HB_LEN - COLO_HB_TAG_LEN);
                memset(b + COLO_HB_LEN - COLO_HB_TAG_LEN, 0, COLO_HB_TAG_LEN);
                for (unsigned i = 0; i < 4; i++) {
                    b[COLO_HB_LEN - COLO_HB_TAG_LEN + i] = (uint8_t)(c >> (8 * i));
                }
            }
            check_codec(b, len);
            do_rx(&p, &m, op & 3, b, len, now);
            break;
        }
        case KIND_TICK:
            do_tick(&p, &m, now);
            break;
        case KIND_CONFIG:
        default:
            p.period_ms = fz_u32(&f);
            p.miss = fz_u32(&f);
            break;
        }
        check_liveness(&m, &p, now);
        uint64_t rx = 0;
        for (unsigned i = 0; i < COLO_HB_PATHS; i++) {
            rx += p.path[i].rx;
            FZ_CHECK(p.path[i].heard == (p.path[i].rx > 0), "heard without rx");
        }
        FZ_CHECK(p.heard_any == (rx > 0), "heard_any without rx");
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

static void op_hdr(struct seed *s, uint8_t op, uint32_t delta_us)
{
    uint16_t d = (uint16_t)MIN(delta_us / DELTA_US, 0xffffu);
    uint8_t h[3] = {op, (uint8_t)d, (uint8_t)(d >> 8)};
    put(s, h, 3);
}

static void seed_tick(struct seed *s, uint32_t delta_us)
{
    op_hdr(s, KIND_TICK << 3, delta_us);
}

/* A heartbeat naming field_path, delivered by record op (path in bits 0-1, seal in bit 2). */
static void seed_dgram(struct seed *s, uint8_t op, unsigned field_path, uint32_t delta_us,
                       char board, uint64_t seq, uint32_t flags)
{
    struct colo_hb h = {.path = (uint8_t)field_path,
                        .role = 1,
                        .board = (uint8_t)board,
                        .flags = flags,
                        .seq = seq,
                        .epoch = seq / 3,
                        .ticks = seq * 2400000u + 777,
                        .state = (uint8_t)(seq & 7),
                        .boot_id = 0x5eed0000u + (board == 'a') + (flags & COLO_HB_F_SHUTDOWN),
                        .term = seq / 4,
                        .period_ms = 100,
                        .miss = 3,
                        .echo_boot = SELF_BOOT};
    uint8_t b[COLO_HB_LEN + 1];
    b[0] = COLO_HB_LEN;
    colo_hb_encode(b + 1, COLO_HB_LEN, &h, NULL);
    op_hdr(s, op, delta_us);
    put(s, b, sizeof(b));
}

static void seed_hb(struct seed *s, unsigned path, uint32_t delta_us, char board, uint64_t seq,
                    uint32_t flags)
{
    seed_dgram(s, (uint8_t)path, path, delta_us, board, seq, flags);
}

static void seed_start(struct seed *s, uint8_t board_bit)
{
    s->n = 0;
    uint8_t h[5] = {board_bit, 0x10, 0x27, 0, 0}; /* 10 s */
    put(s, h, sizeof(h));
}

void fuzz_make_seeds(void)
{
    static struct seed s;
    char peer = 'b';

    /* Both paths for ten rounds, then the service LAN goes quiet, then both; ticks throughout. */
    seed_start(&s, 0);
    uint64_t seq = 1;
    for (unsigned i = 0; i < 10; i++, seq++) {
        seed_tick(&s, 100000);
        seed_hb(&s, 0, 50, peer, seq, COLO_HB_F_LISTENING);
        seed_hb(&s, 1, 80, peer, seq, COLO_HB_F_LISTENING);
    }
    for (unsigned i = 0; i < 5; i++, seq++) {
        seed_tick(&s, 100000);
        seed_hb(&s, 0, 50, peer, seq, COLO_HB_F_PROTECTED | COLO_HB_F_GUEST_RUNNING);
    }
    for (unsigned i = 0; i < 6; i++) {
        seed_tick(&s, 100000);
    }
    fuzz_write_seed("quiet", s.b, s.n);

    /* Our own stall of two seconds in the middle, then a restarted peer and a lost round. */
    seed_start(&s, 0);
    for (seq = 1; seq < 5; seq++) {
        seed_tick(&s, 100000);
        seed_hb(&s, 0, 50, peer, seq, 0);
        seed_hb(&s, 1, 50, peer, seq, 0);
    }
    seed_tick(&s, 2000000);
    seed_hb(&s, 1, 100, peer, 1, COLO_HB_F_GUEST_RUNNING | COLO_HB_F_SHUTDOWN); /* new boot */
    seed_hb(&s, 0, 100, peer, 4, 0);                                            /* the old one */
    seed_tick(&s, 100000);
    seed_hb(&s, 1, 100, peer, 3, COLO_HB_F_GUEST_RUNNING);
    seed_hb(&s, 0, 100, peer, 3, COLO_HB_F_GUEST_RUNNING);
    fuzz_write_seed("stall-restart", s.b, s.n);

    /* Refused: our own board's heartbeat, a path mismatch, an unsealed damaged one, a sealed
     * one with a bad field, a run-time config change. */
    seed_start(&s, 1); /* the peer is 'a' */
    seed_hb(&s, 0, 0, 'a', 1, 0);
    seed_hb(&s, 0, 100, 'b', 2, 0);
    seed_hb(&s, 1, 100, 'a', 2, 0);
    seed_dgram(&s, 1, 0, 100, 'a', 2, 0); /* names path 0, arrived on 1 */
    seed_hb(&s, 0, 100, 'a', 3, 0);
    s.b[s.n - 1] ^= 1; /* CRC */
    seed_dgram(&s, 4 | 0, 0, 100, 'a', 3, 0);
    s.b[s.n - COLO_HB_LEN + 14] = 1; /* reserved, behind the CRC the harness reseals */
    seed_tick(&s, 100);
    op_hdr(&s, KIND_CONFIG << 3, 100);
    uint8_t cfg[8] = {10, 0, 0, 0, 2, 0, 0, 0};
    put(&s, cfg, sizeof(cfg));
    seed_tick(&s, 100000);
    seed_dgram(&s, 2, 0, 100, 'a', 4, 0); /* on a path out of range */
    fuzz_write_seed("refused", s.b, s.n);

    /* A heartbeat, the same again (a replay), the urgent path's copy, a stale echo. */
    seed_start(&s, 0);
    seed_hb(&s, 0, 0, peer, 1, 0);
    seed_hb(&s, 0, 100, peer, 1, 0);
    seed_hb(&s, 0, 100, peer, 1, 0);
    s.b[s.n - COLO_HB_LEN + 72] = 1; /* again = 1, behind the CRC the harness reseals */
    s.b[s.n - COLO_HB_LEN - 4] |= 4;
    seed_hb(&s, 1, 100, peer, 2, COLO_HB_F_TAKEOVER | COLO_HB_F_GUEST_RUNNING);
    s.b[s.n - COLO_HB_LEN + 80] ^= 1; /* echoes another boot of ours */
    s.b[s.n - COLO_HB_LEN - 4] |= 4 | 0x20;
    fuzz_write_seed("replay-echo", s.b, s.n);

    /* One valid heartbeat on each path (mutates fastest). */
    seed_start(&s, 0);
    seed_hb(&s, 0, 0, peer, 1, 0);
    fuzz_write_seed("one-0", s.b, s.n);
    seed_start(&s, 0);
    seed_hb(&s, 1, 0, peer, 7, COLO_HB_F_ALL);
    fuzz_write_seed("one-1", s.b, s.n);
}
