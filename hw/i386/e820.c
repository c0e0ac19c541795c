/* SPDX-License-Identifier: MIT */
/*
 * e820.c: the e820 memory map (see e820.h).  Kept as a sorted list of
 * non-overlapping entries; e820_set() carves a new range out of whatever
 * it overlaps so the later, more specific reservation wins.
 */
#include "util/common.h"
#include "hw/i386/e820.h"
#include "hw/i386/microvm-layout.h"
#include "system/guest-mem.h"

void e820_init(struct e820_table *t)
{
    memset(t, 0, sizeof(*t));
}

static void merge(struct e820_table *t)
{
    unsigned o = 0;

    for (unsigned i = 0; i < t->n; i++) {
        if (o > 0 && t->e[o - 1].type == t->e[i].type &&
            t->e[o - 1].addr + t->e[o - 1].size == t->e[i].addr) {
            t->e[o - 1].size += t->e[i].size;
            continue;
        }
        t->e[o++] = t->e[i];
    }
    t->n = o;
}

bool e820_set(struct e820_table *t, uint64_t addr, uint64_t size,
              enum e820_type type, Error **errp)
{
    struct e820_entry out[E820_MAX_ENTRIES];
    unsigned n = 0;
    uint64_t end = addr + size;
    bool placed = false;

    if (size == 0) {
        return true;
    }
    if (end < addr) {
        error_setg(errp, "e820 range 0x%" PRIx64 "+0x%" PRIx64 " overflows",
                   addr, size);
        return false;
    }
    /* Entries are sorted and disjoint: copy each one, cutting out the part
     * inside [addr, end), and put the new entry in its place in order. */
    for (unsigned i = 0; i < t->n; i++) {
        const struct e820_entry *c = &t->e[i];
        uint64_t cend = c->addr + c->size;

        if (n + 3 > E820_MAX_ENTRIES) {
            goto full;
        }
        if (!placed && c->addr >= addr) {
            out[n++] = (struct e820_entry){addr, size, type};
            placed = true;
        }
        if (cend <= addr || c->addr >= end) {
            out[n++] = *c;
            continue;
        }
        if (c->addr < addr) {
            out[n++] = (struct e820_entry){c->addr, addr - c->addr, c->type};
        }
        if (!placed) {
            out[n++] = (struct e820_entry){addr, size, type};
            placed = true;
        }
        if (cend > end) {
            out[n++] = (struct e820_entry){end, cend - end, c->type};
        }
    }
    if (!placed) {
        if (n == E820_MAX_ENTRIES) {
            goto full;
        }
        out[n++] = (struct e820_entry){addr, size, type};
    }
    memcpy(t->e, out, n * sizeof(out[0]));
    t->n = n;
    merge(t);
    return true;
full:
    error_setg(errp, "e820 table full (%u entries)", E820_MAX_ENTRIES);
    return false;
}

bool e820_build(struct e820_table *t, const struct guest_mem *gm, Error **errp)
{
    e820_init(t);
    for (guint i = 0; i < gm->regions->len; i++) {
        const struct gm_region *r = g_ptr_array_index(gm->regions, i);
        if (r->fd_offset == UINT64_MAX) {
            continue; /* ROM: firmware, not RAM */
        }
        if (!e820_set(t, r->gpa, r->size, E820_RAM, errp)) {
            return false;
        }
    }
    if (!e820_set(t, E820_BIOS_AREA_START,
                  E820_BIOS_AREA_END - E820_BIOS_AREA_START, E820_RESERVED,
                  errp) ||
        !e820_set(t, MICROVM_KVM_IDMAP_ADDR, 4 * 4096, E820_RESERVED, errp)) {
        return false;
    }
    return true;
}

uint64_t e820_sum(const struct e820_table *t, enum e820_type type)
{
    uint64_t s = 0;

    for (unsigned i = 0; i < t->n; i++) {
        if (t->e[i].type == type) {
            s += t->e[i].size;
        }
    }
    return s;
}

uint64_t e820_find_top(const struct e820_table *t, uint64_t size,
                       uint64_t limit, uint64_t align)
{
    for (unsigned i = t->n; i-- > 0;) {
        const struct e820_entry *e = &t->e[i];
        uint64_t end = e->addr + e->size, start;

        if (e->type != E820_RAM) {
            continue;
        }
        if (end > limit) {
            end = limit;
        }
        if (end < e->addr || end - e->addr < size) {
            continue;
        }
        start = ALIGN_DOWN(end - size, align);
        if (start >= e->addr) {
            return start;
        }
    }
    return UINT64_MAX;
}

bool e820_is_usable(const struct e820_table *t, uint64_t addr, uint64_t size)
{
    if (addr + size < addr) {
        return false;
    }
    for (unsigned i = 0; i < t->n; i++) {
        const struct e820_entry *e = &t->e[i];
        if (e->type == E820_RAM && addr >= e->addr &&
            addr + size <= e->addr + e->size) {
            return true;
        }
    }
    return false;
}

static const char *type_name(uint32_t type)
{
    switch (type) {
    case E820_RAM:
        return "usable";
    case E820_RESERVED:
        return "reserved";
    case E820_ACPI:
        return "ACPI data";
    case E820_NVS:
        return "ACPI NVS";
    default:
        return "unusable";
    }
}

void e820_describe(const struct e820_table *t, GString *out)
{
    for (unsigned i = 0; i < t->n; i++) {
        g_string_append_printf(out, "  0x%016" PRIx64 "-0x%016" PRIx64 " %s\n",
                               t->e[i].addr, t->e[i].addr + t->e[i].size - 1,
                               type_name(t->e[i].type));
    }
}
