/* SPDX-License-Identifier: MIT */
/*
 * x86-intc.h: how an x86 KVM board wires its interrupt controllers: the
 * GSI lines (m->gsi) go to vireo's userspace IOAPIC with
 * kernel-irqchip=split or to KVM's in-kernel PIC+IOAPIC (KVM_IRQ_LINE) with
 * kernel-irqchip=on, and MSIs (m->msi) go to KVM's LAPICs through
 * KVM_SIGNAL_MSI or, for a device's eventfd, a GSI route and an irqfd.
 * Boards call x86_intc_create() before creating any interrupt source.
 */
#ifndef HW_INTC_X86_INTC_H
#define HW_INTC_X86_INTC_H

#include "util/common.h"
#include "util/error.h"

struct machine;
struct kvm_accel;
struct msi_sender;

/* Creates the IOAPIC device (split) or the kvm-irqchip device (on), which
 * install m->gsi, and sets m->msi. */
bool x86_intc_create(struct machine *m, Error **errp);
/* The MSI sender over KVM (KVM_SIGNAL_MSI, GSI routes, irqfd). */
void kvm_msi_sender_init(struct msi_sender *s, struct kvm_accel *k);

#endif
