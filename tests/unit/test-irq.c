/* SPDX-License-Identifier: MIT */
/*
 * test-irq.c: the interrupt seam end to end without /dev/kvm.  Lines and
 * MSI senders (hw/core/irq.c); a device's line reaching the userspace
 * IOAPIC and leaving as KVM_SIGNAL_MSI with the vector the guest
 * programmed (kernel-irqchip=split), or reaching KVM_IRQ_LINE
 * (kernel-irqchip=on); the board's MSI sender over KVM; and the
 * accelerator's GSI routing table (IOAPIC pins, KVM's default irqchip
 * entries, allocated MSI routes), irqfd and ioeventfd arguments.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "fake-kvm.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "hw/intc/ioapic.h"
#include "hw/intc/x86-intc.h"
#include "system/machine.h"
#include "system/memory.h"

struct rec {
    GString *s;
};

static void rec_handler(void *opaque, unsigned n, bool level)
{
    struct rec *r = opaque;

    g_string_append_printf(r->s, "%u=%d;", n, level);
}

static void test_lines(void)
{
    struct rec r = {g_string_new(NULL)};
    struct irq_line *l = irq_lines_new(rec_handler, &r, 3);
    struct machine m = {0};
    Error *err = NULL;

    irq_raise(&l[2]);
    irq_lower(&l[2]);
    irq_pulse(&l[0]);
    irq_set(NULL, true); /* unconnected: nothing */
    g_assert_cmpstr(r.s->str, ==, "2=1;2=0;0=1;0=0;");
    /* the board's GSIs */
    g_assert_null(machine_gsi_line(&m, 0, &err));
    g_assert_nonnull(err);
    error_free(err);
    err = NULL;
    m.gsi = l;
    m.nr_gsi = 3;
    g_assert_true(machine_gsi_line(&m, 1, NULL) == &l[1]);
    g_assert_null(machine_gsi_line(&m, 3, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "this machine has no interrupt line 3 (GSIs 0-2)");
    error_free(err);
    irq_lines_free(l);
    g_string_free(r.s, TRUE);
}

static void test_msi_sender_absent(void)
{
    struct msi_sender none = {0};
    struct msi_msg msg = {0xfee00000, 0x30};
    Error *err = NULL;

    g_assert_false(msi_send(&none, msg));
    g_assert_false(msi_send(NULL, msg));
    g_assert_cmpint(msi_route_add(&none, msg, &err), ==, -1);
    g_assert_nonnull(strstr(error_get_pretty(err), "cannot route MSIs"));
    error_free(err);
    msi_route_del(&none, 24); /* harmless */
}

/* A machine on the fake KVM, with the real device table. */
struct fx {
    struct fake_kvm f;
    struct machine m;
    struct machine_config cfg;
};

static void fx_init(struct fx *x, enum kvm_irqchip_mode mode)
{
    Error *err = NULL;

    memset(x, 0, sizeof(*x));
    fake_kvm_init(&x->f);
    x->f.accel.vm_fd = FAKE_VM_FD;
    x->f.accel.irqchip = mode;
    x->cfg.smp_cpus = 1;
    x->m.cfg = &x->cfg;
    x->m.kvm = &x->f.accel;
    vlog_init(&x->m.log);
    g_mutex_init(&x->m.req_lock);
    x->m.req_event_fd = -1;
    x->m.pio = as_new("pio", &x->m.log);
    x->m.mmio = as_new("mmio", &x->m.log);
    x->m.devices = g_ptr_array_new();
    if (!x86_intc_create(&x->m, &err)) {
        g_error("%s", error_get_pretty(err));
    }
}

static void fx_clear(struct fx *x)
{
    for (guint i = x->m.devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(x->m.devices, i - 1));
    }
    /* the interrupt controller took its lines with it */
    g_assert_null(x->m.gsi);
    g_ptr_array_free(x->m.devices, TRUE);
    as_free(x->m.pio);
    as_free(x->m.mmio);
    g_mutex_clear(&x->m.req_lock);
    vlog_close(&x->m.log);
    fake_kvm_destroy(&x->f);
}

static struct device *add(struct fx *x, const char *text)
{
    struct device_opts *o = device_opts_parse(text, NULL);
    struct device *d;
    Error *err = NULL;

    g_assert_nonnull(o);
    d = device_create_opts(&x->m, o, &err);
    if (!d) {
        g_error("%s: %s", text, error_get_pretty(err));
    }
    device_opts_free(o);
    return d;
}

static void ioapic_wr(struct fx *x, uint32_t reg, uint32_t val)
{
    as_write(x->m.mmio, IOAPIC_DEFAULT_ADDR + IOAPIC_IOREGSEL, &reg, 4);
    as_write(x->m.mmio, IOAPIC_DEFAULT_ADDR + IOAPIC_IOWIN, &val, 4);
}

static void out8(struct fx *x, uint16_t port, uint8_t v)
{
    as_write(x->m.pio, port, &v, 1);
}

static const struct kvm_msi *last_msi(struct fx *x)
{
    g_assert_cmpuint(x->f.msis->len, >, 0);
    return &g_array_index(x->f.msis, struct kvm_msi, x->f.msis->len - 1);
}

/* kernel-irqchip=split: COM1's line is the IOAPIC's pin 4. */
static void test_split_serial_to_ioapic(void)
{
    struct fx x;

    fx_init(&x, KVM_IRQCHIP_SPLIT);
    g_assert_cmpuint(x.m.nr_gsi, ==, IOAPIC_NUM_PINS);
    add(&x, "isa-serial");
    /* pin 4 still masked (reset state): the edge is latched, no MSI */
    out8(&x, 0x3f9, 0x02); /* IER: THRI, THR empty: raises the line */
    g_assert_cmpuint(x.f.msis->len, ==, 0);
    /* unmasking delivers the latched edge: vector 0x31 to APIC 1 */
    ioapic_wr(&x, IOAPIC_REG_REDTBL + 9, 1u << 24);
    ioapic_wr(&x, IOAPIC_REG_REDTBL + 8, 0x31);
    g_assert_cmpuint(x.f.msis->len, ==, 1);
    g_assert_cmphex(last_msi(&x)->address_lo, ==, 0xfee01000);
    g_assert_cmphex(last_msi(&x)->data, ==, 0x31);
    /* IIR read lowers, a THR write raises again: a second edge */
    uint8_t iir;
    as_read(x.m.pio, 0x3fa, &iir, 1);
    g_assert_cmphex(iir, ==, 0x02);
    out8(&x, 0x3f8, 'x');
    g_assert_cmpuint(x.f.msis->len, ==, 2);
    /* no KVM_IRQ_LINE with a split chip */
    g_assert_cmpstr(x.f.irq_lines->str, ==, "");
    fx_clear(&x);
}

/* A level-triggered pin's route reaches KVM's table (for EOI exits), and
 * device MSI routes are added after the IOAPIC's pins. */
static void test_split_routes(void)
{
    struct fx x;
    struct msi_msg msg = {0xfee02000, 0x4055};
    Error *err = NULL;
    int gsi, gsi2;

    fx_init(&x, KVM_IRQCHIP_SPLIT);
    ioapic_wr(&x, IOAPIC_REG_REDTBL + 18, 0x41 | IOAPIC_RTE_LEVEL);
    g_assert_nonnull(x.f.routing);
    g_assert_cmpuint(x.f.routing->nr, ==, 1);
    g_assert_cmpuint(x.f.routing->entries[0].gsi, ==, 9);
    g_assert_cmphex(x.f.routing->entries[0].u.msi.data, ==, 0xc041);

    gsi = msi_route_add(&x.m.msi, msg, &err);
    g_assert_cmpint(gsi, ==, KVM_SPLIT_IOAPIC_PINS);
    g_assert_cmpuint(x.f.routing->nr, ==, 2);
    g_assert_cmpuint(x.f.routing->entries[1].gsi, ==, 24);
    g_assert_cmphex(x.f.routing->entries[1].u.msi.address_lo, ==, 0xfee02000);
    g_assert_cmphex(x.f.routing->entries[1].u.msi.data, ==, 0x4055);
    gsi2 = msi_route_add(&x.m.msi, msg, &err);
    g_assert_cmpint(gsi2, ==, 25);
    msg.data = 0x4056;
    g_assert_true(msi_route_update(&x.m.msi, gsi, msg, &err));
    g_assert_cmphex(x.f.routing->entries[1].u.msi.data, ==, 0x4056);
    g_assert_true(msi_irqfd_bind(&x.m.msi, gsi, 5, &err));
    msi_irqfd_unbind(&x.m.msi, gsi, 5);
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_IRQFD), ==, 2);
    /* a released GSI leaves the table and is reused */
    msi_route_del(&x.m.msi, gsi);
    g_assert_cmpuint(x.f.routing->nr, ==, 2);
    g_assert_cmpuint(x.f.routing->entries[1].gsi, ==, 25);
    g_assert_cmpint(msi_route_add(&x.m.msi, msg, &err), ==, gsi);
    /* not a route of ours */
    g_assert_false(msi_route_update(&x.m.msi, 9, msg, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "GSI 9"));
    error_free(err);
    err = NULL;
    /* a one-off message */
    g_assert_true(msi_send(&x.m.msi, msg));
    g_assert_cmphex(last_msi(&x)->data, ==, 0x4056);
    /* the IOAPIC's level pin survived all of it */
    g_assert_cmpuint(x.f.routing->entries[0].gsi, ==, 9);
    fx_clear(&x);
}

/* kernel-irqchip=on: lines become KVM_IRQ_LINE; an MSI route keeps KVM's
 * default PIC/IOAPIC entries in the table. */
static void test_whole_chip(void)
{
    struct fx x;
    struct msi_msg msg = {0xfee00000, 0x4061};
    Error *err = NULL;
    unsigned pic = 0, ioapic = 0;

    fx_init(&x, KVM_IRQCHIP_ON);
    g_assert_cmpuint(x.m.nr_gsi, ==, 24);
    add(&x, "isa-serial,index=1");
    out8(&x, 0x2f9, 0x02);
    g_assert_cmpstr(x.f.irq_lines->str, ==, "3=1;");
    out8(&x, 0x2f9, 0x00);
    g_assert_cmpstr(x.f.irq_lines->str, ==, "3=1;3=0;");
    g_assert_cmpint(msi_route_add(&x.m.msi, msg, &err), ==, 24);
    g_assert_cmpuint(x.f.routing->nr, ==, 16 + 24 + 1);
    for (unsigned i = 0; i < x.f.routing->nr - 1; i++) {
        const struct kvm_irq_routing_entry *e = &x.f.routing->entries[i];
        g_assert_cmpuint(e->type, ==, KVM_IRQ_ROUTING_IRQCHIP);
        if (e->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
            g_assert_cmpuint(e->u.irqchip.pin, ==, e->gsi);
            ioapic++;
        } else {
            g_assert_cmpuint(e->u.irqchip.pin, ==, e->gsi % 8);
            g_assert_cmpuint(e->u.irqchip.irqchip, ==,
                             e->gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
                                        : KVM_IRQCHIP_PIC_SLAVE);
            pic++;
        }
    }
    g_assert_cmpuint(pic, ==, 16);
    g_assert_cmpuint(ioapic, ==, 24);
    /* the IOAPIC pin routes belong to the split chip only */
    g_assert_false(kvm_set_msi_routes(x.m.kvm, NULL, 0, &err));
    error_free(err);
    fx_clear(&x);
}

/* Only one interrupt controller may own the GSIs. */
static void test_one_owner(void)
{
    struct fx x;
    Error *err = NULL;

    fx_init(&x, KVM_IRQCHIP_SPLIT);
    g_assert_null(device_create(&x.m, "ioapic", NULL, 0, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "wired already"));
    error_free(err);
    err = NULL;
    g_assert_null(device_create(&x.m, "kvm-irqchip", NULL, 0, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "kernel-irqchip=on"));
    error_free(err);
    fx_clear(&x);
}

static void test_accel_checks(void)
{
    struct fx x;
    Error *err = NULL;

    fx_init(&x, KVM_IRQCHIP_SPLIT);
    g_assert_false(kvm_set_irq(x.m.kvm, 4, true)); /* split: not KVM's */
    g_assert_false(kvm_irqfd(x.m.kvm, -1, 24, true, &err));
    error_free(err);
    err = NULL;
    g_assert_false(
        kvm_ioeventfd(x.m.kvm, 5, 0xffff, 2, true, false, 0, true, &err));
    error_free(err);
    err = NULL;
    g_assert_false(
        kvm_ioeventfd(x.m.kvm, 5, 0x1000, 3, false, false, 0, true, &err));
    error_free(err);
    err = NULL;
    g_assert_true(
        kvm_ioeventfd(x.m.kvm, 5, 0xd0000000, 4, false, true, 7, true, &err));
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_IOEVENTFD), ==, 1);
    /* a device's doorbell through the address space goes to KVM */
    as_set_eventfd_listener(x.m.pio, &kvm_pio_eventfd_listener, x.m.kvm);
    g_assert_true(as_add_eventfd(x.m.pio, 0xc050, 2, false, 0, 6, &err));
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_IOEVENTFD), ==, 2);
    g_assert_true(as_del_eventfd(x.m.pio, 0xc050, 2, false, 0, 6));
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_IOEVENTFD), ==, 3);
    fx_clear(&x);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irq/lines", test_lines);
    g_test_add_func("/irq/msi-sender-absent", test_msi_sender_absent);
    g_test_add_func("/irq/split-serial-to-ioapic", test_split_serial_to_ioapic);
    g_test_add_func("/irq/split-routes", test_split_routes);
    g_test_add_func("/irq/whole-chip", test_whole_chip);
    g_test_add_func("/irq/one-owner", test_one_owner);
    g_test_add_func("/irq/accel-checks", test_accel_checks);
    return g_test_run();
}
