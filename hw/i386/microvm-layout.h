/* SPDX-License-Identifier: MIT */
/*
 * microvm-layout.h: fixed addresses of the vireo "microvm" machine that the
 * machine code, the ACPI tables and the test guests all need to agree on.
 */
#ifndef HW_I386_MICROVM_LAYOUT_H
#define HW_I386_MICROVM_LAYOUT_H

/* RAM below 4 GiB ends here at the latest; the rest goes above 4 GiB. */
#define MICROVM_LOWMEM_END 0xc0000000ULL
#define MICROVM_HIGHMEM_BASE 0x100000000ULL
/* KVM's TSS (3 pages) and identity-map page, reserved in e820. */
#define MICROVM_KVM_IDMAP_ADDR 0xfeffc000ULL
#define MICROVM_KVM_TSS_ADDR 0xfeffd000ULL
#define MICROVM_IOAPIC_ADDR 0xfec00000ULL
#define MICROVM_LAPIC_ADDR 0xfee00000ULL
/* The BIOS's last 128 KiB are aliased here, below 1 MiB (QEMU's rule). */
#define MICROVM_BIOS_LOW_BASE 0xe0000ULL
#define MICROVM_BIOS_LOW_SIZE 0x20000ULL

/* ACPI hardware-reduced sleep control/status registers (FADT
 * SLEEP_CONTROL_REG / SLEEP_STATUS_REG), one byte each, in port space.
 * Writing SLP_EN (bit 5) with SLP_TYP (bits 2..4) = 5 powers off (S5). */
#define MICROVM_ACPI_SLEEP_CTL_PORT 0x600
#define MICROVM_ACPI_SLEEP_STS_PORT 0x601
#define MICROVM_ACPI_SLP_TYP_S5 5
#define MICROVM_ACPI_SLP_EN 0x20

/* Generic Event Device (ACPI hardware-reduced events): a 32-bit event
 * selector at this port; reading returns pending events and clears them.
 * Bit 0 (GED_PWR_DOWN_EVT) is the power button.  Raised on GSI 9. */
#define MICROVM_ACPI_GED_PORT 0x604
#define MICROVM_ACPI_GED_IRQ 9
#define MICROVM_GED_PWR_DOWN_EVT 1

/* Legacy ports */
#define MICROVM_COM1_PORT 0x3f8
#define MICROVM_COM1_IRQ 4
#define MICROVM_DEBUG_EXIT_PORT 0xf4
/* virtio-mmio slots: QEMU microvm's base and 512-byte windows; the GSIs
 * are 16..23, the IOAPIC pins no ISA device uses (QEMU puts them on a
 * second IOAPIC, or on 5..12 without one). */
#define MICROVM_VIRTIO_MMIO_BASE 0xfeb00000ULL
#define MICROVM_VIRTIO_MMIO_GSI 16

#endif
