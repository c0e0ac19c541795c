/* SPDX-License-Identifier: MIT */
/*
 * virtio-model.h: how a virtio device model (blk, net, rng, console,
 * balloon) meets a transport.  A model is transport-independent: it owns
 * a struct virtio_dev and its backends.  Each transport (virtio-mmio.h,
 * virtio-pci.h) has one generic "proxy" device and a macro that declares
 * the QEMU-named class of a (transport, model) pair, e.g.
 *
 *   VIRTIO_MMIO_DEVICE(virtio_blk_device, "virtio-blk-device", "...",
 *                      struct virtio_blk, virtio_blk_model, VIRTIO_BLK_PROPS);
 *   VIRTIO_PCI_DEVICE(virtio_blk_pci, "virtio-blk-pci", "...",
 *                     struct virtio_blk, virtio_blk_model, VIRTIO_BLK_PROPS);
 *
 * which defines `const struct device_class virtio_blk_device_class` (add
 * it to hw/core/device-list.c).  The pair's struct is the proxy first (so
 * it is a struct device / struct pci_device), then the model; the class's
 * class_data is a struct virtio_binding saying where the model lives.
 * PROPS(base) expands to the model's property entries with `base` added to
 * each offset (offsets relative to the model struct), so one list serves
 * every transport and standalone users (PROPS(0)).
 *
 * Migration: the pair's state is the transport's registers, the core's
 * (virtio_core_vmsd: status, features, queues) and the model's own
 * (virtio_model_class.vmsd), in one section named as the pair.  Before it
 * is saved the model completes what it has in flight (drain): the stream
 * never carries a half-done request.  A transport's pair description is
 *   fields: the transport's registers, its struct virtio_dev
 *           (VMS_STRUCT_PTR to &virtio_core_vmsd), then the model
 *           (VMS_STRUCT_REF to &MCLASS.vmsd), whose post_load so sees
 *           the loaded features;
 *   pre_save: virtio_model_pre_save;
 *   post_load: its own checks first, then virtio_model_post_load (last:
 *           nothing may refuse after it), then its interrupt levels.
 *
 * Lock model: every entry into the model (transport register accesses,
 * kicks, backend completions) runs under the transport device's lock,
 * dev->lock, which the model keeps a pointer to for its own backend
 * callbacks.
 */
#ifndef HW_VIRTIO_VIRTIO_MODEL_H
#define HW_VIRTIO_VIRTIO_MODEL_H

#include "util/common.h"
#include "util/error.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio.h"

struct machine;

struct virtio_model_class {
    const char *name;   /* "virtio-blk": messages */
    uint16_t device_id; /* VIRTIO_ID_* (virtio 1.2 section 5) */
    /* PCI class code of the virtio-pci function (base << 16 | sub << 8):
     * virtio-blk 0x010000 (SCSI storage), net 0x020000, others
     * 0x00ff00, as QEMU reports them */
    uint32_t pci_class;
    /* Checks the properties, opens the backends and sets up the virtio
     * device (virtio_init).  `dev` is the transport device: its id, its
     * machine, its lock (dev->lock, for backend callbacks).  Returns the
     * model's virtio_dev, or NULL with errp set (nothing left to undo). */
    struct virtio_dev *(*realize)(void *model, struct device *dev,
                                  struct machine *m, Error **errp);
    /* The transport is bound (interrupts work): start watching backends
     * on ctx (the main loop's or an I/O thread's; NULL in unit tests). */
    void (*start)(void *model, GMainContext *ctx);
    /* Stops the backends and frees what realize made (after a successful
     * realize only). */
    void (*unrealize)(void *model);
    /* Optional: device reset beyond the core's (virtio_reset calls
     * ops->reset already); e.g. forget a balloon target. */
    void (*reset)(void *model);

    /* The model's state is not (fully) described yet: migrate and
     * snapshots refuse a machine with this device, QEMU's blocker text. */
    bool unmigratable;
    /* ---- migration (see "Migration" above) ---- */
    /* Optional: the model's own state beyond the core's and its config
     * (which it rebuilds from its properties and backend); NULL: none.
     * The description is of the model struct.  Its post_load checks and
     * may read the loaded core state (features); the rings are not usable
     * yet, and it must not change anything outside the description. */
    const struct vmstate_desc *vmsd;
    /* Optional, but required of a model that keeps requests popped
     * (virtq_pop) across returns to the main loop: complete every one of
     * them into the used rings now (the vCPUs are stopped, the device
     * lock is held).  The core then refuses to save a queue with a request
     * still in flight. */
    void (*drain)(void *model);
    /* Optional: a state was loaded and the rings are usable again:
     * re-derive what the model keeps outside its description (e.g. a
     * header size from the features), restart backends. */
    void (*loaded)(void *model);
    /* Optional run-time QOM properties of the pair (balloon's
     * guest-stats); reached through virtio_model_qom_ops, which every
     * pair's class sets (the device is the pair, virtio_model_of() gives
     * the model). */
    const struct device_qom_ops *qom;
    /* Optional: the machine entered or left the running state (see
     * device_class.run_state, hw/core/device.h), under the device lock:
     * while not running the model writes nothing into guest RAM from its
     * backends or timers, and delivers what waited when it runs again. */
    void (*run_state)(void *model, bool running);
};

/* A pair's device_class.migration_blocked: the model's `unmigratable`. */
bool virtio_model_migration_blocked(const struct device *dev);

/* A pair's device_class.run_state: forwards to its model's. */
void virtio_model_run_state(struct device *dev, bool running);

/* A pair's device_class.qom: forwards to its model class's qom. */
extern const struct device_qom_ops virtio_model_qom_ops;

/* A pair's class_data. */
struct virtio_binding {
    const struct virtio_model_class *model;
    size_t model_offset; /* of the model in the pair's struct */
};

static inline const struct virtio_binding *
virtio_binding_of(const struct device *dev)
{
    return (const struct virtio_binding *)dev->cls->class_data;
}

static inline void *virtio_model_of(struct device *dev)
{
    return (char *)dev + virtio_binding_of(dev)->model_offset;
}

/* A pair's device reset: the core's (queues, status, features) and the
 * model's own; the transport then resets its registers. */
static inline void virtio_model_reset(struct device *dev,
                                      struct virtio_dev *vdev)
{
    const struct virtio_model_class *mc = virtio_binding_of(dev)->model;

    virtio_reset(vdev);
    if (mc->reset) {
        mc->reset(virtio_model_of(dev));
    }
}
/* A pair's pre_save: the model drains (see virtio_model_class.drain). */
bool virtio_model_pre_save(struct device *dev, Error **errp);
/* A pair's post_load, after every check: the core's rings re-derived
 * (virtio_load_finish), then the model's loaded hook. */
void virtio_model_post_load(struct device *dev, struct virtio_dev *vdev);

#endif
