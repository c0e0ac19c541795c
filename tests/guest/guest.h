/* SPDX-License-Identifier: MIT */
/*
 * guest.h: constants shared by the test guests' assembly (.S) files.
 * Every guest is a 64 KiB -bios image mapped at 0xffff0000; the CPU starts
 * in real mode with CS base 0xffff0000, so 16-bit code addresses its own
 * data as CS-relative offsets: RM(sym).
 */
#ifndef TESTS_GUEST_GUEST_H
#define TESTS_GUEST_GUEST_H

#define ROM_BASE 0xffff0000
#define RM(x) ((x)-ROM_BASE)

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20

#define DEBUG_EXIT_PORT 0xf4
/* ACPI hardware-reduced sleep control: SLP_TYP=5 (S5) | SLP_EN. */
#define ACPI_SLEEP_CTL_PORT 0x600
#define ACPI_S5_VALUE ((5 << 2) | 0x20)
/* LSR reads between the S5 write and the fallbacks (see entry.S). */
#define POWEROFF_GRACE 10000

/* Selectors of the flat GDT in pm32.S */
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE64 0x18

/* Low RAM used by the guests (RAM starts at 0 on every machine). */
#define STACK16_TOP 0x7c00
#define STACK32_TOP 0x9000
#define PAGE_TABLES 0x10000

/* apic32.S: the IDT in RAM, the LAPIC and IOAPIC */
#define APIC32_IDT 0x20000
#define LAPIC_BASE 0xfee00000
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define IOAPIC_BASE 0xfec00000
#define IOAPIC_RTE_LO(pin) (0x10 + 2 * (pin))
#define IOAPIC_RTE_HI(pin) (0x11 + 2 * (pin))

#endif
