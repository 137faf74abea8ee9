/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A board, described as typed C data in boards/<name>/board.c. The hypervisor checks the
 * description against what the firmware (or QEMU) describes and refuses to start on a mismatch,
 * so a wrong board file fails loudly instead of writing to the wrong address. The arch's devices
 * are in struct board_arch (<arch/board.h>).
 */
#ifndef CV_BOARD_H
#define CV_BOARD_H

#include <cv/boot.h>
#include <cv/types.h>

#include <arch/board.h>

struct vm;
struct vnet;

struct board_region {
    hpa_t base;
    uint64_t size;
};

/** The guest's RAM (guest-physical); its devices are in board_arch.guest. */
struct board_guest {
    gpa_t ram_base;
    uint64_t ram_size;
};

struct board {
    const char *name;
    struct board_region ram; /**< minimum RAM the board must have */
    /** Hypervisor's share of RAM below the guest's; the rest of RAM backs the guest. */
    uint64_t hyp_reserved;
    struct board_guest guest;
    struct board_arch arch;
};

/** The board this image was built for (boards/<name>/board.c). */
extern const struct board board_desc;

/**
 * Checks desc against the firmware's description of the machine (boot->fw). On mismatch prints
 * one clear line per difference and returns false. On success fills in boot->ram (the RAM found
 * at desc's base) and boot->cmdline. Arch code (kernel/arch/<arch>/board_check.c); boot context.
 */
bool board_arch_check(const struct board *desc, struct boot_info *boot);

/**
 * Creates the guest's emulated devices (console UART, NIC, ...) on vm's bus, after vm_create(),
 * and attaches the UART to the console. False (logged) on failure. Board code
 * (boards/<name>/guest.c); boot context.
 */
bool board_guest_devices_init(struct vm *vm);
/** The guest's NIC board_guest_devices_init() created, for the L2 bridge. */
struct vnet *board_guest_nic(void);

/**
 * Finds the board's own NICs (virtio-mmio transports, PCI functions, whatever the board has),
 * brings each up and registers it as a netdev (cv/net.h), in the order docs/networking.md
 * gives. Needs the page pool and the interrupt controller. Returns how many it registered.
 * Board code (boards/<name>/platform.c); boot context, once.
 */
unsigned board_nics_probe(void);

#endif
