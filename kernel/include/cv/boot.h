/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the firmware (or QEMU) handed the hypervisor at boot, in a form generic code can use
 * without knowing the hand-off protocol. The arch boot code fills in the firmware's description;
 * the arch's board check (board_arch_check(), cv/board.h) validates it and fills in what it
 * found there: RAM and the hypervisor's command line.
 */
#ifndef CV_BOOT_H
#define CV_BOOT_H

#include <cv/types.h>

/** How to read boot_info.fw; only the arch that put it there reads it. */
enum boot_fw_kind {
    BOOT_FW_NONE,
    BOOT_FW_FDT, /**< a flattened device tree (arm64 boot protocol: x0 at entry) */
};

struct boot_info {
    struct {
        enum boot_fw_kind kind;
        const void *desc; /**< hypervisor-virtual; NULL if the firmware gave none */
    } fw;
    struct {
        hpa_t base;
        uint64_t size; /**< 0 until the board check found it */
    } ram;
    /** The hypervisor's command line (cv.* keys, cv/config.h), NUL-terminated; NULL if none. */
    const char *cmdline;
};

#endif
