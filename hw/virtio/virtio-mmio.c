/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio.c: the virtio-mmio transport, version 2 (virtio 1.2 section
 * 4.2), as thin glue over the virtio core: register accesses become
 * virtio_* calls, the core's notify callbacks drive one level-triggered
 * line (up while InterruptStatus != 0), and QueueNotify is an eventfd
 * doorbell per queue so a vCPU's kick never waits on the device.
 */
#include "util/common.h"
#include "hw/virtio/virtio-mmio.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "system/machine.h"
#include "system/memory.h"
#include "util/log.h"

#include <glib-unix.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void mmio_update_irq(struct virtio_mmio *t)
{
    irq_set(t->irq, t->vdev->isr != 0);
}

static void mmio_notify_queue(void *opaque, unsigned index)
{
    mmio_update_irq(opaque);
}

static void mmio_notify_config(void *opaque)
{
    mmio_update_irq(opaque);
}

static const struct virtio_transport_ops mmio_transport_ops = {
    .notify_queue = mmio_notify_queue,
    .notify_config = mmio_notify_config,
};

void virtio_mmio_init(struct virtio_mmio *t, struct virtio_dev *vdev,
                      const struct irq_line *irq, struct vlog *log)
{
    memset(t, 0, sizeof(*t));
    t->vdev = vdev;
    t->irq = irq;
    t->log = log;
    virtio_set_transport(vdev, &mmio_transport_ops, t);
}

void virtio_mmio_reset(struct virtio_mmio *t)
{
    t->dev_features_sel = t->drv_features_sel = t->queue_sel = 0;
    mmio_update_irq(t);
}

/* The selected queue, or NULL (logged) when QueueSel is out of range. */
static struct virtqueue *mmio_vq(struct virtio_mmio *t, const char *what)
{
    if (t->queue_sel >= t->vdev->num_queues) {
        vlog_guest_error(
            t->log,
            "%s: %s with QueueSel %" PRIu32 " (the device has %u queues)",
            t->vdev->name, what, t->queue_sel, t->vdev->num_queues);
        return NULL;
    }
    return &t->vdev->vqs[t->queue_sel];
}

uint64_t virtio_mmio_read(struct virtio_mmio *t, uint64_t off, unsigned size)
{
    struct virtio_dev *vdev = t->vdev;

    if (off >= VIRTIO_MMIO_CONFIG) {
        return virtio_config_read(vdev, off - VIRTIO_MMIO_CONFIG, size);
    }
    if (size != 4 || (off & 3)) {
        vlog_guest_error(t->log,
                         "%s: virtio-mmio read of %u bytes at 0x%" PRIx64
                         ": registers take aligned 32-bit accesses",
                         vdev->name, size, off);
        return ~0ULL;
    }
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return vdev->ops->device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return virtio_get_host_features(vdev, t->dev_features_sel);
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        /* 0 says "no such queue" (spec 4.2.3.2) */
        return t->queue_sel < vdev->num_queues ? vdev->vqs[t->queue_sel].num_max
                                               : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return t->queue_sel < vdev->num_queues && vdev->vqs[t->queue_sel].ready;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return vdev->isr;
    case VIRTIO_MMIO_STATUS:
        return vdev->status;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
        return 0xffffffff; /* no shared memory regions (spec 4.2.2) */
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return vdev->config_generation;
    default:
        vlog_guest_error(t->log,
                         "%s: virtio-mmio read of write-only or unknown "
                         "register 0x%" PRIx64,
                         vdev->name, off);
        return 0;
    }
}

/* Replaces the low or high half of a 64-bit ring address. */
static uint64_t set_half(uint64_t old, uint32_t val, bool high)
{
    return high ? (old & 0xffffffffULL) | ((uint64_t)val << 32)
                : (old & ~0xffffffffULL) | val;
}

static void mmio_write_addr(struct virtio_mmio *t, uint64_t off, uint32_t val)
{
    struct virtqueue *vq = mmio_vq(t, "ring address write");
    bool high = off & 4;
    uint64_t desc, avail, used;

    if (!vq) {
        return;
    }
    desc = vq->desc_gpa;
    avail = vq->avail_gpa;
    used = vq->used_gpa;
    switch (off & ~4ULL) {
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
        desc = set_half(desc, val, high);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        avail = set_half(avail, val, high);
        break;
    default:
        used = set_half(used, val, high);
        break;
    }
    virtio_queue_set_addr(t->vdev, t->queue_sel, desc, avail, used);
}

void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, uint64_t val64,
                       unsigned size)
{
    struct virtio_dev *vdev = t->vdev;
    uint32_t val = (uint32_t)val64;

    if (off >= VIRTIO_MMIO_CONFIG) {
        virtio_config_write(vdev, off - VIRTIO_MMIO_CONFIG, val64, size);
        return;
    }
    if (size != 4 || (off & 3)) {
        vlog_guest_error(t->log,
                         "%s: virtio-mmio write of %u bytes at 0x%" PRIx64
                         ": registers take aligned 32-bit accesses",
                         vdev->name, size, off);
        return;
    }
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        t->dev_features_sel = val;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        virtio_set_guest_features(vdev, t->drv_features_sel, val);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        t->drv_features_sel = val;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = val;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (mmio_vq(t, "QueueNum write")) {
            if (val > UINT16_MAX) {
                vlog_guest_error(t->log, "%s: QueueNum %" PRIu32 " too big",
                                 vdev->name, val);
                break;
            }
            virtio_queue_set_num(vdev, t->queue_sel, (uint16_t)val);
        }
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (mmio_vq(t, "QueueReady write")) {
            virtio_queue_set_ready(vdev, t->queue_sel, val & 1);
        }
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        /* reached only without the doorbell (as_write signals it) */
        if (val >= vdev->num_queues) {
            vlog_guest_error(t->log,
                             "%s: QueueNotify for queue %" PRIu32
                             " (the device has %u queues)",
                             vdev->name, val, vdev->num_queues);
            break;
        }
        virtio_queue_notify(vdev, val);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        vdev->isr &= ~val;
        mmio_update_irq(t);
        break;
    case VIRTIO_MMIO_STATUS:
        if (val > UINT8_MAX) {
            vlog_guest_error(t->log, "%s: Status 0x%" PRIx32 " is not a byte",
                             vdev->name, val);
            break;
        }
        virtio_set_status(vdev, (uint8_t)val);
        if (val == 0) {
            virtio_mmio_reset(t);
        }
        mmio_update_irq(t);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        mmio_write_addr(t, off, val);
        break;
    case VIRTIO_MMIO_SHM_SEL:
        break; /* no regions: every selector reads length ~0 */
    default:
        vlog_guest_error(t->log,
                         "%s: virtio-mmio write 0x%" PRIx32
                         " to read-only or unknown register 0x%" PRIx64,
                         vdev->name, val, off);
        break;
    }
}

struct mmio_kick {
    struct virtio_mmio *t;
    unsigned q;
};

static gboolean mmio_kick_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct mmio_kick *k = opaque;
    uint64_t n;

    if (read(fd, &n, sizeof(n)) != sizeof(n)) {
        return G_SOURCE_CONTINUE; /* spurious wake-up */
    }
    g_mutex_lock(k->t->lock);
    virtio_queue_notify(k->t->vdev, k->q);
    g_mutex_unlock(k->t->lock);
    return G_SOURCE_CONTINUE;
}

bool virtio_mmio_map(struct virtio_mmio *t, struct device *dev,
                     struct address_space *as, uint64_t base,
                     const struct io_ops *ops, GMainContext *ctx, Error **errp)
{
    unsigned nq = t->vdev->num_queues;

    if (!device_map(dev, as, base, VIRTIO_MMIO_SIZE, ops, dev->cls->name,
                    errp)) {
        return false;
    }
    if (!ctx) {
        return true; /* kicks go through the register handler */
    }
    t->as = as;
    t->base = base;
    t->lock = &dev->lock;
    t->kick_fds = g_new(int, nq);
    t->kick_src = g_new0(GSource *, nq);
    for (unsigned i = 0; i < nq; i++) {
        t->kick_fds[i] = -1;
    }
    for (unsigned i = 0; i < nq; i++) {
        struct mmio_kick *k = g_new(struct mmio_kick, 1);

        t->kick_fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (t->kick_fds[i] < 0) {
            error_setg_errno(errp, errno, "%s: eventfd", dev->cls->name);
            g_free(k);
            return false;
        }
        if (!as_add_eventfd(as, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, i,
                            t->kick_fds[i], errp)) {
            close(t->kick_fds[i]);
            t->kick_fds[i] = -1;
            g_free(k);
            return false;
        }
        k->t = t;
        k->q = i;
        t->kick_src[i] = g_unix_fd_source_new(t->kick_fds[i], G_IO_IN);
        g_source_set_callback(t->kick_src[i],
                              (GSourceFunc)(void (*)(void))mmio_kick_ready, k,
                              g_free);
        g_source_attach(t->kick_src[i], ctx);
    }
    return true;
}

void virtio_mmio_cleanup(struct virtio_mmio *t)
{
    if (!t->kick_fds) {
        return;
    }
    for (unsigned i = 0; i < t->vdev->num_queues; i++) {
        if (t->kick_src[i]) {
            g_source_destroy(t->kick_src[i]);
            g_source_unref(t->kick_src[i]);
        }
        if (t->kick_fds[i] >= 0) {
            as_del_eventfd(t->as, t->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, true,
                           i, t->kick_fds[i]);
            close(t->kick_fds[i]);
        }
    }
    g_free(t->kick_fds);
    g_free(t->kick_src);
    t->kick_fds = NULL;
    t->kick_src = NULL;
}

/* ---- the generic virtio-mmio device -------------------------------- */

static uint64_t proxy_read(void *opaque, uint64_t off, unsigned size)
{
    return virtio_mmio_read(&((struct virtio_mmio_proxy *)opaque)->t, off,
                            size);
}

static void proxy_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    virtio_mmio_write(&((struct virtio_mmio_proxy *)opaque)->t, off, val, size);
}

/* Any size reaches the handler, which refuses what the spec forbids
 * (control registers: aligned 32-bit only) with a guest error. */
static const struct io_ops proxy_ops = {
    .read = proxy_read,
    .write = proxy_write,
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

        if (d->cls->realize != virtio_mmio_proxy_realize) {
            continue;
        }
        if (n < max) {
            base[n] = ((struct virtio_mmio_proxy *)d)->base;
            gsi[n] = ((struct virtio_mmio_proxy *)d)->gsi;
        }
        n++;
    }
    return n;
}

bool virtio_mmio_proxy_realize(struct device *dev, struct machine *m,
                               Error **errp)
{
    struct virtio_mmio_proxy *p = (struct virtio_mmio_proxy *)dev;
    const struct virtio_model_class *mc = virtio_binding_of(dev)->model;
    void *model = virtio_model_of(dev);
    unsigned slot = virtio_mmio_devices(m, NULL, NULL, 0);
    struct irq_line *line;

    if (!m->type->virtio_mmio_slot) {
        error_setg(errp, "No 'virtio-mmio-bus' bus found for device '%s'",
                   dev->cls->name);
        return false;
    }
    if (!m->type->virtio_mmio_slot(m, slot, &p->base, &p->gsi, errp)) {
        return false;
    }
    line = machine_gsi_line(m, p->gsi, errp);
    if (!line) {
        return false;
    }
    p->vdev = mc->realize(model, dev, m, errp);
    if (!p->vdev) {
        return false;
    }
    virtio_mmio_init(&p->t, p->vdev, line, &m->log);
    if (!virtio_mmio_map(&p->t, dev, m->mmio, p->base, &proxy_ops, m->ctx,
                         errp)) {
        virtio_mmio_cleanup(&p->t);
        mc->unrealize(model);
        p->vdev = NULL;
        return false;
    }
    if (mc->start) {
        mc->start(model, m->ctx);
    }
    return true;
}

void virtio_mmio_proxy_unrealize(struct device *dev)
{
    struct virtio_mmio_proxy *p = (struct virtio_mmio_proxy *)dev;

    if (!p->vdev) {
        return;
    }
    virtio_mmio_cleanup(&p->t);
    virtio_binding_of(dev)->model->unrealize(virtio_model_of(dev));
    p->vdev = NULL;
}

/* ---- migration ------------------------------------------------------ */

static const struct vmstate_field mmio_proxy_fields[] = {
    VMS_U32(struct virtio_mmio_proxy, t.dev_features_sel),
    VMS_U32(struct virtio_mmio_proxy, t.drv_features_sel),
    VMS_U32(struct virtio_mmio_proxy, t.queue_sel),
    VMS_STRUCT_PTR(struct virtio_mmio_proxy, vdev, &virtio_core_vmsd),
    VMS_END,
};

/* The selectors take any value (they are checked where they are used);
 * the core checks itself. */
const struct vmstate_desc virtio_mmio_proxy_vmsd = {
    .name = "virtio-mmio",
    .version = 1,
    .fields = mmio_proxy_fields,
};

bool virtio_mmio_pair_pre_save(void *opaque, Error **errp)
{
    return virtio_model_pre_save(opaque, errp);
}

bool virtio_mmio_pair_post_load(void *opaque, Error **errp)
{
    struct virtio_mmio_proxy *p = opaque;
    struct virtio_mmio *t = &p->t;
    uint64_t one = 1;

    virtio_model_post_load(&p->dev, p->vdev);
    mmio_update_irq(t);
    /* As after a doorbell write: the main loop looks at each enabled
     * queue once the load is over (an empty ring costs one look). */
    for (unsigned i = 0; t->kick_fds && i < p->vdev->num_queues; i++) {
        if (p->vdev->vqs[i].ready && t->kick_fds[i] >= 0 &&
            write(t->kick_fds[i], &one, sizeof(one)) != sizeof(one)) {
            /* the counter is saturated: a kick is pending anyway */
        }
    }
    (void)errp;
    return true;
}

void virtio_mmio_proxy_reset(struct device *dev)
{
    struct virtio_mmio_proxy *p = (struct virtio_mmio_proxy *)dev;

    if (!p->vdev) {
        return;
    }
    virtio_model_reset(dev, p->vdev);
    virtio_mmio_reset(&p->t);
}
