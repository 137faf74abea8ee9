// SPDX-License-Identifier: Apache-2.0
// The primary's state machine (colo_primary.h). The guest is paused only inside
// pause_and_stage(): harvest, copy the dirty pages and the device state into staging, hash RAM in
// verification mode, resume. Everything that waits for the link happens with the guest running,
// except when a dirty set is larger than staging can hold (COLO_CK_PAUSED_SYNC): then the guest
// stays held while those pages go out directly, because dropping or splitting state is not an
// option.
#include <stdarg.h>
#include <string.h>

#include <colo/input.h>
#include <colo/primary.h>

#include "colo_util.h"

/* Pre-copy ends when a pass leaves at most this many dirty pages (or it stops converging). */
#define SYNC_TARGET_PAGES 256u
#define SYNC_MAX_PASSES 10u
/* Work per poll while the guest runs: keeps the guest's slices regular during pre-copy. */
#define SYNC_MSGS_PER_POLL 8u

static const char *const state_names[] = {
    [COLO_PRI_IDLE] = "none",      [COLO_PRI_HANDSHAKE] = "handshake",
    [COLO_PRI_SYNC] = "sync",      [COLO_PRI_PROTECTED] = "protected",
    [COLO_PRI_CLOSED] = "stopped", [COLO_PRI_FAILED] = "failed",
};

static const char *const ck_names[] = {
    [COLO_CK_NONE] = "idle",
    [COLO_CK_WAIT_REPLY] = "request",
    [COLO_CK_PAUSED_SYNC] = "overflow",
    [COLO_CK_STREAM] = "stream",
    [COLO_CK_WAIT_ACK] = "ack",
};

const char *colo_pri_state_name(enum colo_pri_state st)
{
    return (unsigned)st < ARRAY_SIZE(state_names) ? state_names[st] : "?";
}

const char *colo_pri_ckpt_name(enum colo_pri_ckpt ck)
{
    return (unsigned)ck < ARRAY_SIZE(ck_names) ? ck_names[ck] : "?";
}

void colo_primary_init(struct colo_primary *p, const struct colo_vm *vm,
                       const struct colo_transport *tr, const struct colo_pri_config *cfg,
                       const struct colo_pri_settings *set)
{
    p->vm = vm;
    p->tr = tr;
    p->cfg = *cfg;
    p->set = *set;
    p->state = COLO_PRI_IDLE;
    p->ck = COLO_CK_NONE;
    p->stopping = false;
    p->switching = false;
    p->holding = false;
    p->shutdown = false;
    memset(&p->st, 0, sizeof(p->st));
    p->ram_pages = vm->ram_pages(vm->ctx);
    colo_dec_init(&p->dec);
}

bool colo_primary_active(const struct colo_primary *p)
{
    return p->state == COLO_PRI_HANDSHAKE || p->state == COLO_PRI_SYNC ||
           p->state == COLO_PRI_PROTECTED;
}

static uint64_t now(const struct colo_primary *p)
{
    return p->cfg.now_us();
}

static size_t space(const struct colo_primary *p)
{
    return p->tr->space ? p->tr->space(p->tr->ctx) : SIZE_MAX;
}

static bool send_msg(struct colo_primary *p, const void *buf, size_t len)
{
    if (!len || !p->tr->send(p->tr->ctx, buf, len)) {
        return false;
    }
    p->st.bytes_tx += len;
    p->bytes_ck += len;
    return true;
}

static void send_empty(struct colo_primary *p, uint16_t type, uint64_t epoch)
{
    uint8_t b[COLO_HDR_SIZE + COLO_TRAILER_MAX];
    send_msg(p, b, colo_encode(&p->tx, b, sizeof(b), type, epoch, NULL, 0));
}

static void finish(struct colo_primary *p, uint32_t reason, bool tell_peer, const char *fmt, ...)
    COLO_PRINTF_LIKE(4, 5);
static void finish(struct colo_primary *p, uint32_t reason, bool tell_peer, const char *fmt, ...)
{
    if (!colo_primary_active(p)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    colo_port_vsnprintf(p->st.reason_text, sizeof(p->st.reason_text), fmt, ap);
    va_end(ap);
    p->st.reason = reason;
    bool clean = reason == COLO_ABORT_STOPPED || reason == COLO_ABORT_SHUTDOWN ||
                 reason == COLO_ABORT_SWITCHOVER;
    p->state = clean ? COLO_PRI_CLOSED : COLO_PRI_FAILED;
    if (reason == COLO_ABORT_SHUTDOWN) {
        send_empty(p, COLO_MSG_GUEST_SHUTDOWN, p->st.epoch);
    } else if (tell_peer) {
        uint8_t b[COLO_HDR_SIZE + 4 + COLO_ABORT_TEXT_MAX + COLO_TRAILER_MAX];
        send_msg(p, b, colo_encode_abort(&p->tx, b, sizeof(b), p->cur, reason, p->st.reason_text));
    }
    /* Whatever happened, the guest goes on (unprotected), except when it was handed over. */
    p->ck = COLO_CK_NONE;
    if (reason != COLO_ABORT_SWITCHOVER) {
        p->vm->resume(p->vm->ctx);
    }
    p->vm->log_stop(p->vm->ctx);
    if (clean) {
        colo_log_info("colo: session closed at epoch %llu: %s", (unsigned long long)p->st.epoch,
                      p->st.reason_text);
    } else {
        colo_log_warn("colo: session ended at epoch %llu (%s): %s", (unsigned long long)p->st.epoch,
                      colo_abort_name(reason), p->st.reason_text);
    }
    p->tr->close(p->tr->ctx);
}

void colo_primary_start(struct colo_primary *p)
{
    colo_primary_start_sealed(p, NULL);
}

void colo_primary_start_sealed(struct colo_primary *p, const struct colo_session_keys *keys)
{
    memset(&p->st, 0, sizeof(p->st));
    colo_dec_init(&p->dec);
    colo_seal_off(&p->tx);
    if (keys) {
        colo_seal_init(&p->tx, keys->tx);
        colo_dec_set_key(&p->dec, keys->rx);
    }
    p->state = COLO_PRI_HANDSHAKE;
    p->ck = COLO_CK_NONE;
    p->got_ack = false;
    p->ack_deadline_us = 0; /* nothing of a previous session carries over */
    p->next_due_us = 0;
    p->count_at_us = 0;
    p->dirty_counts = 0;
    p->stopping = false;
    p->switching = false;
    p->holding = false;
    p->shutdown = false;
    p->cur = 0;
    p->input_epoch = 1;
    p->early = false;
    uint8_t b[COLO_HDR_SIZE + COLO_HELLO_LEN + COLO_TRAILER_MAX];
    struct colo_hello h = p->cfg.local;
    if (!p->cfg.verify_hashes) {
        h.caps &= ~COLO_CAP_VERIFY;
    }
    send_msg(p, b, colo_encode_hello(&p->tx, b, sizeof(b), 0, &h));
}

bool colo_primary_input(struct colo_primary *p, const void *frame, size_t len)
{
    /* Before the first pause everything the guest receives is in the first checkpoint. */
    if ((p->state != COLO_PRI_SYNC && p->state != COLO_PRI_PROTECTED) ||
        !(p->st.caps & COLO_CAP_INPUT) || p->input_epoch < 2 || len < COLO_INPUT_MIN ||
        len > COLO_INPUT_MAX) {
        return false;
    }
    uint8_t b[COLO_HDR_SIZE + COLO_INPUT_MAX + COLO_TRAILER_MAX];
    size_t n =
        colo_encode(&p->tx, b, sizeof(b), COLO_MSG_INPUT, p->input_epoch, frame, (uint32_t)len);
    if (!n || space(p) < n) {
        p->st.input_skipped++;
        return false;
    }
    if (!send_msg(p, b, n)) {
        finish(p, COLO_ABORT_CONN_LOST, false, "send failed forwarding input");
        return false;
    }
    p->bytes_ck -= n; /* not part of the checkpoint's transfer size */
    p->st.input_frames++;
    p->st.input_bytes += len;
    return true;
}

void colo_primary_request(struct colo_primary *p)
{
    p->early = true;
}

/* ---- bitmap helpers ---- */

static size_t dirty_words(uint64_t npages)
{
    return (size_t)((npages + 63) / 64);
}

static bool test_clear(uint64_t *bm, uint64_t pfn)
{
    uint64_t bit = 1ull << (pfn % 64);
    bool was = bm[pfn / 64] & bit;
    bm[pfn / 64] &= ~bit;
    return was;
}

static uint64_t bitmap_count(const uint64_t *bm, uint64_t npages)
{
    uint64_t n = 0;
    for (size_t w = 0; w < dirty_words(npages); w++) {
        n += colo_popcount64(bm[w]);
    }
    return n;
}

/* Finds the next set bit at or after *cursor; false when none is left. */
static bool next_dirty(const struct colo_primary *p, uint64_t *cursor)
{
    uint64_t pfn = *cursor;
    while (pfn < p->ram_pages) {
        uint64_t w = p->cfg.bitmap[pfn / 64] >> (pfn % 64);
        if (w) {
            pfn += colo_ctz64(w);
            *cursor = pfn;
            return pfn < p->ram_pages;
        }
        pfn = (pfn / 64 + 1) * 64;
    }
    *cursor = p->ram_pages;
    return false;
}

/*
 * Sends up to one message of dirty pages straight from guest RAM as RAM_SYNC (pre-copy, or an
 * overflowing checkpoint with the guest held). Returns false when the bitmap has no more pages
 * from the cursor on, or when the transport has no room.
 */
static bool sync_one(struct colo_primary *p)
{
    if (space(p) < COLO_PRI_MSG_CAP) {
        return false;
    }
    uint64_t pfns[COLO_PRI_PAGES_PER_MSG];
    uint32_t n = 0;
    /* stage_data doubles as the gather buffer (no checkpoint is staged meanwhile), and it may
     * hold fewer pages than a message carries. */
    uint32_t max = MIN(COLO_PRI_PAGES_PER_MSG, p->cfg.stage_pages);
    while (n < max && next_dirty(p, &p->cursor)) {
        test_clear(p->cfg.bitmap, p->cursor);
        p->vm->read_page(p->vm->ctx, p->cursor, p->cfg.stage_data + (size_t)n * COLO_PAGE_SIZE);
        pfns[n++] = p->cursor++;
    }
    if (n == 0) {
        return false;
    }
    size_t len = colo_encode_pages(&p->tx, p->cfg.msg, COLO_PRI_MSG_CAP, COLO_MSG_RAM_SYNC,
                                   p->st.epoch + 1, pfns, p->cfg.stage_data, n);
    if (!send_msg(p, p->cfg.msg, len)) {
        finish(p, COLO_ABORT_CONN_LOST, false, "send failed during synchronisation");
        return false;
    }
    p->pass_pages += n;
    p->st.sync_pages += n;
    return true;
}

static void begin_checkpoint(struct colo_primary *p, bool early)
{
    p->cur = p->st.epoch + 1;
    p->ck = COLO_CK_WAIT_REPLY;
    p->ck_start_us = now(p);
    p->ack_deadline_us =
        p->set.ack_timeout_ms ? p->ck_start_us + p->set.ack_timeout_ms * 1000ull : 0;
    p->bytes_ck = 0;
    p->early = false;
    if (early) {
        p->st.early++;
    }
    send_empty(p, COLO_MSG_CHECKPOINT_REQUEST, p->cur);
}

/* One pre-copy step: a few messages of the current pass, or the end of a pass. */
static void sync_step(struct colo_primary *p)
{
    for (unsigned i = 0; i < SYNC_MSGS_PER_POLL && colo_primary_active(p); i++) {
        if (sync_one(p)) {
            continue;
        }
        if (p->cursor < p->ram_pages) {
            return; /* no room in the transport: later */
        }
        /* The pass is done: what did the guest dirty meanwhile? */
        p->vm->pause(p->vm->ctx);
        uint64_t got = p->vm->harvest(p->vm->ctx, p->cfg.bitmap);
        p->vm->resume(p->vm->ctx);
        p->st.sync_passes++;
        uint64_t dirty = bitmap_count(p->cfg.bitmap, p->ram_pages);
        (void)got;
        colo_log_info("colo: pre-copy pass %llu: %llu pages sent, %llu dirtied meanwhile",
                      (unsigned long long)p->st.sync_passes, (unsigned long long)p->pass_pages,
                      (unsigned long long)dirty);
        bool stalled = p->st.sync_passes >= 3 && dirty >= p->prev_dirty;
        if (dirty <= SYNC_TARGET_PAGES || p->st.sync_passes >= SYNC_MAX_PASSES || stalled) {
            /* Stop-and-copy: the first checkpoint carries the rest (held if it is too much). */
            begin_checkpoint(p, false);
            return;
        }
        p->prev_dirty = dirty;
        p->cursor = 0;
        p->pass_pages = 0;
    }
}

static void enter_sync(struct colo_primary *p)
{
    if (!p->vm->log_start(p->vm->ctx)) {
        finish(p, COLO_ABORT_PROTOCOL, true, "dirty logging cannot start");
        return;
    }
    /* Every page goes over once; what the guest writes meanwhile comes back via harvest. */
    memset(p->cfg.bitmap, 0, dirty_words(p->ram_pages) * 8);
    for (uint64_t pfn = 0; pfn < p->ram_pages; pfn++) {
        p->cfg.bitmap[pfn / 64] |= 1ull << (pfn % 64);
    }
    p->state = COLO_PRI_SYNC;
    p->cursor = 0;
    p->pass_pages = 0;
    p->prev_dirty = UINT64_MAX;
    p->sync_start_us = now(p);
    colo_log_info("colo: primary: handshake done; pre-copy of %llu MiB while the guest runs%s",
                  (unsigned long long)(p->ram_pages * COLO_PAGE_SIZE >> 20),
                  (p->st.caps & COLO_CAP_VERIFY) ? " (verification on)" : "");
}

/* The only place the guest is held in a normal checkpoint: the local copy. */
static void pause_and_stage(struct colo_primary *p)
{
    const struct colo_vm *vm = p->vm;
    uint64_t t0 = now(p);
    vm->pause(vm->ctx);
    vm->harvest(vm->ctx, p->cfg.bitmap);
    uint64_t dirty = bitmap_count(p->cfg.bitmap, p->ram_pages);
    if (dirty > p->st.limit_pages) {
        /* Over the staging limit: stream the excess straight from RAM with the guest held. */
        p->st.paused_syncs++;
        p->ck = COLO_CK_PAUSED_SYNC;
        p->cursor = 0;
        p->pass_pages = 0;
        p->resume_us = t0; /* pause start, for the pause time */
        colo_log_warn("colo: checkpoint %llu: %llu dirty pages exceed the %u-page staging limit; "
                      "guest held while they are sent",
                      (unsigned long long)p->cur, (unsigned long long)dirty, p->st.limit_pages);
        return;
    }
    uint32_t n = 0;
    uint64_t cursor = 0;
    while (next_dirty(p, &cursor)) {
        test_clear(p->cfg.bitmap, cursor);
        p->cfg.stage_pfns[n] = cursor;
        vm->read_page(vm->ctx, cursor, p->cfg.stage_data + (size_t)n * COLO_PAGE_SIZE);
        n++;
        cursor++;
    }
    size_t slen = vm->save_state(vm->ctx, p->cfg.stage_state, p->limit_state);
    if (slen == 0) {
        finish(p, COLO_ABORT_STAGING, true, "device state does not fit in %zu bytes",
               p->limit_state);
        return;
    }
    if (p->st.caps & COLO_CAP_VERIFY) {
        for (uint64_t pfn = 0; pfn < p->ram_pages; pfn++) {
            p->cfg.verify_hashes[pfn] = vm->page_hash(vm->ctx, pfn);
        }
    }
    p->input_epoch = p->cur + 1;
    if (p->cfg.on_pause) {
        p->cfg.on_pause(p->cfg.hook_ctx, p->cur);
    }
    if (!p->holding) {
        vm->resume(vm->ctx);
    }
    uint64_t t1 = now(p);
    /* A held overflow checkpoint counts from the moment the guest was first held. */
    uint64_t pause = p->ck == COLO_CK_PAUSED_SYNC ? t1 - p->resume_us : t1 - t0;
    p->resume_us = t1;
    p->st.last_pause_us = pause;
    p->st.total_pause_us += pause;
    if (pause > p->st.max_pause_us) {
        p->st.max_pause_us = pause;
    }
    p->npages = n;
    p->state_len = slen;
    p->sent_pages = 0;
    p->sent_state = 0;
    p->sent_verify = 0;
    p->sent_begin = false;
    p->crc = 0;
    p->ck = COLO_CK_STREAM;
}

/* Streams the staged checkpoint as room appears. */
static void stream(struct colo_primary *p)
{
    uint8_t *m = p->cfg.msg;
    while (p->ck == COLO_CK_STREAM && space(p) >= COLO_PRI_MSG_CAP) {
        size_t len;
        if (!p->sent_begin) {
            len = colo_encode(&p->tx, m, COLO_PRI_MSG_CAP, COLO_MSG_VMSTATE_SEND, p->cur, NULL, 0);
            p->sent_begin = true;
        } else if (p->sent_pages < p->npages) {
            uint32_t n = MIN(p->npages - p->sent_pages, COLO_PRI_PAGES_PER_MSG);
            len = colo_encode_pages(&p->tx, m, COLO_PRI_MSG_CAP, COLO_MSG_RAM_PAGES, p->cur,
                                    p->cfg.stage_pfns + p->sent_pages,
                                    p->cfg.stage_data + (size_t)p->sent_pages * COLO_PAGE_SIZE, n);
            if (!p->tx.on) { /* sealed: the tags cover every byte and the order */
                p->crc = colo_port_crc32c(p->crc, m + COLO_HDR_SIZE, colo_get32(m + 16));
            }
            p->sent_pages += n;
        } else if (p->sent_state < p->state_len) {
            uint32_t n = (uint32_t)MIN(p->state_len - p->sent_state, COLO_PRI_CHUNK);
            len = colo_encode(&p->tx, m, COLO_PRI_MSG_CAP, COLO_MSG_DEVICE_STATE, p->cur,
                              p->cfg.stage_state + p->sent_state, n);
            if (!p->tx.on) {
                p->crc = colo_port_crc32c(p->crc, p->cfg.stage_state + p->sent_state, n);
            }
            p->sent_state += n;
        } else if ((p->st.caps & COLO_CAP_VERIFY) && p->sent_verify < p->ram_pages) {
            uint32_t n = (uint32_t)MIN(p->ram_pages - p->sent_verify, COLO_PRI_CHUNK / 4 - 3);
            len = colo_encode_verify(&p->tx, m, COLO_PRI_MSG_CAP, p->cur, p->sent_verify,
                                     p->cfg.verify_hashes + p->sent_verify, n);
            p->sent_verify += n;
        } else {
            struct colo_vmstate_size v = {
                .state_bytes = p->state_len, .page_count = p->npages, .crc = p->crc};
            len = colo_encode_vmstate_size(&p->tx, m, COLO_PRI_MSG_CAP, p->cur, &v);
            p->ck = COLO_CK_WAIT_ACK;
        }
        if (!send_msg(p, m, len)) {
            finish(p, COLO_ABORT_CONN_LOST, false, "send failed during checkpoint %llu",
                   (unsigned long long)p->cur);
            return;
        }
    }
}

static void committed(struct colo_primary *p)
{
    uint64_t t = now(p);
    bool first = p->state == COLO_PRI_SYNC;
    p->st.epoch = p->cur;
    p->st.checkpoints++;
    p->st.last_pages = p->npages;
    p->st.last_bytes = p->bytes_ck;
    p->st.last_xfer_us = t - p->resume_us;
    p->st.total_pages += p->npages;
    p->st.total_bytes += p->bytes_ck;
    p->st.total_xfer_us += p->st.last_xfer_us;
    p->ck = COLO_CK_NONE;
    p->ack_deadline_us = 0;
    if (p->cfg.on_commit) {
        p->cfg.on_commit(p->cfg.hook_ctx, p->cur);
    }
    if (p->holding) {
        /* The guest was held for this checkpoint: the replica is exactly it. Hand over. */
        finish(p, COLO_ABORT_SWITCHOVER, true, "planned switchover at checkpoint %llu",
               (unsigned long long)p->cur);
        return;
    }
    p->next_due_us = p->ck_start_us + p->set.delay_ms * 1000ull;
    if (first) {
        p->state = COLO_PRI_PROTECTED;
        p->st.sync_us = t - p->sync_start_us;
        colo_log_info(
            "colo: primary: protected after %llu ms of pre-copy (%llu passes, %llu pages); "
            "longest pause %llu us",
            (unsigned long long)(p->st.sync_us / 1000), (unsigned long long)p->st.sync_passes,
            (unsigned long long)p->st.sync_pages, (unsigned long long)p->st.max_pause_us);
    }
}

static void handle(struct colo_primary *p, const struct colo_msg *m)
{
    switch (m->type) {
    case COLO_MSG_HEARTBEAT:
        return;
    case COLO_MSG_ABORT: {
        struct colo_abort a;
        colo_parse_abort(m, &a);
        if (a.reason == COLO_ABORT_STOPPED) {
            finish(p, COLO_ABORT_STOPPED, false, "stopped by the secondary (%s)", a.text);
            return;
        }
        finish(p, COLO_ABORT_PEER, false, "secondary aborted: %s: %s", colo_abort_name(a.reason),
               a.text);
        return;
    }
    case COLO_MSG_HELLO_ACK: {
        struct colo_hello_ack a;
        if (p->state != COLO_PRI_HANDSHAKE || p->got_ack) {
            break;
        }
        if (colo_parse_hello_ack(m, &a) != COLO_OK || a.version != COLO_PROTO_VERSION) {
            finish(p, COLO_ABORT_VERSION, true, "secondary answered version %u", a.version);
            return;
        }
        if (a.stage_pages == 0 || a.stage_state == 0) {
            finish(p, COLO_ABORT_STAGING, true, "secondary has no staging area");
            return;
        }
        p->got_ack = true;
        /* Only what we offered: verification without our hash buffer would write through NULL. */
        p->st.caps = a.caps & p->cfg.local.caps & (p->cfg.verify_hashes ? ~0u : ~COLO_CAP_VERIFY);
        p->st.limit_pages = MIN(a.stage_pages, p->cfg.stage_pages);
        p->limit_state = MIN((size_t)a.stage_state, p->cfg.stage_state_cap);
        if ((p->cfg.local.caps & COLO_CAP_VERIFY) && p->cfg.verify_hashes &&
            !(a.caps & COLO_CAP_VERIFY)) {
            colo_log_warn("colo: verification asked for, but the secondary does not offer it");
        }
        return;
    }
    case COLO_MSG_CHECKPOINT_READY:
        if (p->state != COLO_PRI_HANDSHAKE || !p->got_ack) {
            break;
        }
        enter_sync(p);
        return;
    case COLO_MSG_CHECKPOINT_REPLY:
        if (p->ck != COLO_CK_WAIT_REPLY || m->epoch != p->cur) {
            break;
        }
        pause_and_stage(p);
        return;
    case COLO_MSG_VMSTATE_RECEIVED:
        if (p->ck != COLO_CK_WAIT_ACK || m->epoch != p->cur) {
            break;
        }
        return;
    case COLO_MSG_VMSTATE_LOADED:
        if (p->ck != COLO_CK_WAIT_ACK || m->epoch != p->cur) {
            break;
        }
        committed(p);
        return;
    default:
        break;
    }
    finish(p, COLO_ABORT_PROTOCOL, true, "unexpected %s (epoch %llu) in state %s/%s",
           colo_msg_name(m->type), (unsigned long long)m->epoch, colo_pri_state_name(p->state),
           colo_pri_ckpt_name(p->ck));
}

bool colo_primary_rx(struct colo_primary *p, const void *data, size_t len)
{
    const uint8_t *in = data;
    while (len && colo_primary_active(p)) {
        size_t used;
        struct colo_msg m;
        enum colo_dec_result r = colo_dec_feed(&p->dec, in, len, &used, &m);
        in += used;
        len -= used;
        p->st.bytes_rx += used;
        if (r == COLO_DEC_ERROR) {
            /* A sealed record that fails its tag is forged, replayed or damaged: the session
             * cannot trust the stream past it (an attacker's bytes end it, never steer it). */
            bool forged = p->dec.err == COLO_E_AUTH || p->dec.err == COLO_E_FRAMING;
            finish(p, forged ? COLO_ABORT_AUTH : COLO_ABORT_DECODE, true, "%s",
                   colo_err_name(p->dec.err));
        } else if (r == COLO_DEC_MSG) {
            handle(p, &m);
        }
    }
    return colo_primary_active(p);
}

bool colo_primary_poll(struct colo_primary *p)
{
    if (!colo_primary_active(p)) {
        return false;
    }
    uint64_t t = now(p);
    if (p->ack_deadline_us && t > p->ack_deadline_us) {
        /* Also while the guest is held for an overflow: a stuck link must not hold it forever. */
        finish(p, COLO_ABORT_PROTOCOL, true, "checkpoint %llu not acknowledged in %u ms (%s)",
               (unsigned long long)p->cur, p->set.ack_timeout_ms, colo_pri_ckpt_name(p->ck));
        return false;
    }
    if (p->ck == COLO_CK_NONE) {
        if (p->shutdown) {
            finish(p, COLO_ABORT_SHUTDOWN, false, "the guest shut down");
            return false;
        }
        if (p->stopping) {
            finish(p, COLO_ABORT_STOPPED, true, "stopped on the primary");
            return false;
        }
        if (p->switching && p->state == COLO_PRI_PROTECTED) {
            p->switching = false;
            p->holding = true;
            begin_checkpoint(p, true);
            return true;
        }
    }
    switch (p->ck) {
    case COLO_CK_NONE:
        if (p->state == COLO_PRI_SYNC) {
            sync_step(p);
        } else if (p->state == COLO_PRI_PROTECTED) {
            uint64_t limit = MIN(p->set.dirty_threshold ? p->set.dirty_threshold : UINT64_MAX,
                                 (uint64_t)p->st.limit_pages / 2);
            bool due = t >= p->next_due_us;
            bool full = p->early;
            if (!due && !full &&
                (p->count_at_us == 0 || t - p->count_at_us >= COLO_PRI_COUNT_PERIOD_US)) {
                p->count_at_us = t ? t : 1;
                p->dirty_counts++;
                full = p->vm->dirty_count(p->vm->ctx) >= limit;
            }
            if (due || full) {
                begin_checkpoint(p, !due);
            }
        }
        break;
    case COLO_CK_PAUSED_SYNC:
        /* The guest is held: send as fast as the link takes it, then stage the (now small) rest. */
        while (sync_one(p)) {
        }
        if (colo_primary_active(p) && p->cursor >= p->ram_pages) {
            pause_and_stage(p);
        }
        break;
    case COLO_CK_STREAM:
        stream(p);
        break;
    default:
        break;
    }
    return colo_primary_active(p);
}

void colo_primary_conn_lost(struct colo_primary *p)
{
    finish(p, COLO_ABORT_CONN_LOST, false, "connection to the secondary lost%s",
           p->state == COLO_PRI_PROTECTED ? "" : " before protection was reached");
}

void colo_primary_stop(struct colo_primary *p)
{
    /*
     * A checkpoint under way is finished first: its bytes are queued ahead of anything we
     * could send now, and a clean end tells the secondary that its replica is the last one.
     */
    if (p->ck == COLO_CK_NONE || p->ck == COLO_CK_PAUSED_SYNC) {
        /* Nothing to finish, or a held guest that must not wait for the link. */
        finish(p, COLO_ABORT_STOPPED, true, "stopped on the primary");
    } else {
        p->stopping = true;
    }
}

bool colo_primary_switchover(struct colo_primary *p)
{
    if (p->state != COLO_PRI_PROTECTED || p->stopping || p->shutdown) {
        return false;
    }
    p->switching = true;
    return true;
}

void colo_primary_guest_shutdown(struct colo_primary *p)
{
    if (colo_primary_active(p)) {
        p->shutdown = true;
    }
}
