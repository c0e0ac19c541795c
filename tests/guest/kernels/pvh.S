/* SPDX-License-Identifier: MIT */
/*
 * pvh.S: entry of the fake PVH kernel.  The loader finds the entry through
 * the XEN_ELFNOTE_PHYS32_ENTRY note and starts it in 32-bit flat protected
 * mode, paging off, with EBX = hvm_start_info.
 */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4              /* name size */
    .long 4              /* desc size */
    .long 18             /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start

    .text
    .code32
    .globl pvh_start
pvh_start:
    cli
    cld
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $stack_top, %esp
    pushl %ebx
    call pvh_main
1:  hlt
    jmp 1b

    .bss
    .balign 16
    .skip 8192
stack_top:

    .section .note.GNU-stack, "", @progbits
