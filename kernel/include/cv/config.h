/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The board's configuration: its role in the pair and its addresses, from the hypervisor's
 * command line (arm64: the device tree's /chosen/bootargs; QEMU: -append) over per-board
 * defaults. Keys are `cv.<name>=<value>` separated by spaces; other words are ignored. A
 * malformed value is reported and the default kept. Addresses are IPv4 in host byte order
 * (a.b.c.d = a << 24 | ...).
 *
 * Adding a key (the COLO settings will): a field in struct cv_config, a default in
 * config_defaults(), a line in the key table in kernel/core/config.c (name, parser, field), and
 * it is parsed, dumped by `net config` and checked by the unit test's table walk.
 */
#ifndef CV_CONFIG_H
#define CV_CONFIG_H

#include <cv/types.h>

struct boot_info;

struct cv_ip4_prefix {
    uint32_t addr;
    uint8_t prefix_len; /**< 1..32 */
};

/** A board's part in the pair. The primary runs the guest; the secondary holds a copy. */
enum cv_role {
    CV_ROLE_PRIMARY,
    CV_ROLE_SECONDARY,
};

/** How the primary logs dirty pages while protecting (cv.dirty_mode). */
enum cv_dirty_mode {
    CV_DIRTY_AUTO, /**< the CPU's hardware dirty state where it has it, else write-protect */
    CV_DIRTY_WP,   /**< write-protect faults even on a CPU with FEAT_HAFDBS */
    CV_DIRTY_HW,   /**< hardware dirty state; write-protect (with a warning) without it */
};

/** Most witnesses a pair may name (it then needs a majority of them). */
#define CV_WITNESS_MAX 3u
/** The witness service's default UDP port (tools/cv-witness). */
#define CV_WITNESS_PORT 7790u

/** A 256-bit pre-shared key (cv.key, cv.witness_key): 64 hex digits in the boot arguments. */
#define CV_KEY_LEN 32u
struct cv_key {
    bool set;
    uint8_t k[CV_KEY_LEN];
};

/** One witness on the service LAN (cv.witness). */
struct cv_witness {
    uint32_t ip;
    uint16_t port;
};

/** The witnesses a pair decides with: none, or up to CV_WITNESS_MAX (cv.witness). */
struct cv_witness_set {
    uint32_t n;
    struct cv_witness w[CV_WITNESS_MAX];
};

struct cv_config {
    char board; /**< 'a' or 'b': which half of the pair */
    /* ---- networking ---- */
    struct cv_ip4_prefix repl_ip; /**< this board on the replication link */
    uint32_t peer_ip;             /**< the other board on the replication link */
    struct cv_ip4_prefix svc_ip;  /**< this board on the service LAN (heartbeats) */
    uint32_t peer_svc_ip;         /**< the other board on the service LAN */
    uint8_t guest_mac[6];         /**< the guest's emulated NIC */
    uint32_t guest_ip;            /**< the guest's service address; 0: none (guest_filter.h) */
    /* ---- COLO (checkpointing) settings ---- */
    enum cv_role role;             /**< default: a primary, b secondary */
    uint32_t hb_period_ms;         /**< heartbeat period on each path */
    uint32_t hb_miss;              /**< periods of silence on both paths: the peer is dead */
    uint32_t colo_auto;            /**< 1: enter protection at boot and re-protect on its own */
    uint32_t colo_port;            /**< TCP port of the checkpoint stream */
    uint32_t checkpoint_delay_ms;  /**< run-time settable: `colo set checkpoint-delay` */
    uint32_t dirty_threshold;      /**< pages; 0: half the staging area */
    uint32_t output_delay_ms;      /**< held output starts a checkpoint after this; 0: off */
    uint32_t staging_mib;          /**< bounds one checkpoint, on each board */
    uint32_t colo_verify;          /**< 1: verification mode (CI) */
    enum cv_dirty_mode dirty_mode; /**< dirty-logging mechanism while protecting */
    struct cv_witness_set witness; /**< the pair's witnesses (none: decide between the two) */
    uint32_t witness_lease_ms;     /**< lease a witness grants; renewed every quarter of it */
    /* ---- keys (docs/security.md): never printed; taken out by config_take_key() ---- */
    struct cv_key key;         /**< the pair's key: the link, the heartbeats */
    struct cv_key witness_key; /**< the witnesses' key */
    /** 1: protect without a key (an unauthenticated, unencrypted link): tests that say so. */
    uint32_t insecure;
};

/** Default checkpoint period (docs/benchmarks.md, "Choosing the checkpoint delay"). */
#define CV_DEFAULT_CHECKPOINT_DELAY_MS 100u
/** Default wait of held guest output before it triggers a checkpoint (docs/colo.md). */
#define CV_DEFAULT_OUTPUT_DELAY_MS 10u

/** The configuration in force (defaults for board a until config_init() runs). Any context. */
const struct cv_config *config_get(void);
/** Fills c with the defaults for board ('a' or 'b'). */
void config_defaults(struct cv_config *c, char board);
/**
 * Applies the cv.* keys of a bootargs string to c: first the board (cv.board, else c->board)
 * selects the defaults, which replace c; then every other key in order (the last one wins). Returns
 * the number of rejected words (each logged with a warning); c keeps the default for those. Pure;
 * host-testable.
 */
unsigned config_parse_bootargs(struct cv_config *c, const char *bootargs);
/**
 * Sets the configuration from boot->cmdline (defaults if NULL) and logs its summary. Boot
 * context, after board_arch_check().
 */
void config_init(const struct boot_info *boot);
/**
 * Overwrites the values of the secret keys (cv.key=, cv.witness_key=) in a boot-argument string
 * with 'x', so the firmware's copy (the device tree in RAM) no longer holds them once parsed.
 * Pure; host-testable.
 */
void config_scrub_secrets(char *args);
const char *config_role_name(enum cv_role r);
/** "auto", "wp" or "dbm". */
const char *config_dirty_mode_name(enum cv_dirty_mode m);
/**
 * Changes one key of the configuration in force on a running board (`net config set`): only
 * keys used afresh each time (the peer's two addresses, the guest's address). False with a
 * reason in err otherwise, or for a malformed value (nothing changes).
 * Hypervisor context.
 */
bool config_set(const char *name, const char *value, char *err, size_t errlen);
/**
 * The bounds of number key name (without "cv."): false if there is no such key or it is not a
 * number. For settings that can also be changed at run time (`colo set`), so one table bounds both.
 */
bool config_u32_range(const char *name, uint32_t *min, uint32_t *max);
/** Which secret config_take_key() hands out. */
enum cv_key_id {
    CV_KEY_PAIR,
    CV_KEY_WITNESS,
};
/**
 * Copies a secret key out of the configuration in force into *out and zeroes it there, so that
 * the one copy left lives with the module that uses it (config_get() shows every other field
 * to any caller). A second call finds it taken: out->set is false then. Boot context.
 */
void config_take_key(enum cv_key_id id, struct cv_key *out);
/** True when a key was configured at boot (also after it was taken). Any context. */
bool config_has_key(enum cv_key_id id);
/** Prints every key as `name=value` lines (name without the "cv." prefix); secret keys print
 *  as `set` or `none`, never their value. */
void config_dump(const struct cv_config *c);

/** Parses a dotted quad ("192.0.2.1"), exactly len bytes of s. False if malformed. */
bool config_parse_ip4(const char *s, size_t len, uint32_t *out);
/** Formats a host-order IPv4 address into buf (at least 16 bytes). Returns buf. */
const char *config_fmt_ip4(uint32_t ip, char *buf, size_t n);
/** Room for config_fmt_witnesses() of a full set: "255.255.255.255:65535," (22) each. */
#define CV_WITNESS_FMT_LEN (CV_WITNESS_MAX * 22u + 8u)
/** Formats a witness set as cv.witness takes it ("none", or ip:port,...) into buf. */
const char *config_fmt_witnesses(const struct cv_witness_set *ws, char *buf, size_t n);

#endif
