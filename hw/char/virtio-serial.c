/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial.c: the virtio console device with multiple ports (virtio
 * 1.2 section 5.3) over the virtio core; see virtio-serial.h.  Control
 * messages from the driver are hostile: each is checked for its size and
 * its port id, and anything unexpected is logged and ignored (the device
 * keeps working); malformed descriptor chains break the device through
 * the core.  Host-to-guest data is taken from a chardev only as fast as
 * the driver supplies receive buffers (can_read answers the size of the
 * next buffer, nothing is buffered here); guest-to-host data of a serial
 * port waits for its chardev to drain, while a console drops what its
 * chardev cannot take, as the UART does (Linux's hvc driver spins with
 * interrupts off until its buffer comes back, so a console must not wait).
 * While the machine is not running no input, control message or output
 * chain touches guest RAM (vser_model_run_state).
 * The device migrates with its ports' state (see "migration" below).
 */
#include "util/common.h"
#include "hw/char/virtio-serial.h"
#include "hw/char/chardev.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "util/bytes.h"
#include "util/log.h"

#define CTRL_RX_QUEUE 2 /* c_ivq: device to driver */
#define CTRL_TX_QUEUE 3 /* c_ovq: driver to device */

const struct prop virtio_serial_props[] = {VIRTIO_SERIAL_PROPS(0), PROP_END};

static struct virtio_serial *to_vser(struct virtio_dev *vdev)
{
    return (struct virtio_serial *)((char *)vdev -
                                    offsetof(struct virtio_serial, vdev));
}

static void vser_lock(struct virtio_serial *s)
{
    if (s->lock) {
        g_mutex_lock(s->lock);
    }
}

static void vser_unlock(struct virtio_serial *s)
{
    if (s->lock) {
        g_mutex_unlock(s->lock);
    }
}

static bool multiport(struct virtio_serial *s)
{
    return virtio_has_feature(&s->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
}

static struct virtqueue *rx_vq(struct virtio_serial_port *p)
{
    return &p->vser->vdev.vqs[virtio_serial_rx_queue(p->nr)];
}

static struct virtqueue *tx_vq(struct virtio_serial_port *p)
{
    return &p->vser->vdev.vqs[virtio_serial_rx_queue(p->nr) + 1];
}

void virtio_serial_set_defaults(struct virtio_serial *s)
{
    s->max_ports = 31;
    s->emergency_write = true;
}

/* ---- config space --------------------------------------------------- */

static void vser_get_config(struct virtio_dev *vdev, uint8_t *c)
{
    struct virtio_serial *s = to_vser(vdev);

    memset(c, 0, VIRTIO_CONSOLE_CONFIG_SIZE);
    /* cols, rows: 0 (VIRTIO_CONSOLE_F_SIZE is not offered) */
    le_store(c + 4, s->max_ports, 4);
    /* emerg_wr reads 0; a write sends its byte (set_config) */
}

static void vser_set_config(struct virtio_dev *vdev, const uint8_t *c)
{
    struct virtio_serial *s = to_vser(vdev);
    struct virtio_serial_port *p = s->ports[0];
    uint8_t ch = (uint8_t)le_load(c + 8, 4);

    /* spec 5.3.4: emerg_wr sends one character to port 0, also before the
     * driver set anything up; a write to cols/rows carries emerg_wr 0 */
    if (!s->emergency_write || ch == 0) {
        return;
    }
    if (p && p->chr && p->host_connected) {
        chardev_write(p->chr, &ch, 1);
    }
}

/* ---- control messages to the driver (c_ivq) ------------------------- */

/* Sends what is queued as far as the driver gave buffers. */
static void ctrl_flush(struct virtio_serial *s)
{
    struct virtqueue *vq = &s->vdev.vqs[CTRL_RX_QUEUE];
    bool pushed = false;

    if (!s->running) {
        return; /* they wait in ctrl_out (carried by a migration) */
    }
    while (!g_queue_is_empty(&s->ctrl_out)) {
        struct virtq_elem *e = virtq_pop(vq, sizeof(*e));
        GByteArray *msg;
        size_t n;

        if (!e) {
            break;
        }
        msg = g_queue_pop_head(&s->ctrl_out);
        n = iov_from_buf(e->in_sg, e->in_num, 0, msg->data, msg->len);
        if (n < msg->len) {
            vlog_guest_error(s->vdev.log,
                             "%s: control buffer of %" PRIu64
                             " bytes cut a %u-byte message short",
                             s->vdev.name, e->in_len, msg->len);
        }
        virtq_push(vq, e, (uint32_t)n);
        g_byte_array_unref(msg);
        pushed = true;
    }
    if (pushed) {
        virtq_notify(vq);
    }
}

/* The most control messages waiting for buffers: a driver that asks
 * again and again (DEVICE_READY) without giving buffers cannot make the
 * host hold more. */
static unsigned ctrl_bound(const struct virtio_serial *s)
{
    return 4 * s->max_ports + 16;
}

/* Queues one message (header plus `extra` bytes), up to the bound. */
static void ctrl_queue(struct virtio_serial *s, uint32_t id, uint16_t event,
                       uint16_t value, const void *extra, size_t extra_len)
{
    uint8_t hdr[VIRTIO_CONSOLE_CTRL_SIZE];
    GByteArray *msg;

    if (g_queue_get_length(&s->ctrl_out) >= ctrl_bound(s)) {
        s->ctrl_dropped++;
        vlog_guest_error(s->vdev.log,
                         "%s: control queue full (the driver gives no "
                         "buffers): event %u for port %" PRIu32 " dropped",
                         s->vdev.name, event, id);
        return;
    }
    le_store(hdr, id, 4);
    le_store(hdr + 4, event, 2);
    le_store(hdr + 6, value, 2);
    msg = g_byte_array_sized_new((guint)(sizeof(hdr) + extra_len));
    g_byte_array_append(msg, hdr, sizeof(hdr));
    if (extra_len) {
        g_byte_array_append(msg, extra, (guint)extra_len);
    }
    g_queue_push_tail(&s->ctrl_out, msg);
}

/* Queues one message and sends what the driver has buffers for. */
static void ctrl_send(struct virtio_serial *s, uint32_t id, uint16_t event,
                      uint16_t value, const void *extra, size_t extra_len)
{
    ctrl_queue(s, id, event, value, extra, extra_len);
    ctrl_flush(s);
}

static void ctrl_clear(struct virtio_serial *s)
{
    GByteArray *msg;

    while ((msg = g_queue_pop_head(&s->ctrl_out))) {
        g_byte_array_unref(msg);
    }
}

/* ---- data ------------------------------------------------------------ */

/* Whether the driver takes input on p now. */
static bool port_open_for_input(struct virtio_serial_port *p)
{
    struct virtio_serial *s = p->vser;

    if (!s || !(s->vdev.status & VIRTIO_STATUS_DRIVER_OK)) {
        return false;
    }
    /* without MULTIPORT only port 0 exists, always open (spec 5.3.6) */
    return multiport(s) ? p->guest_connected : p->nr == 0;
}

static void give_back(struct virtio_serial_port *p, struct virtq_elem **e,
                      bool notify)
{
    struct virtqueue *vq;

    if (!*e) {
        return;
    }
    vq = (*e)->vq;
    virtq_push(vq, *e, 0);
    *e = NULL;
    if (notify) {
        virtq_notify(vq);
    }
}

/* The output chain p holds is done with (written, or discarded with
 * nothing connected): back to the driver, and the next one starts at its
 * first byte. */
static void tx_done(struct virtio_serial_port *p, bool notify)
{
    give_back(p, &p->tx_elem, notify);
    p->tx_off = 0;
}

/* Writes the rest of p->tx_elem to the chardev; false when a serial port
 * must wait for the chardev to drain (what is left stays in tx_elem). */
static bool port_write(struct virtio_serial_port *p)
{
    struct virtq_elem *e = p->tx_elem;
    uint64_t off = 0;

    for (unsigned i = 0; i < e->out_num; i++) {
        const uint8_t *base = e->out_sg[i].iov_base;
        size_t len = e->out_sg[i].iov_len;

        while (p->tx_off < off + len) {
            size_t skip = (size_t)(p->tx_off - off), n = len - skip;

            if (!p->console) {
                size_t pending = chardev_out_pending(p->chr);

                if (pending >= CHARDEV_OUT_BOUND) {
                    return false; /* the drained callback resumes */
                }
                n = MIN(n, CHARDEV_OUT_BOUND - pending);
            }
            chardev_write(p->chr, base + skip, n);
            p->tx_off += n;
        }
        off += len;
    }
    return true;
}

/* Moves the driver's output on p to the chardev, until the queue is empty
 * or the chardev is full.  With nothing connected on the host side the
 * output is discarded, as QEMU does. */
static void port_flush_tx(struct virtio_serial_port *p)
{
    struct virtqueue *vq = tx_vq(p);
    bool pushed = false;

    if (!p->vser->running) {
        return; /* the machine runs again: vser_model_run_state */
    }
    if (p->throttled && p->chr &&
        chardev_out_pending(p->chr) < CHARDEV_OUT_BOUND) {
        p->throttled = false; /* a drain we did not hear about */
    }
    while (!p->throttled) {
        if (!p->tx_elem) {
            /* tx_off is kept: a save gave this chain back with that many
             * bytes of it written (vser_model_drain) */
            p->tx_elem = virtq_pop(vq, sizeof(struct virtq_elem));
            if (!p->tx_elem) {
                break;
            }
        }
        if (p->chr && p->host_connected && !port_write(p)) {
            p->throttled = true;
            break;
        }
        tx_done(p, false);
        pushed = true;
    }
    if (pushed) {
        virtq_notify(vq);
    }
}

/* The guest gave receive buffers or opened the port: input may flow. */
static void port_wake_input(struct virtio_serial_port *p)
{
    p->rx_wanted = false;
    if (p->chr && p->attached) {
        chardev_accept_input(p->chr);
    }
}

/* A port's receive buffer for can_read: one with room, or NULL. */
static struct virtq_elem *port_rx_buffer(struct virtio_serial_port *p)
{
    bool pushed = false;

    while (!p->rx_elem) {
        p->rx_elem = virtq_pop(rx_vq(p), sizeof(struct virtq_elem));
        if (!p->rx_elem) {
            p->rx_wanted = true;
            break;
        }
        if (p->rx_elem->in_len == 0) {
            /* nothing the device may write: hand it back unused */
            vlog_guest_error(p->vser->vdev.log,
                             "%s: port %" PRIu32 ": receive buffer with no "
                             "writable bytes",
                             p->vser->vdev.name, p->nr);
            give_back(p, &p->rx_elem, false);
            pushed = true;
        }
    }
    if (pushed) {
        virtq_notify(rx_vq(p));
    }
    return p->rx_elem;
}

/* ---- chardev callbacks (main loop) ----------------------------------- */

static size_t port_can_read(void *opaque)
{
    struct virtio_serial_port *p = opaque;
    struct virtio_serial *s = p->vser;
    size_t n = 0;

    if (!s) {
        return 0;
    }
    vser_lock(s);
    /* a stopped machine takes nothing: the bytes wait in the chardev */
    if (s->running && port_open_for_input(p) && port_rx_buffer(p)) {
        n = (size_t)MIN(p->rx_elem->in_len, (uint64_t)SIZE_MAX);
    }
    vser_unlock(s);
    return n;
}

static void port_read(void *opaque, const uint8_t *buf, size_t len)
{
    struct virtio_serial_port *p = opaque;
    struct virtio_serial *s = p->vser;
    bool pushed = false;

    if (!s) {
        return;
    }
    vser_lock(s);
    /* can_read said how much fits; only a reset or a close since then
     * leaves less room (the driver is gone: the rest is dropped) */
    while (len && port_open_for_input(p) && port_rx_buffer(p)) {
        size_t n =
            iov_from_buf(p->rx_elem->in_sg, p->rx_elem->in_num, 0, buf, len);

        virtq_push(rx_vq(p), p->rx_elem, (uint32_t)n);
        p->rx_elem = NULL;
        pushed = true;
        buf += n;
        len -= n;
    }
    p->rx_dropped += len;
    if (pushed) {
        virtq_notify(rx_vq(p));
    }
    vser_unlock(s);
}

static void port_set_host_connected(struct virtio_serial_port *p, bool on)
{
    struct virtio_serial *s = p->vser;

    if (p->host_connected == on) {
        return;
    }
    p->host_connected = on;
    if (!on) {
        /* nobody to write to: what waited is discarded (QEMU's rule);
         * on a stopped machine by the flush when it runs again */
        if (s->running) {
            tx_done(p, true);
        }
        p->throttled = false;
    }
    if (p->guest_ready && multiport(s)) {
        ctrl_send(s, p->nr, VIRTIO_CONSOLE_PORT_OPEN, on, NULL, 0);
    }
    port_flush_tx(p);
}

static void port_event(void *opaque, enum chardev_event ev)
{
    struct virtio_serial_port *p = opaque;
    struct virtio_serial *s = p->vser;

    /* a console is open whatever the chardev's client does (QEMU) */
    if (!s || p->console || ev == CHARDEV_BREAK) {
        return;
    }
    vser_lock(s);
    port_set_host_connected(p, ev == CHARDEV_OPENED);
    vser_unlock(s);
}

static void port_drained(void *opaque)
{
    struct virtio_serial_port *p = opaque;
    struct virtio_serial *s = p->vser;

    if (!s) {
        return;
    }
    vser_lock(s);
    if (p->throttled) {
        p->throttled = false;
        port_flush_tx(p);
    }
    vser_unlock(s);
}

/* ---- control messages from the driver (c_ovq) ------------------------ */

static struct virtio_serial_port *ctrl_port(struct virtio_serial *s,
                                            uint32_t id, uint16_t event)
{
    if (id < s->max_ports && s->ports[id]) {
        return s->ports[id];
    }
    vlog_guest_error(s->vdev.log,
                     "%s: control event %u for port %" PRIu32
                     ", which does not exist",
                     s->vdev.name, event, id);
    return NULL;
}

static void port_ready(struct virtio_serial *s, struct virtio_serial_port *p)
{
    p->guest_ready = true;
    /* the driver has set the port up: now it may learn what it is */
    if (p->console) {
        ctrl_send(s, p->nr, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL, 0);
    }
    if (p->name) {
        /* the name with its NUL, as QEMU sends it */
        ctrl_send(s, p->nr, VIRTIO_CONSOLE_PORT_NAME, 1, p->name,
                  strlen(p->name) + 1);
    }
    if (p->host_connected) {
        ctrl_send(s, p->nr, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL, 0);
    }
}

static void ctrl_handle(struct virtio_serial *s, const uint8_t *msg)
{
    uint32_t id = (uint32_t)le_load(msg, 4);
    uint16_t event = (uint16_t)le_load(msg + 4, 2);
    uint16_t value = (uint16_t)le_load(msg + 6, 2);
    struct virtio_serial_port *p;

    switch (event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
        if (!value) {
            vlog_guest_error(s->vdev.log,
                             "%s: the driver failed to set up the device",
                             s->vdev.name);
            return;
        }
        s->guest_ready = true;
        for (uint32_t i = 0; i < s->max_ports; i++) {
            if (s->ports[i]) {
                ctrl_send(s, i, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL, 0);
            }
        }
        return;
    case VIRTIO_CONSOLE_PORT_READY:
        p = ctrl_port(s, id, event);
        if (!p) {
            return;
        }
        if (!value) {
            vlog_guest_error(s->vdev.log,
                             "%s: the driver failed to add port %" PRIu32,
                             s->vdev.name, id);
            return;
        }
        port_ready(s, p);
        return;
    case VIRTIO_CONSOLE_PORT_OPEN:
        p = ctrl_port(s, id, event);
        if (!p) {
            return;
        }
        p->guest_connected = value != 0;
        if (p->guest_connected) {
            port_wake_input(p);
            port_flush_tx(p);
        }
        return;
    case VIRTIO_CONSOLE_DEVICE_ADD:
    case VIRTIO_CONSOLE_DEVICE_REMOVE:
    case VIRTIO_CONSOLE_CONSOLE_PORT:
    case VIRTIO_CONSOLE_RESIZE:
    case VIRTIO_CONSOLE_PORT_NAME:
        vlog_guest_error(s->vdev.log,
                         "%s: control event %u goes from the device to the "
                         "driver, not back (ignored)",
                         s->vdev.name, event);
        return;
    default:
        vlog_guest_error(s->vdev.log,
                         "%s: unknown control event %u for port %" PRIu32
                         " (ignored)",
                         s->vdev.name, event, id);
        return;
    }
}

static void ctrl_receive(struct virtio_serial *s, struct virtqueue *vq)
{
    struct virtq_elem *e;
    bool pushed = false;

    while ((e = virtq_pop(vq, sizeof(*e)))) {
        uint8_t msg[VIRTIO_CONSOLE_CTRL_SIZE];

        if (e->out_len < sizeof(msg)) {
            vlog_guest_error(s->vdev.log,
                             "%s: control message of %" PRIu64
                             " bytes (at least %zu expected)",
                             s->vdev.name, e->out_len, sizeof(msg));
        } else {
            iov_to_buf(e->out_sg, e->out_num, 0, msg, sizeof(msg));
            ctrl_handle(s, msg);
        }
        virtq_push(vq, e, 0);
        pushed = true;
    }
    if (pushed) {
        virtq_notify(vq);
    }
}

/* ---- queue kicks ------------------------------------------------------ */

static void vser_queue_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    struct virtio_serial *s = to_vser(vdev);
    unsigned q = vq->index;
    struct virtio_serial_port *p;
    uint32_t nr;

    if (q == CTRL_RX_QUEUE || q == CTRL_TX_QUEUE || q > 3) {
        if (!multiport(s)) {
            vlog_guest_error(vdev->log,
                             "%s: kick on queue %u without "
                             "VIRTIO_CONSOLE_F_MULTIPORT",
                             vdev->name, q);
            return;
        }
    }
    if (q == CTRL_RX_QUEUE) {
        ctrl_flush(s);
        return;
    }
    if (q == CTRL_TX_QUEUE) {
        ctrl_receive(s, vq);
        return;
    }
    nr = q < 2 ? 0 : (q - 2) / 2;
    p = nr < s->max_ports ? s->ports[nr] : NULL;
    if (!p) {
        /* no port there: output is thrown away, input waits */
        if (q & 1) {
            struct virtq_elem *e;
            bool pushed = false;

            while ((e = virtq_pop(vq, sizeof(*e)))) {
                virtq_push(vq, e, 0);
                pushed = true;
            }
            if (pushed) {
                virtq_notify(vq);
            }
        }
        return;
    }
    if (q & 1) {
        port_flush_tx(p);
    } else if (p->rx_wanted) {
        port_wake_input(p);
    }
}

static void vser_driver_ok(struct virtio_dev *vdev)
{
    struct virtio_serial *s = to_vser(vdev);

    /* port 0 of a driver without MULTIPORT is open from now on */
    for (uint32_t i = 0; i < s->max_ports; i++) {
        if (s->ports[i]) {
            port_wake_input(s->ports[i]);
        }
    }
}

/* The driver is gone (reset) or the port is: the buffers p holds are not
 * the device's to use any more. */
static void port_drop_buffers(struct virtio_serial_port *p)
{
    if (p->rx_elem) {
        virtq_discard(p->rx_elem->vq, p->rx_elem);
        p->rx_elem = NULL;
    }
    if (p->tx_elem) {
        virtq_discard(p->tx_elem->vq, p->tx_elem);
        p->tx_elem = NULL;
    }
    p->tx_off = 0;
}

static void vser_reset(struct virtio_dev *vdev)
{
    struct virtio_serial *s = to_vser(vdev);

    if (!s->set_up) {
        return; /* virtio_init's reset */
    }
    for (uint32_t i = 0; i < s->max_ports; i++) {
        struct virtio_serial_port *p = s->ports[i];

        if (!p) {
            continue;
        }
        port_drop_buffers(p);
        p->guest_ready = p->guest_connected = false;
        p->throttled = p->rx_wanted = false;
    }
    ctrl_clear(s);
    s->guest_ready = false;
}

static const struct virtio_device_ops vser_ops = {
    .device_id = VIRTIO_ID_CONSOLE,
    .config_size = VIRTIO_CONSOLE_CONFIG_SIZE,
    .get_config = vser_get_config,
    .set_config = vser_set_config,
    .queue_notify = vser_queue_notify,
    .reset = vser_reset,
    .driver_ok = vser_driver_ok,
};

bool virtio_serial_setup(struct virtio_serial *s, struct guest_mem *gm,
                         struct vlog *log, Error **errp)
{
    uint64_t f = (1ULL << VIRTIO_F_INDIRECT_DESC) |
                 (1ULL << VIRTIO_F_EVENT_IDX) |
                 (1ULL << VIRTIO_CONSOLE_F_MULTIPORT);

    if (s->max_ports == 0) {
        error_setg(errp, "Maximum number of serial ports not specified");
        return false;
    }
    if (s->max_ports > VIRTIO_SERIAL_MAX_PORTS) {
        error_setg(errp, "maximum ports supported: %u",
                   VIRTIO_SERIAL_MAX_PORTS);
        return false;
    }
    if (s->emergency_write) {
        f |= 1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE;
    }
    s->ports = g_new0(struct virtio_serial_port *, s->max_ports);
    g_queue_init(&s->ctrl_out);
    s->mig_ports = g_new0(struct virtio_serial_port_state, s->max_ports);
    s->mig_ctrl_cap = ctrl_bound(s);
    s->mig_ctrl = g_new0(struct virtio_serial_ctrl_state, s->mig_ctrl_cap);
    s->mig_ctrl_len = 0;
    /* port 0's pair, the control pair, then a pair per further port */
    virtio_init(&s->vdev, "virtio-serial", &vser_ops, gm, log, f,
                2 * s->max_ports + 2, VIRTIO_SERIAL_QUEUE_SIZE);
    s->set_up = true;
    s->running = true; /* a device hears the machine's state at realize */
    return true;
}

void virtio_serial_teardown(struct virtio_serial *s)
{
    if (!s->set_up) {
        return;
    }
    /* ports go first (reverse creation order); any left are cut loose
     * here so their chardevs stop calling into freed memory */
    for (uint32_t i = 0; i < s->max_ports; i++) {
        if (s->ports[i]) {
            virtio_serial_port_unplug(s->ports[i]);
        }
    }
    vser_reset(&s->vdev);
    virtio_cleanup(&s->vdev);
    g_free(s->ports);
    s->ports = NULL;
    g_free(s->mig_ports);
    s->mig_ports = NULL;
    g_free(s->mig_ctrl);
    s->mig_ctrl = NULL;
    s->set_up = false;
}

/* ---- ports ------------------------------------------------------------ */

bool virtio_serial_pick_nr(const bool *taken, uint32_t max_ports, bool console,
                           uint32_t *nr, Error **errp)
{
    uint32_t n = *nr;

    if (n != VIRTIO_SERIAL_NR_AUTO && n < max_ports && taken[n]) {
        error_setg(errp, "virtio-serial-bus: A port already exists at id %u",
                   n);
        return false;
    }
    if (n == VIRTIO_SERIAL_NR_AUTO) {
        /* port 0 is kept for a console (Linux's hvc takes it as hvc0) */
        n = console && max_ports && !taken[0] ? 0 : 1;
        while (n < max_ports && taken[n]) {
            n++;
        }
        if (n >= max_ports) {
            error_setg(errp, "virtio-serial-bus: Maximum port limit for "
                             "this device reached");
            return false;
        }
    }
    if (n >= max_ports) {
        error_setg(errp,
                   "virtio-serial-bus: Out-of-range port id specified, "
                   "max. allowed: %u",
                   max_ports - 1);
        return false;
    }
    if (n == 0 && !console) {
        error_setg(errp, "Port number 0 on virtio-serial devices reserved "
                         "for virtconsole devices for backward "
                         "compatibility.");
        return false;
    }
    *nr = n;
    return true;
}

bool virtio_serial_has_port_named(struct virtio_serial *s, const char *name)
{
    bool found = false;

    vser_lock(s);
    for (uint32_t i = 0; name && i < s->max_ports && !found; i++) {
        found = s->ports[i] && s->ports[i]->name &&
                !strcmp(s->ports[i]->name, name);
    }
    vser_unlock(s);
    return found;
}

bool virtio_serial_port_plug(struct virtio_serial *s,
                             struct virtio_serial_port *p, Error **errp)
{
    const struct chardev_frontend fe = {
        .can_read = port_can_read,
        .read = port_read,
        .event = port_event,
        .drained = port_drained,
        .opaque = p,
    };
    bool *taken;
    bool ok;

    if (p->name && virtio_serial_has_port_named(s, p->name)) {
        error_setg(errp, "virtio-serial-bus: A port already exists by name %s",
                   p->name);
        return false;
    }
    vser_lock(s);
    taken = g_new0(bool, s->max_ports);
    for (uint32_t i = 0; i < s->max_ports; i++) {
        taken[i] = s->ports[i] != NULL;
    }
    ok = virtio_serial_pick_nr(taken, s->max_ports, p->console, &p->nr, errp);
    g_free(taken);
    if (ok) {
        p->vser = s;
        s->ports[p->nr] = p;
        /* a console is open as soon as it has a backend (QEMU) */
        p->host_connected = p->console && p->chr;
    }
    vser_unlock(s);
    if (!ok) {
        return false;
    }
    /* unlocked: attaching delivers CHARDEV_OPENED at once */
    if (p->chr) {
        if (!chardev_attach(p->chr, &fe, errp)) {
            vser_lock(s);
            s->ports[p->nr] = NULL;
            p->vser = NULL;
            vser_unlock(s);
            return false;
        }
        vser_lock(s);
        p->attached = true;
        vser_unlock(s);
    }
    vser_lock(s);
    if (s->guest_ready) {
        ctrl_send(s, p->nr, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL, 0);
    }
    vser_unlock(s);
    return true;
}

void virtio_serial_port_unplug(struct virtio_serial_port *p)
{
    struct virtio_serial *s = p->vser;

    if (!s) {
        return;
    }
    if (p->attached) {
        chardev_detach(p->chr, p);
        p->attached = false;
    }
    vser_lock(s);
    port_drop_buffers(p);
    s->ports[p->nr] = NULL;
    p->vser = NULL;
    vser_unlock(s);
}

/* ---- the model both transports bind ---------------------------------- */

bool virtio_serial_class(const struct device_class *cls)
{
    /* class_data is a virtio pair's binding or NULL (hw/core/device.h) */
    const struct virtio_binding *b = cls->class_data;

    return b && b->model == &virtio_serial_model;
}

struct virtio_serial *virtio_serial_of(struct device *dev)
{
    if (!virtio_serial_class(dev->cls) || !dev->realized) {
        return NULL;
    }
    return virtio_model_of(dev);
}

struct virtio_serial *virtio_serial_find_bus(struct machine *m, const char *bus,
                                             const char *port_class,
                                             Error **errp)
{
    size_t idlen;

    for (guint i = 0; m && m->devices && i < m->devices->len; i++) {
        struct device *d = g_ptr_array_index(m->devices, i);
        struct virtio_serial *s = virtio_serial_of(d);

        if (!s) {
            continue;
        }
        if (!bus) {
            return s;
        }
        /* QEMU names the bus of device ID "ID.0" */
        idlen = d->id ? strlen(d->id) : 0;
        if (idlen && !strncmp(bus, d->id, idlen) &&
            !strcmp(bus + idlen, ".0")) {
            return s;
        }
    }
    if (bus) {
        error_setg(errp, "Bus '%s' not found", bus);
    } else {
        error_setg(errp, "No 'virtio-serial-bus' bus found for device '%s'",
                   port_class);
    }
    return NULL;
}

static struct virtio_dev *vser_model_realize(void *model, struct device *dev,
                                             struct machine *m, Error **errp)
{
    struct virtio_serial *s = model;

    if (!virtio_serial_setup(s, m->gm, &m->log, errp)) {
        return NULL;
    }
    s->lock = &dev->lock;
    s->dev = dev;
    return &s->vdev;
}

static void vser_model_unrealize(void *model)
{
    virtio_serial_teardown(model);
}

/* ---- migration ---------------------------------------------------------
 *
 * The stream carries, besides the core's state: whether the driver sent
 * DEVICE_READY; per port number whether a port is there and which kind,
 * PORT_READY and PORT_OPEN from the driver, whether the host side was
 * open (what the guest was told), and how many bytes of the next output
 * chain the source's chardev took already; and the control messages
 * still waiting for the driver's buffers.  max_ports is carried by the
 * number of queues and of port entries, MULTIPORT and EMERG_WRITE by the
 * features: a load refuses a difference.
 *
 * Nothing popped is held across a save (drain): held output is written
 * as far as the chardev takes it without waiting, and a chain it cannot
 * finish is given back to the ring with its written offset kept (tx_off),
 * so whoever pops it next (the destination, or the source going on after
 * a snapshot) writes only the rest: each byte reaches a chardev once.
 * An offset rather than the chain's data keeps the stream free of guest
 * buffers (the chain is in RAM, which the stream carries anyway).  Receive
 * buffers taken for input that has not come are given back unused.  Not
 * carried: `throttled` and the input wait (the destination's chardevs
 * decide them anew), the counters of dropped bytes and messages. */

static const char *kind_name(uint8_t kind)
{
    return kind == VIRTIO_SERIAL_KIND_CONSOLE ? "virtconsole"
           : kind == VIRTIO_SERIAL_KIND_PORT  ? "virtserialport"
                                              : "none";
}

static uint8_t port_kind(const struct virtio_serial_port *p)
{
    if (!p) {
        return VIRTIO_SERIAL_KIND_NONE;
    }
    return p->console ? VIRTIO_SERIAL_KIND_CONSOLE : VIRTIO_SERIAL_KIND_PORT;
}

/* Before a save, under the device lock with the vCPUs stopped. */
static void vser_model_drain(void *model)
{
    struct virtio_serial *s = model;

    for (uint32_t i = 0; i < s->max_ports; i++) {
        struct virtio_serial_port *p = s->ports[i];

        if (!p) {
            continue;
        }
        /* one queue per held element: each is its queue's newest pop */
        if (p->tx_elem) {
            /* held only while a connected chardev was full (port_flush_tx):
             * one more try without waiting */
            if (p->chr && p->host_connected && port_write(p)) {
                tx_done(p, true);
            } else {
                virtq_unpop(p->tx_elem->vq, p->tx_elem);
                p->tx_elem = NULL;
            }
        }
        if (p->rx_elem) {
            virtq_unpop(p->rx_elem->vq, p->rx_elem);
            p->rx_elem = NULL;
        }
    }
}

static bool vser_pre_save(void *opaque, Error **errp)
{
    struct virtio_serial *s = opaque;
    uint32_t n = 0;

    for (uint32_t i = 0; i < s->max_ports; i++) {
        struct virtio_serial_port *p = s->ports[i];
        struct virtio_serial_port_state *st = &s->mig_ports[i];

        *st = (struct virtio_serial_port_state){.kind = port_kind(p)};
        if (!p) {
            continue;
        }
        if (p->tx_elem || p->rx_elem) {
            error_setg(errp,
                       "%s: port %" PRIu32 " holds a buffer (not given "
                       "back before the save)",
                       s->vdev.name, i);
            return false;
        }
        st->guest_ready = p->guest_ready;
        st->guest_connected = p->guest_connected;
        st->host_connected = p->host_connected;
        st->tx_off = p->tx_off;
    }
    memset(s->mig_ctrl, 0, s->mig_ctrl_cap * sizeof(*s->mig_ctrl));
    for (GList *l = s->ctrl_out.head; l && n < s->mig_ctrl_cap; l = l->next) {
        const GByteArray *msg = l->data;

        s->mig_ctrl[n++] = (struct virtio_serial_ctrl_state){
            .id = (uint32_t)le_load(msg->data, 4),
            .event = (uint16_t)le_load(msg->data + 4, 2),
            .value = (uint16_t)le_load(msg->data + 6, 2),
        };
    }
    s->mig_ctrl_len = n;
    return true;
}

/* One loaded port entry against the port of that number here. */
static bool check_port(struct virtio_serial *s, uint32_t nr, Error **errp)
{
    const struct virtio_serial_port_state *st = &s->mig_ports[nr];
    struct virtio_serial_port *p = s->ports[nr];
    struct virtqueue *vq;

    if (st->kind > VIRTIO_SERIAL_KIND_PORT) {
        error_setg(errp, "port %" PRIu32 ": unknown kind %u", nr, st->kind);
        return false;
    }
    if (st->kind != port_kind(p)) {
        if (!p) {
            error_setg(errp,
                       "port %" PRIu32 ": the source has a %s there, this "
                       "device none (the same ports with the same numbers "
                       "are needed)",
                       nr, kind_name(st->kind));
        } else if (st->kind == VIRTIO_SERIAL_KIND_NONE) {
            error_setg(errp,
                       "port %" PRIu32 " (%s%s%s) is not in the stream: the "
                       "source has no port there",
                       nr, p->what, p->name ? " " : "", p->name ? p->name : "");
        } else {
            error_setg(errp,
                       "port %" PRIu32 " is a %s on the source, a %s here", nr,
                       kind_name(st->kind), kind_name(port_kind(p)));
        }
        return false;
    }
    if (!p) {
        if (st->guest_ready || st->guest_connected || st->host_connected ||
            st->tx_off) {
            error_setg(errp,
                       "port %" PRIu32 ": state for a port that is "
                       "not there",
                       nr);
            return false;
        }
        return true;
    }
    if (!st->tx_off || s->vdev.broken) {
        return true; /* a broken device pops nothing until a reset */
    }
    /* bytes written of a chain the driver made available: the device
     * is running and the chain is still in the ring */
    vq = &s->vdev.vqs[virtio_serial_rx_queue(nr) + 1];
    if (!(s->vdev.status & VIRTIO_STATUS_DRIVER_OK) || !vq->ready ||
        (!vq->packed && vq->shadow_avail_idx == vq->last_avail_idx)) {
        error_setg(errp,
                   "port %" PRIu32 ": %" PRIu64 " bytes written of an output "
                   "chain, but queue %u has no chain waiting",
                   nr, st->tx_off, vq->index);
        return false;
    }
    return true;
}

/* One queued control message: one the device sends, for a port here. */
static bool check_ctrl(struct virtio_serial *s,
                       const struct virtio_serial_ctrl_state *c, Error **errp)
{
    struct virtio_serial_port *p =
        c->id < s->max_ports ? s->ports[c->id] : NULL;

    switch (c->event) {
    case VIRTIO_CONSOLE_DEVICE_ADD:
    case VIRTIO_CONSOLE_DEVICE_REMOVE:
    case VIRTIO_CONSOLE_CONSOLE_PORT:
    case VIRTIO_CONSOLE_PORT_OPEN:
    case VIRTIO_CONSOLE_PORT_NAME:
        break;
    default:
        error_setg(errp,
                   "queued control event %u for port %" PRIu32
                   " is none the device sends",
                   c->event, c->id);
        return false;
    }
    if (!p) {
        error_setg(errp,
                   "queued control event %u for port %" PRIu32
                   ", which is not there",
                   c->event, c->id);
        return false;
    }
    if (c->value > 1) {
        error_setg(errp,
                   "queued control event %u for port %" PRIu32
                   ": value %u (0 or 1)",
                   c->event, c->id, c->value);
        return false;
    }
    if (c->event == VIRTIO_CONSOLE_PORT_NAME && !p->name) {
        error_setg(errp,
                   "queued PORT_NAME for port %" PRIu32
                   ", which has no name here",
                   c->id);
        return false;
    }
    return true;
}

/* Checks only (the rings are not usable yet); vser_model_loaded applies. */
static bool vser_post_load(void *opaque, Error **errp)
{
    struct virtio_serial *s = opaque;
    Error *err = NULL;

    for (uint32_t i = 0; i < s->max_ports; i++) {
        if (!check_port(s, i, &err)) {
            goto fail;
        }
    }
    if (s->mig_ctrl_len > s->mig_ctrl_cap) {
        error_setg(&err, "%" PRIu32 " control messages queued (at most %u)",
                   s->mig_ctrl_len, s->mig_ctrl_cap);
        goto fail;
    }
    for (uint32_t i = 0; i < s->mig_ctrl_len; i++) {
        if (!check_ctrl(s, &s->mig_ctrl[i], &err)) {
            goto fail;
        }
    }
    return true;
fail:
    error_prepend(&err, "%s: ", s->vdev.name);
    error_propagate(errp, err);
    return false;
}

/* The load is in effect and the rings usable.  Nothing is popped or
 * signalled here: the transport then looks at every enabled queue once
 * (its post_load), which sends the queued control messages and resumes
 * output where it stopped. */
static void vser_model_loaded(void *model)
{
    struct virtio_serial *s = model;

    ctrl_clear(s);
    for (uint32_t i = 0; i < s->mig_ctrl_len; i++) {
        const struct virtio_serial_ctrl_state *c = &s->mig_ctrl[i];
        const char *name = s->ports[c->id]->name;

        if (c->event == VIRTIO_CONSOLE_PORT_NAME) {
            ctrl_queue(s, c->id, c->event, c->value, name, strlen(name) + 1);
        } else {
            ctrl_queue(s, c->id, c->event, c->value, NULL, 0);
        }
    }
    for (uint32_t i = 0; i < s->max_ports; i++) {
        struct virtio_serial_port *p = s->ports[i];
        const struct virtio_serial_port_state *st = &s->mig_ports[i];

        if (!p) {
            continue;
        }
        /* what it held (a load into a running device) was in the rings
         * the load replaced */
        port_drop_buffers(p);
        p->guest_ready = st->guest_ready;
        p->guest_connected = st->guest_connected;
        p->tx_off = st->tx_off;
        p->throttled = p->rx_wanted = false;
        /* the host side here may differ from the source's: the guest
         * learns it as after any change (QEMU does the same) */
        if (p->guest_ready && multiport(s) &&
            st->host_connected != p->host_connected) {
            ctrl_queue(s, p->nr, VIRTIO_CONSOLE_PORT_OPEN, p->host_connected,
                       NULL, 0);
        }
        /* the chardev asks can_read again (receive buffers are there) */
        port_wake_input(p);
    }
}

static const struct vmstate_field vser_port_state_fields[] = {
    VMS_U8(struct virtio_serial_port_state, kind),
    VMS_BOOL(struct virtio_serial_port_state, guest_ready),
    VMS_BOOL(struct virtio_serial_port_state, guest_connected),
    VMS_BOOL(struct virtio_serial_port_state, host_connected),
    VMS_U64(struct virtio_serial_port_state, tx_off),
    VMS_END,
};

static const struct vmstate_desc vser_port_state_vmsd = {
    .name = "virtio-serial-port",
    .version = 1,
    .fields = vser_port_state_fields,
};

static const struct vmstate_field vser_ctrl_state_fields[] = {
    VMS_U32(struct virtio_serial_ctrl_state, id),
    VMS_U16(struct virtio_serial_ctrl_state, event),
    VMS_U16(struct virtio_serial_ctrl_state, value),
    VMS_END,
};

static const struct vmstate_desc vser_ctrl_state_vmsd = {
    .name = "virtio-serial-control",
    .version = 1,
    .fields = vser_ctrl_state_fields,
};

static const struct vmstate_field vser_fields[] = {
    VMS_BOOL(struct virtio_serial, guest_ready),
    VMS_VARRAY(struct virtio_serial, mig_ports, max_ports,
               &vser_port_state_vmsd),
    VMS_U32(struct virtio_serial, mig_ctrl_len),
    VMS_VARRAY(struct virtio_serial, mig_ctrl, mig_ctrl_cap,
               &vser_ctrl_state_vmsd),
    VMS_END,
};

static const struct vmstate_desc vser_vmsd = {
    .name = "virtio-serial",
    .version = 1,
    .fields = vser_fields,
    .pre_save = vser_pre_save,
    .post_load = vser_post_load,
};

/* The machine stops (stop, migration's last phase, postmigrate) or runs
 * again: stopped, no chardev input is taken into receive buffers
 * (can_read answers 0), no control message is sent and no output chain
 * is used, so nothing reaches guest RAM after a migration captured the
 * device; running, what waited goes on: the control messages, each
 * port's output, and input (the chardevs are asked again). */
static void vser_model_run_state(void *model, bool running)
{
    struct virtio_serial *s = model;

    s->running = running;
    if (!running || !s->set_up) {
        return;
    }
    ctrl_flush(s);
    for (uint32_t i = 0; i < s->max_ports; i++) {
        struct virtio_serial_port *p = s->ports[i];

        if (p) {
            port_flush_tx(p);
            port_wake_input(p);
        }
    }
}

const struct virtio_model_class virtio_serial_model = {
    .run_state = vser_model_run_state,
    .name = "virtio-serial",
    .device_id = VIRTIO_ID_CONSOLE,
    .pci_class = 0x078000, /* communication, other: what QEMU reports */
    .realize = vser_model_realize,
    .unrealize = vser_model_unrealize,
    .vmsd = &vser_vmsd,
    .drain = vser_model_drain,
    .loaded = vser_model_loaded,
};
