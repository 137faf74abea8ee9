/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers private to the library's sources. The library's public headers stay free of them so
 * that a host that includes both its own headers and <colo/...> sees no clashing MIN/MAX.
 */
#ifndef COLO_UTIL_H
#define COLO_UTIL_H

#include <colo/port.h>
#include <colo/proto.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * The seal of a datagram's first n bytes (heartbeats, witness messages): the HMAC-SHA-256 under
 * key truncated to tag_len (16 bytes: a forger's chance 2^-128 a datagram), or without a key
 * (cv.insecure=1) the CRC32C and zeros, the same length either way so one layout fits both.
 */
static inline void colo_datagram_seal(const uint8_t *p, size_t n, const uint8_t *key, uint8_t *out,
                                      size_t tag_len)
{
    memset(out, 0, tag_len);
    if (!key) {
        colo_put32(out, colo_port_crc32c(0, p, n));
        return;
    }
    uint8_t mac[COLO_SHA256_LEN];
    const void *ptr[1] = {p};
    const size_t len[1] = {n};
    colo_port_hmac_sha256(key, COLO_KEY_LEN, 1, ptr, len, mac);
    memcpy(out, mac, tag_len);
    colo_port_wipe(mac, sizeof(mac));
}

#endif
