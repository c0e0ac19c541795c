/* SPDX-License-Identifier: MIT */
/*
 * monitor.h: the monitors of a machine: one per -qmp / -monitor / -mon
 * (cfg->monitors), each a frontend on its chardev.  Control monitors speak
 * QMP; readline monitors speak HMP (`-monitor stdio`).  Everything runs on
 * the main loop; output goes through the chardev, which never blocks.
 *
 * Lifetime: machine setup calls monitor_init_all() once the chardevs
 * exist; the monitors hang off the machine listener they register (no
 * field in struct machine needed), and monitor_free_all() detaches and
 * frees them (call it before the chardevs are freed).
 */
#ifndef QAPI_MONITOR_H
#define QAPI_MONITOR_H

#include "util/common.h"
#include "util/error.h"

struct machine;

/* Attaches a monitor to every cfg->monitors entry and subscribes to
 * machine events.  Fails if a chardev is missing or already in use. */
bool monitor_init_all(struct machine *m, Error **errp);
/* Detaches and frees the monitors (no-op if there are none). */
void monitor_free_all(struct machine *m);
/* How long a QMP client may leave its pending output entirely unread
 * before it is disconnected (default 30 s; tests shorten it). */
void monitor_set_stall_timeout(struct machine *m, unsigned ms);

/* HMP: runs one command line, returns its output (CRLF line ends).
 * cpu_index < 0: the default vCPU (0). */
char *hmp_run(struct machine *m, const char *line, int64_t cpu_index);

/*
 * Machine services the monitor needs that system/machine.h does not
 * declare yet (the lead implements them in system/):
 */
/* Host thread id (gettid) of vCPU `index`'s thread, 0 if not started. */
int machine_vcpu_thread_id(struct machine *m, unsigned index);
/* Injects an NMI into every vCPU (KVM_NMI). */
bool machine_inject_nmi(struct machine *m, Error **errp);

/* The fd getfd kept under name, which moves to the caller (QEMU's
 * monitor_get_fd: "migrate fd:NAME" uses it once), or -1 with an error. */
int qmp_named_fd_take(struct machine *m, const char *name, Error **errp);
/* Closes every fd getfd kept (machine teardown). */
void qmp_named_fds_free(struct machine *m);

#endif
