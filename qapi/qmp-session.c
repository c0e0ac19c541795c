/* SPDX-License-Identifier: MIT */
/*
 * qmp-session.c: a QMP conversation (see qmp-session.h).  Commands run to
 * completion on the caller's thread (the main loop), so in-band replies
 * come out in order and exec-oob needs no queue to jump.
 */
#include "util/common.h"
#include "qapi/qmp-session.h"
#include "qapi/json-stream.h"
#include "qapi/json-parse.h"

struct qmp_session {
    struct qmp_dispatcher disp;
    struct json_stream *js;
    bool pretty;
    struct qmp_transport t;
    void *opaque;
    GString *out;
    GByteArray *held; /* input not run yet: the client is behind */
};

static bool session_send(struct qmp_session *s, GString *text, bool event)
{
    g_string_append(text, "\r\n");
    return s->t.write(s->opaque, text->str, text->len, event);
}

static bool session_busy(struct qmp_session *s)
{
    return s->t.busy && s->t.busy(s->opaque);
}

static void session_reply(struct qmp_session *s, struct json_value *reply)
{
    if (!reply) {
        return;
    }
    g_string_truncate(s->out, 0);
    qmp_json_append(s->out, reply, s->pretty);
    json_free(reply);
    session_send(s, s->out, false);
    if (session_busy(s)) {
        json_stream_stop(s->js); /* the rest waits in s->held */
    }
}

static void on_message(void *opaque, const char *text, size_t len)
{
    struct qmp_session *s = opaque;

    session_reply(s, qmp_dispatch_text(&s->disp, text, len));
}

static void on_error(void *opaque, const char *msg)
{
    struct qmp_session *s = opaque;

    session_reply(s, qmp_error_reply(ERROR_CLASS_GENERIC, msg, NULL));
}

static const struct json_stream_ops session_js_ops = {
    .message = on_message,
    .error = on_error,
};

struct qmp_session *qmp_session_new(struct machine *m,
                                    const struct qmp_command_def *cmds,
                                    size_t nr_cmds, bool pretty,
                                    const struct qmp_transport *t, void *opaque)
{
    struct qmp_session *s = g_new0(struct qmp_session, 1);

    qmp_dispatcher_init(&s->disp, m, cmds, nr_cmds);
    s->js = json_stream_new(QMP_MAX_MESSAGE, QMP_MAX_DEPTH, &session_js_ops, s);
    s->pretty = pretty;
    s->t = *t;
    s->opaque = opaque;
    s->out = g_string_sized_new(256);
    s->held = g_byte_array_new();
    return s;
}

void qmp_session_free(struct qmp_session *s)
{
    if (s) {
        json_stream_free(s->js);
        g_string_free(s->out, TRUE);
        g_byte_array_unref(s->held);
        g_free(s);
    }
}

void qmp_session_greet(struct qmp_session *s)
{
    GString *g = g_string_new(NULL);

    qmp_dispatcher_reset(&s->disp);
    json_stream_reset(s->js);
    g_byte_array_set_size(s->held, 0);
    g_string_printf(g,
                    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": %d, "
                    "\"minor\": %d, \"major\": %d}, \"package\": "
                    "\"vireo-%s\"}, \"capabilities\": [\"oob\"]}}",
                    VIREO_QEMU_MICRO, VIREO_QEMU_MINOR, VIREO_QEMU_MAJOR,
                    VIREO_VERSION);
    session_send(s, g, false);
    g_string_free(g, TRUE);
}

void qmp_session_input(struct qmp_session *s, const uint8_t *buf, size_t len)
{
    size_t n = 0;

    if (!s->held->len && !session_busy(s)) {
        n = json_stream_feed(s->js, buf, len);
    }
    if (n < len) {
        g_byte_array_append(s->held, buf + n, (guint)(len - n));
        qmp_session_resume(s);
    }
}

bool qmp_session_resume(struct qmp_session *s)
{
    while (s->held->len && !session_busy(s)) {
        size_t n = json_stream_feed(s->js, s->held->data, s->held->len);
        g_byte_array_remove_range(s->held, 0, (guint)n);
    }
    return s->held->len == 0;
}

size_t qmp_session_held(const struct qmp_session *s)
{
    return s->held->len;
}

bool qmp_session_event(struct qmp_session *s, const char *name,
                       const char *data_json, gint64 now_us)
{
    GString *e;
    bool ok;

    if (!s->disp.negotiated) {
        return true;
    }
    e = g_string_sized_new(128);
    g_string_append_printf(
        e,
        "{\"timestamp\": {\"seconds\": %" PRId64 ", \"microseconds\": %" PRId64
        "}, \"event\": \"%s\"",
        now_us / G_USEC_PER_SEC, now_us % G_USEC_PER_SEC, name);
    if (data_json) {
        char *err = NULL;
        struct json_value *n = json_parse(data_json, strlen(data_json), &err);
        if (n) {
            g_string_append(e, ", \"data\": ");
            qmp_json_append(e, n, false);
            json_free(n);
        }
        g_free(err);
    }
    g_string_append_c(e, '}');
    ok = session_send(s, e, true);
    g_string_free(e, TRUE);
    return ok;
}

bool qmp_session_negotiated(const struct qmp_session *s)
{
    return s->disp.negotiated;
}
