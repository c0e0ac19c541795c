/* SPDX-License-Identifier: MIT */
/*
 * ged.h: the ACPI hardware-reduced platform's event and sleep registers
 * (ACPI 6.4, 4.1 "Hardware-Reduced ACPI": the FADT's SLEEP_CONTROL_REG and
 * SLEEP_STATUS_REG, section 4.8.3.7; the Generic Event Device, 5.6.9), as
 * one device "acpi-ged" like QEMU's: 8 ports from iobase, sleep control at
 * +0, sleep status at +1, a 32-bit event selector at +4 that returns the
 * pending events and clears them (and its line).  The power button is
 * event bit 0 on the line `irq`; sleep type 5 with SLP_EN powers off.
 */
#ifndef HW_ACPI_GED_H
#define HW_ACPI_GED_H

#include "util/common.h"

struct device;

#define ACPI_GED_DEFAULT_IOBASE 0x600
#define ACPI_GED_DEFAULT_IRQ 9
#define ACPI_GED_IO_SIZE 8
#define ACPI_GED_SLEEP_CTL 0 /* offsets from iobase */
#define ACPI_GED_SLEEP_STS 1
#define ACPI_GED_EVT_SEL 4
#define ACPI_GED_SLP_TYP_S5 5
#define ACPI_GED_SLP_EN 0x20
#define ACPI_GED_PWR_DOWN_EVT 1u
#define ACPI_GED_KNOWN_EVENTS ACPI_GED_PWR_DOWN_EVT

/* Presses the power button: sets the event and raises the line (main
 * thread; takes the device lock). */
void acpi_ged_power_button(struct device *dev);
/* Pending events (for tests). */
uint32_t acpi_ged_events(struct device *dev);

#endif
