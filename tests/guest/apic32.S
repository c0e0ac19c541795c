/* SPDX-License-Identifier: MIT */
/*
 * apic32.S: interrupt plumbing for 32-bit protected-mode test guests
 * (with pm32.S): an IDT in RAM whose every vector goes to a "stray"
 * handler that reports FAIL, gates for the vectors a guest handles, the
 * 8259s masked (as an OS does: KVM leaves the BSP's LINT0 in ExtINT mode),
 * the LAPIC software-enabled, IOAPIC register writes, and the return from
 * an interrupt handler.  Handlers return without IRET: KVM's instruction
 * emulator, which runs all guest code on this test machine, implements
 * IRET only in real mode; POPF of the saved flags, then RET $8 past CS and
 * EFLAGS does the same for a same-privilege interrupt.
 */
#include "guest.h"

    .code32
    .text
/* set_gate: IDT entry %ebx -> handler %eax */
    .globl set_gate
set_gate:
    pushl %edx
    movl %eax, %edx
    andl $0xffff, %edx
    orl $(SEL_CODE32 << 16), %edx
    movl %edx, APIC32_IDT(, %ebx, 8)
    movl %eax, %edx
    andl $0xffff0000, %edx
    orl $0x8e00, %edx               /* present, DPL 0, 32-bit interrupt gate */
    movl %edx, APIC32_IDT + 4(, %ebx, 8)
    popl %edx
    ret

/* apic_setup: IDT (all vectors stray), 8259s masked, LAPIC enabled with
 * spurious vector 0xff and TPR 0.  Interrupts stay disabled. */
    .globl apic_setup
apic_setup:
    pushl %eax
    pushl %ebx
    xorl %ebx, %ebx
1:  movl $isr_stray, %eax
    call set_gate
    incl %ebx
    cmpl $256, %ebx
    jne 1b
    lidtl apic32_idt_desc
    movb $0xff, %al
    outb %al, $0x21
    outb %al, $0xa1
    movl $0x1ff, LAPIC_BASE + LAPIC_SVR
    movl $0, LAPIC_BASE + LAPIC_TPR
    popl %ebx
    popl %eax
    ret

/* ioapic_write: IOAPIC register %ebx = %eax */
    .globl ioapic_write
ioapic_write:
    movl %ebx, IOAPIC_BASE
    movl %eax, IOAPIC_BASE + 0x10
    ret

/* ioapic_read: %eax = IOAPIC register %ebx */
    .globl ioapic_read
ioapic_read:
    movl %ebx, IOAPIC_BASE
    movl IOAPIC_BASE + 0x10, %eax
    ret

/* isr_return: jump here at the end of a handler, registers restored */
    .globl isr_return
isr_return:
    pushl 8(%esp)
    popfl
    ret $8

isr_stray:
    movl $m_stray, %esi
    call puts32
    jmp poweroff32

    .section .rodata
m_stray: .asciz "guest: FAIL unexpected interrupt vector\n"
    .balign 8
    .word 0
apic32_idt_desc:
    .word 256 * 8 - 1
    .long APIC32_IDT
