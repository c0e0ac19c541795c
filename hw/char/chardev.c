/* SPDX-License-Identifier: MIT */
/*
 * chardev.c: character backends: stdio, file, socket (unix/tcp, server or
 * client), pty, null, and the mux (mux=on) that shares one backend between
 * several frontends (serial + human monitor) with QEMU's Ctrl-A escapes.
 *
 * Threads and locks: input, accept, connect/disconnect and frontend
 * callbacks all run on the machine's main context (m->ctx).  Output comes
 * from any thread (vCPUs through the UART): chardev_write() takes c->lock,
 * tries one non-blocking write, buffers the rest up to CHARDEV_OUT_BOUND
 * and drops (and counts) beyond.  A buffered remainder is flushed by a
 * G_IO_OUT source on the main context, which tells the frontends (drained)
 * once the buffer is empty.  c->lock protects out_fd, outbuf, out_src,
 * resume_src, dropped and progress; it is a leaf lock (nothing else is taken
 * under it except GLib's context lock when attaching a source).
 *
 * stdio output never blocks the vCPU and never changes fd 1 itself: a tty
 * or pipe on fd 1 is reopened through /proc/self/fd/1 to get an open file
 * description of our own that can be O_NONBLOCK without making stderr (the
 * same terminal) non-blocking too.
 */
#include "util/common.h"
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <glib-unix.h>
#include "util/keyval.h"
#include "system/fdset.h"
#include "system/machine.h"
#include "hw/char/chardev.h"
#include "util/socket.h"

#define CHARDEV_MAX_FE 4
#define MUX_ESCAPE 0x01 /* Ctrl-A */

enum chardev_backend {
    BE_NULL,
    BE_STDIO,
    BE_FILE,
    BE_SOCKET,
    BE_PTY,
};

static const char *const backend_names[] = {
    [BE_NULL] = "null",     [BE_STDIO] = "stdio", [BE_FILE] = "file",
    [BE_SOCKET] = "socket", [BE_PTY] = "pty",
};

struct chardev_opts {
    char *id;
    enum chardev_backend be;
    bool mux;
    bool signal; /* stdio */
    char *path;  /* file, socket (unix) */
    bool append; /* file */
    char *host;  /* socket (tcp) */
    char *port;  /* socket (tcp) */
    bool server, wait, nodelay;
    int fd;         /* socket: pre-opened, -1 when absent */
    char *logfile;  /* every backend: a copy of the output */
    bool logappend; /* append to logfile instead of truncating it */
};

struct chardev {
    struct machine *m;
    GMainContext *ctx;
    struct chardev_opts o;

    struct chardev_frontend fe[CHARDEV_MAX_FE];
    bool fe_open[CHARDEV_MAX_FE]; /* CHARDEV_OPENED delivered */
    unsigned nfe;
    unsigned focus;
    bool escape_pending;

    /* input: main thread only */
    int in_fd;
    GSource *in_src;
    GSource *retry_src; /* polls can_read while the frontend is full */
    bool in_eof;

    /* output: under lock */
    GMutex lock;
    int out_fd;
    bool out_is_socket;
    bool out_owned; /* we opened out_fd (stdio reopen) */
    GByteArray *outbuf;
    size_t out_bound;
    GSource *out_src;
    GSource *resume_src;
    uint64_t dropped;
    uint64_t progress; /* bytes the backend took */
    int log_fd;        /* logfile=, or -1 */

    /* socket: fds that came with the client's bytes (SCM_RIGHTS), oldest
     * first, until a frontend takes them (QMP getfd); main thread only */
    GArray *msg_fds;
    int listen_fd;
    GSource *listen_src;
    int conn_fd;
    bool unlink_path;
    char *bound_host; /* tcp server: address and port actually bound */
    unsigned bound_port;

    /* stdio */
    bool term_saved;
    struct termios saved_tio;

    /* pty */
    int pty_slave_fd;
    char *pty_name;
};

/* ---- option parsing ------------------------------------------------- */

static void opts_clear(struct chardev_opts *o)
{
    g_free(o->id);
    g_free(o->path);
    g_free(o->host);
    g_free(o->port);
    g_free(o->logfile);
    memset(o, 0, sizeof(*o));
    o->fd = -1;
}

static bool parse_opts(const char *text, struct chardev_opts *o, Error **errp)
{
    struct keyval *kv;
    const char *be, *id, *v;
    char *what = NULL;
    uint64_t fd;
    size_t i;
    bool ok = false;

    memset(o, 0, sizeof(*o));
    o->fd = -1;
    kv = keyval_parse(text, "backend", errp);
    if (!kv) {
        return false;
    }
    be = keyval_get(kv, "backend");
    id = keyval_get(kv, "id");
    if (!be) {
        error_setg(errp, "chardev: missing backend");
        goto out;
    }
    for (i = 0; i < ARRAY_SIZE(backend_names); i++) {
        if (!strcmp(be, backend_names[i])) {
            break;
        }
    }
    if (i == ARRAY_SIZE(backend_names)) {
        error_setg(errp, "'%s' is not a valid char driver name", be);
        goto out;
    }
    o->be = (enum chardev_backend)i;
    if (!id || !*id) {
        error_setg(errp, "chardev: no id specified");
        goto out;
    }
    o->id = g_strdup(id);
    what = g_strdup_printf("chardev '%s'", id);
    if (!keyval_get_bool(kv, "mux", false, &o->mux, errp) ||
        !keyval_get_bool(kv, "logappend", false, &o->logappend, errp)) {
        goto err;
    }
    if ((v = keyval_get(kv, "logfile"))) {
        if (!*v) {
            error_setg(errp, "%s: empty logfile name", what);
            goto out;
        }
        o->logfile = g_strdup(v);
    }
    switch (o->be) {
    case BE_NULL:
    case BE_PTY:
        break;
    case BE_STDIO:
        if (!keyval_get_bool(kv, "signal", true, &o->signal, errp)) {
            goto err;
        }
        break;
    case BE_FILE:
        v = keyval_get(kv, "path");
        if (!v || !*v) {
            error_setg(errp, "%s: file backend requires path=", what);
            goto out;
        }
        o->path = g_strdup(v);
        if (!keyval_get_bool(kv, "append", false, &o->append, errp)) {
            goto err;
        }
        break;
    case BE_SOCKET:
        if ((v = keyval_get(kv, "path"))) {
            o->path = g_strdup(v);
        }
        if ((v = keyval_get(kv, "host"))) {
            o->host = g_strdup(v);
        }
        if ((v = keyval_get(kv, "port"))) {
            o->port = g_strdup(v);
        }
        if (!keyval_get_bool(kv, "server", false, &o->server, errp) ||
            !keyval_get_bool(kv, "nodelay", false, &o->nodelay, errp)) {
            goto err;
        }
        if (keyval_has(kv, "wait") && !o->server) {
            error_setg(errp,
                       "%s: 'wait' option is incompatible with socket in "
                       "client connect mode",
                       what);
            goto out;
        }
        if (!keyval_get_bool(kv, "wait", true, &o->wait, errp)) {
            goto err;
        }
        if (keyval_has(kv, "fd")) {
            if (!keyval_get_u64(kv, "fd", 0, &fd, errp)) {
                goto err;
            }
            if (fd <= 2 || fd > INT32_MAX) {
                error_setg(errp, "%s: invalid fd %" PRIu64, what, fd);
                goto out;
            }
            o->fd = (int)fd;
        }
        if (o->fd >= 0 ? (o->path || o->host || o->port)
                       : (o->path ? (o->host || o->port) : !o->port)) {
            error_setg(errp,
                       "%s: socket needs exactly one of path=, "
                       "[host=]port= or fd=",
                       what);
            goto out;
        }
        if (o->path && !*o->path) {
            error_setg(errp, "%s: empty socket path", what);
            goto out;
        }
        if (o->path &&
            strlen(o->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            error_setg(errp, "%s: socket path '%s' is too long", what, o->path);
            goto out;
        }
        break;
    }
    if (!keyval_check_all_used(kv, what, errp)) {
        goto out;
    }
    ok = true;
    goto out;
err:
    error_prepend(errp, "%s: ", what);
out:
    if (!ok) {
        opts_clear(o);
    }
    g_free(what);
    keyval_free(kv);
    return ok;
}

bool chardev_parse_check(const char *text, char **id, char **backend, bool *mux,
                         Error **errp)
{
    struct chardev_opts o;

    if (!parse_opts(text, &o, errp)) {
        return false;
    }
    if (id) {
        *id = g_strdup(o.id);
    }
    if (backend) {
        *backend = g_strdup(backend_names[o.be]);
    }
    if (mux) {
        *mux = o.mux;
    }
    opts_clear(&o);
    return true;
}

/* ---- output (any thread) -------------------------------------------- */

static ssize_t raw_write(struct chardev *c, int fd, const uint8_t *buf,
                         size_t len)
{
    ssize_t n;

    do {
        if (c->out_is_socket) {
            n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            n = write(fd, buf, len);
        }
    } while (n < 0 && errno == EINTR);
    return n;
}

static gboolean out_ready(gint fd, GIOCondition cond, gpointer opaque);

/* Called with c->lock held. */
static void out_watch_locked(struct chardev *c)
{
    if (c->out_src || c->out_fd < 0) {
        return;
    }
    c->out_src = g_unix_fd_source_new(c->out_fd, G_IO_OUT | G_IO_ERR);
    g_source_set_callback(c->out_src, (GSourceFunc)(void (*)(void))out_ready, c,
                          NULL);
    g_source_attach(c->out_src, c->ctx);
}

/* Called with c->lock held. */
static void out_unwatch_locked(struct chardev *c)
{
    if (c->out_src) {
        g_source_destroy(c->out_src);
        g_source_unref(c->out_src);
        c->out_src = NULL;
    }
}

static void fe_drained(struct chardev *c);

static gboolean out_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct chardev *c = opaque;
    gboolean again = G_SOURCE_CONTINUE;
    bool drained = false;

    g_mutex_lock(&c->lock);
    while (c->outbuf->len && c->out_fd >= 0) {
        ssize_t n = raw_write(c, c->out_fd, c->outbuf->data, c->outbuf->len);
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n <= 0) {
            /* the reader went away: what is buffered cannot be delivered */
            c->dropped += c->outbuf->len;
            g_byte_array_set_size(c->outbuf, 0);
            break;
        }
        c->progress += (uint64_t)n;
        g_byte_array_remove_range(c->outbuf, 0, (guint)n);
    }
    if (!c->outbuf->len || c->out_fd < 0) {
        g_source_unref(c->out_src);
        c->out_src = NULL;
        again = G_SOURCE_REMOVE;
        drained = !c->outbuf->len;
    }
    g_mutex_unlock(&c->lock);
    /* out_src is cleared: a frontend may write (and so re-arm it) here */
    if (drained) {
        fe_drained(c);
    }
    return again;
}

/* Called with c->lock held: one non-blocking write of buf if nothing is
 * queued before it.  Returns the bytes written, or -1 when the reader is
 * gone (EPIPE, ECONNRESET: the main loop notices the hang-up). */
static ssize_t write_direct_locked(struct chardev *c, const uint8_t *buf,
                                   size_t len)
{
    ssize_t n;

    if (c->outbuf->len) {
        return 0;
    }
    n = raw_write(c, c->out_fd, buf, len);
    if (n > 0) {
        c->progress += (uint64_t)n;
        return n;
    }
    return n < 0 && errno != EAGAIN ? -1 : 0;
}

/*
 * logfile=: a copy of everything frontends write, whatever the backend
 * does with it (QEMU's rule; libvirt keeps a domain's serial log this way,
 * through a virtlogd pipe in an fd set).  The fd is non-blocking: what it
 * cannot take now is dropped and counted, so a stalled log reader never
 * blocks the vCPU.
 */
static void log_output_locked(struct chardev *c, const uint8_t *buf, size_t len)
{
    size_t done = 0;

    while (c->log_fd >= 0 && done < len) {
        ssize_t n = write(c->log_fd, buf + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            c->dropped += len - done;
            return;
        }
        done += (size_t)n;
    }
}

size_t chardev_write(struct chardev *c, const uint8_t *buf, size_t len)
{
    size_t done, take;
    ssize_t n;

    if (len == 0) {
        return len;
    }
    g_mutex_lock(&c->lock);
    log_output_locked(c, buf, len);
    if (c->o.be == BE_NULL) {
        g_mutex_unlock(&c->lock);
        return len;
    }
    if (c->out_fd < 0) {
        /* a socket without a client: the data goes nowhere, as in QEMU */
        g_mutex_unlock(&c->lock);
        return len;
    }
    n = write_direct_locked(c, buf, len);
    if (n < 0) {
        c->dropped += len;
        g_mutex_unlock(&c->lock);
        return 0;
    }
    done = (size_t)n;
    take = c->outbuf->len < c->out_bound
               ? MIN(len - done, c->out_bound - c->outbuf->len)
               : 0;
    if (take) {
        g_byte_array_append(c->outbuf, buf + done, (guint)take);
    }
    c->dropped += len - done - take;
    if (c->outbuf->len) {
        out_watch_locked(c);
    }
    g_mutex_unlock(&c->lock);
    return done + take;
}

void chardev_write_all(struct chardev *c, const uint8_t *buf, size_t len)
{
    ssize_t n;

    if (len == 0) {
        return;
    }
    g_mutex_lock(&c->lock);
    log_output_locked(c, buf, len);
    if (c->o.be != BE_NULL && c->out_fd >= 0) {
        n = write_direct_locked(c, buf, len);
        if (n < 0 || len - (size_t)n > G_MAXUINT) {
            c->dropped += len; /* the reader is gone (or 4 GiB at once) */
        } else if ((size_t)n < len) {
            g_byte_array_append(c->outbuf, buf + n, (guint)(len - (size_t)n));
            out_watch_locked(c);
        }
    }
    g_mutex_unlock(&c->lock);
}

size_t chardev_out_pending(const struct chardev *c)
{
    size_t n;

    g_mutex_lock((GMutex *)&c->lock);
    n = c->outbuf->len;
    g_mutex_unlock((GMutex *)&c->lock);
    return n;
}

uint64_t chardev_out_progress(const struct chardev *c)
{
    uint64_t n;

    g_mutex_lock((GMutex *)&c->lock);
    n = c->progress;
    g_mutex_unlock((GMutex *)&c->lock);
    return n;
}

static void write_str(struct chardev *c, const char *s)
{
    chardev_write(c, (const uint8_t *)s, strlen(s));
}

void chardev_set_out_bound(struct chardev *c, size_t bytes)
{
    g_mutex_lock(&c->lock);
    c->out_bound = bytes;
    g_mutex_unlock(&c->lock);
}

uint64_t chardev_dropped(const struct chardev *c)
{
    uint64_t d;

    g_mutex_lock((GMutex *)&c->lock);
    d = c->dropped;
    g_mutex_unlock((GMutex *)&c->lock);
    return d;
}

/* ---- frontends and the mux ------------------------------------------ */

/* On a mux, CHARDEV_OPENED reaches a frontend when it first has the
 * focus: a monitor sharing the terminal with the serial port greets the
 * user when switched to (Ctrl-A c), not over the guest's boot output, which
 * is what QEMU shows. */
static void fe_open_one(struct chardev *c, unsigned i)
{
    if (i >= c->nfe || c->fe_open[i] || !chardev_is_connected(c) ||
        (c->o.mux && i != c->focus)) {
        return;
    }
    c->fe_open[i] = true;
    if (c->fe[i].event) {
        c->fe[i].event(c->fe[i].opaque, CHARDEV_OPENED);
    }
}

static void fe_opened(struct chardev *c)
{
    for (unsigned i = 0; i < c->nfe; i++) {
        fe_open_one(c, i);
    }
}

static void fe_drained(struct chardev *c)
{
    for (unsigned i = 0; i < c->nfe; i++) {
        if (c->fe[i].drained) {
            c->fe[i].drained(c->fe[i].opaque);
        }
    }
}

static void fe_closed(struct chardev *c)
{
    for (unsigned i = 0; i < c->nfe; i++) {
        if (c->fe_open[i]) {
            c->fe_open[i] = false;
            if (c->fe[i].event) {
                c->fe[i].event(c->fe[i].opaque, CHARDEV_CLOSED);
            }
        }
    }
}

static size_t input_room(struct chardev *c)
{
    struct chardev_frontend *fe;

    if (!c->nfe) {
        return 0;
    }
    fe = &c->fe[c->o.mux ? c->focus : 0];
    if (!fe->can_read) {
        return 4096;
    }
    return fe->can_read(fe->opaque);
}

static const char mux_help[] = "\r\nC-a h    print this help\r\n"
                               "C-a x    exit emulator\r\n"
                               "C-a b    send break\r\n"
                               "C-a c    switch between console and monitor\r\n"
                               "C-a C-a  sends C-a\r\n";

/* Returns true when the byte goes to the focused frontend. */
static bool mux_byte(struct chardev *c, uint8_t ch)
{
    if (!c->escape_pending) {
        if (ch == MUX_ESCAPE) {
            c->escape_pending = true;
            return false;
        }
        return true;
    }
    c->escape_pending = false;
    switch (ch) {
    case MUX_ESCAPE:
        return true;
    case 'h':
    case '?':
        write_str(c, mux_help);
        break;
    case 'x':
        write_str(c, "QEMU: Terminated\n\r");
        if (c->m) {
            machine_request(c->m, REQ_QUIT, SHUTDOWN_CAUSE_HOST_UI);
        }
        break;
    case 'c':
        if (c->nfe) {
            c->focus = (c->focus + 1) % c->nfe;
            fe_open_one(c, c->focus);
        }
        break;
    case 'b':
        if (c->nfe && c->fe[c->focus].event) {
            c->fe[c->focus].event(c->fe[c->focus].opaque, CHARDEV_BREAK);
        }
        break;
    default:
        break; /* unknown escapes are dropped, as in QEMU */
    }
    return false;
}

static void deliver(struct chardev *c, const uint8_t *buf, size_t len)
{
    struct chardev_frontend *fe;
    size_t start = 0;

    if (!c->nfe) {
        return;
    }
    if (!c->o.mux) {
        c->fe[0].read(c->fe[0].opaque, buf, len);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (!mux_byte(c, buf[i])) {
            /* flush what precedes the consumed byte */
            if (i > start && c->nfe) {
                fe = &c->fe[c->focus];
                fe->read(fe->opaque, buf + start, i - start);
            }
            start = i + 1;
            continue;
        }
        if (buf[i] == MUX_ESCAPE) {
            /* the second Ctrl-A of a pair: send it alone */
            fe = &c->fe[c->focus];
            fe->read(fe->opaque, buf + i, 1);
            start = i + 1;
        }
    }
    if (len > start && c->nfe) {
        fe = &c->fe[c->focus];
        fe->read(fe->opaque, buf + start, len - start);
    }
}

/* ---- input (main thread) -------------------------------------------- */

static void socket_disconnect(struct chardev *c);
static void input_start(struct chardev *c);

#define CHARDEV_RETRY_MS 200

static gboolean retry_cb(gpointer opaque)
{
    struct chardev *c = opaque;

    g_source_unref(c->retry_src);
    c->retry_src = NULL;
    input_start(c);
    return G_SOURCE_REMOVE;
}

/* Queued received fds beyond this are closed at once: a client cannot
 * make vireo hold an unbounded number of descriptors. */
#define CHARDEV_MAX_MSG_FDS 16

static void drop_msg_fds(struct chardev *c)
{
    for (guint i = 0; c->msg_fds && i < c->msg_fds->len; i++) {
        close(g_array_index(c->msg_fds, int, i));
    }
    if (c->msg_fds) {
        g_array_set_size(c->msg_fds, 0);
    }
}

/*
 * recvmsg() so that fds a client passes with SCM_RIGHTS (libvirt sends
 * getfd and its fd in one sendmsg) are kept for the frontend.  Only
 * SCM_RIGHTS is accepted; the fds are made close-on-exec on arrival.
 */
static ssize_t socket_recv(struct chardev *c, uint8_t *buf, size_t len)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * CHARDEV_MAX_MSG_FDS)];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
        .msg_controllen = sizeof(ctl.buf),
    };
    ssize_t n = recvmsg(c->in_fd, &msg, MSG_CMSG_CLOEXEC);

    if (n < 0) {
        return n;
    }
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
        size_t nfds;

        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
            h->cmsg_len < CMSG_LEN(0)) {
            continue;
        }
        nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfds; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
            if (!c->msg_fds) {
                c->msg_fds = g_array_new(FALSE, FALSE, sizeof(int));
            }
            if (c->msg_fds->len >= CHARDEV_MAX_MSG_FDS) {
                close(fd);
                continue;
            }
            g_array_append_val(c->msg_fds, fd);
        }
    }
    return n;
}

int chardev_take_msgfd(struct chardev *c)
{
    int fd;

    if (!c || !c->msg_fds || !c->msg_fds->len) {
        return -1;
    }
    fd = g_array_index(c->msg_fds, int, 0);
    g_array_remove_index(c->msg_fds, 0);
    return fd;
}

static gboolean input_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct chardev *c = opaque;
    uint8_t buf[4096];
    size_t room = input_room(c);
    ssize_t n;

    if (room == 0) {
        /* The frontend is full: wait for chardev_accept_input(), and as a
         * safety net look again now and then (QEMU re-checks can_read on
         * every main loop iteration), so a frontend that forgets to call it
         * is slow, not stuck. */
        g_source_unref(c->in_src);
        c->in_src = NULL;
        if (!c->retry_src) {
            c->retry_src = g_timeout_source_new(CHARDEV_RETRY_MS);
            g_source_set_callback(c->retry_src, retry_cb, c, NULL);
            g_source_attach(c->retry_src, c->ctx);
        }
        return G_SOURCE_REMOVE;
    }
    do {
        n = c->o.be == BE_SOCKET ? socket_recv(c, buf, MIN(room, sizeof(buf)))
                                 : read(c->in_fd, buf, MIN(room, sizeof(buf)));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        g_source_unref(c->in_src);
        c->in_src = NULL;
        if (c->o.be == BE_SOCKET) {
            socket_disconnect(c);
        } else {
            c->in_eof = true; /* e.g. stdin at EOF: stop polling it */
        }
        return G_SOURCE_REMOVE;
    }
    deliver(c, buf, (size_t)n);
    return G_SOURCE_CONTINUE;
}

static void input_start(struct chardev *c)
{
    if (c->in_src || c->in_fd < 0 || c->in_eof) {
        return;
    }
    c->in_src = g_unix_fd_source_new(c->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(c->in_src, (GSourceFunc)(void (*)(void))input_ready,
                          c, NULL);
    /* GLib blocks a source while dispatching it and unblocks it after,
     * which re-adds its fd and signals the context's wakeup eventfd: two
     * extra syscalls per input.  Nothing here runs a nested main loop, so
     * the blocking buys nothing. */
    g_source_set_can_recurse(c->in_src, TRUE);
    g_source_attach(c->in_src, c->ctx);
}

static void input_stop(struct chardev *c)
{
    if (c->in_src) {
        g_source_destroy(c->in_src);
        g_source_unref(c->in_src);
        c->in_src = NULL;
    }
    if (c->retry_src) {
        g_source_destroy(c->retry_src);
        g_source_unref(c->retry_src);
        c->retry_src = NULL;
    }
}

static gboolean resume_cb(gpointer opaque)
{
    struct chardev *c = opaque;

    g_mutex_lock(&c->lock);
    g_source_unref(c->resume_src);
    c->resume_src = NULL;
    g_mutex_unlock(&c->lock);
    if (c->retry_src) {
        /* the frontend has room again: no need to poll it */
        g_source_destroy(c->retry_src);
        g_source_unref(c->retry_src);
        c->retry_src = NULL;
    }
    input_start(c);
    return G_SOURCE_REMOVE;
}

void chardev_accept_input(struct chardev *c)
{
    g_mutex_lock(&c->lock);
    if (!c->resume_src) {
        c->resume_src = g_idle_source_new();
        g_source_set_callback(c->resume_src, resume_cb, c, NULL);
        g_source_attach(c->resume_src, c->ctx);
    }
    g_mutex_unlock(&c->lock);
}

/* ---- sockets -------------------------------------------------------- */

static gboolean listen_ready(gint fd, GIOCondition cond, gpointer opaque);

static void listen_start(struct chardev *c)
{
    if (c->listen_src || c->listen_fd < 0) {
        return;
    }
    c->listen_src = g_unix_fd_source_new(c->listen_fd, G_IO_IN);
    g_source_set_callback(c->listen_src,
                          (GSourceFunc)(void (*)(void))listen_ready, c, NULL);
    g_source_attach(c->listen_src, c->ctx);
}

static void listen_stop(struct chardev *c)
{
    if (c->listen_src) {
        g_source_destroy(c->listen_src);
        g_source_unref(c->listen_src);
        c->listen_src = NULL;
    }
}

static void socket_connected(struct chardev *c, int fd)
{
    if (c->o.nodelay) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    c->conn_fd = fd;
    c->in_fd = fd;
    c->in_eof = false;
    g_mutex_lock(&c->lock);
    c->out_fd = fd;
    g_mutex_unlock(&c->lock);
    listen_stop(c); /* one client at a time */
    input_start(c);
    fe_opened(c);
}

static void socket_disconnect(struct chardev *c)
{
    int fd = c->conn_fd;

    if (fd < 0) {
        return;
    }
    input_stop(c);
    drop_msg_fds(c); /* nobody will take what the client left */
    g_mutex_lock(&c->lock);
    out_unwatch_locked(c);
    g_byte_array_set_size(c->outbuf, 0);
    c->out_fd = -1;
    g_mutex_unlock(&c->lock);
    c->conn_fd = -1;
    c->in_fd = -1;
    close(fd);
    fe_closed(c);
    listen_start(c);
}

bool chardev_disconnect(struct chardev *c)
{
    if (c->o.be != BE_SOCKET || c->conn_fd < 0) {
        return false;
    }
    socket_disconnect(c);
    return true;
}

static gboolean listen_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    struct chardev *c = opaque;
    int s = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (s < 0) {
        return G_SOURCE_CONTINUE; /* EAGAIN, ECONNABORTED... */
    }
    /* socket_connected() removes this source; keep it alive until return */
    g_source_ref(c->listen_src);
    {
        GSource *self = c->listen_src;
        socket_connected(c, s);
        g_source_unref(self);
    }
    return G_SOURCE_REMOVE;
}

static int tcp_socket(struct chardev *c, Error **errp)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    const char *host = c->o.host && *c->o.host ? c->o.host : NULL;
    int s = -1, rc, err = 0;

    if (c->o.server) {
        hints.ai_flags = AI_PASSIVE;
        if (!host) {
            hints.ai_family = AF_INET; /* "tcp::PORT" listens on 0.0.0.0 */
        }
    } else if (!host) {
        host = "localhost";
    }
    rc = getaddrinfo(host, c->o.port, &hints, &res);
    if (rc) {
        error_setg(errp, "address resolution failed for %s:%s: %s",
                   host ? host : "", c->o.port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                   ai->ai_protocol);
        if (s < 0) {
            err = errno;
            continue;
        }
        if (c->o.server) {
            int one = 1;
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 &&
                listen(s, 1) == 0) {
                break;
            }
        } else if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        err = errno;
        close(s);
        s = -1;
    }
    freeaddrinfo(res);
    if (s < 0) {
        error_setg_errno(errp, err, "failed to %s %s:%s",
                         c->o.server ? "listen on" : "connect to",
                         host ? host : "", c->o.port);
        return -1;
    }
    if (c->o.server) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        char hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];

        if (getsockname(s, (struct sockaddr *)&ss, &sl) == 0 &&
            getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof(hbuf), pbuf,
                        sizeof(pbuf), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
            c->bound_host = g_strdup(hbuf);
            c->bound_port = (unsigned)atoi(pbuf);
        }
    }
    return s;
}

static bool set_nonblock(int fd, Error **errp)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        error_setg_errno(errp, errno, "fcntl(O_NONBLOCK) on fd %d", fd);
        return false;
    }
    return true;
}

static bool open_socket(struct chardev *c, Error **errp)
{
    int s;

    c->out_is_socket = true;
    if (c->o.fd >= 0) {
        if (fcntl(c->o.fd, F_GETFD) < 0) {
            error_setg_errno(errp, errno, "fd=%d", c->o.fd);
            return false;
        }
        s = c->o.fd;
    } else if (c->o.path) {
        s = unix_stream_socket(c->o.path, c->o.server, errp);
        c->unlink_path = c->o.server && s >= 0;
    } else {
        s = tcp_socket(c, errp);
    }
    if (s < 0) {
        return false;
    }
    if (!set_nonblock(s, errp)) {
        close(s);
        return false;
    }
    if (!c->o.server) {
        socket_connected(c, s);
        return true;
    }
    c->listen_fd = s;
    if (c->o.wait) {
        /* QEMU's wait=on: block start-up until the first client */
        char *name = chardev_filename(c);
        /* [1]: SIGTERM/SIGINT/SIGHUP (blocked, read through the
         * signalfd) end the wait; main() then dies of the signal. */
        struct pollfd pfd[2] = {
            {.fd = s, .events = POLLIN},
            {.fd = c->m ? c->m->signal_fd : -1, .events = POLLIN}};
        int cl;

        fprintf(stderr, "vireo: waiting for connection on: %s\n", name);
        g_free(name);
        do {
            if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
                error_setg_errno(errp, errno, "poll");
                return false;
            }
            if (pfd[1].revents & POLLIN) {
                error_setg(errp, "interrupted by a signal while waiting for "
                                 "a connection");
                return false;
            }
            cl = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        } while (cl < 0 &&
                 (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED));
        if (cl < 0) {
            error_setg_errno(errp, errno, "accept");
            return false;
        }
        socket_connected(c, cl);
        return true;
    }
    listen_start(c);
    return true;
}

/* ---- stdio, file, pty ----------------------------------------------- */

/* A reader of a pipe we write (stdout into "| less", a FIFO as file path)
 * may go away: that must be an EPIPE for the writer, not a SIGPIPE that
 * kills the VM.  Sockets use MSG_NOSIGNAL; for pipes the disposition is
 * process-wide, as QEMU has it too (it ignores SIGPIPE at start-up). */
static void ignore_sigpipe_for(int fd)
{
    struct stat st;
    struct sigaction sa = {.sa_handler = SIG_IGN};

    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
    }
}

static void raw_mode(struct termios *t, bool keep_signals)
{
    t->c_iflag &=
        ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t->c_oflag |= OPOST;
    t->c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    if (!keep_signals) {
        t->c_lflag &= ~ISIG;
    }
    t->c_cflag &= ~(CSIZE | PARENB);
    t->c_cflag |= CS8;
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
}

static bool open_stdio(struct chardev *c, Error **errp)
{
    struct stat st;

    c->in_fd = STDIN_FILENO;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved_tio) == 0) {
        struct termios t = c->saved_tio;

        c->term_saved = true;
        raw_mode(&t, c->o.signal);
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
    if (fstat(STDOUT_FILENO, &st) < 0) {
        error_setg_errno(errp, errno, "chardev '%s': stdout", c->o.id);
        return false;
    }
    if (S_ISSOCK(st.st_mode)) {
        c->out_fd = STDOUT_FILENO;
        c->out_is_socket = true;
    } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
        int fd = open("/proc/self/fd/1",
                      O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        ignore_sigpipe_for(STDOUT_FILENO);
        if (fd >= 0) {
            c->out_fd = fd;
            c->out_owned = true;
        } else {
            /* no /proc: the shared description has to become non-blocking */
            c->out_fd = STDOUT_FILENO;
            if (!set_nonblock(STDOUT_FILENO, errp)) {
                return false;
            }
        }
    } else {
        c->out_fd = STDOUT_FILENO; /* regular file: writes do not block */
    }
    return true;
}

static bool open_file(struct chardev *c, Error **errp)
{
    /* "/dev/fdset/N" (libvirt opens serial files itself and passes them
     * with -add-fd) or a file name */
    int fd = fdset_open(c->m ? c->m->fdsets : NULL, c->o.path,
                        O_WRONLY | O_CREAT | O_NONBLOCK |
                            (c->o.append ? O_APPEND : O_TRUNC),
                        0666, errp);

    if (fd < 0) {
        error_prepend(errp, "chardev '%s': ", c->o.id);
        return false;
    }
    ignore_sigpipe_for(fd);
    c->out_fd = fd;
    c->out_owned = true;
    return true;
}

static bool open_pty(struct chardev *c, Error **errp)
{
    char name[64];
    struct termios t;
    int master, slave;

    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
        ptsname_r(master, name, sizeof(name)) != 0) {
        error_setg_errno(errp, errno, "chardev '%s': cannot create a pty",
                         c->o.id);
        if (master >= 0) {
            close(master);
        }
        return false;
    }
    /* Keep the slave open ourselves: the master then never reports a
     * hang-up while no client has the pty open (output just queues in the
     * pty and then is dropped by our bound). */
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        error_setg_errno(errp, errno, "chardev '%s': cannot open '%s'", c->o.id,
                         name);
        close(master);
        return false;
    }
    if (tcgetattr(slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(slave, TCSANOW, &t);
    }
    if (!set_nonblock(master, errp)) {
        close(slave);
        close(master);
        return false;
    }
    c->pty_slave_fd = slave;
    c->pty_name = g_strdup(name);
    c->in_fd = master;
    c->out_fd = master;
    c->out_owned = true;
    fprintf(stderr, "char device redirected to %s (label %s)\n", name, c->o.id);
    return true;
}

/* ---- life cycle ----------------------------------------------------- */

struct chardev *chardev_new(struct machine *m, const char *text, Error **errp)
{
    struct chardev *c = g_new0(struct chardev, 1);
    bool ok = false;

    c->m = m;
    c->ctx = m && m->ctx ? m->ctx : g_main_context_default();
    g_mutex_init(&c->lock);
    c->outbuf = g_byte_array_new();
    c->out_bound = CHARDEV_OUT_BOUND;
    c->in_fd = c->out_fd = c->listen_fd = c->conn_fd = c->pty_slave_fd = -1;
    c->log_fd = -1;
    if (!parse_opts(text, &c->o, errp)) {
        c->o.fd = -1;
        chardev_free(c);
        return NULL;
    }
    if (c->o.logfile) {
        c->log_fd = fdset_open(m ? m->fdsets : NULL, c->o.logfile,
                               O_WRONLY | O_CREAT | O_NONBLOCK |
                                   (c->o.logappend ? O_APPEND : O_TRUNC),
                               0666, errp);
        if (c->log_fd < 0) {
            error_prepend(errp, "chardev '%s': logfile: ", c->o.id);
            chardev_free(c);
            return NULL;
        }
        ignore_sigpipe_for(c->log_fd);
    }
    switch (c->o.be) {
    case BE_NULL:
        ok = true;
        break;
    case BE_STDIO:
        ok = open_stdio(c, errp);
        break;
    case BE_FILE:
        ok = open_file(c, errp);
        break;
    case BE_SOCKET:
        ok = open_socket(c, errp);
        break;
    case BE_PTY:
        ok = open_pty(c, errp);
        break;
    }
    if (!ok) {
        chardev_free(c);
        return NULL;
    }
    return c;
}

void chardev_free(struct chardev *c)
{
    if (!c) {
        return;
    }
    input_stop(c);
    listen_stop(c);
    g_mutex_lock(&c->lock);
    out_unwatch_locked(c);
    if (c->resume_src) {
        g_source_destroy(c->resume_src);
        g_source_unref(c->resume_src);
        c->resume_src = NULL;
    }
    g_mutex_unlock(&c->lock);
    if (c->term_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &c->saved_tio);
    }
    if (c->conn_fd >= 0) {
        close(c->conn_fd);
    }
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
    }
    if (c->unlink_path) {
        unlink(c->o.path);
    }
    if (c->out_owned && c->out_fd >= 0) {
        close(c->out_fd);
    }
    if (c->pty_slave_fd >= 0) {
        close(c->pty_slave_fd);
    }
    if (c->log_fd >= 0) {
        close(c->log_fd);
    }
    drop_msg_fds(c);
    if (c->msg_fds) {
        g_array_free(c->msg_fds, TRUE);
    }
    g_free(c->pty_name);
    g_free(c->bound_host);
    g_byte_array_unref(c->outbuf);
    g_mutex_clear(&c->lock);
    opts_clear(&c->o);
    g_free(c);
}

const char *chardev_id(const struct chardev *c)
{
    return c->o.id;
}

const char *chardev_backend_name(const struct chardev *c)
{
    return backend_names[c->o.be];
}

const char *chardev_pty_path(const struct chardev *c)
{
    return c->pty_name;
}

char *chardev_filename(const struct chardev *c)
{
    const char *pre;

    switch (c->o.be) {
    case BE_PTY:
        return g_strdup_printf("pty:%s", c->pty_name);
    case BE_SOCKET:
        pre = c->conn_fd < 0 ? "disconnected:" : "";
        if (c->o.fd >= 0) {
            return g_strdup_printf("%sfd:%d%s", pre, c->o.fd,
                                   c->o.server ? ",server=on" : "");
        }
        if (c->o.path) {
            return g_strdup_printf("%sunix:%s%s", pre, c->o.path,
                                   c->o.server ? ",server=on" : "");
        }
        if (c->o.server && c->bound_host) {
            return g_strdup_printf("%stcp:%s:%u,server=on", pre, c->bound_host,
                                   c->bound_port);
        }
        return g_strdup_printf("%stcp:%s:%s%s", pre,
                               c->o.host && *c->o.host ? c->o.host
                                                       : "localhost",
                               c->o.port, c->o.server ? ",server=on" : "");
    default:
        return g_strdup(backend_names[c->o.be]);
    }
}

bool chardev_is_connected(const struct chardev *c)
{
    if (c->o.be == BE_SOCKET) {
        return c->conn_fd >= 0;
    }
    return true;
}

bool chardev_has_frontend(const struct chardev *c)
{
    return c->nfe > 0;
}

bool chardev_attach(struct chardev *c, const struct chardev_frontend *fe,
                    Error **errp)
{
    if (!fe->read) {
        error_setg(errp, "chardev '%s': frontend has no read callback",
                   c->o.id);
        return false;
    }
    if (c->nfe && !c->o.mux) {
        error_setg(errp,
                   "chardev '%s' is already in use (add mux=on to share "
                   "it)",
                   c->o.id);
        return false;
    }
    if (c->nfe == CHARDEV_MAX_FE) {
        error_setg(errp, "chardev '%s': too many frontends (at most %d)",
                   c->o.id, CHARDEV_MAX_FE);
        return false;
    }
    /* The first frontend keeps the focus: vireo realizes devices (the
     * serial port) before it creates monitors, so with -nographic the
     * guest console has the input first, as in QEMU. */
    c->fe[c->nfe] = *fe;
    c->fe_open[c->nfe] = false;
    c->nfe++;
    fe_open_one(c, c->nfe - 1);
    input_start(c);
    return true;
}

void chardev_detach(struct chardev *c, void *opaque)
{
    for (unsigned i = 0; i < c->nfe; i++) {
        if (c->fe[i].opaque == opaque) {
            memmove(&c->fe[i], &c->fe[i + 1],
                    (c->nfe - i - 1) * sizeof(c->fe[0]));
            memmove(&c->fe_open[i], &c->fe_open[i + 1],
                    (c->nfe - i - 1) * sizeof(c->fe_open[0]));
            c->nfe--;
            if (c->focus > i || c->focus >= c->nfe) {
                c->focus = c->focus ? c->focus - 1 : 0;
            }
            fe_open_one(c, c->focus);
            return;
        }
    }
}

void chardev_restore_terminals(struct machine *m)
{
    if (!m || !m->chardevs) {
        return;
    }
    for (guint i = 0; i < m->chardevs->len; i++) {
        struct chardev *c = g_ptr_array_index(m->chardevs, i);
        if (c->term_saved) {
            tcsetattr(STDIN_FILENO, TCSANOW, &c->saved_tio);
        }
    }
}
