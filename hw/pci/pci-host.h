/* SPDX-License-Identifier: MIT */
/*
 * pci-host.h: what a PCI hierarchy hangs off: the root bus, the machine's
 * address spaces BARs are mapped into, the INTx routing onto GSIs (PCI
 * 3.0 2.2.6 swizzle through bridges, then the board's slot/pin -> GSI
 * table, which the DSDT's _PRT repeats), and the configuration mechanisms
 * (ECAM, PCIe 4.0 7.2.2; 0xCF8/0xCFC, PCI 3.0 3.2.2.3.2).  The q35 host
 * (pcie-host.c) is one; unit tests build a bare one.
 */
#ifndef HW_PCI_PCI_HOST_H
#define HW_PCI_PCI_HOST_H

#include "util/common.h"
#include "util/error.h"
#include "hw/pci/pci.h"

#define PCI_HOST_MAX_GSI 24
#define PCI_ROOT_BUS_NAME "pcie.0"

struct pci_host {
    struct machine *m;
    struct pci_bus *root;
    GPtrArray *buses; /* struct pci_bus *: root first, then bridges' */
    /* root-bus slot and pin (0..3) -> GSI; the board's _PRT */
    unsigned (*intx_route)(unsigned slot, unsigned pin);
    GMutex intx_lock;
    unsigned intx_count[PCI_HOST_MAX_GSI];
    uint32_t cf8; /* CONFIG_ADDRESS, under the owning device's lock */
};

void pci_host_init(struct pci_host *h, struct machine *m,
                   unsigned (*intx_route)(unsigned slot, unsigned pin));
void pci_host_destroy(struct pci_host *h);
/* The machine's PCI host, or NULL (a machine without PCI). */
struct pci_host *pci_machine_host(struct machine *m);
struct pci_bus *pci_host_find_bus(struct pci_host *h, const char *name);
/* The GSI a function's INTx pin (1..4) lands on, or -1. */
int pci_host_intx_gsi(struct pci_host *h, struct pci_device *pd);
/* A source's level changed (counted per GSI: lines are shared). */
void pci_host_intx_set(struct pci_host *h, unsigned gsi, bool level);

/* ECAM: offset in the window -> (bus, devfn, register).  Accesses are
 * naturally aligned 1/2/4 bytes inside one function's 4 KiB. */
uint64_t pci_host_ecam_read(struct pci_host *h, uint64_t off, unsigned size);
void pci_host_ecam_write(struct pci_host *h, uint64_t off, uint64_t val,
                         unsigned size);
/* 0xCF8 (CONFIG_ADDRESS, dword) and 0xCFC..0xCFF (CONFIG_DATA). */
uint64_t pci_host_cf8_read(struct pci_host *h, uint64_t off, unsigned size);
void pci_host_cf8_write(struct pci_host *h, uint64_t off, uint64_t val,
                        unsigned size);

#endif
