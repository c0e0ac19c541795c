/* SPDX-License-Identifier: MIT */
/*
 * test-sev.c: vireo's SEV / SEV-ES / SEV-SNP launch (sev/sev.c) on the
 * fake platform of tests/unit/fake-kvm.c.  The platform computes the
 * launch digest from what vireo feeds it (firmware pages, the vCPUs' reset
 * state turned into VMSAs as KVM does); it must equal issue 12's known
 * answers for Debian 12's OVMF, which sev/measure.c and -measure-launch
 * reproduce too.  Also: out-of-order commands, firmware errors by name,
 * a KVM without SEV, the missing VM type, and the vCPU state being
 * unreadable after launch.
 */
#include "util/common.h"
#include <glib/gstdio.h>
#include "accel/kvm/kvm.h"
#include "sev/sev-config.h"
#include "sev/sev-ioctl.h"
#include "sev/sev.h"
#include "util/keyval.h"
#include "system/guest-mem.h"
#include "target-i386/cpu.h"
#include "target-i386/cpu-internal.h"
#include "tests/unit/fake-kvm.h"
#include "tests/unit/sev-known.h"
#include "qapi/qapi-gen-types.h"
#include "system/machine.h"

#define RAM_SIZE (16 * MiB)
#define ALL_TYPES                                                              \
    ((1u << SEV_KVM_X86_SEV_VM) | (1u << SEV_KVM_X86_SEV_ES_VM) |              \
     (1u << SEV_KVM_X86_SNP_VM))

struct rig {
    struct fake_kvm f;
    struct sev_config cfg;
    struct x86_cpu_model *model;
    struct x86_cpu *cpus[FAKE_SEV_MAX_VCPUS];
    unsigned n;
    struct guest_mem *gm;
    struct sev_guest *g;
    struct sev_platform_info info;
    uint8_t *fw;
    size_t fw_size;
};

/* A host whose CPUID signature is EPYC-v4's (family 23, model 1,
 * stepping 2); "-cpu host" then gives the vCPUs 0x800f12. */
static void epyc_signature(struct fake_kvm *f)
{
    struct kvm_cpuid2 *c = f->accel.supported_cpuid;

    for (uint32_t i = 0; i < c->nent; i++) {
        if (c->entries[i].function == 1) {
            c->entries[i].eax = SEV_KNOWN_SIG;
        }
    }
}

static void rig_init(struct rig *r, const char *object, unsigned vm_types,
                     unsigned long vm_type, unsigned n)
{
    Error *err = NULL;
    struct keyval *kv = keyval_parse(object, "qom-type", &err);

    g_assert_nonnull(kv);
    g_assert_true(
        sev_config_parse(keyval_get(kv, "qom-type"), kv, &r->cfg, &err));
    keyval_free(kv);
    fake_kvm_init(&r->f);
    epyc_signature(&r->f);
    fake_sev_enable(&r->f, vm_types, vm_type);
    r->model = x86_cpu_model_new(&r->f.accel, "host", n, 1, n, 1, &err);
    g_assert_nonnull(r->model);
    r->n = n;
    for (unsigned i = 0; i < n; i++) {
        int fd = fake_sev_add_vcpu(&r->f);

        r->cpus[i] = x86_cpu_new(&r->f.accel, fd, i, r->model, &err);
        g_assert_null(err);
    }
    r->gm = gm_new(RAM_SIZE, &err);
    g_assert_true(gm_add_ram(r->gm, 0, 0, RAM_SIZE, "ram", &err));
    r->g = NULL;
    r->fw = NULL;
}

static void rig_fini(struct rig *r)
{
    sev_guest_free(r->g);
    for (unsigned i = 0; i < r->n; i++) {
        x86_cpu_free(r->cpus[i]);
    }
    x86_cpu_model_free(r->model);
    gm_free(r->gm);
    free(r->fw);
    sev_config_free(&r->cfg);
    fake_kvm_destroy(&r->f);
}

/* Copies the image into page-aligned memory, as the machine maps it. */
static bool rig_firmware(struct rig *r, const uint8_t *data, size_t size)
{
    g_assert_cmpint(posix_memalign((void **)&r->fw, 4096, size), ==, 0);
    memcpy(r->fw, data, size);
    r->fw_size = size;
    /* mapped below 4 GiB as the machine maps it (SNP backs it with a
     * guest_memfd like RAM) */
    g_assert_true(gm_add_alias(r->gm, SEV_FW_END - size, r->fw, size, true,
                               "bios", NULL));
    return true;
}

static bool rig_guest(struct rig *r, Error **errp)
{
    int fd = FAKE_SEV_FD;

    if (!sev_host_check(&r->cfg, &r->f.be, "fake-sev", &fd, &r->info, errp)) {
        return false;
    }
    r->g = sev_guest_new(&r->cfg, &r->f.accel, fd, false, &r->info, errp);
    return r->g != NULL;
}

static bool rig_launch(struct rig *r, Error **errp)
{
    if (!rig_guest(r, errp) || !sev_launch_start(r->g, errp) ||
        !sev_launch_update(r->g, r->fw, r->fw_size, r->gm, NULL, r->cpus, r->n,
                           errp)) {
        return false;
    }
    if (!r->cfg.snp && !sev_launch_measure(r->g, errp)) {
        return false;
    }
    return sev_launch_finish(r->g, r->cpus, r->n, errp);
}

static const char *object_for(const struct sev_known *k)
{
    switch (k->mode) {
    case SEV_MODE_SEV:
        return "sev-guest,id=s,policy=0x1";
    case SEV_MODE_ES:
        return "sev-guest,id=s,policy=0x5";
    default:
        return "sev-snp-guest,id=s";
    }
}

static void check_known(const struct sev_known *k, bool init2)
{
    g_autofree uint8_t *fw = NULL;
    g_autofree char *why = NULL, *digest = NULL;
    struct rig r;
    gsize size;
    Error *err = NULL;
    unsigned long type = init2 ? SEV_KVM_X86_SEV_VM + k->mode : 0;

    if (!sev_known_load_ovmf(&fw, &size, &why)) {
        g_test_skip(why);
        return;
    }
    rig_init(&r, object_for(k), init2 ? ALL_TYPES : 0, type, k->vcpus);
    rig_firmware(&r, fw, size);
    if (!rig_launch(&r, &err)) {
        g_error("launch: %s", error_get_pretty(err));
    }
    digest = fake_sev_digest(&r.f);
    g_assert_cmpstr(digest, ==, k->digest);
    g_assert_true(r.g->state == SEV_STATE_RUNNING);

    if (k->mode == SEV_MODE_SEV) {
        g_assert_cmpstr(fake_sev_log(&r.f), ==,
                        init2 ? "INIT2 LAUNCH_START LAUNCH_UPDATE_DATA "
                                "LAUNCH_MEASURE LAUNCH_FINISH"
                              : "INIT LAUNCH_START LAUNCH_UPDATE_DATA "
                                "LAUNCH_MEASURE LAUNCH_FINISH");
    }
    if (k->mode != SEV_MODE_SEV) {
        /* The state is the guest's now: no read, no write reaches KVM. */
        unsigned before = fake_kvm_count(&r.f, KVM_SET_REGS);

        g_assert_true(x86_cpu_state_protected(r.cpus[0]) == init2);
        if (init2) {
            g_assert_false(x86_cpu_get(r.cpus[0], X86_REGS, &err));
            g_assert_nonnull(strstr(error_get_pretty(err), "encrypted"));
            error_free(err);
            err = NULL;
            x86_cpu_reset(r.cpus[0], true);
            g_assert_true(x86_cpu_put(r.cpus[0], X86_PUT_RESET, &err));
            g_assert_cmpuint(fake_kvm_count(&r.f, KVM_SET_REGS), ==, before);
        }
    }
    if (k->mode != SEV_MODE_SNP) {
        /* LAUNCH_MEASURE: HMAC(TIK, 04 || 1 55 21 || policy || digest ||
         * nonce) followed by the nonce. */
        uint8_t blob[56], ld[32], mac[32];
        gsize len = 32;
        GHmac *h;

        g_assert_cmpuint(r.g->measurement_len, ==, 48);
        for (unsigned i = 0; i < 32; i++) {
            sscanf(k->digest + 2 * i, "%2hhx", &ld[i]);
        }
        blob[0] = 4;
        blob[1] = 1;
        blob[2] = 55;
        blob[3] = 21;
        memcpy(blob + 4, &(uint32_t){(uint32_t)r.cfg.policy}, 4);
        memcpy(blob + 8, ld, 32);
        memcpy(blob + 40, r.g->measurement + 32, 16);
        h = g_hmac_new(G_CHECKSUM_SHA256, fake_sev_tik, sizeof(fake_sev_tik));
        g_hmac_update(h, blob, sizeof(blob));
        g_hmac_get_digest(h, mac, &len);
        g_hmac_unref(h);
        g_assert_cmpmem(mac, 32, r.g->measurement, 32);
    }
    rig_fini(&r);
}

static void test_known_init2(gconstpointer data)
{
    check_known(data, true);
}

static void test_known_legacy(gconstpointer data)
{
    check_known(data, false);
}

/* A small firmware with a reset block and SNP metadata, for the error
 * cases (no dependency on the installed OVMF). */
static void tiny_firmware(struct rig *r)
{
    size_t size = 64 * 1024;
    g_autofree uint8_t *img = g_malloc0(size);
    uint8_t *p = img + size - 32 - 18;
    uint16_t total = 18 + 22, esize = 22;
    uint32_t eip = 0xfffff000;

    memcpy(p - 22, &eip, 4);
    memcpy(p - 18, &esize, 2);
    memcpy(p - 16, sev_test_guid_reset, 16);
    memcpy(p, &total, 2);
    memcpy(p + 2, sev_test_guid_footer, 16);
    rig_firmware(r, img, size);
}

/* errp, not err: the call in `ok` must have run before err is read. */
static void expect(bool ok, Error **errp, const char *needle)
{
    Error *err = *errp;

    *errp = NULL;
    g_assert_false(ok);
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), needle)) {
        g_error("'%s' lacks '%s'", error_get_pretty(err), needle);
    }
    error_free(err);
}

static void test_out_of_order(void)
{
    struct rig r;
    Error *err = NULL;
    uint32_t fw = 0;
    struct kvm_sev_launch_update_data u = {.uaddr = 0, .len = 16};
    uint8_t buf[16] = {0};

    rig_init(&r, "sev-guest,id=s,policy=0x5", ALL_TYPES, SEV_KVM_X86_SEV_ES_VM,
             1);
    tiny_firmware(&r);
    g_assert_true(rig_guest(&r, &err));
    /* vireo's own order check... */
    expect(sev_launch_update(r.g, r.fw, r.fw_size, r.gm, NULL, r.cpus, 1, &err),
           &err, "state uninit, needs launch-update");
    err = NULL;
    expect(sev_launch_finish(r.g, r.cpus, 1, &err), &err, "state uninit");
    err = NULL;
    /* ... and the platform's, named as the firmware names it. */
    u.uaddr = (uintptr_t)buf;
    g_assert_cmpint(sev_kvm_op(&r.f.accel, SEV_CMD_LAUNCH_UPDATE_DATA, &u,
                               FAKE_SEV_FD, &fw, &err),
                    <, 0);
    g_assert_cmpuint(fw, ==, SEV_RET_INVALID_GUEST_STATE);
    expect(false, &err,
           "KVM_SEV_LAUNCH_UPDATE_DATA failed: firmware error "
           "INVALID_GUEST_STATE (0x2)");
    err = NULL;
    g_assert_true(sev_launch_start(r.g, &err));
    expect(sev_launch_start(r.g, &err), &err, "state launch-update");
    err = NULL;
    g_assert_true(
        sev_launch_update(r.g, r.fw, r.fw_size, r.gm, NULL, r.cpus, 1, &err));
    expect(sev_inject_secret(r.g, r.gm, buf, 16, buf, 16, 0x1000, &err), &err,
           "Not in correct state");
    err = NULL;
    g_assert_true(sev_launch_measure(r.g, &err));
    g_assert_true(sev_inject_secret(r.g, r.gm, buf, 16, buf, 16, 0x1000, &err));
    expect(sev_inject_secret(r.g, r.gm, buf, 16, buf, 16, RAM_SIZE, &err), &err,
           "guest address");
    err = NULL;
    g_assert_true(sev_launch_finish(r.g, r.cpus, 1, &err));
    g_assert_cmpstr(fake_sev_log(&r.f), ==,
                    "INIT2 LAUNCH_START LAUNCH_UPDATE_DATA LAUNCH_UPDATE_VMSA "
                    "LAUNCH_MEASURE LAUNCH_SECRET LAUNCH_FINISH");
    rig_fini(&r);
}

static void test_firmware_errors(void)
{
    struct rig r;
    Error *err = NULL;

    rig_init(&r, "sev-guest,id=s,policy=0x1", ALL_TYPES, SEV_KVM_X86_SEV_VM, 1);
    g_assert_true(rig_guest(&r, &err));
    fake_sev_fail(&r.f, SEV_CMD_LAUNCH_START, SEV_RET_POLICY_FAILURE);
    expect(sev_launch_start(r.g, &err), &err,
           "KVM_SEV_LAUNCH_START failed: firmware error POLICY_FAILURE (0x7)");
    rig_fini(&r);

    rig_init(&r, "sev-guest,id=s", 0, 0, 1);
    fake_sev_fail(&r.f, SEV_CMD_INIT, SEV_RET_INVALID_PLATFORM_STATE);
    expect(rig_guest(&r, &err), &err, "INVALID_PLATFORM_STATE");
    rig_fini(&r);

    g_assert_cmpstr(sev_fw_error_name(0x1a), ==, "INVALID_PAGE_STATE");
    g_assert_cmpstr(sev_fw_error_name(0x99), ==, "unknown status");
}

static void hashes_firmware(struct rig *r, uint32_t hashes_at);

static void test_missing_support(void)
{
    struct rig r;
    Error *err = NULL;

    /* KVM without SEV: named before anything else. */
    rig_init(&r, "sev-guest,id=s", 0, 0, 1);
    fake_sev_no_kvm_support(&r.f, true);
    expect(rig_guest(&r, &err), &err, "KVM has no memory encryption support");
    rig_fini(&r);

    /* SNP without the VM type. */
    rig_init(&r, "sev-snp-guest,id=s", 0, 0, 1);
    expect(rig_guest(&r, &err), &err, "does not offer the SEV-SNP VM type");
    rig_fini(&r);

    /* A typed VM of the wrong type. */
    rig_init(&r, "sev-guest,id=s,policy=0x5", ALL_TYPES, SEV_KVM_X86_SEV_VM, 1);
    expect(rig_guest(&r, &err), &err, "KVM_SEV_INIT2 needs type 3");
    rig_fini(&r);

    /* C-bit and reduced-phys-bits must be what the platform reports. */
    rig_init(&r, "sev-guest,id=s,cbitpos=47", ALL_TYPES, SEV_KVM_X86_SEV_VM, 1);
    expect(rig_guest(&r, &err), &err,
           "cbitpos check failed, host '51' requested '47'");
    rig_fini(&r);
    rig_init(&r, "sev-guest,id=s,reduced-phys-bits=5", ALL_TYPES,
             SEV_KVM_X86_SEV_VM, 1);
    expect(rig_guest(&r, &err), &err, "reduced-phys-bits check failed");
    rig_fini(&r);

    /* SNP on a KVM without guest_memfd: named before SNP_LAUNCH_UPDATE. */
    rig_init(&r, "sev-snp-guest,id=s", ALL_TYPES, SEV_KVM_X86_SNP_VM, 1);
    fake_sev_no_guest_memfd(&r.f);
    hashes_firmware(&r, 0x804010);
    g_assert_true(rig_guest(&r, &err));
    g_assert_true(sev_launch_start(r.g, &err));
    expect(sev_launch_update(r.g, r.fw, r.fw_size, r.gm, NULL, r.cpus, 1, &err),
           &err, "KVM has no guest_memfd");
    rig_fini(&r);

    /* A firmware without SNP metadata is refused by name for SNP. */
    rig_init(&r, "sev-snp-guest,id=s", ALL_TYPES, SEV_KVM_X86_SNP_VM, 1);
    tiny_firmware(&r);
    g_assert_true(rig_guest(&r, &err));
    g_assert_true(sev_launch_start(r.g, &err));
    expect(sev_launch_update(r.g, r.fw, r.fw_size, r.gm, NULL, r.cpus, 1, &err),
           &err, "no SEV metadata");
    rig_fini(&r);

    g_assert_true(sev_migration_blocked(NULL, NULL) == false);
}

/* The launch marks SEV-ES vCPUs, so the EFER.LMA normalisation runs on the
 * real path: on a legacy (KVM_SEV_ES_INIT) VM, KVM still reports the state
 * and EFER lacks LMA in long mode.  Both the SREGS2 and SREGS paths. */
static void efer_after_launch(bool sregs2)
{
    struct rig r;
    Error *err = NULL;
    struct kvm_sregs2 *s;

    rig_init(&r, "sev-guest,id=s,policy=0x5", 0, 0, 2);
    tiny_firmware(&r);
    r.f.accel.has_sregs2 = sregs2;
    g_assert_true(rig_launch(&r, &err));
    g_assert_false(x86_cpu_state_protected(r.cpus[1]));
    s = fake_sev_vcpu_sregs(&r.f, 1);
    s->cr0 = 0x80000011;
    s->cr4 = 0x20;
    s->efer = 0x100 | 0x1000; /* LME, SVME: no LMA */
    s->cs.l = 1;
    x86_cpu_invalidate(r.cpus[1]);
    g_assert_true(x86_cpu_get(r.cpus[1], X86_SREGS, &err));
    g_assert_cmphex(x86_cpu_sregs(r.cpus[1])->efer & 0x400, ==, 0x400);
    /* and it can be written back (KVM's check wants LMA) */
    x86_cpu_sregs_mut(r.cpus[1])->cr2 = 0x1000;
    g_assert_true(x86_cpu_put(r.cpus[1], X86_PUT_RUNTIME, &err));
    g_assert_null(err);
    g_assert_cmphex(s->efer & 0x400, ==, 0x400);
    g_assert_cmpuint(
        fake_kvm_count(&r.f, sregs2 ? KVM_GET_SREGS2 : KVM_GET_SREGS), >=, 1);
    rig_fini(&r);
}

static void test_efer_sregs2(void)
{
    efer_after_launch(true);
}

static void test_efer_sregs(void)
{
    efer_after_launch(false);
}

/* CPUID 0x8000001F: mode bits, C-bit and reduced-phys-bits as the
 * platform reports them (the fake platform: C-bit 51, 1 bit lost). */
static void test_cpuid_leaf(void)
{
    static const struct {
        const char *obj;
        unsigned long type;
        uint32_t eax;
    } cases[] = {
        {"sev-guest,id=s", SEV_KVM_X86_SEV_VM, 0x2},
        {"sev-guest,id=s,policy=0x5", SEV_KVM_X86_SEV_ES_VM, 0xa},
        {"sev-snp-guest,id=s", SEV_KVM_X86_SNP_VM, 0x1a},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct rig r;
        Error *err = NULL;
        const struct kvm_cpuid_entry2 *e;
        struct x86_cpu *c;

        rig_init(&r, cases[i].obj, ALL_TYPES, cases[i].type, 1);
        g_assert_true(rig_guest(&r, &err));
        sev_cpu_model_setup(r.g, r.model);
        c = x86_cpu_new(&r.f.accel, fake_sev_add_vcpu(&r.f), 1, r.model, &err);
        g_assert_nonnull(c);
        e = x86_cpuid_find_const(x86_cpu_cpuid(c), 0x8000001f, 0);
        g_assert_nonnull(e);
        g_assert_cmphex(e->eax, ==, cases[i].eax);
        g_assert_cmphex(e->ebx, ==, 51 | 1 << 6);
        e = x86_cpuid_find_const(x86_cpu_cpuid(c), 0x80000000, 0);
        g_assert_cmphex(e->eax, >=, 0x8000001f);
        x86_cpu_free(c);
        rig_fini(&r);
    }
}

/* dh-cert-file and session-file hold base64, as QEMU reads them. */
static void test_launch_blobs(void)
{
    g_autofree char *dir = g_dir_make_tmp("vireo-sev-XXXXXX", NULL);
    g_autofree char *dh = g_build_filename(dir, "dh.b64", NULL);
    g_autofree char *obj = NULL;
    struct rig r;
    Error *err = NULL;

    g_assert_true(g_file_set_contents(dh, "AAECAw==\n", -1, NULL));
    obj = g_strdup_printf("sev-guest,id=s,dh-cert-file=%s,session-file=%s", dh,
                          dh);
    rig_init(&r, obj, 0, 0, 1);
    g_assert_true(rig_guest(&r, &err));
    g_assert_true(sev_launch_start(r.g, &err));
    rig_fini(&r);

    g_free(obj);
    obj = g_strdup_printf("sev-guest,id=s,session-file=%s/missing", dir);
    rig_init(&r, obj, 0, 0, 1);
    g_assert_true(rig_guest(&r, &err));
    expect(sev_launch_start(r.g, &err), &err, "Failed to read");
    rig_fini(&r);
    g_unlink(dh);
    g_rmdir(dir);
}

/* KVM_EXIT_MEMORY_FAULT: the guest's conversion requests, checked. */
static void test_memory_fault(void)
{
    struct rig r;
    Error *err = NULL;
    struct kvm_run run = {.exit_reason = SEV_KVM_EXIT_MEMORY_FAULT};
    struct sev_kvm_memory_fault mf = {
        .flags = SEV_KVM_MEMORY_EXIT_FLAG_PRIVATE,
        .gpa = 0x200000,
        .size = 0x2000,
    };

    rig_init(&r, "sev-snp-guest,id=s", ALL_TYPES, SEV_KVM_X86_SNP_VM, 1);
    g_assert_true(rig_guest(&r, &err));
    memcpy(&run.hw, &mf, sizeof(mf));
    g_assert_true(sev_handle_memory_fault(r.g, &run, &err));
    g_assert_true(fake_sev_is_private(&r.f, 0x200000, 0x2000));
    mf.flags = 0;
    memcpy(&run.hw, &mf, sizeof(mf));
    g_assert_true(sev_handle_memory_fault(r.g, &run, &err));
    g_assert_false(fake_sev_is_private(&r.f, 0x200000, 0x1000));
    /* hostile values */
    mf.gpa = 0x200800;
    memcpy(&run.hw, &mf, sizeof(mf));
    expect(sev_handle_memory_fault(r.g, &run, &err), &err,
           "not a page-aligned range");
    mf.gpa = 0xfffffffffffff000ULL;
    memcpy(&run.hw, &mf, sizeof(mf));
    expect(sev_handle_memory_fault(r.g, &run, &err), &err,
           "not a page-aligned range");
    mf.gpa = 0;
    mf.flags = 1;
    memcpy(&run.hw, &mf, sizeof(mf));
    expect(sev_handle_memory_fault(r.g, &run, &err), &err, "flags 0x1");
    run.exit_reason = KVM_EXIT_MMIO;
    expect(sev_handle_memory_fault(r.g, &run, &err), &err,
           "not KVM_EXIT_MEMORY_FAULT");
    rig_fini(&r);
}

/* A firmware with every metadata section type and a kernel-hashes area.
 * hashes_at: where the footer says the table is. */
static void hashes_firmware(struct rig *r, uint32_t hashes_at)
{
    static const uint32_t secs[][3] = {
        {0x800000, 0x2000, SEV_OVMF_SEC_MEM},
        {0x802000, 0x1000, SEV_OVMF_SECRETS},
        {0x803000, 0x1000, SEV_OVMF_CPUID},
        {0x804000, 0x1000, SEV_OVMF_KERNEL_HASHES},
    };
    static const uint8_t hashes_guid[16] = {0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a,
                                            0x04, 0x4b, 0x92, 0x7b, 0x1d, 0xa6,
                                            0xef, 0xa8, 0xd4, 0x54};
    struct fw_builder b;
    uint32_t eip = 0xfffff004;
    uint32_t area[2] = {hashes_at, 0x400};

    fw_init(&b);
    memset(b.img, 0x5a, 4096); /* some content to measure */
    fw_entry(&b, sev_test_guid_reset, &eip, 4);
    fw_entry(&b, hashes_guid, area, 8);
    fw_metadata(&b, 0x1000, secs, G_N_ELEMENTS(secs));
    fw_finish(&b);
    rig_firmware(r, b.img, SEV_TEST_FW_SIZE);
    g_free(b.img);
}

/* With kernel-hashes=on the launch on the platform and -measure-launch's
 * computation agree (SEV-ES: the table after the firmware; SNP: the
 * hashes page as NORMAL instead of ZERO). */
static void test_kernel_hashes(void)
{
    static const char *const objs[] = {
        "sev-guest,id=s,policy=0x5,kernel-hashes=on",
        "sev-snp-guest,id=s,kernel-hashes=on",
    };
    static const unsigned long types[] = {SEV_KVM_X86_SEV_ES_VM,
                                          SEV_KVM_X86_SNP_VM};
    uint8_t table[SEV_HASHES_TABLE_LEN];

    g_assert_true(sev_hashes_table_build((const uint8_t *)"kernel", 6, NULL, 0,
                                         "console=ttyS0", table, NULL));
    for (size_t i = 0; i < G_N_ELEMENTS(objs); i++) {
        struct rig r;
        Error *err = NULL;
        struct sev_ovmf o;
        struct sev_measure_params p = {
            .mode = i ? SEV_MODE_SNP : SEV_MODE_ES,
            .nr_vcpus = 2,
            .vcpu_sig = SEV_KNOWN_SIG,
            .sev_features = i ? SEV_FEAT_SNP_ACTIVE : 0,
            .hashes_table = table,
        };
        uint8_t d[SEV_DIGEST_MAX];
        size_t len;
        GString *want = g_string_new(NULL);
        g_autofree char *got = NULL;

        rig_init(&r, objs[i], ALL_TYPES, types[i], 2);
        hashes_firmware(&r, 0x804010);
        g_assert_true(rig_guest(&r, &err));
        g_assert_true(sev_launch_start(r.g, &err));
        g_assert_true(sev_launch_update(r.g, r.fw, r.fw_size, r.gm, table,
                                        r.cpus, r.n, &err));
        if (!i) {
            g_assert_true(sev_launch_measure(r.g, &err));
        }
        g_assert_true(sev_launch_finish(r.g, r.cpus, r.n, &err));
        g_assert_true(sev_ovmf_parse(r.fw, r.fw_size, &o, &err));
        g_assert_true(sev_measure_launch(&o, &p, d, &len, &err));
        for (size_t k = 0; k < len; k++) {
            g_string_append_printf(want, "%02x", d[k]);
        }
        got = fake_sev_digest(&r.f);
        g_assert_cmpstr(got, ==, want->str);
        /* without the table: a different digest */
        p.hashes_table = NULL;
        g_assert_true(sev_measure_launch(&o, &p, d, &len, &err));
        g_string_truncate(want, 0);
        for (size_t k = 0; k < len; k++) {
            g_string_append_printf(want, "%02x", d[k]);
        }
        g_assert_cmpstr(got, !=, want->str);
        g_string_free(want, TRUE);
        rig_fini(&r);
    }

    /* A table the footer places outside the SNP hashes section. */
    {
        struct rig r;
        Error *err = NULL;

        rig_init(&r, objs[1], ALL_TYPES, SEV_KVM_X86_SNP_VM, 1);
        hashes_firmware(&r, 0x804f80);
        g_assert_true(rig_guest(&r, &err));
        g_assert_true(sev_launch_start(r.g, &err));
        expect(sev_launch_update(r.g, r.fw, r.fw_size, r.gm, table, r.cpus, r.n,
                                 &err),
               &err, "not inside its metadata section");
        rig_fini(&r);
    }
}

static void test_migration_blocked(void)
{
    struct rig r;
    Error *err = NULL;

    rig_init(&r, "sev-guest,id=s,policy=0x5", 0, 0, 1);
    g_assert_true(rig_guest(&r, &err));
    g_assert_true(sev_migration_blocked(r.g, &err));
    {
        struct machine m = {.sev = r.g};

        g_assert_false(sev_cpus_resettable(&m));
        m.sev = NULL;
        g_assert_true(sev_cpus_resettable(&m));
    }
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "SEV: Migration is not implemented");
    error_free(err);
    rig_fini(&r);
}

/* The monitor commands on a machine without SEV and with an SEV-ES guest
 * held in launch-secret (-S). */
static void test_qmp(void)
{
    struct machine m = {0};
    struct rig r;
    Error *err = NULL;
    struct qapi_sev_info *info;
    struct qapi_sev_launch_measure_info *lm;
    struct qapi_sev_capability *cap;
    struct qapi_sev_attestation_report *rep;
    GString *hmp = g_string_new(NULL);
    char secret[] = "AAAAAAAAAAAAAAAAAAAAAA==";
    char nonce[] = "AAECAwQFBgcICQoLDA0ODw==";

    rig_init(&r, "sev-guest,id=s,policy=0x5", ALL_TYPES, SEV_KVM_X86_SEV_ES_VM,
             2);
    tiny_firmware(&r);
    m.kvm = &r.f.accel;
    m.gm = r.gm;

    /* No SEV guest: QEMU's answers. */
    info = qmp_query_sev(&m, &err);
    g_assert_false(info->enabled);
    qapi_sev_info_free(info);
    g_assert_null(qmp_query_sev_launch_measure(&m, &err));
    expect(false, &err, "SEV launch measurement is not available");
    qmp_sev_inject_launch_secret(&m, true, secret, secret, true, 0x1000, &err);
    expect(false, &err, "SEV not enabled for guest");
    g_assert_null(qmp_query_sev_attestation_report(&m, nonce, &err));
    expect(false, &err, "SEV is not enabled");
    hmp_info_sev(&m, "", 0, hmp);
    g_assert_cmpstr(hmp->str, ==, "SEV is not enabled\n");
    if (!g_file_test("/dev/sev", G_FILE_TEST_EXISTS)) {
        /* a plain guest: vireo opens /dev/sev as QEMU does */
        g_assert_null(qmp_query_sev_capabilities(&m, &err));
        expect(false, &err, "SEV: Failed to open /dev/sev");
    }
    fake_sev_no_kvm_support(&r.f, true);
    g_assert_null(qmp_query_sev_capabilities(&m, &err));
    expect(false, &err, "SEV is not enabled in KVM");
    fake_sev_no_kvm_support(&r.f, false);

    /* An SEV-ES guest launched up to the measurement (-S). */
    g_assert_true(rig_guest(&r, &err));
    g_assert_true(sev_launch_start(r.g, &err));
    g_assert_true(
        sev_launch_update(r.g, r.fw, r.fw_size, r.gm, NULL, r.cpus, r.n, &err));
    g_assert_true(sev_launch_measure(r.g, &err));
    m.sev = r.g;
    info = qmp_query_sev(&m, &err);
    g_assert_true(info->enabled);
    g_assert_cmpuint(info->policy, ==, 5);
    g_assert_cmpuint(info->state, ==, QAPI_SEV_STATE_LAUNCH_SECRET);
    g_assert_cmpuint(info->api_minor, ==, 55);
    qapi_sev_info_free(info);
    lm = qmp_query_sev_launch_measure(&m, &err);
    g_assert_nonnull(lm);
    g_assert_cmpuint(strlen(lm->data), ==, 64); /* 48 bytes in base64 */
    qapi_sev_launch_measure_info_free(lm);
    cap = qmp_query_sev_capabilities(&m, &err);
    g_assert_nonnull(cap);
    g_assert_cmpstr(cap->pdh, ==, "UFBQUFBQUFA=");
    g_assert_cmpint(cap->cbitpos, ==, 51);
    qapi_sev_capability_free(cap);
    rep = qmp_query_sev_attestation_report(&m, nonce, &err);
    g_assert_nonnull(rep);
    g_assert_true(g_str_has_prefix(rep->data, "AAECAwQFBgcICQoLDA0OD"));
    qapi_sev_attestation_report_free(rep);
    g_assert_null(qmp_query_sev_attestation_report(&m, secret + 4, &err));
    expect(false, &err, "mnonce must be 16 bytes");
    qmp_sev_inject_launch_secret(&m, true, secret, secret, false, 0, &err);
    expect(false, &err, "gpa must be specified");
    qmp_sev_inject_launch_secret(&m, true, secret, secret, true, 0x1000, &err);
    g_assert_null(err);
    /* QEMU's default: OVMF's secret area from the footer table */
    r.g->ovmf.has_secret_area = true;
    r.g->ovmf.secret_gpa = 0x2000;
    qmp_sev_inject_launch_secret(&m, true, secret, secret, false, 0, &err);
    g_assert_null(err);
    r.g->ovmf.secret_gpa = RAM_SIZE; /* outside guest RAM: refused */
    qmp_sev_inject_launch_secret(&m, true, secret, secret, false, 0, &err);
    g_assert_nonnull(err);
    g_clear_pointer(&err, error_free);
    g_string_truncate(hmp, 0);
    hmp_info_sev(&m, "", 0, hmp);
    g_assert_nonnull(strstr(hmp->str, "state: launch-secret\n"));
    g_assert_nonnull(strstr(hmp->str, "debug: off\n"));
    g_assert_true(sev_launch_finish(r.g, r.cpus, r.n, &err));
    qmp_sev_inject_launch_secret(&m, true, secret, secret, true, 0x1000, &err);
    expect(false, &err, "SEV: Not in correct state. (LSECRET)");
    g_string_free(hmp, TRUE);
    rig_fini(&r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < SEV_KNOWN_COUNT; i++) {
        g_autofree char *a =
            g_strdup_printf("/sev/known-init2/%s", sev_known[i].name);
        g_autofree char *b =
            g_strdup_printf("/sev/known-legacy/%s", sev_known[i].name);

        g_test_add_data_func(a, &sev_known[i], test_known_init2);
        if (sev_known[i].mode != SEV_MODE_SNP) {
            g_test_add_data_func(b, &sev_known[i], test_known_legacy);
        }
    }
    g_test_add_func("/sev/out-of-order", test_out_of_order);
    g_test_add_func("/sev/firmware-errors", test_firmware_errors);
    g_test_add_func("/sev/missing-support", test_missing_support);
    g_test_add_func("/sev/migration-blocked", test_migration_blocked);
    g_test_add_func("/sev/qmp", test_qmp);
    g_test_add_func("/sev/kernel-hashes", test_kernel_hashes);
    g_test_add_func("/sev/memory-fault", test_memory_fault);
    g_test_add_func("/sev/launch-blobs", test_launch_blobs);
    g_test_add_func("/sev/cpuid-leaf", test_cpuid_leaf);
    g_test_add_func("/sev/efer-after-launch/sregs2", test_efer_sregs2);
    g_test_add_func("/sev/efer-after-launch/sregs", test_efer_sregs);
    return g_test_run();
}
