/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the COLO fuzz targets. Every COLO message is guarded by two CRCs, so almost any
 * mutation of a message's epoch, type or payload dies in the decoder as a CRC mismatch and the
 * state machine behind it is never reached. colo_fuzz_repair() rewrites the framing of a stream
 * (magic, version, both CRCs) so that mutations get through; the targets make it optional, to
 * keep fuzzing the decoder with raw bytes too.
 */
#ifndef COLO_FUZZ_H
#define COLO_FUZZ_H

#include <cv/image.h>

#include <colo/proto.h>

/* The payload length the count at the start of a VERIFY, RAM_PAGES or RAM_SYNC asks for. */
static inline uint32_t colo_fuzz_len_for_count(uint16_t type, const uint8_t *payload, size_t room,
                                               uint32_t len)
{
    uint64_t want;
    if (type == COLO_MSG_VERIFY && room >= COLO_VERIFY_HDR) {
        want = COLO_VERIFY_HDR + 4ull * colo_get32(payload + 8);
    } else if ((type == COLO_MSG_RAM_PAGES || type == COLO_MSG_RAM_SYNC) && room >= 4) {
        want = 4 + (uint64_t)colo_get32(payload) * COLO_PAGE_ENTRY;
    } else {
        return len;
    }
    return want <= COLO_MAX_PAYLOAD && colo_len_ok(type, (uint32_t)want) ? (uint32_t)want : len;
}

/*
 * Walks the stream message by message and makes each one's framing valid. The length of VERIFY,
 * RAM_PAGES and RAM_SYNC follows their count, so that one mutated field can make a message
 * larger than its receiver expects. Stops at the first header whose type or length no message
 * may have (the decoder is to see that as it is) and at a message cut off by the end of the
 * stream.
 */
static inline void colo_fuzz_repair(uint8_t *s, size_t n)
{
    size_t o = 0;
    while (n - o >= COLO_HDR_SIZE) {
        uint8_t *h = s + o;
        uint16_t type = colo_get16(h + 6);
        uint32_t len = colo_fuzz_len_for_count(type, h + COLO_HDR_SIZE, n - o - COLO_HDR_SIZE,
                                               colo_get32(h + 16));
        if (!colo_len_ok(type, len)) {
            return;
        }
        colo_put32(h, COLO_MAGIC);
        colo_put16(h + 4, COLO_PROTO_VERSION);
        colo_put32(h + 16, len);
        colo_put32(h + 20, 0);
        colo_put32(h + 20, crc32c(0, h, COLO_HDR_SIZE));
        size_t whole = COLO_HDR_SIZE + len + (len ? COLO_CRC_SIZE : 0);
        if (whole > n - o) {
            return;
        }
        if (len) {
            colo_put32(h + COLO_HDR_SIZE + len, crc32c(0, h + COLO_HDR_SIZE, len));
        }
        o += whole;
    }
}

#endif
