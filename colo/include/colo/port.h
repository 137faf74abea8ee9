/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the COLO library needs from its host, and all it includes besides its own headers: the
 * standard C headers below, a log, a formatter, CRC32C and the page hash. colo/ includes nothing
 * else (tests/check-layout builds it for the host with colo/include alone), so it can be moved to
 * another hypervisor, or driven by host tests, by implementing this file. The hypervisor's port is
 * kernel/colo/colo_port.c over kernel/lib; host tests and fuzz targets link that same file with
 * kernel/lib and a console stub.
 *
 * Time is not a port function: the engine is handed it (colo_primary_cfg.now_us, the now_us
 * arguments of colo_hb_*), so tests run it on a clock of their own.
 *
 * All of these are called from the engine's context and must not call back into the library.
 */
#ifndef COLO_PORT_H
#define COLO_PORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define COLO_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/** The host's log levels, most severe first. */
enum colo_log_level {
    COLO_LOG_ERR,
    COLO_LOG_WARN,
    COLO_LOG_INFO,
    COLO_LOG_DEBUG,
};

/** One log line; the host adds its prefix (timestamp, level) and the newline. */
void colo_port_log(enum colo_log_level lvl, const char *fmt, ...) COLO_PRINTF_LIKE(2, 3);
/** vsnprintf: buf is NUL-terminated when n > 0; returns the length it wanted. */
int colo_port_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
/** CRC32C (Castagnoli) of len bytes, continuing crc (0 to start). The wire format's checksum. */
uint32_t colo_port_crc32c(uint32_t crc, const void *data, size_t len);
/**
 * 64-bit hash of one COLO_PAGE_SIZE-byte page (8-byte aligned). colo_page_hash() sends its low 32
 * bits in VERIFY messages, so both boards of a pair must use the same function.
 */
uint64_t colo_port_page_hash(const void *page);

/* ---- cryptography (docs/security.md): implemented over a well-kept library (the hypervisor's
 * port uses mbedTLS from Debian's source package), in general registers only at EL2 ---- */

#define COLO_KEY_LEN 32u        /**< pre-shared and session keys: 256 bits */
#define COLO_AEAD_NONCE_LEN 12u /**< ChaCha20-Poly1305 (RFC 8439) nonce */
#define COLO_AEAD_TAG_LEN 16u   /**< its tag */
#define COLO_SHA256_LEN 32u

/**
 * ChaCha20-Poly1305 (RFC 8439): encrypts buf[0..len) in place and writes the tag over aad and
 * the ciphertext. A key must never see the same nonce twice.
 */
void colo_port_aead_seal(const uint8_t key[COLO_KEY_LEN], const uint8_t nonce[COLO_AEAD_NONCE_LEN],
                         const void *aad, size_t aad_len, void *buf, size_t len,
                         uint8_t tag[COLO_AEAD_TAG_LEN]);
/**
 * The inverse: true and buf decrypted in place when the tag (compared in constant time) is right;
 * false otherwise, with buf's content unspecified (it must not be used).
 */
bool colo_port_aead_open(const uint8_t key[COLO_KEY_LEN], const uint8_t nonce[COLO_AEAD_NONCE_LEN],
                         const void *aad, size_t aad_len, void *buf, size_t len,
                         const uint8_t tag[COLO_AEAD_TAG_LEN]);
/** HMAC-SHA-256 (RFC 2104) of the concatenation of n pieces (ptr[i], len[i]). */
void colo_port_hmac_sha256(const uint8_t *key, size_t key_len, size_t n, const void *const *ptr,
                           const size_t *len, uint8_t out[COLO_SHA256_LEN]);
/** HKDF-SHA-256 (RFC 5869), extract and expand; out_len at most 255 * 32. */
void colo_port_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm, size_t ikm_len,
                           const void *info, size_t info_len, void *out, size_t out_len);
/**
 * len bytes from the board's random generator (a DRBG seeded from the CPU's RNDR and the
 * firmware's seed, never lwIP's PRNG). False when the board has no entropy source: the caller
 * must then refuse whatever needed the bytes.
 */
bool colo_port_random(void *buf, size_t len);
/** Zeroes n bytes in a way the compiler cannot drop (keys, once used). */
void colo_port_wipe(void *p, size_t n);
/** a[0..n) == b[0..n), in time independent of the content. */
bool colo_port_ct_equal(const void *a, const void *b, size_t n);

#define colo_log_err(...) colo_port_log(COLO_LOG_ERR, __VA_ARGS__)
#define colo_log_warn(...) colo_port_log(COLO_LOG_WARN, __VA_ARGS__)
#define colo_log_info(...) colo_port_log(COLO_LOG_INFO, __VA_ARGS__)
#define colo_log_debug(...) colo_port_log(COLO_LOG_DEBUG, __VA_ARGS__)

#endif
