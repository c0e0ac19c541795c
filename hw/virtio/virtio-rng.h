/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng.h: the virtio entropy device model (virtio 1.2 section 5.4),
 * transport-independent: virtio-rng-device (and virtio-rng-pci) bind it to
 * a transport.  One request queue; each chain's device-writable buffers
 * are filled from the host's entropy (getrandom(2), or the file of an
 * `-object rng-random`), at most `max-bytes` bytes per `period` ms, as
 * QEMU's virtio-rng.
 *
 * Lock model: every entry (kicks, the period timer, the entropy file's
 * readiness) runs under the transport device's lock, `lock`.
 */
#ifndef HW_VIRTIO_VIRTIO_RNG_H
#define HW_VIRTIO_VIRTIO_RNG_H

#include "util/common.h"
#include "util/error.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-model.h"
#include "hw/virtio/virtio.h"

#define VIRTIO_ID_RNG 4

/* QEMU's queue size for the request queue (hw/virtio/virtio-rng.c). */
#define VIRTIO_RNG_QUEUE_SIZE 8
/* The most bytes one pass over the queue delivers (and so the most one
 * request gets): a guest posting a 4 GiB buffer is served in slices, each
 * pass returning to the main loop before the next. */
#define VIRTIO_RNG_PASS_BYTES (64 * KiB)

struct virtio_rng {
    GMutex *lock; /* the transport device's lock (NULL: standalone) */
    /* properties (QEMU's names) */
    char *rng;          /* id of an -object rng-random / rng-builtin */
    uint64_t max_bytes; /* per period */
    uint32_t period;    /* ms */
    /* state */
    struct virtio_dev vdev;
    int fd;                /* rng-random's file (our dup); -1: getrandom(2) */
    char *source;          /* for messages: the file, or "getrandom" */
    GMainContext *ctx;     /* timers and watches (NULL: none, tests) */
    bool period_open;      /* a period runs: quota counts down */
    uint64_t quota;        /* bytes left in this period */
    GSource *period_timer; /* ends the period */
    GSource *fd_watch;     /* the file had nothing: wait for it */
    GSource *resume;       /* the pass budget was spent, or getrandom
                              had nothing yet: continue later */
    struct virtq_elem *pending; /* popped, waiting for quota or entropy */
    bool source_failed;         /* the failure is reported once */
    uint32_t period_left_ms;    /* migration: of the open period */
    /* the machine runs (a standalone device always does): stopped, no
     * timer or watch fills a request */
    bool running;
    /* counters (tests; never reset by the guest) */
    uint64_t delivered; /* bytes given to the guest */
    uint64_t periods;   /* periods begun */
};

/* QEMU's -device virtio-rng-* properties, offsets plus `base` (see
 * hw/virtio/virtio-model.h). */
#define VIRTIO_RNG_PROPS(base)                                                 \
    {"rng", PROP_STR, (base) + offsetof(struct virtio_rng, rng), NULL,         \
     "id of the rng-random or rng-builtin object (default: built-in)"},        \
        {"max-bytes", PROP_U64,                                                \
         (base) + offsetof(struct virtio_rng, max_bytes),                      \
         "9223372036854775807", "most bytes given to the guest per period"},   \
    {                                                                          \
        "period", PROP_U32, (base) + offsetof(struct virtio_rng, period),      \
            "65536", "rate limit period in milliseconds"                       \
    }

/* The same list, standalone (tests). */
extern const struct prop virtio_rng_props[];
/* The model both transports bind (hw/virtio/virtio-model.h). */
extern const struct virtio_model_class virtio_rng_model;
/* The microvm pair (virtio-rng-device.c). */
extern const struct device_class virtio_rng_device_class;

struct machine_config;

/* Checks the rng= of every -device against the -object table once the
 * objects are realized, so a wrong id is named before the accelerator is
 * opened, on any host (QEMU's messages, "-device TEXT: " first). */
bool virtio_rng_check_links(const struct machine_config *cfg, Error **errp);
/* Sets the property defaults (for users other than the device table). */
void virtio_rng_set_defaults(struct virtio_rng *s);
/* Checks the properties and sets up the device reading entropy from fd
 * (taken over, closed at teardown; -1: getrandom(2)); `source` names it
 * in messages.  The caller then binds a transport. */
bool virtio_rng_setup(struct virtio_rng *s, int fd, const char *source,
                      struct guest_mem *gm, struct vlog *log, Error **errp);
/* Runs timers and watches on ctx from now on (lock: the device lock). */
void virtio_rng_attach(struct virtio_rng *s, GMainContext *ctx);
/* Stops the sources, drops a pending request and frees the state. */
void virtio_rng_teardown(struct virtio_rng *s);

#endif
