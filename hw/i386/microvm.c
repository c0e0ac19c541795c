/* SPDX-License-Identifier: MIT */
/*
 * microvm.c: vireo's "microvm" machine, after QEMU's: no PCI, no legacy
 * chipset beyond what a firmware or kernel needs (COM ports, i8042 reset
 * line, port 0x80, an RTC), hardware-reduced ACPI (sleep control register
 * for poweroff, a GED for the power button).  Interrupts: KVM's LAPICs and
 * vireo's userspace IOAPIC by default (kernel-irqchip=split: no PIC, no
 * PIT, as Cloud Hypervisor and Firecracker-style guests expect), or KVM's
 * whole PIC/IOAPIC/PIT with -machine kernel-irqchip=on.
 *
 * Memory: RAM from 0 up to MICROVM_LOWMEM_END, the rest above 4 GiB.  A
 * -bios image is mapped read-only just below 4 GiB with its last 128 KiB
 * aliased below 1 MiB (QEMU's rule), so the reset vector finds it.
 */
#include "util/common.h"
#include "system/machine.h"
#include "accel/kvm/kvm.h"
#include "hw/core/device.h"
#include "hw/i386/microvm-layout.h"
#include "hw/i386/x86-boot.h"
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

/*
 * Hardware-reduced ACPI: the sleep control register (write SLP_EN with
 * SLP_TYP=S5 to power off) and the GED event selector (power button).
 */
static uint64_t acpi_read(void *opaque, uint64_t off, unsigned size)
{
    struct machine *m = opaque;
    uint64_t v = 0;

    g_mutex_lock(&m->acpi_lock);
    switch (off) {
    case MICROVM_ACPI_SLEEP_STS_PORT - MICROVM_ACPI_SLEEP_CTL_PORT:
        v = m->acpi_sleep_sts;
        break;
    case MICROVM_ACPI_GED_PORT - MICROVM_ACPI_SLEEP_CTL_PORT:
        v = m->ged_events;
        m->ged_events = 0;
        kvm_set_irq(m->kvm, MICROVM_ACPI_GED_IRQ, false);
        break;
    default:
        break;
    }
    g_mutex_unlock(&m->acpi_lock);
    return v;
}

static void acpi_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct machine *m = opaque;

    switch (off) {
    case 0: /* sleep control */
        if ((val & MICROVM_ACPI_SLP_EN) &&
            ((val >> 2) & 7) == MICROVM_ACPI_SLP_TYP_S5) {
            machine_request(m, REQ_SHUTDOWN, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        } else if (val & MICROVM_ACPI_SLP_EN) {
            vlog_guest_error(&m->log, "acpi: sleep type %u is not supported",
                             (unsigned)((val >> 2) & 7));
        }
        break;
    case 1: /* sleep status: write 1 to clear */
        g_mutex_lock(&m->acpi_lock);
        m->acpi_sleep_sts &= ~val;
        g_mutex_unlock(&m->acpi_lock);
        break;
    default:
        break;
    }
}

static const struct io_ops acpi_ops = {
    .read = acpi_read,
    .write = acpi_write,
    .min_size = 1,
    .max_size = 4,
};

void machine_press_power_button(struct machine *m)
{
    if (m->acpi_disabled) {
        return; /* as QEMU without ACPI: nothing to press */
    }
    g_mutex_lock(&m->acpi_lock);
    m->ged_events |= MICROVM_GED_PWR_DOWN_EVT;
    g_mutex_unlock(&m->acpi_lock);
    kvm_set_irq(m->kvm, MICROVM_ACPI_GED_IRQ, true);
}

static bool add_device(struct machine *m, const char *text, Error **errp)
{
    struct keyval *kv = keyval_parse(text, "driver", errp);
    struct device *dev;

    if (!kv) {
        return false;
    }
    dev = device_create(m, keyval_get(kv, "driver"), kv, errp);
    keyval_free(kv);
    return dev != NULL;
}

static bool check_machine_opts(struct machine *m, struct microvm_opts *o,
                               Error **errp)
{
    struct keyval *kv;
    const char *acpi, *be;
    bool usb, ok = false;

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
    /* accel= was consumed by the command line, kernel-irqchip= by
     * machine_new (it decides how the VM is created). */
    keyval_get(kv, "accel");
    keyval_get(kv, "kernel-irqchip");
    keyval_get(kv, "kernel_irqchip");
    acpi = keyval_get(kv, "acpi");
    be = keyval_get(kv, "memory-backend");
    if (!keyval_get_bool(kv, "usb", false, &usb, errp) ||
        !keyval_get_bool(kv, "dump-guest-core", true, &o->dump_guest_core,
                         errp) ||
        !keyval_check_all_used(kv, "-machine microvm", errp)) {
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

static bool microvm_init(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    g_autofree char *backend = NULL;
    struct microvm_opts o = {0};

    if (!check_machine_opts(m, &o, errp)) {
        return false;
    }
    backend = o.memory_backend;
    m->acpi_disabled = !o.acpi;
    if (!cfg->bios && !cfg->kernel) {
        error_setg(errp, "no firmware or kernel to boot: give -bios FILE "
                         "or -kernel FILE");
        return false;
    }
    if (!setup_ram(m, &o, cfg->bios != NULL, errp)) {
        return false;
    }
    if (cfg->bios && !load_bios(m, cfg->bios, errp)) {
        return false;
    }
    if (m->kvm->irqchip == KVM_IRQCHIP_SPLIT &&
        !add_device(m, "ioapic", errp)) {
        return false;
    }
    /* acpi=off: no ACPI registers (a -bios guest then finds no PM block) */
    if (o.acpi &&
        !as_map(m->pio, MICROVM_ACPI_SLEEP_CTL_PORT,
                MICROVM_ACPI_GED_PORT + 4 - MICROVM_ACPI_SLEEP_CTL_PORT,
                &acpi_ops, m, NULL, "acpi", errp)) {
        return false;
    }
    if (cfg->serials->len > ARRAY_SIZE(com_ports)) {
        error_setg(errp, "-serial: at most %zu serial ports",
                   ARRAY_SIZE(com_ports));
        return false;
    }
    for (guint i = 0; i < cfg->serials->len; i++) {
        const char *id = g_ptr_array_index(cfg->serials, i);
        g_autofree char *text = NULL;
        if (!id) {
            continue; /* -serial none */
        }
        text = g_strdup_printf("isa-serial,chardev=%s,iobase=0x%x,irq=%u", id,
                               com_ports[i].port, com_ports[i].irq);
        if (!add_device(m, text, errp)) {
            return false;
        }
    }
    if (!add_device(m, "port80", errp) || !add_device(m, "i8042", errp) ||
        !add_device(m, "mc146818rtc", errp)) {
        return false;
    }
    /* -kernel: load it, write boot info and ACPI, set the BSP entry. */
    if (cfg->kernel && !x86_boot_setup(m, errp)) {
        return false;
    }
    return true;
}

const struct machine_type microvm_machine_type = {
    .name = "microvm",
    .desc = "microvm (i386): minimal machine, no PCI, hardware-reduced ACPI",
    .is_default = true,
    .init = microvm_init,
};
