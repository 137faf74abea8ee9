// SPDX-License-Identifier: Apache-2.0
// Board configuration from the hypervisor's command line (arm64: /chosen/bootargs, found by the
// board check). A table of keys drives parsing and the dump, so a new key is one table line
// plus its field and default (cv/config.h). Our own small parsers: strtoul and friends set
// errno, which lives in TPIDR_EL0, the guest's register.
#include <stddef.h>
#include <string.h>

#include <cv/boot.h>
#include <cv/config.h>
#include <cv/log.h>

static struct cv_config config;
static bool config_ready;

enum key_type {
    KEY_BOARD,
    KEY_IP4,
    KEY_IP4_OPT, /* an address, or none (0) */
    KEY_IP4_PREFIX,
    KEY_MAC,
    KEY_ROLE,
    KEY_DIRTY_MODE,
    KEY_WITNESS, /* none | ip[:port][,ip[:port]...] */
    KEY_U32,     /* decimal, min..max */
    KEY_SECRET,  /* 64 hex digits: a struct cv_key */
};

struct config_key {
    const char *name; /* without "cv." */
    enum key_type type;
    size_t offset; /* of the field in struct cv_config */
    const char *help;
    uint32_t min, max; /* KEY_U32 */
};

/* Keys `net config set` may change on a running board: each takes effect at its next use (the
 * next connection, heartbeat or announcement). The others shape boot-time set-up. */
static const char *const runtime_keys[] = {"peer_ip", "peer_svc_ip", "guest_ip"};

static bool key_given[2]; /* config_has_key(): by enum cv_key_id */

static const struct config_key keys[] = {
    {"board", KEY_BOARD, offsetof(struct cv_config, board), "a|b, selects the defaults", 0, 0},
    {"repl_ip", KEY_IP4_PREFIX, offsetof(struct cv_config, repl_ip), "replication address/len", 0,
     0},
    {"peer_ip", KEY_IP4, offsetof(struct cv_config, peer_ip), "the peer's replication address", 0,
     0},
    {"svc_ip", KEY_IP4_PREFIX, offsetof(struct cv_config, svc_ip), "service LAN address/len", 0, 0},
    {"guest_mac", KEY_MAC, offsetof(struct cv_config, guest_mac), "the guest NIC's MAC", 0, 0},
    {"guest_ip", KEY_IP4_OPT, offsetof(struct cv_config, guest_ip),
     "the guest's service address, the only sender address it may use; none: any but the boards'",
     0, 0},
    {"role", KEY_ROLE, offsetof(struct cv_config, role),
     "primary|secondary: runs the guest, or holds it for the primary's checkpoints", 0, 0},
    {"peer_svc_ip", KEY_IP4, offsetof(struct cv_config, peer_svc_ip),
     "the peer's service LAN address (heartbeats)", 0, 0},
    {"hb_period", KEY_U32, offsetof(struct cv_config, hb_period_ms),
     "ms between heartbeats on each path", 10, 10000},
    {"hb_miss", KEY_U32, offsetof(struct cv_config, hb_miss),
     "heartbeat periods of silence on both paths before the peer counts as dead", 2, 1000},
    {"colo_auto", KEY_U32, offsetof(struct cv_config, colo_auto),
     "1: the primary enters protection by itself at boot (and after a lost secondary)", 0, 1},
    {"colo_port", KEY_U32, offsetof(struct cv_config, colo_port),
     "TCP port of the checkpoint stream on the replication link", 1, 65535},
    {"checkpoint_delay", KEY_U32, offsetof(struct cv_config, checkpoint_delay_ms),
     "ms between checkpoints", 1, 60000},
    {"output_delay", KEY_U32, offsetof(struct cv_config, output_delay_ms),
     "ms guest output may wait before it starts a checkpoint early (0: only checkpoint_delay)", 0,
     60000},
    {"dirty_threshold", KEY_U32, offsetof(struct cv_config, dirty_threshold),
     "dirty pages that start a checkpoint early (0: half the staging area)", 0, 1u << 24},
    {"colo_staging_mib", KEY_U32, offsetof(struct cv_config, staging_mib),
     "MiB of staging memory: bounds one checkpoint", 1, 1024},
    {"colo_verify", KEY_U32, offsetof(struct cv_config, colo_verify),
     "1: compare whole RAM and state of both boards after every checkpoint", 0, 1},
    {"dirty_mode", KEY_DIRTY_MODE, offsetof(struct cv_config, dirty_mode),
     "auto|wp|dbm: dirty logging by the CPU's dirty state where present, or write-protect faults",
     0, 0},
    {"witness", KEY_WITNESS, offsetof(struct cv_config, witness),
     "none|ip[:port][,ip[:port]...]: up to 3 witnesses on the service LAN (port 7790), a majority "
     "decides what the two boards cannot",
     0, 0},
    {"witness_lease", KEY_U32, offsetof(struct cv_config, witness_lease_ms),
     "ms of a witness lease: how long a board may release output on one grant", 100, 60000},
    {"key", KEY_SECRET, offsetof(struct cv_config, key),
     "the pair's 256-bit key, 64 hex digits (tools/cv-keygen)", 0, 0},
    {"witness_key", KEY_SECRET, offsetof(struct cv_config, witness_key),
     "the witnesses' 256-bit key, 64 hex digits (tools/cv-keygen)", 0, 0},
    {"insecure", KEY_U32, offsetof(struct cv_config, insecure),
     "1: protect without a key (unauthenticated link; tests only)", 0, 1},
};

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

void config_defaults(struct cv_config *c, char board)
{
    bool b = board == 'b';
    memset(c, 0, sizeof(*c));
    c->board = b ? 'b' : 'a';
    c->repl_ip = (struct cv_ip4_prefix){IP4(198, 51, 100, b ? 2 : 1), 24};
    c->peer_ip = IP4(198, 51, 100, b ? 1 : 2);
    c->svc_ip = (struct cv_ip4_prefix){IP4(192, 0, 2, b ? 3 : 2), 24};
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xc0, 0x00, 0x10};
    memcpy(c->guest_mac, mac, sizeof(mac));
    c->guest_ip = IP4(192, 0, 2, 10);
    c->role = b ? CV_ROLE_SECONDARY : CV_ROLE_PRIMARY;
    c->peer_svc_ip = IP4(192, 0, 2, b ? 2 : 3);
    c->hb_period_ms = 50;
    c->hb_miss = 6;
    c->colo_auto = 0;
    c->colo_port = 7100;
    c->checkpoint_delay_ms = CV_DEFAULT_CHECKPOINT_DELAY_MS;
    c->dirty_threshold = 0;
    c->output_delay_ms = CV_DEFAULT_OUTPUT_DELAY_MS;
    c->staging_mib = 64;
    c->colo_verify = 0;
    c->dirty_mode = CV_DIRTY_AUTO;
    c->witness.n = 0;
    c->witness_lease_ms = 300;
}

const char *config_role_name(enum cv_role r)
{
    return r == CV_ROLE_SECONDARY ? "secondary" : "primary";
}

const char *config_dirty_mode_name(enum cv_dirty_mode m)
{
    return m == CV_DIRTY_WP ? "wp" : m == CV_DIRTY_HW ? "dbm" : "auto";
}

const struct cv_config *config_get(void)
{
    if (!config_ready) {
        config_defaults(&config, 'a');
        config_ready = true;
    }
    return &config;
}

/* Decimal number in [s, s+len), at most max; no sign, no leading zeros beyond "0". */
static bool parse_dec(const char *s, size_t len, uint32_t max, uint32_t *out)
{
    if (len == 0 || len > 10 || (len > 1 && s[0] == '0')) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

bool config_parse_ip4(const char *s, size_t len, uint32_t *out)
{
    uint32_t ip = 0;
    size_t start = 0;
    unsigned parts = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            uint32_t v;
            if (parts == 4 || !parse_dec(s + start, i - start, 255, &v)) {
                return false;
            }
            ip = (ip << 8) | v;
            parts++;
            start = i + 1;
        }
    }
    if (parts != 4) {
        return false;
    }
    *out = ip;
    return true;
}

static bool parse_mac(const char *s, size_t len, uint8_t *mac)
{
    if (len != 17) {
        return false;
    }
    for (unsigned i = 0; i < 6; i++) {
        int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':')) {
            return false;
        }
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    /* A NIC's own address is unicast and not all zeros. */
    static const uint8_t zero[6];
    return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

/* An address a host may own: not 0.x, not multicast/reserved, not 255.255.255.255. */
static bool host_addr_ok(uint32_t ip)
{
    return (ip >> 24) != 0 && (ip >> 24) < 224 && (ip >> 24) != 127;
}

/* "none", or 1..CV_WITNESS_MAX comma-separated ip[:port], no address twice. */
static bool parse_witnesses(const char *v, size_t len, struct cv_witness_set *out)
{
    struct cv_witness_set ws = {0};
    if (len == 4 && memcmp(v, "none", 4) == 0) {
        *out = ws;
        return true;
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && v[i] != ',') {
            continue;
        }
        const char *e = v + start;
        size_t elen = i - start;
        const char *colon = memchr(e, ':', elen);
        size_t alen = colon ? (size_t)(colon - e) : elen;
        uint32_t ip, port = CV_WITNESS_PORT;
        if (ws.n == CV_WITNESS_MAX || !config_parse_ip4(e, alen, &ip) || !host_addr_ok(ip) ||
            (colon && (!parse_dec(colon + 1, elen - alen - 1, 65535, &port) || port == 0))) {
            return false;
        }
        for (uint32_t j = 0; j < ws.n; j++) {
            if (ws.w[j].ip == ip && ws.w[j].port == port) {
                return false;
            }
        }
        ws.w[ws.n++] = (struct cv_witness){ip, (uint16_t)port};
        start = i + 1;
    }
    *out = ws;
    return true;
}

const char *config_fmt_witnesses(const struct cv_witness_set *ws, char *buf, size_t n)
{
    if (!ws->n) {
        cv_snprintf(buf, n, "none");
        return buf;
    }
    size_t at = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < ws->n && at < n; i++) {
        char ip[16];
        int w = cv_snprintf(buf + at, n - at, "%s%s:%u", i ? "," : "",
                            config_fmt_ip4(ws->w[i].ip, ip, sizeof(ip)), ws->w[i].port);
        at += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

static bool parse_value(const struct config_key *k, struct cv_config *c, const char *v, size_t len)
{
    uint8_t *field = (uint8_t *)c + k->offset;
    switch (k->type) {
    case KEY_BOARD:
        if (len == 1 && (v[0] == 'a' || v[0] == 'b')) {
            *(char *)field = v[0];
            return true;
        }
        return false;
    case KEY_IP4_OPT:
        if (len == 4 && memcmp(v, "none", 4) == 0) {
            memset(field, 0, sizeof(uint32_t));
            return true;
        }
        /* fall through */
    case KEY_IP4: {
        uint32_t ip;
        if (!config_parse_ip4(v, len, &ip) || !host_addr_ok(ip)) {
            return false;
        }
        memcpy(field, &ip, sizeof(ip));
        return true;
    }
    case KEY_IP4_PREFIX: {
        struct cv_ip4_prefix p;
        memcpy(&p, field, sizeof(p));
        const char *slash = memchr(v, '/', len);
        size_t alen = slash ? (size_t)(slash - v) : len;
        uint32_t plen = p.prefix_len;
        if (slash && !parse_dec(slash + 1, len - alen - 1, 32, &plen)) {
            return false;
        }
        if (!config_parse_ip4(v, alen, &p.addr) || !host_addr_ok(p.addr) || plen < 1) {
            return false;
        }
        p.prefix_len = (uint8_t)plen;
        memcpy(field, &p, sizeof(p));
        return true;
    }
    case KEY_ROLE: {
        enum cv_role r;
        if (len == 7 && memcmp(v, "primary", 7) == 0) {
            r = CV_ROLE_PRIMARY;
        } else if (len == 9 && memcmp(v, "secondary", 9) == 0) {
            r = CV_ROLE_SECONDARY;
        } else {
            return false;
        }
        memcpy(field, &r, sizeof(r));
        return true;
    }
    case KEY_DIRTY_MODE: {
        enum cv_dirty_mode m;
        if (len == 4 && memcmp(v, "auto", 4) == 0) {
            m = CV_DIRTY_AUTO;
        } else if (len == 2 && memcmp(v, "wp", 2) == 0) {
            m = CV_DIRTY_WP;
        } else if (len == 3 && memcmp(v, "dbm", 3) == 0) {
            m = CV_DIRTY_HW;
        } else {
            return false;
        }
        memcpy(field, &m, sizeof(m));
        return true;
    }
    case KEY_WITNESS: {
        struct cv_witness_set ws;
        if (!parse_witnesses(v, len, &ws)) {
            return false;
        }
        memcpy(field, &ws, sizeof(ws));
        return true;
    }
    case KEY_U32: {
        uint32_t x;
        if (!parse_dec(v, len, k->max, &x) || x < k->min) {
            return false;
        }
        memcpy(field, &x, sizeof(x));
        return true;
    }
    case KEY_SECRET: {
        struct cv_key key = {.set = true};
        if (len != 2 * CV_KEY_LEN) {
            return false;
        }
        for (size_t i = 0; i < CV_KEY_LEN; i++) {
            int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                memset(&key, 0, sizeof(key));
                return false;
            }
            key.k[i] = (uint8_t)(hi << 4 | lo);
        }
        memcpy(field, &key, sizeof(key));
        memset(&key, 0, sizeof(key));
        return true;
    }
    case KEY_MAC: {
        uint8_t mac[6];
        if (!parse_mac(v, len, mac)) {
            return false;
        }
        memcpy(field, mac, sizeof(mac));
        return true;
    }
    default:
        return false;
    }
}

static const struct config_key *find_key(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

/* Calls the parser for each cv.* word; boards == true handles only cv.board, else the rest. */
static unsigned apply(struct cv_config *c, const char *args, bool board_pass)
{
    unsigned bad = 0;
    const char *p = args;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n') {
            p++;
        }
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            p++;
        }
        size_t wlen = (size_t)(p - w);
        if (wlen < 3 || memcmp(w, "cv.", 3) != 0) {
            continue;
        }
        const char *eq = memchr(w, '=', wlen);
        const char *name = w + 3;
        size_t nlen = eq ? (size_t)(eq - name) : wlen - 3;
        const struct config_key *k = find_key(name, nlen);
        if ((k && k->type == KEY_BOARD) != board_pass) {
            continue;
        }
        if (!k) {
            log_warn("config: unknown key '%.*s' ignored", (int)wlen, w);
            bad++;
            continue;
        }
        if (!eq || !parse_value(k, c, eq + 1, wlen - (size_t)(eq + 1 - w))) {
            /* A secret's value is not echoed, not even a malformed one (a typo of the key). */
            log_warn("config: malformed '%.*s' (%s) ignored; keeping the default",
                     (int)(k->type == KEY_SECRET ? (size_t)(name + nlen - w) : wlen), w, k->help);
            bad++;
        }
    }
    return bad;
}

unsigned config_parse_bootargs(struct cv_config *c, const char *bootargs)
{
    if (!bootargs) {
        return 0;
    }
    struct cv_config probe = *c;
    unsigned bad = apply(&probe, bootargs, true);
    config_defaults(c, probe.board);
    return bad + apply(c, bootargs, false);
}

const char *config_fmt_ip4(uint32_t ip, char *buf, size_t n)
{
    cv_snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    return buf;
}

void config_init(const struct boot_info *boot)
{
    struct cv_config *c = &config;
    config_defaults(c, 'a');
    config_ready = true;
    const char *args = boot->cmdline;
    if (args) {
        config_parse_bootargs(c, args);
        config_scrub_secrets((char *)(uintptr_t)args);
    }
    key_given[CV_KEY_PAIR] = c->key.set;
    key_given[CV_KEY_WITNESS] = c->witness_key.set;
    char r[16], p[16], s[16];
    log_info("config: board %c, replication %s/%u peer %s, service %s/%u%s", c->board,
             config_fmt_ip4(c->repl_ip.addr, r, sizeof(r)), c->repl_ip.prefix_len,
             config_fmt_ip4(c->peer_ip, p, sizeof(p)), config_fmt_ip4(c->svc_ip.addr, s, sizeof(s)),
             c->svc_ip.prefix_len, args ? "" : " (defaults: no bootargs)");
}

void config_scrub_secrets(char *args)
{
    for (char *p = args; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') {
            p++;
        }
        char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            p++;
        }
        char *eq = memchr(w, '=', (size_t)(p - w));
        if ((size_t)(p - w) < 3 || memcmp(w, "cv.", 3) != 0 || !eq) {
            continue;
        }
        const struct config_key *k = find_key(w + 3, (size_t)(eq - w - 3));
        if (k && k->type == KEY_SECRET) {
            /* volatile: the compiler must not drop stores it sees no later read of */
            for (volatile char *q = eq + 1; q < p; q++) {
                *q = 'x';
            }
        }
    }
}

void config_take_key(enum cv_key_id id, struct cv_key *out)
{
    struct cv_key *k = id == CV_KEY_WITNESS ? &config.witness_key : &config.key;
    *out = *k;
    for (volatile uint8_t *q = (volatile uint8_t *)k; q < (volatile uint8_t *)(k + 1); q++) {
        *q = 0;
    }
}

bool config_has_key(enum cv_key_id id)
{
    return key_given[id == CV_KEY_WITNESS ? CV_KEY_WITNESS : CV_KEY_PAIR];
}

void config_dump(const struct cv_config *c)
{
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const struct config_key *k = &keys[i];
        const uint8_t *field = (const uint8_t *)c + k->offset;
        char buf[24];
        switch (k->type) {
        case KEY_BOARD:
            cv_printf("%s=%c\n", k->name, *(const char *)field);
            break;
        case KEY_IP4:
        case KEY_IP4_OPT: {
            uint32_t ip;
            memcpy(&ip, field, sizeof(ip));
            cv_printf("%s=%s\n", k->name,
                      k->type == KEY_IP4_OPT && ip == 0 ? "none"
                                                        : config_fmt_ip4(ip, buf, sizeof(buf)));
            break;
        }
        case KEY_IP4_PREFIX: {
            struct cv_ip4_prefix p;
            memcpy(&p, field, sizeof(p));
            cv_printf("%s=%s/%u\n", k->name, config_fmt_ip4(p.addr, buf, sizeof(buf)),
                      p.prefix_len);
            break;
        }
        case KEY_ROLE: {
            enum cv_role r;
            memcpy(&r, field, sizeof(r));
            cv_printf("%s=%s\n", k->name, config_role_name(r));
            break;
        }
        case KEY_DIRTY_MODE: {
            enum cv_dirty_mode m;
            memcpy(&m, field, sizeof(m));
            cv_printf("%s=%s\n", k->name, config_dirty_mode_name(m));
            break;
        }
        case KEY_WITNESS: {
            struct cv_witness_set ws;
            char wb[CV_WITNESS_FMT_LEN];
            memcpy(&ws, field, sizeof(ws));
            cv_printf("%s=%s\n", k->name, config_fmt_witnesses(&ws, wb, sizeof(wb)));
            break;
        }
        case KEY_U32: {
            uint32_t x;
            memcpy(&x, field, sizeof(x));
            cv_printf("%s=%u\n", k->name, x);
            break;
        }
        case KEY_SECRET: {
            struct cv_key key;
            memcpy(&key, field, sizeof(key));
            bool given =
                config_has_key(k->offset == offsetof(struct cv_config, witness_key) ? CV_KEY_WITNESS
                                                                                    : CV_KEY_PAIR);
            cv_printf("%s=%s\n", k->name, key.set || given ? "set" : "none");
            memset(&key, 0, sizeof(key));
            break;
        }
        case KEY_MAC:
            cv_printf("%s=%02x:%02x:%02x:%02x:%02x:%02x\n", k->name, field[0], field[1], field[2],
                      field[3], field[4], field[5]);
            break;
        default:
            break;
        }
    }
}

bool config_set(const char *name, const char *value, char *err, size_t errlen)
{
    const struct config_key *k = find_key(name, strlen(name));
    if (!k) {
        cv_snprintf(err, errlen, "no key '%s' (net config lists them)", name);
        return false;
    }
    bool runtime = false;
    for (size_t i = 0; i < ARRAY_SIZE(runtime_keys); i++) {
        runtime = runtime || strcmp(runtime_keys[i], name) == 0;
    }
    if (!runtime) {
        cv_snprintf(err, errlen, "'%s' is read at boot only: set cv.%s= in the boot arguments",
                    name, name);
        return false;
    }
    struct cv_config c = config;
    if (!parse_value(k, &c, value, strlen(value))) {
        cv_snprintf(err, errlen, "bad value '%s' for %s (%s)", value, name, k->help);
        return false;
    }
    config = c;
    return true;
}

bool config_u32_range(const char *name, uint32_t *min, uint32_t *max)
{
    const struct config_key *k = find_key(name, strlen(name));
    if (!k || k->type != KEY_U32) {
        return false;
    }
    *min = k->min;
    *max = k->max;
    return true;
}
