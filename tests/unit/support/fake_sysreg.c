// SPDX-License-Identifier: Apache-2.0
// The host stand-in for read_sysreg/write_sysreg (arch/sysreg.h under CV_HOST_TEST): system
// registers by name in a small table (a register never written reads as 0), and a log of the
// cache maintenance operations by VA.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/sysreg.h>

#include "fake_sysreg.h"

#define MAX_REGS 96

static struct {
    char name[32];
    uint64_t value;
} regs[MAX_REGS];
static unsigned nregs;
unsigned fake_sysreg_writes;

static unsigned find(const char *name, int create)
{
    for (unsigned i = 0; i < nregs; i++) {
        if (strcmp(regs[i].name, name) == 0) {
            return i;
        }
    }
    if (!create) {
        return MAX_REGS;
    }
    if (nregs == MAX_REGS || strlen(name) >= sizeof(regs[0].name)) {
        fprintf(stderr, "fake_sysreg: no room for %s\n", name);
        abort();
    }
    strcpy(regs[nregs].name, name);
    regs[nregs].value = 0;
    return nregs++;
}

uint64_t host_sysreg_read(const char *name)
{
    unsigned i = find(name, 0);
    return i < MAX_REGS ? regs[i].value : 0;
}

void host_sysreg_write(const char *name, uint64_t v)
{
    regs[find(name, 1)].value = v;
    fake_sysreg_writes++;
}

void fake_sysreg_set(const char *name, uint64_t v)
{
    regs[find(name, 1)].value = v;
}

void fake_sysreg_reset(void)
{
    nregs = 0;
    fake_sysreg_writes = 0;
    fake_cache_reset();
}

struct fake_cache_op fake_cache_ops[FAKE_CACHE_OPS_MAX];
unsigned fake_cache_nops;
unsigned long fake_cache_dropped;

uint64_t fake_at_par;

void host_cache_op(const char *op, uintptr_t va)
{
    if (strcmp(op, "s1e1r") == 0) {
        regs[find("par_el1", 1)].value = fake_at_par;
    }
    if (fake_cache_nops == FAKE_CACHE_OPS_MAX) {
        fake_cache_dropped++;
        return;
    }
    struct fake_cache_op *o = &fake_cache_ops[fake_cache_nops++];
    snprintf(o->op, sizeof(o->op), "%s", op);
    o->va = va;
}

void fake_cache_reset(void)
{
    fake_cache_nops = 0;
    fake_cache_dropped = 0;
}

bool host_rndr(uint64_t *v)
{
    uint64_t fails = host_sysreg_read("rndr_fails");
    if (fails > 0) {
        fake_sysreg_set("rndr_fails", fails - 1);
        return false;
    }
    *v = host_sysreg_read("rndr");
    fake_sysreg_set("rndr", *v + 1);
    return true;
}
