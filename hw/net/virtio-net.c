/* SPDX-License-Identifier: MIT */
/*
 * virtio-net.c: the virtio network device (virtio 1.2 section 5.1) over
 * the virtio core and a net backend; see virtio-net.h.
 *
 * Receive: a frame from the backend goes into rx buffers the driver made
 * available; with VIRTIO_NET_F_MRG_RXBUF across as many as it needs
 * (num_buffers in the header, all published at once).  When the ring has
 * too few buffers the device says "full": the backend keeps the frame and
 * stops reading the tap until the driver kicks the rx queue (5.1.6.3).
 * While the machine is not running, or the driver has not set
 * DRIVER_OK, nothing is taken at all (the peer's can_receive: a tap's
 * frames stay in the kernel) and kicks wait; both go on when it runs
 * (vnet_model_run_state) or at DRIVER_OK (vnet_driver_ok).
 * Transmit: on a kick, each chain is a header and a frame; a header the
 * negotiated features do not allow is dropped (logged), a chain without
 * a header breaks the device (the driver violated 5.1.6.2).
 *
 * Migration: the model's own state is what the guest can see that its
 * properties do not give: the MAC in the config space and the link
 * status (QEMU's virtio-net carries both; the loaded MAC wins over the
 * destination's property, as in QEMU).  Transmit and control chains are
 * completed before the kick returns, so only held rx buffers can be in
 * flight at a save: they are given back to the ring (drain).  After a
 * load the tap of a NIC in use gets the offloads the driver accepted, and
 * one RARP frame announces the MAC to the network (QEMU's self-announce).
 */
#include "util/common.h"
#include "hw/net/virtio-net.h"
#include "hw/virtio/virtio-mmio.h"
#include "migration/vmstate.h"
#include "net/netdev.h"
#include "system/machine.h"
#include "util/bytes.h"
#include "util/log.h"

const struct prop virtio_net_props[] = {VIRTIO_NET_PROPS(0), PROP_END};

void virtio_net_set_defaults(struct virtio_net *s)
{
    s->csum = s->guest_csum = true;
    s->host_tso4 = s->host_tso6 = s->host_ecn = true;
    s->guest_tso4 = s->guest_tso6 = s->guest_ecn = true;
    s->mrg_rxbuf = s->status = s->ctrl_vq = s->ctrl_rx = true;
}

static struct virtio_net *to_net(struct virtio_dev *vdev)
{
    return (struct virtio_net *)((char *)vdev -
                                 offsetof(struct virtio_net, vdev));
}

bool virtio_net_parse_mac(const char *s, uint8_t mac[6])
{
    for (unsigned i = 0; i < 6; i++) {
        if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1]) ||
            s[2] != (i < 5 ? ':' : '\0')) {
            return false;
        }
        mac[i] = (uint8_t)(g_ascii_xdigit_value(s[0]) << 4 |
                           g_ascii_xdigit_value(s[1]));
        s += 3;
    }
    return true;
}

/* ---- config space --------------------------------------------------- */

static void vnet_get_config(struct virtio_dev *vdev, uint8_t *c)
{
    struct virtio_net *s = to_net(vdev);

    memset(c, 0, VIRTIO_NET_CONFIG_SIZE);
    memcpy(c, s->mac, 6);
    le_store(c + 6, s->link_up ? VIRTIO_NET_S_LINK_UP : 0, 2);
    le_store(c + 8, 1, 2); /* max_virtqueue_pairs */
}

/* ---- transmit ------------------------------------------------------- */

const char *virtio_net_tx_hdr_check(const uint8_t hdr[VIRTIO_NET_HDR_LEN],
                                    uint64_t frame_len, uint64_t features)
{
    uint8_t flags = hdr[0], gso = hdr[1];
    uint16_t hdr_len = (uint16_t)le_load(hdr + 2, 2);
    uint16_t gso_size = (uint16_t)le_load(hdr + 4, 2);
    uint16_t csum_start = (uint16_t)le_load(hdr + 6, 2);
    uint16_t csum_offset = (uint16_t)le_load(hdr + 8, 2);
    uint8_t type = gso & ~VIRTIO_NET_HDR_GSO_ECN;

#define HAS(bit) ((features >> (bit)) & 1)
    if (frame_len < VIRTIO_NET_MIN_FRAME) {
        return "frame shorter than an Ethernet header";
    }
    if (frame_len > NETDEV_MAX_FRAME - VIRTIO_NET_HDR_LEN) {
        return "frame longer than 64 KiB";
    }
    if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        return "flags other than NEEDS_CSUM (5.1.6.2.1)";
    }
    if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!HAS(VIRTIO_NET_F_CSUM)) {
            return "NEEDS_CSUM without VIRTIO_NET_F_CSUM";
        }
        if ((uint64_t)csum_start + csum_offset + 2 > frame_len) {
            return "checksum field beyond the frame";
        }
    }
    if (gso == VIRTIO_NET_HDR_GSO_NONE) {
        return NULL;
    }
    if (type == VIRTIO_NET_HDR_GSO_TCPV4   ? !HAS(VIRTIO_NET_F_HOST_TSO4)
        : type == VIRTIO_NET_HDR_GSO_TCPV6 ? !HAS(VIRTIO_NET_F_HOST_TSO6)
                                           : true) {
        return "GSO type not negotiated";
    }
    if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !HAS(VIRTIO_NET_F_HOST_ECN)) {
        return "GSO ECN without VIRTIO_NET_F_HOST_ECN";
    }
    if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        return "GSO without NEEDS_CSUM (5.1.6.2.1)";
    }
    if (gso_size == 0 || hdr_len > frame_len) {
        return "GSO with a zero segment size or a header past the frame";
    }
#undef HAS
    return NULL;
}

/* Sends one chain; false if it broke the device. */
static bool vnet_tx_one(struct virtio_net *s, struct virtq_elem *e)
{
    uint8_t hdr[VIRTIO_NET_HDR_LEN];
    uint64_t flen;
    const char *why;
    unsigned n = 0;
    size_t skip = VIRTIO_NET_HDR_LEN;

    if (e->out_len < VIRTIO_NET_HDR_LEN) {
        virtio_error(&s->vdev,
                     "tx chain at head %u has %" PRIu64
                     " readable bytes, less than the %u-byte header",
                     e->head, e->out_len, VIRTIO_NET_HDR_LEN);
        return false;
    }
    iov_to_buf(e->out_sg, e->out_num, 0, hdr, sizeof(hdr));
    hdr[10] = hdr[11] = 0; /* num_buffers: receive only */
    flen = e->out_len - VIRTIO_NET_HDR_LEN;
    why = virtio_net_tx_hdr_check(hdr, flen, s->vdev.guest_features);
    if (why || !s->nd) {
        if (why) {
            vlog_guest_error(s->vdev.log, "%s: tx frame dropped: %s\n",
                             s->vdev.name, why);
        }
        s->tx_dropped++;
        return true;
    }
    /* our copy of the header (the guest may change its own), then the
     * frame as the guest's buffers after it */
    if (s->nd->vnet_hdr) {
        s->tx_iov[n++] = (struct iovec){hdr, sizeof(hdr)};
    }
    for (unsigned i = 0; i < e->out_num; i++) {
        struct iovec v = e->out_sg[i];

        if (skip >= v.iov_len) {
            skip -= v.iov_len;
            continue;
        }
        v.iov_base = (char *)v.iov_base + skip;
        v.iov_len -= skip;
        skip = 0;
        s->tx_iov[n++] = v;
    }
    if (netdev_send(s->nd, s->tx_iov, n)) {
        s->tx_frames++;
    } else {
        s->tx_dropped++;
    }
    return true;
}

static void vnet_tx(struct virtio_net *s, struct virtqueue *vq)
{
    struct virtq_elem *e;

    do {
        virtq_set_notification(vq, false);
        while ((e = virtq_pop(vq, sizeof(*e)))) {
            if (!vnet_tx_one(s, e)) {
                virtq_discard(vq, e);
                return;
            }
            virtq_push(vq, e, 0);
        }
        virtq_set_notification(vq, true);
    } while (!virtq_empty(vq));
    virtq_notify(vq);
}

/* ---- control queue -------------------------------------------------- */

static void vnet_ctrl(struct virtio_net *s, struct virtqueue *vq)
{
    struct virtq_elem *e;

    while ((e = virtq_pop(vq, sizeof(*e)))) {
        uint8_t cmd[2], ack = VIRTIO_NET_ERR;

        if (e->out_len < 2 || e->in_len < 1) {
            virtio_error(&s->vdev,
                         "control chain at head %u lacks its command or "
                         "ack byte",
                         e->head);
            virtq_discard(vq, e);
            return;
        }
        iov_to_buf(e->out_sg, e->out_num, 0, cmd, 2);
        /* rx modes (promiscuous, all-multicast, ...) and the MAC filter
         * table are acknowledged; every frame is delivered anyway (the
         * guest's stack drops what is not for it) */
        if ((cmd[0] == VIRTIO_NET_CTRL_RX && cmd[1] <= 5 && e->out_len == 3) ||
            (cmd[0] == VIRTIO_NET_CTRL_MAC && cmd[1] == 0)) {
            ack = VIRTIO_NET_OK;
        }
        iov_from_buf(e->in_sg, e->in_num, 0, &ack, 1);
        virtq_push(vq, e, 1);
    }
    virtq_notify(vq);
}

/* ---- receive -------------------------------------------------------- */

static bool mergeable(struct virtio_net *s)
{
    return virtio_has_feature(&s->vdev, VIRTIO_NET_F_MRG_RXBUF);
}

static uint64_t held_bytes(struct virtio_net *s)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < s->rx_nheld; i++) {
        n += s->rx_held[i]->in_len;
    }
    return n;
}

/* Pops rx buffers until `need` bytes are held (mergeable) or one buffer
 * is (not).  False: not enough yet, or the ring broke. */
static bool hold_buffers(struct virtio_net *s, struct virtqueue *vq,
                         uint64_t need)
{
    uint64_t have = held_bytes(s);
    bool mrg = mergeable(s);

    for (int pass = 0; pass < 2; pass++) {
        struct virtq_elem *e;

        while ((mrg ? have < need : s->rx_nheld == 0) &&
               s->rx_nheld < vq->num && (e = virtq_pop(vq, sizeof(*e)))) {
            if (e->in_len == 0 || (mrg && e->in_len < VIRTIO_NET_HDR_LEN)) {
                virtio_error(&s->vdev,
                             "rx buffer at head %u has %" PRIu64
                             " writable bytes (at least %u needed)",
                             e->head, e->in_len, mrg ? VIRTIO_NET_HDR_LEN : 1);
                virtq_discard(vq, e);
                return false;
            }
            s->rx_held[s->rx_nheld++] = e;
            have += e->in_len;
        }
        if (mrg ? have >= need : s->rx_nheld > 0) {
            virtq_set_notification(vq, false);
            return true;
        }
        if (pass == 0) {
            /* out of buffers: ask for a kick, then look once more for a
             * buffer made available meanwhile (2.7.10) */
            virtq_set_notification(vq, true);
        }
    }
    return false;
}

/* Writes hdr then data at byte offset `off` of the stream into iov. */
static size_t copy_out(const struct iovec *iov, unsigned n, size_t len,
                       size_t off, const uint8_t *hdr, const uint8_t *data)
{
    size_t done = 0;

    if (off < VIRTIO_NET_HDR_LEN) {
        size_t k = MIN(len, VIRTIO_NET_HDR_LEN - off);

        done = iov_from_buf(iov, n, 0, hdr + off, k);
        off += k;
    }
    if (done < len) {
        done += iov_from_buf(iov, n, done, data + (off - VIRTIO_NET_HDR_LEN),
                             len - done);
    }
    return done;
}

static void drop_held(struct virtio_net *s, unsigned k)
{
    memmove(s->rx_held, s->rx_held + k,
            (s->rx_nheld - k) * sizeof(s->rx_held[0]));
    s->rx_nheld -= k;
}

static bool vnet_receive_locked(struct virtio_net *s, const uint8_t *frame,
                                size_t len)
{
    struct virtqueue *vq = &s->vdev.vqs[0];
    uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0};
    const uint8_t *data = frame;
    size_t dlen = len, total, off = 0;
    uint32_t lens[VIRTIO_NET_QUEUE_SIZE];
    unsigned k = 0;

    if (!__atomic_load_n(&s->running, __ATOMIC_SEQ_CST)) {
        return false; /* the backend holds it until the machine runs */
    }
    if (!s->link_up || s->vdev.broken) {
        s->rx_dropped++; /* link down or a broken device: the wire drops it */
        return true;
    }
    if (!(s->vdev.status & VIRTIO_STATUS_DRIVER_OK) || !vq->ready) {
        /* no driver yet: the backend holds it (a tap's frames stay in the
         * kernel) until DRIVER_OK resumes it, as QEMU's can_receive; a
         * frame sent before the guest's driver came up is not lost */
        return false;
    }
    if (s->nd && s->nd->vnet_hdr) {
        memcpy(hdr, frame, NETDEV_VNET_HDR_LEN);
        data += NETDEV_VNET_HDR_LEN;
        dlen -= NETDEV_VNET_HDR_LEN;
    }
    hdr[10] = hdr[11] = 0;
    total = VIRTIO_NET_HDR_LEN + dlen;
    if (!hold_buffers(s, vq, total)) {
        if (s->vdev.broken) {
            s->rx_dropped++;
            return true;
        }
        return false; /* back-pressure until the driver kicks */
    }
    if (!mergeable(s)) {
        struct virtq_elem *e = s->rx_held[0];

        if (e->in_len < total) {
            vlog_guest_error(s->vdev.log,
                             "%s: rx frame of %zu bytes dropped: buffer of "
                             "%" PRIu64 " bytes without MRG_RXBUF\n",
                             s->vdev.name, total, e->in_len);
            s->rx_dropped++;
            return true;
        }
        hdr[10] = 1;
        lens[0] = (uint32_t)copy_out(e->in_sg, e->in_num, total, 0, hdr, data);
        k = 1;
    } else {
        uint64_t have = 0;

        /* how many buffers, so num_buffers is right in the first */
        while (have < total) {
            have += s->rx_held[k++]->in_len;
        }
        le_store(hdr + 10, k, 2);
        for (unsigned i = 0; i < k; i++) {
            struct virtq_elem *e = s->rx_held[i];
            size_t n = MIN(e->in_len, total - off);

            lens[i] =
                (uint32_t)copy_out(e->in_sg, e->in_num, n, off, hdr, data);
            off += n;
        }
    }
    virtq_push_batch(vq, s->rx_held, lens, k);
    drop_held(s, k);
    s->rx_frames++;
    virtq_notify(vq);
    return true;
}

bool virtio_net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct virtio_net *s = opaque;
    bool ok;

    if (s->lock) {
        g_mutex_lock(s->lock);
    }
    ok = vnet_receive_locked(s, frame, len);
    if (s->lock) {
        g_mutex_unlock(s->lock);
    }
    return ok;
}

static bool vnet_can_receive(void *opaque)
{
    struct virtio_net *s = opaque;

    return __atomic_load_n(&s->running, __ATOMIC_SEQ_CST);
}

static const struct netdev_peer_ops vnet_peer_ops = {
    .receive = virtio_net_receive,
    .can_receive = vnet_can_receive,
};

/* ---- device --------------------------------------------------------- */

static void vnet_queue_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    struct virtio_net *s = to_net(vdev);

    /* Only the transport's kicks after a load reach a machine that is
     * not running (its vCPUs cannot kick): what they would send or
     * acknowledge waits for it to run, as QEMU's virtio-net starts its
     * queues from the VM state change. */
    if (!__atomic_load_n(&s->running, __ATOMIC_SEQ_CST)) {
        s->deferred |= 1u << vq->index;
        return;
    }
    switch (vq->index) {
    case 0:
        /* new rx buffers: a paused backend delivers again */
        if (s->nd) {
            netdev_resume(s->nd);
        }
        break;
    case 1:
        vnet_tx(s, vq);
        break;
    default:
        vnet_ctrl(s, vq);
        break;
    }
}

/* What the guest can receive is what the tap may hand us: at DRIVER_OK,
 * and after a load (the destination's tap starts without offloads). */
static void apply_offloads(struct virtio_net *s)
{
    struct virtio_dev *vdev = &s->vdev;
    unsigned off = 0;
    Error *err = NULL;

    if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM)) {
        off |= NETDEV_OFFLOAD_CSUM;
    }
    if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO4)) {
        off |= NETDEV_OFFLOAD_TSO4;
    }
    if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO6)) {
        off |= NETDEV_OFFLOAD_TSO6;
    }
    if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_ECN)) {
        off |= NETDEV_OFFLOAD_TSO_ECN;
    }
    if (s->nd->vnet_hdr && !netdev_set_offload(s->nd, off, &err)) {
        vlog_guest_error(vdev->log, "%s: %s\n", vdev->name,
                         error_get_pretty(err));
        error_free(err);
    }
}

static void vnet_driver_ok(struct virtio_dev *vdev)
{
    struct virtio_net *s = to_net(vdev);

    if (!s->nd) {
        return;
    }
    apply_offloads(s);
    netdev_resume(s->nd);
}

static void vnet_reset(struct virtio_dev *vdev)
{
    struct virtio_net *s = to_net(vdev);

    for (unsigned i = 0; i < s->rx_nheld; i++) {
        virtq_discard(&vdev->vqs[0], s->rx_held[i]);
    }
    s->rx_nheld = 0;
    s->deferred = 0;
}

static const struct virtio_device_ops vnet_ops = {
    .device_id = VIRTIO_ID_NET,
    .config_size = VIRTIO_NET_CONFIG_SIZE,
    .get_config = vnet_get_config,
    .queue_notify = vnet_queue_notify,
    .reset = vnet_reset,
    .driver_ok = vnet_driver_ok,
};

static uint64_t offered_features(struct virtio_net *s, struct netdev *nd)
{
    bool hdr = nd && nd->vnet_hdr;
    unsigned caps = nd ? nd->offload_caps : 0;
    uint64_t f = (1ULL << VIRTIO_F_INDIRECT_DESC) |
                 (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_NET_F_MAC);
    /* each offload only with what it depends on (spec 5.1.3.1) */
    bool csum = hdr && s->csum;
    bool gcsum = hdr && s->guest_csum && (caps & NETDEV_OFFLOAD_CSUM);
    bool htso4 = csum && s->host_tso4, htso6 = csum && s->host_tso6;
    bool gtso4 = gcsum && s->guest_tso4 && (caps & NETDEV_OFFLOAD_TSO4);
    bool gtso6 = gcsum && s->guest_tso6 && (caps & NETDEV_OFFLOAD_TSO6);

#define OFFER(cond, bit) (f |= (cond) ? 1ULL << (bit) : 0)
    OFFER(csum, VIRTIO_NET_F_CSUM);
    OFFER(gcsum, VIRTIO_NET_F_GUEST_CSUM);
    OFFER(htso4, VIRTIO_NET_F_HOST_TSO4);
    OFFER(htso6, VIRTIO_NET_F_HOST_TSO6);
    OFFER((htso4 || htso6) && s->host_ecn, VIRTIO_NET_F_HOST_ECN);
    OFFER(gtso4, VIRTIO_NET_F_GUEST_TSO4);
    OFFER(gtso6, VIRTIO_NET_F_GUEST_TSO6);
    OFFER((gtso4 || gtso6) && s->guest_ecn && (caps & NETDEV_OFFLOAD_TSO_ECN),
          VIRTIO_NET_F_GUEST_ECN);
    OFFER(s->mrg_rxbuf, VIRTIO_NET_F_MRG_RXBUF);
    OFFER(s->status, VIRTIO_NET_F_STATUS);
    OFFER(s->ctrl_vq, VIRTIO_NET_F_CTRL_VQ);
    OFFER(s->ctrl_vq && s->ctrl_rx, VIRTIO_NET_F_CTRL_RX);
#undef OFFER
    return f;
}

bool virtio_net_setup(struct virtio_net *s, struct netdev *nd,
                      const uint8_t mac[6], struct guest_mem *gm,
                      struct vlog *log, Error **errp)
{
    memcpy(s->mac, mac, 6);
    s->link_up = true;
    s->running = 1; /* a device hears the machine's state at realize */
    s->nd = nd;
    s->rx_held = g_new0(struct virtq_elem *, VIRTIO_NET_QUEUE_SIZE);
    s->tx_iov = g_new(struct iovec, VIRTQ_MAX_SEGS + 1);
    virtio_init(&s->vdev, "virtio-net", &vnet_ops, gm, log,
                offered_features(s, nd), s->ctrl_vq ? 3 : 2,
                VIRTIO_NET_QUEUE_SIZE);
    return true;
}

void virtio_net_attach(struct virtio_net *s, GMainContext *ctx)
{
    if (s->nd) {
        netdev_attach_peer(s->nd, &vnet_peer_ops, s);
        netdev_start(s->nd, ctx);
    }
}

void virtio_net_teardown(struct virtio_net *s)
{
    if (!s->rx_held) {
        return;
    }
    if (s->nd) {
        netdev_attach_peer(s->nd, NULL, NULL);
    }
    vnet_reset(&s->vdev);
    virtio_cleanup(&s->vdev);
    g_free(s->rx_held);
    g_free(s->tx_iov);
    s->rx_held = NULL;
    s->tx_iov = NULL;
}

/* ---- the model both transports bind -------------------------------- */

static struct virtio_dev *vnet_model_realize(void *model, struct device *dev,
                                             struct machine *m, Error **errp)
{
    struct virtio_net *s = model;
    struct netdev *nd = NULL;
    uint8_t mac[6];

    if (s->mac_prop && !virtio_net_parse_mac(s->mac_prop, mac)) {
        error_setg(errp, "Property '%s.mac' doesn't take value '%s'",
                   dev->cls->name, s->mac_prop);
        return NULL;
    }
    /* QEMU allows a NIC without a backend (its frames go nowhere) */
    if (s->netdev) {
        nd = netdev_attach(m, s->netdev, dev, errp);
        if (!nd) {
            return NULL;
        }
    }
    if (!s->mac_prop) {
        machine_default_mac(m, mac);
    }
    if (!virtio_net_setup(s, nd, mac, m->gm, &m->log, errp)) {
        netdev_detach(nd);
        return NULL;
    }
    s->lock = &dev->lock;
    return &s->vdev;
}

static void vnet_model_start(void *model, GMainContext *ctx)
{
    virtio_net_attach(model, ctx);
}

static void vnet_model_unrealize(void *model)
{
    struct virtio_net *s = model;
    struct netdev *nd = s->nd;

    virtio_net_teardown(s);
    netdev_detach(nd);
    s->nd = NULL;
}

/* The machine runs (cont, start-up, a migration's end or failure) or
 * stops (stop, a migration's last phase, postmigrate, shutdown): stopped,
 * no frame is taken from the backend (can_receive); running again, the
 * queues kicked meanwhile are served and the backend delivers what
 * waited (QEMU: qemu_flush_queued_packets from the NIC's VM state
 * change handler). */
static void vnet_model_run_state(void *model, bool running)
{
    struct virtio_net *s = model;
    unsigned kicked;

    __atomic_store_n(&s->running, running, __ATOMIC_SEQ_CST);
    if (!running) {
        return;
    }
    kicked = s->deferred;
    s->deferred = 0;
    for (unsigned i = 0; i < s->vdev.num_queues; i++) {
        if (kicked & (1u << i) && s->vdev.vqs[i].ready) {
            vnet_queue_notify(&s->vdev, &s->vdev.vqs[i]);
        }
    }
    if (s->nd) {
        netdev_resume(s->nd);
    }
}

/* ---- migration ------------------------------------------------------ */

/* Every bool is checked by the stream engine (0 or 1); any 6 bytes are a
 * MAC the mac property accepts too, so nothing else can be impossible.
 * Not carried, as in QEMU: the header layout and mergeable buffers
 * (derived from the loaded features at each use: with VERSION_1 the
 * header is always 12 bytes), the tap's offloads (set again by loaded),
 * frame counters (host statistics).  The rx mode and MAC table commands
 * are acknowledged without being kept (no filtering: docs/qemu-compat.md),
 * so there is no filter state to carry. */
static const struct vmstate_field vnet_fields[] = {
    VMS_BUFFER(struct virtio_net, mac),
    VMS_BOOL(struct virtio_net, link_up),
    VMS_END,
};

static const struct vmstate_desc vnet_vmsd = {
    .name = "virtio-net",
    .version = 1,
    .fields = vnet_fields,
};

/* Transmit and control chains never outlive the kick that popped them
 * (each is sent to the backend, or dropped, and pushed at once), so the
 * only chains popped at a save are rx buffers held for a frame that did
 * not fit yet; nothing was written to them (a frame is copied only once
 * all its buffers are held).  They go back to the ring, the newest first
 * (virtq_unpop's rule), and the destination pops them anew.  The frame
 * the backend kept stays with the source's backend: a network may drop
 * it (QEMU does too); if the migration fails, the rx kick that the ring
 * asked for (notification is on when the buffers ran short) resumes
 * the backend as before. */
static void vnet_model_drain(void *model)
{
    struct virtio_net *s = model;
    struct virtqueue *vq = &s->vdev.vqs[0];

    while (s->rx_nheld > 0) {
        struct virtq_elem *e = s->rx_held[--s->rx_nheld];

        /* A broken device popped a bad chain after the held ones (so
         * they are not the newest pops any more) and uses no ring until
         * the driver resets it, which forgets them anyway. */
        if (s->vdev.broken) {
            virtq_discard(vq, e);
        } else {
            virtq_unpop(vq, e);
        }
    }
}

/* QEMU's self-announce frame for a NIC without GUEST_ANNOUNCE
 * (net/announce.c): a broadcast RARP "request reverse" (opcode 3) from
 * and about the NIC's MAC, padded to the 60-byte Ethernet minimum, so
 * switches learn the port the MAC is on now. */
static void vnet_announce(struct virtio_net *s)
{
    /* big-endian: ethertype RARP, hardware Ethernet, protocol IPv4,
     * address lengths 6 and 4, opcode 3 */
    static const uint8_t rarp[10] = {0x80, 0x35, 0, 1, 0x08, 0, 6, 4, 0, 3};
    uint8_t hdr[NETDEV_VNET_HDR_LEN] = {0}, f[60] = {0};
    struct iovec v[2];
    unsigned n = 0;

    if (!s->nd || !s->link_up) {
        return; /* QEMU sends nothing on a link that is down */
    }
    memset(f, 0xff, 6);
    memcpy(f + 6, s->mac, 6);
    memcpy(f + 12, rarp, sizeof(rarp));
    memcpy(f + 22, s->mac, 6);
    memcpy(f + 32, s->mac, 6);
    if (s->nd->vnet_hdr) {
        v[n++] = (struct iovec){hdr, sizeof(hdr)};
    }
    v[n++] = (struct iovec){f, sizeof(f)};
    /* not the guest's frame: not in its counters; lost is harmless (the
     * switch learns the port from the guest's next frame anyway) */
    (void)netdev_send(s->nd, v, n);
}

/* After a load (the device lock held; guest RAM may not be in place yet:
 * the rings are not touched here, the transport kicks every enabled
 * queue once the load is over, which resumes the backend and sends what
 * the source had not).  Buffers this device held before the load belong
 * to the replaced rings: a save drains them first (the loader saves the
 * state it replaces), so there are none unless the state was loaded
 * directly; they are freed without touching the new rings. */
static void vnet_model_loaded(void *model)
{
    struct virtio_net *s = model;

    for (unsigned i = 0; i < s->rx_nheld; i++) {
        g_free(s->rx_held[i]);
    }
    s->rx_nheld = 0;
    /* Only a NIC in use announces: a refused load puts back the state
     * the destination had (post_load runs again), and a fresh
     * destination's NIC has no driver; announcing it would draw the
     * source's traffic here while the source runs on. */
    if (s->nd && (s->vdev.status & VIRTIO_STATUS_DRIVER_OK)) {
        apply_offloads(s);
        vnet_announce(s);
    }
}

const struct virtio_model_class virtio_net_model = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .pci_class = 0x020000, /* network controller, Ethernet */
    .realize = vnet_model_realize,
    .start = vnet_model_start,
    .unrealize = vnet_model_unrealize,
    .vmsd = &vnet_vmsd,
    .drain = vnet_model_drain,
    .loaded = vnet_model_loaded,
    .run_state = vnet_model_run_state,
};
