/* SPDX-License-Identifier: MIT */
/*
 * vmstate.h: declarative description of guest-visible state.  Every device
 * and the CPU list their fields here; the migration engine (vmstate.c)
 * saves and loads them, `needed()` subsections carry optional state, and
 * post_load validates (a stream never makes a device inconsistent).
 * Our stream format, not QEMU's: no per-field versions.
 */
#ifndef MIGRATION_VMSTATE_H
#define MIGRATION_VMSTATE_H

#include "util/common.h"
#include "util/error.h"

enum vmstate_type {
    VMS_T_END = 0,
    VMS_T_U8,
    VMS_T_U16,
    VMS_T_U32,
    VMS_T_U64,
    VMS_T_BOOL,
    VMS_T_BUFFER, /* fixed-size byte array */
    VMS_T_STRUCT, /* nested vmstate_desc */
    /* The member is a pointer to a struct described by vmsd (a device
     * model's struct virtio_dev reached from its transport). */
    VMS_T_STRUCT_PTR,
    /* The member is a pointer to an array of structs whose length is the
     * `unsigned` member at count_offset (a device's virtqueues).  Wire: u32
     * element count, then the bodies; a load refuses a count that differs
     * from the object's (the stream cannot resize a device). */
    VMS_T_VARRAY,
};

struct vmstate_desc;

struct vmstate_field {
    const char *name;
    enum vmstate_type type;
    size_t offset;
    size_t size;                     /* element size (BUFFER: total bytes) */
    size_t count;                    /* array elements; 1 for scalars */
    const struct vmstate_desc *vmsd; /* VMS_T_STRUCT, _PTR, VARRAY */
    size_t count_offset;             /* VMS_T_VARRAY */
    /* Instead of vmsd: where the description is found, chosen where the
     * table is declared (a virtio model's class, hw/virtio/virtio-model.h,
     * whose vmsd is not a constant expression there).  A NULL description
     * puts nothing on the wire: the model has no state of its own. */
    const struct vmstate_desc *const *vmsd_ref;
};

struct vmstate_desc {
    const char *name;
    unsigned version; /* MAJOR of this section's layout */
    const struct vmstate_field *fields;
    const struct vmstate_desc *const *subsections;
    bool (*needed)(void *opaque);
    /* Runs before the fields are saved (a device completes the I/O it has
     * in flight); refuses, naming why, a state that cannot be saved. */
    bool (*pre_save)(void *opaque, Error **errp);
    /* Validates what was loaded; fails naming the bad value. */
    bool (*post_load)(void *opaque, Error **errp);
};

#define VMS_FIELD(st, f, t, n)                                                 \
    {                                                                          \
#f, t, offsetof(st, f), sizeof(((st *)0)->f) / (n), n, NULL            \
    }
#define VMS_U8(st, f) VMS_FIELD(st, f, VMS_T_U8, 1)
#define VMS_U16(st, f) VMS_FIELD(st, f, VMS_T_U16, 1)
#define VMS_U32(st, f) VMS_FIELD(st, f, VMS_T_U32, 1)
#define VMS_U64(st, f) VMS_FIELD(st, f, VMS_T_U64, 1)
#define VMS_BOOL(st, f) VMS_FIELD(st, f, VMS_T_BOOL, 1)
#define VMS_U8_ARRAY(st, f, n) VMS_FIELD(st, f, VMS_T_U8, n)
#define VMS_U32_ARRAY(st, f, n) VMS_FIELD(st, f, VMS_T_U32, n)
#define VMS_U64_ARRAY(st, f, n) VMS_FIELD(st, f, VMS_T_U64, n)
#define VMS_BUFFER(st, f)                                                      \
    {                                                                          \
#f, VMS_T_BUFFER, offsetof(st, f), sizeof(((st *)0)->f), 1, NULL       \
    }
/* A nested description, n elements of the member's element type. */
#define VMS_STRUCT_ARRAY(st, f, n, desc)                                       \
    {                                                                          \
#f, VMS_T_STRUCT, offsetof(st, f), sizeof(((st *)0)->f) / (n), n, desc \
    }
#define VMS_STRUCT(st, f, desc) VMS_STRUCT_ARRAY(st, f, 1, desc)
/* The struct member f points to. */
#define VMS_STRUCT_PTR(st, f, desc)                                            \
    {                                                                          \
#f, VMS_T_STRUCT_PTR, offsetof(st, f), sizeof(*((st *)0)->f), 1, desc  \
    }
/* The array member f points to, `unsigned n` elements. */
#define VMS_VARRAY(st, f, n, desc)                                             \
    {                                                                          \
#f, VMS_T_VARRAY, offsetof(st, f), sizeof(*((st *)0)->f), 1, desc,     \
            offsetof(st, n)                                                    \
    }
/* Member f (of any type) described by *ref (may be NULL: no state). */
#define VMS_STRUCT_REF(st, f, ref)                                             \
    {                                                                          \
#f, VMS_T_STRUCT, offsetof(st, f), sizeof(((st *)0)->f), 1, NULL, 0,   \
            (ref)                                                              \
    }
#define VMS_END                                                                \
    {                                                                          \
        NULL, VMS_T_END, 0, 0, 0, NULL                                         \
    }

/* Serialises opaque as described into out (appends). */
bool vmstate_save(const struct vmstate_desc *d, void *opaque, GByteArray *out,
                  Error **errp);
/* Loads from [*pos, len) of buf, advancing *pos; runs post_load. */
bool vmstate_load(const struct vmstate_desc *d, void *opaque,
                  const uint8_t *buf, size_t len, size_t *pos, Error **errp);

/* Checks that [0, len) of buf is exactly one well-formed body of d
 * (lengths, tags, subsection names, bool values) without storing anything
 * or running post_load: the first pass of a load, for staging. */
bool vmstate_check(const struct vmstate_desc *d, const uint8_t *buf, size_t len,
                   Error **errp);

/* Every description a stream can carry, as JSON (vmstate-dump.c). */
char *vmstate_dump_json(void);
/* `--dump-vmstate FILE`. */
bool vmstate_dump_file(const char *path, Error **errp);

#endif
