/* SPDX-License-Identifier: MIT */
/*
 * test-loader.c: the image parsers (bzImage header, ELF, multiboot) on
 * hand-built buffers, valid, truncated and malicious; and x86_boot_setup()
 * end to end on a machine with only guest memory: what lands in guest RAM
 * (zero page, start_info, multiboot info, e820, ACPI) and the entry state.
 */
#include "util/common.h"
#include "hw/core/loader.h"
#include "tests/unit/fake-kvm.h"
#include "hw/i386/e820.h"
#include "hw/i386/microvm-layout.h"
#include "hw/i386/x86-boot.h"
#include "system/guest-mem.h"
#include "system/machine.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define KSIZE 0x3000

/* A bzImage: 4 setup sectors + 1 boot sector, then KSIZE kernel bytes. */
static uint8_t *make_bzimage(size_t *size, uint16_t version)
{
    size_t setup = 5 * 512;
    uint8_t *b = g_malloc0(setup + KSIZE);

    b[BZ_SETUP_SECTS] = 4;
    st_le16(b + BZ_BOOT_FLAG, 0xaa55);
    b[BZ_JUMP] = 0xeb;
    b[BZ_JUMP + 1] = 0x66; /* header ends at 0x268 */
    memcpy(b + BZ_HEADER, "HdrS", 4);
    st_le16(b + BZ_VERSION, version);
    b[BZ_LOADFLAGS] = BZ_LOADED_HIGH;
    st_le32(b + BZ_CODE32_START, 0x100000);
    st_le32(b + BZ_INITRD_ADDR_MAX, 0x7fffffff);
    st_le32(b + BZ_KERNEL_ALIGNMENT, 0x200000);
    b[BZ_RELOCATABLE] = 1;
    st_le16(b + BZ_XLOADFLAGS, BZ_XLF_KERNEL_64);
    st_le32(b + BZ_CMDLINE_SIZE, 255);
    st_le64(b + BZ_PREF_ADDRESS, 0x1000000);
    st_le32(b + BZ_INIT_SIZE, 0x100000);
    for (size_t i = 0; i < KSIZE; i++) {
        b[setup + i] = (uint8_t)(i * 7 + 1);
    }
    *size = setup + KSIZE;
    return b;
}

static void expect_error(bool ok, Error **errp, const char *substr)
{
    Error *err = *errp;

    *errp = NULL;
    g_assert_false(ok);
    g_assert_nonnull(err);
    g_test_message("error: %s", error_get_pretty(err));
    g_assert_nonnull(strstr(error_get_pretty(err), substr));
    error_free(err);
}

static void test_bzimage_parse(void)
{
    size_t size;
    g_autofree uint8_t *b = make_bzimage(&size, 0x20f);
    struct bzimage bz;
    Error *err = NULL;

    g_assert_true(bzimage_parse(b, size, &bz, NULL));
    g_assert_cmpuint(bz.setup_size, ==, 5 * 512);
    g_assert_cmpuint(bz.kernel_size, ==, KSIZE);
    g_assert_cmphex(bz.pref_address, ==, 0x1000000);
    g_assert_cmpuint(bz.cmdline_size, ==, 255);

    /* every prefix shorter than the setup is refused, never over-read */
    for (size_t n = 0; n <= 5 * 512; n += 61) {
        g_autofree uint8_t *cut = g_memdup2(b, n);
        err = NULL;
        g_assert_false(bzimage_parse(cut, n, &bz, &err));
        g_assert_nonnull(err);
        error_free(err);
    }
    err = NULL;
    expect_error(bzimage_parse(b, 0x300, &bz, &err), &err, "truncated");

    st_le16(b + BZ_VERSION, 0x205);
    err = NULL;
    expect_error(bzimage_parse(b, size, &bz, &err), &err,
                 "unsupported Linux boot protocol 2.05");
    st_le16(b + BZ_VERSION, 0x20f);

    st_le16(b + BZ_XLOADFLAGS, 0);
    err = NULL;
    expect_error(bzimage_parse(b, size, &bz, &err), &err, "XLF_KERNEL_64");
    st_le16(b + BZ_XLOADFLAGS, BZ_XLF_KERNEL_64);

    b[BZ_LOADFLAGS] = 0;
    err = NULL;
    expect_error(bzimage_parse(b, size, &bz, &err), &err, "LOADED_HIGH");
    b[BZ_LOADFLAGS] = BZ_LOADED_HIGH;

    st_le32(b + BZ_KERNEL_ALIGNMENT, 0x30000);
    err = NULL;
    expect_error(bzimage_parse(b, size, &bz, &err), &err, "power of two");
    st_le32(b + BZ_KERNEL_ALIGNMENT, 0x200000);

    b[BZ_SETUP_SECTS] = 200; /* setup larger than the file */
    err = NULL;
    expect_error(bzimage_parse(b, size, &bz, &err), &err, "truncated");
    b[BZ_SETUP_SECTS] = 4;

    memcpy(b + BZ_HEADER, "HdrX", 4);
    g_assert_false(bzimage_detect(b, size));
}

/* ELF32 executable: one PT_LOAD at paddr 0x200000 and, if note, a PT_NOTE
 * with the Xen PHYS32 entry. */
static uint8_t *make_elf32(size_t *size, bool note, uint32_t entry)
{
    size_t sz = 0x1000 + 0x400;
    uint8_t *b = g_malloc0(sz);
    unsigned phnum = note ? 2 : 1;
    uint8_t *ph = b + 52;

    memcpy(b,
           "\x7f"
           "ELF",
           4);
    b[4] = 1; /* ELFCLASS32 */
    b[5] = 1; /* LSB */
    b[6] = 1;
    st_le16(b + 16, 2); /* ET_EXEC */
    st_le16(b + 18, 3); /* EM_386 */
    st_le32(b + 20, 1);
    st_le32(b + 24, entry);
    st_le32(b + 28, 52); /* phoff */
    st_le16(b + 40, 52);
    st_le16(b + 42, 32); /* phentsize */
    st_le16(b + 44, (uint16_t)phnum);
    st_le32(ph, 1);          /* PT_LOAD */
    st_le32(ph + 4, 0x1000); /* offset */
    st_le32(ph + 8, 0x200000);
    st_le32(ph + 12, 0x200000);
    st_le32(ph + 16, 0x400);  /* filesz */
    st_le32(ph + 20, 0x2000); /* memsz: bss follows */
    for (unsigned i = 0; i < 0x400; i++) {
        b[0x1000 + i] = (uint8_t)(0x5a ^ i);
    }
    if (note) {
        uint8_t *n = b + 0x200;
        ph += 32;
        st_le32(ph, 4); /* PT_NOTE */
        st_le32(ph + 4, 0x200);
        st_le32(ph + 16, 20);
        st_le32(n, 4);
        st_le32(n + 4, 4);
        st_le32(n + 8, XEN_ELFNOTE_PHYS32_ENTRY);
        memcpy(n + 12, "Xen", 4);
        st_le32(n + 16, entry);
    }
    *size = sz;
    return b;
}

/* ELF64 like a Linux vmlinux: PT_LOAD at 16 MiB, PT_NOTE whose Xen entry
 * note carries an 8-byte descriptor (_ASM_PTR). */
static uint8_t *make_elf64(size_t *size, uint64_t entry)
{
    size_t sz = 0x2000;
    uint8_t *b = g_malloc0(sz);
    uint8_t *ph = b + 64, *n = b + 0x300;

    memcpy(b,
           "\x7f"
           "ELF",
           4);
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    st_le16(b + 16, 2);
    st_le16(b + 18, 62); /* EM_X86_64 */
    st_le64(b + 24, 0xffffffff81000000ULL);
    st_le64(b + 32, 64);
    st_le16(b + 52, 64);
    st_le16(b + 54, 56);
    st_le16(b + 56, 2);
    st_le32(ph, 1);
    st_le64(ph + 8, 0x1000);
    st_le64(ph + 16, 0xffffffff81000000ULL);
    st_le64(ph + 24, 0x1000000);
    st_le64(ph + 32, 0x800);
    st_le64(ph + 40, 0x10000);
    ph += 56;
    st_le32(ph, 4);
    st_le64(ph + 8, 0x300);
    st_le64(ph + 32, 24);
    st_le32(n, 4);
    st_le32(n + 4, 8);
    st_le32(n + 8, XEN_ELFNOTE_PHYS32_ENTRY);
    memcpy(n + 12, "Xen", 4);
    st_le64(n + 16, entry);
    memset(b + 0x1000, 0x90, 0x800);
    *size = sz;
    return b;
}

static void test_elf_parse(void)
{
    size_t size;
    g_autofree uint8_t *b = make_elf32(&size, true, 0x200010);
    struct elf_image e;
    const uint8_t *desc;
    uint32_t dsz;
    Error *err = NULL;

    g_assert_true(elf_parse(b, size, &e, NULL));
    g_assert_false(e.is64);
    g_assert_cmpuint(e.nr_segs, ==, 1);
    g_assert_cmpuint(e.nr_notes, ==, 1);
    g_assert_cmpint(elf_find_note(b, size, &e, "Xen", XEN_ELFNOTE_PHYS32_ENTRY,
                                  &desc, &dsz, NULL),
                    ==, 1);
    g_assert_cmpuint(dsz, ==, 4);
    g_assert_cmphex(ld_le32(desc), ==, 0x200010);
    g_assert_cmpint(elf_find_note(b, size, &e, "Xen", 17, &desc, &dsz, NULL),
                    ==, 0);

    /* truncations: segment data, program headers */
    expect_error(elf_parse(b, 0x1200, &e, &err), &err, "truncated");
    err = NULL;
    expect_error(elf_parse(b, 60, &e, &err), &err, "truncated");
    /* filesz > memsz */
    st_le32(b + 52 + 16, 0x3000);
    err = NULL;
    expect_error(elf_parse(b, size, &e, &err), &err, "exceeds memory size");
    st_le32(b + 52 + 16, 0x400);
    /* a note whose size runs past its segment */
    st_le32(b + 0x200 + 4, 0x1000);
    g_assert_true(elf_parse(b, size, &e, NULL));
    err = NULL;
    g_assert_cmpint(elf_find_note(b, size, &e, "Xen", XEN_ELFNOTE_PHYS32_ENTRY,
                                  &desc, &dsz, &err),
                    ==, -1);
    g_assert_nonnull(err);
    error_free(err);
    st_le32(b + 0x200 + 4, 4);
    /* wrong machine */
    st_le16(b + 18, 40);
    err = NULL;
    expect_error(elf_parse(b, size, &e, &err), &err, "not for x86");
    st_le16(b + 18, 3);
    /* huge phnum */
    st_le16(b + 44, 0xffff);
    err = NULL;
    expect_error(elf_parse(b, size, &e, &err), &err, "program headers");
}

static void put_mb_header(uint8_t *p, uint32_t flags)
{
    st_le32(p, MB_HEADER_MAGIC);
    st_le32(p + 4, flags);
    st_le32(p + 8, (uint32_t) - (MB_HEADER_MAGIC + flags));
}

static void test_multiboot_find(void)
{
    uint8_t b[0x3000] = {0};
    struct multiboot_header h;
    uint64_t off, lsz, la, msz;
    Error *err = NULL;

    g_assert_cmpint(multiboot_find(b, sizeof(b), &h, NULL), ==, 0);
    put_mb_header(b + 0x100, MB_FLAG_MEMORY_INFO);
    g_assert_cmpint(multiboot_find(b, sizeof(b), &h, NULL), ==, 1);
    g_assert_cmpuint(h.offset, ==, 0x100);
    /* bad checksum */
    st_le32(b + 0x108, 0);
    g_assert_cmpint(multiboot_find(b, sizeof(b), &h, &err), ==, -1);
    g_assert_nonnull(strstr(error_get_pretty(err), "checksum"));
    error_free(err);
    /* video mode needed: refused */
    put_mb_header(b + 0x100, MB_FLAG_VIDEO_MODE);
    err = NULL;
    g_assert_cmpint(multiboot_find(b, sizeof(b), &h, &err), ==, -1);
    error_free(err);
    /* a.out kludge */
    put_mb_header(b + 0x100, MB_FLAG_AOUT_KLUDGE);
    st_le32(b + 0x10c, 0x100100); /* header_addr */
    st_le32(b + 0x110, 0x100000); /* load_addr */
    st_le32(b + 0x114, 0x102000); /* load_end_addr */
    st_le32(b + 0x118, 0x104000); /* bss_end_addr */
    st_le32(b + 0x11c, 0x100200); /* entry */
    g_assert_cmpint(multiboot_find(b, sizeof(b), &h, NULL), ==, 1);
    g_assert_true(
        multiboot_aout_range(&h, sizeof(b), &off, &lsz, &la, &msz, NULL));
    g_assert_cmphex(off, ==, 0);
    g_assert_cmphex(lsz, ==, 0x2000);
    g_assert_cmphex(msz, ==, 0x4000);
    /* load_end past the file */
    h.load_end_addr = 0x110000;
    err = NULL;
    expect_error(
        multiboot_aout_range(&h, sizeof(b), &off, &lsz, &la, &msz, &err), &err,
        "truncated");
    /* header_addr below load_addr */
    h.load_end_addr = 0x102000;
    h.header_addr = 0xff000;
    err = NULL;
    expect_error(
        multiboot_aout_range(&h, sizeof(b), &off, &lsz, &la, &msz, &err), &err,
        "disagree");
    /* header beyond the 8 KiB search window: not found */
    memset(b, 0, sizeof(b));
    put_mb_header(b + 0x2000, 0);
    g_assert_cmpint(multiboot_find(b, sizeof(b), &h, NULL), ==, 0);
}

/* ---- x86_boot_setup on a memory-only machine ---- */

struct fixture {
    struct machine m;
    struct machine_config cfg;
    char *dir;
};

static void fx_init(struct fixture *f, uint64_t ram)
{
    memset(f, 0, sizeof(*f));
    f->m.cfg = &f->cfg;
    f->m.nr_vcpus = 2;
    f->m.gm = gm_new(ram, NULL);
    g_assert_nonnull(f->m.gm);
    g_assert_true(gm_add_ram(f->m.gm, 0, 0, ram, "ram", NULL));
    f->dir = g_dir_make_tmp("vireo-loader-XXXXXX", NULL);
}

static char *fx_file(struct fixture *f, const char *name, const void *data,
                     size_t len)
{
    char *p = g_build_filename(f->dir, name, NULL);

    g_assert_true(g_file_set_contents(p, data, (gssize)len, NULL));
    return p;
}

static void fx_clear(struct fixture *f)
{
    GDir *d = g_dir_open(f->dir, 0, NULL);
    const char *n;

    while ((n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(f->dir, n, NULL);
        g_unlink(p);
    }
    g_dir_close(d);
    g_rmdir(f->dir);
    g_free(f->dir);
    x86_boot_free(&f->m);
    gm_free(f->m.gm);
    g_free(f->cfg.kernel);
    g_free(f->cfg.initrd);
}

static uint8_t *gpa(struct fixture *f, uint64_t a, uint64_t len)
{
    uint8_t *p = gm_map(f->m.gm, a, len, false);
    g_assert_nonnull(p);
    return p;
}

static void check_rsdp(struct fixture *f, uint64_t rsdp)
{
    g_assert_cmphex(rsdp, ==, 0xe0000);
    g_assert_cmpmem(gpa(f, rsdp, 8), 8, "RSD PTR ", 8);
}

static void test_boot_bzimage(void)
{
    struct fixture f;
    size_t size;
    g_autofree uint8_t *b = make_bzimage(&size, 0x20f);
    uint8_t initrd[5000];
    struct x86_boot *xb;
    uint8_t *zp;
    uint64_t usable = 0;
    Error *err = NULL;
    g_autofree char *longline = g_strnfill(256, 'x');

    for (unsigned i = 0; i < sizeof(initrd); i++) {
        initrd[i] = (uint8_t)(i * 13);
    }
    fx_init(&f, 64 * MiB);
    f.cfg.kernel = fx_file(&f, "bz", b, size);
    f.cfg.initrd = fx_file(&f, "initrd", initrd, sizeof(initrd));
    f.cfg.append = "console=ttyS0 hello";
    g_assert_true(x86_boot_setup(&f.m, NULL));
    xb = f.m.boot_state;
    g_assert_nonnull(xb);
    g_assert_cmpint(xb->format, ==, X86_BOOT_BZIMAGE);
    /* kernel at pref_address, entry at +0x200, long mode, RSI */
    g_assert_cmphex(xb->kernel_addr, ==, 0x1000000);
    g_assert_cmpmem(gpa(&f, 0x1000000, KSIZE), KSIZE, b + 5 * 512, KSIZE);
    g_assert_cmphex(xb->state.regs.rip, ==, 0x1000200);
    g_assert_cmphex(xb->state.regs.rsi, ==, X86_BOOT_ZERO_PAGE_ADDR);
    g_assert_cmphex(xb->state.sregs.efer, ==, 0x500);
    g_assert_true(xb->state.sregs.cs.l);
    g_assert_cmpuint(xb->state.sregs.cs.selector, ==, X86_BOOT_CS64);
    g_assert_cmphex(xb->state.sregs.cr3, ==, X86_BOOT_PML4_ADDR);
    /* identity map: PML4[0] -> PDPT, PD maps 2M pages */
    g_assert_cmphex(ld_le64(gpa(&f, X86_BOOT_PML4_ADDR, 8)), ==,
                    (X86_BOOT_PML4_ADDR + 0x1000) | 3);
    g_assert_cmphex(ld_le64(gpa(&f, X86_BOOT_PML4_ADDR + 0x2000 + 8, 8)), ==,
                    0x200083);

    zp = gpa(&f, X86_BOOT_ZERO_PAGE_ADDR, BP_SIZE);
    g_assert_cmpmem(zp + BZ_HEADER, 4, "HdrS", 4);
    g_assert_cmpuint(zp[BZ_TYPE_OF_LOADER], ==, 0xff);
    g_assert_cmphex(ld_le16(zp + BZ_VID_MODE), ==, 0xffff);
    g_assert_cmphex(ld_le32(zp + BZ_CMD_LINE_PTR), ==, X86_BOOT_CMDLINE_ADDR);
    g_assert_cmpstr((char *)gpa(&f, X86_BOOT_CMDLINE_ADDR, 20), ==,
                    "console=ttyS0 hello");
    /* initrd: highest page below RAM end, bytes intact */
    g_assert_cmphex(ld_le32(zp + BZ_RAMDISK_IMAGE), ==,
                    ALIGN_DOWN(64 * MiB - sizeof(initrd), 4096));
    g_assert_cmpuint(ld_le32(zp + BZ_RAMDISK_SIZE), ==, sizeof(initrd));
    g_assert_cmpmem(gpa(&f, ld_le32(zp + BZ_RAMDISK_IMAGE), sizeof(initrd)),
                    sizeof(initrd), initrd, sizeof(initrd));
    /* e820 in the zero page sums to RAM minus the BIOS area */
    g_assert_cmpuint(zp[BP_E820_ENTRIES], >=, 3);
    for (unsigned i = 0; i < zp[BP_E820_ENTRIES]; i++) {
        uint8_t *e = zp + BP_E820_TABLE + 20 * i;
        if (ld_le32(e + 16) == E820_RAM) {
            usable += ld_le64(e + 8);
        }
    }
    g_assert_cmpuint(usable, ==, 64 * MiB - (0x100000 - 0x9fc00));
    /* protocol 2.14+: acpi_rsdp_addr; setup_data: RNG seed */
    check_rsdp(&f, ld_le64(zp + BP_ACPI_RSDP_ADDR));
    g_assert_cmphex(ld_le64(zp + BZ_SETUP_DATA), ==, X86_BOOT_SETUP_DATA_ADDR);
    g_assert_cmpuint(ld_le32(gpa(&f, X86_BOOT_SETUP_DATA_ADDR + 8, 4)), ==,
                     SETUP_RNG_SEED);
    g_assert_cmpuint(ld_le32(gpa(&f, X86_BOOT_SETUP_DATA_ADDR + 12, 4)), ==,
                     32);

    /* reset restores what the guest overwrote */
    memset(gpa(&f, 0x1000000, 16), 0xcc, 16);
    memset(gm_map(f.m.gm, X86_BOOT_ZERO_PAGE_ADDR, 16, true), 0, 16);
    g_assert_true(x86_boot_reset(&f.m, NULL));
    g_assert_cmpmem(gpa(&f, 0x1000000, KSIZE), KSIZE, b + 5 * 512, KSIZE);
    g_assert_cmpmem(gpa(&f, X86_BOOT_ZERO_PAGE_ADDR + BZ_HEADER, 4), 4, "HdrS",
                    4);
    x86_boot_free(&f.m);

    /* a command line over the kernel's limit */
    f.cfg.append = longline;
    expect_error(x86_boot_setup(&f.m, &err), &err,
                 "256 bytes, over the kernel's limit of 255");
    g_assert_null(f.m.boot_state);
    f.cfg.append = NULL;
    fx_clear(&f);
}

static void test_boot_bzimage_errors(void)
{
    struct fixture f;
    size_t size;
    g_autofree uint8_t *b = make_bzimage(&size, 0x20f);
    g_autofree uint8_t *big = g_malloc0(20 * MiB);
    Error *err = NULL;

    fx_init(&f, 32 * MiB);
    /* init_size larger than RAM */
    st_le32(b + BZ_INIT_SIZE, 40 * MiB);
    f.cfg.kernel = fx_file(&f, "bz", b, size);
    expect_error(x86_boot_setup(&f.m, &err), &err, "does not fit in RAM");
    g_free(f.cfg.kernel);

    /* initrd that cannot fit above the kernel */
    st_le32(b + BZ_INIT_SIZE, 0x100000);
    f.cfg.kernel = fx_file(&f, "bz", b, size);
    f.cfg.initrd = fx_file(&f, "initrd", big, 20 * MiB);
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err, "too large");
    g_free(f.cfg.initrd);
    f.cfg.initrd = NULL;

    /* truncated image: the error names the file and the problem */
    g_free(f.cfg.kernel);
    f.cfg.kernel = fx_file(&f, "bz", b, 0x280);
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err, "truncated");

    /* unknown format */
    g_free(f.cfg.kernel);
    f.cfg.kernel = fx_file(&f, "junk", "hello world", 11);
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err, "not a bzImage");

    /* missing file */
    g_free(f.cfg.kernel);
    f.cfg.kernel = g_strdup("/nonexistent/vmlinuz");
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err, "cannot read");
    fx_clear(&f);
}

static void test_boot_pvh(void)
{
    struct fixture f;
    size_t size;
    g_autofree uint8_t *b = make_elf32(&size, true, 0x200010);
    struct x86_boot *xb;
    uint8_t *si;
    uint64_t usable = 0, mm;
    Error *err = NULL;

    fx_init(&f, 64 * MiB);
    f.cfg.kernel = fx_file(&f, "pvh", b, size);
    f.cfg.initrd = fx_file(&f, "initrd", "INITRD", 6);
    f.cfg.append = "pvh args";
    g_assert_true(x86_boot_setup(&f.m, NULL));
    xb = f.m.boot_state;
    g_assert_cmpint(xb->format, ==, X86_BOOT_PVH);
    g_assert_cmphex(xb->state.regs.rip, ==, 0x200010);
    g_assert_cmphex(xb->state.regs.rbx, ==, X86_BOOT_INFO_ADDR);
    g_assert_cmphex(xb->state.sregs.cr0 & 0x80000001, ==, 1);
    g_assert_false(xb->state.sregs.cs.l);
    g_assert_true(xb->state.sregs.cs.db);
    g_assert_cmpmem(gpa(&f, 0x200000, 0x400), 0x400, b + 0x1000, 0x400);
    /* bss zeroed */
    g_assert_cmpuint(gpa(&f, 0x200400, 1)[0], ==, 0);
    si = gpa(&f, X86_BOOT_INFO_ADDR, 56);
    g_assert_cmphex(ld_le32(si), ==, PVH_START_MAGIC);
    g_assert_cmpuint(ld_le32(si + 4), ==, 1);
    g_assert_cmpuint(ld_le32(si + 12), ==, 1);
    g_assert_cmpstr((char *)gpa(&f, ld_le64(si + 24), 9), ==, "pvh args");
    check_rsdp(&f, ld_le64(si + 32));
    {
        uint8_t *mod = gpa(&f, ld_le64(si + 16), 32);
        g_assert_cmpuint(ld_le64(mod + 8), ==, 6);
        g_assert_cmpmem(gpa(&f, ld_le64(mod), 6), 6, "INITRD", 6);
    }
    mm = ld_le64(si + 40);
    for (unsigned i = 0; i < ld_le32(si + 48); i++) {
        uint8_t *e = gpa(&f, mm + 24 * i, 24);
        if (ld_le32(e + 16) == E820_RAM) {
            usable += ld_le64(e + 8);
        }
    }
    g_assert_cmpuint(usable, ==, 64 * MiB - (0x100000 - 0x9fc00));
    x86_boot_free(&f.m);

    /* -dtb is for bzImages only */
    f.cfg.dtb = "/nonexistent.dtb";
    expect_error(x86_boot_setup(&f.m, &err), &err,
                 "only supported with a bzImage");
    f.cfg.dtb = NULL;

    /* a segment outside RAM */
    st_le32(b + 52 + 12, 0x7f000000);
    g_free(f.cfg.kernel);
    f.cfg.kernel = fx_file(&f, "pvh", b, size);
    expect_error(x86_boot_setup(&f.m, &err), &err, "does not fit in RAM");

    /* an ELF with neither PVH note nor multiboot header */
    g_free(b);
    b = make_elf32(&size, false, 0x200010);
    g_free(f.cfg.kernel);
    f.cfg.kernel = fx_file(&f, "elf", b, size);
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err, "no PVH entry note");
    fx_clear(&f);
}

static void test_boot_multiboot(void)
{
    struct fixture f;
    size_t size;
    g_autofree uint8_t *b = make_elf32(&size, false, 0x200020);
    struct x86_boot *xb;
    uint8_t *mi, *mod;

    put_mb_header(b + 0x1000, MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO);
    fx_init(&f, 64 * MiB);
    f.cfg.kernel = fx_file(&f, "mb", b, size);
    {
        g_autofree char *m1 = fx_file(&f, "m1", "MODULE-ONE", 10);
        f.cfg.initrd = g_strdup_printf("%s arg1", m1);
    }
    f.cfg.append = "mb args";
    g_assert_true(x86_boot_setup(&f.m, NULL));
    xb = f.m.boot_state;
    g_assert_cmpint(xb->format, ==, X86_BOOT_MULTIBOOT);
    g_assert_cmphex(xb->state.regs.rax, ==, MB_BOOTLOADER_MAGIC);
    g_assert_cmphex(xb->state.regs.rbx, ==, X86_BOOT_INFO_ADDR);
    g_assert_cmphex(xb->state.regs.rip, ==, 0x200020);
    mi = gpa(&f, X86_BOOT_INFO_ADDR, 88);
    g_assert_cmphex(ld_le32(mi) & 0x24d, ==, 0x24d);
    g_assert_cmpuint(ld_le32(mi + 4), ==, 639);
    g_assert_cmpuint(ld_le32(mi + 8), ==, 63 * 1024);
    {
        g_autofree char *want = g_strdup_printf("%s mb args", f.cfg.kernel);
        g_assert_cmpstr((char *)gpa(&f, ld_le32(mi + 16), strlen(want) + 1), ==,
                        want);
    }
    g_assert_cmpuint(ld_le32(mi + 20), ==, 1);
    mod = gpa(&f, ld_le32(mi + 24), 16);
    g_assert_cmpuint(ld_le32(mod + 4) - ld_le32(mod), ==, 10);
    g_assert_cmpuint(ld_le32(mod) % 4096, ==, 0);
    g_assert_cmpmem(gpa(&f, ld_le32(mod), 10), 10, "MODULE-ONE", 10);
    g_assert_nonnull(strstr((char *)gpa(&f, ld_le32(mod + 8), 1), " arg1"));
    g_assert_cmpuint(ld_le32(mi + 44) % 24, ==, 0);
    g_assert_cmpstr((char *)gpa(&f, ld_le32(mi + 64), 6), ==, "vireo");
    fx_clear(&f);
}

static void test_boot_pvh_elf64(void)
{
    struct fixture f;
    size_t size;
    g_autofree uint8_t *b = make_elf64(&size, 0x1000100);
    struct x86_boot *xb;
    Error *err = NULL;

    fx_init(&f, 64 * MiB);
    f.cfg.kernel = fx_file(&f, "vmlinux", b, size);
    g_assert_true(x86_boot_setup(&f.m, NULL));
    xb = f.m.boot_state;
    g_assert_cmpint(xb->format, ==, X86_BOOT_PVH);
    g_assert_cmphex(xb->state.regs.rip, ==, 0x1000100);
    g_assert_cmphex(xb->kernel_addr, ==, 0x1000000);
    g_assert_cmphex(xb->kernel_end, ==, 0x1010000);
    g_assert_cmpuint(gpa(&f, 0x1000000, 1)[0], ==, 0x90);
    g_assert_cmpuint(gpa(&f, 0x1000800, 1)[0], ==, 0);
    x86_boot_free(&f.m);
    /* an entry above 4 GiB cannot be reached in 32-bit mode */
    g_free(b);
    b = make_elf64(&size, 0x100000000ULL);
    g_free(f.cfg.kernel);
    f.cfg.kernel = fx_file(&f, "vmlinux", b, size);
    expect_error(x86_boot_setup(&f.m, &err), &err, "above 4 GiB");
    fx_clear(&f);
}

/* Issue 13: boot files are sized and typed before they are read, an ELF
 * kernel is read only as far as its loaded segments, and every error
 * names the option it comes from. */
static void test_boot_file_checks(void)
{
    struct fixture f;
    size_t size;
    g_autofree uint8_t *b = make_elf32(&size, true, 0x200010);
    g_autofree uint8_t *big = g_malloc0(size + 4 * MiB);
    g_autofree char *fifo = NULL;
    g_autofree char *sparse = NULL;
    struct loader_file lf;
    Error *err = NULL;
    int fd;

    fx_init(&f, 16 * MiB);
    /* an unstripped ELF: 4 MiB of "debug info" after the segments */
    memcpy(big, b, size);
    memset(big + size, 0xdb, 4 * MiB);
    f.cfg.kernel = fx_file(&f, "vmlinux", big, size + 4 * MiB);
    g_assert_true(loader_file_load(&lf, "-kernel", f.cfg.kernel, 16 * MiB,
                                   "the guest RAM", true, NULL));
    g_assert_cmpuint(lf.size, ==, MAX(size, (size_t)MB_SEARCH));
    g_assert_cmpmem(lf.data, size, b, size);
    loader_file_clear(&lf);
    /* ... and boots with 2 MiB of RAM less than the file */
    g_assert_true(x86_boot_setup(&f.m, NULL));
    x86_boot_free(&f.m);
    /* the same limit refuses a non-ELF file larger than guest RAM, and
     * reads nothing of it: a sparse file costs no time */
    sparse = g_build_filename(f.dir, "sparse", NULL);
    fd = open(sparse, O_CREAT | O_WRONLY, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 2 * GiB), ==, 0);
    close(fd);
    expect_error(loader_file_load(&lf, "-kernel", sparse, 16 * MiB,
                                  "the guest RAM", true, &err),
                 &err, "-kernel: '");
    g_assert_null(lf.data);
    /* an initrd larger than RAM: -initrd named, not -kernel */
    f.cfg.initrd = g_strdup(sparse);
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err,
                 "-initrd: '" /* not "kernel '...'" */);
    g_assert_null(f.m.boot_state);
    g_free(f.cfg.initrd);
    f.cfg.initrd = g_strdup("/nonexistent/initrd");
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err,
                 "-initrd: cannot read '/nonexistent/initrd'");
    g_free(f.cfg.initrd);
    f.cfg.initrd = NULL;
    /* devices and FIFOs are refused without reading (or blocking) */
    fifo = g_build_filename(f.dir, "fifo", NULL);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_free(f.cfg.kernel);
    f.cfg.kernel = g_strdup(fifo);
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err, "-kernel: '" /* fifo */);
    g_free(f.cfg.kernel);
    f.cfg.kernel = g_strdup("/dev/zero");
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err,
                 "-kernel: '/dev/zero' is not a regular file");
    /* a format error: "-kernel: 'PATH': reason" */
    g_free(f.cfg.kernel);
    f.cfg.kernel = fx_file(&f, "junk", "hello world", 11);
    err = NULL;
    expect_error(x86_boot_setup(&f.m, &err), &err, "': not a bzImage");
    /* the checks made before /dev/kvm is opened */
    f.cfg.ram_size = 16 * MiB;
    f.cfg.initrd = g_strdup(sparse);
    err = NULL;
    expect_error(x86_boot_check_files(&f.cfg, &err), &err,
                 "more than the guest RAM");
    g_free(f.cfg.initrd);
    f.cfg.initrd = NULL;
    f.cfg.dtb = g_strdup(fifo);
    err = NULL;
    expect_error(x86_boot_check_files(&f.cfg, &err), &err, "-dtb: '");
    g_clear_pointer(&f.cfg.dtb, g_free);
    f.cfg.bios = g_strdup(f.cfg.kernel);
    err = NULL;
    expect_error(x86_boot_check_files(&f.cfg, &err), &err,
                 "-kernel with -bios is not supported");
    g_clear_pointer(&f.cfg.kernel, g_free);
    err = NULL;
    expect_error(x86_boot_check_files(&f.cfg, &err), &err,
                 "non-empty multiple of 64 KiB");
    g_clear_pointer(&f.cfg.bios, g_free);
    g_unlink(fifo);
    fx_clear(&f);
}

/* Issue 13: -bios is a writable copy, as QEMU maps it on microvm (a
 * firmware keeping its GDT in the image needs the CPU to set the accessed
 * bits), put back to the file's content at machine reset. */
static void test_bios_writable(void)
{
    struct fixture f;
    struct fake_kvm fk;
    g_autofree uint8_t *img = g_malloc(128 * KiB);
    uint8_t *hi, *lo;
    char *path;
    bool seen_bios = false, seen_alias = false;

    for (unsigned i = 0; i < 128 * KiB; i++) {
        img[i] = (uint8_t)(i * 11 + 3);
    }
    memset(&f, 0, sizeof(f));
    f.m.cfg = &f.cfg;
    f.m.gm = gm_new(2 * MiB, NULL);
    g_assert_true(
        gm_add_ram(f.m.gm, 0, 0, MICROVM_BIOS_LOW_BASE, "ram-low", NULL));
    f.dir = g_dir_make_tmp("vireo-loader-XXXXXX", NULL);
    path = fx_file(&f, "bios.bin", img, 128 * KiB);
    g_assert_true(x86_bios_load(&f.m, path, NULL));
    /* the guest can write it, at 4 GiB - size and through the alias */
    hi = gm_map(f.m.gm, 4 * GiB - 128 * KiB, 128 * KiB, true);
    lo = gm_map(f.m.gm, 1 * MiB - 128 * KiB, 128 * KiB, true);
    g_assert_nonnull(hi);
    g_assert_nonnull(lo);
    g_assert_cmpmem(hi, 128 * KiB, img, 128 * KiB);
    g_assert_cmpmem(lo, 128 * KiB, img, 128 * KiB);
    /* KVM gets no READONLY slot for it */
    fake_kvm_init(&fk);
    fk.accel.nr_slots = FAKE_MAX_SLOTS;
    g_assert_true(kvm_set_memory(&fk.accel, f.m.gm, NULL));
    for (unsigned i = 0; i < FAKE_MAX_SLOTS; i++) {
        const struct kvm_userspace_memory_region *r = &fk.slots[i];

        if (r->memory_size == 0) {
            continue;
        }
        if (r->guest_phys_addr == 4 * GiB - 128 * KiB) {
            seen_bios = true;
            g_assert_cmphex(r->userspace_addr, ==, (uintptr_t)hi);
        }
        if (r->guest_phys_addr == 1 * MiB - 128 * KiB) {
            seen_alias = true;
        }
        g_assert_false(r->flags & KVM_MEM_READONLY);
    }
    g_assert_true(seen_bios && seen_alias);
    fake_kvm_destroy(&fk);
    /* a firmware's writes (a GDT's accessed bit) are undone by reset */
    hi[0x100] ^= 0xff;
    lo[128 * KiB - 16] = 0xcc;
    g_assert_true(x86_boot_reset(&f.m, NULL));
    g_assert_cmpmem(hi, 128 * KiB, img, 128 * KiB);
    g_free(path);
    fx_clear(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/loader/bzimage-parse", test_bzimage_parse);
    g_test_add_func("/loader/elf-parse", test_elf_parse);
    g_test_add_func("/loader/multiboot-find", test_multiboot_find);
    g_test_add_func("/loader/boot-bzimage", test_boot_bzimage);
    g_test_add_func("/loader/boot-bzimage-errors", test_boot_bzimage_errors);
    g_test_add_func("/loader/boot-pvh", test_boot_pvh);
    g_test_add_func("/loader/boot-pvh-elf64", test_boot_pvh_elf64);
    g_test_add_func("/loader/boot-multiboot", test_boot_multiboot);
    g_test_add_func("/loader/boot-file-checks", test_boot_file_checks);
    g_test_add_func("/loader/bios-writable", test_bios_writable);
    return g_test_run();
}
