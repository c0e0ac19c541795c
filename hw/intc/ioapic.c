/* SPDX-License-Identifier: MIT */
/*
 * ioapic.c: the userspace I/O APIC for KVM's split irqchip (see ioapic.h
 * for the model and its lock rules).  Written from Intel's 82093AA
 * datasheet and the SDM's MSI format: a redirection entry becomes the MSI
 * address 0xfee00000 | dest << 12 | destmode << 2 and data vector |
 * delmode << 8 | trigger << 15 (| assert << 14 for level), which KVM's
 * LAPICs deliver.
 */
#include "util/common.h"
#include "hw/intc/ioapic.h"
#include "accel/kvm/kvm.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/memory.h"
#include "util/log.h"

#define MSI_ADDR_BASE 0xfee00000ULL

static bool rte_level(uint64_t rte)
{
    return rte & IOAPIC_RTE_LEVEL;
}

static unsigned rte_delmode(uint64_t rte)
{
    return (unsigned)(rte >> IOAPIC_RTE_DELMODE_SHIFT) & 7;
}

struct ioapic_msg ioapic_rte_msg(uint64_t rte)
{
    struct ioapic_msg m;

    m.addr = MSI_ADDR_BASE | ((rte >> IOAPIC_RTE_DEST_SHIFT) & 0xff) << 12 |
             ((rte & IOAPIC_RTE_DESTMODE) ? 1u << 2 : 0);
    m.data = (uint32_t)(rte & IOAPIC_RTE_VECTOR) | rte_delmode(rte) << 8;
    if (rte_level(rte)) {
        m.data |= 1u << 15 | 1u << 14;
    }
    return m;
}

/* Tells the accelerator which pins are level-triggered and what they send,
 * so that their EOIs come back (KVM_EXIT_IOAPIC_EOI).  Masked pins keep
 * their route: Linux masks a level interrupt while its handler runs, and
 * the EOI that follows must still clear Remote IRR. */
static void update_routes(struct ioapic_state *s, bool force)
{
    unsigned pins[IOAPIC_NUM_PINS];
    struct ioapic_msg msgs[IOAPIC_NUM_PINS];
    uint32_t routed = 0;
    bool same = true;
    unsigned n = 0;

    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        if (!rte_level(s->redtbl[i])) {
            continue;
        }
        routed |= 1u << i;
        pins[n] = i;
        msgs[n] = ioapic_rte_msg(s->redtbl[i]);
        if (!(s->routed & (1u << i)) || s->route_msg[i].addr != msgs[n].addr ||
            s->route_msg[i].data != msgs[n].data) {
            same = false;
        }
        s->route_msg[i] = msgs[n];
        n++;
    }
    if (routed != s->routed) {
        same = false;
    }
    s->routed = routed;
    if (same && !force) {
        return;
    }
    if (s->ops && s->ops->set_routes) {
        s->ops->set_routes(s->opaque, pins, msgs, n);
    }
}

static void deliver(struct ioapic_state *s, unsigned pin)
{
    uint64_t rte = s->redtbl[pin];
    unsigned mode = rte_delmode(rte);
    struct ioapic_msg m;

    if (mode == IOAPIC_DM_EXTINT || mode == 3 || mode == 6) {
        /* No 8259 behind this IOAPIC to ask for a vector; 3 and 6 are
         * reserved. */
        if (s->log) {
            vlog_guest_error(s->log,
                             "ioapic: pin %u has delivery mode %u, which "
                             "this machine cannot deliver; dropped",
                             pin, mode);
        }
        s->dropped++;
        return;
    }
    m = ioapic_rte_msg(rte);
    if (s->ops && s->ops->send_msi &&
        s->ops->send_msi(s->opaque, m.addr, m.data)) {
        s->delivered++;
    } else {
        s->dropped++;
    }
}

/* Delivers whatever pin has due. */
static void service(struct ioapic_state *s, unsigned pin)
{
    uint64_t *rte = &s->redtbl[pin];
    uint32_t bit = 1u << pin;

    if (*rte & IOAPIC_RTE_MASKED) {
        return;
    }
    if (rte_level(*rte)) {
        s->pending &= ~bit;
        if ((s->line & bit) && !(*rte & IOAPIC_RTE_REMOTE_IRR)) {
            /* Remote IRR only for fixed/lowest-priority messages: the
             * others are never EOI'd (SDM: NMI, SMI, INIT are edge). */
            unsigned mode = rte_delmode(*rte);
            if (mode == IOAPIC_DM_FIXED || mode == IOAPIC_DM_LOWEST) {
                *rte |= IOAPIC_RTE_REMOTE_IRR;
            }
            deliver(s, pin);
        }
    } else if (s->pending & bit) {
        s->pending &= ~bit;
        deliver(s, pin);
    }
}

void ioapic_core_init(struct ioapic_state *s, const struct ioapic_ops *ops,
                      void *opaque, struct vlog *log, uint8_t id)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->opaque = opaque;
    s->log = log;
    s->reset_id = id & 0xf;
    ioapic_core_reset(s);
}

void ioapic_core_reset(struct ioapic_state *s)
{
    s->id = s->reset_id;
    s->ioregsel = 0;
    s->pending = 0;
    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        s->redtbl[i] = IOAPIC_RTE_MASKED;
    }
    update_routes(s, false);
}

static uint32_t read_reg(struct ioapic_state *s)
{
    unsigned idx = s->ioregsel;

    switch (idx) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB:
        return (uint32_t)s->id << 24;
    case IOAPIC_REG_VER:
        return IOAPIC_VERSION | (IOAPIC_NUM_PINS - 1) << 16;
    default:
        break;
    }
    if (idx >= IOAPIC_REG_REDTBL &&
        idx < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        uint64_t rte = s->redtbl[(idx - IOAPIC_REG_REDTBL) / 2];
        return (idx & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
    }
    return 0;
}

static void write_reg(struct ioapic_state *s, uint32_t val)
{
    unsigned idx = s->ioregsel;
    unsigned pin;
    uint64_t old, rte;

    if (idx == IOAPIC_REG_ID) {
        s->id = (val >> 24) & 0xf;
        return;
    }
    if (idx < IOAPIC_REG_REDTBL ||
        idx >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        /* VER and ARB are read-only; the rest is reserved. */
        if (s->log) {
            vlog_guest_error(s->log,
                             "ioapic: write 0x%08" PRIx32
                             " to read-only or reserved register 0x%02x",
                             val, idx);
        }
        return;
    }
    pin = (idx - IOAPIC_REG_REDTBL) / 2;
    old = s->redtbl[pin];
    if (idx & 1) {
        rte = (old & 0xffffffffULL) | (uint64_t)val << 32;
    } else {
        rte = (old & ~0xffffffffULL) | val;
    }
    rte = (rte & IOAPIC_RTE_RW_MASK) | (old & IOAPIC_RTE_REMOTE_IRR);
    if (!rte_level(rte)) {
        /* Remote IRR is undefined for edge pins; keep it clear so a later
         * switch to level starts clean. */
        rte &= ~IOAPIC_RTE_REMOTE_IRR;
    }
    s->redtbl[pin] = rte;
    if (rte_level(rte) != rte_level(old) ||
        (rte_level(rte) &&
         ioapic_rte_msg(rte).data != ioapic_rte_msg(old).data) ||
        (rte_level(rte) &&
         ioapic_rte_msg(rte).addr != ioapic_rte_msg(old).addr)) {
        update_routes(s, false);
    }
    service(s, pin);
}

uint32_t ioapic_core_read(struct ioapic_state *s, uint64_t off, unsigned size)
{
    switch (off) {
    case IOAPIC_IOREGSEL:
        return s->ioregsel;
    case IOAPIC_IOWIN:
        return read_reg(s);
    default:
        return 0;
    }
}

void ioapic_core_write(struct ioapic_state *s, uint64_t off, uint32_t val,
                       unsigned size)
{
    switch (off) {
    case IOAPIC_IOREGSEL:
        s->ioregsel = (uint8_t)val;
        break;
    case IOAPIC_IOWIN:
        if (size != 4) {
            if (s->log) {
                vlog_guest_error(s->log,
                                 "ioapic: %u-byte write to IOWIN ignored (the "
                                 "window takes 32-bit accesses)",
                                 size);
            }
            return;
        }
        write_reg(s, val);
        break;
    case IOAPIC_EOI:
        ioapic_core_eoi(s, val & 0xff);
        break;
    default:
        if (s->log) {
            vlog_guest_error(s->log,
                             "ioapic: write 0x%" PRIx32
                             " to unassigned offset 0x%" PRIx64 " ignored",
                             val, off);
        }
        break;
    }
}

void ioapic_core_set_irq(struct ioapic_state *s, unsigned pin, bool level)
{
    uint32_t bit;
    bool old;

    if (pin >= IOAPIC_NUM_PINS) {
        return;
    }
    bit = 1u << pin;
    old = s->line & bit;
    if (level) {
        s->line |= bit;
    } else {
        s->line &= ~bit;
    }
    if (!rte_level(s->redtbl[pin])) {
        if (!level || old) {
            return; /* edge pins act on the rising edge only */
        }
        s->pending |= bit;
    }
    service(s, pin);
}

void ioapic_core_eoi(struct ioapic_state *s, unsigned vector)
{
    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        uint64_t *rte = &s->redtbl[i];
        if ((*rte & IOAPIC_RTE_VECTOR) != vector ||
            !(*rte & IOAPIC_RTE_REMOTE_IRR)) {
            continue;
        }
        *rte &= ~IOAPIC_RTE_REMOTE_IRR;
        service(s, i);
    }
}

void ioapic_core_post_load(struct ioapic_state *s)
{
    update_routes(s, true);
    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        service(s, i);
    }
}

static bool ioapic_core_vm_post_load(void *opaque, Error **errp)
{
    struct ioapic_state *s = opaque;

    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        if (s->redtbl[i] & ~(IOAPIC_RTE_RW_MASK | IOAPIC_RTE_REMOTE_IRR)) {
            error_setg(errp,
                       "ioapic: redirection entry %u (0x%016" PRIx64
                       ") has reserved bits set",
                       i, s->redtbl[i]);
            return false;
        }
    }
    if (s->id > 0xf || (s->line | s->pending) >> IOAPIC_NUM_PINS) {
        error_setg(errp, "ioapic: id %u or pin masks 0x%x/0x%x out of range",
                   s->id, s->line, s->pending);
        return false;
    }
    ioapic_core_post_load(s);
    return true;
}

static const struct vmstate_field ioapic_core_fields[] = {
    VMS_U8(struct ioapic_state, id),
    VMS_U8(struct ioapic_state, ioregsel),
    VMS_U32(struct ioapic_state, line),
    VMS_U32(struct ioapic_state, pending),
    VMS_U64_ARRAY(struct ioapic_state, redtbl, IOAPIC_NUM_PINS),
    VMS_END,
};

const struct vmstate_desc ioapic_core_vmsd = {
    .name = "ioapic-core",
    .version = 1,
    .fields = ioapic_core_fields,
    .post_load = ioapic_core_vm_post_load,
};

/* ---- device glue: the machine's IOAPIC ------------------------------- */

struct ioapic_dev {
    struct device dev; /* first */
    struct ioapic_state core;
    struct machine *m;
    /* The machine's GSI lines: input n drives pin n. */
    struct irq_line in[IOAPIC_NUM_PINS];
    bool wired; /* owns the GSIs and the EOI exits */
};

static uint64_t ioapic_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    struct ioapic_dev *d = opaque;

    return ioapic_core_read(&d->core, off, size);
}

static void ioapic_mmio_write(void *opaque, uint64_t off, uint64_t val,
                              unsigned size)
{
    struct ioapic_dev *d = opaque;

    ioapic_core_write(&d->core, off, (uint32_t)val, size);
}

static const struct io_ops ioapic_mmio_ops = {
    .read = ioapic_mmio_read,
    .write = ioapic_mmio_write,
    .min_size = 1,
    .max_size = 4,
};

static bool ioapic_send_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct ioapic_dev *d = opaque;

    return kvm_signal_msi(d->m->kvm, addr, data) >= 0;
}

static void ioapic_set_routes(void *opaque, const unsigned *pins,
                              const struct ioapic_msg *msgs, unsigned n)
{
    struct ioapic_dev *d = opaque;
    struct kvm_msi_route r[IOAPIC_NUM_PINS];
    Error *err = NULL;

    for (unsigned i = 0; i < n; i++) {
        r[i] = (struct kvm_msi_route){pins[i], msgs[i].addr, msgs[i].data};
    }
    if (!kvm_set_msi_routes(d->m->kvm, r, n, &err)) {
        /* Level interrupts of the changed pins would stay stuck in
         * Remote IRR: the host refused, so stop rather than hang. */
        error_prepend(&err, "ioapic: ");
        error_report_err(err);
        machine_request(d->m, REQ_INTERNAL_ERROR, SHUTDOWN_CAUSE_HOST_ERROR);
    }
}

static const struct ioapic_ops ioapic_dev_ops = {
    .send_msi = ioapic_send_msi,
    .set_routes = ioapic_set_routes,
};

/* A source device drives input pin (its own lock held: lock order). */
static void ioapic_input(void *opaque, unsigned pin, bool level)
{
    struct ioapic_dev *d = opaque;

    g_mutex_lock(&d->dev.lock);
    ioapic_core_set_irq(&d->core, pin, level);
    g_mutex_unlock(&d->dev.lock);
}

static void ioapic_lapic_eoi(void *opaque, unsigned vector)
{
    struct ioapic_dev *d = opaque;

    g_mutex_lock(&d->dev.lock);
    ioapic_core_eoi(&d->core, vector);
    g_mutex_unlock(&d->dev.lock);
}

static const struct kvm_eoi_sink ioapic_eoi_sink = {
    .eoi = ioapic_lapic_eoi,
};

static bool ioapic_realize(struct device *dev, struct machine *m, Error **errp)
{
    struct ioapic_dev *d = (struct ioapic_dev *)dev;
    unsigned ncpus = m->cfg->smp_cpus ? m->cfg->smp_cpus : 1;

    if (m->kvm->irqchip != KVM_IRQCHIP_SPLIT) {
        error_setg(errp, "ioapic: needs kernel-irqchip=split (with "
                         "kernel-irqchip=on KVM has its own IOAPIC)");
        return false;
    }
    if (m->gsi) {
        error_setg(errp, "ioapic: the machine's GSIs are wired already");
        return false;
    }
    d->m = m;
    /* The ID the MADT gives it: after the LAPICs (4 bits wide). */
    ioapic_core_init(&d->core, &ioapic_dev_ops, d, &m->log, (uint8_t)ncpus);
    if (!device_map(dev, m->mmio, IOAPIC_DEFAULT_ADDR, IOAPIC_MMIO_SIZE,
                    &ioapic_mmio_ops, "ioapic", errp)) {
        return false;
    }
    d->wired = true;
    for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
        irq_line_init(&d->in[i], ioapic_input, d, i);
    }
    m->gsi = d->in;
    m->nr_gsi = IOAPIC_NUM_PINS;
    kvm_set_eoi_sink(m->kvm, &ioapic_eoi_sink, d);
    return true;
}

static void ioapic_unrealize(struct device *dev)
{
    struct ioapic_dev *d = (struct ioapic_dev *)dev;

    if (d->wired) {
        kvm_set_eoi_sink(d->m->kvm, NULL, NULL);
        if (d->m->gsi == d->in) {
            d->m->gsi = NULL;
            d->m->nr_gsi = 0;
        }
        d->wired = false;
    }
}

/* device_reset() holds the device lock. */
static void ioapic_reset(struct device *dev)
{
    struct ioapic_dev *d = (struct ioapic_dev *)dev;

    ioapic_core_reset(&d->core);
}

static const struct vmstate_field ioapic_dev_fields[] = {
    {"core", VMS_T_STRUCT, offsetof(struct ioapic_dev, core),
     sizeof(struct ioapic_state), 1, &ioapic_core_vmsd},
    VMS_END,
};

static const struct vmstate_desc ioapic_dev_vmsd = {
    .name = "ioapic",
    .version = 1,
    .fields = ioapic_dev_fields,
};

const struct device_class ioapic_class = {
    .name = "ioapic",
    .desc = "I/O APIC (userspace, for kernel-irqchip=split)",
    .size = sizeof(struct ioapic_dev),
    .user_creatable = false,
    .realize = ioapic_realize,
    .reset = ioapic_reset,
    .unrealize = ioapic_unrealize,
    .vmsd = &ioapic_dev_vmsd,
};
