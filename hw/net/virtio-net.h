/* SPDX-License-Identifier: MIT */
/*
 * virtio-net.h: the virtio network device model (virtio 1.2 section 5.1),
 * transport-independent: virtio-net-device (virtio-mmio) and
 * virtio-net-pci bind it to a transport.  One receive and one transmit
 * queue, and a control queue (rx mode and MAC table commands acknowledged)
 * when ctrl_vq=on; frames go to and come from a net backend
 * (net/netdev.h).  Checksum and TSO offloads are offered when the backend
 * carries virtio-net headers (a tap with IFF_VNET_HDR); the offloads the
 * guest accepts for receiving go to the tap with TUNSETOFFLOAD.
 */
#ifndef HW_NET_VIRTIO_NET_H
#define HW_NET_VIRTIO_NET_H

#include "util/common.h"
#include "util/error.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-model.h"
#include "hw/virtio/virtio.h"

struct netdev;

#define VIRTIO_ID_NET 1

/* Feature bits (spec 5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18

#define VIRTIO_NET_S_LINK_UP 1

/* struct virtio_net_hdr_v1 (spec 5.1.6): flags, gso_type, hdr_len,
 * gso_size, csum_start, csum_offset, num_buffers. */
#define VIRTIO_NET_HDR_LEN 12
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

/* Control queue (spec 5.1.6.5). */
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1

/* mac, status, max_virtqueue_pairs */
#define VIRTIO_NET_CONFIG_SIZE 10
#define VIRTIO_NET_QUEUE_SIZE 256
/* Shortest frame sent: an Ethernet header. */
#define VIRTIO_NET_MIN_FRAME 14

struct virtio_net {
    GMutex *lock; /* the transport device's lock (NULL: standalone) */
    /* properties (QEMU's names) */
    char *netdev;
    char *mac_prop;
    bool csum, guest_csum;
    bool host_tso4, host_tso6, host_ecn;
    bool guest_tso4, guest_tso6, guest_ecn;
    bool mrg_rxbuf, status, ctrl_vq, ctrl_rx;
    /* state */
    struct virtio_dev vdev;
    struct netdev *nd; /* NULL: no backend (frames dropped, as QEMU) */
    uint8_t mac[6];
    bool link_up;
    /* rx buffers popped and not yet used (a frame that did not fit) */
    struct virtq_elem **rx_held;
    unsigned rx_nheld;
    struct iovec *tx_iov; /* VIRTQ_MAX_SEGS + 1 */
    /* the machine runs (atomic: the backend asks without the lock); a
     * standalone model always does */
    int running;
    /* queues kicked while the machine did not run (after a load): served
     * when it runs again, bit n for queue n */
    unsigned deferred;
    uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
};

#define VIRTIO_NET_FEATURE_PROP(base, name, field, def, what)                  \
    {                                                                          \
        name, PROP_BOOL, (base) + offsetof(struct virtio_net, field), def,     \
            what                                                               \
    }

/* QEMU's -device virtio-net-* properties, offsets plus `base` (see
 * hw/virtio/virtio-model.h). */
#define VIRTIO_NET_PROPS(base)                                                 \
    {"netdev", PROP_STR, (base) + offsetof(struct virtio_net, netdev), NULL,   \
     "id of the -netdev backend"},                                             \
        {"mac", PROP_STR, (base) + offsetof(struct virtio_net, mac_prop),      \
         NULL, "MAC address (default 52:54:00:12:34:56 + n)"},                 \
        VIRTIO_NET_FEATURE_PROP(base, "csum", csum, "on",                      \
                                "offer VIRTIO_NET_F_CSUM"),                    \
        VIRTIO_NET_FEATURE_PROP(base, "guest_csum", guest_csum, "on",          \
                                "offer VIRTIO_NET_F_GUEST_CSUM"),              \
        VIRTIO_NET_FEATURE_PROP(base, "host_tso4", host_tso4, "on",            \
                                "offer VIRTIO_NET_F_HOST_TSO4"),               \
        VIRTIO_NET_FEATURE_PROP(base, "host_tso6", host_tso6, "on",            \
                                "offer VIRTIO_NET_F_HOST_TSO6"),               \
        VIRTIO_NET_FEATURE_PROP(base, "host_ecn", host_ecn, "on",              \
                                "offer VIRTIO_NET_F_HOST_ECN"),                \
        VIRTIO_NET_FEATURE_PROP(base, "guest_tso4", guest_tso4, "on",          \
                                "offer VIRTIO_NET_F_GUEST_TSO4"),              \
        VIRTIO_NET_FEATURE_PROP(base, "guest_tso6", guest_tso6, "on",          \
                                "offer VIRTIO_NET_F_GUEST_TSO6"),              \
        VIRTIO_NET_FEATURE_PROP(base, "guest_ecn", guest_ecn, "on",            \
                                "offer VIRTIO_NET_F_GUEST_ECN"),               \
        VIRTIO_NET_FEATURE_PROP(base, "mrg_rxbuf", mrg_rxbuf, "on",            \
                                "offer VIRTIO_NET_F_MRG_RXBUF"),               \
        VIRTIO_NET_FEATURE_PROP(base, "status", status, "on",                  \
                                "offer VIRTIO_NET_F_STATUS"),                  \
        VIRTIO_NET_FEATURE_PROP(base, "ctrl_vq", ctrl_vq, "on",                \
                                "offer VIRTIO_NET_F_CTRL_VQ"),                 \
        VIRTIO_NET_FEATURE_PROP(base, "ctrl_rx", ctrl_rx, "on",                \
                                "offer VIRTIO_NET_F_CTRL_RX")

extern const struct prop virtio_net_props[];
/* The model both transports bind (hw/virtio/virtio-model.h). */
extern const struct virtio_model_class virtio_net_model;
extern const struct device_class virtio_net_device_class;

void virtio_net_set_defaults(struct virtio_net *s);
/* "52:54:00:12:34:56" into mac; false if malformed. */
bool virtio_net_parse_mac(const char *s, uint8_t mac[6]);
/* Checks the properties and sets up the device on backend nd (not
 * owned; NULL: none).  The caller binds a transport, then attaches. */
bool virtio_net_setup(struct virtio_net *s, struct netdev *nd,
                      const uint8_t mac[6], struct guest_mem *gm,
                      struct vlog *log, Error **errp);
/* Becomes the backend's peer and starts it on ctx (NULL: tests poll). */
void virtio_net_attach(struct virtio_net *s, GMainContext *ctx);
void virtio_net_teardown(struct virtio_net *s);
/* A frame from the backend (the peer's receive; takes s->lock). */
bool virtio_net_receive(void *opaque, const uint8_t *frame, size_t len);
/* The driver's transmit header checked against the negotiated features
 * and the frame length (bytes after the header): NULL if acceptable, or
 * why not.  Pure: the fuzz target's entry point. */
const char *virtio_net_tx_hdr_check(const uint8_t hdr[VIRTIO_NET_HDR_LEN],
                                    uint64_t frame_len, uint64_t features);

#endif
