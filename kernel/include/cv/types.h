/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Basic types. The three address spaces get distinct one-field struct types so that mixing a
 * guest-physical address with a host-physical one is a compile error, not a silent bug in the
 * checkpoint copy path.
 */
#ifndef CV_TYPES_H
#define CV_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Host-physical address (what the board's bus sees). */
typedef struct {
    uint64_t raw;
} hpa_t;

/** Guest-physical address (intermediate physical address, translated by stage 2). */
typedef struct {
    uint64_t raw;
} gpa_t;

static inline hpa_t hpa(uint64_t a)
{
    return (hpa_t){a};
}
static inline gpa_t gpa(uint64_t a)
{
    return (gpa_t){a};
}
static inline uint64_t hpa_raw(hpa_t a)
{
    return a.raw;
}
static inline uint64_t gpa_raw(gpa_t a)
{
    return a.raw;
}

#define PAGE_SHIFT 12u
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define BIT(n) (1ull << (n))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define UNUSED __attribute__((unused))
#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/** Extract bits [hi:lo] of v. */
static inline uint64_t bits_get(uint64_t v, unsigned hi, unsigned lo)
{
    return (v >> lo) & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1));
}

#endif
