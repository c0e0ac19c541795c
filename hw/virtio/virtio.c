/* SPDX-License-Identifier: MIT */
/*
 * virtio.c: the transport-independent virtio core; see virtio.h.  Status
 * and feature negotiation follow virtio 1.2 sections 2.1, 2.2 and 3.1; the
 * split virtqueue walker follows 2.7 (descriptor chains, indirect tables
 * 2.7.5.3, used buffer and available buffer notification suppression with
 * VIRTIO_F_EVENT_IDX 2.7.7 and 2.7.10).  Everything read from a ring is
 * read once into a local copy and checked there: the guest may rewrite
 * the ring while we walk it.
 */
#include "util/common.h"
#include "hw/virtio/virtio.h"
#include "system/guest-mem.h"
#include "util/log.h"

#define VIRTIO_NO_VECTOR 0xffff

/* Barriers (spec 2.7.13): the driver runs on other CPUs. */
#define virtio_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define virtio_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define virtio_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline uint16_t ld16(const uint16_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void st16(uint16_t *p, uint16_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

void virtio_init(struct virtio_dev *vdev, const char *name,
                 const struct virtio_device_ops *ops, struct guest_mem *gm,
                 struct vlog *log, uint64_t host_features, unsigned num_queues,
                 uint16_t num_max)
{
    memset(vdev, 0, sizeof(*vdev));
    vdev->name = name;
    vdev->ops = ops;
    vdev->gm = gm;
    vdev->log = log;
    vdev->host_features = host_features | (1ULL << VIRTIO_F_VERSION_1);
    vdev->num_queues = num_queues;
    vdev->vqs = g_new0(struct virtqueue, num_queues);
    vdev->config = g_malloc0(ops->config_size ? ops->config_size : 1);
    for (unsigned i = 0; i < num_queues; i++) {
        struct virtqueue *vq = &vdev->vqs[i];
        vq->vdev = vdev;
        vq->index = i;
        vq->num_max = num_max;
        vq->scratch = g_new(struct iovec, VIRTQ_MAX_SEGS);
    }
    virtio_reset(vdev);
}

void virtio_cleanup(struct virtio_dev *vdev)
{
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        g_free(vdev->vqs[i].scratch);
    }
    g_free(vdev->vqs);
    g_free(vdev->config);
    vdev->vqs = NULL;
    vdev->config = NULL;
    vdev->num_queues = 0;
}

void virtio_set_transport(struct virtio_dev *vdev,
                          const struct virtio_transport_ops *ops, void *opaque)
{
    vdev->transport = ops;
    vdev->transport_opaque = opaque;
}

static void notify_config(struct virtio_dev *vdev)
{
    vdev->isr |= 2;
    if (vdev->transport && vdev->transport->notify_config) {
        vdev->transport->notify_config(vdev->transport_opaque);
    }
}

void virtio_notify_config(struct virtio_dev *vdev)
{
    vdev->config_generation++;
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK) {
        notify_config(vdev);
    }
}

void virtio_error(struct virtio_dev *vdev, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vlog_guest_error(vdev->log, "%s: %s (device needs reset)", vdev->name, msg);
    g_free(msg);
    if (vdev->broken) {
        return;
    }
    vdev->broken = true;
    vdev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    /* spec 2.1.2: with DRIVER_OK set, tell the driver */
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK) {
        notify_config(vdev);
    }
}

/* ---- feature negotiation and status ------------------------------- */

uint32_t virtio_get_host_features(const struct virtio_dev *vdev, unsigned sel)
{
    return sel < 2 ? (uint32_t)(vdev->host_features >> (32 * sel)) : 0;
}

uint32_t virtio_get_guest_features(const struct virtio_dev *vdev, unsigned sel)
{
    return sel < 2 ? (uint32_t)(vdev->guest_features >> (32 * sel)) : 0;
}

void virtio_set_guest_features(struct virtio_dev *vdev, unsigned sel,
                               uint32_t val)
{
    uint64_t mask;

    if (vdev->status & VIRTIO_STATUS_FEATURES_OK) {
        vlog_guest_error(vdev->log,
                         "%s: driver features written after FEATURES_OK "
                         "(ignored)",
                         vdev->name);
        return;
    }
    if (sel >= 2) {
        if (val) {
            vlog_guest_error(vdev->log,
                             "%s: driver features word %u = 0x%" PRIx32
                             " was not offered",
                             vdev->name, sel, val);
        }
        return;
    }
    mask = 0xffffffffULL << (32 * sel);
    vdev->guest_features =
        (vdev->guest_features & ~mask) | ((uint64_t)val << (32 * sel));
}

static bool features_ok(struct virtio_dev *vdev)
{
    uint64_t extra = vdev->guest_features & ~vdev->host_features;

    if (extra) {
        vlog_guest_error(vdev->log,
                         "%s: driver accepted features 0x%" PRIx64
                         " the device did not offer",
                         vdev->name, extra);
        return false;
    }
    if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
        /* no legacy interface: a 0.9.5 driver must fail here */
        vlog_guest_error(vdev->log,
                         "%s: driver did not accept VIRTIO_F_VERSION_1",
                         vdev->name);
        return false;
    }
    return true;
}

void virtio_set_status(struct virtio_dev *vdev, uint8_t val)
{
    uint8_t old = vdev->status;

    if (val == 0) {
        virtio_reset(vdev);
        return;
    }
    /* NEEDS_RESET is the device's bit; the driver cannot set or clear it */
    val = (uint8_t)((val & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) |
                    (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
    if ((val & VIRTIO_STATUS_FEATURES_OK) &&
        !(old & VIRTIO_STATUS_FEATURES_OK) && !features_ok(vdev)) {
        /* spec 3.1.1: the driver re-reads the status and sees it refused */
        val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    }
    if ((val & VIRTIO_STATUS_DRIVER_OK) && !(val & VIRTIO_STATUS_FEATURES_OK)) {
        vlog_guest_error(vdev->log,
                         "%s: DRIVER_OK without FEATURES_OK (ignored)",
                         vdev->name);
        val &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
    }
    vdev->status = val;
    if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
        if (vdev->broken) {
            /* broken during set-up (a bad ring): say so now (2.1.2) */
            notify_config(vdev);
        } else if (vdev->ops->driver_ok) {
            vdev->ops->driver_ok(vdev);
        }
    }
}

void virtio_reset(struct virtio_dev *vdev)
{
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        struct virtqueue *vq = &vdev->vqs[i];

        vq->num = vq->num_max;
        vq->ready = false;
        vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
        vq->desc = NULL;
        vq->avail = vq->used = NULL;
        vq->packed = false;
        vq->pdesc = NULL;
        vq->driver_event = vq->device_event = NULL;
        vq->avail_wrap = vq->used_wrap = true;
        vq->last_avail_idx = vq->shadow_avail_idx = vq->used_idx = 0;
        vq->signalled_used = 0;
        vq->signalled_used_valid = false;
        vq->notification = true;
        vq->inflight = 0;
        vq->msix_vector = VIRTIO_NO_VECTOR;
    }
    vdev->status = 0;
    vdev->guest_features = 0;
    vdev->isr = 0;
    vdev->broken = false;
}

uint8_t virtio_isr_read_clear(struct virtio_dev *vdev)
{
    uint8_t v = vdev->isr;

    vdev->isr = 0;
    return v;
}

/* ---- queue registers ----------------------------------------------- */

static struct virtqueue *queue_for_write(struct virtio_dev *vdev, unsigned q,
                                         const char *what)
{
    if (q >= vdev->num_queues) {
        vlog_guest_error(vdev->log, "%s: %s of queue %u: no such queue",
                         vdev->name, what, q);
        return NULL;
    }
    if (vdev->vqs[q].ready) {
        vlog_guest_error(vdev->log,
                         "%s: %s of queue %u while it is enabled (ignored)",
                         vdev->name, what, q);
        return NULL;
    }
    return &vdev->vqs[q];
}

void virtio_queue_set_num(struct virtio_dev *vdev, unsigned q, uint16_t num)
{
    struct virtqueue *vq = queue_for_write(vdev, q, "size write");

    if (vq) {
        vq->num = num; /* checked when the queue is enabled */
    }
}

void virtio_queue_set_addr(struct virtio_dev *vdev, unsigned q, uint64_t desc,
                           uint64_t avail, uint64_t used)
{
    struct virtqueue *vq = queue_for_write(vdev, q, "address write");

    if (vq) {
        vq->desc_gpa = desc;
        vq->avail_gpa = avail;
        vq->used_gpa = used;
    }
}

/* spec 2.8: any size up to the maximum; the driver and device areas
 * are 4-byte {off_wrap, flags} structures. */
static bool map_packed(struct virtio_dev *vdev, const struct virtqueue *vq,
                       struct virtq_rings *r, Error **errp)
{
    uint64_t n = vq->num;

    if (n == 0 || n > vq->num_max) {
        error_setg(errp, "queue %u: size %" PRIu64 " not in [1, %u]", vq->index,
                   n, vq->num_max);
        return false;
    }
    if ((vq->desc_gpa & 15) || (vq->avail_gpa & 3) || (vq->used_gpa & 3)) {
        error_setg(errp,
                   "queue %u: misaligned packed ring (desc 0x%" PRIx64
                   ", driver 0x%" PRIx64 ", device 0x%" PRIx64 ")",
                   vq->index, vq->desc_gpa, vq->avail_gpa, vq->used_gpa);
        return false;
    }
    r->pdesc = gm_map(vdev->gm, vq->desc_gpa, 16 * n, true);
    r->driver_event = gm_map(vdev->gm, vq->avail_gpa, 4, false);
    r->device_event = gm_map(vdev->gm, vq->used_gpa, 4, true);
    if (!r->pdesc || !r->driver_event || !r->device_event) {
        error_setg(errp,
                   "queue %u: packed ring outside guest RAM (desc 0x%" PRIx64
                   ", driver 0x%" PRIx64 ", device 0x%" PRIx64 ", size %" PRIu64
                   ")",
                   vq->index, vq->desc_gpa, vq->avail_gpa, vq->used_gpa, n);
        return false;
    }
    return true;
}

bool virtq_map_rings(struct virtio_dev *vdev, const struct virtqueue *vq,
                     bool packed, struct virtq_rings *r, Error **errp)
{
    uint64_t n = vq->num;

    memset(r, 0, sizeof(*r));
    if (packed) {
        if (!map_packed(vdev, vq, r, errp)) {
            memset(r, 0, sizeof(*r));
            return false;
        }
        return true;
    }
    if (n == 0 || n > vq->num_max || (n & (n - 1))) {
        error_setg(errp,
                   "queue %u: size %" PRIu64 " is not a power of 2 in [1, %u]",
                   vq->index, n, vq->num_max);
        return false;
    }
    if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
        error_setg(errp,
                   "queue %u: misaligned ring (desc 0x%" PRIx64
                   ", avail 0x%" PRIx64 ", used 0x%" PRIx64 ")",
                   vq->index, vq->desc_gpa, vq->avail_gpa, vq->used_gpa);
        return false;
    }
    /* The rings' sizes include used_event/avail_event whether or not
     * EVENT_IDX is negotiated (the driver allocates them anyway). */
    r->desc = gm_map(vdev->gm, vq->desc_gpa, 16 * n, false);
    r->avail = gm_map(vdev->gm, vq->avail_gpa, 6 + 2 * n, false);
    r->used = gm_map(vdev->gm, vq->used_gpa, 6 + 8 * n, true);
    if (!r->desc || !r->avail || !r->used) {
        error_setg(errp,
                   "queue %u: ring outside guest RAM (desc 0x%" PRIx64
                   ", avail 0x%" PRIx64 ", used 0x%" PRIx64 ", size %" PRIu64
                   ")",
                   vq->index, vq->desc_gpa, vq->avail_gpa, vq->used_gpa, n);
        memset(r, 0, sizeof(*r));
        return false;
    }
    return true;
}

void virtq_set_rings(struct virtqueue *vq, const struct virtq_rings *r)
{
    vq->desc = r->desc;
    vq->avail = r->avail;
    vq->used = r->used;
    vq->pdesc = r->pdesc;
    vq->driver_event = r->driver_event;
    vq->device_event = r->device_event;
}

void virtio_queue_set_ready(struct virtio_dev *vdev, unsigned q, bool ready)
{
    struct virtqueue *vq;
    struct virtq_rings r;
    Error *err = NULL;
    bool packed;

    if (!ready) {
        /* spec 4.1.4.3.2: only a device reset disables a queue (no
         * VIRTIO_F_RING_RESET) */
        if (q < vdev->num_queues && vdev->vqs[q].ready) {
            vlog_guest_error(vdev->log,
                             "%s: queue %u: driver wrote 0 to queue enable "
                             "(ignored)",
                             vdev->name, q);
        }
        return;
    }
    vq = queue_for_write(vdev, q, "enable");
    if (!vq) {
        return;
    }
    packed = virtio_has_feature(vdev, VIRTIO_F_RING_PACKED);
    if (!virtq_map_rings(vdev, vq, packed, &r, &err)) {
        virtio_error(vdev, "%s", error_get_pretty(err));
        error_free(err);
        return;
    }
    virtq_set_rings(vq, &r);
    vq->packed = packed;
    /* a fresh ring starts at index 0 (no VIRTIO_F_RING_RESET); packed:
     * both wrap counters start at 1 (spec 2.8.1) */
    vq->last_avail_idx = vq->shadow_avail_idx = vq->used_idx = 0;
    vq->avail_wrap = vq->used_wrap = true;
    vq->signalled_used_valid = false;
    vq->ready = true;
}

void virtio_queue_notify(struct virtio_dev *vdev, unsigned q)
{
    if (q >= vdev->num_queues) {
        vlog_guest_error(vdev->log, "%s: notify of queue %u: no such queue",
                         vdev->name, q);
        return;
    }
    if (vdev->broken || !(vdev->status & VIRTIO_STATUS_DRIVER_OK) ||
        !vdev->vqs[q].ready) {
        return;
    }
    vdev->ops->queue_notify(vdev, &vdev->vqs[q]);
}

/* ---- config space ------------------------------------------------- */

static bool config_range(struct virtio_dev *vdev, uint64_t off, unsigned size,
                         const char *what)
{
    size_t cs = vdev->ops->config_size;

    if ((size != 1 && size != 2 && size != 4 && size != 8) || off > cs ||
        size > cs - off) {
        vlog_guest_error(vdev->log,
                         "%s: config %s of %u bytes at 0x%" PRIx64
                         " outside its %zu bytes",
                         vdev->name, what, size, off, cs);
        return false;
    }
    return true;
}

uint64_t virtio_config_read(struct virtio_dev *vdev, uint64_t off,
                            unsigned size)
{
    uint64_t v = 0;

    if (!config_range(vdev, off, size, "read")) {
        return size >= 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
    }
    vdev->ops->get_config(vdev, vdev->config);
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)vdev->config[off + i] << (8 * i);
    }
    return v;
}

void virtio_config_write(struct virtio_dev *vdev, uint64_t off, uint64_t val,
                         unsigned size)
{
    if (!config_range(vdev, off, size, "write")) {
        return;
    }
    if (!vdev->ops->set_config) {
        vlog_guest_error(vdev->log,
                         "%s: write to read-only config at 0x%" PRIx64,
                         vdev->name, off);
        return;
    }
    vdev->ops->get_config(vdev, vdev->config);
    for (unsigned i = 0; i < size; i++) {
        vdev->config[off + i] = (uint8_t)(val >> (8 * i));
    }
    vdev->ops->set_config(vdev, vdev->config);
}

/* ---- split virtqueue ------------------------------------------------ */

/* avail: flags, idx, ring[num], used_event */
static inline uint16_t avail_idx(struct virtqueue *vq)
{
    vq->shadow_avail_idx = ld16(&vq->avail[1]);
    return vq->shadow_avail_idx;
}

static inline uint16_t *used_event(struct virtqueue *vq)
{
    return &vq->avail[2 + vq->num];
}

/* used: flags, idx, then {u32 id, u32 len}[num], avail_event */
static inline uint16_t *avail_event(struct virtqueue *vq)
{
    return &vq->used[2 + 4 * vq->num];
}

static inline struct virtq_used_elem *used_ring(struct virtqueue *vq)
{
    return (struct virtq_used_elem *)&vq->used[2];
}

static bool running(struct virtqueue *vq)
{
    return vq->ready && !vq->vdev->broken &&
           (vq->vdev->status & VIRTIO_STATUS_DRIVER_OK);
}

/* packed: is the descriptor at slot i available in the current lap? */
static bool packed_avail_at(struct virtqueue *vq, unsigned i, bool wrap,
                            uint16_t *flags)
{
    uint16_t f = ld16(&vq->pdesc[i].flags);

    *flags = f;
    return !!(f & VIRTQ_DESC_F_AVAIL) == wrap &&
           !!(f & VIRTQ_DESC_F_USED) != wrap;
}

bool virtq_empty(struct virtqueue *vq)
{
    uint16_t flags;

    if (!running(vq)) {
        return true;
    }
    if (vq->packed) {
        return !packed_avail_at(vq, vq->last_avail_idx, vq->avail_wrap, &flags);
    }
    if (vq->shadow_avail_idx != vq->last_avail_idx) {
        return false;
    }
    return avail_idx(vq) == vq->last_avail_idx;
}

static void read_desc(const struct virtq_desc *table, unsigned i,
                      struct virtq_desc *d)
{
    const struct virtq_desc *s = &table[i];

    d->addr = __atomic_load_n(&s->addr, __ATOMIC_RELAXED);
    d->len = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
    d->flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
    d->next = __atomic_load_n(&s->next, __ATOMIC_RELAXED);
}

/* Packed descriptors have the split layout's first 12 bytes; the id sits
 * where split keeps flags, and the flags where split keeps next. */
static void read_pdesc(const struct virtq_packed_desc *table, unsigned i,
                       struct virtq_desc *d, uint16_t *id)
{
    const struct virtq_packed_desc *s = &table[i];

    d->addr = __atomic_load_n(&s->addr, __ATOMIC_RELAXED);
    d->len = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
    *id = __atomic_load_n(&s->id, __ATOMIC_RELAXED);
    d->flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
    d->next = 0;
}

/* One chain being walked into vq->scratch. */
struct walk {
    struct virtqueue *vq;
    unsigned head; /* for messages */
    unsigned nseg, out_num, in_num;
    uint64_t total[2];
};

/* Adds descriptor d (number i of the chain) as a buffer. */
static bool walk_add(struct walk *w, unsigned i, const struct virtq_desc *d)
{
    struct virtqueue *vq = w->vq;
    struct virtio_dev *vdev = vq->vdev;
    bool write = d->flags & VIRTQ_DESC_F_WRITE;
    void *p;

    if (!write && w->total[1]) {
        virtio_error(vdev,
                     "queue %u: chain at %u: device-readable descriptor %u "
                     "after a device-writable one",
                     vq->index, w->head, i);
        return false;
    }
    if (!d->len) {
        return true;
    }
    p = gm_map(vdev->gm, d->addr, d->len, write);
    if (!p) {
        virtio_error(vdev,
                     "queue %u: chain at %u: buffer 0x%" PRIx64 "+0x%" PRIx32
                     " is outside guest RAM%s",
                     vq->index, w->head, d->addr, d->len,
                     write ? " (or read-only)" : "");
        return false;
    }
    if (w->nseg >= VIRTQ_MAX_SEGS) {
        virtio_error(vdev, "queue %u: chain at %u has more than %u buffers",
                     vq->index, w->head, VIRTQ_MAX_SEGS);
        return false;
    }
    w->total[write] += d->len;
    if (w->total[write] > UINT32_MAX) {
        virtio_error(vdev,
                     "queue %u: chain at %u: total length overflows 32 bits",
                     vq->index, w->head);
        return false;
    }
    vq->scratch[w->nseg].iov_base = p;
    vq->scratch[w->nseg].iov_len = d->len;
    w->nseg++;
    if (write) {
        w->in_num++;
    } else {
        w->out_num++;
    }
    return true;
}

/* Checks an indirect descriptor and maps its table; returns its entry
 * count, 0 after virtio_error. */
static unsigned map_indirect(struct walk *w, const struct virtq_desc *d,
                             const void **table)
{
    struct virtqueue *vq = w->vq;
    struct virtio_dev *vdev = vq->vdev;

    if (!virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC)) {
        virtio_error(vdev,
                     "queue %u: indirect descriptor at %u without "
                     "VIRTIO_F_INDIRECT_DESC",
                     vq->index, w->head);
        return 0;
    }
    if (d->flags & VIRTQ_DESC_F_NEXT) {
        virtio_error(vdev, "queue %u: descriptor %u is both INDIRECT and NEXT",
                     vq->index, w->head);
        return 0;
    }
    if (d->len == 0 || d->len % sizeof(struct virtq_desc) ||
        d->len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE) {
        virtio_error(vdev,
                     "queue %u: indirect table of %" PRIu32
                     " bytes (not a multiple of 16 in [16, %u])",
                     vq->index, d->len,
                     VIRTQ_MAX_SIZE * (unsigned)sizeof(struct virtq_desc));
        return 0;
    }
    /* 16-byte entries read with 8-byte loads: keep them aligned */
    *table = (d->addr & 7) ? NULL : gm_map(vdev->gm, d->addr, d->len, false);
    if (!*table) {
        virtio_error(vdev,
                     "queue %u: indirect table at 0x%" PRIx64 "+0x%" PRIx32
                     " is misaligned or outside guest RAM",
                     vq->index, d->addr, d->len);
        return 0;
    }
    return d->len / sizeof(struct virtq_desc);
}

static bool check_no_indirect(struct walk *w, unsigned i,
                              const struct virtq_desc *d, bool indirect)
{
    if (d->flags & VIRTQ_DESC_F_INDIRECT) {
        virtio_error(w->vq->vdev, "queue %u: chain at %u: %s descriptor %u",
                     w->vq->index, w->head,
                     indirect ? "indirect table holds an indirect"
                              : "indirect flag on non-head",
                     i);
        return false;
    }
    return true;
}

/*
 * Walks the split chain at `head` into vq->scratch.  Every step is
 * bounded: a chain visits at most `max` descriptors of its table (so a
 * loop ends), an indirect table is at most VIRTQ_MAX_SIZE entries, and at
 * most VIRTQ_MAX_SEGS buffers are kept.  Returns false after virtio_error.
 */
static bool walk_split(struct walk *w, uint16_t head)
{
    struct virtqueue *vq = w->vq;
    const struct virtq_desc *table = vq->desc;
    unsigned max = vq->num, i = head, count = 0;
    bool indirect = false;
    struct virtq_desc d;

    read_desc(table, i, &d);
    if (d.flags & VIRTQ_DESC_F_INDIRECT) {
        max = map_indirect(w, &d, (const void **)&table);
        if (!max) {
            return false;
        }
        indirect = true;
        i = 0;
        read_desc(table, i, &d);
    }
    for (;;) {
        if (++count > max) {
            virtio_error(vq->vdev,
                         "queue %u: chain at head %u is longer than its %s "
                         "(%u entries): a loop?",
                         vq->index, head, indirect ? "indirect table" : "queue",
                         max);
            return false;
        }
        if (!check_no_indirect(w, i, &d, indirect) || !walk_add(w, i, &d)) {
            return false;
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT)) {
            return true;
        }
        i = d.next;
        if (i >= max) {
            virtio_error(vq->vdev,
                         "queue %u: chain at head %u: next index %u beyond "
                         "its %s of %u",
                         vq->index, head, i,
                         indirect ? "indirect table" : "queue", max);
            return false;
        }
        read_desc(table, i, &d);
    }
}

/*
 * Walks the packed chain starting at slot last_avail_idx (spec 2.8.6):
 * consecutive slots while NEXT is set, wrapping at the end of the ring,
 * at most num of them; or one indirect descriptor whose table is walked
 * in order.  The buffer id is the last descriptor's.
 */
static bool walk_packed(struct walk *w, uint16_t *id, uint16_t *ndescs)
{
    struct virtqueue *vq = w->vq;
    unsigned i = vq->last_avail_idx, count = 0;
    struct virtq_desc d;

    read_pdesc(vq->pdesc, i, &d, id);
    if (d.flags & VIRTQ_DESC_F_INDIRECT) {
        const struct virtq_packed_desc *table;
        unsigned n = map_indirect(w, &d, (const void **)&table);

        if (!n) {
            return false;
        }
        for (unsigned k = 0; k < n; k++) {
            uint16_t unused;

            read_pdesc(table, k, &d, &unused);
            if (!check_no_indirect(w, k, &d, true) || !walk_add(w, k, &d)) {
                return false;
            }
        }
        *ndescs = 1;
        return true;
    }
    for (;;) {
        if (++count > vq->num) {
            virtio_error(vq->vdev,
                         "queue %u: packed chain at slot %u is longer than "
                         "the queue (%u)",
                         vq->index, w->head, vq->num);
            return false;
        }
        if (!check_no_indirect(w, i, &d, false) || !walk_add(w, i, &d)) {
            return false;
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT)) {
            break;
        }
        if (++i == vq->num) {
            i = 0;
        }
        read_pdesc(vq->pdesc, i, &d, id);
    }
    *ndescs = (uint16_t)count;
    return true;
}

/* The element for the chain walked into vq->scratch. */
static struct virtq_elem *make_elem(struct virtqueue *vq, size_t elem_size,
                                    const struct walk *w)
{
    size_t base = ALIGN_UP(elem_size, _Alignof(struct iovec));
    struct virtq_elem *elem = g_malloc(base + w->nseg * sizeof(struct iovec));

    memset(elem, 0, elem_size);
    elem->vq = vq;
    elem->out_num = w->out_num;
    elem->in_num = w->in_num;
    elem->out_len = w->total[0];
    elem->in_len = w->total[1];
    elem->out_sg = (struct iovec *)((char *)elem + base);
    elem->in_sg = elem->out_sg + w->out_num;
    memcpy(elem->out_sg, vq->scratch, w->nseg * sizeof(struct iovec));
    vq->inflight++;
    return elem;
}

static struct virtq_elem *pop_packed(struct virtqueue *vq, size_t elem_size)
{
    struct walk w = {.vq = vq, .head = vq->last_avail_idx};
    struct virtq_elem *elem;
    uint16_t flags, id = 0, ndescs = 0;

    if (!packed_avail_at(vq, vq->last_avail_idx, vq->avail_wrap, &flags)) {
        return NULL;
    }
    /* the descriptor's contents were written before its flags */
    virtio_rmb();
    if (!walk_packed(&w, &id, &ndescs)) {
        return NULL;
    }
    vq->last_avail_idx += ndescs;
    if (vq->last_avail_idx >= vq->num) {
        vq->last_avail_idx -= vq->num;
        vq->avail_wrap = !vq->avail_wrap;
    }
    elem = make_elem(vq, elem_size, &w);
    elem->head = id;
    elem->ndescs = ndescs;
    return elem;
}

void *virtq_pop(struct virtqueue *vq, size_t elem_size)
{
    struct virtio_dev *vdev = vq->vdev;
    struct walk w = {.vq = vq};
    struct virtq_elem *elem;
    uint16_t idx, pending, head;

    if (!running(vq)) {
        return NULL;
    }
    if (vq->inflight >= vq->num) {
        if (virtq_empty(vq)) {
            return NULL;
        }
        /* the same chains made available again while still in use: the
         * host would hold ever more requests */
        virtio_error(vdev,
                     "queue %u: more than %u buffers in flight (a head "
                     "made available twice?)",
                     vq->index, vq->num);
        return NULL;
    }
    if (vq->packed) {
        return pop_packed(vq, elem_size);
    }
    if (vq->shadow_avail_idx == vq->last_avail_idx &&
        avail_idx(vq) == vq->last_avail_idx) {
        return NULL;
    }
    idx = vq->shadow_avail_idx;
    pending = (uint16_t)(idx - vq->last_avail_idx);
    if (pending > vq->num) {
        virtio_error(vdev,
                     "queue %u: available index jumped from %u to %u "
                     "(more than the %u entries of the queue)",
                     vq->index, vq->last_avail_idx, idx, vq->num);
        return NULL;
    }
    /* the ring entries were written before avail->idx (spec 2.7.13) */
    virtio_rmb();
    head = ld16(&vq->avail[2 + (vq->last_avail_idx & (vq->num - 1))]);
    if (head >= vq->num) {
        virtio_error(vdev,
                     "queue %u: available ring entry %u names descriptor "
                     "%u of %u",
                     vq->index, vq->last_avail_idx, head, vq->num);
        return NULL;
    }
    w.head = head;
    if (!walk_split(&w, head)) {
        return NULL;
    }
    vq->last_avail_idx++;
    if (virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX) && vq->notification) {
        /* ask for a kick at the next buffer (spec 2.7.10) */
        st16(avail_event(vq), vq->last_avail_idx);
    }
    elem = make_elem(vq, elem_size, &w);
    elem->head = head;
    return elem;
}

void virtq_discard(struct virtqueue *vq, struct virtq_elem *elem)
{
    if (vq->inflight) {
        vq->inflight--;
    }
    g_free(elem);
}

void virtq_unpop(struct virtqueue *vq, struct virtq_elem *elem)
{
    if (vq->packed) {
        uint16_t n = elem->ndescs;

        if (vq->last_avail_idx >= n) {
            vq->last_avail_idx -= n;
        } else {
            vq->last_avail_idx = (uint16_t)(vq->last_avail_idx + vq->num - n);
            vq->avail_wrap = !vq->avail_wrap;
        }
    } else {
        vq->last_avail_idx--;
    }
    virtq_discard(vq, elem);
}

static void push_packed(struct virtqueue *vq, struct virtq_elem *elem,
                        uint32_t len)
{
    struct virtq_packed_desc *d = &vq->pdesc[vq->used_idx];
    uint16_t flags = vq->used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;

    __atomic_store_n(&d->id, elem->head, __ATOMIC_RELAXED);
    __atomic_store_n(&d->len, len, __ATOMIC_RELAXED);
    /* id and len before the flags that hand the slot back (2.8.21) */
    virtio_wmb();
    st16(&d->flags, flags);
    vq->used_idx += elem->ndescs;
    if (vq->used_idx >= vq->num) {
        vq->used_idx -= vq->num;
        vq->used_wrap = !vq->used_wrap;
    }
}

/* Live migration: what the device wrote into the driver's buffers and
 * the ring entry that hands them back, counted dirty after the writes
 * (the mappings were taken before dirty logging may have started). */
static void push_mark_dirty(struct virtqueue *vq, struct virtq_elem *elem,
                            const void *ring, size_t ring_len)
{
    struct guest_mem *gm = vq->vdev->gm;

    if (!g_atomic_int_get(&gm->logging)) {
        return;
    }
    for (unsigned i = 0; i < elem->in_num; i++) {
        gm_mark_dirty_hva(gm, elem->in_sg[i].iov_base, elem->in_sg[i].iov_len);
    }
    gm_mark_dirty_hva(gm, ring, ring_len);
}

void virtq_push(struct virtqueue *vq, struct virtq_elem *elem, uint32_t len)
{
    struct virtq_used_elem *u;

    if (!vq->ready || vq->vdev->broken) {
        /* the ring is gone (reset) or no longer trusted */
        virtq_discard(vq, elem);
        return;
    }
    if (vq->packed) {
        struct virtq_packed_desc *d = &vq->pdesc[vq->used_idx];

        push_packed(vq, elem, len);
        push_mark_dirty(vq, elem, d, sizeof(*d));
        virtq_discard(vq, elem);
        return;
    }
    u = &used_ring(vq)[vq->used_idx & (vq->num - 1)];
    __atomic_store_n(&u->id, elem->head, __ATOMIC_RELAXED);
    __atomic_store_n(&u->len, len, __ATOMIC_RELAXED);
    /* the entry before the index (spec 2.7.13) */
    virtio_wmb();
    vq->used_idx++;
    st16(&vq->used[1], vq->used_idx);
    push_mark_dirty(vq, elem, u, sizeof(*u));
    gm_mark_dirty_hva(vq->vdev->gm, &vq->used[1], 2);
    virtq_discard(vq, elem);
}

void virtq_push_batch(struct virtqueue *vq, struct virtq_elem **elems,
                      const uint32_t *lens, unsigned n)
{
    uint16_t first = vq->used_idx;
    bool first_wrap = vq->used_wrap;

    if (!vq->ready || vq->vdev->broken || !n) {
        for (unsigned i = 0; i < n; i++) {
            virtq_discard(vq, elems[i]);
        }
        return;
    }
    if (vq->packed) {
        /* every slot but the first, then the first's flags (2.8.21) */
        for (unsigned i = 0; i < n; i++) {
            struct virtq_packed_desc *d = &vq->pdesc[vq->used_idx];
            uint16_t flags =
                vq->used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;

            __atomic_store_n(&d->id, elems[i]->head, __ATOMIC_RELAXED);
            __atomic_store_n(&d->len, lens[i], __ATOMIC_RELAXED);
            if (i) {
                virtio_wmb();
                st16(&d->flags, flags);
            }
            vq->used_idx += elems[i]->ndescs;
            if (vq->used_idx >= vq->num) {
                vq->used_idx -= vq->num;
                vq->used_wrap = !vq->used_wrap;
            }
            virtq_discard(vq, elems[i]);
        }
        virtio_wmb();
        st16(&vq->pdesc[first].flags,
             first_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        struct virtq_used_elem *u =
            &used_ring(vq)[(uint16_t)(first + i) & (vq->num - 1)];

        __atomic_store_n(&u->id, elems[i]->head, __ATOMIC_RELAXED);
        __atomic_store_n(&u->len, lens[i], __ATOMIC_RELAXED);
        virtq_discard(vq, elems[i]);
    }
    /* the entries before the index (spec 2.7.13) */
    virtio_wmb();
    vq->used_idx = (uint16_t)(first + n);
    st16(&vq->used[1], vq->used_idx);
}

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* The driver's event suppression (spec 2.8.10): off_wrap names the slot
 * (and lap) after which it wants an interrupt. */
static bool packed_should_notify(struct virtqueue *vq, uint16_t old, bool valid)
{
    uint16_t flags = ld16(&vq->driver_event[1]) & 3;
    uint16_t off_wrap;
    int off;

    if (flags == VIRTQ_EVENT_F_DISABLE) {
        return false;
    }
    if (flags != VIRTQ_EVENT_F_DESC ||
        !virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX) || !valid) {
        return true;
    }
    off_wrap = ld16(&vq->driver_event[0]);
    off = off_wrap & 0x7fff;
    if ((bool)(off_wrap >> 15) != vq->used_wrap) {
        off -= vq->num;
    }
    return need_event((uint16_t)off, vq->used_idx, old);
}

void virtq_notify(struct virtqueue *vq)
{
    struct virtio_dev *vdev = vq->vdev;
    uint16_t old = vq->signalled_used;
    bool valid = vq->signalled_used_valid;
    /* packed: a whole lap of used slots brings used_idx back to where it
     * was; the wrap counter tells the two apart */
    uint16_t mark =
        (uint16_t)(vq->used_idx | ((vq->packed && vq->used_wrap) << 15));

    if (!vq->ready || vdev->broken) {
        return;
    }
    if (valid && vq->signalled_mark == mark) {
        return; /* nothing new since the last interrupt */
    }
    /* our used->idx store before the driver's suppression fields */
    virtio_mb();
    vq->signalled_used = vq->used_idx;
    vq->signalled_mark = mark;
    vq->signalled_used_valid = true;
    if (vq->packed) {
        if (!packed_should_notify(vq, old, valid)) {
            return;
        }
    } else if (virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX)) {
        if (valid && !need_event(ld16(used_event(vq)), vq->used_idx, old)) {
            return;
        }
    } else if (ld16(&vq->avail[0]) & VIRTQ_AVAIL_F_NO_INTERRUPT) {
        return;
    }
    vdev->isr |= 1;
    if (vdev->transport && vdev->transport->notify_queue) {
        vdev->transport->notify_queue(vdev->transport_opaque, vq->index);
    }
}

void virtq_set_notification(struct virtqueue *vq, bool enable)
{
    if (!vq->ready || vq->vdev->broken) {
        return;
    }
    vq->notification = enable;
    if (vq->packed) {
        uint16_t flags = enable ? VIRTQ_EVENT_F_ENABLE : VIRTQ_EVENT_F_DISABLE;

        if (enable && virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX)) {
            st16(&vq->device_event[0],
                 (uint16_t)(vq->last_avail_idx | (vq->avail_wrap << 15)));
            flags = VIRTQ_EVENT_F_DESC;
        }
        /* off_wrap before the flags that make the driver read it */
        virtio_wmb();
        st16(&vq->device_event[1], flags);
        gm_mark_dirty_hva(vq->vdev->gm, vq->device_event, 4);
    } else if (virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX)) {
        if (enable) {
            st16(avail_event(vq), avail_idx(vq));
            gm_mark_dirty_hva(vq->vdev->gm, avail_event(vq), 2);
        }
    } else {
        st16(&vq->used[0], enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
        gm_mark_dirty_hva(vq->vdev->gm, &vq->used[0], 2);
    }
    if (enable) {
        /* the flag before the caller's re-check of the ring */
        virtio_mb();
    }
}

/* ---- iovec helpers ------------------------------------------------ */

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf,
                  size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        size_t l = iov[i].iov_len;
        if (off >= l) {
            off -= l;
            continue;
        }
        l = MIN(l - off, len - done);
        memcpy((char *)buf + done, (char *)iov[i].iov_base + off, l);
        done += l;
        off = 0;
    }
    return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off,
                    const void *buf, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        size_t l = iov[i].iov_len;
        if (off >= l) {
            off -= l;
            continue;
        }
        l = MIN(l - off, len - done);
        memcpy((char *)iov[i].iov_base + off, (const char *)buf + done, l);
        done += l;
        off = 0;
    }
    return done;
}
