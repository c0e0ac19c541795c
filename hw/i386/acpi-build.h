/* SPDX-License-Identifier: MIT */
/*
 * acpi-build.h: the ACPI tables vireo gives a directly booted guest:
 * RSDP, RSDT, XSDT, FADT (hardware-reduced: sleep control/status registers
 * at the machine's ports; or, for a board with a PM block such as q35,
 * the PM1a/PM timer/GPE0 blocks, SCI, reset register and a FACS), DSDT
 * (COM1, RTC, power button behind a Generic Event Device; on a PCI board
 * \_SB.PCI0 with _CRS and _PRT, link devices, the ECAM reservation), MADT
 * (one LAPIC per vCPU, the IOAPIC, overrides) and MCFG on a PCI board.
 *
 * acpi_build_tables() is pure (no machine, no guest memory) so unit tests
 * can build, check and disassemble the exact bytes a guest sees.
 */
#ifndef HW_I386_ACPI_BUILD_H
#define HW_I386_ACPI_BUILD_H

#include "util/common.h"
#include "util/error.h"

struct machine;

/* The power button: the machine sets MICROVM_GED_PWR_DOWN_EVT in the GED
 * event selector (MICROVM_ACPI_GED_PORT) and raises MICROVM_ACPI_GED_IRQ;
 * the GED's _EVT reads the selector and notifies \_SB.PWRB. */
/* Where the tables go in guest memory: the legacy BIOS area, so the RSDP
 * is found by the 0xE0000-0xFFFFF scan too.  At most this many bytes. */
#define ACPI_TABLES_ADDR 0xe0000ULL
#define ACPI_TABLES_MAX 0x10000ULL

/* A PCIe host (q35): MCFG, \_SB.PCI0 with _CRS and _PRT, PCI link
 * devices LNKA.. for GSIs pirq_gsi_base.., the ECAM reservation. */
struct acpi_pci_desc {
    uint64_t ecam_base, ecam_size; /* buses 0 .. ecam_size/1 MiB - 1 */
    uint64_t hole_start, hole_end; /* 32-bit window (minus the ECAM) */
    uint64_t hole64_start, hole64_size;
    unsigned pirq_gsi_base, nr_pirq; /* slot S pin P: link (S + P) % nr */
};

/* A full (not hardware-reduced) ACPI PM block: PM1a event/control, PM
 * timer, GPE0 at pm_base (ICH9 layout), the SCI, reset register. */
struct acpi_pm_desc {
    uint16_t pm_base;
    uint16_t sci_irq;
    uint16_t reset_port;
    uint8_t reset_value;
};

/* The board's i8042 (its kbd-irq and mouse-irq defaults), described in the
 * DSDT when has_i8042. */
#define ACPI_I8042_KBD_IRQ 1
#define ACPI_I8042_MOUSE_IRQ 12

struct acpi_build_params {
    const struct acpi_pci_desc *pci; /* NULL: no PCI */
    const struct acpi_pm_desc *pm;   /* NULL: hardware-reduced (GED) */
    uint64_t base;                   /* guest-physical address of the blob */
    unsigned nr_cpus;                /* LAPIC ids 0..nr_cpus-1 */
    bool has_i8042;                  /* FADT 8042 flag; DSDT KBD and MOU */
    bool has_pic;                    /* MADT PCAT_COMPAT: dual 8259s present */
    /* virtio-mmio windows (512 bytes) and their level GSIs: DSDT devices
     * LNRO0005, as QEMU's microvm describes them */
    unsigned nr_virtio_mmio;
    const uint64_t *virtio_mmio_base;
    const unsigned *virtio_mmio_gsi;
};

struct acpi_tables {
    GByteArray *blob; /* RSDP first, then the tables */
    uint64_t rsdp;    /* guest-physical addresses */
    uint64_t xsdt, rsdt, fadt, dsdt, madt;
    uint64_t mcfg, facs; /* 0 when not built */
};

/* Builds the tables into t->blob (allocated here).  Checksums and lengths
 * are final. */
bool acpi_build_tables(const struct acpi_build_params *p, struct acpi_tables *t,
                       Error **errp);
void acpi_tables_clear(struct acpi_tables *t);
/* Table at guest address gpa inside the blob: pointer and length (from its
 * header), or NULL. */
const uint8_t *acpi_tables_get(const struct acpi_tables *t, uint64_t gpa,
                               uint32_t *len);

/* Builds the tables for m and writes them at ACPI_TABLES_ADDR; *rsdp (may
 * be NULL) receives the RSDP address.  Writes into whatever is mapped
 * there: RAM, or with -bios the firmware's low alias (a direct boot never
 * runs the firmware; a firmware boot should not call this). */
bool x86_acpi_build_at(struct machine *m, uint64_t *rsdp, Error **errp);
bool x86_acpi_build(struct machine *m, Error **errp);

#endif
