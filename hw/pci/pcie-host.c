/* SPDX-License-Identifier: MIT */
/*
 * pcie-host.c: the q35 PCIe host bridge and its 00.0 function (see
 * pcie-host.h).  The host owns the configuration windows -- ECAM in MMIO,
 * CONFIG_ADDRESS/CONFIG_DATA and the reset control register in port
 * space -- and the root bus; every access is checked and decoded by
 * pci-host.c.  The MCH's PCIEXBAR, PAM and SMRAM registers are plain
 * storage: vireo's ECAM window is fixed at 0xb0000000 (where SeaBIOS and
 * OVMF put it on QEMU) and its BIOS area is always RAM or ROM as loaded.
 */
#include "util/common.h"
#include "hw/pci/pcie-host.h"
#include "hw/core/device.h"
#include "hw/pci/pci-host.h"
#include "hw/core/loader.h"
#include "hw/pci/pci.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/memory.h"

#define MCH_PCIEXBAR 0x60
#define MCH_PAM0 0x90
#define MCH_SMRAM 0x9d

struct q35_host {
    struct device dev; /* first */
    struct pci_host h;
    struct q35_host_windows w;
    struct device *mch;
    uint8_t rcr;
    bool mapped;
};

extern const struct device_class q35_host_class;
extern const struct device_class mch_class;

unsigned q35_intx_route(unsigned slot, unsigned pin)
{
    return Q35_PIRQ_GSI_BASE + ((slot + pin) % Q35_NR_PIRQ);
}

struct pci_host *pci_machine_host(struct machine *m)
{
    for (guint i = 0; m && m->devices && i < m->devices->len; i++) {
        struct device *d = g_ptr_array_index(m->devices, i);
        if (d->cls == &q35_host_class) {
            return &((struct q35_host *)d)->h;
        }
    }
    return NULL;
}

const struct q35_host_windows *q35_host_windows(struct machine *m)
{
    struct pci_host *h = pci_machine_host(m);

    return h ? &((struct q35_host *)((char *)h - offsetof(struct q35_host, h)))
                    ->w
             : NULL;
}

/* ---- MCH, function 00.0 ---------------------------------------------- */

struct mch {
    struct pci_device pci; /* first */
};

static bool mch_realize(struct device *dev, struct machine *m, Error **errp)
{
    struct mch *d = (struct mch *)dev;
    static const struct pci_id id = {
        .vendor = 0x8086,
        .device = 0x29c0, /* 82G33/G31/P35/P31 (Q35) DRAM controller */
        .subsystem_vendor = 0x1af4,
        .subsystem = 0x1100,
        .class_code = 0x060000, /* host bridge */
    };

    if (!pci_device_realize(&d->pci, m, &id, errp)) {
        return false;
    }
    st_le32(d->pci.wmask + MCH_PCIEXBAR, 0xf0000007u);
    st_le32(d->pci.wmask + MCH_PCIEXBAR + 4, 0x0000000fu);
    memset(d->pci.wmask + MCH_PAM0, 0x33, 7);
    d->pci.wmask[MCH_SMRAM] = 0x78;
    return true;
}

static void mch_reset(struct device *dev)
{
    struct mch *d = (struct mch *)dev;

    pci_device_reset(&d->pci);
    /* the window vireo decodes, enabled, 256 buses */
    st_le32(d->pci.config + MCH_PCIEXBAR, (uint32_t)Q35_ECAM_BASE | 1);
    st_le32(d->pci.config + MCH_PCIEXBAR + 4, 0);
    d->pci.config[MCH_SMRAM] = 0x02;
}

static void mch_unrealize(struct device *dev)
{
    pci_device_unrealize(&((struct mch *)dev)->pci);
}

static const struct prop mch_props[] = {
    PCI_DEVICE_PROPS(struct mch, pci),
    PROP_END,
};

const struct device_class mch_class = {
    .name = "mch",
    .desc = "Q35 memory controller hub (PCI 00.0)",
    .size = sizeof(struct mch),
    .props = mch_props,
    .user_creatable = false,
    .realize = mch_realize,
    .reset = mch_reset,
    .unrealize = mch_unrealize,
    .vmsd = &pci_device_vmsd,
};

/* ---- the host's windows ---------------------------------------------- */

static uint64_t ecam_read(void *opaque, uint64_t off, unsigned size)
{
    return pci_host_ecam_read(&((struct q35_host *)opaque)->h, off, size);
}

static void ecam_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    pci_host_ecam_write(&((struct q35_host *)opaque)->h, off, val, size);
}

static const struct io_ops ecam_ops = {
    .read = ecam_read,
    .write = ecam_write,
    .min_size = 1,
    .max_size = 4,
};

/* 0xcf8..0xcff: CONFIG_ADDRESS (dword at 0xcf8), the reset control
 * register (byte at 0xcf9), CONFIG_DATA (0xcfc..0xcff). */
static uint64_t cf8_read(void *opaque, uint64_t off, unsigned size)
{
    struct q35_host *q = opaque;

    if (off == Q35_RCR_PORT - 0xcf8 && size == 1) {
        return q->rcr;
    }
    return pci_host_cf8_read(&q->h, off, size);
}

static void cf8_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct q35_host *q = opaque;

    if (off == Q35_RCR_PORT - 0xcf8 && size == 1) {
        if (val & Q35_RCR_RST_CPU) {
            machine_request(q->dev.m, REQ_RESET, SHUTDOWN_CAUSE_GUEST_RESET);
        }
        q->rcr = (uint8_t)(val & Q35_RCR_SYS_RST);
        return;
    }
    pci_host_cf8_write(&q->h, off, val, size);
}

static const struct io_ops cf8_ops = {
    .read = cf8_read,
    .write = cf8_write,
    .min_size = 1,
    .max_size = 4,
    .unaligned_ok = true,
};

static bool q35_host_realize(struct device *dev, struct machine *m,
                             Error **errp)
{
    struct q35_host *q = (struct q35_host *)dev;
    struct device *mch;

    if (pci_machine_host(m)) {
        error_setg(errp, "q35-pcihost: the machine has a PCI host already");
        return false;
    }
    pci_host_init(&q->h, m, q35_intx_route);
    if (!device_map(dev, m->mmio, Q35_ECAM_BASE, Q35_ECAM_SIZE, &ecam_ops,
                    "pcie-mmcfg", errp) ||
        !device_map(dev, m->pio, 0xcf8, 8, &cf8_ops, "pci-conf", errp)) {
        pci_host_destroy(&q->h);
        return false;
    }
    /* the MCH finds the host through m->devices: add it first */
    if (m->devices) {
        g_ptr_array_add(m->devices, dev);
    }
    mch = device_new(&mch_class, m, errp);
    if (mch && device_set_prop(mch, "addr", "0", errp) &&
        device_realize(mch, errp)) {
        q->mch = mch;
        device_reset(mch);
    } else {
        device_destroy(mch);
    }
    if (m->devices) {
        g_ptr_array_remove(m->devices, dev);
    }
    if (!q->mch) {
        pci_host_destroy(&q->h);
        return false;
    }
    return true;
}

static void q35_host_reset(struct device *dev)
{
    struct q35_host *q = (struct q35_host *)dev;

    q->h.cf8 = 0;
    q->rcr = 0;
    if (q->mch) {
        /* lock order: host, then function */
        device_reset(q->mch);
    }
}

static void q35_host_unrealize(struct device *dev)
{
    struct q35_host *q = (struct q35_host *)dev;

    device_destroy(q->mch);
    q->mch = NULL;
    pci_host_destroy(&q->h);
}

static const struct vmstate_field q35_host_fields[] = {
    VMS_U32(struct q35_host, h.cf8),
    VMS_U8(struct q35_host, rcr),
    VMS_END,
};

static const struct vmstate_desc q35_host_vmsd = {
    .name = "q35-pcihost",
    .version = 1,
    .fields = q35_host_fields,
};

const struct device_class q35_host_class = {
    .name = Q35_HOST_CLASS,
    .desc = "Q35 PCIe host bridge: ECAM, 0xCF8/0xCFC, reset control",
    .size = sizeof(struct q35_host),
    .user_creatable = false,
    .realize = q35_host_realize,
    .reset = q35_host_reset,
    .unrealize = q35_host_unrealize,
    .vmsd = &q35_host_vmsd,
};

struct device *q35_host_create(struct machine *m,
                               const struct q35_host_windows *w, Error **errp)
{
    struct device *dev = device_new(&q35_host_class, m, errp);

    if (!dev) {
        return NULL;
    }
    ((struct q35_host *)dev)->w = *w;
    if (!device_realize(dev, errp)) {
        device_destroy(dev);
        return NULL;
    }
    if (m->devices) {
        g_ptr_array_add(m->devices, dev);
    }
    return dev;
}
