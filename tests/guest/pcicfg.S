/* SPDX-License-Identifier: MIT */
/*
 * pcicfg.S: the q35 configuration mechanism from a real-mode firmware:
 * reads 00:00.0 and 00:1f.0's vendor/device ids through 0xCF8/0xCFC (the
 * MCH 8086:29c0 and the ICH9 LPC 8086:2918), sizes a root port's BAR0
 * (expects 0xfffff000, 4 KiB) at 00:02.0 and checks that the PM timer at
 * 0x608 counts (vireo's reset state: PM block at 0x600, see
 * docs/qemu-compat.md; under QEMU a firmware would program PMBASE first).  Prints "pcicfg: ok" or
 * "pcicfg: FAIL <what>", then isa-debug-exit 0 (ok, status 1) or 1.
 */
#include "guest.h"

#define CFG_ADDR 0xcf8
#define CFG_DATA 0xcfc

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(start_msg), %si
    call puts16
    /* 00:00.0 vendor/device */
    movl $0x80000000, %eax
    call cfg_read
    cmpl $0x29c08086, %eax
    movw $RM(mch_msg), %si
    jne fail
    /* 00:1f.0 vendor/device */
    movl $0x8000f800, %eax
    call cfg_read
    cmpl $0x29188086, %eax
    movw $RM(lpc_msg), %si
    jne fail
    /* 00:02.0 BAR0: write all ones, read the size mask */
    movl $0x80001010, %eax
    movw $CFG_ADDR, %dx
    outl %eax, %dx
    movl $0xffffffff, %eax
    movw $CFG_DATA, %dx
    outl %eax, %dx
    movl $0x80001010, %eax
    call cfg_read
    cmpl $0xfffff000, %eax
    movw $RM(bar_msg), %si
    jne fail
    /* the PM timer moves (3.58 MHz: a few hundred reads suffice) */
    movw $0x608, %dx
    inl %dx, %eax
    movl %eax, %ebx
    movl $100000, %ecx
1:  inl %dx, %eax
    cmpl %eax, %ebx
    jne ok
    decl %ecx
    jnz 1b
    movw $RM(tmr_msg), %si
    jmp fail
ok:
    movw $RM(ok_msg), %si
    call puts16
    xorb %al, %al
    outb %al, $DEBUG_EXIT_PORT
    jmp poweroff16
fail:
    pushw %si
    movw $RM(fail_msg), %si
    call puts16
    popw %si
    call puts16
    movb $1, %al
    outb %al, $DEBUG_EXIT_PORT
    jmp poweroff16

/* cfg_read: CONFIG_ADDRESS %eax, returns CONFIG_DATA in %eax */
cfg_read:
    movw $CFG_ADDR, %dx
    outl %eax, %dx
    movw $CFG_DATA, %dx
    inl %dx, %eax
    ret

start_msg:
    .asciz "pcicfg: start\n"
ok_msg:
    .asciz "pcicfg: ok\n"
fail_msg:
    .asciz "pcicfg: FAIL "
mch_msg:
    .asciz "mch id\n"
lpc_msg:
    .asciz "lpc id\n"
bar_msg:
    .asciz "root port BAR0 size\n"
tmr_msg:
    .asciz "pm timer\n"
