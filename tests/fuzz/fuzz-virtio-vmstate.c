/* SPDX-License-Identifier: MIT */
/*
 * fuzz-virtio-vmstate.c: libFuzzer target for loading the virtio core's
 * migration state (hw/virtio/virtio-vmstate.c, virtio 1.2 sections 2-3)
 * into a device whose queue 0 is in use: the input is the stream.  A
 * refused load must leave the device byte-for-byte as it was (rings
 * included); an accepted one must give ring views inside guest RAM that
 * the virtqueue walker then uses without leaving RAM or spinning.
 */
#include "util/common.h"
#include "fuzz-vring.h"
#include "migration/vmstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    struct virtq_elem *e;

    while ((e = virtq_pop(vq, sizeof(*e)))) {
        fvr_check_iov(vdev->gm, e->out_sg, e->out_num);
        fvr_check_iov(vdev->gm, e->in_sg, e->in_num);
        virtq_push(vq, e, (uint32_t)e->in_len);
    }
    virtq_notify(vq);
}

static void fz_config(struct virtio_dev *vdev, uint8_t *c)
{
    c[0] = 1;
}

static const struct virtio_device_ops fz_ops = {
    .device_id = 0x7f,
    .config_size = 1,
    .get_config = fz_config,
    .queue_notify = fz_notify,
};

/* Every host view lies in guest RAM, whole. */
static void check_views(struct fvr *f, struct virtio_dev *vdev)
{
    const uint8_t *lo = f->gm->ram, *hi = f->gm->ram + FVR_RAM;

    for (unsigned i = 0; i < vdev->num_queues; i++) {
        struct virtqueue *vq = &vdev->vqs[i];
        const uint8_t *p[] = {
            (const uint8_t *)vq->desc, (const uint8_t *)vq->avail,
            (const uint8_t *)vq->used, (const uint8_t *)vq->pdesc};
        size_t len[] = {16u * vq->num, 6 + 2u * vq->num, 6 + 8u * vq->num,
                        16u * vq->num};

        for (unsigned k = 0; k < ARRAY_SIZE(p); k++) {
            if (p[k] && (!vq->ready || p[k] < lo || len[k] > FVR_RAM ||
                         p[k] + len[k] > hi)) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fvr f;
    struct virtio_dev vdev;
    GByteArray *before = g_byte_array_new(), *after = g_byte_array_new();
    struct virtq_rings views;
    size_t pos = 0;

    memset(&f, 0, sizeof(f));
    fvr_setup(&f);
    virtio_init(&vdev, "fuzz", &fz_ops, f.gm, &f.log,
                (1ULL << VIRTIO_F_INDIRECT_DESC) |
                    (1ULL << VIRTIO_F_EVENT_IDX) |
                    (1ULL << VIRTIO_F_RING_PACKED),
                2, 16);
    f.vdev = &vdev;
    fvr_start(&f, 8,
              (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX));
    if (!vmstate_save(&virtio_core_vmsd, &vdev, before, NULL)) {
        abort();
    }
    views = (struct virtq_rings){vdev.vqs[0].desc, vdev.vqs[0].avail,
                                 vdev.vqs[0].used};
    if (vmstate_load(&virtio_core_vmsd, &vdev, data, size, &pos, NULL)) {
        virtio_load_finish(&vdev);
        check_views(&f, &vdev);
        for (unsigned i = 0; i < vdev.num_queues; i++) {
            virtio_queue_notify(&vdev, i);
            check_views(&f, &vdev);
        }
    } else {
        /* refused: nothing changed, the ring views neither */
        if (!vmstate_save(&virtio_core_vmsd, &vdev, after, NULL) ||
            after->len != before->len ||
            memcmp(after->data, before->data, after->len) ||
            vdev.vqs[0].desc != views.desc ||
            vdev.vqs[0].avail != views.avail ||
            vdev.vqs[0].used != views.used) {
            abort();
        }
    }
    g_byte_array_unref(before);
    g_byte_array_unref(after);
    virtio_cleanup(&vdev);
    vlog_close(&f.log);
    gm_free(f.gm);
    return 0;
}
