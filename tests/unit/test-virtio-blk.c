/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-blk.c: virtio-blk (hw/block/virtio-blk.c) and its raw file
 * backend (hw/block/block-backend.c) driven with rings in a fake guest RAM
 * and a real temporary image: read, write, flush, discard, write-zeroes and
 * get-id checked against the host file, for each aio and cache mode; the
 * request parser's answers to malformed requests (IOERR, UNSUPP, or a
 * broken device); read-only images; multiple queues; QEMU-style image
 * locking and the qcow2 refusal.
 */
#include "util/common.h"
#include "hw/block/block-backend.h"
#include "hw/block/virtio-blk.h"
#include "system/guest-mem.h"
#include "util/keyval.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define RAM (16 * MiB)
#define NUM 32
#define IMG_SIZE (1 * MiB)
/* guest RAM layout */
#define HDR_GPA 0x100000ULL    /* 16-byte headers, one per slot */
#define STATUS_GPA 0x110000ULL /* status bytes */
#define DATA_GPA 0x200000ULL   /* 64 KiB per slot */

static const uint64_t FEAT =
    (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC) |
    (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_BLK_F_FLUSH) |
    (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES) |
    (1ULL << VIRTIO_BLK_F_MQ) | (1ULL << VIRTIO_BLK_F_RO);

struct bfx {
    struct guest_mem *gm;
    struct vlog log;
    char *path;
    struct blk_backend *be;
    struct virtio_blk s;
    struct vr r[2];
    unsigned irqs, config_irqs;
};

static void b_notify_queue(void *opaque, unsigned q)
{
    ((struct bfx *)opaque)->irqs++;
}

static void b_notify_config(void *opaque)
{
    ((struct bfx *)opaque)->config_irqs++;
}

static const struct virtio_transport_ops b_ops = {b_notify_queue,
                                                  b_notify_config};

static char *make_image(uint64_t size)
{
    Error *err = NULL;
    GError *gerr = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("vireo-blk-XXXXXX.raw", &path, &gerr);
    uint8_t *buf = g_malloc(size);

    g_assert_no_error(gerr);
    (void)err;
    /* sector n holds byte n & 0xff, so reads are checkable */
    for (uint64_t i = 0; i < size; i++) {
        buf[i] = (uint8_t)(i / 512);
    }
    g_assert_cmpint(pwrite(fd, buf, size, 0), ==, (ssize_t)size);
    close(fd);
    g_free(buf);
    return path;
}

static struct blk_backend *open_image(const char *path, bool ro,
                                      enum blk_cache cache, enum blk_aio aio)
{
    struct blk_options o = {.filename = path,
                            .readonly = ro,
                            .cache = cache,
                            .aio = aio,
                            .max_workers = 4};
    Error *err = NULL;
    struct blk_backend *be = blk_open(&o, &err);

    g_assert_null(err);
    g_assert_nonnull(be);
    return be;
}

static void bfx_init(struct bfx *f, bool ro, enum blk_cache cache,
                     enum blk_aio aio, unsigned nq)
{
    Error *err = NULL;

    memset(f, 0, sizeof(*f));
    f->gm = gm_new(RAM, &err);
    g_assert_nonnull(f->gm);
    g_assert_true(gm_add_ram(f->gm, 0, 0, RAM, "ram", &err));
    vlog_init(&f->log);
    f->path = make_image(IMG_SIZE);
    f->be = open_image(f->path, ro, cache, aio);
    virtio_blk_set_defaults(&f->s);
    f->s.num_queues = nq;
    f->s.serial = g_strdup("vireo-disk-0");
    g_assert_true(virtio_blk_setup(&f->s, f->be, f->gm, &f->log, &err));
    virtio_set_transport(&f->s.vdev, &b_ops, f);
    vr_init(&f->r[0], f->gm, 0x1000, NUM);
    vr_init(&f->r[1], f->gm, 0x4000, NUM);
    g_assert_true(
        vr_driver_start(&f->s.vdev, FEAT & f->s.vdev.host_features, f->r, nq) &
        VIRTIO_STATUS_DRIVER_OK);
}

static void bfx_fini(struct bfx *f)
{
    virtio_blk_teardown(&f->s);
    blk_close(f->be);
    g_free(f->s.serial);
    unlink(f->path);
    g_free(f->path);
    vlog_close(&f->log);
    gm_free(f->gm);
}

/* Slot i uses descriptors 3i..3i+2: header, data, status. */
static void put_req(struct bfx *f, unsigned q, unsigned slot, uint32_t type,
                    uint64_t sector, uint32_t data_len, bool data_in)
{
    struct vr *r = &f->r[q];
    uint8_t hdr[16] = {0};
    uint16_t d = (uint16_t)(3 * slot);

    hdr[0] = (uint8_t)type;
    memcpy(hdr + 8, &sector, 8);
    g_assert_true(gm_write(f->gm, HDR_GPA + 16 * slot, hdr, 16));
    *vr_ptr(f->gm, STATUS_GPA + slot, 1) = 0xee;
    vr_desc(r, d, HDR_GPA + 16 * slot, 16, VIRTQ_DESC_F_NEXT,
            data_len ? d + 1 : d + 2);
    if (data_len) {
        vr_desc(r, d + 1, DATA_GPA + 64 * KiB * slot, data_len,
                VIRTQ_DESC_F_NEXT | (data_in ? VIRTQ_DESC_F_WRITE : 0), d + 2);
    }
    vr_desc(r, d + 2, STATUS_GPA + slot, 1, VIRTQ_DESC_F_WRITE, 0);
    vr_add(r, d);
}

static uint8_t *slot_data(struct bfx *f, unsigned slot)
{
    return vr_ptr(f->gm, DATA_GPA + 64 * KiB * slot, 64 * KiB);
}

static uint8_t slot_status(struct bfx *f, unsigned slot)
{
    return *vr_ptr(f->gm, STATUS_GPA + slot, 1);
}

/* Kicks queue q and waits for `n` used entries; returns the last len. */
static uint32_t run(struct bfx *f, unsigned q, unsigned n)
{
    uint32_t id, len = 0;
    unsigned got = 0;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    vr_publish(&f->r[q]);
    virtio_queue_notify(&f->s.vdev, q);
    while (got < n) {
        struct pollfd p = {.fd = blk_event_fd(f->be), .events = POLLIN};

        while (vr_get_used(&f->r[q], &id, &len)) {
            got++;
        }
        if (got >= n) {
            break;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        poll(&p, 1, 100);
        virtio_blk_complete_io(&f->s);
    }
    return len;
}

static void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, (off_t)off), ==, (ssize_t)len);
    close(fd);
}

/* Whether this process may use io_uring at all (sysctl, container). */
static bool uring_works(void)
{
    struct io_uring ring;

    if (io_uring_queue_init(4, &ring, 0) < 0) {
        return false;
    }
    io_uring_queue_exit(&ring);
    return true;
}

static void io_cycle(enum blk_cache cache, enum blk_aio aio)
{
    struct bfx f;
    uint8_t buf[8192], *d;
    uint32_t len;

    bfx_init(&f, false, cache, aio, 1);
    g_test_message("aio in use: %s", blk_aio_name(f.be));
    if (aio == BLK_AIO_IO_URING && uring_works()) {
        /* the restricted ring set-up must not fall back silently */
        g_assert_cmpstr(blk_aio_name(f.be), ==, "io_uring");
    }
    /* read sectors 10..17 */
    put_req(&f, 0, 0, VIRTIO_BLK_T_IN, 10, 4096, true);
    len = run(&f, 0, 1);
    g_assert_cmpuint(len, ==, 4097);
    g_assert_cmpuint(slot_status(&f, 0), ==, VIRTIO_BLK_S_OK);
    d = slot_data(&f, 0);
    g_assert_cmpuint(d[0], ==, 10);
    g_assert_cmpuint(d[4095], ==, 17);
    g_assert_cmpuint(f.irqs, >=, 1);
    /* write sectors 100..107, then flush */
    memset(slot_data(&f, 1), 0xab, 4096);
    put_req(&f, 0, 1, VIRTIO_BLK_T_OUT, 100, 4096, false);
    g_assert_cmpuint(run(&f, 0, 1), ==, 1);
    g_assert_cmpuint(slot_status(&f, 1), ==, VIRTIO_BLK_S_OK);
    put_req(&f, 0, 2, VIRTIO_BLK_T_FLUSH, 0, 0, false);
    run(&f, 0, 1);
    g_assert_cmpuint(slot_status(&f, 2), ==, VIRTIO_BLK_S_OK);
    file_read(f.path, 100 * 512, buf, 4096);
    g_assert_cmpuint(buf[0], ==, 0xab);
    g_assert_cmpuint(buf[4095], ==, 0xab);
    file_read(f.path, 108 * 512, buf, 1);
    g_assert_cmpuint(buf[0], ==, 108);
    /* get-id */
    put_req(&f, 0, 3, VIRTIO_BLK_T_GET_ID, 0, 20, true);
    g_assert_cmpuint(run(&f, 0, 1), ==, 21);
    g_assert_cmpmem(slot_data(&f, 3), 12, "vireo-disk-0", 12);
    g_assert_cmpuint(slot_data(&f, 3)[12], ==, 0);
    /* discard sectors 200..215, write-zeroes 300..307 */
    {
        uint8_t seg[16] = {0};
        uint64_t sec = 200;
        uint32_t n = 16;

        memcpy(seg, &sec, 8);
        memcpy(seg + 8, &n, 4);
        memcpy(slot_data(&f, 4), seg, 16);
        put_req(&f, 0, 4, VIRTIO_BLK_T_DISCARD, 0, 16, false);
        sec = 300;
        n = 8;
        memcpy(seg, &sec, 8);
        memcpy(seg + 8, &n, 4);
        memcpy(slot_data(&f, 5), seg, 16);
        put_req(&f, 0, 5, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
        run(&f, 0, 2);
    }
    g_assert_cmpuint(slot_status(&f, 4), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(slot_status(&f, 5), ==, VIRTIO_BLK_S_OK);
    file_read(f.path, 200 * 512, buf, 8192);
    for (unsigned i = 0; i < 8192; i++) {
        g_assert_cmpuint(buf[i], ==, 0);
    }
    file_read(f.path, 300 * 512, buf, 4096);
    for (unsigned i = 0; i < 4096; i++) {
        g_assert_cmpuint(buf[i], ==, 0);
    }
    file_read(f.path, 308 * 512, buf, 1);
    g_assert_cmpuint(buf[0], ==, (uint8_t)308);
    /* a batch of 5 reads in one kick */
    for (unsigned i = 0; i < 5; i++) {
        put_req(&f, 0, i, VIRTIO_BLK_T_IN, 512 + i, 512, true);
    }
    run(&f, 0, 5);
    for (unsigned i = 0; i < 5; i++) {
        g_assert_cmpuint(slot_status(&f, i), ==, VIRTIO_BLK_S_OK);
        g_assert_cmpuint(slot_data(&f, i)[0], ==, (uint8_t)(512 + i));
    }
    g_assert_false(f.s.vdev.broken);
    bfx_fini(&f);
}

static void test_threads_writeback(void)
{
    io_cycle(BLK_CACHE_WRITEBACK, BLK_AIO_THREADS);
}

static void test_threads_none(void)
{
    io_cycle(BLK_CACHE_NONE, BLK_AIO_THREADS);
}

static void test_uring_none(void)
{
    io_cycle(BLK_CACHE_NONE, BLK_AIO_IO_URING);
}

static void test_uring_unsafe(void)
{
    io_cycle(BLK_CACHE_UNSAFE, BLK_AIO_IO_URING);
}

/* cache=none with a buffer that is not 512-aligned: bounce buffers. */
static void test_bounce(void)
{
    struct bfx f;
    uint8_t *hdr;
    uint64_t sector = 7;

    bfx_init(&f, false, BLK_CACHE_NONE, BLK_AIO_IO_URING, 1);
    hdr = vr_ptr(f.gm, HDR_GPA, 16);
    memset(hdr, 0, 16);
    memcpy(hdr + 8, &sector, 8);
    vr_desc(&f.r[0], 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    /* 512 bytes at an odd address, split in two descriptors */
    vr_desc(&f.r[0], 1, DATA_GPA + 3, 100,
            VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    vr_desc(&f.r[0], 2, DATA_GPA + 200, 412,
            VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
    vr_desc(&f.r[0], 3, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f.r[0], 0);
    g_assert_cmpuint(run(&f, 0, 1), ==, 513);
    g_assert_cmpuint(slot_status(&f, 0), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(slot_data(&f, 0)[3], ==, 7);
    g_assert_cmpuint(slot_data(&f, 0)[200 + 411], ==, 7);
    bfx_fini(&f);
}

/* Well-formed but impossible requests: an error status, device fine. */
static void test_bad_requests(void)
{
    struct bfx f;
    uint64_t cap = IMG_SIZE / 512;

    bfx_init(&f, false, BLK_CACHE_WRITEBACK, BLK_AIO_THREADS, 1);
    put_req(&f, 0, 0, VIRTIO_BLK_T_IN, cap - 1, 1024, true);   /* past end */
    put_req(&f, 0, 1, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true); /* overflow */
    put_req(&f, 0, 2, VIRTIO_BLK_T_OUT, 0, 100, false);        /* not sectors */
    put_req(&f, 0, 3, 0x55, 0, 0, false);                      /* unknown */
    put_req(&f, 0, 4, VIRTIO_BLK_T_DISCARD, 0, 8, false);      /* short seg */
    put_req(&f, 0, 5, VIRTIO_BLK_T_IN, cap - 1, 512, true);    /* last: ok */
    run(&f, 0, 6);
    g_assert_cmpuint(slot_status(&f, 0), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(slot_status(&f, 1), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(slot_status(&f, 2), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(slot_status(&f, 3), ==, VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(slot_status(&f, 4), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(slot_status(&f, 5), ==, VIRTIO_BLK_S_OK);
    g_assert_false(f.s.vdev.broken);
    bfx_fini(&f);
}

static void put_seg(struct bfx *f, unsigned slot, uint32_t type, uint64_t sec,
                    uint32_t n)
{
    uint8_t seg[16] = {0};

    memcpy(seg, &sec, 8);
    memcpy(seg + 8, &n, 4);
    memcpy(slot_data(f, slot), seg, 16);
    put_req(f, 0, slot, type, 0, 16, false);
}

/* query-blockstats' counters as QEMU's virtio-blk accounts: write-zeroes
 * is a write, discard an unmap, get-id and unknown types nothing; a
 * request past the end is invalid, a write to a read-only image failed. */
static void test_stats(void)
{
    struct bfx f;
    struct blk_acct_stats st;
    uint64_t cap = IMG_SIZE / 512;

    bfx_init(&f, false, BLK_CACHE_WRITEBACK, BLK_AIO_THREADS, 1);
    blk_stats_read(f.be, &st);
    g_assert_cmpuint(st.ops[BLK_ACCT_READ], ==, 0);
    g_assert_cmpint(st.last_access_ns, ==, 0);
    put_req(&f, 0, 0, VIRTIO_BLK_T_IN, 3, 1536, true);
    put_req(&f, 0, 1, VIRTIO_BLK_T_OUT, 10, 1024, false);
    put_req(&f, 0, 2, VIRTIO_BLK_T_FLUSH, 0, 0, false);
    put_seg(&f, 3, VIRTIO_BLK_T_DISCARD, 200, 8);
    put_seg(&f, 4, VIRTIO_BLK_T_WRITE_ZEROES, 100, 4);
    put_req(&f, 0, 5, VIRTIO_BLK_T_IN, cap, 512, true);  /* past the end */
    put_req(&f, 0, 6, VIRTIO_BLK_T_OUT, 0, 100, false);  /* not sectors */
    put_req(&f, 0, 7, VIRTIO_BLK_T_GET_ID, 0, 20, true); /* not counted */
    put_req(&f, 0, 8, 0x55, 0, 0, false);                /* not counted */
    put_seg(&f, 9, VIRTIO_BLK_T_DISCARD, cap - 1, 2);    /* past the end */
    run(&f, 0, 10);
    blk_stats_read(f.be, &st);
    g_assert_cmpuint(st.bytes[BLK_ACCT_READ], ==, 1536);
    g_assert_cmpuint(st.ops[BLK_ACCT_READ], ==, 1);
    g_assert_cmpuint(st.bytes[BLK_ACCT_WRITE], ==, 1024 + 2048);
    g_assert_cmpuint(st.ops[BLK_ACCT_WRITE], ==, 2);
    g_assert_cmpuint(st.ops[BLK_ACCT_FLUSH], ==, 1);
    g_assert_cmpuint(st.bytes[BLK_ACCT_FLUSH], ==, 0);
    g_assert_cmpuint(st.bytes[BLK_ACCT_UNMAP], ==, 4096);
    g_assert_cmpuint(st.ops[BLK_ACCT_UNMAP], ==, 1);
    g_assert_cmpuint(st.invalid_ops[BLK_ACCT_READ], ==, 1);
    g_assert_cmpuint(st.invalid_ops[BLK_ACCT_WRITE], ==, 1);
    g_assert_cmpuint(st.invalid_ops[BLK_ACCT_UNMAP], ==, 1);
    g_assert_cmpuint(st.invalid_ops[BLK_ACCT_FLUSH], ==, 0);
    for (unsigned t = 0; t < BLK_ACCT__MAX; t++) {
        g_assert_cmpuint(st.failed_ops[t], ==, 0);
    }
    /* the write-zeroes at sector 100 ends highest */
    g_assert_cmpuint(st.wr_highest_offset, ==, 104 * 512);
    /* each accounted request took some time (submission to completion) */
    g_assert_cmpuint(st.total_time_ns[BLK_ACCT_READ], >, 0);
    g_assert_cmpuint(st.total_time_ns[BLK_ACCT_WRITE], >, 0);
    g_assert_cmpuint(st.total_time_ns[BLK_ACCT_FLUSH], >, 0);
    g_assert_cmpuint(st.total_time_ns[BLK_ACCT_UNMAP], >, 0);
    g_assert_cmpint(st.last_access_ns, >, 0);
    g_assert_cmpint(st.last_access_ns, <=, blk_clock_ns());
    bfx_fini(&f);

    /* read-only: writes fail (QEMU's block layer refuses them), reads
     * still count */
    bfx_init(&f, true, BLK_CACHE_WRITEBACK, BLK_AIO_THREADS, 1);
    put_req(&f, 0, 0, VIRTIO_BLK_T_OUT, 1, 512, false);
    put_seg(&f, 1, VIRTIO_BLK_T_WRITE_ZEROES, 1, 1);
    put_req(&f, 0, 2, VIRTIO_BLK_T_IN, 1, 512, true);
    run(&f, 0, 3);
    blk_stats_read(f.be, &st);
    g_assert_cmpuint(st.failed_ops[BLK_ACCT_WRITE], ==, 2);
    g_assert_cmpuint(st.ops[BLK_ACCT_WRITE], ==, 0);
    g_assert_cmpuint(st.bytes[BLK_ACCT_WRITE], ==, 0);
    g_assert_cmpuint(st.wr_highest_offset, ==, 0);
    g_assert_cmpuint(st.ops[BLK_ACCT_READ], ==, 1);
    bfx_fini(&f);
}

static void test_readonly(void)
{
    struct bfx f;
    uint8_t buf[512];

    bfx_init(&f, true, BLK_CACHE_WRITEBACK, BLK_AIO_IO_URING, 1);
    g_assert_true(f.s.vdev.host_features & (1ULL << VIRTIO_BLK_F_RO));
    memset(slot_data(&f, 0), 0xcd, 512);
    put_req(&f, 0, 0, VIRTIO_BLK_T_OUT, 1, 512, false);
    put_req(&f, 0, 1, VIRTIO_BLK_T_IN, 1, 512, true);
    run(&f, 0, 2);
    g_assert_cmpuint(slot_status(&f, 0), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(slot_status(&f, 1), ==, VIRTIO_BLK_S_OK);
    file_read(f.path, 512, buf, 512);
    g_assert_cmpuint(buf[0], ==, 1);
    g_assert_false(f.s.vdev.broken);
    bfx_fini(&f);
}

/* Missing header or status byte: the driver broke the protocol. */
static void test_malformed(void)
{
    struct bfx f;

    bfx_init(&f, false, BLK_CACHE_WRITEBACK, BLK_AIO_THREADS, 2);
    /* queue 0: header only, no writable status */
    vr_desc(&f.r[0], 0, HDR_GPA, 16, 0, 0);
    vr_add(&f.r[0], 0);
    vr_publish(&f.r[0]);
    virtio_queue_notify(&f.s.vdev, 0);
    g_assert_true(f.s.vdev.broken);
    g_assert_true(f.s.vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    g_assert_cmpuint(f.config_irqs, ==, 1);
    /* nothing on queue 1 either until a reset */
    put_req(&f, 1, 0, VIRTIO_BLK_T_IN, 0, 512, true);
    vr_publish(&f.r[1]);
    virtio_queue_notify(&f.s.vdev, 1);
    g_assert_cmpuint(slot_status(&f, 0), ==, 0xee);
    /* reset, restart: works on both queues */
    vr_init(&f.r[0], f.gm, 0x1000, NUM);
    vr_init(&f.r[1], f.gm, 0x4000, NUM);
    g_assert_true(
        vr_driver_start(&f.s.vdev, FEAT & f.s.vdev.host_features, f.r, 2) &
        VIRTIO_STATUS_DRIVER_OK);
    put_req(&f, 1, 0, VIRTIO_BLK_T_IN, 3, 512, true);
    run(&f, 1, 1);
    g_assert_cmpuint(slot_status(&f, 0), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(slot_data(&f, 0)[0], ==, 3);
    /* short header (8 bytes) */
    vr_desc(&f.r[0], 0, HDR_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f.r[0], 1, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f.r[0], 0);
    vr_publish(&f.r[0]);
    virtio_queue_notify(&f.s.vdev, 0);
    g_assert_true(f.s.vdev.broken);
    bfx_fini(&f);
}

/* Config space as the driver reads it. */
static void test_config(void)
{
    struct bfx f;
    struct virtio_dev *v;

    bfx_init(&f, false, BLK_CACHE_WRITEBACK, BLK_AIO_THREADS, 2);
    v = &f.s.vdev;
    g_assert_cmpuint(virtio_config_read(v, 0, 8), ==, IMG_SIZE / 512);
    g_assert_cmpuint(virtio_config_read(v, 12, 4), ==, 254); /* seg_max */
    g_assert_cmpuint(virtio_config_read(v, 20, 4), ==, 512);
    g_assert_cmpuint(virtio_config_read(v, 34, 2), ==, 2);
    g_assert_cmpuint(virtio_config_read(v, 40, 4), ==, 1);
    g_assert_cmpuint(virtio_config_read(v, 56, 1), ==, 1);
    g_assert_cmphex(virtio_config_read(v, 60, 1), ==, 0xff); /* past end */
    g_assert_true(v->host_features & (1ULL << VIRTIO_BLK_F_MQ));
    g_assert_false(v->host_features & (1ULL << VIRTIO_BLK_F_RO));
    bfx_fini(&f);
}

static void test_props(void)
{
    struct virtio_blk s;
    Error *err = NULL;

    memset(&s, 0, sizeof(s));
    virtio_blk_set_defaults(&s);
    s.queue_size = 100;
    g_assert_false(virtio_blk_setup(&s, NULL, NULL, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "queue-size"));
    error_free(err);
    err = NULL;
    s.queue_size = 256;
    s.num_queues = 0;
    g_assert_false(virtio_blk_setup(&s, NULL, NULL, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "num-queues"));
    error_free(err);
    err = NULL;
    s.num_queues = 1;
    s.serial = g_strdup("123456789012345678901");
    g_assert_false(virtio_blk_setup(&s, NULL, NULL, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "serial"));
    error_free(err);
    g_free(s.serial);
}

/* The property table's defaults (text, as -device parses them) are the
 * values virtio_blk_set_defaults() gives users without the table. */
static void test_prop_defaults(void)
{
    struct virtio_blk s;

    memset(&s, 0, sizeof(s));
    virtio_blk_set_defaults(&s);
    for (const struct prop *p = virtio_blk_props; p->name; p++) {
        const uint8_t *field = (const uint8_t *)&s + p->offset;
        uint64_t v = 0;
        bool b = false;

        switch (p->type) {
        case PROP_BOOL:
            g_assert_true(parse_bool(p->defval, &b));
            g_assert_cmpint(b, ==, *(const bool *)field);
            break;
        case PROP_U32:
            g_assert_true(parse_u64(p->defval, &v));
            g_assert_cmpuint(v, ==, *(const uint32_t *)field);
            break;
        case PROP_I32:
            g_assert_cmpint(g_ascii_strtoll(p->defval, NULL, 0), ==,
                            *(const int32_t *)field);
            break;
        case PROP_STR:
            g_assert_null(p->defval);
            g_assert_null(*(char *const *)field);
            break;
        default:
            g_assert_not_reached();
        }
    }
}

/* Completions reach the rings through the main loop: the backend's
 * eventfd watched on a GMainContext, the device lock taken there. */
static void test_main_loop(void)
{
    struct bfx f;
    GMainContext *ctx = g_main_context_new();
    uint32_t id, len;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    GMutex lock;

    bfx_init(&f, false, BLK_CACHE_WRITEBACK, BLK_AIO_IO_URING, 1);
    g_mutex_init(&lock);
    f.s.lock = &lock;
    virtio_blk_attach(&f.s, ctx);
    put_req(&f, 0, 0, VIRTIO_BLK_T_IN, 42, 512, true);
    vr_publish(&f.r[0]);
    g_mutex_lock(&lock);
    virtio_queue_notify(&f.s.vdev, 0);
    g_mutex_unlock(&lock);
    while (!vr_get_used(&f.r[0], &id, &len)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(ctx, TRUE);
    }
    g_assert_cmpuint(len, ==, 513);
    g_assert_cmpuint(slot_data(&f, 0)[0], ==, 42);
    g_assert_cmpuint(f.irqs, ==, 1);
    bfx_fini(&f);
    g_mutex_clear(&lock);
    g_main_context_unref(ctx);
}

/* Locking: a second writer in another process is refused with QEMU's
 * message; a reader too (a writer does not share "write"); locking=off
 * opens anyway.  OFD locks do not conflict within one open file
 * description, but do between two opens in one process: no fork needed. */
static void test_locking(void)
{
    char *path = make_image(64 * KiB);
    struct blk_backend *a =
        open_image(path, false, BLK_CACHE_WRITEBACK, BLK_AIO_THREADS);
    struct blk_options o = {.filename = path};
    Error *err = NULL;
    struct blk_backend *b = blk_open(&o, &err);

    g_assert_null(b);
    g_assert_nonnull(
        strstr(error_get_pretty(err), "Failed to get \"write\" lock"));
    g_assert_nonnull(strstr(error_get_pretty(err), path));
    error_free(err);
    err = NULL;
    o.readonly = true;
    b = blk_open(&o, &err);
    g_assert_null(b);
    g_assert_nonnull(strstr(error_get_pretty(err), "lock"));
    error_free(err);
    err = NULL;
    o.locking = BLK_LOCKING_OFF;
    b = blk_open(&o, &err);
    g_assert_nonnull(b);
    blk_close(b);
    blk_close(a);
    /* the locks went with the descriptor */
    o.locking = BLK_LOCKING_ON;
    o.readonly = false;
    b = blk_open(&o, &err);
    g_assert_nonnull(b);
    /* two readers sharing: fine as long as neither writes */
    blk_close(b);
    o.readonly = true;
    a = blk_open(&o, &err);
    b = blk_open(&o, &err);
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    blk_close(a);
    blk_close(b);
    unlink(path);
    g_free(path);
}

static int zero_done;

static void zero_cb(struct blk_request *r, int ret)
{
    g_assert_cmpint(ret, ==, 0);
    zero_done++;
}

/* Write-zeroes where FALLOC_FL_ZERO_RANGE is not supported (shmem: a
 * memfd): zero-filled writes, or a hole when unmapping is allowed. */
static void test_zeroes_fallback(void)
{
    int fd = memfd_create("vireo-zeroes", MFD_CLOEXEC);
    char *path = g_strdup_printf("/proc/self/fd/%d", fd);
    struct blk_options o = {.filename = path};
    struct blk_backend *be;
    struct blk_request rq[2];
    uint8_t buf[8192];

    memset(buf, 0xee, sizeof(buf));
    g_assert_cmpint(pwrite(fd, buf, sizeof(buf), 0), ==, sizeof(buf));
    be = blk_open(&o, NULL);
    g_assert_nonnull(be);
    memset(rq, 0, sizeof(rq));
    rq[0].op = rq[1].op = BLK_OP_WRITE_ZEROES;
    rq[0].offset = 512;
    rq[0].len = 1024;
    rq[1].offset = 4096;
    rq[1].len = 4096;
    rq[1].may_unmap = true;
    rq[0].cb = rq[1].cb = zero_cb;
    blk_submit(be, &rq[0]);
    blk_submit(be, &rq[1]);
    blk_drain(be);
    g_assert_cmpint(zero_done, ==, 2);
    g_assert_cmpint(pread(fd, buf, sizeof(buf), 0), ==, sizeof(buf));
    for (unsigned i = 0; i < sizeof(buf); i++) {
        bool zero = (i >= 512 && i < 1536) || i >= 4096;
        g_assert_cmpuint(buf[i], ==, zero ? 0 : 0xee);
    }
    blk_close(be);
    close(fd);
    g_free(path);
}

/* A paused QEMU with the image as its virtio-blk disk. */
static char **qemu_argv(const char *qemu, const char *drive)
{
    const char *argv[] = {qemu,
                          "-M",
                          "pc",
                          "-accel",
                          "tcg",
                          "-display",
                          "none",
                          "-S",
                          "-nodefaults",
                          "-drive",
                          drive,
                          "-device",
                          "virtio-blk-pci,drive=d0",
                          NULL};

    return g_strdupv((char **)argv);
}

/* The lock bytes are QEMU's: a QEMU 7.2 with the image open as a
 * virtio-blk disk makes vireo refuse it, and the other way round.
 * Skipped without qemu-system-x86_64. */
static void test_qemu_locks(void)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    char *path;
    g_autofree char *drive = NULL;
    g_autofree char *err_text = NULL;
    struct blk_options o = {0};
    struct blk_backend *be = NULL;
    Error *err = NULL;
    GPid pid;
    int status;
    gint64 deadline;

    if (!qemu) {
        g_test_skip("qemu-system-x86_64 not installed");
        return;
    }
    path = make_image(64 * KiB);
    drive = g_strdup_printf("file=%s,format=raw,if=none,id=d0", path);
    {
        g_auto(GStrv) argv = qemu_argv(qemu, drive);
        g_assert_true(g_spawn_async(NULL, argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD |
                                        G_SPAWN_STDOUT_TO_DEV_NULL |
                                        G_SPAWN_STDERR_TO_DEV_NULL,
                                    NULL, NULL, &pid, NULL));
    }
    o.filename = path;
    deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    /* until QEMU has taken its locks, we get the image */
    while ((be = blk_open(&o, &err))) {
        blk_close(be);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(50000);
    }
    g_assert_nonnull(strstr(error_get_pretty(err), "Failed to get"));
    error_free(err);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);

    be = blk_open(&o, &err);
    g_assert_nonnull(be);
    {
        g_auto(GStrv) argv = qemu_argv(qemu, drive);
        g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                                   NULL, NULL, NULL, &err_text, &status, NULL));
    }
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    g_assert_nonnull(strstr(err_text, "Failed to get \"write\" lock"));
    blk_close(be);
    unlink(path);
    g_free(path);
}

static void test_open_errors(void)
{
    char *path = make_image(4096);
    struct blk_options o = {.filename = "/nonexistent/vireo.img"};
    Error *err = NULL;
    enum blk_cache c;
    enum blk_aio a;
    int fd;

    g_assert_null(blk_open(&o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Could not open"));
    error_free(err);
    err = NULL;
    fd = open(path, O_WRONLY);
    g_assert_cmpint(pwrite(fd, "QFI\xfb\0\0\0\3", 8, 0), ==, 8);
    close(fd);
    o.filename = path;
    g_assert_null(blk_open(&o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "qcow2"));
    g_assert_nonnull(strstr(error_get_pretty(err), "qemu-img convert"));
    error_free(err);
    err = NULL;
    g_assert_true(blk_parse_cache("none", &c, &err));
    g_assert_cmpint(c, ==, BLK_CACHE_NONE);
    g_assert_false(blk_parse_cache("directsync", &c, &err));
    error_free(err);
    err = NULL;
    g_assert_false(blk_parse_cache("bogus", &c, &err));
    error_free(err);
    err = NULL;
    g_assert_true(blk_parse_aio("io_uring", &a, &err));
    g_assert_cmpint(a, ==, BLK_AIO_IO_URING);
    g_assert_false(blk_parse_aio("native", &a, &err));
    error_free(err);
    unlink(path);
    g_free(path);
}

static int sandboxed_done;

static void sandboxed_cb(struct blk_request *r, int ret)
{
    if (ret == 0) {
        sandboxed_done++;
    }
}

/* A worker with the block-worker seccomp filter does reads, writes and
 * flushes (in a child: the filter stays with the process's threads). */
static void test_sandboxed_workers(void)
{
    char *path = make_image(64 * KiB);
    pid_t pid = fork();
    int status;

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        struct blk_options o = {
            .filename = path, .cache = BLK_CACHE_NONE, .sandbox_workers = true};
        struct blk_backend *be = blk_open(&o, NULL);
        void *buf = NULL;
        struct iovec iov;
        struct blk_request rq[3];

        if (!be || posix_memalign(&buf, 4096, 4096)) {
            _exit(2);
        }
        iov.iov_base = buf;
        iov.iov_len = 4096;
        for (int i = 0; i < 3; i++) {
            memset(&rq[i], 0, sizeof(rq[i]));
            rq[i].op = i == 0 ? BLK_OP_WRITE
                              : (i == 1 ? BLK_OP_FLUSH : BLK_OP_WRITE_ZEROES);
            rq[i].iov = &iov;
            rq[i].niov = 1;
            rq[i].len = 4096;
            rq[i].cb = sandboxed_cb;
            blk_submit(be, &rq[i]);
        }
        blk_drain(be);
        blk_close(be);
        _exit(sandboxed_done == 3 ? 0 : 3);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    unlink(path);
    g_free(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-blk/io/threads-writeback", test_threads_writeback);
    g_test_add_func("/virtio-blk/io/threads-none", test_threads_none);
    g_test_add_func("/virtio-blk/io/io_uring-none", test_uring_none);
    g_test_add_func("/virtio-blk/io/io_uring-unsafe", test_uring_unsafe);
    g_test_add_func("/virtio-blk/io/bounce", test_bounce);
    g_test_add_func("/virtio-blk/bad-requests", test_bad_requests);
    g_test_add_func("/virtio-blk/readonly", test_readonly);
    g_test_add_func("/virtio-blk/stats", test_stats);
    g_test_add_func("/virtio-blk/malformed", test_malformed);
    g_test_add_func("/virtio-blk/config", test_config);
    g_test_add_func("/virtio-blk/props", test_props);
    g_test_add_func("/virtio-blk/prop-defaults", test_prop_defaults);
    g_test_add_func("/virtio-blk/main-loop", test_main_loop);
    g_test_add_func("/block-backend/locking", test_locking);
    g_test_add_func("/block-backend/open-errors", test_open_errors);
    g_test_add_func("/block-backend/qemu-locks", test_qemu_locks);
    g_test_add_func("/block-backend/zeroes-fallback", test_zeroes_fallback);
    g_test_add_func("/block-backend/sandboxed-workers", test_sandboxed_workers);
    return g_test_run();
}
