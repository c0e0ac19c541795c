/* SPDX-License-Identifier: MIT */
/*
 * sev-known.h: the acceptance answers of issue 12, shared by the measure
 * and fake-platform tests: launch digests computed by the community
 * sev-snp-measure tool (QEMU defaults, vCPU EPYC-v4, signature 0x800f12)
 * for Debian 12's /usr/share/OVMF/OVMF_CODE.fd (ovmf 2022.11-6+deb12u2).
 * Tests skip, saying why, when that exact file is not installed.
 */
#ifndef TESTS_UNIT_SEV_KNOWN_H
#define TESTS_UNIT_SEV_KNOWN_H

#include "util/common.h"
#include "sev/measure.h"

#define SEV_KNOWN_OVMF "/usr/share/OVMF/OVMF_CODE.fd"
#define SEV_KNOWN_OVMF_SHA256                                                  \
    "d9b568def24088c92f34b5479e0ed7e44d0a4d4cea8a0f5716719180bba48106"
#define SEV_KNOWN_SIG 0x800f12u

struct sev_known {
    const char *name;
    enum sev_mode mode;
    unsigned vcpus;
    const char *digest;
};

static const struct sev_known sev_known[] = {
    {"sev", SEV_MODE_SEV, 1,
     "d9b568def24088c92f34b5479e0ed7e44d0a4d4cea8a0f5716719180bba48106"},
    {"sev-es-1", SEV_MODE_ES, 1,
     "4c55bc8b9c7804ec80940258127e2aae37f818436a54c55cebe89542bd6dc63f"},
    {"sev-es-2", SEV_MODE_ES, 2,
     "02a0c4a5a76ee32cd799d5a26ffb2f2aff33fb3cc5d494e59b96b7e182add13f"},
    {"snp-1", SEV_MODE_SNP, 1,
     "a479327cbb0b50e876024c2dac7412d4e5e95c7315c1f8b0446f6d3be69fefba"
     "50766285475926737e4a70b155252f88"},
    {"snp-2", SEV_MODE_SNP, 2,
     "0d3d4c4fbdd21581bb6f16903c06d29c40d021902ffffab0d6d6b71f76229401"
     "f432b6d29e9de6d982851c6f9ebe1cbf"},
};
#define SEV_KNOWN_COUNT (sizeof(sev_known) / sizeof(sev_known[0]))

/* GUIDs (EFI byte order) for firmware images built by tests: the footer
 * table's own entry and the SEV-ES reset block. */
static const uint8_t sev_test_guid_footer[16] = {
    0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
    0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
static const uint8_t sev_test_guid_reset[16] = {
    0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f,
    0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e};

/* ---- firmware images built by tests: a footer table grown down from
 * the end, with entries and an SEV metadata block ---- */
#define SEV_TEST_FW_SIZE (64 * 1024)

struct fw_builder {
    uint8_t *img;
    size_t pos; /* table grows down from here */
};

/* 4c2eb361-7d9b-4cc3-8081-127c90d3d294: OVMF's launch secret area */
static const uint8_t sev_test_guid_secret[16] = {
    0x61, 0xb3, 0x2e, 0x4c, 0x9b, 0x7d, 0xc3, 0x4c,
    0x80, 0x81, 0x12, 0x7c, 0x90, 0xd3, 0xd2, 0x94};

static const uint8_t sev_test_guid_meta[16] = {
    0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47,
    0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc};

static inline void fw_init(struct fw_builder *b)
{
    b->img = g_malloc0(SEV_TEST_FW_SIZE);
    b->pos = SEV_TEST_FW_SIZE - 32 - 18;
}

static inline void fw_entry(struct fw_builder *b, const uint8_t guid[16],
                            const void *payload, uint16_t plen)
{
    uint16_t size = plen + 18;

    b->pos -= size;
    memcpy(b->img + b->pos, payload, plen);
    memcpy(b->img + b->pos + plen, &size, 2);
    memcpy(b->img + b->pos + plen + 2, guid, 16);
}

static inline void fw_finish(struct fw_builder *b)
{
    uint16_t total = SEV_TEST_FW_SIZE - 32 - b->pos;
    uint8_t *foot = b->img + SEV_TEST_FW_SIZE - 32 - 18;

    memcpy(foot, &total, 2);
    memcpy(foot + 2, sev_test_guid_footer, 16);
}

/* Metadata block at `off` from the end, with n sections. */
static inline void fw_metadata(struct fw_builder *b, uint32_t off,
                               const uint32_t (*sec)[3], uint32_t n)
{
    uint8_t *h = b->img + SEV_TEST_FW_SIZE - off;
    uint32_t len = 16 + 12 * n, ver = 1;

    memcpy(h, "ASEV", 4);
    memcpy(h + 4, &len, 4);
    memcpy(h + 8, &ver, 4);
    memcpy(h + 12, &n, 4);
    memcpy(h + 16, sec, 12 * n);
    fw_entry(b, sev_test_guid_meta, &off, 4);
}

/* Loads the reference OVMF; false with *why set when it is absent or not
 * the expected build. */
static inline bool sev_known_load_ovmf(uint8_t **data, gsize *size, char **why)
{
    gchar *buf = NULL;
    gchar *sum;
    bool ok;

    if (!g_file_get_contents(SEV_KNOWN_OVMF, &buf, size, NULL)) {
        *why = g_strdup(SEV_KNOWN_OVMF " not installed (apt-get install "
                                       "ovmf)");
        return false;
    }
    sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)buf, *size);
    ok = !strcmp(sum, SEV_KNOWN_OVMF_SHA256);
    if (!ok) {
        *why = g_strdup_printf(SEV_KNOWN_OVMF " has sha256 %s, not the "
                                              "Debian 12 build the known "
                                              "answers are for",
                               sum);
        g_free(buf);
        buf = NULL;
    }
    g_free(sum);
    *data = (uint8_t *)buf;
    return ok;
}

#endif
