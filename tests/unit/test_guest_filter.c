// SPDX-License-Identifier: Apache-2.0
// The guest's source filter (kernel/net/guest_filter.c): what the guest may send as itself, what
// it may not (the boards' and witnesses' MACs and addresses), and frames too short or too oddly
// wrapped to be judged, with and without a configured guest address.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cv/config.h>
#include <cv/guest_filter.h>

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0xc0, 0x00, 0x10};
static const uint8_t board_mac[6] = {0x52, 0x54, 0x00, 0xc0, 0x02, 0x01};
static struct cv_config cfg;

static int setup(void **state)
{
    (void)state;
    config_defaults(&cfg, 'a'); /* guest 192.0.2.10; boards .2/.3 and 198.51.100.1/.2 */
    cfg.witness.n = 2;
    cfg.witness.w[0] = (struct cv_witness){IP(192, 0, 2, 1), CV_WITNESS_PORT};
    cfg.witness.w[1] = (struct cv_witness){IP(203, 0, 113, 5), CV_WITNESS_PORT};
    return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* An Ethernet header from src, optionally with 802.1Q tags (tags[i] is each tag's TPID). */
static size_t eth(uint8_t *f, const uint8_t *src, const uint16_t *tpids, unsigned ntags,
                  uint16_t type)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, src, 6);
    size_t off = 12;
    for (unsigned i = 0; i < ntags; i++) {
        put16(f + off, tpids[i]);
        put16(f + off + 2, 5); /* VLAN 5 */
        off += 4;
    }
    put16(f + off, type);
    return off + 2;
}

/* IPv4/UDP from src_ip, 60 bytes in all (the guest pads to Ethernet's minimum). */
static size_t ipv4(uint8_t *f, const uint8_t *src, uint32_t src_ip, unsigned ntags)
{
    static const uint16_t q[2] = {0x8100, 0x8100};
    memset(f, 0, 128);
    size_t o = eth(f, src, q, ntags, 0x0800);
    f[o] = 0x45;
    f[o + 9] = 17;
    put32(f + o + 12, src_ip);
    put32(f + o + 16, IP(192, 0, 2, 1));
    return o + 46 > 60 ? o + 46 : 60;
}

static size_t arp(uint8_t *f, const uint8_t *eth_src, const uint8_t *sha, uint32_t spa,
                  unsigned ntags)
{
    static const uint16_t q[2] = {0x8100, 0x8100};
    memset(f, 0, 128);
    size_t o = eth(f, eth_src, q, ntags, 0x0806);
    static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1}; /* Ethernet, IPv4, request */
    memcpy(f + o, hdr, 8);
    memcpy(f + o + 8, sha, 6);
    put32(f + o + 14, spa);
    put32(f + o + 24, IP(192, 0, 2, 1));
    return 60;
}

static enum guest_filter_verdict check(const uint8_t *f, size_t len)
{
    /* An exact-length copy: a read past len would be a read past the guest's frame. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, f, len);
    enum guest_filter_verdict v = guest_filter_check(guest_mac, &cfg, copy, len);
    free(copy);
    return v;
}

static void test_own_traffic_passes(void **state)
{
    (void)state;
    uint8_t f[128];
    assert_int_equal(check(f, ipv4(f, guest_mac, IP(192, 0, 2, 10), 0)), GUEST_FILTER_PASS);
    assert_int_equal(check(f, arp(f, guest_mac, guest_mac, IP(192, 0, 2, 10), 0)),
                     GUEST_FILTER_PASS);
    /* One 802.1Q tag is looked through, and what it carries is judged as if untagged. */
    assert_int_equal(check(f, ipv4(f, guest_mac, IP(192, 0, 2, 10), 1)), GUEST_FILTER_PASS);
    assert_int_equal(check(f, arp(f, guest_mac, guest_mac, IP(192, 0, 2, 10), 1)),
                     GUEST_FILTER_PASS);
    /* Other protocols (IPv6, anything else, even a bare header) need only the guest's MAC. */
    size_t n = eth(f, guest_mac, NULL, 0, 0x86dd);
    memset(f + n, 0x60, 60 - n);
    assert_int_equal(check(f, 60), GUEST_FILTER_PASS);
    assert_int_equal(check(f, eth(f, guest_mac, NULL, 0, 0x88b5)), GUEST_FILTER_PASS);
    /* DHCP's discover and an ARP probe come from 0.0.0.0. */
    assert_int_equal(check(f, ipv4(f, guest_mac, 0, 0)), GUEST_FILTER_PASS);
    assert_int_equal(check(f, arp(f, guest_mac, guest_mac, 0, 0)), GUEST_FILTER_PASS);
}

static void test_foreign_mac_dropped(void **state)
{
    (void)state;
    uint8_t f[128];
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t near[6] = {0x52, 0x54, 0x00, 0xc0, 0x00, 0x11};
    /* The MAC is checked first, whatever the frame carries. */
    assert_int_equal(check(f, ipv4(f, board_mac, IP(192, 0, 2, 10), 0)), GUEST_FILTER_MAC);
    assert_int_equal(check(f, ipv4(f, bcast, IP(192, 0, 2, 10), 0)), GUEST_FILTER_MAC);
    assert_int_equal(check(f, ipv4(f, near, IP(192, 0, 2, 10), 0)), GUEST_FILTER_MAC);
    assert_int_equal(check(f, arp(f, board_mac, board_mac, IP(192, 0, 2, 2), 0)), GUEST_FILTER_MAC);
    assert_int_equal(check(f, eth(f, board_mac, NULL, 0, 0x86dd)), GUEST_FILTER_MAC);
    /* ARP that names a MAC other than the one it came from. */
    assert_int_equal(check(f, arp(f, guest_mac, board_mac, IP(192, 0, 2, 10), 0)),
                     GUEST_FILTER_ARP_MAC);
    assert_int_equal(check(f, arp(f, guest_mac, board_mac, IP(192, 0, 2, 10), 1)),
                     GUEST_FILTER_ARP_MAC);
}

static void test_foreign_ip_dropped(void **state)
{
    (void)state;
    uint8_t f[128];
    const uint32_t others[] = {IP(192, 0, 2, 2),    IP(192, 0, 2, 3),      IP(198, 51, 100, 1),
                               IP(198, 51, 100, 2), IP(192, 0, 2, 1),      IP(203, 0, 113, 5),
                               IP(192, 0, 2, 11),   IP(255, 255, 255, 255)};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        for (unsigned tags = 0; tags < 2; tags++) {
            assert_int_equal(check(f, ipv4(f, guest_mac, others[i], tags)), GUEST_FILTER_IP);
            assert_int_equal(check(f, arp(f, guest_mac, guest_mac, others[i], tags)),
                             GUEST_FILTER_ARP_IP);
        }
    }
    /* The address in force is read at each frame: `net config set guest_ip` moves it. */
    cfg.guest_ip = IP(192, 0, 2, 11);
    assert_int_equal(check(f, ipv4(f, guest_mac, IP(192, 0, 2, 11), 0)), GUEST_FILTER_PASS);
    assert_int_equal(check(f, ipv4(f, guest_mac, IP(192, 0, 2, 10), 0)), GUEST_FILTER_IP);
}

static void test_no_guest_ip_bars_only_the_boards(void **state)
{
    (void)state;
    uint8_t f[128];
    cfg.guest_ip = 0; /* cv.guest_ip=none */
    const uint32_t boards[] = {cfg.svc_ip.addr, cfg.peer_svc_ip,     cfg.repl_ip.addr,
                               cfg.peer_ip,     cfg.witness.w[0].ip, cfg.witness.w[1].ip};
    for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++) {
        assert_int_equal(check(f, ipv4(f, guest_mac, boards[i], 0)), GUEST_FILTER_IP);
        assert_int_equal(check(f, ipv4(f, guest_mac, boards[i], 1)), GUEST_FILTER_IP);
        assert_int_equal(check(f, arp(f, guest_mac, guest_mac, boards[i], 0)), GUEST_FILTER_ARP_IP);
    }
    assert_int_equal(check(f, ipv4(f, guest_mac, IP(192, 0, 2, 77), 0)), GUEST_FILTER_PASS);
    assert_int_equal(check(f, arp(f, guest_mac, guest_mac, IP(192, 0, 2, 77), 0)),
                     GUEST_FILTER_PASS);
    assert_int_equal(check(f, ipv4(f, guest_mac, 0, 0)), GUEST_FILTER_PASS);
    assert_int_equal(check(f, arp(f, guest_mac, guest_mac, 0, 0)), GUEST_FILTER_PASS);
    /* A witness that is no longer configured is just another address. */
    cfg.witness.n = 1;
    assert_int_equal(check(f, ipv4(f, guest_mac, IP(203, 0, 113, 5), 0)), GUEST_FILTER_PASS);
    /* The MAC rule does not depend on the address. */
    assert_int_equal(check(f, ipv4(f, board_mac, IP(192, 0, 2, 77), 0)), GUEST_FILTER_MAC);
}

static void test_tags_are_no_way_around(void **state)
{
    (void)state;
    uint8_t f[128];
    static const uint16_t stacked[][2] = {
        {0x8100, 0x8100}, {0x88a8, 0x8100}, {0x9100, 0x8100}, {0x8100, 0x88a8}};
    for (size_t i = 0; i < sizeof(stacked) / sizeof(stacked[0]); i++) {
        memset(f, 0, sizeof(f));
        size_t o = eth(f, guest_mac, stacked[i], 2, 0x0800);
        f[o] = 0x45;
        put32(f + o + 12, IP(192, 0, 2, 10));
        assert_int_equal(check(f, 60), GUEST_FILTER_VLAN);
    }
    /* A single service tag is refused too: what it carries is not looked at. */
    memset(f, 0, sizeof(f));
    eth(f, guest_mac, NULL, 0, 0x88a8);
    assert_int_equal(check(f, 60), GUEST_FILTER_VLAN);
}

static void test_short_and_malformed(void **state)
{
    (void)state;
    uint8_t f[128];
    /* Shorter than the Ethernet header itself. */
    ipv4(f, guest_mac, IP(192, 0, 2, 10), 0);
    assert_int_equal(check(f, 13), GUEST_FILTER_MALFORMED);
    assert_int_equal(check(f, 0), GUEST_FILTER_MALFORMED);
    /* IPv4 claimed, header cut short: even a spoofed address cannot hide behind the cut. */
    assert_int_equal(check(f, 14), GUEST_FILTER_MALFORMED);
    assert_int_equal(check(f, 14 + 19), GUEST_FILTER_MALFORMED);
    assert_int_equal(check(f, 14 + 20), GUEST_FILTER_PASS);
    ipv4(f, guest_mac, IP(192, 0, 2, 2), 0);
    assert_int_equal(check(f, 14 + 15), GUEST_FILTER_MALFORMED);
    ipv4(f, guest_mac, IP(192, 0, 2, 10), 0);
    f[14] = 0x44; /* IHL below 5 */
    assert_int_equal(check(f, 60), GUEST_FILTER_MALFORMED);
    f[14] = 0x4f; /* 60 bytes of header in a 46-byte payload */
    assert_int_equal(check(f, 60), GUEST_FILTER_MALFORMED);
    assert_int_equal(check(f, 74), GUEST_FILTER_PASS);
    f[14] = 0x65; /* IPv6's version under IPv4's ethertype */
    assert_int_equal(check(f, 60), GUEST_FILTER_MALFORMED);
    /* A tag with no room for the ethertype after it, or for the IPv4 header it announces. */
    ipv4(f, guest_mac, IP(192, 0, 2, 10), 1);
    assert_int_equal(check(f, 17), GUEST_FILTER_MALFORMED);
    assert_int_equal(check(f, 18 + 19), GUEST_FILTER_MALFORMED);
    assert_int_equal(check(f, 18 + 20), GUEST_FILTER_PASS);
    /* ARP: cut short, or not Ethernet/IPv4 sized (the sender fields would be elsewhere). */
    arp(f, guest_mac, guest_mac, IP(192, 0, 2, 10), 0);
    assert_int_equal(check(f, 14 + 27), GUEST_FILTER_MALFORMED);
    assert_int_equal(check(f, 14 + 28), GUEST_FILTER_PASS);
    f[14 + 4] = 8;
    assert_int_equal(check(f, 60), GUEST_FILTER_MALFORMED);
    arp(f, guest_mac, guest_mac, IP(192, 0, 2, 10), 0);
    f[14 + 5] = 16;
    assert_int_equal(check(f, 60), GUEST_FILTER_MALFORMED);
    arp(f, guest_mac, guest_mac, IP(192, 0, 2, 10), 0);
    put16(f + 14 + 2, 0x86dd);
    assert_int_equal(check(f, 60), GUEST_FILTER_MALFORMED);
    arp(f, guest_mac, guest_mac, IP(192, 0, 2, 10), 1);
    assert_int_equal(check(f, 18 + 27), GUEST_FILTER_MALFORMED);
}

static void test_reason_names(void **state)
{
    (void)state;
    /* The names are status fields (tx_filter_<name>): a contract. */
    static const char *const want[] = {"pass",   "mac",  "ip",       "arp_mac",
                                       "arp_ip", "vlan", "malformed"};
    assert_int_equal(sizeof(want) / sizeof(want[0]), GUEST_FILTER_REASONS);
    for (unsigned r = 0; r < GUEST_FILTER_REASONS; r++) {
        assert_string_equal(guest_filter_reason_name((enum guest_filter_verdict)r), want[r]);
    }
    assert_string_equal(guest_filter_reason_name(GUEST_FILTER_REASONS), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_own_traffic_passes, setup),
        cmocka_unit_test_setup(test_foreign_mac_dropped, setup),
        cmocka_unit_test_setup(test_foreign_ip_dropped, setup),
        cmocka_unit_test_setup(test_no_guest_ip_bars_only_the_boards, setup),
        cmocka_unit_test_setup(test_tags_are_no_way_around, setup),
        cmocka_unit_test_setup(test_short_and_malformed, setup),
        cmocka_unit_test_setup(test_reason_names, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
