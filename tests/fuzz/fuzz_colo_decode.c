// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the COLO wire decoder and the secondary's state machine (colo/). Input:
// one byte choosing the chunking, then the primary's byte stream. Checks: the decoder yields the
// same messages and the same error however the stream is chunked; the secondary only touches the
// VM in range and with the guest paused; and after any input the VM equals, byte for byte, the
// state it had when the secondary last sent VMSTATE_LOADED (or the initial state). Seeds: a
// valid session (handshake, two checkpoints, shutdown) built with the encoder.
#include <string.h>

#include <cv/image.h>

#include "../../colo/colo_secondary.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPAGES 4u
#define STATE_LEN 16u

struct sim {
    uint8_t ram[NPAGES][COLO_PAGE_SIZE];
    uint8_t state[STATE_LEN];
    bool paused;
};

static struct sim vm, committed;
static bool closed;

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
    FZ_CHECK(v->paused, "state loaded while the guest runs");
    if (len != STATE_LEN || memcmp(buf, "SIMS", 4) != 0) {
        return false;
    }
    memcpy(v->state, buf, STATE_LEN);
    return true;
}
static const struct colo_vm ops = {
    .pause = sim_pause,
    .resume = sim_resume,
    .ram_pages = sim_ram_pages,
    .read_page = sim_read_page,
    .write_page = sim_write_page,
    .load_state = sim_load_state,
    .ctx = &vm,
};

static bool tr_send(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    const uint8_t *b = buf;
    FZ_CHECK(!closed, "send after close");
    FZ_CHECK(len >= COLO_HDR_SIZE && colo_get32(b) == COLO_MAGIC, "bad outgoing message");
    if (colo_get16(b + 6) == COLO_MSG_VMSTATE_LOADED) {
        committed = vm; /* the commit point: what a failover would run from */
    }
    return true;
}
static void tr_close(void *ctx)
{
    (void)ctx;
    closed = true;
}
static const struct colo_transport tr = {.send = tr_send, .close = tr_close};

static struct colo_hello local_hello(void)
{
    struct colo_hello h = {.ver_min = 1,
                           .ver_max = 1,
                           .board = "fuzz",
                           .ram_bytes = NPAGES * COLO_PAGE_SIZE,
                           .devset_id = 1};
    return h;
}

/* ---- decoder: chunking must not matter ---- */
struct trace {
    unsigned n;
    uint32_t sum;
    enum colo_err err;
};

static struct colo_decoder dec;

static void decode_all(const uint8_t *p, size_t len, size_t chunk, struct trace *t)
{
    colo_dec_init(&dec);
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
            t->n++;
            t->sum = crc32c(t->sum, &m.type, sizeof(m.type));
            t->sum = crc32c(t->sum, &m.epoch, sizeof(m.epoch));
            t->sum = crc32c(t->sum, m.payload, m.len);
        } else {
            FZ_CHECK(used == c, "MORE but %zu of %zu consumed", used, c);
        }
    }
}

static struct colo_secondary sec;
static uint64_t stage_pfns[NPAGES];
static uint8_t stage_data[NPAGES][COLO_PAGE_SIZE];
static uint8_t stage_state[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    size_t chunk = (size_t)mode * 37 % 5000; /* 0: everything at once */
    data++;
    size--;

    struct trace whole, parts, bytes;
    decode_all(data, size, 0, &whole);
    decode_all(data, size, chunk, &parts);
    decode_all(data, size, 1 + chunk % 7, &bytes);
    FZ_CHECK(whole.n == parts.n && whole.sum == parts.sum && whole.err == parts.err,
             "chunking by %zu changed the result", chunk);
    FZ_CHECK(whole.n == bytes.n && whole.sum == bytes.sum && whole.err == bytes.err,
             "small chunks changed the result");

    memset(&vm, 0, sizeof(vm));
    memcpy(vm.state, "SIMS", 4);
    committed = vm;
    closed = false;
    struct colo_sec_config cfg = {.local = local_hello(),
                                  .stage_pfns = stage_pfns,
                                  .stage_data = stage_data[0],
                                  .stage_pages = NPAGES,
                                  .stage_state = stage_state,
                                  .stage_state_cap = sizeof(stage_state)};
    colo_secondary_init(&sec, &ops, &tr, &cfg);
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
    FZ_CHECK(memcmp(vm.ram, committed.ram, sizeof(vm.ram)) == 0, "RAM not at the last commit");
    FZ_CHECK(memcmp(vm.state, committed.state, STATE_LEN) == 0, "state not at the last commit");
    FZ_CHECK(sec.st.checkpoints == sec.st.epoch, "epoch %llu after %llu checkpoints",
             (unsigned long long)sec.st.epoch, (unsigned long long)sec.st.checkpoints);
    FZ_CHECK(sec.npages <= NPAGES && sec.state_len <= sizeof(stage_state), "staging overrun");
    return 0;
}

static uint8_t seed[1 << 16];

void fuzz_make_seeds(void)
{
    size_t n = 0;
    seed[n++] = 0;
    struct colo_hello h = local_hello();
    n += colo_encode_hello(seed + n, sizeof(seed) - n, 0, &h);
    static uint8_t pages[2][COLO_PAGE_SIZE];
    for (uint64_t e = 1; e <= 2; e++) {
        n += colo_encode(seed + n, sizeof(seed) - n, COLO_MSG_CHECKPOINT_REQUEST, e, NULL, 0);
        n += colo_encode(seed + n, sizeof(seed) - n, COLO_MSG_VMSTATE_SEND, e, NULL, 0);
        memset(pages, (int)e, sizeof(pages));
        uint64_t pfns[2] = {e, 3};
        uint32_t crc = 0;
        size_t m = colo_encode_ram_pages(seed + n, sizeof(seed) - n, e, pfns, pages[0], 2);
        crc = crc32c(crc, seed + n + COLO_HDR_SIZE, m - COLO_HDR_SIZE - COLO_CRC_SIZE);
        n += m;
        n += colo_encode_heartbeat(seed + n, sizeof(seed) - n, e, 5);
        uint8_t st[STATE_LEN] = "SIMS";
        st[8] = (uint8_t)e;
        n += colo_encode(seed + n, sizeof(seed) - n, COLO_MSG_DEVICE_STATE, e, st, STATE_LEN);
        crc = crc32c(crc, st, STATE_LEN);
        struct colo_vmstate_size v = {.state_bytes = STATE_LEN, .page_count = 2, .crc = crc};
        n += colo_encode_vmstate_size(seed + n, sizeof(seed) - n, e, &v);
        if (e == 1) {
            fuzz_write_seed("one-checkpoint", seed, n);
        }
    }
    fuzz_write_seed("two-checkpoints", seed, n);
    n += colo_encode(seed + n, sizeof(seed) - n, COLO_MSG_GUEST_SHUTDOWN, 2, NULL, 0);
    fuzz_write_seed("shutdown", seed, n);
    seed[0] = 3;
    fuzz_write_seed("shutdown-chunked", seed, n);
    n = 1 + colo_encode_abort(seed + 1, sizeof(seed) - 1, 0, COLO_ABORT_IMAGE, "mismatch");
    fuzz_write_seed("abort", seed, n);
}
