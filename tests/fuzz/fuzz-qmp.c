/* SPDX-License-Identifier: MIT */
/*
 * fuzz-qmp.c: libFuzzer target for the QMP input path: the bounded JSON
 * splitter, JSON parsing, request checking and the generated argument
 * validation (the unit-test schema: every integer width, enums, nested
 * structs, lists, unions, alternates).  The first input byte picks the read
 * chunk size and whether the transport is busy (the client behind on
 * reading) beyond some output; the rest is the client's byte stream after
 * a negotiated greeting.
 *
 * Invariants checked: every server message is one CRLF-terminated line of
 * printable ASCII that parses as a JSON object with exactly one of
 * "return", "error" (with class and desc) or "event"/"QMP"; the splitter
 * never holds more than its limit; a busy transport gets at most one reply
 * more, and held input all runs once it is no longer busy.
 */
#include "util/common.h"
#include "qapi/qmp-session.h"
#include "qapi/json-parse.h"
#include "tests/unit/test-qmp-handlers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct tq_machine tm;
    size_t busy_after; /* unread output bytes that make the transport busy */
    size_t pending;    /* output the "client" has not read yet */
    bool busy_seen;    /* busy() said yes: at most one more reply */
    unsigned parsed;   /* lines fully parsed (capped: random input makes
                          thousands of identical stray-byte errors) */
};

static void check_line(struct fz *f, const char *line, size_t len)
{
    struct json_value *n, *e;
    unsigned kinds = 0;
    char *err = NULL;

    for (size_t i = 0; i < len; i++) {
        /* pretty is off: no raw control characters, ASCII only */
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e) {
            abort();
        }
    }
    if (f->parsed++ >= 32) {
        return;
    }
    n = json_parse(line, len, &err);
    if (!json_is(n, JSON_OBJECT)) {
        abort();
    }
    kinds += json_object_get(n, "return") != NULL;
    kinds += json_object_get(n, "QMP") != NULL;
    kinds += json_object_get(n, "event") != NULL;
    e = json_object_get(n, "error");
    if (e) {
        if (!json_is(e, JSON_OBJECT) || !json_object_get(e, "class") ||
            !json_object_get(e, "desc")) {
            abort();
        }
        kinds++;
    }
    if (kinds != 1) {
        abort();
    }
    json_free(n);
}

static bool fz_busy(void *opaque)
{
    struct fz *f = opaque;

    f->busy_seen = f->pending > f->busy_after;
    return f->busy_seen;
}

static bool fz_write(void *opaque, const char *buf, size_t len, bool event)
{
    struct fz *f = opaque;
    char *line;

    if (!event && f->busy_seen) {
        abort(); /* a command ran after the transport said it was busy */
    }
    f->pending += len;
    if (len < 2 || buf[len - 2] != '\r' || buf[len - 1] != '\n' ||
        memchr(buf, '\n', len - 1)) {
        abort();
    }
    line = g_strndup(buf, len - 2);
    check_line(f, line, len - 2);
    g_free(line);
    return true;
}

static const struct qmp_transport fz_transport = {
    .write = fz_write,
    .busy = fz_busy,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char neg[] =
        "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":"
        "[\"oob\"]}}";
    struct fz f = {0};
    struct qmp_session *s;
    size_t chunk;

    if (size < 1) {
        return 0;
    }
    chunk = (data[0] & 0x3f) + 1;
    f.busy_after = (data[0] & 0x40) ? 256 : SIZE_MAX;
    f.tm.events = g_ptr_array_new_with_free_func(g_free);
    s = qmp_session_new((struct machine *)(void *)&f.tm, tq_commands,
                        tq_nr_commands, false, &fz_transport, &f);
    qmp_session_greet(s);
    if (data[0] & 0x80) {
        qmp_session_input(s, (const uint8_t *)neg, sizeof(neg) - 1);
    }
    data++, size--;
    for (size_t off = 0; off < size; off += chunk) {
        qmp_session_input(s, data + off, MIN(chunk, size - off));
        if (qmp_session_held(s) && off / chunk % 3 == 2) {
            /* the client reads everything: the held input runs */
            f.pending = 0;
            f.busy_seen = false;
            if (!qmp_session_resume(s) && !f.busy_seen) {
                abort();
            }
        }
    }
    qmp_session_event(s, "TEST_PLAIN", NULL, 1);
    qmp_session_free(s);
    g_ptr_array_free(f.tm.events, TRUE);
    return 0;
}
