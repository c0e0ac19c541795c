/* SPDX-License-Identifier: MIT */
/*
 * bzimage-main.c: decodes the zero page (boot_params) of the fake bzImage
 * for the common checker.
 */
#include "check.h"

void bz_main(u32 bp, u32 mode) __attribute__((noreturn));

static struct bootinfo bi;

void bz_main(u32 bp, u32 mode)
{
    u32 n = rd8(bp + 0x1e8);

    bi.format =
        mode == 64 ? "bzImage (64-bit entry)" : "bzImage (32-bit entry)";
    bi.kernel_start = (u32)__kernel_start;
    bi.kernel_end = (u32)_end;
    bi.cmdline = (const char *)rd32(bp + 0x228);
    if (rd32(bp + 0x21c)) {
        bi.has_initrd = 1;
        bi.initrd_addr = rd32(bp + 0x218);
        bi.initrd_size = rd32(bp + 0x21c);
    }
    bi.rsdp = rd64(bp + 0x70);
    for (u32 i = 0; i < n && i < MAX_E820; i++) {
        u32 e = bp + 0x2d0 + 20 * i;
        bi.e820[i].addr = rd64(e);
        bi.e820[i].size = rd64(e + 8);
        bi.e820[i].type = rd32(e + 16);
        bi.n_e820++;
    }
    /* setup_data chain: print it so the host can check what it passed */
    {
        u64 sd = rd64(bp + 0x250);
        for (int i = 0; sd && sd < 0x100000000ULL && i < 16; i++) {
            u32 a = (u32)sd;
            bz_print_setup_data(rd32(a + 8), rd32(a + 12),
                                rd32(a + 12) >= 8 ? rd32(a + 16) : 0);
            sd = rd64(a);
        }
    }
    check_run(&bi);
}
