// SPDX-License-Identifier: Apache-2.0
// COLO heartbeats: the datagram codec and the peer-liveness tracker (colo_hb.h).
#include <string.h>

#include <colo/hb.h>
#include <colo/proto.h>

#include "colo_util.h"

/* Byte offsets in the datagram (the layout is drawn in colo_hb.h). */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_PATH = 6,
    OFF_ROLE = 7,
    OFF_FLAGS = 8,
    OFF_BOARD = 12,
    OFF_STATE = 13,
    OFF_RSVD0 = 14, /* 2 bytes */
    OFF_SEQ = 16,
    OFF_EPOCH = 24,
    OFF_TICKS = 32,
    OFF_BOOT = 40,
    OFF_TERM = 48,
    OFF_REP_BOOT = 56,
    OFF_PERIOD = 64,
    OFF_MISS = 68,
    OFF_AGAIN = 72,
    OFF_RSVD1 = 76, /* 4 bytes */
    OFF_ECHO = 80,
    OFF_SEAL = 88, /* COLO_HB_TAG_LEN bytes */
};

static const char *const err_names[] = {
    [COLO_HB_OK] = "ok",
    [COLO_HB_E_LENGTH] = "bad length",
    [COLO_HB_E_MAGIC] = "bad magic",
    [COLO_HB_E_VERSION] = "bad version",
    [COLO_HB_E_CRC] = "CRC mismatch",
    [COLO_HB_E_AUTH] = "authentication failed",
    [COLO_HB_E_PATH] = "bad path",
    [COLO_HB_E_ROLE] = "bad role",
    [COLO_HB_E_FLAGS] = "unknown flags",
    [COLO_HB_E_RESERVED] = "reserved bytes set",
    [COLO_HB_E_BOARD] = "bad board id",
    [COLO_HB_E_FIELD] = "field out of range",
    [COLO_HB_E_PEER] = "not from the peer",
    [COLO_HB_E_WRONG_PATH] = "arrived on the wrong path",
    [COLO_HB_E_OLD_BOOT] = "from an earlier boot of the peer's",
    [COLO_HB_E_REPLAY] = "not newer than the last heard (a copy or a replay)",
    [COLO_HB_E_ECHO] = "does not echo this board's boot",
};

const char *colo_hb_err_name(enum colo_hb_err e)
{
    return (unsigned)e < ARRAY_SIZE(err_names) && err_names[e] ? err_names[e] : "?";
}

static bool board_ok(uint8_t b)
{
    return b == 'a' || b == 'b';
}

static bool fields_ok(uint64_t boot, unsigned state, uint32_t period, uint32_t miss)
{
    return boot != 0 && state <= COLO_HB_STATE_MAX && period >= 1 && period <= COLO_HB_PERIOD_MAX &&
           miss >= 1 && miss <= COLO_HB_MISS_MAX;
}

/* The seal of bytes 0..OFF_SEAL (colo_util.h). */
static void seal_of(const uint8_t *p, const uint8_t *key, uint8_t out[COLO_HB_TAG_LEN])
{
    colo_datagram_seal(p, OFF_SEAL, key, out, COLO_HB_TAG_LEN);
}

static bool seal_ok(const uint8_t *p, const uint8_t *key)
{
    uint8_t want[COLO_HB_TAG_LEN];
    seal_of(p, key, want);
    /* Constant time: a forger must not learn how many leading bytes of its guess were right. */
    return colo_port_ct_equal(want, p + OFF_SEAL, COLO_HB_TAG_LEN);
}

size_t colo_hb_encode(void *out, size_t cap, const struct colo_hb *h, const uint8_t *key)
{
    /* Refusing what decode would refuse keeps the two exact inverses: a board cannot send a
     * heartbeat its peer counts as bad. */
    if (cap < COLO_HB_LEN || h->path >= COLO_HB_PATHS || h->role > COLO_HB_ROLE_SECONDARY ||
        (h->flags & ~COLO_HB_F_ALL) || !board_ok(h->board) ||
        !fields_ok(h->boot_id, h->state, h->period_ms, h->miss)) {
        return 0;
    }
    uint8_t *p = out;
    memset(p, 0, COLO_HB_LEN);
    colo_put32(p + OFF_MAGIC, COLO_HB_MAGIC);
    colo_put16(p + OFF_VERSION, COLO_HB_VERSION);
    p[OFF_PATH] = h->path;
    p[OFF_ROLE] = h->role;
    colo_put32(p + OFF_FLAGS, h->flags);
    p[OFF_BOARD] = h->board;
    colo_put64(p + OFF_SEQ, h->seq);
    colo_put64(p + OFF_EPOCH, h->epoch);
    colo_put64(p + OFF_TICKS, h->ticks);
    p[OFF_STATE] = h->state;
    colo_put64(p + OFF_BOOT, h->boot_id);
    colo_put64(p + OFF_TERM, h->term);
    colo_put64(p + OFF_REP_BOOT, h->rep_boot);
    colo_put32(p + OFF_PERIOD, h->period_ms);
    colo_put32(p + OFF_MISS, h->miss);
    colo_put32(p + OFF_AGAIN, h->again);
    colo_put64(p + OFF_ECHO, h->echo_boot);
    seal_of(p, key, p + OFF_SEAL);
    return COLO_HB_LEN;
}

bool colo_hb_again(void *buf, size_t len, const uint8_t *key)
{
    struct colo_hb h;
    uint8_t *p = buf;
    if (colo_hb_decode(buf, len, &h, key) != COLO_HB_OK || h.again == UINT32_MAX) {
        return false;
    }
    colo_put32(p + OFF_AGAIN, h.again + 1);
    seal_of(p, key, p + OFF_SEAL);
    return true;
}

enum colo_hb_err colo_hb_decode(const void *buf, size_t len, struct colo_hb *h, const uint8_t *key)
{
    const uint8_t *p = buf;
    if (len != COLO_HB_LEN) {
        return COLO_HB_E_LENGTH;
    }
    /* Magic and version before the CRC: they tell "not ours" and "a newer peer" apart from
     * damage, which the operator fixes differently. */
    if (colo_get32(p + OFF_MAGIC) != COLO_HB_MAGIC) {
        return COLO_HB_E_MAGIC;
    }
    if (colo_get16(p + OFF_VERSION) != COLO_HB_VERSION) {
        return COLO_HB_E_VERSION;
    }
    if (!seal_ok(p, key)) {
        return key ? COLO_HB_E_AUTH : COLO_HB_E_CRC;
    }
    if (p[OFF_PATH] >= COLO_HB_PATHS) {
        return COLO_HB_E_PATH;
    }
    if (p[OFF_ROLE] > COLO_HB_ROLE_SECONDARY) {
        return COLO_HB_E_ROLE;
    }
    uint32_t flags = colo_get32(p + OFF_FLAGS);
    if (flags & ~COLO_HB_F_ALL) {
        return COLO_HB_E_FLAGS;
    }
    if (p[OFF_RSVD0] | p[OFF_RSVD0 + 1] || colo_get32(p + OFF_RSVD1)) {
        return COLO_HB_E_RESERVED;
    }
    if (!board_ok(p[OFF_BOARD])) {
        return COLO_HB_E_BOARD;
    }
    if (!fields_ok(colo_get64(p + OFF_BOOT), p[OFF_STATE], colo_get32(p + OFF_PERIOD),
                   colo_get32(p + OFF_MISS))) {
        return COLO_HB_E_FIELD;
    }
    h->path = p[OFF_PATH];
    h->role = p[OFF_ROLE];
    h->board = p[OFF_BOARD];
    h->flags = flags;
    h->seq = colo_get64(p + OFF_SEQ);
    h->epoch = colo_get64(p + OFF_EPOCH);
    h->ticks = colo_get64(p + OFF_TICKS);
    h->state = p[OFF_STATE];
    h->boot_id = colo_get64(p + OFF_BOOT);
    h->term = colo_get64(p + OFF_TERM);
    h->rep_boot = colo_get64(p + OFF_REP_BOOT);
    h->period_ms = colo_get32(p + OFF_PERIOD);
    h->miss = colo_get32(p + OFF_MISS);
    h->again = colo_get32(p + OFF_AGAIN);
    h->echo_boot = colo_get64(p + OFF_ECHO);
    return COLO_HB_OK;
}

/* ---- liveness tracker ---- */

/* period * miss in us, saturating: the product of two u32 fits in a u64, x1000 may not. */
static uint64_t win_us(uint32_t period, uint32_t miss)
{
    uint64_t ms = (uint64_t)MAX(period, 1u) * MAX(miss, 1u);
    return ms > UINT64_MAX / 1000u ? UINT64_MAX : ms * 1000u;
}

/* Our own window: how long our loop may go between ticks before we count ourselves stalled. */
static uint64_t window_us(const struct colo_hb_peer *p)
{
    return win_us(p->period_ms, p->miss);
}

uint64_t colo_hb_peer_window_us(const struct colo_hb_peer *p)
{
    return p->heard_any ? win_us(p->last.period_ms, p->last.miss) : window_us(p);
}

/* Time from `then` to `now`; 0 if now is earlier (a receive stamped after the query). */
static uint64_t since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

void colo_hb_peer_init(struct colo_hb_peer *p, char peer_board, uint32_t period_ms, uint32_t miss,
                       uint64_t self_boot, const uint8_t *key)
{
    memset(p, 0, sizeof(*p));
    p->peer_board = peer_board;
    p->self_boot = self_boot;
    p->key = key;
    p->period_ms = MAX(period_ms, 1u);
    p->miss = MAX(miss, 1u);
}

/* Where boot sits in the peer's boots, newest first; COLO_HB_BOOTS if it is not there. */
static unsigned boot_index(const struct colo_hb_peer *p, uint64_t boot)
{
    for (unsigned i = 0; i < COLO_HB_BOOTS; i++) {
        if (p->heard_boot[i] == boot) {
            return i;
        }
    }
    return COLO_HB_BOOTS;
}

/* An authentic heartbeat of boot, not an older one: a new boot becomes the newest (the oldest
 * is forgotten). */
static void boot_note(struct colo_hb_peer *p, uint64_t boot)
{
    if (boot_index(p, boot) != COLO_HB_BOOTS) {
        return;
    }
    memmove(&p->heard_boot[1], &p->heard_boot[0], (COLO_HB_BOOTS - 1) * sizeof(p->heard_boot[0]));
    p->heard_boot[0] = boot;
}

enum colo_hb_err colo_hb_rx(struct colo_hb_peer *p, unsigned path, const void *buf, size_t len,
                            uint64_t now_us, uint64_t now_ticks)
{
    if (path >= COLO_HB_PATHS) {
        return COLO_HB_E_WRONG_PATH;
    }
    struct colo_hb_path *hp = &p->path[path];
    struct colo_hb h;
    enum colo_hb_err err = colo_hb_decode(buf, len, &h, p->key);
    if (err == COLO_HB_OK && h.board != (uint8_t)p->peer_board) {
        /* Our own heartbeat looped back, or a third board on the LAN: not the peer's life. */
        err = COLO_HB_E_PEER;
    } else if (err == COLO_HB_OK && h.path != path) {
        err = COLO_HB_E_WRONG_PATH;
    } else if (err == COLO_HB_OK && boot_index(p, h.boot_id) > 0 &&
               boot_index(p, h.boot_id) < COLO_HB_BOOTS) {
        /* A copy from before the peer's restart, late on the slower path, or a replay of an
         * older boot's: taking it would make the peer seem to have restarted again, back into
         * a dead boot. */
        err = COLO_HB_E_OLD_BOOT;
    }
    bool same_boot = err == COLO_HB_OK && hp->heard && h.boot_id == hp->last_boot;
    if (same_boot &&
        (h.seq < hp->last_seq || (h.seq == hp->last_seq && h.again <= hp->last_again))) {
        /* Before keys, a copy refreshed the path (the urgent path's copies had the same seq).
         * A copy now carries a larger `again`, so a datagram that is not newer is someone
         * sending bytes it saw: it must not make a dead peer look alive. */
        err = COLO_HB_E_REPLAY;
    }
    if (err != COLO_HB_OK) {
        hp->bad++;
        return err;
    }
    boot_note(p, h.boot_id);
    if (h.echo_boot != p->self_boot) {
        /* Its boot id is noted above, so our next heartbeats echo it and the peer's next ones
         * echo us: this costs a round at boot. Not bad: every peer sends these at first. */
        hp->stale_echo++;
        return COLO_HB_E_ECHO;
    }

    if (same_boot && h.seq > hp->last_seq + 1) {
        uint64_t gap = h.seq - hp->last_seq - 1;
        hp->lost = hp->lost > UINT64_MAX - gap ? UINT64_MAX : hp->lost + gap;
    }
    hp->last_seq = h.seq;
    hp->last_again = h.again;
    hp->last_boot = h.boot_id;
    hp->last_rx_us = now_us;
    hp->heard = true;
    hp->rx++;

    /* A new boot replaces `last` whatever its seq; the same boot only moves it forward, and
     * only with a round: a copy says nothing new, and its ticks are from the round's time. */
    bool restart = p->heard_any && h.boot_id != p->last.boot_id;
    if (restart) {
        p->restarts++;
        p->old_boot = p->last.boot_id;
    }
    if (!p->heard_any || restart || (h.again == 0 && h.seq > p->last.seq)) {
        p->last = h;
        p->heard_any = true;
        /* Two's complement difference: the counters are free-running and may wrap. Only from
         * an authentic, echoing round: the guest's clock is set from it at a takeover. */
        p->clock_offset_ticks = (int64_t)(h.ticks - now_ticks);
    }
    return COLO_HB_OK;
}

void colo_hb_tick(struct colo_hb_peer *p, uint64_t now_us)
{
    uint64_t win = window_us(p);
    if (p->ticked && since(now_us, p->last_tick_us) > win) {
        p->stalls++;
        for (unsigned i = 0; i < COLO_HB_PATHS; i++) {
            struct colo_hb_path *hp = &p->path[i];
            /* Alive as of our last tick: we stopped listening, the peer may not have stopped
             * talking. */
            if (hp->heard && since(p->last_tick_us, hp->last_rx_us) <= colo_hb_peer_window_us(p)) {
                hp->last_rx_us = now_us;
            }
        }
    }
    p->ticked = true;
    p->last_tick_us = now_us;
}

bool colo_hb_path_alive(const struct colo_hb_peer *p, unsigned path, uint64_t now_us)
{
    if (path >= COLO_HB_PATHS || !p->path[path].heard) {
        return false;
    }
    return since(now_us, p->path[path].last_rx_us) <= colo_hb_peer_window_us(p);
}

bool colo_hb_peer_alive(const struct colo_hb_peer *p, uint64_t now_us)
{
    return colo_hb_path_alive(p, COLO_HB_PATH_REPL, now_us) ||
           colo_hb_path_alive(p, COLO_HB_PATH_SERVICE, now_us);
}

bool colo_hb_peer_dead(const struct colo_hb_peer *p, uint64_t now_us)
{
    return p->heard_any && !colo_hb_peer_alive(p, now_us);
}
