/* SPDX-License-Identifier: MIT */
/*
 * pci-host.c: the generic half of a PCI host bridge (see pci-host.h): bus
 * lookup by name, INTx routing (the PCI-to-PCI Bridge 1.2 9.1 swizzle,
 * then the board's table) with per-GSI level counts because PCI
 * interrupts are shared, level-triggered lines, and the two configuration
 * mechanisms decoding to the same function registers: ECAM (PCIe 4.0
 * 7.2.2: bus << 20 | devfn << 12 | register) and CONFIG_ADDRESS /
 * CONFIG_DATA at 0xCF8/0xCFC (PCI 3.0 3.2.2.3.2).
 */
#include "util/common.h"
#include "hw/pci/pci-host.h"
#include "system/machine.h"

void pci_host_init(struct pci_host *h, struct machine *m,
                   unsigned (*intx_route)(unsigned slot, unsigned pin))
{
    h->m = m;
    h->intx_route = intx_route;
    h->buses = g_ptr_array_new();
    h->root = pci_bus_new(h, NULL, PCI_ROOT_BUS_NAME);
    g_ptr_array_add(h->buses, h->root);
    g_mutex_init(&h->intx_lock);
}

void pci_host_destroy(struct pci_host *h)
{
    if (!h->buses) {
        return;
    }
    /* bridges free their own buses when they go */
    pci_bus_free(h->root);
    g_ptr_array_free(h->buses, TRUE);
    h->buses = NULL;
    h->root = NULL;
    g_mutex_clear(&h->intx_lock);
}

struct pci_bus *pci_host_find_bus(struct pci_host *h, const char *name)
{
    for (guint i = 0; i < h->buses->len; i++) {
        struct pci_bus *b = g_ptr_array_index(h->buses, i);
        if (!strcmp(b->name, name)) {
            return b;
        }
    }
    return NULL;
}

int pci_host_intx_gsi(struct pci_host *h, struct pci_device *pd)
{
    unsigned pin = pd->config[PCI_INTERRUPT_PIN];
    const struct pci_device *d = pd;
    unsigned gsi;

    if (pin < 1 || pin > 4 || !h->intx_route) {
        return -1;
    }
    pin -= 1;
    /* behind a bridge, INTx of device D pin P arrives on the bridge's
     * pin (P + D) mod 4 */
    while (d->bus && d->bus->bridge) {
        pin = (pin + PCI_SLOT(d->devfn)) % 4;
        d = d->bus->bridge;
    }
    gsi = h->intx_route(PCI_SLOT(d->devfn), pin);
    return gsi < PCI_HOST_MAX_GSI ? (int)gsi : -1;
}

void pci_host_intx_set(struct pci_host *h, unsigned gsi, bool level)
{
    struct irq_line *line;
    bool changed;

    if (gsi >= PCI_HOST_MAX_GSI) {
        return;
    }
    g_mutex_lock(&h->intx_lock);
    if (level) {
        changed = h->intx_count[gsi]++ == 0;
    } else {
        changed = h->intx_count[gsi] && --h->intx_count[gsi] == 0;
    }
    if (changed && h->m && gsi < h->m->nr_gsi) {
        line = &h->m->gsi[gsi];
        /* under intx_lock so raise/lower reach the chip in order */
        irq_set(line, level);
    }
    g_mutex_unlock(&h->intx_lock);
}

static uint64_t config_read(struct pci_host *h, unsigned bus, unsigned devfn,
                            unsigned reg, unsigned size)
{
    struct pci_device *pd = pci_find_device(h->root, bus, devfn);
    uint32_t v;

    if (!pd) {
        return (1ULL << (8 * size)) - 1; /* master abort: all ones */
    }
    g_mutex_lock(&pd->dev.lock);
    v = pci_config_read(pd, reg, size);
    g_mutex_unlock(&pd->dev.lock);
    return v;
}

static void config_write(struct pci_host *h, unsigned bus, unsigned devfn,
                         unsigned reg, uint32_t val, unsigned size)
{
    struct pci_device *pd = pci_find_device(h->root, bus, devfn);

    if (!pd) {
        return;
    }
    g_mutex_lock(&pd->dev.lock);
    pci_config_write(pd, reg, val, size);
    g_mutex_unlock(&pd->dev.lock);
}

static bool ecam_decode(struct pci_host *h, const char *what, uint64_t off,
                        unsigned size, unsigned *bus, unsigned *devfn,
                        unsigned *reg)
{
    if ((size != 1 && size != 2 && size != 4) || (off & (size - 1)) ||
        off >= 256ULL << 20) {
        vlog_guest_error(&h->m->log,
                         "pci: ECAM %s of %u bytes at 0x%" PRIx64
                         " is not a naturally aligned 1/2/4-byte access",
                         what, size, off);
        return false;
    }
    *bus = (unsigned)(off >> 20);
    *devfn = (unsigned)(off >> 12) & 0xff;
    *reg = (unsigned)off & 0xfff;
    return true;
}

uint64_t pci_host_ecam_read(struct pci_host *h, uint64_t off, unsigned size)
{
    unsigned bus, devfn, reg;

    if (!ecam_decode(h, "read", off, size, &bus, &devfn, &reg)) {
        return ~0ULL;
    }
    return config_read(h, bus, devfn, reg, size);
}

void pci_host_ecam_write(struct pci_host *h, uint64_t off, uint64_t val,
                         unsigned size)
{
    unsigned bus, devfn, reg;

    if (ecam_decode(h, "write", off, size, &bus, &devfn, &reg)) {
        config_write(h, bus, devfn, reg, (uint32_t)val, size);
    }
}

/* CONFIG_DATA byte off (0..3) of the function CONFIG_ADDRESS selects. */
static bool cf8_decode(const struct pci_host *h, uint64_t off, unsigned size,
                       unsigned *bus, unsigned *devfn, unsigned *reg)
{
    if (!(h->cf8 & 0x80000000u) || off < 4 || off + size > 8) {
        return false;
    }
    *bus = (h->cf8 >> 16) & 0xff;
    *devfn = (h->cf8 >> 8) & 0xff;
    *reg = (h->cf8 & 0xfc) + (unsigned)(off - 4);
    return true;
}

uint64_t pci_host_cf8_read(struct pci_host *h, uint64_t off, unsigned size)
{
    unsigned bus, devfn, reg;

    if (off == 0 && size == 4) {
        return h->cf8;
    }
    if (!cf8_decode(h, off, size, &bus, &devfn, &reg)) {
        return (1ULL << (8 * size)) - 1;
    }
    return config_read(h, bus, devfn, reg, size);
}

void pci_host_cf8_write(struct pci_host *h, uint64_t off, uint64_t val,
                        unsigned size)
{
    unsigned bus, devfn, reg;

    if (off == 0 && size == 4) {
        /* reserved bits 30:24 and 1:0 read back as zero */
        h->cf8 = (uint32_t)val & 0x80fffffcu;
        return;
    }
    if (cf8_decode(h, off, size, &bus, &devfn, &reg)) {
        config_write(h, bus, devfn, reg, (uint32_t)val, size);
    }
}
