/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-net.c: virtio-net (hw/net/virtio-net.c) over the tap backend
 * (net/tap.c) with a datagram socketpair standing in for the tap fd (one
 * datagram is one frame), with and without the 12-byte virtio-net header
 * on the backend side; rings in a fake guest RAM.  A frame out, a frame
 * in, mergeable rx across several buffers, back-pressure (no rx buffers:
 * the fd is not read), hostile chains and headers; the migration hooks
 * (rx buffers given back, the announcement after a load); both backends
 * holding input while the peer's machine is stopped; the -netdev /
 * -nic option parser; and, where user+net namespaces work, a real tap.
 */
#include "util/common.h"
#include "hw/net/virtio-net.h"
#include "net/netdev.h"
#include "system/guest-mem.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define RAM (4 * MiB)
#define NUM 16
#define TXBUF 0x100000ULL /* tx frames */
#define RXBUF 0x200000ULL /* rx buffers, 2 KiB each */

struct nfx {
    struct guest_mem *gm;
    struct vlog log;
    struct netdev *nd;
    int peer;  /* the "wire" side of the socketpair */
    int be_fd; /* a second handle on the backend's end */
    struct virtio_net s;
    struct vr r[3];
    unsigned irqs;
};

static void n_notify_queue(void *opaque, unsigned q)
{
    ((struct nfx *)opaque)->irqs++;
}

static void n_notify_config(void *opaque)
{
}

static const struct virtio_transport_ops n_ops = {n_notify_queue,
                                                  n_notify_config};

static void nfx_init(struct nfx *f, bool vnet_hdr, uint64_t feat)
{
    Error *err = NULL;
    int sv[2];
    static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

    memset(f, 0, sizeof(*f));
    f->gm = gm_new(RAM, &err);
    g_assert_true(gm_add_ram(f->gm, 0, 0, RAM, "ram", &err));
    vlog_init(&f->log);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv),
                    ==, 0);
    f->nd = netdev_tap_new_fd("n0", sv[0], vnet_hdr,
                              NETDEV_OFFLOAD_CSUM | NETDEV_OFFLOAD_TSO4);
    f->peer = sv[1];
    f->be_fd = dup(sv[0]);
    virtio_net_set_defaults(&f->s);
    g_assert_true(virtio_net_setup(&f->s, f->nd, mac, f->gm, &f->log, &err));
    virtio_set_transport(&f->s.vdev, &n_ops, f);
    virtio_net_attach(&f->s, NULL);
    for (unsigned i = 0; i < 3; i++) {
        vr_init(&f->r[i], f->gm, 0x1000 + 0x2000 * i, NUM);
    }
    g_assert_true(
        vr_driver_start(&f->s.vdev, feat & f->s.vdev.host_features, f->r, 3) &
        VIRTIO_STATUS_DRIVER_OK);
}

static void nfx_fini(struct nfx *f)
{
    virtio_net_teardown(&f->s);
    netdev_free(f->nd);
    close(f->peer);
    close(f->be_fd);
    vlog_close(&f->log);
    gm_free(f->gm);
}

static const uint64_t BASE_FEAT =
    (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC) |
    (1ULL << VIRTIO_NET_F_STATUS) | (1ULL << VIRTIO_NET_F_CTRL_VQ);

static void make_frame(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed + i * 7);
    }
}

/* A tx chain in slot `slot`: header and frame in two descriptors. */
static void put_tx(struct nfx *f, unsigned slot, const uint8_t *hdr,
                   const uint8_t *frame, uint32_t len)
{
    struct vr *r = &f->r[1];
    uint64_t a = TXBUF + 0x10000ULL * slot;

    g_assert_true(gm_write(f->gm, a, hdr, VIRTIO_NET_HDR_LEN));
    g_assert_true(gm_write(f->gm, a + 64, frame, len));
    vr_desc(r, 2 * slot, a, VIRTIO_NET_HDR_LEN, VIRTQ_DESC_F_NEXT,
            (uint16_t)(2 * slot + 1));
    vr_desc(r, 2 * slot + 1, a + 64, len, 0, 0);
    vr_add(r, (uint16_t)(2 * slot));
}

/* rx buffer i: descriptor i, `len` writable bytes. */
static void put_rx(struct nfx *f, unsigned i, uint32_t len)
{
    vr_desc(&f->r[0], i, RXBUF + 2048ULL * i, len, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f->r[0], (uint16_t)i);
}

static void test_tx(gconstpointer data)
{
    bool vnet = GPOINTER_TO_INT(data);
    struct nfx f;
    uint8_t hdr[12] = {0}, frame[200], got[400];
    uint32_t id = 0, len = 0;
    ssize_t n;

    nfx_init(&f, vnet, BASE_FEAT | (1ULL << VIRTIO_NET_F_CSUM));
    make_frame(frame, sizeof(frame), 1);
    if (vnet) {
        hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        hdr[6] = 34; /* csum_start, csum_offset: 34 + 16 */
        hdr[8] = 16;
    }
    hdr[10] = 0x77; /* num_buffers from the guest: not passed on */
    put_tx(&f, 0, hdr, frame, sizeof(frame));
    vr_publish(&f.r[1]);
    virtio_queue_notify(&f.s.vdev, 1);
    g_assert_true(vr_get_used(&f.r[1], &id, &len));
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmpuint(f.irqs, ==, 1);
    n = recv(f.peer, got, sizeof(got), MSG_DONTWAIT);
    if (vnet) {
        g_assert_cmpint(n, ==, 12 + sizeof(frame));
        g_assert_cmpuint(got[0], ==, VIRTIO_NET_HDR_F_NEEDS_CSUM);
        g_assert_cmpuint(got[6], ==, 34);
        g_assert_cmpuint(got[10], ==, 0);
        g_assert_cmpmem(got + 12, sizeof(frame), frame, sizeof(frame));
    } else {
        g_assert_cmpint(n, ==, sizeof(frame));
        g_assert_cmpmem(got, sizeof(frame), frame, sizeof(frame));
    }
    g_assert_cmpuint(f.s.tx_frames, ==, 1);
    nfx_fini(&f);
}

static void test_rx(gconstpointer data)
{
    bool vnet = GPOINTER_TO_INT(data);
    struct nfx f;
    uint8_t frame[12 + 300], *buf;
    uint32_t id = 0, len = 0;
    size_t off = vnet ? 12 : 0;

    nfx_init(&f, vnet, BASE_FEAT);
    memset(frame, 0, sizeof(frame));
    make_frame(frame + off, 300, 9);
    if (vnet) {
        frame[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    put_rx(&f, 0, 2048);
    vr_publish(&f.r[0]);
    g_assert_cmpint(send(f.peer, frame, off + 300, 0), ==, off + 300);
    netdev_poll(f.nd);
    g_assert_true(vr_get_used(&f.r[0], &id, &len));
    g_assert_cmpuint(len, ==, 12 + 300);
    buf = vr_ptr(f.gm, RXBUF, 2048);
    g_assert_cmpuint(buf[0], ==, vnet ? VIRTIO_NET_HDR_F_DATA_VALID : 0);
    g_assert_cmpuint(buf[10], ==, 1); /* num_buffers is 1 without MRG */
    g_assert_cmpmem(buf + 12, 300, frame + off, 300);
    g_assert_cmpuint(f.irqs, ==, 1);
    nfx_fini(&f);
}

static void test_rx_mergeable(void)
{
    struct nfx f;
    uint8_t frame[12 + 150] = {0};
    uint8_t out[162];
    uint32_t id = 0, len = 0, lens[3];
    uint16_t nb;

    nfx_init(&f, true, BASE_FEAT | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
    make_frame(frame + 12, 150, 3);
    for (unsigned i = 0; i < 4; i++) {
        put_rx(&f, i, 64);
    }
    vr_publish(&f.r[0]);
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    netdev_poll(f.nd);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_true(vr_get_used(&f.r[0], &id, &lens[i]));
        g_assert_cmpuint(id, ==, i);
    }
    g_assert_false(vr_get_used(&f.r[0], &id, &len));
    g_assert_cmpuint(lens[0], ==, 64);
    g_assert_cmpuint(lens[1], ==, 64);
    g_assert_cmpuint(lens[2], ==, 162 - 128);
    for (unsigned i = 0; i < 3; i++) {
        memcpy(out + 64 * i, vr_ptr(f.gm, RXBUF + 2048ULL * i, 64),
               MIN(64, 162 - 64 * i));
    }
    memcpy(&nb, out + 10, 2);
    g_assert_cmpuint(nb, ==, 3);
    g_assert_cmpmem(out + 12, 150, frame + 12, 150);
    /* the fourth buffer is still the driver's... held for the next one */
    nfx_fini(&f);
}

static int pending_frames(int fd)
{
    uint8_t b[2048];
    int n = 0;

    while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0) {
        n++;
    }
    return n;
}

static void test_backpressure(void)
{
    struct nfx f;
    uint8_t frame[12 + 100] = {0};
    uint32_t id = 0, len = 0;

    nfx_init(&f, true, BASE_FEAT);
    for (unsigned i = 0; i < 3; i++) {
        make_frame(frame + 12, 100, (uint8_t)i);
        g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==,
                        sizeof(frame));
    }
    /* no rx buffers: the backend pauses; polling again changes nothing */
    netdev_poll(f.nd);
    netdev_poll(f.nd);
    g_assert_false(vr_get_used(&f.r[0], &id, &len));
    g_assert_cmpuint(f.s.rx_frames, ==, 0);
    /* the device asked for a kick when it ran out (no EVENT_IDX: the
     * NO_NOTIFY flag is clear) */
    g_assert_cmpuint(vr_used_p(&f.r[0])[0] & VIRTQ_USED_F_NO_NOTIFY, ==, 0);
    /* two buffers and a kick: the first two frames arrive, in order */
    put_rx(&f, 0, 2048);
    put_rx(&f, 1, 2048);
    vr_publish(&f.r[0]);
    virtio_queue_notify(&f.s.vdev, 0);
    netdev_poll(f.nd);
    g_assert_true(vr_get_used(&f.r[0], &id, &len));
    g_assert_cmpuint(*vr_ptr(f.gm, RXBUF + 12, 1), ==, 0);
    g_assert_true(vr_get_used(&f.r[0], &id, &len));
    g_assert_cmpuint(*vr_ptr(f.gm, RXBUF + 2048 + 12, 1), ==, 1);
    g_assert_false(vr_get_used(&f.r[0], &id, &len));
    g_assert_cmpuint(f.s.rx_frames, ==, 2);
    /* the third: nothing lost meanwhile */
    put_rx(&f, 2, 2048);
    vr_publish(&f.r[0]);
    virtio_queue_notify(&f.s.vdev, 0);
    netdev_poll(f.nd);
    g_assert_true(vr_get_used(&f.r[0], &id, &len));
    g_assert_cmpuint(*vr_ptr(f.gm, RXBUF + 4096 + 12, 1), ==, 2);
    g_assert_cmpuint(f.s.rx_frames, ==, 3);
    g_assert_cmpuint(f.s.rx_dropped + f.nd->rx_dropped, ==, 0);
    nfx_fini(&f);
}

/* While the guest has no buffers the fd is not read: of three frames
 * sent, the backend took one (kept for later) and two are still queued. */
static void test_fd_not_read(void)
{
    struct nfx f;
    uint8_t frame[112] = {0};

    nfx_init(&f, true, BASE_FEAT);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==,
                        sizeof(frame));
    }
    netdev_poll(f.nd);
    netdev_poll(f.nd);
    g_assert_cmpint(pending_frames(f.be_fd), ==, 2);
    /* the kept one is delivered once there is a buffer */
    put_rx(&f, 0, 2048);
    vr_publish(&f.r[0]);
    virtio_queue_notify(&f.s.vdev, 0);
    netdev_poll(f.nd);
    g_assert_cmpuint(f.s.rx_frames, ==, 1);
    nfx_fini(&f);
}

/* A frame that comes before DRIVER_OK is held by the backend, not
 * dropped (QEMU's can_receive): the driver that comes up gets it. */
static void test_rx_driver_not_ready(void)
{
    struct nfx f;
    uint8_t frame[112] = {0};

    nfx_init(&f, true, BASE_FEAT);
    virtio_set_status(&f.s.vdev, 0);
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    netdev_poll(f.nd);
    netdev_poll(f.nd);
    g_assert_cmpuint(f.s.rx_dropped + f.nd->rx_dropped, ==, 0);
    g_assert_cmpuint(f.s.rx_frames, ==, 0);
    for (unsigned i = 0; i < 3; i++) {
        vr_init(&f.r[i], f.gm, 0x1000 + 0x2000 * i, NUM);
    }
    g_assert_true(vr_driver_start(&f.s.vdev, BASE_FEAT, f.r, 3) &
                  VIRTIO_STATUS_DRIVER_OK);
    put_rx(&f, 0, 2048);
    put_rx(&f, 1, 2048);
    vr_publish(&f.r[0]);
    virtio_queue_notify(&f.s.vdev, 0);
    netdev_poll(f.nd);
    netdev_poll(f.nd);
    g_assert_cmpuint(f.s.rx_frames, ==, 2);
    g_assert_cmpuint(f.s.rx_dropped + f.nd->rx_dropped, ==, 0);
    nfx_fini(&f);
}

static void test_hostile(void)
{
    struct nfx f;
    uint8_t hdr[12] = {0}, frame[64] = {0};
    uint32_t id = 0, len = 0;

    /* GSO the driver did not negotiate: dropped, device fine */
    nfx_init(&f, true, BASE_FEAT);
    hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
    put_tx(&f, 0, hdr, frame, sizeof(frame));
    vr_publish(&f.r[1]);
    virtio_queue_notify(&f.s.vdev, 1);
    g_assert_true(vr_get_used(&f.r[1], &id, &len));
    g_assert_cmpuint(f.s.tx_dropped, ==, 1);
    g_assert_false(f.s.vdev.broken);
    g_assert_cmpint(pending_frames(f.peer), ==, 0);
    /* a tx chain shorter than the header: broken */
    vr_desc(&f.r[1], 4, TXBUF, 4, 0, 0);
    vr_add(&f.r[1], 4);
    vr_publish(&f.r[1]);
    virtio_queue_notify(&f.s.vdev, 1);
    g_assert_true(f.s.vdev.broken);
    nfx_fini(&f);

    /* an rx buffer the device cannot write (device-readable only) */
    nfx_init(&f, true, BASE_FEAT | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
    vr_desc(&f.r[0], 0, RXBUF, 2048, 0, 0);
    vr_add(&f.r[0], 0);
    vr_publish(&f.r[0]);
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    netdev_poll(f.nd);
    g_assert_true(f.s.vdev.broken);
    g_assert_cmpuint(f.s.rx_frames, ==, 0);
    nfx_fini(&f);

    /* a mergeable buffer smaller than the header */
    nfx_init(&f, true, BASE_FEAT | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
    put_rx(&f, 0, 8);
    vr_publish(&f.r[0]);
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    netdev_poll(f.nd);
    g_assert_true(f.s.vdev.broken);
    nfx_fini(&f);

    /* a looping chain in the rx ring */
    nfx_init(&f, true, BASE_FEAT);
    vr_desc(&f.r[0], 0, RXBUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f.r[0], 1, RXBUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    vr_add(&f.r[0], 0);
    vr_publish(&f.r[0]);
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    netdev_poll(f.nd);
    g_assert_true(f.s.vdev.broken);
    nfx_fini(&f);
}

static void test_ctrl(void)
{
    struct nfx f;
    struct vr *r;
    uint8_t cmd[3] = {VIRTIO_NET_CTRL_RX, 0, 1}, ack = 0xee;
    uint32_t id = 0, len = 0;

    nfx_init(&f, true, BASE_FEAT | (1ULL << VIRTIO_NET_F_CTRL_RX));
    r = &f.r[2];
    g_assert_true(gm_write(f.gm, TXBUF, cmd, 3));
    g_assert_true(gm_write(f.gm, TXBUF + 16, &ack, 1));
    vr_desc(r, 0, TXBUF, 3, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(r, 1, TXBUF + 16, 1, VIRTQ_DESC_F_WRITE, 0);
    vr_add(r, 0);
    vr_publish(r);
    virtio_queue_notify(&f.s.vdev, 2);
    g_assert_true(vr_get_used(r, &id, &len));
    g_assert_cmpuint(len, ==, 1);
    g_assert_cmpuint(*vr_ptr(f.gm, TXBUF + 16, 1), ==, VIRTIO_NET_OK);
    nfx_fini(&f);
}

/* A save gives back the rx buffers held for a frame that did not fit
 * (the model's drain); if the migration then fails, the source goes on:
 * the frame its backend kept arrives in the same buffers once the driver
 * adds the one that was missing. */
static void test_drain_then_go_on(void)
{
    struct nfx f;
    uint8_t frame[12 + 150] = {0};
    uint32_t id = 0, len = 0;
    struct virtqueue *vq;

    nfx_init(&f, true, BASE_FEAT | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
    vq = &f.s.vdev.vqs[0];
    make_frame(frame + 12, 150, 5);
    put_rx(&f, 0, 64);
    put_rx(&f, 1, 64);
    vr_publish(&f.r[0]);
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    netdev_poll(f.nd);
    g_assert_cmpuint(f.s.rx_nheld, ==, 2);
    g_assert_cmpuint(vq->inflight, ==, 2);
    virtio_net_model.drain(&f.s);
    g_assert_cmpuint(f.s.rx_nheld, ==, 0);
    g_assert_cmpuint(vq->inflight, ==, 0);
    g_assert_cmpuint(vq->last_avail_idx, ==, 0);
    g_assert_false(vr_get_used(&f.r[0], &id, &len));
    put_rx(&f, 2, 64);
    vr_publish(&f.r[0]);
    virtio_queue_notify(&f.s.vdev, 0);
    netdev_poll(f.nd);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_true(vr_get_used(&f.r[0], &id, &len));
        g_assert_cmpuint(id, ==, i);
    }
    g_assert_cmpmem(vr_ptr(f.gm, RXBUF + 12, 52), 52, frame + 12, 52);
    g_assert_cmpuint(f.s.rx_frames, ==, 1);
    g_assert_cmpuint(f.s.rx_dropped + f.nd->rx_dropped, ==, 0);
    nfx_fini(&f);
}

/* A guest that breaks the rx ring while buffers are held cannot make its
 * VM unmigratable: the held buffers are forgotten (the device uses no
 * ring until a reset), the next available index stays past the chains
 * popped. */
static void test_drain_broken(void)
{
    struct nfx f;
    uint8_t frame[12 + 150] = {0};
    struct virtqueue *vq;

    nfx_init(&f, true, BASE_FEAT | (1ULL << VIRTIO_NET_F_MRG_RXBUF));
    vq = &f.s.vdev.vqs[0];
    put_rx(&f, 0, 64);
    put_rx(&f, 1, 8); /* shorter than the header */
    vr_publish(&f.r[0]);
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    netdev_poll(f.nd);
    g_assert_true(f.s.vdev.broken);
    g_assert_cmpuint(f.s.rx_nheld, ==, 1);
    virtio_net_model.drain(&f.s);
    g_assert_cmpuint(f.s.rx_nheld, ==, 0);
    g_assert_cmpuint(vq->inflight, ==, 0);
    g_assert_cmpuint(vq->last_avail_idx, ==, 2);
    nfx_fini(&f);
}

/* After a load a NIC in use announces itself with one RARP frame, behind
 * a (zero) virtio-net header when the backend carries them; one without
 * a driver, or with its link down, does not. */
static void test_loaded_announces(void)
{
    struct nfx f;
    uint8_t got[128];
    static const uint8_t zero[12] = {0};
    static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

    nfx_init(&f, true, BASE_FEAT);
    virtio_net_model.loaded(&f.s);
    g_assert_cmpint(recv(f.peer, got, sizeof(got), MSG_DONTWAIT), ==, 72);
    g_assert_cmpmem(got, 12, zero, 12);
    g_assert_cmphex(got[12 + 12], ==, 0x80);
    g_assert_cmphex(got[12 + 13], ==, 0x35);
    g_assert_cmpmem(got + 12 + 6, 6, mac, 6);
    g_assert_cmpmem(got + 12 + 32, 6, mac, 6);
    f.s.link_up = false;
    virtio_net_model.loaded(&f.s);
    g_assert_cmpint(pending_frames(f.peer), ==, 0);
    f.s.link_up = true;
    virtio_set_status(&f.s.vdev, 0);
    virtio_net_model.loaded(&f.s);
    g_assert_cmpint(pending_frames(f.peer), ==, 0);
    nfx_fini(&f);
}

static void test_config_and_features(void)
{
    struct nfx f;
    uint64_t hf;

    nfx_init(&f, false, BASE_FEAT);
    /* no vnet header: no offloads offered */
    hf = f.s.vdev.host_features;
    g_assert_false(hf & (1ULL << VIRTIO_NET_F_CSUM));
    g_assert_false(hf & (1ULL << VIRTIO_NET_F_GUEST_TSO4));
    g_assert_true(hf & (1ULL << VIRTIO_NET_F_MRG_RXBUF));
    g_assert_cmphex(virtio_config_read(&f.s.vdev, 0, 1), ==, 0x52);
    g_assert_cmphex(virtio_config_read(&f.s.vdev, 5, 1), ==, 0x56);
    g_assert_cmphex(virtio_config_read(&f.s.vdev, 6, 2), ==,
                    VIRTIO_NET_S_LINK_UP);
    nfx_fini(&f);
    nfx_init(&f, true, BASE_FEAT);
    hf = f.s.vdev.host_features;
    g_assert_true(hf & (1ULL << VIRTIO_NET_F_CSUM));
    g_assert_true(hf & (1ULL << VIRTIO_NET_F_HOST_TSO4));
    g_assert_true(hf & (1ULL << VIRTIO_NET_F_GUEST_TSO4));
    /* the backend cannot take TSO6 here: not offered for receive */
    g_assert_false(hf & (1ULL << VIRTIO_NET_F_GUEST_TSO6));
    nfx_fini(&f);
}

static void test_tx_hdr_check(void)
{
    uint8_t h[12] = {0};
    uint64_t all = (1ULL << VIRTIO_NET_F_CSUM) |
                   (1ULL << VIRTIO_NET_F_HOST_TSO4) |
                   (1ULL << VIRTIO_NET_F_HOST_ECN);

    g_assert_null(virtio_net_tx_hdr_check(h, 60, 0));
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 10, 0)); /* runt */
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 70000, 0));
    h[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 60, all));
    h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 60, 0));
    h[6] = 58; /* csum_start 58 + offset 0 + 2 = 60: fits */
    g_assert_null(virtio_net_tx_hdr_check(h, 60, all));
    h[8] = 1;
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 60, all));
    h[6] = h[8] = 0;
    h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 60, all)); /* gso_size 0 */
    h[4] = 0xb4;
    h[5] = 0x05;
    g_assert_null(virtio_net_tx_hdr_check(h, 60, all));
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 60, 1ULL << VIRTIO_NET_F_CSUM));
    h[1] = VIRTIO_NET_HDR_GSO_UDP;
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 60, all));
    h[1] = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
    g_assert_null(virtio_net_tx_hdr_check(h, 60, all));
    h[0] = 0;
    g_assert_nonnull(virtio_net_tx_hdr_check(h, 60, all));
}

static void test_mac(void)
{
    uint8_t m[6];

    g_assert_true(virtio_net_parse_mac("52:54:00:AB:cd:01", m));
    g_assert_cmphex(m[3], ==, 0xab);
    g_assert_cmphex(m[5], ==, 0x01);
    g_assert_false(virtio_net_parse_mac("52:54:00:ab:cd", m));
    g_assert_false(virtio_net_parse_mac("52:54:00:ab:cd:01:", m));
    g_assert_false(virtio_net_parse_mac("5g:54:00:ab:cd:01", m));
}

/* ---- options -------------------------------------------------------- */

static void expect_err(const char *text, const char *msg)
{
    struct netdev_opts o;
    Error *err = NULL;

    g_assert_false(netdev_opts_parse(text, "-netdev", &o, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), msg)) {
        g_test_message("'%s' -> '%s'", text, error_get_pretty(err));
    }
    g_assert_nonnull(strstr(error_get_pretty(err), msg));
    error_free(err);
}

static void test_opts(void)
{
    struct netdev_opts o;
    struct netdev_hostfwd *fw;
    Error *err = NULL;
    char *model, *mac;
    bool none;

    g_assert_true(netdev_opts_parse(
        "tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off", "-netdev",
        &o, &err));
    g_assert_cmpint(o.type, ==, NETDEV_TAP);
    g_assert_cmpstr(o.id, ==, "n0");
    g_assert_cmpstr(o.ifname, ==, "tap0");
    g_assert_cmpint(o.fd, ==, -1);
    netdev_opts_clear(&o);
    /* libvirt's JSON form, fd as a string */
    g_assert_true(netdev_opts_parse(
        "{\"type\":\"tap\",\"fd\":\"27\",\"vhost\":false,\"id\":\"hostnet0\"}",
        "-netdev", &o, &err));
    g_assert_cmpint(o.fd, ==, 27);
    g_assert_cmpstr(o.id, ==, "hostnet0");
    netdev_opts_clear(&o);
    g_assert_true(
        netdev_opts_parse("user,id=u0,net=10.1.0.0/24,hostfwd=tcp::2222-:22,"
                          "hostfwd=udp:127.0.0.1:5353-10.1.0.15:53",
                          "-netdev", &o, &err));
    g_assert_cmpint(o.type, ==, NETDEV_USER);
    g_assert_cmpuint(o.hostfwd->len, ==, 2);
    fw = g_ptr_array_index(o.hostfwd, 0);
    g_assert_false(fw->udp);
    g_assert_null(fw->host_addr);
    g_assert_cmpuint(fw->host_port, ==, 2222);
    g_assert_cmpuint(fw->guest_port, ==, 22);
    fw = g_ptr_array_index(o.hostfwd, 1);
    g_assert_true(fw->udp);
    g_assert_cmpstr(fw->host_addr, ==, "127.0.0.1");
    g_assert_cmpstr(fw->guest_addr, ==, "10.1.0.15");
    netdev_opts_clear(&o);
    g_assert_true(netdev_opts_parse("{\"type\":\"user\",\"id\":\"u\","
                                    "\"hostfwd\":[{\"str\":\"tcp::80-:80\"}]}",
                                    "-netdev", &o, &err));
    g_assert_cmpuint(o.hostfwd->len, ==, 1);
    netdev_opts_clear(&o);

    expect_err("tap,ifname=x", "Parameter 'id' is missing");
    expect_err("tap,id=n,script=/etc/qemu-ifup", "runs no network scripts");
    expect_err("tap,id=n,vhost=on", "vhost=on is not supported");
    expect_err("tap,id=n,vhost=maybe", "expects 'on' or 'off'");
    expect_err("tap,id=n,fds=3:4", "multiqueue");
    expect_err("tap,id=n,fd=name", "No file descriptor named name");
    expect_err("tap,id=n,bogus=1", "Invalid parameter 'bogus'");
    expect_err("socket,id=n", "not supported by vireo");
    expect_err("frob,id=n", "does not accept value 'frob'");
    expect_err("user,id=u,hostfwd=tcp::x-:22", "Invalid host forwarding");
    expect_err("user,id=u,hostfwd=tcp::22-:0", "Invalid host forwarding");
    expect_err("tap,id=1n", "expects an identifier");
    expect_err("{\"type\":\"tap\",\"id\":\"n\",\"vhost\":\"off\"}",
               "expected: boolean");

    g_assert_true(netdev_opts_parse_nic("tap,ifname=t1,mac=52:54:00:00:00:01,"
                                        "model=virtio-net-device",
                                        &o, &model, &mac, &none, &err));
    g_assert_false(none);
    g_assert_cmpstr(model, ==, "virtio-net-device");
    g_assert_cmpstr(mac, ==, "52:54:00:00:00:01");
    g_assert_cmpstr(o.ifname, ==, "t1");
    g_free(model);
    g_free(mac);
    netdev_opts_clear(&o);
    g_assert_true(netdev_opts_parse_nic("none", &o, &model, &mac, &none, &err));
    g_assert_true(none);
    g_assert_false(
        netdev_opts_parse_nic("tap,id=x", &o, &model, &mac, &none, &err));
    error_free(err);
}

/* ---- a real tap in a user + network namespace ----------------------- */

static bool child_receive(void *opaque, const uint8_t *frame, size_t len)
{
    GByteArray *got = opaque;

    g_byte_array_append(got, frame, (guint)len);
    return true;
}

static const struct netdev_peer_ops child_ops = {child_receive};

/* In a new user + network namespace: a tap through netdev_tap_open, a
 * frame out (the tap's fd -> the interface, seen by a packet socket) and
 * a frame in (a packet socket -> the tap's fd -> the peer, with its
 * virtio-net header).  Exit 77: namespaces unavailable. */
static void tap_child(void)
{
    struct netdev_opts o = {0};
    Error *err = NULL;
    struct netdev *nd;
    struct ifreq ifr = {0};
    uint8_t frame[12 + 60] = {0}, buf[256];
    struct sockaddr_ll sll = {0};
    GByteArray *got = g_byte_array_new();
    int s, ps;

    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        _exit(77);
    }
    o.id = g_strdup("t");
    o.fd = -1;
    o.ifname = g_strdup("vtap0");
    nd = netdev_tap_open(&o, &err);
    if (!nd) {
        g_printerr("%s\n", error_get_pretty(err));
        _exit(77);
    }
    if (!nd->vnet_hdr) {
        _exit(2);
    }
    /* link up, so the kernel passes frames */
    s = socket(AF_INET, SOCK_DGRAM, 0);
    g_strlcpy(ifr.ifr_name, "vtap0", IFNAMSIZ);
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        _exit(3);
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0 || ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
        _exit(4);
    }
    if (!netdev_set_offload(nd, NETDEV_OFFLOAD_CSUM, &err)) {
        _exit(5);
    }
    ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifr.ifr_ifindex;
    if (ps < 0 || bind(ps, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        _exit(6);
    }
    /* out: an experimental-ethertype broadcast with a header */
    memset(frame + 12, 0xff, 6);
    memcpy(frame + 18, "\x52\x54\x00\x12\x34\x56", 6);
    frame[12 + 12] = 0x88;
    frame[12 + 13] = 0xb5;
    memcpy(frame + 12 + 14, "vireo-out", 9);
    {
        struct iovec v = {frame, sizeof(frame)};

        if (!netdev_send(nd, &v, 1)) {
            _exit(7);
        }
    }
    for (int tries = 0;; tries++) {
        ssize_t n = recv(ps, buf, sizeof(buf), 0);

        if (n == 60 && !memcmp(buf + 14, "vireo-out", 9)) {
            break;
        }
        if (n < 0 || tries > 50) {
            _exit(8);
        }
    }
    /* in: a frame injected on the interface reaches the peer */
    netdev_attach_peer(nd, &child_ops, got);
    memcpy(frame + 12 + 14, "vireo-in!", 9);
    if (send(ps, frame + 12, 60, 0) != 60) {
        _exit(9);
    }
    for (int tries = 0; tries < 100; tries++) {
        netdev_poll(nd);
        if (got->len >= 12 + 60 &&
            memmem(got->data, got->len, "vireo-in!", 9)) {
            break;
        }
        g_usleep(10000);
    }
    if (!memmem(got->data, got->len, "vireo-in!", 9)) {
        _exit(10);
    }
    netdev_free(nd);
    _exit(0);
}

static void test_real_tap(void)
{
    pid_t pid;
    int st;

    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        g_test_skip("no /dev/net/tun");
        return;
    }
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        tap_child();
    }
    g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
    g_assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77) {
        g_test_skip("user and network namespaces unavailable");
        return;
    }
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
}

/* The backend's GSource on a real main context: frames are read when the
 * fd is readable, the fd is left alone while the guest has no buffers,
 * and a kick of the rx queue (netdev_resume) wakes it again. */
static void iterate(GMainContext *ctx, unsigned ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;

    while (g_get_monotonic_time() < end) {
        g_main_context_iteration(ctx, FALSE);
        g_usleep(1000);
    }
}

static void test_main_context(void)
{
    struct nfx f;
    GMainContext *ctx = g_main_context_new();
    uint8_t frame[112] = {0};
    uint32_t id = 0, len = 0;

    nfx_init(&f, true, BASE_FEAT);
    netdev_start(f.nd, ctx);
    put_rx(&f, 0, 2048);
    vr_publish(&f.r[0]);
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    iterate(ctx, 50);
    g_assert_true(vr_get_used(&f.r[0], &id, &len));
    g_assert_cmpuint(f.s.rx_frames, ==, 1);
    /* no buffers: two more frames, one is taken and kept, one stays */
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    g_assert_cmpint(send(f.peer, frame, sizeof(frame), 0), ==, sizeof(frame));
    iterate(ctx, 50);
    g_assert_cmpuint(f.s.rx_frames, ==, 1);
    /* buffers and a kick from "another thread": both arrive */
    put_rx(&f, 1, 2048);
    put_rx(&f, 2, 2048);
    vr_publish(&f.r[0]);
    virtio_queue_notify(&f.s.vdev, 0);
    iterate(ctx, 50);
    g_assert_cmpuint(f.s.rx_frames, ==, 3);
    g_assert_cmpint(pending_frames(f.be_fd), ==, 0);
    nfx_fini(&f);
    g_main_context_unref(ctx);
}

/* ---- -netdev user (libslirp) ---------------------------------------- */

struct cap {
    GPtrArray *frames; /* GBytes * */
};

static bool cap_receive(void *opaque, const uint8_t *frame, size_t len)
{
    g_ptr_array_add(((struct cap *)opaque)->frames, g_bytes_new(frame, len));
    return true;
}

static const struct netdev_peer_ops cap_ops = {cap_receive};

static void test_slirp_arp(void)
{
    struct netdev_opts o;
    Error *err = NULL;
    struct netdev *nd;
    struct cap c = {
        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref)};
    /* who-has 10.0.2.2 tell 10.0.2.15, from 52:54:00:12:34:56 */
    static const uint8_t arp[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34,
        0x56, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10,   0,    2,    15,   0,
        0,    0,    0,    0,    0,    10,   0,    2,    2};
    struct iovec v = {(void *)arp, sizeof(arp)};
    const uint8_t *r;
    gsize len;

    g_assert_true(netdev_opts_parse("user,id=u0,hostfwd=tcp:127.0.0.1:0-:22",
                                    "-netdev", &o, &err));
    nd = netdev_open(&o, &err);
    netdev_opts_clear(&o);
    if (!nd) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        g_ptr_array_unref(c.frames);
        return;
    }
    g_assert_false(nd->vnet_hdr);
    netdev_attach_peer(nd, &cap_ops, &c);
    g_assert_true(netdev_send(nd, &v, 1));
    netdev_poll(nd);
    g_assert_cmpuint(c.frames->len, >=, 1);
    r = g_bytes_get_data(g_ptr_array_index(c.frames, 0), &len);
    g_assert_cmpuint(len, >=, 42);
    g_assert_cmphex(r[12], ==, 0x08); /* ARP */
    g_assert_cmphex(r[13], ==, 0x06);
    g_assert_cmphex(r[21], ==, 2);           /* reply */
    g_assert_cmpmem(r + 28, 4, arp + 38, 4); /* from 10.0.2.2 */
    g_assert_cmpmem(r, 6, arp + 6, 6);       /* to the guest's MAC */
    netdev_free(nd);
    g_ptr_array_unref(c.frames);
}

/* A peer whose machine is stopped (can_receive false), as virtio-net's
 * while not running. */
struct held {
    struct cap c;
    int can;
};

static bool held_receive(void *opaque, const uint8_t *frame, size_t len)
{
    return cap_receive(&((struct held *)opaque)->c, frame, len);
}

static bool held_can(void *opaque)
{
    return __atomic_load_n(&((struct held *)opaque)->can, __ATOMIC_SEQ_CST);
}

static const struct netdev_peer_ops held_ops = {held_receive, held_can};

/* The machine stopped: a tap is not read (its frames stay in the kernel's
 * queue), slirp's replies wait in its queue; once the peer can take them
 * and resumes the backend, all arrive, in order. */
static void test_held_while_stopped(void)
{
    struct held h = {
        {g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref)}, 0};
    struct netdev_opts o;
    Error *err = NULL;
    struct netdev *nd;
    uint8_t frame[60];
    int sv[2], be;
    static const uint8_t arp[42] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34,
        0x56, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10,   0,    2,    15,   0,
        0,    0,    0,    0,    0,    10,   0,    2,    2};
    struct iovec v = {(void *)arp, sizeof(arp)};

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv),
                    ==, 0);
    be = dup(sv[0]);
    nd = netdev_tap_new_fd("h0", sv[0], false, 0);
    netdev_attach_peer(nd, &held_ops, &h);
    for (uint8_t i = 0; i < 2; i++) {
        make_frame(frame, sizeof(frame), i);
        g_assert_cmpint(send(sv[1], frame, sizeof(frame), 0), ==,
                        sizeof(frame));
    }
    netdev_poll(nd);
    netdev_poll(nd);
    g_assert_cmpuint(h.c.frames->len, ==, 0);
    /* still in the kernel's queue (looked at, not taken) */
    g_assert_cmpint(recv(be, frame, sizeof(frame), MSG_PEEK | MSG_DONTWAIT), ==,
                    sizeof(frame));
    __atomic_store_n(&h.can, 1, __ATOMIC_SEQ_CST);
    netdev_resume(nd);
    netdev_poll(nd);
    g_assert_cmpuint(h.c.frames->len, ==, 2);
    g_assert_cmpint(pending_frames(be), ==, 0);
    netdev_free(nd);
    close(sv[1]);
    close(be);
    g_ptr_array_set_size(h.c.frames, 0);

    g_assert_true(netdev_opts_parse("user,id=u0", "-netdev", &o, &err));
    nd = netdev_open(&o, &err);
    netdev_opts_clear(&o);
    if (!nd) {
        g_test_skip(error_get_pretty(err));
        error_free(err);
        g_ptr_array_unref(h.c.frames);
        return;
    }
    __atomic_store_n(&h.can, 0, __ATOMIC_SEQ_CST);
    netdev_attach_peer(nd, &held_ops, &h);
    g_assert_true(netdev_send(nd, &v, 1));
    netdev_poll(nd);
    netdev_poll(nd);
    g_assert_cmpuint(h.c.frames->len, ==, 0);
    g_assert_cmpuint(nd->rx_dropped, ==, 0);
    __atomic_store_n(&h.can, 1, __ATOMIC_SEQ_CST);
    netdev_resume(nd);
    netdev_poll(nd);
    g_assert_cmpuint(h.c.frames->len, >=, 1);
    netdev_free(nd);
    g_ptr_array_unref(h.c.frames);
}

static void test_slirp_errors(void)
{
    struct netdev_opts o;
    Error *err = NULL;
    struct netdev *nd;

    g_assert_true(
        netdev_opts_parse("user,id=u0,net=10.9.0.0/33", "-netdev", &o, &err));
    nd = netdev_open(&o, &err);
    g_assert_null(nd);
    if (!strstr(error_get_pretty(err), "libslirp")) {
        g_assert_nonnull(strstr(error_get_pretty(err), "Invalid net="));
    }
    error_free(err);
    err = NULL;
    netdev_opts_clear(&o);
    g_assert_true(
        netdev_opts_parse("user,id=u0,host=192.168.1.1", "-netdev", &o, &err));
    nd = netdev_open(&o, &err);
    g_assert_null(nd);
    error_free(err);
    netdev_opts_clear(&o);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/virtio-net/tx/plain", GINT_TO_POINTER(0), test_tx);
    g_test_add_data_func("/virtio-net/tx/vnet-hdr", GINT_TO_POINTER(1),
                         test_tx);
    g_test_add_data_func("/virtio-net/rx/plain", GINT_TO_POINTER(0), test_rx);
    g_test_add_data_func("/virtio-net/rx/vnet-hdr", GINT_TO_POINTER(1),
                         test_rx);
    g_test_add_func("/virtio-net/rx/mergeable", test_rx_mergeable);
    g_test_add_func("/virtio-net/rx/backpressure", test_backpressure);
    g_test_add_func("/virtio-net/rx/fd-not-read", test_fd_not_read);
    g_test_add_func("/virtio-net/rx/driver-not-ready",
                    test_rx_driver_not_ready);
    g_test_add_func("/virtio-net/hostile", test_hostile);
    g_test_add_func("/virtio-net/ctrl", test_ctrl);
    g_test_add_func("/virtio-net/drain-then-go-on", test_drain_then_go_on);
    g_test_add_func("/virtio-net/drain-broken", test_drain_broken);
    g_test_add_func("/virtio-net/loaded-announces", test_loaded_announces);
    g_test_add_func("/virtio-net/config-features", test_config_and_features);
    g_test_add_func("/virtio-net/tx-hdr-check", test_tx_hdr_check);
    g_test_add_func("/virtio-net/mac", test_mac);
    g_test_add_func("/netdev/opts", test_opts);
    g_test_add_func("/netdev/real-tap", test_real_tap);
    g_test_add_func("/netdev/main-context", test_main_context);
    g_test_add_func("/netdev/slirp-arp", test_slirp_arp);
    g_test_add_func("/netdev/held-while-stopped", test_held_while_stopped);
    g_test_add_func("/netdev/slirp-errors", test_slirp_errors);
    return g_test_run();
}
