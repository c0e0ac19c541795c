/* SPDX-License-Identifier: MIT */
/*
 * virtio-ring.c: device initialisation (virtio 1.2, 3.1.1) and split
 * virtqueues (2.7), driven synchronously: each request is one descriptor
 * chain, kicked, then the used ring is polled (no interrupts) until the
 * device returns it or a TSC timeout runs out.
 */
#include "virtio-guest.h"

void vd_reset(struct vdev *d)
{
    vd_set_status(d, 0);
    /* reset completes when status reads back 0 (4.1.4.3.2, 4.2.2.2) */
    for (unsigned i = 0; i < 1000000 && vd_get_status(d); i++) {
        __asm__ volatile("pause");
    }
}

static bool vq_setup(struct vdev *d, struct vq *vq, unsigned idx)
{
    uint16_t max = vd_queue_max(d, idx);

    memset(vq, 0, sizeof(*vq));
    if (max == 0) {
        return false;
    }
    vq->index = (uint16_t)idx;
    vq->size = max < VT_QSIZE ? max : VT_QSIZE;
    vq->desc = vt_alloc(sizeof(struct vring_desc) * VT_QSIZE, 16);
    vq->avail = vt_alloc(sizeof(struct vring_avail), 2);
    vq->used = vt_alloc(sizeof(struct vring_used), 4);
    vq->ready = vd_queue_enable(d, vq);
    return vq->ready;
}

bool vd_init(struct vdev *d, const char *name, uint64_t wanted, unsigned nq)
{
    uint64_t offered;

    vd_reset(d);
    if (d->transport == VT_PCI && d->msix_cap) {
        vt_msix_enable(d, (uint8_t)(VT_VEC_MSIX + (d - vt()->devs)));
    }
    vd_set_status(d, VS_ACK);
    vd_set_status(d, VS_ACK | VS_DRIVER);
    offered = vd_get_features(d);
    vt_puts(name);
    vt_puts(": ");
    vt_puts(d->where);
    vt_puts(" features 0x");
    vt_puthex(offered, 16);
    vt_puts("\n");
    if (!(offered & (1ULL << VIRTIO_F_VERSION_1))) {
        vt_fail(name, d->where, "device does not offer VIRTIO_F_VERSION_1");
        vd_set_status(d, VS_FAILED);
        return false;
    }
    d->features = (offered & wanted) | (1ULL << VIRTIO_F_VERSION_1);
    vd_set_features(d, d->features);
    vd_set_status(d, VS_ACK | VS_DRIVER | VS_FEATURES_OK);
    if (!(vd_get_status(d) & VS_FEATURES_OK)) {
        vt_fail(name, d->where,
                "device refused the features (FEATURES_OK clear)");
        vd_set_status(d, VS_FAILED);
        return false;
    }
    for (unsigned i = 0; i < nq; i++) {
        if (!vq_setup(d, &d->vqs[i], i)) {
            vt_fail(name, d->where, "a virtqueue is missing or did not enable");
            vd_set_status(d, VS_FAILED);
            return false;
        }
    }
    vd_set_status(d, VS_ACK | VS_DRIVER | VS_FEATURES_OK | VS_DRIVER_OK);
    if (vd_get_status(d) & VS_NEEDS_RESET) {
        vt_fail(name, d->where, "DEVICE_NEEDS_RESET right after DRIVER_OK");
        return false;
    }
    return true;
}

bool vq_submit(struct vdev *d, struct vq *vq, unsigned head,
               const struct vbuf *bufs, unsigned n)
{
    if (!vq->ready || n == 0 || head + n > vq->size) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        struct vring_desc *desc = &vq->desc[head + i];

        desc->addr = (uintptr_t)bufs[i].addr;
        desc->len = bufs[i].len;
        desc->flags = (uint16_t)((bufs[i].write ? VRING_DESC_F_WRITE : 0) |
                                 (i + 1 < n ? VRING_DESC_F_NEXT : 0));
        desc->next = (uint16_t)(i + 1 < n ? head + i + 1 : 0);
    }
    vq->avail->ring[vq->avail_idx % vq->size] = (uint16_t)head;
    /* descriptors and ring entry before the index (2.7.13) */
    barrier();
    vq->avail_idx++;
    *(volatile uint16_t *)&vq->avail->idx = vq->avail_idx;
    mb();
    vd_notify(d, vq);
    return true;
}

bool vq_wait(struct vq *vq, uint64_t timeout, uint32_t *len)
{
    uint64_t start = vt_rdtsc();

    while (*(volatile uint16_t *)&vq->used->idx == vq->last_used) {
        if (vt_rdtsc() - start > timeout) {
            return false;
        }
        __asm__ volatile("pause");
    }
    barrier();
    if (len) {
        *len = vq->used->ring[vq->last_used % vq->size].len;
    }
    vq->last_used++;
    return true;
}

bool vq_xfer(struct vdev *d, struct vq *vq, const struct vbuf *bufs, unsigned n,
             uint32_t *len)
{
    return vq_submit(d, vq, 0, bufs, n) && vq_wait(vq, VT_TSC_SHORT, len);
}
