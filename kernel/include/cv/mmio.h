/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's MMIO bus: emulated device models register a guest-physical window and get the
 * decoded accesses that fall into it. Stage 2 leaves these windows unmapped so every access
 * traps; the arch layer decodes the abort (arch/arm64/mmio_decode.c) into a struct mmio_access.
 */
#ifndef CV_MMIO_H
#define CV_MMIO_H

#include <cv/types.h>

/** What a device model answers. */
enum mmio_result {
    MMIO_OK,
    /** Access size or alignment the device does not accept: the guest gets an external abort. */
    MMIO_BAD_ACCESS,
};

struct mmio_access {
    gpa_t addr;
    uint64_t offset; /**< from the start of the device window */
    unsigned size;   /**< bytes: 1, 2, 4 or 8 */
    bool write;
    uint64_t value; /**< write: the value stored; read: filled by the device */
};

struct mmio_ops {
    /** Called in exit context with the vCPU stopped. Must not block. */
    enum mmio_result (*read)(void *ctx, struct mmio_access *a);
    enum mmio_result (*write)(void *ctx, const struct mmio_access *a);
};

struct mmio_dev {
    const char *name;
    gpa_t base;
    uint64_t size;
    const struct mmio_ops *ops;
    void *ctx;
};

#define MMIO_MAX_DEVS 48

struct mmio_bus {
    struct mmio_dev devs[MMIO_MAX_DEVS];
    unsigned count;
};

/** Adds a device; fails (returns false, logs) on overlap or a full bus. Boot context. */
bool mmio_bus_add(struct mmio_bus *bus, const struct mmio_dev *dev);
/** Finds the device covering the whole access [addr, addr+size), or NULL. */
const struct mmio_dev *mmio_bus_find(const struct mmio_bus *bus, gpa_t addr, unsigned size);
/**
 * Dispatches one access. Returns MMIO_BAD_ACCESS when no device claims it or the device
 * rejects it. Reads of an unclaimed address are not completed (value untouched).
 */
enum mmio_result mmio_bus_dispatch(const struct mmio_bus *bus, struct mmio_access *a);

#endif
