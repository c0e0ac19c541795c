/* SPDX-License-Identifier: MIT */
/*
 * dirtyrate.c: calc-dirty-rate's measurement (dirtyrate.h) and the QMP
 * commands around it.  The arithmetic is QEMU 7.2's, so the numbers mean
 * the same: MB are whole (bytes >> 20) before dividing by the time, and
 * page-sampling scales the changed share of the sample to all of RAM.
 * vireo hashes with CRC-32C (util/crc32c.h) where QEMU 7.2 uses zlib's
 * CRC-32: either tells a changed page from an unchanged one.
 */
#include "util/common.h"
#include "migration/dirtyrate.h"
#include "accel/kvm/kvm.h"
#include "migration/migration.h"
#include "qapi/qapi-gen-types.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "util/crc32c.h"

#include <unistd.h>

#define PAGE 4096u
#define LONG_BITS (sizeof(unsigned long) * 8)

/* ---- the page-sampling estimator ---- */

/* Whether RAM page `page` is a hole of the shared memfd behind RAM
 * (never written, or given back by the balloon): it reads as zeros, and
 * reading it through the mapping would make shmem allocate it, which is
 * slow (about 0.2 ms a page on a nested host) and costs host memory. */
static bool is_hole(const struct guest_mem *gm, uint64_t page)
{
    off_t off = (off_t)(page * PAGE), data;

    if (!gm->shared || gm->memfd < 0) {
        return false; /* a private mapping may differ from its file */
    }
    data = lseek(gm->memfd, off, SEEK_DATA);
    if (data < 0) {
        return errno == ENXIO; /* no data from here on */
    }
    return data >= off + (off_t)PAGE;
}

static uint32_t page_hash(const struct guest_mem *gm, uint64_t page)
{
    static uint32_t zero_hash;
    static const uint8_t zeros[PAGE];

    if (is_hole(gm, page)) {
        if (!zero_hash) {
            zero_hash = crc32c(0, zeros, PAGE);
        }
        return zero_hash;
    }
    return crc32c(0, gm->ram + page * PAGE, PAGE);
}

void dirtyrate_sample_pick(struct dirtyrate_sample *s,
                           const struct guest_mem *gm, uint64_t per_gib,
                           GRand *rand)
{
    uint64_t pages;

    memset(s, 0, sizeof(*s));
    if (!gm || gm->ram_size < DIRTYRATE_MIN_RAM) {
        return;
    }
    s->ram_size = gm->ram_size;
    pages = gm->ram_size / PAGE;
    /* per_gib <= DIRTYRATE_MAX_SAMPLE_PAGES: no overflow below 1 EiB */
    s->n = gm->ram_size / 1024 * per_gib >> 20;
    s->page = g_new(uint64_t, s->n ? s->n : 1);
    s->hash = g_new(uint32_t, s->n ? s->n : 1);
    for (uint64_t i = 0; i < s->n; i++) {
        uint64_t r = (uint64_t)g_rand_int(rand) << 32 | g_rand_int(rand);

        s->page[i] = r % pages;
    }
}

bool dirtyrate_sample_hash_step(struct dirtyrate_sample *s,
                                const struct guest_mem *gm, uint64_t max)
{
    for (; s->hashed < s->n && max; s->hashed++, max--) {
        s->hash[s->hashed] = page_hash(gm, s->page[s->hashed]);
    }
    return s->hashed == s->n;
}

bool dirtyrate_sample_compare_step(struct dirtyrate_sample *s,
                                   const struct guest_mem *gm, uint64_t max)
{
    if (!gm || gm->ram_size != s->ram_size) {
        s->dirty = 0; /* resized: nothing comparable (QEMU's rule) */
        s->compared = s->n;
    }
    for (; s->compared < s->n && max; s->compared++, max--) {
        s->dirty += page_hash(gm, s->page[s->compared]) != s->hash[s->compared];
    }
    return s->compared == s->n;
}

void dirtyrate_sample_begin(struct dirtyrate_sample *s,
                            const struct guest_mem *gm, uint64_t per_gib,
                            GRand *rand)
{
    dirtyrate_sample_pick(s, gm, per_gib, rand);
    dirtyrate_sample_hash_step(s, gm, UINT64_MAX);
}

uint64_t dirtyrate_sample_end(const struct dirtyrate_sample *s,
                              const struct guest_mem *gm)
{
    uint64_t dirty = 0;

    /* QEMU compares a RAM block only if it kept its size */
    if (!s->n || !gm || gm->ram_size != s->ram_size) {
        return 0;
    }
    for (uint64_t i = 0; i < s->n; i++) {
        dirty += page_hash(gm, s->page[i]) != s->hash[i];
    }
    return dirty;
}

void dirtyrate_sample_free(struct dirtyrate_sample *s)
{
    g_clear_pointer(&s->page, g_free);
    g_clear_pointer(&s->hash, g_free);
    memset(s, 0, sizeof(*s));
}

int64_t dirtyrate_sample_rate(uint64_t dirty, uint64_t n, uint64_t ram_size,
                              int64_t msec)
{
    if (!n) {
        return -1;
    }
    /* dirty <= n <= 2^14 per GiB: the product stays far below 2^63 */
    return (int64_t)(dirty * (ram_size >> 20) * 1000 /
                     (n * (uint64_t)MAX(msec, 1)));
}

int64_t dirtyrate_pages_rate(uint64_t pages, int64_t msec)
{
    return (int64_t)((pages * PAGE >> 20) * 1000 / (uint64_t)MAX(msec, 1));
}

/* ---- a measurement ---- */

static void stop_logging(struct dirtyrate *d)
{
    Error *err = NULL;

    if (d->logging && !kvm_dirty_log_stop(d->env.kvm, d->env.gm, &err)) {
        error_report("calc-dirty-rate: %s", error_get_pretty(err));
        error_free(err);
    }
    d->logging = false;
    g_clear_pointer(&d->ring_start, g_free);
}

static void drop_timer(struct dirtyrate *d)
{
    if (d->timer) {
        g_source_destroy(d->timer);
        g_clear_pointer(&d->timer, g_source_unref);
    }
}

/* The logging modes: the pages KVM reported since the start (-1 and the
 * error logged if KVM failed), and per vCPU for dirty-ring. */
static int64_t logged_rate(struct dirtyrate *d, int64_t msec)
{
    struct dirtyrate_env *e = &d->env;
    uint64_t pages = e->gm ? e->gm->ram_size / PAGE : 0;
    g_autofree unsigned long *bits =
        g_new0(unsigned long, pages / LONG_BITS + 1);
    uint64_t n = 0;
    int64_t sum = 0;
    Error *err = NULL;

    if (d->logging && !kvm_dirty_log_sync(e->kvm, e->gm, bits, &err)) {
        error_report("calc-dirty-rate: %s", error_get_pretty(err));
        error_free(err);
        return -1;
    }
    if (d->mode != QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_RING) {
        for (uint64_t w = 0; w <= pages / LONG_BITS; w++) {
            n += __builtin_popcountl(bits[w]);
        }
        return dirtyrate_pages_rate(n, msec);
    }
    d->nr_vcpu_rates = e->nr_vcpus;
    d->vcpu_rates = g_new0(int64_t, e->nr_vcpus ? e->nr_vcpus : 1);
    for (unsigned i = 0; i < e->nr_vcpus; i++) {
        uint64_t end = d->ring_start[i];

        kvm_dirty_ring_count(e->kvm, i, &end);
        d->vcpu_rates[i] = dirtyrate_pages_rate(end - d->ring_start[i], msec);
        sum += d->vcpu_rates[i];
    }
    return sum;
}

static void drop_work(struct dirtyrate *d)
{
    if (d->work) {
        g_source_destroy(d->work);
        g_clear_pointer(&d->work, g_source_unref);
    }
}

static uint64_t batch(const struct dirtyrate *d)
{
    return d->batch ? d->batch : DIRTYRATE_BATCH;
}

void dirtyrate_finish_at(struct dirtyrate *d, int64_t msec)
{
    if (d->status != QAPI_DIRTY_RATE_STATUS_MEASURING) {
        return;
    }
    drop_timer(d);
    drop_work(d);
    msec = MAX(msec, 0);
    d->calc_time = msec / 1000;
    if (d->mode == QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING) {
        /* what the steps left, now */
        dirtyrate_sample_hash_step(&d->sample, d->env.gm, UINT64_MAX);
        dirtyrate_sample_compare_step(&d->sample, d->env.gm, UINT64_MAX);
        d->dirty_rate = dirtyrate_sample_rate(d->sample.dirty, d->sample.n,
                                              d->sample.ram_size, msec);
        dirtyrate_sample_free(&d->sample);
    } else {
        d->dirty_rate = logged_rate(d, msec);
        stop_logging(d);
        /* QEMU: the sample size means nothing in these modes */
        d->sample_pages = 0;
    }
    d->status = QAPI_DIRTY_RATE_STATUS_MEASURED;
}

/* page-sampling's hashing, a batch per main-loop iteration: the first
 * hashes until done, then (once calc-time is up) the second. */
static gboolean work_step(gpointer opaque)
{
    struct dirtyrate *d = opaque;
    struct dirtyrate_sample *s = &d->sample;

    if (s->hashed < s->n) {
        dirtyrate_sample_hash_step(s, d->env.gm, batch(d));
        return G_SOURCE_CONTINUE;
    }
    if (d->time_up && !dirtyrate_sample_compare_step(s, d->env.gm, batch(d))) {
        return G_SOURCE_CONTINUE;
    }
    g_clear_pointer(&d->work, g_source_unref);
    if (d->time_up) {
        dirtyrate_finish_at(d, d->msec);
    }
    return G_SOURCE_REMOVE;
}

static void schedule_work(struct dirtyrate *d)
{
    if (!d->work) {
        d->work = g_idle_source_new();
        g_source_set_priority(d->work, G_PRIORITY_DEFAULT);
        g_source_set_callback(d->work, work_step, d, NULL);
        g_source_attach(d->work, d->env.ctx);
    }
}

static gboolean timer_fired(gpointer opaque)
{
    struct dirtyrate *d = opaque;
    int64_t msec = (g_get_monotonic_time() - d->t0_us) / 1000;

    g_clear_pointer(&d->timer, g_source_unref);
    if (d->mode != QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING ||
        (d->sample.hashed == d->sample.n &&
         d->sample.n - d->sample.compared <= batch(d))) {
        dirtyrate_finish_at(d, msec);
    } else {
        /* the time is taken now; the hashing goes on in steps */
        d->time_up = true;
        d->msec = msec;
        schedule_work(d);
    }
    return G_SOURCE_REMOVE;
}

void dirtyrate_end_logging(struct dirtyrate *d)
{
    if (d && d->status == QAPI_DIRTY_RATE_STATUS_MEASURING && d->logging) {
        dirtyrate_finish_at(d, (g_get_monotonic_time() - d->t0_us) / 1000);
    }
}

/* KVM's dirty log on for this measurement; the ring counts so far. */
static bool start_logging(struct dirtyrate *d, Error **errp)
{
    struct dirtyrate_env *e = &d->env;

    if (!e->kvm || !e->gm) {
        return true; /* no RAM in any slot: nothing can be written */
    }
    if (!kvm_dirty_log_start(e->kvm, e->gm, errp)) {
        Error *err = NULL;

        /* some slots may log already */
        if (!kvm_dirty_log_stop(e->kvm, e->gm, &err)) {
            error_free(err);
        }
        return false;
    }
    d->logging = true;
    if (d->mode == QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_RING) {
        d->ring_start = g_new0(uint64_t, e->nr_vcpus ? e->nr_vcpus : 1);
        for (unsigned i = 0; i < e->nr_vcpus; i++) {
            kvm_dirty_ring_count(e->kvm, i, &d->ring_start[i]);
        }
    }
    return true;
}

bool dirtyrate_start(struct dirtyrate *d, const struct dirtyrate_env *env,
                     int64_t calc_time, bool has_sample_pages,
                     int64_t sample_pages, bool has_mode, int mode,
                     Error **errp)
{
    bool ring = env->kvm && env->kvm->dirty_ring_entries;

    /* QEMU 7.2's checks, in its order and words */
    if (d->status == QAPI_DIRTY_RATE_STATUS_MEASURING) {
        error_setg(errp, "the dirty rate is already being measured.");
        return false;
    }
    if (calc_time < DIRTYRATE_MIN_CALC_TIME ||
        calc_time > DIRTYRATE_MAX_CALC_TIME) {
        error_setg(errp, "calc-time is out of range[%d, %d].",
                   DIRTYRATE_MIN_CALC_TIME, DIRTYRATE_MAX_CALC_TIME);
        return false;
    }
    if (!has_mode) {
        mode = QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING;
    }
    if (has_sample_pages && mode == QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_RING) {
        error_setg(errp, "either sample-pages or dirty-ring can be specified.");
        return false;
    }
    if (!has_sample_pages) {
        sample_pages = DIRTYRATE_DEFAULT_SAMPLE_PAGES;
    } else if (sample_pages < DIRTYRATE_MIN_SAMPLE_PAGES ||
               sample_pages > DIRTYRATE_MAX_SAMPLE_PAGES) {
        error_setg(errp, "sample-pages is out of range[%d, %d].",
                   DIRTYRATE_MIN_SAMPLE_PAGES, DIRTYRATE_MAX_SAMPLE_PAGES);
        return false;
    }
    /* QEMU also refuses dirty-bitmap while its ring is on; vireo's
     * harvest of the ring gives the same pages a bitmap would
     * (docs/qemu-compat.md) */
    if (mode == QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_RING && !ring) {
        error_setg(errp, "mode %s is not enabled, use other method instead.",
                   qapi_dirty_rate_measure_mode_str(mode));
        return false;
    }
    if (mode != QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING && env->migrating) {
        error_setg(errp,
                   "mode %s cannot measure while a migration is in "
                   "progress (both use KVM's dirty log): use page-sampling",
                   qapi_dirty_rate_measure_mode_str(mode));
        return false;
    }

    g_clear_pointer(&d->vcpu_rates, g_free);
    d->nr_vcpu_rates = 0;
    d->env = *env;
    d->mode = mode;
    d->t0_us = g_get_monotonic_time();
    d->start_time = d->t0_us / G_USEC_PER_SEC;
    d->calc_time = calc_time;
    d->sample_pages = sample_pages;
    d->dirty_rate = -1;
    if (mode == QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING) {
        GRand *own = d->rand ? NULL : g_rand_new();

        dirtyrate_sample_pick(&d->sample, env->gm, (uint64_t)sample_pages,
                              d->rand ? d->rand : own);
        if (own) {
            g_rand_free(own);
        }
        d->time_up = false;
        if (!dirtyrate_sample_hash_step(&d->sample, env->gm, batch(d))) {
            schedule_work(d); /* the rest, a batch per iteration */
        }
        if (!d->sample.ram_size) {
            /* nothing to sample (QEMU: measured at once, rate -1) */
            d->status = QAPI_DIRTY_RATE_STATUS_MEASURED;
            return true;
        }
    } else if (!start_logging(d, errp)) {
        d->status = QAPI_DIRTY_RATE_STATUS_UNSTARTED;
        return false;
    }
    d->status = QAPI_DIRTY_RATE_STATUS_MEASURING;
    d->timer = g_timeout_source_new((guint)calc_time * 1000);
    g_source_set_callback(d->timer, timer_fired, d, NULL);
    g_source_attach(d->timer, env->ctx);
    return true;
}

void dirtyrate_free(struct dirtyrate *d)
{
    if (!d) {
        return;
    }
    drop_timer(d);
    drop_work(d);
    stop_logging(d);
    dirtyrate_sample_free(&d->sample);
    g_free(d->vcpu_rates);
    g_free(d);
}

/* ---- QMP ---- */

struct dirtyrate *dirtyrate_of(struct machine *m)
{
    if (!m->dirtyrate) {
        m->dirtyrate = g_new0(struct dirtyrate, 1);
        m->dirtyrate->status = QAPI_DIRTY_RATE_STATUS_UNSTARTED;
        m->dirtyrate->mode = QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING;
    }
    return m->dirtyrate;
}

void qmp_calc_dirty_rate(struct machine *m, int64_t calc_time,
                         bool has_sample_pages, int64_t sample_pages,
                         bool has_mode, enum qapi_dirty_rate_measure_mode mode,
                         Error **errp)
{
    struct dirtyrate_env env = {
        .gm = m->gm,
        .kvm = migration_ram_kvm(m),
        .nr_vcpus = m->nr_vcpus,
        .migrating = migration_in_progress(m),
        .ctx = m->ctx,
    };

    dirtyrate_start(dirtyrate_of(m), &env, calc_time, has_sample_pages,
                    sample_pages, has_mode, (int)mode, errp);
}

struct qapi_dirty_rate_info *qmp_query_dirty_rate(struct machine *m,
                                                  Error **errp)
{
    /* before any calc-dirty-rate: QEMU's initial answer (a query
     * allocates nothing) */
    static const struct dirtyrate unstarted = {
        .status = QAPI_DIRTY_RATE_STATUS_UNSTARTED,
        .mode = QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING,
    };
    const struct dirtyrate *d = m->dirtyrate ? m->dirtyrate : &unstarted;
    struct qapi_dirty_rate_info *r = g_new0(struct qapi_dirty_rate_info, 1);

    r->status = (enum qapi_dirty_rate_status)d->status;
    r->mode = (enum qapi_dirty_rate_measure_mode)d->mode;
    r->start_time = d->start_time;
    r->calc_time = d->calc_time;
    r->sample_pages = d->sample_pages;
    if (d->status == QAPI_DIRTY_RATE_STATUS_MEASURED) {
        r->has_dirty_rate = true;
        r->dirty_rate = d->dirty_rate;
    }
    if (d->status == QAPI_DIRTY_RATE_STATUS_MEASURED &&
        d->mode == QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_RING) {
        r->has_vcpu_dirty_rate = true;
        r->vcpu_dirty_rate = g_ptr_array_new();
        for (unsigned i = 0; i < d->nr_vcpu_rates; i++) {
            struct qapi_dirty_rate_vcpu *v =
                g_new0(struct qapi_dirty_rate_vcpu, 1);

            v->id = i;
            v->dirty_rate = d->vcpu_rates[i];
            g_ptr_array_add(r->vcpu_dirty_rate, v);
        }
    }
    return r;
}
