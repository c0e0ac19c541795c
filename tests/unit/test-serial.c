/* SPDX-License-Identifier: MIT */
/*
 * test-serial.c: the 16550A core of hw/char/serial.c, driven directly
 * (no chardev, no KVM): every register, the interrupt priority and THRE
 * rules Linux's 8250 driver relies on, FIFO trigger levels, overrun,
 * loopback, break, reset, hostile register values and the vmstate checks.
 */
#include "util/common.h"
#include "hw/char/serial.h"
#include "migration/vmstate.h"
#include "hw/char/chardev.h"
#include "tests/unit/dev-harness.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct harness {
    struct serial_state s;
    bool level;
    unsigned rises, falls, irq_calls;
    GByteArray *out;
    unsigned accepts;
};

static void h_set_irq(void *opaque, bool level)
{
    struct harness *h = opaque;

    h->irq_calls++;
    if (level && !h->level) {
        h->rises++;
    }
    if (!level && h->level) {
        h->falls++;
    }
    h->level = level;
}

static void h_output(void *opaque, const uint8_t *buf, size_t len)
{
    struct harness *h = opaque;

    g_byte_array_append(h->out, buf, len);
}

static void h_accept(void *opaque)
{
    struct harness *h = opaque;

    h->accepts++;
}

static const struct serial_ops h_ops = {
    .set_irq = h_set_irq,
    .output = h_output,
    .accept_input = h_accept,
};

static struct harness *h_new(void)
{
    struct harness *h = g_new0(struct harness, 1);

    h->out = g_byte_array_new();
    serial_core_init(&h->s, &h_ops, h);
    return h;
}

static void h_free(struct harness *h)
{
    g_byte_array_unref(h->out);
    g_free(h);
}

#define RD(h, r) serial_core_read(&(h)->s, (r))
#define WR(h, r, v) serial_core_write(&(h)->s, (r), (v))

static void rx(struct harness *h, const char *text)
{
    serial_core_receive(&h->s, (const uint8_t *)text, strlen(text));
}

static void test_reset_values(void)
{
    struct harness *h = h_new();

    g_assert_cmphex(RD(h, SERIAL_IER), ==, 0x00);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x01);
    g_assert_cmphex(RD(h, SERIAL_LCR), ==, 0x00);
    g_assert_cmphex(RD(h, SERIAL_MCR), ==, 0x08); /* OUT2, as QEMU */
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x60);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0xb0);
    g_assert_cmphex(RD(h, SERIAL_SCR), ==, 0x00);
    g_assert_false(h->level);
    h_free(h);
}

static void test_scratch_and_ier(void)
{
    struct harness *h = h_new();

    for (unsigned v = 0; v < 256; v++) {
        WR(h, SERIAL_SCR, v);
        g_assert_cmphex(RD(h, SERIAL_SCR), ==, v);
    }
    /* Linux's probe: IER keeps only its low nibble */
    WR(h, SERIAL_IER, 0xff);
    g_assert_cmphex(RD(h, SERIAL_IER), ==, 0x0f);
    WR(h, SERIAL_IER, 0x00);
    g_assert_cmphex(RD(h, SERIAL_IER), ==, 0x00);
    /* LSR and MSR ignore writes */
    WR(h, SERIAL_LSR, 0x00);
    WR(h, SERIAL_MSR, 0x0f);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x60);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0xb0);
    h_free(h);
}

static void test_dlab(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_IER, 0x05);
    WR(h, SERIAL_LCR, 0x83);
    WR(h, SERIAL_RBR, 0x34);
    WR(h, SERIAL_IER, 0x12);
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 0x34);
    g_assert_cmphex(RD(h, SERIAL_IER), ==, 0x12);
    g_assert_cmphex(h->s.divisor, ==, 0x1234);
    g_assert_cmphex(RD(h, SERIAL_LCR), ==, 0x83);
    /* DLL writes did not transmit, DLM writes left IER alone */
    g_assert_cmpuint(h->out->len, ==, 0);
    WR(h, SERIAL_LCR, 0x03);
    g_assert_cmphex(RD(h, SERIAL_IER), ==, 0x05);
    WR(h, SERIAL_RBR, 'Q');
    g_assert_cmpuint(h->out->len, ==, 1);
    g_assert_cmphex(h->s.divisor, ==, 0x1234);
    h_free(h);
}

static void test_transmit(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_RBR, 'h');
    WR(h, SERIAL_RBR, 'i');
    g_assert_cmpmem(h->out->data, h->out->len, "hi", 2);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x60);
    /* no interrupt with IER clear */
    g_assert_false(h->level);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x01);
    h_free(h);
}

static void test_thre_interrupt(void)
{
    struct harness *h = h_new();

    /* enabling THRI with THR empty raises it at once */
    WR(h, SERIAL_IER, SERIAL_IER_THRI);
    g_assert_true(h->level);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x02);
    /* the IIR read that reported it cleared it */
    g_assert_false(h->level);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x01);
    /* a THR write makes THR empty again: a new THRE interrupt */
    WR(h, SERIAL_RBR, 'x');
    g_assert_true(h->level);
    /* a THR write while pending gives a fresh edge */
    h->rises = h->falls = 0;
    WR(h, SERIAL_RBR, 'y');
    g_assert_cmpuint(h->falls, ==, 1);
    g_assert_cmpuint(h->rises, ==, 1);
    g_assert_true(h->level);
    /* disabling THRI drops it; re-enabling raises it again */
    WR(h, SERIAL_IER, 0);
    g_assert_false(h->level);
    g_assert_false(h->s.thr_ipending);
    WR(h, SERIAL_IER, SERIAL_IER_THRI);
    g_assert_true(h->level);
    /* reading IIR when something of higher priority shows keeps THRE */
    WR(h, SERIAL_IER, SERIAL_IER_THRI | SERIAL_IER_RDI);
    rx(h, "a");
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x04);
    g_assert_true(h->s.thr_ipending);
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'a');
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x02);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x01);
    h_free(h);
}

/* The sequence serial8250_do_startup() uses to detect UART_BUG_THRE:
 * both IIR reads must show the interrupt. */
static void test_linux_thre_probe(void)
{
    struct harness *h = h_new();
    uint8_t iir1, iir, lsr;

    WR(h, SERIAL_IER, 0);
    lsr = RD(h, SERIAL_LSR);
    WR(h, SERIAL_IER, SERIAL_IER_THRI);
    iir1 = RD(h, SERIAL_IIR);
    WR(h, SERIAL_IER, 0);
    WR(h, SERIAL_IER, SERIAL_IER_THRI);
    iir = RD(h, SERIAL_IIR);
    WR(h, SERIAL_IER, 0);
    g_assert_true(lsr & SERIAL_LSR_TEMT);
    g_assert_false(iir1 & SERIAL_IIR_NO_INT);
    g_assert_false(iir & SERIAL_IIR_NO_INT);
    h_free(h);
}

/* autoconfig(): with the FIFO enabled IIR reads 0xc1 (16550A). */
static void test_linux_autoconfig(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_IIR, SERIAL_FCR_FE);
    g_assert_cmphex(RD(h, SERIAL_IIR) >> 6, ==, 3);
    WR(h, SERIAL_IIR, 0);
    g_assert_cmphex(RD(h, SERIAL_IIR) >> 6, ==, 0);
    /* loopback test: MCR = LOOP|OUT2|RTS gives MSR 0x90 */
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP | 0x0a);
    g_assert_cmphex(RD(h, SERIAL_MSR) & 0xf0, ==, 0x90);
    h_free(h);
}

static void test_receive_nofifo(void)
{
    struct harness *h = h_new();

    g_assert_cmpuint(serial_core_can_receive(&h->s), ==, 1);
    WR(h, SERIAL_IER, SERIAL_IER_RDI);
    rx(h, "k");
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x61);
    g_assert_true(h->level);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x04);
    g_assert_cmpuint(serial_core_can_receive(&h->s), ==, 0);
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'k');
    g_assert_false(h->level);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x60);
    /* the backend that was told 0 is told to try again */
    g_assert_cmpuint(h->accepts, ==, 1);
    /* a second read of an empty RBR gives the last byte */
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'k');
    /* overrun in 16450 mode: the new byte replaces the old one */
    rx(h, "ab");
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x63);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x61); /* OE clears on read */
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'b');
    h_free(h);
}

static void test_fifo_trigger_levels(void)
{
    static const struct {
        uint8_t fcr;
        unsigned level;
    } t[] = {{0x01, 1}, {0x41, 4}, {0x81, 8}, {0xc1, 14}};

    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        struct harness *h = h_new();
        char buf[32];

        WR(h, SERIAL_IER, SERIAL_IER_RDI);
        WR(h, SERIAL_IIR, t[i].fcr);
        g_assert_cmpuint(serial_core_can_receive(&h->s), ==, 16);
        for (unsigned k = 0; k < t[i].level - 1; k++) {
            buf[k] = 'a' + k;
        }
        buf[t[i].level - 1] = 0;
        rx(h, buf);
        if (t[i].level > 1) {
            /* below the trigger level, line idle: character timeout */
            g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xcc);
            g_assert_true(h->level);
        }
        rx(h, "Z");
        g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xc4);
        g_assert_true(h->level);
        g_assert_cmpuint(serial_core_can_receive(&h->s), ==, 16 - t[i].level);
        for (unsigned k = 0; k < t[i].level - 1; k++) {
            g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'a' + k);
        }
        g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'Z');
        g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xc1);
        g_assert_false(h->level);
        /* a single byte below the level times out too */
        if (t[i].level > 1) {
            rx(h, "q");
            g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xcc);
            g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'q');
            g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xc1);
        }
        h_free(h);
    }
}

static void test_fifo_overrun_and_rls(void)
{
    struct harness *h = h_new();
    const char *in = "0123456789abcdefXYZW";

    WR(h, SERIAL_IIR, 0xc1);
    WR(h, SERIAL_IER, SERIAL_IER_RDI | SERIAL_IER_RLSI);
    rx(h, in);
    g_assert_cmpuint(h->s.rx_count, ==, 16);
    /* line status outranks received data */
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xc6);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x63);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xc4);
    for (unsigned k = 0; k < 16; k++) {
        g_assert_cmphex(RD(h, SERIAL_RBR), ==, in[k]);
    }
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x60);
    g_assert_false(h->level);
    h_free(h);
}

static void test_fifo_clear(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_IIR, 0x01);
    rx(h, "abc");
    WR(h, SERIAL_IIR, 0x01 | SERIAL_FCR_CLEAR_RX);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x60);
    g_assert_cmpuint(h->s.rx_count, ==, 0);
    rx(h, "def");
    /* TX clear leaves RX, and is a THR-empty event (as QEMU) */
    WR(h, SERIAL_IER, SERIAL_IER_THRI);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xc2);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xc1);
    WR(h, SERIAL_IIR, 0x01 | SERIAL_FCR_CLEAR_TX);
    g_assert_cmpuint(h->s.rx_count, ==, 3);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xc2);
    WR(h, SERIAL_IER, 0);
    /* leaving FIFO mode clears; the trigger bits stay (QEMU's rule) */
    WR(h, SERIAL_IIR, 0xc0);
    g_assert_cmpuint(h->s.rx_count, ==, 0);
    g_assert_cmphex(h->s.fcr, ==, 0xc0);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x01);
    /* without FIFO, CLEAR_RX still empties the holding register */
    rx(h, "g");
    WR(h, SERIAL_IIR, SERIAL_FCR_CLEAR_RX);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x60);
    /* entering FIFO mode clears too */
    rx(h, "h");
    WR(h, SERIAL_IIR, 0x01);
    g_assert_cmpuint(h->s.rx_count, ==, 0);
    /* an empty FIFO reads 0 */
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 0);
    h_free(h);
}

static void test_loopback(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_IIR, 0x41); /* trigger level 4 */
    WR(h, SERIAL_IER, SERIAL_IER_RDI);
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP);
    /* the receiver is off the line */
    g_assert_cmpuint(serial_core_can_receive(&h->s), ==, 0);
    rx(h, "ext");
    g_assert_cmpuint(h->s.rx_count, ==, 0);
    /* transmitted bytes come back and do not leave */
    WR(h, SERIAL_RBR, 'L');
    WR(h, SERIAL_RBR, 'B');
    g_assert_cmpuint(h->out->len, ==, 0);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x61);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0xcc);
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'L');
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 'B');
    /* overrun through loopback */
    for (unsigned k = 0; k < 17; k++) {
        WR(h, SERIAL_RBR, k);
    }
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x63);
    /* leaving loopback restores the line and output */
    WR(h, SERIAL_MCR, 0);
    WR(h, SERIAL_IIR, 0x03);
    g_assert_cmpuint(h->accepts, >=, 1);
    WR(h, SERIAL_RBR, 'o');
    g_assert_cmpmem(h->out->data, h->out->len, "o", 1);
    g_assert_cmpuint(serial_core_can_receive(&h->s), ==, 16);
    h_free(h);
}

static void test_modem_status(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_IER, SERIAL_IER_MSI);
    /* entering loopback with MCR=0: CTS, DSR and DCD drop */
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP);
    g_assert_true(h->level);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x00);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0x0b);
    g_assert_false(h->level);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0x00);
    /* each output maps to its input */
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_RTS);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0x11);
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_RTS | SERIAL_MCR_DTR);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0x32);
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP | 0x03 | SERIAL_MCR_OUT2);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0xb8);
    /* RI: only the trailing edge is latched */
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP | 0x0b | SERIAL_MCR_OUT1);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0xf0);
    g_assert_false(h->level);
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP | 0x0b);
    g_assert_true(h->level);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0xb4);
    /* MCR keeps 5 bits */
    WR(h, SERIAL_MCR, 0xff);
    g_assert_cmphex(RD(h, SERIAL_MCR), ==, 0x1f);
    /* leaving loopback: the idle lines come back */
    WR(h, SERIAL_MCR, 0);
    g_assert_cmphex(RD(h, SERIAL_MSR) & 0xf0, ==, 0xb0);
    h_free(h);
}

/* All four sources at once: they are reported in priority order. */
static void test_priority(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP);
    WR(h, SERIAL_RBR, 'a');
    WR(h, SERIAL_RBR, 'b');                              /* overrun (no FIFO) */
    WR(h, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_RTS); /* DCTS */
    WR(h, SERIAL_IER, 0x0f);
    g_assert_true(h->s.thr_ipending);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x06);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x06); /* no side effect */
    RD(h, SERIAL_LSR);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x04);
    RD(h, SERIAL_RBR);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x02);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x00);
    g_assert_true(h->level);
    RD(h, SERIAL_MSR);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x01);
    g_assert_false(h->level);
    h_free(h);
}

static void test_break(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_IER, SERIAL_IER_RLSI);
    serial_core_break(&h->s);
    g_assert_true(h->level);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x06);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x71);
    g_assert_cmphex(RD(h, SERIAL_RBR), ==, 0x00);
    g_assert_false(h->level);
    h_free(h);
}

static void test_reset(void)
{
    struct harness *h = h_new();

    WR(h, SERIAL_IIR, 0xc1);
    WR(h, SERIAL_LCR, 0x9b);
    WR(h, SERIAL_RBR, 1);
    WR(h, SERIAL_LCR, 0x1b);
    WR(h, SERIAL_MCR, 0x1f);
    WR(h, SERIAL_SCR, 0x55);
    WR(h, SERIAL_IER, 0x0f);
    WR(h, SERIAL_MCR, 0x0f);
    rx(h, "abc");
    g_assert_true(h->level);
    serial_core_reset(&h->s);
    g_assert_false(h->level);
    g_assert_cmphex(RD(h, SERIAL_IER), ==, 0);
    g_assert_cmphex(RD(h, SERIAL_IIR), ==, 0x01);
    g_assert_cmphex(RD(h, SERIAL_LCR), ==, 0);
    g_assert_cmphex(RD(h, SERIAL_MCR), ==, 0x08);
    g_assert_cmphex(RD(h, SERIAL_LSR), ==, 0x60);
    g_assert_cmphex(RD(h, SERIAL_MSR), ==, 0xb0);
    g_assert_cmphex(RD(h, SERIAL_SCR), ==, 0);
    g_assert_cmpuint(h->s.rx_count, ==, 0);
    g_assert_cmpuint(serial_core_can_receive(&h->s), ==, 1);
    h_free(h);
}

/* Receiving more than can_receive allowed is overrun, not a buffer
 * overflow; out-of-range registers read 0xff and ignore writes. */
static void test_hostile(void)
{
    struct harness *h = h_new();
    uint8_t big[4096];
    struct serial_state before;

    memset(big, 'x', sizeof(big));
    WR(h, SERIAL_IIR, 0x01);
    serial_core_receive(&h->s, big, sizeof(big));
    g_assert_cmpuint(h->s.rx_count, ==, 16);
    g_assert_true(h->s.lsr & SERIAL_LSR_OE);
    memcpy(&before, &h->s, sizeof(before));
    for (unsigned r = 8; r < 300; r += 7) {
        g_assert_cmphex(RD(h, r), ==, 0xff);
        WR(h, r, 0xaa);
    }
    g_assert_cmpmem(&h->s, sizeof(before), &before, sizeof(before));
    h_free(h);
}

static void check_invariants(struct harness *h)
{
    const struct serial_state *s = &h->s;
    uint8_t iir = serial_core_peek_iir(s);

    g_assert_cmpuint(s->rx_count, <=, SERIAL_FIFO_LEN);
    g_assert_cmpuint(s->rx_head, <, SERIAL_FIFO_LEN);
    if (!(s->fcr & SERIAL_FCR_FE)) {
        g_assert_cmpuint(s->rx_count, <=, 1);
    }
    g_assert_cmpuint(!!(s->lsr & SERIAL_LSR_DR), ==, s->rx_count > 0);
    g_assert_cmphex(s->lsr & 0x60, ==, 0x60);
    g_assert_cmphex(s->ier & 0xf0, ==, 0);
    g_assert_true((iir & 0x0f) == 0x01 || (iir & 0x0f) == 0x00 ||
                  (iir & 0x0f) == 0x02 || (iir & 0x0f) == 0x04 ||
                  (iir & 0x0f) == 0x06 || (iir & 0x0f) == 0x0c);
    g_assert_cmpuint(h->level, ==, !(iir & 1));
}

static void test_random_ops(void)
{
    GRand *r = g_rand_new_with_seed(42);
    struct harness *h = h_new();

    for (int i = 0; i < 200000; i++) {
        unsigned op = g_rand_int_range(r, 0, 10);
        unsigned reg = g_rand_int_range(r, 0, 9);
        uint8_t v = g_rand_int(r);

        if (op < 4) {
            WR(h, reg, v);
        } else if (op < 8) {
            RD(h, reg);
        } else if (op == 8) {
            uint8_t buf[20];
            size_t n = g_rand_int_range(r, 0, sizeof(buf));
            memset(buf, v, n);
            serial_core_receive(&h->s, buf, n);
        } else if (v < 8) {
            serial_core_break(&h->s);
        } else if (v == 8) {
            serial_core_reset(&h->s);
        }
        check_invariants(h);
    }
    h_free(h);
    g_rand_free(r);
}

static GByteArray *save(struct harness *h)
{
    GByteArray *b = g_byte_array_new();
    Error *err = NULL;

    g_assert_true(vmstate_save(&serial_core_vmsd, &h->s, b, &err));
    g_assert_null(err);
    return b;
}

static void test_vmstate_roundtrip(void)
{
    struct harness *a = h_new(), *b = h_new();
    GByteArray *buf;
    size_t pos = 0;
    Error *err = NULL;

    WR(a, SERIAL_IIR, 0x81);
    WR(a, SERIAL_LCR, 0x80);
    WR(a, SERIAL_RBR, 0x01);
    WR(a, SERIAL_IER, 0x00);
    WR(a, SERIAL_LCR, 0x03);
    WR(a, SERIAL_IER, 0x05);
    WR(a, SERIAL_SCR, 0x77);
    rx(a, "xyz");
    RD(a, SERIAL_RBR);
    rx(a, "w");
    g_assert_true(a->level);
    buf = save(a);
    g_assert_true(vmstate_load(&serial_core_vmsd, &b->s, buf->data, buf->len,
                               &pos, &err));
    g_assert_null(err);
    g_assert_cmpuint(pos, ==, buf->len);
    /* the IRQ line follows the loaded state */
    g_assert_true(b->level);
    g_assert_cmphex(b->s.divisor, ==, 1);
    g_assert_cmphex(RD(b, SERIAL_SCR), ==, 0x77);
    g_assert_cmphex(RD(b, SERIAL_IIR), ==, 0xcc);
    g_assert_cmphex(RD(b, SERIAL_RBR), ==, 'y');
    g_assert_cmphex(RD(b, SERIAL_RBR), ==, 'z');
    g_assert_cmphex(RD(b, SERIAL_RBR), ==, 'w');
    g_assert_cmphex(RD(b, SERIAL_LSR), ==, 0x60);
    g_byte_array_unref(buf);
    /* 16450 mode: the holding register travels too */
    WR(a, SERIAL_IIR, 0);
    rx(a, "r");
    buf = save(a);
    pos = 0;
    g_assert_true(vmstate_load(&serial_core_vmsd, &b->s, buf->data, buf->len,
                               &pos, NULL));
    g_assert_cmphex(RD(b, SERIAL_LSR), ==, 0x61);
    g_assert_cmphex(RD(b, SERIAL_RBR), ==, 'r');
    g_assert_cmphex(RD(b, SERIAL_RBR), ==, 'r'); /* kept after the read */
    g_assert_cmphex(RD(b, SERIAL_LSR), ==, 0x60);
    g_byte_array_unref(buf);
    h_free(a);
    h_free(b);
}

/* Field offsets in the saved stream (see serial_core_fields). */
enum {
    SV_DIVISOR = 0,
    SV_IER = 2,
    SV_FCR = 3,
    SV_MCR = 5,
    SV_LSR = 6,
    SV_HEAD = 25,
    SV_COUNT = 26,
    SV_THR = 27,
};

static void expect_refused(size_t off, uint8_t val, const char *needle)
{
    struct harness *a = h_new(), *b = h_new();
    GByteArray *buf;
    struct serial_state before;
    size_t pos = 0;
    Error *err = NULL;

    WR(a, SERIAL_IIR, 0x01);
    rx(a, "ab");
    buf = save(a);
    g_assert_cmpuint(buf->len, ==, 30);
    buf->data[off] = val;
    WR(b, SERIAL_SCR, 0x42);
    before = b->s;
    g_assert_false(vmstate_load(&serial_core_vmsd, &b->s, buf->data, buf->len,
                                &pos, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), needle)) {
        g_test_message("got: %s", error_get_pretty(err));
    }
    g_assert_nonnull(strstr(error_get_pretty(err), needle));
    /* the target is untouched */
    g_assert_cmpmem(b->s.rx_fifo, sizeof(b->s.rx_fifo), before.rx_fifo,
                    sizeof(before.rx_fifo));
    g_assert_cmpuint(b->s.rx_count, ==, before.rx_count);
    g_assert_cmphex(b->s.scr, ==, 0x42);
    error_free(err);
    g_byte_array_unref(buf);
    h_free(a);
    h_free(b);
}

static void test_vmstate_validation(void)
{
    expect_refused(SV_COUNT, 17, "rx_count");
    expect_refused(SV_HEAD, 16, "rx_head");
    expect_refused(SV_HEAD, 0xff, "rx_head");
    expect_refused(SV_COUNT, 0, "disagrees");
    expect_refused(SV_IER, 0x10, "ier");
    expect_refused(SV_MCR, 0x20, "mcr");
    expect_refused(SV_FCR, 0x02, "fcr");
    expect_refused(SV_FCR, 0x00, "rx_count"); /* 2 bytes without FIFO */
    expect_refused(SV_LSR, 0x01, "transmitter busy");
    expect_refused(SV_LSR, 0xe1, "FIFO error");
    expect_refused(SV_THR, 2, "thr_ipending");
}

static bool mapped_at(struct machine *m, const char *line)
{
    GString *map = g_string_new(NULL);
    bool found;

    as_describe(m->pio, map);
    found = strstr(map->str, line) != NULL;
    g_string_free(map, TRUE);
    return found;
}

/* The isa-serial glue on a port address space (no chardev, no KVM). */
static void test_device_ports(void)
{
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &serial_isa_class, NULL, NULL);

    g_assert_nonnull(d);
    g_assert_true(serial_isa_class.user_creatable);
    g_assert_nonnull(serial_isa_class.vmsd);
    g_assert_true(mapped_at(m, "00000000000003f8-00000000000003ff serial"));
    g_assert_cmphex(th_in(m, 0x3fd, 1), ==, 0x60);
    th_out(m, 0x3ff, 0x5a, 1);
    g_assert_cmphex(th_in(m, 0x3ff, 1), ==, 0x5a);
    /* a wide access is split into byte accesses: MSR then SCR */
    g_assert_cmphex(th_in(m, 0x3fe, 2), ==, 0x5ab0);
    /* transmitting without a chardev is fine (output dropped) */
    th_out(m, 0x3f8, 'x', 1);
    g_assert_cmphex(th_in(m, 0x3fd, 1), ==, 0x60);
    th_reset(d);
    g_assert_cmphex(th_in(m, 0x3ff, 1), ==, 0x00);
    th_device_free(d);
    g_assert_false(mapped_at(m, "serial"));
    th_machine_free(m);
}

/* The UART's interrupt goes to the line the board gave it for irq=. */
static void test_device_irq_line(void)
{
    static const char *const com2[] = {"index", "1", NULL};
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &serial_isa_class, com2, NULL);

    g_assert_nonnull(d);
    g_assert_false(th_gsi_level(m, 3));
    th_out(m, 0x2f9, SERIAL_IER_THRI, 1); /* THR empty: THRE at once */
    g_assert_true(th_gsi_level(m, 3));
    g_assert_cmphex(th_in(m, 0x2fa, 1), ==, 0x02); /* IIR read clears it */
    g_assert_false(th_gsi_level(m, 3));
    th_out(m, 0x2f8, 'x', 1);
    g_assert_true(th_gsi_level(m, 3));
    g_assert_cmpuint(th_gsi_edges(m, 3), ==, 2);
    /* a reset lowers it */
    th_reset(d);
    g_assert_false(th_gsi_level(m, 3));
    g_assert_cmpuint(th_gsi(m)->calls[4], ==, 0);
    th_device_free(d);
    th_machine_free(m);
}

struct hammer {
    struct machine *m;
    gint stop;
    gint reads, unmapped;
};

static void *hammer_ports(void *opaque)
{
    struct hammer *h = opaque;

    while (!g_atomic_int_get(&h->stop)) {
        uint64_t lsr = th_in(h->m, 0x3fd, 1);

        /* either the UART's LSR or nothing mapped: never anything else */
        g_assert_true(lsr == 0x60 || lsr == 0xff);
        g_atomic_int_inc(lsr == 0xff ? &h->unmapped : &h->reads);
        th_out(h->m, 0x3ff, 0x11, 1);
    }
    return NULL;
}

/* A vCPU keeps accessing the ports while the device is destroyed: the
 * accesses in flight finish on a live device, later ones find nothing. */
static void test_device_destroy_while_accessed(void)
{
    struct machine *m = th_machine_new();
    struct hammer h = {m, 0, 0, 0};
    struct device *d = th_device_new(m, &serial_isa_class, NULL, NULL);
    GThread *t;

    g_assert_nonnull(d);
    t = g_thread_new("vcpu", hammer_ports, &h);
    while (g_atomic_int_get(&h.reads) < 100) {
        g_thread_yield();
    }
    th_device_free(d);
    while (g_atomic_int_get(&h.unmapped) < 100) {
        g_thread_yield();
    }
    g_atomic_int_set(&h.stop, 1);
    g_thread_join(t);
    g_assert_false(mapped_at(m, "serial"));
    th_machine_free(m);
}

static void test_device_index(void)
{
    static const char *const com2[] = {"index", "1", NULL};
    static const char *const com5[] = {"index", "4", NULL};
    static const char *const com5_explicit[] = {"index", "4", "iobase", "0x100",
                                                "irq",   "5", NULL};
    struct machine *m = th_machine_new();
    struct device *a, *b;
    Error *err = NULL;

    a = th_device_new(m, &serial_isa_class, com2, NULL);
    g_assert_nonnull(a);
    g_assert_true(mapped_at(m, "00000000000002f8-00000000000002ff serial"));
    th_device_free(a);
    /* without index: the next free COM number */
    m->devices = g_ptr_array_new();
    a = th_device_new(m, &serial_isa_class, NULL, NULL);
    g_ptr_array_add(m->devices, a);
    b = th_device_new(m, &serial_isa_class, NULL, NULL);
    g_assert_nonnull(b);
    g_assert_true(mapped_at(m, "00000000000002f8-00000000000002ff serial"));
    th_device_free(b);
    th_device_free(a);
    g_ptr_array_free(m->devices, TRUE);
    m->devices = NULL;
    g_assert_null(th_device_new(m, &serial_isa_class, com5, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "is 4"));
    error_free(err);
    a = th_device_new(m, &serial_isa_class, com5_explicit, NULL);
    g_assert_nonnull(a);
    g_assert_true(mapped_at(m, "0000000000000100-0000000000000107 serial"));
    th_device_free(a);
    th_machine_free(m);
}

static void test_device_bad_config(void)
{
    static const char *const irq[] = {"irq", "16", NULL};
    static const char *const base[] = {"iobase", "0xfffc", NULL};
    static const char *const chr[] = {"chardev", "nope", NULL};
    struct machine *m = th_machine_new();
    Error *err = NULL;

    g_assert_null(th_device_new(m, &serial_isa_class, irq, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "irq"));
    error_free(err);
    err = NULL;
    g_assert_null(th_device_new(m, &serial_isa_class, base, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "0xfffc"));
    error_free(err);
    err = NULL;
    g_assert_null(th_device_new(m, &serial_isa_class, chr, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "can't find value 'nope'"));
    error_free(err);
    /* nothing stayed mapped after the failures */
    g_assert_false(mapped_at(m, "serial"));
    th_machine_free(m);
}

static void test_device_vmstate(void)
{
    static const char *const com2[] = {"index", "1", NULL};
    struct machine *m = th_machine_new();
    struct device *a = th_device_new(m, &serial_isa_class, NULL, NULL);
    struct device *b = th_device_new(m, &serial_isa_class, com2, NULL);
    GByteArray *buf = g_byte_array_new();
    size_t pos = 0;
    Error *err = NULL;

    th_out(m, 0x3ff, 0x99, 1);
    th_out(m, 0x3fb, 0x03, 1);
    g_assert_true(vmstate_save(serial_isa_class.vmsd, a, buf, &err));
    g_assert_true(vmstate_load(serial_isa_class.vmsd, b, buf->data, buf->len,
                               &pos, &err));
    g_assert_null(err);
    g_assert_cmphex(th_in(m, 0x2ff, 1), ==, 0x99);
    g_assert_cmphex(th_in(m, 0x2fb, 1), ==, 0x03);
    /* a bad stream is refused with the field path in the message */
    buf->data[26] = 17; /* rx_count */
    pos = 0;
    g_assert_false(vmstate_load(serial_isa_class.vmsd, b, buf->data, buf->len,
                                &pos, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "rx_count"));
    error_free(err);
    g_byte_array_unref(buf);
    th_device_free(a);
    th_device_free(b);
    th_machine_free(m);
}

/* Runs the main context until expr holds; fails after 5 s. */
#define SPIN_UNTIL(m, expr)                                                    \
    do {                                                                       \
        gint64 deadline_ = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;        \
        while (!(expr)) {                                                      \
            if (g_get_monotonic_time() > deadline_) {                          \
                g_error("timed out waiting for %s", #expr);                    \
            }                                                                  \
            g_main_context_iteration((m)->ctx, FALSE);                         \
            g_usleep(500);                                                     \
        }                                                                      \
    } while (0)

/* isa-serial on a real unix-socket chardev: input reaches the RX FIFO
 * through can_read/read on the main loop, the receiver's flow control
 * (room 0 -> chardev_accept_input) loses nothing, THR writes reach the
 * peer, and a socket client arriving raises no error. */
static void test_device_chardev(void)
{
    static const char *const props[] = {"chardev", "s0", NULL};
    struct machine *m = th_machine_new();
    char *dir = g_dir_make_tmp("vireo-serial-XXXXXX", NULL);
    char *path = g_build_filename(dir, "sock", NULL);
    char *text =
        g_strdup_printf("socket,id=s0,path=%s,server=on,wait=off", path);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct chardev *c;
    struct device *d;
    Error *err = NULL;
    char in[64], got[64];
    int cl;

    m->ctx = g_main_context_new();
    m->chardevs = g_ptr_array_new();
    c = chardev_new(m, text, &err);
    g_assert_null(err);
    g_assert_nonnull(c);
    g_ptr_array_add(m->chardevs, c);
    d = th_device_new(m, &serial_isa_class, props, &err);
    g_assert_null(err);
    g_assert_nonnull(d);
    /* a second frontend on the same (non-mux) chardev is refused */
    {
        static const char *const com2[] = {"chardev", "s0", "index", "1", NULL};
        g_assert_null(th_device_new(m, &serial_isa_class, com2, &err));
        g_assert_nonnull(err);
        error_free(err);
        err = NULL;
    }

    cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(connect(cl, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    SPIN_UNTIL(m, chardev_is_connected(c));

    /* 16450 mode: room for one byte at a time, yet nothing overruns */
    for (unsigned i = 0; i < sizeof(in); i++) {
        in[i] = 'A' + i % 26;
    }
    g_assert_cmpint(write(cl, in, sizeof(in)), ==, sizeof(in));
    for (unsigned i = 0; i < sizeof(in); i++) {
        SPIN_UNTIL(m, th_in(m, 0x3fd, 1) & SERIAL_LSR_DR);
        g_assert_false(th_in(m, 0x3fd, 1) & SERIAL_LSR_OE);
        got[i] = th_in(m, 0x3f8, 1);
    }
    g_assert_cmpmem(got, sizeof(in), in, sizeof(in));

    /* output */
    for (const char *p = "out!"; *p; p++) {
        th_out(m, 0x3f8, *p, 1);
    }
    {
        size_t n = 0;
        while (n < 4) {
            ssize_t r = read(cl, got + n, 4 - n);
            g_assert_cmpint(r, >, 0);
            n += r;
        }
        g_assert_cmpmem(got, 4, "out!", 4);
    }
    /* loopback keeps the line's bytes out of the FIFO */
    th_out(m, 0x3fc, SERIAL_MCR_LOOP, 1);
    g_assert_cmpint(write(cl, "zz", 2), ==, 2);
    for (int i = 0; i < 50; i++) {
        g_main_context_iteration(m->ctx, FALSE);
        g_usleep(500);
    }
    g_assert_false(th_in(m, 0x3fd, 1) & SERIAL_LSR_DR);
    th_out(m, 0x3fc, 0, 1);
    SPIN_UNTIL(m, th_in(m, 0x3fd, 1) & SERIAL_LSR_DR);
    g_assert_cmphex(th_in(m, 0x3f8, 1), ==, 'z');

    close(cl);
    th_device_free(d);
    while (g_main_context_iteration(m->ctx, FALSE)) {
    }
    chardev_free(c);
    g_ptr_array_unref(m->chardevs);
    m->chardevs = NULL;
    while (g_main_context_iteration(m->ctx, FALSE)) {
    }
    g_main_context_unref(m->ctx);
    g_free(text);
    g_free(path);
    rmdir(dir);
    g_free(dir);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/serial/reset-values", test_reset_values);
    g_test_add_func("/serial/scratch-ier", test_scratch_and_ier);
    g_test_add_func("/serial/dlab", test_dlab);
    g_test_add_func("/serial/transmit", test_transmit);
    g_test_add_func("/serial/thre-interrupt", test_thre_interrupt);
    g_test_add_func("/serial/linux-thre-probe", test_linux_thre_probe);
    g_test_add_func("/serial/linux-autoconfig", test_linux_autoconfig);
    g_test_add_func("/serial/receive-nofifo", test_receive_nofifo);
    g_test_add_func("/serial/fifo-trigger-levels", test_fifo_trigger_levels);
    g_test_add_func("/serial/fifo-overrun-rls", test_fifo_overrun_and_rls);
    g_test_add_func("/serial/fifo-clear", test_fifo_clear);
    g_test_add_func("/serial/loopback", test_loopback);
    g_test_add_func("/serial/modem-status", test_modem_status);
    g_test_add_func("/serial/priority", test_priority);
    g_test_add_func("/serial/break", test_break);
    g_test_add_func("/serial/reset", test_reset);
    g_test_add_func("/serial/hostile", test_hostile);
    g_test_add_func("/serial/random-ops", test_random_ops);
    g_test_add_func("/serial/vmstate-roundtrip", test_vmstate_roundtrip);
    g_test_add_func("/serial/vmstate-validation", test_vmstate_validation);
    g_test_add_func("/serial/device-ports", test_device_ports);
    g_test_add_func("/serial/device-index", test_device_index);
    g_test_add_func("/serial/device-bad-config", test_device_bad_config);
    g_test_add_func("/serial/device-vmstate", test_device_vmstate);
    g_test_add_func("/serial/device-chardev", test_device_chardev);
    g_test_add_func("/serial/device-irq-line", test_device_irq_line);
    g_test_add_func("/serial/device-destroy-while-accessed",
                    test_device_destroy_while_accessed);
    return g_test_run();
}
