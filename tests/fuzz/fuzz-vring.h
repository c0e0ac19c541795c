/* SPDX-License-Identifier: MIT */
/*
 * fuzz-vring.h: a hostile virtio driver for the fuzz targets.  The input
 * is a program that writes guest RAM (64 KiB at gpa 0, split or packed
 * rings at 0 and raw RAM writes over them), sets split descriptors
 * (addresses inside, at the edge of and far outside RAM), publishes heads
 * and arbitrary avail indexes, flips suppression flags, restarts the
 * device with other queue sizes and features, and kicks.  The target
 * supplies the device; here the core's invariants are checked after each
 * step: a broken device shows DEVICE_NEEDS_RESET, no more chains are in
 * flight than the queue holds, and every buffer the
 * device was handed lies inside guest RAM (fvr_check_iov).
 */
#ifndef TESTS_FUZZ_FUZZ_VRING_H
#define TESTS_FUZZ_FUZZ_VRING_H

#include "util/common.h"
#include "hw/virtio/virtio.h"
#include "system/guest-mem.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#define FVR_RAM (64 * KiB)
#define FVR_RING 0x0 /* desc, avail, used for up to 16 entries */

struct fvr {
    struct guest_mem *gm;
    struct vlog log;
    struct virtio_dev *vdev;
    struct vr r;
    uint64_t features;
    void (*after_kick)(void *opaque);
    void *opaque;
};

static inline void fvr_check_iov(struct guest_mem *gm, const struct iovec *v,
                                 unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = v[i].iov_base;

        if (v[i].iov_len == 0 || p < gm->ram || v[i].iov_len > FVR_RAM ||
            p + v[i].iov_len > gm->ram + FVR_RAM) {
            abort();
        }
    }
}

static inline void fvr_setup(struct fvr *f)
{
    f->gm = gm_new(FVR_RAM, NULL);
    if (!f->gm || !gm_add_ram(f->gm, 0, 0, FVR_RAM, "ram", NULL)) {
        abort();
    }
    vlog_init(&f->log);
}

static inline void fvr_start(struct fvr *f, uint16_t num, uint64_t features)
{
    vr_init(&f->r, f->gm, FVR_RING, num);
    f->features = features;
    vr_driver_start(f->vdev, features, &f->r, 1);
}

static inline uint64_t fvr_addr(uint8_t sel, uint16_t lo)
{
    switch (sel & 3) {
    case 0:
        return lo; /* inside RAM */
    case 1:
        return FVR_RAM - (lo & 0xff); /* at the edge */
    case 2:
        return UINT64_MAX - lo; /* wraps */
    default:
        return ((uint64_t)lo << 32) | lo; /* far outside */
    }
}

static inline void fvr_check(struct fvr *f)
{
    struct virtqueue *vq = &f->vdev->vqs[0];

    if (f->vdev->broken &&
        !(f->vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
        abort();
    }
    if (vq->ready && vq->inflight > vq->num) {
        abort();
    }
}

static inline uint8_t fvr_byte(const uint8_t *data, size_t size, size_t *i)
{
    return *i < size ? data[(*i)++] : 0;
}

static inline uint16_t fvr_u16(const uint8_t *data, size_t size, size_t *i)
{
    uint16_t lo = fvr_byte(data, size, i);

    return (uint16_t)(lo | (fvr_byte(data, size, i) << 8));
}

static inline void fvr_run(struct fvr *f, const uint8_t *data, size_t size)
{
    size_t i = 0;

    fvr_start(f, 8,
              (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC));
    while (i < size) {
        uint8_t op = fvr_byte(data, size, &i);

        switch (op & 7) {
        case 0: { /* write guest RAM */
            uint16_t off = fvr_u16(data, size, &i);
            size_t n = fvr_byte(data, size, &i);

            n = MIN(n, size - i);
            if (n) {
                gm_write(f->gm, off, data + i, MIN(n, FVR_RAM - off));
            }
            i += n;
            break;
        }
        case 1: /* any avail index */
            vr_set_avail_idx(&f->r, fvr_u16(data, size, &i));
            break;
        case 2:
        case 6: /* kick */
            virtio_queue_notify(f->vdev, op >> 7);
            if (f->after_kick) {
                f->after_kick(f->opaque);
            }
            break;
        case 3: { /* restart: queue size and features */
            uint8_t b = fvr_byte(data, size, &i);
            uint64_t feat = (uint64_t)(op & 0x08) << (VIRTIO_F_VERSION_1 - 3);

            feat |= (b & 0x20) ? 1ULL << VIRTIO_F_INDIRECT_DESC : 0;
            feat |= (b & 0x40) ? 1ULL << VIRTIO_F_EVENT_IDX : 0;
            feat |= (b & 0x80) ? f->vdev->host_features &
                                     ~(1ULL << VIRTIO_F_RING_PACKED)
                               : 0;
            feat |= (op & 0x10) ? 1ULL << VIRTIO_F_RING_PACKED : 0;
            fvr_start(f, (uint16_t)(1u << ((b & 7) % 5)), feat);
            break;
        }
        case 4: { /* a descriptor */
            uint8_t idx = fvr_byte(data, size, &i);
            uint16_t lo = fvr_u16(data, size, &i);
            uint16_t len = fvr_u16(data, size, &i);
            uint8_t flags = fvr_byte(data, size, &i);
            uint8_t next = fvr_byte(data, size, &i);

            if (f->r.num) {
                vr_desc(&f->r, idx % f->r.num, fvr_addr(op >> 3, lo),
                        (op & 0x80) ? 0xffffff00u | len : len, flags & 7,
                        next % 20);
            }
            break;
        }
        case 5: /* publish a head (sometimes out of range) */
            if (f->r.num) {
                vr_add(&f->r, fvr_byte(data, size, &i) % 20);
                vr_publish(&f->r);
            }
            break;
        default: { /* suppression fields, or a reset */
            uint16_t v = fvr_u16(data, size, &i);

            if (op & 0x80) {
                virtio_set_status(f->vdev, 0);
            } else if (f->r.num) {
                vr_avail_p(&f->r)[0] = v & 1;
                vr_set_used_event(&f->r, v);
            }
            break;
        }
        }
        fvr_check(f);
    }
}

#endif
