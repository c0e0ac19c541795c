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
 *
 * Lifetime: dev->owner counts references; the creator holds one and every
 * mapped region another (system/memory.h), so a handler still running on
 * a vCPU when the device goes away keeps the struct alive.
 * device_destroy() unmaps everything the device owns, waits for handlers
 * in flight (a lock/unlock of dev->lock), unrealizes, and drops the
 * creator's reference; the memory goes with the last one.
 */
#ifndef HW_CORE_DEVICE_H
#define HW_CORE_DEVICE_H

#include "util/common.h"
#include "util/error.h"
#include "system/memory.h"

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
    struct mem_owner owner;
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
/* An unrealized instance with its properties at their defaults (the
 * creation steps, for callers that set properties themselves). */
struct device *device_new(const struct device_class *cls, struct machine *m,
                          Error **errp);
/* Sets one property from text. */
bool device_set_prop(struct device *dev, const char *name, const char *val,
                     Error **errp);
bool device_realize(struct device *dev, Error **errp);
/* Maps a register region owned by dev, with dev as the handler's opaque and
 * dev->lock as its lock; device_destroy() unmaps it. */
bool device_map(struct device *dev, struct address_space *as, uint64_t base,
                uint64_t len, const struct io_ops *ops, const char *name,
                Error **errp);
/* Unmaps dev's region at base (a BAR moving); safe under dev->lock. */
bool device_unmap(struct device *dev, struct address_space *as, uint64_t base);
void device_reset(struct device *dev);
void device_destroy(struct device *dev);
/* Text for "-device help" and "-device NAME,help". */
char *device_help(const char *name);

#endif
