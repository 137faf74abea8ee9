// SPDX-License-Identifier: Apache-2.0
// The pair decision state machine (colo/pair.h): which board runs the guest and when its output
// may leave without a commit. The safety argument is in docs/colo.md "Pair safety"; every rule
// here has a case in tests/unit/test_pair_machine.c and runs under test_pair_model.c.
#include <colo/pair.h>

#include "colo_util.h"

#define RETRY_CONNECT_MS 2000u /* no heartbeats to go by: connect again on a timer */
#define WITNESS_ROUNDS 10u     /* retransmissions of one round before a fresh round */
#define BOOT_RETRY_MS 1000u    /* a refused BOOT is asked again */

static const char *const state_names[COLO_PAIR_STATES] = {
    [COLO_PAIR_OFF] = "off",
    [COLO_PAIR_BOOT_CHECK] = "boot-check",
    [COLO_PAIR_ALONE] = "alone",
    [COLO_PAIR_CONNECTING] = "connecting",
    [COLO_PAIR_PROTECTING] = "protecting",
    [COLO_PAIR_DECIDING] = "deciding",
    [COLO_PAIR_SHUTDOWN] = "shutdown",
    [COLO_PAIR_STANDBY] = "standby",
    [COLO_PAIR_SYNCING] = "syncing",
    [COLO_PAIR_ARMED] = "armed",
    [COLO_PAIR_CLAIMING] = "claiming",
    [COLO_PAIR_STALE] = "stale",
};

const char *colo_pair_state_name(enum colo_pair_state s)
{
    return (unsigned)s < COLO_PAIR_STATES ? state_names[s] : "?";
}

bool colo_pair_output_free(const struct colo_pair *p)
{
    return p->state == COLO_PAIR_ALONE || p->state == COLO_PAIR_CONNECTING;
}

bool colo_pair_runs_guest(const struct colo_pair *p)
{
    switch (p->state) {
    case COLO_PAIR_BOOT_CHECK:
    case COLO_PAIR_ALONE:
    case COLO_PAIR_CONNECTING:
    case COLO_PAIR_PROTECTING:
    case COLO_PAIR_DECIDING:
        return true;
    default:
        return false;
    }
}

static bool armed(const struct colo_pair *p)
{
    return p->state == COLO_PAIR_ARMED || p->state == COLO_PAIR_CLAIMING;
}

const char *colo_pair_replica_name(const struct colo_pair *p)
{
    if (armed(p)) {
        return "yes";
    }
    /* After a shutdown there is no guest to speak of: "no", as before "stale" existed. */
    return p->dropped_boot && p->state != COLO_PAIR_SHUTDOWN ? "stale" : "no";
}

/* p->why = why, cut to fit. */
static void keep_why(struct colo_pair *p, const char *why)
{
    size_t n = MIN(strlen(why), sizeof(p->why) - 1);
    memcpy(p->why, why, n);
    p->why[n] = '\0';
}

static void say(struct colo_pair *p, const char *what, const char *why)
{
    keep_why(p, why);
    if (p->cfg.ops->event) {
        p->cfg.ops->event(p->cfg.ctx, what, p->why);
    }
}

static void enter(struct colo_pair *p, enum colo_pair_state s, uint64_t now)
{
    if (p->state != s) {
        p->state = s;
        p->since_us = now;
    }
}

static uint64_t window_us(const struct colo_pair *p)
{
    return colo_hb_peer_window_us(&p->peer);
}

/* The peer's newest heartbeat, if it is alive on some path now and it echoes this boot. Every
 * decision on the peer's flags, boot, rep_boot and term goes through here: a heartbeat sent
 * before the peer heard this boot of ours (or recorded before we restarted and replayed) is
 * about a board that no longer exists, and must neither fence us nor make us take over. The
 * tracker already refuses those (COLO_HB_E_ECHO); this says it where it is relied on. */
static const struct colo_hb *live_peer(const struct colo_pair *p, uint64_t now)
{
    const struct colo_hb *h = &p->peer.last;
    return colo_hb_peer_alive(&p->peer, now) && h->echo_boot == p->cfg.boot_id ? h : NULL;
}

/* h was sent after the current (or last) session started: what it says is about this session's
 * replica, not an older one's. */
static bool fresh(const struct colo_pair *p, const struct colo_hb *h)
{
    return h->boot_id != p->session_hb_boot || h->seq > p->session_hb_seq;
}

/* The session's peer, learnt from its first heartbeat after the session started unheard. */
static void adopt_peer(struct colo_pair *p, const struct colo_hb *h)
{
    p->session_peer = h->boot_id;
    p->session_hb_boot = h->boot_id;
    p->session_hb_seq = h->seq ? h->seq - 1 : 0;
}

static bool session_silent(const struct colo_pair *p, uint64_t now)
{
    return now - MIN(now, p->session_rx_us) > window_us(p);
}

/* ---- heartbeats ---- */

static void send_hb(struct colo_pair *p, uint64_t now_ticks)
{
    struct colo_hb h = {.role = p->primary_role ? COLO_HB_ROLE_PRIMARY : COLO_HB_ROLE_SECONDARY,
                        .board = (uint8_t)p->cfg.board,
                        .seq = ++p->hb_seq,
                        .epoch = p->epoch,
                        .ticks = now_ticks,
                        .state = (uint8_t)p->state,
                        .boot_id = p->cfg.boot_id,
                        .term = p->max_term,
                        .period_ms = p->peer.period_ms,
                        .miss = p->peer.miss,
                        .echo_boot = p->peer.heard_boot[0]};
    if (colo_pair_runs_guest(p)) {
        h.flags |= COLO_HB_F_GUEST_RUNNING;
    }
    if ((p->state == COLO_PAIR_PROTECTING && p->committed) || armed(p)) {
        h.flags |= COLO_HB_F_PROTECTED;
    }
    if (p->state == COLO_PAIR_STANDBY || p->state == COLO_PAIR_STALE) {
        h.flags |= COLO_HB_F_LISTENING;
    }
    if (p->took_over) {
        h.flags |= COLO_HB_F_TAKEOVER;
    }
    if (colo_pair_output_free(p)) {
        h.flags |= COLO_HB_F_ALONE;
    }
    if (p->state == COLO_PAIR_DECIDING) {
        h.flags |= COLO_HB_F_WANT_DROP;
    }
    if (p->state == COLO_PAIR_SHUTDOWN) {
        h.flags |= COLO_HB_F_SHUTDOWN;
    }
    if (p->primary_role) {
        bool sess = p->state == COLO_PAIR_PROTECTING || p->state == COLO_PAIR_DECIDING;
        h.rep_boot = sess ? p->session_peer : 0;
    } else if (armed(p) || p->state == COLO_PAIR_SYNCING) {
        h.rep_boot = armed(p) ? p->rep_boot : 0;
    } else if (p->dropped_boot) {
        h.flags |= COLO_HB_F_DROPPED;
        h.rep_boot = p->dropped_boot;
    }
    p->cfg.ops->send_hb(p->cfg.ctx, &h);
}

/* ---- witness client ---- */

static uint8_t popcount8(uint8_t v)
{
    uint8_t n = 0;
    for (; v; v &= (uint8_t)(v - 1)) {
        n++;
    }
    return n;
}

/* The mode this board established at a majority, which RENEW must repeat (or PROTECTED). */
static uint8_t renew_mode(const struct colo_pair *p)
{
    if (p->state == COLO_PAIR_PROTECTING && p->committed) {
        return COLO_WITNESS_MODE_PROTECTED;
    }
    return p->rec_mode;
}

static void req_send(struct colo_pair *p, uint64_t now)
{
    /* Every transmission its own nonce, counting up through this boot: a witness answers a
     * (board, boot) only above the last nonce it accepted from it, so a recorded request
     * replayed gets nothing, and a retransmission must be a new request. Replies to any
     * transmission of the round count. */
    p->req.nonce = ++p->nonce_seq;
    struct colo_wq q = {.kind = p->req.kind,
                        .board = (uint8_t)p->cfg.board,
                        .nonce = p->req.nonce,
                        .boot_id = p->cfg.boot_id,
                        .term = p->req.term,
                        .epoch = p->req.epoch,
                        .ttl_ms = p->cfg.lease_ms};
    memcpy(q.pair, p->cfg.pair_id, sizeof(q.pair));
    if (q.kind == COLO_WQ_RENEW) {
        q.mode = p->req.mode;
        q.epoch = q.mode == COLO_WITNESS_MODE_PROTECTED ? p->epoch : 0;
    }
    uint8_t buf[COLO_WITNESS_LEN];
    if (colo_wq_encode(buf, sizeof(buf), &q, p->cfg.witness_key) != COLO_WITNESS_LEN) {
        p->req.kind = 0; /* nothing a witness would accept: a bug, never retried */
        return;
    }
    for (unsigned i = 0; i < p->cfg.witnesses; i++) {
        if (!(p->req.granted & (1u << i))) {
            p->cfg.ops->send_witness(p->cfg.ctx, i, buf, sizeof(buf));
            p->witness_tx++;
        }
    }
    p->req.next_us = now + (uint64_t)p->peer.period_ms * 1000u;
}

/* Starts a round of kind (a pending round of the same kind goes on). */
static void req_start(struct colo_pair *p, uint8_t kind, uint64_t epoch, uint64_t now)
{
    if (!p->cfg.witnesses || (p->req.kind == kind && p->req.epoch == epoch)) {
        return;
    }
    uint64_t term =
        kind == COLO_WQ_RENEW ? p->won_term : colo_witness_next_term(p->max_term, p->cfg.board);
    if (!term) {
        return;
    }
    p->req = (struct colo_pair_req){.kind = kind,
                                    .nonce_first = p->nonce_seq + 1,
                                    .term = term,
                                    .epoch = epoch,
                                    .sent_us = now,
                                    .next_us = now};
    if (kind != COLO_WQ_RENEW) {
        p->claims++;
    } else {
        p->req.mode = renew_mode(p);
    }
    req_send(p, now);
}

static void go_alone(struct colo_pair *p, const char *why, uint64_t now);
static void take_over(struct colo_pair *p, const char *why, uint64_t now);
static void drop_replica(struct colo_pair *p, const char *why, uint64_t now);
static void fence(struct colo_pair *p, const char *why, uint64_t now);

/* A round reached a majority of grants. */
static void req_won(struct colo_pair *p, uint64_t now)
{
    uint8_t kind = p->req.kind;
    p->req.kind = 0;
    if (kind != COLO_WQ_RENEW) {
        p->won_term = p->req.term;
    }
    p->rec_mode = kind == COLO_WQ_RENEW            ? p->req.mode
                  : kind == COLO_WQ_CLAIM_TAKEOVER ? COLO_WITNESS_MODE_TAKEOVER
                                                   : COLO_WITNESS_MODE_ALONE;
    p->lease_until_us = p->req.sent_us + (uint64_t)p->cfg.lease_ms * 1000u;
    p->next_renew_us = now + (uint64_t)p->cfg.lease_ms * 250u;
    switch (kind) {
    case COLO_WQ_BOOT:
        if (p->state == COLO_PAIR_BOOT_CHECK) {
            go_alone(p, "the witnesses granted the fresh guest", now);
        }
        break;
    case COLO_WQ_CLAIM_ALONE:
        if (p->state == COLO_PAIR_DECIDING) {
            go_alone(p, "the witnesses granted going on alone", now);
        }
        break;
    case COLO_WQ_CLAIM_TAKEOVER:
        if (p->state == COLO_PAIR_CLAIMING) {
            take_over(p, "the witnesses granted the takeover", now);
        }
        break;
    default:
        break;
    }
}

/* A round can no longer reach a majority. */
static void req_lost(struct colo_pair *p, uint64_t now)
{
    uint8_t kind = p->req.kind, reason = p->req.reason;
    uint32_t wait = p->req.wait_ms;
    p->req.kind = 0;
    if (kind == COLO_WQ_RENEW) {
        p->won_term = 0; /* a newer decision exists: claim again before renewing */
        return;
    }
    if (kind == COLO_WQ_CLAIM_TAKEOVER && p->state == COLO_PAIR_CLAIMING) {
        if (reason == COLO_WR_STALE_REPLICA || reason == COLO_WR_NOT_OWNER) {
            drop_replica(p, "a witness says the primary went on without this replica", now);
        } else {
            /* LEASE_LIVE, STARTING, STALE_TERM: ask again when the wait is over. */
            enter(p, COLO_PAIR_ARMED, now);
            p->next_renew_us = now + (uint64_t)MAX(wait, p->peer.period_ms) * 1000u;
        }
    } else if (reason == COLO_WR_NOT_OWNER && p->state == COLO_PAIR_DECIDING) {
        fence(p, "the witnesses say the peer owns the guest", now);
    } else {
        p->next_renew_us = now + (uint64_t)MAX(wait, BOOT_RETRY_MS) * 1000u;
    }
}

bool colo_pair_witness_rx(struct colo_pair *p, unsigned i, const void *buf, size_t len,
                          uint64_t now_us)
{
    struct colo_wr r;
    if (i >= p->cfg.witnesses ||
        colo_wr_decode(buf, len, &r, p->cfg.witness_key) != COLO_WITNESS_OK ||
        r.board != (uint8_t)p->cfg.board || memcmp(r.pair, p->cfg.pair_id, 6) != 0) {
        p->witness_bad++;
        return false;
    }
    p->witness_rx++;
    p->max_term = MAX(p->max_term, r.term);
    struct colo_pair_req *q = &p->req;
    /* Only the tag proves a reply is a witness's; the nonce proves it answers this round (a
     * reply recorded from an earlier round and sent again has an older nonce). */
    if (!q->kind || r.kind != q->kind || r.nonce < q->nonce_first || r.nonce > q->nonce) {
        return true; /* late: its record still taught us the term */
    }
    uint8_t bit = (uint8_t)(1u << i);
    /* A claim retransmitted after the witness granted it comes back STALE_TERM with the record
     * showing we won it: that is the grant. */
    bool won_before = q->kind != COLO_WQ_RENEW && r.owner == (uint8_t)p->cfg.board &&
                      r.term == q->term && r.verdict == COLO_WR_REFUSED &&
                      r.reason == COLO_WR_STALE_TERM;
    if (r.verdict == COLO_WR_GRANTED || won_before) {
        q->granted |= bit;
        q->refused &= (uint8_t)~bit;
    } else {
        q->refused |= bit;
        q->reason = r.reason;
        q->wait_ms = MAX(q->wait_ms, r.wait_ms);
    }
    unsigned n = p->cfg.witnesses;
    if (colo_witness_has_majority(popcount8(q->granted), n)) {
        req_won(p, now_us);
    } else if (n - popcount8(q->refused) < colo_witness_majority(n)) {
        req_lost(p, now_us);
    }
    return true;
}

/* ---- transitions ---- */

static void go_alone(struct colo_pair *p, const char *why, uint64_t now)
{
    p->cfg.ops->release_output(p->cfg.ctx);
    enter(p, COLO_PAIR_ALONE, now);
    p->committed = false;
    p->session_peer = 0;
    say(p, "alone", why);
    /* The record must say so too (unless a majority just granted it): a secondary that asks
     * later is then refused. */
    if (p->cfg.witnesses && (p->won_term == 0 || p->rec_mode == COLO_WITNESS_MODE_PROTECTED)) {
        p->req.kind = 0;
        req_start(p, COLO_WQ_CLAIM_ALONE, p->epoch, now);
    }
}

static void become_secondary(struct colo_pair *p, uint64_t now)
{
    p->primary_role = false;
    p->took_over = false;
    p->want_protect = false;
    p->committed = false;
    p->session_peer = 0;
    p->won_term = 0;
    p->req.kind = 0;
    enter(p, p->dropped_boot ? COLO_PAIR_STALE : COLO_PAIR_STANDBY, now);
    p->cfg.ops->listen(p->cfg.ctx);
}

static void fence(struct colo_pair *p, const char *why, uint64_t now)
{
    p->cfg.ops->end_session(p->cfg.ctx);
    p->cfg.ops->fence(p->cfg.ctx);
    p->fences++;
    p->dropped_boot = 0;
    become_secondary(p, now);
    say(p, "fenced", why);
}

static void take_over(struct colo_pair *p, const char *why, uint64_t now)
{
    p->cfg.ops->end_session(p->cfg.ctx);
    if (!p->cfg.ops->take_over(p->cfg.ctx, p->epoch)) {
        drop_replica(p, "the replica could not be resumed", now);
        return;
    }
    p->failovers++;
    p->primary_role = true;
    p->took_over = true;
    p->want_protect = true;
    p->committed = false;
    p->rep_boot = 0;
    p->session_peer = 0;
    p->req.kind = 0;
    enter(p, COLO_PAIR_ALONE, now);
    say(p, "failover", why);
}

static void drop_replica(struct colo_pair *p, const char *why, uint64_t now)
{
    p->drops++;
    p->dropped_boot = p->rep_boot ? p->rep_boot : p->session_peer;
    if (!p->dropped_boot) {
        p->dropped_boot = 1; /* a replica of an unknown boot: still say it is gone */
    }
    p->rep_boot = 0;
    p->req.kind = 0;
    enter(p, COLO_PAIR_STALE, now);
    say(p, "dropped", why);
}

static void start_claim(struct colo_pair *p, const char *why, uint64_t now)
{
    if (!p->cfg.witnesses) {
        take_over(p, why, now);
        return;
    }
    if (p->state != COLO_PAIR_CLAIMING) {
        enter(p, COLO_PAIR_CLAIMING, now);
        say(p, "claiming", why);
    }
    req_start(p, COLO_WQ_CLAIM_TAKEOVER, p->epoch, now);
}

/* ---- deciding ---- */

static void react_primary(struct colo_pair *p, uint64_t now)
{
    const struct colo_hb *h = live_peer(p, now);
    uint64_t me = p->cfg.boot_id;

    /* A session that started before the peer was ever heard: its first heartbeat names it. */
    if (h && !p->session_peer && h->role == COLO_HB_ROLE_SECONDARY &&
        (p->state == COLO_PAIR_PROTECTING || p->state == COLO_PAIR_DECIDING)) {
        adopt_peer(p, h);
    }

    /* The peer runs the guest it took over: this copy gives way, unless it is the protected
     * one (then the peer's is the stale copy and it will fence itself on our heartbeat). */
    if (h && h->role == COLO_HB_ROLE_PRIMARY && (h->flags & COLO_HB_F_GUEST_RUNNING)) {
        bool peer_took = (h->flags & COLO_HB_F_TAKEOVER) != 0;
        bool protecting = p->state == COLO_PAIR_PROTECTING && p->committed;
        if (p->state == COLO_PAIR_BOOT_CHECK &&
            (h->state != COLO_PAIR_BOOT_CHECK || p->cfg.board == 'b')) {
            fence(p, "the peer already runs the guest (this board restarted)", now);
            return;
        }
        if (peer_took && !protecting && !p->took_over) {
            fence(p, "the peer took the guest over", now);
            return;
        }
    }

    switch (p->state) {
    case COLO_PAIR_BOOT_CHECK:
        if (p->peer_down) {
            go_alone(p, "the operator says the peer is down", now);
        } else if (p->cfg.witnesses) {
            if (!p->req.kind && now >= p->next_renew_us) {
                req_start(p, COLO_WQ_BOOT, 0, now);
            }
        } else if (h && h->role == COLO_HB_ROLE_SECONDARY &&
                   !(h->flags & (COLO_HB_F_PROTECTED | COLO_HB_F_GUEST_RUNNING))) {
            go_alone(p, "fresh guest; the peer holds no replica", now);
        } else if (!p->cfg.auto_protect && !p->peer.heard_any &&
                   now - MIN(now, p->since_us) > window_us(p)) {
            /* Run by hand (cv.colo_auto=0): a board alone on its network runs its guest
             * after a window, as a standalone machine; the operator owns that choice. */
            go_alone(p, "no peer heard for a window (protection is started by hand)", now);
        }
        break;
    case COLO_PAIR_DECIDING:
        if (p->req.kind == COLO_WQ_RENEW) {
            p->req.kind = 0; /* the claim matters now */
        }
        if (p->peer_down) {
            go_alone(p, "the operator says the peer is down", now);
        } else if (h && fresh(p, h) && (h->flags & COLO_HB_F_DROPPED) && h->rep_boot == me) {
            go_alone(p, "the secondary dropped its replica", now);
        } else if (h && p->session_peer && h->boot_id != p->session_peer && !p->cfg.witnesses) {
            /* Its replica was in the RAM it lost. (Unless it took over first, cut off from
             * us, and died: two faults. With witnesses configured they decide that case.) */
            go_alone(p, "the secondary restarted (its replica is gone)", now);
        } else if (p->cfg.witnesses && !p->req.kind && now >= p->next_renew_us) {
            req_start(p, COLO_WQ_CLAIM_ALONE, p->epoch, now);
        }
        break;
    case COLO_PAIR_PROTECTING:
        /* The session's own timeout is long; the heartbeats tell sooner that the replication
         * path is gone. The output stays held until the replica is dropped. */
        if (!colo_hb_path_alive(&p->peer, COLO_HB_PATH_REPL, now) && session_silent(p, now)) {
            p->cfg.ops->end_session(p->cfg.ctx);
            enter(p, COLO_PAIR_DECIDING, now);
            say(p, "deciding", "replication path silent");
        }
        break;
    case COLO_PAIR_ALONE:
        if (p->want_protect) {
            bool listening =
                h && h->role == COLO_HB_ROLE_SECONDARY && (h->flags & COLO_HB_F_LISTENING);
            uint64_t retry = (uint64_t)RETRY_CONNECT_MS * 1000u;
            bool paced = !p->connect_us || now - MIN(now, p->connect_us) >= retry;
            bool unknown = !p->peer.heard_any && now - MIN(now, p->since_us) >= retry;
            if ((listening || unknown) && paced) {
                p->connect_us = now;
                enter(p, COLO_PAIR_CONNECTING, now);
                p->cfg.ops->connect(p->cfg.ctx);
            }
        }
        break;
    default:
        break;
    }

    /* The owner renews its lease; an owner whose record still says PROTECTED claims ALONE. */
    if (p->cfg.witnesses && !p->req.kind && colo_pair_output_free(p) && now >= p->next_renew_us) {
        if (p->won_term && p->rec_mode != COLO_WITNESS_MODE_PROTECTED) {
            req_start(p, COLO_WQ_RENEW, 0, now);
        } else {
            req_start(p, COLO_WQ_CLAIM_ALONE, p->epoch, now);
        }
    } else if (p->cfg.witnesses && !p->req.kind && p->state == COLO_PAIR_PROTECTING &&
               p->committed && p->won_term && now >= p->next_renew_us) {
        req_start(p, COLO_WQ_RENEW, 0, now);
    }
}

static void react_secondary(struct colo_pair *p, uint64_t now)
{
    if (!armed(p)) {
        return;
    }
    const struct colo_hb *h = live_peer(p, now);
    if (h && !p->rep_boot && h->role == COLO_HB_ROLE_PRIMARY) {
        /* Armed by a session that started before the primary was heard: this is it. */
        adopt_peer(p, h);
        p->rep_boot = h->boot_id;
    }
    /* What counts as "the primary went on without this replica": SHUTDOWN; WANT_DROP naming
     * this board's boot (sent only after a session with it ended); ALONE from the ALONE state
     * (a CONNECTING primary's ALONE flag is about the time before this session). */
    bool gone = (h && h->boot_id == p->rep_boot && fresh(p, h)) &&
                ((h->flags & COLO_HB_F_SHUTDOWN) ||
                 ((h->flags & COLO_HB_F_WANT_DROP) && h->rep_boot == p->cfg.boot_id) ||
                 ((h->flags & COLO_HB_F_ALONE) && h->state == COLO_PAIR_ALONE));
    if (gone) {
        drop_replica(p,
                     h->flags & COLO_HB_F_SHUTDOWN ? "the guest shut down"
                     : h->flags & COLO_HB_F_ALONE  ? "the primary goes on alone"
                                                   : "the primary asks to drop the replica",
                     now);
        return;
    }
    if (p->peer_down) {
        start_claim(p, "the operator says the primary is down", now);
    } else if (h && p->rep_boot && h->boot_id != p->rep_boot && h->role == COLO_HB_ROLE_PRIMARY) {
        colo_log_warn("pair: the primary's boot %016llx (seq %llu) is not the replica's %016llx",
                      (unsigned long long)h->boot_id, (unsigned long long)h->seq,
                      (unsigned long long)p->rep_boot);
        start_claim(p, "the primary restarted", now);
    } else if (h && h->boot_id == p->rep_boot && fresh(p, h) && h->role == COLO_HB_ROLE_SECONDARY &&
               !(h->flags & COLO_HB_F_GUEST_RUNNING) &&
               (h->state == COLO_PAIR_STANDBY || h->state == COLO_PAIR_STALE)) {
        /* Only a primary that fenced itself says STANDBY/STALE with its own boot; an ARMED
         * heartbeat of the same boot is the peer's from before it took over, arriving late. */
        start_claim(p, "the primary gave the guest up", now);
    } else if (!h && session_silent(p, now)) {
        start_claim(p, "primary silent on both paths and the session", now);
    } else if (p->state == COLO_PAIR_CLAIMING) {
        /* Heard again: no claim while the primary lives. */
        p->req.kind = 0;
        enter(p, COLO_PAIR_ARMED, now);
        return;
    }
    if (p->state == COLO_PAIR_CLAIMING && !p->req.kind && now >= p->next_renew_us) {
        req_start(p, COLO_WQ_CLAIM_TAKEOVER, p->epoch, now);
    }
}

static void react(struct colo_pair *p, uint64_t now)
{
    const struct colo_hb *h = live_peer(p, now);
    if (h) {
        p->max_term = MAX(p->max_term, h->term);
        p->peer_down = false; /* the operator's word holds only while the peer is silent */
    }
    if (p->primary_role) {
        react_primary(p, now);
    } else {
        react_secondary(p, now);
    }
}

/* ---- inputs ---- */

void colo_pair_init(struct colo_pair *p, const struct colo_pair_cfg *cfg, uint64_t now_us)
{
    memset(p, 0, sizeof(*p));
    p->cfg = *cfg;
    p->cfg.witnesses = MIN(cfg->witnesses, COLO_WITNESS_MAX);
    p->cfg.lease_ms = MIN(MAX(cfg->lease_ms, 1u), COLO_WITNESS_TTL_MAX);
    colo_hb_peer_init(&p->peer, cfg->board == 'a' ? 'b' : 'a', cfg->period_ms, cfg->miss,
                      cfg->boot_id, cfg->hb_key);
    colo_pair_set_hb(p, cfg->period_ms, cfg->miss);
    p->since_us = now_us;
    if (cfg->primary) {
        p->primary_role = true;
        p->want_protect = cfg->auto_protect;
        p->state = COLO_PAIR_BOOT_CHECK;
        cfg->ops->hold_output(cfg->ctx);
    } else {
        p->state = COLO_PAIR_STANDBY;
        cfg->ops->listen(cfg->ctx);
    }
}

void colo_pair_tick(struct colo_pair *p, uint64_t now_us, uint64_t now_ticks)
{
    uint64_t stalls = p->peer.stalls;
    colo_hb_tick(&p->peer, now_us);
    if (p->peer.stalls != stalls) {
        /* We were not listening: the session gets a fresh window like the paths. */
        p->session_rx_us = now_us;
    }
    if (p->req.kind && now_us >= p->req.next_us) {
        if (now_us - p->req.sent_us > (uint64_t)WITNESS_ROUNDS * p->peer.period_ms * 1000u) {
            uint8_t kind = p->req.kind;
            uint64_t epoch = p->req.epoch;
            p->req.kind = 0;
            req_start(p, kind, epoch, now_us); /* a fresh round, a fresh term */
        } else {
            req_send(p, now_us);
        }
    }
    react(p, now_us);
    if (p->state != COLO_PAIR_OFF) {
        send_hb(p, now_ticks);
        p->hb_sent_us = now_us;
    }
}

void colo_pair_keepalive(struct colo_pair *p, uint64_t now_us, uint64_t now_ticks)
{
    if (p->state != COLO_PAIR_OFF &&
        now_us - MIN(now_us, p->hb_sent_us) >= (uint64_t)p->peer.period_ms * 1000u) {
        send_hb(p, now_ticks);
        p->hb_sent_us = now_us;
    }
}

enum colo_hb_err colo_pair_hb_rx(struct colo_pair *p, unsigned path, const void *buf, size_t len,
                                 uint64_t now_us, uint64_t now_ticks)
{
    enum colo_hb_err e = colo_hb_rx(&p->peer, path, buf, len, now_us, now_ticks);
    if (e == COLO_HB_OK) {
        react(p, now_us);
    }
    return e;
}

void colo_pair_session_start(struct colo_pair *p, uint64_t now_us)
{
    p->session_rx_us = now_us;
    p->session_peer = p->peer.heard_any ? p->peer.last.boot_id : 0;
    p->session_hb_boot = p->session_peer;
    p->session_hb_seq = p->peer.heard_any ? p->peer.last.seq : 0;
    p->committed = false;
    p->peer_down = false;
    if (p->primary_role) {
        if (p->state == COLO_PAIR_CONNECTING || p->state == COLO_PAIR_ALONE) {
            enter(p, COLO_PAIR_PROTECTING, now_us);
        } else {
            p->cfg.ops->end_session(p->cfg.ctx); /* no session outside those states */
        }
        return;
    }
    /* A session always starts with a full synchronisation over the replica. */
    if (p->state != COLO_PAIR_SHUTDOWN) {
        p->rep_boot = 0;
        p->req.kind = 0;
        enter(p, COLO_PAIR_SYNCING, now_us);
    }
}

void colo_pair_session_rx(struct colo_pair *p, uint64_t now_us)
{
    p->session_rx_us = now_us;
}

void colo_pair_session_committed(struct colo_pair *p, uint64_t epoch, uint64_t now_us)
{
    p->session_rx_us = now_us;
    p->epoch = epoch;
    if (p->primary_role) {
        if (p->state == COLO_PAIR_PROTECTING) {
            bool first = !p->committed;
            p->committed = true;
            p->took_over = false; /* a secondary holds our guest now */
            if (first && p->cfg.witnesses) {
                p->next_renew_us = now_us; /* tell the witnesses at once */
            }
        }
        return;
    }
    if (p->state == COLO_PAIR_SYNCING || armed(p)) {
        p->rep_boot = p->session_peer; /* 0: learnt from the primary's first heartbeat */
        p->dropped_boot = 0;
        if (p->state == COLO_PAIR_SYNCING) {
            enter(p, COLO_PAIR_ARMED, now_us);
        }
    }
}

void colo_pair_replica_invalid(struct colo_pair *p, uint64_t now_us)
{
    if (armed(p)) {
        p->rep_boot = 0;
        p->req.kind = 0;
        enter(p, COLO_PAIR_SYNCING, now_us);
    }
}

void colo_pair_session_end(struct colo_pair *p, enum colo_pair_end why, uint64_t now_us)
{
    if (p->primary_role) {
        switch (p->state) {
        case COLO_PAIR_CONNECTING:
            enter(p, COLO_PAIR_ALONE, now_us);
            break;
        case COLO_PAIR_PROTECTING:
            if (why == COLO_PAIR_END_SHUTDOWN) {
                enter(p, COLO_PAIR_SHUTDOWN, now_us);
                say(p, "shutdown", "the guest shut down; both boards stopped");
            } else if (why == COLO_PAIR_END_SWITCHOVER) {
                fence(p, "planned switchover: the peer runs the guest now", now_us);
            } else {
                if (why == COLO_PAIR_END_STOPPED) {
                    p->want_protect = false;
                }
                enter(p, COLO_PAIR_DECIDING, now_us);
                say(p, "deciding",
                    why == COLO_PAIR_END_STOPPED
                        ? "protection stopped; output held until the secondary drops its replica"
                        : "replication session lost; output held until the replica is dropped");
            }
            break;
        default:
            break;
        }
        react(p, now_us);
        return;
    }
    switch (p->state) {
    case COLO_PAIR_SYNCING:
        /* No replica of this primary's boot, and none will come without a new session: said
         * as DROPPED, which is what lets a primary that lost the session mid-sync go on
         * (it cannot tell a sync that failed from a commit it did not see). */
        if (p->session_peer) {
            p->dropped_boot = p->session_peer;
        }
        enter(p, p->dropped_boot ? COLO_PAIR_STALE : COLO_PAIR_STANDBY, now_us);
        break;
    case COLO_PAIR_ARMED:
    case COLO_PAIR_CLAIMING:
        if (why == COLO_PAIR_END_SWITCHOVER) {
            take_over(p, "planned switchover", now_us);
        } else if (why == COLO_PAIR_END_STOPPED) {
            drop_replica(p, "the primary stopped protection", now_us);
        } else if (why == COLO_PAIR_END_SHUTDOWN) {
            drop_replica(p, "the guest shut down", now_us);
            enter(p, COLO_PAIR_SHUTDOWN, now_us);
        }
        break;
    default:
        break;
    }
    if (!p->primary_role && p->state != COLO_PAIR_SHUTDOWN) {
        p->cfg.ops->listen(p->cfg.ctx);
    }
    react(p, now_us);
}

void colo_pair_guest_shutdown(struct colo_pair *p, uint64_t now_us)
{
    if (p->primary_role && p->state != COLO_PAIR_PROTECTING && p->state != COLO_PAIR_SHUTDOWN) {
        p->cfg.ops->end_session(p->cfg.ctx);
        enter(p, COLO_PAIR_SHUTDOWN, now_us);
        say(p, "shutdown", "the guest shut down");
    }
}

/* ---- operator ---- */

static bool refuse(struct colo_pair *p, const char *why)
{
    keep_why(p, why);
    return false;
}

bool colo_pair_start(struct colo_pair *p, uint64_t now_us)
{
    if (!p->primary_role || p->state == COLO_PAIR_SHUTDOWN) {
        return refuse(p, "only the primary running the guest starts protection");
    }
    p->want_protect = true;
    if (p->state == COLO_PAIR_ALONE) {
        p->since_us = now_us - MIN(now_us, (uint64_t)RETRY_CONNECT_MS * 1000u);
        p->connect_us = 0;
    }
    react(p, now_us);
    return true;
}

bool colo_pair_stop(struct colo_pair *p, uint64_t now_us)
{
    if (!p->primary_role) {
        return refuse(p, "only the primary stops protection");
    }
    p->want_protect = false;
    if (p->state == COLO_PAIR_CONNECTING) {
        p->cfg.ops->end_session(p->cfg.ctx);
        enter(p, COLO_PAIR_ALONE, now_us);
    }
    /* PROTECTING: the board ends the session with STOPPED; its end lands in DECIDING, which
     * holds output until the secondary has dropped its replica. DECIDING stays as it is. */
    return true;
}

bool colo_pair_failover(struct colo_pair *p, uint64_t now_us)
{
    if (!armed(p)) {
        return refuse(p, p->primary_role   ? "this board is the primary"
                         : p->dropped_boot ? "the replica is stale: the primary went on without it"
                                           : "no committed replica to take over");
    }
    start_claim(p, "operator failover", now_us);
    return true;
}

bool colo_pair_peer_down(struct colo_pair *p, uint64_t now_us)
{
    if (colo_hb_peer_alive(&p->peer, now_us)) {
        return refuse(p, "the peer's heartbeats are still heard");
    }
    if (p->state != COLO_PAIR_BOOT_CHECK && p->state != COLO_PAIR_DECIDING && !armed(p)) {
        return refuse(p, "nothing waits for the peer");
    }
    p->peer_down = true;
    react(p, now_us);
    return true;
}

/* Settings the heartbeat can carry (the fuzz target found a period it could not). */
void colo_pair_set_hb(struct colo_pair *p, uint32_t period_ms, uint32_t miss)
{
    p->peer.period_ms = MIN(MAX(period_ms, 1u), COLO_HB_PERIOD_MAX);
    p->peer.miss = MIN(MAX(miss, 1u), COLO_HB_MISS_MAX);
}

bool colo_pair_input_local(const struct colo_pair *p, uint64_t now_us)
{
    uint64_t period = (uint64_t)p->peer.period_ms * 1000u;
    uint64_t heard = MAX(p->peer.path[0].last_rx_us, p->peer.path[1].last_rx_us);
    heard = MAX(heard, p->session_rx_us);
    return armed(p) && p->peer.heard_any && now_us - MIN(now_us, heard) >= period;
}
