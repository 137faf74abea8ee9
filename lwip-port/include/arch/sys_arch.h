/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP's OS abstraction. Every colovisor lwIP build is NO_SYS=1 (raw API, one thread, no
 * semaphores or mailboxes), so lwIP never includes this for its own use; it exists for lwIP's
 * build contract. sys_now() (milliseconds, wrapping) is provided by each side's sys_arch.c.
 */
#ifndef LWIP_ARCH_SYS_ARCH_H
#define LWIP_ARCH_SYS_ARCH_H

#endif
