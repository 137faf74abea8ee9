// SPDX-License-Identifier: Apache-2.0
// SMC Calling Convention services for the guest, over HVC and SMC alike: PSCI 1.1 for one vCPU
// and SMCCC 1.1 discovery. Unknown functions return NOT_SUPPORTED (-1), as SMCCC requires.
#include <cv/log.h>

#include <arch/arm64.h>

#define SMCCC_VERSION 0x80000000u
#define SMCCC_ARCH_FEATURES 0x80000001u
#define SMCCC_TRNG_VERSION 0x84000050u
#define SMCCC_VENDOR_HYP_UID 0x8600ff01u
#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND_32 0x84000001u
#define PSCI_CPU_SUSPEND_64 0xc4000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON_32 0x84000003u
#define PSCI_CPU_ON_64 0xc4000003u
#define PSCI_AFFINITY_INFO_32 0x84000004u
#define PSCI_AFFINITY_INFO_64 0xc4000004u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au

#define PSCI_RET_SUCCESS 0
#define PSCI_RET_NOT_SUPPORTED (-1)
#define PSCI_RET_INVALID_PARAMS (-2)
#define PSCI_RET_DENIED (-3)
#define PSCI_TOS_NOT_PRESENT_MP 2

static int64_t psci_features(uint32_t fid)
{
    switch (fid) {
    case PSCI_VERSION:
    case PSCI_CPU_OFF:
    case PSCI_AFFINITY_INFO_32:
    case PSCI_AFFINITY_INFO_64:
    case PSCI_MIGRATE_INFO_TYPE:
    case PSCI_SYSTEM_OFF:
    case PSCI_SYSTEM_RESET:
    case PSCI_FEATURES:
    case SMCCC_VERSION:
        return PSCI_RET_SUCCESS;
    default:
        /* CPU_ON among them: a single-vCPU VM has no other CPU to start. */
        return PSCI_RET_NOT_SUPPORTED;
    }
}

void smccc_call(struct vcpu *v)
{
    struct vm *vm = v->vm;
    uint64_t *x = v->arch.regs.x;
    uint32_t fid = (uint32_t)x[0];
    int64_t ret;

    switch (fid) {
    case SMCCC_VERSION:
        ret = 0x10001; /* 1.1 */
        break;
    case SMCCC_ARCH_FEATURES:
        /* No workaround services: the boards' CPUs need none from firmware. */
        ret = ((uint32_t)x[1] == SMCCC_VERSION) ? 0 : PSCI_RET_NOT_SUPPORTED;
        break;
    case PSCI_VERSION:
        ret = 0x10001; /* 1.1 */
        break;
    case PSCI_FEATURES:
        ret = psci_features((uint32_t)x[1]);
        break;
    case PSCI_CPU_ON_32:
    case PSCI_CPU_ON_64:
    case PSCI_CPU_SUSPEND_32:
    case PSCI_CPU_SUSPEND_64:
        ret = PSCI_RET_NOT_SUPPORTED;
        break;
    case PSCI_CPU_OFF:
        ret = PSCI_RET_DENIED; /* the last CPU of a VM cannot go off; SYSTEM_OFF does that */
        break;
    case PSCI_AFFINITY_INFO_32:
    case PSCI_AFFINITY_INFO_64:
        ret = ((x[1] & 0xff00ffffffull) == 0 && x[2] == 0) ? 0 : PSCI_RET_INVALID_PARAMS;
        break;
    case PSCI_MIGRATE_INFO_TYPE:
        ret = PSCI_TOS_NOT_PRESENT_MP;
        break;
    case PSCI_SYSTEM_OFF:
        vm->power_req = VM_POWER_OFF;
        ret = PSCI_RET_SUCCESS;
        break;
    case PSCI_SYSTEM_RESET:
        vm->power_req = VM_POWER_RESET;
        ret = PSCI_RET_SUCCESS;
        break;
    case SMCCC_TRNG_VERSION:
    case SMCCC_VENDOR_HYP_UID:
        /* Discovery calls an OS makes at boot; not offering the service is a normal answer. */
        ret = PSCI_RET_NOT_SUPPORTED;
        break;
    default:
        log_guest(LOG_WARN,
                  "guest: unknown SMCCC function 0x%08x (pc=0x%llx), NOT_SUPPORTED returned", fid,
                  (unsigned long long)v->arch.regs.pc);
        ret = PSCI_RET_NOT_SUPPORTED;
        break;
    }
    x[0] = (uint64_t)ret;
}
