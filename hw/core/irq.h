/* SPDX-License-Identifier: MIT */
/*
 * irq.h: interrupt lines and MSI senders, the only way a device signals an
 * interrupt.  A device is given its lines at realize (for an ISA device:
 * machine_gsi_line(m, its irq property)) and drives them with irq_set();
 * it never knows whether an IOAPIC model, KVM's in-kernel chip or a unit
 * test sits at the other end.  The board installs the receiving end
 * (hw/intc/: the userspace IOAPIC, or KVM's whole irqchip) in struct
 * machine's `gsi` and `msi`.  A bus-mastering device (PCI MSI/MSI-X) uses
 * a struct msi_sender instead: a message is an address/data pair as the
 * PCI Local Bus spec 3.0 section 6.8 and the SDM (vol. 3, 11.11) define.
 *
 * Lock model: a line's handler runs on the caller's thread with the
 * caller's device lock held; it may take the receiver's own lock (lock
 * order: source device, then interrupt controller) and never calls back
 * into a source device.
 */
#ifndef HW_CORE_IRQ_H
#define HW_CORE_IRQ_H

#include "util/common.h"
#include "util/error.h"
#include "system/machine.h"

struct machine;

/* The receiving end of a line: n is the input's number at the receiver. */
typedef void (*irq_handler_fn)(void *opaque, unsigned n, bool level);

struct irq_line {
    irq_handler_fn handler;
    void *opaque;
    unsigned n;
};

void irq_line_init(struct irq_line *l, irq_handler_fn fn, void *opaque,
                   unsigned n);
/* count lines, numbered 0..count-1, all with the same handler. */
struct irq_line *irq_lines_new(irq_handler_fn fn, void *opaque, unsigned count);
void irq_lines_free(struct irq_line *lines);

/* Drives the line.  A NULL line (not connected) does nothing. */
void irq_set(const struct irq_line *l, bool level);
static inline void irq_raise(const struct irq_line *l)
{
    irq_set(l, true);
}
static inline void irq_lower(const struct irq_line *l)
{
    irq_set(l, false);
}
/* An edge: raise then lower (an edge-triggered input latches it). */
void irq_pulse(const struct irq_line *l);

/* The board's GSI `gsi` (ISA IRQ n is GSI n on x86 boards); NULL with
 * errp set when the machine has no such input. */
struct irq_line *machine_gsi_line(struct machine *m, unsigned gsi,
                                  Error **errp);

/* ---- message-signalled interrupts ------------------------------------ */

struct msi_msg {
    uint64_t addr;
    uint32_t data;
};

/*
 * What the board offers a device that sends MSIs.  send is mandatory; the
 * route/irqfd ops are the fast path a device uses when an eventfd (for
 * instance a virtqueue's completion notifier) should interrupt the guest
 * without going through userspace: route_add gives a route id for a
 * message (KVM: a GSI with an MSI routing entry), irqfd_bind makes a write
 * to fd deliver it.  Each returns false / -1 with errp set when the board
 * cannot (a device then falls back to send()).
 */
struct msi_sender_ops {
    bool (*send)(void *opaque, struct msi_msg msg);
    int (*route_add)(void *opaque, struct msi_msg msg, Error **errp);
    bool (*route_update)(void *opaque, int route, struct msi_msg msg,
                         Error **errp);
    void (*route_del)(void *opaque, int route);
    bool (*irqfd_bind)(void *opaque, int route, int fd, Error **errp);
    void (*irqfd_unbind)(void *opaque, int route, int fd);
};

/* struct msi_sender { ops, opaque } is declared in system/machine.h (the
 * board's one lives in struct machine). */

/* Delivers one message now; false if nothing could (no sender, refused). */
bool msi_send(const struct msi_sender *s, struct msi_msg msg);
int msi_route_add(const struct msi_sender *s, struct msi_msg msg, Error **errp);
bool msi_route_update(const struct msi_sender *s, int route, struct msi_msg msg,
                      Error **errp);
void msi_route_del(const struct msi_sender *s, int route);
bool msi_irqfd_bind(const struct msi_sender *s, int route, int fd,
                    Error **errp);
void msi_irqfd_unbind(const struct msi_sender *s, int route, int fd);

#endif
