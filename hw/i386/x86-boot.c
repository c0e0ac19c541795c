/* SPDX-License-Identifier: MIT */
/*
 * x86-boot.c: direct kernel boot (see x86-boot.h).  The parsers in
 * hw/core/loader.c validate the images; this file decides where things go
 * (checking each range against the e820 map, so nothing lands outside RAM
 * or over something else), writes them, and builds the entry state.
 */
#include "util/common.h"
#include "hw/i386/x86-boot.h"
#include "hw/i386/acpi-build.h"
#include "hw/i386/e820.h"
#include "hw/i386/microvm-layout.h"
#include "hw/core/loader.h"
#include "hw/virtio/virtio-mmio.h"
#include "system/guest-mem.h"
#include "system/machine.h"

#include <libfdt.h>
#include <sys/random.h>
#include <unistd.h>

struct x86_boot_blob {
    uint64_t gpa;
    GBytes *data; /* NULL: zero fill of len bytes */
    uint64_t len;
};

static void blob_free(gpointer p)
{
    struct x86_boot_blob *b = p;

    if (b->data) {
        g_bytes_unref(b->data);
    }
    g_free(b);
}

const char *x86_boot_format_name(enum x86_boot_format f)
{
    switch (f) {
    case X86_BOOT_BZIMAGE:
        return "bzImage";
    case X86_BOOT_PVH:
        return "PVH ELF";
    case X86_BOOT_MULTIBOOT:
        return "multiboot";
    }
    return "?";
}

static bool blob_apply(struct machine *m, const struct x86_boot_blob *b,
                       Error **errp)
{
    bool ok;

    if (b->data) {
        gsize n;
        const void *p = g_bytes_get_data(b->data, &n);
        ok = gm_write_any(m->gm, b->gpa, p, n);
    } else {
        uint8_t *p = gm_map(m->gm, b->gpa, b->len, true);
        ok = p != NULL;
        if (ok) {
            memset(p, 0, b->len);
        }
    }
    if (!ok) {
        error_setg(errp,
                   "cannot write 0x%" PRIx64
                   " bytes at guest address 0x%" PRIx64 ": not RAM",
                   b->len, b->gpa);
    }
    return ok;
}

/* Writes len bytes of data (NULL: zeros) at gpa and remembers them. */
static bool put_blob(struct machine *m, struct x86_boot *xb, uint64_t gpa,
                     const void *data, uint64_t len, Error **errp)
{
    struct x86_boot_blob *b = g_new0(struct x86_boot_blob, 1);

    if (len == 0) {
        g_free(b);
        return true;
    }
    b->gpa = gpa;
    b->len = len;
    if (data) {
        b->data = g_bytes_new(data, len);
    }
    if (!blob_apply(m, b, errp)) {
        blob_free(b);
        return false;
    }
    g_ptr_array_add(xb->blobs, b);
    return true;
}

/* ---- entry state ---- */

static struct kvm_segment seg(uint16_t sel, uint8_t type, bool l, bool db)
{
    struct kvm_segment s = {
        .base = 0,
        .limit = 0xffffffff,
        .selector = sel,
        .type = type,
        .present = 1,
        .dpl = 0,
        .db = db,
        .s = 1,
        .l = l,
        .g = 1,
    };
    return s;
}

static void state_common(struct x86_boot_state *st)
{
    struct kvm_sregs2 *s = &st->sregs;

    memset(st, 0, sizeof(*st));
    s->tr.limit = 0xffff;
    s->tr.type = 11; /* busy 32-bit TSS */
    s->tr.present = 1;
    s->ldt.limit = 0xffff;
    s->ldt.type = 2;
    s->ldt.present = 1;
    s->gdt.base = X86_BOOT_GDT_ADDR;
    s->gdt.limit = 5 * 8 - 1;
    s->idt.limit = 0; /* any exception before the kernel's IDT: shutdown */
    s->apic_base = MICROVM_LAPIC_ADDR | 0x800 | 0x100; /* enabled, BSP */
    st->regs.rflags = 0x2;
    st->regs.rsp = 0x8ff0;
}

/* 32-bit flat protected mode, paging off (PVH, multiboot). */
static void state_flat32(struct x86_boot_state *st, uint32_t entry)
{
    struct kvm_sregs2 *s = &st->sregs;

    state_common(st);
    s->cs = seg(X86_BOOT_CS32, 0xb, false, true);
    s->ds = s->es = s->fs = s->gs = s->ss = seg(X86_BOOT_DS, 0x3, false, true);
    s->cr0 = 0x11; /* PE, ET */
    st->regs.rip = entry;
}

/* 64-bit long mode on identity page tables (bzImage 64-bit entry). */
static void state_long64(struct x86_boot_state *st, uint64_t entry,
                         uint64_t zero_page)
{
    struct kvm_sregs2 *s = &st->sregs;

    state_common(st);
    s->cs = seg(X86_BOOT_CS64, 0xb, true, false);
    s->ds = s->es = s->fs = s->gs = s->ss = seg(X86_BOOT_DS, 0x3, false, true);
    s->cr0 = 0x80000033; /* PG, NE, ET, MP, PE */
    s->cr3 = X86_BOOT_PML4_ADDR;
    s->cr4 = 0x20;   /* PAE */
    s->efer = 0x500; /* LME, LMA */
    st->regs.rip = entry;
    st->regs.rsi = zero_page;
}

static bool write_gdt(struct machine *m, struct x86_boot *xb, Error **errp)
{
    static const uint64_t gdt[5] = {
        0,
        0,
        0x00af9b000000ffffULL, /* 0x10: 64-bit code */
        0x00cf93000000ffffULL, /* 0x18: flat data */
        0x00cf9b000000ffffULL, /* 0x20: flat 32-bit code */
    };
    uint8_t b[sizeof(gdt)];

    for (unsigned i = 0; i < ARRAY_SIZE(gdt); i++) {
        st_le64(b + 8 * i, gdt[i]);
    }
    return put_blob(m, xb, X86_BOOT_GDT_ADDR, b, sizeof(b), errp);
}

/* Identity map of the first 4 GiB with 2 MiB pages. */
static bool write_page_tables(struct machine *m, struct x86_boot *xb,
                              Error **errp)
{
    g_autofree uint8_t *pt = g_malloc0(6 * 4096);
    uint64_t pml4 = X86_BOOT_PML4_ADDR, pdpt = pml4 + 4096, pd = pdpt + 4096;

    st_le64(pt, pdpt | 0x3);
    for (unsigned i = 0; i < 4; i++) {
        st_le64(pt + 4096 + 8 * i, (pd + 4096 * i) | 0x3);
    }
    for (unsigned i = 0; i < 4 * 512; i++) {
        st_le64(pt + 2 * 4096 + 8 * i, ((uint64_t)i << 21) | 0x83);
    }
    return put_blob(m, xb, pml4, pt, 6 * 4096, errp);
}

/* ---- common pieces ---- */

static bool check_ram(const struct e820_table *t, uint64_t addr, uint64_t size,
                      const char *what, Error **errp)
{
    if (!e820_is_usable(t, addr, size)) {
        error_setg(errp,
                   "%s does not fit in RAM: needs 0x%" PRIx64
                   " bytes at 0x%" PRIx64,
                   what, size, addr);
        return false;
    }
    return true;
}

static bool put_cmdline(struct machine *m, struct x86_boot *xb,
                        const struct e820_table *t, const char *cmdline,
                        uint64_t limit, Error **errp)
{
    size_t len = strlen(cmdline);

    if (len > limit) {
        error_setg(errp,
                   "kernel command line is %zu bytes, over the kernel's "
                   "limit of %" PRIu64,
                   len, limit);
        return false;
    }
    if (len + 1 > X86_BOOT_CMDLINE_MAX) {
        error_setg(errp, "kernel command line is %zu bytes, over %" PRIu64, len,
                   (uint64_t)X86_BOOT_CMDLINE_MAX - 1);
        return false;
    }
    return check_ram(t, X86_BOOT_CMDLINE_ADDR, len + 1, "command line", errp) &&
           put_blob(m, xb, X86_BOOT_CMDLINE_ADDR, cmdline, len + 1, errp);
}

/* Puts a module at the highest page-aligned usable address below limit
 * and at or above low.  The file is sized and placed before a byte of it
 * is read. */
static bool put_module(struct machine *m, struct x86_boot *xb,
                       const struct e820_table *t, const char *path,
                       uint64_t low, uint64_t limit, uint64_t *addr,
                       uint64_t *size, Error **errp)
{
    g_autofree uint8_t *data = NULL;
    uint64_t a, len;
    int fd;

    xb->err_labelled = true; /* errors below name -initrd themselves */
    fd = loader_file_open("-initrd", path, m->gm->ram_size, "the guest RAM",
                          &len, errp);
    if (fd < 0) {
        return false;
    }
    a = e820_find_top(t, len, limit, 4096);
    if (a == UINT64_MAX || a < low) {
        error_setg(errp,
                   "-initrd: '%s' too large: %" PRIu64 " bytes do not fit "
                   "in RAM between 0x%" PRIx64 " and 0x%" PRIx64,
                   path, len, low, limit);
        close(fd);
        return false;
    }
    data = g_malloc(MAX(len, 1));
    if (!loader_read_at(fd, 0, data, (size_t)len)) {
        error_setg(errp, "-initrd: cannot read '%s': %s", path,
                   g_strerror(errno));
        close(fd);
        return false;
    }
    close(fd);
    *addr = a;
    *size = len;
    if (!put_blob(m, xb, a, data, len, errp)) {
        error_prepend(errp, "-initrd: '%s': ", path);
        return false;
    }
    xb->err_labelled = false;
    return true;
}

/* ---- bzImage ---- */

#define DTB_ROOM "the setup_data area below 640 KiB"

static bool add_setup_data(uint8_t *area, uint64_t *used, uint64_t *prev_next,
                           uint8_t *zero_page, uint32_t type, const void *data,
                           uint32_t len, Error **errp)
{
    uint64_t off = ALIGN_UP(*used, 8);
    uint64_t cap = X86_BOOT_SETUP_DATA_END - X86_BOOT_SETUP_DATA_ADDR;

    if (off > cap || 16 + (uint64_t)len > cap - off) {
        error_setg(errp,
                   "setup_data type %u (%u bytes) does not fit below 0x%llx",
                   type, len, X86_BOOT_SETUP_DATA_END);
        return false;
    }
    st_le64(area + off, 0);
    st_le32(area + off + 8, type);
    st_le32(area + off + 12, len);
    memcpy(area + off + 16, data, len);
    /* link: the previous entry's next, or the header's setup_data */
    if (*prev_next == UINT64_MAX) {
        st_le64(zero_page + BZ_SETUP_DATA, X86_BOOT_SETUP_DATA_ADDR + off);
    } else {
        st_le64(area + *prev_next, X86_BOOT_SETUP_DATA_ADDR + off);
    }
    *prev_next = off;
    *used = off + 16 + len;
    return true;
}

/*
 * A Linux kernel's command line: -append, plus QEMU microvm's
 * "virtio_mmio.device=512@0xBASE:GSI" for each virtio-mmio device when the
 * guest will not read the DSDT that describes them (QEMU adds them only
 * without ACPI; vireo's boards always have ACPI, so: with acpi=off in
 * -append), so a kernel without ACPI still finds its disks.
 */
static char *linux_cmdline(struct machine *m)
{
    const char *append = m->cfg->append ? m->cfg->append : "";
    GString *s = g_string_new(append);
    g_auto(GStrv) words = g_strsplit(append, " ", -1);
    uint64_t base[X86_VIRTIO_MMIO_SLOTS];
    unsigned gsi[X86_VIRTIO_MMIO_SLOTS], n;

    if (!g_strv_contains((const char *const *)words, "acpi=off")) {
        return g_string_free(s, FALSE);
    }
    n = MIN(virtio_mmio_devices(m, base, gsi, X86_VIRTIO_MMIO_SLOTS),
            X86_VIRTIO_MMIO_SLOTS);
    for (unsigned i = 0; i < n; i++) {
        g_string_append_printf(s, "%svirtio_mmio.device=512@0x%" PRIx64 ":%u",
                               s->len ? " " : "", base[i], gsi[i]);
    }
    return g_string_free(s, FALSE);
}

static bool boot_bzimage(struct machine *m, struct x86_boot *xb,
                         const struct loader_file *k,
                         const struct e820_table *t, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    g_autofree char *cmdline = linux_cmdline(m);
    struct bzimage bz;
    g_autofree uint8_t *zp = g_malloc0(BP_SIZE);
    g_autofree uint8_t *sd = NULL;
    uint64_t load, sd_used = 0, sd_prev = UINT64_MAX, ilimit;
    size_t hdr_len;

    if (!bzimage_parse(k->data, k->size, &bz, errp)) {
        return false;
    }
    /* Where the kernel runs: pref_address if free, else (relocatable) the
     * lowest aligned usable place at or above 16 MiB... 1 MiB. */
    load = bz.pref_address;
    if (!e820_is_usable(t, load, bz.init_size)) {
        bool found = false;
        if (bz.relocatable) {
            for (unsigned i = 0; i < t->n && !found; i++) {
                const struct e820_entry *e = &t->e[i];
                uint64_t a = ALIGN_UP(MAX(e->addr, 0x100000ULL),
                                      (uint64_t)bz.kernel_alignment);
                if (e->type == E820_RAM && e820_is_usable(t, a, bz.init_size)) {
                    load = a;
                    found = true;
                }
            }
        }
        if (!found) {
            error_setg(errp,
                       "kernel does not fit in RAM: needs 0x%x bytes "
                       "(init_size) at 0x%" PRIx64 "%s",
                       bz.init_size, bz.pref_address,
                       bz.relocatable ? " or any aligned address" : "");
            return false;
        }
    }
    xb->kernel_addr = load;
    xb->kernel_end = load + bz.init_size;
    xb->entry = load + 0x200;
    if (!put_blob(m, xb, load, k->data + bz.kernel_off, bz.kernel_size, errp)) {
        return false;
    }

    /* zero page: the setup header as the image has it, then our fields */
    hdr_len = MIN(bz.header_end, (size_t)BZ_HEADER_END) - BZ_SETUP_SECTS;
    memcpy(zp + BZ_SETUP_SECTS, k->data + BZ_SETUP_SECTS, hdr_len);
    st_le16(zp + BZ_VID_MODE, 0xffff);
    zp[BZ_TYPE_OF_LOADER] = 0xff;
    zp[BZ_LOADFLAGS] = (uint8_t)((bz.loadflags | BZ_CAN_USE_HEAP) & ~0x20);
    st_le32(zp + BZ_CODE32_START, (uint32_t)load);
    st_le16(zp + BZ_HEAP_END_PTR, 0xfe00);

    if (!put_cmdline(m, xb, t, cmdline, bz.cmdline_size, errp)) {
        return false;
    }
    st_le32(zp + BZ_CMD_LINE_PTR, (uint32_t)X86_BOOT_CMDLINE_ADDR);

    if (cfg->initrd) {
        ilimit = MIN((uint64_t)bz.initrd_addr_max + 1, 4 * GiB);
        if (!put_module(m, xb, t, cfg->initrd, xb->kernel_end, ilimit,
                        &xb->initrd_addr, &xb->initrd_size, errp)) {
            return false;
        }
        st_le32(zp + BZ_RAMDISK_IMAGE, (uint32_t)xb->initrd_addr);
        st_le32(zp + BZ_RAMDISK_SIZE, (uint32_t)xb->initrd_size);
    }

    /* setup_data: DTB, RNG seed (protocol 2.09+) */
    sd = g_malloc0(X86_BOOT_SETUP_DATA_END - X86_BOOT_SETUP_DATA_ADDR);
    if (cfg->dtb) {
        struct loader_file d;
        if (bz.version < 0x209) {
            xb->err_labelled = true;
            error_setg(errp,
                       "-dtb needs boot protocol 2.09 (setup_data), "
                       "kernel has %u.%02u",
                       bz.version >> 8, bz.version & 0xff);
            return false;
        }
        xb->err_labelled = true;
        if (!loader_file_load(&d, "-dtb", cfg->dtb, X86_BOOT_DTB_MAX, DTB_ROOM,
                              false, errp)) {
            return false;
        }
        if (d.size < sizeof(struct fdt_header) || fdt_check_header(d.data) ||
            fdt_totalsize(d.data) > d.size) {
            error_setg(errp, "-dtb: '%s' is not a valid device tree blob",
                       cfg->dtb);
            loader_file_clear(&d);
            return false;
        }
        if (!add_setup_data(sd, &sd_used, &sd_prev, zp, SETUP_DTB, d.data,
                            fdt_totalsize(d.data), errp)) {
            loader_file_clear(&d);
            return false;
        }
        loader_file_clear(&d);
        xb->err_labelled = false;
    }
    if (bz.version >= 0x209) {
        uint8_t seed[32];
        if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
            error_setg_errno(errp, errno, "getrandom for the RNG seed");
            return false;
        }
        if (!add_setup_data(sd, &sd_used, &sd_prev, zp, SETUP_RNG_SEED, seed,
                            sizeof(seed), errp)) {
            return false;
        }
    }
    if (sd_used &&
        (!check_ram(t, X86_BOOT_SETUP_DATA_ADDR, sd_used, "setup_data", errp) ||
         !put_blob(m, xb, X86_BOOT_SETUP_DATA_ADDR, sd, sd_used, errp))) {
        return false;
    }

    /* e820 */
    zp[BP_E820_ENTRIES] = (uint8_t)t->n;
    for (unsigned i = 0; i < t->n; i++) {
        uint8_t *e = zp + BP_E820_TABLE + 20 * i;
        st_le64(e, t->e[i].addr);
        st_le64(e + 8, t->e[i].size);
        st_le32(e + 16, t->e[i].type);
    }
    if (bz.version >= 0x20e) {
        st_le64(zp + BP_ACPI_RSDP_ADDR, xb->rsdp);
    }
    if (!check_ram(t, X86_BOOT_ZERO_PAGE_ADDR, BP_SIZE, "zero page", errp) ||
        !put_blob(m, xb, X86_BOOT_ZERO_PAGE_ADDR, zp, BP_SIZE, errp) ||
        !write_page_tables(m, xb, errp)) {
        return false;
    }
    state_long64(&xb->state, xb->entry, X86_BOOT_ZERO_PAGE_ADDR);
    return true;
}

/* ---- ELF segments (PVH, multiboot ELF) ---- */

static bool load_elf(struct machine *m, struct x86_boot *xb,
                     const struct loader_file *k, const struct elf_image *e,
                     const struct e820_table *t, Error **errp)
{
    for (unsigned i = 0; i < e->nr_segs; i++) {
        const struct elf_segment *s = &e->segs[i];
        g_autofree char *what = g_strdup_printf("kernel segment %u", i);

        if (!check_ram(t, s->paddr, s->memsz, what, errp) ||
            !put_blob(m, xb, s->paddr, k->data + s->offset, s->filesz, errp) ||
            !put_blob(m, xb, s->paddr + s->filesz, NULL, s->memsz - s->filesz,
                      errp)) {
            return false;
        }
    }
    elf_paddr_range(e, &xb->kernel_addr, &xb->kernel_end);
    return true;
}

/* ---- PVH ---- */

static bool boot_pvh(struct machine *m, struct x86_boot *xb,
                     const struct loader_file *k, const struct elf_image *e,
                     uint32_t entry, const struct e820_table *t, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    g_autofree char *cmdline = linux_cmdline(m);
    uint8_t si[0x40] = {0}, mod[32] = {0};
    g_autofree uint8_t *mm = g_malloc0(24 * E820_MAX_ENTRIES);
    uint64_t sinfo_addr = X86_BOOT_INFO_ADDR, mod_addr = sinfo_addr + 0x40,
             mm_addr = sinfo_addr + 0x100;

    if (!load_elf(m, xb, k, e, t, errp) ||
        !put_cmdline(m, xb, t, cmdline, X86_BOOT_CMDLINE_MAX - 1, errp)) {
        return false;
    }
    xb->entry = entry;
    st_le32(si, PVH_START_MAGIC);
    st_le32(si + 4, 1); /* version */
    st_le64(si + 24, X86_BOOT_CMDLINE_ADDR);
    st_le64(si + 32, xb->rsdp);
    if (cfg->initrd) {
        if (!put_module(m, xb, t, cfg->initrd, xb->kernel_end,
                        MIN(MICROVM_LOWMEM_END, 4 * GiB), &xb->initrd_addr,
                        &xb->initrd_size, errp)) {
            return false;
        }
        st_le64(mod, xb->initrd_addr);
        st_le64(mod + 8, xb->initrd_size);
        st_le32(si + 12, 1);
        st_le64(si + 16, mod_addr);
        if (!put_blob(m, xb, mod_addr, mod, sizeof(mod), errp)) {
            return false;
        }
    }
    for (unsigned i = 0; i < t->n; i++) {
        st_le64(mm + 24 * i, t->e[i].addr);
        st_le64(mm + 24 * i + 8, t->e[i].size);
        st_le32(mm + 24 * i + 16, t->e[i].type);
    }
    st_le64(si + 40, mm_addr);
    st_le32(si + 48, t->n);
    if (!check_ram(t, sinfo_addr, 0x100 + 24 * E820_MAX_ENTRIES, "start_info",
                   errp) ||
        !put_blob(m, xb, sinfo_addr, si, sizeof(si), errp) ||
        !put_blob(m, xb, mm_addr, mm, 24 * t->n, errp)) {
        return false;
    }
    state_flat32(&xb->state, entry);
    xb->state.regs.rbx = sinfo_addr;
    return true;
}

/* ---- multiboot ---- */

#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)
#define MB_MAX_MODS 8

static bool boot_multiboot(struct machine *m, struct x86_boot *xb,
                           const struct loader_file *k,
                           const struct multiboot_header *h,
                           const struct e820_table *t, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    uint64_t info = X86_BOOT_INFO_ADDR, mods = info + 0x80, mmap = info + 0x100,
             strs = X86_BOOT_ZERO_PAGE_ADDR;
    uint8_t mi[0x80] = {0}, md[16 * MB_MAX_MODS] = {0};
    g_autofree uint8_t *mm = g_malloc0(24 * E820_MAX_ENTRIES);
    GString *str = g_string_new("vireo");
    uint32_t flags =
        MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_LOADER_NAME;
    bool ok = false;

    g_string_append_c(str, '\0');
    if (h->flags & MB_FLAG_AOUT_KLUDGE) {
        uint64_t off, lsize, laddr, msize;
        if (!multiboot_aout_range(h, k->size, &off, &lsize, &laddr, &msize,
                                  errp) ||
            !check_ram(t, laddr, msize, "multiboot kernel", errp) ||
            !put_blob(m, xb, laddr, k->data + off, lsize, errp) ||
            !put_blob(m, xb, laddr + lsize, NULL, msize - lsize, errp)) {
            goto out;
        }
        xb->kernel_addr = laddr;
        xb->kernel_end = laddr + msize;
        xb->entry = h->entry_addr;
    } else {
        struct elf_image e;
        if (!elf_parse(k->data, k->size, &e, errp)) {
            goto out;
        }
        if (e.is64) {
            error_setg(errp,
                       "multiboot kernel '%s' is ELF64: multiboot "
                       "needs a 32-bit ELF or the a.out kludge",
                       k->path);
            goto out;
        }
        if (!load_elf(m, xb, k, &e, t, errp)) {
            goto out;
        }
        xb->entry = e.entry;
    }
    {
        /* As QEMU does, the kernel's file name comes first (the multiboot
         * convention: the command line names the image). */
        g_autofree char *cmd =
            g_strdup_printf("%s%s%s", cfg->kernel, cfg->append ? " " : "",
                            cfg->append ? cfg->append : "");
        if (!put_cmdline(m, xb, t, cmd, X86_BOOT_CMDLINE_MAX - 1, errp)) {
            goto out;
        }
    }
    if (cfg->initrd) {
        gchar **list = g_strsplit(cfg->initrd, ",", -1);
        unsigned n = g_strv_length(list);
        uint64_t low = xb->kernel_end, limit = MIN(MICROVM_LOWMEM_END, 4 * GiB);

        if (n > MB_MAX_MODS) {
            error_setg(errp, "multiboot: %u modules, at most %u", n,
                       MB_MAX_MODS);
            g_strfreev(list);
            goto out;
        }
        for (unsigned i = 0; i < n; i++) {
            g_autofree char *path = g_strdup(list[i]);
            char *sp = strchr(path, ' ');
            uint64_t a, s;

            if (sp) {
                *sp = '\0';
            }
            if (!put_module(m, xb, t, path, low, limit, &a, &s, errp)) {
                g_strfreev(list);
                goto out;
            }
            limit = a;
            if (i == 0) {
                xb->initrd_addr = a;
                xb->initrd_size = s;
            }
            st_le32(md + 16 * i, (uint32_t)a);
            st_le32(md + 16 * i + 4, (uint32_t)(a + s));
            st_le32(md + 16 * i + 8, (uint32_t)(strs + str->len));
            g_string_append(str, list[i]);
            g_string_append_c(str, '\0');
        }
        g_strfreev(list);
        flags |= MB_INFO_MODS;
        st_le32(mi + 20, n);
        st_le32(mi + 24, (uint32_t)mods);
        if (!put_blob(m, xb, mods, md, 16 * n, errp)) {
            goto out;
        }
    }
    if (str->len > 4096) {
        error_setg(errp, "multiboot module names too long (%zu bytes)",
                   str->len);
        goto out;
    }
    for (unsigned i = 0; i < t->n; i++) {
        uint8_t *e = mm + 24 * i;
        st_le32(e, 20);
        st_le64(e + 4, t->e[i].addr);
        st_le64(e + 12, t->e[i].size);
        st_le32(e + 20, t->e[i].type);
        if (t->e[i].type == E820_RAM && t->e[i].addr == 0) {
            st_le32(mi + 4, (uint32_t)(MIN(t->e[i].size, 640 * KiB) / KiB));
        }
        if (t->e[i].type == E820_RAM && t->e[i].addr == 0x100000) {
            st_le32(mi + 8, (uint32_t)MIN(t->e[i].size / KiB, UINT32_MAX));
        }
    }
    st_le32(mi, flags);
    st_le32(mi + 16, (uint32_t)X86_BOOT_CMDLINE_ADDR);
    st_le32(mi + 44, 24 * t->n);
    st_le32(mi + 48, (uint32_t)mmap);
    st_le32(mi + 64, (uint32_t)strs); /* boot_loader_name: "vireo" */
    if (!check_ram(t, info, 0x2000, "multiboot info", errp) ||
        !put_blob(m, xb, info, mi, sizeof(mi), errp) ||
        !put_blob(m, xb, mmap, mm, 24 * t->n, errp) ||
        !put_blob(m, xb, strs, str->str, str->len, errp)) {
        goto out;
    }
    state_flat32(&xb->state, (uint32_t)xb->entry);
    xb->state.regs.rax = MB_BOOTLOADER_MAGIC;
    xb->state.regs.rbx = info;
    ok = true;
out:
    g_string_free(str, TRUE);
    return ok;
}

/* ---- entry points ---- */

int x86_bios_open(const char *path, uint64_t *size, Error **errp)
{
    int fd = loader_file_open("-bios", path, UINT64_MAX, NULL, size, errp);

    if (fd < 0) {
        return -1;
    }
    if (*size == 0 || *size % (64 * KiB) != 0) {
        error_setg(errp,
                   "-bios: '%s' is %" PRIu64 " bytes; a firmware image must "
                   "be a non-empty multiple of 64 KiB",
                   path, *size);
        close(fd);
        return -1;
    }
    if (*size > X86_BIOS_MAX_SIZE) {
        error_setg(errp,
                   "-bios: '%s' is %" PRIu64 " bytes; the limit is 16 MiB",
                   path, *size);
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * The image is read straight into its ROM mapping (populated up front):
 * no page fault per 4 KiB page, which costs more than the copy in a VM
 * with shadow page tables.  The mapping is writable, as QEMU maps -bios
 * on microvm (and pc): firmware may keep data in its image, e.g. a GDT
 * whose accessed bits the CPU sets at the first segment load.  So a copy
 * of the file's content is kept and put back at every machine reset, as
 * QEMU's ROM reset does.
 */
bool x86_bios_load(struct machine *m, const char *path, Error **errp)
{
    uint64_t isa_size, size;
    uint8_t *rom;
    int fd = x86_bios_open(path, &size, errp);

    if (fd < 0) {
        return false;
    }
    rom = gm_add_rom(m->gm, 4 * GiB - size, size, false, "bios", errp);
    if (!rom) {
        close(fd);
        return false;
    }
    if (!loader_read_at(fd, 0, rom, (size_t)size)) {
        error_setg(errp, "-bios: cannot read '%s': %s", path,
                   g_strerror(errno));
        close(fd);
        return false;
    }
    close(fd);
    isa_size = MIN(size, MICROVM_BIOS_LOW_SIZE);
    m->bios_rom = rom;
    m->bios_size = size;
    m->bios_image = g_memdup2(rom, (gsize)size);
    return gm_add_alias(m->gm, 1 * MiB - isa_size, rom + size - isa_size,
                        isa_size, false, "isa-bios", errp);
}

/* -initrd FILE, or multiboot's "FILE ARGS,FILE2 ARGS" list. */
static bool check_initrd(const char *list, uint64_t ram, Error **errp)
{
    g_auto(GStrv) parts = NULL;
    uint64_t size;
    int fd =
        loader_file_open("-initrd", list, ram, "the guest RAM", &size, NULL);

    if (fd >= 0) {
        close(fd);
        return true;
    }
    parts = g_strsplit(list, ",", -1);
    for (unsigned i = 0; parts[i]; i++) {
        char *sp = strchr(parts[i], ' ');

        if (sp) {
            *sp = '\0';
        }
        fd = loader_file_open("-initrd", parts[i], ram, "the guest RAM", &size,
                              errp);
        if (fd < 0) {
            return false;
        }
        close(fd);
    }
    return true;
}

bool x86_boot_check_files(const struct machine_config *cfg, Error **errp)
{
    uint64_t size;
    int fd;

    if (cfg->bios && cfg->kernel) {
        /* QEMU hands -kernel to the firmware through fw_cfg, which the
         * firmware then boots; vireo has no fw_cfg and boots a kernel
         * itself, without firmware. */
        error_setg(errp, "-kernel with -bios is not supported: vireo boots "
                         "the kernel directly, without firmware (QEMU passes "
                         "it to the firmware through fw_cfg)");
        return false;
    }
    if (cfg->bios) {
        fd = x86_bios_open(cfg->bios, &size, errp);
        if (fd < 0) {
            return false;
        }
        close(fd);
    }
    if (cfg->kernel) {
        /* its size rule needs its format: x86_boot_setup checks it */
        fd = loader_file_open("-kernel", cfg->kernel, UINT64_MAX, NULL, &size,
                              errp);
        if (fd < 0) {
            return false;
        }
        close(fd);
    }
    if (cfg->initrd && !check_initrd(cfg->initrd, cfg->ram_size, errp)) {
        return false;
    }
    if (cfg->dtb) {
        fd = loader_file_open("-dtb", cfg->dtb, X86_BOOT_DTB_MAX, DTB_ROOM,
                              &size, errp);
        if (fd < 0) {
            return false;
        }
        close(fd);
    }
    return true;
}

bool x86_boot_setup(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    struct x86_boot *xb;
    struct loader_file k;
    struct e820_table t;
    struct multiboot_header mbh;
    Error *err = NULL;
    bool ok = false;
    int mb;

    if (!cfg->kernel) {
        error_setg(errp, "no kernel to boot");
        return false;
    }
    if (!e820_build(&t, m->gm, errp)) {
        return false;
    }
    if (!loader_file_load(&k, "-kernel", cfg->kernel, m->gm->ram_size,
                          "the guest RAM", true, errp)) {
        return false;
    }
    xb = g_new0(struct x86_boot, 1);
    xb->blobs = g_ptr_array_new_with_free_func(blob_free);

    if (!x86_acpi_build_at(m, &xb->rsdp, &err) || !write_gdt(m, xb, &err)) {
        goto out;
    }
    if (cfg->dtb && !bzimage_detect(k.data, k.size)) {
        xb->err_labelled = true;
        error_setg(&err, "-dtb is only supported with a bzImage kernel (it "
                         "is passed as setup_data)");
        goto out;
    }
    if (bzimage_detect(k.data, k.size)) {
        xb->format = X86_BOOT_BZIMAGE;
        ok = boot_bzimage(m, xb, &k, &t, &err);
        goto out;
    }
    mb = multiboot_find(k.data, k.size, &mbh, &err);
    if (mb < 0) {
        goto out;
    }
    if (mb > 0) {
        xb->format = X86_BOOT_MULTIBOOT;
        ok = boot_multiboot(m, xb, &k, &mbh, &t, &err);
        goto out;
    }
    if (elf_is_elf(k.data, k.size)) {
        struct elf_image e;
        const uint8_t *desc;
        uint32_t dsz;
        uint64_t entry;
        int r;

        if (!elf_parse(k.data, k.size, &e, &err)) {
            goto out;
        }
        r = elf_find_note(k.data, k.size, &e, "Xen", XEN_ELFNOTE_PHYS32_ENTRY,
                          &desc, &dsz, &err);
        if (r < 0) {
            goto out;
        }
        if (r == 0) {
            error_setg(&err, "ELF kernel has no PVH entry note "
                             "(XEN_ELFNOTE_PHYS32_ENTRY) and no multiboot "
                             "header");
            goto out;
        }
        if (dsz != 4 && dsz != 8) {
            error_setg(&err, "PVH entry note has %u bytes (4 or 8 expected)",
                       dsz);
            goto out;
        }
        entry = dsz == 4 ? ld_le32(desc) : ld_le64(desc);
        if (entry > UINT32_MAX) {
            error_setg(&err, "PVH entry 0x%" PRIx64 " is above 4 GiB", entry);
            goto out;
        }
        xb->format = X86_BOOT_PVH;
        ok = boot_pvh(m, xb, &k, &e, (uint32_t)entry, &t, &err);
        goto out;
    }
    error_setg(&err, "not a bzImage, multiboot or PVH ELF image");
out:
    if (!ok) {
        if (!xb->err_labelled) {
            error_prepend(&err, "-kernel: '%s': ", cfg->kernel);
        }
        error_propagate(errp, err);
        g_ptr_array_unref(xb->blobs);
        g_free(xb);
    } else {
        m->boot_state = xb;
    }
    loader_file_clear(&k);
    return ok;
}

const struct x86_boot_state *x86_boot_cpu_state(struct machine *m)
{
    struct x86_boot *xb = m->boot_state;

    return xb ? &xb->state : NULL;
}

bool x86_boot_reset(struct machine *m, Error **errp)
{
    struct x86_boot *xb = m->boot_state;

    if (m->bios_image) {
        memcpy(m->bios_rom, m->bios_image, m->bios_size);
    }
    if (!xb) {
        return true;
    }
    for (guint i = 0; i < xb->blobs->len; i++) {
        if (!blob_apply(m, g_ptr_array_index(xb->blobs, i), errp)) {
            return false;
        }
    }
    return x86_acpi_build_at(m, NULL, errp);
}

void x86_boot_free(struct machine *m)
{
    struct x86_boot *xb = m->boot_state;

    g_free(m->bios_image);
    m->bios_image = NULL;
    if (xb) {
        g_ptr_array_unref(xb->blobs);
        g_free(xb);
        m->boot_state = NULL;
    }
}
