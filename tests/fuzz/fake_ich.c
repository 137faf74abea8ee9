// SPDX-License-Identifier: Apache-2.0
// Fake ICH_* / ICC_DIR registers for the vGIC fuzz targets (fake_ich.h). Accesses to registers
// the configured CPU interface does not have abort: that is a bug in the vGIC, not the input.
#include <string.h>

#include <arch/gicv3.h>

#include "fake_ich.h"
#include "fuzz_common.h"

struct fake_ich fake_ich;

void fake_ich_reset(unsigned list_regs, unsigned pre_bits, bool strict)
{
    memset(&fake_ich, 0, sizeof(fake_ich));
    memset(fake_ich.lr, 0xff, sizeof(fake_ich.lr));
    fake_ich.hcr = 0x1f;
    fake_ich.vmcr = 0x1234;
    fake_ich.ap0r[0] = fake_ich.ap1r[0] = 7;
    fake_ich.vtr = ((list_regs - 1) & 0x1f) | ((uint64_t)((pre_bits - 1) & 7) << 26) |
                   (4ull << 29); /* PRIbits = 5 */
    fake_ich.nr_lrs = list_regs > VGIC_MAX_LRS ? VGIC_MAX_LRS : list_regs;
    unsigned pre = ICH_VTR_PREBITS(fake_ich.vtr);
    fake_ich.nr_aprs = pre >= 7 ? 4u : pre == 6 ? 2u : 1u;
    fake_ich.strict = strict;
}

uint64_t ich_lr_read(unsigned n)
{
    FZ_CHECK(n < fake_ich.nr_lrs, "ICH_LR%u_EL2 read, %u implemented", n, fake_ich.nr_lrs);
    return fake_ich.lr[n];
}

void ich_lr_write(unsigned n, uint64_t v)
{
    FZ_CHECK(n < fake_ich.nr_lrs, "ICH_LR%u_EL2 written, %u implemented", n, fake_ich.nr_lrs);
    fake_ich.lr[n] = v;
}

uint64_t ich_hcr_read(void)
{
    return fake_ich.hcr;
}

void ich_hcr_write(uint64_t v)
{
    fake_ich.hcr = v;
}

uint64_t ich_vtr_read(void)
{
    return fake_ich.vtr;
}

uint64_t ich_misr_read(void)
{
    return fake_ich.misr;
}

uint64_t ich_elrsr_read(void)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < fake_ich.nr_lrs; i++) {
        v |= (uint64_t)((fake_ich.lr[i] >> ICH_LR_STATE_SHIFT) == 0) << i;
    }
    return v;
}

uint64_t ich_vmcr_read(void)
{
    return fake_ich.vmcr;
}

void ich_vmcr_write(uint64_t v)
{
    fake_ich.vmcr = v;
}

uint64_t ich_ap0r_read(unsigned n)
{
    FZ_CHECK(n < fake_ich.nr_aprs, "ICH_AP0R%u_EL2 read, %u implemented", n, fake_ich.nr_aprs);
    return fake_ich.ap0r[n];
}

void ich_ap0r_write(unsigned n, uint64_t v)
{
    FZ_CHECK(n < fake_ich.nr_aprs, "ICH_AP0R%u_EL2 written, %u implemented", n, fake_ich.nr_aprs);
    fake_ich.ap0r[n] = v;
}

uint64_t ich_ap1r_read(unsigned n)
{
    FZ_CHECK(n < fake_ich.nr_aprs, "ICH_AP1R%u_EL2 read, %u implemented", n, fake_ich.nr_aprs);
    return fake_ich.ap1r[n];
}

void ich_ap1r_write(unsigned n, uint64_t v)
{
    FZ_CHECK(n < fake_ich.nr_aprs, "ICH_AP1R%u_EL2 written, %u implemented", n, fake_ich.nr_aprs);
    fake_ich.ap1r[n] = v;
}

void fake_ich_activate(uint32_t p)
{
    FZ_CHECK(p < 1020 && !fake_ich.phys_active[p], "physical INTID %u activated twice", p);
    fake_ich.phys_active[p] = true;
    fake_ich.nr_active++;
}

void fake_ich_deactivate(uint32_t p)
{
    FZ_CHECK(p < 1020, "deactivation of INTID %u", p);
    if (fake_ich.strict) {
        FZ_CHECK(fake_ich.phys_active[p], "physical INTID %u deactivated but not active", p);
    }
    if (fake_ich.phys_active[p]) {
        fake_ich.phys_active[p] = false;
        fake_ich.nr_active--;
    }
    fake_ich.deactivations++;
}

void icc_dir_write(uint32_t intid)
{
    FZ_CHECK(intid < 1020, "ICC_DIR_EL1 written with INTID %u", intid);
    fake_ich_deactivate(intid);
}
