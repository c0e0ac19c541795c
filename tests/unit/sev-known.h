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
