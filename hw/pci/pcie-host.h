/* SPDX-License-Identifier: MIT */
/*
 * pcie-host.h: the q35 PCIe host bridge ("q35-pcihost", QEMU's name) and
 * its function 00.0 ("mch", the Q35 memory controller hub, Intel 3 Series
 * datasheet ch. 5): the ECAM window (MMCONFIG, described by the MCFG
 * table), the 0xCF8/0xCFC ports, the reset control register at 0xCF9
 * (ICH9 datasheet 13.7.5: RST_CPU with SYS_RST resets the platform), and
 * the INTx table: root-bus slot S pin P (0..3) raises PIRQ (S + P) mod 4,
 * GSI 16 + that, as the DSDT's _PRT and link devices say.
 */
#ifndef HW_PCI_PCIE_HOST_H
#define HW_PCI_PCIE_HOST_H

#include "util/common.h"
#include "util/error.h"

struct machine;
struct device;

#define Q35_HOST_CLASS "q35-pcihost"
#define Q35_ECAM_BASE 0xb0000000ULL
#define Q35_ECAM_SIZE 0x10000000ULL    /* 256 buses */
#define Q35_PCI_HOLE_END 0xfec00000ULL /* the IOAPIC, then LAPIC, BIOS */
#define Q35_PIRQ_GSI_BASE 16
#define Q35_NR_PIRQ 4
#define Q35_RCR_PORT 0xcf9
#define Q35_RCR_SYS_RST 0x02
#define Q35_RCR_RST_CPU 0x04

/* The board's PCI windows (set before realize). */
struct q35_host_windows {
    uint64_t below_4g_end; /* end of RAM below 4 GiB: PCI hole starts */
    uint64_t hole64_start; /* 64-bit window (above RAM above 4 GiB) */
    uint64_t hole64_size;
};

unsigned q35_intx_route(unsigned slot, unsigned pin);
/* Creates the host (and its 00.0 function) on m; the root bus pcie.0. */
struct device *q35_host_create(struct machine *m,
                               const struct q35_host_windows *w, Error **errp);
/* What the ACPI tables describe (NULL: no q35 host on m). */
const struct q35_host_windows *q35_host_windows(struct machine *m);

#endif
