// SPDX-License-Identifier: Apache-2.0
// Test guest: boot, console command loop, and the simple commands (hello, info, timer, psci,
// poweroff, reset). Every command prints lines of the form "<command>: key=value ..." that a
// test harness can parse; see README.md.

#include <string.h>

#include "guest.h"

#define LINE_MAX 128
#define ARGS_MAX 8

#define PSCI_VERSION 0x84000000ull
#define PSCI_CPU_ON 0xc4000003ull
#define PSCI_SYSTEM_OFF 0x84000008ull
#define PSCI_SYSTEM_RESET 0x84000009ull
#define PSCI_FEATURES 0x8400000aull
#define SMCCC_VERSION 0x80000000ull
#define SMCCC_ARCH_FEATURES 0x80000001ull

#define CNTV_CTL_ENABLE 1ull

void guest_main(uint64_t dtb);

static uint64_t boot_dtb;

bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') {
            d = (unsigned)(*s - '0');
        } else if (base == 16 && *s >= 'a' && *s <= 'f') {
            d = (unsigned)(*s - 'a' + 10);
        } else if (base == 16 && *s >= 'A' && *s <= 'F') {
            d = (unsigned)(*s - 'A' + 10);
        } else {
            return false;
        }
        if (v > (UINT64_MAX - d) / base) {
            return false;
        }
        v = v * base + d;
    }
    *out = v;
    return true;
}

uint64_t ticks_to_us(uint64_t ticks, uint64_t freq)
{
    return ticks / freq * 1000000 + ticks % freq * 1000000 / freq;
}

int64_t smccc_call(bool smc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t x0 __asm__("x0") = fn;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;
    /* SMCCC 1.0 allows x4..x17 to be clobbered; assume the oldest convention. */
    if (smc) {
        __asm__ volatile("smc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                         :
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                           "x15", "x16", "x17", "memory");
    } else {
        __asm__ volatile("hvc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                         :
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                           "x15", "x16", "x17", "memory");
    }
    return (int64_t)x0;
}

/* ---- timer ---- */

static volatile bool timer_active;
static volatile uint64_t timer_ticks;
static volatile uint64_t timer_next;
static volatile uint64_t timer_max_late;
static uint64_t timer_period;

void timer_irq(void)
{
    if (!timer_active) {
        write_sysreg(cntv_ctl_el0, 0);
        isb();
        return;
    }
    uint64_t now = counter_now();
    if (now - timer_next > timer_max_late && now >= timer_next) {
        timer_max_late = now - timer_next;
    }
    timer_ticks++;
    /* Absolute deadlines: the rate does not drift with the interrupt latency. */
    timer_next += timer_period;
    write_sysreg(cntv_cval_el0, timer_next);
    isb();
}

static void cmd_timer(int argc, char **argv)
{
    uint64_t hz, secs;
    if (argc != 3 || !parse_u64(argv[1], &hz) || !parse_u64(argv[2], &secs) || hz == 0 ||
        hz > 100000 || secs == 0 || secs > 3600) {
        con_printf("error: usage: timer <hz 1..100000> <seconds 1..3600>\n");
        return;
    }
    uint64_t freq = read_sysreg(cntfrq_el0);
    timer_period = freq / hz;
    if (timer_period == 0) {
        con_printf("error: timer: %lu Hz is above the counter frequency\n", hz);
        return;
    }
    timer_ticks = 0;
    timer_max_late = 0;

    irq_mask();
    uint64_t start = counter_now();
    uint64_t end = start + secs * freq;
    /* First deadline through TVAL, read back as CVAL: exercises both views of the comparator. */
    write_sysreg(cntv_tval_el0, timer_period);
    isb();
    timer_next = read_sysreg(cntv_cval_el0);
    timer_active = true;
    write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
    isb();

    uint64_t now;
    for (;;) {
        now = counter_now();
        if (now >= end) {
            break;
        }
        wfi();
        irq_unmask();
        isb();
        irq_mask();
    }
    timer_active = false;
    write_sysreg(cntv_ctl_el0, 0);
    isb();
    irq_unmask();

    uint64_t elapsed = now - start;
    con_printf("timer: hz=%lu ticks=%lu expected=%lu elapsed_ms=%lu max_late_us=%lu\n", hz,
               timer_ticks, hz * secs, ticks_to_us(elapsed, freq) / 1000,
               ticks_to_us(timer_max_late, freq));
}

/* ---- psci ---- */

static void psci_field(const char *name, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3,
                       bool hex)
{
    probe_begin();
    int64_t r = smccc_call(false, fn, a1, a2, a3);
    struct probe_result p = probe_end();
    if (p.caught) {
        con_printf(" %s=trap(ec=0x%lx)", name, (p.esr >> 26) & 0x3f);
    } else if (hex) {
        con_printf(" %s=0x%lx", name, (uint64_t)r);
    } else {
        con_printf(" %s=%ld", name, r);
    }
}

static void cmd_psci(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("psci:");
    psci_field("version", PSCI_VERSION, 0, 0, 0, true);
    psci_field("features_cpu_on", PSCI_FEATURES, PSCI_CPU_ON, 0, 0, false);
    psci_field("features_system_off", PSCI_FEATURES, PSCI_SYSTEM_OFF, 0, 0, false);
    psci_field("smccc_version", SMCCC_VERSION, 0, 0, 0, false);
    psci_field("arch_features", SMCCC_ARCH_FEATURES, 0x80007fff, 0, 0, false);
    psci_field("cpu_on", PSCI_CPU_ON, 1, (uint64_t)(uintptr_t)secondary_entry, 0, false);
    con_printf("\n");
}

static void cmd_poweroff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("poweroff: calling SYSTEM_OFF\n");
    int64_t r = smccc_call(false, PSCI_SYSTEM_OFF, 0, 0, 0);
    con_printf("poweroff: failed ret=%ld\n", r);
}

static void cmd_reset(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("reset: calling SYSTEM_RESET\n");
    int64_t r = smccc_call(false, PSCI_SYSTEM_RESET, 0, 0, 0);
    con_printf("reset: failed ret=%ld\n", r);
}

/* ---- exit round trip ---- */

/* `hvc <n>`: n SMCCC_VERSION calls back to back; the cost of one guest exit and return. */
static void cmd_hvc(int argc, char **argv)
{
    uint64_t n;
    if (argc != 2 || !parse_u64(argv[1], &n) || n == 0 || n > 100000000) {
        con_printf("error: usage: hvc <count 1..100000000>\n");
        return;
    }
    uint64_t freq = read_sysreg(cntfrq_el0);
    uint64_t start = counter_now();
    for (uint64_t i = 0; i < n; i++) {
        (void)smccc_call(false, 0x80000000u, 0, 0, 0);
    }
    uint64_t us = ticks_to_us(counter_now() - start, freq);
    con_printf("hvc: n=%lu total_us=%lu per_call_ns=%lu\n", n, us, us * 1000 / n);
}

/* ---- misc ---- */

static void cmd_hello(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("hello from guest\n");
}

static void cmd_crash(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Outside any probe: the vector reports it as unexpected and steps over it. */
    __asm__ volatile("brk #0x123" ::: "memory");
    con_printf("crash: survived\n");
}

static void cmd_info(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("info: el=%lu midr=0x%lx mpidr=0x%lx cntfrq=%lu sctlr=0x%lx ram_mib=%u "
               "work_base=0x%llx work_pages=%u bad_ram=0x%llx dtb=0x%lx\n",
               (read_sysreg(CurrentEL) >> 2) & 3, read_sysreg(midr_el1), read_sysreg(mpidr_el1),
               read_sysreg(cntfrq_el0), read_sysreg(sctlr_el1), GUEST_RAM_MIB, WORK_BASE,
               WORK_PAGES, BAD_RAM_ADDR, boot_dtb);
}

static void cmd_help(int argc, char **argv);

struct command {
    const char *name;
    void (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"help", cmd_help, "list commands"},
    {"hello", cmd_hello, "print a greeting"},
    {"info", cmd_info, "EL, ids, counter frequency, memory layout"},
    {"timer", cmd_timer, "<hz> <seconds>: count virtual timer interrupts"},
    {"hvc", cmd_hvc, "<n>: n HVC round trips (SMCCC_VERSION), timed"},
    {"psci", cmd_psci, "query PSCI/SMCCC versions and features, try CPU_ON"},
    {"poweroff", cmd_poweroff, "PSCI SYSTEM_OFF"},
    {"reset", cmd_reset, "PSCI SYSTEM_RESET"},
    {"mem", cmd_mem,
     "<epochs> <pages> [seed] [-v] [-w window]: page-writing workload (epochs 0: until key)"},
    {"memsum", cmd_memsum, "checksum of the whole work region"},
    {"memzero", cmd_memzero, "zero the work region"},
    {"crash", cmd_crash, "take an exception the guest does not expect (BRK)"},
    {"bad", cmd_bad, "ram|size|hvc|smc|sysreg|all: misbehave and report what was caught"},
    {"net", cmd_net, "NIC, address, link, frame counts, counter service state"},
    {"counter", cmd_counter, "the counter service's next value"},
    {"netstats", cmd_netstats, "NIC byte, error and drop counts, interrupts taken"},
    {"txflood", cmd_txflood, "[frames]: send that many more 1514-byte frames, ring kept full"},
};

static void cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        con_printf("help: %-9s %s\n", commands[i].name, commands[i].help);
    }
}

/* Reads a line with echo and backspace; CR, LF and CR LF all end it. */
static void read_line(char *buf, size_t size)
{
    static bool last_cr;
    size_t len = 0;
    for (;;) {
        int c = con_getc();
        if (c == '\n' && last_cr) {
            last_cr = false;
            continue;
        }
        last_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            con_putc('\n');
            buf[len] = 0;
            return;
        }
        if (c == 0x7f || c == 0x08) {
            if (len) {
                len--;
                con_puts("\b \b");
            }
            continue;
        }
        if (c < 0x20 || c > 0x7e || len + 1 >= size) {
            continue;
        }
        buf[len++] = (char)c;
        con_putc((char)c);
    }
}

static int split(char *line, char **argv)
{
    int argc = 0;
    while (*line) {
        while (*line == ' ' || *line == '\t') {
            *line++ = 0;
        }
        if (!*line) {
            break;
        }
        if (argc == ARGS_MAX) {
            return -1;
        }
        argv[argc++] = line;
        while (*line && *line != ' ' && *line != '\t') {
            line++;
        }
    }
    return argc;
}

void guest_main(uint64_t dtb)
{
    boot_dtb = dtb;
    con_init();
    con_printf("\ntestguest: booted at EL%lu\n", (read_sysreg(CurrentEL) >> 2) & 3);
    gic_init();
    write_sysreg(cntv_ctl_el0, 0);
    __asm__ volatile("msr daifclr, #4" ::: "memory"); /* SErrors: report, do not hold */
    irq_unmask();
    net_init();
    con_printf("testguest: ready\n");

    static char line[LINE_MAX];
    char *argv[ARGS_MAX];
    for (;;) {
        con_puts("guest> ");
        read_line(line, sizeof(line));
        int argc = split(line, argv);
        if (argc == 0) {
            continue;
        }
        size_t i;
        for (i = 0; argc > 0 && i < sizeof(commands) / sizeof(commands[0]); i++) {
            if (strcmp(argv[0], commands[i].name) == 0) {
                commands[i].fn(argc, argv);
                break;
            }
        }
        if (argc < 0) {
            con_printf("error: too many arguments\n");
        } else if (i == sizeof(commands) / sizeof(commands[0])) {
            con_printf("error: unknown command\n");
        }
        exc_progress();
    }
}
