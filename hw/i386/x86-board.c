/* SPDX-License-Identifier: MIT */
/*
 * x86-board.c: what vireo's x86 boards share: RAM below and above the 4 GiB
 * hole, the -bios image mapped below 4 GiB with its last 128 KiB aliased
 * below 1 MiB (QEMU's rule, so the reset vector finds it), and the legacy
 * ISA set every PC-style board has: COM1-4, port 0x80, i8042, the RTC.
 */
#include "util/common.h"
#include "hw/i386/x86-board.h"
#include "hw/core/device.h"
#include "hw/i386/microvm-layout.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "util/keyval.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    uint16_t port;
    uint8_t irq;
} com_ports[] = {{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}};

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
