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

void virtio_queue_set_ready(struct virtio_dev *vdev, unsigned q, bool ready)
{
    struct virtqueue *vq;
    uint64_t n;

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
    n = vq->num;
    if (n == 0 || n > vq->num_max || (n & (n - 1))) {
        virtio_error(
            vdev, "queue %u: size %" PRIu64 " is not a power of 2 in [1, %u]",
            q, n, vq->num_max);
        return;
    }
    if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
        virtio_error(vdev,
                     "queue %u: misaligned ring (desc 0x%" PRIx64
                     ", avail 0x%" PRIx64 ", used 0x%" PRIx64 ")",
                     q, vq->desc_gpa, vq->avail_gpa, vq->used_gpa);
        return;
    }
    /* The rings' sizes include used_event/avail_event whether or not
     * EVENT_IDX is negotiated (the driver allocates them anyway). */
    vq->desc = gm_map(vdev->gm, vq->desc_gpa, 16 * n, false);
    vq->avail = gm_map(vdev->gm, vq->avail_gpa, 6 + 2 * n, false);
    vq->used = gm_map(vdev->gm, vq->used_gpa, 6 + 8 * n, true);
    if (!vq->desc || !vq->avail || !vq->used) {
        virtio_error(vdev,
                     "queue %u: ring outside guest RAM (desc 0x%" PRIx64
                     ", avail 0x%" PRIx64 ", used 0x%" PRIx64 ", size %" PRIu64
                     ")",
                     q, vq->desc_gpa, vq->avail_gpa, vq->used_gpa, n);
        vq->desc = NULL;
        vq->avail = vq->used = NULL;
        return;
    }
    /* a fresh ring starts at index 0 (no VIRTIO_F_RING_RESET) */
    vq->last_avail_idx = vq->shadow_avail_idx = vq->used_idx = 0;
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

bool virtq_empty(struct virtqueue *vq)
{
    if (!running(vq)) {
        return true;
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

/*
 * Walks the chain at `head` into vq->scratch.  Every step is bounded: a
 * chain visits at most `max` descriptors of its table (so a loop ends),
 * an indirect table is at most VIRTQ_MAX_SIZE entries, and at most
 * VIRTQ_MAX_SEGS buffers are kept.  Returns false after virtio_error.
 */
static bool walk_chain(struct virtqueue *vq, uint16_t head, unsigned *out_num,
                       unsigned *in_num, uint64_t *out_len, uint64_t *in_len)
{
    struct virtio_dev *vdev = vq->vdev;
    const struct virtq_desc *table = vq->desc;
    unsigned max = vq->num, i = head, count = 0, nseg = 0;
    uint64_t total[2] = {0, 0};
    bool indirect = false;
    struct virtq_desc d;

    read_desc(table, i, &d);
    if (d.flags & VIRTQ_DESC_F_INDIRECT) {
        if (!virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC)) {
            virtio_error(vdev,
                         "queue %u: indirect descriptor %u without "
                         "VIRTIO_F_INDIRECT_DESC",
                         vq->index, head);
            return false;
        }
        if (d.flags & VIRTQ_DESC_F_NEXT) {
            virtio_error(vdev,
                         "queue %u: descriptor %u is both INDIRECT and NEXT",
                         vq->index, head);
            return false;
        }
        if (d.len == 0 || d.len % sizeof(struct virtq_desc) ||
            d.len / sizeof(struct virtq_desc) > VIRTQ_MAX_SIZE) {
            virtio_error(vdev,
                         "queue %u: indirect table of %" PRIu32
                         " bytes (not a multiple of 16 in [16, %u])",
                         vq->index, d.len,
                         VIRTQ_MAX_SIZE * (unsigned)sizeof(struct virtq_desc));
            return false;
        }
        /* 16-byte entries read with 8-byte loads: keep them aligned */
        table = (d.addr & 7) ? NULL : gm_map(vdev->gm, d.addr, d.len, false);
        if (!table) {
            virtio_error(vdev,
                         "queue %u: indirect table at 0x%" PRIx64 "+0x%" PRIx32
                         " is misaligned or outside guest RAM",
                         vq->index, d.addr, d.len);
            return false;
        }
        max = d.len / sizeof(struct virtq_desc);
        indirect = true;
        i = 0;
        read_desc(table, i, &d);
    }
    for (;;) {
        bool write = d.flags & VIRTQ_DESC_F_WRITE;

        if (++count > max) {
            virtio_error(vdev,
                         "queue %u: chain at head %u is longer than its %s "
                         "(%u entries): a loop?",
                         vq->index, head, indirect ? "indirect table" : "queue",
                         max);
            return false;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            virtio_error(vdev, "queue %u: chain at head %u: %s descriptor %u",
                         vq->index, head,
                         indirect ? "indirect table holds an indirect"
                                  : "indirect flag on non-head",
                         i);
            return false;
        }
        if (!write && total[1]) {
            virtio_error(vdev,
                         "queue %u: chain at head %u: device-readable "
                         "descriptor %u after a device-writable one",
                         vq->index, head, i);
            return false;
        }
        if (d.len) {
            void *p = gm_map(vdev->gm, d.addr, d.len, write);

            if (!p) {
                virtio_error(vdev,
                             "queue %u: chain at head %u: buffer 0x%" PRIx64
                             "+0x%" PRIx32 " is outside guest RAM%s",
                             vq->index, head, d.addr, d.len,
                             write ? " (or read-only)" : "");
                return false;
            }
            if (nseg >= VIRTQ_MAX_SEGS) {
                virtio_error(vdev,
                             "queue %u: chain at head %u has more than %u "
                             "buffers",
                             vq->index, head, VIRTQ_MAX_SEGS);
                return false;
            }
            total[write] += d.len;
            if (total[write] > UINT32_MAX) {
                virtio_error(vdev,
                             "queue %u: chain at head %u: total length "
                             "overflows 32 bits",
                             vq->index, head);
                return false;
            }
            vq->scratch[nseg].iov_base = p;
            vq->scratch[nseg].iov_len = d.len;
            nseg++;
            if (!write) {
                (*out_num)++;
            } else {
                (*in_num)++;
            }
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT)) {
            break;
        }
        i = d.next;
        if (i >= max) {
            virtio_error(vdev,
                         "queue %u: chain at head %u: next index %u beyond "
                         "its %s of %u",
                         vq->index, head, i,
                         indirect ? "indirect table" : "queue", max);
            return false;
        }
        read_desc(table, i, &d);
    }
    *out_len = total[0];
    *in_len = total[1];
    return true;
}

void *virtq_pop(struct virtqueue *vq, size_t elem_size)
{
    struct virtio_dev *vdev = vq->vdev;
    unsigned out_num = 0, in_num = 0;
    uint64_t out_len = 0, in_len = 0;
    uint16_t idx, pending, head;
    struct virtq_elem *elem;
    size_t base;

    if (!running(vq)) {
        return NULL;
    }
    if (vq->shadow_avail_idx == vq->last_avail_idx &&
        avail_idx(vq) == vq->last_avail_idx) {
        return NULL;
    }
    if (vq->inflight >= vq->num) {
        /* the same heads made available again while still in use: the
         * host would hold ever more requests */
        virtio_error(vdev,
                     "queue %u: more than %u buffers in flight (a head "
                     "made available twice?)",
                     vq->index, vq->num);
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
    if (!walk_chain(vq, head, &out_num, &in_num, &out_len, &in_len)) {
        return NULL;
    }
    vq->last_avail_idx++;
    if (virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX) && vq->notification) {
        /* ask for a kick at the next buffer (spec 2.7.10) */
        st16(avail_event(vq), vq->last_avail_idx);
    }
    base = ALIGN_UP(elem_size, _Alignof(struct iovec));
    elem = g_malloc(base + (out_num + in_num) * sizeof(struct iovec));
    memset(elem, 0, elem_size);
    elem->vq = vq;
    elem->head = head;
    elem->out_num = out_num;
    elem->in_num = in_num;
    elem->out_len = out_len;
    elem->in_len = in_len;
    elem->out_sg = (struct iovec *)((char *)elem + base);
    elem->in_sg = elem->out_sg + out_num;
    memcpy(elem->out_sg, vq->scratch,
           (out_num + in_num) * sizeof(struct iovec));
    vq->inflight++;
    return elem;
}

void virtq_discard(struct virtqueue *vq, struct virtq_elem *elem)
{
    if (vq->inflight) {
        vq->inflight--;
    }
    g_free(elem);
}

void virtq_push(struct virtqueue *vq, struct virtq_elem *elem, uint32_t len)
{
    struct virtq_used_elem *u;

    if (!vq->ready || vq->vdev->broken) {
        /* the ring is gone (reset) or no longer trusted */
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
    virtq_discard(vq, elem);
}

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void virtq_notify(struct virtqueue *vq)
{
    struct virtio_dev *vdev = vq->vdev;
    uint16_t old = vq->signalled_used;
    bool valid = vq->signalled_used_valid;

    if (!vq->ready || vdev->broken) {
        return;
    }
    if (valid && old == vq->used_idx) {
        return; /* nothing new since the last interrupt */
    }
    /* our used->idx store before the driver's suppression fields */
    virtio_mb();
    vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    if (virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX)) {
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
    if (virtio_has_feature(vq->vdev, VIRTIO_F_EVENT_IDX)) {
        if (enable) {
            st16(avail_event(vq), avail_idx(vq));
        }
    } else {
        st16(&vq->used[0], enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
    }
    if (enable) {
        /* the flag before the caller's re-check of avail->idx */
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
