// SPDX-License-Identifier: Apache-2.0
// The memory-writing workload: dirties a chosen number of distinct pages of the work region per
// epoch, as fast as the CPU can, so a harness can measure dirty logging and checkpoint costs.

#include <string.h>

#include "guest.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* The order in which pages are picked; a partial Fisher-Yates shuffle keeps them distinct. */
static uint16_t perm[WORK_PAGES];

static inline uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static uint64_t epoch_seed(uint64_t seed, uint64_t epoch)
{
    /* splitmix64 of (seed, epoch), never 0 (a fixed point of xorshift) */
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + epoch;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return z ? z : 1;
}

static uint64_t *work_page(uint64_t idx)
{
    return (uint64_t *)(uintptr_t)(WORK_BASE + idx * PAGE_SIZE);
}

/* Returns a hash of (page index, new counter) over the pages written, in order. */
static uint64_t run_epoch(uint64_t seed, uint64_t epoch, uint32_t pages, uint32_t window)
{
    uint64_t s = epoch_seed(seed, epoch);
    uint64_t h = FNV_OFFSET;
    for (uint32_t i = 0; i < pages; i++) {
        uint32_t j = i + (uint32_t)(xorshift64(&s) % (window - i));
        uint16_t idx = perm[j];
        perm[j] = perm[i];
        perm[i] = idx;

        uint64_t *p = work_page(idx);
        uint64_t count = p[0] + 1;
        uint64_t pattern = count ^ ((uint64_t)idx << 32) ^ seed;
        p[0] = count;
        p[1] = epoch;
        p[2] = pattern;
        p[511] = ~pattern;
        h = (h ^ ((uint64_t)idx | count << 16)) * FNV_PRIME;
    }
    return h;
}

void cmd_mem(int argc, char **argv)
{
    uint64_t num[3] = {0, 0, 1};
    int nums = 0;
    bool verbose = false, flush = false;
    bool ok = true;
    uint64_t window = WORK_PAGES;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) {
            /* -w N: only the first N pages of the region, so a run's dirty set stays bounded */
            ok = ok && parse_u64(argv[++i], &window) && window >= 1 && window <= WORK_PAGES;
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "-f") == 0) {
            flush = true;
        } else if (nums < 3 && parse_u64(argv[i], &num[nums])) {
            nums++;
        } else {
            ok = false;
        }
    }
    uint64_t epochs = num[0], pages = num[1], seed = num[2];
    if (!ok || nums < 2 || pages == 0 || pages > window) {
        con_printf("error: usage: mem <epochs (0: until a key)> <pages 1..%u> [seed] [-v] [-f] "
                   "[-w window]\n",
                   WORK_PAGES);
        return;
    }

    for (uint32_t i = 0; i < WORK_PAGES; i++) {
        perm[i] = (uint16_t)i;
    }
    uint64_t freq = read_sysreg(cntfrq_el0);
    uint64_t start = counter_now();
    uint64_t e;
    for (e = 1; epochs == 0 || e <= epochs; e++) {
        uint64_t h = run_epoch(seed, e, (uint32_t)pages, (uint32_t)window);
        if (flush && e % 64 == 0) {
            /*
             * -f: invalidate the TLB every 64 epochs. QEMU resizes its software TLB only when
             * it is flushed while well used, so benchmarks use this once to warm it up the same
             * way with and without the hypervisor.
             */
            __asm__ volatile("dsb ishst; tlbi vmalle1is; dsb ish; isb" ::: "memory");
        }
        if (verbose) {
            con_printf("mem: epoch=%lu pages=%lu checksum=0x%016lx\n", e, pages, h);
        }
        if (epochs == 0 && con_getc_nowait() >= 0) {
            break;
        }
    }
    uint64_t elapsed_us = ticks_to_us(counter_now() - start, freq);
    uint64_t done = epochs ? epochs : e;
    uint64_t total = done * pages;
    con_printf("mem: done epochs=%lu pages_written=%lu rate_pages_per_s=%lu elapsed_us=%lu\n", done,
               total, elapsed_us ? total * 1000000 / elapsed_us : 0, elapsed_us);
}

void cmd_memsum(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const uint64_t *w = (const uint64_t *)(uintptr_t)WORK_BASE;
    uint64_t h = FNV_OFFSET;
    for (uint64_t i = 0; i < WORK_SIZE / 8; i++) {
        h = (h ^ w[i]) * FNV_PRIME;
    }
    con_printf("memsum: 0x%016lx\n", h);
}

void cmd_memzero(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* volatile: a plain loop becomes a call to picolibc's byte-at-a-time memset */
    volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)WORK_BASE;
    for (uint64_t i = 0; i < WORK_SIZE / 8; i++) {
        w[i] = 0;
    }
    con_printf("memzero: done pages=%u\n", WORK_PAGES);
}
