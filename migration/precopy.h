/* SPDX-License-Identifier: MIT */
/*
 * precopy.h: live (pre-copy) migration of guest RAM: a first pass over
 * all RAM while the guest runs, then passes over the pages written since
 * (KVM's dirty log and vireo's own writes, accel/kvm/dirty.c and
 * system/guest-mem.h), until what is left would be sent within the
 * downtime limit at the bandwidth measured, or after PRECOPY_MAX_PASSES;
 * then, with the vCPUs stopped, the rest and the state sections.  The
 * stream is savevm.h's (docs/migration-format.md, "ram-dirty").
 *
 * Threads: precopy_run() runs on the migration thread; precopy_progress()
 * and the parameter setters on any thread (progress under p->lock);
 * precopy_cancel() from any thread.  Start and precopy_save_state run
 * where the caller has the machine to itself (migration-qmp.c: the main
 * loop, vCPUs stopped); precopy_complete then sends on the migration
 * thread, so the main loop answers QMP during the downtime.
 */
#ifndef MIGRATION_PRECOPY_H
#define MIGRATION_PRECOPY_H

#include "util/common.h"
#include "util/error.h"
#include "migration/savevm.h"
#include "migration/stream.h"

struct kvm_accel;
struct guest_mem;

/* Passes over dirty pages before the VM is stopped whatever remains
 * (a guest that dirties faster than the link sends never converges). */
#define PRECOPY_MAX_PASSES 30
/* RAM per "ram" section of the first pass: throttling and cancel act
 * between sections. */
#define PRECOPY_STEP (1u << 20)

enum precopy_result {
    PRECOPY_CONVERGED, /* stop the vCPUs and call precopy_complete */
    PRECOPY_CANCELLED,
    PRECOPY_FAILED,
};

/* What query-migrate shows while active (QEMU's field meanings). */
struct precopy_progress {
    uint64_t transferred;       /* bytes written */
    uint64_t remaining;         /* bytes of RAM dirty at the last sync */
    uint64_t dirty_sync_count;  /* 1 after the first pass began */
    uint64_t dirty_pages_rate;  /* pages/s during the last pass */
    uint64_t expected_downtime; /* ms: remaining at the bandwidth seen */
    double mbps;                /* megabits/s during the last pass */
    struct savevm_stats stats;  /* zero / data pages so far */
};

struct precopy {
    struct guest_mem *gm;
    struct kvm_accel *kvm; /* NULL: no KVM slots (vireo's writes only) */
    struct savevm *sv;
    struct mig_writer w;
    unsigned long *bitmap; /* one bit per RAM page: to send */
    uint64_t pages;
    bool logging;
    /* parameters, read at every step (migrate-set-parameters while
     * active takes effect at once) */
    gint64 downtime_limit_ms; /* atomic */
    gint64 max_bandwidth;     /* atomic, bytes/s; 0: unlimited */
    unsigned max_passes;
    gint cancel; /* atomic */
    /* throttle: bytes written since base_us */
    gint64 base_us, base_bandwidth;
    uint64_t base_bytes;
    /* called on the migration thread at each dirty bitmap sync (QEMU's
     * MIGRATION_PASS), and (unit tests) where a guest would run */
    void (*on_pass)(void *opaque, unsigned pass);
    void *opaque;
    /* captured by precopy_save_state: the state sections, the last
     * dirty RAM */
    struct mig_writer state, ram;
    bool state_saved;
    GMutex lock; /* progress */
    struct precopy_progress progress;
};

/* Dirty logging on (KVM and vireo's writes), the stream header. */
bool precopy_start(struct precopy *p, struct guest_mem *gm,
                   struct kvm_accel *kvm, struct savevm *sv, int fd,
                   Error **errp);
/* The live phase (migration thread). */
enum precopy_result precopy_run(struct precopy *p, Error **errp);
/* With the vCPUs stopped, where the devices may be saved (their locks,
 * the main loop): every state section, then the last dirty sync and a
 * copy of those pages, into memory.  The device models' pre_save runs
 * first (a virtio model's drain completes in-flight requests into guest
 * RAM), so the last sync has what it wrote; RAM and state are of the
 * same instant whatever devices do once the main loop runs on.  The copy
 * is at most what was still dirty at convergence. */
bool precopy_save_state(struct precopy *p, Error **errp);
/* After precopy_save_state, on one thread (the migration thread): the
 * captured RAM and state sections, the end marker; a cancel stops it
 * between 1 MiB slices. */
bool precopy_complete(struct precopy *p, Error **errp);
/* Dirty logging off (whatever happened), buffers freed; the fd stays
 * open. */
void precopy_finish(struct precopy *p);
void precopy_cancel(struct precopy *p);
void precopy_get_progress(struct precopy *p, struct precopy_progress *out);

#endif
