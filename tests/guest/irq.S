/* SPDX-License-Identifier: MIT */
/*
 * irq.S: interrupt delivery through the IOAPIC and the LAPIC.  In 32-bit
 * protected mode it builds an IDT, enables the LAPIC and routes COM1's
 * IRQ 4 through IOAPIC pin 4, then makes the UART raise its line by
 * enabling the "transmitter empty" interrupt:
 *   1. edge-triggered, vector 0x31: the handler reads IIR (which clears the
 *      source) and EOIs; exactly one interrupt must arrive.
 *   2. level-triggered, vector 0x41: the first time the handler EOIs
 *      WITHOUT clearing the source, so the IOAPIC must deliver again once
 *      the EOI reaches it (with a split irqchip: KVM_EXIT_IOAPIC_EOI to
 *      the userspace IOAPIC); the second time it clears the source first.
 *      Exactly two interrupts, and Remote IRR must read 0 afterwards.
 * Each step prints "irq: ... ok" or "irq: FAIL ...", waiting a bounded
 * number of iterations (never an unbounded HLT), then powers off.  The
 * same image must pass with either irqchip mode and under QEMU microvm.
 * The 8259s (where present) are masked first, as an OS does: KVM leaves
 * the BSP's LINT0 in ExtINT mode, so they would deliver IRQ 4 too.
 * Handlers return without IRET (KVM's instruction emulator, which runs
 * all guest code on this test machine, implements IRET only in real
 * mode): POPF of the saved flags, then RET $8 past CS and EFLAGS.
 */
#include "guest.h"

#define IDT 0x20000
#define COUNT 0x21000
#define VEC_EDGE 0x31
#define VEC_LEVEL 0x41
#define LAPIC 0xfee00000
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define IOAPIC_SEL 0xfec00000
#define IOAPIC_WIN 0xfec00010
#define RTE4_LO (0x10 + 2 * 4)
#define RTE4_HI (RTE4_LO + 1)
#define COM1_IER (COM1 + 1)
#define COM1_IIR (COM1 + 2)
#define WAIT_LOOPS 300000

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    jmp enter_pm32

    .code32
    .text
/* set_gate: IDT entry %eax = handler address for vector %ebx */
set_gate:
    pushl %edx
    movl %eax, %edx
    andl $0xffff, %edx
    orl $(SEL_CODE32 << 16), %edx
    movl %edx, IDT(, %ebx, 8)
    movl %eax, %edx
    andl $0xffff0000, %edx
    orl $0x8e00, %edx               /* present, DPL 0, 32-bit interrupt gate */
    movl %edx, IDT + 4(, %ebx, 8)
    popl %edx
    ret

/* ioapic_write: register %ebx = %eax */
ioapic_write:
    movl %ebx, IOAPIC_SEL
    movl %eax, IOAPIC_WIN
    ret

/* wait_count: spin until COUNT == %eax or the bound runs out; ZF=1 if
 * reached.  Interrupts are enabled while spinning. */
wait_count:
    pushl %ecx
    movl $WAIT_LOOPS, %ecx
    sti
1:  cmpl %eax, COUNT
    je 2f
    loop 1b
2:  cli
    popl %ecx
    cmpl %eax, COUNT
    ret

/* settle: spin a while with interrupts enabled (catches extra ones) */
settle:
    pushl %ecx
    movl $(WAIT_LOOPS / 10), %ecx
    sti
1:  loop 1b
    cli
    popl %ecx
    ret

    .globl main32
main32:
    movl $m_start, %esi
    call puts32
    /* every vector to the stray handler, then the two under test */
    xorl %ebx, %ebx
1:  movl $isr_stray, %eax
    call set_gate
    incl %ebx
    cmpl $256, %ebx
    jne 1b
    movl $VEC_EDGE, %ebx
    movl $isr_edge, %eax
    call set_gate
    movl $VEC_LEVEL, %ebx
    movl $isr_level, %eax
    call set_gate
    lidtl idt_desc
    movb $0xff, %al                 /* mask both 8259s */
    outb %al, $0x21
    outb %al, $0xa1
    movl $0, COUNT
    /* LAPIC: software-enabled, spurious vector 0xff, accept all priorities */
    movl $0x1ff, LAPIC + LAPIC_SVR
    movl $0, LAPIC + LAPIC_TPR

    /* --- 1: edge --- */
    movl $RTE4_HI, %ebx
    xorl %eax, %eax                 /* physical destination APIC 0 */
    call ioapic_write
    movl $RTE4_LO, %ebx
    movl $VEC_EDGE, %eax            /* fixed, physical, edge, unmasked */
    call ioapic_write
    movw $COM1_IER, %dx
    movb $0x02, %al                 /* THR empty interrupt */
    outb %al, %dx
    movl $1, %eax
    call wait_count
    jne fail_edge_none
    call settle
    cmpl $1, COUNT
    jne fail_edge_many
    movl $m_edge_ok, %esi
    call puts32

    /* --- 2: level --- */
    movl $0, COUNT
    movl $RTE4_LO, %ebx
    movl $(0x8000 | VEC_LEVEL), %eax /* level-triggered, unmasked */
    call ioapic_write
    movw $COM1_IER, %dx
    movb $0x02, %al
    outb %al, %dx
    movl $2, %eax
    call wait_count
    jne fail_level_few
    call settle
    cmpl $2, COUNT
    jne fail_level_many
    movl $RTE4_LO, %ebx
    movl %ebx, IOAPIC_SEL
    movl IOAPIC_WIN, %eax
    testl $0x4000, %eax             /* Remote IRR */
    jnz fail_level_rirr
    movl $m_level_ok, %esi
    call puts32
    jmp poweroff32

fail_edge_none:
    movl $m_edge_none, %esi
    jmp fail
fail_edge_many:
    movl $m_edge_many, %esi
    jmp fail
fail_level_few:
    movl $m_level_few, %esi
    jmp fail
fail_level_many:
    movl $m_level_many, %esi
    jmp fail
fail_level_rirr:
    movl $m_level_rirr, %esi
fail:
    call puts32
    movl COUNT, %eax
    call puthex32
    movb $'\n', %al
    call putc32
    jmp poweroff32

/* edge: clear the source (reading IIR drops THRI), count, EOI */
isr_edge:
    pushl %eax
    pushl %edx
    movw $COM1_IIR, %dx
    inb %dx, %al
    movw $COM1_IER, %dx
    xorb %al, %al
    outb %al, %dx
    incl COUNT
    movl $0, LAPIC + LAPIC_EOI
    popl %edx
    popl %eax
    jmp isr_return

/* level: the first time EOI with the line still high (the IOAPIC must
 * deliver again), the second time clear the source first */
isr_level:
    pushl %eax
    pushl %edx
    incl COUNT
    cmpl $2, COUNT
    jb 1f
    movw $COM1_IER, %dx
    xorb %al, %al
    outb %al, %dx
    movw $COM1_IIR, %dx
    inb %dx, %al
1:  movl $0, LAPIC + LAPIC_EOI
    popl %edx
    popl %eax
    jmp isr_return

/* IRET for a same-privilege interrupt: the stack holds EIP, CS, EFLAGS */
isr_return:
    pushl 8(%esp)
    popfl
    ret $8

isr_stray:
    movl $m_stray, %esi
    call puts32
    jmp poweroff32

    .section .rodata
m_start:      .asciz "irq: start\n"
m_edge_ok:    .asciz "irq: edge ok\n"
m_level_ok:   .asciz "irq: level ok\n"
m_edge_none:  .asciz "irq: FAIL edge: no interrupt, count="
m_edge_many:  .asciz "irq: FAIL edge: more than one interrupt, count="
m_level_few:  .asciz "irq: FAIL level: no redelivery after EOI, count="
m_level_many: .asciz "irq: FAIL level: interrupts after the source was cleared, count="
m_level_rirr: .asciz "irq: FAIL level: Remote IRR still set, count="
m_stray:      .asciz "irq: FAIL unexpected vector\n"
    .balign 8
    .word 0
idt_desc:
    .word 256 * 8 - 1
    .long IDT
