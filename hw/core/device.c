/* SPDX-License-Identifier: MIT */
/*
 * device.c: creating devices from the flat class table: typed property
 * values (parsed once by device-opts.c, or given by board code), realize,
 * reset, destroy, and the "-device help" text.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "system/machine.h"
#include "util/keyval.h"

const struct device_class *device_class_find(const char *name)
{
    for (const struct device_class *const *c = device_classes; *c; c++) {
        if (!strcmp((*c)->name, name)) {
            return *c;
        }
    }
    return NULL;
}

const struct prop *device_class_prop(const struct device_class *cls,
                                     const char *name)
{
    for (const struct prop *p = cls->props; p && p->name; p++) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

/* The largest value an integer property holds. */
static uint64_t prop_max(enum prop_type t)
{
    switch (t) {
    case PROP_BOOL:
        return 1;
    case PROP_U8:
        return UINT8_MAX;
    case PROP_U16:
        return UINT16_MAX;
    case PROP_U32:
        return UINT32_MAX;
    default:
        return UINT64_MAX;
    }
}

bool prop_value_check(const struct device_class *cls, const struct prop *p,
                      uint64_t u, Error **errp)
{
    if (p->type == PROP_I32) {
        int64_t i = (int64_t)u;

        if (i < INT32_MIN || i > INT32_MAX) {
            error_setg(errp,
                       "%s: property '%s' value '%" PRId64 "' is out of range",
                       cls->name, p->name, i);
            return false;
        }
        return true;
    }
    if (u > prop_max(p->type)) {
        error_setg(errp,
                   "%s: property '%s' value '%" PRIu64 "' is out of range",
                   cls->name, p->name, u);
        return false;
    }
    return true;
}

bool prop_value_from_text(const struct device_class *cls, const struct prop *p,
                          const char *text, struct prop_value *out,
                          Error **errp)
{
    bool b;

    *out = (struct prop_value){.name = p->name, .type = p->type};
    switch (p->type) {
    case PROP_BOOL:
        if (!parse_bool(text, &b)) {
            goto bad;
        }
        out->u = b;
        return true;
    case PROP_STR:
    case PROP_CHARDEV:
        out->s = text;
        return true;
    case PROP_SIZE:
        if (!parse_size(text, 1, &out->u)) {
            goto bad;
        }
        return true;
    case PROP_I32: {
        char *end = NULL;
        gint64 i;

        errno = 0;
        i = g_ascii_strtoll(text, &end, 0);
        if (!*text || errno || !end || *end) {
            goto bad;
        }
        out->u = (uint64_t)i;
        return prop_value_check(cls, p, out->u, errp);
    }
    default:
        if (!parse_u64(text, &out->u)) {
            goto bad;
        }
        if (out->u > prop_max(p->type)) {
            error_setg(errp, "%s: property '%s' value '%s' is out of range",
                       cls->name, p->name, text);
            return false;
        }
        return true;
    }
bad:
    error_setg(errp, "%s: property '%s' does not accept '%s'", cls->name,
               p->name, text);
    return false;
}

/* Stores a checked value into the instance. */
static void apply_value(struct device *dev, const struct prop *p,
                        const struct prop_value *v)
{
    uint8_t *base = (uint8_t *)dev + p->offset;

    switch (p->type) {
    case PROP_BOOL:
        *(bool *)base = v->u != 0;
        break;
    case PROP_STR:
    case PROP_CHARDEV:
        g_free(*(char **)base);
        *(char **)base = g_strdup(v->s);
        break;
    case PROP_U8:
        *(uint8_t *)base = (uint8_t)v->u;
        break;
    case PROP_U16:
        *(uint16_t *)base = (uint16_t)v->u;
        break;
    case PROP_U32:
        *(uint32_t *)base = (uint32_t)v->u;
        break;
    case PROP_I32:
        *(int32_t *)base = (int32_t)(int64_t)v->u;
        break;
    case PROP_U64:
    case PROP_SIZE:
        *(uint64_t *)base = v->u;
        break;
    }
}

static bool set_prop(struct device *dev, const struct prop *p, const char *val,
                     Error **errp)
{
    struct prop_value v;

    if (!prop_value_from_text(dev->cls, p, val, &v, errp)) {
        return false;
    }
    apply_value(dev, p, &v);
    return true;
}

/* A value given by code (board, options already parsed): it must name a
 * property of the class, with the property's type, within range. */
static bool set_value(struct device *dev, const struct prop_value *v,
                      Error **errp)
{
    const struct prop *p = device_class_prop(dev->cls, v->name);
    bool is_str = p && (p->type == PROP_STR || p->type == PROP_CHARDEV);

    if (!p) {
        error_setg(errp, "Property '%s.%s' not found", dev->cls->name, v->name);
        return false;
    }
    if (v->type != p->type &&
        !(is_str && (v->type == PROP_STR || v->type == PROP_CHARDEV))) {
        error_setg(errp, "%s: property '%s' given a value of the wrong type",
                   dev->cls->name, p->name);
        return false;
    }
    if (!is_str && !prop_value_check(dev->cls, p, v->u, errp)) {
        return false;
    }
    apply_value(dev, p, v);
    return true;
}

static void free_props(struct device *dev)
{
    for (const struct prop *p = dev->cls->props; p && p->name; p++) {
        if (p->type == PROP_STR || p->type == PROP_CHARDEV) {
            char **s = (char **)((uint8_t *)dev + p->offset);
            g_free(*s);
            *s = NULL;
        }
    }
}

static void device_release(struct mem_owner *o)
{
    struct device *dev =
        (struct device *)((char *)o - offsetof(struct device, owner));

    free_props(dev);
    g_free(dev->id);
    g_mutex_clear(&dev->lock);
    g_free(dev);
}

struct device *device_new(const struct device_class *cls, struct machine *m,
                          Error **errp)
{
    struct device *dev = g_malloc0(cls->size);

    dev->cls = cls;
    dev->m = m;
    g_mutex_init(&dev->lock);
    mem_owner_init(&dev->owner, device_release);
    for (const struct prop *p = cls->props; p && p->name; p++) {
        if (p->defval && !set_prop(dev, p, p->defval, errp)) {
            device_destroy(dev);
            return NULL;
        }
    }
    return dev;
}

bool device_set_prop(struct device *dev, const char *name, const char *val,
                     Error **errp)
{
    for (const struct prop *p = dev->cls->props; p && p->name; p++) {
        if (!strcmp(p->name, name)) {
            return set_prop(dev, p, val, errp);
        }
    }
    error_setg(errp, "%s: no property '%s'", dev->cls->name, name);
    return false;
}

bool device_realize(struct device *dev, Error **errp)
{
    if (dev->cls->realize && !dev->cls->realize(dev, dev->m, errp)) {
        return false;
    }
    dev->realized = true;
    /* a device starts knowing whether the machine runs (prelaunch and
     * inmigrate do not; a unit test's bare machine may) */
    if (dev->m) {
        device_run_state(dev, dev->m->state == RUN_STATE_RUNNING);
    }
    return true;
}

struct device *machine_find_device_id(struct machine *m, const char *id)
{
    for (guint i = 0; m && m->devices && i < m->devices->len; i++) {
        struct device *d = g_ptr_array_index(m->devices, i);
        if (d->id && !strcmp(d->id, id)) {
            return d;
        }
    }
    return NULL;
}

struct device *device_create_values(struct machine *m,
                                    const struct device_class *cls,
                                    const char *id,
                                    const struct prop_value *vals, size_t n,
                                    Error **errp)
{
    struct device *dev;

    if (id && machine_find_device_id(m, id)) {
        error_setg(errp, "Duplicate ID '%s' for device", id);
        return NULL;
    }
    dev = device_new(cls, m, errp);
    if (!dev) {
        return NULL;
    }
    dev->id = g_strdup(id);
    for (size_t i = 0; i < n; i++) {
        if (!set_value(dev, &vals[i], errp)) {
            goto fail;
        }
    }
    if (!device_realize(dev, errp)) {
        goto fail;
    }
    if (m && m->devices) {
        g_ptr_array_add(m->devices, dev);
    }
    return dev;
fail:
    device_destroy(dev);
    return NULL;
}

struct device *device_create(struct machine *m, const char *name,
                             const struct prop_value *vals, size_t n,
                             Error **errp)
{
    const struct device_class *cls = device_class_find(name);

    if (!cls) {
        error_setg(errp, "'%s' is not a valid device model name", name);
        return NULL;
    }
    return device_create_values(m, cls, NULL, vals, n, errp);
}

struct device *device_create_opts(struct machine *m,
                                  const struct device_opts *o, Error **errp)
{
    struct device *dev =
        device_create_values(m, o->cls, o->id, o->values, o->n, errp);

    if (dev) {
        dev->user = true;
    }
    return dev;
}

void device_reset(struct device *dev)
{
    if (dev->cls->reset) {
        g_mutex_lock(&dev->lock);
        dev->cls->reset(dev);
        g_mutex_unlock(&dev->lock);
    }
}

void device_run_state(struct device *dev, bool running)
{
    if (dev->realized && dev->cls->run_state) {
        g_mutex_lock(&dev->lock);
        dev->cls->run_state(dev, running);
        g_mutex_unlock(&dev->lock);
    }
}

bool device_map(struct device *dev, struct address_space *as, uint64_t base,
                uint64_t len, const struct io_ops *ops, const char *name,
                Error **errp)
{
    return as_map_owned(as, &dev->owner, base, len, ops, dev, &dev->lock, name,
                        errp);
}

bool device_unmap(struct device *dev, struct address_space *as, uint64_t base)
{
    return as_unmap(as, base);
}

void device_destroy(struct device *dev)
{
    if (!dev) {
        return;
    }
    /* No new access reaches the device; one already inside a handler
     * holds dev->lock, so taking it once waits for it to finish (see
     * system/memory.h).  A failed realize may have mapped some. */
    if (dev->m) {
        if (dev->m->pio) {
            as_unmap_owner(dev->m->pio, &dev->owner);
        }
        if (dev->m->mmio) {
            as_unmap_owner(dev->m->mmio, &dev->owner);
        }
    }
    g_mutex_lock(&dev->lock);
    g_mutex_unlock(&dev->lock);
    if (dev->realized && dev->cls->unrealize) {
        dev->cls->unrealize(dev);
    }
    dev->realized = false;
    mem_owner_unref(&dev->owner);
}

const char *device_prop_type_name(enum prop_type t)
{
    switch (t) {
    case PROP_BOOL:
        return "bool";
    case PROP_U8:
        return "uint8";
    case PROP_U16:
        return "uint16";
    case PROP_U32:
        return "uint32";
    case PROP_I32:
        return "int32";
    case PROP_U64:
        return "uint64";
    case PROP_SIZE:
        return "size";
    case PROP_STR:
        return "str";
    case PROP_CHARDEV:
        return "chardev";
    }
    return "?";
}

char *device_help(const char *name)
{
    GString *s = g_string_new(NULL);

    if (!name) {
        g_string_append(s, "Available devices:\n");
        for (const struct device_class *const *c = device_classes; *c; c++) {
            if ((*c)->user_creatable) {
                g_string_append_printf(s, "name \"%s\", desc \"%s\"\n",
                                       (*c)->name, (*c)->desc);
            }
        }
        return g_string_free(s, FALSE);
    }
    const struct device_class *cls = device_class_find(name);
    if (!cls) {
        g_string_free(s, TRUE);
        return NULL;
    }
    g_string_append_printf(s, "%s options:\n", cls->name);
    for (const struct prop *p = cls->props; p && p->name; p++) {
        g_string_append_printf(
            s, "  %s=<%s>%s%s%s%s\n", p->name, device_prop_type_name(p->type),
            p->desc ? " - " : "", p->desc ? p->desc : "",
            p->defval ? " (default: " : "", p->defval ? p->defval : "");
        if (p->defval) {
            s->str[s->len - 1] = ')';
            g_string_append_c(s, '\n');
        }
    }
    return g_string_free(s, FALSE);
}
