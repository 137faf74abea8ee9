// SPDX-License-Identifier: Apache-2.0
// The checkpoint engine on the board (cv/colo_board.h): the VM interface of colo/ over struct vm,
// the session's life over the replication link, the periodic driver, and the actions of the `colo`
// command (kernel/cmd/colo.c parses it and prints the replies).
#include <stdarg.h>
#include <string.h>

#include <cv/board.h>
#include <cv/colo_board.h>
#include <cv/colo_hb_link.h>
#include <cv/colo_keys.h>
#include <cv/colo_link.h>
#include <cv/config.h>
#include <cv/dirty.h>
#include <cv/hash.h>
#include <cv/hv.h>
#include <cv/hvnet.h>
#include <cv/le.h>
#include <cv/log.h>
#include <cv/net.h>
#include <cv/net_bridge.h>
#include <cv/page.h>
#include <cv/sections.h>
#include <cv/timer.h>
#include <cv/vm.h>

#include <colo/filter.h>
#include <colo/hb.h>
#include <colo/pair.h>
#include <colo/primary.h>
#include <colo/secondary.h>

#define STATE_CAP (256u << 10) /* device-state stream: a few KiB today, room to grow */
#define RETRY_US 2000000ull    /* primary: connect again after a refused or lost attempt */
#define IDLE_POLL_US 5000ull   /* checkpoint trigger checks while protected */
#define BUSY_POLL_US 1000ull   /* streaming or pre-copy: keep the link fed */
#define ACK_TIMEOUT_MS 30000u  /* a checkpoint not committed in this time ends the session */
#define HISTORY 64u            /* checkpoints kept for `colo history` */

struct ck_record {
    uint64_t epoch, pages, bytes, pause_us, xfer_us;
};

#define FILTER_BYTES (4u << 20) /* guest output held per checkpoint interval, at most */
#define FILTER_MIN_KIB 1u       /* below 2 nothing fits (the NIC asks room for a full-size frame) */
#define FILTER_EARLY_PERMILLE 500      /* half full: checkpoint now rather than stall the guest */
#define HB_PORT_OFFSET 1u              /* heartbeats on colo_port + 1 */
#define ANNOUNCE_ROUNDS 3u             /* gratuitous ARP + RARP rounds after a takeover */
#define INPUT_LOG_BYTES (256u << 10)   /* secondary: the guest's input since the replica's epoch */
#define URGENT_MAX_STALL_US 5000000ull /* the interrupt copies heartbeats this long at most */

enum link_phase {
    LINK_OFF,        /* not protecting (primary) / not listening (secondary) */
    LINK_CONNECTING, /* primary: connect in progress or waiting for the secondary */
    LINK_SESSION,    /* a connection carries a session */
    LINK_LISTENING,  /* secondary: waiting for a primary */
};

/*
 * The board's part in the pair. The engine objects (pri, sec) live one session each; who runs
 * the guest and when its output may go is decided by the pair machine (colo/colo_pair.c), which
 * this file feeds with the sessions' events and heartbeats and which acts through pair_ops.
 */
static struct {
    struct vm *vm;
    bool ready;
    bool no_key;       /* refused at boot: no pair key and not cv.insecure=1 */
    enum cv_role role; /* changes on failover (-> primary) and fencing (-> secondary) */
    enum link_phase phase;
    struct colo_pair pair;
    bool degraded;    /* primary: shown as "degraded" (runs or waits unprotected after a loss) */
    bool sess_open;   /* a session's start went to the pair machine and its end not yet */
    bool sec_stopped; /* secondary: `colo stop` typed; no listening until `colo start` */
    uint64_t sec_seen_epoch;
    /* calls into the pair machine do not nest: session events its ops cause wait here */
    bool in_pair;
    bool pend_start;
    uint8_t pend_end; /* 1 + enum colo_pair_end */
    enum colo_pair_state pair_before;
    uint64_t takeover_t0_us, takeover_t1_us, takeover_last_hb_us, takeover_epoch;
    char why[160]; /* the board's own reason for its state (failover, fencing, ...) */
    uint64_t attempts;
    struct colo_pri_settings set;
    uint32_t output_delay_ms;
    uint64_t output_since_us; /* first frame held for the open epoch; 0: none */
    bool verify;
    uint64_t *stage_pfns;
    uint8_t *stage_data;
    uint32_t stage_pages;
    uint8_t *stage_state, *verify_state;
    uint32_t *hashes;
    uint64_t *bitmap;
    /* secondary: the undo log of overflow checkpoints (colo_sec_config), one page per RAM page */
    uint8_t *undo_data;
    uint64_t *undo_pfns, *undo_map;
    bool undo_tried;
    uint8_t *msg;
    uint8_t *input_log; /* INPUT_LOG_BYTES, or NULL: COLO_CAP_INPUT not offered */
    uint32_t last_replayed;
    uint64_t input_replayed;
    uint64_t hb_urgent; /* rounds of heartbeats the urgent interrupt sent again */
    struct colo_hello hello;
    struct colo_pri_config pc;
    /* output commit */
    struct colo_filter filter;
    uint8_t *filter_buf; /* FILTER_BYTES; the filter may use less (colo set buffer-kib) */
    struct net_stage stage;
    /* heartbeats */
    uint64_t boot_id; /* this boot's id in heartbeats: a restart shows as a new one */
    unsigned announce_left;
    uint64_t failovers, last_gap_us;
    /* events */
    const char *shown_state;
    uint64_t sessions;
    bool stop_pending;
    uint64_t poll_period_us; /* the engine's timer period now; 0: stopped */
    struct ck_record hist[HISTORY];
    uint64_t hist_count, hist_seen;
} cb;

static struct colo_primary pri;
static struct colo_secondary sec;

static void sec_listen(void);
static void pri_connect(void);
static void pair_drain(void);

/* Every call into the pair machine goes through PAIR(), so that a session event its ops cause
 * (a connect that fails at once, a lost connection) waits until the machine has returned. */
static void pair_enter(void)
{
    cb.pair_before = cb.pair.state;
    cb.in_pair = true;
}

static void pair_leave(void)
{
    cb.in_pair = false;
    pair_drain();
}

#define PAIR(call) (pair_enter(), (call), pair_leave())

static void pair_session_start(void)
{
    cb.sess_open = true;
    cb.sec_seen_epoch = 0;
    if (cb.in_pair) {
        cb.pend_start = true;
    } else {
        PAIR(colo_pair_session_start(&cb.pair, time_now_us()));
    }
}

static void pair_session_end(enum colo_pair_end why)
{
    if (cb.in_pair) {
        cb.pend_end = (uint8_t)(1 + why);
    } else {
        PAIR(colo_pair_session_end(&cb.pair, why, time_now_us()));
    }
}

static void pair_drain(void)
{
    while (!cb.in_pair && (cb.pend_start || cb.pend_end)) {
        if (cb.pend_start) {
            cb.pend_start = false;
            PAIR(colo_pair_session_start(&cb.pair, time_now_us()));
        } else {
            enum colo_pair_end why = (enum colo_pair_end)(cb.pend_end - 1);
            cb.pend_end = 0;
            PAIR(colo_pair_session_end(&cb.pair, why, time_now_us()));
        }
    }
}

/* ---- the VM interface (colo/include/colo/vm.h) over this board's VM ---- */

static void v_pause(void *ctx)
{
    vm_pause(ctx);
}

static void v_resume(void *ctx)
{
    vm_resume(ctx);
}

static uint64_t v_ram_pages(void *ctx)
{
    return ((struct vm *)ctx)->ram.size / COLO_PAGE_SIZE;
}

static void v_read_page(void *ctx, uint64_t pfn, void *buf)
{
    memcpy(buf, ((struct vm *)ctx)->ram.hva + pfn * COLO_PAGE_SIZE, COLO_PAGE_SIZE);
}

static void v_write_page(void *ctx, uint64_t pfn, const void *buf)
{
    memcpy(((struct vm *)ctx)->ram.hva + pfn * COLO_PAGE_SIZE, buf, COLO_PAGE_SIZE);
}

static bool v_log_start(void *ctx)
{
    struct vm *vm = ctx;
    if (vm->dirty.mode != DIRTY_OFF) {
        dirty_log_stop(vm);
    }
    /*
     * The CPU's own dirty state where it has it (no fault per first write), unless the boot
     * arguments force write protection: the mode every CPU without HAFDBS >= 2 runs, testable
     * on one that has it.
     */
    enum cv_dirty_mode want = config_get()->dirty_mode;
    bool dbm = dirty_mode_supported(vm, DIRTY_HW);
    if (want == CV_DIRTY_HW && !dbm) {
        log_warn("colo: cv.dirty_mode=dbm but the CPU has no stage-2 dirty state: using wp");
    }
    enum dirty_mode m = want != CV_DIRTY_WP && dbm ? DIRTY_HW : DIRTY_WP;
    log_info("colo: dirty logging %s (cv.dirty_mode=%s)", dirty_mode_name(m),
             config_dirty_mode_name(want));
    if (!dirty_log_start(vm, m)) {
        return false;
    }
    vm->dirty.owner = "colo";
    return true;
}

static void v_log_stop(void *ctx)
{
    struct vm *vm = ctx;
    if (vm->dirty.owner) {
        dirty_log_stop(vm);
        vm->dirty.owner = NULL;
    }
}

static uint64_t v_harvest(void *ctx, uint64_t *bitmap)
{
    return dirty_log_harvest(ctx, bitmap);
}

static uint64_t v_dirty_count(void *ctx)
{
    return dirty_log_pending(ctx);
}

static size_t v_save_state(void *ctx, void *buf, size_t cap)
{
    return vm_state_save(ctx, buf, cap);
}

static bool v_load_state(void *ctx, const void *buf, size_t len)
{
    return vm_state_load(ctx, buf, len);
}

static uint32_t v_page_hash(void *ctx, uint64_t pfn)
{
    return colo_page_hash(((struct vm *)ctx)->ram.hva + pfn * COLO_PAGE_SIZE);
}

static void v_describe(void *ctx, const void *buf, size_t len, size_t off, char *out, size_t n)
{
    (void)ctx;
    vm_state_describe(buf, len, off, out, n);
}

static struct colo_vm vmif = {
    .pause = v_pause,
    .resume = v_resume,
    .ram_pages = v_ram_pages,
    .read_page = v_read_page,
    .write_page = v_write_page,
    .log_start = v_log_start,
    .log_stop = v_log_stop,
    .harvest = v_harvest,
    .save_state = v_save_state,
    .load_state = v_load_state,
    .dirty_count = v_dirty_count,
    .page_hash = v_page_hash,
    .describe_state = v_describe,
};

/* The staging area, allocated once on first use; false (logged) if memory ran out. */
static bool stage_ready(void)
{
    if (!cb.stage_data) {
        cb.stage_data = page_alloc_buf((uint64_t)cb.stage_pages * COLO_PAGE_SIZE);
        if (!cb.stage_data) {
            log_err("colo: no memory for %u pages of staging", cb.stage_pages);
            return false;
        }
        pri.cfg.stage_data = cb.stage_data;
    }
    return true;
}

/* ---- identity: what both boards must agree on (HELLO) ---- */

static void make_hello(struct vm *vm)
{
    struct colo_hello *h = &cb.hello;
    memset(h, 0, sizeof(*h));
    h->ver_min = h->ver_max = COLO_PROTO_VERSION;
    h->caps = COLO_CAP_VERIFY | COLO_CAP_INPUT;
    size_t blen = strlen(board_desc.name);
    memcpy(h->board, board_desc.name, MIN(blen, (size_t)COLO_BOARD_LEN - 1));
    h->ram_bytes = vm->ram.size;
    /* The device set: every state section's tag and version, and the guest's MAC. */
    uint32_t d = 0;
    for (unsigned i = 0; i < vm->vmstate_count; i++) {
        d = crc32c(d, &vm->vmstate[i].tag, 4);
        d = crc32c(d, &vm->vmstate[i].version, 4);
    }
    d = crc32c(d, config_get()->guest_mac, 6);
    h->devset_id = ((uint64_t)vm->vmstate_count << 32) | d;
    /* The image: its header and entry table carry every payload's CRC; and our version. */
    size_t len = (size_t)(__guest_image_end - __guest_image_start);
    uint32_t ic = crc32c(0, __guest_image_start, MIN(len, (size_t)4096));
    uint32_t vc = crc32c(0, CV_VERSION, strlen(CV_VERSION));
    le32_put(h->image_id, ic);
    le64_put(h->image_id + 4, len);
    le32_put(h->image_id + 12, vc);
}

/* ---- state names, event lines ---- */

static const char *state_name(void)
{
    if (!cb.ready) {
        return "unavailable";
    }
    if (cb.role == CV_ROLE_PRIMARY) {
        switch (cb.pair.state) {
        case COLO_PAIR_BOOT_CHECK:
            return "peer-check";
        case COLO_PAIR_PROTECTING:
            return colo_primary_active(&pri) ? colo_pri_state_name(pri.state) : "connecting";
        case COLO_PAIR_DECIDING:
            return "degraded";
        case COLO_PAIR_SHUTDOWN:
            return "stopped";
        case COLO_PAIR_CONNECTING:
            return cb.degraded ? "degraded" : "connecting";
        default:
            if (cb.degraded) {
                return "degraded";
            }
            return pri.state == COLO_PRI_IDLE ? "none" : "stopped";
        }
    }
    if (cb.phase == LINK_OFF) {
        return "stopped";
    }
    if (cb.phase == LINK_LISTENING && sec.st.state == COLO_SEC_WAIT_HELLO) {
        return "listening";
    }
    switch (sec.st.state) {
    case COLO_SEC_WAIT_HELLO:
        return "handshake";
    case COLO_SEC_IDLE:
    case COLO_SEC_WAIT_SEND:
    case COLO_SEC_RECEIVING:
        return sec.st.replica ? "protected" : "sync";
    case COLO_SEC_CLOSED:
        return "stopped";
    case COLO_SEC_FAILED:
    default:
        return "failed";
    }
}

static uint64_t epoch_now(void)
{
    return cb.role == CV_ROLE_PRIMARY ? pri.st.epoch : cb.pair.epoch;
}

static const char *reason_text(void)
{
    if (cb.why[0]) {
        return cb.why;
    }
    const char *r = cb.role == CV_ROLE_PRIMARY ? pri.st.reason_text : sec.st.reason_text;
    return r[0] ? r : "-";
}

static void set_why(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void set_why(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cv_vsnprintf(cb.why, sizeof(cb.why), fmt, ap);
    va_end(ap);
}

static void peer_str(char *buf, size_t n)
{
    config_fmt_ip4(config_get()->peer_ip, buf, n);
}

static void event(const char *what)
{
    char peer[16];
    peer_str(peer, sizeof(peer));
    const char *st = state_name();
    bool why = strcmp(st, "failed") == 0 || strcmp(st, "stopped") == 0 ||
               strcmp(st, "degraded") == 0 || cb.why[0];
    cv_print_line(
        "colo: event=%s role=%s state=%s peer=%s epoch=%llu checkpoints=%llu%s%s%s", what,
        config_role_name(cb.role), st, peer, (unsigned long long)epoch_now(),
        (unsigned long long)(cb.role == CV_ROLE_PRIMARY ? pri.st.checkpoints : sec.st.checkpoints),
        why ? " reason=\"" : "", why ? reason_text() : "", why ? "\"" : "");
    cb.shown_state = st;
}

static void maybe_event(void)
{
    const char *st = state_name();
    if (!cb.shown_state || strcmp(cb.shown_state, st) != 0) {
        event("state");
    }
}

/*
 * The engine's wake-up timer (the main loop also polls it every pass). Re-armed only when the
 * period changes: the poll runs after every guest exit, and re-programming the timer there
 * would be work on the hot path for nothing.
 */
static void schedule(uint64_t us)
{
    if (cb.poll_period_us != us) {
        cb.poll_period_us = us;
        hv_periodic_start(HV_PERIODIC_CHECKPOINT, us, (hv_periodic_fn)colo_board_poll, NULL);
    }
}

static void unschedule(void)
{
    cb.poll_period_us = 0;
    hv_periodic_stop(HV_PERIODIC_CHECKPOINT);
}

static uint64_t board_now_us(void)
{
    return time_now_us();
}

/* ---- output commit: the buffer filter as a stage of the guest's transmit pipeline ---- */

static void filter_emit(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    net_guest_emit(frame, len);
    /* A commit's release can hold the loop for many frames (a full guest ring is waited out
     * per frame): the peer must go on hearing this board meanwhile. */
    colo_pair_keepalive(&cb.pair, time_now_us(), timer_arch_ticks());
}

/* The guest received a frame: the secondary's input log gets a copy (colo/input.h). */
static void input_tap(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    if (cb.role == CV_ROLE_PRIMARY && colo_primary_active(&pri)) {
        colo_primary_input(&pri, frame, len);
    }
}

/* A frame for the guest reached this board while its replica is held: if the primary is
 * silent, a client sent it into the dead window (colo_pair_input_local decides). */
static void held_tap(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    if (cb.role == CV_ROLE_SECONDARY && !(frame[0] & 1) &&
        colo_pair_input_local(&cb.pair, time_now_us())) {
        colo_secondary_local_input(&sec, frame, len);
    }
}

static enum net_verdict stage_process(struct net_stage *st, const uint8_t *frame, size_t len)
{
    (void)st;
    if (!cb.filter.holding) {
        return NET_PASS;
    }
    if (!colo_filter_put(&cb.filter, frame, len)) {
        return NET_DROP; /* cannot happen: the NIC asked stage_room() before taking the frame */
    }
    if (!cb.output_since_us) {
        cb.output_since_us = time_now_us();
    }
    if (colo_filter_fill_permille(&cb.filter) >= FILTER_EARLY_PERMILLE &&
        colo_primary_active(&pri)) {
        colo_primary_request(&pri);
    }
    return NET_TAKEN;
}

static bool stage_room(struct net_stage *st, size_t len)
{
    (void)st;
    if (!colo_filter_room(&cb.filter, len)) {
        if (colo_primary_active(&pri)) {
            colo_primary_request(&pri);
        }
        return false;
    }
    return true;
}

static void on_pause(void *ctx, uint64_t epoch)
{
    (void)ctx;
    cb.output_since_us = 0; /* what was held so far belongs to this checkpoint */
    if (!cb.filter.holding) {
        colo_filter_start(&cb.filter, epoch + 1);
    } else {
        colo_filter_checkpoint(&cb.filter, epoch);
    }
}

static void on_commit(void *ctx, uint64_t epoch)
{
    (void)ctx;
    colo_filter_commit(&cb.filter, epoch);
    net_guest_tx_kick();
    /* A new secondary holds our guest: the takeover is complete. */
    cb.degraded = false;
    cb.why[0] = '\0';
    PAIR(colo_pair_session_committed(&cb.pair, epoch, time_now_us()));
}

/* ---- the primary's session ---- */

static void pri_connected(void *ctx)
{
    (void)ctx;
    if (!stage_ready()) {
        colo_link_shutdown();
        cb.phase = LINK_OFF;
        pair_session_end(COLO_PAIR_END_LOST);
        return;
    }
    cb.phase = LINK_SESSION;
    cb.sessions++;
    pri.set = cb.set;
    cb.hist_seen = 0;
    colo_primary_start_sealed(&pri, colo_link_keys());
    schedule(BUSY_POLL_US);
    pair_session_start();
    maybe_event();
}

/* Bytes from the peer, or ours acknowledged by it: the session is alive. */
static void session_heard(void)
{
    if (!cb.in_pair) {
        colo_pair_session_rx(&cb.pair, time_now_us());
    }
}

static void pri_rx(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    colo_primary_rx(&pri, data, len);
    session_heard();
}

static void pri_lost(void *ctx, const char *why)
{
    (void)ctx;
    if (colo_primary_active(&pri)) {
        log_warn("colo: replication link: %s", why);
        colo_primary_conn_lost(&pri); /* the poll hands the end to the pair machine */
    } else if (cb.phase == LINK_CONNECTING) {
        if (cb.attempts <= 1) {
            log_info("colo: the secondary is not reachable yet (%s); retrying", why);
        }
        cb.phase = LINK_OFF;
        pair_session_end(COLO_PAIR_END_LOST);
    }
    maybe_event();
}

/* The peer's TCP acknowledged our bytes: it lives, as far as the session can tell. */
static void link_acked(void *ctx)
{
    (void)ctx;
    session_heard();
}

static const struct colo_link_ops pri_ops = {pri_connected, pri_rx, pri_lost, NULL, link_acked};

static void pri_connect(void)
{
    const struct cv_config *c = config_get();
    cb.attempts++;
    cb.phase = LINK_CONNECTING;
    if (!colo_link_connect(c->peer_ip, (uint16_t)c->colo_port, &pri_ops)) {
        cb.phase = LINK_OFF;
        pair_session_end(COLO_PAIR_END_LOST);
    }
}

/* ---- the secondary's session ---- */

/* After the secondary engine took bytes: a new commit, or the session's end, for the machine. */
static void sec_track(void)
{
    if (sec.st.replica && sec.st.epoch != cb.sec_seen_epoch) {
        cb.sec_seen_epoch = sec.st.epoch;
        PAIR(colo_pair_session_committed(&cb.pair, sec.st.epoch, time_now_us()));
    }
    if (!cb.sess_open || (sec.st.state != COLO_SEC_CLOSED && sec.st.state != COLO_SEC_FAILED)) {
        return;
    }
    cb.sess_open = false;
    enum colo_pair_end why = COLO_PAIR_END_LOST;
    switch (sec.st.reason) {
    case COLO_ABORT_STOPPED:
        why = COLO_PAIR_END_STOPPED;
        break;
    case COLO_ABORT_SHUTDOWN:
        why = COLO_PAIR_END_SHUTDOWN;
        break;
    case COLO_ABORT_SWITCHOVER:
        why = sec.st.replica ? COLO_PAIR_END_SWITCHOVER : COLO_PAIR_END_LOST;
        break;
    case COLO_ABORT_DIVERGED:
        PAIR(colo_pair_replica_invalid(&cb.pair, time_now_us()));
        break;
    default:
        break;
    }
    pair_session_end(why);
}

/*
 * The undo area, allocated once: at boot on a secondary, when the first primary connects on a
 * board that became one later (a primary never needs it). Its pages and page numbers are written
 * before they are read (undo_n bounds both), so they are not zeroed: zeroing guest RAM's worth
 * takes long enough (~0.4 s under TCG) that inside a handshake the primary could think the
 * secondary died. If it does not fit, the secondary still answers, and refuses the handshake.
 */
static void undo_ready(void)
{
    if (cb.undo_tried) {
        return;
    }
    cb.undo_tried = true;
    uint64_t pages = cb.vm->ram.size / COLO_PAGE_SIZE;
    cb.undo_pfns = page_alloc_buf_uninit(pages * sizeof(uint64_t));
    cb.undo_map = page_alloc_buf(dirty_bitmap_words(pages) * sizeof(uint64_t));
    cb.undo_data = page_alloc_buf_uninit(pages * COLO_PAGE_SIZE);
    if (!cb.undo_pfns || !cb.undo_map || !cb.undo_data) {
        log_err("colo: no memory for the %llu MiB undo log (all of guest RAM); sessions will be "
                "refused",
                (unsigned long long)(cb.vm->ram.size >> 20));
        cb.undo_data = NULL;
    }
}

static void sec_connected(void *ctx)
{
    (void)ctx;
    if (!stage_ready()) {
        colo_link_shutdown();
        cb.phase = LINK_OFF;
        return;
    }
    undo_ready();
    struct colo_sec_config sc = {.local = cb.hello,
                                 .stage_pfns = cb.stage_pfns,
                                 .stage_data = cb.stage_data,
                                 .stage_pages = cb.stage_pages,
                                 .stage_state = cb.stage_state,
                                 .stage_state_cap = STATE_CAP,
                                 .verify_hashes = cb.hashes,
                                 .verify_state = cb.verify_state,
                                 .undo_data = cb.undo_data,
                                 .undo_pfns = cb.undo_pfns,
                                 .undo_map = cb.undo_map,
                                 .undo_pages = cb.vm->ram.size / COLO_PAGE_SIZE,
                                 .input_mem = cb.input_log,
                                 .input_cap = cb.input_log ? INPUT_LOG_BYTES : 0,
                                 .keys = colo_link_keys()};
    colo_secondary_init(&sec, &vmif, colo_link_transport(), &sc);
    cb.phase = LINK_SESSION;
    cb.sessions++;
    cb.why[0] = '\0';
    pair_session_start();
    maybe_event();
}

static void sec_rx(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    colo_secondary_rx(&sec, data, len);
    session_heard();
    sec_track();
    maybe_event();
}

static void sec_lost(void *ctx, const char *why)
{
    (void)ctx;
    if (sec.st.state != COLO_SEC_CLOSED && sec.st.state != COLO_SEC_FAILED) {
        log_warn("colo: replication link: %s", why);
    }
    colo_secondary_conn_lost(&sec);
    if (cb.phase != LINK_OFF) {
        cb.phase = LINK_LISTENING;
    }
    sec_track();
    maybe_event();
}

static const struct colo_link_ops sec_ops = {sec_connected, sec_rx, sec_lost, NULL, link_acked};

static void sec_listen(void)
{
    const struct cv_config *c = config_get();
    memset(&sec.st, 0, sizeof(sec.st));
    sec.st.role = COLO_ROLE_SECONDARY;
    sec.st.state = COLO_SEC_WAIT_HELLO;
    cb.phase = colo_link_listen((uint16_t)c->colo_port, &sec_ops) ? LINK_LISTENING : LINK_OFF;
}

bool colo_board_guest_held(char *why, size_t len)
{
    if (!cb.ready) {
        return false;
    }
    char peer[16];
    peer_str(peer, sizeof(peer));
    if (cb.role == CV_ROLE_SECONDARY) {
        enum colo_pair_state st = cb.pair.state;
        if (st == COLO_PAIR_ARMED || st == COLO_PAIR_CLAIMING) {
            cv_snprintf(why, len,
                        "this board holds the replica of %s (checkpoint %llu); use colo failover",
                        peer, (unsigned long long)cb.pair.epoch);
        } else if (cb.phase == LINK_SESSION) {
            cv_snprintf(why, len, "a COLO session with %s is replicating into this guest", peer);
        } else if (cb.pair.fences || cb.pair.dropped_boot) {
            cv_snprintf(why, len, "%s runs the guest; this board's copy is stale", peer);
        } else {
            return false;
        }
        return true;
    }
    if (colo_primary_active(&pri)) {
        /* The engine pauses and resumes the guest around each checkpoint; a hand-made resume
         * could run it in the middle of a capture. */
        cv_snprintf(why, len, "a COLO session with %s is active; use colo stop first", peer);
        return true;
    }
    return false;
}

/* ---- failover, fencing, announcements ---- */

static void announce(void)
{
    const struct cv_config *c = config_get();
    net_announce(c->guest_mac, c->guest_ip);
}

/* ---- the pair machine's ops: what its decisions do on this board ---- */

static void op_hold(void *ctx)
{
    (void)ctx;
    colo_filter_start(&cb.filter, UINT64_MAX);
}

static void op_release(void *ctx)
{
    (void)ctx;
    colo_filter_flush(&cb.filter);
    net_guest_tx_kick();
}

static void op_connect(void *ctx)
{
    (void)ctx;
    pri_connect();
    schedule(IDLE_POLL_US * 20);
}

static void op_listen(void *ctx)
{
    (void)ctx;
    if (!cb.sec_stopped && cb.phase != LINK_LISTENING && cb.phase != LINK_SESSION) {
        undo_ready();
        sec_listen();
    }
}

static void op_end_session(void *ctx)
{
    (void)ctx;
    if (colo_primary_active(&pri)) {
        colo_primary_conn_lost(&pri);
    }
    if (cb.role == CV_ROLE_SECONDARY && sec.st.state != COLO_SEC_CLOSED &&
        sec.st.state != COLO_SEC_FAILED) {
        colo_secondary_conn_lost(&sec); /* a partial checkpoint is dropped, never applied */
    }
    colo_link_shutdown();
    cb.phase = LINK_OFF;
    cb.sess_open = false;
}

static void replay_frame(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    net_guest_deliver(frame, len);
}

/* This board's held replica becomes the running guest. */
static bool op_take_over(void *ctx, uint64_t epoch)
{
    (void)ctx;
    struct vm *vm = cb.vm;
    cb.takeover_t0_us = time_now_us();
    cb.takeover_last_hb_us = MAX(cb.pair.peer.path[0].last_rx_us, cb.pair.peer.path[1].last_rx_us);
    /*
     * The replica's virtual-counter offset was relative to the primary's system counter:
     * shift it by the two boards' counter difference (from heartbeats) so the guest's clock
     * goes on from where it was, plus the real time that passed.
     */
    if (cb.pair.peer.heard_any) {
        vm_arch_shift_virtual_time(vm, cb.pair.peer.clock_offset_ticks);
    }
    vm_arch_sync_guest_code(vm);
    cb.role = CV_ROLE_PRIMARY;
    cb.degraded = true;
    cb.phase = LINK_OFF;
    memset(&pri.st, 0, sizeof(pri.st));
    pri.st.epoch = epoch;
    pri.state = COLO_PRI_IDLE;
    cb.takeover_epoch = epoch;
    vm_resume(vm);
    cb.announce_left = ANNOUNCE_ROUNDS;
    announce();
    /* What the dead primary's guest had received since our checkpoint: the clients sent it once
     * and would otherwise wait for their backed-off retransmission timers (colo/input.h). */
    cb.last_replayed = colo_input_replay(&sec.input, epoch, replay_frame, NULL);
    cb.input_replayed += cb.last_replayed;
    cb.failovers++;
    cb.takeover_t1_us = time_now_us();
    schedule(IDLE_POLL_US * 20);
    return true;
}

/* The peer runs the guest now: this board's copy and its held output must never be used. */
static void op_fence(void *ctx)
{
    (void)ctx;
    colo_filter_discard(&cb.filter);
    vm_pause(cb.vm);
    v_log_stop(cb.vm);
    cb.role = CV_ROLE_SECONDARY;
    cb.degraded = false;
}

static void op_send_hb(void *ctx, const struct colo_hb *h)
{
    (void)ctx;
    const struct cv_config *c = config_get();
    uint16_t port = (uint16_t)(c->colo_port + HB_PORT_OFFSET);
    const uint32_t ip[COLO_HB_PATHS] = {c->peer_ip, c->peer_svc_ip};
    struct colo_hb m = *h;
    for (unsigned path = 0; path < COLO_HB_PATHS; path++) {
        uint8_t buf[COLO_HB_LEN];
        m.path = (uint8_t)path;
        size_t n = colo_hb_encode(buf, sizeof(buf), &m, colo_keys_hb());
        colo_hb_link_send(path, ip[path], port, buf, n);
    }
}

static void op_send_witness(void *ctx, unsigned i, const void *buf, size_t len)
{
    (void)ctx;
    const struct cv_witness_set *ws = &config_get()->witness;
    if (i < ws->n) {
        colo_hb_link_witness_send(ws->w[i].ip, ws->w[i].port, buf, len);
    }
}

static void op_event(void *ctx, const char *what, const char *why)
{
    (void)ctx;
    if (strcmp(what, "failover") == 0) {
        char peer[16];
        peer_str(peer, sizeof(peer));
        bool planned = strstr(why, "switchover") != NULL;
        uint64_t t0 = cb.takeover_t0_us, t1 = cb.takeover_t1_us;
        cb.last_gap_us = planned || !cb.takeover_last_hb_us ? t1 - t0 : t1 - cb.takeover_last_hb_us;
        set_why("took over from the primary at checkpoint %llu (%s)",
                (unsigned long long)cb.takeover_epoch, why);
        cv_print_line("colo: event=failover role=primary state=degraded peer=%s epoch=%llu "
                      "planned=%s gap_ms=%llu takeover_us=%llu reason=\"%s\" replayed=%u",
                      peer, (unsigned long long)cb.takeover_epoch, planned ? "yes" : "no",
                      (unsigned long long)(cb.last_gap_us / 1000), (unsigned long long)(t1 - t0),
                      why, cb.last_replayed);
        cb.shown_state = state_name();
    } else if (strcmp(what, "fenced") == 0) {
        set_why("%s", why);
        log_warn("colo: guest held: %s", why);
        event("fenced");
    } else if (strcmp(what, "alone") == 0) {
        if (cb.pair_before == COLO_PAIR_DECIDING && cb.pair.want_protect) {
            cb.degraded = true;
            set_why("%s", why);
            log_warn("colo: primary degraded: %s", why);
        } else {
            log_info("colo: %s; the guest's output goes out", why);
        }
    } else if (strcmp(what, "dropped") == 0) {
        /* `reason` keeps the session's own (`colo status` shows replica=stale). */
        log_warn("colo: replica dropped: %s", why);
    } else {
        if (strcmp(what, "shutdown") == 0) {
            set_why("%s", why);
        }
        log_info("colo: %s: %s", what, why);
    }
}

static const struct colo_pair_ops pair_ops = {
    .hold_output = op_hold,
    .release_output = op_release,
    .connect = op_connect,
    .listen = op_listen,
    .end_session = op_end_session,
    .take_over = op_take_over,
    .fence = op_fence,
    .send_hb = op_send_hb,
    .send_witness = op_send_witness,
    .event = op_event,
};

/* ---- heartbeats and witnesses ---- */

/* A reply counts only from the address and port it was asked of: which witness answered is
 * what the majority is counted by. */
static void witness_rx(void *ctx, uint32_t ip, uint16_t port, const void *data, size_t len)
{
    (void)ctx;
    const struct cv_witness_set *ws = &config_get()->witness;
    unsigned i = 0;
    while (i < ws->n && !(ws->w[i].ip == ip && ws->w[i].port == port)) {
        i++;
    }
    /* From no witness asked (i == n): the machine refuses and counts it like garbage. */
    PAIR(colo_pair_witness_rx(&cb.pair, i, data, len, time_now_us()));
    maybe_event();
}

static void hb_rx(void *ctx, unsigned path, const void *data, size_t len)
{
    (void)ctx;
    PAIR(colo_pair_hb_rx(&cb.pair, path, data, len, time_now_us(), timer_arch_ticks()));
    maybe_event();
}

/*
 * Interrupt context (hv_urgent_start): the main loop has not sent a heartbeat for one and a
 * half periods, because it is inside a long loop (a guest reset clearing RAM, a release of a
 * large held output, an overflow checkpoint's copy). The last heartbeats go out again, each
 * as its next copy (colo_hb_again: `again` + 1, sealed anew): a copy is life and no news to the
 * peer (colo/hb.h), and what it says is still true, since only the main loop changes the pair's
 * state. It cannot be the same bytes again: the peer refuses a datagram that is not newer than
 * the last, which is what keeps a recorded one from passing for life. So this seals in
 * interrupt context, and colo_port_hmac_sha256 must allow that (no heap, no shared state). A
 * main loop silent for more than URGENT_MAX_STALL_US is a board that hangs, and it must look
 * dead: the copies stop.
 */
static bool hb_again(void *payload, size_t len)
{
    return colo_hb_again(payload, len, colo_keys_hb());
}

static void hb_urgent(void *ctx)
{
    (void)ctx;
    uint64_t now = time_now_us(), last = cb.pair.hb_sent_us;
    uint64_t late = (uint64_t)cb.pair.peer.period_ms * 1500u;
    if (last && now - last >= late && now - last <= URGENT_MAX_STALL_US) {
        if (colo_hb_link_resend(hb_again)) {
            cb.hb_urgent++;
        }
    }
}

/* Every heartbeat period: the machine sends and acts on what the peer's silence or claims
 * mean. */
static void hb_tick(void *ctx)
{
    (void)ctx;
    PAIR(colo_pair_tick(&cb.pair, time_now_us(), timer_arch_ticks()));
    if (cb.announce_left) {
        cb.announce_left--;
        announce();
    }
    maybe_event();
}

/* ---- driver ---- */

void colo_board_poll(void)
{
    if (!cb.ready) {
        return;
    }
    if (cb.role != CV_ROLE_PRIMARY) {
        maybe_event();
        return;
    }
    if (colo_primary_active(&pri)) {
        if (cb.vm->state == VM_STOPPED) {
            colo_primary_guest_shutdown(&pri);
        }
        /* Output waiting for a checkpoint starts one early: a reply leaves after output_delay
         * plus the checkpoint, not a whole checkpoint_delay. */
        if (cb.output_delay_ms && cb.output_since_us && pri.state == COLO_PRI_PROTECTED &&
            pri.ck == COLO_CK_NONE &&
            time_now_us() - cb.output_since_us >= (uint64_t)cb.output_delay_ms * 1000) {
            colo_primary_request(&pri);
        }
        colo_primary_poll(&pri);
        if (pri.st.checkpoints != cb.hist_seen) {
            cb.hist_seen = pri.st.checkpoints;
            const struct colo_pri_stats *s = &pri.st;
            cb.hist[cb.hist_count++ % HISTORY] = (struct ck_record){
                s->epoch, s->last_pages, s->last_bytes, s->last_pause_us, s->last_xfer_us};
        }
        bool busy = pri.state == COLO_PRI_SYNC || pri.ck != COLO_CK_NONE;
        schedule(busy ? BUSY_POLL_US : IDLE_POLL_US);
    } else if (cb.phase == LINK_SESSION || cb.stop_pending) {
        /* The session just ended; the engine closed the transport. */
        cb.stop_pending = false;
        colo_link_shutdown();
        cb.phase = LINK_OFF;
        cb.sess_open = false;
        enum colo_pair_end why = COLO_PAIR_END_LOST;
        switch (pri.st.reason) {
        case COLO_ABORT_STOPPED:
            /* Held output stays held until the secondary says it dropped its replica: the
             * STOPPED message may never have reached it. */
            why = COLO_PAIR_END_STOPPED;
            unschedule();
            break;
        case COLO_ABORT_SHUTDOWN:
            colo_filter_flush(&cb.filter); /* committed with the shutdown */
            why = COLO_PAIR_END_SHUTDOWN;
            unschedule();
            break;
        case COLO_ABORT_SWITCHOVER:
            /* Everything the guest sent was committed; it stays held here from now on. */
            colo_filter_flush(&cb.filter);
            net_guest_tx_kick();
            why = COLO_PAIR_END_SWITCHOVER;
            break;
        default:
            cb.degraded = true;
            break;
        }
        pair_session_end(why);
    }
    maybe_event();
}

/*
 * This boot's id, from the board's random generator: the witnesses and the peer tell boots
 * apart by it and refuse an earlier boot's messages, so it must not repeat nor be guessable
 * (a counter reading is both, near enough). Without an entropy source the board refuses to
 * protect, unless cv.insecure=1 (tests): then the counter's reading mixed with the guest's MAC
 * and the board id, never 0. False: no id.
 */
static bool boot_id_make(const struct cv_config *c, uint64_t *out)
{
    uint64_t x = 0;
    if (colo_port_random(&x, sizeof(x)) && x) {
        *out = x;
        return true;
    }
    if (!c->insecure) {
        return false;
    }
    log_warn("colo: no random generator: the boot id is a counter's hash (cv.insecure=1)");
    x = timer_arch_ticks() ^ ((uint64_t)(uint8_t)c->board << 56);
    for (unsigned i = 0; i < 6; i++) {
        x ^= (uint64_t)c->guest_mac[i] << (8 * i);
        x *= 0x100000001b3ull;
    }
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    *out = x ? x : 1;
    return true;
}

void colo_board_init(struct vm *vm)
{
    const struct cv_config *c = config_get();
    cb.vm = vm;
    cb.role = c->role;
    colo_keys_init();
    if (!colo_keys_pair() && !c->insecure) {
        /* Without a key anyone on either network could feed the replica or fence the guest:
         * refusing is the only safe answer (docs/security.md). */
        cb.no_key = true;
        log_err("colo: no pair key (cv.key): protection is refused. Generate one with "
                "tools/cv-keygen and give both boards the same, or boot with cv.insecure=1 for "
                "an unauthenticated link (tests only)");
        return;
    }
    if (c->witness.n && !colo_keys_witness() && !c->insecure) {
        cb.no_key = true;
        log_err("colo: witnesses are configured but no witness key (cv.witness_key): protection "
                "is refused (tools/cv-keygen)");
        return;
    }
    if (c->insecure) {
        log_warn("colo: cv.insecure=1: the replication link, heartbeats and witness messages are "
                 "NOT authenticated; anyone on those networks can take the guest over");
    }
    vmif.ctx = vm;
    uint64_t pages = vm->ram.size / COLO_PAGE_SIZE;
    uint64_t stage = (uint64_t)c->staging_mib << 20;
    cb.stage_pages = (uint32_t)MIN(stage / COLO_PAGE_SIZE, pages);
    /* The staging area itself comes on first use (stage_ready): zeroing it costs boot time. */
    cb.stage_pfns = page_alloc_buf((uint64_t)cb.stage_pages * sizeof(uint64_t));
    cb.stage_state = page_alloc_buf(STATE_CAP);
    cb.verify_state = page_alloc_buf(STATE_CAP);
    cb.hashes = page_alloc_buf(pages * sizeof(uint32_t));
    cb.bitmap = page_alloc_buf(dirty_bitmap_words(pages) * sizeof(uint64_t));
    cb.msg = page_alloc_buf(COLO_PRI_MSG_CAP);
    uint8_t *fbuf = page_alloc_buf(FILTER_BYTES);
    cb.input_log = page_alloc_buf(INPUT_LOG_BYTES); /* optional: only failover gets slower */
    if (page_pool_free() < (uint64_t)cb.stage_pages * COLO_PAGE_SIZE + (1u << 20) ||
        !cb.stage_pfns || !cb.stage_state || !cb.verify_state || !cb.hashes || !cb.bitmap ||
        !cb.msg || !fbuf) {
        log_err("colo: %u MiB of staging does not fit in the hypervisor's memory; "
                "checkpointing is unavailable (lower cv.colo_staging_mib)",
                c->staging_mib);
        return;
    }
    if (!hvnet_repl_netif()) {
        log_warn("colo: no replication NIC: checkpointing is unavailable");
        return;
    }
    if (!boot_id_make(c, &cb.boot_id)) {
        log_err("colo: no random generator for the boot id: checkpointing is unavailable");
        return;
    }
    make_hello(vm);
    cb.set = (struct colo_pri_settings){.delay_ms = c->checkpoint_delay_ms,
                                        .dirty_threshold = c->dirty_threshold,
                                        .ack_timeout_ms = ACK_TIMEOUT_MS};
    cb.verify = c->colo_verify != 0;
    cb.output_delay_ms = c->output_delay_ms;
    cb.pc = (struct colo_pri_config){.local = cb.hello,
                                     .stage_pfns = cb.stage_pfns,
                                     .stage_data = NULL, /* set by stage_ready() */
                                     .stage_pages = cb.stage_pages,
                                     .stage_state = cb.stage_state,
                                     .stage_state_cap = STATE_CAP,
                                     .bitmap = cb.bitmap,
                                     .verify_hashes = cb.verify ? cb.hashes : NULL,
                                     .msg = cb.msg,
                                     .now_us = board_now_us,
                                     .on_pause = on_pause,
                                     .on_commit = on_commit};
    colo_primary_init(&pri, &vmif, colo_link_transport(), &cb.pc, &cb.set);
    cb.filter_buf = fbuf;
    colo_filter_init(&cb.filter, fbuf, FILTER_BYTES, filter_emit, NULL);
    cb.stage =
        (struct net_stage){.name = "colo-buffer", .process = stage_process, .room = stage_room};
    net_pipeline_add(&cb.stage);
    net_guest_set_rx_tap(input_tap, held_tap, NULL);
    bool hb = colo_hb_link_init((uint16_t)(c->colo_port + HB_PORT_OFFSET), hb_rx, NULL);
    cb.ready = true;
    log_info("colo: %s, staging %u pages (%u MiB), checkpoint every %u ms, port %u, heartbeat "
             "%u ms x %u%s",
             config_role_name(cb.role), cb.stage_pages, c->staging_mib, c->checkpoint_delay_ms,
             c->colo_port, c->hb_period_ms, c->hb_miss, cb.verify ? ", verification on" : "");
    if (!hb) {
        log_warn("colo: no heartbeat path: the peer cannot be heard, nor this board by it");
    }
    if (c->witness.n) {
        char w[CV_WITNESS_FMT_LEN];
        bool ok = colo_hb_link_witness_init(witness_rx, NULL);
        log_info("colo: witnesses %s (a majority of %u decides), lease %u ms%s",
                 config_fmt_witnesses(&c->witness, w, sizeof(w)), c->witness.n / 2 + 1,
                 c->witness_lease_ms, ok ? "" : ": unreachable, no witness link");
    }
    struct colo_pair_cfg pc = {.board = c->board,
                               .primary = cb.role == CV_ROLE_PRIMARY,
                               .auto_protect = c->colo_auto != 0,
                               .boot_id = cb.boot_id,
                               .period_ms = c->hb_period_ms,
                               .miss = c->hb_miss,
                               .witnesses = c->witness.n,
                               .lease_ms = c->witness_lease_ms,
                               .hb_key = colo_keys_hb(),
                               .witness_key = colo_keys_witness(),
                               .ops = &pair_ops};
    memcpy(pc.pair_id, c->guest_mac, sizeof(pc.pair_id));
    if (cb.role == CV_ROLE_SECONDARY) {
        undo_ready();
    } else {
        /* If a peer already runs the guest (this board restarted after a failover), this copy
         * gives way before anything it did was seen. */
        log_info("colo: guest output held: checking that no peer runs the guest");
    }
    struct colo_link_auth la = {.psk = colo_keys_pair(),
                                .role = cb.role == CV_ROLE_PRIMARY ? COLO_ROLE_PRIMARY
                                                                   : COLO_ROLE_SECONDARY,
                                .board = c->board,
                                .peer_board = c->board == 'a' ? 'b' : 'a',
                                .boot_id = cb.boot_id};
    colo_link_set_auth(&la);
    PAIR(colo_pair_init(&cb.pair, &pc, time_now_us()));
    hv_periodic_start(HV_PERIODIC_HEARTBEAT, (uint64_t)c->hb_period_ms * 1000, hb_tick, NULL);
    hv_urgent_start((uint64_t)c->hb_period_ms * 1000, hb_urgent, NULL);
    event("init");
}

/* Filter and heartbeat counters for `net` (the output side of the guest's NIC). */
void colo_board_net_report(void)
{
    if (!cb.ready) {
        return;
    }
    const struct colo_filter_stats *f = &cb.filter.st;
    cv_printf("colo_buffer_holding=%s\ncolo_buffer_frames=%llu\ncolo_buffer_bytes=%llu\n"
              "colo_buffer_released=%llu\ncolo_buffer_full=%llu\n",
              cb.filter.holding ? "yes" : "no", (unsigned long long)f->held_frames,
              (unsigned long long)f->held_bytes, (unsigned long long)f->released_frames,
              (unsigned long long)f->full_events);
}

/* ---- the `colo` command's actions (kernel/cmd/colo.c words the replies) ---- */

bool colo_board_no_key(void)
{
    return cb.no_key;
}

bool colo_board_ready(void)
{
    return cb.ready;
}

const char *colo_board_state_name(void)
{
    return state_name();
}

uint32_t colo_board_staging_pages(void)
{
    return cb.stage_pages;
}

static const char *path_state(unsigned path, uint64_t now)
{
    if (!colo_hb_link_has_path(path)) {
        return "none";
    }
    if (!cb.pair.peer.path[path].heard) {
        return "unknown";
    }
    return colo_hb_path_alive(&cb.pair.peer, path, now) ? "alive" : "dead";
}

void colo_board_print_status(void)
{
    char peer[16];
    peer_str(peer, sizeof(peer));
    uint64_t now = time_now_us();
    cv_printf("role=%s\nstate=%s\npeer=%s\nlink=%s\nlistening=%s\nepoch=%llu\n",
              cb.ready ? config_role_name(cb.role) : "none", state_name(), peer,
              colo_link_up() ? "up" : "down", cb.phase == LINK_LISTENING ? "yes" : "no",
              (unsigned long long)epoch_now());
    cv_printf("checkpoint_delay_ms=%u\noutput_delay_ms=%u\ndirty_threshold=%llu\n"
              "staging_pages=%u\nverify=%s\n",
              cb.set.delay_ms, cb.output_delay_ms, (unsigned long long)cb.set.dirty_threshold,
              cb.stage_pages, cb.verify ? "on" : "off");
    cv_printf("hb_period_ms=%u\nhb_miss=%u\nhb_replication=%s\nhb_service=%s\npeer_alive=%s\n"
              "peer_role=%s\ntakeover=%s\nfailovers=%llu\nlast_failover_gap_ms=%llu\n",
              cb.pair.peer.period_ms, cb.pair.peer.miss, path_state(0, now), path_state(1, now),
              !cb.pair.peer.heard_any                  ? "unknown"
              : colo_hb_peer_alive(&cb.pair.peer, now) ? "yes"
                                                       : "no",
              !cb.pair.peer.heard_any                          ? "unknown"
              : cb.pair.peer.last.role == COLO_HB_ROLE_PRIMARY ? "primary"
                                                               : "secondary",
              cb.pair.took_over ? "yes" : "no", (unsigned long long)cb.failovers,
              (unsigned long long)(cb.last_gap_us / 1000));
    cv_printf("hb_urgent=%llu\n", (unsigned long long)cb.hb_urgent);
    struct colo_link_refusals lr;
    colo_link_refusals(&lr);
    cv_printf("auth=%s\nlink_refused_syn=%llu\nlink_refused_auth=%llu\n"
              "link_refused_timeout=%llu\nlink_replaced=%llu\nlink_handshake_us=%llu\n",
              colo_keys_pair()         ? "key"
              : config_get()->insecure ? "insecure"
                                       : "none",
              (unsigned long long)lr.syn, (unsigned long long)lr.auth,
              (unsigned long long)lr.timeout, (unsigned long long)lr.replaced,
              (unsigned long long)lr.handshake_us);
    const struct colo_hb_path *hp = cb.pair.peer.path;
    cv_printf("hb_auth=%s\nhb_bad=%llu\nhb_stale_echo=%llu\nwitness_auth=%s\n",
              colo_keys_hb() ? "hmac" : "crc", (unsigned long long)(hp[0].bad + hp[1].bad),
              (unsigned long long)(hp[0].stale_echo + hp[1].stale_echo),
              colo_keys_witness() ? "hmac" : "crc");
    const struct colo_pair *pp = &cb.pair;
    char wl[CV_WITNESS_FMT_LEN];
    cv_printf("pair=%s\npeer_pair=%s\npeer_restarts=%llu\nwitness=%s\ndrops=%llu\n"
              "fences=%llu\nboot_id=%016llx\n",
              colo_pair_state_name(pp->state),
              pp->peer.heard_any ? colo_pair_state_name((enum colo_pair_state)pp->peer.last.state)
                                 : "unknown",
              (unsigned long long)pp->peer.restarts,
              config_fmt_witnesses(&config_get()->witness, wl, sizeof(wl)),
              (unsigned long long)pp->drops, (unsigned long long)pp->fences,
              (unsigned long long)cb.boot_id);
    if (pp->cfg.witnesses) {
        uint64_t left = pp->lease_until_us > now ? pp->lease_until_us - now : 0;
        cv_printf("witness_lease_ms=%u\nwitness_lease_left_ms=%llu\nwitness_term=%llu\n"
                  "witness_requests=%llu\nwitness_replies=%llu\nwitness_bad=%llu\n"
                  "claims=%llu\n",
                  pp->cfg.lease_ms, (unsigned long long)(left / 1000),
                  (unsigned long long)pp->won_term, (unsigned long long)pp->witness_tx,
                  (unsigned long long)pp->witness_rx, (unsigned long long)pp->witness_bad,
                  (unsigned long long)pp->claims);
    }
    if (cb.role == CV_ROLE_PRIMARY) {
        const struct colo_pri_stats *s = &pri.st;
        const struct colo_filter_stats *f = &cb.filter.st;
        cv_printf("checkpoints=%llu\nphase=%s\n", (unsigned long long)s->checkpoints,
                  colo_pri_ckpt_name(pri.ck));
        cv_printf("last_dirty_pages=%llu\nlast_bytes=%llu\nlast_pause_us=%llu\n"
                  "last_transfer_us=%llu\n",
                  (unsigned long long)s->last_pages, (unsigned long long)s->last_bytes,
                  (unsigned long long)s->last_pause_us, (unsigned long long)s->last_xfer_us);
        cv_printf("total_dirty_pages=%llu\ntotal_bytes=%llu\ntotal_pause_us=%llu\n"
                  "total_transfer_us=%llu\nmax_pause_us=%llu\n",
                  (unsigned long long)s->total_pages, (unsigned long long)s->total_bytes,
                  (unsigned long long)s->total_pause_us, (unsigned long long)s->total_xfer_us,
                  (unsigned long long)s->max_pause_us);
        cv_printf("sync_passes=%llu\nsync_pages=%llu\nsync_ms=%llu\nearly_checkpoints=%llu\n"
                  "overflow_checkpoints=%llu\n",
                  (unsigned long long)s->sync_passes, (unsigned long long)s->sync_pages,
                  (unsigned long long)(s->sync_us / 1000), (unsigned long long)s->early,
                  (unsigned long long)s->paused_syncs);
        cv_printf("buffer_holding=%s\nbuffer_frames=%llu\nbuffer_bytes=%llu\n"
                  "buffer_capacity=%u\nbuffer_max_bytes=%llu\nbuffer_released_frames=%llu\n"
                  "buffer_passed_frames=%llu\nbuffer_full_events=%llu\n"
                  "buffer_flushed_frames=%llu\nbuffer_discarded_frames=%llu\n",
                  cb.filter.holding ? "yes" : "no", (unsigned long long)f->held_frames,
                  (unsigned long long)f->held_bytes, (unsigned)cb.filter.cap,
                  (unsigned long long)f->max_bytes, (unsigned long long)f->released_frames,
                  (unsigned long long)f->passed_frames, (unsigned long long)f->full_events,
                  (unsigned long long)f->flushed_frames, (unsigned long long)f->discarded_frames);
        cv_printf("bytes_tx=%llu\nbytes_rx=%llu\n", (unsigned long long)s->bytes_tx,
                  (unsigned long long)s->bytes_rx);
        cv_printf("input_forwarded=%llu\ninput_skipped=%llu\ninput_replayed=%llu\n",
                  (unsigned long long)s->input_frames, (unsigned long long)s->input_skipped,
                  (unsigned long long)cb.input_replayed);
    } else {
        const struct colo_status *s = &sec.st;
        cv_printf("checkpoints=%llu\nreplica=%s\n", (unsigned long long)s->checkpoints,
                  colo_pair_replica_name(&cb.pair));
        cv_printf("last_dirty_pages=%llu\nlast_state_bytes=%llu\nsync_pages=%llu\n",
                  (unsigned long long)s->last_pages, (unsigned long long)s->last_state_bytes,
                  (unsigned long long)s->sync_pages);
        cv_printf("overflow_checkpoints=%llu\nundo_pages=%llu\nrollbacks=%llu\n"
                  "undo_log_bytes=%llu\n",
                  (unsigned long long)s->overflow_checkpoints, (unsigned long long)s->undo_pages,
                  (unsigned long long)s->rollbacks, (unsigned long long)s->undo_log_bytes);
        cv_printf("bytes_tx=%llu\nbytes_rx=%llu\n", (unsigned long long)s->bytes_tx,
                  (unsigned long long)s->bytes_rx);
        const struct colo_input *in = &sec.input;
        cv_printf("input_log=%s\ninput_held=%u\ninput_logged=%llu\ninput_dropped=%llu\n",
                  s->caps & COLO_CAP_INPUT ? "on" : "off", (unsigned)in->count,
                  (unsigned long long)in->st.logged, (unsigned long long)in->st.dropped);
    }
    cv_printf("sessions=%llu\nreason=%s\n", (unsigned long long)cb.sessions, reason_text());
}

void colo_board_print_history(void)
{
    uint64_t n = MIN(cb.hist_count, (uint64_t)HISTORY);
    cv_printf("epoch dirty_pages bytes pause_us transfer_us\n");
    for (uint64_t i = cb.hist_count - n; i < cb.hist_count; i++) {
        const struct ck_record *r = &cb.hist[i % HISTORY];
        cv_printf("%llu %llu %llu %llu %llu\n", (unsigned long long)r->epoch,
                  (unsigned long long)r->pages, (unsigned long long)r->bytes,
                  (unsigned long long)r->pause_us, (unsigned long long)r->xfer_us);
    }
}

/*
 * `colo measure`: the guest is held for the copy as in a real checkpoint; the copy is the memcpy
 * limit of the pause, hashing all of RAM is verification's extra.
 */
enum colo_board_result colo_board_measure(uint64_t pages, struct colo_board_measure *m)
{
    if (!cb.ready) {
        return COLO_BOARD_UNAVAILABLE;
    }
    if (pages == 0 || pages > cb.stage_pages) {
        return COLO_BOARD_OUT_OF_RANGE;
    }
    if (cb.phase == LINK_SESSION || colo_primary_active(&pri)) {
        return COLO_BOARD_BUSY;
    }
    if (!stage_ready()) {
        return COLO_BOARD_NO_MEMORY;
    }
    struct vm *vm = cb.vm;
    uint64_t ram_pages = v_ram_pages(vm);
    uint64_t t0 = time_now_us();
    for (uint64_t i = 0; i < pages; i++) {
        /* Spread over RAM like a dirty set, not one sequential run. */
        uint64_t pfn = (i * 2654435761ull) % ram_pages;
        v_read_page(vm, pfn, cb.stage_data + i * COLO_PAGE_SIZE);
    }
    uint64_t t1 = time_now_us();
    uint32_t h = 0;
    for (uint64_t pfn = 0; pfn < ram_pages; pfn++) {
        h ^= v_page_hash(vm, pfn);
    }
    uint64_t t2 = time_now_us();
    *m = (struct colo_board_measure){.copy_bytes = pages * COLO_PAGE_SIZE,
                                     .copy_us = t1 - t0,
                                     .hash_us = t2 - t1,
                                     .ram_pages = ram_pages,
                                     .hash = h};
    return COLO_BOARD_OK;
}

void colo_board_get_settings(struct colo_board_settings *s)
{
    *s = (struct colo_board_settings){.checkpoint_delay_ms = cb.set.delay_ms,
                                      .output_delay_ms = cb.output_delay_ms,
                                      .hb_period_ms = cb.pair.peer.period_ms,
                                      .hb_miss = cb.pair.peer.miss,
                                      .dirty_threshold = cb.set.dirty_threshold,
                                      .buffer_capacity = cb.filter.cap,
                                      .verify = cb.verify};
}

/*
 * Whether v is in the range of the cv.<key> setting (kernel/core/config.c's table bounds both the
 * boot argument and `colo set`); *lo and *hi get the range for the message.
 */
static bool set_in_range(const char *key, uint64_t v, uint32_t *lo, uint32_t *hi)
{
    if (!config_u32_range(key, lo, hi)) {
        /* A key renamed in the table: refuse everything, visibly ("1..0"); test_config checks. */
        *lo = 1;
        *hi = 0;
        return false;
    }
    return v >= *lo && v <= *hi;
}

/* Empty and not holding: set up again over the same memory, counters kept. */
static enum colo_board_result set_buffer_kib(uint64_t v, uint32_t *lo, uint32_t *hi)
{
    if (v < FILTER_MIN_KIB || v > (FILTER_BYTES >> 10)) {
        *lo = FILTER_MIN_KIB;
        *hi = FILTER_BYTES >> 10;
        return COLO_BOARD_OUT_OF_RANGE;
    }
    if (!cb.filter_buf) {
        return COLO_BOARD_UNAVAILABLE;
    }
    if (cb.filter.holding) {
        return COLO_BOARD_BUSY;
    }
    struct colo_filter_stats st = cb.filter.st;
    colo_filter_init(&cb.filter, cb.filter_buf, (size_t)v << 10, filter_emit, NULL);
    cb.filter.st = st;
    return COLO_BOARD_OK;
}

enum colo_board_result colo_board_set(enum colo_board_setting what, uint64_t v, uint32_t *lo,
                                      uint32_t *hi)
{
    switch (what) {
    case COLO_SET_CHECKPOINT_DELAY:
        if (!set_in_range("checkpoint_delay", v, lo, hi)) {
            return COLO_BOARD_OUT_OF_RANGE;
        }
        cb.set.delay_ms = (uint32_t)v;
        break;
    case COLO_SET_DIRTY_THRESHOLD:
        if (!set_in_range("dirty_threshold", v, lo, hi)) {
            return COLO_BOARD_OUT_OF_RANGE;
        }
        cb.set.dirty_threshold = v;
        break;
    case COLO_SET_HB_PERIOD:
        if (!set_in_range("hb_period", v, lo, hi)) {
            return COLO_BOARD_OUT_OF_RANGE;
        }
        colo_pair_set_hb(&cb.pair, (uint32_t)v, cb.pair.peer.miss);
        hv_periodic_start(HV_PERIODIC_HEARTBEAT, v * 1000, hb_tick, NULL);
        hv_urgent_start(v * 1000, hb_urgent, NULL);
        return COLO_BOARD_OK;
    case COLO_SET_HB_MISS:
        if (!set_in_range("hb_miss", v, lo, hi)) {
            return COLO_BOARD_OUT_OF_RANGE;
        }
        colo_pair_set_hb(&cb.pair, cb.pair.peer.period_ms, (uint32_t)v);
        return COLO_BOARD_OK;
    case COLO_SET_OUTPUT_DELAY:
        if (!set_in_range("output_delay", v, lo, hi)) {
            return COLO_BOARD_OUT_OF_RANGE;
        }
        cb.output_delay_ms = (uint32_t)v;
        return COLO_BOARD_OK;
    case COLO_SET_BUFFER_KIB:
        return set_buffer_kib(v, lo, hi);
    default:
        *lo = 1;
        *hi = 0;
        return COLO_BOARD_OUT_OF_RANGE;
    }
    /* Takes effect from the next checkpoint on. */
    pri.set.delay_ms = cb.set.delay_ms;
    pri.set.dirty_threshold = cb.set.dirty_threshold;
    return COLO_BOARD_OK;
}

enum colo_board_result colo_board_set_verify(bool on)
{
    if (cb.role == CV_ROLE_PRIMARY && colo_primary_active(&pri)) {
        return COLO_BOARD_BUSY;
    }
    cb.verify = on;
    pri.cfg.verify_hashes = cb.verify ? cb.hashes : NULL;
    return COLO_BOARD_OK;
}

void colo_board_show_state(void)
{
    maybe_event();
}

enum colo_board_result colo_board_failover(void)
{
    if (!cb.ready) {
        return COLO_BOARD_UNAVAILABLE;
    }
    if (cb.role != CV_ROLE_SECONDARY) {
        return COLO_BOARD_WRONG_ROLE;
    }
    bool ok;
    PAIR(ok = colo_pair_failover(&cb.pair, time_now_us()));
    return ok ? COLO_BOARD_OK : COLO_BOARD_NO_REPLICA;
}

enum colo_board_result colo_board_inject_lose_abort(void)
{
    if (!cb.ready) {
        return COLO_BOARD_UNAVAILABLE;
    }
    colo_link_lose_next(COLO_MSG_ABORT);
    return COLO_BOARD_OK;
}

enum colo_board_result colo_board_peer_down(const char **why)
{
    *why = "";
    if (!cb.ready) {
        return COLO_BOARD_UNAVAILABLE;
    }
    bool ok;
    PAIR(ok = colo_pair_peer_down(&cb.pair, time_now_us()));
    if (!ok) {
        *why = cb.pair.why;
        return COLO_BOARD_REFUSED;
    }
    return COLO_BOARD_OK;
}

enum colo_board_result colo_board_switchover(void)
{
    if (!cb.ready) {
        return COLO_BOARD_UNAVAILABLE;
    }
    if (cb.role != CV_ROLE_PRIMARY || !colo_primary_switchover(&pri)) {
        return COLO_BOARD_REFUSED;
    }
    return COLO_BOARD_OK;
}

enum colo_board_result colo_board_start(void)
{
    if (cb.no_key) {
        return COLO_BOARD_NO_KEY;
    }
    if (!cb.ready) {
        return COLO_BOARD_UNAVAILABLE;
    }
    if (cb.role == CV_ROLE_SECONDARY) {
        if (cb.phase != LINK_OFF) {
            return COLO_BOARD_WAITING;
        }
        cb.why[0] = '\0';
        cb.sec_stopped = false;
        sec_listen();
        return cb.phase == LINK_OFF ? COLO_BOARD_LISTEN_FAILED : COLO_BOARD_OK;
    }
    enum colo_pair_state st = cb.pair.state;
    if (cb.pair.want_protect && (st == COLO_PAIR_CONNECTING || st == COLO_PAIR_PROTECTING)) {
        return COLO_BOARD_STARTED;
    }
    if (cb.vm->state != VM_RUNNING && st != COLO_PAIR_BOOT_CHECK) {
        return COLO_BOARD_NOT_RUNNING;
    }
    cb.attempts = 0;
    cb.why[0] = '\0';
    PAIR(colo_pair_start(&cb.pair, time_now_us()));
    return COLO_BOARD_OK;
}

enum colo_board_result colo_board_stop(void)
{
    if (!cb.ready) {
        return COLO_BOARD_UNAVAILABLE;
    }
    if (cb.role == CV_ROLE_SECONDARY) {
        if (cb.phase == LINK_SESSION) {
            colo_secondary_stop(&sec);
        }
        colo_link_shutdown();
        cb.phase = LINK_OFF;
        cb.sec_stopped = true;
        cb.sess_open = false;
        /* A secondary that stops protecting gives its replica up, and says so. */
        PAIR(colo_pair_session_end(&cb.pair, COLO_PAIR_END_STOPPED, time_now_us()));
        return COLO_BOARD_OK;
    }
    bool was = cb.pair.want_protect;
    PAIR(colo_pair_stop(&cb.pair, time_now_us()));
    cb.degraded = false;
    if (colo_primary_active(&pri)) {
        /* Ends after the checkpoint under way (the poll then finds the session over and the
         * machine holds the output until the secondary has dropped its replica). */
        colo_primary_stop(&pri);
        cb.stop_pending = colo_primary_active(&pri);
    }
    return was ? COLO_BOARD_OK : COLO_BOARD_NOT_STARTED;
}
