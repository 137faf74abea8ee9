// SPDX-License-Identifier: Apache-2.0
// The device tree the guest boots with: what an unmodified Linux needs to find its devices.
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

#include <cv/board.h>
#include <cv/vm.h>

#include <arch/arm64.h>

static uint8_t fdt[65536] __attribute__((aligned(8)));

static const fdt32_t *prop(const char *path, const char *name, int *len)
{
    int node = fdt_path_offset(fdt, path);
    assert_true(node >= 0);
    const fdt32_t *p = fdt_getprop(fdt, node, name, len);
    assert_non_null(p);
    return p;
}

static void test_guest_tree(void **state)
{
    (void)state;
    static struct vm vm;
    vm.ram.base = gpa(0x40000000);
    vm.ram.size = 128ull << 20;
    size_t n = arm64_build_guest_fdt(&vm, fdt, sizeof(fdt), "console=ttyAMA0 cv.ip=192.0.2.10/24",
                                     0x47000000, 0x47100000);
    assert_true(n > 0 && n < sizeof(fdt));
    assert_int_equal(fdt_check_header(fdt), 0);
    int len;
    assert_string_equal((const char *)prop("/", "compatible", &len), "linux,dummy-virt");
    assert_string_equal((const char *)prop("/chosen", "bootargs", &len),
                        "console=ttyAMA0 cv.ip=192.0.2.10/24");
    assert_string_equal((const char *)prop("/chosen", "stdout-path", &len), "/pl011@9000000");
    const fdt32_t *r = prop("/chosen", "linux,initrd-start", &len);
    assert_int_equal(len, 8);
    assert_int_equal(fdt32_to_cpu(r[1]), 0x47000000);
    r = prop("/memory@40000000", "reg", &len);
    assert_int_equal(len, 16);
    assert_int_equal(fdt32_to_cpu(r[1]), 0x40000000);
    assert_int_equal(fdt32_to_cpu(r[3]), 128u << 20);
    assert_string_equal((const char *)prop("/psci", "method", &len), "hvc");
    assert_string_equal((const char *)prop("/cpus/cpu@0", "enable-method", &len), "psci");
    r = prop("/intc@8000000", "reg", &len);
    assert_int_equal(len, 32);
    assert_int_equal(fdt32_to_cpu(r[5]), 0x080a0000);
    r = prop("/timer", "interrupts", &len);
    assert_int_equal(len, 48);
    assert_int_equal(fdt32_to_cpu(r[7]), 11); /* the virtual timer: PPI 11 = INTID 27 */
    r = prop("/pl011@9000000", "interrupts", &len);
    assert_int_equal(fdt32_to_cpu(r[1]), 1); /* SPI 1 = INTID 33 */
    r = prop("/virtio_mmio@a000000", "interrupts", &len);
    assert_int_equal(fdt32_to_cpu(r[1]), 16); /* SPI 16 = INTID 48 */
    /* A too-small buffer fails cleanly. */
    assert_int_equal(arm64_build_guest_fdt(&vm, fdt, 256, "x", 0, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_guest_tree)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
