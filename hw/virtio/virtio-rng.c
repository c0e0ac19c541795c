/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng.c: the virtio entropy device (virtio 1.2 section 5.4) over
 * the virtio core; see virtio-rng.h.  The guest is hostile: only the
 * chain's device-writable buffers are written, never more than the period's
 * quota or VIRTIO_RNG_PASS_BYTES per pass, and a request waiting for quota
 * or entropy is parked (not spun on) until a timer or the file's readiness
 * brings the device back.  Migration carries the rate limit's position;
 * a parked request is filled or given back to the ring before a save.
 */
#include "util/common.h"
#include "hw/virtio/virtio-rng.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/object.h"
#include "util/log.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <sys/random.h>
#include <unistd.h>

/* getrandom(2) before the host's pool is initialised: try again later. */
#define VRNG_GETRANDOM_RETRY_MS 100

const struct prop virtio_rng_props[] = {VIRTIO_RNG_PROPS(0), PROP_END};

void virtio_rng_set_defaults(struct virtio_rng *s)
{
    s->max_bytes = INT64_MAX;
    s->period = 1u << 16;
}

static struct virtio_rng *to_rng(struct virtio_dev *vdev)
{
    return (struct virtio_rng *)((char *)vdev -
                                 offsetof(struct virtio_rng, vdev));
}

static void drop_source(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_source_unref(*src);
        *src = NULL;
    }
}

static void vrng_process(struct virtio_rng *s);

/*
 * The start of a one-shot source's callback: takes the device lock and
 * forgets the source (the context drops its own reference when the
 * callback returns G_SOURCE_REMOVE).  False when the source was dropped
 * (a reset on a vCPU thread) while this callback waited for the lock.
 */
static bool vrng_source_enter(struct virtio_rng *s, GSource **src)
{
    if (s->lock) {
        g_mutex_lock(s->lock);
    }
    if (*src != g_main_current_source()) {
        return false;
    }
    g_source_unref(*src);
    *src = NULL;
    return true;
}

static void vrng_source_leave(struct virtio_rng *s)
{
    if (s->lock) {
        g_mutex_unlock(s->lock);
    }
}

/* ---- the rate limit ------------------------------------------------ */

static gboolean vrng_period_end(gpointer opaque)
{
    struct virtio_rng *s = opaque;

    if (vrng_source_enter(s, &s->period_timer)) {
        /* the next request opens a new period (QEMU's: the timer starts
         * with the first request after the last period ended) */
        s->period_open = false;
        vrng_process(s);
    }
    vrng_source_leave(s);
    return G_SOURCE_REMOVE;
}

/* The open period ends in `ms` (none without a loop: tests). */
static void vrng_period_arm(struct virtio_rng *s, uint32_t ms)
{
    if (s->ctx) {
        s->period_timer = g_timeout_source_new(ms);
        g_source_set_callback(s->period_timer, vrng_period_end, s, NULL);
        g_source_attach(s->period_timer, s->ctx);
    }
}

static void vrng_period_begin(struct virtio_rng *s)
{
    s->period_open = true;
    s->quota = s->max_bytes;
    s->periods++;
    vrng_period_arm(s, s->period);
}

/* ---- entropy --------------------------------------------------------- */

static gboolean vrng_resume(gpointer opaque)
{
    struct virtio_rng *s = opaque;

    if (vrng_source_enter(s, &s->resume)) {
        vrng_process(s);
    }
    vrng_source_leave(s);
    return G_SOURCE_REMOVE;
}

static gboolean vrng_fd_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct virtio_rng *s = opaque;

    if (vrng_source_enter(s, &s->fd_watch)) {
        vrng_process(s);
    }
    vrng_source_leave(s);
    return G_SOURCE_REMOVE;
}

/* Comes back from the main loop after `ms` (0: as soon as it is idle). */
static void vrng_schedule_resume(struct virtio_rng *s, unsigned ms)
{
    if (!s->ctx || s->resume) {
        return; /* no loop (tests): the next kick continues */
    }
    s->resume = ms ? g_timeout_source_new(ms) : g_idle_source_new();
    g_source_set_callback(s->resume, vrng_resume, s, NULL);
    g_source_attach(s->resume, s->ctx);
}

static void vrng_watch_fd(struct virtio_rng *s)
{
    if (!s->ctx || s->fd_watch) {
        return;
    }
    s->fd_watch = g_unix_fd_source_new(s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(s->fd_watch,
                          (GSourceFunc)(void (*)(void))vrng_fd_ready, s, NULL);
    g_source_attach(s->fd_watch, s->ctx);
}

/* A host-side failure of the source: said once (until it works again),
 * never to the guest, who just waits for entropy like from a slow one. */
static void vrng_source_failed(struct virtio_rng *s, int err, const char *what)
{
    if (!s->source_failed) {
        s->source_failed = true;
        if (err) {
            error_report("%s: %s '%s': %s", s->vdev.name, what, s->source,
                         strerror(err));
        } else {
            error_report("%s: %s '%s'", s->vdev.name, what, s->source);
        }
    }
}

/* getrandom(2) into the first `want` bytes of the buffers. */
static ssize_t vrng_getrandom(struct virtio_rng *s, const struct iovec *iov,
                              unsigned n, size_t want)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < want; i++) {
        size_t len = MIN(iov[i].iov_len, want - done), got = 0;

        while (got < len) {
            /* GRND_NONBLOCK: the main loop never waits for the host's
             * pool to initialise (only possible early in the host's boot) */
            ssize_t r = getrandom((char *)iov[i].iov_base + got, len - got,
                                  GRND_NONBLOCK);

            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r < 0) {
                if (errno != EAGAIN) {
                    vrng_source_failed(s, errno, "cannot read from");
                    return done ? (ssize_t)done : -1;
                }
                if (!done) {
                    vrng_schedule_resume(s, VRNG_GETRANDOM_RETRY_MS);
                }
                return (ssize_t)done;
            }
            got += (size_t)r;
            done += (size_t)r;
        }
    }
    return (ssize_t)done;
}

/* readv(2) from the file into the first `want` bytes of the buffers
 * (trimming the last one for the call). */
static ssize_t vrng_read_file(struct virtio_rng *s, struct iovec *iov,
                              unsigned n, size_t want)
{
    unsigned k = 0;
    size_t before = 0, saved;
    ssize_t r;

    while (k + 1 < n && before + iov[k].iov_len < want) {
        before += iov[k].iov_len;
        k++;
    }
    saved = iov[k].iov_len;
    iov[k].iov_len = MIN(saved, want - before);
    do {
        r = readv(s->fd, iov, (int)k + 1);
    } while (r < 0 && errno == EINTR);
    iov[k].iov_len = saved;
    if (r < 0 && errno == EAGAIN) {
        vrng_watch_fd(s); /* a slow source (/dev/hwrng, a pipe) */
        return 0;
    }
    if (r <= 0) {
        /* the end of a regular file or a closed pipe: nothing more will
         * come; requests wait (each kick tries again, said once) */
        vrng_source_failed(s, r < 0 ? errno : 0,
                           r < 0 ? "cannot read from" : "end of file");
        return -1;
    }
    return r;
}

/* Fills the first `want` (> 0) bytes of e's writable buffers; returns the
 * bytes written (> 0), 0 when the source has nothing now (a watch or a
 * timer brings the device back), -1 after a failure of the source. */
static ssize_t vrng_fill(struct virtio_rng *s, struct virtq_elem *e,
                         size_t want)
{
    ssize_t r = s->fd < 0 ? vrng_getrandom(s, e->in_sg, e->in_num, want)
                          : vrng_read_file(s, e->in_sg, e->in_num, want);

    if (r > 0) {
        s->source_failed = false;
    }
    return r;
}

/* ---- requests ------------------------------------------------------ */

/*
 * One chain before it is served.  Spec 5.4.6.1: the driver MUST NOT put
 * device-readable buffers in the queue; 5.4.6.2: the device MUST place
 * one or more bytes into the buffer.  A chain with readable buffers is a
 * driver error, but one that touches no device state: the readable
 * buffers are never written and the writable ones are filled as usual.
 * A chain with no writable byte cannot get any, so it is returned at once
 * with a used length of 0, the honest count the driver MUST examine
 * (5.4.6.1).  Neither breaks the device (DEVICE_NEEDS_RESET would cost
 * the guest its entropy source for a harmless mistake) nor stalls the
 * queue behind it (QEMU leaves such a chain at the head forever).  Both
 * are logged as guest errors.  Malformed rings (loops, buffers outside
 * RAM) are the core's, which breaks the device.
 */
static bool vrng_check_chain(struct virtio_rng *s, struct virtq_elem *e)
{
    if (e->out_num) {
        vlog_guest_error(s->vdev.log,
                         "%s: queue 0: request at head %u has %u "
                         "device-readable buffer(s) (spec 5.4.6.1); "
                         "%s",
                         s->vdev.name, e->head, e->out_num,
                         e->in_len ? "ignored" : "completed with 0 bytes");
    } else if (!e->in_len) {
        vlog_guest_error(s->vdev.log,
                         "%s: queue 0: request at head %u has no "
                         "device-writable byte; completed with 0 bytes",
                         s->vdev.name, e->head);
    }
    return e->in_len != 0;
}

/* Fills e with at most `budget` bytes of the period's quota (> 0) and
 * completes it; returns vrng_fill's result (e is still held unless > 0). */
static ssize_t vrng_serve(struct virtio_rng *s, struct virtq_elem *e,
                          uint64_t budget)
{
    size_t want = (size_t)MIN(MIN(e->in_len, s->quota), budget);
    ssize_t n = vrng_fill(s, e, want);

    if (n > 0) {
        s->quota -= (uint64_t)n;
        s->delivered += (uint64_t)n;
        virtq_push(&s->vdev.vqs[0], e, (uint32_t)n);
    }
    return n;
}

static void vrng_process(struct virtio_rng *s)
{
    struct virtqueue *vq = &s->vdev.vqs[0];
    uint64_t budget = VIRTIO_RNG_PASS_BYTES;
    bool used = false;

    if (!vq->ready || s->vdev.broken) {
        return; /* a parked request waits for the reset */
    }
    if (!s->running) {
        /* a timer or the file's readiness on a stopped machine: nothing
         * is written to guest RAM after a migration captured it (QEMU's
         * rate-limit timer is on the virtual clock, stopped with the VM);
         * vrng_model_run_state looks again */
        return;
    }
    for (;;) {
        struct virtq_elem *e = s->pending;
        ssize_t n;

        if (!e) {
            if (budget == 0) {
                /* more may be waiting: let the loop breathe first */
                if (!virtq_empty(vq)) {
                    vrng_schedule_resume(s, 0);
                }
                break;
            }
            e = virtq_pop(vq, sizeof(*e));
            if (!e) {
                break; /* empty, not running, or broken by the core */
            }
            if (!vrng_check_chain(s, e)) {
                virtq_push(vq, e, 0);
                used = true;
                continue;
            }
            s->pending = e;
        }
        if (!s->period_open) {
            vrng_period_begin(s);
        }
        if (s->quota == 0) {
            break; /* the period timer brings us back */
        }
        if (budget == 0) {
            vrng_schedule_resume(s, 0);
            break;
        }
        n = vrng_serve(s, e, budget);
        if (n <= 0) {
            break; /* parked until the source has data */
        }
        s->pending = NULL;
        budget -= (uint64_t)n;
        used = true;
    }
    if (used) {
        virtq_notify(vq);
    }
}

static void vrng_queue_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    vrng_process(to_rng(vdev));
}

static void vrng_reset(struct virtio_dev *vdev)
{
    struct virtio_rng *s = to_rng(vdev);

    /* the parked request points into memory the driver takes back */
    if (s->pending) {
        virtq_discard(&vdev->vqs[0], s->pending);
        s->pending = NULL;
    }
    drop_source(&s->fd_watch);
    drop_source(&s->resume);
    /* The period and its quota survive a reset: otherwise a guest could
     * reset the device to get past the rate limit. */
}

static const struct virtio_device_ops vrng_ops = {
    .device_id = VIRTIO_ID_RNG,
    .config_size = 0, /* no configuration layout (5.4.4) */
    .queue_notify = vrng_queue_notify,
    .reset = vrng_reset,
};

bool virtio_rng_setup(struct virtio_rng *s, int fd, const char *source,
                      struct guest_mem *gm, struct vlog *log, Error **errp)
{
    /* no device features (5.4.3); the core adds VERSION_1 */
    uint64_t f =
        (1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX);

    /* QEMU's checks and messages (hw/virtio/virtio-rng.c) */
    if (s->period == 0) {
        error_setg(errp, "'period' parameter expects a positive integer");
        goto fail;
    }
    if (s->max_bytes > INT64_MAX) {
        error_setg(errp, "'max-bytes' parameter must be non-negative, "
                         "and less than 2^63");
        goto fail;
    }
    s->fd = fd;
    s->source = g_strdup(source);
    virtio_init(&s->vdev, "virtio-rng", &vrng_ops, gm, log, f, 1,
                VIRTIO_RNG_QUEUE_SIZE);
    s->running = true; /* a device hears the machine's state at realize */
    return true;
fail:
    if (fd >= 0) {
        close(fd);
    }
    s->fd = -1;
    return false;
}

void virtio_rng_attach(struct virtio_rng *s, GMainContext *ctx)
{
    s->ctx = ctx;
}

void virtio_rng_teardown(struct virtio_rng *s)
{
    if (!s->source) {
        return; /* never set up */
    }
    vrng_reset(&s->vdev);
    drop_source(&s->period_timer);
    virtio_cleanup(&s->vdev);
    if (s->fd >= 0) {
        close(s->fd);
    }
    s->fd = -1;
    g_free(s->source);
    s->source = NULL;
    s->ctx = NULL;
}

/* ---- the model both transports bind -------------------------------- */

/* The rng-backend object `id` names (QEMU's link<rng-backend> rng=). */
static struct object *vrng_find_backend(const struct machine_config *cfg,
                                        const char *id, Error **errp)
{
    struct object *obj = cfg ? object_find(cfg->objects, id) : NULL;

    if (!obj) {
        error_setg(errp, "Device '%s' not found", id);
        return NULL;
    }
    if (!object_is_rng_backend(obj)) {
        error_setg(errp, "Invalid parameter type for 'rng', expected: "
                         "rng-backend");
        return NULL;
    }
    return obj;
}

bool virtio_rng_check_links(const struct machine_config *cfg, Error **errp)
{
    for (guint i = 0; cfg->devices && i < cfg->devices->len; i++) {
        const struct device_opts *o = g_ptr_array_index(cfg->devices, i);

        /* only virtio-rng-* have an rng property, as in QEMU */
        for (size_t k = 0; k < o->n; k++) {
            if (!strcmp(o->values[k].name, "rng") &&
                o->values[k].type == PROP_STR &&
                !vrng_find_backend(cfg, o->values[k].s, errp)) {
                error_prepend(errp, "-device %s: ", o->text);
                return false;
            }
        }
    }
    return true;
}

/* The entropy source named by rng=: a dup of rng-random's file, or -1 for
 * rng-builtin and no rng= at all (QEMU then creates a built-in backend). */
static bool vrng_open_source(struct virtio_rng *s, struct machine *m, int *fd,
                             const char **name, Error **errp)
{
    struct object *obj;

    *fd = -1;
    *name = "getrandom";
    if (!s->rng) {
        return true;
    }
    obj = vrng_find_backend(m->cfg, s->rng, errp);
    if (!obj) {
        return false;
    }
    if (obj->fd < 0) {
        return true; /* rng-builtin */
    }
    /* our own descriptor: devices may share the object (QEMU allows it)
     * and it outlives none of them */
    *fd = fcntl(obj->fd, F_DUPFD_CLOEXEC, 3);
    if (*fd < 0) {
        error_setg_errno(errp, errno, "rng '%s'", s->rng);
        return false;
    }
    *name = object_get_str(obj, "filename");
    if (!*name) {
        *name = OBJECT_RNG_DEFAULT_FILE;
    }
    return true;
}

static struct virtio_dev *vrng_model_realize(void *model, struct device *dev,
                                             struct machine *m, Error **errp)
{
    struct virtio_rng *s = model;
    const char *name;
    int fd;

    if (!vrng_open_source(s, m, &fd, &name, errp) ||
        !virtio_rng_setup(s, fd, name, m->gm, &m->log, errp)) {
        return NULL;
    }
    s->lock = &dev->lock;
    return &s->vdev;
}

static void vrng_model_start(void *model, GMainContext *ctx)
{
    virtio_rng_attach(model, ctx);
}

static void vrng_model_unrealize(void *model)
{
    virtio_rng_teardown(model);
}

/* ---- migration ------------------------------------------------------ */

/* Milliseconds left of the open period (its timer's due time). */
static uint32_t vrng_period_left(struct virtio_rng *s)
{
    gint64 left;

    if (!s->period_timer) {
        /* no loop ends it (tests), or its end is being dispatched */
        return s->ctx ? 0 : s->period;
    }
    left = g_source_get_ready_time(s->period_timer) - g_get_monotonic_time();
    if (left <= 0) {
        return 0;
    }
    return (uint32_t)MIN((uint64_t)(left + 999) / 1000, (uint64_t)s->period);
}

static bool vrng_pre_save(void *opaque, Error **errp)
{
    struct virtio_rng *s = opaque;

    s->period_left_ms = s->period_open ? vrng_period_left(s) : 0;
    (void)errp;
    return true;
}

/* The rate limit is the destination's own properties: a stream carrying
 * more than they allow comes from a differently configured source (or is
 * forged), and would let the guest past the destination's limit. */
static bool vrng_post_load(void *opaque, Error **errp)
{
    struct virtio_rng *s = opaque;

    if (s->quota > s->max_bytes) {
        error_setg(errp,
                   "%s: quota %" PRIu64 " bytes left in the period is more "
                   "than max-bytes %" PRIu64 " (check its properties)",
                   s->vdev.name, s->quota, s->max_bytes);
        return false;
    }
    if (s->period_left_ms > s->period) {
        error_setg(errp,
                   "%s: period_left_ms %" PRIu32 " is longer than the "
                   "period of %" PRIu32 " ms (check its properties)",
                   s->vdev.name, s->period_left_ms, s->period);
        return false;
    }
    return true;
}

/* The rate limit's position: a guest cannot get a fresh quota by being
 * migrated (QEMU's destination starts with a full one). */
static const struct vmstate_field vrng_fields[] = {
    VMS_BOOL(struct virtio_rng, period_open),
    VMS_U64(struct virtio_rng, quota),
    VMS_U32(struct virtio_rng, period_left_ms),
    VMS_END,
};

static const struct vmstate_desc vrng_vmsd = {
    .name = "virtio-rng",
    .version = 1,
    .fields = vrng_fields,
    .pre_save = vrng_pre_save,
    .post_load = vrng_post_load,
};

/* The request waiting for quota or entropy: filled now if the source has
 * bytes without waiting (the file is non-blocking, getrandom too) and the
 * quota allows, else given back to the ring for the destination (or this
 * device, if the VM goes on: the source or timer it waited for still
 * brings it back) to pop anew.  It is the queue's only popped request. */
static void vrng_model_drain(void *model)
{
    struct virtio_rng *s = model;
    struct virtqueue *vq = &s->vdev.vqs[0];
    struct virtq_elem *e = s->pending;

    if (!e) {
        return;
    }
    s->pending = NULL;
    if (vq->ready && !s->vdev.broken) {
        if (!s->period_open) {
            vrng_period_begin(s);
        }
        if (s->quota && vrng_serve(s, e, VIRTIO_RNG_PASS_BYTES) > 0) {
            virtq_notify(vq);
            return;
        }
    }
    virtq_unpop(vq, e);
}

/* The period goes on for what was left of it; the transport then looks
 * at the queue (the request given back, buffers the source had not
 * served). */
static void vrng_model_loaded(void *model)
{
    struct virtio_rng *s = model;

    if (s->pending) {
        /* popped from the rings the load replaced */
        virtq_discard(&s->vdev.vqs[0], s->pending);
        s->pending = NULL;
    }
    drop_source(&s->period_timer);
    if (s->period_open) {
        vrng_period_arm(s, s->period_left_ms);
    }
}

/* Stopped: requests wait (vrng_process); running again: served, as far
 * as the quota and the source allow. */
static void vrng_model_run_state(void *model, bool running)
{
    struct virtio_rng *s = model;

    s->running = running;
    if (running) {
        vrng_process(s);
    }
}

const struct virtio_model_class virtio_rng_model = {
    .run_state = vrng_model_run_state,
    .vmsd = &vrng_vmsd,
    .drain = vrng_model_drain,
    .loaded = vrng_model_loaded,
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .pci_class = 0x00ff00, /* "other": what QEMU reports */
    .realize = vrng_model_realize,
    .start = vrng_model_start,
    .unrealize = vrng_model_unrealize,
};
