/* SPDX-License-Identifier: MIT */
/*
 * memory.h: port-I/O and MMIO dispatch.  A device maps a region with an ops
 * table; the address space enforces access sizes (splitting wide accesses,
 * widening narrow reads), takes the device lock, and refuses re-entry (a
 * device whose handler causes another access to itself).  Unmapped reads
 * return all ones; unmapped writes are dropped and logged as guest errors.
 *
 * Lock model: the region table is guarded by an RW lock (readers: vCPU exit
 * handlers; writers: map/unmap from the main thread).  A handler runs with
 * its device lock held and the table lock released.  Lock order:
 * device lock, then nothing of the address space.
 */
#ifndef SYSTEM_MEMORY_H
#define SYSTEM_MEMORY_H

#include "util/common.h"
#include "util/error.h"

struct vlog;

struct io_ops {
    /* off is relative to the region base; size is within [min,max]. */
    uint64_t (*read)(void *opaque, uint64_t off, unsigned size);
    void (*write)(void *opaque, uint64_t off, uint64_t val, unsigned size);
    uint8_t min_size; /* 0 means 1 */
    uint8_t max_size; /* 0 means 8 */
    bool unaligned_ok;
};

struct address_space;

struct address_space *as_new(const char *name, struct vlog *log);
void as_free(struct address_space *as);
/* lock may be NULL (handler needs none).  Overlapping regions are refused. */
bool as_map(struct address_space *as, uint64_t base, uint64_t len,
            const struct io_ops *ops, void *opaque, GMutex *lock,
            const char *name, Error **errp);
bool as_unmap(struct address_space *as, uint64_t base);
/* Guest-controlled: addr, len (1..8 from KVM, up to 8 here), data.
 * Data is little-endian in a byte buffer, as struct kvm_run carries it. */
void as_read(struct address_space *as, uint64_t addr, void *data, unsigned len);
void as_write(struct address_space *as, uint64_t addr, const void *data,
              unsigned len);
/* Appends "base-end name" lines (for HMP "info mtree"-like dumps/tests). */
void as_describe(struct address_space *as, GString *out);

#endif
