/* SPDX-License-Identifier: MIT */
/*
 * longmode.S: 64-bit guest.  Real mode -> 32-bit protected mode -> builds
 * identity page tables for the first 4 GiB (2 MiB pages) in low RAM,
 * sets CR4.PAE, CR3, EFER.LME, CR0.PG and far-jumps into a 64-bit code
 * segment; lm_main (longmode.c) prints from 64-bit code; then a
 * zero-limit IDT and a division by zero triple-fault the CPU in long
 * mode, so a "-d cpu_reset" dump shows EFER.LMA, CR0.PG, CR4.PAE and a
 * CS64 code segment.
 */
#include "guest.h"

#define PML4 (PAGE_TABLES)
#define PDPT (PAGE_TABLES + 0x1000)
#define PD0  (PAGE_TABLES + 0x2000)

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(m_boot), %si
    call puts16
    jmp enter_pm32
m_boot: .asciz "longmode: boot\n"

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
    /* 2048 PDEs: entry i maps i * 2 MiB, present|rw|accessed|dirty|PS */
    movl $PD0, %edi
    movl $0xe3, %eax
    movl $2048, %ecx
1:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    decl %ecx
    jnz 1b

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
