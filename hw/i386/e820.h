/* SPDX-License-Identifier: MIT */
/*
 * e820.h: the BIOS-style memory map vireo hands to a directly booted kernel
 * (zero page e820_table, PVH hvm_memmap_table_entry list, multiboot mmap).
 * It is derived from the guest_mem regions, so it always agrees with what
 * KVM maps: every RAM region is usable RAM, minus the legacy BIOS area and
 * the ranges KVM and the ACPI tables occupy.
 */
#ifndef HW_I386_E820_H
#define HW_I386_E820_H

#include "util/common.h"
#include "util/error.h"

struct guest_mem;

enum e820_type {
    E820_RAM = 1,
    E820_RESERVED = 2,
    E820_ACPI = 3,
    E820_NVS = 4,
    E820_UNUSABLE = 5,
};

#define E820_MAX_ENTRIES 128 /* the zero page holds 128 */

struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

struct e820_table {
    struct e820_entry e[E820_MAX_ENTRIES];
    unsigned n;
};

/* The legacy area a PC keeps away from the OS: EBDA, VGA hole, BIOS. */
#define E820_BIOS_AREA_START 0x9fc00ULL
#define E820_BIOS_AREA_END 0x100000ULL

void e820_init(struct e820_table *t);
/* Sets [addr, addr+size) to type, splitting or trimming what overlaps;
 * the table stays sorted and merged.  Fails when full or on overflow. */
bool e820_set(struct e820_table *t, uint64_t addr, uint64_t size,
              enum e820_type type, Error **errp);
/* Builds the map for gm: RAM regions usable; then the BIOS area and the
 * KVM TSS/identity-map pages reserved. */
bool e820_build(struct e820_table *t, const struct guest_mem *gm, Error **errp);
/* Sum of the sizes of entries of this type. */
uint64_t e820_sum(const struct e820_table *t, enum e820_type type);
/* Highest usable address range [lo, hi) of at least size bytes, below
 * limit, aligned: returns the aligned start or UINT64_MAX. */
uint64_t e820_find_top(const struct e820_table *t, uint64_t size,
                       uint64_t limit, uint64_t align);
/* True if [addr, addr+size) lies inside one usable entry. */
bool e820_is_usable(const struct e820_table *t, uint64_t addr, uint64_t size);
/* "  0x...-0x... usable" lines. */
void e820_describe(const struct e820_table *t, GString *out);

#endif
