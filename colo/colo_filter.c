// SPDX-License-Identifier: Apache-2.0
// The COLO buffer filter (colo_filter.h). Held frames live in one byte ring as contiguous
// records, so emit always gets a single pointer into the ring and releasing costs no copy. A
// record that does not fit before the end of the ring goes to offset 0 and the tail bytes become
// padding; there is at most one such gap at a time (a second needs the head to have wrapped past
// the first), which bounds the room lost to it by one record.
#include <string.h>

#include <colo/filter.h>

#include "colo_util.h"

static void hdr_read(const uint8_t *p, size_t *len, uint64_t *epoch)
{
    uint16_t l;

    /* memcpy: records are packed, so their fields are unaligned. */
    memcpy(&l, p, sizeof(l));
    memcpy(epoch, p + sizeof(l), sizeof(*epoch));
    *len = l;
}

static void hdr_write(uint8_t *p, size_t len, uint64_t epoch)
{
    uint16_t l = (uint16_t)len;

    memcpy(p, &l, sizeof(l));
    memcpy(p + sizeof(l), &epoch, sizeof(epoch));
}

/* Padding starts at pos: too close to the end for a header, or marked with a len of 0. */
static bool pad_at(const struct colo_filter *f, size_t pos)
{
    uint16_t l;

    if (f->cap - pos < COLO_FILTER_HDR) {
        return true;
    }
    memcpy(&l, f->buf + pos, sizeof(l));
    return l == 0;
}

static size_t ring_tail(const struct colo_filter *f)
{
    size_t t = f->head + f->used;

    return t >= f->cap ? t - f->cap : t;
}

/*
 * Whether a record of rec bytes fits now, and how many bytes at the end of the ring must be
 * skipped to place it at offset 0 (*pad). An empty ring has head 0, so any record up to cap fits.
 */
static bool ring_fit(const struct colo_filter *f, size_t rec, size_t *pad)
{
    size_t tail;

    *pad = 0;
    if (rec > f->cap) {
        return false;
    }
    if (f->used == 0) {
        return true;
    }
    if (f->used == f->cap) {
        return false;
    }
    tail = ring_tail(f);
    if (tail < f->head) {
        return f->head - tail >= rec;
    }
    if (f->cap - tail >= rec) {
        return true;
    }
    *pad = f->cap - tail;
    return f->head >= rec;
}

/* Drops the record at head (already emitted or discarded) and keeps head on a record. */
static void ring_pop(struct colo_filter *f, size_t rec)
{
    f->head += rec;
    f->used -= rec;
    if (f->head == f->cap) {
        f->head = 0;
    }
    if (f->used == 0) {
        /* Restart at 0: an empty ring then has all of cap contiguous. */
        f->head = 0;
    } else if (pad_at(f, f->head)) {
        f->used -= f->cap - f->head;
        f->head = 0;
    }
}

/* Emits the record at head and drops it. */
static void release_head(struct colo_filter *f)
{
    size_t len;
    uint64_t epoch;

    hdr_read(f->buf + f->head, &len, &epoch);
    f->emit(f->ctx, f->buf + f->head + COLO_FILTER_HDR, len);
    f->st.released_frames++;
    f->st.released_bytes += len;
    f->st.held_frames--;
    f->st.held_bytes -= len;
    ring_pop(f, COLO_FILTER_RECORD(len));
}

/*
 * Moves the open epoch up to `epoch`, taking the frames still open with it: they were sent
 * before the pause of `epoch`, but the filter cannot tell whether before the pause of their old
 * tag, so they wait for the later commit. The open frames are a suffix of the ring; walking it
 * all is fine for a path that correct callers never take.
 */
static void raise_open(struct colo_filter *f, uint64_t epoch)
{
    size_t pos = f->head, left = f->used;

    while (left > 0) {
        size_t len;
        uint64_t tag;

        if (pad_at(f, pos)) {
            left -= f->cap - pos;
            pos = 0;
            continue;
        }
        hdr_read(f->buf + pos, &len, &tag);
        if (tag == f->open_epoch) {
            hdr_write(f->buf + pos, len, epoch);
        }
        left -= COLO_FILTER_RECORD(len);
        pos += COLO_FILTER_RECORD(len);
        if (pos == f->cap) {
            pos = 0;
        }
    }
    f->open_epoch = epoch;
}

void colo_filter_init(struct colo_filter *f, uint8_t *buf, size_t cap,
                      void (*emit)(void *ctx, const uint8_t *frame, size_t len), void *ctx)
{
    memset(f, 0, sizeof(*f));
    f->buf = buf;
    f->cap = cap;
    f->emit = emit;
    f->ctx = ctx;
}

void colo_filter_start(struct colo_filter *f, uint64_t epoch)
{
    if (!f->holding) {
        f->holding = true;
        f->open_epoch = epoch;
    } else if (epoch > f->open_epoch) {
        raise_open(f, epoch);
    }
}

static bool len_ok(size_t len)
{
    return len >= 1 && len <= COLO_FILTER_MAX_FRAME;
}

bool colo_filter_room(struct colo_filter *f, size_t len)
{
    size_t pad;

    if (!len_ok(len)) {
        return false;
    }
    if (!f->holding || ring_fit(f, COLO_FILTER_RECORD(len), &pad)) {
        return true;
    }
    f->st.full_events++;
    return false;
}

bool colo_filter_put(struct colo_filter *f, const uint8_t *frame, size_t len)
{
    size_t rec = COLO_FILTER_RECORD(len), pad, tail;

    if (!len_ok(len)) {
        return false;
    }
    if (!f->holding) {
        f->emit(f->ctx, frame, len);
        f->st.passed_frames++;
        return true;
    }
    if (!ring_fit(f, rec, &pad)) {
        return false;
    }
    tail = ring_tail(f);
    if (pad > 0) {
        /* Below a header's size the reader recognises the gap by its size alone. */
        if (pad >= COLO_FILTER_HDR) {
            hdr_write(f->buf + tail, 0, 0);
        }
        f->used += pad;
        tail = 0;
    }
    hdr_write(f->buf + tail, len, f->open_epoch);
    memcpy(f->buf + tail + COLO_FILTER_HDR, frame, len);
    f->used += rec;
    f->st.held_frames++;
    f->st.held_bytes += len;
    f->st.max_bytes = MAX(f->st.max_bytes, f->st.held_bytes);
    return true;
}

void colo_filter_checkpoint(struct colo_filter *f, uint64_t epoch)
{
    if (!f->holding || epoch < f->open_epoch) {
        return;
    }
    if (epoch > f->open_epoch) {
        raise_open(f, epoch);
    }
    f->open_epoch = epoch + 1;
}

void colo_filter_commit(struct colo_filter *f, uint64_t epoch)
{
    while (f->used > 0) {
        size_t len;
        uint64_t tag;

        hdr_read(f->buf + f->head, &len, &tag);
        /* Tags are non-decreasing from head, so the releasable frames are a prefix. */
        if (tag > epoch || tag >= f->open_epoch) {
            break;
        }
        release_head(f);
    }
}

void colo_filter_flush(struct colo_filter *f)
{
    while (f->used > 0) {
        release_head(f);
        f->st.flushed_frames++;
    }
    f->holding = false;
}

void colo_filter_discard(struct colo_filter *f)
{
    f->st.discarded_frames += f->st.held_frames;
    f->st.held_frames = 0;
    f->st.held_bytes = 0;
    f->head = 0;
    f->used = 0;
    f->holding = false;
}

unsigned colo_filter_fill_permille(const struct colo_filter *f)
{
    if (f->cap == 0) {
        return 1000;
    }
    return (unsigned)((uint64_t)f->used * 1000u / f->cap);
}
