/* SPDX-License-Identifier: MIT */
/*
 * entry.S: reset vector and 16-bit library shared by every test guest.
 * The CPU starts at 0xfffffff0 in real mode (CS=0xf000, base 0xffff0000);
 * we jump near to _start16, set up a stack in low RAM and call main16,
 * which each guest defines.  All serial output polls LSR.THRE before
 * writing THR (no interrupts, no UART programming needed).
 */
#include "guest.h"

    /* Image header at offset 0 (also makes objcopy start the image at
     * 0xffff0000 even when a guest has no 32-bit code). */
    .section .text.head, "ax"
    .ascii "vireo test guest\0"

    .code16
    .section .reset, "ax"
    .globl reset_vector
reset_vector:
    jmp _start16
    .fill 16 - (. - reset_vector), 1, 0xf4      /* hlt padding */

    .section .text16, "ax"
    .globl _start16
_start16:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $STACK16_TOP, %sp
    jmp main16

/* putc16: write %al to COM1 (clobbers nothing) */
    .globl putc16
putc16:
    pushw %dx
    pushw %ax
    movw $COM1_LSR, %dx
1:  inb %dx, %al
    testb $LSR_THRE, %al
    jz 1b
    popw %ax
    movw $COM1, %dx
    outb %al, %dx
    popw %dx
    ret

/* puts16: write the NUL-terminated string at CS:%si (clobbers %si) */
    .globl puts16
puts16:
    pushw %ax
1:  movb %cs:(%si), %al
    incw %si
    testb %al, %al
    jz 2f
    call putc16
    jmp 1b
2:  popw %ax
    ret

/* puthex8_16: write %al as two hex digits */
    .globl puthex8_16
puthex8_16:
    pushw %ax
    pushw %ax
    shrb $4, %al
    call hexdigit16
    popw %ax
    call hexdigit16
    popw %ax
    ret
hexdigit16:
    andb $0x0f, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 1f
    addb $('a' - '0' - 10), %al
1:  jmp putc16

/*
 * poweroff16: ACPI S5 through the sleep-control port (vireo's microvm);
 * if still running, isa-debug-exit with 0 (QEMU with the device); if
 * still running, say so and halt forever.
 */
    .globl poweroff16
poweroff16:
    movw $ACPI_SLEEP_CTL_PORT, %dx
    movb $ACPI_S5_VALUE, %al
    outb %al, %dx
    /* A VMM may carry the power off out asynchronously (the vCPU keeps
     * running until the main loop stops it): give it POWEROFF_GRACE LSR
     * reads (each one an exit) before trying the fallbacks. */
    movl $POWEROFF_GRACE, %ecx
    movw $COM1_LSR, %dx
1:  inb %dx, %al
    decl %ecx
    jnz 1b
    xorb %al, %al
    outb %al, $DEBUG_EXIT_PORT
    movw $RM(msg_nopoweroff), %si
    call puts16
    .globl halt16
halt16:
    cli
1:  hlt
    jmp 1b

msg_nopoweroff:
    .asciz "guest: poweroff failed, halting\n"
