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
 */
#include "util/common.h"
#include "hw/char/chardev.h"
#include "hw/char/virtio-serial.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-mmio.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/vring-build.h"

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

static void wait_used(struct mfx *f, struct vr *r, uint32_t *id, uint32_t *len)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (!vr_get_used(r, id, len)) {
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-serial-device/mmio-handshake",
                    test_mmio_handshake);
    g_test_add_func("/virtio-serial-device/errors", test_errors);
    g_test_add_func("/virtio-serial-device/numbering", test_numbering);
    g_test_add_func("/virtio-serial-device/help", test_help);
    return g_test_run();
}
