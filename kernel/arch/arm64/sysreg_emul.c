// SPDX-License-Identifier: Apache-2.0
// Trapped system register accesses (EC 0x18). The policy, documented in docs/design.md:
//  - ID registers (HCR_EL2.TID3): the CPU's values with the features we do not virtualise
//    hidden (SVE, SME, PMU, SPE, trace, AMU, MPAM, RAS, MTE, nested virtualisation, LOR, ...),
//    so that an unmodified Linux sees a consistent CPU on QEMU's -cpu max and on hardware;
//  - registers of hidden features: UNDEFINED, as on a CPU without the feature;
//  - debug registers (MDCR_EL2.TDA/TDOSA/TDRA) and ACTLR_EL1 (HCR_EL2.TACR): RAZ/WI;
//  - IMPLEMENTATION DEFINED registers (HCR_EL2.TIDCP): UNDEFINED;
//  - the EL1 physical timer (CNTHCTL_EL2.EL1PCEN=0): RAZ/WI, the guest uses the virtual timer;
//  - SGI generation (ICC_SGI1R_EL1 and friends): emulated for the single vCPU.
#include <cv/log.h>

#include <arch/arm64.h>
#include <arch/gicv3.h>
#include <arch/sysreg.h>

#define SYSREG(op0, op1, crn, crm, op2)                                                            \
    (((uint32_t)(op0) << 14) | ((uint32_t)(op1) << 11) | ((uint32_t)(crn) << 7) |                  \
     ((uint32_t)(crm) << 3) | (uint32_t)(op2))

#define ID_READ_CASE(crm, op2)                                                                     \
    case ((crm) << 3) | (op2):                                                                     \
        __asm__ volatile("mrs %0, S3_0_C0_C" #crm "_" #op2 : "=r"(v));                             \
        break;
#define ID_READ_ROW(crm)                                                                           \
    ID_READ_CASE(crm, 0)                                                                           \
    ID_READ_CASE(crm, 1)                                                                           \
    ID_READ_CASE(crm, 2)                                                                           \
    ID_READ_CASE(crm, 3)                                                                           \
    ID_READ_CASE(crm, 4)                                                                           \
    ID_READ_CASE(crm, 5)                                                                           \
    ID_READ_CASE(crm, 6)                                                                           \
    ID_READ_CASE(crm, 7)

static uint64_t read_id_space(unsigned crm, unsigned op2)
{
    uint64_t v = 0;
    switch ((crm << 3) | op2) {
        ID_READ_ROW(1)
        ID_READ_ROW(2)
        ID_READ_ROW(3)
        ID_READ_ROW(4)
        ID_READ_ROW(5)
        ID_READ_ROW(6)
        ID_READ_ROW(7)
    default:
        break;
    }
    return v;
}

static uint64_t clear_field(uint64_t v, unsigned lo)
{
    return v & ~(0xfull << lo);
}

static uint64_t cap_field(uint64_t v, unsigned lo, uint64_t max)
{
    uint64_t f = (v >> lo) & 0xf;
    return f > max ? (v & ~(0xfull << lo)) | (max << lo) : v;
}

/* The guest's view of an ID register (op0=3, op1=0, CRn=0, CRm=1..7). */
static uint64_t sysreg_guest_id(unsigned crm, unsigned op2)
{
    uint64_t v = read_id_space(crm, op2);
    switch ((crm << 3) | op2) {
    case (4 << 3) | 0:          /* ID_AA64PFR0_EL1 */
        v = clear_field(v, 8);  /* EL2: no nested virtualisation */
        v = clear_field(v, 12); /* EL3 */
        v = clear_field(v, 28); /* RAS */
        v = clear_field(v, 32); /* SVE */
        v = clear_field(v, 36); /* SEL2 */
        v = clear_field(v, 40); /* MPAM */
        v = clear_field(v, 44); /* AMU */
        return v;
    case (4 << 3) | 1:          /* ID_AA64PFR1_EL1 */
        v = clear_field(v, 8);  /* MTE */
        v = clear_field(v, 12); /* RAS_frac */
        v = clear_field(v, 16); /* MPAM_frac */
        v = clear_field(v, 24); /* SME */
        v = clear_field(v, 28); /* RNDR_trap */
        v = clear_field(v, 36); /* NMI */
        return v;
    case (4 << 3) | 4: /* ID_AA64ZFR0_EL1 */
    case (4 << 3) | 5: /* ID_AA64SMFR0_EL1 */
        return 0;
    case (5 << 3) | 0:          /* ID_AA64DFR0_EL1 */
        v = clear_field(v, 4);  /* TraceVer */
        v = clear_field(v, 8);  /* PMUVer */
        v = clear_field(v, 32); /* PMSVer (SPE) */
        v = clear_field(v, 40); /* TraceFilt */
        v = clear_field(v, 44); /* TraceBuffer */
        v = clear_field(v, 48); /* MTPMU */
        v = clear_field(v, 52); /* BRBE */
        return v;
    case (7 << 3) | 0:          /* ID_AA64MMFR0_EL1 */
        v = cap_field(v, 0, 2); /* PARange: the guest's IPA space is 40 bits */
        v = clear_field(v, 56); /* FGT */
        v = clear_field(v, 60); /* ECV */
        return v;
    case (7 << 3) | 1:          /* ID_AA64MMFR1_EL1 */
        v = clear_field(v, 8);  /* VH */
        v = clear_field(v, 16); /* LO */
        v = clear_field(v, 32); /* TWED */
        v = clear_field(v, 40); /* HCX */
        return v;
    case (7 << 3) | 2:          /* ID_AA64MMFR2_EL1 */
        v = clear_field(v, 24); /* NV */
        return v;
    case (6 << 3) | 2:         /* ID_AA64ISAR2_EL1 */
        v = clear_field(v, 0); /* WFxT */
        return v;
    default:
        return v;
    }
}

enum exit_reason sysreg_trap(struct vcpu *v, uint64_t esr)
{
    uint64_t iss = ESR_ISS(esr);
    unsigned op0 = (iss >> 20) & 3, op2 = (iss >> 17) & 7, op1 = (iss >> 14) & 7;
    unsigned crn = (iss >> 10) & 0xf, rt = (iss >> 5) & 0x1f, crm = (iss >> 1) & 0xf;
    bool read = iss & 1;
    uint32_t enc = SYSREG(op0, op1, crn, crm, op2);
    uint64_t val = read ? 0 : vcpu_get_reg(v, rt);

    if (op0 == 3 && op1 == 0 && crn == 0 && crm >= 1) {
        if (!read) {
            goto undef;
        }
        vcpu_set_reg(v, rt, sysreg_guest_id(crm, op2));
        goto done;
    }
    switch (enc) {
    case SYSREG(3, 0, 1, 0, 1): /* ACTLR_EL1 */
        goto raz_wi;
    case SYSREG(3, 0, 12, 11, 5): /* ICC_SGI1R_EL1 */
    case SYSREG(3, 0, 12, 11, 6): /* ICC_ASGI1R_EL1 */
    case SYSREG(3, 0, 12, 11, 7): /* ICC_SGI0R_EL1 */
        if (read) {
            goto undef;
        }
        vgic_sgi_write(&v->vm->arch.vgic, val);
        goto done;
    case SYSREG(3, 3, 14, 2, 0): /* CNTP_TVAL_EL0 */
    case SYSREG(3, 3, 14, 2, 1): /* CNTP_CTL_EL0 */
    case SYSREG(3, 3, 14, 2, 2): /* CNTP_CVAL_EL0 */
        goto raz_wi;
    default:
        break;
    }
    if (op0 == 2) {
        goto raz_wi; /* debug registers */
    }
    if (op0 == 3 && (crn == 11 || crn == 15)) {
        goto undef; /* IMPLEMENTATION DEFINED: we implement none */
    }
    goto undef;

raz_wi:
    if (read) {
        vcpu_set_reg(v, rt, 0);
    }
done:
    v->arch.regs.pc += 4;
    return EXIT_SYSREG;

undef:
    log_guest(LOG_WARN,
              "guest: %s of unemulated system register S%u_%u_C%u_C%u_%u (pc=0x%llx), undef "
              "injected",
              read ? "read" : "write", op0, op1, crn, crm, op2,
              (unsigned long long)v->arch.regs.pc);
    inject_undef(v);
    return EXIT_INJECT_UND;
}
