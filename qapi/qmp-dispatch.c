/* SPDX-License-Identifier: MIT */
/*
 * qmp-dispatch.c: the QMP request -> reply step (see qmp-dispatch.h).
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

struct json_value *qmp_error_reply(enum error_class cls, const char *desc,
                                   const struct json_value *id)
{
    struct json_value *err = json_new_object();
    struct json_value *o = json_new_object();

    json_object_set_static(err, "class",
                           json_new_string(qmp_error_class_name(cls)));
    json_object_set_static(err, "desc", json_new_string(desc));
    json_object_set_static(o, "error", err);
    if (id) {
        json_object_set_static(o, "id", json_copy(id));
    }
    return o;
}

static struct json_value *reply_err(Error *err, const struct json_value *id)
{
    struct json_value *r =
        qmp_error_reply(error_get_class(err), error_get_pretty(err), id);
    error_free(err);
    return r;
}

/* Does the capability list ask for "oob"?  (Already validated.) */
static bool wants_oob(const struct json_value *args)
{
    struct json_value *en = json_object_get(args, "enable");

    if (!json_is(en, JSON_ARRAY)) {
        return false;
    }
    for (size_t i = 0; i < json_array_len(en); i++) {
        const char *s = json_string(json_array_get(en, i));
        if (s && strcmp(s, "oob") == 0) {
            return true;
        }
    }
    return false;
}

/* An error reply whose description is printf-formatted. */
static struct json_value *error_replyf(const struct json_value *id,
                                       const char *fmt, ...) PRINTF_FMT(2, 3);

static struct json_value *error_replyf(const struct json_value *id,
                                       const char *fmt, ...)
{
    struct json_value *ret;
    va_list ap;
    char *m;

    va_start(ap, fmt);
    m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    ret = qmp_error_reply(ERROR_CLASS_GENERIC, m, id);
    g_free(m);
    return ret;
}

struct json_value *qmp_dispatch(struct qmp_dispatcher *d,
                                const struct json_value *req)
{
    const struct json_value *id, *exec = NULL, *val, *args = NULL;
    /* no "arguments": an empty object, without an allocation */
    const struct json_value empty = {.type = JSON_OBJECT};
    struct json_value *ret, *rv;
    const char *name;
    bool oob = false;
    const struct qmp_command_def *cmd;
    Error *err = NULL;

    if (!json_is(req, JSON_OBJECT)) {
        return qmp_error_reply(ERROR_CLASS_GENERIC,
                               "QMP input must be a JSON object", NULL);
    }
    id = json_object_get(req, "id");

    for (size_t i = 0; i < json_object_len(req); i++) {
        const char *key = json_object_member(req, i)->key;
        val = json_object_member(req, i)->val;
        if (strcmp(key, "execute") == 0 ||
            (strcmp(key, "exec-oob") == 0 && d->oob)) {
            if (!json_is(val, JSON_STRING)) {
                return error_replyf(
                    id, "QMP input member '%s' must be a string", key);
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
            if (!json_is(val, JSON_OBJECT)) {
                return qmp_error_reply(ERROR_CLASS_GENERIC,
                                       "QMP input member 'arguments' must "
                                       "be an object",
                                       id);
            }
            args = val;
        } else if (strcmp(key, "id") != 0) {
            return error_replyf(id, "QMP input member '%s' is unexpected", key);
        }
    }
    if (!exec) {
        return qmp_error_reply(ERROR_CLASS_GENERIC,
                               "QMP input lacks member 'execute'", id);
    }
    name = json_string(exec);
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
        return error_replyf(id, "The command %s does not support OOB", name);
    }
    if (!args) {
        args = &empty;
    }
    rv = cmd->fn(d->m, args, &err);
    if (!rv) {
        ret = reply_err(err, id);
    } else {
        if (!d->negotiated) {
            /* qmp_capabilities validated its arguments: switch modes */
            d->negotiated = true;
            d->oob = wants_oob(args);
        }
        if (cmd->flags & QMP_CMD_NO_SUCCESS_RESPONSE) {
            json_free(rv);
            ret = NULL;
        } else {
            ret = json_new_object();
            json_object_set_static(ret, "return", rv);
            if (id) {
                json_object_set_static(ret, "id", json_copy(id));
            }
        }
    }
    return ret;
}

/* Parses one complete message (from the splitter) and dispatches it.
 * json_parse() refuses duplicate keys, which QMP must not resolve either
 * way ({"execute": "query-status", "execute": "quit"}). */
struct json_value *qmp_dispatch_text(struct qmp_dispatcher *d, const char *text,
                                     size_t len)
{
    char *err = NULL;
    struct json_value *root = json_parse(text, len, &err);
    struct json_value *ret;

    if (!root) {
        ret = error_replyf(NULL, "JSON parse error, %s", err);
        g_free(err);
        return ret;
    }
    ret = qmp_dispatch(d, root);
    json_free(root);
    return ret;
}
