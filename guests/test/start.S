// SPDX-License-Identifier: Apache-2.0
// Entry and exception vectors of the test guest. The image carries the arm64 Linux Image
// header, so QEMU's -kernel (and the hypervisor's loader) put it 2 MiB above RAM base and enter
// it at EL1 with x0 = device tree, MMU off.

#define FRAME_SIZE (34 * 8)
#define SCTLR_EL1_RES1 0x30d00800

    .section .text.head, "ax"
    .global _text
_text:
    b       _start                      // code0
    .long   0                           // code1
    .quad   0                           // text_offset: 2 MiB above RAM base on QEMU
    .quad   _end - _text                // image_size, including bss and stack
    .quad   0x2                         // flags: little endian, 4 KiB pages, near RAM base
    .quad   0, 0, 0                     // reserved
    .ascii  "ARM\x64"                   // magic
    .long   0                           // reserved (PE header offset)

_start:
    msr     daifset, #0xf
    mov     x19, x0

    mrs     x0, CurrentEL
    lsr     x0, x0, #2
    cmp     x0, #1
    b.ne    not_el1

    adr     x0, _text
    ldr     x1, =_text
    cmp     x0, x1
    b.ne    wrong_address

    // Known state: MMU and caches off, little endian, until mmu_init.
    ldr     x0, =SCTLR_EL1_RES1
    msr     sctlr_el1, x0
    isb

    msr     spsel, #1
    ldr     x0, =__stack_top
    mov     sp, x0

    adr     x0, vectors
    msr     vbar_el1, x0
    isb

    // mmu_init builds the tables and returns the SCTLR_EL1 value; switching here means no C
    // frame written with the MMU off is read back through the cache.
    bl      mmu_init
    dsb     sy
    msr     sctlr_el1, x0
    isb

    // Cleared with the MMU on, so the zeroes are what the cache holds.
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:
    mov     x0, x19
    bl      guest_main
3:  wfi
    b       3b

not_el1:
    adr     x0, msg_not_el1
    b       early_fail
wrong_address:
    adr     x0, msg_wrong_address
early_fail:
    // Polled PL011 output, MMU off: enough to say why we stop.
    mov     x1, #0x09000000
4:  ldrb    w2, [x0], #1
    cbz     w2, 6f
5:  ldr     w3, [x1, #0x18]
    tbnz    w3, #5, 5b
    str     w2, [x1]
    b       4b
6:  wfi
    b       6b

    // Target of the CPU_ON probe in the psci command: if a second CPU ever starts, it parks.
    .global secondary_entry
secondary_entry:
    msr     daifset, #0xf
7:  wfe
    b       7b

    .section .rodata.start, "a"
msg_not_el1:
    .asciz  "testguest: error: not entered at EL1, stopping\r\n"
msg_wrong_address:
    .asciz  "testguest: error: not loaded at its link address 0x40200000, stopping\r\n"

    .section .text.vectors, "ax"

// Every vector saves the full register frame and calls exc_entry(frame, vector index). The
// handler may change the saved ELR (to step over a faulting instruction) before we return.
.macro vent idx
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x1, #\idx
    b       exc_common
.endm

    .balign 0x800
vectors:
    vent    0                           // current EL, SP_EL0: sync
    vent    1                           //   IRQ
    vent    2                           //   FIQ
    vent    3                           //   SError
    vent    4                           // current EL, SP_ELx: sync
    vent    5                           //   IRQ
    vent    6                           //   FIQ
    vent    7                           //   SError
    vent    8                           // lower EL, AArch64
    vent    9
    vent    10
    vent    11
    vent    12                          // lower EL, AArch32
    vent    13
    vent    14
    vent    15

exc_common:
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
    add     x2, sp, #FRAME_SIZE
    stp     x30, x2, [sp, #240]
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x2, x3, [sp, #256]

    mov     x0, sp
    bl      exc_entry

    ldp     x2, x3, [sp, #256]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    add     sp, sp, #FRAME_SIZE
    eret

    .section .note.GNU-stack, "", %progbits
