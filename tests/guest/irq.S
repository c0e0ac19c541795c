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
 * The IDT, 8259 masking, LAPIC set-up and handler return are apic32.S's.
 */
#include "guest.h"

#define COUNT 0x21000
#define VEC_EDGE 0x31
#define VEC_LEVEL 0x41
#define RTE4_LO IOAPIC_RTE_LO(4)
#define RTE4_HI IOAPIC_RTE_HI(4)
#define COM1_IER (COM1 + 1)
#define COM1_IIR (COM1 + 2)
#define WAIT_LOOPS 300000

    .code32
    .text
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
    call apic_setup
    movl $VEC_EDGE, %ebx
    movl $isr_edge, %eax
    call set_gate
    movl $VEC_LEVEL, %ebx
    movl $isr_level, %eax
    call set_gate
    movl $0, COUNT

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
    call ioapic_read
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
    movl $0, LAPIC_BASE + LAPIC_EOI
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
1:  movl $0, LAPIC_BASE + LAPIC_EOI
    popl %edx
    popl %eax
    jmp isr_return

    .section .rodata
m_start:      .asciz "irq: start\n"
m_edge_ok:    .asciz "irq: edge ok\n"
m_level_ok:   .asciz "irq: level ok\n"
m_edge_none:  .asciz "irq: FAIL edge: no interrupt, count="
m_edge_many:  .asciz "irq: FAIL edge: more than one interrupt, count="
m_level_few:  .asciz "irq: FAIL level: no redelivery after EOI, count="
m_level_many: .asciz "irq: FAIL level: interrupts after the source was cleared, count="
m_level_rirr: .asciz "irq: FAIL level: Remote IRR still set, count="
