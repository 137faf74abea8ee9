/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbedTLS configuration (MBEDTLS_CONFIG_FILE) for colovisor: the COLO link's primitives and the
 * random generator's DRBG, nothing else (docs/security.md, "Cryptography"). Replaces mbedTLS's
 * default config.h entirely, so every module not named here stays out.
 *
 * No platform entropy, no file system, no time, no threads: the hypervisor has none of them, and
 * the DRBG is seeded by kernel/lib/random.c. No standard I/O either (picolibc's stdio is not
 * linked). The one allocation mbedTLS makes here is the DRBG's message-digest context
 * (mbedtls_md_setup), served from a fixed arena in kernel/lib/random.c.
 */
#ifndef CV_MBEDTLS_CONFIG_H
#define CV_MBEDTLS_CONFIG_H

#include <stddef.h>

/* Primitives. */
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_SHA256_C
/* HMAC_DRBG reaches SHA-256 through the message-digest layer. */
#define MBEDTLS_MD_C
#define MBEDTLS_HMAC_DRBG_C

/* Platform: the allocator macros below, and no C library functions beyond <string.h>. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_CALLOC_MACRO random_mbedtls_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO random_mbedtls_free

/** mbedTLS's calloc/free: a few fixed slots (kernel/lib/random.c); NULL when they are taken. */
void *random_mbedtls_calloc(size_t n, size_t size);
void random_mbedtls_free(void *p);

#include "mbedtls/check_config.h"

#endif
