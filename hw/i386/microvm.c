/* SPDX-License-Identifier: MIT */
/*
 * microvm.c: vireo's "microvm" machine, after QEMU's: no PCI, no legacy
 * chipset beyond what a firmware or kernel needs (COM ports, i8042 reset
 * line, port 0x80, an RTC), hardware-reduced ACPI (the acpi-ged device:
 * sleep control register for poweroff, the GED for the power button).
 * Everything microvm-specific is behind its struct machine_type hooks.
 * Interrupts: KVM's LAPICs and vireo's userspace IOAPIC by default
 * (kernel-irqchip=split: no PIC, no PIT, as Cloud Hypervisor and
 * Firecracker-style guests expect), or KVM's whole PIC/IOAPIC/PIT with -machine
 * kernel-irqchip=on.
 *
 * Memory: RAM from 0 up to MICROVM_LOWMEM_END, the rest above 4 GiB.  A
 * -bios image is mapped just below 4 GiB with its last 128 KiB aliased
 * below 1 MiB (QEMU's rule), so the reset vector finds it; writable, as
 * QEMU's microvm has it (see x86_bios_load).
 */
#include "util/common.h"
#include "system/machine.h"
#include "hw/acpi/ged.h"
#include "hw/core/device.h"
#include "hw/i386/microvm-layout.h"
#include "hw/i386/x86-board.h"
#include "hw/i386/x86-boot.h"
#include "hw/intc/x86-intc.h"
#include "system/guest-mem.h"
#include "system/memory.h"
#include "hw/virtio/virtio-mmio.h"
#include "system/object.h"
#include "util/keyval.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The -machine properties of microvm, beyond kernel-irqchip. */
struct microvm_opts {
    char *memory_backend; /* -object id guest RAM comes from, or NULL */
    bool dump_guest_core; /* default on: guest RAM in core dumps */
    bool acpi;            /* default on: power button and sleep control */
};

/*
 * Guest RAM: vireo's own memfd, or the memory backend named by
 * memory-backend= (libvirt names one because query-machines reports a
 * default-ram-id).  As QEMU, the backend's size must be the RAM size.
 */
static struct guest_mem *ram_from_backend(struct machine *m, const char *id,
                                          Error **errp)
{
    struct object *obj = object_find(m->cfg->objects, id);
    uint64_t size;
    int fd;

    if (!obj || !object_is_memory_backend(obj)) {
        error_setg(errp, "-machine memory-backend=%s: %s", id,
                   obj ? "not a memory backend" : "no such -object");
        return NULL;
    }
    size = object_get_size(obj, "size");
    if (size != m->cfg->ram_size) {
        error_setg(errp,
                   "Machine memory size (%" PRIu64 " bytes, -m) does not "
                   "match the size of the memory backend '%s' (%" PRIu64
                   " bytes)",
                   m->cfg->ram_size, id, size);
        return NULL;
    }
    fd = fcntl(obj->fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
        error_setg_errno(errp, errno, "memory backend '%s'", id);
        return NULL;
    }
    return gm_new_fd(fd, size, object_get_bool(obj, "share"), errp);
}

/* -machine keys microvm understands beyond accel= and kernel-irqchip=
 * (machine_opts() refuses any other).  QEMU's other microvm keys (pic=,
 * rtc=, x-option-roms=...) are refused rather than accepted and ignored
 * (house rule 4); usb= is accepted only as off (libvirt gives it). */
static const char *const microvm_options[] = {
    "memory-backend", "dump-guest-core", "acpi", "usb", NULL,
};

/*
 * Reads microvm's -machine keys (the hooks only get the machine, so each
 * that needs them reads them again; the key set was already checked by
 * machine_opts()).  Checks the values, whichever hook asks first.
 */
static bool microvm_read_opts(struct machine *m, struct microvm_opts *o,
                              Error **errp)
{
    struct keyval *kv;
    const char *acpi, *be;
    bool usb, ok = false;

    o->memory_backend = NULL;
    o->dump_guest_core = true;
    o->acpi = true;
    if (!m->cfg->machine_opts || !*m->cfg->machine_opts) {
        return true;
    }
    kv = keyval_parse(m->cfg->machine_opts, NULL, errp);
    if (!kv) {
        error_prepend(errp, "-machine: ");
        return false;
    }
    acpi = keyval_get(kv, "acpi");
    be = keyval_get(kv, "memory-backend");
    if (!keyval_get_bool(kv, "usb", false, &usb, errp) ||
        !keyval_get_bool(kv, "dump-guest-core", true, &o->dump_guest_core,
                         errp)) {
        goto out;
    }
    if (usb) {
        error_setg(errp, "-machine microvm: usb=on: microvm has no USB "
                         "controller");
        goto out;
    }
    if (acpi && strcmp(acpi, "auto") != 0 && !parse_bool(acpi, &o->acpi)) {
        error_setg(errp,
                   "-machine microvm: acpi=%s: expected on, off or "
                   "auto",
                   acpi);
        goto out;
    }
    if (!o->acpi && m->cfg->kernel) {
        /* the -kernel path always gives the kernel ACPI tables */
        error_setg(errp, "-machine microvm: acpi=off (-no-acpi) is not "
                         "supported with -kernel");
        goto out;
    }
    o->memory_backend = g_strdup(be);
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

static bool microvm_init_memory(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    g_autofree char *backend = NULL;
    struct microvm_opts o;

    if (!microvm_read_opts(m, &o, errp)) {
        return false;
    }
    backend = o.memory_backend;
    if (!cfg->bios && !cfg->kernel) {
        error_setg(errp, "no firmware or kernel to boot: give -bios FILE "
                         "or -kernel FILE");
        return false;
    }
    if (o.memory_backend) {
        m->gm = ram_from_backend(m, o.memory_backend, errp);
        if (!m->gm) {
            return false;
        }
    }
    if (!x86_setup_ram(m, MICROVM_LOWMEM_END, cfg->bios != NULL, errp)) {
        return false;
    }
    /* dump-guest-core=off: keep guest memory out of vireo's core dumps. */
    if (!o.dump_guest_core &&
        madvise(m->gm->ram, m->gm->ram_size, MADV_DONTDUMP) < 0) {
        error_setg_errno(errp, errno, "dump-guest-core=off: madvise");
        return false;
    }
    return !cfg->bios || x86_bios_load(m, cfg->bios, errp);
}

/* The microvm's ACPI tables describe the GED at these: keep them equal. */
G_STATIC_ASSERT(MICROVM_ACPI_SLEEP_CTL_PORT ==
                ACPI_GED_DEFAULT_IOBASE + ACPI_GED_SLEEP_CTL);
G_STATIC_ASSERT(MICROVM_ACPI_SLEEP_STS_PORT ==
                ACPI_GED_DEFAULT_IOBASE + ACPI_GED_SLEEP_STS);
G_STATIC_ASSERT(MICROVM_ACPI_GED_PORT ==
                ACPI_GED_DEFAULT_IOBASE + ACPI_GED_EVT_SEL);
G_STATIC_ASSERT(MICROVM_ACPI_GED_IRQ == ACPI_GED_DEFAULT_IRQ);
G_STATIC_ASSERT(MICROVM_GED_PWR_DOWN_EVT == ACPI_GED_PWR_DOWN_EVT);

static bool microvm_init_devices(struct machine *m, Error **errp)
{
    struct microvm_opts o;

    if (!microvm_read_opts(m, &o, errp)) {
        return false;
    }
    g_free(o.memory_backend);
    /* acpi=off (-no-acpi): no acpi-ged, so no ACPI registers (a -bios
     * guest then finds no PM block) and no power button to press. */
    if (o.acpi && !device_create(m, "acpi-ged", NULL, 0, errp)) {
        return false;
    }
    return x86_add_legacy_devices(m, errp);
}

/* -kernel: load it, write boot info and ACPI, set the BSP entry. */
static bool microvm_init_boot(struct machine *m, Error **errp)
{
    return !m->cfg->kernel || x86_boot_setup(m, errp);
}

/* virtio-mmio slot index: QEMU microvm's windows, one GSI each. */
static bool microvm_virtio_mmio_slot(struct machine *m, unsigned index,
                                     uint64_t *base, unsigned *gsi,
                                     Error **errp)
{
    if (index >= X86_VIRTIO_MMIO_SLOTS) {
        error_setg(errp, "microvm has %u virtio-mmio slots, all in use",
                   X86_VIRTIO_MMIO_SLOTS);
        return false;
    }
    *base = MICROVM_VIRTIO_MMIO_BASE + (uint64_t)index * VIRTIO_MMIO_SIZE;
    *gsi = MICROVM_VIRTIO_MMIO_GSI + index;
    return true;
}

static const struct x86_boot_state *microvm_boot_cpu_state(struct machine *m)
{
    return x86_boot_cpu_state(m);
}

static void microvm_power_button(struct machine *m)
{
    struct device *ged = machine_find_device(m, "acpi-ged");

    if (ged) {
        acpi_ged_power_button(ged);
    }
}

const struct machine_type microvm_machine_type = {
    .name = "microvm",
    .desc = "microvm (i386): minimal machine, no PCI, hardware-reduced ACPI",
    .is_default = true,
    .max_cpus = 288, /* QEMU's limit for microvm */
    .default_ram_id = "microvm.ram",
    .options = microvm_options,
    .kvm_sys_pages = MICROVM_KVM_IDMAP_ADDR,
    .check_config = x86_boot_check_files,
    .init_memory = microvm_init_memory,
    .init_interrupts = x86_intc_create,
    .init_devices = microvm_init_devices,
    .init_boot = microvm_init_boot,
    .reset = x86_boot_reset,
    .boot_cpu_state = microvm_boot_cpu_state,
    .power_button = microvm_power_button,
    .virtio_blk_driver = "virtio-blk-device",
    .default_nic = "virtio-net-device",
    .virtio_mmio_slot = microvm_virtio_mmio_slot,
    .free = x86_boot_free,
};
