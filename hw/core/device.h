/* SPDX-License-Identifier: MIT */
/*
 * device.h: the flat device class table.  One device is one .c file with
 * its ops, its class (named as QEMU's -device name), typed properties,
 * realize/reset/unrealize and its vmstate.  No inheritance: a device struct
 * embeds `struct device` as its FIRST member and class->size covers it all.
 *
 * Lock model: dev->lock is the device lock that system/memory.c takes
 * around every register access; backends (chardev input, timers) take it
 * too before touching device state.
 */
#ifndef HW_CORE_DEVICE_H
#define HW_CORE_DEVICE_H

#include "util/common.h"
#include "util/error.h"

struct machine;
struct vmstate_desc;
struct keyval;

enum prop_type {
    PROP_BOOL,
    PROP_U8,
    PROP_U16,
    PROP_U32,
    PROP_U64,
    PROP_SIZE,
    PROP_STR,     /* char * (owned by the device) */
    PROP_CHARDEV, /* char * chardev id; realize looks it up */
};

struct prop {
    const char *name;
    enum prop_type type;
    size_t offset;      /* into the device struct */
    const char *defval; /* text, parsed like a user value; NULL: zero */
    const char *desc;
};
#define PROP_END                                                               \
    {                                                                          \
        NULL, 0, 0, NULL, NULL                                                 \
    }

struct device;

struct device_class {
    const char *name; /* QEMU's -device name */
    const char *desc;
    size_t size;
    const struct prop *props;
    bool user_creatable; /* may appear in -device */
    bool (*realize)(struct device *dev, struct machine *m, Error **errp);
    void (*reset)(struct device *dev);
    void (*unrealize)(struct device *dev);
    const struct vmstate_desc *vmsd; /* NULL only with a comment why */
};

struct device {
    const struct device_class *cls;
    char *id;
    struct machine *m;
    GMutex lock;
    bool realized;
};

/* The table (hw/core/device-list.c). */
extern const struct device_class *const device_classes[];
const struct device_class *device_class_find(const char *name);
/* Creates, sets props from kv (all keys must be known), realizes. */
struct device *device_create(struct machine *m, const char *name,
                             struct keyval *kv, Error **errp);
/* Parses a -device text ("driver,id=x,prop=val") and creates it. */
struct device *device_create_from_text(struct machine *m, const char *text,
                                       Error **errp);
void device_reset(struct device *dev);
void device_destroy(struct device *dev);
/* "bool", "uint32", "size", "str", "chardev": a property's type name in
 * help texts and qom-list-properties. */
const char *device_prop_type_name(enum prop_type t);
/* Text for "-device help" and "-device NAME,help". */
char *device_help(const char *name);

#endif
