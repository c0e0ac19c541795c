/* SPDX-License-Identifier: MIT */
/*
 * dirtyrate.h: how fast the guest writes its memory, measured for
 * calc-dirty-rate / query-dirty-rate (QEMU 7.2's migration/dirtyrate.c
 * is the spec), so that a migration can be planned (libvirt's `virsh
 * domdirtyrate-calc`, `domstats --dirtyrate`).  Three modes:
 *
 *  - page-sampling: `sample-pages` random pages per GiB of RAM are hashed
 *    at the start and again after calc-time; the share that changed,
 *    times the RAM size, over the time is the rate.  Needs no KVM.
 *  - dirty-bitmap: KVM's dirty log (accel/kvm/dirty.c, the ring's
 *    harvest where it is on) for calc-time; the pages it reports.
 *  - dirty-ring: the same, counted per vCPU from its ring.
 *
 * The two logging modes share KVM's dirty log with live migration, which
 * turns logging on and off for itself: they are refused while a
 * migration runs, and a migration started during one ends it at once.
 *
 * The main loop does not wait for calc-time: the measurement starts in
 * the command and a GLib timeout ends it.  The hashing at either end
 * runs on the main loop, DIRTYRATE_BATCH samples per iteration so that
 * QMP answers in between: about 7 us a page on the (nested) machine
 * where it was measured, so 3.5 ms per GiB of RAM at the default 512
 * pages per GiB and 115 ms per GiB at the maximum 16384.  The time is
 * taken when calc-time is up, before the second hashing (QEMU's order).
 * Pages the memfd holds no data for are not read (dirtyrate.c).  Main
 * thread only.
 */
#ifndef MIGRATION_DIRTYRATE_H
#define MIGRATION_DIRTYRATE_H

#include "util/common.h"
#include "util/error.h"

struct guest_mem;
struct kvm_accel;
struct machine;

/* QEMU's limits (migration/dirtyrate.h) */
#define DIRTYRATE_MIN_CALC_TIME 1 /* seconds */
#define DIRTYRATE_MAX_CALC_TIME 60
#define DIRTYRATE_MIN_SAMPLE_PAGES 128 /* per GiB */
#define DIRTYRATE_MAX_SAMPLE_PAGES 16384
#define DIRTYRATE_DEFAULT_SAMPLE_PAGES 512
/* RAM smaller than this is not sampled (QEMU's MIN_RAMBLOCK_SIZE) */
#define DIRTYRATE_MIN_RAM (128 * KiB)

/* ---- the page-sampling estimator ---- */
struct dirtyrate_sample {
    uint64_t ram_size; /* the RAM sampled; 0: none (too small, or no RAM) */
    uint64_t n;        /* pages sampled: ram_size * per_gib / 1 GiB */
    uint64_t *page;    /* RAM page numbers (a page may come twice) */
    uint32_t *hash;    /* their CRC-32C at the start */
    uint64_t hashed;   /* how many are (the start hashes in steps) */
    uint64_t compared, dirty; /* the end, in steps: changed so far */
};

/* Samples hashed per main-loop iteration beyond the first batch (about
 * 30 ms on the machine measured): a large sample does not stall QMP. */
#define DIRTYRATE_BATCH 4096

/* The two halves of dirtyrate_sample_begin: the pick, then the hashes in
 * steps of at most max (true once all are hashed). */
void dirtyrate_sample_pick(struct dirtyrate_sample *s,
                           const struct guest_mem *gm, uint64_t per_gib,
                           GRand *rand);
bool dirtyrate_sample_hash_step(struct dirtyrate_sample *s,
                                const struct guest_mem *gm, uint64_t max);
/* The end in steps: compares at most max more samples, counting changes
 * in s->dirty (0 if RAM was resized); true once all are compared. */
bool dirtyrate_sample_compare_step(struct dirtyrate_sample *s,
                                   const struct guest_mem *gm, uint64_t max);

/* Picks and hashes the sample of gm's RAM (gm NULL: nothing to sample);
 * rand: the random source (tests seed it). */
void dirtyrate_sample_begin(struct dirtyrate_sample *s,
                            const struct guest_mem *gm, uint64_t per_gib,
                            GRand *rand);
/* The sampled pages whose content changed since begin; 0 if RAM was
 * resized meanwhile (nothing comparable). */
uint64_t dirtyrate_sample_end(const struct dirtyrate_sample *s,
                              const struct guest_mem *gm);
void dirtyrate_sample_free(struct dirtyrate_sample *s);
/* MB/s from `dirty` of `n` sampled pages of ram_size bytes over msec
 * (QEMU's integer formula); -1 when nothing was sampled. */
int64_t dirtyrate_sample_rate(uint64_t dirty, uint64_t n, uint64_t ram_size,
                              int64_t msec);
/* MB/s of `pages` 4 KiB pages written over msec (QEMU's: whole MB). */
int64_t dirtyrate_pages_rate(uint64_t pages, int64_t msec);

/* ---- a measurement ---- */

/* What the measurement may use. */
struct dirtyrate_env {
    struct guest_mem *gm;  /* NULL: no RAM (-M none) */
    struct kvm_accel *kvm; /* KVM holding gm's slots, or NULL */
    unsigned nr_vcpus;
    bool migrating;    /* a migration runs (either direction) */
    GMainContext *ctx; /* where the calc-time timeout runs */
};

struct dirtyrate {
    /* what query-dirty-rate reports (enum qapi_dirty_rate_status,
     * enum qapi_dirty_rate_measure_mode) */
    int status, mode;
    int64_t start_time, calc_time, sample_pages, dirty_rate;
    int64_t *vcpu_rates; /* dirty-ring, once measured */
    unsigned nr_vcpu_rates;
    /* while measuring */
    GSource *timer;
    GSource *work; /* page-sampling's hashing in steps */
    bool time_up;  /* calc-time passed (msec) while hashing went on */
    int64_t msec;
    uint64_t batch; /* samples per step; 0: DIRTYRATE_BATCH (tests) */
    gint64 t0_us;
    struct dirtyrate_env env;
    struct dirtyrate_sample sample;
    bool logging;         /* KVM's dirty log is on for this measurement */
    uint64_t *ring_start; /* dirty-ring: each vCPU's count at the start */
    GRand *rand;          /* tests may set it; else a new one each time */
};

/* calc-dirty-rate: checks the arguments in QEMU's order with QEMU's
 * texts, then starts (page-sampling without RAM: measured at once, rate
 * -1, as QEMU).  mode is an enum qapi_dirty_rate_measure_mode. */
bool dirtyrate_start(struct dirtyrate *d, const struct dirtyrate_env *env,
                     int64_t calc_time, bool has_sample_pages,
                     int64_t sample_pages, bool has_mode, int mode,
                     Error **errp);
/* Ends the measurement now as if msec had passed (the timeout passes
 * the real time; tests a chosen one); a no-op unless measuring. */
void dirtyrate_finish_at(struct dirtyrate *d, int64_t msec);
/* Ends a logging measurement now, with the time it ran (a migration is
 * about to take KVM's dirty log); a no-op otherwise. */
void dirtyrate_end_logging(struct dirtyrate *d);
/* Stops whatever runs (logging off) and frees d (d may be NULL). */
void dirtyrate_free(struct dirtyrate *d);

/* The machine's (created on first use) for QMP/HMP and migrate. */
struct dirtyrate *dirtyrate_of(struct machine *m);

#endif
