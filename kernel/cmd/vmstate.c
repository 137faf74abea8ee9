// SPDX-License-Identifier: Apache-2.0
// `vmstate`: the VM state stream the checkpoint engine will ship, exercised by hand. `save`
// reports its size and checksum; `reload` pauses the guest, saves, loads the same bytes back
// into the live vCPU, vGIC and devices, and resumes: the guest must not notice.
#include <string.h>

#include <cv/hash.h>
#include <cv/hv.h>
#include <cv/log.h>
#include <cv/page.h>
#include <cv/shell.h>
#include <cv/vm.h>

#define VMSTATE_BUF_SIZE (64u * 1024u)

static uint8_t *state_buf(void)
{
    static uint8_t *buf;
    if (!buf) {
        hpa_t p = page_alloc_contig(VMSTATE_BUF_SIZE, PAGE_SIZE);
        buf = hpa_raw(p) ? hpa_to_hva(p) : NULL;
    }
    return buf;
}

static int cmd_vmstate(int argc, char **argv);
SHELL_CMD(vmstate, {"vmstate", "vmstate save|reload",
                    "serialise the guest's vCPU/GIC/device state (reload: save, load back, resume)",
                    cmd_vmstate});

static int cmd_vmstate(int argc, char **argv)
{
    struct vm *vm = vm_current();
    uint8_t *buf = state_buf();
    if (argc != 2 || (strcmp(argv[1], "save") != 0 && strcmp(argv[1], "reload") != 0)) {
        return shell_usage(&shell_cmd_vmstate);
    }
    if (!buf) {
        cv_printf("vmstate: out of memory\n");
        return 1;
    }
    if (vm->state == VM_STOPPED) {
        cv_printf("vmstate: the guest is stopped\n");
        return 1;
    }
    bool was_running = vm->state == VM_RUNNING;
    vm_pause(vm);
    size_t n = vm_state_save(vm, buf, VMSTATE_BUF_SIZE);
    int rc = 0;
    if (n == 0) {
        cv_printf("vmstate: save failed (buffer of %u bytes too small?)\n", VMSTATE_BUF_SIZE);
        rc = 1;
    } else if (strcmp(argv[1], "save") == 0) {
        cv_printf("vmstate: bytes=%zu crc=0x%08x sections=%u\n", n, crc32c(0, buf, n),
                  vm->vmstate_count);
    } else if (!vm_state_load(vm, buf, n)) {
        cv_printf("vmstate: reload rejected its own stream\n");
        rc = 1;
    } else {
        cv_printf("vmstate: reloaded bytes=%zu crc=0x%08x\n", n, crc32c(0, buf, n));
    }
    if (was_running) {
        vm_resume(vm);
    }
    return rc;
}
