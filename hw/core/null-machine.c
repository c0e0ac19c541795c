/* SPDX-License-Identifier: MIT */
/*
 * null-machine.c: QEMU's "none" machine: no RAM, no vCPU, no device, no
 * firmware.  libvirt starts "-machine none,accel=kvm:tcg" to probe a
 * binary over QMP (libvirt's qemu_capabilities.c), so the machine exists
 * only to serve the monitors.  With no guest code to run it needs no
 * accelerator: machine_new() opens /dev/kvm if it can, so that query-kvm
 * says the truth, and carries on without it when the accelerator list
 * allows a fallback (docs/qemu-compat.md).
 */
#include "util/common.h"
#include "system/machine.h"
#include "util/keyval.h"

static bool none_init(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    struct keyval *kv;
    bool ok;

    /* Anything that would need a guest is refused rather than dropped. */
    if (cfg->bios || cfg->kernel) {
        error_setg(errp, "-machine none runs no guest: %s is not used",
                   cfg->bios ? "-bios" : "-kernel");
        return false;
    }
    /* QEMU would give "none" RAM; vireo's none has no memory at all */
    if (cfg->ram_size_given) {
        error_setg(errp, "-machine none has no guest RAM (-m)");
        return false;
    }
    if (cfg->smp_cpus > 1 || cfg->smp_maxcpus > 1) {
        error_setg(errp,
                   "Invalid SMP CPUs %u. The max CPUs supported by "
                   "machine 'none' is 1",
                   MAX(cfg->smp_cpus, cfg->smp_maxcpus));
        return false;
    }
    if (cfg->serials->len) {
        error_setg(errp, "-machine none has no serial ports (-serial)");
        return false;
    }
    if (cfg->devices->len) {
        error_setg(errp, "-machine none has no bus for -device");
        return false;
    }
    if (!cfg->machine_opts || !*cfg->machine_opts) {
        return true;
    }
    kv = keyval_parse(cfg->machine_opts, NULL, errp);
    if (!kv) {
        error_prepend(errp, "-machine: ");
        return false;
    }
    ok = keyval_check_all_used(kv, "-machine none", errp);
    keyval_free(kv);
    return ok;
}

const struct machine_type none_machine_type = {
    .name = "none",
    .desc = "empty machine",
    .no_guest = true,
    .init = none_init,
};
