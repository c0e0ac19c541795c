/* SPDX-License-Identifier: MIT */
/*
 * ich9-lpc.h: the ICH9 LPC bridge at 00:1f.0 ("ICH9-LPC", 8086:2918) as
 * far as a q35 guest's ACPI needs it: the PMBASE and ACPI_CNTL registers
 * (ICH9 datasheet 13.1.10-11) and the ACPI fixed-hardware block they map
 * (13.8.3): PM1 status/enable (the power button, PWRBTN_STS), PM1 control
 * (SCI_EN, SLP_TYP/SLP_EN: S5 powers off), the 24-bit 3.579545 MHz PM
 * timer and GPE0; the SCI on GSI 9 (level, active high, as QEMU's FADT).
 */
#ifndef HW_ACPI_ICH9_LPC_H
#define HW_ACPI_ICH9_LPC_H

#include "util/common.h"
#include "util/error.h"

struct device;
struct machine;

#define ICH9_LPC_CLASS "ICH9-LPC"
#define ICH9_LPC_DEVFN_TEXT "1f.0"
#define ICH9_PMBASE_DEFAULT 0x600
#define ICH9_PMIO_SIZE 128
#define ICH9_SCI_IRQ 9
/* offsets from PMBASE */
#define ICH9_PM1_STS 0x00
#define ICH9_PM1_EN 0x02
#define ICH9_PM1_CNT 0x04
#define ICH9_PM1_TMR 0x08
#define ICH9_GPE0_STS 0x20
#define ICH9_GPE0_EN 0x28
#define ICH9_GPE0_LEN 16
/* PM1 bits */
#define ICH9_PM1_TMR_STS 0x0001
#define ICH9_PM1_GBL_STS 0x0020
#define ICH9_PM1_PWRBTN_STS 0x0100
#define ICH9_PM1_RTC_STS 0x0400
#define ICH9_PM1_WAK_STS 0x8000
#define ICH9_PM1_CNT_SCI_EN 0x0001
#define ICH9_PM1_CNT_SLP_EN 0x2000
/* The SLP_TYP value our _S5 package gives (QEMU's: 0 is soft-off). */
#define ICH9_SLP_TYP_S5 0
#define ICH9_PM_TIMER_HZ 3579545ULL

/* Presses the power button: PWRBTN_STS, and the SCI if enabled. */
void ich9_lpc_power_button(struct device *dev);
/* The LPC of m, or NULL. */
struct device *ich9_lpc_find(struct machine *m);
/* PM1 status (tests). */
uint16_t ich9_lpc_pm1_sts(struct device *dev);

#endif
