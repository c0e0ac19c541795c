/* SPDX-License-Identifier: MIT */
/*
 * guest-mem.h: guest physical memory.  This is the ONLY place a guest
 * physical address becomes a host pointer.  RAM lives in one memfd (so
 * snapshots and sharing need no copy), mapped once; it is cut into regions
 * at guest-physical addresses (below and above the PCI hole).  ROM regions
 * (firmware) are separate anonymous mappings registered read-only with KVM.
 *
 * Every accessor fails unless all of [gpa, gpa+len) lies inside one region
 * with no overflow.  Guest-controlled: gpa, len.
 */
#ifndef SYSTEM_GUEST_MEM_H
#define SYSTEM_GUEST_MEM_H

#include "util/common.h"
#include "util/error.h"

struct gm_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *hva;
    uint64_t fd_offset; /* into guest_mem.memfd; UINT64_MAX for ROM */
    bool readonly;      /* guest-read-only (firmware) */
    char *name;
};

struct guest_mem {
    int memfd;    /* or the memory backend's file */
    bool shared;  /* false: a private mapping of memfd (memory-backend-file
                   * share=off): the guest's writes never reach the fd */
    uint8_t *ram; /* the whole RAM mapping */
    uint64_t ram_size;
    GPtrArray *regions; /* struct gm_region *, sorted by gpa */
};

/* Allocates ram_size bytes of memfd-backed RAM (not yet placed). */
struct guest_mem *gm_new(uint64_t ram_size, Error **errp);
/* RAM from a memory backend's fd (takes ownership of fd), mapped shared or
 * private (-object memory-backend-file,share=off). */
struct guest_mem *gm_new_fd(int fd, uint64_t ram_size, bool shared,
                            Error **errp);
void gm_free(struct guest_mem *gm);
/* Places [ram_offset, ram_offset+size) of RAM at gpa. */
bool gm_add_ram(struct guest_mem *gm, uint64_t gpa, uint64_t ram_offset,
                uint64_t size, const char *name, Error **errp);
/* Adds a ROM region of size bytes at gpa; returns its host buffer. */
uint8_t *gm_add_rom(struct guest_mem *gm, uint64_t gpa, uint64_t size,
                    const char *name, Error **errp);
/* Adds a ROM region aliasing the given host buffer (e.g. BIOS low alias). */
bool gm_add_alias(struct guest_mem *gm, uint64_t gpa, uint8_t *hva,
                  uint64_t size, bool readonly, const char *name, Error **errp);

bool gm_read(struct guest_mem *gm, uint64_t gpa, void *buf, uint64_t len);
/* Writes into RAM only (ROM is read-only to the guest and to devices). */
bool gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf,
              uint64_t len);
/* Loaders write firmware/kernel images, ROM included. */
bool gm_write_any(struct guest_mem *gm, uint64_t gpa, const void *buf,
                  uint64_t len);
/* NULL unless [gpa, gpa+len) is inside one region (and writable if asked). */
void *gm_map(struct guest_mem *gm, uint64_t gpa, uint64_t len, bool write);
/* Bytes of RAM (not ROM) placed below 4 GiB / at or above 4 GiB. */
uint64_t gm_ram_below_4g(const struct guest_mem *gm);
uint64_t gm_ram_above_4g(const struct guest_mem *gm);

#endif
