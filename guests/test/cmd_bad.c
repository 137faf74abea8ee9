// SPDX-License-Identifier: Apache-2.0
// Misbehaving on purpose: accesses a well-behaved OS would not make. Each prints what the guest
// received (the probe catches the exception and steps over the instruction) and carries on.

#include <string.h>

#include "guest.h"

#define UARTDR 0x000
#define GICD_CTLR 0x0000
#define BAD_FN 0x86001234ull
#define POISON 0xdeadbeefdeadbeefull

static void report(const char *what, const struct probe_result *r, bool has_value, uint64_t v)
{
    con_printf("bad: %s -> ", what);
    probe_print(r);
    if (!r->caught && has_value) {
        con_printf(" value=0x%lx", v);
    }
    con_printf("\n");
}

static void bad_ram(void)
{
    uint64_t v = POISON;
    probe_begin();
    __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(BAD_RAM_ADDR) : "memory");
    struct probe_result r = probe_end();
    report("ram read", &r, true, v);

    probe_begin();
    __asm__ volatile("str %0, [%1]" ::"r"(POISON), "r"(BAD_RAM_ADDR) : "memory");
    r = probe_end();
    report("ram write", &r, false, 0);
}

static void bad_size(void)
{
    uint64_t v = POISON;
    probe_begin();
    __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(UART_BASE + UARTDR) : "memory");
    struct probe_result r = probe_end();
    report("size uart 64-bit read", &r, true, v);

    /* Write back what is there, so a device that accepts the byte access is not disturbed. */
    uint32_t ctlr = mmio_read32(GICD_BASE + GICD_CTLR);
    probe_begin();
    __asm__ volatile("strb %w0, [%1]" ::"r"(ctlr & 0xff), "r"(GICD_BASE + GICD_CTLR) : "memory");
    r = probe_end();
    report("size gicd 8-bit write", &r, false, 0);
}

static void bad_call(bool smc)
{
    probe_begin();
    int64_t x0 = smccc_call(smc, BAD_FN, 0, 0, 0);
    struct probe_result r = probe_end();
    con_printf("bad: %s fn=0x%llx -> ", smc ? "smc" : "hvc", BAD_FN);
    if (r.caught) {
        probe_print(&r);
    } else {
        con_printf("x0=%ld", x0);
    }
    con_printf("\n");
}

#define PROBE_MRS(reg, what)                                                                       \
    do {                                                                                           \
        uint64_t v__ = POISON;                                                                     \
        probe_begin();                                                                             \
        __asm__ volatile("mrs %0, " #reg : "+r"(v__)::"memory");                                   \
        struct probe_result r__ = probe_end();                                                     \
        report(what, &r__, true, v__);                                                             \
        val = r__.caught ? 0 : v__;                                                                \
    } while (0)

static void bad_sysreg(void)
{
    uint64_t val;
    PROBE_MRS(s3_1_c15_c2_0, "sysreg s3_1_c15_c2_0 read");
    PROBE_MRS(s3_0_c15_c15_7, "sysreg s3_0_c15_c15_7 read");
    PROBE_MRS(pmcr_el0, "sysreg pmcr_el0 read");
    PROBE_MRS(pmccntr_el0, "sysreg pmccntr_el0 read");
    PROBE_MRS(mdscr_el1, "sysreg mdscr_el1 read");

    probe_begin();
    __asm__ volatile("msr mdscr_el1, %0\n\tisb" ::"r"(val) : "memory");
    struct probe_result r = probe_end();
    report("sysreg mdscr_el1 write", &r, false, 0);
}

struct bad_test {
    const char *name;
    void (*fn)(void);
};

static void bad_hvc(void)
{
    bad_call(false);
}

static void bad_smc(void)
{
    bad_call(true);
}

static const struct bad_test tests[] = {
    {"ram", bad_ram}, {"size", bad_size},     {"hvc", bad_hvc},
    {"smc", bad_smc}, {"sysreg", bad_sysreg},
};

void cmd_bad(int argc, char **argv)
{
    size_t n = sizeof(tests) / sizeof(tests[0]);
    if (argc == 2 && strcmp(argv[1], "all") == 0) {
        for (size_t i = 0; i < n; i++) {
            tests[i].fn();
            con_printf("bad: done %s\n", tests[i].name);
        }
        return;
    }
    for (size_t i = 0; argc == 2 && i < n; i++) {
        if (strcmp(argv[1], tests[i].name) == 0) {
            tests[i].fn();
            con_printf("bad: done %s\n", tests[i].name);
            return;
        }
    }
    con_printf("error: usage: bad ram|size|hvc|smc|sysreg|all\n");
}
