// SPDX-License-Identifier: Apache-2.0
// Time from the generic timer's physical counter; the hypervisor's deadline timer is the EL2
// physical timer (CNTHP_*, PPI 26), which the guest cannot see or touch.
#include <cv/timer.h>

#include <arch/arm64.h>
#include <arch/sysreg.h>

static uint64_t boot_ticks;

void arm64_timer_init(void)
{
    boot_ticks = read_sysreg(cntpct_el0);
    write_sysreg(cnthp_ctl_el2, 0);
}

uint64_t timer_arch_ticks(void)
{
    isb();
    return read_sysreg(cntpct_el0);
}

uint64_t timer_arch_freq(void)
{
    return read_sysreg(cntfrq_el0);
}

void timer_arch_set_deadline(uint64_t t)
{
    if (t == 0) {
        write_sysreg(cnthp_ctl_el2, 0);
        return;
    }
    write_sysreg(cnthp_cval_el2, t);
    write_sysreg(cnthp_ctl_el2, 1); /* ENABLE, not masked */
    isb();
}

void timer_arch_ack(void)
{
    write_sysreg(cnthp_ctl_el2, 0);
}

/* The EL1 physical timer is free: the guest's accesses to it are RAZ/WI (CNTHCTL_EL2.EL1PCEN
 * clear, sysreg_emul.c), and EL2 may program it. */
void timer_arch_set_urgent(uint64_t t)
{
    if (t == 0) {
        write_sysreg(cntp_ctl_el0, 0);
        return;
    }
    write_sysreg(cntp_cval_el0, t);
    write_sysreg(cntp_ctl_el0, 1); /* ENABLE, not masked */
    isb();
}

void timer_arch_ack_urgent(void)
{
    write_sysreg(cntp_ctl_el0, 0);
}

uint64_t time_now_us(void)
{
    uint64_t t = timer_arch_ticks() - boot_ticks;
    uint64_t f = timer_arch_freq();
    return (t / f) * 1000000 + ((t % f) * 1000000) / f;
}

uint64_t time_now_ns(void)
{
    uint64_t t = timer_arch_ticks() - boot_ticks;
    uint64_t f = timer_arch_freq();
    return (t / f) * 1000000000 + ((t % f) * 1000000000) / f;
}

uint64_t timer_us_to_ticks(uint64_t us)
{
    return us * timer_arch_freq() / 1000000;
}
