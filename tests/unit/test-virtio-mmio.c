/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-mmio.c: the virtio-mmio transport (hw/virtio/virtio-mmio.c)
 * driven like a Linux driver drives it, through its registers only, over a
 * virtio-blk on a real temporary image with rings in a fake guest RAM:
 * identification, feature negotiation, queue set-up, a read and a write
 * seen in the host file, the level interrupt line and its ack; and the
 * hostile cases (queue size not a power of 2, rings outside RAM,
 * unaligned and wrong-size accesses) logged with no crash.
 */
#include "util/common.h"
#include "hw/block/block-backend.h"
#include "hw/block/virtio-blk.h"
#include "hw/core/irq.h"
#include "hw/virtio/virtio-mmio.h"
#include "system/guest-mem.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#define RAM (16 * MiB)
#define NUM 16
#define RING_GPA 0x1000ULL
#define HDR_GPA 0x100000ULL
#define STATUS_GPA 0x110000ULL
#define DATA_GPA 0x200000ULL
#define IMG_SIZE (256 * KiB)

struct mfx {
    struct guest_mem *gm;
    struct vlog log;
    char *path;
    struct blk_backend *be;
    struct virtio_blk s;
    struct virtio_mmio t;
    struct irq_line line;
    bool level;
    unsigned raises;
    struct vr r;
};

static void line_handler(void *opaque, unsigned n, bool level)
{
    struct mfx *f = opaque;

    if (level && !f->level) {
        f->raises++;
    }
    f->level = level;
}

static uint32_t rd(struct mfx *f, uint64_t off)
{
    return (uint32_t)virtio_mmio_read(&f->t, off, 4);
}

static void wr(struct mfx *f, uint64_t off, uint32_t val)
{
    virtio_mmio_write(&f->t, off, val, 4);
}

static void mfx_init(struct mfx *f)
{
    Error *err = NULL;
    GError *gerr = NULL;
    int fd;
    uint8_t *buf = g_malloc(IMG_SIZE);
    struct blk_options o = {.aio = BLK_AIO_THREADS, .max_workers = 2};

    memset(f, 0, sizeof(*f));
    f->gm = gm_new(RAM, &err);
    g_assert_nonnull(f->gm);
    g_assert_true(gm_add_ram(f->gm, 0, 0, RAM, "ram", &err));
    vlog_init(&f->log);
    fd = g_file_open_tmp("vireo-mmio-XXXXXX.raw", &f->path, &gerr);
    g_assert_no_error(gerr);
    for (unsigned i = 0; i < IMG_SIZE; i++) {
        buf[i] = (uint8_t)(i / 512);
    }
    g_assert_cmpint(pwrite(fd, buf, IMG_SIZE, 0), ==, IMG_SIZE);
    close(fd);
    g_free(buf);
    o.filename = f->path;
    f->be = blk_open(&o, &err);
    g_assert_null(err);
    virtio_blk_set_defaults(&f->s);
    g_assert_true(virtio_blk_setup(&f->s, f->be, f->gm, &f->log, &err));
    irq_line_init(&f->line, line_handler, f, 0);
    virtio_mmio_init(&f->t, &f->s.vdev, &f->line, &f->log);
}

static void mfx_fini(struct mfx *f)
{
    virtio_mmio_cleanup(&f->t);
    virtio_blk_teardown(&f->s);
    blk_close(f->be);
    unlink(f->path);
    g_free(f->path);
    vlog_close(&f->log);
    gm_free(f->gm);
}

/* Linux's virtio_mmio probe and virtio_dev_probe, by register. */
static void driver_start(struct mfx *f)
{
    uint64_t feat;

    g_assert_cmphex(rd(f, VIRTIO_MMIO_MAGIC_VALUE), ==, 0x74726976);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_VERSION), ==, 2);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_DEVICE_ID), ==, VIRTIO_ID_BLOCK);
    g_assert_cmphex(rd(f, VIRTIO_MMIO_VENDOR_ID), ==, VIRTIO_MMIO_VENDOR);
    wr(f, VIRTIO_MMIO_STATUS, 0);
    wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    feat = (uint64_t)rd(f, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    feat |= rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
    g_assert_true(feat & (1ULL << VIRTIO_F_VERSION_1));
    g_assert_cmphex(feat, ==, f->s.vdev.host_features);
    feat &= (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_FLUSH);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
    wr(f, VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
           VIRTIO_STATUS_FEATURES_OK);
    g_assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    /* queue 0; queue 1 does not exist */
    wr(f, VIRTIO_MMIO_QUEUE_SEL, 1);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 0);
    wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 256);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_QUEUE_READY), ==, 0);
    vr_init(&f->r, f->gm, RING_GPA, NUM);
    wr(f, VIRTIO_MMIO_QUEUE_NUM, NUM);
    wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)f->r.desc);
    wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)f->r.avail);
    wr(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)f->r.used);
    wr(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_QUEUE_READY), ==, 1);
    wr(f, VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
           VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_STATUS) & ~0x0fu, ==, 0);
}

/* One request in descriptors 0..2; kicks through QueueNotify and waits. */
static uint8_t request(struct mfx *f, uint32_t type, uint64_t sector,
                       uint32_t len, bool in)
{
    uint8_t hdr[16] = {0};
    uint32_t id, ulen;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    hdr[0] = (uint8_t)type;
    memcpy(hdr + 8, &sector, 8);
    g_assert_true(gm_write(f->gm, HDR_GPA, hdr, 16));
    *vr_ptr(f->gm, STATUS_GPA, 1) = 0xee;
    vr_desc(&f->r, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f->r, 1, DATA_GPA, len,
            VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0), 2);
    vr_desc(&f->r, 2, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f->r, 0);
    vr_publish(&f->r);
    wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    while (!vr_get_used(&f->r, &id, &ulen)) {
        struct pollfd p = {.fd = blk_event_fd(f->be), .events = POLLIN};

        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        poll(&p, 1, 100);
        virtio_blk_complete_io(&f->s);
    }
    g_assert_cmpuint(id, ==, 0);
    return *vr_ptr(f->gm, STATUS_GPA, 1);
}

static void test_io(void)
{
    struct mfx f;
    uint8_t *d, buf[4096];
    int fd;

    mfx_init(&f);
    driver_start(&f);
    g_assert_false(f.level);
    /* read sectors 3..10 */
    g_assert_cmpuint(request(&f, VIRTIO_BLK_T_IN, 3, 4096, true), ==,
                     VIRTIO_BLK_S_OK);
    d = vr_ptr(f.gm, DATA_GPA, 4096);
    g_assert_cmpuint(d[0], ==, 3);
    g_assert_cmpuint(d[4095], ==, 10);
    /* the used buffer raised the line; it stays up until acked */
    g_assert_true(f.level);
    g_assert_cmpuint(f.raises, ==, 1);
    g_assert_cmphex(rd(&f, VIRTIO_MMIO_INTERRUPT_STATUS), ==, 1);
    wr(&f, VIRTIO_MMIO_INTERRUPT_ACK, 1);
    g_assert_false(f.level);
    g_assert_cmphex(rd(&f, VIRTIO_MMIO_INTERRUPT_STATUS), ==, 0);
    /* write sector 40 and find it in the file */
    memset(d, 0x5a, 512);
    g_assert_cmpuint(request(&f, VIRTIO_BLK_T_OUT, 40, 512, false), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_true(f.level);
    g_assert_cmpuint(f.raises, ==, 2);
    fd = open(f.path, O_RDONLY);
    g_assert_cmpint(pread(fd, buf, 1024, 40 * 512), ==, 1024);
    close(fd);
    g_assert_cmpuint(buf[0], ==, 0x5a);
    g_assert_cmpuint(buf[511], ==, 0x5a);
    g_assert_cmpuint(buf[512], ==, 41);
    /* config space: capacity in sectors, at 0x100 */
    g_assert_cmpuint(virtio_mmio_read(&f.t, VIRTIO_MMIO_CONFIG, 8), ==,
                     IMG_SIZE / 512);
    /* reset: status 0 clears everything and lowers the line */
    wr(&f, VIRTIO_MMIO_STATUS, 0);
    g_assert_false(f.level);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_QUEUE_READY), ==, 0);
    mfx_fini(&f);
}

/* Up to FEATURES_OK, queue 0 selected, its size set to num. */
static void driver_until_queue(struct mfx *f, uint32_t num)
{
    wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
    wr(f, VIRTIO_MMIO_STATUS,
       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
           VIRTIO_STATUS_FEATURES_OK);
    g_assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(f, VIRTIO_MMIO_QUEUE_NUM, num);
}

/* Programs the rings of f->r (descriptor table's high half desc_high) and
 * checks that enabling the queue is refused with DEVICE_NEEDS_RESET. */
static void enable_refused(struct mfx *f, uint32_t desc_high)
{
    wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)f->r.desc);
    wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, desc_high);
    wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)f->r.avail);
    wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)f->r.used);
    wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_QUEUE_READY), ==, 0);
    g_assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void test_hostile(void)
{
    struct mfx f;

    mfx_init(&f);
    /* wrong sizes and alignment on control registers */
    g_assert_cmphex(virtio_mmio_read(&f.t, VIRTIO_MMIO_MAGIC_VALUE, 2), ==,
                    ~0ULL);
    g_assert_cmphex(virtio_mmio_read(&f.t, VIRTIO_MMIO_MAGIC_VALUE + 1, 4), ==,
                    ~0ULL);
    g_assert_cmphex(virtio_mmio_read(&f.t, VIRTIO_MMIO_VERSION, 8), ==, ~0ULL);
    virtio_mmio_write(&f.t, VIRTIO_MMIO_STATUS, 0xff, 1);
    virtio_mmio_write(&f.t, VIRTIO_MMIO_STATUS + 2, 0xff, 4);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0);
    /* read-only and unknown registers, status wider than a byte */
    wr(&f, VIRTIO_MMIO_MAGIC_VALUE, 0);
    wr(&f, 0x0f0, 1);
    g_assert_cmpuint(rd(&f, 0x0f0), ==, 0);
    wr(&f, VIRTIO_MMIO_STATUS, 0x101);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0);
    /* config space past its end: all ones, writes dropped */
    g_assert_cmphex(virtio_mmio_read(&f.t, VIRTIO_MMIO_SIZE - 4, 4), ==,
                    0xffffffffULL);
    virtio_mmio_write(&f.t, VIRTIO_MMIO_SIZE - 4, 1, 4);
    /* queue registers on a queue that does not exist */
    wr(&f, VIRTIO_MMIO_QUEUE_SEL, 7);
    wr(&f, VIRTIO_MMIO_QUEUE_NUM, 8);
    wr(&f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
    wr(&f, VIRTIO_MMIO_QUEUE_READY, 1);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_QUEUE_READY), ==, 0);
    wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
    wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 0); /* not running: ignored */

    /* a queue size that is not a power of 2 cannot be enabled */
    driver_until_queue(&f, 12);
    vr_init(&f.r, f.gm, RING_GPA, 16);
    enable_refused(&f, 0);
    /* before DRIVER_OK a broken device does not interrupt (spec 2.1.2) */
    g_assert_false(f.level);
    wr(&f, VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0);

    /* rings outside guest RAM (high half set) */
    driver_until_queue(&f, 16);
    enable_refused(&f, 0x10);
    wr(&f, VIRTIO_MMIO_STATUS, 0);
    /* and a clean start afterwards still works */
    driver_start(&f);
    g_assert_cmpuint(request(&f, VIRTIO_BLK_T_IN, 0, 512, true), ==,
                     VIRTIO_BLK_S_OK);
    /* a broken ring while running: DEVICE_NEEDS_RESET with the config
     * interrupt (ISR bit 1) on the line */
    wr(&f, VIRTIO_MMIO_INTERRUPT_ACK, 3);
    g_assert_false(f.level);
    vr_desc(&f.r, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 0); /* a loop */
    vr_add(&f.r, 0);
    vr_publish(&f.r);
    wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    g_assert_true(rd(&f, VIRTIO_MMIO_STATUS) &
                  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    g_assert_true(f.level);
    g_assert_cmphex(rd(&f, VIRTIO_MMIO_INTERRUPT_STATUS) & 2, ==, 2);
    wr(&f, VIRTIO_MMIO_STATUS, 0);
    g_assert_false(f.level);
    mfx_fini(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-mmio/io", test_io);
    g_test_add_func("/virtio-mmio/hostile", test_hostile);
    return g_test_run();
}
