/* SPDX-License-Identifier: MIT */
/*
 * machine.c: building a machine from its configuration, in the order the
 * pieces depend on each other: log, main loop, KVM, address spaces,
 * chardevs, CPU model, the machine type's board (RAM, firmware, devices),
 * memory slots, vCPUs, monitors.  Any failure unwinds and names its cause
 * before a guest instruction runs.
 */
#include "util/common.h"
#include "migration/migration.h"
#include "migration/dirtyrate.h"
#include "system/machine.h"
#include "accel/kvm/kvm.h"
#include "accel/kvm/vcpu.h"
#include "hw/char/chardev.h"
#include "hw/core/device.h"
#include "qapi/monitor.h"
#include "system/guest-mem.h"
#include "system/memory.h"
#include "system/fdset.h"
#include "system/object.h"
#include "target-i386/cpu.h"
#include "util/keyval.h"
#include "sev/sev.h"
#include "hw/block/drive.h"
#include "hw/virtio/virtio-rng.h"
#include "net/netdev.h"

#include <unistd.h>

/* -machine smm=on|off|auto, checked against the KVM just opened. */
static bool check_smm(const struct machine_config *cfg, struct kvm_accel *k,
                      Error **errp)
{
    struct keyval *kv;
    bool ok;

    if (!cfg->machine_opts || !*cfg->machine_opts) {
        return true;
    }
    kv = keyval_parse(cfg->machine_opts, NULL, errp);
    if (!kv) {
        error_prepend(errp, "-machine: ");
        return false;
    }
    ok = kvm_check_smm_option(k, keyval_get(kv, "smm"), errp);
    if (!ok) {
        error_prepend(errp, "-machine smm: ");
    }
    keyval_free(kv);
    return ok;
}

/* -machine options: kernel-irqchip=on|split (QEMU also spells it
 * kernel_irqchip) is needed before the VM exists; the rest must be keys
 * the board declared (accel= was consumed by the command line). */
static bool machine_opts(const struct machine_config *cfg,
                         const struct machine_type *t,
                         enum kvm_irqchip_mode *mode, Error **errp)
{
    struct keyval *kv;
    const char *v;
    bool ok = true;

    *mode = KVM_IRQCHIP_SPLIT;
    if (!cfg->machine_opts || !*cfg->machine_opts) {
        return true;
    }
    kv = keyval_parse(cfg->machine_opts, NULL, errp);
    if (!kv) {
        error_prepend(errp, "-machine: ");
        return false;
    }
    v = keyval_get(kv, "kernel-irqchip");
    if (!v) {
        v = keyval_get(kv, "kernel_irqchip");
    }
    if (v && !kvm_parse_irqchip_mode(v, mode, errp)) {
        error_prepend(errp, "-machine: ");
        ok = false;
    }
    if (ok) {
        g_autofree char *what = g_strdup_printf("-machine %s", t->name);

        keyval_get(kv, "accel");
        /* checked against -object by the command line, used by sev/ */
        keyval_get(kv, "confidential-guest-support");
        keyval_get(kv, "memory-encryption");
        /* checked against the KVM once it is open (check_smm) */
        keyval_get(kv, "smm");
        for (const char *const *o = t->options; o && *o; o++) {
            keyval_get(kv, *o);
        }
        ok = keyval_check_all_used(kv, what, errp);
    }
    keyval_free(kv);
    return ok;
}

bool machine_check_opts(const struct machine_config *cfg, Error **errp)
{
    const struct machine_type *t = cfg->machine_type
                                       ? machine_type_find(cfg->machine_type)
                                       : machine_type_default();
    enum kvm_irqchip_mode mode;

    if (!t) {
        error_setg(errp, "unsupported machine type '%s'", cfg->machine_type);
        return false;
    }
    return machine_opts(cfg, t, &mode, errp);
}

const struct machine_type *machine_type_find(const char *name)
{
    for (const struct machine_type *const *t = machine_types; *t; t++) {
        if (!strcmp((*t)->name, name) ||
            ((*t)->alias && !strcmp((*t)->alias, name))) {
            return *t;
        }
    }
    return NULL;
}

const struct machine_type *machine_type_default(void)
{
    for (const struct machine_type *const *t = machine_types; *t; t++) {
        if ((*t)->is_default) {
            return *t;
        }
    }
    return machine_types[0];
}

char *machine_types_help(void)
{
    GString *s = g_string_new("Supported machines are:\n");

    for (const struct machine_type *const *t = machine_types; *t; t++) {
        if ((*t)->alias) {
            g_string_append_printf(s, "%-20s %s (alias of %s)\n", (*t)->alias,
                                   (*t)->desc, (*t)->name);
        }
        g_string_append_printf(s, "%-20s %s%s\n", (*t)->name, (*t)->desc,
                               (*t)->is_default ? " (default)" : "");
    }
    return g_string_free(s, FALSE);
}

struct device *machine_find_device(struct machine *m, const char *cls_name)
{
    for (guint i = 0; m->devices && i < m->devices->len; i++) {
        struct device *d = g_ptr_array_index(m->devices, i);
        if (!strcmp(d->cls->name, cls_name)) {
            return d;
        }
    }
    return NULL;
}

bool machine_press_power_button(struct machine *m)
{
    if (!m->type || !m->type->power_button) {
        return false;
    }
    m->type->power_button(m);
    return true;
}

/* ---- what the vCPU layer sees of the machine ---------------------------- */

static const struct x86_boot_state *env_boot_state(void *opaque)
{
    struct machine *m = opaque;

    return m->type->boot_cpu_state ? m->type->boot_cpu_state(m) : NULL;
}

/* KVM_EXIT_MEMORY_FAULT: only SEV-SNP guests have private memory. */
static bool env_memory_fault(void *opaque, const struct kvm_run *run,
                             Error **errp)
{
    struct machine *m = opaque;

    return sev_handle_memory_fault(m->sev, run, errp);
}

static void env_request(void *opaque, enum vcpu_request req)
{
    struct machine *m = opaque;

    switch (req) {
    case VCPU_REQ_RESET:
        machine_request(m, REQ_RESET, SHUTDOWN_CAUSE_GUEST_RESET);
        break;
    case VCPU_REQ_SHUTDOWN:
        machine_request(m, REQ_SHUTDOWN, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        break;
    case VCPU_REQ_FATAL:
        machine_request(m, REQ_INTERNAL_ERROR, SHUTDOWN_CAUSE_HOST_ERROR);
        break;
    }
}

struct chardev *machine_find_chardev(struct machine *m, const char *id)
{
    for (guint i = 0; m->chardevs && i < m->chardevs->len; i++) {
        struct chardev *c = g_ptr_array_index(m->chardevs, i);
        if (!strcmp(chardev_id(c), id)) {
            return c;
        }
    }
    return NULL;
}

bool machine_dump_cpu(struct machine *m, unsigned index, GString *out,
                      Error **errp)
{
    if (index >= m->nr_vcpus) {
        error_setg(errp, "CPU %u does not exist", index);
        return false;
    }
    /* The vCPU must be out of KVM_RUN while we read its registers. */
    bool running = m->state == RUN_STATE_RUNNING;
    if (running) {
        vcpu_pause(m->vcpus[index]);
    }
    /* -S: the reset state the vCPU starts from, not KVM's initial one */
    vcpu_settle_reset(m->vcpus[index]);
    x86_cpu_dump(m->vcpus[index]->arch, out);
    if (running) {
        vcpu_resume(m->vcpus[index]);
    }
    return true;
}

int machine_vcpu_thread_id(struct machine *m, unsigned index)
{
    return index < m->nr_vcpus ? m->vcpus[index]->tid : 0;
}

bool machine_inject_nmi(struct machine *m, Error **errp)
{
    /* QEMU's answer where the machine has no NMI to raise (none) */
    if (m->type && m->type->no_guest) {
        error_setg(errp, "this feature or command is not currently supported");
        return false;
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        struct vcpu *cpu = m->vcpus[i];
        g_mutex_lock(&cpu->lock);
        cpu->pending_nmi = true;
        g_mutex_unlock(&cpu->lock);
        /* A paused vCPU takes the NMI when it runs again. */
        if (m->state == RUN_STATE_RUNNING) {
            vcpu_kick(cpu);
        }
    }
    return true;
}

static bool create_vcpus(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;

    m->cpu_model = x86_cpu_model_new(
        m->kvm, cfg->cpu_model ? cfg->cpu_model : "qemu64", cfg->smp_cpus,
        cfg->smp_sockets, cfg->smp_cores, cfg->smp_threads, errp);
    if (!m->cpu_model) {
        return false;
    }
    if (m->sev) {
        sev_cpu_model_setup(m->sev, m->cpu_model);
    }
    m->vcpus = g_new0(struct vcpu *, cfg->smp_cpus);
    for (unsigned i = 0; i < cfg->smp_cpus; i++) {
        struct vcpu *cpu = vcpu_new(
            m->vcpu_env, i, x86_cpu_model_apic_id(m->cpu_model, i), errp);
        if (!cpu) {
            return false;
        }
        m->vcpus[m->nr_vcpus++] = cpu;
        cpu->arch = x86_cpu_new(m->kvm, cpu->fd, i, m->cpu_model, errp);
        if (!cpu->arch) {
            return false;
        }
    }
    return true;
}

/*
 * A machine with a guest needs KVM.  The "none" machine runs no guest
 * code, so with QEMU's "accel=kvm:tcg" (where QEMU would fall back to
 * TCG, which vireo does not have) it carries on without KVM and serves
 * QMP only; query-kvm then reports KVM absent.
 */
static bool open_accel(struct machine *m, enum kvm_irqchip_mode irqchip,
                       Error **errp)
{
    Error *err = NULL;

    const struct machine_config *cfg = m->cfg;

    m->kvm =
        kvm_accel_new_typed(NULL, irqchip, m->type->kvm_sys_pages,
                            cfg->sev_enabled ? sev_vm_type(cfg->sev) : 0, &err);
    if (m->kvm) {
        /* before any vCPU exists, as KVM requires; an SEV guest cannot
         * migrate, so it needs no ring */
        if (!cfg->sev_enabled &&
            !kvm_dirty_ring_enable(m->kvm, cfg->dirty_ring_size, &err)) {
            error_prepend(&err, "-accel kvm: ");
            error_propagate(errp, err);
            return false;
        }
        return true;
    }
    if (!m->type->no_guest || !cfg->accel_fallback) {
        error_propagate(errp, err);
        return false;
    }
    warn_report("%s; -machine %s runs without an accelerator (QMP only)",
                error_get_pretty(err), m->type->name);
    error_free(err);
    return true;
}

struct machine *machine_new(const struct machine_config *cfg, Error **errp)
{
    struct machine *m = g_new0(struct machine, 1);
    enum kvm_irqchip_mode irqchip;

    m->cfg = cfg;
    m->sev_fd = -1;
    m->req_event_fd = -1;
    m->signal_fd = -1;
    vlog_init(&m->log);
    m->log.mask = cfg->log_mask;
    m->devices = g_ptr_array_new();
    m->chardevs = g_ptr_array_new();
    if (cfg->logfile && !vlog_set_file(&m->log, cfg->logfile, errp)) {
        goto fail;
    }
    if (!machine_runstate_init(m, errp)) {
        goto fail;
    }
    m->type = cfg->machine_type ? machine_type_find(cfg->machine_type)
                                : machine_type_default();
    if (!m->type) {
        error_setg(errp,
                   "unsupported machine type '%s' (use -machine help to "
                   "list supported machines)",
                   cfg->machine_type);
        goto fail;
    }
    if (cfg->smp_cpus == 0) {
        error_setg(errp, "-smp: the number of CPUs must be at least 1");
        goto fail;
    }
    if (MAX(cfg->smp_cpus, cfg->smp_maxcpus) > m->type->max_cpus) {
        error_setg(errp,
                   "Invalid SMP CPUs %u. The max CPUs supported by machine "
                   "'%s' is %u",
                   MAX(cfg->smp_cpus, cfg->smp_maxcpus), m->type->name,
                   m->type->max_cpus);
        goto fail;
    }
    if (!machine_opts(cfg, m->type, &irqchip, errp)) {
        goto fail;
    }
    /* Cheap file checks first: a missing -bios is named on any host. */
    if (m->type->check_config && !m->type->check_config(cfg, errp)) {
        goto fail;
    }
    if (!gm_check_host_ram(cfg->ram_size, errp)) {
        error_prepend(errp, "-m: ");
        goto fail;
    }
    /* SEV: the platform is checked before /dev/kvm and guest memory. */
    if (cfg->sev_enabled && !sev_machine_check(m, errp)) {
        goto fail;
    }
    m->fdsets = fdsets_new(cfg->add_fds, errp);
    if (!m->fdsets) {
        goto fail;
    }
    /* fd sets and objects first: chardevs (path=/dev/fdset/N), RAM and
     * devices refer to them. */
    for (guint i = 0; i < cfg->objects->len; i++) {
        if (!object_realize(g_ptr_array_index(cfg->objects, i), errp)) {
            goto fail;
        }
    }
    /* entropy devices name their backend object: checked on any host */
    if (!virtio_rng_check_links(cfg, errp)) {
        goto fail;
    }
    /* Chardevs before the accelerator, as QEMU has them: a server with
     * wait=on waits for its client first, on any host. */
    for (guint i = 0; i < cfg->chardevs->len; i++) {
        struct chardev *c =
            chardev_new(m, g_ptr_array_index(cfg->chardevs, i), errp);
        if (!c) {
            goto fail;
        }
        g_ptr_array_add(m->chardevs, c);
    }
    /* Images too: a missing, locked or unknown drive is named on any host */
    if (!machine_open_drives(m, errp) || !machine_open_netdevs(m, errp)) {
        goto fail;
    }
    /* -device mistakes that need no accelerator (unknown chardev, a port
     * without its virtio-serial bus) are named on any host too */
    if (!device_opts_check_all(m, cfg->devices, errp)) {
        goto fail;
    }
    if (!open_accel(m, irqchip, errp) ||
        (m->kvm && !check_smm(cfg, m->kvm, errp))) {
        goto fail;
    }
    if (cfg->sev_enabled && !sev_machine_init(m, errp)) {
        goto fail;
    }
    m->pio = as_new("I/O", &m->log);
    m->mmio = as_new("memory", &m->log);
    /* doorbells (as_add_eventfd) become KVM ioeventfds */
    as_set_eventfd_listener(m->pio, &kvm_pio_eventfd_listener, m->kvm);
    as_set_eventfd_listener(m->mmio, &kvm_mmio_eventfd_listener, m->kvm);
    m->vcpu_env = g_new0(struct vcpu_env, 1);
    *m->vcpu_env = (struct vcpu_env){
        .kvm = m->kvm,
        .pio = m->pio,
        .mmio = m->mmio,
        .log = &m->log,
        .sandbox = cfg->sandbox,
        .boot_state = env_boot_state,
        .request = env_request,
        .memory_fault = m->sev ? env_memory_fault : NULL,
        .opaque = m,
    };
    if ((m->type->init_memory && !m->type->init_memory(m, errp)) ||
        (m->type->init_interrupts && !m->type->init_interrupts(m, errp)) ||
        (m->type->init_devices && !m->type->init_devices(m, errp)) ||
        !machine_create_drive_devices(m, errp) ||
        !machine_create_nic_devices(m, errp)) {
        goto fail;
    }
    for (guint i = 0; i < cfg->devices->len; i++) {
        const struct device_opts *o = g_ptr_array_index(cfg->devices, i);
        if (!device_create_opts(m, o, errp)) {
            /* QEMU's form: "-device TEXT: reason" */
            error_prepend(errp, "-device %s: ", o->text);
            goto fail;
        }
    }
    /* After every device: firmware tables describe them all. */
    if (m->type->init_boot && !m->type->init_boot(m, errp)) {
        goto fail;
    }
    /* No guest (none): nothing to map or run. */
    if (m->type->no_guest) {
        return m;
    }
    if (!kvm_set_memory(m->kvm, m->gm, errp)) {
        goto fail;
    }
    if (!create_vcpus(m, errp)) {
        goto fail;
    }
    if (m->sev && !sev_machine_launch(m, errp)) {
        goto fail;
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        if (!vcpu_start(m->vcpus[i], errp)) {
            goto fail;
        }
    }
    return m;
fail:
    machine_free(m);
    return NULL;
}

void machine_free(struct machine *m)
{
    if (!m) {
        return;
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        vcpu_stop_thread(m->vcpus[i]);
    }
    migration_state_free(m);
    g_clear_pointer(&m->dirtyrate, dirtyrate_free);
    if (m->listeners) {
        monitor_free_all(m);
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        vcpu_free(m->vcpus[i]);
    }
    g_free(m->vcpus);
    sev_machine_free(m);
    if (m->cpu_model) {
        x86_cpu_model_free(m->cpu_model);
    }
    for (guint i = m->devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(m->devices, i - 1));
    }
    g_ptr_array_free(m->devices, TRUE);
    machine_close_drives(m);
    machine_close_netdevs(m);
    if (m->chardevs) {
        chardev_restore_terminals(m);
        for (guint i = 0; i < m->chardevs->len; i++) {
            chardev_free(g_ptr_array_index(m->chardevs, i));
        }
        g_ptr_array_free(m->chardevs, TRUE);
    }
    fdsets_free(m->fdsets);
    qmp_named_fds_free(m);
    as_free(m->pio);
    as_free(m->mmio);
    gm_free(m->gm);
    kvm_accel_free(m->kvm);
    if (m->type && m->type->free) {
        m->type->free(m);
    }
    g_free(m->vcpu_env);
    if (m->loop) {
        g_main_loop_unref(m->loop);
    }
    if (m->ctx) {
        g_main_context_unref(m->ctx);
    }
    if (m->listeners) {
        g_ptr_array_free(m->listeners, TRUE);
    }
    if (m->req_event_fd >= 0) {
        close(m->req_event_fd);
    }
    if (m->signal_fd >= 0) {
        close(m->signal_fd);
    }
    vlog_close(&m->log);
    g_free(m);
}
