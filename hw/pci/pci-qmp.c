/* SPDX-License-Identifier: MIT */
/*
 * pci-qmp.c: QMP query-pci, in QEMU's shape (qapi/schema/pci.json): per
 * bus the functions with their ids, class, interrupt pin and line, BARs
 * (address -1 while not decoded) and, for bridges, bus numbers, windows
 * and what sits on the secondary bus once the guest numbered it.  Each
 * function is read under its own lock; vCPUs may be running.
 */
#include "util/common.h"
#include "hw/core/loader.h"
#include "hw/pci/pci-host.h"
#include "hw/pci/pci.h"
#include "qapi/qapi-gen-types.h"
#include "system/machine.h"

/* The names QEMU gives these classes (base class << 8 | subclass). */
static const struct {
    uint16_t cls;
    const char *desc;
} class_names[] = {
    {0x0100, "SCSI controller"}, {0x0101, "IDE controller"},
    {0x0106, "SATA controller"}, {0x0200, "Ethernet controller"},
    {0x0300, "VGA controller"},  {0x0600, "Host bridge"},
    {0x0601, "ISA bridge"},      {0x0604, "PCI bridge"},
    {0x0c03, "USB controller"},  {0x0c05, "SMBus"},
};

static struct qapi_pci_memory_range *range(const struct pci_device *br,
                                           enum pci_window w)
{
    struct qapi_pci_memory_range *r = g_new0(struct qapi_pci_memory_range, 1);
    uint64_t base, limit;

    pci_bridge_window(br, w, &base, &limit);
    r->base = (int64_t)base;
    r->limit = (int64_t)limit;
    return r;
}

static GPtrArray *bus_devices(struct pci_bus *bus, unsigned bus_nr,
                              unsigned depth);

static GPtrArray *regions(const struct pci_device *pd)
{
    GPtrArray *list = g_ptr_array_new();

    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        const struct pci_bar *b = &pd->bars[i];
        struct qapi_pci_memory_region *r;
        bool io = b->type == PCI_BAR_IO;

        if (!b->size) {
            continue;
        }
        r = g_new0(struct qapi_pci_memory_region, 1);
        r->bar = i;
        r->type = g_strdup(io ? "io" : "memory");
        r->address = b->is_mapped ? (int64_t)b->mapped : -1;
        r->size = (int64_t)b->size;
        if (!io) {
            r->has_prefetch = r->has_mem_type_64 = true;
            r->prefetch =
                b->type == PCI_BAR_MEM64_PREF || b->type == PCI_BAR_MEM32_PREF;
            r->mem_type_64 =
                b->type == PCI_BAR_MEM64 || b->type == PCI_BAR_MEM64_PREF;
        }
        g_ptr_array_add(list, r);
    }
    return list;
}

static struct qapi_pci_device_info *device_info(struct pci_device *pd,
                                                unsigned bus_nr, unsigned depth)
{
    struct qapi_pci_device_info *d = g_new0(struct qapi_pci_device_info, 1);
    const uint8_t *c = pd->config;
    uint16_t cls = ld_le16(c + PCI_CLASS_DEVICE);
    bool bridge = (c[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE;
    unsigned secondary = 0;

    g_mutex_lock(&pd->dev.lock);
    d->bus = bus_nr;
    d->slot = PCI_SLOT(pd->devfn);
    d->function = PCI_FUNC(pd->devfn);
    d->class_info = g_new0(struct qapi_pci_device_class, 1);
    d->class_info->class = cls;
    for (unsigned i = 0; i < ARRAY_SIZE(class_names); i++) {
        if (class_names[i].cls == cls) {
            d->class_info->has_desc = true;
            d->class_info->desc = g_strdup(class_names[i].desc);
        }
    }
    d->id = g_new0(struct qapi_pci_device_id, 1);
    d->id->vendor = ld_le16(c + PCI_VENDOR_ID);
    d->id->device = ld_le16(c + PCI_DEVICE_ID);
    if (!bridge) {
        d->id->has_subsystem = d->id->has_subsystem_vendor = true;
        d->id->subsystem = ld_le16(c + PCI_SUBSYSTEM_ID);
        d->id->subsystem_vendor = ld_le16(c + PCI_SUBSYSTEM_VENDOR_ID);
    }
    d->irq_pin = c[PCI_INTERRUPT_PIN];
    if (d->irq_pin) {
        d->has_irq = true;
        d->irq = c[PCI_INTERRUPT_LINE];
    }
    d->qdev_id = g_strdup(pd->dev.id ? pd->dev.id : "");
    d->regions = regions(pd);
    if (bridge) {
        struct qapi_pci_bridge_info *b = g_new0(struct qapi_pci_bridge_info, 1);
        b->bus = g_new0(struct qapi_pci_bus_info, 1);
        b->bus->number = c[PCI_PRIMARY_BUS];
        b->bus->secondary = secondary = c[PCI_SECONDARY_BUS];
        b->bus->subordinate = c[PCI_SUBORDINATE_BUS];
        b->bus->io_range = range(pd, PCI_WINDOW_IO);
        b->bus->memory_range = range(pd, PCI_WINDOW_MEM);
        b->bus->prefetchable_range = range(pd, PCI_WINDOW_PREF);
        d->has_pci_bridge = true;
        d->pci_bridge = b;
    }
    g_mutex_unlock(&pd->dev.lock);
    /* the secondary bus once numbered (QEMU's rule), outside the lock */
    if (bridge && secondary && pd->secondary && depth < 8) {
        d->pci_bridge->has_devices = true;
        d->pci_bridge->devices =
            bus_devices(pd->secondary, secondary, depth + 1);
    }
    return d;
}

static GPtrArray *bus_devices(struct pci_bus *bus, unsigned bus_nr,
                              unsigned depth)
{
    GPtrArray *list = g_ptr_array_new();

    for (unsigned devfn = 0; devfn < 256; devfn++) {
        if (bus->devs[devfn]) {
            g_ptr_array_add(list, device_info(bus->devs[devfn], bus_nr, depth));
        }
    }
    return list;
}

GPtrArray *qmp_query_pci(struct machine *m, Error **errp)
{
    GPtrArray *list = g_ptr_array_new();
    struct pci_host *h = pci_machine_host(m);
    struct qapi_pci_info *info;

    (void)errp;
    if (h) {
        info = g_new0(struct qapi_pci_info, 1);
        info->bus = 0;
        info->devices = bus_devices(h->root, 0, 0);
        g_ptr_array_add(list, info);
    }
    return list;
}
