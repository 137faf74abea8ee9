// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the COLO wire codec (colo/colo_proto.c) and the secondary's state machine
// (colo/colo_secondary.c). Input: one mode byte, then the primary's byte stream. The mode picks
// the chunking; bit 0: the connection drops at the end; bit 1: no verification buffers (so the
// secondary must refuse COLO_CAP_VERIFY) and no input log (COLO_CAP_INPUT likewise); bit 2: a VM
// without describe_state; bit 4: a sealed session (the link authenticated: the harness seals each
// whole message of the stream with the session key in order, the secondary and every decoder here
// expect sealed records; with bit 3 the raw bytes meet the sealed decoder); bit 3: the stream
// as it is (otherwise the harness first makes every message's framing and CRCs valid, so that
// mutated epochs and payloads reach the state machine, colo_fuzz.h).
//
// Checked:
// - the decoder yields the same messages and the same error however the stream is chunked, only
//   of allowed lengths; every accepted HELLO_ACK, RAM_PAGES, RAM_SYNC, VERIFY, VMSTATE_SIZE,
//   HEARTBEAT and ABORT re-encodes to the very same bytes (ABORT: when its text was printable);
// - the strings decoded from the peer (ABORT text, HELLO board name) and the secondary's reason
//   text built from them hold printable ASCII only: a newline or escape could forge console lines;
// - what the secondary sends is one well-formed message per send, of a type it may send; its
//   HELLO_ACK agrees only capabilities the primary offered and it can serve, and announces its
//   staging;
// - the VM is read, written, hashed and loaded only in range and with the guest paused;
// - under verification, VMSTATE_LOADED only when every page hashes to what VERIFY said and the
//   device state survives a save; ABORT(diverged) only when one of them does not;
// - at the end, while the secondary claims a replica, the VM equals byte for byte its state when
//   the secondary last sent VMSTATE_LOADED (or the initial state), at that epoch (an overflow
//   checkpoint's RAM_SYNC is rolled back when the session ends uncommitted); without RAM_SYNC
//   or a diverged commit it equals it even without the claim (a checkpoint that is not complete
//   and verified never touches the VM);
// - the input log stays inside its memory, and holds only frames of epochs after the replica's
//   and at most two past it, oldest first, each replayed once.
// Seeds: a session with verification (handshake, pre-copy by RAM_SYNC, three checkpoints, the
// third with an overflow RAM_SYNC, shutdown) and its prefixes, one without verification, one of
// state-only checkpoints (a few hundred bytes: mutates well), two that diverge, an abort; all
// built with the encoder, the VERIFY hashes from a model of the replica.
#include <string.h>

#include <cv/image.h>

#include <colo/secondary.h>
#include "colo_fuzz.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPAGES 4u
#define STATE_LEN 16u
#define STATE_CAP 64u
/* A device-state byte that makes the simulated device lose state across a save (see sim_load). */
#define LOSSY_AT 5
#define LOSSY 0xd1

struct sim {
    uint8_t ram[NPAGES][COLO_PAGE_SIZE];
    uint8_t state[STATE_LEN];
    bool paused;
    bool lossy;
};

static struct sim vm, committed;
static uint64_t committed_epoch;
static bool closed;
static uint32_t hello_caps; /* what the stream's HELLO offers */
static struct colo_secondary sec;

static void sim_pause(void *ctx)
{
    ((struct sim *)ctx)->paused = true;
}
static void sim_resume(void *ctx)
{
    ((struct sim *)ctx)->paused = false;
}
static uint64_t sim_ram_pages(void *ctx)
{
    (void)ctx;
    return NPAGES;
}
static void sim_read_page(void *ctx, uint64_t pfn, void *buf)
{
    FZ_CHECK(pfn < NPAGES, "read of page %llu", (unsigned long long)pfn);
    memcpy(buf, ((struct sim *)ctx)->ram[pfn], COLO_PAGE_SIZE);
}
static void sim_write_page(void *ctx, uint64_t pfn, const void *buf)
{
    struct sim *v = ctx;
    FZ_CHECK(pfn < NPAGES, "write of page %llu", (unsigned long long)pfn);
    FZ_CHECK(v->paused, "page written while the guest runs");
    memcpy(v->ram[pfn], buf, COLO_PAGE_SIZE);
}
static bool sim_load_state(void *ctx, const void *buf, size_t len)
{
    struct sim *v = ctx;
    const uint8_t *b = buf;
    FZ_CHECK(v->paused, "state loaded while the guest runs");
    if (len != STATE_LEN || memcmp(buf, "SIMS", 4) != 0) {
        return false;
    }
    memcpy(v->state, buf, STATE_LEN);
    /* A device whose state does not survive a save/load round trip: what state verification is
     * there to find. */
    v->lossy = b[LOSSY_AT] == LOSSY;
    return true;
}
static size_t sim_save_state(void *ctx, void *buf, size_t cap)
{
    struct sim *v = ctx;
    FZ_CHECK(v->paused, "state saved while the guest runs");
    if (cap < STATE_LEN) {
        return 0;
    }
    memcpy(buf, v->state, STATE_LEN);
    if (v->lossy) {
        ((uint8_t *)buf)[STATE_LEN - 1] ^= 1;
    }
    return STATE_LEN;
}
static uint32_t sim_page_hash(void *ctx, uint64_t pfn)
{
    struct sim *v = ctx;
    FZ_CHECK(pfn < NPAGES, "hash of page %llu", (unsigned long long)pfn);
    FZ_CHECK(v->paused, "page hashed while the guest runs");
    return colo_page_hash(v->ram[pfn]);
}
static void sim_describe(void *ctx, const void *buf, size_t len, size_t off, char *out,
                         size_t outlen)
{
    (void)ctx;
    FZ_CHECK(buf == sec.cfg.stage_state && len <= STATE_CAP && off <= len && outlen > 0,
             "describe_state(%zu of %zu, %zu)", off, len, outlen);
    snprintf(out, outlen, "(sim +%zu) ", off);
}
/* Dirty logging is the primary's business: the secondary must never call these. */
static bool sim_log_start(void *ctx)
{
    (void)ctx;
    FZ_CHECK(false, "the secondary started dirty logging");
    return false;
}
static void sim_log_stop(void *ctx)
{
    (void)ctx;
    FZ_CHECK(false, "the secondary stopped dirty logging");
}
static uint64_t sim_harvest(void *ctx, uint64_t *bitmap)
{
    (void)ctx;
    (void)bitmap;
    FZ_CHECK(false, "the secondary harvested the dirty log");
    return 0;
}
static uint64_t sim_dirty_count(void *ctx)
{
    (void)ctx;
    FZ_CHECK(false, "the secondary read the dirty count");
    return 0;
}

#define SIM_OPS(describe)                                                                          \
    {                                                                                              \
        .pause = sim_pause, .resume = sim_resume, .ram_pages = sim_ram_pages,                      \
        .read_page = sim_read_page, .write_page = sim_write_page, .log_start = sim_log_start,      \
        .log_stop = sim_log_stop, .harvest = sim_harvest, .save_state = sim_save_state,            \
        .load_state = sim_load_state, .dirty_count = sim_dirty_count, .page_hash = sim_page_hash,  \
        .describe_state = (describe), .ctx = &vm                                                   \
    }
static const struct colo_vm ops = SIM_OPS(sim_describe), ops_plain = SIM_OPS(NULL);

/* Does the VM differ from what the received VERIFY hashes and the staged state say? */
static bool diverged(void)
{
    for (unsigned i = 0; i < NPAGES; i++) {
        if (colo_page_hash(vm.ram[i]) != sec.cfg.verify_hashes[i]) {
            return true;
        }
    }
    return vm.lossy;
}

static void check_printable(const char *s, size_t cap, const char *what)
{
    for (size_t i = 0; i < cap && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        FZ_CHECK(c >= 0x20 && c < 0x7f && c != '"', "%s byte %zu is 0x%02x", what, i, c);
    }
}

static bool payload_printable(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '"') {
            return false;
        }
    }
    return true;
}

static struct colo_decoder out_dec;
/* Sealed sessions (mode bit 4): the primary's key and the secondary's. */
static bool sealed;
static const uint8_t key_p2s[COLO_KEY_LEN] = {0x50, 0x32, 0x53};
static const struct colo_session_keys sec_keys = {.tx = {0x53, 0x32, 0x50},
                                                  .rx = {0x50, 0x32, 0x53}};

static bool tr_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    FZ_CHECK(!closed, "send after close");
    size_t used;
    struct colo_msg m;
    if (!sealed) {
        colo_dec_init(&out_dec); /* sealed: one decoder for the whole run (the numbering) */
    }
    enum colo_dec_result r = colo_dec_feed(&out_dec, buf, len, &used, &m);
    FZ_CHECK(r == COLO_DEC_MSG && used == len, "sent %zu bytes that are not one message (%s)", len,
             colo_err_name(out_dec.err));
    switch (m.type) {
    case COLO_MSG_HELLO_ACK: {
        struct colo_hello_ack a;
        FZ_CHECK(colo_parse_hello_ack(&m, &a) == COLO_OK && a.version == COLO_PROTO_VERSION,
                 "bad HELLO_ACK");
        uint32_t can = sec.cfg.local.caps;
        if (!sec.cfg.verify_hashes || !sec.cfg.verify_state) {
            can &= ~COLO_CAP_VERIFY;
        }
        if (!sec.cfg.input_cap) {
            can &= ~COLO_CAP_INPUT;
        }
        FZ_CHECK((a.caps & ~(hello_caps & can)) == 0, "caps %x agreed; offered %x, can %x", a.caps,
                 hello_caps, can);
        FZ_CHECK(a.stage_pages == NPAGES && a.stage_state == STATE_CAP, "staging %u/%u announced",
                 a.stage_pages, a.stage_state);
        break;
    }
    case COLO_MSG_VMSTATE_LOADED:
        FZ_CHECK(m.epoch == sec.st.epoch && sec.st.replica, "LOADED %llu at epoch %llu",
                 (unsigned long long)m.epoch, (unsigned long long)sec.st.epoch);
        FZ_CHECK(!(sec.st.caps & COLO_CAP_VERIFY) || !diverged(),
                 "checkpoint %llu committed though it differs from the primary's",
                 (unsigned long long)m.epoch);
        committed = vm; /* the commit point: what a failover would run from */
        committed_epoch = m.epoch;
        break;
    case COLO_MSG_ABORT: {
        struct colo_abort a;
        FZ_CHECK(colo_parse_abort(&m, &a) == COLO_OK, "bad ABORT");
        FZ_CHECK(a.reason != COLO_ABORT_DIVERGED ||
                     ((sec.st.caps & COLO_CAP_VERIFY) && diverged() && !sec.st.replica),
                 "divergence reported where there is none");
        break;
    }
    case COLO_MSG_CHECKPOINT_READY:
    case COLO_MSG_CHECKPOINT_REPLY:
    case COLO_MSG_VMSTATE_RECEIVED:
    case COLO_MSG_HEARTBEAT:
        break;
    default:
        FZ_CHECK(false, "the secondary sent %s", colo_msg_name(m.type));
    }
    return true;
}
static void tr_close(void *ctx)
{
    (void)ctx;
    closed = true;
}
static const struct colo_transport tr = {.send = tr_send, .close = tr_close};

static struct colo_hello local_hello(uint32_t caps)
{
    struct colo_hello h = {.ver_min = 1,
                           .ver_max = 1,
                           .caps = caps,
                           .board = "fuzz",
                           .ram_bytes = NPAGES * COLO_PAGE_SIZE,
                           .devset_id = 1};
    return h;
}

/* ---- decoder: chunking must not matter; what it accepts, the encoder writes the same way ---- */
struct trace {
    unsigned n;
    uint32_t sum;
    enum colo_err err;
};

static struct colo_decoder dec;
static uint8_t re[COLO_MAX_MSG];
static uint64_t re_pfns[COLO_PAGES_PER_MSG];
static uint8_t re_pages[COLO_PAGES_PER_MSG][COLO_PAGE_SIZE];
static uint32_t re_hashes[COLO_VERIFY_MAX];

static void check_reencode(const struct colo_msg *m)
{
    size_t n = 0;
    switch (m->type) {
    case COLO_MSG_HELLO_ACK: {
        struct colo_hello_ack a;
        if (colo_parse_hello_ack(m, &a) != COLO_OK) {
            return; /* reserved field set */
        }
        n = colo_encode_hello_ack(NULL, re, sizeof(re), m->epoch, &a);
        break;
    }
    case COLO_MSG_RAM_PAGES:
    case COLO_MSG_RAM_SYNC: {
        uint32_t count;
        if (colo_parse_ram_pages(m, &count) != COLO_OK) {
            return;
        }
        for (uint32_t i = 0; i < count; i++) {
            const uint8_t *d;
            colo_ram_page(m, i, &re_pfns[i], &d);
            memcpy(re_pages[i], d, COLO_PAGE_SIZE);
        }
        n = colo_encode_pages(NULL, re, sizeof(re), m->type, m->epoch, re_pfns, re_pages[0], count);
        break;
    }
    case COLO_MSG_VERIFY: {
        uint64_t first;
        uint32_t count;
        if (colo_parse_verify(m, &first, &count) != COLO_OK) {
            return;
        }
        for (uint32_t i = 0; i < count; i++) {
            re_hashes[i] = colo_verify_hash(m, i);
        }
        n = colo_encode_verify(NULL, re, sizeof(re), m->epoch, first, re_hashes, count);
        break;
    }
    case COLO_MSG_VMSTATE_SIZE: {
        struct colo_vmstate_size v;
        FZ_CHECK(colo_parse_vmstate_size(m, &v) == COLO_OK, "VMSTATE_SIZE refused");
        n = colo_encode_vmstate_size(NULL, re, sizeof(re), m->epoch, &v);
        break;
    }
    case COLO_MSG_HEARTBEAT:
        n = colo_encode_heartbeat(NULL, re, sizeof(re), m->epoch, colo_get64(m->payload));
        break;
    case COLO_MSG_ABORT: {
        struct colo_abort a;
        FZ_CHECK(colo_parse_abort(m, &a) == COLO_OK, "ABORT refused");
        check_printable(a.text, sizeof(a.text), "decoded ABORT text");
        if (!payload_printable(m->payload + 4, m->len - 4)) {
            return; /* decoding replaced bytes (a NUL among them): not the same text */
        }
        n = colo_encode_abort(NULL, re, sizeof(re), m->epoch, a.reason, a.text);
        break;
    }
    default:
        return; /* HELLO is not byte-exact: bytes after the board name's NUL are dropped */
    }
    if (sealed) { /* the framing differs (sealed): the content must be the same */
        FZ_CHECK(n >= COLO_HDR_SIZE + m->len &&
                     memcmp(re + 6, m->payload - COLO_HDR_SIZE + 6, 12) == 0 &&
                     memcmp(re + COLO_HDR_SIZE, m->payload, m->len) == 0,
                 "%s of %u bytes re-encodes differently", colo_msg_name(m->type), m->len);
        return;
    }
    size_t whole = COLO_HDR_SIZE + m->len + (m->len ? COLO_CRC_SIZE : 0);
    FZ_CHECK(n == whole && memcmp(re, m->payload - COLO_HDR_SIZE, n) == 0,
             "%s of %u bytes re-encodes differently (%zu bytes)", colo_msg_name(m->type), m->len,
             n);
}

static void decode_all(const uint8_t *p, size_t len, size_t chunk, struct trace *t, bool deep)
{
    colo_dec_init(&dec);
    if (sealed) {
        colo_dec_set_key(&dec, key_p2s);
    }
    memset(t, 0, sizeof(*t));
    while (len) {
        size_t c = chunk ? MIN(chunk, len) : len;
        size_t used;
        struct colo_msg m;
        enum colo_dec_result r = colo_dec_feed(&dec, p, c, &used, &m);
        FZ_CHECK(used <= c, "consumed %zu of %zu", used, c);
        p += used;
        len -= used;
        if (r == COLO_DEC_ERROR) {
            FZ_CHECK(dec.err != COLO_OK, "error without a reason");
            t->err = dec.err;
            return;
        }
        if (r == COLO_DEC_MSG) {
            FZ_CHECK(colo_len_ok(m.type, m.len), "%s of %u bytes accepted", colo_msg_name(m.type),
                     m.len);
            FZ_CHECK(m.payload >= dec.buf && m.payload + m.len <= dec.buf + sizeof(dec.buf),
                     "payload outside the buffer");
            if (deep) {
                struct colo_hello h;
                if (m.type == COLO_MSG_HELLO && colo_parse_hello(&m, &h) == COLO_OK) {
                    check_printable(h.board, sizeof(h.board), "decoded HELLO board");
                    if (t->n == 0) {
                        hello_caps = h.caps;
                    }
                }
                check_reencode(&m);
            }
            t->n++;
            t->sum = crc32c(t->sum, &m.type, sizeof(m.type));
            t->sum = crc32c(t->sum, &m.epoch, sizeof(m.epoch));
            t->sum = crc32c(t->sum, m.payload, m.len);
        } else {
            FZ_CHECK(used == c, "MORE but %zu of %zu consumed", used, c);
        }
    }
}

static uint8_t input[4u << 20];
static uint8_t sealed_input[4u << 20];

/* Seals every whole, well-framed plain message of s[0..n) in order into sealed_input; what
 * follows the last one is copied as it is. Returns the new length. */
static size_t seal_stream(const uint8_t *s, size_t n)
{
    struct colo_seal tx;
    colo_seal_init(&tx, key_p2s);
    size_t o = 0, out = 0;
    while (n - o >= COLO_HDR_SIZE) {
        size_t need;
        if (colo_header_check(s + o, false, &need) != COLO_OK || need > n - o) {
            break;
        }
        uint32_t len = colo_get32(s + o + 16);
        size_t m =
            colo_encode(&tx, sealed_input + out, sizeof(sealed_input) - out, colo_get16(s + o + 6),
                        colo_get64(s + o + 8), s + o + COLO_HDR_SIZE, len);
        if (!m) {
            break;
        }
        out += m;
        o += need;
    }
    size_t rest = MIN(n - o, sizeof(sealed_input) - out);
    memcpy(sealed_input + out, s + o, rest);
    return out + rest;
}
static uint64_t stage_pfns[NPAGES];
static uint8_t stage_data[NPAGES][COLO_PAGE_SIZE];
static uint8_t stage_state[STATE_CAP];
static uint8_t undo_data[NPAGES][COLO_PAGE_SIZE];
static uint64_t undo_pfns[NPAGES], undo_map[1];
static uint32_t verify_hashes[NPAGES];
static uint8_t verify_state[STATE_CAP];

static bool same(const struct sim *a, const struct sim *b)
{
    return memcmp(a->ram, b->ram, sizeof(a->ram)) == 0 &&
           memcmp(a->state, b->state, STATE_LEN) == 0;
}

static uint32_t replay_n;

static void replayed(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    (void)frame;
    FZ_CHECK(len >= COLO_INPUT_MIN && len <= COLO_INPUT_MAX, "replayed a %zu-byte frame", len);
    replay_n++;
}

static void check_input_log(void)
{
    const struct colo_input *in = &sec.input;
    FZ_CHECK(in->used <= in->cap && in->cap == sec.cfg.input_cap, "input log %zu of %zu bytes",
             in->used, in->cap);
    uint64_t last = 0;
    uint32_t n = 0;
    for (size_t off = 0; off < in->used; n++) {
        uint64_t e = colo_get64(in->mem + off);
        size_t len = colo_get16(in->mem + off + 8) & ~COLO_INPUT_LOCAL;
        FZ_CHECK(e > sec.st.epoch && e <= sec.st.epoch + 2 && e >= last,
                 "input of epoch %llu kept with the replica at %llu (previous %llu)",
                 (unsigned long long)e, (unsigned long long)sec.st.epoch, (unsigned long long)last);
        FZ_CHECK(len >= COLO_INPUT_MIN && len <= COLO_INPUT_MAX && off + 10 + len <= in->used,
                 "input record of %zu bytes at %zu", len, off);
        last = e;
        off += 10 + len;
    }
    FZ_CHECK(n == in->count, "%u input records counted as %u", n, in->count);
    replay_n = 0;
    uint32_t r = colo_input_replay(&sec.input, sec.st.epoch, replayed, NULL);
    FZ_CHECK(r == n && replay_n == n && sec.input.count == 0, "replayed %u of %u", replay_n, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    size_t chunk = (size_t)mode * 37 % 5000; /* 0: everything at once */
    size--;
    if (size > sizeof(input)) {
        return 0;
    }
    memcpy(input, data + 1, size);
    data = input;
    if (!(mode & 8)) {
        colo_fuzz_repair(input, size);
    }
    sealed = mode & 0x10;
    if (sealed && !(mode & 8)) {
        size = seal_stream(input, size);
        data = sealed_input;
    }
    colo_dec_init(&out_dec);
    if (sealed) {
        colo_dec_set_key(&out_dec, sec_keys.tx);
    }

    struct trace whole, parts, bytes;
    hello_caps = 0;
    decode_all(data, size, 0, &whole, true);
    decode_all(data, size, chunk, &parts, false);
    decode_all(data, size, 1 + chunk % 7, &bytes, false);
    FZ_CHECK(whole.n == parts.n && whole.sum == parts.sum && whole.err == parts.err,
             "chunking by %zu changed the result", chunk);
    FZ_CHECK(whole.n == bytes.n && whole.sum == bytes.sum && whole.err == bytes.err,
             "small chunks changed the result");

    memset(&vm, 0, sizeof(vm));
    memcpy(vm.state, "SIMS", 4);
    committed = vm;
    committed_epoch = 0;
    closed = false;
    bool verify_bufs = !(mode & 2);
    static uint8_t input_log[1024]; /* small: a few frames, so that it fills */
    struct colo_sec_config cfg = {.local = local_hello(COLO_CAP_VERIFY | COLO_CAP_INPUT),
                                  .stage_pfns = stage_pfns,
                                  .stage_data = stage_data[0],
                                  .stage_pages = NPAGES,
                                  .stage_state = stage_state,
                                  .stage_state_cap = sizeof(stage_state),
                                  .verify_hashes = verify_bufs ? verify_hashes : NULL,
                                  .verify_state = verify_bufs ? verify_state : NULL,
                                  .undo_data = undo_data[0],
                                  .undo_pfns = undo_pfns,
                                  .undo_map = undo_map,
                                  .undo_pages = NPAGES,
                                  .input_mem = verify_bufs ? input_log : NULL,
                                  .input_cap = verify_bufs ? sizeof(input_log) : 0,
                                  .keys = sealed ? &sec_keys : NULL};
    colo_secondary_init(&sec, (mode & 4) ? &ops_plain : &ops, &tr, &cfg);
    const uint8_t *p = data;
    size_t len = size;
    while (len) {
        size_t c = chunk ? MIN(chunk, len) : len;
        bool alive = colo_secondary_rx(&sec, p, c);
        FZ_CHECK(alive == !closed, "rx result disagrees with the transport");
        p += c;
        len -= c;
    }
    if (mode & 1) {
        colo_secondary_conn_lost(&sec);
    }
    /* Mid-overflow (undo log not empty) the VM holds the overflow's pages; any end rolls back. */
    if (sec.st.replica && sec.undo_n == 0) {
        FZ_CHECK(same(&vm, &committed) && sec.st.epoch == committed_epoch,
                 "replica of epoch %llu is not the VM committed at %llu",
                 (unsigned long long)sec.st.epoch, (unsigned long long)committed_epoch);
    } else if (sec.st.sync_pages == 0 && sec.st.reason != COLO_ABORT_DIVERGED) {
        FZ_CHECK(same(&vm, &committed), "VM changed after the commit of epoch %llu (%s)",
                 (unsigned long long)committed_epoch, sec.st.reason_text);
    }
    check_printable(sec.st.reason_text, sizeof(sec.st.reason_text), "secondary reason text");
    FZ_CHECK(sec.st.checkpoints == sec.st.epoch, "epoch %llu after %llu checkpoints",
             (unsigned long long)sec.st.epoch, (unsigned long long)sec.st.checkpoints);
    FZ_CHECK(sec.npages <= NPAGES && sec.state_len <= sizeof(stage_state), "staging overrun");
    FZ_CHECK(sec.verify_next <= NPAGES, "verification cursor at %llu",
             (unsigned long long)sec.verify_next);
    check_input_log();
    return 0;
}

/* ---- seeds: a well-formed session, the replica modelled to get the VERIFY hashes right ---- */

static uint8_t seed[1 << 17];
static size_t sn;
static uint8_t model[NPAGES][COLO_PAGE_SIZE];

static void put_empty(uint16_t type, uint64_t epoch)
{
    sn += colo_encode(NULL, seed + sn, sizeof(seed) - sn, type, epoch, NULL, 0);
}

/* count pages filled from fill on, as RAM_SYNC or RAM_PAGES; the model applies them at once
 * (in a well-formed session every RAM_PAGES is committed before the next VERIFY is computed). */
static void put_pages(uint16_t type, uint64_t epoch, const uint64_t *pfns, uint32_t count,
                      uint8_t fill, uint32_t *crc)
{
    static uint8_t pages[NPAGES][COLO_PAGE_SIZE];
    for (uint32_t i = 0; i < count; i++) {
        memset(pages[i], fill + (int)i, COLO_PAGE_SIZE);
        pages[i][i] = (uint8_t)epoch;
        memcpy(model[pfns[i]], pages[i], COLO_PAGE_SIZE);
    }
    size_t m =
        colo_encode_pages(NULL, seed + sn, sizeof(seed) - sn, type, epoch, pfns, pages[0], count);
    if (crc) {
        *crc = crc32c(*crc, seed + sn + COLO_HDR_SIZE, m - COLO_HDR_SIZE - COLO_CRC_SIZE);
    }
    sn += m;
}

static void put_verify(uint64_t epoch, uint64_t first, uint32_t count, uint32_t spoil)
{
    uint32_t h[NPAGES];
    for (uint32_t i = 0; i < count; i++) {
        h[i] = colo_page_hash(model[first + i]) ^ (i == 0 ? spoil : 0);
    }
    sn += colo_encode_verify(NULL, seed + sn, sizeof(seed) - sn, epoch, first, h, count);
}

struct ck {
    bool verify;
    bool overflow;  /* the primary holds its guest and sends RAM_SYNC after the reply */
    bool split;     /* VERIFY in two messages */
    uint32_t spoil; /* XORed into the first hash: a diverged replica */
    uint8_t lossy;  /* LOSSY: the device state does not survive a save */
    bool no_pages;  /* a checkpoint of device state only: a seed of a few hundred bytes */
};

static void put_checkpoint(uint64_t e, const struct ck *k)
{
    put_empty(COLO_MSG_CHECKPOINT_REQUEST, e);
    if (k->overflow) {
        uint64_t sync[2] = {0, 2};
        put_pages(COLO_MSG_RAM_SYNC, e, sync, 2, 0x70, NULL);
    }
    put_empty(COLO_MSG_VMSTATE_SEND, e);
    uint64_t pfns[2] = {e % 3, 3};
    uint32_t crc = 0;
    if (!k->no_pages) {
        put_pages(COLO_MSG_RAM_PAGES, e, pfns, 2, (uint8_t)(0x10 * e), &crc);
    }
    sn += colo_encode_heartbeat(NULL, seed + sn, sizeof(seed) - sn, e, 5);
    uint8_t st[STATE_LEN] = "SIMS";
    st[8] = (uint8_t)e;
    st[LOSSY_AT] = k->lossy;
    sn += colo_encode(NULL, seed + sn, sizeof(seed) - sn, COLO_MSG_DEVICE_STATE, e, st, STATE_LEN);
    crc = crc32c(crc, st, STATE_LEN);
    if (k->verify && k->split) {
        put_verify(e, 0, 2, k->spoil);
        put_verify(e, 2, NPAGES - 2, 0);
    } else if (k->verify) {
        put_verify(e, 0, NPAGES, k->spoil);
    }
    struct colo_vmstate_size v = {
        .state_bytes = STATE_LEN, .page_count = k->no_pages ? 0 : 2, .crc = crc};
    sn += colo_encode_vmstate_size(NULL, seed + sn, sizeof(seed) - sn, e, &v);
}

static void put_start(uint8_t mode, uint32_t caps)
{
    sn = 0;
    memset(model, 0, sizeof(model));
    seed[sn++] = mode;
    struct colo_hello h = local_hello(caps);
    sn += colo_encode_hello(NULL, seed + sn, sizeof(seed) - sn, 0, &h);
}

static void put_sync(void)
{
    uint64_t a[3] = {0, 1, 2}, b[1] = {3};
    put_pages(COLO_MSG_RAM_SYNC, 1, a, 3, 0x40, NULL);
    put_pages(COLO_MSG_RAM_SYNC, 1, b, 1, 0x50, NULL);
}

void fuzz_make_seeds(void)
{
    put_start(0, COLO_CAP_VERIFY);
    fuzz_write_seed("handshake", seed, sn);
    put_sync();
    fuzz_write_seed("pre-copy", seed, sn);
    put_checkpoint(1, &(struct ck){.verify = true});
    fuzz_write_seed("one-checkpoint", seed, sn);
    put_checkpoint(2, &(struct ck){.verify = true, .split = true});
    fuzz_write_seed("two-checkpoints", seed, sn);
    put_checkpoint(3, &(struct ck){.verify = true, .overflow = true});
    fuzz_write_seed("overflow", seed, sn);
    put_empty(COLO_MSG_GUEST_SHUTDOWN, 3);
    fuzz_write_seed("shutdown", seed, sn);
    seed[0] |= 0x10;
    fuzz_write_seed("shutdown-sealed", seed, sn);
    seed[0] &= (uint8_t)~0x10;
    seed[0] = 4; /* chunks of 148 bytes, no describe_state */
    fuzz_write_seed("shutdown-chunked", seed, sn);
    seed[0] = 1; /* whole, connection lost at the end */
    fuzz_write_seed("shutdown-conn-lost", seed, sn);
    seed[0] = 8; /* whole, framing left as it is */
    fuzz_write_seed("shutdown-raw", seed, sn);

    /* The input log: frames while a checkpoint is made (epoch e + 1) and after its commit. */
    put_start(0, COLO_CAP_INPUT);
    put_sync();
    for (uint64_t e = 1; e <= 3; e++) {
        uint8_t f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 0};
        f[20] = (uint8_t)e;
        sn += colo_encode(NULL, seed + sn, sizeof(seed) - sn, COLO_MSG_INPUT, e, f, sizeof(f));
        put_checkpoint(e, &(struct ck){.no_pages = e != 1});
        sn += colo_encode(NULL, seed + sn, sizeof(seed) - sn, COLO_MSG_INPUT, e + 1, f, sizeof(f));
    }
    fuzz_write_seed("input", seed, sn);

    put_start(2, 0); /* no verification buffers, none asked for */
    put_sync();
    put_checkpoint(1, &(struct ck){0});
    put_checkpoint(2, &(struct ck){.overflow = true});
    fuzz_write_seed("no-verify", seed, sn);

    put_start(0, COLO_CAP_VERIFY);
    put_sync();
    put_checkpoint(1, &(struct ck){.verify = true});
    put_checkpoint(2, &(struct ck){.verify = true, .spoil = 1});
    fuzz_write_seed("diverged-page", seed, sn);

    put_start(0, COLO_CAP_VERIFY);
    put_sync();
    put_checkpoint(1, &(struct ck){.verify = true, .lossy = LOSSY});
    fuzz_write_seed("diverged-state", seed, sn);

    /* Small inputs mutate well: the state machine's checks without 4 KiB pages in the way. */
    put_start(0, COLO_CAP_VERIFY);
    for (uint64_t e = 1; e <= 3; e++) {
        put_checkpoint(e, &(struct ck){.verify = true, .split = e == 2, .no_pages = true});
    }
    put_empty(COLO_MSG_GUEST_SHUTDOWN, 3);
    fuzz_write_seed("compact", seed, sn);

    sn = 1 + colo_encode_abort(NULL, seed + 1, sizeof(seed) - 1, 0, COLO_ABORT_IMAGE, "mismatch");
    seed[0] = 0;
    fuzz_write_seed("abort", seed, sn);
}
