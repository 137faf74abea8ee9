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
// accepted by its loader.
#include <stdlib.h>
#include <string.h>

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
}
