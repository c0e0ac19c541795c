/* SPDX-License-Identifier: MIT */
/*
 * gdtrom.S: a firmware that keeps its GDT in its image with the descriptors'
 * accessed bits clear, as real firmware does (issue 13).  Loading a segment
 * register makes the CPU set the accessed bit in the descriptor (Intel SDM
 * vol. 3A 3.4.5.1), i.e. write to the image: on a read-only firmware
 * mapping that write cannot complete and the guest hangs at its first
 * protected-mode jump.  QEMU maps -bios writable on microvm.  Prints
 * "gdtrom: access=0000CCDD", the code and data descriptors' access bytes
 * (93 for data once the CPU has set its bit; QEMU's TCG leaves the code
 * descriptor's at 9a, KVM sets it to 9b), and powers off.
 */
#include "guest.h"

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    cli
    lgdtl %cs:RM(rw_gdt_desc)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CODE32, $start32

    .code32
    .text
start32:
    movw $SEL_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $STACK32_TOP, %esp
    .globl main32
main32:
    movl $m_access, %esi
    call puts32
    movzbl rw_gdt + SEL_CODE32 + 5, %eax
    shll $8, %eax
    movb rw_gdt + SEL_DATA32 + 5, %al
    call puthex32
    movb $'\n', %al
    call putc32
    jmp poweroff32

    .section .rodata
m_access: .asciz "gdtrom: access="

    .balign 8
rw_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: code32, flat, NOT accessed */
    .quad 0x00cf92000000ffff        /* 0x10: data32, flat, NOT accessed */
rw_gdt_end:
    .balign 8
    .word 0
rw_gdt_desc:
    .word rw_gdt_end - rw_gdt - 1
    .long rw_gdt
