/* SPDX-License-Identifier: MIT */
/*
 * virtio-vmstate.c: the migration state of the virtio core (virtio 1.2
 * sections 2.1-2.8: status, features, ISR, config generation, and per
 * queue its size, addresses and ring indices).  A loaded state is hostile
 * input: every enabled ring is checked against guest RAM exactly as
 * enabling checks it (virtq_map_rings) and the indices against each
 * other, and a bad one is refused naming the queue.  Host pointers are
 * never carried: they are re-derived from the guest addresses.
 */
#include "util/common.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio-model.h"
#include "migration/vmstate.h"

#define KNOWN_STATUS                                                           \
    (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |                        \
     VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK |                     \
     VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)

static const struct vmstate_field virtq_fields[] = {
    VMS_U16(struct virtqueue, num),
    VMS_BOOL(struct virtqueue, ready),
    VMS_BOOL(struct virtqueue, packed),
    VMS_U64(struct virtqueue, desc_gpa),
    VMS_U64(struct virtqueue, avail_gpa),
    VMS_U64(struct virtqueue, used_gpa),
    VMS_BOOL(struct virtqueue, avail_wrap),
    VMS_BOOL(struct virtqueue, used_wrap),
    VMS_U16(struct virtqueue, last_avail_idx),
    VMS_U16(struct virtqueue, shadow_avail_idx),
    VMS_U16(struct virtqueue, used_idx),
    VMS_U16(struct virtqueue, signalled_used),
    VMS_U16(struct virtqueue, signalled_mark),
    VMS_BOOL(struct virtqueue, signalled_used_valid),
    VMS_BOOL(struct virtqueue, notification),
    VMS_U16(struct virtqueue, msix_vector),
    VMS_END,
};

static const struct vmstate_desc virtq_vmsd = {
    .name = "virtqueue",
    .version = 1,
    .fields = virtq_fields,
};

/* Reads avail->idx of a running split queue into shadow_avail_idx, so the
 * stream carries the index the saved ring had (the load cannot read RAM:
 * it arrives after the devices).  An index the driver moved by more than
 * the queue size breaks the device here, as virtq_pop would: the guest,
 * not the stream, made the ring invalid, and a broken device still
 * migrates. */
static void refresh_avail_idx(struct virtio_dev *vdev, struct virtqueue *vq)
{
    uint16_t idx;

    if (!vq->ready || vq->packed || vdev->broken) {
        return;
    }
    idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
    if ((uint16_t)(idx - vq->last_avail_idx) > vq->num) {
        virtio_error(vdev,
                     "queue %u: available index jumped from %u to %u "
                     "(more than the %u entries of the queue)",
                     vq->index, vq->last_avail_idx, idx, vq->num);
        return;
    }
    vq->shadow_avail_idx = idx;
}

static bool core_pre_save(void *opaque, Error **errp)
{
    struct virtio_dev *vdev = opaque;

    for (unsigned i = 0; i < vdev->num_queues; i++) {
        struct virtqueue *vq = &vdev->vqs[i];

        /* A popped request lives only in the host (its buffers are host
         * pointers, its progress in the backend): saving now would lose
         * it.  The model's drain completes them before this runs. */
        if (vq->inflight) {
            error_setg(errp,
                       "%s: queue %u has %u requests in flight (not "
                       "completed before the save)",
                       vdev->name, i, vq->inflight);
            return false;
        }
        refresh_avail_idx(vdev, vq);
    }
    vdev->saved_host_features = vdev->host_features;
    return true;
}

/* One loaded queue against the rings in guest RAM and its own indices. */
static bool check_queue(struct virtio_dev *vdev, struct virtqueue *vq,
                        Error **errp)
{
    struct virtq_rings r;
    uint16_t pending, used;

    if (!vq->ready) {
        if (vq->packed) {
            error_setg(errp, "queue %u: packed but not enabled", vq->index);
            return false;
        }
        return true; /* size and addresses are checked when enabled */
    }
    if (vq->packed != virtio_has_feature(vdev, VIRTIO_F_RING_PACKED)) {
        error_setg(errp,
                   "queue %u: %s ring, but VIRTIO_F_RING_PACKED is %s"
                   "negotiated",
                   vq->index, vq->packed ? "packed" : "split",
                   vq->packed ? "not " : "");
        return false;
    }
    if (!virtq_map_rings(vdev, vq, vq->packed, &r, errp)) {
        return false;
    }
    if (vdev->broken) {
        return true; /* indices unused until a reset zeroes them */
    }
    if (vq->packed) {
        if (vq->last_avail_idx >= vq->num || vq->used_idx >= vq->num) {
            error_setg(errp,
                       "queue %u: packed ring index (next available %u, "
                       "next used %u) beyond its %u slots",
                       vq->index, vq->last_avail_idx, vq->used_idx, vq->num);
            return false;
        }
        return true;
    }
    pending = (uint16_t)(vq->shadow_avail_idx - vq->last_avail_idx);
    used = (uint16_t)(vq->last_avail_idx - vq->used_idx);
    if (pending > vq->num || used > vq->num) {
        error_setg(errp,
                   "queue %u: inconsistent indices (available %u, next "
                   "available %u, used %u) for a queue of %u",
                   vq->index, vq->shadow_avail_idx, vq->last_avail_idx,
                   vq->used_idx, vq->num);
        return false;
    }
    return true;
}

static bool check_core(struct virtio_dev *vdev, Error **errp)
{
    uint8_t st = vdev->status;

    if (st & ~KNOWN_STATUS) {
        error_setg(errp, "device status 0x%02x has unknown bits", st);
        return false;
    }
    if ((st & VIRTIO_STATUS_DRIVER_OK) && !(st & VIRTIO_STATUS_FEATURES_OK)) {
        error_setg(errp, "device status 0x%02x: DRIVER_OK without FEATURES_OK",
                   st);
        return false;
    }
    /* virtio_error sets both, only a reset clears them */
    if (vdev->broken != !!(st & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
        error_setg(errp, "device status 0x%02x does not match broken=%d", st,
                   vdev->broken);
        return false;
    }
    if (vdev->isr & ~3u) {
        error_setg(errp, "ISR 0x%02x has unknown bits", vdev->isr);
        return false;
    }
    if (st & VIRTIO_STATUS_FEATURES_OK) {
        uint64_t f = vdev->guest_features;

        if (f & ~vdev->host_features) {
            error_setg(errp,
                       "the driver accepted features 0x%016" PRIx64
                       " this device does not offer (it offers 0x%016" PRIx64
                       "; check its properties)",
                       f & ~vdev->host_features, vdev->host_features);
            return false;
        }
        if (f & ~vdev->saved_host_features) {
            error_setg(errp,
                       "the driver accepted features 0x%016" PRIx64
                       " the saved device did not offer",
                       f & ~vdev->saved_host_features);
            return false;
        }
        if (!(f & (1ULL << VIRTIO_F_VERSION_1))) {
            error_setg(errp, "features 0x%016" PRIx64 " lack VERSION_1", f);
            return false;
        }
    }
    return true;
}

/* Checks only: the transport's post_load, which runs last, applies
 * (virtio_load_finish), so a refusal by anything loaded after this
 * (the model's state, the transport's) leaves the rings as they were. */
static bool core_post_load(void *opaque, Error **errp)
{
    struct virtio_dev *vdev = opaque;
    Error *err = NULL;

    if (!check_core(vdev, &err)) {
        goto fail;
    }
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        if (!check_queue(vdev, &vdev->vqs[i], &err)) {
            goto fail;
        }
    }
    return true;
fail:
    error_prepend(&err, "%s: ", vdev->name);
    error_propagate(errp, err);
    return false;
}

static const struct vmstate_field core_fields[] = {
    VMS_U8(struct virtio_dev, status),
    VMS_U64(struct virtio_dev, saved_host_features),
    VMS_U64(struct virtio_dev, guest_features),
    VMS_U8(struct virtio_dev, isr),
    VMS_U32(struct virtio_dev, config_generation),
    VMS_BOOL(struct virtio_dev, broken),
    VMS_VARRAY(struct virtio_dev, vqs, num_queues, &virtq_vmsd),
    VMS_END,
};

const struct vmstate_desc virtio_core_vmsd = {
    .name = "virtio",
    .version = 1,
    .fields = core_fields,
    .pre_save = core_pre_save,
    .post_load = core_post_load,
};

void virtio_load_finish(struct virtio_dev *vdev)
{
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        struct virtqueue *vq = &vdev->vqs[i];
        struct virtq_rings r = {0};

        /* cannot fail: core_post_load mapped the same rings */
        if (vq->ready && !virtq_map_rings(vdev, vq, vq->packed, &r, NULL)) {
            vq->ready = false;
        }
        virtq_set_rings(vq, &r);
        vq->inflight = 0;
    }
}

bool virtio_model_pre_save(struct device *dev, Error **errp)
{
    const struct virtio_model_class *mc = virtio_binding_of(dev)->model;

    /* Complete rather than re-queue: a popped request may already have
     * reached the image (a write) or guest memory (a read), and the
     * driver may have seen later ones complete (completions are out of
     * order), so "not started" cannot be told from "half done" and
     * rewinding last_avail_idx would redo or lose work.  Completing it
     * here, with the vCPUs stopped and before RAM is sent, puts its
     * result in the used ring and its data in RAM: the destination sees
     * a finished request, as after any interrupt the guest has not
     * handled yet. */
    if (mc->drain) {
        mc->drain(virtio_model_of(dev));
    }
    (void)errp;
    return true;
}

void virtio_model_post_load(struct device *dev, struct virtio_dev *vdev)
{
    const struct virtio_model_class *mc = virtio_binding_of(dev)->model;

    virtio_load_finish(vdev);
    if (mc->loaded) {
        mc->loaded(virtio_model_of(dev));
    }
}
