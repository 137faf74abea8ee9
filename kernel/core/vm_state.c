// SPDX-License-Identifier: Apache-2.0
// The VM state stream: the registered sections' bodies, each tagged, versioned and
// length-prefixed, behind a magic and a section count. Loading walks the stream twice, checking
// every section first and applying only if all passed, so a bad stream (a hostile peer's, a
// truncated one) changes nothing. Separate from vm.c, which needs the board, so that host
// builds (tests/fuzz/fuzz_vmstream.c) run this exact walker.
#include <cv/le.h>
#include <cv/log.h>
#include <cv/vm.h>

#define VMSTATE_MAGIC VS_TAG('C', 'V', 'S', 'T')

size_t vm_state_save(struct vm *vm, void *buf, size_t cap)
{
    struct vs_buf w;
    vs_init_writer(&w, buf, cap);
    vs_put_u32(&w, VMSTATE_MAGIC);
    vs_put_u32(&w, vm->vmstate_count);
    for (unsigned i = 0; i < vm->vmstate_count; i++) {
        const struct vmstate_ops *s = &vm->vmstate[i];
        vs_put_u32(&w, s->tag);
        vs_put_u32(&w, s->version);
        size_t len_at = w.len;
        vs_put_u32(&w, 0);
        size_t start = w.len;
        s->save(s->ctx, &w);
        if (w.err) {
            return 0;
        }
        le32_put(w.data + len_at, (uint32_t)(w.len - start));
    }
    return w.err ? 0 : w.len;
}

void vm_state_describe(const void *buf, size_t len, size_t off, char *out, size_t outlen)
{
    const uint8_t *b = buf;
    size_t pos = 8; /* magic, section count */
    if (off < pos) {
        cv_snprintf(out, outlen, "(stream header +%zu) ", off);
        return;
    }
    while (pos + 12 <= len) {
        uint32_t tag = le32_get(b + pos), n = le32_get(b + pos + 8);
        if (off < pos + 12 + n) {
            char t[5] = {0};
            le32_put(t, tag);
            if (off < pos + 12) {
                cv_snprintf(out, outlen, "(section %s header) ", t);
            } else {
                cv_snprintf(out, outlen, "(section %s +0x%zx) ", t, off - pos - 12);
            }
            return;
        }
        pos += 12 + n;
    }
    cv_snprintf(out, outlen, "(past the last section) ");
}

static bool state_walk(struct vm *vm, const void *buf, size_t len, bool apply)
{
    struct vs_buf r;
    vs_init_reader(&r, buf, len);
    if (vs_get_u32(&r) != VMSTATE_MAGIC) {
        log_err("vmstate: bad magic");
        return false;
    }
    uint32_t count = vs_get_u32(&r);
    if (r.err || count != vm->vmstate_count) {
        log_err("vmstate: %u sections, this VM has %u", count, vm->vmstate_count);
        return false;
    }
    for (unsigned i = 0; i < count; i++) {
        const struct vmstate_ops *s = &vm->vmstate[i];
        uint32_t tag = vs_get_u32(&r), ver = vs_get_u32(&r), n = vs_get_u32(&r);
        if (r.err || tag != s->tag || n > r.len - r.pos) {
            log_err("vmstate: section %u malformed or out of order", i);
            return false;
        }
        struct vs_buf sec;
        vs_init_reader(&sec, r.data + r.pos, n);
        if (!s->load(s->ctx, &sec, ver, apply) || sec.err || sec.pos != sec.len) {
            log_err("vmstate: section '%.4s' rejected", (const char *)&s->tag);
            return false;
        }
        r.pos += n;
    }
    return r.pos == r.len;
}

bool vm_state_load(struct vm *vm, const void *buf, size_t len)
{
    if (!state_walk(vm, buf, len, false)) {
        return false;
    }
    return state_walk(vm, buf, len, true);
}
