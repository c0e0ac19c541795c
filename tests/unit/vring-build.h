/* SPDX-License-Identifier: MIT */
/*
 * vring-build.h: the driver's side of a split virtqueue (virtio 1.2 2.7)
 * built in a fake guest RAM (struct guest_mem over a memfd), for the unit
 * tests, the fuzz targets and the device-level benchmark: descriptors,
 * the available ring, reading the used ring, and a driver's status and
 * feature handshake against the core's transport entry points.
 */
#ifndef TESTS_UNIT_VRING_BUILD_H
#define TESTS_UNIT_VRING_BUILD_H

#include "util/common.h"
#include "hw/virtio/virtio.h"
#include "system/guest-mem.h"

struct vr {
    struct guest_mem *gm;
    uint64_t desc, avail, used; /* gpas */
    uint16_t num;
    uint16_t avail_idx; /* next avail->idx the driver publishes */
    uint16_t used_seen; /* used entries consumed */
};

static inline uint8_t *vr_ptr(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    uint8_t *p = gm_map(gm, gpa, len, true);

    g_assert_nonnull(p);
    return p;
}

/* Rings for `num` entries at `base` (16-aligned); returns the bytes used. */
static inline uint64_t vr_init(struct vr *r, struct guest_mem *gm,
                               uint64_t base, uint16_t num)
{
    memset(r, 0, sizeof(*r));
    r->gm = gm;
    r->num = num;
    r->desc = base;
    r->avail = base + 16ULL * num;
    r->used = ALIGN_UP(r->avail + 6 + 2ULL * num, 4);
    memset(vr_ptr(gm, base, r->used + 6 + 8ULL * num - base), 0,
           r->used + 6 + 8ULL * num - base);
    return ALIGN_UP(r->used + 6 + 8ULL * num - base, 16);
}

static inline void vr_set_desc_at(struct guest_mem *gm, uint64_t table,
                                  unsigned i, uint64_t addr, uint32_t len,
                                  uint16_t flags, uint16_t next)
{
    struct virtq_desc d = {addr, len, flags, next};

    g_assert_true(gm_write(gm, table + 16ULL * i, &d, sizeof(d)));
}

static inline void vr_desc(struct vr *r, unsigned i, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next)
{
    vr_set_desc_at(r->gm, r->desc, i, addr, len, flags, next);
}

static inline uint16_t *vr_avail_p(struct vr *r)
{
    return (uint16_t *)vr_ptr(r->gm, r->avail, 6 + 2ULL * r->num);
}

static inline uint16_t *vr_used_p(struct vr *r)
{
    return (uint16_t *)vr_ptr(r->gm, r->used, 6 + 8ULL * r->num);
}

/* Puts `head` in the available ring (not yet published). */
static inline void vr_add(struct vr *r, uint16_t head)
{
    uint16_t *a = vr_avail_p(r);

    a[2 + (r->avail_idx % r->num)] = head;
    r->avail_idx++;
}

/* Publishes the available entries (avail->idx after the ring entries). */
static inline void vr_publish(struct vr *r)
{
    __atomic_store_n(&vr_avail_p(r)[1], r->avail_idx, __ATOMIC_RELEASE);
}

static inline void vr_set_avail_idx(struct vr *r, uint16_t idx)
{
    r->avail_idx = idx;
    vr_publish(r);
}

/* The next used entry, if any. */
static inline bool vr_get_used(struct vr *r, uint32_t *id, uint32_t *len)
{
    uint16_t *u = vr_used_p(r);
    uint16_t idx = __atomic_load_n(&u[1], __ATOMIC_ACQUIRE);
    struct virtq_used_elem *e;

    if (idx == r->used_seen) {
        return false;
    }
    e = (struct virtq_used_elem *)&u[2] + (r->used_seen % r->num);
    *id = e->id;
    *len = e->len;
    r->used_seen++;
    return true;
}

static inline void vr_set_used_event(struct vr *r, uint16_t v)
{
    vr_avail_p(r)[2 + r->num] = v;
}

static inline uint16_t vr_avail_event(struct vr *r)
{
    return vr_used_p(r)[2 + 4 * r->num];
}

/* ---- packed ring (spec 2.8) ---------------------------------------- */

struct vpr_buf {
    uint64_t addr;
    uint32_t len;
    bool write;
};

struct vpr {
    struct guest_mem *gm;
    uint64_t desc, avail, used; /* ring, driver area, device area */
    uint16_t num;
    uint16_t next;       /* next slot the driver fills */
    bool wrap;           /* its lap */
    uint16_t seen;       /* next slot the device will use */
    bool used_wrap;      /* its lap */
    uint16_t ndescs[64]; /* slots taken by each buffer id */
};

static inline uint64_t vpr_init(struct vpr *r, struct guest_mem *gm,
                                uint64_t base, uint16_t num)
{
    memset(r, 0, sizeof(*r));
    r->gm = gm;
    r->num = num;
    r->desc = base;
    r->avail = base + 16ULL * num;
    r->used = r->avail + 4;
    r->wrap = r->used_wrap = true;
    memset(vr_ptr(gm, base, 16ULL * num + 8), 0, 16ULL * num + 8);
    return ALIGN_UP(16ULL * num + 8, 16);
}

static inline struct virtq_packed_desc *vpr_slot(struct vpr *r, unsigned i)
{
    return (struct virtq_packed_desc *)vr_ptr(r->gm, r->desc + 16ULL * i, 16);
}

static inline uint16_t vpr_flags(bool wrap)
{
    return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

/* Makes a chain of n buffers available as buffer `id` (the head's flags
 * last, so the device sees the whole chain at once). */
static inline void vpr_add(struct vpr *r, const struct vpr_buf *b, unsigned n,
                           uint16_t id)
{
    uint16_t head = r->next, head_flags = 0;

    for (unsigned k = 0; k < n; k++) {
        struct virtq_packed_desc *d = vpr_slot(r, r->next);
        uint16_t f = vpr_flags(r->wrap) |
                     (b[k].write ? VIRTQ_DESC_F_WRITE : 0) |
                     (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

        d->addr = b[k].addr;
        d->len = b[k].len;
        d->id = id;
        if (k == 0) {
            head_flags = f;
        } else {
            d->flags = f;
        }
        if (++r->next == r->num) {
            r->next = 0;
            r->wrap = !r->wrap;
        }
    }
    r->ndescs[id % 64] = (uint16_t)n;
    __atomic_store_n(&vpr_slot(r, head)->flags, head_flags, __ATOMIC_RELEASE);
}

/* A single descriptor with raw flags (hostile rings); advances a slot. */
static inline void vpr_add_raw(struct vpr *r, uint64_t addr, uint32_t len,
                               uint16_t flags, uint16_t id)
{
    struct virtq_packed_desc *d = vpr_slot(r, r->next);

    d->addr = addr;
    d->len = len;
    d->id = id;
    __atomic_store_n(&d->flags, (uint16_t)(flags | vpr_flags(r->wrap)),
                     __ATOMIC_RELEASE);
    if (++r->next == r->num) {
        r->next = 0;
        r->wrap = !r->wrap;
    }
}

static inline bool vpr_get_used(struct vpr *r, uint32_t *id, uint32_t *len)
{
    struct virtq_packed_desc *d = vpr_slot(r, r->seen);
    uint16_t f = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);

    if (!!(f & VIRTQ_DESC_F_AVAIL) != r->used_wrap ||
        !!(f & VIRTQ_DESC_F_USED) != r->used_wrap) {
        return false;
    }
    *id = d->id;
    *len = d->len;
    r->seen += r->ndescs[d->id % 64] ? r->ndescs[d->id % 64] : 1;
    if (r->seen >= r->num) {
        r->seen -= r->num;
        r->used_wrap = !r->used_wrap;
    }
    return true;
}

/* A driver's start-up (spec 3.1.1) accepting `features`; then queue i of
 * vdev uses rings[i].  Returns the status read back. */
static inline uint8_t vr_driver_start(struct virtio_dev *vdev,
                                      uint64_t features, struct vr *rings,
                                      unsigned nrings)
{
    virtio_set_status(vdev, 0);
    virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    virtio_set_guest_features(vdev, 0, (uint32_t)features);
    virtio_set_guest_features(vdev, 1, (uint32_t)(features >> 32));
    virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                VIRTIO_STATUS_FEATURES_OK);
    if (!(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
        return vdev->status;
    }
    for (unsigned i = 0; i < nrings; i++) {
        virtio_queue_set_num(vdev, i, rings[i].num);
        virtio_queue_set_addr(vdev, i, rings[i].desc, rings[i].avail,
                              rings[i].used);
        virtio_queue_set_ready(vdev, i, true);
    }
    virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                VIRTIO_STATUS_FEATURES_OK |
                                VIRTIO_STATUS_DRIVER_OK);
    return vdev->status;
}

#endif
