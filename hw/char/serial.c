/* SPDX-License-Identifier: MIT */
/*
 * serial.c: 16550A UART (PC16550D datasheet), QEMU's "isa-serial".
 * The core is the register model with 16-byte RX FIFO, interrupt priority
 * (line status > RX data / timeout > THR empty > modem status), loopback
 * and overrun.  Transmission is immediate: a THR write goes straight to
 * the chardev, so THRE/TEMT are set again before the write returns and the
 * THRE interrupt is latched the way Linux's 8250 driver expects (set when
 * THR becomes empty or IER.THRI is enabled with THR empty; cleared by an
 * IIR read that reports it or by a THR write).
 *
 * Input arrives in batches on the main loop, so the line is idle between
 * batches: the FIFO character timeout (IIR 0x0c) is reported as soon as
 * data below the trigger level sits in the FIFO, instead of after four
 * character times.  There is no baud-rate timing, and no parity/framing
 * errors (the backends are byte streams); the LSR "error in RX FIFO" bit
 * (0x80) is always 0.
 *
 * The device glue at the end maps 8 ports, attaches the chardev and drives
 * the GSI through KVM.
 */
#include "util/common.h"
#include "hw/char/serial.h"
#include "hw/char/chardev.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/memory.h"

/* Without a modem the lines read as connected, as QEMU reports them. */
#define MSR_IDLE_LINES (SERIAL_MSR_DCD | SERIAL_MSR_DSR | SERIAL_MSR_CTS)

static bool fifo_enabled(const struct serial_state *s)
{
    return s->fcr & SERIAL_FCR_FE;
}

static unsigned rx_capacity(const struct serial_state *s)
{
    return fifo_enabled(s) ? SERIAL_FIFO_LEN : 1;
}

static unsigned trigger_level(const struct serial_state *s)
{
    static const uint8_t levels[4] = {1, 4, 8, 14};
    return levels[(s->fcr & SERIAL_FCR_TRIGGER) >> 6];
}

static uint8_t compute_iir(const struct serial_state *s)
{
    uint8_t id = SERIAL_IIR_NO_INT;

    if ((s->ier & SERIAL_IER_RLSI) && (s->lsr & SERIAL_LSR_ERRORS)) {
        id = SERIAL_IIR_RLSI;
    } else if ((s->ier & SERIAL_IER_RDI) && s->rx_count &&
               (!fifo_enabled(s) || s->rx_count >= trigger_level(s))) {
        id = SERIAL_IIR_RDI;
    } else if ((s->ier & SERIAL_IER_RDI) && s->rx_count) {
        /* FIFO mode, below the trigger level, line idle: timeout. */
        id = SERIAL_IIR_CTI;
    } else if ((s->ier & SERIAL_IER_THRI) && s->thr_ipending) {
        id = SERIAL_IIR_THRI;
    } else if ((s->ier & SERIAL_IER_MSI) && (s->msr & SERIAL_MSR_DELTAS)) {
        id = SERIAL_IIR_MSI;
    }
    return id | (fifo_enabled(s) ? SERIAL_IIR_FIFO : 0);
}

uint8_t serial_core_peek_iir(const struct serial_state *s)
{
    return compute_iir(s);
}

static void update_irq(struct serial_state *s)
{
    bool level = !(compute_iir(s) & SERIAL_IIR_NO_INT);

    if (level != s->irq_level) {
        s->irq_level = level;
        if (s->ops && s->ops->set_irq) {
            s->ops->set_irq(s->opaque, level);
        }
    }
}

void serial_core_sync_irq(struct serial_state *s)
{
    s->irq_level = !(compute_iir(s) & SERIAL_IIR_NO_INT);
    if (s->ops && s->ops->set_irq) {
        s->ops->set_irq(s->opaque, s->irq_level);
    }
}

static void maybe_accept_input(struct serial_state *s)
{
    if (s->rx_starved && serial_core_can_receive(s)) {
        s->rx_starved = false;
        if (s->ops && s->ops->accept_input) {
            s->ops->accept_input(s->opaque);
        }
    }
}

static void rx_clear(struct serial_state *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->lsr &= ~SERIAL_LSR_DR;
}

/* One received character, from the line or from loopback. */
static void rx_push(struct serial_state *s, uint8_t c)
{
    if (!fifo_enabled(s)) {
        /* 16450 mode: one holding register; a new character overwrites
         * an unread one. */
        if (s->rx_count) {
            s->lsr |= SERIAL_LSR_OE;
        }
        s->rbr = c;
        s->rx_count = 1;
        s->lsr |= SERIAL_LSR_DR;
        return;
    }
    if (s->rx_count >= SERIAL_FIFO_LEN) {
        /* The shift register is overwritten, the FIFO kept. */
        s->lsr |= SERIAL_LSR_OE;
        return;
    }
    s->rx_fifo[(s->rx_head + s->rx_count) % SERIAL_FIFO_LEN] = c;
    s->rx_count++;
    s->lsr |= SERIAL_LSR_DR;
}

static uint8_t rx_pop(struct serial_state *s)
{
    uint8_t c;

    if (!fifo_enabled(s)) {
        /* The holding register keeps its character after the read. */
        s->rx_count = 0;
        s->lsr &= ~(SERIAL_LSR_DR | SERIAL_LSR_BI); /* BI: as QEMU */
        return s->rbr;
    }
    if (!s->rx_count) {
        return 0; /* an empty FIFO reads 0, as in QEMU */
    }
    c = s->rx_fifo[s->rx_head];
    s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_LEN;
    s->rx_count--;
    if (!s->rx_count) {
        s->lsr &= ~(SERIAL_LSR_DR | SERIAL_LSR_BI);
    }
    return c;
}

/* Sets MSR's line bits, latching the delta bits for what changed. */
static void set_modem_lines(struct serial_state *s, uint8_t lines)
{
    uint8_t old = s->msr & 0xf0, changed = old ^ lines;
    uint8_t deltas = s->msr & SERIAL_MSR_DELTAS;

    if (changed & SERIAL_MSR_CTS) {
        deltas |= SERIAL_MSR_DCTS;
    }
    if (changed & SERIAL_MSR_DSR) {
        deltas |= SERIAL_MSR_DDSR;
    }
    if ((old & SERIAL_MSR_RI) && !(lines & SERIAL_MSR_RI)) {
        deltas |= SERIAL_MSR_TERI; /* trailing edge only */
    }
    if (changed & SERIAL_MSR_DCD) {
        deltas |= SERIAL_MSR_DDCD;
    }
    s->msr = lines | deltas;
}

/* In loopback the modem outputs feed the modem inputs. */
static uint8_t loopback_lines(uint8_t mcr)
{
    uint8_t l = 0;

    if (mcr & SERIAL_MCR_RTS) {
        l |= SERIAL_MSR_CTS;
    }
    if (mcr & SERIAL_MCR_DTR) {
        l |= SERIAL_MSR_DSR;
    }
    if (mcr & SERIAL_MCR_OUT1) {
        l |= SERIAL_MSR_RI;
    }
    if (mcr & SERIAL_MCR_OUT2) {
        l |= SERIAL_MSR_DCD;
    }
    return l;
}

void serial_core_reset(struct serial_state *s)
{
    s->divisor = 12; /* 9600 baud; the latch has no defined reset value */
    s->ier = 0;
    s->fcr = 0;
    s->lcr = 0;
    /* OUT2 set, as QEMU resets it (it does not gate the IRQ here). */
    s->mcr = SERIAL_MCR_OUT2;
    s->lsr = SERIAL_LSR_THRE | SERIAL_LSR_TEMT;
    s->msr = MSR_IDLE_LINES;
    s->scr = 0;
    s->rbr = 0;
    memset(s->rx_fifo, 0, sizeof(s->rx_fifo));
    s->rx_head = 0;
    s->rx_count = 0;
    s->thr_ipending = false;
    update_irq(s);
    maybe_accept_input(s);
}

void serial_core_init(struct serial_state *s, const struct serial_ops *ops,
                      void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->opaque = opaque;
    serial_core_reset(s);
}

static void write_thr(struct serial_state *s, uint8_t val)
{
    /* The write clears the THRE interrupt; the line drops before the
     * (immediate) transmission raises it again, so an edge-triggered PIC
     * sees a fresh edge. */
    s->thr_ipending = false;
    s->lsr &= ~(SERIAL_LSR_THRE | SERIAL_LSR_TEMT);
    update_irq(s);
    if (s->mcr & SERIAL_MCR_LOOP) {
        rx_push(s, val);
    } else if (s->ops && s->ops->output) {
        s->ops->output(s->opaque, &val, 1);
    }
    s->lsr |= SERIAL_LSR_THRE | SERIAL_LSR_TEMT;
    s->thr_ipending = true;
}

static void write_ier(struct serial_state *s, uint8_t val)
{
    uint8_t old = s->ier;

    s->ier = val & 0x0f;
    if ((s->ier & SERIAL_IER_THRI) && !(old & SERIAL_IER_THRI) &&
        (s->lsr & SERIAL_LSR_THRE)) {
        /* Enabling THRI with THR empty raises it at once (Linux relies on
         * this to start transmission and to probe for UART_BUG_THRE). */
        s->thr_ipending = true;
    } else if (!(s->ier & SERIAL_IER_THRI)) {
        s->thr_ipending = false;
    }
}

/* QEMU's rules, which differ from the datasheet where FE=0: the clear
 * bits act and the trigger/DMA bits are kept even then (they only matter
 * once FE is set). */
static void write_fcr(struct serial_state *s, uint8_t val)
{
    if ((val ^ s->fcr) & SERIAL_FCR_FE) {
        /* Entering or leaving FIFO mode empties both FIFOs. */
        val |= SERIAL_FCR_CLEAR_RX | SERIAL_FCR_CLEAR_TX;
    }
    if (val & SERIAL_FCR_CLEAR_RX) {
        rx_clear(s);
        s->lsr &= ~SERIAL_LSR_BI;
    }
    if (val & SERIAL_FCR_CLEAR_TX) {
        /* An emptied transmitter is a THR-empty event. */
        s->lsr |= SERIAL_LSR_THRE;
        s->thr_ipending = true;
    }
    s->fcr = val & (SERIAL_FCR_FE | SERIAL_FCR_DMA | SERIAL_FCR_TRIGGER);
}

static void write_mcr(struct serial_state *s, uint8_t val)
{
    s->mcr = val & 0x1f;
    set_modem_lines(s, (s->mcr & SERIAL_MCR_LOOP) ? loopback_lines(s->mcr)
                                                  : MSR_IDLE_LINES);
}

void serial_core_write(struct serial_state *s, unsigned reg, uint8_t val)
{
    bool dlab = s->lcr & SERIAL_LCR_DLAB;

    switch (reg) {
    case SERIAL_RBR:
        if (dlab) {
            s->divisor = (s->divisor & 0xff00) | val;
        } else {
            write_thr(s, val);
        }
        break;
    case SERIAL_IER:
        if (dlab) {
            s->divisor = (s->divisor & 0x00ff) | (uint16_t)val << 8;
        } else {
            write_ier(s, val);
        }
        break;
    case SERIAL_IIR:
        write_fcr(s, val);
        break;
    case SERIAL_LCR:
        s->lcr = val;
        break;
    case SERIAL_MCR:
        write_mcr(s, val);
        break;
    case SERIAL_SCR:
        s->scr = val;
        break;
    default:
        /* LSR and MSR are read-only (writes are for factory test). */
        break;
    }
    update_irq(s);
    maybe_accept_input(s);
}

uint8_t serial_core_read(struct serial_state *s, unsigned reg)
{
    bool dlab = s->lcr & SERIAL_LCR_DLAB;
    uint8_t v;

    switch (reg) {
    case SERIAL_RBR:
        v = dlab ? (s->divisor & 0xff) : rx_pop(s);
        break;
    case SERIAL_IER:
        v = dlab ? (s->divisor >> 8) : s->ier;
        break;
    case SERIAL_IIR:
        v = compute_iir(s);
        if ((v & 0x0f) == SERIAL_IIR_THRI) {
            s->thr_ipending = false;
        }
        break;
    case SERIAL_LCR:
        v = s->lcr;
        break;
    case SERIAL_MCR:
        v = s->mcr;
        break;
    case SERIAL_LSR:
        v = s->lsr;
        s->lsr &= ~SERIAL_LSR_ERRORS;
        break;
    case SERIAL_MSR:
        v = s->msr;
        s->msr &= ~SERIAL_MSR_DELTAS;
        break;
    case SERIAL_SCR:
        v = s->scr;
        break;
    default:
        return 0xff;
    }
    update_irq(s);
    maybe_accept_input(s);
    return v;
}

size_t serial_core_can_receive(struct serial_state *s)
{
    size_t room = 0;

    /* In loopback the receiver is disconnected from the line. */
    if (!(s->mcr & SERIAL_MCR_LOOP)) {
        room = rx_capacity(s) - MIN(s->rx_count, rx_capacity(s));
    }
    if (!room) {
        s->rx_starved = true;
    }
    return room;
}

void serial_core_receive(struct serial_state *s, const uint8_t *buf, size_t len)
{
    if (s->mcr & SERIAL_MCR_LOOP) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        rx_push(s, buf[i]);
    }
    update_irq(s);
}

void serial_core_break(struct serial_state *s)
{
    if (s->mcr & SERIAL_MCR_LOOP) {
        return;
    }
    /* A break loads a zero character along with BI. */
    rx_push(s, 0);
    s->lsr |= SERIAL_LSR_BI;
    update_irq(s);
}

static bool serial_core_post_load(void *opaque, Error **errp)
{
    struct serial_state *s = opaque;

    if (s->ier & 0xf0) {
        error_setg(errp, "ier 0x%02x has reserved bits set", s->ier);
        return false;
    }
    if (s->mcr & 0xe0) {
        error_setg(errp, "mcr 0x%02x has reserved bits set", s->mcr);
        return false;
    }
    if (s->fcr & ~(SERIAL_FCR_FE | SERIAL_FCR_DMA | SERIAL_FCR_TRIGGER)) {
        error_setg(errp, "fcr 0x%02x is not a value the UART can hold", s->fcr);
        return false;
    }
    if (s->rx_head >= SERIAL_FIFO_LEN) {
        error_setg(errp, "rx_head %u is outside the %d-byte FIFO", s->rx_head,
                   SERIAL_FIFO_LEN);
        return false;
    }
    if (s->rx_count > rx_capacity(s)) {
        error_setg(errp, "rx_count %u exceeds the receiver's capacity %u",
                   s->rx_count, rx_capacity(s));
        return false;
    }
    if (!!(s->lsr & SERIAL_LSR_DR) != (s->rx_count > 0)) {
        error_setg(errp, "lsr 0x%02x disagrees with rx_count %u", s->lsr,
                   s->rx_count);
        return false;
    }
    if ((s->lsr & (SERIAL_LSR_THRE | SERIAL_LSR_TEMT)) !=
        (SERIAL_LSR_THRE | SERIAL_LSR_TEMT)) {
        /* Transmission is immediate: a busy transmitter would never
         * finish and the guest would wait for THRE forever. */
        error_setg(errp, "lsr 0x%02x has the transmitter busy", s->lsr);
        return false;
    }
    if (s->lsr & 0x80) {
        error_setg(errp, "lsr 0x%02x has the RX FIFO error bit set", s->lsr);
        return false;
    }
    /* Any divisor is valid: the guest may leave 0 in the latch (between
     * its DLL and DLM writes, say), and nothing here divides by it. */
    s->rx_starved = true; /* let the backend ask can_receive again */
    serial_core_sync_irq(s);
    maybe_accept_input(s);
    return true;
}

static const struct vmstate_field serial_core_fields[] = {
    VMS_U16(struct serial_state, divisor),
    VMS_U8(struct serial_state, ier),
    VMS_U8(struct serial_state, fcr),
    VMS_U8(struct serial_state, lcr),
    VMS_U8(struct serial_state, mcr),
    VMS_U8(struct serial_state, lsr),
    VMS_U8(struct serial_state, msr),
    VMS_U8(struct serial_state, scr),
    VMS_U8_ARRAY(struct serial_state, rx_fifo, SERIAL_FIFO_LEN),
    VMS_U8(struct serial_state, rx_head),
    VMS_U8(struct serial_state, rx_count),
    VMS_BOOL(struct serial_state, thr_ipending),
    VMS_U8(struct serial_state, rbr),
    VMS_END,
};

const struct vmstate_desc serial_core_vmsd = {
    .name = "serial-core",
    .version = 1,
    .fields = serial_core_fields,
    .post_load = serial_core_post_load,
};

/* ---- device glue: -device isa-serial ---------------------------------- */

struct serial_dev {
    struct device dev; /* first */
    uint32_t index;
    uint32_t iobase;
    uint32_t irq;
    char *chardev_id;
    struct irq_line *irq_line; /* the board's GSI `irq` */
    struct serial_state core;
    struct machine *m;
    struct chardev *chr;
    bool attached;
};

#define SERIAL_NR_PORTS 8
/* "unset" for index, iobase and irq, as QEMU's -1 */
#define SERIAL_AUTO UINT32_MAX

/* COM1..COM4: where index=N puts a port whose iobase/irq are not given */
static const struct {
    uint16_t iobase;
    uint8_t irq;
} serial_com_ports[] = {{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}};

static uint64_t serial_io_read(void *opaque, uint64_t off, unsigned size)
{
    struct serial_dev *d = opaque;

    if (off >= SERIAL_NR_PORTS) {
        return 0xff;
    }
    return serial_core_read(&d->core, off);
}

static void serial_io_write(void *opaque, uint64_t off, uint64_t val,
                            unsigned size)
{
    struct serial_dev *d = opaque;

    if (off < SERIAL_NR_PORTS) {
        serial_core_write(&d->core, off, val);
    }
}

static const struct io_ops serial_io_ops = {
    .read = serial_io_read,
    .write = serial_io_write,
    .min_size = 1,
    .max_size = 1,
};

static void serial_set_irq(void *opaque, bool level)
{
    struct serial_dev *d = opaque;

    irq_set(d->irq_line, level);
}

static void serial_output(void *opaque, const uint8_t *buf, size_t len)
{
    struct serial_dev *d = opaque;

    if (d->chr) {
        /* Never blocks; what the backend cannot take is dropped there. */
        chardev_write(d->chr, buf, len);
    }
}

static void serial_accept_input(void *opaque)
{
    struct serial_dev *d = opaque;

    if (d->chr) {
        chardev_accept_input(d->chr);
    }
}

static const struct serial_ops serial_dev_ops = {
    .set_irq = serial_set_irq,
    .output = serial_output,
    .accept_input = serial_accept_input,
};

/* chardev callbacks: main loop thread, so take the device lock. */
static size_t serial_fe_can_read(void *opaque)
{
    struct serial_dev *d = opaque;
    size_t n;

    g_mutex_lock(&d->dev.lock);
    n = serial_core_can_receive(&d->core);
    g_mutex_unlock(&d->dev.lock);
    return n;
}

static void serial_fe_read(void *opaque, const uint8_t *buf, size_t len)
{
    struct serial_dev *d = opaque;

    g_mutex_lock(&d->dev.lock);
    serial_core_receive(&d->core, buf, len);
    g_mutex_unlock(&d->dev.lock);
}

static void serial_fe_event(void *opaque, enum chardev_event ev)
{
    struct serial_dev *d = opaque;

    if (ev == CHARDEV_BREAK) {
        g_mutex_lock(&d->dev.lock);
        serial_core_break(&d->core);
        g_mutex_unlock(&d->dev.lock);
    }
}

static bool serial_realize(struct device *dev, struct machine *m, Error **errp)
{
    struct serial_dev *d = (struct serial_dev *)dev;
    struct chardev_frontend fe = {
        .can_read = serial_fe_can_read,
        .read = serial_fe_read,
        .event = serial_fe_event,
        .opaque = d,
    };

    if (d->index == SERIAL_AUTO) {
        /* The next COM port: as many as there are isa-serial already. */
        d->index = 0;
        for (guint i = 0; m->devices && i < m->devices->len; i++) {
            struct device *o = g_ptr_array_index(m->devices, i);
            d->index += o->cls == &serial_isa_class;
        }
    }
    if (d->iobase == SERIAL_AUTO || d->irq == SERIAL_AUTO) {
        if (d->index >= ARRAY_SIZE(serial_com_ports)) {
            error_setg(errp,
                       "isa-serial: max. supported number of ISA "
                       "serial ports is %zu",
                       ARRAY_SIZE(serial_com_ports));
            return false;
        }
        if (d->iobase == SERIAL_AUTO) {
            d->iobase = serial_com_ports[d->index].iobase;
        }
        if (d->irq == SERIAL_AUTO) {
            d->irq = serial_com_ports[d->index].irq;
        }
    }
    if (d->iobase > 0x10000 - SERIAL_NR_PORTS) {
        error_setg(errp, "isa-serial: iobase 0x%" PRIx32 " is out of range",
                   d->iobase);
        return false;
    }
    if (d->irq > 15) {
        error_setg(errp, "isa-serial: maximum value for irq is 15");
        return false;
    }
    d->irq_line = machine_gsi_line(m, d->irq, errp);
    if (!d->irq_line) {
        error_prepend(errp, "isa-serial: ");
        return false;
    }
    d->m = m;
    serial_core_init(&d->core, &serial_dev_ops, d);
    if (d->chardev_id && *d->chardev_id) {
        d->chr = machine_find_chardev(m, d->chardev_id);
        if (!d->chr) {
            error_setg(errp,
                       "Property 'isa-serial.chardev' can't find value '%s'",
                       d->chardev_id);
            return false;
        }
        if (!chardev_attach(d->chr, &fe, errp)) {
            d->chr = NULL;
            return false;
        }
        d->attached = true;
    }
    if (!device_map(dev, m->pio, d->iobase, SERIAL_NR_PORTS, &serial_io_ops,
                    "serial", errp)) {
        if (d->attached) {
            chardev_detach(d->chr, d);
            d->attached = false;
        }
        d->chr = NULL;
        return false;
    }
    return true;
}

static void serial_unrealize(struct device *dev)
{
    struct serial_dev *d = (struct serial_dev *)dev;

    if (d->attached) {
        chardev_detach(d->chr, d);
        d->attached = false;
    }
    d->chr = NULL;
}

/* Main thread with the vCPUs stopped; chardev input runs on this same
 * thread, so nothing else touches the core meanwhile. */
static void serial_reset(struct device *dev)
{
    struct serial_dev *d = (struct serial_dev *)dev;

    serial_core_reset(&d->core);
}

static const struct vmstate_field serial_dev_fields[] = {
    {"core", VMS_T_STRUCT, offsetof(struct serial_dev, core),
     sizeof(struct serial_state), 1, &serial_core_vmsd},
    VMS_END,
};

static const struct vmstate_desc serial_dev_vmsd = {
    .name = "serial",
    .version = 1,
    .fields = serial_dev_fields,
};

static const struct prop serial_props[] = {
    {"index", PROP_U32, offsetof(struct serial_dev, index), "0xffffffff",
     "COM port number 0..3 (default: the next one)"},
    {"iobase", PROP_U32, offsetof(struct serial_dev, iobase), "0xffffffff",
     "I/O port base (default: from index)"},
    {"irq", PROP_U32, offsetof(struct serial_dev, irq), "0xffffffff",
     "ISA IRQ (default: from index)"},
    {"chardev", PROP_CHARDEV, offsetof(struct serial_dev, chardev_id), NULL,
     "ID of a chardev to use as a backend"},
    PROP_END,
};

const struct device_class serial_isa_class = {
    .name = "isa-serial",
    .desc = "16550A UART",
    .size = sizeof(struct serial_dev),
    .props = serial_props,
    .user_creatable = true,
    .realize = serial_realize,
    .reset = serial_reset,
    .unrealize = serial_unrealize,
    .vmsd = &serial_dev_vmsd,
};
