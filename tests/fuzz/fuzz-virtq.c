/* SPDX-License-Identifier: MIT */
/*
 * fuzz-virtq.c: libFuzzer target for the split virtqueue walker of the
 * virtio core (hw/virtio/virtio.c), driven by the hostile driver of
 * fuzz-vring.h.  The device consumes every chain at once; each buffer it
 * is handed must lie inside guest RAM with the direction the descriptor
 * gave, and the walk must end (the standalone driver's time limit and
 * libFuzzer's -timeout catch a spin).
 */
#include "util/common.h"
#include "fuzz-vring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    struct virtq_elem *e;

    while ((e = virtq_pop(vq, sizeof(*e)))) {
        fvr_check_iov(vdev->gm, e->out_sg, e->out_num);
        fvr_check_iov(vdev->gm, e->in_sg, e->in_num);
        for (unsigned i = 0; i < e->in_num; i++) {
            memset(e->in_sg[i].iov_base, 0x5a, e->in_sg[i].iov_len);
        }
        /* drop a chain now and then, as a device reset does */
        if (vq->inflight < 2 && (e->head & 1)) {
            virtq_discard(vq, e);
            continue;
        }
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fvr f;
    struct virtio_dev vdev;

    memset(&f, 0, sizeof(f));
    fvr_setup(&f);
    virtio_init(&vdev, "fuzz", &fz_ops, f.gm, &f.log,
                (1ULL << VIRTIO_F_INDIRECT_DESC) |
                    (1ULL << VIRTIO_F_EVENT_IDX) |
                    (1ULL << VIRTIO_F_RING_PACKED),
                1, 16);
    f.vdev = &vdev;
    fvr_run(&f, data, size);
    virtio_cleanup(&vdev);
    vlog_close(&f.log);
    gm_free(f.gm);
    return 0;
}
