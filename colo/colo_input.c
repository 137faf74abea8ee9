// SPDX-License-Identifier: Apache-2.0
// The secondary's input log (colo/input.h). Records are packed back to back in the caller's
// memory: epoch u64 | length u16 | frame, little-endian; a prune moves the survivors down, which
// costs at most one log's worth of bytes per commit and keeps arrival order without a ring's
// wrap-around cases.
#include <colo/input.h>
#include <colo/proto.h>

#define REC_HDR 10u

void colo_input_init(struct colo_input *in, void *mem, size_t cap)
{
    memset(in, 0, sizeof(*in));
    in->mem = mem;
    in->cap = mem ? cap : 0;
}

void colo_input_clear(struct colo_input *in)
{
    in->used = 0;
    in->count = 0;
    in->last_epoch = 0;
}

enum colo_input_res colo_input_add(struct colo_input *in, uint64_t epoch, const void *frame,
                                   size_t len)
{
    if (len < COLO_INPUT_MIN || len > COLO_INPUT_MAX || (in->count && epoch < in->last_epoch)) {
        return COLO_INPUT_BAD;
    }
    if (COLO_INPUT_REC(len) > in->cap - in->used) {
        in->st.dropped++;
        return COLO_INPUT_FULL;
    }
    uint8_t *r = in->mem + in->used;
    colo_put64(r, epoch);
    colo_put16(r + 8, (uint16_t)len);
    memcpy(r + REC_HDR, frame, len);
    in->used += COLO_INPUT_REC(len);
    in->count++;
    in->last_epoch = epoch;
    in->st.logged++;
    return COLO_INPUT_OK;
}

void colo_input_prune(struct colo_input *in, uint64_t epoch)
{
    size_t off = 0;
    uint32_t n = 0;
    /* Epochs never go back within the log, so the frames to drop are a prefix. */
    while (off < in->used && colo_get64(in->mem + off) <= epoch) {
        off += COLO_INPUT_REC(colo_get16(in->mem + off + 8));
        n++;
    }
    if (!n) {
        return;
    }
    memmove(in->mem, in->mem + off, in->used - off);
    in->used -= off;
    in->count -= n;
    in->st.pruned += n;
}

uint32_t colo_input_replay(struct colo_input *in, uint64_t epoch,
                           void (*fn)(void *ctx, const uint8_t *frame, size_t len), void *ctx)
{
    uint32_t n = 0;
    for (size_t off = 0; off < in->used;) {
        const uint8_t *r = in->mem + off;
        uint16_t len = colo_get16(r + 8);
        if (colo_get64(r) > epoch) {
            fn(ctx, r + REC_HDR, len);
            n++;
        }
        off += COLO_INPUT_REC(len);
    }
    in->st.replayed += n;
    colo_input_clear(in);
    return n;
}
