// SPDX-License-Identifier: Apache-2.0
// The random generator (cv/random.h) over mbedTLS's HMAC_DRBG. It is seeded once and never
// reseeded: HMAC_DRBG allows 2^48 requests per seed (SP 800-90A, table 2), far more than the
// keys and nonces of a board's lifetime, and the hypervisor has no entropy source it could poll
// later anyway (the firmware's seed is read once; the CPU's instruction, where there is one, is
// read at boot).
#include <string.h>

#include <cv/log.h>
#include <cv/random.h>

#include <mbedtls/hmac_drbg.h>
#include <mbedtls/platform_util.h>

/*
 * mbedtls_md_setup() allocates the DRBG's SHA-256 context (108 bytes) and its HMAC pads (2 x 64
 * bytes) with mbedtls_calloc(); nothing else in the configuration allocates (cv_mbedtls_config.h).
 * Two fixed slots serve them: no heap in the hypervisor.
 */
#define ARENA_SLOTS 2u
#define ARENA_SLOT_SIZE 128u

static _Alignas(16) uint8_t arena[ARENA_SLOTS][ARENA_SLOT_SIZE];
static bool arena_used[ARENA_SLOTS];

static mbedtls_hmac_drbg_context drbg;
static bool seeded;

void *random_mbedtls_calloc(size_t n, size_t size)
{
    if (n == 0 || size == 0 || size > ARENA_SLOT_SIZE / n) {
        return NULL;
    }
    for (size_t i = 0; i < ARENA_SLOTS; i++) {
        if (!arena_used[i]) {
            arena_used[i] = true;
            memset(arena[i], 0, sizeof(arena[i]));
            return arena[i];
        }
    }
    return NULL;
}

void random_mbedtls_free(void *p)
{
    for (size_t i = 0; i < ARENA_SLOTS; i++) {
        if (p == arena[i]) {
            mbedtls_platform_zeroize(arena[i], sizeof(arena[i]));
            arena_used[i] = false;
        }
    }
}

static void seed_append(struct random_seed *seed, const void *data, size_t len)
{
    size_t room = sizeof(seed->buf) - seed->len;
    size_t n = len < room ? len : room;
    memcpy(seed->buf + seed->len, data, n);
    seed->len += n;
}

void random_seed_add(struct random_seed *seed, const char *source, const void *data, size_t len)
{
    size_t before = seed->len;
    seed_append(seed, data, len);
    seed->entropy += seed->len - before;
    size_t at = strlen(seed->sources);
    cv_snprintf(seed->sources + at, sizeof(seed->sources) - at, "%s%s", at ? " + " : "", source);
}

void random_seed_nonce(struct random_seed *seed, const void *data, size_t len)
{
    seed_append(seed, data, len);
}

void random_init(const struct boot_info *boot)
{
    static const char personalisation[] = "colovisor random v1";
    struct random_seed seed;
    memset(&seed, 0, sizeof(seed));
    random_arch_seed(&seed, boot);
    size_t entropy = seed.entropy;
    /* SP 800-90A's personalisation string: separates this use from any other of the same seed. */
    seed_append(&seed, personalisation, sizeof(personalisation) - 1);

    mbedtls_hmac_drbg_free(&drbg);
    mbedtls_hmac_drbg_init(&drbg);
    seeded = false;
    if (entropy < RANDOM_MIN_ENTROPY) {
        log_err("random: not seeded: %zu bytes of entropy (%s), %u needed; no keys or nonces "
                "will be made (authentication is refused)",
                entropy, seed.sources[0] ? seed.sources : "no source", RANDOM_MIN_ENTROPY);
    } else if (mbedtls_hmac_drbg_seed_buf(&drbg, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                          seed.buf, seed.len) != 0) {
        log_err("random: the DRBG could not be set up; no keys or nonces will be made");
    } else {
        seeded = true;
        log_info("random: seeded from %s (%zu bytes)", seed.sources, entropy);
    }
    mbedtls_platform_zeroize(&seed, sizeof(seed));
}

bool random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;
    if (!seeded) {
        memset(buf, 0, len);
        return false;
    }
    while (len > 0) {
        size_t n = len < MBEDTLS_HMAC_DRBG_MAX_REQUEST ? len : MBEDTLS_HMAC_DRBG_MAX_REQUEST;
        if (mbedtls_hmac_drbg_random(&drbg, p, n) != 0) {
            mbedtls_platform_zeroize(buf, (size_t)(p - (uint8_t *)buf) + len);
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}
