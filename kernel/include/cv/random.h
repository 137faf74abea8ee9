/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hypervisor's random generator (kernel/lib/random.c): mbedTLS's HMAC_DRBG over SHA-256
 * (NIST SP 800-90A), seeded once at boot from what the arch finds (random_arch_seed: the CPU's
 * random-number instruction, the firmware's seed), with the counter as nonce. Never lwIP's PRNG:
 * this one makes keys and nonces (colo_port_random).
 */
#ifndef CV_RANDOM_H
#define CV_RANDOM_H

#include <cv/boot.h>
#include <cv/types.h>

/** Bytes of entropy the generator needs before it gives any out: its 256-bit security strength. */
#define RANDOM_MIN_ENTROPY 32u
/** Room for the seed material (the DRBG takes at most 384 bytes in one seed). */
#define RANDOM_SEED_MAX 256u

/** Seed material as random_arch_seed() collects it. */
struct random_seed {
    uint8_t buf[RANDOM_SEED_MAX];
    size_t len;
    size_t entropy;   /**< bytes of buf that came from entropy sources (not the nonce) */
    char sources[96]; /**< their names, " + " between them, for the boot log */
};

/**
 * Appends len bytes from the entropy source named source (a short name for the boot log) to
 * seed; what does not fit is dropped. Boot, from random_arch_seed().
 */
void random_seed_add(struct random_seed *seed, const char *source, const void *data, size_t len);

/**
 * Appends len bytes that are not secret but differ from boot to boot (the counter: SP 800-90A's
 * nonce) to seed; they do not count as entropy. Boot, from random_arch_seed().
 */
void random_seed_nonce(struct random_seed *seed, const void *data, size_t len);

/**
 * Arch hook: adds the entropy the CPU and the firmware offer to seed, with random_seed_add(),
 * and erases the firmware's copy (it must not reach anyone else); then the counter, with
 * random_seed_nonce(). Boot, once, from random_init(), after board_arch_check() has validated the
 * firmware's description.
 */
void random_arch_seed(struct random_seed *seed, const struct boot_info *boot);

/**
 * Seeds the generator (a second call seeds it afresh: host tests) and logs which sources did,
 * or that none gave RANDOM_MIN_ENTROPY bytes, in which case random_bytes() refuses. Boot.
 */
void random_init(const struct boot_info *boot);

/**
 * Fills buf with len bytes from the generator; false (buf zeroed) when it was never seeded with
 * enough entropy. Hypervisor context; not from the urgent interrupt (it is not reentrant).
 */
bool random_bytes(void *buf, size_t len);

#endif
