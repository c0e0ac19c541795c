/* SPDX-License-Identifier: MIT */
/*
 * fake-kvm.c: the in-memory KVM backend described in fake-kvm.h.
 */
#include "util/common.h"
#include "tests/unit/fake-kvm.h"
#include "target-i386/cpu-internal.h"
#include <sys/mman.h>
#include <unistd.h>

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

/* The VM fd's interrupt ioctls: recorded for tests to check. */
static int vm_ioctl(struct fake_kvm *f, unsigned long req, void *arg)
{
    switch (req) {
    case KVM_SIGNAL_MSI:
        g_array_append_val(f->msis, *(struct kvm_msi *)arg);
        return 1;
    case KVM_IRQ_LINE: {
        const struct kvm_irq_level *l = arg;
        g_string_append_printf(f->irq_lines, "%u=%u;", l->irq, l->level);
        return 0;
    }
    case KVM_SET_GSI_ROUTING: {
        const struct kvm_irq_routing *t = arg;
        g_free(f->routing);
        f->routing = g_memdup2(
            t, sizeof(*t) + t->nr * sizeof(struct kvm_irq_routing_entry));
        return 0;
    }
    case KVM_IRQFD:
    case KVM_IOEVENTFD:
        return 0;
    /* state the migration stream carries */
    case KVM_GET_CLOCK:
        memcpy(arg, &f->clock, sizeof(f->clock));
        return 0;
    case KVM_SET_CLOCK:
        f->clock.clock = ((struct kvm_clock_data *)arg)->clock;
        return 0;
    case KVM_GET_IRQCHIP:
    case KVM_SET_IRQCHIP: {
        struct kvm_irqchip *c = arg;

        if (c->chip_id > 2) {
            return -EINVAL;
        }
        if (req == KVM_GET_IRQCHIP) {
            c->chip = f->chips[c->chip_id].chip;
        } else {
            f->chips[c->chip_id].chip = c->chip;
        }
        return 0;
    }
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

#define LONG_BITS (sizeof(unsigned long) * 8)

static size_t slot_longs(const struct kvm_userspace_memory_region *r)
{
    return (r->memory_size / 4096 + LONG_BITS - 1) / LONG_BITS + 1;
}

/* KVM's dirty log (api.rst 4.37, 4.118) on the bitmaps of struct fake_kvm */
static int dirty_ioctl(struct fake_kvm *f, unsigned long req, void *arg)
{
    if (req == KVM_CHECK_EXTENSION) {
        return f->manual_dirty_cap;
    }
    if (req == KVM_ENABLE_CAP) {
        const struct kvm_enable_cap *c = arg;

        if (!f->manual_dirty_cap ||
            (c->args[0] & ~(uint64_t)(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
                                      KVM_DIRTY_LOG_INITIALLY_SET))) {
            return -EINVAL;
        }
        f->manual_dirty_on = c->args[0] & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
        return 0;
    }
    if (req == KVM_GET_DIRTY_LOG) {
        struct kvm_dirty_log *l = arg;
        size_t n;

        if (l->slot >= FAKE_MAX_SLOTS || !f->dirty[l->slot]) {
            return -ENOENT;
        }
        n = (f->slots[l->slot].memory_size / 4096 + LONG_BITS - 1) / LONG_BITS;
        memcpy(l->dirty_bitmap, f->dirty[l->slot], n * sizeof(unsigned long));
        if (!f->manual_dirty_on) {
            memset(f->dirty[l->slot], 0, n * sizeof(unsigned long));
        }
        return 0;
    }
    {
        struct kvm_clear_dirty_log *c = arg;
        const unsigned long *src = c->dirty_bitmap;
        uint64_t pages;

        if (!f->manual_dirty_on) {
            return -EINVAL;
        }
        if (c->slot >= FAKE_MAX_SLOTS || !f->dirty[c->slot]) {
            return -ENOENT;
        }
        pages = f->slots[c->slot].memory_size / 4096;
        /* KVM's rules: first_page and num_pages multiples of 64, unless
         * the range ends at the end of the slot */
        if (c->first_page % 64 || c->first_page > pages ||
            c->num_pages > pages - c->first_page ||
            (c->num_pages % 64 && c->first_page + c->num_pages != pages)) {
            return -EINVAL;
        }
        for (uint64_t i = 0; i < c->num_pages; i++) {
            uint64_t p = c->first_page + i;

            if (src[i / LONG_BITS] & (1UL << (i % LONG_BITS))) {
                f->dirty[c->slot][p / LONG_BITS] &= ~(1UL << (p % LONG_BITS));
            }
        }
        return 0;
    }
}

bool fake_kvm_dirty(struct fake_kvm *f, uint64_t gpa)
{
    for (unsigned i = 0; i < FAKE_MAX_SLOTS; i++) {
        const struct kvm_userspace_memory_region *r = &f->slots[i];

        if (r->memory_size && gpa >= r->guest_phys_addr &&
            gpa - r->guest_phys_addr < r->memory_size) {
            uint64_t p = (gpa - r->guest_phys_addr) / 4096;

            if (f->dirty[i]) {
                f->dirty[i][p / LONG_BITS] |= 1UL << (p % LONG_BITS);
            }
            return true;
        }
    }
    return false;
}

bool fake_kvm_logging(const struct fake_kvm *f)
{
    for (unsigned i = 0; i < FAKE_MAX_SLOTS; i++) {
        if (f->dirty[i]) {
            return true;
        }
    }
    return false;
}

/* ---- the dirty ring --------------------------------------------- */

#ifndef KVM_CAP_DIRTY_LOG_RING_ACQ_REL
#define KVM_CAP_DIRTY_LOG_RING_ACQ_REL 223
#endif

static bool is_ring_cap(long cap)
{
    return cap == KVM_CAP_DIRTY_LOG_RING ||
           cap == KVM_CAP_DIRTY_LOG_RING_ACQ_REL;
}

static bool ring_cap_offered(const struct fake_kvm *f, long cap)
{
    return cap == KVM_CAP_DIRTY_LOG_RING ? f->ring_cap_plain
                                         : f->ring_cap_acq_rel;
}

static uint32_t ring_entries(const struct fake_kvm *f)
{
    return f->ring_bytes / sizeof(struct kvm_dirty_gfn);
}

static struct fake_ring *find_ring(struct fake_kvm *f, int fd)
{
    for (unsigned i = 0; i < f->nrings; i++) {
        if (f->rings[i].fd == fd && f->rings[i].gfns) {
            return &f->rings[i];
        }
    }
    return NULL;
}

static int ring_ioctl(struct fake_kvm *f, unsigned long req, void *arg)
{
    if (req == KVM_CHECK_EXTENSION) {
        return ring_cap_offered(f, (long)arg) ? (int)f->ring_max : 0;
    }
    if (req == KVM_ENABLE_CAP) {
        const struct kvm_enable_cap *c = arg;
        uint64_t size = c->args[0];

        if (!ring_cap_offered(f, c->cap)) {
            return -EINVAL;
        }
        /* KVM's kvm_vm_ioctl_enable_dirty_log_ring() */
        if (!size || (size & (size - 1)) || size < 4096 ||
            size < FAKE_RING_RSVD * sizeof(struct kvm_dirty_gfn)) {
            return -EINVAL;
        }
        if (size > f->ring_max) {
            return -E2BIG;
        }
        if (f->ring_bytes || f->nrings) {
            return -EINVAL;
        }
        f->ring_bytes = (uint32_t)size;
        return 0;
    }
    /* KVM_RESET_DIRTY_RINGS */
    {
        int n = 0;

        for (unsigned i = 0; i < f->nrings; i++) {
            struct fake_ring *r = &f->rings[i];
            uint32_t mask = ring_entries(f) - 1;

            while (r->gfns && r->reset_index != r->dirty_index) {
                struct kvm_dirty_gfn *e = &r->gfns[r->reset_index & mask];
                uint32_t id = e->slot & 0xffff;

                if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) &
                      KVM_DIRTY_GFN_F_RESET)) {
                    break;
                }
                /* re-protect: the next write is pushed again */
                if ((e->slot >> 16) == 0 && id < FAKE_MAX_SLOTS &&
                    f->dirty[id] &&
                    e->offset < f->slots[id].memory_size / 4096) {
                    f->dirty[id][e->offset / LONG_BITS] &=
                        ~(1UL << (e->offset % LONG_BITS));
                }
                __atomic_store_n(&e->flags, 0, __ATOMIC_RELEASE);
                r->reset_index++;
                n++;
            }
        }
        f->ring_resets += n;
        return n;
    }
}

static bool ring_push(struct fake_ring *r, uint32_t entries, uint32_t slot,
                      uint64_t offset)
{
    struct kvm_dirty_gfn *e;

    if (r->dirty_index - r->reset_index >= entries) {
        return false; /* KVM never lets this happen: soft-full exits first */
    }
    e = &r->gfns[r->dirty_index & (entries - 1)];
    e->slot = slot;
    e->offset = offset;
    __atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_DIRTY, __ATOMIC_RELEASE);
    r->dirty_index++;
    return true;
}

bool fake_kvm_ring_push_raw(struct fake_kvm *f, int vcpu_fd, uint32_t slot,
                            uint64_t offset)
{
    struct fake_ring *r = find_ring(f, vcpu_fd);

    return r && ring_push(r, ring_entries(f), slot, offset);
}

bool fake_kvm_ring_write(struct fake_kvm *f, int vcpu_fd, uint64_t gpa)
{
    struct fake_ring *r = find_ring(f, vcpu_fd);

    for (unsigned i = 0; r && i < FAKE_MAX_SLOTS; i++) {
        const struct kvm_userspace_memory_region *s = &f->slots[i];
        uint64_t p;

        if (!s->memory_size || gpa < s->guest_phys_addr ||
            gpa - s->guest_phys_addr >= s->memory_size) {
            continue;
        }
        p = (gpa - s->guest_phys_addr) / 4096;
        if (!f->dirty[i] ||
            (f->dirty[i][p / LONG_BITS] & (1UL << (p % LONG_BITS)))) {
            return false; /* not logging, or still writable */
        }
        if (!ring_push(r, ring_entries(f), i, p)) {
            return false;
        }
        f->dirty[i][p / LONG_BITS] |= 1UL << (p % LONG_BITS);
        return true;
    }
    return false;
}

unsigned fake_kvm_ring_used(const struct fake_kvm *f, int vcpu_fd)
{
    const struct fake_ring *r = find_ring((struct fake_kvm *)f, vcpu_fd);

    return r ? r->dirty_index - r->reset_index : 0;
}

static void *fake_mmap(void *opaque, int fd, size_t len, uint64_t pgoff)
{
    struct fake_kvm *f = opaque;
    struct fake_ring *r;

    if (!f->ring_bytes || len != f->ring_bytes ||
        pgoff != KVM_DIRTY_LOG_PAGE_OFFSET || f->nrings >= FAKE_MAX_RINGS ||
        find_ring(f, fd)) {
        errno = EINVAL;
        return NULL;
    }
    r = &f->rings[f->nrings++];
    r->fd = fd;
    r->gfns = g_malloc0(len);
    r->dirty_index = r->reset_index = 0;
    return r->gfns;
}

static void fake_munmap(void *opaque, void *p, size_t len)
{
    struct fake_kvm *f = opaque;

    for (unsigned i = 0; i < f->nrings; i++) {
        if (f->rings[i].gfns == p) {
            g_assert_cmpuint(len, ==, f->ring_bytes);
            g_clear_pointer(&f->rings[i].gfns, g_free);
        }
    }
}

/* KVM_RUN of a vCPU thread (f->run set). */
static int fake_run(struct fake_kvm *f)
{
    struct fake_ring *r = find_ring(f, FAKE_VCPU_FD);

    f->run_calls++;
    if (f->run->immediate_exit) {
        f->run->exit_reason = KVM_EXIT_INTR;
        return -EINTR;
    }
    if (r &&
        r->dirty_index - r->reset_index >= ring_entries(f) - FAKE_RING_RSVD) {
        f->run->exit_reason = KVM_EXIT_DIRTY_RING_FULL;
        return 0;
    }
    f->run->exit_reason = f->run_exit;
    return 0;
}

static bool fake_sev_ioctl(struct fake_kvm *f, int fd, unsigned long req,
                           void *arg, int *ret);
static void fake_sev_destroy(struct fake_kvm *f);

/* KVM_GET_STATS_FD: a file of its own each time, as KVM's anon inode. */
static int stats_fd(struct fake_kvm *f, bool vcpu)
{
    GByteArray *b = f->stats_file[vcpu];
    int fd;

    if (!b) {
        return -ENOTTY;
    }
    fd = memfd_create("fake-kvm-stats", MFD_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, b->data, b->len), ==, (ssize_t)b->len);
    return fd;
}

void fake_kvm_set_stats(struct fake_kvm *f, bool vcpu,
                        const struct fake_stat *stats, unsigned n)
{
    struct kvm_stats_header h = {
        .name_size = FAKE_STATS_NAME_SIZE,
        .num_desc = n,
        .id_offset = sizeof(h),
    };
    size_t stride = sizeof(struct kvm_stats_desc) + FAKE_STATS_NAME_SIZE;
    char id[FAKE_STATS_NAME_SIZE] = "kvm-1234";
    GByteArray *b = g_byte_array_new();
    uint32_t data_off = 0;

    h.desc_offset = h.id_offset + FAKE_STATS_NAME_SIZE;
    h.data_offset = h.desc_offset + (uint32_t)(stride * n);
    g_byte_array_append(b, (const guint8 *)&h, sizeof(h));
    g_byte_array_append(b, (const guint8 *)id, sizeof(id));
    for (unsigned i = 0; i < n; i++) {
        struct kvm_stats_desc d = {
            .flags = stats[i].flags,
            .exponent = stats[i].exponent,
            .size = stats[i].size,
            .offset = data_off,
            .bucket_size = stats[i].bucket_size,
        };
        char name[FAKE_STATS_NAME_SIZE] = {0};

        g_assert_cmpuint(strlen(stats[i].name), <, sizeof(name));
        g_strlcpy(name, stats[i].name, sizeof(name));
        g_byte_array_append(b, (const guint8 *)&d, sizeof(d));
        g_byte_array_append(b, (const guint8 *)name, sizeof(name));
        data_off += stats[i].size * 8u;
    }
    for (unsigned i = 0; i < n; i++) {
        g_byte_array_append(b, (const guint8 *)stats[i].values,
                            stats[i].size * 8u);
    }
    if (f->stats_file[vcpu]) {
        g_byte_array_free(f->stats_file[vcpu], TRUE);
    }
    f->stats_file[vcpu] = b;
}

static int fake_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
    struct fake_kvm *f = opaque;
    int sev_ret;

    /* SEV section: the VM fd, /dev/sev and the extra vCPU fds. */
    if (f->sev && fake_sev_ioctl(f, fd, req, arg, &sev_ret)) {
        return sev_ret;
    }
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
    if (req == KVM_SET_USER_MEMORY_REGION) {
        const struct kvm_userspace_memory_region *r = arg;

        if (r->slot >= FAKE_MAX_SLOTS) {
            return -EINVAL;
        }
        f->slots[r->slot] = *r;
        g_clear_pointer(&f->dirty[r->slot], g_free);
        if (r->flags & KVM_MEM_LOG_DIRTY_PAGES) {
            f->dirty[r->slot] = g_new0(unsigned long, slot_longs(r));
        }
        return 0;
    }
    if (req == KVM_RESET_DIRTY_RINGS ||
        (req == KVM_ENABLE_CAP &&
         is_ring_cap(((struct kvm_enable_cap *)arg)->cap)) ||
        (req == KVM_CHECK_EXTENSION && is_ring_cap((long)arg))) {
        return ring_ioctl(f, req, arg);
    }
    if ((req == KVM_GET_DIRTY_LOG || req == KVM_CLEAR_DIRTY_LOG) &&
        f->ring_bytes) {
        return -ENXIO; /* no KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP on x86 */
    }
    if (req == KVM_GET_DIRTY_LOG || req == KVM_CLEAR_DIRTY_LOG ||
        (req == KVM_ENABLE_CAP && ((struct kvm_enable_cap *)arg)->cap ==
                                      KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) ||
        (req == KVM_CHECK_EXTENSION &&
         (long)arg == KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)) {
        return dirty_ioctl(f, req, arg);
    }
    if (req == KVM_GET_STATS_FD && (fd == FAKE_VM_FD || fd == FAKE_VCPU_FD)) {
        return stats_fd(f, fd == FAKE_VCPU_FD);
    }
    if (fd == FAKE_VM_FD) {
        return vm_ioctl(f, req, arg);
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
    case KVM_GET_VCPU_EVENTS: {
        struct kvm_vcpu_events *e = arg;

        /* flags say what KVM reports, not what the last SET carried */
        memcpy(e, &f->events, sizeof(f->events));
        e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING |
                   KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
        return 0;
    }
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
    case KVM_GET_TSC_KHZ:
        return FAKE_TSC_KHZ; /* the fake's TSC does not advance */
    case KVM_RUN:
        if (f->run) {
            return fake_run(f);
        }
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
    f->be.mmap = fake_mmap;
    f->be.munmap = fake_munmap;
    f->be.opaque = f;
    f->calls = g_array_new(FALSE, FALSE, sizeof(unsigned long));
    f->last_set_msrs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    f->msis = g_array_new(FALSE, FALSE, sizeof(struct kvm_msi));
    f->irq_lines = g_string_new(NULL);
    g_mutex_init(&f->accel.route_lock);
    g_mutex_init(&f->accel.ring_lock);

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
    fake_sev_destroy(f);
    for (unsigned i = 0; i < 2; i++) {
        if (f->stats_file[i]) {
            g_byte_array_free(f->stats_file[i], TRUE);
        }
    }
    g_array_free(f->calls, TRUE);
    g_array_free(f->last_set_msrs, TRUE);
    g_array_free(f->msis, TRUE);
    g_string_free(f->irq_lines, TRUE);
    g_free(f->routing);
    if (f->accel.msi_routes) {
        g_array_free(f->accel.msi_routes, TRUE);
    }
    g_mutex_clear(&f->accel.route_lock);
    kvm_dirty_ring_free(&f->accel);
    g_mutex_clear(&f->accel.ring_lock);
    for (unsigned i = 0; i < f->nrings; i++) {
        g_free(f->rings[i].gfns);
    }
    for (unsigned i = 0; i < FAKE_MAX_SLOTS; i++) {
        g_free(f->dirty[i]);
    }
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

/* ======================================================================
 * SEV platform (see fake-kvm.h).  Kept apart from the single-vCPU model
 * above: the extra vCPUs borrow its handlers by swapping their state in.
 * ====================================================================== */
#include <linux/psp-sev.h>
#include "sev/sev-ioctl.h"

/* SNP ABI table 67 page types. */
enum { FS_PAGE_NORMAL = 1, FS_PAGE_VMSA = 2, FS_PAGE_CPUID = 6 };

enum fake_sev_state {
    FS_UNINIT = 0, /* no KVM_SEV_INIT yet */
    FS_INIT,       /* context exists, no launch */
    FS_LUPDATE,
    FS_LSECRET,
    FS_RUNNING,
};

struct fake_sev_vcpu {
    struct kvm_regs regs;
    struct kvm_sregs2 sregs;
    uint64_t msr_values[FAKE_MAX_MSRS];
    uint8_t xsave[FAKE_XSAVE2_SIZE];
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events events;
    struct kvm_debugregs dbg;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    struct kvm_cpuid2 *cpuid;
};

struct fake_sev {
    unsigned vm_types;
    bool no_kvm;
    enum fake_sev_state state;
    int mode; /* 0 SEV, 1 SEV-ES, 2 SNP */
    bool protected_state;
    uint32_t policy;
    uint64_t snp_policy;
    GChecksum *sha256;
    uint8_t ld384[48];
    uint8_t digest[48];
    size_t digest_len;
    unsigned nr_vcpus;
    struct fake_sev_vcpu vcpus[FAKE_SEV_MAX_VCPUS];
    GArray *private_ranges; /* uint64_t pairs: gpa, size */
    GArray *gmem_slots;     /* uint64_t pairs: gpa, size */
    bool no_gmem;
    int next_gmem_fd;
    uint32_t fail_cmd, fail_fw;
    bool fail_armed;
    GString *log;
};

const uint8_t fake_sev_tik[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                  0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
                                  0xdd, 0xee, 0xff, 0x01};

struct fake_sev *fake_sev_enable(struct fake_kvm *f, unsigned vm_types,
                                 unsigned long vm_type)
{
    struct fake_sev *s = g_new0(struct fake_sev, 1);

    s->vm_types = vm_types;
    s->private_ranges = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    s->gmem_slots = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    s->next_gmem_fd = 200;
    s->log = g_string_new(NULL);
    f->sev = s;
    f->accel.vm_fd = FAKE_VM_FD;
    f->accel.vm_type = vm_type;
    return s;
}

static void fake_sev_destroy(struct fake_kvm *f)
{
    struct fake_sev *s = f->sev;

    if (!s) {
        return;
    }
    for (unsigned i = 0; i < s->nr_vcpus; i++) {
        g_free(s->vcpus[i].cpuid);
    }
    if (s->sha256) {
        g_checksum_free(s->sha256);
    }
    g_array_free(s->private_ranges, TRUE);
    g_array_free(s->gmem_slots, TRUE);
    g_string_free(s->log, TRUE);
    g_free(s);
    f->sev = NULL;
}

int fake_sev_add_vcpu(struct fake_kvm *f)
{
    struct fake_sev *s = f->sev;
    struct fake_sev_vcpu *v;

    g_assert(s && s->nr_vcpus < FAKE_SEV_MAX_VCPUS);
    v = &s->vcpus[s->nr_vcpus];
    memset(v, 0, sizeof(*v));
    return FAKE_SEV_VCPU_FD + s->nr_vcpus++;
}

void fake_sev_fail(struct fake_kvm *f, uint32_t cmd, uint32_t fw)
{
    f->sev->fail_cmd = cmd;
    f->sev->fail_fw = fw;
    f->sev->fail_armed = true;
}

void fake_sev_no_guest_memfd(struct fake_kvm *f)
{
    f->sev->no_gmem = true;
}

void fake_sev_no_kvm_support(struct fake_kvm *f, bool none)
{
    f->sev->no_kvm = none;
}

char *fake_sev_digest(const struct fake_kvm *f)
{
    GString *h;

    if (!f->sev || !f->sev->digest_len) {
        return NULL;
    }
    h = g_string_new(NULL);
    for (size_t i = 0; i < f->sev->digest_len; i++) {
        g_string_append_printf(h, "%02x", f->sev->digest[i]);
    }
    return g_string_free(h, FALSE);
}

static bool is_private(struct fake_sev *s, uint64_t gpa, uint64_t size);

bool fake_sev_is_private(const struct fake_kvm *f, uint64_t gpa, uint64_t size)
{
    return is_private(f->sev, gpa, size);
}

struct kvm_sregs2 *fake_sev_vcpu_sregs(struct fake_kvm *f, unsigned i)
{
    g_assert(i < f->sev->nr_vcpus);
    return &f->sev->vcpus[i].sregs;
}

const char *fake_sev_log(const struct fake_kvm *f)
{
    return f->sev->log->str;
}

static void swap_bytes(void *a, void *b, size_t n)
{
    uint8_t *x = a, *y = b;

    for (size_t i = 0; i < n; i++) {
        uint8_t t = x[i];

        x[i] = y[i];
        y[i] = t;
    }
}

#define SWAP_FIELD(a, b) swap_bytes(&(a), &(b), sizeof(a))

/* Swaps a vCPU's state with the single model's. */
static void vcpu_swap(struct fake_kvm *f, struct fake_sev_vcpu *v)
{
    SWAP_FIELD(f->regs, v->regs);
    SWAP_FIELD(f->sregs, v->sregs);
    for (unsigned i = 0; i < f->nmsrs; i++) {
        SWAP_FIELD(f->msrs[i].value, v->msr_values[i]);
    }
    SWAP_FIELD(f->xsave, v->xsave);
    SWAP_FIELD(f->xcrs, v->xcrs);
    SWAP_FIELD(f->events, v->events);
    SWAP_FIELD(f->dbg, v->dbg);
    SWAP_FIELD(f->lapic, v->lapic);
    SWAP_FIELD(f->mp, v->mp);
    SWAP_FIELD(f->cpuid, v->cpuid);
}

static bool reg_access(unsigned long req)
{
    switch (req) {
    case KVM_GET_REGS:
    case KVM_SET_REGS:
    case KVM_GET_SREGS:
    case KVM_SET_SREGS:
    case KVM_GET_SREGS2:
    case KVM_SET_SREGS2:
    case KVM_GET_XSAVE:
    case KVM_GET_XSAVE2:
    case KVM_SET_XSAVE:
    case KVM_GET_XCRS:
    case KVM_SET_XCRS:
    case KVM_GET_DEBUGREGS:
    case KVM_SET_DEBUGREGS:
    case KVM_GET_VCPU_EVENTS:
    case KVM_SET_VCPU_EVENTS:
    case KVM_GET_MSRS:
    case KVM_SET_MSRS:
        return true;
    }
    return false;
}

static int vcpu_ioctl_sev(struct fake_kvm *f, unsigned idx, unsigned long req,
                          void *arg)
{
    struct fake_sev *s = f->sev;
    struct fake_sev_vcpu *v = &s->vcpus[idx];
    int r;

    /* KVM (typed VMs, Linux >= 6.10) refuses register access once the
     * VMSAs are encrypted. */
    if (s->protected_state && reg_access(req)) {
        g_array_append_val(f->calls, req);
        return -EINVAL;
    }
    vcpu_swap(f, v);
    r = fake_ioctl(f, FAKE_VCPU_FD, req, arg);
    vcpu_swap(f, v);
    return r;
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* SVM's packed segment attributes from a kvm_segment. */
static void vmcb_seg(uint8_t *p, const struct kvm_segment *k)
{
    uint16_t attr = (k->type & 0xf) | (k->s & 1) << 4 | (k->dpl & 3) << 5 |
                    (k->present & 1) << 7 | (k->avl & 1) << 8 |
                    (k->l & 1) << 9 | (k->db & 1) << 10 | (k->g & 1) << 11;

    put16(p, k->selector);
    put16(p + 2, attr);
    put32(p + 4, k->limit);
    put64(p + 8, k->base);
}

static uint64_t vcpu_msr(struct fake_kvm *f, struct fake_sev_vcpu *v,
                         uint32_t index)
{
    int j = find_msr(f, index);

    return j < 0 ? 0 : v->msr_values[j];
}

/* What KVM's sev_es_sync_vmsa writes (APM vol. 2 table B-4 offsets). */
static void build_vmsa(struct fake_kvm *f, struct fake_sev_vcpu *v,
                       uint64_t features, uint8_t *p)
{
    const struct kvm_segment *segs[] = {&v->sregs.es, &v->sregs.cs,
                                        &v->sregs.ss, &v->sregs.ds,
                                        &v->sregs.fs, &v->sregs.gs};
    uint16_t fcw;
    uint32_t mxcsr;

    memset(p, 0, 4096);
    for (unsigned i = 0; i < 6; i++) {
        vmcb_seg(p + 16 * i, segs[i]);
    }
    put32(p + 0x60 + 4, v->sregs.gdt.limit);
    put64(p + 0x60 + 8, v->sregs.gdt.base);
    vmcb_seg(p + 0x70, &v->sregs.ldt);
    put32(p + 0x80 + 4, v->sregs.idt.limit);
    put64(p + 0x80 + 8, v->sregs.idt.base);
    vmcb_seg(p + 0x90, &v->sregs.tr);
    put64(p + 0xd0, v->sregs.efer | 0x1000); /* SVME */
    put64(p + 0x148, v->sregs.cr4 | 0x40);   /* MCE */
    put64(p + 0x150, v->sregs.cr3);
    put64(p + 0x158, v->sregs.cr0 & ~0x60000000ULL); /* not CD/NW */
    put64(p + 0x160, v->dbg.dr7);
    put64(p + 0x168, v->dbg.dr6);
    put64(p + 0x170, v->regs.rflags);
    put64(p + 0x178, v->regs.rip);
    put64(p + 0x1d8, v->regs.rsp);
    put64(p + 0x1f8, v->regs.rax);
    put64(p + 0x240, v->sregs.cr2);
    put64(p + 0x268, vcpu_msr(f, v, 0x277));
    put64(p + 0x308, v->regs.rcx);
    put64(p + 0x310, v->regs.rdx);
    put64(p + 0x318, v->regs.rbx);
    put64(p + 0x328, v->regs.rbp);
    put64(p + 0x330, v->regs.rsi);
    put64(p + 0x338, v->regs.rdi);
    put64(p + 0x340, v->regs.r8);
    put64(p + 0x348, v->regs.r9);
    put64(p + 0x350, v->regs.r10);
    put64(p + 0x358, v->regs.r11);
    put64(p + 0x360, v->regs.r12);
    put64(p + 0x368, v->regs.r13);
    put64(p + 0x370, v->regs.r14);
    put64(p + 0x378, v->regs.r15);
    put64(p + 0x3b0, features);
    put64(p + 0x3e8, v->xcrs.nr_xcrs ? v->xcrs.xcrs[0].value : 1);
    memcpy(&fcw, v->xsave, 2);
    memcpy(&mxcsr, v->xsave + 24, 4);
    put32(p + 0x408, mxcsr);
    put16(p + 0x410, fcw);
}

static void snp_chain(struct fake_sev *s, uint8_t type, uint64_t gpa,
                      const uint8_t *page)
{
    uint8_t info[0x70] = {0};
    gsize len = 48;
    GChecksum *c;

    memcpy(info, s->ld384, 48);
    if (page) {
        c = g_checksum_new(G_CHECKSUM_SHA384);
        g_checksum_update(c, page, 4096);
        g_checksum_get_digest(c, info + 48, &len);
        g_checksum_free(c);
        len = 48;
    }
    put16(info + 0x60, 0x70);
    info[0x62] = type;
    put64(info + 0x68, gpa);
    c = g_checksum_new(G_CHECKSUM_SHA384);
    g_checksum_update(c, info, sizeof(info));
    g_checksum_get_digest(c, s->ld384, &len);
    g_checksum_free(c);
}

static bool in_pairs(GArray *a, uint64_t gpa, uint64_t size)
{
    for (guint i = 0; i + 1 < a->len; i += 2) {
        uint64_t b = g_array_index(a, uint64_t, i);
        uint64_t l = g_array_index(a, uint64_t, i + 1);

        if (gpa >= b && gpa + size <= b + l) {
            return true;
        }
    }
    return false;
}

static bool is_private(struct fake_sev *s, uint64_t gpa, uint64_t size)
{
    for (guint i = 0; i + 1 < s->private_ranges->len; i += 2) {
        uint64_t a = g_array_index(s->private_ranges, uint64_t, i);
        uint64_t l = g_array_index(s->private_ranges, uint64_t, i + 1);

        if (gpa >= a && gpa + size <= a + l) {
            return true;
        }
    }
    return false;
}

static const char *cmd_short(uint32_t id)
{
    const char *n = sev_kvm_cmd_name(id);

    return g_str_has_prefix(n, "KVM_SEV_") ? n + 8 : n;
}

/* One KVM_SEV_* command; returns -errno with *fw the firmware status. */
static int sev_cmd(struct fake_kvm *f, struct kvm_sev_cmd *c)
{
    struct fake_sev *s = f->sev;
    void *data = (void *)(uintptr_t)c->data;

#define FW_FAIL(code)                                                          \
    do {                                                                       \
        c->error = (code);                                                     \
        return -EIO;                                                           \
    } while (0)

    if (s->no_kvm) {
        return -ENOTTY;
    }
    if (c->sev_fd != FAKE_SEV_FD) {
        return -EBADF;
    }
    if (s->fail_armed && s->fail_cmd == c->id) {
        s->fail_armed = false;
        FW_FAIL(s->fail_fw);
    }
    switch (c->id) {
    case SEV_CMD_INIT:
    case SEV_CMD_ES_INIT:
    case SEV_CMD_INIT2: {
        unsigned long t = f->accel.vm_type;

        if (s->state != FS_UNINIT) {
            return -EBUSY;
        }
        if (c->id == SEV_CMD_INIT2) {
            const struct sev_kvm_init *in = data;

            if (!(s->vm_types & (1u << t)) || t < SEV_KVM_X86_SEV_VM ||
                in->flags || in->vmsa_features) {
                return -EINVAL;
            }
            s->mode = t - SEV_KVM_X86_SEV_VM;
        } else {
            if (t != 0) {
                return -EINVAL; /* typed VMs need INIT2 */
            }
            s->mode = c->id == SEV_CMD_ES_INIT;
        }
        s->state = FS_INIT;
        break;
    }
    case SEV_CMD_LAUNCH_START: {
        struct kvm_sev_launch_start *ls = data;

        if (s->mode == 2) {
            return -ENOTTY;
        }
        if (s->state != FS_INIT) {
            FW_FAIL(s->state == FS_UNINIT ? SEV_RET_INACTIVE
                                          : SEV_RET_INVALID_GUEST_STATE);
        }
        /* Policy bit 2 (ES) must match the context (SEV API 6.3). */
        if (!!(ls->policy & 4) != (s->mode == 1)) {
            FW_FAIL(SEV_RET_POLICY_FAILURE);
        }
        s->policy = ls->policy;
        ls->handle = 1;
        s->sha256 = g_checksum_new(G_CHECKSUM_SHA256);
        s->state = FS_LUPDATE;
        break;
    }
    case SEV_CMD_LAUNCH_UPDATE_DATA: {
        struct kvm_sev_launch_update_data *u = data;

        if (s->mode == 2) {
            return -ENOTTY;
        }
        if (s->state != FS_LUPDATE) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        if (!u->len || u->len % 16) {
            FW_FAIL(SEV_RET_INVALID_LEN);
        }
        g_checksum_update(s->sha256, (const guchar *)(uintptr_t)u->uaddr,
                          u->len);
        break;
    }
    case SEV_CMD_LAUNCH_UPDATE_VMSA:
        if (s->mode != 1) {
            return -ENOTTY;
        }
        if (s->state != FS_LUPDATE) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        for (unsigned i = 0; i < s->nr_vcpus; i++) {
            uint8_t page[4096];

            build_vmsa(f, &s->vcpus[i], 0, page);
            g_checksum_update(s->sha256, page, sizeof(page));
        }
        /* only typed VMs (KVM_SEV_INIT2) refuse register access */
        s->protected_state = f->accel.vm_type != 0;
        break;
    case SEV_CMD_LAUNCH_MEASURE: {
        struct kvm_sev_launch_measure *m = data;
        uint8_t blob[1 + 3 + 4 + 32 + 16];
        gsize len = 32;
        GHmac *h;

        if (s->mode == 2) {
            return -ENOTTY;
        }
        if (s->state != FS_LUPDATE) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        if (m->len < 48) {
            m->len = 48;
            return -ENOMEM;
        }
        g_checksum_get_digest(s->sha256, s->digest, &len);
        s->digest_len = 32;
        /* MEASURE = HMAC(TIK, 0x04 || API_MAJOR || API_MINOR || BUILD ||
         * POLICY || DIGEST || MNONCE), SEV API 6.5. */
        blob[0] = 0x04;
        blob[1] = 1;
        blob[2] = 55;
        blob[3] = 21;
        put32(blob + 4, s->policy);
        memcpy(blob + 8, s->digest, 32);
        memset(blob + 40, 0x5a, 16); /* MNONCE */
        h = g_hmac_new(G_CHECKSUM_SHA256, fake_sev_tik, sizeof(fake_sev_tik));
        g_hmac_update(h, blob, sizeof(blob));
        len = 32;
        g_hmac_get_digest(h, (guint8 *)(uintptr_t)m->uaddr, &len);
        g_hmac_unref(h);
        memcpy((uint8_t *)(uintptr_t)m->uaddr + 32, blob + 40, 16);
        m->len = 48;
        s->state = FS_LSECRET;
        break;
    }
    case SEV_CMD_GET_ATTESTATION_REPORT: {
        struct kvm_sev_attestation_report *a = data;

        /* A stand-in report: the nonce then the digest (the firmware
         * signs a larger structure; vireo only passes it through). */
        if (s->state < FS_LSECRET || s->mode == 2) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        if (!a->uaddr || a->len < 48) {
            a->len = 48;
            FW_FAIL(SEV_RET_INVALID_LEN);
        }
        memcpy((uint8_t *)(uintptr_t)a->uaddr, a->mnonce, 16);
        memcpy((uint8_t *)(uintptr_t)a->uaddr + 16, s->digest, 32);
        a->len = 48;
        break;
    }
    case SEV_CMD_LAUNCH_SECRET:
        if (s->state != FS_LSECRET) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        break;
    case SEV_CMD_LAUNCH_FINISH:
        if (s->mode == 2) {
            return -ENOTTY;
        }
        if (s->state != FS_LSECRET) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        s->state = FS_RUNNING;
        break;
    case SEV_CMD_SNP_LAUNCH_START: {
        const struct sev_kvm_snp_launch_start *ls = data;

        if (s->mode != 2) {
            return -ENOTTY;
        }
        if (s->state != FS_INIT) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        if (!(ls->policy & (1ULL << 17)) || (ls->policy >> 25)) {
            FW_FAIL(SEV_RET_POLICY_FAILURE);
        }
        s->snp_policy = ls->policy;
        s->state = FS_LUPDATE;
        break;
    }
    case SEV_CMD_SNP_LAUNCH_UPDATE: {
        struct sev_kvm_snp_launch_update *u = data;
        uint64_t gpa = u->gfn_start << 12;

        if (s->mode != 2) {
            return -ENOTTY;
        }
        if (s->state != FS_LUPDATE) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        if (!u->len || u->len % 4096 || u->uaddr % 4096 ||
            u->type < FS_PAGE_NORMAL || u->type > FS_PAGE_CPUID ||
            u->type == FS_PAGE_VMSA) {
            return -EINVAL;
        }
        if (!is_private(s, gpa, u->len) ||
            !in_pairs(s->gmem_slots, gpa, u->len)) {
            return -EINVAL; /* KVM: private, guest_memfd-backed memory */
        }
        for (uint64_t off = 0; off < u->len; off += 4096) {
            const uint8_t *page = (const uint8_t *)(uintptr_t)(u->uaddr + off);

            snp_chain(s, u->type, gpa + off,
                      u->type == FS_PAGE_NORMAL ? page : NULL);
        }
        u->len = 0; /* KVM reports what is left */
        break;
    }
    case SEV_CMD_SNP_LAUNCH_FINISH: {
        const struct sev_kvm_snp_launch_finish *fin = data;

        if (s->mode != 2) {
            return -ENOTTY;
        }
        if (s->state != FS_LUPDATE) {
            FW_FAIL(SEV_RET_INVALID_GUEST_STATE);
        }
        if (fin->auth_key_en && !fin->id_block_en) {
            FW_FAIL(SEV_RET_INVALID_PARAM);
        }
        for (unsigned i = 0; i < s->nr_vcpus; i++) {
            uint8_t page[4096];

            build_vmsa(f, &s->vcpus[i], 1, page);
            snp_chain(s, FS_PAGE_VMSA, 0xFFFFFFFFF000ULL, page);
        }
        memcpy(s->digest, s->ld384, 48);
        s->digest_len = 48;
        /* only typed VMs (KVM_SEV_INIT2) refuse register access */
        s->protected_state = f->accel.vm_type != 0;
        s->state = FS_RUNNING;
        break;
    }
    default:
        return -EINVAL;
    }
    g_string_append_printf(s->log, "%s%s", s->log->len ? " " : "",
                           cmd_short(c->id));
    return 0;
#undef FW_FAIL
}

/* PDH_CERT_EXPORT and GET_ID2: lengths first (INVALID_LENGTH), then
 * bytes of a recognisable pattern ('P' PDH, 'C' chain, 'I' id). */
static int fake_sev_export(struct sev_issue_cmd *c)
{
    if (c->cmd == SEV_PDH_CERT_EXPORT) {
        struct sev_user_data_pdh_cert_export *e = (void *)(uintptr_t)c->data;

        if (!e->pdh_cert_address || e->pdh_cert_len < 8 ||
            e->cert_chain_len < 16) {
            e->pdh_cert_len = 8;
            e->cert_chain_len = 16;
            c->error = SEV_RET_INVALID_LEN;
            return -EIO;
        }
        memset((void *)(uintptr_t)e->pdh_cert_address, 'P', 8);
        memset((void *)(uintptr_t)e->cert_chain_address, 'C', 16);
        e->pdh_cert_len = 8;
        e->cert_chain_len = 16;
    } else {
        struct sev_user_data_get_id2 *id = (void *)(uintptr_t)c->data;

        if (!id->address || id->length < 64) {
            id->length = 64;
            c->error = SEV_RET_INVALID_LEN;
            return -EIO;
        }
        memset((void *)(uintptr_t)id->address, 'I', 64);
        id->length = 64;
    }
    return 0;
}

static bool fake_sev_ioctl(struct fake_kvm *f, int fd, unsigned long req,
                           void *arg, int *ret)
{
    struct fake_sev *s = f->sev;

    if (fd >= FAKE_SEV_VCPU_FD && fd < FAKE_SEV_VCPU_FD + (int)s->nr_vcpus) {
        *ret = vcpu_ioctl_sev(f, fd - FAKE_SEV_VCPU_FD, req, arg);
        return true;
    }
    if (fd == FAKE_SEV_FD) {
        struct sev_issue_cmd *c = arg;

        if (req == SEV_ISSUE_CMD &&
            (c->cmd == SEV_PDH_CERT_EXPORT || c->cmd == SEV_GET_ID2)) {
            *ret = fake_sev_export(c);
        } else if (req != SEV_ISSUE_CMD || c->cmd != SEV_PLATFORM_STATUS) {
            *ret = -EINVAL;
        } else {
            struct sev_user_data_status *st = (void *)(uintptr_t)c->data;

            memset(st, 0, sizeof(*st));
            st->api_major = 1;
            st->api_minor = 55;
            st->build = 21;
            st->state = 1; /* INIT */
            *ret = 0;
        }
        return true;
    }
    if (fd == FAKE_VM_FD) {
        g_array_append_val(f->calls, req);
        if (req == KVM_CHECK_EXTENSION) {
            long cap = (long)arg;
            bool gmem =
                !s->no_gmem && (s->vm_types & (1u << SEV_KVM_X86_SNP_VM));

            *ret = cap == SEV_KVM_CAP_VM_TYPES ? (int)s->vm_types
                   : (cap == SEV_KVM_CAP_GUEST_MEMFD ||
                      cap == SEV_KVM_CAP_USER_MEMORY2)
                       ? gmem
                       : 0;
        } else if (req == SEV_KVM_CREATE_GUEST_MEMFD) {
            const struct sev_kvm_create_guest_memfd *c = arg;

            *ret = c->flags || !c->size || c->size % 4096 ? -EINVAL
                                                          : s->next_gmem_fd++;
        } else if (req == KVM_SET_USER_MEMORY_REGION) {
            *ret = 0; /* (slots are not modelled; deletion accepted) */
        } else if (req == SEV_KVM_SET_USER_MEMORY_REGION2) {
            const struct sev_kvm_userspace_memory_region2 *r = arg;

            if (!(r->flags & SEV_KVM_MEM_GUEST_MEMFD) ||
                (r->flags & KVM_MEM_READONLY) || r->guest_memfd < 200 ||
                (int)r->guest_memfd >= s->next_gmem_fd) {
                *ret = -EINVAL;
            } else {
                g_array_append_val(s->gmem_slots, r->guest_phys_addr);
                g_array_append_val(s->gmem_slots, r->memory_size);
                *ret = 0;
            }
        } else if (req == KVM_MEMORY_ENCRYPT_OP) {
            /* KVM answers a NULL op with 0 when it has SEV */
            *ret = arg ? sev_cmd(f, arg) : (s->no_kvm ? -ENOTTY : 0);
        } else if (req == SEV_KVM_SET_MEMORY_ATTRIBUTES) {
            const struct sev_kvm_memory_attributes *a = arg;

            if (a->flags || a->address % 4096 || a->size % 4096 ||
                a->attributes & ~SEV_KVM_MEMORY_ATTRIBUTE_PRIVATE) {
                *ret = -EINVAL;
            } else if (a->attributes) {
                g_array_append_val(s->private_ranges, a->address);
                g_array_append_val(s->private_ranges, a->size);
                *ret = 0;
            } else {
                /* shared again: drop the ranges inside it */
                for (guint i = 0; i + 1 < s->private_ranges->len;) {
                    uint64_t b = g_array_index(s->private_ranges, uint64_t, i);
                    uint64_t l =
                        g_array_index(s->private_ranges, uint64_t, i + 1);

                    if (b >= a->address && b + l <= a->address + a->size) {
                        g_array_remove_range(s->private_ranges, i, 2);
                    } else {
                        i += 2;
                    }
                }
                *ret = 0;
            }
        } else {
            *ret = -ENOTTY;
        }
        return true;
    }
    return false;
}
