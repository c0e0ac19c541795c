/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci.h: the modern virtio-pci transport (virtio 1.2 section 4.1)
 * for the q35 machine: a PCI function 1af4:(0x1040 + device id), revision
 * 1, whose vendor capabilities point into one 64-bit prefetchable BAR 4
 * (common config, ISR, device config and notify areas, 4 KiB apart, as
 * QEMU lays them out), with MSI-X in BAR 1 and INTx pin A when the driver
 * does not enable MSI-X.  Notifications are ioeventfd doorbells kicked on
 * the machine's main context; MSI-X vectors use the board's irqfd fast
 * path when it has one.  Legacy (0.9.5, I/O BAR 0) is not offered.
 */
#ifndef HW_VIRTIO_VIRTIO_PCI_H
#define HW_VIRTIO_VIRTIO_PCI_H

#include "util/common.h"
#include "util/error.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio-model.h"
#include "hw/virtio/virtio.h"
#include "migration/vmstate.h"

#define VIRTIO_PCI_VENDOR 0x1af4      /* Red Hat / Qumranet */
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device id (spec 4.1.2.1) */
#define VIRTIO_PCI_SUBSYSTEM 0x1100   /* QEMU's default subsystem id */
#define VIRTIO_PCI_NO_VECTOR 0xffff

/* Capability cfg_type values (spec 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5
/* struct virtio_pci_cap: vndr, next, len, cfg_type, bar, id, pad[2],
 * offset, length; the notify capability adds notify_off_multiplier, the
 * PCI_CFG capability pci_cfg_data. */
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_CAP_SIZE 16
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16
#define VIRTIO_PCI_CFG_CAP_DATA 16
#define VIRTIO_PCI_CAP_EXT_SIZE 20

/* PCI Power Management capability (PCI PM 1.2 ch. 3), behind a port. */
#define VIRTIO_PCI_PM_PMC 2
#define VIRTIO_PCI_PM_CTRL 4
#define VIRTIO_PCI_PM_SIZE 8

/* BAR 4 layout (QEMU's): one 4 KiB area per structure. */
#define VIRTIO_PCI_MODERN_BAR 4
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_COMMON_OFF 0x0000
#define VIRTIO_PCI_ISR_OFF 0x1000
#define VIRTIO_PCI_DEVICE_OFF 0x2000
#define VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VIRTIO_PCI_AREA_SIZE 0x1000
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_NOTIFY_MULT 4 /* bytes between queue doorbells */

/* struct virtio_pci_common_cfg (spec 4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF 0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF 0x0c
#define VIRTIO_PCI_COMMON_MSIX 0x10
#define VIRTIO_PCI_COMMON_NUMQ 0x12
#define VIRTIO_PCI_COMMON_STATUS 0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_SIZE 0x38

struct virtio_pci_kick;

/* The generic virtio-pci function, any model (hw/virtio/virtio-model.h). */
struct virtio_pci_proxy {
    struct pci_device pci; /* first */
    /* properties */
    uint32_t vectors;     /* MSI-X table size; UINT32_MAX: queues + 1 */
    char *disable_legacy; /* QEMU's OnOffAuto: "on" or "auto" only */
    bool disable_modern;  /* "off" only */
    /* state, under pci.dev.lock */
    struct virtio_dev *vdev; /* the model's, after realize */
    struct vlog *log;
    uint32_t dev_features_sel, drv_features_sel;
    uint16_t queue_sel;
    uint16_t config_vector;
    uint8_t cfg_cap; /* offset of the VIRTIO_PCI_CAP_PCI_CFG window */
    /* doorbells: one eventfd per queue, in m->mmio while BAR 4 is mapped */
    struct address_space *as;
    struct virtio_pci_kick *kicks; /* vdev->num_queues, or NULL */
    uint64_t notify_base;
    bool notify_mapped;
    /* MSI-X irqfds (boards with the fast path): one eventfd per vector,
     * attached when the driver first assigns the vector */
    bool use_irqfd;
    int *irqfds; /* pci.msix_nvec, -1: not created */
    bool *irqfd_attached;
};

bool virtio_pci_proxy_realize(struct device *dev, struct machine *m,
                              Error **errp);
void virtio_pci_proxy_reset(struct device *dev);
/* Migration (virtio-model.h): the function, the transport and the core.
 * The pair's pre_save lets the model drain; its post_load checks the
 * vectors, re-derives the rings, re-attaches the irqfds of the vectors in
 * use, sets INTx from the ISR and kicks each enabled queue once. */
extern const struct vmstate_desc virtio_pci_proxy_vmsd;
bool virtio_pci_pair_pre_save(void *opaque, Error **errp);
bool virtio_pci_pair_post_load(void *opaque, Error **errp);
void virtio_pci_proxy_unrealize(struct device *dev);

/* The BAR 4 window (also what the PCI_CFG capability reaches): off <
 * VIRTIO_PCI_BAR_SIZE, size 1..8.  Every field takes its own width (64-bit
 * queue addresses also as two 32-bit halves, spec 4.1.3.1); anything else
 * is a guest error (reads all ones, writes dropped). */
uint64_t virtio_pci_bar_read(struct virtio_pci_proxy *p, uint64_t off,
                             unsigned size);
void virtio_pci_bar_write(struct virtio_pci_proxy *p, uint64_t off,
                          uint64_t val, unsigned size);

/* The transport's properties after PCI_DEVICE_PROPS, for a pair struct
 * `st` whose proxy member is `f`. */
#define VIRTIO_PCI_PROPS(st, f)                                                \
    {"vectors", PROP_U32, offsetof(st, f.vectors), "4294967295",               \
     "MSI-X vectors (0: INTx only; default: queues + 1)"},                     \
        {"disable-legacy", PROP_STR, offsetof(st, f.disable_legacy), "auto",   \
         "on or auto: vireo offers the modern interface only"},                \
    {                                                                          \
        "disable-modern", PROP_BOOL, offsetof(st, f.disable_modern), "off",    \
            "off only: vireo has no legacy interface"                          \
    }

/* Declares `const struct device_class CNAME_class`: model type MTYPE with
 * class MCLASS (struct virtio_model_class) and properties PROPS(base), on
 * the PCI bus (bus=, addr=, multifunction=). */
#define VIRTIO_PCI_DEVICE(cname, qname, description, mtype, mclass, PROPS)     \
    struct cname##_state {                                                     \
        struct virtio_pci_proxy proxy;                                         \
        mtype model;                                                           \
    };                                                                         \
    static const struct virtio_binding cname##_binding = {                     \
        &(mclass), offsetof(struct cname##_state, model)};                     \
    static const struct prop cname##_props[] = {                               \
        PCI_DEVICE_PROPS(struct cname##_state, proxy.pci),                     \
        VIRTIO_PCI_PROPS(struct cname##_state, proxy),                         \
        PROPS(offsetof(struct cname##_state, model)), PROP_END};               \
    static const struct vmstate_field cname##_vmsd_fields[] = {                \
        VMS_STRUCT(struct cname##_state, proxy, &virtio_pci_proxy_vmsd),       \
        VMS_STRUCT_REF(struct cname##_state, model, &(mclass).vmsd), VMS_END}; \
    static const struct vmstate_desc cname##_vmsd = {                          \
        .name = (qname),                                                       \
        .version = 1,                                                          \
        .fields = cname##_vmsd_fields,                                         \
        .pre_save = virtio_pci_pair_pre_save,                                  \
        .post_load = virtio_pci_pair_post_load,                                \
    };                                                                         \
    const struct device_class cname##_class = {                                \
        .name = (qname),                                                       \
        .desc = (description),                                                 \
        .size = sizeof(struct cname##_state),                                  \
        .props = cname##_props,                                                \
        .user_creatable = true,                                                \
        .realize = virtio_pci_proxy_realize,                                   \
        .reset = virtio_pci_proxy_reset,                                       \
        .unrealize = virtio_pci_proxy_unrealize,                               \
        .vmsd = &cname##_vmsd,                                                 \
        .migration_blocked = virtio_model_migration_blocked,                   \
        .class_data = &cname##_binding,                                        \
        .qom = &virtio_model_qom_ops,                                          \
        .run_state = virtio_model_run_state,                                   \
    }

extern const struct device_class virtio_blk_pci_class;

#endif
