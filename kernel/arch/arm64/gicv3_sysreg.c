// SPDX-License-Identifier: Apache-2.0
// The GIC system registers behind arch/gicv3.h's shim. Host unit tests replace this file with
// fakes, so it holds nothing but the accesses themselves. Register names take a literal index,
// hence the switches.
#include <arch/gicv3.h>

#define MRS(name, v) __asm__ volatile("mrs %0, " #name : "=r"(v))
#define MSR(name, v) __asm__ volatile("msr " #name ", %0" : : "r"((uint64_t)(v)) : "memory")

#define RD_CASE(n, name)                                                                           \
    case n:                                                                                        \
        MRS(name, v);                                                                              \
        break;
#define WR_CASE(n, name)                                                                           \
    case n:                                                                                        \
        MSR(name, v);                                                                              \
        break;

uint64_t ich_lr_read(unsigned n)
{
    uint64_t v = 0;
    switch (n) {
        RD_CASE(0, ich_lr0_el2)
        RD_CASE(1, ich_lr1_el2)
        RD_CASE(2, ich_lr2_el2)
        RD_CASE(3, ich_lr3_el2)
        RD_CASE(4, ich_lr4_el2)
        RD_CASE(5, ich_lr5_el2)
        RD_CASE(6, ich_lr6_el2)
        RD_CASE(7, ich_lr7_el2)
        RD_CASE(8, ich_lr8_el2)
        RD_CASE(9, ich_lr9_el2)
        RD_CASE(10, ich_lr10_el2)
        RD_CASE(11, ich_lr11_el2)
        RD_CASE(12, ich_lr12_el2)
        RD_CASE(13, ich_lr13_el2)
        RD_CASE(14, ich_lr14_el2)
        RD_CASE(15, ich_lr15_el2)
    default:
        break;
    }
    return v;
}

void ich_lr_write(unsigned n, uint64_t v)
{
    switch (n) {
        WR_CASE(0, ich_lr0_el2)
        WR_CASE(1, ich_lr1_el2)
        WR_CASE(2, ich_lr2_el2)
        WR_CASE(3, ich_lr3_el2)
        WR_CASE(4, ich_lr4_el2)
        WR_CASE(5, ich_lr5_el2)
        WR_CASE(6, ich_lr6_el2)
        WR_CASE(7, ich_lr7_el2)
        WR_CASE(8, ich_lr8_el2)
        WR_CASE(9, ich_lr9_el2)
        WR_CASE(10, ich_lr10_el2)
        WR_CASE(11, ich_lr11_el2)
        WR_CASE(12, ich_lr12_el2)
        WR_CASE(13, ich_lr13_el2)
        WR_CASE(14, ich_lr14_el2)
        WR_CASE(15, ich_lr15_el2)
    default:
        break;
    }
}

uint64_t ich_ap0r_read(unsigned n)
{
    uint64_t v = 0;
    switch (n) {
        RD_CASE(0, ich_ap0r0_el2)
        RD_CASE(1, ich_ap0r1_el2)
        RD_CASE(2, ich_ap0r2_el2)
        RD_CASE(3, ich_ap0r3_el2)
    default:
        break;
    }
    return v;
}

void ich_ap0r_write(unsigned n, uint64_t v)
{
    switch (n) {
        WR_CASE(0, ich_ap0r0_el2)
        WR_CASE(1, ich_ap0r1_el2)
        WR_CASE(2, ich_ap0r2_el2)
        WR_CASE(3, ich_ap0r3_el2)
    default:
        break;
    }
}

uint64_t ich_ap1r_read(unsigned n)
{
    uint64_t v = 0;
    switch (n) {
        RD_CASE(0, ich_ap1r0_el2)
        RD_CASE(1, ich_ap1r1_el2)
        RD_CASE(2, ich_ap1r2_el2)
        RD_CASE(3, ich_ap1r3_el2)
    default:
        break;
    }
    return v;
}

void ich_ap1r_write(unsigned n, uint64_t v)
{
    switch (n) {
        WR_CASE(0, ich_ap1r0_el2)
        WR_CASE(1, ich_ap1r1_el2)
        WR_CASE(2, ich_ap1r2_el2)
        WR_CASE(3, ich_ap1r3_el2)
    default:
        break;
    }
}

#define SIMPLE_READ(fn, name)                                                                      \
    uint64_t fn(void)                                                                              \
    {                                                                                              \
        uint64_t v;                                                                                \
        MRS(name, v);                                                                              \
        return v;                                                                                  \
    }
#define SIMPLE_WRITE(fn, name)                                                                     \
    void fn(uint64_t v)                                                                            \
    {                                                                                              \
        MSR(name, v);                                                                              \
    }

SIMPLE_READ(ich_hcr_read, ich_hcr_el2)
SIMPLE_WRITE(ich_hcr_write, ich_hcr_el2)
SIMPLE_READ(ich_vtr_read, ich_vtr_el2)
SIMPLE_READ(ich_misr_read, ich_misr_el2)
SIMPLE_READ(ich_elrsr_read, ich_elrsr_el2)
SIMPLE_READ(ich_vmcr_read, ich_vmcr_el2)
SIMPLE_WRITE(ich_vmcr_write, ich_vmcr_el2)
SIMPLE_READ(icc_sre_el2_read, icc_sre_el2)
SIMPLE_WRITE(icc_sre_el2_write, icc_sre_el2)
SIMPLE_WRITE(icc_sre_el1_write, icc_sre_el1)
SIMPLE_WRITE(icc_pmr_write, icc_pmr_el1)
SIMPLE_READ(icc_pmr_read, icc_pmr_el1)
SIMPLE_WRITE(icc_bpr1_write, icc_bpr1_el1)
SIMPLE_WRITE(icc_ctlr_write, icc_ctlr_el1)
SIMPLE_WRITE(icc_igrpen1_write, icc_igrpen1_el1)
SIMPLE_READ(cpu_mpidr_read, mpidr_el1)

void icc_dir_write(uint32_t intid)
{
    MSR(icc_dir_el1, intid);
}

uint32_t icc_iar1_read(void)
{
    uint64_t v;
    MRS(icc_iar1_el1, v);
    return (uint32_t)(v & 0xffffff);
}

void icc_eoir1_write(uint32_t intid)
{
    MSR(icc_eoir1_el1, intid);
}

void gic_isb(void)
{
    __asm__ volatile("isb" ::: "memory");
}
