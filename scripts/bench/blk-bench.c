/* SPDX-License-Identifier: MIT */
/*
 * blk-bench.c: device-level virtio-blk benchmark without KVM.  A host-side
 * "driver" keeps `depth` 4 KiB requests (random sectors, reads or writes)
 * in the rings of the virtio-blk device model in a fake guest RAM, kicks
 * the device as an ioeventfd would and reaps completions as the main loop
 * would (poll on the backend's event fd, then virtio_blk_complete_io).
 * Compared with fio --ioengine=io_uring --direct=1 on the same file by
 * scripts/bench/blk-bench.py; results in docs/performance.md.
 *
 * usage: blk-bench FILE read|write DEPTH SECONDS [io_uring|threads]
 *        [none|writeback]
 * prints one line: requests= seconds= iops= cpu_us_per_req=
 */
#include "util/common.h"
#include "hw/block/block-backend.h"
#include "hw/block/virtio-blk.h"
#include "system/guest-mem.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#include <poll.h>
#include <sys/resource.h>

#define RAM (64 * MiB)
#define QSIZE 256
#define HDR_GPA 0x100000ULL
#define STATUS_GPA 0x110000ULL
#define DATA_GPA 0x200000ULL
#define BS 4096

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Slot i: descriptors 3i (header), 3i+1 (4 KiB data), 3i+2 (status). */
static void fill_slot(struct vr *r, struct guest_mem *gm, unsigned i,
                      bool write, uint64_t sector)
{
    uint8_t *hdr = vr_ptr(gm, HDR_GPA + 16 * i, 16);
    uint32_t type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;

    memcpy(hdr, &type, 4);
    memset(hdr + 4, 0, 4);
    memcpy(hdr + 8, &sector, 8);
    vr_add(r, (uint16_t)(3 * i));
}

int main(int argc, char **argv)
{
    struct blk_options o = {.cache = BLK_CACHE_NONE, .aio = BLK_AIO_IO_URING};
    struct virtio_blk s;
    struct guest_mem *gm;
    struct blk_backend *be;
    struct vlog log;
    struct vr r;
    Error *err = NULL;
    bool write;
    unsigned depth;
    double secs, t0, c0, t, c;
    uint64_t done = 0, nsec;
    GRand *rnd = g_rand_new_with_seed(1);

    if (argc < 5) {
        fprintf(stderr, "usage: blk-bench FILE read|write DEPTH SECONDS "
                        "[io_uring|threads] [none|writeback]\n");
        return 2;
    }
    o.filename = argv[1];
    write = !strcmp(argv[2], "write");
    depth = (unsigned)atoi(argv[3]);
    secs = atof(argv[4]);
    if ((argc > 5 && !blk_parse_aio(argv[5], &o.aio, &err)) ||
        (argc > 6 && !blk_parse_cache(argv[6], &o.cache, &err))) {
        error_report_err(err);
        return 2;
    }
    if (depth < 1 || depth > QSIZE / 3) {
        fprintf(stderr, "blk-bench: depth must be in [1, %u]\n", QSIZE / 3);
        return 2;
    }
    be = blk_open(&o, &err);
    gm = be ? gm_new(RAM, &err) : NULL;
    if (!gm || !gm_add_ram(gm, 0, 0, RAM, "ram", &err)) {
        error_report_err(err);
        return 1;
    }
    vlog_init(&log);
    memset(&s, 0, sizeof(s));
    virtio_blk_set_defaults(&s);
    s.queue_size = QSIZE;
    if (!virtio_blk_setup(&s, be, gm, &log, &err)) {
        error_report_err(err);
        return 1;
    }
    nsec = blk_size(be) / 512;
    vr_init(&r, gm, 0x1000, QSIZE);
    vr_driver_start(&s.vdev,
                    (1ULL << VIRTIO_F_VERSION_1) |
                        (1ULL << VIRTIO_F_EVENT_IDX) |
                        (1ULL << VIRTIO_BLK_F_FLUSH),
                    &r, 1);
    /* incompressible data, as fio writes */
    for (uint64_t k = 0; k < (uint64_t)depth * BS; k += 4) {
        uint32_t v = g_rand_int(rnd);
        memcpy(vr_ptr(gm, DATA_GPA + k, 4), &v, 4);
    }
    for (unsigned i = 0; i < depth; i++) {
        vr_desc(&r, 3 * i, HDR_GPA + 16 * i, 16, VIRTQ_DESC_F_NEXT, 3 * i + 1);
        vr_desc(&r, 3 * i + 1, DATA_GPA + (uint64_t)BS * i, BS,
                VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE),
                3 * i + 2);
        vr_desc(&r, 3 * i + 2, STATUS_GPA + i, 1, VIRTQ_DESC_F_WRITE, 0);
    }
    t0 = g_get_monotonic_time() / 1e6;
    c0 = cpu_seconds();
    for (unsigned i = 0; i < depth; i++) {
        fill_slot(&r, gm, i, write,
                  g_rand_int_range(rnd, 0, (gint32)(nsec / 8)) * 8ULL);
    }
    vr_publish(&r);
    virtio_queue_notify(&s.vdev, 0);
    for (;;) {
        struct pollfd p = {.fd = blk_event_fd(be), .events = POLLIN};
        uint32_t id, len;
        unsigned n = 0;

        poll(&p, 1, 1000);
        virtio_blk_complete_io(&s);
        t = g_get_monotonic_time() / 1e6;
        while (vr_get_used(&r, &id, &len)) {
            unsigned slot = id / 3;

            if (*vr_ptr(gm, STATUS_GPA + slot, 1) != VIRTIO_BLK_S_OK) {
                fprintf(stderr, "blk-bench: request failed\n");
                return 1;
            }
            done++;
            if (t - t0 < secs) {
                fill_slot(&r, gm, slot, write,
                          g_rand_int_range(rnd, 0, (gint32)(nsec / 8)) * 8ULL);
                n++;
            }
        }
        if (n) {
            /* the driver's kick: what an ioeventfd delivers */
            vr_publish(&r);
            virtio_queue_notify(&s.vdev, 0);
        } else if (t - t0 >= secs && !blk_inflight(be)) {
            break;
        }
    }
    c = cpu_seconds() - c0;
    t = g_get_monotonic_time() / 1e6 - t0;
    printf("requests=%" PRIu64 " seconds=%.3f iops=%.0f cpu_us_per_req=%.2f "
           "aio=%s\n",
           done, t, done / t, c * 1e6 / done, blk_aio_name(be));
    virtio_blk_teardown(&s);
    blk_close(be);
    gm_free(gm);
    vlog_close(&log);
    g_rand_free(rnd);
    return 0;
}
