/* SPDX-License-Identifier: MIT */
/*
 * drive-opts.h: the -drive and -blockdev command-line options of QEMU as
 * typed structs, parsed by pure functions (no file is opened here; the
 * integrator wires them to system/vl.c and opens the backends).
 *
 *   -drive file=PATH,format=raw,if=virtio|none,id=ID,readonly=on,
 *          cache=none|writeback|unsafe,aio=io_uring|threads,locking=...
 *   -blockdev driver=raw,node-name=N,file.driver=file,file.filename=PATH,...
 *   -blockdev {"driver":"file","node-name":"s","filename":"PATH",...}
 *   -blockdev {"driver":"raw","node-name":"f","file":"s","read-only":false}
 *
 * A -blockdev describes one node; a format node names its protocol child
 * inline (file.* or a JSON object) or by node name (libvirt's way), which
 * blockdev_resolve() follows to one struct drive_opts.  Keys QEMU knows but
 * vireo does not implement are refused by name (house rule 4).
 */
#ifndef HW_BLOCK_DRIVE_OPTS_H
#define HW_BLOCK_DRIVE_OPTS_H

#include "util/common.h"
#include "util/error.h"
#include "hw/block/block-backend.h"

enum drive_if {
    DRIVE_IF_NONE = 0, /* a backend for -device ...,drive=ID */
    DRIVE_IF_VIRTIO,   /* a virtio-blk device is created for it */
};

/* What a backend needs, from either option. */
struct drive_opts {
    char *id;   /* -drive id= / the -blockdev node name (NULL: none given) */
    char *file; /* image path */
    enum drive_if iface;
    bool readonly;
    enum blk_cache cache;
    enum blk_aio aio;
    enum blk_locking locking;
    bool discard_unmap; /* discard=unmap (QEMU's default: ignore) */
};

void drive_opts_clear(struct drive_opts *o);
/* -drive TEXT. */
bool drive_parse(const char *text, struct drive_opts *out, Error **errp);

enum blockdev_driver {
    BLOCKDEV_FILE, /* protocol: a host file or block device */
    BLOCKDEV_RAW,  /* format: raw over its "file" child */
};

struct blockdev_node {
    enum blockdev_driver driver;
    bool host_device; /* BLOCKDEV_FILE given as driver=host_device */
    char *node_name;
    bool read_only;
    bool auto_read_only;
    bool cache_direct;   /* cache.direct */
    bool cache_no_flush; /* cache.no-flush */
    bool discard_unmap;
    /* BLOCKDEV_FILE */
    char *filename;
    enum blk_aio aio;
    enum blk_locking locking;
    /* BLOCKDEV_RAW: the child, inline or by node name (one of them) */
    struct blockdev_node *file;
    char *file_ref;
};

/* -blockdev TEXT, dotted keys or JSON (text starting with '{'). */
struct blockdev_node *blockdev_parse(const char *text, Error **errp);
void blockdev_node_free(struct blockdev_node *n);
/* QEMU's driver name: "raw", "file" or "host_device". */
const char *blockdev_driver_name(const struct blockdev_node *n);
/* The options the protocol child f of raw node top ends up with: an
 * inline child inherits the parent's read-only and cache options, a
 * referenced one (file=NODE) keeps its own (QEMU's rule). */
void blockdev_child_flags(const struct blockdev_node *top,
                          const struct blockdev_node *f, bool *readonly,
                          bool *direct, bool *no_flush);
/* Follows node `name` among nodes (struct blockdev_node *) down to its
 * file; the cache mode comes from the node the device uses. */
bool blockdev_resolve(GPtrArray *nodes, const char *name,
                      struct drive_opts *out, Error **errp);

#endif
