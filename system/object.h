/* SPDX-License-Identifier: MIT */
/*
 * object.h: user-creatable objects (-object, QEMU's QOM "user-creatable"
 * types): one flat table of classes with typed properties, like the
 * device table of hw/core/device.h.  An object is parsed from QEMU's two
 * forms, "TYPE,id=ID,prop=value" or JSON {"qom-type":..,"id":..,...}
 * (libvirt uses JSON once the schema advertises it), with every property
 * checked against its type; it is realized (files read or opened) when
 * the machine is built, before anything uses it.
 *
 * Classes: secret (libvirt's master key), memory-backend-ram and
 * memory-backend-file (guest RAM for -machine memory-backend=ID),
 * rng-random and rng-builtin (virtio-rng's entropy, rng=ID),
 * sev-guest and sev-snp-guest (sev/sev-config.c parses their properties
 * through the class's parse hook; -machine confidential-guest-support=ID).
 * qom-list-types and qom-list-properties derive from this table.
 */
#ifndef SYSTEM_OBJECT_H
#define SYSTEM_OBJECT_H

#include "util/common.h"
#include "util/error.h"

enum object_prop_type {
    OBJ_PROP_STR,
    OBJ_PROP_BOOL,
    OBJ_PROP_SIZE, /* bytes; K/M/G suffixes in key=value form */
    OBJ_PROP_ENUM, /* a string from ->values */
};

struct object_prop {
    const char *name;
    enum object_prop_type type;
    bool required;
    const char *const *values; /* OBJ_PROP_ENUM: NULL-terminated */
    const char *desc;
    /* the type qom-list-properties reports, when the class parses the
     * value itself (sev/: "uint32"); NULL: derived from `type` */
    const char *qom_type;
};

struct object;
struct keyval;
struct sev_config;

struct object_class {
    const char *name;
    const char *parent; /* QEMU's parent type, as qom-list-types shows */
    const char *desc;
    const struct object_prop *props; /* ends with a NULL name */
    /* Classes whose owner parses its properties itself (sev/): the whole
     * key/value set (the JSON form converted to text), every key it knows
     * read; the table then refuses unread keys.  props still lists the
     * property names (qom-list-properties, JSON key check). */
    bool (*parse)(struct object *obj, struct keyval *kv, Error **errp);
    /* Checks across properties (parse time). */
    bool (*check)(struct object *obj, Error **errp);
    /* Acquires what the object stands for (files); machine build time. */
    bool (*realize)(struct object *obj, Error **errp);
    void (*finalize)(struct object *obj);
};

struct object_value {
    bool set;
    char *s; /* STR, ENUM */
    bool b;
    uint64_t u;
};

struct object {
    const struct object_class *cls;
    char *id;
    struct object_value *v; /* one per cls->props entry */
    bool realized;
    /* secret */
    uint8_t *data;
    size_t data_len;
    /* memory backends: the RAM's fd (memfd or the mem-path file);
     * rng-random: the entropy file (O_NONBLOCK); others: -1 */
    int fd;
    /* sev-guest, sev-snp-guest */
    struct sev_config *sev;
};

extern const struct object_class *const object_classes[];
const struct object_class *object_class_find(const char *name);
/* Parses "-object" text (key=value or JSON); no file is touched yet. */
struct object *object_parse(const char *text, Error **errp);
bool object_realize(struct object *obj, Error **errp);
void object_free(struct object *obj);
/* The object with this id in a list of struct object *, or NULL. */
struct object *object_find(GPtrArray *objects, const char *id);

/* The value of a property (NULL / false / 0 when not set). */
const struct object_value *object_get(const struct object *obj,
                                      const char *name);
const char *object_get_str(const struct object *obj, const char *name);
bool object_get_bool(const struct object *obj, const char *name);
uint64_t object_get_size(const struct object *obj, const char *name);
/* The SEV configuration of a sev-guest/sev-snp-guest object, or NULL. */
struct sev_config *object_sev_config(const struct object *obj);
/* The class is a memory backend (memory-backend-*). */
bool object_is_memory_backend(const struct object *obj);
/* The class is an entropy source (rng-random, rng-builtin). */
bool object_is_rng_backend(const struct object *obj);
/* rng-random's filename when none is given (QEMU's). */
#define OBJECT_RNG_DEFAULT_FILE "/dev/urandom"

/* "-object help" (list) and "-object TYPE,help" (properties); NULL for an
 * unknown type. */
char *object_help(const char *type);
/* The QOM type name qom-list-properties reports for a property. */
const char *object_prop_qom_type(const struct object_prop *p);

#endif
