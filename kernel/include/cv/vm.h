/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest VM and its single vCPU, and the arch hooks the generic core calls. One VM per board;
 * the hypervisor runs on one physical CPU and runs the vCPU on it, so "hypervisor context"
 * always means: on that CPU, between two guest entries, with the vCPU stopped and EL2
 * interrupts masked. No locks are needed for that reason; docs/design.md explains it.
 */
#ifndef CV_VM_H
#define CV_VM_H

#include <cv/bus.h>
#include <cv/dirty.h>
#include <cv/types.h>
#include <cv/vmstate.h>

#include <arch/vm.h>

struct cv_image_info;

enum vm_state {
    VM_STOPPED, /**< not started, powered off, or failed to load */
    VM_RUNNING,
    VM_PAUSED, /**< by the operator or the checkpoint engine */
};

/**
 * Why the guest left, in categories every arch can map its exits onto; counted per category in
 * vm->exits for `status`. The arch names each category it uses (exit_arch_name()).
 */
enum exit_reason {
    EXIT_HYPERCALL,    /**< a call to the hypervisor (arm64 HVC, x86 VMCALL/VMMCALL) */
    EXIT_FIRMWARE,     /**< a call meant for firmware (arm64 SMC) */
    EXIT_MMIO,         /**< an emulated device access, or a harmless one skipped */
    EXIT_PIO,          /**< a port I/O access (x86 IN/OUT) */
    EXIT_SYSREG,       /**< an emulated system register (arm64 MRS/MSR, x86 MSR, CPUID) */
    EXIT_IDLE,         /**< the guest waits (arm64 WFI/WFE, x86 HLT) */
    EXIT_IRQ,          /**< a host interrupt */
    EXIT_DIRTY,        /**< write-protect fault for dirty logging */
    EXIT_INJECT_FAULT, /**< bad access answered with an injected fault (arm64 abort, x86 #GP/#PF) */
    EXIT_INJECT_UND,   /**< answered with an injected undefined instruction (x86 #UD) */
    EXIT_OTHER,
    EXIT__COUNT,
};

/** A power request the guest made through PSCI, handled by the core after the exit. */
enum vm_power_req {
    VM_POWER_NONE,
    VM_POWER_OFF,
    VM_POWER_RESET,
};

struct guest_ram {
    gpa_t base;
    uint64_t size;
    hpa_t host;   /**< contiguous host backing */
    uint8_t *hva; /**< the same, as a hypervisor pointer */
};

#define VM_MAX_VMSTATE 16

struct vcpu {
    struct vm *vm;
    struct vcpu_arch arch;
};

struct vm {
    const char *name;
    enum vm_state state;
    enum vm_power_req power_req;
    struct guest_ram ram;
    struct bus bus;    /**< MMIO */
    struct bus io_bus; /**< port I/O (BUS_PIO); empty on an arch without it */
    struct vcpu vcpu;
    struct dirty_log dirty;
    struct vm_arch arch;
    struct vmstate_ops vmstate[VM_MAX_VMSTATE];
    unsigned vmstate_count;
    uint64_t exits[EXIT__COUNT];
    uint64_t started_us;
    gpa_t entry;        /**< where the vCPU starts after (re)load */
    uint64_t entry_arg; /**< x0 at entry (the device tree for Linux) */
};

/* ---- hypervisor access to guest RAM (kernel/core/guest_mem.c) ---- */

/** True if [addr, addr+len) is inside guest RAM. Pure. */
bool vm_gpa_in_ram(const struct vm *vm, gpa_t addr, uint64_t len);

/**
 * Read-only pointer to guest RAM at addr, or NULL if [addr, addr+len) leaves RAM. Read-only on
 * purpose: every write goes through vm_write(), which marks the dirty log.
 */
const void *vm_gpa_to_hva(const struct vm *vm, gpa_t addr, uint64_t len);
/** Copies guest RAM out. False if the range leaves RAM. */
bool vm_read(const struct vm *vm, gpa_t addr, void *dst, uint64_t len);
/**
 * Copies into guest RAM and marks the pages it touched in the dirty log (stage 2 cannot see
 * hypervisor stores). The one write path for device models. False (nothing written) if the
 * range leaves RAM.
 */
bool vm_write(struct vm *vm, gpa_t addr, const void *src, uint64_t len);
/* ---- generic VM services (kernel/core/vm.c, vm_state.c) ---- */

/** Registers a piece of state for vm_state_save/load. Boot context. */
bool vm_register_vmstate(struct vm *vm, const struct vmstate_ops *ops);
/** Serialises every registered section; returns bytes written, 0 if cap was too small. */
size_t vm_state_save(struct vm *vm, void *buf, size_t cap);
/** Validates all sections, then applies them; on any error changes nothing and returns false. */
bool vm_state_load(struct vm *vm, const void *buf, size_t len);
/** Names the section holding byte off of a state stream ("(section VGIC +0x40) "). Pure. */
void vm_state_describe(const void *buf, size_t len, size_t off, char *out, size_t outlen);
void vm_pause(struct vm *vm);
/** A paused guest runs again; every state section's resume hook then runs (vm_state_resumed). */
void vm_resume(struct vm *vm);
/** Calls the resume hook of every registered section, in registration order. */
void vm_state_resumed(struct vm *vm);
/** Runs the vCPU until one exit has been handled. Hypervisor context. */
void vm_run_once(struct vm *vm);

/* ---- arch hooks (kernel/arch/<arch>/) ---- */

/**
 * The name `status` prints for category r (as exit_<name>=), or NULL for a category this arch
 * never counts, which `status` leaves out: the printed names are a contract with scripts, so
 * each arch keeps its own words for them. Pure, any context.
 */
const char *exit_arch_name(enum exit_reason r);

/**
 * Creates the VM's translation tables, VMID and interrupt controller, and registers the
 * arch's emulated devices (GIC distributor, redistributor) on vm->bus. Boot context.
 */
bool vm_arch_init(struct vm *vm);
/** Maps guest RAM (vm->ram) into stage 2 as normal, writable memory. Boot context. */
bool vm_arch_map_ram(struct vm *vm);
/**
 * Places the guest from a validated image bundle (image, its entries in info) into guest RAM,
 * which the caller zeroed, per the arch's boot protocol (arm64: kernel, initrd, command line and
 * a generated device tree), and sets vm->entry and vm->entry_arg. False (logged) if it does not
 * fit. Boot or hypervisor context, vCPU stopped (vm_boot).
 */
bool vm_arch_load_guest(struct vm *vm, const struct cv_image_info *info, const uint8_t *image);
/**
 * Puts the vCPU in its architectural reset state, to start at entry with arg in the first
 * argument register. Hypervisor context, vCPU stopped.
 */
void vcpu_arch_reset(struct vcpu *vcpu, gpa_t entry, uint64_t arg);
/**
 * Enters the guest and returns after handling exactly one exit (counted in vm->exits).
 * Host interrupts that arrive meanwhile are handled before it returns. Hypervisor context.
 */
void vcpu_arch_run(struct vcpu *vcpu);
/**
 * Sets the level of a virtual interrupt line of the VM (a device model's IRQ output).
 * Edge-style users raise and lower it. Hypervisor context.
 */
void vm_arch_irq_set_level(struct vm *vm, uint32_t intid, bool level);

/**
 * Moves the guest's virtual clock forward by ticks of the system counter (a failover: the
 * replica's saved offset was relative to the primary's counter). Hypervisor context, vCPU
 * stopped.
 */
void vm_arch_shift_virtual_time(struct vm *vm, int64_t ticks);
/**
 * Makes all of guest RAM as the hypervisor wrote it (checkpoint pages) visible to the guest
 * before it runs from it: guest_mem_arch_sync() of all of RAM, and TLB invalidation.
 * Hypervisor context, vCPU stopped.
 */
void vm_arch_sync_guest_code(struct vm *vm);
/**
 * The hypervisor wrote guest RAM [addr, addr+len) through its cacheable mapping (the image
 * loader, checkpoint pages): makes it visible to the guest's next accesses of every kind, data
 * with its MMU off (Device at stage 1: clean to the point of coherency unless stage 2 forces
 * write-back, FEAT_S2FWB) and instruction fetch (clean to the point of unification, invalidate
 * the instruction cache). A range outside RAM does nothing. Call before the guest runs again.
 * Hypervisor context, vCPU stopped.
 */
void guest_mem_arch_sync(struct vm *vm, gpa_t addr, uint64_t len);

/*
 * Dirty-logging hooks used by kernel/core/dirty.c, over the second-stage tables (arm64 stage 2,
 * x86 NPT/EPT). Hypervisor context, vCPU stopped.
 */

/** True if the CPU can do mode (DIRTY_HW needs hardware dirty state, e.g. FEAT_HAFDBS). */
bool dirty_arch_supported(struct vm *vm, enum dirty_mode mode);
/** Makes all of guest RAM read-only, or hardware-logged when mode is DIRTY_HW. */
bool dirty_arch_arm_all(struct vm *vm, enum dirty_mode mode);
/** Re-protects the pages set in bits (one bit per guest RAM page). */
void dirty_arch_rearm(struct vm *vm, enum dirty_mode mode, const uint64_t *bits);
/** DIRTY_HW: ORs the pages the hardware logged into out and re-arms them; returns the count. */
uint64_t dirty_arch_collect(struct vm *vm, uint64_t *out);
/** DIRTY_HW: counts pages the hardware logged that are not in known; changes nothing. */
uint64_t dirty_arch_count(struct vm *vm, const uint64_t *known);
/**
 * Makes one page writable after a logged write fault. True if it already was writable
 * (DIRTY_HW: the hardware has logged it, so its bit must not be treated as clean).
 */
bool dirty_arch_unprotect(struct vm *vm, gpa_t page);
/** Restores plain writable mappings for all of guest RAM. */
void dirty_arch_disarm(struct vm *vm);

#endif
