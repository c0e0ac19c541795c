/* SPDX-License-Identifier: MIT */
/*
 * fake-kvm.c: the in-memory KVM backend described in fake-kvm.h.
 */
#include "util/common.h"
#include "tests/unit/fake-kvm.h"
#include "target-i386/cpu-internal.h"

static int find_msr(struct fake_kvm *f, uint32_t index)
{
    for (unsigned i = 0; i < f->nmsrs; i++) {
        if (f->msrs[i].index == index) {
            return i;
        }
    }
    return -1;
}

static void add_msr(struct fake_kvm *f, uint32_t index)
{
    g_assert(f->nmsrs < FAKE_MAX_MSRS);
    f->msrs[f->nmsrs].index = index;
    f->msrs[f->nmsrs].value = 0;
    f->nmsrs++;
}

/* What kvm_is_valid_sregs() refuses. */
static bool sregs_valid(const struct kvm_sregs2 *s)
{
    bool lme = s->efer & (1u << 8), lma = s->efer & (1u << 10);
    bool pg = s->cr0 & (1ULL << 31), pe = s->cr0 & 1;

    if (lme && pg) {
        if (!(s->cr4 & (1u << 5)) || !lma) {
            return false;
        }
        if (s->cr3 >> 39) { /* the fake host's MAXPHYADDR */
            return false;
        }
    } else if (lma || s->cs.l) {
        return false;
    }
    if (pg && !pe) {
        return false;
    }
    return !(s->flags & ~(uint64_t)KVM_SREGS2_FLAGS_PDPTRS_VALID);
}

static int msrs_op(struct fake_kvm *f, struct kvm_msrs *m, bool set)
{
    if (set) {
        g_array_set_size(f->last_set_msrs, 0);
    }
    for (uint32_t i = 0; i < m->nmsrs; i++) {
        int j = find_msr(f, m->entries[i].index);

        if (j < 0 || (set ? f->msrs[j].refuse_set : f->msrs[j].refuse_get)) {
            return i;
        }
        if (set) {
            f->msrs[j].value = m->entries[i].data;
            g_array_append_val(f->last_set_msrs, m->entries[i].index);
        } else {
            m->entries[i].data = f->msrs[j].value;
        }
    }
    return m->nmsrs;
}

static int fake_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
    struct fake_kvm *f = opaque;

    g_array_append_val(f->calls, req);
    for (unsigned i = 0; i < f->nfails; i++) {
        if (f->fails[i].req == req && ++f->fails[i].seen == f->fails[i].nth) {
            return -f->fails[i].err;
        }
    }
    if (fd == FAKE_SYS_FD && req == KVM_GET_MSRS) {
        struct kvm_msrs *m = arg;

        /* Feature MSRs: only ARCH_CAPABILITIES here. */
        if (m->nmsrs < 1 || m->entries[0].index != 0x10a) {
            return 0;
        }
        m->entries[0].data = f->arch_caps;
        return 1;
    }
    if (fd == FAKE_VM_FD) {
        struct kvm_irqchip *c = arg;

        switch (req) {
        case KVM_GET_CLOCK:
            memcpy(arg, &f->clock, sizeof(f->clock));
            return 0;
        case KVM_SET_CLOCK:
            f->clock.clock = ((struct kvm_clock_data *)arg)->clock;
            return 0;
        case KVM_GET_IRQCHIP:
        case KVM_SET_IRQCHIP:
            if (c->chip_id > 2) {
                return -EINVAL;
            }
            if (req == KVM_GET_IRQCHIP) {
                c->chip = f->chips[c->chip_id].chip;
            } else {
                f->chips[c->chip_id].chip = c->chip;
            }
            return 0;
        case KVM_GET_PIT2:
            memcpy(arg, &f->pit, sizeof(f->pit));
            return 0;
        case KVM_SET_PIT2:
            memcpy(&f->pit, arg, sizeof(f->pit));
            return 0;
        default:
            return -ENOTTY;
        }
    }
    if (fd != FAKE_VCPU_FD) {
        return -EBADF;
    }
    switch (req) {
    case KVM_GET_REGS:
        memcpy(arg, &f->regs, sizeof(f->regs));
        return 0;
    case KVM_SET_REGS:
        memcpy(&f->regs, arg, sizeof(f->regs));
        return 0;
    case KVM_GET_SREGS2:
        memcpy(arg, &f->sregs, sizeof(f->sregs));
        return 0;
    case KVM_SET_SREGS2:
        if (!sregs_valid(arg)) {
            return -EINVAL;
        }
        memcpy(&f->sregs, arg, sizeof(f->sregs));
        return 0;
    case KVM_GET_SREGS: {
        struct kvm_sregs *s = arg;

        memset(s, 0, sizeof(*s));
        memcpy(s, &f->sregs, offsetof(struct kvm_sregs, interrupt_bitmap));
        return 0;
    }
    case KVM_SET_SREGS: {
        struct kvm_sregs2 s2 = {0};

        memcpy(&s2, arg, offsetof(struct kvm_sregs, interrupt_bitmap));
        if (!sregs_valid(&s2)) {
            return -EINVAL;
        }
        f->sregs = s2;
        return 0;
    }
    case KVM_GET_MSRS:
        return msrs_op(f, arg, false);
    case KVM_SET_MSRS:
        return msrs_op(f, arg, true);
    case KVM_GET_XSAVE:
        memcpy(arg, f->xsave, sizeof(struct kvm_xsave));
        return 0;
    case KVM_GET_XSAVE2:
        if (!f->accel.has_xsave2) {
            return -EINVAL;
        }
        memcpy(arg, f->xsave, f->accel.xsave2_size);
        return 0;
    case KVM_SET_XSAVE:
        memcpy(f->xsave, arg,
               f->accel.has_xsave2 ? (size_t)f->accel.xsave2_size
                                   : sizeof(struct kvm_xsave));
        return 0;
    case KVM_GET_XCRS:
        memcpy(arg, &f->xcrs, sizeof(f->xcrs));
        return 0;
    case KVM_SET_XCRS: {
        const struct kvm_xcrs *x = arg;

        if (x->nr_xcrs < 1 || x->xcrs[0].xcr != 0 || !(x->xcrs[0].value & 1)) {
            return -EINVAL;
        }
        f->xcrs = *x;
        return 0;
    }
    case KVM_GET_VCPU_EVENTS:
        memcpy(arg, &f->events, sizeof(f->events));
        return 0;
    case KVM_SET_VCPU_EVENTS:
        memcpy(&f->events, arg, sizeof(f->events));
        return 0;
    case KVM_GET_DEBUGREGS:
        memcpy(arg, &f->dbg, sizeof(f->dbg));
        return 0;
    case KVM_SET_DEBUGREGS: {
        const struct kvm_debugregs *d = arg;

        if (d->flags || (d->dr6 >> 32) || (d->dr7 >> 32)) {
            return -EINVAL;
        }
        f->dbg = *d;
        return 0;
    }
    case KVM_GET_LAPIC:
        memcpy(arg, &f->lapic, sizeof(f->lapic));
        return 0;
    case KVM_SET_LAPIC:
        memcpy(&f->lapic, arg, sizeof(f->lapic));
        return 0;
    case KVM_GET_MP_STATE:
        memcpy(arg, &f->mp, sizeof(f->mp));
        return 0;
    case KVM_SET_MP_STATE:
        memcpy(&f->mp, arg, sizeof(f->mp));
        return 0;
    case KVM_RUN:
        /* Only ever entered with immediate_exit here (completing an owed
         * I/O): KVM finishes the I/O and returns at once. */
        return 0;
    case KVM_SET_CPUID2: {
        const struct kvm_cpuid2 *c = arg;
        size_t sz = sizeof(*c) + c->nent * sizeof(c->entries[0]);

        if (c->nent > 256) {
            return -E2BIG;
        }
        g_free(f->cpuid);
        f->cpuid = g_memdup2(c, sz);
        return 0;
    }
    default:
        return -ENOTTY;
    }
}

static void set_vendor(struct kvm_cpuid_entry2 *e, const char *v)
{
    memcpy(&e->ebx, v, 4);
    memcpy(&e->edx, v + 4, 4);
    memcpy(&e->ecx, v + 8, 4);
}

static struct kvm_cpuid2 *fake_supported_cpuid(void)
{
    /* An Intel-like host: no svm, no avx512, has arch-capabilities. */
    static const struct kvm_cpuid_entry2 ents[] = {
        {.function = 0, .eax = 0xd},
        {.function = 1,
         .eax = 0x000906ea,
         .ecx = 0xf7fa3203, /* sse3 pclmul ssse3 fma cx16 pcid sse4.x
                               x2apic movbe popcnt tsc-dl aes xsave avx
                               f16c rdrand hypervisor (no vmx/smx) */
         .edx = 0x0f8bfbff},
        {.function = 4,
         .index = 0,
         .flags = 1,
         .eax = 0x121,
         .ebx = 0x1c0003f,
         .ecx = 0x3f},
        {.function = 4,
         .index = 1,
         .flags = 1,
         .eax = 0x122,
         .ebx = 0x1c0003f,
         .ecx = 0x3f},
        {.function = 4,
         .index = 2,
         .flags = 1,
         .eax = 0x143,
         .ebx = 0x3c0003f,
         .ecx = 0x3ff},
        {.function = 4, .index = 3, .flags = 1},
        {.function = 6, .eax = 0x4},
        {.function = 7,
         .flags = 1,
         .ebx = 0x009c07ab,  /* fsgsbase tsc-adjust bmi1 avx2 smep bmi2 erms
                                invpcid rdseed adx smap clflushopt */
         .ecx = 0x00400004,  /* umip rdpid */
         .edx = 0xbc000400}, /* md-clear spec-ctrl stibp flush-l1d
                                arch-capabilities ssbd */
        {.function = 0xd,
         .index = 0,
         .flags = 1,
         .eax = 0x7,
         .ebx = 0x340,
         .ecx = 0x340},
        {.function = 0xd, .index = 1, .flags = 1, .eax = 0x1},
        {.function = 0xd, .index = 2, .flags = 1, .eax = 0x100, .ebx = 0x240},
        {.function = 0x40000001, .eax = 0x01007aff},
        {.function = 0x80000000, .eax = 0x80000008},
        {.function = 0x80000001, .ecx = 0x121, .edx = 0x2c100800},
        {.function = 0x80000002, .eax = 0x656b6146}, /* "Fake" */
        {.function = 0x80000003},
        {.function = 0x80000004},
        {.function = 0x80000007, .edx = 0x100},
        {.function = 0x80000008, .eax = 0x3027},
    };
    struct kvm_cpuid2 *c =
        g_malloc0(sizeof(*c) + ARRAY_SIZE(ents) * sizeof(c->entries[0]));

    c->nent = ARRAY_SIZE(ents);
    memcpy(c->entries, ents, sizeof(ents));
    set_vendor(&c->entries[0], "GenuineIntel");
    return c;
}

/* The last row: listed by KVM and carried since issue 10. */
static const uint32_t listed_msrs[] = {
    0x174,      0x175,      0x176,      0xc0000081, 0xc0000082, 0xc0000083,
    0xc0000084, 0xc0000102, 0xc0000103, 0x10,       0x3b,       0x48,
    0x1a0,      0x11,       0x12,       0x4b564d00, 0x4b564d01, 0x4b564d02,
    0x4b564d03, 0x4b564d04, 0x4b564d06, 0x6e0,      0x10a,      0x4b564d05,
    0xc001011f, 0x1d9,      0x17a,      0x17b,      0xc0010117, 0x34,
};

void fake_kvm_init(struct fake_kvm *f)
{
    struct kvm_msr_list *l;

    memset(f, 0, sizeof(*f));
    f->be.ioctl = fake_ioctl;
    f->be.opaque = f;
    f->calls = g_array_new(FALSE, FALSE, sizeof(unsigned long));
    f->last_set_msrs = g_array_new(FALSE, FALSE, sizeof(uint32_t));

    f->accel.be = &f->be;
    f->accel.sys_fd = FAKE_SYS_FD;
    f->arch_caps = 0x400000000c000069ULL; /* this machine's value */
    f->accel.vm_fd = -1;
    f->accel.has_sregs2 = true;
    f->accel.has_xsave2 = true;
    f->accel.xsave2_size = FAKE_XSAVE2_SIZE;
    f->accel.has_xcrs = true;
    f->accel.has_debugregs = true;
    f->accel.has_vcpu_events = true;
    f->accel.has_tsc_deadline = true;
    f->accel.supported_cpuid = fake_supported_cpuid();
    l = g_malloc0(sizeof(*l) + sizeof(listed_msrs));
    l->nmsrs = ARRAY_SIZE(listed_msrs);
    memcpy(l->indices, listed_msrs, sizeof(listed_msrs));
    f->accel.msr_index_list = l;

    /* KVM knows the listed MSRs plus the ones it handles unlisted. */
    for (size_t i = 0; i < ARRAY_SIZE(listed_msrs); i++) {
        add_msr(f, listed_msrs[i]);
    }
    add_msr(f, 0x277);
    add_msr(f, 0x2ff);
    add_msr(f, 0x250);
    add_msr(f, 0x258);
    add_msr(f, 0x259);
    for (uint32_t i = 0x268; i <= 0x26f; i++) {
        add_msr(f, i);
    }
    for (uint32_t i = 0x200; i <= 0x20f; i++) {
        add_msr(f, i);
    }
}

void fake_kvm_destroy(struct fake_kvm *f)
{
    g_array_free(f->calls, TRUE);
    g_array_free(f->last_set_msrs, TRUE);
    g_free(f->cpuid);
    g_free(f->accel.supported_cpuid);
    g_free(f->accel.msr_index_list);
}

void fake_kvm_fail(struct fake_kvm *f, unsigned long req, unsigned nth, int err)
{
    g_assert(f->nfails < G_N_ELEMENTS(f->fails));
    f->fails[f->nfails++] =
        (struct fake_fail){.req = req, .nth = nth, .err = err};
}

void fake_kvm_refuse_msr(struct fake_kvm *f, uint32_t index, bool get, bool set)
{
    int j = find_msr(f, index);

    g_assert(j >= 0);
    f->msrs[j].refuse_get = get;
    f->msrs[j].refuse_set = set;
}

bool fake_kvm_msr(const struct fake_kvm *f, uint32_t index, uint64_t *val)
{
    for (unsigned i = 0; i < f->nmsrs; i++) {
        if (f->msrs[i].index == index) {
            *val = f->msrs[i].value;
            return true;
        }
    }
    return false;
}

void fake_kvm_clear_log(struct fake_kvm *f)
{
    g_array_set_size(f->calls, 0);
}

unsigned fake_kvm_count(const struct fake_kvm *f, unsigned long req)
{
    unsigned n = 0;

    for (unsigned i = 0; i < f->calls->len; i++) {
        n += g_array_index(f->calls, unsigned long, i) == req;
    }
    return n;
}

char *fake_kvm_log(const struct fake_kvm *f)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < f->calls->len; i++) {
        g_string_append_printf(
            s, "%s%s", i ? " " : "",
            kvm_ioctl_name(g_array_index(f->calls, unsigned long, i)));
    }
    return g_string_free(s, FALSE);
}

uint32_t fake_kvm_cpuid(const struct fake_kvm *f, uint32_t leaf,
                        uint32_t subleaf, int reg)
{
    const struct kvm_cpuid_entry2 *e =
        x86_cpuid_find_const(f->cpuid, leaf, subleaf);

    if (!e) {
        return 0;
    }
    return *x86_cpuid_reg((struct kvm_cpuid_entry2 *)e, reg);
}
