// SPDX-License-Identifier: Apache-2.0
// Puts the guest into its RAM per the arm64 Linux boot protocol: the kernel Image near the
// bottom (loader.c), the device tree in the top 2 MiB, the initrd just below it, x0 = the
// device tree at entry.
#include <string.h>

#include <cv/image.h>
#include <cv/log.h>
#include <cv/vm.h>

#include <arch/arm64.h>

/* The top 2 MiB of guest RAM hold the device tree (the arm64 boot protocol's maximum size). */
#define DTB_AREA (2ull << 20)
#define DEFAULT_CMDLINE "console=ttyAMA0"

bool vm_arch_load_guest(struct vm *vm, const struct cv_image_info *info, const uint8_t *image)
{
    uint64_t end;
    if (!arm64_load_kernel(vm, image + info->kernel->offset, info->kernel->size, &vm->entry,
                           &end)) {
        return false;
    }
    /* Initrd just below the device tree area, page aligned; the kernel must end below it. */
    uint64_t dtb_off = vm->ram.size - DTB_AREA;
    uint64_t initrd_off = dtb_off, initrd_size = info->initrd ? info->initrd->size : 0;
    if (initrd_size) {
        if (initrd_size > dtb_off) {
            log_err("guest: initrd of %llu KiB does not fit in %llu KiB of guest RAM",
                    (unsigned long long)(initrd_size >> 10),
                    (unsigned long long)(vm->ram.size >> 10));
            return false;
        }
        initrd_off = ALIGN_DOWN(dtb_off - initrd_size, PAGE_SIZE);
        memcpy(vm->ram.hva + initrd_off, image + info->initrd->offset, initrd_size);
    }
    if (end > initrd_off) {
        log_err("guest: kernel (ends at +%llu KiB) and initrd/device tree (from +%llu KiB) "
                "overlap: guest RAM of %llu MiB is too small",
                (unsigned long long)(end >> 10), (unsigned long long)(initrd_off >> 10),
                (unsigned long long)(vm->ram.size >> 20));
        return false;
    }
    char cmdline[512];
    const char *src = DEFAULT_CMDLINE;
    size_t srclen = sizeof(DEFAULT_CMDLINE) - 1;
    if (info->cmdline) {
        src = (const char *)image + info->cmdline->offset;
        srclen = strnlen(src, info->cmdline->size);
    }
    if (srclen >= sizeof(cmdline)) {
        log_err("guest: command line longer than %zu bytes", sizeof(cmdline) - 1);
        return false;
    }
    memcpy(cmdline, src, srclen);
    cmdline[srclen] = 0;
    uint64_t base = gpa_raw(vm->ram.base);
    size_t dtb = arm64_build_guest_fdt(vm, vm->ram.hva + dtb_off, 64 * 1024, cmdline,
                                       initrd_size ? base + initrd_off : 0,
                                       initrd_size ? base + initrd_off + initrd_size : 0);
    if (!dtb) {
        return false;
    }
    vm->entry_arg = base + dtb_off;
    log_info("guest: loaded '%s' (%llu KiB), entry 0x%llx%s, device tree at 0x%llx",
             info->kernel->name, (unsigned long long)(info->kernel->size >> 10),
             (unsigned long long)gpa_raw(vm->entry), initrd_size ? ", initrd" : "",
             (unsigned long long)vm->entry_arg);
    return true;
}
