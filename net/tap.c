/* SPDX-License-Identifier: MIT */
/*
 * tap.c: the tap backend (QEMU's -netdev tap): /dev/net/tun opened with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (Linux Documentation/networking/
 * tuntap.rst), the 12-byte virtio-net header (TUNSETVNETHDRSZ) and the
 * offloads the guest negotiated (TUNSETOFFLOAD), or an fd handed over by
 * libvirt.  Any packet fd works (a socketpair in tests): one read or
 * write is one frame.
 *
 * The fd is watched by a GSource on the machine's main context.  A frame
 * the peer cannot take yet stays in the backend's buffer and the fd is
 * no longer polled (back-pressure), until netdev_resume() - from any
 * thread - sets `resume` and wakes the context.  The same holds while the
 * peer takes nothing at all (its machine is stopped: can_receive), before
 * anything is read, so those frames stay in the kernel's queue.
 */
#include "util/common.h"
#include "net/netdev.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TAP_PATH "/dev/net/tun"
/* Frames read per dispatch: other sources get their turn. */
#define TAP_BURST 64

struct tap {
    struct netdev nd;
    int fd;
    GSource *src;
    gpointer tag;
    GMainContext *ctx;
    int resume; /* atomic: the peer has room again */
    bool paused;
    uint8_t *buf;
    size_t pending; /* a frame in buf the peer has not taken */
};

struct tap_source {
    GSource src;
    struct tap *t;
};

static struct tap *to_tap(struct netdev *nd)
{
    return (struct tap *)((char *)nd - offsetof(struct tap, nd));
}

static bool tap_send(struct netdev *nd, const struct iovec *iov, unsigned n)
{
    struct tap *t = to_tap(nd);
    ssize_t r;

    do {
        r = writev(t->fd, iov, (int)n);
    } while (r < 0 && errno == EINTR);
    /* a full tap queue (EAGAIN) drops, as a full NIC queue would */
    return r >= 0;
}

static bool tap_set_offload(struct netdev *nd, unsigned offloads, Error **errp)
{
    struct tap *t = to_tap(nd);
    unsigned f = 0;

    if (!nd->vnet_hdr) {
        return offloads == 0;
    }
    f |= offloads & NETDEV_OFFLOAD_CSUM ? TUN_F_CSUM : 0;
    f |= offloads & NETDEV_OFFLOAD_TSO4 ? TUN_F_TSO4 : 0;
    f |= offloads & NETDEV_OFFLOAD_TSO6 ? TUN_F_TSO6 : 0;
    f |= offloads & NETDEV_OFFLOAD_TSO_ECN ? TUN_F_TSO_ECN : 0;
    if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)f) < 0) {
        error_setg_errno(errp, errno, "TUNSETOFFLOAD 0x%x on netdev '%s'", f,
                         nd->id);
        return false;
    }
    return true;
}

/* Delivers the pending frame; false: the peer is full (paused now). */
static bool tap_deliver(struct tap *t)
{
    struct netdev *nd = &t->nd;

    __atomic_store_n(&t->resume, 0, __ATOMIC_SEQ_CST);
    if (!nd->peer || nd->peer->receive(nd->peer_opaque, t->buf, t->pending)) {
        t->pending = 0;
        t->paused = false;
        return true;
    }
    /* a resume between the peer's "full" and here is not lost: the
     * flag is checked again before the fd is left alone */
    t->paused = !__atomic_load_n(&t->resume, __ATOMIC_SEQ_CST);
    return false;
}

static void tap_poll(struct netdev *nd)
{
    struct tap *t = to_tap(nd);

    for (unsigned i = 0; i < TAP_BURST; i++) {
        ssize_t r;

        /* a stopped machine: frames wait in the tap's kernel queue (the
         * kernel drops beyond it, as a full wire would) */
        if (netdev_input_held(nd, &t->resume)) {
            t->paused = true;
            break;
        }
        if (t->pending) {
            if (!tap_deliver(t)) {
                if (t->paused) {
                    break;
                }
                continue;
            }
        }
        r = read(t->fd, t->buf, NETDEV_MAX_FRAME);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break; /* EAGAIN, or EOF of a socketpair stand-in */
        }
        if (nd->vnet_hdr && r < NETDEV_VNET_HDR_LEN) {
            nd->rx_dropped++;
            continue;
        }
        t->pending = (size_t)r;
    }
    if (t->src) {
        g_source_modify_unix_fd(t->src, t->tag, t->paused ? 0 : G_IO_IN);
    }
}

static void tap_resume(struct netdev *nd)
{
    struct tap *t = to_tap(nd);

    __atomic_store_n(&t->resume, 1, __ATOMIC_SEQ_CST);
    if (t->ctx) {
        g_main_context_wakeup(t->ctx);
    }
}

static gboolean tap_src_prepare(GSource *s, gint *timeout)
{
    struct tap *t = ((struct tap_source *)s)->t;

    *timeout = -1;
    return __atomic_load_n(&t->resume, __ATOMIC_SEQ_CST) != 0;
}

static gboolean tap_src_check(GSource *s)
{
    struct tap *t = ((struct tap_source *)s)->t;

    return __atomic_load_n(&t->resume, __ATOMIC_SEQ_CST) ||
           (g_source_query_unix_fd(s, t->tag) & (G_IO_IN | G_IO_HUP));
}

static gboolean tap_src_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    struct tap *t = ((struct tap_source *)s)->t;

    if (__atomic_exchange_n(&t->resume, 0, __ATOMIC_SEQ_CST)) {
        t->paused = false;
    }
    tap_poll(&t->nd);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs tap_src_funcs = {
    .prepare = tap_src_prepare,
    .check = tap_src_check,
    .dispatch = tap_src_dispatch,
};

static void tap_start(struct netdev *nd, GMainContext *ctx)
{
    struct tap *t = to_tap(nd);
    GSource *s;

    if (!ctx || t->src) {
        return;
    }
    s = g_source_new(&tap_src_funcs, sizeof(struct tap_source));
    ((struct tap_source *)s)->t = t;
    t->tag = g_source_add_unix_fd(s, t->fd, G_IO_IN);
    t->ctx = ctx;
    t->src = s;
    g_source_attach(s, ctx);
}

static void tap_free(struct netdev *nd)
{
    struct tap *t = to_tap(nd);

    if (t->src) {
        g_source_destroy(t->src);
        g_source_unref(t->src);
    }
    if (t->fd >= 0) {
        close(t->fd);
    }
    g_free(t->buf);
    g_free(t);
}

static const struct netdev_ops tap_ops = {
    .type = "tap",
    .send = tap_send,
    .set_offload = tap_set_offload,
    .start = tap_start,
    .poll = tap_poll,
    .resume = tap_resume,
    .free = tap_free,
};

struct netdev *netdev_tap_new_fd(const char *id, int fd, bool vnet_hdr,
                                 unsigned offload_caps)
{
    struct tap *t = g_new0(struct tap, 1);

    t->nd.id = g_strdup(id);
    t->nd.ops = &tap_ops;
    t->nd.vnet_hdr = vnet_hdr;
    t->nd.offload_caps = vnet_hdr ? offload_caps : 0;
    t->fd = fd;
    t->buf = g_malloc(NETDEV_MAX_FRAME);
    return &t->nd;
}

/* The offloads this tap takes: each TUN_F_* tried alone (an old kernel
 * refuses what it does not know), then cleared. */
static unsigned probe_offloads(int fd)
{
    static const struct {
        unsigned tun, caps;
    } bits[] = {
        {TUN_F_CSUM, NETDEV_OFFLOAD_CSUM},
        {TUN_F_CSUM | TUN_F_TSO4, NETDEV_OFFLOAD_TSO4},
        {TUN_F_CSUM | TUN_F_TSO6, NETDEV_OFFLOAD_TSO6},
        {TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN, NETDEV_OFFLOAD_TSO_ECN}};
    unsigned caps = 0;

    for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
        if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)bits[i].tun) == 0) {
            caps |= bits[i].caps;
        }
    }
    ioctl(fd, TUNSETOFFLOAD, 0UL);
    return caps;
}

/* Header size 12 (virtio 1.x: num_buffers always present). */
static bool set_hdr_len(int fd, const char *name, Error **errp)
{
    int len = NETDEV_VNET_HDR_LEN;

    if (ioctl(fd, TUNSETVNETHDRSZ, &len) < 0) {
        error_setg_errno(errp, errno, "TUNSETVNETHDRSZ on %s", name);
        return false;
    }
    return true;
}

static int tap_open_dev(const struct netdev_opts *o, bool *vnet_hdr,
                        Error **errp)
{
    struct ifreq ifr = {0};
    unsigned features = 0;
    int fd = open(TAP_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "could not open %s", TAP_PATH);
        return -1;
    }
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNGETFEATURES, &features) < 0) {
        features = 0;
    }
    *vnet_hdr = (features & IFF_VNET_HDR) && o->vnet_hdr != NETDEV_VNET_HDR_OFF;
    if (o->vnet_hdr == NETDEV_VNET_HDR_ON && !*vnet_hdr) {
        error_setg(errp, "vnet_hdr=1 requested, but no kernel support for "
                         "IFF_VNET_HDR available");
        close(fd);
        return -1;
    }
    if (*vnet_hdr) {
        ifr.ifr_flags |= IFF_VNET_HDR;
    }
    if (o->ifname) {
        if (strlen(o->ifname) >= IFNAMSIZ) {
            error_setg(errp, "Interface name too long: %s", o->ifname);
            close(fd);
            return -1;
        }
        g_strlcpy(ifr.ifr_name, o->ifname, IFNAMSIZ);
    } else {
        g_strlcpy(ifr.ifr_name, "tap%d", IFNAMSIZ);
    }
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        /* QEMU's words */
        error_setg_errno(errp, errno, "could not configure %s (%s)", TAP_PATH,
                         ifr.ifr_name);
        close(fd);
        return -1;
    }
    if (*vnet_hdr && !set_hdr_len(fd, ifr.ifr_name, errp)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* fd= from libvirt: a tap already set up (its IFF_VNET_HDR decides), or
 * any other packet fd, used without a header. */
static bool tap_take_fd(const struct netdev_opts *o, bool *vnet_hdr,
                        Error **errp)
{
    struct ifreq ifr = {0};
    int fl = fcntl(o->fd, F_GETFL);

    if (fl < 0 || fcntl(o->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        error_setg_errno(errp, errno, "Can't use file descriptor %d", o->fd);
        return false;
    }
    *vnet_hdr =
        ioctl(o->fd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR);
    if (o->vnet_hdr == NETDEV_VNET_HDR_ON && !*vnet_hdr) {
        error_setg(errp, "vnet_hdr=1 requested, but no kernel support for "
                         "IFF_VNET_HDR available");
        return false;
    }
    return !*vnet_hdr || set_hdr_len(o->fd, "fd", errp);
}

struct netdev *netdev_tap_open(const struct netdev_opts *o, Error **errp)
{
    bool vnet_hdr = false;
    int fd;

    if (o->fd >= 0) {
        if (!tap_take_fd(o, &vnet_hdr, errp)) {
            return NULL;
        }
        fd = o->fd; /* ours now, closed with the backend */
    } else {
        fd = tap_open_dev(o, &vnet_hdr, errp);
        if (fd < 0) {
            return NULL;
        }
    }
    return netdev_tap_new_fd(o->id, fd, vnet_hdr,
                             vnet_hdr ? probe_offloads(fd) : 0);
}
