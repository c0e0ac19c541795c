/* SPDX-License-Identifier: MIT */
/*
 * machine-list.c: the table of machine types (-machine NAME), as
 * device-list.c is the table of devices: a board is added here and
 * everything else it needs is behind its struct machine_type hooks.
 */
#include "util/common.h"
#include "system/machine.h"

extern const struct machine_type microvm_machine_type;
extern const struct machine_type q35_machine_type;
extern const struct machine_type none_machine_type;

const struct machine_type *const machine_types[] = {
    &microvm_machine_type,
    &q35_machine_type,
    &none_machine_type,
    NULL,
};
