/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-balloon-device.c: `-device virtio-balloon-device` on the
 * microvm board's virtio-mmio slots through the real creation path, and
 * the monitor's side as QEMU 7.2 answers it: balloon / query-balloon
 * (DeviceNotActive without a device), BALLOON_CHANGE on the main loop when
 * the driver writes `actual`, qom-get guest-stats and qom-set
 * guest-stats-polling-interval at /machine/peripheral/ID and at
 * /machine/peripheral-anon/device[N], HMP info balloon / balloon, and one
 * balloon per machine.
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
#include "tests/unit/dev-harness.h"
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

/* A -device virtio-balloon-device[,id=ID] (user-created, like -device). */
static struct device *add_balloon(struct dfx *f, const char *id, Error **errp)
{
    struct device *d =
        th_device_new(f->m, &virtio_balloon_device_class, NULL, errp);

    if (d) {
        d->id = g_strdup(id);
        d->user = true;
        g_ptr_array_add(f->m->devices, d);
    }
    return d;
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

    /* the driver comes up with its three queues */
    wr(&f, VIRTIO_MMIO_STATUS, 3);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BALLOON_F_STATS_VQ);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(&f, VIRTIO_MMIO_STATUS, 0xb);
    for (unsigned q = 0; q < 3; q++) {
        vr_init(&r[q], f.m->gm, 0x1000 * (q + 1), 8);
        wr(&f, VIRTIO_MMIO_QUEUE_SEL, q);
        wr(&f, VIRTIO_MMIO_QUEUE_NUM, 8);
        wr(&f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r[q].desc);
        wr(&f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r[q].avail);
        wr(&f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r[q].used);
        wr(&f, VIRTIO_MMIO_QUEUE_READY, 1);
    }
    wr(&f, VIRTIO_MMIO_STATUS, 0xf);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0xf);

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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-balloon-device/no-balloon", test_no_balloon);
    g_test_add_func("/virtio-balloon-device/device", test_device);
    g_test_add_func("/virtio-balloon-device/qom", test_qom);
    return g_test_run();
}
