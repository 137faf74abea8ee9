/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bare-metal test guest: runs at EL1 on QEMU's arm64 virt machine (or the colovisor VM that
 * mimics it) and talks only to standard hardware: PL011, GICv3, the generic timer, PSCI/SMCCC.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef GUEST_RAM_MIB
#define GUEST_RAM_MIB 128
#endif

#define RAM_BASE 0x40000000ull
#define RAM_SIZE ((uint64_t)GUEST_RAM_MIB << 20)
#define PAGE_SIZE 4096ull

/* The memory workload's region; guest.ld asserts that the image ends below it. */
#define WORK_BASE 0x41000000ull
#define WORK_PAGES 4096u
#define WORK_SIZE ((uint64_t)WORK_PAGES * PAGE_SIZE)

_Static_assert(WORK_BASE + WORK_SIZE <= RAM_BASE + RAM_SIZE, "work region outside guest RAM");
_Static_assert(WORK_BASE + WORK_SIZE <= RAM_BASE + (64ull << 20), "work region above 64 MiB");

_Static_assert(GUEST_RAM_MIB % 2 == 0 && GUEST_RAM_MIB <= 4096, "RAM: 2 MiB blocks, <= 4 GiB");

/*
 * A guest-physical address nothing answers at: above RAM and not a device. 4 GiB unless RAM
 * reaches that far, then the first GiB boundary above RAM.
 */
#define GIB (1ull << 30)
#define RAM_END_GIB ((RAM_BASE + RAM_SIZE + GIB - 1) & ~(GIB - 1))
#define BAD_RAM_ADDR (RAM_END_GIB > 0x100000000ull ? RAM_END_GIB : 0x100000000ull)

#define UART_BASE 0x09000000ull
#define UART_INTID 33u
#define GICD_BASE 0x08000000ull
#define GICR_BASE 0x080a0000ull
#define TIMER_INTID 27u

#define read_sysreg(r)                                                                             \
    __extension__({                                                                                \
        uint64_t v__;                                                                              \
        __asm__ volatile("mrs %0, " #r : "=r"(v__)::"memory");                                     \
        v__;                                                                                       \
    })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((uint64_t)(v)) : "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")
#define wfi() __asm__ volatile("wfi" ::: "memory")
#define irq_mask() __asm__ volatile("msr daifset, #2" ::: "memory")
#define irq_unmask() __asm__ volatile("msr daifclr, #2" ::: "memory")

static inline uint32_t mmio_read32(uint64_t addr)
{
    uint32_t v;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
    __asm__ volatile("str %w0, [%1]" ::"rZ"(v), "r"(addr) : "memory");
}

static inline uint64_t mmio_read64(uint64_t addr)
{
    uint64_t v;
    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static inline void mmio_write64(uint64_t addr, uint64_t v)
{
    __asm__ volatile("str %0, [%1]" ::"rZ"(v), "r"(addr) : "memory");
}

/** Virtual counter, ordered after earlier instructions. */
static inline uint64_t counter_now(void)
{
    isb();
    return read_sysreg(cntvct_el0);
}

/* start.S */
extern char _text[], _end[];
void secondary_entry(void);

/* console.c: PL011 output is polled, input arrives through the RX interrupt. */
void con_init(void);
void con_putc(char c);
void con_puts(const char *s);
int con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int con_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/** Any context; -1 when no character is buffered. */
int con_getc_nowait(void);
/** Thread context; sleeps in WFI until a character arrives, serving the network meanwhile. */
int con_getc(void);
/** IRQ context. */
void con_irq(void);

/* mmu.c */
/**
 * Boot, MMU off, bss not yet cleared. Builds the tables and programs everything but SCTLR_EL1,
 * whose value it returns for start.S to switch the MMU on.
 */
uint64_t mmu_init(void);

/* gic.c */
void gic_init(void);
/** After gic_init: a level-sensitive SPI, default priority, routed to this CPU, enabled. */
void gic_enable_spi(uint32_t intid);
void gic_irq_entry(void);

/* exc.c: exception entry from start.S, and "probes" that expect one instruction to fault. */
struct exc_frame {
    uint64_t x[31];
    uint64_t sp;
    uint64_t elr;
    uint64_t spsr;
};

struct probe_result {
    bool caught;
    bool serror;
    uint64_t esr;
    uint64_t far;
};

/** Called by every vector of start.S with the saved registers and the vector index 0..15. */
void exc_entry(struct exc_frame *f, uint64_t vec);
/** The command loop finished a command: reset the runaway-exception counter. */
void exc_progress(void);
/** Arms the sync/SError vectors to record one fault and step over the faulting instruction. */
void probe_begin(void);
/** Waits for a late SError, disarms and returns what was caught. */
struct probe_result probe_end(void);
/** Prints "caught sync ec=.. esr=.. far=.." / "caught serror esr=.." / "no exception". */
void probe_print(const struct probe_result *r);

/* net.c: lwIP and the counter service, run from the console's wait loop. */
/** Boot, after gic_init with IRQs on: finds the NIC, starts lwIP; prints one line. */
void net_init(void);
/** Thread context: receives, reaps TX, runs lwIP's timers. No-op without a NIC. */
void net_poll(void);
/**
 * Thread context, IRQs masked, just before WFI: false if there is network work to do now;
 * otherwise arms the virtual timer for lwIP's next timeout and returns true.
 */
bool net_idle(void);
void cmd_net(int argc, char **argv);
void cmd_counter(int argc, char **argv);
void cmd_netstats(int argc, char **argv);
void cmd_txflood(int argc, char **argv);

/* timer / psci / misc in main.c; the rest in their own files. */
void timer_irq(void);
void cmd_mem(int argc, char **argv);
void cmd_memsum(int argc, char **argv);
void cmd_memzero(int argc, char **argv);
void cmd_bad(int argc, char **argv);

/** SMCCC call through HVC #0 (smc = false) or SMC #0. */
int64_t smccc_call(bool smc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);

/* util */
bool parse_u64(const char *s, uint64_t *out);
uint64_t ticks_to_us(uint64_t ticks, uint64_t freq);

#endif
