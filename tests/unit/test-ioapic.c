/* SPDX-License-Identifier: MIT */
/*
 * test-ioapic.c: the userspace IOAPIC's register model without KVM: reset
 * state and the identification registers, redirection-entry read-back with
 * read-only and reserved bits, MSI composition, edge and level semantics
 * (latching while masked, Remote IRR and redelivery after EOI, the EOI
 * register), the routes the accelerator is told about, what cannot be
 * delivered, and a vmstate round trip including a refused stream.
 */
#include "util/common.h"
#include "hw/intc/ioapic.h"
#include "migration/vmstate.h"
#include "util/log.h"

struct h {
    struct ioapic_state s;
    GString *msis;   /* "addr/data;" per delivered message */
    GString *routes; /* "[pin:addr/data ...]" per set_routes call */
    unsigned nroute_calls;
};

static bool h_send(void *opaque, uint64_t addr, uint32_t data)
{
    struct h *h = opaque;
    g_string_append_printf(h->msis, "%" PRIx64 "/%x;", addr, data);
    return true;
}

static void h_routes(void *opaque, const unsigned *pins,
                     const struct ioapic_msg *msgs, unsigned n)
{
    struct h *h = opaque;
    g_string_append_c(h->routes, '[');
    for (unsigned i = 0; i < n; i++) {
        g_string_append_printf(h->routes, "%s%u:%" PRIx64 "/%x", i ? " " : "",
                               pins[i], msgs[i].addr, msgs[i].data);
    }
    g_string_append_c(h->routes, ']');
    h->nroute_calls++;
}

static const struct ioapic_ops h_ops = {h_send, h_routes};

static void h_init(struct h *h)
{
    memset(h, 0, sizeof(*h));
    h->msis = g_string_new(NULL);
    h->routes = g_string_new(NULL);
    ioapic_core_init(&h->s, &h_ops, h, NULL, 2);
}

static void h_fini(struct h *h)
{
    g_string_free(h->msis, TRUE);
    g_string_free(h->routes, TRUE);
}

static uint32_t rd(struct h *h, unsigned reg)
{
    ioapic_core_write(&h->s, IOAPIC_IOREGSEL, reg, 4);
    return ioapic_core_read(&h->s, IOAPIC_IOWIN, 4);
}

static void wr(struct h *h, unsigned reg, uint32_t v)
{
    ioapic_core_write(&h->s, IOAPIC_IOREGSEL, reg, 4);
    ioapic_core_write(&h->s, IOAPIC_IOWIN, v, 4);
}

static void program(struct h *h, unsigned pin, uint32_t lo, uint8_t dest)
{
    wr(h, IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)dest << 24);
    wr(h, IOAPIC_REG_REDTBL + 2 * pin, lo);
}

static void test_reset_and_ids(void)
{
    struct h h;

    h_init(&h);
    g_assert_cmphex(rd(&h, IOAPIC_REG_ID), ==, 0x02000000);
    g_assert_cmphex(rd(&h, IOAPIC_REG_VER), ==, 0x00170020);
    g_assert_cmphex(rd(&h, IOAPIC_REG_ARB), ==, 0x02000000);
    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 2 * i), ==, 0x10000);
        g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 2 * i + 1), ==, 0);
    }
    /* IOREGSEL reads back; unknown registers read 0; VER is read-only. */
    ioapic_core_write(&h.s, IOAPIC_IOREGSEL, 0x123, 4);
    g_assert_cmphex(ioapic_core_read(&h.s, IOAPIC_IOREGSEL, 4), ==, 0x23);
    g_assert_cmphex(rd(&h, 0x3f + 1), ==, 0);
    wr(&h, IOAPIC_REG_VER, 0);
    g_assert_cmphex(rd(&h, IOAPIC_REG_VER), ==, 0x00170020);
    wr(&h, IOAPIC_REG_ID, 0x0f000000);
    g_assert_cmphex(rd(&h, IOAPIC_REG_ID), ==, 0x0f000000);
    /* Reset restores the ID and masks everything again. */
    program(&h, 3, 0x30, 1);
    ioapic_core_reset(&h.s);
    g_assert_cmphex(rd(&h, IOAPIC_REG_ID), ==, 0x02000000);
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 6), ==, 0x10000);
    g_assert_cmpstr(h.msis->str, ==, "");
    h_fini(&h);
}

static void test_rte_readback(void)
{
    struct h h;

    h_init(&h);
    /* Reserved bits 17..31 and 32..47 are dropped; delivery status and
     * Remote IRR are read-only. */
    wr(&h, IOAPIC_REG_REDTBL + 2 * 5, 0xfffff0ff);
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 2 * 5), ==, 0x1a0ff);
    wr(&h, IOAPIC_REG_REDTBL + 2 * 5 + 1, 0xffffffff);
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 2 * 5 + 1), ==, 0xffff0000);
    /* Narrow IOWIN writes are ignored (the window is 32-bit). */
    ioapic_core_write(&h.s, IOAPIC_IOREGSEL, IOAPIC_REG_REDTBL + 10, 1);
    ioapic_core_write(&h.s, IOAPIC_IOWIN, 0, 2);
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 10), ==, 0x1a0ff);
    h_fini(&h);
}

static void test_msi_format(void)
{
    struct ioapic_msg m;

    /* Fixed, physical destination 3, edge, vector 0x30. */
    m = ioapic_rte_msg(0x30ULL | 3ULL << 56);
    g_assert_cmphex(m.addr, ==, 0xfee03000);
    g_assert_cmphex(m.data, ==, 0x30);
    /* Lowest priority, logical, level, vector 0x41, destination 0xf0. */
    m = ioapic_rte_msg(0x41ULL | 1ULL << 8 | IOAPIC_RTE_DESTMODE |
                       IOAPIC_RTE_LEVEL | 0xf0ULL << 56);
    g_assert_cmphex(m.addr, ==, 0xfeef0004);
    g_assert_cmphex(m.data, ==, 0xc141);
    /* NMI */
    m = ioapic_rte_msg(4ULL << 8);
    g_assert_cmphex(m.data, ==, 0x400);
}

static void test_edge(void)
{
    struct h h;

    h_init(&h);
    program(&h, 4, 0x31, 1);
    ioapic_core_set_irq(&h.s, 4, true);
    g_assert_cmpstr(h.msis->str, ==, "fee01000/31;");
    /* Held high: nothing more.  Low, then high again: one more. */
    ioapic_core_set_irq(&h.s, 4, true);
    ioapic_core_set_irq(&h.s, 4, false);
    g_assert_cmpstr(h.msis->str, ==, "fee01000/31;");
    ioapic_core_set_irq(&h.s, 4, true);
    g_assert_cmpstr(h.msis->str, ==, "fee01000/31;fee01000/31;");
    /* Edge pins never set Remote IRR and need no route. */
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 8) & IOAPIC_RTE_REMOTE_IRR, ==,
                    0);
    g_assert_cmpstr(h.routes->str, ==, "");
    /* Out-of-range pins are ignored. */
    ioapic_core_set_irq(&h.s, 24, true);
    ioapic_core_set_irq(&h.s, 1000, true);
    g_assert_cmpuint(h.s.delivered, ==, 2);
    h_fini(&h);
}

static void test_edge_latched_while_masked(void)
{
    struct h h;

    h_init(&h);
    program(&h, 3, 0x10000 | 0x33, 0);
    ioapic_core_set_irq(&h.s, 3, true);
    ioapic_core_set_irq(&h.s, 3, false);
    ioapic_core_set_irq(&h.s, 3, true);
    g_assert_cmpstr(h.msis->str, ==, "");
    /* Unmasking delivers the latched edge once. */
    wr(&h, IOAPIC_REG_REDTBL + 6, 0x33);
    g_assert_cmpstr(h.msis->str, ==, "fee00000/33;");
    wr(&h, IOAPIC_REG_REDTBL + 6, 0x33);
    g_assert_cmpstr(h.msis->str, ==, "fee00000/33;");
    h_fini(&h);
}

static void test_level_remote_irr(void)
{
    struct h h;
    const uint32_t lvl = IOAPIC_RTE_LEVEL | 0x41;

    h_init(&h);
    program(&h, 9, lvl, 0);
    g_assert_cmpstr(h.routes->str, ==, "[9:fee00000/c041]");
    ioapic_core_set_irq(&h.s, 9, true);
    g_assert_cmpstr(h.msis->str, ==, "fee00000/c041;");
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 18), ==,
                    lvl | IOAPIC_RTE_REMOTE_IRR);
    /* Still asserted, Remote IRR set: nothing until the EOI. */
    ioapic_core_set_irq(&h.s, 9, true);
    g_assert_cmpuint(h.s.delivered, ==, 1);
    /* An EOI for another vector changes nothing. */
    ioapic_core_eoi(&h.s, 0x42);
    g_assert_cmpuint(h.s.delivered, ==, 1);
    /* EOI while still asserted: delivered again. */
    ioapic_core_eoi(&h.s, 0x41);
    g_assert_cmpuint(h.s.delivered, ==, 2);
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 18), ==,
                    lvl | IOAPIC_RTE_REMOTE_IRR);
    /* Deasserted, then the EOI (here through the EOI register): Remote IRR
     * clears, nothing is sent. */
    ioapic_core_set_irq(&h.s, 9, false);
    ioapic_core_write(&h.s, IOAPIC_EOI, 0x41, 4);
    g_assert_cmpuint(h.s.delivered, ==, 2);
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 18), ==, lvl);
    h_fini(&h);
}

static void test_level_masked_then_unmasked(void)
{
    struct h h;
    const uint32_t lvl = IOAPIC_RTE_LEVEL | 0x50;

    h_init(&h);
    program(&h, 10, lvl | IOAPIC_RTE_MASKED, 0);
    ioapic_core_set_irq(&h.s, 10, true);
    g_assert_cmpuint(h.s.delivered, ==, 0);
    /* Unmask with the line still asserted: delivered now. */
    wr(&h, IOAPIC_REG_REDTBL + 20, lvl);
    g_assert_cmpuint(h.s.delivered, ==, 1);
    /* Masking and unmasking with Remote IRR set sends nothing more, and
     * does not touch the routes (only the message matters to KVM). */
    unsigned calls = h.nroute_calls;
    wr(&h, IOAPIC_REG_REDTBL + 20, lvl | IOAPIC_RTE_MASKED);
    wr(&h, IOAPIC_REG_REDTBL + 20, lvl);
    g_assert_cmpuint(h.s.delivered, ==, 1);
    g_assert_cmpuint(h.nroute_calls, ==, calls);
    /* Masked pins keep their route so their EOI still comes back. */
    wr(&h, IOAPIC_REG_REDTBL + 20, lvl | IOAPIC_RTE_MASKED);
    ioapic_core_eoi(&h.s, 0x50);
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 20), ==,
                    lvl | IOAPIC_RTE_MASKED);
    g_assert_cmpuint(h.s.delivered, ==, 1);
    h_fini(&h);
}

static void test_routes(void)
{
    struct h h;

    h_init(&h);
    program(&h, 2, IOAPIC_RTE_LEVEL | 0x40, 1);
    program(&h, 7, IOAPIC_RTE_LEVEL | 0x47, 2);
    g_assert_cmpstr(h.routes->str, ==,
                    "[2:fee01000/c040][2:fee01000/c040 7:fee02000/c047]");
    /* A new vector re-reports; switching to edge drops the pin. */
    g_string_truncate(h.routes, 0);
    wr(&h, IOAPIC_REG_REDTBL + 4, IOAPIC_RTE_LEVEL | 0x48);
    g_assert_cmpstr(h.routes->str, ==, "[2:fee01000/c048 7:fee02000/c047]");
    g_string_truncate(h.routes, 0);
    wr(&h, IOAPIC_REG_REDTBL + 14, 0x47);
    g_assert_cmpstr(h.routes->str, ==, "[2:fee01000/c048]");
    /* Reset clears them all. */
    g_string_truncate(h.routes, 0);
    ioapic_core_reset(&h.s);
    g_assert_cmpstr(h.routes->str, ==, "[]");
    h_fini(&h);
}

static void test_undeliverable(void)
{
    struct h h;
    struct vlog log;

    vlog_init(&log);
    h_init(&h);
    h.s.log = &log;
    /* ExtINT: no 8259 to ask; dropped and counted, never sent. */
    program(&h, 0, 7u << 8, 0);
    ioapic_core_set_irq(&h.s, 0, true);
    g_assert_cmpstr(h.msis->str, ==, "");
    g_assert_cmpuint(h.s.dropped, ==, 1);
    /* NMI through a level pin: sent, but no Remote IRR to get stuck. */
    program(&h, 1, IOAPIC_RTE_LEVEL | 4u << 8, 0);
    ioapic_core_set_irq(&h.s, 1, true);
    g_assert_cmpstr(h.msis->str, ==, "fee00000/c400;");
    g_assert_cmphex(rd(&h, IOAPIC_REG_REDTBL + 2) & IOAPIC_RTE_REMOTE_IRR, ==,
                    0);
    h_fini(&h);
}

static void test_vmstate(void)
{
    struct h a, b;
    GByteArray *buf = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    h_init(&a);
    h_init(&b);
    program(&a, 9, IOAPIC_RTE_LEVEL | 0x41, 3);
    program(&a, 4, 0x31, 0);
    ioapic_core_set_irq(&a.s, 9, true);
    ioapic_core_eoi(&a.s, 0x41); /* Remote IRR set again */
    g_assert_true(vmstate_save(&ioapic_core_vmsd, &a.s, buf, &err));
    g_assert_true(
        vmstate_load(&ioapic_core_vmsd, &b.s, buf->data, buf->len, &pos, &err));
    g_assert_null(err);
    g_assert_cmpmem(a.s.redtbl, sizeof(a.s.redtbl), b.s.redtbl,
                    sizeof(b.s.redtbl));
    g_assert_cmphex(b.s.line, ==, 1u << 9);
    /* The destination learns the level routes; Remote IRR is still set, so
     * nothing is sent until the guest's EOI. */
    g_assert_cmpstr(b.routes->str, ==, "[9:fee03000/c041]");
    g_assert_cmpstr(b.msis->str, ==, "");
    ioapic_core_eoi(&b.s, 0x41);
    g_assert_cmpstr(b.msis->str, ==, "fee03000/c041;");

    /* A stream with reserved bits in an entry is refused by name. */
    a.s.redtbl[5] |= 1ULL << 20;
    g_byte_array_set_size(buf, 0);
    g_assert_true(vmstate_save(&ioapic_core_vmsd, &a.s, buf, &err));
    pos = 0;
    g_assert_false(
        vmstate_load(&ioapic_core_vmsd, &b.s, buf->data, buf->len, &pos, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "redirection entry 5"));
    error_free(err);
    g_byte_array_free(buf, TRUE);
    h_fini(&a);
    h_fini(&b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ioapic/reset-and-ids", test_reset_and_ids);
    g_test_add_func("/ioapic/rte-readback", test_rte_readback);
    g_test_add_func("/ioapic/msi-format", test_msi_format);
    g_test_add_func("/ioapic/edge", test_edge);
    g_test_add_func("/ioapic/edge-latched-while-masked",
                    test_edge_latched_while_masked);
    g_test_add_func("/ioapic/level-remote-irr", test_level_remote_irr);
    g_test_add_func("/ioapic/level-masked-then-unmasked",
                    test_level_masked_then_unmasked);
    g_test_add_func("/ioapic/routes", test_routes);
    g_test_add_func("/ioapic/undeliverable", test_undeliverable);
    g_test_add_func("/ioapic/vmstate", test_vmstate);
    return g_test_run();
}
