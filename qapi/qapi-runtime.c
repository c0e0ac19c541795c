/* SPDX-License-Identifier: MIT */
/*
 * qapi-runtime.c: typed JSON extraction and construction for the generated
 * QAPI code.  Error texts follow QEMU's so that clients matching on them
 * (and people reading them) see the same thing.
 */
#include "util/common.h"
#include "qapi/qapi-runtime.h"

char *qapi_path(const char *path, const char *name)
{
    if (!path || !*path) {
        return g_strdup(name);
    }
    return g_strdup_printf("%s.%s", path, name);
}

char *qapi_path_index(const char *path, unsigned i)
{
    return g_strdup_printf("%s[%u]", path ? path : "", i);
}

void qapi_error_missing(const char *path, Error **errp)
{
    error_setg(errp, "Parameter '%s' is missing", path ? path : "");
}

void qapi_error_type(const char *path, const char *what, Error **errp)
{
    error_setg(errp, "Invalid parameter type for '%s', expected: %s",
               path && *path ? path : "null", what);
}

enum qapi_alt_kind qapi_node_kind(const struct json_value *node)
{
    switch (node ? node->type : JSON_NULL) {
    case JSON_OBJECT:
        return QAPI_ALT_OBJECT;
    case JSON_ARRAY:
        return QAPI_ALT_ARRAY;
    case JSON_NULL:
        return QAPI_ALT_NULL;
    case JSON_INT:
    case JSON_UINT:
        return QAPI_ALT_INT;
    case JSON_DOUBLE:
        return QAPI_ALT_NUMBER;
    case JSON_BOOL:
        return QAPI_ALT_BOOL;
    case JSON_STRING:
        return QAPI_ALT_STRING;
    }
    return QAPI_ALT_NONE;
}

const struct json_value *qapi_expect_object(const struct json_value *node,
                                            const char *path, Error **errp)
{
    if (!json_is(node, JSON_OBJECT)) {
        qapi_error_type(path, "object", errp);
        return NULL;
    }
    return node;
}

const struct json_value *qapi_expect_array(const struct json_value *node,
                                           const char *path, Error **errp)
{
    if (!json_is(node, JSON_ARRAY)) {
        qapi_error_type(path, "array", errp);
        return NULL;
    }
    return node;
}

static bool in_list(const char *const *keys, const char *k)
{
    for (; keys && *keys; keys++) {
        if (strcmp(*keys, k) == 0) {
            return true;
        }
    }
    return false;
}

bool qapi_check_keys(const struct json_value *o, const char *path,
                     const char *const *keys, const char *const *keys2,
                     Error **errp)
{
    for (size_t i = 0; i < json_object_len(o); i++) {
        const char *k = json_object_member(o, i)->key;
        if (!in_list(keys, k) && !in_list(keys2, k)) {
            char *p = qapi_path(path, k);
            error_setg(errp, "Parameter '%s' is unexpected", p);
            g_free(p);
            return false;
        }
    }
    return true;
}

bool qapi_parse_str(const struct json_value *node, const char *path, char **out,
                    Error **errp)
{
    if (!json_is(node, JSON_STRING)) {
        qapi_error_type(path, "string", errp);
        return false;
    }
    *out = g_strndup(node->u.str.s, node->u.str.len);
    return true;
}

bool qapi_parse_bool(const struct json_value *node, const char *path, bool *out,
                     Error **errp)
{
    if (!json_is(node, JSON_BOOL)) {
        qapi_error_type(path, "boolean", errp);
        return false;
    }
    *out = node->u.b;
    return true;
}

bool qapi_parse_number(const struct json_value *node, const char *path,
                       double *out, Error **errp)
{
    switch (node ? node->type : JSON_NULL) {
    case JSON_INT:
        *out = (double)node->u.i;
        return true;
    case JSON_UINT:
        *out = (double)node->u.u;
        return true;
    case JSON_DOUBLE:
        *out = node->u.d;
        return true;
    default:
        qapi_error_type(path, "number", errp);
        return false;
    }
}

bool qapi_parse_null(const struct json_value *node, const char *path, bool *out,
                     Error **errp)
{
    if (!json_is(node, JSON_NULL)) {
        qapi_error_type(path, "null", errp);
        return false;
    }
    *out = true;
    return true;
}

bool qapi_parse_any(const struct json_value *node, const char *path,
                    struct json_value **out, Error **errp)
{
    *out = json_copy(node);
    return true;
}

/*
 * Only an integer that fits int64 passes: QEMU calls a uint above
 * INT64_MAX or a double a type error too ("expected: integer").
 */
bool qapi_parse_int(const struct json_value *node, const char *path,
                    int64_t min, int64_t max, const char *tname, int64_t *out,
                    Error **errp)
{
    int64_t v;

    if (!json_is(node, JSON_INT)) {
        qapi_error_type(path, "integer", errp);
        return false;
    }
    v = node->u.i;
    if (v < min || v > max) {
        error_setg(errp, "Parameter '%s' expects %s", path ? path : "", tname);
        return false;
    }
    *out = v;
    return true;
}

bool qapi_parse_int_into(const struct json_value *node, const char *path,
                         int64_t min, int64_t max, const char *tname, void *out,
                         size_t size, Error **errp)
{
    int64_t v;

    if (!qapi_parse_int(node, path, min, max, tname, &v, errp)) {
        return false;
    }
    switch (size) {
    case 1: {
        uint8_t x = (uint8_t)v;
        memcpy(out, &x, 1);
        break;
    }
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(out, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(out, &x, 4);
        break;
    }
    default:
        memcpy(out, &v, 8);
        break;
    }
    return true;
}

/*
 * uint64: an int that is not negative or a uint.  An integral double in
 * [2^63, 2^64) is taken too (a client that writes 1e19 means an integer).
 */
bool qapi_parse_uint64(const struct json_value *node, const char *path,
                       uint64_t *out, Error **errp)
{
    if (json_is(node, JSON_INT)) {
        if (node->u.i < 0) {
            error_setg(errp, "Parameter '%s' expects uint64_t",
                       path ? path : "");
            return false;
        }
        *out = (uint64_t)node->u.i;
        return true;
    }
    if (json_is(node, JSON_UINT)) {
        *out = node->u.u;
        return true;
    }
    if (json_is(node, JSON_DOUBLE)) {
        double d = node->u.d;
        /* integral: the conversion is exact in this range iff it is */
        if (d >= 9223372036854775808.0 && d < 18446744073709551616.0 &&
            (double)(uint64_t)d == d) {
            *out = (uint64_t)d;
            return true;
        }
    }
    qapi_error_type(path, "integer", errp);
    return false;
}

int qapi_parse_enum(const struct json_value *node, const char *path,
                    const char *const *names, int count, Error **errp)
{
    const char *s = json_string(node);

    if (!s) {
        qapi_error_type(path, "string", errp);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        if (strcmp(names[i], s) == 0) {
            return i;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'",
               path && *path ? path : "null", s);
    return -1;
}
