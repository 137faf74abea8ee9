// SPDX-License-Identifier: Apache-2.0
// The board configuration: bootargs parsing over the per-board defaults, rejection of
// malformed values (default kept, one warning each), the command line the board check found, dump.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cv/boot.h>
#include <cv/config.h>

#include "host_console.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static void test_defaults(void **state)
{
    (void)state;
    struct cv_config c;
    config_defaults(&c, 'a');
    assert_int_equal(c.board, 'a');
    assert_int_equal(c.repl_ip.addr, IP(198, 51, 100, 1));
    assert_int_equal(c.repl_ip.prefix_len, 24);
    assert_int_equal(c.peer_ip, IP(198, 51, 100, 2));
    assert_int_equal(c.svc_ip.addr, IP(192, 0, 2, 2));
    assert_int_equal(c.guest_ip, IP(192, 0, 2, 10));
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xc0, 0x00, 0x10};
    assert_memory_equal(c.guest_mac, mac, 6);
    config_defaults(&c, 'b');
    assert_int_equal(c.board, 'b');
    assert_int_equal(c.repl_ip.addr, IP(198, 51, 100, 2));
    assert_int_equal(c.peer_ip, IP(198, 51, 100, 1));
    assert_int_equal(c.svc_ip.addr, IP(192, 0, 2, 3));
}

static void test_board_b_and_overrides(void **state)
{
    (void)state;
    struct cv_config c;
    config_defaults(&c, 'a');
    host_console_clear();
    /* cv.board selects the defaults even when it comes last; other words are ignored. */
    unsigned bad = config_parse_bootargs(&c, "console=ttyAMA0 cv.svc_ip=192.0.2.33/25 "
                                             "cv.guest_mac=52:54:00:C0:00:2a cv.board=b "
                                             "cv.guest_ip=192.0.2.44  root=/dev/vda");
    assert_int_equal(bad, 0);
    assert_int_equal(c.board, 'b');
    assert_int_equal(c.repl_ip.addr, IP(198, 51, 100, 2));
    assert_int_equal(c.peer_ip, IP(198, 51, 100, 1));
    assert_int_equal(c.svc_ip.addr, IP(192, 0, 2, 33));
    assert_int_equal(c.svc_ip.prefix_len, 25);
    assert_int_equal(c.guest_ip, IP(192, 0, 2, 44));
    assert_int_equal(c.guest_mac[5], 0x2a);
    assert_int_equal(c.guest_mac[3], 0xc0);
    assert_int_equal(host_console_count("W:"), 0);
    assert_int_equal(config_parse_bootargs(&c, "cv.board=b cv.guest_ip=none"), 0);
    assert_int_equal(c.guest_ip, 0);
}

static void test_prefix_optional(void **state)
{
    (void)state;
    struct cv_config c;
    config_defaults(&c, 'a');
    assert_int_equal(config_parse_bootargs(&c, "cv.repl_ip=203.0.113.7 cv.peer_ip=203.0.113.8"), 0);
    assert_int_equal(c.repl_ip.addr, IP(203, 0, 113, 7));
    assert_int_equal(c.repl_ip.prefix_len, 24); /* kept from the default */
    assert_int_equal(c.peer_ip, IP(203, 0, 113, 8));
}

static void test_malformed_kept(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "cv.board=c",
        "cv.board=",
        "cv.board",
        "cv.repl_ip=198.51.100",
        "cv.repl_ip=198.51.100.1.5",
        "cv.repl_ip=198.51.100.256",
        "cv.repl_ip=198.51.100.1/33",
        "cv.repl_ip=198.51.100.1/0",
        "cv.repl_ip=198.51.100.1/",
        "cv.repl_ip=198.51.100.01",
        "cv.repl_ip=198.51.100.-1",
        "cv.repl_ip=198..100.1",
        "cv.repl_ip=0.0.0.0",
        "cv.peer_ip=224.0.0.1",
        "cv.peer_ip=198.51.100.2/24",
        "cv.peer_ip=99999999999.1.1.1",
        "cv.guest_mac=52:54:00:c0:00",
        "cv.guest_mac=52:54:00:c0:00:1g",
        "cv.guest_mac=53:54:00:c0:00:10",
        "cv.guest_mac=00:00:00:00:00:00",
        "cv.guest_mac=52-54-00-c0-00-10",
        "cv.guest_ip=",
        "cv.guest_ip=0.0.0.0",
        "cv.guest_ip=nonE",
        "cv.peer_ip=none",
        "cv.frobnicate=1",
        "cv.checkpoint_delay=0",
        "cv.output_delay=60001",
        "cv.checkpoint_delay=60001",
        "cv.checkpoint_delay=10ms",
        "cv.colo_auto=2",
        "cv.colo_port=0",
        "cv.colo_port=65536",
        "cv.colo_staging_mib=0",
        "cv.colo_verify=-1",
        "cv.hb_period=9",
        "cv.hb_miss=1",
        "cv.dirty_threshold=99999999999",
        "cv.dirty_mode=",
        "cv.dirty_mode=WP",
        "cv.dirty_mode=dbmx",
        "cv.dirty_mode=off",
        "cv.dirty_mode",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cv_config c, want;
        config_defaults(&c, 'b');
        config_defaults(&want, 'b');
        host_console_clear();
        unsigned n = config_parse_bootargs(&c, bad[i]);
        if (n != 1 || memcmp(&c, &want, sizeof(c)) != 0) {
            fail_msg("'%s': %u rejected, config %s", bad[i], n,
                     memcmp(&c, &want, sizeof(c)) ? "changed" : "kept");
        }
        assert_int_equal(host_console_count("W: config:"), 1);
    }
}

/* cv.dirty_mode forces write protection on a CPU with FEAT_HAFDBS (auto would pick DBM). */
static void test_dirty_mode(void **state)
{
    (void)state;
    struct cv_config c;
    config_defaults(&c, 'a');
    assert_int_equal(c.dirty_mode, CV_DIRTY_AUTO);
    assert_int_equal(config_parse_bootargs(&c, "cv.dirty_mode=wp"), 0);
    assert_int_equal(c.dirty_mode, CV_DIRTY_WP);
    assert_int_equal(config_parse_bootargs(&c, "cv.dirty_mode=dbm"), 0);
    assert_int_equal(c.dirty_mode, CV_DIRTY_HW);
    /* cv.board resets to the defaults first; the last valid word wins */
    assert_int_equal(config_parse_bootargs(&c, "cv.dirty_mode=wp cv.board=b cv.dirty_mode=bad"), 1);
    assert_int_equal(c.dirty_mode, CV_DIRTY_WP);
    assert_int_equal(config_parse_bootargs(&c, "cv.dirty_mode=auto"), 0);
    assert_int_equal(c.dirty_mode, CV_DIRTY_AUTO);
    assert_string_equal(config_dirty_mode_name(CV_DIRTY_AUTO), "auto");
    assert_string_equal(config_dirty_mode_name(CV_DIRTY_WP), "wp");
    assert_string_equal(config_dirty_mode_name(CV_DIRTY_HW), "dbm");
    /* boot-time only: protection picks the mode when it starts */
    char err[128];
    assert_false(config_set("dirty_mode", "wp", err, sizeof(err)));
    assert_non_null(strstr(err, "boot only"));
}

/* cv.witness: none, or up to three ip[:port]; anything else keeps what was there. */
static void test_witness(void **state)
{
    (void)state;
    struct cv_config c;
    char buf[96];
    config_defaults(&c, 'a');
    assert_int_equal(c.witness.n, 0);
    assert_int_equal(config_parse_bootargs(&c, "cv.witness=203.0.113.5"), 0);
    assert_int_equal(c.witness.n, 1);
    assert_int_equal(c.witness.w[0].ip, IP(203, 0, 113, 5));
    assert_int_equal(c.witness.w[0].port, CV_WITNESS_PORT);
    assert_int_equal(
        config_parse_bootargs(&c, "cv.witness=192.0.2.50:9000,192.0.2.51,192.0.2.50:9001"), 0);
    assert_int_equal(c.witness.n, 3);
    assert_int_equal(c.witness.w[0].port, 9000);
    assert_int_equal(c.witness.w[2].port, 9001);
    assert_string_equal(config_fmt_witnesses(&c.witness, buf, sizeof(buf)),
                        "192.0.2.50:9000,192.0.2.51:7790,192.0.2.50:9001");
    static const char *const bad[] = {
        "cv.witness=",
        "cv.witness=192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4", /* more than three */
        "cv.witness=192.0.2.1,192.0.2.1",                     /* the same one twice */
        "cv.witness=192.0.2.1:0",
        "cv.witness=192.0.2.1:65536",
        "cv.witness=192.0.2.1:",
        "cv.witness=192.0.2.1,",
        "cv.witness=255.255.255.255",
        "cv.witness=nobody",
        "cv.witness_lease=99",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_defaults(&c, 'a');
        assert_int_equal(config_parse_bootargs(&c, bad[i]), 1);
        assert_int_equal(c.witness.n, 0);
        assert_int_equal(c.witness_lease_ms, 300);
    }
    assert_int_equal(config_parse_bootargs(&c, "cv.witness=192.0.2.9 cv.witness=none"), 0);
    assert_int_equal(c.witness.n, 0);
    assert_string_equal(config_fmt_witnesses(&c.witness, buf, sizeof(buf)), "none");
    char err[128];
    assert_false(config_set("witness", "192.0.2.9", err, sizeof(err)));
    assert_non_null(strstr(err, "boot only"));
}

static void test_good_value_after_bad(void **state)
{
    (void)state;
    struct cv_config c;
    config_defaults(&c, 'a');
    unsigned n = config_parse_bootargs(&c, "cv.svc_ip=bogus cv.svc_ip=192.0.2.99/24");
    assert_int_equal(n, 1);
    assert_int_equal(c.svc_ip.addr, IP(192, 0, 2, 99)); /* the last valid value wins */
}

static void test_ip_helpers(void **state)
{
    (void)state;
    uint32_t ip = 0;
    assert_true(config_parse_ip4("192.0.2.1", 9, &ip));
    assert_int_equal(ip, IP(192, 0, 2, 1));
    /* Exactly len bytes: a longer buffer is not read past len. */
    assert_true(config_parse_ip4("192.0.2.12345", 9, &ip));
    assert_int_equal(ip, IP(192, 0, 2, 1));
    assert_false(config_parse_ip4("192.0.2.", 8, &ip));
    assert_false(config_parse_ip4("", 0, &ip));
    char buf[16];
    assert_string_equal(config_fmt_ip4(IP(203, 0, 113, 255), buf, sizeof(buf)), "203.0.113.255");
}

/* What the board check hands over: the command line it found, or none. */
static const struct boot_info *boot_with(const char *cmdline)
{
    static struct boot_info boot;
    boot = (struct boot_info){.cmdline = cmdline};
    return &boot;
}

static void test_init_and_dump(void **state)
{
    (void)state;
    host_console_clear();
    config_init(boot_with("cv.board=b cv.peer_ip=198.51.100.9"));
    const struct cv_config *c = config_get();
    assert_int_equal(c->board, 'b');
    assert_int_equal(c->peer_ip, IP(198, 51, 100, 9));
    assert_non_null(strstr(host_console_text(), "config: board b, replication 198.51.100.2/24"));
    host_console_clear();
    config_dump(c);
    assert_string_equal(host_console_text(), "board=b\n"
                                             "repl_ip=198.51.100.2/24\n"
                                             "peer_ip=198.51.100.9\n"
                                             "svc_ip=192.0.2.3/24\n"
                                             "guest_mac=52:54:00:c0:00:10\n"
                                             "guest_ip=192.0.2.10\n"
                                             "role=secondary\n"
                                             "peer_svc_ip=192.0.2.2\n"
                                             "hb_period=50\n"
                                             "hb_miss=6\n"
                                             "colo_auto=0\n"
                                             "colo_port=7100\n"
                                             "checkpoint_delay=100\n"
                                             "output_delay=10\n"
                                             "dirty_threshold=0\n"
                                             "colo_staging_mib=64\n"
                                             "colo_verify=0\n"
                                             "dirty_mode=auto\n"
                                             "witness=none\n"
                                             "witness_lease=300\n"
                                             "key=none\n"
                                             "witness_key=none\n"
                                             "insecure=0\n");
    /* No bootargs: board a's defaults. */
    host_console_clear();
    config_init(boot_with(NULL));
    assert_int_equal(config_get()->board, 'a');
    assert_non_null(strstr(host_console_text(), "defaults: no bootargs"));
}

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* A key is parsed, never shown (dump, warnings), scrubbed from the boot arguments, and handed
 * out once. */
static void test_secret_keys(void **state)
{
    (void)state;
    char args[] = "console=x cv.key=" KEY_HEX " cv.witness_key=" KEY_HEX " cv.board=a";
    host_console_clear();
    config_init(boot_with(args));
    const struct cv_config *c = config_get();
    assert_true(c->key.set && c->witness_key.set);
    for (unsigned i = 0; i < CV_KEY_LEN; i++) {
        assert_int_equal(c->key.k[i], i);
    }
    /* the firmware's copy of the string is gone, the rest of it intact */
    assert_null(strstr(args, "0102030405"));
    assert_non_null(strstr(args, "console=x cv.key=xxxxxxxx"));
    assert_non_null(strstr(args, " cv.board=a"));
    host_console_clear();
    config_dump(c);
    assert_non_null(strstr(host_console_text(), "key=set\nwitness_key=set\n"));
    assert_null(strstr(host_console_text(), "0102"));
    struct cv_key k;
    config_take_key(CV_KEY_PAIR, &k);
    assert_true(k.set);
    assert_int_equal(k.k[31], 31);
    assert_false(config_get()->key.set);
    assert_int_equal(config_get()->key.k[31], 0);
    config_take_key(CV_KEY_PAIR, &k);
    assert_false(k.set);
    assert_true(config_has_key(CV_KEY_PAIR));
    /* still "set" once taken: the board has one */
    host_console_clear();
    config_dump(config_get());
    assert_non_null(strstr(host_console_text(), "key=set\n"));

    /* malformed: rejected without its value in the warning */
    struct cv_config d;
    config_defaults(&d, 'a');
    host_console_clear();
    assert_int_equal(config_parse_bootargs(&d, "cv.key=" KEY_HEX "0"), 1);
    assert_int_equal(
        config_parse_bootargs(
            &d, "cv.key=zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
        1);
    assert_false(d.key.set);
    assert_null(strstr(host_console_text(), "0102"));
    assert_non_null(strstr(host_console_text(), "malformed 'cv.key'"));
    config_init(boot_with(NULL));
}

static void test_set_at_run_time(void **state)
{
    (void)state;
    char err[128];
    config_init(boot_with("cv.board=a"));
    assert_true(config_set("peer_ip", "198.51.100.7", err, sizeof(err)));
    assert_int_equal(config_get()->peer_ip, IP(198, 51, 100, 7));
    assert_true(config_set("peer_svc_ip", "192.0.2.9", err, sizeof(err)));
    assert_int_equal(config_get()->peer_svc_ip, IP(192, 0, 2, 9));
    /* The guest's address may be unset (cv/guest_filter.h: then only the boards' are barred)
     * and set again; `net config` says none. */
    assert_true(config_set("guest_ip", "none", err, sizeof(err)));
    assert_int_equal(config_get()->guest_ip, 0);
    host_console_clear();
    config_dump(config_get());
    assert_non_null(strstr(host_console_text(), "\nguest_ip=none\n"));
    assert_true(config_set("guest_ip", "192.0.2.11", err, sizeof(err)));
    assert_int_equal(config_get()->guest_ip, IP(192, 0, 2, 11));
    assert_false(config_set("guest_ip", "0.0.0.0", err, sizeof(err)));
    assert_false(config_set("peer_svc_ip", "none", err, sizeof(err)));
    /* Malformed: refused, nothing changed. */
    assert_false(config_set("peer_ip", "198.51.100", err, sizeof(err)));
    assert_non_null(strstr(err, "bad value"));
    assert_int_equal(config_get()->peer_ip, IP(198, 51, 100, 7));
    /* Boot-time keys and unknown keys are refused with the reason. */
    assert_false(config_set("repl_ip", "198.51.100.5/24", err, sizeof(err)));
    assert_non_null(strstr(err, "boot only"));
    assert_false(config_set("frobnicate", "1", err, sizeof(err)));
    assert_non_null(strstr(err, "no key"));
}

/* `colo set` bounds its settings by these keys' ranges (kernel/colo/colo_board.c). */
static void test_u32_range(void **state)
{
    (void)state;
    static const char *const colo_set_keys[] = {"checkpoint_delay", "hb_period", "hb_miss",
                                                "output_delay", "dirty_threshold"};
    uint32_t lo, hi;
    for (size_t i = 0; i < sizeof(colo_set_keys) / sizeof(colo_set_keys[0]); i++) {
        assert_true(config_u32_range(colo_set_keys[i], &lo, &hi));
        assert_true(lo <= hi);
    }
    assert_true(config_u32_range("checkpoint_delay", &lo, &hi));
    assert_int_equal(lo, 1);
    assert_int_equal(hi, 60000);
    assert_false(config_u32_range("peer_ip", &lo, &hi));
    assert_false(config_u32_range("frobnicate", &lo, &hi));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_board_b_and_overrides),
        cmocka_unit_test(test_prefix_optional),
        cmocka_unit_test(test_malformed_kept),
        cmocka_unit_test(test_dirty_mode),
        cmocka_unit_test(test_witness),
        cmocka_unit_test(test_good_value_after_bad),
        cmocka_unit_test(test_ip_helpers),
        cmocka_unit_test(test_init_and_dump),
        cmocka_unit_test(test_secret_keys),
        cmocka_unit_test(test_set_at_run_time),
        cmocka_unit_test(test_u32_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
