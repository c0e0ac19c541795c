/* SPDX-License-Identifier: MIT */
/*
 * qmp-dispatch.h: one QMP request text in, one reply out.  Knows the
 * protocol (negotiation mode, execute / exec-oob / arguments / id, error
 * classes) and nothing about sockets, so unit tests and the fuzzer drive
 * it directly.  Commands come from a generated command table.
 */
#ifndef QAPI_QMP_DISPATCH_H
#define QAPI_QMP_DISPATCH_H

#include "util/common.h"
#include "util/error.h"
#include "qapi/qapi-runtime.h"

struct qmp_dispatcher {
    struct machine *m;
    const struct qmp_command_def *cmds;
    size_t nr_cmds;
    bool negotiated; /* qmp_capabilities succeeded */
    bool oob;        /* the client enabled the "oob" capability */
};

void qmp_dispatcher_init(struct qmp_dispatcher *d, struct machine *m,
                         const struct qmp_command_def *cmds, size_t nr);
/* Back to negotiation mode (new client). */
void qmp_dispatcher_reset(struct qmp_dispatcher *d);
const struct qmp_command_def *qmp_find_command(const struct qmp_dispatcher *d,
                                               const char *name);

/*
 * Parses and runs one request.  Returns the reply object (a new node), or
 * NULL when the command sends no reply.  Never fails: errors are replies.
 */
struct json_value *qmp_dispatch_text(struct qmp_dispatcher *d, const char *text,
                                     size_t len);
/* The same for an already-parsed request. */
struct json_value *qmp_dispatch(struct qmp_dispatcher *d,
                                const struct json_value *req);

/* {"error": {"class": ..., "desc": ...}} with a copy of id (may be NULL). */
struct json_value *qmp_error_reply(enum error_class cls, const char *desc,
                                   const struct json_value *id);
const char *qmp_error_class_name(enum error_class cls);

/*
 * Serialises a value the way QEMU does: ": " and ", " separators (or
 * indented when pretty), non-ASCII escaped as \uXXXX, no trailing newline.
 */
static inline void qmp_json_append(GString *out, const struct json_value *v,
                                   bool pretty)
{
    json_write(out, v,
               pretty ? JSON_WRITE_PRETTY | JSON_WRITE_ASCII : JSON_WRITE_QMP);
}

#endif
