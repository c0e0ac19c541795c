/* SPDX-License-Identifier: MIT */
/*
 * fuzz-ioapic.c: libFuzzer target for the userspace IOAPIC core
 * (hw/intc/ioapic.c).  The input is a program of guest MMIO accesses
 * (IOREGSEL, IOWIN, the EOI register, stray offsets and sizes), input pin
 * changes, LAPIC EOIs, resets and vmstate round trips.  After every step
 * the invariants are checked and a violation aborts: no reserved bits in
 * an entry, Remote IRR only on level pins, no asserted unmasked level pin
 * left undelivered, no unmasked edge pin with an edge left latched, and the
 * routes last reported equal to the level pins' messages.
 */
#include "util/common.h"
#include "hw/intc/ioapic.h"
#include "migration/vmstate.h"
#include "fuzz-roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct ioapic_state s;
    uint32_t routed;
    struct ioapic_msg route[IOAPIC_NUM_PINS];
    uint64_t sent;
};

static bool fz_send(void *opaque, uint64_t addr, uint32_t data)
{
    struct fz *f = opaque;

    if ((addr & 0xfff00003ULL) != 0xfee00000ULL) {
        abort();
    }
    f->sent++;
    return true;
}

static void fz_routes(void *opaque, const unsigned *pins,
                      const struct ioapic_msg *msgs, unsigned n)
{
    struct fz *f = opaque;

    f->routed = 0;
    for (unsigned i = 0; i < n; i++) {
        if (pins[i] >= IOAPIC_NUM_PINS || (f->routed & (1u << pins[i]))) {
            abort();
        }
        f->routed |= 1u << pins[i];
        f->route[pins[i]] = msgs[i];
    }
}

static const struct ioapic_ops fz_ops = {fz_send, fz_routes};

static void check(struct fz *f)
{
    const struct ioapic_state *s = &f->s;
    uint32_t level_pins = 0;

    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        uint64_t e = s->redtbl[i];
        bool level = e & IOAPIC_RTE_LEVEL;
        bool masked = e & IOAPIC_RTE_MASKED;
        unsigned mode = (e >> IOAPIC_RTE_DELMODE_SHIFT) & 7;
        struct ioapic_msg m = ioapic_rte_msg(e);

        if (e & ~(IOAPIC_RTE_RW_MASK | IOAPIC_RTE_REMOTE_IRR)) {
            abort();
        }
        if (!level && (e & IOAPIC_RTE_REMOTE_IRR)) {
            abort();
        }
        if (level && !masked && (s->line & (1u << i)) &&
            (mode == IOAPIC_DM_FIXED || mode == IOAPIC_DM_LOWEST) &&
            !(e & IOAPIC_RTE_REMOTE_IRR)) {
            abort();
        }
        if (!level && !masked && (s->pending & (1u << i))) {
            abort();
        }
        if (level) {
            level_pins |= 1u << i;
            if (f->route[i].addr != m.addr || f->route[i].data != m.data) {
                abort();
            }
        }
    }
    if (level_pins != f->routed || (s->line | s->pending) >> IOAPIC_NUM_PINS) {
        abort();
    }
}

static void roundtrip(struct fz *f)
{
    struct fz g;

    memset(&g, 0, sizeof(g));
    ioapic_core_init(&g.s, &fz_ops, &g, NULL, 0);
    fuzz_vmstate_roundtrip(&ioapic_core_vmsd, &f->s, &g.s);
    check(&g);
}

static uint32_t get32(const uint8_t *data, size_t size, size_t *i)
{
    uint32_t v = 0;

    for (int k = 0; k < 4 && *i < size; k++) {
        v |= (uint32_t)data[(*i)++] << (8 * k);
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t offs[] = {
        IOAPIC_IOREGSEL, IOAPIC_IOWIN, IOAPIC_EOI, 0x04, 0x20, 0xffc};
    struct fz f;
    size_t i = 0;

    memset(&f, 0, sizeof(f));
    ioapic_core_init(&f.s, &fz_ops, &f, NULL, 1);
    check(&f);
    while (i < size) {
        uint8_t op = data[i++];
        uint8_t arg = i < size ? data[i++] : 0;

        switch (op & 7) {
        case 0: /* select a register */
            ioapic_core_write(&f.s, IOAPIC_IOREGSEL, arg, 4);
            break;
        case 1: /* write the window, 32-bit */
            ioapic_core_write(&f.s, IOAPIC_IOWIN, get32(data, size, &i), 4);
            break;
        case 2: /* any offset, any size */
            ioapic_core_write(&f.s, offs[arg % ARRAY_SIZE(offs)],
                              get32(data, size, &i), 1 + (op >> 3) % 4);
            break;
        case 3:
            (void)ioapic_core_read(&f.s, offs[arg % ARRAY_SIZE(offs)],
                                   1 + (op >> 3) % 4);
            break;
        case 4: /* a source drives a pin (some out of range) */
            ioapic_core_set_irq(&f.s, arg % 32, op & 8);
            break;
        case 5:
            ioapic_core_eoi(&f.s, arg);
            break;
        case 6:
            ioapic_core_reset(&f.s);
            break;
        case 7:
            roundtrip(&f);
            break;
        }
        check(&f);
    }
    return 0;
}
