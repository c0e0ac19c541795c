/* SPDX-License-Identifier: MIT */
/*
 * mmio.S: unmapped MMIO guest.  Enters 32-bit flat protected mode, reads
 * the dword at 0xd0000000 (nothing is mapped there), writes 0x12345678 to
 * it and reads it again.  Prints "mmio: read1=XXXXXXXX" and
 * "mmio: read2=XXXXXXXX"; on vireo both must be ffffffff (unmapped reads
 * return all ones, writes are dropped).  Then powers off.
 */
#include "guest.h"

#define UNMAPPED 0xd0000000

    .code32
    .text
    .globl main32
main32:
    movl $m_start, %esi
    call puts32
    movl UNMAPPED, %ebx
    movl $m_r1, %esi
    call puts32
    movl %ebx, %eax
    call puthex32
    movb $'\n', %al
    call putc32
    movl $0x12345678, UNMAPPED
    movl UNMAPPED, %ebx
    movl $m_r2, %esi
    call puts32
    movl %ebx, %eax
    call puthex32
    movb $'\n', %al
    call putc32
    jmp poweroff32

    .section .rodata
m_start: .asciz "mmio: 32-bit protected mode\n"
m_r1:    .asciz "mmio: read1="
m_r2:    .asciz "mmio: read2="
