/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk.h: the virtio block device model (virtio 1.2 section 5.2),
 * transport-independent: virtio-blk-pci and virtio-blk-device bind it to a
 * transport.  Requests IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES go
 * to a struct blk_backend; completions come back on the thread that polls
 * the backend's event fd (main loop or I/O thread), with the device lock
 * held like every other entry into the virtio core.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_H
#define HW_BLOCK_VIRTIO_BLK_H

#include "util/common.h"
#include "util/error.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-model.h"
#include "hw/virtio/virtio.h"

struct blk_backend;

#define VIRTIO_ID_BLOCK 2

/* Feature bits (spec 5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (spec 5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_F_UNMAP 1
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_SECTOR 512

/* struct virtio_blk_config up to write_zeroes_may_unmap and padding. */
#define VIRTIO_BLK_CONFIG_SIZE 60

struct drive;

struct virtio_blk {
    GMutex *lock;           /* the transport device's lock (NULL: standalone) */
    struct drive *attached; /* the -drive it uses (through the table) */
    /* properties (QEMU's names) */
    char *drive;
    uint32_t num_queues;
    uint32_t queue_size;
    char *serial;
    bool discard;
    bool write_zeroes;
    uint32_t max_discard_sectors;
    uint32_t max_write_zeroes_sectors;
    bool packed;
    /* accepted as QEMU's (libvirt sets it on a domain's disk); vireo has
     * no firmware boot menu: -kernel/-bios decide what boots */
    int32_t bootindex;
    /* state */
    struct virtio_dev vdev;
    struct blk_backend *be;
    uint64_t capacity;    /* sectors */
    bool *notify_pending; /* per queue: used buffers since the last notify */
    bool draining;        /* reset: completions are dropped */
    GSource *io_source;
};

/* QEMU's -device virtio-blk-* properties, offsets plus `base` (see
 * hw/virtio/virtio-model.h). */
#define VIRTIO_BLK_PROPS(base)                                                 \
    {"drive", PROP_STR, (base) + offsetof(struct virtio_blk, drive), NULL,     \
     "node name or drive id of the backend"},                                  \
        {"num-queues", PROP_U32,                                               \
         (base) + offsetof(struct virtio_blk, num_queues), "1",                \
         "number of request queues"},                                          \
        {"queue-size", PROP_U32,                                               \
         (base) + offsetof(struct virtio_blk, queue_size), "256",              \
         "entries per queue (a power of 2, 4..1024)"},                         \
        {"serial", PROP_STR, (base) + offsetof(struct virtio_blk, serial),     \
         NULL, "disk serial number (GET_ID, at most 20 bytes)"},               \
        {"discard", PROP_BOOL, (base) + offsetof(struct virtio_blk, discard),  \
         "on", "offer VIRTIO_BLK_F_DISCARD"},                                  \
        {"write-zeroes", PROP_BOOL,                                            \
         (base) + offsetof(struct virtio_blk, write_zeroes), "on",             \
         "offer VIRTIO_BLK_F_WRITE_ZEROES"},                                   \
        {"max-discard-sectors", PROP_U32,                                      \
         (base) + offsetof(struct virtio_blk, max_discard_sectors), "4194303", \
         "most sectors in one discard"},                                       \
        {"max-write-zeroes-sectors", PROP_U32,                                 \
         (base) + offsetof(struct virtio_blk, max_write_zeroes_sectors),       \
         "4194303", "most sectors in one write-zeroes"},                       \
        {"packed", PROP_BOOL, (base) + offsetof(struct virtio_blk, packed),    \
         "off", "offer packed virtqueues (VIRTIO_F_RING_PACKED)"},             \
    {                                                                          \
        "bootindex", PROP_I32,                                                 \
            (base) + offsetof(struct virtio_blk, bootindex), "-1",             \
            "boot order (accepted; no effect: vireo has no boot menu)"         \
    }

/* The same list, standalone (tests). */
extern const struct prop virtio_blk_props[];
/* The model both transports bind (hw/virtio/virtio-model.h). */
extern const struct virtio_model_class virtio_blk_model;

/* Sets the property defaults (for users other than the device table). */
void virtio_blk_set_defaults(struct virtio_blk *s);
/* Checks the properties and sets up the device on backend `be` (not
 * owned).  The caller then binds a transport (virtio_set_transport). */
bool virtio_blk_setup(struct virtio_blk *s, struct blk_backend *be,
                      struct guest_mem *gm, struct vlog *log, Error **errp);
/* Drains the backend (callbacks dropped) and frees the device state. */
void virtio_blk_teardown(struct virtio_blk *s);
/* Delivers finished I/O to the rings and interrupts: call when the
 * backend's event fd is readable, with the device lock held. */
void virtio_blk_complete_io(struct virtio_blk *s);
/* Watches the backend's event fd on ctx (lock: the device lock). */
void virtio_blk_attach(struct virtio_blk *s, GMainContext *ctx);

#endif
