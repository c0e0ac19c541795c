/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-rng.c: the virtio entropy device (hw/virtio/virtio-rng.c)
 * driven through the virtio core with rings in a fake guest RAM: bytes
 * from getrandom(2) and from a file (a pipe, so the bytes are known and
 * the source can run dry or end), the max-bytes/period rate limit counted
 * in bytes and periods (no timing), and hostile chains: readable buffers,
 * no writable byte, huge buffers, broken rings.
 */
#include "util/common.h"
#include "hw/virtio/virtio-rng.h"
#include "system/guest-mem.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#include <fcntl.h>
#include <unistd.h>

#define RAM (16 * MiB)
#define NUM VIRTIO_RNG_QUEUE_SIZE
#define BUF_GPA 0x100000ULL /* 64 KiB per slot */
#define BIG_GPA 0x400000ULL /* 4 MiB */
#define BIG_LEN (4 * MiB)

static const uint64_t FEAT = (1ULL << VIRTIO_F_VERSION_1) |
                             (1ULL << VIRTIO_F_INDIRECT_DESC) |
                             (1ULL << VIRTIO_F_EVENT_IDX);

struct rfx {
    struct guest_mem *gm;
    struct vlog log;
    struct virtio_rng s;
    struct vr r;
    GMainContext *ctx;
    unsigned irqs, config_irqs;
    int pipe_w; /* the writer of a pipe source, or -1 */
};

static void r_notify_queue(void *opaque, unsigned q)
{
    ((struct rfx *)opaque)->irqs++;
}

static void r_notify_config(void *opaque)
{
    ((struct rfx *)opaque)->config_irqs++;
}

static const struct virtio_transport_ops r_ops = {r_notify_queue,
                                                  r_notify_config};

static void driver_start(struct rfx *f)
{
    vr_init(&f->r, f->gm, 0x1000, NUM);
    g_assert_true(vr_driver_start(&f->s.vdev, FEAT, &f->r, 1) &
                  VIRTIO_STATUS_DRIVER_OK);
}

/* pipe: the source is a pipe whose writer the test holds; with_ctx: the
 * device gets a main context (timers, watches). */
static void rfx_init(struct rfx *f, bool pipe_src, bool with_ctx,
                     uint64_t max_bytes, uint32_t period)
{
    Error *err = NULL;
    int fd = -1;

    memset(f, 0, sizeof(*f));
    f->pipe_w = -1;
    f->gm = gm_new(RAM, &err);
    g_assert_nonnull(f->gm);
    g_assert_true(gm_add_ram(f->gm, 0, 0, RAM, "ram", &err));
    vlog_init(&f->log);
    if (pipe_src) {
        int p[2];

        g_assert_cmpint(pipe2(p, O_NONBLOCK | O_CLOEXEC), ==, 0);
        fd = p[0];
        f->pipe_w = p[1];
    }
    virtio_rng_set_defaults(&f->s);
    f->s.max_bytes = max_bytes;
    f->s.period = period;
    g_assert_true(virtio_rng_setup(&f->s, fd, pipe_src ? "pipe" : "getrandom",
                                   f->gm, &f->log, &err));
    g_assert_null(err);
    virtio_set_transport(&f->s.vdev, &r_ops, f);
    if (with_ctx) {
        f->ctx = g_main_context_new();
        virtio_rng_attach(&f->s, f->ctx);
    }
    driver_start(f);
}

static void rfx_fini(struct rfx *f)
{
    virtio_rng_teardown(&f->s);
    if (f->ctx) {
        /* nothing of the device's may be left on the context */
        g_assert_false(g_main_context_iteration(f->ctx, FALSE));
        g_main_context_unref(f->ctx);
    }
    if (f->pipe_w >= 0) {
        close(f->pipe_w);
    }
    vlog_close(&f->log);
    gm_free(f->gm);
}

static uint8_t *slot_buf(struct rfx *f, unsigned slot)
{
    return vr_ptr(f->gm, BUF_GPA + 64 * KiB * slot, 64 * KiB);
}

/* Descriptor `slot`: one writable buffer of len bytes, zeroed. */
static void put_req(struct rfx *f, unsigned slot, uint32_t len)
{
    memset(slot_buf(f, slot), 0, 64 * KiB);
    vr_desc(&f->r, slot, BUF_GPA + 64 * KiB * slot, len, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f->r, (uint16_t)slot);
}

static void kick(struct rfx *f)
{
    vr_publish(&f->r);
    virtio_queue_notify(&f->s.vdev, 0);
}

/* Collects used entries: lens[id] = len; returns how many. */
static unsigned collect(struct rfx *f, uint32_t *lens)
{
    uint32_t id, len;
    unsigned n = 0;

    while (vr_get_used(&f->r, &id, &len)) {
        g_assert_cmpuint(id, <, NUM);
        lens[id] = len;
        n++;
    }
    return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

static void test_getrandom(void)
{
    struct rfx f;
    uint32_t lens[NUM] = {0};

    rfx_init(&f, false, false, INT64_MAX, 65536);
    /* what the transport shows: id 4, no device features, no config */
    g_assert_cmpuint(f.s.vdev.ops->device_id, ==, VIRTIO_ID_RNG);
    g_assert_cmphex(f.s.vdev.host_features, ==, FEAT);
    g_assert_cmpuint(f.s.vdev.vqs[0].num_max, ==, 8);
    g_assert_cmphex(virtio_config_read(&f.s.vdev, 0, 4), ==, 0xffffffff);

    for (unsigned i = 0; i < 4; i++) {
        put_req(&f, i, 64);
    }
    kick(&f);
    g_assert_cmpuint(collect(&f, lens), ==, 4);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmpuint(lens[i], ==, 64);
        /* 512 random bits all zero: never */
        g_assert_false(all_zero(slot_buf(&f, i), 64));
        /* and nothing past the buffer */
        g_assert_true(all_zero(slot_buf(&f, i) + 64, 64 * KiB - 64));
    }
    g_assert_true(memcmp(slot_buf(&f, 0), slot_buf(&f, 1), 64) != 0);
    g_assert_cmpuint(f.irqs, ==, 1); /* one interrupt for the batch */
    g_assert_cmpuint(f.s.delivered, ==, 256);
    rfx_fini(&f);
}

static void pipe_put(struct rfx *f, const void *data, size_t len)
{
    g_assert_cmpint(write(f->pipe_w, data, len), ==, (ssize_t)len);
}

/* Runs the context until `n` used entries came back (liveness only: the
 * deadline is far beyond any expected time). */
static unsigned wait_used(struct rfx *f, uint32_t *lens, unsigned n)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    unsigned got = collect(f, lens);

    while (got < n) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f->ctx, TRUE);
        got += collect(f, lens);
    }
    return got;
}

static void test_file_source(void)
{
    struct rfx f;
    uint32_t lens[NUM] = {0};
    uint8_t pat[100];

    for (unsigned i = 0; i < sizeof(pat); i++) {
        pat[i] = (uint8_t)(i * 7 + 1);
    }
    rfx_init(&f, true, true, INT64_MAX, 65536);
    pipe_put(&f, pat, sizeof(pat));
    /* the bytes arrive in order, a short read completes short (5.4.6.2:
     * one or more bytes) */
    put_req(&f, 0, 64);
    put_req(&f, 1, 64);
    kick(&f);
    g_assert_cmpuint(collect(&f, lens), ==, 2);
    g_assert_cmpuint(lens[0], ==, 64);
    g_assert_cmpuint(lens[1], ==, 36);
    g_assert_cmpmem(slot_buf(&f, 0), 64, pat, 64);
    g_assert_cmpmem(slot_buf(&f, 1), 36, pat + 64, 36);
    g_assert_true(all_zero(slot_buf(&f, 1) + 36, 64 - 36));

    /* dry: the request is parked on the file's readiness, nothing spins */
    put_req(&f, 2, 64);
    kick(&f);
    g_assert_cmpuint(collect(&f, lens), ==, 0);
    g_assert_nonnull(f.s.pending);
    g_assert_nonnull(f.s.fd_watch);
    g_assert_false(g_main_context_iteration(f.ctx, FALSE));
    kick(&f); /* a kick meanwhile changes nothing */
    g_assert_cmpuint(collect(&f, lens), ==, 0);
    pipe_put(&f, "entropy!", 8);
    g_assert_cmpuint(wait_used(&f, lens, 1), ==, 1);
    g_assert_cmpuint(lens[2], ==, 8);
    g_assert_cmpmem(slot_buf(&f, 2), 8, "entropy!", 8);
    g_assert_null(f.s.pending);

    /* the writer goes away: end of file, said once, the request waits and
     * nothing is left spinning on the context */
    put_req(&f, 3, 64);
    kick(&f);
    g_assert_nonnull(f.s.fd_watch);
    close(f.pipe_w);
    f.pipe_w = -1;
    while (g_main_context_iteration(f.ctx, FALSE)) {
    }
    g_assert_true(f.s.source_failed);
    g_assert_null(f.s.fd_watch);
    g_assert_nonnull(f.s.pending);
    g_assert_false(g_main_context_iteration(f.ctx, FALSE));
    g_assert_cmpuint(collect(&f, lens), ==, 0);
    g_assert_cmpuint(f.s.delivered, ==, 108);
    /* a reset gives the parked buffer back to the driver, unused */
    virtio_reset(&f.s.vdev);
    g_assert_null(f.s.pending);
    rfx_fini(&f);
}

static void test_rate_limit_holds(void)
{
    struct rfx f;
    uint32_t lens[NUM] = {0};

    /* a long period: what one period gives, whatever the guest does */
    rfx_init(&f, false, true, 100, 60 * 1000);
    for (unsigned i = 0; i < NUM; i++) {
        put_req(&f, i, 64);
    }
    kick(&f);
    g_assert_cmpuint(collect(&f, lens), ==, 2);
    g_assert_cmpuint(lens[0], ==, 64);
    g_assert_cmpuint(lens[1], ==, 36); /* the rest of the quota */
    g_assert_cmpuint(f.s.periods, ==, 1);
    g_assert_nonnull(f.s.period_timer);
    for (unsigned i = 0; i < 50; i++) {
        kick(&f);
    }
    g_assert_cmpuint(collect(&f, lens), ==, 0);
    g_assert_cmpuint(f.s.delivered, ==, 100);
    /* parked on the timer: nothing is ready on the loop (no busy loop) */
    g_assert_false(g_main_context_iteration(f.ctx, FALSE));
    /* a device reset does not refill the quota */
    virtio_reset(&f.s.vdev);
    driver_start(&f);
    put_req(&f, 0, 64);
    kick(&f);
    g_assert_cmpuint(collect(&f, lens), ==, 0);
    g_assert_cmpuint(f.s.delivered, ==, 100);
    g_assert_cmpuint(f.s.periods, ==, 1);
    rfx_fini(&f);
}

static void test_rate_limit_periods(void)
{
    struct rfx f;
    uint32_t lens[NUM] = {0};
    uint64_t sum = 0;

    /* a short period: every request is served in the end, and never more
     * than max-bytes per period began */
    rfx_init(&f, false, true, 10, 2);
    for (unsigned i = 0; i < NUM; i++) {
        put_req(&f, i, 64);
    }
    kick(&f);
    g_assert_cmpuint(wait_used(&f, lens, NUM), ==, NUM);
    for (unsigned i = 0; i < NUM; i++) {
        g_assert_cmpuint(lens[i], >=, 1);
        g_assert_cmpuint(lens[i], <=, 10);
        g_assert_true(all_zero(slot_buf(&f, i) + lens[i], 64 - lens[i]));
        sum += lens[i];
    }
    g_assert_cmpuint(sum, ==, f.s.delivered);
    g_assert_cmpuint(f.s.delivered, <=, 10 * f.s.periods);
    g_assert_cmpuint(f.s.periods, >=, NUM);
    /* the last period's timer ends it; then the loop is quiet */
    while (f.s.period_timer) {
        g_main_context_iteration(f.ctx, TRUE);
    }
    g_assert_false(g_main_context_iteration(f.ctx, FALSE));
    rfx_fini(&f);
}

static void test_max_bytes_zero(void)
{
    struct rfx f;
    uint32_t lens[NUM] = {0};
    uint64_t periods;

    /* QEMU accepts max-bytes=0: the guest never gets a byte, and the
     * request waits period after period without spinning */
    rfx_init(&f, false, true, 0, 1);
    put_req(&f, 0, 64);
    kick(&f);
    periods = f.s.periods;
    for (unsigned i = 0; i < 3; i++) {
        g_main_context_iteration(f.ctx, TRUE);
    }
    g_assert_cmpuint(f.s.periods, >, periods);
    g_assert_cmpuint(collect(&f, lens), ==, 0);
    g_assert_cmpuint(f.s.delivered, ==, 0);
    rfx_fini(&f);
}

static void test_hostile_chains(void)
{
    struct rfx f;
    uint32_t id = 0, len = 0;
    uint8_t *ro, *big;

    rfx_init(&f, false, false, INT64_MAX, 65536);
    /* only a readable buffer: returned with 0 bytes, untouched, and the
     * device keeps working */
    ro = slot_buf(&f, 0);
    memset(ro, 0xaa, 64);
    vr_desc(&f.r, 0, BUF_GPA, 64, 0, 0);
    vr_add(&f.r, 0);
    kick(&f);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmpuint(len, ==, 0);
    for (unsigned i = 0; i < 64; i++) {
        g_assert_cmpuint(ro[i], ==, 0xaa);
    }
    g_assert_false(f.s.vdev.broken);

    /* readable then writable: only the writable one is filled */
    memset(ro, 0xaa, 64);
    memset(slot_buf(&f, 1), 0, 64 * KiB);
    vr_desc(&f.r, 0, BUF_GPA, 64, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f.r, 1, BUF_GPA + 64 * KiB, 32, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f.r, 0);
    kick(&f);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(len, ==, 32);
    for (unsigned i = 0; i < 64; i++) {
        g_assert_cmpuint(ro[i], ==, 0xaa);
    }
    g_assert_false(all_zero(slot_buf(&f, 1), 32));
    g_assert_true(all_zero(slot_buf(&f, 1) + 32, 64));

    /* a zero-length writable descriptor: no byte to give */
    vr_desc(&f.r, 2, BUF_GPA + 2 * 64 * KiB, 0, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f.r, 2);
    kick(&f);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpuint(len, ==, 0);

    /* scattered: three writable pieces, all filled in order */
    memset(slot_buf(&f, 3), 0, 64 * KiB);
    vr_desc(&f.r, 3, BUF_GPA + 3 * 64 * KiB, 5,
            VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
    vr_desc(&f.r, 4, BUF_GPA + 3 * 64 * KiB + 100, 7,
            VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
    vr_desc(&f.r, 5, BUF_GPA + 3 * 64 * KiB + 200, 9, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f.r, 3);
    kick(&f);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(len, ==, 21);
    g_assert_true(all_zero(slot_buf(&f, 3) + 5, 95));
    g_assert_true(all_zero(slot_buf(&f, 3) + 107, 93));
    g_assert_true(all_zero(slot_buf(&f, 3) + 209, 1000));

    /* a 4 MiB buffer: one pass gives at most VIRTIO_RNG_PASS_BYTES and
     * writes nothing past what it reports */
    big = vr_ptr(f.gm, BIG_GPA, BIG_LEN);
    memset(big, 0, BIG_LEN);
    vr_desc(&f.r, 6, BIG_GPA, BIG_LEN, VIRTQ_DESC_F_WRITE, 0);
    vr_desc(&f.r, 7, BIG_GPA, BIG_LEN, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f.r, 6);
    vr_add(&f.r, 7); /* the second waits for the next pass */
    kick(&f);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(id, ==, 6);
    g_assert_cmpuint(len, >=, 1);
    g_assert_cmpuint(len, <=, VIRTIO_RNG_PASS_BYTES);
    g_assert_true(all_zero(big + len, BIG_LEN - len));
    g_assert_false(vr_get_used(&f.r, &id, &len));
    kick(&f); /* without a loop, the next kick serves the next slice */
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(id, ==, 7);
    g_assert_cmpuint(len, <=, VIRTIO_RNG_PASS_BYTES);
    g_assert_false(f.s.vdev.broken);

    /* a malformed ring (a descriptor loop) is the core's: the device is
     * broken, says so, and ignores the queue until reset */
    vr_desc(&f.r, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f.r, 1, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    vr_add(&f.r, 0);
    kick(&f);
    g_assert_true(f.s.vdev.broken);
    g_assert_true(f.s.vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    g_assert_cmpuint(f.config_irqs, ==, 1);
    g_assert_false(vr_get_used(&f.r, &id, &len));
    put_req(&f, 0, 16);
    kick(&f);
    g_assert_false(vr_get_used(&f.r, &id, &len));
    /* a buffer outside RAM after a reset: broken again */
    virtio_reset(&f.s.vdev);
    driver_start(&f);
    vr_desc(&f.r, 0, RAM - 8, 64, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f.r, 0);
    kick(&f);
    g_assert_true(f.s.vdev.broken);
    /* and a reset brings it back */
    virtio_reset(&f.s.vdev);
    driver_start(&f);
    put_req(&f, 0, 16);
    kick(&f);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(len, ==, 16);
    rfx_fini(&f);
}

static void test_pass_budget_resumes(void)
{
    struct rfx f;
    uint32_t lens[NUM] = {0};

    /* with a loop, the slices follow each other without kicks */
    rfx_init(&f, false, true, INT64_MAX, 65536);
    for (unsigned i = 0; i < 4; i++) {
        vr_desc(&f.r, i, BIG_GPA, BIG_LEN, VIRTQ_DESC_F_WRITE, 0);
        vr_add(&f.r, (uint16_t)i);
    }
    kick(&f);
    g_assert_cmpuint(collect(&f, lens), ==, 1);
    g_assert_nonnull(f.s.resume);
    g_assert_cmpuint(wait_used(&f, lens, 3), ==, 3);
    g_assert_cmpuint(f.s.delivered, <=, 4 * VIRTIO_RNG_PASS_BYTES);
    while (f.s.resume) {
        g_main_context_iteration(f.ctx, TRUE);
    }
    rfx_fini(&f);
}

static void test_props(void)
{
    struct virtio_rng s;
    Error *err = NULL;
    struct guest_mem *gm = gm_new(RAM, &err);
    struct vlog log;
    int p[2];

    vlog_init(&log);
    /* QEMU's checks and messages */
    memset(&s, 0, sizeof(s));
    virtio_rng_set_defaults(&s);
    g_assert_cmpuint(s.max_bytes, ==, INT64_MAX);
    g_assert_cmpuint(s.period, ==, 65536);
    s.period = 0;
    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_false(virtio_rng_setup(&s, p[0], "pipe", gm, &log, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "'period' parameter expects a positive integer");
    error_free(err);
    err = NULL;
    /* the fd was taken over and closed */
    g_assert_cmpint(fcntl(p[0], F_GETFD), ==, -1);
    close(p[1]);
    s.period = 1;
    s.max_bytes = (uint64_t)INT64_MAX + 1;
    g_assert_false(virtio_rng_setup(&s, -1, "getrandom", gm, &log, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "'max-bytes' parameter must be non-negative, and less "
                    "than 2^63");
    error_free(err);
    virtio_rng_teardown(&s); /* nothing was set up: nothing to do */
    vlog_close(&log);
    gm_free(gm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-rng/getrandom", test_getrandom);
    g_test_add_func("/virtio-rng/file-source", test_file_source);
    g_test_add_func("/virtio-rng/rate-limit-holds", test_rate_limit_holds);
    g_test_add_func("/virtio-rng/rate-limit-periods", test_rate_limit_periods);
    g_test_add_func("/virtio-rng/max-bytes-zero", test_max_bytes_zero);
    g_test_add_func("/virtio-rng/hostile-chains", test_hostile_chains);
    g_test_add_func("/virtio-rng/pass-budget-resumes",
                    test_pass_budget_resumes);
    g_test_add_func("/virtio-rng/props", test_props);
    return g_test_run();
}
