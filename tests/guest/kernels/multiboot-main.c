/* SPDX-License-Identifier: MIT */
/*
 * multiboot-main.c: decodes the multiboot v1 information structure (cmdline,
 * modules, memory map) for the common checker.
 */
#include "check.h"

void mb_main(u32 magic, u32 info) __attribute__((noreturn));

static struct bootinfo bi;

void mb_main(u32 magic, u32 info)
{
    u32 flags = rd32(info);

    bi.format = magic == 0x2BADB002 ? "multiboot" : "multiboot (bad EAX)";
    bi.kernel_start = (u32)__kernel_start;
    bi.kernel_end = (u32)_end;
    if (magic != 0x2BADB002) {
        check_run(&bi);
    }
    if (flags & (1u << 2)) {
        bi.cmdline = (const char *)rd32(info + 16);
    }
    if ((flags & (1u << 3)) && rd32(info + 20) >= 1) {
        u32 mod = rd32(info + 24);
        bi.has_initrd = 1;
        bi.initrd_addr = rd32(mod);
        bi.initrd_size = rd32(mod + 4) - rd32(mod);
    }
    if (flags & (1u << 6)) {
        u32 p = rd32(info + 48), end = p + rd32(info + 44);
        while (p + 24 <= end && bi.n_e820 < MAX_E820) {
            bi.e820[bi.n_e820].addr = rd64(p + 4);
            bi.e820[bi.n_e820].size = rd64(p + 12);
            bi.e820[bi.n_e820].type = rd32(p + 20);
            bi.n_e820++;
            p += rd32(p) + 4;
        }
    }
    check_run(&bi);
}
