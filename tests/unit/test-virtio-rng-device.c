/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-rng-device.c: `-object rng-random|rng-builtin` + `-device
 * virtio-rng-device,rng=ID` on the microvm board's virtio-mmio slots,
 * through the real creation path: the -object table opening the entropy
 * file, the device mapped at 0xfeb00000 with GSI 16, the driver's set-up
 * through the register window, QueueNotify as an eventfd doorbell kicked
 * on the main context, the file's bytes landing in guest RAM and the
 * level line; and QEMU's errors for a bad rng= or a bad property.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-mmio.h"
#include "hw/virtio/virtio-rng.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "system/object.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/vring-build.h"

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

/* One writable buffer at gpa; the doorbell; the main loop until used. */
static uint32_t request(struct dfx *f, uint64_t base, struct vr *r,
                        uint16_t slot, uint64_t gpa, uint32_t len)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint32_t id, used;

    vr_desc(r, slot, gpa, len, VIRTQ_DESC_F_WRITE, 0);
    vr_add(r, slot);
    vr_publish(r);
    wr(f, base, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    while (!vr_get_used(r, &id, &used)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f->m->ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(id, ==, slot);
    return used;
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-rng-device/file-through-doorbell",
                    test_file_through_doorbell);
    g_test_add_func("/virtio-rng-device/builtin-and-default",
                    test_builtin_and_default);
    g_test_add_func("/virtio-rng-device/errors", test_errors);
    g_test_add_func("/virtio-rng-device/check-links", test_check_links);
    return g_test_run();
}
