/* SPDX-License-Identifier: MIT */
/*
 * mc146818.h: the CMOS real-time clock and NVRAM of the PC (QEMU's
 * "mc146818rtc"), at ports 0x70 (index; bit 7 is the NMI mask) and 0x71
 * (data).  Register numbers for the tests and the machine.
 */
#ifndef HW_RTC_MC146818_H
#define HW_RTC_MC146818_H

#include "util/common.h"

struct device;
/* Replaces the host clock (microseconds since the epoch) for tests. */
void mc146818_set_clock(struct device *dev, int64_t (*now_us)(void *opaque),
                        void *opaque);
/* What the main-loop timer does when it fires (tests call it after moving
 * their clock; the caller holds the device lock). */
void mc146818_run_timers(struct device *dev);
/* Host time (us since the epoch) of the next event the timer waits for,
 * -1 if none is enabled. */
int64_t mc146818_deadline(struct device *dev);
/* The IRQ 8 line (IRQF). */
bool mc146818_irq_level(struct device *dev);

#define RTC_ISA_BASE 0x70
#define RTC_ISA_IRQ 8

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_D_VRT 0x80

/* NVRAM bytes the BIOS conventions define (memory sizes) */
#define CMOS_BASE_MEM_LO 0x15 /* KiB below 1 MiB */
#define CMOS_EXT_MEM_LO 0x17  /* KiB above 1 MiB, max 65535 */
#define CMOS_EXT_MEM2_LO 0x30 /* same, as POST reports it */
#define CMOS_MEM_16M_LO 0x34  /* 64 KiB units above 16 MiB, below 4 GiB */
#define CMOS_MEM_4G_LO 0x5b   /* 64 KiB units above 4 GiB, 3 bytes */
#define CMOS_NR_CPUS_M1 0x5f  /* CPUs - 1 (QEMU/SeaBIOS convention) */

#endif
