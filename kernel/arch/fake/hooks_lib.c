// SPDX-License-Identifier: Apache-2.0
// The host-test arch's hooks for kernel/lib (CRC32C, the random generator's seed), weak like those
// in hooks.c. A file of their own so that a test that checksums pulls no VM hooks into its link.
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <cv/hash.h>
#include <cv/random.h>

#define FAKE __attribute__((weak))

FAKE crc32c_fn *crc32c_arch_impl(void)
{
    /* The host's CRC instructions are not the arm64 ones: the table, the reference, is tested. */
    return NULL;
}

FAKE void random_arch_seed(struct random_seed *seed, const struct boot_info *boot)
{
    /* The host's own generator; a fuzz target that wants repeatable bytes defines its own. */
    (void)boot;
    uint8_t buf[48];
    size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t n = getrandom(buf + got, sizeof(buf) - got, 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    if (got > 0) {
        random_seed_add(seed, "getrandom", buf, got);
    }
    memset(buf, 0, sizeof(buf));
    /* The host's clock, not fake_arch_ticks: that would pull hooks.c into every checksum test. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    random_seed_nonce(seed, &ts, sizeof(ts));
}
