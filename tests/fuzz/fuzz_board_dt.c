// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for board_arch_check() (kernel/arch/arm64/board_check.c) with the real
// qemu-virt-arm64 board description and arbitrary device-tree blobs, through libfdt.
//
// board_arch_check() gets a pointer and no length: on the board the blob sits in RAM and its
// header's totalsize says how long it is. The harness keeps that contract by giving it a buffer of
// exactly totalsize bytes (ASan catches any read past it): if the input's totalsize is larger
// than the input, the copy's totalsize field is lowered to the input's length, so every input
// is parsed rather than thrown away; a blob shorter than a header is zero-padded to one. The
// copy is 8-byte aligned, as the arm64 boot protocol places the blob (libfdt's header macros
// take member addresses through a struct fdt_header pointer, which UBSan flags when misaligned).
// Checked: no crash or undefined behaviour; a blob that passes has a valid header, the RAM it
// reports is at the board's base and at least what the board needs, and the command line it
// reports, if any, is a string inside the blob.
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <libfdt.h>
#pragma GCC diagnostic pop

#include <cv/board.h>
#include <cv/boot.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fuzz_make_seeds(void)
{
    /* tests/fuzz/run dumps QEMU's device trees instead. */
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (4u << 20)) {
        return 0;
    }
    /* The blob is the input up to its totalsize, zero-padded to a whole header (on the board,
     * RAM follows a short blob; libfdt reads the header before it can check totalsize). */
    bool magic = size >= 8 && be32(data) == FDT_MAGIC;
    uint32_t total = magic ? be32(data + 4) : 0;
    size_t end = magic && total < size ? total : size;
    size_t alloc = MAX(end, sizeof(struct fdt_header));
    uint8_t *fdt = calloc(1, alloc);
    memcpy(fdt, data, end);
    if (magic && total > size) {
        fdt_set_totalsize(fdt, (uint32_t)alloc);
    }

    struct boot_info boot = {.fw = {.kind = BOOT_FW_FDT, .desc = fdt}};
    bool ok = board_arch_check(&board_desc, &boot);
    if (ok) {
        uint64_t ram = boot.ram.size;
        FZ_CHECK(fdt_check_header(fdt) == 0, "accepted a blob with a bad header");
        FZ_CHECK(hpa_raw(boot.ram.base) == hpa_raw(board_desc.ram.base), "RAM accepted at 0x%llx",
                 (unsigned long long)hpa_raw(boot.ram.base));
        FZ_CHECK(ram >= board_desc.ram.size, "RAM 0x%llx accepted, board needs 0x%llx",
                 (unsigned long long)ram, (unsigned long long)board_desc.ram.size);
        const uint8_t *c = (const uint8_t *)boot.cmdline;
        FZ_CHECK(!c || (c >= fdt && c + strlen(boot.cmdline) < fdt + alloc),
                 "command line outside the blob");
    }
    free(fdt);
    return 0;
}
