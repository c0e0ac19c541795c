/* SPDX-License-Identifier: MIT */
/*
 * vmstate.c: the engine behind vmstate.h.  A section body is the fields in
 * table order, each element little-endian at its declared size (bool: one
 * byte, 0 or 1; buffer: raw bytes; struct, or the struct a pointer member
 * points to: a nested body; variable array: u32 count, then that many
 * nested bodies), then the subsections whose needed() says yes, each as
 * tag 0x01, u8 name length, name, u32 body length, body; then tag 0x00.
 *
 * Loading treats the stream as hostile.  A first pass walks it without
 * writing anything (lengths, tags, names, bool values); a second pass
 * stores it and runs post_load bottom-up.  If a post_load refuses, the
 * state from before the load is put back, so a failed load leaves the
 * object exactly as it was.
 */
#include "util/common.h"
#include "migration/vmstate.h"
#include "util/bytes.h"

#define VMS_TAG_END 0x00
#define VMS_TAG_SUBSECTION 0x01

/* Static tables nest (struct in struct, subsection in subsection); this
 * only bounds a table mistake, the stream itself cannot add depth. */
#define VMS_MAX_DEPTH 16

struct vms_saver {
    GByteArray *out;
    bool all_subsections; /* snapshot: ignore needed(), skip pre_save */
};

struct vms_loader {
    const uint8_t *buf;
    size_t len; /* end of the readable window */
    size_t pos;
    bool store;         /* false: validate only */
    bool run_post_load; /* false: restoring a snapshot */
};

static unsigned type_width(enum vmstate_type t)
{
    switch (t) {
    case VMS_T_U8:
    case VMS_T_BOOL:
        return 1;
    case VMS_T_U16:
        return 2;
    case VMS_T_U32:
        return 4;
    case VMS_T_U64:
        return 8;
    default:
        return 0;
    }
}

static const char *type_name(enum vmstate_type t)
{
    static const char *const names[] = {
        [VMS_T_END] = "end",
        [VMS_T_U8] = "u8",
        [VMS_T_U16] = "u16",
        [VMS_T_U32] = "u32",
        [VMS_T_U64] = "u64",
        [VMS_T_BOOL] = "bool",
        [VMS_T_BUFFER] = "buffer",
        [VMS_T_STRUCT] = "struct",
        [VMS_T_STRUCT_PTR] = "struct-ptr",
        [VMS_T_VARRAY] = "varray",
    };
    return (unsigned)t < ARRAY_SIZE(names) && names[t] ? names[t] : "?";
}

static bool is_struct(enum vmstate_type t)
{
    return t == VMS_T_STRUCT || t == VMS_T_STRUCT_PTR || t == VMS_T_VARRAY;
}

/* A struct field's description (NULL: a model without state). */
static const struct vmstate_desc *field_vmsd(const struct vmstate_field *f)
{
    return f->vmsd_ref ? *f->vmsd_ref : f->vmsd;
}

/* Checks a table entry against itself (a programming error, not the
 * stream's): scalar types must match their C size. */
static bool field_check(const struct vmstate_desc *d,
                        const struct vmstate_field *f, Error **errp)
{
    unsigned w = type_width(f->type);

    if (f->count == 0) {
        error_setg(errp, "vmstate '%s': field '%s' has no elements", d->name,
                   f->name);
        return false;
    }
    if (w && f->size != w) {
        error_setg(errp,
                   "vmstate '%s': field '%s' is declared %s but is %zu "
                   "bytes wide",
                   d->name, f->name, type_name(f->type), f->size);
        return false;
    }
    if (is_struct(f->type) && !f->vmsd && !f->vmsd_ref) {
        error_setg(errp, "vmstate '%s': struct field '%s' has no description",
                   d->name, f->name);
        return false;
    }
    if ((f->type == VMS_T_STRUCT_PTR || f->type == VMS_T_VARRAY) &&
        (f->count != 1 || f->vmsd_ref || !f->size)) {
        error_setg(errp, "vmstate '%s': pointer field '%s' is malformed",
                   d->name, f->name);
        return false;
    }
    if (!w && f->type != VMS_T_BUFFER && !is_struct(f->type)) {
        error_setg(errp, "vmstate '%s': field '%s' has unknown type %d",
                   d->name, f->name, (int)f->type);
        return false;
    }
    return true;
}

static uint64_t mem_get(const uint8_t *p, unsigned w)
{
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;

    switch (w) {
    case 1:
        memcpy(&v8, p, 1);
        return v8;
    case 2:
        memcpy(&v16, p, 2);
        return v16;
    case 4:
        memcpy(&v32, p, 4);
        return v32;
    default:
        memcpy(&v64, p, 8);
        return v64;
    }
}

static void mem_put(uint8_t *p, unsigned w, uint64_t v)
{
    uint8_t v8 = v;
    uint16_t v16 = v;
    uint32_t v32 = v;

    switch (w) {
    case 1:
        memcpy(p, &v8, 1);
        break;
    case 2:
        memcpy(p, &v16, 2);
        break;
    case 4:
        memcpy(p, &v32, 4);
        break;
    default:
        memcpy(p, &v, 8);
        break;
    }
}

static void put_le(GByteArray *out, uint64_t v, unsigned w)
{
    uint8_t b[8];

    le_store(b, v, w);
    g_byte_array_append(out, b, w);
}

static bool save_body(struct vms_saver *s, const struct vmstate_desc *d,
                      uint8_t *base, unsigned depth, Error **errp);

/* The object a pointer member points to (NULL when there is none). */
static uint8_t *pointee(const struct vmstate_field *f, uint8_t *base)
{
    uint8_t *p;

    memcpy(&p, base + f->offset, sizeof(p));
    return p;
}

static unsigned varray_len(const struct vmstate_field *f, uint8_t *base)
{
    unsigned n;

    memcpy(&n, base + f->count_offset, sizeof(n));
    return n;
}

/* VMS_T_STRUCT_PTR and VMS_T_VARRAY. */
static bool save_pointed(struct vms_saver *s, const struct vmstate_desc *d,
                         const struct vmstate_field *f, uint8_t *base,
                         unsigned depth, Error **errp)
{
    uint8_t *p = pointee(f, base);
    unsigned n = 1;

    if (f->type == VMS_T_VARRAY) {
        n = varray_len(f, base);
        put_le(s->out, n, 4);
    }
    if (!p && n) {
        error_setg(errp, "vmstate '%s': '%s' points to nothing", d->name,
                   f->name);
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        if (!save_body(s, f->vmsd, p + (size_t)i * f->size, depth + 1, errp)) {
            error_prepend(errp, "'%s'.'%s'[%u]: ", d->name, f->name, i);
            return false;
        }
    }
    return true;
}

static bool save_field(struct vms_saver *s, const struct vmstate_desc *d,
                       const struct vmstate_field *f, uint8_t *base,
                       unsigned depth, Error **errp)
{
    unsigned w = type_width(f->type);

    if (!field_check(d, f, errp)) {
        return false;
    }
    if (f->type == VMS_T_STRUCT_PTR || f->type == VMS_T_VARRAY) {
        return save_pointed(s, d, f, base, depth, errp);
    }
    if (f->type == VMS_T_STRUCT && !field_vmsd(f)) {
        return true; /* nothing to carry */
    }
    for (size_t i = 0; i < f->count; i++) {
        uint8_t *p = base + f->offset + i * f->size;
        if (f->type == VMS_T_BUFFER) {
            g_byte_array_append(s->out, p, f->size);
        } else if (f->type == VMS_T_STRUCT) {
            if (!save_body(s, field_vmsd(f), p, depth + 1, errp)) {
                error_prepend(errp, "'%s'.'%s': ", d->name, f->name);
                return false;
            }
        } else if (f->type == VMS_T_BOOL) {
            bool b;
            memcpy(&b, p, 1);
            put_le(s->out, b ? 1 : 0, 1);
        } else {
            put_le(s->out, mem_get(p, w), w);
        }
    }
    return true;
}

static bool save_body(struct vms_saver *s, const struct vmstate_desc *d,
                      uint8_t *base, unsigned depth, Error **errp)
{
    if (depth > VMS_MAX_DEPTH) {
        error_setg(errp, "vmstate '%s': tables nest too deep", d->name);
        return false;
    }
    if (!s->all_subsections && d->pre_save) {
        Error *err = NULL;

        if (!d->pre_save(base, &err)) {
            if (!err) {
                error_setg(&err, "pre_save refused to save the state");
            }
            error_prepend(&err, "vmstate '%s': ", d->name);
            error_propagate(errp, err);
            return false;
        }
    }
    for (const struct vmstate_field *f = d->fields; f && f->type != VMS_T_END;
         f++) {
        if (!save_field(s, d, f, base, depth, errp)) {
            return false;
        }
    }
    for (const struct vmstate_desc *const *sub = d->subsections; sub && *sub;
         sub++) {
        const struct vmstate_desc *sd = *sub;
        size_t name_len = strlen(sd->name), len_at, body_len;
        uint8_t tag = VMS_TAG_SUBSECTION, nl = name_len;

        if (!s->all_subsections && sd->needed && !sd->needed(base)) {
            continue;
        }
        if (name_len == 0 || name_len > 255) {
            error_setg(errp,
                       "vmstate '%s': subsection name '%s' is not "
                       "1..255 bytes",
                       d->name, sd->name);
            return false;
        }
        g_byte_array_append(s->out, &tag, 1);
        g_byte_array_append(s->out, &nl, 1);
        g_byte_array_append(s->out, (const uint8_t *)sd->name, name_len);
        len_at = s->out->len;
        put_le(s->out, 0, 4);
        if (!save_body(s, sd, base, depth + 1, errp)) {
            return false;
        }
        body_len = s->out->len - len_at - 4;
        if (body_len > UINT32_MAX) {
            error_setg(errp, "vmstate '%s': subsection too large", sd->name);
            return false;
        }
        for (unsigned i = 0; i < 4; i++) {
            s->out->data[len_at + i] = body_len >> (8 * i);
        }
    }
    {
        uint8_t tag = VMS_TAG_END;
        g_byte_array_append(s->out, &tag, 1);
    }
    return true;
}

bool vmstate_save(const struct vmstate_desc *d, void *opaque, GByteArray *out,
                  Error **errp)
{
    struct vms_saver s = {.out = out};
    guint start = out->len;

    if (!save_body(&s, d, opaque, 0, errp)) {
        g_byte_array_set_size(out, start);
        return false;
    }
    return true;
}

/* Takes n bytes from the stream or fails naming what was being read. */
static const uint8_t *take(struct vms_loader *l, size_t n, const char *sect,
                           const char *what, Error **errp)
{
    const uint8_t *p;

    if (l->pos > l->len || n > l->len - l->pos) {
        error_setg(errp,
                   "vmstate '%s': '%s': truncated (need %zu bytes at offset "
                   "%zu, have %zu)",
                   sect, what, n, l->pos,
                   l->pos > l->len ? (size_t)0 : l->len - l->pos);
        return NULL;
    }
    p = l->buf + l->pos;
    l->pos += n;
    return p;
}

static bool load_body(struct vms_loader *l, const struct vmstate_desc *d,
                      uint8_t *base, unsigned depth, Error **errp);

/* VMS_T_STRUCT_PTR and VMS_T_VARRAY; base is NULL in vmstate_check. */
static bool load_pointed(struct vms_loader *l, const struct vmstate_desc *d,
                         const struct vmstate_field *f, uint8_t *base,
                         unsigned depth, Error **errp)
{
    uint8_t *p = base ? pointee(f, base) : NULL;
    uint32_t n = 1;

    if (f->type == VMS_T_VARRAY) {
        const uint8_t *src = take(l, 4, d->name, f->name, errp);

        if (!src) {
            return false;
        }
        n = le_load(src, 4);
        if (base && n != varray_len(f, base)) {
            error_setg(errp,
                       "vmstate '%s': '%s': the stream has %" PRIu32
                       " elements, this device %u",
                       d->name, f->name, n, varray_len(f, base));
            return false;
        }
    }
    if (base && !p && n) {
        error_setg(errp, "vmstate '%s': '%s' points to nothing", d->name,
                   f->name);
        return false;
    }
    /* Without an object the count is the stream's: each body takes at
     * least its end tag, so the loop ends with the stream. */
    for (uint32_t i = 0; i < n; i++) {
        if (!load_body(l, f->vmsd, p ? p + (size_t)i * f->size : NULL,
                       depth + 1, errp)) {
            error_prepend(errp, "'%s'.'%s'[%" PRIu32 "]: ", d->name, f->name,
                          i);
            return false;
        }
    }
    return true;
}

static bool load_field(struct vms_loader *l, const struct vmstate_desc *d,
                       const struct vmstate_field *f, uint8_t *base,
                       unsigned depth, Error **errp)
{
    unsigned w = type_width(f->type);

    if (!field_check(d, f, errp)) {
        return false;
    }
    if (f->type == VMS_T_STRUCT_PTR || f->type == VMS_T_VARRAY) {
        return load_pointed(l, d, f, base, depth, errp);
    }
    if (f->type == VMS_T_STRUCT && !field_vmsd(f)) {
        return true; /* nothing on the wire */
    }
    for (size_t i = 0; i < f->count; i++) {
        /* validate-only passes may have no object (vmstate_check) */
        uint8_t *p = base ? base + f->offset + i * f->size : NULL;
        const uint8_t *src;

        if (f->type == VMS_T_STRUCT) {
            if (!load_body(l, field_vmsd(f), p, depth + 1, errp)) {
                error_prepend(errp, "'%s'.'%s'[%zu]: ", d->name, f->name, i);
                return false;
            }
            continue;
        }
        src = take(l, f->type == VMS_T_BUFFER ? f->size : w, d->name, f->name,
                   errp);
        if (!src) {
            return false;
        }
        if (f->type == VMS_T_BUFFER) {
            if (l->store) {
                memcpy(p, src, f->size);
            }
        } else if (f->type == VMS_T_BOOL) {
            bool b = src[0];
            if (src[0] > 1) {
                error_setg(errp,
                           "vmstate '%s': field '%s'[%zu]: bool value %u is "
                           "not 0 or 1",
                           d->name, f->name, i, src[0]);
                return false;
            }
            if (l->store) {
                memcpy(p, &b, 1);
            }
        } else if (l->store) {
            mem_put(p, w, le_load(src, w));
        }
    }
    return true;
}

static const struct vmstate_desc *find_sub(const struct vmstate_desc *d,
                                           const uint8_t *name, size_t len,
                                           size_t *index)
{
    size_t i = 0;

    for (const struct vmstate_desc *const *sub = d->subsections; sub && *sub;
         sub++, i++) {
        if (strlen((*sub)->name) == len && !memcmp((*sub)->name, name, len)) {
            *index = i;
            return *sub;
        }
    }
    return NULL;
}

static bool load_subsections(struct vms_loader *l, const struct vmstate_desc *d,
                             uint8_t *base, unsigned depth, Error **errp)
{
    /* Bit i: subsection i seen already.  Tables are small. */
    uint64_t seen = 0;

    for (;;) {
        const uint8_t *p = take(l, 1, d->name, "subsection tag", errp);
        const uint8_t *name;
        const struct vmstate_desc *sd;
        struct vms_loader sub;
        size_t idx = 0;
        uint32_t body_len;
        char shown[64];

        if (!p) {
            return false;
        }
        if (*p == VMS_TAG_END) {
            return true;
        }
        if (*p != VMS_TAG_SUBSECTION) {
            error_setg(errp,
                       "vmstate '%s': bad subsection tag 0x%02x at offset %zu",
                       d->name, *p, l->pos - 1);
            return false;
        }
        p = take(l, 1, d->name, "subsection name length", errp);
        if (!p) {
            return false;
        }
        name = take(l, *p, d->name, "subsection name", errp);
        if (!name) {
            return false;
        }
        sd = find_sub(d, name, p[0], &idx);
        if (!sd) {
            /* The name is stream data: print only its safe characters. */
            size_t n = MIN((size_t)p[0], sizeof(shown) - 1);
            for (size_t i = 0; i < n; i++) {
                shown[i] = g_ascii_isprint(name[i]) ? name[i] : '?';
            }
            shown[n] = 0;
            error_setg(errp, "vmstate '%s': unknown subsection '%s'", d->name,
                       shown);
            return false;
        }
        if (idx < 64) {
            if (seen & (1ULL << idx)) {
                error_setg(errp, "vmstate '%s': subsection '%s' appears twice",
                           d->name, sd->name);
                return false;
            }
            seen |= 1ULL << idx;
        }
        p = take(l, 4, sd->name, "subsection length", errp);
        if (!p) {
            return false;
        }
        body_len = le_load(p, 4);
        if (body_len > l->len - l->pos) {
            error_setg(errp,
                       "vmstate '%s': length %" PRIu32 " overruns the stream "
                       "(%zu bytes left)",
                       sd->name, body_len, l->len - l->pos);
            return false;
        }
        sub = *l;
        sub.len = l->pos + body_len;
        if (!load_body(&sub, sd, base, depth + 1, errp)) {
            return false;
        }
        if (sub.pos != sub.len) {
            error_setg(errp,
                       "vmstate '%s': %zu unexpected bytes after the "
                       "subsection body",
                       sd->name, sub.len - sub.pos);
            return false;
        }
        l->pos = sub.pos;
    }
}

static bool load_body(struct vms_loader *l, const struct vmstate_desc *d,
                      uint8_t *base, unsigned depth, Error **errp)
{
    if (depth > VMS_MAX_DEPTH) {
        error_setg(errp, "vmstate '%s': tables nest too deep", d->name);
        return false;
    }
    for (const struct vmstate_field *f = d->fields; f && f->type != VMS_T_END;
         f++) {
        if (!load_field(l, d, f, base, depth, errp)) {
            return false;
        }
    }
    if (!load_subsections(l, d, base, depth, errp)) {
        return false;
    }
    if (l->store && l->run_post_load && d->post_load) {
        Error *err = NULL;
        if (!d->post_load(base, &err)) {
            if (!err) {
                error_setg(&err, "post_load refused the state");
            }
            error_prepend(&err, "vmstate '%s': ", d->name);
            error_propagate(errp, err);
            return false;
        }
    }
    return true;
}

bool vmstate_load(const struct vmstate_desc *d, void *opaque,
                  const uint8_t *buf, size_t len, size_t *pos, Error **errp)
{
    struct vms_loader l = {.buf = buf, .len = len, .pos = *pos};
    struct vms_saver snap_saver;
    GByteArray *snap;
    bool ok;

    if (*pos > len) {
        error_setg(errp, "vmstate '%s': start offset %zu beyond %zu bytes",
                   d->name, *pos, len);
        return false;
    }
    /* Pass 1: the stream must be well-formed before anything is stored. */
    if (!load_body(&l, d, opaque, 0, errp)) {
        return false;
    }
    /* Keep the current state (every subsection) to undo a refused load. */
    snap = g_byte_array_new();
    snap_saver = (struct vms_saver){.out = snap, .all_subsections = true};
    if (!save_body(&snap_saver, d, opaque, 0, errp)) {
        g_byte_array_unref(snap);
        return false;
    }
    l = (struct vms_loader){.buf = buf,
                            .len = len,
                            .pos = *pos,
                            .store = true,
                            .run_post_load = true};
    ok = load_body(&l, d, opaque, 0, errp);
    if (ok) {
        *pos = l.pos;
    } else {
        struct vms_loader undo = {
            .buf = snap->data, .len = snap->len, .store = true};
        /* Cannot fail: the bytes came from save_body with these tables. */
        load_body(&undo, d, opaque, 0, NULL);
    }
    g_byte_array_unref(snap);
    return ok;
}

bool vmstate_check(const struct vmstate_desc *d, const uint8_t *buf, size_t len,
                   Error **errp)
{
    struct vms_loader l = {.buf = buf, .len = len};

    /* store=false never writes through the base pointer. */
    if (!load_body(&l, d, NULL, 0, errp)) {
        return false;
    }
    if (l.pos != len) {
        error_setg(errp, "vmstate '%s': %zu unexpected bytes after the body",
                   d->name, len - l.pos);
        return false;
    }
    return true;
}
