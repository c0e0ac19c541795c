/* SPDX-License-Identifier: MIT */
/*
 * slirp.c: the user-mode backend (QEMU's -netdev user) through libslirp
 * (https://gitlab.freedesktop.org/slirp/libslirp, libslirp.h): a NATed
 * 10.0.2.0/24 with DHCP, DNS and hostfwd= redirections, no privileges.
 * Slirp's sockets and timers run on the machine's main context through a
 * GSource (prepare: slirp_pollfds_fill; dispatch: slirp_pollfds_poll and
 * the timers that expired).
 *
 * Lock model: libslirp is single-threaded; every call into it is made
 * under s->lock.  Frames slirp sends to the guest (send_packet, possibly
 * from inside slirp_input on a vCPU thread) are only queued there; the
 * GSource's dispatch hands them to the peer with the lock released, so
 * the peer's lock is never taken inside ours (net/netdev.h).
 */
#include "util/common.h"
#include "net/netdev.h"
#include "util/keyval.h"

#include <arpa/inet.h>
#include <slirp/libslirp.h>

/* Frames queued for a peer that is full or whose machine is stopped;
 * beyond it they are dropped (TCP retransmits), as QEMU's queue drops
 * beyond its bound. */
#define SLIRP_RXQ_MAX 1024

struct stimer {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms; /* -1: not armed */
};

struct nslirp {
    struct netdev nd;
    GMutex lock;
    Slirp *slirp;
    GQueue rxq; /* GBytes *, under lock */
    GPtrArray *timers;
    GPtrArray *pfds; /* GPollFD * added to src */
    GSource *src;
    GMainContext *ctx;
    int resume; /* atomic */
    bool paused;
};

struct slirp_source {
    GSource src;
    struct nslirp *s;
};

static struct nslirp *to_slirp(struct netdev *nd)
{
    return (struct nslirp *)((char *)nd - offsetof(struct nslirp, nd));
}

static int64_t now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* ---- slirp's callbacks (called with s->lock held) ------------------- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct nslirp *s = opaque;

    if (g_queue_get_length(&s->rxq) >= SLIRP_RXQ_MAX) {
        s->nd.rx_dropped++;
        return (ssize_t)len;
    }
    g_queue_push_tail(&s->rxq, g_bytes_new(buf, len));
    if (s->ctx) {
        g_main_context_wakeup(s->ctx);
    }
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    /* a malformed guest packet: slirp drops it; nothing to do */
}

static int64_t cb_clock_get_ns(void *opaque)
{
    return g_get_monotonic_time() * 1000;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct nslirp *s = opaque;
    struct stimer *t = g_new0(struct stimer, 1);

    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    g_ptr_array_add(s->timers, t);
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct nslirp *s = opaque;

    g_ptr_array_remove_fast(s->timers, timer);
    g_free(timer);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    ((struct stimer *)timer)->expire_ms = expire_ms;
}

static void cb_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
    struct nslirp *s = opaque;

    if (s->ctx) {
        g_main_context_wakeup(s->ctx);
    }
}

static const SlirpCb slirp_cbs = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_poll_fd,
    .unregister_poll_fd = cb_poll_fd,
    .notify = cb_notify,
};

/* ---- the main-context source ---------------------------------------- */

static int add_poll(int fd, int events, void *opaque)
{
    struct nslirp *s = opaque;
    GPollFD *p = g_new0(GPollFD, 1);

    p->fd = fd;
    p->events = (events & SLIRP_POLL_IN ? G_IO_IN : 0) |
                (events & SLIRP_POLL_OUT ? G_IO_OUT : 0) |
                (events & SLIRP_POLL_PRI ? G_IO_PRI : 0) |
                (events & SLIRP_POLL_ERR ? G_IO_ERR : 0) |
                (events & SLIRP_POLL_HUP ? G_IO_HUP : 0);
    g_ptr_array_add(s->pfds, p);
    if (s->src) {
        g_source_add_poll(s->src, p);
    }
    return (int)s->pfds->len - 1;
}

static int get_revents(int idx, void *opaque)
{
    struct nslirp *s = opaque;
    GPollFD *p;
    int r = 0;

    if (idx < 0 || (guint)idx >= s->pfds->len) {
        return 0;
    }
    p = g_ptr_array_index(s->pfds, idx);
    r |= p->revents & G_IO_IN ? SLIRP_POLL_IN : 0;
    r |= p->revents & G_IO_OUT ? SLIRP_POLL_OUT : 0;
    r |= p->revents & G_IO_PRI ? SLIRP_POLL_PRI : 0;
    r |= p->revents & G_IO_ERR ? SLIRP_POLL_ERR : 0;
    r |= p->revents & G_IO_HUP ? SLIRP_POLL_HUP : 0;
    return r;
}

static void clear_pfds(struct nslirp *s)
{
    for (guint i = 0; i < s->pfds->len; i++) {
        if (s->src) {
            g_source_remove_poll(s->src, g_ptr_array_index(s->pfds, i));
        }
    }
    g_ptr_array_set_size(s->pfds, 0);
}

static bool rx_ready(struct nslirp *s)
{
    return !g_queue_is_empty(&s->rxq) &&
           (!s->paused || __atomic_load_n(&s->resume, __ATOMIC_SEQ_CST));
}

static gboolean slirp_src_prepare(GSource *src, gint *timeout)
{
    struct nslirp *s = ((struct slirp_source *)src)->s;
    uint32_t t = UINT32_MAX;
    int64_t now = now_ms();
    bool ready;

    g_mutex_lock(&s->lock);
    clear_pfds(s);
    slirp_pollfds_fill(s->slirp, &t, add_poll, s);
    for (guint i = 0; i < s->timers->len; i++) {
        struct stimer *tm = g_ptr_array_index(s->timers, i);

        if (tm->expire_ms >= 0) {
            t = (uint32_t)MIN((int64_t)t, MAX(tm->expire_ms - now, 0));
        }
    }
    ready = rx_ready(s);
    g_mutex_unlock(&s->lock);
    *timeout = t == UINT32_MAX ? -1 : (gint)MIN(t, (uint32_t)INT32_MAX);
    return ready || t == 0;
}

static gboolean slirp_src_check(GSource *src)
{
    struct nslirp *s = ((struct slirp_source *)src)->s;
    int64_t now = now_ms();
    bool ready = false;

    g_mutex_lock(&s->lock);
    for (guint i = 0; i < s->pfds->len && !ready; i++) {
        ready = ((GPollFD *)g_ptr_array_index(s->pfds, i))->revents != 0;
    }
    for (guint i = 0; i < s->timers->len && !ready; i++) {
        struct stimer *tm = g_ptr_array_index(s->timers, i);

        ready = tm->expire_ms >= 0 && tm->expire_ms <= now;
    }
    ready = ready || rx_ready(s);
    g_mutex_unlock(&s->lock);
    return ready;
}

/* Hands queued frames to the peer (no lock held while it runs). */
static void deliver(struct nslirp *s)
{
    struct netdev *nd = &s->nd;

    if (__atomic_exchange_n(&s->resume, 0, __ATOMIC_SEQ_CST)) {
        s->paused = false;
    }
    while (!s->paused) {
        GBytes *b;
        gsize len;
        const uint8_t *p;

        /* a stopped machine: slirp runs on, its frames wait in rxq */
        if (netdev_input_held(nd, &s->resume)) {
            s->paused = true;
            break;
        }
        g_mutex_lock(&s->lock);
        b = g_queue_pop_head(&s->rxq);
        g_mutex_unlock(&s->lock);
        if (!b) {
            break;
        }
        p = g_bytes_get_data(b, &len);
        if (nd->peer && !nd->peer->receive(nd->peer_opaque, p, len)) {
            g_mutex_lock(&s->lock);
            g_queue_push_head(&s->rxq, b);
            g_mutex_unlock(&s->lock);
            s->paused = !__atomic_exchange_n(&s->resume, 0, __ATOMIC_SEQ_CST);
            continue;
        }
        g_bytes_unref(b);
    }
}

static void run_timers(struct nslirp *s)
{
    int64_t now = now_ms();

    /* a callback may re-arm or free timers: rescan after each */
    for (bool again = true; again;) {
        again = false;
        for (guint i = 0; i < s->timers->len; i++) {
            struct stimer *tm = g_ptr_array_index(s->timers, i);

            if (tm->expire_ms >= 0 && tm->expire_ms <= now) {
                tm->expire_ms = -1;
                tm->cb(tm->cb_opaque);
                again = true;
                break;
            }
        }
    }
}

static gboolean slirp_src_dispatch(GSource *src, GSourceFunc cb, gpointer d)
{
    struct nslirp *s = ((struct slirp_source *)src)->s;

    g_mutex_lock(&s->lock);
    slirp_pollfds_poll(s->slirp, 0, get_revents, s);
    run_timers(s);
    g_mutex_unlock(&s->lock);
    deliver(s);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs slirp_src_funcs = {
    .prepare = slirp_src_prepare,
    .check = slirp_src_check,
    .dispatch = slirp_src_dispatch,
};

/* ---- netdev ops ----------------------------------------------------- */

static bool nslirp_send(struct netdev *nd, const struct iovec *iov, unsigned n)
{
    struct nslirp *s = to_slirp(nd);
    size_t len = 0, off = 0;
    uint8_t *buf;

    for (unsigned i = 0; i < n; i++) {
        len += iov[i].iov_len;
    }
    if (len > NETDEV_MAX_FRAME) {
        return false;
    }
    buf = g_malloc(len);
    for (unsigned i = 0; i < n; i++) {
        memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    g_mutex_lock(&s->lock);
    slirp_input(s->slirp, buf, (int)len);
    g_mutex_unlock(&s->lock);
    g_free(buf);
    return true;
}

static bool nslirp_set_offload(struct netdev *nd, unsigned off, Error **errp)
{
    return off == 0;
}

static void nslirp_start(struct netdev *nd, GMainContext *ctx)
{
    struct nslirp *s = to_slirp(nd);
    GSource *src;

    if (!ctx || s->src) {
        return;
    }
    src = g_source_new(&slirp_src_funcs, sizeof(struct slirp_source));
    ((struct slirp_source *)src)->s = s;
    g_mutex_lock(&s->lock);
    s->ctx = ctx;
    s->src = src;
    g_mutex_unlock(&s->lock);
    g_source_attach(src, ctx);
}

static void nslirp_poll(struct netdev *nd)
{
    struct nslirp *s = to_slirp(nd);

    g_mutex_lock(&s->lock);
    run_timers(s);
    g_mutex_unlock(&s->lock);
    deliver(s);
}

static void nslirp_resume(struct netdev *nd)
{
    struct nslirp *s = to_slirp(nd);

    __atomic_store_n(&s->resume, 1, __ATOMIC_SEQ_CST);
    if (s->ctx) {
        g_main_context_wakeup(s->ctx);
    }
}

static void nslirp_free(struct netdev *nd)
{
    struct nslirp *s = to_slirp(nd);
    GBytes *b;

    if (s->src) {
        g_source_destroy(s->src);
    }
    g_mutex_lock(&s->lock);
    clear_pfds(s);
    g_mutex_unlock(&s->lock);
    if (s->src) {
        g_source_unref(s->src);
    }
    slirp_cleanup(s->slirp);
    while ((b = g_queue_pop_head(&s->rxq))) {
        g_bytes_unref(b);
    }
    g_ptr_array_free(s->timers, TRUE);
    g_ptr_array_free(s->pfds, TRUE);
    g_mutex_clear(&s->lock);
    g_free(s);
}

static const struct netdev_ops slirp_ops = {
    .type = "user",
    .send = nslirp_send,
    .set_offload = nslirp_set_offload,
    .start = nslirp_start,
    .poll = nslirp_poll,
    .resume = nslirp_resume,
    .free = nslirp_free,
};

/* ---- opening -------------------------------------------------------- */

static bool parse_ip(const char *s, const char *key, struct in_addr *a,
                     Error **errp)
{
    if (inet_pton(AF_INET, s, a) != 1) {
        error_setg(errp, "Parameter '%s' expects an IPv4 address, not '%s'",
                   key, s);
        return false;
    }
    return true;
}

/* net= "ADDR[/BITS]" (QEMU's default 10.0.2.0/24). */
static bool parse_net(const char *s, struct in_addr *net, struct in_addr *mask,
                      Error **errp)
{
    g_autofree char *addr = g_strdup(s);
    char *slash = strchr(addr, '/');
    uint64_t bits = 24;

    if (slash) {
        *slash = '\0';
        if (!parse_u64(slash + 1, &bits) || bits < 1 || bits > 30) {
            error_setg(errp,
                       "Invalid net= '%s' (expected ADDR/BITS, BITS "
                       "in 1..30)",
                       s);
            return false;
        }
    }
    if (!parse_ip(addr, "net", net, errp)) {
        return false;
    }
    mask->s_addr = htonl(~0u << (32 - bits));
    net->s_addr &= mask->s_addr;
    return true;
}

static struct in_addr host_nr(struct in_addr net, uint32_t n)
{
    struct in_addr a = {htonl(ntohl(net.s_addr) | n)};

    return a;
}

struct netdev *netdev_slirp_open(const struct netdev_opts *o, Error **errp)
{
    SlirpConfig cfg = {.version = 1, .in_enabled = true};
    struct nslirp *s;

    if (!parse_net(o->net ? o->net : "10.0.2.0/24", &cfg.vnetwork,
                   &cfg.vnetmask, errp)) {
        return NULL;
    }
    cfg.vhost = host_nr(cfg.vnetwork, 2);
    cfg.vdhcp_start = host_nr(cfg.vnetwork, 15);
    cfg.vnameserver = host_nr(cfg.vnetwork, 3);
    if ((o->host && !parse_ip(o->host, "host", &cfg.vhost, errp)) ||
        (o->dhcpstart &&
         !parse_ip(o->dhcpstart, "dhcpstart", &cfg.vdhcp_start, errp))) {
        return NULL;
    }
    if ((cfg.vhost.s_addr & cfg.vnetmask.s_addr) != cfg.vnetwork.s_addr ||
        (cfg.vdhcp_start.s_addr & cfg.vnetmask.s_addr) != cfg.vnetwork.s_addr) {
        error_setg(errp, "host= and dhcpstart= must be inside net=");
        return NULL;
    }
    s = g_new0(struct nslirp, 1);
    s->nd.id = g_strdup(o->id);
    s->nd.ops = &slirp_ops;
    g_mutex_init(&s->lock);
    g_queue_init(&s->rxq);
    s->timers = g_ptr_array_new();
    s->pfds = g_ptr_array_new_with_free_func(g_free);
    s->slirp = slirp_new(&cfg, &slirp_cbs, s);
    if (!s->slirp) {
        error_setg(errp, "libslirp could not be set up");
        netdev_free(&s->nd);
        return NULL;
    }
    for (guint i = 0; o->hostfwd && i < o->hostfwd->len; i++) {
        const struct netdev_hostfwd *f = g_ptr_array_index(o->hostfwd, i);
        struct in_addr h = {INADDR_ANY}, g = cfg.vdhcp_start;

        if ((f->host_addr && !parse_ip(f->host_addr, "hostfwd", &h, errp)) ||
            (f->guest_addr && !parse_ip(f->guest_addr, "hostfwd", &g, errp))) {
            netdev_free(&s->nd);
            return NULL;
        }
        if (slirp_add_hostfwd(s->slirp, f->udp, h, f->host_port, g,
                              f->guest_port) < 0) {
            error_setg(errp,
                       "could not set up host forwarding rule "
                       "'%s:%s:%u-%s:%u'",
                       f->udp ? "udp" : "tcp", f->host_addr ? f->host_addr : "",
                       f->host_port, f->guest_addr ? f->guest_addr : "",
                       f->guest_port);
            netdev_free(&s->nd);
            return NULL;
        }
    }
    return &s->nd;
}
