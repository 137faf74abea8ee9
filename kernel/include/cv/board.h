/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A board, described as typed C data in boards/<name>/board.c. The hypervisor checks the
 * description against the device tree the firmware (or QEMU) hands it and refuses to start on a
 * mismatch, so a wrong board file fails loudly instead of writing to the wrong address.
 */
#ifndef CV_BOARD_H
#define CV_BOARD_H

#include <cv/types.h>

struct board_region {
    hpa_t base;
    uint64_t size;
};

struct board_irqchip {
    hpa_t dist; /**< GICD */
    uint64_t dist_size;
    hpa_t redist;         /**< first GICR frame */
    uint64_t redist_size; /**< whole redistributor region */
};

struct board_timer {
    uint32_t hyp_ppi;   /**< INTID of the EL2 physical timer */
    uint32_t virt_ppi;  /**< INTID of the EL1 virtual timer */
    uint32_t phys_ppi;  /**< INTID of the EL1 physical timer */
    uint32_t maint_ppi; /**< INTID of the GIC maintenance interrupt */
};

struct board_virtio_mmio {
    hpa_t base;         /**< first transport */
    uint64_t stride;    /**< bytes between transports */
    uint32_t count;     /**< transports present */
    uint32_t first_irq; /**< INTID of the first transport */
};

/** The guest's view: its RAM and where its emulated devices sit (guest-physical). */
struct board_guest_layout {
    gpa_t ram_base;
    uint64_t ram_size;
    gpa_t uart;
    uint32_t uart_irq;
    gpa_t gicd;
    gpa_t gicr;
    gpa_t virtio_base;
    uint64_t virtio_stride;
    uint32_t virtio_first_irq;
    uint32_t virtio_count;
};

struct board {
    const char *name;
    const char *dt_compatible; /**< root "compatible" the device tree must carry */
    struct board_region ram;   /**< minimum RAM the board must have */
    struct board_region uart;  /**< console PL011 */
    uint32_t uart_irq;
    struct board_irqchip gic;
    struct board_timer timer;
    struct board_virtio_mmio virtio;
    /** Hypervisor's share of RAM below the guest's; the rest of RAM backs the guest. */
    uint64_t hyp_reserved;
    struct board_guest_layout guest;
};

/** The board this image was built for (boards/<name>/board.c). */
extern const struct board board_desc;

/**
 * Checks desc against the flattened device tree at fdt. On mismatch prints one clear line per
 * difference and returns false. Boot context.
 */
bool board_check_fdt(const struct board *desc, const void *fdt, uint64_t *ram_size_out);

#endif
