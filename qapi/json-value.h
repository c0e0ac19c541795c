/* SPDX-License-Identifier: MIT */
/*
 * json-value.h: vireo's JSON value tree, what QMP requests are parsed into
 * and replies are built from.  It replaces json-glib, whose GObject types
 * pulled gio/gobject into the binary (start-up cost) and whose nodes cost
 * several allocations each on the QMP hot path.
 *
 * One type for every node, single owner, no reference counts: a value is
 * freed with json_free() by whoever holds it, and a container owns its
 * children.  (null, true and false are shared constants that json_free()
 * leaves alone: never modify a value in place.)  Numbers keep QEMU's
 * distinction: an integer token that fits int64 is JSON_INT, one that only fits
 * uint64 is JSON_UINT, anything else JSON_DOUBLE.  Objects keep their members
 * in insertion order (replies come out in the order they were built) and index
 * larger objects by hash so lookups and the parser's duplicate check stay
 * cheap.  Strings carry their length and are NUL-terminated.
 */
#ifndef QAPI_JSON_VALUE_H
#define QAPI_JSON_VALUE_H

#include "util/common.h"

enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_INT,
    JSON_UINT,
    JSON_DOUBLE,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

struct json_value;

struct json_member {
    const char *key;
    struct json_value *val;
    void *key_alloc; /* what to g_free for key (NULL: a string literal) */
    uint32_t hash;
};

struct json_value {
    enum json_type type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        struct {
            char *s; /* points into the same allocation */
            size_t len;
        } str;
        struct {
            struct json_value **v;
            size_t len, cap;
        } arr;
        struct {
            struct json_member *m;
            size_t len, cap;
            uint32_t *index; /* open addressing, member index + 1 */
            size_t index_size;
        } obj;
    } u;
};

/* Constructors; never fail (allocation failure aborts, as with GLib). */
struct json_value *json_new_null(void);
struct json_value *json_new_bool(bool b);
struct json_value *json_new_int(int64_t i);
/* A value above INT64_MAX becomes JSON_UINT, others JSON_INT. */
struct json_value *json_new_uint(uint64_t u);
struct json_value *json_new_double(double d);
/* s may be NULL (empty string); the bytes are copied. */
struct json_value *json_new_string(const char *s);
struct json_value *json_new_string_len(const char *s, size_t len);
struct json_value *json_new_array(void);
struct json_value *json_new_object(void);

void json_free(struct json_value *v);
/* A deep copy (NULL for NULL). */
struct json_value *json_copy(const struct json_value *v);

/* Members.  json_object_set() takes ownership of val and copies key;
 * json_object_set_static() keeps key, which must outlive the object (a
 * string literal).  Both replace an existing member of that name. */
void json_object_set(struct json_value *o, const char *key,
                     struct json_value *val);
void json_object_set_static(struct json_value *o, const char *key,
                            struct json_value *val);
/* Appends without looking for an existing member (the caller knows there
 * is none); takes ownership of key, which was g_malloc'd. */
void json_object_append_owned(struct json_value *o, char *key,
                              struct json_value *val);
/* Adds a member whose key is the JSON_STRING key (the parser's keys: no
 * copy), taking ownership of key and val, unless o already has a member of
 * that name: then returns false and takes nothing. */
bool json_object_add_keyval(struct json_value *o, struct json_value *key,
                            struct json_value *val);
struct json_value *json_object_get(const struct json_value *o, const char *key);
static inline size_t json_object_len(const struct json_value *o)
{
    return o->u.obj.len;
}
static inline const struct json_member *
json_object_member(const struct json_value *o, size_t i)
{
    return &o->u.obj.m[i];
}

/* Elements; append takes ownership. */
void json_array_append(struct json_value *a, struct json_value *v);
static inline size_t json_array_len(const struct json_value *a)
{
    return a->u.arr.len;
}
static inline struct json_value *json_array_get(const struct json_value *a,
                                                size_t i)
{
    return a->u.arr.v[i];
}

static inline bool json_is(const struct json_value *v, enum json_type t)
{
    return v && v->type == t;
}
/* The string of a JSON_STRING, else NULL. */
static inline const char *json_string(const struct json_value *v)
{
    return json_is(v, JSON_STRING) ? v->u.str.s : NULL;
}

/* Output styles (flags). */
enum {
    /* ": " after keys and ", " between items, as QEMU writes QMP */
    JSON_WRITE_SPACED = 1u << 0,
    /* QEMU's -qmp-pretty layout: one member per line, 4-space indent */
    JSON_WRITE_PRETTY = 1u << 1,
    /* non-ASCII as \uXXXX (surrogate pairs above the BMP), as QEMU does;
     * without it valid UTF-8 passes through unchanged */
    JSON_WRITE_ASCII = 1u << 2,
};
#define JSON_WRITE_QMP (JSON_WRITE_SPACED | JSON_WRITE_ASCII)

/* Appends v to out.  Invalid UTF-8 in a string is written as U+FFFD, so the
 * output is always valid JSON text in valid UTF-8 (non-finite doubles, which
 * JSON cannot express, are written as QEMU writes them: inf, nan). */
void json_write(GString *out, const struct json_value *v, unsigned flags);
/* Compact text (no spaces, UTF-8 passed through); g_free it. */
char *json_to_string(const struct json_value *v);
/* Appends s[0..len) as a JSON string literal. */
void json_write_string(GString *out, const char *s, size_t len, unsigned flags);

/*
 * U+0000 in a string: QEMU keeps its strings NUL-free by storing it as the
 * overlong pair C0 80 ("modified UTF-8"), so "\u0000" in a QMP request is
 * an ordinary (if unknown) name, written back as \u0000.  vireo does the
 * same: the parser stores \u0000 as JSON_MODIFIED_NUL, and that pair is
 * valid input and is written back as \u0000.
 */
#define JSON_MODIFIED_NUL "\xc0\x80"
/* Valid UTF-8, where C0 80 stands for U+0000. */
bool json_utf8_valid(const char *s, size_t len);

#endif
