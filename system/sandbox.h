/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h: seccomp allowlists per thread class (house rule 6).
 *
 * sandbox_install() loads a filter on the calling thread only (threads it
 * creates afterwards inherit it).  The filters are compiled at build time
 * (sandbox-rules.h -> sandbox-gen.c -> sandbox-filters.h) and installed
 * with seccomp(2) directly: vireo does not link libseccomp.  A syscall
 * outside the list raises SIGSYS (SECCOMP_RET_TRAP); the handler writes
 *   "vireo: seccomp: forbidden syscall N (name)"
 * to stderr with async-signal-safe calls and ends the process with
 * _exit(SANDBOX_EXIT_STATUS) (128 + SIGSYS = 159, what a shell shows for a
 * death by SIGSYS).  SIGSYS must not be blocked in sandboxed threads;
 * sandbox_install() unblocks it on the calling thread.
 *
 * Order in main: daemonize, write the pidfile, open logs and chardevs,
 * then sandbox_install(SANDBOX_MAIN).  Each vCPU thread calls
 * sandbox_install(SANDBOX_VCPU) itself before its first KVM_RUN.  A vCPU
 * thread created after the main filter inherits it and stacks the vCPU
 * one (both must allow a call; the main list allows seccomp() for that).
 */
#ifndef SYSTEM_SANDBOX_H
#define SYSTEM_SANDBOX_H

#include "util/common.h"
#include "util/error.h"

enum sandbox_class {
    SANDBOX_MAIN, /* main loop / I/O thread, and threads it spawns */
    SANDBOX_VCPU, /* KVM_RUN loop and device emulation on exits */
    /* block backend workers (hw/block/block-backend.c): the common list
     * only (preadv/pwritev, fdatasync, fallocate, futex, eventfd write) */
    SANDBOX_BLOCK_WORKER,
    SANDBOX_N_CLASSES
};

#define SANDBOX_EXIT_STATUS (128 + 31) /* 128 + SIGSYS */

bool sandbox_install(enum sandbox_class cls, Error **errp);
/* The x86_64 name of a syscall number ("?" when unknown).  Safe in a
 * signal handler. */
const char *sandbox_syscall_name(long nr);

#endif
