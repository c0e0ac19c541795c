/* SPDX-License-Identifier: MIT */
/*
 * debug-exit.c: QEMU's isa-debug-exit, the test device that ends the VMM
 * from inside the guest.  A write of value v (1, 2 or 4 bytes, anywhere in
 * [iobase, iobase+iosize)) exits with status (v << 1) | 1, so a guest can
 * never produce 0; reads return 0.  QEMU's defaults are iobase=0x501,
 * iosize=2; vireo's test guests use iobase=0xf4.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "system/machine.h"
#include "system/memory.h"

struct debug_exit {
    struct device dev; /* first */
    uint32_t iobase;
    uint32_t iosize;
    struct machine *m;
};

static uint64_t debug_exit_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint64_t off, uint64_t val,
                             unsigned size)
{
    struct debug_exit *d = opaque;

    /* QEMU calls exit((val << 1) | 1): the process status keeps the low 8
     * bits.  Pass exactly those, so the value is the same int everywhere
     * it is reported. */
    machine_request_exit(d->m, (int)(((val << 1) | 1) & 0xff));
}

static const struct io_ops debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .min_size = 1,
    .max_size = 4,
};

static bool debug_exit_realize(struct device *dev, struct machine *m,
                               Error **errp)
{
    struct debug_exit *d = (struct debug_exit *)dev;

    if (d->iosize == 0 || d->iosize > 0x10000 ||
        d->iobase > 0x10000 - d->iosize) {
        error_setg(errp,
                   "isa-debug-exit: ports 0x%" PRIx32 "+0x%" PRIx32
                   " are outside the 64 KiB I/O space",
                   d->iobase, d->iosize);
        return false;
    }
    d->m = m;
    return device_map(dev, m->pio, d->iobase, d->iosize, &debug_exit_ops,
                      "isa-debug-exit", errp);
}

static const struct prop debug_exit_props[] = {
    {"iobase", PROP_U32, offsetof(struct debug_exit, iobase), "0x501",
     "I/O port base"},
    {"iosize", PROP_U32, offsetof(struct debug_exit, iosize), "0x02",
     "number of ports"},
    PROP_END,
};

const struct device_class debug_exit_class = {
    .name = "isa-debug-exit",
    .desc = "exit the VMM with status (value << 1) | 1",
    .size = sizeof(struct debug_exit),
    .props = debug_exit_props,
    .user_creatable = true,
    .realize = debug_exit_realize,
    /* No guest-visible state: a write ends the process, reads are 0. */
    .vmsd = NULL,
};
