/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-serial-device.c: `-device virtio-serial-device` with its
 * `virtconsole` and `virtserialport` ports on the microvm board's
 * virtio-mmio slots, through the real option parser and creation path:
 * the window at 0xfeb00000 (device id 3, max_nr_ports in the config), the
 * control handshake and console output through QueueNotify doorbells on
 * the main context, the level line; and the errors a user sees, both from
 * the command-line check that runs before the accelerator
 * (device_opts_check_all) and from realize: no virtio-serial bus, unknown
 * bus or chardev, port numbers taken or out of range, names in use.
 * Migration through the stream writer and loader with RAM into a second
 * machine: output held on a full chardev (each byte delivered once, the
 * rest by the destination), a receive buffer given back, control messages
 * waiting for buffers, the host side re-announced where it differs, and a
 * destination with other ports refused naming the port.  While the
 * machine is stopped (stop, migration's last phase) no input reaches a
 * receive buffer and no control message is sent: both arrive once it
 * runs again.
 */
#include "util/common.h"
#include "hw/char/chardev.h"
#include "hw/char/virtio-serial.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-mmio.h"
#include "migration/savevm.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/savevm-harness.h"
#include "tests/unit/vring-build.h"
#include "util/bytes.h"

#include <sys/socket.h>
#include <unistd.h>

extern const struct machine_type microvm_machine_type;

#define BASE 0xfeb00000ULL
#define RAM (16 * MiB)

struct mfx {
    struct machine *m;
    GPtrArray *opts; /* struct device_opts * */
    int peer;        /* the other end of chardev "c0" */
};

static void mfx_init(struct mfx *f)
{
    Error *err = NULL;
    int sv[2];
    char *text;
    struct chardev *c;

    f->m = th_machine_new();
    f->m->type = &microvm_machine_type;
    f->m->mmio = as_new("memory", &f->m->log);
    f->m->gm = gm_new(RAM, &err);
    g_assert_true(gm_add_ram(f->m->gm, 0, 0, RAM, "ram", &err));
    f->m->ctx = g_main_context_new();
    f->m->devices = g_ptr_array_new();
    f->m->chardevs = g_ptr_array_new();
    f->opts = g_ptr_array_new_with_free_func((GDestroyNotify)device_opts_free);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    text = g_strdup_printf("socket,id=c0,fd=%d", sv[0]);
    c = chardev_new(f->m, text, &err);
    g_assert_nonnull(c);
    g_ptr_array_add(f->m->chardevs, c);
    g_free(text);
    f->peer = sv[1];
    c = chardev_new(f->m, "null,id=c1", &err);
    g_assert_nonnull(c);
    g_ptr_array_add(f->m->chardevs, c);
    c = chardev_new(f->m, "null,id=c2", &err);
    g_assert_nonnull(c);
    g_ptr_array_add(f->m->chardevs, c);
}

static void mfx_fini(struct mfx *f)
{
    for (guint i = f->m->devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(f->m->devices, i - 1));
    }
    g_ptr_array_free(f->m->devices, TRUE);
    for (guint i = 0; i < f->m->chardevs->len; i++) {
        chardev_free(g_ptr_array_index(f->m->chardevs, i));
    }
    g_ptr_array_free(f->m->chardevs, TRUE);
    g_ptr_array_free(f->opts, TRUE);
    close(f->peer);
    as_free(f->m->mmio);
    gm_free(f->m->gm);
    g_main_context_unref(f->m->ctx);
    th_machine_free(f->m);
}

/* Parses a -device text as the command line does (must parse). */
static struct device_opts *parse(struct mfx *f, const char *text)
{
    Error *err = NULL;
    struct device_opts *o = device_opts_parse(text, &err);

    g_assert_null(err);
    g_assert_nonnull(o);
    g_ptr_array_add(f->opts, o);
    return o;
}

/* Checks and creates every parsed device, as machine_new does; returns
 * the first error's text (NULL: all created). */
static char *create_all(struct mfx *f)
{
    Error *err = NULL;
    char *msg;

    if (!device_opts_check_all(f->m, f->opts, &err)) {
        msg = g_strdup(error_get_pretty(err));
        error_free(err);
        return msg;
    }
    for (guint i = 0; i < f->opts->len; i++) {
        if (!device_create_opts(f->m, g_ptr_array_index(f->opts, i), &err)) {
            msg = g_strdup_printf("realize: %s", error_get_pretty(err));
            error_free(err);
            return msg;
        }
    }
    return NULL;
}

/* The same devices created without the check: realize's own errors. */
static char *realize_all(struct mfx *f)
{
    Error *err = NULL;
    char *msg;

    for (guint i = 0; i < f->opts->len; i++) {
        if (!device_create_opts(f->m, g_ptr_array_index(f->opts, i), &err)) {
            msg = g_strdup(error_get_pretty(err));
            error_free(err);
            return msg;
        }
    }
    return NULL;
}

static uint32_t rd(struct mfx *f, uint64_t off)
{
    uint32_t v = 0;

    as_read(f->m->mmio, BASE + off, &v, 4);
    return v;
}

static void wr(struct mfx *f, uint64_t off, uint32_t v)
{
    as_write(f->m->mmio, BASE + off, &v, 4);
}

static void setup_queue(struct mfx *f, unsigned q, struct vr *r)
{
    wr(f, VIRTIO_MMIO_QUEUE_SEL, q);
    g_assert_cmpuint(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), ==,
                     VIRTIO_SERIAL_QUEUE_SIZE);
    wr(f, VIRTIO_MMIO_QUEUE_NUM, r->num);
    wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
    wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
    wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
    wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* id and len may be NULL. */
static void wait_used(struct mfx *f, struct vr *r, uint32_t *id, uint32_t *len)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    uint32_t id_, len_;

    while (!vr_get_used(r, id ? id : &id_, len ? len : &len_)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(f->m->ctx, FALSE);
        g_usleep(500);
    }
}

static void test_mmio_handshake(void)
{
    struct mfx f;
    struct vr r[4];
    uint8_t msg[8] = {0}, *b, buf[8];
    uint32_t id, len, feat;
    uint64_t base = 0x1000;
    g_autofree char *err = NULL;

    mfx_init(&f);
    parse(&f, "virtio-serial-device,id=vs0,max_ports=4");
    parse(&f, "virtconsole,chardev=c0,id=console0");
    parse(&f, "virtserialport,bus=vs0.0,nr=2,chardev=c1,id=channel0,"
              "name=org.qemu.guest_agent.0");
    err = create_all(&f);
    g_assert_null(err);
    g_assert_cmpuint(f.m->devices->len, ==, 3);
    g_assert_cmphex(rd(&f, VIRTIO_MMIO_MAGIC_VALUE), ==, VIRTIO_MMIO_MAGIC);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_DEVICE_ID), ==, VIRTIO_ID_CONSOLE);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_CONFIG + 4), ==, 4);
    wr(&f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    feat = rd(&f, VIRTIO_MMIO_DEVICE_FEATURES);
    g_assert_true(feat & (1u << VIRTIO_CONSOLE_F_MULTIPORT));
    g_assert_true(feat & (1u << VIRTIO_CONSOLE_F_EMERG_WRITE));

    wr(&f, VIRTIO_MMIO_STATUS, 3);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_CONSOLE_F_MULTIPORT);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(&f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(&f, VIRTIO_MMIO_STATUS, 0xb);
    for (unsigned q = 0; q < 4; q++) {
        base += vr_init(&r[q], f.m->gm, base, 8);
        setup_queue(&f, q, &r[q]);
    }
    wr(&f, VIRTIO_MMIO_STATUS, 0xf);
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0xf);
    /* c_ivq buffers, then DEVICE_READY on c_ovq, through the doorbell */
    for (unsigned i = 0; i < 4; i++) {
        vr_desc(&r[2], i, 0x100000 + 64 * i, 64, VIRTQ_DESC_F_WRITE, 0);
        vr_add(&r[2], (uint16_t)i);
    }
    vr_publish(&r[2]);
    wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
    msg[6] = 1; /* DEVICE_READY, value 1 */
    g_assert_true(gm_write(f.m->gm, 0x110000, msg, 8));
    vr_desc(&r[3], 0, 0x110000, 8, 0, 0);
    vr_add(&r[3], 0);
    vr_publish(&r[3]);
    wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 3);
    wait_used(&f, &r[2], &id, &len);
    g_assert_cmpuint(len, ==, 8);
    b = vr_ptr(f.m->gm, 0x100000 + 64 * id, 8);
    g_assert_cmpuint(b[0], ==, 0);                         /* port 0 */
    g_assert_cmpuint(b[4], ==, VIRTIO_CONSOLE_DEVICE_ADD); /* event */
    wait_used(&f, &r[2], &id, &len);
    b = vr_ptr(f.m->gm, 0x100000 + 64 * id, 8);
    g_assert_cmpuint(b[0], ==, 2); /* the agent's port, nr=2 */
    g_assert_true(th_gsi_level(f.m, 16));
    /* console output on queue 1 reaches chardev c0 */
    g_assert_true(gm_write(f.m->gm, 0x120000, "boot ok", 7));
    vr_desc(&r[1], 0, 0x120000, 7, 0, 0);
    vr_add(&r[1], 0);
    vr_publish(&r[1]);
    wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    wait_used(&f, &r[1], &id, &len);
    g_assert_cmpint(read(f.peer, buf, 7), ==, 7);
    g_assert_cmpmem(buf, 7, "boot ok", 7);
    /* system reset: status 0 */
    th_reset(g_ptr_array_index(f.m->devices, 0));
    g_assert_cmpuint(rd(&f, VIRTIO_MMIO_STATUS), ==, 0);
    mfx_fini(&f);
}

struct error_case {
    const char *devices[4];
    const char *msg; /* the command-line check's and realize's */
};

static void test_errors(void)
{
    static const struct error_case cases[] = {
        {{"virtconsole,chardev=c0"},
         "-device virtconsole,chardev=c0: No 'virtio-serial-bus' bus found "
         "for device 'virtconsole'"},
        {{"virtio-serial-device,id=vs0", "virtserialport,bus=nope.0"},
         "-device virtserialport,bus=nope.0: Bus 'nope.0' not found"},
        {{"virtio-serial-device,id=vs0", "virtserialport,bus=vs0"},
         "-device virtserialport,bus=vs0: Bus 'vs0' not found"},
        {{"virtio-serial-device", "virtconsole,chardev=nope"},
         "-device virtconsole,chardev=nope: Property 'virtconsole.chardev' "
         "can't find value 'nope'"},
        {{"virtio-serial-device", "virtserialport,nr=1", "virtserialport,nr=1"},
         "-device virtserialport,nr=1: virtio-serial-bus: A port already "
         "exists at id 1"},
        {{"virtio-serial-device,max_ports=2", "virtserialport,nr=5"},
         "-device virtserialport,nr=5: virtio-serial-bus: Out-of-range port "
         "id specified, max. allowed: 1"},
        {{"virtio-serial-device,max_ports=2", "virtserialport",
          "virtserialport"},
         "-device virtserialport: virtio-serial-bus: Maximum port limit for "
         "this device reached"},
        {{"virtio-serial-device", "virtserialport,nr=0"},
         "-device virtserialport,nr=0: Port number 0 on virtio-serial "
         "devices reserved for virtconsole devices for backward "
         "compatibility."},
        {{"virtio-serial-device", "virtio-serial-device,id=b",
          "virtserialport,name=x", "virtserialport,bus=b.0,name=x"},
         "-device virtserialport,bus=b.0,name=x: virtio-serial-bus: A port "
         "already exists by name x"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct mfx f;
        g_autofree char *msg = NULL;
        g_autofree char *rmsg = NULL;
        const char *reason;

        /* before the accelerator */
        mfx_init(&f);
        for (unsigned k = 0; k < 4 && cases[i].devices[k]; k++) {
            parse(&f, cases[i].devices[k]);
        }
        msg = create_all(&f);
        g_assert_cmpstr(msg, ==, cases[i].msg);
        mfx_fini(&f);
        /* and realize says the same, without the prefix the command line
         * adds (machine_new prepends it) */
        mfx_init(&f);
        for (unsigned k = 0; k < 4 && cases[i].devices[k]; k++) {
            parse(&f, cases[i].devices[k]);
        }
        rmsg = realize_all(&f);
        g_assert_nonnull(rmsg);
        /* the reason starts after "-device TEXT: " */
        reason = strstr(cases[i].msg, ": ") + 2;
        g_assert_cmpstr(rmsg, ==, reason);
        mfx_fini(&f);
    }
}

/* Numbers as QEMU gives them: a console takes 0, serial ports the next
 * free ones, per device; bus= picks the device. */
static void test_numbering(void)
{
    struct mfx f;
    g_autofree char *err = NULL;
    struct virtio_serial *a, *b;

    mfx_init(&f);
    parse(&f, "virtio-serial-device,id=a");
    parse(&f, "virtio-serial-device,id=b,max_ports=8");
    parse(&f, "virtserialport,chardev=c1");
    parse(&f, "virtconsole,chardev=c0");
    parse(&f, "virtserialport,bus=b.0,nr=7,chardev=c2");
    parse(&f, "virtconsole,bus=b.0");
    parse(&f, "virtconsole");
    err = create_all(&f);
    g_assert_null(err);
    a = virtio_serial_of(g_ptr_array_index(f.m->devices, 0));
    b = virtio_serial_of(g_ptr_array_index(f.m->devices, 1));
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_null(virtio_serial_of(g_ptr_array_index(f.m->devices, 2)));
    g_assert_nonnull(a->ports[1]);
    g_assert_false(a->ports[1]->console);
    g_assert_nonnull(a->ports[0]);
    g_assert_true(a->ports[0]->console);
    g_assert_true(a->ports[0]->host_connected);
    g_assert_nonnull(b->ports[7]);
    g_assert_nonnull(b->ports[0]);
    /* a console without a backend is not open */
    g_assert_false(b->ports[0]->host_connected);
    /* the second console on a: 0 is taken, the next free is 2 */
    g_assert_nonnull(a->ports[2]);
    g_assert_true(a->ports[2]->console);
    g_assert_cmpuint(b->max_ports, ==, 8);
    g_assert_cmpuint(a->max_ports, ==, 31);
    /* a chardev serves one port: a second user is refused at realize */
    {
        Error *e = NULL;
        struct device_opts *o = parse(&f, "virtserialport,chardev=c1");

        g_assert_null(device_create_opts(f.m, o, &e));
        g_assert_nonnull(strstr(error_get_pretty(e), "already in use"));
        error_free(e);
    }
    mfx_fini(&f);
}

static void test_help(void)
{
    g_autofree char *h = device_help("virtconsole");
    g_autofree char *all = device_help(NULL);

    g_assert_nonnull(h);
    for (const char *p = "chardev=\0nr=\0name=\0bus=\0"; *p;
         p += strlen(p) + 1) {
        g_assert_nonnull(strstr(h, p));
    }
    g_assert_nonnull(strstr(all, "name \"virtio-serial-device\""));
    g_assert_nonnull(strstr(all, "name \"virtserialport\""));
}

/* ---- migration ---------------------------------------------------------
 *
 * Two machines, each a virtio-serial-device (max_ports 4) with, unless a
 * test says otherwise, a console on c0 and the guest agent's port (nr 1)
 * on chardev "ag", a socketpair with small buffers: its host end is
 * `agent`.  The driver sets up port 0's, the control and port 1's queues
 * (0-5) in RAM; the destination's driver goes on with the same rings in
 * the loaded RAM. */

#define MQ 6
#define MNUM 16
#define M_CTRL_IN 0x100000ULL  /* c_ivq buffers, 64 bytes each */
#define M_CTRL_OUT 0x110000ULL /* c_ovq messages, 16 bytes each */
#define M_RX 0x120000ULL       /* port 1 receive buffers, 256 bytes each */
#define M_TX 0x200000ULL       /* port 1 output */
#define M_BIG (256 * KiB)      /* the first output chain: 4 x the bound */
#define M_SMALL (64 * KiB)     /* the ones after it */

static const char *const default_ports[] = {
    "virtio-serial-device,id=vs0,max_ports=4",
    "virtconsole,chardev=c0",
    "virtserialport,nr=1,chardev=ag,name=org.qemu.guest_agent.0",
    NULL,
};

struct vm {
    struct mfx f;
    struct virtio_serial *s;
    int agent; /* the host end of chardev "ag" */
    struct vr r[MQ];
    uint16_t next_desc[MQ];
};

static void vm_init(struct vm *v, const char *const *devices)
{
    Error *err = NULL;
    int sv[2], small = 4096;
    g_autofree char *text = NULL;
    g_autofree char *msg = NULL;
    struct chardev *c;

    memset(v, 0, sizeof(*v));
    mfx_init(&v->f);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    text = g_strdup_printf("socket,id=ag,fd=%d", sv[0]);
    c = chardev_new(v->f.m, text, &err);
    g_assert_nonnull(c);
    g_ptr_array_add(v->f.m->chardevs, c);
    v->agent = sv[1];
    for (unsigned i = 0; devices[i]; i++) {
        parse(&v->f, devices[i]);
    }
    msg = create_all(&v->f);
    g_assert_null(msg);
    v->s = virtio_serial_of(g_ptr_array_index(v->f.m->devices, 0));
    g_assert_nonnull(v->s);
}

static void vm_fini(struct vm *v)
{
    close(v->agent);
    mfx_fini(&v->f);
}

static struct device *vm_dev(struct vm *v)
{
    return g_ptr_array_index(v->f.m->devices, 0);
}

/* The source quits after the save: its devices go (the chardevs stay, so
 * what they took is still delivered). */
static void vm_destroy_devices(struct vm *v)
{
    for (guint i = v->f.m->devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(v->f.m->devices, i - 1));
    }
    g_ptr_array_set_size(v->f.m->devices, 0);
    v->s = NULL;
}

/* A buffer of len bytes (device-writable or -readable) on queue q. */
static uint16_t vm_buf(struct vm *v, unsigned q, uint64_t gpa, uint32_t len,
                       bool writable)
{
    uint16_t d = v->next_desc[q]++ % MNUM;

    vr_desc(&v->r[q], d, gpa, len, writable ? VIRTQ_DESC_F_WRITE : 0, 0);
    vr_add(&v->r[q], d);
    vr_publish(&v->r[q]);
    return d;
}

static void vm_kick(struct vm *v, unsigned q)
{
    wr(&v->f, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static void vm_ctrl_bufs(struct vm *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        vm_buf(v, 2, M_CTRL_IN + 64ULL * (v->next_desc[2] % MNUM), 64, true);
    }
    vm_kick(v, 2);
}

static void vm_ctrl_send(struct vm *v, uint32_t id, uint16_t event,
                         uint16_t value)
{
    uint64_t gpa = M_CTRL_OUT + 16ULL * (v->next_desc[3] % MNUM);
    uint8_t msg[8];

    memcpy(msg, &id, 4);
    memcpy(msg + 4, &event, 2);
    memcpy(msg + 6, &value, 2);
    g_assert_true(gm_write(v->f.m->gm, gpa, msg, sizeof(msg)));
    vm_buf(v, 3, gpa, 8, false);
    vm_kick(v, 3);
    /* served: the device has used it */
    wait_used(&v->f, &v->r[3], NULL, NULL);
}

/* The device's next control message (waits for it); extra gets what
 * follows the header, NUL-terminated. */
static void vm_ctrl_expect(struct vm *v, uint32_t id, uint16_t event,
                           uint16_t value, const char *extra)
{
    uint32_t head, len;
    uint8_t *b;

    wait_used(&v->f, &v->r[2], &head, &len);
    b = vr_ptr(v->f.m->gm, M_CTRL_IN + 64ULL * head, 64);
    g_assert_cmpuint(le_load(b, 4), ==, id);
    g_assert_cmpuint(le_load(b + 4, 2), ==, event);
    g_assert_cmpuint(le_load(b + 6, 2), ==, value);
    if (extra) {
        g_assert_cmpuint(len, ==, 8 + strlen(extra) + 1);
        g_assert_cmpstr((const char *)b + 8, ==, extra);
    } else {
        g_assert_cmpuint(len, ==, 8);
    }
}

static void vm_no_ctrl(struct vm *v)
{
    uint32_t head, len;

    for (unsigned i = 0; i < 20; i++) {
        g_main_context_iteration(v->f.m->ctx, FALSE);
    }
    g_assert_false(vr_get_used(&v->r[2], &head, &len));
}

/* The driver: MULTIPORT, queues 0-5; DEVICE_READY, both ports ready, the
 * guest opens the agent's port.  Exactly as many control buffers as the
 * answers need, so later messages wait for more. */
static void vm_driver_start(struct vm *v)
{
    uint64_t base = 0x1000;

    wr(&v->f, VIRTIO_MMIO_STATUS, 3);
    wr(&v->f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(&v->f, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_CONSOLE_F_MULTIPORT);
    wr(&v->f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(&v->f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    wr(&v->f, VIRTIO_MMIO_STATUS, 0xb);
    for (unsigned q = 0; q < MQ; q++) {
        base += vr_init(&v->r[q], v->f.m->gm, base, MNUM);
        setup_queue(&v->f, q, &v->r[q]);
    }
    g_assert_cmphex(base, <, M_CTRL_IN);
    wr(&v->f, VIRTIO_MMIO_STATUS, 0xf);
    vm_ctrl_bufs(v, 6);
    vm_ctrl_send(v, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    vm_ctrl_expect(v, 0, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
    vm_ctrl_expect(v, 1, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
    vm_ctrl_send(v, 0, VIRTIO_CONSOLE_PORT_READY, 1);
    vm_ctrl_expect(v, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
    vm_ctrl_expect(v, 0, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
    vm_ctrl_send(v, 1, VIRTIO_CONSOLE_PORT_READY, 1);
    vm_ctrl_expect(v, 1, VIRTIO_CONSOLE_PORT_NAME, 1, "org.qemu.guest_agent.0");
    vm_ctrl_expect(v, 1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
    vm_ctrl_send(v, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    g_assert_true(v->s->ports[1]->guest_connected);
}

/* The destination's driver: the source's rings, in the loaded RAM. */
static void vm_take_rings(struct vm *to, const struct vm *from)
{
    for (unsigned q = 0; q < MQ; q++) {
        to->r[q] = from->r[q];
        to->r[q].gm = to->f.m->gm;
        to->next_desc[q] = from->next_desc[q];
    }
}

static struct savevm *vm_registry(struct vm *v)
{
    struct savevm *sv = savevm_new("microvm");
    struct device *d = vm_dev(v);

    savevm_register_vmsd(sv, d->cls->name, 0, d->cls->vmsd, d, &d->lock);
    savevm_register_ram(sv, v->f.m->gm);
    return sv;
}

/* v's whole stream (the device section, RAM), or NULL with errp set. */
static GByteArray *vm_save(struct vm *v, Error **errp)
{
    return th_stream_save(vm_registry(v), errp);
}

static bool vm_load(struct vm *v, GByteArray *b, Error **errp)
{
    return th_stream_load(vm_registry(v), b, errp);
}

static uint8_t pattern(size_t k)
{
    return (uint8_t)(k % 251);
}

/* Reads exactly len bytes from fd, running v's main loop meanwhile, and
 * checks they are the pattern from byte `from` on. */
static void vm_read_pattern(struct vm *v, int fd, size_t from, size_t len)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint8_t *buf = g_malloc(len);
    size_t got = 0;

    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, MSG_DONTWAIT);

        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(v->f.m->ctx, FALSE);
    }
    for (size_t k = 0; k < len; k++) {
        if (buf[k] != pattern(from + k)) {
            g_error("byte %zu is %u, expected %u", from + k, buf[k],
                    pattern(from + k));
        }
    }
    g_free(buf);
}

/* Nothing more comes out of fd while v's main loop runs. */
static void vm_read_nothing(struct vm *v, int fd)
{
    uint8_t b;

    for (unsigned i = 0; i < 20; i++) {
        g_main_context_iteration(v->f.m->ctx, FALSE);
    }
    g_assert_cmpint(recv(fd, &b, 1, MSG_DONTWAIT), ==, -1);
}

/* Held output on a full chardev, a receive buffer taken for input that
 * has not come, control messages the driver has no buffers for: the save
 * gives the chains back (output with its written offset), carries the
 * messages, and the destination goes on: every byte of output reaches a
 * chardev once, in order, the messages arrive, input flows. */
static void test_migrate_held(void)
{
    struct vm a, b;
    Error *err = NULL;
    GByteArray *stream;
    struct device *d;
    struct virtqueue *txq;
    size_t total = M_BIG + 2 * M_SMALL;
    uint64_t off;
    uint32_t head, len, rx_head;
    gint64 deadline;
    uint8_t *p;

    vm_init(&a, default_ports);
    vm_driver_start(&a);
    d = vm_dev(&a);
    txq = &a.s->vdev.vqs[5];
    /* one chain of 256 KiB, two of 64 KiB; the agent reads nothing */
    p = vr_ptr(a.f.m->gm, M_TX, total);
    for (size_t k = 0; k < total; k++) {
        p[k] = pattern(k);
    }
    vm_buf(&a, 5, M_TX, M_BIG, false);
    vm_buf(&a, 5, M_TX + M_BIG, M_SMALL, false);
    vm_buf(&a, 5, M_TX + M_BIG + M_SMALL, M_SMALL, false);
    vm_kick(&a, 5);
    deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!a.s->ports[1]->throttled) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(a.f.m->ctx, FALSE);
    }
    g_assert_nonnull(a.s->ports[1]->tx_elem);
    g_assert_cmpuint(a.s->ports[1]->tx_off, >, 0);
    g_assert_cmpuint(a.s->ports[1]->tx_off, <, M_BIG);
    /* two receive buffers; one taken as for a can_read */
    rx_head = vm_buf(&a, 4, M_RX, 256, true);
    vm_buf(&a, 4, M_RX + 256, 256, true);
    g_mutex_lock(&d->lock);
    a.s->ports[1]->rx_elem =
        virtq_pop(&a.s->vdev.vqs[4], sizeof(struct virtq_elem));
    g_assert_nonnull(a.s->ports[1]->rx_elem);
    g_mutex_unlock(&d->lock);
    /* PORT_READY again: PORT_NAME and PORT_OPEN wait for buffers */
    vm_ctrl_send(&a, 1, VIRTIO_CONSOLE_PORT_READY, 1);
    g_assert_cmpuint(g_queue_get_length(&a.s->ctrl_out), ==, 2);

    stream = vm_save(&a, &err);
    g_assert_null(err);
    g_assert_nonnull(stream);
    /* nothing held, nothing in flight; the chain's written part is kept */
    g_assert_null(a.s->ports[1]->tx_elem);
    g_assert_null(a.s->ports[1]->rx_elem);
    g_assert_cmpuint(txq->inflight, ==, 0);
    g_assert_cmpuint(a.s->vdev.vqs[4].inflight, ==, 0);
    off = a.s->ports[1]->tx_off;
    g_assert_cmpuint(off, >, 0);
    g_assert_cmpuint(off, <, M_BIG);
    g_assert_false(vr_get_used(&a.r[5], &head, &len));
    /* the source quits; what its chardev took still comes out, no more */
    vm_destroy_devices(&a);
    vm_read_pattern(&a, a.agent, 0, off);
    vm_read_nothing(&a, a.agent);

    vm_init(&b, default_ports);
    g_assert_true(vm_load(&b, stream, &err));
    g_assert_null(err);
    vm_take_rings(&b, &a);
    g_assert_true(b.s->guest_ready);
    g_assert_true(b.s->ports[1]->guest_ready);
    g_assert_true(b.s->ports[1]->guest_connected);
    g_assert_cmpuint(b.s->ports[1]->tx_off, ==, off);
    /* the rest of the output, once, then all three chains are used */
    vm_read_pattern(&b, b.agent, off, total - off);
    for (unsigned i = 0; i < 3; i++) {
        wait_used(&b.f, &b.r[5], NULL, &len);
        g_assert_cmpuint(len, ==, 0);
    }
    vm_read_nothing(&b, b.agent);
    /* the queued messages, once the driver gives buffers */
    vm_ctrl_bufs(&b, 2);
    vm_ctrl_expect(&b, 1, VIRTIO_CONSOLE_PORT_NAME, 1,
                   "org.qemu.guest_agent.0");
    vm_ctrl_expect(&b, 1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
    vm_no_ctrl(&b);
    /* input lands in the buffer the source had taken, given back */
    g_assert_cmpint(write(b.agent, "ping", 4), ==, 4);
    wait_used(&b.f, &b.r[4], &head, &len);
    g_assert_cmpuint(head, ==, rx_head);
    g_assert_cmpuint(len, ==, 4);
    g_assert_cmpmem(vr_ptr(b.f.m->gm, M_RX, 4), 4, "ping", 4);
    /* and output after the migration follows the held data */
    g_assert_true(gm_write(b.f.m->gm, M_TX, "pong", 4));
    vm_buf(&b, 5, M_TX, 4, false);
    vm_kick(&b, 5);
    wait_used(&b.f, &b.r[5], NULL, NULL);
    {
        char buf[4];

        g_assert_cmpint(read(b.agent, buf, 4), ==, 4);
        g_assert_cmpmem(buf, 4, "pong", 4);
    }
    g_byte_array_unref(stream);
    vm_fini(&a);
    vm_fini(&b);
}

/* Stopped (as in migration's last phase, the state then captured): bytes
 * from the agent's host side and the news that it hung up stay out of
 * guest RAM however long the main loop runs; after cont (a cancelled
 * migration) the input is in the buffer and PORT_OPEN 0 in c_ivq. */
static void test_stopped_input(void)
{
    struct vm a;
    Error *err = NULL;
    GByteArray *stream;
    uint32_t head, len;
    uint16_t rx_head;

    vm_init(&a, default_ports);
    a.f.m->listeners = g_ptr_array_new_with_free_func(g_free);
    vm_driver_start(&a);
    /* two receive buffers: after "ping" the chardev still has room and
     * sees the hang-up */
    rx_head = vm_buf(&a, 4, M_RX, 256, true);
    vm_buf(&a, 4, M_RX + 256, 256, true);
    vm_kick(&a, 4);
    vm_ctrl_bufs(&a, 1);
    machine_pause(a.f.m);
    g_assert_cmpint(write(a.agent, "ping", 4), ==, 4);
    vm_no_ctrl(&a);
    g_assert_false(vr_get_used(&a.r[4], &head, &len));
    stream = vm_save(&a, &err);
    g_assert_null(err);
    g_byte_array_unref(stream);
    close(a.agent);
    a.agent = -1;
    vm_no_ctrl(&a);
    g_assert_false(vr_get_used(&a.r[4], &head, &len));
    g_assert_cmpuint(vr_used_p(&a.r[4])[1], ==, 0);
    machine_resume(a.f.m);
    wait_used(&a.f, &a.r[4], &head, &len);
    g_assert_cmpuint(head, ==, rx_head);
    g_assert_cmpuint(len, ==, 4);
    g_assert_cmpmem(vr_ptr(a.f.m->gm, M_RX, 4), 4, "ping", 4);
    vm_ctrl_expect(&a, 1, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
    g_ptr_array_free(a.f.m->listeners, TRUE);
    vm_fini(&a);
}

/* The destination's agent socket has no client: the guest, told the
 * port was open on the source, learns it is closed here. */
static void test_migrate_host_side_changed(void)
{
    static const char *const ports_b[] = {
        "virtio-serial-device,id=vs0,max_ports=4",
        "virtconsole,chardev=c0",
        "virtserialport,nr=1,chardev=srv,name=org.qemu.guest_agent.0",
        NULL,
    };
    struct vm a, b;
    Error *err = NULL;
    GByteArray *stream;
    g_autofree char *dir = g_dir_make_tmp("vireo-vser-mig-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "s", NULL);
    g_autofree char *text =
        g_strdup_printf("socket,id=srv,path=%s,server=on,wait=off", path);
    struct chardev *c;

    vm_init(&a, default_ports);
    vm_driver_start(&a);
    stream = vm_save(&a, &err);
    g_assert_nonnull(stream);

    mfx_init(&b.f);
    c = chardev_new(b.f.m, text, &err);
    g_assert_nonnull(c);
    g_ptr_array_add(b.f.m->chardevs, c);
    {
        /* vm_init's chardev "ag" unused here: make b by hand */
        g_autofree char *msg = NULL;

        for (unsigned i = 0; ports_b[i]; i++) {
            parse(&b.f, ports_b[i]);
        }
        msg = create_all(&b.f);
        g_assert_null(msg);
    }
    b.s = virtio_serial_of(g_ptr_array_index(b.f.m->devices, 0));
    b.agent = -1;
    g_assert_false(b.s->ports[1]->host_connected);
    g_assert_true(vm_load(&b, stream, &err));
    g_assert_null(err);
    vm_take_rings(&b, &a);
    vm_ctrl_bufs(&b, 2);
    vm_ctrl_expect(&b, 1, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
    vm_no_ctrl(&b); /* the console's side did not change */
    g_byte_array_unref(stream);
    vm_fini(&a);
    mfx_fini(&b.f);
    unlink(path);
    rmdir(dir);
}

/* A destination with other ports, or another max_ports, refuses the
 * stream naming the port, and its device is left as it was. */
static void test_migrate_layout(void)
{
    static const struct {
        const char *devices[5];
        const char *want;
    } cases[] = {
        {{"virtio-serial-device,id=vs0,max_ports=4", "virtconsole,chardev=c0",
          NULL},
         "port 1: the source has a virtserialport there, this device none"},
        {{"virtio-serial-device,id=vs0,max_ports=4", "virtconsole,chardev=c0",
          "virtconsole,nr=1,chardev=ag", NULL},
         "port 1 is a virtserialport on the source, a virtconsole here"},
        {{"virtio-serial-device,id=vs0,max_ports=4", "virtconsole,chardev=c0",
          "virtserialport,nr=1,chardev=ag,name=org.qemu.guest_agent.0",
          "virtserialport,nr=3,chardev=c1,name=other", NULL},
         "port 3 (virtserialport other) is not in the stream: the source "
         "has no port there"},
        {{"virtio-serial-device,id=vs0,max_ports=8", "virtconsole,chardev=c0",
          "virtserialport,nr=1,chardev=ag,name=org.qemu.guest_agent.0", NULL},
         "the stream has 10 elements, this device 18"},
    };
    struct vm a;
    Error *err = NULL;
    GByteArray *stream;

    vm_init(&a, default_ports);
    vm_driver_start(&a);
    stream = vm_save(&a, &err);
    g_assert_nonnull(stream);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct vm b;

        vm_init(&b, cases[i].devices);
        g_assert_false(vm_load(&b, stream, &err));
        g_assert_nonnull(err);
        if (!strstr(error_get_pretty(err), cases[i].want)) {
            g_error("'%s' lacks '%s'", error_get_pretty(err), cases[i].want);
        }
        error_free(err);
        err = NULL;
        g_assert_cmpuint(rd(&b.f, VIRTIO_MMIO_STATUS), ==, 0);
        g_assert_false(b.s->guest_ready);
        g_assert_false(b.s->ports[0]->guest_ready);
        vm_fini(&b);
    }
    g_byte_array_unref(stream);
    vm_fini(&a);
}

/* virtconsole and virtserialport do not block migrate any more: their
 * state migrates in their device's section. */
static void test_migrate_not_blocked(void)
{
    struct vm a;

    vm_init(&a, default_ports);
    for (guint i = 0; i < a.f.m->devices->len; i++) {
        struct device *d = g_ptr_array_index(a.f.m->devices, i);

        g_assert_false(d->cls->unmigratable);
        g_assert_true(!d->cls->migration_blocked ||
                      !d->cls->migration_blocked(d));
    }
    vm_fini(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-serial-device/mmio-handshake",
                    test_mmio_handshake);
    g_test_add_func("/virtio-serial-device/errors", test_errors);
    g_test_add_func("/virtio-serial-device/numbering", test_numbering);
    g_test_add_func("/virtio-serial-device/help", test_help);
    g_test_add_func("/virtio-serial-device/migrate-held", test_migrate_held);
    g_test_add_func("/virtio-serial-device/stopped-input", test_stopped_input);
    g_test_add_func("/virtio-serial-device/migrate-host-side-changed",
                    test_migrate_host_side_changed);
    g_test_add_func("/virtio-serial-device/migrate-layout",
                    test_migrate_layout);
    g_test_add_func("/virtio-serial-device/migrate-not-blocked",
                    test_migrate_not_blocked);
    return g_test_run();
}
