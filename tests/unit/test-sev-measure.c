/* SPDX-License-Identifier: MIT */
/*
 * test-sev-measure.c: launch digests (sev/measure.c) against the known
 * answers of the community sev-snp-measure tool for Debian 12's OVMF
 * (ovmf 2022.11-6+deb12u2), and the footer-table parser against firmware
 * images built here, including hostile ones.
 */
#include "util/common.h"
#include "sev/measure.h"
#include "tests/unit/sev-known.h"

static char *hex(const uint8_t *d, size_t n)
{
    GString *s = g_string_new(NULL);

    for (size_t i = 0; i < n; i++) {
        g_string_append_printf(s, "%02x", d[i]);
    }
    return g_string_free(s, FALSE);
}

static void measure_ovmf(const struct sev_known *k)
{
    g_autofree uint8_t *fw = NULL;
    g_autofree char *got = NULL;
    g_autofree char *why = NULL;
    struct sev_ovmf o;
    uint8_t d[SEV_DIGEST_MAX];
    size_t dlen = 0;
    gsize size;
    Error *err = NULL;
    struct sev_measure_params p = {
        .mode = k->mode,
        .nr_vcpus = k->vcpus,
        .vcpu_sig = SEV_KNOWN_SIG,
        .sev_features = k->mode == SEV_MODE_SNP ? SEV_FEAT_SNP_ACTIVE : 0,
    };

    if (!sev_known_load_ovmf(&fw, &size, &why)) {
        g_test_skip(why);
        return;
    }
    g_assert_true(sev_ovmf_parse(fw, size, &o, &err));
    g_assert_null(err);
    g_assert_true(sev_measure_launch(&o, &p, d, &dlen, &err));
    g_assert_null(err);
    got = hex(d, dlen);
    g_assert_cmpstr(got, ==, k->digest);
}

static void test_known(gconstpointer data)
{
    measure_ovmf(data);
}

/* What Debian's OVMF declares: reset block, metadata with five sections,
 * a zero kernel-hashes gpa (not supported). */
static void test_ovmf_table(void)
{
    g_autofree uint8_t *fw = NULL;
    g_autofree char *why = NULL;
    struct sev_ovmf o;
    gsize size;
    Error *err = NULL;

    if (!sev_known_load_ovmf(&fw, &size, &why)) {
        g_test_skip(why);
        return;
    }
    g_assert_true(sev_ovmf_parse(fw, size, &o, &err));
    g_assert_true(o.has_reset_block);
    g_assert_cmphex(o.reset_eip, ==, 0x80b004);
    g_assert_true(o.has_metadata);
    g_assert_cmpuint(o.nr_sections, ==, 5);
    g_assert_cmphex(o.sections[2].gpa, ==, 0x80d000);
    g_assert_cmpuint(o.sections[2].type, ==, SEV_OVMF_SECRETS);
    g_assert_false(o.has_hashes_table);
    g_assert_false(sev_ovmf_check(&o, SEV_MODE_ES, true, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "kernel hashes table"));
    error_free(err);
}

/* ---- synthetic images ---------------------------------------------- */

#define FW_SIZE SEV_TEST_FW_SIZE
#define g_reset sev_test_guid_reset

static const uint32_t good_secs[][3] = {
    {0x800000, 0x2000, SEV_OVMF_SEC_MEM},
    {0x802000, 0x1000, SEV_OVMF_SECRETS},
    {0x803000, 0x1000, SEV_OVMF_CPUID},
};

static bool parse(struct fw_builder *b, struct sev_ovmf *o, char **msg)
{
    Error *err = NULL;
    bool ok = sev_ovmf_parse(b->img, FW_SIZE, o, &err);

    *msg = err ? g_strdup(error_get_pretty(err)) : NULL;
    if (err) {
        error_free(err);
    }
    return ok;
}

static void test_synthetic_good(void)
{
    struct fw_builder b;
    struct sev_ovmf o;
    uint32_t eip = 0xfffff004;
    g_autofree char *msg = NULL;
    uint8_t d1[SEV_DIGEST_MAX], d2[SEV_DIGEST_MAX];
    size_t l1, l2;
    struct sev_measure_params p = {
        .mode = SEV_MODE_SNP, .nr_vcpus = 2, .sev_features = 1};

    uint32_t secret[2] = {0x80d000, 0x1000};

    fw_init(&b);
    fw_entry(&b, g_reset, &eip, 4);
    fw_entry(&b, sev_test_guid_secret, secret, 8);
    fw_metadata(&b, 0x1000, good_secs, 3);
    fw_finish(&b);
    g_assert_true(parse(&b, &o, &msg));
    g_assert_true(o.has_reset_block && o.has_metadata);
    g_assert_true(o.has_secret_area);
    g_assert_cmphex(o.secret_gpa, ==, 0x80d000);
    g_assert_cmphex(o.secret_size, ==, 0x1000);
    g_assert_cmphex(o.reset_eip, ==, eip);
    g_assert_cmpuint(o.nr_sections, ==, 3);
    g_assert_cmphex(o.gpa, ==, SEV_FW_END - FW_SIZE);
    g_assert_true(sev_measure_launch(&o, &p, d1, &l1, NULL));
    g_assert_cmpuint(l1, ==, 48);
    /* One byte of firmware changes the digest; so does the vCPU count. */
    b.img[100] ^= 1;
    g_assert_true(sev_measure_launch(&o, &p, d2, &l2, NULL));
    g_assert_cmpmem(d1, 48, d1, 48);
    g_assert_true(memcmp(d1, d2, 48) != 0);
    b.img[100] ^= 1;
    p.nr_vcpus = 1;
    g_assert_true(sev_measure_launch(&o, &p, d2, &l2, NULL));
    g_assert_true(memcmp(d1, d2, 48) != 0);
    p.nr_vcpus = 0;
    g_assert_false(sev_measure_launch(&o, &p, d2, &l2, NULL));
    g_free(b.img);
}

static void expect_refused(struct fw_builder *b, const char *needle)
{
    struct sev_ovmf o;
    g_autofree char *msg = NULL;

    g_assert_false(parse(b, &o, &msg));
    if (!strstr(msg, needle)) {
        g_error("message '%s' lacks '%s'", msg, needle);
    }
    g_free(b->img);
}

static void test_synthetic_bad(void)
{
    struct fw_builder b;
    uint32_t eip = 0xfffff004;
    uint16_t big = 0xfff0;
    uint32_t bad_secs[][3] = {{0x800100, 0x1000, SEV_OVMF_SEC_MEM}};
    uint32_t bad_type[][3] = {{0x800000, 0x1000, 0x77}};
    uint32_t wrap[][3] = {{0xfffff000, 0x2000, SEV_OVMF_SEC_MEM}};

    /* footer table size larger than the image */
    fw_init(&b);
    fw_finish(&b);
    memcpy(b.img + FW_SIZE - 50, &big, 2);
    expect_refused(&b, "footer table size");

    /* an entry whose size runs past the table */
    fw_init(&b);
    fw_entry(&b, g_reset, &eip, 4);
    fw_finish(&b);
    memcpy(b.img + FW_SIZE - 50 - 18, &big, 2);
    expect_refused(&b, "footer table entry");

    /* an entry smaller than its own header */
    fw_init(&b);
    fw_entry(&b, g_reset, &eip, 4);
    fw_finish(&b);
    big = 3;
    memcpy(b.img + FW_SIZE - 50 - 18, &big, 2);
    expect_refused(&b, "footer table entry");

    /* truncated secret area entry */
    fw_init(&b);
    fw_entry(&b, sev_test_guid_secret, &eip, 4);
    fw_finish(&b);
    expect_refused(&b, "secret area entry");

    /* truncated reset block */
    fw_init(&b);
    fw_entry(&b, g_reset, &eip, 2);
    fw_finish(&b);
    expect_refused(&b, "reset block");

    /* metadata offset beyond the image */
    fw_init(&b);
    {
        uint32_t off = FW_SIZE + 16;
        fw_entry(&b, sev_test_guid_meta, &off, 4);
    }
    fw_finish(&b);
    expect_refused(&b, "outside");

    /* metadata signature */
    fw_init(&b);
    fw_metadata(&b, 0x1000, good_secs, 3);
    fw_finish(&b);
    b.img[FW_SIZE - 0x1000] = 'X';
    expect_refused(&b, "ASEV");

    /* section count larger than the block */
    fw_init(&b);
    fw_metadata(&b, 0x1000, good_secs, 3);
    fw_finish(&b);
    {
        uint32_t n = 1000;
        memcpy(b.img + FW_SIZE - 0x1000 + 12, &n, 4);
    }
    expect_refused(&b, "sections");

    /* metadata running past the end of the image */
    fw_init(&b);
    fw_metadata(&b, 0x1000, good_secs, 3);
    fw_finish(&b);
    {
        uint32_t len = 0x1001;
        memcpy(b.img + FW_SIZE - 0x1000 + 4, &len, 4);
    }
    expect_refused(&b, "runs past");

    fw_init(&b);
    fw_metadata(&b, 0x1000, (const uint32_t(*)[3])bad_secs, 1);
    fw_finish(&b);
    expect_refused(&b, "page-aligned");

    fw_init(&b);
    fw_metadata(&b, 0x1000, (const uint32_t(*)[3])wrap, 1);
    fw_finish(&b);
    expect_refused(&b, "below 4 GiB");

    fw_init(&b);
    fw_metadata(&b, 0x1000, (const uint32_t(*)[3])bad_type, 1);
    fw_finish(&b);
    expect_refused(&b, "unknown type 0x77");
}

/* A firmware without what a mode needs is refused by name. */
static void test_missing_for_mode(void)
{
    struct fw_builder b;
    struct sev_ovmf o;
    uint32_t eip = 0xfffff004;
    g_autofree char *msg = NULL;
    Error *err = NULL;
    uint8_t d[SEV_DIGEST_MAX];
    size_t l;
    struct sev_measure_params p = {.mode = SEV_MODE_SEV, .nr_vcpus = 1};

    /* no table at all: fine for SEV, refused for SEV-ES */
    fw_init(&b);
    g_assert_true(parse(&b, &o, &msg));
    g_assert_false(o.has_table);
    g_assert_true(sev_measure_launch(&o, &p, d, &l, NULL));
    g_assert_cmpuint(l, ==, 32);
    p.mode = SEV_MODE_ES;
    g_assert_false(sev_measure_launch(&o, &p, d, &l, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "SEV-ES reset block"));
    error_free(err);
    err = NULL;
    g_free(b.img);

    /* reset block but no metadata: SEV-ES fine, SNP refused */
    fw_init(&b);
    fw_entry(&b, g_reset, &eip, 4);
    fw_finish(&b);
    g_assert_true(parse(&b, &o, &msg));
    g_assert_true(sev_ovmf_check(&o, SEV_MODE_ES, false, NULL));
    g_assert_false(sev_ovmf_check(&o, SEV_MODE_SNP, false, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "SEV metadata"));
    error_free(err);
    g_free(b.img);

    /* sizes */
    g_assert_false(sev_ovmf_parse((const uint8_t *)"x", 1, &o, NULL));
}

static void test_vmsa_layout(void)
{
    uint8_t v[SEV_VMSA_SIZE];
    uint64_t q;
    uint16_t w;

    sev_vmsa_build(v, 0x80b004, 1, 0x800f12);
    memcpy(&w, v + 16, 2); /* cs.selector */
    g_assert_cmphex(w, ==, 0xf000);
    memcpy(&q, v + 16 + 8, 8); /* cs.base */
    g_assert_cmphex(q, ==, 0x800000);
    memcpy(&q, v + 0x178, 8); /* rip */
    g_assert_cmphex(q, ==, 0xb004);
    memcpy(&q, v + 0x310, 8); /* rdx */
    g_assert_cmphex(q, ==, 0x800f12);
    memcpy(&q, v + 0x3b0, 8); /* sev_features */
    g_assert_cmphex(q, ==, 1);
}

static void test_hashes_table(void)
{
    uint8_t t[SEV_HASHES_TABLE_LEN];
    uint16_t len;
    Error *err = NULL;

    g_assert_false(sev_hashes_table_build(NULL, 0, NULL, 0, NULL, t, &err));
    error_free(err);
    g_assert_true(sev_hashes_table_build((const uint8_t *)"k", 1, NULL, 0,
                                         "console=ttyS0", t, NULL));
    memcpy(&len, t + 16, 2);
    g_assert_cmpuint(len, ==, 168);
    memcpy(&len, t + 18 + 16, 2);
    g_assert_cmpuint(len, ==, 50);
    for (unsigned i = 168; i < sizeof(t); i++) {
        g_assert_cmpuint(t[i], ==, 0);
    }
}

static void test_cpu_signature(void)
{
    uint32_t sig = 0;
    Error *err = NULL;

    g_assert_true(sev_cpu_signature("EPYC-v4", &sig, NULL));
    g_assert_cmphex(sig, ==, 0x800f12);
    g_assert_true(sev_cpu_signature("EPYC-Milan,+x2apic", &sig, NULL));
    g_assert_cmphex(sig, ==, 0xa00f11);
    g_assert_false(sev_cpu_signature("host", &sig, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "-cpu host"));
    error_free(err);
    g_assert_false(sev_cpu_signature("EPYC-vx", &sig, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < SEV_KNOWN_COUNT; i++) {
        g_autofree char *name =
            g_strdup_printf("/sev-measure/known/%s", sev_known[i].name);
        g_test_add_data_func(name, &sev_known[i], test_known);
    }
    g_test_add_func("/sev-measure/ovmf-table", test_ovmf_table);
    g_test_add_func("/sev-measure/synthetic-good", test_synthetic_good);
    g_test_add_func("/sev-measure/synthetic-bad", test_synthetic_bad);
    g_test_add_func("/sev-measure/missing-for-mode", test_missing_for_mode);
    g_test_add_func("/sev-measure/vmsa-layout", test_vmsa_layout);
    g_test_add_func("/sev-measure/hashes-table", test_hashes_table);
    g_test_add_func("/sev-measure/cpu-signature", test_cpu_signature);
    return g_test_run();
}
