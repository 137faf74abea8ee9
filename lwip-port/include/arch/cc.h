/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP's compiler/platform header, shared by every colovisor lwIP build: the hypervisor (EL2,
 * lwip-port/) and the guest (EL1). It depends on nothing of either side; each side provides
 * the three functions below and its own lwipopts.h.
 *
 * Built freestanding against picolibc's headers, with nothing that touches errno or locale
 * state (both live in TPIDR_EL0, which is guest-owned in the hypervisor): lwIP's own ctype
 * macros, its own errno numbers, our own printf formats.
 */
#ifndef LWIP_ARCH_CC_H
#define LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

/** Prints one diagnostic line (printf-like; lwIP's messages usually end in '\n'). */
void lwip_port_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** An lwIP assertion failed: report and stop. Never returns. */
void lwip_port_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
/** A pseudo-random 32-bit number (TCP initial sequence numbers, ports, IP ids). */
uint32_t lwip_port_rand(void);

#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
        lwip_port_diag x;                                                                          \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() ((u32_t)lwip_port_rand())

/* picolibc's ctype functions read per-thread locale state (TPIDR_EL0): use lwIP's macros. */
#define LWIP_NO_CTYPE_H 1
/* Our formatters (printk.c and the guest's) take these; no <inttypes.h> needed. */
#define LWIP_NO_INTTYPES_H 1
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

/* Errno numbers without an errno variable (only the socket API, which is off, would set it). */
#define LWIP_PROVIDE_ERRNO 1

#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

#define PACK_STRUCT_FIELD(x) x
#define PACK_STRUCT_STRUCT __attribute__((packed))
#define PACK_STRUCT_BEGIN
#define PACK_STRUCT_END

#endif
