/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-blk-device.c: `-drive` + `-device virtio-blk-device` on the
 * microvm board's virtio-mmio slots, through the real creation path: the
 * drive table (hw/block/drive.c) opening a temporary image, the device
 * mapped at 0xfeb00000 with GSI 16, guest accesses through the address
 * space, QueueNotify as an eventfd doorbell kicked on the main context, a
 * read landing in guest RAM and the level line; and the errors a user sees
 * before the guest starts (missing image, unknown or busy drive id,
 * if=virtio on a board without a virtio bus).  query-block and
 * query-named-block-nodes with a device on libvirt's -blockdev pair.
 * Migration: a queue in use saved through the stream loader
 * (migration/savevm.c) with RAM, loaded into a fresh machine that goes on
 * using it; a request in flight at the save completed, not lost; hostile
 * states refused, naming the queue.
 */
#include "util/common.h"
#include "hw/block/drive.h"
#include "hw/block/virtio-blk.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-mmio.h"
#include "migration/precopy.h"
#include "migration/vmstate.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "qapi/qapi-gen-types.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/savevm-harness.h"
#include "tests/unit/vring-build.h"

#include <sys/mman.h>
#include <sys/stat.h>
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
        /* a device's drive: no removable media (virtio-blk) */
        g_assert_false(b->removable);
        /* the -drive's format node, under vireo's auto name */
        g_assert_cmpstr(b->inserted->node_name, ==, "#block001");
        g_assert_cmpint(b->inserted->image->virtual_size, ==, 64 * 512);
        qapi_block_info_free(b);
        g_ptr_array_free(l, TRUE);
    }
    /* query-blockstats: the read the guest did, under the drive's id */
    {
        GPtrArray *l = qmp_query_blockstats(f.m, false, false, &err);
        struct qapi_block_stats *b;

        g_assert_cmpuint(l->len, ==, 1);
        b = g_ptr_array_index(l, 0);
        g_assert_cmpstr(b->device, ==, "d0");
        g_assert_cmpstr(b->qdev, ==, "virtio-blk-device");
        g_assert_cmpstr(b->node_name, ==, "#block001");
        g_assert_cmpint(b->stats->rd_operations, ==, 1);
        g_assert_cmpint(b->stats->rd_bytes, ==, 512);
        g_assert_cmpint(b->stats->wr_operations, ==, 0);
        g_assert_true(b->stats->has_idle_time_ns);
        g_assert_cmpint(b->stats->idle_time_ns, >=, 0);
        g_assert_true(b->stats->account_invalid);
        g_assert_cmpuint(b->stats->timed_stats->len, ==, 0);
        qapi_block_stats_free(b);
        g_ptr_array_free(l, TRUE);
        /* query-nodes lists the -blockdev nodes only (not -drive's) */
        l = qmp_query_blockstats(f.m, true, true, &err);
        g_assert_cmpuint(l->len, ==, 0);
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

/* A device on libvirt's pair of -blockdev nodes (a raw format node over
 * a file node named by reference), next to an unused -blockdev node:
 * query-block lists the device's backend only, with the format node as
 * `inserted`; query-named-block-nodes every node, newest first, each
 * with its own read-only and cache flags. */
static void test_query_block_nodes(void)
{
    struct dfx f;
    Error *err = NULL;
    GPtrArray *l;
    struct qapi_block_info *b;
    struct qapi_block_device_info *n;
    const char *names[] = {"spare", "libvirt-1-format", "libvirt-1-storage"};
    g_autofree char *storage = NULL, *spare = NULL;

    dfx_init(&f, NULL);
    storage = g_strdup_printf(
        "{\"driver\":\"file\",\"filename\":\"%s\",\"node-name\":"
        "\"libvirt-1-storage\",\"auto-read-only\":true,\"discard\":"
        "\"unmap\",\"cache\":{\"direct\":false,\"no-flush\":true}}",
        f.path);
    spare = g_strdup_printf("driver=file,node-name=spare,filename=%s,"
                            "read-only=on",
                            f.path);
    g_assert_true(machine_config_add_blockdev(&f.cfg, storage, &err));
    g_assert_true(machine_config_add_blockdev(
        &f.cfg,
        "{\"node-name\":\"libvirt-1-format\",\"read-only\":true,"
        "\"driver\":\"raw\",\"file\":\"libvirt-1-storage\"}",
        &err));
    g_assert_true(machine_config_add_blockdev(&f.cfg, spare, &err));
    g_assert_true(machine_open_drives(f.m, &err));
    g_assert_nonnull(add_blk(&f, "libvirt-1-format", &err));
    g_assert_null(err);

    l = qmp_query_block(f.m, &err);
    g_assert_cmpuint(l->len, ==, 1);
    b = g_ptr_array_index(l, 0);
    g_assert_cmpstr(b->device, ==, "");
    g_assert_cmpstr(b->qdev, ==, "virtio-blk-device");
    g_assert_false(b->removable);
    g_assert_cmpstr(b->inserted->node_name, ==, "libvirt-1-format");
    g_assert_cmpstr(b->inserted->drv, ==, "raw");
    g_assert_true(b->inserted->ro);
    g_assert_true(b->inserted->cache->writeback);
    g_assert_false(b->inserted->cache->no_flush);
    qapi_block_info_free(b);
    g_ptr_array_free(l, TRUE);

    l = qmp_query_named_block_nodes(f.m, true, true, &err);
    g_assert_cmpuint(l->len, ==, 3);
    for (guint i = 0; i < l->len; i++) {
        n = g_ptr_array_index(l, i);
        g_assert_cmpstr(n->node_name, ==, names[i]);
        g_assert_cmpstr(n->file, ==, f.path);
        g_assert_cmpstr(n->image->filename, ==, f.path);
        g_assert_cmpstr(n->image->format, ==, n->drv);
        g_assert_cmpint(n->image->virtual_size, ==, 64 * 512);
        g_assert_true(n->image->has_actual_size);
        g_assert_cmpint(n->image->actual_size, >, 0);
        g_assert_cmpint(n->backing_file_depth, ==, 0);
        g_assert_false(n->cache->direct);
    }
    n = g_ptr_array_index(l, 0);
    g_assert_cmpstr(n->drv, ==, "file");
    g_assert_true(n->ro);
    n = g_ptr_array_index(l, 1);
    g_assert_cmpstr(n->drv, ==, "raw");
    g_assert_true(n->ro);
    g_assert_false(n->cache->no_flush);
    /* the storage node keeps its own flags, as in QEMU: auto-read-only
     * left it writable, cache.no-flush is its own */
    n = g_ptr_array_index(l, 2);
    g_assert_cmpstr(n->drv, ==, "file");
    g_assert_false(n->ro);
    g_assert_true(n->cache->no_flush);
    for (guint i = 0; i < l->len; i++) {
        qapi_block_device_info_free(g_ptr_array_index(l, i));
    }
    g_ptr_array_free(l, TRUE);
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
    /* bootindex below -1 (QEMU: -1 or a non-negative index) */
    {
        const char *props[] = {"drive", "d0", "bootindex", "-2", NULL};

        g_assert_null(
            th_device_new(f.m, &virtio_blk_device_class, props, &err));
        g_assert_cmpstr(error_get_pretty(err), ==,
                        "Invalid bootindex -2 (-1 or a non-negative integer)");
        error_free(err);
        err = NULL;
    }
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

/* ---- migration ------------------------------------------------------ */

/* The driver's start-up through the registers: queue 0 of 8 at 0x1000. */
static void driver_start(struct dfx *f, struct vr *r)
{
    wr(f, VIRTIO_MMIO_STATUS, 0); /* reset (spec 3.1.1) */
    wr(f, VIRTIO_MMIO_STATUS, 3);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(f, VIRTIO_MMIO_STATUS, 0xb);
    vr_init(r, f->m->gm, 0x1000, 8);
    wr(f, VIRTIO_MMIO_QUEUE_NUM, 8);
    wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
    wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
    wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
    wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
    wr(f, VIRTIO_MMIO_STATUS, 0xf);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_STATUS), ==, 0xf);
}

/* Request `slot` (descriptors 3 slot..3 slot+2): read `sector` into
 * 0x20000 + 0x1000 slot, status at 0x30000 + slot; made available and
 * published, not kicked. */
static void put_read(struct vr *r, unsigned slot, uint64_t sector)
{
    uint8_t hdr[16] = {0};
    uint64_t h = 0x10000 + 16 * slot, d = 0x20000 + 0x1000 * slot;
    uint64_t st = 0x30000 + slot;

    hdr[8] = (uint8_t)sector;
    g_assert_true(gm_write(r->gm, h, hdr, 16));
    vr_desc(r, 3 * slot, h, 16, VIRTQ_DESC_F_NEXT, 3 * slot + 1);
    vr_desc(r, 3 * slot + 1, d, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
            3 * slot + 2);
    vr_desc(r, 3 * slot + 2, st, 1, VIRTQ_DESC_F_WRITE, 0);
    *vr_ptr(r->gm, st, 1) = 0xee;
    vr_add(r, 3 * slot);
    vr_publish(r);
}

/* Runs the main loop until the next used entry; checks it is `slot`'s
 * read of `sector`. */
static void wait_read(struct dfx *f, struct vr *r, unsigned slot,
                      uint8_t sector)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint32_t id, len;
    uint8_t *data;

    while (!vr_get_used(r, &id, &len)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f->m->ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(id, ==, 3 * slot);
    g_assert_cmpuint(len, ==, 513);
    g_assert_cmpuint(*vr_ptr(f->m->gm, 0x30000 + slot, 1), ==, VIRTIO_BLK_S_OK);
    data = vr_ptr(f->m->gm, 0x20000 + 0x1000 * slot, 512);
    g_assert_cmpuint(data[0], ==, sector);
    g_assert_cmpuint(data[511], ==, sector);
}

/* The whole stream of f's machine (the device, RAM), or NULL. */
static GByteArray *save_stream(struct dfx *f, Error **errp)
{
    return th_save_stream("microvm", g_ptr_array_index(f->m->devices, 0),
                          f->m->gm, errp);
}

static bool load_stream(struct dfx *f, GByteArray *b, Error **errp)
{
    return th_load_stream("microvm", g_ptr_array_index(f->m->devices, 0),
                          f->m->gm, b, errp);
}

static struct virtio_dev *vdev_of(struct dfx *f)
{
    return ((struct virtio_mmio_proxy *)g_ptr_array_index(f->m->devices, 0))
        ->vdev;
}

/* Two machines with a virtio-blk-device each (each on its own copy of
 * the image: the image lock keeps two devices off one file). */
static void pair_init(struct dfx *a, struct dfx *b)
{
    Error *err = NULL;

    dfx_init(a, "file=%s,if=none,id=d0");
    dfx_init(b, "file=%s,if=none,id=d0");
    g_assert_true(machine_open_drives(a->m, &err));
    g_assert_true(machine_open_drives(b->m, &err));
    g_assert_nonnull(add_blk(a, "d0", &err));
    g_assert_nonnull(add_blk(b, "d0", &err));
}

static void test_migrate_and_continue(void)
{
    struct dfx a, b;
    struct vr r, rb;
    Error *err = NULL;
    GByteArray *stream;
    struct virtqueue *vq;

    pair_init(&a, &b);
    driver_start(&a, &r);
    put_read(&r, 0, 7);
    wr(&a, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    wait_read(&a, &r, 0, 7);
    g_assert_true(th_gsi_level(a.m, 16)); /* not acknowledged: carried */
    wr(&a, VIRTIO_MMIO_QUEUE_SEL, 0);

    stream = save_stream(&a, &err);
    g_assert_null(err);
    g_assert_nonnull(stream);
    g_assert_false(th_gsi_level(b.m, 16));
    g_assert_true(load_stream(&b, stream, &err));
    g_assert_null(err);

    /* the destination: registers, the line, the queue where it was */
    g_assert_cmpuint(rd(&b, VIRTIO_MMIO_STATUS), ==, 0xf);
    g_assert_cmpuint(rd(&b, VIRTIO_MMIO_QUEUE_READY), ==, 1);
    g_assert_cmpuint(rd(&b, VIRTIO_MMIO_INTERRUPT_STATUS), ==, 1);
    g_assert_true(th_gsi_level(b.m, 16));
    vq = &vdev_of(&b)->vqs[0];
    g_assert_cmpuint(vq->last_avail_idx, ==, 1);
    g_assert_cmpuint(vq->used_idx, ==, 1);
    /* host views re-derived into the destination's own RAM */
    g_assert_true((void *)vq->desc == (void *)vr_ptr(b.m->gm, r.desc, 1));
    g_assert_true((void *)vq->used == (void *)vr_ptr(b.m->gm, r.used, 1));
    wr(&b, VIRTIO_MMIO_INTERRUPT_ACK, 1);
    g_assert_false(th_gsi_level(b.m, 16));

    /* the driver goes on with the same ring in the loaded RAM */
    rb = r;
    rb.gm = b.m->gm;
    put_read(&rb, 1, 9);
    wr(&b, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    wait_read(&b, &rb, 1, 9);
    g_assert_cmpuint(vr_used_p(&rb)[1], ==, 2);
    g_assert_true(th_gsi_level(b.m, 16));
    g_byte_array_unref(stream);
    dfx_fini(&a);
    dfx_fini(&b);
}

/* The destination of a save with slot 0's read of sector 5 in flight:
 * the completion is in its RAM, and it serves a new request. */
static void dest_completed_in_flight(struct dfx *b, const struct vr *r)
{
    struct vr rb = *r;

    rb.gm = b->m->gm;
    wait_read(b, &rb, 0, 5);
    put_read(&rb, 1, 6);
    wr(b, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    wait_read(b, &rb, 1, 6);
}

static void test_migrate_in_flight(void)
{
    struct dfx a, b;
    struct vr r;
    Error *err = NULL;
    GByteArray *stream, *body = g_byte_array_new();
    struct device *d;
    struct virtio_dev *vdev;

    pair_init(&a, &b);
    driver_start(&a, &r);
    d = g_ptr_array_index(a.m->devices, 0);
    vdev = vdev_of(&a);
    put_read(&r, 0, 5);
    /* the kick, without the main loop: popped and submitted, and its
     * completion waits for the backend's poll */
    g_mutex_lock(&d->lock);
    virtio_queue_notify(vdev, 0);
    g_mutex_unlock(&d->lock);
    g_assert_cmpuint(vdev->vqs[0].inflight, ==, 1);
    g_assert_cmpuint(vr_used_p(&r)[1], ==, 0);

    /* the core alone never saves a request half done */
    g_mutex_lock(&d->lock);
    g_assert_false(vmstate_save(&virtio_core_vmsd, vdev, body, &err));
    g_mutex_unlock(&d->lock);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "vmstate 'virtio': virtio-blk: queue 0 has 1 requests in "
                    "flight (not completed before the save)");
    g_assert_cmpuint(body->len, ==, 0);
    error_free(err);
    err = NULL;

    /* the device's save completes it first: into the used ring, the data
     * into RAM, the interrupt raised, all before RAM is written */
    stream = save_stream(&a, &err);
    g_assert_null(err);
    g_assert_cmpuint(vdev->vqs[0].inflight, ==, 0);
    g_assert_cmpuint(vr_used_p(&r)[1], ==, 1);
    g_assert_true(th_gsi_level(a.m, 16));

    g_assert_true(load_stream(&b, stream, &err));
    g_assert_null(err);
    g_assert_true(th_gsi_level(b.m, 16));
    dest_completed_in_flight(&b, &r);
    g_byte_array_unref(body);
    g_byte_array_unref(stream);
    dfx_fini(&a);
    dfx_fini(&b);
}

/* A live (pre-copy) migration with a request in flight at the
 * switchover: the passes run while the queue is idle, then the guest
 * kicks; the completion drains (the data and the used ring written into
 * RAM) before the last RAM sync, so the destination's RAM has the
 * completion. */
static void test_migrate_live_in_flight(void)
{
    struct dfx a, b;
    struct vr r;
    Error *err = NULL;
    struct precopy p = {0};
    struct savevm *sv;
    struct device *d;
    struct virtio_dev *vdev;
    GByteArray *stream = g_byte_array_new();
    struct stat st;
    int fd = memfd_create("live-stream", MFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    pair_init(&a, &b);
    driver_start(&a, &r);
    d = g_ptr_array_index(a.m->devices, 0);
    vdev = vdev_of(&a);
    sv = th_savevm_registry("microvm", d, a.m->gm);
    g_assert_true(precopy_start(&p, a.m->gm, NULL, sv, fd, &err));
    g_assert_cmpint(precopy_run(&p, &err), ==, PRECOPY_CONVERGED);
    /* the guest's kick after the last pass: in flight at the stop */
    put_read(&r, 0, 5);
    g_mutex_lock(&d->lock);
    virtio_queue_notify(vdev, 0);
    g_mutex_unlock(&d->lock);
    g_assert_cmpuint(vdev->vqs[0].inflight, ==, 1);
    g_assert_true(precopy_save_state(&p, &err));
    g_assert_cmpuint(vdev->vqs[0].inflight, ==, 0);
    g_assert_true(precopy_complete(&p, &err));
    g_assert_null(err);
    precopy_finish(&p);
    g_mutex_clear(&p.lock);
    savevm_free(sv);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_byte_array_set_size(stream, (guint)st.st_size);
    g_assert_cmpint(pread(fd, stream->data, stream->len, 0), ==,
                    (ssize_t)stream->len);
    close(fd);

    g_assert_true(load_stream(&b, stream, &err));
    g_assert_null(err);
    dest_completed_in_flight(&b, &r);
    g_byte_array_unref(stream);
    dfx_fini(&a);
    dfx_fini(&b);
}

/* A doorbell the source had not served when it stopped is not in the
 * stream: the destination looks at every enabled queue once anyway. */
static void test_migrate_unserved_kick(void)
{
    struct dfx a, b;
    struct vr r, rb;
    Error *err = NULL;
    GByteArray *stream;

    pair_init(&a, &b);
    driver_start(&a, &r);
    put_read(&r, 0, 11);
    wr(&a, VIRTIO_MMIO_QUEUE_NOTIFY, 0); /* the eventfd; no main loop */
    stream = save_stream(&a, &err);
    g_assert_null(err);
    g_assert_cmpuint(vr_used_p(&r)[1], ==, 0);
    g_assert_true(load_stream(&b, stream, &err));
    g_assert_null(err);
    rb = r;
    rb.gm = b.m->gm;
    wait_read(&b, &rb, 0, 11); /* no doorbell written on b */
    g_byte_array_unref(stream);
    dfx_fini(&a);
    dfx_fini(&b);
}

/* Saves a's state after mutate(), loads it into b: refused with a message
 * containing `want`, b untouched. */
static void expect_refused(struct dfx *a, struct dfx *b,
                           void (*mutate)(struct dfx *a, GByteArray *s),
                           const char *want)
{
    Error *err = NULL;
    GByteArray *stream;

    stream = save_stream(a, &err);
    g_assert_null(err);
    mutate(a, stream);
    g_assert_false(load_stream(b, stream, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("'%s' lacks '%s'", error_get_pretty(err), want);
    }
    error_free(err);
    g_assert_cmpuint(rd(b, VIRTIO_MMIO_STATUS), ==, 0);
    g_assert_cmpuint(rd(b, VIRTIO_MMIO_QUEUE_READY), ==, 0);
    g_assert_null(vdev_of(b)->vqs[0].desc);
    g_byte_array_unref(stream);
}

static const uint8_t idx_pattern[] = {0x71, 0x3c, 0x71, 0x3c, 0x71, 0x3c};

static void mutate_none(struct dfx *a, GByteArray *s)
{
}

static void mutate_last_avail(struct dfx *a, GByteArray *s)
{
    /* last_avail_idx, shadow_avail_idx, used_idx: last_avail 9 ahead */
    static const uint8_t v[2] = {(0x3c71 + 9) & 0xff, (0x3c71 + 9) >> 8};

    th_stream_patch(s, "virtio-blk-device", idx_pattern, sizeof(idx_pattern), 0,
                    v, sizeof(v));
}

static void test_migrate_hostile(void)
{
    struct dfx a, b;
    struct vr r;
    struct virtio_dev *vdev;
    struct virtqueue *vq;

    pair_init(&a, &b);
    driver_start(&a, &r);
    vdev = vdev_of(&a);
    vq = &vdev->vqs[0];

    /* a ring outside the destination's RAM */
    vq->desc_gpa = RAM;
    expect_refused(&a, &b, mutate_none,
                   "virtio-blk: queue 0: ring outside guest RAM (desc "
                   "0x1000000");
    vq->desc_gpa = r.desc;
    /* a misaligned one, as enabling refuses it */
    vq->used_gpa = r.used + 2;
    expect_refused(&a, &b, mutate_none, "virtio-blk: queue 0: misaligned ring");
    vq->used_gpa = r.used;
    /* a size that is no power of 2 */
    vq->num = 6;
    expect_refused(&a, &b, mutate_none,
                   "virtio-blk: queue 0: size 6 is not a power of 2");
    vq->num = 8;
    /* a status with bits no device has */
    vdev->status |= 0x20;
    expect_refused(&a, &b, mutate_none,
                   "virtio-blk: device status 0x2f has unknown bits");
    vdev->status &= ~0x20;
    /* DEVICE_NEEDS_RESET without the device being broken */
    vdev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    expect_refused(&a, &b, mutate_none, "does not match broken=0");
    vdev->status &= ~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    /* features the destination's device does not offer */
    vdev->guest_features |= 1ULL << 40;
    vdev->host_features |= 1ULL << 40;
    expect_refused(&a, &b, mutate_none,
                   "the driver accepted features 0x0000010000000000 this "
                   "device does not offer");
    vdev->guest_features &= ~(1ULL << 40);
    vdev->host_features &= ~(1ULL << 40);
    /* next available index 9 beyond the ring's available index */
    vr_set_avail_idx(&r, 0x3c71);
    vq->last_avail_idx = vq->shadow_avail_idx = vq->used_idx = 0x3c71;
    expect_refused(&a, &b, mutate_last_avail,
                   "virtio-blk: queue 0: inconsistent indices (available "
                   "15473, next available 15482, used 15473) for a queue "
                   "of 8");
    dfx_fini(&a);
    dfx_fini(&b);
}

/* A guest that moves avail->idx too far cannot make its VM unmigratable:
 * the save marks the device broken (as a pop would) and that state loads. */
static void test_migrate_guest_broke_ring(void)
{
    struct dfx a, b;
    struct vr r;
    Error *err = NULL;
    GByteArray *stream;

    pair_init(&a, &b);
    driver_start(&a, &r);
    vr_set_avail_idx(&r, 100);
    stream = save_stream(&a, &err);
    g_assert_null(err);
    g_assert_true(vdev_of(&a)->broken);
    g_assert_true(load_stream(&b, stream, &err));
    g_assert_null(err);
    g_assert_true(vdev_of(&b)->broken);
    g_assert_cmpuint(rd(&b, VIRTIO_MMIO_STATUS), ==,
                     0xf | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* the driver resets it and starts again on the destination */
    {
        struct vr rb;

        driver_start(&b, &rb);
        put_read(&rb, 0, 3);
        wr(&b, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
        wait_read(&b, &rb, 0, 3);
    }
    g_byte_array_unref(stream);
    dfx_fini(&a);
    dfx_fini(&b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk-device/read-through-doorbell",
                    test_read_through_doorbell);
    g_test_add_func("/virtio-blk-device/errors", test_errors);
    g_test_add_func("/virtio-blk-device/query-block-nodes",
                    test_query_block_nodes);
    g_test_add_func("/virtio-blk-device/migrate-and-continue",
                    test_migrate_and_continue);
    g_test_add_func("/virtio-blk-device/migrate-in-flight",
                    test_migrate_in_flight);
    g_test_add_func("/virtio-blk-device/migrate-live-in-flight",
                    test_migrate_live_in_flight);
    g_test_add_func("/virtio-blk-device/migrate-unserved-kick",
                    test_migrate_unserved_kick);
    g_test_add_func("/virtio-blk-device/migrate-hostile", test_migrate_hostile);
    g_test_add_func("/virtio-blk-device/migrate-guest-broke-ring",
                    test_migrate_guest_broke_ring);
    return g_test_run();
}
