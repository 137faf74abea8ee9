// SPDX-License-Identifier: Apache-2.0
// The COLO secondary (colo/colo_secondary.c) against a primary byte stream built with the
// encoder, delivered by a faulty transport: random chunking, cuts at and inside every message,
// flipped bytes, duplicated messages, messages of other epochs, handshake mismatches, bad pages,
// staging overflow, rejected device state. In every case the simulated VM must equal, byte for
// byte, the last checkpoint the secondary acknowledged with VMSTATE_LOADED.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cv/image.h>

#include <colo/secondary.h>
#include "host_console.h"

#define NPAGES 16u
#define STATE_LEN 64u
#define NCKPT 4u
#define PAGES_PER_MSG 5u
#define MAXMSGS 256u
#define STREAM_CAP (1u << 20)

/* ---- simulated VM: RAM array + a device-state blob that must start with "SIMS" ---- */
struct sim_vm {
    uint8_t ram[NPAGES][COLO_PAGE_SIZE];
    uint8_t state[STATE_LEN];
    bool paused;
};

static void sim_pause(void *ctx)
{
    ((struct sim_vm *)ctx)->paused = true;
}
static void sim_resume(void *ctx)
{
    ((struct sim_vm *)ctx)->paused = false;
}
static uint64_t sim_ram_pages(void *ctx)
{
    (void)ctx;
    return NPAGES;
}
static void sim_read_page(void *ctx, uint64_t pfn, void *buf)
{
    assert_true(pfn < NPAGES);
    memcpy(buf, ((struct sim_vm *)ctx)->ram[pfn], COLO_PAGE_SIZE);
}
static void sim_write_page(void *ctx, uint64_t pfn, const void *buf)
{
    struct sim_vm *v = ctx;
    assert_true(pfn < NPAGES);
    assert_true(v->paused);
    memcpy(v->ram[pfn], buf, COLO_PAGE_SIZE);
}
static bool sim_load_state(void *ctx, const void *buf, size_t len)
{
    struct sim_vm *v = ctx;
    assert_true(v->paused);
    if (len != STATE_LEN || memcmp(buf, "SIMS", 4) != 0) {
        return false;
    }
    memcpy(v->state, buf, STATE_LEN);
    return true;
}

static struct sim_vm vm;
static const struct colo_vm sim_ops = {
    .pause = sim_pause,
    .resume = sim_resume,
    .ram_pages = sim_ram_pages,
    .read_page = sim_read_page,
    .write_page = sim_write_page,
    .load_state = sim_load_state,
    .ctx = &vm,
};

/* ---- the transport: records what the secondary sends ---- */
static uint8_t out[65536];
static size_t out_len;
static bool closed;

static bool tr_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    assert_false(closed);
    assert_true(out_len + len <= sizeof(out));
    memcpy(out + out_len, buf, len);
    out_len += len;
    return true;
}
static void tr_close(void *ctx)
{
    (void)ctx;
    closed = true;
}
static const struct colo_transport tr = {.send = tr_send, .close = tr_close};

/* ---- the primary's stream and the checkpoints it describes ---- */
struct stream {
    uint8_t buf[STREAM_CAP];
    size_t len;
    unsigned n;
    size_t off[MAXMSGS], mlen[MAXMSGS];
    uint16_t type[MAXMSGS];
    uint64_t epoch[MAXMSGS];
    unsigned ckpts_through[MAXMSGS]; /* checkpoints complete once message i is delivered */
};

struct opts {
    unsigned bad_page_ckpt;  /* send a page number outside RAM in this checkpoint */
    unsigned bad_state_ckpt; /* send device state the VM rejects (CRCs fine) */
    unsigned overflow_ckpt;  /* send this checkpoint's pages as RAM_SYNC, like an overflow */
    bool input;              /* INPUT frames while each checkpoint is made and after it */
};

static struct stream S;
/* Sealed sessions (the link authenticated): the stream and the replies are sealed. */
static bool sealed_mode;
static struct colo_seal build_tx;
static const uint8_t key_p2s[COLO_KEY_LEN] = {1, 2, 3};
static const uint8_t key_s2p[COLO_KEY_LEN] = {4, 5, 6};
static const struct colo_session_keys sec_keys = {.tx = {4, 5, 6}, .rx = {1, 2, 3}};
#define TX (sealed_mode ? &build_tx : NULL)
static uint8_t exp_ram[NCKPT + 1][NPAGES][COLO_PAGE_SIZE];
static uint8_t exp_state[NCKPT + 1][STATE_LEN];
static uint32_t rng_state;

static uint32_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static struct colo_hello local_hello(void)
{
    struct colo_hello h = {.ver_min = 1,
                           .ver_max = 1,
                           .caps = 0,
                           .board = "qemu-virt-arm64",
                           .ram_bytes = NPAGES * COLO_PAGE_SIZE,
                           .devset_id = 0x1234};
    for (unsigned i = 0; i < COLO_IMAGE_ID_LEN; i++) {
        h.image_id[i] = (uint8_t)(i * 7);
    }
    return h;
}

static void add(struct stream *s, size_t n, unsigned done)
{
    assert_true(n > 0 && s->n < MAXMSGS);
    s->off[s->n] = s->len;
    s->mlen[s->n] = n;
    s->type[s->n] = colo_get16(s->buf + s->len + 6);
    s->epoch[s->n] = colo_get64(s->buf + s->len + 8);
    s->ckpts_through[s->n] = done;
    s->n++;
    s->len += n;
}

static uint8_t *tail(struct stream *s)
{
    return s->buf + s->len;
}

static size_t room(const struct stream *s)
{
    return STREAM_CAP - s->len;
}

/* An INPUT message whose frame names its position in the stream (to check replay order). */
static void add_input(struct stream *s, uint64_t epoch, unsigned done)
{
    uint8_t f[60] = {0};
    snprintf((char *)f, sizeof(f), "frame %u of epoch %llu", s->n, (unsigned long long)epoch);
    add(s, colo_encode(TX, tail(s), room(s), COLO_MSG_INPUT, epoch, f, sizeof(f)), done);
}

static void build(const struct opts *o, const struct colo_hello *hello)
{
    static uint8_t pram[NPAGES][COLO_PAGE_SIZE];
    uint8_t pstate[STATE_LEN] = "SIMS";
    struct stream *s = &S;
    memset(s, 0, sizeof(*s));
    memset(pram, 0, sizeof(pram));
    memset(exp_ram[0], 0, sizeof(exp_ram[0]));
    memcpy(exp_state[0], pstate, STATE_LEN);
    rng_state = 42;
    if (sealed_mode) {
        colo_seal_init(&build_tx, key_p2s);
    }

    add(s, colo_encode_hello(TX, tail(s), room(s), 0, hello), 0);
    for (unsigned e = 1; e <= NCKPT; e++) {
        uint64_t pfns[NPAGES];
        uint32_t n = 0;
        for (unsigned p = 0; p < NPAGES; p++) {
            if (e == 1 || rnd() % 3 == 0 || (o && o->overflow_ckpt == e)) {
                for (unsigned k = 0; k < COLO_PAGE_SIZE; k += 64) {
                    pram[p][k] = (uint8_t)rnd();
                }
                pfns[n++] = p;
            }
        }
        for (unsigned k = 4; k < STATE_LEN; k++) {
            pstate[k] = (uint8_t)rnd();
        }
        memcpy(exp_ram[e], pram, sizeof(pram));
        memcpy(exp_state[e], pstate, STATE_LEN);
        if (o && o->bad_page_ckpt == e) {
            pfns[n - 1] = NPAGES;
        }
        uint8_t state[STATE_LEN];
        memcpy(state, pstate, STATE_LEN);
        if (o && o->bad_state_ckpt == e) {
            state[0] = 'X';
        }

        add(s, colo_encode(TX, tail(s), room(s), COLO_MSG_CHECKPOINT_REQUEST, e, NULL, 0), e - 1);
        bool overflow = o && o->overflow_ckpt == e;
        /* An overflow: the primary holds its guest and sends the dirty set as RAM_SYNC after
         * CHECKPOINT_REPLY; what it stages afterwards (nothing: the guest was held) follows. */
        for (uint32_t i = 0; overflow && i < n; i += PAGES_PER_MSG) {
            static uint8_t data[PAGES_PER_MSG][COLO_PAGE_SIZE];
            uint32_t c = MIN(PAGES_PER_MSG, n - i);
            for (uint32_t j = 0; j < c; j++) {
                memcpy(data[j], pram[pfns[i + j] % NPAGES], COLO_PAGE_SIZE);
            }
            add(s,
                colo_encode_pages(TX, tail(s), room(s), COLO_MSG_RAM_SYNC, e, pfns + i, data[0], c),
                e - 1);
        }
        if (overflow) {
            n = 0;
        }
        add(s, colo_encode(TX, tail(s), room(s), COLO_MSG_VMSTATE_SEND, e, NULL, 0), e - 1);
        if (o && o->input) {
            /* Received after checkpoint e's pause: it belongs to checkpoint e + 1. */
            add_input(s, e + 1, e - 1);
        }
        uint32_t crc = 0;
        for (uint32_t i = 0; i < n; i += PAGES_PER_MSG) {
            static uint8_t data[PAGES_PER_MSG][COLO_PAGE_SIZE];
            uint32_t c = MIN(PAGES_PER_MSG, n - i);
            for (uint32_t j = 0; j < c; j++) {
                memcpy(data[j], pram[pfns[i + j] % NPAGES], COLO_PAGE_SIZE);
            }
            size_t m = colo_encode_ram_pages(TX, tail(s), room(s), e, pfns + i, data[0], c);
            crc = crc32c(crc, tail(s) + COLO_HDR_SIZE, colo_get32(tail(s) + 16));
            add(s, m, e - 1);
        }
        add(s, colo_encode_heartbeat(TX, tail(s), room(s), e, 1000 * e), e - 1);
        for (unsigned off = 0; off < STATE_LEN; off += 40) {
            uint32_t c = MIN(40u, STATE_LEN - off);
            size_t m = colo_encode(TX, tail(s), room(s), COLO_MSG_DEVICE_STATE, e, state + off, c);
            crc = crc32c(crc, state + off, c);
            add(s, m, e - 1);
        }
        struct colo_vmstate_size v = {.state_bytes = STATE_LEN, .page_count = n, .crc = crc};
        add(s, colo_encode_vmstate_size(TX, tail(s), room(s), e, &v), e);
        if (o && o->input) {
            add_input(s, e + 1, e);
        }
    }
    add(s, colo_encode(TX, tail(s), room(s), COLO_MSG_GUEST_SHUTDOWN, NCKPT, NULL, 0), NCKPT);
}

/* ---- running the secondary ---- */
static struct colo_secondary sec;
static uint64_t stage_pfns[NPAGES * 2];
static uint8_t stage_data[NPAGES * 2][COLO_PAGE_SIZE];
static uint8_t stage_state[256];
static uint8_t undo_data[NPAGES][COLO_PAGE_SIZE];
static uint64_t undo_pfns[NPAGES], undo_map[(NPAGES + 63) / 64];
static uint64_t undo_pages = NPAGES; /* what start() gives the secondary */
static uint8_t input_mem[4096];
static size_t input_cap; /* what start() gives the secondary: 0, no input log */

static void start(uint32_t stage_pages)
{
    memcpy(vm.ram, exp_ram[0], sizeof(vm.ram));
    memcpy(vm.state, exp_state[0], STATE_LEN);
    vm.paused = false;
    out_len = 0;
    closed = false;
    struct colo_hello me = local_hello();
    me.caps = COLO_CAP_INPUT; /* offered only with a log */
    struct colo_sec_config cfg = {
        .local = me,
        .stage_pfns = stage_pfns,
        .stage_data = stage_data[0],
        .stage_pages = stage_pages,
        .stage_state = stage_state,
        .stage_state_cap = sizeof(stage_state),
        .undo_data = undo_data[0],
        .undo_pfns = undo_pfns,
        .undo_map = undo_map,
        .undo_pages = undo_pages,
        .input_mem = input_cap ? input_mem : NULL,
        .input_cap = input_cap,
        .keys = sealed_mode ? &sec_keys : NULL,
    };
    colo_secondary_init(&sec, &sim_ops, &tr, &cfg);
}

static void feed(const uint8_t *p, size_t len, unsigned seed)
{
    rng_state = seed;
    while (len) {
        size_t c = rnd() % 4 == 0 ? 1 + rnd() % 16 : 1 + rnd() % 20000;
        c = MIN(c, len);
        bool alive = colo_secondary_rx(&sec, p, c);
        assert_int_equal(alive, !closed);
        p += c;
        len -= c;
    }
}

/* What the secondary said: the highest epoch it acknowledged as loaded, and the ABORT reason. */
static uint64_t acked(uint32_t *abort_reason)
{
    static struct colo_decoder d;
    colo_dec_init(&d);
    if (sealed_mode) {
        colo_dec_set_key(&d, key_s2p);
    }
    uint64_t last = 0;
    *abort_reason = COLO_ABORT_NONE;
    const uint8_t *p = out;
    size_t len = out_len;
    while (len) {
        size_t used;
        struct colo_msg m;
        enum colo_dec_result r = colo_dec_feed(&d, p, len, &used, &m);
        assert_int_not_equal(r, COLO_DEC_ERROR);
        p += used;
        len -= used;
        if (r == COLO_DEC_MORE) {
            break;
        }
        if (m.type == COLO_MSG_VMSTATE_LOADED) {
            assert_int_equal(m.epoch, last + 1);
            last = m.epoch;
        } else if (m.type == COLO_MSG_ABORT) {
            struct colo_abort a;
            assert_int_equal(colo_parse_abort(&m, &a), COLO_OK);
            *abort_reason = a.reason;
        }
    }
    assert_int_equal(len, 0);
    return last;
}

/* The invariant: the VM is exactly the last acknowledged checkpoint. Returns that epoch. */
static uint64_t check_vm(void)
{
    uint32_t reason;
    uint64_t e = acked(&reason);
    assert_true(e <= NCKPT);
    assert_int_equal(sec.st.epoch, e);
    assert_int_equal(sec.st.checkpoints, e);
    assert_memory_equal(vm.ram, exp_ram[e], sizeof(vm.ram));
    assert_memory_equal(vm.state, exp_state[e], STATE_LEN);
    return e;
}

static void run(const uint8_t *p, size_t len, unsigned seed)
{
    start(NPAGES * 2);
    feed(p, len, seed);
    colo_secondary_conn_lost(&sec);
    assert_true(closed);
}

static uint8_t work[STREAM_CAP + 65536];

static void test_clean_random_chunks(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    for (unsigned seed = 1; seed <= 30; seed++) {
        run(S.buf, S.len, seed);
        assert_int_equal(check_vm(), NCKPT);
        assert_int_equal(sec.st.state, COLO_SEC_CLOSED);
        assert_int_equal(sec.st.reason, COLO_ABORT_SHUTDOWN);
        assert_int_equal(sec.st.role, COLO_ROLE_SECONDARY);
        assert_int_equal(sec.st.last_state_bytes, STATE_LEN);
        assert_int_equal(sec.st.bytes_rx, S.len);
        assert_int_equal(sec.st.bytes_tx, out_len);
    }
    /* The replies, in order: HELLO_ACK, CHECKPOINT_READY, then per checkpoint REPLY,
     * RECEIVED, LOADED. */
    static struct colo_decoder d;
    colo_dec_init(&d);
    if (sealed_mode) {
        colo_dec_set_key(&d, key_s2p);
    }
    static const uint16_t want[] = {COLO_MSG_HELLO_ACK, COLO_MSG_CHECKPOINT_READY};
    const uint8_t *p = out;
    size_t len = out_len;
    for (unsigned i = 0; i < 2 + 3 * NCKPT; i++) {
        size_t used;
        struct colo_msg m;
        assert_int_equal(colo_dec_feed(&d, p, len, &used, &m), COLO_DEC_MSG);
        p += used;
        len -= used;
        if (i < 2) {
            assert_int_equal(m.type, want[i]);
            assert_int_equal(m.epoch, 0);
        } else {
            static const uint16_t per[] = {COLO_MSG_CHECKPOINT_REPLY, COLO_MSG_VMSTATE_RECEIVED,
                                           COLO_MSG_VMSTATE_LOADED};
            assert_int_equal(m.type, per[(i - 2) % 3]);
            assert_int_equal(m.epoch, (i - 2) / 3 + 1);
        }
    }
    assert_int_equal(len, 0);
}

static void test_cut_everywhere(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    unsigned runs = 0;
    for (unsigned i = 0; i < S.n; i++) {
        size_t offs[] = {0,
                         1,
                         COLO_HDR_SIZE - 1,
                         COLO_HDR_SIZE,
                         COLO_HDR_SIZE + 1,
                         S.mlen[i] / 2,
                         S.mlen[i] - 1};
        for (unsigned k = 0; k < ARRAY_SIZE(offs); k++) {
            if (offs[k] >= S.mlen[i]) {
                continue;
            }
            run(S.buf, S.off[i] + offs[k], i * 7 + k);
            uint64_t e = check_vm();
            assert_int_equal(e, i ? S.ckpts_through[i - 1] : 0);
            assert_int_equal(sec.st.state, COLO_SEC_FAILED);
            assert_int_equal(sec.st.reason, COLO_ABORT_CONN_LOST);
            runs++;
        }
    }
    assert_true(runs > 100);
}

static void test_flip_byte(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    for (unsigned i = 0; i < S.n; i++) {
        size_t pos[] = {
            0, 5, 6, 9, 17, 21, COLO_HDR_SIZE, COLO_HDR_SIZE + 3, S.mlen[i] / 2, S.mlen[i] - 1};
        for (unsigned k = 0; k < ARRAY_SIZE(pos); k++) {
            if (pos[k] >= S.mlen[i]) {
                continue;
            }
            memcpy(work, S.buf, S.len);
            work[S.off[i] + pos[k]] ^= 0x5a;
            run(work, S.len, i + k);
            uint64_t e = check_vm();
            assert_int_equal(e, i ? S.ckpts_through[i - 1] : 0);
            assert_int_equal(sec.st.state, COLO_SEC_FAILED);
            uint32_t reason;
            acked(&reason);
            /* sealed: a header that no longer parses fails as framing, the rest by the tag */
            if (sealed_mode && pos[k] >= COLO_HDR_SIZE) {
                assert_int_equal(reason, COLO_ABORT_AUTH);
            } else if (sealed_mode) {
                /* a longer length: the tag is still awaited when the connection drops */
                assert_true(reason == COLO_ABORT_DECODE || reason == COLO_ABORT_AUTH ||
                            (reason == COLO_ABORT_NONE && pos[k] >= 16 && pos[k] < 20));
            } else {
                assert_int_equal(reason, COLO_ABORT_DECODE);
            }
        }
    }
}

static void test_duplicate_message(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    for (unsigned i = 0; i < S.n; i++) {
        size_t end = S.off[i] + S.mlen[i];
        memcpy(work, S.buf, end);
        memcpy(work + end, S.buf + S.off[i], S.mlen[i]);
        memcpy(work + end + S.mlen[i], S.buf + end, S.len - end);
        run(work, S.len + S.mlen[i], i);
        uint64_t e = check_vm();
        if (S.type[i] == COLO_MSG_HEARTBEAT || S.type[i] == COLO_MSG_GUEST_SHUTDOWN) {
            assert_int_equal(e, NCKPT);
            assert_int_equal(sec.st.state, COLO_SEC_CLOSED);
        } else {
            assert_int_equal(e, S.ckpts_through[i]);
            assert_int_equal(sec.st.state, COLO_SEC_FAILED);
        }
    }
}

/* The same streams sealed: whole, cut anywhere, flipped anywhere. */
static void test_sealed_clean(void **state)
{
    sealed_mode = true;
    test_clean_random_chunks(state);
    sealed_mode = false;
}

static void test_sealed_cut_everywhere(void **state)
{
    sealed_mode = true;
    test_cut_everywhere(state);
    sealed_mode = false;
}

static void test_sealed_flip_byte(void **state)
{
    sealed_mode = true;
    test_flip_byte(state);
    sealed_mode = false;
}

/* Every bit of every small record, and of a sampled large one: the replica never moves. */
static void test_sealed_flip_every_bit(void **state)
{
    (void)state;
    sealed_mode = true;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    unsigned runs = 0;
    for (unsigned i = 0; i < S.n && i < 12; i++) {
        size_t step = S.mlen[i] > 512 ? S.mlen[i] / 97 : 1;
        for (size_t at = 0; at < S.mlen[i]; at += step) {
            for (unsigned bit = 0; bit<8; bit += step> 1 ? 3 : 1) {
                memcpy(work, S.buf, S.len);
                work[S.off[i] + at] ^= (uint8_t)(1u << bit);
                run(work, S.off[i] + S.mlen[i], (unsigned)(at * 8 + bit));
                uint64_t e = check_vm();
                assert_int_equal(e, i ? S.ckpts_through[i - 1] : 0);
                assert_int_equal(sec.st.state, COLO_SEC_FAILED);
                runs++;
            }
        }
    }
    assert_true(runs > 1000);
    sealed_mode = false;
}

/* A record again (replayed), two swapped (reordered), one from another session (spliced), a
 * plain one slipped in: each ends the session where it stands, nothing of it applied. */
static void test_sealed_replay_reorder_splice(void **state)
{
    (void)state;
    sealed_mode = true;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    static struct stream other;
    memcpy(&other, &S, sizeof(S));
    for (unsigned i = 0; i + 1 < S.n; i++) {
        size_t end = S.off[i] + S.mlen[i];
        /* replayed: message i twice */
        memcpy(work, S.buf, end);
        memcpy(work + end, S.buf + S.off[i], S.mlen[i]);
        memcpy(work + end + S.mlen[i], S.buf + end, S.len - end);
        run(work, S.len + S.mlen[i], i);
        assert_int_equal(check_vm(), S.ckpts_through[i]);
        assert_int_equal(sec.st.state, COLO_SEC_FAILED);
        assert_int_equal(sec.st.reason, COLO_ABORT_AUTH);
        /* reordered: i + 1 before i */
        size_t a = S.off[i], la = S.mlen[i], lb = S.mlen[i + 1];
        memcpy(work, S.buf, a);
        memcpy(work + a, S.buf + S.off[i + 1], lb);
        memcpy(work + a + lb, S.buf + a, la);
        memcpy(work + a + la + lb, S.buf + a + la + lb, S.len - a - la - lb);
        run(work, S.len, i + 1000);
        assert_int_equal(check_vm(), i ? S.ckpts_through[i - 1] : 0);
        assert_int_equal(sec.st.reason, COLO_ABORT_AUTH);
        /* dropped: i missing */
        memcpy(work, S.buf, a);
        memcpy(work + a, S.buf + a + la, S.len - a - la);
        run(work, S.len - la, i + 2000);
        assert_int_equal(check_vm(), i ? S.ckpts_through[i - 1] : 0);
        assert_int_equal(sec.st.reason, COLO_ABORT_AUTH);
        /* plain: the same message unsealed, in its place */
        memcpy(work, S.buf, a);
        size_t n = colo_encode(NULL, work + a, sizeof(work) - a, S.type[i], S.epoch[i], NULL, 0);
        if (n) {
            run(work, a + n, i + 3000);
            assert_int_equal(check_vm(), i ? S.ckpts_through[i - 1] : 0);
            assert_int_equal(sec.st.reason, COLO_ABORT_AUTH);
        }
    }
    /* spliced: a session under other keys: not even its first record is taken */
    colo_seal_init(&build_tx, key_s2p);
    size_t n = colo_encode_hello(&build_tx, work, sizeof(work), 0, &h);
    run(work, n, 7);
    assert_int_equal(check_vm(), 0);
    assert_int_equal(sec.st.reason, COLO_ABORT_AUTH);
    /* and a plain stream to a sealed session */
    sealed_mode = false;
    build(NULL, &h);
    sealed_mode = true;
    run(S.buf, S.len, 8);
    assert_int_equal(check_vm(), 0);
    assert_int_equal(sec.st.reason, COLO_ABORT_AUTH);
    sealed_mode = false;
}

static void test_other_epoch(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    static const int64_t delta[] = {1, -1, 2, 1ll << 40};
    for (unsigned i = 0; i < S.n; i++) {
        for (unsigned k = 0; k < ARRAY_SIZE(delta); k++) {
            uint64_t ep = S.epoch[i] + (uint64_t)delta[k];
            const uint8_t *m = S.buf + S.off[i];
            uint32_t plen = colo_get32(m + 16);
            memcpy(work, S.buf, S.off[i]);
            size_t n = colo_encode(NULL, work + S.off[i], sizeof(work) - S.off[i], S.type[i], ep,
                                   m + COLO_HDR_SIZE, plen);
            assert_int_equal(n, S.mlen[i]);
            size_t end = S.off[i] + S.mlen[i];
            memcpy(work + end, S.buf + end, S.len - end);
            run(work, S.len, i * 4 + k);
            uint64_t e = check_vm();
            if (S.type[i] == COLO_MSG_HEARTBEAT || S.type[i] == COLO_MSG_GUEST_SHUTDOWN) {
                assert_int_equal(e, NCKPT);
            } else {
                assert_int_equal(e, i ? S.ckpts_through[i - 1] : 0);
                uint32_t reason;
                acked(&reason);
                assert_int_equal(reason, COLO_ABORT_EPOCH);
            }
        }
    }
}

static void test_handshake_mismatch(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint32_t reason;
    } cases[] = {
        {"version", COLO_ABORT_VERSION}, {"board", COLO_ABORT_BOARD}, {"ram", COLO_ABORT_RAM_SIZE},
        {"devset", COLO_ABORT_DEVSET},   {"image", COLO_ABORT_IMAGE},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        struct colo_hello h = local_hello();
        switch (i) {
        case 0:
            h.ver_min = 2;
            h.ver_max = 3;
            break;
        case 1:
            strcpy(h.board, "rpi4");
            break;
        case 2:
            h.ram_bytes *= 2;
            break;
        case 3:
            h.devset_id++;
            break;
        default:
            h.image_id[31] ^= 1;
            break;
        }
        build(NULL, &h);
        host_console_clear();
        run(S.buf, S.len, i);
        assert_int_equal(check_vm(), 0);
        uint32_t reason;
        acked(&reason);
        assert_int_equal(reason, cases[i].reason);
        assert_int_equal(sec.st.reason, cases[i].reason);
        assert_int_equal(sec.st.state, COLO_SEC_FAILED);
        assert_int_equal(host_console_count(colo_abort_name(cases[i].reason)), 1);
        assert_int_equal(sec.st.bytes_rx, S.mlen[0]); /* nothing read past the HELLO */
    }
}

static void test_bad_page(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    struct opts o = {.bad_page_ckpt = 3};
    build(&o, &h);
    run(S.buf, S.len, 5);
    assert_int_equal(check_vm(), 2);
    assert_int_equal(sec.st.reason, COLO_ABORT_BAD_PAGE);
}

static void test_state_rejected(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    struct opts o = {.bad_state_ckpt = 2};
    build(&o, &h);
    run(S.buf, S.len, 6);
    assert_int_equal(check_vm(), 1);
    assert_int_equal(sec.st.reason, COLO_ABORT_STATE);
}

static void test_staging_overflow(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    start(NPAGES - 1); /* checkpoint 1 carries all NPAGES pages */
    feed(S.buf, S.len, 7);
    assert_int_equal(check_vm(), 0);
    assert_int_equal(sec.st.reason, COLO_ABORT_STAGING);
}

static void test_unexpected_and_peer_abort(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    /* RAM_PAGES of checkpoint 1 without its VMSTATE_SEND (message 2). */
    size_t end = S.off[2];
    memcpy(work, S.buf, end);
    memcpy(work + end, S.buf + S.off[3], S.len - S.off[3]);
    run(work, end + S.len - S.off[3], 8);
    assert_int_equal(check_vm(), 0);
    assert_int_equal(sec.st.reason, COLO_ABORT_PROTOCOL);

    /* The primary aborts in the middle of checkpoint 2: not answered, VM at 1. */
    unsigned i = 0;
    while (!(S.epoch[i] == 2 && S.type[i] == COLO_MSG_RAM_PAGES)) {
        i++;
    }
    memcpy(work, S.buf, S.off[i]);
    size_t n =
        colo_encode_abort(NULL, work + S.off[i], 4096, 2, COLO_ABORT_CHECKSUM, "disk on fire");
    host_console_clear();
    run(work, S.off[i] + n, 9);
    assert_int_equal(check_vm(), 1);
    assert_int_equal(sec.st.reason, COLO_ABORT_PEER);
    assert_int_equal(host_console_count("disk on fire"), 1);
    uint32_t reason;
    acked(&reason);
    assert_int_equal(reason, COLO_ABORT_NONE);
}

/* ---- overflow checkpoints: RAM_SYNC straight into the replica, undone unless committed ---- */
#define OVF 3u /* the overflowing checkpoint */

static void test_overflow_commits(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    struct opts o = {.overflow_ckpt = OVF};
    build(&o, &h);
    run(S.buf, S.len, 11);
    assert_int_equal(check_vm(), NCKPT);
    assert_int_equal(sec.st.reason, COLO_ABORT_SHUTDOWN);
    assert_int_equal(sec.st.overflow_checkpoints, 1);
    assert_true(sec.st.undo_pages > 0);
    assert_int_equal(sec.st.rollbacks, 0);
    assert_int_equal(sec.st.undo_log_bytes, NPAGES * COLO_PAGE_SIZE);
}

/* Every cut inside the overflow checkpoint, from its CHECKPOINT_REQUEST to its VMSTATE_SIZE:
 * the replica must be checkpoint OVF - 1 and still usable. */
static void test_overflow_cut_everywhere(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    struct opts o = {.overflow_ckpt = OVF};
    build(&o, &h);
    unsigned runs = 0, syncs = 0;
    for (unsigned i = 0; i < S.n; i++) {
        if (S.epoch[i] != OVF || S.type[i] == COLO_MSG_HEARTBEAT) {
            continue;
        }
        syncs += S.type[i] == COLO_MSG_RAM_SYNC;
        for (size_t off = 0; off < S.mlen[i]; off += 1 + S.mlen[i] / 7) {
            run(S.buf, S.off[i] + off, i * 3 + (unsigned)off);
            assert_int_equal(check_vm(), OVF - 1);
            assert_true(sec.st.replica);
            assert_int_equal(sec.st.reason, COLO_ABORT_CONN_LOST);
            runs++;
        }
    }
    assert_true(syncs >= 3);
    assert_true(runs > 20);
    /* Cut just after the last RAM_SYNC went in: the whole dirty set was in the replica. */
    assert_true(sec.st.rollbacks == 1);
}

/* A flipped byte anywhere in the overflow checkpoint, a rejected device state, a peer ABORT, a
 * checksum mismatch: the checkpoint never commits and the replica goes back. */
static void test_overflow_rejected(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    struct opts o = {.overflow_ckpt = OVF};
    build(&o, &h);
    for (unsigned i = 0; i < S.n; i++) {
        if (S.epoch[i] != OVF || S.type[i] == COLO_MSG_HEARTBEAT) {
            continue;
        }
        size_t pos[] = {6, 9, COLO_HDR_SIZE + 3, S.mlen[i] / 2, S.mlen[i] - 1};
        for (unsigned k = 0; k < ARRAY_SIZE(pos); k++) {
            if (pos[k] >= S.mlen[i]) {
                continue;
            }
            memcpy(work, S.buf, S.len);
            work[S.off[i] + pos[k]] ^= 0x5a;
            run(work, S.len, i + k);
            assert_int_equal(check_vm(), OVF - 1);
            assert_true(sec.st.replica);
        }
    }

    struct opts bad = {.overflow_ckpt = OVF, .bad_state_ckpt = OVF};
    build(&bad, &h);
    run(S.buf, S.len, 12);
    assert_int_equal(check_vm(), OVF - 1);
    assert_int_equal(sec.st.reason, COLO_ABORT_STATE);
    assert_true(sec.st.replica);
    assert_int_equal(sec.st.rollbacks, 1);

    /* The primary aborts after the overflow's pages went in. */
    build(&o, &h);
    unsigned i = 0;
    while (!(S.epoch[i] == OVF && S.type[i] == COLO_MSG_VMSTATE_SEND)) {
        i++;
    }
    memcpy(work, S.buf, S.off[i]);
    size_t n = colo_encode_abort(NULL, work + S.off[i], 4096, OVF, COLO_ABORT_PROTOCOL, "dying");
    run(work, S.off[i] + n, 13);
    assert_int_equal(check_vm(), OVF - 1);
    assert_int_equal(sec.st.reason, COLO_ABORT_PEER);
    assert_true(sec.st.replica);
    assert_int_equal(sec.st.rollbacks, 1);
    assert_int_equal(sec.st.overflow_checkpoints, 0);
}

/* ---- the input log: what a takeover replays ---- */
static char replayed[16][64];
static unsigned nreplayed;

static void collect(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    assert_int_equal(len, 60);
    assert_true(nreplayed < ARRAY_SIZE(replayed));
    memcpy(replayed[nreplayed++], frame, len);
}

/* After the stream was cut anywhere, a takeover replays exactly the INPUT frames delivered
 * whole whose epoch is past the replica's, in order: none the replica already holds. */
static void test_input_replay_cut_everywhere(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    h.caps = COLO_CAP_INPUT;
    struct opts o = {.input = true};
    build(&o, &h);
    input_cap = sizeof(input_mem);
    unsigned with_frames = 0;
    for (unsigned i = 0; i < S.n; i++) {
        for (unsigned whole = 0; whole < 2; whole++) {
            size_t cut = S.off[i] + (whole ? S.mlen[i] : S.mlen[i] / 2);
            run(S.buf, cut, i);
            uint64_t e = check_vm();
            unsigned want = 0;
            char exp[16][64];
            for (unsigned j = 0; j < S.n && S.off[j] + S.mlen[j] <= cut; j++) {
                if (S.type[j] == COLO_MSG_INPUT && S.epoch[j] > e) {
                    snprintf(exp[want++], 64, "frame %u of epoch %llu", j,
                             (unsigned long long)S.epoch[j]);
                }
            }
            nreplayed = 0;
            assert_int_equal(colo_input_replay(&sec.input, e, collect, NULL), want);
            assert_int_equal(nreplayed, want);
            for (unsigned k = 0; k < want; k++) {
                assert_string_equal(replayed[k], exp[k]);
            }
            with_frames += want > 0;
            /* The log is spent: a second takeover has nothing to give. */
            assert_int_equal(colo_input_replay(&sec.input, e, collect, NULL), 0);
        }
    }
    assert_true(with_frames > 4);
    input_cap = 0;
}

/* INPUT a correct primary never sends ends the session; the replica stays where it was. */
static void test_input_refused(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    h.caps = COLO_CAP_INPUT;
    struct opts o = {.input = true};
    build(&o, &h);
    unsigned first = 0;
    while (S.type[first] != COLO_MSG_INPUT) {
        first++;
    }
    static const struct {
        int64_t delta; /* added to the message's epoch */
        bool log;      /* the secondary has an input log (and so agrees the capability) */
        const char *why;
    } cases[] = {{0, false, "not agreed"},
                 {-2, true, "the replica's own epoch (it holds that frame)"},
                 {1, true, "two past the checkpoint in flight"},
                 {1ll << 40, true, "far ahead"}};
    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        memcpy(work, S.buf, S.len);
        colo_put64(work + S.off[first] + 8, S.epoch[first] + (uint64_t)cases[k].delta);
        colo_put32(work + S.off[first] + 20, 0);
        colo_put32(work + S.off[first] + 20, crc32c(0, work + S.off[first], COLO_HDR_SIZE));
        input_cap = cases[k].log ? sizeof(input_mem) : 0;
        host_console_clear();
        run(work, S.len, k);
        assert_int_equal(host_console_count("(not agreed)"), !cases[k].log);
        assert_int_equal(check_vm(), S.ckpts_through[first]);
        assert_int_equal(sec.st.reason, COLO_ABORT_PROTOCOL);
        uint32_t reason;
        acked(&reason);
        assert_int_equal(reason, COLO_ABORT_PROTOCOL);
        (void)cases[k].why;
    }
    /* A frame of an epoch before the last one logged (the primary's tags never go back). */
    unsigned second = first + 1;
    while (S.type[second] != COLO_MSG_INPUT) {
        second++;
    }
    assert_int_equal(S.epoch[second], S.epoch[first]);
    memcpy(work, S.buf, S.len);
    colo_put64(work + S.off[first] + 8, S.epoch[first] + 1);
    colo_put32(work + S.off[first] + 20, 0);
    colo_put32(work + S.off[first] + 20, crc32c(0, work + S.off[first], COLO_HDR_SIZE));
    input_cap = sizeof(input_mem);
    run(work, S.len, 5);
    assert_int_equal(sec.st.reason, COLO_ABORT_PROTOCOL);
    /* A full log drops frames (the client retransmits them) and the session goes on. */
    input_cap = 100; /* room for one 60-byte frame */
    run(S.buf, S.len, 6);
    assert_int_equal(sec.st.state, COLO_SEC_CLOSED);
    assert_int_equal(check_vm(), NCKPT);
    assert_true(sec.input.st.dropped > 0);
    assert_int_equal(sec.input.st.logged + sec.input.st.dropped, 2 * NCKPT);
    input_cap = 0;
}

static void test_undo_area_too_small(void **state)
{
    (void)state;
    struct colo_hello h = local_hello();
    build(NULL, &h);
    undo_pages = NPAGES - 1;
    host_console_clear();
    run(S.buf, S.len, 14);
    undo_pages = NPAGES;
    assert_int_equal(check_vm(), 0);
    assert_int_equal(sec.st.reason, COLO_ABORT_STAGING);
    assert_non_null(strstr(sec.st.reason_text, "undo area of 15 pages cannot hold the 16 pages"));
    uint32_t reason;
    acked(&reason);
    assert_int_equal(reason, COLO_ABORT_STAGING);
    assert_int_equal(sec.st.bytes_rx, S.mlen[0]); /* refused at the HELLO */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_random_chunks),
        cmocka_unit_test(test_cut_everywhere),
        cmocka_unit_test(test_flip_byte),
        cmocka_unit_test(test_duplicate_message),
        cmocka_unit_test(test_sealed_clean),
        cmocka_unit_test(test_sealed_cut_everywhere),
        cmocka_unit_test(test_sealed_flip_byte),
        cmocka_unit_test(test_sealed_flip_every_bit),
        cmocka_unit_test(test_sealed_replay_reorder_splice),
        cmocka_unit_test(test_other_epoch),
        cmocka_unit_test(test_handshake_mismatch),
        cmocka_unit_test(test_bad_page),
        cmocka_unit_test(test_state_rejected),
        cmocka_unit_test(test_staging_overflow),
        cmocka_unit_test(test_unexpected_and_peer_abort),
        cmocka_unit_test(test_overflow_commits),
        cmocka_unit_test(test_overflow_cut_everywhere),
        cmocka_unit_test(test_overflow_rejected),
        cmocka_unit_test(test_undo_area_too_small),
        cmocka_unit_test(test_input_replay_cut_everywhere),
        cmocka_unit_test(test_input_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
