/* SPDX-License-Identifier: MIT */
/*
 * test-pci.c: the PCI core, the q35 host bridge, pcie-root-port and the
 * ICH9 LPC's PM block, on a bare machine (dev-harness.h) whose GSIs and
 * MSIs are recorded: ECAM and 0xCF8/0xCFC reach the same registers, BAR
 * sizing returns the size mask (32/64-bit, I/O), COMMAND.MEM/IO and BAR
 * writes map and unmap the device's regions, write masks and W1C bits,
 * the capability chain, MSI and MSI-X delivery with masking and pending
 * bits, INTx with the swizzle through a root port, the root port's bus
 * numbers and windows, placement errors, 0xCF9 reset, the PM block.
 */
#include "util/common.h"
#include "hw/acpi/ich9-lpc.h"
#include "qapi/json-value.h"
#include "qapi/qapi-gen-types.h"

#include <sys/eventfd.h>
#include <unistd.h>
#include "pci-harness.h"

#define SLOT3 PCI_DEVFN(3, 0)
static const char *const at_slot3[] = {"addr", "3", NULL};

/* ---- tests ---- */

static void test_mechanisms(void)
{
    struct fx x;

    fx_init(&x);
    g_assert_nonnull(fx_add(&x, &tdev_class, at_slot3, NULL));
    /* the MCH at 00.0, by both mechanisms */
    g_assert_cmphex(cfg_rd(&x, 0, 0, PCI_VENDOR_ID, 4), ==, 0x29c08086);
    g_assert_cmphex(cf8_rd(&x, 0, 0, PCI_VENDOR_ID, 4), ==, 0x29c08086);
    g_assert_cmphex(cf8_rd(&x, 0, 0, PCI_DEVICE_ID, 2), ==, 0x29c0);
    g_assert_cmphex(cf8_rd(&x, 0, 0, PCI_CLASS_DEVICE + 1, 1), ==, 0x06);
    /* CONFIG_ADDRESS reads back without its reserved bits */
    th_out(x.m, 0xcf8, 0xffffffff, 4);
    g_assert_cmphex(th_in(x.m, 0xcf8, 4), ==, 0x80fffffc);
    /* a write through one is seen through the other */
    cf8_wr(&x, 0, SLOT3, PCI_INTERRUPT_LINE, 0x0b, 1);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_INTERRUPT_LINE, 1), ==, 0x0b);
    cfg_wr(&x, 0, SLOT3, PCI_CACHE_LINE_SIZE, 0x1020, 2);
    g_assert_cmphex(cf8_rd(&x, 0, SLOT3, PCI_CACHE_LINE_SIZE, 2), ==, 0x1020);
    /* nothing there: all ones; CONFIG_DATA without the enable bit too */
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(9, 0), 0, 4), ==, 0xffffffff);
    g_assert_cmphex(cf8_rd(&x, 5, 0, 0, 4), ==, 0xffffffff);
    th_out(x.m, 0xcf8, 0x00001800, 4);
    g_assert_cmphex(th_in(x.m, 0xcfc, 4), ==, 0xffffffff);
    /* misaligned ECAM accesses reach the registers byte by byte (the
     * address space splits them), each byte checked on its own */
    g_assert_cmphex(mmio_rd(&x, ecam(0, 0, 1), 2), ==, 0xc080);
    cfg_wr(&x, 0, SLOT3, PCI_INTERRUPT_LINE - 1, 0x00ff2200, 4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_INTERRUPT_LINE, 1), ==, 0x22);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_INTERRUPT_PIN, 1), ==, 1);
    /* across two functions: 00.0's last bytes, then 00.1 (absent) */
    g_assert_cmphex(mmio_rd(&x, ecam(0, 0, 0xffe), 4), ==, 0xffff0000);
    /* the last register of the last function of the last bus */
    g_assert_cmphex(mmio_rd(&x, Q35_ECAM_BASE + Q35_ECAM_SIZE - 4, 4), ==,
                    0xffffffff);
    fx_clear(&x);
}

static void test_masks(void)
{
    struct fx x;

    fx_init(&x);
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    /* read-only identity */
    cfg_wr(&x, 0, SLOT3, PCI_VENDOR_ID, 0xdeadbeef, 4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_VENDOR_ID, 4), ==, 0x10ff1af4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_INTERRUPT_PIN, 1), ==, 1);
    /* COMMAND: only the implemented bits */
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, 0xffff, 2);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_COMMAND, 2), ==, 0x0507);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, 0, 2);
    /* STATUS: error bits are write-1-to-clear, CAP_LIST read-only */
    st_le16(t->pci.config + PCI_STATUS, PCI_STATUS_CAP_LIST | 0x8000 | 0x2000);
    cfg_wr(&x, 0, SLOT3, PCI_STATUS, 0x8000 | PCI_STATUS_CAP_LIST, 2);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_STATUS, 2), ==,
                    PCI_STATUS_CAP_LIST | 0x2000);
    cfg_wr(&x, 0, SLOT3, PCI_STATUS, 0, 2);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_STATUS, 2), ==,
                    PCI_STATUS_CAP_LIST | 0x2000);
    /* extended space exists (4 KiB) but holds nothing */
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x100, 4), ==, 0);
    cfg_wr(&x, 0, SLOT3, 0xffc, 0xffffffff, 4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0xffc, 4), ==, 0);
    /* direct calls check offset and length */
    g_assert_cmphex(pci_config_read(&t->pci, 0xffe, 4), ==, 0xffffffff);
    g_assert_cmphex(pci_config_read(&t->pci, 0x1000, 1), ==, 0xffffffff);
    g_assert_cmphex(pci_config_read(&t->pci, 0, 3), ==, 0xffffffff);
    pci_config_write(&t->pci, 0xfff, 0xffff, 2);
    fx_clear(&x);
}

static void test_bar_sizing(void)
{
    struct fx x;

    fx_init(&x);
    g_assert_nonnull(fx_add(&x, &tdev_class, at_slot3, NULL));
    /* BAR0: 64-bit prefetchable memory, 16 KiB */
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x10, 4), ==, 0xc);
    cfg_wr(&x, 0, SLOT3, 0x10, 0xffffffff, 4);
    cfg_wr(&x, 0, SLOT3, 0x14, 0xffffffff, 4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x10, 4), ==, 0xffffc00c);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x14, 4), ==, 0xffffffff);
    /* BAR2: I/O, 32 bytes */
    cfg_wr(&x, 0, SLOT3, 0x18, 0xffffffff, 4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x18, 4), ==, 0xffffffe1);
    /* BAR3: the MSI-X BAR, 32-bit memory, 4 KiB */
    cfg_wr(&x, 0, SLOT3, 0x1c, 0xffffffff, 4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x1c, 4), ==, 0xfffff000);
    /* BAR4, BAR5, ROM: not implemented, read as zero */
    cfg_wr(&x, 0, SLOT3, 0x20, 0xffffffff, 4);
    cfg_wr(&x, 0, SLOT3, 0x24, 0xffffffff, 4);
    cfg_wr(&x, 0, SLOT3, PCI_ROM_ADDRESS, 0xffffffff, 4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x20, 4), ==, 0);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x24, 4), ==, 0);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, PCI_ROM_ADDRESS, 4), ==, 0);
    fx_clear(&x);
}

static void test_bar_registration(void)
{
    struct fx x;
    Error *err = NULL;

    fx_init(&x);
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    g_assert_false(pci_register_bar(&t->pci, 1, PCI_BAR_MEM32, 4096, &tdev_ops,
                                    &err)); /* upper half of BAR0 */
    g_assert_nonnull(strstr(error_get_pretty(err), "registered already"));
    g_clear_pointer(&err, error_free);
    g_assert_false(
        pci_register_bar(&t->pci, 4, PCI_BAR_MEM32, 3000, &tdev_ops, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "size"));
    g_clear_pointer(&err, error_free);
    g_assert_false(
        pci_register_bar(&t->pci, 5, PCI_BAR_MEM64, 4096, &tdev_ops, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "does not exist"));
    g_clear_pointer(&err, error_free);
    g_assert_false(
        pci_register_bar(&t->pci, 6, PCI_BAR_MEM32, 4096, &tdev_ops, &err));
    g_clear_pointer(&err, error_free);
    fx_clear(&x);
}

static void test_bar_mapping(void)
{
    struct fx x;

    fx_init(&x);
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    cfg_wr(&x, 0, SLOT3, 0x10, 0xc0000000, 4);
    cfg_wr(&x, 0, SLOT3, 0x14, 0x1, 4); /* 0x1_c000_0000 */
    cfg_wr(&x, 0, SLOT3, 0x18, 0xc000, 4);
    /* decoding off: nothing there */
    g_assert_cmphex(mmio_rd(&x, 0x1c0000010ULL, 4), ==, 0xffffffff);
    g_assert_cmpuint(t->reads, ==, 0);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_cmphex(mmio_rd(&x, 0x1c0000010ULL, 4), ==, 0x1234 + 0x10);
    g_assert_cmpuint(t->last_off, ==, 0x10);
    mmio_wr(&x, 0x1c0003ff8ULL, 0xabcdef, 8);
    g_assert_cmphex(t->last_val, ==, 0xabcdef);
    g_assert_cmpuint(t->last_off, ==, 0x3ff8);
    /* the I/O BAR needs COMMAND.IO */
    g_assert_cmphex(th_in(x.m, 0xc004, 2), ==, 0xffff);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    g_assert_cmphex(th_in(x.m, 0xc004, 2), ==, 0x1234 + 4);
    /* moving the BAR unmaps the old place */
    cfg_wr(&x, 0, SLOT3, 0x14, 0x0, 4);
    g_assert_cmphex(mmio_rd(&x, 0x1c0000010ULL, 4), ==, 0xffffffff);
    g_assert_cmphex(mmio_rd(&x, 0xc0000020ULL, 4), ==, 0x1234 + 0x20);
    /* sizing while decoding: the pattern (ending at 4 GiB) is not mapped */
    cfg_wr(&x, 0, SLOT3, 0x1c, 0xffffffff, 4);
    g_assert_false(t->pci.bars[3].is_mapped);
    cfg_wr(&x, 0, SLOT3, 0x1c, 0xfe000000, 4);
    g_assert_true(t->pci.bars[3].is_mapped);
    /* an I/O BAR past 64 KiB is not mapped */
    cfg_wr(&x, 0, SLOT3, 0x18, 0x10000, 4);
    g_assert_false(t->pci.bars[2].is_mapped);
    /* MEM off unmaps */
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, 0, 2);
    g_assert_cmphex(mmio_rd(&x, 0xc0000020ULL, 4), ==, 0xffffffff);
    g_assert_false(t->pci.bars[0].is_mapped);
    /* reset: BARs back to zero, COMMAND off */
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_true(t->pci.bars[0].is_mapped);
    device_reset(&t->pci.dev);
    g_assert_false(t->pci.bars[0].is_mapped);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, 0x10, 4), ==, 0xc);
    fx_clear(&x);
}

/* The device hears where its BARs go (for ioeventfds). */
static GString *bar_log;

static void log_bar(struct pci_device *pd, unsigned bar, uint64_t addr,
                    bool mapped)
{
    g_string_append_printf(bar_log, "%s%u@%" PRIx64 " ", mapped ? "+" : "-",
                           bar, addr);
}

static const struct pci_device_ops log_ops = {.bar_mapped = log_bar};

static void test_bar_hook(void)
{
    struct fx x;

    fx_init(&x);
    bar_log = g_string_new(NULL);
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    t->pci.ops = &log_ops;
    cfg_wr(&x, 0, SLOT3, 0x10, 0xc0000000, 4);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    cfg_wr(&x, 0, SLOT3, 0x10, 0xd0000000, 4);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, 0, 2);
    g_assert_cmpstr(bar_log->str, ==,
                    "+0@c0000000 -0@c0000000 +0@d0000000 -0@d0000000 ");
    fx_clear(&x);
    g_string_free(bar_log, TRUE);
}

static void test_capabilities(void)
{
    struct fx x;
    unsigned seen[2] = {0}, n = 0;
    uint8_t off;

    fx_init(&x);
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    g_assert_true(cfg_rd(&x, 0, SLOT3, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    off = (uint8_t)cfg_rd(&x, 0, SLOT3, PCI_CAPABILITY_LIST, 1);
    while (off) {
        g_assert_cmpuint(off, >=, 0x40);
        g_assert_cmpuint(off & 3, ==, 0);
        g_assert_cmpuint(n, <, 2);
        seen[n++] = cfg_rd(&x, 0, SLOT3, off, 1);
        off = (uint8_t)cfg_rd(&x, 0, SLOT3, off + 1, 1);
    }
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(seen[0], ==, PCI_CAP_ID_MSIX);
    g_assert_cmpuint(seen[1], ==, PCI_CAP_ID_MSI);
    g_assert_cmpuint(pci_find_capability(&t->pci, PCI_CAP_ID_MSI), ==,
                     t->pci.msi_cap);
    g_assert_cmpuint(pci_find_capability(&t->pci, PCI_CAP_ID_EXP), ==, 0);
    /* the chain is read-only */
    cfg_wr(&x, 0, SLOT3, PCI_CAPABILITY_LIST, 0x80, 1);
    cfg_wr(&x, 0, SLOT3, t->pci.msix_cap + 1, 0x90, 1);
    g_assert_cmpuint(cfg_rd(&x, 0, SLOT3, PCI_CAPABILITY_LIST, 1), ==,
                     t->pci.msix_cap);
    g_assert_cmpuint(cfg_rd(&x, 0, SLOT3, t->pci.msix_cap + 1, 1), ==,
                     t->pci.msi_cap);
    /* MSI-X: 4 vectors, table at 0 and PBA at 2 KiB (QEMU's), in BAR3 */
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, t->pci.msix_cap + 2, 2), ==, 3);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, t->pci.msix_cap + 4, 4), ==, 3);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, t->pci.msix_cap + 8, 4), ==,
                    0x800 | 3);
    fx_clear(&x);
}

#define MSIX_BAR 0xfe000000ULL

static struct msi_msg last_msg(struct fx *x)
{
    g_assert_cmpuint(x->rec.msgs->len, >, 0);
    return g_array_index(x->rec.msgs, struct msi_msg, x->rec.msgs->len - 1);
}

static void test_msix(void)
{
    struct fx x;
    struct msi_msg msg;

    fx_init(&x);
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    unsigned c = t->pci.msix_cap;
    cfg_wr(&x, 0, SLOT3, 0x1c, (uint32_t)MSIX_BAR, 4);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
           2);
    /* vectors start masked */
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 16 + 12, 4), ==, 1);
    /* not enabled: the device must use INTx */
    g_assert_false(pci_msi_notify(&t->pci, 1));
    mmio_wr(&x, MSIX_BAR + 16, 0xfee01000, 4);
    mmio_wr(&x, MSIX_BAR + 16 + 4, 0, 4);
    mmio_wr(&x, MSIX_BAR + 16 + 8, 0x4041, 4);
    cfg_wr(&x, 0, SLOT3, c + 2, PCI_MSIX_FLAGS_ENABLE, 2);
    g_assert_true(pci_msix_enabled(&t->pci));
    /* masked: pending bit, nothing sent */
    g_assert_true(pci_msi_notify(&t->pci, 1));
    g_assert_cmpuint(x.rec.msgs->len, ==, 0);
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 0x800, 4), ==, 0x2);
    /* unmasking delivers it and clears the bit */
    mmio_wr(&x, MSIX_BAR + 16 + 12, 0, 4);
    g_assert_cmpuint(x.rec.msgs->len, ==, 1);
    msg = last_msg(&x);
    g_assert_cmphex(msg.addr, ==, 0xfee01000);
    g_assert_cmphex(msg.data, ==, 0x4041);
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 0x800, 4), ==, 0);
    /* unmasked: straight through; a 64-bit table write too */
    mmio_wr(&x, MSIX_BAR + 16, 0xfee02000, 8);
    g_assert_true(pci_msi_notify(&t->pci, 1));
    g_assert_cmpuint(x.rec.msgs->len, ==, 2);
    g_assert_cmphex(last_msg(&x).addr, ==, 0xfee02000);
    /* function mask: pending, then delivered when cleared */
    cfg_wr(&x, 0, SLOT3, c + 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
           2);
    g_assert_true(pci_msi_notify(&t->pci, 1));
    g_assert_cmpuint(x.rec.msgs->len, ==, 2);
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 0x800, 4), ==, 0x2);
    cfg_wr(&x, 0, SLOT3, c + 2, PCI_MSIX_FLAGS_ENABLE, 2);
    g_assert_cmpuint(x.rec.msgs->len, ==, 3);
    /* bus mastering off: the message cannot be sent */
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_false(pci_msi_notify(&t->pci, 1));
    g_assert_cmpuint(x.rec.msgs->len, ==, 3);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
           2);
    /* out of range vectors and accesses */
    g_assert_false(pci_msi_notify(&t->pci, 4));
    g_assert_false(pci_msi_notify(&t->pci, 1000000));
    mmio_wr(&x, MSIX_BAR + 0x800, 0xffffffff, 4); /* PBA is read-only */
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 0x800, 4), ==, 0);
    mmio_wr(&x, MSIX_BAR + 0xff8, 0xffffffff, 8);
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 0xff8, 8), ==, 0);
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 0x1000, 4), ==, 0xffffffff);
    fx_clear(&x);
}

/* The irqfd fast path: a route and a binding while the vector can fire,
 * kept in step with the table; pending read from the eventfd while
 * masked. */
struct fast {
    int routes, updates, dels, binds, unbinds;
    struct msi_msg last;
    int bound_fd;
};

static bool fast_send(void *opaque, struct msi_msg msg)
{
    return true;
}

static int fast_route_add(void *opaque, struct msi_msg msg, Error **errp)
{
    struct fast *f = opaque;

    f->last = msg;
    return 24 + f->routes++;
}

static bool fast_route_update(void *opaque, int route, struct msi_msg msg,
                              Error **errp)
{
    struct fast *f = opaque;

    f->updates++;
    f->last = msg;
    return true;
}

static void fast_route_del(void *opaque, int route)
{
    ((struct fast *)opaque)->dels++;
}

static bool fast_bind(void *opaque, int route, int fd, Error **errp)
{
    struct fast *f = opaque;

    f->binds++;
    f->bound_fd = fd;
    return true;
}

static void fast_unbind(void *opaque, int route, int fd)
{
    struct fast *f = opaque;

    f->unbinds++;
    f->bound_fd = -1;
}

static const struct msi_sender_ops fast_ops = {
    fast_send,      fast_route_add, fast_route_update,
    fast_route_del, fast_bind,      fast_unbind};

static void test_msix_irqfd(void)
{
    struct fx x;
    struct fast f = {.bound_fd = -1};
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    uint64_t one = 1;

    g_assert_cmpint(efd, >=, 0);
    fx_init(&x);
    x.m->msi.ops = &fast_ops;
    x.m->msi.opaque = &f;
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    unsigned c = t->pci.msix_cap;
    cfg_wr(&x, 0, SLOT3, 0x1c, (uint32_t)MSIX_BAR, 4);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
           2);
    mmio_wr(&x, MSIX_BAR + 32, 0xfee00000, 8);
    mmio_wr(&x, MSIX_BAR + 32 + 8, 0x4051, 4);
    /* attached while MSI-X is off: nothing in the kernel yet */
    g_assert_true(pci_msix_set_irqfd(&t->pci, 2, efd, NULL));
    g_assert_cmpint(f.binds, ==, 0);
    cfg_wr(&x, 0, SLOT3, c + 2, PCI_MSIX_FLAGS_ENABLE, 2);
    g_assert_cmpint(f.binds, ==, 0); /* vector still masked */
    /* signalled while masked: the PBA shows it, nothing consumed */
    g_assert_cmpint(write(efd, &one, 8), ==, 8);
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 0x800, 4), ==, 0x4);
    /* unmask: a route with the message, the eventfd bound */
    mmio_wr(&x, MSIX_BAR + 32 + 12, 0, 4);
    g_assert_cmpint(f.routes, ==, 1);
    g_assert_cmpint(f.binds, ==, 1);
    g_assert_cmpint(f.bound_fd, ==, efd);
    g_assert_cmphex(f.last.data, ==, 0x4051);
    g_assert_cmphex(mmio_rd(&x, MSIX_BAR + 0x800, 4), ==, 0);
    /* the guest retargets the vector: the route follows */
    mmio_wr(&x, MSIX_BAR + 32 + 8, 0x4052, 4);
    g_assert_cmpint(f.updates, >=, 1);
    g_assert_cmphex(f.last.data, ==, 0x4052);
    g_assert_cmpint(f.binds, ==, 1);
    /* function mask and bus master off unbind */
    cfg_wr(&x, 0, SLOT3, c + 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
           2);
    g_assert_cmpint(f.unbinds, ==, 1);
    cfg_wr(&x, 0, SLOT3, c + 2, PCI_MSIX_FLAGS_ENABLE, 2);
    g_assert_cmpint(f.binds, ==, 2);
    g_assert_cmpint(f.routes, ==, 1); /* the route is reused */
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_cmpint(f.unbinds, ==, 2);
    /* detaching drops the route; out-of-range vectors are refused */
    g_assert_true(pci_msix_set_irqfd(&t->pci, 2, -1, NULL));
    g_assert_cmpint(f.dels, ==, 1);
    g_assert_false(pci_msix_set_irqfd(&t->pci, 4, efd, NULL));
    fx_clear(&x);
    close(efd);
}

static void test_msi(void)
{
    struct fx x;

    fx_init(&x);
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    unsigned c = t->pci.msi_cap;
    /* 64-bit, maskable, 4 vectors capable */
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, c + 2, 2), ==, 0x0184);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
    cfg_wr(&x, 0, SLOT3, c + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
    cfg_wr(&x, 0, SLOT3, c + PCI_MSI_DATA_64, 0x4020, 2);
    /* enable with 4 vectors (MME = 2) */
    cfg_wr(&x, 0, SLOT3, c + 2, PCI_MSI_FLAGS_ENABLE | 2 << 4, 2);
    g_assert_true(pci_msi_notify(&t->pci, 3));
    g_assert_cmphex(last_msg(&x).data, ==, 0x4023);
    g_assert_false(pci_msi_notify(&t->pci, 4));
    /* masked vector 2: pending, then sent on unmask */
    cfg_wr(&x, 0, SLOT3, c + PCI_MSI_MASK_64, 0xffffffff, 4);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, c + PCI_MSI_MASK_64, 4), ==, 0xf);
    g_assert_true(pci_msi_notify(&t->pci, 2));
    g_assert_cmpuint(x.rec.msgs->len, ==, 1);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, c + PCI_MSI_PENDING_64, 4), ==, 0x4);
    cfg_wr(&x, 0, SLOT3, c + PCI_MSI_PENDING_64, 0, 4); /* read-only */
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, c + PCI_MSI_PENDING_64, 4), ==, 0x4);
    cfg_wr(&x, 0, SLOT3, c + PCI_MSI_MASK_64, 0xb, 4);
    g_assert_cmpuint(x.rec.msgs->len, ==, 2);
    g_assert_cmphex(last_msg(&x).data, ==, 0x4022);
    g_assert_cmphex(cfg_rd(&x, 0, SLOT3, c + PCI_MSI_PENDING_64, 4), ==, 0);
    fx_clear(&x);
}

static void test_intx(void)
{
    struct fx x;
    static const char *const at4[] = {"addr", "4", NULL};

    fx_init(&x);
    struct tdev *a = (struct tdev *)fx_add(&x, &tdev_class, at_slot3, NULL);
    struct tdev *b = (struct tdev *)fx_add(&x, &tdev_class, at4, NULL);
    /* slot 3 INTA -> PIRQ D -> GSI 19; slot 4 INTA -> PIRQ A -> GSI 16 */
    g_assert_cmpint(a->pci.intx_gsi, ==, 19);
    g_assert_cmpint(b->pci.intx_gsi, ==, 16);
    g_mutex_lock(&a->pci.dev.lock);
    pci_set_irq(&a->pci, true);
    g_mutex_unlock(&a->pci.dev.lock);
    g_assert_true(th_gsi_level(x.m, 19));
    g_assert_true(cfg_rd(&x, 0, SLOT3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    /* INTX_DISABLE lowers the line, the status bit stays */
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    g_assert_false(th_gsi_level(x.m, 19));
    g_assert_true(cfg_rd(&x, 0, SLOT3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, 0, 2);
    g_assert_true(th_gsi_level(x.m, 19));
    /* the ICH9 swizzle wraps: slot 7 INTA shares GSI 19 with slot 3 */
    static const char *const at7[] = {"addr", "7", NULL};
    struct tdev *c = (struct tdev *)fx_add(&x, &tdev_class, at7, NULL);
    g_assert_cmpint(c->pci.intx_gsi, ==, 19);
    g_mutex_lock(&c->pci.dev.lock);
    pci_set_irq(&c->pci, true);
    g_mutex_unlock(&c->pci.dev.lock);
    g_mutex_lock(&a->pci.dev.lock);
    pci_set_irq(&a->pci, false);
    g_mutex_unlock(&a->pci.dev.lock);
    g_assert_true(th_gsi_level(x.m, 19)); /* still held by slot 7 */
    g_mutex_lock(&c->pci.dev.lock);
    pci_set_irq(&c->pci, false);
    g_mutex_unlock(&c->pci.dev.lock);
    g_assert_false(th_gsi_level(x.m, 19));
    /* a device going away drops its level */
    g_mutex_lock(&b->pci.dev.lock);
    pci_set_irq(&b->pci, true);
    g_mutex_unlock(&b->pci.dev.lock);
    g_assert_true(th_gsi_level(x.m, 16));
    g_ptr_array_remove(x.m->devices, b);
    device_destroy(&b->pci.dev);
    g_assert_false(th_gsi_level(x.m, 16));
    fx_clear(&x);
}

extern const struct device_class pcie_root_port_class;

static void test_root_port(void)
{
    struct fx x;
    static const char *const rp_props[] = {"id", "rp1",  "addr", "2", "slot",
                                           "5",  "port", "0x10", NULL};
    static const char *const below[] = {"bus", "rp1", NULL};
    unsigned c;

    fx_init(&x);
    struct device *rp = fx_add(&x, &pcie_root_port_class, rp_props, NULL);
    g_assert_nonnull(rp);
    struct tdev *t = (struct tdev *)fx_add(&x, &tdev_class, below, NULL);
    g_assert_nonnull(t);
    g_assert_cmpuint(t->pci.devfn, ==, 0);
    /* header type 1, bridge class, PCIe root port with a slot */
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(2, 0), PCI_HEADER_TYPE, 1), ==, 1);
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(2, 0), PCI_CLASS_DEVICE, 2), ==,
                    0x0604);
    c = pci_find_capability((struct pci_device *)rp, PCI_CAP_ID_EXP);
    g_assert_cmpuint(c, !=, 0);
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(2, 0), c + 2, 2), ==,
                    0x0142); /* v2, root port, slot implemented */
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(2, 0), c + PCI_EXP_SLTCAP, 4) >> 19,
                    ==, 5);
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(2, 0), c + PCI_EXP_LNKCAP + 3, 1),
                    ==, 0x10);
    g_assert_true(cfg_rd(&x, 0, PCI_DEVFN(2, 0), c + PCI_EXP_SLTSTA, 2) &
                  PCI_EXP_SLTSTA_PDS);
    /* no bus numbers yet: bus 1 is unreachable */
    g_assert_cmphex(cfg_rd(&x, 1, 0, 0, 4), ==, 0xffffffff);
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_PRIMARY_BUS, 0x010100, 4);
    g_assert_cmphex(cfg_rd(&x, 1, 0, 0, 4), ==, 0x10ff1af4);
    g_assert_cmphex(cf8_rd(&x, 1, 0, 0, 4), ==, 0x10ff1af4);
    g_assert_cmphex(cfg_rd(&x, 2, 0, 0, 4), ==, 0xffffffff);
    g_assert_cmphex(cfg_rd(&x, 1, PCI_DEVFN(1, 0), 0, 4), ==, 0xffffffff);
    /* INTx: device 0 INTA behind the port at slot 2 -> GSI 18 */
    g_assert_cmpint(t->pci.intx_gsi, ==, 18);

    /* the BAR is programmed and decoding, but the port forwards nothing */
    cfg_wr(&x, 1, 0, 0x10, 0xc0100000, 4);
    cfg_wr(&x, 1, 0, 0x14, 0, 4);
    cfg_wr(&x, 1, 0, 0x18, 0x1000, 4);
    cfg_wr(&x, 1, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    g_assert_false(t->pci.bars[0].is_mapped);
    /* memory window 0xc0000000-0xc01fffff (prefetchable BAR in the
     * non-prefetchable window is forwarded too) */
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_MEMORY_BASE, 0xc010c000, 4);
    g_assert_false(t->pci.bars[0].is_mapped); /* bridge MEM still off */
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_true(t->pci.bars[0].is_mapped);
    g_assert_cmphex(mmio_rd(&x, 0xc0100008, 4), ==, 0x1234 + 8);
    g_assert_false(t->pci.bars[2].is_mapped); /* I/O: no window, IO off */
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_IO_BASE, 0x1010, 2);
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_COMMAND,
           PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    g_assert_true(t->pci.bars[2].is_mapped);
    g_assert_cmphex(th_in(x.m, 0x1002, 1), ==, (0x1234 + 2) & 0xff);
    /* shrinking the window below the BAR unmaps it */
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_MEMORY_LIMIT, 0xc000, 2);
    g_assert_false(t->pci.bars[0].is_mapped);
    g_assert_cmphex(mmio_rd(&x, 0xc0100008, 4), ==, 0xffffffff);
    /* the prefetchable window (64-bit) forwards it again */
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_PREF_MEMORY_BASE, 0xc011c011, 4);
    g_assert_true(t->pci.bars[0].is_mapped);
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_PREF_BASE_UPPER32, 1, 4);
    g_assert_false(t->pci.bars[0].is_mapped);
    /* bus numbers changed: the device moves with them */
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_SECONDARY_BUS, 0x0505, 2);
    g_assert_cmphex(cfg_rd(&x, 1, 0, 0, 4), ==, 0xffffffff);
    g_assert_cmphex(cfg_rd(&x, 5, 0, 0, 4), ==, 0x10ff1af4);
    /* a loop of bus ranges does not hang the walk */
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_SECONDARY_BUS, 0xff00, 2);
    g_assert_cmphex(cfg_rd(&x, 9, 0, 0, 4), ==, 0xffffffff);
    fx_clear(&x);
}

static void expect_error(struct fx *x, const struct device_class *cls,
                         const char *const *props, const char *what)
{
    Error *err = NULL;

    g_assert_null(fx_add(x, cls, props, &err));
    g_assert_nonnull(err);
    g_test_message("error: %s", error_get_pretty(err));
    g_assert_nonnull(strstr(error_get_pretty(err), what));
    error_free(err);
}

static void test_placement(void)
{
    struct fx x;
    static const char *const rp[] = {
        "id", "rp", "addr", "0x2.0x0", "multifunction", "on", NULL};
    static const char *const rp2[] = {"id", "rp2", "addr", "0x2.0x1", NULL};
    static const char *const s0[] = {"addr", "0", NULL};
    static const char *const bad1[] = {"addr", "0x20", NULL};
    static const char *const bad2[] = {"addr", "zz", NULL};
    static const char *const bad3[] = {"addr", "3.8", NULL};
    static const char *const bad4[] = {"addr", "3.", NULL};
    static const char *const nobus[] = {"bus", "nope", NULL};
    static const char *const rpslot[] = {"bus", "rp", "addr", "1", NULL};
    static const char *const rp0[] = {"bus", "rp", NULL};
    static const char *const single[] = {"addr", "3.1", NULL};
    static const char *const fn1[] = {"addr", "6.1", NULL};
    static const char *const fn0[] = {"addr", "6", NULL};
    struct device *d;

    fx_init(&x);
    g_assert_nonnull(fx_add(&x, &pcie_root_port_class, rp, NULL));
    g_assert_nonnull(fx_add(&x, &pcie_root_port_class, rp2, NULL));
    expect_error(&x, &tdev_class, s0, "in use by mch");
    expect_error(&x, &tdev_class, bad1, "slot must be");
    expect_error(&x, &tdev_class, bad2, "is not SLOT[.FN]");
    expect_error(&x, &tdev_class, bad3, "function 0..7");
    expect_error(&x, &tdev_class, bad4, "is not SLOT[.FN]");
    expect_error(&x, &tdev_class, nobus, "Bus 'nope' not found");
    expect_error(&x, &tdev_class, rpslot, "only allows plugging into slot 0");
    g_assert_nonnull(fx_add(&x, &tdev_class, rp0, NULL));
    expect_error(&x, &tdev_class, rp0, "no free slot");
    /* root port without an id has no bus name; bus names are unique */
    expect_error(&x, &pcie_root_port_class, NULL, "id=");
    static const char *const dup[] = {"id", "pcie.0", NULL};
    expect_error(&x, &pcie_root_port_class, dup, "exists already");
    static const char *const dup2[] = {"id", "rp", NULL};
    expect_error(&x, &pcie_root_port_class, dup2, "exists already");
    /* multifunction rules */
    g_assert_nonnull(fx_add(&x, &tdev_class, at_slot3, NULL));
    expect_error(&x, &tdev_class, single, "single function");
    g_assert_nonnull(fx_add(&x, &tdev_class, fn1, NULL));
    expect_error(&x, &tdev_class, fn0, "already populated");
    /* no addr: the first free slot (0 is the MCH, 2 the ports, 3 taken) */
    d = fx_add(&x, &tdev_class, NULL, NULL);
    g_assert_cmpuint(((struct pci_device *)d)->devfn, ==, PCI_DEVFN(1, 0));
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(2, 0), PCI_HEADER_TYPE, 1), ==,
                    0x81);
    fx_clear(&x);
}

static void test_reset_register(void)
{
    struct fx x;

    fx_init(&x);
    th_out(x.m, 0xcf9, Q35_RCR_SYS_RST, 1);
    g_assert_cmphex(th_take_requests(x.m, NULL), ==, 0);
    g_assert_cmphex(th_in(x.m, 0xcf9, 1), ==, Q35_RCR_SYS_RST);
    th_out(x.m, 0xcf9, Q35_RCR_SYS_RST | Q35_RCR_RST_CPU, 1);
    g_assert_cmphex(th_take_requests(x.m, NULL), ==, REQ_RESET);
    /* CONFIG_ADDRESS is dword only: a byte at 0xcf8 is not it */
    th_out(x.m, 0xcf8, 0x80000000u, 4);
    th_out(x.m, 0xcf8, 0, 1);
    g_assert_cmphex(th_in(x.m, 0xcf8, 4), ==, 0x80000000u);
    fx_clear(&x);
}

extern const struct device_class ich9_lpc_class;

static void test_ich9_pm(void)
{
    struct fx x;
    static const char *const at1f[] = {"addr", "1f.0", "multifunction", "on",
                                       NULL};
    const unsigned pm = ICH9_PMBASE_DEFAULT;
    uint32_t t0, t1;
    enum shutdown_cause cause;

    fx_init(&x);
    struct device *lpc = fx_add(&x, &ich9_lpc_class, at1f, NULL);
    g_assert_nonnull(lpc);
    g_assert_true(ich9_lpc_find(x.m) == lpc);
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(0x1f, 0), 0, 4), ==, 0x29188086);
    g_assert_cmphex(cfg_rd(&x, 0, PCI_DEVFN(0x1f, 0), 0x40, 4), ==, pm | 1);
    /* SCI_EN is set; the power button raises the SCI once enabled */
    g_assert_cmphex(th_in(x.m, pm + ICH9_PM1_CNT, 2), ==, 1);
    ich9_lpc_power_button(lpc);
    g_assert_cmphex(th_in(x.m, pm + ICH9_PM1_STS, 2), ==, ICH9_PM1_PWRBTN_STS);
    g_assert_false(th_gsi_level(x.m, ICH9_SCI_IRQ));
    th_out(x.m, pm + ICH9_PM1_EN, ICH9_PM1_PWRBTN_STS, 2);
    g_assert_true(th_gsi_level(x.m, ICH9_SCI_IRQ));
    /* write 1 to clear */
    th_out(x.m, pm + ICH9_PM1_STS, 0, 2);
    g_assert_true(th_gsi_level(x.m, ICH9_SCI_IRQ));
    th_out(x.m, pm + ICH9_PM1_STS + 1, ICH9_PM1_PWRBTN_STS >> 8, 1);
    g_assert_false(th_gsi_level(x.m, ICH9_SCI_IRQ));
    g_assert_cmphex(ich9_lpc_pm1_sts(lpc), ==, 0);
    /* the PM timer counts at 3.58 MHz, 24 bits */
    t0 = (uint32_t)th_in(x.m, pm + ICH9_PM1_TMR, 4);
    g_usleep(2000);
    t1 = (uint32_t)th_in(x.m, pm + ICH9_PM1_TMR, 4);
    g_assert_cmpuint(t0, <=, 0xffffff);
    g_assert_cmpuint((t1 - t0) & 0xffffff, >=, 7000);
    /* GPE0: enable bits read back, status is W1C */
    th_out(x.m, pm + ICH9_GPE0_EN, 0x5a, 1);
    g_assert_cmphex(th_in(x.m, pm + ICH9_GPE0_EN, 1), ==, 0x5a);
    /* S3 is refused, S5 (SLP_TYP 0) powers off */
    th_out(x.m, pm + ICH9_PM1_CNT, 1 | 5 << 10 | ICH9_PM1_CNT_SLP_EN, 2);
    g_assert_cmphex(th_take_requests(x.m, NULL), ==, 0);
    th_out(x.m, pm + ICH9_PM1_CNT, 1 | ICH9_PM1_CNT_SLP_EN, 2);
    g_assert_cmphex(th_take_requests(x.m, &cause), ==, REQ_SHUTDOWN);
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    g_assert_false(th_in(x.m, pm + ICH9_PM1_CNT, 2) & ICH9_PM1_CNT_SLP_EN);
    /* PMBASE moves the block; ACPI_CNTL off removes it */
    cfg_wr(&x, 0, PCI_DEVFN(0x1f, 0), 0x40, 0xb000, 4);
    g_assert_cmphex(th_in(x.m, pm + ICH9_PM1_CNT, 2), ==, 0xffff);
    g_assert_cmphex(th_in(x.m, 0xb000 + ICH9_PM1_CNT, 2), ==, 1);
    cfg_wr(&x, 0, PCI_DEVFN(0x1f, 0), 0x44, 0, 1);
    g_assert_cmphex(th_in(x.m, 0xb000 + ICH9_PM1_CNT, 2), ==, 0xffff);
    /* reset: back at 0x600 */
    device_reset(lpc);
    g_assert_cmphex(th_in(x.m, pm + ICH9_PM1_CNT, 2), ==, 1);
    fx_clear(&x);
}

/* query-pci in QEMU's shape: nested bridge, BAR addresses, -1 unmapped */
static void test_query_pci(void)
{
    struct fx x;
    static const char *const rp[] = {"id", "rp1", "addr", "2", NULL};
    static const char *const below[] = {"bus", "rp1", "id", "disk", NULL};
    GPtrArray *list;
    struct json_value *j;
    g_autofree char *s = NULL;

    fx_init(&x);
    g_assert_nonnull(fx_add(&x, &pcie_root_port_class, rp, NULL));
    g_assert_nonnull(fx_add(&x, &tdev_class, at_slot3, NULL));
    g_assert_nonnull(fx_add(&x, &tdev_class, below, NULL));
    cfg_wr(&x, 0, SLOT3, 0x18, 0xc000, 4);
    cfg_wr(&x, 0, SLOT3, PCI_COMMAND, PCI_COMMAND_IO, 2);
    cfg_wr(&x, 0, SLOT3, PCI_INTERRUPT_LINE, 11, 1);
    list = qmp_query_pci(x.m, NULL);
    j = qapi_list_pci_info_to_json(list);
    s = json_to_string(j);
    g_test_message("%s", s);
    /* the MCH, then the port (no secondary bus number yet: no devices) */
    g_assert_nonnull(
        strstr(s, "{\"bus\":0,\"devices\":[{\"bus\":0,\"slot\":0,"
                  "\"function\":0,\"class_info\":{\"desc\":\"Host bridge\","
                  "\"class\":1536},\"id\":{\"device\":10688,\"vendor\":32902,"
                  "\"subsystem\":4352,\"subsystem-vendor\":6900},\"irq_pin\":0,"
                  "\"qdev_id\":\"\",\"regions\":[]}"));
    g_assert_nonnull(strstr(s, "\"qdev_id\":\"rp1\",\"pci_bridge\":{\"bus\":"
                               "{\"number\":0,\"secondary\":0,"
                               "\"subordinate\":0,\"io_range\":{\"base\":"
                               "61440,\"limit\":4095}"));
    g_assert_null(strstr(s, "\"disk\""));
    g_assert_nonnull(strstr(s, "{\"bar\":2,\"type\":\"io\",\"address\":"
                               "49152,\"size\":32}"));
    g_assert_nonnull(strstr(s, "{\"bar\":0,\"type\":\"memory\","
                               "\"address\":-1,\"size\":16384,"
                               "\"prefetch\":true,\"mem_type_64\":true}"));
    g_assert_nonnull(strstr(s, "\"irq\":11,\"irq_pin\":1"));
    json_free(j);
    qapi_list_pci_info_free(list);
    g_clear_pointer(&s, g_free);

    /* numbered: the device behind the port appears under it */
    cfg_wr(&x, 0, PCI_DEVFN(2, 0), PCI_PRIMARY_BUS, 0x010100, 4);
    list = qmp_query_pci(x.m, NULL);
    j = qapi_list_pci_info_to_json(list);
    s = json_to_string(j);
    g_assert_nonnull(strstr(s, "\"devices\":[{\"bus\":1,\"slot\":0,"
                               "\"function\":0"));
    g_assert_nonnull(strstr(s, "\"qdev_id\":\"disk\""));
    json_free(j);
    qapi_list_pci_info_free(list);
    fx_clear(&x);

    /* no PCI host: an empty list */
    x.m = th_machine_new();
    list = qmp_query_pci(x.m, NULL);
    g_assert_cmpuint(list->len, ==, 0);
    qapi_list_pci_info_free(list);
    th_machine_free(x.m);
}

static void test_parse_devfn(void)
{
    uint8_t d;

    g_assert_true(pci_parse_devfn("0x1f.0x7", &d, NULL));
    g_assert_cmphex(d, ==, 0xff);
    g_assert_true(pci_parse_devfn("10", &d, NULL)); /* hex, as QEMU */
    g_assert_cmphex(d, ==, 0x80);
    g_assert_true(pci_parse_devfn("2.1", &d, NULL));
    g_assert_cmphex(d, ==, 0x11);
    g_assert_false(pci_parse_devfn("", &d, NULL));
    g_assert_false(pci_parse_devfn("-1", &d, NULL));
    g_assert_false(pci_parse_devfn("1.2.3", &d, NULL));
    g_assert_false(pci_parse_devfn("ffffffffffffffffffff", &d, NULL));
    g_assert_false(pci_parse_devfn(" 1", &d, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci/mechanisms", test_mechanisms);
    g_test_add_func("/pci/masks", test_masks);
    g_test_add_func("/pci/bar-sizing", test_bar_sizing);
    g_test_add_func("/pci/bar-registration", test_bar_registration);
    g_test_add_func("/pci/bar-mapping", test_bar_mapping);
    g_test_add_func("/pci/bar-hook", test_bar_hook);
    g_test_add_func("/pci/capabilities", test_capabilities);
    g_test_add_func("/pci/msix", test_msix);
    g_test_add_func("/pci/msi", test_msi);
    g_test_add_func("/pci/msix-irqfd", test_msix_irqfd);
    g_test_add_func("/pci/intx", test_intx);
    g_test_add_func("/pci/root-port", test_root_port);
    g_test_add_func("/pci/placement", test_placement);
    g_test_add_func("/pci/reset-register", test_reset_register);
    g_test_add_func("/pci/ich9-pm", test_ich9_pm);
    g_test_add_func("/pci/parse-devfn", test_parse_devfn);
    g_test_add_func("/pci/query-pci", test_query_pci);
    return g_test_run();
}
