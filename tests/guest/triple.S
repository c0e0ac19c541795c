/* SPDX-License-Identifier: MIT */
/*
 * triple.S: triple-fault guest.  Prints "triple: boot" (once per boot),
 * enters 32-bit protected mode, loads a zero-limit IDT and divides by
 * zero: #DE cannot be delivered -> #GP -> #DF -> triple fault -> the VMM
 * resets the machine (and the guest prints the line again), or exits 0
 * with -no-reboot.  Reaching the line after the division is a failure.
 */
#include "guest.h"

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(m_boot), %si
    call puts16
    jmp enter_pm32

    .code32
    .text
    .globl main32
main32:
    lidt idt_empty_desc
    xorl %ecx, %ecx
    xorl %edx, %edx
    movl $1, %eax
    divl %ecx
    movl $m_survived, %esi
    call puts32
    jmp poweroff32

    .section .rodata
m_survived: .asciz "triple: FAIL survived the fault\n"

    .section .text16, "ax"
m_boot: .asciz "triple: boot\n"
