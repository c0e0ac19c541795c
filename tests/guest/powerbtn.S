/* SPDX-License-Identifier: MIT */
/*
 * powerbtn.S: a guest that honours the ACPI power button the way an OS
 * does on vireo's hardware-reduced microvm: the GED raises GSI 9 (level,
 * active high: the MADT's override) through the IOAPIC; the handler reads
 * the GED event selector (port 0x604, which clears the events and lowers
 * the line), EOIs, and on the power-button bit powers off through the
 * sleep control register.  It prints "powerbtn: ready" and then sits in
 * an STI/HLT idle loop until the button is pressed (QMP system_powerdown
 * or HMP system_powerdown), printing "powerbtn: pressed" from the handler.
 */
#include "guest.h"

#define VEC_GED 0x49
#define GED_PORT 0x604
#define GED_PWR_DOWN 1

    .code32
    .text
    .globl main32
main32:
    call apic_setup
    movl $VEC_GED, %ebx
    movl $isr_ged, %eax
    call set_gate
    movl $IOAPIC_RTE_HI(9), %ebx
    xorl %eax, %eax                 /* physical destination APIC 0 */
    call ioapic_write
    movl $IOAPIC_RTE_LO(9), %ebx
    movl $(0x8000 | VEC_GED), %eax  /* fixed, level, active high, unmasked */
    call ioapic_write
    movl $m_ready, %esi
    call puts32
1:  sti
    hlt
    jmp 1b

isr_ged:
    movw $GED_PORT, %dx
    inl %dx, %eax
    movl $0, LAPIC_BASE + LAPIC_EOI
    testl $GED_PWR_DOWN, %eax
    jz 1f
    movl $m_pressed, %esi
    call puts32
    jmp poweroff32
1:  movl $m_spurious, %esi
    call puts32
    jmp isr_return

    .section .rodata
m_ready:    .asciz "powerbtn: ready\n"
m_pressed:  .asciz "powerbtn: pressed\n"
m_spurious: .asciz "powerbtn: GED interrupt without an event\n"
