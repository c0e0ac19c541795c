/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-rng-device.c: `-object rng-random|rng-builtin` + `-device
 * virtio-rng-device,rng=ID` on the microvm board's virtio-mmio slots,
 * through the real creation path: the -object table opening the entropy
 * file, the device mapped at 0xfeb00000 with GSI 16, the driver's set-up
 * through the register window, QueueNotify as an eventfd doorbell kicked
 * on the main context, the file's bytes landing in guest RAM and the
 * level line; and QEMU's errors for a bad rng= or a bad property.
 * Migration through the stream (savevm-harness.h): a request parked for
 * the rate limit given back to the ring and served by the destination
 * when the carried period ends; one parked for entropy filled at the save
 * when the source has bytes; a rate limit the destination's properties
 * cannot hold refused.  A stopped machine's rate-limit timer fills no
 * request; the machine running again does.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-mmio.h"
#include "hw/virtio/virtio-rng.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "system/object.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/savevm-harness.h"
#include "tests/unit/vring-build.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct machine_type microvm_machine_type;

#define BASE 0xfeb00000ULL
#define RAM (16 * MiB)

struct dfx {
    struct machine *m;
    struct machine_config cfg;
    char *path; /* the entropy file */
};

static void add_object(struct dfx *f, const char *text)
{
    Error *err = NULL;
    struct object *o = object_parse(text, &err);

    g_assert_null(err);
    g_assert_true(object_realize(o, &err));
    g_assert_null(err);
    g_ptr_array_add(f->cfg.objects, o);
}

static void dfx_init(struct dfx *f)
{
    GError *gerr = NULL;
    int fd = g_file_open_tmp("vireo-rng-XXXXXX", &f->path, &gerr);
    uint8_t pat[256];

    g_assert_no_error(gerr);
    for (unsigned i = 0; i < sizeof(pat); i++) {
        pat[i] = (uint8_t)(255 - i);
    }
    g_assert_cmpint(write(fd, pat, sizeof(pat)), ==, (ssize_t)sizeof(pat));
    close(fd);
    machine_config_init(&f->cfg);
    f->cfg.sandbox = false;
    f->m = th_board_new(&microvm_machine_type, &f->cfg, RAM);
}

static void dfx_fini(struct dfx *f)
{
    struct machine *m = f->m;

    th_board_destroy_devices(m);
    /* the devices took their sources with them */
    g_assert_false(g_main_context_iteration(m->ctx, FALSE));
    th_board_free(m);
    machine_config_clear(&f->cfg);
    unlink(f->path);
    g_free(f->path);
}

static struct device *add_rng(struct dfx *f, const char *const *props,
                              Error **errp)
{
    struct device *d =
        th_device_new(f->m, &virtio_rng_device_class, props, errp);

    if (d) {
        g_ptr_array_add(f->m->devices, d);
    }
    return d;
}

static uint32_t rd(struct dfx *f, uint64_t base, uint64_t off)
{
    uint32_t v = 0;

    as_read(f->m->mmio, base + off, &v, 4);
    return v;
}

static void wr(struct dfx *f, uint64_t base, uint64_t off, uint32_t v)
{
    as_write(f->m->mmio, base + off, &v, 4);
}

/* The driver's set-up through the window; the rings at `ring`. */
static void driver_start(struct dfx *f, uint64_t base, struct vr *r,
                         uint64_t ring)
{
    g_assert_cmphex(rd(f, base, VIRTIO_MMIO_MAGIC_VALUE), ==, 0x74726976);
    g_assert_cmpuint(rd(f, base, VIRTIO_MMIO_DEVICE_ID), ==, VIRTIO_ID_RNG);
    wr(f, base, VIRTIO_MMIO_STATUS, 3);
    wr(f, base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(f, base, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(f, base, VIRTIO_MMIO_STATUS, 0xb);
    g_assert_cmpuint(rd(f, base, VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 8);
    vr_init(r, f->m->gm, ring, 8);
    wr(f, base, VIRTIO_MMIO_QUEUE_NUM, 8);
    wr(f, base, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
    wr(f, base, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
    wr(f, base, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
    wr(f, base, VIRTIO_MMIO_QUEUE_READY, 1);
    wr(f, base, VIRTIO_MMIO_STATUS, 0xf);
    g_assert_cmpuint(rd(f, base, VIRTIO_MMIO_STATUS), ==, 0xf);
}

/* One writable buffer at gpa in descriptor `slot`, made available. */
static void post(struct vr *r, uint16_t slot, uint64_t gpa, uint32_t len)
{
    vr_desc(r, slot, gpa, len, VIRTQ_DESC_F_WRITE, 0);
    vr_add(r, slot);
    vr_publish(r);
}

/* Runs f's main loop until the next used entry; checks it is `slot`'s and
 * returns its length. */
static uint32_t wait_used(struct dfx *f, struct vr *r, uint16_t slot)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint32_t id, used;

    while (!vr_get_used(r, &id, &used)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f->m->ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(id, ==, slot);
    return used;
}

/* One writable buffer at gpa; the doorbell; the main loop until used. */
static uint32_t request(struct dfx *f, uint64_t base, struct vr *r,
                        uint16_t slot, uint64_t gpa, uint32_t len)
{
    post(r, slot, gpa, len);
    wr(f, base, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    return wait_used(f, r, slot);
}

static void test_file_through_doorbell(void)
{
    struct dfx f;
    Error *err = NULL;
    struct vr r, r2;
    uint64_t base[8];
    unsigned gsi[8];
    uint8_t *p;
    g_autofree char *obj = NULL;
    const char *props[] = {"rng", "r0", "max-bytes", "1000", NULL};

    dfx_init(&f);
    obj = g_strdup_printf("{\"qom-type\":\"rng-random\",\"id\":\"r0\","
                          "\"filename\":\"%s\"}",
                          f.path);
    add_object(&f, obj); /* libvirt's JSON form */
    g_assert_nonnull(add_rng(&f, props, &err));
    g_assert_null(err);
    g_assert_cmpuint(virtio_mmio_devices(f.m, base, gsi, 8), ==, 1);
    g_assert_cmphex(base[0], ==, BASE);
    g_assert_cmpuint(gsi[0], ==, 16);
    driver_start(&f, BASE, &r, 0x1000);
    /* no configuration space */
    g_assert_cmphex(rd(&f, BASE, VIRTIO_MMIO_CONFIG), ==, 0xffffffff);

    /* the file's first bytes, in order */
    g_assert_cmpuint(request(&f, BASE, &r, 0, 0x10000, 16), ==, 16);
    p = vr_ptr(f.m->gm, 0x10000, 16);
    for (unsigned i = 0; i < 16; i++) {
        g_assert_cmpuint(p[i], ==, 255 - i);
    }
    g_assert_true(th_gsi_level(f.m, 16));
    wr(&f, BASE, VIRTIO_MMIO_INTERRUPT_ACK, 1);
    g_assert_false(th_gsi_level(f.m, 16));

    /* a second device may share the object (QEMU allows it); its own
     * descriptor, the same file position */
    {
        const char *props2[] = {"rng", "r0", NULL};

        g_assert_nonnull(add_rng(&f, props2, &err));
        g_assert_cmpuint(virtio_mmio_devices(f.m, base, gsi, 8), ==, 2);
        driver_start(&f, base[1], &r2, 0x4000);
        g_assert_cmpuint(request(&f, base[1], &r2, 0, 0x20000, 4), ==, 4);
        p = vr_ptr(f.m->gm, 0x20000, 4);
        g_assert_cmpuint(p[0], ==, 255 - 16);
    }
    /* system reset puts the device back to status 0 */
    th_reset(g_ptr_array_index(f.m->devices, 0));
    g_assert_cmpuint(rd(&f, BASE, VIRTIO_MMIO_STATUS), ==, 0);
    dfx_fini(&f);
}

static void test_builtin_and_default(void)
{
    struct dfx f;
    Error *err = NULL;
    struct vr r;
    const char *builtin[] = {"rng", "b0", NULL};

    dfx_init(&f);
    add_object(&f, "rng-builtin,id=b0");
    g_assert_nonnull(add_rng(&f, builtin, &err));
    g_assert_nonnull(add_rng(&f, NULL, &err)); /* QEMU's built-in default */
    g_assert_null(err);
    driver_start(&f, BASE, &r, 0x1000);
    g_assert_cmpuint(request(&f, BASE, &r, 0, 0x10000, 64), ==, 64);
    driver_start(&f, BASE + VIRTIO_MMIO_SIZE, &r, 0x4000);
    g_assert_cmpuint(request(&f, BASE + VIRTIO_MMIO_SIZE, &r, 0, 0x20000, 64),
                     ==, 64);
    dfx_fini(&f);
}

static void expect_error(struct dfx *f, const char *const *props,
                         const char *msg)
{
    Error *err = NULL;

    g_assert_null(add_rng(f, props, &err));
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==, msg);
    error_free(err);
}

static void test_errors(void)
{
    struct dfx f;
    static const struct machine_type no_virtio = {.name = "novirtio"};
    const char *nosuch[] = {"rng", "nosuch", NULL};
    const char *secret[] = {"rng", "k", NULL};
    const char *period0[] = {"period", "0", NULL};
    const char *big[] = {"max-bytes", "9223372036854775808", NULL};
    const char *ok[] = {NULL};

    dfx_init(&f);
    add_object(&f, "secret,id=k,data=x");
    /* QEMU 7.2's messages */
    expect_error(&f, nosuch, "Device 'nosuch' not found");
    expect_error(&f, secret,
                 "Invalid parameter type for 'rng', expected: rng-backend");
    expect_error(&f, period0, "'period' parameter expects a positive integer");
    expect_error(&f, big,
                 "'max-bytes' parameter must be non-negative, and "
                 "less than 2^63");
    /* none of them took a slot */
    g_assert_cmpuint(virtio_mmio_devices(f.m, NULL, NULL, 0), ==, 0);
    f.m->type = &no_virtio;
    expect_error(&f, ok,
                 "No 'virtio-mmio-bus' bus found for device "
                 "'virtio-rng-device'");
    dfx_fini(&f);
}

/* The early check machine_new makes once the objects are realized. */
static void test_check_links(void)
{
    struct dfx f;
    Error *err = NULL;
    const char *const texts[] = {"virtio-rng-device,rng=nosuch",
                                 "virtio-rng-device,rng=k"};
    const char *const msgs[] = {
        "-device virtio-rng-device,rng=nosuch: Device 'nosuch' not found",
        "-device virtio-rng-device,rng=k: Invalid parameter type for 'rng', "
        "expected: rng-backend"};

    dfx_init(&f);
    add_object(&f, "secret,id=k,data=x");
    add_object(&f, "rng-builtin,id=b0");
    g_ptr_array_add(f.cfg.devices,
                    device_opts_parse("virtio-rng-device,rng=b0", &err));
    g_ptr_array_add(f.cfg.devices,
                    device_opts_parse("virtio-rng-device", &err));
    g_assert_null(err);
    g_assert_true(virtio_rng_check_links(&f.cfg, &err));
    for (unsigned i = 0; i < G_N_ELEMENTS(texts); i++) {
        struct device_opts *o = device_opts_parse(texts[i], &err);

        g_assert_nonnull(o);
        g_ptr_array_add(f.cfg.devices, o);
        g_assert_false(virtio_rng_check_links(&f.cfg, &err));
        g_assert_cmpstr(error_get_pretty(err), ==, msgs[i]);
        error_free(err);
        err = NULL;
        g_ptr_array_remove(f.cfg.devices, o);
    }
    dfx_fini(&f);
}

/* ---- migration ------------------------------------------------------ */

/* A machine with the entropy file as -object rng-random,id=r0 and one
 * virtio-rng-device with `props`. */
static struct device *mig_init(struct dfx *f, const char *const *props)
{
    g_autofree char *obj = NULL;
    Error *err = NULL;
    struct device *d;

    dfx_init(f);
    obj = g_strdup_printf("rng-random,id=r0,filename=%s", f->path);
    add_object(f, obj);
    d = add_rng(f, props, &err);
    g_assert_null(err);
    g_assert_nonnull(d);
    return d;
}

static struct virtio_rng *rng_of(struct device *d)
{
    return virtio_model_of(d);
}

/* The kick, handled without the main loop (as the doorbell's handler). */
static void kick(struct device *d)
{
    g_mutex_lock(&d->lock);
    virtio_queue_notify(&rng_of(d)->vdev, 0);
    g_mutex_unlock(&d->lock);
}

/* A request parked for the rate limit is given back to the ring; the
 * destination carries the spent quota, so it serves the request only when
 * the period the source had begun ends (not at once, with a fresh quota,
 * as QEMU's would); the source, going on, serves it too. */
static void test_migrate_rate_limited(void)
{
    const char *props[] = {"rng",    "r0",   "max-bytes", "16",
                           "period", "1000", NULL};
    struct dfx a, b;
    struct device *da, *db;
    struct virtio_rng *sa, *sb;
    struct vr r, rb;
    Error *err = NULL;
    GByteArray *stream;
    uint8_t *p;

    da = mig_init(&a, props);
    db = mig_init(&b, props);
    sa = rng_of(da);
    sb = rng_of(db);
    driver_start(&a, BASE, &r, 0x1000);
    g_assert_cmpuint(request(&a, BASE, &r, 0, 0x10000, 32), ==, 16);
    /* the period's 16 bytes are spent: the next request is parked (the
     * period's end is a timer of a's loop, which does not run here) */
    post(&r, 1, 0x11000, 32);
    kick(da);
    g_assert_nonnull(sa->pending);
    g_assert_cmpuint(sa->vdev.vqs[0].inflight, ==, 1);

    stream = th_save_stream("microvm", da, a.m->gm, &err);
    g_assert_null(err);
    g_assert_nonnull(stream);
    /* given back, not completed: the ring as the driver left it */
    g_assert_null(sa->pending);
    g_assert_cmpuint(sa->vdev.vqs[0].inflight, ==, 0);
    g_assert_cmpuint(sa->vdev.vqs[0].last_avail_idx, ==, 1);
    g_assert_cmpuint(vr_used_p(&r)[1], ==, 1);

    g_assert_true(th_load_stream("microvm", db, b.m->gm, stream, &err));
    g_assert_null(err);
    g_assert_true(sb->period_open);
    g_assert_cmpuint(sb->quota, ==, 0);
    g_assert_cmpuint(sb->period_left_ms, <=, 1000);
    g_assert_nonnull(sb->period_timer);
    g_assert_cmpuint(sb->vdev.vqs[0].last_avail_idx, ==, 1);
    /* no doorbell on b: the load looks at the queue; the period's end
     * then serves the request from b's source, in a new period */
    rb = r;
    rb.gm = b.m->gm;
    g_assert_cmpuint(wait_used(&b, &rb, 1), ==, 16);
    p = vr_ptr(b.m->gm, 0x11000, 16);
    g_assert_cmpuint(p[0], ==, 255);
    g_assert_cmpuint(p[15], ==, 240);
    g_assert_cmpuint(sb->periods, ==, 1);
    g_assert_cmpuint(sb->delivered, ==, 16);
    g_assert_true(th_gsi_level(b.m, 16));

    /* the source goes on as if no save had happened */
    g_assert_cmpuint(wait_used(&a, &r, 1), ==, 16);
    g_assert_cmpuint(vr_ptr(a.m->gm, 0x11000, 1)[0], ==, 255 - 16);
    g_byte_array_unref(stream);
    dfx_fini(&a);
    dfx_fini(&b);
}

/* A request parked for the rate limit while the machine stops (as for a
 * migration's last phase): the period's end fills nothing (guest RAM is
 * not written after the state was captured); cont serves it. */
static void test_stopped_timer(void)
{
    const char *props[] = {"rng",    "r0", "max-bytes", "16",
                           "period", "50", NULL};
    struct dfx a;
    struct device *da;
    struct virtio_rng *sa;
    struct vr r;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    da = mig_init(&a, props);
    sa = rng_of(da);
    driver_start(&a, BASE, &r, 0x1000);
    g_assert_cmpuint(request(&a, BASE, &r, 0, 0x10000, 32), ==, 16);
    post(&r, 1, 0x11000, 32);
    kick(da);
    g_assert_nonnull(sa->pending);
    machine_set_state(a.m, RUN_STATE_PAUSED);
    /* the period ends (its timer ran) with the request still parked */
    while (sa->period_timer) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(a.m->ctx, FALSE);
        g_usleep(1000);
    }
    for (unsigned i = 0; i < 20; i++) {
        g_main_context_iteration(a.m->ctx, FALSE);
    }
    g_assert_nonnull(sa->pending);
    g_assert_cmpuint(vr_used_p(&r)[1], ==, 1);
    machine_set_state(a.m, RUN_STATE_RUNNING);
    g_assert_cmpuint(wait_used(&a, &r, 1), ==, 16);
    dfx_fini(&a);
}

/* A request parked for entropy (a pipe with nothing in it) is filled by
 * the save when the pipe has bytes by then: its completion and data are in
 * the RAM the destination loads. */
static void test_migrate_filled_at_save(void)
{
    const char *pipe_props[] = {"rng", "p0", NULL};
    const char *props[] = {"rng", "r0", NULL};
    g_autofree char *dir = g_dir_make_tmp("vireo-rng-XXXXXX", NULL);
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_autofree char *obj = NULL;
    struct dfx a, b;
    struct device *da, *db;
    struct vr r, rb;
    Error *err = NULL;
    GByteArray *stream;
    uint32_t id = 0, len = 0;
    int wfd;

    g_assert_nonnull(dir);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    dfx_init(&a);
    obj = g_strdup_printf("rng-random,id=p0,filename=%s", fifo);
    add_object(&a, obj);
    /* a writer, so an empty pipe reads EAGAIN (not the end) */
    wfd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    g_assert_cmpint(wfd, >=, 0);
    da = add_rng(&a, pipe_props, &err);
    g_assert_nonnull(da);
    db = mig_init(&b, props);

    driver_start(&a, BASE, &r, 0x1000);
    post(&r, 0, 0x10000, 16);
    kick(da);
    g_assert_nonnull(rng_of(da)->pending);
    g_assert_nonnull(rng_of(da)->fd_watch);
    g_assert_cmpint(write(wfd, "entropy!", 8), ==, 8);

    stream = th_save_stream("microvm", da, a.m->gm, &err);
    g_assert_null(err);
    g_assert_null(rng_of(da)->pending);
    g_assert_cmpuint(rng_of(da)->delivered, ==, 8);
    g_assert_true(th_load_stream("microvm", db, b.m->gm, stream, &err));
    g_assert_null(err);
    rb = r;
    rb.gm = b.m->gm;
    g_assert_true(vr_get_used(&rb, &id, &len));
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmpuint(len, ==, 8);
    g_assert_cmpmem(vr_ptr(b.m->gm, 0x10000, 8), 8, "entropy!", 8);
    g_assert_true(th_gsi_level(b.m, 16));
    /* and the destination serves the next one from its own source */
    g_assert_cmpuint(request(&b, BASE, &rb, 1, 0x11000, 4), ==, 4);
    g_assert_cmpuint(vr_ptr(b.m->gm, 0x11000, 1)[0], ==, 255);

    close(wfd);
    g_byte_array_unref(stream);
    dfx_fini(&a);
    dfx_fini(&b);
    unlink(fifo);
    rmdir(dir);
}

/* Saves a's state and loads it into a machine whose device has `props`:
 * refused naming `want`, the destination untouched. */
static void expect_refused(struct dfx *a, struct device *da,
                           const char *const *props, const char *want)
{
    struct dfx b;
    struct device *db = mig_init(&b, props);
    Error *err = NULL;
    GByteArray *stream = th_save_stream("microvm", da, a->m->gm, &err);

    g_assert_nonnull(stream);
    g_assert_false(th_load_stream("microvm", db, b.m->gm, stream, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("'%s' lacks '%s'", error_get_pretty(err), want);
    }
    error_free(err);
    g_assert_cmpuint(rd(&b, BASE, VIRTIO_MMIO_STATUS), ==, 0);
    g_assert_false(rng_of(db)->period_open);
    g_assert_cmpuint(rng_of(db)->quota, ==, 0);
    g_assert_null(rng_of(db)->period_timer);
    g_byte_array_unref(stream);
    dfx_fini(&b);
}

/* A rate limit the destination's properties do not allow is refused (a
 * differently configured destination, or a forged stream), naming the
 * field. */
static void test_migrate_hostile(void)
{
    const char *props[] = {"rng",    "r0",    "max-bytes", "1000",
                           "period", "60000", NULL};
    const char *small[] = {"rng",    "r0",    "max-bytes", "10",
                           "period", "60000", NULL};
    const char *short_period[] = {"rng",    "r0",  "max-bytes", "1000",
                                  "period", "100", NULL};
    struct dfx a;
    struct device *da = mig_init(&a, props);
    struct vr r;

    driver_start(&a, BASE, &r, 0x1000);
    g_assert_cmpuint(request(&a, BASE, &r, 0, 0x10000, 16), ==, 16);
    expect_refused(&a, da, small,
                   "virtio-rng: quota 984 bytes left in the period is more "
                   "than max-bytes 10 (check its properties)");
    expect_refused(&a, da, short_period,
                   "is longer than the period of 100 ms (check its "
                   "properties)");
    dfx_fini(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-rng-device/file-through-doorbell",
                    test_file_through_doorbell);
    g_test_add_func("/virtio-rng-device/builtin-and-default",
                    test_builtin_and_default);
    g_test_add_func("/virtio-rng-device/errors", test_errors);
    g_test_add_func("/virtio-rng-device/check-links", test_check_links);
    g_test_add_func("/virtio-rng-device/migrate-rate-limited",
                    test_migrate_rate_limited);
    g_test_add_func("/virtio-rng-device/migrate-filled-at-save",
                    test_migrate_filled_at_save);
    g_test_add_func("/virtio-rng-device/migrate-hostile", test_migrate_hostile);
    g_test_add_func("/virtio-rng-device/stopped-timer", test_stopped_timer);
    return g_test_run();
}
