/* SPDX-License-Identifier: MIT */
/*
 * debugexit.S: isa-debug-exit guest.  Writes 0x2a to port 0xf4; with
 * -device isa-debug-exit,iobase=0xf4,iosize=0x04 the VMM exits with
 * status (0x2a << 1) | 1 = 85.  Without the device the write is dropped,
 * the guest says so and powers off (status 0), so a test can tell.
 */
#include "guest.h"

#define EXIT_VALUE 0x2a

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(msg), %si
    call puts16
    movb $EXIT_VALUE, %al
    outb %al, $DEBUG_EXIT_PORT
    movw $RM(still), %si
    call puts16
    jmp poweroff16

msg:
    .asciz "debugexit: writing 0x2a to port 0xf4\n"
still:
    .asciz "debugexit: still running\n"
