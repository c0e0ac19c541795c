/* SPDX-License-Identifier: MIT */
/*
 * device.c: creating devices from the flat class table: typed properties
 * from "-device driver,k=v" text (every key must be known), realize,
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

static bool set_prop(struct device *dev, const struct prop *p, const char *val,
                     Error **errp)
{
    uint8_t *base = (uint8_t *)dev + p->offset;
    uint64_t v = 0;
    bool b;

    switch (p->type) {
    case PROP_BOOL:
        if (!parse_bool(val, &b)) {
            goto bad;
        }
        *(bool *)base = b;
        return true;
    case PROP_STR:
    case PROP_CHARDEV:
        g_free(*(char **)base);
        *(char **)base = g_strdup(val);
        return true;
    case PROP_SIZE:
        if (!parse_size(val, 1, &v)) {
            goto bad;
        }
        *(uint64_t *)base = v;
        return true;
    default:
        break;
    }
    if (!parse_u64(val, &v)) {
        goto bad;
    }
    switch (p->type) {
    case PROP_U8:
        if (v > UINT8_MAX) {
            goto range;
        }
        *(uint8_t *)base = v;
        break;
    case PROP_U16:
        if (v > UINT16_MAX) {
            goto range;
        }
        *(uint16_t *)base = v;
        break;
    case PROP_U32:
        if (v > UINT32_MAX) {
            goto range;
        }
        *(uint32_t *)base = v;
        break;
    default:
        *(uint64_t *)base = v;
        break;
    }
    return true;
range:
    error_setg(errp, "%s: property '%s' value '%s' is out of range",
               dev->cls->name, p->name, val);
    return false;
bad:
    error_setg(errp, "%s: property '%s' does not accept '%s'", dev->cls->name,
               p->name, val);
    return false;
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

struct device *device_create(struct machine *m, const char *name,
                             struct keyval *kv, Error **errp)
{
    const struct device_class *cls = device_class_find(name);
    struct device *dev;
    const char *id;

    if (!cls) {
        error_setg(errp, "'%s' is not a valid device model name", name);
        return NULL;
    }
    dev = g_malloc0(cls->size);
    dev->cls = cls;
    dev->m = m;
    g_mutex_init(&dev->lock);
    for (const struct prop *p = cls->props; p && p->name; p++) {
        if (p->defval && !set_prop(dev, p, p->defval, errp)) {
            goto fail;
        }
    }
    if (kv) {
        id = keyval_get(kv, "id");
        if (id) {
            dev->id = g_strdup(id);
        }
        for (const struct prop *p = cls->props; p && p->name; p++) {
            const char *v = keyval_get(kv, p->name);
            if (v && !set_prop(dev, p, v, errp)) {
                goto fail;
            }
        }
        if (!keyval_check_all_used(kv, cls->name, errp)) {
            goto fail;
        }
    }
    if (cls->realize && !cls->realize(dev, m, errp)) {
        goto fail;
    }
    dev->realized = true;
    if (m && m->devices) {
        g_ptr_array_add(m->devices, dev);
    }
    return dev;
fail:
    free_props(dev);
    g_free(dev->id);
    g_mutex_clear(&dev->lock);
    g_free(dev);
    return NULL;
}

struct device *device_create_from_text(struct machine *m, const char *text,
                                       Error **errp)
{
    struct keyval *kv = keyval_parse(text, "driver", errp);
    struct device *dev;
    const char *driver;
    const struct device_class *cls;

    if (!kv) {
        return NULL;
    }
    driver = keyval_get(kv, "driver");
    if (!driver) {
        error_setg(errp, "parameter 'driver' is missing");
        keyval_free(kv);
        return NULL;
    }
    cls = device_class_find(driver);
    if (cls && !cls->user_creatable) {
        error_setg(errp, "'%s' cannot be created with -device", driver);
        keyval_free(kv);
        return NULL;
    }
    dev = device_create(m, driver, kv, errp);
    keyval_free(kv);
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

void device_destroy(struct device *dev)
{
    if (!dev) {
        return;
    }
    if (dev->realized && dev->cls->unrealize) {
        dev->cls->unrealize(dev);
    }
    free_props(dev);
    g_free(dev->id);
    g_mutex_clear(&dev->lock);
    g_free(dev);
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
