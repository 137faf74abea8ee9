// SPDX-License-Identifier: Apache-2.0
#include <cv/log.h>

void arch_panic_dump(void);
NORETURN void arch_halt(void);

void panic(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    cv_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    cv_printf("\n*** colovisor panic: %s ***\n", buf);
    arch_panic_dump();
    cv_printf("*** board stopped ***\n");
    arch_halt();
}
