/* SPDX-License-Identifier: MIT */
/*
 * virtio-main.S: start-up of the virtio test guest.  Real mode -> 32-bit
 * protected mode (pm32.S) -> identity page tables for the first 4 GiB in
 * 2 MiB pages, with the MMIO range 0xb0000000..0xffdfffff (ECAM, BARs,
 * virtio-mmio, APICs) uncached -> long mode -> vt_main (virtio-main.c),
 * on a stack in low RAM.  vt_main never returns.
 */
#include "guest.h"

#define PML4 (PAGE_TABLES)
#define PDPT (PAGE_TABLES + 0x1000)
#define PD0  (PAGE_TABLES + 0x2000)
/* 2 MiB page: present|rw|accessed|dirty|PS; PCD|PWT for MMIO */
#define PDE_WB 0xe3
#define PDE_UC 0xfb
#define UC_FIRST (0xb0000000 >> 21)
#define UC_LAST ((0xffe00000 >> 21) - 1)

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(m_boot), %si
    call puts16
    jmp enter_pm32
m_boot: .asciz "virtio: boot\n"

    .code32
    .text
    .globl main32
main32:
    movl $PML4, %edi
    movl $(6 * 1024), %ecx
    xorl %eax, %eax
    rep stosl
    movl $(PDPT | 3), PML4
    movl $(PD0 | 3), PDPT
    movl $(PD0 + 0x1000 | 3), PDPT + 8
    movl $(PD0 + 0x2000 | 3), PDPT + 16
    movl $(PD0 + 0x3000 | 3), PDPT + 24
    movl $PD0, %edi
    xorl %edx, %edx                 /* PDE index */
1:  movl %edx, %eax
    shll $21, %eax
    orl $PDE_WB, %eax
    cmpl $UC_FIRST, %edx
    jb 2f
    cmpl $UC_LAST, %edx
    ja 2f
    orl $(PDE_UC ^ PDE_WB), %eax
2:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $8, %edi
    incl %edx
    cmpl $2048, %edx
    jb 1b

    movl $PML4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $0xc0000080, %ecx          /* EFER */
    rdmsr
    orl $0x100, %eax                /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax           /* PG */
    movl %eax, %cr0
    ljmpl $SEL_CODE64, $main64

    .code64
main64:
    movl $0x80000, %esp
    call vt_main
1:  cli
    hlt
    jmp 1b
