/* SPDX-License-Identifier: MIT */
/*
 * irq.c: the KVM side of interrupts: KVM_IRQ_LINE for the whole in-kernel
 * irqchip, KVM_SIGNAL_MSI, the GSI routing table (KVM_SET_GSI_ROUTING),
 * irqfd and ioeventfd.  See kvm.h.  This file knows GSIs and messages,
 * never a device: hw/intc/ decides what a device's line means.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table is kept here
 * and rebuilt on every change: with the whole in-kernel irqchip it starts
 * with KVM's default entries (PIC and IOAPIC pins, as KVM's
 * kvm_setup_default_irq_routing makes them) so legacy lines keep working
 * once a device adds an MSI route; with a split irqchip it starts with the
 * userspace IOAPIC's level-triggered pins.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "system/memory.h"

/* KVM's own limit (KVM_MAX_IRQ_ROUTES). */
#define KVM_MAX_ROUTES 4096

static unsigned nr_default_routes(struct kvm_accel *k)
{
    /* 16 PIC entries and 24 IOAPIC entries */
    return k->irqchip == KVM_IRQCHIP_ON ? 16 + KVM_SPLIT_IOAPIC_PINS : 0;
}

static void add_default_routes(struct kvm_irq_routing *t)
{
    for (unsigned gsi = 0; gsi < KVM_SPLIT_IOAPIC_PINS; gsi++) {
        struct kvm_irq_routing_entry *e;

        if (gsi < 16) {
            e = &t->entries[t->nr++];
            e->gsi = gsi;
            e->type = KVM_IRQ_ROUTING_IRQCHIP;
            e->u.irqchip.irqchip =
                gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
            e->u.irqchip.pin = gsi % 8;
        }
        e = &t->entries[t->nr++];
        e->gsi = gsi;
        e->type = KVM_IRQ_ROUTING_IRQCHIP;
        e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
        e->u.irqchip.pin = gsi;
    }
}

static void add_msi(struct kvm_irq_routing *t, const struct kvm_msi_route *r)
{
    struct kvm_irq_routing_entry *e = &t->entries[t->nr++];

    e->gsi = r->gsi;
    e->type = KVM_IRQ_ROUTING_MSI;
    e->u.msi.address_lo = (uint32_t)r->addr;
    e->u.msi.address_hi = (uint32_t)(r->addr >> 32);
    e->u.msi.data = r->data;
}

/* Builds and installs the table; route_lock held. */
static bool commit_routes(struct kvm_accel *k, Error **errp)
{
    unsigned extra = k->msi_routes ? k->msi_routes->len : 0;
    unsigned max = nr_default_routes(k) + k->nr_pin_routes + extra;
    struct kvm_irq_routing *t =
        g_malloc0(sizeof(*t) + max * sizeof(struct kvm_irq_routing_entry));
    unsigned nr;
    int ret;

    if (k->irqchip == KVM_IRQCHIP_ON) {
        add_default_routes(t);
    }
    for (unsigned i = 0; i < k->nr_pin_routes; i++) {
        add_msi(t, &k->pin_routes[i]);
    }
    for (unsigned i = 0; i < extra; i++) {
        const struct kvm_msi_route *r =
            &g_array_index(k->msi_routes, struct kvm_msi_route, i);
        if (r->gsi) {
            add_msi(t, r);
        }
    }
    nr = t->nr;
    ret = kvm_ioctl(k, k->vm_fd, KVM_SET_GSI_ROUTING, t);
    g_free(t);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "KVM_SET_GSI_ROUTING (%u routes) failed",
                         nr);
        return false;
    }
    return true;
}

bool kvm_set_irq(struct kvm_accel *k, unsigned gsi, bool level)
{
    struct kvm_irq_level irq = {.irq = gsi, .level = level};

    if (k->irqchip != KVM_IRQCHIP_ON || gsi >= KVM_SPLIT_IOAPIC_PINS) {
        return false;
    }
    return kvm_ioctl(k, k->vm_fd, KVM_IRQ_LINE, &irq) >= 0;
}

void kvm_set_eoi_sink(struct kvm_accel *k, const struct kvm_eoi_sink *sink,
                      void *opaque)
{
    k->eoi_sink = sink;
    k->eoi_opaque = opaque;
}

void kvm_ioapic_eoi(struct kvm_accel *k, unsigned vector)
{
    if (k->eoi_sink) {
        k->eoi_sink->eoi(k->eoi_opaque, vector);
    }
}

int kvm_signal_msi(struct kvm_accel *k, uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr,
        .address_hi = (uint32_t)(addr >> 32),
        .data = data,
    };

    return kvm_ioctl(k, k->vm_fd, KVM_SIGNAL_MSI, &msi);
}

bool kvm_set_msi_routes(struct kvm_accel *k, const struct kvm_msi_route *r,
                        unsigned n, Error **errp)
{
    bool ok;

    if (k->irqchip != KVM_IRQCHIP_SPLIT) {
        error_setg(errp, "IOAPIC pin routes need kernel-irqchip=split");
        return false;
    }
    if (n > KVM_SPLIT_IOAPIC_PINS) {
        error_setg(errp, "%u IOAPIC pin routes (at most %d)", n,
                   KVM_SPLIT_IOAPIC_PINS);
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        if (r[i].gsi >= KVM_SPLIT_IOAPIC_PINS) {
            error_setg(errp, "IOAPIC pin route for GSI %u (pins are 0-%d)",
                       r[i].gsi, KVM_SPLIT_IOAPIC_PINS - 1);
            return false;
        }
    }
    g_mutex_lock(&k->route_lock);
    memcpy(k->pin_routes, r, n * sizeof(*r));
    k->nr_pin_routes = n;
    ok = commit_routes(k, errp);
    g_mutex_unlock(&k->route_lock);
    return ok;
}

/* The slot of an allocated route; route_lock held. */
static struct kvm_msi_route *find_route(struct kvm_accel *k, int gsi)
{
    unsigned i = (unsigned)gsi - KVM_SPLIT_IOAPIC_PINS;

    if (gsi < KVM_SPLIT_IOAPIC_PINS || !k->msi_routes ||
        i >= k->msi_routes->len) {
        return NULL;
    }
    struct kvm_msi_route *r =
        &g_array_index(k->msi_routes, struct kvm_msi_route, i);
    return r->gsi ? r : NULL;
}

int kvm_msi_route_add(struct kvm_accel *k, uint64_t addr, uint32_t data,
                      Error **errp)
{
    struct kvm_msi_route *r = NULL;
    unsigned i;
    int gsi = -1;

    g_mutex_lock(&k->route_lock);
    if (!k->msi_routes) {
        k->msi_routes = g_array_new(FALSE, TRUE, sizeof(struct kvm_msi_route));
    }
    for (i = 0; i < k->msi_routes->len; i++) {
        r = &g_array_index(k->msi_routes, struct kvm_msi_route, i);
        if (!r->gsi) {
            break;
        }
    }
    if (i == k->msi_routes->len) {
        if (KVM_SPLIT_IOAPIC_PINS + i >= KVM_MAX_ROUTES) {
            error_setg(errp, "no free GSI for an MSI route (KVM allows %d)",
                       KVM_MAX_ROUTES);
            goto out;
        }
        g_array_set_size(k->msi_routes, i + 1);
        r = &g_array_index(k->msi_routes, struct kvm_msi_route, i);
    }
    *r = (struct kvm_msi_route){KVM_SPLIT_IOAPIC_PINS + i, addr, data};
    if (!commit_routes(k, errp)) {
        r->gsi = 0;
        goto out;
    }
    gsi = (int)(KVM_SPLIT_IOAPIC_PINS + i);
out:
    g_mutex_unlock(&k->route_lock);
    return gsi;
}

bool kvm_msi_route_update(struct kvm_accel *k, int gsi, uint64_t addr,
                          uint32_t data, Error **errp)
{
    struct kvm_msi_route *r;
    bool ok = false;

    g_mutex_lock(&k->route_lock);
    r = find_route(k, gsi);
    if (!r) {
        error_setg(errp, "GSI %d is not an allocated MSI route", gsi);
    } else if (r->addr == addr && r->data == data) {
        ok = true; /* each commit costs KVM an SRCU grace period */
    } else {
        r->addr = addr;
        r->data = data;
        ok = commit_routes(k, errp);
    }
    g_mutex_unlock(&k->route_lock);
    return ok;
}

void kvm_msi_route_release(struct kvm_accel *k, int gsi)
{
    struct kvm_msi_route *r;

    g_mutex_lock(&k->route_lock);
    r = find_route(k, gsi);
    if (r) {
        r->gsi = 0;
        /* A stale entry is harmless (nothing signals it); keep going. */
        commit_routes(k, NULL);
    }
    g_mutex_unlock(&k->route_lock);
}

bool kvm_irqfd(struct kvm_accel *k, int fd, int gsi, bool assign, Error **errp)
{
    struct kvm_irqfd req = {
        .fd = (uint32_t)fd,
        .gsi = (uint32_t)gsi,
        .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
    };
    int r;

    if (fd < 0 || gsi < 0) {
        error_setg(errp, "irqfd: bad fd %d or GSI %d", fd, gsi);
        return false;
    }
    r = kvm_ioctl(k, k->vm_fd, KVM_IRQFD, &req);
    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_IRQFD (%s fd %d, GSI %d) failed",
                         assign ? "assign" : "deassign", fd, gsi);
        return false;
    }
    return true;
}

static bool pio_eventfd(void *opaque, uint64_t addr, unsigned len,
                        bool datamatch, uint64_t data, int fd, bool assign,
                        Error **errp)
{
    return kvm_ioeventfd(opaque, fd, addr, len, true, datamatch, data, assign,
                         errp);
}

static bool mmio_eventfd(void *opaque, uint64_t addr, unsigned len,
                         bool datamatch, uint64_t data, int fd, bool assign,
                         Error **errp)
{
    return kvm_ioeventfd(opaque, fd, addr, len, false, datamatch, data, assign,
                         errp);
}

const struct as_eventfd_listener kvm_pio_eventfd_listener = {pio_eventfd};
const struct as_eventfd_listener kvm_mmio_eventfd_listener = {mmio_eventfd};

bool kvm_ioeventfd(struct kvm_accel *k, int fd, uint64_t addr, unsigned len,
                   bool pio, bool datamatch, uint64_t data, bool assign,
                   Error **errp)
{
    struct kvm_ioeventfd req = {
        .datamatch = datamatch ? data : 0,
        .addr = addr,
        .len = len,
        .fd = fd,
    };
    int r;

    if (fd < 0 || (len != 1 && len != 2 && len != 4 && len != 8) ||
        (pio && addr + len > 0x10000)) {
        error_setg(errp,
                   "ioeventfd: bad fd %d, length %u or address 0x%" PRIx64, fd,
                   len, addr);
        return false;
    }
    req.flags = (datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
                (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
                (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN);
    r = kvm_ioctl(k, k->vm_fd, KVM_IOEVENTFD, &req);
    if (r < 0) {
        error_setg_errno(
            errp, -r, "KVM_IOEVENTFD (%s %s 0x%" PRIx64 "+%u) failed",
            assign ? "assign" : "deassign", pio ? "port" : "mmio", addr, len);
        return false;
    }
    return true;
}
