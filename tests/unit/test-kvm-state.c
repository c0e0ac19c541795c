/* SPDX-License-Identifier: MIT */
/*
 * test-kvm-state.c: the vCPU state layer (target-i386/kvm-state.c) on the
 * fake KVM backend: SEV-ES EFER normalisation, errors naming ioctl, vCPU
 * and errno, short MSR writes naming the refused MSR, the MSR probe at
 * creation (ARCH_CAPABILITIES refused as on this machine), the dirty rule
 * (exactly the dirty groups are written), the consistency checks, the
 * reset state and the register dump.  One case runs on the real /dev/kvm
 * (skipped when it cannot be opened): a long-mode sregs round trip and the
 * reset state accepted by the real kernel.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "target-i386/cpu.h"
#include "tests/unit/fake-kvm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define CR0_PE 1ULL
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)

struct fixture {
    struct fake_kvm f;
    struct x86_cpu_model *model;
    struct x86_cpu *cpu;
};

static void fixture_setup_model(struct fixture *x, const char *model,
                                unsigned index)
{
    Error *err = NULL;

    x->model = x86_cpu_model_new(&x->f.accel, model, 4, 1, 4, 1, &err);
    g_assert_null(err);
    x->cpu = x86_cpu_new(&x->f.accel, FAKE_VCPU_FD, index, x->model, &err);
    g_assert_null(err);
    g_assert_nonnull(x->cpu);
}

static void fixture_init(struct fixture *x)
{
    fake_kvm_init(&x->f);
    x->model = NULL;
    x->cpu = NULL;
}

static void fixture_fini(struct fixture *x)
{
    x86_cpu_free(x->cpu);
    x86_cpu_model_free(x->model);
    fake_kvm_destroy(&x->f);
}

/* A vCPU reset and written once, log cleared: KVM and cache agree. */
static void fixture_ready(struct fixture *x, const char *model)
{
    Error *err = NULL;

    fixture_init(x);
    fixture_setup_model(x, model, 0);
    x86_cpu_reset(x->cpu, true);
    g_assert_true(x86_cpu_put(x->cpu, X86_PUT_RESET, &err));
    g_assert_null(err);
    x86_cpu_invalidate(x->cpu);
    fake_kvm_clear_log(&x->f);
}

static void assert_log(struct fixture *x, const char *want)
{
    g_autofree char *log = fake_kvm_log(&x->f);

    g_assert_cmpstr(log, ==, want);
}

static void long_mode_sregs(struct kvm_sregs2 *s)
{
    s->cr0 = CR0_PE | CR0_PG;
    s->cr4 = CR4_PAE;
    s->cr3 = 0x1000;
    s->efer = EFER_LME | EFER_LMA;
    s->cs.l = 1;
    s->cs.db = 0;
    s->cs.selector = 0x8;
    s->cs.type = 0xb;
}

/* ---- SEV-ES EFER.LMA ---- */

/* Both register paths: KVM_GET/SET_SREGS2 and the KVM_GET/SET_SREGS
 * fallback of kernels without SREGS2 must synthesise LMA before any put. */
static void sev_es_efer(bool sregs2)
{
    struct fixture x;
    Error *err = NULL;
    unsigned long get = sregs2 ? KVM_GET_SREGS2 : KVM_GET_SREGS;
    unsigned long set = sregs2 ? KVM_SET_SREGS2 : KVM_SET_SREGS;

    fixture_ready(&x, "qemu64");
    x.f.accel.has_sregs2 = sregs2;
    /* What KVM reports for an SEV-ES guest in long mode: no LMA. */
    long_mode_sregs(&x.f.sregs);
    x.f.sregs.efer = EFER_LME;
    x86_cpu_set_sev_es(x.cpu, true);
    g_assert_true(x86_cpu_get(x.cpu, X86_SREGS, &err));
    g_assert_cmphex(x86_cpu_sregs(x.cpu)->efer, ==, EFER_LME | EFER_LMA);
    /* ... and the state read back can be written back. */
    x86_cpu_sregs_mut(x.cpu)->cr2 = 0x1234;
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    g_assert_null(err);
    g_assert_cmphex(x.f.sregs.efer, ==, EFER_LME | EFER_LMA);
    g_assert_cmphex(x.f.sregs.cr2, ==, 0x1234);
    g_assert_cmpuint(fake_kvm_count(&x.f, get), ==, 1);
    g_assert_cmpuint(fake_kvm_count(&x.f, set), ==, 1);

    /* LME without paging: nothing to synthesise. */
    x86_cpu_invalidate(x.cpu);
    x.f.sregs.cr0 = CR0_PE;
    x.f.sregs.efer = EFER_LME;
    x.f.sregs.cs.l = 0;
    g_assert_true(x86_cpu_get(x.cpu, X86_SREGS, &err));
    g_assert_cmphex(x86_cpu_sregs(x.cpu)->efer, ==, EFER_LME);
    fixture_fini(&x);

    /* Not SEV-ES: EFER is what KVM said, and writing it back is refused
     * by our check with the rule named, before KVM sees it. */
    fixture_ready(&x, "qemu64");
    x.f.accel.has_sregs2 = sregs2;
    long_mode_sregs(&x.f.sregs);
    x.f.sregs.efer = EFER_LME;
    g_assert_true(x86_cpu_get(x.cpu, X86_SREGS, &err));
    g_assert_cmphex(x86_cpu_sregs(x.cpu)->efer, ==, EFER_LME);
    x86_cpu_sregs_mut(x.cpu);
    fake_kvm_clear_log(&x.f);
    g_assert_false(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "EFER.LME and CR0.PG set without EFER.LMA"));
    g_assert_cmpuint(fake_kvm_count(&x.f, set), ==, 0);
    error_free(err);
    fixture_fini(&x);
}

static void test_sev_es_efer(void)
{
    sev_es_efer(true);
}

static void test_sev_es_efer_sregs(void)
{
    sev_es_efer(false);
}

/* ---- errors ---- */

struct err_case {
    unsigned long req;
    bool get;
    const char *name;
};

static const struct err_case err_cases[] = {
    {KVM_GET_REGS, true, "KVM_GET_REGS"},
    {KVM_GET_SREGS2, true, "KVM_GET_SREGS2"},
    {KVM_GET_MSRS, true, "KVM_GET_MSRS"},
    {KVM_GET_XSAVE2, true, "KVM_GET_XSAVE2"},
    {KVM_GET_XCRS, true, "KVM_GET_XCRS"},
    {KVM_GET_VCPU_EVENTS, true, "KVM_GET_VCPU_EVENTS"},
    {KVM_GET_DEBUGREGS, true, "KVM_GET_DEBUGREGS"},
    {KVM_GET_LAPIC, true, "KVM_GET_LAPIC"},
    {KVM_GET_MP_STATE, true, "KVM_GET_MP_STATE"},
    {KVM_SET_REGS, false, "KVM_SET_REGS"},
    {KVM_SET_SREGS2, false, "KVM_SET_SREGS2"},
    {KVM_SET_MSRS, false, "KVM_SET_MSRS"},
    {KVM_SET_XSAVE, false, "KVM_SET_XSAVE"},
    {KVM_SET_XCRS, false, "KVM_SET_XCRS"},
    {KVM_SET_VCPU_EVENTS, false, "KVM_SET_VCPU_EVENTS"},
    {KVM_SET_DEBUGREGS, false, "KVM_SET_DEBUGREGS"},
    {KVM_SET_LAPIC, false, "KVM_SET_LAPIC"},
    {KVM_SET_MP_STATE, false, "KVM_SET_MP_STATE"},
    /* Without KVM_CAP_SREGS2 / KVM_CAP_XSAVE2 (fallback = true below). */
    {KVM_GET_SREGS, true, "KVM_GET_SREGS"},
    {KVM_SET_SREGS, false, "KVM_SET_SREGS"},
    {KVM_GET_XSAVE, true, "KVM_GET_XSAVE"},
};

static bool fallback_case(unsigned long req)
{
    return req == KVM_GET_SREGS || req == KVM_SET_SREGS || req == KVM_GET_XSAVE;
}

static void test_errors(void)
{
    static const int errnos[] = {EINVAL, EFAULT, EINTR, EIO};

    for (size_t i = 0; i < G_N_ELEMENTS(err_cases); i++) {
        for (size_t j = 0; j < G_N_ELEMENTS(errnos); j++) {
            const struct err_case *c = &err_cases[i];
            g_autofree char *want = g_strdup_printf(
                "vCPU 2: %s failed: %s", c->name, g_strerror(errnos[j]));
            struct fixture x;
            Error *err = NULL;
            bool ok;

            fixture_init(&x);
            if (fallback_case(c->req)) {
                x.f.accel.has_sregs2 = false;
                x.f.accel.has_xsave2 = false;
            }
            fixture_setup_model(&x, "qemu64", 2);
            x86_cpu_reset(x.cpu, false);
            if (c->get) {
                g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
                x86_cpu_invalidate(x.cpu);
            }
            fake_kvm_fail(&x.f, c->req, 1, errnos[j]);
            if (c->get) {
                ok = x86_cpu_get(x.cpu, X86_ALL, &err);
            } else {
                ok = x86_cpu_put(x.cpu, X86_PUT_RESET, &err);
            }
            if (ok) {
                g_error("case %s: succeeded", c->name);
            }
            g_assert_nonnull(err);
            g_assert_cmpstr(error_get_pretty(err), ==, want);
            error_free(err);
            /* The group that failed is still to be done; retry works. */
            if (c->get) {
                g_assert_true(x86_cpu_get(x.cpu, X86_ALL, NULL));
                g_assert_cmphex(x86_cpu_avail(x.cpu), ==, X86_ALL);
            } else {
                g_assert_cmphex(x86_cpu_dirty(x.cpu), !=, 0);
                g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, NULL));
                g_assert_cmphex(x86_cpu_dirty(x.cpu), ==, 0);
            }
            fixture_fini(&x);
        }
    }
}

/* The fake fails the Nth call only; earlier and later ones work. */
static void test_error_nth(void)
{
    struct fixture x;
    Error *err = NULL;

    fixture_ready(&x, "qemu64");
    fake_kvm_fail(&x.f, KVM_GET_REGS, 2, EINTR);
    g_assert_true(x86_cpu_get(x.cpu, X86_REGS, &err));
    x86_cpu_invalidate(x.cpu);
    g_assert_false(x86_cpu_get(x.cpu, X86_REGS, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "vCPU 0: KVM_GET_REGS failed: Interrupted system call");
    error_free(err);
    g_assert_true(x86_cpu_get(x.cpu, X86_REGS, NULL));
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_GET_REGS), ==, 3);
    fixture_fini(&x);
}

static void test_error_cpuid_and_probe(void)
{
    struct fake_kvm f;
    struct x86_cpu_model *m;
    Error *err = NULL;

    fake_kvm_init(&f);
    m = x86_cpu_model_new(&f.accel, "qemu64", 2, 1, 2, 1, &err);
    g_assert_null(err);
    fake_kvm_fail(&f, KVM_SET_CPUID2, 1, EINVAL);
    g_assert_null(x86_cpu_new(&f.accel, FAKE_VCPU_FD, 1, m, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "vCPU 1: KVM_SET_CPUID2 failed: Invalid argument");
    error_free(err);
    err = NULL;
    /* The MSR probe's own ioctls are checked too. */
    fake_kvm_fail(&f, KVM_GET_MSRS, 1, EFAULT);
    g_assert_null(x86_cpu_new(&f.accel, FAKE_VCPU_FD, 0, m, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "vCPU 0: KVM_GET_MSRS failed: Bad address");
    error_free(err);
    x86_cpu_model_free(m);
    fake_kvm_destroy(&f);
}

/* ---- MSRs ---- */

static void test_short_msr_write(void)
{
    struct fixture x;
    Error *err = NULL;

    fixture_ready(&x, "qemu64");
    g_assert_true(x86_cpu_get(x.cpu, X86_MSRS, &err));
    g_assert_true(x86_cpu_set_msr(x.cpu, 0x174, 0x10));
    g_assert_true(x86_cpu_set_msr(x.cpu, 0xc0000081, 0xdead0000beef));
    /* KVM takes SYSENTER_CS, then stops at STAR. */
    fake_kvm_refuse_msr(&x.f, 0xc0000081, false, true);
    g_assert_false(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "vCPU 0: KVM_SET_MSRS refused MSR 0xc0000081 "
                            "(STAR) value 0xdead0000beef: set 1 of 2"));
    error_free(err);
    err = NULL;
    g_assert_cmphex(x86_cpu_dirty(x.cpu), ==, X86_MSRS);

    /* Once KVM takes it, the retry writes it. */
    fake_kvm_refuse_msr(&x.f, 0xc0000081, false, false);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, NULL));
    g_assert_cmphex(x86_cpu_dirty(x.cpu), ==, 0);

    /* A short read names the MSR as well. */
    x86_cpu_invalidate(x.cpu);
    fake_kvm_refuse_msr(&x.f, 0x3b, true, false);
    g_assert_false(x86_cpu_get(x.cpu, X86_MSRS, &err));
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "vCPU 0: KVM_GET_MSRS refused MSR 0x3b "
                            "(IA32_TSC_ADJUST)"));
    error_free(err);
    fixture_fini(&x);
}

static bool in_set(struct fixture *x, uint32_t index)
{
    for (unsigned i = 0; i < x->f.last_set_msrs->len; i++) {
        if (g_array_index(x->f.last_set_msrs, uint32_t, i) == index) {
            return true;
        }
    }
    return false;
}

static void test_msr_levels(void)
{
    struct fixture x;
    uint64_t v;

    fixture_init(&x);
    fixture_setup_model(&x, "qemu64", 0);
    x86_cpu_reset(x.cpu, true);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
    /* RESET writes the TSC, kvmclock and MTRRs; PAT has its default. */
    g_assert_true(in_set(&x, 0x10));
    g_assert_true(in_set(&x, 0x4b564d01));
    g_assert_true(in_set(&x, 0x2ff));
    g_assert_false(in_set(&x, 0x12));  /* legacy kvmclock: new one listed */
    g_assert_false(in_set(&x, 0x48));  /* SPEC_CTRL: qemu64 lacks it */
    g_assert_false(in_set(&x, 0x10a)); /* feature MSR, not state */
    g_assert_true(fake_kvm_msr(&x.f, 0x277, &v));
    g_assert_cmphex(v, ==, 0x0007040600070406ULL);

    /* RUNTIME: exactly the MSRs that were set, not the reset-only ones
     * nor a TSC deadline KVM may have cleared since the get... */
    g_assert_true(x86_cpu_set_msr(x.cpu, 0xc0000082, 0xffffffff81000000));
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, NULL));
    g_assert_cmpuint(x.f.last_set_msrs->len, ==, 1);
    g_assert_true(in_set(&x, 0xc0000082));
    g_assert_false(in_set(&x, 0x6e0));
    g_assert_false(in_set(&x, 0x10));
    g_assert_false(in_set(&x, 0x4b564d01));
    g_assert_false(in_set(&x, 0x2ff));
    /* ...unless one of them was set explicitly. */
    g_assert_true(x86_cpu_set_msr(x.cpu, 0x10, 12345));
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, NULL));
    g_assert_true(in_set(&x, 0x10));
    g_assert_cmpuint(x.f.last_set_msrs->len, ==, 1);
    g_assert_true(fake_kvm_msr(&x.f, 0x10, &v));
    g_assert_cmpuint(v, ==, 12345);
    g_assert_true(x86_cpu_set_msr(x.cpu, 0xc0000082, 1));
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, NULL));
    g_assert_false(in_set(&x, 0x10));
    /* EFER and APIC base are not MSR-group members (they are in sregs). */
    g_assert_false(x86_cpu_msr(x.cpu, 0xc0000080, &v));
    g_assert_false(x86_cpu_msr(x.cpu, 0x1b, &v));
    g_assert_false(x86_cpu_set_msr(x.cpu, 0x1b, 0));
    fixture_fini(&x);
}

static void test_msr_probe_arch_caps(void)
{
    struct fixture x;
    const uint32_t *dropped;
    uint64_t v;

    /* As on this machine: KVM lists 0x10a and refuses to have it set. */
    fixture_init(&x);
    fake_kvm_refuse_msr(&x.f, 0x10a, false, true);
    fixture_setup_model(&x, "host", 0);
    g_assert_cmpuint(x86_cpu_dropped_msrs(x.cpu, &dropped), ==, 1);
    g_assert_cmphex(dropped[0], ==, 0x10a);
    /* The CPUID bit went with it, and KVM got the corrected table. */
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_SET_CPUID2), ==, 2);
    g_assert_cmphex(fake_kvm_cpuid(&x.f, 7, 0, 3) & (1u << 29), ==, 0);
    /* Everything after the refused one was still probed and kept. */
    x86_cpu_reset(x.cpu, true);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
    g_assert_true(x86_cpu_msr(x.cpu, 0x48, &v)); /* SPEC_CTRL (host) */
    g_assert_true(x86_cpu_msr(x.cpu, 0x6e0, &v));
    g_assert_false(x86_cpu_msr(x.cpu, 0x10a, &v));
    fixture_fini(&x);

    /* When KVM accepts it the bit stays, CPUID is set once and the MSR
     * holds KVM's feature value from the system fd. */
    fixture_init(&x);
    fixture_setup_model(&x, "host", 0);
    g_assert_cmpuint(x86_cpu_dropped_msrs(x.cpu, &dropped), ==, 0);
    g_assert_true(fake_kvm_msr(&x.f, 0x10a, &v));
    g_assert_cmphex(v, ==, x.f.arch_caps);
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_SET_CPUID2), ==, 1);
    g_assert_cmphex(fake_kvm_cpuid(&x.f, 7, 0, 3) & (1u << 29), !=, 0);
    fixture_fini(&x);

    /* A state MSR KVM cannot read is dropped, the rest kept. */
    fixture_init(&x);
    fake_kvm_refuse_msr(&x.f, 0xc0000103, true, false); /* TSC_AUX */
    fixture_setup_model(&x, "host", 0);
    g_assert_cmpuint(x86_cpu_dropped_msrs(x.cpu, &dropped), ==, 1);
    g_assert_cmphex(dropped[0], ==, 0xc0000103);
    x86_cpu_reset(x.cpu, true);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
    g_assert_false(in_set(&x, 0xc0000103));
    g_assert_true(in_set(&x, 0x3b));
    fixture_fini(&x);
}

/* ---- the dirty rule ---- */

static void test_dirty_rule(void)
{
    struct fixture x;
    Error *err = NULL;

    fixture_init(&x);
    fixture_setup_model(&x, "qemu64", 0);
    x86_cpu_reset(x.cpu, true);
    g_assert_cmphex(x86_cpu_dirty(x.cpu), ==, X86_ALL);
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, &err));
    assert_log(&x, "KVM_SET_SREGS2 KVM_SET_REGS KVM_SET_XSAVE KVM_SET_XCRS "
                   "KVM_SET_LAPIC KVM_SET_MSRS KVM_SET_VCPU_EVENTS "
                   "KVM_SET_MP_STATE KVM_SET_DEBUGREGS");
    g_assert_cmphex(x86_cpu_dirty(x.cpu), ==, 0);

    /* Nothing dirty: a RUNTIME put makes no ioctl. */
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    assert_log(&x, "");

    /* After a run: fetch regs only, touch them, write exactly regs. */
    x86_cpu_invalidate(x.cpu);
    g_assert_cmphex(x86_cpu_avail(x.cpu), ==, 0);
    g_assert_true(x86_cpu_get(x.cpu, X86_REGS, &err));
    g_assert_true(x86_cpu_get(x.cpu, X86_REGS, &err)); /* cached */
    assert_log(&x, "KVM_GET_REGS");
    x86_cpu_regs_mut(x.cpu)->rax = 0x42;
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    assert_log(&x, "KVM_SET_REGS");
    g_assert_cmphex(x.f.regs.rax, ==, 0x42);

    /* Reading without *_mut marks nothing dirty. */
    x86_cpu_invalidate(x.cpu);
    g_assert_true(x86_cpu_get(x.cpu, X86_SREGS | X86_REGS, &err));
    g_assert_cmphex(x86_cpu_regs(x.cpu)->rax, ==, 0x42);
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    assert_log(&x, "");

    /* Two groups dirty: sregs goes before regs. */
    x86_cpu_sregs_mut(x.cpu)->cr2 = 7;
    x86_cpu_regs_mut(x.cpu)->rip = 0x1000;
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    assert_log(&x, "KVM_SET_SREGS2 KVM_SET_REGS");

    /* Get order: events and mp_state before the rest. */
    x86_cpu_invalidate(x.cpu);
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_get(x.cpu, X86_ALL, &err));
    assert_log(&x, "KVM_GET_VCPU_EVENTS KVM_GET_MP_STATE KVM_GET_REGS "
                   "KVM_GET_XSAVE2 KVM_GET_XCRS KVM_GET_SREGS2 KVM_GET_MSRS "
                   "KVM_GET_LAPIC KVM_GET_DEBUGREGS");
    g_assert_null(err);

    /* Fetching mp_state may change CS:RIP (SIPI): clean regs/sregs are
     * read again after it, dirty ones are kept. */
    x86_cpu_invalidate(x.cpu);
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_get(x.cpu, X86_REGS | X86_SREGS, &err));
    x86_cpu_sregs_mut(x.cpu)->cr2 = 9;
    g_assert_true(x86_cpu_get(x.cpu, X86_MP_STATE, &err));
    assert_log(&x, "KVM_GET_REGS KVM_GET_SREGS2 KVM_GET_MP_STATE "
                   "KVM_GET_REGS");
    g_assert_cmphex(x86_cpu_sregs(x.cpu)->cr2, ==, 9);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    g_assert_true(x86_cpu_get(x.cpu, X86_ALL, &err));

    /* mp_state dirty: written at RUNTIME too. */
    fake_kvm_clear_log(&x.f);
    x86_cpu_mp_state_mut(x.cpu)->mp_state = KVM_MP_STATE_HALTED;
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
    assert_log(&x, "KVM_SET_MP_STATE");
    g_assert_cmpuint(x.f.mp.mp_state, ==, KVM_MP_STATE_HALTED);

    /* FULL writes everything even when nothing is dirty. */
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_FULL, &err));
    g_assert_cmpuint(x.f.calls->len, ==, 9);
    g_assert_true(x.f.events.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
    fixture_fini(&x);
}

static void test_events_flags(void)
{
    struct fixture x;

    fixture_ready(&x, "qemu64");
    g_assert_true(x86_cpu_get(x.cpu, X86_ALL, NULL));
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
    g_assert_true(x.f.events.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
    fixture_fini(&x);
}

static void test_fallbacks(void)
{
    struct fixture x;

    /* No SREGS2 / XSAVE2: the old ioctls, same state. */
    fixture_init(&x);
    x.f.accel.has_sregs2 = false;
    x.f.accel.has_xsave2 = false;
    fixture_setup_model(&x, "qemu64", 0);
    x86_cpu_reset(x.cpu, true);
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_SET_SREGS), ==, 1);
    g_assert_cmpuint(fake_kvm_count(&x.f, KVM_SET_SREGS2), ==, 0);
    g_assert_cmphex(x.f.sregs.cs.base, ==, 0xffff0000);
    x86_cpu_invalidate(x.cpu);
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_get(x.cpu, X86_SREGS | X86_XSAVE, NULL));
    assert_log(&x, "KVM_GET_XSAVE KVM_GET_SREGS");
    g_assert_cmphex(x86_cpu_sregs(x.cpu)->apic_base, ==, 0xfee00900);
    fixture_fini(&x);

    /* No XCRS/DEBUGREGS/VCPU_EVENTS caps: those groups make no ioctl. */
    fixture_init(&x);
    x.f.accel.has_xcrs = false;
    x.f.accel.has_debugregs = false;
    x.f.accel.has_vcpu_events = false;
    fixture_setup_model(&x, "qemu64", 0);
    x86_cpu_reset(x.cpu, true);
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
    assert_log(&x, "KVM_SET_SREGS2 KVM_SET_REGS KVM_SET_XSAVE KVM_SET_LAPIC "
                   "KVM_SET_MSRS KVM_SET_MP_STATE");
    fixture_fini(&x);
}

/* ---- consistency checks ---- */

struct bad_sregs {
    const char *what;
    void (*make)(struct kvm_sregs2 *s);
};

static void bad_lma_no_lme(struct kvm_sregs2 *s)
{
    long_mode_sregs(s);
    s->efer = EFER_LMA;
}
static void bad_lma_no_pg(struct kvm_sregs2 *s)
{
    long_mode_sregs(s);
    s->cr0 = CR0_PE;
}
static void bad_pg_no_pe(struct kvm_sregs2 *s)
{
    s->cr0 = CR0_PG;
}
static void bad_csl_no_lma(struct kvm_sregs2 *s)
{
    s->cr0 = CR0_PE;
    s->cs.l = 1;
}
static void bad_csl_db(struct kvm_sregs2 *s)
{
    long_mode_sregs(s);
    s->cs.db = 1;
}
static void bad_lma_no_pae(struct kvm_sregs2 *s)
{
    long_mode_sregs(s);
    s->cr4 = 0;
}
static void bad_cr4_reserved(struct kvm_sregs2 *s)
{
    s->cr4 = 1u << 15;
}
static void bad_cr4_vmxe(struct kvm_sregs2 *s)
{
    s->cr4 = 1u << 13; /* the fake host has no vmx */
}
static void bad_cr0_high(struct kvm_sregs2 *s)
{
    s->cr0 |= 1ULL << 40;
}

static void bad_cr3(struct kvm_sregs2 *s)
{
    long_mode_sregs(s);
    s->cr3 = 1ULL << 40;
}

static void bad_flags(struct kvm_sregs2 *s)
{
    s->flags = 2;
}

static const struct bad_sregs bad_cases[] = {
    {"unknown sregs2 flags 0x2", bad_flags},
    {"CR3=0x10000000000 beyond the 39-bit physical address width", bad_cr3},
    {"EFER.LMA set without EFER.LME", bad_lma_no_lme},
    {"EFER.LMA set without CR0.PG", bad_lma_no_pg},
    {"CR0.PG set without CR0.PE", bad_pg_no_pe},
    {"long-mode CS (CS.L) without EFER.LMA", bad_csl_no_lma},
    {"CS.L and CS.DB both set", bad_csl_db},
    {"EFER.LMA set without CR4.PAE", bad_lma_no_pae},
    {"sets reserved bits 0x8000", bad_cr4_reserved},
    {"sets CR4.VMXE (bit 13), reserved without CPU feature vmx", bad_cr4_vmxe},
    {"sets reserved bits 63:32", bad_cr0_high},
};

static void test_consistency(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        struct fixture x;
        Error *err = NULL;
        struct kvm_sregs2 *s;

        fixture_ready(&x, "host");
        g_assert_true(x86_cpu_get(x.cpu, X86_SREGS, NULL));
        s = x86_cpu_sregs_mut(x.cpu);
        bad_cases[i].make(s);
        fake_kvm_clear_log(&x.f);
        g_assert_false(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
        g_assert_nonnull(err);
        if (!strstr(error_get_pretty(err), bad_cases[i].what)) {
            g_error("case %zu: got '%s', want '%s'", i, error_get_pretty(err),
                    bad_cases[i].what);
        }
        g_assert_true(g_str_has_prefix(error_get_pretty(err),
                                       "vCPU 0: refusing KVM_SET_SREGS2: "));
        assert_log(&x, ""); /* KVM never saw it */
        error_free(err);
        fixture_fini(&x);
    }

    /* A consistent long-mode state goes through (and the fake, which
     * applies KVM's rules, accepts it). */
    {
        struct fixture x;
        Error *err = NULL;

        fixture_ready(&x, "host");
        g_assert_true(x86_cpu_get(x.cpu, X86_SREGS, NULL));
        long_mode_sregs(x86_cpu_sregs_mut(x.cpu));
        x86_cpu_sregs_mut(x.cpu)->cr4 |= (1u << 20) | (1u << 17); /* smep
                                                                     pcide */
        g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, &err));
        g_assert_null(err);
        g_assert_cmphex(x.f.sregs.efer, ==, EFER_LME | EFER_LMA);
        fixture_fini(&x);
    }
}

/* ---- reset ---- */

static uint32_t lapic_reg(const struct fake_kvm *f, unsigned off)
{
    uint32_t v;

    memcpy(&v, &f->lapic.regs[off], 4);
    return v;
}

static void test_reset_state(void)
{
    struct fixture x;
    const struct kvm_segment *cs;
    uint64_t v;
    uint32_t mxcsr, xstate_bv;
    uint16_t fcw;

    fixture_init(&x);
    fixture_setup_model(&x, "qemu64", 0);
    /* Garbage in KVM first, so the test sees what reset wrote. */
    memset(&x.f.regs, 0xa5, sizeof(x.f.regs));
    memset(&x.f.sregs, 0xa5, sizeof(x.f.sregs));
    x86_cpu_reset(x.cpu, true);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));

    g_assert_cmphex(x.f.regs.rip, ==, 0xfff0);
    g_assert_cmphex(x.f.regs.rflags, ==, 0x2);
    g_assert_cmphex(x.f.regs.rdx, ==, fake_kvm_cpuid(&x.f, 1, 0, 0));
    g_assert_cmphex(x.f.regs.rdx, ==, 0x00060fb1); /* qemu64: 15/107/1 */
    g_assert_cmphex(x.f.regs.rax, ==, 0);
    g_assert_cmphex(x.f.regs.rsp, ==, 0);
    cs = &x.f.sregs.cs;
    g_assert_cmphex(cs->selector, ==, 0xf000);
    g_assert_cmphex(cs->base, ==, 0xffff0000);
    g_assert_cmphex(cs->limit, ==, 0xffff);
    g_assert_cmpuint(cs->type, ==, 0xb);
    g_assert_cmpuint(cs->present, ==, 1);
    g_assert_cmpuint(cs->s, ==, 1);
    g_assert_cmphex(x.f.sregs.ds.selector, ==, 0);
    g_assert_cmphex(x.f.sregs.ds.base, ==, 0);
    g_assert_cmphex(x.f.sregs.ds.limit, ==, 0xffff);
    g_assert_cmpuint(x.f.sregs.ds.type, ==, 3);
    g_assert_cmpuint(x.f.sregs.ss.type, ==, 3);
    g_assert_cmpuint(x.f.sregs.ldt.type, ==, 2);
    g_assert_cmpuint(x.f.sregs.tr.type, ==, 0xb);
    g_assert_cmphex(x.f.sregs.gdt.limit, ==, 0xffff);
    g_assert_cmphex(x.f.sregs.idt.limit, ==, 0xffff);
    g_assert_cmphex(x.f.sregs.cr0, ==, 0x60000010);
    g_assert_cmphex(x.f.sregs.cr4, ==, 0);
    g_assert_cmphex(x.f.sregs.efer, ==, 0);
    g_assert_cmphex(x.f.sregs.apic_base, ==, 0xfee00000 | 0x800 | 0x100);
    g_assert_cmphex(x.f.dbg.dr6, ==, 0xffff0ff0);
    g_assert_cmphex(x.f.dbg.dr7, ==, 0x400);
    g_assert_true(fake_kvm_msr(&x.f, 0x277, &v));
    g_assert_cmphex(v, ==, 0x0007040600070406ULL);
    memcpy(&fcw, &x.f.xsave[0], 2);
    memcpy(&mxcsr, &x.f.xsave[24], 4);
    memcpy(&xstate_bv, &x.f.xsave[512], 4);
    g_assert_cmphex(fcw, ==, 0x37f);
    g_assert_cmphex(mxcsr, ==, 0x1f80);
    g_assert_cmphex(xstate_bv, ==, 3);
    g_assert_cmpuint(x.f.xcrs.nr_xcrs, ==, 1);
    g_assert_cmphex(x.f.xcrs.xcrs[0].value, ==, 1);
    g_assert_cmpuint(x.f.mp.mp_state, ==, KVM_MP_STATE_RUNNABLE);
    g_assert_cmphex(lapic_reg(&x.f, 0x20), ==, 0);
    g_assert_cmphex(lapic_reg(&x.f, 0x350), ==, 0x700); /* LINT0 ExtINT */
    g_assert_cmphex(lapic_reg(&x.f, 0x360), ==, 0x10000);
    fixture_fini(&x);

    /* An AP: waits for INIT/SIPI, no BSP bit, its own APIC id. */
    fixture_init(&x);
    fixture_setup_model(&x, "qemu64", 3);
    x86_cpu_reset(x.cpu, false);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
    g_assert_cmpuint(x.f.mp.mp_state, ==, KVM_MP_STATE_UNINITIALIZED);
    g_assert_cmphex(x.f.sregs.apic_base, ==, 0xfee00000 | 0x800);
    g_assert_cmphex(lapic_reg(&x.f, 0x20), ==, 3u << 24);
    g_assert_cmphex(lapic_reg(&x.f, 0x350), ==, 0x10000);
    g_assert_cmphex(fake_kvm_cpuid(&x.f, 1, 0, 1) >> 24, ==, 3);
    fixture_fini(&x);
}

static void test_boot_state(void)
{
    struct fixture x;
    struct x86_boot_state b;

    fixture_init(&x);
    fixture_setup_model(&x, "qemu64", 0);
    x86_cpu_reset(x.cpu, true);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RESET, NULL));
    memset(&b, 0, sizeof(b));
    b.regs.rip = 0x1000000;
    b.regs.rsi = 0x7000;
    b.regs.rflags = 2;
    long_mode_sregs(&b.sregs);
    x86_cpu_apply_boot_state(x.cpu, &b);
    g_assert_cmphex(x86_cpu_dirty(x.cpu), ==, X86_REGS | X86_SREGS);
    fake_kvm_clear_log(&x.f);
    g_assert_true(x86_cpu_put(x.cpu, X86_PUT_RUNTIME, NULL));
    assert_log(&x, "KVM_SET_SREGS2 KVM_SET_REGS");
    g_assert_cmphex(x.f.regs.rip, ==, 0x1000000);
    g_assert_cmphex(x.f.regs.rsi, ==, 0x7000);
    g_assert_cmphex(x.f.sregs.efer, ==, EFER_LME | EFER_LMA);
    /* The loader said nothing about the APIC: it stays enabled. */
    g_assert_cmphex(x.f.sregs.apic_base, ==, 0xfee00900);
    fixture_fini(&x);
}

/* ---- dump ---- */

static void test_dump(void)
{
    struct fixture x;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) out2 = g_string_new(NULL);
    g_autoptr(GString) out3 = g_string_new(NULL);

    fixture_ready(&x, "qemu64");
    x86_cpu_dump(x.cpu, out);
    /* Real mode at reset: QEMU's 32-bit layout (EAX=, EIP=, 8-digit
     * bases and control registers). */
    g_assert_nonnull(strstr(out->str, "EAX=00000000 EBX="));
    g_assert_nonnull(strstr(out->str, "EDX=00060fb1\n"));
    g_assert_null(strstr(out->str, "R8 ="));
    g_assert_nonnull(
        strstr(out->str, "EIP=0000fff0 EFL=00000002 [-------] CPL=0"));
    g_assert_nonnull(
        strstr(out->str, "\nCS =f000 ffff0000 0000ffff 00009b00\n"));
    g_assert_nonnull(
        strstr(out->str, "\nSS =0000 00000000 0000ffff 00009300\n"));
    g_assert_nonnull(
        strstr(out->str, "\nLDT=0000 00000000 0000ffff 00008200\n"));
    g_assert_nonnull(
        strstr(out->str, "\nTR =0000 00000000 0000ffff 00008b00\n"));
    g_assert_nonnull(strstr(out->str, "GDT=     00000000 0000ffff"));
    g_assert_nonnull(strstr(out->str, "IDT=     00000000 0000ffff"));
    g_assert_nonnull(strstr(out->str, "CR0=60000010 CR2=00000000 "
                                      "CR3=00000000 CR4=00000000"));
    g_assert_nonnull(strstr(out->str, "DR0=0000000000000000"));
    g_assert_nonnull(
        strstr(out->str, "DR6=00000000ffff0ff0 DR7=0000000000000400"));
    g_assert_nonnull(strstr(out->str, "EFER=0000000000000000\n"));

    /* Protected/long mode: segment descriptions as QEMU prints them. */
    g_assert_true(x86_cpu_get(x.cpu, X86_SREGS, NULL));
    long_mode_sregs(x86_cpu_sregs_mut(x.cpu));
    x86_cpu_sregs_mut(x.cpu)->cs.present = 1;
    x86_cpu_sregs_mut(x.cpu)->cs.s = 1;
    x86_cpu_sregs_mut(x.cpu)->cs.base = 0;
    x86_cpu_dump(x.cpu, out2);
    g_assert_nonnull(strstr(out2->str, "CS =0008 0000000000000000 0000ffff "
                                       "00209b00 DPL=0 CS64 [-RA]"));
    /* 64-bit code: the 64-bit layout */
    g_assert_nonnull(strstr(out2->str, "RAX=0000000000000000 RBX="));
    g_assert_nonnull(strstr(out2->str, "R8 =0000000000000000"));
    g_assert_nonnull(strstr(out2->str, "RIP=0000000000"));
    g_assert_nonnull(strstr(out2->str, "EFER=0000000000000500"));
    fixture_fini(&x);

    /* When KVM cannot be read, the dump says why. */
    fixture_ready(&x, "qemu64");
    fake_kvm_fail(&x.f, KVM_GET_REGS, 1, EIO);
    x86_cpu_dump(x.cpu, out3);
    g_assert_nonnull(strstr(out3->str,
                            "register state unavailable: vCPU 0: "
                            "KVM_GET_REGS failed: Input/output error"));
    fixture_fini(&x);
}

/* ---- real /dev/kvm ---- */

static uint32_t cpuid_signature(const struct kvm_cpuid2 *t)
{
    for (uint32_t i = 0; i < t->nent; i++) {
        if (t->entries[i].function == 1) {
            return t->entries[i].eax;
        }
    }
    return 0;
}

static void test_real_kvm(void)
{
    struct kvm_accel *k;
    struct x86_cpu_model *m = NULL;
    struct x86_cpu *c = NULL;
    struct kvm_run *run = NULL, *run1 = NULL;
    struct kvm_sregs2 want;
    Error *err = NULL;
    int probe, vcpu;
    const uint32_t *dropped;
    unsigned ndropped;

    probe = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (probe < 0) {
        g_test_skip("/dev/kvm cannot be opened");
        return;
    }
    close(probe);
    /* The production path: accel/kvm's start-up and vCPU creation. */
    k = kvm_accel_new(NULL, KVM_IRQCHIP_SPLIT, 0xfeffc000, &err);
    if (!k) {
        g_error("kvm_accel_new: %s", error_get_pretty(err));
    }
    vcpu = kvm_create_vcpu(k, 0, &run, &err);
    g_assert_null(err);

    /* -cpu host: SET_CPUID2 and the MSR probe against the real kernel. */
    m = x86_cpu_model_new(k, "host", 1, 1, 1, 1, &err);
    g_assert_null(err);
    c = x86_cpu_new(k, vcpu, 0, m, &err);
    g_assert_null(err);
    ndropped = x86_cpu_dropped_msrs(c, &dropped);
    for (unsigned i = 0; i < ndropped; i++) {
        g_test_message("KVM refused MSR 0x%x", dropped[i]);
        /* This machine refuses ARCH_CAPABILITIES: then the guest must not
         * see the CPUID bit that promises it. */
        if (dropped[i] == 0x10a) {
            const struct kvm_cpuid2 *t = x86_cpu_cpuid(c);

            for (uint32_t j = 0; j < t->nent; j++) {
                if (t->entries[j].function == 7 && t->entries[j].index == 0) {
                    g_assert_cmphex(t->entries[j].edx & (1u << 29), ==, 0);
                }
            }
        }
    }

    /* The reset state is accepted by the kernel and reads back. */
    x86_cpu_reset(c, true);
    g_assert_true(x86_cpu_put(c, X86_PUT_RESET, &err));
    g_assert_null(err);
    x86_cpu_invalidate(c);
    g_assert_true(x86_cpu_get(c, X86_ALL, &err));
    g_assert_null(err);
    g_assert_cmphex(x86_cpu_regs(c)->rip, ==, 0xfff0);
    g_assert_cmphex(x86_cpu_sregs(c)->cs.base, ==, 0xffff0000);
    g_assert_cmphex(x86_cpu_sregs(c)->cr0, ==, 0x60000010);
    g_assert_cmphex(x86_cpu_sregs(c)->apic_base, ==, 0xfee00900);

    /* And the guest really starts at the reset vector 0xfffffff0 with the
     * CPUID signature in EDX: "mov al, 0x42; out 0x80, al" there. */
    {
        static const uint8_t code[] = {0xb0, 0x42, 0xe6, 0x80};
        struct kvm_userspace_memory_region mr = {0};
        uint8_t *page;

        page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        g_assert_true(page != MAP_FAILED);
        memcpy(page + 0xff0, code, sizeof(code));
        mr.guest_phys_addr = 0xfffff000;
        mr.memory_size = 4096;
        mr.userspace_addr = (uintptr_t)page;
        g_assert_cmpint(kvm_ioctl(k, k->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr),
                        ==, 0);
        g_assert_cmpint(kvm_ioctl(k, vcpu, KVM_RUN, NULL), ==, 0);
        g_assert_cmpuint(run->exit_reason, ==, KVM_EXIT_IO);
        g_assert_cmphex(run->io.port, ==, 0x80);
        g_assert_cmphex(((uint8_t *)run)[run->io.data_offset], ==, 0x42);
        x86_cpu_invalidate(c);
        g_assert_true(x86_cpu_get(c, X86_REGS, &err));
        if (x86_cpu_regs(c)->rip == 0xfff2) {
            /* KVM's fast PIO path (hardware-assisted KVM): RIP still
             * points at the OUT and moves past it when the I/O is
             * completed by the next KVM_RUN; with immediate_exit that
             * KVM_RUN completes it and returns at once (EINTR), which is
             * what vireo's pause does before it reads a vCPU's state.
             * KVM's instruction emulator advances RIP before the exit. */
            run->immediate_exit = 1;
            g_assert_cmpint(kvm_ioctl(k, vcpu, KVM_RUN, NULL), !=, 0);
            run->immediate_exit = 0;
            x86_cpu_invalidate(c);
            g_assert_true(x86_cpu_get(c, X86_REGS, &err));
        }
        g_assert_cmphex(x86_cpu_regs(c)->rip, ==, 0xfff4);
        g_assert_cmphex(x86_cpu_regs(c)->rdx, ==,
                        cpuid_signature(x86_cpu_cpuid(c)));
        mr.memory_size = 0;
        g_assert_cmpint(kvm_ioctl(k, k->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr),
                        ==, 0);
        munmap(page, 4096);
    }

    /* Long-mode sregs round trip. */
    g_assert_true(x86_cpu_get(c, X86_SREGS, &err));
    want = *x86_cpu_sregs(c);
    want.cr0 = CR0_PE | CR0_PG | (1u << 4) | (1u << 16);
    want.cr4 = CR4_PAE;
    want.cr3 = 0x9000;
    want.efer = EFER_LME | EFER_LMA | 1;
    want.cs.selector = 0x8;
    want.cs.base = 0;
    want.cs.limit = 0xffffffff;
    want.cs.type = 0xb;
    want.cs.s = 1;
    want.cs.present = 1;
    want.cs.l = 1;
    want.cs.db = 0;
    want.cs.g = 1;
    want.ds.selector = want.es.selector = want.ss.selector = 0x10;
    want.ds.limit = want.es.limit = want.ss.limit = 0xffffffff;
    want.ds.g = want.es.g = want.ss.g = 1;
    want.ds.db = want.es.db = want.ss.db = 1;
    want.gdt.base = 0x500;
    want.gdt.limit = 0x17;
    want.flags = 0;
    *x86_cpu_sregs_mut(c) = want;
    g_assert_true(x86_cpu_put(c, X86_PUT_RUNTIME, &err));
    g_assert_null(err);
    x86_cpu_invalidate(c);
    g_assert_true(x86_cpu_get(c, X86_SREGS, &err));
    g_assert_cmphex(x86_cpu_sregs(c)->efer, ==, want.efer);
    g_assert_cmphex(x86_cpu_sregs(c)->cr0, ==, want.cr0);
    g_assert_cmphex(x86_cpu_sregs(c)->cr3, ==, want.cr3);
    g_assert_cmphex(x86_cpu_sregs(c)->cr4, ==, want.cr4);
    g_assert_cmpuint(x86_cpu_sregs(c)->cs.l, ==, 1);
    g_assert_cmpuint(x86_cpu_sregs(c)->cs.db, ==, 0);
    g_assert_cmphex(x86_cpu_sregs(c)->cs.selector, ==, 0x8);
    g_assert_cmphex(x86_cpu_sregs(c)->gdt.base, ==, 0x500);

    /* And an inconsistent one is refused by us with the rule named. */
    x86_cpu_sregs_mut(c)->efer &= ~EFER_LMA;
    g_assert_false(x86_cpu_put(c, X86_PUT_RUNTIME, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "without EFER.LMA"));
    error_free(err);
    err = NULL;

    /* An AP with the default model: its CPUID table, MSR set and reset
     * state are accepted by the real kernel too. */
    {
        struct x86_cpu_model *m2 =
            x86_cpu_model_new(k, "qemu64", 2, 1, 2, 1, &err);
        int vcpu1 = kvm_create_vcpu(k, 1, &run1, &err);
        struct x86_cpu *c1;
        uint64_t pat = 0;

        g_assert_null(err);
        g_assert_cmpint(vcpu1, >=, 0);
        c1 = x86_cpu_new(k, vcpu1, 1, m2, &err);
        g_assert_null(err);
        x86_cpu_reset(c1, false);
        g_assert_true(x86_cpu_put(c1, X86_PUT_RESET, &err));
        g_assert_null(err);
        x86_cpu_invalidate(c1);
        g_assert_true(x86_cpu_get(c1, X86_ALL, &err));
        g_assert_null(err);
        g_assert_cmphex(x86_cpu_sregs(c1)->apic_base, ==, 0xfee00800);
        g_assert_true(x86_cpu_msr(c1, 0x277, &pat));
        g_assert_cmphex(pat, ==, 0x0007040600070406ULL);
        x86_cpu_free(c1);
        x86_cpu_model_free(m2);
        munmap(run1, k->vcpu_mmap_size);
        close(vcpu1);
    }

    x86_cpu_free(c);
    x86_cpu_model_free(m);
    munmap(run, k->vcpu_mmap_size);
    close(vcpu);
    kvm_accel_free(k);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm-state/sev-es-efer", test_sev_es_efer);
    g_test_add_func("/kvm-state/sev-es-efer-sregs", test_sev_es_efer_sregs);
    g_test_add_func("/kvm-state/errors", test_errors);
    g_test_add_func("/kvm-state/error-nth", test_error_nth);
    g_test_add_func("/kvm-state/error-cpuid-probe", test_error_cpuid_and_probe);
    g_test_add_func("/kvm-state/short-msr-write", test_short_msr_write);
    g_test_add_func("/kvm-state/msr-levels", test_msr_levels);
    g_test_add_func("/kvm-state/msr-probe-arch-caps", test_msr_probe_arch_caps);
    g_test_add_func("/kvm-state/dirty-rule", test_dirty_rule);
    g_test_add_func("/kvm-state/events-flags", test_events_flags);
    g_test_add_func("/kvm-state/fallbacks", test_fallbacks);
    g_test_add_func("/kvm-state/consistency", test_consistency);
    g_test_add_func("/kvm-state/reset-state", test_reset_state);
    g_test_add_func("/kvm-state/boot-state", test_boot_state);
    g_test_add_func("/kvm-state/dump", test_dump);
    g_test_add_func("/kvm-state/real-kvm", test_real_kvm);
    return g_test_run();
}
