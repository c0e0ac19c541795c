/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-pci.c: `-device virtio-blk-pci` on the q35 machine built on
 * the fake KVM backend, driven as a guest driver would (virtio 1.2 section
 * 4.1): enumeration through ECAM and 0xCF8, BAR sizing and placement, the
 * vendor capabilities, feature negotiation, a queue, virtio-blk writes and
 * reads through the notify doorbell (an eventfd kicked on the main
 * context), completions as MSI-X (irqfd routed through KVM's GSI table,
 * or KVM_SIGNAL_MSI after a masked vector is unmasked) and as INTx with
 * the ISR; doorbells following a moved BAR; and hostile accesses.
 * Migration of the blk, rng and balloon pairs (what their models hold
 * given back to the ring and popped again by the destination's doorbell
 * eventfds).
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "fake-kvm.h"
#include "hw/block/drive.h"
#include "hw/block/virtio-blk.h"
#include "hw/core/device.h"
#include "hw/core/loader.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie-host.h"
#include "hw/virtio/virtio-balloon.h"
#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio-rng.h"
#include "migration/vmstate.h"
#include "qapi/qapi-gen-types.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "system/memory.h"
#include "tests/unit/savevm-harness.h"
#include "tests/unit/vring-build.h"

#include <glib/gstdio.h>
#include <poll.h>
#include <unistd.h>

#define SLOT 3
#define DEVFN PCI_DEVFN(SLOT, 0)
#define MSIX_BASE 0xfe000000ULL
#define BAR4_BASE 0x180000000ULL
#define COMMON (BAR4_BASE + VIRTIO_PCI_COMMON_OFF)

struct fx {
    struct fake_kvm f;
    struct machine m;
    struct machine_config cfg;
    char *bios, *image;
    struct virtio_pci_proxy *p;
};

static void fx_init_if(struct fx *x, const char *dev_text, const char *iface)
{
    Error *err = NULL;
    g_autofree uint8_t *img = g_malloc(128 * KiB);
    g_autofree char *drive = NULL;
    uint8_t sector[512];
    int fd;

    memset(x, 0, sizeof(*x));
    memset(img, 0xf4, 128 * KiB);
    x->bios = g_build_filename(g_get_tmp_dir(), "vireo-vpci-bios-XXXXXX", NULL);
    close(g_mkstemp(x->bios));
    g_assert_true(g_file_set_contents(x->bios, (char *)img, 128 * KiB, NULL));
    x->image = g_build_filename(g_get_tmp_dir(), "vireo-vpci-XXXXXX", NULL);
    fd = g_mkstemp(x->image);
    for (unsigned i = 0; i < 64; i++) {
        memset(sector, i, sizeof(sector));
        g_assert_cmpint(write(fd, sector, 512), ==, 512);
    }
    close(fd);
    fake_kvm_init(&x->f);
    x->f.accel.vm_fd = FAKE_VM_FD;
    x->f.accel.irqchip = KVM_IRQCHIP_ON; /* INTx: KVM_IRQ_LINE, logged */
    machine_config_init(&x->cfg);
    x->cfg.ram_size = 256 * MiB;
    x->cfg.bios = g_strdup(x->bios);
    x->cfg.sandbox = false;
    drive = g_strdup_printf("file=%s,format=raw,if=%s,id=d0", x->image, iface);
    g_assert_true(machine_config_add_drive(&x->cfg, drive, &err));
    x->m.cfg = &x->cfg;
    /* as after machine_run: the devices take input */
    x->m.state = RUN_STATE_RUNNING;
    x->m.type = machine_type_find("q35");
    x->m.kvm = &x->f.accel;
    vlog_init(&x->m.log);
    g_mutex_init(&x->m.req_lock);
    x->m.req_event_fd = -1;
    x->m.pio = as_new("pio", &x->m.log);
    x->m.mmio = as_new("mmio", &x->m.log);
    x->m.devices = g_ptr_array_new();
    x->m.chardevs = g_ptr_array_new();
    x->m.ctx = g_main_context_new();
    if (!x->m.type->init_memory(&x->m, &err) ||
        !x->m.type->init_interrupts(&x->m, &err) ||
        !x->m.type->init_devices(&x->m, &err) ||
        !machine_open_drives(&x->m, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    if (dev_text) {
        struct device_opts *o = device_opts_parse(dev_text, &err);
        struct device *d;

        g_assert_nonnull(o);
        d = device_create_opts(&x->m, o, &err);
        device_opts_free(o);
        if (!d) {
            g_error("%s", error_get_pretty(err));
        }
        x->p = (struct virtio_pci_proxy *)d;
    }
}

static void fx_init(struct fx *x, const char *dev_text)
{
    fx_init_if(x, dev_text, "none");
}

static void fx_clear(struct fx *x)
{
    for (guint i = x->m.devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(x->m.devices, i - 1));
    }
    g_ptr_array_free(x->m.devices, TRUE);
    g_ptr_array_free(x->m.chardevs, TRUE);
    machine_close_drives(&x->m);
    as_free(x->m.pio);
    as_free(x->m.mmio);
    gm_free(x->m.gm);
    x->m.type->free(&x->m);
    g_main_context_unref(x->m.ctx);
    g_mutex_clear(&x->m.req_lock);
    vlog_close(&x->m.log);
    fake_kvm_destroy(&x->f);
    machine_config_clear(&x->cfg);
    g_unlink(x->bios);
    g_unlink(x->image);
    g_free(x->bios);
    g_free(x->image);
}

static uint64_t rd(struct fx *x, uint64_t a, unsigned len)
{
    uint8_t b[8] = {0};

    as_read(x->m.mmio, a, b, len);
    return ld_le64(b) & (len == 8 ? ~0ULL : (1ULL << (8 * len)) - 1);
}

static void wr(struct fx *x, uint64_t a, uint64_t v, unsigned len)
{
    uint8_t b[8];

    st_le64(b, v);
    as_write(x->m.mmio, a, b, len);
}

static uint32_t cfg_rd(struct fx *x, unsigned devfn, unsigned reg, unsigned len)
{
    return (uint32_t)rd(x, Q35_ECAM_BASE + (devfn << 12 | reg), len);
}

static void cfg_wr(struct fx *x, unsigned devfn, unsigned reg, uint32_t v,
                   unsigned len)
{
    wr(x, Q35_ECAM_BASE + (devfn << 12 | reg), v, len);
}

static uint32_t cf8_rd(struct fx *x, unsigned devfn, unsigned reg)
{
    uint8_t b[4];

    st_le32(b, 0x80000000u | devfn << 8 | reg);
    as_write(x->m.pio, 0xcf8, b, 4);
    as_read(x->m.pio, 0xcfc, b, 4);
    return ld_le32(b);
}

/* The vendor capability of cfg_type `type`, walking the list. */
static unsigned find_vcap(struct fx *x, uint8_t type)
{
    unsigned c = cfg_rd(x, DEVFN, PCI_CAPABILITY_LIST, 1);

    for (unsigned n = 0; c && n < 48; n++) {
        if (cfg_rd(x, DEVFN, c, 1) == PCI_CAP_ID_VNDR &&
            cfg_rd(x, DEVFN, c + 3, 1) == type) {
            return c;
        }
        c = cfg_rd(x, DEVFN, c + 1, 1);
    }
    return 0;
}

static void guest_place_bars(struct fx *x);

/* Enumerates, sizes and places the BARs, enables memory and bus master. */
static void guest_probe(struct fx *x)
{
    unsigned found = 0;

    for (unsigned s = 0; s < 32; s++) {
        if (cfg_rd(x, PCI_DEVFN(s, 0), 0, 4) == 0x10421af4) {
            found = PCI_DEVFN(s, 0);
        }
    }
    g_assert_cmpuint(found, ==, DEVFN);
    g_assert_cmphex(cf8_rd(x, DEVFN, 0), ==, 0x10421af4);
    g_assert_cmphex(cfg_rd(x, DEVFN, PCI_CLASS_PROG - 1, 4), ==, 0x01000001);
    g_assert_cmphex(cfg_rd(x, DEVFN, PCI_SUBSYSTEM_VENDOR_ID, 4), ==,
                    0x11001af4);
    guest_place_bars(x);
}

/* Sizes and places the BARs of the function at DEVFN (every model's
 * layout), enables memory and bus master. */
static void guest_place_bars(struct fx *x)
{
    g_assert_cmpuint(cfg_rd(x, DEVFN, PCI_INTERRUPT_PIN, 1), ==, 1);
    /* sizing: BAR1 4 KiB 32-bit, BAR4 16 KiB 64-bit prefetchable, the
     * others absent (no legacy I/O BAR 0) */
    for (unsigned b = 0; b < 6; b++) {
        cfg_wr(x, DEVFN, PCI_BASE_ADDRESS_0 + 4 * b, 0xffffffff, 4);
    }
    g_assert_cmphex(cfg_rd(x, DEVFN, PCI_BASE_ADDRESS_0, 4), ==, 0);
    g_assert_cmphex(cfg_rd(x, DEVFN, PCI_BASE_ADDRESS_0 + 4, 4), ==,
                    0xfffff000);
    g_assert_cmphex(cfg_rd(x, DEVFN, PCI_BASE_ADDRESS_0 + 16, 4), ==,
                    0xffffc00c);
    g_assert_cmphex(cfg_rd(x, DEVFN, PCI_BASE_ADDRESS_0 + 20, 4), ==,
                    0xffffffff);
    cfg_wr(x, DEVFN, PCI_BASE_ADDRESS_0 + 4, (uint32_t)MSIX_BASE, 4);
    cfg_wr(x, DEVFN, PCI_BASE_ADDRESS_0 + 16, (uint32_t)BAR4_BASE, 4);
    cfg_wr(x, DEVFN, PCI_BASE_ADDRESS_0 + 20, (uint32_t)(BAR4_BASE >> 32), 4);
    cfg_wr(x, DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/* Status handshake up to FEATURES_OK with VERSION_1 only. */
static void guest_features(struct fx *x)
{
    wr(x, COMMON + VIRTIO_PCI_COMMON_STATUS, 3, 1);
    wr(x, COMMON + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    g_assert_cmphex(rd(x, COMMON + VIRTIO_PCI_COMMON_DF, 4) & 1, ==, 1);
    wr(x, COMMON + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    wr(x, COMMON + VIRTIO_PCI_COMMON_GF, 1, 4);
    wr(x, COMMON + VIRTIO_PCI_COMMON_STATUS, 0xb, 1);
    g_assert_cmphex(rd(x, COMMON + VIRTIO_PCI_COMMON_STATUS, 1), ==, 0xb);
}

/* Queue q (at most `max` entries) with 8 entries at 0x100000, vector
 * `vec`, then DRIVER_OK. */
static void guest_queue_q(struct fx *x, struct vr *r, uint16_t q, uint16_t max,
                          uint16_t vec)
{
    vr_init(r, x->m.gm, 0x100000, 8);
    g_assert_cmpuint(rd(x, COMMON + VIRTIO_PCI_COMMON_NUMQ, 2), >, q);
    wr(x, COMMON + VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
    g_assert_cmpuint(rd(x, COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, max);
    wr(x, COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
    wr(x, COMMON + VIRTIO_PCI_COMMON_Q_MSIX, vec, 2);
    g_assert_cmphex(rd(x, COMMON + VIRTIO_PCI_COMMON_Q_MSIX, 2), ==, vec);
    /* one address as two halves, one as a 64-bit write */
    wr(x, COMMON + VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)r->desc, 4);
    wr(x, COMMON + VIRTIO_PCI_COMMON_Q_DESCLO + 4, 0, 4);
    wr(x, COMMON + VIRTIO_PCI_COMMON_Q_AVAILLO, r->avail, 8);
    wr(x, COMMON + VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)r->used, 4);
    g_assert_cmphex(rd(x, COMMON + VIRTIO_PCI_COMMON_Q_AVAILLO, 8), ==,
                    r->avail);
    g_assert_cmpuint(rd(x, COMMON + VIRTIO_PCI_COMMON_Q_NOFF, 2), ==, q);
    wr(x, COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    g_assert_cmpuint(rd(x, COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 1);
    wr(x, COMMON + VIRTIO_PCI_COMMON_STATUS, 0xf, 1);
    g_assert_cmphex(rd(x, COMMON + VIRTIO_PCI_COMMON_STATUS, 1), ==, 0xf);
}

/* virtio-blk's queue 0 (256 entries at most). */
static void guest_queue(struct fx *x, struct vr *r, uint16_t vec)
{
    guest_queue_q(x, r, 0, 256, vec);
}

/* One request (type, sector, 512 bytes at 0x200000) through the doorbell;
 * waits for the used entry and returns the status byte. */
static uint8_t guest_request(struct fx *x, struct vr *r, uint32_t type,
                             uint64_t sector, uint64_t notify)
{
    uint8_t hdr[16] = {0};
    uint32_t id, len;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    st_le32(hdr, type);
    st_le64(hdr + 8, sector);
    g_assert_true(gm_write(x->m.gm, 0x1f0000, hdr, 16));
    vr_desc(r, 0, 0x1f0000, 16, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(r, 1, 0x200000, 512,
            VIRTQ_DESC_F_NEXT |
                (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0),
            2);
    vr_desc(r, 2, 0x201000, 1, VIRTQ_DESC_F_WRITE, 0);
    *vr_ptr(x->m.gm, 0x201000, 1) = 0xee;
    vr_add(r, 0);
    vr_publish(r);
    /* the doorbell: a 16-bit write of the queue index */
    wr(x, notify, 0, 2);
    while (!vr_get_used(r, &id, &len)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(x->m.ctx, FALSE);
        g_usleep(1000);
    }
    return *vr_ptr(x->m.gm, 0x201000, 1);
}

static bool fd_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t n;

    if (poll(&p, 1, 0) != 1) {
        return false;
    }
    g_assert_cmpint(read(fd, &n, 8), ==, 8);
    return true;
}

static bool routed(struct fx *x, uint32_t data)
{
    const struct kvm_irq_routing *t = x->f.routing;

    for (unsigned i = 0; t && i < t->nr; i++) {
        if (t->entries[i].type == KVM_IRQ_ROUTING_MSI &&
            t->entries[i].u.msi.address_lo == 0xfee00000 &&
            t->entries[i].u.msi.data == data) {
            return true;
        }
    }
    return false;
}

static void test_capabilities(void)
{
    struct fx x;
    unsigned c;
    static const struct {
        uint8_t type, at;
        uint32_t off;
    } caps[] = {
        {VIRTIO_PCI_CAP_COMMON_CFG, 0x40, 0x0000},
        {VIRTIO_PCI_CAP_ISR_CFG, 0x50, 0x1000},
        {VIRTIO_PCI_CAP_DEVICE_CFG, 0x60, 0x2000},
        {VIRTIO_PCI_CAP_NOTIFY_CFG, 0x70, 0x3000},
    };

    fx_init(&x, "virtio-blk-pci,drive=d0,addr=3,id=vd0");
    guest_probe(&x);
    /* QEMU 7.2's layout: MSI-X at 0x98 heads the list, then the PCI_CFG
     * window at 0x84, notify, device, ISR and common config */
    g_assert_cmphex(cfg_rd(&x, DEVFN, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, ==,
                    PCI_STATUS_CAP_LIST);
    g_assert_cmphex(cfg_rd(&x, DEVFN, PCI_CAPABILITY_LIST, 1), ==, 0x98);
    g_assert_cmphex(cfg_rd(&x, DEVFN, 0x98, 4), ==, 0x00018411);
    g_assert_cmphex(cfg_rd(&x, DEVFN, 0x9c, 4), ==, VIRTIO_PCI_MSIX_BAR);
    g_assert_cmphex(cfg_rd(&x, DEVFN, 0xa0, 4), ==,
                    0x800 | VIRTIO_PCI_MSIX_BAR);
    for (unsigned i = 0; i < ARRAY_SIZE(caps); i++) {
        c = find_vcap(&x, caps[i].type);
        g_assert_cmphex(c, ==, caps[i].at);
        g_assert_cmpuint(cfg_rd(&x, DEVFN, c + 2, 1), ==,
                         caps[i].type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16);
        g_assert_cmpuint(cfg_rd(&x, DEVFN, c + 4, 1), ==, 4);
        g_assert_cmphex(cfg_rd(&x, DEVFN, c + 8, 4), ==, caps[i].off);
        g_assert_cmphex(cfg_rd(&x, DEVFN, c + 12, 4), ==, 0x1000);
    }
    g_assert_cmpuint(cfg_rd(&x, DEVFN, 0x70 + 16, 4), ==, 4);
    g_assert_cmphex(find_vcap(&x, VIRTIO_PCI_CAP_PCI_CFG), ==, 0x84);
    g_assert_cmphex(cfg_rd(&x, DEVFN, 0x40, 2), ==, 0x0009); /* list end */
    /* query-pci as QEMU shows it */
    {
        Error *err = NULL;
        GPtrArray *l = qmp_query_pci(&x.m, &err);
        struct qapi_pci_info *bus = g_ptr_array_index(l, 0);
        struct qapi_pci_device_info *d = NULL;

        for (guint i = 0; i < bus->devices->len; i++) {
            struct qapi_pci_device_info *e = g_ptr_array_index(bus->devices, i);
            if (e->slot == SLOT) {
                d = e;
            }
        }
        g_assert_nonnull(d);
        g_assert_cmpstr(d->class_info->desc, ==, "SCSI controller");
        g_assert_cmphex(d->class_info->class, ==, 0x0100);
        g_assert_cmphex(d->id->device, ==, 0x1042);
        g_assert_cmphex(d->id->subsystem, ==, 0x1100);
        g_assert_cmpstr(d->qdev_id, ==, "vd0");
        g_assert_cmpuint(d->regions->len, ==, 2);
        {
            struct qapi_pci_memory_region *b1 =
                g_ptr_array_index(d->regions, 0);
            struct qapi_pci_memory_region *b4 =
                g_ptr_array_index(d->regions, 1);
            g_assert_cmpint(b1->bar, ==, 1);
            g_assert_cmpint(b1->size, ==, 4096);
            g_assert_false(b1->mem_type_64 || b1->prefetch);
            g_assert_cmpint(b4->bar, ==, 4);
            g_assert_cmpint(b4->size, ==, 16384);
            g_assert_true(b4->mem_type_64 && b4->prefetch);
            g_assert_cmphex(b4->address, ==, BAR4_BASE);
        }
        for (guint i = 0; i < l->len; i++) {
            qapi_pci_info_free(g_ptr_array_index(l, i));
        }
        g_ptr_array_free(l, TRUE);
    }
    fx_clear(&x);
}

static void test_msix_io(void)
{
    struct fx x;
    struct vr r;
    uint8_t *data, buf[512];
    const uint64_t notify = BAR4_BASE + VIRTIO_PCI_NOTIFY_OFF;
    int fd;

    fx_init(&x, "virtio-blk-pci,drive=d0,addr=3");
    guest_probe(&x);
    /* MSI-X: vector 0 config, vector 1 queue 0, both unmasked */
    for (unsigned v = 0; v < 2; v++) {
        wr(&x, MSIX_BASE + 16 * v, 0xfee00000, 8);
        wr(&x, MSIX_BASE + 16 * v + 8, 0x4041 + v, 4);
        wr(&x, MSIX_BASE + 16 * v + 12, 0, 4);
    }
    cfg_wr(&x, DEVFN, 0x98 + 2, PCI_MSIX_FLAGS_ENABLE, 2);
    guest_features(&x);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_MSIX, 0, 2);
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_MSIX, 2), ==, 0);
    /* a vector the table does not have reads back NO_VECTOR */
    wr(&x, COMMON + VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_Q_MSIX, 2), ==, 0xffff);
    guest_queue(&x, &r, 1);
    g_assert_cmpuint(rd(&x, BAR4_BASE + VIRTIO_PCI_DEVICE_OFF, 4), ==, 64);

    /* a write of sector 3, then a read of sector 7 */
    memset(buf, 0xa5, sizeof(buf));
    g_assert_true(gm_write(x.m.gm, 0x200000, buf, 512));
    g_assert_cmpuint(guest_request(&x, &r, VIRTIO_BLK_T_OUT, 3, notify), ==,
                     VIRTIO_BLK_S_OK);
    {
        g_autofree char *file = NULL;
        gsize flen;

        g_assert_true(g_file_get_contents(x.image, &file, &flen, NULL));
        g_assert_cmpuint((uint8_t)file[3 * 512], ==, 0xa5);
        g_assert_cmpuint((uint8_t)file[4 * 512 - 1], ==, 0xa5);
        g_assert_cmpuint((uint8_t)file[4 * 512], ==, 4);
    }
    /* the completion: vector 1's irqfd, routed to its message in KVM */
    fd = x.p->irqfds[1];
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(fd_readable(fd));
    g_assert_true(routed(&x, 0x4042));
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_IRQFD), >=, 1);
    g_assert_cmpuint(guest_request(&x, &r, VIRTIO_BLK_T_IN, 7, notify), ==,
                     VIRTIO_BLK_S_OK);
    data = vr_ptr(x.m.gm, 0x200000, 512);
    g_assert_cmpuint(data[0], ==, 7);
    g_assert_cmpuint(data[511], ==, 7);
    g_assert_true(fd_readable(fd));

    /* masked: the interrupt waits in the PBA, and unmasking sends it */
    wr(&x, MSIX_BASE + 16 + 12, 1, 4);
    g_array_set_size(x.f.msis, 0);
    g_assert_cmpuint(guest_request(&x, &r, VIRTIO_BLK_T_IN, 9, notify), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_false(fd_readable(fd));
    g_assert_cmpuint(x.f.msis->len, ==, 0);
    g_assert_cmphex(rd(&x, MSIX_BASE + x.p->pci.msix_pba_off, 4) & 2, ==, 2);
    wr(&x, MSIX_BASE + 16 + 12, 0, 4);
    g_assert_cmpuint(x.f.msis->len, ==, 1);
    g_assert_cmphex(g_array_index(x.f.msis, struct kvm_msi, 0).data, ==,
                    0x4042);
    g_assert_cmphex(rd(&x, MSIX_BASE + x.p->pci.msix_pba_off, 4) & 2, ==, 0);

    /* system reset: status 0, BARs and vectors gone */
    device_reset(&x.p->pci.dev);
    g_assert_cmpuint(cfg_rd(&x, DEVFN, PCI_COMMAND, 2), ==, 0);
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_STATUS, 1), ==, 0xff);
    g_assert_cmpuint(x.p->vdev->status, ==, 0);
    g_assert_cmphex(x.p->config_vector, ==, 0xffff);
    fx_clear(&x);
}

static void test_intx(void)
{
    struct fx x;
    struct vr r;
    const uint64_t notify = BAR4_BASE + VIRTIO_PCI_NOTIFY_OFF;
    g_autofree char *up = NULL, *down = NULL;

    fx_init(&x, "virtio-blk-pci,drive=d0,addr=3");
    guest_probe(&x);
    guest_features(&x);
    guest_queue(&x, &r, 0xffff);
    up = g_strdup_printf("%d=1;", x.p->pci.intx_gsi);
    down = g_strdup_printf("%d=0;", x.p->pci.intx_gsi);
    g_string_truncate(x.f.irq_lines, 0);
    /* MSI-X off: the line follows the ISR */
    g_assert_cmpuint(guest_request(&x, &r, VIRTIO_BLK_T_IN, 1, notify), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpstr(x.f.irq_lines->str, ==, up);
    g_assert_cmphex(cfg_rd(&x, DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, ==,
                    PCI_STATUS_INTERRUPT);
    g_assert_cmpuint(rd(&x, BAR4_BASE + VIRTIO_PCI_ISR_OFF, 1), ==, 1);
    g_assert_true(g_str_has_suffix(x.f.irq_lines->str, down));
    g_assert_cmpuint(rd(&x, BAR4_BASE + VIRTIO_PCI_ISR_OFF, 1), ==, 0);
    g_assert_cmpuint(x.f.msis->len, ==, 0);
    fx_clear(&x);

    /* vectors=0: no MSI-X at all, INTx only */
    fx_init(&x, "virtio-blk-pci,drive=d0,addr=3,vectors=0");
    g_assert_cmpuint(x.p->pci.msix_cap, ==, 0);
    g_assert_cmphex(cfg_rd(&x, DEVFN, PCI_CAPABILITY_LIST, 1), ==, 0x84);
    cfg_wr(&x, DEVFN, PCI_BASE_ADDRESS_0 + 16, (uint32_t)BAR4_BASE, 4);
    cfg_wr(&x, DEVFN, PCI_BASE_ADDRESS_0 + 20, (uint32_t)(BAR4_BASE >> 32), 4);
    cfg_wr(&x, DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_MSIX, 0, 2);
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_MSIX, 2), ==, 0xffff);
    fx_clear(&x);
}

/* The doorbells follow BAR 4 (and KVM hears of each move). */
static void test_bar_move(void)
{
    struct fx x;
    struct vr r;
    const uint64_t moved = 0x1c0000000ULL;
    unsigned n;

    fx_init(&x, "virtio-blk-pci,drive=d0,addr=3,num-queues=2");
    guest_probe(&x);
    guest_features(&x);
    guest_queue(&x, &r, 0xffff);
    g_assert_true(x.p->notify_mapped);
    /* queue 1's doorbell is 4 bytes after queue 0's */
    cfg_wr(&x, DEVFN, PCI_BASE_ADDRESS_0 + 20, (uint32_t)(moved >> 32), 4);
    cfg_wr(&x, DEVFN, PCI_BASE_ADDRESS_0 + 16, (uint32_t)moved, 4);
    g_assert_cmphex(x.p->notify_base, ==, moved);
    g_assert_cmphex(
        rd(&x, moved + VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS, 1), ==,
        0xf);
    /* the old doorbell is gone: nothing happens there */
    *vr_ptr(x.m.gm, 0x201000, 1) = 0xee;
    g_assert_cmpuint(guest_request(&x, &r, VIRTIO_BLK_T_IN, 2,
                                   moved + VIRTIO_PCI_NOTIFY_OFF),
                     ==, VIRTIO_BLK_S_OK);
    /* with the accelerator's listener, each move is two ioeventfd calls
     * per queue; memory decoding off removes them */
    as_set_eventfd_listener(x.m.mmio, &kvm_mmio_eventfd_listener, x.m.kvm);
    cfg_wr(&x, DEVFN, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
    g_assert_false(x.p->notify_mapped);
    fake_kvm_clear_log(&x.f);
    cfg_wr(&x, DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    n = fake_kvm_count(&x.f, KVM_IOEVENTFD);
    g_assert_cmpuint(n, ==, 2);
    cfg_wr(&x, DEVFN, PCI_BASE_ADDRESS_0 + 16, (uint32_t)BAR4_BASE, 4);
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_IOEVENTFD), ==, n + 4);
    fx_clear(&x);
}

/* Hostile register accesses: refused and logged, never a crash, and the
 * device keeps working. */
static void test_hostile(void)
{
    struct fx x;
    struct vr r;
    const uint64_t isr = BAR4_BASE + VIRTIO_PCI_ISR_OFF;
    const uint64_t dev = BAR4_BASE + VIRTIO_PCI_DEVICE_OFF;
    const unsigned w = 0x84; /* the PCI_CFG window */

    fx_init(&x, "virtio-blk-pci,drive=d0,addr=3");
    guest_probe(&x);
    /* wrong widths and offsets */
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_NUMQ, 4), ==, 0xffffffff);
    g_assert_cmphex(rd(&x, COMMON + 1, 1), ==, 0xff);
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_SIZE, 4), ==, 0xffffffff);
    g_assert_cmphex(rd(&x, COMMON + 0xffc, 8), ==, ~0ULL); /* crosses */
    wr(&x, COMMON + VIRTIO_PCI_COMMON_STATUS, 0x3, 4);
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_STATUS, 1), ==, 0);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_NUMQ, 7, 2); /* read-only */
    g_assert_cmpuint(rd(&x, COMMON + VIRTIO_PCI_COMMON_NUMQ, 2), ==, 1);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_DF, 0, 4);
    g_assert_cmphex(rd(&x, isr, 4), ==, 0xffffffff);
    wr(&x, isr, 1, 1);
    g_assert_cmphex(rd(&x, dev + 60, 4), ==, 0xffffffff); /* past config */
    wr(&x, dev, 1, 4);                                    /* read-only */
    g_assert_cmpuint(rd(&x, dev, 4), ==, 64);
    g_assert_cmpuint(rd(&x, BAR4_BASE + VIRTIO_PCI_NOTIFY_OFF, 2), ==, 0);
    /* queue_select out of range */
    guest_features(&x);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_Q_SELECT, 9, 2);
    g_assert_cmpuint(rd(&x, COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 0);
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_Q_MSIX, 2), ==, 0xffff);
    g_assert_cmpuint(rd(&x, COMMON + VIRTIO_PCI_COMMON_Q_DESCLO, 8), ==, 0);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_Q_DESCLO, 0x1000, 8);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
    wr(&x, BAR4_BASE + VIRTIO_PCI_NOTIFY_OFF + 9 * 4, 9, 2);
    wr(&x, BAR4_BASE + VIRTIO_PCI_NOTIFY_OFF + 1, 0, 2);
    wr(&x, BAR4_BASE + VIRTIO_PCI_NOTIFY_OFF, 0, 4);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2); /* 0 is not allowed */
    g_assert_cmpuint(rd(&x, COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
    wr(&x, COMMON + VIRTIO_PCI_COMMON_MSIX, 0x1234, 2);
    g_assert_cmphex(rd(&x, COMMON + VIRTIO_PCI_COMMON_MSIX, 2), ==, 0xffff);
    /* the PCI_CFG window: num_queues, the device config, the status */
    cfg_wr(&x, DEVFN, w + 4, 4, 1);
    cfg_wr(&x, DEVFN, w + 8, VIRTIO_PCI_COMMON_NUMQ, 4);
    cfg_wr(&x, DEVFN, w + 12, 2, 4);
    g_assert_cmpuint(cfg_rd(&x, DEVFN, w + 16, 2), ==, 1);
    cfg_wr(&x, DEVFN, w + 8, VIRTIO_PCI_DEVICE_OFF, 4);
    cfg_wr(&x, DEVFN, w + 12, 4, 4);
    g_assert_cmpuint(cfg_rd(&x, DEVFN, w + 16, 4), ==, 64);
    cfg_wr(&x, DEVFN, w + 8, VIRTIO_PCI_COMMON_STATUS, 4);
    cfg_wr(&x, DEVFN, w + 12, 1, 4);
    cfg_wr(&x, DEVFN, w + 16, 0x0, 4); /* a reset through the window */
    g_assert_cmpuint(x.p->vdev->status, ==, 0);
    /* bad windows: length 3, misaligned, out of the BAR, another BAR */
    cfg_wr(&x, DEVFN, w + 12, 3, 4);
    cfg_wr(&x, DEVFN, w + 16, 0x12345678, 4);
    g_assert_cmphex(cfg_rd(&x, DEVFN, w + 16, 4), ==, 0x12345678);
    cfg_wr(&x, DEVFN, w + 12, 4, 4);
    cfg_wr(&x, DEVFN, w + 8, 0x4002, 4);
    cfg_wr(&x, DEVFN, w + 16, 0, 4);
    cfg_wr(&x, DEVFN, w + 8, 0x10000, 4);
    cfg_wr(&x, DEVFN, w + 16, 0, 4);
    cfg_wr(&x, DEVFN, w + 4, 1, 1);
    cfg_wr(&x, DEVFN, w + 8, 0, 4);
    cfg_wr(&x, DEVFN, w + 16, 0, 4);
    g_assert_cmphex(cfg_rd(&x, DEVFN, w + 16, 4), ==, 0);
    /* the device still works */
    guest_features(&x);
    guest_queue(&x, &r, 0xffff);
    g_assert_cmpuint(guest_request(&x, &r, VIRTIO_BLK_T_IN, 5,
                                   BAR4_BASE + VIRTIO_PCI_NOTIFY_OFF),
                     ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(*vr_ptr(x.m.gm, 0x200000, 1), ==, 5);
    fx_clear(&x);
}

static void expect_refused(struct fx *x, const char *text, const char *why)
{
    Error *err = NULL;
    struct device_opts *o = device_opts_parse(text, &err);

    g_assert_nonnull(o);
    g_assert_null(device_create_opts(&x->m, o, &err));
    device_opts_free(o);
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), why)) {
        g_error("%s: '%s' lacks '%s'", text, error_get_pretty(err), why);
    }
    error_free(err);
}

static void test_errors(void)
{
    struct fx x;
    Error *err = NULL;

    fx_init(&x, NULL);
    expect_refused(&x, "virtio-blk-pci", "drive property not set");
    expect_refused(&x, "virtio-blk-pci,drive=nope",
                   "Property 'virtio-blk-pci.drive' can't find value 'nope'");
    expect_refused(&x, "virtio-blk-pci,drive=d0,disable-legacy=off",
                   "disable-legacy=off is not supported");
    expect_refused(&x, "virtio-blk-pci,drive=d0,disable-legacy=maybe",
                   "does not accept value 'maybe'");
    expect_refused(&x, "virtio-blk-pci,drive=d0,disable-modern=on",
                   "disable-modern=on is not supported");
    expect_refused(&x, "virtio-blk-pci,drive=d0,vectors=4096", "at most 2048");
    expect_refused(&x, "virtio-blk-pci,drive=d0,addr=0", "in use by mch");
    expect_refused(&x, "virtio-blk-pci,drive=d0,bus=nope",
                   "Bus 'nope' not found");
    /* none of those kept the drive: it is still free */
    g_assert_true(machine_create_drive_devices(&x.m, &err));
    {
        struct device_opts *o = device_opts_parse(
            "virtio-blk-pci,drive=d0,disable-legacy=on,vectors=4", &err);
        struct device *d = device_create_opts(&x.m, o, &err);

        device_opts_free(o);
        g_assert_nonnull(d);
        g_assert_cmpuint(((struct pci_device *)d)->msix_nvec, ==, 4);
    }
    expect_refused(&x, "virtio-blk-pci,drive=d0", "already in use");
    fx_clear(&x);
}

/* -drive if=virtio on q35: the board's virtio-blk-pci in the first free
 * slot of pcie.0 */
static void test_if_virtio(void)
{
    struct fx x;
    Error *err = NULL;
    struct pci_device *pd;

    fx_init_if(&x, NULL, "virtio");
    g_assert_true(machine_create_drive_devices(&x.m, &err));
    g_assert_null(err);
    pd = g_ptr_array_index(x.m.devices, x.m.devices->len - 1);
    g_assert_cmpstr(pd->dev.cls->name, ==, "virtio-blk-pci");
    g_assert_cmphex(cfg_rd(&x, pd->devfn, 0, 4), ==, 0x10421af4);
    g_assert_cmpuint(PCI_SLOT(pd->devfn), >, 0);
    fx_clear(&x);
}

/* Behind a root port: PCIe endpoint and PM first, the virtio
 * capabilities after them at QEMU's offsets. */
static void test_behind_port(void)
{
    struct fx x;
    Error *err = NULL;
    struct device_opts *o;
    struct pci_device *pd;

    fx_init(&x, NULL);
    o = device_opts_parse("pcie-root-port,id=rp,chassis=1,addr=2", &err);
    g_assert_nonnull(device_create_opts(&x.m, o, &err));
    device_opts_free(o);
    o = device_opts_parse("virtio-blk-pci,drive=d0,bus=rp", &err);
    pd = (struct pci_device *)device_create_opts(&x.m, o, &err);
    device_opts_free(o);
    g_assert_nonnull(pd);
    g_assert_cmphex(pd->config[0x40], ==, PCI_CAP_ID_EXP);
    g_assert_cmphex(pd->config[0x41], ==, 0);
    g_assert_cmphex(ld_le16(pd->config + 0x42) >> 4 & 0xf, ==,
                    PCI_EXP_TYPE_ENDPOINT);
    g_assert_cmphex(pd->config[0x7c], ==, PCI_CAP_ID_PM);
    g_assert_cmphex(pd->config[0x7d], ==, 0x40);
    g_assert_cmphex(pd->config[0x84 + 3], ==, VIRTIO_PCI_CAP_COMMON_CFG);
    g_assert_cmphex(pd->config[0x85], ==, 0x7c);
    g_assert_cmphex(pd->config[PCI_CAPABILITY_LIST], ==, 0xdc);
    g_assert_cmphex(pd->config[0xdc], ==, PCI_CAP_ID_MSIX);
    fx_clear(&x);
}

/* virtio-blk-pci migrates: the function's config space and MSI-X table,
 * the transport and the core go to a fresh machine (RAM copied as the
 * stream would), and the destination completes the next request through
 * its own doorbell and irqfd at the next used index.  A vector the
 * destination's table lacks is refused. */
static void test_migrate(void)
{
    struct fx a, b;
    struct vr r;
    uint8_t buf[512];
    const uint64_t notify = BAR4_BASE + VIRTIO_PCI_NOTIFY_OFF;
    g_autoptr(GByteArray) st = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;
    uint32_t id, len;

    fx_init(&a, "virtio-blk-pci,drive=d0,addr=3");
    guest_probe(&a);
    for (unsigned v = 0; v < 2; v++) {
        wr(&a, MSIX_BASE + 16 * v, 0xfee00000, 8);
        wr(&a, MSIX_BASE + 16 * v + 8, 0x4041 + v, 4);
        wr(&a, MSIX_BASE + 16 * v + 12, 0, 4);
    }
    cfg_wr(&a, DEVFN, 0x98 + 2, PCI_MSIX_FLAGS_ENABLE, 2);
    guest_features(&a);
    wr(&a, COMMON + VIRTIO_PCI_COMMON_MSIX, 0, 2);
    guest_queue(&a, &r, 1);
    memset(buf, 0x5a, sizeof(buf));
    g_assert_true(gm_write(a.m.gm, 0x200000, buf, 512));
    g_assert_cmpuint(guest_request(&a, &r, VIRTIO_BLK_T_OUT, 2, notify), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_true(vmstate_save(a.p->pci.dev.cls->vmsd, a.p, st, &err));
    g_assert_null(err);

    fx_init(&b, "virtio-blk-pci,drive=d0,addr=3");
    memcpy(vr_ptr(b.m.gm, 0x100000, 0x110000),
           vr_ptr(a.m.gm, 0x100000, 0x110000), 0x110000);
    g_assert_true(vmstate_load(b.p->pci.dev.cls->vmsd, b.p, st->data, st->len,
                               &pos, &err));
    g_assert_null(err);
    g_assert_cmpuint(pos, ==, st->len);
    /* the guest's view came along: BARs, MSI-X, status, vectors */
    g_assert_cmphex(rd(&b, COMMON + VIRTIO_PCI_COMMON_STATUS, 1), ==, 0xf);
    g_assert_cmphex(b.p->config_vector, ==, 0);
    g_assert_cmphex(b.p->vdev->vqs[0].msix_vector, ==, 1);
    g_assert_true(pci_msix_enabled(&b.p->pci));
    g_assert_true(routed(&b, 0x4042));
    g_assert_cmpuint(b.p->vdev->vqs[0].used_idx, ==, 1);
    /* the destination runs the ring on from where it was */
    r.gm = b.m.gm;
    g_assert_cmpuint(guest_request(&b, &r, VIRTIO_BLK_T_IN, 2, notify), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_true(vr_get_used(&r, &id, &len) == false);
    /* (each fixture has its own image: sector 2 of b's reads 2) */
    g_assert_cmpuint(vr_ptr(b.m.gm, 0x200000, 512)[0], ==, 2);
    g_assert_cmpuint(b.p->vdev->vqs[0].used_idx, ==, 2);
    g_assert_true(fd_readable(b.p->irqfds[1]));
    fx_clear(&b);

    /* a destination with fewer vectors cannot take this state */
    fx_init(&b, "virtio-blk-pci,drive=d0,addr=3,vectors=1");
    pos = 0;
    g_assert_false(vmstate_load(b.p->pci.dev.cls->vmsd, b.p, st->data, st->len,
                                &pos, &err));
    g_assert_nonnull(err);
    error_free(err);
    fx_clear(&b);
    fx_clear(&a);
}

/* ---- the rng and balloon pairs migrate ---- */

/* A driver on `text`'s function: BARs, VERSION_1, queue q (INTx). */
static void model_up(struct fx *x, const char *text, struct vr *r, uint16_t q,
                     uint16_t max)
{
    fx_init(x, text);
    guest_place_bars(x);
    guest_features(x);
    guest_queue_q(x, r, q, max, VIRTIO_PCI_NO_VECTOR);
}

/* Buffer `slot` (len bytes at 0x200000 + 0x1000 slot) made available. */
static void model_post(struct vr *r, uint16_t slot, uint32_t len,
                       uint16_t flags)
{
    vr_desc(r, slot, 0x200000 + 0x1000 * slot, len, flags, 0);
    vr_add(r, slot);
    vr_publish(r);
}

/* The doorbell's handler, without the main loop. */
static void model_kick(struct fx *x, uint16_t q)
{
    g_mutex_lock(&x->p->pci.dev.lock);
    virtio_queue_notify(x->p->vdev, q);
    g_mutex_unlock(&x->p->pci.dev.lock);
}

/* Saves a's pair and loads it into b's through the stream. */
static void migrate_pair(struct fx *a, struct fx *b)
{
    Error *err = NULL;
    GByteArray *st = th_save_stream("q35", &a->p->pci.dev, a->m.gm, &err);

    g_assert_null(err);
    g_assert_nonnull(st);
    g_assert_true(th_load_stream("q35", &b->p->pci.dev, b->m.gm, st, &err));
    g_assert_null(err);
    g_byte_array_unref(st);
}

/* Runs x's main loop until *held is set (the destination's look at its
 * queues after the load: the kick eventfds of virtio-pci). */
static void wait_held(struct fx *x, void *const *held)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (!*held) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(x->m.ctx, FALSE);
        g_usleep(1000);
    }
}

/* virtio-rng-pci: a request parked for the spent quota is given back;
 * the destination pops it and parks it too (the spent quota came along:
 * a fresh one would serve it). */
static void test_migrate_rng(void)
{
    const char *text = "virtio-rng-pci,addr=3,max-bytes=16,period=60000";
    struct fx a, b;
    struct vr r;
    struct virtio_rng *sa, *sb;

    model_up(&a, text, &r, 0, 8);
    model_post(&r, 0, 16, VIRTQ_DESC_F_WRITE);
    model_post(&r, 1, 16, VIRTQ_DESC_F_WRITE);
    model_kick(&a, 0);
    sa = virtio_model_of(&a.p->pci.dev);
    g_assert_nonnull(sa->pending);
    g_assert_cmpuint(vr_used_p(&r)[1], ==, 1);
    fx_init(&b, text);
    sb = virtio_model_of(&b.p->pci.dev);
    migrate_pair(&a, &b);
    g_assert_null(sa->pending);
    g_assert_cmpuint(a.p->vdev->vqs[0].last_avail_idx, ==, 1);
    g_assert_true(sb->period_open);
    g_assert_cmpuint(sb->quota, ==, 0);
    wait_held(&b, (void *const *)&sb->pending);
    g_assert_cmpuint(b.p->vdev->vqs[0].last_avail_idx, ==, 2);
    r.gm = b.m.gm;
    g_assert_cmpuint(vr_used_p(&r)[1], ==, 1);
    fx_clear(&b);
    fx_clear(&a);
}

/* virtio-balloon-pci: the held stats buffer is given back; the
 * destination has the stats and pops the buffer again. */
static void test_migrate_balloon(void)
{
    const char *text = "virtio-balloon-pci,addr=3";
    /* le16 tag, le64 value: stat-free-memory 42 */
    const uint8_t stat[VIRTIO_BALLOON_STAT_SIZE] = {VIRTIO_BALLOON_S_MEMFREE, 0,
                                                    42};
    struct fx a, b;
    struct vr r;
    struct virtio_balloon *sa, *sb;

    model_up(&a, text, &r, VIRTIO_BALLOON_Q_STATS, 128);
    g_assert_true(gm_write(a.m.gm, 0x200000, stat, sizeof(stat)));
    model_post(&r, 0, sizeof(stat), 0);
    model_kick(&a, VIRTIO_BALLOON_Q_STATS);
    sa = virtio_model_of(&a.p->pci.dev);
    g_assert_nonnull(sa->stats_elem);
    g_assert_cmpuint(sa->stats[VIRTIO_BALLOON_S_MEMFREE], ==, 42);
    fx_init(&b, text);
    sb = virtio_model_of(&b.p->pci.dev);
    migrate_pair(&a, &b);
    g_assert_null(sa->stats_elem);
    g_assert_cmpuint(sb->stats[VIRTIO_BALLOON_S_MEMFREE], ==, 42);
    g_assert_cmpint(sb->stats_last_update, ==, sa->stats_last_update);
    g_assert_null(sb->stats_elem);
    wait_held(&b, (void *const *)&sb->stats_elem);
    g_assert_cmpuint(b.p->vdev->vqs[VIRTIO_BALLOON_Q_STATS].last_avail_idx, ==,
                     1);
    fx_clear(&b);
    fx_clear(&a);
}

/* Every virtio model has its virtio-pci pair: QEMU's ids and class codes
 * (1af4:1040 + device id, revision 1), and whether migrate may take it. */
static void test_model_pairs(void)
{
    static const struct {
        const char *text;
        uint16_t device;
        uint32_t class_code;
        bool blocked;
    } pairs[] = {
        {"virtio-rng-pci", 0x1044, 0x00ff00, false},
        {"virtio-balloon-pci", 0x1045, 0x00ff00, false},
        {"virtio-serial-pci,max_ports=4", 0x1043, 0x078000, false},
    };
    struct fx x;
    Error *err = NULL;

    fx_init(&x, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(pairs); i++) {
        struct device_opts *o = device_opts_parse(pairs[i].text, &err);
        struct pci_device *pd;

        g_assert_nonnull(o);
        pd = (struct pci_device *)device_create_opts(&x.m, o, &err);
        device_opts_free(o);
        if (!pd) {
            g_error("%s: %s", pairs[i].text, error_get_pretty(err));
        }
        g_assert_cmphex(cfg_rd(&x, pd->devfn, 0, 4), ==,
                        (uint32_t)pairs[i].device << 16 | 0x1af4);
        g_assert_cmphex(cfg_rd(&x, pd->devfn, PCI_REVISION_ID, 4), ==,
                        pairs[i].class_code << 8 | 1);
        g_assert_cmphex(cfg_rd(&x, pd->devfn, PCI_SUBSYSTEM_VENDOR_ID, 2), ==,
                        0x1af4);
        /* the same QOM forwarding and migration policy as the mmio pair */
        g_assert_nonnull(pd->dev.cls->qom);
        g_assert_true(pd->dev.cls->unmigratable ||
                      (pd->dev.cls->migration_blocked &&
                       pd->dev.cls->migration_blocked(&pd->dev)) ==
                          pairs[i].blocked);
    }
    fx_clear(&x);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-pci/capabilities", test_capabilities);
    g_test_add_func("/virtio-pci/msix-io", test_msix_io);
    g_test_add_func("/virtio-pci/intx", test_intx);
    g_test_add_func("/virtio-pci/bar-move", test_bar_move);
    g_test_add_func("/virtio-pci/hostile", test_hostile);
    g_test_add_func("/virtio-pci/errors", test_errors);
    g_test_add_func("/virtio-pci/if-virtio", test_if_virtio);
    g_test_add_func("/virtio-pci/behind-port", test_behind_port);
    g_test_add_func("/virtio-pci/model-pairs", test_model_pairs);
    g_test_add_func("/virtio-pci/migrate", test_migrate);
    g_test_add_func("/virtio-pci/migrate-rng", test_migrate_rng);
    g_test_add_func("/virtio-pci/migrate-balloon", test_migrate_balloon);
    return g_test_run();
}
