/* SPDX-License-Identifier: MIT */
/*
 * qmp-qom.c: QEMU's object-model commands (qom-list-types,
 * qom-list-properties, device-list-properties, qom-list, qom-get) over
 * vireo's flat tables.  vireo has no QOM: the type list is derived from
 * the device classes, the -object classes, the machine types and the CPU
 * models, and the tree is the part of QEMU's that clients look at:
 *
 *   /                          machine, objects
 *   /machine                   peripheral, peripheral-anon, unattached
 *   /machine/peripheral/ID     each device created with an id
 *   /machine/unattached/device[N]  vCPU N (query-cpus-fast's qom-path)
 *   /objects/ID                each -object
 *
 * Names, paths and error classes are QEMU 7.2's, so libvirt's probe and
 * its start-up CPU check (qom-list, then qom-get of every feature) work
 * unchanged (shared reference libvirt-qmp.md).
 */
#include "util/common.h"
#include "qapi/qapi-gen-types.h"
#include "qapi/qmp-qom.h"
#include "qapi/json-value.h"
#include "hw/core/device.h"
#include "system/machine.h"
#include "system/object.h"
#include "target-i386/cpu.h"
#include "util/keyval.h"

#define CPU_SUFFIX "-x86_64-cpu"
#define MACHINE_SUFFIX "-machine"

/* Abstract types that vireo's concrete types derive from (QEMU's names). */
static const struct {
    const char *name, *parent;
} abstract_types[] = {
    {"object", NULL},
    {"device", "object"},
    {"machine", "object"},
    {"x86-machine", "machine"},
    {"cpu", "device"},
    {"x86_64-cpu", "cpu"},
    {"memory-backend", "object"},
    {"secret_common", "object"},
    {"confidential-guest-support", "object"}, /* sev-guest, sev-snp-guest */
    {"rng-backend", "object"},                /* rng-random, rng-builtin */
    {"accel", "object"},
    {"container", "object"},
};

/* What a type name denotes. */
enum qom_kind {
    QOM_NONE,
    QOM_ABSTRACT,
    QOM_DEVICE,
    QOM_OBJECT,
    QOM_MACHINE,
    QOM_CPU,
    QOM_ACCEL,
};

struct qom_type {
    enum qom_kind kind;
    const char *parent;
    const struct device_class *dev;
    const struct object_class *obj;
    const struct machine_type *mt;
};

static bool strip_suffix(const char *name, const char *suffix, char *out,
                         size_t out_size)
{
    size_t n = strlen(name), k = strlen(suffix);

    if (n <= k || strcmp(name + n - k, suffix) != 0 || n - k >= out_size) {
        return false;
    }
    memcpy(out, name, n - k);
    out[n - k] = '\0';
    return true;
}

static bool cpu_model_known(const char *model)
{
    const char *const *names = x86_cpu_model_names();

    for (size_t i = 0; names && names[i]; i++) {
        if (!strcmp(names[i], model)) {
            return true;
        }
    }
    return false;
}

static const char *machine_parent(const struct machine_type *mt)
{
    return mt->no_guest ? "machine" : "x86-machine";
}

static struct qom_type qom_type_find(const char *name)
{
    struct qom_type t = {QOM_NONE, NULL, NULL, NULL, NULL};
    char base[64];

    for (size_t i = 0; i < ARRAY_SIZE(abstract_types); i++) {
        if (!strcmp(abstract_types[i].name, name)) {
            t.kind = QOM_ABSTRACT;
            t.parent = abstract_types[i].parent;
            return t;
        }
    }
    if ((t.dev = device_class_find(name))) {
        t.kind = QOM_DEVICE;
        t.parent = "device"; /* vireo models no buses */
    } else if ((t.obj = object_class_find(name))) {
        t.kind = QOM_OBJECT;
        t.parent = t.obj->parent;
    } else if (strip_suffix(name, MACHINE_SUFFIX, base, sizeof(base)) &&
               (t.mt = machine_type_find(base))) {
        t.kind = QOM_MACHINE;
        t.parent = machine_parent(t.mt);
    } else if (strip_suffix(name, CPU_SUFFIX, base, sizeof(base)) &&
               cpu_model_known(base)) {
        t.kind = QOM_CPU;
        t.parent = "x86_64-cpu";
    } else if (!strcmp(name, "kvm-accel")) {
        t.kind = QOM_ACCEL;
        t.parent = "accel";
    }
    return t;
}

/* name derives from (or is) ancestor. */
static bool type_implements(const char *name, const char *ancestor)
{
    const char *cur = name;

    for (int depth = 0; cur && depth < 16; depth++) {
        if (!strcmp(cur, ancestor)) {
            return true;
        }
        cur = qom_type_find(cur).parent;
    }
    return false;
}

static void add_type(GPtrArray *list, const char *name, bool abstract,
                     bool has_implements, const char *implements)
{
    struct qapi_object_type_info *ti;
    struct qom_type t = qom_type_find(name);

    if (has_implements && !type_implements(name, implements)) {
        return;
    }
    ti = g_new0(struct qapi_object_type_info, 1);
    ti->name = g_strdup(name);
    if (abstract) {
        ti->has_abstract = true;
        ti->abstract = true;
    }
    if (t.parent) {
        ti->has_parent = true;
        ti->parent = g_strdup(t.parent);
    }
    g_ptr_array_add(list, ti);
}

GPtrArray *qmp_qom_list_types(struct machine *m, bool has_implements,
                              char *implements, bool has_abstract,
                              bool abstract, Error **errp)
{
    GPtrArray *list = g_ptr_array_new();
    const char *const *cpus = x86_cpu_model_names();

    if (has_abstract && abstract) {
        for (size_t i = 0; i < ARRAY_SIZE(abstract_types); i++) {
            add_type(list, abstract_types[i].name, true, has_implements,
                     implements);
        }
    }
    for (const struct device_class *const *c = device_classes; *c; c++) {
        add_type(list, (*c)->name, false, has_implements, implements);
    }
    for (size_t i = 0; object_classes[i]; i++) {
        add_type(list, object_classes[i]->name, false, has_implements,
                 implements);
    }
    for (const struct machine_type *const *t = machine_types; *t; t++) {
        g_autofree char *n = g_strconcat((*t)->name, MACHINE_SUFFIX, NULL);
        add_type(list, n, false, has_implements, implements);
    }
    for (size_t i = 0; cpus && cpus[i]; i++) {
        g_autofree char *n = g_strconcat(cpus[i], CPU_SUFFIX, NULL);
        add_type(list, n, false, has_implements, implements);
    }
    /* KVM only: no "tcg-accel", so libvirt runs no second (TCG) probe */
    add_type(list, "kvm-accel", false, has_implements, implements);
    return list;
}

/* ---- property lists ---- */

static void add_prop(GPtrArray *list, const char *name, const char *type,
                     const char *desc, struct json_value *def)
{
    struct qapi_object_property_info *pi =
        g_new0(struct qapi_object_property_info, 1);

    pi->name = g_strdup(name);
    pi->type = g_strdup(type);
    if (desc) {
        pi->has_description = true;
        pi->description = g_strdup(desc);
    }
    if (def) {
        pi->has_default_value = true;
        pi->default_value = def;
    }
    g_ptr_array_add(list, pi);
}

static struct json_value *device_prop_default(const struct prop *p)
{
    uint64_t v;
    bool b;

    if (!p->defval) {
        return NULL;
    }
    switch (p->type) {
    case PROP_BOOL:
        return parse_bool(p->defval, &b) ? json_new_bool(b) : NULL;
    case PROP_SIZE:
        return parse_size(p->defval, 1, &v) ? json_new_uint(v) : NULL;
    case PROP_STR:
    case PROP_CHARDEV:
        return json_new_string(p->defval);
    default:
        return parse_u64(p->defval, &v) ? json_new_uint(v) : NULL;
    }
}

static void device_props(GPtrArray *list, const struct device_class *cls)
{
    for (const struct prop *p = cls->props; p && p->name; p++) {
        add_prop(list, p->name, device_prop_type_name(p->type), p->desc,
                 device_prop_default(p));
    }
}

/* A device's run-time properties (hw/core/device.h device_qom_ops). */
static void device_qom_props(GPtrArray *list, struct device *dev)
{
    const struct device_qom_prop *p = dev->cls->qom && dev->cls->qom->props
                                          ? dev->cls->qom->props(dev)
                                          : NULL;

    for (; p && p->name; p++) {
        add_prop(list, p->name, p->type, NULL, NULL);
    }
}

static bool device_has_qom_prop(struct device *dev, const char *name)
{
    const struct device_qom_prop *p = dev->cls->qom && dev->cls->qom->props
                                          ? dev->cls->qom->props(dev)
                                          : NULL;

    for (; p && p->name; p++) {
        if (!strcmp(p->name, name)) {
            return true;
        }
    }
    return false;
}

static void object_props(GPtrArray *list, const struct object_class *cls)
{
    for (const struct object_prop *p = cls->props; p->name; p++) {
        add_prop(list, p->name, object_prop_qom_type(p), p->desc, NULL);
    }
}

/* QOM types and descriptions of the -machine keys a machine type may list
 * in its `options` (system/machine.h); the board reads them. */
static const struct {
    const char *name, *type, *desc;
    const char *def_str; /* default as a string, or NULL */
    int def_bool;        /* -1: none, else the bool default */
} machine_keys[] = {
    {"usb", "bool", "USB controller (only off where the board has none)", NULL,
     0},
    {"dump-guest-core", "bool", "Include guest memory in a core dump", NULL, 1},
    {"acpi", "OnOffAuto", "ACPI power button and sleep control", "auto", -1},
    {"memory-backend", "link<memory-backend>",
     "ID of the -object memory backend for guest RAM", NULL, -1},
};

/* The -machine properties each type accepts: its `options`, and
 * kernel-irqchip for a machine with a guest. */
static void machine_props(GPtrArray *list, const struct machine_type *mt)
{
    if (mt->no_guest) {
        return;
    }
    for (const char *const *o = mt->options; o && *o; o++) {
        for (size_t i = 0; i < G_N_ELEMENTS(machine_keys); i++) {
            if (strcmp(machine_keys[i].name, *o) != 0) {
                continue;
            }
            add_prop(list, machine_keys[i].name, machine_keys[i].type,
                     machine_keys[i].desc,
                     machine_keys[i].def_str
                         ? json_new_string(machine_keys[i].def_str)
                     : machine_keys[i].def_bool >= 0
                         ? json_new_bool(machine_keys[i].def_bool)
                         : NULL);
        }
    }
    add_prop(list, "kernel-irqchip", "OnOffSplit",
             "split: IOAPIC in vireo; on: KVM's PIC, IOAPIC and PIT",
             json_new_string("split"));
}

static void cpu_props(GPtrArray *list)
{
    add_prop(list, "family", "int", "CPUID family", NULL);
    add_prop(list, "model", "int", "CPUID model", NULL);
    add_prop(list, "stepping", "int", "CPUID stepping", NULL);
    add_prop(list, "vendor", "string", "CPUID vendor", NULL);
    add_prop(list, "model-id", "string", "CPUID brand string", NULL);
    add_prop(list, "unavailable-features", "strList",
             "features the model asks for that KVM cannot give", NULL);
    for (size_t i = 0; i < x86_cpu_nr_feature_names(); i++) {
        add_prop(list, x86_cpu_feature_name(i), "bool", NULL, NULL);
    }
}

static bool type_props(GPtrArray *list, const struct qom_type *t)
{
    switch (t->kind) {
    case QOM_DEVICE:
        device_props(list, t->dev);
        return true;
    case QOM_OBJECT:
        object_props(list, t->obj);
        return true;
    case QOM_MACHINE:
        machine_props(list, t->mt);
        return true;
    case QOM_CPU:
        cpu_props(list);
        return true;
    case QOM_ACCEL:
        /* what -accel kvm takes (QEMU's type; vireo's default differs:
         * the ring where KVM offers KVM_CAP_DIRTY_LOG_RING_ACQ_REL) */
        add_prop(list, "dirty-ring-size", "uint32",
                 "Size of KVM dirty page ring buffer (0: use bitmap)", NULL);
        return true;
    case QOM_ABSTRACT:
        return true;
    case QOM_NONE:
        break;
    }
    return false;
}

GPtrArray *qmp_qom_list_properties(struct machine *m, char *typename,
                                   Error **errp)
{
    struct qom_type t = qom_type_find(typename);
    GPtrArray *list;

    if (t.kind == QOM_NONE) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Class '%s' not found",
                  typename);
        return NULL;
    }
    list = g_ptr_array_new();
    add_prop(list, "type", "string", NULL, NULL);
    type_props(list, &t);
    return list;
}

GPtrArray *qmp_device_list_properties(struct machine *m, char *typename,
                                      Error **errp)
{
    struct qom_type t = qom_type_find(typename);
    GPtrArray *list;

    if (t.kind == QOM_NONE) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found",
                  typename);
        return NULL;
    }
    if (t.kind != QOM_DEVICE && t.kind != QOM_CPU) {
        error_setg(errp,
                   "Parameter 'typename' expects a non-abstract device type");
        return NULL;
    }
    list = g_ptr_array_new();
    type_props(list, &t);
    return list;
}

/* ---- the tree ---- */

enum node_kind {
    NODE_NONE,
    NODE_ROOT,
    NODE_MACHINE,
    NODE_CONTAINER, /* peripheral, peripheral-anon, unattached, objects */
    NODE_DEVICE,
    NODE_CPU,
    NODE_OBJECT,
};

struct qom_node {
    enum node_kind kind;
    const char *path;
    struct device *dev;
    unsigned cpu;
    struct object *obj;
};

/* "device[N]" (QEMU's child names in unattached and peripheral-anon),
 * N canonical decimal below `limit`. */
static bool parse_device_index(const char *p, unsigned long limit, unsigned *n)
{
    char *end;
    unsigned long v;

    if (!g_str_has_prefix(p, "device[") || !g_ascii_isdigit(p[7])) {
        return false;
    }
    errno = 0;
    v = strtoul(p + 7, &end, 10);
    if (errno || strcmp(end, "]") != 0 || v >= limit ||
        (p[7] == '0' && end != p + 8)) {
        return false;
    }
    *n = (unsigned)v;
    return true;
}

/* /machine/unattached/device[N] with N a vCPU index. */
static bool parse_cpu_path(struct machine *m, const char *rest, unsigned *n)
{
    return parse_device_index(rest, m->nr_vcpus, n);
}

/* The user's devices without an id, in creation order: QEMU names the
 * N-th /machine/peripheral-anon/device[N]. */
static struct device *anon_device(struct machine *m, unsigned n)
{
    for (guint i = 0; m->devices && i < m->devices->len; i++) {
        struct device *d = g_ptr_array_index(m->devices, i);
        if (d->user && !d->id && n-- == 0) {
            return d;
        }
    }
    return NULL;
}

static struct device *anon_path(struct machine *m, const char *rest)
{
    unsigned n;

    return parse_device_index(rest, UINT_MAX, &n) ? anon_device(m, n) : NULL;
}

static struct qom_node resolve(struct machine *m, const char *path)
{
    struct qom_node n = {NODE_NONE, path, NULL, 0, NULL};
    const char *rest;

    if (!strcmp(path, "/")) {
        n.kind = NODE_ROOT;
    } else if (!strcmp(path, "/machine")) {
        n.kind = NODE_MACHINE;
    } else if (!strcmp(path, "/objects") ||
               !strcmp(path, "/machine/peripheral") ||
               !strcmp(path, "/machine/peripheral-anon") ||
               !strcmp(path, "/machine/unattached")) {
        n.kind = NODE_CONTAINER;
    } else if ((rest = g_str_has_prefix(path, "/machine/peripheral/")
                           ? path + strlen("/machine/peripheral/")
                           : NULL) &&
               (n.dev = machine_find_device_id(m, rest))) {
        n.kind = NODE_DEVICE;
    } else if ((rest = g_str_has_prefix(path, "/machine/peripheral-anon/")
                           ? path + strlen("/machine/peripheral-anon/")
                           : NULL) &&
               (n.dev = anon_path(m, rest))) {
        n.kind = NODE_DEVICE;
    } else if ((rest = g_str_has_prefix(path, "/machine/unattached/")
                           ? path + strlen("/machine/unattached/")
                           : NULL) &&
               m->cpu_model && parse_cpu_path(m, rest, &n.cpu)) {
        n.kind = NODE_CPU;
    } else if ((rest = g_str_has_prefix(path, "/objects/")
                           ? path + strlen("/objects/")
                           : NULL) &&
               (n.obj = object_find(m->cfg->objects, rest))) {
        n.kind = NODE_OBJECT;
    }
    return n;
}

static char *node_type(struct machine *m, const struct qom_node *n)
{
    switch (n->kind) {
    case NODE_ROOT:
    case NODE_CONTAINER:
        return g_strdup("container");
    case NODE_MACHINE:
        return g_strconcat(m->type->name, MACHINE_SUFFIX, NULL);
    case NODE_DEVICE:
        return g_strdup(n->dev->cls->name);
    case NODE_CPU:
        return g_strconcat(x86_cpu_model_name(m->cpu_model), CPU_SUFFIX, NULL);
    case NODE_OBJECT:
        return g_strdup(n->obj->cls->name);
    case NODE_NONE:
        break;
    }
    return NULL;
}

static void add_child(GPtrArray *list, const char *name, const char *type)
{
    g_autofree char *t = g_strdup_printf("child<%s>", type);
    add_prop(list, name, t, NULL, NULL);
}

static void container_children(struct machine *m, const char *path,
                               GPtrArray *list)
{
    if (!strcmp(path, "/objects")) {
        for (guint i = 0; i < m->cfg->objects->len; i++) {
            struct object *o = g_ptr_array_index(m->cfg->objects, i);
            add_child(list, o->id, o->cls->name);
        }
    } else if (!strcmp(path, "/machine/peripheral")) {
        for (guint i = 0; m->devices && i < m->devices->len; i++) {
            struct device *d = g_ptr_array_index(m->devices, i);
            if (d->id) {
                add_child(list, d->id, d->cls->name);
            }
        }
    } else if (!strcmp(path, "/machine/peripheral-anon")) {
        struct device *d;

        for (unsigned i = 0; (d = anon_device(m, i)); i++) {
            g_autofree char *name = g_strdup_printf("device[%u]", i);
            add_child(list, name, d->cls->name);
        }
    } else if (!strcmp(path, "/machine/unattached") && m->cpu_model) {
        g_autofree char *t =
            g_strconcat(x86_cpu_model_name(m->cpu_model), CPU_SUFFIX, NULL);
        for (unsigned i = 0; i < m->nr_vcpus; i++) {
            g_autofree char *name = g_strdup_printf("device[%u]", i);
            add_child(list, name, t);
        }
    }
}

GPtrArray *qmp_qom_list(struct machine *m, char *path, Error **errp)
{
    struct qom_node n = resolve(m, path);
    GPtrArray *list;

    if (n.kind == NODE_NONE) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found",
                  path);
        return NULL;
    }
    list = g_ptr_array_new();
    add_prop(list, "type", "string", NULL, NULL);
    switch (n.kind) {
    case NODE_ROOT: {
        g_autofree char *mt = g_strconcat(m->type->name, MACHINE_SUFFIX, NULL);
        add_child(list, "machine", mt);
        add_child(list, "objects", "container");
        break;
    }
    case NODE_MACHINE:
        add_child(list, "peripheral", "container");
        add_child(list, "peripheral-anon", "container");
        add_child(list, "unattached", "container");
        break;
    case NODE_CONTAINER:
        container_children(m, path, list);
        break;
    case NODE_DEVICE:
        device_props(list, n.dev->cls);
        device_qom_props(list, n.dev);
        break;
    case NODE_CPU:
        cpu_props(list);
        break;
    case NODE_OBJECT:
        object_props(list, n.obj->cls);
        break;
    case NODE_NONE:
        break;
    }
    /* each child<> entry above is listed without its default-value */
    for (guint i = 0; i < list->len; i++) {
        struct qapi_object_property_info *pi = g_ptr_array_index(list, i);
        if (pi->has_default_value) {
            json_free(pi->default_value);
            pi->default_value = NULL;
            pi->has_default_value = false;
        }
        if (pi->has_description) {
            g_free(pi->description);
            pi->description = NULL;
            pi->has_description = false;
        }
    }
    return list;
}

static struct json_value *strv_value(GPtrArray *names)
{
    struct json_value *a = json_new_array();

    for (guint i = 0; i < names->len; i++) {
        json_array_append(a, json_new_string(g_ptr_array_index(names, i)));
    }
    return a;
}

struct json_value *qom_cpu_get(const struct x86_cpu_model *model,
                               const char *prop, Error **errp)
{
    unsigned family, nr, stepping;
    const char *vendor, *model_id;

    x86_cpu_model_ident(model, &family, &nr, &stepping, &vendor, &model_id);
    if (!strcmp(prop, "family")) {
        return json_new_int(family);
    } else if (!strcmp(prop, "model")) {
        return json_new_int(nr);
    } else if (!strcmp(prop, "stepping")) {
        return json_new_int(stepping);
    } else if (!strcmp(prop, "vendor")) {
        return json_new_string(vendor);
    } else if (!strcmp(prop, "model-id")) {
        return json_new_string(model_id);
    } else if (!strcmp(prop, "unavailable-features")) {
        GPtrArray *names = x86_cpu_model_unavailable(model);
        struct json_value *v = strv_value(names);

        g_ptr_array_unref(names);
        return v;
    }
    for (size_t i = 0; i < x86_cpu_nr_feature_names(); i++) {
        if (!strcmp(x86_cpu_feature_name(i), prop)) {
            return json_new_bool(x86_cpu_model_has_feature(model, prop));
        }
    }
    error_setg(errp, "Property '%s%s.%s' not found", x86_cpu_model_name(model),
               CPU_SUFFIX, prop);
    return NULL;
}

static struct json_value *device_get(struct device *dev, const char *prop,
                                     Error **errp)
{
    if (device_has_qom_prop(dev, prop) && dev->cls->qom->get) {
        return dev->cls->qom->get(dev, prop, errp);
    }
    for (const struct prop *p = dev->cls->props; p && p->name; p++) {
        const uint8_t *base = (const uint8_t *)dev + p->offset;

        if (strcmp(p->name, prop) != 0) {
            continue;
        }
        switch (p->type) {
        case PROP_BOOL:
            return json_new_bool(*(const bool *)base);
        case PROP_U8:
            return json_new_uint(*base);
        case PROP_U16:
            return json_new_uint(*(const uint16_t *)base);
        case PROP_U32:
            return json_new_uint(*(const uint32_t *)base);
        case PROP_I32:
            return json_new_int(*(const int32_t *)base);
        case PROP_U64:
        case PROP_SIZE:
            return json_new_uint(*(const uint64_t *)base);
        case PROP_STR:
        case PROP_CHARDEV:
            return json_new_string(*(char *const *)base);
        }
    }
    error_setg(errp, "Property '%s.%s' not found", dev->cls->name, prop);
    return NULL;
}

static struct json_value *object_value_get(struct object *obj, const char *prop,
                                           Error **errp)
{
    for (const struct object_prop *p = obj->cls->props; p->name; p++) {
        const struct object_value *v;

        if (strcmp(p->name, prop) != 0) {
            continue;
        }
        /* a secret is never given back over the monitor */
        if (!strcmp(obj->cls->name, "secret") && !strcmp(prop, "data")) {
            error_setg(errp, "Property 'secret.data' is write-only");
            return NULL;
        }
        v = object_get(obj, prop);
        switch (p->type) {
        case OBJ_PROP_BOOL:
            return json_new_bool(v->b);
        case OBJ_PROP_SIZE:
            return json_new_uint(v->u);
        case OBJ_PROP_ENUM:
            /* an enum's first value is its default (secret: raw) */
            return json_new_string(v->s ? v->s : p->values[0]);
        case OBJ_PROP_STR:
            return v->s ? json_new_string(v->s) : json_new_null();
        }
    }
    error_setg(errp, "Property '%s.%s' not found", obj->cls->name, prop);
    return NULL;
}

struct json_value *qmp_qom_get(struct machine *m, char *path, char *property,
                               Error **errp)
{
    struct qom_node n = resolve(m, path);
    g_autofree char *type = NULL;

    if (n.kind == NODE_NONE) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found",
                  path);
        return NULL;
    }
    type = node_type(m, &n);
    if (!strcmp(property, "type")) {
        return json_new_string(type);
    }
    switch (n.kind) {
    case NODE_CPU:
        return qom_cpu_get(m->cpu_model, property, errp);
    case NODE_DEVICE:
        return device_get(n.dev, property, errp);
    case NODE_OBJECT:
        return object_value_get(n.obj, property, errp);
    default:
        break;
    }
    error_setg(errp, "Property '%s.%s' not found", type, property);
    return NULL;
}

void qmp_qom_set(struct machine *m, char *path, char *property,
                 struct json_value *value, Error **errp)
{
    struct qom_node n = resolve(m, path);
    g_autofree char *type = NULL;

    if (n.kind == NODE_NONE) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found",
                  path);
        return;
    }
    if (n.kind == NODE_DEVICE) {
        if (device_has_qom_prop(n.dev, property) && n.dev->cls->qom->set) {
            n.dev->cls->qom->set(n.dev, property, value, errp);
            return;
        }
        if (device_class_prop(n.dev->cls, property)) {
            /* QEMU's words: static properties are fixed once realized */
            if (n.dev->id) {
                error_setg(errp,
                           "Attempt to set property '%s' on device '%s' "
                           "(type '%s') after it was realized",
                           property, n.dev->id, n.dev->cls->name);
            } else {
                error_setg(errp,
                           "Attempt to set property '%s' on anonymous device "
                           "(type '%s') after it was realized",
                           property, n.dev->cls->name);
            }
            return;
        }
    }
    type = node_type(m, &n);
    if (!strcmp(property, "type") || n.kind == NODE_CPU ||
        n.kind == NODE_OBJECT) {
        /* read-only here: vireo changes no object after creation */
        error_setg(errp, "Property '%s.%s' cannot be set at run time", type,
                   property);
        return;
    }
    error_setg(errp, "Property '%s.%s' not found", type, property);
}
