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

/*
 * One node of QEMU's block graph, as query-named-block-nodes shows it: a
 * drive is a raw format node over a protocol node (-drive, a -blockdev
 * raw node) or a protocol node alone (a -blockdev file node a device
 * uses directly).  Nodes QEMU names itself ("#blockNNN" for -drive's and
 * for an unnamed inline child) get vireo's "#block<seq>".
 */
struct drive_node {
    char *name;
    const char *driver; /* "raw", "file", "host_device" */
    bool readonly;
    bool direct;   /* cache.direct (cache=none) */
    bool no_flush; /* cache.no-flush (cache=unsafe) */
    unsigned seq;  /* QEMU's creation order: every -blockdev in order
                      (an inline child before its parent), then -drive */
};

struct drive {
    char *id; /* -drive id= (or QEMU's "virtioN") / node name */
    struct drive_opts opts;
    struct blk_backend *be;
    struct device *user; /* the device using it, or NULL */
    bool blockdev;       /* a -blockdev node (id is its node name) */
    /* nodes[0]: the node a device uses; nodes[1]: its protocol child */
    struct drive_node nodes[2];
    unsigned nr_nodes;
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
