/* SPDX-License-Identifier: MIT */
/*
 * test-i8042.c: the keyboard controller of hw/input/i8042.c: reset values,
 * the controller commands Linux's i8042 probe sends (self test, command
 * byte, AUX loopback and bit tests), the reset line (0xfe, 0xf0..0xff
 * pulses, output port bit 0), keyboard and mouse command answers, IRQ
 * gating and edges, queue overflow, hostile sequences, vmstate checks;
 * and the device on ports 0x60/0x64 asking the machine for a guest reset.
 */
#include "util/common.h"
#include "hw/input/i8042.h"
#include "migration/vmstate.h"
#include "tests/unit/dev-harness.h"

struct harness {
    struct i8042_state s;
    bool level[2];
    unsigned rises[2], falls[2];
    unsigned resets;
};

static void h_set_irq(void *opaque, unsigned line, bool level)
{
    struct harness *h = opaque;

    g_assert_cmpuint(line, <, 2);
    if (level && !h->level[line]) {
        h->rises[line]++;
    }
    if (!level && h->level[line]) {
        h->falls[line]++;
    }
    h->level[line] = level;
}

static void h_reset(void *opaque)
{
    struct harness *h = opaque;

    h->resets++;
}

static const struct i8042_ops h_ops = {
    .set_irq = h_set_irq,
    .request_reset = h_reset,
};

static struct harness *h_new(void)
{
    struct harness *h = g_new0(struct harness, 1);

    i8042_core_init(&h->s, &h_ops, h, NULL);
    return h;
}

#define STATUS(h) i8042_core_read(&(h)->s, I8042_CMD)
#define DATA(h) i8042_core_read(&(h)->s, I8042_DATA)
#define CMD(h, v) i8042_core_write(&(h)->s, I8042_CMD, (v))
#define OUT(h, v) i8042_core_write(&(h)->s, I8042_DATA, (v))

/* Reads one byte that must be there, from the given port. */
static uint8_t take(struct harness *h, bool aux)
{
    uint8_t st = STATUS(h);

    g_assert_true(st & I8042_STS_OBF);
    g_assert_cmpuint(!!(st & I8042_STS_AUX_OBF), ==, aux);
    return DATA(h);
}

static void expect_empty(struct harness *h)
{
    g_assert_false(STATUS(h) & I8042_STS_OBF);
}

static void test_reset_values(void)
{
    struct harness *h = h_new();

    g_assert_cmphex(STATUS(h), ==, 0x18);
    CMD(h, 0x20);
    g_assert_cmphex(STATUS(h), ==, 0x19);
    g_assert_cmphex(take(h, false), ==, 0x03);
    expect_empty(h);
    CMD(h, 0xd0);
    g_assert_cmphex(take(h, false) & 0x03, ==, 0x03);
    g_free(h);
}

static void test_controller_tests(void)
{
    struct harness *h = h_new();

    CMD(h, 0xaa);
    g_assert_cmphex(take(h, false), ==, 0x55);
    g_assert_true(STATUS(h) & I8042_STS_SYS);
    CMD(h, 0xab);
    g_assert_cmphex(take(h, false), ==, 0x00);
    CMD(h, 0xa9);
    g_assert_cmphex(take(h, false), ==, 0x00);
    CMD(h, 0xc0);
    g_assert_cmphex(take(h, false), ==, 0x80);
    CMD(h, 0xe0);
    g_assert_cmphex(take(h, false), ==, 0x00);
    expect_empty(h);
    g_free(h);
}

static void test_command_byte(void)
{
    struct harness *h = h_new();

    CMD(h, 0x60);
    g_assert_true(STATUS(h) & I8042_STS_CMD);
    OUT(h, 0x47);
    g_assert_false(STATUS(h) & I8042_STS_CMD);
    /* as QEMU: the status SYS flag follows the self test, not the CCB */
    g_assert_false(STATUS(h) & I8042_STS_SYS);
    CMD(h, 0x20);
    g_assert_cmphex(take(h, false), ==, 0x47);
    /* the data byte went to the controller, not to the keyboard */
    expect_empty(h);
    CMD(h, 0xaa);
    take(h, false);
    CMD(h, 0x60);
    OUT(h, 0x00);
    g_assert_true(STATUS(h) & I8042_STS_SYS);
    /* port enable/disable commands flip the command byte bits */
    CMD(h, 0xa7);
    CMD(h, 0xad);
    CMD(h, 0x20);
    g_assert_cmphex(take(h, false), ==, 0x30);
    CMD(h, 0xa8);
    CMD(h, 0x20);
    g_assert_cmphex(take(h, false), ==, 0x10);
    CMD(h, 0xae);
    CMD(h, 0x20);
    g_assert_cmphex(take(h, false), ==, 0x00);
    /* writing to a device enables its port; D2/D3 do not */
    CMD(h, 0xa7);
    CMD(h, 0xad);
    CMD(h, 0xd2);
    OUT(h, 0x11);
    CMD(h, 0xd3);
    OUT(h, 0x12);
    take(h, false);
    take(h, true);
    CMD(h, 0x20);
    g_assert_cmphex(take(h, false), ==, 0x30);
    OUT(h, 0xee);
    take(h, false);
    CMD(h, 0x20);
    g_assert_cmphex(take(h, false), ==, 0x20);
    CMD(h, 0xd4);
    OUT(h, 0xf5);
    take(h, true);
    CMD(h, 0x20);
    g_assert_cmphex(take(h, false), ==, 0x00);
    g_free(h);
}

static void test_reset_line(void)
{
    struct harness *h = h_new();

    CMD(h, 0xfe);
    g_assert_cmpuint(h->resets, ==, 1);
    CMD(h, 0xff); /* pulses nothing */
    CMD(h, 0xf1);
    CMD(h, 0xfd);
    g_assert_cmpuint(h->resets, ==, 1);
    CMD(h, 0xf0); /* pulses bits 0-3, including reset */
    g_assert_cmpuint(h->resets, ==, 2);
    /* output port write with bit 0 clear */
    CMD(h, 0xd1);
    OUT(h, 0x03);
    g_assert_cmpuint(h->resets, ==, 2);
    CMD(h, 0xd1);
    OUT(h, 0x02);
    g_assert_cmpuint(h->resets, ==, 3);
    /* A20 commands */
    CMD(h, 0xdd);
    CMD(h, 0xd0);
    g_assert_cmphex(take(h, false) & 0x03, ==, 0x01);
    CMD(h, 0xdf);
    CMD(h, 0xd0);
    g_assert_cmphex(take(h, false) & 0x03, ==, 0x03);
    expect_empty(h);
    g_free(h);
}

static void test_aux_loop_and_irq(void)
{
    struct harness *h = h_new();

    CMD(h, 0xd3);
    OUT(h, 0x5a);
    g_assert_cmphex(STATUS(h), ==, 0x31);
    g_assert_true(h->level[I8042_LINE_AUX]);
    g_assert_false(h->level[I8042_LINE_KBD]);
    g_assert_cmphex(DATA(h), ==, 0x5a);
    g_assert_false(h->level[I8042_LINE_AUX]);
    CMD(h, 0xd2);
    OUT(h, 0x33);
    g_assert_cmphex(STATUS(h), ==, 0x11);
    g_assert_true(h->level[I8042_LINE_KBD]);
    g_assert_false(h->level[I8042_LINE_AUX]);
    g_assert_cmphex(DATA(h), ==, 0x33);
    g_assert_false(h->level[I8042_LINE_KBD]);
    /* reading an empty buffer returns the last byte again */
    g_assert_cmphex(DATA(h), ==, 0x33);
    /* interrupts off in the command byte: no IRQ, OBF still set */
    CMD(h, 0x60);
    OUT(h, 0x00);
    CMD(h, 0xd2);
    OUT(h, 0x01);
    CMD(h, 0xd3);
    OUT(h, 0x02);
    g_assert_false(h->level[0] || h->level[1]);
    g_assert_true(STATUS(h) & I8042_STS_OBF);
    /* turning them on raises the line of the byte at the head */
    CMD(h, 0x60);
    OUT(h, 0x03);
    g_assert_true(h->level[I8042_LINE_KBD]);
    g_assert_cmphex(take(h, false), ==, 0x01);
    g_assert_true(h->level[I8042_LINE_AUX]);
    g_assert_false(h->level[I8042_LINE_KBD]);
    g_assert_cmphex(take(h, true), ==, 0x02);
    /* each line has its own enable bit */
    CMD(h, 0x60);
    OUT(h, I8042_CCB_KBD_INT);
    CMD(h, 0xd3);
    OUT(h, 0x77);
    g_assert_false(h->level[0] || h->level[1]);
    g_assert_cmphex(take(h, true), ==, 0x77);
    CMD(h, 0x60);
    OUT(h, I8042_CCB_AUX_INT);
    CMD(h, 0xd2);
    OUT(h, 0x78);
    g_assert_false(h->level[0] || h->level[1]);
    g_assert_cmphex(take(h, false), ==, 0x78);
    g_free(h);
}

static void test_irq_edge_per_byte(void)
{
    struct harness *h = h_new();

    OUT(h, 0xff); /* keyboard reset: ACK and BAT */
    g_assert_true(h->level[I8042_LINE_KBD]);
    g_assert_cmpuint(h->rises[0], ==, 1);
    g_assert_cmphex(DATA(h), ==, 0xfa);
    g_assert_cmpuint(h->falls[0], ==, 1);
    g_assert_cmpuint(h->rises[0], ==, 2);
    g_assert_cmphex(DATA(h), ==, 0xaa);
    g_assert_false(h->level[I8042_LINE_KBD]);
    g_free(h);
}

static void test_keyboard(void)
{
    struct harness *h = h_new();

    OUT(h, 0xf2);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    g_assert_cmphex(take(h, false), ==, 0xab);
    g_assert_cmphex(take(h, false), ==, 0x83);
    CMD(h, 0x60);
    OUT(h, 0x43); /* translation on */
    OUT(h, 0xf2);
    take(h, false);
    take(h, false);
    g_assert_cmphex(take(h, false), ==, 0x41);
    OUT(h, 0xed);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    OUT(h, 0x07);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    g_assert_cmpuint(h->s.kbd_leds, ==, 7);
    OUT(h, 0xf0);
    OUT(h, 0x00);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    g_assert_cmphex(take(h, false), ==, 0x02);
    OUT(h, 0xf0);
    OUT(h, 0x03);
    OUT(h, 0xf0);
    OUT(h, 0x00);
    for (int i = 0; i < 4; i++) {
        g_assert_cmphex(take(h, false), ==, 0xfa);
    }
    g_assert_cmphex(take(h, false), ==, 0x03);
    OUT(h, 0xf0);
    OUT(h, 0x09);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    g_assert_cmphex(take(h, false), ==, 0xfe);
    OUT(h, 0xee);
    g_assert_cmphex(take(h, false), ==, 0xee);
    OUT(h, 0xf5);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    g_assert_cmpuint(h->s.kbd_enabled, ==, 0);
    OUT(h, 0xf4);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    g_assert_cmpuint(h->s.kbd_enabled, ==, 1);
    OUT(h, 0x01); /* not a command */
    g_assert_cmphex(take(h, false), ==, 0xfe);
    expect_empty(h);
    g_free(h);
}

static void test_mouse(void)
{
    struct harness *h = h_new();

    CMD(h, 0xd4);
    OUT(h, 0xff);
    g_assert_cmphex(take(h, true), ==, 0xfa);
    g_assert_cmphex(take(h, true), ==, 0xaa);
    g_assert_cmphex(take(h, true), ==, 0x00);
    CMD(h, 0xd4);
    OUT(h, 0xf2);
    g_assert_cmphex(take(h, true), ==, 0xfa);
    g_assert_cmphex(take(h, true), ==, 0x00);
    CMD(h, 0xd4);
    OUT(h, 0xf3);
    CMD(h, 0xd4);
    OUT(h, 40);
    g_assert_cmphex(take(h, true), ==, 0xfa);
    g_assert_cmphex(take(h, true), ==, 0xfa);
    CMD(h, 0xd4);
    OUT(h, 0xf4);
    g_assert_cmphex(take(h, true), ==, 0xfa);
    CMD(h, 0xd4);
    OUT(h, 0xe9);
    g_assert_cmphex(take(h, true), ==, 0xfa);
    g_assert_cmphex(take(h, true), ==, 0x20);
    g_assert_cmphex(take(h, true), ==, 0x02);
    g_assert_cmphex(take(h, true), ==, 40);
    /* a byte written to the data port without 0xd4 goes to the keyboard */
    OUT(h, 0xf4);
    g_assert_cmphex(take(h, false), ==, 0xfa);
    expect_empty(h);
    g_free(h);
}

/* What drivers/input/serio/i8042.c does at probe time, in order. */
static void test_linux_probe(void)
{
    struct harness *h = h_new();
    uint8_t ctr, ctr2;

    /* i8042_flush */
    for (int i = 0; i < 16 && (STATUS(h) & I8042_STS_OBF); i++) {
        DATA(h);
    }
    /* i8042_controller_selftest */
    CMD(h, 0xaa);
    g_assert_cmphex(take(h, false), ==, 0x55);
    /* i8042_controller_init: read CTR until stable, then write it */
    CMD(h, 0x20);
    ctr = take(h, false);
    CMD(h, 0x20);
    ctr2 = take(h, false);
    g_assert_cmphex(ctr, ==, ctr2);
    ctr |= I8042_CCB_KBD_DISABLE;
    ctr &= ~I8042_CCB_KBD_INT;
    CMD(h, 0x60);
    OUT(h, ctr);
    /* i8042_check_aux: loopback must answer on the AUX port */
    CMD(h, 0xd3);
    OUT(h, 0x5a);
    g_assert_true(STATUS(h) & I8042_STS_AUX_OBF);
    g_assert_cmphex(take(h, true), ==, 0x5a);
    /* bit assignment test */
    CMD(h, 0xa7);
    CMD(h, 0x20);
    g_assert_true(take(h, false) & I8042_CCB_AUX_DISABLE);
    CMD(h, 0xa8);
    CMD(h, 0x20);
    g_assert_false(take(h, false) & I8042_CCB_AUX_DISABLE);
    /* the AUX IRQ test: loopback with AUX_INT on raises IRQ 12 */
    CMD(h, 0x60);
    OUT(h, ctr | I8042_CCB_AUX_INT);
    CMD(h, 0xd3);
    OUT(h, 0xa5);
    g_assert_true(h->level[I8042_LINE_AUX]);
    g_assert_cmphex(take(h, true), ==, 0xa5);
    expect_empty(h);
    g_assert_cmpuint(h->resets, ==, 0);
    g_free(h);
}

static void test_queue_overflow(void)
{
    struct harness *h = h_new();

    for (int i = 0; i < 40; i++) {
        CMD(h, 0xd2);
        OUT(h, i);
    }
    g_assert_cmpuint(h->s.q_count, ==, I8042_QUEUE_LEN);
    for (int i = 0; i < I8042_QUEUE_LEN; i++) {
        g_assert_cmphex(take(h, false), ==, i);
    }
    expect_empty(h);
    g_assert_cmphex(DATA(h), ==, I8042_QUEUE_LEN - 1);
    g_free(h);
}

static void test_core_reset(void)
{
    struct harness *h = h_new();

    CMD(h, 0x60);
    OUT(h, 0x77);
    CMD(h, 0xd4);
    OUT(h, 0xf4);
    CMD(h, 0x60); /* left pending */
    g_assert_true(h->level[I8042_LINE_AUX]);
    i8042_core_reset(&h->s);
    g_assert_false(h->level[0] || h->level[1]);
    g_assert_cmphex(STATUS(h), ==, 0x18);
    /* the pending 0x60 is gone: this byte goes to the keyboard */
    OUT(h, 0xee);
    g_assert_cmphex(take(h, false), ==, 0xee);
    CMD(h, 0x20);
    g_assert_cmphex(take(h, false), ==, 0x03);
    g_assert_cmpuint(h->s.aux_enabled, ==, 0);
    g_free(h);
}

static void check_invariants(struct harness *h)
{
    struct i8042_state *s = &h->s;

    g_assert_cmpuint(s->q_count, <=, I8042_QUEUE_LEN);
    g_assert_cmpuint(s->q_head, <, I8042_QUEUE_LEN);
    g_assert_cmpuint(!!(s->status & I8042_STS_OBF), ==, s->q_count > 0);
    g_assert_true(s->kbd_scan_set >= 1 && s->kbd_scan_set <= 3);
    g_assert_true(s->outport & I8042_OUT_RESET);
    if (h->level[0] || h->level[1]) {
        g_assert_true(s->q_count > 0);
    }
    g_assert_false(h->level[0] && h->level[1]);
}

static void test_random_ops(void)
{
    GRand *r = g_rand_new_with_seed(8042);
    struct harness *h = h_new();

    for (int i = 0; i < 200000; i++) {
        unsigned op = g_rand_int_range(r, 0, 5);
        uint8_t v = g_rand_int(r);

        switch (op) {
        case 0:
            CMD(h, v);
            break;
        case 1:
            OUT(h, v);
            break;
        case 2:
            DATA(h);
            break;
        case 3:
            STATUS(h);
            break;
        default:
            i8042_core_write(&h->s, 2 + (v & 7), v);
            g_assert_cmphex(i8042_core_read(&h->s, 2 + (v & 7)), ==, 0xff);
            break;
        }
        check_invariants(h);
    }
    g_assert_cmpuint(h->resets, >, 0);
    g_free(h);
    g_rand_free(r);
}

enum {
    SV_STATUS = 0,
    SV_OUTPORT = 2,
    SV_PENDING = 3,
    SV_QAUX = 21,
    SV_QHEAD = 37,
    SV_QCOUNT = 38,
    SV_KBD_PENDING = 39,
    SV_SCAN_SET = 40,
    SV_AUX_ENABLED = 46,
    SV_LEN = 48,
};

static GByteArray *saved_with_data(void)
{
    struct harness *a = h_new();
    GByteArray *b = g_byte_array_new();

    CMD(a, 0xd3);
    OUT(a, 0x11);
    CMD(a, 0xd2);
    OUT(a, 0x22);
    g_assert_true(vmstate_save(&i8042_core_vmsd, &a->s, b, NULL));
    g_assert_cmpuint(b->len, ==, SV_LEN);
    g_free(a);
    return b;
}

static void test_vmstate(void)
{
    GByteArray *b = saved_with_data();
    struct harness *h = h_new();
    size_t pos = 0;
    Error *err = NULL;

    /* a stream cannot claim OBF: it is derived from the queue */
    b->data[SV_STATUS] |= I8042_STS_IBF;
    g_assert_true(
        vmstate_load(&i8042_core_vmsd, &h->s, b->data, b->len, &pos, &err));
    g_assert_null(err);
    g_assert_true(h->level[I8042_LINE_AUX]);
    g_assert_cmphex(STATUS(h) & 0x23, ==, 0x21);
    g_assert_cmphex(take(h, true), ==, 0x11);
    g_assert_cmphex(take(h, false), ==, 0x22);
    expect_empty(h);
    g_byte_array_unref(b);
    g_free(h);
}

static void expect_refused(size_t off, uint8_t val, const char *needle)
{
    GByteArray *b = saved_with_data();
    struct harness *h = h_new();
    size_t pos = 0;
    Error *err = NULL;

    b->data[off] = val;
    g_assert_false(
        vmstate_load(&i8042_core_vmsd, &h->s, b->data, b->len, &pos, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), needle)) {
        g_test_message("got: %s", error_get_pretty(err));
    }
    g_assert_nonnull(strstr(error_get_pretty(err), needle));
    /* untouched: still the reset state */
    g_assert_cmpuint(h->s.q_count, ==, 0);
    g_assert_cmphex(STATUS(h), ==, 0x18);
    error_free(err);
    g_byte_array_unref(b);
    g_free(h);
}

static void test_vmstate_validation(void)
{
    expect_refused(SV_QCOUNT, 17, "count");
    expect_refused(SV_QHEAD, 16, "head");
    expect_refused(SV_QAUX + 3, 2, "q_aux[3]");
    expect_refused(SV_PENDING, 0x20, "0x20");
    expect_refused(SV_KBD_PENDING, 0x42, "0x42");
    expect_refused(SV_SCAN_SET, 0, "scan code set");
    expect_refused(SV_AUX_ENABLED, 5, "enable");
    expect_refused(SV_OUTPORT, 0xce, "reset");
}

/* The device drives the lines the board gave it (kbd-irq, mouse-irq), on
 * the machine's GSIs, never anything else. */
static void test_device_irq_lines(void)
{
    extern const struct device_class i8042_class;
    static const char *const moved[] = {"kbd-irq", "5", "mouse-irq", "7", NULL};
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &i8042_class, moved, NULL);

    g_assert_nonnull(d);
    th_out(m, 0x64, 0xd2, 1); /* a byte "from the keyboard" */
    th_out(m, 0x60, 0x33, 1);
    g_assert_true(th_gsi_level(m, 5));
    g_assert_false(th_gsi_level(m, 1));
    g_assert_false(th_gsi_level(m, 7));
    g_assert_cmphex(th_in(m, 0x60, 1), ==, 0x33);
    g_assert_false(th_gsi_level(m, 5));
    th_out(m, 0x64, 0xd3, 1); /* and one "from the mouse" */
    th_out(m, 0x60, 0x44, 1);
    g_assert_true(th_gsi_level(m, 7));
    g_assert_false(th_gsi_level(m, 5));
    g_assert_cmphex(th_in(m, 0x60, 1), ==, 0x44);
    g_assert_false(th_gsi_level(m, 7));
    g_assert_cmpuint(th_gsi_edges(m, 5), ==, 1);
    g_assert_cmpuint(th_gsi_edges(m, 7), ==, 1);
    for (unsigned i = 0; i < TH_NR_GSI; i++) {
        if (i != 5 && i != 7) {
            g_assert_cmpuint(th_gsi(m)->calls[i], ==, 0);
        }
    }
    th_device_free(d);
    th_machine_free(m);
}

/* A machine with fewer GSIs than the property asks for refuses it. */
static void test_device_no_line(void)
{
    extern const struct device_class i8042_class;
    struct machine *m = th_machine_new();
    Error *err = NULL;

    m->nr_gsi = 4;
    g_assert_null(th_device_new(m, &i8042_class, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "interrupt line 12"));
    error_free(err);
    m->nr_gsi = TH_NR_GSI;
    th_machine_free(m);
}

static void test_device(void)
{
    extern const struct device_class i8042_class;
    static const char *const bad[] = {"mouse-irq", "16", NULL};
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &i8042_class, NULL, NULL);
    enum shutdown_cause cause;
    GString *map = g_string_new(NULL);
    Error *err = NULL;

    g_assert_nonnull(d);
    as_describe(m->pio, map);
    g_assert_nonnull(
        strstr(map->str, "0000000000000060-0000000000000060 i8042-data"));
    g_assert_nonnull(
        strstr(map->str, "0000000000000064-0000000000000064 i8042-cmd"));
    g_assert_cmphex(th_in(m, 0x64, 1), ==, 0x18);
    th_out(m, 0x64, 0xaa, 1);
    g_assert_cmphex(th_in(m, 0x64, 1) & 1, ==, 1);
    g_assert_cmphex(th_in(m, 0x60, 1), ==, 0x55);
    g_assert_cmphex(th_take_requests(m, NULL), ==, 0);
    th_out(m, 0x64, 0xfe, 1);
    g_assert_cmphex(th_take_requests(m, &cause), ==, REQ_RESET);
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_RESET);
    /* device reset through the class */
    th_out(m, 0x64, 0xaa, 1);
    th_reset(d);
    g_assert_cmphex(th_in(m, 0x64, 1), ==, 0x18);
    g_assert_null(th_device_new(m, &i8042_class, bad, &err));
    g_assert_nonnull(err);
    error_free(err);
    th_device_free(d);
    g_string_truncate(map, 0);
    as_describe(m->pio, map);
    g_assert_null(strstr(map->str, "i8042"));
    g_string_free(map, TRUE);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/i8042/reset-values", test_reset_values);
    g_test_add_func("/i8042/controller-tests", test_controller_tests);
    g_test_add_func("/i8042/command-byte", test_command_byte);
    g_test_add_func("/i8042/reset-line", test_reset_line);
    g_test_add_func("/i8042/aux-loop-irq", test_aux_loop_and_irq);
    g_test_add_func("/i8042/irq-edge-per-byte", test_irq_edge_per_byte);
    g_test_add_func("/i8042/keyboard", test_keyboard);
    g_test_add_func("/i8042/mouse", test_mouse);
    g_test_add_func("/i8042/linux-probe", test_linux_probe);
    g_test_add_func("/i8042/queue-overflow", test_queue_overflow);
    g_test_add_func("/i8042/core-reset", test_core_reset);
    g_test_add_func("/i8042/random-ops", test_random_ops);
    g_test_add_func("/i8042/vmstate", test_vmstate);
    g_test_add_func("/i8042/vmstate-validation", test_vmstate_validation);
    g_test_add_func("/i8042/device", test_device);
    g_test_add_func("/i8042/device-irq-lines", test_device_irq_lines);
    g_test_add_func("/i8042/device-no-line", test_device_no_line);
    return g_test_run();
}
