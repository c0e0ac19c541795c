/* SPDX-License-Identifier: MIT */
/*
 * test-qmp-server.c: the real QMP monitor (qapi/qmp-server.c on a unix
 * socket chardev, the real command table, a machine with no KVM) driven
 * by clients over the socket while the test pumps the machine's
 * GMainContext: pipelining thousands of commands, a reply larger than
 * any buffer, a client that pauses or stops reading, a disconnect that
 * must not hit the next client, and stray bytes.  The expected behaviour
 * is QEMU 7.2's on the same input (no disconnect, every reply).
 */
#include "util/common.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "hw/char/chardev.h"
#include "qapi/monitor.h"
#include "system/machine.h"

#define QUERY_STATUS "{\"execute\":\"query-status\"}"
#define STATUS_REPLY                                                           \
    "{\"return\": {\"running\": true, \"singlestep\": false, \"status\": "     \
    "\"running\"}}"

struct srv {
    char *dir, *path;
    struct machine m;
    struct machine_config cfg;
    struct mon_spec spec;
    struct chardev *chr;
};

struct client {
    int fd;
    GString *in; /* received, not consumed yet */
    bool eof;
};

static void srv_start(struct srv *s)
{
    Error *err = NULL;
    char *text;

    memset(s, 0, sizeof(*s));
    s->dir = g_dir_make_tmp("qmp-server-XXXXXX", NULL);
    g_assert_nonnull(s->dir);
    s->path = g_build_filename(s->dir, "qmp.sock", NULL);
    s->m.ctx = g_main_context_new();
    s->m.state = RUN_STATE_RUNNING;
    s->m.listeners = g_ptr_array_new_with_free_func(g_free);
    s->m.chardevs = g_ptr_array_new();
    text = g_strdup_printf("socket,id=qmp,path=%s,server=on,wait=off", s->path);
    s->chr = chardev_new(&s->m, text, &err);
    g_free(text);
    g_assert_null(err);
    g_ptr_array_add(s->m.chardevs, s->chr);
    s->spec.chardev_id = (char *)"qmp";
    s->spec.mode = MON_MODE_CONTROL;
    s->cfg.monitors = g_ptr_array_new();
    g_ptr_array_add(s->cfg.monitors, &s->spec);
    s->m.cfg = &s->cfg;
    g_assert_true(monitor_init_all(&s->m, &err));
    g_assert_null(err);
}

static void srv_stop(struct srv *s)
{
    monitor_free_all(&s->m);
    chardev_free(s->chr);
    g_ptr_array_free(s->m.chardevs, TRUE);
    g_ptr_array_free(s->m.listeners, TRUE);
    g_ptr_array_free(s->cfg.monitors, TRUE);
    g_main_context_unref(s->m.ctx);
    rmdir(s->dir);
    g_free(s->path);
    g_free(s->dir);
}

/* Runs whatever the server has to do now. */
static void pump(struct srv *s)
{
    for (int i = 0; i < 10000 && g_main_context_iteration(s->m.ctx, FALSE);
         i++) {
    }
}

static void cl_connect(struct srv *s, struct client *c)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(c->fd, >=, 0);
    g_strlcpy(sa.sun_path, s->path, sizeof(sa.sun_path));
    g_assert_cmpint(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(fcntl(c->fd, F_SETFL, O_NONBLOCK), ==, 0);
    c->in = g_string_new(NULL);
    c->eof = false;
}

static void cl_close(struct client *c)
{
    close(c->fd);
    g_string_free(c->in, TRUE);
}

/* Reads what has arrived; true if anything did. */
static bool cl_fill(struct client *c)
{
    char buf[65536];
    bool got = false;
    ssize_t n;

    while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0) {
        g_string_append_len(c->in, buf, n);
        got = true;
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        c->eof = true;
    }
    return got;
}

/* Sends all of data, reading replies meanwhile (a client that reads). */
static void cl_send(struct srv *s, struct client *c, const char *data,
                    size_t len)
{
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

    while (len) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else {
            g_assert_cmpint(errno, ==, EAGAIN);
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_usleep(100);
        }
        pump(s);
        cl_fill(c);
        g_assert_false(c->eof);
    }
}

/* The next CRLF-terminated line (without CRLF); fails after 30 s. */
static char *cl_line(struct srv *s, struct client *c)
{
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    const char *end;

    while (!(end = strstr(c->in->str, "\r\n"))) {
        g_assert_false(c->eof);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        pump(s);
        if (!cl_fill(c)) {
            g_usleep(100);
        }
    }
    {
        size_t n = (size_t)(end - c->in->str);
        char *line = g_strndup(c->in->str, n);
        g_string_erase(c->in, 0, (gssize)(n + 2));
        return line;
    }
}

static void expect_line(struct srv *s, struct client *c, const char *want)
{
    char *got = cl_line(s, c);

    g_assert_cmpstr(got, ==, want);
    g_free(got);
}

static void cl_negotiate(struct srv *s, struct client *c)
{
    const char *neg = "{\"execute\":\"qmp_capabilities\"}";
    char *greeting = cl_line(s, c);

    g_assert_true(g_str_has_prefix(greeting, "{\"QMP\": "));
    g_free(greeting);
    cl_send(s, c, neg, strlen(neg));
    expect_line(s, c, "{\"return\": {}}");
}

/* Pumps for ms milliseconds, reading nothing. */
static void idle_for(struct srv *s, unsigned ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;

    while (g_get_monotonic_time() < end) {
        pump(s);
        g_usleep(1000);
    }
}

/* True once the server has closed c (reads everything first). */
static bool cl_wait_eof(struct srv *s, struct client *c, unsigned ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;

    while (!c->eof && g_get_monotonic_time() < end) {
        pump(s);
        cl_fill(c);
        g_string_truncate(c->in, 0);
        g_usleep(1000);
    }
    return c->eof;
}

/*
 * Sends data while reading what comes back, as a client that pipelines
 * does; every reply must be STATUS_REPLY and n of them must come.
 * Returns the most output the server held unsent meanwhile.
 */
static size_t cl_pipeline(struct srv *s, struct client *c, const char *data,
                          size_t len, size_t n)
{
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    size_t sent = 0, got = 0, most_pending = 0;

    while (got < n) {
        ssize_t k = 0;
        const char *p, *end;

        if (sent < len) {
            k = send(c->fd, data + sent, len - sent, MSG_NOSIGNAL);
            if (k > 0) {
                sent += (size_t)k;
            } else {
                g_assert_cmpint(errno, ==, EAGAIN);
            }
        }
        pump(s);
        most_pending = MAX(most_pending, chardev_out_pending(s->chr));
        if (!cl_fill(c) && k <= 0) {
            g_usleep(100);
        }
        p = c->in->str;
        while ((end = strstr(p, "\r\n"))) {
            g_assert_cmpmem(p, end - p, STATUS_REPLY, strlen(STATUS_REPLY));
            got++;
            p = end + 2;
        }
        g_string_erase(c->in, 0, p - c->in->str);
        g_assert_false(c->eof);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    g_assert_cmpuint(got, ==, n);
    g_assert_cmpstr(c->in->str, ==, "");
    return most_pending;
}

static GString *many_commands(unsigned n)
{
    GString *many = g_string_new(NULL);

    for (unsigned i = 0; i < n; i++) {
        g_string_append(many, QUERY_STATUS);
    }
    return many;
}

/*
 * 30000 commands in one go, replies read as they come: every one is
 * answered, in order, and the connection stays up, while the server never
 * holds more than about one reply beyond what the socket holds.
 */
static void test_pipelining(void)
{
    struct srv s;
    struct client c;
    GString *many = many_commands(30000);

    srv_start(&s);
    cl_connect(&s, &c);
    cl_negotiate(&s, &c);
    /* back-pressure: output beyond what the socket holds stays small */
    g_assert_cmpuint(cl_pipeline(&s, &c, many->str, many->len, 30000), <=,
                     64 * 1024);
    /* and the client is served normally afterwards */
    cl_send(&s, &c, QUERY_STATUS, strlen(QUERY_STATUS));
    expect_line(&s, &c, STATUS_REPLY);
    cl_close(&c);
    g_string_free(many, TRUE);
    srv_stop(&s);
}

/* A valid request with a 1 MiB id: its reply is bigger than every buffer
 * on the way and is delivered whole. */
static void test_huge_reply(void)
{
    struct srv s;
    struct client c;
    GString *req = g_string_new("{\"execute\":\"query-status\",\"id\":\"");
    GString *want = g_string_new(NULL);
    char *line;

    srv_start(&s);
    cl_connect(&s, &c);
    cl_negotiate(&s, &c);
    for (int i = 0; i < 1024 * 1024; i++) {
        g_string_append_c(req, (char)('a' + i % 26));
    }
    g_string_append_printf(want, "%s, \"id\": \"%s\"}",
                           "{\"return\": {\"running\": true, \"singlestep\": "
                           "false, \"status\": \"running\"}",
                           req->str + strlen("{\"execute\":\"query-status\","
                                             "\"id\":\""));
    g_string_append(req, "\"}" QUERY_STATUS);
    cl_send(&s, &c, req->str, req->len);
    line = cl_line(&s, &c);
    g_assert_cmpuint(strlen(line), ==, want->len);
    g_assert_true(strcmp(line, want->str) == 0);
    g_free(line);
    expect_line(&s, &c, STATUS_REPLY);
    cl_close(&c);
    g_string_free(req, TRUE);
    g_string_free(want, TRUE);
    srv_stop(&s);
}

/* A client that sends commands and reads nothing for a while keeps its
 * connection and then gets every reply. */
static void test_paused_reader(void)
{
    enum { N = 100000 };
    struct srv s;
    struct client c;
    GString *many = many_commands(N);
    size_t sent = 0;

    srv_start(&s);
    cl_connect(&s, &c);
    cl_negotiate(&s, &c);
    /* send until the server stops taking input (its client is behind) */
    for (int idle = 0; idle < 200 && sent < many->len;) {
        ssize_t n =
            send(c.fd, many->str + sent, many->len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            idle = 0;
        } else {
            idle++;
            g_usleep(1000);
        }
        pump(&s);
    }
    g_assert_cmpuint(sent, <, many->len);
    g_assert_cmpuint(chardev_out_pending(s.chr), >, 0);
    idle_for(&s, 500);
    /* still connected: the rest goes through once it reads */
    cl_pipeline(&s, &c, many->str + sent, many->len - sent, N);
    cl_close(&c);
    g_string_free(many, TRUE);
    srv_stop(&s);
}

/* A client that stops reading altogether is disconnected after the stall
 * timeout; the next client is served. */
static void test_stopped_reader(void)
{
    struct srv s;
    struct client c, c2;
    GString *many = many_commands(100000);

    srv_start(&s);
    monitor_set_stall_timeout(&s.m, 100);
    cl_connect(&s, &c);
    cl_negotiate(&s, &c);
    g_assert_cmpint(send(c.fd, many->str, many->len, MSG_NOSIGNAL), >, 0);
    idle_for(&s, 50);
    g_assert_cmpuint(chardev_out_pending(s.chr), >, 0);
    idle_for(&s, 1000);
    g_assert_true(cl_wait_eof(&s, &c, 10000));
    cl_close(&c);
    cl_connect(&s, &c2);
    cl_negotiate(&s, &c2);
    cl_send(&s, &c2, QUERY_STATUS, strlen(QUERY_STATUS));
    expect_line(&s, &c2, STATUS_REPLY);
    cl_close(&c2);
    g_string_free(many, TRUE);
    srv_stop(&s);
}

/*
 * A disconnect scheduled for a client (here: it fell more than the event
 * backlog behind) that hangs up before it runs must not hit the client
 * that connects next on the same socket.
 */
static void test_cut_not_inherited(void)
{
    struct srv s;
    struct client c, c2;

    srv_start(&s);
    cl_connect(&s, &c);
    cl_negotiate(&s, &c);
    /* events the client never reads, past every buffer and bound */
    for (int i = 0; i < 100000; i++) {
        machine_emit_event(&s.m, "STOP", NULL);
    }
    /* it hangs up, and the server sees that before the disconnect runs
     * (whether it does depends on GLib's dispatch order: force it) */
    cl_close(&c);
    g_assert_true(chardev_disconnect(s.chr));
    cl_connect(&s, &c2);
    cl_negotiate(&s, &c2);
    idle_for(&s, 100);
    cl_send(&s, &c2, QUERY_STATUS, strlen(QUERY_STATUS));
    expect_line(&s, &c2, STATUS_REPLY);
    g_assert_false(cl_wait_eof(&s, &c2, 100));
    cl_close(&c2);
    srv_stop(&s);
}

/* Stray bytes as QEMU 7.2 answers them; the commands after them run. */
static void test_stray_bytes(void)
{
    static const char input[] =
        "\x1b[A" QUERY_STATUS "[A" QUERY_STATUS
        "{\"execute\":\"query-status\0\"}" QUERY_STATUS
        "{\"execute\":\"query-status\\u0000\"}" QUERY_STATUS;
    struct srv s;
    struct client c;

    srv_start(&s);
    cl_connect(&s, &c);
    cl_negotiate(&s, &c);
    cl_send(&s, &c, input, sizeof(input) - 1);
    expect_line(&s, &c,
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON "
                "parse error, stray '\\u001B'\"}}");
    expect_line(&s, &c,
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON "
                "parse error, stray 'A'\"}}");
    expect_line(&s, &c, STATUS_REPLY);
    expect_line(&s, &c,
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON "
                "parse error, stray 'A'\"}}");
    expect_line(&s, &c, STATUS_REPLY);
    expect_line(&s, &c,
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON "
                "parse error, stray '\\\"query-status'\"}}");
    expect_line(&s, &c,
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON "
                "parse error, expecting value\"}}");
    expect_line(&s, &c, STATUS_REPLY);
    /* the JSON escape \u0000 is no stray byte: QEMU takes it */
    expect_line(&s, &c,
                "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
                "command query-status\\u0000 has not been found\"}}");
    expect_line(&s, &c, STATUS_REPLY);
    cl_close(&c);
    srv_stop(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-server/pipelining", test_pipelining);
    g_test_add_func("/qmp-server/huge-reply", test_huge_reply);
    g_test_add_func("/qmp-server/paused-reader", test_paused_reader);
    g_test_add_func("/qmp-server/stopped-reader", test_stopped_reader);
    g_test_add_func("/qmp-server/cut-not-inherited", test_cut_not_inherited);
    g_test_add_func("/qmp-server/stray-bytes", test_stray_bytes);
    return g_test_run();
}
