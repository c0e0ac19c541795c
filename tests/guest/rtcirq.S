/* SPDX-License-Identifier: MIT */
/*
 * rtcirq.S: the CMOS RTC's interrupts on ISA IRQ 8, through IOAPIC pin 8
 * (edge, active high: no override in the MADT) to vector 0x38.
 *   1. periodic: 1024 Hz (register A 0x26), PIE; the handler reads C and
 *      counts interrupts whose C has IRQF|PF; three must arrive.
 *   2. update-ended: UIE only (PIE off, rate 0); one interrupt whose C is
 *      IRQF|UF must arrive within the bound (about a second).
 * Each step prints "rtcirq: ... ok" or "rtcirq: FAIL ..." with the count
 * and the last C value; then powers off.  The same image runs under QEMU
 * microvm for comparison.
 */
#include "guest.h"

#define VEC_RTC 0x38
#define COUNT 0x21000
#define LASTC 0x21004
#define WAIT_LOOPS 20000000

    .code32
    .text
/* cmos_write: register %bl = %al */
cmos_write:
    xchgb %al, %bl
    outb %al, $0x70
    xchgb %al, %bl
    outb %al, $0x71
    ret

/* cmos_read: %al = register %bl */
cmos_read:
    movb %bl, %al
    outb %al, $0x70
    inb $0x71, %al
    ret

/* wait_count: spin with interrupts on until COUNT >= %eax or the bound
 * runs out; ZF=1 (via cmp) if reached */
wait_count:
    pushl %ecx
    movl $WAIT_LOOPS, %ecx
    sti
1:  cmpl %eax, COUNT
    jae 2f
    loop 1b
2:  cli
    popl %ecx
    cmpl %eax, COUNT
    jae 3f
    cmpl $0, %eax                   /* clears ZF: %eax > 0 */
3:  ret

    .globl main32
main32:
    movl $m_start, %esi
    call puts32
    call apic_setup
    movl $VEC_RTC, %ebx
    movl $isr_rtc, %eax
    call set_gate
    movl $IOAPIC_RTE_HI(8), %ebx
    xorl %eax, %eax
    call ioapic_write
    movl $IOAPIC_RTE_LO(8), %ebx
    movl $VEC_RTC, %eax             /* fixed, edge, active high, unmasked */
    call ioapic_write

    /* --- 1: periodic --- */
    movl $0, COUNT
    movb $0x0c, %bl                 /* clear stale flags */
    call cmos_read
    movb $0x0a, %bl
    movb $0x26, %al
    call cmos_write
    movb $0x0b, %bl
    movb $0x42, %al                 /* PIE, 24 h */
    call cmos_write
    movl $3, %eax
    call wait_count
    jb fail_periodic
    movb $0x0b, %bl
    movb $0x02, %al                 /* all off */
    call cmos_write
    movl LASTC, %eax
    andl $0xc0, %eax
    cmpl $0xc0, %eax
    jne fail_periodic
    movl $m_periodic_ok, %esi
    call puts32

    /* --- 2: update-ended --- */
    movl $0, COUNT
    movb $0x0a, %bl
    movb $0x20, %al                 /* no periodic rate */
    call cmos_write
    movb $0x0c, %bl
    call cmos_read
    movb $0x0b, %bl
    movb $0x12, %al                 /* UIE, 24 h */
    call cmos_write
    movl $1, %eax
    call wait_count
    jb fail_update
    movb $0x0b, %bl
    movb $0x02, %al
    call cmos_write
    movl LASTC, %eax
    cmpl $0x90, %eax
    jne fail_update
    movl $m_update_ok, %esi
    call puts32
    jmp poweroff32

fail_periodic:
    movl $m_periodic_fail, %esi
    jmp fail
fail_update:
    movl $m_update_fail, %esi
fail:
    call puts32
    movl COUNT, %eax
    call puthex32
    movb $' ', %al
    call putc32
    movl LASTC, %eax
    call puthex32
    movb $'\n', %al
    call putc32
    jmp poweroff32

/* read C (which lowers IRQ 8), remember it, count, EOI */
isr_rtc:
    pushl %eax
    movb $0x0c, %al
    outb %al, $0x70
    inb $0x71, %al
    movzbl %al, %eax
    movl %eax, LASTC
    incl COUNT
    movl $0, LAPIC_BASE + LAPIC_EOI
    popl %eax
    jmp isr_return

    .section .rodata
m_start:         .asciz "rtcirq: start\n"
m_periodic_ok:   .asciz "rtcirq: periodic ok\n"
m_update_ok:     .asciz "rtcirq: update-ended ok\n"
m_periodic_fail: .asciz "rtcirq: FAIL periodic: count, last C = "
m_update_fail:   .asciz "rtcirq: FAIL update-ended: count, last C = "
