/* SPDX-License-Identifier: MIT */
/*
 * serial.h: 16550A UART (PC16550D datasheet; QEMU's -device isa-serial).
 * The register model is a core (struct serial_state) with callbacks for
 * the IRQ line, output and input flow control, so unit tests and fuzzers
 * drive it without a chardev or KVM; hw/char/serial.c also holds the thin
 * device glue (class "isa-serial": port I/O, chardev, GSI).
 *
 * Lock model: the core has no lock of its own.  The glue runs every core
 * call under the device lock (dev->lock): register accesses get it from
 * system/memory.c, chardev input takes it on the main loop.  Output
 * (chardev_write) and chardev_accept_input are called WITH the device lock
 * held, so a chardev must not hold its own lock while calling a frontend's
 * can_read/read/event.
 */
#ifndef HW_CHAR_SERIAL_H
#define HW_CHAR_SERIAL_H

#include "util/common.h"
#include "util/error.h"

struct vmstate_desc;
struct device_class;

/* -device isa-serial */
extern const struct device_class serial_isa_class;

#define SERIAL_FIFO_LEN 16

/* Register offsets (DLAB=0 names; DLL/DLM share 0/1 when LCR.DLAB). */
enum {
    SERIAL_RBR = 0, /* read: receive buffer; write: THR */
    SERIAL_IER = 1,
    SERIAL_IIR = 2, /* read: IIR; write: FCR */
    SERIAL_LCR = 3,
    SERIAL_MCR = 4,
    SERIAL_LSR = 5,
    SERIAL_MSR = 6,
    SERIAL_SCR = 7,
};

#define SERIAL_IER_RDI 0x01  /* received data available */
#define SERIAL_IER_THRI 0x02 /* transmitter holding register empty */
#define SERIAL_IER_RLSI 0x04 /* receiver line status */
#define SERIAL_IER_MSI 0x08  /* modem status */

#define SERIAL_IIR_NO_INT 0x01
#define SERIAL_IIR_MSI 0x00
#define SERIAL_IIR_THRI 0x02
#define SERIAL_IIR_RDI 0x04
#define SERIAL_IIR_RLSI 0x06
#define SERIAL_IIR_CTI 0x0c /* character timeout */
#define SERIAL_IIR_FIFO 0xc0

#define SERIAL_FCR_FE 0x01
#define SERIAL_FCR_CLEAR_RX 0x02
#define SERIAL_FCR_CLEAR_TX 0x04
#define SERIAL_FCR_DMA 0x08
#define SERIAL_FCR_TRIGGER 0xc0

#define SERIAL_LCR_DLAB 0x80

#define SERIAL_MCR_DTR 0x01
#define SERIAL_MCR_RTS 0x02
#define SERIAL_MCR_OUT1 0x04
#define SERIAL_MCR_OUT2 0x08
#define SERIAL_MCR_LOOP 0x10

#define SERIAL_LSR_DR 0x01
#define SERIAL_LSR_OE 0x02
#define SERIAL_LSR_PE 0x04
#define SERIAL_LSR_FE 0x08
#define SERIAL_LSR_BI 0x10
#define SERIAL_LSR_THRE 0x20
#define SERIAL_LSR_TEMT 0x40
#define SERIAL_LSR_ERRORS                                                      \
    (SERIAL_LSR_OE | SERIAL_LSR_PE | SERIAL_LSR_FE | SERIAL_LSR_BI)

#define SERIAL_MSR_DCTS 0x01
#define SERIAL_MSR_DDSR 0x02
#define SERIAL_MSR_TERI 0x04
#define SERIAL_MSR_DDCD 0x08
#define SERIAL_MSR_DELTAS 0x0f
#define SERIAL_MSR_CTS 0x10
#define SERIAL_MSR_DSR 0x20
#define SERIAL_MSR_RI 0x40
#define SERIAL_MSR_DCD 0x80

struct serial_ops {
    /* The interrupt output changed level (called only on changes, and
     * once by serial_core_sync_irq). */
    void (*set_irq)(void *opaque, bool level);
    /* A byte the guest transmitted (not in loopback).  NULL: dropped. */
    void (*output)(void *opaque, const uint8_t *buf, size_t len);
    /* Room appeared after serial_core_can_receive() returned 0.  May be
     * NULL. */
    void (*accept_input)(void *opaque);
};

struct serial_state {
    /* Guest-visible state (all in serial_core_vmsd). */
    uint16_t divisor;
    uint8_t ier, fcr, lcr, mcr, lsr, msr, scr;
    uint8_t rx_fifo[SERIAL_FIFO_LEN]; /* ring, FIFO mode */
    uint8_t rx_head, rx_count;        /* without FIFO: count 0/1 of rbr */
    bool thr_ipending; /* THRE interrupt latched (cleared by IIR read) */
    uint8_t rbr;       /* 16450-mode holding register */

    /* Host side, not migrated. */
    bool irq_level;
    bool rx_starved; /* can_receive said 0; tell accept_input later */
    const struct serial_ops *ops;
    void *opaque;
};

/* The description of the core's state, for embedding as a struct field. */
extern const struct vmstate_desc serial_core_vmsd;

/* Initialises to the reset state; ops/opaque are kept across resets. */
void serial_core_init(struct serial_state *s, const struct serial_ops *ops,
                      void *opaque);
/* Power-on/reset values (PC16550D table "UART Reset Configuration"). */
void serial_core_reset(struct serial_state *s);
/* Guest-controlled: reg (any value; >7 reads 0xff / is ignored), val. */
uint8_t serial_core_read(struct serial_state *s, unsigned reg);
void serial_core_write(struct serial_state *s, unsigned reg, uint8_t val);
/* Input side (chardev): how many bytes fit now; then deliver them.  Bytes
 * beyond the room are overruns (LSR.OE), never buffered elsewhere. */
size_t serial_core_can_receive(struct serial_state *s);
void serial_core_receive(struct serial_state *s, const uint8_t *buf,
                         size_t len);
/* A break condition on the line (chardev Ctrl-A b). */
void serial_core_break(struct serial_state *s);
/* Drives the IRQ callback with the current level (after a load). */
void serial_core_sync_irq(struct serial_state *s);
/* Current IIR value without the read side effect (for tests, dumps). */
uint8_t serial_core_peek_iir(const struct serial_state *s);

#endif
