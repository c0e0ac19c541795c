/* SPDX-License-Identifier: MIT */
/*
 * vcpu.c: one thread per vCPU around KVM_RUN, and the pause/resume/kick
 * protocol.  A kick sets kvm_run.immediate_exit under the vCPU lock and
 * then signals the thread, so a vCPU either leaves KVM_RUN with EINTR or
 * never enters it: there is no window where a pause request is missed.
 * Machine-wide consequences of an exit (reset, shutdown, fatal error) are
 * posted to the main loop; the vCPU parks itself until told to go on.
 */
#include "util/common.h"
#include "accel/kvm/vcpu.h"
#include "accel/kvm/stats.h"
#include "accel/kvm/kvm.h"
#include "system/sandbox.h"
#include "util/log.h"
#include "target-i386/cpu.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define SIG_KICK SIGUSR1

static void kick_handler(int sig)
{
    /* Nothing to do: the signal exists to make KVM_RUN return EINTR. */
}

void vcpu_signals_init(void)
{
    struct sigaction sa = {0};

    sa.sa_handler = kick_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN must see EINTR */
    sigaction(SIG_KICK, &sa, NULL);
}

struct vcpu *vcpu_new(const struct vcpu_env *env, unsigned index,
                      uint32_t apic_id, Error **errp)
{
    struct vcpu *cpu = g_new0(struct vcpu, 1);

    cpu->env = env;
    cpu->index = index;
    cpu->fd = -1;
    cpu->stats_fd = -1;
    g_mutex_init(&cpu->lock);
    g_cond_init(&cpu->cond);
    cpu->want_pause = true;
    cpu->pending_reset = true;
    cpu->fd = kvm_create_vcpu(env->kvm, apic_id, &cpu->run, errp);
    if (cpu->fd < 0) {
        goto fail;
    }
    /* none only leaves query-stats without this vCPU's (it says so) */
    cpu->stats_fd = kvm_stats_vcpu_fd(env->kvm, cpu->fd);
    return cpu;
fail:
    vcpu_free(cpu);
    return NULL;
}

void vcpu_free(struct vcpu *cpu)
{
    if (!cpu) {
        return;
    }
    vcpu_stop_thread(cpu);
    if (cpu->arch) {
        x86_cpu_free(cpu->arch);
    }
    if (cpu->run) {
        munmap(cpu->run, cpu->env->kvm->vcpu_mmap_size);
    }
    if (cpu->stats_fd >= 0) {
        close(cpu->stats_fd);
    }
    if (cpu->fd >= 0) {
        kvm_dirty_ring_remove_vcpu(cpu->env->kvm, cpu->fd);
        close(cpu->fd);
    }
    g_free(cpu->fatal_reason);
    g_mutex_clear(&cpu->lock);
    g_cond_clear(&cpu->cond);
    g_free(cpu);
}

static bool complete_pending_io(struct vcpu *cpu, Error **errp);
static void report_fatal(struct vcpu *cpu, const char *what);

/* Parks until runnable; false when the thread must end.  *nmi takes
 * (and clears) a pending NMI in the same locked section, so the exit path
 * takes the vCPU lock once per KVM_RUN. */
static bool wait_runnable(struct vcpu *cpu, bool *nmi)
{
    bool ok;

    g_mutex_lock(&cpu->lock);
    while (cpu->want_pause && !cpu->want_exit) {
        if (cpu->state != VCPU_PAUSED && cpu->run &&
            (cpu->run->exit_reason == KVM_EXIT_IO ||
             cpu->run->exit_reason == KVM_EXIT_MMIO)) {
            /* An IN or MMIO read is still owed its data: KVM writes it into
             * the registers on the next KVM_RUN.  Complete it before
             * parking, so that the registers read while paused (a
             * migration, `info registers`) are the final ones and nothing
             * lands on them after a state is loaded. */
            Error *err = NULL;

            g_mutex_unlock(&cpu->lock);
            if (!complete_pending_io(cpu, &err)) {
                report_fatal(cpu, error_get_pretty(err));
                error_free(err);
            }
            g_mutex_lock(&cpu->lock);
            continue;
        }
        if (cpu->state != VCPU_PAUSED) {
            cpu->state = VCPU_PAUSED;
            g_cond_broadcast(&cpu->cond);
        }
        g_cond_wait(&cpu->cond, &cpu->lock);
    }
    ok = !cpu->want_exit;
    if (ok) {
        cpu->state = VCPU_RUNNING;
        cpu->run->immediate_exit = 0;
    }
    *nmi = cpu->pending_nmi;
    cpu->pending_nmi = false;
    g_mutex_unlock(&cpu->lock);
    return ok;
}

/* Parks this vCPU (from its own thread) after an exit that needs the main
 * loop, so it never runs the guest past a reset or shutdown point. */
static void self_pause(struct vcpu *cpu)
{
    g_mutex_lock(&cpu->lock);
    cpu->want_pause = true;
    g_mutex_unlock(&cpu->lock);
}

static void report_fatal(struct vcpu *cpu, const char *what)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "vCPU %u: %s\n", cpu->index, what);
    x86_cpu_dump(cpu->arch, s);
    fputs(s->str, stderr);
    g_string_free(s, TRUE);
}

static bool inject_nmi(struct vcpu *cpu, bool nmi, Error **errp)
{
    int r;

    if (!nmi) {
        return true;
    }
    r = kvm_ioctl(cpu->env->kvm, cpu->fd, KVM_NMI, NULL);
    if (r < 0) {
        error_setg_errno(errp, -r, "vCPU %u: KVM_NMI failed", cpu->index);
        return false;
    }
    return true;
}

/*
 * KVM finishes an IN or MMIO read on the next KVM_RUN by writing the data
 * into the guest's registers.  Before we overwrite the registers (reset),
 * that completion must happen, or it would clobber the reset state: run
 * once with immediate_exit set, which completes the I/O and returns.
 */
static bool complete_pending_io(struct vcpu *cpu, Error **errp)
{
    int r;

    if (cpu->run->exit_reason != KVM_EXIT_IO &&
        cpu->run->exit_reason != KVM_EXIT_MMIO) {
        return true;
    }
    cpu->run->immediate_exit = 1;
    r = kvm_ioctl(cpu->env->kvm, cpu->fd, KVM_RUN, NULL);
    cpu->run->immediate_exit = 0;
    cpu->run->exit_reason = KVM_EXIT_INTR;
    x86_cpu_invalidate(cpu->arch);
    if (r < 0 && r != -EINTR) {
        error_setg_errno(errp, -r, "vCPU %u: completing I/O before reset",
                         cpu->index);
        return false;
    }
    return true;
}

/* The architectural reset state in the cache, and for the BSP the board's
 * entry state (a directly booted kernel) on top. */
static void load_reset_state(struct vcpu *cpu)
{
    const struct vcpu_env *env = cpu->env;
    const struct x86_boot_state *boot = NULL;

    x86_cpu_reset(cpu->arch, cpu->index == 0);
    if (cpu->index == 0 && env->boot_state) {
        boot = env->boot_state(env->opaque);
    }
    if (boot) {
        x86_cpu_apply_boot_state(cpu->arch, boot);
    }
}

static bool apply_pending_reset(struct vcpu *cpu, Error **errp)
{
    if (!cpu->pending_reset) {
        return true;
    }
    cpu->pending_reset = false;
    if (!complete_pending_io(cpu, errp)) {
        return false;
    }
    load_reset_state(cpu);
    return x86_cpu_put(cpu->arch, X86_PUT_RESET, errp);
}

void vcpu_settle_reset(struct vcpu *cpu)
{
    bool pending;

    g_mutex_lock(&cpu->lock);
    /* A vCPU that paused itself (reset, shutdown) may not have parked yet:
     * its thread still owns the state, leave the reset to it. */
    pending = cpu->pending_reset && cpu->state != VCPU_RUNNING;
    if (pending) {
        cpu->pending_reset = false;
    }
    g_mutex_unlock(&cpu->lock);
    if (!pending) {
        return;
    }
    /* A parked vCPU owes no I/O (wait_runnable completed it); one that
     * never ran has none.  The cache now holds the reset state, all dirty,
     * and the vCPU thread writes it at RESET level before it runs. */
    load_reset_state(cpu);
}

/* Consecutive KVM_EXIT_DIRTY_RING_FULL exits that harvested nothing
 * before the vCPU is stopped as broken: one happens when the migration
 * thread harvested first (the ring is then free), a run of them means KVM
 * keeps the ring full whatever vireo resets. */
#define RING_FULL_NO_PROGRESS_MAX 16

/* KVM_EXIT_DIRTY_RING_FULL: KVM will not enter the guest again until the
 * ring has room, so this thread harvests every ring itself (the migration
 * thread's next sync gets the pages) and runs on.  False: stop the vCPU
 * (KVM refused the reset, or makes no progress), never spin. */
static bool ring_full(struct vcpu *cpu, unsigned *no_progress, Error **errp)
{
    unsigned n = 0;

    if (!kvm_dirty_ring_full(cpu->env->kvm, &n, errp)) {
        error_prepend(errp, "dirty ring full: ");
        return false;
    }
    *no_progress = n ? 0 : *no_progress + 1;
    if (*no_progress >= RING_FULL_NO_PROGRESS_MAX) {
        error_setg(errp, "KVM keeps reporting the dirty ring full, but it "
                         "holds no entry to harvest");
        return false;
    }
    return true;
}

/* A host-side error on this vCPU: report it with the registers, park,
 * and ask the machine to stop. */
static void stop_fatal(struct vcpu *cpu, Error **err)
{
    report_fatal(cpu, error_get_pretty(*err));
    error_free(*err);
    *err = NULL;
    self_pause(cpu);
    cpu->env->request(cpu->env->opaque, VCPU_REQ_FATAL);
}

static void *vcpu_thread(void *opaque)
{
    struct vcpu *cpu = opaque;
    const struct vcpu_env *env = cpu->env;
    Error *err = NULL;
    bool nmi = false;
    unsigned ring_no_progress = 0;
    char name[16];
    sigset_t set;

    cpu->tid = gettid();
    /* named from inside: pthread_setname_np() on another thread opens and
     * writes /proc/self/task/TID/comm */
    snprintf(name, sizeof(name), "CPU %u/KVM", cpu->index);
    prctl(PR_SET_NAME, name, 0, 0, 0);
    sigemptyset(&set);
    sigaddset(&set, SIG_KICK);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    if (env->sandbox && !sandbox_install(SANDBOX_VCPU, &err)) {
        error_prepend(&err, "vCPU %u: ", cpu->index);
        error_report_err(err);
        env->request(env->opaque, VCPU_REQ_FATAL);
        goto out;
    }

    while (wait_runnable(cpu, &nmi)) {
        int r;
        enum exit_action act;

        if (!apply_pending_reset(cpu, &err) || !inject_nmi(cpu, nmi, &err) ||
            !x86_cpu_put(cpu->arch, X86_PUT_RUNTIME, &err)) {
            stop_fatal(cpu, &err);
            continue;
        }
        r = kvm_ioctl(env->kvm, cpu->fd, KVM_RUN, NULL);
        x86_cpu_invalidate(cpu->arch);
        if (r < 0) {
            if (r == -EINTR || r == -EAGAIN) {
                continue;
            }
            char *msg = g_strdup_printf("KVM_RUN failed: %s", g_strerror(-r));
            report_fatal(cpu, msg);
            g_free(msg);
            self_pause(cpu);
            env->request(env->opaque, VCPU_REQ_FATAL);
            continue;
        }
        if (cpu->run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
            if (!ring_full(cpu, &ring_no_progress, &err)) {
                stop_fatal(cpu, &err);
            }
            continue;
        }
        ring_no_progress = 0;
        act = kvm_exit_dispatch(cpu, cpu->run);
        switch (act) {
        case EXIT_CONTINUE:
            break;
        case EXIT_PAUSE:
            self_pause(cpu);
            break;
        case EXIT_RESET:
            if (env->log && (env->log->mask & VLOG_CPU_RESET)) {
                GString *s = g_string_new(NULL);
                g_string_append_printf(s, "CPU Reset (CPU %u)\n", cpu->index);
                x86_cpu_dump(cpu->arch, s);
                vlog_msg(env->log, VLOG_CPU_RESET, "%s", s->str);
                g_string_free(s, TRUE);
            }
            self_pause(cpu);
            env->request(env->opaque, VCPU_REQ_RESET);
            break;
        case EXIT_SHUTDOWN:
            self_pause(cpu);
            env->request(env->opaque, VCPU_REQ_SHUTDOWN);
            break;
        case EXIT_FATAL:
            report_fatal(cpu,
                         cpu->fatal_reason ? cpu->fatal_reason : "fatal exit");
            self_pause(cpu);
            env->request(env->opaque, VCPU_REQ_FATAL);
            break;
        }
    }
out:
    g_mutex_lock(&cpu->lock);
    cpu->state = VCPU_STOPPED;
    g_cond_broadcast(&cpu->cond);
    g_mutex_unlock(&cpu->lock);
    return NULL;
}

bool vcpu_start(struct vcpu *cpu, Error **errp)
{
    int r = pthread_create(&cpu->thread, NULL, vcpu_thread, cpu);

    if (r) {
        error_setg_errno(errp, r, "vCPU %u: cannot create thread", cpu->index);
        return false;
    }
    cpu->thread_started = true;
    return true;
}

void vcpu_kick(struct vcpu *cpu)
{
    g_mutex_lock(&cpu->lock);
    cpu->run->immediate_exit = 1;
    g_mutex_unlock(&cpu->lock);
    if (cpu->thread_started && !pthread_equal(cpu->thread, pthread_self())) {
        pthread_kill(cpu->thread, SIG_KICK);
    }
}

/* True when the vCPU thread waits on its condition variable (or has
 * ended): it is not in KVM_RUN, a broadcast reaches it and no signal is
 * needed.  Call with the vCPU lock held. */
static bool parked(const struct vcpu *cpu)
{
    return cpu->state == VCPU_PAUSED || cpu->state == VCPU_STOPPED;
}

void vcpu_pause(struct vcpu *cpu)
{
    bool kick;

    g_mutex_lock(&cpu->lock);
    cpu->want_pause = true;
    cpu->run->immediate_exit = 1;
    /* a vCPU that paused itself (reset, shutdown) is parked already */
    kick = !parked(cpu);
    g_mutex_unlock(&cpu->lock);
    if (!cpu->thread_started || !kick) {
        return;
    }
    pthread_kill(cpu->thread, SIG_KICK);
    g_mutex_lock(&cpu->lock);
    while (cpu->state == VCPU_RUNNING || cpu->state == VCPU_CREATED) {
        gint64 end = g_get_monotonic_time() + 10 * G_TIME_SPAN_MILLISECOND;
        if (!g_cond_wait_until(&cpu->cond, &cpu->lock, end)) {
            /* The signal may have landed just before KVM_RUN while
             * immediate_exit was being cleared; kick again. */
            cpu->run->immediate_exit = 1;
            pthread_kill(cpu->thread, SIG_KICK);
        }
    }
    g_mutex_unlock(&cpu->lock);
}

void vcpu_resume(struct vcpu *cpu)
{
    g_mutex_lock(&cpu->lock);
    cpu->want_pause = false;
    g_cond_broadcast(&cpu->cond);
    g_mutex_unlock(&cpu->lock);
}

void vcpu_stop_thread(struct vcpu *cpu)
{
    bool kick;

    if (!cpu->thread_started) {
        return;
    }
    g_mutex_lock(&cpu->lock);
    cpu->want_exit = true;
    cpu->run->immediate_exit = 1;
    g_cond_broadcast(&cpu->cond);
    kick = !parked(cpu);
    g_mutex_unlock(&cpu->lock);
    if (kick) {
        pthread_kill(cpu->thread, SIG_KICK);
    }
    pthread_join(cpu->thread, NULL);
    cpu->thread_started = false;
}
