/* SPDX-License-Identifier: MIT */
/*
 * bzimage.S: a fake Linux bzImage with a real setup header (boot protocol
 * 2.15, Documentation/arch/x86/boot.rst) and all three ways in:
 *  - real-mode setup at 0x200 (QEMU's firmware path): copies the header
 *    into its own zero page, collects the e820 map there with INT 15h/E820,
 *    enters protected mode and jumps to code32_start with ESI = that page;
 *  - the 32-bit entry at the start of the protected-mode kernel;
 *  - the 64-bit entry at +0x200 (XLF_KERNEL_64, vireo's path): leaves long
 *    mode for 32-bit protected mode and continues as the 32-bit entry.
 * The checker then reads everything from the zero page.  The protected-mode
 * kernel is linked at 1 MiB (pref_address, not relocatable).
 */
    .section .setup, "ax"
    .code16
    .org 0x1f1
setup_sects:    .byte 4
root_flags:     .word 0
syssize:        .long SYSSIZE
ram_size:       .word 0
vid_mode:       .word 0xffff
root_dev:       .word 0
boot_flag:      .word 0xaa55
    /* 0x200 */
    .byte 0xeb, setup_code - 1f
1:  .ascii "HdrS"
version:        .word 0x020f
realmode_swtch: .long 0
start_sys_seg:  .word 0x1000
kernel_version: .word 0
type_of_loader: .byte 0
loadflags:      .byte 0x01          /* LOADED_HIGH */
setup_move_size: .word 0x8000
code32_start:   .long 0x100000
ramdisk_image:  .long 0
ramdisk_size:   .long 0
bootsect_kludge: .long 0
heap_end_ptr:   .word 0
ext_loader_ver: .byte 0
ext_loader_type: .byte 0
cmd_line_ptr:   .long 0
initrd_addr_max: .long 0x7fffffff
kernel_alignment: .long 0x100000
relocatable_kernel: .byte 0
min_alignment:  .byte 12
xloadflags:     .word 0x0001        /* XLF_KERNEL_64 */
cmdline_size:   .long 2047
hardware_subarch: .long 0
hardware_subarch_data: .quad 0
payload_offset: .long 0
payload_length: .long 0
setup_data:     .quad 0
pref_address:   .quad 0x100000
init_size:      .long INIT_SIZE
handover_offset: .long 0
kernel_info_offset: .long 0

    /* Entered at setup_seg+0x20:0 with DS = ES = SS = setup_seg and
     * interrupts off (boot.rst, "Running the kernel").  Addresses below
     * are offsets from DS.
     *
     * As Linux's setup does (copy_boot_params), the loaded header is
     * copied into a zeroed boot_params in the setup's own bss and the
     * e820 map goes there: the zero page as loaded is the setup image
     * itself, and its e820_table (0x2d0) lies on this code.  Interrupts
     * stay off: the firmware may not have programmed the PIC (qboot on
     * microvm leaves its vector base at 0, so the timer would arrive as
     * INT 0), and INT 15h does not need them. */
setup_code:
    cli
    cld
    movw %ds, %ax
    movw %ax, %es
    movw $boot_params, %di
    movw $4096 / 2, %cx
    xorw %ax, %ax
    rep stosw
    movw $setup_sects, %si
    movw $boot_params + 0x1f1, %di
    movw $setup_code - setup_sects, %cx
    rep movsb
    xorl %ebx, %ebx
    movl $boot_params + 0x2d0, %edi
    xorw %bp, %bp
2:  movl $0xe820, %eax
    movl $20, %ecx
    movl $0x534d4150, %edx
    int $0x15
    jc 3f
    cmpl $0x534d4150, %eax
    jne 3f
    addw $20, %di
    incw %bp
    testl %ebx, %ebx
    jz 3f
    cmpw $128, %bp
    jb 2b
3:  movw %bp, %ax
    movb %al, boot_params + 0x1e8
    /* mask the PICs, as Linux's setup does before leaving real mode */
    movb $0xff, %al
    outb %al, $0xa1
    movb $0xfb, %al
    outb %al, $0x21
    /* Linear addresses for protected mode (EBX = setup segment base),
     * then the 32-bit entry's state (boot.rst, "32-bit boot protocol"):
     * flat __BOOT_CS 0x10 and __BOOT_DS 0x18 in CS, DS, ES, SS, ESI =
     * boot_params, EBX = EBP = EDI = 0, as Linux's pmjump.S leaves it. */
    xorl %ebx, %ebx
    movw %ds, %bx
    shll $4, %ebx
    leal boot_params(%ebx), %esi
    movw $setup_gdt_end - setup_gdt - 1, setup_gdt_desc
    leal setup_gdt(%ebx), %eax
    movl %eax, setup_gdt_desc + 2
    leal in_pm32(%ebx), %eax
    movl %eax, setup_jump
    movw $0x10, setup_jump + 4
    movzwl %sp, %esp
    movl code32_start, %eax
    lgdtl setup_gdt_desc
    movl %cr0, %edx
    orb $1, %dl
    movl %edx, %cr0
    ljmpl *setup_jump

    .code32
in_pm32:
    movl $0x18, %ecx
    movl %ecx, %ds
    movl %ecx, %es
    movl %ecx, %fs
    movl %ecx, %gs
    movl %ecx, %ss
    addl %ebx, %esp
    xorl %ebx, %ebx
    xorl %ebp, %ebp
    xorl %edi, %edi
    jmpl *%eax

    .balign 8
setup_gdt:
    .quad 0
    .quad 0
    .quad 0x00cf9b000000ffff    /* __BOOT_CS */
    .quad 0x00cf93000000ffff    /* __BOOT_DS */
setup_gdt_end:

    /* the setup's bss: after the loaded image, below setup segment +
     * 0x8000 (boot.rst's memory layout; the stack/heap is above) */
    .section .setup_bss, "aw", @nobits
    .balign 16
boot_params:
    .skip 4096
setup_gdt_desc:
    .skip 6
setup_jump:
    .skip 6

    /* ---- protected-mode kernel, at 1 MiB ---- */
    .section .head32, "ax"
    .code32
    .globl startup_32
startup_32:
    movl $32, %ebp
common32:
    cli
    cld
    lgdt gdt_desc
    ljmp $0x08, $4f
4:  movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $stack_top, %esp
    pushl %ebp
    pushl %esi
    call bz_main
5:  hlt
    jmp 5b

    .org 0x200
    .code64
startup_64:
    cli
    leaq stack_top(%rip), %rsp
    lgdt gdt_desc64(%rip)
    pushq $0x08
    leaq compat32(%rip), %rax
    pushq %rax
    lretq
    .code32
compat32:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %cr0, %eax
    andl $0x7fffffff, %eax
    movl %eax, %cr0
    movl $0xc0000080, %ecx
    rdmsr
    andl $0xfffffeff, %eax
    wrmsr
    movl $64, %ebp
    jmp common32

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9b000000ffff
    .quad 0x00cf93000000ffff
gdt_desc:
    .word 23
    .long gdt
    .balign 8
gdt_desc64:
    .word 23
    .long gdt, 0

    .bss
    .balign 16
    .skip 8192
stack_top:

    .section .note.GNU-stack, "", @progbits
