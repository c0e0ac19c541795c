/* SPDX-License-Identifier: MIT */
/*
 * kvm.c: the KVM accelerator: /dev/kvm, API version and capability checks,
 * the VM fd, memory slots, the irqchip (split or whole), IRQ lines, MSIs.
 * See kvm.h.
 * Capabilities are checked up front, each missing one named, so a VM never
 * half-starts on a kernel that cannot run it.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "system/guest-mem.h"
#include "util/keyval.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int real_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
    int r;

    do {
        r = ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR && req != KVM_RUN);
    return r < 0 ? -errno : r;
}

const struct kvm_backend kvm_real_backend = {.ioctl = real_ioctl};

int kvm_ioctl(struct kvm_accel *k, int fd, unsigned long req, void *arg)
{
    return k->be->ioctl(k->be->opaque, fd, req, arg);
}

const char *kvm_ioctl_name(unsigned long req)
{
#define N(x)                                                                   \
    case x:                                                                    \
        return #x
    switch (req) {
        N(KVM_GET_API_VERSION);
        N(KVM_CREATE_VM);
        N(KVM_CHECK_EXTENSION);
        N(KVM_GET_VCPU_MMAP_SIZE);
        N(KVM_GET_SUPPORTED_CPUID);
        N(KVM_GET_MSR_INDEX_LIST);
        N(KVM_CREATE_VCPU);
        N(KVM_SET_USER_MEMORY_REGION);
        N(KVM_SET_TSS_ADDR);
        N(KVM_SET_IDENTITY_MAP_ADDR);
        N(KVM_CREATE_IRQCHIP);
        N(KVM_CREATE_PIT2);
        N(KVM_IRQ_LINE);
        N(KVM_IRQ_LINE_STATUS);
        N(KVM_GET_IRQCHIP);
        N(KVM_SET_IRQCHIP);
        N(KVM_GET_PIT2);
        N(KVM_SET_PIT2);
        N(KVM_RUN);
        N(KVM_GET_REGS);
        N(KVM_SET_REGS);
        N(KVM_GET_SREGS);
        N(KVM_SET_SREGS);
        N(KVM_GET_SREGS2);
        N(KVM_SET_SREGS2);
        N(KVM_GET_MSRS);
        N(KVM_SET_MSRS);
        N(KVM_GET_FPU);
        N(KVM_SET_FPU);
        N(KVM_GET_XSAVE);
        N(KVM_GET_XSAVE2);
        N(KVM_SET_XSAVE);
        N(KVM_GET_XCRS);
        N(KVM_SET_XCRS);
        N(KVM_GET_VCPU_EVENTS);
        N(KVM_SET_VCPU_EVENTS);
        N(KVM_GET_DEBUGREGS);
        N(KVM_SET_DEBUGREGS);
        N(KVM_GET_LAPIC);
        N(KVM_SET_LAPIC);
        N(KVM_GET_MP_STATE);
        N(KVM_SET_MP_STATE);
        N(KVM_SET_CPUID2);
        N(KVM_GET_CPUID2);
        N(KVM_NMI);
        N(KVM_GET_DIRTY_LOG);
        N(KVM_GET_STATS_FD);
        N(KVM_CLEAR_DIRTY_LOG);
        N(KVM_RESET_DIRTY_RINGS);
        N(KVM_ENABLE_CAP);
        N(KVM_SET_TSC_KHZ);
        N(KVM_GET_TSC_KHZ);
        N(KVM_IOEVENTFD);
        N(KVM_IRQFD);
        N(KVM_SET_GSI_ROUTING);
        N(KVM_SIGNAL_MSI);
        N(KVM_GET_CLOCK);
        N(KVM_SET_CLOCK);
        N(KVM_MEMORY_ENCRYPT_OP);
    default:
        return "KVM ioctl";
    }
#undef N
}

int kvm_check_extension(struct kvm_accel *k, long cap)
{
    int fd = k->vm_fd >= 0 ? k->vm_fd : k->sys_fd;
    int r = kvm_ioctl(k, fd, KVM_CHECK_EXTENSION, (void *)cap);

    return r < 0 ? 0 : r;
}

struct cap_name {
    long cap;
    const char *name;
};

static const struct cap_name required_caps[] = {
    {KVM_CAP_HLT, "KVM_CAP_HLT"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
    {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
    {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
    {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
    {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
    {KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS"},
    {KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS"},
    {KVM_CAP_XSAVE, "KVM_CAP_XSAVE"},
    {KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM"},
};

/* What each irqchip mode needs on top. */
static const struct cap_name split_caps[] = {
    {KVM_CAP_SPLIT_IRQCHIP, "KVM_CAP_SPLIT_IRQCHIP"},
    {KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI"},
};
static const struct cap_name whole_caps[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
};

static bool check_caps(struct kvm_accel *k, const struct cap_name *t, size_t n,
                       Error **errp)
{
    for (size_t i = 0; i < n; i++) {
        if (!kvm_check_extension(k, t[i].cap)) {
            error_set(errp, ERROR_CLASS_KVM_MISSING_CAP,
                      "KVM lacks a capability vireo needs: %s", t[i].name);
            return false;
        }
    }
    return true;
}

bool kvm_check_smm_option(const struct kvm_accel *k, const char *s,
                          Error **errp)
{
    bool on;

    if (!s || !strcmp(s, "auto")) {
        return true;
    }
    if (!parse_bool(s, &on)) {
        error_setg(errp, "smm: invalid value '%s' (use on, off or auto)", s);
        return false;
    }
    if (on && !k->has_smm) {
        error_setg(errp, "SMM not supported by this KVM");
        return false;
    }
    return true;
}

bool kvm_parse_irqchip_mode(const char *s, enum kvm_irqchip_mode *out,
                            Error **errp)
{
    bool on;

    if (!strcmp(s, "split")) {
        *out = KVM_IRQCHIP_SPLIT;
        return true;
    }
    if (!parse_bool(s, &on)) {
        error_setg(errp,
                   "kernel-irqchip: invalid value '%s' (use on, split or off)",
                   s);
        return false;
    }
    if (!on) {
        error_setg(errp, "kernel-irqchip=off is not supported: vireo needs "
                         "KVM's in-kernel LAPIC (use on or split)");
        return false;
    }
    *out = KVM_IRQCHIP_ON;
    return true;
}

static bool create_irqchip(struct kvm_accel *k, Error **errp)
{
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    int r;

    if (k->irqchip == KVM_IRQCHIP_SPLIT) {
        struct kvm_enable_cap cap = {
            .cap = KVM_CAP_SPLIT_IRQCHIP,
            .args = {KVM_SPLIT_IOAPIC_PINS},
        };
        r = kvm_ioctl(k, k->vm_fd, KVM_ENABLE_CAP, &cap);
        if (r < 0) {
            error_setg_errno(errp, -r,
                             "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP) failed");
            return false;
        }
        return true;
    }
    r = kvm_ioctl(k, k->vm_fd, KVM_CREATE_IRQCHIP, NULL);
    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_CREATE_IRQCHIP failed");
        return false;
    }
    r = kvm_ioctl(k, k->vm_fd, KVM_CREATE_PIT2, &pit);
    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_CREATE_PIT2 failed");
        return false;
    }
    return true;
}

static struct kvm_cpuid2 *cpuid_table(unsigned n)
{
    struct kvm_cpuid2 *c =
        g_malloc0(sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));

    c->nent = n;
    return c;
}

/* KVM_GET_SUPPORTED_CPUID into c (allocated by the caller, so that the
 * query thread usually allocates nothing: a thread's first malloc makes
 * glibc map a new arena); a larger table on E2BIG. */
static bool get_cpuid(struct kvm_accel *k, struct kvm_cpuid2 *c, Error **errp)
{
    k->supported_cpuid = NULL; /* c is ours until the answer is in */
    for (unsigned n = c->nent;;) {
        int r = kvm_ioctl(k, k->sys_fd, KVM_GET_SUPPORTED_CPUID, c);

        if (r == -E2BIG && n < 4096) {
            g_free(c);
            n *= 2;
            c = cpuid_table(n);
            continue;
        }
        if (r < 0) {
            g_free(c);
            error_setg_errno(errp, -r, "KVM_GET_SUPPORTED_CPUID failed");
            return false;
        }
        k->supported_cpuid = c;
        return true;
    }
}

static void *cpuid_thread(void *opaque)
{
    struct kvm_accel *k = opaque;

    get_cpuid(k, k->supported_cpuid, &k->cpuid_err);
    return NULL;
}

/* Starts KVM_GET_SUPPORTED_CPUID on its own thread (real backend; a fake
 * one answers at once), to overlap with the rest of the set-up. */
static bool start_cpuid_query(struct kvm_accel *k, Error **errp)
{
    /* KVM's own limit (KVM_MAX_CPUID_ENTRIES, 256 since Linux 5.x): KVM
     * builds the whole table before it finds a buffer too small, so an
     * E2BIG round costs as much as the answer. */
    struct kvm_cpuid2 *c = cpuid_table(256);
    pthread_attr_t attr;
    int r;

    if (k->be != &kvm_real_backend) {
        return get_cpuid(k, c, errp);
    }
    /* the thread owns the table until joined (freed on failure) */
    k->supported_cpuid = c;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024); /* two calls deep */
    r = pthread_create(&k->cpuid_thread, &attr, cpuid_thread, k);
    pthread_attr_destroy(&attr);
    if (r) {
        k->supported_cpuid = NULL;
        return get_cpuid(k, c, errp);
    }
    k->cpuid_pending = true;
    return true;
}

bool kvm_wait_supported_cpuid(struct kvm_accel *k, Error **errp)
{
    if (k->cpuid_pending) {
        pthread_join(k->cpuid_thread, NULL);
        k->cpuid_pending = false;
    }
    if (k->cpuid_err) {
        error_propagate(errp, k->cpuid_err);
        k->cpuid_err = NULL;
        return false;
    }
    return true;
}

static bool get_msr_list(struct kvm_accel *k, Error **errp)
{
    /* One call in the usual case: a list of 256 (1 KiB at least, as old
     * kernels could write past nmsrs) and a retry at KVM's size if it is
     * longer. */
    unsigned n = 256;

    for (int tries = 0; tries < 2; tries++) {
        struct kvm_msr_list *l = g_malloc0(sizeof(*l) + n * sizeof(uint32_t));
        int r;

        l->nmsrs = n;
        r = kvm_ioctl(k, k->sys_fd, KVM_GET_MSR_INDEX_LIST, l);
        if (r == -E2BIG && l->nmsrs > n) {
            n = l->nmsrs;
            g_free(l);
            continue;
        }
        if (r < 0) {
            g_free(l);
            error_setg_errno(errp, -r, "KVM_GET_MSR_INDEX_LIST failed");
            return false;
        }
        k->msr_index_list = l;
        return true;
    }
    error_setg(errp, "KVM_GET_MSR_INDEX_LIST: the list keeps growing");
    return false;
}

struct kvm_accel *kvm_accel_new(const struct kvm_backend *be,
                                enum kvm_irqchip_mode irqchip,
                                uint64_t sys_pages, Error **errp)
{
    return kvm_accel_new_typed(be, irqchip, sys_pages, 0, errp);
}

/* KVM_CAP_VM_TYPES (Linux 6.10): bit N set when KVM_CREATE_VM takes type N */
#define KVM_CAP_VM_TYPES_NR 235

struct kvm_accel *kvm_accel_new_typed(const struct kvm_backend *be,
                                      enum kvm_irqchip_mode irqchip,
                                      uint64_t sys_pages, unsigned long vm_type,
                                      Error **errp)
{
    struct kvm_accel *k = g_new0(struct kvm_accel, 1);
    uint64_t idmap = sys_pages;
    int r;

    k->be = be ? be : &kvm_real_backend;
    k->irqchip = irqchip;
    k->vm_fd = -1;
    k->sys_fd = -1;
    g_mutex_init(&k->route_lock);
    g_mutex_init(&k->ring_lock);
    if ((sys_pages & 0xfff) || sys_pages + KVM_SYS_PAGES_SIZE > 4 * GiB ||
        sys_pages < 1 * MiB) {
        error_setg(errp,
                   "KVM's identity map and TSS at 0x%" PRIx64
                   " must be page aligned, above 1 MiB and below 4 GiB",
                   sys_pages);
        goto fail;
    }
    if (!be) {
        k->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (k->sys_fd < 0) {
            int e = errno;
            if (e == ENOENT) {
                error_setg(errp,
                           "/dev/kvm does not exist: KVM is not available "
                           "(is the kvm module loaded and virtualization "
                           "enabled?)");
            } else if (e == EACCES || e == EPERM) {
                error_setg(errp, "no permission to open /dev/kvm (add yourself "
                                 "to the 'kvm' group)");
            } else {
                error_setg_errno(errp, e, "cannot open /dev/kvm");
            }
            goto fail;
        }
    } else {
        k->sys_fd = 0;
    }
    r = kvm_ioctl(k, k->sys_fd, KVM_GET_API_VERSION, NULL);
    if (r != KVM_API_VERSION) {
        error_setg(errp, "KVM API version %d, vireo needs %d", r,
                   KVM_API_VERSION);
        goto fail;
    }
    if (!check_caps(k, required_caps, ARRAY_SIZE(required_caps), errp) ||
        (irqchip == KVM_IRQCHIP_SPLIT
             ? !check_caps(k, split_caps, ARRAY_SIZE(split_caps), errp)
             : !check_caps(k, whole_caps, ARRAY_SIZE(whole_caps), errp))) {
        goto fail;
    }
    k->vcpu_mmap_size = kvm_ioctl(k, k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
    if (k->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
        error_setg(errp, "KVM_GET_VCPU_MMAP_SIZE returned %d",
                   k->vcpu_mmap_size);
        goto fail;
    }
    if (!start_cpuid_query(k, errp) || !get_msr_list(k, errp)) {
        goto fail;
    }
    if (vm_type) {
        int types = kvm_ioctl(k, k->sys_fd, KVM_CHECK_EXTENSION,
                              (void *)(long)KVM_CAP_VM_TYPES_NR);

        /* not offered: a default VM; the caller decides if that will do */
        if (types <= 0 || vm_type >= 32 || !(types & (1u << vm_type))) {
            vm_type = 0;
        }
    }
    k->vm_type = vm_type;
    r = kvm_ioctl(k, k->sys_fd, KVM_CREATE_VM, (void *)vm_type);
    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_CREATE_VM failed");
        goto fail;
    }
    k->vm_fd = r;
    k->nr_slots = kvm_check_extension(k, KVM_CAP_NR_MEMSLOTS);
    if (k->nr_slots <= 0) {
        k->nr_slots = 32;
    }
    k->has_sregs2 = kvm_check_extension(k, KVM_CAP_SREGS2) > 0;
    k->xsave2_size = kvm_check_extension(k, KVM_CAP_XSAVE2);
    k->has_xsave2 = k->xsave2_size > 0;
    k->has_xcrs = kvm_check_extension(k, KVM_CAP_XCRS) > 0;
    k->has_debugregs = true;
    k->has_vcpu_events = true;
    k->has_immediate_exit = true;
    k->has_readonly_mem = true;
    k->has_tsc_deadline = kvm_check_extension(k, KVM_CAP_TSC_DEADLINE_TIMER);
    k->has_x2apic_api = kvm_check_extension(k, KVM_CAP_X2APIC_API) > 0;
    k->has_smm = kvm_check_extension(k, KVM_CAP_X86_SMM) > 0;
    k->has_adjust_clock = kvm_check_extension(k, KVM_CAP_ADJUST_CLOCK) > 0;
    k->has_stats_fd = kvm_check_extension(k, KVM_CAP_BINARY_STATS_FD) > 0;

    r = kvm_ioctl(k, k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_SET_IDENTITY_MAP_ADDR failed");
        goto fail;
    }
    r = kvm_ioctl(k, k->vm_fd, KVM_SET_TSS_ADDR,
                  (void *)(uintptr_t)(sys_pages + 0x1000));
    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_SET_TSS_ADDR failed");
        goto fail;
    }
    if (!create_irqchip(k, errp)) {
        goto fail;
    }
    return k;
fail:
    kvm_accel_free(k);
    return NULL;
}

void kvm_accel_free(struct kvm_accel *k)
{
    if (!k) {
        return;
    }
    kvm_wait_supported_cpuid(k, NULL);
    if (k->be == &kvm_real_backend) {
        if (k->vm_fd >= 0) {
            close(k->vm_fd);
        }
        if (k->sys_fd >= 0) {
            close(k->sys_fd);
        }
    }
    g_free(k->supported_cpuid);
    g_free(k->msr_index_list);
    if (k->msi_routes) {
        g_array_free(k->msi_routes, TRUE);
    }
    g_mutex_clear(&k->route_lock);
    kvm_dirty_ring_free(k);
    g_mutex_clear(&k->ring_lock);
    g_free(k);
}

static bool set_slots(struct kvm_accel *k, struct guest_mem *gm, bool log,
                      bool initial, Error **errp)
{
    for (guint i = 0; i < gm->regions->len; i++) {
        struct gm_region *r = g_ptr_array_index(gm->regions, i);
        struct kvm_userspace_memory_region slot = {
            .slot = i,
            .guest_phys_addr = r->gpa,
            .memory_size = r->size,
            .userspace_addr = (uintptr_t)r->hva,
        };
        int ret;

        if ((int)i >= k->nr_slots) {
            error_setg(errp, "too many memory regions for KVM (%d slots)",
                       k->nr_slots);
            return false;
        }
        if (r->readonly) {
            slot.flags |= KVM_MEM_READONLY;
        } else if (log) {
            slot.flags |= KVM_MEM_LOG_DIRTY_PAGES;
        }
        if (!initial && r->readonly) {
            continue;
        }
        ret = kvm_ioctl(k, k->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot);
        if (ret < 0) {
            error_setg_errno(errp, -ret,
                             "KVM_SET_USER_MEMORY_REGION for '%s' "
                             "(0x%" PRIx64 "+0x%" PRIx64 ") failed",
                             r->name, r->gpa, r->size);
            return false;
        }
    }
    k->next_slot = gm->regions->len;
    return true;
}

bool kvm_set_memory(struct kvm_accel *k, struct guest_mem *gm, Error **errp)
{
    return set_slots(k, gm, false, true, errp);
}

bool kvm_set_dirty_logging(struct kvm_accel *k, struct guest_mem *gm, bool on,
                           Error **errp)
{
    return set_slots(k, gm, on, false, errp);
}

int kvm_create_vcpu(struct kvm_accel *k, unsigned index, struct kvm_run **run,
                    Error **errp)
{
    int fd = kvm_ioctl(k, k->vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)index);
    void *p;

    if (fd < 0) {
        error_setg_errno(errp, -fd, "vCPU %u: KVM_CREATE_VCPU failed", index);
        return fd;
    }
    p = mmap(NULL, k->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             0);
    if (p == MAP_FAILED) {
        int e = errno;
        error_setg_errno(errp, e, "vCPU %u: cannot map kvm_run", index);
        close(fd);
        return -e;
    }
    if (!kvm_dirty_ring_add_vcpu(k, fd, index, errp)) {
        munmap(p, k->vcpu_mmap_size);
        close(fd);
        return -EINVAL;
    }
    *run = p;
    return fd;
}
