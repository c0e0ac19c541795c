/* SPDX-License-Identifier: MIT */
/*
 * guest-mem.h: guest physical memory.  This is the ONLY place a guest
 * physical address becomes a host pointer.  RAM lives in one memfd (so
 * snapshots and sharing need no copy), mapped once; it is cut into regions
 * at guest-physical addresses (below and above the PCI hole).  ROM regions
 * (firmware) are separate anonymous mappings, registered read-only with KVM
 * or writable (a firmware copy restored at reset).
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
    /* Dirty logging for live migration (gm_dirty_*): RAM pages vireo
     * itself wrote (device DMA, loaders) while `logging` is set, one bit
     * per page of RAM offset.  KVM sees only the guest's writes; these
     * are the rest.  Allocated at the first gm_dirty_start and kept (a
     * device thread may still be setting a bit when logging stops). */
    unsigned long *dirty;
    gint logging; /* atomic */
};

/* What the host can back, from /proc/meminfo and vm.overcommit_memory. */
struct gm_host_mem {
    uint64_t mem_total, swap_total; /* bytes */
    uint64_t commit_limit, committed;
    int overcommit; /* 0 heuristic, 1 always, 2 strict */
};

/* Parses the text of /proc/meminfo and of /proc/sys/vm/overcommit_memory
 * (NULL: 0); false if a field is missing. */
bool gm_host_mem_parse(const char *meminfo, const char *overcommit,
                       struct gm_host_mem *h);
/*
 * The rule for -m (docs/qemu-compat.md): at most RAM + swap, and under
 * strict overcommit at most what is left to commit.  Guest RAM is
 * reserved lazily, so more than the free memory is fine.
 */
bool gm_host_can_back(uint64_t size, const struct gm_host_mem *h, Error **errp);
/* gm_host_can_back() against this host (true if /proc cannot tell). */
bool gm_check_host_ram(uint64_t size, Error **errp);

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
/* Adds a ROM region of size bytes at gpa (not RAM: not in the e820 map,
 * not in the memfd); returns its host buffer.  readonly: the guest cannot
 * write it (KVM_MEM_READONLY); else it is a writable ROM copy, as QEMU's
 * microvm maps its firmware. */
uint8_t *gm_add_rom(struct guest_mem *gm, uint64_t gpa, uint64_t size,
                    bool readonly, const char *name, Error **errp);
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
/* NULL unless [gpa, gpa+len) is inside one region (and writable if asked).
 * A writable mapping of RAM is counted dirty now, for live migration; a
 * caller writing through it later calls gm_mark_dirty_hva() after. */
void *gm_map(struct guest_mem *gm, uint64_t gpa, uint64_t len, bool write);
/* Gives the host memory behind [hva, hva+len) of the RAM mapping back
 * (a balloon's released pages): a hole punched in the shared memfd or
 * file (MADV_DONTNEED alone would leave its page cache in place), or
 * MADV_DONTNEED on a private mapping.  The guest reads zeros there
 * afterwards (a private file mapping: the file's data).  hva and len must
 * be host-page aligned and inside RAM (not ROM). */
bool gm_discard(struct guest_mem *gm, void *hva, uint64_t len, Error **errp);
/* Marks [hva, hva+len) dirty if it lies in RAM and logging is on; for
 * writes through a mapping gm_map() gave earlier (a virtqueue's used
 * ring, a request's buffers): call it after the write. */
void gm_mark_dirty_hva(struct guest_mem *gm, const void *hva, uint64_t len);
/* Starts (clearing the bitmap) or stops recording vireo's writes. */
void gm_dirty_start(struct guest_mem *gm);
void gm_dirty_stop(struct guest_mem *gm);
/* ORs the pages written since the last call into bitmap (one bit per RAM
 * page, as BITS_TO_LONGS(ram_size / 4096) longs) and clears them. */
void gm_dirty_collect(struct guest_mem *gm, unsigned long *bitmap);

/* Bytes of RAM (not ROM) placed below 4 GiB / at or above 4 GiB. */
uint64_t gm_ram_below_4g(const struct guest_mem *gm);
uint64_t gm_ram_above_4g(const struct guest_mem *gm);

#endif
