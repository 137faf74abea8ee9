// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the whole VM state stream: vm_state_load() and vm_state_describe()
// (kernel/core/vm_state.c, the walker the checkpoint engine calls) over a VM with the real
// sections in the board's order: the vCPU ("CPU0", kernel/arch/arm64/vcpu_state.c, on fake
// system registers), the vGIC ("VGIC", on fake ICH_* registers) and the vPL011. Input: byte 0
// picks the CPU (bit 0: AArch32 at EL0, bit 1: pointer authentication) and the list registers
// (bits 2-5: count - 1); the rest is the stream.
//
// Checked:
//   - vm_state_load() accepts exactly when a reference walk written here from the format does
//     (magic, this VM's section count, each section in order with its tag, a length that fits
//     and a body its own load(apply=false) accepts whole, nothing after the last);
//   - a rejected stream changes nothing: vCPU, system and FP registers, vGIC, CPU interface,
//     UART and its interrupt line;
//   - an accepted stream is applied: saving afterwards gives a stream of the same length (or
//     with the ten key registers more, for a keyless stream on a CPU with keys) that is
//     accepted again, and saving that once more gives the same bytes (a fixed point);
//   - vm_state_describe() names a position for offsets inside and past the stream without
//     reading outside it (ASan) and always terminates its string.
#include <string.h>

#include <arch/arm64.h>
#include <arch/gicv3.h>
#include <arch/sysreg.h>
#include <arch/vgic.h>
#include <cv/bus.h>
#include <cv/vm.h>
#include <cv/vmstate.h>
#include <cv/vpl011.h>

#include "../unit/support/fake_sysreg.h"
#include "fake_ich.h"
#include "fake_vm.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void arm64_fpsimd_save(uint64_t *buf);
void arm64_fpsimd_load(const uint64_t *buf);

#define UART_INTID 33u
#define MAGIC VS_TAG('C', 'V', 'S', 'T')

static struct vm *const vm = &fake_vm.vm;
static struct vpl011 U;
static struct bus bus;
static uint64_t fp[66];
static uint8_t out[16384], out2[16384];

void arm64_fpsimd_save(uint64_t *buf)
{
    memcpy(buf, fp, sizeof(fp));
}

void arm64_fpsimd_load(const uint64_t *buf)
{
    memcpy(fp, buf, sizeof(fp));
}

/* fake_vm.c keeps the last registration in fake_vm.ops; add each to the VM as vm.c does. */
static void take_registration(void)
{
    FZ_CHECK(vm->vmstate_count < VM_MAX_VMSTATE, "too many sections");
    vm->vmstate[vm->vmstate_count++] = fake_vm.ops;
}

static void setup(uint8_t cfg)
{
    fake_vm_reset(UART_INTID);
    fake_sysreg_reset();
    fake_sysreg_set("id_aa64pfr0_el1", (cfg & 1) ? 0x1112ull : 0x1111ull);
    fake_sysreg_set("id_aa64isar1_el1", (cfg & 2) ? 1ull << 4 : 0);
    memset(fp, 0, sizeof(fp));
    vm->vcpu.vm = vm;
    vm->vcpu.arch.regs.pstate = PSR_MODE_EL1h | PSR_DAIF;
    FZ_CHECK(arm64_vcpu_register_state(&vm->vcpu), "CPU section");
    take_registration();
    fake_ich_reset(1u + ((cfg >> 2) & 15u), 5, false);
    vgic_init(&vm->arch.vgic, gpa(0x08000000), gpa(0x080a0000), 25);
    vgic_link_hw(&vm->arch.vgic, 27, 27);
    struct vmstate_ops g;
    vgic_vmstate_ops(&vm->arch.vgic, &g);
    FZ_CHECK(vm_register_vmstate(vm, &g), "vGIC section");
    take_registration();
    memset(&bus, 0, sizeof(bus));
    vpl011_init(&U, vm, gpa(0x09000000), UART_INTID);
    FZ_CHECK(vpl011_register(&U, &bus), "UART section");
    take_registration();
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The format, from docs/design.md: u32 magic, u32 count, count x {tag, version, length, body}. */
static bool reference_walk(const uint8_t *s, size_t n)
{
    if (n < 8 || le32(s) != MAGIC || le32(s + 4) != vm->vmstate_count) {
        return false;
    }
    size_t pos = 8;
    for (unsigned i = 0; i < vm->vmstate_count; i++) {
        if (n - pos < 12) {
            return false;
        }
        uint32_t tag = le32(s + pos), ver = le32(s + pos + 4), len = le32(s + pos + 8);
        pos += 12;
        if (tag != vm->vmstate[i].tag || len > n - pos) {
            return false;
        }
        struct vs_buf r;
        vs_init_reader(&r, s + pos, len);
        const struct vmstate_ops *o = &vm->vmstate[i];
        if (!o->load(o->ctx, &r, ver, false) || r.err || r.pos != r.len) {
            return false;
        }
        pos += len;
    }
    return pos == n;
}

struct snapshot {
    struct vcpu_regs regs;
    struct vgic vgic;
    struct fake_ich ich;
    struct vpl011 uart;
    bool level;
    unsigned long level_calls;
    unsigned sysreg_writes;
    uint64_t fp[66];
};

static void snap(struct snapshot *s)
{
    memset(s, 0, sizeof(*s));
    s->regs = vm->vcpu.arch.regs;
    s->vgic = vm->arch.vgic;
    s->ich = fake_ich;
    s->uart = U;
    s->level = fake_vm.level;
    s->level_calls = fake_vm.level_calls;
    s->sysreg_writes = fake_sysreg_writes;
    memcpy(s->fp, fp, sizeof(fp));
}

static void describe_some(const uint8_t *s, size_t n, uint32_t seed)
{
    char text[64];
    size_t offs[] = {0, 7, 8, 19, 20, n / 2, n ? n - 1 : 0, n, n + 100, seed % (n + 1)};
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        memset(text, 'x', sizeof(text));
        vm_state_describe(s, n, offs[i], text, sizeof(text));
        FZ_CHECK(memchr(text, 0, sizeof(text)) != NULL, "describe left the string open");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    setup(data[0]);
    const uint8_t *s = data + 1;
    size_t n = size - 1;
    describe_some(s, n, size > 4 ? le32(data + size - 4) : 0);
    bool expect = reference_walk(s, n);
    struct snapshot before, after;
    snap(&before);
    bool ok = vm_state_load(vm, s, n);
    FZ_CHECK(ok == expect, "vm_state_load says %d, the format says %d", ok, expect);
    if (!ok) {
        snap(&after);
        FZ_CHECK(memcmp(&before, &after, sizeof(before)) == 0, "a rejected stream changed state");
        return 0;
    }
    size_t m = vm_state_save(vm, out, sizeof(out));
    /* A stream without pointer-authentication keys loads on a CPU with them (the keys are
     * left alone), which then saves its keys: only there may the length differ. */
    FZ_CHECK(m == n || (m == n + 80 && (data[0] & 2)), "saved %zu bytes after loading %zu", m, n);
    FZ_CHECK(vm_state_load(vm, out, m), "the state reached from an accepted stream is rejected");
    size_t m2 = vm_state_save(vm, out2, sizeof(out2));
    FZ_CHECK(m2 == m && memcmp(out, out2, m) == 0, "save/load/save is not a fixed point");
    return 0;
}

/* ---- seeds: whole streams saved from states the models are driven into ---- */

static void seed(const char *name, uint8_t cfg)
{
    static uint8_t buf[sizeof(out) + 1];
    buf[0] = cfg;
    size_t n = vm_state_save(vm, buf + 1, sizeof(out));
    FZ_CHECK(n > 0, "seed save");
    fuzz_write_seed(name, buf, n + 1);
}

void fuzz_make_seeds(void)
{
    static const uint8_t cfgs[] = {3u << 2, 1 | (3u << 2), 2 | (15u << 2), 0};
    for (unsigned c = 0; c < sizeof(cfgs); c++) {
        char name[32];
        setup(cfgs[c]);
        snprintf(name, sizeof(name), "reset-%u", c);
        seed(name, cfgs[c]);
        vm->vcpu.arch.regs.pc = 0x40080000;
        vm->vcpu.arch.regs.pstate = (cfgs[c] & 1) ? PSR32_MODE_USR : PSR_MODE_EL0t;
        fake_sysreg_set("sctlr_el1", 0x30d00800);
        vgic_set_level(&vm->arch.vgic, 33, true);
        vgic_inject_edge(&vm->arch.vgic, 40);
        vgic_inject_hw(&vm->arch.vgic, 27, 27);
        for (const char *t = "hello"; *t; t++) {
            vpl011_rx_push(&U, *t);
        }
        snprintf(name, sizeof(name), "busy-%u", c);
        seed(name, cfgs[c]);
        vgic_flush(&vm->arch.vgic);
        snprintf(name, sizeof(name), "loaded-%u", c);
        seed(name, cfgs[c]);
    }
}
