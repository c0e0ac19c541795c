/* SPDX-License-Identifier: MIT */
/*
 * sev-qmp.c: QEMU's SEV monitor commands (query-sev, query-sev-capabilities,
 * query-sev-launch-measure, sev-inject-launch-secret,
 * query-sev-attestation-report) and HMP `info sev`, with QEMU 7.2's
 * error texts when the guest is not an SEV guest, so management tools
 * (libvirt probes query-sev-capabilities) read vireo as they read QEMU.
 */
#include "util/common.h"
#include "qapi/qapi-gen-types.h"
#include "sev/sev-ioctl.h"
#include "sev/sev.h"
#include "system/machine.h"

#include <fcntl.h>
#include <unistd.h>

struct qapi_sev_info *qmp_query_sev(struct machine *m, Error **errp)
{
    struct qapi_sev_info *i = g_new0(struct qapi_sev_info, 1);
    struct sev_guest *g = m->sev && m->sev->k ? m->sev : NULL;

    i->enabled = g != NULL;
    i->state = QAPI_SEV_STATE_UNINIT;
    if (g) {
        i->api_major = g->plat.api_major;
        i->api_minor = g->plat.api_minor;
        i->build_id = g->plat.build;
        i->policy = (uint32_t)g->cfg->policy;
        i->handle = g->handle;
        /* enum sev_state and QEMU's SevState share their order */
        i->state = (enum qapi_sev_state)g->state;
    }
    return i;
}

struct qapi_sev_launch_measure_info *
qmp_query_sev_launch_measure(struct machine *m, Error **errp)
{
    struct sev_guest *g = m->sev && m->sev->k ? m->sev : NULL;
    struct qapi_sev_launch_measure_info *i;

    if (!g || g->state < SEV_STATE_LAUNCH_SECRET || !g->measurement_len) {
        error_setg(errp, "SEV launch measurement is not available");
        return NULL;
    }
    i = g_new0(struct qapi_sev_launch_measure_info, 1);
    i->data = g_base64_encode(g->measurement, g->measurement_len);
    return i;
}

struct qapi_sev_capability *qmp_query_sev_capabilities(struct machine *m,
                                                       Error **errp)
{
    struct sev_guest *g = m->sev && m->sev->k ? m->sev : NULL;
    struct sev_user_data_pdh_cert_export ex = {0};
    struct sev_user_data_get_id2 id = {0};
    g_autofree uint8_t *pdh = NULL, *chain = NULL, *cpu0 = NULL;
    struct qapi_sev_capability *c = NULL;
    const struct kvm_backend *be = &kvm_real_backend;
    uint32_t fw = 0, cbitpos = 0, reduced = 0;
    int r, fd, own_fd = -1;

    if (!m->kvm) {
        error_setg(errp, "KVM not enabled");
        return NULL;
    }
    if (kvm_ioctl(m->kvm, m->kvm->vm_fd, KVM_MEMORY_ENCRYPT_OP, NULL) < 0) {
        error_setg(errp, "SEV is not enabled in KVM");
        return NULL;
    }
    if (g) {
        be = g->be;
        fd = g->sev_fd;
        cbitpos = g->plat.cbitpos;
        reduced = g->plat.reduced_phys_bits;
    } else {
        /* A plain guest on an SEV host (libvirt probes this way). */
        fd = own_fd = open("/dev/sev", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            error_setg_errno(errp, errno, "SEV: Failed to open /dev/sev");
            return NULL;
        }
        sev_host_cbit(&cbitpos, &reduced);
        reduced = 1; /* what QEMU reports */
    }
    /* Lengths first (INVALID_LENGTH is the expected answer), then data. */
    r = sev_dev_cmd(be, fd, SEV_PDH_CERT_EXPORT, &ex, &fw);
    if (r < 0 && fw != SEV_RET_INVALID_LEN) {
        goto fail;
    }
    pdh = g_malloc0(ex.pdh_cert_len + 1);
    chain = g_malloc0(ex.cert_chain_len + 1);
    ex.pdh_cert_address = (uintptr_t)pdh;
    ex.cert_chain_address = (uintptr_t)chain;
    r = sev_dev_cmd(be, fd, SEV_PDH_CERT_EXPORT, &ex, &fw);
    if (r < 0) {
        goto fail;
    }
    r = sev_dev_cmd(be, fd, SEV_GET_ID2, &id, &fw);
    if (r < 0 && fw != SEV_RET_INVALID_LEN) {
        goto fail;
    }
    cpu0 = g_malloc0(id.length + 1);
    id.address = (uintptr_t)cpu0;
    r = sev_dev_cmd(be, fd, SEV_GET_ID2, &id, &fw);
    if (r < 0) {
        goto fail;
    }
    c = g_new0(struct qapi_sev_capability, 1);
    c->pdh = g_base64_encode(pdh, ex.pdh_cert_len);
    c->cert_chain = g_base64_encode(chain, ex.cert_chain_len);
    c->cpu0_id = g_base64_encode(cpu0, id.length);
    c->cbitpos = cbitpos;
    c->reduced_phys_bits = reduced;
    goto out;
fail:
    error_setg(errp,
               "SEV: Failed to export platform data ret=%d fw_err=%u (%s)", r,
               fw, sev_fw_error_name(fw));
out:
    if (own_fd >= 0) {
        close(own_fd);
    }
    return c;
}

void qmp_sev_inject_launch_secret(struct machine *m, bool has_packet_header,
                                  char *packet_header, char *secret,
                                  bool has_gpa, uint64_t gpa, Error **errp)
{
    struct sev_guest *g = m->sev && m->sev->k ? m->sev : NULL;
    g_autofree guchar *hdr = NULL, *data = NULL;
    gsize hdr_len = 0, data_len = 0;

    if (!g) {
        error_setg(errp, "SEV not enabled for guest");
        return;
    }
    if (!has_gpa) {
        /* QEMU's default: OVMF's secret area (footer GUID 4c2eb361-...) */
        if (!g->ovmf.has_secret_area) {
            error_setg(errp, "SEV: no secret area found in OVMF, gpa must be "
                             "specified.");
            return;
        }
        gpa = g->ovmf.secret_gpa;
    }
    hdr = g_base64_decode(has_packet_header ? packet_header : "", &hdr_len);
    if (!hdr || !hdr_len) {
        error_setg(errp, "SEV: Failed to decode sequence header");
        return;
    }
    data = g_base64_decode(secret, &data_len);
    if (!data || !data_len) {
        error_setg(errp, "SEV: Failed to decode data");
        return;
    }
    sev_inject_secret(g, m->gm, hdr, hdr_len, data, data_len, gpa, errp);
}

struct qapi_sev_attestation_report *
qmp_query_sev_attestation_report(struct machine *m, char *mnonce, Error **errp)
{
    struct sev_guest *g = m->sev && m->sev->k ? m->sev : NULL;
    g_autofree guchar *nonce = NULL;
    gsize len = 0;

    if (!g) {
        error_setg(errp, "SEV is not enabled");
        return NULL;
    }
    nonce = g_base64_decode(mnonce, &len);
    if (len != 16) {
        error_setg(errp, "SEV: mnonce must be 16 bytes (got %zu)", (size_t)len);
        return NULL;
    }
    {
        char *b64 = sev_attestation_report(g, nonce, errp);
        struct qapi_sev_attestation_report *r;

        if (!b64) {
            return NULL;
        }
        r = g_new0(struct qapi_sev_attestation_report, 1);
        r->data = b64;
        return r;
    }
}

void hmp_info_sev(struct machine *m, const char *args, int64_t cpu,
                  GString *out)
{
    struct qapi_sev_info *i = qmp_query_sev(m, NULL);

    if (i->enabled) {
        g_string_append_printf(out, "handle: %u\n", i->handle);
        g_string_append_printf(out, "state: %s\n",
                               qapi_sev_state_str(i->state));
        g_string_append_printf(out, "build: %u\n", i->build_id);
        g_string_append_printf(out, "api version: %u.%u\n", i->api_major,
                               i->api_minor);
        g_string_append_printf(out, "debug: %s\n",
                               i->policy & SEV_POLICY_NODBG ? "off" : "on");
        g_string_append_printf(out, "key-sharing: %s\n",
                               i->policy & 2 ? "off" : "on");
    } else {
        g_string_append(out, "SEV is not enabled\n");
    }
    qapi_sev_info_free(i);
}
