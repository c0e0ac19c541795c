/* SPDX-License-Identifier: MIT */
/*
 * check.h: what each fake kernel's entry code hands the common checker:
 * the boot information decoded from its protocol (zero page, PVH
 * start_info, multiboot info) into one neutral form.
 */
#ifndef TESTS_GUEST_KERNELS_CHECK_H
#define TESTS_GUEST_KERNELS_CHECK_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define MAX_E820 128

struct bi_e820 {
    u64 addr, size;
    u32 type;
};

struct bootinfo {
    const char *format;
    const char *cmdline; /* NULL: none handed over */
    unsigned n_e820;
    struct bi_e820 e820[MAX_E820];
    int has_initrd;
    u32 initrd_addr, initrd_size;
    u64 rsdp; /* 0: scan the BIOS area */
    u32 kernel_start, kernel_end;
};

/* Runs every check, prints PASS/FAIL lines on COM1, exits through
 * isa-debug-exit (0x10 all passed, 0x11 otherwise); never returns. */
void check_run(struct bootinfo *bi) __attribute__((noreturn));

static inline u8 rd8(u32 a)
{
    return *(volatile u8 *)a;
}
static inline u16 rd16(u32 a)
{
    return *(volatile u16 *)a;
}
static inline u32 rd32(u32 a)
{
    return *(volatile u32 *)a;
}
static inline u64 rd64(u32 a)
{
    return rd32(a) | (u64)rd32(a + 4) << 32;
}

extern char __kernel_start[], _end[];

/* "setup_data type T len L first 0x..." on COM1 */
void bz_print_setup_data(u32 type, u32 len, u32 first);

#endif
