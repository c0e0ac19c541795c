/* SPDX-License-Identifier: MIT */
/*
 * vl.c: QEMU's command line, parsed into struct machine_config.
 *
 * Everything that can be checked without a machine is checked here (option
 * names, values, -smp topology, chardev texts, references between -serial,
 * -mon and -chardev, -daemonize conflicts), so that a bad command line
 * fails with a message naming the option before KVM is even opened.
 * Legacy specs (-serial/-monitor/-qmp) are rewritten into -chardev texts
 * the way QEMU does, so the rest of vireo only ever sees chardev ids.
 */
#include "util/common.h"
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include "qapi/json-parse.h"
#include "qapi/json-value.h"
#include "util/keyval.h"
#include "util/log.h"
#include "hw/char/chardev.h"
#include "hw/core/device.h"
#include "sev/sev-config.h"
#include "system/object.h"
#include "system/vl.h"
#include "hw/block/drive.h"
#include "net/netdev.h"

#define VL_MAX_SERIALS 4

void machine_config_init(struct machine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->machine_type = g_strdup(machine_type_default()->name);
    cfg->machine_opts = g_strdup("");
    cfg->accel = g_strdup("kvm");
    cfg->dirty_ring_size = -1;
    cfg->smp_cpus = cfg->smp_sockets = cfg->smp_dies = 1;
    cfg->smp_cores = cfg->smp_threads = cfg->smp_maxcpus = 1;
    cfg->ram_size = VL_DEFAULT_RAM;
    cfg->chardevs = g_ptr_array_new_with_free_func(g_free);
    cfg->serials = g_ptr_array_new_with_free_func(g_free);
    cfg->devices =
        g_ptr_array_new_with_free_func((GDestroyNotify)device_opts_free);
    cfg->add_fds = g_ptr_array_new_with_free_func(g_free);
    cfg->drives = g_ptr_array_new_with_free_func(drive_opts_free);
    cfg->blockdevs =
        g_ptr_array_new_with_free_func((GDestroyNotify)blockdev_node_free);
    cfg->netdevs = g_ptr_array_new_with_free_func(netdev_opts_free);
    cfg->nics = g_ptr_array_new_with_free_func(nic_opts_free);
    cfg->monitors = g_ptr_array_new_with_free_func(NULL);
    cfg->sandbox = true;
    cfg->rtc_base = g_strdup("utc");
    cfg->objects = g_ptr_array_new_with_free_func((GDestroyNotify)object_free);
    cfg->audiodevs = g_ptr_array_new_with_free_func(g_free);
}

static void mon_spec_free(struct mon_spec *ms)
{
    g_free(ms->chardev_id);
    g_free(ms);
}

void machine_config_clear(struct machine_config *cfg)
{
    g_free(cfg->machine_type);
    g_free(cfg->machine_opts);
    g_free(cfg->accel);
    g_free(cfg->cpu_model);
    g_free(cfg->bios);
    g_free(cfg->kernel);
    g_free(cfg->initrd);
    g_free(cfg->append);
    g_free(cfg->dtb);
    if (cfg->chardevs) {
        g_ptr_array_unref(cfg->chardevs);
    }
    if (cfg->serials) {
        g_ptr_array_unref(cfg->serials);
    }
    if (cfg->devices) {
        g_ptr_array_unref(cfg->devices);
    }
    if (cfg->add_fds) {
        g_ptr_array_unref(cfg->add_fds);
    }
    if (cfg->drives) {
        g_ptr_array_unref(cfg->drives);
    }
    if (cfg->blockdevs) {
        g_ptr_array_unref(cfg->blockdevs);
    }
    if (cfg->netdevs) {
        g_ptr_array_unref(cfg->netdevs);
    }
    if (cfg->nics) {
        g_ptr_array_unref(cfg->nics);
    }
    if (cfg->monitors) {
        for (guint i = 0; i < cfg->monitors->len; i++) {
            mon_spec_free(g_ptr_array_index(cfg->monitors, i));
        }
        g_ptr_array_unref(cfg->monitors);
    }
    g_free(cfg->name);
    g_free(cfg->pidfile);
    g_free(cfg->logfile);
    g_free(cfg->rtc_base);
    if (cfg->objects) {
        g_ptr_array_unref(cfg->objects);
    }
    if (cfg->audiodevs) {
        g_ptr_array_unref(cfg->audiodevs);
    }
    g_free(cfg->help_request);
    g_free(cfg->dump_vmstate);
    g_free(cfg->incoming);
    g_strfreev(cfg->argv);
    /* cfg->sev belongs to its -object, freed with cfg->objects */
    memset(cfg, 0, sizeof(*cfg));
}

enum vl_opt {
    OPT_MACHINE,
    OPT_ACCEL,
    OPT_ENABLE_KVM,
    OPT_CPU,
    OPT_SMP,
    OPT_M,
    OPT_BIOS,
    OPT_KERNEL,
    OPT_INITRD,
    OPT_APPEND,
    OPT_DTB,
    OPT_SERIAL,
    OPT_CHARDEV,
    OPT_QMP,
    OPT_QMP_PRETTY,
    OPT_MONITOR,
    OPT_MON,
    OPT_ADD_FD,
    OPT_NOGRAPHIC,
    OPT_DISPLAY,
    OPT_NODEFAULTS,
    OPT_NO_USER_CONFIG,
    OPT_NAME,
    OPT_UUID,
    OPT_S,
    OPT_NO_REBOOT,
    OPT_NO_SHUTDOWN,
    OPT_DAEMONIZE,
    OPT_PIDFILE,
    OPT_LOGFILE,
    OPT_LOG,
    OPT_DEVICE,
    OPT_DRIVE,
    OPT_BLOCKDEV,
    OPT_NETDEV,
    OPT_NIC,
    OPT_RTC,
    OPT_SANDBOX,
    OPT_DUMP_VMSTATE,
    OPT_OBJECT,
    OPT_OVERCOMMIT,
    OPT_BOOT,
    OPT_MSG,
    OPT_AUDIODEV,
    OPT_NO_ACPI,
    OPT_INCOMING,
    OPT_VERSION,
    OPT_HELP,
    OPT_MEASURE_LAUNCH,
};

struct vl_option {
    const char *name;
    enum vl_opt opt;
    bool has_arg;
    const char *args; /* for -h */
    const char *help;
};

static const struct vl_option vl_options[] = {
    {"machine", OPT_MACHINE, true, "TYPE[,accel=kvm[:tcg]][,prop=value]",
     "select the machine type (-machine help lists them)"},
    {"M", OPT_MACHINE, true, "TYPE", "same as -machine"},
    {"accel", OPT_ACCEL, true, "kvm", "select the accelerator (only kvm)"},
    {"enable-kvm", OPT_ENABLE_KVM, false, NULL, "same as -accel kvm"},
    {"cpu", OPT_CPU, true, "MODEL[,+feat,-feat]", "select the CPU model"},
    {"smp", OPT_SMP, true,
     "[cpus=]N[,maxcpus=M][,sockets=S][,dies=1][,cores=C][,threads=T]",
     "set the number of vCPUs and their topology"},
    {"m", OPT_M, true, "[size=]SIZE", "guest RAM size (default unit MiB)"},
    {"bios", OPT_BIOS, true, "FILE", "firmware image"},
    {"kernel", OPT_KERNEL, true, "FILE", "Linux kernel (bzImage, ELF/PVH)"},
    {"initrd", OPT_INITRD, true, "FILE", "initial ram disk"},
    {"append", OPT_APPEND, true, "CMDLINE", "kernel command line"},
    {"dtb", OPT_DTB, true, "FILE", "device tree blob given to the kernel"},
    {"serial", OPT_SERIAL, true, "SPEC", "redirect the next serial port"},
    {"chardev", OPT_CHARDEV, true, "BACKEND,id=ID[,...]",
     "create a character backend"},
    {"qmp", OPT_QMP, true, "SPEC", "QMP monitor on a character device"},
    {"qmp-pretty", OPT_QMP_PRETTY, true, "SPEC",
     "QMP monitor with pretty-printed JSON"},
    {"monitor", OPT_MONITOR, true, "SPEC",
     "human monitor on a character device"},
    {"mon", OPT_MON, true, "[chardev=]ID[,mode=readline|control][,pretty=on]",
     "monitor on an existing chardev"},
    {"add-fd", OPT_ADD_FD, true, "fd=N,set=N[,opaque=TEXT]",
     "add an inherited fd to an fd set"},
    {"nographic", OPT_NOGRAPHIC, false, NULL,
     "no display; serial and monitor on stdio"},
    {"display", OPT_DISPLAY, true, "none", "display type (only none)"},
    {"nodefaults", OPT_NODEFAULTS, false, NULL,
     "create no default serial or monitor"},
    {"no-user-config", OPT_NO_USER_CONFIG, false, NULL,
     "read no user configuration (vireo never does)"},
    {"name", OPT_NAME, true, "[guest=]NAME[,debug-threads=on|off]",
     "name the guest"},
    {"uuid", OPT_UUID, true, "UUID", "set the system UUID"},
    {"S", OPT_S, false, NULL, "do not start the vCPUs (use 'cont')"},
    {"no-reboot", OPT_NO_REBOOT, false, NULL, "exit instead of rebooting"},
    {"no-shutdown", OPT_NO_SHUTDOWN, false, NULL,
     "stop instead of exiting when the guest powers off"},
    {"daemonize", OPT_DAEMONIZE, false, NULL, "detach from the terminal"},
    {"pidfile", OPT_PIDFILE, true, "FILE", "write the process id to FILE"},
    {"D", OPT_LOGFILE, true, "FILE", "write the -d log to FILE"},
    {"d", OPT_LOG, true, "ITEM[,ITEM]", "enable log items (-d help)"},
    {"device", OPT_DEVICE, true, "DRIVER[,prop=value]", "add a device"},
    {"drive", OPT_DRIVE, true, "file=PATH[,if=virtio|none][,id=ID][,...]",
     "add a drive (raw image)"},
    {"blockdev", OPT_BLOCKDEV, true, "driver=raw|file,node-name=N[,...]",
     "add a block node (dotted keys or JSON)"},
    {"netdev", OPT_NETDEV, true,
     "tap,id=ID[,ifname=NAME|fd=N][,script=no,downscript=no,vhost=off] | "
     "user,id=ID[,hostfwd=...] | JSON",
     "add a network backend"},
    {"nic", OPT_NIC, true, "tap|user[,NETDEV-OPTS][,mac=MAC][,model=NAME]",
     "add a network backend and the board's NIC on it"},
    {"rtc", OPT_RTC, true, "base=utc|localtime|DATE", "set the RTC base"},
    {"sandbox", OPT_SANDBOX, true, "on|off", "seccomp sandbox (default on)"},
    {"object", OPT_OBJECT, true, "TYPE,id=ID[,prop=value] | JSON",
     "create an object (secret, memory-backend-*, sev-guest, sev-snp-guest)"},
    {"measure-launch", OPT_MEASURE_LAUNCH, false, NULL,
     "print the SEV launch digest of this command line and exit (vireo)"},
    {"incoming", OPT_INCOMING, true, "URI|defer",
     "wait for a migration stream (file: fd: unix: tcp: exec:)"},
    {"dump-vmstate", OPT_DUMP_VMSTATE, true, "FILE",
     "write the migration state descriptions as JSON and exit"},
    {"overcommit", OPT_OVERCOMMIT, true, "mem-lock=off[,cpu-pm=off]",
     "host memory locking and CPU power management (only off)"},
    {"boot", OPT_BOOT, true, "strict=on|off",
     "boot only from what is given (vireo always does)"},
    {"msg", OPT_MSG, true, "timestamp=on|off",
     "prefix error messages with the time"},
    {"audiodev", OPT_AUDIODEV, true, "none,id=ID | JSON",
     "audio backend (only the none driver)"},
    {"no-acpi", OPT_NO_ACPI, false, NULL, "same as -machine acpi=off"},
    {"version", OPT_VERSION, false, NULL, "print the version and exit"},
    {"h", OPT_HELP, false, NULL, "print this help and exit"},
    {"help", OPT_HELP, false, NULL, "print this help and exit"},
};

struct vl_state {
    struct machine_config *cfg;
    GString *out;
    bool default_serial, default_monitor;
    unsigned compat_monitors;
    GPtrArray *serial_specs; /* char *: -serial specs, resolved at the end */
    GPtrArray *mon_refs;     /* char *: "-opt: id" kept for messages */
    bool exit_ok;
};

static const struct vl_option *find_option(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(vl_options); i++) {
        if (!strcmp(vl_options[i].name, name)) {
            return &vl_options[i];
        }
    }
    return NULL;
}

static void append_escaped(GString *s, const char *v)
{
    for (; *v; v++) {
        if (*v == ',') {
            g_string_append_c(s, ',');
        }
        g_string_append_c(s, *v);
    }
}

static void set_str(char **dst, const char *v)
{
    g_free(*dst);
    *dst = g_strdup(v);
}

static void usage(GString *out)
{
    g_string_append(out, "usage: vireo [options]\n"
                         "vireo " VIREO_VERSION
                         ": a QEMU-compatible VMM for x86_64 on KVM\n\n");
    for (size_t i = 0; i < ARRAY_SIZE(vl_options); i++) {
        const struct vl_option *o = &vl_options[i];
        char *left = g_strdup_printf("-%s%s%s", o->name, o->args ? " " : "",
                                     o->args ? o->args : "");
        if (strlen(left) < 40) {
            g_string_append_printf(out, "%-40s %s\n", left, o->help);
        } else {
            g_string_append_printf(out, "%s\n%-40s %s\n", left, "", o->help);
        }
        g_free(left);
    }
    g_string_append(out, "\nSerial/monitor specs: stdio, null, none, pty, "
                         "file:PATH, chardev:ID, mon:SPEC,\n"
                         "  unix:PATH[,server=on][,wait=off], "
                         "tcp:[HOST]:PORT[,server=on][,wait=off]\n");
}

/* keyval_check_all_used() without its "what: " prefix: vl_parse() puts
 * the option name in front of every message already. */
static bool check_all_used(const struct keyval *kv, Error **errp)
{
    Error *err = NULL;

    if (keyval_check_all_used(kv, "x", &err)) {
        return true;
    }
    error_setg(errp, "%s", error_get_pretty(err) + 3);
    error_free(err);
    return false;
}

/* ---- -machine / -accel ---------------------------------------------- */

static bool check_accel(const char *a, Error **errp)
{
    if (strcmp(a, "kvm") != 0) {
        error_setg(errp, "invalid accelerator %s (vireo supports only kvm)", a);
        return false;
    }
    return true;
}

static bool opt_machine(struct vl_state *st, const char *arg, Error **errp)
{
    struct machine_config *cfg = st->cfg;
    struct keyval *kv = keyval_parse(arg, "type", errp);
    GString *opts;
    const char *type;
    bool ok = false;

    if (!kv) {
        return false;
    }
    type = keyval_get(kv, "type");
    if (type && (!strcmp(type, "help") || !strcmp(type, "?"))) {
        set_str(&cfg->help_request, "machine");
        st->exit_ok = true;
        ok = true;
        goto out;
    }
    if (type && !machine_type_find(type)) {
        error_setg(errp,
                   "unsupported machine type '%s' (use -machine help to list)",
                   type);
        goto out;
    }
    if (type) {
        set_str(&cfg->machine_type, type);
    }
    opts = g_string_new(cfg->machine_opts);
    for (size_t i = 0; i < keyval_count(kv); i++) {
        const char *k = keyval_key_at(kv, i);
        const char *v = keyval_value_at(kv, i);

        if (!strcmp(k, "type")) {
            continue;
        }
        if (!strcmp(k, "accel")) {
            /* QEMU's "accel=kvm:tcg" tries the list in order.  vireo
             * has only KVM, so it must come first; what follows is a
             * fallback that only the "none" machine (no guest code)
             * can take: it then runs without an accelerator. */
            char *first = g_strndup(v, strcspn(v, ":"));
            bool ok_accel = check_accel(first, errp);

            g_free(first);
            if (!ok_accel) {
                g_string_free(opts, TRUE);
                goto out;
            }
            set_str(&cfg->accel, "kvm");
            cfg->accel_fallback = strchr(v, ':') != NULL;
            continue;
        }
        if (opts->len) {
            g_string_append_c(opts, ',');
        }
        g_string_append_printf(opts, "%s=", k);
        append_escaped(opts, v);
    }
    g_free(cfg->machine_opts);
    cfg->machine_opts = g_string_free(opts, FALSE);
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

/* QEMU's kvm-accel property dirty-ring-size (a uint32, a power of two or
 * 0); checked against KVM's maximum when KVM is opened. */
static bool get_dirty_ring_size(struct keyval *kv, struct machine_config *cfg,
                                Error **errp)
{
    uint64_t v;

    if (!keyval_has(kv, "dirty-ring-size")) {
        return true;
    }
    if (!keyval_get_u64(kv, "dirty-ring-size", 0, &v, errp)) {
        return false;
    }
    if (v > UINT32_MAX) {
        error_setg(errp,
                   "dirty-ring-size %" PRIu64 " is out of range (0 to %u)", v,
                   UINT32_MAX);
        return false;
    }
    if (v & (v - 1)) {
        error_setg(errp, "dirty-ring-size must be a power of two.");
        return false;
    }
    cfg->dirty_ring_size = (int64_t)v;
    return true;
}

static bool opt_accel(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv = keyval_parse(arg, "accel", errp);
    const char *a;
    bool ok = false;

    if (!kv) {
        return false;
    }
    a = keyval_get(kv, "accel");
    if (!a) {
        error_setg(errp, "parameter 'accel' is missing");
    } else if (!strcmp(a, "help") || !strcmp(a, "?")) {
        g_string_append(st->out, "Accelerators supported in vireo:\nkvm\n");
        st->exit_ok = true;
        ok = true;
    } else if (check_accel(a, errp) && get_dirty_ring_size(kv, st->cfg, errp) &&
               check_all_used(kv, errp)) {
        set_str(&st->cfg->accel, a);
        ok = true;
    }
    keyval_free(kv);
    return ok;
}

/* ---- -smp ----------------------------------------------------------- */

static bool get_topo(struct keyval *kv, const char *key, unsigned *out,
                     Error **errp)
{
    uint64_t v;

    if (!keyval_has(kv, key)) {
        *out = 0;
        return true;
    }
    if (!keyval_get_u64(kv, key, 0, &v, errp)) {
        return false;
    }
    if (v == 0) {
        error_setg(errp,
                   "CPU topology parameters must be greater than zero ('%s')",
                   key);
        return false;
    }
    if (v > UINT32_MAX) {
        error_setg(errp, "parameter '%s' is too large", key);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool opt_smp(struct vl_state *st, const char *arg, Error **errp)
{
    struct machine_config *cfg = st->cfg;
    struct keyval *kv = keyval_parse(arg, "cpus", errp);
    unsigned cpus, sockets, dies, cores, threads, maxcpus;
    const struct machine_type *mt;
    uint64_t total;
    bool ok = false;

    if (!kv) {
        return false;
    }
    if (!get_topo(kv, "cpus", &cpus, errp) ||
        !get_topo(kv, "sockets", &sockets, errp) ||
        !get_topo(kv, "dies", &dies, errp) ||
        !get_topo(kv, "cores", &cores, errp) ||
        !get_topo(kv, "threads", &threads, errp) ||
        !get_topo(kv, "maxcpus", &maxcpus, errp) || !check_all_used(kv, errp)) {
        goto out;
    }
    if (dies > 1) {
        error_setg(errp, "dies not supported by this machine's CPU topology");
        goto out;
    }
    dies = 1;
    /* QEMU >= 6.2 rules: fill in what is missing, preferring cores. */
    if (cpus == 0 && maxcpus == 0) {
        sockets = sockets ? sockets : 1;
        cores = cores ? cores : 1;
        threads = threads ? threads : 1;
    } else {
        maxcpus = maxcpus ? maxcpus : cpus;
        if (cores == 0) {
            sockets = sockets ? sockets : 1;
            threads = threads ? threads : 1;
            cores = maxcpus / (sockets * dies * threads);
        } else if (sockets == 0) {
            threads = threads ? threads : 1;
            sockets = maxcpus / (dies * cores * threads);
        }
        if (threads == 0) {
            threads = maxcpus / (sockets * dies * cores);
        }
    }
    total = (uint64_t)sockets * dies * cores * threads;
    if (maxcpus == 0) {
        if (total > UINT32_MAX) {
            error_setg(errp, "CPU topology is too large");
            goto out;
        }
        maxcpus = (unsigned)total;
    }
    cpus = cpus ? cpus : maxcpus;
    if (total != maxcpus) {
        error_setg(errp,
                   "Invalid CPU topology: product of the hierarchy must match "
                   "maxcpus: sockets (%u) * cores (%u) * threads (%u) != "
                   "maxcpus (%u)",
                   sockets, cores, threads, maxcpus);
        goto out;
    }
    if (maxcpus < cpus) {
        error_setg(errp,
                   "Invalid CPU topology: maxcpus must be equal to or greater "
                   "than smp: sockets (%u) * cores (%u) * threads (%u) == "
                   "maxcpus (%u) < smp_cpus (%u)",
                   sockets, cores, threads, maxcpus, cpus);
        goto out;
    }
    /* Against the machine chosen so far; machine_new checks again. */
    mt = machine_type_find(cfg->machine_type);
    if (mt && maxcpus > mt->max_cpus) {
        error_setg(errp,
                   "Invalid SMP CPUs %u. The max CPUs supported by machine "
                   "'%s' is %u",
                   maxcpus, mt->name, mt->max_cpus);
        goto out;
    }
    cfg->smp_cpus = cpus;
    cfg->smp_sockets = sockets;
    cfg->smp_dies = dies;
    cfg->smp_cores = cores;
    cfg->smp_threads = threads;
    cfg->smp_maxcpus = maxcpus;
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

/* ---- -m ------------------------------------------------------------- */

static bool opt_m(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv = keyval_parse(arg, "size", errp);
    const char *s;
    uint64_t size;
    bool ok = false;

    if (!kv) {
        return false;
    }
    if (keyval_has(kv, "slots") || keyval_has(kv, "maxmem")) {
        error_setg(errp, "memory hotplug (slots=, maxmem=) is not supported");
        goto out;
    }
    s = keyval_get(kv, "size");
    if (!check_all_used(kv, errp)) {
        goto out;
    }
    g_assert(s); /* the only key left, and keyval never yields none */
    if (!parse_size(s, MiB, &size)) {
        error_setg(errp, "invalid RAM size '%s'", s);
        goto out;
    }
    if (size == 0) {
        error_setg(errp, "invalid RAM size '%s': must be greater than zero", s);
        goto out;
    }
    if (size > VL_MAX_RAM) {
        error_setg(errp, "RAM size '%s' is too large (at most %" PRIu64 " GiB)",
                   s, (uint64_t)(VL_MAX_RAM / GiB));
        goto out;
    }
    /* QEMU rounds up as well; KVM memslots are page granular. */
    st->cfg->ram_size = ALIGN_UP(size, 4 * KiB);
    st->cfg->ram_size_given = true;
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

/* ---- character devices ---------------------------------------------- */

char *vl_compat_chardev(const char *spec, const char *id, bool *mux,
                        Error **errp)
{
    const char *p;
    GString *s;

    *mux = false;
    if (g_str_has_prefix(spec, "mon:")) {
        char *inner;
        bool inner_mux;

        inner = vl_compat_chardev(spec + 4, id, &inner_mux, errp);
        if (!inner) {
            return NULL;
        }
        if (inner_mux) {
            error_setg(errp, "'%s': 'mon:' given twice", spec);
            g_free(inner);
            return NULL;
        }
        *mux = true;
        s = g_string_new(inner);
        g_free(inner);
        g_string_append(s, ",mux=on");
        return g_string_free(s, FALSE);
    }
    s = g_string_new(NULL);
    if (!strcmp(spec, "stdio") || !strcmp(spec, "null") ||
        !strcmp(spec, "pty")) {
        g_string_append_printf(s, "%s,id=%s", spec, id);
    } else if ((p = g_str_has_prefix(spec, "file:") ? spec + 5 : NULL)) {
        if (!*p) {
            error_setg(errp, "'%s': missing file name", spec);
            goto fail;
        }
        g_string_append_printf(s, "file,id=%s,path=", id);
        append_escaped(s, p);
    } else if ((p = g_str_has_prefix(spec, "unix:") ? spec + 5 : NULL)) {
        if (!*p || *p == ',') {
            error_setg(errp, "'%s': missing socket path", spec);
            goto fail;
        }
        g_string_append_printf(s, "socket,id=%s,path=%s", id, p);
    } else if ((p = g_str_has_prefix(spec, "tcp:") ? spec + 4 : NULL)) {
        /* tcp:HOST:PORT[,opts]: the port ends at the first comma */
        const char *end = p + strcspn(p, ",");
        const char *colon = NULL;
        char *host;

        for (const char *q = p; q < end; q++) {
            if (*q == ':') {
                colon = q;
            }
        }
        if (!colon || colon + 1 == end) {
            error_setg(errp, "'%s': expected tcp:HOST:PORT", spec);
            goto fail;
        }
        host = g_strndup(p, colon - p);
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            /* tcp:[::1]:PORT: an IPv6 address in brackets */
            char *bare = g_strndup(host + 1, strlen(host) - 2);
            g_free(host);
            host = bare;
        }
        g_string_append_printf(s, "socket,id=%s", id);
        if (*host) {
            g_string_append(s, ",host=");
            append_escaped(s, host);
        }
        g_free(host);
        g_string_append(s, ",port=");
        g_string_append(s, colon + 1);
    } else {
        error_setg(errp, "'%s' is not a valid char driver", spec);
        goto fail;
    }
    return g_string_free(s, FALSE);
fail:
    g_string_free(s, TRUE);
    return NULL;
}

static bool chardev_id_exists(struct machine_config *cfg, const char *id)
{
    for (guint i = 0; i < cfg->chardevs->len; i++) {
        char *cid = NULL;
        bool same;

        if (!chardev_parse_check(g_ptr_array_index(cfg->chardevs, i), &cid,
                                 NULL, NULL, NULL)) {
            continue;
        }
        same = !strcmp(cid, id);
        g_free(cid);
        if (same) {
            return true;
        }
    }
    return false;
}

/*
 * QEMU 7.2 still accepts (with a deprecation warning) the short forms of
 * boolean chardev keys: "server" for server=on, "nowait" for wait=off.
 * Tutorials are full of "tcp::4444,server,nowait", so vireo rewrites them
 * with the same warning.  Anything else without '=' is left for the parser
 * to refuse.
 */
static char *expand_short_bools(const char *text)
{
    static const char *const bools[] = {"server", "wait", "nodelay",
                                        "append", "mux",  "signal"};
    GString *out = g_string_new(NULL);
    const char *p = text;
    bool first = true;

    while (true) {
        GString *tok = g_string_new(NULL);
        bool has_eq = false;

        while (*p && !(*p == ',' && p[1] != ',')) {
            if (*p == ',') { /* ",," stays escaped */
                g_string_append(tok, ",,");
                p += 2;
                continue;
            }
            has_eq |= *p == '=';
            g_string_append_c(tok, *p++);
        }
        if (!first) {
            g_string_append_c(out, ',');
        }
        if (!first && !has_eq) {
            const char *name = tok->str;
            bool neg = g_str_has_prefix(name, "no");
            bool known = false;

            for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
                if (!strcmp(name, bools[i])) {
                    known = true;
                    neg = false;
                } else if (neg && !strcmp(name + 2, bools[i])) {
                    known = true;
                }
            }
            if (known) {
                const char *key = neg ? name + 2 : name;
                warn_report("short-form boolean option '%s' deprecated: use "
                            "%s=%s",
                            name, key, neg ? "off" : "on");
                g_string_append_printf(out, "%s=%s", key, neg ? "off" : "on");
                g_string_free(tok, TRUE);
                tok = NULL;
            }
        }
        if (tok) {
            g_string_append(out, tok->str);
            g_string_free(tok, TRUE);
        }
        first = false;
        if (!*p) {
            break;
        }
        p++; /* the separating ',' */
    }
    return g_string_free(out, FALSE);
}

/* Validates and records a chardev text (user-given or generated). */
static bool add_chardev(struct vl_state *st, const char *given, Error **errp)
{
    char *text = expand_short_bools(given);
    char *id = NULL;

    if (!chardev_parse_check(text, &id, NULL, NULL, errp)) {
        g_free(text);
        return false;
    }
    if (chardev_id_exists(st->cfg, id)) {
        error_setg(errp, "duplicate ID '%s' for chardev", id);
        g_free(id);
        g_free(text);
        return false;
    }
    g_free(id);
    g_ptr_array_add(st->cfg->chardevs, text);
    return true;
}

static bool opt_chardev(struct vl_state *st, const char *arg, Error **errp)
{
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        g_string_append(st->out, "Available chardev backend types:\n"
                                 "  file\n  null\n  pty\n  socket\n  stdio\n");
        st->exit_ok = true;
        return true;
    }
    return add_chardev(st, arg, errp);
}

static void add_monitor(struct vl_state *st, const char *id, enum mon_mode mode,
                        bool pretty)
{
    struct mon_spec *ms = g_new0(struct mon_spec, 1);

    ms->chardev_id = g_strdup(id);
    ms->mode = mode;
    ms->pretty = pretty;
    g_ptr_array_add(st->cfg->monitors, ms);
}

/* -qmp, -qmp-pretty, -monitor: a compat chardev plus a monitor on it. */
static bool opt_monitor(struct vl_state *st, const char *arg,
                        enum mon_mode mode, bool pretty, Error **errp)
{
    char *id, *text;
    bool mux;

    st->default_monitor = false;
    if (!strcmp(arg, "none")) {
        return true;
    }
    if (g_str_has_prefix(arg, "chardev:")) {
        add_monitor(st, arg + 8, mode, pretty);
        g_ptr_array_add(st->mon_refs, g_strdup(arg + 8));
        return true;
    }
    id = g_strdup_printf("compat_monitor%u", st->compat_monitors++);
    text = vl_compat_chardev(arg, id, &mux, errp);
    if (!text || !add_chardev(st, text, errp)) {
        g_free(id);
        g_free(text);
        return false;
    }
    add_monitor(st, id, mode, pretty);
    g_free(id);
    g_free(text);
    return true;
}

static bool opt_mon(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv = keyval_parse(arg, "chardev", errp);
    const char *id, *mode;
    enum mon_mode m = MON_MODE_READLINE;
    bool pretty, ok = false;

    if (!kv) {
        return false;
    }
    id = keyval_get(kv, "chardev");
    mode = keyval_get(kv, "mode");
    keyval_get(kv, "id"); /* libvirt names its monitor; nothing refers to it */
    if (!keyval_get_bool(kv, "pretty", false, &pretty, errp) ||
        !check_all_used(kv, errp)) {
        goto out;
    }
    if (!id || !*id) {
        error_setg(errp, "parameter 'chardev' is missing");
        goto out;
    }
    if (mode && !strcmp(mode, "control")) {
        m = MON_MODE_CONTROL;
    } else if (mode && strcmp(mode, "readline") != 0) {
        error_setg(errp, "parameter 'mode' does not accept value '%s'", mode);
        goto out;
    }
    if (pretty && m == MON_MODE_READLINE) {
        error_setg(errp, "'pretty' is not compatible with HMP monitors");
        goto out;
    }
    st->default_monitor = false;
    add_monitor(st, id, m, pretty);
    g_ptr_array_add(st->mon_refs, g_strdup(id));
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

/* -serial: resolved when all options are known (ids depend on order). */
static bool opt_serial(struct vl_state *st, const char *arg, Error **errp)
{
    st->default_serial = false;
    if (g_str_has_prefix(arg, "mon:")) {
        st->default_monitor = false; /* the serial carries the monitor */
    }
    if (!strcmp(arg, "none")) {
        return true;
    }
    if (st->serial_specs->len >= VL_MAX_SERIALS) {
        error_setg(errp, "too many serial ports (at most %d)", VL_MAX_SERIALS);
        return false;
    }
    g_ptr_array_add(st->serial_specs, g_strdup(arg));
    return true;
}

static bool resolve_serial(struct vl_state *st, const char *spec, Error **errp)
{
    struct machine_config *cfg = st->cfg;
    char *id, *text;
    bool mux;

    if (g_str_has_prefix(spec, "chardev:")) {
        if (!chardev_id_exists(cfg, spec + 8)) {
            error_setg(errp, "chardev '%s' not found", spec + 8);
            return false;
        }
        g_ptr_array_add(cfg->serials, g_strdup(spec + 8));
        return true;
    }
    id = g_strdup_printf("serial%u", cfg->serials->len);
    text = vl_compat_chardev(spec, id, &mux, errp);
    if (!text || !add_chardev(st, text, errp)) {
        g_free(text);
        g_free(id);
        return false;
    }
    g_ptr_array_add(cfg->serials, g_strdup(id));
    if (mux) {
        add_monitor(st, id, MON_MODE_READLINE, false);
    }
    g_free(text);
    g_free(id);
    return true;
}

/* ---- misc ----------------------------------------------------------- */

static bool opt_add_fd(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv = keyval_parse(arg, NULL, errp);
    uint64_t fd, set;
    bool ok = false;

    if (!kv) {
        return false;
    }
    keyval_get(kv, "opaque");
    if (!keyval_has(kv, "fd")) {
        error_setg(errp, "parameter 'fd' is missing");
        goto out;
    }
    if (!keyval_has(kv, "set")) {
        error_setg(errp, "parameter 'set' is missing");
        goto out;
    }
    if (!keyval_get_u64(kv, "fd", 0, &fd, errp) ||
        !keyval_get_u64(kv, "set", 0, &set, errp) ||
        !check_all_used(kv, errp)) {
        goto out;
    }
    if (fd <= STDERR_FILENO || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0) {
        error_setg(errp, "fd %" PRIu64 " is not valid or already in use", fd);
        goto out;
    }
    if (set > INT64_MAX) {
        error_setg(errp, "fd set %" PRIu64 " is out of range", set);
        goto out;
    }
    g_ptr_array_add(st->cfg->add_fds, g_strdup(arg));
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

static bool opt_display(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv;
    const char *type;
    bool ok = false;

    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        g_string_append(st->out, "Available display backend types:\nnone\n");
        st->exit_ok = true;
        return true;
    }
    kv = keyval_parse(arg, "type", errp);
    if (!kv) {
        return false;
    }
    type = keyval_get(kv, "type");
    if (!type || strcmp(type, "none") != 0) {
        error_setg(errp, "display '%s' is not supported (only 'none')",
                   type ? type : "");
        goto out;
    }
    if (!check_all_used(kv, errp)) {
        goto out;
    }
    st->cfg->display_none = true;
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

static bool opt_name(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv = keyval_parse(arg, "guest", errp);
    const char *name;
    bool dbg, ok = false;

    if (!kv) {
        return false;
    }
    name = keyval_get(kv, "guest");
    /* vireo always names its threads, which is what debug-threads=on asks */
    if (!keyval_get_bool(kv, "debug-threads", true, &dbg, errp)) {
        goto out;
    }
    if (keyval_has(kv, "process")) {
        error_setg(errp, "parameter 'process' is not supported");
        goto out;
    }
    if (!check_all_used(kv, errp)) {
        goto out;
    }
    if (name) {
        set_str(&st->cfg->name, name);
    }
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

static int hexval(char c)
{
    return g_ascii_xdigit_value(c);
}

static bool parse_uuid(const char *s, uint8_t out[16])
{
    static const int dash[] = {8, 13, 18, 23};
    int j = 0;

    if (strlen(s) != 36) {
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(dash); i++) {
        if (s[dash[i]] != '-') {
            return false;
        }
    }
    for (int i = 0; i < 36;) {
        if (s[i] == '-') {
            i++;
            continue;
        }
        if (hexval(s[i]) < 0 || hexval(s[i + 1]) < 0) {
            return false;
        }
        out[j++] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
        i += 2;
    }
    return j == 16;
}

static bool valid_rtc_date(const char *s)
{
    int y, mo, d, h, mi, sec, n = 0;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
               &n) == 6 &&
        s[n] == '\0' && n == 19) {
        return g_date_valid_dmy(d, mo, y) && h < 24 && mi < 60 && sec < 60 &&
               h >= 0 && mi >= 0 && sec >= 0;
    }
    n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && s[n] == '\0' &&
        n == 10) {
        return g_date_valid_dmy(d, mo, y);
    }
    return false;
}

static bool opt_rtc(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv = keyval_parse(arg, NULL, errp);
    const char *base, *clock, *drift;
    bool ok = false;

    if (!kv) {
        return false;
    }
    base = keyval_get(kv, "base");
    clock = keyval_get(kv, "clock");
    drift = keyval_get(kv, "driftfix");
    if (!check_all_used(kv, errp)) {
        goto out;
    }
    /* clock=host and driftfix=none are what vireo does: accepted. */
    if (clock && strcmp(clock, "host") != 0) {
        error_setg(errp, "clock=%s is not supported (only clock=host)", clock);
        goto out;
    }
    if (drift && strcmp(drift, "none") != 0) {
        error_setg(errp, "driftfix=%s is not supported (only driftfix=none)",
                   drift);
        goto out;
    }
    if (base) {
        if (strcmp(base, "utc") != 0 && strcmp(base, "localtime") != 0 &&
            !valid_rtc_date(base)) {
            error_setg(errp,
                       "invalid datetime format '%s': valid formats: "
                       "'2006-06-17T16:01:21' or '2006-06-17'",
                       base);
            goto out;
        }
        set_str(&st->cfg->rtc_base, base);
    }
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

static bool opt_sandbox(struct vl_state *st, const char *arg, Error **errp)
{
    /* vireo's filters are allowlists that already deny these groups, so
     * "deny" is accepted and "allow" cannot be honoured. */
    static const char *const groups[] = {"obsolete", "elevateprivileges",
                                         "spawn", "resourcecontrol"};
    struct keyval *kv = keyval_parse(arg, "enable", errp);
    bool on, ok = false;

    if (!kv) {
        return false;
    }
    if (!keyval_has(kv, "enable")) {
        error_setg(errp, "parameter 'enable' is missing");
        goto out;
    }
    if (!keyval_get_bool(kv, "enable", false, &on, errp)) {
        goto out;
    }
    for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
        const char *v = keyval_get(kv, groups[i]);
        if (v && strcmp(v, "deny") != 0) {
            error_setg(errp,
                       "%s=%s is not supported (vireo's filter always "
                       "denies it)",
                       groups[i], v);
            goto out;
        }
    }
    if (!check_all_used(kv, errp)) {
        goto out;
    }
    st->cfg->sandbox = on;
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

static bool opt_device(struct vl_state *st, const char *arg, Error **errp)
{
    struct machine_config *cfg = st->cfg;
    struct device_opts *o;
    const char *comma;

    if (!*arg) {
        error_setg(errp, "-device %s: missing driver name", arg);
        return false;
    }
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        set_str(&cfg->help_request, "device");
        st->exit_ok = true;
        return true;
    }
    comma = strchr(arg, ',');
    if (comma && (!strcmp(comma, ",help") || !strcmp(comma, ",?"))) {
        char *drv = g_strndup(arg, comma - arg);
        g_free(cfg->help_request);
        cfg->help_request = g_strdup_printf("device:%s", drv);
        g_free(drv);
        st->exit_ok = true;
        return true;
    }
    if (arg[0] == '{') {
        /* libvirt's JSON form, as QEMU >= 6.2 takes it */
        char *perr = NULL;
        struct json_value *j = json_parse(arg, strlen(arg), &perr);

        if (!j) {
            error_setg(errp, "-device %s: %s", arg, perr);
            g_free(perr);
            return false;
        }
        o = device_opts_from_json(j, arg, errp);
        json_free(j);
    } else {
        o = device_opts_parse(arg, errp);
    }
    if (!o) {
        /* QEMU's form: "-device TEXT: reason" */
        error_prepend(errp, "-device %s: ", arg);
        return false;
    }
    g_ptr_array_add(cfg->devices, o);
    return true;
}

/* ---- -object and the options libvirt adds ------------------------- */

static bool opt_object(struct vl_state *st, const char *arg, Error **errp)
{
    struct machine_config *cfg = st->cfg;
    struct object *obj;
    const char *comma = strchr(arg, ',');

    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        set_str(&cfg->help_request, "object");
        st->exit_ok = true;
        return true;
    }
    if (arg[0] != '{' && comma &&
        (!strcmp(comma, ",help") || !strcmp(comma, ",?"))) {
        char *type = g_strndup(arg, comma - arg);
        g_free(cfg->help_request);
        cfg->help_request = g_strdup_printf("object:%s", type);
        g_free(type);
        st->exit_ok = true;
        return true;
    }
    obj = object_parse(arg, errp);
    if (!obj) {
        return false;
    }
    if (object_find(cfg->objects, obj->id)) {
        error_setg(errp,
                   "attempt to add duplicate property '%s' to object "
                   "(type 'container')",
                   obj->id);
        object_free(obj);
        return false;
    }
    /* sev/ launches one confidential guest: the machine's reference
     * (-machine confidential-guest-support=ID) is checked later. */
    if (object_sev_config(obj)) {
        if (cfg->sev) {
            error_setg(errp, "only one sev-guest or sev-snp-guest object");
            object_free(obj);
            return false;
        }
        cfg->sev = object_sev_config(obj);
    }
    g_ptr_array_add(cfg->objects, obj);
    return true;
}

/* Reads "key=on|off" options whose only honest value is one of them:
 * vireo never locks guest memory nor passes CPU power management through.
 */
static bool opt_overcommit(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv = keyval_parse(arg, NULL, errp);
    bool lock, pm, ok = false;

    if (!kv) {
        return false;
    }
    if (keyval_has(kv, "mem-lock") &&
        !strcmp(keyval_get(kv, "mem-lock"), "on-fault")) {
        error_setg(errp, "mem-lock=on-fault is not supported (only off)");
        goto out;
    }
    if (!keyval_get_bool(kv, "mem-lock", false, &lock, errp) ||
        !keyval_get_bool(kv, "cpu-pm", false, &pm, errp) ||
        !check_all_used(kv, errp)) {
        goto out;
    }
    if (lock) {
        error_setg(errp, "mem-lock=on is not supported (only off)");
    } else if (pm) {
        error_setg(errp, "cpu-pm=on is not supported (only off)");
    } else {
        ok = true;
    }
out:
    keyval_free(kv);
    return ok;
}

/* vireo boots only its -bios or -kernel: there is no device to fall back
 * to, so strict=on is what it always does, and strict=off changes nothing
 * either.  Boot order and menus need a firmware interface vireo lacks. */
static bool opt_boot(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv;
    bool strict, ok;

    if (!strchr(arg, '=')) {
        error_setg(errp,
                   "boot order '%s' is not supported (vireo boots its "
                   "-bios or -kernel)",
                   arg);
        return false;
    }
    kv = keyval_parse(arg, NULL, errp);
    if (!kv) {
        return false;
    }
    ok = keyval_get_bool(kv, "strict", true, &strict, errp) &&
         check_all_used(kv, errp);
    keyval_free(kv);
    return ok;
}

static bool opt_msg(struct vl_state *st, const char *arg, Error **errp)
{
    struct keyval *kv = keyval_parse(arg, NULL, errp);
    bool ts, name, ok = false;

    if (!kv) {
        return false;
    }
    if (keyval_get_bool(kv, "timestamp", false, &ts, errp) &&
        keyval_get_bool(kv, "guest-name", false, &name, errp) &&
        check_all_used(kv, errp)) {
        if (name) {
            error_setg(errp, "guest-name=on is not supported");
        } else {
            st->cfg->msg_timestamp = ts;
            ok = true;
        }
    }
    keyval_free(kv);
    return ok;
}

/* -machine confidential-guest-support=ID / memory-encryption=ID. */
static bool check_cgs(struct machine_config *cfg, Error **errp)
{
    static const char *const keys[] = {"confidential-guest-support",
                                       "memory-encryption"};
    struct keyval *kv;
    bool ok = true;

    if (!cfg->machine_opts || !*cfg->machine_opts) {
        return true;
    }
    kv = keyval_parse(cfg->machine_opts, NULL, errp);
    if (!kv) {
        return false;
    }
    for (size_t i = 0; ok && i < ARRAY_SIZE(keys); i++) {
        const char *id = keyval_get(kv, keys[i]);

        if (id) {
            ok = sev_config_check_ref(cfg->sev, keys[i], id, errp);
            cfg->sev_enabled = ok;
        }
    }
    keyval_free(kv);
    return ok;
}

/* -audiodev: vireo has no sound device, so the only backend that does what
 * it says is "none" (QEMU's null backend).  JSON or key=value. */
static bool opt_audiodev(struct vl_state *st, const char *arg, Error **errp)
{
    struct machine_config *cfg = st->cfg;
    char *id = NULL, *driver = NULL;
    bool ok = false;

    if (arg[0] == '{') {
        char *perr = NULL;
        struct json_value *j = json_parse(arg, strlen(arg), &perr);

        if (!j || !json_is(j, JSON_OBJECT)) {
            error_setg(errp, "invalid JSON: %s", perr ? perr : "not an object");
            g_free(perr);
            json_free(j);
            return false;
        }
        for (size_t i = 0; i < json_object_len(j); i++) {
            const struct json_member *mb = json_object_member(j, i);
            const char *v = json_string(mb->val);

            if (strcmp(mb->key, "id") != 0 && strcmp(mb->key, "driver") != 0) {
                error_setg(errp, "Parameter '%s' is unexpected", mb->key);
                break;
            }
            if (!v) {
                error_setg(errp,
                           "Invalid parameter type for '%s', expected: "
                           "string",
                           mb->key);
                break;
            }
            set_str(!strcmp(mb->key, "id") ? &id : &driver, v);
        }
        json_free(j);
        if (*errp) {
            goto out;
        }
    } else {
        struct keyval *kv = keyval_parse(arg, "driver", errp);

        if (!kv) {
            return false;
        }
        set_str(&driver, keyval_get(kv, "driver"));
        set_str(&id, keyval_get(kv, "id"));
        ok = check_all_used(kv, errp);
        keyval_free(kv);
        if (!ok) {
            goto out;
        }
        ok = false;
    }
    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
    } else if (!id || !*id) {
        error_setg(errp, "Parameter 'id' is missing");
    } else if (strcmp(driver, "none") != 0) {
        error_setg(errp,
                   "audio driver '%s' is not supported (vireo has no "
                   "sound device; only 'none')",
                   driver);
    } else if (g_ptr_array_find_with_equal_func(cfg->audiodevs, id, g_str_equal,
                                                NULL)) {
        error_setg(errp, "duplicate audiodev id '%s'", id);
    } else {
        g_ptr_array_add(cfg->audiodevs, g_strdup(id));
        ok = true;
    }
out:
    g_free(id);
    g_free(driver);
    return ok;
}

/* -no-acpi is -machine acpi=off (QEMU 7.2 turns it into the property). */
static void opt_no_acpi(struct vl_state *st)
{
    struct machine_config *cfg = st->cfg;
    char *opts = g_strdup_printf("%s%sacpi=off", cfg->machine_opts,
                                 *cfg->machine_opts ? "," : "");

    g_free(cfg->machine_opts);
    cfg->machine_opts = opts;
}

/* -incoming: the migration code (migration/) receives the stream with
 * migrate-incoming; here only "defer" is known, which starts the machine
 * in the inmigrate state. */
static bool handle(struct vl_state *st, const struct vl_option *o,
                   const char *arg, Error **errp)
{
    struct machine_config *cfg = st->cfg;

    switch (o->opt) {
    case OPT_MACHINE:
        return opt_machine(st, arg, errp);
    case OPT_ACCEL:
        return opt_accel(st, arg, errp);
    case OPT_ENABLE_KVM:
        set_str(&cfg->accel, "kvm");
        return true;
    case OPT_CPU:
        if (!*arg) {
            error_setg(errp, "missing CPU model name");
            return false;
        }
        if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
            set_str(&cfg->help_request, "cpu");
            st->exit_ok = true;
            return true;
        }
        set_str(&cfg->cpu_model, arg);
        return true;
    case OPT_SMP:
        return opt_smp(st, arg, errp);
    case OPT_M:
        return opt_m(st, arg, errp);
    case OPT_BIOS:
        set_str(&cfg->bios, arg);
        return true;
    case OPT_KERNEL:
        set_str(&cfg->kernel, arg);
        return true;
    case OPT_INITRD:
        set_str(&cfg->initrd, arg);
        return true;
    case OPT_APPEND:
        set_str(&cfg->append, arg);
        return true;
    case OPT_DTB:
        set_str(&cfg->dtb, arg);
        return true;
    case OPT_SERIAL:
        return opt_serial(st, arg, errp);
    case OPT_CHARDEV:
        return opt_chardev(st, arg, errp);
    case OPT_QMP:
        return opt_monitor(st, arg, MON_MODE_CONTROL, false, errp);
    case OPT_QMP_PRETTY:
        return opt_monitor(st, arg, MON_MODE_CONTROL, true, errp);
    case OPT_MONITOR:
        return opt_monitor(st, arg, MON_MODE_READLINE, false, errp);
    case OPT_MON:
        return opt_mon(st, arg, errp);
    case OPT_ADD_FD:
        return opt_add_fd(st, arg, errp);
    case OPT_NOGRAPHIC:
        cfg->nographic = true;
        return true;
    case OPT_DISPLAY:
        return opt_display(st, arg, errp);
    case OPT_NODEFAULTS:
        cfg->nodefaults = true;
        return true;
    case OPT_NO_USER_CONFIG:
        cfg->no_user_config = true;
        return true;
    case OPT_NAME:
        return opt_name(st, arg, errp);
    case OPT_UUID:
        if (!parse_uuid(arg, cfg->uuid)) {
            error_setg(errp, "failed to parse UUID string '%s': wrong format",
                       arg);
            return false;
        }
        cfg->has_uuid = true;
        return true;
    case OPT_S:
        cfg->start_paused = true;
        return true;
    case OPT_NO_REBOOT:
        cfg->no_reboot = true;
        return true;
    case OPT_NO_SHUTDOWN:
        cfg->no_shutdown = true;
        return true;
    case OPT_DAEMONIZE:
        cfg->daemonize = true;
        return true;
    case OPT_PIDFILE:
        set_str(&cfg->pidfile, arg);
        return true;
    case OPT_LOGFILE:
        set_str(&cfg->logfile, arg);
        return true;
    case OPT_LOG:
        if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
            g_string_append(st->out, vlog_help());
            st->exit_ok = true;
            return true;
        }
        return vlog_parse_mask(arg, &cfg->log_mask, errp);
    case OPT_DEVICE:
        return opt_device(st, arg, errp);
    case OPT_DRIVE:
        return machine_config_add_drive(cfg, arg, errp);
    case OPT_BLOCKDEV:
        return machine_config_add_blockdev(cfg, arg, errp);
    case OPT_NETDEV:
        return machine_config_add_netdev(cfg, arg, errp);
    case OPT_NIC:
        return machine_config_add_nic(cfg, arg, errp);
    case OPT_RTC:
        return opt_rtc(st, arg, errp);
    case OPT_SANDBOX:
        return opt_sandbox(st, arg, errp);
    case OPT_INCOMING:
        set_str(&st->cfg->incoming, arg);
        return true;
    case OPT_DUMP_VMSTATE:
        set_str(&st->cfg->dump_vmstate, arg);
        return true;
    case OPT_OBJECT:
        return opt_object(st, arg, errp);
    case OPT_OVERCOMMIT:
        return opt_overcommit(st, arg, errp);
    case OPT_BOOT:
        return opt_boot(st, arg, errp);
    case OPT_MSG:
        return opt_msg(st, arg, errp);
    case OPT_AUDIODEV:
        return opt_audiodev(st, arg, errp);
    case OPT_NO_ACPI:
        opt_no_acpi(st);
        return true;
    case OPT_VERSION:
        g_string_append_printf(st->out,
                               "QEMU emulator version %d.%d.%d (vireo %s)\n"
                               "vireo: a QEMU-compatible VMM for x86_64 on "
                               "Linux KVM\n",
                               VIREO_QEMU_MAJOR, VIREO_QEMU_MINOR,
                               VIREO_QEMU_MICRO, VIREO_VERSION);
        st->exit_ok = true;
        return true;
    case OPT_HELP:
        usage(st->out);
        st->exit_ok = true;
        return true;
    case OPT_MEASURE_LAUNCH:
        cfg->measure_launch = true;
        return true;
    }
    g_assert_not_reached();
}

static bool stdio_in_use(struct machine_config *cfg)
{
    for (guint i = 0; i < cfg->chardevs->len; i++) {
        char *be = NULL;
        bool stdio;

        if (!chardev_parse_check(g_ptr_array_index(cfg->chardevs, i), NULL, &be,
                                 NULL, NULL)) {
            continue;
        }
        stdio = !strcmp(be, "stdio");
        g_free(be);
        if (stdio) {
            return true;
        }
    }
    return false;
}

/* QEMU's rule: without -m, guest RAM is as large as the memory backend
 * -machine memory-backend= names (with -m they must agree; the machine
 * checks that when it takes the RAM). */
static void ram_size_from_backend(struct machine_config *cfg)
{
    struct keyval *kv;
    const char *id;
    struct object *obj;

    if (cfg->ram_size_given || !*cfg->machine_opts) {
        return;
    }
    kv = keyval_parse(cfg->machine_opts, NULL, NULL);
    id = kv ? keyval_get(kv, "memory-backend") : NULL;
    obj = id ? object_find(cfg->objects, id) : NULL;
    if (obj && object_is_memory_backend(obj)) {
        cfg->ram_size = object_get_size(obj, "size");
    }
    keyval_free(kv);
}

/* Checks after every option is known: defaults, references, conflicts. */
static bool finish(struct vl_state *st, Error **errp)
{
    struct machine_config *cfg = st->cfg;
    bool stdio_seen = false;

    if (cfg->nodefaults) {
        st->default_serial = false;
        st->default_monitor = false;
    }
    if (machine_type_find(cfg->machine_type)->no_serial) {
        st->default_serial = false; /* as QEMU: e.g. the none machine */
    }
    ram_size_from_backend(cfg);
    if (cfg->nographic && cfg->daemonize &&
        (st->default_serial || st->default_monitor)) {
        error_setg(errp, "-nographic cannot be used with -daemonize");
        return false;
    }
    for (guint i = 0; i < st->serial_specs->len; i++) {
        const char *spec = g_ptr_array_index(st->serial_specs, i);
        if (!resolve_serial(st, spec, errp)) {
            error_prepend(errp, "-serial: ");
            return false;
        }
    }
    if (cfg->nographic) {
        if (st->default_serial && st->default_monitor) {
            if (!resolve_serial(st, "mon:stdio", errp)) {
                return false;
            }
        } else {
            if (st->default_serial && !resolve_serial(st, "stdio", errp)) {
                return false;
            }
            if (st->default_monitor &&
                !opt_monitor(st, "stdio", MON_MODE_READLINE, false, errp)) {
                return false;
            }
        }
    } else if (st->default_serial) {
        /* QEMU's default serial is a graphical console.  vireo has none:
         * stdio, unless detached or stdio is taken (e.g. -monitor stdio),
         * where QEMU's console would not be seen either. */
        bool stdio_free = !cfg->daemonize && !stdio_in_use(cfg);

        if (!resolve_serial(st, stdio_free ? "stdio" : "null", errp)) {
            return false;
        }
    }
    for (guint i = 0; i < st->mon_refs->len; i++) {
        const char *id = g_ptr_array_index(st->mon_refs, i);
        if (!chardev_id_exists(cfg, id)) {
            error_setg(errp, "-mon: chardev \"%s\" not found", id);
            return false;
        }
    }
    for (guint i = 0; i < cfg->chardevs->len; i++) {
        const char *text = g_ptr_array_index(cfg->chardevs, i);
        char *id = NULL, *backend = NULL;

        if (!chardev_parse_check(text, &id, &backend, NULL, errp)) {
            return false;
        }
        if (!strcmp(backend, "stdio")) {
            if (cfg->daemonize) {
                error_setg(
                    errp, "chardev '%s': cannot use stdio with -daemonize", id);
            } else if (stdio_seen) {
                error_setg(errp,
                           "chardev '%s': cannot use stdio by multiple "
                           "character devices",
                           id);
            }
            stdio_seen = true;
        }
        g_free(id);
        g_free(backend);
        if (*errp) {
            return false;
        }
    }
    if (!check_cgs(cfg, errp)) {
        return false;
    }
    if (!cfg->kernel) {
        if (cfg->initrd) {
            error_setg(errp, "-initrd only allowed with -kernel option");
            return false;
        }
        if (cfg->append) {
            error_setg(errp, "-append only allowed with -kernel option");
            return false;
        }
        if (cfg->dtb) {
            error_setg(errp, "-dtb only allowed with -kernel option");
            return false;
        }
    }
    return true;
}

enum vl_result vl_parse(int argc, char **argv, struct machine_config *cfg,
                        GString *out, Error **errp)
{
    struct vl_state st = {
        .cfg = cfg,
        .out = out,
        .default_serial = true,
        .default_monitor = true,
    };
    enum vl_result res = VL_ERROR;
    Error *err = NULL;

    st.serial_specs = g_ptr_array_new_with_free_func(g_free);
    st.mon_refs = g_ptr_array_new_with_free_func(g_free);
    g_strfreev(cfg->argv);
    cfg->argv = g_new0(char *, argc + 1);
    for (int i = 0; i < argc; i++) {
        cfg->argv[i] = g_strdup(argv[i]);
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *name = a + 1;
        const struct vl_option *o;
        const char *arg = NULL;

        if (a[0] != '-' || a[1] == '\0') {
            error_setg(errp,
                       "%s: a disk image without an option is not "
                       "supported (use -device)",
                       a);
            goto out;
        }
        if (name[0] == '-') {
            name++;
        }
        o = find_option(name);
        if (!o) {
            error_setg(errp, "%s: invalid option", a);
            goto out;
        }
        if (o->has_arg) {
            if (i + 1 >= argc) {
                error_setg(errp, "%s: requires an argument", a);
                goto out;
            }
            arg = argv[++i];
        }
        if (!handle(&st, o, arg, &err)) {
            g_autofree char *own = g_strdup_printf("%s:", a);

            if (o->opt == OPT_LOG || o->opt == OPT_DEVICE ||
                g_str_has_prefix(error_get_pretty(err), own)) {
                /* already says "-d:" / "-device TEXT:" / "-drive:"... */
                error_propagate(errp, err);
            } else {
                error_prepend(&err, "%s: ", a);
                error_propagate(errp, err);
            }
            goto out;
        }
        if (st.exit_ok) {
            res = VL_EXIT_OK;
            goto out;
        }
    }
    if (!finish(&st, &err)) {
        error_propagate(errp, err);
        goto out;
    }
    res = VL_RUN;
out:
    g_ptr_array_unref(st.serial_specs);
    g_ptr_array_unref(st.mon_refs);
    return res;
}
