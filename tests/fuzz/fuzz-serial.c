/* SPDX-License-Identifier: MIT */
/*
 * fuzz-serial.c: libFuzzer target for the 16550A core (hw/char/serial.c).
 * The input is a program of guest register accesses and host-side events
 * (chardev input, break, reset, a vmstate round trip); after every step
 * the UART's invariants are checked (FIFO bounds, LSR.DR against the
 * count, THR always empty, IRQ line equal to what IIR says) and any
 * violation aborts.
 */
#include "util/common.h"
#include "hw/char/serial.h"
#include "migration/vmstate.h"
#include "fuzz-roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct serial_state s;
    bool level;
    size_t out_bytes;
};

static void fz_irq(void *opaque, bool level)
{
    ((struct fz *)opaque)->level = level;
}

static void fz_output(void *opaque, const uint8_t *buf, size_t len)
{
    ((struct fz *)opaque)->out_bytes += len;
}

static const struct serial_ops fz_ops = {
    .set_irq = fz_irq,
    .output = fz_output,
};

static void check(struct fz *f)
{
    const struct serial_state *s = &f->s;
    uint8_t iir = serial_core_peek_iir(s);
    unsigned cap = (s->fcr & SERIAL_FCR_FE) ? SERIAL_FIFO_LEN : 1;

    if (s->rx_count > cap || s->rx_head >= SERIAL_FIFO_LEN ||
        !!(s->lsr & SERIAL_LSR_DR) != (s->rx_count > 0) ||
        (s->lsr & 0x60) != 0x60 || (s->ier & 0xf0) || (s->mcr & 0xe0) ||
        f->level != !(iir & SERIAL_IIR_NO_INT)) {
        abort();
    }
}

static void roundtrip(struct fz *f)
{
    struct fz g;

    memset(&g, 0, sizeof(g));
    serial_core_init(&g.s, &fz_ops, &g);
    fuzz_vmstate_roundtrip(&serial_core_vmsd, &f->s, &g.s);
    if (g.level != f->level) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;
    size_t i = 0;

    memset(&f, 0, sizeof(f));
    serial_core_init(&f.s, &fz_ops, &f);
    while (i < size) {
        uint8_t op = data[i++];
        unsigned reg = (op >> 3) & 7;

        switch (op & 7) {
        case 0:
        case 1:
        case 2:
            if (i < size) {
                serial_core_write(&f.s, reg, data[i++]);
            }
            break;
        case 3:
        case 4:
            serial_core_read(&f.s, reg);
            break;
        case 5: {
            size_t n = i < size ? data[i++] % 40 : 0;
            n = MIN(n, size - i);
            /* sometimes respect can_receive, sometimes not */
            if ((op & 0x80) && n > serial_core_can_receive(&f.s)) {
                n = serial_core_can_receive(&f.s);
            }
            serial_core_receive(&f.s, data + i, n);
            i += n;
            break;
        }
        case 6:
            if (op & 0x08) {
                serial_core_reset(&f.s);
            } else {
                serial_core_break(&f.s);
            }
            break;
        default:
            /* out-of-range register numbers must be harmless */
            serial_core_write(&f.s, 8 + op, op);
            serial_core_read(&f.s, 8 + op);
            roundtrip(&f);
            break;
        }
        check(&f);
    }
    return 0;
}
