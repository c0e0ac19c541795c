/* SPDX-License-Identifier: MIT */
/*
 * device-opts.c: the one place device options are parsed: -device text
 * (QEMU's keyval syntax), libvirt's JSON -device and QMP device_add's
 * arguments all become a struct device_opts (class, id, typed values),
 * checked against the class table once, so a bad -device fails on the
 * command line before KVM is opened and QMP shares the same messages.
 * JSON follows QEMU's qdev_device_add_from_qdict(from_json=true): values
 * must have the property's JSON type.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "qapi/json-value.h"
#include "system/machine.h"
#include "util/keyval.h"

static struct device_opts *opts_new(const struct device_class *cls,
                                    const char *text)
{
    struct device_opts *o = g_new0(struct device_opts, 1);
    size_t nprops = 0;

    for (const struct prop *p = cls->props; p && p->name; p++) {
        nprops++;
    }
    o->cls = cls;
    o->text = g_strdup(text);
    o->values = g_new0(struct prop_value, nprops ? nprops : 1);
    o->strings = g_ptr_array_new_with_free_func(g_free);
    return o;
}

void device_opts_free(struct device_opts *o)
{
    if (!o) {
        return;
    }
    g_free(o->id);
    g_free(o->text);
    g_free(o->values);
    g_ptr_array_unref(o->strings);
    g_free(o);
}

/* QEMU's rule for ids (id_wellformed): a letter, then letters, digits,
 * '-', '.' and '_'. */
static bool set_id(struct device_opts *o, const char *id, Error **errp)
{
    if (!g_ascii_isalpha(id[0])) {
        goto bad;
    }
    for (const char *c = id; *c; c++) {
        if (!g_ascii_isalnum(*c) && !strchr("-._", *c)) {
            goto bad;
        }
    }
    o->id = g_strdup(id);
    return true;
bad:
    error_setg(errp, "Parameter 'id' expects an identifier");
    return false;
}

static const struct device_class *find_class(const char *driver, Error **errp)
{
    const struct device_class *cls = device_class_find(driver);

    if (!cls) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    if (!cls->user_creatable) {
        error_setg(errp, "'%s' cannot be created with -device", driver);
        return NULL;
    }
    return cls;
}

/* Keeps a copy of s for the values to borrow. */
static const char *keep(struct device_opts *o, const char *s)
{
    char *c = g_strdup(s);

    g_ptr_array_add(o->strings, c);
    return c;
}

struct device_opts *device_opts_parse(const char *text, Error **errp)
{
    struct keyval *kv = keyval_parse(text, "driver", errp);
    const struct device_class *cls;
    struct device_opts *o = NULL;
    const char *driver, *id;

    if (!kv) {
        return NULL;
    }
    driver = keyval_get(kv, "driver");
    if (!driver) {
        error_setg(errp, "parameter 'driver' is missing");
        goto fail;
    }
    cls = find_class(driver, errp);
    if (!cls) {
        goto fail;
    }
    o = opts_new(cls, text);
    id = keyval_get(kv, "id");
    if (id && !set_id(o, id, errp)) {
        goto fail;
    }
    for (const struct prop *p = cls->props; p && p->name; p++) {
        const char *v = keyval_get(kv, p->name);
        if (v && !prop_value_from_text(cls, p, keep(o, v), &o->values[o->n++],
                                       errp)) {
            goto fail;
        }
    }
    if (!keyval_check_all_used(kv, cls->name, errp)) {
        goto fail;
    }
    keyval_free(kv);
    return o;
fail:
    device_opts_free(o);
    keyval_free(kv);
    return NULL;
}

static const char *json_type_name(enum prop_type t)
{
    switch (t) {
    case PROP_BOOL:
        return "boolean";
    case PROP_STR:
    case PROP_CHARDEV:
        return "string";
    default:
        return "integer";
    }
}

static bool value_from_json(struct device_opts *o, const struct prop *p,
                            const struct json_value *v, struct prop_value *out,
                            Error **errp)
{
    *out = (struct prop_value){.name = p->name, .type = p->type};
    switch (p->type) {
    case PROP_BOOL:
        if (v->type != JSON_BOOL) {
            goto type;
        }
        out->u = v->u.b;
        return true;
    case PROP_STR:
    case PROP_CHARDEV:
        if (v->type != JSON_STRING) {
            goto type;
        }
        out->s = keep(o, v->u.str.s);
        return true;
    case PROP_I32:
        if (v->type == JSON_INT) {
            out->u = (uint64_t)v->u.i;
            return prop_value_check(o->cls, p, out->u, errp);
        }
        if (v->type == JSON_UINT) {
            error_setg(errp,
                       "%s: property '%s' value '%" PRIu64 "' is out of range",
                       o->cls->name, p->name, v->u.u);
            return false;
        }
        goto type;
    default:
        if (v->type == JSON_INT && v->u.i >= 0) {
            out->u = (uint64_t)v->u.i;
        } else if (v->type == JSON_UINT) {
            out->u = v->u.u;
        } else if (v->type == JSON_INT) {
            error_setg(errp,
                       "%s: property '%s' value '%" PRId64 "' is out of range",
                       o->cls->name, p->name, v->u.i);
            return false;
        } else {
            goto type;
        }
        return prop_value_check(o->cls, p, out->u, errp);
    }
type:
    error_setg(errp, "Invalid parameter type for '%s', expected: %s", p->name,
               json_type_name(p->type));
    return false;
}

struct device_opts *device_opts_from_json(const struct json_value *obj,
                                          const char *text, Error **errp)
{
    const struct json_value *drv, *id;
    const struct device_class *cls;
    struct device_opts *o;

    if (!obj || obj->type != JSON_OBJECT) {
        error_setg(errp, "device options must be a JSON object");
        return NULL;
    }
    drv = json_object_get(obj, "driver");
    if (!drv) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    if (drv->type != JSON_STRING) {
        error_setg(errp,
                   "Invalid parameter type for 'driver', expected: string");
        return NULL;
    }
    cls = find_class(drv->u.str.s, errp);
    if (!cls) {
        return NULL;
    }
    o = opts_new(cls, text);
    id = json_object_get(obj, "id");
    if (id && id->type != JSON_STRING) {
        error_setg(errp, "Invalid parameter type for 'id', expected: string");
        goto fail;
    }
    if (id && !set_id(o, id->u.str.s, errp)) {
        goto fail;
    }
    for (size_t i = 0; i < json_object_len(obj); i++) {
        const struct json_member *mb = json_object_member(obj, i);
        const struct prop *p;

        if (!strcmp(mb->key, "driver") || !strcmp(mb->key, "id")) {
            continue;
        }
        p = device_class_prop(cls, mb->key);
        if (!p) {
            error_setg(errp, "Property '%s.%s' not found", cls->name, mb->key);
            goto fail;
        }
        for (size_t j = 0; j < o->n; j++) {
            if (o->values[j].name == p->name) {
                error_setg(errp, "Property '%s.%s' given twice", cls->name,
                           p->name);
                goto fail;
            }
        }
        if (!value_from_json(o, p, mb->val, &o->values[o->n++], errp)) {
            goto fail;
        }
    }
    return o;
fail:
    device_opts_free(o);
    return NULL;
}

bool device_opts_check_all(struct machine *m, GPtrArray *all, Error **errp)
{
    for (guint i = 0; all && i < all->len; i++) {
        const struct device_opts *o = g_ptr_array_index(all, i);

        for (size_t j = 0; j < o->n; j++) {
            const struct prop_value *v = &o->values[j];

            /* QEMU's message, as the device's realize gives it */
            if (v->type == PROP_CHARDEV && v->s && *v->s &&
                !machine_find_chardev(m, v->s)) {
                error_setg(errp,
                           "-device %s: Property '%s.%s' can't find value "
                           "'%s'",
                           o->text, o->cls->name, v->name, v->s);
                return false;
            }
        }
        if (o->cls->check_opts && !o->cls->check_opts(o, all, i, errp)) {
            error_prepend(errp, "-device %s: ", o->text);
            return false;
        }
    }
    return true;
}
