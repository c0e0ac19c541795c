/* SPDX-License-Identifier: MIT */
/*
 * multiboot.S: entry of the fake multiboot v1 kernel (ELF32).  The loader
 * starts it in 32-bit flat protected mode with EAX = 0x2BADB002 and
 * EBX = the multiboot information structure.
 */
    .section .multiboot, "a"
    .balign 4
    .long 0x1BADB002
    .long 0x00000003     /* page-aligned modules, memory info */
    .long -(0x1BADB002 + 0x00000003)

    .text
    .code32
    .globl mb_start
mb_start:
    cli
    cld
    movl %eax, %edx
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $stack_top, %esp
    pushl %ebx
    pushl %edx
    call mb_main
1:  hlt
    jmp 1b

    .bss
    .balign 16
    .skip 8192
stack_top:

    .section .note.GNU-stack, "", @progbits
