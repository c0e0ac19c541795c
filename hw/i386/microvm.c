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
 * -bios image is mapped read-only just below 4 GiB with its last 128 KiB
 * aliased below 1 MiB (QEMU's rule), so the reset vector finds it.
 */
#include "util/common.h"
#include "system/machine.h"
#include "hw/acpi/ged.h"
#include "hw/core/device.h"
#include "hw/i386/microvm-layout.h"
#include "hw/i386/x86-boot.h"
#include "hw/intc/x86-intc.h"
#include "system/guest-mem.h"
#include "system/memory.h"
#include "system/object.h"
#include "util/keyval.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIOS_MAX_SIZE (16 * MiB)

static const struct {
    uint16_t port;
    uint8_t irq;
} com_ports[] = {{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}};

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

static bool setup_ram(struct machine *m, const struct microvm_opts *o,
                      bool bios_alias, Error **errp)
{
    uint64_t size = m->cfg->ram_size;
    uint64_t below = MIN(size, MICROVM_LOWMEM_END);

    m->gm = o->memory_backend ? ram_from_backend(m, o->memory_backend, errp)
                              : gm_new(size, errp);
    if (!m->gm) {
        return false;
    }
    /* dump-guest-core=off: keep guest memory out of vireo's core dumps. */
    if (!o->dump_guest_core &&
        madvise(m->gm->ram, m->gm->ram_size, MADV_DONTDUMP) < 0) {
        error_setg_errno(errp, errno, "dump-guest-core=off: madvise");
        return false;
    }
    if (bios_alias && below > MICROVM_BIOS_LOW_BASE) {
        /* The BIOS alias sits at 0xe0000..0xfffff: RAM goes around it. */
        if (!gm_add_ram(m->gm, 0, 0, MICROVM_BIOS_LOW_BASE, "ram-low", errp)) {
            return false;
        }
        if (below > 1 * MiB &&
            !gm_add_ram(m->gm, 1 * MiB, 1 * MiB, below - 1 * MiB,
                        "ram-below-4g", errp)) {
            return false;
        }
    } else if (!gm_add_ram(m->gm, 0, 0, below, "ram-below-4g", errp)) {
        return false;
    }
    if (size > below && !gm_add_ram(m->gm, MICROVM_HIGHMEM_BASE, below,
                                    size - below, "ram-above-4g", errp)) {
        return false;
    }
    return true;
}

/* Reads the whole of fd into buf (len bytes). */
static bool read_full(int fd, uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = read(fd, buf, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO; /* shrank since fstat */
            }
            return false;
        }
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* The image is read straight into its ROM mapping (populated up front):
 * no heap copy, and no page fault per 4 KiB page, which costs more than
 * the copy in a VM with shadow page tables. */
static bool load_bios(struct machine *m, const char *path, Error **errp)
{
    struct stat st;
    uint64_t isa_size;
    size_t len;
    uint8_t *rom;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        error_setg(errp, "-bios: cannot read '%s': %s", path,
                   g_strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        error_setg(errp, "-bios: cannot read '%s': not a regular file", path);
        goto fail;
    }
    len = (size_t)st.st_size;
    /* QEMU's rule: a non-empty multiple of 64 KiB. */
    if (len == 0 || len % (64 * KiB) != 0) {
        error_setg(errp,
                   "-bios: '%s' is %zu bytes; a firmware image must be a "
                   "non-empty multiple of 64 KiB",
                   path, len);
        goto fail;
    }
    if (len > BIOS_MAX_SIZE) {
        error_setg(errp, "-bios: '%s' is %zu bytes; the limit is 16 MiB", path,
                   len);
        goto fail;
    }
    rom = gm_add_rom(m->gm, 4 * GiB - len, len, "bios", errp);
    if (!rom) {
        goto fail;
    }
    if (!read_full(fd, rom, len)) {
        error_setg(errp, "-bios: cannot read '%s': %s", path,
                   g_strerror(errno));
        goto fail;
    }
    close(fd);
    isa_size = MIN((uint64_t)len, MICROVM_BIOS_LOW_SIZE);
    m->bios_rom = rom;
    m->bios_size = len;
    return gm_add_alias(m->gm, 1 * MiB - isa_size, rom + len - isa_size,
                        isa_size, true, "isa-bios", errp);
fail:
    if (fd >= 0) {
        close(fd);
    }
    return false;
}

static bool add_device(struct machine *m, const char *name, Error **errp)
{
    return device_create(m, name, NULL, 0, errp) != NULL;
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
    if (!setup_ram(m, &o, cfg->bios != NULL, errp)) {
        return false;
    }
    return !cfg->bios || load_bios(m, cfg->bios, errp);
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
    const struct machine_config *cfg = m->cfg;
    struct microvm_opts o;

    if (!microvm_read_opts(m, &o, errp)) {
        return false;
    }
    g_free(o.memory_backend);
    /* acpi=off (-no-acpi): no acpi-ged, so no ACPI registers (a -bios
     * guest then finds no PM block) and no power button to press. */
    if (o.acpi && !add_device(m, "acpi-ged", errp)) {
        return false;
    }
    if (cfg->serials->len > ARRAY_SIZE(com_ports)) {
        error_setg(errp, "-serial: at most %zu serial ports",
                   ARRAY_SIZE(com_ports));
        return false;
    }
    for (guint i = 0; i < cfg->serials->len; i++) {
        const char *id = g_ptr_array_index(cfg->serials, i);
        const struct prop_value com[] = {
            PROP_VAL_CHARDEV("chardev", id),
            PROP_VAL_U32("iobase", com_ports[i].port),
            PROP_VAL_U32("irq", com_ports[i].irq),
        };
        if (!id) {
            continue; /* -serial none */
        }
        if (!device_create(m, "isa-serial", com, ARRAY_SIZE(com), errp)) {
            return false;
        }
    }
    return add_device(m, "port80", errp) && add_device(m, "i8042", errp) &&
           add_device(m, "mc146818rtc", errp);
}

/* -kernel: load it, write boot info and ACPI, set the BSP entry. */
static bool microvm_init_boot(struct machine *m, Error **errp)
{
    return !m->cfg->kernel || x86_boot_setup(m, errp);
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
    .init_memory = microvm_init_memory,
    .init_interrupts = x86_intc_create,
    .init_devices = microvm_init_devices,
    .init_boot = microvm_init_boot,
    .reset = x86_boot_reset,
    .boot_cpu_state = microvm_boot_cpu_state,
    .power_button = microvm_power_button,
    .free = x86_boot_free,
};
