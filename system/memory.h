/* SPDX-License-Identifier: MIT */
/*
 * memory.h: port-I/O and MMIO dispatch.  A device maps a region with an ops
 * table; the address space enforces access sizes (splitting wide accesses,
 * widening narrow reads), takes the device lock, and refuses re-entry (a
 * device whose handler causes another access to itself).  Unmapped reads
 * return all ones; unmapped writes are dropped and logged as guest errors.
 *
 * Ownership: a region may have an owner (struct mem_owner, embedded in
 * struct device), a reference count that keeps the handler's opaque alive:
 * the table holds one reference per mapped region and an access in flight
 * holds one on its region (which holds one on the owner), so unmapping
 * while a vCPU is inside the handler never frees what the handler uses.
 * as_unmap_owner() removes every region of an owner at once (device
 * teardown, a PCI BAR moving).
 *
 * Lock model: the region table is guarded by an RW lock, held only to find
 * a region and take a reference on it (readers: vCPU exit handlers;
 * writers: map/unmap, from any thread, including a handler reprogramming
 * its own device's BARs).  A handler runs with its region's lock (the
 * device lock) held and the table lock released; lock order: device
 * lock, then the table lock (map/unmap under a device lock is allowed).
 * An access whose region was unmapped between lookup and taking the device
 * lock is treated as unmapped (checked under that lock), so once
 * as_unmap*() returns to a thread holding the device lock, no later
 * handler call starts on that region.  A thread that does not hold the
 * device lock and wants every in-flight handler finished (device_destroy)
 * takes and releases the device lock after unmapping: handlers run under
 * it, so that is a barrier.  Regions without a lock get only the
 * reference: their handler may still be running after unmap returns.
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

/* A reference-counted owner of regions; release() runs when the last
 * reference is dropped (the owner's creator holds the first). */
struct mem_owner {
    gint refs;
    void (*release)(struct mem_owner *o);
};

void mem_owner_init(struct mem_owner *o, void (*release)(struct mem_owner *));
void mem_owner_ref(struct mem_owner *o);
void mem_owner_unref(struct mem_owner *o);

struct address_space;

struct address_space *as_new(const char *name, struct vlog *log);
void as_free(struct address_space *as);
/* lock may be NULL (handler needs none).  Overlapping regions are refused.
 * No owner: opaque must outlive the address space (machine-wide state). */
bool as_map(struct address_space *as, uint64_t base, uint64_t len,
            const struct io_ops *ops, void *opaque, GMutex *lock,
            const char *name, Error **errp);
/* The same with an owner that the region keeps referenced (see above). */
bool as_map_owned(struct address_space *as, struct mem_owner *owner,
                  uint64_t base, uint64_t len, const struct io_ops *ops,
                  void *opaque, GMutex *lock, const char *name, Error **errp);
/* Unmaps the region that starts at base; false if there is none. */
bool as_unmap(struct address_space *as, uint64_t base);
/* Unmaps every region of owner; returns how many. */
unsigned as_unmap_owner(struct address_space *as, struct mem_owner *owner);
/*
 * Doorbells (a virtqueue's notify register): a guest write of exactly len
 * bytes at addr (with datamatch: of the value data) signals the eventfd fd
 * instead of calling a handler, so the device's I/O thread wakes without
 * the vCPU waiting on it.  The address space's listener, when one is set
 * (the accelerator: KVM_IOEVENTFD), takes the write in the kernel; when it
 * has none or refuses, as_write() signals fd itself.  Either way the
 * device sees the same thing.  addr need not be mapped yet; the eventfd
 * takes precedence over a region there.
 */
struct as_eventfd_listener {
    /* assign or remove; false with errp set if the accelerator refuses */
    bool (*update)(void *opaque, uint64_t addr, unsigned len, bool datamatch,
                   uint64_t data, int fd, bool assign, Error **errp);
};

void as_set_eventfd_listener(struct address_space *as,
                             const struct as_eventfd_listener *l, void *opaque);
/* len is 1, 2, 4 or 8; the same addr/len/datamatch/data twice is refused. */
bool as_add_eventfd(struct address_space *as, uint64_t addr, unsigned len,
                    bool datamatch, uint64_t data, int fd, Error **errp);
/* false if no such eventfd was added. */
bool as_del_eventfd(struct address_space *as, uint64_t addr, unsigned len,
                    bool datamatch, uint64_t data, int fd);

/* Guest-controlled: addr, len (1..8 from KVM, up to 8 here), data.
 * Data is little-endian in a byte buffer, as struct kvm_run carries it. */
void as_read(struct address_space *as, uint64_t addr, void *data, unsigned len);
void as_write(struct address_space *as, uint64_t addr, const void *data,
              unsigned len);
/* Appends "base-end name" lines (for HMP "info mtree"-like dumps/tests). */
void as_describe(struct address_space *as, GString *out);

#endif
