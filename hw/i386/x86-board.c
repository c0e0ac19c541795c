/* SPDX-License-Identifier: MIT */
/*
 * x86-board.c: what vireo's x86 boards share: RAM below and above the 4 GiB
 * hole, the -bios image mapped below 4 GiB with its last 128 KiB aliased
 * below 1 MiB (QEMU's rule, so the reset vector finds it), and the legacy
 * ISA set every PC-style board has: COM1-4, port 0x80, i8042, the RTC.
 * Also the -machine keys both boards take from libvirt (memory-backend=,
 * dump-guest-core=, acpi=, usb=), with QEMU's meaning.
 */
#include "util/common.h"
#include "hw/i386/x86-board.h"
#include "hw/core/device.h"
#include "hw/i386/microvm-layout.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "system/object.h"
#include "util/keyval.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    uint16_t port;
    uint8_t irq;
} com_ports[] = {{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}};

/*
 * Guest RAM from the memory backend named by memory-backend= (libvirt
 * names one because query-machines reports a default-ram-id).  As QEMU,
 * the backend's size must be the RAM size.
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

void x86_board_opts_clear(struct x86_board_opts *o)
{
    g_free(o->memory_backend);
    o->memory_backend = NULL;
}

/* The hooks only get the machine, so each that needs the keys reads them
 * again; the values are checked by whichever hook asks first. */
bool x86_board_read_opts(struct machine *m, struct x86_board_opts *o,
                         Error **errp)
{
    const char *board = m->type ? m->type->name : "";
    struct keyval *kv;
    const char *acpi;
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
    if (!keyval_get_bool(kv, "usb", false, &usb, errp) ||
        !keyval_get_bool(kv, "dump-guest-core", true, &o->dump_guest_core,
                         errp)) {
        goto out;
    }
    if (usb) {
        error_setg(errp, "-machine %s: usb=on: %s has no USB controller", board,
                   board);
        goto out;
    }
    if (acpi && strcmp(acpi, "auto") != 0 && !parse_bool(acpi, &o->acpi)) {
        error_setg(errp, "-machine %s: acpi=%s: expected on, off or auto",
                   board, acpi);
        goto out;
    }
    if (!o->acpi && m->cfg->kernel) {
        /* vireo's -kernel boot describes the machine to the kernel only
         * through the ACPI tables it builds: no MP table, no PCI IRQ
         * routing table, so a kernel could not find its interrupts. */
        error_setg(errp,
                   "-machine %s: acpi=off (-no-acpi) is not supported "
                   "with -kernel: vireo's direct kernel boot describes "
                   "the machine only in ACPI tables (it writes no MP "
                   "table)",
                   board);
        goto out;
    }
    o->memory_backend = g_strdup(keyval_get(kv, "memory-backend"));
    ok = true;
out:
    keyval_free(kv);
    return ok;
}

bool x86_board_ram(struct machine *m, struct x86_board_opts *o,
                   uint64_t lowmem_end, Error **errp)
{
    g_autofree char *backend = o->memory_backend;

    o->memory_backend = NULL;
    if (backend) {
        m->gm = ram_from_backend(m, backend, errp);
        if (!m->gm) {
            return false;
        }
    }
    if (!x86_setup_ram(m, lowmem_end, m->cfg->bios != NULL, errp)) {
        return false;
    }
    /* dump-guest-core=off: keep guest memory out of vireo's core dumps. */
    if (!o->dump_guest_core &&
        madvise(m->gm->ram, m->gm->ram_size, MADV_DONTDUMP) < 0) {
        error_setg_errno(errp, errno, "dump-guest-core=off: madvise");
        return false;
    }
    return true;
}

bool x86_setup_ram(struct machine *m, uint64_t lowmem_end, bool bios_alias,
                   Error **errp)
{
    uint64_t size = m->cfg->ram_size;
    uint64_t below = MIN(size, lowmem_end);

    /* A board may have taken RAM from a memory backend already. */
    if (!m->gm) {
        m->gm = gm_new(size, errp);
    }
    if (!m->gm) {
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

bool x86_add_legacy_devices(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;

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
    return device_create(m, "port80", NULL, 0, errp) &&
           device_create(m, "i8042", NULL, 0, errp) &&
           device_create(m, "mc146818rtc", NULL, 0, errp);
}
