// SPDX-License-Identifier: Apache-2.0
// The arm64 half of the random generator's seeding (cv/random.h): RNDR (FEAT_RNG) where
// ID_AA64ISAR0_EL1 says the CPU has it (QEMU's -cpu max; not the ZCU102's Cortex-A53), and the
// seed the firmware leaves in the board's device tree, /chosen/rng-seed and /chosen/kaslr-seed
// (QEMU's virt machine writes both and new ones at every reset; U-Boot can). The blob's copy is
// zeroed once read: the seed is the DRBG's secret, and the blob stays in RAM.
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <libfdt.h>
#pragma GCC diagnostic pop

#include <cv/log.h>
#include <cv/random.h>

#include <arch/sysreg.h>

/* 48 bytes: the generator's 32 and margin, should the firmware give nothing. */
#define RNDR_WORDS 6u
/* RNDR fails only when its source is exhausted for the moment; a few retries, then go without. */
#define RNDR_TRIES (4u * RNDR_WORDS)

static void seed_rndr(struct random_seed *seed)
{
    if (ISAR0_RNDR(read_sysreg(id_aa64isar0_el1)) == 0) {
        return;
    }
    uint64_t words[RNDR_WORDS];
    unsigned n = 0;
    for (unsigned tries = 0; n < RNDR_WORDS && tries < RNDR_TRIES; tries++) {
        if (read_rndr(&words[n])) {
            n++;
        }
    }
    if (n > 0) {
        random_seed_add(seed, "RNDR", words, n * sizeof(words[0]));
    }
    memset(words, 0, sizeof(words));
    __asm__ volatile("" ::"r"(words) : "memory"); /* keeps the memset: words is dead after it */
}

static void seed_fw(struct random_seed *seed, void *fdt, int chosen, const char *prop)
{
    int len = 0;
    /* The blob is the firmware's, handed over writable in RAM; const only in boot_info. */
    void *p = fdt_getprop_w(fdt, chosen, prop, &len);
    if (p == NULL || len <= 0) {
        return;
    }
    char name[32];
    cv_snprintf(name, sizeof(name), "firmware %s", prop);
    random_seed_add(seed, name, p, (size_t)len);
    memset(p, 0, (size_t)len);
}

void random_arch_seed(struct random_seed *seed, const struct boot_info *boot)
{
    seed_rndr(seed);
    void *fdt = boot && boot->fw.kind == BOOT_FW_FDT ? (void *)(uintptr_t)boot->fw.desc : NULL;
    int chosen = fdt ? fdt_path_offset(fdt, "/chosen") : -FDT_ERR_NOTFOUND;
    if (chosen >= 0) {
        seed_fw(seed, fdt, chosen, "rng-seed");
        seed_fw(seed, fdt, chosen, "kaslr-seed");
    }
    uint64_t now = read_sysreg(cntpct_el0);
    random_seed_nonce(seed, &now, sizeof(now));
}
