/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's emulated PL011 (ARM PrimeCell UART r1p5), enough for Linux's amba-pl011 driver
 * and its earlycon. Transmission is instantaneous (each DR write goes to
 * console_guest_output()), so the transmit FIFO is always empty and the transmit interrupt is
 * raised whenever the transmitter is enabled. Received bytes come from the board console while
 * it is attached to the guest (console_attach_guest()).
 */
#ifndef CV_VPL011_H
#define CV_VPL011_H

#include <cv/bus.h>
#include <cv/types.h>

struct vm;

#define VPL011_FIFO 32u
#define VPL011_SIZE 0x1000u

struct vpl011 {
    struct vm *vm; /**< for the interrupt line and vmstate; may be NULL (tests) */
    gpa_t base;
    uint32_t intid;
    /* guest-visible state (serialised) */
    uint8_t rx[VPL011_FIFO];
    uint32_t rx_head; /**< index of the oldest byte */
    uint32_t rx_count;
    uint32_t rsr;
    uint32_t ilpr;
    uint32_t ibrd;
    uint32_t fbrd;
    uint32_t lcr_h;
    uint32_t cr;
    uint32_t ifls;
    uint32_t imsc;
    uint32_t ris;
    uint32_t dmacr;
    /* host-side */
    bool line; /**< level last given to vm_arch_irq_set_level() */
    uint64_t tx_bytes;
    uint64_t rx_bytes;
    uint64_t rx_dropped; /**< typed bytes lost to a full receive FIFO */
};

/** Puts the UART in its reset state; the interrupt line is driven low. Boot context. */
void vpl011_init(struct vpl011 *u, struct vm *vm, gpa_t base, uint32_t intid);
/** Back to the reset state (guest reboot), keeping the statistics. Hypervisor context. */
void vpl011_reset(struct vpl011 *u);
/**
 * Adds the UART's window to bus, registers its vmstate section ("UART") when u->vm is set,
 * and makes it the guest end of the board console (console_set_guest_uart()). Boot context.
 */
bool vpl011_register(struct vpl011 *u, struct bus *bus);
/** Delivers one byte to the receive FIFO; dropped (and counted) when full. Hypervisor ctx. */
void vpl011_rx_push(struct vpl011 *u, char c);

/** The MMIO handlers, exported for tests. Exit context. */
enum bus_result vpl011_mmio_read(void *ctx, struct bus_access *a);
enum bus_result vpl011_mmio_write(void *ctx, const struct bus_access *a);

#endif
