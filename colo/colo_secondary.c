// SPDX-License-Identifier: Apache-2.0
// The secondary's receive state machine (colo_secondary.h). Nothing reaches the VM before a
// checkpoint is complete and verified: pages and device state are staged, and applied only after
// VMSTATE_SIZE matched. load_state validates before it changes anything, and page numbers were
// checked on arrival, so the apply step itself cannot fail half-way.
#include <stdarg.h>
#include <string.h>

#include <colo/secondary.h>

#include "colo_util.h"

static const char *const state_names[] = {
    [COLO_SEC_WAIT_HELLO] = "wait-hello", [COLO_SEC_IDLE] = "idle",
    [COLO_SEC_WAIT_SEND] = "wait-send",   [COLO_SEC_RECEIVING] = "receiving",
    [COLO_SEC_CLOSED] = "closed",         [COLO_SEC_FAILED] = "failed",
};

const char *colo_sec_state_name(enum colo_sec_state st)
{
    return (unsigned)st < ARRAY_SIZE(state_names) ? state_names[st] : "?";
}

void colo_secondary_init(struct colo_secondary *s, const struct colo_vm *vm,
                         const struct colo_transport *tr, const struct colo_sec_config *cfg)
{
    memset(&s->st, 0, sizeof(s->st));
    s->vm = vm;
    s->tr = tr;
    s->cfg = *cfg;
    s->st.role = COLO_ROLE_SECONDARY;
    s->st.state = COLO_SEC_WAIT_HELLO;
    s->npages = 0;
    s->state_len = 0;
    s->crc = 0;
    s->verify_next = 0;
    s->undo_n = 0;
    s->st.undo_log_bytes = cfg->undo_data ? cfg->undo_pages * COLO_PAGE_SIZE : 0;
    if (cfg->undo_map) {
        memset(cfg->undo_map, 0, (vm->ram_pages(vm->ctx) + 63) / 64 * sizeof(uint64_t));
    }
    colo_input_init(&s->input, cfg->input_mem, cfg->input_cap);
    colo_dec_init(&s->dec);
    colo_seal_off(&s->tx);
    if (cfg->keys) {
        colo_seal_init(&s->tx, cfg->keys->tx);
        colo_dec_set_key(&s->dec, cfg->keys->rx);
    }
}

static bool undo_logged(const struct colo_secondary *s, uint64_t pfn)
{
    return s->cfg.undo_map[pfn / 64] & (1ull << (pfn % 64));
}

/* The checkpoint committed: what the undo log saved is no longer needed. */
static void undo_discard(struct colo_secondary *s)
{
    for (uint64_t i = 0; i < s->undo_n; i++) {
        uint64_t pfn = s->cfg.undo_pfns[i];
        s->cfg.undo_map[pfn / 64] &= ~(1ull << (pfn % 64));
    }
    s->undo_n = 0;
}

/* The checkpoint will not commit: every replica page it overwrote gets its committed content
 * back, so the VM is again exactly the last committed checkpoint. */
static void undo_rollback(struct colo_secondary *s)
{
    const struct colo_vm *vm = s->vm;
    vm->pause(vm->ctx);
    for (uint64_t i = 0; i < s->undo_n; i++) {
        vm->write_page(vm->ctx, s->cfg.undo_pfns[i], s->cfg.undo_data + (size_t)i * COLO_PAGE_SIZE);
    }
    s->st.rollbacks++;
    colo_log_warn("colo: secondary: overflow checkpoint %llu not committed; %llu replica pages "
                  "restored from the undo log",
                  (unsigned long long)(s->st.epoch + 1), (unsigned long long)s->undo_n);
    undo_discard(s);
}

static bool ended(const struct colo_secondary *s)
{
    return s->st.state == COLO_SEC_CLOSED || s->st.state == COLO_SEC_FAILED;
}

static void send_msg(struct colo_secondary *s, const void *buf, size_t len)
{
    if (len && s->tr->send(s->tr->ctx, buf, len)) {
        s->st.bytes_tx += len;
    }
}

static void send_empty(struct colo_secondary *s, uint16_t type, uint64_t epoch)
{
    uint8_t b[COLO_HDR_SIZE + COLO_TRAILER_MAX];
    send_msg(s, b, colo_encode(&s->tx, b, sizeof(b), type, epoch, NULL, 0));
}

/* Ends the session. The staged checkpoint, if any, is simply forgotten: the VM was not touched;
 * an overflow checkpoint's RAM_SYNC pages, which did touch it, are rolled back. */
static void finish(struct colo_secondary *s, uint32_t reason, bool tell_peer, const char *fmt, ...)
    COLO_PRINTF_LIKE(4, 5);
static void finish(struct colo_secondary *s, uint32_t reason, bool tell_peer, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    colo_port_vsnprintf(s->st.reason_text, sizeof(s->st.reason_text), fmt, ap);
    va_end(ap);
    s->st.reason = reason;
    bool clean = reason == COLO_ABORT_SHUTDOWN || reason == COLO_ABORT_STOPPED ||
                 reason == COLO_ABORT_SWITCHOVER;
    s->st.state = clean ? COLO_SEC_CLOSED : COLO_SEC_FAILED;
    if (s->undo_n) {
        if (s->st.replica) {
            undo_rollback(s);
        } else {
            undo_discard(s); /* given up anyway (diverged): nothing to go back to */
        }
    }
    s->npages = 0;
    s->state_len = 0;
    if (tell_peer) {
        uint8_t b[COLO_HDR_SIZE + 4 + COLO_ABORT_TEXT_MAX + COLO_TRAILER_MAX];
        send_msg(s, b,
                 colo_encode_abort(&s->tx, b, sizeof(b), s->st.epoch, reason, s->st.reason_text));
    }
    if (clean) {
        colo_log_info("colo: session closed at epoch %llu: %s", (unsigned long long)s->st.epoch,
                      s->st.reason_text);
    } else {
        colo_log_warn("colo: session ended at epoch %llu (%s): %s", (unsigned long long)s->st.epoch,
                      colo_abort_name(reason), s->st.reason_text);
    }
    s->tr->close(s->tr->ctx);
}

static void handle_hello(struct colo_secondary *s, const struct colo_msg *m)
{
    struct colo_hello h;
    const struct colo_hello *me = &s->cfg.local;
    if (colo_parse_hello(m, &h) != COLO_OK) {
        finish(s, COLO_ABORT_PROTOCOL, true, "malformed HELLO");
        return;
    }
    if (m->epoch != 0) {
        /* Version 1 always starts a session with a full synchronisation. */
        finish(s, COLO_ABORT_EPOCH, true, "HELLO at epoch %llu: only 0 (a new session) is allowed",
               (unsigned long long)m->epoch);
        return;
    }
    if (h.ver_min > COLO_PROTO_VERSION || h.ver_max < COLO_PROTO_VERSION) {
        finish(s, COLO_ABORT_VERSION, true, "peer speaks versions %u..%u, we speak %u", h.ver_min,
               h.ver_max, COLO_PROTO_VERSION);
        return;
    }
    if (strcmp(h.board, me->board) != 0) {
        finish(s, COLO_ABORT_BOARD, true, "peer board '%s', ours '%s'", h.board, me->board);
        return;
    }
    if (h.ram_bytes != me->ram_bytes) {
        finish(s, COLO_ABORT_RAM_SIZE, true, "peer guest RAM %llu bytes, ours %llu",
               (unsigned long long)h.ram_bytes, (unsigned long long)me->ram_bytes);
        return;
    }
    if (h.devset_id != me->devset_id) {
        finish(s, COLO_ABORT_DEVSET, true, "peer device set %llx, ours %llx",
               (unsigned long long)h.devset_id, (unsigned long long)me->devset_id);
        return;
    }
    if (memcmp(h.image_id, me->image_id, COLO_IMAGE_ID_LEN) != 0) {
        finish(s, COLO_ABORT_IMAGE, true, "peer guest image differs from ours");
        return;
    }
    uint64_t ram_pages = h.ram_bytes / COLO_PAGE_SIZE;
    if (!s->cfg.undo_data || !s->cfg.undo_pfns || !s->cfg.undo_map ||
        s->cfg.undo_pages < ram_pages) {
        finish(s, COLO_ABORT_STAGING, true,
               "undo area of %llu pages cannot hold the %llu pages of guest RAM: an overflow "
               "checkpoint could not be undone",
               (unsigned long long)(s->cfg.undo_data ? s->cfg.undo_pages : 0),
               (unsigned long long)ram_pages);
        return;
    }
    uint8_t b[COLO_HDR_SIZE + COLO_HELLO_ACK_LEN + COLO_TRAILER_MAX];
    uint32_t mine = me->caps;
    if (!s->cfg.verify_hashes || !s->cfg.verify_state) {
        mine &= ~COLO_CAP_VERIFY;
    }
    if (!s->input.cap) {
        mine &= ~COLO_CAP_INPUT;
    }
    colo_input_clear(&s->input); /* frames of another session's guest */
    struct colo_hello_ack ack = {.version = COLO_PROTO_VERSION,
                                 .caps = h.caps & mine,
                                 .stage_pages = s->cfg.stage_pages,
                                 .stage_state = (uint32_t)MIN(s->cfg.stage_state_cap, 0xffffffffu)};
    s->st.caps = ack.caps;
    s->st.epoch = 0;
    s->st.replica = false;
    send_msg(s, b, colo_encode_hello_ack(&s->tx, b, sizeof(b), s->st.epoch, &ack));
    send_empty(s, COLO_MSG_CHECKPOINT_READY, s->st.epoch);
    s->st.state = COLO_SEC_IDLE;
    colo_log_info("colo: secondary: handshake done, board %s, %llu MiB of guest RAM%s", h.board,
                  (unsigned long long)(h.ram_bytes >> 20),
                  (ack.caps & COLO_CAP_VERIFY) ? ", verification on" : "");
}

/* Every page number of a RAM_PAGES / RAM_SYNC message inside guest RAM, checked before any is
 * used; false (session ended) otherwise. */
static bool pages_in_ram(struct colo_secondary *s, const struct colo_msg *m, uint32_t count)
{
    uint64_t npages = s->vm->ram_pages(s->vm->ctx);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t pfn;
        const uint8_t *data;
        colo_ram_page(m, i, &pfn, &data);
        if (pfn >= npages) {
            finish(s, COLO_ABORT_BAD_PAGE, true, "page %llu outside %llu pages of RAM",
                   (unsigned long long)pfn, (unsigned long long)npages);
            return false;
        }
    }
    return true;
}

static void stage_pages(struct colo_secondary *s, const struct colo_msg *m)
{
    uint32_t count;
    if (colo_parse_ram_pages(m, &count) != COLO_OK) {
        finish(s, COLO_ABORT_PROTOCOL, true, "malformed RAM_PAGES");
        return;
    }
    if (count > s->cfg.stage_pages - s->npages) {
        finish(s, COLO_ABORT_STAGING, true, "more than %u pages in checkpoint %llu",
               s->cfg.stage_pages, (unsigned long long)m->epoch);
        return;
    }
    if (!pages_in_ram(s, m, count)) {
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint64_t pfn;
        const uint8_t *data;
        colo_ram_page(m, i, &pfn, &data);
        s->cfg.stage_pfns[s->npages] = pfn;
        memcpy(s->cfg.stage_data + (size_t)s->npages * COLO_PAGE_SIZE, data, COLO_PAGE_SIZE);
        s->npages++;
    }
    if (!s->dec.rx.on) { /* sealed: the tags already cover every byte and the order */
        s->crc = colo_port_crc32c(s->crc, m->payload, m->len);
    }
}

/* Pre-copy: there is no replica to protect yet, so pages go straight into guest RAM. An
 * overflow checkpoint (a replica is held) also writes them straight in, after saving each
 * overwritten page in the undo log once, so that the checkpoint can still be undone. */
static void sync_pages(struct colo_secondary *s, const struct colo_msg *m)
{
    uint32_t count;
    if (colo_parse_ram_pages(m, &count) != COLO_OK) {
        finish(s, COLO_ABORT_PROTOCOL, true, "malformed RAM_SYNC");
        return;
    }
    const struct colo_vm *vm = s->vm;
    if (!pages_in_ram(s, m, count)) {
        return;
    }
    vm->pause(vm->ctx);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t pfn;
        const uint8_t *data;
        colo_ram_page(m, i, &pfn, &data);
        if (s->st.replica && !undo_logged(s, pfn)) {
            /* undo_pages >= RAM pages (handshake), and each page is logged once. */
            vm->read_page(vm->ctx, pfn, s->cfg.undo_data + (size_t)s->undo_n * COLO_PAGE_SIZE);
            s->cfg.undo_pfns[s->undo_n++] = pfn;
            s->cfg.undo_map[pfn / 64] |= 1ull << (pfn % 64);
            s->st.undo_pages++;
        }
        vm->write_page(vm->ctx, pfn, data);
    }
    s->st.sync_pages += count;
}

static void stage_verify(struct colo_secondary *s, const struct colo_msg *m)
{
    uint64_t first;
    uint32_t count;
    uint64_t npages = s->vm->ram_pages(s->vm->ctx);
    if (!(s->st.caps & COLO_CAP_VERIFY) || colo_parse_verify(m, &first, &count) != COLO_OK ||
        first != s->verify_next || count > npages - first) {
        finish(s, COLO_ABORT_PROTOCOL, true, "unexpected or malformed VERIFY");
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        s->cfg.verify_hashes[first + i] = colo_verify_hash(m, i);
    }
    s->verify_next = first + count;
}

/* Verification: after the commit the replica must equal the primary at its pause, page for page
 * and byte for byte in the device state. Returns false (session ended) on a difference. */
static bool verify(struct colo_secondary *s, uint64_t epoch)
{
    const struct colo_vm *vm = s->vm;
    uint64_t npages = vm->ram_pages(vm->ctx);
    uint64_t bad = 0, first_bad = 0;
    for (uint64_t pfn = 0; pfn < npages; pfn++) {
        if (vm->page_hash(vm->ctx, pfn) != s->cfg.verify_hashes[pfn]) {
            first_bad = bad ? first_bad : pfn;
            bad++;
        }
    }
    if (bad) {
        s->st.replica = false;
        finish(s, COLO_ABORT_DIVERGED, true,
               "checkpoint %llu: RAM page %llu (offset 0x%llx) differs from the primary's, "
               "%llu pages in all",
               (unsigned long long)epoch, (unsigned long long)first_bad,
               (unsigned long long)(first_bad * COLO_PAGE_SIZE), (unsigned long long)bad);
        return false;
    }
    size_t n = vm->save_state(vm->ctx, s->cfg.verify_state, s->cfg.stage_state_cap);
    if (n != s->state_len || memcmp(s->cfg.verify_state, s->cfg.stage_state, n) != 0) {
        size_t off = 0;
        while (off < n && off < s->state_len &&
               s->cfg.verify_state[off] == s->cfg.stage_state[off]) {
            off++;
        }
        char where[64] = "";
        if (vm->describe_state) {
            vm->describe_state(vm->ctx, s->cfg.stage_state, s->state_len, off, where,
                               sizeof(where));
        }
        s->st.replica = false;
        finish(s, COLO_ABORT_DIVERGED, true,
               "checkpoint %llu: device state differs at byte %zu %s(%zu bytes loaded, %zu saved)",
               (unsigned long long)epoch, off, where, s->state_len, n);
        return false;
    }
    return true;
}

static void stage_state(struct colo_secondary *s, const struct colo_msg *m)
{
    if (m->len > s->cfg.stage_state_cap - s->state_len) {
        finish(s, COLO_ABORT_STAGING, true, "more than %zu bytes of device state",
               s->cfg.stage_state_cap);
        return;
    }
    memcpy(s->cfg.stage_state + s->state_len, m->payload, m->len);
    s->state_len += m->len;
    if (!s->dec.rx.on) { /* sealed: the tags already cover every byte and the order */
        s->crc = colo_port_crc32c(s->crc, m->payload, m->len);
    }
}

/* The commit: everything arrived and verified; the VM moves from epoch N-1 to N. */
static void end_checkpoint(struct colo_secondary *s, const struct colo_msg *m)
{
    struct colo_vmstate_size v;
    if (colo_parse_vmstate_size(m, &v) != COLO_OK) {
        finish(s, COLO_ABORT_PROTOCOL, true, "malformed VMSTATE_SIZE");
        return;
    }
    if (v.page_count != s->npages || v.state_bytes != s->state_len ||
        (!s->dec.rx.on && v.crc != s->crc)) {
        finish(s, COLO_ABORT_CHECKSUM, true,
               "checkpoint %llu: got %u pages, %zu state bytes, crc %08x; "
               "primary sent %llu, %llu, %08x",
               (unsigned long long)m->epoch, s->npages, s->state_len, s->crc,
               (unsigned long long)v.page_count, (unsigned long long)v.state_bytes, v.crc);
        return;
    }
    bool verifying = s->st.caps & COLO_CAP_VERIFY;
    uint64_t npages = s->vm->ram_pages(s->vm->ctx);
    if (verifying && s->verify_next != npages) {
        finish(s, COLO_ABORT_PROTOCOL, true, "checkpoint %llu: hashes for %llu of %llu pages",
               (unsigned long long)m->epoch, (unsigned long long)s->verify_next,
               (unsigned long long)npages);
        return;
    }
    send_empty(s, COLO_MSG_VMSTATE_RECEIVED, m->epoch);
    const struct colo_vm *vm = s->vm;
    vm->pause(vm->ctx);
    if (!vm->load_state(vm->ctx, s->cfg.stage_state, s->state_len)) {
        finish(s, COLO_ABORT_STATE, true, "checkpoint %llu: device state rejected",
               (unsigned long long)m->epoch);
        return;
    }
    for (uint32_t i = 0; i < s->npages; i++) {
        vm->write_page(vm->ctx, s->cfg.stage_pfns[i],
                       s->cfg.stage_data + (size_t)i * COLO_PAGE_SIZE);
    }
    if (verifying && !verify(s, m->epoch)) {
        return;
    }
    if (s->undo_n) {
        s->st.overflow_checkpoints++;
        undo_discard(s);
    }
    s->st.epoch = m->epoch;
    s->st.replica = true;
    s->st.checkpoints++;
    colo_input_prune(&s->input, m->epoch);
    s->st.last_pages = s->npages;
    s->st.last_state_bytes = s->state_len;
    s->st.state = COLO_SEC_IDLE;
    s->npages = 0;
    s->state_len = 0;
    send_empty(s, COLO_MSG_VMSTATE_LOADED, m->epoch);
}

/*
 * A frame the primary's guest received. It belongs to a checkpoint after the replica's and at
 * most one past the one in flight (the primary takes one at a time), and epochs never go back:
 * anything else is a primary this side must not trust with its replica's input.
 */
static void log_input(struct colo_secondary *s, const struct colo_msg *m)
{
    uint64_t e = m->epoch;
    if (!(s->st.caps & COLO_CAP_INPUT) || e <= s->st.epoch || e > s->st.epoch + 2 ||
        colo_input_add(&s->input, e, m->payload, m->len) == COLO_INPUT_BAD) {
        finish(s, COLO_ABORT_PROTOCOL, true, "INPUT of epoch %llu with the replica at %llu%s",
               (unsigned long long)e, (unsigned long long)s->st.epoch,
               (s->st.caps & COLO_CAP_INPUT) ? "" : " (not agreed)");
    }
}

static void handle(struct colo_secondary *s, const struct colo_msg *m)
{
    enum colo_sec_state st = s->st.state;
    uint64_t want = s->st.epoch + 1; /* every checkpoint message carries its epoch */

    switch (m->type) {
    case COLO_MSG_HEARTBEAT:
        return; /* any state, any epoch: only proves the link is alive */
    case COLO_MSG_ABORT: {
        struct colo_abort a;
        colo_parse_abort(m, &a);
        if (a.reason == COLO_ABORT_STOPPED) {
            finish(s, COLO_ABORT_STOPPED, false, "stopped by the primary (%s)", a.text);
            return;
        }
        if (a.reason == COLO_ABORT_SWITCHOVER && st == COLO_SEC_IDLE && s->st.replica &&
            m->epoch == s->st.epoch) {
            /* The primary holds its guest exactly at our replica: we take over. */
            finish(s, COLO_ABORT_SWITCHOVER, false, "planned switchover at checkpoint %llu",
                   (unsigned long long)s->st.epoch);
            return;
        }
        finish(s, COLO_ABORT_PEER, false, "primary aborted: %s (%s)", colo_abort_name(a.reason),
               a.text);
        return;
    }
    case COLO_MSG_HELLO:
        if (st != COLO_SEC_WAIT_HELLO) {
            break;
        }
        handle_hello(s, m);
        return;
    case COLO_MSG_INPUT:
        if (st == COLO_SEC_IDLE || st == COLO_SEC_WAIT_SEND || st == COLO_SEC_RECEIVING) {
            log_input(s, m);
            return;
        }
        break;
    case COLO_MSG_GUEST_SHUTDOWN:
        if (st != COLO_SEC_IDLE) {
            break;
        }
        s->st.replica = false; /* a powered-off guest is not brought back by a failover */
        finish(s, COLO_ABORT_SHUTDOWN, false, "guest shut down on the primary");
        return;
    default:
        break;
    }

    bool in_checkpoint =
        st == COLO_SEC_IDLE || st == COLO_SEC_WAIT_SEND || st == COLO_SEC_RECEIVING;
    if (in_checkpoint && m->epoch != want) {
        finish(s, COLO_ABORT_EPOCH, true, "%s of epoch %llu, expected %llu", colo_msg_name(m->type),
               (unsigned long long)m->epoch, (unsigned long long)want);
        return;
    }
    switch (m->type) {
    case COLO_MSG_CHECKPOINT_REQUEST:
        if (st != COLO_SEC_IDLE) {
            break;
        }
        s->npages = 0;
        s->state_len = 0;
        s->crc = 0;
        s->verify_next = 0;
        s->st.state = COLO_SEC_WAIT_SEND;
        send_empty(s, COLO_MSG_CHECKPOINT_REPLY, m->epoch);
        return;
    case COLO_MSG_VMSTATE_SEND:
        if (st != COLO_SEC_WAIT_SEND) {
            break;
        }
        s->st.state = COLO_SEC_RECEIVING;
        return;
    case COLO_MSG_RAM_PAGES:
        if (st != COLO_SEC_RECEIVING) {
            break;
        }
        stage_pages(s, m);
        return;
    case COLO_MSG_DEVICE_STATE:
        if (st != COLO_SEC_RECEIVING) {
            break;
        }
        stage_state(s, m);
        return;
    case COLO_MSG_VERIFY:
        if (st != COLO_SEC_RECEIVING) {
            break;
        }
        stage_verify(s, m);
        return;
    case COLO_MSG_RAM_SYNC:
        /* WAIT_SEND: the primary holds its guest and sends an oversized dirty set this way. */
        if (st != COLO_SEC_IDLE && st != COLO_SEC_WAIT_SEND) {
            break;
        }
        sync_pages(s, m);
        return;
    case COLO_MSG_VMSTATE_SIZE:
        if (st != COLO_SEC_RECEIVING) {
            break;
        }
        end_checkpoint(s, m);
        return;
    default:
        break;
    }
    finish(s, COLO_ABORT_PROTOCOL, true, "unexpected %s in state %s", colo_msg_name(m->type),
           colo_sec_state_name(st));
}

bool colo_secondary_rx(struct colo_secondary *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len && !ended(s)) {
        size_t used;
        struct colo_msg m;
        enum colo_dec_result r = colo_dec_feed(&s->dec, p, len, &used, &m);
        p += used;
        len -= used;
        s->st.bytes_rx += used;
        if (r == COLO_DEC_ERROR) {
            /* A sealed record that fails its tag is forged, replayed or damaged: the session
             * cannot trust the stream past it (an attacker's bytes end it, never steer it). */
            bool forged = s->dec.err == COLO_E_AUTH || s->dec.err == COLO_E_FRAMING;
            finish(s, forged ? COLO_ABORT_AUTH : COLO_ABORT_DECODE, true, "%s",
                   colo_err_name(s->dec.err));
        } else if (r == COLO_DEC_MSG) {
            handle(s, &m);
        }
    }
    return !ended(s);
}

void colo_secondary_conn_lost(struct colo_secondary *s)
{
    if (ended(s)) {
        return;
    }
    bool mid = s->st.state == COLO_SEC_WAIT_SEND || s->st.state == COLO_SEC_RECEIVING;
    finish(s, COLO_ABORT_CONN_LOST, false, "connection lost%s",
           mid ? " mid-checkpoint; partial checkpoint dropped" : "");
}

bool colo_secondary_local_input(struct colo_secondary *s, const void *frame, size_t len)
{
    return s->st.replica && s->input.cap &&
           colo_input_add_local(&s->input, s->st.epoch, frame, len) == COLO_INPUT_OK;
}

void colo_secondary_stop(struct colo_secondary *s)
{
    if (!ended(s)) {
        finish(s, COLO_ABORT_STOPPED, true, "stopped on the secondary");
    }
}
