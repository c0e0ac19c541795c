/* SPDX-License-Identifier: MIT */
/*
 * monitor.h: the monitors of a machine: one per -qmp / -monitor / -mon
 * (cfg->monitors), each a frontend on its chardev.  Control monitors speak
 * QMP; readline monitors speak HMP (`-monitor stdio`).  Everything runs on
 * the main loop; output goes through chardev_write(), which never blocks.
 *
 * Lifetime: the lead calls monitor_init_all() once the chardevs exist and
 * monitor_free_all() before they are freed.
 */
#ifndef QAPI_MONITOR_H
#define QAPI_MONITOR_H

#include "util/common.h"
#include "util/error.h"

struct machine;
struct monitor_set;

/* Attaches a monitor to every cfg->monitors entry and subscribes to
 * machine events.  NULL with errp set if a chardev is missing or busy. */
struct monitor_set *monitor_init_all(struct machine *m, Error **errp);
void monitor_free_all(struct monitor_set *set);

/* HMP: runs one command line, returns its output (CRLF line ends).
 * cpu_index < 0: the default vCPU (0). */
char *hmp_run(struct machine *m, const char *line, int64_t cpu_index);

/*
 * Machine services the monitor needs that system/machine.h does not
 * declare yet (the lead implements them in system/):
 */
/* Pauses vCPU `index` if needed, appends x86_cpu_dump() output. */
bool machine_dump_cpu(struct machine *m, unsigned index, GString *out,
                      Error **errp);
/* Host thread id (gettid) of vCPU `index`'s thread, 0 if not started. */
int machine_vcpu_thread_id(struct machine *m, unsigned index);
/* Injects an NMI into every vCPU (KVM_NMI). */
bool machine_inject_nmi(struct machine *m, Error **errp);

#endif
