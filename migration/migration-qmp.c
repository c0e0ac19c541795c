/* SPDX-License-Identifier: MIT */
/*
 * migration-qmp.c: QMP's migrate, migrate-incoming, query-migrate,
 * migrate_cancel, capabilities and parameters, the MIGRATION and
 * MIGRATION_PASS events, and -incoming (qapi/schema/migration.json).
 *
 * migrate runs to completion before it returns: the vCPUs stop, the
 * stream is written, the run state becomes postmigrate; on any failure
 * the VM goes on as it was (running if it ran).  An incoming unix:/tcp:
 * listens from the main loop so QMP keeps answering until the source
 * connects; the stream itself is then read to the end in one go.
 */
#include "util/common.h"
#include "migration/migration.h"
#include "hw/core/device.h"
#include "sev/sev.h"
#include "qapi/qapi-gen-types.h"
#include "system/guest-mem.h"
#include "system/machine.h"

#include <glib-unix.h>
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
        m->migration->autostart = -1;
    }
    return m->migration;
}

void migration_state_free(struct machine *m)
{
    struct migration_state *s = m->migration;

    if (!s) {
        return;
    }
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
           st == QAPI_MIGRATION_STATUS_ACTIVE;
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

        if (d->cls->unmigratable) {
            error_setg(errp, "State blocked by non-migratable device '%s'",
                       d->cls->name);
            return;
        }
    }
    if (m->state == RUN_STATE_INMIGRATE) {
        error_setg(errp, "Guest is waiting for an incoming migration");
        return;
    }
    g_clear_pointer(&s->error, g_free);
    memset(&s->stats, 0, sizeof(s->stats));
    s->ram_total = m->gm ? m->gm->ram_size : 0;
    s->downtime_ms = s->total_ms = 0;
    set_status(m, QAPI_MIGRATION_STATUS_SETUP);
    fd = migration_open_uri(m, uri, false, &layout, &child, &listening, &err);
    t1 = g_get_monotonic_time();
    s->setup_ms = (t1 - t0) / 1000;
    if (fd < 0) {
        fail(m, err);
        error_propagate(errp, err);
        return;
    }
    set_status(m, QAPI_MIGRATION_STATUS_ACTIVE);
    if (s->events) {
        qapi_event_send_migration_pass(m, 1);
    }
    /* The whole save happens with the vCPUs stopped (STOP event). */
    machine_pause(m);
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
    m->state = RUN_STATE_POSTMIGRATE;
    set_status(m, QAPI_MIGRATION_STATUS_COMPLETED);
}

/* A state arrived on fd: load it and start the VM as QEMU does (running
 * unless -S). */
static void incoming_load(struct machine *m, int fd, GPid child)
{
    Error *err = NULL;
    bool ok;

    set_status(m, QAPI_MIGRATION_STATUS_ACTIVE);
    ok = migration_load_fd(m, fd, &err);
    close(fd);
    ok = reap(child, ok ? &err : NULL) && ok;
    if (!ok) {
        /* QEMU exits when an incoming stream fails: the VM has no state */
        error_prepend(&err, "load of migration failed: ");
        fail(m, err);
        error_report_err(err);
        machine_request_exit(m, 1);
        return;
    }
    set_status(m, QAPI_MIGRATION_STATUS_COMPLETED);
    m->state = RUN_STATE_PAUSED;
    if (ms(m)->autostart == 1 ||
        (ms(m)->autostart < 0 && !m->cfg->start_paused)) {
        machine_resume(m);
    }
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
    m->state = RUN_STATE_INMIGRATE;
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

    if (!s->incoming_defer) {
        error_setg(errp, "'-incoming' was not specified on the command line");
        return;
    }
    if (s->incoming_started) {
        error_setg(errp, "The incoming migration has already been started");
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
    /* migrate completes before it returns: nothing is ever in flight */
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
    if (s->status != QAPI_MIGRATION_STATUS_COMPLETED &&
        s->status != QAPI_MIGRATION_STATUS_FAILED) {
        return info;
    }
    r = g_new0(struct qapi_migration_stats, 1);
    r->transferred = s->stats.bytes;
    r->total = s->ram_total;
    r->remaining = 0;
    r->duplicate = s->stats.zero_pages;
    r->normal = s->stats.data_pages;
    r->normal_bytes = s->stats.data_pages * 4096;
    r->dirty_sync_count = 1;
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
    if (active(m)) {
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
