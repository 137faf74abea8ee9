// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the vCPU state section loader ("CPU0", kernel/arch/arm64/vcpu_state.c)
// against fake system registers (tests/unit/support/fake_sysreg.c). Input: byte 0 picks the ID
// registers of the CPU loading it (bit 0: AArch32 at EL0, 1: pointer authentication, 2: PAN,
// 3: UAO, 4: DIT, 5: BTI+SSBS+MTE, 6: NMI); byte 1 is the section version (0: the current
// one); the rest is the section body.
//
// Checked, like vm_state_load() (kernel/core/vm_state.c) counts acceptance (load() true, no
// overrun, every byte consumed):
//   - load(apply=false) writes no system register, no FP register and no vCPU register;
//   - an accepted PSTATE is one ERET from EL2 returns to without an illegal return, restated
//     here from the Arm ARM's rules (AArch64 EL0t/EL1t/EL1h; AArch32 only in User mode and only
//     with AArch32 at EL0; nothing in bits [63:32]) rather than taken from the code under test;
//   - pointer-authentication keys are accepted only on a CPU that has them;
//   - an accepted body is accepted again with apply=true, consuming the same bytes, and saving
//     right after writes it back byte for byte (CNTV_CTL_EL0.ISTATUS excepted: read-only, never
//     saved) when the key count matches what this CPU saves.
#include <string.h>

#include <arch/arm64.h>
#include <arch/sysreg.h>
#include <cv/vm.h>
#include <cv/vmstate.h>

#include "../unit/support/fake_sysreg.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void arm64_fpsimd_save(uint64_t *buf);
void arm64_fpsimd_load(const uint64_t *buf);

#define CPU_VERSION 1u
#define FP_WORDS 66u
#define EL1_REGS 27u
#define PSTATE_OFF (32u * 8u)
#define CNTV_CTL_OFF ((33u + 24u) * 8u)
#define NPAUTH_OFF ((33u + EL1_REGS) * 8u)

static uint64_t fp[FP_WORDS];
static unsigned long fp_loads;
static struct vm vm;
static struct vmstate_ops ops;
static uint8_t out[4096];

void arm64_fpsimd_save(uint64_t *buf)
{
    memcpy(buf, fp, sizeof(fp));
}

void arm64_fpsimd_load(const uint64_t *buf)
{
    memcpy(fp, buf, sizeof(fp));
    fp_loads++;
}

bool vm_register_vmstate(struct vm *v, const struct vmstate_ops *o)
{
    FZ_CHECK(v == &vm, "state of an unknown VM");
    ops = *o;
    return true;
}

static void cpu_setup(uint8_t cfg)
{
    fake_sysreg_reset();
    fake_sysreg_set("id_aa64pfr0_el1",
                    ((cfg & 1) ? 0x1112ull : 0x1111ull) | ((cfg & 0x10) ? 1ull << 48 : 0));
    fake_sysreg_set("id_aa64isar1_el1", (cfg & 2) ? 1ull << 4 : 0);
    fake_sysreg_set("id_aa64mmfr1_el1", (cfg & 4) ? 1ull << 20 : 0);
    fake_sysreg_set("id_aa64mmfr2_el1", (cfg & 8) ? 1ull << 4 : 0);
    fake_sysreg_set("id_aa64pfr1_el1",
                    ((cfg & 0x20) ? 0x111ull : 0) | ((cfg & 0x40) ? 1ull << 36 : 0));
    memset(&vm, 0, sizeof(vm));
    memset(fp, 0, sizeof(fp));
    fp_loads = 0;
    vm.vcpu.vm = &vm;
    FZ_CHECK(arm64_vcpu_register_state(&vm.vcpu), "register");
    vm.vcpu.arch.regs.pstate = PSR_MODE_EL1h | PSR_DAIF;
}

static bool accepted(bool ok, const struct vs_buf *r)
{
    return ok && !r->err && r->pos == r->len;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static bool eret_legal(uint64_t p, bool a32_el0)
{
    if (p >> 32) {
        return false;
    }
    if (p & PSR_AARCH32) {
        return a32_el0 && (p & 0x1f) == 0x10;
    }
    uint64_t m = p & 0xf;
    return m == 0 || m == 4 || m == 5;
}

static size_t save_now(uint8_t *buf, size_t cap)
{
    struct vs_buf w;
    vs_init_writer(&w, buf, cap);
    ops.save(ops.ctx, &w);
    FZ_CHECK(!w.err, "save overflowed");
    return w.len;
}

static void cpu_one(uint8_t cfg, const uint8_t *body, size_t n, uint32_t version)
{
    struct vcpu_regs before = vm.vcpu.arch.regs;
    unsigned writes = fake_sysreg_writes;
    struct vs_buf r;
    vs_init_reader(&r, body, n);
    bool ok = accepted(ops.load(ops.ctx, &r, version, false), &r);
    size_t used = r.pos;
    FZ_CHECK(fake_sysreg_writes == writes && fp_loads == 0, "load(apply=false) wrote registers");
    FZ_CHECK(memcmp(&before, &vm.vcpu.arch.regs, sizeof(before)) == 0,
             "load(apply=false) changed the vCPU");
    if (!ok) {
        return;
    }
    uint64_t pstate = le64(body + PSTATE_OFF);
    FZ_CHECK(eret_legal(pstate, cfg & 1), "accepted PSTATE 0x%llx is an illegal return",
             (unsigned long long)pstate);
    uint32_t npauth = (uint32_t)le64(body + NPAUTH_OFF);
    npauth &= 0xffffffffu;
    FZ_CHECK(npauth == 0 || (cfg & 2), "keys accepted on a CPU without pointer authentication");
    vs_init_reader(&r, body, n);
    FZ_CHECK(accepted(ops.load(ops.ctx, &r, version, true), &r) && r.pos == used,
             "load(apply=true) disagrees with the check");
    FZ_CHECK(vm.vcpu.arch.regs.pstate == pstate && fp_loads == 1, "apply did not load");
    if ((npauth != 0) != ((cfg & 2) != 0)) {
        return;
    }
    size_t m = save_now(out, sizeof(out));
    FZ_CHECK(m == n, "round trip: saved %zu bytes, loaded %zu", m, n);
    FZ_CHECK((out[CNTV_CTL_OFF] & 4) == 0, "ISTATUS saved");
    out[CNTV_CTL_OFF] |= body[CNTV_CTL_OFF] & 4;
    FZ_CHECK(memcmp(out, body, n) == 0, "round trip differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    cpu_setup(data[0]);
    cpu_one(data[0], data + 2, size - 2, data[1] ? data[1] : CPU_VERSION);
    return 0;
}

/* ---- seeds: sections saved from vCPU states a guest can be in ---- */

static void seed(const char *name, uint8_t cfg, uint64_t pstate)
{
    static uint8_t buf[sizeof(out) + 2];
    cpu_setup(cfg);
    vm.vcpu.arch.regs.pstate = pstate;
    vm.vcpu.arch.regs.pc = 0x40080000;
    for (unsigned i = 0; i < 31; i++) {
        vm.vcpu.arch.regs.x[i] = 0x1111111111111111ull * (i & 15);
    }
    fake_sysreg_set("sctlr_el1", 0x30d00800);
    fake_sysreg_set("cntv_ctl_el0", 5);
    fp[3] = 0xdeadbeef;
    buf[0] = cfg;
    buf[1] = 0;
    size_t n = save_now(buf + 2, sizeof(out));
    fuzz_write_seed(name, buf, n + 2);
}

void fuzz_make_seeds(void)
{
    seed("el1h", 0, PSR_MODE_EL1h | PSR_DAIF);
    seed("el0t-pauth", 2, PSR_MODE_EL0t | PSR_NZCV);
    seed("el1t-pan", 0x7e, PSR_MODE_EL1t | PSR_PAN | PSR_UAO | PSR_DIT | PSR_SSBS | PSR_TCO);
    seed("a32-usr", 1, PSR32_MODE_USR | PSR32_T | PSR32_GE);
    seed("a32-usr-no-a32", 0, PSR32_MODE_USR);
}
