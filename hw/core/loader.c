/* SPDX-License-Identifier: MIT */
/*
 * loader.c: kernel image parsers (see loader.h).  Nothing here touches
 * guest memory: hw/i386/x86-boot.c places what these functions describe.
 */
#include "util/common.h"
#include "hw/core/loader.h"

#define EI_CLASS_OFF 4

/* [off, off+len) inside [0, size) without wrap. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int loader_file_open(const char *what, const char *path, uint64_t max_size,
                     const char *max_name, uint64_t *size, Error **errp)
{
    struct stat st;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (start-up
     * would hang before it could say what is wrong). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        error_setg(errp, "%s: cannot read '%s': %s", what, path,
                   g_strerror(errno));
        goto fail;
    }
    /* A device or FIFO has no size to check: /dev/zero would be read
     * until memory runs out. */
    if (!S_ISREG(st.st_mode)) {
        error_setg(errp, "%s: '%s' is not a regular file", what, path);
        goto fail;
    }
    if ((uint64_t)st.st_size > max_size) {
        error_setg(errp,
                   "%s: '%s' is too large: %" PRIu64
                   " bytes, more than %s (%" PRIu64 " bytes)",
                   what, path, (uint64_t)st.st_size, max_name, max_size);
        goto fail;
    }
    *size = (uint64_t)st.st_size;
    return fd;
fail:
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

bool loader_read_at(int fd, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO; /* shrank since it was sized */
            }
            return false;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

/*
 * How much of an ELF image a boot needs: the headers, the program header
 * table, and every PT_LOAD and PT_NOTE segment.  Section headers and
 * debug info (most of an unstripped vmlinux) come after and are never
 * read.  Anything inconsistent yields the whole file, so that the parser
 * reports the problem against the real size.
 */
static uint64_t elf_extent(int fd, const uint8_t *head, size_t head_len,
                           uint64_t size)
{
    bool is64 = head_len >= 64 && head[EI_CLASS_OFF] == 2;
    uint64_t phoff, end;
    unsigned phentsize, phnum;
    g_autofree uint8_t *tab = NULL;

    if (head_len < 52 || (head[EI_CLASS_OFF] != 1 && !is64)) {
        return size;
    }
    phoff = is64 ? ld_le64(head + 32) : ld_le32(head + 28);
    phentsize = ld_le16(head + (is64 ? 54 : 42));
    phnum = ld_le16(head + (is64 ? 56 : 44));
    if (phentsize < (is64 ? 56u : 32u) || phnum == 0 ||
        phnum > ELF_MAX_SEGMENTS ||
        !in_file(phoff, (uint64_t)phentsize * phnum, size)) {
        return size;
    }
    end = MAX(phoff + (uint64_t)phentsize * phnum, (uint64_t)head_len);
    tab = g_malloc((size_t)phentsize * phnum);
    if (!loader_read_at(fd, phoff, tab, (size_t)phentsize * phnum)) {
        return size;
    }
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = tab + (size_t)i * phentsize;
        uint32_t type = ld_le32(ph);
        uint64_t off = is64 ? ld_le64(ph + 8) : ld_le32(ph + 4);
        uint64_t filesz = is64 ? ld_le64(ph + 32) : ld_le32(ph + 16);

        if (type != 1 && type != 4) { /* PT_LOAD, PT_NOTE */
            continue;
        }
        if (!in_file(off, filesz, size)) {
            return size;
        }
        end = MAX(end, off + filesz);
    }
    return end;
}

bool loader_file_load(struct loader_file *f, const char *what, const char *path,
                      uint64_t max_size, const char *max_name, bool kernel,
                      Error **errp)
{
    uint8_t head[MB_SEARCH];
    uint64_t size, len;
    size_t head_len;
    int fd;

    memset(f, 0, sizeof(*f));
    /* A kernel is checked against max_size once we know how much of it
     * is loaded (an unstripped vmlinux is mostly debug info). */
    fd = loader_file_open(what, path, kernel ? UINT64_MAX : max_size, max_name,
                          &size, errp);
    if (fd < 0) {
        return false;
    }
    len = size;
    head_len = (size_t)MIN(size, (uint64_t)sizeof(head));
    if (!loader_read_at(fd, 0, head, head_len)) {
        goto read_fail;
    }
    /* An ELF kernel (not a bzImage, not an a.out-kludge multiboot image,
     * which loads a file range of its own): only what is loaded. */
    if (kernel && elf_is_elf(head, head_len) &&
        !bzimage_detect(head, head_len)) {
        struct multiboot_header mbh;

        if (multiboot_find(head, head_len, &mbh, NULL) <= 0 ||
            !(mbh.flags & MB_FLAG_AOUT_KLUDGE)) {
            len = MAX(elf_extent(fd, head, head_len, size), (uint64_t)head_len);
        }
    }
    if (len > max_size) {
        error_setg(errp,
                   "%s: '%s' is too large: it loads %" PRIu64
                   " bytes, more than %s (%" PRIu64 " bytes)",
                   what, path, len, max_name, max_size);
        close(fd);
        return false;
    }
    f->data = g_malloc(MAX(len, 1));
    memcpy(f->data, head, head_len);
    if (!loader_read_at(fd, head_len, f->data + head_len, len - head_len)) {
        goto read_fail;
    }
    close(fd);
    f->path = g_strdup(path);
    f->size = (size_t)len;
    return true;
read_fail:
    error_setg(errp, "%s: cannot read '%s': %s", what, path, g_strerror(errno));
    close(fd);
    g_free(f->data);
    f->data = NULL;
    return false;
}

void loader_file_clear(struct loader_file *f)
{
    g_free(f->path);
    g_free(f->data);
    memset(f, 0, sizeof(*f));
}

/* ---- ELF ---- */

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4

bool elf_is_elf(const uint8_t *buf, size_t size)
{
    return size >= 4 && memcmp(buf,
                               "\x7f"
                               "ELF",
                               4) == 0;
}

bool elf_parse(const uint8_t *buf, size_t size, struct elf_image *out,
               Error **errp)
{
    uint64_t phoff;
    unsigned phentsize, phnum, ehsize;
    uint16_t type;

    memset(out, 0, sizeof(*out));
    if (!elf_is_elf(buf, size) || size < 52) {
        error_setg(errp, "ELF image truncated: %zu bytes, header needs 52",
                   size);
        return false;
    }
    if (buf[EI_DATA] != ELFDATA2LSB) {
        error_setg(errp, "ELF image is not little-endian");
        return false;
    }
    if (buf[EI_CLASS] == ELFCLASS64) {
        out->is64 = true;
        ehsize = 64;
    } else if (buf[EI_CLASS] == ELFCLASS32) {
        ehsize = 52;
    } else {
        error_setg(errp, "ELF image has an unknown class %u", buf[EI_CLASS]);
        return false;
    }
    if (size < ehsize) {
        error_setg(errp, "ELF image truncated: %zu bytes, header needs %u",
                   size, ehsize);
        return false;
    }
    type = ld_le16(buf + 16);
    out->machine = ld_le16(buf + 18);
    if (type != ET_EXEC) {
        error_setg(errp, "ELF image is not an executable (e_type %u)", type);
        return false;
    }
    if (out->machine != EM_386 && out->machine != EM_X86_64) {
        error_setg(errp, "ELF image is not for x86 (e_machine %u)",
                   out->machine);
        return false;
    }
    if (out->is64) {
        out->entry = ld_le64(buf + 24);
        phoff = ld_le64(buf + 32);
        phentsize = ld_le16(buf + 54);
        phnum = ld_le16(buf + 56);
    } else {
        out->entry = ld_le32(buf + 24);
        phoff = ld_le32(buf + 28);
        phentsize = ld_le16(buf + 42);
        phnum = ld_le16(buf + 44);
    }
    if (phentsize < (out->is64 ? 56u : 32u)) {
        error_setg(errp, "ELF program header entry size %u is too small",
                   phentsize);
        return false;
    }
    if (phnum == 0 || phnum > ELF_MAX_SEGMENTS) {
        error_setg(errp, "ELF image has %u program headers (1..%u supported)",
                   phnum, ELF_MAX_SEGMENTS);
        return false;
    }
    if (!in_file(phoff, (uint64_t)phentsize * phnum, size)) {
        error_setg(errp,
                   "ELF image truncated: program headers at 0x%" PRIx64
                   " (%u x %u bytes) past the end (%zu bytes)",
                   phoff, phnum, phentsize, size);
        return false;
    }
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = buf + phoff + (uint64_t)i * phentsize;
        struct elf_segment s;
        uint32_t ptype = ld_le32(ph);

        if (out->is64) {
            s.offset = ld_le64(ph + 8);
            s.vaddr = ld_le64(ph + 16);
            s.paddr = ld_le64(ph + 24);
            s.filesz = ld_le64(ph + 32);
            s.memsz = ld_le64(ph + 40);
        } else {
            s.offset = ld_le32(ph + 4);
            s.vaddr = ld_le32(ph + 8);
            s.paddr = ld_le32(ph + 12);
            s.filesz = ld_le32(ph + 16);
            s.memsz = ld_le32(ph + 20);
        }
        if (ptype == PT_NOTE) {
            if (!in_file(s.offset, s.filesz, size)) {
                error_setg(errp,
                           "ELF image truncated: note segment %u at 0x%" PRIx64
                           "+0x%" PRIx64 " past the end (%zu bytes)",
                           i, s.offset, s.filesz, size);
                return false;
            }
            out->note_off[out->nr_notes] = s.offset;
            out->note_size[out->nr_notes++] = s.filesz;
            continue;
        }
        if (ptype != PT_LOAD || s.memsz == 0) {
            continue;
        }
        if (s.filesz > s.memsz) {
            error_setg(errp,
                       "ELF segment %u: file size 0x%" PRIx64
                       " exceeds memory size 0x%" PRIx64,
                       i, s.filesz, s.memsz);
            return false;
        }
        if (!in_file(s.offset, s.filesz, size)) {
            error_setg(errp,
                       "ELF image truncated: segment %u at 0x%" PRIx64
                       "+0x%" PRIx64 " past the end (%zu bytes)",
                       i, s.offset, s.filesz, size);
            return false;
        }
        if (s.paddr + s.memsz < s.paddr) {
            error_setg(errp, "ELF segment %u wraps the address space", i);
            return false;
        }
        out->segs[out->nr_segs++] = s;
    }
    if (out->nr_segs == 0) {
        error_setg(errp, "ELF image has no loadable segment");
        return false;
    }
    return true;
}

int elf_find_note(const uint8_t *buf, size_t size, const struct elf_image *e,
                  const char *name, uint32_t type, const uint8_t **desc,
                  uint32_t *descsz, Error **errp)
{
    size_t namelen = strlen(name) + 1;

    for (unsigned i = 0; i < e->nr_notes; i++) {
        uint64_t off = e->note_off[i], end = off + e->note_size[i];

        /* PT_NOTE ranges were checked against size by elf_parse. */
        while (end - off >= 12) {
            uint32_t nsz = ld_le32(buf + off), dsz = ld_le32(buf + off + 4);
            uint32_t ntype = ld_le32(buf + off + 8);
            uint64_t npad = ALIGN_UP((uint64_t)nsz, 4);
            uint64_t dpad = ALIGN_UP((uint64_t)dsz, 4);

            off += 12;
            if (npad > end - off || dpad > end - off - npad) {
                error_setg(errp,
                           "ELF note at file offset 0x%" PRIx64
                           " runs past its segment",
                           off - 12);
                return -1;
            }
            if (ntype == type && nsz == namelen &&
                memcmp(buf + off, name, namelen) == 0) {
                *desc = buf + off + npad;
                *descsz = dsz;
                return 1;
            }
            off += npad + dpad;
        }
    }
    (void)size;
    return 0;
}

void elf_paddr_range(const struct elf_image *e, uint64_t *lo, uint64_t *hi)
{
    *lo = UINT64_MAX;
    *hi = 0;
    for (unsigned i = 0; i < e->nr_segs; i++) {
        const struct elf_segment *s = &e->segs[i];
        if (s->paddr < *lo) {
            *lo = s->paddr;
        }
        if (s->paddr + s->memsz > *hi) {
            *hi = s->paddr + s->memsz;
        }
    }
}

/* ---- bzImage ---- */

bool bzimage_detect(const uint8_t *buf, size_t size)
{
    return size >= BZ_HEADER + 4 && memcmp(buf + BZ_HEADER, "HdrS", 4) == 0;
}

bool bzimage_parse(const uint8_t *buf, size_t size, struct bzimage *out,
                   Error **errp)
{
    unsigned sects;

    memset(out, 0, sizeof(*out));
    if (size < BZ_HEADER_END) {
        error_setg(errp,
                   "bzImage truncated: %zu bytes, the setup header needs %u",
                   size, BZ_HEADER_END);
        return false;
    }
    if (!bzimage_detect(buf, size)) {
        error_setg(errp, "not a bzImage: no 'HdrS' magic at 0x%x", BZ_HEADER);
        return false;
    }
    out->version = ld_le16(buf + BZ_VERSION);
    if (out->version < BZ_MIN_VERSION) {
        error_setg(errp,
                   "unsupported Linux boot protocol %u.%02u (2.06 or later "
                   "needed)",
                   out->version >> 8, out->version & 0xff);
        return false;
    }
    out->header_end = (size_t)BZ_JUMP + 2 + buf[BZ_JUMP + 1];
    if (buf[BZ_JUMP] != 0xeb || out->header_end < BZ_CMDLINE_SIZE + 4) {
        error_setg(errp, "bzImage setup header: bad jump at 0x200");
        return false;
    }
    sects = buf[BZ_SETUP_SECTS] ? buf[BZ_SETUP_SECTS] : 4;
    out->setup_size = (size_t)(sects + 1) * 512;
    if (out->setup_size >= size) {
        error_setg(errp,
                   "bzImage truncated: %zu bytes, setup alone takes %zu "
                   "(%u sectors)",
                   size, out->setup_size, sects);
        return false;
    }
    out->kernel_off = out->setup_size;
    out->kernel_size = size - out->setup_size;
    out->loadflags = buf[BZ_LOADFLAGS];
    out->initrd_addr_max = ld_le32(buf + BZ_INITRD_ADDR_MAX);
    out->kernel_alignment = ld_le32(buf + BZ_KERNEL_ALIGNMENT);
    out->relocatable = buf[BZ_RELOCATABLE] != 0;
    out->cmdline_size = ld_le32(buf + BZ_CMDLINE_SIZE);
    if (!(out->loadflags & BZ_LOADED_HIGH)) {
        error_setg(errp, "bzImage is not a high-loaded kernel "
                         "(loadflags LOADED_HIGH clear): zImage unsupported");
        return false;
    }
    if (out->version >= 0x20c) {
        out->xloadflags = ld_le16(buf + BZ_XLOADFLAGS);
    }
    if (!(out->xloadflags & BZ_XLF_KERNEL_64)) {
        error_setg(errp,
                   "bzImage has no 64-bit entry point (boot protocol %u.%02u, "
                   "xloadflags 0x%x; XLF_KERNEL_64 needed)",
                   out->version >> 8, out->version & 0xff, out->xloadflags);
        return false;
    }
    if (out->version >= 0x20a) {
        out->pref_address = ld_le64(buf + BZ_PREF_ADDRESS);
        out->init_size = ld_le32(buf + BZ_INIT_SIZE);
    } else {
        out->pref_address = 0x100000;
    }
    if (out->kernel_alignment == 0 ||
        (out->kernel_alignment & (out->kernel_alignment - 1))) {
        error_setg(errp, "bzImage kernel_alignment 0x%x is not a power of two",
                   out->kernel_alignment);
        return false;
    }
    if (out->init_size < out->kernel_size) {
        /* Older headers: the kernel needs at least its own size (plus what
         * it decompresses into, which only init_size tells). */
        out->init_size = (uint32_t)MIN(out->kernel_size * 4, UINT32_MAX);
    }
    if (out->pref_address & (out->kernel_alignment - 1)) {
        error_setg(errp,
                   "bzImage pref_address 0x%" PRIx64
                   " is not aligned to kernel_alignment 0x%x",
                   out->pref_address, out->kernel_alignment);
        return false;
    }
    if (out->initrd_addr_max == 0) {
        out->initrd_addr_max = 0x37ffffff;
    }
    return true;
}

/* ---- Multiboot ---- */

int multiboot_find(const uint8_t *buf, size_t size,
                   struct multiboot_header *out, Error **errp)
{
    size_t lim = MIN(size, (size_t)MB_SEARCH);

    memset(out, 0, sizeof(*out));
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t magic = ld_le32(buf + off), flags, sum;

        if (magic != MB_HEADER_MAGIC) {
            continue;
        }
        flags = ld_le32(buf + off + 4);
        sum = ld_le32(buf + off + 8);
        if ((uint32_t)(magic + flags + sum) != 0) {
            error_setg(errp, "multiboot header at 0x%zx: bad checksum 0x%08x",
                       off, sum);
            return -1;
        }
        out->offset = off;
        out->flags = flags;
        if (flags & 0xfffcu) {
            error_setg(errp,
                       "multiboot header requires features vireo does not "
                       "provide (flags 0x%08x: video mode or unknown)",
                       flags);
            return -1;
        }
        if (flags & MB_FLAG_AOUT_KLUDGE) {
            if (!in_file(off, 32, size)) {
                error_setg(errp, "multiboot header truncated: a.out kludge "
                                 "fields past the end");
                return -1;
            }
            out->header_addr = ld_le32(buf + off + 12);
            out->load_addr = ld_le32(buf + off + 16);
            out->load_end_addr = ld_le32(buf + off + 20);
            out->bss_end_addr = ld_le32(buf + off + 24);
            out->entry_addr = ld_le32(buf + off + 28);
        }
        return 1;
    }
    return 0;
}

bool multiboot_aout_range(const struct multiboot_header *h, size_t size,
                          uint64_t *file_off, uint64_t *load_size,
                          uint64_t *load_addr, uint64_t *mem_size, Error **errp)
{
    uint64_t hdr_file_off = h->offset;
    uint64_t end, bss_end;

    if (h->header_addr < h->load_addr ||
        h->header_addr - h->load_addr > hdr_file_off) {
        error_setg(errp,
                   "multiboot a.out kludge: header_addr 0x%x and load_addr "
                   "0x%x disagree with the header's file offset 0x%zx",
                   h->header_addr, h->load_addr, h->offset);
        return false;
    }
    *file_off = hdr_file_off - (h->header_addr - h->load_addr);
    *load_addr = h->load_addr;
    end =
        h->load_end_addr ? h->load_end_addr : h->load_addr + (size - *file_off);
    if (end < h->load_addr) {
        error_setg(errp,
                   "multiboot a.out kludge: load_end_addr 0x%" PRIx64
                   " below load_addr 0x%x",
                   end, h->load_addr);
        return false;
    }
    *load_size = end - h->load_addr;
    if (!in_file(*file_off, *load_size, size)) {
        error_setg(errp,
                   "multiboot image truncated: needs 0x%" PRIx64
                   " bytes from file offset 0x%" PRIx64 ", file has %zu",
                   *load_size, *file_off, size);
        return false;
    }
    bss_end = h->bss_end_addr ? h->bss_end_addr : end;
    if (bss_end < end) {
        error_setg(errp,
                   "multiboot a.out kludge: bss_end_addr 0x%x below "
                   "the loaded end 0x%" PRIx64,
                   h->bss_end_addr, end);
        return false;
    }
    *mem_size = bss_end - h->load_addr;
    if (h->entry_addr < h->load_addr || h->entry_addr >= bss_end) {
        error_setg(errp,
                   "multiboot a.out kludge: entry_addr 0x%x outside "
                   "the image",
                   h->entry_addr);
        return false;
    }
    return true;
}
