/* SPDX-License-Identifier: MIT */
/*
 * x86-boot.h: direct kernel boot (-kernel/-initrd/-append/-dtb) for the
 * three formats QEMU boots without firmware help: Linux bzImage (64-bit
 * boot protocol), PVH ELF (XEN_ELFNOTE_PHYS32_ENTRY) and multiboot v1.
 *
 * x86_boot_setup() runs once after RAM and devices exist: it loads the
 * images, writes the boot information (zero page, hvm_start_info or
 * multiboot info, e820 map, ACPI tables) and sets m->boot_state, the BSP's
 * entry state, which target-i386 applies after every reset.  Everything
 * it wrote is remembered, so x86_boot_reset() can restore guest memory on
 * a guest reboot (the old kernel has overwritten itself by then).
 *
 * Low-memory layout (all below the EBDA, inside the first 640 KiB):
 *   0x0500 GDT   0x6000 start_info / multiboot info   0x7000 zero page
 *   0x9000 PML4, 0xa000 PDPT, 0xb000-0xefff page directories (4 GiB, 2M)
 *   0x20000 command line   0x30000-0x9efff setup_data chain
 */
#ifndef HW_I386_X86_BOOT_H
#define HW_I386_X86_BOOT_H

#include "util/common.h"
#include "util/error.h"
#include "target-i386/cpu.h"

struct machine;
struct machine_config;

#define X86_BOOT_GDT_ADDR 0x500ULL
#define X86_BOOT_INFO_ADDR 0x6000ULL
#define X86_BOOT_ZERO_PAGE_ADDR 0x7000ULL
#define X86_BOOT_PML4_ADDR 0x9000ULL
#define X86_BOOT_CMDLINE_ADDR 0x20000ULL
#define X86_BOOT_CMDLINE_MAX 0x10000ULL
#define X86_BOOT_SETUP_DATA_ADDR 0x30000ULL
#define X86_BOOT_SETUP_DATA_END 0x9f000ULL
/* A -dtb goes in the setup_data area with its header and the RNG seed's. */
#define X86_BOOT_DTB_MAX                                                       \
    (X86_BOOT_SETUP_DATA_END - X86_BOOT_SETUP_DATA_ADDR - 16 - (16 + 32))
/* -bios: QEMU's rule (a non-empty multiple of 64 KiB), at most the 16 MiB
 * flash window below 4 GiB. */
#define X86_BIOS_MAX_SIZE (16 * MiB)

/* GDT selectors: Linux's __BOOT_CS/__BOOT_DS for 64-bit entry, plus a
 * flat 32-bit code segment for PVH and multiboot. */
#define X86_BOOT_CS64 0x10
#define X86_BOOT_DS 0x18
#define X86_BOOT_CS32 0x20

/* The most virtio-mmio slots a board describes (cmdline, DSDT). */
#define X86_VIRTIO_MMIO_SLOTS 8

#define PVH_START_MAGIC 0x336ec578u

enum x86_boot_format {
    X86_BOOT_BZIMAGE = 1,
    X86_BOOT_PVH,
    X86_BOOT_MULTIBOOT,
};

/* What m->boot_state points to.  `state` comes first so target-i386 can
 * treat the pointer as a struct x86_boot_state *. */
struct x86_boot {
    struct x86_boot_state state;
    enum x86_boot_format format;
    uint64_t kernel_addr, kernel_end, entry;
    uint64_t initrd_addr, initrd_size;
    uint64_t rsdp;
    GPtrArray *blobs;  /* struct x86_boot_blob *: what to restore at reset */
    bool err_labelled; /* the error being built names -initrd/-dtb already */
};

/*
 * The checks on the boot files that need no guest: each of -bios,
 * -kernel, -initrd, -dtb exists and is a regular file within its size
 * rule, and the combination is one vireo boots.  Run before /dev/kvm is
 * opened, so that the error names the file on any host.
 */
bool x86_boot_check_files(const struct machine_config *cfg, Error **errp);
/* Opens a -bios image and checks QEMU's size rule; returns the fd. */
int x86_bios_open(const char *path, uint64_t *size, Error **errp);
/* Maps the -bios image below 4 GiB (and its top 128 KiB below 1 MiB),
 * writable; x86_boot_reset() restores its content. */
bool x86_bios_load(struct machine *m, const char *path, Error **errp);

/* Loads m->cfg->kernel (and initrd, append, dtb); sets m->boot_state. */
bool x86_boot_setup(struct machine *m, Error **errp);
/* Writes the firmware image and every loaded blob into guest memory again
 * (machine reset). */
bool x86_boot_reset(struct machine *m, Error **errp);
/* Frees m->boot_state and the firmware's reset copy. */
void x86_boot_free(struct machine *m);
/* The BSP's entry state, NULL when no kernel was loaded directly. */
const struct x86_boot_state *x86_boot_cpu_state(struct machine *m);
const char *x86_boot_format_name(enum x86_boot_format f);

#endif
