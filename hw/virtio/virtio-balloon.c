/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon.c: the memory balloon (virtio 1.2 section 5.5) over the
 * virtio core; see virtio-balloon.h.  Every page frame number the driver
 * sends is hostile: each is checked to lie in guest RAM (ROM and holes are
 * logged as guest errors and skipped) before its host memory is released
 * (system/guest-mem.h gm_discard).  Deflating needs nothing from the host:
 * a released page comes back (zeroed) when the guest touches it.
 * Migration carries the target, `actual`, the poison value, the last stats
 * and their polling interval; the held stats buffer goes back to the ring
 * before a save, for the destination to pop anew.
 */
#include "util/common.h"
#include "hw/virtio/virtio-balloon.h"
#include "migration/vmstate.h"
#include "qapi/json-value.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "util/bytes.h"
#include "util/log.h"

/* struct virtio_balloon_config (spec 5.5.4): num_pages, actual,
 * free_page_hint_cmd_id, poison_val.  As QEMU, the config ends before
 * free_page_hint_cmd_id unless PAGE_POISON is offered. */
#define CFG_NUM_PAGES 0
#define CFG_ACTUAL 4
#define CFG_POISON_VAL 12
#define CONFIG_SIZE_SHORT 8
#define CONFIG_SIZE_FULL 16

/* A stats buffer longer than this many entries is read only this far:
 * drivers send one entry per tag (10 today), and the main loop must not
 * walk a guest-sized buffer. */
#define STATS_MAX_ENTRIES 256

static const char *const stat_names[VIRTIO_BALLOON_S_NR] = {
    [VIRTIO_BALLOON_S_SWAP_IN] = "stat-swap-in",
    [VIRTIO_BALLOON_S_SWAP_OUT] = "stat-swap-out",
    [VIRTIO_BALLOON_S_MAJFLT] = "stat-major-faults",
    [VIRTIO_BALLOON_S_MINFLT] = "stat-minor-faults",
    [VIRTIO_BALLOON_S_MEMFREE] = "stat-free-memory",
    [VIRTIO_BALLOON_S_MEMTOT] = "stat-total-memory",
    [VIRTIO_BALLOON_S_AVAIL] = "stat-available-memory",
    [VIRTIO_BALLOON_S_CACHES] = "stat-disk-caches",
    [VIRTIO_BALLOON_S_HTLB_PGALLOC] = "stat-htlb-pgalloc",
    [VIRTIO_BALLOON_S_HTLB_PGFAIL] = "stat-htlb-pgfail",
};

const struct prop virtio_balloon_props[] = {VIRTIO_BALLOON_PROPS(0), PROP_END};

const char *virtio_balloon_stat_name(unsigned tag)
{
    return tag < VIRTIO_BALLOON_S_NR ? stat_names[tag] : NULL;
}

void virtio_balloon_set_defaults(struct virtio_balloon *s)
{
    s->deflate_on_oom = false;
    s->free_page_reporting = false;
    s->page_poison = true;
}

static struct virtio_balloon *to_balloon(struct virtio_dev *vdev)
{
    return (struct virtio_balloon *)((char *)vdev -
                                     offsetof(struct virtio_balloon, vdev));
}

/* ---- config space --------------------------------------------------- */

/* The guest's RAM in balloon pages: the most num_pages or actual can be. */
static uint64_t vb_ram_pages(const struct virtio_balloon *s)
{
    return MIN(s->ram_size >> VIRTIO_BALLOON_PFN_SHIFT, (uint64_t)UINT32_MAX);
}

static void vb_get_config(struct virtio_dev *vdev, uint8_t *c)
{
    struct virtio_balloon *s = to_balloon(vdev);

    memset(c, 0, vdev->ops->config_size);
    le_store(c + CFG_NUM_PAGES, s->num_pages, 4);
    le_store(c + CFG_ACTUAL, s->actual, 4);
    if (vdev->ops->config_size >= CONFIG_SIZE_FULL) {
        le_store(c + CFG_POISON_VAL, s->poison_val, 4);
    }
}

static void vb_set_config(struct virtio_dev *vdev, const uint8_t *c)
{
    struct virtio_balloon *s = to_balloon(vdev);
    uint32_t actual = (uint32_t)le_load(c + CFG_ACTUAL, 4);

    /* num_pages is the device's: a driver write there is not kept */
    if (vdev->ops->config_size >= CONFIG_SIZE_FULL) {
        s->poison_val = (uint32_t)le_load(c + CFG_POISON_VAL, 4);
    }
    /* The driver cannot hold more pages than there are: a larger count
     * is its bug, kept as "all of RAM" (what query-balloon made of it
     * anyway), so no guest can put an impossible value in a saved
     * state and make its VM refused by every destination. */
    if (actual > vb_ram_pages(s)) {
        vlog_guest_error(vdev->log,
                         "virtio-balloon: actual %" PRIu32
                         " pages is more than the %" PRIu64
                         " pages of RAM, taken as %" PRIu64 "\n",
                         actual, vb_ram_pages(s), vb_ram_pages(s));
        actual = (uint32_t)vb_ram_pages(s);
    }
    if (actual != s->actual) {
        s->actual = actual;
        if (s->actual_changed) {
            s->actual_changed(s, s->actual_changed_opaque);
        }
    }
}

/* ---- inflate / deflate ---------------------------------------------- */

/* Releases the host memory of `npages` 4 KiB guest pages from gpa (one
 * run of consecutive page frame numbers, all checked to be RAM). */
static void release_run(struct virtio_balloon *s, uint64_t gpa, uint64_t npages)
{
    uint64_t len = npages << VIRTIO_BALLOON_PFN_SHIFT;
    uint64_t host_page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint8_t *hva = gm_map(s->vdev.gm, gpa, len, true);
    Error *err = NULL;

    if (!hva || host_page != VIRTIO_BALLOON_PAGE_SIZE) {
        /* larger host pages (hugetlbfs) cannot be given back 4 KiB at a
         * time; the pages stay, as QEMU's do for a partial huge page */
        return;
    }
    if (!gm_discard(s->vdev.gm, hva, len, &err)) {
        vlog_guest_error(s->vdev.log, "virtio-balloon: %s\n",
                         error_get_pretty(err));
        error_free(err);
        return;
    }
    s->pages_released += npages;
}

/* Is the 4 KiB page at gpa guest RAM (not ROM, not a hole)? */
static bool page_is_ram(struct virtio_balloon *s, uint64_t gpa)
{
    struct guest_mem *gm = s->vdev.gm;
    uint8_t *hva = gm_map(gm, gpa, VIRTIO_BALLOON_PAGE_SIZE, true);

    return hva && gm->ram && hva >= gm->ram &&
           (uint64_t)(hva - gm->ram) < gm->ram_size;
}

static void inflate(struct virtio_balloon *s, struct virtq_elem *e)
{
    uint64_t run_gpa = 0, run_len = 0;
    uint8_t raw[4];

    /* the buffer is an array of le32 PFNs; a trailing partial one is
     * ignored, as QEMU does */
    for (uint64_t off = 0; off + 4 <= e->out_len; off += 4) {
        uint32_t pfn;
        uint64_t gpa;

        iov_to_buf(e->out_sg, e->out_num, off, raw, 4);
        pfn = (uint32_t)le_load(raw, 4);
        gpa = (uint64_t)pfn << VIRTIO_BALLOON_PFN_SHIFT;
        if (!page_is_ram(s, gpa)) {
            s->bad_pfns++;
            vlog_guest_error(s->vdev.log,
                             "virtio-balloon: inflate: PFN 0x%" PRIx32
                             " (gpa 0x%" PRIx64 ") is not guest RAM, "
                             "skipped\n",
                             pfn, gpa);
            continue;
        }
        /* consecutive pages in one RAM region: one system call */
        if (run_len && gpa == run_gpa + (run_len << VIRTIO_BALLOON_PFN_SHIFT) &&
            gm_map(s->vdev.gm, run_gpa,
                   (run_len + 1) << VIRTIO_BALLOON_PFN_SHIFT, true)) {
            run_len++;
            continue;
        }
        if (run_len) {
            release_run(s, run_gpa, run_len);
        }
        run_gpa = gpa;
        run_len = 1;
    }
    if (run_len) {
        release_run(s, run_gpa, run_len);
    }
}

static void pages_queue(struct virtio_balloon *s, struct virtqueue *vq)
{
    struct virtq_elem *e;

    do {
        virtq_set_notification(vq, false);
        while ((e = virtq_pop(vq, sizeof(*e)))) {
            if (vq->index == VIRTIO_BALLOON_Q_INFLATE) {
                inflate(s, e);
            }
            /* deflate: the pages come back when the guest touches them */
            virtq_push(vq, e, 0);
        }
        virtq_set_notification(vq, true);
    } while (!virtq_empty(vq));
    virtq_notify(vq);
}

/* ---- free page reporting (spec 5.5.6.7) ----------------------------- */

static void reporting_queue(struct virtio_balloon *s, struct virtqueue *vq)
{
    struct virtq_elem *e;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

    while ((e = virtq_pop(vq, sizeof(*e)))) {
        /* A non-zero poison value means the guest expects its free pages
         * to keep that pattern: released pages would read as zeros. */
        for (unsigned i = 0; i < e->in_num && s->poison_val == 0; i++) {
            uintptr_t lo = (uintptr_t)e->in_sg[i].iov_base;
            uintptr_t hi = lo + e->in_sg[i].iov_len;
            uintptr_t alo = ALIGN_UP(lo, page), ahi = hi & ~(page - 1);
            Error *err = NULL;

            if (ahi <= alo) {
                continue;
            }
            if (!gm_discard(s->vdev.gm, (void *)alo, ahi - alo, &err)) {
                /* the walker checked the buffer is in guest memory: a
                 * writable ROM copy is not RAM */
                vlog_guest_error(s->vdev.log, "virtio-balloon: reporting: %s\n",
                                 error_get_pretty(err));
                error_free(err);
                continue;
            }
            s->pages_released += (ahi - alo) >> VIRTIO_BALLOON_PFN_SHIFT;
        }
        virtq_push(vq, e, 0);
    }
    virtq_notify(vq);
}

/* ---- statistics (spec 5.5.6.3) -------------------------------------- */

static void parse_stats(struct virtio_balloon *s, struct virtq_elem *e)
{
    uint8_t raw[VIRTIO_BALLOON_STAT_SIZE];
    uint64_t n = e->out_len / VIRTIO_BALLOON_STAT_SIZE;

    if (n > STATS_MAX_ENTRIES) {
        vlog_guest_error(s->vdev.log,
                         "virtio-balloon: stats buffer of %" PRIu64
                         " bytes, only the first %u entries read\n",
                         e->out_len, STATS_MAX_ENTRIES);
        n = STATS_MAX_ENTRIES;
    }
    for (uint64_t i = 0; i < n; i++) {
        unsigned tag;

        iov_to_buf(e->out_sg, e->out_num, i * VIRTIO_BALLOON_STAT_SIZE, raw,
                   sizeof(raw));
        tag = (unsigned)le_load(raw, 2);
        /* tags this device does not know are skipped (spec 5.5.6.3.1) */
        if (tag < VIRTIO_BALLOON_S_NR) {
            s->stats[tag] = le_load(raw + 2, 8);
        }
    }
    s->stats_last_update = g_get_real_time() / G_USEC_PER_SEC;
}

static void stats_queue(struct virtio_balloon *s, struct virtqueue *vq)
{
    struct virtq_elem *e;

    while ((e = virtq_pop(vq, sizeof(*e)))) {
        if (s->stats_elem) {
            /* the driver keeps one buffer out (spec 5.5.6.3); a second
             * means the first is given back without stats */
            virtq_push(vq, s->stats_elem, 0);
            virtq_notify(vq);
        }
        parse_stats(s, e);
        /* held until the next poll asks the driver for fresh numbers */
        s->stats_elem = e;
    }
}

void virtio_balloon_request_stats(struct virtio_balloon *s)
{
    struct virtqueue *vq;

    /* a stopped machine's guest answers nothing, and its RAM is not
     * written (QEMU's polling timer is on the virtual clock) */
    if (!s->stats_elem || s->vdev.broken || !s->running ||
        !(s->vdev.status & VIRTIO_STATUS_DRIVER_OK)) {
        return;
    }
    vq = &s->vdev.vqs[VIRTIO_BALLOON_Q_STATS];
    virtq_push(vq, s->stats_elem, 0);
    s->stats_elem = NULL;
    virtq_notify(vq);
}

static void vb_queue_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    struct virtio_balloon *s = to_balloon(vdev);

    switch (vq->index) {
    case VIRTIO_BALLOON_Q_INFLATE:
    case VIRTIO_BALLOON_Q_DEFLATE:
        pages_queue(s, vq);
        break;
    case VIRTIO_BALLOON_Q_STATS:
        stats_queue(s, vq);
        break;
    case VIRTIO_BALLOON_Q_REPORTING:
        reporting_queue(s, vq);
        break;
    default:
        break;
    }
}

static void drop_repop(struct virtio_balloon *s)
{
    s->repop_wanted = false;
    if (s->repop) {
        g_source_destroy(s->repop);
        g_source_unref(s->repop);
        s->repop = NULL;
    }
}

static void vb_reset(struct virtio_dev *vdev)
{
    struct virtio_balloon *s = to_balloon(vdev);

    if (!s->set_up) {
        return; /* virtio_init's reset, before setup finished */
    }
    if (s->stats_elem) {
        virtq_discard(s->stats_elem->vq, s->stats_elem);
        s->stats_elem = NULL;
    }
    drop_repop(s);
    s->poison_val = 0;
    /* After a reset the guest owns all its RAM again (released pages
     * come back on touch); the target stays, so a new driver inflates to
     * it again. */
    if (s->actual != 0) {
        s->actual = 0;
        if (s->actual_changed) {
            s->actual_changed(s, s->actual_changed_opaque);
        }
    }
}

static const struct virtio_device_ops vb_ops_short = {
    .device_id = VIRTIO_ID_BALLOON,
    .config_size = CONFIG_SIZE_SHORT,
    .get_config = vb_get_config,
    .set_config = vb_set_config,
    .queue_notify = vb_queue_notify,
    .reset = vb_reset,
};

static const struct virtio_device_ops vb_ops_full = {
    .device_id = VIRTIO_ID_BALLOON,
    .config_size = CONFIG_SIZE_FULL,
    .get_config = vb_get_config,
    .set_config = vb_set_config,
    .queue_notify = vb_queue_notify,
    .reset = vb_reset,
};

bool virtio_balloon_setup(struct virtio_balloon *s, struct guest_mem *gm,
                          struct vlog *log, uint64_t ram_size, Error **errp)
{
    uint64_t f = (1ULL << VIRTIO_F_INDIRECT_DESC) |
                 (1ULL << VIRTIO_F_EVENT_IDX) |
                 (1ULL << VIRTIO_BALLOON_F_STATS_VQ);
    unsigned nq = 3;

    if (ram_size == 0) {
        error_setg(errp, "virtio-balloon needs guest RAM");
        return false;
    }
    if (s->deflate_on_oom) {
        f |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
    }
    if (s->page_poison) {
        f |= 1ULL << VIRTIO_BALLOON_F_PAGE_POISON;
    }
    if (s->free_page_reporting) {
        f |= 1ULL << VIRTIO_BALLOON_F_REPORTING;
        nq = 4;
    }
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++) {
        s->stats[i] = UINT64_MAX;
    }
    s->stats_last_update = 0;
    s->ram_size = ram_size;
    s->num_pages = 0;
    s->actual = 0;
    s->poison_val = 0;
    virtio_init(&s->vdev, "virtio-balloon",
                s->page_poison ? &vb_ops_full : &vb_ops_short, gm, log, f, nq,
                VIRTIO_BALLOON_QUEUE_SIZE);
    s->set_up = true;
    s->running = true; /* a device hears the machine's state at realize */
    return true;
}

static void stop_timer(struct virtio_balloon *s)
{
    if (s->stats_timer) {
        g_source_destroy(s->stats_timer);
        g_source_unref(s->stats_timer);
        s->stats_timer = NULL;
    }
}

void virtio_balloon_teardown(struct virtio_balloon *s)
{
    stop_timer(s);
    drop_repop(s);
    if (s->set_up) {
        s->actual_changed = NULL; /* no event from the last reset */
        virtio_reset(&s->vdev);
        virtio_cleanup(&s->vdev);
        s->set_up = false;
    }
}

/* ---- host side ------------------------------------------------------ */

void virtio_balloon_set_target(struct virtio_balloon *s, uint64_t bytes)
{
    uint64_t pages;

    if (bytes > s->ram_size) {
        bytes = s->ram_size;
    }
    pages = (s->ram_size - bytes) >> VIRTIO_BALLOON_PFN_SHIFT;
    s->num_pages = (uint32_t)MIN(pages, UINT32_MAX);
    virtio_notify_config(&s->vdev);
}

uint64_t virtio_balloon_actual_bytes(const struct virtio_balloon *s)
{
    uint64_t held = (uint64_t)s->actual << VIRTIO_BALLOON_PFN_SHIFT;

    /* a driver claiming more than the RAM leaves nothing, not less */
    return held >= s->ram_size ? 0 : s->ram_size - held;
}

static gboolean stats_tick(gpointer opaque)
{
    struct virtio_balloon *s = opaque;

    if (s->lock) {
        g_mutex_lock(s->lock);
    }
    virtio_balloon_request_stats(s);
    if (s->lock) {
        g_mutex_unlock(s->lock);
    }
    return G_SOURCE_CONTINUE;
}

bool virtio_balloon_set_poll_interval(struct virtio_balloon *s, int64_t secs,
                                      Error **errp)
{
    /* QEMU's messages */
    if (secs < 0) {
        error_setg(errp, "timer value must be greater than zero");
        return false;
    }
    if (secs > UINT32_MAX) {
        error_setg(errp, "timer value is too big");
        return false;
    }
    if ((uint32_t)secs == s->stats_poll_interval &&
        (secs == 0 || s->stats_timer)) {
        return true;
    }
    stop_timer(s);
    s->stats_poll_interval = (uint32_t)secs;
    if (secs == 0) {
        return true;
    }
    s->stats_timer = g_timeout_source_new_seconds((guint)secs);
    g_source_set_callback(s->stats_timer, stats_tick, s, NULL);
    g_source_attach(s->stats_timer, s->ctx);
    return true;
}

struct json_value *virtio_balloon_stats_json(const struct virtio_balloon *s)
{
    struct json_value *o = json_new_object();
    struct json_value *st = json_new_object();

    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++) {
        /* never reported: QEMU's (uint64_t)-1 */
        json_object_set_static(st, stat_names[i], json_new_uint(s->stats[i]));
    }
    json_object_set_static(o, "stats", st);
    json_object_set_static(o, "last-update",
                           json_new_int(s->stats_last_update));
    return o;
}

/* ---- the model both transports bind -------------------------------- */

static struct virtio_dev *vb_model_realize(void *model, struct device *dev,
                                           struct machine *m, Error **errp)
{
    struct virtio_balloon *s = model;

    if (!m->gm || m->gm->ram_size == 0) {
        error_setg(errp, "%s needs guest RAM", dev->cls->name);
        return NULL;
    }
    if (!virtio_balloon_register(s, m, dev, errp)) {
        return NULL;
    }
    if (!virtio_balloon_setup(s, m->gm, &m->log, m->gm->ram_size, errp)) {
        virtio_balloon_unregister(s);
        return NULL;
    }
    s->lock = &dev->lock;
    s->ctx = m->ctx;
    return &s->vdev;
}

static void vb_model_start(void *model, GMainContext *ctx)
{
    struct virtio_balloon *s = model;

    /* the polling timer runs where the transport's kicks do */
    s->ctx = ctx;
}

static void vb_model_unrealize(void *model)
{
    struct virtio_balloon *s = model;

    virtio_balloon_unregister(s);
    virtio_balloon_teardown(s);
}

/* ---- migration ------------------------------------------------------ */

static bool vb_pre_save(void *opaque, Error **errp)
{
    struct virtio_balloon *s = opaque;

    s->saved_poll_interval = s->stats_poll_interval;
    (void)errp;
    return true;
}

static bool vb_post_load(void *opaque, Error **errp)
{
    struct virtio_balloon *s = opaque;
    uint64_t pages = vb_ram_pages(s);

    /* set_target and set_config keep both within the RAM (the same size
     * on both sides: the stream's fingerprint) */
    if (s->num_pages > pages) {
        error_setg(errp,
                   "%s: num_pages %" PRIu32 " is more than the %" PRIu64
                   " pages of RAM",
                   s->vdev.name, s->num_pages, pages);
        return false;
    }
    if (s->actual > pages) {
        error_setg(errp,
                   "%s: actual %" PRIu32 " is more than the %" PRIu64
                   " pages of RAM",
                   s->vdev.name, s->actual, pages);
        return false;
    }
    if (s->poison_val && s->vdev.ops->config_size < CONFIG_SIZE_FULL) {
        error_setg(errp,
                   "%s: poison_val 0x%08" PRIx32 " without page-poison "
                   "(check its properties)",
                   s->vdev.name, s->poison_val);
        return false;
    }
    if (s->stats_last_update < 0) {
        error_setg(errp, "%s: stats_last_update %" PRId64 " is negative",
                   s->vdev.name, s->stats_last_update);
        return false;
    }
    return true;
}

/* QEMU's section carries num_pages, actual and poison_val; the last stats
 * and the polling interval come along too, so guest-stats answers on the
 * destination and its polling goes on without a new qom-set. */
static const struct vmstate_field vb_fields[] = {
    VMS_U32(struct virtio_balloon, num_pages),
    VMS_U32(struct virtio_balloon, actual),
    VMS_U32(struct virtio_balloon, poison_val),
    VMS_U64_ARRAY(struct virtio_balloon, stats, VIRTIO_BALLOON_S_NR),
    VMS_U64(struct virtio_balloon, stats_last_update),
    VMS_U32(struct virtio_balloon, saved_poll_interval),
    VMS_END,
};

static const struct vmstate_desc vb_vmsd = {
    .name = "virtio-balloon",
    .version = 1,
    .fields = vb_fields,
    .pre_save = vb_pre_save,
    .post_load = vb_post_load,
};

/* A stats buffer given back by the drain is popped again if this VM goes
 * on (a failed migration, a snapshot): the driver does not kick for a
 * buffer it already made available. */
static gboolean vb_repop(gpointer opaque)
{
    struct virtio_balloon *s = opaque;

    if (s->lock) {
        g_mutex_lock(s->lock);
    }
    /* dropped (reset, teardown) while this waited for the lock */
    if (s->repop == g_main_current_source()) {
        g_source_unref(s->repop);
        s->repop = NULL;
        if (s->running) {
            stats_queue(s, &s->vdev.vqs[VIRTIO_BALLOON_Q_STATS]);
        } else {
            s->repop_wanted = true; /* after the migration, if it fails */
        }
    }
    if (s->lock) {
        g_mutex_unlock(s->lock);
    }
    return G_SOURCE_REMOVE;
}

/* The held stats buffer (the stats queue's last pop: every other one was
 * used at once) goes back to the ring; the destination pops it anew when
 * the transport looks at its queues after the load. */
static void vb_model_drain(void *model)
{
    struct virtio_balloon *s = model;

    if (!s->stats_elem) {
        return;
    }
    virtq_unpop(s->stats_elem->vq, s->stats_elem);
    s->stats_elem = NULL;
    if (!s->repop) {
        s->repop = g_idle_source_new();
        g_source_set_callback(s->repop, vb_repop, s, NULL);
        g_source_attach(s->repop, s->ctx);
    }
}

/* A polling interval set on the destination wins (QEMU's destination
 * uses its own); without one the source's goes on. */
static void vb_model_loaded(void *model)
{
    struct virtio_balloon *s = model;

    if (s->stats_elem) {
        /* popped from the rings the load replaced */
        virtq_discard(s->stats_elem->vq, s->stats_elem);
        s->stats_elem = NULL;
    }
    if (!s->stats_poll_interval && s->saved_poll_interval) {
        /* cannot fail: any u32 is a valid interval */
        virtio_balloon_set_poll_interval(s, s->saved_poll_interval, NULL);
    }
}

/* Stopped: no stats request, no look at the stats queue; running again:
 * the look a drain asked for meanwhile. */
static void vb_model_run_state(void *model, bool running)
{
    struct virtio_balloon *s = model;

    s->running = running;
    if (running && s->repop_wanted) {
        s->repop_wanted = false;
        stats_queue(s, &s->vdev.vqs[VIRTIO_BALLOON_Q_STATS]);
    }
}

const struct virtio_model_class virtio_balloon_model = {
    .run_state = vb_model_run_state,
    .vmsd = &vb_vmsd,
    .drain = vb_model_drain,
    .loaded = vb_model_loaded,
    .name = "virtio-balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .pci_class = 0x00ff00, /* "other", as QEMU reports it */
    .realize = vb_model_realize,
    .start = vb_model_start,
    .unrealize = vb_model_unrealize,
    .qom = &virtio_balloon_qom_ops,
};
