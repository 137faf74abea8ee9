// SPDX-License-Identifier: Apache-2.0
// The checkpoint engine on the board (cv/colo_board.h): the VM interface of colo/ over struct vm,
// the session's life over the replication link, the periodic driver and the `colo` command.
#include <string.h>

#include <cv/board.h>
#include <cv/colo_board.h>
#include <cv/colo_link.h>
#include <cv/config.h>
#include <cv/dirty.h>
#include <cv/hv.h>
#include <cv/hvnet.h>
#include <cv/image.h>
#include <cv/log.h>
#include <cv/page.h>
#include <cv/shell.h>
#include <cv/timer.h>
#include <cv/vm.h>

#include "../../colo/colo_primary.h"
#include "../../colo/colo_secondary.h"

#define STATE_CAP (256u << 10) /* device-state stream: a few KiB today, room to grow */
#define RETRY_US 2000000ull    /* primary: connect again after a refused or lost attempt */
#define IDLE_POLL_US 5000ull   /* checkpoint trigger checks while protected */
#define BUSY_POLL_US 1000ull   /* streaming or pre-copy: keep the link fed */
#define ACK_TIMEOUT_MS 30000u  /* a checkpoint not committed in this time ends the session */
#define HISTORY 64u            /* checkpoints kept for `colo history` */

struct ck_record {
    uint64_t epoch, pages, bytes, pause_us, xfer_us;
};

enum link_phase {
    LINK_OFF,        /* primary: not started / stopped */
    LINK_CONNECTING, /* primary: connect in progress or waiting to retry */
    LINK_SESSION,    /* a connection carries a session */
    LINK_LISTENING,  /* secondary: waiting for the primary */
};

static struct {
    struct vm *vm;
    bool ready;
    enum cv_role role;
    enum link_phase phase;
    uint64_t retry_at_us;
    uint64_t attempts;
    struct colo_pri_settings set;
    bool verify;
    /* staging and scratch, allocated once */
    uint64_t *stage_pfns;
    uint8_t *stage_data;
    uint32_t stage_pages;
    uint8_t *stage_state, *verify_state;
    uint32_t *hashes;
    uint64_t *bitmap;
    uint8_t *msg;
    struct colo_hello hello;
    /* what the last event line said, to print only changes */
    const char *shown_state;
    uint64_t shown_epoch;
    bool shown_replica;
    uint64_t sessions;
    bool stop_pending; /* colo stop waits for the checkpoint under way */
    struct ck_record hist[HISTORY];
    uint64_t hist_count; /* records ever written; the newest is hist[(hist_count - 1) % HISTORY] */
    uint64_t hist_seen;  /* pri.st.checkpoints when last recorded */
} cb;

static struct colo_primary pri;
static struct colo_secondary sec;

/* ---- the VM interface (colo/colo_vm.h) over this board's VM ---- */

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
    /* The CPU's own dirty state where it has it: no fault per first write. */
    enum dirty_mode m = dirty_mode_supported(vm, DIRTY_DBM) ? DIRTY_DBM : DIRTY_WP;
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

static uint32_t v_state_hash(void *ctx)
{
    struct vm *vm = ctx;
    uint32_t h = 0;
    for (uint64_t pfn = 0; pfn < v_ram_pages(ctx); pfn++) {
        uint32_t ph = v_page_hash(ctx, pfn);
        h = crc32c(h, &ph, sizeof(ph));
    }
    size_t n = vm_state_save(vm, cb.verify_state, STATE_CAP);
    return crc32c(h, cb.verify_state, n);
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
    .state_hash = v_state_hash,
    .dirty_count = v_dirty_count,
    .page_hash = v_page_hash,
    .describe_state = v_describe,
};

/* ---- identity: what both boards must agree on (HELLO) ---- */

static void make_hello(struct vm *vm)
{
    extern const uint8_t __guest_image_start[], __guest_image_end[];
    struct colo_hello *h = &cb.hello;
    memset(h, 0, sizeof(*h));
    h->ver_min = h->ver_max = COLO_PROTO_VERSION;
    h->caps = COLO_CAP_VERIFY;
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
    colo_put32(h->image_id, ic);
    colo_put64(h->image_id + 4, len);
    colo_put32(h->image_id + 12, vc);
}

/* ---- event lines and status ---- */

static const char *state_name(void)
{
    if (!cb.ready) {
        return "unavailable";
    }
    if (cb.role == CV_ROLE_PRIMARY) {
        if (colo_primary_active(&pri) || cb.phase != LINK_CONNECTING) {
            return colo_pri_state_name(pri.state);
        }
        return "connecting";
    }
    if (cb.phase == LINK_OFF && sec.st.state == COLO_SEC_WAIT_HELLO) {
        return "stopped";
    }
    switch (sec.st.state) {
    case COLO_SEC_WAIT_HELLO:
        return cb.phase == LINK_SESSION ? "handshake" : "listening";
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
    return cb.role == CV_ROLE_PRIMARY ? pri.st.epoch : sec.st.epoch;
}

static const char *reason_text(void)
{
    const char *r = cb.role == CV_ROLE_PRIMARY ? pri.st.reason_text : sec.st.reason_text;
    return r[0] ? r : "-";
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
    bool ended = strcmp(st, "failed") == 0 || strcmp(st, "stopped") == 0;
    cv_printf(
        "colo: event=%s role=%s state=%s peer=%s epoch=%llu checkpoints=%llu%s%s%s\n", what,
        config_role_name(cb.role), st, peer, (unsigned long long)epoch_now(),
        (unsigned long long)(cb.role == CV_ROLE_PRIMARY ? pri.st.checkpoints : sec.st.checkpoints),
        ended ? " reason=\"" : "", ended ? reason_text() : "", ended ? "\"" : "");
    cb.shown_state = st;
}

static void maybe_event(void)
{
    const char *st = state_name();
    if (cb.shown_state != st && (!cb.shown_state || strcmp(cb.shown_state, st) != 0)) {
        event("state");
    }
}

/* ---- the primary's session ---- */

static void schedule(uint64_t us)
{
    hv_periodic_start(HV_PERIODIC_CHECKPOINT, us, (hv_periodic_fn)colo_board_poll, NULL);
}

static void pri_connected(void *ctx)
{
    (void)ctx;
    cb.phase = LINK_SESSION;
    cb.sessions++;
    pri.set = cb.set;
    cb.hist_seen = 0;
    colo_primary_start(&pri);
    schedule(BUSY_POLL_US);
    maybe_event();
}

static void pri_rx(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    colo_primary_rx(&pri, data, len);
}

static void pri_lost(void *ctx, const char *why)
{
    (void)ctx;
    bool had_session = cb.phase == LINK_SESSION;
    if (colo_primary_active(&pri)) {
        log_warn("colo: replication link: %s", why);
        colo_primary_conn_lost(&pri);
    } else if (!had_session && cb.attempts <= 1) {
        log_info("colo: the secondary is not reachable yet (%s); retrying every %llu s", why,
                 (unsigned long long)(RETRY_US / 1000000));
    }
    if (cb.phase != LINK_OFF) {
        /* Until a session starts, `colo start` keeps trying; after one, only cv.colo_auto=1. */
        if (!had_session || config_get()->colo_auto) {
            cb.phase = LINK_CONNECTING;
            cb.retry_at_us = time_now_us() + RETRY_US;
            schedule(IDLE_POLL_US * 20);
        } else {
            cb.phase = LINK_OFF;
            hv_periodic_stop(HV_PERIODIC_CHECKPOINT);
        }
    }
    maybe_event();
}

static const struct colo_link_ops pri_ops = {pri_connected, pri_rx, pri_lost, NULL};

static void pri_connect(void)
{
    const struct cv_config *c = config_get();
    cb.attempts++;
    cb.phase = LINK_CONNECTING;
    if (!colo_link_connect(c->peer_ip, (uint16_t)c->colo_port, &pri_ops)) {
        cb.retry_at_us = time_now_us() + RETRY_US;
    } else {
        cb.retry_at_us = 0;
    }
}

/* ---- the secondary's session ---- */

static void sec_connected(void *ctx)
{
    (void)ctx;
    struct colo_sec_config sc = {.local = cb.hello,
                                 .stage_pfns = cb.stage_pfns,
                                 .stage_data = cb.stage_data,
                                 .stage_pages = cb.stage_pages,
                                 .stage_state = cb.stage_state,
                                 .stage_state_cap = STATE_CAP,
                                 .verify_hashes = cb.hashes,
                                 .verify_state = cb.verify_state};
    /* A new primary (or the same one, restarted) always synchronises from scratch. */
    colo_secondary_init(&sec, &vmif, colo_link_transport(), &sc);
    cb.phase = LINK_SESSION;
    cb.sessions++;
    maybe_event();
}

static void sec_rx(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    colo_secondary_rx(&sec, data, len);
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
    maybe_event();
}

static const struct colo_link_ops sec_ops = {sec_connected, sec_rx, sec_lost, NULL};

static bool sec_listen(void)
{
    const struct cv_config *c = config_get();
    memset(&sec.st, 0, sizeof(sec.st));
    sec.st.role = COLO_ROLE_SECONDARY;
    sec.st.state = COLO_SEC_WAIT_HELLO;
    if (!colo_link_listen((uint16_t)c->colo_port, &sec_ops)) {
        cb.phase = LINK_OFF;
        return false;
    }
    cb.phase = LINK_LISTENING;
    return true;
}

/* ---- driver ---- */

static uint64_t board_now_us(void)
{
    return time_now_us();
}

void colo_board_poll(void)
{
    if (!cb.ready) {
        return;
    }
    if (cb.role == CV_ROLE_PRIMARY) {
        if (cb.phase == LINK_CONNECTING && cb.retry_at_us && time_now_us() >= cb.retry_at_us) {
            pri_connect();
        }
        if (colo_primary_active(&pri)) {
            colo_primary_poll(&pri);
            if (pri.st.checkpoints != cb.hist_seen) {
                cb.hist_seen = pri.st.checkpoints;
                const struct colo_pri_stats *s = &pri.st;
                cb.hist[cb.hist_count++ % HISTORY] = (struct ck_record){
                    s->epoch, s->last_pages, s->last_bytes, s->last_pause_us, s->last_xfer_us};
            }
            bool busy = pri.state == COLO_PRI_SYNC || pri.ck != COLO_CK_NONE;
            schedule(busy ? BUSY_POLL_US : IDLE_POLL_US);
        } else if (cb.phase == LINK_OFF && cb.stop_pending) {
            cb.stop_pending = false;
            colo_link_shutdown();
            hv_periodic_stop(HV_PERIODIC_CHECKPOINT);
        } else if (cb.phase == LINK_SESSION) {
            /* The session ended (error or stop); the engine closed the transport. */
            cb.phase = config_get()->colo_auto ? LINK_CONNECTING : LINK_OFF;
            if (cb.phase == LINK_CONNECTING) {
                cb.retry_at_us = time_now_us() + RETRY_US;
            } else {
                hv_periodic_stop(HV_PERIODIC_CHECKPOINT);
            }
        }
    }
    maybe_event();
}

static void *alloc(uint64_t bytes)
{
    hpa_t p = page_alloc_contig(ALIGN_UP(bytes, PAGE_SIZE), PAGE_SIZE);
    return hpa_raw(p) ? hpa_to_hva(p) : NULL;
}

void colo_board_init(struct vm *vm)
{
    const struct cv_config *c = config_get();
    cb.vm = vm;
    cb.role = c->role;
    vmif.ctx = vm;
    uint64_t pages = vm->ram.size / COLO_PAGE_SIZE;
    uint64_t stage = (uint64_t)c->staging_mib << 20;
    cb.stage_pages = (uint32_t)MIN(stage / COLO_PAGE_SIZE, pages);
    cb.stage_data = alloc((uint64_t)cb.stage_pages * COLO_PAGE_SIZE);
    cb.stage_pfns = alloc((uint64_t)cb.stage_pages * sizeof(uint64_t));
    cb.stage_state = alloc(STATE_CAP);
    cb.verify_state = alloc(STATE_CAP);
    cb.hashes = alloc(pages * sizeof(uint32_t));
    cb.bitmap = alloc(dirty_bitmap_words(pages) * sizeof(uint64_t));
    cb.msg = alloc(COLO_PRI_MSG_CAP);
    if (!cb.stage_data || !cb.stage_pfns || !cb.stage_state || !cb.verify_state || !cb.hashes ||
        !cb.bitmap || !cb.msg) {
        log_err("colo: %u MiB of staging does not fit in the hypervisor's memory; "
                "checkpointing is unavailable (lower cv.colo_staging_mib)",
                c->staging_mib);
        return;
    }
    if (!hvnet_repl_netif()) {
        log_err("colo: no replication NIC: checkpointing is unavailable");
        return;
    }
    make_hello(vm);
    cb.set = (struct colo_pri_settings){.delay_ms = c->checkpoint_delay_ms,
                                        .dirty_threshold = c->dirty_threshold,
                                        .ack_timeout_ms = ACK_TIMEOUT_MS};
    cb.verify = c->colo_verify != 0;
    struct colo_pri_config pc = {.local = cb.hello,
                                 .stage_pfns = cb.stage_pfns,
                                 .stage_data = cb.stage_data,
                                 .stage_pages = cb.stage_pages,
                                 .stage_state = cb.stage_state,
                                 .stage_state_cap = STATE_CAP,
                                 .bitmap = cb.bitmap,
                                 .verify_hashes = cb.verify ? cb.hashes : NULL,
                                 .msg = cb.msg,
                                 .now_us = board_now_us};
    colo_primary_init(&pri, &vmif, colo_link_transport(), &pc, &cb.set);
    cb.ready = true;
    log_info("colo: %s, staging %u pages (%u MiB), checkpoint every %u ms, port %u%s",
             config_role_name(cb.role), cb.stage_pages, c->staging_mib, c->checkpoint_delay_ms,
             c->colo_port, cb.verify ? ", verification on" : "");
    if (cb.role == CV_ROLE_SECONDARY) {
        sec_listen();
    } else if (c->colo_auto) {
        pri_connect();
        schedule(IDLE_POLL_US * 20);
    } else {
        cb.phase = LINK_OFF;
    }
    event("init");
}

/* ---- the `colo` command ---- */

#define COLO_USAGE                                                                                 \
    "colo start|stop|status|set checkpoint-delay <ms>|set dirty-threshold <pages>|set verify "     \
    "on|off"

static int cmd_colo(int argc, char **argv);
SHELL_CMD(colo, {"colo", COLO_USAGE, "COLO protection: start, stop, status, settings", cmd_colo});

static void status(void)
{
    char peer[16];
    peer_str(peer, sizeof(peer));
    struct colo_link_stats ls;
    colo_link_stats(&ls);
    cv_printf("role=%s\nstate=%s\npeer=%s\nlink=%s\nlistening=%s\nepoch=%llu\n",
              cb.ready ? config_role_name(cb.role) : "none", state_name(), peer,
              colo_link_up() ? "up" : "down", cb.phase == LINK_LISTENING ? "yes" : "no",
              (unsigned long long)epoch_now());
    cv_printf("checkpoint_delay_ms=%u\ndirty_threshold=%llu\nstaging_pages=%u\nverify=%s\n",
              cb.set.delay_ms, (unsigned long long)cb.set.dirty_threshold, cb.stage_pages,
              cb.verify ? "on" : "off");
    if (cb.role == CV_ROLE_PRIMARY) {
        const struct colo_pri_stats *s = &pri.st;
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
        cv_printf("bytes_tx=%llu\nbytes_rx=%llu\n", (unsigned long long)s->bytes_tx,
                  (unsigned long long)s->bytes_rx);
    } else {
        const struct colo_status *s = &sec.st;
        cv_printf("checkpoints=%llu\nreplica=%s\n", (unsigned long long)s->checkpoints,
                  s->replica ? "yes" : "no");
        cv_printf("last_dirty_pages=%llu\nlast_state_bytes=%llu\nsync_pages=%llu\n",
                  (unsigned long long)s->last_pages, (unsigned long long)s->last_state_bytes,
                  (unsigned long long)s->sync_pages);
        cv_printf("bytes_tx=%llu\nbytes_rx=%llu\n", (unsigned long long)s->bytes_tx,
                  (unsigned long long)s->bytes_rx);
    }
    cv_printf("sessions=%llu\nreason=%s\n", (unsigned long long)cb.sessions, reason_text());
}

static void history(void)
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
 * `colo measure <pages>`: what the local part of a checkpoint pause costs on this board, with
 * the guest held for the copy as in a real checkpoint: copying that many guest pages into
 * staging (the memcpy limit of the pause) and hashing all of guest RAM (verification's extra).
 */
static int measure(const char *arg)
{
    uint64_t pages;
    if (!shell_parse_u64(arg, &pages) || pages == 0 || pages > cb.stage_pages) {
        cv_printf("colo: measure takes 1..%u pages (the staging area)\n", cb.stage_pages);
        return 1;
    }
    if (cb.role == CV_ROLE_PRIMARY && colo_primary_active(&pri)) {
        cv_printf("colo: measure would overwrite the staging of a live session: stop first\n");
        return 1;
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
    uint64_t copy = t1 - t0;
    cv_printf("colo: measure pages=%llu copy_us=%llu copy_mib_s=%llu hash_ram_us=%llu "
              "ram_pages=%llu hash=%08x\n",
              (unsigned long long)pages, (unsigned long long)copy,
              (unsigned long long)(copy ? pages * COLO_PAGE_SIZE / copy * 1000000 / (1 << 20) : 0),
              (unsigned long long)(t2 - t1), (unsigned long long)ram_pages, h);
    return 0;
}

static int colo_set(int argc, char **argv)
{
    uint64_t v;
    if (argc != 4) {
        return shell_usage(&shell_cmd_colo);
    }
    if (strcmp(argv[2], "verify") == 0) {
        if (strcmp(argv[3], "on") != 0 && strcmp(argv[3], "off") != 0) {
            return shell_usage(&shell_cmd_colo);
        }
        if (cb.role == CV_ROLE_PRIMARY && colo_primary_active(&pri)) {
            cv_printf("colo: verification is agreed at the handshake: stop first\n");
            return 1;
        }
        cb.verify = strcmp(argv[3], "on") == 0;
        pri.cfg.verify_hashes = cb.verify ? cb.hashes : NULL;
        cv_printf("colo: verify=%s\n", cb.verify ? "on" : "off");
        return 0;
    }
    if (!shell_parse_u64(argv[3], &v)) {
        return shell_usage(&shell_cmd_colo);
    }
    if (strcmp(argv[2], "checkpoint-delay") == 0) {
        if (v < 1 || v > 60000) {
            cv_printf("colo: checkpoint-delay must be 1..60000 ms\n");
            return 1;
        }
        cb.set.delay_ms = (uint32_t)v;
    } else if (strcmp(argv[2], "dirty-threshold") == 0) {
        if (v > (1u << 24)) {
            cv_printf("colo: dirty-threshold must be 0..16777216 pages (0: half the staging)\n");
            return 1;
        }
        cb.set.dirty_threshold = v;
    } else {
        return shell_usage(&shell_cmd_colo);
    }
    /* Takes effect from the next checkpoint on. */
    pri.set.delay_ms = cb.set.delay_ms;
    pri.set.dirty_threshold = cb.set.dirty_threshold;
    cv_printf("colo: checkpoint_delay_ms=%u dirty_threshold=%llu\n", cb.set.delay_ms,
              (unsigned long long)cb.set.dirty_threshold);
    return 0;
}

static int cmd_colo(int argc, char **argv)
{
    if (argc < 2) {
        return shell_usage(&shell_cmd_colo);
    }
    const char *sub = argv[1];
    if (strcmp(sub, "set") == 0) {
        return colo_set(argc, argv);
    }
    if (strcmp(sub, "measure") == 0) {
        if (argc != 3) {
            return shell_usage(&shell_cmd_colo);
        }
        if (!cb.ready) {
            cv_printf("colo: checkpointing is unavailable on this board (see the boot log)\n");
            return 1;
        }
        return measure(argv[2]);
    }
    if (argc != 2) {
        return shell_usage(&shell_cmd_colo);
    }
    if (strcmp(sub, "status") == 0) {
        status();
        return 0;
    }
    if (strcmp(sub, "history") == 0) {
        history();
        return 0;
    }
    if (strcmp(sub, "start") != 0 && strcmp(sub, "stop") != 0) {
        return shell_usage(&shell_cmd_colo);
    }
    if (!cb.ready) {
        cv_printf("colo: checkpointing is unavailable on this board (see the boot log)\n");
        return 1;
    }
    bool start = strcmp(sub, "start") == 0;
    if (cb.role == CV_ROLE_SECONDARY) {
        if (start) {
            if (cb.phase != LINK_OFF) {
                cv_printf("colo: already waiting for the primary (state=%s)\n", state_name());
                return 0;
            }
            return sec_listen() ? 0 : 1;
        }
        if (sec.st.state != COLO_SEC_CLOSED && sec.st.state != COLO_SEC_FAILED &&
            cb.phase == LINK_SESSION) {
            colo_secondary_stop(&sec);
        }
        colo_link_shutdown();
        cb.phase = LINK_OFF;
        maybe_event();
        return 0;
    }
    if (start) {
        if (cb.phase != LINK_OFF) {
            cv_printf("colo: already started (state=%s)\n", state_name());
            return 0;
        }
        if (cb.vm->state != VM_RUNNING) {
            cv_printf("colo: the guest is not running; nothing to protect\n");
            return 1;
        }
        cb.attempts = 0;
        pri_connect();
        schedule(IDLE_POLL_US * 20);
        maybe_event();
        return 0;
    }
    bool was = cb.phase != LINK_OFF;
    cb.phase = LINK_OFF;
    if (colo_primary_active(&pri)) {
        /* Ends after the checkpoint under way (the poll then finds the session over). */
        colo_primary_stop(&pri);
    }
    if (!colo_primary_active(&pri)) {
        colo_link_shutdown();
        hv_periodic_stop(HV_PERIODIC_CHECKPOINT);
    } else {
        cb.stop_pending = true;
    }
    if (!was) {
        cv_printf("colo: not started\n");
    }
    maybe_event();
    return 0;
}
