/* SPDX-License-Identifier: MIT */
/*
 * test-kvm-round-trip.c: a vCPU's whole state through a migration, as KVM
 * itself reports it before and after.  VM A (one vCPU, the in-kernel LAPIC
 * of vireo's split irqchip, RAM for the kvmclock pages) gets a non-reset
 * value in every register group through the raw KVM ioctls (not through
 * vireo's put path, which is what is under test).  vireo saves it with the
 * sections a migration writes (the "cpu" section, x86_cpu_savevm_ops, and
 * "kvmclock"), VM B, created as vireo creates a machine's vCPU, loads the
 * stream and its vCPU thread's first put writes it.  VM B's vCPU is then
 * read with the raw KVM_GET_* ioctls and compared, field by field, with
 * what VM A's KVM reported just before the save; the first difference is
 * named (group, field or MSR, both values).  Before the load every group
 * of B must differ from A's (else the comparison would prove nothing).
 *
 * Compared exactly:
 * - KVM_GET_REGS: every GPR, RIP, RFLAGS;
 * - KVM_GET_SREGS2 (KVM_GET_SREGS without KVM_CAP_SREGS2): the segments,
 *   GDT/IDT, CR0/2/3/4/8, EFER, APIC base, flags, PDPTRs (long mode);
 * - KVM_GET_XSAVE2 (KVM_GET_XSAVE without KVM_CAP_XSAVE2), every byte:
 *   x87 (FCW, FSW, FTW, ST0), MXCSR, XMM0-15, YMM_Hi128 0-15 when the
 *   vCPU has AVX, the XSAVE header (on the fake also the area past 4 KiB,
 *   where real KVM keeps AMX tiles);
 * - KVM_GET_XCRS: XCR0 (x87|SSE, |AVX when offered);
 * - KVM_GET_DEBUGREGS: DR0-3, DR6, DR7 (two breakpoints armed);
 * - KVM_GET_VCPU_EVENTS, every field: an injected #PF with error code, an
 *   NMI pending while NMIs are masked, the STI interrupt shadow;
 * - KVM_GET_LAPIC, every register of the page but the timer's current
 *   count: TPR, LDR, SPIV (enabled), the LVTs, the divide configuration,
 *   the timer's initial count;
 * - KVM_GET_MP_STATE: HALTED;
 * - KVM_GET_MSRS over every MSR of vireo's saved list but IA32_TSC, each
 *   given a value of its own (msr_values) that KVM accepts; where this KVM
 *   takes none of the candidates the MSR keeps its value, is still
 *   compared and is listed with g_test_message.  On the fake every MSR
 *   must have been changed.
 *
 * Compared with a tolerance, because they count real time between A's
 * reference read and B's read (T, measured on CLOCK_MONOTONIC around both):
 * - IA32_TSC: vireo carries the value read at the save and writes it back,
 *   KVM counts on from there, so B's TSC is A's plus the cycles of at most
 *   T: A's - 1 ms of cycles <= B's <= A's + (T + T/100 + 1 ms) of cycles at
 *   KVM_GET_TSC_KHZ (the 1 ms and 1% absorb KVM's offset rounding and the
 *   TSC's rate against CLOCK_MONOTONIC);
 * - the KVM clock (KVM_GET_CLOCK): vireo restores the saved value without
 *   jumping over the downtime (QEMU's default too), so the same bounds in
 *   nanoseconds;
 * - the LAPIC timer's current count (TMCCT) in one-shot mode counts down
 *   from A's: A's - T <= B's <= A's (a count lasts at least 1 ns: KVM's
 *   APIC bus runs at 1 GHz at most).  In TSC-deadline mode both read 0.
 *   vireo carries the whole register page, TMCCT included; a kernel that
 *   restarts a restored timer from TMICT instead would fail here, naming
 *   TMCCT (a guest timer that restarts on migration).
 *
 * The timer runs in both of its modes, one case each: one-shot with an
 * initial count, and TSC-deadline with IA32_TSC_DEADLINE armed far in the
 * future.  KVM drops a deadline written in one-shot mode and clears TMICT
 * on entering deadline mode, so no single state carries both.
 *
 * The same body runs on the fake KVM backend (tests/unit/fake-kvm.h) and,
 * when it can be opened, on /dev/kvm (skipped otherwise, saying why).  On
 * the fake every value is stored as written and the clocks stand still, so
 * it checks this test's own logic and vireo's save/load plumbing; only
 * /dev/kvm checks that the kernel takes and gives back each group.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "migration/savevm.h"
#include "migration/stream.h"
#include "target-i386/cpu-internal.h"
#include "target-i386/machine.h"
#include "tests/unit/fake-kvm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Guest RAM at GPA 0 for the pages paravirtual MSRs point at (KVM checks
 * that async PF, PV EOI and steal time addresses are backed). */
#define RAM_SIZE (1u << 20)
#define GPA_WALL_CLOCK 0x1000
#define GPA_SYSTEM_TIME 0x2000
#define GPA_ASYNC_PF 0x3000
#define GPA_STEAL_TIME 0x4000
#define GPA_PV_EOI 0x5000

#define TSC_VALUE (1ULL << 44) /* far from 0: KVM's 1 s TSC sync window */
#define TSC_DEADLINE (TSC_VALUE + (1ULL << 42)) /* minutes away */
#define CLOCK_VALUE (1ULL << 44)                /* ns, ~4.9 hours */
#define TIMER_COUNT 0x12345678u /* x128 ns: ~39 s, longer than the test */

#define LAPIC_TPR 0x80
#define LAPIC_LDR 0xd0
#define LAPIC_SPIV 0xf0
#define LAPIC_LVTT 0x320
#define LAPIC_LVTPC 0x340
#define LAPIC_LINT0 0x350
#define LAPIC_LINT1 0x360
#define LAPIC_LVTERR 0x370
#define LAPIC_TMICT 0x380
#define LAPIC_TMCCT 0x390
#define LAPIC_TDCR 0x3e0
#define LVT_MASKED (1u << 16)
#define LVTT_TSC_DEADLINE (2u << 17)

struct rt_case {
    bool real;
    bool deadline; /* LAPIC timer in TSC-deadline mode, else one-shot */
};

struct vm {
    const char *name;
    struct fake_kvm *f; /* the fake backend; NULL on /dev/kvm */
    struct kvm_accel *k;
    int fd; /* the vCPU */
    struct kvm_run *run;
    struct x86_cpu_model *model;
    struct x86_cpu *cpu;
    uint8_t *ram;
    size_t xsave_size; /* the KVM_GET_XSAVE2 size, or 4096 */
};

/* What KVM reports of one vCPU (and the VM's clock). */
struct snap {
    struct kvm_regs regs;
    struct kvm_sregs2 sregs;
    uint8_t *xsave;
    struct kvm_xcrs xcrs;
    struct kvm_debugregs dbg;
    struct kvm_vcpu_events events;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    uint32_t nmsrs;
    struct kvm_msrs *msrs;
    struct kvm_clock_data clock;
};

/* A raw ioctl that must succeed; returns its (non-negative) result. */
static int raw(struct vm *v, int fd, unsigned long req, void *arg)
{
    int r = kvm_ioctl(v->k, fd, req, arg);

    if (r < 0) {
        g_error("VM %s: %s failed: %s", v->name, kvm_ioctl_name(req),
                g_strerror(-r));
    }
    return r;
}

static void vm_init(struct vm *v, const char *name, bool real)
{
    struct kvm_userspace_memory_region mr = {0};
    Error *err = NULL;

    memset(v, 0, sizeof(*v));
    v->name = name;
    if (real) {
        /* the production path, as /kvm-state/real-kvm */
        v->k = kvm_accel_new(NULL, KVM_IRQCHIP_SPLIT, 0xfeffc000, &err);
        if (!v->k) {
            g_error("VM %s: kvm_accel_new: %s", name, error_get_pretty(err));
        }
        v->fd = kvm_create_vcpu(v->k, 0, &v->run, &err);
        if (v->fd < 0) {
            g_error("VM %s: %s", name, error_get_pretty(err));
        }
    } else {
        v->f = g_new0(struct fake_kvm, 1);
        fake_kvm_init(v->f);
        v->f->accel.vm_fd = FAKE_VM_FD;
        v->f->accel.has_smm = true; /* as KVM on x86 hosts */
        v->k = &v->f->accel;
        v->fd = FAKE_VCPU_FD;
    }
    v->xsave_size = sizeof(struct kvm_xsave);
    if (v->k->has_xsave2 && (size_t)v->k->xsave2_size > v->xsave_size) {
        v->xsave_size = v->k->xsave2_size;
    }

    /* As a machine creates its vCPU: CPUID and MSR probe, reset, put. */
    v->model = x86_cpu_model_new(v->k, "host", 1, 1, 1, 1, &err);
    if (!v->model) {
        g_error("VM %s: -cpu host: %s", name, error_get_pretty(err));
    }
    v->cpu = x86_cpu_new(v->k, v->fd, 0, v->model, &err);
    if (!v->cpu) {
        g_error("VM %s: %s", name, error_get_pretty(err));
    }
    x86_cpu_reset(v->cpu, true);
    if (!x86_cpu_put(v->cpu, X86_PUT_RESET, &err)) {
        g_error("VM %s: reset put: %s", name, error_get_pretty(err));
    }
    x86_cpu_invalidate(v->cpu);

    v->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(v->ram != MAP_FAILED);
    mr.slot = 0;
    mr.guest_phys_addr = 0;
    mr.memory_size = RAM_SIZE;
    mr.userspace_addr = (uintptr_t)v->ram;
    raw(v, v->k->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr);
}

static void vm_fini(struct vm *v)
{
    x86_cpu_free(v->cpu);
    x86_cpu_model_free(v->model);
    if (v->f) {
        fake_kvm_destroy(v->f);
        g_free(v->f);
    } else {
        munmap(v->run, v->k->vcpu_mmap_size);
        close(v->fd);
        kvm_accel_free(v->k);
    }
    munmap(v->ram, RAM_SIZE);
}

static bool vcpu_has(const struct vm *v, uint32_t leaf, int reg, unsigned bit)
{
    return x86_cpuid_has(x86_cpu_cpuid(v->cpu), leaf, reg, bit);
}

/* CPUID.0xD sub-leaf 2: where AVX's upper halves are in the XSAVE area
 * (standard format) and how big; false if the vCPU has no AVX. */
static bool avx_area(const struct vm *v, uint32_t *off, uint32_t *size)
{
    const struct kvm_cpuid_entry2 *e =
        x86_cpuid_find_const(x86_cpu_cpuid(v->cpu), 0xd, 2);

    if (!vcpu_has(v, 1, 2, 28) || !vcpu_has(v, 0xd, 0, 2) || !e || !e->eax) {
        return false;
    }
    *off = e->ebx;
    *size = e->eax;
    g_assert_cmpuint((uint64_t)*off + *size, <=, v->xsave_size);
    return true;
}

/* ---- reading a vCPU ---------------------------------------------------- */

static struct kvm_msrs *msrs_new(uint32_t n)
{
    struct kvm_msrs *m =
        g_malloc0(sizeof(*m) + n * sizeof(struct kvm_msr_entry));

    m->nmsrs = n;
    return m;
}

static void snap_init(struct snap *s, const struct vm *v, const uint32_t *idx,
                      uint32_t n)
{
    memset(s, 0, sizeof(*s));
    s->xsave = g_malloc0(v->xsave_size);
    s->nmsrs = n;
    s->msrs = msrs_new(n);
    for (uint32_t i = 0; i < n; i++) {
        s->msrs->entries[i].index = idx[i];
    }
}

static void snap_fini(struct snap *s)
{
    g_free(s->xsave);
    g_free(s->msrs);
}

/*
 * Every group, in the order vireo gets them (events and mp_state first:
 * KVM_GET_MP_STATE may process pending INIT/SIPI and, where KVM has MPX,
 * passes the FPU state through the hardware once).
 */
static void snap_read(struct vm *v, struct snap *s)
{
    int r;

    memset(&s->events, 0, sizeof(s->events));
    raw(v, v->fd, KVM_GET_VCPU_EVENTS, &s->events);
    memset(&s->mp, 0, sizeof(s->mp));
    raw(v, v->fd, KVM_GET_MP_STATE, &s->mp);
    memset(&s->regs, 0, sizeof(s->regs));
    raw(v, v->fd, KVM_GET_REGS, &s->regs);
    memset(s->xsave, 0, v->xsave_size);
    raw(v, v->fd, v->k->has_xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, s->xsave);
    memset(&s->xcrs, 0, sizeof(s->xcrs));
    if (v->k->has_xcrs) {
        raw(v, v->fd, KVM_GET_XCRS, &s->xcrs);
    }
    memset(&s->sregs, 0, sizeof(s->sregs));
    if (v->k->has_sregs2) {
        raw(v, v->fd, KVM_GET_SREGS2, &s->sregs);
    } else {
        struct kvm_sregs old = {0};

        /* the common prefix; the interrupt bitmap is empty (no interrupt
         * is injected here) and the PDPTRs are sregs2's alone */
        raw(v, v->fd, KVM_GET_SREGS, &old);
        memcpy(&s->sregs, &old, offsetof(struct kvm_sregs, interrupt_bitmap));
    }
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        s->msrs->entries[i].data = 0;
    }
    s->msrs->nmsrs = s->nmsrs;
    r = raw(v, v->fd, KVM_GET_MSRS, s->msrs);
    if ((uint32_t)r != s->nmsrs) {
        g_error("VM %s: KVM_GET_MSRS read %d of %u MSRs: refused 0x%x", v->name,
                r, s->nmsrs, s->msrs->entries[r].index);
    }
    memset(&s->lapic, 0, sizeof(s->lapic));
    raw(v, v->fd, KVM_GET_LAPIC, &s->lapic);
    memset(&s->dbg, 0, sizeof(s->dbg));
    if (v->k->has_debugregs) {
        raw(v, v->fd, KVM_GET_DEBUGREGS, &s->dbg);
    }
    memset(&s->clock, 0, sizeof(s->clock));
    raw(v, v->k->vm_fd, KVM_GET_CLOCK, &s->clock);
}

static bool snap_msr(const struct snap *s, uint32_t index, uint64_t *val)
{
    for (uint32_t i = 0; i < s->nmsrs; i++) {
        if (s->msrs->entries[i].index == index) {
            *val = s->msrs->entries[i].data;
            return true;
        }
    }
    return false;
}

/* ---- comparing --------------------------------------------------------- */

/* A named field of a KVM struct, up to 8 bytes. */
struct field {
    const char *name;
    size_t off;
    size_t size;
};
#define FIELD(T, f)                                                            \
    {                                                                          \
#f, offsetof(T, f), sizeof(((T *)0)->f)                                \
    }

static uint64_t field_value(const struct field *f, const void *p)
{
    uint64_t v = 0;

    g_assert_cmpuint(f->size, <=, sizeof(v));
    memcpy(&v, (const uint8_t *)p + f->off, f->size);
    return v;
}

/* The first field of t that differs between a and b, described; NULL if
 * none does (g_free the result). */
static char *diff_fields(const char *prefix, const struct field *t, size_t n,
                         const void *a, const void *b)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t va = field_value(&t[i], a), vb = field_value(&t[i], b);

        if (va != vb) {
            return g_strdup_printf("%s%s: 0x%" PRIx64 " vs 0x%" PRIx64, prefix,
                                   t[i].name, va, vb);
        }
    }
    return NULL;
}

static const struct field regs_fields[] = {
    FIELD(struct kvm_regs, rax), FIELD(struct kvm_regs, rbx),
    FIELD(struct kvm_regs, rcx), FIELD(struct kvm_regs, rdx),
    FIELD(struct kvm_regs, rsi), FIELD(struct kvm_regs, rdi),
    FIELD(struct kvm_regs, rsp), FIELD(struct kvm_regs, rbp),
    FIELD(struct kvm_regs, r8),  FIELD(struct kvm_regs, r9),
    FIELD(struct kvm_regs, r10), FIELD(struct kvm_regs, r11),
    FIELD(struct kvm_regs, r12), FIELD(struct kvm_regs, r13),
    FIELD(struct kvm_regs, r14), FIELD(struct kvm_regs, r15),
    FIELD(struct kvm_regs, rip), FIELD(struct kvm_regs, rflags),
};

static const struct field segment_fields[] = {
    FIELD(struct kvm_segment, base),     FIELD(struct kvm_segment, limit),
    FIELD(struct kvm_segment, selector), FIELD(struct kvm_segment, type),
    FIELD(struct kvm_segment, present),  FIELD(struct kvm_segment, dpl),
    FIELD(struct kvm_segment, db),       FIELD(struct kvm_segment, s),
    FIELD(struct kvm_segment, l),        FIELD(struct kvm_segment, g),
    FIELD(struct kvm_segment, avl),      FIELD(struct kvm_segment, unusable),
};

static const struct field dtable_fields[] = {
    FIELD(struct kvm_dtable, base),
    FIELD(struct kvm_dtable, limit),
};

static const struct field sregs_fields[] = {
    FIELD(struct kvm_sregs2, cr0),       FIELD(struct kvm_sregs2, cr2),
    FIELD(struct kvm_sregs2, cr3),       FIELD(struct kvm_sregs2, cr4),
    FIELD(struct kvm_sregs2, cr8),       FIELD(struct kvm_sregs2, efer),
    FIELD(struct kvm_sregs2, apic_base), FIELD(struct kvm_sregs2, flags),
    FIELD(struct kvm_sregs2, pdptrs[0]), FIELD(struct kvm_sregs2, pdptrs[1]),
    FIELD(struct kvm_sregs2, pdptrs[2]), FIELD(struct kvm_sregs2, pdptrs[3]),
};

static char *diff_sregs(const struct kvm_sregs2 *a, const struct kvm_sregs2 *b)
{
    static const struct {
        const char *name;
        size_t off;
    } segs[] = {
        {"CS.", offsetof(struct kvm_sregs2, cs)},
        {"DS.", offsetof(struct kvm_sregs2, ds)},
        {"ES.", offsetof(struct kvm_sregs2, es)},
        {"FS.", offsetof(struct kvm_sregs2, fs)},
        {"GS.", offsetof(struct kvm_sregs2, gs)},
        {"SS.", offsetof(struct kvm_sregs2, ss)},
        {"TR.", offsetof(struct kvm_sregs2, tr)},
        {"LDT.", offsetof(struct kvm_sregs2, ldt)},
        {"GDT.", offsetof(struct kvm_sregs2, gdt)},
        {"IDT.", offsetof(struct kvm_sregs2, idt)},
    };
    char *d;

    for (size_t i = 0; i < ARRAY_SIZE(segs); i++) {
        const uint8_t *pa = (const uint8_t *)a + segs[i].off;
        const uint8_t *pb = (const uint8_t *)b + segs[i].off;

        d = i < 8 ? diff_fields(segs[i].name, segment_fields,
                                ARRAY_SIZE(segment_fields), pa, pb)
                  : diff_fields(segs[i].name, dtable_fields,
                                ARRAY_SIZE(dtable_fields), pa, pb);
        if (d) {
            return d;
        }
    }
    return diff_fields("", sregs_fields, ARRAY_SIZE(sregs_fields), a, b);
}

static const struct field events_fields[] = {
    FIELD(struct kvm_vcpu_events, exception.injected),
    FIELD(struct kvm_vcpu_events, exception.nr),
    FIELD(struct kvm_vcpu_events, exception.has_error_code),
    FIELD(struct kvm_vcpu_events, exception.pending),
    FIELD(struct kvm_vcpu_events, exception.error_code),
    FIELD(struct kvm_vcpu_events, exception_has_payload),
    FIELD(struct kvm_vcpu_events, exception_payload),
    FIELD(struct kvm_vcpu_events, interrupt.injected),
    FIELD(struct kvm_vcpu_events, interrupt.nr),
    FIELD(struct kvm_vcpu_events, interrupt.soft),
    FIELD(struct kvm_vcpu_events, interrupt.shadow),
    FIELD(struct kvm_vcpu_events, nmi.injected),
    FIELD(struct kvm_vcpu_events, nmi.pending),
    FIELD(struct kvm_vcpu_events, nmi.masked),
    FIELD(struct kvm_vcpu_events, sipi_vector),
    FIELD(struct kvm_vcpu_events, flags),
    FIELD(struct kvm_vcpu_events, smi.smm),
    FIELD(struct kvm_vcpu_events, smi.pending),
    FIELD(struct kvm_vcpu_events, smi.smm_inside_nmi),
    FIELD(struct kvm_vcpu_events, smi.latched_init),
    FIELD(struct kvm_vcpu_events, triple_fault.pending),
};

static const struct field dbg_fields[] = {
    FIELD(struct kvm_debugregs, db[0]), FIELD(struct kvm_debugregs, db[1]),
    FIELD(struct kvm_debugregs, db[2]), FIELD(struct kvm_debugregs, db[3]),
    FIELD(struct kvm_debugregs, dr6),   FIELD(struct kvm_debugregs, dr7),
    FIELD(struct kvm_debugregs, flags),
};

static char *diff_xcrs(const struct kvm_xcrs *a, const struct kvm_xcrs *b)
{
    if (a->nr_xcrs != b->nr_xcrs || a->flags != b->flags) {
        return g_strdup_printf("nr_xcrs/flags: %u/0x%x vs %u/0x%x", a->nr_xcrs,
                               a->flags, b->nr_xcrs, b->flags);
    }
    for (int i = 0; i < KVM_MAX_XCRS; i++) {
        if (a->xcrs[i].xcr != b->xcrs[i].xcr ||
            a->xcrs[i].value != b->xcrs[i].value) {
            return g_strdup_printf(
                "xcrs[%d]: XCR%u=0x%" PRIx64 " vs XCR%u=0x%" PRIx64, i,
                a->xcrs[i].xcr, (uint64_t)a->xcrs[i].value, b->xcrs[i].xcr,
                (uint64_t)b->xcrs[i].value);
        }
    }
    return NULL;
}

static const char *xsave_part(const struct vm *v, size_t off)
{
    uint32_t avx_off, avx_size;

    if (off < 24) {
        return "x87 control/status";
    } else if (off < 32) {
        return "MXCSR/MXCSR_MASK";
    } else if (off < 160) {
        return "x87 ST0-7";
    } else if (off < 416) {
        return "XMM0-15";
    } else if (off < 512) {
        return "reserved/software bytes";
    } else if (off < 576) {
        return "XSAVE header";
    } else if (avx_area(v, &avx_off, &avx_size) && off >= avx_off &&
               off < avx_off + avx_size) {
        return "AVX YMM_Hi128";
    }
    return "extended state";
}

static char *diff_xsave(const struct vm *v, const uint8_t *a, const uint8_t *b)
{
    for (size_t i = 0; i < v->xsave_size; i++) {
        if (a[i] != b[i]) {
            uint64_t wa, wb;
            size_t w = i & ~(size_t)7;

            memcpy(&wa, a + w, 8);
            memcpy(&wb, b + w, 8);
            return g_strdup_printf("byte 0x%zx (%s), 8 bytes at 0x%zx: "
                                   "0x%016" PRIx64 " vs 0x%016" PRIx64,
                                   i, xsave_part(v, i), w, wa, wb);
        }
    }
    return NULL;
}

static const char *lapic_name(unsigned off)
{
    static const struct {
        unsigned off;
        const char *name;
    } regs[] = {
        {0x20, "ID"},           {0x30, "version"},    {0x80, "TPR"},
        {0x90, "APR"},          {0xa0, "PPR"},        {0xb0, "EOI"},
        {0xc0, "RRD"},          {0xd0, "LDR"},        {0xe0, "DFR"},
        {0xf0, "SPIV"},         {0x280, "ESR"},       {0x2f0, "LVT CMCI"},
        {0x300, "ICR low"},     {0x310, "ICR high"},  {0x320, "LVT timer"},
        {0x330, "LVT thermal"}, {0x340, "LVT perf"},  {0x350, "LVT LINT0"},
        {0x360, "LVT LINT1"},   {0x370, "LVT error"}, {0x380, "TMICT"},
        {0x390, "TMCCT"},       {0x3e0, "TDCR"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
        if (regs[i].off == (off & ~0xfu)) {
            return regs[i].name;
        }
    }
    if (off >= 0x100 && off < 0x180) {
        return "ISR";
    } else if (off >= 0x180 && off < 0x200) {
        return "TMR";
    } else if (off >= 0x200 && off < 0x280) {
        return "IRR";
    }
    return "reserved";
}

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned off)
{
    uint32_t v;

    memcpy(&v, &l->regs[off], 4);
    return v;
}

static void lapic_set(struct kvm_lapic_state *l, unsigned off, uint32_t v)
{
    memcpy(&l->regs[off], &v, 4);
}

/* Every 32-bit word of the page; TMCCT too unless skip_tmcct. */
static char *diff_lapic(const struct kvm_lapic_state *a,
                        const struct kvm_lapic_state *b, bool skip_tmcct)
{
    for (unsigned off = 0; off < sizeof(a->regs); off += 4) {
        if (skip_tmcct && off == LAPIC_TMCCT) {
            continue;
        }
        if (lapic_reg(a, off) != lapic_reg(b, off)) {
            return g_strdup_printf("%s (0x%03x): 0x%08x vs 0x%08x",
                                   lapic_name(off), off, lapic_reg(a, off),
                                   lapic_reg(b, off));
        }
    }
    return NULL;
}

static const char *msr_name(uint32_t index)
{
    const struct x86_msr_def *d = x86_msr_def_find(index);

    return d ? d->name : "?";
}

/* Each group of a vs b (the TSC, the clock and TMCCT excepted), calling
 * `each` with the group's name and its first difference (NULL: none). */
static void diff_groups(const struct vm *v, const struct snap *a,
                        const struct snap *b,
                        void (*each)(const char *group, char *diff))
{
    each("regs", diff_fields("", regs_fields, ARRAY_SIZE(regs_fields), &a->regs,
                             &b->regs));
    each("sregs2", diff_sregs(&a->sregs, &b->sregs));
    each("xsave", diff_xsave(v, a->xsave, b->xsave));
    if (v->k->has_xcrs) { /* else neither VM reads them */
        each("xcrs", diff_xcrs(&a->xcrs, &b->xcrs));
    }
    if (v->k->has_debugregs) {
        each("debugregs", diff_fields("", dbg_fields, ARRAY_SIZE(dbg_fields),
                                      &a->dbg, &b->dbg));
    }
    each("vcpu-events",
         diff_fields("", events_fields, ARRAY_SIZE(events_fields), &a->events,
                     &b->events));
    each("lapic", diff_lapic(&a->lapic, &b->lapic, true));
    each("mp-state", a->mp.mp_state == b->mp.mp_state
                         ? NULL
                         : g_strdup_printf("mp_state: %u vs %u", a->mp.mp_state,
                                           b->mp.mp_state));
}

static void must_equal(const char *group, char *diff)
{
    if (diff) {
        g_error("round trip: %s differs (VM A before the save vs VM B after "
                "the load): %s",
                group, diff);
    }
}

static void must_differ(const char *group, char *diff)
{
    if (!diff) {
        g_error("%s: VM B already holds VM A's values before the load, the "
                "round trip would prove nothing",
                group);
    }
    g_free(diff);
}

/* ---- VM A's state ------------------------------------------------------ */

/*
 * Values for the MSRs of vireo's list, tried in order until KVM takes one.
 * Each differs from its reset value, and from the others where the MSR
 * allows, so that a value loaded into the wrong MSR shows.  They respect
 * what KVM checks: canonical addresses for SYSENTER_E[SI]P, [LC]STAR and
 * KERNEL_GS_BASE; 32 bits for TSC_AUX; memory types 0,1,4-7 in every byte
 * of PAT and the MTRRs; no bits above MAXPHYADDR (36 at least) in the
 * variable MTRRs; SPEC_CTRL bits the host has (SSBD, else IBRS, else
 * STIBP); MCG_CTL 0 or all ones (and only with MCG_CTL_P); 64-byte
 * aligned, RAM-backed addresses for steal time and async PF, delivery as
 * an interrupt with the vector MSR written first; POLL_CONTROL bit 0 only.
 * Returns how many candidates; 0 if the MSR has none (a new MSR in msr.c
 * needs a line here).
 */
static unsigned msr_values(uint32_t index, uint64_t *out)
{
    static const uint8_t types[] = {0, 1, 4, 5, 6, 7};
    unsigned i;

    switch (index) {
    case 0x174: /* SYSENTER_CS: 32 bits in the VMCS */
        out[0] = 0x10;
        return 1;
    case 0x175:
        out[0] = 0xfffffe0000005000ULL;
        return 1;
    case 0x176:
        out[0] = 0xffffffff81a01000ULL;
        return 1;
    case MSR_IA32_PAT:
        out[0] = 0x0007050600070106ULL;
        return 1;
    case 0xc0000081: /* STAR */
        out[0] = 0x0023001000000000ULL;
        return 1;
    case 0xc0000082:
        out[0] = 0xffffffff81e00080ULL;
        return 1;
    case 0xc0000083:
        out[0] = 0xffffffff81e001c0ULL;
        return 1;
    case 0xc0000084: /* SFMASK: bits 63:32 reserved */
        out[0] = 0x47700;
        return 1;
    case 0xc0000102:
        out[0] = 0xffff888007a00000ULL;
        return 1;
    case 0xc0000103: /* TSC_AUX */
        out[0] = 5;
        return 1;
    case 0x3b: /* TSC_ADJUST: stored as is when the host writes it */
        out[0] = 0x100000;
        return 1;
    case MSR_IA32_SPEC_CTRL:
        out[0] = 4, out[1] = 1, out[2] = 2;
        return 3;
    case MSR_VIRT_SPEC_CTRL:
        out[0] = 4;
        return 1;
    case MSR_IA32_MISC_ENABLE: /* fast strings, BTS/PEBS unavailable */
        out[0] = 0x1801;
        return 1;
    case 0x1d9: /* DEBUGCTL: LBR, else BTF (VMX drops BTF silently) */
        out[0] = 1, out[1] = 2;
        return 2;
    case 0x17a: /* MCG_STATUS: RIPV */
        out[0] = 1;
        return 1;
    case 0x17b: /* MCG_CTL */
        out[0] = ~0ULL;
        return 1;
    case 0xc0010117: /* VM_HSAVE_PA */
        out[0] = 0x7f000;
        return 1;
    case 0x34: /* SMI_COUNT */
        out[0] = 3;
        return 1;
    case MSR_IA32_SMBASE:
        out[0] = 0xa0000;
        return 1;
    case MSR_IA32_TSC:
        out[0] = TSC_VALUE;
        return 1;
    case 0x4b564d01:
    case 0x12:
        out[0] = GPA_SYSTEM_TIME | 1;
        return 1;
    case 0x4b564d00:
    case 0x11:
        out[0] = GPA_WALL_CLOCK;
        return 1;
    case 0x4b564d06: /* ASYNC_PF_INT: the vector */
        out[0] = 0xf3;
        return 1;
    case 0x4b564d02: /* ASYNC_PF_EN: enabled, always, as an interrupt */
        out[0] = GPA_ASYNC_PF | 0xb, out[1] = GPA_ASYNC_PF | 0x3;
        return 2;
    case 0x4b564d03:
        out[0] = GPA_STEAL_TIME | 1;
        return 1;
    case 0x4b564d04:
        out[0] = GPA_PV_EOI | 1;
        return 1;
    case MSR_KVM_POLL_CONTROL: /* resets to 1 */
        out[0] = 0;
        return 1;
    case 0x2ff: /* MTRRdefType: enabled, fixed enabled, WB */
        out[0] = 0xc06;
        return 1;
    case 0x6e0:
        out[0] = TSC_DEADLINE;
        return 1;
    default:
        break;
    }
    /* fixed-range MTRRs: a distinct pair of types in the low bytes, WB */
    {
        static const uint32_t fixed[] = {0x250, 0x258, 0x259, 0x268,
                                         0x269, 0x26a, 0x26b, 0x26c,
                                         0x26d, 0x26e, 0x26f};

        for (i = 0; i < ARRAY_SIZE(fixed); i++) {
            if (fixed[i] == index) {
                out[0] = 0x0606060606060000ULL | types[i % 6] |
                         (uint64_t)types[i / 6 % 6] << 8;
                return 1;
            }
        }
    }
    /* variable MTRRs: base i at (i+1) * 2 GiB, mask of 16 MiB << i */
    if (index >= 0x200 && index <= 0x20f) {
        i = (index - 0x200) / 2;
        if (!(index & 1)) {
            out[0] = (uint64_t)(i + 1) << 31 | types[i % 6];
        } else {
            out[0] = ((0xfffffffffULL << (24 + i)) & 0xfffffffffULL) | 0x800;
        }
        return 1;
    }
    return 0;
}

/* Writes the MSRs one at a time in vireo's order (the TSC before its
 * deadline, the async PF vector before the enable). */
static void set_msrs(struct vm *v, const uint32_t *idx, uint32_t n)
{
    struct kvm_msrs *one = msrs_new(1);

    for (uint32_t i = 0; i < n; i++) {
        uint64_t cand[4];
        unsigned nc = msr_values(idx[i], cand), k;

        if (!nc) {
            g_error("MSR 0x%x (%s) is in vireo's saved list but has no test "
                    "value: add one to msr_values()",
                    idx[i], msr_name(idx[i]));
        }
        for (k = 0; k < nc; k++) {
            one->nmsrs = 1;
            one->entries[0].index = idx[i];
            one->entries[0].reserved = 0;
            one->entries[0].data = cand[k];
            if (raw(v, v->fd, KVM_SET_MSRS, one) == 1) {
                break;
            }
        }
        if (k == nc) {
            g_test_message("KVM refused every test value of MSR 0x%x (%s): "
                           "it keeps its value",
                           idx[i], msr_name(idx[i]));
        }
    }
    g_free(one);
}

/* A flat 4 GiB ring-0 segment: 64-bit code (CS.L, not CS.D) or data. */
static struct kvm_segment flat_segment(uint16_t selector, uint8_t type,
                                       bool code)
{
    struct kvm_segment seg = {0};

    seg.limit = 0xffffffff;
    seg.selector = selector;
    seg.type = type;
    seg.present = 1;
    seg.s = 1;
    seg.l = code;
    seg.db = !code;
    seg.g = 1;
    return seg;
}

static void set_state(struct vm *v, bool deadline, const uint32_t *idx,
                      uint32_t n)
{
    struct kvm_sregs2 s = {0};
    struct kvm_regs r = {0};
    struct kvm_xcrs x = {0};
    struct kvm_lapic_state l = {0};
    struct kvm_vcpu_events ev = {0};
    struct kvm_mp_state mp = {0};
    struct kvm_debugregs d = {0};
    struct kvm_clock_data clock = {0};
    uint8_t *xs = g_malloc0(v->xsave_size);
    uint32_t avx_off = 0, avx_size = 0, mxcsr_mask;
    bool avx = avx_area(v, &avx_off, &avx_size);
    bool xsave = vcpu_has(v, 1, 2, 26);
    uint64_t xcr0 = avx ? 7 : 3;
    uint16_t fcw = 0x027f, fsw = 0x3800; /* double precision; TOP=7 */
    uint32_t mxcsr = 0x9fa0;             /* FZ, RC=nearest, masks, PE */
    static const uint8_t one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f};

    /* sregs2: 64-bit kernel mode, Linux's control registers; the segments
     * from KVM's current ones with what long mode needs. */
    if (v->k->has_sregs2) {
        raw(v, v->fd, KVM_GET_SREGS2, &s);
    } else {
        struct kvm_sregs old = {0};

        raw(v, v->fd, KVM_GET_SREGS, &old);
        memcpy(&s, &old, offsetof(struct kvm_sregs, interrupt_bitmap));
    }
    s.cr0 = 0x80050033; /* PG AM WP NE ET MP PE */
    s.cr2 = 0x7f00dead0000ULL;
    s.cr3 = 0x9000;
    s.cr4 = 0x6a0 | (xsave ? 1u << 18 : 0); /* PAE PGE OSFXSR OSXMMEXCPT */
    s.cr8 = 5;
    s.efer = 0x501 | (vcpu_has(v, 0x80000001, 3, 20) ? 0x800 : 0);
    s.cs = flat_segment(0x10, 0xb, true);
    s.ds = flat_segment(0x18, 0x3, false);
    s.es = s.ss = s.ds;
    s.fs = s.ds, s.fs.base = 0x7f0000001000ULL;
    s.gs = s.ds, s.gs.base = 0xffff888007a00000ULL;
    s.tr = (struct kvm_segment){.base = 0xfffffe0000003000ULL,
                                .limit = 0x67,
                                .selector = 0x40,
                                .type = 0xb,
                                .present = 1};
    s.ldt = (struct kvm_segment){.type = 0x2, .unusable = 1};
    s.gdt = (struct kvm_dtable){.base = 0xfffffe0000001000ULL, .limit = 0x7f};
    s.idt = (struct kvm_dtable){.base = 0xfffffe0000000000ULL, .limit = 0xfff};
    s.flags = 0; /* no PDPTRs in long mode */
    memset(s.pdptrs, 0, sizeof(s.pdptrs));
    if (v->k->has_sregs2) {
        raw(v, v->fd, KVM_SET_SREGS2, &s);
    } else {
        struct kvm_sregs old = {0};

        memcpy(&old, &s, offsetof(struct kvm_sregs, interrupt_bitmap));
        raw(v, v->fd, KVM_SET_SREGS, &old);
    }

    /* regs (KVM_SET_REGS drops a pending exception: before the events) */
    for (size_t i = 0; i < ARRAY_SIZE(regs_fields); i++) {
        uint64_t val = 0x1111222233330000ULL + i * 0x0101;

        memcpy((uint8_t *)&r + regs_fields[i].off, &val, 8);
    }
    r.rip = 0xffffffff81000123ULL;
    r.rflags = 0x247; /* IF ZF PF CF; IF for the STI shadow below */
    raw(v, v->fd, KVM_SET_REGS, &r);

    /* XCR0 (CPL 0 by now), then the XSAVE area from KVM's own */
    if (v->k->has_xcrs) {
        x.nr_xcrs = 1;
        x.flags = 0;
        x.xcrs[0].xcr = 0;
        x.xcrs[0].value = xcr0;
        raw(v, v->fd, KVM_SET_XCRS, &x);
    }
    raw(v, v->fd, v->k->has_xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, xs);
    memcpy(&mxcsr_mask, xs + 28, 4);
    g_assert_cmphex(mxcsr & ~(mxcsr_mask ? mxcsr_mask : 0xffbf), ==, 0);
    memcpy(xs + 0, &fcw, 2);
    memcpy(xs + 2, &fsw, 2);
    xs[4] = 0x80; /* abridged FTW: R7 = ST0 valid */
    memcpy(xs + 24, &mxcsr, 4);
    memcpy(xs + 32, one, 10); /* ST0 = 1.0 */
    for (unsigned i = 0; i < 256; i++) {
        xs[160 + i] = (uint8_t)(0x40 + i * 7); /* XMM0-15 */
    }
    xs[512] |= 0x3; /* XSTATE_BV: x87, SSE */
    if (avx) {
        for (unsigned i = 0; i < avx_size; i++) {
            xs[avx_off + i] = (uint8_t)(0xa5 ^ (i * 3)); /* YMM0-15 high */
        }
        xs[512] |= 0x4;
    }
    /* Past the legacy 4 KiB only AMX tile data lives, which KVM gives a
     * guest only with permission (arch_prctl) and XFD: filled on the fake
     * alone, where it stands for that state and vireo's xsave-ext path. */
    for (size_t i = sizeof(struct kvm_xsave); v->f && i < v->xsave_size; i++) {
        xs[i] = (uint8_t)(i * 13 + 1);
    }
    raw(v, v->fd, KVM_SET_XSAVE, xs);

    /* the LAPIC: TPR agrees with CR8; software-enabled; the timer masked
     * so that it never raises an interrupt while the test reads */
    raw(v, v->fd, KVM_GET_LAPIC, &l);
    lapic_set(&l, LAPIC_TPR, 0x50);
    lapic_set(&l, LAPIC_LDR, 1u << 24);
    lapic_set(&l, LAPIC_SPIV, 0x1ff);
    lapic_set(&l, LAPIC_LVTPC, LVT_MASKED | 0x400); /* NMI, masked */
    lapic_set(&l, LAPIC_LINT0, LVT_MASKED | 0x700); /* ExtINT, masked */
    lapic_set(&l, LAPIC_LINT1, 0x400);              /* NMI */
    lapic_set(&l, LAPIC_LVTERR, 0xfe);
    lapic_set(&l, LAPIC_TDCR, 0xa); /* divide by 128 */
    if (deadline) {
        lapic_set(&l, LAPIC_LVTT, LVT_MASKED | LVTT_TSC_DEADLINE | 0xec);
        lapic_set(&l, LAPIC_TMICT, 0);
        lapic_set(&l, LAPIC_TMCCT, 0);
    } else {
        /* KVM restarts the timer from TMCCT: the whole count */
        lapic_set(&l, LAPIC_LVTT, LVT_MASKED | 0xec);
        lapic_set(&l, LAPIC_TMICT, TIMER_COUNT);
        lapic_set(&l, LAPIC_TMCCT, TIMER_COUNT);
    }
    raw(v, v->fd, KVM_SET_LAPIC, &l);

    /* the MSRs after the LAPIC: the deadline needs deadline mode */
    set_msrs(v, idx, n);

    /* events: #PF being injected, an NMI pending under NMI blocking, the
     * STI shadow (no SMM: x86_cpu_check_state would refuse it where KVM
     * has none) */
    ev.exception.injected = 1;
    ev.exception.nr = 14;
    ev.exception.has_error_code = 1;
    ev.exception.error_code = 0x6;
    ev.interrupt.shadow = KVM_X86_SHADOW_INT_STI;
    ev.nmi.pending = 1;
    ev.nmi.masked = 1;
    ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
    raw(v, v->fd, KVM_SET_VCPU_EVENTS, &ev);

    mp.mp_state = KVM_MP_STATE_HALTED;
    raw(v, v->fd, KVM_SET_MP_STATE, &mp);

    /* DR0 a 2-byte write breakpoint (aligned), DR1 an execute one */
    d.db[0] = 0x1000;
    d.db[1] = 0xffffffff81000200ULL;
    d.db[2] = 0xffff888000003000ULL;
    d.db[3] = 0x7f0000004000ULL;
    d.dr6 = 0xffff4ff1; /* BS, B0 */
    d.dr7 = 0x00050407; /* L0 G0 L1; RW0=write LEN0=2; bit 10 */
    d.flags = 0;
    if (v->k->has_debugregs) {
        raw(v, v->fd, KVM_SET_DEBUGREGS, &d);
    }

    clock.clock = CLOCK_VALUE;
    clock.flags = 0;
    raw(v, v->k->vm_fd, KVM_SET_CLOCK, &clock);
    g_free(xs);
}

/* ---- the stream -------------------------------------------------------- */

static struct savevm *registry(struct vm *v)
{
    struct savevm *sv = savevm_new("kvm-round-trip");

    savevm_fingerprint_add(sv, "cpu", "host");
    savevm_register_ops(sv, "cpu", 0, &x86_cpu_savevm_ops, v->cpu);
    savevm_register_ops(sv, "kvmclock", 0, &x86_kvmclock_savevm_ops, v->k);
    return sv;
}

static GByteArray *save_stream(struct vm *v)
{
    struct savevm *sv = registry(v);
    int fd = memfd_create("kvm-round-trip", MFD_CLOEXEC);
    GByteArray *b = g_byte_array_new();
    struct mig_writer w;
    Error *err = NULL;
    struct stat st;

    g_assert_cmpint(fd, >=, 0);
    mig_writer_init(&w, fd);
    if (!savevm_save(sv, &w, SAVEVM_RAM_STREAM, &err) ||
        !mig_writer_finish(&w, &err)) {
        g_error("VM %s: save: %s", v->name, error_get_pretty(err));
    }
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_byte_array_set_size(b, st.st_size);
    g_assert_cmpint(pread(fd, b->data, b->len, 0), ==, (ssize_t)b->len);
    close(fd);
    savevm_free(sv);
    return b;
}

static void load_stream(struct vm *v, const GByteArray *b)
{
    struct savevm *sv = registry(v);
    struct mig_reader r;
    Error *err = NULL;

    mig_reader_init_mem(&r, b->data, b->len);
    if (!savevm_load(sv, &r, &err)) {
        g_error("VM %s: load: %s", v->name, error_get_pretty(err));
    }
    mig_reader_fini(&r);
    savevm_free(sv);
    /* the vCPU thread's put before its first KVM_RUN */
    if (!x86_cpu_put(v->cpu, X86_PUT_RUNTIME, &err)) {
        g_error("VM %s: put after the load: %s", v->name,
                error_get_pretty(err));
    }
}

/* ---- the test ---------------------------------------------------------- */

/* lo <= b <= hi, named */
static void in_range(const char *what, uint64_t a, uint64_t b, uint64_t lo,
                     uint64_t hi)
{
    if (b < lo || b > hi) {
        g_error("round trip: %s: VM A had 0x%" PRIx64 ", VM B has 0x%" PRIx64
                ", outside [0x%" PRIx64 ", 0x%" PRIx64 "]",
                what, a, b, lo, hi);
    }
}

static void test_round_trip(gconstpointer data)
{
    const struct rt_case *c = data;
    struct vm *a = g_new0(struct vm, 1), *b = g_new0(struct vm, 1);
    struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);
    struct snap ref, before, after;
    g_autoptr(GByteArray) stream = NULL;
    g_autofree uint32_t *idx = NULL;
    Error *err = NULL;
    uint32_t n, unchanged = 0;
    int64_t t0, t1;
    uint64_t elapsed_ns, khz, cycles, slack, tsc_a, tsc_b, deadline;

    if (c->real) {
        int probe = open("/dev/kvm", O_RDWR | O_CLOEXEC);

        if (probe < 0) {
            g_autofree char *why = g_strdup_printf(
                "/dev/kvm cannot be opened: %s", g_strerror(errno));

            g_test_skip(why);
            g_free(a), g_free(b), g_free(st);
            return;
        }
        close(probe);
    }
    vm_init(a, "A", c->real);
    vm_init(b, "B", c->real);
    if (c->deadline && !vcpu_has(a, 1, 2, 24)) {
        g_test_skip("this vCPU has no TSC deadline timer");
        goto out;
    }

    /* vireo's saved MSR list, from the save itself */
    if (!x86_cpu_save_state(a->cpu, st, &err)) {
        g_error("VM A: %s", error_get_pretty(err));
    }
    n = st->nr_msrs;
    idx = g_new0(uint32_t, MAX(n, 1));
    for (uint32_t i = 0; i < n; i++) {
        idx[i] = st->msrs[i].index;
    }
    g_assert_cmpuint(n, >=, 20);

    set_state(a, c->deadline, idx, n);
    snap_init(&ref, a, idx, n);
    snap_init(&before, b, idx, n);
    snap_init(&after, b, idx, n);
    snap_read(b, &before);

    /* The reference: what A's KVM reports just before the save.  The
     * cached state is dropped as after a KVM_RUN, so the save reads KVM. */
    x86_cpu_invalidate(a->cpu);
    t0 = g_get_monotonic_time();
    snap_read(a, &ref);
    stream = save_stream(a);
    load_stream(b, stream);
    snap_read(b, &after);
    t1 = g_get_monotonic_time();
    elapsed_ns = (uint64_t)(t1 - t0) * 1000;
    g_test_message("%u MSRs, %u-byte stream, %" PRIu64 " us between reads", n,
                   stream->len, elapsed_ns / 1000);

    /* Every group of B changed from its reset values... */
    diff_groups(a, &ref, &before, must_differ);
    for (uint32_t i = 0; i < n; i++) {
        if (ref.msrs->entries[i].data == before.msrs->entries[i].data) {
            g_test_message("MSR 0x%x (%s) is 0x%" PRIx64 " in both VMs "
                           "before the load: KVM kept it",
                           idx[i], msr_name(idx[i]),
                           (uint64_t)ref.msrs->entries[i].data);
            unchanged++;
        }
    }
    if (!c->real) {
        g_assert_cmpuint(unchanged, ==, 0); /* the fake takes every value */
    }
    /* ...to exactly A's. */
    diff_groups(a, &ref, &after, must_equal);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t va = ref.msrs->entries[i].data;
        uint64_t vb = after.msrs->entries[i].data;

        if (idx[i] != MSR_IA32_TSC && va != vb) {
            g_error("round trip: MSR 0x%x (%s) differs: VM A had 0x%" PRIx64
                    ", VM B has 0x%" PRIx64,
                    idx[i], msr_name(idx[i]), va, vb);
        }
    }

    /* The TSC: counted on from A's by at most the time between reads. */
    khz = (uint64_t)raw(a, a->fd, KVM_GET_TSC_KHZ, NULL);
    if (!khz) {
        khz = 10000000; /* unknown to KVM: no TSC runs at 10 GHz */
    }
    cycles = (elapsed_ns + elapsed_ns / 100 + 1000000) * khz / 1000000;
    slack = khz; /* 1 ms of cycles */
    if (!snap_msr(&ref, MSR_IA32_TSC, &tsc_a) ||
        !snap_msr(&after, MSR_IA32_TSC, &tsc_b)) {
        g_error("IA32_TSC is not in vireo's saved MSR list");
    }
    in_range("MSR 0x10 (IA32_TSC)", tsc_a, tsc_b, tsc_a - slack,
             tsc_a + cycles);
    in_range("KVM clock (ns)", ref.clock.clock, after.clock.clock,
             ref.clock.clock - 1000000,
             ref.clock.clock + elapsed_ns + elapsed_ns / 100 + 1000000);
    {
        uint32_t ta = lapic_reg(&ref.lapic, LAPIC_TMCCT);
        uint32_t tb = lapic_reg(&after.lapic, LAPIC_TMCCT);

        in_range("LAPIC TMCCT (0x390)", ta, tb,
                 ta > elapsed_ns ? ta - elapsed_ns : 0, ta);
        if (!c->deadline) {
            g_assert_cmpuint(lapic_reg(&ref.lapic, LAPIC_TMICT), ==,
                             TIMER_COUNT);
        } else if (snap_msr(&ref, 0x6e0, &deadline)) {
            g_assert_cmphex(deadline, ==, TSC_DEADLINE);
        }
    }
    if (c->real) {
        g_test_message("%u of %u MSRs kept their value on this KVM", unchanged,
                       n);
    }
    snap_fini(&ref);
    snap_fini(&before);
    snap_fini(&after);
out:
    vm_fini(a);
    vm_fini(b);
    g_free(a);
    g_free(b);
    g_free(st);
}

int main(int argc, char **argv)
{
    static const struct rt_case fake_oneshot = {false, false};
    static const struct rt_case fake_deadline = {false, true};
    static const struct rt_case real_oneshot = {true, false};
    static const struct rt_case real_deadline = {true, true};

    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/kvm-round-trip/fake/oneshot", &fake_oneshot,
                         test_round_trip);
    g_test_add_data_func("/kvm-round-trip/fake/deadline", &fake_deadline,
                         test_round_trip);
    g_test_add_data_func("/kvm-round-trip/real-kvm/oneshot", &real_oneshot,
                         test_round_trip);
    g_test_add_data_func("/kvm-round-trip/real-kvm/deadline", &real_deadline,
                         test_round_trip);
    return g_test_run();
}
