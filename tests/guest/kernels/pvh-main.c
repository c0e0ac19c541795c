/* SPDX-License-Identifier: MIT */
/*
 * pvh-main.c: decodes hvm_start_info (xen/include/public/arch-x86/hvm/
 * start_info.h, version 1: memmap) for the common checker.
 */
#include "check.h"

void pvh_main(u32 si) __attribute__((noreturn));

static struct bootinfo bi;

void pvh_main(u32 si)
{
    bi.format = "pvh";
    bi.kernel_start = (u32)__kernel_start;
    bi.kernel_end = (u32)_end;
    if (rd32(si) != 0x336ec578) {
        bi.format = "pvh (bad start_info magic)";
        check_run(&bi);
    }
    bi.cmdline = (const char *)(u32)rd64(si + 24);
    bi.rsdp = rd64(si + 32);
    if (rd32(si + 12) >= 1) {
        u32 mod = (u32)rd64(si + 16);
        bi.has_initrd = 1;
        bi.initrd_addr = (u32)rd64(mod);
        bi.initrd_size = (u32)rd64(mod + 8);
    }
    if (rd32(si + 4) >= 1) {
        u32 mm = (u32)rd64(si + 40), n = rd32(si + 48);
        for (u32 i = 0; i < n && i < MAX_E820; i++) {
            bi.e820[i].addr = rd64(mm + 24 * i);
            bi.e820[i].size = rd64(mm + 24 * i + 8);
            bi.e820[i].type = rd32(mm + 24 * i + 16);
            bi.n_e820++;
        }
    }
    check_run(&bi);
}
