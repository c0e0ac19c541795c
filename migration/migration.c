/* SPDX-License-Identifier: MIT */
/*
 * migration.c: see migration.h.  The stream is vireo's own
 * (docs/migration-format.md), so both ends must be vireo.
 *
 * Order of a save: every vCPU is paused (out of KVM_RUN, an owed I/O
 * completed: accel/kvm/vcpu.c) and its pending reset settled, then the
 * devices are saved under their locks, the vCPUs, the clock, RAM.  A
 * device with I/O in flight finishes it in its vmsd pre_save, under its
 * lock and before RAM is written (virtio: virtio_model_pre_save), so the
 * stream holds no half-done request and RAM has the results.  A load
 * reads and checks the whole stream before it applies anything
 * (savevm.c); the vCPU states then go to KVM whole, in KVM's order, at the
 * vCPU threads' next put, in place of the reset they had pending.
 */
#include "util/common.h"
#include "migration/migration.h"
#include "accel/kvm/kvm.h"
#include "accel/kvm/vcpu.h"
#include "hw/core/device.h"
#include "qapi/monitor.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "target-i386/cpu.h"
#include "target-i386/machine.h"
#include "util/socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the "globalstate" section: body = the run state's QMP name ---- */

#define GLOBALSTATE_NAME_MAX 32 /* longer than any run state name */

static bool globalstate_save(void *opaque, GByteArray *out, Error **errp)
{
    const struct migration_globalstate *gs = opaque;
    const char *name = run_state_name(gs->state);

    g_byte_array_append(out, (const uint8_t *)name, strlen(name));
    return true;
}

/* The states a destination can be left in: what a source can be in when
 * migrate stops it (not inmigrate: it refuses; not postmigrate: QEMU's
 * refusal, qmp_migrate). */
static bool globalstate_for_destination(enum run_state s)
{
    return s != RUN_STATE_INMIGRATE && s != RUN_STATE_POSTMIGRATE;
}

static void *globalstate_stage(void *opaque, const uint8_t *body, size_t len,
                               Error **errp)
{
    char shown[GLOBALSTATE_NAME_MAX + 1];
    int *staged;

    if (len == 0 || len > GLOBALSTATE_NAME_MAX) {
        error_setg(errp, "run state name of %zu bytes (1..%d)", len,
                   GLOBALSTATE_NAME_MAX);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        shown[i] = g_ascii_isprint(body[i]) ? body[i] : '?';
    }
    shown[len] = 0;
    for (int s = RUN_STATE_PRELAUNCH; s <= RUN_STATE_POSTMIGRATE; s++) {
        const char *name = run_state_name(s);

        if (strlen(name) != len || memcmp(name, body, len)) {
            continue;
        }
        if (!globalstate_for_destination(s)) {
            error_setg(errp,
                       "run state '%s' cannot be a destination's run state",
                       shown);
            return NULL;
        }
        staged = g_new(int, 1);
        *staged = s;
        return staged;
    }
    error_setg(errp, "unknown run state '%s'", shown);
    return NULL;
}

static bool globalstate_commit(void *opaque, void *staged, Error **errp)
{
    struct migration_globalstate *gs = opaque;

    gs->state = *(int *)staged;
    gs->received = true;
    return true;
}

static const struct savevm_ops globalstate_ops = {
    .version = 1,
    .optional = true, /* format 1.1 and older: not in the stream */
    .save = globalstate_save,
    .stage = globalstate_stage,
    .commit = globalstate_commit,
    .free_staged = g_free,
};

struct savevm *migration_registry(struct machine *m,
                                  struct migration_globalstate *gs)
{
    const struct machine_config *cfg = m->cfg;
    const struct machine_type *t = m->type ? m->type : machine_type_default();
    struct savevm *sv = savevm_new(t->name);
    GString *devs = g_string_new(NULL);

    savevm_fingerprint_add(sv, "ram", "%" PRIu64, m->gm ? m->gm->ram_size : 0);
    savevm_fingerprint_add(sv, "cpu", "%s",
                           cfg->cpu_model ? cfg->cpu_model : "qemu64");
    savevm_fingerprint_add(sv, "smp", "%u", m->nr_vcpus);
    /* the none machine may run with no accelerator: no KVM state */
    savevm_fingerprint_add(sv, "irqchip", "%s",
                           !m->kvm                             ? "none"
                           : m->kvm->irqchip == KVM_IRQCHIP_ON ? "on"
                                                               : "split");
    savevm_register_ops(sv, "globalstate", 0, &globalstate_ops, gs);
    for (guint i = 0; i < m->devices->len; i++) {
        struct device *d = g_ptr_array_index(m->devices, i);
        uint32_t instance = 0;

        for (guint j = 0; j < i; j++) {
            struct device *o = g_ptr_array_index(m->devices, j);

            instance += o->cls == d->cls;
        }
        g_string_append_printf(devs, "%s%s", i ? "," : "", d->cls->name);
        if (d->id) {
            g_string_append_printf(devs, "#%s", d->id);
        }
        /* a class without state (port80, debug-exit) has no section */
        if (d->cls->vmsd) {
            savevm_register_vmsd(sv, d->cls->name, instance, d->cls->vmsd, d,
                                 &d->lock);
        }
    }
    savevm_fingerprint_add(sv, "devices", "%s", devs->str);
    g_string_free(devs, TRUE);
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        savevm_register_ops(sv, "cpu", i, &x86_cpu_savevm_ops,
                            m->vcpus[i]->arch);
    }
    if (m->kvm) {
        savevm_register_ops(sv, "kvmclock", 0, &x86_kvmclock_savevm_ops,
                            m->kvm);
    }
    if (m->kvm && m->kvm->irqchip == KVM_IRQCHIP_ON) {
        savevm_register_ops(sv, "kvm-irqchip", 0, &x86_kvm_irqchip_savevm_ops,
                            m->kvm);
    }
    if (m->gm) {
        savevm_register_ram(sv, m->gm);
    }
    return sv;
}

/* vCPU state is read and written only with every vCPU out of KVM_RUN. */
void migration_stop_vcpus(struct machine *m)
{
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        vcpu_pause(m->vcpus[i]);
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        vcpu_settle_reset(m->vcpus[i]);
    }
}

bool migration_save_fd(struct machine *m, int fd, enum savevm_ram_layout layout,
                       struct savevm_stats *stats, Error **errp)
{
    struct migration_globalstate gs = {.state = m->state};
    struct savevm *sv;
    struct mig_writer w;
    bool ok;

    machine_pause(m);
    migration_stop_vcpus(m);
    sv = migration_registry(m, &gs);
    mig_writer_init(&w, fd);
    ok = savevm_save(sv, &w, layout, errp);
    ok = mig_writer_finish(&w, ok ? errp : NULL) && ok;
    if (stats) {
        *stats = *savevm_get_stats(sv);
    }
    savevm_free(sv);
    return ok;
}

struct kvm_accel *migration_ram_kvm(struct machine *m)
{
    return m->kvm && !m->type->no_guest ? m->kvm : NULL;
}

struct migration_incoming *migration_load_begin(struct machine *m, int fd,
                                                Error **errp)
{
    struct migration_incoming *in;

    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        g_mutex_lock(&m->vcpus[i]->lock);
        if (m->vcpus[i]->state == VCPU_RUNNING) {
            g_mutex_unlock(&m->vcpus[i]->lock);
            error_setg(errp, "cannot load a state while vCPU %u runs", i);
            return NULL;
        }
        g_mutex_unlock(&m->vcpus[i]->lock);
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        vcpu_pause(m->vcpus[i]);
    }
    in = g_new0(struct migration_incoming, 1);
    /* what a rollback would put back: no stage accepts it */
    in->gs.state = RUN_STATE_INMIGRATE;
    in->sv = migration_registry(m, &in->gs);
    mig_reader_init_fd(&in->r, fd);
    return in;
}

bool migration_load_read(struct migration_incoming *in, Error **errp)
{
    in->staged = savevm_load_read(in->sv, &in->r, errp);
    return in->staged != NULL;
}

void migration_load_stats(struct migration_incoming *in,
                          struct savevm_stats *st)
{
    savevm_load_stats(in->sv, st);
    st->bytes = mig_reader_received(&in->r);
}

void migration_load_free(struct migration_incoming *in)
{
    if (!in) {
        return;
    }
    savevm_load_discard(in->staged);
    mig_reader_fini(&in->r);
    savevm_free(in->sv);
    g_free(in);
}

bool migration_load_apply(struct machine *m, struct migration_incoming *in,
                          Error **errp)
{
    struct savevm_load *ld = in->staged;

    in->staged = NULL;
    if (!savevm_load_apply(ld, errp)) {
        in->gs.received = false;
        return false;
    }
    /* The loaded state replaces the reset a vCPU had pending (a refused
     * stream leaves it pending, the machine exactly as it was). */
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        g_mutex_lock(&m->vcpus[i]->lock);
        m->vcpus[i]->pending_reset = false;
        g_mutex_unlock(&m->vcpus[i]->lock);
    }
    return true;
}

bool migration_load_fd(struct machine *m, int fd,
                       struct migration_globalstate *gs, Error **errp)
{
    struct migration_incoming *in = migration_load_begin(m, fd, errp);
    bool ok;

    if (!in) {
        return false;
    }
    ok = migration_load_read(in, errp) && migration_load_apply(m, in, errp);
    if (ok && gs) {
        *gs = in->gs;
    }
    migration_load_free(in);
    return ok;
}

/* ---- URIs ---- */

static int tcp_socket(const char *hostport, bool listen_it, Error **errp)
{
    const char *colon = strrchr(hostport, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = listen_it ? AI_PASSIVE : 0};
    struct addrinfo *res = NULL, *ai;
    g_autofree char *host = NULL;
    int s = -1, r;

    if (!colon || !colon[1]) {
        error_setg(errp, "tcp:%s: expected HOST:PORT", hostport);
        return -1;
    }
    host = g_strndup(hostport, colon - hostport);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host) - 2);
        host[strlen(host) - 2] = 0;
    }
    r = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
    if (r) {
        error_setg(errp, "tcp:%s: %s", hostport, gai_strerror(r));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1;

        s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                   ai->ai_protocol);
        if (s < 0) {
            continue;
        }
        if (listen_it) {
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 &&
                listen(s, 1) == 0) {
                break;
            }
        } else if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        close(s);
        s = -1;
    }
    if (s < 0) {
        error_setg_errno(errp, errno, "tcp:%s: cannot %s", hostport,
                         listen_it ? "listen" : "connect");
    }
    freeaddrinfo(res);
    return s;
}

int migration_accept(int ls, Error **errp)
{
    int s;

    do {
        s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    } while (s < 0 && errno == EINTR);
    if (s < 0) {
        error_setg_errno(errp, errno, "incoming migration: accept");
    }
    close(ls);
    return s;
}

int migration_open_uri(struct machine *m, const char *uri, bool incoming,
                       enum savevm_ram_layout *layout, GPid *child,
                       bool *listening, Error **errp)
{
    const char *arg;

    *layout = SAVEVM_RAM_STREAM;
    *child = 0;
    *listening = false;
    if (g_str_has_prefix(uri, "file:")) {
        arg = uri + 5;
        *layout = SAVEVM_RAM_FILE;
        int fd = incoming ? open(arg, O_RDONLY | O_CLOEXEC)
                          : open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                                 0600);
        if (fd < 0) {
            error_setg_errno(errp, errno, "file:%s", arg);
        }
        return fd;
    }
    if (g_str_has_prefix(uri, "fd:")) {
        guint64 n;

        arg = uri + 3;
        if (*arg && !g_ascii_isdigit(*arg)) {
            /* a name given with getfd (libvirt's `getfd fdname=migrate` then
             * `migrate fd:migrate`): the migration takes the fd and
             * closes it when done, as QEMU does */
            int fd = qmp_named_fd_take(m, arg, errp);

            if (fd < 0) {
                error_prepend(errp, "fd:%s: ", arg);
            }
            return fd;
        }
        /* a number: an fd inherited by vireo (-incoming fd:N) */
        if (!g_ascii_string_to_unsigned(arg, 10, 3, INT_MAX, &n, NULL) ||
            fcntl((int)n, F_GETFD) < 0) {
            error_setg(errp, "fd:%s: not an open file descriptor number", arg);
            return -1;
        }
        return (int)n;
    }
    if (!strcmp(uri, "unix:")) {
        /* an empty path would be an abstract socket nobody can name */
        error_setg(errp, "unix: needs a socket path (unix:PATH)");
        return -1;
    }
    if (g_str_has_prefix(uri, "unix:") || g_str_has_prefix(uri, "tcp:")) {
        int fd = uri[0] == 'u' ? unix_stream_socket(uri + 5, incoming, errp)
                               : tcp_socket(uri + 4, incoming, errp);

        *listening = fd >= 0 && incoming;
        return fd;
    }
    if (g_str_has_prefix(uri, "exec:")) {
        const char *argv[] = {"/bin/sh", "-c", uri + 5, NULL};
        GError *gerr = NULL;
        int in = -1, out = -1;

        if (m->cfg->sandbox) {
            error_setg(errp, "exec: migration needs -sandbox off (the "
                             "sandbox forbids starting programs)");
            return -1;
        }
        if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                      G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                      child, incoming ? NULL : &in,
                                      incoming ? &out : NULL, NULL, &gerr)) {
            error_setg(errp, "exec: %s", gerr->message);
            g_error_free(gerr);
            return -1;
        }
        return incoming ? out : in;
    }
    error_setg(errp,
               "unknown migration protocol: '%s' (use file:, fd:, unix:, "
               "tcp: or exec:)",
               uri);
    return -1;
}
