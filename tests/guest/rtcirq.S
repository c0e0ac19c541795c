/* SPDX-License-Identifier: MIT */
/*
 * rtcirq.S: the CMOS RTC's interrupts on ISA IRQ 8, through IOAPIC pin 8
 * (edge, active high: no override in the MADT) to vector 0x38.
 *   1. periodic: 1024 Hz (register A 0x26), PIE; the handler reads C and
 *      counts interrupts whose C has IRQF; three must arrive, the last
 *      with IRQF|PF.
 *   2. update-ended: UIE only (PIE off, rate 0); one interrupt whose C is
 *      IRQF|UF must arrive within three seconds of the RTC's own clock.
 * Each step prints "rtcirq: ... ok" or "rtcirq: FAIL ..." with the count
 * and the last C value; then powers off.  The same image runs under QEMU
 * microvm for comparison.
 */
#include "guest.h"

#define VEC_RTC 0x38
#define COUNT 0x21000
#define LASTC 0x21004
#define SPIN 20000 /* polls of COUNT between two reads of the clock */

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

/* wait_count: spin with interrupts on until COUNT >= %eax, or until the
 * RTC's seconds register has changed four times (at least three seconds:
 * the bound is the RTC's own clock, not a loop count, so a slow or loaded
 * host cannot make it expire early).  CF=1 if the count was not reached.
 * Interrupts stay on for long spins: with only an "sti; nop; cli" window
 * between two port exits, this machine's KVM (guest code emulated) often
 * left a pending interrupt undelivered for seconds in split-irqchip mode
 * (KVM's trace: kvm_msi_set_irq and kvm_apic_accept_irq at once, the
 * handler's EOI 2.3 s later), and once entered the handler twice for one
 * accepted interrupt (the second EOI found no vector in service): the
 * handler below ignores entries whose C has no IRQF. */
wait_count:
    pushl %ebx
    pushl %ecx
    pushl %edx
    pushl %esi
    movl %eax, %edx                 /* target count */
    xorl %ecx, %ecx                 /* seconds changes seen */
    xorl %ebx, %ebx                 /* %bl = 0: the seconds register */
    call cmos_read
    movzbl %al, %esi                /* seconds last read */
1:  movl $SPIN, %eax
    sti                             /* interrupts on while spinning */
3:  cmpl %edx, COUNT
    jae 2f
    decl %eax
    jnz 3b
    cli                             /* index+data pair must not be split */
    call cmos_read
    movzbl %al, %eax
    cmpl %esi, %eax
    je 1b
    movl %eax, %esi
    incl %ecx
    cmpl $4, %ecx
    jb 1b
2:  cli
    movl %edx, %eax
    popl %esi
    popl %edx
    popl %ecx
    popl %ebx
    cmpl %eax, COUNT
    ret

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

/* read C (which lowers IRQ 8); if IRQF is set, remember it and count (an
 * edge latched in the LAPIC while interrupts were off can arrive after its
 * flags were read and cleared: C is then 0 and it is not counted); EOI */
isr_rtc:
    pushl %eax
    movb $0x0c, %al
    outb %al, $0x70
    inb $0x71, %al
    testb $0x80, %al
    jz 1f
    movzbl %al, %eax
    movl %eax, LASTC
    incl COUNT
1:
    movl $0, LAPIC_BASE + LAPIC_EOI
    popl %eax
    jmp isr_return

    .section .rodata
m_start:         .asciz "rtcirq: start\n"
m_periodic_ok:   .asciz "rtcirq: periodic ok\n"
m_update_ok:     .asciz "rtcirq: update-ended ok\n"
m_periodic_fail: .asciz "rtcirq: FAIL periodic: count, last C = "
m_update_fail:   .asciz "rtcirq: FAIL update-ended: count, last C = "
