/* SPDX-License-Identifier: MIT */
/*
 * virtio.h: the transport-independent virtio 1.x core (virtio spec 1.2,
 * sections 2 and 3): feature negotiation, device status and reset, and
 * split virtqueues (2.7) with indirect descriptors and VIRTIO_F_EVENT_IDX.
 * A transport (virtio-pci, virtio-mmio) is thin glue: it forwards what the
 * driver writes to its registers into the virtio_* calls below and turns
 * the core's notify callbacks into interrupts (the core never raises one).
 * A device model (virtio-blk) fills in struct virtio_device_ops.
 *
 * The guest is hostile: every ring address, index, descriptor and chain is
 * checked; a broken ring sets DEVICE_NEEDS_RESET, calls the transport's
 * config notify and logs a rate-limited guest error.  Guest memory only
 * through system/guest-mem.h, whole buffers inside one RAM region.
 *
 * Lock model: the core has no lock of its own.  Every call into the core
 * for one device (transport register accesses, queue notifications, device
 * completions) is made with that device's lock held (struct device.lock,
 * the lock system/memory.c takes around register accesses), so the core
 * and the device model see one thread at a time.  The guest's CPUs run
 * concurrently with it: ring accesses use the barriers of spec 2.7.
 */
#ifndef HW_VIRTIO_VIRTIO_H
#define HW_VIRTIO_VIRTIO_H

#include "util/common.h"
#include "util/error.h"
#include <sys/uio.h>

struct guest_mem;
struct vlog;

/* Device status (spec 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Reserved feature bits (spec 6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34

/* Split ring layout (spec 2.7). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
/* Packed ring (spec 2.8). */
#define VIRTQ_DESC_F_AVAIL (1u << 7)
#define VIRTQ_DESC_F_USED (1u << 15)
#define VIRTQ_EVENT_F_ENABLE 0
#define VIRTQ_EVENT_F_DISABLE 1
#define VIRTQ_EVENT_F_DESC 2
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define VIRTQ_MAX_SIZE 32768 /* spec: Queue Size is at most 32768 */
/* The most buffers one chain may carry (direct descriptors are also bound
 * by the queue size).  Linux sends at most seg_max + 2. */
#define VIRTQ_MAX_SEGS 1024

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_packed_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t id;
    uint16_t flags;
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtio_dev;
struct virtqueue;

/*
 * What the core asks of a transport.  Both are called with the device
 * lock held, possibly from the main loop or an I/O thread.
 */
struct virtio_transport_ops {
    /* The device put buffers in the used ring of queue `index` and the
     * driver asked to hear about it: interrupt the guest (the queue's
     * MSI-X vector, or INTx / the MMIO interrupt with ISR bit 0; the core
     * has set vdev->isr already). */
    void (*notify_queue)(void *opaque, unsigned index);
    /* Configuration change, including DEVICE_NEEDS_RESET (ISR bit 1). */
    void (*notify_config)(void *opaque);
};

/* A popped request: the chain's buffers as host iovecs into guest RAM,
 * device-readable (out) ones first.  Allocated by virtq_pop with
 * `elem_size` bytes so a device can embed it first in its request. */
struct virtq_elem {
    struct virtqueue *vq;
    uint16_t head;   /* split: head index; packed: buffer id */
    uint16_t ndescs; /* packed: ring slots the chain took */
    unsigned out_num, in_num;
    uint64_t out_len, in_len; /* bytes; each fits in 32 bits */
    struct iovec *out_sg;     /* out_num entries */
    struct iovec *in_sg;      /* in_num entries (storage follows the
                                 device's request, same allocation) */
};

struct virtio_device_ops {
    uint16_t device_id;
    size_t config_size;
    /* Device-specific config space (little-endian), refreshed before each
     * driver read. */
    void (*get_config)(struct virtio_dev *vdev, uint8_t *config);
    /* A driver write to the config space (already copied in); NULL:
     * read-only config, writes are logged and dropped. */
    void (*set_config)(struct virtio_dev *vdev, const uint8_t *config);
    /* The driver kicked queue vq (transport notify register/ioeventfd). */
    void (*queue_notify)(struct virtio_dev *vdev, struct virtqueue *vq);
    /* Stop using guest memory: finish or drop every request in flight.
     * Called on reset with the rings still as they were. */
    void (*reset)(struct virtio_dev *vdev);
    /* DRIVER_OK was set (optional): start processing. */
    void (*driver_ok)(struct virtio_dev *vdev);
};

struct virtqueue {
    struct virtio_dev *vdev;
    unsigned index;
    uint16_t num_max; /* the device's maximum queue size */
    uint16_t num;     /* the driver's choice (split: a power of 2) */
    bool ready;
    bool packed; /* VIRTIO_F_RING_PACKED negotiated when enabled */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* Host views of the rings, checked to lie in RAM when the queue was
     * enabled.  Shared with the guest: read each field once. */
    struct virtq_desc *desc;
    uint16_t *avail; /* flags, idx, ring[num], used_event */
    uint16_t *used;  /* flags, idx, then {id, len}[num], avail_event */
    /* packed: the ring, the driver's and the device's event suppression
     * structures ({off_wrap, flags}), and the wrap counters */
    struct virtq_packed_desc *pdesc;
    uint16_t *driver_event;
    uint16_t *device_event;
    bool avail_wrap, used_wrap;
    uint16_t last_avail_idx;
    uint16_t shadow_avail_idx; /* the last avail->idx read */
    uint16_t used_idx;
    uint16_t signalled_used; /* used_idx at the last interrupt */
    uint16_t signalled_mark; /* and with the packed used wrap counter */
    bool signalled_used_valid;
    bool notification;     /* driver kicks wanted */
    unsigned inflight;     /* popped, not yet pushed */
    uint16_t msix_vector;  /* for the transport; the core only resets it */
    struct iovec *scratch; /* VIRTQ_MAX_SEGS, the walker's workspace */
};

struct virtio_dev {
    const char *name; /* for messages: "virtio-blk" */
    const struct virtio_device_ops *ops;
    const struct virtio_transport_ops *transport;
    void *transport_opaque;
    struct guest_mem *gm;
    struct vlog *log;
    uint64_t host_features;  /* offered (VERSION_1 always included) */
    uint64_t guest_features; /* driver's choice */
    uint8_t status;
    uint8_t isr; /* bit 0 queue, bit 1 config; the transport clears it */
    uint32_t config_generation;
    bool broken; /* a ring was malformed; nothing more until reset */
    /* migration: host_features as saved (virtio-vmstate.c); a load
     * refuses a driver's choice the device here does not offer */
    uint64_t saved_host_features;
    unsigned num_queues;
    struct virtqueue *vqs;
    uint8_t *config; /* config_size bytes */
};

/* Sets up vdev (queues of num_max entries each); nothing can fail. */
void virtio_init(struct virtio_dev *vdev, const char *name,
                 const struct virtio_device_ops *ops, struct guest_mem *gm,
                 struct vlog *log, uint64_t host_features, unsigned num_queues,
                 uint16_t num_max);
void virtio_cleanup(struct virtio_dev *vdev);
void virtio_set_transport(struct virtio_dev *vdev,
                          const struct virtio_transport_ops *ops, void *opaque);
static inline bool virtio_has_feature(const struct virtio_dev *vdev,
                                      unsigned bit)
{
    return (vdev->guest_features >> bit) & 1;
}

/* ---- transport -> core: what the driver wrote ---------------------- */

/* Feature words (32 bits each, sel 0 and 1; other words read 0). */
uint32_t virtio_get_host_features(const struct virtio_dev *vdev, unsigned sel);
void virtio_set_guest_features(struct virtio_dev *vdev, unsigned sel,
                               uint32_t val);
uint32_t virtio_get_guest_features(const struct virtio_dev *vdev, unsigned sel);
/* The driver writes the status register: 0 resets the device; FEATURES_OK
 * is kept only if the features are acceptable (VERSION_1 set, nothing not
 * offered), so the driver's read-back fails the negotiation (spec 3.1.1). */
void virtio_set_status(struct virtio_dev *vdev, uint8_t status);
/* Resets the device and its queues (status 0, features 0). */
void virtio_reset(struct virtio_dev *vdev);
/* Queue registers.  Writes are ignored (and logged) unless the queue is
 * disabled and the driver is between FEATURES_OK and DRIVER_OK. */
void virtio_queue_set_num(struct virtio_dev *vdev, unsigned q, uint16_t num);
void virtio_queue_set_addr(struct virtio_dev *vdev, unsigned q, uint64_t desc,
                           uint64_t avail, uint64_t used);
/* Enabling checks the ring: size a power of 2, addresses aligned and every
 * ring inside guest RAM; a bad ring marks the device broken. */
void virtio_queue_set_ready(struct virtio_dev *vdev, unsigned q, bool ready);
/* The host views of a queue's rings. */
struct virtq_rings {
    struct virtq_desc *desc;
    uint16_t *avail, *used;
    struct virtq_packed_desc *pdesc;
    uint16_t *driver_event, *device_event;
};
/* What enabling checks, for enabling and for a loaded state alike: the
 * size (split: a power of 2), the alignment, and every ring of vq (as
 * `packed` or split) inside guest RAM; fills r, or fails naming the queue
 * and the reason (r all NULL). */
bool virtq_map_rings(struct virtio_dev *vdev, const struct virtqueue *vq,
                     bool packed, struct virtq_rings *r, Error **errp);
void virtq_set_rings(struct virtqueue *vq, const struct virtq_rings *r);
/* The driver kicked queue q. */
void virtio_queue_notify(struct virtio_dev *vdev, unsigned q);
/* Device config space: 1, 2, 4 or 8 byte accesses (little-endian);
 * out-of-range reads return all ones (logged), writes are dropped. */
uint64_t virtio_config_read(struct virtio_dev *vdev, uint64_t off,
                            unsigned size);
void virtio_config_write(struct virtio_dev *vdev, uint64_t off, uint64_t val,
                         unsigned size);
/* Reads and clears the ISR (the legacy/INTx and MMIO status). */
uint8_t virtio_isr_read_clear(struct virtio_dev *vdev);

/* ---- device model -> core ------------------------------------------ */

/* Marks the device broken (DEVICE_NEEDS_RESET, config notify) and logs a
 * rate-limited guest error "<name>: <message>". */
void virtio_error(struct virtio_dev *vdev, const char *fmt, ...)
    PRINTF_FMT(2, 3);
/* The device changed its config space (capacity): config notify. */
void virtio_notify_config(struct virtio_dev *vdev);

/* Takes the next available chain, or NULL when the ring is empty, the
 * device is broken or not running (a malformed chain breaks the device
 * and returns NULL).  elem_size >= sizeof(struct virtq_elem) is the size
 * of the device's request that starts with the element. */
void *virtq_pop(struct virtqueue *vq, size_t elem_size);
/* Returns the chain to the driver with `len` bytes written and frees it.
 * Does not interrupt: call virtq_notify after a batch. */
void virtq_push(struct virtqueue *vq, struct virtq_elem *elem, uint32_t len);
/* Returns n chains at once (a mergeable-buffer frame, virtio-net): the
 * driver sees all of them or none - one used->idx store (split), or the
 * first slot's flags written last (packed). */
void virtq_push_batch(struct virtqueue *vq, struct virtq_elem **elems,
                      const uint32_t *lens, unsigned n);
/* Frees an element without using it (device reset). */
void virtq_discard(struct virtqueue *vq, struct virtq_elem *elem);
/* Gives a popped chain back to the ring unused and frees the element: the
 * next virtq_pop returns the same chain again (a model's drain before a
 * migration hands back what it holds, e.g. a balloon's stats buffer or
 * rx buffers not yet filled; the destination pops them anew).  Only the
 * most recently popped element still held may be given back: several
 * are given back in the reverse order of their pops. */
void virtq_unpop(struct virtqueue *vq, struct virtq_elem *elem);
/* Interrupts the guest if buffers were used since the last interrupt and
 * the driver wants to know (used_event or NO_INTERRUPT). */
void virtq_notify(struct virtqueue *vq);
/* Enables or suppresses driver kicks (avail_event or NO_NOTIFY).
 * Enabling is followed by a full barrier, so the caller re-checks the ring
 * (virtq_empty) and does not miss a buffer made available meanwhile. */
void virtq_set_notification(struct virtqueue *vq, bool enable);
bool virtq_empty(struct virtqueue *vq);

/* ---- migration (virtio-vmstate.c) ----------------------------------- */

struct vmstate_desc;
/* The core's state: status, both feature sets, ISR, config generation,
 * broken, and every queue (size, enable, layout, ring addresses, indices,
 * wrap counters, interrupt suppression state, MSI-X vector).  Its
 * pre_save refuses a device with requests in flight (the transport has
 * the model complete them first: virtio_model_class.drain); its post_load
 * checks everything, rings against guest RAM as enabling does, and
 * changes nothing: the transport's outermost post_load calls
 * virtio_load_finish once nothing can refuse any more. */
extern const struct vmstate_desc virtio_core_vmsd;
/* Puts a loaded (checked) state to work: the host views of the enabled
 * rings re-derived from their addresses, nothing in flight. */
void virtio_load_finish(struct virtio_dev *vdev);

/* Copies between an iovec list and a flat buffer starting at `off`;
 * returns the bytes copied (short at the end of the list). */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf,
                  size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off,
                    const void *buf, size_t len);

#endif
