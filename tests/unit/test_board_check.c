// SPDX-License-Identifier: Apache-2.0
// board_arch_check() against device trees built here with libfdt's sequential-write API, shaped
// like the one QEMU's virt machine generates, then broken one property at a time.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <libfdt.h>
#pragma GCC diagnostic pop

#include <cv/board.h>

#include "host_console.h"

/* The qemu-virt-arm64 board's host-side values (boards/qemu-virt-arm64/board.c). */
static const struct board board = {
    .name = "qemu-virt-arm64",
    .ram = {.base = {0x40000000}, .size = 512ull << 20},
    .arch = {.dt_compatible = "linux,dummy-virt",
             .uart = {.base = {0x09000000}, .size = 0x1000, .irq = 33},
             .gic = {.dist = {0x08000000},
                     .dist_size = 0x10000,
                     .redist = {0x080a0000},
                     .redist_size = 0x20000},
             .virtio = {.base = {0x0a000000}, .stride = 0x200, .count = 32, .first_irq = 48}},
};

struct tree {
    const char *compat; /* root compatible (one string) */
    int ac, sc;         /* root #address-cells / #size-cells */
    bool soc;           /* devices under /soc with 1/1 cells */
    bool memory;
    uint64_t mem_base, mem_size;
    bool uart;
    uint64_t uart_base, uart_size;
    uint32_t uart_spi;
    const char *gic_compat;
    uint64_t gicd, gicd_size, gicr, gicr_size;
    int virtio_count;
    uint64_t virtio_base;
    const char *bootargs; /* /chosen/bootargs; none if NULL */
    bool bootargs_unterminated;
};

static struct tree qemu_virt(void)
{
    return (struct tree){
        .compat = "linux,dummy-virt",
        .ac = 2,
        .sc = 2,
        .memory = true,
        .mem_base = 0x40000000,
        .mem_size = 1ull << 30,
        .uart = true,
        .uart_base = 0x09000000,
        .uart_size = 0x1000,
        .uart_spi = 1,
        .gic_compat = "arm,gic-v3",
        .gicd = 0x08000000,
        .gicd_size = 0x10000,
        .gicr = 0x080a0000,
        .gicr_size = 0xf60000,
        .virtio_count = 32,
        .virtio_base = 0x0a000000,
    };
}

static uint8_t blob[65536];

static void cells(uint8_t *p, size_t *n, uint64_t v, int count)
{
    for (int i = count - 1; i >= 0; i--) {
        fdt32_t c = cpu_to_fdt32((uint32_t)(v >> (32 * i)));
        memcpy(p + *n, &c, 4);
        *n += 4;
    }
}

/* reg with up to two (base, size) entries */
static void prop_reg(int ac, int sc, uint64_t b0, uint64_t s0, int n, uint64_t b1, uint64_t s1)
{
    uint8_t buf[64];
    size_t len = 0;
    cells(buf, &len, b0, ac);
    cells(buf, &len, s0, sc);
    if (n > 1) {
        cells(buf, &len, b1, ac);
        cells(buf, &len, s1, sc);
    }
    assert_int_equal(fdt_property(blob, "reg", buf, (int)len), 0);
}

static void node_name(char *buf, size_t n, const char *base, uint64_t addr)
{
    snprintf(buf, n, "%s@%llx", base, (unsigned long long)addr);
}

static void begin(const char *name)
{
    assert_int_equal(fdt_begin_node(blob, name), 0);
}

static void end(void)
{
    assert_int_equal(fdt_end_node(blob), 0);
}

static const void *build(const struct tree *t)
{
    char name[64];
    assert_int_equal(fdt_create(blob, sizeof(blob)), 0);
    assert_int_equal(fdt_finish_reservemap(blob), 0);
    begin("");
    fdt_property_cell(blob, "#address-cells", (uint32_t)t->ac);
    fdt_property_cell(blob, "#size-cells", (uint32_t)t->sc);
    fdt_property_cell(blob, "interrupt-parent", 0x8002);
    if (t->compat) {
        fdt_property_string(blob, "compatible", t->compat);
    }
    if (t->memory) {
        node_name(name, sizeof(name), "memory", t->mem_base);
        begin(name);
        fdt_property_string(blob, "device_type", "memory");
        prop_reg(t->ac, t->sc, t->mem_base, t->mem_size, 1, 0, 0);
        end();
    }
    int dac = t->ac, dsc = t->sc;
    if (t->soc) {
        begin("soc");
        fdt_property_string(blob, "compatible", "simple-bus");
        fdt_property_cell(blob, "#address-cells", 1);
        fdt_property_cell(blob, "#size-cells", 1);
        fdt_property(blob, "ranges", NULL, 0);
        dac = dsc = 1;
    }
    if (t->uart) {
        node_name(name, sizeof(name), "pl011", t->uart_base);
        begin(name);
        static const char compat[] = "arm,pl011\0arm,primecell";
        fdt_property(blob, "compatible", compat, sizeof(compat));
        prop_reg(dac, dsc, t->uart_base, t->uart_size, 1, 0, 0);
        uint8_t irq[12]; /* SPI uart_spi, level high */
        size_t n = 0;
        cells(irq, &n, 0, 1);
        cells(irq, &n, t->uart_spi, 1);
        cells(irq, &n, 4, 1);
        fdt_property(blob, "interrupts", irq, (int)n);
        end();
    }
    if (t->gic_compat) {
        node_name(name, sizeof(name), "intc", t->gicd);
        begin(name);
        fdt_property_string(blob, "compatible", t->gic_compat);
        fdt_property_cell(blob, "#interrupt-cells", 3);
        fdt_property(blob, "interrupt-controller", NULL, 0);
        prop_reg(dac, dsc, t->gicd, t->gicd_size, 2, t->gicr, t->gicr_size);
        fdt_property_cell(blob, "phandle", 0x8002);
        end();
    }
    for (int i = t->virtio_count - 1; i >= 0; i--) {
        uint64_t b = t->virtio_base + 0x200ull * (uint64_t)i;
        node_name(name, sizeof(name), "virtio_mmio", b);
        begin(name);
        fdt_property_string(blob, "compatible", "virtio,mmio");
        prop_reg(dac, dsc, b, 0x200, 1, 0, 0);
        end();
    }
    if (t->soc) {
        end();
    }
    if (t->bootargs) {
        begin("chosen");
        size_t n = strlen(t->bootargs) + (t->bootargs_unterminated ? 0 : 1);
        fdt_property(blob, "bootargs", t->bootargs, (int)n);
        end();
    }
    end();
    assert_int_equal(fdt_finish(blob), 0);
    return blob;
}

static const char summary[] =
    "board: qemu-virt-arm64 does not match this machine; refusing to start";

static struct boot_info boot;

/* The check fills boot in only when it passes. */
static bool check_blob(const void *fdt, uint64_t *ram)
{
    boot = (struct boot_info){.fw = {.kind = BOOT_FW_FDT, .desc = fdt}};
    bool ok = board_arch_check(&board, &boot);
    if (!ok) {
        assert_int_equal(boot.ram.size, 0);
        assert_null(boot.cmdline);
    } else if (ram) {
        *ram = boot.ram.size;
    }
    return ok;
}

static bool check(const struct tree *t, uint64_t *ram)
{
    host_console_clear();
    return check_blob(build(t), ram);
}

static void expect_fail(const struct tree *t, const char *msg)
{
    uint64_t ram = 0x1234;
    assert_false(check(t, &ram));
    if (!strstr(host_console_text(), msg)) {
        fail_msg("expected \"%s\" in:\n%s", msg, host_console_text());
    }
    assert_int_equal(host_console_count(summary), 1);
}

static void test_matching_tree_passes(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    uint64_t ram = 0;
    assert_true(check(&t, &ram));
    assert_int_equal(ram, 1ull << 30);
    assert_int_equal(host_console_count("E: "), 0);
    assert_int_equal(host_console_count("W: "), 0);
    assert_int_equal(hpa_raw(boot.ram.base), 0x40000000);
    assert_null(boot.cmdline);
    /* the blob is only read: checking it again passes */
    host_console_clear();
    assert_true(check_blob(blob, NULL));
}

static void test_cells_are_honoured(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    t.ac = 1;
    t.sc = 1;
    uint64_t ram = 0;
    assert_true(check(&t, &ram));
    assert_int_equal(ram, 1ull << 30);
    /* devices under a bus with cells different from the root's */
    t = qemu_virt();
    t.soc = true;
    assert_true(check(&t, &ram));
    t.uart_base = 0x09001000;
    expect_fail(&t, "board: device tree says the UART is at 0x9001000, board qemu-virt-arm64 "
                    "expects 0x9000000");
}

static void test_wrong_compatible(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    t.compat = "acme,board";
    expect_fail(&t, "board: device tree root is compatible with \"acme,board\", board "
                    "qemu-virt-arm64 expects \"linux,dummy-virt\"");
    t.compat = NULL;
    expect_fail(&t, "board: device tree root has no compatible");
}

static void test_memory(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    t.memory = false;
    expect_fail(&t, "board: device tree has no memory node, board qemu-virt-arm64 expects RAM at "
                    "0x40000000");
    t = qemu_virt();
    t.mem_size = 256ull << 20;
    expect_fail(&t, "board: device tree says RAM at 0x40000000 is 0x10000000 bytes (256 MiB), "
                    "board qemu-virt-arm64 needs at least 0x20000000 (512 MiB)");
    t = qemu_virt();
    t.mem_base = 0x80000000;
    expect_fail(&t, "board: device tree says RAM is at 0x80000000, board qemu-virt-arm64 expects "
                    "0x40000000");
    /* exactly the minimum is enough */
    t = qemu_virt();
    t.mem_size = 512ull << 20;
    uint64_t ram = 0;
    assert_true(check(&t, &ram));
    assert_int_equal(ram, 512ull << 20);
    /* above 4 GiB, needing both address cells */
    t = qemu_virt();
    t.mem_size = 5ull << 30;
    assert_true(check(&t, &ram));
    assert_int_equal(ram, 5ull << 30);
}

static void test_uart(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    t.uart_base = 0x09001000;
    expect_fail(&t, "board: device tree says the UART is at 0x9001000, board qemu-virt-arm64 "
                    "expects 0x9000000");
    t = qemu_virt();
    t.uart = false;
    expect_fail(&t, "board: device tree has no arm,pl011 UART, board qemu-virt-arm64 expects one "
                    "at 0x9000000");
    t = qemu_virt();
    t.uart_size = 0x2000;
    expect_fail(&t, "board: device tree says the UART window is 0x2000 bytes, board "
                    "qemu-virt-arm64 expects 0x1000");
    t = qemu_virt();
    t.uart_spi = 2;
    expect_fail(&t, "board: device tree says the UART interrupt is 34, board qemu-virt-arm64 "
                    "expects 33");
}

static void test_gic(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    t.gic_compat = "arm,cortex-a15-gic";
    t.gicr = 0x08010000;
    expect_fail(&t, "board: device tree has a GICv2 (arm,cortex-a15-gic), board qemu-virt-arm64 "
                    "needs a GICv3 (arm,gic-v3)");
    t = qemu_virt();
    t.gic_compat = NULL;
    expect_fail(&t, "board: device tree has no arm,gic-v3 interrupt controller");
    t = qemu_virt();
    t.gicd = 0x2f000000;
    expect_fail(&t, "board: device tree says the GIC distributor is at 0x2f000000, board "
                    "qemu-virt-arm64 expects 0x8000000");
    t = qemu_virt();
    t.gicr = 0x2f100000;
    expect_fail(&t, "board: device tree says the GIC redistributor region is at 0x2f100000, board "
                    "qemu-virt-arm64 expects 0x80a0000");
    t = qemu_virt();
    t.gicr_size = 0x10000;
    expect_fail(&t, "board: device tree says the GIC redistributor region is 0x10000 bytes, "
                    "board qemu-virt-arm64 needs at least 0x20000");
}

static void test_virtio(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    t.virtio_count = 0;
    expect_fail(&t, "board: device tree has no virtio,mmio transports");
    t = qemu_virt();
    t.virtio_base = 0x0b000000;
    expect_fail(&t, "board: device tree has 32 virtio,mmio transports but none at 0xa000000");
    t = qemu_virt();
    t.virtio_count = 4;
    assert_true(check(&t, NULL));
    assert_non_null(strstr(host_console_text(), "W: board: device tree has 4 virtio,mmio "
                                                "transports, board qemu-virt-arm64 describes 32"));
}

static void test_every_mismatch_reported(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    t.compat = "acme,board";
    t.uart_base = 0x1c090000;
    t.gicd = 0x2f000000;
    assert_false(check(&t, NULL));
    assert_int_equal(host_console_count("E: board: "), 4);
}

static void test_bootargs(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    t.bootargs = "cv.board=b console=x";
    assert_true(check(&t, NULL));
    assert_string_equal(boot.cmdline, "cv.board=b console=x");
    assert_int_equal(host_console_count("W: "), 0);
    /* not NUL-terminated inside the property: the board matches, the configuration defaults */
    t.bootargs_unterminated = true;
    assert_true(check(&t, NULL));
    assert_null(boot.cmdline);
    assert_non_null(strstr(host_console_text(),
                           "config: /chosen/bootargs is not a string; using the defaults"));
    /* a board that does not match: no command line, and no word about it */
    t.compat = "acme,other";
    assert_false(check(&t, NULL));
    assert_int_equal(host_console_count("W: "), 0);
}

static void test_corrupt_blobs(void **state)
{
    (void)state;
    struct tree t = qemu_virt();
    build(&t);
    uint64_t ram = 77;

    uint8_t copy[sizeof(blob)];
    memcpy(copy, blob, fdt_totalsize(blob));
    copy[0] ^= 0xff;
    host_console_clear();
    assert_false(check_blob(copy, &ram));
    assert_non_null(strstr(host_console_text(), "invalid (FDT_ERR_BADMAGIC)"));
    assert_int_equal(host_console_count(summary), 1);

    /* truncated: the header claims less than its blocks need */
    memcpy(copy, blob, fdt_totalsize(blob));
    fdt_set_totalsize(copy, fdt_off_dt_strings(blob) + 4);
    host_console_clear();
    assert_false(check_blob(copy, &ram));
    assert_non_null(strstr(host_console_text(), "invalid (FDT_ERR_TRUNCATED)"));

    /* a structure block cut short */
    memcpy(copy, blob, fdt_totalsize(blob));
    fdt_set_size_dt_struct(copy, 16);
    host_console_clear();
    assert_false(check_blob(copy, &ram));
    assert_int_equal(host_console_count(summary), 1);

    /* absurd size */
    memcpy(copy, blob, fdt_totalsize(blob));
    fdt_set_totalsize(copy, 0x7fffffff);
    fdt_set_off_dt_strings(copy, 0x7ffff000);
    host_console_clear();
    assert_false(check_blob(copy, &ram));
    assert_int_equal(host_console_count(summary), 1);

    host_console_clear();
    assert_false(check_blob(NULL, &ram));
    assert_int_equal(ram, 77);

    /* a firmware description that is not a device tree */
    host_console_clear();
    boot = (struct boot_info){.fw = {.kind = BOOT_FW_NONE, .desc = blob}};
    assert_false(board_arch_check(&board, &boot));
    assert_int_equal(host_console_count(summary), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching_tree_passes),
        cmocka_unit_test(test_cells_are_honoured),
        cmocka_unit_test(test_wrong_compatible),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_uart),
        cmocka_unit_test(test_gic),
        cmocka_unit_test(test_virtio),
        cmocka_unit_test(test_every_mismatch_reported),
        cmocka_unit_test(test_bootargs),
        cmocka_unit_test(test_corrupt_blobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
