/* SPDX-License-Identifier: MIT */
/*
 * dirty.c: which guest pages the guest wrote, for live migration's
 * passes (kvm.h).  KVM marks writes to slots with KVM_MEM_LOG_DIRTY_PAGES
 * in a per-slot bitmap (Documentation/virt/kvm/api.rst, 4.37
 * KVM_GET_DIRTY_LOG); with KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (4.118
 * KVM_CLEAR_DIRTY_LOG) reading it no longer write-protects every page at
 * once: vireo clears the pages it is about to send, 1 GiB at a time.
 *
 * Where KVM offers its dirty ring (api.rst 8.29 KVM_CAP_DIRTY_LOG_RING /
 * _ACQ_REL) vireo uses it instead: the cost of a pass then follows the
 * pages written, not the size of RAM (the bitmap path reads and clears
 * every slot's whole bitmap each pass).  KVM pushes {slot, offset} of the
 * first write to each page of a logged slot into the writing vCPU's ring
 * and sets the entry's DIRTY flag last (release); vireo reads the flag
 * (acquire), takes the entry, marks it RESET (release), and
 * KVM_RESET_DIRTY_RINGS then re-protects those pages and frees the
 * entries.  A vCPU whose ring is nearly full leaves KVM_RUN with
 * KVM_EXIT_DIRTY_RING_FULL and harvests before it runs on (vcpu.c).
 * Logging per slot (KVM_MEM_LOG_DIRTY_PAGES) is still what turns the
 * pushes on and off.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "system/guest-mem.h"

#include <sys/mman.h>

#define PAGE 4096u
#define LONG_BITS (sizeof(unsigned long) * 8)

/* Only RAM is migrated: ROM slots are read-only and not in the stream. */
static bool is_ram_slot(const struct gm_region *r)
{
    return !r->readonly && r->fd_offset != UINT64_MAX;
}

/* Linux 6.1; not in every installed header */
#ifndef KVM_CAP_DIRTY_LOG_RING_ACQ_REL
#define KVM_CAP_DIRTY_LOG_RING_ACQ_REL 223
#endif

/* One vCPU's ring, as mapped from its fd. */
struct kvm_vcpu_ring {
    int fd;
    unsigned index;
    struct kvm_dirty_gfn *gfns;
    uint32_t fetch; /* free-running: the next entry to look at */
    /* entries taken while logging, ever (calc-dirty-rate's dirty-ring
     * mode: the pages this vCPU wrote, as QEMU counts them per vCPU) */
    uint64_t kept;
};

/* A KVM slot id while logging: which RAM pages its offsets are. */
struct kvm_ring_slot {
    uint64_t first; /* RAM page of the slot's offset 0 */
    uint64_t pages; /* 0: not RAM (never logged) */
};

static size_t ring_bytes(const struct kvm_accel *k)
{
    return (size_t)k->dirty_ring_entries * sizeof(struct kvm_dirty_gfn);
}

bool kvm_dirty_ring_enable(struct kvm_accel *k, int64_t entries, Error **errp)
{
    bool dflt = entries < 0;
    long cap = KVM_CAP_DIRTY_LOG_RING_ACQ_REL;
    int max = kvm_check_extension(k, cap); /* bytes */
    int64_t max_entries;
    struct kvm_enable_cap ec = {0};
    int r;

    if (entries == 0) {
        return true;
    }
    if (k->rings && k->rings->len) {
        error_setg(errp, "the dirty ring must be enabled before any vCPU "
                         "is created");
        return false;
    }
    if (!dflt && (entries & (entries - 1))) {
        error_setg(errp, "dirty-ring-size must be a power of two.");
        return false;
    }
    /* By default only with ACQ_REL (Linux 6.1+, where x86 offers both):
     * the kernels that offer only the plain capability (5.11-6.0) predate
     * 6.1's rework of the full-ring exit (KVM_REQ_DIRTY_RING_SOFT_FULL,
     * checked on every entry) and the documented ordering rules.  x86 is
     * TSO and vireo's accesses are acquire/release anyway, so a size the
     * user asks for takes the plain capability too, as QEMU does. */
    if (max <= 0 && !dflt) {
        cap = KVM_CAP_DIRTY_LOG_RING;
        max = kvm_check_extension(k, cap);
    }
    if (max <= 0) {
        if (!dflt) {
            warn_report("KVM dirty ring not available, using bitmap method");
        }
        return true;
    }
    max_entries = max / (int)sizeof(struct kvm_dirty_gfn);
    if (dflt) {
        entries = KVM_DIRTY_RING_DEFAULT;
        while (entries > max_entries && entries > KVM_DIRTY_RING_MIN) {
            entries /= 2;
        }
        if (entries > max_entries) {
            return true; /* no ring KVM could take: the bitmap */
        }
    }
    if (entries > max_entries) {
        error_setg(errp,
                   "dirty-ring-size %" PRId64 " is too big (this KVM's "
                   "maximum is %" PRId64 ")",
                   entries, max_entries);
        return false;
    }
    if (entries < KVM_DIRTY_RING_MIN) {
        error_setg(errp,
                   "dirty-ring-size %" PRId64 " is too small (KVM's minimum "
                   "is %u, a page of entries)",
                   entries, KVM_DIRTY_RING_MIN);
        return false;
    }
    ec.cap = cap;
    ec.args[0] = (uint64_t)entries * sizeof(struct kvm_dirty_gfn);
    r = kvm_ioctl(k, k->vm_fd, KVM_ENABLE_CAP, &ec);
    if (r < 0 && dflt) {
        warn_report("KVM refused a dirty ring of %" PRId64
                    " entries (%s): using the dirty bitmap",
                    entries, g_strerror(-r));
        return true;
    }
    if (r < 0) {
        /* KVM also wants room for its reserved entries: 64 plus the
         * CPU's log (Intel PML: 512), so 1024 is a safe minimum */
        error_setg_errno(errp, -r,
                         "KVM refused dirty-ring-size %" PRId64
                         " (1024 or more suits every host)",
                         entries);
        return false;
    }
    k->dirty_ring_entries = (uint32_t)entries;
    return true;
}

bool kvm_dirty_ring_add_vcpu(struct kvm_accel *k, int fd, unsigned index,
                             Error **errp)
{
    struct kvm_vcpu_ring *r;
    void *p;

    if (!k->dirty_ring_entries) {
        return true;
    }
    if (k->be->mmap) {
        p = k->be->mmap(k->be->opaque, fd, ring_bytes(k),
                        KVM_DIRTY_LOG_PAGE_OFFSET);
    } else {
        p = mmap(NULL, ring_bytes(k), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                 (off_t)KVM_DIRTY_LOG_PAGE_OFFSET * PAGE);
        if (p == MAP_FAILED) {
            p = NULL;
        }
    }
    if (!p) {
        error_setg_errno(errp, errno, "vCPU %u: cannot map its dirty ring",
                         index);
        return false;
    }
    r = g_new0(struct kvm_vcpu_ring, 1);
    r->fd = fd;
    r->index = index;
    r->gfns = p;
    g_mutex_lock(&k->ring_lock);
    if (!k->rings) {
        k->rings = g_ptr_array_new();
    }
    g_ptr_array_add(k->rings, r);
    g_mutex_unlock(&k->ring_lock);
    return true;
}

static void unmap_ring(struct kvm_accel *k, struct kvm_vcpu_ring *r)
{
    if (k->be->munmap) {
        k->be->munmap(k->be->opaque, r->gfns, ring_bytes(k));
    } else {
        munmap(r->gfns, ring_bytes(k));
    }
    g_free(r);
}

void kvm_dirty_ring_remove_vcpu(struct kvm_accel *k, int fd)
{
    g_mutex_lock(&k->ring_lock);
    for (guint i = 0; k->rings && i < k->rings->len; i++) {
        struct kvm_vcpu_ring *r = g_ptr_array_index(k->rings, i);

        if (r->fd == fd) {
            g_ptr_array_remove_index(k->rings, i);
            unmap_ring(k, r);
            break;
        }
    }
    g_mutex_unlock(&k->ring_lock);
}

static void forget_slots(struct kvm_accel *k)
{
    g_clear_pointer(&k->ring_slots, g_free);
    g_clear_pointer(&k->ring_pending, g_free);
    k->nr_ring_slots = 0;
    k->ring_pages = 0;
}

void kvm_dirty_ring_free(struct kvm_accel *k)
{
    for (guint i = 0; k->rings && i < k->rings->len; i++) {
        unmap_ring(k, g_ptr_array_index(k->rings, i));
    }
    if (k->rings) {
        g_ptr_array_free(k->rings, TRUE);
        k->rings = NULL;
    }
    forget_slots(k);
}

/* What one harvest saw. */
struct harvest {
    unsigned n;   /* entries taken (and marked RESET) */
    unsigned bad; /* of them, naming no RAM page */
    uint32_t bad_slot;
    uint64_t bad_offset;
};

/* One entry into ring_pending; KVM is trusted no more than a guest: an
 * entry it could not have pushed is counted, not followed. */
static void record(struct kvm_accel *k, uint32_t slot, uint64_t offset,
                   struct harvest *h)
{
    uint32_t as_id = slot >> 16, id = slot & 0xffff;
    const struct kvm_ring_slot *s =
        as_id == 0 && id < k->nr_ring_slots ? &k->ring_slots[id] : NULL;
    uint64_t page;

    if (!s || offset >= s->pages || s->first + offset >= k->ring_pages) {
        if (!h->bad++) {
            h->bad_slot = slot;
            h->bad_offset = offset;
        }
        return;
    }
    page = s->first + offset;
    k->ring_pending[page / LONG_BITS] |= 1UL << (page % LONG_BITS);
}

/* Takes the dirty entries of one ring, in order, at most a ring's worth
 * (entries marked RESET stay so until KVM_RESET_DIRTY_RINGS).  keep:
 * record them (logging), else drop them (draining). */
static void harvest_ring(struct kvm_accel *k, struct kvm_vcpu_ring *r,
                         bool keep, struct harvest *h)
{
    uint32_t mask = k->dirty_ring_entries - 1;

    for (uint32_t i = 0; i < k->dirty_ring_entries; i++) {
        struct kvm_dirty_gfn *e = &r->gfns[r->fetch & mask];
        uint32_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

        if ((flags & KVM_DIRTY_GFN_F_MASK) != KVM_DIRTY_GFN_F_DIRTY) {
            break;
        }
        if (keep) {
            record(k, e->slot, e->offset, h);
            r->kept++;
        }
        __atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
        r->fetch++;
        h->n++;
    }
}

/* Every ring, then one KVM_RESET_DIRTY_RINGS; under ring_lock. */
static bool harvest_all(struct kvm_accel *k, bool keep, struct harvest *h,
                        Error **errp)
{
    int r;

    for (guint i = 0; k->rings && i < k->rings->len; i++) {
        harvest_ring(k, g_ptr_array_index(k->rings, i), keep, h);
    }
    if (h->bad) {
        error_report("KVM dirty ring: ignored %u entr%s naming no RAM page "
                     "(first: slot %u of address space %u, offset 0x%" PRIx64
                     ")",
                     h->bad, h->bad == 1 ? "y" : "ies", h->bad_slot & 0xffff,
                     h->bad_slot >> 16, h->bad_offset);
    }
    if (!h->n && !k->ring_reset_owed) {
        return true;
    }
    /* before the caller reads the pages: a write after this is pushed
     * again and taken by the next harvest.  Entries already marked RESET
     * are not seen again, so a failed reset is owed to the next harvest
     * (their pages were recorded). */
    r = kvm_ioctl(k, k->vm_fd, KVM_RESET_DIRTY_RINGS, NULL);
    k->ring_reset_owed = r < 0;
    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_RESET_DIRTY_RINGS failed");
        return false;
    }
    return true;
}

bool kvm_dirty_ring_full(struct kvm_accel *k, unsigned *n, Error **errp)
{
    struct harvest h = {0};
    bool ok;

    g_mutex_lock(&k->ring_lock);
    /* not logging: nothing to keep (a ring that filled before logging
     * stopped is drained by kvm_dirty_log_stop anyway) */
    ok = harvest_all(k, k->ring_pending != NULL, &h, errp);
    g_mutex_unlock(&k->ring_lock);
    *n = h.n;
    return ok;
}

/* Learns the RAM slots and drops what the rings held before. */
static bool ring_start(struct kvm_accel *k, struct guest_mem *gm, Error **errp)
{
    struct harvest h = {0};
    bool ok;

    g_mutex_lock(&k->ring_lock);
    forget_slots(k);
    ok = harvest_all(k, false, &h, errp);
    if (ok) {
        k->nr_ring_slots = gm->regions->len;
        k->ring_slots = g_new0(struct kvm_ring_slot, k->nr_ring_slots);
        for (guint i = 0; i < gm->regions->len; i++) {
            const struct gm_region *r = g_ptr_array_index(gm->regions, i);

            if (is_ram_slot(r)) {
                k->ring_slots[i].first = r->fd_offset / PAGE;
                k->ring_slots[i].pages = r->size / PAGE;
            }
        }
        k->ring_pages = gm->ram_size / PAGE;
        k->ring_pending = g_new0(unsigned long, k->ring_pages / LONG_BITS + 1);
    }
    g_mutex_unlock(&k->ring_lock);
    return ok;
}

static bool ring_sync(struct kvm_accel *k, unsigned long *bitmap, Error **errp)
{
    struct harvest h = {0};
    bool ok;

    g_mutex_lock(&k->ring_lock);
    if (!k->ring_pending) {
        error_setg(errp, "dirty ring harvested while not logging");
        ok = false;
    } else {
        ok = harvest_all(k, true, &h, errp);
    }
    if (ok) {
        /* ring_pending has the caller's size (gm->ram_size pages) */
        for (uint64_t w = 0; w <= k->ring_pages / LONG_BITS; w++) {
            bitmap[w] |= k->ring_pending[w];
            k->ring_pending[w] = 0;
        }
    }
    g_mutex_unlock(&k->ring_lock);
    return ok;
}

bool kvm_dirty_ring_count(struct kvm_accel *k, unsigned index, uint64_t *count)
{
    bool found = false;

    g_mutex_lock(&k->ring_lock);
    for (guint i = 0; k->rings && i < k->rings->len; i++) {
        const struct kvm_vcpu_ring *r = g_ptr_array_index(k->rings, i);

        if (r->index == index) {
            *count = r->kept;
            found = true;
            break;
        }
    }
    g_mutex_unlock(&k->ring_lock);
    return found;
}

bool kvm_dirty_log_start(struct kvm_accel *k, struct guest_mem *gm,
                         Error **errp)
{
    if (k->dirty_ring_entries) {
        return ring_start(k, gm, errp) &&
               kvm_set_dirty_logging(k, gm, true, errp);
    }
    if (!k->dirty_manual_protect &&
        kvm_check_extension(k, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0) {
        /* Not INITIALLY_SET: the first pass sends every page anyway, and
         * pages start write-protected as with plain logging. */
        struct kvm_enable_cap cap = {
            .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
            .args = {KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE},
        };
        int r = kvm_ioctl(k, k->vm_fd, KVM_ENABLE_CAP, &cap);

        if (r < 0) {
            error_setg_errno(errp, -r,
                             "KVM_ENABLE_CAP "
                             "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 failed");
            return false;
        }
        k->dirty_manual_protect = true;
    }
    return kvm_set_dirty_logging(k, gm, true, errp);
}

bool kvm_dirty_log_stop(struct kvm_accel *k, struct guest_mem *gm, Error **errp)
{
    bool ok = kvm_set_dirty_logging(k, gm, false, errp);

    if (k->dirty_ring_entries) {
        /* logging is off: KVM pushes nothing more (a slot update waits
         * for every write in flight), so this empties the rings */
        struct harvest h = {0};
        Error *err = NULL;

        g_mutex_lock(&k->ring_lock);
        if (!harvest_all(k, false, &h, ok ? errp : &err)) {
            ok = false;
        }
        forget_slots(k);
        g_mutex_unlock(&k->ring_lock);
        if (err) {
            error_report_err(err);
        }
    }
    return ok;
}

/* ORs n bits of src (from bit 0) into dst from bit `at`. */
static void or_bits(unsigned long *dst, uint64_t at, const unsigned long *src,
                    uint64_t n)
{
    for (uint64_t w = 0; w * LONG_BITS < n; w++) {
        unsigned long v = src[w];

        while (v) {
            unsigned b = __builtin_ctzl(v);
            uint64_t bit = w * LONG_BITS + b;

            v &= v - 1;
            if (bit < n) {
                uint64_t d = at + bit;
                dst[d / LONG_BITS] |= 1UL << (d % LONG_BITS);
            }
        }
    }
}

static bool any_bit(const unsigned long *b, uint64_t first, uint64_t n)
{
    for (uint64_t w = first / LONG_BITS; w * LONG_BITS < first + n; w++) {
        if (b[w]) {
            return true;
        }
    }
    return false;
}

bool kvm_dirty_log_sync(struct kvm_accel *k, struct guest_mem *gm,
                        unsigned long *bitmap, Error **errp)
{
    if (k->dirty_ring_entries) {
        return ring_sync(k, bitmap, errp);
    }
    for (guint i = 0; i < gm->regions->len; i++) {
        const struct gm_region *r = g_ptr_array_index(gm->regions, i);
        uint64_t pages = r->size / PAGE;
        size_t longs = (pages + LONG_BITS - 1) / LONG_BITS;
        g_autofree unsigned long *slot_bits = NULL;
        struct kvm_dirty_log log = {.slot = i};
        int ret;

        if (!is_ram_slot(r) || pages == 0) {
            continue;
        }
        /* RAM regions start and end on page boundaries (gm_add_ram) */
        slot_bits = g_new0(unsigned long, longs);
        log.dirty_bitmap = slot_bits;
        ret = kvm_ioctl(k, k->vm_fd, KVM_GET_DIRTY_LOG, &log);
        if (ret < 0) {
            error_setg_errno(errp, -ret,
                             "KVM_GET_DIRTY_LOG for '%s' (slot %u) failed",
                             r->name, i);
            return false;
        }
        /* Re-protect before the caller reads the pages: a guest write
         * after this point is reported by the next sync. */
        for (uint64_t first = 0; k->dirty_manual_protect && first < pages;
             first += KVM_DIRTY_CLEAR_PAGES) {
            uint64_t n = MIN(pages - first, (uint64_t)KVM_DIRTY_CLEAR_PAGES);
            struct kvm_clear_dirty_log clr = {
                .slot = i,
                .num_pages = (uint32_t)n,
                .first_page = first,
                .dirty_bitmap = slot_bits + first / LONG_BITS,
            };

            if (!any_bit(slot_bits, first, n)) {
                continue;
            }
            ret = kvm_ioctl(k, k->vm_fd, KVM_CLEAR_DIRTY_LOG, &clr);
            if (ret < 0) {
                error_setg_errno(errp, -ret,
                                 "KVM_CLEAR_DIRTY_LOG for '%s' (slot %u, "
                                 "pages %" PRIu64 "+%" PRIu64 ") failed",
                                 r->name, i, first, n);
                return false;
            }
        }
        or_bits(bitmap, r->fd_offset / PAGE, slot_bits, pages);
    }
    return true;
}
