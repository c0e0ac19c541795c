/* SPDX-License-Identifier: MIT */
/*
 * fuzz-sev.c: the firmware footer-table and SEV metadata parser and the
 * launch-digest computation (sev/measure.c) on arbitrary firmware tails,
 * and the sev-guest / sev-snp-guest property parser (sev/sev-config.c) on
 * arbitrary -object strings.  The input forms the end of a page-aligned
 * image (where the footer table lives), in a buffer of exactly that size.
 */
#include "util/common.h"
#include "sev/measure.h"
#include "sev/sev-config.h"
#include "util/keyval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void measure_all(const struct sev_ovmf *o)
{
    static const enum sev_mode modes[] = {SEV_MODE_SEV, SEV_MODE_ES,
                                          SEV_MODE_SNP};
    uint8_t d[SEV_DIGEST_MAX];
    size_t len;

    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        struct sev_measure_params p = {.mode = modes[i], .nr_vcpus = 2};
        Error *err = NULL;

        if (sev_measure_launch(o, &p, d, &len, &err)) {
            g_assert(len == (modes[i] == SEV_MODE_SNP ? 48 : 32));
        } else {
            g_assert(err);
            error_free(err);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t img = ALIGN_UP(MAX(size, (size_t)1), (size_t)SEV_PAGE_SIZE);
    uint8_t *buf;
    struct sev_ovmf o;
    Error *err = NULL;

    if (size > 64 * 1024) {
        return 0;
    }
    buf = g_malloc0(img);
    memcpy(buf + img - size, data, size);
    if (sev_ovmf_parse(buf, img, &o, &err)) {
        for (unsigned i = 0; i < o.nr_sections; i++) {
            g_assert((uint64_t)o.sections[i].gpa + o.sections[i].size <=
                     SEV_FW_END);
        }
        measure_all(&o);
    } else {
        g_assert(err);
        error_free(err);
        err = NULL;
    }
    g_free(buf);

    /* The same bytes as an -object option string. */
    {
        g_autofree char *text = g_strndup((const char *)data, size);
        struct keyval *kv = keyval_parse(text, "qom-type", NULL);
        struct sev_config c;

        if (kv) {
            const char *t = keyval_get(kv, "qom-type");

            if (sev_object_type(t)) {
                if (sev_config_parse(t, kv, &c, &err)) {
                    g_assert(c.id);
                    sev_config_free(&c);
                } else {
                    g_assert(err);
                    error_free(err);
                }
            }
            keyval_free(kv);
        }
    }
    return 0;
}
