/* SPDX-License-Identifier: MIT */
/*
 * qapi-runtime.h: the hand-written support the generated QAPI code calls:
 * typed extraction of JSON values with QEMU's error wording (every error a
 * GenericError naming the member by its path, "model.name", "enable[0]"),
 * the unknown-member check, value constructors, and the command table
 * format that qmp-dispatch.c walks.
 */
#ifndef QAPI_QAPI_RUNTIME_H
#define QAPI_QAPI_RUNTIME_H

#include "util/common.h"
#include "util/error.h"

#include "qapi/json-value.h"

struct machine;

enum qmp_command_flags {
    QMP_CMD_ALLOW_OOB = 1u << 0,
    QMP_CMD_ALLOW_PRECONFIG = 1u << 1,
    QMP_CMD_NO_SUCCESS_RESPONSE = 1u << 2,
};

/* A generated marshaller: parses args (a JSON object, never NULL), calls
 * the handler, returns the reply value (a new value) or NULL with *errp
 * set. */
typedef struct json_value *(*qmp_marshal_fn)(struct machine *m,
                                             const struct json_value *args,
                                             Error **errp);

struct qmp_command_def {
    const char *name;
    qmp_marshal_fn fn;
    unsigned flags;
};

/* JSON kind of a node, for alternates. */
enum qapi_alt_kind {
    QAPI_ALT_NONE = 0,
    QAPI_ALT_STRING,
    QAPI_ALT_INT,
    QAPI_ALT_NUMBER,
    QAPI_ALT_BOOL,
    QAPI_ALT_NULL,
    QAPI_ALT_OBJECT,
    QAPI_ALT_ARRAY,
};
enum qapi_alt_kind qapi_node_kind(const struct json_value *node);

/* "path.name" (or "name" when path is NULL/empty); g_free the result. */
char *qapi_path(const char *path, const char *name);
/* "path[i]" */
char *qapi_path_index(const char *path, unsigned i);

void qapi_error_missing(const char *path, Error **errp);
/* "Invalid parameter type for 'path', expected: what" */
void qapi_error_type(const char *path, const char *what, Error **errp);

/* node itself if it is an object (array), else NULL with errp set. */
const struct json_value *qapi_expect_object(const struct json_value *node,
                                            const char *path, Error **errp);
const struct json_value *qapi_expect_array(const struct json_value *node,
                                           const char *path, Error **errp);
/* Fails with "Parameter 'x' is unexpected" for a member of o that is in
 * neither NULL-terminated list (either may be NULL). */
bool qapi_check_keys(const struct json_value *o, const char *path,
                     const char *const *keys, const char *const *keys2,
                     Error **errp);

bool qapi_parse_str(const struct json_value *node, const char *path, char **out,
                    Error **errp);
bool qapi_parse_bool(const struct json_value *node, const char *path, bool *out,
                     Error **errp);
bool qapi_parse_number(const struct json_value *node, const char *path,
                       double *out, Error **errp);
bool qapi_parse_null(const struct json_value *node, const char *path, bool *out,
                     Error **errp);
/* Stores a deep copy. */
bool qapi_parse_any(const struct json_value *node, const char *path,
                    struct json_value **out, Error **errp);
bool qapi_parse_int(const struct json_value *node, const char *path,
                    int64_t min, int64_t max, const char *tname, int64_t *out,
                    Error **errp);
/* Range-checks, then stores into an integer of `size` bytes. */
bool qapi_parse_int_into(const struct json_value *node, const char *path,
                         int64_t min, int64_t max, const char *tname, void *out,
                         size_t size, Error **errp);
bool qapi_parse_uint64(const struct json_value *node, const char *path,
                       uint64_t *out, Error **errp);
/* Returns the index of the node's string in names, or -1 with errp set. */
int qapi_parse_enum(const struct json_value *node, const char *path,
                    const char *const *names, int count, Error **errp);

/* Value constructors the generated code calls. */
static inline struct json_value *qapi_str_node(const char *s)
{
    return json_new_string(s);
}
static inline struct json_value *qapi_bool_node(bool b)
{
    return json_new_bool(b);
}
static inline struct json_value *qapi_int_node(int64_t v)
{
    return json_new_int(v);
}
static inline struct json_value *qapi_uint_node(uint64_t v)
{
    return json_new_uint(v);
}
static inline struct json_value *qapi_double_node(double v)
{
    return json_new_double(v);
}
static inline struct json_value *qapi_null_node(void)
{
    return json_new_null();
}
/* A copy of v (or JSON null for NULL). */
static inline struct json_value *qapi_any_node(const struct json_value *v)
{
    return v ? json_copy(v) : json_new_null();
}

#endif
