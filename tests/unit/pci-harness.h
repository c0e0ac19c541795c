/* SPDX-License-Identifier: MIT */
/*
 * pci-harness.h: a bare machine with the q35 PCI host (dev-harness.h plus
 * an MMIO space, a device list and an MSI sender that records messages),
 * a test PCI function (64-bit prefetchable BAR0, I/O BAR2, MSI-X in BAR3,
 * MSI, INTA), and config accessors through ECAM and 0xCF8/0xCFC; shared by
 * the PCI unit test and its fuzz target.
 */
#ifndef TESTS_UNIT_PCI_HARNESS_H
#define TESTS_UNIT_PCI_HARNESS_H

#include "util/common.h"
#include "hw/core/loader.h"
#include "hw/pci/pci-host.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie-host.h"
#include "dev-harness.h"

/* ---- a test function: BAR0 64-bit 16 KiB, BAR2 I/O 32 bytes, MSI-X
 * (4 vectors) in BAR3, MSI (4 vectors), INTA ---- */

struct tdev {
    struct pci_device pci; /* first */
    uint64_t last_off, last_val;
    unsigned reads, writes;
};

static inline uint64_t tdev_read(void *opaque, uint64_t off, unsigned size)
{
    struct tdev *t = opaque;

    t->reads++;
    t->last_off = off;
    return 0x1234 + off;
}

static inline void tdev_write(void *opaque, uint64_t off, uint64_t val,
                              unsigned size)
{
    struct tdev *t = opaque;

    t->writes++;
    t->last_off = off;
    t->last_val = val;
}

static const struct io_ops tdev_ops = {
    .read = tdev_read, .write = tdev_write, .min_size = 1, .max_size = 8};

static inline bool tdev_realize(struct device *dev, struct machine *m,
                                Error **errp)
{
    struct tdev *t = (struct tdev *)dev;
    static const struct pci_id id = {.vendor = 0x1af4,
                                     .device = 0x10ff,
                                     .class_code = 0xff0000,
                                     .irq_pin = 1};

    return pci_device_realize(&t->pci, m, &id, errp) &&
           pci_register_bar(&t->pci, 0, PCI_BAR_MEM64_PREF, 16 * KiB, &tdev_ops,
                            errp) &&
           pci_register_bar(&t->pci, 2, PCI_BAR_IO, 32, &tdev_ops, errp) &&
           pci_msix_init(&t->pci, 4, 3, errp) && pci_msi_init(&t->pci, 4, errp);
}

static inline void tdev_reset(struct device *dev)
{
    pci_device_reset(&((struct tdev *)dev)->pci);
}

static inline void tdev_unrealize(struct device *dev)
{
    pci_device_unrealize(&((struct tdev *)dev)->pci);
}

static const struct prop tdev_props[] = {
    PCI_DEVICE_PROPS(struct tdev, pci),
    PROP_END,
};

static const struct device_class tdev_class = {
    .name = "test-pci",
    .desc = "test function",
    .size = sizeof(struct tdev),
    .props = tdev_props,
    .realize = tdev_realize,
    .reset = tdev_reset,
    .unrealize = tdev_unrealize,
};

/* ---- recorded MSIs ---- */

struct msi_rec {
    GArray *msgs; /* struct msi_msg */
};

static inline bool rec_send(void *opaque, struct msi_msg msg)
{
    struct msi_rec *r = opaque;

    g_array_append_val(r->msgs, msg);
    return true;
}

static const struct msi_sender_ops rec_ops = {.send = rec_send};

struct fx {
    struct machine *m;
    struct msi_rec rec;
    struct device *host;
};

static inline void fx_init(struct fx *x)
{
    struct q35_host_windows w = {.below_4g_end = 2 * GiB,
                                 .hole64_start = 8 * GiB,
                                 .hole64_size = 32 * GiB};

    x->m = th_machine_new();
    x->m->mmio = as_new("mmio", &x->m->log);
    x->m->devices = g_ptr_array_new();
    x->rec.msgs = g_array_new(FALSE, FALSE, sizeof(struct msi_msg));
    x->m->msi.ops = &rec_ops;
    x->m->msi.opaque = &x->rec;
    x->host = q35_host_create(x->m, &w, NULL);
    g_assert_nonnull(x->host);
}

static inline void fx_clear(struct fx *x)
{
    for (guint i = x->m->devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(x->m->devices, i - 1));
    }
    g_ptr_array_free(x->m->devices, TRUE);
    as_free(x->m->mmio);
    g_array_free(x->rec.msgs, TRUE);
    th_machine_free(x->m);
}

static inline struct device *fx_add(struct fx *x,
                                    const struct device_class *cls,
                                    const char *const *props, Error **errp)
{
    struct device *d = device_new(cls, x->m, errp);

    g_assert_nonnull(d);
    for (; props && props[0]; props += 2) {
        if (!strcmp(props[0], "id")) {
            d->id = g_strdup(props[1]);
        } else {
            g_assert_true(device_set_prop(d, props[0], props[1], NULL));
        }
    }
    if (!device_realize(d, errp)) {
        device_destroy(d);
        return NULL;
    }
    g_ptr_array_add(x->m->devices, d);
    device_reset(d);
    return d;
}

static inline uint64_t mmio_rd(struct fx *x, uint64_t a, unsigned len)
{
    uint8_t b[8] = {0};

    as_read(x->m->mmio, a, b, len);
    return ld_le64(b) & (len == 8 ? ~0ULL : (1ULL << (8 * len)) - 1);
}

static inline void mmio_wr(struct fx *x, uint64_t a, uint64_t v, unsigned len)
{
    uint8_t b[8];

    st_le64(b, v);
    as_write(x->m->mmio, a, b, len);
}

static inline uint64_t ecam(unsigned bus, unsigned devfn, unsigned reg)
{
    return Q35_ECAM_BASE + ((uint64_t)bus << 20 | devfn << 12 | reg);
}

static inline uint32_t cfg_rd(struct fx *x, unsigned bus, unsigned devfn,
                              unsigned reg, unsigned len)
{
    return (uint32_t)mmio_rd(x, ecam(bus, devfn, reg), len);
}

static inline void cfg_wr(struct fx *x, unsigned bus, unsigned devfn,
                          unsigned reg, uint32_t v, unsigned len)
{
    mmio_wr(x, ecam(bus, devfn, reg), v, len);
}

static inline uint32_t cf8_rd(struct fx *x, unsigned bus, unsigned devfn,
                              unsigned reg, unsigned len)
{
    th_out(x->m, 0xcf8, 0x80000000u | bus << 16 | devfn << 8 | (reg & 0xfc), 4);
    return (uint32_t)th_in(x->m, 0xcfc + (reg & 3), len);
}

static inline void cf8_wr(struct fx *x, unsigned bus, unsigned devfn,
                          unsigned reg, uint32_t v, unsigned len)
{
    th_out(x->m, 0xcf8, 0x80000000u | bus << 16 | devfn << 8 | (reg & 0xfc), 4);
    th_out(x->m, 0xcfc + (reg & 3), v, len);
}

#endif
