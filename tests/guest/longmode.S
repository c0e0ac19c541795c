/* SPDX-License-Identifier: MIT */
/*
 * longmode.S: 64-bit guest.  Real mode -> 32-bit protected mode (pm32.S)
 * -> long mode with identity page tables for the first 4 GiB (lm64.S,
 * which jumps to main64 here in a 64-bit code segment); lm_main
 * (longmode.c) prints from 64-bit code; then a zero-limit IDT and a
 * division by zero triple-fault the CPU in long mode, so a "-d cpu_reset"
 * dump shows EFER.LMA, CR0.PG, CR4.PAE and a CS64 code segment.
 */
#include "guest.h"

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(m_boot), %si
    call puts16
    jmp enter_pm32
m_boot: .asciz "longmode: boot\n"

    .code64
    .text
    .globl main64
main64:
    movl $STACK32_TOP, %esp
    call lm_main
    lidt idt_empty_desc(%rip)
    xorl %ecx, %ecx
    xorl %edx, %edx
    movl $1, %eax
    divl %ecx
    /* not reached unless the fault was swallowed */
    leaq m_survived(%rip), %rdi
    call lm_puts
    cli
2:  hlt
    jmp 2b

    .section .rodata
m_survived: .asciz "longmode: FAIL survived the fault\n"
