/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk-device.c: QEMU's `-device virtio-blk-device,drive=ID`, the
 * virtio block device (virtio 1.2 section 5.2) on the virtio-mmio
 * transport (section 4.2).  The board says where each virtio-mmio slot
 * is (machine_type.virtio_mmio_slot); devices fill the slots in creation
 * order, as QEMU's microvm transports do.
 */
#include "util/common.h"
#include "hw/block/drive.h"
#include "hw/block/virtio-blk.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "hw/virtio/virtio-mmio.h"
#include "system/machine.h"

struct vblk_mmio {
    struct virtio_blk blk; /* first: starts with struct device */
    struct virtio_mmio t;
    struct drive *drive;
    uint64_t base;
    unsigned gsi;
};

static uint64_t vblk_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    return virtio_mmio_read(&((struct vblk_mmio *)opaque)->t, off, size);
}

static void vblk_mmio_write(void *opaque, uint64_t off, uint64_t val,
                            unsigned size)
{
    virtio_mmio_write(&((struct vblk_mmio *)opaque)->t, off, val, size);
}

/* Any size reaches the handler, which refuses what the spec forbids
 * (control registers: aligned 32-bit only) with a guest error. */
static const struct io_ops vblk_mmio_ops = {
    .read = vblk_mmio_read,
    .write = vblk_mmio_write,
    .min_size = 1,
    .max_size = 8,
    .unaligned_ok = true,
};

unsigned virtio_mmio_devices(struct machine *m, uint64_t *base, unsigned *gsi,
                             unsigned max)
{
    unsigned n = 0;

    for (guint i = 0; m->devices && i < m->devices->len; i++) {
        struct device *d = g_ptr_array_index(m->devices, i);

        if (d->cls != &virtio_blk_device_class) {
            continue;
        }
        if (n < max) {
            base[n] = ((struct vblk_mmio *)d)->base;
            gsi[n] = ((struct vblk_mmio *)d)->gsi;
        }
        n++;
    }
    return n;
}

static bool vblk_mmio_realize(struct device *dev, struct machine *m,
                              Error **errp)
{
    struct vblk_mmio *s = (struct vblk_mmio *)dev;
    unsigned slot = virtio_mmio_devices(m, NULL, NULL, 0);
    struct irq_line *line;

    if (!m->type->virtio_mmio_slot) {
        error_setg(errp, "No 'virtio-mmio-bus' bus found for device '%s'",
                   dev->cls->name);
        return false;
    }
    if (!m->type->virtio_mmio_slot(m, slot, &s->base, &s->gsi, errp)) {
        return false;
    }
    s->drive = drive_attach(m, s->blk.drive, dev, errp);
    if (!s->drive) {
        return false;
    }
    line = machine_gsi_line(m, s->gsi, errp);
    if (!line ||
        !virtio_blk_setup(&s->blk, s->drive->be, m->gm, &m->log, errp)) {
        return false;
    }
    virtio_mmio_init(&s->t, &s->blk.vdev, line, &m->log);
    if (!virtio_mmio_map(&s->t, dev, m->mmio, s->base, &vblk_mmio_ops, m->ctx,
                         errp)) {
        return false;
    }
    virtio_blk_attach(&s->blk, m->ctx);
    return true;
}

static void vblk_mmio_unrealize(struct device *dev)
{
    struct vblk_mmio *s = (struct vblk_mmio *)dev;

    if (s->t.vdev) {
        virtio_mmio_cleanup(&s->t);
    }
    virtio_blk_teardown(&s->blk);
    drive_detach(s->drive);
    s->drive = NULL;
}

static void vblk_mmio_reset(struct device *dev)
{
    struct vblk_mmio *s = (struct vblk_mmio *)dev;

    if (s->t.vdev) {
        virtio_reset(&s->blk.vdev);
        virtio_mmio_reset(&s->t);
    }
}

const struct device_class virtio_blk_device_class = {
    .name = "virtio-blk-device",
    .desc = "virtio block device on virtio-mmio (microvm)",
    .size = sizeof(struct vblk_mmio),
    .props = virtio_blk_props,
    .user_creatable = true,
    .realize = vblk_mmio_realize,
    .reset = vblk_mmio_reset,
    .unrealize = vblk_mmio_unrealize,
    /* virtio state (rings, in-flight requests) is not described yet:
     * refuse to migrate rather than lose it */
    .vmsd = NULL,
    .unmigratable = true,
};
