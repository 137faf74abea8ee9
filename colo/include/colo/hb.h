/* SPDX-License-Identifier: Apache-2.0 */
/*
 * COLO heartbeats: the small UDP datagrams the two boards of a pair send each other every
 * period_ms on two independent paths (path 0: the replication link, path 1: the service LAN),
 * and the tracker that turns what arrives into "is the peer alive". A board declares its peer
 * dead only when it has missed it on BOTH paths: a dead replication link alone (cable, switch,
 * NIC) must not make a secondary take over a primary that is still serving its clients.
 *
 * The datagram, 104 bytes (COLO_HB_LEN), little-endian whatever the host order:
 *
 *    0 magic u32 'CVHB'   4 version u16 (3)  6 path u8   7 role u8   8 flags u32
 *   12 board u8 ('a'/'b') 13 state u8 (the sender's pair state, < 64)  14 reserved u16 (0)
 *   16 seq u64            24 epoch u64    32 sender_ticks u64
 *   40 boot_id u64 (the sender's per-boot random id, never 0)
 *   48 term u64 (the highest witness term the sender has seen)
 *   56 rep_boot u64 (the boot_id of the peer boot a replica belongs to; below)
 *   64 period_ms u32 (1..60000)   68 miss u32 (1..1000)
 *   72 again u32 (0: a heartbeat round; k: the k-th copy of round seq, sent by the urgent path)
 *   76 reserved u32 (0)
 *   80 echo_boot u64 (the receiver's boot_id as the sender last heard it; 0: never heard)
 *   88 seal u8[16]: with a pair key, HMAC-SHA-256 of bytes 0..87 under the heartbeat key,
 *      truncated to 16 bytes; without one (cv.insecure=1), CRC32C of bytes 0..87, then 12 zeros
 *
 * 16 bytes of tag: a forger's chance per datagram is 2^-128, and a board refuses a datagram
 * whose seal fails without any other effect, so there is nothing to gain from a longer tag
 * (RFC 2104 section 5 allows truncation to half the hash) while the datagram stays small.
 *
 * Every reserved byte and flag bit must be zero on receipt: a later version that gives them a
 * meaning bumps the version, so a board never silently ignores something its peer relies on.
 */
#ifndef COLO_HB_H
#define COLO_HB_H

#include <colo/port.h>

#define COLO_HB_MAGIC 0x42485643u /* the bytes "CVHB" on the wire */
#define COLO_HB_VERSION 3u
#define COLO_HB_LEN 104u
#define COLO_HB_TAG_LEN 16u       /**< the truncated HMAC-SHA-256 at the end */
#define COLO_HB_PERIOD_MAX 60000u /**< ms */
#define COLO_HB_MISS_MAX 1000u
#define COLO_HB_STATE_MAX 63u

/** Boot ids of the peer a tracker remembers (colo_hb_peer.heard_boot). */
#define COLO_HB_BOOTS 8u

/** Paths, also the index of struct colo_hb_peer.path[]. */
#define COLO_HB_PATH_REPL 0u    /**< the replication link */
#define COLO_HB_PATH_SERVICE 1u /**< the service LAN */
#define COLO_HB_PATHS 2u

/** The sender's role (the values of enum colo_role in colo_proto.h). */
#define COLO_HB_ROLE_PRIMARY 0u
#define COLO_HB_ROLE_SECONDARY 1u

/** flags: the sender's state, so a survivor knows what the peer was doing when it went quiet. */
#define COLO_HB_F_GUEST_RUNNING 0x1u /**< the sender's guest runs */
/** A primary with a committed checkpoint on its secondary, or a secondary holding a valid
 *  replica: the pair can survive the loss of either board. */
#define COLO_HB_F_PROTECTED 0x2u
#define COLO_HB_F_LISTENING 0x4u /**< a secondary ready for a primary to connect */
/** The sender runs the guest because it took it over from its primary (failover or switchover),
 *  and no new secondary holds it yet: a primary that comes back without a working session must
 *  give way to it rather than run a second copy. */
#define COLO_HB_F_TAKEOVER 0x8u
/** A primary that releases output no committed checkpoint covers: any replica of its guest is
 *  stale from now on. */
#define COLO_HB_F_ALONE 0x10u
/** A primary that lost its session and wants to go on alone: "drop your replica of my boot". */
#define COLO_HB_F_WANT_DROP 0x20u
/** A secondary that has given up its right to take over the replica of boot rep_boot (epoch
 *  names the replica's checkpoint). Once sent, it never takes that replica over. */
#define COLO_HB_F_DROPPED 0x40u
/** The guest shut down: the pair stops, and no replica of it may ever run. */
#define COLO_HB_F_SHUTDOWN 0x80u
#define COLO_HB_F_ALL                                                                              \
    (COLO_HB_F_GUEST_RUNNING | COLO_HB_F_PROTECTED | COLO_HB_F_LISTENING | COLO_HB_F_TAKEOVER |    \
     COLO_HB_F_ALONE | COLO_HB_F_WANT_DROP | COLO_HB_F_DROPPED | COLO_HB_F_SHUTDOWN)

/**
 * Why a datagram was refused. The first group comes from the codec; the last two only from the
 * tracker (colo_hb_rx), for datagrams that are well formed but not evidence of the peer on the
 * path they came in on.
 */
enum colo_hb_err {
    COLO_HB_OK = 0,
    COLO_HB_E_LENGTH,     /**< not COLO_HB_LEN bytes */
    COLO_HB_E_MAGIC,      /**< not a heartbeat at all */
    COLO_HB_E_VERSION,    /**< a version we do not speak */
    COLO_HB_E_CRC,        /**< damaged in transit (no key: the CRC) */
    COLO_HB_E_AUTH,       /**< the tag is wrong: damaged, forged, or sealed with another key */
    COLO_HB_E_PATH,       /**< path field not 0 or 1 */
    COLO_HB_E_ROLE,       /**< role field not 0 or 1 */
    COLO_HB_E_FLAGS,      /**< flag bits outside COLO_HB_F_ALL */
    COLO_HB_E_RESERVED,   /**< a reserved byte nonzero */
    COLO_HB_E_BOARD,      /**< board not 'a' or 'b' */
    COLO_HB_E_FIELD,      /**< boot_id 0, state, period_ms or miss out of range */
    COLO_HB_E_PEER,       /**< valid, but from a board other than the expected peer */
    COLO_HB_E_WRONG_PATH, /**< valid, but arrived on another path than it names (or on none) */
    COLO_HB_E_OLD_BOOT,   /**< valid, but from a boot of the peer's before its newest */
    COLO_HB_E_REPLAY,     /**< valid, but not newer than the last one on its path (a copy) */
    COLO_HB_E_ECHO,       /**< valid, but does not echo this board's boot (about a past one) */
    COLO_HB_E_COUNT,
};

/** A heartbeat's content (decoded, or to encode). */
struct colo_hb {
    uint8_t path;   /**< the path the sender sent it on (COLO_HB_PATH_*) */
    uint8_t role;   /**< COLO_HB_ROLE_* */
    uint8_t board;  /**< the sender: 'a' or 'b' */
    uint32_t flags; /**< COLO_HB_F_* */
    /** Numbers the sender's heartbeat rounds: it starts at 1 and adds 1 per round, the same
     *  number on both paths; a restarted sender starts again at 1. */
    uint64_t seq;
    uint64_t epoch; /**< the sender's last committed checkpoint */
    uint64_t ticks; /**< the sender's raw counter when it sent (for the clock-offset estimate) */
    uint8_t state;  /**< the sender's pair state (enum colo_pair_state), for the peer's status */
    uint64_t boot_id;
    uint64_t term;
    uint64_t rep_boot;
    uint32_t period_ms;
    uint32_t miss;
    /** 0 for a heartbeat round; the urgent path's k-th copy of round seq carries k: (seq,
     *  again) grows with every datagram, so a copy is life, and a replayed one is not. */
    uint32_t again;
    /** The receiver's boot_id as the sender last heard it (0 before it heard any): what the
     *  flags say was decided knowing that boot, not one of the receiver's earlier ones. */
    uint64_t echo_boot;
};

/**
 * Encodes h into out (cap bytes) and seals it: with key (COLO_KEY_LEN bytes, the heartbeat key)
 * the truncated HMAC, with key NULL the CRC. Returns COLO_HB_LEN, or 0 when cap is too small or
 * h holds a value the wire format cannot carry (path or role > 1, unknown flags, board not
 * 'a'/'b', boot_id 0, state > COLO_HB_STATE_MAX, period_ms or miss 0 or above their maximum), so
 * decode accepts exactly what encode produces. Any context: pure but for the port's HMAC.
 */
size_t colo_hb_encode(void *out, size_t cap, const struct colo_hb *h, const uint8_t *key);

/**
 * Validates the datagram buf[0..len) and fills *h. Returns COLO_HB_OK, or the first check that
 * failed, in the order length, magic, version, seal (E_AUTH with a key, E_CRC without), then
 * the fields; *h is unspecified then. A keyed decoder refuses a CRC-sealed datagram and the
 * other way round. Any context: pure but for the port's HMAC.
 */
enum colo_hb_err colo_hb_decode(const void *buf, size_t len, struct colo_hb *h, const uint8_t *key);

/**
 * Turns the encoded heartbeat buf (COLO_HB_LEN bytes, sealed with key) into its next copy:
 * again + 1, sealed again. False (buf unchanged) if buf is not a valid heartbeat under key or
 * again would wrap. For the board's urgent path, which must not build heartbeats itself.
 * Any context, the urgent interrupt included (the port's HMAC must allow it).
 */
bool colo_hb_again(void *buf, size_t len, const uint8_t *key);

/** A short text for e ("?" when out of range). Any context: pure. */
const char *colo_hb_err_name(enum colo_hb_err e);

/* ---- liveness tracker ---- */

/** What one path has seen of the peer. Times are our own clock, in us. */
struct colo_hb_path {
    uint64_t last_rx_us; /**< last valid heartbeat, or the restart of the window (colo_hb_tick) */
    uint64_t rx;         /**< valid heartbeats from the peer */
    uint64_t bad;        /**< datagrams refused (any enum colo_hb_err but OK) */
    uint64_t lost;       /**< heartbeats missing from the peer's sequence (saturates) */
    uint64_t last_boot;  /**< boot_id of the last valid heartbeat on this path */
    uint64_t last_seq;   /**< seq of the last valid heartbeat on this path */
    uint32_t last_again; /**< and its again: (seq, again) must grow within a boot */
    uint64_t stale_echo; /**< authentic heartbeats that did not echo our boot (not counted) */
    bool heard;          /**< a valid heartbeat came in on this path at some time */
};

/**
 * The peer as seen from this board. Everything is plain data: the engine reads the fields for
 * `colo status` and may change period_ms and miss at any time (the next query uses them).
 */
struct colo_hb_peer {
    uint32_t period_ms; /**< our own heartbeat period (the stall rule) */
    uint32_t miss;      /**< our own window is period_ms * miss */
    struct colo_hb_path path[COLO_HB_PATHS];
    /** The newest valid heartbeat from the peer on either path: by seq, so a copy that comes in
     *  late on the slower path does not roll epoch back; a restart of the peer's sequence
     *  replaces it. */
    struct colo_hb last;
    bool heard_any; /**< last is valid */
    /** Peer ticks minus our ticks at the receipt of `last`: the latest sample, not smoothed. It
     *  includes the one-way delay (send path, wire, our receive path), so it overstates the true
     *  offset by that much and jitters with it; a consumer wanting better filters the samples
     *  (e.g. keeps the minimum over a short run). Both counters are assumed to run at the same
     *  rate (the boards are the same type). */
    int64_t clock_offset_ticks;
    uint64_t last_tick_us; /**< our own last colo_hb_tick (valid once ticked) */
    bool ticked;           /**< colo_hb_tick has run at least once */
    uint64_t stalls;       /**< times colo_hb_tick found that we had been stalled ourselves */
    uint64_t restarts;     /**< times the peer's boot_id changed */
    uint64_t old_boot;     /**< the peer's boot before the last restart (0: none) */
    char peer_board;       /**< the peer's board id: datagrams from any other are counted bad */
    uint64_t self_boot;    /**< our own boot_id: a heartbeat counts only if it echoes it */
    const uint8_t *key;    /**< the heartbeat key (COLO_KEY_LEN bytes), NULL: CRC only */
    /** The peer's boot ids seen in authentic heartbeats, newest first (0: empty): a datagram
     *  of any but the newest is refused, so replaying an older boot's heartbeats cannot pass
     *  for a restart. heard_boot[0] is what our heartbeats echo. */
    uint64_t heard_boot[COLO_HB_BOOTS];
};

/**
 * Starts tracking a peer that identifies as peer_board ('a' or 'b'), nothing heard yet, for
 * this board's boot self_boot, checking seals with key (the heartbeat key, COLO_KEY_LEN bytes,
 * kept by reference; NULL: the CRC). A period_ms or miss of 0 counts as 1 (an empty window
 * would declare a live peer dead). Engine context (hypervisor main loop).
 */
void colo_hb_peer_init(struct colo_hb_peer *p, char peer_board, uint32_t period_ms, uint32_t miss,
                       uint64_t self_boot, const uint8_t *key);

/**
 * A datagram arrived on `path` at our time now_us, our counter reading now_ticks. Decodes it
 * (seal first: a datagram whose seal fails counts in path[path].bad and changes nothing else)
 * and checks that it comes from the expected peer and names the path it arrived on (a datagram
 * that crossed to the other path proves nothing about the path it names). Then, in order:
 *
 * - a boot id in heard_boot[] other than the newest is refused (COLO_HB_E_OLD_BOOT): a late
 *   copy, or a replay of an earlier boot of the peer's; a new one becomes the newest;
 * - a heartbeat whose echo_boot is not self_boot is refused (COLO_HB_E_ECHO, counted in
 *   stale_echo, not bad: every peer sends a few at boot) after its boot id was noted (so that
 *   our heartbeats can echo it): it was sent before the peer heard this boot of ours, and all
 *   it could say is about a board that no longer exists, or it is a replay recorded before we
 *   restarted (our tracker forgot that boot's sequence numbers);
 * - within the path's boot, (seq, again) must be above the path's last (COLO_HB_E_REPLAY
 *   otherwise): the same datagram again proves nothing about the peer now, since anyone who saw
 *   it can send it, so a copy or a replay refreshes nothing.
 *
 * An accepted one counts in path[path].rx and refreshes that path's window; a round (again 0)
 * that is the newest replaces `last` and the clock offset (a copy's ticks are stale). A new
 * boot_id means the peer restarted: the path's sequence starts again there, `last` is replaced
 * and `restarts` counts it once. A seq above the path's last by more than one counts the
 * difference in `lost` (not on a path's first heartbeat: we may have booted after the peer).
 * Returns COLO_HB_OK or why the datagram was refused. Engine context (hypervisor main loop),
 * e.g. from the UDP receive callbacks it polls.
 */
enum colo_hb_err colo_hb_rx(struct colo_hb_peer *p, unsigned path, const void *buf, size_t len,
                            uint64_t now_us, uint64_t now_ticks);

/**
 * The periodic check of our own progress; call it every period, and in each pass of the main
 * loop before acting on colo_hb_peer_dead().
 *
 * Stall rule: if our previous tick is more than the window (period_ms * miss) ago, we were
 * stalled ourselves (frozen by a debugger or SIGSTOP, a long operation with the loop blocked),
 * and heard nothing in that time because we were not listening, not because the peer was quiet.
 * Every path that was alive when we stalled gets its window restarted from now_us, so the peer
 * has a full window to be heard again before it can be declared dead; the stall counts in
 * `stalls`. Without this a thawed board acts on stale timestamps: a primary frozen with SIGSTOP
 * and thawed would declare its healthy secondary dead at once. A path that was already silent
 * for the window when we stalled stays dead: it was declared on fresh evidence, and reviving it
 * would make the peer flap dead -> alive -> dead. Engine context (hypervisor main loop).
 */
void colo_hb_tick(struct colo_hb_peer *p, uint64_t now_us);

/**
 * How long the peer may be silent on a path before it counts as silent there: the period_ms *
 * miss it advertised in its newest heartbeat (ours before we heard it), in us. Engine context.
 */
uint64_t colo_hb_peer_window_us(const struct colo_hb_peer *p);

/**
 * A valid heartbeat came in on path (or its window was restarted) at most the peer's window
 * (colo_hb_peer_window_us) before now_us. False for a path never heard and for path > 1.
 * Engine context.
 */
bool colo_hb_path_alive(const struct colo_hb_peer *p, unsigned path, uint64_t now_us);

/** Alive on at least one path. Engine context. */
bool colo_hb_peer_alive(const struct colo_hb_peer *p, uint64_t now_us);

/**
 * Heard at some time, and now silent on both paths for more than the window. A peer never heard
 * is not dead but unknown: a board booting next to a powered-off peer must not act as if it
 * had seen it die. Engine context.
 */
bool colo_hb_peer_dead(const struct colo_hb_peer *p, uint64_t now_us);

#endif
