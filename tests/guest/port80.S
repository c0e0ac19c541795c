/* SPDX-License-Identifier: MIT */
/*
 * port80.S: exit-heavy benchmark guest.  100000 byte writes to port 0x80
 * (each one a KVM_EXIT_IO), then "port80: done" and isa-debug-exit 0
 * (process status 1).
 */
#include "guest.h"

#define PORT80_COUNT 100000

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(start_msg), %si
    call puts16
    movl $PORT80_COUNT, %ecx
    xorb %al, %al
1:  outb %al, $0x80
    incb %al
    decl %ecx
    jnz 1b
    movw $RM(done_msg), %si
    call puts16
    xorb %al, %al
    outb %al, $DEBUG_EXIT_PORT
    jmp poweroff16

start_msg:
    .asciz "port80: start\n"
done_msg:
    .asciz "port80: done\n"
