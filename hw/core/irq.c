/* SPDX-License-Identifier: MIT */
/*
 * irq.c: interrupt lines and MSI senders (see irq.h).  Deliberately thin:
 * a line is a function pointer, so a device's interrupt costs one indirect
 * call to whatever the board wired behind it.
 */
#include "util/common.h"
#include "hw/core/irq.h"
#include "system/machine.h"

void irq_line_init(struct irq_line *l, irq_handler_fn fn, void *opaque,
                   unsigned n)
{
    l->handler = fn;
    l->opaque = opaque;
    l->n = n;
}

struct irq_line *irq_lines_new(irq_handler_fn fn, void *opaque, unsigned count)
{
    struct irq_line *l = g_new0(struct irq_line, count);

    for (unsigned i = 0; i < count; i++) {
        irq_line_init(&l[i], fn, opaque, i);
    }
    return l;
}

void irq_lines_free(struct irq_line *lines)
{
    g_free(lines);
}

void irq_set(const struct irq_line *l, bool level)
{
    if (l && l->handler) {
        l->handler(l->opaque, l->n, level);
    }
}

void irq_pulse(const struct irq_line *l)
{
    irq_set(l, true);
    irq_set(l, false);
}

struct irq_line *machine_gsi_line(struct machine *m, unsigned gsi, Error **errp)
{
    if (!m->gsi || gsi >= m->nr_gsi) {
        error_setg(errp, "this machine has no interrupt line %u (GSIs 0-%d)",
                   gsi, (int)m->nr_gsi - 1);
        return NULL;
    }
    return &m->gsi[gsi];
}

/* ---- MSI ------------------------------------------------------------ */

bool msi_send(const struct msi_sender *s, struct msi_msg msg)
{
    return s && s->ops && s->ops->send && s->ops->send(s->opaque, msg);
}

static bool no_fast_path(const struct msi_sender *s, Error **errp)
{
    if (!s || !s->ops || !s->ops->route_add || !s->ops->irqfd_bind) {
        error_setg(errp, "this machine cannot route MSIs to an eventfd");
        return true;
    }
    return false;
}

int msi_route_add(const struct msi_sender *s, struct msi_msg msg, Error **errp)
{
    if (no_fast_path(s, errp)) {
        return -1;
    }
    return s->ops->route_add(s->opaque, msg, errp);
}

bool msi_route_update(const struct msi_sender *s, int route, struct msi_msg msg,
                      Error **errp)
{
    if (no_fast_path(s, errp)) {
        return false;
    }
    return s->ops->route_update(s->opaque, route, msg, errp);
}

void msi_route_del(const struct msi_sender *s, int route)
{
    if (s && s->ops && s->ops->route_del) {
        s->ops->route_del(s->opaque, route);
    }
}

bool msi_irqfd_bind(const struct msi_sender *s, int route, int fd, Error **errp)
{
    if (no_fast_path(s, errp)) {
        return false;
    }
    return s->ops->irqfd_bind(s->opaque, route, fd, errp);
}

void msi_irqfd_unbind(const struct msi_sender *s, int route, int fd)
{
    if (s && s->ops && s->ops->irqfd_unbind) {
        s->ops->irqfd_unbind(s->opaque, route, fd);
    }
}
