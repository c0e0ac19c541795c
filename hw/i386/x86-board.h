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

/*
 * The -machine keys microvm and q35 share (the ones libvirt always
 * gives): memory-backend=ID, dump-guest-core=on|off, acpi=on|off|auto and
 * usb=off (vireo has no USB controller).  A board lists them in its
 * struct machine_type options with X86_BOARD_OPTIONS.
 */
#define X86_BOARD_OPTIONS "memory-backend", "dump-guest-core", "acpi", "usb"

struct x86_board_opts {
    char *memory_backend; /* -object id guest RAM comes from, or NULL */
    bool dump_guest_core; /* default on: guest RAM in core dumps */
    bool acpi;            /* default on (auto is on) */
};

/* Reads and checks those keys of m->cfg->machine_opts (the key set was
 * checked by machine_opts()); o->memory_backend is taken by x86_board_ram
 * or freed by x86_board_opts_clear. */
bool x86_board_read_opts(struct machine *m, struct x86_board_opts *o,
                         Error **errp);
void x86_board_opts_clear(struct x86_board_opts *o);
/* Guest RAM per those keys: from the memory backend (its size must be
 * -m's, as QEMU checks) or a new memfd, laid out by x86_setup_ram with
 * the -bios alias when there is a -bios; dump-guest-core=off marks it
 * MADV_DONTDUMP.  Frees o->memory_backend. */
bool x86_board_ram(struct machine *m, struct x86_board_opts *o,
                   uint64_t lowmem_end, Error **errp);

/* RAM from 0 to min(ram, lowmem_end), the rest from 4 GiB (in m->gm if the
 * board set it from a memory backend, else a new memfd); with
 * bios_alias, 0xe0000-0xfffff is left for the firmware's alias. */
bool x86_setup_ram(struct machine *m, uint64_t lowmem_end, bool bios_alias,
                   Error **errp);
/* COM1-4 for -serial, port80, i8042, mc146818rtc. */
bool x86_add_legacy_devices(struct machine *m, Error **errp);

#endif
