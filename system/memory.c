/* SPDX-License-Identifier: MIT */
/*
 * memory.c: PIO/MMIO dispatch with size enforcement and a re-entrancy guard;
 * see memory.h for ownership and the lock model.  Regions are kept sorted
 * in an array of pointers and found by binary search: machines have tens
 * of regions, and the exit path stays cheap (one reader lock, one atomic
 * increment and decrement per access).
 */
#include "util/common.h"
#include "system/memory.h"
#include "util/bytes.h"
#include "util/log.h"

#include <unistd.h>

struct as_eventfd {
    uint64_t addr, data;
    unsigned len;
    bool datamatch;
    bool in_kernel; /* the listener took it: never signalled here */
    int fd;
};

struct address_space {
    char *name;
    struct vlog *log;
    GRWLock rw;
    GPtrArray *regions; /* struct io_region *, sorted by base */
    GArray *eventfds;   /* struct as_eventfd, under rw */
    gint n_eventfds;    /* its length, read without the lock on the fast path */
    const struct as_eventfd_listener *listener;
    void *listener_opaque;
};

/* Heap object: the table holds one reference, each access in flight
 * another; the last one drops the owner's reference. */
struct io_region {
    gint refs;
    gint removed; /* unmapped: accesses that looked it up earlier skip it */
    uint64_t base, len;
    const struct io_ops *ops;
    void *opaque;
    GMutex *lock;
    struct mem_owner *owner;
    char *name;
};

void mem_owner_init(struct mem_owner *o, void (*release)(struct mem_owner *))
{
    o->refs = 1;
    o->release = release;
}

void mem_owner_ref(struct mem_owner *o)
{
    g_atomic_int_inc(&o->refs);
}

void mem_owner_unref(struct mem_owner *o)
{
    if (g_atomic_int_dec_and_test(&o->refs) && o->release) {
        o->release(o);
    }
}

static void region_unref(struct io_region *r)
{
    if (!g_atomic_int_dec_and_test(&r->refs)) {
        return;
    }
    if (r->owner) {
        mem_owner_unref(r->owner);
    }
    g_free(r->name);
    g_free(r);
}

/* Takes r out of the table (writer lock held); the table's reference is
 * dropped by the caller once the lock is released, since dropping the last
 * one may run the owner's release. */
static struct io_region *table_remove(struct address_space *as, guint i)
{
    struct io_region *r = g_ptr_array_steal_index(as->regions, i);

    g_atomic_int_set(&r->removed, 1);
    return r;
}

/*
 * The handlers this thread is inside, innermost last.  A device whose
 * handler (directly or through another device) reaches itself again is
 * refused instead of deadlocking on its own lock or corrupting its state.
 * Thread-local by nature: it describes this thread's call stack.
 */
#define AS_MAX_NESTING 4
static _Thread_local const void *active_handlers[AS_MAX_NESTING];
static _Thread_local unsigned active_depth;

struct address_space *as_new(const char *name, struct vlog *log)
{
    struct address_space *as = g_new0(struct address_space, 1);

    as->name = g_strdup(name);
    as->log = log;
    g_rw_lock_init(&as->rw);
    as->regions = g_ptr_array_new();
    as->eventfds = g_array_new(FALSE, TRUE, sizeof(struct as_eventfd));
    return as;
}

void as_free(struct address_space *as)
{
    if (!as) {
        return;
    }
    for (guint i = 0; i < as->regions->len; i++) {
        region_unref(g_ptr_array_index(as->regions, i));
    }
    g_ptr_array_free(as->regions, TRUE);
    g_array_free(as->eventfds, TRUE);
    g_rw_lock_clear(&as->rw);
    g_free(as->name);
    g_free(as);
}

bool as_map_owned(struct address_space *as, struct mem_owner *owner,
                  uint64_t base, uint64_t len, const struct io_ops *ops,
                  void *opaque, GMutex *lock, const char *name, Error **errp)
{
    struct io_region *r;
    guint i;

    if (len == 0 || base + len - 1 < base) {
        error_setg(errp, "%s: region '%s' at 0x%" PRIx64 " has a bad size",
                   as->name, name, base);
        return false;
    }
    g_rw_lock_writer_lock(&as->rw);
    for (i = 0; i < as->regions->len; i++) {
        struct io_region *o = g_ptr_array_index(as->regions, i);
        if (base <= o->base + o->len - 1 && o->base <= base + len - 1) {
            error_setg(errp,
                       "%s: region '%s' [0x%" PRIx64 ",+0x%" PRIx64
                       ") overlaps '%s'",
                       as->name, name, base, len, o->name);
            g_rw_lock_writer_unlock(&as->rw);
            return false;
        }
        if (o->base > base) {
            break;
        }
    }
    r = g_new0(struct io_region, 1);
    *r = (struct io_region){.refs = 1,
                            .base = base,
                            .len = len,
                            .ops = ops,
                            .opaque = opaque,
                            .lock = lock,
                            .owner = owner,
                            .name = g_strdup(name)};
    if (owner) {
        mem_owner_ref(owner);
    }
    g_ptr_array_insert(as->regions, (gint)i, r);
    g_rw_lock_writer_unlock(&as->rw);
    return true;
}

bool as_map(struct address_space *as, uint64_t base, uint64_t len,
            const struct io_ops *ops, void *opaque, GMutex *lock,
            const char *name, Error **errp)
{
    return as_map_owned(as, NULL, base, len, ops, opaque, lock, name, errp);
}

bool as_unmap(struct address_space *as, uint64_t base)
{
    struct io_region *r = NULL;

    g_rw_lock_writer_lock(&as->rw);
    for (guint i = 0; i < as->regions->len; i++) {
        struct io_region *o = g_ptr_array_index(as->regions, i);
        if (o->base == base) {
            r = table_remove(as, i);
            break;
        }
    }
    g_rw_lock_writer_unlock(&as->rw);
    if (r) {
        region_unref(r);
    }
    return r != NULL;
}

unsigned as_unmap_owner(struct address_space *as, struct mem_owner *owner)
{
    GPtrArray *gone = g_ptr_array_new();
    unsigned n;

    if (!owner) {
        g_ptr_array_free(gone, TRUE);
        return 0;
    }
    g_rw_lock_writer_lock(&as->rw);
    for (guint i = as->regions->len; i > 0; i--) {
        struct io_region *o = g_ptr_array_index(as->regions, i - 1);
        if (o->owner == owner) {
            g_ptr_array_add(gone, table_remove(as, i - 1));
        }
    }
    g_rw_lock_writer_unlock(&as->rw);
    n = gone->len;
    for (guint i = 0; i < n; i++) {
        region_unref(g_ptr_array_index(gone, i));
    }
    g_ptr_array_free(gone, TRUE);
    return n;
}

void as_set_eventfd_listener(struct address_space *as,
                             const struct as_eventfd_listener *l, void *opaque)
{
    g_rw_lock_writer_lock(&as->rw);
    as->listener = l;
    as->listener_opaque = opaque;
    g_rw_lock_writer_unlock(&as->rw);
}

static bool same_eventfd(const struct as_eventfd *e, uint64_t addr,
                         unsigned len, bool datamatch, uint64_t data)
{
    return e->addr == addr && e->len == len && e->datamatch == datamatch &&
           (!datamatch || e->data == data);
}

bool as_add_eventfd(struct address_space *as, uint64_t addr, unsigned len,
                    bool datamatch, uint64_t data, int fd, Error **errp)
{
    struct as_eventfd e = {addr, data, len, datamatch, false, fd};
    Error *lerr = NULL;

    if (fd < 0 || (len != 1 && len != 2 && len != 4 && len != 8) ||
        addr + len - 1 < addr) {
        error_setg(errp, "%s: bad eventfd %d at 0x%" PRIx64 "+%u", as->name, fd,
                   addr, len);
        return false;
    }
    g_rw_lock_writer_lock(&as->rw);
    for (guint i = 0; i < as->eventfds->len; i++) {
        if (same_eventfd(&g_array_index(as->eventfds, struct as_eventfd, i),
                         addr, len, datamatch, data)) {
            g_rw_lock_writer_unlock(&as->rw);
            error_setg(errp, "%s: an eventfd is already at 0x%" PRIx64 "+%u",
                       as->name, addr, len);
            return false;
        }
    }
    /* The accelerator's refusal is not fatal: the software path works,
     * only slower (every doorbell exits to us). */
    if (as->listener &&
        as->listener->update(as->listener_opaque, addr, len, datamatch, data,
                             fd, true, &lerr)) {
        e.in_kernel = true;
    } else if (lerr) {
        vlog_guest_error(as->log,
                         "%s: eventfd at 0x%" PRIx64 " stays in userspace: %s",
                         as->name, addr, error_get_pretty(lerr));
        error_free(lerr);
    }
    g_array_append_val(as->eventfds, e);
    g_atomic_int_set(&as->n_eventfds, (gint)as->eventfds->len);
    g_rw_lock_writer_unlock(&as->rw);
    return true;
}

bool as_del_eventfd(struct address_space *as, uint64_t addr, unsigned len,
                    bool datamatch, uint64_t data, int fd)
{
    bool found = false;

    g_rw_lock_writer_lock(&as->rw);
    for (guint i = 0; i < as->eventfds->len; i++) {
        struct as_eventfd *e =
            &g_array_index(as->eventfds, struct as_eventfd, i);
        if (e->fd == fd && same_eventfd(e, addr, len, datamatch, data)) {
            if (e->in_kernel) {
                as->listener->update(as->listener_opaque, addr, len, datamatch,
                                     data, fd, false, NULL);
            }
            g_array_remove_index(as->eventfds, i);
            g_atomic_int_set(&as->n_eventfds, (gint)as->eventfds->len);
            found = true;
            break;
        }
    }
    g_rw_lock_writer_unlock(&as->rw);
    return found;
}

/* A write the accelerator did not take: signal a matching eventfd. */
static bool signal_eventfd(struct address_space *as, uint64_t addr,
                           const uint8_t *data, unsigned len)
{
    uint64_t val = le_load(data, len), one = 1;
    int fd = -1;

    g_rw_lock_reader_lock(&as->rw);
    for (guint i = 0; i < as->eventfds->len; i++) {
        struct as_eventfd *e =
            &g_array_index(as->eventfds, struct as_eventfd, i);
        if (!e->in_kernel && e->addr == addr && e->len == len &&
            (!e->datamatch || e->data == val)) {
            fd = e->fd;
            break;
        }
    }
    g_rw_lock_reader_unlock(&as->rw);
    if (fd < 0) {
        return false;
    }
    /* An eventfd's counter only fails to take 1 at UINT64_MAX - 1. */
    if (write(fd, &one, sizeof(one)) < 0) {
        vlog_guest_error(as->log, "%s: eventfd at 0x%" PRIx64 ": %s", as->name,
                         addr, g_strerror(errno));
    }
    return true;
}

/* The region mapped at addr with a reference taken; NULL when unmapped. */
static struct io_region *lookup(struct address_space *as, uint64_t addr)
{
    struct io_region *found = NULL;
    guint lo = 0, hi;

    g_rw_lock_reader_lock(&as->rw);
    hi = as->regions->len;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        struct io_region *r = g_ptr_array_index(as->regions, mid);
        if (addr < r->base) {
            hi = mid;
        } else if (addr - r->base >= r->len) {
            lo = mid + 1;
        } else {
            g_atomic_int_inc(&r->refs);
            found = r;
            break;
        }
    }
    g_rw_lock_reader_unlock(&as->rw);
    return found;
}

/* One access of `size` bytes at off, already within the region.  Splits or
 * widens it to what the device accepts. */
static void region_access(struct address_space *as, struct io_region *r,
                          uint64_t off, uint8_t *data, unsigned size,
                          bool is_write)
{
    unsigned min = r->ops->min_size ? r->ops->min_size : 1;
    unsigned max = r->ops->max_size ? r->ops->max_size : 8;
    bool aligned = (off & (size - 1)) == 0;

    if ((size & (size - 1)) || size > max ||
        (!aligned && !r->ops->unaligned_ok)) {
        /* Split into the largest naturally aligned pieces allowed. */
        unsigned done = 0;
        while (done < size) {
            unsigned piece = max;
            while (piece > 1 &&
                   (((off + done) & (piece - 1)) || piece > size - done)) {
                piece >>= 1;
            }
            if (piece < min) {
                piece = min;
            }
            /* piece == size: the same misaligned access again (a device
             * whose minimum size it is): it cannot be split, only refused */
            if (piece == size || piece > size - done ||
                off + done + piece > r->len) {
                vlog_guest_error(as->log,
                                 "%s: %s access of %u bytes at '%s'+0x%" PRIx64
                                 " cannot be split into its access sizes",
                                 as->name, is_write ? "write" : "read", size,
                                 r->name, off);
                if (!is_write) {
                    memset(data + done, 0xff, size - done);
                }
                return;
            }
            region_access(as, r, off + done, data + done, piece, is_write);
            done += piece;
        }
        return;
    }
    if (size < min) {
        /* Widen a narrow read; a narrow write cannot be done safely. */
        uint64_t woff = ALIGN_DOWN(off, (uint64_t)min);
        uint8_t wide[8];
        if (is_write || woff + min > r->len) {
            vlog_guest_error(as->log,
                             "%s: %u-byte %s at '%s'+0x%" PRIx64
                             " is narrower than the device allows (%u)",
                             as->name, size, is_write ? "write" : "read",
                             r->name, off, min);
            if (!is_write) {
                memset(data, 0xff, size);
            }
            return;
        }
        region_access(as, r, woff, wide, min, false);
        memcpy(data, wide + (off - woff), size);
        return;
    }
    for (unsigned i = 0; i < active_depth; i++) {
        if (active_handlers[i] == r->opaque) {
            goto refuse;
        }
    }
    if (active_depth == AS_MAX_NESTING) {
        goto refuse;
    }
    if (r->lock) {
        g_mutex_lock(r->lock);
    }
    if (g_atomic_int_get(&r->removed)) {
        /* Unmapped while we waited for the lock (a BAR moved, the device
         * is going away): the access finds nothing, as it would now. */
        if (r->lock) {
            g_mutex_unlock(r->lock);
        }
        if (!is_write) {
            memset(data, 0xff, size);
        }
        return;
    }
    active_handlers[active_depth++] = r->opaque;
    if (is_write) {
        if (r->ops->write) {
            r->ops->write(r->opaque, off, le_load(data, size), size);
        }
    } else {
        uint64_t v =
            r->ops->read ? r->ops->read(r->opaque, off, size) : UINT64_MAX;
        le_store(data, v, size);
    }
    active_depth--;
    if (r->lock) {
        g_mutex_unlock(r->lock);
    }
    return;
refuse:
    vlog_guest_error(as->log, "%s: re-entrant access to '%s' refused", as->name,
                     r->name);
    if (!is_write) {
        memset(data, 0xff, size);
    }
}

static void dispatch(struct address_space *as, uint64_t addr, uint8_t *data,
                     unsigned len, bool is_write)
{
    struct io_region *r;

    if (is_write && g_atomic_int_get(&as->n_eventfds) && len <= 8 &&
        signal_eventfd(as, addr, data, len)) {
        return;
    }
    if (len == 0 || len > 8) {
        vlog_guest_error(as->log, "%s: bad access size %u at 0x%" PRIx64,
                         as->name, len, addr);
        if (!is_write && len) {
            memset(data, 0xff, len > 8 ? 8 : len);
        }
        return;
    }
    r = lookup(as, addr);
    if (!r) {
        if (is_write) {
            vlog_guest_error(as->log,
                             "%s: write of %u bytes to unmapped 0x%" PRIx64
                             " dropped",
                             as->name, len, addr);
        } else {
            memset(data, 0xff, len);
        }
        return;
    }
    if (addr - r->base + len > r->len) {
        /* Straddles the end of the region: do byte by byte. */
        region_unref(r);
        for (unsigned i = 0; i < len; i++) {
            dispatch(as, addr + i, data + i, 1, is_write);
        }
        return;
    }
    region_access(as, r, addr - r->base, data, len, is_write);
    region_unref(r);
}

void as_read(struct address_space *as, uint64_t addr, void *data, unsigned len)
{
    dispatch(as, addr, data, len, false);
}

void as_write(struct address_space *as, uint64_t addr, const void *data,
              unsigned len)
{
    uint8_t buf[8];

    memcpy(buf, data, len > 8 ? 8 : len);
    dispatch(as, addr, buf, len, true);
}

void as_describe(struct address_space *as, GString *out)
{
    g_rw_lock_reader_lock(&as->rw);
    for (guint i = 0; i < as->regions->len; i++) {
        struct io_region *r = g_ptr_array_index(as->regions, i);
        g_string_append_printf(out, "%016" PRIx64 "-%016" PRIx64 " %s\n",
                               r->base, r->base + r->len - 1, r->name);
    }
    g_rw_lock_reader_unlock(&as->rw);
}
