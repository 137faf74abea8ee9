// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the pair decision (colo/colo_pair.c), the code that turns the peer's and
// the witnesses' datagrams into "run the guest" and "let its output go". Input: a header (bit 0:
// board 'a' or 'b'; bit 1: booted as primary; bits 2-3: witnesses 0..3), then records, each
// `op u8, delta u16` (the clock advances delta * 256 us), then by kind (op bits 0-3):
//   0, 1: a heartbeat on path op & 1: COLO_HB_LEN bytes; with op bit 4 the harness reseals the
//         CRC (so mutated fields reach the field checks), with bit 5 it first writes a valid
//         heartbeat from the peer built from the bytes (fields, echo_boot ours or not), so the
//         machine sees real ones (the machine runs unkeyed here: CRC seals);
//   2:    a witness reply from witness (op >> 4) & 3: COLO_WITNESS_LEN bytes, resealed with bit 6,
//         with bit 7 the nonce overwritten by the machine's current request's;
//   3:    tick;   4: session start;   5: session bytes;   6: committed, epoch u8;
//   7:    replica invalid;   8: session end, why u8 & 3;   9: guest shutdown;
//   10-13: colo start, stop, failover, peer-down;   14: heartbeat settings u16, u16.
//
// Checked after every record: the state is a named one and fits the heartbeat's field; a board
// lets output out freely only as a running primary, holds a replica only as a secondary; every
// heartbeat it sends encodes and every witness request decodes (it never sends what its peer or a
// witness would refuse); take_over is called only on an armed secondary, release_output only on a
// primary, connect only by a primary, and never two of take_over and fence in one step.
#include <string.h>

#include <colo/pair.h>
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct colo_pair P;

/* Up to n bytes of the input into b (the rest stays as it was). */
static void take(struct fz *f, uint8_t *b, size_t n)
{
    n = n < f->n ? n : f->n;
    memcpy(b, f->p, n);
    f->p += n;
    f->n -= n;
}
static bool was_armed;
static unsigned takeovers, fences;

static void o_hold(void *ctx)
{
    (void)ctx;
}
static void o_release(void *ctx)
{
    (void)ctx;
    FZ_CHECK(P.primary_role, "release_output on a secondary");
}
static void o_connect(void *ctx)
{
    (void)ctx;
    FZ_CHECK(P.primary_role, "connect by a secondary");
}
static void o_listen(void *ctx)
{
    (void)ctx;
}
static void o_end(void *ctx)
{
    (void)ctx;
}
static bool o_take_over(void *ctx, uint64_t epoch)
{
    (void)ctx;
    FZ_CHECK(was_armed && !P.primary_role, "take_over without an armed replica");
    FZ_CHECK(epoch == P.epoch, "take_over of another epoch");
    takeovers++;
    return (epoch & 7) != 7; /* sometimes the replica cannot be resumed */
}
static void o_fence(void *ctx)
{
    (void)ctx;
    fences++;
}
static void o_send_hb(void *ctx, const struct colo_hb *h)
{
    (void)ctx;
    struct colo_hb c = *h;
    uint8_t b[COLO_HB_LEN];
    for (uint8_t path = 0; path < 2; path++) {
        c.path = path;
        FZ_CHECK(colo_hb_encode(b, sizeof(b), &c, NULL) == COLO_HB_LEN,
                 "sent a heartbeat that does "
                 "not encode");
    }
}
static void o_send_witness(void *ctx, unsigned i, const void *buf, size_t len)
{
    (void)ctx;
    struct colo_wq q;
    FZ_CHECK(i < P.cfg.witnesses, "sent to witness %u of %u", i, P.cfg.witnesses);
    FZ_CHECK(colo_wq_decode(buf, len, &q, NULL) == COLO_WITNESS_OK,
             "sent a request a witness refuses");
}
static void o_event(void *ctx, const char *what, const char *why)
{
    (void)ctx;
    FZ_CHECK(what && why, "event without text");
}

static const struct colo_pair_ops ops = {o_hold,         o_release,   o_connect, o_listen,
                                         o_end,          o_take_over, o_fence,   o_send_hb,
                                         o_send_witness, o_event};

static void check_state(void)
{
    FZ_CHECK(P.state > COLO_PAIR_OFF && P.state < COLO_PAIR_STATES, "state %d", P.state);
    FZ_CHECK(P.state <= COLO_HB_STATE_MAX, "state does not fit the heartbeat");
    FZ_CHECK(strcmp(colo_pair_state_name(P.state), "?") != 0, "unnamed state");
    if (colo_pair_output_free(&P)) {
        FZ_CHECK(P.primary_role && colo_pair_runs_guest(&P), "free output off a running primary");
    }
    bool armed = P.state == COLO_PAIR_ARMED || P.state == COLO_PAIR_CLAIMING;
    FZ_CHECK(!armed || !P.primary_role, "a primary holds a replica");
    FZ_CHECK(!colo_pair_runs_guest(&P) || P.primary_role, "a secondary runs the guest");
    was_armed = armed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t hdr = fz_u8(&f);
    char board = hdr & 1 ? 'b' : 'a';
    struct colo_pair_cfg cfg = {.board = board,
                                .primary = (hdr & 2) != 0,
                                .auto_protect = true,
                                .boot_id = 0x1234,
                                .period_ms = 100,
                                .miss = 3,
                                .witnesses = (hdr >> 2) & 3,
                                .lease_ms = 300,
                                .pair_id = {2, 0, 0, 0, 0, 1},
                                .ops = &ops};
    uint64_t now = 1000000;
    takeovers = fences = 0;
    colo_pair_init(&P, &cfg, now);
    check_state();
    while (f.n) {
        uint8_t op = fz_u8(&f);
        now += (uint64_t)fz_u16(&f) * 256u;
        unsigned t0 = takeovers, f0 = fences;
        switch (op & 15) {
        case 0:
        case 1: {
            uint8_t b[COLO_HB_LEN];
            memset(b, 0, sizeof(b));
            take(&f, b, sizeof(b));
            if (op & 32) {
                struct fz g = {b, sizeof(b)};
                /* One field per statement: initialisers are evaluated in no fixed order. */
                struct colo_hb h = {.path = op & 1, .board = board == 'a' ? 'b' : 'a'};
                h.role = fz_u8(&g) & 1;
                h.flags = fz_u32(&g) & COLO_HB_F_ALL;
                h.seq = fz_u16(&g);
                h.epoch = fz_u8(&g);
                h.state = (uint8_t)(fz_u8(&g) % COLO_PAIR_STATES);
                h.boot_id = (fz_u8(&g) & 3u) + 1u;
                h.term = fz_u8(&g);
                uint8_t rb = fz_u8(&g);
                h.rep_boot = rb & 1 ? 0x1234 : rb >> 6;
                h.period_ms = 100;
                h.miss = 3;
                h.again = fz_u8(&g) & 3;
                h.echo_boot = rb & 2 ? 0 : 0x1234;
                colo_hb_encode(b, sizeof(b), &h, NULL);
            } else if (op & 16) {
                uint32_t c = colo_port_crc32c(0, b, COLO_HB_LEN - COLO_HB_TAG_LEN);
                memset(b + COLO_HB_LEN - COLO_HB_TAG_LEN, 0, COLO_HB_TAG_LEN);
                for (unsigned i = 0; i < 4; i++) {
                    b[COLO_HB_LEN - COLO_HB_TAG_LEN + i] = (uint8_t)(c >> (8 * i));
                }
            }
            colo_pair_hb_rx(&P, op & 1, b, sizeof(b), now, now * 24);
            break;
        }
        case 2: {
            uint8_t b[COLO_WITNESS_LEN];
            memset(b, 0, sizeof(b));
            take(&f, b, sizeof(b));
            if (op & 128) {
                for (unsigned i = 0; i < 8; i++) {
                    b[16 + i] = (uint8_t)(P.req.nonce >> (8 * i));
                }
            }
            if (op & 64) {
                uint32_t c = colo_port_crc32c(0, b, COLO_WITNESS_LEN - COLO_WITNESS_TAG_LEN);
                memset(b + COLO_WITNESS_LEN - COLO_WITNESS_TAG_LEN, 0, COLO_WITNESS_TAG_LEN);
                for (unsigned i = 0; i < 4; i++) {
                    b[COLO_WITNESS_LEN - COLO_WITNESS_TAG_LEN + i] = (uint8_t)(c >> (8 * i));
                }
            }
            colo_pair_witness_rx(&P, (op >> 4) & 3, b, sizeof(b), now);
            break;
        }
        case 3:
            colo_pair_tick(&P, now, now * 24);
            break;
        case 4:
            colo_pair_session_start(&P, now);
            break;
        case 5:
            colo_pair_session_rx(&P, now);
            break;
        case 6:
            colo_pair_session_committed(&P, fz_u8(&f), now);
            break;
        case 7:
            colo_pair_replica_invalid(&P, now);
            break;
        case 8:
            colo_pair_session_end(&P, (enum colo_pair_end)(fz_u8(&f) & 3), now);
            break;
        case 9:
            colo_pair_guest_shutdown(&P, now);
            break;
        case 10:
            colo_pair_start(&P, now);
            break;
        case 11:
            colo_pair_stop(&P, now);
            break;
        case 12:
            colo_pair_failover(&P, now);
            break;
        case 13:
            colo_pair_peer_down(&P, now);
            break;
        case 14:
            colo_pair_keepalive(&P, now, now * 24);
            break;
        default:
            colo_pair_set_hb(&P, fz_u16(&f), fz_u16(&f));
            break;
        }
        FZ_CHECK(!(takeovers != t0 && fences != f0), "took over and fenced in one step");
        check_state();
    }
    return 0;
}

/* ---- seeds ---- */

struct seed {
    uint8_t b[2048];
    size_t n;
};

static void put(struct seed *s, const void *p, size_t n)
{
    if (s->n + n <= sizeof(s->b)) {
        memcpy(s->b + s->n, p, n);
        s->n += n;
    }
}

static void rec(struct seed *s, uint8_t op, uint16_t delta)
{
    uint8_t h[3] = {op, (uint8_t)delta, (uint8_t)(delta >> 8)};
    put(s, h, 3);
}

/* A valid peer heartbeat built by the harness (op bit 5) from a few field bytes. */
static void peer_hb(struct seed *s, unsigned path, uint8_t role, uint32_t flags, uint16_t seq,
                    uint8_t state, uint8_t boot)
{
    uint8_t b[COLO_HB_LEN] = {0};
    b[0] = role;
    for (unsigned i = 0; i < 4; i++) {
        b[1 + i] = (uint8_t)(flags >> (8 * i));
    }
    b[5] = (uint8_t)seq;
    b[6] = (uint8_t)(seq >> 8);
    b[7] = 3;
    b[8] = state;
    b[9] = boot;
    b[11] = 1; /* rep_boot: us */
    rec(s, (uint8_t)(32 | path), 400);
    put(s, b, sizeof(b));
}

void fuzz_make_seeds(void)
{
    static struct seed s;
    /* A secondary armed by a session, then its primary goes silent and it takes over. */
    s.n = 0;
    uint8_t hdr = 1; /* 'b', secondary, no witness */
    put(&s, &hdr, 1);
    peer_hb(&s, 0, 0, COLO_HB_F_GUEST_RUNNING, 1, COLO_PAIR_ALONE, 0);
    rec(&s, 4, 10);
    rec(&s, 6, 10);
    uint8_t e = 5;
    put(&s, &e, 1);
    peer_hb(&s, 1, 0, COLO_HB_F_GUEST_RUNNING | COLO_HB_F_PROTECTED, 2, COLO_PAIR_PROTECTING, 0);
    for (unsigned i = 0; i < 8; i++) {
        rec(&s, 3, 400);
    }
    fuzz_write_seed("sec-takeover", s.b, s.n);

    /* A primary at boot hears a secondary with no replica, protects, loses it, is told to drop. */
    s.n = 0;
    hdr = 2 | (1 << 2); /* 'a', primary, one witness */
    put(&s, &hdr, 1);
    peer_hb(&s, 0, 1, COLO_HB_F_LISTENING, 1, COLO_PAIR_STANDBY, 0);
    rec(&s, 3, 400);
    rec(&s, 4, 10);
    rec(&s, 6, 10);
    put(&s, &e, 1);
    rec(&s, 8, 10);
    uint8_t why = 0;
    put(&s, &why, 1);
    peer_hb(&s, 1, 1, COLO_HB_F_DROPPED, 9, COLO_PAIR_STALE, 0);
    rec(&s, 3, 400);
    uint8_t w[COLO_WITNESS_LEN] = {0};
    rec(&s, 2 | 64 | 128, 10);
    put(&s, w, sizeof(w));
    rec(&s, 13, 10);
    rec(&s, 11, 10);
    fuzz_write_seed("pri-deciding", s.b, s.n);
}
