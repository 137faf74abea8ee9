/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding of stage-2 data aborts (ESR_EL2 ISS for EC 0x24). Pure functions, host-tested. */
#ifndef ARCH_MMIO_DECODE_H
#define ARCH_MMIO_DECODE_H

#include <cv/types.h>

struct dabt_info {
    bool isv;         /**< syndrome valid: size/register fields below are meaningful */
    unsigned size;    /**< access size in bytes */
    bool sign_extend; /**< SSE */
    unsigned rt;      /**< register number; 31 = XZR/WZR */
    bool sf;          /**< 64-bit register */
    bool write;       /**< WnR */
    bool s1ptw;       /**< fault on a stage-1 translation table walk */
    bool cache_maint; /**< CM: cache maintenance or address translation instruction */
    unsigned dfsc;    /**< data fault status code */
};

void dabt_decode(uint64_t esr, struct dabt_info *d);

/** DFSC classes (level bits stripped). */
static inline bool dfsc_is_translation(unsigned dfsc)
{
    return (dfsc & 0x3c) == 0x04;
}
static inline bool dfsc_is_permission(unsigned dfsc)
{
    return (dfsc & 0x3c) == 0x0c;
}
static inline bool dfsc_is_access_flag(unsigned dfsc)
{
    return (dfsc & 0x3c) == 0x08;
}

/** Value a load of size bytes returns in the register, from the device's raw value. */
uint64_t dabt_load_value(const struct dabt_info *d, uint64_t raw);
/** Faulting IPA from HPFAR_EL2 and FAR_EL2. */
static inline gpa_t dabt_ipa(uint64_t hpfar, uint64_t far)
{
    return gpa(((hpfar >> 4) & 0xffffffffffull) << 12 | (far & 0xfff));
}

#endif
