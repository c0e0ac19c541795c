/* SPDX-License-Identifier: MIT */
/*
 * test-qmp-dispatch.c: the QMP protocol layer (qmp-session + dispatch) on
 * the unit-test schema: greeting, negotiation, id echo, every request
 * error, exec-oob, error classes, events, CRLF framing, no-reply commands
 * and flow control: a client behind on reading gets no more commands run
 * until it catches up, then all of them.
 */
#include "util/common.h"
#include "qapi/qmp-session.h"
#include "test-qmp-handlers.h"

struct conn {
    struct tq_machine tm;
    struct qmp_session *s;
    GString *out;
    size_t budget; /* unread output beyond which the client is behind */
    size_t unread; /* output the client has not read yet */
};

static bool conn_write(void *opaque, const char *data, size_t len, bool event)
{
    struct conn *c = opaque;

    g_string_append_len(c->out, data, (gssize)len);
    c->unread += len;
    return true;
}

static bool conn_busy(void *opaque)
{
    struct conn *c = opaque;

    return c->unread > c->budget;
}

static const struct qmp_transport conn_transport = {
    .write = conn_write,
    .busy = conn_busy,
};

static void conn_open(struct conn *c, bool negotiate)
{
    memset(c, 0, sizeof(*c));
    c->tm.events = g_ptr_array_new_with_free_func(g_free);
    c->out = g_string_new(NULL);
    c->budget = SIZE_MAX;
    c->s = qmp_session_new((struct machine *)(void *)&c->tm, tq_commands,
                           tq_nr_commands, false, &conn_transport, c);
    qmp_session_greet(c->s);
    if (negotiate) {
        const char *m = "{\"execute\": \"qmp_capabilities\"}";
        qmp_session_input(c->s, (const uint8_t *)m, strlen(m));
        g_string_truncate(c->out, 0);
    }
}

static void conn_close(struct conn *c)
{
    qmp_session_free(c->s);
    g_string_free(c->out, TRUE);
    g_ptr_array_free(c->tm.events, TRUE);
}

/* Sends text; returns everything the server wrote (and clears it). */
static char *tx(struct conn *c, const char *text)
{
    qmp_session_input(c->s, (const uint8_t *)text, strlen(text));
    char *r = g_strdup(c->out->str);
    g_string_truncate(c->out, 0);
    return r;
}

static void expect(struct conn *c, const char *in, const char *out)
{
    char *got = tx(c, in);
    char *want = g_strconcat(out, "\r\n", NULL);

    if (strcmp(got, want) != 0) {
        g_test_message("sent %s\n  got    %s  expect %s", in, got, want);
    }
    g_assert_cmpstr(got, ==, want);
    g_free(got);
    g_free(want);
}

static void test_greeting(void)
{
    struct conn c;
    char *want = g_strdup_printf(
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": %d, \"minor\": %d, "
        "\"major\": %d}, \"package\": \"vireo-%s\"}, \"capabilities\": "
        "[\"oob\"]}}\r\n",
        VIREO_QEMU_MICRO, VIREO_QEMU_MINOR, VIREO_QEMU_MAJOR, VIREO_VERSION);

    conn_open(&c, false);
    g_assert_cmpstr(c.out->str, ==, want);
    g_free(want);
    conn_close(&c);
}

static void test_negotiation(void)
{
    struct conn c;

    conn_open(&c, false);
    g_string_truncate(c.out, 0);
    expect(&c, "{\"execute\": \"test-oob\", \"id\": 1}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
           "\"Expecting capabilities negotiation with 'qmp_capabilities'\"}, "
           "\"id\": 1}");
    g_assert_cmpuint(c.tm.calls, ==, 0);
    expect(&c,
           "{\"execute\": \"qmp_capabilities\", \"arguments\": "
           "{\"enable\": [\"bogus\"]}}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter "
           "'enable[0]' does not accept value 'bogus'\"}}");
    expect(&c, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");
    expect(&c, "{\"execute\": \"qmp_capabilities\"}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
           "\"Capabilities negotiation is already complete, command "
           "ignored\"}}");
    expect(&c, "{\"execute\": \"test-oob\"}", "{\"return\": 42}");
    /* a new client starts over */
    qmp_session_greet(c.s);
    g_string_truncate(c.out, 0);
    g_assert_false(qmp_session_negotiated(c.s));
    conn_close(&c);
}

static void test_id_echo(void)
{
    struct conn c;

    conn_open(&c, true);
    expect(&c, "{\"execute\": \"test-oob\", \"id\": \"libvirt-7\"}",
           "{\"return\": 42, \"id\": \"libvirt-7\"}");
    expect(&c, "{\"id\": [1, {\"a\": null}], \"execute\": \"test-oob\"}",
           "{\"return\": 42, \"id\": [1, {\"a\": null}]}");
    expect(&c, "{\"execute\": \"test-oob\", \"id\": 1.5}",
           "{\"return\": 42, \"id\": 1.5}");
    expect(&c, "{\"execute\": \"nope\", \"id\": false}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
           "command nope has not been found\"}, \"id\": false}");
    conn_close(&c);
}

static void test_bad_requests(void)
{
    struct conn c;

    conn_open(&c, true);
    expect(&c, "[1, 2]",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "must be a JSON object\"}}");
    expect(&c, "123 ",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "must be a JSON object\"}}");
    expect(&c, "{\"foo\": 1}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "member 'foo' is unexpected\"}}");
    expect(&c, "{\"id\": 3}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "lacks member 'execute'\"}, \"id\": 3}");
    expect(&c, "{\"execute\": 1}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "member 'execute' must be a string\"}}");
    expect(&c, "{\"execute\": \"test-oob\", \"arguments\": []}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "member 'arguments' must be an object\"}}");
    expect(&c, "{\"execute\": \"test-oob\", \"arguments\": {\"a\": 1}}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter "
           "'a' is unexpected\"}}");
    expect(&c, "{\"execute\": \"test-oob\", \"control\": {}, \"id\": \"x\"}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "member 'control' is unexpected\"}, \"id\": \"x\"}");
    {
        char *r = tx(&c, "{\"execute\": }");
        g_assert_true(g_str_has_prefix(
            r, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON "
               "parse error, "));
        g_assert_true(g_str_has_suffix(r, "\"}}\r\n"));
        g_free(r);
    }
    expect(&c, "{\"execute\": \"test-oob\", \"execute\": \"test-no-reply\"}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON "
           "parse error, duplicate key\"}}");
    expect(&c,
           "{\"execute\": \"test-ints\", \"arguments\": {\"i\": 1, "
           "\"i\": 2}}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON "
           "parse error, duplicate key\"}}");
    g_assert_cmpuint(c.tm.calls, ==, 0);
    /* after all that the session still works */
    expect(&c, "{\"execute\": \"test-oob\"}", "{\"return\": 42}");
    conn_close(&c);
}

static void test_error_class(void)
{
    struct conn c;

    conn_open(&c, true);
    expect(&c, "{\"execute\": \"test-fail\"}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"test-fail "
           "failed as asked\"}}");
    expect(&c, "{\"execute\": \"test-fail\", \"arguments\": {\"class\": 3}}",
           "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"test-fail "
           "failed as asked\"}}");
    conn_close(&c);
}

static void test_oob(void)
{
    struct conn c;

    conn_open(&c, true);
    /* oob not enabled: exec-oob is just an unknown member */
    expect(&c, "{\"exec-oob\": \"test-oob\"}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "member 'exec-oob' is unexpected\"}}");
    conn_close(&c);

    conn_open(&c, false);
    g_string_truncate(c.out, 0);
    expect(&c,
           "{\"execute\": \"qmp_capabilities\", \"arguments\": "
           "{\"enable\": [\"oob\"]}}",
           "{\"return\": {}}");
    expect(&c, "{\"exec-oob\": \"test-oob\", \"id\": 9}",
           "{\"return\": 42, \"id\": 9}");
    expect(&c, "{\"exec-oob\": \"test-list\"}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"The command "
           "test-list does not support OOB\"}}");
    expect(&c, "{\"exec-oob\": \"test-oob\", \"execute\": \"test-oob\"}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
           "member 'exec-oob' is unexpected\"}}");
    conn_close(&c);
}

static void test_events(void)
{
    struct conn c;
    char *r;

    conn_open(&c, false);
    g_string_truncate(c.out, 0);
    qmp_session_event(c.s, "STOP", NULL, 1234567890123456);
    g_assert_cmpstr(c.out->str, ==, ""); /* not negotiated: no events */
    conn_close(&c);

    conn_open(&c, true);
    qmp_session_event(c.s, "STOP", NULL, 1234567890123456);
    qmp_session_event(c.s, "RESET",
                      "{\"guest\":false,\"reason\":\"host-qmp-system-reset\"}",
                      5000001);
    r = tx(&c, "");
    g_assert_cmpstr(r, ==,
                    "{\"timestamp\": {\"seconds\": 1234567890, "
                    "\"microseconds\": 123456}, \"event\": \"STOP\"}\r\n"
                    "{\"timestamp\": {\"seconds\": 5, \"microseconds\": 1}, "
                    "\"event\": \"RESET\", \"data\": {\"guest\": false, "
                    "\"reason\": \"host-qmp-system-reset\"}}\r\n");
    g_free(r);
    conn_close(&c);
}

static void test_no_reply(void)
{
    struct conn c;

    conn_open(&c, true);
    expect(&c, "{\"execute\": \"test-no-reply\"}{\"execute\": \"test-oob\"}",
           "{\"return\": 42}");
    g_assert_cmpuint(c.tm.calls, ==, 2);
    conn_close(&c);
}

static void test_busy_client(void)
{
    struct conn c;
    GString *many = g_string_new(NULL);
    const char *one = "{\"execute\": \"test-oob\"}";
    const size_t reply = strlen("{\"return\": 42}\r\n");
    char *r;

    conn_open(&c, true);
    c.budget = 1000;
    c.unread = 0;
    for (int i = 0; i < 10000; i++) {
        g_string_append(many, one);
    }
    r = tx(&c, many->str);
    /* commands stopped once the client was behind: one reply beyond the
     * budget at most, the rest of the input is held, nothing is lost */
    g_assert_cmpuint(strlen(r), >, 1000);
    g_assert_cmpuint(strlen(r), <=, 1000 + reply);
    g_assert_cmpuint(c.tm.calls, ==, strlen(r) / reply);
    g_assert_cmpuint(qmp_session_held(c.s), ==,
                     many->len - c.tm.calls * strlen(one));
    g_free(r);
    /* more input while behind: held behind the rest, nothing runs */
    r = tx(&c, one);
    g_assert_cmpstr(r, ==, "");
    g_free(r);
    g_assert_false(qmp_session_resume(c.s));
    g_assert_cmpuint(c.tm.calls, <, 100);
    /* the client reads what it has: the rest runs until it is behind
     * again, and all of it once it keeps up */
    c.unread = 0;
    g_assert_false(qmp_session_resume(c.s));
    g_assert_cmpuint(c.tm.calls, <, 200);
    c.budget = SIZE_MAX;
    g_assert_true(qmp_session_resume(c.s));
    g_assert_cmpuint(c.tm.calls, ==, 10001);
    g_assert_cmpuint(qmp_session_held(c.s), ==, 0);
    /* a reconnect drops held input */
    c.budget = 0;
    r = tx(&c, "{\"execute\": \"test-oob\"}{\"execute\": \"test-oob\"}");
    g_free(r);
    g_assert_cmpuint(qmp_session_held(c.s), >, 0);
    qmp_session_greet(c.s);
    g_assert_cmpuint(qmp_session_held(c.s), ==, 0);
    g_string_free(many, TRUE);
    conn_close(&c);
}

static void test_pretty(void)
{
    struct conn c;
    struct qmp_session *s;

    conn_open(&c, false);
    s = qmp_session_new((struct machine *)(void *)&c.tm, tq_commands,
                        tq_nr_commands, true, &conn_transport, &c);
    qmp_session_input(s, (const uint8_t *)"{\"execute\":\"qmp_capabilities\"}",
                      30);
    g_string_truncate(c.out, 0);
    qmp_session_input(s, (const uint8_t *)"{\"execute\":\"test-list\"}", 23);
    g_assert_cmpstr(c.out->str, ==,
                    "{\n    \"return\": [\n        {\n            \"x\": 0\n"
                    "        },\n        {\n            \"x\": 1\n        },\n"
                    "        {\n            \"x\": 2\n        }\n    ]\n}\r\n");
    qmp_session_free(s);
    conn_close(&c);
}

static void test_ascii_output(void)
{
    struct conn c;

    conn_open(&c, true);
    expect(&c, "{\"execute\": \"nope\xc3\xa9\xf0\x9f\x98\x80\"}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
           "command nope\\u00E9\\uD83D\\uDE00 has not been found\"}}");
    conn_close(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-dispatch/greeting", test_greeting);
    g_test_add_func("/qmp-dispatch/negotiation", test_negotiation);
    g_test_add_func("/qmp-dispatch/id-echo", test_id_echo);
    g_test_add_func("/qmp-dispatch/bad-requests", test_bad_requests);
    g_test_add_func("/qmp-dispatch/error-class", test_error_class);
    g_test_add_func("/qmp-dispatch/oob", test_oob);
    g_test_add_func("/qmp-dispatch/events", test_events);
    g_test_add_func("/qmp-dispatch/no-reply", test_no_reply);
    g_test_add_func("/qmp-dispatch/busy-client", test_busy_client);
    g_test_add_func("/qmp-dispatch/pretty", test_pretty);
    g_test_add_func("/qmp-dispatch/ascii-output", test_ascii_output);
    return g_test_run();
}
