/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio.h: the virtio-mmio transport, version 2 (virtio 1.2 section
 * 4.2): a 512-byte register window per device, a level interrupt line up
 * while InterruptStatus is not 0, and QueueNotify as an ioeventfd doorbell
 * whose kicks the main loop hands to the core.  Legacy (version 1) is not
 * offered: Linux 4.x+ drivers all speak version 2.
 */
#ifndef HW_VIRTIO_VIRTIO_MMIO_H
#define HW_VIRTIO_VIRTIO_MMIO_H

#include "util/common.h"
#include "util/error.h"
#include "hw/virtio/virtio-model.h"
#include "hw/virtio/virtio.h"
#include "migration/vmstate.h"

struct device;
struct address_space;
struct irq_line;
struct io_ops;
struct vlog;

#define VIRTIO_MMIO_SIZE 0x200
#define VIRTIO_MMIO_MAGIC 0x74726976  /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x554d4551 /* "QEMU", as QEMU reports */

/* Register offsets (spec 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

struct virtio_mmio {
    struct virtio_dev *vdev;
    const struct irq_line *irq; /* level: up while vdev->isr != 0 */
    struct vlog *log;
    uint32_t dev_features_sel, drv_features_sel, queue_sel;
    /* doorbells, one eventfd per queue (when mapped with a context) */
    struct address_space *as;
    uint64_t base;
    GMutex *lock; /* the device lock, taken around a kick */
    int *kick_fds;
    GSource **kick_src;
};

/* Binds t to vdev (sets vdev's transport); irq may be NULL (no line). */
void virtio_mmio_init(struct virtio_mmio *t, struct virtio_dev *vdev,
                      const struct irq_line *irq, struct vlog *log);
/* The register window: off < VIRTIO_MMIO_SIZE, size 1..8.  Control
 * registers take aligned 32-bit accesses only (spec 4.2.2.2); anything
 * else is a guest error (reads all ones, writes dropped). */
uint64_t virtio_mmio_read(struct virtio_mmio *t, uint64_t off, unsigned size);
void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, uint64_t val,
                       unsigned size);
/* Maps the window at base in as, owned by dev (dev's opaque must be
 * `struct virtio_mmio *` reachable through get()), and installs the
 * QueueNotify doorbells, whose kicks run on ctx under dev->lock. */
bool virtio_mmio_map(struct virtio_mmio *t, struct device *dev,
                     struct address_space *as, uint64_t base,
                     const struct io_ops *ops, GMainContext *ctx, Error **errp);
/* Removes the doorbells (the region goes with the device). */
void virtio_mmio_cleanup(struct virtio_mmio *t);
/* ---- the generic virtio-mmio device (hw/virtio/virtio-model.h) ---- */

/* QEMU's `-device virtio-X-device`: a window in the board's next
 * virtio-mmio slot (machine_type.virtio_mmio_slot, creation order, as
 * QEMU's microvm) with the slot's GSI as a level line. */
struct virtio_mmio_proxy {
    struct device dev; /* first */
    struct virtio_mmio t;
    struct virtio_dev *vdev; /* the model's, after realize */
    uint64_t base;
    unsigned gsi;
};

bool virtio_mmio_proxy_realize(struct device *dev, struct machine *m,
                               Error **errp);
/* Migration (virtio-model.h): the transport's registers and the core. */
extern const struct vmstate_desc virtio_mmio_proxy_vmsd;
/* The pair's pre_save and post_load (opaque: the pair, proxy first):
 * the model drains; after a load the rings are re-derived, the line is
 * set to the loaded ISR and every enabled queue is kicked once (a kick
 * the source had not handled yet is not in the stream). */
bool virtio_mmio_pair_pre_save(void *opaque, Error **errp);
bool virtio_mmio_pair_post_load(void *opaque, Error **errp);
void virtio_mmio_proxy_reset(struct device *dev);
void virtio_mmio_proxy_unrealize(struct device *dev);

/* Declares `const struct device_class CNAME_class`: model type MTYPE with
 * class MCLASS (struct virtio_model_class) and properties PROPS(base). */
#define VIRTIO_MMIO_DEVICE(cname, qname, description, mtype, mclass, PROPS)    \
    struct cname##_state {                                                     \
        struct virtio_mmio_proxy proxy;                                        \
        mtype model;                                                           \
    };                                                                         \
    static const struct virtio_binding cname##_binding = {                     \
        &(mclass), offsetof(struct cname##_state, model)};                     \
    static const struct prop cname##_props[] = {                               \
        PROPS(offsetof(struct cname##_state, model)), PROP_END};               \
    static const struct vmstate_field cname##_vmsd_fields[] = {                \
        VMS_STRUCT(struct cname##_state, proxy, &virtio_mmio_proxy_vmsd),      \
        VMS_STRUCT_REF(struct cname##_state, model, &(mclass).vmsd), VMS_END}; \
    static const struct vmstate_desc cname##_vmsd = {                          \
        .name = (qname),                                                       \
        .version = 1,                                                          \
        .fields = cname##_vmsd_fields,                                         \
        .pre_save = virtio_mmio_pair_pre_save,                                 \
        .post_load = virtio_mmio_pair_post_load,                               \
    };                                                                         \
    const struct device_class cname##_class = {                                \
        .name = (qname),                                                       \
        .desc = (description),                                                 \
        .size = sizeof(struct cname##_state),                                  \
        .props = cname##_props,                                                \
        .user_creatable = true,                                                \
        .realize = virtio_mmio_proxy_realize,                                  \
        .reset = virtio_mmio_proxy_reset,                                      \
        .unrealize = virtio_mmio_proxy_unrealize,                              \
        .vmsd = &cname##_vmsd,                                                 \
        .class_data = &cname##_binding,                                        \
        .qom = &virtio_model_qom_ops,                                          \
        .run_state = virtio_model_run_state,                                   \
        .migration_blocked = virtio_model_migration_blocked,                   \
    }

struct machine;
extern const struct device_class virtio_blk_device_class;
extern const struct device_class virtio_balloon_device_class;

/* The machine's virtio-mmio devices (any model) in creation order (their
 * slots): the first max windows and GSIs into base[] and gsi[]; returns
 * how many there are.  For the board's kernel command line and DSDT. */
unsigned virtio_mmio_devices(struct machine *m, uint64_t *base, unsigned *gsi,
                             unsigned max);

/* Transport reset: selectors back to 0, line lowered. */
void virtio_mmio_reset(struct virtio_mmio *t);

#endif
