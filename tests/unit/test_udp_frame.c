// SPDX-License-Identifier: Apache-2.0
// IPv4/UDP frames built by hand (kernel/net/udp_frame.c): every field where a receiver looks for
// it, both checksums verifying (RFC 1071: the sum over the covered words, checksum included,
// is 0xffff), an odd payload length, and the size limits.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cv/udp_frame.h>

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return s;
}

static const struct udp_frame_addr A = {
    .src_mac = {0x52, 0x54, 0, 0xc0, 1, 1},
    .dst_mac = {0x52, 0x54, 0, 0xc0, 1, 2},
    .src_ip = 0xc6336401, /* 198.51.100.1 */
    .dst_ip = 0xc6336402,
    .src_port = 7101,
    .dst_port = 7101,
    .ttl = 255,
    .ip_id = 0x1234,
};

static void check(size_t len)
{
    uint8_t payload[1500], f[ETH_MAX_FRAME + 8];
    for (size_t i = 0; i < len; i++) {
        payload[i] = (uint8_t)(i * 37 + 1);
    }
    size_t n = udp_frame_build(f, sizeof(f), &A, payload, len);
    assert_int_equal(n, 14 + 20 + 8 + len);
    assert_memory_equal(f, A.dst_mac, 6);
    assert_memory_equal(f + 6, A.src_mac, 6);
    assert_int_equal(f[12] << 8 | f[13], 0x0800);
    const uint8_t *ip = f + 14, *udp = ip + 20;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(ip[2] << 8 | ip[3], 28 + len);
    assert_int_equal(ip[4] << 8 | ip[5], 0x1234);
    assert_int_equal(ip[6], 0x40); /* DF, no fragment offset */
    assert_int_equal(ip[8], 255);
    assert_int_equal(ip[9], 17);
    assert_int_equal(sum16(0, ip, 20), 0xffff);
    uint8_t src[4] = {198, 51, 100, 1}, dst[4] = {198, 51, 100, 2};
    assert_memory_equal(ip + 12, src, 4);
    assert_memory_equal(ip + 16, dst, 4);
    assert_int_equal(udp[0] << 8 | udp[1], 7101);
    assert_int_equal(udp[4] << 8 | udp[5], 8 + len);
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 17;
    pseudo[10] = (uint8_t)((8 + len) >> 8);
    pseudo[11] = (uint8_t)(8 + len);
    assert_int_equal(sum16(sum16(0, pseudo, 12), udp, 8 + len), 0xffff);
    assert_true(udp[6] || udp[7]); /* never "no checksum" */
    assert_memory_equal(udp + 8, payload, len);
}

static void test_fields_and_checksums(void **state)
{
    (void)state;
    check(64); /* a heartbeat */
    check(63); /* odd: the last byte is padded for the sum only */
    check(0);
    check(ETH_MAX_FRAME - UDP_FRAME_HDR);
}

static void test_limits(void **state)
{
    (void)state;
    uint8_t f[ETH_MAX_FRAME + 64], p[ETH_MAX_FRAME] = {0};
    assert_int_equal(udp_frame_build(f, sizeof(f), &A, p, ETH_MAX_FRAME - UDP_FRAME_HDR + 1), 0);
    assert_int_equal(udp_frame_build(f, UDP_FRAME_HDR + 9, &A, p, 10), 0);
    assert_int_equal(udp_frame_build(f, UDP_FRAME_HDR + 10, &A, p, 10), UDP_FRAME_HDR + 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_checksums),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
