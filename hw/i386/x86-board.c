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

#define BIOS_MAX_SIZE (16 * MiB)

bool x86_setup_ram(struct machine *m, uint64_t lowmem_end, bool bios_alias,
                   Error **errp)
{
    uint64_t size = m->cfg->ram_size;
    uint64_t below = MIN(size, lowmem_end);

    m->gm = gm_new(size, errp);
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
bool x86_load_bios(struct machine *m, const char *path, Error **errp)
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

bool x86_add_device(struct machine *m, const char *text, Error **errp)
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
        g_autofree char *text = NULL;
        if (!id) {
            continue; /* -serial none */
        }
        text = g_strdup_printf("isa-serial,chardev=%s,iobase=0x%x,irq=%u", id,
                               com_ports[i].port, com_ports[i].irq);
        if (!x86_add_device(m, text, errp)) {
            return false;
        }
    }
    return x86_add_device(m, "port80", errp) &&
           x86_add_device(m, "i8042", errp) &&
           x86_add_device(m, "mc146818rtc", errp);
}
