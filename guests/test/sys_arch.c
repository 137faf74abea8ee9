// SPDX-License-Identifier: Apache-2.0
// The test guest's side of the lwIP port (lwip-port/include/arch/cc.h): time from the virtual
// counter, diagnostics on the console, randomness from a xorshift. lwIP runs NO_SYS in thread
// context only, so nothing here needs protection against interrupts.

#include "guest.h"
#include "lwip/sys.h"

u32_t sys_now(void)
{
    /* Milliseconds of CNTVCT, wrapping at 2^32 as lwIP expects. */
    uint64_t freq = read_sysreg(cntfrq_el0);
    uint64_t t = counter_now();
    return (u32_t)(t / freq * 1000 + t % freq * 1000 / freq);
}

void lwip_port_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    con_printf("testguest: lwip: ");
    con_vprintf(fmt, ap);
    va_end(ap);
}

void lwip_port_assert(const char *msg, const char *file, int line)
{
    con_printf("testguest: lwip assertion failed: %s at %s:%d\n", msg, file, line);
    for (;;) {
        irq_mask();
        wfi();
    }
}

/* xorshift64 (13, 7, 17), seeded from the counter on first use: for ISNs, ports, IP ids. */
uint32_t lwip_port_rand(void)
{
    static uint64_t s;
    if (s == 0) {
        s = counter_now() ^ 0x9e3779b97f4a7c15ull;
        if (s == 0) {
            s = 1;
        }
    }
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (uint32_t)(s >> 32);
}
