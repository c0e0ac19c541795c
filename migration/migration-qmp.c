/* SPDX-License-Identifier: MIT */
/*
 * migration-qmp.c: QMP's migrate, migrate-incoming, query-migrate,
 * migrate_cancel, capabilities and parameters, the MIGRATION and
 * MIGRATION_PASS events, and -incoming (qapi/schema/migration.json).
 *
 * migrate to unix:, tcp:, fd: and exec: is live (pre-copy,
 * migration/precopy.h): the RAM passes run on a migration thread while
 * QMP keeps answering; when they converge the main loop stops the vCPUs
 * and captures the device state (pre_save: a virtio model's drain writes
 * RAM), then the thread sends the last dirty RAM and that state (the
 * downtime); for exec: a child watch waits for the command to exit; then
 * the run state becomes postmigrate.  The main loop never waits for the
 * stream, so QMP (migrate_cancel, query-migrate) answers in every phase;
 * the thread never runs main-loop code inline (it posts sources), so quit
 * during a migration cancels it and joins the thread.  migrate to file: stops
 * the VM and writes the page-aligned snapshot layout before it returns (as
 * libvirt's save, which pauses first).  On any failure or cancel the VM goes on
 * as it was, with dirty logging off.
 *
 * Incoming (-incoming URI, migrate-incoming): unix:/tcp: listen from the
 * main loop; once a stream is there (any URI) a thread reads, checks and
 * stages all of it (savevm_load_read: RAM into a mapping of its own,
 * devices into staging objects; the machine is not touched), so QMP
 * answers meanwhile (query-status: inmigrate, query-migrate: active with
 * what arrived).  The thread then wakes the main loop (an eventfd), which
 * applies the state under the device locks, starts the VM (unless -S or
 * stop, or the source was not running: its "globalstate" section,
 * migration.h) and reports completed; a refused stream ends the process, as
 * QEMU's destination does.  file: goes the same way: its RAM is mapped
 * copy-on-write on the thread, so the read there is quick anyway.
 */
#include "util/common.h"
#include "migration/migration.h"
#include "migration/dirtyrate.h"
#include "hw/core/device.h"
#include "sev/sev.h"
#include "qapi/qapi-gen-types.h"
#include "system/guest-mem.h"
#include "system/machine.h"

#include <glib-unix.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_DOWNTIME_LIMIT 300         /* ms, QEMU's */
#define DEFAULT_MAX_BANDWIDTH (128u << 20) /* bytes/s, QEMU's */

static struct migration_state *ms(struct machine *m)
{
    if (!m->migration) {
        m->migration = g_new0(struct migration_state, 1);
        m->migration->status = QAPI_MIGRATION_STATUS_NONE;
        m->migration->downtime_limit = DEFAULT_DOWNTIME_LIMIT;
        m->migration->max_bandwidth = DEFAULT_MAX_BANDWIDTH;
        m->migration->listen_fd = -1;
        m->migration->live_fd = -1;
        m->migration->autostart = -1;
        m->migration->in_fd = -1;
        m->migration->in_wake = -1;
        m->migration->in_cancel = -1;
        g_mutex_init(&m->migration->go_lock);
        g_cond_init(&m->migration->go_cond);
    }
    return m->migration;
}

static void live_cleanup(struct machine *m);
static void incoming_cleanup(struct migration_state *s);
static bool reap(GPid child, Error **errp);

void migration_state_free(struct machine *m)
{
    struct migration_state *s = m->migration;

    if (!s) {
        return;
    }
    if (s->thread) { /* quit during a live migration: cancel it */
        precopy_cancel(s->live);
        shutdown(s->live_fd, SHUT_RDWR);
        if (s->live_child) {
            kill(s->live_child, SIGTERM); /* a write blocked on its pipe */
        }
        g_mutex_lock(&s->go_lock);
        if (!s->go) {
            s->go = -1;
        }
        g_cond_signal(&s->go_cond);
        g_mutex_unlock(&s->go_lock);
        g_thread_join(s->thread);
        s->thread = NULL;
    }
    if (s->live_src) { /* posted, never run */
        g_source_destroy(s->live_src);
        g_clear_pointer(&s->live_src, g_source_unref);
    }
    if (s->live) {
        live_cleanup(m);
    }
    if (s->live_child) {
        kill(s->live_child, SIGTERM);
        reap(s->live_child, NULL);
        s->live_child = 0;
    }
    if (s->child_watch) { /* quit while exec:'s command reads the end */
        g_source_destroy(s->child_watch);
        g_clear_pointer(&s->child_watch, g_source_unref);
        kill(s->wait_child, SIGTERM);
        reap(s->wait_child, NULL);
        s->wait_child = 0;
    }
    if (s->in_thread) { /* quit during an incoming migration */
        uint64_t one = 1;

        if (write(s->in_cancel, &one, sizeof(one)) != sizeof(one)) {
            g_warning("incoming migration: cannot stop the reader: %s",
                      g_strerror(errno));
        }
        g_thread_join(s->in_thread);
        s->in_thread = NULL;
        if (s->in_child) {
            kill(s->in_child, SIGTERM);
        }
        reap(s->in_child, NULL);
        s->in_child = 0;
    }
    incoming_cleanup(s);
    if (s->in_err) {
        error_free(s->in_err);
    }
    if (s->live_err) {
        error_free(s->live_err);
    }
    if (s->state_err) {
        error_free(s->state_err);
    }
    g_mutex_clear(&s->go_lock);
    g_cond_clear(&s->go_cond);
    if (s->listen_watch) {
        g_source_remove(s->listen_watch);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    g_free(s->error);
    g_free(s);
    m->migration = NULL;
}

static void set_status(struct machine *m, enum qapi_migration_status st)
{
    ms(m)->status = st;
    if (ms(m)->events) {
        qapi_event_send_migration(m, st);
    }
}

static void fail(struct machine *m, Error *err)
{
    g_free(ms(m)->error);
    ms(m)->error = g_strdup(error_get_pretty(err));
    set_status(m, QAPI_MIGRATION_STATUS_FAILED);
}

static bool active(struct machine *m)
{
    int st = ms(m)->status;

    return st == QAPI_MIGRATION_STATUS_SETUP ||
           st == QAPI_MIGRATION_STATUS_ACTIVE ||
           st == QAPI_MIGRATION_STATUS_CANCELLING;
}

bool migration_in_progress(struct machine *m)
{
    return m->state == RUN_STATE_INMIGRATE ||
           (m->migration && (active(m) || m->migration->in_thread));
}

/* exec: children: the stream is complete when the command has read it. */
static bool reap(GPid child, Error **errp)
{
    int status;

    if (!child) {
        return true;
    }
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            error_setg_errno(errp, errno, "exec: waitpid");
            return false;
        }
    }
    g_spawn_close_pid(child);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        error_setg(errp, "exec: the command failed (status 0x%x)", status);
        return false;
    }
    return true;
}

/* ---- live migration: the thread and its completion ---- */

struct pass_msg {
    struct machine *m;
    unsigned pass;
};

static gboolean pass_event_cb(gpointer opaque)
{
    struct pass_msg *p = opaque;

    if (p->m->migration && p->m->migration->events) {
        qapi_event_send_migration_pass(p->m, p->pass);
    }
    return G_SOURCE_REMOVE;
}

/* Migration thread: events go out from the main loop. */
static void live_on_pass(void *opaque, unsigned pass)
{
    struct machine *m = opaque;
    struct pass_msg *p = g_new(struct pass_msg, 1);

    GSource *src = g_idle_source_new();

    p->m = m;
    p->pass = pass;
    /* a source, never inline: the main thread may be joining us */
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, pass_event_cb, p, g_free);
    g_source_attach(src, m->ctx);
    g_source_unref(src);
}

/* Keeps the figures query-migrate shows after the end. */
static void live_cleanup(struct machine *m)
{
    struct migration_state *s = ms(m);
    struct precopy_progress pr;

    precopy_get_progress(s->live, &pr);
    s->stats = pr.stats;
    s->stats.bytes = pr.transferred;
    s->dirty_sync_count = pr.dirty_sync_count;
    precopy_finish(s->live);
    savevm_free(s->live->sv);
    g_mutex_clear(&s->live->lock);
    g_clear_pointer(&s->live, g_free);
    if (s->live_fd >= 0) {
        close(s->live_fd);
        s->live_fd = -1;
    }
}

/* Migration thread, under go_lock: has the main loop run fn (a source
 * of its own, never inline: the main thread may be the one joining us).
 * A source posted before and not run yet is dropped. */
static void post_locked(struct machine *m, GSourceFunc fn)
{
    struct migration_state *s = m->migration;
    GSource *src = g_idle_source_new();

    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, fn, m, NULL);
    if (s->live_src) {
        g_source_destroy(s->live_src);
        g_source_unref(s->live_src);
    }
    s->live_src = src;
    g_source_attach(src, m->ctx);
}

/* Main loop: the source that called us has run. */
static void live_src_ran(struct migration_state *s)
{
    g_mutex_lock(&s->go_lock);
    g_clear_pointer(&s->live_src, g_source_unref);
    g_mutex_unlock(&s->go_lock);
}

/* The source goes on as it was: vCPUs running again if they ran. */
static void live_resume(struct machine *m)
{
    struct migration_state *s = ms(m);

    if (s->stopped && s->was_running) {
        machine_resume(m);
    }
    s->stopped = false;
}

static void live_completed(struct machine *m)
{
    machine_set_state(m, RUN_STATE_POSTMIGRATE);
    ms(m)->stopped = false;
    set_status(m, QAPI_MIGRATION_STATUS_COMPLETED);
}

/* Main loop, exec: the command exited after reading the stream. */
static void live_child_exited(GPid pid, gint status, gpointer opaque)
{
    struct machine *m = opaque;
    struct migration_state *s = ms(m);
    Error *err = NULL;

    g_clear_pointer(&s->child_watch, g_source_unref); /* removed on return */
    s->wait_child = 0;
    g_spawn_close_pid(pid);
    s->total_ms = (g_get_monotonic_time() - s->t0_us) / 1000;
    if (s->status == QAPI_MIGRATION_STATUS_CANCELLING) {
        live_resume(m);
        set_status(m, QAPI_MIGRATION_STATUS_CANCELLED);
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        error_setg(&err, "exec: the command failed (status 0x%x)", status);
        fail(m, err);
        error_free(err);
        live_resume(m);
        return;
    }
    live_completed(m);
}

/* Main loop, once the passes converged: the vCPUs stopped (STOP event)
 * and the device state captured where devices are saved; the thread
 * then sends the rest. */
static gboolean live_converged(gpointer opaque)
{
    struct machine *m = opaque;
    struct migration_state *s = ms(m);
    Error *err = NULL;
    int go = 1;

    live_src_ran(s);
    if (g_atomic_int_get(&s->live->cancel)) {
        go = -1;
    } else {
        s->was_running = m->state == RUN_STATE_RUNNING;
        s->gs.state = m->state; /* the "globalstate" section says it */
        s->t_stop = g_get_monotonic_time();
        s->stopped = true;
        machine_pause(m);
        migration_stop_vcpus(m);
        if (!precopy_save_state(s->live, &err)) {
            s->state_err = err;
            go = -1;
        }
    }
    g_mutex_lock(&s->go_lock);
    s->go = go;
    g_cond_signal(&s->go_cond);
    g_mutex_unlock(&s->go_lock);
    return G_SOURCE_REMOVE;
}

/* Main loop, once the thread is done: the end, or the source going on
 * as before. */
static gboolean live_done(gpointer opaque)
{
    struct machine *m = opaque;
    struct migration_state *s = ms(m);
    Error *err = NULL;
    GPid child = s->live_child;

    live_src_ran(s);
    g_thread_join(s->thread); /* orders the thread's results before us */
    s->thread = NULL;
    s->live_child = 0;
    s->total_ms = (g_get_monotonic_time() - s->t0_us) / 1000;
    if (s->live_result != PRECOPY_CONVERGED || s->go < 0) {
        bool cancelled = s->live_result == PRECOPY_CANCELLED ||
                         (s->live_result == PRECOPY_CONVERGED && !s->state_err);

        err = s->state_err ? s->state_err : s->live_err;
        s->state_err = NULL;
        if (s->live_err && err != s->live_err) {
            error_free(s->live_err);
        }
        s->live_err = NULL;
        live_cleanup(m);
        if (child) {
            kill(child, SIGTERM);
        }
        reap(child, NULL);
        live_resume(m);
        if (cancelled || s->status == QAPI_MIGRATION_STATUS_CANCELLING) {
            error_free(err);
            set_status(m, QAPI_MIGRATION_STATUS_CANCELLED);
        } else {
            fail(m, err);
            error_free(err);
        }
        return G_SOURCE_REMOVE;
    }
    live_cleanup(m); /* closes the fd: the reader sees the end */
    s->downtime_ms = (g_get_monotonic_time() - s->t_stop) / 1000;
    if (child) {
        /* the stream is complete when the command has read it: wait for
         * it from the main loop, not in it */
        s->wait_child = child;
        s->child_watch = g_child_watch_source_new(child);
        g_source_set_callback(s->child_watch,
                              (GSourceFunc)(void (*)(void))live_child_exited, m,
                              NULL);
        g_source_attach(s->child_watch, m->ctx);
        return G_SOURCE_REMOVE;
    }
    live_completed(m);
    return G_SOURCE_REMOVE;
}

static gpointer live_thread(gpointer opaque)
{
    struct machine *m = opaque;
    struct migration_state *s = m->migration;
    int go;

    s->live_result = precopy_run(s->live, &s->live_err);
    g_mutex_lock(&s->go_lock);
    if (s->live_result == PRECOPY_CONVERGED) {
        if (!s->go) {
            post_locked(m, live_converged);
        }
        while (!s->go) {
            g_cond_wait(&s->go_cond, &s->go_lock);
        }
    }
    go = s->go;
    g_mutex_unlock(&s->go_lock);
    if (go > 0 && !precopy_complete(s->live, &s->live_err)) {
        s->live_result = g_atomic_int_get(&s->live->cancel) ? PRECOPY_CANCELLED
                                                            : PRECOPY_FAILED;
    }
    g_mutex_lock(&s->go_lock);
    post_locked(m, live_done);
    g_mutex_unlock(&s->go_lock);
    return NULL;
}

/* Dirty logging on, the header, the thread; false (the fd closed, the
 * source as before) if any of it failed. */
static bool live_start(struct machine *m, int fd, GPid child, Error **errp)
{
    struct migration_state *s = ms(m);
    struct precopy *p = g_new0(struct precopy, 1);

    p->downtime_limit_ms = s->downtime_limit;
    p->max_bandwidth = s->max_bandwidth;
    p->on_pass = live_on_pass;
    p->opaque = m;
    s->live = p;
    s->live_fd = fd;
    s->live_child = child;
    s->go = 0;
    s->stopped = false;
    if (!precopy_start(p, m->gm, migration_ram_kvm(m),
                       migration_registry(m, &s->gs), fd, errp)) {
        live_cleanup(m);
        return false;
    }
    s->thread = g_thread_new("migration", live_thread, m);
    return true;
}

void qmp_migrate(struct machine *m, char *uri, bool has_blk, bool blk,
                 bool has_inc, bool inc, bool has_detach, bool detach,
                 bool has_resume, bool resume, Error **errp)
{
    struct migration_state *s = ms(m);
    enum savevm_ram_layout layout;
    bool was_running = m->state == RUN_STATE_RUNNING;
    gint64 t0 = g_get_monotonic_time(), t1;
    Error *err = NULL;
    GPid child = 0;
    bool listening, ok;
    int fd;

    if ((has_blk && blk) || (has_inc && inc)) {
        error_setg(errp, "block migration is not supported (use storage "
                         "that both hosts see)");
        return;
    }
    if (has_resume && resume) {
        error_setg(errp, "migrate: 'resume' (postcopy recovery) is not "
                         "supported");
        return;
    }
    /* QEMU's order: a destination is not "in progress" (its incoming
     * migration is another state) but waits for its stream */
    if (m->state == RUN_STATE_INMIGRATE) {
        error_setg(errp, "Guest is waiting for an incoming migration");
        return;
    }
    /* QEMU's: the state was sent once (and "postmigrate" is no state to
     * leave a destination in) */
    if (m->state == RUN_STATE_POSTMIGRATE) {
        error_setg(errp, "Can't migrate the vm that was paused due to "
                         "previous migration");
        return;
    }
    if (active(m)) {
        error_setg(errp, "There's a migration process in progress");
        return;
    }
    /* SEV guests: memory and state are encrypted (QEMU's blocker text) */
    if (sev_migration_blocked(m->sev, errp)) {
        return;
    }
    for (guint i = 0; i < m->devices->len; i++) {
        const struct device *d = g_ptr_array_index(m->devices, i);

        if (d->cls->unmigratable ||
            (d->cls->migration_blocked && d->cls->migration_blocked(d))) {
            error_setg(errp, "State blocked by non-migratable device '%s'",
                       d->cls->name);
            return;
        }
    }
    /* a dirty-bitmap/dirty-ring measurement holds KVM's dirty log, which
     * the migration turns on and off for itself: it ends now */
    dirtyrate_end_logging(m->dirtyrate);
    g_clear_pointer(&s->error, g_free);
    memset(&s->stats, 0, sizeof(s->stats));
    s->ram_total = m->gm ? m->gm->ram_size : 0;
    s->downtime_ms = s->total_ms = 0;
    s->incoming = false;
    set_status(m, QAPI_MIGRATION_STATUS_SETUP);
    fd = migration_open_uri(m, uri, false, &layout, &child, &listening, &err);
    t1 = g_get_monotonic_time();
    s->setup_ms = (t1 - t0) / 1000;
    if (fd < 0) {
        fail(m, err);
        error_propagate(errp, err);
        return;
    }
    s->t0_us = t0;
    s->dirty_sync_count = 1;
    if (layout != SAVEVM_RAM_FILE) {
        set_status(m, QAPI_MIGRATION_STATUS_ACTIVE);
        if (!live_start(m, fd, child, &err)) {
            reap(child, NULL);
            fail(m, err);
            error_propagate(errp, err);
        }
        return;
    }
    set_status(m, QAPI_MIGRATION_STATUS_ACTIVE);
    if (s->events) {
        qapi_event_send_migration_pass(m, 1);
    }
    /* file: (a snapshot): the whole save happens with the vCPUs stopped
     * (STOP event; the state before it goes into the stream), RAM
     * page-aligned for a mapped restore. */
    ok = migration_save_fd(m, fd, layout, &s->stats, &err);
    close(fd); /* the reader sees the end of the stream */
    ok = reap(child, ok ? &err : NULL) && ok;
    s->total_ms = (g_get_monotonic_time() - t0) / 1000;
    s->downtime_ms = (g_get_monotonic_time() - t1) / 1000;
    if (!ok) {
        fail(m, err);
        error_propagate(errp, err);
        if (was_running) {
            machine_resume(m); /* the source goes on as before */
        }
        return;
    }
    machine_set_state(m, RUN_STATE_POSTMIGRATE);
    set_status(m, QAPI_MIGRATION_STATUS_COMPLETED);
}

/* What an incoming migration holds; the thread is joined. */
static void incoming_cleanup(struct migration_state *s)
{
    if (s->in_watch) {
        g_source_destroy(s->in_watch);
        g_clear_pointer(&s->in_watch, g_source_unref);
    }
    g_clear_pointer(&s->in, migration_load_free);
    if (s->in_fd >= 0) {
        close(s->in_fd);
        s->in_fd = -1;
    }
    if (s->in_wake >= 0) {
        close(s->in_wake);
        s->in_wake = -1;
    }
    if (s->in_cancel >= 0) {
        close(s->in_cancel);
        s->in_cancel = -1;
    }
}

/* QEMU exits when an incoming stream fails: the VM has no state. */
static void incoming_failed(struct machine *m, Error *err)
{
    error_prepend(&err, "load of migration failed: ");
    fail(m, err);
    error_report_err(err);
    machine_request_exit(m, 1);
}

/* Main loop, once the thread has read the whole stream (or failed):
 * apply, start as QEMU does, report. */
static gboolean incoming_done(gint fd, GIOCondition cond, gpointer opaque)
{
    struct machine *m = opaque;
    struct migration_state *s = ms(m);
    GPid child = s->in_child;
    struct migration_globalstate gs = {0};
    Error *err;
    bool ok;

    g_clear_pointer(&s->in_watch, g_source_unref); /* removed on return */
    /* the join orders the thread's results before these reads */
    g_thread_join(s->in_thread);
    s->in_thread = NULL;
    ok = s->in_ok;
    err = s->in_err;
    s->in_err = NULL;
    s->in_child = 0;
    if (ok) {
        ok = migration_load_apply(m, s->in, &err);
        gs = s->in->gs;
    }
    migration_load_stats(s->in, &s->stats);
    incoming_cleanup(s); /* closes the fd: an exec: child sees the end */
    ok = reap(child, ok ? &err : NULL) && ok;
    s->total_ms = (g_get_monotonic_time() - s->t0_us) / 1000;
    if (!ok) {
        incoming_failed(m, err);
        return G_SOURCE_REMOVE;
    }
    /* QEMU's order: the run state first (RESUME), then "completed", so
     * that whoever sees the event finds the VM as it will be.  QEMU's
     * rule: without a global state (an older stream) or with "running",
     * autostart decides (-S, stop / cont while inmigrate); any other
     * state the source was in ("paused", "prelaunch", ...) is entered as
     * it is and the VM does not start, whatever autostart says. */
    if (gs.received && gs.state != RUN_STATE_RUNNING) {
        machine_set_state(m, gs.state);
    } else {
        machine_set_state(m, RUN_STATE_PAUSED);
        if (s->autostart == 1 || (s->autostart < 0 && !m->cfg->start_paused)) {
            machine_resume(m);
        }
    }
    set_status(m, QAPI_MIGRATION_STATUS_COMPLETED);
    return G_SOURCE_REMOVE;
}

static gpointer incoming_thread(gpointer opaque)
{
    struct machine *m = opaque;
    struct migration_state *s = m->migration;
    uint64_t one = 1;

    s->in_ok = migration_load_read(s->in, &s->in_err);
    /* an eventfd write of 1 cannot fail short of a bad fd */
    if (write(s->in_wake, &one, sizeof(one)) != sizeof(one)) {
        g_error("incoming migration: cannot wake the main loop: %s",
                g_strerror(errno));
    }
    return NULL;
}

/* A stream arrived on fd: read it on a thread (incoming_done follows). */
static void incoming_load(struct machine *m, int fd, GPid child)
{
    struct migration_state *s = ms(m);
    Error *err = NULL;

    set_status(m, QAPI_MIGRATION_STATUS_ACTIVE);
    s->in_fd = fd;
    s->in_child = child;
    s->in_wake = eventfd(0, EFD_CLOEXEC);
    s->in_cancel = eventfd(0, EFD_CLOEXEC);
    if (s->in_wake < 0 || s->in_cancel < 0) {
        error_setg_errno(&err, errno, "eventfd");
    } else {
        s->in = migration_load_begin(m, fd, &err);
    }
    if (!s->in) {
        incoming_cleanup(s);
        if (child) {
            kill(child, SIGTERM);
        }
        reap(child, NULL);
        s->in_child = 0;
        incoming_failed(m, err);
        return;
    }
    s->in->r.cancel_fd = s->in_cancel;
    /* on m's context (the main loop's; a test's own) */
    s->in_watch = g_unix_fd_source_new(s->in_wake, G_IO_IN);
    g_source_set_callback(s->in_watch,
                          (GSourceFunc)(void (*)(void))incoming_done, m, NULL);
    g_source_attach(s->in_watch, m->ctx);
    s->in_thread = g_thread_new("migration-in", incoming_thread, m);
}

static gboolean incoming_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct machine *m = opaque;
    struct migration_state *s = ms(m);
    Error *err = NULL;
    int c;

    s->listen_watch = 0;
    s->listen_fd = -1;
    c = migration_accept(fd, &err);
    if (c < 0) {
        fail(m, err);
        error_report_err(err);
        machine_request_exit(m, 1);
        return G_SOURCE_REMOVE;
    }
    incoming_load(m, c, 0);
    return G_SOURCE_REMOVE;
}

static bool incoming_open(struct machine *m, const char *uri, Error **errp)
{
    struct migration_state *s = ms(m);
    enum savevm_ram_layout layout;
    bool listening;
    GPid child;
    int fd;

    s->incoming_started = true;
    s->incoming = true;
    s->t0_us = g_get_monotonic_time();
    memset(&s->stats, 0, sizeof(s->stats));
    s->ram_total = m->gm ? m->gm->ram_size : 0;
    set_status(m, QAPI_MIGRATION_STATUS_SETUP);
    fd = migration_open_uri(m, uri, true, &layout, &child, &listening, errp);
    if (fd < 0) {
        return false;
    }
    if (listening) {
        s->listen_fd = fd;
        s->listen_watch = g_unix_fd_add_full(G_PRIORITY_DEFAULT, fd, G_IO_IN,
                                             incoming_ready, m, NULL);
        return true;
    }
    incoming_load(m, fd, child);
    return true;
}

bool migration_incoming_start(struct machine *m, const char *uri, Error **errp)
{
    machine_set_state(m, RUN_STATE_INMIGRATE);
    if (!strcmp(uri, "defer")) {
        ms(m)->incoming_defer = true;
        return true;
    }
    if (!incoming_open(m, uri, errp)) {
        error_prepend(errp, "-incoming %s: ", uri);
        return false;
    }
    return true;
}

void qmp_migrate_incoming(struct machine *m, char *uri, Error **errp)
{
    struct migration_state *s = ms(m);
    Error *err = NULL;

    /* QEMU 7.2's order: -incoming URI started one too */
    if (s->incoming_started) {
        error_setg(errp, "The incoming migration has already been started");
        return;
    }
    if (!s->incoming_defer) {
        error_setg(errp, "'-incoming' was not specified on the command line");
        return;
    }
    if (!incoming_open(m, uri, &err)) {
        fail(m, err);
        s->incoming_started = false; /* another URI may be tried */
        error_propagate(errp, err);
    }
}

void migration_set_autostart(struct machine *m, bool on)
{
    ms(m)->autostart = on;
}

void qmp_migrate_cancel(struct machine *m, Error **errp)
{
    struct migration_state *s = ms(m);

    /* file: completes before it returns: nothing is in flight then */
    if (s->status == QAPI_MIGRATION_STATUS_CANCELLING ||
        (!s->thread && !s->child_watch)) {
        return;
    }
    set_status(m, QAPI_MIGRATION_STATUS_CANCELLING);
    if (s->child_watch) { /* exec:'s command has not finished reading */
        kill(s->wait_child, SIGTERM);
        return;
    }
    precopy_cancel(s->live);
    /* a write blocked on a destination that does not read returns: a
     * socket shut down, exec:'s command ended (its pipe then breaks) */
    shutdown(s->live_fd, SHUT_RDWR);
    if (s->live_child) {
        kill(s->live_child, SIGTERM);
    }
}

/* The destination's figures: what arrived (QEMU reports the status
 * only).  remaining is the RAM the first pass has yet to bring: pages
 * sent again later are unknown to the destination until they come.  The
 * destination syncs no dirty memory: dirty-sync-count 0. */
static struct qapi_migration_stats *incoming_stats(struct migration_state *s,
                                                   uint64_t ms)
{
    struct qapi_migration_stats *r = g_new0(struct qapi_migration_stats, 1);
    uint64_t pages = s->stats.zero_pages + s->stats.data_pages;

    r->transferred = s->stats.bytes;
    r->total = s->ram_total;
    r->remaining = s->ram_total - MIN(s->ram_total, pages * 4096);
    r->duplicate = s->stats.zero_pages;
    r->normal = s->stats.data_pages;
    r->normal_bytes = s->stats.data_pages * 4096;
    r->mbps = ms ? s->stats.bytes * 8.0 / 1000.0 / ms : 0;
    return r;
}

struct qapi_migration_info *qmp_query_migrate(struct machine *m, Error **errp)
{
    struct migration_state *s = ms(m);
    struct qapi_migration_info *info = g_new0(struct qapi_migration_info, 1);
    struct qapi_migration_stats *r;

    if (s->status == QAPI_MIGRATION_STATUS_NONE) {
        return info; /* {} before the first migration, as QEMU */
    }
    info->has_status = true;
    info->status = s->status;
    if (s->error) {
        info->has_error_desc = true;
        info->error_desc = g_strdup(s->error);
    }
    if (s->incoming && (s->in || s->status == QAPI_MIGRATION_STATUS_COMPLETED ||
                        s->status == QAPI_MIGRATION_STATUS_FAILED)) {
        uint64_t ms = s->in
                          ? (uint64_t)(g_get_monotonic_time() - s->t0_us) / 1000
                          : (uint64_t)s->total_ms;

        if (s->in) { /* the thread is reading: what it has so far */
            migration_load_stats(s->in, &s->stats);
        }
        info->has_ram = true;
        info->ram = incoming_stats(s, ms);
        info->has_total_time = true;
        info->total_time = ms;
        return info;
    }
    if (s->live && (s->status == QAPI_MIGRATION_STATUS_ACTIVE ||
                    s->status == QAPI_MIGRATION_STATUS_CANCELLING)) {
        struct precopy_progress pr;

        /* while the passes run (QEMU's fields) */
        precopy_get_progress(s->live, &pr);
        r = g_new0(struct qapi_migration_stats, 1);
        r->transferred = pr.transferred;
        r->total = s->ram_total;
        r->remaining = pr.remaining;
        r->duplicate = pr.stats.zero_pages;
        r->normal = pr.stats.data_pages;
        r->normal_bytes = pr.stats.data_pages * 4096;
        r->dirty_sync_count = pr.dirty_sync_count;
        r->dirty_pages_rate = pr.dirty_pages_rate;
        r->mbps = pr.mbps;
        info->has_ram = true;
        info->ram = r;
        info->has_total_time = true;
        info->total_time = (g_get_monotonic_time() - s->t0_us) / 1000;
        info->has_setup_time = true;
        info->setup_time = s->setup_ms;
        info->has_expected_downtime = true;
        info->expected_downtime = pr.dirty_sync_count > 1
                                      ? pr.expected_downtime
                                      : (uint64_t)s->downtime_limit;
        return info;
    }
    if (s->status != QAPI_MIGRATION_STATUS_COMPLETED &&
        s->status != QAPI_MIGRATION_STATUS_FAILED &&
        s->status != QAPI_MIGRATION_STATUS_CANCELLED) {
        return info;
    }
    r = g_new0(struct qapi_migration_stats, 1);
    r->transferred = s->stats.bytes;
    r->total = s->ram_total;
    r->remaining = 0;
    r->duplicate = s->stats.zero_pages;
    r->normal = s->stats.data_pages;
    r->normal_bytes = s->stats.data_pages * 4096;
    r->dirty_sync_count = s->dirty_sync_count;
    r->mbps = s->total_ms ? s->stats.bytes * 8.0 / 1000.0 / s->total_ms : 0;
    info->has_ram = true;
    info->ram = r;
    info->has_total_time = true;
    info->total_time = s->total_ms;
    info->has_setup_time = true;
    info->setup_time = s->setup_ms;
    if (s->status == QAPI_MIGRATION_STATUS_COMPLETED) {
        info->has_downtime = true;
        info->downtime = s->downtime_ms;
    }
    return info;
}

void qmp_migrate_set_capabilities(struct machine *m, GPtrArray *caps,
                                  Error **errp)
{
    /* QEMU refuses while an outgoing migration runs; a destination takes
     * them (events) at any time */
    if (active(m) && !ms(m)->incoming) {
        error_setg(errp, "There's a migration process in progress");
        return;
    }
    for (guint i = 0; i < caps->len; i++) {
        struct qapi_migration_capability_status *c = g_ptr_array_index(caps, i);

        if (c->capability == QAPI_MIGRATION_CAPABILITY_EVENTS) {
            ms(m)->events = c->state;
        }
    }
}

GPtrArray *qmp_query_migrate_capabilities(struct machine *m, Error **errp)
{
    GPtrArray *list = g_ptr_array_new();
    struct qapi_migration_capability_status *c =
        g_new0(struct qapi_migration_capability_status, 1);

    c->capability = QAPI_MIGRATION_CAPABILITY_EVENTS;
    c->state = ms(m)->events;
    g_ptr_array_add(list, c);
    return list;
}

void qmp_migrate_set_parameters(struct machine *m, bool has_downtime_limit,
                                int64_t downtime_limit, bool has_max_bandwidth,
                                int64_t max_bandwidth, Error **errp)
{
    /* QEMU's bounds and messages */
    if (has_downtime_limit &&
        (downtime_limit < 0 || downtime_limit > 2000000)) {
        error_setg(errp, "Parameter 'downtime_limit' expects an integer in the "
                         "range of 0 to 2000 seconds");
        return;
    }
    if (has_max_bandwidth && max_bandwidth < 0) {
        error_setg(errp, "Parameter 'max_bandwidth' expects a non-negative "
                         "value");
        return;
    }
    if (has_downtime_limit) {
        ms(m)->downtime_limit = downtime_limit;
    }
    if (has_max_bandwidth) {
        ms(m)->max_bandwidth = max_bandwidth;
    }
    /* a running migration follows them from its next step */
    if (ms(m)->live) {
        __atomic_store_n(&ms(m)->live->downtime_limit_ms, ms(m)->downtime_limit,
                         __ATOMIC_RELAXED);
        __atomic_store_n(&ms(m)->live->max_bandwidth, ms(m)->max_bandwidth,
                         __ATOMIC_RELAXED);
    }
}

struct qapi_migration_parameters *
qmp_query_migrate_parameters(struct machine *m, Error **errp)
{
    struct qapi_migration_parameters *p =
        g_new0(struct qapi_migration_parameters, 1);

    p->has_downtime_limit = true;
    p->downtime_limit = ms(m)->downtime_limit;
    p->has_max_bandwidth = true;
    p->max_bandwidth = ms(m)->max_bandwidth;
    return p;
}
