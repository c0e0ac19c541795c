/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon-qmp.c: the monitor's side of the balloon (QEMU 7.2's
 * `balloon`, `query-balloon`, BALLOON_CHANGE, and the device's run-time
 * QOM properties guest-stats and guest-stats-polling-interval that libvirt
 * reads for `virsh dommemstat`).  One balloon per machine, as QEMU: the
 * commands find it through m->balloon.
 *
 * Threads: the commands and the event run on the main loop; the driver
 * changes `actual` from whichever thread handles its config write (a vCPU
 * or the main loop), so the event is posted to the main loop from there.
 */
#include "util/common.h"
#include "hw/virtio/virtio-balloon.h"
#include "qapi/json-value.h"
#include "qapi/qapi-gen-types.h"
#include "system/machine.h"

/* QEMU's BALLOON_CHANGE rate limit (monitor_qapi_event_conf). */
#define EVENT_PERIOD_US G_USEC_PER_SEC

static void lock(struct virtio_balloon *s)
{
    if (s->lock) {
        g_mutex_lock(s->lock);
    }
}

static void unlock(struct virtio_balloon *s)
{
    if (s->lock) {
        g_mutex_unlock(s->lock);
    }
}

struct virtio_balloon *virtio_balloon_find(struct machine *m,
                                           struct device **dev, Error **errp)
{
    if (!m || !m->balloon) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_ACTIVE,
                  "No balloon device has been activated");
        return NULL;
    }
    if (dev) {
        *dev = m->balloon;
    }
    return virtio_model_of(m->balloon);
}

/* ---- BALLOON_CHANGE ------------------------------------------------- */

static gboolean event_fire(gpointer opaque)
{
    struct virtio_balloon *s = opaque;
    uint64_t actual;

    lock(s);
    actual = virtio_balloon_actual_bytes(s);
    g_source_unref(s->event_src);
    s->event_src = NULL;
    s->event_last = g_get_monotonic_time();
    unlock(s);
    qapi_event_send_balloon_change(s->m, (int64_t)actual);
    return G_SOURCE_REMOVE;
}

/* Under the lock, any thread: one pending event carries the latest value. */
static void actual_changed(struct virtio_balloon *s, void *opaque)
{
    int64_t now = g_get_monotonic_time();
    int64_t wait = s->event_last ? s->event_last + EVENT_PERIOD_US - now : 0;

    if (s->event_src) {
        return;
    }
    s->event_src = g_timeout_source_new(wait > 0 ? (guint)(wait / 1000) : 0);
    g_source_set_callback(s->event_src, event_fire, s, NULL);
    g_source_attach(s->event_src, s->m->ctx);
}

bool virtio_balloon_register(struct virtio_balloon *s, struct machine *m,
                             struct device *dev, Error **errp)
{
    if (m->balloon) {
        error_setg(errp, "Only one balloon device is supported");
        return false;
    }
    m->balloon = dev;
    s->m = m;
    s->actual_changed = actual_changed;
    s->actual_changed_opaque = NULL;
    return true;
}

void virtio_balloon_unregister(struct virtio_balloon *s)
{
    /* main thread, like event_fire: the source cannot be running */
    if (s->event_src) {
        g_source_destroy(s->event_src);
        g_source_unref(s->event_src);
        s->event_src = NULL;
    }
    s->actual_changed = NULL;
    if (s->m && s->m->balloon && virtio_model_of(s->m->balloon) == s) {
        s->m->balloon = NULL;
    }
    s->m = NULL;
}

/* ---- commands ------------------------------------------------------- */

void qmp_balloon(struct machine *m, int64_t value, Error **errp)
{
    struct virtio_balloon *s = virtio_balloon_find(m, NULL, errp);

    if (!s) {
        return;
    }
    if (value <= 0) {
        error_setg(errp, "Parameter 'target' expects a size");
        return;
    }
    lock(s);
    virtio_balloon_set_target(s, (uint64_t)value);
    unlock(s);
}

struct qapi_balloon_info *qmp_query_balloon(struct machine *m, Error **errp)
{
    struct virtio_balloon *s = virtio_balloon_find(m, NULL, errp);
    struct qapi_balloon_info *info;

    if (!s) {
        return NULL;
    }
    info = g_new0(struct qapi_balloon_info, 1);
    lock(s);
    info->actual = (int64_t)virtio_balloon_actual_bytes(s);
    unlock(s);
    return info;
}

/* ---- QOM: guest-stats, guest-stats-polling-interval ----------------- */

#define PROP_INTERVAL "guest-stats-polling-interval"
#define PROP_STATS "guest-stats"

static const struct device_qom_prop balloon_qom_props[] = {
    {PROP_INTERVAL, "int"},
    {PROP_STATS, "guest statistics"},
    {NULL, NULL},
};

static const struct device_qom_prop *vb_qom_props(struct device *dev)
{
    return balloon_qom_props;
}

static struct json_value *vb_qom_get(struct device *dev, const char *name,
                                     Error **errp)
{
    struct virtio_balloon *s = virtio_model_of(dev);
    struct json_value *v = NULL;

    lock(s);
    if (!strcmp(name, PROP_INTERVAL)) {
        v = json_new_int(s->stats_poll_interval);
    } else if (!strcmp(name, PROP_STATS)) {
        v = virtio_balloon_stats_json(s);
    }
    unlock(s);
    if (!v) {
        error_setg(errp, "Property '%s.%s' not found", dev->cls->name, name);
    }
    return v;
}

static bool vb_qom_set(struct device *dev, const char *name,
                       const struct json_value *val, Error **errp)
{
    struct virtio_balloon *s = virtio_model_of(dev);
    int64_t secs;
    bool ok;

    if (!strcmp(name, PROP_STATS)) {
        error_setg(errp, "Insufficient permission to perform this operation");
        return false;
    }
    if (strcmp(name, PROP_INTERVAL) != 0) {
        error_setg(errp, "Property '%s.%s' not found", dev->cls->name, name);
        return false;
    }
    if (json_is(val, JSON_INT)) {
        secs = val->u.i;
    } else if (json_is(val, JSON_UINT)) {
        secs = val->u.u > INT64_MAX ? INT64_MAX : (int64_t)val->u.u;
    } else {
        error_setg(errp, "Invalid parameter type for '%s', expected: integer",
                   PROP_INTERVAL);
        return false;
    }
    lock(s);
    ok = virtio_balloon_set_poll_interval(s, secs, errp);
    unlock(s);
    return ok;
}

const struct device_qom_ops virtio_balloon_qom_ops = {
    .props = vb_qom_props,
    .get = vb_qom_get,
    .set = vb_qom_set,
};
