/* SPDX-License-Identifier: MIT */
/*
 * loader.h: parsers for the kernel image formats vireo boots directly: ELF
 * (PT_LOAD segments and notes, for PVH and multiboot), the Linux bzImage
 * setup header, and the multiboot v1 header.
 *
 * Every parser works on a file buffer only, checks every offset and size
 * against the buffer before reading, and fails with a message naming the
 * field that is wrong.  Images are host-user input, but treat them as
 * hostile anyway: nothing here trusts a length it has not checked.
 */
#ifndef HW_CORE_LOADER_H
#define HW_CORE_LOADER_H

#include "util/common.h"
#include "util/error.h"
#include "util/bytes.h"

/* A boot file read into memory: all of it, or for an ELF kernel only
 * the part a boot uses (see loader_file_load). */
struct loader_file {
    char *path;
    uint8_t *data;
    size_t size;
};

/*
 * Opens a boot file without blocking and checks it is a regular file of
 * at most max_size bytes (max_name says what that limit is: "the guest
 * RAM"); returns the fd (its size in *size) or -1 with
 * an error that starts with what ("-kernel", "-initrd"...) and names the
 * file.  Cheap: nothing is read, so it runs before /dev/kvm is opened.
 */
int loader_file_open(const char *what, const char *path, uint64_t max_size,
                     const char *max_name, uint64_t *size, Error **errp);
/* pread()s exactly len bytes at off (EIO if the file is shorter). */
bool loader_read_at(int fd, uint64_t off, void *buf, size_t len);
/* Reads path (checked as loader_file_open does); kernel: an ELF image is
 * read only up to the end of its last loaded or note segment. */
bool loader_file_load(struct loader_file *f, const char *what, const char *path,
                      uint64_t max_size, const char *max_name, bool kernel,
                      Error **errp);
void loader_file_clear(struct loader_file *f);

/* Little-endian fields of images and boot structures, on util/bytes.h;
 * the caller has checked the bounds. */
static inline uint16_t ld_le16(const uint8_t *p)
{
    return (uint16_t)le_load(p, 2);
}
static inline uint32_t ld_le32(const uint8_t *p)
{
    return (uint32_t)le_load(p, 4);
}
static inline uint64_t ld_le64(const uint8_t *p)
{
    return le_load(p, 8);
}
static inline void st_le16(uint8_t *p, uint16_t v)
{
    le_store(p, v, 2);
}
static inline void st_le32(uint8_t *p, uint32_t v)
{
    le_store(p, v, 4);
}
static inline void st_le64(uint8_t *p, uint64_t v)
{
    le_store(p, v, 8);
}

/* ---- ELF ---- */

#define ELF_MAX_SEGMENTS 64

struct elf_segment {
    uint64_t paddr, vaddr;
    uint64_t offset; /* in the file */
    uint64_t filesz, memsz;
};

struct elf_image {
    bool is64;
    uint16_t machine;
    uint64_t entry;
    unsigned nr_segs; /* PT_LOAD segments with memsz > 0 */
    struct elf_segment segs[ELF_MAX_SEGMENTS];
    /* PT_NOTE segments, as file ranges */
    unsigned nr_notes;
    uint64_t note_off[ELF_MAX_SEGMENTS], note_size[ELF_MAX_SEGMENTS];
};

/* True if buf starts with the ELF magic (no other check). */
bool elf_is_elf(const uint8_t *buf, size_t size);
/* Parses an x86 (EM_386) or x86-64 (EM_X86_64) executable, little-endian,
 * ELF32 or ELF64.  Checks the header, the program header table and every
 * PT_LOAD/PT_NOTE range against size, filesz <= memsz, no address wrap. */
bool elf_parse(const uint8_t *buf, size_t size, struct elf_image *out,
               Error **errp);
/* Finds note (name, type) in the PT_NOTE segments.  Returns 1 and sets
 * desc and descsz when found, 0 when absent, -1 with errp on a malformed
 * note. */
int elf_find_note(const uint8_t *buf, size_t size, const struct elf_image *e,
                  const char *name, uint32_t type, const uint8_t **desc,
                  uint32_t *descsz, Error **errp);
/* Lowest paddr and highest paddr+memsz over the loadable segments. */
void elf_paddr_range(const struct elf_image *e, uint64_t *lo, uint64_t *hi);

/* Xen ELF note giving the PVH 32-bit entry point. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* ---- Linux bzImage (Documentation/arch/x86/boot.rst) ---- */

#define BZ_SETUP_SECTS 0x1f1
#define BZ_VID_MODE 0x1fa
#define BZ_BOOT_FLAG 0x1fe
#define BZ_JUMP 0x200
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS 0x211
#define BZ_CODE32_START 0x214
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE 0x21c
#define BZ_HEAP_END_PTR 0x224
#define BZ_CMD_LINE_PTR 0x228
#define BZ_INITRD_ADDR_MAX 0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE 0x234
#define BZ_XLOADFLAGS 0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_SETUP_DATA 0x250
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE 0x260
#define BZ_HEADER_END 0x268 /* through init_size + handover_offset */

/* boot_params (zero page) fields outside the setup header */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_SIZE 4096

#define BZ_LOADED_HIGH 0x01
#define BZ_CAN_USE_HEAP 0x80
#define BZ_XLF_KERNEL_64 0x01
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x02

#define SETUP_DTB 2
#define SETUP_RNG_SEED 9

#define BZ_MIN_VERSION 0x206

struct bzimage {
    uint16_t version;
    size_t setup_size; /* (setup_sects + 1) * 512: real-mode part */
    size_t header_end; /* end of the setup header in the file */
    size_t kernel_off; /* protected-mode kernel in the file */
    size_t kernel_size;
    uint8_t loadflags;
    uint16_t xloadflags;
    bool relocatable;
    uint32_t kernel_alignment;
    uint64_t pref_address;
    uint32_t init_size;
    uint32_t initrd_addr_max;
    uint32_t cmdline_size; /* without the NUL */
};

/* True if buf carries the "HdrS" magic (a bzImage of some version). */
bool bzimage_detect(const uint8_t *buf, size_t size);
/* Checks a bzImage for what a 64-bit direct boot needs. */
bool bzimage_parse(const uint8_t *buf, size_t size, struct bzimage *out,
                   Error **errp);

/* ---- Multiboot v1 ---- */

#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_BOOTLOADER_MAGIC 0x2BADB002u
#define MB_SEARCH 8192
#define MB_FLAG_PAGE_ALIGN (1u << 0)
#define MB_FLAG_MEMORY_INFO (1u << 1)
#define MB_FLAG_VIDEO_MODE (1u << 2)
#define MB_FLAG_AOUT_KLUDGE (1u << 16)

struct multiboot_header {
    size_t offset; /* of the header in the file */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* 1: found and valid (*out set); 0: no multiboot header; -1: a header
 * with a bad checksum, required flags we cannot honour, or bad a.out
 * kludge addresses (errp set). */
int multiboot_find(const uint8_t *buf, size_t size,
                   struct multiboot_header *out, Error **errp);
/* a.out kludge: the file range to load and where.  Fails on ranges that
 * fall outside the file or wrap. */
bool multiboot_aout_range(const struct multiboot_header *h, size_t size,
                          uint64_t *file_off, uint64_t *load_size,
                          uint64_t *load_addr, uint64_t *mem_size,
                          Error **errp);

#endif
