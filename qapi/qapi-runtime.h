/* SPDX-License-Identifier: MIT */
/*
 * qapi-runtime.h: the hand-written support the generated QAPI code calls:
 * typed extraction of JSON values with QEMU's error wording (every error a
 * GenericError naming the member by its path, "model.name", "enable[0]"),
 * the unknown-member check, node constructors, and the command table
 * format that qmp-dispatch.c walks.
 */
#ifndef QAPI_QAPI_RUNTIME_H
#define QAPI_QAPI_RUNTIME_H

#include "util/common.h"
#include "util/error.h"

#include <json-glib/json-glib.h>

struct machine;

enum qmp_command_flags {
    QMP_CMD_ALLOW_OOB = 1u << 0,
    QMP_CMD_ALLOW_PRECONFIG = 1u << 1,
    QMP_CMD_NO_SUCCESS_RESPONSE = 1u << 2,
};

/* A generated marshaller: parses args (never NULL), calls the handler,
 * returns the reply value (a new node) or NULL with *errp set. */
typedef JsonNode *(*qmp_marshal_fn)(struct machine *m, JsonObject *args,
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
enum qapi_alt_kind qapi_node_kind(JsonNode *node);

/* "path.name" (or "name" when path is NULL/empty); g_free the result. */
char *qapi_path(const char *path, const char *name);
/* "path[i]" */
char *qapi_path_index(const char *path, unsigned i);

void qapi_error_missing(const char *path, Error **errp);
/* "Invalid parameter type for 'path', expected: what" */
void qapi_error_type(const char *path, const char *what, Error **errp);

JsonObject *qapi_expect_object(JsonNode *node, const char *path, Error **errp);
JsonArray *qapi_expect_array(JsonNode *node, const char *path, Error **errp);
/* Fails with "Parameter 'x' is unexpected" for a member of o that is in
 * neither NULL-terminated list (either may be NULL). */
bool qapi_check_keys(JsonObject *o, const char *path, const char *const *keys,
                     const char *const *keys2, Error **errp);

bool qapi_parse_str(JsonNode *node, const char *path, char **out, Error **errp);
bool qapi_parse_bool(JsonNode *node, const char *path, bool *out, Error **errp);
bool qapi_parse_number(JsonNode *node, const char *path, double *out,
                       Error **errp);
bool qapi_parse_null(JsonNode *node, const char *path, bool *out, Error **errp);
/* Takes a new reference. */
bool qapi_parse_any(JsonNode *node, const char *path, JsonNode **out,
                    Error **errp);
bool qapi_parse_int(JsonNode *node, const char *path, int64_t min, int64_t max,
                    const char *tname, int64_t *out, Error **errp);
/* Range-checks, then stores into an integer of `size` bytes. */
bool qapi_parse_int_into(JsonNode *node, const char *path, int64_t min,
                         int64_t max, const char *tname, void *out, size_t size,
                         Error **errp);
bool qapi_parse_uint64(JsonNode *node, const char *path, uint64_t *out,
                       Error **errp);
/* Returns the index of the node's string in names, or -1 with errp set. */
int qapi_parse_enum(JsonNode *node, const char *path, const char *const *names,
                    int count, Error **errp);

JsonNode *qapi_str_node(const char *s);
JsonNode *qapi_bool_node(bool b);
JsonNode *qapi_int_node(int64_t v);
JsonNode *qapi_uint_node(uint64_t v);
JsonNode *qapi_double_node(double v);
JsonNode *qapi_null_node(void);
/* A new reference to v (or JSON null for NULL). */
JsonNode *qapi_any_node(JsonNode *v);
/* Take ownership of o / a. */
JsonNode *qapi_object_node(JsonObject *o);
JsonNode *qapi_array_node(JsonArray *a);
/* A node that refers to o without taking the caller's reference. */
JsonNode *qapi_object_node_ref(JsonObject *o);
void qapi_node_unref(JsonNode *n);

#endif
