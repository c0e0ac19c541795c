/* SPDX-License-Identifier: MIT */
/*
 * acpi-build.c: ACPI table construction (see acpi-build.h) with a tiny AML
 * builder for the DSDT.  AML objects are built bottom-up: each helper
 * returns a fresh GByteArray, and package-style operators (Scope, Device,
 * Method, If, Buffer, Package) take their already-encoded body and prefix
 * the opcode and PkgLength.  Layouts follow the ACPI 6.4 specification.
 */
#include "util/common.h"
#include "hw/i386/acpi-build.h"
#include "hw/i386/microvm-layout.h"
#include "hw/core/loader.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "accel/kvm/kvm.h"
#include "hw/acpi/ich9-lpc.h"
#include "hw/pci/pcie-host.h"
#include "hw/i386/x86-boot.h"
#include "hw/virtio/virtio-mmio.h"

/* ---- AML builder ---- */

static GByteArray *aml_new(void)
{
    return g_byte_array_new();
}

static void aml_byte(GByteArray *a, uint8_t b)
{
    g_byte_array_append(a, &b, 1);
}

/* Appends b to a and frees b. */
static void aml_add(GByteArray *a, GByteArray *b)
{
    g_byte_array_append(a, b->data, b->len);
    g_byte_array_unref(b);
}

/* NameString: optional root prefix, then 1..n dot-separated segments, each
 * padded with '_' to four characters. */
static void aml_name_string(GByteArray *a, const char *name)
{
    gchar **segs;
    guint n;

    if (*name == '\\') {
        aml_byte(a, '\\');
        name++;
    }
    segs = g_strsplit(name, ".", -1);
    n = g_strv_length(segs);
    if (n == 2) {
        aml_byte(a, 0x2e); /* DualNamePrefix */
    } else if (n > 2) {
        aml_byte(a, 0x2f); /* MultiNamePrefix */
        aml_byte(a, (uint8_t)n);
    }
    for (guint i = 0; i < n; i++) {
        char seg[4] = {'_', '_', '_', '_'};
        memcpy(seg, segs[i], MIN(strlen(segs[i]), sizeof(seg)));
        g_byte_array_append(a, (const guint8 *)seg, 4);
    }
    g_strfreev(segs);
}

static GByteArray *aml_int(uint64_t v)
{
    GByteArray *a = aml_new();

    if (v == 0 || v == 1) {
        aml_byte(a, (uint8_t)v); /* ZeroOp / OneOp */
    } else if (v <= 0xff) {
        aml_byte(a, 0x0a);
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xffff) {
        aml_byte(a, 0x0b);
        aml_byte(a, (uint8_t)v);
        aml_byte(a, (uint8_t)(v >> 8));
    } else if (v <= 0xffffffff) {
        uint8_t b[4];
        st_le32(b, (uint32_t)v);
        aml_byte(a, 0x0c);
        g_byte_array_append(a, b, 4);
    } else {
        uint8_t b[8];
        st_le64(b, v);
        aml_byte(a, 0x0e);
        g_byte_array_append(a, b, 8);
    }
    return a;
}

static GByteArray *aml_string(const char *s)
{
    GByteArray *a = aml_new();

    aml_byte(a, 0x0d);
    g_byte_array_append(a, (const guint8 *)s, (guint)strlen(s) + 1);
    return a;
}

/* EISA id "PNP0501" compressed into a DWord. */
static GByteArray *aml_eisaid(const char *id)
{
    uint32_t v =
        ((uint32_t)(id[0] - '@') << 26) | ((uint32_t)(id[1] - '@') << 21) |
        ((uint32_t)(id[2] - '@') << 16) | (uint32_t)strtoul(id + 3, NULL, 16);
    GByteArray *a = aml_new();
    uint8_t b[4];

    /* Stored big-endian as the spec's byte order demands. */
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
    aml_byte(a, 0x0c);
    g_byte_array_append(a, b, 4);
    return a;
}

/* opcode(s) PkgLength body; body is freed. */
static GByteArray *aml_pkg(const uint8_t *op, unsigned oplen, GByteArray *body)
{
    GByteArray *a = aml_new();
    uint32_t n = body->len;
    unsigned extra;
    uint32_t len;

    g_byte_array_append(a, op, oplen);
    if (n + 1 < 0x40) {
        aml_byte(a, (uint8_t)(n + 1));
    } else {
        extra = n + 2 < 0x1000 ? 1 : n + 3 < 0x100000 ? 2 : 3;
        len = n + 1 + extra;
        aml_byte(a, (uint8_t)((extra << 6) | (len & 0xf)));
        for (unsigned i = 0; i < extra; i++) {
            aml_byte(a, (uint8_t)(len >> (4 + 8 * i)));
        }
    }
    aml_add(a, body);
    return a;
}

static GByteArray *aml_name(const char *name, GByteArray *val)
{
    GByteArray *a = aml_new();

    aml_byte(a, 0x08); /* NameOp */
    aml_name_string(a, name);
    aml_add(a, val);
    return a;
}

static GByteArray *aml_scope(const char *name, GByteArray *body)
{
    static const uint8_t op[] = {0x10};
    GByteArray *b = aml_new();

    aml_name_string(b, name);
    aml_add(b, body);
    return aml_pkg(op, 1, b);
}

static GByteArray *aml_device(const char *name, GByteArray *body)
{
    static const uint8_t op[] = {0x5b, 0x82};
    GByteArray *b = aml_new();

    aml_name_string(b, name);
    aml_add(b, body);
    return aml_pkg(op, 2, b);
}

/* nargs: argument count, | 8 for Serialized */
static GByteArray *aml_method(const char *name, unsigned nargs,
                              GByteArray *body)
{
    static const uint8_t op[] = {0x14};
    GByteArray *b = aml_new();

    aml_name_string(b, name);
    aml_byte(b, (uint8_t)(nargs & 0xf)); /* args | Serialized(8) */
    aml_add(b, body);
    return aml_pkg(op, 1, b);
}

/* If (LEqual (And (Local0, mask, Zero), mask)) { body } */
static GByteArray *aml_if_local0_has(uint64_t mask, GByteArray *body)
{
    static const uint8_t op[] = {0xa0};
    GByteArray *b = aml_new();

    aml_byte(b, 0x93); /* LEqualOp */
    aml_byte(b, 0x7b); /* AndOp */
    aml_byte(b, 0x60); /* Local0 */
    aml_add(b, aml_int(mask));
    aml_byte(b, 0x00); /* NullName: no target */
    aml_add(b, aml_int(mask));
    aml_add(b, body);
    return aml_pkg(op, 1, b);
}

/* Store (name, Local0) */
static GByteArray *aml_store_local0(const char *name)
{
    GByteArray *a = aml_new();

    aml_byte(a, 0x70); /* StoreOp */
    aml_name_string(a, name);
    aml_byte(a, 0x60);
    return a;
}

/* OperationRegion (name, SystemIO, port, len) */
static GByteArray *aml_io_region(const char *name, uint16_t port, uint8_t len)
{
    GByteArray *a = aml_new();

    aml_byte(a, 0x5b);
    aml_byte(a, 0x80);
    aml_name_string(a, name);
    aml_byte(a, 0x01); /* SystemIO */
    aml_add(a, aml_int(port));
    aml_add(a, aml_int(len));
    return a;
}

/* Field (region, DWordAcc, NoLock, WriteAsZeros) { name, 32 } */
static GByteArray *aml_field_dword(const char *region, const char *name)
{
    static const uint8_t op[] = {0x5b, 0x81};
    GByteArray *b = aml_new();

    aml_name_string(b, region);
    aml_byte(b, 0x43); /* DWordAcc | NoLock | WriteAsZeros */
    g_byte_array_append(b, (const guint8 *)name, 4);
    aml_byte(b, 32); /* PkgLength-encoded bit width */
    return aml_pkg(op, 2, b);
}

static GByteArray *aml_notify(const char *target, uint64_t value)
{
    GByteArray *a = aml_new();

    aml_byte(a, 0x86); /* NotifyOp */
    aml_name_string(a, target);
    aml_add(a, aml_int(value));
    return a;
}

static GByteArray *aml_package(const uint64_t *vals, unsigned n)
{
    static const uint8_t op[] = {0x12};
    GByteArray *b = aml_new();

    aml_byte(b, (uint8_t)n);
    for (unsigned i = 0; i < n; i++) {
        aml_add(b, aml_int(vals[i]));
    }
    return aml_pkg(op, 1, b);
}

/* Buffer holding a resource template; res gets its End Tag here. */
static GByteArray *aml_resources(GByteArray *res)
{
    static const uint8_t op[] = {0x11};
    GByteArray *b;

    aml_byte(res, 0x79); /* End Tag */
    aml_byte(res, 0x00); /* checksum 0: "treat as checksummed" */
    b = aml_int(res->len);
    aml_add(b, res);
    return aml_pkg(op, 1, b);
}

/* IO (Decode16, base, base, 0, len) */
static void res_io(GByteArray *r, uint16_t base, uint8_t len)
{
    uint8_t d[8] = {0x47,          0x01,
                    (uint8_t)base, (uint8_t)(base >> 8),
                    (uint8_t)base, (uint8_t)(base >> 8),
                    0x01,          len};
    g_byte_array_append(r, d, sizeof(d));
}

/* IRQNoFlags () {irq} */
static void res_irq(GByteArray *r, unsigned irq)
{
    uint8_t d[3] = {0x22, (uint8_t)(1u << irq), (uint8_t)((1u << irq) >> 8)};
    g_byte_array_append(r, d, sizeof(d));
}

/* Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive|Shared) {gsi} */
static void res_ext_irq(GByteArray *r, uint32_t gsi, bool shared)
{
    uint8_t d[9] = {0x89, 6, 0, (uint8_t)(0x01 | (shared ? 0x08 : 0)), 1};
    st_le32(d + 5, gsi);
    g_byte_array_append(r, d, sizeof(d));
}

static void res_ext_irq_level(GByteArray *r, uint32_t gsi)
{
    res_ext_irq(r, gsi, false);
}

/* Address space descriptors (ACPI 6.4 6.4.3.5.1-3): a producer range with
 * fixed minimum and maximum.  type: 0 memory, 1 I/O, 2 bus numbers. */
#define RES_MEM 0
#define RES_IO 1
#define RES_BUS 2
#define RES_PRODUCER_FIXED 0x0c /* MinFixed, MaxFixed, PosDecode */

static void res_word(GByteArray *r, uint8_t type, uint8_t tflags, uint16_t min,
                     uint16_t max)
{
    uint8_t d[16] = {0x88, 13, 0, type, RES_PRODUCER_FIXED, tflags};

    st_le16(d + 8, min);
    st_le16(d + 10, max);
    st_le16(d + 14, (uint16_t)(max - min + 1));
    g_byte_array_append(r, d, sizeof(d));
}

static void res_dword_mem(GByteArray *r, uint8_t tflags, uint32_t min,
                          uint32_t max)
{
    uint8_t d[26] = {0x87, 23, 0, RES_MEM, RES_PRODUCER_FIXED, tflags};

    st_le32(d + 10, min);
    st_le32(d + 14, max);
    st_le32(d + 22, max - min + 1);
    g_byte_array_append(r, d, sizeof(d));
}

static void res_qword_mem(GByteArray *r, uint8_t tflags, uint64_t min,
                          uint64_t max)
{
    uint8_t d[46] = {0x8a, 43, 0, RES_MEM, RES_PRODUCER_FIXED, tflags};

    st_le64(d + 14, min);
    st_le64(d + 22, max);
    st_le64(d + 38, max - min + 1);
    g_byte_array_append(r, d, sizeof(d));
}

/* Memory32Fixed (ReadWrite, base, len) */
static void res_mem32_fixed(GByteArray *r, uint32_t base, uint32_t len)
{
    uint8_t d[12] = {0x86, 9, 0, 1};

    st_le32(d + 4, base);
    st_le32(d + 8, len);
    g_byte_array_append(r, d, sizeof(d));
}

/* Package (n) { DWord, Byte, NameString, Zero }: one _PRT entry. */
static GByteArray *aml_prt_entry(uint32_t addr, unsigned pin, const char *link)
{
    static const uint8_t op[] = {0x12};
    GByteArray *b = aml_new();

    aml_byte(b, 4);
    aml_add(b, aml_int(addr));
    aml_add(b, aml_int(pin));
    aml_name_string(b, link);
    aml_add(b, aml_int(0));
    return aml_pkg(op, 1, b);
}

static GByteArray *aml_package_of(GByteArray *elems, unsigned n)
{
    static const uint8_t op[] = {0x13}; /* VarPackageOp: > 255 allowed */
    GByteArray *b = aml_int(n);

    aml_add(b, elems);
    return aml_pkg(op, 1, b);
}

/* The PCI0 host bridge: identity, resources it decodes, INTx routing. */
static GByteArray *build_pci0(const struct acpi_pci_desc *pci)
{
    GByteArray *dev = aml_new(), *res = aml_new(), *prt = aml_new();
    unsigned buses = (unsigned)(pci->ecam_size >> 20);
    uint64_t ecam_end = pci->ecam_base + pci->ecam_size;
    /* memory tflags: ReadWrite, non-cacheable / cacheable */
    const uint8_t mem_nc = 0x01, mem_c = 0x03;

    aml_add(dev, aml_name("_HID", aml_eisaid("PNP0A08")));
    aml_add(dev, aml_name("_CID", aml_eisaid("PNP0A03")));
    aml_add(dev, aml_name("_UID", aml_int(0)));
    aml_add(dev, aml_name("_SEG", aml_int(0)));
    aml_add(dev, aml_name("_BBN", aml_int(0)));

    res_word(res, RES_BUS, 0, 0, (uint16_t)(buses - 1));
    res_io(res, 0xcf8, 8);
    /* I/O: everything but the configuration ports, EntireRange */
    res_word(res, RES_IO, 0x03, 0x0000, 0x0cf7);
    res_word(res, RES_IO, 0x03, 0x0d00, 0xffff);
    /* legacy VGA window */
    res_dword_mem(res, mem_c, 0x000a0000, 0x000bffff);
    /* the 32-bit hole, around the ECAM window */
    if (pci->hole_start < pci->ecam_base) {
        res_dword_mem(res, mem_nc, (uint32_t)pci->hole_start,
                      (uint32_t)(pci->ecam_base - 1));
    }
    if (ecam_end < pci->hole_end) {
        res_dword_mem(res, mem_nc, (uint32_t)MAX(ecam_end, pci->hole_start),
                      (uint32_t)(pci->hole_end - 1));
    }
    if (pci->hole64_size) {
        res_qword_mem(res, mem_nc, pci->hole64_start,
                      pci->hole64_start + pci->hole64_size - 1);
    }
    aml_add(dev, aml_name("_CRS", aml_resources(res)));

    for (unsigned slot = 0; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            char link[16];
            snprintf(link, sizeof(link), "\\_SB.LNK%c",
                     'A' + (slot + pin) % pci->nr_pirq);
            aml_add(prt, aml_prt_entry(slot << 16 | 0xffff, pin, link));
        }
    }
    aml_add(dev, aml_name("_PRT", aml_package_of(prt, 128)));
    return aml_device("PCI0", dev);
}

/* PCI interrupt links: each is hard-wired to one GSI (APIC mode), level,
 * active high and shared as QEMU's q35 describes them (KVM's IOAPIC
 * takes the line's level as asserted-high). */
static GByteArray *build_link(unsigned n, unsigned gsi)
{
    GByteArray *dev = aml_new(), *prs = aml_new(), *crs = aml_new();
    char name[5];

    snprintf(name, sizeof(name), "LNK%c", 'A' + n);
    aml_add(dev, aml_name("_HID", aml_eisaid("PNP0C0F")));
    aml_add(dev, aml_name("_UID", aml_int(n)));
    res_ext_irq(prs, gsi, true);
    aml_add(dev, aml_name("_PRS", aml_resources(prs)));
    res_ext_irq(crs, gsi, true);
    aml_add(dev, aml_name("_CRS", aml_resources(crs)));
    /* the only possible setting is the current one */
    aml_add(dev, aml_method("_SRS", 1, aml_new()));
    return aml_device(name, dev);
}

/* Motherboard resources: the ECAM window, so Linux trusts the MCFG. */
static GByteArray *build_ecam_reservation(const struct acpi_pci_desc *pci)
{
    GByteArray *dev = aml_new(), *res = aml_new();

    aml_add(dev, aml_name("_HID", aml_eisaid("PNP0C02")));
    aml_add(dev, aml_name("_UID", aml_int(1)));
    res_mem32_fixed(res, (uint32_t)pci->ecam_base, (uint32_t)pci->ecam_size);
    aml_add(dev, aml_name("_CRS", aml_resources(res)));
    return aml_device("PDRC", dev);
}

/* Hardware-reduced ACPI: the power button behind a Generic Event Device */
static void build_ged(GByteArray *sb)
{
    GByteArray *dev, *res;

    /* Power button, notified by the GED */
    dev = aml_new();
    aml_add(dev, aml_name("_HID", aml_string("PNP0C0C")));
    aml_add(dev, aml_name("_UID", aml_int(0)));
    aml_add(sb, aml_device("PWRB", dev));

    /* Generic Event Device: hardware-reduced ACPI's event source.  Its
     * interrupt is level-triggered; reading the event selector returns the
     * pending events, clears them and lowers the line. */
    dev = aml_new();
    aml_add(dev, aml_name("_HID", aml_string("ACPI0013")));
    aml_add(dev, aml_name("_UID", aml_int(0)));
    res = aml_new();
    res_ext_irq_level(res, MICROVM_ACPI_GED_IRQ);
    aml_add(dev, aml_name("_CRS", aml_resources(res)));
    aml_add(dev, aml_io_region("EREG", MICROVM_ACPI_GED_PORT, 4));
    aml_add(dev, aml_field_dword("EREG", "ESEL"));
    {
        GByteArray *body = aml_store_local0("ESEL");
        aml_add(body, aml_if_local0_has(MICROVM_GED_PWR_DOWN_EVT,
                                        aml_notify("\\_SB.PWRB", 0x80)));
        aml_add(dev, aml_method("_EVT", 1 | 8, body)); /* Serialized */
    }
    aml_add(sb, aml_device("GED", dev));
}

/* A legacy ISA device in \_SB: _HID, _UID when uid >= 0, and a _CRS with
 * its I/O ranges and one ISA IRQ (IRQNoFlags: edge, active high). */
struct isa_io {
    uint16_t base;
    uint8_t len;
};

static void add_isa_device(GByteArray *sb, const char *name, const char *hid,
                           int uid, const struct isa_io *io, unsigned nr_io,
                           unsigned irq)
{
    GByteArray *dev = aml_new(), *res = aml_new();

    aml_add(dev, aml_name("_HID", aml_eisaid(hid)));
    if (uid >= 0) {
        aml_add(dev, aml_name("_UID", aml_int((uint64_t)uid)));
    }
    for (unsigned i = 0; i < nr_io; i++) {
        res_io(res, io[i].base, io[i].len);
    }
    res_irq(res, irq);
    aml_add(dev, aml_name("_CRS", aml_resources(res)));
    aml_add(sb, aml_device(name, dev));
}

static GByteArray *build_dsdt_body(const struct acpi_build_params *p)
{
    GByteArray *sb = aml_new(), *dev, *res, *top = aml_new();
    static const uint64_t s5_ged[] = {MICROVM_ACPI_SLP_TYP_S5,
                                      MICROVM_ACPI_SLP_TYP_S5, 0, 0};
    /* with a PM block, SLP_TYP 0 is soft-off (as QEMU's ICH9) */
    static const uint64_t s5_pm[] = {0, 0, 0, 0};

    static const struct isa_io com1_io[] = {{MICROVM_COM1_PORT, 8}};
    static const struct isa_io rtc_io[] = {{0x70, 2}};
    static const struct isa_io kbd_io[] = {{0x60, 1}, {0x64, 1}};

    add_isa_device(sb, "COM1", "PNP0501", 1, com1_io, 1, MICROVM_COM1_IRQ);
    add_isa_device(sb, "RTC", "PNP0B00", -1, rtc_io, 1, 8);
    if (p->has_i8042) {
        /* The i8042's keyboard and mouse ports, as PC firmware (and QEMU's
         * q35) describe them.  Linux's i8042 takes its IRQs from these; with
         * hardware-reduced ACPI it has no legacy IRQs to fall back on, and
         * without them its probe fails with -EINVAL after the FADT flag
         * made it look. */
        add_isa_device(sb, "KBD", "PNP0303", -1, kbd_io, 2, ACPI_I8042_KBD_IRQ);
        add_isa_device(sb, "MOU", "PNP0F13", -1, NULL, 0, ACPI_I8042_MOUSE_IRQ);
    }

    if (p->pci) {
        aml_add(sb, build_pci0(p->pci));
        for (unsigned i = 0; i < p->pci->nr_pirq; i++) {
            aml_add(sb, build_link(i, p->pci->pirq_gsi_base + i));
        }
        aml_add(sb, build_ecam_reservation(p->pci));
    }
    if (!p->pm) {
        build_ged(sb);
    }
    /* virtio-mmio transports: Linux's virtio_mmio binds LNRO0005 */
    for (unsigned i = 0; i < p->nr_virtio_mmio && i < 100; i++) {
        char name[5];

        g_snprintf(name, sizeof(name), "VR%02u", i);
        dev = aml_new();
        aml_add(dev, aml_name("_HID", aml_string("LNRO0005")));
        aml_add(dev, aml_name("_UID", aml_int(i)));
        aml_add(dev, aml_name("_CCA", aml_int(1))); /* cache-coherent */
        res = aml_new();
        res_mem32_fixed(res, (uint32_t)p->virtio_mmio_base[i], 512);
        res_ext_irq_level(res, p->virtio_mmio_gsi[i]);
        aml_add(dev, aml_name("_CRS", aml_resources(res)));
        aml_add(sb, aml_device(name, dev));
    }

    aml_add(top, aml_scope("\\_SB", sb));
    /* S5: SLP_TYP for the sleep control register */
    aml_add(top, aml_name("\\_S5", aml_package(p->pm ? s5_pm : s5_ged, 4)));
    return top;
}

/* ---- tables ---- */

#define HDR_LEN 36

static void checksum(uint8_t *p, size_t len, size_t csum_off)
{
    uint8_t s = 0;

    p[csum_off] = 0;
    for (size_t i = 0; i < len; i++) {
        s = (uint8_t)(s + p[i]);
    }
    p[csum_off] = (uint8_t)-s;
}

/* Starts a table at an 8-byte aligned offset; returns that offset. */
static size_t table_begin(GByteArray *blob, const char *sig, uint8_t rev)
{
    static const uint8_t zero[HDR_LEN];
    size_t off = ALIGN_UP((size_t)blob->len, 8);
    size_t old = blob->len;
    uint8_t *h;

    g_byte_array_set_size(blob, (guint)off);
    memset(blob->data + old, 0, off - old);
    g_byte_array_append(blob, zero, HDR_LEN);
    h = blob->data + off;
    memcpy(h, sig, 4);
    h[8] = rev;
    memcpy(h + 10, "VIREO ", 6);
    memcpy(h + 16, "VIREOVM ", 8);
    st_le32(h + 24, 1);
    memcpy(h + 28, "VIRO", 4);
    st_le32(h + 32, 1);
    return off;
}

static void table_end(GByteArray *blob, size_t off)
{
    uint32_t len = blob->len - (uint32_t)off;

    st_le32(blob->data + off + 4, len);
    checksum(blob->data + off, len, 9);
}

static void put(GByteArray *b, const void *p, size_t n)
{
    g_byte_array_append(b, p, (guint)n);
}

static void put8(GByteArray *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put16(GByteArray *b, uint16_t v)
{
    uint8_t x[2];
    st_le16(x, v);
    put(b, x, 2);
}

static void put32(GByteArray *b, uint32_t v)
{
    uint8_t x[4];
    st_le32(x, v);
    put(b, x, 4);
}

/* Generic Address Structure: system I/O, byte access. */
static void gas_io8(uint8_t *p, uint16_t port)
{
    p[0] = 1; /* SystemIO */
    p[1] = 8; /* bit width */
    p[2] = 0; /* bit offset */
    p[3] = 1; /* byte access */
    st_le64(p + 4, port);
}

/* Generic Address Structure: system I/O block of `bits` bits. */
static void gas_io(uint8_t *p, uint16_t port, uint8_t bits)
{
    p[0] = 1; /* SystemIO */
    p[1] = bits;
    p[2] = 0;
    p[3] = 0; /* legacy: access size undefined */
    st_le64(p + 4, port);
}

/* The FADT of a platform with fixed hardware (ACPI 6.4 table 5.9): PM1a
 * event (4 bytes: status, enable), PM1a control (2), PM timer (4, 24-bit),
 * GPE0 (16), SCI, reset register; a fixed-feature power button. */
static void build_fadt_pm(uint8_t *f, const struct acpi_pm_desc *pm,
                          uint64_t facs)
{
    st_le32(f + 36, (uint32_t)facs); /* FIRMWARE_CTRL */
    st_le16(f + 46, pm->sci_irq);
    st_le32(f + 56, pm->pm_base);           /* PM1a_EVT_BLK */
    st_le32(f + 64, pm->pm_base + 0x04);    /* PM1a_CNT_BLK */
    st_le32(f + 76, pm->pm_base + 0x08);    /* PM_TMR_BLK */
    st_le32(f + 80, pm->pm_base + 0x20);    /* GPE0_BLK */
    f[88] = 4;                              /* PM1_EVT_LEN */
    f[89] = 2;                              /* PM1_CNT_LEN */
    f[91] = 4;                              /* PM_TMR_LEN */
    f[92] = 16;                             /* GPE0_BLK_LEN */
    st_le16(f + 96, 0x0fff);                /* no C2 */
    st_le16(f + 98, 0x0fff);                /* no C3 */
    f[108] = 0x32;                          /* RTC century register */
    st_le16(f + 109, ld_le16(f + 109) | 1); /* LEGACY_DEVICES */
    /* WBINVD, PROC_C1, SLP_BUTTON (none), RTC_S4, RESET_REG_SUP */
    st_le32(f + 112, 1u << 0 | 1u << 2 | 1u << 5 | 1u << 7 | 1u << 10);
    gas_io(f + 116, pm->reset_port, 8);
    f[128] = pm->reset_value;
    gas_io(f + 148, pm->pm_base, 32);
    gas_io(f + 172, pm->pm_base + 0x04, 16);
    gas_io(f + 208, pm->pm_base + 0x08, 32);
    gas_io(f + 220, pm->pm_base + 0x20, 128);
}

bool acpi_build_tables(const struct acpi_build_params *p, struct acpi_tables *t,
                       Error **errp)
{
    GByteArray *b = g_byte_array_new();
    size_t rsdp = 0, fadt, dsdt, madt, xsdt, rsdt, mcfg = 0, facs = 0;
    GByteArray *aml;
    uint8_t *f;

    memset(t, 0, sizeof(*t));
    if (p->nr_cpus == 0 || p->nr_cpus > 254) {
        error_setg(errp, "ACPI: %u vCPUs unsupported (1..254)", p->nr_cpus);
        g_byte_array_unref(b);
        return false;
    }
    if (p->pci &&
        (p->pci->ecam_size < 1 * MiB || p->pci->ecam_size > 256 * MiB ||
         p->pci->ecam_size % MiB || p->pci->ecam_base % MiB ||
         p->pci->ecam_base + p->pci->ecam_size > 4 * GiB ||
         p->pci->hole_end > 4 * GiB || p->pci->hole_start > p->pci->hole_end ||
         p->pci->nr_pirq == 0 || p->pci->nr_pirq > 26)) {
        error_setg(errp, "ACPI: invalid PCI host description");
        g_byte_array_unref(b);
        return false;
    }
    if (p->base & 15) {
        error_setg(errp, "ACPI: tables base 0x%" PRIx64 " not 16-aligned",
                   p->base);
        g_byte_array_unref(b);
        return false;
    }
    /* RSDP (ACPI 2.0+, 36 bytes), filled at the end */
    g_byte_array_set_size(b, 36);
    memset(b->data, 0, 36);

    /* DSDT */
    dsdt = table_begin(b, "DSDT", 2);
    aml = build_dsdt_body(p);
    put(b, aml->data, aml->len);
    g_byte_array_unref(aml);
    table_end(b, dsdt);

    /* FACS: a full ACPI platform has one (the global lock lives there) */
    if (p->pm) {
        size_t pad = ALIGN_UP((size_t)b->len, 64) - b->len;
        g_byte_array_set_size(b, b->len + (guint)pad);
        memset(b->data + b->len - pad, 0, pad);
        facs = b->len;
        g_byte_array_set_size(b, b->len + 64);
        memset(b->data + facs, 0, 64);
        memcpy(b->data + facs, "FACS", 4);
        st_le32(b->data + facs + 4, 64);
        b->data[facs + 32] = 2; /* version */
    }

    /* FADT, revision 6 (276 bytes) */
    fadt = table_begin(b, "FACP", 6);
    g_byte_array_set_size(b, (guint)(fadt + 276));
    f = b->data + fadt;
    memset(f + HDR_LEN, 0, 276 - HDR_LEN);
    st_le32(f + 40, (uint32_t)(p->base + dsdt)); /* DSDT */
    st_le16(f + 109, (uint16_t)((p->has_i8042 ? 1u << 1 : 0) |
                                (1u << 2))); /* 8042, VGA not present */
    f[131] = 3;                              /* FADT minor version */
    st_le64(f + 140, p->base + dsdt);        /* X_DSDT */
    memcpy(f + 268, "VIREOKVM", 8);          /* hypervisor vendor identity */
    if (p->pm) {
        build_fadt_pm(f, p->pm, p->base + facs);
    } else {
        st_le32(f + 112, (1u << 20) | (1u << 0)); /* HW_REDUCED_ACPI, WBINVD */
        gas_io8(f + 244, MICROVM_ACPI_SLEEP_CTL_PORT);
        gas_io8(f + 256, MICROVM_ACPI_SLEEP_STS_PORT);
    }
    table_end(b, fadt);

    /* MCFG (PCI Firmware 3.2, 4.1.2): one ECAM allocation */
    if (p->pci) {
        mcfg = table_begin(b, "MCFG", 1);
        put32(b, 0);
        put32(b, 0); /* reserved */
        {
            uint8_t e[16] = {0};
            st_le64(e, p->pci->ecam_base);
            e[10] = 0;                                        /* bus start */
            e[11] = (uint8_t)((p->pci->ecam_size >> 20) - 1); /* bus end */
            put(b, e, 16);
        }
        table_end(b, mcfg);
    }

    /* MADT, revision 5 */
    madt = table_begin(b, "APIC", 5);
    put32(b, (uint32_t)MICROVM_LAPIC_ADDR);
    put32(b, p->has_pic ? 1 : 0); /* PCAT_COMPAT: dual 8259s present */
    for (unsigned i = 0; i < p->nr_cpus; i++) {
        put8(b, 0); /* Processor Local APIC */
        put8(b, 8);
        put8(b, (uint8_t)i); /* ACPI processor UID */
        put8(b, (uint8_t)i); /* APIC id */
        put32(b, 1);         /* enabled */
    }
    put8(b, 1); /* I/O APIC */
    put8(b, 12);
    put8(b, (uint8_t)p->nr_cpus); /* id after the LAPICs */
    put8(b, 0);
    put32(b, (uint32_t)MICROVM_IOAPIC_ADDR);
    put32(b, 0); /* GSI base */
    put8(b, 2);  /* ISO: ISA IRQ0 -> GSI2, conforming */
    put8(b, 10);
    put8(b, 0);
    put8(b, 0);
    put32(b, 2);
    put16(b, 0);
    put8(b, 2); /* ISO: IRQ9 -> GSI9, active high, level */
    put8(b, 10);
    put8(b, 0);
    put8(b, 9);
    put32(b, 9);
    put16(b, 0x000d);
    put8(b, 4); /* Local APIC NMI: all processors, LINT1 */
    put8(b, 6);
    put8(b, 0xff);
    put16(b, 0);
    put8(b, 1);
    table_end(b, madt);

    /* XSDT and RSDT: FADT, MADT, MCFG */
    xsdt = table_begin(b, "XSDT", 1);
    {
        uint8_t e[8];
        st_le64(e, p->base + fadt);
        put(b, e, 8);
        st_le64(e, p->base + madt);
        put(b, e, 8);
        if (mcfg) {
            st_le64(e, p->base + mcfg);
            put(b, e, 8);
        }
    }
    table_end(b, xsdt);
    rsdt = table_begin(b, "RSDT", 1);
    put32(b, (uint32_t)(p->base + fadt));
    put32(b, (uint32_t)(p->base + madt));
    if (mcfg) {
        put32(b, (uint32_t)(p->base + mcfg));
    }
    table_end(b, rsdt);

    if (p->base + b->len > 0xffffffffULL) {
        error_setg(errp, "ACPI: tables must lie below 4 GiB");
        g_byte_array_unref(b);
        return false;
    }
    f = b->data + rsdp;
    memcpy(f, "RSD PTR ", 8);
    memcpy(f + 9, "VIREO ", 6);
    f[15] = 2; /* revision: ACPI 2.0+ */
    st_le32(f + 16, (uint32_t)(p->base + rsdt));
    st_le32(f + 20, 36);
    st_le64(f + 24, p->base + xsdt);
    checksum(f, 20, 8);
    checksum(f, 36, 32);

    t->blob = b;
    t->rsdp = p->base + rsdp;
    t->xsdt = p->base + xsdt;
    t->rsdt = p->base + rsdt;
    t->fadt = p->base + fadt;
    t->dsdt = p->base + dsdt;
    t->madt = p->base + madt;
    t->mcfg = mcfg ? p->base + mcfg : 0;
    t->facs = facs ? p->base + facs : 0;
    return true;
}

void acpi_tables_clear(struct acpi_tables *t)
{
    if (t->blob) {
        g_byte_array_unref(t->blob);
    }
    memset(t, 0, sizeof(*t));
}

const uint8_t *acpi_tables_get(const struct acpi_tables *t, uint64_t gpa,
                               uint32_t *len)
{
    uint64_t base = t->rsdp, off;
    uint32_t l;

    if (!t->blob || gpa < base) {
        return NULL;
    }
    off = gpa - base;
    if (off > t->blob->len || t->blob->len - off < HDR_LEN) {
        return NULL;
    }
    l = ld_le32(t->blob->data + off + 4);
    if (l < HDR_LEN || l > t->blob->len - off) {
        return NULL;
    }
    *len = l;
    return t->blob->data + off;
}

bool x86_acpi_build_at(struct machine *m, uint64_t *rsdp, Error **errp)
{
    struct acpi_build_params p = {
        .base = ACPI_TABLES_ADDR,
        .nr_cpus = m->nr_vcpus        ? m->nr_vcpus
                   : m->cfg->smp_cpus ? m->cfg->smp_cpus
                                      : 1,
        /* microvm always has vireo's i8042 (reset line); without the
         * flag Linux would not look for it. */
        .has_i8042 = true,
        /* KVM's 8259s exist only with kernel-irqchip=on. */
        .has_pic = m->kvm && m->kvm->irqchip == KVM_IRQCHIP_ON,
    };
    struct acpi_tables t;
    const struct q35_host_windows *w = q35_host_windows(m);
    uint64_t vbase[X86_VIRTIO_MMIO_SLOTS];
    unsigned vgsi[X86_VIRTIO_MMIO_SLOTS];
    struct acpi_pci_desc pci;
    struct acpi_pm_desc pm = {
        .pm_base = ICH9_PMBASE_DEFAULT,
        .sci_irq = ICH9_SCI_IRQ,
        .reset_port = Q35_RCR_PORT,
        .reset_value = Q35_RCR_SYS_RST | Q35_RCR_RST_CPU,
    };

    /* the tables describe the devices the board created */
    if (w) {
        pci = (struct acpi_pci_desc){
            .ecam_base = Q35_ECAM_BASE,
            .ecam_size = Q35_ECAM_SIZE,
            .hole_start = w->below_4g_end,
            .hole_end = Q35_PCI_HOLE_END,
            .hole64_start = w->hole64_start,
            .hole64_size = w->hole64_size,
            .pirq_gsi_base = Q35_PIRQ_GSI_BASE,
            .nr_pirq = Q35_NR_PIRQ,
        };
        p.pci = &pci;
    }
    if (ich9_lpc_find(m)) {
        p.pm = &pm;
    }
    p.nr_virtio_mmio =
        MIN(virtio_mmio_devices(m, vbase, vgsi, X86_VIRTIO_MMIO_SLOTS),
            X86_VIRTIO_MMIO_SLOTS);
    p.virtio_mmio_base = vbase;
    p.virtio_mmio_gsi = vgsi;
    if (!acpi_build_tables(&p, &t, errp)) {
        return false;
    }
    if (t.blob->len > ACPI_TABLES_MAX ||
        !gm_write_any(m->gm, p.base, t.blob->data, t.blob->len)) {
        error_setg(errp,
                   "ACPI: no guest memory for %u bytes of tables at 0x%" PRIx64,
                   t.blob->len, p.base);
        acpi_tables_clear(&t);
        return false;
    }
    if (rsdp) {
        *rsdp = t.rsdp;
    }
    acpi_tables_clear(&t);
    return true;
}

bool x86_acpi_build(struct machine *m, Error **errp)
{
    return x86_acpi_build_at(m, NULL, errp);
}
