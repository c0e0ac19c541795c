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

enum qapi_alt_kind qapi_node_kind(JsonNode *node)
{
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT:
        return QAPI_ALT_OBJECT;
    case JSON_NODE_ARRAY:
        return QAPI_ALT_ARRAY;
    case JSON_NODE_NULL:
        return QAPI_ALT_NULL;
    case JSON_NODE_VALUE:
        break;
    }
    switch (json_node_get_value_type(node)) {
    case G_TYPE_INT64:
        return QAPI_ALT_INT;
    case G_TYPE_DOUBLE:
        return QAPI_ALT_NUMBER;
    case G_TYPE_BOOLEAN:
        return QAPI_ALT_BOOL;
    case G_TYPE_STRING:
        return QAPI_ALT_STRING;
    default:
        return QAPI_ALT_NONE;
    }
}

JsonObject *qapi_expect_object(JsonNode *node, const char *path, Error **errp)
{
    if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
        qapi_error_type(path, "object", errp);
        return NULL;
    }
    return json_node_get_object(node);
}

JsonArray *qapi_expect_array(JsonNode *node, const char *path, Error **errp)
{
    if (!node || !JSON_NODE_HOLDS_ARRAY(node)) {
        qapi_error_type(path, "array", errp);
        return NULL;
    }
    return json_node_get_array(node);
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

bool qapi_check_keys(JsonObject *o, const char *path, const char *const *keys,
                     const char *const *keys2, Error **errp)
{
    JsonObjectIter it;
    const char *k;
    JsonNode *v;

    json_object_iter_init_ordered(&it, o);
    while (json_object_iter_next_ordered(&it, &k, &v)) {
        if (!in_list(keys, k) && !in_list(keys2, k)) {
            char *p = qapi_path(path, k);
            error_setg(errp, "Parameter '%s' is unexpected", p);
            g_free(p);
            return false;
        }
    }
    return true;
}

static bool is_value(JsonNode *node, GType t)
{
    return node && JSON_NODE_HOLDS_VALUE(node) &&
           json_node_get_value_type(node) == t;
}

bool qapi_parse_str(JsonNode *node, const char *path, char **out, Error **errp)
{
    if (!is_value(node, G_TYPE_STRING)) {
        qapi_error_type(path, "string", errp);
        return false;
    }
    *out = g_strdup(json_node_get_string(node));
    return true;
}

bool qapi_parse_bool(JsonNode *node, const char *path, bool *out, Error **errp)
{
    if (!is_value(node, G_TYPE_BOOLEAN)) {
        qapi_error_type(path, "boolean", errp);
        return false;
    }
    *out = json_node_get_boolean(node);
    return true;
}

bool qapi_parse_number(JsonNode *node, const char *path, double *out,
                       Error **errp)
{
    if (is_value(node, G_TYPE_INT64)) {
        *out = (double)json_node_get_int(node);
        return true;
    }
    if (!is_value(node, G_TYPE_DOUBLE)) {
        qapi_error_type(path, "number", errp);
        return false;
    }
    *out = json_node_get_double(node);
    return true;
}

bool qapi_parse_null(JsonNode *node, const char *path, bool *out, Error **errp)
{
    if (!node || !JSON_NODE_HOLDS_NULL(node)) {
        qapi_error_type(path, "null", errp);
        return false;
    }
    *out = true;
    return true;
}

bool qapi_parse_any(JsonNode *node, const char *path, JsonNode **out,
                    Error **errp)
{
    *out = json_node_copy(node);
    return true;
}

/*
 * json-glib reads integers that overflow int64 as doubles; QEMU calls those
 * a type error too ("expected: integer"), so only G_TYPE_INT64 passes.
 */
bool qapi_parse_int(JsonNode *node, const char *path, int64_t min, int64_t max,
                    const char *tname, int64_t *out, Error **errp)
{
    int64_t v;

    if (!is_value(node, G_TYPE_INT64)) {
        qapi_error_type(path, "integer", errp);
        return false;
    }
    v = json_node_get_int(node);
    if (v < min || v > max) {
        error_setg(errp, "Parameter '%s' expects %s", path ? path : "", tname);
        return false;
    }
    *out = v;
    return true;
}

bool qapi_parse_int_into(JsonNode *node, const char *path, int64_t min,
                         int64_t max, const char *tname, void *out, size_t size,
                         Error **errp)
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
 * uint64 above INT64_MAX: the JSON splitter hands those over as doubles
 * (see json-stream.c), so accept an integral double in [2^63, 2^64]; 2^64
 * itself is what 2^64-1 rounds to and is read as UINT64_MAX.
 */
bool qapi_parse_uint64(JsonNode *node, const char *path, uint64_t *out,
                       Error **errp)
{
    if (is_value(node, G_TYPE_INT64)) {
        int64_t v = json_node_get_int(node);
        if (v < 0) {
            error_setg(errp, "Parameter '%s' expects uint64_t",
                       path ? path : "");
            return false;
        }
        *out = (uint64_t)v;
        return true;
    }
    if (is_value(node, G_TYPE_DOUBLE)) {
        double d = json_node_get_double(node);
        if (d == 18446744073709551616.0) {
            *out = UINT64_MAX;
            return true;
        }
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

int qapi_parse_enum(JsonNode *node, const char *path, const char *const *names,
                    int count, Error **errp)
{
    const char *s;

    if (!is_value(node, G_TYPE_STRING)) {
        qapi_error_type(path, "string", errp);
        return -1;
    }
    s = json_node_get_string(node);
    for (int i = 0; i < count; i++) {
        if (strcmp(names[i], s) == 0) {
            return i;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'",
               path && *path ? path : "null", s);
    return -1;
}

JsonNode *qapi_str_node(const char *s)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(n, s ? s : "");
    return n;
}

JsonNode *qapi_bool_node(bool b)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_boolean(n, b);
    return n;
}

JsonNode *qapi_int_node(int64_t v)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_int(n, v);
    return n;
}

JsonNode *qapi_uint_node(uint64_t v)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    if (v > INT64_MAX) {
        json_node_set_double(n, (double)v);
    } else {
        json_node_set_int(n, (int64_t)v);
    }
    return n;
}

JsonNode *qapi_double_node(double v)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_double(n, v);
    return n;
}

JsonNode *qapi_null_node(void)
{
    return json_node_new(JSON_NODE_NULL);
}

JsonNode *qapi_any_node(JsonNode *v)
{
    return v ? json_node_copy(v) : qapi_null_node();
}

JsonNode *qapi_object_node(JsonObject *o)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

JsonNode *qapi_array_node(JsonArray *a)
{
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, a);
    return n;
}

JsonNode *qapi_object_node_ref(JsonObject *o)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(n, o);
    return n;
}

void qapi_node_unref(JsonNode *n)
{
    if (n) {
        json_node_unref(n);
    }
}
