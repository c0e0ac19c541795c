/* SPDX-License-Identifier: MIT */
/*
 * drive.h: the machine's drive table, QEMU's -drive / -blockdev backends
 * opened once before the accelerator (so a missing or locked image is
 * named on any host) and looked up by id or node name through a device's
 * drive= property.  Each drive serves at most one device, as in QEMU.
 */
#ifndef HW_BLOCK_DRIVE_H
#define HW_BLOCK_DRIVE_H

#include "util/common.h"
#include "util/error.h"
#include "hw/block/drive-opts.h"

struct machine;
struct device;

struct drive {
    char *id; /* -drive id= (or QEMU's "virtioN") / node name */
    struct drive_opts opts;
    struct blk_backend *be;
    struct device *user; /* the device using it, or NULL */
    bool blockdev;       /* a -blockdev node (id is its node name) */
};

struct machine_config;

/* -drive TEXT / -blockdev TEXT into cfg->drives / cfg->blockdevs. */
bool machine_config_add_drive(struct machine_config *cfg, const char *text,
                              Error **errp);
bool machine_config_add_blockdev(struct machine_config *cfg, const char *text,
                                 Error **errp);
/* GDestroyNotify for cfg->drives. */
void drive_opts_free(gpointer p);

/* Opens every -drive and -blockdev of m->cfg into m->drives, checks that
 * each -device drive= names one, and that ids are unique. */
bool machine_open_drives(struct machine *m, Error **errp);
/* -drive if=virtio: creates the board's virtio-blk for each one. */
bool machine_create_drive_devices(struct machine *m, Error **errp);
/* Takes drive `id` for dev (QEMU's messages for an unknown or busy id). */
struct drive *drive_attach(struct machine *m, const char *id,
                           struct device *dev, Error **errp);
void drive_detach(struct drive *d);
void machine_close_drives(struct machine *m);

#endif
