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

static enum colo_input_res add(struct colo_input *in, uint64_t epoch, const void *frame, size_t len,
                               uint16_t flags)
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
    colo_put16(r + 8, (uint16_t)(len | flags));
    memcpy(r + REC_HDR, frame, len);
    in->used += COLO_INPUT_REC(len);
    in->count++;
    in->last_epoch = epoch;
    in->st.logged++;
    in->st.local += flags != 0;
    return COLO_INPUT_OK;
}

enum colo_input_res colo_input_add(struct colo_input *in, uint64_t epoch, const void *frame,
                                   size_t len)
{
    return add(in, epoch, frame, len, 0);
}

enum colo_input_res colo_input_add_local(struct colo_input *in, uint64_t epoch, const void *frame,
                                         size_t len)
{
    uint64_t e = epoch + 1;
    return add(in, in->count && in->last_epoch > e ? in->last_epoch : e, frame, len,
               COLO_INPUT_LOCAL);
}

static size_t rec_len(const uint8_t *r)
{
    return colo_get16(r + 8) & ~COLO_INPUT_LOCAL;
}

static bool rec_local(const uint8_t *r)
{
    return colo_get16(r + 8) & COLO_INPUT_LOCAL;
}

/* A forwarded record of the replay equal to the local one at r. */
static bool has_forwarded_copy(const struct colo_input *in, uint64_t epoch, const uint8_t *r)
{
    size_t len = rec_len(r);
    for (size_t off = 0; off < in->used;) {
        const uint8_t *o = in->mem + off;
        if (!rec_local(o) && colo_get64(o) > epoch && rec_len(o) == len &&
            memcmp(o + REC_HDR, r + REC_HDR, len) == 0) {
            return true;
        }
        off += COLO_INPUT_REC(rec_len(o));
    }
    return false;
}

void colo_input_prune(struct colo_input *in, uint64_t epoch)
{
    size_t off = 0;
    uint32_t n = 0;
    /* Epochs never go back within the log, so the frames to drop are a prefix. */
    while (off < in->used && colo_get64(in->mem + off) <= epoch) {
        off += COLO_INPUT_REC(rec_len(in->mem + off));
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
        size_t len = rec_len(r);
        if (colo_get64(r) > epoch) {
            if (rec_local(r) && has_forwarded_copy(in, epoch, r)) {
                in->st.dups++;
            } else {
                fn(ctx, r + REC_HDR, len);
                n++;
            }
        }
        off += COLO_INPUT_REC(len);
    }
    in->st.replayed += n;
    colo_input_clear(in);
    return n;
}
