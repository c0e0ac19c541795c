/* SPDX-License-Identifier: MIT */
/*
 * json-value.c: the JSON value tree and its writer (see json-value.h).
 * Built for the QMP hot path: a string is one allocation with its bytes,
 * builder keys are string literals that are not copied, small objects are
 * searched linearly and larger ones through a hash index, and the writer
 * appends runs of plain characters in bulk.
 */
#include "util/common.h"
#include "qapi/json-value.h"

/* Objects with at least this many members get a hash index. */
#define JSON_INDEX_MIN 8

static struct json_value *new_value(enum json_type t)
{
    struct json_value *v = g_new(struct json_value, 1);

    v->type = t;
    return v;
}

/* null, false and true are shared and never freed (they are immutable). */
static struct json_value json_consts[3] = {
    {.type = JSON_NULL},
    {.type = JSON_BOOL, .u.b = false},
    {.type = JSON_BOOL, .u.b = true},
};

static bool is_const(const struct json_value *v)
{
    return v >= json_consts && v < json_consts + ARRAY_SIZE(json_consts);
}

struct json_value *json_new_null(void)
{
    return &json_consts[0];
}

struct json_value *json_new_bool(bool b)
{
    return &json_consts[b ? 2 : 1];
}

struct json_value *json_new_int(int64_t i)
{
    struct json_value *v = new_value(JSON_INT);

    v->u.i = i;
    return v;
}

struct json_value *json_new_uint(uint64_t u)
{
    struct json_value *v;

    if (u <= INT64_MAX) {
        return json_new_int((int64_t)u);
    }
    v = new_value(JSON_UINT);
    v->u.u = u;
    return v;
}

struct json_value *json_new_double(double d)
{
    struct json_value *v = new_value(JSON_DOUBLE);

    v->u.d = d;
    return v;
}

struct json_value *json_new_string_len(const char *s, size_t len)
{
    struct json_value *v = g_malloc(sizeof(*v) + len + 1);

    v->type = JSON_STRING;
    v->u.str.s = (char *)(v + 1);
    v->u.str.len = len;
    if (len) {
        memcpy(v->u.str.s, s, len);
    }
    v->u.str.s[len] = '\0';
    return v;
}

struct json_value *json_new_string(const char *s)
{
    return json_new_string_len(s ? s : "", s ? strlen(s) : 0);
}

struct json_value *json_new_array(void)
{
    struct json_value *v = new_value(JSON_ARRAY);

    v->u.arr.v = NULL;
    v->u.arr.len = v->u.arr.cap = 0;
    return v;
}

/* Room for this many members comes with the object itself (a QMP reply
 * or request rarely has more), so small objects are one allocation. */
#define JSON_INLINE_MEMBERS 4

static struct json_member *inline_members(const struct json_value *o)
{
    return (struct json_member *)(void *)(o + 1);
}

struct json_value *json_new_object(void)
{
    struct json_value *v =
        g_malloc(sizeof(*v) + JSON_INLINE_MEMBERS * sizeof(struct json_member));

    v->type = JSON_OBJECT;
    v->u.obj.m = inline_members(v);
    v->u.obj.len = 0;
    v->u.obj.cap = JSON_INLINE_MEMBERS;
    v->u.obj.index = NULL;
    v->u.obj.index_size = 0;
    return v;
}

void json_free(struct json_value *v)
{
    if (!v || is_const(v)) {
        return;
    }
    switch (v->type) {
    case JSON_ARRAY:
        for (size_t i = 0; i < v->u.arr.len; i++) {
            json_free(v->u.arr.v[i]);
        }
        g_free(v->u.arr.v);
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->u.obj.len; i++) {
            struct json_member *m = &v->u.obj.m[i];
            g_free(m->key_alloc);
            json_free(m->val);
        }
        if (v->u.obj.m != inline_members(v)) {
            g_free(v->u.obj.m);
        }
        g_free(v->u.obj.index);
        break;
    default:
        break;
    }
    g_free(v);
}

struct json_value *json_copy(const struct json_value *v)
{
    struct json_value *c;

    if (!v) {
        return NULL;
    }
    switch (v->type) {
    case JSON_STRING:
        return json_new_string_len(v->u.str.s, v->u.str.len);
    case JSON_ARRAY:
        c = json_new_array();
        for (size_t i = 0; i < v->u.arr.len; i++) {
            json_array_append(c, json_copy(v->u.arr.v[i]));
        }
        return c;
    case JSON_OBJECT:
        c = json_new_object();
        for (size_t i = 0; i < v->u.obj.len; i++) {
            const struct json_member *m = &v->u.obj.m[i];
            json_object_append_owned(c, g_strdup(m->key), json_copy(m->val));
        }
        return c;
    default:
        if (is_const(v)) {
            return (struct json_value *)v;
        }
        c = new_value(v->type);
        c->u = v->u;
        return c;
    }
}

/* ------------------------------------------------------------- objects */

/*
 * FNV-1a from a per-object basis: the object's address (randomised by
 * ASLR) mixed in, so a client cannot prepare keys that all land in one
 * slot of the index and turn the parser's duplicate check quadratic.
 */
static uint32_t key_hash(const struct json_value *o, const char *k)
{
    uint64_t a = (uint64_t)(uintptr_t)o * 0x9e3779b97f4a7c15ull;
    uint32_t h = 2166136261u ^ (uint32_t)(a >> 32);

    for (; *k; k++) {
        h = (h ^ (uint8_t)*k) * 16777619u;
    }
    return h;
}

static void index_insert(struct json_value *o, size_t i)
{
    size_t mask = o->u.obj.index_size - 1;
    size_t slot = o->u.obj.m[i].hash & mask;

    while (o->u.obj.index[slot]) {
        slot = (slot + 1) & mask;
    }
    o->u.obj.index[slot] = (uint32_t)(i + 1);
}

static void index_rebuild(struct json_value *o)
{
    size_t size = 16;

    while (size < o->u.obj.cap * 2) {
        size *= 2;
    }
    g_free(o->u.obj.index);
    o->u.obj.index = g_new0(uint32_t, size);
    o->u.obj.index_size = size;
    for (size_t i = 0; i < o->u.obj.len; i++) {
        index_insert(o, i);
    }
}

static struct json_member *find_member(const struct json_value *o,
                                       const char *key, uint32_t hash)
{
    struct json_member *m = o->u.obj.m;

    if (!o->u.obj.index) {
        for (size_t i = 0; i < o->u.obj.len; i++) {
            if (m[i].hash == hash && strcmp(m[i].key, key) == 0) {
                return &m[i];
            }
        }
        return NULL;
    }
    for (size_t mask = o->u.obj.index_size - 1, slot = hash & mask;;
         slot = (slot + 1) & mask) {
        uint32_t idx = o->u.obj.index[slot];
        if (!idx) {
            return NULL;
        }
        if (m[idx - 1].hash == hash && strcmp(m[idx - 1].key, key) == 0) {
            return &m[idx - 1];
        }
    }
}

static void append_member(struct json_value *o, const char *key,
                          void *key_alloc, uint32_t hash,
                          struct json_value *val)
{
    struct json_member *m;

    g_assert(o->type == JSON_OBJECT);
    if (o->u.obj.len == o->u.obj.cap) {
        o->u.obj.cap *= 2;
        if (o->u.obj.m == inline_members(o)) {
            m = g_new(struct json_member, o->u.obj.cap);
            memcpy(m, o->u.obj.m, o->u.obj.len * sizeof(*m));
            o->u.obj.m = m;
        } else {
            o->u.obj.m = g_renew(struct json_member, o->u.obj.m, o->u.obj.cap);
        }
        if (o->u.obj.cap >= JSON_INDEX_MIN) {
            /* the table is sized for cap, so no rebuild until it grows */
            index_rebuild(o);
        }
    }
    m = &o->u.obj.m[o->u.obj.len++];
    m->key = key;
    m->key_alloc = key_alloc;
    m->hash = hash;
    m->val = val;
    if (o->u.obj.index) {
        index_insert(o, o->u.obj.len - 1);
    }
}

/* Replaces the value of an existing member (the key is not copied then),
 * or appends one, with a copy of key if copy is set. */
static void set_member(struct json_value *o, const char *key, bool copy,
                       struct json_value *val)
{
    uint32_t h = key_hash(o, key);
    struct json_member *m = find_member(o, key, h);
    char *owned;

    if (m) {
        json_free(m->val);
        m->val = val;
        return;
    }
    owned = copy ? g_strdup(key) : NULL;
    append_member(o, owned ? owned : key, owned, h, val);
}

void json_object_set(struct json_value *o, const char *key,
                     struct json_value *val)
{
    set_member(o, key, true, val);
}

void json_object_set_static(struct json_value *o, const char *key,
                            struct json_value *val)
{
    set_member(o, key, false, val);
}

void json_object_append_owned(struct json_value *o, char *key,
                              struct json_value *val)
{
    append_member(o, key, key, key_hash(o, key), val);
}

bool json_object_add_keyval(struct json_value *o, struct json_value *key,
                            struct json_value *val)
{
    uint32_t h;

    g_assert(key->type == JSON_STRING);
    h = key_hash(o, key->u.str.s);
    if (find_member(o, key->u.str.s, h)) {
        return false;
    }
    append_member(o, key->u.str.s, key, h, val);
    return true;
}

struct json_value *json_object_get(const struct json_value *o, const char *key)
{
    struct json_member *m;

    if (!json_is(o, JSON_OBJECT)) {
        return NULL;
    }
    m = find_member(o, key, key_hash(o, key));
    return m ? m->val : NULL;
}

/* -------------------------------------------------------------- arrays */

void json_array_append(struct json_value *a, struct json_value *v)
{
    g_assert(a->type == JSON_ARRAY);
    if (a->u.arr.len == a->u.arr.cap) {
        a->u.arr.cap = a->u.arr.cap ? a->u.arr.cap * 2 : 4;
        a->u.arr.v = g_renew(struct json_value *, a->u.arr.v, a->u.arr.cap);
    }
    a->u.arr.v[a->u.arr.len++] = v;
}

/* -------------------------------------------------------------- writer */

/*
 * Appends without a call into GLib while there is room (this GLib does not
 * inline g_string_append_len, and the writer appends many short pieces).
 */
static inline void put(GString *out, const char *p, size_t n)
{
    if (G_LIKELY(out->len + n < out->allocated_len)) {
        memcpy(out->str + out->len, p, n);
        out->len += n;
        out->str[out->len] = '\0';
    } else {
        g_string_append_len(out, p, (gssize)n);
    }
}

static inline void put_char(GString *out, char c)
{
    put(out, &c, 1);
}

static const char hex_digits[] = "0123456789ABCDEF";

static void put_u16_escape(GString *out, unsigned c)
{
    char b[6] = {'\\',
                 'u',
                 hex_digits[(c >> 12) & 0xf],
                 hex_digits[(c >> 8) & 0xf],
                 hex_digits[(c >> 4) & 0xf],
                 hex_digits[c & 0xf]};

    put(out, b, 6);
}

/*
 * Reads one character at p (n >= 1 bytes available) as QEMU's
 * mod_utf8_codepoint() does, so that vireo accepts the strings QEMU
 * accepts and writes U+FFFD where QEMU does: returns the bytes taken (a
 * lead byte and the continuation bytes that follow it, at least 1) and
 * the code point in *cp, or JSON_NOT_CHAR for a stray continuation byte,
 * a truncated, overlong or surrogate sequence, one beyond U+10FFFF or a
 * noncharacter (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF).  The overlong pair
 * C0 80 is U+0000 (JSON_MODIFIED_NUL).
 */
#define JSON_NOT_CHAR UINT32_MAX
static size_t utf8_take(const uint8_t *p, size_t n, uint32_t *cp)
{
    static const uint32_t min_cp[] = {0x80, 0x800, 0x10000, 0x200000,
                                      0x4000000};
    uint8_t ch = p[0];
    size_t len;
    uint32_t c;

    *cp = JSON_NOT_CHAR;
    if (ch < 0x80) {
        *cp = ch;
        return 1;
    }
    if (ch < 0xc0 || ch >= 0xfe) {
        return 1;
    }
    len = ch < 0xe0 ? 2 : ch < 0xf0 ? 3 : ch < 0xf8 ? 4 : ch < 0xfc ? 5 : 6;
    c = ch & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if (i >= n || (p[i] & 0xc0) != 0x80) {
            return i;
        }
        c = (c << 6) | (p[i] & 0x3fu);
    }
    if (c > 0x10ffff || (c >= 0xfdd0 && c <= 0xfdef) ||
        (c & 0xfffe) == 0xfffe || (c >= 0xd800 && c <= 0xdfff) ||
        (c < min_cp[len - 2] && !(c == 0 && len == 2))) {
        return len;
    }
    *cp = c;
    return len;
}

bool json_utf8_valid(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;

    while (p < end) {
        uint32_t c;

        if (*p < 0x80) {
            p++; /* most text is ASCII: no call per byte */
            continue;
        }
        p += utf8_take(p, (size_t)(end - p), &c);
        if (c == JSON_NOT_CHAR) {
            return false;
        }
    }
    return true;
}

/* The letter of a two-character escape for c, or 0. */
static char short_escape(uint8_t c)
{
    static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
    const char *p = c ? strchr(from, c) : NULL;

    return p ? to[p - from] : 0;
}

static bool plain_char(uint8_t c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void json_write_string(GString *out, const char *s, size_t len, unsigned flags)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;

    put_char(out, '"');
    while (p < end) {
        const uint8_t *run = p;
        uint32_t c;
        size_t n;
        char esc;

        while (p < end && plain_char(*p)) {
            p++;
        }
        if (p > run) {
            put(out, (const char *)run, (size_t)(p - run));
        }
        if (p == end) {
            break;
        }
        esc = short_escape(*p);
        if (esc) {
            char e[2] = {'\\', esc};
            put(out, e, 2);
            p++;
            continue;
        }
        n = utf8_take(p, (size_t)(end - p), &c);
        if (c == JSON_NOT_CHAR) {
            c = 0xfffd; /* as QEMU: one U+FFFD for the bytes taken */
        } else if (c >= 0x80 && !(flags & JSON_WRITE_ASCII)) {
            put(out, (const char *)p, n);
            p += n;
            continue;
        }
        p += n;
        if (c >= 0x10000) {
            c -= 0x10000;
            put_u16_escape(out, 0xd800 | (c >> 10));
            put_u16_escape(out, 0xdc00 | (c & 0x3ff));
        } else if (c == 0xfffd && !(flags & JSON_WRITE_ASCII)) {
            put(out, "\xef\xbf\xbd", 3);
        } else {
            put_u16_escape(out, c);
        }
    }
    put_char(out, '"');
}

static void put_u64(GString *out, uint64_t u, bool neg)
{
    char b[24];
    size_t i = sizeof(b);

    do {
        b[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg) {
        b[--i] = '-';
    }
    put(out, b + i, sizeof(b) - i);
}

static void newline(GString *out, unsigned level)
{
    put_char(out, '\n');
    for (unsigned i = 0; i < level; i++) {
        put(out, "    ", 4);
    }
}

/* Before item i of a container at `level`. */
static void separator(GString *out, size_t i, unsigned flags, unsigned level)
{
    if (i) {
        if (flags & (JSON_WRITE_SPACED | JSON_WRITE_PRETTY)) {
            put(out, (flags & JSON_WRITE_PRETTY) ? "," : ", ",
                (flags & JSON_WRITE_PRETTY) ? 1 : 2);
        } else {
            put_char(out, ',');
        }
    }
    if (flags & JSON_WRITE_PRETTY) {
        newline(out, level + 1);
    }
}

static void write_value(GString *out, const struct json_value *v,
                        unsigned flags, unsigned level)
{
    switch (v->type) {
    case JSON_NULL:
        put(out, "null", 4);
        return;
    case JSON_BOOL:
        if (v->u.b) {
            put(out, "true", 4);
        } else {
            put(out, "false", 5);
        }
        return;
    case JSON_INT:
        put_u64(out, v->u.i < 0 ? -(uint64_t)v->u.i : (uint64_t)v->u.i,
                v->u.i < 0);
        return;
    case JSON_UINT:
        put_u64(out, v->u.u, false);
        return;
    case JSON_DOUBLE: {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_dtostr(buf, sizeof(buf), v->u.d);
        put(out, buf, strlen(buf));
        return;
    }
    case JSON_STRING:
        json_write_string(out, v->u.str.s, v->u.str.len, flags);
        return;
    case JSON_ARRAY:
        put_char(out, '[');
        for (size_t i = 0; i < v->u.arr.len; i++) {
            separator(out, i, flags, level);
            write_value(out, v->u.arr.v[i], flags, level + 1);
        }
        if ((flags & JSON_WRITE_PRETTY) && v->u.arr.len) {
            newline(out, level);
        }
        put_char(out, ']');
        return;
    case JSON_OBJECT:
        put_char(out, '{');
        for (size_t i = 0; i < v->u.obj.len; i++) {
            const struct json_member *m = &v->u.obj.m[i];
            separator(out, i, flags, level);
            json_write_string(out, m->key, strlen(m->key), flags);
            if (flags & (JSON_WRITE_SPACED | JSON_WRITE_PRETTY)) {
                put(out, ": ", 2);
            } else {
                put_char(out, ':');
            }
            write_value(out, m->val, flags, level + 1);
        }
        if ((flags & JSON_WRITE_PRETTY) && v->u.obj.len) {
            newline(out, level);
        }
        put_char(out, '}');
        return;
    }
}

void json_write(GString *out, const struct json_value *v, unsigned flags)
{
    write_value(out, v, flags, 0);
}

char *json_to_string(const struct json_value *v)
{
    GString *s = g_string_sized_new(64);

    json_write(s, v, 0);
    return g_string_free(s, FALSE);
}
