// SPDX-License-Identifier: Apache-2.0
// Faults inside the hypervisor: print a decoded dump instead of hanging silently.
#include <cv/hv.h>
#include <cv/log.h>

#include <arch/arm64.h>
#include <arch/sysreg.h>

struct hyp_frame {
    uint64_t x[31];
    uint64_t sp;
};

static const char *ec_name(unsigned ec)
{
    switch (ec) {
    case 0x00:
        return "unknown/undefined instruction";
    case 0x01:
        return "WFI/WFE";
    case 0x07:
        return "FP/SIMD access";
    case 0x0e:
        return "illegal execution state";
    case 0x15:
        return "SVC";
    case 0x16:
        return "HVC";
    case 0x17:
        return "SMC";
    case 0x18:
        return "system register access";
    case 0x19:
        return "SVE access";
    case 0x21:
        return "instruction abort";
    case 0x22:
        return "PC alignment";
    case 0x25:
        return "data abort";
    case 0x26:
        return "SP alignment";
    case 0x2f:
        return "SError";
    case 0x3c:
        return "BRK";
    default:
        return "other";
    }
}

static const char *kind_name(uint64_t kind)
{
    static const char *const names[] = {"synchronous", "IRQ", "FIQ", "SError"};
    return names[kind & 3];
}

static void dump_regs(const uint64_t *x, uint64_t sp)
{
    for (unsigned i = 0; i < 31; i += 2) {
        if (i + 1 < 31) {
            cv_printf("  x%-2u %016llx  x%-2u %016llx\n", i, (unsigned long long)x[i], i + 1,
                      (unsigned long long)x[i + 1]);
        } else {
            cv_printf("  x%-2u %016llx  sp  %016llx\n", i, (unsigned long long)x[i],
                      (unsigned long long)sp);
        }
    }
}

void arm64_hyp_fault(struct hyp_frame *f, uint64_t kind)
{
    uint64_t esr = read_sysreg(esr_el2);
    uint64_t far = read_sysreg(far_el2);
    uint64_t elr = read_sysreg(elr_el2);
    uint64_t spsr = read_sysreg(spsr_el2);
    cv_printf("\n*** colovisor: %s exception at EL2 (%s) ***\n", kind_name(kind),
              (kind & 4) ? "SP_EL2" : "SP_EL0");
    cv_printf("  ESR %016llx  class 0x%02x: %s, ISS 0x%07llx\n", (unsigned long long)esr,
              ESR_EC(esr), ec_name(ESR_EC(esr)), (unsigned long long)ESR_ISS(esr));
    cv_printf("  FAR %016llx  ELR %016llx  SPSR %016llx\n", (unsigned long long)far,
              (unsigned long long)elr, (unsigned long long)spsr);
    dump_regs(f->x, f->sp);
    cv_printf("*** board stopped ***\n");
    for (;;) {
        wfi();
    }
}

void cpu_arch_panic_dump(void)
{
    uint64_t fp;
    __asm__ volatile("mov %0, x29" : "=r"(fp));
    cv_printf("  backtrace:");
    for (unsigned i = 0; i < 16 && fp && (fp & 7) == 0; i++) {
        const uint64_t *frame = (const uint64_t *)(uintptr_t)fp;
        cv_printf(" %llx", (unsigned long long)frame[1]);
        fp = frame[0];
    }
    cv_printf("\n");
}

void cpu_arch_halt(void)
{
    __asm__ volatile("msr daifset, #0xf");
    for (;;) {
        wfi();
    }
}

void system_arch_reset(void)
{
    /* PSCI SYSTEM_RESET to the firmware (QEMU implements it for SMC from EL2). */
    register uint64_t x0 __asm__("x0") = 0x84000009u;
    __asm__ volatile("smc #0" : "+r"(x0)::"x1", "x2", "x3", "memory");
    cv_printf("colovisor: firmware did not reset the board\n");
}

void system_arch_off(void)
{
    register uint64_t x0 __asm__("x0") = 0x84000008u;
    __asm__ volatile("smc #0" : "+r"(x0)::"x1", "x2", "x3", "memory");
}
