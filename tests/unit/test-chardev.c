/* SPDX-License-Identifier: MIT */
/*
 * test-chardev.c: chardev backends on real files, sockets (unix, tcp,
 * pre-opened fd, wait=on), ptys and stdio (in a subprocess), the mux and
 * its Ctrl-A escapes, can_read flow control, and the guarantee that
 * chardev_write() never blocks: a client that does not read or that
 * vanished must not stall the writer.
 */
#include "util/common.h"
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "system/machine.h"
#include "hw/char/chardev.h"

/* chardev.c calls this for Ctrl-A x; record it in the machine the way
 * runstate.c would (the real one needs the whole machine). */
void machine_request(struct machine *m, enum machine_req req,
                     enum shutdown_cause cause)
{
    g_mutex_lock(&m->req_lock);
    m->requests |= req;
    m->req_cause = cause;
    g_mutex_unlock(&m->req_lock);
}

struct fe_rec {
    GByteArray *data;
    int opened, closed, breaks, drained;
    size_t room;
};

static size_t rec_can_read(void *opaque)
{
    struct fe_rec *r = opaque;
    return r->room;
}

static void rec_read(void *opaque, const uint8_t *buf, size_t len)
{
    struct fe_rec *r = opaque;

    g_assert_cmpuint(len, <=, r->room);
    g_byte_array_append(r->data, buf, (guint)len);
    r->room -= len;
}

static void rec_event(void *opaque, enum chardev_event ev)
{
    struct fe_rec *r = opaque;

    if (ev == CHARDEV_OPENED) {
        r->opened++;
    } else if (ev == CHARDEV_CLOSED) {
        r->closed++;
    } else {
        r->breaks++;
    }
}

static void rec_init(struct fe_rec *r)
{
    memset(r, 0, sizeof(*r));
    r->data = g_byte_array_new();
    r->room = 1 << 20;
}

static void rec_clear(struct fe_rec *r)
{
    g_byte_array_unref(r->data);
}

static void rec_drained(void *opaque)
{
    struct fe_rec *r = opaque;

    r->drained++;
}

static struct chardev_frontend rec_fe(struct fe_rec *r)
{
    struct chardev_frontend fe = {
        .can_read = rec_can_read,
        .read = rec_read,
        .event = rec_event,
        .drained = rec_drained,
        .opaque = r,
    };
    return fe;
}

static bool rec_has(struct fe_rec *r, const char *s)
{
    return r->data->len == strlen(s) && !memcmp(r->data->data, s, r->data->len);
}

static void machine_setup(struct machine *m)
{
    memset(m, 0, sizeof(*m));
    m->signal_fd = -1; /* as machine_new: none (0 would be stdin) */
    m->req_event_fd = -1;
    m->ctx = g_main_context_new();
    m->chardevs = g_ptr_array_new();
    g_mutex_init(&m->req_lock);
}

static void machine_teardown(struct machine *m)
{
    /* dispatch what is left so sources are not leaked mid-flight */
    while (g_main_context_iteration(m->ctx, FALSE)) {
    }
    g_ptr_array_unref(m->chardevs);
    g_main_context_unref(m->ctx);
    g_mutex_clear(&m->req_lock);
}

/* Runs the context until cond(opaque) holds; fails after 5 s. */
#define SPIN_UNTIL(m, expr)                                                    \
    do {                                                                       \
        gint64 deadline_ = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;        \
        while (!(expr)) {                                                      \
            if (g_get_monotonic_time() > deadline_) {                          \
                g_error("timed out waiting for %s", #expr);                    \
            }                                                                  \
            g_main_context_iteration((m)->ctx, FALSE);                         \
            g_usleep(1000);                                                    \
        }                                                                      \
    } while (0)

static char *tmp_path(const char *name)
{
    char *dir = g_dir_make_tmp("vireo-chardev-XXXXXX", NULL);
    char *p;

    g_assert_nonnull(dir);
    p = g_build_filename(dir, name, NULL);
    g_free(dir);
    return p;
}

static void tmp_path_free(char *p)
{
    char *dir = g_path_get_dirname(p);

    unlink(p);
    rmdir(dir);
    g_free(dir);
    g_free(p);
}

static int unix_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(connect(s, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    return s;
}

static int unix_listen(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(bind(s, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(s, 4), ==, 0);
    return s;
}

/* Reads exactly len bytes (5 s timeout). */
static void read_exact(int fd, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
        n = read(fd, buf + got, len - got);
        g_assert_cmpint(n, >, 0);
        got += (size_t)n;
    }
}

static void expect_error(struct machine *m, const char *text, const char *want)
{
    Error *err = NULL;
    struct chardev *c = chardev_new(m, text, &err);

    g_assert_null(c);
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("'%s': got '%s', expected '%s'", text, error_get_pretty(err),
                want);
    }
    error_free(err);
}

/* ---- tests ---------------------------------------------------------- */

static void test_parse_check(void)
{
    Error *err = NULL;
    char *id = NULL, *be = NULL;
    bool mux = false;

    g_assert_true(chardev_parse_check("socket,id=q,path=/x,server=on,mux=on",
                                      &id, &be, &mux, &err));
    g_assert_cmpstr(id, ==, "q");
    g_assert_cmpstr(be, ==, "socket");
    g_assert_true(mux);
    g_free(id);
    g_free(be);
    g_assert_false(
        chardev_parse_check("stdio,id=s,path=/x", NULL, NULL, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "invalid parameter 'path'"));
    error_free(err);
}

static void test_errors(void)
{
    struct machine m;
    char *path = tmp_path("nosock");
    char *text;

    machine_setup(&m);
    expect_error(&m, "foo,id=a", "'foo' is not a valid char driver name");
    expect_error(&m, "null", "no id specified");
    expect_error(&m, "null,id=n,bogus=1",
                 "chardev 'n': invalid parameter "
                 "'bogus'");
    expect_error(&m, "file,id=f,path=/nonexistent-dir/x",
                 "could not open '/nonexistent-dir/x'");
    expect_error(&m, "file,id=f,path=/tmp/x,append=sometimes",
                 "chardev 'f': parameter 'append' expects 'on' or 'off'");
    text = g_strdup_printf("socket,id=s,path=%s", path);
    expect_error(&m, text, "failed to connect to");
    g_free(text);
    expect_error(&m, "socket,id=s,fd=999,server=on,wait=off", "fd=999");
    expect_error(&m, "socket,id=s,fd=1", "invalid fd 1");
    expect_error(&m, "socket,id=s,host=127.0.0.1", "exactly one of");
    expect_error(&m, "socket,id=s,path=/a,nodelay=x", "'nodelay' expects");
    expect_error(&m, "stdio,id=s,signal=x", "'signal' expects");
    expect_error(&m, "null,id=n,mux=perhaps", "chardev 'n': parameter 'mux'");
    expect_error(&m, "socket,id=s,path=", "empty socket path");
    text = g_strdup_printf("socket,id=s,path=/tmp/%0200d", 0);
    expect_error(&m, text, "is too long");
    g_free(text);
    expect_error(&m, "socket,id=s,path=/nonexistent-dir/s,server=on,wait=off",
                 "failed to listen on '/nonexistent-dir/s'");
    expect_error(&m, "socket,id=s,host=no-such-host.invalid,port=1",
                 "address resolution failed for no-such-host.invalid:1");
    /* port 1 on loopback: nothing listens there */
    expect_error(&m, "socket,id=s,host=127.0.0.1,port=1",
                 "failed to connect to 127.0.0.1:1");
    tmp_path_free(path);
    machine_teardown(&m);
}

static struct chardev *new_ok(struct machine *m, const char *text)
{
    Error *err = NULL;
    struct chardev *c = chardev_new(m, text, &err);

    if (!c) {
        g_error("'%s': %s", text, error_get_pretty(err));
    }
    g_ptr_array_add(m->chardevs, c);
    return c;
}

static void free_all(struct machine *m)
{
    for (guint i = 0; i < m->chardevs->len; i++) {
        chardev_free(g_ptr_array_index(m->chardevs, i));
    }
    g_ptr_array_set_size(m->chardevs, 0);
}

static void test_null(void)
{
    struct machine m;
    struct fe_rec r, r2;
    struct chardev_frontend fe, fe2;
    struct chardev *c;
    Error *err = NULL;
    char *fn;

    machine_setup(&m);
    rec_init(&r);
    rec_init(&r2);
    c = new_ok(&m, "null,id=n0");
    g_assert_cmpstr(chardev_id(c), ==, "n0");
    g_assert_cmpstr(chardev_backend_name(c), ==, "null");
    fn = chardev_filename(c);
    g_assert_cmpstr(fn, ==, "null");
    g_free(fn);
    g_assert_true(chardev_is_connected(c));
    g_assert_cmpuint(chardev_write(c, (const uint8_t *)"abc", 3), ==, 3);
    fe = rec_fe(&r);
    g_assert_false(chardev_has_frontend(c));
    g_assert_true(chardev_attach(c, &fe, &err));
    g_assert_true(chardev_has_frontend(c));
    g_assert_cmpint(r.opened, ==, 1);
    /* not a mux: a second frontend is refused */
    fe2 = rec_fe(&r2);
    g_assert_false(chardev_attach(c, &fe2, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "already in use"));
    error_free(err);
    err = NULL;
    chardev_detach(c, &r);
    g_assert_false(chardev_has_frontend(c));
    g_assert_true(chardev_attach(c, &fe2, &err));
    g_assert_null(chardev_pty_path(c));
    free_all(&m);
    rec_clear(&r);
    rec_clear(&r2);
    machine_teardown(&m);
}

static void test_file(void)
{
    struct machine m;
    char *path = tmp_path("out.txt");
    char *text, *contents;
    struct chardev *c;
    gsize len;

    machine_setup(&m);
    g_assert_true(g_file_set_contents(path, "old\n", -1, NULL));
    text = g_strdup_printf("file,id=f0,path=%s", path);
    c = new_ok(&m, text);
    g_free(text);
    g_assert_cmpuint(chardev_write(c, (const uint8_t *)"hello\n", 6), ==, 6);
    free_all(&m);
    g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
    g_assert_cmpstr(contents, ==, "hello\n"); /* truncated */
    g_free(contents);

    text = g_strdup_printf("file,id=f1,path=%s,append=on", path);
    c = new_ok(&m, text);
    g_free(text);
    g_assert_cmpstr(chardev_backend_name(c), ==, "file");
    chardev_write(c, (const uint8_t *)"more\n", 5);
    free_all(&m);
    g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
    g_assert_cmpstr(contents, ==, "hello\nmore\n");
    g_free(contents);
    tmp_path_free(path);
    machine_teardown(&m);
}

static void test_unix_server(void)
{
    struct machine m;
    char *path = tmp_path("srv.sock");
    char *text, *fn, *want;
    struct fe_rec r;
    struct chardev_frontend fe;
    struct chardev *c;
    char buf[16];
    int cl, cl2;

    machine_setup(&m);
    rec_init(&r);
    text = g_strdup_printf("socket,id=s0,path=%s,server=on,wait=off", path);
    c = new_ok(&m, text);
    g_free(text);
    g_assert_false(chardev_is_connected(c));
    fn = chardev_filename(c);
    want = g_strdup_printf("disconnected:unix:%s,server=on", path);
    g_assert_cmpstr(fn, ==, want);
    g_free(fn);
    fe = rec_fe(&r);
    g_assert_true(chardev_attach(c, &fe, NULL));
    g_assert_cmpint(r.opened, ==, 0);
    /* no client: output is discarded, never blocks */
    g_assert_cmpuint(chardev_write(c, (const uint8_t *)"lost", 4), ==, 4);

    cl = unix_connect(path);
    SPIN_UNTIL(&m, r.opened == 1);
    g_assert_true(chardev_is_connected(c));
    fn = chardev_filename(c);
    g_assert_cmpstr(fn, ==, want + strlen("disconnected:"));
    g_free(fn);
    g_assert_cmpint(write(cl, "hello", 5), ==, 5);
    SPIN_UNTIL(&m, r.data->len == 5);
    g_assert_true(rec_has(&r, "hello"));
    g_assert_cmpuint(chardev_write(c, (const uint8_t *)"world", 5), ==, 5);
    read_exact(cl, buf, 5);
    g_assert_cmpmem(buf, 5, "world", 5);

    /* one client at a time: a second one waits in the backlog */
    cl2 = unix_connect(path);
    g_assert_cmpint(write(cl2, "two", 3), ==, 3);
    for (int i = 0; i < 50; i++) {
        g_main_context_iteration(m.ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpint(r.opened, ==, 1);
    g_assert_cmpuint(r.data->len, ==, 5);

    close(cl);
    SPIN_UNTIL(&m, r.closed == 1);
    /* then the waiting client is accepted */
    SPIN_UNTIL(&m, r.opened == 2);
    SPIN_UNTIL(&m, r.data->len == 8);
    g_assert_true(rec_has(&r, "hellotwo"));
    close(cl2);
    SPIN_UNTIL(&m, r.closed == 2);
    g_assert_false(chardev_is_connected(c));

    free_all(&m);
    /* the server removes its socket file */
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_free(want);
    tmp_path_free(path);
    rec_clear(&r);
    machine_teardown(&m);
}

static void test_unix_client(void)
{
    struct machine m;
    char *path = tmp_path("cl.sock");
    char *text, *fn;
    struct fe_rec r;
    struct chardev_frontend fe;
    struct chardev *c;
    int ls, s;
    char buf[8];

    machine_setup(&m);
    rec_init(&r);
    ls = unix_listen(path);
    text = g_strdup_printf("socket,id=c0,path=%s", path);
    c = new_ok(&m, text);
    g_free(text);
    s = accept(ls, NULL, NULL);
    g_assert_cmpint(s, >=, 0);
    g_assert_true(chardev_is_connected(c));
    fn = chardev_filename(c);
    g_assert_true(g_str_has_prefix(fn, "unix:"));
    g_free(fn);
    fe = rec_fe(&r);
    g_assert_true(chardev_attach(c, &fe, NULL));
    g_assert_cmpint(r.opened, ==, 1); /* already connected at attach */
    chardev_write(c, (const uint8_t *)"ping", 4);
    read_exact(s, buf, 4);
    g_assert_cmpmem(buf, 4, "ping", 4);
    g_assert_cmpint(write(s, "pong", 4), ==, 4);
    SPIN_UNTIL(&m, r.data->len == 4);
    g_assert_true(rec_has(&r, "pong"));
    close(s);
    SPIN_UNTIL(&m, r.closed == 1);
    free_all(&m);
    close(ls);
    tmp_path_free(path);
    rec_clear(&r);
    machine_teardown(&m);
}

static void test_tcp(void)
{
    struct machine m;
    struct fe_rec r;
    struct chardev_frontend fe;
    struct chardev *c;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char *fn;
    unsigned port;
    int s;
    char buf[4];

    machine_setup(&m);
    rec_init(&r);
    c = new_ok(&m, "socket,id=t0,host=127.0.0.1,port=0,server=on,wait=off,"
                   "nodelay=on");
    fn = chardev_filename(c);
    g_assert_true(g_str_has_prefix(fn, "disconnected:tcp:127.0.0.1:"));
    g_assert_true(g_str_has_suffix(fn, ",server=on"));
    port = (unsigned)atoi(fn + strlen("disconnected:tcp:127.0.0.1:"));
    g_assert_cmpuint(port, >, 0);
    g_free(fn);
    fe = rec_fe(&r);
    chardev_attach(c, &fe, NULL);
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(s, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    SPIN_UNTIL(&m, r.opened == 1);
    g_assert_cmpint(write(s, "tcp!", 4), ==, 4);
    SPIN_UNTIL(&m, r.data->len == 4);
    chardev_write(c, (const uint8_t *)"ack", 3);
    read_exact(s, buf, 3);
    g_assert_cmpmem(buf, 3, "ack", 3);
    close(s);
    SPIN_UNTIL(&m, r.closed == 1);

    /* and the client side, to our own server */
    {
        char *text =
            g_strdup_printf("socket,id=t1,host=127.0.0.1,port=%u", port);
        struct chardev *c1 = new_ok(&m, text);
        char *want = g_strdup_printf("tcp:127.0.0.1:%u", port);
        g_free(text);
        text = chardev_filename(c1);
        g_assert_cmpstr(text, ==, want);
        g_free(text);
        g_free(want);
        SPIN_UNTIL(&m, r.opened == 2);
        chardev_write(c1, (const uint8_t *)"loop", 4);
        SPIN_UNTIL(&m, r.data->len == 8);
        g_assert_true(rec_has(&r, "tcp!loop"));
    }
    free_all(&m);
    /* IPv6 loopback, as "-serial tcp:[::1]:0,server=on" produces */
    {
        Error *err = NULL;
        c = chardev_new(&m, "socket,id=t3,host=::1,port=0,server=on,wait=off",
                        &err);
        if (c) { /* hosts without IPv6 cannot bind ::1 */
            g_ptr_array_add(m.chardevs, c);
            fn = chardev_filename(c);
            g_assert_true(g_str_has_prefix(fn, "disconnected:tcp:::1:"));
            g_free(fn);
            free_all(&m);
        } else {
            error_free(err);
        }
    }
    /* "tcp::PORT" (no host) listens on every IPv4 address */
    c = new_ok(&m, "socket,id=t2,port=0,server=on,wait=off");
    fn = chardev_filename(c);
    g_assert_true(g_str_has_prefix(fn, "disconnected:tcp:0.0.0.0:"));
    g_free(fn);
    free_all(&m);
    rec_clear(&r);
    machine_teardown(&m);
}

static void test_fd_server(void)
{
    struct machine m;
    char *path = tmp_path("fd.sock");
    char *text;
    struct fe_rec r;
    struct chardev_frontend fe;
    struct chardev *c;
    int ls, s;

    machine_setup(&m);
    rec_init(&r);
    ls = unix_listen(path);
    text = g_strdup_printf("socket,id=f0,fd=%d,server=on,wait=off", ls);
    c = new_ok(&m, text);
    g_free(text);
    text = chardev_filename(c);
    g_assert_true(g_str_has_prefix(text, "disconnected:fd:"));
    g_assert_true(g_str_has_suffix(text, ",server=on"));
    g_free(text);
    fe = rec_fe(&r);
    chardev_attach(c, &fe, NULL);
    s = unix_connect(path);
    SPIN_UNTIL(&m, r.opened == 1);
    g_assert_cmpint(write(s, "fd", 2), ==, 2);
    SPIN_UNTIL(&m, rec_has(&r, "fd"));
    close(s);
    free_all(&m); /* closes ls, which it owns */
    g_assert_cmpint(fcntl(ls, F_GETFD), <, 0);
    tmp_path_free(path);
    rec_clear(&r);
    machine_teardown(&m);
}

static gpointer delayed_connect(gpointer opaque)
{
    g_usleep(100 * 1000);
    return GINT_TO_POINTER(unix_connect(opaque));
}

static void test_wait_on(void)
{
    struct machine m;
    char *path = tmp_path("wait.sock");
    char *text;
    struct chardev *c;
    GThread *t;

    machine_setup(&m);
    t = g_thread_new("connect", delayed_connect, path);
    /* blocks until the client arrives, as QEMU's wait=on does */
    text = g_strdup_printf("socket,id=w0,path=%s,server=on", path);
    c = new_ok(&m, text);
    g_free(text);
    g_assert_true(chardev_is_connected(c));
    close(GPOINTER_TO_INT(g_thread_join(t)));
    free_all(&m);
    tmp_path_free(path);
    machine_teardown(&m);
}

struct flood {
    struct chardev *c;
    size_t accepted;
    gint64 us;
};

static gpointer flood_thread(gpointer opaque)
{
    struct flood *f = opaque;
    uint8_t buf[4096];
    gint64 t0 = g_get_monotonic_time();

    memset(buf, 'x', sizeof(buf));
    for (int i = 0; i < 2048; i++) { /* 8 MiB */
        f->accepted += chardev_write(f->c, buf, sizeof(buf));
    }
    f->us = g_get_monotonic_time() - t0;
    return NULL;
}

static void test_never_blocks(void)
{
    struct machine m;
    char *path = tmp_path("slow.sock");
    char *text;
    struct fe_rec r;
    struct chardev_frontend fe;
    struct flood f = {0};
    int cl, sz = 4096;

    machine_setup(&m);
    rec_init(&r);
    text = g_strdup_printf("socket,id=s0,path=%s,server=on,wait=off", path);
    f.c = new_ok(&m, text);
    g_free(text);
    fe = rec_fe(&r);
    chardev_attach(f.c, &fe, NULL);
    cl = unix_connect(path);
    setsockopt(cl, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    SPIN_UNTIL(&m, r.opened == 1);

    /* a client that never reads: the vCPU-side writer must not stall */
    g_thread_join(g_thread_new("flood", flood_thread, &f));
    g_assert_cmpint(f.us, <, 2 * G_USEC_PER_SEC);
    g_assert_cmpuint(f.accepted, <, 2 * 1024 * 1024);
    g_assert_cmpuint(f.accepted, >=, CHARDEV_OUT_BOUND);
    g_assert_cmpuint(chardev_dropped(f.c), ==, 8 * 1024 * 1024 - f.accepted);

    /* a larger bound for this chardev takes more, then refuses again */
    {
        uint8_t big[8192] = {0};
        size_t took = 0;

        chardev_set_out_bound(f.c, 256 * 1024);
        for (int i = 0; i < 64; i++) {
            took += chardev_write(f.c, big, sizeof(big));
        }
        g_assert_cmpuint(took, ==, 256 * 1024 - CHARDEV_OUT_BOUND);
        /* shrinking below what is buffered refuses everything new */
        chardev_set_out_bound(f.c, 1024);
        g_assert_cmpuint(chardev_write(f.c, big, 1), ==, 0);
    }

    /* the client vanishes: writes still return at once, no SIGPIPE */
    close(cl);
    f.accepted = 0;
    g_thread_join(g_thread_new("flood", flood_thread, &f));
    g_assert_cmpint(f.us, <, 2 * G_USEC_PER_SEC);
    SPIN_UNTIL(&m, r.closed == 1);
    g_assert_cmpuint(chardev_write(f.c, (const uint8_t *)"x", 1), ==, 1);
    free_all(&m);
    tmp_path_free(path);
    rec_clear(&r);
    machine_teardown(&m);
}

/* Output a client cannot take at once is kept (up to the bound) and
 * flushed in order by the main loop once it reads again; what is beyond
 * the bound is dropped, so the client sees exactly a prefix. */
static void test_flush(void)
{
    struct machine m;
    char *path = tmp_path("flush.sock");
    char *text;
    struct fe_rec r;
    struct chardev_frontend fe;
    struct chardev *c;
    enum { TOTAL = 1024 * 1024 };
    uint8_t *pattern = g_malloc(TOTAL), *got = g_malloc(TOTAL);
    size_t accepted = 0, received = 0;
    int cl;

    for (size_t i = 0; i < TOTAL; i++) {
        pattern[i] = (uint8_t)(i % 251);
    }
    machine_setup(&m);
    rec_init(&r);
    text = g_strdup_printf("socket,id=s0,path=%s,server=on,wait=off", path);
    c = new_ok(&m, text);
    g_free(text);
    fe = rec_fe(&r);
    chardev_attach(c, &fe, NULL);
    cl = unix_connect(path);
    SPIN_UNTIL(&m, r.opened == 1);
    for (size_t off = 0; off < TOTAL; off += 4096) {
        accepted += chardev_write(c, pattern + off, 4096);
    }
    g_assert_cmpuint(accepted, <, TOTAL);
    g_assert_cmpuint(chardev_dropped(c), ==, TOTAL - accepted);
    g_assert_cmpint(fcntl(cl, F_SETFL, O_NONBLOCK), ==, 0);
    {
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (received < accepted) {
            ssize_t n = read(cl, got + received, TOTAL - received);
            if (n > 0) {
                received += (size_t)n;
            }
            g_main_context_iteration(m.ctx, FALSE);
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        }
    }
    g_assert_cmpuint(received, ==, accepted);
    g_assert_cmpmem(got, received, pattern, accepted);
    /* drained: direct writes again */
    g_assert_cmpuint(chardev_write(c, (const uint8_t *)"end", 3), ==, 3);
    read_exact(cl, (char *)got, 3);
    g_assert_cmpmem(got, 3, "end", 3);

    /* the peer is gone and the main loop has not noticed yet: the write
     * fails at once (EPIPE, no SIGPIPE), counted as dropped */
    close(cl);
    {
        uint64_t before = chardev_dropped(c);
        size_t n = chardev_write(c, (const uint8_t *)"gone", 4);
        g_assert_cmpuint(n + (chardev_dropped(c) - before), ==, 4);
    }
    SPIN_UNTIL(&m, r.closed == 1);
    /* a pending resume is cancelled by free */
    chardev_accept_input(c);
    free_all(&m);
    g_free(pattern);
    g_free(got);
    tmp_path_free(path);
    rec_clear(&r);
    machine_teardown(&m);
}

/* chardev_write_all() (QMP replies): nothing is dropped however far
 * beyond the bound, the client gets every byte in order, progress counts
 * what it took, and the frontend hears "drained" once all is out. */
static void test_write_all(void)
{
    struct machine m;
    char *path = tmp_path("all.sock");
    char *text;
    struct fe_rec r;
    struct chardev_frontend fe;
    struct chardev *c;
    enum { TOTAL = 4 * 1024 * 1024 };
    uint8_t *pattern = g_malloc(TOTAL), *got = g_malloc(TOTAL);
    size_t received = 0;
    int cl;

    for (size_t i = 0; i < TOTAL; i++) {
        pattern[i] = (uint8_t)(i % 253);
    }
    machine_setup(&m);
    rec_init(&r);
    text = g_strdup_printf("socket,id=s0,path=%s,server=on,wait=off", path);
    c = new_ok(&m, text);
    g_free(text);
    fe = rec_fe(&r);
    chardev_attach(c, &fe, NULL);
    cl = unix_connect(path);
    SPIN_UNTIL(&m, r.opened == 1);
    /* one write far beyond the bound, then a small one behind it */
    chardev_write_all(c, pattern, TOTAL - 16);
    chardev_write_all(c, pattern + TOTAL - 16, 16);
    g_assert_cmpuint(chardev_dropped(c), ==, 0);
    g_assert_cmpuint(chardev_out_pending(c), >, CHARDEV_OUT_BOUND);
    g_assert_cmpuint(chardev_out_progress(c) + chardev_out_pending(c), ==,
                     TOTAL);
    g_assert_cmpint(r.drained, ==, 0);
    g_assert_cmpint(fcntl(cl, F_SETFL, O_NONBLOCK), ==, 0);
    {
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (received < TOTAL) {
            ssize_t n = read(cl, got + received, TOTAL - received);
            if (n > 0) {
                received += (size_t)n;
            }
            g_main_context_iteration(m.ctx, FALSE);
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        }
    }
    g_assert_cmpmem(got, received, pattern, TOTAL);
    SPIN_UNTIL(&m, r.drained == 1);
    g_assert_cmpuint(chardev_out_pending(c), ==, 0);
    g_assert_cmpuint(chardev_out_progress(c), ==, TOTAL);
    close(cl);
    SPIN_UNTIL(&m, r.closed == 1);
    /* no client: accepted and discarded, as chardev_write() does */
    chardev_write_all(c, pattern, 16);
    g_assert_cmpuint(chardev_out_pending(c), ==, 0);
    free_all(&m);
    g_free(pattern);
    g_free(got);
    tmp_path_free(path);
    rec_clear(&r);
    machine_teardown(&m);
}

static gpointer accept_input_thread(gpointer opaque)
{
    chardev_accept_input(opaque);
    return NULL;
}

static void test_can_read(void)
{
    struct machine m;
    char *path = tmp_path("fc.sock");
    char *text;
    struct fe_rec r;
    struct chardev_frontend fe;
    struct chardev *c;
    int cl;

    machine_setup(&m);
    rec_init(&r);
    text = g_strdup_printf("socket,id=s0,path=%s,server=on,wait=off", path);
    c = new_ok(&m, text);
    g_free(text);
    fe = rec_fe(&r);
    r.room = 0;
    chardev_attach(c, &fe, NULL);
    cl = unix_connect(path);
    SPIN_UNTIL(&m, r.opened == 1);
    g_assert_cmpint(write(cl, "abcdefgh", 8), ==, 8);
    for (int i = 0; i < 50; i++) {
        g_main_context_iteration(m.ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(r.data->len, ==, 0); /* the frontend is full */
    r.room = 3;
    g_thread_join(g_thread_new("kick", accept_input_thread, c));
    /* the kick is served at once, well before the safety-net poll */
    for (int i = 0; i < 50 && r.data->len < 3; i++) {
        g_main_context_iteration(m.ctx, FALSE);
    }
    g_assert_cmpuint(r.data->len, ==, 3);
    for (int i = 0; i < 20; i++) {
        g_main_context_iteration(m.ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(r.data->len, ==, 3); /* never more than can_read */
    /* a frontend that has room again but never says so still gets its
     * input, a little later */
    r.room = 100;
    SPIN_UNTIL(&m, r.data->len == 8);
    g_assert_true(rec_has(&r, "abcdefgh"));
    close(cl);
    free_all(&m);
    tmp_path_free(path);
    rec_clear(&r);
    machine_teardown(&m);
}

static void test_pty(void)
{
    if (g_test_subprocess()) {
        struct machine m;
        struct fe_rec r;
        struct chardev_frontend fe;
        struct chardev *c;
        char *fn;
        char buf[8];
        int s;

        machine_setup(&m);
        rec_init(&r);
        c = new_ok(&m, "pty,id=p0");
        g_assert_true(g_str_has_prefix(chardev_pty_path(c), "/dev/pts/"));
        fn = chardev_filename(c);
        g_assert_true(g_str_has_prefix(fn, "pty:/dev/pts/"));
        g_free(fn);
        fe = rec_fe(&r);
        chardev_attach(c, &fe, NULL);
        s = open(chardev_pty_path(c), O_RDWR | O_NOCTTY);
        g_assert_cmpint(s, >=, 0);
        /* raw: no echo, no line buffering, no CR/LF mangling */
        g_assert_cmpint(write(s, "in\r", 3), ==, 3);
        SPIN_UNTIL(&m, r.data->len == 3);
        g_assert_true(rec_has(&r, "in\r"));
        chardev_write(c, (const uint8_t *)"out\n", 4);
        read_exact(s, buf, 4);
        g_assert_cmpmem(buf, 4, "out\n", 4);
        close(s);
        free_all(&m);
        rec_clear(&r);
        machine_teardown(&m);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*char device redirected to /dev/pts/* (label "
                              "p0)*");
}

static void test_mux(void)
{
    struct machine m;
    char *path = tmp_path("mux.sock");
    char *text;
    struct fe_rec a, b;
    struct chardev_frontend fa, fb;
    struct chardev *c;
    char buf[256];
    int cl;

    machine_setup(&m);
    rec_init(&a);
    rec_init(&b);
    text =
        g_strdup_printf("socket,id=m0,path=%s,server=on,wait=off,mux=on", path);
    c = new_ok(&m, text);
    g_free(text);
    fa = rec_fe(&a);
    fb = rec_fe(&b);
    g_assert_true(chardev_attach(c, &fb, NULL));
    g_assert_true(chardev_attach(c, &fa, NULL));
    cl = unix_connect(path);
    SPIN_UNTIL(&m, b.opened == 1);

    /* the frontend attached first (the serial port) has the focus; the
     * other is told the chardev is open only once it gets the focus */
    g_assert_cmpint(a.opened, ==, 0);
    g_assert_cmpint(write(cl, "ab", 2), ==, 2);
    SPIN_UNTIL(&m, b.data->len == 2);
    g_assert_true(rec_has(&b, "ab"));
    /* Ctrl-A c switches to the other frontend */
    g_assert_cmpint(write(cl, "\001cxy", 4), ==, 4);
    SPIN_UNTIL(&m, a.data->len == 2);
    g_assert_cmpint(a.opened, ==, 1);
    g_assert_cmpint(b.opened, ==, 1);
    g_assert_true(rec_has(&a, "xy"));
    /* Ctrl-A Ctrl-A sends one Ctrl-A; unknown escapes vanish */
    g_assert_cmpint(write(cl, "1\001\0012\001z3", 7), ==, 7);
    SPIN_UNTIL(&m, a.data->len == 6);
    g_assert_cmpmem(a.data->data, 6, "xy1\00123", 6);
    /* Ctrl-A b: break to the focused frontend */
    g_assert_cmpint(write(cl, "\001b", 2), ==, 2);
    SPIN_UNTIL(&m, a.breaks == 1);
    g_assert_cmpint(b.breaks, ==, 0);
    /* Ctrl-A h prints help */
    g_assert_cmpint(write(cl, "\001h", 2), ==, 2);
    {
        size_t got = 0;
        while (!g_strstr_len(buf, (gssize)got, "C-a x")) {
            struct pollfd p = {.fd = cl, .events = POLLIN};
            ssize_t n;
            g_main_context_iteration(m.ctx, FALSE);
            if (poll(&p, 1, 10) == 1) {
                n = read(cl, buf + got, sizeof(buf) - 1 - got);
                g_assert_cmpint(n, >, 0);
                got += (size_t)n;
                buf[got] = 0;
            }
        }
    }
    /* Ctrl-A c again: back to b; Ctrl-A x asks the machine to quit */
    g_assert_cmpint(write(cl, "\001cq\001x", 5), ==, 5);
    SPIN_UNTIL(&m, m.requests != 0);
    g_assert_true(rec_has(&b, "abq"));
    g_assert_cmpuint(m.requests, ==, REQ_QUIT);
    g_assert_cmpint(m.req_cause, ==, SHUTDOWN_CAUSE_HOST_UI);
    read_exact(cl, buf, 18);
    g_assert_cmpmem(buf, 18, "QEMU: Terminated\n\r", 18);
    /* detaching the focused frontend moves the focus */
    chardev_detach(c, &b);
    g_assert_cmpint(write(cl, "z", 1), ==, 1);
    SPIN_UNTIL(&m, a.data->len == 7);
    close(cl);
    SPIN_UNTIL(&m, a.closed == 1);
    g_assert_cmpint(b.closed, ==, 0); /* detached before */
    free_all(&m);
    tmp_path_free(path);
    rec_clear(&a);
    rec_clear(&b);
    machine_teardown(&m);
}

/* stdio in a subprocess: fds 0 and 1 are replaced by a pty and a pipe. */
static void test_stdio(void)
{
    if (g_test_subprocess()) {
        struct machine m;
        struct fe_rec r;
        struct chardev_frontend fe;
        struct chardev *c;
        struct termios before, during, after;
        int master, slave, out[2], saved_out;
        char buf[8];

        machine_setup(&m);
        rec_init(&r);
        master = posix_openpt(O_RDWR | O_NOCTTY);
        g_assert_cmpint(master, >=, 0);
        g_assert_cmpint(grantpt(master), ==, 0);
        g_assert_cmpint(unlockpt(master), ==, 0);
        slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        g_assert_cmpint(slave, >=, 0);
        g_assert_cmpint(pipe(out), ==, 0);
        saved_out = dup(1);
        dup2(slave, 0);
        dup2(out[1], 1);
        tcgetattr(0, &before);
        g_assert_true(before.c_lflag & ECHO);

        c = new_ok(&m, "stdio,id=s0,mux=on");
        tcgetattr(0, &during);
        g_assert_false(during.c_lflag & (ECHO | ICANON));
        g_assert_true(during.c_lflag & ISIG); /* signal=on by default */
        /* fd 1 (shared with whoever else writes there) stays blocking */
        g_assert_false(fcntl(1, F_GETFL) & O_NONBLOCK);

        fe = rec_fe(&r);
        chardev_attach(c, &fe, NULL);
        g_assert_cmpint(write(master, "k", 1), ==, 1);
        SPIN_UNTIL(&m, r.data->len == 1);
        chardev_write(c, (const uint8_t *)"out", 3);
        read_exact(out[0], buf, 3);
        g_assert_cmpmem(buf, 3, "out", 3);
        /* nobody reads the pipe: writes still return */
        for (int i = 0; i < 1000; i++) {
            uint8_t big[1024] = {0};
            chardev_write(c, big, sizeof(big));
        }
        g_assert_cmpuint(chardev_dropped(c), >, 0);
        /* Ctrl-A x on the muxed terminal */
        g_assert_cmpint(write(master, "\001x", 2), ==, 2);
        SPIN_UNTIL(&m, m.requests == REQ_QUIT);

        chardev_restore_terminals(&m);
        tcgetattr(0, &after);
        g_assert_cmpint(after.c_lflag, ==, before.c_lflag);
        tcsetattr(0, TCSANOW, &during);
        free_all(&m); /* restores too */
        tcgetattr(0, &after);
        g_assert_cmpint(after.c_lflag, ==, before.c_lflag);
        g_assert_cmpint(after.c_iflag, ==, before.c_iflag);
        dup2(saved_out, 1);

        /* the reader of a stdout pipe goes away: EPIPE, not SIGPIPE */
        {
            int pp[2];
            uint64_t before;

            g_assert_cmpint(pipe(pp), ==, 0);
            dup2(pp[1], 1);
            close(pp[1]);
            c = new_ok(&m, "stdio,id=s5");
            close(pp[0]);
            before = chardev_dropped(c);
            g_assert_cmpuint(chardev_write(c, (const uint8_t *)"x", 1), ==, 0);
            g_assert_cmpuint(chardev_dropped(c), ==, before + 1);
            free_all(&m);
            dup2(saved_out, 1);
        }

        /* stdout a socket (send, non-blocking per call) or a regular file
         * (written directly) */
        {
            int sv[2];
            char *path = tmp_path("stdout.txt");
            char *contents;
            int f;

            g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
            dup2(sv[0], 1);
            c = new_ok(&m, "stdio,id=s3");
            chardev_write(c, (const uint8_t *)"sock", 4);
            read_exact(sv[1], buf, 4);
            g_assert_cmpmem(buf, 4, "sock", 4);
            free_all(&m);
            close(sv[0]);
            close(sv[1]);
            f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(f, 1);
            close(f);
            c = new_ok(&m, "stdio,id=s4");
            chardev_write(c, (const uint8_t *)"file", 4);
            free_all(&m);
            g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
            g_assert_cmpstr(contents, ==, "file");
            g_free(contents);
            tmp_path_free(path);
            dup2(saved_out, 1);
        }

        /* signal=off drops ISIG; stdin at EOF is not polled forever */
        {
            int devnull = open("/dev/null", O_RDONLY);
            c = new_ok(&m, "stdio,id=s1,signal=off");
            tcgetattr(slave, &during);
            g_assert_false(during.c_lflag & ISIG);
            free_all(&m);
            dup2(devnull, 0);
            c = new_ok(&m, "stdio,id=s2");
            chardev_attach(c, &fe, NULL);
            for (int i = 0; i < 20; i++) {
                g_main_context_iteration(m.ctx, FALSE);
            }
            g_assert_false(g_main_context_pending(m.ctx));
            free_all(&m);
            close(devnull);
        }
        rec_clear(&r);
        machine_teardown(&m);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/chardev/parse-check", test_parse_check);
    g_test_add_func("/chardev/errors", test_errors);
    g_test_add_func("/chardev/null", test_null);
    g_test_add_func("/chardev/file", test_file);
    g_test_add_func("/chardev/unix-server", test_unix_server);
    g_test_add_func("/chardev/unix-client", test_unix_client);
    g_test_add_func("/chardev/tcp", test_tcp);
    g_test_add_func("/chardev/fd-server", test_fd_server);
    g_test_add_func("/chardev/wait-on", test_wait_on);
    g_test_add_func("/chardev/never-blocks", test_never_blocks);
    g_test_add_func("/chardev/flush", test_flush);
    g_test_add_func("/chardev/write-all", test_write_all);
    g_test_add_func("/chardev/can-read", test_can_read);
    g_test_add_func("/chardev/pty", test_pty);
    g_test_add_func("/chardev/mux", test_mux);
    g_test_add_func("/chardev/stdio", test_stdio);
    return g_test_run();
}
