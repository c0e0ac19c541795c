/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon.h: the traditional memory balloon (virtio 1.2 section
 * 5.5), transport-independent: virtio-balloon-device and
 * virtio-balloon-pci bind it.  The host sets a target (num_pages, QMP
 * `balloon`); the driver gives 4 KiB pages back on the inflate queue
 * (vireo releases their host memory), takes them back on the deflate
 * queue and reports how many it holds (config `actual`, QMP
 * `query-balloon`, the BALLOON_CHANGE event).  The stats queue carries the
 * guest's memory statistics (QEMU's polled `guest-stats`), and the
 * optional reporting queue free pages the guest does not use.
 *
 * Lock model: like every virtio model, all entry points run under the
 * transport device's lock (s->lock); the QMP side and the timers take it.
 */
#ifndef HW_VIRTIO_VIRTIO_BALLOON_H
#define HW_VIRTIO_VIRTIO_BALLOON_H

#include "util/common.h"
#include "util/error.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-model.h"
#include "hw/virtio/virtio.h"

struct json_value;

#define VIRTIO_ID_BALLOON 5

/* Feature bits (spec 5.5.3). */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ 1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT 3
#define VIRTIO_BALLOON_F_PAGE_POISON 4
#define VIRTIO_BALLOON_F_REPORTING 5

/* Page frame numbers on the inflate/deflate queues are always of 4 KiB
 * pages, whatever the guest's page size (spec 5.5.6). */
#define VIRTIO_BALLOON_PFN_SHIFT 12
#define VIRTIO_BALLOON_PAGE_SIZE (1u << VIRTIO_BALLOON_PFN_SHIFT)

/* Statistics tags (spec 5.5.6.3), in QEMU's order of guest-stats names. */
enum {
    VIRTIO_BALLOON_S_SWAP_IN = 0,
    VIRTIO_BALLOON_S_SWAP_OUT,
    VIRTIO_BALLOON_S_MAJFLT,
    VIRTIO_BALLOON_S_MINFLT,
    VIRTIO_BALLOON_S_MEMFREE,
    VIRTIO_BALLOON_S_MEMTOT,
    VIRTIO_BALLOON_S_AVAIL,
    VIRTIO_BALLOON_S_CACHES,
    VIRTIO_BALLOON_S_HTLB_PGALLOC,
    VIRTIO_BALLOON_S_HTLB_PGFAIL,
    VIRTIO_BALLOON_S_NR
};
/* One stat on the wire: le16 tag, le64 value, packed. */
#define VIRTIO_BALLOON_STAT_SIZE 10

/* Queue indexes: inflate, deflate, stats always (QEMU adds the stats queue
 * unconditionally and always offers STATS_VQ), reporting after them when
 * offered (no free-page-hint queue: that feature is not offered). */
#define VIRTIO_BALLOON_Q_INFLATE 0
#define VIRTIO_BALLOON_Q_DEFLATE 1
#define VIRTIO_BALLOON_Q_STATS 2
#define VIRTIO_BALLOON_Q_REPORTING 3
#define VIRTIO_BALLOON_QUEUE_SIZE 128 /* QEMU's */

struct virtio_balloon {
    GMutex *lock;      /* the transport device's lock (NULL: standalone) */
    GMainContext *ctx; /* where the stats timer runs (NULL: default) */
    /* properties (QEMU's names) */
    bool deflate_on_oom;
    bool free_page_reporting;
    bool page_poison;
    /* state */
    struct virtio_dev vdev;
    bool set_up;
    uint64_t ram_size;  /* the guest's RAM, bytes: the target's reference */
    uint32_t num_pages; /* the target: pages the driver should give back */
    uint32_t actual;    /* pages the driver says it holds */
    uint32_t poison_val;
    /* guest statistics (UINT64_MAX: never reported, as QEMU's -1) */
    uint64_t stats[VIRTIO_BALLOON_S_NR];
    int64_t stats_last_update;     /* seconds since the epoch, 0: never */
    struct virtq_elem *stats_elem; /* the driver's buffer, held */
    uint32_t stats_poll_interval;  /* seconds, 0: no polling */
    GSource *stats_timer;
    /* migration: the source's polling interval (the destination's own,
     * if set, wins), and the drain's look for the buffer it gave back */
    uint32_t saved_poll_interval;
    GSource *repop;
    /* the machine runs (a standalone device always does): stopped, no
     * stats request is answered and the drain's look waits (repop_wanted) */
    bool running, repop_wanted;
    /* Counters for tests and `info balloon` style diagnostics. */
    uint64_t pages_released, bad_pfns;
    /* Called (under the lock, on any thread) when `actual` changed: the
     * QMP glue schedules BALLOON_CHANGE on the main loop. */
    void (*actual_changed)(struct virtio_balloon *s, void *opaque);
    void *actual_changed_opaque;
    /* QMP glue state: the pending BALLOON_CHANGE and its rate limit */
    struct machine *m;
    GSource *event_src;
    int64_t event_last; /* monotonic us of the last event */
};

/* QEMU's -device virtio-balloon-* properties (offsets plus `base`, see
 * hw/virtio/virtio-model.h). */
#define VIRTIO_BALLOON_PROPS(base)                                             \
    {"deflate-on-oom", PROP_BOOL,                                              \
     (base) + offsetof(struct virtio_balloon, deflate_on_oom), "off",          \
     "offer VIRTIO_BALLOON_F_DEFLATE_ON_OOM"},                                 \
        {"free-page-reporting", PROP_BOOL,                                     \
         (base) + offsetof(struct virtio_balloon, free_page_reporting), "off", \
         "offer VIRTIO_BALLOON_F_REPORTING (free pages are released)"},        \
    {                                                                          \
        "page-poison", PROP_BOOL,                                              \
            (base) + offsetof(struct virtio_balloon, page_poison), "on",       \
            "offer VIRTIO_BALLOON_F_PAGE_POISON"                               \
    }

extern const struct prop virtio_balloon_props[];
extern const struct virtio_model_class virtio_balloon_model;
extern const struct device_class virtio_balloon_device_class;

void virtio_balloon_set_defaults(struct virtio_balloon *s);
/* Sets up the device for a guest of ram_size bytes of RAM in gm. */
bool virtio_balloon_setup(struct virtio_balloon *s, struct guest_mem *gm,
                          struct vlog *log, uint64_t ram_size, Error **errp);
void virtio_balloon_teardown(struct virtio_balloon *s);

/* The rest: with s->lock held (or standalone). */

/* QMP `balloon`: target guest memory in bytes (> 0; above the RAM size it
 * means "all of it"); interrupts the driver with a config change. */
void virtio_balloon_set_target(struct virtio_balloon *s, uint64_t bytes);
/* The guest's memory as the driver reports it: RAM minus `actual`. */
uint64_t virtio_balloon_actual_bytes(const struct virtio_balloon *s);
/* Gives the held stats buffer back so the driver refills it (the polling
 * timer does this every interval). */
void virtio_balloon_request_stats(struct virtio_balloon *s);
/* qom-set guest-stats-polling-interval (seconds, 0 stops polling). */
bool virtio_balloon_set_poll_interval(struct virtio_balloon *s, int64_t secs,
                                      Error **errp);
/* qom-get guest-stats: {"stats": {"stat-swap-in": N, ...}, "last-update"} */
struct json_value *virtio_balloon_stats_json(const struct virtio_balloon *s);
/* QEMU's guest-stats name of tag (NULL past the known ones). */
const char *virtio_balloon_stat_name(unsigned tag);

/* ---- QMP glue (virtio-balloon-qmp.c) -------------------------------- */

struct machine;
/* The machine's balloon device, NULL (with QEMU's DeviceNotActive error
 * "No balloon device has been activated") when there is none. */
struct virtio_balloon *virtio_balloon_find(struct machine *m,
                                           struct device **dev, Error **errp);
/* Wires BALLOON_CHANGE for a device on machine m (realize). */
bool virtio_balloon_register(struct virtio_balloon *s, struct machine *m,
                             struct device *dev, Error **errp);
void virtio_balloon_unregister(struct virtio_balloon *s);
/* The model's run-time QOM properties (guest-stats, its polling). */
extern const struct device_qom_ops virtio_balloon_qom_ops;

#endif
