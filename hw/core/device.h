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
struct json_value;
struct device_opts;

enum prop_type {
    PROP_BOOL,
    PROP_U8,
    PROP_U16,
    PROP_U32,
    PROP_U64,
    PROP_I32, /* int32_t; -1 is QEMU's "unset" for bootindex */
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

/*
 * A property value as the device will receive it: already parsed and
 * checked against its class (range, type).  Options are turned into these
 * once (device-opts.c: -device text, its JSON form, QMP device_add); board
 * code writes them directly, so nothing formats option text to create a
 * device.  Strings are borrowed.
 */
struct prop_value {
    const char *name;
    enum prop_type type;
    uint64_t u;    /* PROP_BOOL (0/1) and the integer types */
    const char *s; /* PROP_STR, PROP_CHARDEV */
};
#define PROP_VAL_BOOL(n, v)                                                    \
    {                                                                          \
        .name = (n), .type = PROP_BOOL, .u = (v)                               \
    }
#define PROP_VAL_U8(n, v)                                                      \
    {                                                                          \
        .name = (n), .type = PROP_U8, .u = (v)                                 \
    }
#define PROP_VAL_U32(n, v)                                                     \
    {                                                                          \
        .name = (n), .type = PROP_U32, .u = (v)                                \
    }
#define PROP_VAL_U64(n, v)                                                     \
    {                                                                          \
        .name = (n), .type = PROP_U64, .u = (v)                                \
    }
#define PROP_VAL_STR(n, v)                                                     \
    {                                                                          \
        .name = (n), .type = PROP_STR, .s = (v)                                \
    }
#define PROP_VAL_CHARDEV(n, v)                                                 \
    {                                                                          \
        .name = (n), .type = PROP_CHARDEV, .s = (v)                            \
    }

struct device;

/*
 * Run-time properties beyond the typed props (QEMU's dynamic QOM
 * properties, e.g. virtio-balloon's guest-stats): qom-list lists them,
 * qom-get and qom-set reach them.  Called on the main thread without the
 * device lock (the device takes it).
 */
struct device_qom_prop {
    const char *name;
    const char *type; /* QEMU's qom-list type: "int", "guest statistics" */
};
struct device_qom_ops {
    /* NULL-terminated (name NULL); NULL: none */
    const struct device_qom_prop *(*props)(struct device *dev);
    struct json_value *(*get)(struct device *dev, const char *name,
                              Error **errp);
    bool (*set)(struct device *dev, const char *name,
                const struct json_value *val, Error **errp);
};

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
    /* Guest-visible state that vireo cannot migrate yet: migrate and
     * snapshots refuse the machine (QEMU's unmigratable vmsd). */
    bool unmigratable;
    /* Optional: the same, decided per instance (a virtio pair asks its
     * model, hw/virtio/virtio-model.h). */
    bool (*migration_blocked)(const struct device *dev);
    /* Class-specific constant data (a virtio pair's struct virtio_binding,
     * hw/virtio/virtio-model.h); NULL for most classes. */
    const void *class_data;
    /* Optional run-time QOM properties (NULL: none). */
    const struct device_qom_ops *qom;
    /* Optional: checks -device `o` against the -device options before it
     * (all[0..index)) before the accelerator opens, so a mistake that
     * realize would find anyway (a virtio-serial port without its bus) is
     * named on any host. */
    bool (*check_opts)(const struct device_opts *o, GPtrArray *all, guint index,
                       Error **errp);
    /* Optional: the machine entered (running) or left the running state
     * (QEMU's VM change state handlers).  Called on the main thread with
     * dev->lock held, once after realize with the state then, and on
     * every change after (system/runstate.c: machine_set_state).  While
     * not running a device takes no input from its backends into guest
     * RAM and runs no timer that writes it (tap frames stay in the kernel,
     * chardev bytes in the chardev); on running it delivers what waited. */
    void (*run_state)(struct device *dev, bool running);
};

struct device {
    const struct device_class *cls;
    char *id;
    struct machine *m;
    GMutex lock;
    struct mem_owner owner;
    bool realized;
    bool user; /* created by -device / device_add (QEMU's peripheral) */
};

/* The table (hw/core/device-list.c). */
extern const struct device_class *const device_classes[];
const struct device_class *device_class_find(const char *name);
const struct prop *device_class_prop(const struct device_class *cls,
                                     const char *name);

/*
 * What -device TEXT, -device {JSON} and QMP device_add all become: the
 * class, the id and typed values, checked once, before any machine exists.
 * One creation path: device_create_opts() for these, device_create() for
 * the board's own devices; both end in device_create_values().
 */
struct device_opts {
    const struct device_class *cls;
    char *id;   /* NULL: none */
    char *text; /* as the user gave it, for "-device TEXT: reason" */
    struct prop_value *values;
    size_t n;
    GPtrArray *strings; /* owns the values' strings */
};

/* "driver[,id=ID][,prop=value...]": unknown drivers, devices the user may
 * not create, unknown properties and bad values are refused here. */
struct device_opts *device_opts_parse(const char *text, Error **errp);
/* libvirt's -device {"driver": ..., "id": ..., props} and QMP device_add
 * arguments: the same checks, with QEMU's JSON typing (numbers for
 * integers, true/false for booleans, strings for strings). */
struct device_opts *device_opts_from_json(const struct json_value *obj,
                                          const char *text, Error **errp);
void device_opts_free(struct device_opts *o);
/* The checks of the command line's -device options (struct device_opts *,
 * in creation order) that need no accelerator: every chardev property
 * names one of m's chardevs, and each class's check_opts.  Errors read
 * "-device TEXT: reason", as realize's would. */
bool device_opts_check_all(struct machine *m, GPtrArray *all, Error **errp);

/* Creates a device from checked values (id may be NULL), realizes it and
 * adds it to m->devices. */
struct device *device_create_values(struct machine *m,
                                    const struct device_class *cls,
                                    const char *id,
                                    const struct prop_value *vals, size_t n,
                                    Error **errp);
struct device *device_create_opts(struct machine *m,
                                  const struct device_opts *o, Error **errp);
/* The board's devices: by class name, with typed values. */
struct device *device_create(struct machine *m, const char *name,
                             const struct prop_value *vals, size_t n,
                             Error **errp);
/* Checks an integer value against a property's range. */
bool prop_value_check(const struct device_class *cls, const struct prop *p,
                      uint64_t u, Error **errp);
/* Parses text for property p ("on", "0x3f8", "64K"...). */
bool prop_value_from_text(const struct device_class *cls, const struct prop *p,
                          const char *text, struct prop_value *out,
                          Error **errp);
struct device *machine_find_device_id(struct machine *m, const char *id);
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
/* Tells dev (realized, with a run_state hook) the machine's run state. */
void device_run_state(struct device *dev, bool running);
void device_destroy(struct device *dev);
/* "bool", "uint32", "size", "str", "chardev": a property's type name in
 * help texts and qom-list-properties. */
const char *device_prop_type_name(enum prop_type t);
/* Text for "-device help" and "-device NAME,help". */
char *device_help(const char *name);

#endif
