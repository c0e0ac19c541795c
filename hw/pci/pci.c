/* SPDX-License-Identifier: MIT */
/*
 * pci.c: the PCI core (see pci.h): configuration space with write and
 * write-1-to-clear masks, BAR sizing/programming and the mapping of BAR
 * regions through bridge windows (PCI-to-PCI Bridge 1.2 ch. 4), capability
 * lists, INTx, MSI (PCI 3.0 6.8.1) and MSI-X (6.8.2) with the table and
 * PBA in a BAR.  Every offset, size and address from the guest is checked
 * here: config offsets against 4 KiB, BAR addresses against overflow and
 * the 32-bit / 16-bit I/O limits, MSI-X accesses against the table.
 */
#include "util/common.h"
#include "hw/core/loader.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci-host.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/memory.h"

#include <poll.h>
#include <unistd.h>

static uint16_t cfg16(const struct pci_device *pd, unsigned off)
{
    return ld_le16(pd->config + off);
}

static uint32_t cfg32(const struct pci_device *pd, unsigned off)
{
    return ld_le32(pd->config + off);
}

static void set16(uint8_t *p, unsigned off, uint16_t v)
{
    st_le16(p + off, v);
}

static void set32(uint8_t *p, unsigned off, uint32_t v)
{
    st_le32(p + off, v);
}

static bool ranges_overlap(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

static bool is_bridge(const struct pci_device *pd)
{
    return (pd->config[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE;
}

static unsigned nr_bars(const struct pci_device *pd)
{
    return is_bridge(pd) ? 2 : PCI_NUM_BARS;
}

static struct machine *pd_machine(const struct pci_device *pd)
{
    return pd->dev.m;
}

/* ---- addr= parsing ---------------------------------------------------- */

static bool parse_hex(const char *s, const char **end, unsigned long *v)
{
    char *e;

    if (!g_ascii_isxdigit(*s)) {
        return false;
    }
    errno = 0;
    *v = strtoul(s, &e, 16);
    if (errno || e == s) {
        return false;
    }
    *end = e;
    return true;
}

bool pci_parse_devfn(const char *s, uint8_t *devfn, Error **errp)
{
    unsigned long slot, fn = 0;
    const char *e;

    if (!parse_hex(s, &e, &slot)) {
        goto bad;
    }
    if (*e == '.') {
        if (!parse_hex(e + 1, &e, &fn)) {
            goto bad;
        }
    }
    if (*e) {
        goto bad;
    }
    if (slot > 31 || fn > 7) {
        error_setg(errp,
                   "addr '%s': slot must be 0..0x1f and function 0..7 "
                   "(SLOT[.FN], hexadecimal)",
                   s);
        return false;
    }
    *devfn = PCI_DEVFN(slot, fn);
    return true;
bad:
    error_setg(errp, "addr '%s' is not SLOT[.FN] (hexadecimal, e.g. 0x3.0x1)",
               s);
    return false;
}

/* ---- buses ------------------------------------------------------------- */

struct pci_bus *pci_bus_new(struct pci_host *host, struct pci_device *bridge,
                            const char *name)
{
    struct pci_bus *b = g_new0(struct pci_bus, 1);

    b->name = g_strdup(name);
    b->host = host;
    b->bridge = bridge;
    return b;
}

void pci_bus_free(struct pci_bus *bus)
{
    if (bus) {
        g_free(bus->name);
        g_free(bus);
    }
}

void pci_bridge_init(struct pci_device *pd, const char *bus_name)
{
    struct pci_host *h = pd->bus->host;

    pd->secondary = pci_bus_new(h, pd, bus_name);
    pd->secondary->slot0_only = true; /* PCIe downstream port */
    g_ptr_array_add(h->buses, pd->secondary);
}

static unsigned sec_bus(const struct pci_device *br)
{
    return br->config[PCI_SECONDARY_BUS];
}

static unsigned sub_bus(const struct pci_device *br)
{
    return br->config[PCI_SUBORDINATE_BUS];
}

/* Type 0 on the root bus; type 1 forwarded down the bridge whose bus
 * range holds bus_nr (PCI-to-PCI Bridge 1.2, 3.1.2.1). */
struct pci_device *pci_find_device(struct pci_bus *root, unsigned bus_nr,
                                   unsigned devfn)
{
    struct pci_bus *bus = root;
    unsigned depth = 0;

    if (bus_nr > 255 || devfn > 255) {
        return NULL;
    }
    while (bus_nr != 0) {
        struct pci_bus *next = NULL;

        for (unsigned i = 0; i < 256 && !next; i++) {
            struct pci_device *d = bus->devs[i];
            if (d && d->secondary && sec_bus(d) != 0 && sec_bus(d) <= bus_nr &&
                bus_nr <= sub_bus(d)) {
                next = d->secondary;
                if (sec_bus(d) == bus_nr) {
                    return next->devs[devfn];
                }
            }
        }
        /* a guest can make the ranges loop; the depth bounds the walk */
        if (!next || ++depth > 255) {
            return NULL;
        }
        bus = next;
    }
    return bus->devs[devfn];
}

/* ---- BAR mapping --------------------------------------------------------- */

static bool bar_is_io(const struct pci_bar *b)
{
    return b->type == PCI_BAR_IO;
}

static bool bar_is_64(const struct pci_bar *b)
{
    return b->type == PCI_BAR_MEM64 || b->type == PCI_BAR_MEM64_PREF;
}

static unsigned bar_off(const struct pci_device *pd, unsigned idx)
{
    (void)pd;
    return PCI_BASE_ADDRESS_0 + 4 * idx;
}

uint64_t pci_bar_address(const struct pci_device *pd, unsigned idx)
{
    const struct pci_bar *b;
    uint32_t lo;

    if (idx >= PCI_NUM_BARS) {
        return 0;
    }
    b = &pd->bars[idx];
    lo = cfg32(pd, bar_off(pd, idx));
    if (bar_is_io(b)) {
        return lo & ~3u;
    }
    if (bar_is_64(b)) {
        return (uint64_t)(lo & ~0xfu) |
               (uint64_t)cfg32(pd, bar_off(pd, idx + 1)) << 32;
    }
    return lo & ~0xfu;
}

/* [base, limit] a bridge forwards: io, memory, prefetchable memory. */
static bool bridge_io_window(const struct pci_device *br, uint64_t *base,
                             uint64_t *limit)
{
    *base = (uint64_t)(br->config[PCI_IO_BASE] & 0xf0) << 8;
    *limit = ((uint64_t)(br->config[PCI_IO_LIMIT] & 0xf0) << 8) | 0xfff;
    return *base <= *limit;
}

static bool bridge_mem_window(const struct pci_device *br, uint64_t *base,
                              uint64_t *limit)
{
    *base = (uint64_t)(cfg16(br, PCI_MEMORY_BASE) & 0xfff0) << 16;
    *limit = ((uint64_t)(cfg16(br, PCI_MEMORY_LIMIT) & 0xfff0) << 16) | 0xfffff;
    return *base <= *limit;
}

static bool bridge_pref_window(const struct pci_device *br, uint64_t *base,
                               uint64_t *limit)
{
    *base = (uint64_t)(cfg16(br, PCI_PREF_MEMORY_BASE) & 0xfff0) << 16 |
            (uint64_t)cfg32(br, PCI_PREF_BASE_UPPER32) << 32;
    *limit = ((uint64_t)(cfg16(br, PCI_PREF_MEMORY_LIMIT) & 0xfff0) << 16 |
              (uint64_t)cfg32(br, PCI_PREF_LIMIT_UPPER32) << 32) |
             0xfffff;
    return *base <= *limit;
}

bool pci_bridge_window(const struct pci_device *br, enum pci_window w,
                       uint64_t *base, uint64_t *limit)
{
    switch (w) {
    case PCI_WINDOW_IO:
        return bridge_io_window(br, base, limit);
    case PCI_WINDOW_MEM:
        return bridge_mem_window(br, base, limit);
    default:
        return bridge_pref_window(br, base, limit);
    }
}

static bool in_window(uint64_t addr, uint64_t last, uint64_t base,
                      uint64_t limit)
{
    return addr >= base && last <= limit;
}

/* Does every bridge above pd forward [addr, last] of this kind? */
static bool forwarded(const struct pci_device *pd, bool io, uint64_t addr,
                      uint64_t last)
{
    for (const struct pci_bus *bus = pd->bus; bus && bus->bridge;
         bus = bus->bridge->bus) {
        const struct pci_device *br = bus->bridge;
        uint16_t cmd = cfg16(br, PCI_COMMAND);
        uint64_t b, l;

        if (io) {
            if (!(cmd & PCI_COMMAND_IO) || !bridge_io_window(br, &b, &l) ||
                !in_window(addr, last, b, l)) {
                return false;
            }
            continue;
        }
        if (!(cmd & PCI_COMMAND_MEMORY)) {
            return false;
        }
        if (!((bridge_mem_window(br, &b, &l) && in_window(addr, last, b, l)) ||
              (bridge_pref_window(br, &b, &l) &&
               in_window(addr, last, b, l)))) {
            return false;
        }
    }
    return true;
}

/* Where BAR idx should be mapped now, or false (QEMU's rules: disabled
 * decoding, address 0, a range that wraps, a 32-bit BAR reaching 4 GiB --
 * the sizing pattern -- or I/O beyond 64 KiB are all "unmapped"). */
static bool bar_target(const struct pci_device *pd, unsigned idx,
                       uint64_t *addr)
{
    const struct pci_bar *b = &pd->bars[idx];
    uint16_t cmd = cfg16(pd, PCI_COMMAND);
    uint64_t a = pci_bar_address(pd, idx), last;

    if (!b->size || !b->ops) {
        return false;
    }
    if (!(cmd & (bar_is_io(b) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY))) {
        return false;
    }
    last = a + b->size - 1;
    if (a == 0 || last < a) {
        return false;
    }
    if (bar_is_io(b)
            ? last >= 0x10000
            : (!bar_is_64(b) && last >= UINT32_MAX) || last >= (1ULL << 52)) {
        return false;
    }
    if (!forwarded(pd, bar_is_io(b), a, last)) {
        return false;
    }
    *addr = a;
    return true;
}

static void bar_unmap(struct pci_device *pd, struct pci_bar *b)
{
    struct machine *m = pd_machine(pd);

    if (b->is_mapped) {
        device_unmap(&pd->dev, bar_is_io(b) ? m->pio : m->mmio, b->mapped);
        b->is_mapped = false;
        if (pd->ops && pd->ops->bar_mapped) {
            pd->ops->bar_mapped(pd, (unsigned)(b - pd->bars), b->mapped, false);
        }
    }
}

static void update_bar(struct pci_device *pd, unsigned idx)
{
    struct pci_bar *b = &pd->bars[idx];
    struct machine *m = pd_machine(pd);
    uint64_t addr;
    bool want = bar_target(pd, idx, &addr);
    Error *err = NULL;
    char name[64];

    if (b->is_mapped && want && b->mapped == addr) {
        return;
    }
    bar_unmap(pd, b);
    if (!want) {
        return;
    }
    snprintf(name, sizeof(name), "%s BAR%u", pd->dev.cls->name, idx);
    if (!device_map(&pd->dev, bar_is_io(b) ? m->pio : m->mmio, addr, b->size,
                    b->ops, name, &err)) {
        /* two BARs the guest placed on top of each other: the later one
         * stays unmapped until it moves */
        vlog_guest_error(&m->log, "pci %02x.%x: BAR%u at 0x%" PRIx64 ": %s",
                         PCI_SLOT(pd->devfn), PCI_FUNC(pd->devfn), idx, addr,
                         error_get_pretty(err));
        error_free(err);
        return;
    }
    b->mapped = addr;
    b->is_mapped = true;
    if (pd->ops && pd->ops->bar_mapped) {
        pd->ops->bar_mapped(pd, idx, addr, true);
    }
}

static void update_bus_mappings(struct pci_bus *bus, unsigned depth)
{
    for (unsigned i = 0; i < 256; i++) {
        struct pci_device *d = bus->devs[i];
        if (!d) {
            continue;
        }
        /* another function's lock: the bus is only changed under the
         * big machine lock-step of config cycles (host lock held) */
        if (d != bus->bridge) {
            g_mutex_lock(&d->dev.lock);
        }
        for (unsigned j = 0; j < nr_bars(d); j++) {
            update_bar(d, j);
        }
        if (d->secondary && depth < 8) {
            update_bus_mappings(d->secondary, depth + 1);
        }
        if (d != bus->bridge) {
            g_mutex_unlock(&d->dev.lock);
        }
    }
}

void pci_update_mappings(struct pci_device *pd)
{
    for (unsigned j = 0; j < nr_bars(pd); j++) {
        update_bar(pd, j);
    }
    if (pd->secondary) {
        update_bus_mappings(pd->secondary, 0);
    }
}

bool pci_register_bar(struct pci_device *pd, unsigned idx,
                      enum pci_bar_type type, uint64_t size,
                      const struct io_ops *ops, Error **errp)
{
    bool is64 = type == PCI_BAR_MEM64 || type == PCI_BAR_MEM64_PREF;
    unsigned off;
    uint64_t mask;
    uint32_t low = 0;

    if (idx >= nr_bars(pd) || (is64 && idx + 1 >= nr_bars(pd))) {
        error_setg(errp, "%s: BAR%u does not exist", pd->dev.cls->name, idx);
        return false;
    }
    if (pd->bars[idx].type != PCI_BAR_NONE ||
        (is64 && pd->bars[idx + 1].type != PCI_BAR_NONE)) {
        error_setg(errp, "%s: BAR%u is registered already", pd->dev.cls->name,
                   idx);
        return false;
    }
    if (size & (size - 1) || size < (type == PCI_BAR_IO ? 4 : 16) ||
        (type == PCI_BAR_IO && size > 256) || (!is64 && size > 2 * GiB) ||
        size > (1ULL << 40)) {
        error_setg(errp, "%s: BAR%u size 0x%" PRIx64 " is invalid",
                   pd->dev.cls->name, idx, size);
        return false;
    }
    pd->bars[idx] = (struct pci_bar){.type = type, .size = size, .ops = ops};
    off = bar_off(pd, idx);
    mask = ~(size - 1);
    switch (type) {
    case PCI_BAR_IO:
        low = PCI_BASE_ADDRESS_SPACE_IO;
        set32(pd->wmask, off, (uint32_t)mask & ~3u);
        break;
    case PCI_BAR_MEM32_PREF:
        low = PCI_BASE_ADDRESS_MEM_PREFETCH;
        /* fall through */
    case PCI_BAR_MEM32:
        set32(pd->wmask, off, (uint32_t)mask & ~0xfu);
        break;
    case PCI_BAR_MEM64_PREF:
        low = PCI_BASE_ADDRESS_MEM_PREFETCH;
        /* fall through */
    case PCI_BAR_MEM64:
        low |= PCI_BASE_ADDRESS_MEM_TYPE_64;
        set32(pd->wmask, off, (uint32_t)mask & ~0xfu);
        set32(pd->wmask, off + 4, (uint32_t)(mask >> 32));
        /* the upper half belongs to this BAR */
        pd->bars[idx + 1] = (struct pci_bar){.type = PCI_BAR_UPPER_HALF};
        break;
    default:
        error_setg(errp, "%s: BAR%u type %d is invalid", pd->dev.cls->name, idx,
                   type);
        return false;
    }
    set32(pd->config, off, low);
    return true;
}

/* ---- capabilities ------------------------------------------------------- */

uint8_t pci_add_capability(struct pci_device *pd, uint8_t id, uint8_t len,
                           Error **errp)
{
    unsigned off = ALIGN_UP((unsigned)pd->cap_next, 4u);
    uint8_t prev;

    if (len < 2 || off + len > PCI_CONFIG_LEGACY_SIZE) {
        error_setg(errp,
                   "%s: no room for a %u-byte capability 0x%02x in "
                   "config space",
                   pd->dev.cls->name, len, id);
        return 0;
    }
    /* append to the end of the chain so the list keeps its order */
    prev = pd->config[PCI_CAPABILITY_LIST];
    if (!prev) {
        pd->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
    } else {
        while (pd->config[prev + 1]) {
            prev = pd->config[prev + 1];
        }
        pd->config[prev + 1] = (uint8_t)off;
    }
    pd->config[off] = id;
    pd->config[off + 1] = 0;
    set16(pd->config, PCI_STATUS, cfg16(pd, PCI_STATUS) | PCI_STATUS_CAP_LIST);
    pd->cap_next = (uint8_t)(off + len);
    return (uint8_t)off;
}

uint8_t pci_find_capability(const struct pci_device *pd, uint8_t id)
{
    uint8_t off = pd->config[PCI_CAPABILITY_LIST];

    /* 48 steps: more than fit in 192 bytes of 4-byte capabilities */
    for (unsigned n = 0; off >= 0x40 && n < 48; n++) {
        if (pd->config[off] == id) {
            return off;
        }
        off = pd->config[off + 1] & 0xfc;
    }
    return 0;
}

uint8_t pci_express_init(struct pci_device *pd, uint8_t type, int slot_nr,
                         Error **errp)
{
    uint8_t c = pci_add_capability(pd, PCI_CAP_ID_EXP, PCI_EXP_CAP_SIZE, errp);
    uint8_t *p;

    if (!c) {
        return 0;
    }
    p = pd->config + c;
    set16(p, PCI_EXP_FLAGS,
          (uint16_t)(2 | type << 4 | (slot_nr >= 0 ? PCI_EXP_FLAGS_SLOT : 0)));
    /* 128-byte max payload, role-based error reporting */
    set32(p, PCI_EXP_DEVCAP, 1u << 15);
    set16(pd->wmask + c, PCI_EXP_DEVCTL, 0x7fff);
    set16(pd->w1cmask + c, PCI_EXP_DEVSTA, 0x000f);
    if (type != PCI_EXP_TYPE_RC_END) {
        /* one lane at 2.5 GT/s, as QEMU's virtual links report; port
         * number in 31:24 */
        set32(p, PCI_EXP_LNKCAP,
              (uint32_t)(slot_nr > 0 ? slot_nr : 0) << 24 | 1u << 4 | 1);
        set16(pd->wmask + c, PCI_EXP_LNKCTL, 0x01c3);
        set16(p, PCI_EXP_LNKSTA, 1u << 4 | 1);
        set32(p, PCI_EXP_LNKCAP2, 1u << 1);
        set16(pd->wmask + c, PCI_EXP_LNKCTL2, 0x000f);
        set16(p, PCI_EXP_LNKCTL2, 1);
    }
    set16(pd->wmask + c, PCI_EXP_DEVCTL2, 0x001f);
    if (slot_nr >= 0) {
        /* physical slot number in 31:19; no hot-plug capabilities */
        set32(p, PCI_EXP_SLTCAP, (uint32_t)slot_nr << 19);
        set16(pd->wmask + c, PCI_EXP_SLTCTL, 0x1fff);
        set16(pd->w1cmask + c, PCI_EXP_SLTSTA, 0x011f);
    }
    if (type == PCI_EXP_TYPE_ROOT_PORT) {
        set16(pd->wmask + c, PCI_EXP_RTCTL, 0x001f);
        set32(pd->w1cmask + c, PCI_EXP_RTSTA, 1u << 16);
    }
    return c;
}

/* ---- INTx -------------------------------------------------------------- */

static void intx_update(struct pci_device *pd)
{
    struct pci_host *h = pd->bus ? pd->bus->host : NULL;
    bool on = pd->intx_level &&
              !(cfg16(pd, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) &&
              pd->intx_gsi >= 0;

    if (on == pd->intx_delivered || !h) {
        return;
    }
    pd->intx_delivered = on;
    pci_host_intx_set(h, (unsigned)pd->intx_gsi, on);
}

void pci_set_irq(struct pci_device *pd, bool level)
{
    uint16_t st = cfg16(pd, PCI_STATUS);

    if (!pd->config[PCI_INTERRUPT_PIN]) {
        return;
    }
    set16(pd->config, PCI_STATUS,
          level ? st | PCI_STATUS_INTERRUPT : st & ~PCI_STATUS_INTERRUPT);
    pd->intx_level = level;
    intx_update(pd);
}

/* ---- MSI --------------------------------------------------------------- */

static bool bus_master(const struct pci_device *pd)
{
    return cfg16(pd, PCI_COMMAND) & PCI_COMMAND_MASTER;
}

bool pci_msi_init(struct pci_device *pd, unsigned nvec, Error **errp)
{
    unsigned log2 = 0;
    uint8_t c;

    if (nvec == 0 || nvec > 32 || (nvec & (nvec - 1))) {
        error_setg(errp, "%s: MSI with %u vectors (1, 2, 4, 8, 16 or 32)",
                   pd->dev.cls->name, nvec);
        return false;
    }
    while ((1u << log2) < nvec) {
        log2++;
    }
    c = pci_add_capability(pd, PCI_CAP_ID_MSI, PCI_MSI_CAP_SIZE, errp);
    if (!c) {
        return false;
    }
    pd->msi_cap = c;
    pd->msi_nvec = (uint8_t)nvec;
    set16(pd->config + c, PCI_MSI_FLAGS,
          (uint16_t)(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | log2 << 1));
    /* enable and multiple message enable (6:4) */
    set16(pd->wmask + c, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 0x70);
    set32(pd->wmask + c, PCI_MSI_ADDRESS_LO, 0xfffffffc);
    set32(pd->wmask + c, PCI_MSI_ADDRESS_HI, 0xffffffff);
    set16(pd->wmask + c, PCI_MSI_DATA_64, 0xffff);
    set32(pd->wmask + c, PCI_MSI_MASK_64,
          nvec == 32 ? 0xffffffffu : (1u << nvec) - 1);
    return true;
}

bool pci_msi_enabled(const struct pci_device *pd)
{
    return pd->msi_cap &&
           (cfg16(pd, pd->msi_cap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE);
}

/* Vectors the guest enabled (Multiple Message Enable). */
static unsigned msi_enabled_vectors(const struct pci_device *pd)
{
    unsigned mme = (cfg16(pd, pd->msi_cap + PCI_MSI_FLAGS) >> 4) & 7;

    return MIN(1u << MIN(mme, 5u), (unsigned)pd->msi_nvec);
}

static bool msi_send_vector(struct pci_device *pd, unsigned v)
{
    unsigned c = pd->msi_cap;
    uint16_t data = cfg16(pd, c + PCI_MSI_DATA_64);
    unsigned n = msi_enabled_vectors(pd);
    struct msi_msg msg = {
        .addr = cfg32(pd, c + PCI_MSI_ADDRESS_LO) |
                (uint64_t)cfg32(pd, c + PCI_MSI_ADDRESS_HI) << 32,
        /* the low log2(n) bits of the data carry the vector */
        .data = (uint32_t)((data & ~(n - 1)) | v),
    };

    if (!bus_master(pd)) {
        return false; /* a memory write the function may not issue */
    }
    return msi_send(&pd_machine(pd)->msi, msg);
}

/* Delivers pending vectors the guest has unmasked. */
static void msi_check_pending(struct pci_device *pd)
{
    unsigned c = pd->msi_cap;
    uint32_t pend = cfg32(pd, c + PCI_MSI_PENDING_64);
    uint32_t mask = cfg32(pd, c + PCI_MSI_MASK_64);
    uint32_t fire = pend & ~mask;

    if (!pci_msi_enabled(pd) || !fire) {
        return;
    }
    set32(pd->config, c + PCI_MSI_PENDING_64, pend & mask);
    for (unsigned v = 0; v < 32; v++) {
        if (fire & (1u << v)) {
            msi_send_vector(pd, v);
        }
    }
}

/* ---- MSI-X ------------------------------------------------------------- */

bool pci_msix_enabled(const struct pci_device *pd)
{
    return pd->msix_cap &&
           (cfg16(pd, pd->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE);
}

static bool msix_func_masked(const struct pci_device *pd)
{
    return cfg16(pd, pd->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_MASKALL;
}

static bool msix_vector_masked(const struct pci_device *pd, unsigned v)
{
    return msix_func_masked(pd) ||
           (ld_le32(pd->msix_table + v * PCI_MSIX_ENTRY_SIZE + 12) &
            PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

bool pci_msix_message(const struct pci_device *pd, unsigned vector,
                      struct msi_msg *msg)
{
    const uint8_t *e;

    if (!pd->msix_cap || vector >= pd->msix_nvec) {
        return false;
    }
    e = pd->msix_table + vector * PCI_MSIX_ENTRY_SIZE;
    msg->addr = ld_le64(e);
    msg->data = ld_le32(e + 8);
    return true;
}

static void pba_set(struct pci_device *pd, unsigned v, bool on)
{
    if (on) {
        pd->msix_pba[v / 8] |= (uint8_t)(1u << (v % 8));
    } else {
        pd->msix_pba[v / 8] &= (uint8_t) ~(1u << (v % 8));
    }
}

static bool pba_get(const struct pci_device *pd, unsigned v)
{
    return pd->msix_pba[v / 8] & (1u << (v % 8));
}

static bool msix_send_vector(struct pci_device *pd, unsigned v)
{
    struct msi_msg msg;

    pci_msix_message(pd, v, &msg);
    if (!bus_master(pd)) {
        return false;
    }
    return msi_send(&pd_machine(pd)->msi, msg);
}

/* The irqfd fast path follows the vector's message and mask: bound while
 * the vector can fire, unbound while masked (KVM re-checks the eventfd
 * when it is bound again, so nothing signalled meanwhile is lost). */
static void msix_irqfd_sync(struct pci_device *pd, unsigned v)
{
    struct pci_msix_vector *mv = &pd->msix_vec[v];
    const struct msi_sender *s = &pd_machine(pd)->msi;
    bool live = mv->irqfd >= 0 && pci_msix_enabled(pd) &&
                !msix_vector_masked(pd, v) && bus_master(pd);
    struct msi_msg msg;
    Error *err = NULL;

    if (mv->irqfd < 0) {
        return;
    }
    pci_msix_message(pd, v, &msg);
    if (mv->route >= 0 && !msi_route_update(s, mv->route, msg, &err)) {
        goto fail;
    }
    if (live == mv->irqfd_live) {
        return;
    }
    if (!live) {
        msi_irqfd_unbind(s, mv->route, mv->irqfd);
        mv->irqfd_live = false;
        return;
    }
    if (mv->route < 0) {
        mv->route = msi_route_add(s, msg, &err);
        if (mv->route < 0) {
            goto fail;
        }
    }
    if (!msi_irqfd_bind(s, mv->route, mv->irqfd, &err)) {
        goto fail;
    }
    mv->irqfd_live = true;
    return;
fail:
    vlog_guest_error(&pd_machine(pd)->log, "pci %s: MSI-X vector %u: %s",
                     pd->dev.cls->name, v, error_get_pretty(err));
    error_free(err);
}

/* A masked vector's pending state lives in its eventfd when one is
 * attached: readable means signalled and not yet delivered. */
static bool msix_fd_pending(const struct pci_device *pd, unsigned v)
{
    const struct pci_msix_vector *mv = &pd->msix_vec[v];
    struct pollfd p = {.fd = mv->irqfd, .events = POLLIN};

    return mv->irqfd >= 0 && !mv->irqfd_live && poll(&p, 1, 0) == 1 &&
           (p.revents & POLLIN);
}

static void msix_vector_changed(struct pci_device *pd, unsigned v)
{
    msix_irqfd_sync(pd, v);
    if (pci_msix_enabled(pd) && !msix_vector_masked(pd, v) && pba_get(pd, v)) {
        pba_set(pd, v, false);
        msix_send_vector(pd, v);
    }
    if (pd->ops && pd->ops->msix_vector_changed) {
        pd->ops->msix_vector_changed(pd, v);
    }
}

static void msix_all_changed(struct pci_device *pd)
{
    for (unsigned v = 0; v < pd->msix_nvec; v++) {
        msix_vector_changed(pd, v);
    }
}

static uint64_t msix_table_bytes(const struct pci_device *pd)
{
    return (uint64_t)pd->msix_nvec * PCI_MSIX_ENTRY_SIZE;
}

static uint64_t msix_bar_read(void *opaque, uint64_t off, unsigned size)
{
    struct pci_device *pd = opaque;
    uint64_t v = 0;

    if (off + size <= msix_table_bytes(pd)) {
        for (unsigned i = 0; i < size; i++) {
            v |= (uint64_t)pd->msix_table[off + i] << (8 * i);
        }
        return v;
    }
    if (off >= pd->msix_pba_off) {
        uint64_t p = off - pd->msix_pba_off;
        unsigned bytes = (pd->msix_nvec + 7) / 8;
        for (unsigned i = 0; i < size; i++) {
            if (p + i < bytes) {
                uint8_t b = pd->msix_pba[p + i];
                for (unsigned k = 0; k < 8; k++) {
                    unsigned vec = (unsigned)(p + i) * 8 + k;
                    if (vec < pd->msix_nvec && msix_fd_pending(pd, vec)) {
                        b |= (uint8_t)(1u << k);
                    }
                }
                v |= (uint64_t)b << (8 * i);
            }
        }
    }
    return v;
}

static void msix_bar_write(void *opaque, uint64_t off, uint64_t val,
                           unsigned size)
{
    struct pci_device *pd = opaque;
    unsigned first, last;

    /* the PBA is read-only; writes past the table are dropped */
    if (off + size > msix_table_bytes(pd)) {
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        pd->msix_table[off + i] = (uint8_t)(val >> (8 * i));
    }
    first = (unsigned)(off / PCI_MSIX_ENTRY_SIZE);
    last = (unsigned)((off + size - 1) / PCI_MSIX_ENTRY_SIZE);
    for (unsigned v = first; v <= last; v++) {
        msix_vector_changed(pd, v);
    }
}

/* PCI 3.0 6.8.2: table entries are DWORD or QWORD accesses. */
static const struct io_ops msix_bar_ops = {
    .read = msix_bar_read,
    .write = msix_bar_write,
    .min_size = 4,
    .max_size = 8,
};

bool pci_msix_init(struct pci_device *pd, unsigned nvec, unsigned bar,
                   Error **errp)
{
    uint64_t table, pba, size = 4096;
    uint8_t c;

    if (nvec == 0 || nvec > PCI_MSIX_MAX_VECTORS) {
        error_setg(errp, "%s: MSI-X with %u vectors (1..%u)", pd->dev.cls->name,
                   nvec, PCI_MSIX_MAX_VECTORS);
        return false;
    }
    table = (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE;
    /* QEMU's exclusive MSI-X BAR: the PBA in the upper half of 4 KiB, or
     * right after a table that does not fit in the lower half */
    pba = MAX(table, 2048ULL);
    while (size < pba + ALIGN_UP((nvec + 7) / 8, 8u)) {
        size <<= 1;
    }
    if (!pci_register_bar(pd, bar, PCI_BAR_MEM32, size, &msix_bar_ops, errp)) {
        return false;
    }
    c = pci_add_capability(pd, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_SIZE, errp);
    if (!c) {
        return false;
    }
    pd->msix_cap = c;
    pd->msix_bar = (uint8_t)bar;
    pd->msix_nvec = (uint16_t)nvec;
    pd->msix_pba_off = (uint32_t)pba;
    pd->msix_table = g_malloc0(table);
    pd->msix_pba = g_malloc0(ALIGN_UP((nvec + 7) / 8, 8u));
    pd->msix_table_len = (unsigned)table;
    pd->msix_pba_len = ALIGN_UP((nvec + 7) / 8, 8u);
    pd->msix_vec = g_new(struct pci_msix_vector, nvec);
    for (unsigned v = 0; v < nvec; v++) {
        pd->msix_vec[v] = (struct pci_msix_vector){-1, -1, false};
    }
    set16(pd->config + c, PCI_MSIX_FLAGS, (uint16_t)(nvec - 1));
    set16(pd->wmask + c, PCI_MSIX_FLAGS,
          PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    set32(pd->config + c, PCI_MSIX_TABLE, bar);
    set32(pd->config + c, PCI_MSIX_PBA, (uint32_t)pba | bar);
    return true;
}

static void msix_reset(struct pci_device *pd)
{
    for (unsigned v = 0; v < pd->msix_nvec; v++) {
        /* every vector starts masked (PCI 3.0 6.8.2.9) */
        memset(pd->msix_table + v * PCI_MSIX_ENTRY_SIZE, 0,
               PCI_MSIX_ENTRY_SIZE);
        st_le32(pd->msix_table + v * PCI_MSIX_ENTRY_SIZE + 12,
                PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
    if (pd->msix_pba) {
        memset(pd->msix_pba, 0, ALIGN_UP((pd->msix_nvec + 7u) / 8, 8u));
    }
}

bool pci_msix_set_irqfd(struct pci_device *pd, unsigned vector, int fd,
                        Error **errp)
{
    struct pci_msix_vector *mv;
    const struct msi_sender *s = &pd_machine(pd)->msi;

    if (!pd->msix_cap || vector >= pd->msix_nvec) {
        error_setg(errp, "%s: no MSI-X vector %u", pd->dev.cls->name, vector);
        return false;
    }
    mv = &pd->msix_vec[vector];
    if (mv->irqfd_live) {
        msi_irqfd_unbind(s, mv->route, mv->irqfd);
        mv->irqfd_live = false;
    }
    if (fd < 0 && mv->route >= 0) {
        msi_route_del(s, mv->route);
        mv->route = -1;
    }
    mv->irqfd = fd;
    msix_irqfd_sync(pd, vector);
    return fd < 0 || mv->irqfd_live || msix_vector_masked(pd, vector) ||
           !pci_msix_enabled(pd) || !bus_master(pd) ||
           (error_setg(errp, "%s: MSI-X vector %u: no irqfd route",
                       pd->dev.cls->name, vector),
            false);
}

bool pci_msi_notify(struct pci_device *pd, unsigned vector)
{
    if (pci_msix_enabled(pd)) {
        if (vector >= pd->msix_nvec) {
            return false;
        }
        if (msix_vector_masked(pd, vector)) {
            pba_set(pd, vector, true);
            return true;
        }
        return msix_send_vector(pd, vector);
    }
    if (pci_msi_enabled(pd)) {
        unsigned c = pd->msi_cap;
        if (vector >= msi_enabled_vectors(pd)) {
            return false;
        }
        if (cfg32(pd, c + PCI_MSI_MASK_64) & (1u << vector)) {
            set32(pd->config, c + PCI_MSI_PENDING_64,
                  cfg32(pd, c + PCI_MSI_PENDING_64) | 1u << vector);
            return true;
        }
        return msi_send_vector(pd, vector);
    }
    return false;
}

/* ---- config space ------------------------------------------------------ */

uint32_t pci_config_read(struct pci_device *pd, unsigned off, unsigned len)
{
    uint32_t v = 0;

    if ((len != 1 && len != 2 && len != 4) || off >= PCI_CONFIG_SIZE ||
        len > PCI_CONFIG_SIZE - off) {
        return 0xffffffffu;
    }
    if (pd->ops && pd->ops->config_read) {
        pd->ops->config_read(pd, off, len);
    }
    for (unsigned i = 0; i < len; i++) {
        v |= (uint32_t)pd->config[off + i] << (8 * i);
    }
    return v;
}

void pci_config_write(struct pci_device *pd, unsigned off, uint32_t val,
                      unsigned len)
{
    uint16_t old_cmd = cfg16(pd, PCI_COMMAND);
    bool msi_was = pci_msi_enabled(pd), msix_was = pci_msix_enabled(pd);
    bool maskall_was = pd->msix_cap && msix_func_masked(pd);

    if ((len != 1 && len != 2 && len != 4) || off >= PCI_CONFIG_SIZE ||
        len > PCI_CONFIG_SIZE - off) {
        return;
    }
    for (unsigned i = 0; i < len; i++) {
        unsigned a = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t nv =
            (uint8_t)((pd->config[a] & ~pd->wmask[a]) | (b & pd->wmask[a]));
        pd->config[a] = (uint8_t)(nv & ~(b & pd->w1cmask[a]));
    }

    if (ranges_overlap(off, len, PCI_COMMAND, 2)) {
        uint16_t cmd = cfg16(pd, PCI_COMMAND);
        if ((cmd ^ old_cmd) & PCI_COMMAND_INTX_DISABLE) {
            intx_update(pd);
        }
        if ((cmd ^ old_cmd) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)) {
            pci_update_mappings(pd);
        }
        if ((cmd ^ old_cmd) & PCI_COMMAND_MASTER && pd->msix_cap) {
            msix_all_changed(pd);
        }
    }
    if (ranges_overlap(off, len, PCI_BASE_ADDRESS_0, 4 * nr_bars(pd))) {
        pci_update_mappings(pd);
    }
    if (is_bridge(pd) &&
        (ranges_overlap(off, len, PCI_PRIMARY_BUS, 0x34 - 0x18) ||
         ranges_overlap(off, len, PCI_BRIDGE_CONTROL, 2))) {
        pci_update_mappings(pd);
    }
    if (pd->msi_cap &&
        ranges_overlap(off, len, pd->msi_cap, PCI_MSI_CAP_SIZE)) {
        if (!msi_was && pci_msi_enabled(pd)) {
            /* MSI replaces INTx */
            set32(pd->config, pd->msi_cap + PCI_MSI_PENDING_64, 0);
        }
        msi_check_pending(pd);
    }
    if (pd->msix_cap &&
        ranges_overlap(off, len, pd->msix_cap, PCI_MSIX_CAP_SIZE) &&
        (msix_was != pci_msix_enabled(pd) ||
         maskall_was != msix_func_masked(pd))) {
        msix_all_changed(pd);
    }
    if (pd->ops && pd->ops->config_write) {
        pd->ops->config_write(pd, off, len);
    }
}

/* ---- life cycle ------------------------------------------------------ */

static void header_init(struct pci_device *pd, const struct pci_id *id)
{
    uint8_t *c = pd->config;

    set16(c, PCI_VENDOR_ID, id->vendor);
    set16(c, PCI_DEVICE_ID, id->device);
    c[PCI_REVISION_ID] = id->revision;
    c[PCI_CLASS_PROG] = (uint8_t)id->class_code;
    set16(c, PCI_CLASS_DEVICE, (uint16_t)(id->class_code >> 8));
    c[PCI_HEADER_TYPE] =
        (uint8_t)((id->is_bridge ? PCI_HEADER_TYPE_BRIDGE : 0) |
                  (pd->multifunction ? PCI_HEADER_TYPE_MULTI : 0));
    c[PCI_INTERRUPT_PIN] = id->irq_pin;
    set16(pd->wmask, PCI_COMMAND,
          PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
              PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    set16(pd->w1cmask, PCI_STATUS, PCI_STATUS_W1C);
    pd->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    pd->wmask[PCI_LATENCY_TIMER] = 0xff;
    pd->wmask[PCI_INTERRUPT_LINE] = 0xff;
    if (id->is_bridge) {
        pd->wmask[PCI_PRIMARY_BUS] = 0xff;
        pd->wmask[PCI_SECONDARY_BUS] = 0xff;
        pd->wmask[PCI_SUBORDINATE_BUS] = 0xff;
        pd->wmask[PCI_SUBORDINATE_BUS + 1] = 0xff; /* secondary latency */
        pd->wmask[PCI_IO_BASE] = 0xf0;
        pd->wmask[PCI_IO_LIMIT] = 0xf0;
        set16(pd->w1cmask, PCI_SEC_STATUS, PCI_STATUS_W1C);
        set16(pd->wmask, PCI_MEMORY_BASE, 0xfff0);
        set16(pd->wmask, PCI_MEMORY_LIMIT, 0xfff0);
        set16(pd->wmask, PCI_PREF_MEMORY_BASE, 0xfff0);
        set16(pd->wmask, PCI_PREF_MEMORY_LIMIT, 0xfff0);
        set32(pd->wmask, PCI_PREF_BASE_UPPER32, 0xffffffff);
        set32(pd->wmask, PCI_PREF_LIMIT_UPPER32, 0xffffffff);
        /* parity, SERR, ISA, VGA, master abort, secondary reset */
        set16(pd->wmask, PCI_BRIDGE_CONTROL, 0x007f);
    } else {
        set16(c, PCI_SUBSYSTEM_VENDOR_ID, id->subsystem_vendor);
        set16(c, PCI_SUBSYSTEM_ID, id->subsystem);
    }
    pd->cap_next = 0x40;
}

/* Power-on values of the writable registers (the read-only ones and the
 * BAR type bits never change). */
static void header_reset(struct pci_device *pd)
{
    uint8_t *c = pd->config;

    set16(c, PCI_COMMAND, 0);
    set16(c, PCI_STATUS, cfg16(pd, PCI_STATUS) & PCI_STATUS_CAP_LIST);
    c[PCI_CACHE_LINE_SIZE] = 0;
    c[PCI_LATENCY_TIMER] = 0;
    c[PCI_INTERRUPT_LINE] = 0;
    for (unsigned i = 0; i < nr_bars(pd); i++) {
        unsigned off = bar_off(pd, i);
        set32(c, off, cfg32(pd, off) & ~ld_le32(pd->wmask + off));
    }
    if (is_bridge(pd)) {
        /* windows start closed: base above limit */
        memset(c + PCI_PRIMARY_BUS, 0, 4);
        c[PCI_IO_BASE] = 0xf0;
        c[PCI_IO_LIMIT] = 0;
        set16(c, PCI_SEC_STATUS, 0);
        set16(c, PCI_MEMORY_BASE, 0xfff0);
        set16(c, PCI_MEMORY_LIMIT, 0);
        set16(c, PCI_PREF_MEMORY_BASE, 0xfff1);
        set16(c, PCI_PREF_MEMORY_LIMIT, 0x0001);
        set32(c, PCI_PREF_BASE_UPPER32, 0);
        set32(c, PCI_PREF_LIMIT_UPPER32, 0);
        set16(c, PCI_BRIDGE_CONTROL, 0);
    }
    /* capabilities: every writable bit back to 0 */
    for (unsigned a = 0x40; a < PCI_CONFIG_SIZE; a++) {
        c[a] &= (uint8_t)~pd->wmask[a];
    }
    if (pd->msi_cap) {
        set32(c, pd->msi_cap + PCI_MSI_PENDING_64, 0);
    }
}

void pci_device_reset(struct pci_device *pd)
{
    pd->intx_level = false;
    intx_update(pd);
    for (unsigned v = 0; pd->msix_vec && v < pd->msix_nvec; v++) {
        /* the device re-attaches its eventfds when the guest sets it up
         * again; drop the kernel routes of the old setup now */
        pci_msix_set_irqfd(pd, v, -1, NULL);
    }
    header_reset(pd);
    msix_reset(pd);
    pci_update_mappings(pd);
}

/* A PCIe slot's Presence Detect State follows what is plugged below. */
static void slot_presence(struct pci_bus *bus, bool present)
{
    struct pci_device *br = bus->bridge;
    uint8_t c = br ? pci_find_capability(br, PCI_CAP_ID_EXP) : 0;
    uint16_t sta;

    if (!c || !(cfg16(br, c + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_SLOT)) {
        return;
    }
    for (unsigned i = 0; i < 256 && !present; i++) {
        present = bus->devs[i] != NULL;
    }
    sta = cfg16(br, c + PCI_EXP_SLTSTA);
    set16(br->config, c + PCI_EXP_SLTSTA,
          present ? sta | PCI_EXP_SLTSTA_PDS : sta & ~PCI_EXP_SLTSTA_PDS);
}

static bool pick_devfn(struct pci_device *pd, struct pci_bus *bus, Error **errp)
{
    uint8_t devfn;
    struct pci_device *f0;

    if (pd->addr_prop) {
        if (!pci_parse_devfn(pd->addr_prop, &devfn, errp)) {
            return false;
        }
    } else {
        unsigned slot;
        for (slot = 0; slot < 32; slot++) {
            if (!bus->devs[PCI_DEVFN(slot, 0)] &&
                (!bus->slot0_only || slot == 0)) {
                bool any = false;
                for (unsigned f = 0; f < 8; f++) {
                    any |= bus->devs[PCI_DEVFN(slot, f)] != NULL;
                }
                if (!any) {
                    break;
                }
            }
        }
        if (slot == 32 || (bus->slot0_only && slot != 0)) {
            error_setg(errp, "PCI: no free slot on bus '%s'", bus->name);
            return false;
        }
        devfn = PCI_DEVFN(slot, 0);
    }
    if (bus->slot0_only && PCI_SLOT(devfn) != 0) {
        error_setg(errp,
                   "PCI: slot %u is not valid for %s, parent device only "
                   "allows plugging into slot 0.",
                   PCI_SLOT(devfn), pd->dev.cls->name);
        return false;
    }
    if (bus->devs[devfn]) {
        struct pci_device *o = bus->devs[devfn];
        error_setg(errp,
                   "PCI: slot %u function %u not available for %s, in use "
                   "by %s%s%s",
                   PCI_SLOT(devfn), PCI_FUNC(devfn), pd->dev.cls->name,
                   o->dev.cls->name, o->dev.id ? ",id=" : "",
                   o->dev.id ? o->dev.id : "");
        return false;
    }
    /* QEMU's multifunction rules: function 0 says whether others may
     * exist */
    f0 = bus->devs[PCI_DEVFN(PCI_SLOT(devfn), 0)];
    if (PCI_FUNC(devfn) && f0 && !f0->multifunction) {
        error_setg(errp,
                   "PCI: single function device can't be populated in "
                   "function %x.%x",
                   PCI_SLOT(devfn), PCI_FUNC(devfn));
        return false;
    }
    if (!PCI_FUNC(devfn) && !pd->multifunction) {
        for (unsigned f = 1; f < 8; f++) {
            if (bus->devs[PCI_DEVFN(PCI_SLOT(devfn), f)]) {
                error_setg(errp,
                           "PCI: %x.0 indicates single function, but %x.%x "
                           "is already populated.",
                           PCI_SLOT(devfn), PCI_SLOT(devfn), f);
                return false;
            }
        }
    }
    pd->devfn = devfn;
    return true;
}

bool pci_device_realize(struct pci_device *pd, struct machine *m,
                        const struct pci_id *id, Error **errp)
{
    struct pci_host *h = pci_machine_host(m);
    struct pci_bus *bus;
    const char *bname = pd->bus_prop ? pd->bus_prop : PCI_ROOT_BUS_NAME;

    if (!h) {
        error_setg(errp, "%s: this machine has no PCI bus (use -M q35)",
                   pd->dev.cls->name);
        return false;
    }
    bus = pci_host_find_bus(h, bname);
    if (!bus) {
        error_setg(errp, "Bus '%s' not found", bname);
        return false;
    }
    if (id->irq_pin > 4) {
        error_setg(errp, "%s: interrupt pin %u is invalid", pd->dev.cls->name,
                   id->irq_pin);
        return false;
    }
    header_init(pd, id);
    if (!pick_devfn(pd, bus, errp)) {
        return false;
    }
    pd->bus = bus;
    bus->devs[pd->devfn] = pd;
    pd->realized_on_bus = true;
    slot_presence(bus, true);
    pd->intx_gsi = pci_host_intx_gsi(h, pd);
    header_reset(pd);
    return true;
}

void pci_device_unrealize(struct pci_device *pd)
{
    struct pci_host *h = pd->bus ? pd->bus->host : NULL;

    if (!pd->realized_on_bus) {
        return;
    }
    pd->intx_level = false;
    intx_update(pd);
    for (unsigned v = 0; pd->msix_vec && v < pd->msix_nvec; v++) {
        pci_msix_set_irqfd(pd, v, -1, NULL);
    }
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        bar_unmap(pd, &pd->bars[i]);
    }
    if (pd->secondary && h) {
        g_ptr_array_remove(h->buses, pd->secondary);
        pci_bus_free(pd->secondary);
        pd->secondary = NULL;
    }
    pd->bus->devs[pd->devfn] = NULL;
    pd->realized_on_bus = false;
    slot_presence(pd->bus, false);
    g_free(pd->msix_table);
    g_free(pd->msix_pba);
    g_free(pd->msix_vec);
    pd->msix_table = pd->msix_pba = NULL;
    pd->msix_table_len = pd->msix_pba_len = 0;
    pd->msix_vec = NULL;
}

/* The configuration space and the MSI-X table and pending bits are the
 * device's guest-visible state; BAR mappings and the KVM routes of the
 * MSI-X vectors follow from them. */
static bool pci_device_post_load(void *opaque, Error **errp)
{
    struct pci_device *pd = opaque;

    (void)errp;
    pci_update_mappings(pd);
    if (pd->msix_nvec) {
        msix_all_changed(pd);
    }
    return true;
}

/* One byte of a variable-length buffer (the MSI-X table and PBA). */
struct pci_vms_byte {
    uint8_t b;
};
static const struct vmstate_field pci_vms_byte_fields[] = {
    VMS_U8(struct pci_vms_byte, b),
    VMS_END,
};
static const struct vmstate_desc pci_vms_byte_vmsd = {
    .name = "byte",
    .version = 1,
    .fields = pci_vms_byte_fields,
};

static const struct vmstate_field pci_device_fields[] = {
    VMS_BUFFER(struct pci_device, config),
    /* the stream cannot resize them: a load refuses another vector count */
    VMS_VARRAY(struct pci_device, msix_table, msix_table_len,
               &pci_vms_byte_vmsd),
    VMS_VARRAY(struct pci_device, msix_pba, msix_pba_len, &pci_vms_byte_vmsd),
    VMS_END,
};

const struct vmstate_desc pci_device_vmsd = {
    .name = "pci-device",
    .version = 1,
    .fields = pci_device_fields,
    .post_load = pci_device_post_load,
};
