/* SPDX-License-Identifier: MIT */
/*
 * pcie-root-port.c: "pcie-root-port", QEMU's generic PCIe root port
 * (1b36:000c), which libvirt puts in front of every q35 device: a type 1
 * header whose bus numbers route configuration cycles to its secondary
 * bus, whose I/O, memory and prefetchable windows decide which BARs below
 * it are reachable (PCI-to-PCI Bridge 1.2 ch. 3-4), and a PCIe capability
 * of a root port with a slot (PCIe 4.0 7.5.3): physical slot `slot`, port
 * number `port`, presence detect from what is plugged; no hot-plug.
 * Below a PCIe port only slot 0 exists.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "hw/core/loader.h"
#include "hw/pci/pci-host.h"
#include "hw/pci/pci.h"
#include "migration/vmstate.h"
#include "system/machine.h"

struct pcie_root_port {
    struct pci_device pci; /* first */
    uint8_t chassis, port;
    uint16_t slot;
};

static bool root_port_realize(struct device *dev, struct machine *m,
                              Error **errp)
{
    struct pcie_root_port *rp = (struct pcie_root_port *)dev;
    static const struct pci_id id = {
        .vendor = 0x1b36, /* Red Hat, as QEMU's */
        .device = 0x000c,
        .class_code = 0x060400, /* PCI-to-PCI bridge */
        .irq_pin = 1,
        .is_bridge = true,
    };
    uint8_t c;

    if (!dev->id) {
        /* the id names the bus devices plug into (bus=ID) */
        error_setg(errp, "pcie-root-port: an id= is needed to name its bus");
        return false;
    }
    if (pci_machine_host(m) &&
        pci_host_find_bus(pci_machine_host(m), dev->id)) {
        error_setg(errp, "pcie-root-port: a bus named '%s' exists already",
                   dev->id);
        return false;
    }
    if (!pci_device_realize(&rp->pci, m, &id, errp)) {
        return false;
    }
    c = pci_express_init(&rp->pci, PCI_EXP_TYPE_ROOT_PORT, rp->slot, errp);
    /* one MSI-X vector in BAR0, as QEMU's port (for its PCIe services) */
    if (!c || !pci_msix_init(&rp->pci, 1, 0, errp)) {
        pci_device_unrealize(&rp->pci);
        return false;
    }
    /* port number in Link Capabilities 31:24 */
    st_le32(rp->pci.config + c + PCI_EXP_LNKCAP,
            (ld_le32(rp->pci.config + c + PCI_EXP_LNKCAP) & 0x00ffffffu) |
                (uint32_t)rp->port << 24);
    pci_bridge_init(&rp->pci, dev->id);
    return true;
}

static void root_port_reset(struct device *dev)
{
    pci_device_reset(&((struct pcie_root_port *)dev)->pci);
}

static void root_port_unrealize(struct device *dev)
{
    pci_device_unrealize(&((struct pcie_root_port *)dev)->pci);
}

static const struct prop root_port_props[] = {
    PCI_DEVICE_PROPS(struct pcie_root_port, pci),
    {"chassis", PROP_U8, offsetof(struct pcie_root_port, chassis), "0",
     "chassis number (with slot: unique per machine)"},
    {"slot", PROP_U16, offsetof(struct pcie_root_port, slot), "0",
     "physical slot number (Slot Capabilities)"},
    {"port", PROP_U8, offsetof(struct pcie_root_port, port), "0",
     "port number (Link Capabilities)"},
    PROP_END,
};

const struct device_class pcie_root_port_class = {
    .name = "pcie-root-port",
    .desc = "PCI Express Root Port",
    .size = sizeof(struct pcie_root_port),
    .props = root_port_props,
    .user_creatable = true,
    .realize = root_port_realize,
    .reset = root_port_reset,
    .unrealize = root_port_unrealize,
    .vmsd = &pci_device_vmsd,
};
