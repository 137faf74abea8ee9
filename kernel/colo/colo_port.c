// SPDX-License-Identifier: Apache-2.0
// The COLO library's port (colo/port.h) over the hypervisor's runtime library (kernel/lib) and
// mbedTLS. It depends on those alone, so host unit tests and fuzz targets link it too: the library
// runs on the same log, formatter, CRC, page hash and cryptography there as on the board.
#include <cv/hash.h>
#include <cv/log.h>
#include <cv/random.h>
#include <cv/types.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include <colo/port.h>
#include <colo/proto.h>

_Static_assert(COLO_LOG_ERR == (int)LOG_ERR && COLO_LOG_WARN == (int)LOG_WARN &&
                   COLO_LOG_INFO == (int)LOG_INFO && COLO_LOG_DEBUG == (int)LOG_DEBUG,
               "colo/port.h's log levels are the log's");
_Static_assert(COLO_PAGE_SIZE == PAGE_SIZE, "page_hash() hashes COLO pages");

void colo_port_log(enum colo_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg((enum log_level)lvl, fmt, ap);
    va_end(ap);
}

int colo_port_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    return cv_vsnprintf(buf, n, fmt, ap);
}

uint32_t colo_port_crc32c(uint32_t crc, const void *data, size_t len)
{
    return crc32c(crc, data, len);
}

uint64_t colo_port_page_hash(const void *page)
{
    return page_hash(page);
}

/* ---- cryptography: mbedTLS's primitives (docs/security.md, "Cryptography") ---- */

void colo_port_aead_seal(const uint8_t key[COLO_KEY_LEN], const uint8_t nonce[COLO_AEAD_NONCE_LEN],
                         const void *aad, size_t aad_len, void *buf, size_t len,
                         uint8_t tag[COLO_AEAD_TAG_LEN])
{
    mbedtls_chachapoly_context c;
    mbedtls_chachapoly_init(&c);
    /* Both fail only on arguments this interface's types already rule out. */
    (void)mbedtls_chachapoly_setkey(&c, key);
    (void)mbedtls_chachapoly_encrypt_and_tag(&c, len, nonce, aad, aad_len, buf, buf, tag);
    mbedtls_chachapoly_free(&c);
}

bool colo_port_aead_open(const uint8_t key[COLO_KEY_LEN], const uint8_t nonce[COLO_AEAD_NONCE_LEN],
                         const void *aad, size_t aad_len, void *buf, size_t len,
                         const uint8_t tag[COLO_AEAD_TAG_LEN])
{
    mbedtls_chachapoly_context c;
    mbedtls_chachapoly_init(&c);
    (void)mbedtls_chachapoly_setkey(&c, key);
    /* In place is supported (input == output); the tag is compared in constant time and, when
     * it is wrong, the plaintext is wiped before this returns. */
    int err = mbedtls_chachapoly_auth_decrypt(&c, len, nonce, aad, aad_len, tag, buf, buf);
    mbedtls_chachapoly_free(&c);
    return err == 0;
}

#define SHA256_BLOCK 64u

/*
 * RFC 2104 over mbedtls_sha256 rather than mbedtls_md_hmac: the message-digest layer allocates its
 * contexts, and the hypervisor has no heap (cv_mbedtls_config.h). This keeps HMAC on the stack.
 */
void colo_port_hmac_sha256(const uint8_t *key, size_t key_len, size_t n, const void *const *ptr,
                           const size_t *len, uint8_t out[COLO_SHA256_LEN])
{
    uint8_t k[SHA256_BLOCK] = {0};
    uint8_t pad[SHA256_BLOCK];
    uint8_t inner[COLO_SHA256_LEN];
    mbedtls_sha256_context h;
    mbedtls_sha256_init(&h);
    if (key_len > SHA256_BLOCK) {
        (void)mbedtls_sha256_ret(key, key_len, k, 0);
    } else if (key_len > 0) {
        memcpy(k, key, key_len);
    }
    for (size_t i = 0; i < SHA256_BLOCK; i++) {
        pad[i] = k[i] ^ 0x36u;
    }
    /* SHA-256 over memory cannot fail (mbedTLS reports errors only for hardware back ends). */
    (void)mbedtls_sha256_starts_ret(&h, 0);
    (void)mbedtls_sha256_update_ret(&h, pad, SHA256_BLOCK);
    for (size_t i = 0; i < n; i++) {
        (void)mbedtls_sha256_update_ret(&h, ptr[i], len[i]);
    }
    (void)mbedtls_sha256_finish_ret(&h, inner);
    for (size_t i = 0; i < SHA256_BLOCK; i++) {
        pad[i] = k[i] ^ 0x5cu;
    }
    (void)mbedtls_sha256_starts_ret(&h, 0);
    (void)mbedtls_sha256_update_ret(&h, pad, SHA256_BLOCK);
    (void)mbedtls_sha256_update_ret(&h, inner, sizeof(inner));
    (void)mbedtls_sha256_finish_ret(&h, out);
    mbedtls_sha256_free(&h);
    mbedtls_platform_zeroize(k, sizeof(k));
    mbedtls_platform_zeroize(pad, sizeof(pad));
    mbedtls_platform_zeroize(inner, sizeof(inner));
}

#define HKDF_MAX (255u * COLO_SHA256_LEN)

/* RFC 5869 over the HMAC above, for the same reason (mbedtls_hkdf goes through mbedtls_md). */
void colo_port_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                           const void *info, size_t info_len, void *out, size_t out_len)
{
    static const uint8_t zero_salt[COLO_SHA256_LEN];
    uint8_t *o = out;
    if (out_len > HKDF_MAX) {
        /* A caller's bug. Past RFC 5869's limit nothing is defined, so the excess is random: no
         * peer derives the same, the link fails to authenticate, and this says why. */
        colo_log_err("colo: HKDF-SHA-256 asked for %zu bytes, at most %u exist", out_len, HKDF_MAX);
        (void)random_bytes(o + HKDF_MAX, out_len - HKDF_MAX);
        out_len = HKDF_MAX;
    }
    uint8_t prk[COLO_SHA256_LEN];
    if (salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof(zero_salt);
    }
    colo_port_hmac_sha256(salt, salt_len, 1, &ikm, &ikm_len, prk);

    uint8_t t[COLO_SHA256_LEN];
    size_t t_len = 0;
    for (uint8_t i = 1; out_len > 0; i++) {
        const void *piece[3] = {t, info, &i};
        size_t piece_len[3] = {t_len, info_len, 1};
        colo_port_hmac_sha256(prk, sizeof(prk), 3, piece, piece_len, t);
        t_len = sizeof(t);
        size_t n = out_len < sizeof(t) ? out_len : sizeof(t);
        memcpy(o, t, n);
        o += n;
        out_len -= n;
    }
    mbedtls_platform_zeroize(prk, sizeof(prk));
    mbedtls_platform_zeroize(t, sizeof(t));
}

bool colo_port_random(void *buf, size_t len)
{
    return random_bytes(buf, len);
}

void colo_port_wipe(void *p, size_t n)
{
    mbedtls_platform_zeroize(p, n);
}

bool colo_port_ct_equal(const void *a, const void *b, size_t n)
{
    return mbedtls_ct_memcmp(a, b, n) == 0;
}
