// SPDX-License-Identifier: Apache-2.0
// Exception handling. IRQs go to the GIC; synchronous exceptions and SErrors are either expected
// by a probe (the "bad" commands), which records them and steps over the faulting instruction,
// or unexpected, which are reported and stepped over too so the guest keeps its console.

#include "guest.h"

#define EC_SERROR 0x2fu
#define UNEXPECTED_LIMIT 32u

static volatile bool probe_armed;
static volatile struct probe_result probe_res;
static unsigned unexpected_streak;

static const char *const vector_names[16] = {
    "sync-sp0", "irq-sp0", "fiq-sp0", "serror-sp0", "sync",     "irq",     "fiq",     "serror",
    "sync-a64", "irq-a64", "fiq-a64", "serror-a64", "sync-a32", "irq-a32", "fiq-a32", "serror-a32",
};

/* FAR_EL1 is UNKNOWN except for aborts, PC alignment faults and watchpoints. */
static bool far_valid(uint64_t ec)
{
    return (ec >= 0x20 && ec <= 0x25) || ec == 0x34 || ec == 0x35;
}

static void record(bool serror, uint64_t esr, uint64_t far)
{
    if (!probe_res.caught) {
        probe_res.caught = true;
        probe_res.serror = serror;
        probe_res.esr = esr;
        probe_res.far = far;
    }
}

static void unexpected(struct exc_frame *f, uint64_t vec, uint64_t esr, uint64_t far)
{
    uint64_t ec = (esr >> 26) & 0x3f;
    con_printf("testguest: unexpected exception ec=0x%lx esr=0x%lx", ec, esr);
    if (far_valid(ec) && !(vec & 2)) {
        con_printf(" far=0x%lx", far);
    }
    con_printf(" elr=0x%lx vector=%s\n", f->elr, vector_names[vec & 15]);
    if (++unexpected_streak >= UNEXPECTED_LIMIT) {
        con_printf("testguest: too many unexpected exceptions, halting\n");
        for (;;) {
            __asm__ volatile("msr daifset, #0xf" ::: "memory");
            wfi();
        }
    }
}

void exc_entry(struct exc_frame *f, uint64_t vec)
{
    switch (vec & 3) {
    case 1: /* IRQ */
        if (vec == 5) {
            gic_irq_entry();
            return;
        }
        break;
    case 0: /* synchronous */
        if (vec == 4 || vec == 0) {
            uint64_t esr = read_sysreg(esr_el1);
            uint64_t far = read_sysreg(far_el1);
            if (probe_armed) {
                record(false, esr, far);
            } else {
                unexpected(f, vec, esr, far);
            }
            f->elr += 4; /* A64 only: every instruction is 4 bytes */
            return;
        }
        break;
    case 3: /* SError: asynchronous, nothing to step over */
        if (vec == 7 || vec == 3) {
            uint64_t esr = read_sysreg(esr_el1);
            if (probe_armed) {
                record(true, esr, 0);
            } else {
                unexpected(f, vec, esr, 0);
            }
            return;
        }
        break;
    default:
        break;
    }
    unexpected(f, vec, read_sysreg(esr_el1), read_sysreg(far_el1));
}

void exc_progress(void)
{
    unexpected_streak = 0;
}

void probe_begin(void)
{
    probe_res.caught = false;
    probe_res.serror = false;
    probe_res.esr = 0;
    probe_res.far = 0;
    dsb(sy);
    probe_armed = true;
    isb();
}

struct probe_result probe_end(void)
{
    /* An external abort may come back as an SError: let it arrive while we still expect it. */
    dsb(sy);
    isb();
    for (int i = 0; i < 1000; i++) {
        __asm__ volatile("nop");
    }
    isb();
    probe_armed = false;
    struct probe_result r = {
        .caught = probe_res.caught,
        .serror = probe_res.serror,
        .esr = probe_res.esr,
        .far = probe_res.far,
    };
    return r;
}

void probe_print(const struct probe_result *r)
{
    if (!r->caught) {
        con_printf("no exception");
    } else if (r->serror) {
        con_printf("caught serror ec=0x%x esr=0x%lx", EC_SERROR, r->esr);
    } else {
        uint64_t ec = (r->esr >> 26) & 0x3f;
        con_printf("caught sync ec=0x%lx esr=0x%lx", ec, r->esr);
        if (far_valid(ec)) {
            con_printf(" far=0x%lx", r->far);
        }
    }
}
