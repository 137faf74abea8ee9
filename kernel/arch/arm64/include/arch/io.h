/* SPDX-License-Identifier: Apache-2.0 */
/* Ordering between the hypervisor's memory writes and its device accesses (drivers). */
#ifndef ARCH_IO_H
#define ARCH_IO_H

/**
 * Makes the CPU's earlier writes to normal memory (DMA rings) complete before a following
 * device write (a doorbell) is seen: DSB ST, since the device reads the ring from memory.
 * Any context.
 */
static inline void io_arch_wmb(void)
{
#ifdef CV_HOST_TEST
    __asm__ volatile("" ::: "memory");
#else
    __asm__ volatile("dsb st" ::: "memory");
#endif
}

#endif
