/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-net-device.c: migration of `-netdev tap,fd=N` + `-device
 * virtio-net-device` on the microvm board's first virtio-mmio slot,
 * through the real creation path and the stream loader
 * (migration/savevm.c) with RAM, into a second machine.  A datagram
 * socketpair stands in for each machine's tap (one datagram is one
 * frame, no virtio-net header).  What a migration must not lose: rx
 * buffers held for a frame that did not fit yet are given back and the
 * destination fills them; a transmit doorbell the source had not served
 * is served by the destination; the control queue, the MAC and the link
 * go on where they were; the destination announces the MAC (RARP).
 * Hostile or mismatched states are refused, naming what was wrong.
 * While the machine is not running (stop, migration's last phase,
 * postmigrate, inmigrate) no frame reaches the guest's rings: it waits
 * in the tap's queue and arrives once the machine runs again.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "hw/net/virtio-net.h"
#include "hw/virtio/virtio-mmio.h"
#include "net/netdev.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/savevm-harness.h"
#include "tests/unit/vring-build.h"

#include <sys/socket.h>
#include <unistd.h>

extern const struct machine_type microvm_machine_type;

#define BASE 0xfeb00000ULL
#define RAM (16 * MiB)
#define NUM 8
#define TXBUF 0x100000ULL
#define RXBUF 0x200000ULL /* 64-byte rx buffers, 0x100 apart */
#define CTRLBUF 0x300000ULL
#define MAC_A "52:54:00:aa:bb:01"

static const uint8_t mac_a[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01};

struct nfx {
    struct machine *m;
    struct machine_config cfg;
    int peer; /* the wire side of this machine's "tap" */
    struct vr r[3];
};

/* A machine with a virtio-net-device on netdev n0 (props: extra
 * name/value pairs, NULL-terminated). */
static void nfx_init(struct nfx *f, const char *const *props)
{
    Error *err = NULL;
    const char *all[16] = {"netdev", "n0"};
    unsigned n = 2;
    struct device *d;
    char *text;
    int sv[2];

    memset(f, 0, sizeof(*f));
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv),
                    ==, 0);
    f->peer = sv[1];
    machine_config_init(&f->cfg);
    f->cfg.sandbox = false;
    text = g_strdup_printf("tap,id=n0,fd=%d", sv[0]);
    g_assert_true(machine_config_add_netdev(&f->cfg, text, &err));
    g_free(text);
    f->m = th_board_new(&microvm_machine_type, &f->cfg, RAM);
    g_assert_true(machine_open_netdevs(f->m, &err));
    for (; props && props[0]; props++) {
        all[n++] = props[0];
    }
    d = th_device_new(f->m, &virtio_net_device_class, all, &err);
    g_assert_null(err);
    g_ptr_array_add(f->m->devices, d);
}

static void nfx_fini(struct nfx *f)
{
    th_board_destroy_devices(f->m);
    machine_close_netdevs(f->m);
    th_board_free(f->m);
    machine_config_clear(&f->cfg);
    close(f->peer);
}

static struct device *dev_of(struct nfx *f)
{
    return g_ptr_array_index(f->m->devices, 0);
}

static struct virtio_dev *vdev_of(struct nfx *f)
{
    return ((struct virtio_mmio_proxy *)dev_of(f))->vdev;
}

static uint32_t rd(struct nfx *f, uint64_t off, unsigned size)
{
    uint32_t v = 0;

    as_read(f->m->mmio, BASE + off, &v, size);
    return v;
}

static void wr(struct nfx *f, uint64_t off, uint32_t v)
{
    as_write(f->m->mmio, BASE + off, &v, 4);
}

/* Features (low word) the driver accepts, VERSION_1 in the high word. */
#define FEAT                                                                   \
    (1u << VIRTIO_NET_F_MAC | 1u << VIRTIO_NET_F_MRG_RXBUF |                   \
     1u << VIRTIO_NET_F_STATUS | 1u << VIRTIO_NET_F_CTRL_VQ |                  \
     1u << VIRTIO_NET_F_CTRL_RX)

/* The driver's start-up through the registers: rx, tx, control queues of
 * NUM entries at 0x1000, 0x2000, 0x3000. */
static void driver_start(struct nfx *f)
{
    wr(f, VIRTIO_MMIO_STATUS, 0);
    wr(f, VIRTIO_MMIO_STATUS, 3);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES, FEAT);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(f, VIRTIO_MMIO_STATUS, 0xb);
    for (unsigned q = 0; q < 3; q++) {
        struct vr *r = &f->r[q];

        vr_init(r, f->m->gm, 0x1000 + 0x1000ULL * q, NUM);
        wr(f, VIRTIO_MMIO_QUEUE_SEL, q);
        wr(f, VIRTIO_MMIO_QUEUE_NUM, NUM);
        wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
        wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
        wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
        wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
    }
    wr(f, VIRTIO_MMIO_STATUS, 0xf);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_STATUS, 4), ==, 0xf);
}

/* The driver's rings as seen in another machine's RAM (after a load). */
static void rings_moved(struct nfx *to, const struct nfx *from)
{
    for (unsigned q = 0; q < 3; q++) {
        to->r[q] = from->r[q];
        to->r[q].gm = to->m->gm;
    }
}

/* rx buffer i: descriptor i, 64 writable bytes; published. */
static void put_rx(struct nfx *f, unsigned i)
{
    vr_desc(&f->r[0], i, RXBUF + 0x100ULL * i, 64, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f->r[0], (uint16_t)i);
    vr_publish(&f->r[0]);
}

/* tx chain `slot`: a zero header and `len` bytes of `seed`; published. */
static void put_tx(struct nfx *f, unsigned slot, uint8_t seed, uint32_t len)
{
    struct vr *r = &f->r[1];
    uint64_t a = TXBUF + 0x1000ULL * slot;
    uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0}, frame[256];

    memset(frame, seed, sizeof(frame));
    g_assert_true(gm_write(f->m->gm, a, hdr, sizeof(hdr)));
    g_assert_true(gm_write(f->m->gm, a + 64, frame, len));
    vr_desc(r, 2 * slot, a, sizeof(hdr), VIRTQ_DESC_F_NEXT,
            (uint16_t)(2 * slot + 1));
    vr_desc(r, 2 * slot + 1, a + 64, len, 0, 0);
    vr_add(r, (uint16_t)(2 * slot));
    vr_publish(r);
}

/* Control command `slot`: class, command, one data byte, the ack byte
 * at CTRLBUF + 0x100 slot + 16 (0xee until the device writes it). */
static void put_ctrl(struct nfx *f, unsigned slot, uint8_t cls, uint8_t cmd,
                     uint8_t val)
{
    struct vr *r = &f->r[2];
    uint64_t a = CTRLBUF + 0x100ULL * slot;
    uint8_t c[3] = {cls, cmd, val}, ack = 0xee;

    g_assert_true(gm_write(f->m->gm, a, c, sizeof(c)));
    g_assert_true(gm_write(f->m->gm, a + 16, &ack, 1));
    vr_desc(r, 2 * slot, a, sizeof(c), VIRTQ_DESC_F_NEXT,
            (uint16_t)(2 * slot + 1));
    vr_desc(r, 2 * slot + 1, a + 16, 1, VIRTQ_DESC_F_WRITE, 0);
    vr_add(r, (uint16_t)(2 * slot));
    vr_publish(r);
}

/* Runs f's main loop until queue q has a used entry (a guard against a
 * hang, not a timing assertion). */
static void wait_used(struct nfx *f, unsigned q, uint32_t *id, uint32_t *len)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!vr_get_used(&f->r[q], id, len)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f->m->ctx, FALSE);
        g_usleep(1000);
    }
}

/* A frame that takes 3 buffers of 64 bytes with its 12-byte header. */
static void send_frame(struct nfx *f, uint8_t seed)
{
    uint8_t frame[150];

    for (size_t i = 0; i < sizeof(frame); i++) {
        frame[i] = (uint8_t)(seed + i);
    }
    g_assert_cmpint(send(f->peer, frame, sizeof(frame), 0), ==, sizeof(frame));
}

/* The next frame on f's wire, or -1 if none. */
static ssize_t wire_recv(struct nfx *f, uint8_t *buf, size_t len)
{
    return recv(f->peer, buf, len, MSG_DONTWAIT);
}

static GByteArray *save_stream(struct nfx *f, Error **errp)
{
    return th_save_stream("microvm", dev_of(f), f->m->gm, errp);
}

static bool load_stream(struct nfx *f, GByteArray *b, Error **errp)
{
    return th_load_stream("microvm", dev_of(f), f->m->gm, b, errp);
}

/* Saves a, loads into b; both must succeed. */
static void migrate(struct nfx *a, struct nfx *b)
{
    Error *err = NULL;
    GByteArray *stream = save_stream(a, &err);

    g_assert_null(err);
    g_assert_nonnull(stream);
    g_assert_true(load_stream(b, stream, &err));
    g_assert_null(err);
    g_byte_array_unref(stream);
    rings_moved(b, a);
}

/* The destination's announcement: one RARP "request reverse" broadcast
 * from and about `mac`, 60 bytes, as QEMU's self-announce. */
static void expect_rarp(struct nfx *f, const uint8_t mac[6])
{
    uint8_t buf[128];
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t rarp[10] = {0x80, 0x35, 0, 1, 8, 0, 6, 4, 0, 3};

    g_assert_cmpint(wire_recv(f, buf, sizeof(buf)), ==, 60);
    g_assert_cmpmem(buf, 6, bcast, 6);
    g_assert_cmpmem(buf + 6, 6, mac, 6);
    g_assert_cmpmem(buf + 12, 10, rarp, 10);
    g_assert_cmpmem(buf + 22, 6, mac, 6);
    g_assert_cmpmem(buf + 32, 6, mac, 6);
}

static const char *const props_a[] = {"mac", MAC_A, NULL};

/* Two rx buffers held for a frame that needs three: the save gives them
 * back (nothing in flight, the ring as before they were popped); the
 * destination fills them, plus the third the driver adds there, with the
 * next frame.  The MAC of the source's device is the one the destination
 * shows and announces. */
static void test_migrate_rx_held(void)
{
    struct nfx a, b;
    struct virtio_dev *va;
    uint32_t id, len;
    uint8_t out[3 * 64], buf[64];
    uint16_t nb;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    nfx_init(&a, props_a);
    nfx_init(&b, NULL);
    /* the model's state is described: nothing blocks migrate */
    g_assert_false(dev_of(&a)->cls->unmigratable);
    g_assert_false(dev_of(&a)->cls->migration_blocked(dev_of(&a)));
    driver_start(&a);
    va = vdev_of(&a);
    put_rx(&a, 0);
    put_rx(&a, 1);
    send_frame(&a, 1);
    while (va->vqs[0].inflight < 2) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(a.m->ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(va->vqs[0].last_avail_idx, ==, 2);

    migrate(&a, &b);
    /* the source gave both back, unused */
    g_assert_cmpuint(va->vqs[0].inflight, ==, 0);
    g_assert_cmpuint(va->vqs[0].last_avail_idx, ==, 0);
    g_assert_cmpuint(vr_used_p(&a.r[0])[1], ==, 0);
    g_assert_cmpuint(vdev_of(&b)->vqs[0].last_avail_idx, ==, 0);
    /* the MAC and the link carried (b's own property said :12:34:56) */
    for (unsigned i = 0; i < 6; i++) {
        g_assert_cmphex(rd(&b, VIRTIO_MMIO_CONFIG + i, 1), ==, mac_a[i]);
    }
    g_assert_cmphex(rd(&b, VIRTIO_MMIO_CONFIG + 6, 2), ==,
                    VIRTIO_NET_S_LINK_UP);
    expect_rarp(&b, mac_a);
    g_assert_cmpint(wire_recv(&b, buf, sizeof(buf)), <, 0);

    /* the destination: a third buffer, a frame, all three filled */
    put_rx(&b, 2);
    wr(&b, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    send_frame(&b, 7);
    for (unsigned i = 0; i < 3; i++) {
        wait_used(&b, 0, &id, &len);
        g_assert_cmpuint(id, ==, i);
        g_assert_cmpuint(len, ==, i < 2 ? 64 : 12 + 150 - 128);
        memcpy(out + 64 * i, vr_ptr(b.m->gm, RXBUF + 0x100ULL * i, 64), 64);
    }
    memcpy(&nb, out + 10, 2);
    g_assert_cmpuint(nb, ==, 3);
    for (unsigned i = 0; i < 150; i++) {
        g_assert_cmpuint(out[12 + i], ==, (uint8_t)(7 + i));
    }
    nfx_fini(&a);
    nfx_fini(&b);
}

/* A transmit doorbell and a control command the source had not served
 * when it stopped (written, the main loop not run): the destination sends
 * the frame and acknowledges the command; both queues then go on from
 * the indices the source reached. */
static void test_migrate_tx_ctrl(void)
{
    struct nfx a, b;
    uint32_t id, len;
    uint8_t buf[512];

    nfx_init(&a, NULL);
    nfx_init(&b, NULL);
    driver_start(&a);
    /* served on the source: promiscuous off, then a frame out */
    put_ctrl(&a, 0, VIRTIO_NET_CTRL_RX, 0, 0);
    wr(&a, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
    wait_used(&a, 2, &id, &len);
    g_assert_cmpuint(*vr_ptr(a.m->gm, CTRLBUF + 16, 1), ==, VIRTIO_NET_OK);
    put_tx(&a, 0, 0x11, 100);
    wr(&a, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    wait_used(&a, 1, &id, &len);
    g_assert_cmpint(wire_recv(&a, buf, sizeof(buf)), ==, 100);
    g_assert_cmpuint(buf[99], ==, 0x11);
    /* not served: the doorbells are written, the source stops */
    put_tx(&a, 1, 0x22, 120);
    wr(&a, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    put_ctrl(&a, 1, VIRTIO_NET_CTRL_RX, 1, 1); /* all-multicast on */
    wr(&a, VIRTIO_MMIO_QUEUE_NOTIFY, 2);

    migrate(&a, &b);
    g_assert_cmpint(wire_recv(&a, buf, sizeof(buf)), <, 0);
    expect_rarp(&b, (const uint8_t[]){0x52, 0x54, 0, 0x12, 0x34, 0x56});
    wait_used(&b, 1, &id, &len);
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpint(wire_recv(&b, buf, sizeof(buf)), ==, 120);
    g_assert_cmpuint(buf[0], ==, 0x22);
    wait_used(&b, 2, &id, &len);
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpuint(*vr_ptr(b.m->gm, CTRLBUF + 0x100 + 16, 1), ==,
                     VIRTIO_NET_OK);
    /* and both queues go on */
    put_tx(&b, 2, 0x33, 60);
    wr(&b, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    wait_used(&b, 1, &id, &len);
    g_assert_cmpuint(id, ==, 4);
    g_assert_cmpint(wire_recv(&b, buf, sizeof(buf)), ==, 60);
    put_ctrl(&b, 2, VIRTIO_NET_CTRL_RX, 0, 1);
    wr(&b, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
    wait_used(&b, 2, &id, &len);
    g_assert_cmpuint(id, ==, 4);
    g_assert_cmpuint(vr_used_p(&b.r[2])[1], ==, 3);
    g_assert_cmpuint(vr_used_p(&b.r[1])[1], ==, 3);
    nfx_fini(&a);
    nfx_fini(&b);
}

/* a's state saved, patched, loaded into b: refused with `want` in the
 * message, b as it was (no driver, its own MAC). */
static void expect_refused(struct nfx *a, struct nfx *b, bool patch_link,
                           const char *want)
{
    Error *err = NULL;
    GByteArray *stream = save_stream(a, &err);
    uint8_t buf[128];

    g_assert_null(err);
    if (patch_link) {
        static const uint8_t two = 2;

        /* the byte after the MAC */
        th_stream_patch(stream, "virtio-net-device", mac_a, 6, 6, &two, 1);
    }
    g_assert_false(load_stream(b, stream, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("'%s' lacks '%s'", error_get_pretty(err), want);
    }
    error_free(err);
    g_assert_cmpuint(rd(b, VIRTIO_MMIO_STATUS, 4), ==, 0);
    g_assert_cmphex(rd(b, VIRTIO_MMIO_CONFIG + 3, 1), ==, 0x12);
    g_assert_cmpint(wire_recv(b, buf, sizeof(buf)), <, 0); /* no RARP */
    g_byte_array_unref(stream);
}

static void test_migrate_refused(void)
{
    static const char *const no_mrg[] = {"mrg_rxbuf", "off", NULL};
    struct nfx a, b, c;
    struct virtio_dev *va;

    nfx_init(&a, props_a);
    nfx_init(&b, NULL);
    nfx_init(&c, no_mrg);
    driver_start(&a);
    va = vdev_of(&a);
    /* a link status that is neither up nor down */
    expect_refused(&a, &b, true, "field 'link_up'");
    /* a destination whose properties take away a feature the driver
     * accepted */
    expect_refused(&a, &c, false,
                   "virtio-net: the driver accepted features "
                   "0x0000000000008000 this device does not offer");
    /* an rx ring outside the destination's RAM */
    va->vqs[0].desc_gpa = RAM;
    expect_refused(&a, &b, false,
                   "virtio-net: queue 0: ring outside guest RAM");
    va->vqs[0].desc_gpa = a.r[0].desc;
    /* unchanged, the same state loads */
    migrate(&a, &b);
    g_assert_cmpuint(rd(&b, VIRTIO_MMIO_STATUS, 4), ==, 0xf);
    nfx_fini(&a);
    nfx_fini(&b);
    nfx_fini(&c);
}

/* Runs f's main loop until nothing is left to dispatch: a readable tap
 * that is polled is read and delivered by the first iteration. */
static void run_idle(struct nfx *f)
{
    for (unsigned i = 0; i < 100 && g_main_context_iteration(f->m->ctx, FALSE);
         i++) {
    }
}

static uint16_t used_idx(struct nfx *f, unsigned q)
{
    return vr_used_p(&f->r[q])[1];
}

/* The 3 buffers of a frame sent with send_frame(f, seed). */
static void expect_frame(struct nfx *f, uint8_t seed)
{
    uint8_t out[3 * 64];
    uint32_t id, len;
    uint16_t nb;

    for (unsigned i = 0; i < 3; i++) {
        wait_used(f, 0, &id, &len);
        g_assert_cmpuint(id, ==, i);
        memcpy(out + 64 * i, vr_ptr(f->m->gm, RXBUF + 0x100ULL * i, 64), 64);
    }
    memcpy(&nb, out + 10, 2);
    g_assert_cmpuint(nb, ==, 3);
    for (unsigned i = 0; i < 150; i++) {
        g_assert_cmpuint(out[12 + i], ==, (uint8_t)(seed + i));
    }
}

/* stop: a frame on the wire stays there (the used ring does not move,
 * however long the main loop runs); cont: it arrives whole. */
static void test_stopped_rx(void)
{
    struct nfx a;

    nfx_init(&a, NULL);
    a.m->listeners = g_ptr_array_new_with_free_func(g_free);
    driver_start(&a);
    for (unsigned i = 0; i < 3; i++) {
        put_rx(&a, i);
    }
    machine_pause(a.m);
    g_assert_cmpint(a.m->state, ==, RUN_STATE_PAUSED);
    send_frame(&a, 3);
    run_idle(&a);
    g_assert_cmpuint(used_idx(&a, 0), ==, 0);
    g_assert_cmpuint(vdev_of(&a)->vqs[0].last_avail_idx, ==, 0);
    machine_resume(a.m);
    expect_frame(&a, 3);
    g_ptr_array_free(a.m->listeners, TRUE);
    nfx_fini(&a);
}

/* Migration's last phase: the source stops, then its state is captured;
 * a frame arriving after the stop is not taken (it is in neither the
 * stream nor the source's rings).  A cancelled migration resumes the
 * source, which receives it then; a completed one (postmigrate) keeps
 * it on the wire.  The destination takes nothing while it is not
 * running (inmigrate), and the frame once it runs. */
static void test_stopped_migration(void)
{
    struct nfx a, b;
    Error *err = NULL;
    GByteArray *stream;

    nfx_init(&a, NULL);
    nfx_init(&b, NULL);
    a.m->listeners = g_ptr_array_new_with_free_func(g_free);
    b.m->listeners = g_ptr_array_new_with_free_func(g_free);
    driver_start(&a);
    for (unsigned i = 0; i < 3; i++) {
        put_rx(&a, i);
    }
    /* the last phase, cancelled: live_converged's stop, the capture,
     * live_resume's cont */
    machine_pause(a.m);
    send_frame(&a, 5);
    run_idle(&a);
    stream = save_stream(&a, &err);
    g_assert_null(err);
    g_byte_array_unref(stream);
    run_idle(&a);
    g_assert_cmpuint(used_idx(&a, 0), ==, 0);
    machine_resume(a.m);
    expect_frame(&a, 5);

    /* again (a new driver start), completed: postmigrate stays quiet */
    driver_start(&a);
    for (unsigned i = 0; i < 3; i++) {
        put_rx(&a, i);
    }
    machine_pause(a.m);
    stream = save_stream(&a, &err);
    g_assert_null(err);
    machine_set_state(a.m, RUN_STATE_POSTMIGRATE);
    send_frame(&a, 9);
    run_idle(&a);
    g_assert_cmpuint(used_idx(&a, 0), ==, 0);

    /* the destination: loaded while inmigrate, a frame on its wire
     * waits until it runs */
    machine_set_state(b.m, RUN_STATE_INMIGRATE);
    g_assert_true(load_stream(&b, stream, &err));
    g_assert_null(err);
    g_byte_array_unref(stream);
    rings_moved(&b, &a);
    send_frame(&b, 11);
    run_idle(&b);
    g_assert_cmpuint(used_idx(&b, 0), ==, 0);
    machine_set_state(b.m, RUN_STATE_PAUSED);
    machine_resume(b.m);
    expect_frame(&b, 11);
    g_ptr_array_free(a.m->listeners, TRUE);
    g_ptr_array_free(b.m->listeners, TRUE);
    nfx_fini(&a);
    nfx_fini(&b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-net-device/migrate-rx-held", test_migrate_rx_held);
    g_test_add_func("/virtio-net-device/migrate-tx-ctrl", test_migrate_tx_ctrl);
    g_test_add_func("/virtio-net-device/migrate-refused", test_migrate_refused);
    g_test_add_func("/virtio-net-device/stopped-rx", test_stopped_rx);
    g_test_add_func("/virtio-net-device/stopped-migration",
                    test_stopped_migration);
    return g_test_run();
}
