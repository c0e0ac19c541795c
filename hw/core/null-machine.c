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

/* init_memory: there is no memory; anything that would need a guest is
 * refused rather than dropped.  (-smp > 1 is refused by max_cpus, unknown
 * -machine keys by machine_opts().) */
static bool none_init_memory(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;

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
    if (cfg->serials->len) {
        error_setg(errp, "-machine none has no serial ports (-serial)");
        return false;
    }
    if (cfg->devices->len) {
        error_setg(errp, "-machine none has no bus for -device");
        return false;
    }
    return true;
}

const struct machine_type none_machine_type = {
    .name = "none",
    .desc = "empty machine",
    .no_guest = true,
    .no_serial = true,
    .max_cpus = 1,
    /* KVM wants a place for its identity map and TSS even in a VM that
     * never runs; QEMU's default address (no guest memory to avoid). */
    .kvm_sys_pages = 0xfeffc000ULL,
    .init_memory = none_init_memory,
};
