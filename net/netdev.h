/* SPDX-License-Identifier: MIT */
/*
 * netdev.h: network backends (QEMU's -netdev), the layer between a NIC
 * model (hw/net/virtio-net.c) and the host: a tap device (net/tap.c) or
 * libslirp's user-mode stack (net/slirp.c).  Backends know nothing of
 * devices: a NIC attaches as the backend's peer with a receive callback.
 *
 * Frames carry a 12-byte virtio-net header (struct virtio_net_hdr_v1,
 * virtio 1.2 section 5.1.6) in front when nd->vnet_hdr is set (a tap with
 * IFF_VNET_HDR and TUNSETVNETHDRSZ 12), and none otherwise.
 *
 * Threads and locks: receive runs on the thread of the GMainContext the
 * backend was started on, with no backend lock held; the peer takes its
 * own lock.  send, set_offload and resume may be called from any thread
 * with the peer's lock held; a backend never calls the peer from inside
 * them (slirp queues its replies), so the peer's lock is never taken
 * inside a backend lock.  Back-pressure: when receive returns false the
 * backend keeps the frame and stops reading the host until the peer calls
 * netdev_resume() (the guest made rx buffers available, or the machine
 * runs again: see can_receive).
 */
#ifndef NET_NETDEV_H
#define NET_NETDEV_H

#include "util/common.h"
#include "util/error.h"
#include "net/netdev-opts.h"

#include <sys/uio.h>

struct machine;
struct device;
struct netdev;

/* The virtio-net header size used on every backend with a header. */
#define NETDEV_VNET_HDR_LEN 12
/* Largest frame a backend reads or writes (64 KiB GSO + headers). */
#define NETDEV_MAX_FRAME (65536 + 256)

/* Offloads (TUNSETOFFLOAD's TUN_F_* bits): what the peer can receive. */
#define NETDEV_OFFLOAD_CSUM 0x01
#define NETDEV_OFFLOAD_TSO4 0x02
#define NETDEV_OFFLOAD_TSO6 0x04
#define NETDEV_OFFLOAD_TSO_ECN 0x08

struct netdev_peer_ops {
    /* A frame (header included when nd->vnet_hdr) arrived.  Returns false
     * if the peer has no room now: the backend keeps it and pauses. */
    bool (*receive)(void *opaque, const uint8_t *frame, size_t len);
    /* Optional (QEMU's can_receive): false while the peer takes nothing
     * at all (its machine is not running).  The backend then reads
     * nothing from the host (a tap's frames wait in the kernel, slirp's
     * in its bounded queue) until the peer calls netdev_resume(). */
    bool (*can_receive)(void *opaque);
};

struct netdev_ops {
    const char *type; /* "tap", "user" */
    /* Sends one frame (header first when nd->vnet_hdr); false: dropped. */
    bool (*send)(struct netdev *nd, const struct iovec *iov, unsigned n);
    /* What the peer accepts (NETDEV_OFFLOAD_*), after feature
     * negotiation; only with vnet_hdr. */
    bool (*set_offload)(struct netdev *nd, unsigned offloads, Error **errp);
    void (*start)(struct netdev *nd, GMainContext *ctx);
    /* Reads (or delivers) what is pending: the source's dispatch, or a
     * test's hand. */
    void (*poll)(struct netdev *nd);
    void (*resume)(struct netdev *nd);
    void (*free)(struct netdev *nd);
};

struct netdev {
    char *id;
    const struct netdev_ops *ops;
    bool vnet_hdr;         /* frames carry the 12-byte header */
    unsigned offload_caps; /* NETDEV_OFFLOAD_* the backend can take */
    struct device *user;   /* the NIC using it, or NULL */
    const struct netdev_peer_ops *peer;
    void *peer_opaque;
    /* For tests and stats: frames dropped on the way in / out. */
    uint64_t rx_dropped, tx_dropped;
};

/* Opens the backend `o` describes (o->id names it). */
struct netdev *netdev_open(const struct netdev_opts *o, Error **errp);
/* A tap (or any packet fd) backend on fd (taken); with vnet_hdr the fd
 * is a tap that was set up with IFF_VNET_HDR and header size 12. */
struct netdev *netdev_tap_new_fd(const char *id, int fd, bool vnet_hdr,
                                 unsigned offload_caps);
void netdev_free(struct netdev *nd);
/* The backends behind netdev_open (net/tap.c, net/slirp.c). */
struct netdev *netdev_tap_open(const struct netdev_opts *o, Error **errp);
struct netdev *netdev_slirp_open(const struct netdev_opts *o, Error **errp);

/* The peer (a NIC) attaches; starts reading on ctx (NULL: the caller
 * polls by hand, tests). */
void netdev_attach_peer(struct netdev *nd, const struct netdev_peer_ops *ops,
                        void *opaque);
void netdev_start(struct netdev *nd, GMainContext *ctx);
bool netdev_send(struct netdev *nd, const struct iovec *iov, unsigned n);
bool netdev_set_offload(struct netdev *nd, unsigned offloads, Error **errp);
void netdev_resume(struct netdev *nd);
void netdev_poll(struct netdev *nd);
/* For a backend's read loop: true when it must stop reading the host
 * because the peer takes nothing now (can_receive); *resume is the
 * backend's netdev_resume() flag, so a resume racing with the answer is
 * not lost (false then: read on). */
bool netdev_input_held(struct netdev *nd, int *resume);

/* ---- the machine's netdev table ------------------------------------ */

struct machine_config;

/* -netdev TEXT into cfg->netdevs; -nic TEXT into cfg->nics. */
bool machine_config_add_netdev(struct machine_config *cfg, const char *text,
                               Error **errp);
bool machine_config_add_nic(struct machine_config *cfg, const char *text,
                            Error **errp);
/* GDestroyNotify for cfg->netdevs / cfg->nics. */
void netdev_opts_free(gpointer p);
void nic_opts_free(gpointer p);

/* A -nic: its netdev (id "__org.qemu.nicN") and the NIC's keys. */
struct nic_opts {
    struct netdev_opts nd;
    char *model; /* NULL: the board's default NIC */
    char *mac;
};

/* Opens every -netdev and -nic backend of m->cfg into m->netdevs and
 * checks that each -device netdev= names one (before the accelerator, so
 * the errors show on any host). */
bool machine_open_netdevs(struct machine *m, Error **errp);
/* -nic: creates the board's default NIC (or model=) for each. */
bool machine_create_nic_devices(struct machine *m, Error **errp);
/* Takes netdev `id` for dev (QEMU's messages for an unknown or busy id). */
struct netdev *netdev_attach(struct machine *m, const char *id,
                             struct device *dev, Error **errp);
void netdev_detach(struct netdev *nd);
void machine_close_netdevs(struct machine *m);
/* QEMU's default MAC for the next NIC without mac=: 52:54:00:12:34:56,
 * then :57, ... */
void machine_default_mac(struct machine *m, uint8_t mac[6]);

#endif
