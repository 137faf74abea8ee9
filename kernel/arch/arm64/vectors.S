// SPDX-License-Identifier: Apache-2.0
// EL2 exception vectors, guest entry and guest exit. The guest's general registers, PC and
// PSTATE are the only state moved here: EL1 system registers, FP/SIMD, timer and GIC CPU
// interface stay live in the CPU (the hypervisor never uses them; see arch/vm.h).

#define REGS_PC     (31 * 8)

    .macro  ventry label
    .balign 0x80
    b       \label
    .endm

    .macro  guest_exit_entry kind
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mov     x1, #\kind
    b       guest_exit
    .endm

    .macro  hyp_fault_entry kind
    .balign 0x80
    sub     sp, sp, #(34 * 8)
    stp     x0, x1, [sp]
    mov     x1, #\kind
    b       hyp_fault
    .endm

    // The urgent timer preempting the hypervisor (arm64_el2_irq): the caller-saved registers,
    // the frame and link registers and ELR/SPSR are saved; EL2 code uses no FP/SIMD registers.
    .macro  hyp_irq_entry
    .balign 0x80
    sub     sp, sp, #(24 * 8)
    stp     x0, x1, [sp]
    b       hyp_irq
    .endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global hyp_vectors
hyp_vectors:
    // Current EL with SP_EL0: never used by the hypervisor.
    hyp_fault_entry 0
    hyp_fault_entry 1
    hyp_fault_entry 2
    hyp_fault_entry 3
    // Current EL with SP_EL2: a fault in the hypervisor itself, or the urgent timer's IRQ.
    hyp_fault_entry 4
    hyp_irq_entry
    hyp_fault_entry 6
    hyp_fault_entry 7
    // Lower EL, AArch64: the guest.
    guest_exit_entry 0
    guest_exit_entry 1
    guest_exit_entry 2
    guest_exit_entry 3
    // Lower EL, AArch32: the guest's EL0 may run AArch32 code.
    guest_exit_entry 0
    guest_exit_entry 1
    guest_exit_entry 2
    guest_exit_entry 3

    .text
// uint64_t arm64_guest_enter(struct vcpu_regs *regs): runs the guest until it exits and returns
// the exit kind (0 sync, 1 IRQ, 2 FIQ, 3 SError). The host's callee-saved registers stay on the
// EL2 stack meanwhile; TPIDR_EL2 points at the guest's register block.
    .global arm64_guest_enter
arm64_guest_enter:
    stp     x29, x30, [sp, #-16]!
    stp     x27, x28, [sp, #-16]!
    stp     x25, x26, [sp, #-16]!
    stp     x23, x24, [sp, #-16]!
    stp     x21, x22, [sp, #-16]!
    stp     x19, x20, [sp, #-16]!
    msr     tpidr_el2, x0

    ldp     x1, x2, [x0, #REGS_PC]
    msr     elr_el2, x1
    msr     spsr_el2, x2
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0]
    eret
    dsb     nsh
    isb

guest_exit:
    mrs     x0, tpidr_el2
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    str     x30, [x0, #240]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0]
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [x0, #REGS_PC]
    mov     x0, x1

    ldp     x19, x20, [sp], #16
    ldp     x21, x22, [sp], #16
    ldp     x23, x24, [sp], #16
    ldp     x25, x26, [sp], #16
    ldp     x27, x28, [sp], #16
    ldp     x29, x30, [sp], #16
    ret

hyp_irq:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    mrs     x0, elr_el2
    mrs     x1, spsr_el2
    stp     x30, x0, [sp, #160]
    str     x1, [sp, #176]
    bl      arm64_el2_irq
    ldr     x1, [sp, #176]
    ldp     x30, x0, [sp, #160]
    msr     elr_el2, x0
    msr     spsr_el2, x1
    ldp     x18, x29, [sp, #144]
    ldp     x16, x17, [sp, #128]
    ldp     x14, x15, [sp, #112]
    ldp     x12, x13, [sp, #96]
    ldp     x10, x11, [sp, #80]
    ldp     x8, x9, [sp, #64]
    ldp     x6, x7, [sp, #48]
    ldp     x4, x5, [sp, #32]
    ldp     x2, x3, [sp, #16]
    ldp     x0, x1, [sp]
    add     sp, sp, #(24 * 8)
    eret

// A fault at EL2: save everything into a frame on the stack and let C print the dump.
hyp_fault:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    add     x2, sp, #(34 * 8)
    str     x2, [sp, #248]
    mov     x0, sp
    bl      arm64_hyp_fault
1:  wfi
    b       1b
