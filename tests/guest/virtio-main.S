/* SPDX-License-Identifier: MIT */
/*
 * virtio-main.S: start-up of the virtio test guest.  Real mode -> 32-bit
 * protected mode (pm32.S) -> long mode (lm64.S) -> vt_main
 * (virtio-main.c) on a stack in low RAM (VT_STACK_TOP in
 * virtio-guest.h).  vt_main does not return; if it did, halt.
 */
#include "guest.h"

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(m_boot), %si
    call puts16
    jmp enter_pm32
m_boot: .asciz "virtio: boot\n"

    .code64
    .text
    .globl main64
main64:
    movl $0x80000, %esp
    call vt_main
1:  cli
    hlt
    jmp 1b
