// SPDX-License-Identifier: Apache-2.0
// panic(): the last words of a board that cannot go on safely.
#include <cv/hv.h>
#include <cv/log.h>

void panic(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    cv_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    cv_printf("\n*** colovisor panic: %s ***\n", buf);
    cpu_arch_panic_dump();
    cv_printf("*** board stopped ***\n");
    cpu_arch_halt();
}
