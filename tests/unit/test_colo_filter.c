// SPDX-License-Identifier: Apache-2.0
// The COLO buffer filter (colo/colo_filter.c) against a reference model: a plain array queue of
// the frames the filter should be holding, each with the epoch it waits for. Every emitted frame
// must be the model's oldest one, allowed out by the last commit (or a flush), byte for byte:
// so frames come out exactly once, in order, never early. Checked: pass-through when not
// holding; commits in order and skipped; backpressure when full (nothing taken, nothing lost,
// room comes back after a commit); the ring's wrap-around and end padding under random frame
// sizes over many epochs and several capacities from barely one record to 4 MiB; flush;
// discard; the counters and the fill level. Guard bytes around the ring catch any write outside.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cv/types.h>

#include <colo/filter.h>

#define GUARD 64u
#define GUARD_BYTE 0xa5u

struct mframe {
    uint32_t seq;
    uint16_t len;
    uint64_t epoch;
};

/* The reference model: what the filter should hold, oldest first. */
struct model {
    struct mframe *q;
    size_t qcap, qhead, qn;
    uint64_t bytes;   /* frame bytes held */
    uint64_t open;    /* the tag a new frame gets */
    bool holding;     /* mirrors the filter */
    uint64_t allowed; /* emit may release frames tagged <= this */
    bool may_emit;
    uint64_t emitted, emitted_bytes, passed, released, flushed, discarded, max_bytes;
    uint32_t next_seq;
};

static struct colo_filter F;
static struct model M;
static uint8_t *ring_mem;
static size_t ring_cap;

static void fill_frame(uint8_t *p, uint32_t seq, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seq * 131u + (seq >> 8) * 17u + i * 7u + (i >> 8));
    }
    /* The sequence number itself, where there is room: duplicates cannot look alike. */
    memcpy(p, &seq, len < sizeof(seq) ? len : sizeof(seq));
}

static struct mframe *m_at(size_t i)
{
    return &M.q[(M.qhead + i) % M.qcap];
}

static void m_push(uint32_t seq, size_t len, uint64_t epoch)
{
    assert_true(M.qn < M.qcap);
    *m_at(M.qn) = (struct mframe){.seq = seq, .len = (uint16_t)len, .epoch = epoch};
    M.qn++;
    M.bytes += len;
}

static void m_pop(void)
{
    assert_true(M.qn > 0);
    M.bytes -= M.q[M.qhead].len;
    M.qhead = (M.qhead + 1) % M.qcap;
    M.qn--;
}

static void emit_cb(void *ctx, const uint8_t *frame, size_t len)
{
    static uint8_t want[COLO_FILTER_MAX_FRAME];
    const struct mframe *fr;

    assert_ptr_equal(ctx, &M);
    assert_true(M.may_emit);
    assert_true(M.qn > 0);
    fr = m_at(0);
    assert_true(fr->epoch <= M.allowed);
    assert_int_equal(len, fr->len);
    fill_frame(want, fr->seq, len);
    assert_memory_equal(frame, want, len);
    M.emitted++;
    M.emitted_bytes += len;
    m_pop();
}

static void check_guards(void)
{
    for (size_t i = 0; i < GUARD; i++) {
        assert_int_equal(ring_mem[i], GUARD_BYTE);
        assert_int_equal(ring_mem[GUARD + ring_cap + i], GUARD_BYTE);
    }
}

/* Records of held frames, without end padding. */
static uint64_t m_record_bytes(void)
{
    return M.bytes + (uint64_t)M.qn * COLO_FILTER_HDR;
}

static void check_stats(void)
{
    assert_int_equal(F.st.held_frames, M.qn);
    assert_int_equal(F.st.held_bytes, M.bytes);
    assert_int_equal(F.st.released_frames, M.released);
    assert_int_equal(F.st.passed_frames, M.passed);
    assert_int_equal(F.st.flushed_frames, M.flushed);
    assert_int_equal(F.st.discarded_frames, M.discarded);
    assert_int_equal(F.st.max_bytes, M.max_bytes);
    assert_int_equal(F.holding, M.holding);
    /* At most one gap at the end of the ring, smaller than one record. */
    assert_true(F.used >= m_record_bytes());
    assert_true(F.used < m_record_bytes() + COLO_FILTER_MIN_CAP);
    assert_true(F.used <= F.cap);
    assert_int_equal(colo_filter_fill_permille(&F), (unsigned)(F.used * 1000u / F.cap));
}

static void h_setup(size_t cap)
{
    free(ring_mem);
    free(M.q);
    ring_cap = cap;
    ring_mem = malloc(cap + 2 * GUARD);
    assert_non_null(ring_mem);
    memset(ring_mem, GUARD_BYTE, cap + 2 * GUARD);
    memset(&M, 0, sizeof(M));
    M.qcap = cap / (COLO_FILTER_HDR + 1) + 64;
    M.q = calloc(M.qcap, sizeof(*M.q));
    assert_non_null(M.q);
    M.next_seq = 1;
    colo_filter_init(&F, ring_mem + GUARD, cap, emit_cb, &M);
    check_stats();
}

static int teardown(void **state)
{
    (void)state;
    free(ring_mem);
    free(M.q);
    ring_mem = NULL;
    M.q = NULL;
    return 0;
}

static void h_start(uint64_t epoch)
{
    colo_filter_start(&F, epoch);
    if (!M.holding) {
        M.holding = true;
        M.open = epoch;
    } else if (epoch > M.open) {
        for (size_t i = 0; i < M.qn; i++) {
            if (m_at(i)->epoch == M.open) {
                m_at(i)->epoch = epoch;
            }
        }
        M.open = epoch;
    }
    check_stats();
}

/* Offers frame (seq, len) the way a NIC driver would; returns whether the filter took it. */
static bool h_offer(uint32_t seq, size_t len)
{
    static uint8_t frame[COLO_FILTER_MAX_FRAME];
    uint64_t full = F.st.full_events, emitted = M.emitted;
    bool room = colo_filter_room(&F, len), ok;

    assert_int_equal(F.st.full_events, full + (room ? 0 : 1));
    fill_frame(frame, seq, len);
    if (!M.holding) {
        assert_true(room);
        m_push(seq, len, 0);
        M.allowed = UINT64_MAX;
        M.may_emit = true;
        assert_true(colo_filter_put(&F, frame, len));
        M.may_emit = false;
        assert_int_equal(M.emitted, emitted + 1);
        assert_int_equal(M.qn, 0);
        M.passed++;
        check_stats();
        return true;
    }
    if (!room) {
        uint64_t rec = COLO_FILTER_RECORD(len);
        /* Refused only when the free space, gap aside, is less than two such records. */
        assert_true(m_record_bytes() + 2 * rec + COLO_FILTER_MIN_CAP > F.cap);
        assert_true(M.qn > 0 || rec > F.cap);
    }
    ok = colo_filter_put(&F, frame, len);
    assert_int_equal(ok, room);
    assert_int_equal(M.emitted, emitted);
    if (ok) {
        m_push(seq, len, M.open);
        M.max_bytes = M.bytes > M.max_bytes ? M.bytes : M.max_bytes;
    }
    check_stats();
    return ok;
}

static bool h_put(size_t len)
{
    if (h_offer(M.next_seq, len)) {
        M.next_seq++;
        return true;
    }
    return false;
}

static void h_checkpoint(uint64_t epoch)
{
    colo_filter_checkpoint(&F, epoch);
    if (M.holding && epoch >= M.open) {
        for (size_t i = 0; epoch > M.open && i < M.qn; i++) {
            if (m_at(i)->epoch == M.open) {
                m_at(i)->epoch = epoch;
            }
        }
        M.open = epoch + 1;
    }
    check_stats();
}

/* Commits `epoch` and checks exactly the frames it allows came out; returns how many. */
static uint64_t h_commit(uint64_t epoch)
{
    uint64_t lim = MIN(epoch, M.open - 1), before = M.emitted, want = 0;

    if (M.open == 0) {
        lim = 0;
    }
    for (size_t i = 0; i < M.qn && m_at(i)->epoch <= lim && m_at(i)->epoch < M.open; i++) {
        want++;
    }
    M.allowed = lim;
    M.may_emit = true;
    colo_filter_commit(&F, epoch);
    M.may_emit = false;
    assert_int_equal(M.emitted - before, want);
    M.released += want;
    if (M.qn > 0) {
        assert_true(m_at(0)->epoch > lim || m_at(0)->epoch >= M.open);
    }
    check_stats();
    return want;
}

static uint64_t h_flush(void)
{
    uint64_t n = M.qn, before = M.emitted;

    M.allowed = UINT64_MAX;
    M.may_emit = true;
    colo_filter_flush(&F);
    M.may_emit = false;
    assert_int_equal(M.emitted - before, n);
    assert_int_equal(M.qn, 0);
    M.released += n;
    M.flushed += n;
    M.holding = false;
    check_stats();
    return n;
}

static void h_discard(void)
{
    uint64_t before = M.emitted;

    colo_filter_discard(&F);
    assert_int_equal(M.emitted, before);
    M.discarded += M.qn;
    while (M.qn > 0) {
        m_pop();
    }
    M.holding = false;
    check_stats();
}

/* xorshift64*: deterministic across hosts. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t rnd_len(size_t max)
{
    size_t len;

    switch (rnd() % 4) {
    case 0:
        len = 1 + rnd() % 16;
        break;
    case 1:
        len = COLO_FILTER_MAX_FRAME - rnd() % 128;
        break;
    default:
        len = 1 + rnd() % COLO_FILTER_MAX_FRAME;
        break;
    }
    return MIN(len, max);
}

/* ---- tests ---- */

static void test_passthrough(void **state)
{
    (void)state;
    h_setup(4096);
    for (size_t len = 1; len <= COLO_FILTER_MAX_FRAME; len += 101) {
        assert_true(h_put(len));
    }
    assert_int_equal(F.st.passed_frames, 15);
    assert_int_equal(F.st.held_frames, 0);
    assert_int_equal(F.st.full_events, 0);
    assert_int_equal(colo_filter_fill_permille(&F), 0);
    /* Commits and checkpoints outside protection do nothing. */
    h_checkpoint(3);
    assert_int_equal(h_commit(3), 0);
    assert_int_equal(h_flush(), 0);
    check_guards();
}

static void test_bad_len(void **state)
{
    uint8_t frame[COLO_FILTER_MAX_FRAME + 1] = {0};

    (void)state;
    h_setup(8192);
    assert_false(colo_filter_room(&F, 0));
    assert_false(colo_filter_room(&F, COLO_FILTER_MAX_FRAME + 1));
    M.may_emit = false;
    assert_false(colo_filter_put(&F, frame, 0));
    assert_false(colo_filter_put(&F, frame, COLO_FILTER_MAX_FRAME + 1));
    h_start(1);
    assert_false(colo_filter_room(&F, 0));
    assert_false(colo_filter_put(&F, frame, COLO_FILTER_MAX_FRAME + 1));
    assert_int_equal(F.st.full_events, 0);
    check_stats();
    check_guards();
}

static void test_epochs_in_order(void **state)
{
    const unsigned n = 12;

    (void)state;
    h_setup(64 * 1024);
    h_start(1);
    for (uint64_t e = 1; e <= n; e++) {
        for (unsigned i = 0; i < e % 4 + 1; i++) {
            assert_true(h_put(60 + e * 10 + i));
        }
        h_checkpoint(e);
        if (e >= 3) {
            /* The secondary lags two checkpoints behind. */
            assert_int_equal(h_commit(e - 2), (e - 2) % 4 + 1);
        }
    }
    assert_int_equal(h_commit(n - 1), (n - 1) % 4 + 1);
    /* Frames sent after the last pause wait, whatever commit comes. */
    assert_true(h_put(99));
    assert_int_equal(h_commit(n), n % 4 + 1);
    assert_int_equal(h_commit(n + 5), 0);
    assert_int_equal(F.st.held_frames, 1);
    h_checkpoint(n + 1);
    assert_int_equal(h_commit(n + 1), 1);
    assert_int_equal(F.st.held_frames, 0);
    check_guards();
}

static void test_commit_skips(void **state)
{
    (void)state;
    h_setup(64 * 1024);
    h_start(1);
    for (uint64_t e = 1; e <= 6; e++) {
        assert_true(h_put(100));
        assert_true(h_put(200));
        h_checkpoint(e);
    }
    /* One commit covers all earlier checkpoints. */
    assert_int_equal(h_commit(4), 8);
    /* Stale and repeated commits release nothing. */
    assert_int_equal(h_commit(2), 0);
    assert_int_equal(h_commit(4), 0);
    assert_int_equal(h_commit(6), 4);
    assert_int_equal(F.st.released_frames, 12);
    assert_int_equal(F.st.released_bytes, 6 * 300);
    check_guards();
}

static void test_start_and_gaps(void **state)
{
    (void)state;
    h_setup(8192);
    h_start(5);
    assert_true(h_put(10));
    /* Starting again never lowers the open epoch. */
    h_start(2);
    assert_int_equal(F.open_epoch, 5);
    assert_true(h_put(11));
    /* ... and raising it takes the open frames along. */
    h_start(7);
    assert_int_equal(F.open_epoch, 7);
    h_checkpoint(7);
    assert_int_equal(h_commit(5), 0);
    assert_int_equal(h_commit(7), 2);

    /* A checkpoint past the open epoch moves the open frames onto it. */
    assert_true(h_put(12));
    h_checkpoint(10);
    assert_int_equal(F.open_epoch, 11);
    assert_int_equal(h_commit(8), 0);
    assert_int_equal(h_commit(9), 0);
    assert_true(h_put(13));
    /* A stale checkpoint changes nothing. */
    h_checkpoint(4);
    assert_int_equal(F.open_epoch, 11);
    assert_int_equal(h_commit(10), 1);
    assert_int_equal(F.st.held_frames, 1);
    check_guards();
}

/* Backpressure with a ring barely larger than one record. */
static void test_full_small(void **state)
{
    const size_t len = 100;

    (void)state;
    h_setup(COLO_FILTER_RECORD(len) + 5);
    h_start(1);
    assert_true(h_put(len));
    /* Full: refused, counted, not emitted, not lost (the driver keeps it). */
    assert_false(h_put(len));
    assert_false(h_put(1));
    assert_int_equal(F.st.full_events, 2);
    h_checkpoint(1);
    assert_false(h_put(len));
    assert_int_equal(h_commit(1), 1);
    /* The same frame goes in now. */
    uint32_t seq = M.next_seq;
    assert_true(h_put(len));
    assert_int_equal(m_at(0)->seq, seq);
    h_checkpoint(2);
    assert_int_equal(h_commit(2), 1);
    /* Small frames fill it record by record. */
    unsigned n = 0;
    while (h_put(1)) {
        n++;
    }
    assert_int_equal(n, (COLO_FILTER_RECORD(len) + 5) / COLO_FILTER_RECORD(1));
    assert_int_equal(h_flush(), n);
    check_guards();
}

/* A frame larger than the whole ring can never be held; it is refused, not dropped. */
static void test_too_big_for_ring(void **state)
{
    (void)state;
    h_setup(COLO_FILTER_RECORD(100));
    h_start(1);
    assert_false(h_put(101));
    assert_true(h_put(100));
    h_checkpoint(1);
    h_commit(1);
    assert_false(h_put(101));
    assert_int_equal(F.st.full_events, 2);
    /* Unprotected it passes through. */
    h_flush();
    assert_true(h_put(101));
    check_guards();
}

/* The exact layouts at the end of the ring: exact fit, a gap too small for a marker, a marker. */
static void test_ring_end(void **state)
{
    const size_t rec = COLO_FILTER_RECORD(50);

    (void)state;
    /* Exactly three records: full with head == tail. */
    h_setup(3 * rec);
    h_start(1);
    for (int i = 0; i < 3; i++) {
        assert_true(h_put(50));
        h_checkpoint((uint64_t)i + 1);
    }
    assert_int_equal(colo_filter_fill_permille(&F), 1000);
    assert_false(h_put(1));
    assert_int_equal(h_commit(1), 1);
    assert_true(h_put(50));
    assert_int_equal(colo_filter_fill_permille(&F), 1000);
    h_checkpoint(4);
    assert_int_equal(h_commit(4), 3);
    assert_int_equal(F.used, 0);
    check_guards();

    /* 5 bytes left at the end: no room for a marker, the gap is known by its size. */
    h_setup(2 * rec + 5);
    h_start(1);
    assert_true(h_put(50));
    h_checkpoint(1);
    assert_true(h_put(50));
    assert_false(h_put(40));
    assert_int_equal(h_commit(1), 1);
    assert_true(h_put(40));
    assert_int_equal(F.used, rec + 5 + COLO_FILTER_RECORD(40));
    assert_false(h_put(1));
    h_checkpoint(2);
    assert_int_equal(h_commit(2), 2);
    assert_int_equal(F.used, 0);
    check_guards();

    /* 20 bytes left: a marker. */
    h_setup(2 * rec + 20);
    h_start(1);
    assert_true(h_put(50));
    h_checkpoint(1);
    assert_true(h_put(50));
    assert_int_equal(h_commit(1), 1);
    assert_true(h_put(40));
    assert_int_equal(F.used, rec + 20 + COLO_FILTER_RECORD(40));
    assert_false(h_put(1));
    h_checkpoint(2);
    assert_int_equal(h_commit(2), 2);
    assert_int_equal(F.used, 0);
    check_guards();

    /* A record that ends exactly at the end of the ring, then one at 0 without a gap. */
    h_setup(2 * rec + 20);
    h_start(1);
    assert_true(h_put(50));
    assert_true(h_put(50));
    h_checkpoint(1);
    assert_true(h_put(10));
    assert_int_equal(colo_filter_fill_permille(&F), 1000);
    assert_false(h_put(1));
    assert_int_equal(h_commit(1), 2);
    assert_true(h_put(30));
    assert_true(h_put(40));
    assert_true(h_put(20));
    assert_int_equal(colo_filter_fill_permille(&F), 1000);
    h_checkpoint(2);
    assert_int_equal(h_commit(2), 4);
    assert_int_equal(F.used, 0);
    check_guards();
}

static void test_flush(void **state)
{
    (void)state;
    h_setup(16 * 1024);
    h_start(1);
    for (uint64_t e = 1; e <= 5; e++) {
        for (int i = 0; i < 3; i++) {
            assert_true(h_put(200 + (size_t)i));
        }
        h_checkpoint(e);
    }
    assert_true(h_put(7));
    assert_int_equal(h_commit(2), 6);
    /* Everything left, committed or not, open or not, in order. */
    assert_int_equal(h_flush(), 10);
    assert_int_equal(F.st.flushed_frames, 10);
    assert_int_equal(F.st.released_frames, 16);
    assert_false(F.holding);
    assert_true(h_put(20));
    assert_int_equal(F.st.passed_frames, 1);
    /* A new session starts empty. */
    h_start(1);
    assert_true(h_put(30));
    h_checkpoint(1);
    assert_int_equal(h_commit(1), 1);
    check_guards();
}

static void test_discard(void **state)
{
    (void)state;
    h_setup(16 * 1024);
    h_start(1);
    for (uint64_t e = 1; e <= 4; e++) {
        assert_true(h_put(300));
        assert_true(h_put(301));
        h_checkpoint(e);
    }
    assert_int_equal(h_commit(1), 2);
    h_discard();
    assert_int_equal(F.st.discarded_frames, 6);
    assert_int_equal(F.st.held_frames, 0);
    assert_int_equal(F.st.held_bytes, 0);
    assert_int_equal(colo_filter_fill_permille(&F), 0);
    /* Nothing comes out later either. */
    assert_int_equal(h_commit(4), 0);
    assert_int_equal(h_flush(), 0);
    check_guards();
}

static void test_stats_and_fill(void **state)
{
    const size_t cap = 10000;

    (void)state;
    h_setup(cap);
    assert_int_equal(colo_filter_fill_permille(&F), 0);
    assert_true(h_put(60));
    h_start(1);
    assert_true(h_put(990)); /* 1000 bytes of ring */
    assert_int_equal(colo_filter_fill_permille(&F), 100);
    assert_true(h_put(490)); /* 500 */
    assert_int_equal(colo_filter_fill_permille(&F), 150);
    h_checkpoint(1);
    assert_true(h_put(1490));
    assert_int_equal(colo_filter_fill_permille(&F), 300);
    assert_int_equal(F.st.held_frames, 3);
    assert_int_equal(F.st.held_bytes, 990 + 490 + 1490);
    assert_int_equal(F.st.max_bytes, 990 + 490 + 1490);
    h_commit(1);
    assert_int_equal(colo_filter_fill_permille(&F), 150);
    assert_int_equal(F.st.released_frames, 2);
    assert_int_equal(F.st.released_bytes, 990 + 490);
    assert_int_equal(F.st.held_bytes, 1490);
    assert_int_equal(F.st.max_bytes, 990 + 490 + 1490);
    /* Six records up to 9060, the 7th at 0 after a 940-byte gap, then 490 bytes free. */
    while (h_put(1000)) {
    }
    assert_int_equal(F.st.held_frames, 1 + 7);
    assert_int_equal(colo_filter_fill_permille(&F), 951);
    assert_int_equal(F.st.full_events, 1);
    assert_false(colo_filter_room(&F, 1000));
    assert_int_equal(F.st.full_events, 2);
    assert_true(colo_filter_room(&F, 480));
    assert_false(colo_filter_room(&F, 481));
    assert_int_equal(F.st.full_events, 3);
    assert_int_equal(F.st.passed_frames, 1);
    assert_int_equal(F.st.max_bytes, 1490 + 7000);
    h_flush();
    assert_int_equal(F.st.flushed_frames, 8);
    assert_int_equal(F.st.released_frames, 10);
    assert_int_equal(F.st.released_bytes, 990 + 490 + 1490 + 7000);
    assert_int_equal(colo_filter_fill_permille(&F), 0);
    check_guards();

    struct colo_filter z;
    colo_filter_init(&z, NULL, 0, emit_cb, &M);
    assert_int_equal(colo_filter_fill_permille(&z), 1000);
}

/*
 * Random traffic against the model: puts of random sizes (a refused frame is offered again, as
 * a NIC would), checkpoints, commits that lag and skip, stale commits, and now and then a session
 * that ends by flush or discard and a new one. Phases alternate between filling (few commits)
 * and draining so the ring both runs full and wraps many times.
 */
static void run_random(size_t cap, unsigned iters, uint64_t seed)
{
    size_t maxlen = MIN((size_t)COLO_FILTER_MAX_FRAME, cap - COLO_FILTER_HDR);
    uint64_t paused = 0, committed = 0, total_bytes = 0;
    unsigned phase_left = 0, put_pct = 0, commit_pct = 0;
    uint64_t end_div = iters / 16 + 1;
    size_t pending = 0;

    rng_state = seed;
    h_setup(cap);
    h_start(1);
    for (unsigned it = 0; it < iters; it++) {
        unsigned r = (unsigned)(rnd() % 100);

        if (rnd() % end_div == 0) {
            /* The session ends: the guest goes on unprotected, or the secondary took over. */
            if (rnd() % 3 == 0) {
                h_discard();
            } else {
                h_flush();
            }
            continue;
        }

        if (phase_left == 0) {
            bool fill = rnd() % 2;
            phase_left = 1 + (unsigned)(rnd() % (2 * cap / 700 + 50));
            put_pct = fill ? 90 : 40;
            commit_pct = fill ? 0 : 35;
        }
        phase_left--;
        if (r < put_pct) {
            if (!M.holding && rnd() % 8 == 0) {
                h_start(1);
                paused = committed = 0;
            }
            if (pending == 0) {
                pending = rnd_len(maxlen);
            }
            if (h_put(pending)) {
                total_bytes += pending;
                pending = 0;
            }
        } else if (r < put_pct + commit_pct) {
            if (paused > committed) {
                uint64_t target = committed + 1 + rnd() % (paused - committed);
                h_commit(target);
                committed = target;
            } else if (committed > 0) {
                assert_int_equal(h_commit(committed - rnd() % committed), 0);
            }
        } else if (r < 99) {
            if (M.holding) {
                h_checkpoint(M.open);
                paused = M.open - 1;
            }
        } else {
            assert_int_equal(colo_filter_fill_permille(&F), (unsigned)(F.used * 1000u / cap));
            check_guards();
        }
    }
    h_flush();
    assert_int_equal(M.qn, 0);
    assert_int_equal(F.st.released_frames + F.st.passed_frames + F.st.discarded_frames,
                     M.next_seq - 1);
    /* The run must have exercised the ring: several wraps, and running full. */
    assert_true(total_bytes > 3 * cap);
    assert_true(F.st.full_events > 0);
    assert_true(F.st.max_bytes + 2 * COLO_FILTER_MIN_CAP > cap / 2);
    check_guards();
}

static void test_random_tiny(void **state)
{
    (void)state;
    run_random(64, 20000, 0x1234567ull);
    run_random(COLO_FILTER_HDR + 1, 5000, 0x42ull);
}

static void test_random_one_record(void **state)
{
    (void)state;
    run_random(COLO_FILTER_MIN_CAP + 1, 20000, 0xdeadbeefull);
    run_random(2 * COLO_FILTER_MIN_CAP - 1, 20000, 0xfeedull);
}

static void test_random_medium(void **state)
{
    (void)state;
    run_random(4096 + 7, 40000, 0xc0104ull);
    run_random(65536, 100000, 0xabcdefull);
}

static void test_random_large(void **state)
{
    (void)state;
    run_random(4u << 20, 400000, 0x5eedull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_passthrough, teardown),
        cmocka_unit_test_teardown(test_bad_len, teardown),
        cmocka_unit_test_teardown(test_epochs_in_order, teardown),
        cmocka_unit_test_teardown(test_commit_skips, teardown),
        cmocka_unit_test_teardown(test_start_and_gaps, teardown),
        cmocka_unit_test_teardown(test_full_small, teardown),
        cmocka_unit_test_teardown(test_too_big_for_ring, teardown),
        cmocka_unit_test_teardown(test_ring_end, teardown),
        cmocka_unit_test_teardown(test_flush, teardown),
        cmocka_unit_test_teardown(test_discard, teardown),
        cmocka_unit_test_teardown(test_stats_and_fill, teardown),
        cmocka_unit_test_teardown(test_random_tiny, teardown),
        cmocka_unit_test_teardown(test_random_one_record, teardown),
        cmocka_unit_test_teardown(test_random_medium, teardown),
        cmocka_unit_test_teardown(test_random_large, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
