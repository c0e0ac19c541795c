/* SPDX-License-Identifier: MIT */
/*
 * port80.c: the POST-code port 0x80.  Firmware and Linux (outb_p, the
 * "io_delay" of old drivers) write it as a delay or progress marker.  As
 * on QEMU's PC machines, writes are dropped and reads return all ones;
 * mapping it keeps those writes from being logged as unmapped accesses.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "system/machine.h"
#include "system/memory.h"

#define PORT80_PORT 0x80

struct port80 {
    struct device dev; /* first */
    struct machine *m;
};

static uint64_t port80_read(void *opaque, uint64_t off, unsigned size)
{
    return UINT64_MAX;
}

static void port80_write(void *opaque, uint64_t off, uint64_t val,
                         unsigned size)
{
}

static const struct io_ops port80_ops = {
    .read = port80_read,
    .write = port80_write,
    .min_size = 1,
    .max_size = 1,
};

static bool port80_realize(struct device *dev, struct machine *m, Error **errp)
{
    struct port80 *p = (struct port80 *)dev;

    p->m = m;
    return device_map(dev, m->pio, PORT80_PORT, 1, &port80_ops, "port80", errp);
}

static const struct prop port80_props[] = {
    PROP_END,
};

const struct device_class port80_class = {
    .name = "port80",
    .desc = "POST code port 0x80 (writes ignored, reads 0xff)",
    .size = sizeof(struct port80),
    .props = port80_props,
    /* Part of the board, as in QEMU, which has no -device for it. */
    .user_creatable = false,
    .realize = port80_realize,
    /* No state: nothing the guest writes is kept. */
    .vmsd = NULL,
};
