/* SPDX-License-Identifier: MIT */
/*
 * vcpu.h: one vCPU: its fd, its kvm_run, its thread, and the run/pause/kick
 * state machine.  The exit decoder (exit.c) turns a kvm_run into an
 * exit_action without making any ioctl, so unit tests feed it hand-built
 * structs.
 *
 * The vCPU layer knows the accelerator, two address spaces and a few
 * callbacks (struct vcpu_env), never the machine or a device: whoever
 * creates vCPUs (hw/core/machine.c) fills the env.
 *
 * Lock model: vcpu->lock guards `state` and `request`; it is never held
 * across KVM_RUN.  The machine's pause_all() takes each vcpu->lock in index
 * order.
 */
#ifndef ACCEL_KVM_VCPU_H
#define ACCEL_KVM_VCPU_H

#include "util/common.h"
#include "util/error.h"

#include <pthread.h>
#include <linux/kvm.h>

struct kvm_accel;
struct address_space;
struct vlog;
struct x86_cpu;
struct x86_boot_state;

enum exit_action {
    EXIT_CONTINUE = 0, /* run again */
    EXIT_PAUSE,        /* stop this vCPU until resumed (e.g. debug) */
    EXIT_RESET,        /* request a system reset (triple fault, i8042) */
    EXIT_SHUTDOWN,     /* request a system shutdown (guest poweroff) */
    EXIT_FATAL,        /* stop the VM with a register dump */
};

/* What an exit asks of the whole machine (the env's request callback). */
enum vcpu_request {
    VCPU_REQ_RESET,    /* guest reset (triple fault, KVM system event) */
    VCPU_REQ_SHUTDOWN, /* guest power-off */
    VCPU_REQ_FATAL,    /* host-side error: stop the VM */
};

struct vcpu_env {
    struct kvm_accel *kvm;
    struct address_space *pio, *mmio; /* where IO / MMIO exits go */
    struct vlog *log;
    bool sandbox; /* install the vCPU seccomp filter on the thread */
    /* The BSP's entry state at reset (a directly booted kernel), or NULL
     * for the architectural reset vector. */
    const struct x86_boot_state *(*boot_state)(void *opaque);
    /* Called from the vCPU thread after it parked itself. */
    void (*request)(void *opaque, enum vcpu_request req);
    /* KVM_EXIT_MEMORY_FAULT (guest_memfd VMs, SEV-SNP): the guest touched
     * a page whose private/shared attribute is not the one it asked for;
     * converts it (vCPU thread).  NULL: the exit is fatal. */
    bool (*memory_fault)(void *opaque, const struct kvm_run *run, Error **errp);
    void *opaque;
};

enum vcpu_state {
    VCPU_CREATED = 0,
    VCPU_RUNNING,
    VCPU_PAUSED,
    VCPU_STOPPED, /* thread exited */
};

struct vcpu {
    const struct vcpu_env *env;
    unsigned index;
    int fd;
    /* KVM_GET_STATS_FD, taken at creation because KVM serves that ioctl
     * only between two KVM_RUNs; reading it never waits (-1: none) */
    int stats_fd;
    struct kvm_run *run;
    struct x86_cpu *arch;
    pthread_t thread;
    bool thread_started;

    GMutex lock;
    GCond cond;
    enum vcpu_state state;
    bool want_pause; /* main thread asks to pause */
    bool want_exit;  /* main thread asks the thread to end */
    /* Architectural reset (and boot state) to apply on this vCPU's own
     * thread before it next enters the guest. */
    bool pending_reset;
    /* NMI to inject (KVM_NMI) on the vCPU's own thread before next run. */
    bool pending_nmi;
    /* Host thread id, for query-cpus-fast "thread-id". */
    int tid;

    /* Filled by the exit decoder for EXIT_FATAL and messages. */
    char *fatal_reason;
    /* Counters for `info cpus`/benchmarks. */
    uint64_t exits;
};

/* Pure decode of run->exit_reason; dispatches IO/MMIO to the env's
 * address spaces.  Makes no ioctl. */
enum exit_action kvm_exit_dispatch(struct vcpu *cpu, struct kvm_run *run);
/* Human name of an exit reason ("IO", "MMIO", "HLT", ...). */
const char *kvm_exit_reason_name(uint32_t reason);

/* Creates the vCPU fd and its architectural state. */
/* apic_id is the KVM vCPU id: it must match the APIC id CPUID reports. */
struct vcpu *vcpu_new(const struct vcpu_env *env, unsigned index,
                      uint32_t apic_id, Error **errp);
void vcpu_free(struct vcpu *cpu);
/* Starts the thread; it runs as soon as the machine is resumed. */
bool vcpu_start(struct vcpu *cpu, Error **errp);
/* Asks the thread to leave KVM_RUN (immediate_exit + signal). */
void vcpu_kick(struct vcpu *cpu);
/* Blocks until the vCPU is out of KVM_RUN and parked. */
void vcpu_pause(struct vcpu *cpu);
void vcpu_resume(struct vcpu *cpu);
/* Main thread, vCPU paused or not started: applies a pending reset to the
 * cached register state now, so that what is read before the vCPU runs
 * (`-S` then `info registers`, a migration) is the state it will start
 * from, not what KVM created it with, and a state loaded afterwards is not
 * overwritten by the reset. */
void vcpu_settle_reset(struct vcpu *cpu);
/* Ends the thread and joins it. */
void vcpu_stop_thread(struct vcpu *cpu);
/* Installs the kick signal handler; call once before threads start. */
void vcpu_signals_init(void);

#endif
