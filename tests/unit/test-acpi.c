/* SPDX-License-Identifier: MIT */
/*
 * test-acpi.c: the ACPI tables vireo builds: signatures, lengths,
 * checksums, the pointers between tables, MADT contents, FADT sleep
 * registers; and a disassembly of every table with `iasl -d` (acpica-tools)
 * that must report no error and no warning, the DSDT's recompiled too.  Set
 * VIREO_ACPI_DUMP=DIR to keep the table files.
 */
#include "util/common.h"
#include "hw/core/loader.h"
#include "hw/i386/acpi-build.h"
#include "hw/i386/microvm-layout.h"
#include "hw/acpi/ich9-lpc.h"
#include "hw/pci/pcie-host.h"

#include <glib/gstdio.h>

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    for (size_t i = 0; i < n; i++) {
        s = (uint8_t)(s + p[i]);
    }
    return s;
}

static const uint8_t *table(const struct acpi_tables *t, uint64_t gpa,
                            const char *sig, uint32_t *len)
{
    const uint8_t *p = acpi_tables_get(t, gpa, len);

    g_assert_nonnull(p);
    g_assert_cmpmem(p, 4, sig, 4);
    g_assert_cmpuint(sum(p, *len), ==, 0);
    return p;
}

static void build(unsigned cpus, struct acpi_tables *t)
{
    struct acpi_build_params p = {
        .base = ACPI_TABLES_ADDR, .nr_cpus = cpus, .has_i8042 = true};

    g_assert_true(acpi_build_tables(&p, t, NULL));
    g_assert_cmpuint(t->blob->len, <=, ACPI_TABLES_MAX);
}

static void test_structure(void)
{
    struct acpi_tables t;
    const uint8_t *rsdp, *x, *f, *m, *d;
    uint32_t len, xlen, mlen;
    unsigned lapics = 0, ioapics = 0, isos = 0;

    build(4, &t);
    rsdp = t.blob->data;
    g_assert_cmpuint(t.rsdp, ==, ACPI_TABLES_ADDR);
    g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
    g_assert_cmpuint(sum(rsdp, 20), ==, 0);
    g_assert_cmpuint(sum(rsdp, 36), ==, 0);
    g_assert_cmpuint(rsdp[15], ==, 2);
    g_assert_cmpuint(ld_le64(rsdp + 24), ==, t.xsdt);

    x = table(&t, t.xsdt, "XSDT", &xlen);
    g_assert_cmpuint(xlen, ==, 36 + 16);
    g_assert_cmphex(ld_le64(x + 36), ==, t.fadt);
    g_assert_cmphex(ld_le64(x + 44), ==, t.madt);
    table(&t, ld_le32(rsdp + 16), "RSDT", &len);

    f = table(&t, t.fadt, "FACP", &len);
    g_assert_cmpuint(len, ==, 276);
    g_assert_true(ld_le32(f + 112) & (1u << 20)); /* HW_REDUCED_ACPI */
    g_assert_cmphex(ld_le64(f + 140), ==, t.dsdt);
    g_assert_cmpuint(f[244], ==, 1); /* SystemIO */
    g_assert_cmphex(ld_le64(f + 248), ==, MICROVM_ACPI_SLEEP_CTL_PORT);
    g_assert_cmphex(ld_le64(f + 260), ==, MICROVM_ACPI_SLEEP_STS_PORT);

    d = table(&t, t.dsdt, "DSDT", &len);
    /* \_S5 package carries the SLP_TYP the sleep device expects */
    g_assert_nonnull(memmem(d, len, "_S5_", 4));
    g_assert_nonnull(memmem(d, len, "PWRB", 4));
    g_assert_nonnull(memmem(d, len, "ACPI0013", 8));
    /* the i8042 with its ports and IRQs: hardware-reduced ACPI leaves Linux
     * no legacy IRQ 1/12 unless a _CRS names them */
    {
        static const uint8_t kbd_res[] = {
            0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,  /* IO 0x60 */
            0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01,  /* IO 0x64 */
            0x22, 0x02, 0x00};                               /* IRQ 1 */
        static const uint8_t mou_res[] = {0x22, 0x00, 0x10}; /* IRQ 12 */
        static const uint8_t pnp0303[] = {0x0c, 0x41, 0xd0, 0x03, 0x03};
        static const uint8_t pnp0f13[] = {0x0c, 0x41, 0xd0, 0x0f, 0x13};

        g_assert_nonnull(memmem(d, len, "KBD_", 4));
        g_assert_nonnull(memmem(d, len, "MOU_", 4));
        g_assert_nonnull(memmem(d, len, pnp0303, sizeof(pnp0303)));
        g_assert_nonnull(memmem(d, len, pnp0f13, sizeof(pnp0f13)));
        g_assert_nonnull(memmem(d, len, kbd_res, sizeof(kbd_res)));
        g_assert_nonnull(memmem(d, len, mou_res, sizeof(mou_res)));
    }

    m = table(&t, t.madt, "APIC", &mlen);
    g_assert_cmphex(ld_le32(m + 36), ==, MICROVM_LAPIC_ADDR);
    for (uint32_t off = 44; off < mlen;) {
        g_assert_cmpuint(m[off + 1], >=, 2);
        g_assert_cmpuint(off + m[off + 1], <=, mlen);
        switch (m[off]) {
        case 0:
            g_assert_cmpuint(m[off + 3], ==, lapics);
            g_assert_cmpuint(ld_le32(m + off + 4) & 1, ==, 1);
            lapics++;
            break;
        case 1:
            g_assert_cmpuint(m[off + 2], ==, 4); /* id = nr_cpus */
            g_assert_cmphex(ld_le32(m + off + 4), ==, MICROVM_IOAPIC_ADDR);
            ioapics++;
            break;
        case 2:
            if (m[off + 3] == 0) {
                g_assert_cmpuint(ld_le32(m + off + 4), ==, 2);
            } else {
                g_assert_cmpuint(m[off + 3], ==, 9);
                g_assert_cmphex(ld_le16(m + off + 8), ==, 0xd);
            }
            isos++;
            break;
        }
        off += m[off + 1];
    }
    g_assert_cmpuint(lapics, ==, 4);
    g_assert_cmpuint(ioapics, ==, 1);
    g_assert_cmpuint(isos, ==, 2);
    acpi_tables_clear(&t);
}

static void test_bad_params(void)
{
    struct acpi_build_params p = {.base = ACPI_TABLES_ADDR, .nr_cpus = 0};
    struct acpi_tables t;
    Error *err = NULL;

    g_assert_false(acpi_build_tables(&p, &t, &err));
    g_assert_nonnull(err);
    error_free(err);
    err = NULL;
    p.nr_cpus = 1;
    p.base = ACPI_TABLES_ADDR + 4;
    g_assert_false(acpi_build_tables(&p, &t, &err));
    g_assert_nonnull(err);
    error_free(err);
}

/* Writes each table to dir/NAME.dat and disassembles it with iasl. */
static void run_iasl(const struct acpi_build_params *bp, const char *sub)
{
    struct acpi_tables t;
    const char *keep = g_getenv("VIREO_ACPI_DUMP");
    g_autofree char *dir = NULL;
    g_autofree char *iasl = g_find_program_in_path("iasl");
    struct {
        const char *name;
        uint64_t gpa;
    } tabs[7];
    unsigned ntabs = 5;

    if (!iasl) {
        g_test_skip("iasl (acpica-tools) not installed");
        return;
    }
    g_assert_true(acpi_build_tables(bp, &t, NULL));
    tabs[0].name = "dsdt";
    tabs[0].gpa = t.dsdt;
    tabs[1].name = "facp";
    tabs[1].gpa = t.fadt;
    tabs[2].name = "apic";
    tabs[2].gpa = t.madt;
    tabs[3].name = "xsdt";
    tabs[3].gpa = t.xsdt;
    tabs[4].name = "rsdt";
    tabs[4].gpa = t.rsdt;
    if (t.mcfg) {
        tabs[ntabs].name = "mcfg";
        tabs[ntabs++].gpa = t.mcfg;
    }
    if (keep) {
        dir = g_build_filename(keep, sub, NULL);
        g_mkdir_with_parents(dir, 0755);
    } else {
        dir = g_dir_make_tmp("vireo-acpi-XXXXXX", NULL);
    }
    g_assert_nonnull(dir);
    for (unsigned i = 0; i < ntabs; i++) {
        uint32_t len;
        const uint8_t *p = acpi_tables_get(&t, tabs[i].gpa, &len);
        g_autofree char *path = g_strdup_printf("%s/%s.dat", dir, tabs[i].name);
        g_autofree char *out = NULL, *err = NULL, *dsl = NULL;
        g_autofree char *dslpath =
            g_strdup_printf("%s/%s.dsl", dir, tabs[i].name);
        char *argv[] = {iasl, "-d", path, NULL};
        gint status;

        g_assert_nonnull(p);
        g_assert_true(g_file_set_contents(path, (const char *)p, len, NULL));
        g_assert_true(g_spawn_sync(dir, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                   &out, &err, &status, NULL));
        g_test_message("iasl %s:\n%s%s", tabs[i].name, out, err);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_assert_null(strstr(out, "Error"));
        g_assert_null(strstr(out, "Warning"));
        g_assert_null(strstr(err, "Error"));
        g_assert_null(strstr(err, "Warning"));
        g_assert_null(strstr(err, "Invalid"));
        g_assert_true(g_file_get_contents(dslpath, &dsl, NULL, NULL));
        g_assert_null(strstr(dsl, "Invalid"));
        g_assert_null(strstr(dsl, "Error"));
        g_assert_null(strstr(dsl, "Warning"));
        if (!strcmp(tabs[i].name, "dsdt")) {
            /* and the AML survives a round trip through the compiler */
            g_autofree char *rout = NULL, *rerr = NULL;
            g_autofree char *amlbase = g_strdup_printf("%s/dsdt-rt", dir);
            g_autofree char *aml = g_strdup_printf("%s.aml", amlbase);
            char *cargv[] = {iasl, "-p", amlbase, dslpath, NULL};

            g_assert_true(g_spawn_sync(dir, cargv, NULL, G_SPAWN_DEFAULT, NULL,
                                       NULL, &rout, &rerr, &status, NULL));
            g_test_message("iasl compile:\n%s%s", rout, rerr);
            g_assert_true(g_spawn_check_wait_status(status, NULL));
            g_assert_nonnull(strstr(rout, "0 Errors, 0 Warnings"));
            if (!keep) {
                g_unlink(aml);
            }
        }
        if (!keep) {
            g_unlink(path);
            g_unlink(dslpath);
        }
    }
    if (!keep) {
        g_rmdir(dir);
    }
    acpi_tables_clear(&t);
}

static void test_iasl(void)
{
    struct acpi_build_params p = {
        .base = ACPI_TABLES_ADDR, .nr_cpus = 2, .has_i8042 = true};

    run_iasl(&p, "microvm");
}

/* What q35 gives x86_acpi_build_at (hw/pci/pcie-host.h, ich9-lpc.h). */
static const struct acpi_pci_desc q35_pci = {
    .ecam_base = Q35_ECAM_BASE,
    .ecam_size = Q35_ECAM_SIZE,
    .hole_start = 0x80000000,
    .hole_end = Q35_PCI_HOLE_END,
    .hole64_start = 0x200000000ULL,
    .hole64_size = 32 * GiB,
    .pirq_gsi_base = Q35_PIRQ_GSI_BASE,
    .nr_pirq = Q35_NR_PIRQ,
};
static const struct acpi_pm_desc q35_pm = {
    .pm_base = ICH9_PMBASE_DEFAULT,
    .sci_irq = ICH9_SCI_IRQ,
    .reset_port = Q35_RCR_PORT,
    .reset_value = 6,
};

static void test_q35_iasl(void)
{
    struct acpi_build_params p = {.pci = &q35_pci,
                                  .pm = &q35_pm,
                                  .base = ACPI_TABLES_ADDR,
                                  .nr_cpus = 2,
                                  .has_i8042 = true};

    run_iasl(&p, "q35");
}

/* q35: FADT with the PM block and FACS, MCFG, PCI0 in the DSDT, no GED. */
static void test_q35_structure(void)
{
    struct acpi_build_params p = {.pci = &q35_pci,
                                  .pm = &q35_pm,
                                  .base = ACPI_TABLES_ADDR,
                                  .nr_cpus = 4,
                                  .has_i8042 = true};
    struct acpi_pci_desc bad = q35_pci;
    struct acpi_tables t;
    const uint8_t *x, *f, *mc, *d;
    uint32_t len, xlen;
    Error *err = NULL;

    g_assert_true(acpi_build_tables(&p, &t, NULL));
    g_assert_cmpuint(t.blob->len, <=, ACPI_TABLES_MAX);
    x = table(&t, t.xsdt, "XSDT", &xlen);
    g_assert_cmpuint(xlen, ==, 36 + 24);
    g_assert_cmphex(ld_le64(x + 52), ==, t.mcfg);
    mc = table(&t, t.mcfg, "MCFG", &len);
    g_assert_cmpuint(len, ==, 36 + 8 + 16);
    g_assert_cmphex(ld_le64(mc + 44), ==, Q35_ECAM_BASE);
    g_assert_cmpuint(ld_le16(mc + 52), ==, 0); /* segment */
    g_assert_cmpuint(mc[54], ==, 0);
    g_assert_cmpuint(mc[55], ==, 255);

    f = table(&t, t.fadt, "FACP", &len);
    g_assert_false(ld_le32(f + 112) & (1u << 20)); /* not HW-reduced */
    g_assert_false(ld_le32(f + 112) & (1u << 4));  /* fixed power button */
    g_assert_true(ld_le32(f + 112) & (1u << 10));  /* RESET_REG_SUP */
    g_assert_cmpuint(ld_le16(f + 46), ==, ICH9_SCI_IRQ);
    g_assert_cmphex(ld_le32(f + 56), ==, ICH9_PMBASE_DEFAULT);
    g_assert_cmphex(ld_le32(f + 64), ==, ICH9_PMBASE_DEFAULT + ICH9_PM1_CNT);
    g_assert_cmphex(ld_le32(f + 76), ==, ICH9_PMBASE_DEFAULT + ICH9_PM1_TMR);
    g_assert_cmphex(ld_le32(f + 80), ==, ICH9_PMBASE_DEFAULT + ICH9_GPE0_STS);
    g_assert_cmpuint(f[88], ==, 4);
    g_assert_cmpuint(f[89], ==, 2);
    g_assert_cmpuint(f[91], ==, 4);
    g_assert_cmphex(ld_le64(f + 120), ==, Q35_RCR_PORT);
    g_assert_cmphex(ld_le64(f + 152), ==, ICH9_PMBASE_DEFAULT);
    g_assert_cmphex(ld_le32(f + 36), ==, t.facs);
    g_assert_cmpuint(t.facs % 64, ==, 0);
    g_assert_cmpmem(t.blob->data + (t.facs - t.rsdp), 4, "FACS", 4);
    g_assert_cmpuint(ld_le32(t.blob->data + (t.facs - t.rsdp) + 4), ==, 64);

    d = table(&t, t.dsdt, "DSDT", &len);
    g_assert_nonnull(memmem(d, len, "PCI0", 4));
    g_assert_nonnull(memmem(d, len, "_PRT", 4));
    g_assert_nonnull(memmem(d, len, "LNKD", 4));
    g_assert_nonnull(memmem(d, len, "PDRC", 4));
    g_assert_null(memmem(d, len, "ACPI0013", 8)); /* no GED */
    acpi_tables_clear(&t);

    bad.ecam_size = 3 * MiB / 2;
    p.pci = &bad;
    g_assert_false(acpi_build_tables(&p, &t, &err));
    g_assert_nonnull(err);
    g_clear_pointer(&err, error_free);
    bad = q35_pci;
    bad.nr_pirq = 0;
    g_assert_false(acpi_build_tables(&p, &t, &err));
    g_clear_pointer(&err, error_free);
}

/* virtio-mmio transports: LNRO0005 devices with their window and GSI */
static void test_virtio_mmio(void)
{
    static const uint64_t base[] = {0xfeb00000, 0xfeb00200};
    static const unsigned gsi[] = {16, 17};
    struct acpi_build_params p = {.base = ACPI_TABLES_ADDR,
                                  .nr_cpus = 1,
                                  .nr_virtio_mmio = 2,
                                  .virtio_mmio_base = base,
                                  .virtio_mmio_gsi = gsi};
    /* Memory32Fixed(ReadWrite, 0xfeb00200, 0x200) */
    static const uint8_t mem[] = {0x86, 9,    0,    1,    0x00, 0x02,
                                  0xb0, 0xfe, 0x00, 0x02, 0,    0};
    /* Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive) {17} */
    static const uint8_t irq[] = {0x89, 6, 0, 1, 1, 17, 0, 0, 0};
    struct acpi_tables t;
    const uint8_t *d;
    uint32_t len;

    g_assert_true(acpi_build_tables(&p, &t, NULL));
    d = table(&t, t.dsdt, "DSDT", &len);
    g_assert_null(memmem(d, len, "KBD_", 4)); /* no has_i8042 */
    g_assert_nonnull(memmem(d, len, "VR00", 4));
    g_assert_nonnull(memmem(d, len, "VR01", 4));
    g_assert_null(memmem(d, len, "VR02", 4));
    g_assert_nonnull(memmem(d, len, "LNRO0005", 8));
    g_assert_nonnull(memmem(d, len, mem, sizeof(mem)));
    g_assert_nonnull(memmem(d, len, irq, sizeof(irq)));
    acpi_tables_clear(&t);
    /* none without devices */
    build(1, &t);
    d = table(&t, t.dsdt, "DSDT", &len);
    g_assert_null(memmem(d, len, "LNRO0005", 8));
    acpi_tables_clear(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi/structure", test_structure);
    g_test_add_func("/acpi/virtio-mmio", test_virtio_mmio);
    g_test_add_func("/acpi/bad-params", test_bad_params);
    g_test_add_func("/acpi/iasl", test_iasl);
    g_test_add_func("/acpi/q35-structure", test_q35_structure);
    g_test_add_func("/acpi/q35-iasl", test_q35_iasl);
    return g_test_run();
}
