/* SPDX-License-Identifier: MIT */
/*
 * ged.c: "acpi-ged", the hardware-reduced ACPI sleep registers and Generic
 * Event Device (see ged.h; ACPI 6.4 sections 4.8.3.7 and 5.6.9).  A device
 * of its own (state, reset, vmstate) rather than fields of the machine, so
 * a board only creates it and presses its button.
 */
#include "util/common.h"
#include "hw/acpi/ged.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/memory.h"
#include "util/log.h"

struct acpi_ged {
    struct device dev; /* first */
    uint32_t iobase, irq;
    struct irq_line *line;
    /* Guest-visible state (vmstate) */
    uint8_t sleep_sts;
    uint32_t events;
};

static uint64_t ged_read(void *opaque, uint64_t off, unsigned size)
{
    struct acpi_ged *g = opaque;
    uint64_t v = 0;

    switch (off) {
    case ACPI_GED_SLEEP_STS:
        v = g->sleep_sts;
        break;
    case ACPI_GED_EVT_SEL:
        /* Reading the selector acknowledges the events (the _EVT method
         * reads it once and handles every bit it saw). */
        v = g->events;
        g->events = 0;
        irq_lower(g->line);
        break;
    default:
        break;
    }
    return v;
}

static void ged_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct acpi_ged *g = opaque;
    unsigned typ = (unsigned)(val >> 2) & 7;

    switch (off) {
    case ACPI_GED_SLEEP_CTL:
        if ((val & ACPI_GED_SLP_EN) && typ == ACPI_GED_SLP_TYP_S5) {
            machine_request(g->dev.m, REQ_SHUTDOWN,
                            SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        } else if (val & ACPI_GED_SLP_EN) {
            vlog_guest_error(&g->dev.m->log,
                             "acpi-ged: sleep type %u is not supported", typ);
        }
        break;
    case ACPI_GED_SLEEP_STS: /* write 1 to clear */
        g->sleep_sts &= ~val;
        break;
    default:
        break;
    }
}

static const struct io_ops ged_ops = {
    .read = ged_read,
    .write = ged_write,
    .min_size = 1,
    .max_size = 4,
};

void acpi_ged_power_button(struct device *dev)
{
    struct acpi_ged *g = (struct acpi_ged *)dev;

    g_mutex_lock(&dev->lock);
    g->events |= ACPI_GED_PWR_DOWN_EVT;
    irq_raise(g->line);
    g_mutex_unlock(&dev->lock);
}

uint32_t acpi_ged_events(struct device *dev)
{
    struct acpi_ged *g = (struct acpi_ged *)dev;
    uint32_t e;

    g_mutex_lock(&dev->lock);
    e = g->events;
    g_mutex_unlock(&dev->lock);
    return e;
}

static bool ged_realize(struct device *dev, struct machine *m, Error **errp)
{
    struct acpi_ged *g = (struct acpi_ged *)dev;

    if (g->iobase > 0x10000 - ACPI_GED_IO_SIZE) {
        error_setg(errp, "acpi-ged: iobase 0x%" PRIx32 " is out of range",
                   g->iobase);
        return false;
    }
    g->line = machine_gsi_line(m, g->irq, errp);
    if (!g->line) {
        error_prepend(errp, "acpi-ged: ");
        return false;
    }
    return device_map(dev, m->pio, g->iobase, ACPI_GED_IO_SIZE, &ged_ops,
                      "acpi-ged", errp);
}

/* device_reset() holds the device lock. */
static void ged_reset(struct device *dev)
{
    struct acpi_ged *g = (struct acpi_ged *)dev;

    g->sleep_sts = 0;
    g->events = 0;
    irq_lower(g->line);
}

static bool ged_post_load(void *opaque, Error **errp)
{
    struct acpi_ged *g = opaque;

    if (g->events & ~ACPI_GED_KNOWN_EVENTS) {
        error_setg(errp, "acpi-ged: unknown events 0x%" PRIx32, g->events);
        return false;
    }
    irq_set(g->line, g->events != 0);
    return true;
}

static const struct vmstate_field ged_fields[] = {
    VMS_U8(struct acpi_ged, sleep_sts),
    VMS_U32(struct acpi_ged, events),
    VMS_END,
};

static const struct vmstate_desc ged_vmsd = {
    .name = "acpi-ged",
    .version = 1,
    .fields = ged_fields,
    .post_load = ged_post_load,
};

static const struct prop ged_props[] = {
    {"iobase", PROP_U32, offsetof(struct acpi_ged, iobase), "0x600",
     "first of the 8 I/O ports"},
    {"irq", PROP_U32, offsetof(struct acpi_ged, irq), "9",
     "GSI of the event interrupt"},
    PROP_END,
};

const struct device_class acpi_ged_class = {
    .name = "acpi-ged",
    .desc = "ACPI hardware-reduced sleep registers and Generic Event Device",
    .size = sizeof(struct acpi_ged),
    .props = ged_props,
    .user_creatable = false, /* the board's, as in QEMU's microvm */
    .realize = ged_realize,
    .reset = ged_reset,
    .vmsd = &ged_vmsd,
};
