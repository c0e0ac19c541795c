/* SPDX-License-Identifier: MIT */
/*
 * fuzz-pci.c: libFuzzer target for the PCI core, the q35 host bridge,
 * pcie-root-port and the ICH9 PM block.  The input is a program of guest
 * accesses: ECAM reads/writes at any bus/devfn/register and size, 0xCF8
 * and 0xCFC..0xCFF accesses, MMIO and port accesses wherever the guest may
 * have put BARs (the MSI-X table, PBA), PM block accesses, and device-side
 * events (MSI/MSI-X notifications, INTx changes, resets).  After every step
 * the invariants are checked and a violation aborts: a mapped BAR is
 * decoding, inside the 32-bit / I/O limits and forwarded by its bridge;
 * identity registers never change; the host's INTx counts equal the
 * levels the functions deliver and the GSIs carry exactly those.
 */
#include "util/common.h"
#include "hw/acpi/ich9-lpc.h"
#include "../unit/pci-harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct device_class pcie_root_port_class;
extern const struct device_class ich9_lpc_class;

struct prog {
    const uint8_t *p;
    size_t n;
};

static uint32_t take(struct prog *g, unsigned bytes)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < bytes && g->n; i++, g->p++, g->n--) {
        v |= (uint32_t)*g->p << (8 * i);
    }
    return v;
}

static unsigned size_of(uint32_t v)
{
    static const unsigned sizes[] = {1, 2, 4, 8};
    return sizes[v & 3];
}

static void check_bar(struct pci_device *pd, unsigned i)
{
    const struct pci_bar *b = &pd->bars[i];
    uint16_t cmd = ld_le16(pd->config + PCI_COMMAND);

    if (!b->is_mapped) {
        return;
    }
    if (b->type == PCI_BAR_IO) {
        if (!(cmd & PCI_COMMAND_IO) || b->mapped + b->size > 0x10000) {
            abort();
        }
    } else if (!(cmd & PCI_COMMAND_MEMORY) ||
               (b->type != PCI_BAR_MEM64 && b->type != PCI_BAR_MEM64_PREF &&
                b->mapped + b->size > 4 * GiB)) {
        abort();
    }
    if (b->mapped != pci_bar_address(pd, i) || b->mapped == 0) {
        abort();
    }
    if (pd->bus->bridge &&
        !(ld_le16(pd->bus->bridge->config + PCI_COMMAND) &
          (b->type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY))) {
        abort();
    }
}

static void check(struct fx *x, struct pci_device **devs, unsigned n,
                  const uint32_t *ids)
{
    struct pci_host *h = pci_machine_host(x->m);
    unsigned count[PCI_HOST_MAX_GSI] = {0};

    for (unsigned i = 0; i < n; i++) {
        struct pci_device *pd = devs[i];
        if (ld_le32(pd->config) != ids[i]) {
            abort();
        }
        for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
            check_bar(pd, b);
        }
        if (pd->intx_delivered) {
            if (pd->intx_gsi < 0 || !pd->intx_level ||
                (ld_le16(pd->config + PCI_COMMAND) &
                 PCI_COMMAND_INTX_DISABLE)) {
                abort();
            }
            count[pd->intx_gsi]++;
        }
    }
    for (unsigned g = 0; g < PCI_HOST_MAX_GSI; g++) {
        if (count[g] != h->intx_count[g] ||
            th_gsi_level(x->m, g) != (count[g] != 0)) {
            /* GSI 9 is the SCI, which the PM block drives itself */
            if (g != ICH9_SCI_IRQ) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const rp[] = {"id", "rp", "addr", "2", NULL};
    static const char *const s3[] = {"addr", "3", NULL};
    static const char *const below[] = {"bus", "rp", NULL};
    static const char *const lpc[] = {"addr", "1f.0", "multifunction", "on",
                                      NULL};
    struct prog g = {data, size};
    struct pci_device *devs[5];
    uint32_t ids[5];
    struct fx x;
    unsigned steps = 0;

    fx_init(&x);
    devs[0] = (struct pci_device *)fx_add(&x, &pcie_root_port_class, rp, NULL);
    devs[1] = (struct pci_device *)fx_add(&x, &tdev_class, s3, NULL);
    devs[2] = (struct pci_device *)fx_add(&x, &tdev_class, below, NULL);
    devs[3] = (struct pci_device *)fx_add(&x, &ich9_lpc_class, lpc, NULL);
    devs[4] = pci_find_device(pci_machine_host(x.m)->root, 0, 0);
    for (unsigned i = 0; i < 5; i++) {
        ids[i] = ld_le32(devs[i]->config);
    }
    while (g.n && steps++ < 4096) {
        uint32_t op = take(&g, 1), a, v;
        unsigned sz;
        struct pci_device *pd;

        switch (op % 10) {
        case 0: /* ECAM write: bus 0..3, any devfn/register */
        case 1:
            a = take(&g, 4) & 0x3fffff;
            sz = size_of(take(&g, 1));
            v = take(&g, 4);
            if (op % 10 == 0) {
                mmio_wr(&x, Q35_ECAM_BASE + a, v, sz);
            } else {
                mmio_rd(&x, Q35_ECAM_BASE + a, sz);
            }
            break;
        case 2: /* 0xCF8..0xCFF */
            a = take(&g, 1) & 7;
            sz = size_of(take(&g, 1));
            v = take(&g, 4);
            if (op & 0x10) {
                th_out(x.m, 0xcf8 + a, v, MIN(sz, 4u));
            } else {
                th_in(x.m, 0xcf8 + a, MIN(sz, 4u));
            }
            break;
        case 3: /* MMIO where BARs go: 0xc0000000.., 0xfe000000.., high */
        case 4:
            a = take(&g, 4);
            sz = size_of(take(&g, 1));
            v = take(&g, 4);
            {
                uint64_t addr = (op & 0x20)   ? 0x100000000ULL + (a & 0xffffff)
                                : (op & 0x40) ? 0xfe000000ULL + (a & 0xffff)
                                              : 0xc0000000ULL + (a & 0xffffff);
                if (op % 10 == 3) {
                    mmio_wr(&x, addr, v, sz);
                } else {
                    mmio_rd(&x, addr, sz);
                }
            }
            break;
        case 5: /* ports: I/O BARs and the PM block */
            a = take(&g, 2);
            sz = size_of(take(&g, 1));
            v = take(&g, 4);
            if (op & 0x10) {
                th_out(x.m, a, v, MIN(sz, 4u));
            } else {
                th_in(x.m, a, MIN(sz, 4u));
            }
            break;
        case 6: /* a device signals a vector */
            pd = devs[1 + (take(&g, 1) & 1)];
            g_mutex_lock(&pd->dev.lock);
            pci_msi_notify(pd, take(&g, 2));
            g_mutex_unlock(&pd->dev.lock);
            break;
        case 7: /* INTx */
            pd = devs[take(&g, 1) % 4];
            g_mutex_lock(&pd->dev.lock);
            pci_set_irq(pd, op & 0x10);
            g_mutex_unlock(&pd->dev.lock);
            break;
        case 8:
            device_reset(&devs[take(&g, 1) % 5]->dev);
            break;
        case 9:
            ich9_lpc_power_button(&devs[3]->dev);
            break;
        }
        check(&x, devs, 5, ids);
    }
    fx_clear(&x);
    return 0;
}
