/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Little-endian fields in byte buffers: guest memory shared with a device model (virtio), the VM
 * state stream, the replication handshake. Byte by byte, so neither the host's byte order nor the
 * buffer's alignment matters (arm64 runs with strict alignment checks, -mstrict-align). The COLO
 * library has its own (colo_get32 ..., colo/proto.h): it includes nothing from kernel/.
 */
#ifndef CV_LE_H
#define CV_LE_H

#include <cv/types.h>

/** The n (1..8) bytes at p as a little-endian number. */
static inline uint64_t le_get(const void *p, unsigned n)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

/** Stores the low n (1..8) bytes of v at p, least significant first. */
static inline void le_put(void *p, uint64_t v, unsigned n)
{
    uint8_t *b = p;
    for (unsigned i = 0; i < n; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline uint16_t le16_get(const void *p)
{
    return (uint16_t)le_get(p, 2);
}
static inline uint32_t le32_get(const void *p)
{
    return (uint32_t)le_get(p, 4);
}
static inline uint64_t le64_get(const void *p)
{
    return le_get(p, 8);
}
static inline void le16_put(void *p, uint16_t v)
{
    le_put(p, v, 2);
}
static inline void le32_put(void *p, uint32_t v)
{
    le_put(p, v, 4);
}
static inline void le64_put(void *p, uint64_t v)
{
    le_put(p, v, 8);
}

#endif
