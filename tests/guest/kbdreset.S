/* SPDX-License-Identifier: MIT */
/*
 * kbdreset.S: i8042 reset guest.  Prints "kbdreset: boot" (once per
 * boot), waits for the controller's input buffer to be empty (status
 * port 0x64 bit 1), then writes the pulse-reset command 0xfe to port
 * 0x64: the machine resets and the line is printed again, or with
 * -no-reboot the VMM exits 0.  Reaching the line after the command is a
 * failure.
 */
#include "guest.h"

#define I8042_STATUS 0x64
#define I8042_CMD 0x64
#define I8042_IBF 0x02

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(m_boot), %si
    call puts16
    movw $1000, %cx
1:  inb $I8042_STATUS, %al
    testb $I8042_IBF, %al
    jz 2f
    loop 1b
2:  movb $0xfe, %al
    outb %al, $I8042_CMD
    /* the reset may take a moment to be carried out (see poweroff16) */
    movl $POWEROFF_GRACE, %ecx
    movw $COM1_LSR, %dx
3:  inb %dx, %al
    decl %ecx
    jnz 3b
    movw $RM(m_survived), %si
    call puts16
    jmp poweroff16

m_boot:
    .asciz "kbdreset: boot\n"
m_survived:
    .asciz "kbdreset: FAIL still running after 0xfe to port 0x64\n"
