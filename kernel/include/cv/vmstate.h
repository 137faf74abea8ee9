/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serialisation of a VM's non-RAM state (vCPU, interrupt controller, timer, devices) as a byte
 * stream of tagged, versioned, length-prefixed sections, little-endian. The checkpoint engine
 * ships this stream; a loader validates every section before it changes anything, so a bad
 * stream leaves the VM as it was.
 */
#ifndef CV_VMSTATE_H
#define CV_VMSTATE_H

#include <cv/types.h>

struct vs_buf {
    uint8_t *data;
    size_t cap;
    size_t len; /**< bytes written (writer) or valid (reader) */
    size_t pos; /**< read position */
    bool err;   /**< overrun on write or read; sticky */
};

void vs_init_writer(struct vs_buf *b, void *mem, size_t cap);
void vs_init_reader(struct vs_buf *b, const void *mem, size_t len);
void vs_put_u8(struct vs_buf *b, uint8_t v);
void vs_put_u32(struct vs_buf *b, uint32_t v);
void vs_put_u64(struct vs_buf *b, uint64_t v);
void vs_put_bytes(struct vs_buf *b, const void *p, size_t n);
uint8_t vs_get_u8(struct vs_buf *b);
uint32_t vs_get_u32(struct vs_buf *b);
uint64_t vs_get_u64(struct vs_buf *b);
void vs_get_bytes(struct vs_buf *b, void *p, size_t n);

/** A piece of VM state with a 4-character tag, e.g. "CPU0", "VGIC", "UART". */
struct vmstate_ops {
    uint32_t tag;
    uint32_t version;
    /** Writes the section body. Vcpu stopped. */
    void (*save)(void *ctx, struct vs_buf *w);
    /**
     * Checks a section body of the given version without changing anything (apply=false), or
     * applies it (apply=true; only called after a successful check). Returns false if invalid.
     */
    bool (*load)(void *ctx, struct vs_buf *r, uint32_t version, bool apply);
    /** Optional: back to the power-on state when the guest is (re)booted. */
    void (*reset)(void *ctx);
    /**
     * Optional: the guest runs again after a pause (a takeover of a replica, a state reload, a
     * checkpoint, `guest resume`). Picks up work the guest left queued while it could not be
     * done: a guest whose queue is stopped waits for the device and never asks again.
     */
    void (*resume)(void *ctx);
    void *ctx;
};

#define VS_TAG(a, b, c, d)                                                                         \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

#endif
