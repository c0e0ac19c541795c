/* SPDX-License-Identifier: MIT */
/*
 * drive-opts.c: -drive and -blockdev option parsing into typed structs; see
 * drive-opts.h.  Dotted -blockdev keys become a JSON tree of strings, so
 * both forms go through one node parser; a scalar from the dotted form is
 * a string parsed like QEMU's keyval visitor does ("on"/"off"), one from
 * JSON must have the JSON type (QEMU's "Invalid parameter type").
 */
#include "util/common.h"
#include "hw/block/drive-opts.h"
#include "qapi/json-parse.h"
#include "qapi/json-value.h"
#include "util/keyval.h"

void drive_opts_clear(struct drive_opts *o)
{
    g_free(o->id);
    g_free(o->file);
    memset(o, 0, sizeof(*o));
}

/* QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static bool id_ok(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static bool parse_discard(const char *v, bool *unmap, Error **errp)
{
    if (!strcmp(v, "ignore") || !strcmp(v, "off")) {
        *unmap = false;
    } else if (!strcmp(v, "unmap") || !strcmp(v, "on")) {
        *unmap = true;
    } else {
        error_setg(errp, "Invalid discard option '%s'", v);
        return false;
    }
    return true;
}

/* Formats QEMU has and vireo does not: refused by name. */
static const char *const unsupported_formats[] = {
    "qcow2",       "qcow",
    "qed",         "vmdk",
    "vdi",         "vhdx",
    "vpc",         "luks",
    "dmg",         "parallels",
    "bochs",       "cloop",
    "vvfat",       "copy-on-read",
    "throttle",    "blkdebug",
    "blkverify",   "quorum",
    "replication", "compress",
    "preallocate", "snapshot-access",
    "null-co",     "null-aio",
    "nbd",         "iscsi",
    "nfs",         "ssh",
    "http",        "https",
    "ftp",         "ftps",
    "rbd",         "gluster",
    "host_cdrom",  "nvme",
    "io_uring",    "virtio-blk-vhost-vdpa",
};

static bool known_unsupported(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(unsupported_formats); i++) {
        if (!strcmp(name, unsupported_formats[i])) {
            return true;
        }
    }
    return false;
}

/* ---- -drive -------------------------------------------------------- */

/* cache.direct= / cache.no-flush= over the mode cache= set (QEMU applies
 * cache= as their defaults, so an explicit flag wins). */
static bool drive_cache_flags(struct keyval *kv, enum blk_cache *cache,
                              Error **errp)
{
    bool direct = *cache == BLK_CACHE_NONE;
    bool no_flush = *cache == BLK_CACHE_UNSAFE;

    if (!keyval_get_bool(kv, "cache.direct", direct, &direct, errp) ||
        !keyval_get_bool(kv, "cache.no-flush", no_flush, &no_flush, errp)) {
        error_prepend(errp, "-drive: ");
        return false;
    }
    if (direct && no_flush) {
        error_setg(errp, "-drive: cache.direct=on with cache.no-flush=on is "
                         "not supported by vireo");
        return false;
    }
    *cache = direct     ? BLK_CACHE_NONE
             : no_flush ? BLK_CACHE_UNSAFE
                        : BLK_CACHE_WRITEBACK;
    return true;
}

bool drive_parse(const char *text, struct drive_opts *out, Error **errp)
{
    struct keyval *kv = keyval_parse(text, NULL, errp);
    const char *v;
    bool ro, ro2;

    memset(out, 0, sizeof(*out));
    if (!kv) {
        return false;
    }
    v = keyval_get(kv, "id");
    if (v && !id_ok(v)) {
        error_setg(errp, "-drive: Parameter 'id' expects an identifier "
                         "(a letter, then letters, digits, '-', '.', '_')");
        goto fail;
    }
    out->id = g_strdup(v);
    v = keyval_get(kv, "file");
    if (!v || !*v) {
        error_setg(errp, "-drive: a file is required (file=PATH): vireo "
                         "has no removable media");
        goto fail;
    }
    out->file = g_strdup(v);
    v = keyval_get(kv, "format");
    if (v && strcmp(v, "raw")) {
        if (known_unsupported(v)) {
            error_setg(errp,
                       "-drive: format '%s' is not supported by vireo (raw "
                       "images only)",
                       v);
        } else {
            error_setg(errp, "-drive: Unknown driver '%s'", v);
        }
        goto fail;
    }
    v = keyval_get(kv, "if");
    if (!v) {
        error_setg(errp, "-drive: if= is required: QEMU's default is an IDE "
                         "disk, which vireo does not have (use if=virtio or "
                         "if=none with -device)");
        goto fail;
    } else if (!strcmp(v, "virtio")) {
        out->iface = DRIVE_IF_VIRTIO;
    } else if (!strcmp(v, "none")) {
        out->iface = DRIVE_IF_NONE;
    } else if (!strcmp(v, "ide") || !strcmp(v, "scsi") ||
               !strcmp(v, "floppy") || !strcmp(v, "pflash") ||
               !strcmp(v, "mtd") || !strcmp(v, "sd") || !strcmp(v, "xen")) {
        error_setg(errp,
                   "-drive: if=%s is not supported by vireo (use if=virtio "
                   "or if=none)",
                   v);
        goto fail;
    } else {
        error_setg(errp, "-drive: unsupported bus type '%s'", v);
        goto fail;
    }
    /* QEMU accepts both spellings */
    if (!keyval_get_bool(kv, "readonly", false, &ro, errp) ||
        !keyval_get_bool(kv, "read-only", false, &ro2, errp)) {
        goto fail;
    }
    out->readonly = ro || ro2;
    if (((v = keyval_get(kv, "cache")) &&
         !blk_parse_cache(v, &out->cache, errp)) ||
        ((v = keyval_get(kv, "aio")) && !blk_parse_aio(v, &out->aio, errp)) ||
        ((v = keyval_get(kv, "discard")) &&
         !parse_discard(v, &out->discard_unmap, errp))) {
        error_prepend(errp, "-drive: ");
        goto fail;
    }
    if (!drive_cache_flags(kv, &out->cache, errp)) {
        goto fail;
    }
    if ((v = keyval_get(kv, "file.locking")) ||
        (v = keyval_get(kv, "locking"))) {
        if (!blk_parse_locking(v, &out->locking, errp)) {
            error_prepend(errp, "-drive: ");
            goto fail;
        }
    }
    if (!keyval_check_all_used(kv, "-drive", errp)) {
        goto fail;
    }
    keyval_free(kv);
    return true;
fail:
    keyval_free(kv);
    drive_opts_clear(out);
    return false;
}

/* ---- -blockdev ------------------------------------------------------- */

/* "a.b.c=v" keys into nested objects of strings. */
static struct json_value *dotted_to_tree(const char *text, Error **errp)
{
    struct keyval *kv = keyval_parse(text, NULL, errp);
    struct json_value *root;

    if (!kv) {
        return NULL;
    }
    root = json_new_object();
    for (size_t i = 0; i < keyval_count(kv); i++) {
        const char *key = keyval_key_at(kv, i);
        gchar **parts = g_strsplit(key, ".", -1);
        struct json_value *o = root;
        bool ok = true;

        for (gchar **p = parts; *p && ok; p++) {
            struct json_value *child = json_object_get(o, *p);

            if (!**p) {
                error_setg(errp, "-blockdev: invalid key '%s'", key);
                ok = false;
            } else if (!p[1]) {
                if (child) {
                    error_setg(errp,
                               "-blockdev: Parameter '%s' used "
                               "inconsistently",
                               key);
                    ok = false;
                } else {
                    json_object_set(o, *p,
                                    json_new_string(keyval_value_at(kv, i)));
                }
            } else if (!child) {
                child = json_new_object();
                json_object_set(o, *p, child);
                o = child;
            } else if (json_is(child, JSON_OBJECT)) {
                o = child;
            } else {
                error_setg(
                    errp, "-blockdev: Parameter '%s' used inconsistently", key);
                ok = false;
            }
        }
        g_strfreev(parts);
        if (!ok) {
            json_free(root);
            keyval_free(kv);
            return NULL;
        }
    }
    keyval_free(kv);
    return root;
}

struct node_ctx {
    const struct json_value *obj;
    const char *prefix; /* "" or "file." for messages */
    bool dotted;
    GHashTable *used;
};

static const struct json_value *nget(struct node_ctx *c, const char *key)
{
    g_hash_table_add(c->used, (gpointer)key);
    return json_object_get(c->obj, key);
}

static bool nget_str(struct node_ctx *c, const char *key, const char **out,
                     Error **errp)
{
    const struct json_value *v = nget(c, key);

    *out = NULL;
    if (!v) {
        return true;
    }
    if (!json_is(v, JSON_STRING)) {
        error_setg(errp,
                   "-blockdev: Invalid parameter type for '%s%s', expected: "
                   "string",
                   c->prefix, key);
        return false;
    }
    *out = json_string(v);
    return true;
}

static bool nget_bool(struct node_ctx *c, const struct json_value *obj,
                      const char *key, const char *name, bool *out,
                      Error **errp)
{
    const struct json_value *v = json_object_get(obj, key);

    if (obj == c->obj) {
        g_hash_table_add(c->used, (gpointer)key);
    }
    if (!v) {
        return true;
    }
    if (json_is(v, JSON_BOOL)) {
        *out = v->u.b;
        return true;
    }
    if (c->dotted && json_is(v, JSON_STRING) &&
        parse_bool(json_string(v), out)) {
        return true;
    }
    if (c->dotted) {
        error_setg(errp, "-blockdev: Parameter '%s%s' expects 'on' or 'off'",
                   c->prefix, name);
    } else {
        error_setg(errp,
                   "-blockdev: Invalid parameter type for '%s%s', expected: "
                   "boolean",
                   c->prefix, name);
    }
    return false;
}

static struct blockdev_node *parse_node(const struct json_value *obj,
                                        const char *prefix, bool dotted,
                                        bool top, Error **errp);

static bool parse_node_into(struct node_ctx *c, struct blockdev_node *n,
                            bool top, Error **errp)
{
    const struct json_value *v;
    const char *s;

    if (!nget_str(c, "driver", &s, errp)) {
        return false;
    }
    if (!s) {
        error_setg(errp, "-blockdev: Parameter '%sdriver' is missing",
                   c->prefix);
        return false;
    }
    if (!strcmp(s, "file") || !strcmp(s, "host_device")) {
        n->driver = BLOCKDEV_FILE;
        n->host_device = !strcmp(s, "host_device");
    } else if (!strcmp(s, "raw")) {
        n->driver = BLOCKDEV_RAW;
    } else if (known_unsupported(s)) {
        error_setg(errp,
                   "-blockdev: driver '%s' is not supported by vireo "
                   "(file, host_device and raw only)",
                   s);
        return false;
    } else {
        error_setg(errp,
                   "-blockdev: Parameter '%sdriver' does not accept value "
                   "'%s'",
                   c->prefix, s);
        return false;
    }
    if (!nget_str(c, "node-name", &s, errp)) {
        return false;
    }
    if (s && !id_ok(s)) {
        error_setg(errp, "-blockdev: Invalid node-name: '%s'", s);
        return false;
    }
    if (!s && top) {
        error_setg(errp, "-blockdev: node-name is required");
        return false;
    }
    n->node_name = g_strdup(s);
    if (!nget_bool(c, c->obj, "read-only", "read-only", &n->read_only, errp) ||
        !nget_bool(c, c->obj, "auto-read-only", "auto-read-only",
                   &n->auto_read_only, errp)) {
        return false;
    }
    v = nget(c, "cache");
    if (v) {
        if (!json_is(v, JSON_OBJECT)) {
            error_setg(errp,
                       "-blockdev: Invalid parameter type for '%scache', "
                       "expected: object",
                       c->prefix);
            return false;
        }
        for (size_t i = 0; i < json_object_len(v); i++) {
            const char *k = json_object_member(v, i)->key;
            if (strcmp(k, "direct") && strcmp(k, "no-flush")) {
                error_setg(errp, "-blockdev: invalid parameter '%scache.%s'",
                           c->prefix, k);
                return false;
            }
        }
        if (!nget_bool(c, v, "direct", "cache.direct", &n->cache_direct,
                       errp) ||
            !nget_bool(c, v, "no-flush", "cache.no-flush", &n->cache_no_flush,
                       errp)) {
            return false;
        }
    }
    if (!nget_str(c, "discard", &s, errp) ||
        (s && !parse_discard(s, &n->discard_unmap, errp))) {
        return false;
    }
    if (n->driver == BLOCKDEV_FILE) {
        if (!nget_str(c, "filename", &s, errp)) {
            return false;
        }
        if (!s || !*s) {
            error_setg(errp, "-blockdev: Parameter '%sfilename' is missing",
                       c->prefix);
            return false;
        }
        n->filename = g_strdup(s);
        if (!nget_str(c, "aio", &s, errp) ||
            (s && !blk_parse_aio(s, &n->aio, errp)) ||
            !nget_str(c, "locking", &s, errp) ||
            (s && !blk_parse_locking(s, &n->locking, errp))) {
            return false;
        }
        return true;
    }
    v = nget(c, "file");
    if (!v) {
        error_setg(errp, "-blockdev: Parameter '%sfile' is missing", c->prefix);
        return false;
    }
    if (json_is(v, JSON_STRING)) {
        n->file_ref = g_strdup(json_string(v));
        return true;
    }
    if (!json_is(v, JSON_OBJECT)) {
        error_setg(errp,
                   "-blockdev: Invalid parameter type for '%sfile', expected: "
                   "object or node name",
                   c->prefix);
        return false;
    }
    {
        g_autofree char *p = g_strdup_printf("%sfile.", c->prefix);
        n->file = parse_node(v, p, c->dotted, false, errp);
    }
    if (!n->file) {
        return false;
    }
    if (n->file->driver != BLOCKDEV_FILE) {
        error_setg(errp, "-blockdev: the child of a raw node must be a file "
                         "(vireo does not stack formats)");
        return false;
    }
    return true;
}

static struct blockdev_node *parse_node(const struct json_value *obj,
                                        const char *prefix, bool dotted,
                                        bool top, Error **errp)
{
    struct blockdev_node *n = g_new0(struct blockdev_node, 1);
    struct node_ctx c = {obj, prefix, dotted,
                         g_hash_table_new(g_str_hash, g_str_equal)};
    bool ok = parse_node_into(&c, n, top, errp);

    for (size_t i = 0; ok && i < json_object_len(obj); i++) {
        const char *k = json_object_member(obj, i)->key;

        if (!g_hash_table_contains(c.used, k)) {
            error_setg(errp, "-blockdev: invalid parameter '%s%s'", prefix, k);
            ok = false;
        }
    }
    g_hash_table_destroy(c.used);
    if (!ok) {
        blockdev_node_free(n);
        return NULL;
    }
    return n;
}

struct blockdev_node *blockdev_parse(const char *text, Error **errp)
{
    struct json_value *tree;
    struct blockdev_node *n;
    bool dotted;

    while (g_ascii_isspace(*text)) {
        text++;
    }
    dotted = *text != '{';
    if (dotted) {
        tree = dotted_to_tree(text, errp);
        if (!tree) {
            return NULL;
        }
    } else {
        char *err = NULL;

        tree = json_parse(text, strlen(text), &err);
        if (!tree) {
            error_setg(errp, "-blockdev: JSON: %s", err);
            g_free(err);
            return NULL;
        }
        if (!json_is(tree, JSON_OBJECT)) {
            error_setg(errp, "-blockdev: JSON must be an object");
            json_free(tree);
            return NULL;
        }
    }
    n = parse_node(tree, "", dotted, true, errp);
    json_free(tree);
    return n;
}

void blockdev_node_free(struct blockdev_node *n)
{
    if (!n) {
        return;
    }
    blockdev_node_free(n->file);
    g_free(n->node_name);
    g_free(n->filename);
    g_free(n->file_ref);
    g_free(n);
}

static struct blockdev_node *find_node(GPtrArray *nodes, const char *name)
{
    for (guint i = 0; i < nodes->len; i++) {
        struct blockdev_node *n = g_ptr_array_index(nodes, i);
        if (n->node_name && !strcmp(n->node_name, name)) {
            return n;
        }
    }
    return NULL;
}

const char *blockdev_driver_name(const struct blockdev_node *n)
{
    if (n->driver == BLOCKDEV_RAW) {
        return "raw";
    }
    return n->host_device ? "host_device" : "file";
}

void blockdev_child_flags(const struct blockdev_node *top,
                          const struct blockdev_node *f, bool *readonly,
                          bool *direct, bool *no_flush)
{
    bool inl = top->file == f;

    *readonly = f->read_only || (inl && top->read_only);
    *direct = f->cache_direct || (inl && top->cache_direct);
    *no_flush = f->cache_no_flush || (inl && top->cache_no_flush);
}

bool blockdev_resolve(GPtrArray *nodes, const char *name,
                      struct drive_opts *out, Error **errp)
{
    struct blockdev_node *top = find_node(nodes, name), *f;
    bool direct, no_flush, ro;

    memset(out, 0, sizeof(*out));
    if (!top) {
        error_setg(errp, "Cannot find device='%s' nor node-name='%s'", name,
                   name);
        return false;
    }
    f = top;
    direct = top->cache_direct;
    no_flush = top->cache_no_flush;
    if (top->driver == BLOCKDEV_RAW) {
        f = top->file;
        if (!f) {
            f = find_node(nodes, top->file_ref);
            if (!f) {
                error_setg(errp,
                           "Cannot find device='%s' nor node-name='%s' (the "
                           "file of node '%s')",
                           top->file_ref, top->file_ref, name);
                return false;
            }
            if (f->driver != BLOCKDEV_FILE) {
                error_setg(errp,
                           "node '%s': its file '%s' must be a file node "
                           "(vireo does not stack formats)",
                           name, top->file_ref);
                return false;
            }
        }
        /* the I/O happens at the protocol node: its cache options rule
         * (libvirt sets both nodes alike) */
        blockdev_child_flags(top, f, &ro, &direct, &no_flush);
    }
    if (direct && no_flush) {
        error_setg(errp,
                   "node '%s': cache.direct=on with cache.no-flush=on is "
                   "not supported by vireo",
                   name);
        return false;
    }
    out->id = g_strdup(name);
    out->file = g_strdup(f->filename);
    out->iface = DRIVE_IF_NONE;
    out->readonly = top->read_only || f->read_only;
    out->cache = direct     ? BLK_CACHE_NONE
                 : no_flush ? BLK_CACHE_UNSAFE
                            : BLK_CACHE_WRITEBACK;
    out->aio = f->aio;
    out->locking = f->locking;
    out->discard_unmap = top->discard_unmap || f->discard_unmap;
    return true;
}
