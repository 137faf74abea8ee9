// SPDX-License-Identifier: Apache-2.0
// The arm64 seeding of the random generator (kernel/arch/arm64/random_seed.c): RNDR only where
// ID_AA64ISAR0_EL1 has it and with its failures retried, the firmware's /chosen/rng-seed and
// /chosen/kaslr-seed taken from a device tree built here and zeroed in it, the counter as nonce.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <libfdt.h>
#pragma GCC diagnostic pop

#include <cv/random.h>

#include <arch/sysreg.h>

#include "fake_sysreg.h"

static uint8_t blob[4096];

/* A /chosen with bootargs and, if asked, the two seeds (bytes 0xa0.. and 0xc0..). */
static void make_dt(bool rng_seed, bool kaslr_seed)
{
    uint8_t rng[32], kaslr[8];
    for (unsigned i = 0; i < sizeof(rng); i++) {
        rng[i] = (uint8_t)(0xa0 + i);
    }
    for (unsigned i = 0; i < sizeof(kaslr); i++) {
        kaslr[i] = (uint8_t)(0xc0 + i);
    }
    assert_int_equal(fdt_create(blob, sizeof(blob)), 0);
    assert_int_equal(fdt_finish_reservemap(blob), 0);
    assert_int_equal(fdt_begin_node(blob, ""), 0);
    assert_int_equal(fdt_begin_node(blob, "chosen"), 0);
    assert_int_equal(fdt_property_string(blob, "bootargs", "cv.role=primary"), 0);
    if (rng_seed) {
        assert_int_equal(fdt_property(blob, "rng-seed", rng, sizeof(rng)), 0);
    }
    if (kaslr_seed) {
        assert_int_equal(fdt_property(blob, "kaslr-seed", kaslr, sizeof(kaslr)), 0);
    }
    assert_int_equal(fdt_end_node(blob), 0);
    assert_int_equal(fdt_end_node(blob), 0);
    assert_int_equal(fdt_finish(blob), 0);
}

static const uint8_t *prop(const char *name, int *len)
{
    return fdt_getprop(blob, fdt_path_offset(blob, "/chosen"), name, len);
}

static void seed_from(struct random_seed *s, const struct boot_info *boot)
{
    memset(s, 0, sizeof(*s));
    random_arch_seed(s, boot);
}

static void test_firmware_seeds_taken_and_zeroed(void **state)
{
    (void)state;
    fake_sysreg_reset();
    fake_sysreg_set("cntpct_el0", 0x1122334455667788ull);
    make_dt(true, true);
    struct boot_info boot = {.fw = {.kind = BOOT_FW_FDT, .desc = blob}};
    struct random_seed s;
    seed_from(&s, &boot);
    assert_int_equal(s.entropy, 40);
    assert_string_equal(s.sources, "firmware rng-seed + firmware kaslr-seed");
    /* Entropy first, in order, then the counter. */
    assert_int_equal(s.len, 48);
    assert_int_equal(s.buf[0], 0xa0);
    assert_int_equal(s.buf[31], 0xbf);
    assert_int_equal(s.buf[32], 0xc0);
    uint64_t nonce;
    memcpy(&nonce, s.buf + 40, sizeof(nonce));
    assert_int_equal(nonce, 0x1122334455667788ull);
    /* Gone from the blob, which is otherwise intact. */
    int len = 0;
    const uint8_t *p = prop("rng-seed", &len);
    assert_non_null(p);
    assert_int_equal(len, 32);
    for (int i = 0; i < len; i++) {
        assert_int_equal(p[i], 0);
    }
    p = prop("kaslr-seed", &len);
    assert_int_equal(len, 8);
    for (int i = 0; i < len; i++) {
        assert_int_equal(p[i], 0);
    }
    assert_string_equal((const char *)prop("bootargs", &len), "cv.role=primary");
    assert_int_equal(fdt_check_header(blob), 0);
}

static void test_rndr_only_where_the_cpu_has_it(void **state)
{
    (void)state;
    fake_sysreg_reset();
    make_dt(false, false);
    struct boot_info boot = {.fw = {.kind = BOOT_FW_FDT, .desc = blob}};
    struct random_seed s;
    /* A Cortex-A53: no RNDR, no firmware seed: nothing but the counter. */
    fake_sysreg_set("rndr", 100);
    seed_from(&s, &boot);
    assert_int_equal(s.entropy, 0);
    assert_string_equal(s.sources, "");
    assert_int_equal(s.len, 8);
    assert_int_equal(host_sysreg_read("rndr"), 100); /* never read */

    /* FEAT_RNG: six words, the failed reads retried. */
    fake_sysreg_set("id_aa64isar0_el1", 1ull << 60);
    fake_sysreg_set("rndr_fails", 3);
    seed_from(&s, &boot);
    assert_int_equal(s.entropy, 48);
    assert_string_equal(s.sources, "RNDR");
    for (unsigned i = 0; i < 6; i++) {
        uint64_t w;
        memcpy(&w, s.buf + 8 * i, sizeof(w));
        assert_int_equal(w, 100 + i);
    }

    /* A generator that keeps failing is given up on, and not named. */
    fake_sysreg_set("rndr_fails", 1000);
    seed_from(&s, &boot);
    assert_int_equal(s.entropy, 0);
    assert_string_equal(s.sources, "");
}

static void test_rndr_and_firmware_together(void **state)
{
    (void)state;
    fake_sysreg_reset();
    fake_sysreg_set("id_aa64isar0_el1", 1ull << 60);
    make_dt(true, false);
    struct boot_info boot = {.fw = {.kind = BOOT_FW_FDT, .desc = blob}};
    struct random_seed s;
    seed_from(&s, &boot);
    assert_int_equal(s.entropy, 48 + 32);
    assert_string_equal(s.sources, "RNDR + firmware rng-seed");
    /* No firmware description at all. */
    seed_from(&s, NULL);
    assert_string_equal(s.sources, "RNDR");
    struct boot_info none = {.fw = {.kind = BOOT_FW_NONE}};
    seed_from(&s, &none);
    assert_string_equal(s.sources, "RNDR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firmware_seeds_taken_and_zeroed),
        cmocka_unit_test(test_rndr_only_where_the_cpu_has_it),
        cmocka_unit_test(test_rndr_and_firmware_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
