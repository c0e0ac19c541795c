/* SPDX-License-Identifier: MIT */
/*
 * runstate.c: the machine's life cycle on the main loop: requests posted by
 * vCPU threads and devices (reset, shutdown, exit), stop/cont, reset, the
 * QMP-visible run state and events, and QEMU's exit statuses.
 *
 * Every machine-wide transition happens here on the main thread: vCPUs are
 * paused first, so devices and CPU state are never reset under a running
 * guest.  Lock model: req_lock guards `requests`/`req_cause` only.
 */
#include "util/common.h"
#include "migration/migration.h"
#include "system/machine.h"
#include "qapi/qapi-gen-types.h"
#include "accel/kvm/vcpu.h"
#include "hw/core/device.h"
#include "target-i386/cpu.h"

#include <glib-unix.h>
#include <signal.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "sev/sev.h"

const char *run_state_name(enum run_state s)
{
    switch (s) {
    case RUN_STATE_PRELAUNCH:
        return "prelaunch";
    case RUN_STATE_RUNNING:
        return "running";
    case RUN_STATE_PAUSED:
        return "paused";
    case RUN_STATE_SHUTDOWN:
        return "shutdown";
    case RUN_STATE_INTERNAL_ERROR:
        return "internal-error";
    case RUN_STATE_GUEST_PANICKED:
        return "guest-panicked";
    case RUN_STATE_INMIGRATE:
        return "inmigrate";
    case RUN_STATE_POSTMIGRATE:
        return "postmigrate";
    }
    return "unknown";
}

/* Our causes are QAPI's ShutdownCause values, in the same order. */
G_STATIC_ASSERT((int)SHUTDOWN_CAUSE_SUBSYSTEM_RESET ==
                (int)QAPI_SHUTDOWN_CAUSE_SUBSYSTEM_RESET);
G_STATIC_ASSERT((int)SHUTDOWN_CAUSE_HOST_ERROR ==
                (int)QAPI_SHUTDOWN_CAUSE_HOST_ERROR);

static enum qapi_shutdown_cause qapi_cause(enum shutdown_cause c)
{
    return (enum qapi_shutdown_cause)c;
}

static bool cause_is_guest(enum shutdown_cause c)
{
    return c == SHUTDOWN_CAUSE_GUEST_SHUTDOWN ||
           c == SHUTDOWN_CAUSE_GUEST_RESET || c == SHUTDOWN_CAUSE_GUEST_PANIC;
}

void machine_add_listener(struct machine *m, const struct machine_listener *l)
{
    g_ptr_array_add(m->listeners, g_memdup2(l, sizeof(*l)));
}

void machine_emit_event(struct machine *m, const char *name,
                        const char *data_json)
{
    for (guint i = 0; i < m->listeners->len; i++) {
        struct machine_listener *l = g_ptr_array_index(m->listeners, i);
        l->event(l->opaque, name, data_json);
    }
}

/*
 * Stops every vCPU at its next exit without waiting (callable from a vCPU
 * thread): after a guest asks for power-off, reset or exit it must not run
 * on and change the outcome (e.g. a debug-exit write after S5).
 */
static void park_vcpus(struct machine *m)
{
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        struct vcpu *cpu = m->vcpus[i];
        g_mutex_lock(&cpu->lock);
        cpu->want_pause = true;
        cpu->run->immediate_exit = 1;
        g_mutex_unlock(&cpu->lock);
        vcpu_kick(cpu);
    }
}

void machine_request(struct machine *m, enum machine_req req,
                     enum shutdown_cause cause)
{
    uint64_t one = 1;

    if (req & (REQ_SHUTDOWN | REQ_RESET | REQ_QUIT | REQ_INTERNAL_ERROR |
               REQ_DEBUG_EXIT)) {
        park_vcpus(m);
    }
    g_mutex_lock(&m->req_lock);
    if (!(m->requests & (REQ_SHUTDOWN | REQ_QUIT | REQ_DEBUG_EXIT))) {
        /* The first terminal request decides the outcome. */
        m->requests |= req;
        if (cause != SHUTDOWN_CAUSE_NONE) {
            m->req_cause = cause;
        }
    }
    g_mutex_unlock(&m->req_lock);
    if (write(m->req_event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        /* The eventfd counter cannot overflow in practice; nothing else
         * can make this write fail. */
    }
}

void machine_request_exit(struct machine *m, int status)
{
    g_mutex_lock(&m->req_lock);
    if (!(m->requests & (REQ_SHUTDOWN | REQ_QUIT | REQ_DEBUG_EXIT))) {
        m->exit_status = status;
    }
    g_mutex_unlock(&m->req_lock);
    machine_request(m, REQ_DEBUG_EXIT, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
}

/*
 * Every change of m->state goes through here: a device with a run_state
 * hook (hw/core/device.h) hears each move into and out of running, after
 * the vCPUs stopped (stop, migration's last phase, shutdown, errors) and
 * before they run again (cont, start-up, an incoming migration's end), as
 * QEMU's vm_state_notify.  runstate.c knows no device type: each class
 * says what quiescing means for it.
 */
void machine_set_state(struct machine *m, enum run_state s)
{
    bool was = m->state == RUN_STATE_RUNNING;
    bool now = s == RUN_STATE_RUNNING;

    m->state = s;
    if (was == now || !m->devices) {
        return;
    }
    for (guint i = 0; i < m->devices->len; i++) {
        device_run_state(g_ptr_array_index(m->devices, i), now);
    }
}

static void pause_vcpus(struct machine *m)
{
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        vcpu_pause(m->vcpus[i]);
    }
}

static void resume_vcpus(struct machine *m)
{
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        vcpu_resume(m->vcpus[i]);
    }
}

void machine_pause(struct machine *m)
{
    if (m->state != RUN_STATE_RUNNING) {
        /* As QEMU: stop in prelaunch (-S) stays in prelaunch. */
        return;
    }
    pause_vcpus(m);
    machine_set_state(m, RUN_STATE_PAUSED);
    qapi_event_send_stop(m);
}

void machine_resume(struct machine *m)
{
    Error *err = NULL;

    if (m->state == RUN_STATE_RUNNING) {
        return;
    }
    /* -S with SEV: LAUNCH_FINISH at the first `cont` (sev/sev.h). */
    if (!sev_machine_finish(m, &err)) {
        error_report_err(err);
        return;
    }
    machine_set_state(m, RUN_STATE_RUNNING);
    resume_vcpus(m);
    qapi_event_send_resume(m);
}

bool machine_reset(struct machine *m, Error **errp)
{
    bool was_running = m->state == RUN_STATE_RUNNING;

    pause_vcpus(m);
    for (guint i = 0; i < m->devices->len; i++) {
        device_reset(g_ptr_array_index(m->devices, i));
    }
    /* The board restores what it loaded (a directly booted kernel has
     * overwritten itself). */
    if (m->type && m->type->reset && !m->type->reset(m, errp)) {
        return false;
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        m->vcpus[i]->pending_reset = true;
    }
    if (was_running) {
        resume_vcpus(m);
    }
    return true;
}

bool machine_system_reset(struct machine *m, enum shutdown_cause cause,
                          Error **errp)
{
    bool ok = machine_reset(m, errp);

    qapi_event_send_reset(m, cause_is_guest(cause), qapi_cause(cause));
    /* As QEMU's main loop: a machine that is not running when it is reset
     * (shut down with -no-shutdown, paused, internal error) is as good as
     * new and waits in prelaunch for "cont".  This is what lets libvirt's
     * reboot (system_reset then cont after the guest powered off) work. */
    if (m->state != RUN_STATE_RUNNING && m->state != RUN_STATE_INMIGRATE) {
        machine_set_state(m, RUN_STATE_PRELAUNCH);
    }
    return ok;
}

static void do_quit(struct machine *m)
{
    pause_vcpus(m);
    m->quitting = true;
    g_main_loop_quit(m->loop);
}

static void handle_requests(struct machine *m)
{
    unsigned req;
    enum shutdown_cause cause;

    g_mutex_lock(&m->req_lock);
    req = m->requests;
    cause = m->req_cause;
    m->requests = 0;
    m->req_cause = SHUTDOWN_CAUSE_NONE;
    g_mutex_unlock(&m->req_lock);

    if (req & REQ_DEBUG_EXIT) {
        do_quit(m);
        return;
    }
    if (req & REQ_INTERNAL_ERROR) {
        pause_vcpus(m);
        machine_set_state(m, RUN_STATE_INTERNAL_ERROR);
        qapi_event_send_stop(m);
        if (m->cfg->monitors->len == 0) {
            /* Nobody can inspect or resume the VM: report and exit. */
            m->exit_status = 1;
            do_quit(m);
        }
        return;
    }
    if (req & REQ_QUIT) {
        if (cause == SHUTDOWN_CAUSE_NONE) {
            cause = SHUTDOWN_CAUSE_HOST_QMP_QUIT;
        }
        qapi_event_send_shutdown(m, false, qapi_cause(cause));
        do_quit(m);
        return;
    }
    /* SEV-ES/SNP: the vCPUs' state is encrypted and cannot be reset;
     * QEMU turns the reset into a shutdown, so does vireo. */
    if (req & REQ_RESET && !sev_cpus_resettable(m)) {
        error_report("cpus are not resettable, terminating");
        req |= REQ_SHUTDOWN;
    }
    if (req & REQ_SHUTDOWN ||
        (req & REQ_RESET && m->cfg->no_reboot && cause_is_guest(cause))) {
        qapi_event_send_shutdown(m, cause_is_guest(cause), qapi_cause(cause));
        if (m->cfg->no_shutdown) {
            pause_vcpus(m);
            machine_set_state(m, RUN_STATE_SHUTDOWN);
            qapi_event_send_stop(m);
            return;
        }
        do_quit(m);
        return;
    }
    if (req & REQ_RESET) {
        Error *err = NULL;
        if (cause == SHUTDOWN_CAUSE_NONE) {
            cause = SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET;
        }
        if (!machine_system_reset(m, cause, &err)) {
            error_report_err(err);
        }
        /* A guest-triggered reset parked the vCPUs; run them again. */
        if (m->state == RUN_STATE_RUNNING) {
            resume_vcpus(m);
        }
    }
    if (req & REQ_POWERDOWN) {
        qapi_event_send_powerdown(m);
        if (!m->type->no_guest) {
            machine_press_power_button(m);
        }
    }
}

static gboolean on_request(gint fd, GIOCondition cond, gpointer opaque)
{
    uint64_t v;

    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
        return G_SOURCE_CONTINUE;
    }
    handle_requests(opaque);
    return G_SOURCE_CONTINUE;
}

/*
 * SIGTERM/SIGINT/SIGHUP arrive through a signalfd so we can say who sent
 * them, as QEMU does; they are blocked in every thread (the mask is set
 * before any thread starts and inherited).
 */
static gboolean on_signal(gint fd, GIOCondition cond, gpointer opaque)
{
    struct machine *m = opaque;
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof(si)) == sizeof(si)) {
        fprintf(stderr, "vireo: terminating on signal %u from pid %u\n",
                si.ssi_signo, si.ssi_pid);
        machine_request(m, REQ_QUIT, SHUTDOWN_CAUSE_HOST_SIGNAL);
    }
    return G_SOURCE_CONTINUE;
}

bool machine_runstate_init(struct machine *m, Error **errp)
{
    GSource *src;
    sigset_t set;

    g_mutex_init(&m->req_lock);
    m->listeners = g_ptr_array_new_with_free_func(g_free);
    m->signal_fd = -1;
    m->req_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->req_event_fd < 0) {
        error_setg_errno(errp, errno, "eventfd failed");
        return false;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    m->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (m->signal_fd < 0) {
        error_setg_errno(errp, errno, "signalfd failed");
        return false;
    }
    m->ctx = g_main_context_ref(g_main_context_default());
    m->loop = g_main_loop_new(m->ctx, FALSE);
    src = g_unix_fd_source_new(m->req_event_fd, G_IO_IN);
    g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_request, m,
                          NULL);
    g_source_attach(src, m->ctx);
    g_source_unref(src);
    src = g_unix_fd_source_new(m->signal_fd, G_IO_IN);
    g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_signal, m, NULL);
    g_source_attach(src, m->ctx);
    g_source_unref(src);
    return true;
}

int machine_run(struct machine *m)
{
    /* -S: stay in prelaunch (QEMU's state name) until the first cont. */
    machine_set_state(m, RUN_STATE_PRELAUNCH);
    if (m->cfg->incoming) {
        Error *err = NULL;

        /* inmigrate until a state is loaded (migration.c starts it) */
        if (!migration_incoming_start(m, m->cfg->incoming, &err)) {
            error_report_err(err);
            return 1;
        }
    } else if (!m->cfg->start_paused) {
        machine_set_state(m, RUN_STATE_RUNNING);
        resume_vcpus(m);
    }
    g_main_loop_run(m->loop);
    return m->exit_status;
}
