/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial-port.c: QEMU's `-device virtconsole` and `-device
 * virtserialport`, the ports of a virtio-serial device (virtio 1.2 section
 * 5.3, VIRTIO_CONSOLE_F_MULTIPORT) on a chardev: chardev=, nr=, name= and
 * bus=ID.0 as libvirt writes them for <console type='pty'> and guest agent
 * channels.  A port is created after its virtio-serial device and plugs
 * into its model (virtio-serial.c); the same rules also run over the
 * command line before the accelerator opens (check_opts), so a port
 * without its bus or with a taken number is refused on any host.  A port
 * has no migration section of its own: its state lives in the model and
 * migrates with its virtio-serial device.
 */
#include "util/common.h"
#include "hw/char/virtio-serial.h"
#include "hw/char/chardev.h"
#include "hw/core/device.h"
#include "system/machine.h"

struct vser_port_dev {
    struct device dev; /* first */
    char *chardev_id;
    uint32_t nr;
    char *name;
    char *bus;
    struct virtio_serial_port port;
};

extern const struct device_class virtconsole_class;

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* A port name already used on any virtio-serial device (QEMU checks all
 * of them: the guest finds ports by name in /dev/virtio-ports). */
static bool name_in_use(struct machine *m, const char *name)
{
    for (guint i = 0; name && m->devices && i < m->devices->len; i++) {
        struct virtio_serial *s =
            virtio_serial_of(g_ptr_array_index(m->devices, i));

        if (s && virtio_serial_has_port_named(s, name)) {
            return true;
        }
    }
    return false;
}

static bool vser_port_realize(struct device *dev, struct machine *m,
                              Error **errp)
{
    struct vser_port_dev *d = (struct vser_port_dev *)dev;
    struct virtio_serial *s;
    struct chardev *chr = NULL;

    s = virtio_serial_find_bus(m, nonempty(d->bus), dev->cls->name, errp);
    if (!s) {
        return false;
    }
    if (nonempty(d->chardev_id)) {
        chr = machine_find_chardev(m, d->chardev_id);
        if (!chr) {
            error_setg(errp, "Property '%s.chardev' can't find value '%s'",
                       dev->cls->name, d->chardev_id);
            return false;
        }
    }
    if (name_in_use(m, nonempty(d->name))) {
        error_setg(errp, "virtio-serial-bus: A port already exists by name %s",
                   d->name);
        return false;
    }
    d->port = (struct virtio_serial_port){
        .nr = d->nr,
        .console = dev->cls == &virtconsole_class,
        .name = nonempty(d->name),
        .chr = chr,
        .what = dev->cls->name,
    };
    return virtio_serial_port_plug(s, &d->port, errp);
}

static void vser_port_unrealize(struct device *dev)
{
    virtio_serial_port_unplug(&((struct vser_port_dev *)dev)->port);
}

/* ---- the same rules over the command line ---------------------------- */

static const struct prop_value *opt(const struct device_opts *o,
                                    const char *name)
{
    for (size_t i = 0; i < o->n; i++) {
        if (!strcmp(o->values[i].name, name)) {
            return &o->values[i];
        }
    }
    return NULL;
}

static const char *opt_str(const struct device_opts *o, const char *name)
{
    const struct prop_value *v = opt(o, name);

    return v ? nonempty(v->s) : NULL;
}

static uint32_t opt_u32(const struct device_opts *o, const char *name)
{
    const struct prop_value *v = opt(o, name);
    const struct prop *p = device_class_prop(o->cls, name);

    if (v) {
        return (uint32_t)v->u;
    }
    return p && p->defval ? (uint32_t)g_ascii_strtoull(p->defval, NULL, 0) : 0;
}

static bool is_port_class(const struct device_class *cls);

/* A virtio-serial device on the command line and its ports so far. */
struct sim_bus {
    const struct device_opts *o;
    uint32_t max_ports;
    bool *taken;
};

static bool vser_port_check_opts(const struct device_opts *o, GPtrArray *all,
                                 guint index, Error **errp)
{
    GArray *buses = g_array_new(FALSE, TRUE, sizeof(struct sim_bus));
    GPtrArray *names = g_ptr_array_new();
    struct sim_bus *bus = NULL;
    bool ok = false;

    for (guint i = 0; i <= index; i++) {
        const struct device_opts *x = g_ptr_array_index(all, i);
        const char *want = opt_str(x, "bus");
        struct sim_bus *b = NULL;
        uint32_t nr;

        if (virtio_serial_class(x->cls)) {
            struct sim_bus nb = {.o = x, .max_ports = opt_u32(x, "max_ports")};

            /* a bad max_ports is the device's own error, at realize */
            if (nb.max_ports && nb.max_ports <= VIRTIO_SERIAL_MAX_PORTS) {
                nb.taken = g_new0(bool, nb.max_ports);
                g_array_append_val(buses, nb);
            }
            continue;
        }
        if (!is_port_class(x->cls)) {
            continue;
        }
        nr = opt_u32(x, "nr");
        for (guint j = 0; j < buses->len && !b; j++) {
            struct sim_bus *c = &g_array_index(buses, struct sim_bus, j);
            size_t idlen = c->o->id ? strlen(c->o->id) : 0;

            if (!want || (idlen && !strncmp(want, c->o->id, idlen) &&
                          !strcmp(want + idlen, ".0"))) {
                b = c;
            }
        }
        if (i < index) {
            /* an earlier port passed this check: replay its choice */
            if (b && virtio_serial_pick_nr(b->taken, b->max_ports,
                                           x->cls == &virtconsole_class, &nr,
                                           NULL)) {
                b->taken[nr] = true;
            }
            if (opt_str(x, "name")) {
                g_ptr_array_add(names, (gpointer)opt_str(x, "name"));
            }
            continue;
        }
        if (!b) {
            if (want) {
                error_setg(errp, "Bus '%s' not found", want);
            } else {
                error_setg(errp,
                           "No 'virtio-serial-bus' bus found for device '%s'",
                           o->cls->name);
            }
            goto out;
        }
        bus = b;
        if (!virtio_serial_pick_nr(bus->taken, bus->max_ports,
                                   o->cls == &virtconsole_class, &nr, errp)) {
            goto out;
        }
    }
    for (guint i = 0; opt_str(o, "name") && i < names->len; i++) {
        if (!strcmp(g_ptr_array_index(names, i), opt_str(o, "name"))) {
            error_setg(errp,
                       "virtio-serial-bus: A port already exists by name %s",
                       opt_str(o, "name"));
            goto out;
        }
    }
    ok = bus != NULL;
out:
    for (guint j = 0; j < buses->len; j++) {
        g_free(g_array_index(buses, struct sim_bus, j).taken);
    }
    g_array_free(buses, TRUE);
    g_ptr_array_free(names, TRUE);
    return ok;
}

/* ---- the classes ------------------------------------------------------ */

static const struct prop vser_port_props[] = {
    {"chardev", PROP_CHARDEV, offsetof(struct vser_port_dev, chardev_id), NULL,
     "ID of a chardev to use as a backend"},
    {"nr", PROP_U32, offsetof(struct vser_port_dev, nr), "4294967295",
     "port number (default: virtconsole 0, virtserialport the first free "
     "from 1)"},
    {"name", PROP_STR, offsetof(struct vser_port_dev, name), NULL,
     "port name the guest sees (/dev/virtio-ports/NAME)"},
    {"bus", PROP_STR, offsetof(struct vser_port_dev, bus), NULL,
     "virtio-serial bus ID.0 (default: the first virtio-serial device)"},
    PROP_END,
};

/* The two differ only in what a port number defaults to and in being the
 * guest's console (CONSOLE_PORT, always open on the host side). */
#define VSER_PORT_CLASS(cname, qname, description)                             \
    const struct device_class cname = {                                        \
        .name = (qname),                                                       \
        .desc = (description),                                                 \
        .size = sizeof(struct vser_port_dev),                                  \
        .props = vser_port_props,                                              \
        .user_creatable = true,                                                \
        .realize = vser_port_realize,                                          \
        .unrealize =                                                           \
            vser_port_unrealize, /* no section: the virtio-serial device's     \
                                  * model saves its ports' state by number and \
                                  * a load checks it finds the same ones */    \
        .vmsd = NULL,                                                          \
        .check_opts = vser_port_check_opts,                                    \
    }

VSER_PORT_CLASS(virtconsole_class, "virtconsole",
                "virtio console port (hvc) on a virtio-serial device");
VSER_PORT_CLASS(virtserialport_class, "virtserialport",
                "virtio serial port on a virtio-serial device");

static bool is_port_class(const struct device_class *cls)
{
    return cls == &virtconsole_class || cls == &virtserialport_class;
}
