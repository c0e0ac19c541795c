/* SPDX-License-Identifier: MIT */
/*
 * virtio-irq.S: the virtio guest's 64-bit interrupt entry points, one
 * 16-byte stub per vector (isr_stubs + 16 * vector; virtio-irq.c builds
 * the IDT from them).  Each stub pushes its vector and joins isr_common,
 * which saves the caller-saved registers, calls vt_isr(vector) with the
 * stack 16-byte aligned (SysV ABI) and returns with IRETQ.
 */
    .text
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    /* CPU frame (40 bytes, pushed on a 16-byte boundary) + vector */
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    movq 72(%rsp), %rdi
    subq $8, %rsp
    cld
    call vt_isr
    addq $8, %rsp
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    addq $8, %rsp
    iretq
