/* SPDX-License-Identifier: MIT */
/*
 * lm64.S: from 32-bit protected mode (pm32.S jumps to main32) into long
 * mode, for the 64-bit guests: identity page tables for the first 4 GiB
 * in 2 MiB pages at PAGE_TABLES, the MMIO range 0xb0000000..0xffdfffff
 * (ECAM, BARs, virtio-mmio, APICs) uncached (PCD|PWT), the firmware's
 * last 2 MiB cached; then CR4.PAE, CR3, EFER.LME, CR0.PG and a far jump
 * to the guest's main64 in the 64-bit code segment (Intel SDM 3A 9.8.5).
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

    .code32
    .text
    .globl main32
main32:
    /* clear 6 pages: PML4, PDPT, 4 PDs */
    movl $PML4, %edi
    movl $(6 * 1024), %ecx
    xorl %eax, %eax
    rep stosl
    movl $(PDPT | 3), PML4
    movl $(PD0 | 3), PDPT
    movl $(PD0 + 0x1000 | 3), PDPT + 8
    movl $(PD0 + 0x2000 | 3), PDPT + 16
    movl $(PD0 + 0x3000 | 3), PDPT + 24
    /* 2048 PDEs: entry i maps i * 2 MiB */
    movl $PD0, %edi
    xorl %edx, %edx
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
