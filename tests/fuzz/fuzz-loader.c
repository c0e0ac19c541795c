/* SPDX-License-Identifier: MIT */
/*
 * fuzz-loader.c: the kernel image parsers (bzImage header, ELF program
 * headers and notes, multiboot header and a.out kludge) on arbitrary
 * bytes.  The input is copied into a buffer of exactly its size so the
 * sanitizer sees any read past the end.
 */
#include "util/common.h"
#include "hw/core/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = g_memdup2(data, size);
    struct bzimage bz;
    struct elf_image e;
    struct multiboot_header h;
    Error *err = NULL;

    if (bzimage_parse(buf, size, &bz, &err)) {
        g_assert(bz.kernel_off + bz.kernel_size == size);
        g_assert(bz.kernel_alignment &&
                 !(bz.kernel_alignment & (bz.kernel_alignment - 1)));
    } else {
        g_assert(err);
        error_free(err);
        err = NULL;
    }
    if (elf_parse(buf, size, &e, &err)) {
        const uint8_t *desc;
        uint32_t dsz;
        uint64_t lo, hi;
        int r = elf_find_note(buf, size, &e, "Xen", XEN_ELFNOTE_PHYS32_ENTRY,
                              &desc, &dsz, &err);

        if (r == 1) {
            g_assert(desc >= buf && desc + dsz <= buf + size);
        } else if (r < 0) {
            error_free(err);
            err = NULL;
        }
        for (unsigned i = 0; i < e.nr_segs; i++) {
            g_assert(e.segs[i].offset + e.segs[i].filesz <= size);
        }
        elf_paddr_range(&e, &lo, &hi);
    } else {
        g_assert(err);
        error_free(err);
        err = NULL;
    }
    if (multiboot_find(buf, size, &h, &err) > 0 &&
        (h.flags & MB_FLAG_AOUT_KLUDGE)) {
        uint64_t off, lsz, la, msz;
        if (multiboot_aout_range(&h, size, &off, &lsz, &la, &msz, &err)) {
            g_assert(off + lsz <= size && lsz <= msz);
        }
    }
    if (err) {
        error_free(err);
    }
    g_free(buf);
    return 0;
}
