/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial.h: the virtio console device with VIRTIO_CONSOLE_F_MULTIPORT
 * (virtio 1.2 section 5.3), transport-independent: virtio-serial-device
 * (virtio-mmio) and virtio-serial-pci bind it.  Its ports are devices of
 * their own (virtconsole, virtserialport: virtio-serial-port.c) created
 * after it, each on a chardev; the model runs the control protocol
 * (DEVICE_READY, PORT_ADD, PORT_READY, CONSOLE_PORT, PORT_NAME, PORT_OPEN)
 * and moves data between a port's queues and its chardev.
 *
 * Lock model: every entry into the model (queue kicks, register accesses,
 * chardev input, events and drain callbacks of its ports) runs under the
 * transport device's lock, s->lock; a port device's own lock is not used.
 * Chardev callbacks come on the main loop without any chardev lock held,
 * so the order is always device lock -> chardev lock.
 */
#ifndef HW_CHAR_VIRTIO_SERIAL_H
#define HW_CHAR_VIRTIO_SERIAL_H

#include "util/common.h"
#include "util/error.h"
#include "hw/core/device.h"
#include "hw/virtio/virtio-model.h"
#include "hw/virtio/virtio.h"

struct chardev;
struct machine;

#define VIRTIO_ID_CONSOLE 3

/* Feature bits (spec 5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* Control events (spec 5.3.6.2). */
#define VIRTIO_CONSOLE_DEVICE_READY 0
#define VIRTIO_CONSOLE_DEVICE_ADD 1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY 3
#define VIRTIO_CONSOLE_CONSOLE_PORT 4
#define VIRTIO_CONSOLE_RESIZE 5
#define VIRTIO_CONSOLE_PORT_OPEN 6
#define VIRTIO_CONSOLE_PORT_NAME 7

/* struct virtio_console_control: le32 id, le16 event, le16 value */
#define VIRTIO_CONSOLE_CTRL_SIZE 8
/* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr */
#define VIRTIO_CONSOLE_CONFIG_SIZE 12

/* QEMU's limits: each port takes two of at most 1024 queues and one pair
 * is the control queues; 31 ports by default. */
#define VIRTIO_SERIAL_MAX_PORTS 511
#define VIRTIO_SERIAL_DEFAULT_PORTS "31"
#define VIRTIO_SERIAL_QUEUE_SIZE 128
/* A port's nr property when not given: the model picks one. */
#define VIRTIO_SERIAL_NR_AUTO UINT32_MAX

/* The queue indexes of port nr (spec 5.3.2): port 0 has 0/1, the control
 * queues are 2/3, port n >= 1 has 2 + 2n / 3 + 2n. */
static inline unsigned virtio_serial_rx_queue(uint32_t nr)
{
    return nr == 0 ? 0 : 2 + 2 * nr;
}

/* One port as the model sees it; embedded in a port device. */
struct virtio_serial_port {
    /* set by the port's creator before virtio_serial_port_plug() */
    uint32_t nr; /* VIRTIO_SERIAL_NR_AUTO: the first free one */
    bool console;
    const char *name;    /* PORT_NAME (NULL: none); owned by the creator */
    struct chardev *chr; /* NULL: no backend (output is discarded) */
    const char *what;    /* "virtconsole": messages */
    /* state, under the device lock */
    struct virtio_serial *vser; /* NULL until plugged */
    bool attached;              /* the chardev frontend is ours */
    bool host_connected;        /* a console: always; else the chardev's */
    bool guest_ready;           /* the driver sent PORT_READY for it */
    bool guest_connected;       /* PORT_OPEN from the driver */
    struct virtq_elem *rx_elem; /* a receive buffer taken for can_read */
    bool rx_wanted;             /* input waits for receive buffers */
    struct virtq_elem *tx_elem; /* output only partly taken by the chardev */
    /* bytes of tx_elem already written; with tx_elem NULL, of the chain
     * the next pop returns (a save gave it back part-written) */
    uint64_t tx_off;
    bool throttled;      /* waiting for the chardev to drain */
    uint64_t rx_dropped; /* input lost to a reset under way */
};

/* Migration (hw/virtio/virtio-model.h): a port's state by its number, as
 * the stream carries it.  The ports are devices of their own with no
 * section: the model saves them, and a load finds the same ports here. */
#define VIRTIO_SERIAL_KIND_NONE 0
#define VIRTIO_SERIAL_KIND_CONSOLE 1 /* virtconsole */
#define VIRTIO_SERIAL_KIND_PORT 2    /* virtserialport */
struct virtio_serial_port_state {
    uint8_t kind; /* VIRTIO_SERIAL_KIND_* */
    bool guest_ready;
    bool guest_connected;
    bool host_connected; /* the source's, as the guest knows it */
    uint64_t tx_off;     /* of the next chain of its transmit queue */
};

/* A control message still waiting for a c_ivq buffer (PORT_NAME's name is
 * not carried: the destination's port of that number supplies it). */
struct virtio_serial_ctrl_state {
    uint32_t id;
    uint16_t event;
    uint16_t value;
};

struct virtio_serial {
    GMutex *lock;       /* the transport device's lock (NULL: standalone) */
    struct device *dev; /* the transport device (NULL: standalone) */
    /* properties (QEMU's names) */
    uint32_t max_ports;
    bool emergency_write;
    /* state */
    struct virtio_dev vdev;
    struct virtio_serial_port **ports; /* max_ports, by nr */
    GQueue ctrl_out;       /* GByteArray *: control messages to send */
    unsigned ctrl_dropped; /* messages over the bound (guest gave none) */
    bool guest_ready;      /* DEVICE_READY received */
    bool set_up;
    /* the machine runs (a standalone device always does): stopped, no
     * chardev input is taken, no control message or output chain used */
    bool running;
    /* migration: filled before a save, checked by a load and put to work
     * once nothing can refuse it any more (virtio-serial.c) */
    struct virtio_serial_port_state *mig_ports; /* max_ports, by nr */
    struct virtio_serial_ctrl_state *mig_ctrl;  /* mig_ctrl_cap */
    unsigned mig_ctrl_cap;                      /* the bound on ctrl_out */
    uint32_t mig_ctrl_len;                      /* entries in use */
};

/* QEMU's -device virtio-serial-* properties, offsets plus `base` (see
 * hw/virtio/virtio-model.h). */
#define VIRTIO_SERIAL_PROPS(base)                                              \
    {"max_ports", PROP_U32,                                                    \
     (base) + offsetof(struct virtio_serial, max_ports),                       \
     VIRTIO_SERIAL_DEFAULT_PORTS, "most ports (1..511)"},                      \
    {                                                                          \
        "emergency-write", PROP_BOOL,                                          \
            (base) + offsetof(struct virtio_serial, emergency_write), "on",    \
            "offer VIRTIO_CONSOLE_F_EMERG_WRITE"                               \
    }

extern const struct prop virtio_serial_props[];
/* The model both transports bind (hw/virtio/virtio-model.h). */
extern const struct virtio_model_class virtio_serial_model;

/* ---- standalone use (tests) ---------------------------------------- */

void virtio_serial_set_defaults(struct virtio_serial *s);
/* Checks the properties and sets up the device; the caller then binds a
 * transport (virtio_set_transport). */
bool virtio_serial_setup(struct virtio_serial *s, struct guest_mem *gm,
                         struct vlog *log, Error **errp);
/* Frees the device state; its ports must be unplugged first. */
void virtio_serial_teardown(struct virtio_serial *s);

/* ---- ports ---------------------------------------------------------- */

/* QEMU's port number rules, shared by realize and the command-line check:
 * taken[i] says whether port i (< max_ports) is in use.  A given nr must be
 * free and below max_ports, and 0 belongs to consoles; without one a
 * console takes 0 if free, any port else the first free from 1. */
bool virtio_serial_pick_nr(const bool *taken, uint32_t max_ports, bool console,
                           uint32_t *nr, Error **errp);
/* Adds p (nr, console, name, chr set) to s and attaches its chardev.
 * Call without the device lock (the chardev may call back at once). */
bool virtio_serial_port_plug(struct virtio_serial *s,
                             struct virtio_serial_port *p, Error **errp);
/* Removes p again (detaches the chardev, gives back its buffers). */
void virtio_serial_port_unplug(struct virtio_serial_port *p);
/* Whether a port of s is called name. */
bool virtio_serial_has_port_named(struct virtio_serial *s, const char *name);

/* Whether cls is a virtio-serial device class (on any transport). */
bool virtio_serial_class(const struct device_class *cls);
/* The model of a realized virtio-serial device, or NULL for any other. */
struct virtio_serial *virtio_serial_of(struct device *dev);
/* Where a port goes: bus "ID.0" (QEMU's name of the virtio-serial bus of
 * device ID), or the first virtio-serial device when bus is NULL; QEMU's
 * errors otherwise ("No 'virtio-serial-bus' bus found for device ..."). */
struct virtio_serial *virtio_serial_find_bus(struct machine *m, const char *bus,
                                             const char *port_class,
                                             Error **errp);

#endif
