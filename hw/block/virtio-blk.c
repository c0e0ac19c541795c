/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk.c: the virtio block device (virtio 1.2 section 5.2) over the
 * virtio core and a block backend; see virtio-blk.h.  The request parser
 * treats every request as hostile: a request without its 16-byte header
 * or status byte breaks the device (the driver violated the spec, 5.2.6.1);
 * a request that is well formed but asks for the impossible (past the
 * capacity, not whole sectors, a write to a read-only image) completes
 * with VIRTIO_BLK_S_IOERR, an unknown one with VIRTIO_BLK_S_UNSUPP, as
 * QEMU's virtio-blk does.
 */
#include "util/common.h"
#include "hw/block/virtio-blk.h"
#include "hw/block/block-backend.h"
#include "hw/block/drive.h"
#include "system/machine.h"
#include "util/bytes.h"

#include <glib-unix.h>

/* QEMU's defaults (hw/block/virtio-blk.c, include/block/block_int.h). */
#define VBLK_DEFAULT_QUEUE_SIZE 256
#define VBLK_MAX_REQUEST_SECTORS ((uint32_t)(INT32_MAX >> 9)) /* 4194303 */
#define VBLK_MAX_QUEUES 1024

struct vblk_req {
    struct virtq_elem elem; /* first: virtq_pop allocates the request */
    struct virtio_blk *s;
    struct blk_request io;
    uint8_t *status;             /* the last writable byte, in guest RAM */
    uint32_t in_data;            /* bytes the device writes before the status */
    struct blk_acct_cookie acct; /* query-blockstats */
};

const struct prop virtio_blk_props[] = {VIRTIO_BLK_PROPS(0), PROP_END};

void virtio_blk_set_defaults(struct virtio_blk *s)
{
    s->num_queues = 1;
    s->queue_size = VBLK_DEFAULT_QUEUE_SIZE;
    s->discard = true;
    s->write_zeroes = true;
    s->max_discard_sectors = VBLK_MAX_REQUEST_SECTORS;
    s->max_write_zeroes_sectors = VBLK_MAX_REQUEST_SECTORS;
    s->bootindex = -1;
}

static struct virtio_blk *to_blk(struct virtio_dev *vdev)
{
    return (struct virtio_blk *)((char *)vdev -
                                 offsetof(struct virtio_blk, vdev));
}

/* ---- config space --------------------------------------------------- */

static void vblk_get_config(struct virtio_dev *vdev, uint8_t *c)
{
    struct virtio_blk *s = to_blk(vdev);

    memset(c, 0, VIRTIO_BLK_CONFIG_SIZE);
    le_store(c + 0, s->capacity, 8);
    le_store(c + 12, s->queue_size - 2, 4); /* seg_max: QEMU's */
    le_store(c + 20, VIRTIO_BLK_SECTOR, 4); /* blk_size */
    le_store(c + 28, 0, 4);                 /* topology: opt_io_size */
    le_store(c + 26, 1, 2);                 /* min_io_size, in blocks */
    c[32] = blk_cache_mode(s->be) != BLK_CACHE_UNSAFE; /* writeback */
    le_store(c + 34, s->num_queues, 2);
    le_store(c + 36, s->max_discard_sectors, 4);
    le_store(c + 40, 1, 4); /* max_discard_seg */
    le_store(c + 44, 1, 4); /* discard_sector_alignment, in sectors */
    le_store(c + 48, s->max_write_zeroes_sectors, 4);
    le_store(c + 52, 1, 4); /* max_write_zeroes_seg */
    c[56] = 1;              /* write_zeroes_may_unmap */
}

/* ---- requests ------------------------------------------------------- */

static void finish(struct vblk_req *r, uint8_t status)
{
    struct virtio_blk *s = r->s;
    struct virtqueue *vq = r->elem.vq;

    if (s->draining) {
        virtq_discard(vq, &r->elem);
        return;
    }
    /* single byte store: the buffer was checked writable when popped */
    __atomic_store_n(r->status, status, __ATOMIC_RELAXED);
    virtq_push(vq, &r->elem, (status == VIRTIO_BLK_S_OK ? r->in_data : 0) + 1);
    s->notify_pending[vq->index] = true;
}

static void io_done(struct blk_request *io, int ret)
{
    struct vblk_req *r =
        (struct vblk_req *)((char *)io - offsetof(struct vblk_req, io));

    /* The guest sees the error in the status byte (QEMU's rerror/werror
     * "report"); a BLOCK_IO_ERROR QMP event is for the QMP layer. */
    blk_acct_done(r->s->be, &r->acct, ret);
    if (ret == 0 && r->acct.type == BLK_ACCT_WRITE) {
        blk_acct_write_end(r->s->be, io->offset + r->acct.bytes);
    }
    finish(r, ret == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
}

/* Drops the first `n` bytes of an iovec list in place. */
static void iov_drop_front(struct iovec **iov, unsigned *num, uint64_t n)
{
    while (n && *num) {
        if ((*iov)->iov_len > n) {
            (*iov)->iov_base = (char *)(*iov)->iov_base + n;
            (*iov)->iov_len -= n;
            return;
        }
        n -= (*iov)->iov_len;
        (*iov)++;
        (*num)--;
    }
}

static bool range_ok(struct virtio_blk *s, uint64_t sector, uint64_t bytes)
{
    uint64_t n = bytes / VIRTIO_BLK_SECTOR;

    return bytes % VIRTIO_BLK_SECTOR == 0 && sector <= s->capacity &&
           n <= s->capacity - sector;
}

/* Accounted as QEMU's virtio-blk does: write-zeroes is a write of its
 * length, discard an unmap. */
static void submit(struct vblk_req *r, enum blk_op op, uint64_t sector)
{
    static const enum blk_acct_type acct[] = {
        [BLK_OP_READ] = BLK_ACCT_READ,
        [BLK_OP_WRITE] = BLK_ACCT_WRITE,
        [BLK_OP_FLUSH] = BLK_ACCT_FLUSH,
        [BLK_OP_DISCARD] = BLK_ACCT_UNMAP,
        [BLK_OP_WRITE_ZEROES] = BLK_ACCT_WRITE,
    };
    uint64_t bytes = op == BLK_OP_READ    ? r->elem.in_len
                     : op == BLK_OP_WRITE ? r->elem.out_len
                     : op == BLK_OP_FLUSH ? 0
                                          : r->io.len;

    r->io.op = op;
    r->io.offset = sector * VIRTIO_BLK_SECTOR;
    r->io.cb = io_done;
    blk_acct_start(&r->acct, acct[op], bytes);
    blk_submit(r->s->be, &r->io);
}

/* A write to a read-only image: QEMU's block layer fails it (EPERM), so
 * it counts as a failed request, not an invalid one. */
static void refuse_readonly(struct vblk_req *r, enum blk_acct_type type,
                            uint64_t bytes)
{
    blk_acct_start(&r->acct, type, bytes);
    blk_acct_done(r->s->be, &r->acct, -EPERM);
    finish(r, VIRTIO_BLK_S_IOERR);
}

static void discard_or_zeroes(struct virtio_blk *s, struct vblk_req *r,
                              bool zeroes)
{
    struct virtq_elem *e = &r->elem;
    uint8_t seg[16];
    uint64_t sector;
    uint32_t nsec, flags;

    if (!virtio_has_feature(&s->vdev, zeroes ? VIRTIO_BLK_F_WRITE_ZEROES
                                             : VIRTIO_BLK_F_DISCARD)) {
        finish(r, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    if (e->out_len != sizeof(seg)) {
        /* one segment (max_*_seg = 1); none or a partial one is an error */
        finish(r, e->out_len > sizeof(seg) && e->out_len % sizeof(seg) == 0
                      ? VIRTIO_BLK_S_UNSUPP
                      : VIRTIO_BLK_S_IOERR);
        return;
    }
    iov_to_buf(e->out_sg, e->out_num, 0, seg, sizeof(seg));
    sector = le_load(seg, 8);
    nsec = (uint32_t)le_load(seg + 8, 4);
    flags = (uint32_t)le_load(seg + 12, 4);
    if ((flags & ~VIRTIO_BLK_WZ_F_UNMAP) ||
        (!zeroes && (flags & VIRTIO_BLK_WZ_F_UNMAP))) {
        finish(r, VIRTIO_BLK_S_UNSUPP);
        return;
    }
    if (nsec >
            (zeroes ? s->max_write_zeroes_sectors : s->max_discard_sectors) ||
        !range_ok(s, sector, (uint64_t)nsec * VIRTIO_BLK_SECTOR)) {
        blk_acct_invalid(s->be, zeroes ? BLK_ACCT_WRITE : BLK_ACCT_UNMAP);
        finish(r, VIRTIO_BLK_S_IOERR);
        return;
    }
    if (blk_is_readonly(s->be)) {
        refuse_readonly(r, zeroes ? BLK_ACCT_WRITE : BLK_ACCT_UNMAP,
                        (uint64_t)nsec * VIRTIO_BLK_SECTOR);
        return;
    }
    if (nsec == 0) {
        finish(r, VIRTIO_BLK_S_OK);
        return;
    }
    r->io.len = (uint64_t)nsec * VIRTIO_BLK_SECTOR;
    r->io.may_unmap = flags & VIRTIO_BLK_WZ_F_UNMAP;
    submit(r, zeroes ? BLK_OP_WRITE_ZEROES : BLK_OP_DISCARD, sector);
}

static void handle_request(struct virtio_blk *s, struct vblk_req *r)
{
    struct virtq_elem *e = &r->elem;
    struct iovec *last;
    uint8_t hdr[16];
    uint32_t type;
    uint64_t sector;

    r->s = s;
    if (e->out_len < sizeof(hdr) || e->in_len < 1) {
        virtio_error(&s->vdev,
                     "queue %u: request at head %u lacks its %s "
                     "(%" PRIu64 " readable, %" PRIu64 " writable bytes)",
                     e->vq->index, e->head,
                     e->in_len < 1 ? "status byte" : "16-byte header",
                     e->out_len, e->in_len);
        virtq_discard(e->vq, e);
        return;
    }
    iov_to_buf(e->out_sg, e->out_num, 0, hdr, sizeof(hdr));
    iov_drop_front(&e->out_sg, &e->out_num, sizeof(hdr));
    e->out_len -= sizeof(hdr);
    /* the status byte is the last writable byte */
    last = &e->in_sg[e->in_num - 1];
    r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    if (--last->iov_len == 0) {
        e->in_num--;
    }
    e->in_len--;
    type = (uint32_t)le_load(hdr, 4);
    sector = le_load(hdr + 8, 8);

    switch (type) {
    case VIRTIO_BLK_T_IN:
        if (!range_ok(s, sector, e->in_len)) {
            blk_acct_invalid(s->be, BLK_ACCT_READ);
            finish(r, VIRTIO_BLK_S_IOERR);
            return;
        }
        r->in_data = (uint32_t)e->in_len;
        r->io.iov = e->in_sg;
        r->io.niov = e->in_num;
        submit(r, BLK_OP_READ, sector);
        return;
    case VIRTIO_BLK_T_OUT:
        if (!range_ok(s, sector, e->out_len)) {
            blk_acct_invalid(s->be, BLK_ACCT_WRITE);
            finish(r, VIRTIO_BLK_S_IOERR);
            return;
        }
        if (blk_is_readonly(s->be)) {
            refuse_readonly(r, BLK_ACCT_WRITE, e->out_len);
            return;
        }
        r->io.iov = e->out_sg;
        r->io.niov = e->out_num;
        submit(r, BLK_OP_WRITE, sector);
        return;
    case VIRTIO_BLK_T_FLUSH:
        submit(r, BLK_OP_FLUSH, 0);
        return;
    case VIRTIO_BLK_T_GET_ID: {
        char id[VIRTIO_BLK_ID_BYTES] = {0};

        /* strncpy semantics: no NUL when the serial fills all 20 */
        if (s->serial) {
            memcpy(id, s->serial, MIN(strlen(s->serial), sizeof(id)));
        }
        r->in_data = (uint32_t)iov_from_buf(e->in_sg, e->in_num, 0, id,
                                            MIN(e->in_len, sizeof(id)));
        finish(r, VIRTIO_BLK_S_OK);
        return;
    }
    case VIRTIO_BLK_T_DISCARD:
        discard_or_zeroes(s, r, false);
        return;
    case VIRTIO_BLK_T_WRITE_ZEROES:
        discard_or_zeroes(s, r, true);
        return;
    default:
        finish(r, VIRTIO_BLK_S_UNSUPP);
        return;
    }
}

static void flush_notifies(struct virtio_blk *s)
{
    for (unsigned i = 0; i < s->vdev.num_queues; i++) {
        if (s->notify_pending[i]) {
            s->notify_pending[i] = false;
            virtq_notify(&s->vdev.vqs[i]);
        }
    }
}

static void vblk_queue_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    struct virtio_blk *s = to_blk(vdev);
    struct vblk_req *r;

    /* no kicks while we drain the ring; re-enable, then look once more
     * for a buffer made available meanwhile (spec 2.7.10) */
    do {
        virtq_set_notification(vq, false);
        while ((r = virtq_pop(vq, sizeof(*r)))) {
            handle_request(s, r);
        }
        virtq_set_notification(vq, true);
    } while (!virtq_empty(vq));
    blk_kick(s->be);
    flush_notifies(s);
}

void virtio_blk_complete_io(struct virtio_blk *s)
{
    blk_poll(s->be);
    flush_notifies(s);
}

static void vblk_reset(struct virtio_dev *vdev)
{
    struct virtio_blk *s = to_blk(vdev);

    if (!s->be) {
        return; /* virtio_init's reset, before setup finished */
    }
    /* reads still in flight would land in memory the driver reuses */
    s->draining = true;
    blk_drain(s->be);
    s->draining = false;
    memset(s->notify_pending, 0, s->vdev.num_queues * sizeof(bool));
}

static const struct virtio_device_ops vblk_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .config_size = VIRTIO_BLK_CONFIG_SIZE,
    .get_config = vblk_get_config,
    .queue_notify = vblk_queue_notify,
    .reset = vblk_reset,
};

bool virtio_blk_setup(struct virtio_blk *s, struct blk_backend *be,
                      struct guest_mem *gm, struct vlog *log, Error **errp)
{
    uint64_t f = (1ULL << VIRTIO_F_INDIRECT_DESC) |
                 (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
                 (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
                 (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_TOPOLOGY);
    uint32_t qs = s->queue_size;

    if (s->num_queues == 0 || s->num_queues > VBLK_MAX_QUEUES) {
        error_setg(errp, "num-queues property must be in [1, %u], not %" PRIu32,
                   VBLK_MAX_QUEUES, s->num_queues);
        return false;
    }
    if (qs < 4 || qs > 1024 || (qs & (qs - 1))) {
        /* QEMU's limits: seg_max = queue-size - 2 needs room */
        error_setg(errp,
                   "invalid queue-size property (%" PRIu32
                   "), must be a power of 2 in [4, 1024]",
                   qs);
        return false;
    }
    if (s->bootindex < -1) {
        error_setg(errp,
                   "Invalid bootindex %" PRId32
                   " (-1 or a non-negative integer)",
                   s->bootindex);
        return false;
    }
    if (s->serial && strlen(s->serial) > VIRTIO_BLK_ID_BYTES) {
        error_setg(errp, "serial property '%s' is longer than %u bytes",
                   s->serial, VIRTIO_BLK_ID_BYTES);
        return false;
    }
    if ((s->discard && s->max_discard_sectors == 0) ||
        (s->write_zeroes && s->max_write_zeroes_sectors == 0)) {
        error_setg(errp, "max-discard-sectors and max-write-zeroes-sectors "
                         "must not be 0");
        return false;
    }
    if (!be) {
        error_setg(errp, "drive property not set");
        return false;
    }
    if (blk_is_readonly(be)) {
        f |= 1ULL << VIRTIO_BLK_F_RO;
    }
    if (s->num_queues > 1) {
        f |= 1ULL << VIRTIO_BLK_F_MQ;
    }
    if (s->discard) {
        f |= 1ULL << VIRTIO_BLK_F_DISCARD;
    }
    if (s->write_zeroes) {
        f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    }
    if (s->packed) {
        f |= 1ULL << VIRTIO_F_RING_PACKED;
    }
    s->capacity = blk_size(be) / VIRTIO_BLK_SECTOR;
    s->notify_pending = g_new0(bool, s->num_queues);
    virtio_init(&s->vdev, "virtio-blk", &vblk_ops, gm, log, f, s->num_queues,
                (uint16_t)qs);
    s->be = be;
    return true;
}

void virtio_blk_teardown(struct virtio_blk *s)
{
    if (s->io_source) {
        g_source_destroy(s->io_source);
        g_source_unref(s->io_source);
        s->io_source = NULL;
    }
    if (s->be) {
        vblk_reset(&s->vdev);
        virtio_cleanup(&s->vdev);
        s->be = NULL;
    }
    g_free(s->notify_pending);
    s->notify_pending = NULL;
}

static gboolean vblk_io_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct virtio_blk *s = opaque;

    if (s->lock) {
        g_mutex_lock(s->lock);
    }
    virtio_blk_complete_io(s);
    if (s->lock) {
        g_mutex_unlock(s->lock);
    }
    return G_SOURCE_CONTINUE;
}

void virtio_blk_attach(struct virtio_blk *s, GMainContext *ctx)
{
    s->io_source = g_unix_fd_source_new(blk_event_fd(s->be), G_IO_IN);
    g_source_set_callback(s->io_source,
                          (GSourceFunc)(void (*)(void))vblk_io_ready, s, NULL);
    g_source_attach(s->io_source, ctx);
}

/* ---- the model both transports bind -------------------------------- */

static struct virtio_dev *vblk_model_realize(void *model, struct device *dev,
                                             struct machine *m, Error **errp)
{
    struct virtio_blk *s = model;

    s->attached = drive_attach(m, s->drive, dev, errp);
    if (!s->attached) {
        return NULL;
    }
    if (!virtio_blk_setup(s, s->attached->be, m->gm, &m->log, errp)) {
        drive_detach(s->attached);
        s->attached = NULL;
        return NULL;
    }
    s->lock = &dev->lock;
    return &s->vdev;
}

static void vblk_model_start(void *model, GMainContext *ctx)
{
    if (ctx) {
        virtio_blk_attach(model, ctx);
    }
}

/* Migration: every popped request is with the backend (nothing waits in
 * the model), so waiting for the backend completes them all into the
 * used rings; then the interrupts they ask for.  The rest of the state is
 * the core's: the config space is rebuilt from the properties and the
 * image (capacity), so the model has no description of its own. */
static void vblk_model_drain(void *model)
{
    struct virtio_blk *s = model;

    blk_drain(s->be);
    flush_notifies(s);
}

static void vblk_model_unrealize(void *model)
{
    struct virtio_blk *s = model;

    virtio_blk_teardown(s);
    drive_detach(s->attached);
    s->attached = NULL;
}

const struct virtio_model_class virtio_blk_model = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .pci_class = 0x010000, /* mass storage, SCSI: what QEMU reports */
    .realize = vblk_model_realize,
    .start = vblk_model_start,
    .unrealize = vblk_model_unrealize,
    .drain = vblk_model_drain,
};
