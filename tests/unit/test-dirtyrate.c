/* SPDX-License-Identifier: MIT */
/*
 * test-dirtyrate.c: calc-dirty-rate's measurement (migration/dirtyrate.h)
 * without a guest: the page-sampling estimator on a real guest_mem (the
 * test writes chosen sampled pages between the two hashes and checks the
 * count and QEMU's MB/s formula), its edges (RAM too small or absent,
 * RAM resized, no time), the argument checks in QEMU 7.2's order and
 * words (hostile values too), and the logging modes on the fake KVM
 * backend: dirty-bitmap with KVM's bitmap (with and without manual
 * protection) and with the dirty ring, dirty-ring per vCPU, refusal
 * during a migration, a migration ending a measurement, and teardown
 * leaving logging off.  The QMP and HMP replies on a machine without RAM
 * are compared with QEMU's in tests/functional/test_qmp_stats.py.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "fake-kvm.h"
#include "migration/dirtyrate.h"
#include "qapi/qapi-gen-types.h"
#include "system/guest-mem.h"

#include <unistd.h>

#define RAM_LOW (2 * MiB)
#define RAM_SIZE (4 * MiB)
#define HIGH_GPA (4ULL * GiB)
#define PAGE 4096u
#define VCPU1_FD 77
#define RING 1024

enum {
    SAMPLING = QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING,
    BITMAP = QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_BITMAP,
    RINGM = QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_RING,
};

struct env {
    struct fake_kvm f;
    struct guest_mem *gm;
    struct dirtyrate_env de;
    struct dirtyrate *d;
};

/* RAM in two KVM slots (below 4 GiB and above), as a board lays it. */
static void env_init(struct env *e, bool manual, bool ring)
{
    fake_kvm_init(&e->f);
    e->f.accel.vm_fd = FAKE_VM_FD;
    e->f.accel.nr_slots = FAKE_MAX_SLOTS;
    e->f.manual_dirty_cap = manual;
    e->gm = gm_new(RAM_SIZE, NULL);
    g_assert_true(gm_add_ram(e->gm, 0, 0, RAM_LOW, "low", NULL));
    g_assert_true(
        gm_add_ram(e->gm, HIGH_GPA, RAM_LOW, RAM_SIZE - RAM_LOW, "high", NULL));
    g_assert_true(kvm_set_memory(&e->f.accel, e->gm, NULL));
    if (ring) {
        e->f.ring_cap_plain = e->f.ring_cap_acq_rel = true;
        e->f.ring_max = 65536 * 16;
        g_assert_true(kvm_dirty_ring_enable(&e->f.accel, RING, NULL));
        g_assert_true(
            kvm_dirty_ring_add_vcpu(&e->f.accel, FAKE_VCPU_FD, 0, NULL));
        g_assert_true(kvm_dirty_ring_add_vcpu(&e->f.accel, VCPU1_FD, 1, NULL));
    }
    e->de = (struct dirtyrate_env){
        .gm = e->gm,
        .kvm = &e->f.accel,
        .nr_vcpus = 2,
        .ctx = g_main_context_new(),
    };
    e->d = g_new0(struct dirtyrate, 1);
    e->d->rand = g_rand_new_with_seed(1234);
}

static void env_fini(struct env *e)
{
    GRand *r = e->d->rand;

    dirtyrate_free(e->d);
    g_rand_free(r);
    g_main_context_unref(e->de.ctx);
    kvm_dirty_ring_free(&e->f.accel);
    gm_free(e->gm);
    fake_kvm_destroy(&e->f);
}

/* The guest physical address of RAM page p (RAM offsets above RAM_LOW
 * are placed at 4 GiB). */
static uint64_t page_gpa(uint64_t p)
{
    uint64_t off = p * PAGE;

    return off < RAM_LOW ? off : HIGH_GPA + off - RAM_LOW;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* A guest_mem of size bytes with its RAM at gpa 0, filled with a
 * pattern (so a write of zeros changes a page). */
static struct guest_mem *pattern_ram(uint64_t size)
{
    struct guest_mem *gm = gm_new(size, NULL);

    g_assert_nonnull(gm);
    g_assert_true(gm_add_ram(gm, 0, 0, size, "ram", NULL));
    for (uint64_t i = 0; i < size; i++) {
        gm->ram[i] = (uint8_t)(i * 7 + 1);
    }
    return gm;
}

/* Every second distinct sampled page is written: exactly the samples
 * of those pages count, and the rate is QEMU's scaling of them. */
static void test_sample_fraction(void)
{
    struct guest_mem *gm = pattern_ram(RAM_SIZE);
    GRand *r = g_rand_new_with_seed(7);
    struct dirtyrate_sample s;
    g_autofree uint64_t *sorted = NULL;
    GHashTable *written = g_hash_table_new(g_int64_hash, g_int64_equal);
    uint64_t distinct = 0, expect = 0;

    dirtyrate_sample_begin(&s, gm, DIRTYRATE_MAX_SAMPLE_PAGES, r);
    /* 4 MiB at 16384 per GiB */
    g_assert_cmpuint(s.n, ==, 64);
    g_assert_cmpuint(s.ram_size, ==, RAM_SIZE);
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), ==, 0);

    sorted = g_memdup2(s.page, s.n * sizeof(uint64_t));
    qsort(sorted, s.n, sizeof(uint64_t), cmp_u64);
    for (uint64_t i = 0; i < s.n; i++) {
        g_assert_cmpuint(sorted[i], <, RAM_SIZE / PAGE);
        if (i && sorted[i] == sorted[i - 1]) {
            continue;
        }
        if (distinct++ % 2 == 0) {
            gm->ram[sorted[i] * PAGE + 100] ^= 0xff; /* one byte */
            g_hash_table_add(written, &sorted[i]);
        }
    }
    for (uint64_t i = 0; i < s.n; i++) {
        expect += g_hash_table_contains(written, &s.page[i]);
    }
    g_assert_cmpuint(expect, >, 0);
    g_assert_cmpuint(expect, <, s.n);
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), ==, expect);
    /* QEMU: dirty * RAM MB * 1000 / (samples * msec) */
    g_assert_cmpint(dirtyrate_sample_rate(expect, s.n, RAM_SIZE, 2000), ==,
                    (int64_t)(expect * 4 * 1000 / (64 * 2000)));
    /* all sampled pages: the whole RAM per calc-time */
    g_assert_cmpint(dirtyrate_sample_rate(s.n, s.n, RAM_SIZE, 1000), ==, 4);
    g_assert_cmpint(dirtyrate_sample_rate(s.n, s.n, RAM_SIZE, 2000), ==, 2);

    g_hash_table_destroy(written);
    dirtyrate_sample_free(&s);
    g_assert_null(s.page);
    g_rand_free(r);
    gm_free(gm);
}

/* Writes elsewhere, or of the bytes a page already holds, are no
 * change; a page written back to its old content is clean again. */
static void test_sample_unsampled_and_same(void)
{
    struct guest_mem *gm = pattern_ram(RAM_SIZE);
    GRand *r = g_rand_new_with_seed(99);
    struct dirtyrate_sample s;
    g_autofree bool *sampled = g_new0(bool, RAM_SIZE / PAGE);
    uint8_t old;

    dirtyrate_sample_begin(&s, gm, DIRTYRATE_DEFAULT_SAMPLE_PAGES * 16, r);
    g_assert_cmpuint(s.n, ==, 32);
    for (uint64_t i = 0; i < s.n; i++) {
        sampled[s.page[i]] = true;
    }
    for (uint64_t p = 0; p < RAM_SIZE / PAGE; p++) {
        if (!sampled[p]) {
            memset(gm->ram + p * PAGE, 0, PAGE);
        } else {
            /* the same bytes again */
            memmove(gm->ram + p * PAGE, gm->ram + p * PAGE, PAGE);
        }
    }
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), ==, 0);
    old = gm->ram[s.page[0] * PAGE];
    gm->ram[s.page[0] * PAGE] = old + 1;
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), >=, 1);
    gm->ram[s.page[0] * PAGE] = old;
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), ==, 0);
    dirtyrate_sample_free(&s);
    g_rand_free(r);
    gm_free(gm);
}

/* Pages the memfd holds no data for are hashed as zeros without being
 * read (and so allocated): zeros written there are no change, other
 * bytes are; a page the balloon gives back reads as zeros again. */
static void test_sample_holes(void)
{
    struct guest_mem *gm = gm_new(RAM_SIZE, NULL);
    GRand *r = g_rand_new_with_seed(5);
    struct dirtyrate_sample s;
    uint64_t a, b;

    g_assert_true(gm_add_ram(gm, 0, 0, RAM_SIZE, "ram", NULL));
    dirtyrate_sample_begin(&s, gm, DIRTYRATE_MAX_SAMPLE_PAGES, r);
    a = s.page[0];
    b = s.page[1] != a ? s.page[1] : (a + 1) % (RAM_SIZE / PAGE);
    g_assert_cmpint(lseek(gm->memfd, 0, SEEK_DATA), <, 0); /* all holes */
    memset(gm->ram + a * PAGE, 0, PAGE); /* allocated, still zeros */
    g_assert_cmpint(lseek(gm->memfd, 0, SEEK_DATA), ==, (off_t)(a * PAGE));
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), ==, 0);
    gm->ram[a * PAGE + 4095] = 1;
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), >=, 1);
    dirtyrate_sample_free(&s);

    /* from data to a hole: a change only if the data was not zeros */
    memset(gm->ram + b * PAGE, 0x11, PAGE);
    g_rand_set_seed(r, 5);
    dirtyrate_sample_begin(&s, gm, DIRTYRATE_MAX_SAMPLE_PAGES, r);
    g_assert_cmpuint(s.page[0], ==, a); /* the same seed, the same pick */
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), ==, 0);
    g_assert_true(gm_discard(gm, gm->ram + a * PAGE, PAGE, NULL));
    g_assert_true(gm_discard(gm, gm->ram + b * PAGE, PAGE, NULL));
    g_assert_cmpuint(dirtyrate_sample_end(&s, gm), >=, 1 + (s.page[1] == b));
    dirtyrate_sample_free(&s);
    g_rand_free(r);
    gm_free(gm);
}

static void test_sample_edges(void)
{
    GRand *r = g_rand_new_with_seed(3);
    struct guest_mem *tiny = pattern_ram(DIRTYRATE_MIN_RAM - PAGE);
    struct guest_mem *small = pattern_ram(DIRTYRATE_MIN_RAM);
    struct guest_mem *other = pattern_ram(2 * DIRTYRATE_MIN_RAM);
    struct dirtyrate_sample s;

    /* no RAM, or less than QEMU samples: nothing */
    dirtyrate_sample_begin(&s, NULL, 512, r);
    g_assert_cmpuint(s.ram_size, ==, 0);
    g_assert_cmpuint(dirtyrate_sample_end(&s, NULL), ==, 0);
    dirtyrate_sample_free(&s);
    dirtyrate_sample_begin(&s, tiny, DIRTYRATE_MAX_SAMPLE_PAGES, r);
    g_assert_cmpuint(s.ram_size, ==, 0);
    g_assert_cmpuint(s.n, ==, 0);
    dirtyrate_sample_free(&s);
    /* 128 KiB is sampled, but 16384 per GiB is 2 pages; 128 per GiB is
     * none (the rate is then -1, as QEMU's) */
    dirtyrate_sample_begin(&s, small, DIRTYRATE_MAX_SAMPLE_PAGES, r);
    g_assert_cmpuint(s.ram_size, ==, DIRTYRATE_MIN_RAM);
    g_assert_cmpuint(s.n, ==, 2);
    /* RAM of another size: nothing comparable */
    g_assert_cmpuint(dirtyrate_sample_end(&s, other), ==, 0);
    memset(small->ram, 0, DIRTYRATE_MIN_RAM);
    g_assert_cmpuint(dirtyrate_sample_end(&s, small), ==, 2);
    dirtyrate_sample_free(&s);
    dirtyrate_sample_begin(&s, small, DIRTYRATE_MIN_SAMPLE_PAGES, r);
    g_assert_cmpuint(s.n, ==, 0);
    g_assert_cmpint(dirtyrate_sample_rate(0, s.n, s.ram_size, 1000), ==, -1);
    dirtyrate_sample_free(&s);

    /* no time passed: no division by zero */
    g_assert_cmpint(dirtyrate_sample_rate(1, 1, 1 * GiB, 0), ==, 1024 * 1000);
    g_assert_cmpint(dirtyrate_pages_rate(256, 0), ==, 1000);
    /* whole MB before the time, as QEMU: 255 pages are 0 MB */
    g_assert_cmpint(dirtyrate_pages_rate(255, 1000), ==, 0);
    g_assert_cmpint(dirtyrate_pages_rate(256 * 10, 1000), ==, 10);
    g_assert_cmpint(dirtyrate_pages_rate(256 * 10, 3000), ==, 3);
    /* the largest sample of a 1 TiB guest stays in range */
    g_assert_cmpint(
        dirtyrate_sample_rate(16384ULL << 10, 16384ULL << 10, 1ULL << 40, 1000),
        ==, 1 << 20);
    gm_free(tiny);
    gm_free(small);
    gm_free(other);
    g_rand_free(r);
}

/* QEMU 7.2's checks, in its order and words; hostile values too.  None
 * changes what query-dirty-rate reports. */
static void test_start_refusals(void)
{
    struct env e;
    static const struct {
        int64_t calc;
        bool has_pages;
        int64_t pages;
        bool has_mode;
        int mode;
        const char *err;
    } bad[] = {
        {0, false, 0, false, 0, "calc-time is out of range[1, 60]."},
        {61, false, 0, false, 0, "calc-time is out of range[1, 60]."},
        {-1, false, 0, false, 0, "calc-time is out of range[1, 60]."},
        {INT64_MAX, false, 0, false, 0, "calc-time is out of range[1, 60]."},
        {INT64_MIN, true, 5, true, RINGM, "calc-time is out of range[1, 60]."},
        {1, true, 512, true, RINGM,
         "either sample-pages or dirty-ring can be specified."},
        {1, true, 5, true, RINGM,
         "either sample-pages or dirty-ring can be specified."},
        {1, true, 127, false, 0, "sample-pages is out of range[128, 16384]."},
        {1, true, 16385, true, SAMPLING,
         "sample-pages is out of range[128, 16384]."},
        {1, true, -1, true, BITMAP,
         "sample-pages is out of range[128, 16384]."},
        {1, true, INT64_MIN, false, 0,
         "sample-pages is out of range[128, 16384]."},
        {1, true, INT64_MAX, false, 0,
         "sample-pages is out of range[128, 16384]."},
        {60, false, 0, true, RINGM,
         "mode dirty-ring is not enabled, use other method instead."},
    };

    env_init(&e, true, false);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        Error *err = NULL;

        g_assert_false(dirtyrate_start(e.d, &e.de, bad[i].calc,
                                       bad[i].has_pages, bad[i].pages,
                                       bad[i].has_mode, bad[i].mode, &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==, bad[i].err);
        error_free(err);
        g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_UNSTARTED);
        g_assert_null(e.d->timer);
    }
    g_assert_false(fake_kvm_logging(&e.f));
    env_fini(&e);
}

/* page-sampling through a measurement: "measuring" with the request's
 * values, a second start refused, then the rate of the pages written. */
static void test_sampling_measurement(void)
{
    struct env e;
    Error *err = NULL;

    env_init(&e, true, false);
    g_assert_true(dirtyrate_start(e.d, &e.de, 10, true, 16384, false, 0, &err));
    g_assert_null(err);
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURING);
    g_assert_cmpint(e.d->mode, ==, SAMPLING);
    g_assert_cmpint(e.d->calc_time, ==, 10);
    g_assert_cmpint(e.d->sample_pages, ==, 16384);
    g_assert_cmpint(e.d->start_time, ==, e.d->t0_us / G_USEC_PER_SEC);
    g_assert_nonnull(e.d->timer);
    g_assert_false(fake_kvm_logging(&e.f)); /* no KVM involved */

    g_assert_false(dirtyrate_start(e.d, &e.de, 1, false, 0, false, 0, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "the dirty rate is already being measured.");
    g_clear_pointer(&err, error_free);

    /* the guest rewrites all its RAM */
    memset(e.gm->ram, 0x5a, RAM_SIZE);
    dirtyrate_finish_at(e.d, 2000);
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURED);
    g_assert_null(e.d->timer);
    g_assert_cmpint(e.d->calc_time, ==, 2);
    g_assert_cmpint(e.d->dirty_rate, ==, 2); /* 4 MiB in 2 s */
    g_assert_cmpint(e.d->sample_pages, ==, 16384);
    g_assert_null(e.d->sample.page);
    /* finishing twice changes nothing */
    dirtyrate_finish_at(e.d, 1);
    g_assert_cmpint(e.d->dirty_rate, ==, 2);

    /* again, nothing written: 0; the default sample size */
    g_assert_true(
        dirtyrate_start(e.d, &e.de, 1, false, 0, true, SAMPLING, NULL));
    g_assert_cmpint(e.d->sample_pages, ==, DIRTYRATE_DEFAULT_SAMPLE_PAGES);
    g_assert_cmpint(e.d->dirty_rate, ==, -1);
    dirtyrate_finish_at(e.d, 1000);
    g_assert_cmpint(e.d->dirty_rate, ==, 0);
    /* a migration does not stop page-sampling */
    e.de.migrating = true;
    g_assert_true(dirtyrate_start(e.d, &e.de, 1, false, 0, false, 0, NULL));
    dirtyrate_end_logging(e.d);
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURING);
    env_fini(&e); /* freed while measuring */
}

/* A sample larger than a batch is hashed a batch per main-loop
 * iteration at either end; finishing early does what is left at once. */
static void test_sampling_steps(void)
{
    struct env e;

    env_init(&e, true, false);
    e.d->batch = 8;
    /* 2 s: the 7 steps of the start are done long before */
    g_assert_true(dirtyrate_start(e.d, &e.de, 2, true, 16384, false, 0, NULL));
    g_assert_cmpuint(e.d->sample.n, ==, 64);
    g_assert_cmpuint(e.d->sample.hashed, ==, 8); /* the first batch now */
    g_assert_nonnull(e.d->work);
    while (e.d->work) {
        g_main_context_iteration(e.de.ctx, TRUE);
    }
    g_assert_cmpuint(e.d->sample.hashed, ==, 64);
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURING);
    memset(e.gm->ram, 0x5a, RAM_SIZE);
    while (e.d->status == QAPI_DIRTY_RATE_STATUS_MEASURING) {
        g_main_context_iteration(e.de.ctx, TRUE);
    }
    /* the time was taken when calc-time was up, the comparing went on */
    g_assert_true(e.d->time_up);
    g_assert_cmpint(e.d->msec, >=, 2000);
    g_assert_cmpint(e.d->dirty_rate, ==, 4 * 1000 / e.d->msec);
    g_assert_cmpint(e.d->calc_time, ==, e.d->msec / 1000);
    g_assert_null(e.d->work);
    g_assert_null(e.d->timer);

    /* ended before the steps ran: the rest is hashed then, after the
     * guest's writes, so only the first batch sees them */
    g_assert_true(dirtyrate_start(e.d, &e.de, 1, true, 16384, false, 0, NULL));
    g_assert_false(e.d->time_up);
    memset(e.gm->ram, 0xa5, RAM_SIZE);
    dirtyrate_finish_at(e.d, 100);
    g_assert_cmpint(e.d->dirty_rate, ==, 8 * 4 * 1000 / (64 * 100));
    g_assert_null(e.d->work);

    /* freed while stepping */
    g_assert_true(dirtyrate_start(e.d, &e.de, 1, true, 16384, false, 0, NULL));
    g_assert_nonnull(e.d->work);
    env_fini(&e);
}

/* The calc-time timeout ends the measurement on the main loop. */
static void test_timeout(void)
{
    struct env e;

    env_init(&e, true, false);
    g_assert_true(dirtyrate_start(e.d, &e.de, 1, false, 0, true, BITMAP, NULL));
    g_assert_true(fake_kvm_logging(&e.f));
    while (e.d->status == QAPI_DIRTY_RATE_STATUS_MEASURING) {
        g_main_context_iteration(e.de.ctx, TRUE);
    }
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURED);
    g_assert_cmpint(e.d->calc_time, >=, 1);
    g_assert_cmpint(e.d->dirty_rate, ==, 0);
    g_assert_false(fake_kvm_logging(&e.f));
    g_assert_null(e.d->timer);
    env_fini(&e);
}

/* No RAM (-M none): page-sampling is measured at once with rate -1 and
 * the requested time (QEMU); dirty-bitmap measures nothing. */
static void test_no_ram(void)
{
    struct dirtyrate *d = g_new0(struct dirtyrate, 1);
    struct dirtyrate_env de = {.ctx = g_main_context_new()};
    Error *err = NULL;

    g_assert_true(dirtyrate_start(d, &de, 7, true, 200, false, 0, NULL));
    g_assert_cmpint(d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURED);
    g_assert_cmpint(d->dirty_rate, ==, -1);
    g_assert_cmpint(d->calc_time, ==, 7);
    g_assert_cmpint(d->sample_pages, ==, 200);
    g_assert_null(d->timer);
    g_assert_false(dirtyrate_start(d, &de, 1, false, 0, true, RINGM, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "mode dirty-ring is not enabled, use other method "
                    "instead.");
    error_free(err);
    g_assert_true(dirtyrate_start(d, &de, 1, false, 0, true, BITMAP, NULL));
    g_assert_cmpint(d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURING);
    dirtyrate_finish_at(d, 1000);
    g_assert_cmpint(d->dirty_rate, ==, 0);
    g_assert_cmpint(d->sample_pages, ==, 0);
    dirtyrate_free(d);
    g_main_context_unref(de.ctx);
}

/* dirty-bitmap on KVM's bitmap: the distinct pages the guest wrote in
 * both slots, logging off after; pages written before the start do not
 * count. */
static void bitmap_case(bool manual)
{
    struct env e;

    env_init(&e, manual, false);
    g_assert_true(
        dirtyrate_start(e.d, &e.de, 5, true, 1024, true, BITMAP, NULL));
    g_assert_true(fake_kvm_logging(&e.f));
    g_assert_cmpint(e.d->sample_pages, ==, 1024); /* QEMU shows it */
    for (uint64_t p = 0; p < 768; p++) {
        /* 768 pages (3 MB) across both slots, each twice */
        g_assert_true(fake_kvm_dirty(&e.f, page_gpa(p)));
        g_assert_true(fake_kvm_dirty(&e.f, page_gpa(p)));
    }
    dirtyrate_finish_at(e.d, 1500);
    g_assert_cmpint(e.d->dirty_rate, ==, 3 * 1000 / 1500);
    g_assert_cmpint(e.d->calc_time, ==, 1);
    g_assert_cmpint(e.d->sample_pages, ==, 0);
    g_assert_false(fake_kvm_logging(&e.f));
    g_assert_null(e.d->vcpu_rates);

    g_assert_true(dirtyrate_start(e.d, &e.de, 5, false, 0, true, BITMAP, NULL));
    for (uint64_t p = 0; p < 1024; p++) {
        g_assert_true(fake_kvm_dirty(&e.f, page_gpa(p)));
    }
    dirtyrate_finish_at(e.d, 1000);
    g_assert_cmpint(e.d->dirty_rate, ==, 4);
    env_fini(&e);
}

static void test_bitmap(void)
{
    bitmap_case(false);
}

static void test_bitmap_manual(void)
{
    bitmap_case(true);
}

/* With the dirty ring on, dirty-bitmap counts the ring's pages (QEMU
 * would refuse the mode: docs/qemu-compat.md), dirty-ring per vCPU. */
static void test_ring(void)
{
    struct env e;
    Error *err = NULL;

    env_init(&e, false, true);
    g_assert_true(dirtyrate_start(e.d, &e.de, 1, false, 0, true, BITMAP, NULL));
    for (uint64_t p = 0; p < 512; p++) {
        g_assert_true(fake_kvm_ring_write(&e.f, FAKE_VCPU_FD, page_gpa(p)));
    }
    dirtyrate_finish_at(e.d, 1000);
    g_assert_cmpint(e.d->dirty_rate, ==, 2);
    g_assert_false(fake_kvm_logging(&e.f));

    g_assert_true(dirtyrate_start(e.d, &e.de, 1, false, 0, true, RINGM, &err));
    g_assert_null(err);
    /* vCPU 0: 2 MB, vCPU 1: 1 MB (half of it pages vCPU 0 wrote too) */
    for (uint64_t p = 0; p < 512; p++) {
        g_assert_true(fake_kvm_ring_write(&e.f, FAKE_VCPU_FD, page_gpa(p)));
    }
    for (uint64_t p = 0; p < 256; p++) {
        fake_kvm_ring_write(&e.f, VCPU1_FD, page_gpa(384 + p));
    }
    dirtyrate_finish_at(e.d, 1000);
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURED);
    g_assert_cmpuint(e.d->nr_vcpu_rates, ==, 2);
    /* KVM pushes a page once until reset: vCPU 1's overlap is not its */
    g_assert_cmpint(e.d->vcpu_rates[0], ==, 2);
    g_assert_cmpint(e.d->vcpu_rates[1], ==, 0);
    g_assert_cmpint(e.d->dirty_rate, ==, 2);
    g_assert_cmpint(e.d->sample_pages, ==, 0);
    g_assert_false(fake_kvm_logging(&e.f));

    /* a later measurement counts from its own start */
    g_assert_true(dirtyrate_start(e.d, &e.de, 1, false, 0, true, RINGM, NULL));
    for (uint64_t p = 0; p < 256; p++) {
        g_assert_true(fake_kvm_ring_write(&e.f, VCPU1_FD, page_gpa(p)));
    }
    dirtyrate_finish_at(e.d, 1000);
    g_assert_cmpint(e.d->vcpu_rates[0], ==, 0);
    g_assert_cmpint(e.d->vcpu_rates[1], ==, 1);
    g_assert_cmpint(e.d->dirty_rate, ==, 1);
    env_fini(&e);
}

/* The logging modes and a migration: refused while one runs; a
 * migration starting ends the measurement at once (logging off, the
 * time it ran), teardown too. */
static void test_migration(void)
{
    struct env e;
    Error *err = NULL;

    env_init(&e, true, true);
    e.de.migrating = true;
    g_assert_false(
        dirtyrate_start(e.d, &e.de, 1, false, 0, true, BITMAP, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "mode dirty-bitmap cannot measure while a migration is "
                    "in progress (both use KVM's dirty log): use "
                    "page-sampling");
    g_clear_pointer(&err, error_free);
    g_assert_false(dirtyrate_start(e.d, &e.de, 1, false, 0, true, RINGM, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "mode dirty-ring cannot"));
    g_clear_pointer(&err, error_free);
    g_assert_false(fake_kvm_logging(&e.f));
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_UNSTARTED);

    e.de.migrating = false;
    g_assert_true(dirtyrate_start(e.d, &e.de, 60, false, 0, true, RINGM, NULL));
    g_assert_true(fake_kvm_logging(&e.f));
    dirtyrate_end_logging(e.d);
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_MEASURED);
    g_assert_false(fake_kvm_logging(&e.f));
    g_assert_null(e.d->timer);
    g_assert_cmpint(e.d->calc_time, <, 60);
    dirtyrate_end_logging(NULL); /* no measurement ever: a no-op */

    g_assert_true(
        dirtyrate_start(e.d, &e.de, 60, false, 0, true, BITMAP, NULL));
    g_assert_true(fake_kvm_logging(&e.f));
    env_fini(&e); /* quit while measuring: logging off first */
    g_assert_false(fake_kvm_logging(&e.f));
}

/* KVM refusing to log: the command fails, nothing stays logging. */
static void test_kvm_refuses(void)
{
    struct env e;
    Error *err = NULL;

    env_init(&e, true, false);
    fake_kvm_fail(&e.f, KVM_SET_USER_MEMORY_REGION, 2, EIO);
    g_assert_false(
        dirtyrate_start(e.d, &e.de, 1, false, 0, true, BITMAP, &err));
    g_assert_nonnull(err);
    error_free(err);
    g_assert_false(fake_kvm_logging(&e.f));
    g_assert_cmpint(e.d->status, ==, QAPI_DIRTY_RATE_STATUS_UNSTARTED);
    g_assert_null(e.d->timer);
    env_fini(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dirtyrate/sample/fraction", test_sample_fraction);
    g_test_add_func("/dirtyrate/sample/unsampled-and-same",
                    test_sample_unsampled_and_same);
    g_test_add_func("/dirtyrate/sample/holes", test_sample_holes);
    g_test_add_func("/dirtyrate/sample/edges", test_sample_edges);
    g_test_add_func("/dirtyrate/start/refusals", test_start_refusals);
    g_test_add_func("/dirtyrate/sampling", test_sampling_measurement);
    g_test_add_func("/dirtyrate/sampling-steps", test_sampling_steps);
    g_test_add_func("/dirtyrate/timeout", test_timeout);
    g_test_add_func("/dirtyrate/no-ram", test_no_ram);
    g_test_add_func("/dirtyrate/bitmap", test_bitmap);
    g_test_add_func("/dirtyrate/bitmap-manual", test_bitmap_manual);
    g_test_add_func("/dirtyrate/ring", test_ring);
    g_test_add_func("/dirtyrate/migration", test_migration);
    g_test_add_func("/dirtyrate/kvm-refuses", test_kvm_refuses);
    return g_test_run();
}
