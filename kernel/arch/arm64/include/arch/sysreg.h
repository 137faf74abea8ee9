/* SPDX-License-Identifier: Apache-2.0 */
/* System register access and the bit fields the hypervisor programs. */
#ifndef ARCH_SYSREG_H
#define ARCH_SYSREG_H

#include <cv/types.h>

#ifdef CV_HOST_TEST
/*
 * Host builds (unit tests, fuzz targets) of code that reads or writes system registers: a
 * table of registers by name (tests/unit/support/fake_sysreg.c) stands in for the CPU, so
 * ID-register-dependent decisions can be tested with any CPU's values.
 */
uint64_t host_sysreg_read(const char *name);
void host_sysreg_write(const char *name, uint64_t v);
/* Cache maintenance by VA ("cvac", "cvau") and "ic iallu", recorded by the same fake. */
void host_cache_op(const char *op, uintptr_t va);
#define read_sysreg(r) host_sysreg_read(#r)
#define write_sysreg(r, v) host_sysreg_write(#r, (uint64_t)(v))
#define isb() ((void)0)
#define dsb(opt) ((void)0)
#define dc_by_va(op, va) host_cache_op(#op, (uintptr_t)(va))
#define ic_iallu() host_cache_op("iallu", 0)
/* AT S1E1R: the fake sets PAR_EL1 to fake_at_par (fake_sysreg.h). */
#define at_s1e1r(va) host_cache_op("s1e1r", (uintptr_t)(va))
/* RNDR: the fake's "rndr" register, counting up per read; "rndr_fails" reads fail first. */
bool host_rndr(uint64_t *v);
#define read_rndr(v) host_rndr(v)
#else
#define read_sysreg(r)                                                                             \
    __extension__({                                                                                \
        uint64_t v__;                                                                              \
        __asm__ volatile("mrs %0, " #r : "=r"(v__));                                               \
        v__;                                                                                       \
    })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((uint64_t)(v)))
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")
#define dc_by_va(op, va) __asm__ volatile("dc " #op ", %0" ::"r"(va) : "memory")
#define ic_iallu() __asm__ volatile("ic iallu" ::: "memory")
#define at_s1e1r(va) __asm__ volatile("at s1e1r, %0" ::"r"(va) : "memory")
/*
 * RNDR (FEAT_RNG; by encoding, for assemblers without it): true and a random *v, or false when
 * the generator could not give one in reasonable time (NZCV.Z set). Only where ID_AA64ISAR0_EL1
 * says the CPU has it.
 */
#define read_rndr(v)                                                                               \
    __extension__({                                                                                \
        uint64_t ok__;                                                                             \
        __asm__ volatile("mrs %0, s3_3_c2_c4_0\n\tcset %1, ne" : "=r"(*(v)), "=r"(ok__)::"cc");    \
        ok__ != 0;                                                                                 \
    })
#endif
#define wfi() __asm__ volatile("wfi" ::: "memory")

/* HCR_EL2 */
#define HCR_VM BIT(0)
#define HCR_SWIO BIT(1)
#define HCR_FMO BIT(3)
#define HCR_IMO BIT(4)
#define HCR_AMO BIT(5)
#define HCR_VSE BIT(8)
#define HCR_FB BIT(9)
#define HCR_BSU_IS (1ull << 10)
#define HCR_TWI BIT(13)
#define HCR_TWE BIT(14)
#define HCR_TID3 BIT(18)
#define HCR_TSC BIT(19)
#define HCR_TIDCP BIT(20)
#define HCR_TACR BIT(21)
#define HCR_RW BIT(31)
#define HCR_TLOR BIT(35)
#define HCR_APK BIT(40)
#define HCR_API BIT(41)
#define HCR_FWB BIT(46) /**< FEAT_S2FWB: stage-2 MemAttr can force the final attributes */

/* CPTR_EL2 (non-VHE layout) */
#define CPTR_RES1 (0x2ffull | (1ull << 9) | (3ull << 12))
#define CPTR_TZ BIT(8)
#define CPTR_TFP BIT(10)
#define CPTR_TSM BIT(12)
#define CPTR_TAM BIT(30)
#define CPTR_TTA BIT(20)
#define CPTR_TCPAC BIT(31)

/* MDCR_EL2 */
#define MDCR_TPMCR BIT(5)
#define MDCR_TPM BIT(6)
#define MDCR_TDE BIT(8)
#define MDCR_TDA BIT(9)
#define MDCR_TDOSA BIT(10)
#define MDCR_TDRA BIT(11)
#define MDCR_TPMS BIT(14)
#define MDCR_TTRF BIT(19)

/* CNTHCTL_EL2 (non-VHE) */
#define CNTHCTL_EL1PCTEN BIT(0)
#define CNTHCTL_EL1PCEN BIT(1)

/* ESR_ELx */
#define ESR_EC(esr) ((uint32_t)(((esr) >> 26) & 0x3f))
#define ESR_IL BIT(25)
#define ESR_ISS(esr) ((esr)&0x1ffffff)

#define EC_UNKNOWN 0x00
#define EC_WFX 0x01
#define EC_FPSIMD 0x07
#define EC_HVC64 0x16
#define EC_SMC64 0x17
#define EC_SYSREG 0x18
#define EC_SVE 0x19
#define EC_SME 0x1d
#define EC_IABT_LOW 0x20
#define EC_IABT_CUR 0x21
#define EC_PC_ALIGN 0x22
#define EC_DABT_LOW 0x24
#define EC_DABT_CUR 0x25
#define EC_SP_ALIGN 0x26
#define EC_SERROR 0x2f
#define EC_BRK 0x3c

/* SPSR / PSTATE */
#define PSR_MODE_MASK 0xfull
#define PSR_MODE_EL0t 0x0ull
#define PSR_MODE_EL1t 0x4ull
#define PSR_MODE_EL1h 0x5ull
#define PSR_AARCH32 BIT(4)
#define PSR_F BIT(6)
#define PSR_I BIT(7)
#define PSR_A BIT(8)
#define PSR_D BIT(9)
#define PSR_BTYPE (3ull << 10)
#define PSR_SSBS BIT(12)
#define PSR_ALLINT BIT(13)
#define PSR_IL BIT(20)
#define PSR_SS BIT(21)
#define PSR_PAN BIT(22)
#define PSR_UAO BIT(23)
#define PSR_DIT BIT(24)
#define PSR_TCO BIT(25)
#define PSR_NZCV (0xfull << 28)
#define PSR_DAIF (PSR_D | PSR_A | PSR_I | PSR_F)
/* AArch32 SPSR fields (a return to AArch32 EL0) */
#define PSR32_MODE_MASK 0x1full
#define PSR32_MODE_USR 0x10ull
#define PSR32_T BIT(5)
#define PSR32_E BIT(9)
#define PSR32_IT ((0x3full << 10) | (3ull << 25))
#define PSR32_GE (0xfull << 16)
#define PSR32_SSBS BIT(23)
#define PSR32_Q BIT(27)

/* CTR_EL0 */
#define CTR_DMINLINE(ctr) (4ull << (((ctr) >> 16) & 0xf)) /**< smallest D-cache line, bytes */
#define CTR_IDC BIT(28) /**< no D-cache clean to PoU needed for instruction coherence */

/* ID_AA64ISAR0_EL1 */
#define ISAR0_CRC32(v) ((unsigned)(((v) >> 16) & 0xf)) /**< 1: the CRC32/CRC32C instructions */
#define ISAR0_RNDR(v) ((unsigned)(((v) >> 60) & 0xf))  /**< 1: FEAT_RNG (RNDR, RNDRRS) */

/* ID_AA64MMFR2_EL1 */
#define MMFR2_FWB(v) ((unsigned)(((v) >> 40) & 0xf))

/* SCTLR_EL1 */
#define SCTLR_EL1_SPAN BIT(23)

#endif
