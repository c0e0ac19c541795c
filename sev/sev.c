/* SPDX-License-Identifier: MIT */
/*
 * sev.c: the SEV / SEV-ES / SEV-SNP launch sequence of sev.h over the thin
 * wrappers of sev-ioctl.c.  It follows Linux's amd-memory-encryption.rst
 * and the AMD SEV API (56860) / SNP ABI (56421) state machines; QEMU's
 * target/i386/sev.c was read for the order of the commands it issues (the
 * launch digest depends on it).  Host problems are reported before guest
 * memory is touched, each naming what is missing.
 */
#include "util/common.h"
#include "sev/sev.h"
#include "sev/sev-ioctl.h"
#include "system/guest-mem.h"
#include "target-i386/cpu.h"
#include "accel/kvm/vcpu.h"
#include "system/machine.h"

#include <fcntl.h>
#include <unistd.h>

const char *sev_state_name(enum sev_state s)
{
    switch (s) {
    case SEV_STATE_UNINIT:
        return "uninit";
    case SEV_STATE_LAUNCH_UPDATE:
        return "launch-update";
    case SEV_STATE_LAUNCH_SECRET:
        return "launch-secret";
    case SEV_STATE_RUNNING:
        return "running";
    }
    return "?";
}

static const char *obj_type(const struct sev_config *cfg)
{
    return cfg->snp ? "sev-snp-guest" : "sev-guest";
}

/* CPUID 0x8000001F EBX as the host reports it: C-bit position [5:0],
 * physical address bits lost to encryption [11:6] (APM vol. 3, E.4.17). */
void sev_host_cbit(uint32_t *cbitpos, uint32_t *reduced_phys_bits)
{
    uint32_t eax, ebx, ecx, edx;

    *cbitpos = *reduced_phys_bits = 0;

    __asm__ volatile("cpuid"
                     : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
                     : "a"(0x80000000u), "c"(0));
    if (eax < 0x8000001fu) {
        return;
    }
    __asm__ volatile("cpuid"
                     : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
                     : "a"(0x8000001fu), "c"(0));
    *cbitpos = ebx & 0x3f;
    *reduced_phys_bits = (ebx >> 6) & 0x3f;
}

bool sev_host_check(const struct sev_config *cfg, const struct kvm_backend *be,
                    const char *path, int *sev_fd,
                    struct sev_platform_info *info, Error **errp)
{
    struct sev_user_data_status st = {0};
    uint32_t fw = 0;
    int fd = *sev_fd, r;

    memset(info, 0, sizeof(*info));
    if (!be) {
        be = &kvm_real_backend;
        path = "/dev/sev";
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            error_setg(errp,
                       "%s: %s does not exist: this host has no SEV "
                       "firmware driver (ccp with the PSP, on an AMD EPYC "
                       "CPU with SEV enabled in the BIOS)",
                       obj_type(cfg), path);
            return false;
        }
        if (fd < 0) {
            error_setg_errno(errp, errno, "%s: cannot open %s", obj_type(cfg),
                             path);
            return false;
        }
        sev_host_cbit(&info->cbitpos, &info->reduced_phys_bits);
    }
    r = sev_dev_cmd(be, fd, SEV_PLATFORM_STATUS, &st, &fw);
    if (r < 0) {
        if (fw) {
            error_setg(errp,
                       "%s: %s: PLATFORM_STATUS failed: firmware error %s "
                       "(0x%x)",
                       obj_type(cfg), path, sev_fw_error_name(fw), fw);
        } else {
            error_setg_errno(errp, -r, "%s: %s: PLATFORM_STATUS failed",
                             obj_type(cfg), path);
        }
        goto fail;
    }
    info->api_major = st.api_major;
    info->api_minor = st.api_minor;
    info->build = st.build;
    info->flags = st.flags;
    if (be != &kvm_real_backend && !info->cbitpos) {
        /* a modelled platform: its CPUID says what the fake host says */
        info->cbitpos = 51;
        info->reduced_phys_bits = 1;
    }
    if (cfg->has_cbitpos && cfg->cbitpos != info->cbitpos) {
        error_setg(errp, "%s: cbitpos check failed, host '%u' requested '%u'",
                   obj_type(cfg), info->cbitpos, cfg->cbitpos);
        goto fail;
    }
    /* 1..what the platform loses (QEMU's rule); the guest is told the
     * value asked for. */
    if (cfg->has_reduced_phys_bits &&
        cfg->reduced_phys_bits > info->reduced_phys_bits) {
        error_setg(errp,
                   "%s: reduced-phys-bits check failed, it should be in the "
                   "range of 1 to %u, requested '%u'",
                   obj_type(cfg), info->reduced_phys_bits,
                   cfg->reduced_phys_bits);
        goto fail;
    }
    if (cfg->has_reduced_phys_bits) {
        info->reduced_phys_bits = cfg->reduced_phys_bits;
    }
    *sev_fd = fd;
    return true;
fail:
    if (be == &kvm_real_backend) {
        close(fd);
    }
    return false;
}

static unsigned long wanted_vm_type(enum sev_mode mode)
{
    switch (mode) {
    case SEV_MODE_SEV:
        return SEV_KVM_X86_SEV_VM;
    case SEV_MODE_ES:
        return SEV_KVM_X86_SEV_ES_VM;
    case SEV_MODE_SNP:
        return SEV_KVM_X86_SNP_VM;
    }
    return 0;
}

unsigned long sev_vm_type(const struct sev_config *cfg)
{
    return wanted_vm_type(cfg->mode);
}

struct sev_guest *sev_guest_new(const struct sev_config *cfg,
                                struct kvm_accel *k, int sev_fd, bool own_fd,
                                const struct sev_platform_info *info,
                                Error **errp)
{
    struct sev_guest *g = g_new0(struct sev_guest, 1);
    unsigned long type = wanted_vm_type(cfg->mode);
    int types = kvm_check_extension(k, SEV_KVM_CAP_VM_TYPES);
    uint32_t fw = 0;
    int r;

    g->cfg = cfg;
    g->k = k;
    g->be = k->be;
    g->sev_fd = sev_fd;
    g->own_fd = own_fd;
    g->plat = *info;
    /* A NULL op asks KVM whether it has SEV at all: ENOTTY when not. */
    r = kvm_ioctl(k, k->vm_fd, KVM_MEMORY_ENCRYPT_OP, NULL);
    if (r < 0) {
        error_setg(errp,
                   "%s: KVM has no memory encryption support (%s; kvm_amd "
                   "loaded with sev=1%s?)",
                   obj_type(cfg), g_strerror(-r),
                   cfg->mode == SEV_MODE_SEV ? "" : " sev_es=1");
        goto fail;
    }
    if (types > 0 && (types & (1 << type))) {
        struct sev_kvm_init init = {0};

        if (k->vm_type != type) {
            error_setg(errp,
                       "%s: the VM was created with type %lu, KVM_SEV_INIT2 "
                       "needs type %lu",
                       obj_type(cfg), k->vm_type, type);
            goto fail;
        }
        if (sev_kvm_op(k, SEV_CMD_INIT2, &init, sev_fd, &fw, errp) < 0) {
            goto fail;
        }
        g->init2 = true;
    } else if (cfg->mode == SEV_MODE_SNP) {
        error_setg(errp,
                   "sev-snp-guest: KVM does not offer the SEV-SNP VM type "
                   "(KVM_CAP_VM_TYPES lacks KVM_X86_SNP_VM: Linux >= 6.11 "
                   "with kvm_amd.sev_snp=1 is needed)");
        goto fail;
    } else {
        uint32_t cmd =
            cfg->mode == SEV_MODE_ES ? SEV_CMD_ES_INIT : SEV_CMD_INIT;

        if (sev_kvm_op(k, cmd, NULL, sev_fd, &fw, errp) < 0) {
            goto fail;
        }
    }
    return g;
fail:
    g_free(g);
    return NULL;
}

void sev_guest_free(struct sev_guest *g)
{
    if (!g) {
        return;
    }
    /* (a modelled platform's fds are not the process's) */
    for (guint i = 0;
         g->be == &kvm_real_backend && g->gmem_fds && i < g->gmem_fds->len;
         i++) {
        close(g_array_index(g->gmem_fds, int, i));
    }
    if (g->gmem_fds) {
        g_array_free(g->gmem_fds, TRUE);
    }
    if (g->own_fd && g->sev_fd >= 0) {
        close(g->sev_fd);
    }
    g_free(g);
}

void sev_cpu_model_setup(const struct sev_guest *g, struct x86_cpu_model *model)
{
    uint32_t eax = 1u << 1; /* SEV */

    if (g->cfg->mode != SEV_MODE_SEV) {
        eax |= 1u << 3; /* SEV-ES */
    }
    if (g->cfg->mode == SEV_MODE_SNP) {
        eax |= 1u << 4; /* SEV-SNP */
    }
    x86_cpu_model_set_mem_encrypt(model, eax,
                                  (g->plat.cbitpos & 0x3f) |
                                      (g->plat.reduced_phys_bits & 0x3f) << 6);
}

static bool need_state(struct sev_guest *g, enum sev_state want,
                       const char *what, Error **errp)
{
    if (g->state != want) {
        error_setg(errp, "%s: SEV guest is in state %s, needs %s", what,
                   sev_state_name(g->state), sev_state_name(want));
        return false;
    }
    return true;
}

static bool read_b64(const char *path, guchar **out, gsize *len, Error **errp)
{
    g_autofree gchar *text = NULL;
    GError *ge = NULL;

    if (!g_file_get_contents(path, &text, NULL, &ge)) {
        error_setg(errp, "sev-guest: Failed to read '%s' (%s)", path,
                   ge->message);
        g_error_free(ge);
        return false;
    }
    *out = g_base64_decode(g_strstrip(text), len);
    if (!*len) {
        error_setg(errp, "sev-guest: '%s' holds no base64 data", path);
        return false;
    }
    return true;
}

bool sev_launch_start(struct sev_guest *g, Error **errp)
{
    const struct sev_config *c = g->cfg;
    uint32_t fw = 0;

    if (!need_state(g, SEV_STATE_UNINIT, "launch start", errp)) {
        return false;
    }
    if (c->snp) {
        struct sev_kvm_snp_launch_start s = {.policy = c->policy};

        memcpy(s.gosvw, c->gvw, sizeof(s.gosvw));
        if (sev_kvm_op(g->k, SEV_CMD_SNP_LAUNCH_START, &s, g->sev_fd, &fw,
                       errp) < 0) {
            return false;
        }
    } else {
        struct kvm_sev_launch_start s = {.handle = c->handle,
                                         .policy = (uint32_t)c->policy};
        g_autofree guchar *dh = NULL, *session = NULL;
        gsize dh_len = 0, session_len = 0;

        /* The files hold base64 (QEMU's format for both). */
        if ((c->dh_cert_file &&
             !read_b64(c->dh_cert_file, &dh, &dh_len, errp)) ||
            (c->session_file &&
             !read_b64(c->session_file, &session, &session_len, errp))) {
            return false;
        }
        s.dh_uaddr = (uintptr_t)dh;
        s.dh_len = dh_len;
        s.session_uaddr = (uintptr_t)session;
        s.session_len = session_len;
        if (sev_kvm_op(g->k, SEV_CMD_LAUNCH_START, &s, g->sev_fd, &fw, errp) <
            0) {
            return false;
        }
        g->handle = s.handle;
    }
    g->state = SEV_STATE_LAUNCH_UPDATE;
    return true;
}

static bool update_data(struct sev_guest *g, void *hva, size_t len,
                        Error **errp)
{
    struct kvm_sev_launch_update_data u = {.uaddr = (uintptr_t)hva, .len = len};
    uint32_t fw = 0;

    return sev_kvm_op(g->k, SEV_CMD_LAUNCH_UPDATE_DATA, &u, g->sev_fd, &fw,
                      errp) >= 0;
}

/* The APs of an SEV-ES guest start at the firmware's reset block: KVM
 * cannot deliver the SIPI vector into encrypted state. */
static void set_reset_vector(struct x86_cpu *c, uint32_t eip)
{
    struct kvm_sregs2 *s = x86_cpu_sregs_mut(c);

    s->cs.selector = 0xf000;
    s->cs.base = eip & 0xffff0000u;
    x86_cpu_regs_mut(c)->rip = eip & 0xffff;
}

static bool put_reset_state(struct sev_guest *g, struct x86_cpu **cpus,
                            unsigned n, Error **errp)
{
    for (unsigned i = 0; i < n; i++) {
        x86_cpu_reset(cpus[i], i == 0);
        if (i) {
            set_reset_vector(cpus[i], g->ovmf.reset_eip);
        }
        x86_cpu_set_sev_es(cpus[i], true);
        if (!x86_cpu_put(cpus[i], X86_PUT_RESET, errp)) {
            return false;
        }
    }
    return true;
}

static void protect(struct sev_guest *g, struct x86_cpu **cpus, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        x86_cpu_set_state_protected(cpus[i], g->init2);
    }
}

static bool set_attributes(struct sev_guest *g, uint64_t gpa, uint64_t size,
                           bool private, Error **errp)
{
    struct sev_kvm_memory_attributes a = {
        .address = gpa,
        .size = size,
        .attributes = private ? SEV_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
    };
    int r = kvm_ioctl(g->k, g->k->vm_fd, SEV_KVM_SET_MEMORY_ATTRIBUTES, &a);

    if (r < 0) {
        error_setg_errno(errp, -r,
                         "KVM_SET_MEMORY_ATTRIBUTES(%s) of 0x%" PRIx64
                         "+0x%" PRIx64 " failed",
                         private ? "private" : "shared", gpa, size);
        return false;
    }
    return true;
}

static bool set_private(struct sev_guest *g, uint64_t gpa, uint64_t size,
                        Error **errp)
{
    return set_attributes(g, gpa, size, true, errp);
}

/* The vCPU seccomp allowlist (system/sandbox-rules.h) names this ioctl by
 * its number, for the conversions below on the vCPU thread. */
G_STATIC_ASSERT(SEV_KVM_SET_MEMORY_ATTRIBUTES ==
                _IOW(KVMIO, 0xd2, uint64_t[4]));

bool sev_handle_memory_fault(struct sev_guest *g, const struct kvm_run *run,
                             Error **errp)
{
    struct sev_kvm_memory_fault mf;

    if (run->exit_reason != SEV_KVM_EXIT_MEMORY_FAULT) {
        error_setg(errp, "exit %u is not KVM_EXIT_MEMORY_FAULT",
                   run->exit_reason);
        return false;
    }
    /* the exit union starts where every member does */
    memcpy(&mf, &run->hw, sizeof(mf));
    if ((mf.gpa | mf.size) & (SEV_PAGE_SIZE - 1) || !mf.size ||
        mf.gpa + mf.size < mf.gpa ||
        mf.flags & ~SEV_KVM_MEMORY_EXIT_FLAG_PRIVATE) {
        error_setg(errp,
                   "memory fault at 0x%" PRIx64 "+0x%" PRIx64
                   " (flags 0x%" PRIx64 "): not a page-aligned range",
                   mf.gpa, mf.size, mf.flags);
        return false;
    }
    return set_attributes(g, mf.gpa, mf.size,
                          mf.flags & SEV_KVM_MEMORY_EXIT_FLAG_PRIVATE, errp);
}

static bool snp_update(struct sev_guest *g, uint64_t gpa, void *hva,
                       uint64_t len, enum sev_snp_page_type type, Error **errp)
{
    struct sev_kvm_snp_launch_update u = {
        .gfn_start = gpa >> 12,
        .uaddr = (uintptr_t)hva,
        .len = len,
        .type = type,
    };
    uint32_t fw = 0;

    if (!set_private(g, gpa, len, errp)) {
        return false;
    }
    if (sev_kvm_op(g->k, SEV_CMD_SNP_LAUNCH_UPDATE, &u, g->sev_fd, &fw, errp) <
        0) {
        error_prepend(errp, "gpa 0x%" PRIx64 " (%" PRIu64 " bytes): ", gpa,
                      len);
        return false;
    }
    return true;
}

/* The SNP CPUID page (SNP ABI "CPUID page"): the vCPU's CPUID table, which
 * the firmware checks against what the hardware allows. */
static void fill_cpuid_page(uint8_t *page, const struct kvm_cpuid2 *t)
{
    uint32_t n = 0;

    memset(page, 0, SEV_PAGE_SIZE);
    for (uint32_t i = 0; t && i < t->nent && n < 64; i++) {
        const struct kvm_cpuid_entry2 *e = &t->entries[i];
        uint8_t *f = page + 16 + 48 * n++;

        memcpy(f, &e->function, 4);
        memcpy(f + 4, &e->index, 4);
        f[8] = e->function == 0xd && e->index <= 1; /* xcr0_in: x87 */
        memcpy(f + 24, &e->eax, 4);
        memcpy(f + 28, &e->ebx, 4);
        memcpy(f + 32, &e->ecx, 4);
        memcpy(f + 36, &e->edx, 4);
    }
    memcpy(page, &n, 4);
}

bool sev_snp_private_memory(struct sev_guest *g, struct guest_mem *gm,
                            Error **errp)
{
    struct kvm_accel *k = g->k;

    if (kvm_check_extension(k, SEV_KVM_CAP_GUEST_MEMFD) <= 0 ||
        kvm_check_extension(k, SEV_KVM_CAP_USER_MEMORY2) <= 0) {
        error_setg(errp, "sev-snp-guest: KVM has no guest_memfd "
                         "(KVM_CAP_GUEST_MEMFD and KVM_CAP_USER_MEMORY2, "
                         "Linux >= 6.8)");
        return false;
    }
    if (!g->gmem_fds) {
        g->gmem_fds = g_array_new(FALSE, FALSE, sizeof(int));
    }
    for (guint i = 0; i < gm->regions->len; i++) {
        struct gm_region *r = g_ptr_array_index(gm->regions, i);
        struct sev_kvm_create_guest_memfd c = {.size = r->size};
        struct kvm_userspace_memory_region del = {.slot = i};
        struct sev_kvm_userspace_memory_region2 slot = {
            .slot = i,
            .flags = SEV_KVM_MEM_GUEST_MEMFD,
            .guest_phys_addr = r->gpa,
            .memory_size = r->size,
            .userspace_addr = (uintptr_t)r->hva,
        };
        int fd = kvm_ioctl(k, k->vm_fd, SEV_KVM_CREATE_GUEST_MEMFD, &c);
        int ret;

        if (fd < 0) {
            error_setg_errno(errp, -fd,
                             "KVM_CREATE_GUEST_MEMFD for '%s' (%" PRIu64
                             " bytes) failed",
                             r->name, r->size);
            return false;
        }
        g_array_append_val(g->gmem_fds, fd);
        slot.guest_memfd = fd;
        ret = kvm_ioctl(k, k->vm_fd, KVM_SET_USER_MEMORY_REGION, &del);
        if (ret >= 0) {
            ret =
                kvm_ioctl(k, k->vm_fd, SEV_KVM_SET_USER_MEMORY_REGION2, &slot);
        }
        if (ret < 0) {
            error_setg_errno(errp, -ret,
                             "KVM_SET_USER_MEMORY_REGION2 (guest_memfd) for "
                             "'%s' (0x%" PRIx64 "+0x%" PRIx64 ") failed",
                             r->name, r->gpa, r->size);
            return false;
        }
    }
    return true;
}

static bool snp_launch_update(struct sev_guest *g, uint8_t *fw, size_t fw_size,
                              struct guest_mem *gm, const uint8_t *hashes,
                              struct x86_cpu **cpus, Error **errp)
{
    const struct sev_ovmf *o = &g->ovmf;

    if (!snp_update(g, o->gpa, fw, fw_size, SEV_SNP_PAGE_NORMAL, errp)) {
        return false;
    }
    for (unsigned i = 0; i < o->nr_sections; i++) {
        const struct sev_ovmf_section *s = &o->sections[i];
        enum sev_snp_page_type t =
            sev_ovmf_section_page_type(s->type, hashes != NULL);
        uint8_t *hva = gm_map(gm, s->gpa, s->size, true);

        if (!hva) {
            error_setg(errp,
                       "firmware: SEV metadata section 0x%x+0x%x is not "
                       "guest RAM",
                       s->gpa, s->size);
            return false;
        }
        if (t == SEV_SNP_PAGE_CPUID) {
            fill_cpuid_page(hva, x86_cpu_cpuid(cpus[0]));
        } else if (t == SEV_SNP_PAGE_NORMAL) {
            uint32_t off;

            if (!sev_ovmf_hashes_offset(o, s, &off, errp)) {
                return false;
            }
            memset(hva, 0, s->size);
            memcpy(hva + off, hashes, SEV_HASHES_TABLE_LEN);
        }
        if (!snp_update(g, s->gpa, hva, s->size, t, errp)) {
            return false;
        }
    }
    return true;
}

bool sev_launch_update(struct sev_guest *g, uint8_t *fw, size_t fw_size,
                       struct guest_mem *gm, const uint8_t *hashes,
                       struct x86_cpu **cpus, unsigned nr_cpus, Error **errp)
{
    const struct sev_config *c = g->cfg;
    uint32_t fwe = 0;

    if (!need_state(g, SEV_STATE_LAUNCH_UPDATE, "launch update", errp)) {
        return false;
    }
    if (!sev_ovmf_parse(fw, fw_size, &g->ovmf, errp) ||
        !sev_ovmf_check(&g->ovmf, c->mode, hashes != NULL, errp)) {
        return false;
    }
    if (c->mode == SEV_MODE_SNP) {
        /* vCPU state first: SNP_LAUNCH_FINISH measures the VMSAs. */
        return put_reset_state(g, cpus, nr_cpus, errp) &&
               sev_snp_private_memory(g, gm, errp) &&
               snp_launch_update(g, fw, fw_size, gm, hashes, cpus, errp);
    }
    if (!update_data(g, fw, fw_size, errp)) {
        return false;
    }
    if (hashes) {
        uint8_t *hva =
            gm_map(gm, g->ovmf.hashes_table_gpa, SEV_HASHES_TABLE_LEN, true);

        if (!hva) {
            error_setg(errp,
                       "firmware: kernel hashes table at 0x%x is not "
                       "guest RAM",
                       g->ovmf.hashes_table_gpa);
            return false;
        }
        memcpy(hva, hashes, SEV_HASHES_TABLE_LEN);
        if (!update_data(g, hva, SEV_HASHES_TABLE_LEN, errp)) {
            return false;
        }
    }
    if (c->mode == SEV_MODE_ES) {
        if (!put_reset_state(g, cpus, nr_cpus, errp) ||
            sev_kvm_op(g->k, SEV_CMD_LAUNCH_UPDATE_VMSA, NULL, g->sev_fd, &fwe,
                       errp) < 0) {
            return false;
        }
        protect(g, cpus, nr_cpus);
    }
    return true;
}

bool sev_launch_measure(struct sev_guest *g, Error **errp)
{
    struct kvm_sev_launch_measure m = {
        .uaddr = (uintptr_t)g->measurement,
        .len = sizeof(g->measurement),
    };
    uint32_t fw = 0;

    if (g->cfg->snp) {
        error_setg(errp, "SEV-SNP has no LAUNCH_MEASURE: the measurement is "
                         "in the attestation report");
        return false;
    }
    if (!need_state(g, SEV_STATE_LAUNCH_UPDATE, "launch measure", errp) ||
        sev_kvm_op(g->k, SEV_CMD_LAUNCH_MEASURE, &m, g->sev_fd, &fw, errp) <
            0) {
        return false;
    }
    if (m.len > sizeof(g->measurement)) {
        error_setg(errp, "KVM_SEV_LAUNCH_MEASURE returned %u bytes (max %zu)",
                   m.len, sizeof(g->measurement));
        return false;
    }
    g->measurement_len = m.len;
    g->state = SEV_STATE_LAUNCH_SECRET;
    return true;
}

bool sev_inject_secret(struct sev_guest *g, struct guest_mem *gm,
                       const uint8_t *hdr, size_t hdr_len,
                       const uint8_t *secret, size_t secret_len, uint64_t gpa,
                       Error **errp)
{
    struct kvm_sev_launch_secret s = {0};
    uint8_t *hva;
    uint32_t fw = 0;

    if (g->state != SEV_STATE_LAUNCH_SECRET) {
        error_setg(errp, "SEV: Not in correct state. (LSECRET) %x", g->state);
        return false;
    }
    hva = gm_map(gm, gpa, secret_len, true);
    if (!hva) {
        error_setg(errp, "SEV: Failed to calculate guest address.");
        return false;
    }
    s.hdr_uaddr = (uintptr_t)hdr;
    s.hdr_len = hdr_len;
    s.trans_uaddr = (uintptr_t)secret;
    s.trans_len = secret_len;
    s.guest_uaddr = (uintptr_t)hva;
    s.guest_len = secret_len;
    return sev_kvm_op(g->k, SEV_CMD_LAUNCH_SECRET, &s, g->sev_fd, &fw, errp) >=
           0;
}

bool sev_launch_finish(struct sev_guest *g, struct x86_cpu **cpus,
                       unsigned nr_cpus, Error **errp)
{
    const struct sev_config *c = g->cfg;
    uint32_t fw = 0;

    if (c->snp) {
        struct sev_kvm_snp_launch_finish f = {
            .id_block_en = c->has_id_block,
            .auth_key_en = c->author_key_enabled,
        };

        if (!need_state(g, SEV_STATE_LAUNCH_UPDATE, "launch finish", errp)) {
            return false;
        }
        if (c->has_id_block) {
            f.id_block_uaddr = (uintptr_t)c->id_block;
            f.id_auth_uaddr = (uintptr_t)c->id_auth;
        }
        memcpy(f.host_data, c->host_data, sizeof(f.host_data));
        if (sev_kvm_op(g->k, SEV_CMD_SNP_LAUNCH_FINISH, &f, g->sev_fd, &fw,
                       errp) < 0) {
            return false;
        }
        protect(g, cpus, nr_cpus);
    } else {
        if (!need_state(g, SEV_STATE_LAUNCH_SECRET, "launch finish", errp) ||
            sev_kvm_op(g->k, SEV_CMD_LAUNCH_FINISH, NULL, g->sev_fd, &fw,
                       errp) < 0) {
            return false;
        }
    }
    g->state = SEV_STATE_RUNNING;
    return true;
}

char *sev_attestation_report(struct sev_guest *g, const uint8_t mnonce[16],
                             Error **errp)
{
    struct kvm_sev_attestation_report r = {0};
    g_autofree uint8_t *buf = NULL;
    uint32_t fw = 0;

    if (g->cfg->snp) {
        error_setg(errp, "SEV-SNP guests request their attestation report "
                         "themselves (SNP_GUEST_REQUEST)");
        return NULL;
    }
    memcpy(r.mnonce, mnonce, sizeof(r.mnonce));
    /* The length first: the firmware answers INVALID_LENGTH with it. */
    if (sev_kvm_op(g->k, SEV_CMD_GET_ATTESTATION_REPORT, &r, g->sev_fd, &fw,
                   NULL) < 0 &&
        fw != SEV_RET_INVALID_LEN) {
        error_setg(errp,
                   "SEV: Failed to query the attestation report length "
                   "fw_err=%u (%s)",
                   fw, sev_fw_error_name(fw));
        return NULL;
    }
    if (!r.len || r.len > 64 * KiB) {
        error_setg(errp, "SEV: attestation report length %u", r.len);
        return NULL;
    }
    buf = g_malloc0(r.len);
    r.uaddr = (uintptr_t)buf;
    if (sev_kvm_op(g->k, SEV_CMD_GET_ATTESTATION_REPORT, &r, g->sev_fd, &fw,
                   errp) < 0) {
        return NULL;
    }
    return g_base64_encode(buf, r.len);
}

bool sev_migration_blocked(const struct sev_guest *g, Error **errp)
{
    if (!g) {
        return false;
    }
    /* QEMU's blocker text */
    error_setg(errp, "SEV: Migration is not implemented");
    return true;
}

/* ---- the machine's use ---- */

bool sev_machine_check(struct machine *m, Error **errp)
{
    struct sev_platform_info info;

    if (!sev_host_check(m->cfg->sev, NULL, NULL, &m->sev_fd, &info, errp)) {
        return false;
    }
    m->sev = g_new0(struct sev_guest, 1);
    m->sev->plat = info; /* kept until sev_machine_init replaces it */
    return true;
}

bool sev_machine_init(struct machine *m, Error **errp)
{
    struct sev_platform_info info = m->sev->plat;

    g_free(m->sev);
    m->sev = sev_guest_new(m->cfg->sev, m->kvm, m->sev_fd, true, &info, errp);
    if (m->sev) {
        m->sev_fd = -1; /* owned by the guest context now */
    }
    return m->sev != NULL;
}

bool sev_machine_launch(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    g_autofree struct x86_cpu **cpus = g_new0(struct x86_cpu *, m->nr_vcpus);
    g_autofree gchar *kernel = NULL, *initrd = NULL;
    gsize kernel_len = 0, initrd_len = 0;
    uint8_t table[SEV_HASHES_TABLE_LEN];
    const uint8_t *hashes = NULL;

    if (!m->bios_rom) {
        error_setg(errp, "%s: needs -bios (an OVMF image built for SEV)",
                   obj_type(cfg->sev));
        return false;
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        cpus[i] = m->vcpus[i]->arch;
    }
    if (cfg->sev->kernel_hashes && cfg->kernel) {
        GError *ge = NULL;

        if (!g_file_get_contents(cfg->kernel, &kernel, &kernel_len, &ge) ||
            (cfg->initrd &&
             !g_file_get_contents(cfg->initrd, &initrd, &initrd_len, &ge))) {
            error_setg(errp, "kernel-hashes: %s", ge->message);
            g_error_free(ge);
            return false;
        }
        if (!sev_hashes_table_build((uint8_t *)kernel, kernel_len,
                                    (uint8_t *)initrd, initrd_len, cfg->append,
                                    table, errp)) {
            return false;
        }
        hashes = table;
    }
    if (!sev_launch_start(m->sev, errp) ||
        !sev_launch_update(m->sev, m->bios_rom, m->bios_size, m->gm, hashes,
                           cpus, m->nr_vcpus, errp)) {
        return false;
    }
    if (!cfg->sev->snp && !sev_launch_measure(m->sev, errp)) {
        return false;
    }
    /* SEV-ES/SNP: the launch put the reset state (APs at the reset block)
     * and measured it; the vCPU threads must not reset it again. */
    for (unsigned i = 0; cfg->sev->mode != SEV_MODE_SEV && i < m->nr_vcpus;
         i++) {
        m->vcpus[i]->pending_reset = false;
    }
    return cfg->start_paused ||
           sev_launch_finish(m->sev, cpus, m->nr_vcpus, errp);
}

bool sev_machine_finish(struct machine *m, Error **errp)
{
    g_autofree struct x86_cpu **cpus = NULL;

    if (!m->sev || !m->sev->k || m->sev->state == SEV_STATE_RUNNING) {
        return true;
    }
    cpus = g_new0(struct x86_cpu *, m->nr_vcpus);
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        cpus[i] = m->vcpus[i]->arch;
    }
    return sev_launch_finish(m->sev, cpus, m->nr_vcpus, errp);
}

bool sev_cpus_resettable(const struct machine *m)
{
    return !m->sev || !m->sev->cfg || m->sev->cfg->mode == SEV_MODE_SEV;
}

void sev_machine_free(struct machine *m)
{
    if (m->sev_fd >= 0) {
        close(m->sev_fd);
        m->sev_fd = -1;
    }
    if (m->sev && m->sev->k) {
        sev_guest_free(m->sev);
    } else {
        g_free(m->sev);
    }
    m->sev = NULL;
}
