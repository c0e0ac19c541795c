/* SPDX-License-Identifier: MIT */
/*
 * hello.S: the default guest.  Real mode only: prints the banner on COM1
 * and powers off (ACPI S5 on vireo; isa-debug-exit 0 under QEMU, which
 * then exits with status 1).
 */
#include "guest.h"

    .code16
    .section .text16, "ax"
    .globl main16
main16:
    movw $RM(banner), %si
    call puts16
    jmp poweroff16

banner:
    .asciz "vireo: hello from the guest\n"
