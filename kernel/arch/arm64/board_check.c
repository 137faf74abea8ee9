// SPDX-License-Identifier: Apache-2.0
// Checks the board description (boards/<name>/board.c) against the device tree the machine was
// booted with. Every mismatch gets its own line naming both values, so a wrong board file or a
// differently configured QEMU is diagnosed from the first boot message. The blob is read here
// and nowhere else in the hypervisor but random_seed.c (which takes the firmware's seed out of it):
// what generic code needs from it goes into struct boot_info.
#include <string.h>

/* libfdt's headers use zero-length arrays and stray semicolons that -Wpedantic rejects. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <libfdt.h>
#pragma GCC diagnostic pop

#include <cv/board.h>
#include <cv/boot.h>
#include <cv/log.h>

/* Linux's arm64 boot protocol caps the blob at 2 MiB; anything larger is garbage. */
#define FDT_MAX_SIZE (2u << 20)

struct reg {
    uint64_t base;
    uint64_t size;
};

/* Cells are big-endian and, in a blob at an odd address, not even 4-byte aligned. */
static uint64_t read_cells(const uint8_t *p, int cells)
{
    uint64_t v = 0;
    for (int i = 0; i < cells * 4; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*
 * Entry idx of node's "reg", decoded with the parent's #address-cells/#size-cells. Returns
 * false if there is no such entry or the cell counts are beyond 64-bit values.
 */
static bool node_reg(const void *fdt, int node, int idx, struct reg *out)
{
    int parent = fdt_parent_offset(fdt, node);
    if (parent < 0) {
        return false;
    }
    int ac = fdt_address_cells(fdt, parent);
    int sc = fdt_size_cells(fdt, parent);
    if (ac < 1 || ac > 2 || sc < 0 || sc > 2) {
        return false;
    }
    int len;
    const uint8_t *p = fdt_getprop(fdt, node, "reg", &len);
    int entry = (ac + sc) * 4;
    if (!p || len < 0 || idx < 0 || len / entry <= idx) {
        return false;
    }
    p += idx * entry;
    out->base = read_cells(p, ac);
    out->size = read_cells(p + ac * 4, sc);
    return true;
}

static int node_reg_count(const void *fdt, int node)
{
    int parent = fdt_parent_offset(fdt, node);
    int ac = parent < 0 ? -1 : fdt_address_cells(fdt, parent);
    int sc = parent < 0 ? -1 : fdt_size_cells(fdt, parent);
    int len;
    if (ac < 1 || ac > 2 || sc < 0 || sc > 2 || !fdt_getprop(fdt, node, "reg", &len) || len < 0) {
        return 0;
    }
    return len / ((ac + sc) * 4);
}

static bool check_root(const struct board *d, const void *fdt)
{
    if (fdt_node_check_compatible(fdt, 0, d->arch.dt_compatible) == 0) {
        return true;
    }
    char list[160];
    size_t n = 0;
    list[0] = '\0';
    for (int i = 0;; i++) {
        const char *s = fdt_stringlist_get(fdt, 0, "compatible", i, NULL);
        if (!s) {
            break;
        }
        int w = cv_snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "", s);
        n = MIN(n + (size_t)(w < 0 ? 0 : w), sizeof(list) - 1);
    }
    if (n == 0) {
        log_err("board: device tree root has no compatible, board %s expects \"%s\"", d->name,
                d->arch.dt_compatible);
    } else {
        log_err("board: device tree root is compatible with %s, board %s expects \"%s\"", list,
                d->name, d->arch.dt_compatible);
    }
    return false;
}

static bool check_memory(const struct board *d, const void *fdt, struct reg *found)
{
    uint64_t want = hpa_raw(d->ram.base);
    bool any = false;
    struct reg first = {0, 0};
    static const char mem[] = "memory";
    for (int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", mem, sizeof(mem));
         node >= 0;
         node = fdt_node_offset_by_prop_value(fdt, node, "device_type", mem, sizeof(mem))) {
        int count = node_reg_count(fdt, node);
        for (int i = 0; i < count; i++) {
            struct reg r;
            if (!node_reg(fdt, node, i, &r) || r.size == 0) {
                continue;
            }
            if (!any) {
                first = r;
                any = true;
            }
            if (r.base != want) {
                continue;
            }
            if (r.size < d->ram.size) {
                log_err("board: device tree says RAM at 0x%llx is 0x%llx bytes (%llu MiB), "
                        "board %s needs at least 0x%llx (%llu MiB)",
                        (unsigned long long)r.base, (unsigned long long)r.size,
                        (unsigned long long)(r.size >> 20), d->name,
                        (unsigned long long)d->ram.size, (unsigned long long)(d->ram.size >> 20));
                return false;
            }
            *found = r;
            return true;
        }
    }
    if (!any) {
        log_err("board: device tree has no memory node, board %s expects RAM at 0x%llx", d->name,
                (unsigned long long)want);
    } else {
        log_err("board: device tree says RAM is at 0x%llx, board %s expects 0x%llx",
                (unsigned long long)first.base, d->name, (unsigned long long)want);
    }
    return false;
}

/* GIC "interrupts" with three cells: SPI 0 / PPI 1, number, flags. */
static bool uart_irq_ok(const struct board *d, const void *fdt, int node)
{
    int len;
    const uint8_t *p = fdt_getprop(fdt, node, "interrupts", &len);
    if (!p || len != 12) {
        return true; /* another interrupt controller binding: nothing to compare */
    }
    uint64_t type = read_cells(p, 1);
    uint64_t num = read_cells(p + 4, 1);
    if (type > 1) {
        return true;
    }
    uint64_t intid = num + (type == 0 ? 32 : 16);
    if (intid != d->arch.uart.irq) {
        log_err("board: device tree says the UART interrupt is %llu, board %s expects %u",
                (unsigned long long)intid, d->name, d->arch.uart.irq);
        return false;
    }
    return true;
}

static bool check_uart(const struct board *d, const void *fdt)
{
    uint64_t want = hpa_raw(d->arch.uart.base);
    int first = -1;
    struct reg first_reg = {0, 0};
    for (int node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011"); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, "arm,pl011")) {
        struct reg r;
        if (!node_reg(fdt, node, 0, &r)) {
            continue;
        }
        if (r.base == want) {
            if (r.size != d->arch.uart.size) {
                log_err("board: device tree says the UART window is 0x%llx bytes, board %s "
                        "expects 0x%llx",
                        (unsigned long long)r.size, d->name, (unsigned long long)d->arch.uart.size);
                return false;
            }
            return uart_irq_ok(d, fdt, node);
        }
        if (first < 0) {
            first = node;
            first_reg = r;
        }
    }
    if (first < 0) {
        log_err("board: device tree has no arm,pl011 UART, board %s expects one at 0x%llx", d->name,
                (unsigned long long)want);
    } else {
        log_err("board: device tree says the UART is at 0x%llx, board %s expects 0x%llx",
                (unsigned long long)first_reg.base, d->name, (unsigned long long)want);
    }
    return false;
}

static bool check_gic_frame(const struct board *d, const char *what, const struct reg *r,
                            hpa_t want, uint64_t want_size)
{
    if (r->base != hpa_raw(want)) {
        log_err("board: device tree says the GIC %s is at 0x%llx, board %s expects 0x%llx", what,
                (unsigned long long)r->base, d->name, (unsigned long long)hpa_raw(want));
        return false;
    }
    if (r->size < want_size) {
        log_err("board: device tree says the GIC %s is 0x%llx bytes, board %s needs at least "
                "0x%llx",
                what, (unsigned long long)r->size, d->name, (unsigned long long)want_size);
        return false;
    }
    return true;
}

static bool check_gic(const struct board *d, const void *fdt)
{
    int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
    if (node < 0) {
        static const char *const v2[] = {"arm,cortex-a15-gic", "arm,gic-400", "arm,cortex-a9-gic"};
        for (size_t i = 0; i < ARRAY_SIZE(v2); i++) {
            if (fdt_node_offset_by_compatible(fdt, -1, v2[i]) >= 0) {
                log_err("board: device tree has a GICv2 (%s), board %s needs a GICv3 "
                        "(arm,gic-v3)",
                        v2[i], d->name);
                return false;
            }
        }
        log_err("board: device tree has no arm,gic-v3 interrupt controller, board %s needs one",
                d->name);
        return false;
    }
    struct reg dist, redist;
    if (!node_reg(fdt, node, 0, &dist) || !node_reg(fdt, node, 1, &redist)) {
        log_err("board: device tree GICv3 node lacks distributor and redistributor regs");
        return false;
    }
    const struct board_irqchip *gic = &d->arch.gic;
    bool ok = check_gic_frame(d, "distributor", &dist, gic->dist, gic->dist_size);
    ok &= check_gic_frame(d, "redistributor region", &redist, gic->redist, gic->redist_size);
    return ok;
}

static bool check_virtio(const struct board *d, const void *fdt)
{
    uint64_t want = hpa_raw(d->arch.virtio.base);
    unsigned count = 0;
    bool at_base = false;
    for (int node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"); node >= 0;
         node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio")) {
        struct reg r;
        if (node_reg(fdt, node, 0, &r)) {
            count++;
            at_base |= (r.base == want);
        }
    }
    log_debug("board: device tree has %u virtio,mmio transports", count);
    if (!count) {
        log_err("board: device tree has no virtio,mmio transports, board %s expects them from "
                "0x%llx",
                d->name, (unsigned long long)want);
        return false;
    }
    if (!at_base) {
        log_err("board: device tree has %u virtio,mmio transports but none at 0x%llx, where "
                "board %s expects the first",
                count, (unsigned long long)want, d->name);
        return false;
    }
    if (count < d->arch.virtio.count) {
        log_warn("board: device tree has %u virtio,mmio transports, board %s describes %u", count,
                 d->name, d->arch.virtio.count);
    }
    return true;
}

/*
 * The hypervisor's command line. Its warning keeps the "config:" prefix because it is about the
 * configuration: the board itself matched.
 */
static const char *find_bootargs(const void *fdt)
{
    int node = fdt_path_offset(fdt, "/chosen");
    int len = 0;
    const char *args = node >= 0 ? fdt_getprop(fdt, node, "bootargs", &len) : NULL;
    /* The property must be a NUL-terminated string inside its own length. */
    if (args && (len <= 0 || memchr(args, '\0', (size_t)len) == NULL)) {
        log_warn("config: /chosen/bootargs is not a string; using the defaults");
        return NULL;
    }
    return args;
}

bool board_arch_check(const struct board *desc, struct boot_info *boot)
{
    const void *fdt = boot->fw.kind == BOOT_FW_FDT ? boot->fw.desc : NULL;
    int err = fdt ? fdt_check_header(fdt) : -FDT_ERR_BADMAGIC;
    /* libfdt loads tags as aligned 32-bit words and fdt_check_header does not check that the
     * structure block is 4-byte aligned, as the devicetree spec requires. */
    if (err == 0 && (fdt_totalsize(fdt) > FDT_MAX_SIZE || fdt_off_dt_struct(fdt) % 4 != 0)) {
        err = -FDT_ERR_BADSTRUCTURE;
    }
    if (err) {
        log_err("board: the device tree blob at %p is invalid (%s)", fdt, fdt_strerror(err));
        log_err("board: %s does not match this machine; refusing to start", desc->name);
        return false;
    }
    /* Run every check, so that one boot lists every difference. */
    struct reg ram = {0, 0};
    bool ok = check_root(desc, fdt);
    ok &= check_memory(desc, fdt, &ram);
    ok &= check_uart(desc, fdt);
    ok &= check_gic(desc, fdt);
    ok &= check_virtio(desc, fdt);
    if (!ok) {
        log_err("board: %s does not match this machine; refusing to start", desc->name);
        return false;
    }
    boot->ram.base = hpa(ram.base);
    boot->ram.size = ram.size;
    boot->cmdline = find_bootargs(fdt);
    return true;
}
