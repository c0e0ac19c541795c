/* SPDX-License-Identifier: MIT */
/*
 * smp.S: the application-processor side of the fake kernels' SMP check.
 * ap_trampoline is copied to 0x8000 (SIPI vector 0x08); an AP starts there
 * in real mode, loads the GDT below, enters 32-bit protected mode, reads
 * its APIC id from the LAPIC and records it in ap_ids[], then halts.
 */
    .section .rodata
    .balign 8
    .globl ap_trampoline, ap_trampoline_end
ap_trampoline:
    .code16
    cli
    lgdtl %cs:(ap_gdt_desc - ap_trampoline)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $ap_entry32
    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff
    .quad 0x00cf93000000ffff
ap_gdt_desc:
    .word 23
    .long 0x8000 + (ap_gdt - ap_trampoline)
ap_trampoline_end:

    .text
    .code32
ap_entry32:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl 0xfee00020, %eax
    shrl $24, %eax
    movl $1, %ecx
    lock xaddl %ecx, ap_count
    andl $63, %ecx
    movl %eax, ap_ids(, %ecx, 4)
1:  cli
    hlt
    jmp 1b

    .data
    .balign 4
    .globl ap_count, ap_ids
ap_count:
    .long 0
ap_ids:
    .fill 64, 4, 0

    .section .note.GNU-stack, "", @progbits
