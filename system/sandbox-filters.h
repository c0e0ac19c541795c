/* SPDX-License-Identifier: MIT */
/*
 * sandbox-filters.h: the compiled seccomp programs (generated at build
 * time by system/sandbox-gen.c from system/sandbox-rules.h).
 *
 * sandbox_progs[] are the programs vireo installs: a binary search tree
 * on the syscall number per thread class.  Where a rule compares against
 * the process id, the program holds SANDBOX_PID_PLACEHOLDER at the
 * instruction indices pid_at[] and sandbox_install() patches in getpid().
 * sandbox_ref_progs[] (sandbox-filters-ref.c, linked only by the unit
 * test) are libseccomp's programs for the same lists, with the same
 * placeholder: the test runs both over every syscall number and a set of
 * argument values and requires the same verdicts.
 */
#ifndef SYSTEM_SANDBOX_FILTERS_H
#define SYSTEM_SANDBOX_FILTERS_H

#include <linux/filter.h>
#include <stdint.h>
#include "system/sandbox.h"

/* (defined the same in sandbox-rules.h) */
#define SANDBOX_PID_PLACEHOLDER 0x7ead5eedU

struct sandbox_prog {
    const struct sock_filter *insns;
    uint16_t len;
    const uint16_t *pid_at; /* instructions whose k is the pid */
    uint16_t n_pid_at;
};

extern const struct sandbox_prog sandbox_progs[SANDBOX_N_CLASSES];
extern const struct sandbox_prog sandbox_ref_progs[SANDBOX_N_CLASSES];

#endif
