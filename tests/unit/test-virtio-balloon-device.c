/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-balloon-device.c: `-device virtio-balloon-device` on the
 * microvm board's virtio-mmio slots through the real creation path, and
 * the monitor's side as QEMU 7.2 answers it: balloon / query-balloon
 * (DeviceNotActive without a device), BALLOON_CHANGE on the main loop when
 * the driver writes `actual`, qom-get guest-stats and qom-set
 * guest-stats-polling-interval at /machine/peripheral/ID and at
 * /machine/peripheral-anon/device[N], HMP info balloon / balloon, and one
 * balloon per machine.  Migration through the stream
 * (savevm-harness.h): the target, `actual`, the last stats and the
 * polling interval arrive; the held stats buffer goes back to the ring
 * and the destination pops it, asks for fresh stats and reports them;
 * impossible values are refused naming the field.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-balloon.h"
#include "hw/virtio/virtio-mmio.h"
#include "qapi/json-value.h"
#include "qapi/monitor.h"
#include "qapi/qapi-gen-types.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "util/bytes.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/savevm-harness.h"
#include "tests/unit/vring-build.h"

extern const struct machine_type microvm_machine_type;

#define BASE 0xfeb00000ULL
#define RAM (16 * MiB)

struct dfx {
    struct machine *m;
    struct machine_config cfg;
    GPtrArray *events; /* char *: "NAME DATA" */
};

static void on_event(void *opaque, const char *name, const char *data)
{
    struct dfx *f = opaque;

    g_ptr_array_add(f->events, g_strdup_printf("%s %s", name, data));
}

static void dfx_init(struct dfx *f)
{
    Error *err = NULL;
    struct machine_listener l = {on_event, f};

    machine_config_init(&f->cfg);
    f->cfg.sandbox = false;
    f->m = th_machine_new();
    f->m->cfg = &f->cfg;
    f->m->type = &microvm_machine_type;
    f->m->mmio = as_new("memory", &f->m->log);
    f->m->gm = gm_new(RAM, &err);
    g_assert_true(gm_add_ram(f->m->gm, 0, 0, RAM, "ram", &err));
    f->m->ctx = g_main_context_new();
    f->m->devices = g_ptr_array_new();
    f->m->listeners = g_ptr_array_new_with_free_func(g_free);
    f->events = g_ptr_array_new_with_free_func(g_free);
    machine_add_listener(f->m, &l);
}

static void dfx_fini(struct dfx *f)
{
    for (guint i = f->m->devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(f->m->devices, i - 1));
    }
    g_assert_null(f->m->balloon);
    g_ptr_array_free(f->m->devices, TRUE);
    g_ptr_array_free(f->m->listeners, TRUE);
    g_ptr_array_free(f->events, TRUE);
    as_free(f->m->mmio);
    gm_free(f->m->gm);
    g_main_context_unref(f->m->ctx);
    th_machine_free(f->m);
    machine_config_clear(&f->cfg);
}

/* A -device virtio-balloon-device[,id=ID][,props] (user-created, like
 * -device). */
static struct device *add_balloon_props(struct dfx *f, const char *id,
                                        const char *const *props, Error **errp)
{
    struct device *d =
        th_device_new(f->m, &virtio_balloon_device_class, props, errp);

    if (d) {
        d->id = g_strdup(id);
        d->user = true;
        g_ptr_array_add(f->m->devices, d);
    }
    return d;
}

static struct device *add_balloon(struct dfx *f, const char *id, Error **errp)
{
    return add_balloon_props(f, id, NULL, errp);
}

static uint32_t rd(struct dfx *f, uint64_t off)
{
    uint32_t v = 0;

    as_read(f->m->mmio, BASE + off, &v, 4);
    return v;
}

static void wr(struct dfx *f, uint64_t off, uint32_t v)
{
    as_write(f->m->mmio, BASE + off, &v, 4);
}

static void run_loop(struct dfx *f, guint n_events)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (f->events->len < n_events) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f->m->ctx, FALSE);
        g_usleep(1000);
    }
}

static void test_no_balloon(void)
{
    struct dfx f;
    Error *err = NULL;
    g_autofree char *out = NULL;

    dfx_init(&f);
    g_assert_null(qmp_query_balloon(f.m, &err));
    g_assert_cmpint(error_get_class(err), ==, ERROR_CLASS_DEVICE_NOT_ACTIVE);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "No balloon device has been activated");
    error_free(err);
    err = NULL;
    qmp_balloon(f.m, 1 * MiB, &err);
    g_assert_cmpint(error_get_class(err), ==, ERROR_CLASS_DEVICE_NOT_ACTIVE);
    error_free(err);
    err = NULL;
    out = hmp_run(f.m, "info balloon", -1);
    g_assert_cmpstr(out, ==, "Error: No balloon device has been activated\r\n");
    dfx_fini(&f);
}

/* The driver comes up with its three queues (STATS_VQ accepted). */
static void driver_up(struct dfx *f, struct vr r[3])
{
    wr(f, VIRTIO_MMIO_STATUS, 3);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BALLOON_F_STATS_VQ);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(f, VIRTIO_MMIO_STATUS, 0xb);
    for (unsigned q = 0; q < 3; q++) {
        vr_init(&r[q], f->m->gm, 0x1000 * (q + 1), 8);
        wr(f, VIRTIO_MMIO_QUEUE_SEL, q);
        wr(f, VIRTIO_MMIO_QUEUE_NUM, 8);
        wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r[q].desc);
        wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r[q].avail);
        wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r[q].used);
        wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
    }
    wr(f, VIRTIO_MMIO_STATUS, 0xf);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_STATUS), ==, 0xf);
}

static void test_device(void)
{
    struct dfx f;
    Error *err = NULL;
    struct device *d;
    struct qapi_balloon_info *bi;
    struct vr r[3];
    uint64_t base[4];
    unsigned gsi[4];
    g_autofree char *out = NULL;

    dfx_init(&f);
    d = add_balloon(&f, "b0", &err);
    g_assert_null(err);
    g_assert_nonnull(d);
    g_assert_true(f.m->balloon == d);
    g_assert_cmpuint(virtio_mmio_devices(f.m, base, gsi, 4), ==, 1);
    g_assert_cmphex(base[0], ==, BASE);
    g_assert_cmphex(rd(&f, VIRTIO_MMIO_MAGIC_VALUE), ==, VIRTIO_MMIO_MAGIC);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_DEVICE_ID), ==, VIRTIO_ID_BALLOON);
    wr(&f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    g_assert_cmphex(rd(&f, VIRTIO_MMIO_DEVICE_FEATURES) &
                        ((1u << VIRTIO_BALLOON_F_STATS_VQ) |
                         (1u << VIRTIO_BALLOON_F_DEFLATE_ON_OOM)),
                    ==, 1u << VIRTIO_BALLOON_F_STATS_VQ);

    driver_up(&f, r);

    /* balloon: a target in bytes becomes num_pages and a config irq */
    bi = qmp_query_balloon(f.m, &err);
    g_assert_cmpint(bi->actual, ==, RAM);
    qapi_balloon_info_free(bi);
    qmp_balloon(f.m, 0, &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'target' expects a size");
    error_free(err);
    err = NULL;
    qmp_balloon(f.m, RAM - 4 * MiB, &err);
    g_assert_null(err);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_CONFIG), ==, 1024);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_INTERRUPT_STATUS) & 2, ==, 2);
    g_assert_true(th_gsi_level(f.m, 16));
    wr(&f, VIRTIO_MMIO_INTERRUPT_ACK, 2);

    /* the driver reports 1024 pages held: BALLOON_CHANGE on the loop */
    wr(&f, VIRTIO_MMIO_CONFIG + 4, 1024);
    g_assert_cmpuint(f.events->len, ==, 0);
    run_loop(&f, 1);
    g_assert_cmpstr(g_ptr_array_index(f.events, 0), ==,
                    "BALLOON_CHANGE {\"actual\":12582912}");
    bi = qmp_query_balloon(f.m, &err);
    g_assert_cmpint(bi->actual, ==, RAM - 4 * MiB);
    qapi_balloon_info_free(bi);
    /* two quick changes within the rate limit: one more event, the last
     * value */
    wr(&f, VIRTIO_MMIO_CONFIG + 4, 512);
    wr(&f, VIRTIO_MMIO_CONFIG + 4, 256);
    run_loop(&f, 2);
    g_assert_cmpstr(g_ptr_array_index(f.events, 1), ==,
                    "BALLOON_CHANGE {\"actual\":15728640}");

    /* HMP, in MiB */
    out = hmp_run(f.m, "info balloon", -1);
    g_assert_cmpstr(out, ==, "balloon: actual=15\r\n");
    g_free(out);
    out = hmp_run(f.m, "balloon 8", -1);
    g_assert_cmpstr(out, ==, "");
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_CONFIG), ==, 2048);
    g_free(out);
    out = hmp_run(f.m, "balloon", -1);
    g_assert_nonnull(strstr(out, "unexpected end of expression"));

    /* a second balloon is refused, as QEMU */
    g_assert_null(add_balloon(&f, "b1", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Only one balloon device is supported");
    error_free(err);
    err = NULL;
    g_assert_true(f.m->balloon == d);

    /* system reset: the driver is gone, so is what it held */
    th_reset(d);
    bi = qmp_query_balloon(f.m, &err);
    g_assert_cmpint(bi->actual, ==, RAM);
    qapi_balloon_info_free(bi);
    dfx_fini(&f);
}

static struct json_value *qom_get(struct dfx *f, const char *path,
                                  const char *prop, Error **errp)
{
    g_autofree char *p = g_strdup(path), *n = g_strdup(prop);

    return qmp_qom_get(f->m, p, n, errp);
}

static void qom_set(struct dfx *f, const char *path, const char *prop,
                    struct json_value *v, Error **errp)
{
    g_autofree char *p = g_strdup(path), *n = g_strdup(prop);

    qmp_qom_set(f->m, p, n, v, errp);
    json_free(v);
}

static bool listed(GPtrArray *l, const char *name, const char *type)
{
    for (guint i = 0; i < l->len; i++) {
        struct qapi_object_property_info *pi = g_ptr_array_index(l, i);
        if (!strcmp(pi->name, name) && !strcmp(pi->type, type)) {
            return true;
        }
    }
    return false;
}

static void test_qom(void)
{
    struct dfx f;
    Error *err = NULL;
    struct json_value *v, *st;
    GPtrArray *l;
    g_autofree char *anon = g_strdup("/machine/peripheral-anon");
    g_autofree char *dev0 = g_strdup("/machine/peripheral-anon/device[0]");

    dfx_init(&f);
    /* an id-less -device: QEMU's /machine/peripheral-anon/device[0] */
    g_assert_nonnull(add_balloon(&f, NULL, &err));
    l = qmp_qom_list(f.m, anon, &err);
    g_assert_true(listed(l, "device[0]", "child<virtio-balloon-device>"));
    qapi_list_object_property_info_free(l);
    l = qmp_qom_list(f.m, dev0, &err);
    g_assert_true(listed(l, "guest-stats", "guest statistics"));
    g_assert_true(listed(l, "guest-stats-polling-interval", "int"));
    g_assert_true(listed(l, "deflate-on-oom", "bool"));
    qapi_list_object_property_info_free(l);

    v = qom_get(&f, dev0, "guest-stats", &err);
    g_assert_null(err);
    st = json_object_get(v, "stats");
    g_assert_nonnull(st);
    g_assert_cmpuint(json_object_get(st, "stat-free-memory")->u.u, ==,
                     UINT64_MAX);
    g_assert_cmpint(json_object_get(v, "last-update")->u.i, ==, 0);
    json_free(v);
    v = qom_get(&f, dev0, "guest-stats-polling-interval", &err);
    g_assert_cmpint(v->u.i, ==, 0);
    json_free(v);
    v = qom_get(&f, dev0, "type", &err);
    g_assert_cmpstr(json_string(v), ==, "virtio-balloon-device");
    json_free(v);
    v = qom_get(&f, dev0, "deflate-on-oom", &err);
    g_assert_true(json_is(v, JSON_BOOL) && !v->u.b);
    json_free(v);

    /* qom-set of the polling interval, with QEMU's errors */
    qom_set(&f, dev0, "guest-stats-polling-interval", json_new_int(2), &err);
    g_assert_null(err);
    v = qom_get(&f, dev0, "guest-stats-polling-interval", &err);
    g_assert_cmpint(v->u.i, ==, 2);
    json_free(v);
    qom_set(&f, dev0, "guest-stats-polling-interval", json_new_int(-1), &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "timer value must be greater than zero");
    error_free(err);
    err = NULL;
    qom_set(&f, dev0, "guest-stats-polling-interval", json_new_string("x"),
            &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Invalid parameter type for "
                    "'guest-stats-polling-interval', expected: integer");
    error_free(err);
    err = NULL;
    qom_set(&f, dev0, "guest-stats", json_new_int(1), &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Insufficient permission to perform this operation");
    error_free(err);
    err = NULL;
    qom_set(&f, dev0, "deflate-on-oom", json_new_bool(true), &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Attempt to set property 'deflate-on-oom' on anonymous "
                    "device (type 'virtio-balloon-device') after it was "
                    "realized");
    error_free(err);
    err = NULL;
    qom_set(&f, dev0, "nope", json_new_int(1), &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Property 'virtio-balloon-device.nope' not found");
    error_free(err);
    err = NULL;
    qom_set(&f, "/machine/peripheral-anon/device[1]", "x", json_new_int(1),
            &err);
    g_assert_cmpint(error_get_class(err), ==, ERROR_CLASS_DEVICE_NOT_FOUND);
    error_free(err);
    err = NULL;
    v = qom_get(&f, "/machine/peripheral-anon/device[01]", "type", &err);
    g_assert_null(v);
    error_free(err);
    err = NULL;
    qom_set(&f, dev0, "guest-stats-polling-interval", json_new_int(0), &err);
    g_assert_null(err);
    dfx_fini(&f);

    /* with an id: /machine/peripheral/ID, not anonymous */
    dfx_init(&f);
    g_assert_nonnull(add_balloon(&f, "balloon0", &err));
    l = qmp_qom_list(f.m, anon, &err);
    g_assert_cmpuint(l->len, ==, 1); /* "type" only */
    qapi_list_object_property_info_free(l);
    v = qom_get(&f, "/machine/peripheral/balloon0", "guest-stats", &err);
    g_assert_nonnull(json_object_get(v, "stats"));
    json_free(v);
    qom_set(&f, "/machine/peripheral/balloon0", "page-poison",
            json_new_bool(false), &err);
    g_assert_nonnull(strstr(error_get_pretty(err), "on device 'balloon0'"));
    error_free(err);
    dfx_fini(&f);
}

/* ---- migration ------------------------------------------------------ */

#define STATS_GPA 0x20000

static struct virtio_balloon *balloon_of(struct device *d)
{
    return virtio_model_of(d);
}

/* The driver's stats buffer (every tag, tag t = base + t) made available
 * on the stats queue and kicked. */
static void put_stats(struct dfx *f, struct vr *r, uint64_t base)
{
    uint8_t buf[VIRTIO_BALLOON_S_NR * VIRTIO_BALLOON_STAT_SIZE];

    for (unsigned t = 0; t < VIRTIO_BALLOON_S_NR; t++) {
        le_store(buf + t * VIRTIO_BALLOON_STAT_SIZE, t, 2);
        le_store(buf + t * VIRTIO_BALLOON_STAT_SIZE + 2, base + t, 8);
    }
    g_assert_true(gm_write(f->m->gm, STATS_GPA, buf, sizeof(buf)));
    vr_desc(r, 0, STATS_GPA, sizeof(buf), 0, 0);
    vr_add(r, 0);
    vr_publish(r);
    wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_BALLOON_Q_STATS);
}

/* Runs f's loop until the device holds the stats buffer with stat-free-
 * memory `free`. */
static void wait_stats(struct dfx *f, struct virtio_balloon *s, uint64_t free)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (!s->stats_elem || s->stats[VIRTIO_BALLOON_S_MEMFREE] != free) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f->m->ctx, FALSE);
        g_usleep(1000);
    }
}

static int64_t qom_int(struct dfx *f, const char *path, const char *prop)
{
    Error *err = NULL;
    struct json_value *v = qom_get(f, path, prop, &err);
    int64_t i;

    g_assert_null(err);
    i = v->u.i;
    json_free(v);
    return i;
}

static uint64_t guest_stat(struct dfx *f, const char *name, int64_t *last)
{
    Error *err = NULL;
    struct json_value *v =
        qom_get(f, "/machine/peripheral/b0", "guest-stats", &err);
    uint64_t u;

    g_assert_null(err);
    u = json_object_get(json_object_get(v, "stats"), name)->u.u;
    *last = json_object_get(v, "last-update")->u.i;
    json_free(v);
    return u;
}

/* Stopped for a migration's last phase: after the save gave the stats
 * buffer back, neither the drain's look at the queue nor the polling
 * timer's request touches the ring; a cancelled migration's cont takes
 * the buffer again and the next request returns it. */
static void test_stopped(void)
{
    struct dfx a;
    struct device *da;
    struct virtio_balloon *sa;
    struct vr r[3];
    Error *err = NULL;
    GByteArray *stream;
    uint32_t id = 0, len = 0;

    dfx_init(&a);
    da = add_balloon(&a, "b0", &err);
    g_assert_nonnull(da);
    sa = balloon_of(da);
    driver_up(&a, r);
    put_stats(&a, &r[VIRTIO_BALLOON_Q_STATS], 1000);
    wait_stats(&a, sa, 1004);
    machine_set_state(a.m, RUN_STATE_PAUSED);
    stream = th_save_stream("microvm", da, a.m->gm, &err);
    g_assert_null(err);
    g_byte_array_unref(stream);
    /* the drain's look has run */
    while (sa->repop) {
        g_main_context_iteration(a.m->ctx, TRUE);
    }
    g_mutex_lock(&da->lock);
    virtio_balloon_request_stats(sa);
    g_mutex_unlock(&da->lock);
    g_assert_null(sa->stats_elem);
    g_assert_cmpuint(sa->vdev.vqs[VIRTIO_BALLOON_Q_STATS].last_avail_idx, ==,
                     0);
    g_assert_cmpuint(vr_used_p(&r[VIRTIO_BALLOON_Q_STATS])[1], ==, 0);
    machine_set_state(a.m, RUN_STATE_RUNNING);
    g_assert_nonnull(sa->stats_elem);
    g_mutex_lock(&da->lock);
    virtio_balloon_request_stats(sa);
    g_mutex_unlock(&da->lock);
    g_assert_true(vr_get_used(&r[VIRTIO_BALLOON_Q_STATS], &id, &len));
    g_assert_cmpuint(id, ==, 0);
    dfx_fini(&a);
}

static void test_migrate(void)
{
    struct dfx a, b;
    struct device *da, *db;
    struct virtio_balloon *sa, *sb;
    struct vr r[3], rb;
    struct qapi_balloon_info *bi;
    Error *err = NULL;
    GByteArray *stream;
    int64_t last_a, last_b;
    uint32_t id = 0, len = 0;

    dfx_init(&a);
    dfx_init(&b);
    da = add_balloon(&a, "b0", &err);
    db = add_balloon(&b, "b0", &err);
    g_assert_nonnull(da);
    g_assert_nonnull(db);
    sa = balloon_of(da);
    sb = balloon_of(db);
    driver_up(&a, r);
    put_stats(&a, &r[VIRTIO_BALLOON_Q_STATS], 1000);
    wait_stats(&a, sa, 1004);
    g_assert_cmpuint(guest_stat(&a, "stat-free-memory", &last_a), ==, 1004);
    g_assert_cmpint(last_a, >, 0);
    qmp_balloon(a.m, RAM - 4 * MiB, &err);
    g_assert_null(err);
    wr(&a, VIRTIO_MMIO_CONFIG + 4, 1000); /* on its way to 1024 */
    qom_set(&a, "/machine/peripheral/b0", "guest-stats-polling-interval",
            json_new_int(30), &err);
    g_assert_null(err);

    stream = th_save_stream("microvm", da, a.m->gm, &err);
    g_assert_null(err);
    g_assert_nonnull(stream);
    /* the stats buffer went back to the ring: nothing popped, nothing used */
    g_assert_null(sa->stats_elem);
    g_assert_cmpuint(sa->vdev.vqs[VIRTIO_BALLOON_Q_STATS].inflight, ==, 0);
    g_assert_cmpuint(sa->vdev.vqs[VIRTIO_BALLOON_Q_STATS].last_avail_idx, ==,
                     0);
    g_assert_cmpuint(vr_used_p(&r[VIRTIO_BALLOON_Q_STATS])[1], ==, 0);

    g_assert_true(th_load_stream("microvm", db, b.m->gm, stream, &err));
    g_assert_null(err);
    /* the target, actual, the stats and their polling arrived */
    g_assert_cmpuint(rd(&b, VIRTIO_MMIO_CONFIG), ==, 1024);
    g_assert_cmpuint(rd(&b, VIRTIO_MMIO_CONFIG + 4), ==, 1000);
    bi = qmp_query_balloon(b.m, &err);
    g_assert_cmpint(bi->actual, ==, RAM - 1000 * 4096);
    qapi_balloon_info_free(bi);
    g_assert_cmpuint(guest_stat(&b, "stat-free-memory", &last_b), ==, 1004);
    g_assert_cmpint(last_b, ==, last_a);
    g_assert_cmpint(
        qom_int(&b, "/machine/peripheral/b0", "guest-stats-polling-interval"),
        ==, 30);
    g_assert_nonnull(sb->stats_timer);
    g_assert_cmpuint(b.events->len, ==, 0); /* no BALLOON_CHANGE for a load */

    /* the destination pops the buffer anew (no doorbell on b), asks for
     * fresh stats (what its polling timer does) and reports them */
    wait_stats(&b, sb, 1004);
    g_mutex_lock(&db->lock);
    virtio_balloon_request_stats(sb);
    g_mutex_unlock(&db->lock);
    rb = r[VIRTIO_BALLOON_Q_STATS];
    rb.gm = b.m->gm;
    g_assert_true(vr_get_used(&rb, &id, &len));
    g_assert_cmpuint(id, ==, 0);
    put_stats(&b, &rb, 2000);
    wait_stats(&b, sb, 2004);
    g_assert_cmpuint(guest_stat(&b, "stat-total-memory", &last_b), ==, 2005);
    /* the driver goes on to the target */
    wr(&b, VIRTIO_MMIO_CONFIG + 4, 1024);
    run_loop(&b, 1);
    g_assert_cmpstr(g_ptr_array_index(b.events, 0), ==,
                    "BALLOON_CHANGE {\"actual\":12582912}");

    /* the source, were it to go on, holds its buffer again */
    wait_stats(&a, sa, 1004);
    g_byte_array_unref(stream);
    dfx_fini(&a);
    dfx_fini(&b);
}

/* Saves a's state and loads it into a fresh machine whose balloon has
 * `props`: refused naming `want`, the destination untouched. */
static void expect_refused(struct dfx *a, struct device *da,
                           const char *const *props, const char *want)
{
    struct dfx b;
    struct device *db;
    Error *err = NULL;
    GByteArray *stream = th_save_stream("microvm", da, a->m->gm, &err);

    g_assert_nonnull(stream);
    dfx_init(&b);
    db = add_balloon_props(&b, "b0", props, &err);
    g_assert_nonnull(db);
    g_assert_false(th_load_stream("microvm", db, b.m->gm, stream, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("'%s' lacks '%s'", error_get_pretty(err), want);
    }
    error_free(err);
    g_assert_cmpuint(rd(&b, VIRTIO_MMIO_STATUS), ==, 0);
    g_assert_cmpuint(balloon_of(db)->num_pages, ==, 0);
    g_assert_cmpuint(balloon_of(db)->actual, ==, 0);
    g_assert_cmpuint(balloon_of(db)->stats[VIRTIO_BALLOON_S_MEMFREE], ==,
                     UINT64_MAX);
    g_byte_array_unref(stream);
    dfx_fini(&b);
}

static void test_migrate_hostile(void)
{
    const char *no_poison[] = {"page-poison", "off", NULL};
    const uint32_t pages = RAM / 4096;
    struct dfx a;
    struct device *da;
    struct virtio_balloon *sa;
    struct vr r[3];
    Error *err = NULL;

    dfx_init(&a);
    da = add_balloon(&a, "b0", &err);
    g_assert_nonnull(da);
    sa = balloon_of(da);
    driver_up(&a, r);
    /* a driver claiming more pages than the RAM has is held to the RAM
     * (it could otherwise make its VM refused by every destination) */
    wr(&a, VIRTIO_MMIO_CONFIG + 4, 0xffffffff);
    g_assert_cmpuint(rd(&a, VIRTIO_MMIO_CONFIG + 4), ==, pages);
    wr(&a, VIRTIO_MMIO_CONFIG + 4, 0);

    /* values no device of this RAM size can have: a forged stream */
    sa->actual = pages + 1;
    expect_refused(&a, da, NULL,
                   "virtio-balloon: actual 4097 is more than the 4096 pages "
                   "of RAM");
    sa->actual = 0;
    sa->num_pages = UINT32_MAX;
    expect_refused(&a, da, NULL,
                   "virtio-balloon: num_pages 4294967295 is more than the "
                   "4096 pages of RAM");
    sa->num_pages = 0;
    sa->stats_last_update = -5;
    expect_refused(&a, da, NULL,
                   "virtio-balloon: stats_last_update -5 is negative");
    sa->stats_last_update = 0;
    /* a poison value into a destination without page-poison */
    sa->poison_val = 0xaa;
    expect_refused(&a, da, no_poison,
                   "virtio-balloon: poison_val 0x000000aa without "
                   "page-poison (check its properties)");
    dfx_fini(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-balloon-device/stopped", test_stopped);
    g_test_add_func("/virtio-balloon-device/no-balloon", test_no_balloon);
    g_test_add_func("/virtio-balloon-device/device", test_device);
    g_test_add_func("/virtio-balloon-device/qom", test_qom);
    g_test_add_func("/virtio-balloon-device/migrate", test_migrate);
    g_test_add_func("/virtio-balloon-device/migrate-hostile",
                    test_migrate_hostile);
    return g_test_run();
}
