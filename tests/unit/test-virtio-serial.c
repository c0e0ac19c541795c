/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-serial.c: the virtio-serial model (hw/char/virtio-serial.c,
 * virtio 1.2 section 5.3) driven through the virtio core with rings in a
 * fake guest RAM and real chardevs (socketpairs, a unix server socket):
 * the multiport control handshake (DEVICE_READY, PORT_ADD, PORT_READY,
 * CONSOLE_PORT, PORT_NAME, PORT_OPEN), data both ways, back-pressure in
 * both directions without loss, host-side open/close, reset, the
 * emergency write, a driver without MULTIPORT, QEMU's port number rules,
 * and hostile control messages that must be ignored (logged) while a bad
 * chain breaks the device.  Migration of the model's own state: a save
 * that gives a half-written chain back and goes on (a snapshot), and
 * corrupt or mismatched states refused.
 */
#include "util/common.h"
#include "hw/char/chardev.h"
#include "hw/char/virtio-serial.h"
#include "migration/vmstate.h"
#include "system/guest-mem.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RAM (16 * MiB)
#define NUM 64
#define MAX_PORTS 4
#define NQ (2 * MAX_PORTS + 2)
#define CTRL_IN_GPA 0x100000ULL  /* c_ivq buffers, 256 bytes each */
#define CTRL_OUT_GPA 0x110000ULL /* c_ovq messages, 16 bytes each */
#define DATA_GPA 0x200000ULL     /* per queue 1 MiB: 16 slots of 64 KiB */
#define SLOT (64 * KiB)

static const uint64_t FEAT = (1ULL << VIRTIO_F_VERSION_1) |
                             (1ULL << VIRTIO_CONSOLE_F_MULTIPORT) |
                             (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE);

struct sfx {
    struct guest_mem *gm;
    struct vlog log;
    char *log_path;
    struct virtio_serial s;
    struct vr r[NQ];
    uint16_t next_desc[NQ];
    uint16_t ctrl_out_slot;
    unsigned irqs, config_irqs;
    /* port 0: console on a socketpair; port 1: serial port on another */
    struct virtio_serial_port p0, p1;
    struct chardev *c0, *c1;
    int peer0, peer1; /* the host side's other ends */
};

static void s_notify_queue(void *opaque, unsigned q)
{
    ((struct sfx *)opaque)->irqs++;
}

static void s_notify_config(void *opaque)
{
    ((struct sfx *)opaque)->config_irqs++;
}

static const struct virtio_transport_ops s_ops = {s_notify_queue,
                                                  s_notify_config};

static struct chardev *pair_chardev(const char *id, int *peer, int sndbuf)
{
    Error *err = NULL;
    int sv[2];
    struct chardev *c;
    char *text;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    if (sndbuf) {
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
    }
    text = g_strdup_printf("socket,id=%s,fd=%d", id, sv[0]);
    c = chardev_new(NULL, text, &err);
    g_assert_null(err);
    g_assert_nonnull(c);
    g_free(text);
    *peer = sv[1];
    return c;
}

static void iterate(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        g_main_context_iteration(NULL, FALSE);
    }
}

/* Sets the model up with max_ports 4; ports are plugged by the tests. */
static void sfx_init(struct sfx *f, uint64_t features)
{
    Error *err = NULL;
    uint64_t base = 0x1000;
    int fd;

    memset(f, 0, sizeof(*f));
    f->peer0 = f->peer1 = -1;
    f->gm = gm_new(RAM, &err);
    g_assert_nonnull(f->gm);
    g_assert_true(gm_add_ram(f->gm, 0, 0, RAM, "ram", &err));
    vlog_init(&f->log);
    /* guest errors to a file, to check what was logged */
    fd = g_file_open_tmp("vireo-vser-log-XXXXXX", &f->log_path, NULL);
    g_assert_cmpint(fd, >=, 0);
    f->log.out = fdopen(fd, "w");
    f->log.mask = VLOG_GUEST_ERROR;
    virtio_serial_set_defaults(&f->s);
    f->s.max_ports = MAX_PORTS;
    g_assert_true(virtio_serial_setup(&f->s, f->gm, &f->log, &err));
    virtio_set_transport(&f->s.vdev, &s_ops, f);
    for (unsigned q = 0; q < NQ; q++) {
        base += vr_init(&f->r[q], f->gm, base, NUM);
    }
    g_assert_cmphex(base, <, CTRL_IN_GPA);
    g_assert_true(vr_driver_start(&f->s.vdev, features, f->r, NQ) &
                  VIRTIO_STATUS_DRIVER_OK);
}

static void plug(struct sfx *f, struct virtio_serial_port *p, uint32_t nr,
                 bool console, const char *name, struct chardev *c)
{
    Error *err = NULL;

    *p = (struct virtio_serial_port){
        .nr = nr, .console = console, .name = name, .chr = c, .what = "test"};
    g_assert_true(virtio_serial_port_plug(&f->s, p, &err));
    g_assert_null(err);
}

/* The usual pair: console 0 and "org.qemu.guest_agent.0" at 1. */
static void sfx_ports(struct sfx *f, int sndbuf1)
{
    f->c0 = pair_chardev("c0", &f->peer0, 0);
    f->c1 = pair_chardev("c1", &f->peer1, sndbuf1);
    plug(f, &f->p0, VIRTIO_SERIAL_NR_AUTO, true, NULL, f->c0);
    plug(f, &f->p1, VIRTIO_SERIAL_NR_AUTO, false, "org.qemu.guest_agent.0",
         f->c1);
    g_assert_cmpuint(f->p0.nr, ==, 0);
    g_assert_cmpuint(f->p1.nr, ==, 1);
}

static char *sfx_logged(struct sfx *f)
{
    char *text = NULL;

    fflush(f->log.out);
    g_assert_true(g_file_get_contents(f->log_path, &text, NULL, NULL));
    return text;
}

static void sfx_fini(struct sfx *f)
{
    if (f->p1.vser) {
        virtio_serial_port_unplug(&f->p1);
    }
    if (f->p0.vser) {
        virtio_serial_port_unplug(&f->p0);
    }
    virtio_serial_teardown(&f->s);
    chardev_free(f->c0);
    chardev_free(f->c1);
    if (f->peer0 >= 0) {
        close(f->peer0);
    }
    if (f->peer1 >= 0) {
        close(f->peer1);
    }
    iterate(5);
    vlog_close(&f->log);
    unlink(f->log_path);
    g_free(f->log_path);
    gm_free(f->gm);
}

/* ---- the driver's side ----------------------------------------------- */

static uint64_t slot_gpa(unsigned q, unsigned slot)
{
    return DATA_GPA + (uint64_t)q * MiB + (uint64_t)(slot % 16) * SLOT;
}

/* One buffer of len bytes (device-writable or -readable) on queue q. */
static uint16_t add_buf(struct sfx *f, unsigned q, uint64_t gpa, uint32_t len,
                        bool writable)
{
    uint16_t d = f->next_desc[q]++ % NUM;

    vr_desc(&f->r[q], d, gpa, len, writable ? VIRTQ_DESC_F_WRITE : 0, 0);
    vr_add(&f->r[q], d);
    vr_publish(&f->r[q]);
    return d;
}

static void kick(struct sfx *f, unsigned q)
{
    virtio_queue_notify(&f->s.vdev, q);
}

/* n control buffers of 256 bytes for the device (c_ivq). */
static void give_ctrl_bufs(struct sfx *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint16_t d = f->next_desc[2] % NUM;

        add_buf(f, 2, CTRL_IN_GPA + 256ULL * d, 256, true);
    }
    kick(f, 2);
}

/* The driver sends a control message of len bytes (8 is the real one). */
static void send_ctrl_raw(struct sfx *f, uint32_t id, uint16_t event,
                          uint16_t value, uint32_t len)
{
    uint64_t gpa = CTRL_OUT_GPA + 16ULL * (f->ctrl_out_slot++ % 256);
    uint8_t msg[8];

    memcpy(msg, &id, 4);
    memcpy(msg + 4, &event, 2);
    memcpy(msg + 6, &value, 2);
    g_assert_true(gm_write(f->gm, gpa, msg, sizeof(msg)));
    add_buf(f, 3, gpa, len, false);
    kick(f, 3);
}

static void send_ctrl(struct sfx *f, uint32_t id, uint16_t event,
                      uint16_t value)
{
    send_ctrl_raw(f, id, event, value, 8);
}

struct ctrl_msg {
    uint32_t id;
    uint16_t event, value;
    char extra[248];
    uint32_t len;
};

/* The device's next control message, if any. */
static bool get_ctrl(struct sfx *f, struct ctrl_msg *m)
{
    uint32_t head, len;
    uint8_t *b;

    if (!vr_get_used(&f->r[2], &head, &len)) {
        return false;
    }
    g_assert_cmpuint(len, >=, 8);
    g_assert_cmpuint(len, <=, 256);
    b = vr_ptr(f->gm, CTRL_IN_GPA + 256ULL * head, 256);
    memset(m, 0, sizeof(*m));
    memcpy(&m->id, b, 4);
    memcpy(&m->event, b + 4, 2);
    memcpy(&m->value, b + 6, 2);
    memcpy(m->extra, b + 8, len - 8);
    m->len = len;
    return true;
}

static void expect_ctrl(struct sfx *f, uint32_t id, uint16_t event,
                        uint16_t value)
{
    struct ctrl_msg m;

    g_assert_true(get_ctrl(f, &m));
    g_assert_cmpuint(m.event, ==, event);
    g_assert_cmpuint(m.id, ==, id);
    g_assert_cmpuint(m.value, ==, value);
}

static void expect_no_ctrl(struct sfx *f)
{
    struct ctrl_msg m;

    g_assert_false(get_ctrl(f, &m));
}

/* DEVICE_READY, PORT_READY for each plugged port, PORT_OPEN from the
 * guest on port 1; the answers are checked by test_handshake. */
static void handshake(struct sfx *f)
{
    struct ctrl_msg m;

    give_ctrl_bufs(f, 16);
    send_ctrl(f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    send_ctrl(f, 0, VIRTIO_CONSOLE_PORT_READY, 1);
    send_ctrl(f, 1, VIRTIO_CONSOLE_PORT_READY, 1);
    send_ctrl(f, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    send_ctrl(f, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    while (get_ctrl(f, &m)) {
    }
}

static void read_exact(int fd, void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = read(fd, (uint8_t *)buf + done, len - done);

        g_assert_cmpint(n, >, 0);
        done += (size_t)n;
    }
}

/* Runs the main loop until queue q has a used entry; returns its len. */
static uint32_t wait_used(struct sfx *f, unsigned q, uint32_t *head)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    uint32_t id, len;

    while (!vr_get_used(&f->r[q], &id, &len)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    if (head) {
        *head = id;
    }
    return len;
}

/* The host reads `total` bytes of port 1's output (byte k is k % 251)
 * while the main loop runs, until port 1's transmit queue has used at
 * least `chains` chains too; returns how many it used meanwhile. */
static unsigned read_pattern_out(struct sfx *f, size_t total, unsigned chains)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint8_t *rx = g_malloc(total);
    unsigned used = 0;
    size_t got = 0;

    while (got < total || used < chains) {
        uint32_t head, len;
        ssize_t n = recv(f->peer1, rx + got, total - got, MSG_DONTWAIT);

        if (n > 0) {
            got += (size_t)n;
        }
        g_main_context_iteration(NULL, FALSE);
        while (vr_get_used(&f->r[5], &head, &len)) {
            used++;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    for (size_t k = 0; k < total; k++) {
        if (rx[k] != (uint8_t)(k % 251)) {
            g_error("byte %zu is %u, expected %u", k, rx[k],
                    (unsigned)(k % 251));
        }
    }
    g_free(rx);
    return used;
}

/* ---- tests ----------------------------------------------------------- */

static void test_handshake(void)
{
    struct sfx f;
    struct ctrl_msg m;
    uint32_t cfg;

    sfx_init(&f, FEAT);
    sfx_ports(&f, 0);
    /* config: max_nr_ports */
    cfg = (uint32_t)virtio_config_read(&f.s.vdev, 4, 4);
    g_assert_cmpuint(cfg, ==, MAX_PORTS);
    g_assert_true(f.s.vdev.host_features &
                  (1ULL << VIRTIO_CONSOLE_F_MULTIPORT));

    give_ctrl_bufs(&f, 16);
    /* nothing until the driver is ready */
    expect_no_ctrl(&f);
    send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1);
    expect_ctrl(&f, 1, VIRTIO_CONSOLE_DEVICE_ADD, 1);
    expect_no_ctrl(&f);
    g_assert_cmpuint(f.irqs, >, 0);
    /* the console: CONSOLE_PORT, then open (it has a backend) */
    send_ctrl(&f, 0, VIRTIO_CONSOLE_PORT_READY, 1);
    expect_ctrl(&f, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
    expect_ctrl(&f, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    expect_no_ctrl(&f);
    /* the named port: its name with the NUL, then open (socket connected) */
    send_ctrl(&f, 1, VIRTIO_CONSOLE_PORT_READY, 1);
    g_assert_true(get_ctrl(&f, &m));
    g_assert_cmpuint(m.event, ==, VIRTIO_CONSOLE_PORT_NAME);
    g_assert_cmpuint(m.id, ==, 1);
    g_assert_cmpuint(m.len, ==, 8 + strlen("org.qemu.guest_agent.0") + 1);
    g_assert_cmpstr(m.extra, ==, "org.qemu.guest_agent.0");
    expect_ctrl(&f, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    expect_no_ctrl(&f);
    /* the guest opens both */
    send_ctrl(&f, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    send_ctrl(&f, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    g_assert_true(f.p0.guest_connected);
    g_assert_true(f.p1.guest_connected);
    expect_no_ctrl(&f);
    /* a failing PORT_READY is logged, nothing sent */
    send_ctrl(&f, 1, VIRTIO_CONSOLE_PORT_READY, 0);
    expect_no_ctrl(&f);
    /* 16 buffers given, 6 used: use up the rest, then messages wait for
     * the driver's next buffers */
    for (unsigned i = 0; i < 5; i++) {
        send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
        expect_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1);
        expect_ctrl(&f, 1, VIRTIO_CONSOLE_DEVICE_ADD, 1);
    }
    send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect_no_ctrl(&f);
    g_assert_cmpuint(g_queue_get_length(&f.s.ctrl_out), ==, 2);
    give_ctrl_bufs(&f, 1);
    expect_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1);
    expect_no_ctrl(&f);
    give_ctrl_bufs(&f, 1);
    expect_ctrl(&f, 1, VIRTIO_CONSOLE_DEVICE_ADD, 1);
    g_assert_false(f.s.vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    sfx_fini(&f);
}

static void test_data_both_ways(void)
{
    struct sfx f;
    uint8_t buf[64];
    uint32_t len, head;

    sfx_init(&f, FEAT);
    sfx_ports(&f, 0);
    handshake(&f);
    /* host -> guest on port 1 (queue 4) */
    add_buf(&f, 4, slot_gpa(4, 0), 4096, true);
    kick(&f, 4);
    g_assert_cmpint(write(f.peer1, "hello agent", 11), ==, 11);
    len = wait_used(&f, 4, &head);
    g_assert_cmpuint(len, ==, 11);
    g_assert_cmpmem(vr_ptr(f.gm, slot_gpa(4, 0), 11), 11, "hello agent", 11);
    /* guest -> host on port 1 (queue 5): two buffers in one chain */
    g_assert_true(gm_write(f.gm, slot_gpa(5, 0), "{\"execute\":", 11));
    g_assert_true(gm_write(f.gm, slot_gpa(5, 1), "\"ping\"}", 7));
    vr_desc(&f.r[5], 0, slot_gpa(5, 0), 11, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f.r[5], 1, slot_gpa(5, 1), 7, 0, 0);
    f.next_desc[5] = 2;
    vr_add(&f.r[5], 0);
    vr_publish(&f.r[5]);
    kick(&f, 5);
    g_assert_cmpuint(wait_used(&f, 5, &head), ==, 0);
    g_assert_cmpuint(head, ==, 0);
    read_exact(f.peer1, buf, 18);
    g_assert_cmpmem(buf, 18, "{\"execute\":\"ping\"}", 18);
    /* the console: guest -> host on queue 1, host -> guest on queue 0 */
    g_assert_true(gm_write(f.gm, slot_gpa(1, 0), "login: ", 7));
    add_buf(&f, 1, slot_gpa(1, 0), 7, false);
    kick(&f, 1);
    wait_used(&f, 1, NULL);
    read_exact(f.peer0, buf, 7);
    g_assert_cmpmem(buf, 7, "login: ", 7);
    add_buf(&f, 0, slot_gpa(0, 0), 64, true);
    kick(&f, 0);
    g_assert_cmpint(write(f.peer0, "root\r", 5), ==, 5);
    g_assert_cmpuint(wait_used(&f, 0, NULL), ==, 5);
    g_assert_cmpmem(vr_ptr(f.gm, slot_gpa(0, 0), 5), 5, "root\r", 5);
    /* emergency write: one byte to port 0's chardev */
    virtio_config_write(&f.s.vdev, 8, '!', 4);
    read_exact(f.peer0, buf, 1);
    g_assert_cmpuint(buf[0], ==, '!');
    sfx_fini(&f);
}

/* Host -> guest: input waits in the chardev while the guest has no
 * buffers, and none of it is lost. */
static void test_backpressure_in(void)
{
    struct sfx f;
    uint8_t pattern[100], got[100];
    size_t have = 0;

    sfx_init(&f, FEAT);
    sfx_ports(&f, 0);
    handshake(&f);
    for (unsigned i = 0; i < sizeof(pattern); i++) {
        pattern[i] = (uint8_t)(i * 7 + 1);
    }
    /* input before any buffer: nothing is taken */
    g_assert_cmpint(write(f.peer1, pattern, 100), ==, 100);
    iterate(50);
    g_assert_cmpuint(f.r[4].used_seen, ==, 0);
    /* two 16-byte buffers: exactly 32 bytes move, the rest waits */
    add_buf(&f, 4, slot_gpa(4, 0), 16, true);
    add_buf(&f, 4, slot_gpa(4, 1), 16, true);
    kick(&f, 4);
    for (unsigned i = 0; i < 2; i++) {
        uint32_t head, len = wait_used(&f, 4, &head);

        g_assert_cmpuint(len, ==, 16);
        memcpy(got + have, vr_ptr(f.gm, slot_gpa(4, head), len), len);
        have += len;
    }
    iterate(50);
    {
        uint32_t head, len;

        g_assert_false(vr_get_used(&f.r[4], &head, &len));
    }
    g_assert_true(f.p1.rx_wanted);
    /* more buffers: the rest arrives, in order */
    for (unsigned i = 2; i < 12; i++) {
        add_buf(&f, 4, slot_gpa(4, i), 16, true);
    }
    kick(&f, 4);
    while (have < sizeof(pattern)) {
        uint32_t head, len = wait_used(&f, 4, &head);

        g_assert_cmpuint(have + len, <=, sizeof(pattern));
        memcpy(got + have, vr_ptr(f.gm, slot_gpa(4, head), len), len);
        have += len;
    }
    g_assert_cmpmem(got, sizeof(got), pattern, sizeof(pattern));
    g_assert_cmpuint(f.p1.rx_dropped, ==, 0);
    /* a closed port takes no input either */
    send_ctrl(&f, 1, VIRTIO_CONSOLE_PORT_OPEN, 0);
    g_assert_cmpint(write(f.peer1, "x", 1), ==, 1);
    iterate(50);
    {
        uint32_t head, len;

        g_assert_false(vr_get_used(&f.r[4], &head, &len));
    }
    send_ctrl(&f, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    g_assert_cmpuint(wait_used(&f, 4, NULL), ==, 1);
    sfx_fini(&f);
}

/* Guest -> host on a serial port: buffers are not returned while the
 * chardev's reader lags, and every byte arrives once it reads. */
static void test_backpressure_out(void)
{
    struct sfx f;
    const unsigned nbuf = 12;
    size_t total = (size_t)nbuf * SLOT;
    unsigned used = 0;

    sfx_init(&f, FEAT);
    sfx_ports(&f, 4096);
    handshake(&f);
    for (unsigned i = 0; i < nbuf; i++) {
        uint8_t *b = vr_ptr(f.gm, slot_gpa(5, i), SLOT);

        for (size_t k = 0; k < SLOT; k++) {
            b[k] = (uint8_t)((i * SLOT + k) % 251);
        }
        add_buf(&f, 5, slot_gpa(5, i), SLOT, false);
    }
    kick(&f, 5);
    iterate(20);
    {
        uint32_t head, len;

        while (vr_get_used(&f.r[5], &head, &len)) {
            used++;
        }
    }
    /* the chardev holds at most its bound: the port waits */
    g_assert_cmpuint(used, <, nbuf);
    g_assert_true(f.p1.throttled);
    g_assert_cmpuint(chardev_dropped(f.c1), ==, 0);
    /* the reader catches up: everything comes out, in order */
    used += read_pattern_out(&f, total, 0);
    while (used < nbuf) {
        wait_used(&f, 5, NULL);
        used++;
    }
    g_assert_false(f.p1.throttled);
    g_assert_cmpuint(chardev_dropped(f.c1), ==, 0);
    sfx_fini(&f);
}

/* PORT_OPEN follows the host side: a client connecting to a server
 * socket opens the port, its going away closes it. */
static void test_host_open_close(void)
{
    struct sfx f;
    Error *err = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-vser-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "s", NULL);
    g_autofree char *text =
        g_strdup_printf("socket,id=srv,path=%s,server=on,wait=off", path);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct ctrl_msg m;
    gint64 deadline;
    int cl;

    sfx_init(&f, FEAT);
    f.c1 = chardev_new(NULL, text, &err);
    g_assert_nonnull(f.c1);
    plug(&f, &f.p1, 2, false, "chan", f.c1);
    g_assert_false(f.p1.host_connected);
    give_ctrl_bufs(&f, 16);
    send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect_ctrl(&f, 2, VIRTIO_CONSOLE_DEVICE_ADD, 1);
    send_ctrl(&f, 2, VIRTIO_CONSOLE_PORT_READY, 1);
    g_assert_true(get_ctrl(&f, &m));
    g_assert_cmpuint(m.event, ==, VIRTIO_CONSOLE_PORT_NAME);
    expect_no_ctrl(&f); /* no client: not open */
    /* guest output with nobody connected is discarded, not held */
    send_ctrl(&f, 2, VIRTIO_CONSOLE_PORT_OPEN, 1);
    g_assert_true(gm_write(f.gm, slot_gpa(7, 0), "lost", 4));
    add_buf(&f, 7, slot_gpa(7, 0), 4, false);
    kick(&f, 7);
    g_assert_cmpuint(wait_used(&f, 7, NULL), ==, 0);

    /* receive buffers, as Linux keeps posted on an open port: the
     * chardev notices the client leaving when it reads (its EOF) */
    add_buf(&f, 6, slot_gpa(6, 0), 64, true);
    kick(&f, 6);
    cl = socket(AF_UNIX, SOCK_STREAM, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(connect(cl, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!get_ctrl(&f, &m)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_cmpuint(m.id, ==, 2);
    g_assert_cmpuint(m.event, ==, VIRTIO_CONSOLE_PORT_OPEN);
    g_assert_cmpuint(m.value, ==, 1);
    close(cl);
    deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!get_ctrl(&f, &m)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(500);
    }
    g_assert_cmpuint(m.event, ==, VIRTIO_CONSOLE_PORT_OPEN);
    g_assert_cmpuint(m.value, ==, 0);
    sfx_fini(&f);
    rmdir(dir);
}

static void test_hostile_control(void)
{
    struct sfx f;
    g_autofree char *logged = NULL;

    sfx_init(&f, FEAT);
    sfx_ports(&f, 0);
    give_ctrl_bufs(&f, 16);
    /* too short */
    send_ctrl_raw(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1, 4);
    expect_no_ctrl(&f);
    /* port ids out of range or without a port */
    send_ctrl(&f, 99, VIRTIO_CONSOLE_PORT_READY, 1);
    send_ctrl(&f, 0xffffffff, VIRTIO_CONSOLE_PORT_OPEN, 1);
    send_ctrl(&f, 3, VIRTIO_CONSOLE_PORT_READY, 1);
    /* events that only go the other way, and unknown ones */
    send_ctrl(&f, 1, VIRTIO_CONSOLE_PORT_NAME, 1);
    send_ctrl(&f, 1, VIRTIO_CONSOLE_RESIZE, 1);
    send_ctrl(&f, 1, 42, 1);
    /* the driver's own failure */
    send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 0);
    expect_no_ctrl(&f);
    g_assert_false(f.s.vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    logged = sfx_logged(&f);
    g_assert_nonnull(strstr(logged, "control message of 4 bytes"));
    g_assert_nonnull(strstr(logged, "port 99, which does not exist"));
    g_assert_nonnull(strstr(logged, "port 4294967295, which does not exist"));
    g_assert_nonnull(strstr(logged, "port 3, which does not exist"));
    g_assert_nonnull(strstr(logged, "control event 7 goes from the device"));
    g_assert_nonnull(strstr(logged, "unknown control event 42"));
    g_assert_nonnull(strstr(logged, "failed to set up the device"));
    /* the device still works */
    send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1);
    expect_ctrl(&f, 1, VIRTIO_CONSOLE_DEVICE_ADD, 1);

    /* a driver that asks again and again without buffers: bounded */
    for (unsigned i = 0; i < 200; i++) {
        send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    }
    g_assert_cmpuint(g_queue_get_length(&f.s.ctrl_out), <=, 4 * MAX_PORTS + 16);
    g_assert_cmpuint(f.s.ctrl_dropped, >, 0);

    /* a control chain pointing outside RAM breaks this device only */
    vr_desc(&f.r[3], 5, RAM - 4, 8, 0, 0);
    vr_add(&f.r[3], 5);
    vr_publish(&f.r[3]);
    kick(&f, 3);
    g_assert_true(f.s.vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    g_assert_cmpuint(f.config_irqs, >, 0);
    /* and a reset brings it back */
    f.next_desc[2] = f.next_desc[3] = 0;
    for (unsigned q = 0; q < NQ; q++) {
        vr_init(&f.r[q], f.gm, f.r[q].desc, NUM);
    }
    g_assert_true(vr_driver_start(&f.s.vdev, FEAT, f.r, NQ) &
                  VIRTIO_STATUS_DRIVER_OK);
    g_assert_cmpuint(g_queue_get_length(&f.s.ctrl_out), ==, 0);
    g_assert_false(f.p1.guest_ready);
    give_ctrl_bufs(&f, 4);
    send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1);
    sfx_fini(&f);
}

/* A driver without MULTIPORT: port 0 only, open from DRIVER_OK. */
static void test_single_port(void)
{
    struct sfx f;
    uint8_t buf[8];

    sfx_init(&f, 1ULL << VIRTIO_F_VERSION_1);
    sfx_ports(&f, 0);
    add_buf(&f, 0, slot_gpa(0, 0), 64, true);
    kick(&f, 0);
    g_assert_cmpint(write(f.peer0, "abc", 3), ==, 3);
    g_assert_cmpuint(wait_used(&f, 0, NULL), ==, 3);
    g_assert_cmpmem(vr_ptr(f.gm, slot_gpa(0, 0), 3), 3, "abc", 3);
    g_assert_true(gm_write(f.gm, slot_gpa(1, 0), "xyz", 3));
    add_buf(&f, 1, slot_gpa(1, 0), 3, false);
    kick(&f, 1);
    read_exact(f.peer0, buf, 3);
    g_assert_cmpmem(buf, 3, "xyz", 3);
    /* the control queues are not there for this driver */
    send_ctrl(&f, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    {
        g_autofree char *logged = sfx_logged(&f);

        g_assert_nonnull(strstr(logged, "without VIRTIO_CONSOLE_F_MULTIPORT"));
    }
    sfx_fini(&f);
}

static void test_reset_gives_back(void)
{
    struct sfx f;

    sfx_init(&f, FEAT);
    sfx_ports(&f, 0);
    handshake(&f);
    /* 16 of 19 bytes go in, the rest waits for a buffer */
    add_buf(&f, 4, slot_gpa(4, 0), 16, true);
    kick(&f, 4);
    g_assert_cmpint(write(f.peer1, "0123456789abcdefXYZ", 19), ==, 19);
    g_assert_cmpuint(wait_used(&f, 4, NULL), ==, 16);
    iterate(20);
    g_assert_true(f.p1.rx_wanted);
    virtio_set_status(&f.s.vdev, 0);
    g_assert_false(f.p1.guest_connected);
    g_assert_null(f.p1.rx_elem);
    /* the device comes back; the rest of the input is still there */
    f.next_desc[2] = f.next_desc[3] = f.next_desc[4] = 0;
    for (unsigned q = 0; q < NQ; q++) {
        vr_init(&f.r[q], f.gm, f.r[q].desc, NUM);
    }
    g_assert_true(vr_driver_start(&f.s.vdev, FEAT, f.r, NQ) &
                  VIRTIO_STATUS_DRIVER_OK);
    handshake(&f);
    add_buf(&f, 4, slot_gpa(4, 1), 16, true);
    kick(&f, 4);
    g_assert_cmpuint(wait_used(&f, 4, NULL), ==, 3);
    g_assert_cmpmem(vr_ptr(f.gm, slot_gpa(4, 1), 3), 3, "XYZ", 3);
    sfx_fini(&f);
}

static void test_pick_nr(void)
{
    bool taken[4] = {false};
    Error *err = NULL;
    uint32_t nr;

    /* console: 0 when free, else the first free */
    nr = VIRTIO_SERIAL_NR_AUTO;
    g_assert_true(virtio_serial_pick_nr(taken, 4, true, &nr, &err));
    g_assert_cmpuint(nr, ==, 0);
    taken[0] = true;
    nr = VIRTIO_SERIAL_NR_AUTO;
    g_assert_true(virtio_serial_pick_nr(taken, 4, true, &nr, &err));
    g_assert_cmpuint(nr, ==, 1);
    /* serial port: never 0 */
    taken[0] = false;
    nr = VIRTIO_SERIAL_NR_AUTO;
    g_assert_true(virtio_serial_pick_nr(taken, 4, false, &nr, &err));
    g_assert_cmpuint(nr, ==, 1);
    nr = 0;
    g_assert_false(virtio_serial_pick_nr(taken, 4, false, &nr, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "reserved for virtconsole"));
    g_clear_pointer(&err, error_free);
    /* in use, out of range, full */
    taken[2] = true;
    nr = 2;
    g_assert_false(virtio_serial_pick_nr(taken, 4, false, &nr, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "virtio-serial-bus: A port already exists at id 2");
    g_clear_pointer(&err, error_free);
    nr = 4;
    g_assert_false(virtio_serial_pick_nr(taken, 4, false, &nr, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "virtio-serial-bus: Out-of-range port id specified, "
                    "max. allowed: 3");
    g_clear_pointer(&err, error_free);
    taken[1] = taken[3] = true;
    nr = VIRTIO_SERIAL_NR_AUTO;
    g_assert_false(virtio_serial_pick_nr(taken, 4, false, &nr, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Maximum port limit"));
    g_clear_pointer(&err, error_free);
}

static void test_plug_errors(void)
{
    struct sfx f;
    struct virtio_serial_port p = {.nr = 1, .name = "org.qemu.guest_agent.0"};
    Error *err = NULL;

    sfx_init(&f, FEAT);
    sfx_ports(&f, 0);
    g_assert_false(virtio_serial_port_plug(&f.s, &p, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "virtio-serial-bus: A port already exists by name "
                    "org.qemu.guest_agent.0");
    g_clear_pointer(&err, error_free);
    p.name = NULL;
    g_assert_false(virtio_serial_port_plug(&f.s, &p, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "already exists at id 1"));
    g_clear_pointer(&err, error_free);
    /* the console's chardev is taken: attaching a second one fails and
     * leaves no trace */
    p.nr = 3;
    p.chr = f.c0;
    g_assert_false(virtio_serial_port_plug(&f.s, &p, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "already in use"));
    g_clear_pointer(&err, error_free);
    g_assert_null(f.s.ports[3]);
    g_assert_null(p.vser);
    /* max_ports limits */
    {
        struct virtio_serial s2;

        virtio_serial_set_defaults(&s2);
        s2.max_ports = 0;
        g_assert_false(virtio_serial_setup(&s2, f.gm, &f.log, &err));
        g_assert_cmpstr(error_get_pretty(err), ==,
                        "Maximum number of serial ports not specified");
        g_clear_pointer(&err, error_free);
        s2.max_ports = 512;
        g_assert_false(virtio_serial_setup(&s2, f.gm, &f.log, &err));
        g_assert_cmpstr(error_get_pretty(err), ==,
                        "maximum ports supported: 511");
        g_clear_pointer(&err, error_free);
    }
    sfx_fini(&f);
}

/* ---- migration (the model's own part; test-virtio-serial-device.c
 * migrates the whole device) ---------------------------------------- */

/* The model's drain and description, as a pair's save runs them. */
static GByteArray *model_save(struct sfx *f, Error **errp)
{
    GByteArray *body = g_byte_array_new();

    virtio_serial_model.drain(&f->s);
    if (!vmstate_save(virtio_serial_model.vmsd, &f->s, body, errp)) {
        g_byte_array_unref(body);
        return NULL;
    }
    return body;
}

/* A snapshot: the save gives the half-written chain back and the device
 * goes on; the chardev gets every byte once, in order. */
static void test_save_and_go_on(void)
{
    struct sfx f;
    Error *err = NULL;
    const size_t big = 4 * SLOT, total = big + 2 * SLOT;
    unsigned used;
    uint8_t extra, *p;
    uint64_t off;
    GByteArray *body;

    sfx_init(&f, FEAT);
    sfx_ports(&f, 4096);
    handshake(&f);
    p = vr_ptr(f.gm, slot_gpa(5, 0), total);
    for (size_t k = 0; k < total; k++) {
        p[k] = (uint8_t)(k % 251);
    }
    add_buf(&f, 5, slot_gpa(5, 0), big, false);
    add_buf(&f, 5, slot_gpa(5, 4), SLOT, false);
    add_buf(&f, 5, slot_gpa(5, 5), SLOT, false);
    kick(&f, 5);
    g_assert_true(f.p1.throttled);
    g_assert_nonnull(f.p1.tx_elem);
    g_assert_cmpuint(f.p1.tx_off, >, 0);

    body = model_save(&f, &err);
    g_assert_null(err);
    g_assert_nonnull(body);
    g_assert_null(f.p1.tx_elem);
    g_assert_cmpuint(f.s.vdev.vqs[5].inflight, ==, 0);
    off = f.p1.tx_off;
    g_assert_cmpuint(off, >, 0);
    g_assert_cmpuint(off, <, big);
    /* the reader catches up: the same chain is taken again and only its
     * rest written */
    used = read_pattern_out(&f, total, 3);
    iterate(20);
    g_assert_cmpint(recv(f.peer1, &extra, 1, MSG_DONTWAIT), ==, -1);
    g_assert_cmpuint(used, ==, 3);
    g_assert_cmpuint(f.p1.tx_off, ==, 0);
    g_byte_array_unref(body);
    sfx_fini(&f);
}

/* Where the fields of port `nr` start in the model's body: guest_ready,
 * the port count, then per port kind, guest_ready, guest_connected,
 * host_connected, tx_off (u64) and an end tag. */
#define PORT_AT(nr) (1 + 4 + 13 * (nr))
#define CTRL_LEN_AT PORT_AT(MAX_PORTS)

static void queue_raw_ctrl(struct sfx *f, uint32_t id, uint16_t event,
                           uint16_t value)
{
    GByteArray *msg = g_byte_array_new();
    uint8_t hdr[8];

    memcpy(hdr, &id, 4);
    memcpy(hdr + 4, &event, 2);
    memcpy(hdr + 6, &value, 2);
    g_byte_array_append(msg, hdr, 8);
    g_queue_push_tail(&f->s.ctrl_out, msg);
}

static void drop_ctrl(struct sfx *f)
{
    GByteArray *msg;

    while ((msg = g_queue_pop_head(&f->s.ctrl_out))) {
        g_byte_array_unref(msg);
    }
}

/* a's state (after `patch` of its body at `at`, unless at < 0) is
 * refused by b with a message containing `want`; b keeps its state. */
static void expect_model_refused(struct sfx *a, struct sfx *b, int at,
                                 uint8_t patch, const char *want)
{
    Error *err = NULL;
    GByteArray *body = model_save(a, &err);
    size_t pos = 0;

    g_assert_nonnull(body);
    if (at >= 0) {
        g_assert_cmpuint((guint)at, <, body->len);
        body->data[at] = patch;
    }
    g_assert_false(vmstate_load(virtio_serial_model.vmsd, &b->s, body->data,
                                body->len, &pos, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("'%s' lacks '%s'", error_get_pretty(err), want);
    }
    error_free(err);
    g_assert_false(b->s.guest_ready);
    g_assert_cmpuint(b->s.mig_ctrl_len, ==, 0);
    g_assert_cmpuint(b->s.mig_ports[1].kind, ==, VIRTIO_SERIAL_KIND_NONE);
    g_byte_array_unref(body);
}

static void test_migrate_corrupt(void)
{
    struct sfx a, b;
    Error *err = NULL;
    GByteArray *body;
    size_t pos = 0;

    sfx_init(&a, FEAT);
    sfx_ports(&a, 0);
    handshake(&a);
    sfx_init(&b, FEAT);
    b.c0 = pair_chardev("c0", &b.peer0, 0);
    b.c1 = pair_chardev("c1", &b.peer1, 0);
    plug(&b, &b.p0, 0, true, NULL, b.c0);
    plug(&b, &b.p1, 1, false, "org.qemu.guest_agent.0", b.c1);

    /* the stream's own layout: port 1 where the test expects it */
    body = model_save(&a, &err);
    g_assert_nonnull(body);
    g_assert_cmpuint(body->data[PORT_AT(1)], ==, VIRTIO_SERIAL_KIND_PORT);
    g_assert_cmpuint(body->data[PORT_AT(1) + 2], ==, 1); /* guest_connected */
    g_byte_array_unref(body);

    expect_model_refused(&a, &b, PORT_AT(1), 7, "port 1: unknown kind 7");
    expect_model_refused(&a, &b, PORT_AT(1) + 2, 2, "bool value 2");
    expect_model_refused(&a, &b, PORT_AT(2), VIRTIO_SERIAL_KIND_PORT,
                         "port 2: the source has a virtserialport there, "
                         "this device none");
    expect_model_refused(&a, &b, PORT_AT(3) + 1, 1,
                         "port 3: state for a port that is not there");
    expect_model_refused(&a, &b, CTRL_LEN_AT, 99,
                         "99 control messages queued (at most 32)");
    /* bytes written of a chain that is not in the ring */
    a.p1.tx_off = 7;
    expect_model_refused(&a, &b, -1, 0,
                         "port 1: 7 bytes written of an output chain, but "
                         "queue 5 has no chain waiting");
    a.p1.tx_off = 0;
    /* control messages no device sends, or for ports not there */
    queue_raw_ctrl(&a, 1, 9, 1);
    expect_model_refused(&a, &b, -1, 0,
                         "queued control event 9 for port 1 is none the "
                         "device sends");
    drop_ctrl(&a);
    queue_raw_ctrl(&a, 3, VIRTIO_CONSOLE_PORT_OPEN, 1);
    expect_model_refused(&a, &b, -1, 0,
                         "queued control event 6 for port 3, which is not "
                         "there");
    drop_ctrl(&a);
    queue_raw_ctrl(&a, 1, VIRTIO_CONSOLE_PORT_OPEN, 5);
    expect_model_refused(&a, &b, -1, 0, "value 5 (0 or 1)");
    drop_ctrl(&a);
    queue_raw_ctrl(&a, 0, VIRTIO_CONSOLE_PORT_NAME, 1);
    expect_model_refused(&a, &b, -1, 0,
                         "queued PORT_NAME for port 0, which has no name");
    drop_ctrl(&a);

    /* and the unmodified state loads */
    queue_raw_ctrl(&a, 1, VIRTIO_CONSOLE_PORT_NAME, 1);
    body = model_save(&a, &err);
    g_assert_nonnull(body);
    g_assert_true(vmstate_load(virtio_serial_model.vmsd, &b.s, body->data,
                               body->len, &pos, &err));
    g_assert_null(err);
    g_assert_cmpuint(pos, ==, body->len);
    g_assert_true(b.s.guest_ready);
    g_assert_cmpuint(b.s.mig_ctrl_len, ==, 1);
    g_assert_cmpuint(b.s.mig_ports[1].kind, ==, VIRTIO_SERIAL_KIND_PORT);
    g_assert_true(b.s.mig_ports[1].guest_connected);
    g_byte_array_unref(body);
    sfx_fini(&a);
    sfx_fini(&b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-serial/handshake", test_handshake);
    g_test_add_func("/virtio-serial/data-both-ways", test_data_both_ways);
    g_test_add_func("/virtio-serial/backpressure-in", test_backpressure_in);
    g_test_add_func("/virtio-serial/backpressure-out", test_backpressure_out);
    g_test_add_func("/virtio-serial/host-open-close", test_host_open_close);
    g_test_add_func("/virtio-serial/hostile-control", test_hostile_control);
    g_test_add_func("/virtio-serial/single-port", test_single_port);
    g_test_add_func("/virtio-serial/reset", test_reset_gives_back);
    g_test_add_func("/virtio-serial/pick-nr", test_pick_nr);
    g_test_add_func("/virtio-serial/plug-errors", test_plug_errors);
    g_test_add_func("/virtio-serial/save-and-go-on", test_save_and_go_on);
    g_test_add_func("/virtio-serial/migrate-corrupt", test_migrate_corrupt);
    return g_test_run();
}
