/* SPDX-License-Identifier: MIT */
/*
 * precopy.c: the pass loop of precopy.h.  Convergence follows QEMU's
 * rule (migration/migration.c, migration_iteration_run): stop when the
 * bytes still dirty would take no longer than downtime-limit at the
 * bandwidth the last pass achieved.  The throttle follows max-bandwidth
 * as a rate over the whole run (re-based when the parameter changes).
 */
#include "util/common.h"
#include "migration/precopy.h"
#include "accel/kvm/kvm.h"
#include "system/guest-mem.h"

#define PAGE 4096u
#define LONG_BITS (sizeof(unsigned long) * 8)

static bool cancelled(struct precopy *p, Error **errp)
{
    if (g_atomic_int_get(&p->cancel)) {
        error_setg(errp, "migration cancelled");
        return true;
    }
    return false;
}

static void set_transferred(struct precopy *p)
{
    g_mutex_lock(&p->lock);
    p->progress.transferred = p->w.pos;
    p->progress.stats = *savevm_get_stats(p->sv);
    g_mutex_unlock(&p->lock);
}

/* Sleeps until the bytes written fit max-bandwidth; false if cancelled
 * meanwhile. */
static bool throttle(struct precopy *p, Error **errp)
{
    gint64 bw = __atomic_load_n(&p->max_bandwidth, __ATOMIC_RELAXED);
    gint64 now = g_get_monotonic_time();

    set_transferred(p);
    if (bw != p->base_bandwidth) {
        p->base_bandwidth = bw;
        p->base_us = now;
        p->base_bytes = p->w.pos;
    }
    if (bw <= 0) {
        return !cancelled(p, errp);
    }
    for (;;) {
        gint64 due = p->base_us + (gint64)((double)(p->w.pos - p->base_bytes) *
                                           1e6 / (double)bw);

        if (cancelled(p, errp)) {
            return false;
        }
        if (__atomic_load_n(&p->max_bandwidth, __ATOMIC_RELAXED) != bw) {
            return true; /* a new limit: re-based at the next step */
        }
        now = g_get_monotonic_time();
        if (now >= due) {
            return true;
        }
        g_usleep(MIN(due - now, 20000)); /* cancel within 20 ms */
    }
}

bool precopy_start(struct precopy *p, struct guest_mem *gm,
                   struct kvm_accel *kvm, struct savevm *sv, int fd,
                   Error **errp)
{
    p->gm = gm;
    p->kvm = kvm;
    p->sv = sv;
    p->pages = gm ? gm->ram_size / PAGE : 0;
    p->bitmap = g_new0(unsigned long, p->pages / LONG_BITS + 1);
    if (!p->max_passes) {
        p->max_passes = PRECOPY_MAX_PASSES;
    }
    g_mutex_init(&p->lock);
    mig_writer_init(&p->w, fd);
    p->base_bandwidth = __atomic_load_n(&p->max_bandwidth, __ATOMIC_RELAXED);
    p->base_us = g_get_monotonic_time();
    p->base_bytes = 0;
    if (gm) {
        /* vireo's writes first: a device write racing with KVM's switch
         * is then counted by one of the two */
        gm_dirty_start(gm);
        p->logging = true;
        if (kvm && !kvm_dirty_log_start(kvm, gm, errp)) {
            return false;
        }
    }
    return savevm_save_begin(sv, &p->w, SAVEVM_RAM_STREAM, errp);
}

/* Moves the pages written since the last sync into p->bitmap; the
 * number of pages to send. */
static bool sync_dirty(struct precopy *p, uint64_t *dirty, Error **errp)
{
    uint64_t n = 0;

    if (p->kvm && !kvm_dirty_log_sync(p->kvm, p->gm, p->bitmap, errp)) {
        return false;
    }
    gm_dirty_collect(p->gm, p->bitmap);
    for (uint64_t i = 0; i <= p->pages / LONG_BITS; i++) {
        n += __builtin_popcountl(p->bitmap[i]);
    }
    *dirty = n;
    return true;
}

static void pass_event(struct precopy *p, unsigned pass)
{
    if (p->on_pass) {
        p->on_pass(p->opaque, pass);
    }
}

static bool send_dirty(struct precopy *p, bool live, Error **errp)
{
    uint64_t page = 0;

    while (page < p->pages) {
        if (!savevm_save_ram_dirty(p->sv, &p->w, p->bitmap, &page, errp)) {
            return false;
        }
        if (live && !throttle(p, errp)) {
            return false;
        }
    }
    set_transferred(p);
    return true;
}

enum precopy_result precopy_run(struct precopy *p, Error **errp)
{
    uint64_t size = p->pages * PAGE;
    unsigned pass = 1;

    g_mutex_lock(&p->lock);
    p->progress.dirty_sync_count = 1;
    p->progress.remaining = size;
    g_mutex_unlock(&p->lock);
    pass_event(p, pass);
    if (!p->gm) {
        return PRECOPY_CONVERGED; /* no RAM: only the state to send */
    }
    for (;;) {
        gint64 t0 = g_get_monotonic_time(), t;
        uint64_t b0 = p->w.pos, dirty = 0, bytes;
        double bw; /* bytes per ms */

        if (pass == 1) {
            for (uint64_t off = 0; off < size; off += PRECOPY_STEP) {
                if (!savevm_save_ram_range(p->sv, &p->w, off,
                                           MIN(size - off, PRECOPY_STEP),
                                           errp) ||
                    !throttle(p, errp)) {
                    goto fail;
                }
                g_mutex_lock(&p->lock);
                p->progress.remaining = size - MIN(size, off + PRECOPY_STEP);
                g_mutex_unlock(&p->lock);
            }
        } else if (!send_dirty(p, true, errp)) {
            goto fail;
        }
        if (!mig_writer_flush(&p->w, errp) || !sync_dirty(p, &dirty, errp)) {
            goto fail;
        }
        t = MAX(g_get_monotonic_time() - t0, 1);
        bytes = p->w.pos - b0;
        bw = (double)bytes * 1000.0 / (double)t;
        pass++;
        g_mutex_lock(&p->lock);
        p->progress.dirty_sync_count = pass;
        p->progress.remaining = dirty * PAGE;
        p->progress.dirty_pages_rate = dirty * 1000000 / t;
        p->progress.mbps = (double)bytes * 8.0 / (double)t;
        p->progress.expected_downtime =
            bw > 0 ? (uint64_t)((double)(dirty * PAGE) / bw) : 0;
        g_mutex_unlock(&p->lock);
        set_transferred(p);
        pass_event(p, pass);
        if (cancelled(p, errp)) {
            goto fail;
        }
        /* QEMU's test: the rest fits in the downtime limit */
        if (dirty == 0 ||
            (bw > 0 && (double)(dirty * PAGE) / bw <=
                           (double)__atomic_load_n(&p->downtime_limit_ms,
                                                   __ATOMIC_RELAXED)) ||
            pass > p->max_passes) {
            return PRECOPY_CONVERGED;
        }
    }
fail:
    return g_atomic_int_get(&p->cancel) ? PRECOPY_CANCELLED : PRECOPY_FAILED;
}

bool precopy_save_state(struct precopy *p, Error **errp)
{
    uint64_t dirty = 0, page = 0;

    g_clear_pointer(&p->state.buf, g_free);
    g_clear_pointer(&p->ram.buf, g_free);
    mig_writer_init(&p->state, -1);
    mig_writer_init(&p->ram, -1);
    p->state_saved = false;
    if (!savevm_save_state(p->sv, &p->state, errp)) {
        return false;
    }
    /* After the drain: the last sync (what the drain wrote is in it) and
     * a copy of those pages, so that RAM and the device state are of one
     * instant even if a device writes RAM once the main loop runs on. */
    if (p->gm && !sync_dirty(p, &dirty, errp)) {
        return false;
    }
    while (p->gm && page < p->pages) {
        if (!savevm_save_ram_dirty(p->sv, &p->ram, p->bitmap, &page, errp)) {
            return false;
        }
    }
    p->state_saved = true;
    return true;
}

/* Writes a buffer captured by precopy_save_state, cancel acting between
 * slices. */
static bool send_captured(struct precopy *p, const struct mig_writer *c,
                          Error **errp)
{
    for (size_t off = 0; off < c->len; off += PRECOPY_STEP) {
        if (cancelled(p, errp) ||
            !mig_write(&p->w, c->buf + off, MIN(c->len - off, PRECOPY_STEP),
                       errp)) {
            return false;
        }
        set_transferred(p);
    }
    return !cancelled(p, errp);
}

bool precopy_complete(struct precopy *p, Error **errp)
{
    g_assert(p->state_saved);
    /* the stream's order: the last RAM, then the state sections */
    if (!send_captured(p, &p->ram, errp) ||
        !send_captured(p, &p->state, errp) ||
        !savevm_save_end(p->sv, &p->w, errp)) {
        return false;
    }
    g_mutex_lock(&p->lock);
    p->progress.remaining = 0;
    p->progress.transferred = p->w.pos;
    p->progress.stats = *savevm_get_stats(p->sv);
    g_mutex_unlock(&p->lock);
    return true;
}

void precopy_finish(struct precopy *p)
{
    if (p->logging) {
        Error *err = NULL;

        gm_dirty_stop(p->gm);
        if (p->kvm && !kvm_dirty_log_stop(p->kvm, p->gm, &err)) {
            error_report_err(err);
        }
        p->logging = false;
    }
    /* what is still buffered is dropped: after a completion it was
     * flushed, after a failure or cancel nobody wants it */
    g_clear_pointer(&p->w.buf, g_free);
    g_clear_pointer(&p->state.buf, g_free);
    g_clear_pointer(&p->ram.buf, g_free);
    g_clear_pointer(&p->bitmap, g_free);
}

void precopy_cancel(struct precopy *p)
{
    g_atomic_int_set(&p->cancel, 1);
}

void precopy_get_progress(struct precopy *p, struct precopy_progress *out)
{
    g_mutex_lock(&p->lock);
    *out = p->progress;
    g_mutex_unlock(&p->lock);
}
