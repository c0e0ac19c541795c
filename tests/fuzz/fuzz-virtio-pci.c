/* SPDX-License-Identifier: MIT */
/*
 * fuzz-virtio-pci.c: libFuzzer target for the modern virtio-pci transport
 * (hw/virtio/virtio-pci.c, virtio 1.2 section 4.1) over the PCI core and
 * the q35 host: a program of guest accesses to BAR 4 (common config, ISR,
 * device config, notify), to config space (the capabilities, the PCI_CFG
 * window, BAR placement, MSI-X enable), to the MSI-X table, guest RAM
 * writes that feed the queues, and device resets.  A small model with two
 * queues completes whatever the rings hold, so notifications and
 * interrupts run too.  After every step the transport's invariants are
 * checked and a violation aborts: vectors are in range or NO_VECTOR, the
 * doorbells sit on BAR 4 exactly while it is mapped, the ids never change.
 */
#include "util/common.h"
#include "hw/virtio/virtio-pci.h"
#include "system/guest-mem.h"
#include "../unit/pci-harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (1 * MiB)
#define BAR4 0x100000000ULL
#define MSIX 0xfe000000ULL
#define DEVFN PCI_DEVFN(3, 0)

/* ---- a two-queue model that completes every request ---- */

struct fuzz_model {
    uint32_t unused;
    struct virtio_dev vdev;
};

static void fm_get_config(struct virtio_dev *vdev, uint8_t *config)
{
    memset(config, 0x5a, 8);
    (void)vdev;
}

static void fm_queue_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    struct virtq_elem *e;

    (void)vdev;
    for (unsigned n = 0; n < 64 && (e = virtq_pop(vq, sizeof(*e))); n++) {
        virtq_push(vq, e, (uint32_t)MIN(e->in_len, 16u));
    }
    virtq_notify(vq);
}

static const struct virtio_device_ops fm_ops = {
    .device_id = 4,
    .config_size = 8,
    .get_config = fm_get_config,
    .queue_notify = fm_queue_notify,
};

static struct virtio_dev *fm_realize(void *model, struct device *dev,
                                     struct machine *m, Error **errp)
{
    struct fuzz_model *s = model;

    (void)dev;
    (void)errp;
    virtio_init(&s->vdev, "virtio-fuzz", &fm_ops, m->gm, &m->log,
                1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_INDIRECT_DESC, 2,
                16);
    return &s->vdev;
}

static void fm_unrealize(void *model)
{
    virtio_cleanup(&((struct fuzz_model *)model)->vdev);
}

static const struct virtio_model_class fm_class = {
    .name = "virtio-fuzz",
    .device_id = 4,
    .pci_class = 0x00ff00,
    .realize = fm_realize,
    .unrealize = fm_unrealize,
};

#define FM_PROPS(base)                                                         \
    {                                                                          \
        "unused", PROP_U32, (base) + offsetof(struct fuzz_model, unused), "0", \
            "nothing"                                                          \
    }

VIRTIO_PCI_DEVICE(fuzz_vpci, "virtio-fuzz-pci", "fuzzed virtio-pci function",
                  struct fuzz_model, fm_class, FM_PROPS);

/* ---- the program ---- */

struct prog {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct prog *g, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes && g->n; i++, g->p++, g->n--) {
        v |= (uint64_t)*g->p << (8 * i);
    }
    return v;
}

static unsigned size_of(uint64_t v)
{
    static const unsigned sizes[] = {1, 2, 4, 8};
    return sizes[v & 3];
}

static void check(struct virtio_pci_proxy *p, uint32_t id)
{
    struct pci_device *pd = &p->pci;
    const struct pci_bar *b = &pd->bars[VIRTIO_PCI_MODERN_BAR];

    if (ld_le32(pd->config) != id || pd->config[PCI_REVISION_ID] != 1) {
        abort();
    }
    if (p->config_vector != VIRTIO_PCI_NO_VECTOR &&
        p->config_vector >= pd->msix_nvec) {
        abort();
    }
    for (unsigned i = 0; i < p->vdev->num_queues; i++) {
        uint16_t v = p->vdev->vqs[i].msix_vector;
        if (v != VIRTIO_PCI_NO_VECTOR && v >= pd->msix_nvec) {
            abort();
        }
    }
    /* no context here: the doorbells are the handler's, never eventfds */
    if (p->notify_mapped || p->kicks) {
        abort();
    }
    if (b->is_mapped && b->mapped != pci_bar_address(pd, 4)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const props[] = {"addr", "3", NULL};
    struct prog g = {data, size};
    struct virtio_pci_proxy *p;
    struct fx x;
    unsigned steps = 0;
    uint32_t id;
    Error *err = NULL;

    fx_init(&x);
    x.m->gm = gm_new(RAM, &err);
    if (!x.m->gm || !gm_add_ram(x.m->gm, 0, 0, RAM, "ram", &err)) {
        abort();
    }
    p = (struct virtio_pci_proxy *)fx_add(&x, &fuzz_vpci_class, props, NULL);
    if (!p) {
        abort();
    }
    id = ld_le32(p->pci.config);
    /* the BARs where a driver puts them, decoding on */
    cfg_wr(&x, 0, DEVFN, PCI_BASE_ADDRESS_0 + 4, (uint32_t)MSIX, 4);
    cfg_wr(&x, 0, DEVFN, PCI_BASE_ADDRESS_0 + 16, (uint32_t)BAR4, 4);
    cfg_wr(&x, 0, DEVFN, PCI_BASE_ADDRESS_0 + 20, (uint32_t)(BAR4 >> 32), 4);
    cfg_wr(&x, 0, DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
           2);
    while (g.n && steps++ < 4096) {
        uint64_t op = take(&g, 1), a, v;
        unsigned sz;
        uint8_t buf[32];

        switch (op % 8) {
        case 0: /* BAR 4 read, a little past its end too */
        case 1: /* BAR 4 write */
            a = take(&g, 2) % (VIRTIO_PCI_BAR_SIZE + 16);
            sz = size_of(take(&g, 1));
            v = take(&g, sz);
            if (op % 8) {
                mmio_wr(&x, pci_bar_address(&p->pci, 4) + a, v, sz);
            } else {
                mmio_rd(&x, pci_bar_address(&p->pci, 4) + a, sz);
            }
            break;
        case 2: /* common config at the usual place, typed widths */
            a = take(&g, 1) % VIRTIO_PCI_COMMON_SIZE;
            v = take(&g, 2);
            mmio_wr(&x, BAR4 + a, v, (a & 1) ? 1 : (a & 2) ? 2 : 4);
            break;
        case 3: /* config space: capabilities, window, BARs, MSI-X */
        case 4:
            a = take(&g, 2) & 0xfff;
            sz = size_of(take(&g, 1) & 3);
            sz = sz == 8 ? 4 : sz;
            v = take(&g, sz);
            if (op % 8 == 3) {
                cfg_wr(&x, 0, DEVFN, (unsigned)a, (uint32_t)v, sz);
            } else {
                cfg_rd(&x, 0, DEVFN, (unsigned)a, sz);
            }
            break;
        case 5: /* MSI-X table */
            a = take(&g, 2) & 0xfff;
            v = take(&g, 4);
            mmio_wr(&x, MSIX + (a & ~3ULL), v, 4);
            break;
        case 6: /* guest RAM: rings, descriptors, buffers */
            a = take(&g, 3) % (RAM - sizeof(buf));
            for (unsigned i = 0; i < sizeof(buf); i++) {
                buf[i] = (uint8_t)take(&g, 1);
            }
            gm_write(x.m->gm, a, buf, sizeof(buf));
            break;
        default:
            if (take(&g, 1) == 0x5a) {
                device_reset(&p->pci.dev);
                cfg_wr(&x, 0, DEVFN, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
            }
            break;
        }
        check(p, id);
    }
    {
        struct guest_mem *gm = x.m->gm;

        fx_clear(&x);
        gm_free(gm);
    }
    return 0;
}
