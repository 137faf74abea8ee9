/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the libFuzzer targets in tests/fuzz/: a reader that turns the fuzzer's bytes into
 * values (zeros once the input runs out, so every input is a valid program), a check macro that
 * aborts with a message (libFuzzer then saves the input as a crash), and seed writing.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fz {
    const uint8_t *p;
    size_t n;
};

static inline uint64_t fz_le(struct fz *f, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        if (f->n) {
            v |= (uint64_t)*f->p << (8 * i);
            f->p++;
            f->n--;
        }
    }
    return v;
}

static inline uint8_t fz_u8(struct fz *f)
{
    return (uint8_t)fz_le(f, 1);
}

static inline uint16_t fz_u16(struct fz *f)
{
    return (uint16_t)fz_le(f, 2);
}

static inline uint32_t fz_u32(struct fz *f)
{
    return (uint32_t)fz_le(f, 4);
}

static inline uint64_t fz_u64(struct fz *f)
{
    return fz_le(f, 8);
}

/* An invariant of the code under test does not hold: report and abort (libFuzzer saves it). */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/**
 * Seed corpus support. When CV_FUZZ_WRITE_SEEDS names a directory, LLVMFuzzerInitialize calls the
 * target's seed writer, which stores inputs there with fuzz_write_seed(), and the process exits
 * before fuzzing. tests/fuzz/run does this once per target so no binary seeds are committed.
 */
void fuzz_write_seed(const char *name, const void *data, size_t len);
/** The target's seed writer (defined in each fuzz_*.c). */
void fuzz_make_seeds(void);

#endif
