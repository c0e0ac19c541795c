/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-blk-device.c: `-drive` + `-device virtio-blk-device` on the
 * microvm board's virtio-mmio slots, through the real creation path: the
 * drive table (hw/block/drive.c) opening a temporary image, the device
 * mapped at 0xfeb00000 with GSI 16, guest accesses through the address
 * space, QueueNotify as an eventfd doorbell kicked on the main context, a
 * read landing in guest RAM and the level line; and the errors a user sees
 * before the guest starts (missing image, unknown or busy drive id,
 * if=virtio on a board without a virtio bus).
 */
#include "util/common.h"
#include "hw/block/drive.h"
#include "hw/block/virtio-blk.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-mmio.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "qapi/qapi-gen-types.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/vring-build.h"

#include <unistd.h>

extern const struct machine_type microvm_machine_type;

#define BASE 0xfeb00000ULL
#define RAM (16 * MiB)

struct dfx {
    struct machine *m;
    struct machine_config cfg;
    char *path;
};

static void dfx_init(struct dfx *f, const char *drive_fmt)
{
    Error *err = NULL;
    GError *gerr = NULL;
    int fd = g_file_open_tmp("vireo-vbd-XXXXXX.raw", &f->path, &gerr);
    uint8_t sector[512];

    g_assert_no_error(gerr);
    for (unsigned i = 0; i < 64; i++) {
        memset(sector, i, sizeof(sector));
        g_assert_cmpint(write(fd, sector, 512), ==, 512);
    }
    close(fd);
    machine_config_init(&f->cfg);
    f->cfg.sandbox = false;
    if (drive_fmt) {
        g_autofree char *d = g_strdup_printf(drive_fmt, f->path);

        g_assert_true(machine_config_add_drive(&f->cfg, d, &err));
    }
    f->m = th_board_new(&microvm_machine_type, &f->cfg, RAM);
}

static void dfx_fini(struct dfx *f)
{
    struct machine *m = f->m;

    /* the devices before the drives they use */
    th_board_destroy_devices(m);
    machine_close_drives(m);
    th_board_free(m);
    machine_config_clear(&f->cfg);
    unlink(f->path);
    g_free(f->path);
}

static struct device *add_blk(struct dfx *f, const char *drive, Error **errp)
{
    const char *props[] = {"drive", drive, NULL};
    struct device *d =
        th_device_new(f->m, &virtio_blk_device_class, props, errp);

    if (d) {
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

static void test_read_through_doorbell(void)
{
    struct dfx f;
    Error *err = NULL;
    struct vr r;
    uint8_t hdr[16] = {0}, *data;
    uint32_t id, len;
    uint64_t base[8];
    unsigned gsi[8];
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    dfx_init(&f, "file=%s,if=none,id=d0");
    g_assert_true(machine_open_drives(f.m, &err));
    g_assert_nonnull(add_blk(&f, "d0", &err));
    g_assert_null(err);
    g_assert_cmpuint(virtio_mmio_devices(f.m, base, gsi, 8), ==, 1);
    g_assert_cmphex(base[0], ==, BASE);
    g_assert_cmpuint(gsi[0], ==, 16);
    g_assert_cmphex(rd(&f, VIRTIO_MMIO_MAGIC_VALUE), ==, 0x74726976);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_DEVICE_ID), ==, VIRTIO_ID_BLOCK);
    wr(&f, VIRTIO_MMIO_STATUS, 3);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(&f, VIRTIO_MMIO_STATUS, 0xb);
    vr_init(&r, f.m->gm, 0x1000, 8);
    wr(&f, VIRTIO_MMIO_QUEUE_NUM, 8);
    wr(&f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r.desc);
    wr(&f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r.avail);
    wr(&f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r.used);
    wr(&f, VIRTIO_MMIO_QUEUE_READY, 1);
    wr(&f, VIRTIO_MMIO_STATUS, 0xf);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0xf);
    /* capacity through the config window: 64 sectors */
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_CONFIG), ==, 64);

    hdr[8] = 7; /* sector 7 */
    g_assert_true(gm_write(f.m->gm, 0x10000, hdr, 16));
    vr_desc(&r, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&r, 1, 0x20000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    vr_desc(&r, 2, 0x30000, 1, VIRTQ_DESC_F_WRITE, 0);
    *vr_ptr(f.m->gm, 0x30000, 1) = 0xee;
    vr_add(&r, 0);
    vr_publish(&r);
    /* the doorbell: the eventfd, not the handler; the main loop kicks */
    wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    while (!vr_get_used(&r, &id, &len)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f.m->ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(len, ==, 513);
    g_assert_cmpuint(*vr_ptr(f.m->gm, 0x30000, 1), ==, VIRTIO_BLK_S_OK);
    data = vr_ptr(f.m->gm, 0x20000, 512);
    g_assert_cmpuint(data[0], ==, 7);
    g_assert_cmpuint(data[511], ==, 7);
    g_assert_true(th_gsi_level(f.m, 16));
    wr(&f, VIRTIO_MMIO_INTERRUPT_ACK, 1);
    g_assert_false(th_gsi_level(f.m, 16));

    /* query-block lists the drive, its image and its device */
    {
        GPtrArray *l = qmp_query_block(f.m, &err);
        struct qapi_block_info *b;

        g_assert_cmpuint(l->len, ==, 1);
        b = g_ptr_array_index(l, 0);
        g_assert_cmpstr(b->device, ==, "d0");
        g_assert_cmpstr(b->qdev, ==, "virtio-blk-device");
        g_assert_true(b->has_inserted);
        g_assert_cmpstr(b->inserted->file, ==, f.path);
        g_assert_false(b->inserted->ro);
        g_assert_cmpstr(b->inserted->drv, ==, "raw");
        qapi_block_info_free(b);
        g_ptr_array_free(l, TRUE);
    }
    /* the drive is taken: a second device on it is refused */
    g_assert_null(add_blk(&f, "d0", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "already in use"));
    error_free(err);
    err = NULL;
    /* system reset puts the device back to status 0 */
    th_reset(g_ptr_array_index(f.m->devices, 0));
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0);
    dfx_fini(&f);
}

static void test_errors(void)
{
    struct dfx f;
    Error *err = NULL;
    static const struct machine_type no_virtio = {.name = "novirtio"};

    /* unknown drive id at realize (QEMU's message) */
    dfx_init(&f, "file=%s,if=none,id=d0");
    g_assert_true(machine_open_drives(f.m, &err));
    g_assert_null(add_blk(&f, "nope", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Property 'virtio-blk-device.drive' can't find value "
                    "'nope'");
    error_free(err);
    err = NULL;
    /* no virtio-mmio on the board */
    f.m->type = &no_virtio;
    g_assert_null(add_blk(&f, "d0", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "virtio-mmio-bus"));
    error_free(err);
    err = NULL;
    dfx_fini(&f);

    /* a missing image */
    dfx_init(&f, "file=%s.missing,if=virtio");
    g_assert_false(machine_open_drives(f.m, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "-drive: "));
    g_assert_nonnull(strstr(error_get_pretty(err), ".missing"));
    error_free(err);
    err = NULL;
    dfx_fini(&f);

    /* if=virtio on a board without a virtio bus */
    dfx_init(&f, "file=%s,if=virtio");
    f.m->type = &no_virtio;
    g_assert_false(machine_open_drives(f.m, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "no virtio bus"));
    error_free(err);
    err = NULL;
    dfx_fini(&f);

    /* if=virtio: the board's device, on drive "virtio0" */
    dfx_init(&f, "file=%s,if=virtio");
    g_assert_true(machine_open_drives(f.m, &err));
    g_assert_true(machine_create_drive_devices(f.m, &err));
    g_assert_null(err);
    g_assert_cmpuint(virtio_mmio_devices(f.m, NULL, NULL, 0), ==, 1);
    dfx_fini(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk-device/read-through-doorbell",
                    test_read_through_doorbell);
    g_test_add_func("/virtio-blk-device/errors", test_errors);
    return g_test_run();
}
