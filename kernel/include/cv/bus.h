/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's device buses: emulated device models register a window of an address space and
 * get the decoded accesses that fall into it. Two spaces, one implementation: guest-physical
 * memory (MMIO; stage 2 leaves the windows unmapped so every access traps, and the arch decodes
 * the abort, arch/arm64/mmio_decode.c) and x86 port I/O (IN/OUT, the 8250 and the PIT). A device
 * model sees only offsets into its window, so the same ops serve either space.
 */
#ifndef CV_BUS_H
#define CV_BUS_H

#include <cv/types.h>

enum bus_space {
    BUS_MMIO, /**< addresses are guest-physical (gpa_raw()) */
    BUS_PIO,  /**< addresses are I/O port numbers */
};

/** What a device model (or the bus, for an address nobody claims) answers. */
enum bus_result {
    BUS_OK,
    /**
     * Access size or alignment the device does not accept, or no device at the address. The
     * arch answers as its CPU would: arm64 injects an external abort; x86 port reads of nothing
     * float to all ones.
     */
    BUS_BAD_ACCESS,
};

struct bus_access {
    uint64_t addr;   /**< in the bus's space */
    uint64_t offset; /**< from the start of the device window */
    unsigned size;   /**< bytes: 1, 2, 4 or 8 */
    bool write;
    uint64_t value; /**< write: the value stored; read: filled by the device */
};

struct bus_ops {
    /** Called in exit context with the vCPU stopped. Must not block. */
    enum bus_result (*read)(void *ctx, struct bus_access *a);
    enum bus_result (*write)(void *ctx, const struct bus_access *a);
};

struct bus_dev {
    const char *name;
    uint64_t base; /**< in the bus's space */
    uint64_t size;
    const struct bus_ops *ops;
    void *ctx;
};

#define BUS_MAX_DEVS 48

struct bus {
    enum bus_space space; /**< zero, BUS_MMIO, unless set before the first bus_add() */
    struct bus_dev devs[BUS_MAX_DEVS];
    unsigned count;
};

/** Adds a device; fails (returns false, logs) on overlap or a full bus. Boot context. */
bool bus_add(struct bus *bus, const struct bus_dev *dev);
/** Finds the device covering the whole access [addr, addr+size), or NULL. Any context. */
const struct bus_dev *bus_find(const struct bus *bus, uint64_t addr, unsigned size);
/**
 * Dispatches one access. Returns BUS_BAD_ACCESS when no device claims it or the device rejects
 * it; bus_find() tells the two apart. Reads of an unclaimed address are not completed (value
 * untouched): the arch decides what the guest sees. Hypervisor context.
 */
enum bus_result bus_dispatch(const struct bus *bus, struct bus_access *a);

#endif
