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

/* Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) {gsi} */
static void res_ext_irq_level(GByteArray *r, uint32_t gsi)
{
    uint8_t d[9] = {0x89, 6, 0, 0x01, 1};
    st_le32(d + 5, gsi);
    g_byte_array_append(r, d, sizeof(d));
}

static GByteArray *build_dsdt_body(const struct acpi_build_params *p)
{
    GByteArray *sb = aml_new(), *dev, *res, *top = aml_new();
    static const uint64_t s5[] = {MICROVM_ACPI_SLP_TYP_S5,
                                  MICROVM_ACPI_SLP_TYP_S5, 0, 0};

    /* COM1 */
    dev = aml_new();
    aml_add(dev, aml_name("_HID", aml_eisaid("PNP0501")));
    aml_add(dev, aml_name("_UID", aml_int(1)));
    res = aml_new();
    res_io(res, MICROVM_COM1_PORT, 8);
    res_irq(res, MICROVM_COM1_IRQ);
    aml_add(dev, aml_name("_CRS", aml_resources(res)));
    aml_add(sb, aml_device("COM1", dev));

    /* CMOS RTC */
    dev = aml_new();
    aml_add(dev, aml_name("_HID", aml_eisaid("PNP0B00")));
    res = aml_new();
    res_io(res, 0x70, 2);
    res_irq(res, 8);
    aml_add(dev, aml_name("_CRS", aml_resources(res)));
    aml_add(sb, aml_device("RTC", dev));

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

    aml_add(top, aml_scope("\\_SB", sb));
    /* S5: SLP_TYP for the sleep control register */
    aml_add(top, aml_name("\\_S5", aml_package(s5, 4)));
    (void)p;
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

bool acpi_build_tables(const struct acpi_build_params *p, struct acpi_tables *t,
                       Error **errp)
{
    GByteArray *b = g_byte_array_new();
    size_t rsdp = 0, fadt, dsdt, madt, xsdt, rsdt;
    GByteArray *aml;
    uint8_t *f;

    memset(t, 0, sizeof(*t));
    if (p->nr_cpus == 0 || p->nr_cpus > 254) {
        error_setg(errp, "ACPI: %u vCPUs unsupported (1..254)", p->nr_cpus);
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

    /* FADT, revision 6 (276 bytes), hardware-reduced */
    fadt = table_begin(b, "FACP", 6);
    g_byte_array_set_size(b, (guint)(fadt + 276));
    f = b->data + fadt;
    memset(f + HDR_LEN, 0, 276 - HDR_LEN);
    st_le32(f + 40, (uint32_t)(p->base + dsdt)); /* DSDT */
    st_le16(f + 109, (uint16_t)((p->has_i8042 ? 1u << 1 : 0) |
                                (1u << 2)));  /* 8042, VGA not present */
    st_le32(f + 112, (1u << 20) | (1u << 0)); /* HW_REDUCED_ACPI, WBINVD */
    f[131] = 3;                               /* FADT minor version */
    st_le64(f + 140, p->base + dsdt);         /* X_DSDT */
    gas_io8(f + 244, MICROVM_ACPI_SLEEP_CTL_PORT);
    gas_io8(f + 256, MICROVM_ACPI_SLEEP_STS_PORT);
    memcpy(f + 268, "VIREOKVM", 8); /* hypervisor vendor identity */
    table_end(b, fadt);

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

    /* XSDT and RSDT: FADT, MADT */
    xsdt = table_begin(b, "XSDT", 1);
    {
        uint8_t e[16];
        st_le64(e, p->base + fadt);
        st_le64(e + 8, p->base + madt);
        put(b, e, 16);
    }
    table_end(b, xsdt);
    rsdt = table_begin(b, "RSDT", 1);
    put32(b, (uint32_t)(p->base + fadt));
    put32(b, (uint32_t)(p->base + madt));
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
