/* SPDX-License-Identifier: MIT */
/*
 * hlt.S: prints a line, then "cli; hlt" forever.  The VMM must keep
 * running (a halted vCPU with interrupts off is not a shutdown) until it
 * is told to quit.
 */
#include "guest.h"

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(msg), %si
    call puts16
    jmp halt16

msg:
    .asciz "hlt: halting with interrupts disabled\n"
