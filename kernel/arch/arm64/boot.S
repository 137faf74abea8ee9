// SPDX-License-Identifier: Apache-2.0
// Entry point. The image carries the arm64 Linux Image header so that QEMU's -kernel and
// ordinary boot loaders load it 2 MiB-aligned with x0 = device tree, and enter at EL2.

    .section .text.head, "ax"
    .global _head
_head:
    b       _start                      // code0
    .long   0                           // code1
    .quad   0                           // text_offset: load 2 MiB above a 2 MiB boundary
    .quad   __image_end - _head         // image_size, including bss and stack
    .quad   0x2                         // flags: little endian, 4 KiB pages, near RAM base
    .quad   0, 0, 0                     // reserved
    .ascii  "ARM\x64"                   // magic
    .long   0                           // reserved (PE header offset)

_start:
    msr     daifset, #0xf
    mov     x19, x0                     // device tree, kept for hv_main

    // The UART is usable without set-up on QEMU and on most boot loaders' hand-off; used only
    // to say why we stop when the entry conditions are wrong.
    mrs     x0, CurrentEL
    lsr     x0, x0, #2
    cmp     x0, #2
    b.ne    not_el2

    adr     x0, _head
    ldr     x1, =_head
    cmp     x0, x1
    b.ne    wrong_address

    // Known state for EL2: MMU and caches off until arm64_mmu_init, little endian.
    ldr     x0, =0x30c50830
    msr     sctlr_el2, x0
    isb

    ldr     x0, =__stack_top
    mov     sp, x0

    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    str     xzr, [x0], #8
    b       1b
2:
    adr     x0, hyp_vectors
    msr     vbar_el2, x0
    isb

    mov     x0, x19
    bl      arm64_boot
3:  wfi
    b       3b

not_el2:
    adr     x0, msg_not_el2
    b       early_fail
wrong_address:
    adr     x0, msg_wrong_addr
early_fail:
    ldr     x1, =EARLY_UART
1:  ldrb    w2, [x0], #1
    cbz     w2, 3f
2:  ldr     w3, [x1, #0x18]             // UARTFR
    tbnz    w3, #5, 2b                  // TXFF
    str     w2, [x1]
    b       1b
3:  wfi
    b       3b

    .section .rodata
msg_not_el2:
    .asciz  "colovisor: not entered at EL2 (boot QEMU with -M virt,virtualization=on); stopping\r\n"
msg_wrong_addr:
    .asciz  "colovisor: loaded at the wrong address (expected 2 MiB above RAM base); stopping\r\n"
