/* SPDX-License-Identifier: MIT */
/*
 * i8042.c: minimal 8042 keyboard controller with an acknowledging PS/2
 * keyboard and mouse (see i8042.h for the scope).  Sources: the IBM PC/AT
 * technical reference (controller commands, status and command byte) and
 * what Linux's drivers/input/serio/i8042.c, atkbd.c and psmouse probe.
 *
 * Bytes for the guest wait in one queue, each tagged with its port
 * (keyboard or AUX); the head of the queue is the controller's output
 * buffer, so OBF/AUX_OBF and the IRQ lines follow it.  Each byte read
 * drops the IRQ line before the next byte raises it again, giving the
 * edge-triggered ISA interrupt a fresh edge per byte.
 */
#include "util/common.h"
#include "hw/input/i8042.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/memory.h"
#include "util/log.h"

/* Controller commands (port 0x64) */
#define CMD_READ_CCB 0x20
#define CMD_WRITE_CCB 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_INPUT 0xc0
#define CMD_READ_OUTPUT 0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX 0xd4
#define CMD_A20_OFF 0xdd
#define CMD_A20_ON 0xdf
#define CMD_READ_TEST 0xe0
#define CMD_PULSE_FIRST 0xf0 /* 0xf0..0xff: pulse output bits 0-3 low */

/* PS/2 device replies */
#define PS2_ACK 0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa

static void log_guest(struct i8042_state *s, const char *what, uint8_t v)
{
    if (s->log) {
        vlog_guest_error(s->log, "i8042: %s 0x%02x", what, v);
    }
}

static bool irq_wanted(const struct i8042_state *s, unsigned line)
{
    bool aux;

    if (!s->q_count) {
        return false;
    }
    aux = s->q_aux[s->q_head];
    if (line == I8042_LINE_AUX) {
        return aux && (s->ccb & I8042_CCB_AUX_INT);
    }
    return !aux && (s->ccb & I8042_CCB_KBD_INT);
}

static void set_line(struct i8042_state *s, unsigned line, bool level)
{
    if (s->irq_level[line] != level) {
        s->irq_level[line] = level;
        if (s->ops && s->ops->set_irq) {
            s->ops->set_irq(s->opaque, line, level);
        }
    }
}

/* Status and IRQs follow the head of the queue. */
static void update(struct i8042_state *s)
{
    s->status &= ~(I8042_STS_OBF | I8042_STS_AUX_OBF);
    if (s->q_count) {
        s->status |= I8042_STS_OBF;
        if (s->q_aux[s->q_head]) {
            s->status |= I8042_STS_AUX_OBF;
        }
    }
    set_line(s, I8042_LINE_KBD, irq_wanted(s, I8042_LINE_KBD));
    set_line(s, I8042_LINE_AUX, irq_wanted(s, I8042_LINE_AUX));
}

void i8042_core_sync_irq(struct i8042_state *s)
{
    for (unsigned line = 0; line < 2; line++) {
        s->irq_level[line] = irq_wanted(s, line);
        if (s->ops && s->ops->set_irq) {
            s->ops->set_irq(s->opaque, line, s->irq_level[line]);
        }
    }
}

static void queue(struct i8042_state *s, uint8_t v, bool aux)
{
    unsigned tail;

    if (s->q_count >= I8042_QUEUE_LEN) {
        /* The guest sends commands without reading the answers. */
        log_guest(s, "output queue full, dropping", v);
        return;
    }
    tail = (s->q_head + s->q_count) % I8042_QUEUE_LEN;
    s->q_data[tail] = v;
    s->q_aux[tail] = aux;
    s->q_count++;
}

static void kbd_reply(struct i8042_state *s, uint8_t v)
{
    queue(s, v, false);
}

static void aux_reply(struct i8042_state *s, uint8_t v)
{
    queue(s, v, true);
}

static uint8_t read_data(struct i8042_state *s)
{
    if (s->q_count) {
        s->last_data = s->q_data[s->q_head];
        s->q_head = (s->q_head + 1) % I8042_QUEUE_LEN;
        s->q_count--;
        /* Drop the lines so the next byte brings a new edge. */
        set_line(s, I8042_LINE_KBD, false);
        set_line(s, I8042_LINE_AUX, false);
    }
    return s->last_data;
}

static uint8_t output_port(const struct i8042_state *s)
{
    uint8_t v = s->outport & ~0x30;

    if (s->status & I8042_STS_OBF) {
        v |= 0x10; /* keyboard output buffer full */
    }
    if (s->status & I8042_STS_AUX_OBF) {
        v |= 0x20;
    }
    return v;
}

static void write_outport(struct i8042_state *s, uint8_t v)
{
    s->outport = v;
    if (!(v & I8042_OUT_RESET)) {
        /* Bit 0 low holds the CPU in reset: the machine resets. */
        s->outport |= I8042_OUT_RESET;
        if (s->ops && s->ops->request_reset) {
            s->ops->request_reset(s->opaque);
        }
    }
}

static void kbd_defaults(struct i8042_state *s)
{
    s->kbd_pending = 0;
    s->kbd_scan_set = 2;
    s->kbd_leds = 0;
    s->kbd_enabled = 1;
}

static void aux_defaults(struct i8042_state *s)
{
    s->aux_pending = 0;
    s->aux_rate = 100;
    s->aux_resolution = 2;
    s->aux_enabled = 0;
}

static void kbd_write(struct i8042_state *s, uint8_t v)
{
    uint8_t pending = s->kbd_pending;

    s->kbd_pending = 0;
    switch (pending) {
    case 0xed: /* set LEDs */
        s->kbd_leds = v & 7;
        kbd_reply(s, PS2_ACK);
        return;
    case 0xf3: /* typematic rate: nothing to repeat */
        kbd_reply(s, PS2_ACK);
        return;
    case 0xf0: /* scan code set */
        if (v == 0) {
            kbd_reply(s, PS2_ACK);
            kbd_reply(s, s->kbd_scan_set);
        } else if (v <= 3) {
            s->kbd_scan_set = v;
            kbd_reply(s, PS2_ACK);
        } else {
            kbd_reply(s, PS2_RESEND);
        }
        return;
    default:
        break;
    }
    switch (v) {
    case 0xed:
    case 0xf3:
    case 0xf0:
        s->kbd_pending = v;
        kbd_reply(s, PS2_ACK);
        break;
    case 0xee: /* echo */
        kbd_reply(s, 0xee);
        break;
    case 0xf2: /* identify: MF2 keyboard, translated id when XLATE */
        kbd_reply(s, PS2_ACK);
        kbd_reply(s, 0xab);
        kbd_reply(s, (s->ccb & I8042_CCB_XLATE) ? 0x41 : 0x83);
        break;
    case 0xf4:
        s->kbd_enabled = 1;
        kbd_reply(s, PS2_ACK);
        break;
    case 0xf5:
        kbd_defaults(s);
        s->kbd_enabled = 0;
        kbd_reply(s, PS2_ACK);
        break;
    case 0xf6:
        kbd_defaults(s);
        kbd_reply(s, PS2_ACK);
        break;
    case 0xf7: /* set-3 key types: accepted, nothing to change */
    case 0xf8:
    case 0xf9:
    case 0xfa:
        kbd_reply(s, PS2_ACK);
        break;
    case 0xff:
        kbd_defaults(s);
        kbd_reply(s, PS2_ACK);
        kbd_reply(s, PS2_BAT_OK);
        break;
    default:
        kbd_reply(s, PS2_RESEND);
        break;
    }
}

static void aux_write(struct i8042_state *s, uint8_t v)
{
    uint8_t pending = s->aux_pending;

    s->aux_pending = 0;
    if (pending == 0xf3) {
        s->aux_rate = v;
        aux_reply(s, PS2_ACK);
        return;
    }
    if (pending == 0xe8) {
        s->aux_resolution = v & 3;
        aux_reply(s, PS2_ACK);
        return;
    }
    switch (v) {
    case 0xe8:
    case 0xf3:
        s->aux_pending = v;
        aux_reply(s, PS2_ACK);
        break;
    case 0xe6: /* scaling 1:1 / 2:1, stream/remote mode: no motion anyway */
    case 0xe7:
    case 0xea:
    case 0xf0:
        aux_reply(s, PS2_ACK);
        break;
    case 0xe9: /* status request */
        aux_reply(s, PS2_ACK);
        aux_reply(s, s->aux_enabled ? 0x20 : 0x00);
        aux_reply(s, s->aux_resolution);
        aux_reply(s, s->aux_rate);
        break;
    case 0xeb: /* read data: no movement */
        aux_reply(s, PS2_ACK);
        aux_reply(s, 0x08);
        aux_reply(s, 0x00);
        aux_reply(s, 0x00);
        break;
    case 0xf2: /* identify: standard PS/2 mouse */
        aux_reply(s, PS2_ACK);
        aux_reply(s, 0x00);
        break;
    case 0xf4:
        s->aux_enabled = 1;
        aux_reply(s, PS2_ACK);
        break;
    case 0xf5:
        s->aux_enabled = 0;
        aux_reply(s, PS2_ACK);
        break;
    case 0xf6:
        aux_defaults(s);
        aux_reply(s, PS2_ACK);
        break;
    case 0xff:
        aux_defaults(s);
        aux_reply(s, PS2_ACK);
        aux_reply(s, PS2_BAT_OK);
        aux_reply(s, 0x00);
        break;
    default:
        aux_reply(s, PS2_RESEND);
        break;
    }
}

static void write_command(struct i8042_state *s, uint8_t cmd)
{
    s->pending = 0;
    if (cmd >= CMD_PULSE_FIRST) {
        /* Bits 0-3 of the command are the output bits left high; only
         * bit 0 (CPU reset) has an effect: 0xfe resets, 0xff is a no-op. */
        if (!(cmd & 1) && s->ops && s->ops->request_reset) {
            s->ops->request_reset(s->opaque);
        }
        return;
    }
    switch (cmd) {
    case CMD_READ_CCB:
        kbd_reply(s, s->ccb);
        break;
    case CMD_WRITE_CCB:
    case CMD_WRITE_OUTPUT:
    case CMD_WRITE_KBD_OBUF:
    case CMD_WRITE_AUX_OBUF:
    case CMD_WRITE_AUX:
        s->pending = cmd;
        break;
    case CMD_AUX_DISABLE:
        s->ccb |= I8042_CCB_AUX_DISABLE;
        break;
    case CMD_AUX_ENABLE:
        s->ccb &= ~I8042_CCB_AUX_DISABLE;
        break;
    case CMD_AUX_TEST:
    case CMD_KBD_TEST:
        kbd_reply(s, 0x00); /* no clock/data line faults */
        break;
    case CMD_SELF_TEST:
        s->status |= I8042_STS_SYS;
        kbd_reply(s, 0x55);
        break;
    case CMD_KBD_DISABLE:
        s->ccb |= I8042_CCB_KBD_DISABLE;
        break;
    case CMD_KBD_ENABLE:
        s->ccb &= ~I8042_CCB_KBD_DISABLE;
        break;
    case CMD_READ_INPUT:
        kbd_reply(s, 0x80); /* keyboard not inhibited */
        break;
    case CMD_READ_OUTPUT:
        kbd_reply(s, output_port(s));
        break;
    case CMD_A20_OFF:
        s->outport &= ~I8042_OUT_A20;
        break;
    case CMD_A20_ON:
        s->outport |= I8042_OUT_A20;
        break;
    case CMD_READ_TEST:
        kbd_reply(s, 0x00);
        break;
    default:
        log_guest(s, "unsupported controller command", cmd);
        break;
    }
}

static void write_data(struct i8042_state *s, uint8_t v)
{
    uint8_t pending = s->pending;

    s->pending = 0;
    switch (pending) {
    case CMD_WRITE_CCB:
        /* The status SYS flag comes from the self test only (QEMU). */
        s->ccb = v;
        break;
    case CMD_WRITE_OUTPUT:
        write_outport(s, v);
        break;
    case CMD_WRITE_KBD_OBUF:
        kbd_reply(s, v);
        break;
    case CMD_WRITE_AUX_OBUF:
        aux_reply(s, v); /* AUX loopback: Linux's probe relies on it */
        break;
    case CMD_WRITE_AUX:
        /* Writing to a device enables its port (as the 8042 and QEMU). */
        s->ccb &= ~I8042_CCB_AUX_DISABLE;
        aux_write(s, v);
        break;
    default:
        s->ccb &= ~I8042_CCB_KBD_DISABLE;
        kbd_write(s, v);
        break;
    }
}

uint8_t i8042_core_read(struct i8042_state *s, unsigned port)
{
    uint8_t v;

    switch (port) {
    case I8042_DATA:
        v = read_data(s);
        break;
    case I8042_CMD:
        v = s->status;
        break;
    default:
        return 0xff;
    }
    update(s);
    return v;
}

void i8042_core_write(struct i8042_state *s, unsigned port, uint8_t val)
{
    switch (port) {
    case I8042_DATA:
        s->status &= ~I8042_STS_CMD;
        write_data(s, val);
        break;
    case I8042_CMD:
        s->status |= I8042_STS_CMD;
        write_command(s, val);
        break;
    default:
        return;
    }
    update(s);
}

void i8042_core_reset(struct i8042_state *s)
{
    s->status = I8042_STS_CMD | I8042_STS_UNLOCKED;
    s->ccb = I8042_CCB_KBD_INT | I8042_CCB_AUX_INT;
    s->outport = 0xcc | I8042_OUT_A20 | I8042_OUT_RESET;
    s->pending = 0;
    s->last_data = 0;
    memset(s->q_data, 0, sizeof(s->q_data));
    memset(s->q_aux, 0, sizeof(s->q_aux));
    s->q_head = 0;
    s->q_count = 0;
    kbd_defaults(s);
    aux_defaults(s);
    update(s);
}

void i8042_core_init(struct i8042_state *s, const struct i8042_ops *ops,
                     void *opaque, struct vlog *log)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->opaque = opaque;
    s->log = log;
    i8042_core_reset(s);
}

static bool one_of(uint8_t v, const uint8_t *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i] == v) {
            return true;
        }
    }
    return false;
}

static bool i8042_core_post_load(void *opaque, Error **errp)
{
    static const uint8_t ctl_pending[] = {0,
                                          CMD_WRITE_CCB,
                                          CMD_WRITE_OUTPUT,
                                          CMD_WRITE_KBD_OBUF,
                                          CMD_WRITE_AUX_OBUF,
                                          CMD_WRITE_AUX};
    static const uint8_t kbd_pending[] = {0, 0xed, 0xf3, 0xf0};
    static const uint8_t aux_pending[] = {0, 0xe8, 0xf3};
    struct i8042_state *s = opaque;

    if (s->q_head >= I8042_QUEUE_LEN || s->q_count > I8042_QUEUE_LEN) {
        error_setg(errp, "queue head %u / count %u outside %d entries",
                   s->q_head, s->q_count, I8042_QUEUE_LEN);
        return false;
    }
    for (unsigned i = 0; i < I8042_QUEUE_LEN; i++) {
        if (s->q_aux[i] > 1) {
            error_setg(errp, "q_aux[%u] is %u, not 0 or 1", i, s->q_aux[i]);
            return false;
        }
    }
    if (!one_of(s->pending, ctl_pending, sizeof(ctl_pending))) {
        error_setg(errp, "pending controller command 0x%02x takes no data",
                   s->pending);
        return false;
    }
    if (!one_of(s->kbd_pending, kbd_pending, sizeof(kbd_pending)) ||
        !one_of(s->aux_pending, aux_pending, sizeof(aux_pending))) {
        error_setg(errp,
                   "pending device command 0x%02x/0x%02x takes no "
                   "parameter",
                   s->kbd_pending, s->aux_pending);
        return false;
    }
    if (s->kbd_scan_set < 1 || s->kbd_scan_set > 3) {
        error_setg(errp, "scan code set %u is not 1..3", s->kbd_scan_set);
        return false;
    }
    if (s->kbd_enabled > 1 || s->aux_enabled > 1) {
        error_setg(errp, "enable flags %u/%u are not 0 or 1", s->kbd_enabled,
                   s->aux_enabled);
        return false;
    }
    if (!(s->outport & I8042_OUT_RESET)) {
        error_setg(errp, "output port 0x%02x holds the CPU in reset",
                   s->outport);
        return false;
    }
    /* OBF/AUX_OBF are derived from the queue, not trusted. */
    s->status &= ~(I8042_STS_OBF | I8042_STS_AUX_OBF | I8042_STS_IBF);
    update(s);
    i8042_core_sync_irq(s);
    return true;
}

static const struct vmstate_field i8042_core_fields[] = {
    VMS_U8(struct i8042_state, status),
    VMS_U8(struct i8042_state, ccb),
    VMS_U8(struct i8042_state, outport),
    VMS_U8(struct i8042_state, pending),
    VMS_U8(struct i8042_state, last_data),
    VMS_U8_ARRAY(struct i8042_state, q_data, I8042_QUEUE_LEN),
    VMS_U8_ARRAY(struct i8042_state, q_aux, I8042_QUEUE_LEN),
    VMS_U8(struct i8042_state, q_head),
    VMS_U8(struct i8042_state, q_count),
    VMS_U8(struct i8042_state, kbd_pending),
    VMS_U8(struct i8042_state, kbd_scan_set),
    VMS_U8(struct i8042_state, kbd_leds),
    VMS_U8(struct i8042_state, kbd_enabled),
    VMS_U8(struct i8042_state, aux_pending),
    VMS_U8(struct i8042_state, aux_rate),
    VMS_U8(struct i8042_state, aux_resolution),
    VMS_U8(struct i8042_state, aux_enabled),
    VMS_END,
};

const struct vmstate_desc i8042_core_vmsd = {
    .name = "i8042-core",
    .version = 1,
    .fields = i8042_core_fields,
    .post_load = i8042_core_post_load,
};

/* ---- device glue: ports 0x60/0x64, GSIs, machine reset ---------------- */

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

struct i8042_dev {
    struct device dev; /* first */
    uint8_t kbd_irq, aux_irq;
    struct irq_line *kbd_line, *aux_line; /* the board's GSIs */
    struct i8042_state core;
    struct machine *m;
};

static uint64_t i8042_data_read(void *opaque, uint64_t off, unsigned size)
{
    struct i8042_dev *d = opaque;

    return i8042_core_read(&d->core, off == 0 ? I8042_DATA : 0xff);
}

static void i8042_data_write(void *opaque, uint64_t off, uint64_t val,
                             unsigned size)
{
    struct i8042_dev *d = opaque;

    if (off == 0) {
        i8042_core_write(&d->core, I8042_DATA, val);
    }
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t off, unsigned size)
{
    struct i8042_dev *d = opaque;

    return i8042_core_read(&d->core, off == 0 ? I8042_CMD : 0xff);
}

static void i8042_cmd_write(void *opaque, uint64_t off, uint64_t val,
                            unsigned size)
{
    struct i8042_dev *d = opaque;

    if (off == 0) {
        i8042_core_write(&d->core, I8042_CMD, val);
    }
}

static const struct io_ops i8042_data_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
    .min_size = 1,
    .max_size = 1,
};

static const struct io_ops i8042_cmd_ops = {
    .read = i8042_cmd_read,
    .write = i8042_cmd_write,
    .min_size = 1,
    .max_size = 1,
};

static void i8042_set_irq(void *opaque, unsigned line, bool level)
{
    struct i8042_dev *d = opaque;

    irq_set(line == I8042_LINE_AUX ? d->aux_line : d->kbd_line, level);
}

static void i8042_request_reset(void *opaque)
{
    struct i8042_dev *d = opaque;

    /* The main loop carries it out (and honours -no-reboot). */
    machine_request(d->m, REQ_RESET, SHUTDOWN_CAUSE_GUEST_RESET);
}

static const struct i8042_ops i8042_dev_ops = {
    .set_irq = i8042_set_irq,
    .request_reset = i8042_request_reset,
};

static bool i8042_realize(struct device *dev, struct machine *m, Error **errp)
{
    struct i8042_dev *d = (struct i8042_dev *)dev;

    if (d->kbd_irq > 15 || d->aux_irq > 15) {
        error_setg(errp, "i8042: maximum value for kbd-irq and mouse-irq "
                         "is 15");
        return false;
    }
    d->kbd_line = machine_gsi_line(m, d->kbd_irq, errp);
    d->aux_line = d->kbd_line ? machine_gsi_line(m, d->aux_irq, errp) : NULL;
    if (!d->aux_line) {
        error_prepend(errp, "i8042: ");
        return false;
    }
    d->m = m;
    i8042_core_init(&d->core, &i8042_dev_ops, d, &m->log);
    /* device_destroy() unmaps both (the device owns them). */
    return device_map(dev, m->pio, I8042_DATA_PORT, 1, &i8042_data_ops,
                      "i8042-data", errp) &&
           device_map(dev, m->pio, I8042_CMD_PORT, 1, &i8042_cmd_ops,
                      "i8042-cmd", errp);
}

/* device_reset() holds the device lock. */
static void i8042_reset(struct device *dev)
{
    struct i8042_dev *d = (struct i8042_dev *)dev;

    i8042_core_reset(&d->core);
}

static const struct vmstate_field i8042_dev_fields[] = {
    {"core", VMS_T_STRUCT, offsetof(struct i8042_dev, core),
     sizeof(struct i8042_state), 1, &i8042_core_vmsd},
    VMS_END,
};

static const struct vmstate_desc i8042_dev_vmsd = {
    .name = "i8042",
    .version = 1,
    .fields = i8042_dev_fields,
};

static const struct prop i8042_props[] = {
    {"kbd-irq", PROP_U8, offsetof(struct i8042_dev, kbd_irq), "1",
     "keyboard IRQ"},
    {"mouse-irq", PROP_U8, offsetof(struct i8042_dev, aux_irq), "12",
     "mouse (AUX) IRQ"},
    PROP_END,
};

const struct device_class i8042_class = {
    .name = "i8042",
    .desc = "PS/2 keyboard controller (reset line, probe answers)",
    .size = sizeof(struct i8042_dev),
    .props = i8042_props,
    .user_creatable = false,
    .realize = i8042_realize,
    .reset = i8042_reset,
    .vmsd = &i8042_dev_vmsd,
};
