/* SPDX-License-Identifier: MIT */
/*
 * drive.c: the machine's drive table (see drive.h): -drive and -blockdev
 * options, parsed by drive-opts.c, become open block backends keyed by id,
 * which devices take through their drive= property, as QEMU's
 * BlockBackends are found by blk_by_name().
 */
#include "util/common.h"
#include "hw/block/drive.h"
#include "hw/core/device.h"
#include "system/machine.h"

void drive_opts_free(gpointer p)
{
    drive_opts_clear(p);
    g_free(p);
}

bool machine_config_add_drive(struct machine_config *cfg, const char *text,
                              Error **errp)
{
    struct drive_opts *o = g_new0(struct drive_opts, 1);

    if (!drive_parse(text, o, errp)) {
        drive_opts_free(o);
        return false;
    }
    g_ptr_array_add(cfg->drives, o);
    return true;
}

bool machine_config_add_blockdev(struct machine_config *cfg, const char *text,
                                 Error **errp)
{
    struct blockdev_node *n = blockdev_parse(text, errp);

    if (!n) {
        return false;
    }
    g_ptr_array_add(cfg->blockdevs, n);
    return true;
}

static void drive_free(struct drive *d)
{
    if (d->be) {
        blk_close(d->be);
    }
    drive_opts_clear(&d->opts);
    for (unsigned i = 0; i < d->nr_nodes; i++) {
        g_free(d->nodes[i].name);
    }
    g_free(d->id);
    g_free(d);
}

static struct drive *drive_find(struct machine *m, const char *id)
{
    for (guint i = 0; m->drives && i < m->drives->len; i++) {
        struct drive *d = g_ptr_array_index(m->drives, i);

        if (!strcmp(d->id, id)) {
            return d;
        }
    }
    return NULL;
}

/* Takes o (cleared on return) and opens it under id. */
static struct drive *drive_add(struct machine *m, const char *id,
                               struct drive_opts *o, const char *what,
                               Error **errp)
{
    struct drive *d;
    struct blk_options bo = {
        .filename = o->file,
        .readonly = o->readonly,
        .cache = o->cache,
        .aio = o->aio,
        .locking = o->locking,
        .sandbox_workers = m->cfg->sandbox,
    };

    if (drive_find(m, id)) {
        error_setg(errp, "%s: Duplicate ID '%s' for drive", what, id);
        drive_opts_clear(o);
        return NULL;
    }
    if (!o->file) {
        error_setg(errp, "%s: A block device must be specified for \"file\"",
                   what);
        drive_opts_clear(o);
        return NULL;
    }
    d = g_new0(struct drive, 1);
    d->id = g_strdup(id);
    d->opts = *o;
    memset(o, 0, sizeof(*o));
    d->be = blk_open(&bo, errp);
    if (!d->be) {
        error_prepend(errp, "%s: ", what);
        drive_free(d);
        return NULL;
    }
    g_ptr_array_add(m->drives, d);
    return d;
}

static void node_set(struct drive_node *n, const char *name, unsigned seq,
                     const char *driver, bool readonly, bool direct,
                     bool no_flush)
{
    n->name = name ? g_strdup(name) : g_strdup_printf("#block%03u", seq);
    n->seq = seq;
    n->driver = driver;
    n->readonly = readonly;
    n->direct = direct;
    n->no_flush = no_flush;
}

/* A -drive's two nodes, as QEMU's blockdev_init() makes them: a raw
 * format node over the protocol node its file probes to, both with the
 * drive's read-only and cache options. */
static void drive_nodes_from_opts(struct drive *d, unsigned seq)
{
    bool direct = d->opts.cache == BLK_CACHE_NONE;
    bool no_flush = d->opts.cache == BLK_CACHE_UNSAFE;

    node_set(&d->nodes[0], NULL, seq + 1, "raw", d->opts.readonly, direct,
             no_flush);
    node_set(&d->nodes[1], NULL, seq,
             blk_is_host_device(d->be) ? "host_device" : "file",
             d->opts.readonly, direct, no_flush);
    d->nr_nodes = 2;
}

/* The index of -blockdev `name` among nodes, or -1. */
static int blockdev_index(GPtrArray *nodes, const char *name)
{
    for (guint i = 0; i < nodes->len; i++) {
        const struct blockdev_node *n = g_ptr_array_index(nodes, i);

        if (n->node_name && !strcmp(n->node_name, name)) {
            return (int)i;
        }
    }
    return -1;
}

/* A -blockdev drive's nodes: top (the i-th -blockdev) and, for raw, its
 * protocol child (inline, made just before top, or its own -blockdev). */
static void drive_nodes_from_blockdev(struct drive *d, GPtrArray *nodes,
                                      guint i)
{
    const struct blockdev_node *top = g_ptr_array_index(nodes, i);
    const struct blockdev_node *f;
    unsigned seq;
    bool ro, direct, no_flush;

    node_set(&d->nodes[0], top->node_name, 2 * i + 1, blockdev_driver_name(top),
             top->read_only, top->cache_direct, top->cache_no_flush);
    d->nr_nodes = 1;
    if (top->driver != BLOCKDEV_RAW) {
        return;
    }
    if (top->file) {
        f = top->file;
        seq = 2 * i;
    } else {
        /* blockdev_resolve() found it, so it exists */
        guint j = (guint)blockdev_index(nodes, top->file_ref);

        f = g_ptr_array_index(nodes, j);
        seq = 2 * j + 1;
    }
    blockdev_child_flags(top, f, &ro, &direct, &no_flush);
    node_set(&d->nodes[1], f->node_name, seq, blockdev_driver_name(f), ro,
             direct, no_flush);
    d->nr_nodes = 2;
}

/* Whether node `name` is some other node's file child (by reference). */
static bool blockdev_is_child(GPtrArray *nodes, const char *name)
{
    for (guint i = 0; i < nodes->len; i++) {
        const struct blockdev_node *n = g_ptr_array_index(nodes, i);

        if (n->file_ref && !strcmp(n->file_ref, name)) {
            return true;
        }
    }
    return false;
}

/* The drive= value of a device's options, or NULL. */
static const char *opts_drive(const struct device_opts *o)
{
    for (size_t i = 0; i < o->n; i++) {
        if (!strcmp(o->values[i].name, "drive") &&
            o->values[i].type == PROP_STR) {
            return o->values[i].s;
        }
    }
    return NULL;
}

bool machine_open_drives(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    unsigned nvirtio = 0;
    /* QEMU opens every -blockdev before any -drive */
    unsigned nblockdevs = cfg->blockdevs ? cfg->blockdevs->len : 0;

    m->drives = g_ptr_array_new_with_free_func((GDestroyNotify)drive_free);
    for (guint i = 0; cfg->drives && i < cfg->drives->len; i++) {
        const struct drive_opts *src = g_ptr_array_index(cfg->drives, i);
        struct drive_opts o = *src;
        struct drive *d;
        char *id;

        /* QEMU names an anonymous if=virtio drive "virtio<N>" */
        id = src->id ? g_strdup(src->id)
             : src->iface == DRIVE_IF_VIRTIO
                 ? g_strdup_printf("virtio%u", nvirtio)
                 : g_strdup_printf("none%u", i);
        nvirtio += src->iface == DRIVE_IF_VIRTIO;
        if (src->iface == DRIVE_IF_VIRTIO && !m->type->virtio_blk_driver) {
            error_setg(errp,
                       "-drive %s: machine type '%s' has no virtio bus for "
                       "if=virtio (use if=none and -device)",
                       id, m->type->name);
            g_free(id);
            return false;
        }
        o.id = g_strdup(id);
        o.file = g_strdup(src->file);
        d = drive_add(m, id, &o, "-drive", errp);
        g_free(id);
        if (!d) {
            return false;
        }
        drive_nodes_from_opts(d, 2 * (nblockdevs + i));
    }
    for (guint i = 0; cfg->blockdevs && i < cfg->blockdevs->len; i++) {
        const struct blockdev_node *n = g_ptr_array_index(cfg->blockdevs, i);
        struct drive_opts o = {0};
        struct drive *d;

        /* a protocol node under a format node is opened through it */
        if (blockdev_is_child(cfg->blockdevs, n->node_name)) {
            continue;
        }
        if (!blockdev_resolve(cfg->blockdevs, n->node_name, &o, errp)) {
            error_prepend(errp, "-blockdev: ");
            return false;
        }
        d = drive_add(m, n->node_name, &o, "-blockdev", errp);
        if (!d) {
            return false;
        }
        d->blockdev = true;
        drive_nodes_from_blockdev(d, cfg->blockdevs, i);
    }
    for (guint i = 0; i < cfg->devices->len; i++) {
        const struct device_opts *o = g_ptr_array_index(cfg->devices, i);
        const char *id = opts_drive(o);

        if (id && !drive_find(m, id)) {
            error_setg(errp,
                       "-device %s: Property '%s.drive' can't find value "
                       "'%s'",
                       o->text, o->cls->name, id);
            return false;
        }
    }
    return true;
}

bool machine_create_drive_devices(struct machine *m, Error **errp)
{
    for (guint i = 0; i < m->drives->len; i++) {
        struct drive *d = g_ptr_array_index(m->drives, i);
        const struct prop_value v[] = {PROP_VAL_STR("drive", d->id)};

        if (d->opts.iface != DRIVE_IF_VIRTIO) {
            continue;
        }
        if (!device_create(m, m->type->virtio_blk_driver, v, 1, errp)) {
            error_prepend(errp, "-drive if=virtio,id=%s: ", d->id);
            return false;
        }
    }
    return true;
}

struct drive *drive_attach(struct machine *m, const char *id,
                           struct device *dev, Error **errp)
{
    struct drive *d;

    if (!id) {
        error_setg(errp, "drive property not set");
        return NULL;
    }
    d = drive_find(m, id);
    if (!d) {
        error_setg(errp, "Property '%s.drive' can't find value '%s'",
                   dev->cls->name, id);
        return NULL;
    }
    if (d->user) {
        error_setg(errp, "Drive '%s' is already in use by another device", id);
        return NULL;
    }
    d->user = dev;
    return d;
}

void drive_detach(struct drive *d)
{
    if (d) {
        d->user = NULL;
    }
}

void machine_close_drives(struct machine *m)
{
    if (m->drives) {
        g_ptr_array_free(m->drives, TRUE);
        m->drives = NULL;
    }
}
