/* SPDX-License-Identifier: MIT */
/*
 * ok.S: start-to-exit benchmark guest.  Prints "OK" and leaves through
 * isa-debug-exit with 0 (process status 1); ACPI S5 as a fallback.
 */
#include "guest.h"

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(msg), %si
    call puts16
    xorb %al, %al
    outb %al, $DEBUG_EXIT_PORT
    jmp poweroff16

msg:
    .asciz "OK\n"
