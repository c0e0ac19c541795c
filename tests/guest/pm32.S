/* SPDX-License-Identifier: MIT */
/*
 * pm32.S: switch from real mode to 32-bit protected mode with flat 4 GiB
 * segments (jump to enter_pm32 from 16-bit code; it continues at main32,
 * which the guest defines), plus the 32-bit serial/exit library.  The GDT
 * lives in the ROM, so every descriptor has its accessed bit preset: the
 * CPU must never need to write it.
 */
#include "guest.h"

    .code16
    .section .text16, "ax"
/* A guest with nothing to do in real mode need not define main16. */
    .weak main16
main16:
    .globl enter_pm32
enter_pm32:
    cli
    lgdtl %cs:RM(gdt_desc)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CODE32, $pm32_start

    .code32
    .text
pm32_start:
    movw $SEL_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $STACK32_TOP, %esp
    jmp main32

/* putc32: write %al to COM1 */
    .globl putc32
putc32:
    pushl %edx
    pushl %eax
    movw $COM1_LSR, %dx
1:  inb %dx, %al
    testb $LSR_THRE, %al
    jz 1b
    popl %eax
    movw $COM1, %dx
    outb %al, %dx
    popl %edx
    ret

/* puts32: write the NUL-terminated string at %esi (clobbers %esi) */
    .globl puts32
puts32:
    pushl %eax
1:  movb (%esi), %al
    incl %esi
    testb %al, %al
    jz 2f
    call putc32
    jmp 1b
2:  popl %eax
    ret

/* puthex32: write %eax as eight hex digits */
    .globl puthex32
puthex32:
    pushl %eax
    pushl %ecx
    pushl %edx
    movl %eax, %edx
    movl $8, %ecx
1:  roll $4, %edx
    movb %dl, %al
    andb $0x0f, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 2f
    addb $('a' - '0' - 10), %al
2:  call putc32
    loop 1b
    popl %edx
    popl %ecx
    popl %eax
    ret

/* poweroff32: as poweroff16 */
    .globl poweroff32
poweroff32:
    movw $ACPI_SLEEP_CTL_PORT, %dx
    movb $ACPI_S5_VALUE, %al
    outb %al, %dx
    movl $POWEROFF_GRACE, %ecx      /* see poweroff16 */
    movw $COM1_LSR, %dx
1:  inb %dx, %al
    decl %ecx
    jnz 1b
    xorb %al, %al
    outb %al, $DEBUG_EXIT_PORT
    movl $msg_nopoweroff32, %esi
    call puts32
    cli
2:  hlt
    jmp 2b

    .section .rodata
msg_nopoweroff32:
    .asciz "guest: poweroff failed, halting\n"

    .balign 8
    .globl gdt
gdt:
    .quad 0
    .quad 0x00cf9b000000ffff        /* 0x08: code32, flat, accessed */
    .quad 0x00cf93000000ffff        /* 0x10: data32, flat, accessed */
    .quad 0x00af9b000000ffff        /* 0x18: code64 (L=1), accessed */
gdt_end:
    .balign 8
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
    /* A zero-limit IDT: any exception then escalates to a triple fault. */
    .balign 8
    .word 0
    .globl idt_empty_desc
idt_empty_desc:
    .word 0
    .quad 0
