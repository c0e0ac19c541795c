/* SPDX-License-Identifier: MIT */
/*
 * sev-config.c: the properties of QEMU's sev-guest (7.2) and sev-snp-guest
 * (9.1) objects, parsed into struct sev_config with one precise error per
 * bad value, and `-measure-launch`, which feeds the firmware, vCPU count,
 * CPU model and policy of a command line to sev/measure.c.  The SNP blobs
 * (id-block, id-auth, host-data, guest-visible-workarounds) are base64 of
 * the exact sizes of SNP ABI spec 8.17 (SNP_LAUNCH_FINISH).
 */
#include "util/common.h"
#include "sev/sev-config.h"
#include "system/machine.h"
#include "util/keyval.h"

bool sev_object_type(const char *type)
{
    return type &&
           (!strcmp(type, "sev-guest") || !strcmp(type, "sev-snp-guest"));
}

static bool get_u32(struct keyval *kv, const char *type, const char *key,
                    bool *has, uint32_t *out, Error **errp)
{
    const char *v = keyval_get(kv, key);
    uint64_t n;

    if (!v) {
        return true;
    }
    if (!parse_u64(v, &n) || n > UINT32_MAX) {
        error_setg(errp, "%s: Parameter '%s' expects uint32_t, got '%s'", type,
                   key, v);
        return false;
    }
    *out = n;
    if (has) {
        *has = true;
    }
    return true;
}

static bool get_bool(struct keyval *kv, const char *type, const char *key,
                     bool *out, Error **errp)
{
    const char *v = keyval_get(kv, key);

    if (v && !parse_bool(v, out)) {
        error_setg(errp, "%s: Parameter '%s' expects 'on' or 'off', got '%s'",
                   type, key, v);
        return false;
    }
    return true;
}

/* Strict base64: the alphabet, '=' padding only at the end, and exactly
 * `want` bytes once decoded. */
static bool get_b64(struct keyval *kv, const char *type, const char *key,
                    bool *has, uint8_t *out, size_t want, Error **errp)
{
    const char *v = keyval_get(kv, key);
    size_t len, pad = 0;
    g_autofree guchar *raw = NULL;
    gsize got = 0;

    if (!v) {
        return true;
    }
    len = strlen(v);
    while (pad < len && v[len - 1 - pad] == '=') {
        pad++;
    }
    if (len % 4 || pad > 2 ||
        strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789+/") != len - pad) {
        error_setg(errp, "%s: Parameter '%s' is not valid base64", type, key);
        return false;
    }
    raw = g_base64_decode(v, &got);
    if (got != want) {
        error_setg(errp, "%s: Parameter '%s' decodes to %zu bytes, must be %zu",
                   type, key, (size_t)got, want);
        return false;
    }
    memcpy(out, raw, want);
    *has = true;
    return true;
}

static bool check_id(const char *type, const char *id, Error **errp)
{
    if (!id) {
        error_setg(errp, "%s: Parameter 'id' is missing", type);
        return false;
    }
    /* QEMU's id_wellformed(): a letter, then letters, digits, - . _ */
    if (!g_ascii_isalpha(id[0]) ||
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789-._") != strlen(id)) {
        error_setg(errp,
                   "%s: Parameter 'id' expects an identifier (a letter, "
                   "then letters, digits, '-', '.', '_'), got '%s'",
                   type, id);
        return false;
    }
    return true;
}

static bool parse_common(const char *type, struct keyval *kv,
                         struct sev_config *c, Error **errp)
{
    const char *id = keyval_get(kv, "id");
    const char *v;

    if (!check_id(type, id, errp)) {
        return false;
    }
    c->id = g_strdup(id);
    if (!get_u32(kv, type, "cbitpos", &c->has_cbitpos, &c->cbitpos, errp) ||
        !get_u32(kv, type, "reduced-phys-bits", &c->has_reduced_phys_bits,
                 &c->reduced_phys_bits, errp) ||
        !get_bool(kv, type, "kernel-hashes", &c->kernel_hashes, errp)) {
        return false;
    }
    /* The C-bit is a physical-address bit above 4 GiB (CPUID 0x8000001F
     * EBX[5:0] reports 47 or 51 on parts so far). */
    if (c->has_cbitpos && (c->cbitpos < 32 || c->cbitpos > 63)) {
        error_setg(errp,
                   "%s: cbitpos %u is not a physical-address bit "
                   "(32..63)",
                   type, c->cbitpos);
        return false;
    }
    if (c->has_reduced_phys_bits &&
        (c->reduced_phys_bits < 1 || c->reduced_phys_bits > 63)) {
        error_setg(errp,
                   "%s: reduced-phys-bits %u: it should be >= 1 (and "
                   "below 64)",
                   type, c->reduced_phys_bits);
        return false;
    }
    v = keyval_get(kv, "policy");
    if (v && !parse_u64(v, &c->policy)) {
        error_setg(errp, "%s: Parameter 'policy' expects %s, got '%s'", type,
                   c->snp ? "uint64_t" : "uint32_t", v);
        return false;
    }
    return true;
}

bool sev_config_parse(const char *type, struct keyval *kv, struct sev_config *c,
                      Error **errp)
{
    memset(c, 0, sizeof(*c));
    c->snp = !strcmp(type, "sev-snp-guest");
    if (!c->snp && strcmp(type, "sev-guest") != 0) {
        error_setg(errp, "'%s' is not an SEV object type", type);
        return false;
    }
    c->policy = c->snp ? SEV_SNP_DEFAULT_POLICY : SEV_POLICY_NODBG;
    if (!parse_common(type, kv, c, errp)) {
        goto fail;
    }
    if (!c->snp) {
        if (c->policy > UINT32_MAX) {
            error_setg(errp,
                       "sev-guest: Parameter 'policy' expects uint32_t, got "
                       "0x%" PRIx64,
                       c->policy);
            goto fail;
        }
        c->mode = c->policy & SEV_POLICY_ES ? SEV_MODE_ES : SEV_MODE_SEV;
        c->dh_cert_file = g_strdup(keyval_get(kv, "dh-cert-file"));
        c->session_file = g_strdup(keyval_get(kv, "session-file"));
        if (!get_u32(kv, type, "handle", NULL, &c->handle, errp)) {
            goto fail;
        }
        return true;
    }
    c->mode = SEV_MODE_SNP;
    if (!(c->policy & SEV_SNP_POLICY_MBO)) {
        error_setg(errp,
                   "sev-snp-guest: policy 0x%" PRIx64 " has bit 17 clear "
                   "(reserved, must be one)",
                   c->policy);
        goto fail;
    }
    if (c->policy & SEV_SNP_POLICY_RSVD_MASK) {
        error_setg(errp,
                   "sev-snp-guest: policy 0x%" PRIx64 " sets reserved bits "
                   "(63:25 must be zero)",
                   c->policy);
        goto fail;
    }
    c->id_auth = g_malloc0(SEV_SNP_ID_AUTH_SIZE);
    if (!get_b64(kv, type, "guest-visible-workarounds", &c->has_gvw, c->gvw,
                 SEV_SNP_GVW_SIZE, errp) ||
        !get_b64(kv, type, "id-block", &c->has_id_block, c->id_block,
                 SEV_SNP_ID_BLOCK_SIZE, errp) ||
        !get_b64(kv, type, "id-auth", &c->has_id_auth, c->id_auth,
                 SEV_SNP_ID_AUTH_SIZE, errp) ||
        !get_b64(kv, type, "host-data", &c->has_host_data, c->host_data,
                 SEV_SNP_HOST_DATA_SIZE, errp) ||
        !get_bool(kv, type, "author-key-enabled", &c->author_key_enabled,
                  errp)) {
        goto fail;
    }
    if (c->has_id_auth != c->has_id_block) {
        error_setg(errp, "sev-snp-guest: id-block and id-auth go together "
                         "(SNP_LAUNCH_FINISH checks one with the other)");
        goto fail;
    }
    if (c->author_key_enabled && !c->has_id_auth) {
        error_setg(errp, "sev-snp-guest: author-key-enabled=on needs id-auth");
        goto fail;
    }
    return true;
fail:
    sev_config_free(c);
    return false;
}

void sev_config_free(struct sev_config *c)
{
    g_free(c->id);
    g_free(c->dh_cert_file);
    g_free(c->session_file);
    g_free(c->id_auth);
    memset(c, 0, sizeof(*c));
}

bool sev_config_check_ref(const struct sev_config *c, const char *key,
                          const char *id, Error **errp)
{
    if (!c || strcmp(c->id, id) != 0) {
        error_setg(errp,
                   "-machine %s=%s: no sev-guest or sev-snp-guest object "
                   "with that id",
                   key, id);
        return false;
    }
    return true;
}

static bool load(const char *what, const char *path, gchar **buf, gsize *len,
                 Error **errp)
{
    GError *ge = NULL;

    if (!g_file_get_contents(path, buf, len, &ge)) {
        error_setg(errp, "-measure-launch: cannot read %s: %s", what,
                   ge->message);
        g_error_free(ge);
        return false;
    }
    return true;
}

char *sev_measure_for_config(const struct machine_config *mc, Error **errp)
{
    const struct sev_config *c = mc->sev;
    g_autofree gchar *fw = NULL, *kernel = NULL, *initrd = NULL;
    gsize fw_len = 0, kernel_len = 0, initrd_len = 0;
    uint8_t table[SEV_HASHES_TABLE_LEN];
    uint8_t d[SEV_DIGEST_MAX];
    size_t dlen = 0;
    struct sev_ovmf o;
    struct sev_measure_params p = {0};
    GString *s;

    if (!c) {
        error_setg(errp, "-measure-launch needs -object sev-guest or "
                         "-object sev-snp-guest");
        return NULL;
    }
    if (!mc->bios) {
        error_setg(errp, "-measure-launch needs -bios (an OVMF image built "
                         "for SEV)");
        return NULL;
    }
    p.mode = c->mode;
    p.nr_vcpus = mc->smp_cpus;
    p.sev_features = c->mode == SEV_MODE_SNP ? SEV_FEAT_SNP_ACTIVE : 0;
    if (c->mode != SEV_MODE_SEV &&
        !sev_cpu_signature(mc->cpu_model ? mc->cpu_model : "qemu64",
                           &p.vcpu_sig, errp)) {
        error_prepend(errp, "-measure-launch: ");
        return NULL;
    }
    if (!load("the firmware", mc->bios, &fw, &fw_len, errp)) {
        return NULL;
    }
    if (!sev_ovmf_parse((const uint8_t *)fw, fw_len, &o, errp)) {
        error_prepend(errp, "-bios %s: ", mc->bios);
        return NULL;
    }
    if (c->kernel_hashes && mc->kernel) {
        if (!load("the kernel", mc->kernel, &kernel, &kernel_len, errp) ||
            (mc->initrd &&
             !load("the initrd", mc->initrd, &initrd, &initrd_len, errp)) ||
            !sev_hashes_table_build((const uint8_t *)kernel, kernel_len,
                                    (const uint8_t *)initrd, initrd_len,
                                    mc->append, table, errp)) {
            return NULL;
        }
        p.hashes_table = table;
    }
    if (!sev_measure_launch(&o, &p, d, &dlen, errp)) {
        error_prepend(errp, "-bios %s: ", mc->bios);
        return NULL;
    }
    s = g_string_new(NULL);
    for (size_t i = 0; i < dlen; i++) {
        g_string_append_printf(s, "%02x", d[i]);
    }
    return g_string_free(s, FALSE);
}
