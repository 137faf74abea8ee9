// SPDX-License-Identifier: Apache-2.0
// The COLO port's cryptography (kernel/colo/colo_port.c over mbedTLS) against the RFCs' test
// vectors, and the random generator (kernel/lib/random.c) against an HMAC_DRBG known answer
// computed independently (Python's hmac module, SP 800-90A's algorithm written out). The seed
// comes from this file's random_arch_seed(), which replaces the host-test arch's weak one, so the
// generator's output is fixed and the no-entropy case can be tested.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <colo/port.h>
#include <cv/random.h>

#include "console_stub.h"

/* ---- the seed: what this test's arch offers ---- */

enum seed_mode { SEED_FIXED, SEED_SHORT, SEED_NONE };
static enum seed_mode seed_mode = SEED_FIXED;

void random_arch_seed(struct random_seed *seed, const struct boot_info *boot)
{
    (void)boot;
    uint8_t ent[32];
    for (unsigned i = 0; i < sizeof(ent); i++) {
        ent[i] = (uint8_t)i;
    }
    if (seed_mode == SEED_FIXED) {
        random_seed_add(seed, "test-fixed", ent, sizeof(ent));
    } else if (seed_mode == SEED_SHORT) {
        /* Two sources, 31 bytes: one short of the generator's minimum. */
        random_seed_add(seed, "half", ent, 16);
        random_seed_add(seed, "other-half", ent + 16, 15);
    }
    uint64_t nonce = 0x0123456789abcdefull;
    random_seed_nonce(seed, &nonce, sizeof(nonce));
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void assert_hex(const void *got, const char *want)
{
    uint8_t w[256];
    size_t n = strlen(want) / 2;
    assert_true(n <= sizeof(w));
    unhex(want, w, n);
    assert_memory_equal(got, w, n);
}

/* ---- ChaCha20-Poly1305: RFC 8439 section 2.8.2 ---- */

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                                "only one tip for the future, sunscreen would be it.";
static const uint8_t rfc8439_ct[114] = {
    0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb, 0x7b, 0x86, 0xaf, 0xbc, 0x53, 0xef, 0x7e,
    0xc2, 0xa4, 0xad, 0xed, 0x51, 0x29, 0x6e, 0x08, 0xfe, 0xa9, 0xe2, 0xb5, 0xa7, 0x36, 0xee,
    0x62, 0xd6, 0x3d, 0xbe, 0xa4, 0x5e, 0x8c, 0xa9, 0x67, 0x12, 0x82, 0xfa, 0xfb, 0x69, 0xda,
    0x92, 0x72, 0x8b, 0x1a, 0x71, 0xde, 0x0a, 0x9e, 0x06, 0x0b, 0x29, 0x05, 0xd6, 0xa5, 0xb6,
    0x7e, 0xcd, 0x3b, 0x36, 0x92, 0xdd, 0xbd, 0x7f, 0x2d, 0x77, 0x8b, 0x8c, 0x98, 0x03, 0xae,
    0xe3, 0x28, 0x09, 0x1b, 0x58, 0xfa, 0xb3, 0x24, 0xe4, 0xfa, 0xd6, 0x75, 0x94, 0x55, 0x85,
    0x80, 0x8b, 0x48, 0x31, 0xd7, 0xbc, 0x3f, 0xf4, 0xde, 0xf0, 0x8e, 0x4b, 0x7a, 0x9d, 0xe5,
    0x76, 0xd2, 0x65, 0x86, 0xce, 0xc6, 0x4b, 0x61, 0x16,
};
static const char rfc8439_tag[] = "1ae10b594f09e26a7e902ecbd0600691";

struct aead_vec {
    uint8_t key[COLO_KEY_LEN];
    uint8_t nonce[COLO_AEAD_NONCE_LEN];
    uint8_t aad[12];
};

static void rfc8439_inputs(struct aead_vec *v)
{
    for (unsigned i = 0; i < COLO_KEY_LEN; i++) {
        v->key[i] = (uint8_t)(0x80 + i);
    }
    static const uint8_t nonce[COLO_AEAD_NONCE_LEN] = {7,    0,    0,    0,    0x40, 0x41,
                                                       0x42, 0x43, 0x44, 0x45, 0x46, 0x47};
    static const uint8_t aad[12] = {0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1,
                                    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7};
    memcpy(v->nonce, nonce, sizeof(nonce));
    memcpy(v->aad, aad, sizeof(aad));
}

static void test_aead_rfc8439(void **state)
{
    (void)state;
    struct aead_vec v;
    rfc8439_inputs(&v);
    uint8_t buf[114];
    uint8_t tag[COLO_AEAD_TAG_LEN];
    assert_int_equal(sizeof(sunscreen) - 1, sizeof(buf));
    memcpy(buf, sunscreen, sizeof(buf));
    colo_port_aead_seal(v.key, v.nonce, v.aad, sizeof(v.aad), buf, sizeof(buf), tag);
    assert_memory_equal(buf, rfc8439_ct, sizeof(buf));
    assert_hex(tag, rfc8439_tag);

    assert_true(colo_port_aead_open(v.key, v.nonce, v.aad, sizeof(v.aad), buf, sizeof(buf), tag));
    assert_memory_equal(buf, sunscreen, sizeof(buf));
}

static void test_aead_rejects_one_bit(void **state)
{
    (void)state;
    struct aead_vec v;
    rfc8439_inputs(&v);
    uint8_t tag[COLO_AEAD_TAG_LEN];
    uint8_t buf[114];
    unhex(rfc8439_tag, tag, sizeof(tag));

    /* One bit of the tag, of the additional data, of the ciphertext (first, middle, last). */
    for (unsigned bit = 0; bit < 8 * sizeof(tag); bit += 37) {
        uint8_t t[COLO_AEAD_TAG_LEN];
        memcpy(t, tag, sizeof(t));
        t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memcpy(buf, rfc8439_ct, sizeof(buf));
        assert_false(
            colo_port_aead_open(v.key, v.nonce, v.aad, sizeof(v.aad), buf, sizeof(buf), t));
    }
    for (unsigned i = 0; i < sizeof(v.aad); i += 11) {
        uint8_t aad[12];
        memcpy(aad, v.aad, sizeof(aad));
        aad[i] ^= 0x80;
        memcpy(buf, rfc8439_ct, sizeof(buf));
        assert_false(colo_port_aead_open(v.key, v.nonce, aad, sizeof(aad), buf, sizeof(buf), tag));
    }
    const unsigned at[] = {0, 57, 113};
    for (unsigned i = 0; i < 3; i++) {
        memcpy(buf, rfc8439_ct, sizeof(buf));
        buf[at[i]] ^= 0x01;
        assert_false(
            colo_port_aead_open(v.key, v.nonce, v.aad, sizeof(v.aad), buf, sizeof(buf), tag));
    }
    /* A shorter message under the same tag, and a different nonce, fail too. */
    memcpy(buf, rfc8439_ct, sizeof(buf));
    assert_false(
        colo_port_aead_open(v.key, v.nonce, v.aad, sizeof(v.aad), buf, sizeof(buf) - 1, tag));
    v.nonce[11] ^= 1;
    memcpy(buf, rfc8439_ct, sizeof(buf));
    assert_false(colo_port_aead_open(v.key, v.nonce, v.aad, sizeof(v.aad), buf, sizeof(buf), tag));
}

static void test_aead_empty(void **state)
{
    (void)state;
    /* A message of no bytes (a tag over the additional data alone) round-trips, and is bound to
     * the additional data. */
    struct aead_vec v;
    rfc8439_inputs(&v);
    uint8_t tag[COLO_AEAD_TAG_LEN];
    colo_port_aead_seal(v.key, v.nonce, v.aad, sizeof(v.aad), NULL, 0, tag);
    assert_true(colo_port_aead_open(v.key, v.nonce, v.aad, sizeof(v.aad), NULL, 0, tag));
    assert_false(colo_port_aead_open(v.key, v.nonce, v.aad, sizeof(v.aad) - 1, NULL, 0, tag));
    assert_false(colo_port_aead_open(v.key, v.nonce, NULL, 0, NULL, 0, tag));
}

/* ---- HMAC-SHA-256: RFC 4231 ---- */

/* Every split of msg into three pieces at the given cut points gives the same MAC. */
static void check_hmac(const uint8_t *key, size_t key_len, const char *msg, const char *want)
{
    size_t n = strlen(msg);
    for (size_t a = 0; a <= n; a += 7) {
        for (size_t b = a; b <= n; b += 13) {
            const void *ptr[3] = {msg, msg + a, msg + b};
            size_t len[3] = {a, b - a, n - b};
            uint8_t out[COLO_SHA256_LEN];
            colo_port_hmac_sha256(key, key_len, 3, ptr, len, out);
            assert_hex(out, want);
        }
    }
    /* And in one piece. */
    uint8_t out[COLO_SHA256_LEN];
    const void *p = msg;
    colo_port_hmac_sha256(key, key_len, 1, &p, &n, out);
    assert_hex(out, want);
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t k1[20], k6[131];
    memset(k1, 0x0b, sizeof(k1));
    memset(k6, 0xaa, sizeof(k6));
    check_hmac(k1, sizeof(k1), "Hi There",
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    check_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?",
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    check_hmac(k6, sizeof(k6), "Test Using Larger Than Block-Size Key - Hash Key First",
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    check_hmac(k6, sizeof(k6),
               "This is a test using a larger than block-size key and a larger than block-size "
               "data. The key needs to be hashed before being used by the HMAC algorithm.",
               "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* ---- HKDF-SHA-256: RFC 5869 ---- */

static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    uint8_t ikm[22], salt[13], info[10], okm[42 + 1];
    memset(ikm, 0x0b, sizeof(ikm));
    for (unsigned i = 0; i < sizeof(salt); i++) {
        salt[i] = (uint8_t)i;
    }
    for (unsigned i = 0; i < sizeof(info); i++) {
        info[i] = (uint8_t)(0xf0 + i);
    }
    /* Test case 1; the byte after the output stays as it was. */
    okm[42] = 0x5a;
    colo_port_hkdf_sha256(salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info), okm, 42);
    assert_hex(okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf3400720"
                    "8d5b887185865");
    assert_int_equal(okm[42], 0x5a);
    /* Test case 3: no salt, no info. */
    colo_port_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, okm, 42);
    assert_hex(okm, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d20139"
                    "5faa4b61a96c8");
    /* A prefix of a longer output is the shorter output. */
    uint8_t shorter[10];
    colo_port_hkdf_sha256(NULL, 0, ikm, sizeof(ikm), NULL, 0, shorter, sizeof(shorter));
    assert_memory_equal(shorter, okm, sizeof(shorter));
}

/* ---- the random generator ---- */

static void test_random_known_answer(void **state)
{
    (void)state;
    seed_mode = SEED_FIXED;
    console_stub_clear();
    random_init(NULL);
    assert_non_null(strstr(console_stub_text(), "random: seeded from test-fixed (32 bytes)"));
    /* HMAC_DRBG-SHA-256 instantiated with entropy 00..1f || nonce || "colovisor random v1", two
     * generate calls of 40 bytes (tools: Python's hmac over SP 800-90A section 10.1.2). */
    uint8_t a[40], b[40];
    assert_true(colo_port_random(a, sizeof(a)));
    assert_true(colo_port_random(b, sizeof(b)));
    assert_hex(a, "d2247ec592e30492cdfd8be2ec1a798fcfcc03235e6801e8b1d0195aa1b110f214c22927d2427"
                  "de5");
    assert_hex(b, "9875a6253d37f5634acde3b2194a479a9889fc1da76558a58f49732c330e7e4195c8a67334d25"
                  "1c0");
    /* Seeding again starts the same stream again (and the arena gave its slots back). */
    for (int i = 0; i < 3; i++) {
        random_init(NULL);
    }
    uint8_t c[40];
    assert_true(colo_port_random(c, sizeof(c)));
    assert_memory_equal(a, c, sizeof(a));
}

static void test_random_large_and_distinct(void **state)
{
    (void)state;
    seed_mode = SEED_FIXED;
    random_init(NULL);
    /* More than one DRBG request (1024 bytes); no 32-byte block repeats, none is zero. */
    static uint8_t big[3000];
    assert_true(colo_port_random(big, sizeof(big)));
    static const uint8_t zero[32];
    for (size_t i = 0; i + 32 <= sizeof(big); i += 32) {
        assert_memory_not_equal(big + i, zero, 32);
        for (size_t j = 0; j < i; j += 32) {
            assert_memory_not_equal(big + i, big + j, 32);
        }
    }
    uint8_t x[32], y[32];
    assert_true(colo_port_random(x, sizeof(x)));
    assert_true(colo_port_random(y, sizeof(y)));
    assert_memory_not_equal(x, y, sizeof(x));
    assert_true(colo_port_random(x, 0));
}

static void test_random_refuses_without_entropy(void **state)
{
    (void)state;
    uint8_t buf[16];
    seed_mode = SEED_SHORT;
    console_stub_clear();
    random_init(NULL);
    assert_non_null(strstr(console_stub_text(), "random: not seeded: 31 bytes of entropy "
                                                "(half + other-half), 32 needed"));
    memset(buf, 0xff, sizeof(buf));
    assert_false(colo_port_random(buf, sizeof(buf)));
    static const uint8_t zero[16];
    assert_memory_equal(buf, zero, sizeof(buf));
    /* Said at boot, once: asking again logs nothing. */
    console_stub_clear();
    assert_false(colo_port_random(buf, sizeof(buf)));
    assert_string_equal(console_stub_text(), "");

    seed_mode = SEED_NONE;
    console_stub_clear();
    random_init(NULL);
    assert_non_null(strstr(console_stub_text(), "random: not seeded: 0 bytes of entropy (no "
                                                "source)"));
    assert_false(colo_port_random(buf, sizeof(buf)));
    seed_mode = SEED_FIXED;
}

/* ---- wipe, constant-time compare ---- */

static void test_wipe_and_ct_equal(void **state)
{
    (void)state;
    uint8_t a[64], b[64];
    for (unsigned i = 0; i < sizeof(a); i++) {
        a[i] = b[i] = (uint8_t)(i * 7 + 1);
    }
    assert_true(colo_port_ct_equal(a, b, sizeof(a)));
    assert_true(colo_port_ct_equal(a, b, 0));
    const unsigned at[] = {0, 31, 63};
    for (unsigned i = 0; i < 3; i++) {
        b[at[i]] ^= 0x80;
        assert_false(colo_port_ct_equal(a, b, sizeof(a)));
        b[at[i]] ^= 0x80;
    }
    b[63] ^= 1;
    assert_true(colo_port_ct_equal(a, b, 63));
    colo_port_wipe(a, sizeof(a));
    static const uint8_t zero[64];
    assert_memory_equal(a, zero, sizeof(a));
}

/* ---- speed (logged, not asserted: the host is shared) ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_seal_speed(void **state)
{
    (void)state;
    enum { MIB = 1u << 20, ROUNDS = 8 };
    static uint8_t buf[MIB];
    struct aead_vec v;
    rfc8439_inputs(&v);
    uint8_t tag[COLO_AEAD_TAG_LEN];
    memset(buf, 0x5a, sizeof(buf));
    double best = 1e9;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_s();
        colo_port_aead_seal(v.key, v.nonce, v.aad, sizeof(v.aad), buf, sizeof(buf), tag);
        double dt = now_s() - t0;
        best = dt < best ? dt : best;
        v.nonce[0]++;
    }
    v.nonce[0]--;
    assert_true(colo_port_aead_open(v.key, v.nonce, v.aad, sizeof(v.aad), buf, sizeof(buf), tag));
    printf("crypto_port: seal 1 MiB (ChaCha20-Poly1305, host, best of %d): %.2f ms, %.0f MB/s\n",
           ROUNDS, best * 1e3, (double)MIB / 1e6 / best);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aead_rfc8439),
        cmocka_unit_test(test_aead_rejects_one_bit),
        cmocka_unit_test(test_aead_empty),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hkdf_rfc5869),
        cmocka_unit_test(test_random_known_answer),
        cmocka_unit_test(test_random_large_and_distinct),
        cmocka_unit_test(test_random_refuses_without_entropy),
        cmocka_unit_test(test_wipe_and_ct_equal),
        cmocka_unit_test(test_seal_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
