// SPDX-License-Identifier: Apache-2.0
// Byte-stream helpers for VM state sections (cv/vmstate.h). Little-endian, byte by byte, so the
// format does not depend on host alignment or endianness. Errors are sticky: after an overrun
// writes do nothing and reads return zeros, and the caller checks err once at the end.
#include <string.h>

#include <cv/le.h>
#include <cv/vm.h>
#include <cv/vmstate.h>

void vs_init_writer(struct vs_buf *b, void *mem, size_t cap)
{
    b->data = mem;
    b->cap = cap;
    b->len = 0;
    b->pos = 0;
    b->err = false;
}

void vs_init_reader(struct vs_buf *b, const void *mem, size_t len)
{
    /* The reader never writes through data; the cast only drops const for the shared struct. */
    b->data = (uint8_t *)(uintptr_t)mem;
    b->cap = len;
    b->len = len;
    b->pos = 0;
    b->err = false;
}

void vs_put_bytes(struct vs_buf *b, const void *p, size_t n)
{
    if (b->err || n > b->cap - b->len) {
        b->err = true;
        return;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
}

static void put_le(struct vs_buf *b, uint64_t v, unsigned n)
{
    uint8_t tmp[8];
    le_put(tmp, v, n);
    vs_put_bytes(b, tmp, n);
}

void vs_put_u8(struct vs_buf *b, uint8_t v)
{
    put_le(b, v, 1);
}

void vs_put_u32(struct vs_buf *b, uint32_t v)
{
    put_le(b, v, 4);
}

void vs_put_u64(struct vs_buf *b, uint64_t v)
{
    put_le(b, v, 8);
}

void vs_get_bytes(struct vs_buf *b, void *p, size_t n)
{
    if (b->err || n > b->len - b->pos) {
        b->err = true;
        if (n) {
            memset(p, 0, n);
        }
        return;
    }
    if (n) {
        memcpy(p, b->data + b->pos, n);
    }
    b->pos += n;
}

static uint64_t get_le(struct vs_buf *b, unsigned n)
{
    uint8_t tmp[8];
    vs_get_bytes(b, tmp, n);
    return le_get(tmp, n);
}

uint8_t vs_get_u8(struct vs_buf *b)
{
    return (uint8_t)get_le(b, 1);
}

uint32_t vs_get_u32(struct vs_buf *b)
{
    return (uint32_t)get_le(b, 4);
}

uint64_t vs_get_u64(struct vs_buf *b)
{
    return get_le(b, 8);
}

void vm_state_resumed(struct vm *vm)
{
    for (unsigned i = 0; i < vm->vmstate_count; i++) {
        if (vm->vmstate[i].resume) {
            vm->vmstate[i].resume(vm->vmstate[i].ctx);
        }
    }
}
