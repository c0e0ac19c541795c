/* SPDX-License-Identifier: MIT */
/*
 * virtio-transport.c: finding virtio devices and talking to them.  PCI on
 * q35 (virtio 1.2, 4.1): with no firmware in front of it the guest enables
 * the MCH's ECAM window (PCIEXBAR, at QEMU's and vireo's 0xb0000000),
 * walks the buses (numbering bridges, opening their memory windows),
 * sizes and assigns every memory BAR, enables memory decoding and bus
 * mastering, and reads the virtio vendor capabilities.  MMIO (4.2,
 * version 2) on microvm: QEMU's and vireo's slots of 512 bytes from
 * 0xfeb00000, recognised by their magic value.
 */
#include "virtio-guest.h"

/* ---- PCI configuration space ---- */

#define CFG_ADDR 0xcf8
#define CFG_DATA 0xcfc
#define MCH_ID 0x29c08086u /* Q35 DRAM controller at 00:00.0 */
#define MCH_PCIEXBAR 0x60

#define PCI_VENDOR 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_CMD_MEM 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_STATUS_CAPS 0x10
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_MSIX 0x11

/* virtio_pci_cap.cfg_type (4.1.4) */
#define VPCI_COMMON 1
#define VPCI_NOTIFY 2
#define VPCI_ISR 3
#define VPCI_DEVICE 4

static uintptr_t ecam(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
    return (uintptr_t)(VT_ECAM_BASE + ((uint64_t)bus << 20) + (dev << 15) +
                       (fn << 12) + off);
}

static uint32_t cf8_read(unsigned dev, unsigned fn, unsigned off)
{
    outl(CFG_ADDR, 0x80000000u | (dev << 11) | (fn << 8) | (off & 0xfc));
    return inl(CFG_DATA);
}

static void cf8_write(unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
    outl(CFG_ADDR, 0x80000000u | (dev << 11) | (fn << 8) | (off & 0xfc));
    outl(CFG_DATA, v);
}

static void put_bdf(char *p, unsigned bus, unsigned dev, unsigned fn)
{
    static const char hex[] = "0123456789abcdef";

    memcpy(p, "pci ", 4);
    p[4] = hex[bus >> 4];
    p[5] = hex[bus & 15];
    p[6] = ':';
    p[7] = hex[dev >> 4];
    p[8] = hex[dev & 15];
    p[9] = '.';
    p[10] = hex[fn];
    p[11] = 0;
}

static uint64_t pci_alloc(uint64_t size)
{
    struct vt_state *s = vt();
    uint64_t a = (s->pci_mem + size - 1) & ~(size - 1);

    if (a + size > VT_PCI_MEM_END) {
        return 0;
    }
    s->pci_mem = a + size;
    return a;
}

/*
 * Sizes and assigns the memory BARs of a function (nbars: 6 for a
 * device, 2 for a bridge); addr[i] gets BAR i's address (0: none).
 * Memory decoding is off while the BARs are probed.
 */
static void pci_assign_bars(unsigned bus, unsigned dev, unsigned fn,
                            unsigned nbars, uint64_t *addr)
{
    for (unsigned i = 0; i < nbars; i++) {
        uintptr_t reg = ecam(bus, dev, fn, PCI_BAR0 + 4 * i);
        uint32_t orig = rd32(reg), lo, hi = 0;
        bool is64;
        uint64_t mask, size, a;

        addr[i] = 0;
        if (orig & 1) { /* I/O BAR: left unassigned, I/O decoding off */
            continue;
        }
        is64 = ((orig >> 1) & 3) == 2;
        wr32(reg, 0xffffffffu);
        lo = rd32(reg);
        if (is64 && i + 1 < nbars) {
            wr32(reg + 4, 0xffffffffu);
            hi = rd32(reg + 4);
        } else {
            is64 = false;
        }
        mask = ((uint64_t)(is64 ? hi : 0xffffffffu) << 32) | (lo & ~0xfu);
        if ((lo & ~0xfu) == 0) {
            wr32(reg, 0);
            if (is64) {
                wr32(reg + 4, 0);
                i++;
            }
            continue;
        }
        size = ~mask + 1;
        a = size <= (256u << 20) ? pci_alloc(size) : 0;
        if (!a) {
            vt_puts("virtio: no room for a BAR of 0x");
            vt_puthex(size, 8);
            vt_puts("\n");
        }
        wr32(reg, (uint32_t)a);
        if (is64) {
            wr32(reg + 4, (uint32_t)(a >> 32));
        }
        addr[i] = a;
        if (is64) {
            addr[++i] = 0;
        }
    }
}

/* Reads the virtio capabilities; false if the function is not a modern
 * virtio device (no common/notify/ISR structure, or one in no BAR). */
static bool pci_virtio_caps(struct vdev *d, unsigned bus, unsigned dev,
                            unsigned fn, const uint64_t *bar)
{
    unsigned p;

    if (!(rd16(ecam(bus, dev, fn, PCI_STATUS)) & PCI_STATUS_CAPS)) {
        return false;
    }
    p = rd8(ecam(bus, dev, fn, PCI_CAP_PTR)) & 0xfc;
    for (unsigned n = 0; p >= 0x40 && n < 48; n++) {
        uint8_t id = rd8(ecam(bus, dev, fn, p));
        if (id == PCI_CAP_VENDOR) {
            uint8_t type = rd8(ecam(bus, dev, fn, p + 3));
            uint8_t b = rd8(ecam(bus, dev, fn, p + 4));
            uint32_t off = rd32(ecam(bus, dev, fn, p + 8));
            uintptr_t a = b < 6 && bar[b] ? (uintptr_t)(bar[b] + off) : 0;

            /* the first structure of each type is the preferred one */
            if (type == VPCI_COMMON && !d->common) {
                d->common = a;
            } else if (type == VPCI_NOTIFY && !d->notify) {
                d->notify = a;
                d->notify_mult = rd32(ecam(bus, dev, fn, p + 16));
            } else if (type == VPCI_ISR && !d->isr) {
                d->isr = a;
            } else if (type == VPCI_DEVICE && !d->devcfg) {
                d->devcfg = a;
            }
        } else if (id == PCI_CAP_MSIX && !d->msix_cap) {
            uint32_t t = rd32(ecam(bus, dev, fn, p + 4));

            if (bar[t & 7]) {
                d->msix_cap = ecam(bus, dev, fn, p);
                d->msix_table = (uintptr_t)(bar[t & 7] + (t & ~7u));
            }
        }
        p = rd8(ecam(bus, dev, fn, p + 1)) & 0xfc;
    }
    return d->common && d->notify && d->isr;
}

static void pci_scan_bus(unsigned bus, unsigned depth);

static void pci_bridge(unsigned bus, unsigned dev, unsigned fn, unsigned depth)
{
    struct vt_state *s = vt();
    uint64_t bars[2], base, end;
    unsigned sec;

    pci_assign_bars(bus, dev, fn, 2, bars);
    if (s->next_bus == 0xff || depth > 4) {
        return;
    }
    sec = ++s->next_bus;
    /* primary, secondary, subordinate (wide open while scanning) */
    wr32(ecam(bus, dev, fn, 0x18), bus | (sec << 8) | (0xffu << 16));
    s->pci_mem = (s->pci_mem + 0xfffff) & ~0xfffffULL;
    base = s->pci_mem;
    pci_scan_bus(sec, depth + 1);
    s->pci_mem = (s->pci_mem + 0xfffff) & ~0xfffffULL;
    end = s->pci_mem;
    wr8(ecam(bus, dev, fn, 0x1a), s->next_bus);
    /* memory window (1 MiB granules), or closed when nothing is behind */
    if (end > base) {
        wr32(ecam(bus, dev, fn, 0x20),
             (uint32_t)((base >> 16) | ((end - 1) & 0xfff00000u)));
    } else {
        wr32(ecam(bus, dev, fn, 0x20), 0x0000fff0u);
    }
    /* no I/O or prefetchable window: every BAR sits in the memory one */
    wr16(ecam(bus, dev, fn, 0x1c), 0x00f0);
    wr32(ecam(bus, dev, fn, 0x24), 0x0000fff0u);
    wr32(ecam(bus, dev, fn, 0x28), 0);
    wr32(ecam(bus, dev, fn, 0x2c), 0);
    wr16(ecam(bus, dev, fn, PCI_COMMAND), PCI_CMD_MEM | PCI_CMD_MASTER);
}

static void pci_function(unsigned bus, unsigned dev, unsigned fn,
                         unsigned depth)
{
    struct vt_state *s = vt();
    uint32_t id = rd32(ecam(bus, dev, fn, PCI_VENDOR));
    uint8_t htype = rd8(ecam(bus, dev, fn, PCI_HEADER_TYPE)) & 0x7f;
    uint16_t vendor = id & 0xffff, device = id >> 16;
    uint64_t bars[6];
    struct vdev *d;

    if (htype == 1) {
        pci_bridge(bus, dev, fn, depth);
        return;
    }
    if (htype != 0) {
        return;
    }
    pci_assign_bars(bus, dev, fn, 6, bars);
    wr16(ecam(bus, dev, fn, PCI_COMMAND), PCI_CMD_MEM | PCI_CMD_MASTER);
    if (vendor != 0x1af4 || device < 0x1000 || device > 0x107f) {
        return;
    }
    if (s->ndevs == VT_MAX_DEVS) {
        vt_puts("virtio: too many devices, ignoring the rest\n");
        return;
    }
    d = &s->devs[s->ndevs];
    memset(d, 0, sizeof(*d));
    d->transport = VT_PCI;
    /* modern ids are 0x1040 + type; transitional ones carry the type in
     * the subsystem id (4.1.2.1) */
    d->id = device >= 0x1040 ? device - 0x1040
                             : rd16(ecam(bus, dev, fn, PCI_SUBSYSTEM));
    put_bdf(d->where, bus, dev, fn);
    if (!pci_virtio_caps(d, bus, dev, fn, bars)) {
        vt_fail("virtio-pci", d->where, "no modern virtio capabilities");
        return;
    }
    s->ndevs++;
}

static void pci_scan_bus(unsigned bus, unsigned depth)
{
    for (unsigned dev = 0; dev < 32; dev++) {
        unsigned nfn = 1;

        for (unsigned fn = 0; fn < nfn; fn++) {
            uint16_t vendor = rd16(ecam(bus, dev, fn, PCI_VENDOR));
            if (vendor == 0xffff) {
                continue;
            }
            if (fn == 0 && (rd8(ecam(bus, dev, 0, PCI_HEADER_TYPE)) & 0x80)) {
                nfn = 8;
            }
            pci_function(bus, dev, fn, depth);
        }
    }
}

bool vt_pci_scan(void)
{
    struct vt_state *s = vt();

    if (cf8_read(0, 0, PCI_VENDOR) != MCH_ID) {
        return false;
    }
    /* PCIEXBAR: base 0xb0000000, 256 buses, enabled (what SeaBIOS does) */
    cf8_write(0, 0, MCH_PCIEXBAR + 4, 0);
    cf8_write(0, 0, MCH_PCIEXBAR, (uint32_t)VT_ECAM_BASE | 1);
    if (rd32(ecam(0, 0, 0, PCI_VENDOR)) != MCH_ID) {
        vt_fail("pci", NULL, "ECAM at 0xb0000000 does not show the MCH");
        return true;
    }
    vt_puts("virtio: q35, ECAM at 0xb0000000\n");
    s->pci_mem = VT_PCI_MEM_BASE;
    s->next_bus = 0;
    pci_scan_bus(0, 0);
    return true;
}

/* ---- virtio-mmio (version 2) ---- */

#define MMIO_MAGIC 0x000
#define MMIO_VERSION 0x004
#define MMIO_DEVICE_ID 0x008
#define MMIO_DEV_FEATURES 0x010
#define MMIO_DEV_FEATURES_SEL 0x014
#define MMIO_DRV_FEATURES 0x020
#define MMIO_DRV_FEATURES_SEL 0x024
#define MMIO_QUEUE_SEL 0x030
#define MMIO_QUEUE_NUM_MAX 0x034
#define MMIO_QUEUE_NUM 0x038
#define MMIO_QUEUE_READY 0x044
#define MMIO_QUEUE_NOTIFY 0x050
#define MMIO_STATUS 0x070
#define MMIO_QUEUE_DESC 0x080
#define MMIO_QUEUE_DRIVER 0x090
#define MMIO_QUEUE_DEVICE 0x0a0
#define MMIO_CONFIG 0x100

void vt_mmio_scan(void)
{
    struct vt_state *s = vt();

    for (unsigned i = 0; i < VT_MMIO_SLOTS; i++) {
        uintptr_t base = (uintptr_t)(VT_MMIO_BASE + i * VT_MMIO_SIZE);
        uint32_t ver, id;
        struct vdev *d;

        if (rd32(base + MMIO_MAGIC) != 0x74726976) { /* "virt" */
            continue;
        }
        ver = rd32(base + MMIO_VERSION);
        id = rd32(base + MMIO_DEVICE_ID);
        if (id == 0) { /* an empty slot (QEMU maps all of them) */
            continue;
        }
        if (s->ndevs == VT_MAX_DEVS) {
            vt_puts("virtio: too many devices, ignoring the rest\n");
            return;
        }
        d = &s->devs[s->ndevs];
        memset(d, 0, sizeof(*d));
        d->transport = VT_MMIO;
        d->id = (uint16_t)id;
        d->mmio = base;
        memcpy(d->where, "mmio ", 5);
        for (int k = 0; k < 8; k++) {
            d->where[5 + k] = "0123456789abcdef"[(base >> (28 - 4 * k)) & 15];
        }
        d->where[13] = 0;
        if (ver != 2) {
            /* QEMU's virtio-mmio is legacy (version 1) unless told
             * -global virtio-mmio.force-legacy=false */
            vt_fail("virtio-mmio", d->where,
                    "virtio-mmio version is not 2 (legacy "
                    "transport not supported)");
            continue;
        }
        s->ndevs++;
    }
}

/* ---- common operations over both transports ---- */

/* virtio_pci_common_cfg offsets (4.1.4.3) */
#define PC_DFSELECT 0x00
#define PC_DF 0x04
#define PC_GFSELECT 0x08
#define PC_GF 0x0c
#define PC_MSIX 0x10
#define PC_NUMQ 0x12
#define PC_STATUS 0x14
#define PC_QSELECT 0x16
#define PC_QSIZE 0x18
#define PC_QMSIX 0x1a
#define PC_QENABLE 0x1c
#define PC_QNOTIFY_OFF 0x1e
#define PC_QDESC 0x20
#define PC_QDRIVER 0x28
#define PC_QDEVICE 0x30
#define VIRTIO_MSI_NO_VECTOR 0xffff

uint64_t vd_get_features(struct vdev *d)
{
    uint32_t lo, hi;

    if (d->transport == VT_PCI) {
        wr32(d->common + PC_DFSELECT, 0);
        lo = rd32(d->common + PC_DF);
        wr32(d->common + PC_DFSELECT, 1);
        hi = rd32(d->common + PC_DF);
    } else {
        wr32(d->mmio + MMIO_DEV_FEATURES_SEL, 0);
        lo = rd32(d->mmio + MMIO_DEV_FEATURES);
        wr32(d->mmio + MMIO_DEV_FEATURES_SEL, 1);
        hi = rd32(d->mmio + MMIO_DEV_FEATURES);
    }
    return ((uint64_t)hi << 32) | lo;
}

void vd_set_features(struct vdev *d, uint64_t f)
{
    if (d->transport == VT_PCI) {
        wr32(d->common + PC_GFSELECT, 0);
        wr32(d->common + PC_GF, (uint32_t)f);
        wr32(d->common + PC_GFSELECT, 1);
        wr32(d->common + PC_GF, (uint32_t)(f >> 32));
    } else {
        wr32(d->mmio + MMIO_DRV_FEATURES_SEL, 0);
        wr32(d->mmio + MMIO_DRV_FEATURES, (uint32_t)f);
        wr32(d->mmio + MMIO_DRV_FEATURES_SEL, 1);
        wr32(d->mmio + MMIO_DRV_FEATURES, (uint32_t)(f >> 32));
    }
}

uint8_t vd_get_status(struct vdev *d)
{
    return d->transport == VT_PCI ? rd8(d->common + PC_STATUS)
                                  : (uint8_t)rd32(d->mmio + MMIO_STATUS);
}

void vd_set_status(struct vdev *d, uint8_t st)
{
    if (d->transport == VT_PCI) {
        wr8(d->common + PC_STATUS, st);
    } else {
        wr32(d->mmio + MMIO_STATUS, st);
    }
}

uint32_t vd_cfg_read(struct vdev *d, unsigned off, unsigned size)
{
    uintptr_t a = d->transport == VT_PCI ? d->devcfg : d->mmio + MMIO_CONFIG;

    if (!a) {
        return 0;
    }
    a += off;
    return size == 1 ? rd8(a) : size == 2 ? rd16(a) : rd32(a);
}

void vd_cfg_write32(struct vdev *d, unsigned off, uint32_t v)
{
    uintptr_t a = d->transport == VT_PCI ? d->devcfg : d->mmio + MMIO_CONFIG;

    if (a) {
        wr32(a + off, v);
    }
}

uint16_t vd_queue_max(struct vdev *d, unsigned idx)
{
    if (d->transport == VT_PCI) {
        if (idx >= rd16(d->common + PC_NUMQ)) {
            return 0;
        }
        wr16(d->common + PC_QSELECT, (uint16_t)idx);
        return rd16(d->common + PC_QSIZE);
    }
    wr32(d->mmio + MMIO_QUEUE_SEL, idx);
    if (rd32(d->mmio + MMIO_QUEUE_READY)) {
        return 0; /* must be 0 after reset (4.2.3.2) */
    }
    return (uint16_t)rd32(d->mmio + MMIO_QUEUE_NUM_MAX);
}

static void wr64_split(uintptr_t a, uint64_t v)
{
    wr32(a, (uint32_t)v);
    wr32(a + 4, (uint32_t)(v >> 32));
}

bool vd_queue_enable(struct vdev *d, struct vq *vq)
{
    if (d->transport == VT_PCI) {
        uintptr_t c = d->common;

        wr16(c + PC_QSELECT, vq->index);
        wr16(c + PC_QSIZE, vq->size);
        /* queue 0 signals MSI-X entry 0 when MSI-X is on */
        wr16(c + PC_QMSIX,
             vq->index == 0 && d->msix_vector ? 0 : VIRTIO_MSI_NO_VECTOR);
        if (vq->index == 0 && d->msix_vector && rd16(c + PC_QMSIX) != 0) {
            vt_puts("virtio: the device refused MSI-X vector 0 for queue 0\n");
        }
        wr64_split(c + PC_QDESC, (uintptr_t)vq->desc);
        wr64_split(c + PC_QDRIVER, (uintptr_t)vq->avail);
        wr64_split(c + PC_QDEVICE, (uintptr_t)vq->used);
        vq->notify_off = rd16(c + PC_QNOTIFY_OFF);
        wr16(c + PC_QENABLE, 1);
        return rd16(c + PC_QENABLE) == 1;
    }
    wr32(d->mmio + MMIO_QUEUE_SEL, vq->index);
    wr32(d->mmio + MMIO_QUEUE_NUM, vq->size);
    wr64_split(d->mmio + MMIO_QUEUE_DESC, (uintptr_t)vq->desc);
    wr64_split(d->mmio + MMIO_QUEUE_DRIVER, (uintptr_t)vq->avail);
    wr64_split(d->mmio + MMIO_QUEUE_DEVICE, (uintptr_t)vq->used);
    wr32(d->mmio + MMIO_QUEUE_READY, 1);
    return rd32(d->mmio + MMIO_QUEUE_READY) == 1;
}

void vd_notify(struct vdev *d, struct vq *vq)
{
    if (d->transport == VT_PCI) {
        wr16(d->notify + (uintptr_t)vq->notify_off * d->notify_mult, vq->index);
    } else {
        wr32(d->mmio + MMIO_QUEUE_NOTIFY, vq->index);
    }
}
