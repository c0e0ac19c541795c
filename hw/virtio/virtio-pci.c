/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci.c: the modern virtio-pci transport (virtio 1.2 section 4.1)
 * as thin glue between the PCI core (hw/pci/pci.h) and the virtio core:
 * the common configuration structure becomes virtio_* calls, the notify
 * area is one ioeventfd per queue that follows BAR 4 wherever the guest
 * puts it, and the core's notify callbacks become MSI-X messages (the
 * vector the driver chose, through an irqfd when the board has them) or
 * INTx with the ISR while MSI-X is off.  The capability layout, ids and
 * BAR sizes are QEMU 7.2's for a modern-only function, so guests and
 * `lspci` see the same device.
 */
#include "util/common.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/core/device.h"
#include "hw/core/loader.h"
#include "hw/core/irq.h"
#include "system/machine.h"
#include "system/memory.h"
#include "util/log.h"

#include <glib-unix.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct virtio_pci_kick {
    struct virtio_pci_proxy *p;
    unsigned q;
    int fd;
    GSource *src;
};

static const char *vpci_name(const struct virtio_pci_proxy *p)
{
    return p->pci.dev.cls->name;
}

/* ---- interrupts ------------------------------------------------------ */

/* One interrupt for `vector` (queue or config): MSI-X when the driver
 * enabled it (nothing for VIRTIO_PCI_NO_VECTOR, spec 4.1.5.1.2), else the
 * INTx level that follows the ISR. */
static void vpci_signal(struct virtio_pci_proxy *p, uint16_t vector)
{
    struct pci_device *pd = &p->pci;

    if (!pci_msix_enabled(pd)) {
        pci_set_irq(pd, p->vdev->isr != 0);
        return;
    }
    if (vector == VIRTIO_PCI_NO_VECTOR || vector >= pd->msix_nvec) {
        return;
    }
    /* the irqfd only while KVM delivers it (enabled, unmasked, bus
     * master); otherwise the core sends it or sets its pending bit */
    if (p->irqfd_attached && p->irqfd_attached[vector] &&
        pd->msix_vec[vector].irqfd_live) {
        uint64_t one = 1;

        if (write(p->irqfds[vector], &one, sizeof(one)) == sizeof(one)) {
            return;
        }
    }
    pci_msi_notify(pd, vector);
}

static void vpci_notify_queue(void *opaque, unsigned index)
{
    struct virtio_pci_proxy *p = opaque;

    vpci_signal(p, p->vdev->vqs[index].msix_vector);
}

static void vpci_notify_config(void *opaque)
{
    struct virtio_pci_proxy *p = opaque;

    vpci_signal(p, p->config_vector);
}

static const struct virtio_transport_ops vpci_transport_ops = {
    .notify_queue = vpci_notify_queue,
    .notify_config = vpci_notify_config,
};

/* The driver maps a queue or the config space to `val`: the vector it
 * reads back (NO_VECTOR when there is no such vector, spec 4.1.5.1.2). */
static uint16_t vpci_use_vector(struct virtio_pci_proxy *p, uint16_t val)
{
    struct pci_device *pd = &p->pci;
    Error *err = NULL;

    if (val == VIRTIO_PCI_NO_VECTOR) {
        return val;
    }
    if (val >= pd->msix_nvec) {
        vlog_guest_error(p->log,
                         "%s: MSI-X vector %u does not exist (%u vectors)",
                         vpci_name(p), val, pd->msix_nvec);
        return VIRTIO_PCI_NO_VECTOR;
    }
    if (p->use_irqfd && !p->irqfd_attached[val]) {
        uint64_t stale;

        /* the eventfds exist from realize: a vCPU thread may not create
         * one (seccomp); drain what a use before a reset left */
        if (read(p->irqfds[val], &stale, sizeof(stale)) < 0) {
            /* EAGAIN: nothing pending */
        }
        if (pci_msix_set_irqfd(pd, val, p->irqfds[val], &err)) {
            p->irqfd_attached[val] = true;
        } else {
            /* the slow path still works: pci_msi_notify */
            if (err) {
                vlog_guest_error(p->log, "%s: %s", vpci_name(p),
                                 error_get_pretty(err));
                error_free(err);
            }
            pci_msix_set_irqfd(pd, val, -1, NULL);
        }
    }
    return val;
}

/* ---- common configuration (spec 4.1.4.3) ------------------------------ */

enum vpci_field {
    F_DFSELECT,
    F_DF,
    F_GFSELECT,
    F_GF,
    F_MSIX,
    F_NUMQ,
    F_STATUS,
    F_CFGGENERATION,
    F_Q_SELECT,
    F_Q_SIZE,
    F_Q_MSIX,
    F_Q_ENABLE,
    F_Q_NOFF,
    F_Q_DESC,
    F_Q_AVAIL,
    F_Q_USED,
};

static const struct {
    uint8_t off, width;
    bool ro;
    const char *name;
} vpci_fields[] = {
    [F_DFSELECT] = {VIRTIO_PCI_COMMON_DFSELECT, 4, false,
                    "device_feature_select"},
    [F_DF] = {VIRTIO_PCI_COMMON_DF, 4, true, "device_feature"},
    [F_GFSELECT] = {VIRTIO_PCI_COMMON_GFSELECT, 4, false,
                    "driver_feature_select"},
    [F_GF] = {VIRTIO_PCI_COMMON_GF, 4, false, "driver_feature"},
    [F_MSIX] = {VIRTIO_PCI_COMMON_MSIX, 2, false, "config_msix_vector"},
    [F_NUMQ] = {VIRTIO_PCI_COMMON_NUMQ, 2, true, "num_queues"},
    [F_STATUS] = {VIRTIO_PCI_COMMON_STATUS, 1, false, "device_status"},
    [F_CFGGENERATION] = {VIRTIO_PCI_COMMON_CFGGENERATION, 1, true,
                         "config_generation"},
    [F_Q_SELECT] = {VIRTIO_PCI_COMMON_Q_SELECT, 2, false, "queue_select"},
    [F_Q_SIZE] = {VIRTIO_PCI_COMMON_Q_SIZE, 2, false, "queue_size"},
    [F_Q_MSIX] = {VIRTIO_PCI_COMMON_Q_MSIX, 2, false, "queue_msix_vector"},
    [F_Q_ENABLE] = {VIRTIO_PCI_COMMON_Q_ENABLE, 2, false, "queue_enable"},
    [F_Q_NOFF] = {VIRTIO_PCI_COMMON_Q_NOFF, 2, true, "queue_notify_off"},
    [F_Q_DESC] = {VIRTIO_PCI_COMMON_Q_DESCLO, 8, false, "queue_desc"},
    [F_Q_AVAIL] = {VIRTIO_PCI_COMMON_Q_AVAILLO, 8, false, "queue_driver"},
    [F_Q_USED] = {VIRTIO_PCI_COMMON_Q_USEDLO, 8, false, "queue_device"},
};

/* The field an access hits, or -1 (logged): the field's own width at its
 * start, or a 32-bit half of a 64-bit field (spec 4.1.3.1). */
static int vpci_field(struct virtio_pci_proxy *p, uint64_t off, unsigned size,
                      bool is_write)
{
    for (unsigned i = 0; i < ARRAY_SIZE(vpci_fields); i++) {
        uint64_t start = vpci_fields[i].off;
        unsigned w = vpci_fields[i].width;

        if (off < start || off >= start + w) {
            continue;
        }
        if ((off == start && size == w) ||
            (w == 8 && size == 4 && (off - start) % 4 == 0)) {
            return (int)i;
        }
        vlog_guest_error(p->log,
                         "%s: %u-byte %s at common config 0x%" PRIx64
                         ": %s takes %u-byte accesses",
                         vpci_name(p), size, is_write ? "write" : "read", off,
                         vpci_fields[i].name, w);
        return -1;
    }
    vlog_guest_error(p->log,
                     "%s: %s of %u bytes at common config 0x%" PRIx64
                     ": no such field",
                     vpci_name(p), is_write ? "write" : "read", size, off);
    return -1;
}

/* The selected queue, or NULL (logged) when queue_select is out of
 * range. */
static struct virtqueue *vpci_vq(struct virtio_pci_proxy *p, const char *what)
{
    if (p->queue_sel >= p->vdev->num_queues) {
        vlog_guest_error(p->log,
                         "%s: %s with queue_select %u (the device has %u "
                         "queues)",
                         vpci_name(p), what, p->queue_sel, p->vdev->num_queues);
        return NULL;
    }
    return &p->vdev->vqs[p->queue_sel];
}

static uint64_t vpci_common_read(struct virtio_pci_proxy *p, uint64_t off,
                                 unsigned size)
{
    struct virtio_dev *vdev = p->vdev;
    int f = vpci_field(p, off, size, false);
    bool sel_ok = p->queue_sel < vdev->num_queues;
    struct virtqueue *vq = sel_ok ? &vdev->vqs[p->queue_sel] : NULL;
    uint64_t v;

    switch (f) {
    case F_DFSELECT:
        return p->dev_features_sel;
    case F_DF:
        return virtio_get_host_features(vdev, p->dev_features_sel);
    case F_GFSELECT:
        return p->drv_features_sel;
    case F_GF:
        return virtio_get_guest_features(vdev, p->drv_features_sel);
    case F_MSIX:
        return p->config_vector;
    case F_NUMQ:
        return vdev->num_queues;
    case F_STATUS:
        return vdev->status;
    case F_CFGGENERATION:
        return (uint8_t)vdev->config_generation;
    case F_Q_SELECT:
        return p->queue_sel;
    case F_Q_SIZE:
        return vq ? vq->num : 0; /* 0: no such queue (spec 4.1.4.3.2) */
    case F_Q_MSIX:
        return vq ? vq->msix_vector : VIRTIO_PCI_NO_VECTOR;
    case F_Q_ENABLE:
        return vq && vq->ready;
    case F_Q_NOFF:
        /* queue n's doorbell is at n * VIRTIO_PCI_NOTIFY_MULT */
        return vq ? p->queue_sel : 0;
    case F_Q_DESC:
    case F_Q_AVAIL:
    case F_Q_USED:
        if (!vq) {
            return 0;
        }
        v = f == F_Q_DESC    ? vq->desc_gpa
            : f == F_Q_AVAIL ? vq->avail_gpa
                             : vq->used_gpa;
        if (size == 4) {
            v = (off - vpci_fields[f].off) ? v >> 32 : (uint32_t)v;
        }
        return v;
    default:
        return size >= 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
    }
}

static void vpci_write_addr(struct virtio_pci_proxy *p, int f, uint64_t off,
                            uint64_t val, unsigned size)
{
    struct virtqueue *vq = vpci_vq(p, "ring address write");
    uint64_t a[3], *dst;

    if (!vq) {
        return;
    }
    a[0] = vq->desc_gpa;
    a[1] = vq->avail_gpa;
    a[2] = vq->used_gpa;
    dst = &a[f - F_Q_DESC];
    if (size == 8) {
        *dst = val;
    } else if (off - vpci_fields[f].off) {
        *dst = (*dst & 0xffffffffULL) | (val << 32);
    } else {
        *dst = (*dst & ~0xffffffffULL) | (uint32_t)val;
    }
    virtio_queue_set_addr(p->vdev, p->queue_sel, a[0], a[1], a[2]);
}

/* Transport state a device reset clears (spec 4.1.4.3: config vector back
 * to NO_VECTOR; the core resets the queues' vectors). */
static void vpci_transport_reset(struct virtio_pci_proxy *p)
{
    p->dev_features_sel = p->drv_features_sel = 0;
    p->queue_sel = 0;
    p->config_vector = VIRTIO_PCI_NO_VECTOR;
    pci_set_irq(&p->pci, false);
}

static void vpci_common_write(struct virtio_pci_proxy *p, uint64_t off,
                              uint64_t val, unsigned size)
{
    struct virtio_dev *vdev = p->vdev;
    int f = vpci_field(p, off, size, true);
    struct virtqueue *vq;

    if (f < 0) {
        return;
    }
    if (vpci_fields[f].ro) {
        vlog_guest_error(p->log,
                         "%s: write 0x%" PRIx64 " to read-only %s (ignored)",
                         vpci_name(p), val, vpci_fields[f].name);
        return;
    }
    switch (f) {
    case F_DFSELECT:
        p->dev_features_sel = (uint32_t)val;
        break;
    case F_GFSELECT:
        p->drv_features_sel = (uint32_t)val;
        break;
    case F_GF:
        virtio_set_guest_features(vdev, p->drv_features_sel, (uint32_t)val);
        break;
    case F_MSIX:
        p->config_vector = vpci_use_vector(p, (uint16_t)val);
        break;
    case F_STATUS:
        virtio_set_status(vdev, (uint8_t)val);
        if (val == 0) {
            vpci_transport_reset(p);
        }
        break;
    case F_Q_SELECT:
        p->queue_sel = (uint16_t)val;
        break;
    case F_Q_SIZE:
        if (vpci_vq(p, "queue_size write")) {
            virtio_queue_set_num(vdev, p->queue_sel, (uint16_t)val);
        }
        break;
    case F_Q_MSIX:
        vq = vpci_vq(p, "queue_msix_vector write");
        if (vq) {
            vq->msix_vector = vpci_use_vector(p, (uint16_t)val);
        }
        break;
    case F_Q_ENABLE:
        if (!vpci_vq(p, "queue_enable write")) {
            break;
        }
        if (val != 1) {
            /* spec 4.1.4.3.2: the driver MUST NOT write 0 */
            vlog_guest_error(p->log,
                             "%s: queue_enable %" PRIu64
                             " for queue %u (only 1 is allowed; ignored)",
                             vpci_name(p), val, p->queue_sel);
            break;
        }
        virtio_queue_set_ready(vdev, p->queue_sel, true);
        break;
    case F_Q_DESC:
    case F_Q_AVAIL:
    case F_Q_USED:
        vpci_write_addr(p, f, off, val, size);
        break;
    default:
        break;
    }
}

/* ---- the BAR 4 window ---------------------------------------------- */

uint64_t virtio_pci_bar_read(struct virtio_pci_proxy *p, uint64_t off,
                             unsigned size)
{
    uint64_t ones = size >= 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
    uint64_t area = off & (VIRTIO_PCI_AREA_SIZE - 1);

    if (!p->vdev || off >= VIRTIO_PCI_BAR_SIZE || size == 0 || size > 8 ||
        area + size > VIRTIO_PCI_AREA_SIZE) {
        vlog_guest_error(p->log,
                         "%s: read of %u bytes at BAR4+0x%" PRIx64
                         " crosses an area",
                         vpci_name(p), size, off);
        return ones;
    }
    switch (off - area) {
    case VIRTIO_PCI_COMMON_OFF:
        return vpci_common_read(p, area, size);
    case VIRTIO_PCI_ISR_OFF:
        if (area != 0 || size != 1) {
            vlog_guest_error(p->log,
                             "%s: ISR read of %u bytes at +0x%" PRIx64
                             ": the ISR is one byte",
                             vpci_name(p), size, area);
            return ones;
        }
        {
            /* reading clears it and lowers INTx (spec 4.1.4.5) */
            uint8_t v = virtio_isr_read_clear(p->vdev);

            pci_set_irq(&p->pci, false);
            return v;
        }
    case VIRTIO_PCI_DEVICE_OFF:
        return virtio_config_read(p->vdev, area, size);
    default:
        vlog_guest_error(p->log,
                         "%s: read of the notify area at +0x%" PRIx64
                         " (write-only)",
                         vpci_name(p), area);
        return 0;
    }
}

static void vpci_notify_write(struct virtio_pci_proxy *p, uint64_t area,
                              uint64_t val, unsigned size)
{
    uint64_t q = area / VIRTIO_PCI_NOTIFY_MULT;

    /* reached when no doorbell took the write (no main context, another
     * size than the doorbell's, or the PCI_CFG window) */
    if (area % VIRTIO_PCI_NOTIFY_MULT || size != 2) {
        vlog_guest_error(p->log,
                         "%s: %u-byte notify at +0x%" PRIx64
                         ": doorbells take 16-bit writes at queue * %u",
                         vpci_name(p), size, area, VIRTIO_PCI_NOTIFY_MULT);
        return;
    }
    if (q >= p->vdev->num_queues) {
        vlog_guest_error(p->log,
                         "%s: notify for queue %" PRIu64
                         " (the device has %u queues)",
                         vpci_name(p), q, p->vdev->num_queues);
        return;
    }
    (void)val; /* the queue is the address (no NOTIFICATION_DATA) */
    virtio_queue_notify(p->vdev, (unsigned)q);
}

void virtio_pci_bar_write(struct virtio_pci_proxy *p, uint64_t off,
                          uint64_t val, unsigned size)
{
    uint64_t area = off & (VIRTIO_PCI_AREA_SIZE - 1);

    if (!p->vdev || off >= VIRTIO_PCI_BAR_SIZE || size == 0 || size > 8 ||
        area + size > VIRTIO_PCI_AREA_SIZE) {
        vlog_guest_error(p->log,
                         "%s: write of %u bytes at BAR4+0x%" PRIx64
                         " crosses an area",
                         vpci_name(p), size, off);
        return;
    }
    switch (off - area) {
    case VIRTIO_PCI_COMMON_OFF:
        vpci_common_write(p, area, val, size);
        break;
    case VIRTIO_PCI_ISR_OFF:
        vlog_guest_error(p->log,
                         "%s: write 0x%" PRIx64 " to the ISR (read-only)",
                         vpci_name(p), val);
        break;
    case VIRTIO_PCI_DEVICE_OFF:
        virtio_config_write(p->vdev, area, val, size);
        break;
    default:
        vpci_notify_write(p, area, val, size);
        break;
    }
}

static uint64_t vpci_bar_read(void *opaque, uint64_t off, unsigned size)
{
    return virtio_pci_bar_read(opaque, off, size);
}

static void vpci_bar_write(void *opaque, uint64_t off, uint64_t val,
                           unsigned size)
{
    virtio_pci_bar_write(opaque, off, val, size);
}

/* Any size reaches the handlers, which refuse what the spec forbids. */
static const struct io_ops vpci_bar_ops = {
    .read = vpci_bar_read,
    .write = vpci_bar_write,
    .min_size = 1,
    .max_size = 8,
    .unaligned_ok = true,
};

/* ---- the PCI_CFG window (spec 4.1.4.9) ------------------------------ */

/* The access the window's bar/offset/length describe, or false when it
 * is not one the device can make (logged, except a read while the window
 * points nowhere: config space dumps read it). */
static bool vpci_window(struct virtio_pci_proxy *p, bool is_write,
                        uint32_t *off, unsigned *len)
{
    const uint8_t *c = p->pci.config + p->cfg_cap;
    uint8_t bar = c[VIRTIO_PCI_CAP_BAR];

    *off = ld_le32(c + VIRTIO_PCI_CAP_OFFSET);
    *len = ld_le32(c + VIRTIO_PCI_CAP_LENGTH);
    if (bar != VIRTIO_PCI_MODERN_BAR || (*len != 1 && *len != 2 && *len != 4) ||
        *off % *len || *off >= VIRTIO_PCI_BAR_SIZE) {
        if (!is_write && bar != VIRTIO_PCI_MODERN_BAR) {
            return false;
        }
        vlog_guest_error(p->log,
                         "%s: PCI_CFG window on BAR%u offset 0x%" PRIx32
                         " length %u: not an access to BAR%u",
                         vpci_name(p), bar, *off, *len, VIRTIO_PCI_MODERN_BAR);
        return false;
    }
    return true;
}

static bool vpci_hits_window(struct virtio_pci_proxy *p, unsigned off,
                             unsigned len)
{
    unsigned d = p->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA;

    return p->cfg_cap && off < d + 4 && d < off + len;
}

static void vpci_config_read(struct pci_device *pd, unsigned off, unsigned len)
{
    struct virtio_pci_proxy *p = (struct virtio_pci_proxy *)pd;
    uint32_t woff;
    unsigned wlen;

    if (vpci_hits_window(p, off, len) && vpci_window(p, false, &woff, &wlen)) {
        st_le32(pd->config + p->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA,
                (uint32_t)virtio_pci_bar_read(p, woff, wlen));
    }
}

static void vpci_config_write(struct pci_device *pd, unsigned off, unsigned len)
{
    struct virtio_pci_proxy *p = (struct virtio_pci_proxy *)pd;
    uint32_t woff, data;
    unsigned wlen;

    if (vpci_hits_window(p, off, len) && vpci_window(p, true, &woff, &wlen)) {
        data = ld_le32(pd->config + p->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA);
        virtio_pci_bar_write(
            p, woff, wlen == 4 ? data : data & ((1u << (8 * wlen)) - 1), wlen);
    }
}

/* ---- doorbells --------------------------------------------------------- */

static gboolean vpci_kick_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct virtio_pci_kick *k = opaque;
    uint64_t n;

    (void)cond;
    if (read(fd, &n, sizeof(n)) != sizeof(n)) {
        return G_SOURCE_CONTINUE; /* spurious wake-up */
    }
    g_mutex_lock(&k->p->pci.dev.lock);
    if (k->p->vdev) {
        virtio_queue_notify(k->p->vdev, k->q);
    }
    g_mutex_unlock(&k->p->pci.dev.lock);
    return G_SOURCE_CONTINUE;
}

static uint64_t vpci_doorbell(const struct virtio_pci_proxy *p, unsigned q)
{
    return p->notify_base + VIRTIO_PCI_NOTIFY_OFF +
           (uint64_t)q * VIRTIO_PCI_NOTIFY_MULT;
}

static void vpci_doorbells_del(struct virtio_pci_proxy *p)
{
    if (!p->notify_mapped) {
        return;
    }
    for (unsigned i = 0; i < p->vdev->num_queues; i++) {
        as_del_eventfd(p->as, vpci_doorbell(p, i), 2, false, 0, p->kicks[i].fd);
    }
    p->notify_mapped = false;
}

/* BAR 4 moved: the doorbells go with it (under dev.lock, from the PCI
 * core's mapping update). */
static void vpci_bar_mapped(struct pci_device *pd, unsigned bar, uint64_t addr,
                            bool mapped)
{
    struct virtio_pci_proxy *p = (struct virtio_pci_proxy *)pd;
    Error *err = NULL;

    if (bar != VIRTIO_PCI_MODERN_BAR || !p->kicks) {
        return;
    }
    vpci_doorbells_del(p);
    if (!mapped) {
        return;
    }
    p->notify_base = addr;
    for (unsigned i = 0; i < p->vdev->num_queues; i++) {
        if (!as_add_eventfd(p->as, vpci_doorbell(p, i), 2, false, 0,
                            p->kicks[i].fd, &err)) {
            /* the handler still takes the kick, only slower */
            vlog_guest_error(p->log, "%s: queue %u doorbell: %s", vpci_name(p),
                             i, error_get_pretty(err));
            g_clear_pointer(&err, error_free);
            for (unsigned j = 0; j < i; j++) {
                as_del_eventfd(p->as, vpci_doorbell(p, j), 2, false, 0,
                               p->kicks[j].fd);
            }
            return;
        }
    }
    p->notify_mapped = true;
}

static bool vpci_kicks_init(struct virtio_pci_proxy *p, struct machine *m,
                            Error **errp)
{
    unsigned nq = p->vdev->num_queues;

    p->as = m->mmio;
    p->kicks = g_new0(struct virtio_pci_kick, nq);
    for (unsigned i = 0; i < nq; i++) {
        p->kicks[i].fd = -1;
    }
    for (unsigned i = 0; i < nq; i++) {
        struct virtio_pci_kick *k = &p->kicks[i];

        k->p = p;
        k->q = i;
        k->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (k->fd < 0) {
            error_setg_errno(errp, errno, "%s: eventfd", vpci_name(p));
            return false;
        }
        k->src = g_unix_fd_source_new(k->fd, G_IO_IN);
        g_source_set_callback(
            k->src, (GSourceFunc)(void (*)(void))vpci_kick_ready, k, NULL);
        g_source_attach(k->src, m->ctx);
    }
    return true;
}

static void vpci_kicks_free(struct virtio_pci_proxy *p)
{
    if (!p->kicks) {
        return;
    }
    vpci_doorbells_del(p);
    for (unsigned i = 0; i < p->vdev->num_queues; i++) {
        if (p->kicks[i].src) {
            g_source_destroy(p->kicks[i].src);
            g_source_unref(p->kicks[i].src);
        }
        if (p->kicks[i].fd >= 0) {
            close(p->kicks[i].fd);
        }
    }
    g_clear_pointer(&p->kicks, g_free);
}

static void vpci_irqfds_free(struct virtio_pci_proxy *p)
{
    for (unsigned v = 0; p->irqfds && v < p->pci.msix_nvec; v++) {
        if (p->irqfds[v] >= 0) {
            close(p->irqfds[v]);
        }
    }
    g_clear_pointer(&p->irqfds, g_free);
    g_clear_pointer(&p->irqfd_attached, g_free);
    p->use_irqfd = false;
}

/* ---- the generic device -------------------------------------------- */

static const struct pci_device_ops vpci_pci_ops = {
    .config_write = vpci_config_write,
    .config_read = vpci_config_read,
    .bar_mapped = vpci_bar_mapped,
};

/* A virtio capability (struct virtio_pci_cap) pointing into BAR 4. */
static uint8_t vpci_add_cap(struct virtio_pci_proxy *p, uint8_t type,
                            uint8_t len, uint32_t off, uint32_t size,
                            Error **errp)
{
    uint8_t c = pci_add_capability(&p->pci, PCI_CAP_ID_VNDR, len, errp);
    uint8_t *cfg = p->pci.config + c;

    if (c) {
        cfg[2] = len;
        cfg[3] = type;
        cfg[VIRTIO_PCI_CAP_BAR] =
            type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VIRTIO_PCI_MODERN_BAR;
        st_le32(cfg + VIRTIO_PCI_CAP_OFFSET, off);
        st_le32(cfg + VIRTIO_PCI_CAP_LENGTH, size);
    }
    return c;
}

/* QEMU adds each capability at the head of the list; ours are appended.
 * Reversing the chain gives the guest QEMU's order (MSI-X first) with the
 * same offsets. */
static void vpci_reverse_caps(struct pci_device *pd)
{
    uint8_t prev = 0, cur = pd->config[PCI_CAPABILITY_LIST];

    for (unsigned n = 0; cur && n < 48; n++) {
        uint8_t next = pd->config[cur + 1];

        pd->config[cur + 1] = prev;
        prev = cur;
        cur = next;
    }
    pd->config[PCI_CAPABILITY_LIST] = prev;
}

static bool vpci_check_props(struct virtio_pci_proxy *p, Error **errp)
{
    const char *dl = p->disable_legacy ? p->disable_legacy : "auto";

    if (strcmp(dl, "on") && strcmp(dl, "auto")) {
        if (strcmp(dl, "off")) {
            error_setg(errp,
                       "Parameter 'disable-legacy' does not accept value "
                       "'%s'",
                       dl);
        } else {
            error_setg(errp,
                       "%s: disable-legacy=off is not supported: vireo "
                       "offers modern virtio-pci (virtio 1.x) only",
                       vpci_name(p));
        }
        return false;
    }
    if (p->disable_modern) {
        error_setg(errp,
                   "%s: disable-modern=on is not supported: vireo offers "
                   "modern virtio-pci (virtio 1.x) only",
                   vpci_name(p));
        return false;
    }
    if (p->vectors != UINT32_MAX && p->vectors > PCI_MSIX_MAX_VECTORS) {
        error_setg(errp, "%s: vectors=%" PRIu32 ": MSI-X allows at most %u",
                   vpci_name(p), p->vectors, PCI_MSIX_MAX_VECTORS);
        return false;
    }
    return true;
}

/* The PCIe capability (endpoint) and a PCI PM capability (version 3, D0
 * and D3hot in PMCSR's state field), QEMU's first two behind a port. */
static bool vpci_express_init(struct pci_device *pd, Error **errp)
{
    uint8_t pm;

    if (!pci_express_init(pd, PCI_EXP_TYPE_ENDPOINT, -1, errp)) {
        return false;
    }
    pm = pci_add_capability(pd, PCI_CAP_ID_PM, VIRTIO_PCI_PM_SIZE, errp);
    if (!pm) {
        return false;
    }
    st_le16(pd->config + pm + VIRTIO_PCI_PM_PMC, 0x0003);
    st_le16(pd->wmask + pm + VIRTIO_PCI_PM_CTRL, 0x0003);
    return true;
}

/* BAR 4 and its capabilities, MSI-X in BAR 1, the PCI_CFG window. */
static bool vpci_layout(struct virtio_pci_proxy *p, Error **errp)
{
    struct pci_device *pd = &p->pci;
    uint32_t nvec =
        p->vectors == UINT32_MAX ? p->vdev->num_queues + 1 : p->vectors;
    uint8_t notify;

    if (nvec > PCI_MSIX_MAX_VECTORS) {
        error_setg(errp, "%s: %u queues need more than %u MSI-X vectors",
                   vpci_name(p), p->vdev->num_queues, PCI_MSIX_MAX_VECTORS);
        return false;
    }
    /* below a PCIe port: a PCIe endpoint with power management, as QEMU
     * makes it there (on pcie.0 it is a conventional function) */
    if (pd->bus->bridge && !vpci_express_init(pd, errp)) {
        return false;
    }
    if (!pci_register_bar(pd, VIRTIO_PCI_MODERN_BAR, PCI_BAR_MEM64_PREF,
                          VIRTIO_PCI_BAR_SIZE, &vpci_bar_ops, errp) ||
        !vpci_add_cap(p, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_SIZE,
                      VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_AREA_SIZE, errp) ||
        !vpci_add_cap(p, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_SIZE,
                      VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_AREA_SIZE, errp) ||
        !vpci_add_cap(p, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_SIZE,
                      VIRTIO_PCI_DEVICE_OFF, VIRTIO_PCI_AREA_SIZE, errp)) {
        return false;
    }
    notify = vpci_add_cap(p, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_CAP_EXT_SIZE,
                          VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_AREA_SIZE, errp);
    if (!notify) {
        return false;
    }
    st_le32(pd->config + notify + VIRTIO_PCI_NOTIFY_CAP_MULT,
            VIRTIO_PCI_NOTIFY_MULT);
    p->cfg_cap = vpci_add_cap(p, VIRTIO_PCI_CAP_PCI_CFG,
                              VIRTIO_PCI_CAP_EXT_SIZE, 0, 0, errp);
    if (!p->cfg_cap) {
        return false;
    }
    /* the window's bar, offset, length and data are the driver's */
    pd->wmask[p->cfg_cap + VIRTIO_PCI_CAP_BAR] = 0xff;
    memset(pd->wmask + p->cfg_cap + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
    if (nvec && !pci_msix_init(pd, nvec, VIRTIO_PCI_MSIX_BAR, errp)) {
        return false;
    }
    vpci_reverse_caps(pd);
    return true;
}

bool virtio_pci_proxy_realize(struct device *dev, struct machine *m,
                              Error **errp)
{
    struct virtio_pci_proxy *p = (struct virtio_pci_proxy *)dev;
    const struct virtio_model_class *mc = virtio_binding_of(dev)->model;
    void *model = virtio_model_of(dev);
    const struct pci_id id = {
        .vendor = VIRTIO_PCI_VENDOR,
        .device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + mc->device_id),
        .subsystem_vendor = VIRTIO_PCI_VENDOR,
        .subsystem = VIRTIO_PCI_SUBSYSTEM,
        .revision = 1, /* modern only (spec 4.1.2.1) */
        .class_code = mc->pci_class,
        .irq_pin = 1,
    };
    const struct msi_sender_ops *mops = m->msi.ops;

    p->log = &m->log;
    if (!vpci_check_props(p, errp) ||
        !pci_device_realize(&p->pci, m, &id, errp)) {
        return false;
    }
    p->vdev = mc->realize(model, dev, m, errp);
    if (!p->vdev) {
        pci_device_unrealize(&p->pci);
        return false;
    }
    virtio_set_transport(p->vdev, &vpci_transport_ops, p);
    p->config_vector = VIRTIO_PCI_NO_VECTOR;
    p->pci.ops = &vpci_pci_ops;
    if (!vpci_layout(p, errp) || (m->ctx && !vpci_kicks_init(p, m, errp))) {
        virtio_pci_proxy_unrealize(dev);
        return false;
    }
    /* the irqfd fast path where the board offers one (KVM) */
    p->use_irqfd = p->pci.msix_nvec && mops && mops->route_add &&
                   mops->irqfd_bind && mops->irqfd_unbind;
    if (p->use_irqfd) {
        p->irqfds = g_new(int, p->pci.msix_nvec);
        p->irqfd_attached = g_new0(bool, p->pci.msix_nvec);
        for (unsigned v = 0; v < p->pci.msix_nvec; v++) {
            p->irqfds[v] = -1;
        }
        for (unsigned v = 0; v < p->pci.msix_nvec; v++) {
            p->irqfds[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (p->irqfds[v] < 0) {
                error_setg_errno(errp, errno, "%s: eventfd", vpci_name(p));
                virtio_pci_proxy_unrealize(dev);
                return false;
            }
        }
    }
    if (mc->start) {
        mc->start(model, m->ctx);
    }
    return true;
}

void virtio_pci_proxy_unrealize(struct device *dev)
{
    struct virtio_pci_proxy *p = (struct virtio_pci_proxy *)dev;

    if (!p->vdev) {
        return;
    }
    /* unmapping BAR 4 takes the doorbells out; MSI-X irqfds detached */
    pci_device_unrealize(&p->pci);
    vpci_kicks_free(p);
    vpci_irqfds_free(p);
    virtio_binding_of(dev)->model->unrealize(virtio_model_of(dev));
    p->vdev = NULL;
}

void virtio_pci_proxy_reset(struct device *dev)
{
    struct virtio_pci_proxy *p = (struct virtio_pci_proxy *)dev;

    if (!p->vdev) {
        return;
    }
    virtio_model_reset(dev, p->vdev);
    vpci_transport_reset(p);
    /* the PCI reset detaches every irqfd; they attach again on use */
    for (unsigned v = 0; p->irqfd_attached && v < p->pci.msix_nvec; v++) {
        p->irqfd_attached[v] = false;
    }
    pci_device_reset(&p->pci);
}

/* ---- migration ------------------------------------------------------ */

/* The function (config space, MSI-X table and pending bits), the
 * transport's selectors and config vector, then the core; the pair adds
 * the model (VIRTIO_PCI_DEVICE). */
static const struct vmstate_field vpci_proxy_fields[] = {
    VMS_STRUCT(struct virtio_pci_proxy, pci, &pci_device_vmsd),
    VMS_U32(struct virtio_pci_proxy, dev_features_sel),
    VMS_U32(struct virtio_pci_proxy, drv_features_sel),
    VMS_U16(struct virtio_pci_proxy, queue_sel),
    VMS_U16(struct virtio_pci_proxy, config_vector),
    VMS_STRUCT_PTR(struct virtio_pci_proxy, vdev, &virtio_core_vmsd),
    VMS_END,
};

const struct vmstate_desc virtio_pci_proxy_vmsd = {
    .name = "virtio-pci",
    .version = 1,
    .fields = vpci_proxy_fields,
};

bool virtio_pci_pair_pre_save(void *opaque, Error **errp)
{
    return virtio_model_pre_save(opaque, errp);
}

static bool vector_ok(const struct virtio_pci_proxy *p, uint16_t v)
{
    return v == VIRTIO_PCI_NO_VECTOR || v < p->pci.msix_nvec;
}

bool virtio_pci_pair_post_load(void *opaque, Error **errp)
{
    struct virtio_pci_proxy *p = opaque;
    struct virtio_dev *vdev = p->vdev;
    uint64_t one = 1;

    /* the core cannot know how many vectors the function has */
    if (!vector_ok(p, p->config_vector)) {
        error_setg(errp, "%s: config vector %u of %u", vpci_name(p),
                   p->config_vector, p->pci.msix_nvec);
        return false;
    }
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        if (!vector_ok(p, vdev->vqs[i].msix_vector)) {
            error_setg(errp, "%s: queue %u: MSI-X vector %u of %u",
                       vpci_name(p), i, vdev->vqs[i].msix_vector,
                       p->pci.msix_nvec);
            return false;
        }
    }
    /* nothing refuses after this point */
    virtio_model_post_load(&p->pci.dev, vdev);
    /* the vectors in use get their irqfds as when the driver set them */
    p->config_vector = vpci_use_vector(p, p->config_vector);
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        vdev->vqs[i].msix_vector = vpci_use_vector(p, vdev->vqs[i].msix_vector);
    }
    if (!pci_msix_enabled(&p->pci)) {
        pci_set_irq(&p->pci, vdev->isr != 0);
    }
    /* a kick the source had not handled is not in the stream: the main
     * loop looks at each enabled queue once (an empty ring costs a look) */
    for (unsigned i = 0; p->kicks && i < vdev->num_queues; i++) {
        if (vdev->vqs[i].ready && p->kicks[i].fd >= 0 &&
            write(p->kicks[i].fd, &one, sizeof(one)) != sizeof(one)) {
            /* the counter is saturated: a kick is pending anyway */
        }
    }
    return true;
}
