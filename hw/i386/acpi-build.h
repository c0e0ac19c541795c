/* SPDX-License-Identifier: MIT */
/*
 * acpi-build.h: the ACPI tables vireo gives a directly booted guest:
 * RSDP, RSDT, XSDT, FADT (hardware-reduced: sleep control/status registers
 * at the machine's ports), DSDT (COM1, RTC, power button behind a Generic
 * Event Device) and MADT (one LAPIC per vCPU, the IOAPIC, overrides).
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

struct acpi_build_params {
    uint64_t base;    /* guest-physical address of the blob */
    unsigned nr_cpus; /* LAPIC ids 0..nr_cpus-1 */
    bool has_i8042;   /* FADT IAPC_BOOT_ARCH 8042 flag */
    bool has_pic;     /* MADT PCAT_COMPAT: dual 8259s present */
};

struct acpi_tables {
    GByteArray *blob; /* RSDP first, then the tables */
    uint64_t rsdp;    /* guest-physical addresses */
    uint64_t xsdt, rsdt, fadt, dsdt, madt;
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
