/* SPDX-License-Identifier: MIT */
/*
 * x86-intc.c: the interrupt wiring of vireo's x86 boards (see x86-intc.h):
 * the "kvm-irqchip" device that turns the machine's GSI lines into
 * KVM_IRQ_LINE calls on KVM's whole in-kernel irqchip (kernel-irqchip=on),
 * and the MSI sender over KVM.  This is the only place (with the IOAPIC)
 * where a device's interrupt meets the accelerator, so devices stay
 * accelerator-agnostic and unit-testable with a recording line.
 */
#include "util/common.h"
#include "hw/intc/x86-intc.h"
#include "accel/kvm/kvm.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "system/machine.h"

/* ---- MSIs through KVM -------------------------------------------------- */

static bool kvm_msi_send(void *opaque, struct msi_msg msg)
{
    return kvm_signal_msi(opaque, msg.addr, msg.data) >= 0;
}

static int kvm_msi_route_add_op(void *opaque, struct msi_msg msg, Error **errp)
{
    return kvm_msi_route_add(opaque, msg.addr, msg.data, errp);
}

static bool kvm_msi_route_update_op(void *opaque, int route, struct msi_msg msg,
                                    Error **errp)
{
    return kvm_msi_route_update(opaque, route, msg.addr, msg.data, errp);
}

static void kvm_msi_route_del_op(void *opaque, int route)
{
    kvm_msi_route_release(opaque, route);
}

static bool kvm_msi_irqfd_bind(void *opaque, int route, int fd, Error **errp)
{
    return kvm_irqfd(opaque, fd, route, true, errp);
}

static void kvm_msi_irqfd_unbind(void *opaque, int route, int fd)
{
    kvm_irqfd(opaque, fd, route, false, NULL);
}

static const struct msi_sender_ops kvm_msi_ops = {
    .send = kvm_msi_send,
    .route_add = kvm_msi_route_add_op,
    .route_update = kvm_msi_route_update_op,
    .route_del = kvm_msi_route_del_op,
    .irqfd_bind = kvm_msi_irqfd_bind,
    .irqfd_unbind = kvm_msi_irqfd_unbind,
};

void kvm_msi_sender_init(struct msi_sender *s, struct kvm_accel *k)
{
    s->ops = &kvm_msi_ops;
    s->opaque = k;
}

/* ---- kvm-irqchip: GSI lines into KVM's PIC and IOAPIC ------------------ */

struct kvm_irqchip_dev {
    struct device dev; /* first */
    struct machine *m;
    struct irq_line in[KVM_SPLIT_IOAPIC_PINS];
};

static void kvm_irqchip_input(void *opaque, unsigned gsi, bool level)
{
    struct kvm_irqchip_dev *d = opaque;

    /* KVM serialises the chip itself; no lock of ours is needed. */
    if (!kvm_set_irq(d->m->kvm, gsi, level)) {
        vlog_guest_error(&d->m->log, "kvm-irqchip: KVM_IRQ_LINE %u=%d failed",
                         gsi, level);
    }
}

static bool kvm_irqchip_realize(struct device *dev, struct machine *m,
                                Error **errp)
{
    struct kvm_irqchip_dev *d = (struct kvm_irqchip_dev *)dev;

    if (!m->kvm || m->kvm->irqchip != KVM_IRQCHIP_ON) {
        error_setg(errp, "kvm-irqchip: needs kernel-irqchip=on");
        return false;
    }
    if (m->gsi) {
        error_setg(errp, "kvm-irqchip: the machine's GSIs are wired already");
        return false;
    }
    d->m = m;
    for (unsigned i = 0; i < KVM_SPLIT_IOAPIC_PINS; i++) {
        irq_line_init(&d->in[i], kvm_irqchip_input, d, i);
    }
    m->gsi = d->in;
    m->nr_gsi = KVM_SPLIT_IOAPIC_PINS;
    return true;
}

static void kvm_irqchip_unrealize(struct device *dev)
{
    struct kvm_irqchip_dev *d = (struct kvm_irqchip_dev *)dev;

    if (d->m && d->m->gsi == d->in) {
        d->m->gsi = NULL;
        d->m->nr_gsi = 0;
    }
}

const struct device_class kvm_irqchip_class = {
    .name = "kvm-irqchip",
    .desc = "KVM's in-kernel PIC and IOAPIC (kernel-irqchip=on)",
    .size = sizeof(struct kvm_irqchip_dev),
    .user_creatable = false,
    .realize = kvm_irqchip_realize,
    .unrealize = kvm_irqchip_unrealize,
    /* The chip's state lives in KVM (KVM_GET_IRQCHIP); saving it belongs
     * to the accelerator's own section, not to this wiring. */
    .vmsd = NULL,
};

bool x86_intc_create(struct machine *m, Error **errp)
{
    const char *chip =
        m->kvm->irqchip == KVM_IRQCHIP_SPLIT ? "ioapic" : "kvm-irqchip";

    if (!device_create(m, chip, NULL, 0, errp)) {
        return false;
    }
    kvm_msi_sender_init(&m->msi, m->kvm);
    return true;
}
