/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h: seccomp allowlists per thread class (-sandbox on).  A syscall
 * outside the list of the calling thread's class kills the process with a
 * message naming it.
 */
#ifndef SYSTEM_SANDBOX_H
#define SYSTEM_SANDBOX_H

#include "util/common.h"
#include "util/error.h"

enum sandbox_class {
    SANDBOX_MAIN, /* main loop / I/O thread */
    SANDBOX_VCPU, /* vCPU threads */
};

/* Installs the filter for the calling thread (and threads it creates). */
bool sandbox_install(enum sandbox_class cls, Error **errp);

#endif
