/* SPDX-License-Identifier: MIT */
/*
 * vl.h: the QEMU-compatible command line.  vl_parse() turns argv into a
 * struct machine_config (system/machine.h) and does every check that needs
 * no running machine, so a bad option fails before any guest runs.
 *
 * main() calls it first:
 *   VL_RUN      build and run the machine from cfg;
 *   VL_EXIT_OK  print `out` (help, -version) or, when cfg->help_request is
 *               set, the owning module's list ("machine", "cpu", "device",
 *               "device:NAME"), then exit 0;
 *   VL_ERROR    report *errp and exit 1.
 */
#ifndef SYSTEM_VL_H
#define SYSTEM_VL_H

#include "util/common.h"
#include "util/error.h"
#include "system/machine.h"

enum vl_result { VL_RUN, VL_EXIT_OK, VL_ERROR };

/* Default and maximum RAM. */
#define VL_DEFAULT_RAM (128 * MiB)
#define VL_MAX_RAM (4096 * GiB)

/* cfg must have been set up with machine_config_init(). */
enum vl_result vl_parse(int argc, char **argv, struct machine_config *cfg,
                        GString *out, Error **errp);

/* Converts a legacy -serial/-monitor/-qmp spec ("stdio", "file:PATH",
 * "unix:PATH,server=on", "tcp:HOST:PORT,...", "pty", "null", "mon:SPEC")
 * into a -chardev text with the given id.  *mux is set for "mon:".
 * Exposed for tests. */
char *vl_compat_chardev(const char *spec, const char *id, bool *mux,
                        Error **errp);

#endif
