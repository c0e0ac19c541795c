/* SPDX-License-Identifier: MIT */
/*
 * bzimage.S: a fake Linux bzImage with a real setup header (boot protocol
 * 2.15, Documentation/arch/x86/boot.rst) and all three ways in:
 *  - real-mode setup at 0x200 (QEMU's pc firmware path): collects the e820
 *    map with INT 15h/E820 into the zero page, enters protected mode and
 *    jumps to code32_start with ESI = zero page;
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

    /* Entered at setup_seg+0x20:0 with DS = ES = setup_seg (the zero
     * page).  Addresses below are offsets from DS. */
setup_code:
    /* Interrupts stay on while the BIOS is in use (as Linux's setup
     * does): with IF=0 and the BIOS timer interrupt pending, KVM's
     * real-mode emulation here stalls.  Masked at the PIC before the
     * switch to protected mode. */
    sti
    cld
    movw %ds, %ax
    movw %ax, %es
    xorl %ebx, %ebx
    movw $0x2d0, %di
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
    movb %al, 0x1e8
    xorl %esi, %esi
    movw %ds, %si
    shll $4, %esi
    /* The GDT, its descriptor and the far-jump target go to scratch
     * memory at linear 0x8000 (FS = 0), not next to this code: KVM's
     * instruction emulator here stalls on repeated stores into the page
     * it is executing from. */
    xorw %ax, %ax
    movw %ax, %fs
    movl $0, %fs:0x8000
    movl $0, %fs:0x8004
    movl $0x0000ffff, %fs:0x8008
    movl $0x00cf9b00, %fs:0x800c
    movl $0x0000ffff, %fs:0x8010
    movl $0x00cf9300, %fs:0x8014
    movw $23, %fs:0x8018
    movl $0x8000, %fs:0x801a
    movl code32_start, %eax
    movl %eax, %fs:0x8020
    movw $0x08, %fs:0x8024
    cli
    movb $0xff, %al
    outb %al, $0xa1
    movb $0xfb, %al
    outb %al, $0x21
    lgdtl %fs:0x8018
    movl %cr0, %eax
    orb $1, %al
    movl %eax, %cr0
    ljmpl *%fs:0x8020


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
