// SPDX-License-Identifier: Apache-2.0
// The hypervisor's side of the lwIP port: time, diagnostics and randomness from the hypervisor's
// own services (no libc beyond string functions).
#include <string.h>

#include <cv/log.h>
#include <cv/timer.h>

#include "lwip/sys.h"

u32_t sys_now(void)
{
    return (u32_t)(time_now_us() / 1000);
}

void lwip_port_diag(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    cv_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n') {
        line[--n] = '\0';
    }
    log_info("lwip: %s", line);
}

void lwip_port_assert(const char *msg, const char *file, int line)
{
    panic("lwip: assertion \"%s\" failed at %s:%d", msg, file, line);
}

/* xorshift64*, seeded from the counter on first use: unpredictable enough for ISNs and ports. */
uint32_t lwip_port_rand(void)
{
    static uint64_t s;
    if (s == 0) {
        s = timer_arch_ticks() ^ 0x9e3779b97f4a7c15ull;
        if (s == 0) {
            s = 1;
        }
    }
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (uint32_t)((s * 0x2545f4914f6cdd1dull) >> 32);
}
