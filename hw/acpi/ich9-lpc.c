/* SPDX-License-Identifier: MIT */
/*
 * ich9-lpc.c: the q35 board's ICH9 LPC function and its ACPI fixed
 * hardware (see ich9-lpc.h).  The PM block starts mapped at 0x600 with
 * SCI_EN set -- what SeaBIOS and OVMF leave behind on QEMU -- because
 * vireo boots kernels directly, with no firmware to program it; the guest
 * may move it through PMBASE/ACPI_CNTL as on hardware.
 */
#include "util/common.h"
#include "hw/acpi/ich9-lpc.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "hw/core/loader.h"
#include "hw/pci/pci.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/memory.h"

#define LPC_PMBASE 0x40
#define LPC_ACPI_CNTL 0x44
#define LPC_ACPI_CNTL_EN 0x80
#define LPC_PIRQA_ROUT 0x60
#define LPC_PIRQE_ROUT 0x68
#define LPC_RCBA 0xf0

#define PM1_STS_W1C                                                            \
    (ICH9_PM1_TMR_STS | ICH9_PM1_GBL_STS | ICH9_PM1_PWRBTN_STS |               \
     ICH9_PM1_RTC_STS | ICH9_PM1_WAK_STS | 0x0010)
#define PM1_EN_MASK                                                            \
    (ICH9_PM1_TMR_STS | ICH9_PM1_GBL_STS | ICH9_PM1_PWRBTN_STS |               \
     ICH9_PM1_RTC_STS)

struct ich9_lpc {
    struct pci_device pci; /* first */
    struct irq_line *sci;
    int64_t tmr_start_us;
    uint16_t pm_mapped; /* port the block is mapped at, 0: none */
    /* guest-visible state (vmstate) */
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint8_t gpe0_sts[ICH9_GPE0_LEN / 2], gpe0_en[ICH9_GPE0_LEN / 2];
};

extern const struct device_class ich9_lpc_class;

static void sci_update(struct ich9_lpc *l)
{
    bool gpe = false;

    for (unsigned i = 0; i < sizeof(l->gpe0_sts); i++) {
        gpe |= (l->gpe0_sts[i] & l->gpe0_en[i]) != 0;
    }
    irq_set(l->sci, (l->pm1_cnt & ICH9_PM1_CNT_SCI_EN) &&
                        ((l->pm1_sts & l->pm1_en & PM1_EN_MASK) || gpe));
}

static uint32_t pm_timer(const struct ich9_lpc *l)
{
    uint64_t us = (uint64_t)(g_get_monotonic_time() - l->tmr_start_us);

    /* 3.579545 MHz: us * 3579545 / 10^6 without overflow for ~150 years */
    return (uint32_t)((us / 1000000 * ICH9_PM_TIMER_HZ +
                       us % 1000000 * ICH9_PM_TIMER_HZ / 1000000) &
                      0xffffff);
}

static uint8_t pm_read_byte(struct ich9_lpc *l, unsigned off)
{
    switch (off) {
    case ICH9_PM1_STS:
    case ICH9_PM1_STS + 1:
        return (uint8_t)(l->pm1_sts >> (8 * (off - ICH9_PM1_STS)));
    case ICH9_PM1_EN:
    case ICH9_PM1_EN + 1:
        return (uint8_t)(l->pm1_en >> (8 * (off - ICH9_PM1_EN)));
    case ICH9_PM1_CNT:
    case ICH9_PM1_CNT + 1:
        return (uint8_t)(l->pm1_cnt >> (8 * (off - ICH9_PM1_CNT)));
    case ICH9_PM1_TMR:
    case ICH9_PM1_TMR + 1:
    case ICH9_PM1_TMR + 2:
    case ICH9_PM1_TMR + 3:
        return (uint8_t)(pm_timer(l) >> (8 * (off - ICH9_PM1_TMR)));
    default:
        break;
    }
    if (off >= ICH9_GPE0_STS && off < ICH9_GPE0_EN) {
        return l->gpe0_sts[off - ICH9_GPE0_STS];
    }
    if (off >= ICH9_GPE0_EN && off < ICH9_GPE0_STS + ICH9_GPE0_LEN) {
        return l->gpe0_en[off - ICH9_GPE0_EN];
    }
    return 0;
}

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    struct ich9_lpc *l = opaque;
    uint64_t v = 0;

    /* the timer is read as a whole so its bytes are consistent */
    if (off == ICH9_PM1_TMR && size == 4) {
        return pm_timer(l);
    }
    for (unsigned i = 0; i < size && off + i < ICH9_PMIO_SIZE; i++) {
        v |= (uint64_t)pm_read_byte(l, (unsigned)off + i) << (8 * i);
    }
    return v;
}

static void pm_sleep(struct ich9_lpc *l, unsigned typ)
{
    if (typ == ICH9_SLP_TYP_S5) {
        machine_request(l->pci.dev.m, REQ_SHUTDOWN,
                        SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        return;
    }
    vlog_guest_error(&l->pci.dev.m->log,
                     "ICH9-LPC: sleep type %u is not supported (only S5)", typ);
}

static void pm_write_byte(struct ich9_lpc *l, unsigned off, uint8_t b)
{
    unsigned sh;

    switch (off) {
    case ICH9_PM1_STS:
    case ICH9_PM1_STS + 1:
        sh = 8 * (off - ICH9_PM1_STS);
        l->pm1_sts &= (uint16_t) ~((uint16_t)b << sh & PM1_STS_W1C);
        return;
    case ICH9_PM1_EN:
    case ICH9_PM1_EN + 1:
        sh = 8 * (off - ICH9_PM1_EN);
        l->pm1_en = (uint16_t)((l->pm1_en & ~(0xffu << sh)) |
                               (((unsigned)b << sh) & PM1_EN_MASK));
        return;
    case ICH9_PM1_CNT:
        /* SCI_EN stays set: vireo has no SMI handler to give it to */
        l->pm1_cnt = (uint16_t)((l->pm1_cnt & 0xff00) | (b & 0x06) |
                                ICH9_PM1_CNT_SCI_EN);
        return;
    case ICH9_PM1_CNT + 1:
        /* SLP_EN (bit 13) is write-only: it triggers, never reads back */
        l->pm1_cnt = (uint16_t)((l->pm1_cnt & 0x00ff) | (b & 0x1c) << 8);
        if (b & (ICH9_PM1_CNT_SLP_EN >> 8)) {
            pm_sleep(l, (b >> 2) & 7);
        }
        return;
    default:
        break;
    }
    if (off >= ICH9_GPE0_STS && off < ICH9_GPE0_EN) {
        l->gpe0_sts[off - ICH9_GPE0_STS] &= (uint8_t)~b;
    } else if (off >= ICH9_GPE0_EN && off < ICH9_GPE0_STS + ICH9_GPE0_LEN) {
        l->gpe0_en[off - ICH9_GPE0_EN] = b;
    }
}

static void pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct ich9_lpc *l = opaque;

    for (unsigned i = 0; i < size && off + i < ICH9_PMIO_SIZE; i++) {
        pm_write_byte(l, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
    }
    sci_update(l);
}

static const struct io_ops pm_ops = {
    .read = pm_read,
    .write = pm_write,
    .min_size = 1,
    .max_size = 4,
    .unaligned_ok = true,
};

/* Maps the PM block where PMBASE and ACPI_CNTL say (dev lock held). */
static void pm_remap(struct ich9_lpc *l)
{
    struct machine *m = l->pci.dev.m;
    uint16_t base = (uint16_t)(ld_le32(l->pci.config + LPC_PMBASE) & 0xff80);
    bool on = l->pci.config[LPC_ACPI_CNTL] & LPC_ACPI_CNTL_EN;
    Error *err = NULL;

    if (on && base && base == l->pm_mapped) {
        return;
    }
    if (l->pm_mapped) {
        device_unmap(&l->pci.dev, m->pio, l->pm_mapped);
        l->pm_mapped = 0;
    }
    if (!on || !base) {
        return;
    }
    if (!device_map(&l->pci.dev, m->pio, base, ICH9_PMIO_SIZE, &pm_ops,
                    "ich9-pm", &err)) {
        vlog_guest_error(&m->log, "ICH9-LPC: PM block at 0x%x: %s", base,
                         error_get_pretty(err));
        error_free(err);
        return;
    }
    l->pm_mapped = base;
}

static void lpc_config_write(struct pci_device *pd, unsigned off, unsigned len)
{
    if (off < LPC_ACPI_CNTL + 1 && LPC_PMBASE < off + len) {
        pm_remap((struct ich9_lpc *)pd);
    }
}

static const struct pci_device_ops lpc_pci_ops = {
    .config_write = lpc_config_write,
};

static void lpc_reset(struct device *dev)
{
    struct ich9_lpc *l = (struct ich9_lpc *)dev;

    pci_device_reset(&l->pci);
    st_le32(l->pci.config + LPC_PMBASE, ICH9_PMBASE_DEFAULT | 1);
    l->pci.config[LPC_ACPI_CNTL] = LPC_ACPI_CNTL_EN; /* SCI on IRQ 9 */
    /* PIRQx_ROUT: routing disabled (APIC mode uses GSI 16..) */
    memset(l->pci.config + LPC_PIRQA_ROUT, 0x80, 4);
    memset(l->pci.config + LPC_PIRQE_ROUT, 0x80, 4);
    l->pm1_sts = 0;
    l->pm1_en = 0;
    l->pm1_cnt = ICH9_PM1_CNT_SCI_EN;
    memset(l->gpe0_sts, 0, sizeof(l->gpe0_sts));
    memset(l->gpe0_en, 0, sizeof(l->gpe0_en));
    l->tmr_start_us = g_get_monotonic_time();
    pm_remap(l);
    sci_update(l);
}

static bool lpc_realize(struct device *dev, struct machine *m, Error **errp)
{
    struct ich9_lpc *l = (struct ich9_lpc *)dev;
    static const struct pci_id id = {
        .vendor = 0x8086,
        .device = 0x2918, /* 82801IB (ICH9) LPC interface controller */
        .subsystem_vendor = 0x1af4,
        .subsystem = 0x1100,
        .revision = 2,
        .class_code = 0x060100, /* ISA bridge */
    };

    l->sci = machine_gsi_line(m, ICH9_SCI_IRQ, errp);
    if (!l->sci) {
        return false;
    }
    l->pci.ops = &lpc_pci_ops;
    if (!pci_device_realize(&l->pci, m, &id, errp)) {
        return false;
    }
    st_le32(l->pci.wmask + LPC_PMBASE, 0xff80);
    l->pci.wmask[LPC_ACPI_CNTL] = LPC_ACPI_CNTL_EN | 0x07;
    memset(l->pci.wmask + LPC_PIRQA_ROUT, 0x8f, 4);
    memset(l->pci.wmask + LPC_PIRQE_ROUT, 0x8f, 4);
    st_le32(l->pci.wmask + LPC_RCBA, 0xffffc001u);
    lpc_reset(dev);
    return true;
}

static void lpc_unrealize(struct device *dev)
{
    struct ich9_lpc *l = (struct ich9_lpc *)dev;

    irq_set(l->sci, false);
    pci_device_unrealize(&l->pci);
}

void ich9_lpc_power_button(struct device *dev)
{
    struct ich9_lpc *l = (struct ich9_lpc *)dev;

    g_mutex_lock(&dev->lock);
    l->pm1_sts |= ICH9_PM1_PWRBTN_STS;
    sci_update(l);
    g_mutex_unlock(&dev->lock);
}

uint16_t ich9_lpc_pm1_sts(struct device *dev)
{
    return ((struct ich9_lpc *)dev)->pm1_sts;
}

struct device *ich9_lpc_find(struct machine *m)
{
    for (guint i = 0; m && m->devices && i < m->devices->len; i++) {
        struct device *d = g_ptr_array_index(m->devices, i);
        if (d->cls == &ich9_lpc_class) {
            return d;
        }
    }
    return NULL;
}

static bool lpc_post_load(void *opaque, Error **errp)
{
    struct ich9_lpc *l = opaque;

    if (!(l->pm1_cnt & ICH9_PM1_CNT_SCI_EN) || (l->pm1_cnt & ~0x1c07u)) {
        error_setg(errp, "ICH9-LPC: PM1_CNT 0x%04x is invalid", l->pm1_cnt);
        return false;
    }
    l->pm1_sts &= PM1_STS_W1C;
    l->pm1_en &= PM1_EN_MASK;
    pci_update_mappings(&l->pci);
    pm_remap(l);
    sci_update(l);
    return true;
}

static const struct vmstate_field lpc_fields[] = {
    VMS_BUFFER(struct ich9_lpc, pci.config),
    VMS_U16(struct ich9_lpc, pm1_sts),
    VMS_U16(struct ich9_lpc, pm1_en),
    VMS_U16(struct ich9_lpc, pm1_cnt),
    VMS_BUFFER(struct ich9_lpc, gpe0_sts),
    VMS_BUFFER(struct ich9_lpc, gpe0_en),
    VMS_END,
};

static const struct vmstate_desc lpc_vmsd = {
    .name = "ICH9-LPC",
    .version = 1,
    .fields = lpc_fields,
    .post_load = lpc_post_load,
};

static const struct prop lpc_props[] = {
    PCI_DEVICE_PROPS(struct ich9_lpc, pci),
    PROP_END,
};

const struct device_class ich9_lpc_class = {
    .name = ICH9_LPC_CLASS,
    .desc = "ICH9 LPC bridge with the ACPI PM block (q35's 00:1f.0)",
    .size = sizeof(struct ich9_lpc),
    .props = lpc_props,
    .user_creatable = false,
    .realize = lpc_realize,
    .reset = lpc_reset,
    .unrealize = lpc_unrealize,
    .vmsd = &lpc_vmsd,
};
