/* SPDX-License-Identifier: MIT */
/*
 * pio.S: real-mode port I/O guest.  Exercises the 16550 registers through
 * in/out: scratch register write/read-back, LCR read-back, divisor latch
 * (DLAB) write/read-back, IER read-back, and LSR when the transmitter is
 * idle (THRE and TEMT set).  Prints one "PASS <name>" or
 * "FAIL <name> got XX want YY" line per check, then "pio: N failures" and
 * powers off.
 */
#include "guest.h"

#define SCR (COM1 + 7)
#define LCR (COM1 + 3)
#define IER (COM1 + 1)
#define DLL (COM1 + 0)
#define DLM (COM1 + 1)

/* WRCHECK port, value, name: write value, read it back, report */
.macro WRCHECK port, val, name
    movw $\port, %dx
    movb $\val, %al
    outb %al, %dx
    inb %dx, %al
    movb $\val, %ah
    movw $RM(\name), %si
    call report
.endm

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    xorw %bp, %bp                  /* failure count */
    WRCHECK SCR, 0x55, n_scr55
    WRCHECK SCR, 0xaa, n_scraa
    WRCHECK SCR, 0x00, n_scr00
    WRCHECK LCR, 0x1b, n_lcr
    WRCHECK LCR, 0x03, n_lcr8n1
    WRCHECK IER, 0x00, n_ier
    /* divisor latch: set DLAB, program 115200/12 = 9600 baud, read back.
     * No printing while DLAB is set: THR is the divisor latch then. */
    movw $LCR, %dx
    movb $0x83, %al
    outb %al, %dx
    movw $DLL, %dx
    movb $0x0c, %al
    outb %al, %dx
    inb %dx, %al
    movb %al, %bl
    movw $DLM, %dx
    xorb %al, %al
    outb %al, %dx
    inb %dx, %al
    movb %al, %bh
    movw $LCR, %dx
    inb %dx, %al
    movb %al, %cl
    movb $0x03, %al
    outb %al, %dx
    movb %bl, %al
    movb $0x0c, %ah
    movw $RM(n_dll), %si
    call report
    movb %bh, %al
    movb $0x00, %ah
    movw $RM(n_dlm), %si
    call report
    movb %cl, %al
    movb $0x83, %ah
    movw $RM(n_lcrdlab), %si
    call report
    /* scratch must survive the DLAB round trip */
    WRCHECK SCR, 0x5a, n_scr5a
    /* transmitter idle: wait for TEMT, then LSR & 0x60 == 0x60 */
    movw $(COM1 + 5), %dx
1:  inb %dx, %al
    testb $0x40, %al
    jz 1b
    andb $0x60, %al
    movb $0x60, %ah
    movw $RM(n_lsr), %si
    call report
    /* summary */
    movw $RM(m_sum), %si
    call puts16
    movw %bp, %ax
    call puthex8_16
    movw $RM(m_fail), %si
    call puts16
    jmp poweroff16

/* report: %al = got, %ah = want, %si = name; updates %bp */
report:
    pushw %ax
    cmpb %ah, %al
    jne 1f
    pushw %si
    movw $RM(m_pass), %si
    call puts16
    popw %si
    call puts16
    movb $'\n', %al
    call putc16
    popw %ax
    ret
1:  incw %bp
    pushw %si
    movw $RM(m_failp), %si
    call puts16
    popw %si
    call puts16
    movw $RM(m_got), %si
    call puts16
    popw %ax
    call puthex8_16
    pushw %ax
    movw $RM(m_want), %si
    call puts16
    popw %ax
    movb %ah, %al
    call puthex8_16
    movb $'\n', %al
    call putc16
    ret

m_pass:  .asciz "PASS "
m_failp: .asciz "FAIL "
m_got:   .asciz " got "
m_want:  .asciz " want "
m_sum:   .asciz "pio: "
m_fail:  .asciz " failures\n"
n_scr55: .asciz "scratch=55"
n_scraa: .asciz "scratch=aa"
n_scr00: .asciz "scratch=00"
n_scr5a: .asciz "scratch=5a after DLAB"
n_lcr:   .asciz "lcr=1b"
n_lcr8n1: .asciz "lcr=03"
n_ier:   .asciz "ier=00"
n_dll:   .asciz "dll=0c"
n_dlm:   .asciz "dlm=00"
n_lcrdlab: .asciz "lcr=83 (DLAB)"
n_lsr:   .asciz "lsr&60=60 when idle"
