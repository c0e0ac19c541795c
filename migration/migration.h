/* SPDX-License-Identifier: MIT */
/*
 * migration.h: a machine's whole state to and from a migration stream
 * (savevm.h): which sections a machine has, stopping the vCPUs around a
 * save, settling their pending reset before a load, and the URIs QEMU's
 * migrate / -incoming accept (file:, fd:, unix:, tcp:, exec:).
 *
 * migration_save_fd moves a stopped machine (a file: snapshot); a live
 * migration runs migration/precopy.h's passes first (migration-qmp.c).
 */
#ifndef MIGRATION_MIGRATION_H
#define MIGRATION_MIGRATION_H

#include "util/common.h"
#include "util/error.h"
#include "migration/precopy.h"
#include "migration/savevm.h"

struct machine;

/* The "globalstate" section (QEMU's name and rule): the source's run state
 * at the moment the final phase stopped it ("running", "paused",
 * "prelaunch", ...).  The destination starts (or not) by the autostart
 * rule when it received none or "running", and otherwise enters the state
 * received and does not start (migration-qmp.c).  A stream of format 1.1
 * or older has no such section. */
struct migration_globalstate {
    int state;     /* enum run_state: source: set before the stop;
                    * destination: the state received */
    bool received; /* destination: the stream carried the section (valid
                    * only after a successful load) */
};

/* The registry of m: fingerprint, global state (gs), devices with state,
 * vCPUs, KVM clock, the in-kernel irqchip (kernel-irqchip=on), RAM. */
struct savevm *migration_registry(struct machine *m,
                                  struct migration_globalstate *gs);
/* Keeps m's run state as the global state, stops m (STOP event if it ran;
 * the vCPUs stay stopped) and writes the whole stream. */
bool migration_save_fd(struct machine *m, int fd, enum savevm_ram_layout layout,
                       struct savevm_stats *stats, Error **errp);
/* Pauses every vCPU (out of KVM_RUN) and settles its pending reset. */
void migration_stop_vcpus(struct machine *m);
/* The KVM accelerator whose slots carry guest RAM (NULL for a machine
 * without guest: its RAM is in no KVM slot). */
struct kvm_accel *migration_ram_kvm(struct machine *m);
/* Loads a whole stream into m, whose vCPUs must not be running; on
 * failure m is as it was.  gs (may be NULL) gets the global state. */
bool migration_load_fd(struct machine *m, int fd,
                       struct migration_globalstate *gs, Error **errp);

/* The same in steps, so that an incoming migration reads its stream on a
 * thread while the main loop answers QMP (migration-qmp.c):
 * migration_load_begin (main loop) stops the vCPUs and builds the
 * registry; migration_load_read (any one thread) reads, checks and stages
 * the whole stream without touching the machine; migration_load_apply
 * (main loop, after a successful read) applies it, or leaves m as it was;
 * migration_load_free ends it either way. */
struct migration_incoming {
    struct migration_globalstate gs; /* once applied: what the stream said */
    struct savevm *sv;
    struct mig_reader r; /* r.cancel_fd may be set to stop a read */
    struct savevm_load *staged;
};
struct migration_incoming *migration_load_begin(struct machine *m, int fd,
                                                Error **errp);
bool migration_load_read(struct migration_incoming *in, Error **errp);
bool migration_load_apply(struct machine *m, struct migration_incoming *in,
                          Error **errp);
void migration_load_free(struct migration_incoming *in);
/* What has arrived so far (bytes read, RAM pages); from any thread. */
void migration_load_stats(struct migration_incoming *in,
                          struct savevm_stats *st);

/* Opens the stream of a migrate (outgoing) or -incoming URI; returns the
 * fd (and, for the pid of exec:, *child) or -1.  The RAM layout is FILE
 * for file: and STREAM otherwise.  Incoming unix:/tcp: return the
 * listening socket with *listening set: accept with migration_accept. */
int migration_open_uri(struct machine *m, const char *uri, bool incoming,
                       enum savevm_ram_layout *layout, GPid *child,
                       bool *listening, Error **errp);
/* Accepts the one connection and closes the listening socket. */
int migration_accept(int ls, Error **errp);

/* The state behind query-migrate, capabilities and parameters
 * (migration-qmp.c); lives in struct machine. */
struct migration_state {
    int status;  /* enum qapi_migration_status */
    bool events; /* capability */
    bool incoming_defer;
    int autostart; /* -1: unless -S; else 0/1 from stop/cont */
    bool incoming_started;
    int64_t downtime_limit, max_bandwidth;
    int64_t setup_ms, total_ms, downtime_ms;
    struct savevm_stats stats;
    uint64_t ram_total;
    char *error;
    int listen_fd;
    guint listen_watch;
    /* a live migration (not file:): the engine runs on `thread`, which
     * posts live_src (never runs anything inline) when it converged and
     * when done; at convergence the main loop stops the vCPUs, captures
     * the device state and sets go (1: send it, -1: abort, with state_err
     * if the capture failed) under go_lock (migration-qmp.c) */
    struct precopy *live;
    GThread *thread;
    enum precopy_result live_result;
    Error *live_err, *state_err;
    GMutex go_lock;
    GCond go_cond;
    int go;
    GSource *live_src;
    bool stopped, was_running;       /* the vCPUs stopped for the completion */
    struct migration_globalstate gs; /* the run state before that stop */
    gint64 t_stop;
    int live_fd;
    GPid live_child;
    GSource *child_watch; /* exec: waiting for the command to exit */
    GPid wait_child;
    gint64 t0_us;
    uint64_t dirty_sync_count; /* of the last migration */
    uint64_t mbps_x1000;
    /* an incoming migration: the stream is read and staged on in_thread,
     * which writes in_wake when done; the main loop applies it
     * (migration-qmp.c).  in_cancel stops the read (quit). */
    bool incoming; /* the last migration was incoming (query-migrate) */
    struct migration_incoming *in;
    GThread *in_thread;
    bool in_ok;
    Error *in_err;
    int in_fd, in_wake, in_cancel;
    GPid in_child;
    GSource *in_watch;
};
/* -incoming URI|defer at start-up (system/main.c): the run state becomes
 * inmigrate; a URI is opened now, the state loaded when it arrives. */
bool migration_incoming_start(struct machine *m, const char *uri, Error **errp);
void migration_state_free(struct machine *m);
/* cont / stop while inmigrate: whether the VM runs once loaded (default:
 * unless -S). */
void migration_set_autostart(struct machine *m, bool on);
/* A migration runs: outgoing (setup, active, cancelling) or incoming
 * (waiting for or reading its stream). */
bool migration_in_progress(struct machine *m);

#endif
