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

struct virtio_blk {
    struct device dev; /* first: the transport classes' device */
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
    /* state */
    struct virtio_dev vdev;
    struct blk_backend *be;
    uint64_t capacity;    /* sectors */
    bool *notify_pending; /* per queue: used buffers since the last notify */
    bool draining;        /* reset: completions are dropped */
    GSource *io_source;
};

/* QEMU's -device virtio-blk-* properties, for the transport classes. */
extern const struct prop virtio_blk_props[];

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
