// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the guest's emulated virtio-net device (kernel/dev/vnet.c): the input
// is both the guest's RAM (rings, descriptors, buffers, all hostile) and a program of driver
// actions: register accesses of any offset/size/value, notifies, frames arriving from the LAN,
// resets and state save/load.
//
// Checked: MMIO answers BUS_OK or BUS_BAD_ACCESS; frames handed to the pipeline are 14..1514
// bytes; the used index only moves forward by whole entries; the interrupt line equals
// (InterruptStatus != 0); a device reset (Status=0) restarts the used index at 0; once
// DEVICE_NEEDS_RESET is set nothing is transmitted until a reset; every section the device saves is
// accepted by its loader. The source filter (kernel/net/guest_filter.c) sees every frame the guest
// sends: what it passes carries the guest's MAC and, for IPv4 and ARP through at most one VLAN tag,
// an allowed sender address (under a configured guest address or none, chosen by the input); every
// frame counted as sent (tx_frames) was handed on exactly once.
#include <stdlib.h>
#include <string.h>

#include <cv/config.h>
#include <cv/vm.h>
#include <cv/vmstate.h>
#include <cv/vnet.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_BASE 0x40000000ull
#define RAM_SIZE 0x10000ull

static uint8_t ram[RAM_SIZE];
static struct vm vm;
static struct vnet nic;
static struct bus bus;
static bool line;
static struct vmstate_ops state_ops;
static unsigned long frames_out;
static uint32_t guest_ip; /* the address the filter was told, 0: none */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The rule, said again independently of the filter's code: the sender address of a passed
 * frame. */
static bool sender_ok(uint32_t ip)
{
    const struct cv_config *c = config_get();
    if (ip == 0 || (guest_ip && ip == guest_ip)) {
        return true;
    }
    if (guest_ip) {
        return false;
    }
    bool board =
        ip == c->svc_ip.addr || ip == c->peer_svc_ip || ip == c->repl_ip.addr || ip == c->peer_ip;
    return !board;
}

static void check_source(const uint8_t *f, size_t len)
{
    FZ_CHECK(memcmp(f + 6, nic.mac, 6) == 0, "a frame from another MAC passed");
    size_t off = 14;
    unsigned type = (unsigned)f[12] << 8 | f[13];
    if (type == 0x8100) {
        FZ_CHECK(len >= 18, "a cut VLAN tag passed");
        type = (unsigned)f[16] << 8 | f[17];
        off = 18;
    }
    FZ_CHECK(type != 0x8100 && type != 0x88a8 && type != 0x9100, "stacked VLAN tags passed");
    if (type == 0x0800) {
        FZ_CHECK(len >= off + 20, "a cut IPv4 header passed");
        FZ_CHECK(sender_ok(get32(f + off + 12)), "IPv4 from a foreign address passed");
    } else if (type == 0x0806) {
        FZ_CHECK(len >= off + 28, "a cut ARP packet passed");
        FZ_CHECK(memcmp(f + off + 8, nic.mac, 6) == 0, "ARP naming a foreign MAC passed");
        FZ_CHECK(sender_ok(get32(f + off + 14)), "ARP from a foreign address passed");
    }
}

void vm_arch_irq_set_level(struct vm *v, uint32_t intid, bool level)
{
    FZ_CHECK(v == &vm && intid == 48, "line %u of an unknown VM", intid);
    line = level;
}

bool vm_register_vmstate(struct vm *v, const struct vmstate_ops *ops)
{
    (void)v;
    state_ops = *ops;
    return true;
}

void dirty_log_mark(struct vm *v, gpa_t a, uint64_t len)
{
    (void)v;
    FZ_CHECK(vm_gpa_in_ram(&vm, a, len), "dirty mark outside RAM");
}

bool net_guest_tx_room(size_t len)
{
    (void)len;
    return true;
}

void net_guest_tx(const uint8_t *frame, size_t len)
{
    (void)frame;
    FZ_CHECK(len >= ETH_MIN_FRAME && len <= ETH_MAX_FRAME, "frame of %zu bytes passed on", len);
    FZ_CHECK(!(nic.status & 64), "frame transmitted while the device needs a reset");
    check_source(frame, len);
    frames_out++;
}

static void check(void)
{
    FZ_CHECK(line == (nic.isr != 0), "line %d with isr %u", line, nic.isr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8) {
        return 0;
    }
    /* First half: guest RAM (repeated to fill). Second half: the program. */
    size_t ram_part = size / 2;
    for (size_t i = 0; i < RAM_SIZE; i++) {
        ram[i] = data[i % ram_part];
    }
    const uint8_t *p = data + ram_part, *end = data + size;
    memset(&vm, 0, sizeof(vm));
    vm.state = VM_RUNNING;
    vm.ram.base = gpa(RAM_BASE);
    vm.ram.size = RAM_SIZE;
    vm.ram.hva = ram;
    memset(&bus, 0, sizeof(bus));
    /* The guest's address: the default, or none (then only the boards' addresses are barred). */
    char err[96];
    FZ_CHECK(config_set("guest_ip", (data[0] & 1) ? "none" : "192.0.2.10", err, sizeof(err)),
             "guest_ip: %s", err);
    guest_ip = (data[0] & 1) ? 0 : 0xc000020au;
    frames_out = 0;
    static const uint8_t mac[6] = {0x52, 0x54, 0, 0xc0, 0, 0x10};
    vnet_init(&nic, &vm, gpa(0x0a000000), 48, mac);
    FZ_CHECK(vnet_register(&nic, &bus), "register");
    uint16_t last_used[2] = {0, 0};
    while (end - p >= 6) {
        uint8_t op = p[0];
        uint16_t off = (uint16_t)(p[1] | p[2] << 8);
        uint32_t val = (uint32_t)p[3] | (uint32_t)p[4] << 8 | (uint32_t)p[5] << 16;
        p += 6;
        switch (op % 6) {
        case 0:
        case 1: {
            /* Register access; mostly well-formed, sometimes anything. */
            struct bus_access a = {.offset = (op & 0x80) ? off % 0x200 : (off % 0x80) * 4,
                                   .size = (op & 0x40) ? 1u << (op >> 3 & 3) : 4,
                                   .write = op % 6 == 1,
                                   .value = val | ((op & 0x20) ? RAM_BASE : 0)};
            enum bus_result r = a.write ? vnet_mmio_write(&nic, &a) : vnet_mmio_read(&nic, &a);
            FZ_CHECK(r == BUS_OK || r == BUS_BAD_ACCESS, "mmio result %d", (int)r);
            break;
        }
        case 2: {
            uint8_t frame[1600];
            size_t len = val % sizeof(frame);
            memset(frame, (int)off, len);
            vnet_rx(&nic, frame, len);
            break;
        }
        case 3: {
            struct bus_access a = {.offset = 0x050, .size = 4, .write = true, .value = val & 1};
            vnet_mmio_write(&nic, &a);
            break;
        }
        case 4:
            vnet_reset(&nic);
            last_used[0] = last_used[1] = 0;
            break;
        default: {
            static uint8_t buf[1024];
            struct vs_buf w, r;
            vs_init_writer(&w, buf, sizeof(buf));
            state_ops.save(state_ops.ctx, &w);
            FZ_CHECK(!w.err, "save overflow");
            vs_init_reader(&r, buf, w.len);
            FZ_CHECK(state_ops.load(state_ops.ctx, &r, 1, false), "own state rejected");
            break;
        }
        }
        for (unsigned q = 0; q < 2; q++) {
            uint16_t u = nic.q[q].used_idx;
            if (nic.status == 0) {
                /* The driver wrote Status=0: a device reset, which restarts the rings. */
                FZ_CHECK(u == 0, "used index %u kept across a device reset", u);
                last_used[q] = 0;
                continue;
            }
            FZ_CHECK((uint16_t)(u - last_used[q]) <= VNET_QUEUE_MAX, "used index jumped");
            last_used[q] = u;
        }
        check();
        FZ_CHECK(nic.stats.tx_frames == frames_out, "tx_frames %llu, handed on %lu",
                 (unsigned long long)nic.stats.tx_frames, frames_out);
    }
    return 0;
}

/* ---- seed: a well-behaved driver with one frame to send and one buffer posted ---- */

static void put(uint8_t *b, size_t off, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        b[off + i] = (uint8_t)(v >> (8 * i));
    }
}

static size_t op(uint8_t *prog, size_t n, uint8_t code, uint16_t off, uint32_t val)
{
    prog[n] = code;
    put(prog, n + 1, off, 2);
    put(prog, n + 3, val, 3);
    return n + 6;
}

void fuzz_make_seeds(void)
{
    static uint8_t seed[2 * RAM_SIZE];
    uint8_t *r = seed;
    /* rx ring at 0x1000/0x2000/0x3000, tx ring at 0x4000/0x5000/0x6000, buffers from 0x8000 */
    put(r, 0x1000, RAM_BASE + 0x9000, 8);
    put(r, 0x1008, 1526, 4);
    put(r, 0x100c, 2, 2);
    put(r, 0x2002, 1, 2);
    put(r, 0x4000, RAM_BASE + 0x8000, 8);
    put(r, 0x4008, 12, 4);
    put(r, 0x400c, 1, 2);
    put(r, 0x400e, 1, 2);
    put(r, 0x4010, RAM_BASE + 0x8100, 8);
    put(r, 0x4018, 60, 4);
    put(r, 0x5002, 1, 2);
    /* The frame: IPv4 from the guest's MAC and address (the filter passes it). */
    static const uint8_t frame[34] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0xc0, 0, 0x10, 0x08, 0x00, 0x45, 0, 0,
        46,   0,    0,    0,    0,    64,   17,   0,    0, 192,  0, 2,    10,   192,  0,    2, 1};
    memcpy(r + 0x8100, frame, sizeof(frame));
    uint8_t *prog = seed + RAM_SIZE;
    size_t n = 0;
    n = op(prog, n, 1, 0x70 / 4, 3);
    n = op(prog, n, 1, 0x24 / 4, 1);
    n = op(prog, n, 1, 0x20 / 4, 1);
    n = op(prog, n, 1, 0x70 / 4, 11);
    for (uint32_t q = 0; q < 2; q++) {
        n = op(prog, n, 1, 0x30 / 4, q);
        n = op(prog, n, 1, 0x38 / 4, 16);
        n = op(prog, n, 37, 0x80 / 4, 0x1000 + 0x3000 * q);
        n = op(prog, n, 37, 0x90 / 4, 0x2000 + 0x3000 * q);
        n = op(prog, n, 37, 0xa0 / 4, 0x3000 + 0x3000 * q);
        n = op(prog, n, 1, 0x44 / 4, 1);
    }
    n = op(prog, n, 1, 0x70 / 4, 15);
    n = op(prog, n, 3, 0, 1);
    n = op(prog, n, 2, 0x55, 60);
    n = op(prog, n, 5, 0, 0);
    n = op(prog, n, 0, 0x60 / 4, 0);
    n = op(prog, n, 1, 0x64 / 4, 3);
    (void)n;
    fuzz_write_seed("driver", seed, sizeof(seed));
    /* The same driver sending a VLAN-tagged ARP that claims a board's address, with no guest
     * address configured (seed[0] odd). */
    static const uint8_t tagged_arp[46] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0xc0, 0,    0x10, 0x81, 0x00, 0, 5,
        0x08, 0x06, 0,    1,    0x08, 0,    6,    4,    0, 2,    0x52, 0x54, 0,    0xc0, 0, 0x10,
        192,  0,    2,    2,    0,    0,    0,    0,    0, 0,    192,  0,    2,    1};
    memcpy(r + 0x8100, tagged_arp, sizeof(tagged_arp));
    r[0] = 1;
    fuzz_write_seed("spoof", seed, sizeof(seed));
}
