// SPDX-License-Identifier: Apache-2.0
// Host tests of the generic core pieces: formatter, the device buses (MMIO and port I/O),
// the guest image parser and CRC32C.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cv/bus.h>
#include <cv/image.h>
#include <cv/log.h>
#include <cv/vmstate.h>

#include "console_stub.h"

static void test_printk_formats(void **state)
{
    (void)state;
    char b[128];
    cv_snprintf(b, sizeof(b), "%d %u %x %X %5d|%-5d|%05d", -42, 42u, 0xabcu, 0xabcu, 7, 7, 7);
    assert_string_equal(b, "-42 42 abc ABC     7|7    |00007");
    cv_snprintf(b, sizeof(b), "%llx %lld %zu %s %c %%", 0x123456789abcull, -9000000000ll,
                (size_t)17, "str", 'z');
    assert_string_equal(b, "123456789abc -9000000000 17 str z %");
    const char *volatile nothing = NULL; /* hidden from -Wformat-overflow */
    cv_snprintf(b, sizeof(b), "%#x %016llx %.3s %s", 255u, 0x1ull, "abcdef", nothing);
    assert_string_equal(b, "0xff 0000000000000001 abc (null)");
    /* Truncation keeps NUL termination and reports the wanted length. */
    int n = cv_snprintf(b, 5, "%s", "0123456789");
    assert_int_equal(n, 10);
    assert_string_equal(b, "0123");
    cv_snprintf(b, sizeof(b), "%d", (int)0x80000000u);
    assert_string_equal(b, "-2147483648");
}

static uint32_t last_write;
static enum bus_result dev_read(void *ctx, struct bus_access *a)
{
    a->value = (uint64_t)(uintptr_t)ctx + a->offset;
    return a->size == 8 ? BUS_BAD_ACCESS : BUS_OK;
}
static enum bus_result dev_write(void *ctx, const struct bus_access *a)
{
    (void)ctx;
    last_write = (uint32_t)a->value;
    return BUS_OK;
}
static const struct bus_ops dev_ops = {dev_read, dev_write};

static void test_mmio_bus(void **state)
{
    (void)state;
    struct bus bus = {0};
    struct bus_dev a = {"a", 0x1000, 0x100, &dev_ops, (void *)(uintptr_t)0x100};
    struct bus_dev b = {"b", 0x2000, 0x1000, &dev_ops, (void *)(uintptr_t)0x200};
    struct bus_dev overlap = {"c", 0x10f0, 0x100, &dev_ops, NULL};
    assert_true(bus_add(&bus, &a));
    assert_true(bus_add(&bus, &b));
    assert_false(bus_add(&bus, &overlap));
    struct bus_access acc = {.addr = 0x1010, .size = 4};
    assert_int_equal(bus_dispatch(&bus, &acc), BUS_OK);
    assert_int_equal(acc.offset, 0x10);
    assert_int_equal(acc.value, 0x110);
    /* An access straddling the end of a window belongs to no device. */
    acc = (struct bus_access){.addr = 0x10fe, .size = 4};
    assert_int_equal(bus_dispatch(&bus, &acc), BUS_BAD_ACCESS);
    acc = (struct bus_access){.addr = 0x3000, .size = 4};
    assert_int_equal(bus_dispatch(&bus, &acc), BUS_BAD_ACCESS);
    acc = (struct bus_access){.addr = 0x2000, .size = 8};
    assert_int_equal(bus_dispatch(&bus, &acc), BUS_BAD_ACCESS);
    acc = (struct bus_access){.addr = 0x2004, .size = 4, .write = true, .value = 0x55};
    assert_int_equal(bus_dispatch(&bus, &acc), BUS_OK);
    assert_int_equal(last_write, 0x55);
}

/*
 * Port I/O goes through the same bus code: an 8250 and a PIT as x86 places them, a byte access
 * dispatched by port, and the answer for a port nobody claims left to the arch.
 */
static void test_pio_bus(void **state)
{
    (void)state;
    struct bus pio = {.space = BUS_PIO};
    struct bus mmio = {0};
    struct bus_dev com1 = {"com1", 0x3f8, 8, &dev_ops, (void *)(uintptr_t)0x100};
    struct bus_dev pit = {"pit", 0x40, 4, &dev_ops, (void *)(uintptr_t)0x200};
    struct bus_dev com1_again = {"com1b", 0x3fc, 8, &dev_ops, NULL};
    assert_true(bus_add(&pio, &com1));
    assert_true(bus_add(&pio, &pit));
    console_stub_clear();
    assert_false(bus_add(&pio, &com1_again));
    assert_non_null(strstr(console_stub_text(), "pio: com1b overlaps com1"));
    /* The spaces are separate: the same numbers on the MMIO bus are free. */
    assert_true(bus_add(&mmio, &com1_again));

    struct bus_access in = {.addr = 0x3fd, .size = 1}; /* LSR */
    assert_int_equal(bus_dispatch(&pio, &in), BUS_OK);
    assert_int_equal(in.offset, 5);
    assert_int_equal(in.value, 0x105);
    struct bus_access out = {.addr = 0x43, .size = 1, .write = true, .value = 0x34};
    assert_int_equal(bus_dispatch(&pio, &out), BUS_OK);
    assert_int_equal(last_write, 0x34);

    /* An unclaimed port: the bus completes nothing and says so; x86 would float it to ~0. */
    struct bus_access none = {.addr = 0x80, .size = 1, .value = 0xa5};
    assert_int_equal(bus_dispatch(&pio, &none), BUS_BAD_ACCESS);
    assert_int_equal(none.value, 0xa5);
    assert_null(bus_find(&pio, 0x80, 1));
    /* A word at the window's last port straddles its end: unclaimed too. */
    struct bus_access straddle = {.addr = 0x3ff, .size = 2};
    assert_int_equal(bus_dispatch(&pio, &straddle), BUS_BAD_ACCESS);
    assert_null(bus_find(&pio, 0x3ff, 2));
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
    uint32_t c = crc32c(0, "1234", 4);
    assert_int_equal(crc32c(c, "56789", 5), 0xe3069283u);
}

/* Builds a bundle the way tools/pack-image does. */
static size_t make_bundle(uint8_t *buf, const char *payload)
{
    struct cv_image_header h = {.version = CV_IMAGE_VERSION, .count = 1};
    memcpy(h.magic, CV_IMAGE_MAGIC, 8);
    struct cv_image_entry e = {.type = CV_IMG_KERNEL, .offset = 4096, .size = strlen(payload)};
    strcpy(e.name, "kernel");
    e.crc = crc32c(0, payload, e.size);
    uint32_t crc = crc32c(0, &h, sizeof(h));
    h.header_crc = crc32c(crc, &e, sizeof(e));
    memset(buf, 0, 8192);
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), &e, sizeof(e));
    memcpy(buf + 4096, payload, e.size);
    return 4096 + e.size;
}

static void test_image_parse(void **state)
{
    (void)state;
    static uint8_t buf[8192];
    char err[128];
    struct cv_image_info info;
    size_t len = make_bundle(buf, "hello kernel");
    assert_true(cv_image_parse(buf, len, &info, err, sizeof(err)));
    assert_non_null(info.kernel);
    assert_int_equal(info.kernel->size, 12);
    assert_null(info.initrd);

    assert_false(cv_image_parse(buf, 10, &info, err, sizeof(err)));
    assert_non_null(strstr(err, "too short"));
    assert_false(cv_image_parse(buf, len - 1, &info, err, sizeof(err)));
    assert_non_null(strstr(err, "outside"));
    buf[4096] ^= 1;
    assert_false(cv_image_parse(buf, len, &info, err, sizeof(err)));
    assert_non_null(strstr(err, "corrupt"));
    buf[4096] ^= 1;
    buf[0] = 'X';
    assert_false(cv_image_parse(buf, len, &info, err, sizeof(err)));
    assert_non_null(strstr(err, "magic"));
    buf[0] = 'C';
    buf[sizeof(struct cv_image_header) + 8] ^= 0x40; /* entry offset */
    assert_false(cv_image_parse(buf, len, &info, err, sizeof(err)));
    assert_non_null(strstr(err, "checksum"));
}

static void test_vmstate_stream(void **state)
{
    (void)state;
    uint8_t mem[16];
    struct vs_buf w, r;
    vs_init_writer(&w, mem, sizeof(mem));
    vs_put_u32(&w, 0x11223344u);
    vs_put_u64(&w, 0x5566778899aabbccull);
    assert_false(w.err);
    vs_put_u64(&w, 1); /* does not fit */
    assert_true(w.err);
    vs_init_reader(&r, mem, 12);
    assert_int_equal(vs_get_u32(&r), 0x11223344u);
    assert_int_equal(vs_get_u64(&r), 0x5566778899aabbccull);
    assert_false(r.err);
    assert_int_equal(vs_get_u8(&r), 0);
    assert_true(r.err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printk_formats), cmocka_unit_test(test_mmio_bus),
        cmocka_unit_test(test_pio_bus),        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_image_parse),    cmocka_unit_test(test_vmstate_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
