/* SPDX-License-Identifier: MIT */
/*
 * qmp-dispatch.c: the QMP request -> reply step (see qmp-dispatch.h), and
 * the QEMU-style JSON writer every reply and event goes through.
 */
#include "util/common.h"
#include "qapi/qmp-dispatch.h"
#include "qapi/json-parse.h"

void qmp_dispatcher_init(struct qmp_dispatcher *d, struct machine *m,
                         const struct qmp_command_def *cmds, size_t nr)
{
    d->m = m;
    d->cmds = cmds;
    d->nr_cmds = nr;
    qmp_dispatcher_reset(d);
}

void qmp_dispatcher_reset(struct qmp_dispatcher *d)
{
    d->negotiated = false;
    d->oob = false;
}

const struct qmp_command_def *qmp_find_command(const struct qmp_dispatcher *d,
                                               const char *name)
{
    for (size_t i = 0; i < d->nr_cmds; i++) {
        if (strcmp(d->cmds[i].name, name) == 0) {
            return &d->cmds[i];
        }
    }
    return NULL;
}

const char *qmp_error_class_name(enum error_class cls)
{
    switch (cls) {
    case ERROR_CLASS_COMMAND_NOT_FOUND:
        return "CommandNotFound";
    case ERROR_CLASS_DEVICE_NOT_ACTIVE:
        return "DeviceNotActive";
    case ERROR_CLASS_DEVICE_NOT_FOUND:
        return "DeviceNotFound";
    case ERROR_CLASS_KVM_MISSING_CAP:
        return "KVMMissingCap";
    case ERROR_CLASS_GENERIC:
    default:
        return "GenericError";
    }
}

JsonNode *qmp_error_reply(enum error_class cls, const char *desc, JsonNode *id)
{
    JsonObject *err = json_object_new();
    JsonObject *o = json_object_new();

    json_object_set_string_member(err, "class", qmp_error_class_name(cls));
    json_object_set_string_member(err, "desc", desc);
    json_object_set_object_member(o, "error", err);
    if (id) {
        json_object_set_member(o, "id", json_node_copy(id));
    }
    return qapi_object_node(o);
}

static JsonNode *reply_err(Error *err, JsonNode *id)
{
    JsonNode *r =
        qmp_error_reply(error_get_class(err), error_get_pretty(err), id);
    error_free(err);
    return r;
}

/* Does the capability list ask for "oob"?  (Already validated.) */
static bool wants_oob(JsonObject *args)
{
    JsonNode *en = json_object_get_member(args, "enable");

    if (!en || !JSON_NODE_HOLDS_ARRAY(en)) {
        return false;
    }
    JsonArray *a = json_node_get_array(en);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        const char *s = json_array_get_string_element(a, i);
        if (s && strcmp(s, "oob") == 0) {
            return true;
        }
    }
    return false;
}

JsonNode *qmp_dispatch(struct qmp_dispatcher *d, JsonNode *req)
{
    JsonObject *o, *args = NULL, *empty = NULL;
    JsonNode *id, *exec = NULL, *ret;
    JsonObjectIter it;
    const char *key, *name;
    JsonNode *val;
    bool oob = false;
    const struct qmp_command_def *cmd;
    Error *err = NULL;

    if (!JSON_NODE_HOLDS_OBJECT(req)) {
        return qmp_error_reply(ERROR_CLASS_GENERIC,
                               "QMP input must be a JSON object", NULL);
    }
    o = json_node_get_object(req);
    id = json_object_get_member(o, "id");

    json_object_iter_init_ordered(&it, o);
    while (json_object_iter_next_ordered(&it, &key, &val)) {
        if (strcmp(key, "execute") == 0 ||
            (strcmp(key, "exec-oob") == 0 && d->oob)) {
            if (!JSON_NODE_HOLDS_VALUE(val) ||
                json_node_get_value_type(val) != G_TYPE_STRING) {
                char *m = g_strdup_printf(
                    "QMP input member '%s' must be a string", key);
                ret = qmp_error_reply(ERROR_CLASS_GENERIC, m, id);
                g_free(m);
                return ret;
            }
            if (exec) {
                return qmp_error_reply(ERROR_CLASS_GENERIC,
                                       "QMP input member 'exec-oob' is "
                                       "unexpected",
                                       id);
            }
            exec = val;
            oob = key[4] == '-';
        } else if (strcmp(key, "arguments") == 0) {
            if (!JSON_NODE_HOLDS_OBJECT(val)) {
                return qmp_error_reply(ERROR_CLASS_GENERIC,
                                       "QMP input member 'arguments' must "
                                       "be an object",
                                       id);
            }
            args = json_node_get_object(val);
        } else if (strcmp(key, "id") != 0) {
            char *m =
                g_strdup_printf("QMP input member '%s' is unexpected", key);
            ret = qmp_error_reply(ERROR_CLASS_GENERIC, m, id);
            g_free(m);
            return ret;
        }
    }
    if (!exec) {
        return qmp_error_reply(ERROR_CLASS_GENERIC,
                               "QMP input lacks member 'execute'", id);
    }
    name = json_node_get_string(exec);
    cmd = qmp_find_command(d, name);

    if (!d->negotiated && strcmp(name, "qmp_capabilities") != 0) {
        return qmp_error_reply(ERROR_CLASS_COMMAND_NOT_FOUND,
                               "Expecting capabilities negotiation with "
                               "'qmp_capabilities'",
                               id);
    }
    if (d->negotiated && strcmp(name, "qmp_capabilities") == 0) {
        return qmp_error_reply(ERROR_CLASS_COMMAND_NOT_FOUND,
                               "Capabilities negotiation is already "
                               "complete, command ignored",
                               id);
    }
    if (!cmd) {
        char *m = g_strdup_printf("The command %s has not been found", name);
        ret = qmp_error_reply(ERROR_CLASS_COMMAND_NOT_FOUND, m, id);
        g_free(m);
        return ret;
    }
    if (oob && !(cmd->flags & QMP_CMD_ALLOW_OOB)) {
        char *m = g_strdup_printf("The command %s does not support OOB", name);
        ret = qmp_error_reply(ERROR_CLASS_GENERIC, m, id);
        g_free(m);
        return ret;
    }
    if (!args) {
        args = empty = json_object_new();
    }
    val = cmd->fn(d->m, args, &err);
    if (!val) {
        ret = reply_err(err, id);
    } else {
        JsonObject *r = json_object_new();
        if (!d->negotiated) {
            /* qmp_capabilities validated its arguments: switch modes */
            d->negotiated = true;
            d->oob = wants_oob(args);
        }
        json_object_set_member(r, "return", val);
        if (id) {
            json_object_set_member(r, "id", json_node_copy(id));
        }
        ret = qapi_object_node(r);
        if (cmd->flags & QMP_CMD_NO_SUCCESS_RESPONSE) {
            json_node_unref(ret);
            ret = NULL;
        }
    }
    if (empty) {
        json_object_unref(empty);
    }
    return ret;
}

/* Parses one complete message (from the splitter) and dispatches it.
 * json_parse() refuses duplicate keys, which json-glib's parser would
 * silently collapse ({"execute": "query-status", "execute": "quit"}). */
JsonNode *qmp_dispatch_text(struct qmp_dispatcher *d, const char *text,
                            size_t len)
{
    char *err = NULL;
    JsonNode *root = json_parse(text, len, &err);
    JsonNode *ret;

    if (!root) {
        char *m = g_strdup_printf("JSON parse error, %s", err);
        ret = qmp_error_reply(ERROR_CLASS_GENERIC, m, NULL);
        g_free(m);
        g_free(err);
        return ret;
    }
    ret = qmp_dispatch(d, root);
    json_node_unref(root);
    return ret;
}

/* ---------------------------------------------------------------- writer */

static void put_string(GString *out, const char *s)
{
    const char *p = s;

    g_string_append_c(out, '"');
    while (*p) {
        gunichar c = g_utf8_get_char(p);
        p = g_utf8_next_char(p);
        switch (c) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                g_string_append_c(out, (char)c);
            } else if (c < 0x10000) {
                g_string_append_printf(out, "\\u%04X", c);
            } else {
                c -= 0x10000;
                g_string_append_printf(out, "\\u%04X\\u%04X",
                                       0xD800 | (c >> 10),
                                       0xDC00 | (c & 0x3ff));
            }
        }
    }
    g_string_append_c(out, '"');
}

static void indent(GString *out, unsigned level)
{
    g_string_append_c(out, '\n');
    for (unsigned i = 0; i < level; i++) {
        g_string_append(out, "    ");
    }
}

static void put_node(GString *out, JsonNode *n, bool pretty, unsigned level)
{
    switch (json_node_get_node_type(n)) {
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        return;
    case JSON_NODE_OBJECT: {
        JsonObjectIter it;
        const char *k;
        JsonNode *v;
        bool first = true;

        g_string_append_c(out, '{');
        json_object_iter_init_ordered(&it, json_node_get_object(n));
        while (json_object_iter_next_ordered(&it, &k, &v)) {
            if (!first) {
                g_string_append_c(out, ',');
                if (!pretty) {
                    g_string_append_c(out, ' ');
                }
            }
            if (pretty) {
                indent(out, level + 1);
            }
            first = false;
            put_string(out, k);
            g_string_append(out, ": ");
            put_node(out, v, pretty, level + 1);
        }
        if (pretty && !first) {
            indent(out, level);
        }
        g_string_append_c(out, '}');
        return;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(n);
        guint len = json_array_get_length(a);

        g_string_append_c(out, '[');
        for (guint i = 0; i < len; i++) {
            if (i) {
                g_string_append_c(out, ',');
                if (!pretty) {
                    g_string_append_c(out, ' ');
                }
            }
            if (pretty) {
                indent(out, level + 1);
            }
            put_node(out, json_array_get_element(a, i), pretty, level + 1);
        }
        if (pretty && len) {
            indent(out, level);
        }
        g_string_append_c(out, ']');
        return;
    }
    case JSON_NODE_VALUE:
        break;
    }
    switch (json_node_get_value_type(n)) {
    case G_TYPE_INT64:
        g_string_append_printf(out, "%" PRId64, json_node_get_int(n));
        break;
    case G_TYPE_DOUBLE: {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append(
            out, g_ascii_dtostr(buf, sizeof(buf), json_node_get_double(n)));
        break;
    }
    case G_TYPE_BOOLEAN:
        g_string_append(out, json_node_get_boolean(n) ? "true" : "false");
        break;
    case G_TYPE_STRING:
        put_string(out, json_node_get_string(n));
        break;
    default:
        g_string_append(out, "null");
        break;
    }
}

void qmp_json_append(GString *out, JsonNode *node, bool pretty)
{
    put_node(out, node, pretty, 0);
}
