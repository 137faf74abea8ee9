/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arm64 half of a board description (embedded as struct board.arch by cv/board.h): the
 * devices the hypervisor drives itself, the device tree compatible it must find, and where the
 * guest's emulated devices sit.
 */
#ifndef ARCH_BOARD_H
#define ARCH_BOARD_H

#include <cv/types.h>

/** The console PL011. */
struct board_uart {
    hpa_t base;
    uint64_t size;
    uint32_t irq;
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

/** Where the guest's emulated devices sit (guest-physical). */
struct board_guest_arch {
    gpa_t uart;
    uint32_t uart_irq;
    gpa_t gicd;
    gpa_t gicr;
    gpa_t virtio_base;
    uint64_t virtio_stride;
    uint32_t virtio_first_irq;
    uint32_t virtio_count;
};

struct board_arch {
    const char *dt_compatible; /**< root "compatible" the device tree must carry */
    struct board_uart uart;
    struct board_irqchip gic;
    struct board_timer timer;
    struct board_virtio_mmio virtio;
    struct board_guest_arch guest;
};

#endif
