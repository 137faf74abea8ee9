/* SPDX-License-Identifier: Apache-2.0 */
/* The host-test arch's device-ordering barrier: host tests share memory with no device. */
#ifndef ARCH_IO_H
#define ARCH_IO_H

/** Orders earlier memory writes before a following device write. Any context. */
static inline void io_arch_wmb(void)
{
    __asm__ volatile("" ::: "memory");
}

#endif
