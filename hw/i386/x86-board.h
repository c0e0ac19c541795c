/* SPDX-License-Identifier: MIT */
/*
 * x86-board.h: helpers the x86 machine types (microvm, q35) share: RAM
 * layout around the 4 GiB hole, the -bios image, and the legacy ISA
 * devices of a PC (COM ports from -serial, port 0x80, i8042, RTC).
 */
#ifndef HW_I386_X86_BOARD_H
#define HW_I386_X86_BOARD_H

#include "util/common.h"
#include "util/error.h"

struct machine;

/* RAM from 0 to min(ram, lowmem_end), the rest from 4 GiB (in m->gm if the
 * board set it from a memory backend, else a new memfd); with
 * bios_alias, 0xe0000-0xfffff is left for the firmware's alias. */
bool x86_setup_ram(struct machine *m, uint64_t lowmem_end, bool bios_alias,
                   Error **errp);
/* COM1-4 for -serial, port80, i8042, mc146818rtc. */
bool x86_add_legacy_devices(struct machine *m, Error **errp);

#endif
