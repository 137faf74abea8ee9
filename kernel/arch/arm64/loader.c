// SPDX-License-Identifier: Apache-2.0
// Loads a kernel per the arm64 Linux boot protocol: a 64-byte Image header with "ARM\x64" at
// 0x38, placed text_offset bytes above a 2 MiB-aligned base in RAM; image_size covers bss.
#include <string.h>

#include <cv/log.h>
#include <cv/vm.h>

#include <arch/arm64.h>

struct arm64_image_header {
    uint32_t code0;
    uint32_t code1;
    uint64_t text_offset;
    uint64_t image_size;
    uint64_t flags;
    uint64_t res2, res3, res4;
    uint32_t magic;
    uint32_t res5;
};

#define ARM64_IMAGE_MAGIC 0x644d5241u /* "ARM\x64" */
#define KERNEL_BASE_OFFSET (2ull << 20)

bool arm64_load_kernel(struct vm *vm, const void *img, uint64_t size, gpa_t *entry,
                       uint64_t *end_offset)
{
    struct arm64_image_header h;
    if (size < sizeof(h)) {
        log_err("loader: kernel is %llu bytes, too small to be an arm64 Image",
                (unsigned long long)size);
        return false;
    }
    memcpy(&h, img, sizeof(h));
    if (h.magic != ARM64_IMAGE_MAGIC) {
        log_err("loader: kernel is not an arm64 Image (no \"ARM\\x64\" magic at 0x38)");
        return false;
    }
    /* image_size 0 means an old kernel: text_offset is then 0x80000 by convention. */
    uint64_t text_offset = h.image_size ? h.text_offset : 0x80000;
    uint64_t footprint = h.image_size ? h.image_size : size;
    if (footprint < size) {
        footprint = size;
    }
    uint64_t off = KERNEL_BASE_OFFSET + text_offset;
    if (text_offset >= (2ull << 20) || off + footprint > vm->ram.size || off + footprint < off) {
        log_err("loader: kernel needs %llu KiB at offset 0x%llx; guest RAM is only %llu KiB",
                (unsigned long long)(footprint >> 10), (unsigned long long)off,
                (unsigned long long)(vm->ram.size >> 10));
        return false;
    }
    memcpy(vm->ram.hva + off, img, size);
    memset(vm->ram.hva + off + size, 0, footprint - size);
    *entry = gpa(gpa_raw(vm->ram.base) + off);
    *end_offset = off + footprint;
    return true;
}
