// SPDX-License-Identifier: Apache-2.0
// COLO heartbeats (colo/colo_hb.c): the datagram's exact layout and round trip, the precise
// error for every kind of damage, and the liveness tracker's rules: one live path keeps the peer
// alive, silence on both for the window kills it, never heard is unknown, our own stall restarts
// the windows, sequence gaps and restarts (a new boot_id, and late copies of the old boot), the
// window the peer advertises, refused datagrams, the clock offset; and what the key buys:
// forged, replayed, stale-echo and old-boot heartbeats change nothing, the urgent path's copies
// are life without news. The codec's layout tests run unkeyed (CRC seals, which a test can
// reseal), the tracker's keyed.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cv/image.h>

#include <colo/hb.h>

#define PERIOD_MS 100u
#define MISS 3u
#define WINDOW_US (PERIOD_MS * MISS * 1000ull)
#define PEER_BOOT 0xb00b00b00b00ull
#define SELF_BOOT 0xa0a0a0a0a0a0ull

/* The heartbeat key of the tests (any 32 bytes: the codec takes it as given), and another. */
static const uint8_t KEY[COLO_KEY_LEN] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                          12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                          23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t OTHER_KEY[COLO_KEY_LEN] = {32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22,
                                                21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
                                                10, 9,  8,  7,  6,  5,  4,  3,  2,  1};

static void assert_hb_equal(const struct colo_hb *a, const struct colo_hb *b)
{
    assert_int_equal(a->path, b->path);
    assert_int_equal(a->role, b->role);
    assert_int_equal(a->board, b->board);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->epoch, b->epoch);
    assert_int_equal(a->ticks, b->ticks);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->boot_id, b->boot_id);
    assert_int_equal(a->term, b->term);
    assert_int_equal(a->rep_boot, b->rep_boot);
    assert_int_equal(a->period_ms, b->period_ms);
    assert_int_equal(a->miss, b->miss);
    assert_int_equal(a->again, b->again);
    assert_int_equal(a->echo_boot, b->echo_boot);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* Rewrites the CRC seal after a deliberate change, to reach the checks behind it. */
static void reseal(uint8_t *b)
{
    uint32_t c = crc32c(0, b, 88);
    for (unsigned i = 0; i < 4; i++) {
        b[88 + i] = (uint8_t)(c >> (8 * i));
    }
    memset(b + 92, 0, 12);
}

static const struct colo_hb sample = {
    .path = COLO_HB_PATH_SERVICE,
    .role = COLO_HB_ROLE_SECONDARY,
    .board = 'b',
    .flags = COLO_HB_F_PROTECTED | COLO_HB_F_LISTENING,
    .seq = 0x1122334455667788ull,
    .epoch = 0x0102030405060708ull,
    .ticks = 0xf0e0d0c0b0a09080ull,
    .state = 0x2a,
    .boot_id = 0x1a2b3c4d5e6f7081ull,
    .term = 0x0a0b0c0d0e0f1011ull,
    .rep_boot = 0x99aabbccddeeff01ull,
    .period_ms = 60000,
    .miss = 1000,
    .again = 0x31323334,
    .echo_boot = 0x4142434445464748ull,
};

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t b[COLO_HB_LEN + 8];
    memset(b, 0xee, sizeof(b));
    assert_int_equal(colo_hb_encode(b, sizeof(b), &sample, NULL), COLO_HB_LEN);
    assert_int_equal(b[COLO_HB_LEN], 0xee); /* nothing written past the datagram */

    /* The layout of colo_hb.h, byte for byte. */
    assert_memory_equal(b, "CVHB", 4);
    assert_int_equal(le(b + 4, 2), 3);
    assert_int_equal(b[6], 1);
    assert_int_equal(b[7], 1);
    assert_int_equal(le(b + 8, 4), COLO_HB_F_PROTECTED | COLO_HB_F_LISTENING);
    assert_int_equal(b[12], 'b');
    assert_int_equal(b[13], 0x2a);
    assert_int_equal(b[14] | b[15], 0);
    assert_int_equal(le(b + 16, 8), sample.seq);
    assert_int_equal(le(b + 24, 8), sample.epoch);
    assert_int_equal(le(b + 32, 8), sample.ticks);
    assert_int_equal(le(b + 40, 8), sample.boot_id);
    assert_int_equal(le(b + 48, 8), sample.term);
    assert_int_equal(le(b + 56, 8), sample.rep_boot);
    assert_int_equal(le(b + 64, 4), 60000);
    assert_int_equal(le(b + 68, 4), 1000);
    assert_int_equal(le(b + 72, 4), sample.again);
    assert_int_equal(le(b + 76, 4), 0);
    assert_int_equal(le(b + 80, 8), sample.echo_boot);
    assert_int_equal(le(b + 88, 4), crc32c(0, b, 88));
    for (unsigned i = 92; i < COLO_HB_LEN; i++) {
        assert_int_equal(b[i], 0);
    }

    struct colo_hb h;
    assert_int_equal(colo_hb_decode(b, COLO_HB_LEN, &h, NULL), COLO_HB_OK);
    assert_hb_equal(&h, &sample);

    /* Every valid value of the small fields, and the extremes of the large ones. */
    for (unsigned path = 0; path < 2; path++) {
        for (unsigned role = 0; role < 2; role++) {
            for (uint32_t flags = 0; flags <= COLO_HB_F_ALL; flags++) {
                for (unsigned board = 'a'; board <= 'b'; board++) {
                    struct colo_hb in = {.path = (uint8_t)path,
                                         .role = (uint8_t)role,
                                         .board = (uint8_t)board,
                                         .flags = flags,
                                         .seq = flags & 1 ? UINT64_MAX : 0,
                                         .epoch = role ? UINT64_MAX : 0,
                                         .ticks = path ? UINT64_MAX : 1,
                                         .state = (uint8_t)(flags & COLO_HB_STATE_MAX),
                                         .boot_id = flags & 2 ? UINT64_MAX : 1,
                                         .term = board == 'a' ? UINT64_MAX : 0,
                                         .rep_boot = flags & 4 ? UINT64_MAX : 0,
                                         .period_ms = flags & 8 ? COLO_HB_PERIOD_MAX : 1,
                                         .miss = flags & 16 ? COLO_HB_MISS_MAX : 1,
                                         .again = flags & 32 ? UINT32_MAX : 0,
                                         .echo_boot = flags & 64 ? UINT64_MAX : 0};
                    assert_int_equal(colo_hb_encode(b, COLO_HB_LEN, &in, NULL), COLO_HB_LEN);
                    assert_int_equal(colo_hb_decode(b, COLO_HB_LEN, &h, NULL), COLO_HB_OK);
                    assert_hb_equal(&h, &in);
                }
            }
        }
    }

    /* The encoder refuses what the decoder would refuse, and a short buffer. */
    struct colo_hb bad = sample;
    assert_int_equal(colo_hb_encode(b, COLO_HB_LEN - 1, &sample, NULL), 0);
    bad.path = 2;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad = sample;
    bad.role = 2;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad = sample;
    bad.flags = COLO_HB_F_SHUTDOWN << 1;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad = sample;
    bad.board = 'c';
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad = sample;
    bad.boot_id = 0;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad = sample;
    bad.state = COLO_HB_STATE_MAX + 1;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad = sample;
    bad.period_ms = 0;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad.period_ms = COLO_HB_PERIOD_MAX + 1;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad = sample;
    bad.miss = 0;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
    bad.miss = COLO_HB_MISS_MAX + 1;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &bad, NULL), 0);
}

static void test_corruption(void **state)
{
    (void)state;
    uint8_t good[COLO_HB_LEN], b[COLO_HB_LEN + 16];
    struct colo_hb h;
    assert_int_equal(colo_hb_encode(good, sizeof(good), &sample, NULL), COLO_HB_LEN);

    /* Every single-bit flip of every byte: the magic and version are told apart from damage,
     * everything else is caught by the CRC. */
    for (unsigned i = 0; i < COLO_HB_LEN; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(b, good, COLO_HB_LEN);
            b[i] ^= (uint8_t)(1u << bit);
            enum colo_hb_err want = i < 4   ? COLO_HB_E_MAGIC
                                    : i < 6 ? COLO_HB_E_VERSION
                                            : COLO_HB_E_CRC;
            assert_int_equal(colo_hb_decode(b, COLO_HB_LEN, &h, NULL), want);
        }
        memcpy(b, good, COLO_HB_LEN);
        b[i] ^= 0xff;
        assert_int_not_equal(colo_hb_decode(b, COLO_HB_LEN, &h, NULL), COLO_HB_OK);
    }

    /* Truncated and extended (even with the right prefix). */
    memcpy(b, good, COLO_HB_LEN);
    for (size_t n = 0; n < sizeof(b); n++) {
        if (n != COLO_HB_LEN) {
            assert_int_equal(colo_hb_decode(b, n, &h, NULL), COLO_HB_E_LENGTH);
        }
    }

    /* Field checks, behind a resealed CRC. */
    static const struct {
        unsigned off;
        uint8_t val;
        enum colo_hb_err want;
    } fields[] = {
        {6, 2, COLO_HB_E_PATH},         {6, 0xff, COLO_HB_E_PATH},      {7, 2, COLO_HB_E_ROLE},
        {7, 0x80, COLO_HB_E_ROLE},      {9, 1, COLO_HB_E_FLAGS},        {11, 0x80, COLO_HB_E_FLAGS},
        {14, 1, COLO_HB_E_RESERVED},    {15, 0x80, COLO_HB_E_RESERVED}, {76, 1, COLO_HB_E_RESERVED},
        {79, 0x80, COLO_HB_E_RESERVED}, {12, 'c', COLO_HB_E_BOARD},     {12, 'A', COLO_HB_E_BOARD},
        {12, 0, COLO_HB_E_BOARD},       {13, 64, COLO_HB_E_FIELD},      {13, 0xff, COLO_HB_E_FIELD},
        {66, 1, COLO_HB_E_FIELD},       {71, 1, COLO_HB_E_FIELD},       {4, 1, COLO_HB_E_VERSION},
        {4, 2, COLO_HB_E_VERSION},      {4, 4, COLO_HB_E_VERSION},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(fields); i++) {
        memcpy(b, good, COLO_HB_LEN);
        b[fields[i].off] = fields[i].val;
        reseal(b);
        assert_int_equal(colo_hb_decode(b, COLO_HB_LEN, &h, NULL), fields[i].want);
    }
    /* Zero boot_id, period or miss (whole fields), behind the CRC. */
    static const unsigned zero_at[][2] = {{40, 8}, {64, 4}, {68, 4}};
    for (unsigned i = 0; i < ARRAY_SIZE(zero_at); i++) {
        memcpy(b, good, COLO_HB_LEN);
        memset(b + zero_at[i][0], 0, zero_at[i][1]);
        reseal(b);
        assert_int_equal(colo_hb_decode(b, COLO_HB_LEN, &h, NULL), COLO_HB_E_FIELD);
    }
    /* The CRC covers exactly bytes 0..87: resealing an untouched datagram changes nothing. */
    memcpy(b, good, COLO_HB_LEN);
    reseal(b);
    assert_memory_equal(b, good, COLO_HB_LEN);

    /* Every error has its own name. */
    for (int e = 0; e < COLO_HB_E_COUNT; e++) {
        assert_string_not_equal(colo_hb_err_name((enum colo_hb_err)e), "?");
        for (int f = 0; f < e; f++) {
            assert_string_not_equal(colo_hb_err_name((enum colo_hb_err)e),
                                    colo_hb_err_name((enum colo_hb_err)f));
        }
    }
    assert_string_equal(colo_hb_err_name(COLO_HB_E_COUNT), "?");
}

/* ---- tracker ---- */

static struct colo_hb_peer peer;
static uint64_t seq_next = 1;

static uint64_t peer_boot = PEER_BOOT;
static uint32_t peer_period = PERIOD_MS, peer_miss = MISS;

/* The peer ('b', a secondary) sends heartbeat `seq` on path at our time now. */
static enum colo_hb_err send_seq(unsigned path, uint64_t seq, uint64_t now, char board,
                                 uint8_t field_path)
{
    struct colo_hb h = {.path = field_path,
                        .role = COLO_HB_ROLE_SECONDARY,
                        .board = (uint8_t)board,
                        .flags = COLO_HB_F_LISTENING,
                        .seq = seq,
                        .epoch = seq / 2,
                        .ticks = now * 24 + 1000,
                        .boot_id = peer_boot,
                        .period_ms = peer_period,
                        .miss = peer_miss,
                        .echo_boot = SELF_BOOT};
    uint8_t b[COLO_HB_LEN];
    assert_int_equal(colo_hb_encode(b, sizeof(b), &h, KEY), COLO_HB_LEN);
    return colo_hb_rx(&peer, path, b, sizeof(b), now, now * 24);
}

static enum colo_hb_err send_hb(unsigned path, uint64_t now)
{
    return send_seq(path, seq_next, now, 'b', (uint8_t)path);
}

static void reset(void)
{
    colo_hb_peer_init(&peer, 'b', PERIOD_MS, MISS, SELF_BOOT, KEY);
    seq_next = 1;
    peer_boot = PEER_BOOT;
    peer_period = PERIOD_MS;
    peer_miss = MISS;
}

static void test_one_path_keeps_alive(void **state)
{
    (void)state;
    reset();
    uint64_t t = 1000000;
    colo_hb_tick(&peer, t);
    assert_int_equal(send_hb(0, t), COLO_HB_OK);
    assert_int_equal(send_hb(1, t), COLO_HB_OK);
    seq_next++;
    assert_true(colo_hb_path_alive(&peer, 0, t) && colo_hb_path_alive(&peer, 1, t));

    /* The replication link goes quiet; the service LAN keeps talking for ten windows. */
    for (unsigned i = 0; i < 10 * MISS; i++) {
        t += PERIOD_MS * 1000;
        colo_hb_tick(&peer, t);
        assert_int_equal(send_hb(1, t), COLO_HB_OK);
        seq_next++;
        assert_true(colo_hb_peer_alive(&peer, t));
        assert_false(colo_hb_peer_dead(&peer, t));
    }
    assert_false(colo_hb_path_alive(&peer, 0, t));
    assert_true(colo_hb_path_alive(&peer, 1, t));
    assert_int_equal(peer.stalls, 0);
    assert_int_equal(peer.path[1].lost, 0);
    assert_int_equal(peer.path[1].rx, 1 + 10 * MISS);

    /* And the other way round: only the replication link. */
    reset();
    t = 5000;
    colo_hb_tick(&peer, t);
    for (unsigned i = 0; i < 10 * MISS; i++, t += PERIOD_MS * 1000) {
        colo_hb_tick(&peer, t);
        assert_int_equal(send_hb(0, t), COLO_HB_OK);
        seq_next++;
        assert_true(colo_hb_peer_alive(&peer, t));
        assert_false(colo_hb_path_alive(&peer, 1, t));
    }
}

static void test_both_silent_dead(void **state)
{
    (void)state;
    reset();
    uint64_t t0 = 2000000;
    colo_hb_tick(&peer, t0);
    assert_int_equal(send_hb(0, t0), COLO_HB_OK);
    assert_int_equal(send_hb(1, t0 + 300), COLO_HB_OK); /* the service LAN is a little later */

    /* Ticking on every period: alive through the whole window, dead just after it. */
    uint64_t t = t0;
    while (t + PERIOD_MS * 1000 <= t0 + WINDOW_US) {
        t += PERIOD_MS * 1000;
        colo_hb_tick(&peer, t);
    }
    assert_true(colo_hb_path_alive(&peer, 0, t0 + WINDOW_US));
    assert_false(colo_hb_path_alive(&peer, 0, t0 + WINDOW_US + 1));
    assert_true(colo_hb_peer_alive(&peer, t0 + WINDOW_US + 1)); /* path 1 still in its window */
    assert_false(colo_hb_peer_dead(&peer, t0 + 300 + WINDOW_US));
    assert_true(colo_hb_peer_dead(&peer, t0 + 300 + WINDOW_US + 1));
    assert_false(colo_hb_peer_alive(&peer, t0 + 300 + WINDOW_US + 1));
    colo_hb_tick(&peer, t0 + 300 + WINDOW_US + 1);
    assert_true(colo_hb_peer_dead(&peer, t0 + 300 + WINDOW_US + 1));
    assert_int_equal(peer.stalls, 0);

    /* It comes back: one heartbeat on either path is enough (a new one: the same again is a
     * replay, test_forged_and_replayed). */
    seq_next++;
    assert_int_equal(send_hb(1, t0 + 2 * WINDOW_US), COLO_HB_OK);
    assert_false(colo_hb_peer_dead(&peer, t0 + 2 * WINDOW_US));

    /* The window is the one the peer advertises: its miss raised to 10 at run time (ours stays
     * 3) keeps it alive for ten periods; lowered to 1, one period and a microsecond kill it. */
    uint64_t t2 = t0 + 2 * WINDOW_US;
    peer_miss = 10;
    seq_next++;
    assert_int_equal(send_hb(1, t2), COLO_HB_OK);
    assert_int_equal(colo_hb_peer_window_us(&peer), 10 * PERIOD_MS * 1000);
    assert_true(colo_hb_peer_alive(&peer, t2 + 10 * PERIOD_MS * 1000));
    assert_true(colo_hb_peer_dead(&peer, t2 + 10 * PERIOD_MS * 1000 + 1));
    peer_miss = 1;
    peer_period = 20;
    seq_next++;
    assert_int_equal(send_hb(1, t2), COLO_HB_OK);
    assert_true(colo_hb_peer_alive(&peer, t2 + 20 * 1000));
    assert_true(colo_hb_peer_dead(&peer, t2 + 20 * 1000 + 1));
    /* Before anything is heard, our own settings stand in for the peer's. */
    reset();
    assert_int_equal(colo_hb_peer_window_us(&peer), WINDOW_US);
}

static void test_never_heard(void **state)
{
    (void)state;
    reset();
    for (uint64_t t = 0; t < 100 * WINDOW_US; t += PERIOD_MS * 1000) {
        colo_hb_tick(&peer, t);
        assert_false(colo_hb_peer_dead(&peer, t));
        assert_false(colo_hb_peer_alive(&peer, t));
    }
    assert_false(peer.heard_any);

    /* Only refused datagrams: still never heard. */
    uint8_t junk[COLO_HB_LEN] = {0};
    assert_int_equal(colo_hb_rx(&peer, 0, junk, sizeof(junk), 1, 1), COLO_HB_E_MAGIC);
    assert_int_equal(send_seq(1, 1, 2, 'a', 1), COLO_HB_E_PEER);
    assert_false(colo_hb_peer_dead(&peer, 100 * WINDOW_US));
    assert_false(peer.heard_any);
    assert_int_equal(peer.path[0].bad, 1);
    assert_int_equal(peer.path[1].bad, 1);

    /* init clamps a zero period or miss. */
    colo_hb_peer_init(&peer, 'a', 0, 0, SELF_BOOT, NULL);
    assert_int_equal(peer.period_ms, 1);
    assert_int_equal(peer.miss, 1);
    assert_int_equal(peer.peer_board, 'a');
}

static void test_stall_restarts_window(void **state)
{
    (void)state;
    reset();
    uint64_t t = 10000000;
    colo_hb_tick(&peer, t);
    assert_int_equal(send_hb(0, t), COLO_HB_OK);
    assert_int_equal(send_hb(1, t), COLO_HB_OK);
    seq_next++;

    /* Frozen (SIGSTOP, debugger) for ten windows. Before the first tick after the thaw the
     * timestamps say dead; the tick knows better. */
    uint64_t thaw = t + 10 * WINDOW_US;
    assert_true(colo_hb_peer_dead(&peer, thaw));
    colo_hb_tick(&peer, thaw);
    assert_int_equal(peer.stalls, 1);
    assert_false(colo_hb_peer_dead(&peer, thaw));
    assert_true(colo_hb_path_alive(&peer, 0, thaw + WINDOW_US));
    assert_true(colo_hb_path_alive(&peer, 1, thaw + WINDOW_US));

    /* The peer really is gone: after a fresh window it is declared dead after all. */
    for (uint64_t u = thaw; u <= thaw + WINDOW_US + PERIOD_MS * 1000; u += PERIOD_MS * 1000) {
        colo_hb_tick(&peer, u);
    }
    assert_int_equal(peer.stalls, 1);
    assert_true(colo_hb_peer_dead(&peer, thaw + WINDOW_US + 1));

    /* A tick gap of exactly the window is not a stall; one microsecond more is. */
    reset();
    colo_hb_tick(&peer, 0);
    colo_hb_tick(&peer, WINDOW_US);
    assert_int_equal(peer.stalls, 0);
    colo_hb_tick(&peer, 2 * WINDOW_US + 1);
    assert_int_equal(peer.stalls, 1);
    /* The first tick has nothing to compare with, whenever it comes. */
    reset();
    colo_hb_tick(&peer, 1000 * WINDOW_US);
    assert_int_equal(peer.stalls, 0);

    /* A path already dead when we stalled stays dead; the live one gets its fresh window. */
    reset();
    t = 1000;
    colo_hb_tick(&peer, t);
    assert_int_equal(send_hb(0, t), COLO_HB_OK);
    assert_int_equal(send_hb(1, t), COLO_HB_OK);
    seq_next++;
    for (unsigned i = 0; i < 2 * MISS; i++) {
        t += PERIOD_MS * 1000;
        colo_hb_tick(&peer, t);
        assert_int_equal(send_hb(0, t), COLO_HB_OK); /* path 1 has gone quiet */
        seq_next++;
    }
    assert_false(colo_hb_path_alive(&peer, 1, t));
    uint64_t path1_rx = peer.path[1].last_rx_us;
    thaw = t + 5 * WINDOW_US;
    colo_hb_tick(&peer, thaw);
    assert_int_equal(peer.stalls, 1);
    assert_true(colo_hb_path_alive(&peer, 0, thaw));
    assert_false(colo_hb_path_alive(&peer, 1, thaw));
    assert_int_equal(peer.path[1].last_rx_us, path1_rx);

    /* A peer dead before we stalled is not revived by the stall. */
    reset();
    colo_hb_tick(&peer, 0);
    assert_int_equal(send_hb(0, 0), COLO_HB_OK);
    for (t = 0; t <= 2 * WINDOW_US; t += PERIOD_MS * 1000) {
        colo_hb_tick(&peer, t);
    }
    assert_true(colo_hb_peer_dead(&peer, t));
    colo_hb_tick(&peer, t + 10 * WINDOW_US);
    assert_int_equal(peer.stalls, 1);
    assert_true(colo_hb_peer_dead(&peer, t + 10 * WINDOW_US));
}

static void test_sequence(void **state)
{
    (void)state;
    reset();
    uint64_t t = 0;
    /* The first heartbeat of a path counts nothing lost, whatever its number. */
    assert_int_equal(send_seq(0, 100, t, 'b', 0), COLO_HB_OK);
    assert_int_equal(peer.path[0].lost, 0);
    assert_int_equal(send_seq(0, 101, t += 1000, 'b', 0), COLO_HB_OK);
    assert_int_equal(send_seq(0, 105, t += 1000, 'b', 0), COLO_HB_OK); /* 102..104 lost */
    assert_int_equal(peer.path[0].lost, 3);
    /* A duplicate, and a late copy lower than the last: refused (a replay proves nothing),
     * `last` and the path's mark kept, nothing lost. */
    uint64_t rx_before = peer.path[0].last_rx_us;
    assert_int_equal(send_seq(0, 105, t += 1000, 'b', 0), COLO_HB_E_REPLAY);
    assert_int_equal(peer.path[0].lost, 3);
    assert_int_equal(peer.last.seq, 105);
    assert_int_equal(send_seq(0, 103, t += 1000, 'b', 0), COLO_HB_E_REPLAY);
    assert_int_equal(peer.path[0].last_rx_us, rx_before);
    assert_int_equal(peer.path[0].bad, 2);
    assert_int_equal(peer.path[0].last_seq, 105);
    assert_int_equal(peer.last.seq, 105);
    assert_int_equal(send_seq(0, 106, t += 1000, 'b', 0), COLO_HB_OK);
    assert_int_equal(peer.path[0].lost, 3);
    assert_int_equal(peer.restarts, 0);

    /* The peer restarted: a new boot_id, even with a higher seq, replaces `last`, counts once,
     * and numbers begin again for the gap count. */
    peer_boot = PEER_BOOT + 1;
    assert_int_equal(send_seq(0, 200, t += 1000, 'b', 0), COLO_HB_OK);
    assert_int_equal(peer.restarts, 1);
    assert_int_equal(peer.last.boot_id, PEER_BOOT + 1);
    assert_int_equal(peer.path[0].lost, 3);
    peer_boot = PEER_BOOT + 2;
    assert_int_equal(send_seq(0, 1, t += 1000, 'b', 0), COLO_HB_OK);
    assert_int_equal(peer.restarts, 2);
    assert_int_equal(peer.path[0].last_seq, 1);
    assert_int_equal(peer.path[0].lost, 3);
    assert_int_equal(peer.last.seq, 1);
    assert_int_equal(peer.last.epoch, 0);
    assert_int_equal(send_seq(0, 3, t += 1000, 'b', 0), COLO_HB_OK);
    assert_int_equal(peer.path[0].lost, 4);
    assert_int_equal(peer.path[0].rx, 7);
    assert_int_equal(peer.path[1].lost, 0); /* per path */
    /* A copy of the boot before, late on the slower path, is refused: not a third restart. */
    peer_boot = PEER_BOOT + 1;
    assert_int_equal(send_seq(1, 201, t += 1000, 'b', 1), COLO_HB_E_OLD_BOOT);
    assert_int_equal(peer.restarts, 2);
    assert_int_equal(peer.last.boot_id, PEER_BOOT + 2);
    assert_int_equal(peer.path[1].bad, 1);
    /* And one of the first boot, two restarts back (a replay of an older boot): refused too. */
    peer_boot = PEER_BOOT;
    assert_int_equal(send_seq(1, 500, t += 1000, 'b', 1), COLO_HB_E_OLD_BOOT);
    assert_int_equal(peer.restarts, 2);
    peer_boot = PEER_BOOT + 2;

    /* Round 10 comes in on both paths, the service LAN's copy after round 11 on the
     * replication link: the late copy counts on its path but does not roll `last` back. */
    assert_int_equal(send_seq(0, 10, t += 1000, 'b', 0), COLO_HB_OK);
    assert_int_equal(send_seq(0, 11, t += 1000, 'b', 0), COLO_HB_OK);
    assert_int_equal(send_seq(1, 10, t += 1000, 'b', 1), COLO_HB_OK);
    assert_int_equal(peer.last.seq, 11);
    assert_int_equal(peer.last.path, 0);
    assert_int_equal(peer.path[1].rx, 1);
    assert_int_equal(peer.path[1].last_rx_us, t);
}

static void test_refused(void **state)
{
    (void)state;
    reset();
    uint64_t t = 0;
    colo_hb_tick(&peer, t);
    assert_int_equal(send_hb(0, t), COLO_HB_OK);
    assert_int_equal(send_hb(1, t), COLO_HB_OK);
    seq_next++;
    struct colo_hb_peer before = peer;

    /* Long after, only refused datagrams come in: our own looped back, one sent on the other
     * path, a damaged one. None refreshes a window, `last` or the offset. */
    t += 2 * WINDOW_US;
    assert_int_equal(send_seq(0, seq_next, t, 'a', 0), COLO_HB_E_PEER);
    assert_int_equal(send_seq(1, seq_next, t, 'b', 0), COLO_HB_E_WRONG_PATH);
    assert_int_equal(send_seq(0, seq_next, t, 'b', 1), COLO_HB_E_WRONG_PATH);
    uint8_t b[COLO_HB_LEN];
    struct colo_hb h = {.board = 'b', .seq = seq_next, .boot_id = 1, .period_ms = 1, .miss = 1};
    assert_int_equal(colo_hb_encode(b, sizeof(b), &h, KEY), COLO_HB_LEN);
    b[20] ^= 1;
    assert_int_equal(colo_hb_rx(&peer, 0, b, sizeof(b), t, 0), COLO_HB_E_AUTH);
    assert_int_equal(colo_hb_rx(&peer, 1, b, 10, t, 0), COLO_HB_E_LENGTH);
    /* Arrived on no path we know: refused, counted nowhere. */
    b[20] ^= 1;
    assert_int_equal(colo_hb_rx(&peer, 2, b, sizeof(b), t, 0), COLO_HB_E_WRONG_PATH);

    assert_int_equal(peer.path[0].bad, 3);
    assert_int_equal(peer.path[1].bad, 2);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(peer.path[i].rx, before.path[i].rx);
        assert_int_equal(peer.path[i].last_rx_us, before.path[i].last_rx_us);
        assert_int_equal(peer.path[i].last_seq, before.path[i].last_seq);
        assert_int_equal(peer.path[i].lost, 0);
        assert_false(colo_hb_path_alive(&peer, i, t));
    }
    assert_hb_equal(&peer.last, &before.last);
    assert_int_equal(peer.clock_offset_ticks, before.clock_offset_ticks);
    assert_true(colo_hb_peer_dead(&peer, t));
    assert_false(colo_hb_path_alive(&peer, 2, t));
}

static void test_clock_offset(void **state)
{
    (void)state;
    reset();
    uint8_t b[COLO_HB_LEN];
    struct colo_hb h = {.path = 0,
                        .board = 'b',
                        .seq = 1,
                        .ticks = 5000,
                        .boot_id = 7,
                        .period_ms = 1,
                        .miss = 1,
                        .echo_boot = SELF_BOOT};
    assert_int_equal(colo_hb_encode(b, sizeof(b), &h, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 0, b, sizeof(b), 10, 3000), COLO_HB_OK);
    assert_int_equal(peer.clock_offset_ticks, 2000);

    /* The latest sample, negative when the peer's counter is behind ours. */
    h.seq = 2;
    h.ticks = 1000;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &h, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 0, b, sizeof(b), 20, 4500), COLO_HB_OK);
    assert_int_equal(peer.clock_offset_ticks, -3500);

    /* Across a wrap of either counter. */
    h.seq = 3;
    h.ticks = 5;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &h, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 0, b, sizeof(b), 30, UINT64_MAX - 4), COLO_HB_OK);
    assert_int_equal(peer.clock_offset_ticks, 10);
    h.seq = 4;
    h.ticks = UINT64_MAX;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &h, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 0, b, sizeof(b), 40, 2), COLO_HB_OK);
    assert_int_equal(peer.clock_offset_ticks, -3);

    /* The urgent path's copy of that round: life (the path is refreshed), but its ticks are the
     * round's, so the offset stays; a forged round with other ticks is refused. */
    assert_true(colo_hb_again(b, sizeof(b), KEY));
    assert_int_equal(colo_hb_rx(&peer, 0, b, sizeof(b), 50, 1000), COLO_HB_OK);
    assert_int_equal(peer.clock_offset_ticks, -3);
    assert_int_equal(peer.path[0].last_rx_us, 50);
    h.seq = 5;
    h.ticks = 1u << 30;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &h, OTHER_KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 0, b, sizeof(b), 60, 2), COLO_HB_E_AUTH);
    assert_int_equal(peer.clock_offset_ticks, -3);
}

/* A peer heard, then an attacker on the LAN: heartbeats sealed with another key or only with
 * the CRC, the last good one sent again later, a copy sent twice, one of the peer's previous
 * boot, one that does not echo our boot carrying TAKEOVER. None refreshes a path, `last` or the
 * clock offset, none counts as a restart, and the peer is declared dead after its window. */
static void test_forged_and_replayed(void **state)
{
    (void)state;
    reset();
    uint64_t t = 1000000;
    colo_hb_tick(&peer, t);
    struct colo_hb h = {.path = 1,
                        .role = COLO_HB_ROLE_PRIMARY,
                        .board = 'b',
                        .flags = COLO_HB_F_GUEST_RUNNING | COLO_HB_F_PROTECTED,
                        .seq = 1,
                        .ticks = 777,
                        .boot_id = PEER_BOOT,
                        .period_ms = PERIOD_MS,
                        .miss = MISS,
                        .echo_boot = SELF_BOOT};
    uint8_t good[COLO_HB_LEN], b[COLO_HB_LEN];
    assert_int_equal(colo_hb_encode(good, sizeof(good), &h, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 1, good, sizeof(good), t, 700), COLO_HB_OK);
    /* The peer restarts (PEER_BOOT + 1): PEER_BOOT is an older boot from now on. */
    h.boot_id = PEER_BOOT + 1;
    uint8_t newer[COLO_HB_LEN];
    assert_int_equal(colo_hb_encode(newer, sizeof(newer), &h, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 1, newer, sizeof(newer), t, 700), COLO_HB_OK);
    assert_int_equal(peer.restarts, 1);
    struct colo_hb_peer before = peer;

    /* The forger's datagram: the worst flags, the largest seq, another clock. */
    struct colo_hb evil = h;
    evil.flags = COLO_HB_F_GUEST_RUNNING | COLO_HB_F_TAKEOVER;
    evil.seq = 1ull << 63;
    evil.ticks = 1ull << 40;
    t += 2 * WINDOW_US / 3;
    colo_hb_tick(&peer, t);
    assert_int_equal(colo_hb_encode(b, sizeof(b), &evil, OTHER_KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 1, b, sizeof(b), t, 0), COLO_HB_E_AUTH);
    assert_int_equal(colo_hb_encode(b, sizeof(b), &evil, NULL), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 1, b, sizeof(b), t, 0), COLO_HB_E_AUTH);
    /* The same bytes again: a replay. The older boot's: refused as such. */
    assert_int_equal(colo_hb_rx(&peer, 1, newer, sizeof(newer), t, 0), COLO_HB_E_REPLAY);
    assert_int_equal(colo_hb_rx(&peer, 1, good, sizeof(good), t, 0), COLO_HB_E_OLD_BOOT);
    /* Authentic but about a boot of ours that no longer exists (or 0: before it heard us). */
    evil.seq = 2;
    evil.echo_boot = SELF_BOOT - 1;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &evil, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 1, b, sizeof(b), t, 0), COLO_HB_E_ECHO);
    evil.echo_boot = 0;
    evil.seq = 3;
    evil.path = 0;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &evil, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 0, b, sizeof(b), t, 0), COLO_HB_E_ECHO);
    assert_int_equal(peer.path[1].stale_echo + peer.path[0].stale_echo, 2);
    assert_int_equal(peer.path[1].bad, 4);

    assert_hb_equal(&peer.last, &before.last);
    assert_int_equal(peer.clock_offset_ticks, before.clock_offset_ticks);
    assert_int_equal(peer.restarts, 1);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(peer.path[i].rx, before.path[i].rx);
        assert_int_equal(peer.path[i].last_rx_us, before.path[i].last_rx_us);
        assert_int_equal(peer.path[i].last_seq, before.path[i].last_seq);
    }
    /* Liveness was not extended: dead once the window since the real one is over. */
    t = before.path[1].last_rx_us + WINDOW_US + 1;
    colo_hb_tick(&peer, t);
    assert_true(colo_hb_peer_dead(&peer, t));

    /* A good one still works; its urgent copy too, once; the copy again is a replay. */
    h.seq = 2;
    assert_int_equal(colo_hb_encode(b, sizeof(b), &h, KEY), COLO_HB_LEN);
    assert_int_equal(colo_hb_rx(&peer, 1, b, sizeof(b), t, 0), COLO_HB_OK);
    assert_false(colo_hb_peer_dead(&peer, t));
    assert_true(colo_hb_again(b, sizeof(b), KEY));
    assert_int_equal(colo_hb_rx(&peer, 1, b, sizeof(b), t + 10, 0), COLO_HB_OK);
    assert_int_equal(colo_hb_rx(&peer, 1, b, sizeof(b), t + 20, 0), COLO_HB_E_REPLAY);
    assert_int_equal(peer.path[1].last_rx_us, t + 10);
    assert_int_equal(peer.last.seq, 2);
    /* colo_hb_again refuses what it cannot vouch for: another key's datagram. */
    assert_false(colo_hb_again(b, sizeof(b), OTHER_KEY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_one_path_keeps_alive),
        cmocka_unit_test(test_both_silent_dead),
        cmocka_unit_test(test_never_heard),
        cmocka_unit_test(test_stall_restarts_window),
        cmocka_unit_test(test_sequence),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_clock_offset),
        cmocka_unit_test(test_forged_and_replayed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
