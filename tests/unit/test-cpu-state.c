/* SPDX-License-Identifier: MIT */
/*
 * test-cpu-state.c: the whole-vCPU state of a migration (x86_cpu_vmsd,
 * x86_cpu_save_state / check_state / load_state) on the fake KVM backend.
 * Every register group and every MSR of the saved list gets a distinctive
 * value in the source's KVM; after save -> stream bytes -> load on a second
 * vCPU of a second fake KVM, what that KVM holds equals what was saved, and
 * it was written in the order KVM requires.  Also: the MSRs issue 10 adds
 * (gated by the CPU model), SMM fields at reset, and the refusals.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "migration/vmstate.h"
#include "target-i386/cpu-internal.h"
#include "tests/unit/fake-kvm.h"

struct side {
    struct fake_kvm f;
    struct x86_cpu_model *model;
    struct x86_cpu *cpu;
};

static void side_init(struct side *s, const char *model, bool smm)
{
    Error *err = NULL;

    fake_kvm_init(&s->f);
    s->f.accel.has_smm = smm;
    s->model = x86_cpu_model_new(&s->f.accel, model, 1, 1, 1, 1, &err);
    g_assert_null(err);
    s->cpu = x86_cpu_new(&s->f.accel, FAKE_VCPU_FD, 0, s->model, &err);
    g_assert_null(err);
    x86_cpu_reset(s->cpu, true);
    g_assert_true(x86_cpu_put(s->cpu, X86_PUT_RESET, &err));
    g_assert_null(err);
    x86_cpu_invalidate(s->cpu);
    fake_kvm_clear_log(&s->f);
}

static void side_fini(struct side *s)
{
    x86_cpu_free(s->cpu);
    x86_cpu_model_free(s->model);
    fake_kvm_destroy(&s->f);
}

static bool carried(const struct side *s, uint32_t index)
{
    struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);
    bool found = false;

    g_assert_true(x86_cpu_save_state(s->cpu, st, NULL));
    for (uint32_t i = 0; i < st->nr_msrs; i++) {
        found |= st->msrs[i].index == index;
    }
    g_free(st);
    return found;
}

/* Distinctive values in every group the fake KVM holds. */
static void fill(struct fake_kvm *f)
{
    uint64_t *r = (uint64_t *)&f->regs;
    struct kvm_sregs2 *s = &f->sregs;

    for (size_t i = 0; i < sizeof(f->regs) / 8; i++) {
        r[i] = 0x1111000000000000ULL + i * 0x0101;
    }
    f->regs.rflags = 0x246;
    memset(s, 0, sizeof(*s));
    s->cs = (struct kvm_segment){.base = 0,
                                 .limit = 0xfffff,
                                 .selector = 0x10,
                                 .type = 0xb,
                                 .present = 1,
                                 .s = 1,
                                 .l = 1,
                                 .g = 1};
    s->ds = (struct kvm_segment){.base = 0x1234000,
                                 .limit = 0xfffff,
                                 .selector = 0x18,
                                 .type = 0x3,
                                 .present = 1,
                                 .db = 1,
                                 .s = 1,
                                 .g = 1};
    s->es = s->ds, s->es.selector = 0x20;
    s->fs = s->ds, s->fs.base = 0x7fff00001000ULL;
    s->gs = s->ds, s->gs.base = 0xffff888000002000ULL;
    s->ss = s->ds, s->ss.dpl = 0;
    s->tr = (struct kvm_segment){.base = 0x5000,
                                 .limit = 0x67,
                                 .selector = 0x28,
                                 .type = 0xb,
                                 .present = 1};
    s->ldt = (struct kvm_segment){.selector = 0, .type = 2, .unusable = 1};
    s->gdt = (struct kvm_dtable){.base = 0x6000, .limit = 0x37};
    s->idt = (struct kvm_dtable){.base = 0x7000, .limit = 0xfff};
    s->cr0 = 0x80050033;
    s->cr2 = 0xdead0000;
    s->cr3 = 0x9000;
    s->cr4 = 0x20 | 0x200 | 0x40000; /* PAE OSFXSR OSXSAVE */
    s->cr8 = 5;
    s->efer = 0xd01; /* SCE LME LMA NXE */
    s->apic_base = 0xfee00900;
    for (unsigned i = 0; i < f->nmsrs; i++) {
        f->msrs[i].value = 0xa5a50000ULL + f->msrs[i].index;
    }
    for (size_t i = 0; i < sizeof(f->xsave); i++) {
        f->xsave[i] = (uint8_t)(i * 7 + 3);
    }
    f->xcrs = (struct kvm_xcrs){.nr_xcrs = 1};
    f->xcrs.xcrs[0].value = 7;
    f->events = (struct kvm_vcpu_events){0};
    f->events.exception.injected = 1;
    f->events.exception.nr = 14;
    f->events.exception.has_error_code = 1;
    f->events.exception.error_code = 0x6;
    f->events.interrupt.nr = 0x31;
    f->events.interrupt.shadow = 1;
    f->events.nmi.pending = 1;
    f->events.nmi.masked = 1;
    f->events.sipi_vector = 0x9a;
    f->events.smi.smm = 1;
    f->events.smi.pending = 1;
    f->events.smi.smm_inside_nmi = 1;
    f->events.smi.latched_init = 1;
    f->dbg = (struct kvm_debugregs){.db = {0x1000, 0x2000, 0x3000, 0x4000},
                                    .dr6 = 0xffff4ff1,
                                    .dr7 = 0x4f7};
    for (size_t i = 0; i < sizeof(f->lapic.regs); i++) {
        f->lapic.regs[i] = (char)(i ^ 0x5c);
    }
    f->mp.mp_state = KVM_MP_STATE_HALTED;
}

static void test_round_trip(void)
{
    struct side *a = g_new0(struct side, 1), *b = g_new0(struct side, 1);
    struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);
    struct x86_cpu_state *st2 = g_new0(struct x86_cpu_state, 1);
    g_autoptr(GByteArray) bytes = g_byte_array_new();
    g_autofree char *log = NULL;
    Error *err = NULL;
    size_t pos = 0;
    unsigned checked = 0;

    side_init(a, "host", true);
    side_init(b, "host", true);
    fill(&a->f);
    x86_cpu_invalidate(a->cpu);

    g_assert_true(x86_cpu_save_state(a->cpu, st, &err));
    g_assert_null(err);
    g_assert_true(vmstate_save(&x86_cpu_vmsd, st, bytes, &err));
    g_assert_null(err);

    g_assert_true(
        vmstate_load(&x86_cpu_vmsd, st2, bytes->data, bytes->len, &pos, &err));
    g_assert_null(err);
    g_assert_cmpuint(pos, ==, bytes->len);
    g_assert_true(x86_cpu_check_state(b->cpu, st2, &err));
    g_assert_null(err);
    x86_cpu_load_state(b->cpu, st2);
    /* Asked for RUNTIME, written FULL: a loaded state goes as a whole. */
    g_assert_true(x86_cpu_put(b->cpu, X86_PUT_RUNTIME, &err));
    g_assert_null(err);
    log = fake_kvm_log(&b->f);
    g_assert_cmpstr(log, ==,
                    "KVM_SET_SREGS2 KVM_SET_REGS KVM_SET_XSAVE KVM_SET_XCRS "
                    "KVM_SET_LAPIC KVM_SET_MSRS KVM_SET_VCPU_EVENTS "
                    "KVM_SET_MP_STATE KVM_SET_DEBUGREGS");

    g_assert_cmpmem(&b->f.regs, sizeof(b->f.regs), &a->f.regs,
                    sizeof(a->f.regs));
    g_assert_cmpmem(&b->f.sregs, sizeof(b->f.sregs), &a->f.sregs,
                    sizeof(a->f.sregs));
    g_assert_cmpmem(b->f.xsave, FAKE_XSAVE2_SIZE, a->f.xsave, FAKE_XSAVE2_SIZE);
    g_assert_cmpmem(&b->f.xcrs, sizeof(b->f.xcrs), &a->f.xcrs,
                    sizeof(a->f.xcrs));
    g_assert_cmpmem(&b->f.dbg, sizeof(b->f.dbg), &a->f.dbg, sizeof(a->f.dbg));
    g_assert_cmpmem(&b->f.lapic, sizeof(b->f.lapic), &a->f.lapic,
                    sizeof(a->f.lapic));
    g_assert_cmpuint(b->f.mp.mp_state, ==, KVM_MP_STATE_HALTED);
    /* Events: everything but the flags, which say what the SET carries
     * (NMI pending, SIPI vector and SMM at FULL level). */
    {
        struct kvm_vcpu_events ea = a->f.events, eb = b->f.events;

        g_assert_true(eb.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
        g_assert_true(eb.flags & KVM_VCPUEVENT_VALID_SMM);
        g_assert_true(eb.flags & KVM_VCPUEVENT_VALID_SHADOW);
        ea.flags = eb.flags = 0;
        g_assert_cmpmem(&eb, sizeof(eb), &ea, sizeof(ea));
    }
    /* Every MSR of the saved list, with its distinctive value. */
    for (uint32_t i = 0; i < st->nr_msrs; i++) {
        uint64_t va, vb;

        g_assert_true(fake_kvm_msr(&a->f, st->msrs[i].index, &va));
        g_assert_true(fake_kvm_msr(&b->f, st->msrs[i].index, &vb));
        g_assert_cmphex(va, ==, 0xa5a50000ULL + st->msrs[i].index);
        g_assert_cmphex(vb, ==, va);
        checked++;
    }
    /* The list holds the MSRs issue 10 names, TSC and kvmclock among them */
    {
        static const uint32_t want[] = {
            0x10,  0x48,  0x4b564d00, 0x4b564d01, 0x4b564d05,
            0x1d9, 0x17a, 0x34,       0x6e0,      0xc0000102};

        for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
            g_assert_true(carried(b, want[i]));
        }
    }
    g_assert_cmpuint(checked, >=, 40);
    /* The state saves back to the same bytes on the destination. */
    {
        g_autoptr(GByteArray) again = g_byte_array_new();
        struct x86_cpu_state *st3 = g_new0(struct x86_cpu_state, 1);

        x86_cpu_invalidate(b->cpu);
        g_assert_true(x86_cpu_save_state(b->cpu, st3, NULL));
        /* flags read back from KVM differ (the SET's validity bits) */
        st3->events.flags = st->events.flags;
        g_assert_true(vmstate_save(&x86_cpu_vmsd, st3, again, NULL));
        g_assert_cmpmem(again->data, again->len, bytes->data, bytes->len);
        g_free(st3);
    }
    g_free(st);
    g_free(st2);
    side_fini(a);
    side_fini(b);
    g_free(a);
    g_free(b);
}

/* With a legacy-only XSAVE (no KVM_CAP_XSAVE2) there is no xsave-ext
 * subsection, and the stream is 8 KiB shorter. */
static void test_xsave_legacy(void)
{
    struct side *a = g_new0(struct side, 1);
    struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);
    g_autoptr(GByteArray) big = g_byte_array_new();
    g_autoptr(GByteArray) small = g_byte_array_new();

    side_init(a, "qemu64", false);
    g_assert_true(x86_cpu_save_state(a->cpu, st, NULL));
    g_assert_true(vmstate_save(&x86_cpu_vmsd, st, big, NULL));
    st->xsave_size = X86_STATE_XSAVE_BASE;
    g_assert_true(vmstate_save(&x86_cpu_vmsd, st, small, NULL));
    g_assert_cmpuint(big->len, ==,
                     small->len + 1 + 1 + strlen("xsave-ext") + 4 +
                         sizeof(st->xsave_ext) + 1);
    g_free(st);
    side_fini(a);
    g_free(a);
}

static void test_refusals(void)
{
    struct side *a = g_new0(struct side, 1), *b = g_new0(struct side, 1);
    struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);
    struct x86_cpu_state *bad = g_new0(struct x86_cpu_state, 1);
    Error *err = NULL;

    side_init(a, "host", true);
    side_init(b, "host", false); /* destination KVM without SMM */
    g_assert_true(x86_cpu_save_state(a->cpu, st, NULL));

    *bad = *st;
    bad->msrs[0].index = 0xc0011234;
    g_assert_false(x86_cpu_check_state(b->cpu, bad, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "MSR 0xc0011234"));
    error_free(err), err = NULL;

    *bad = *st;
    bad->msrs[1].index = bad->msrs[0].index;
    g_assert_false(x86_cpu_check_state(b->cpu, bad, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "appears twice"));
    error_free(err), err = NULL;

    *bad = *st;
    bad->events.smi.smm = 1;
    g_assert_false(x86_cpu_check_state(b->cpu, bad, &err));
    g_assert_nonnull(
        strstr(error_get_pretty(err), "SMM is not supported by this KVM"));
    error_free(err), err = NULL;

    *bad = *st;
    bad->xsave_size = X86_STATE_XSAVE_BASE;
    g_assert_false(x86_cpu_check_state(b->cpu, bad, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "XSAVE area"));
    error_free(err), err = NULL;

    *bad = *st;
    bad->sregs.efer = 0x400; /* LMA without LME */
    g_assert_false(x86_cpu_check_state(b->cpu, bad, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "EFER.LMA"));
    error_free(err), err = NULL;

    /* Nothing was written to the destination KVM by any of these. */
    g_assert_cmpuint(b->f.calls->len, ==, 0);

    /* post_load: the stream alone is refused */
    {
        g_autoptr(GByteArray) bytes = g_byte_array_new();
        size_t pos = 0;

        *bad = *st;
        bad->mp.mp_state = 99;
        g_assert_true(vmstate_save(&x86_cpu_vmsd, bad, bytes, NULL));
        g_assert_false(vmstate_load(&x86_cpu_vmsd, st, bytes->data, bytes->len,
                                    &pos, &err));
        g_assert_nonnull(strstr(error_get_pretty(err), "mp_state 99"));
        error_free(err), err = NULL;
    }
    g_free(st);
    g_free(bad);
    side_fini(a);
    side_fini(b);
    g_free(a);
    g_free(b);
}

/* Reset: SMM state goes with KVM_VCPUEVENT_VALID_SMM and smm=0 where KVM
 * has SMM, without the flag where it has not. */
static void test_reset_smm(void)
{
    for (int smm = 0; smm < 2; smm++) {
        struct side *a = g_new0(struct side, 1);

        side_init(a, "qemu64", smm);
        a->f.events.smi.smm = 1; /* as if the guest were in SMM */
        x86_cpu_reset(a->cpu, true);
        g_assert_true(x86_cpu_put(a->cpu, X86_PUT_RESET, NULL));
        g_assert_cmpuint(a->f.events.smi.smm, ==, 0);
        g_assert_cmpuint(!!(a->f.events.flags & KVM_VCPUEVENT_VALID_SMM), ==,
                         smm);
        side_fini(a);
        g_free(a);
    }
}

/* The MSRs the CPU model gates: AMD's SPEC_CTRL bits, virt-ssbd. */
static void test_msr_gates(void)
{
    struct side *a = g_new0(struct side, 1);
    struct kvm_cpuid_entry2 *e;
    uint64_t v;

    /* qemu64 has none of the gates: no SPEC_CTRL, no VIRT_SPEC_CTRL */
    side_init(a, "qemu64", false);
    g_assert_false(carried(a, MSR_IA32_SPEC_CTRL));
    g_assert_false(carried(a, MSR_VIRT_SPEC_CTRL));
    g_assert_true(carried(a, 0x1d9)); /* DEBUGCTL: listed, ungated */
    side_fini(a);

    for (int flag = 0; flag < 4; flag++) {
        static const char *const models[] = {
            "qemu64,+ibrs", "qemu64,+amd-stibp", "qemu64,+amd-ssbd",
            "qemu64,+virt-ssbd"};
        Error *err = NULL;

        fake_kvm_init(&a->f);
        e = x86_cpuid_find(a->f.accel.supported_cpuid, 0x80000008, 0);
        e->ebx = (1u << 14) | (1u << 15) | (1u << 24) | (1u << 25);
        a->model =
            x86_cpu_model_new(&a->f.accel, models[flag], 1, 1, 1, 1, &err);
        g_assert_null(err);
        a->cpu = x86_cpu_new(&a->f.accel, FAKE_VCPU_FD, 0, a->model, &err);
        g_assert_null(err);
        g_assert_true(x86_cpu_model_has_feature(a->model, models[flag] + 8));
        g_assert_cmphex(fake_kvm_cpuid(&a->f, 0x80000008, 0, 1), ==,
                        flag == 0   ? 1u << 14
                        : flag == 1 ? 1u << 15
                        : flag == 2 ? 1u << 24
                                    : 1u << 25);
        g_assert_cmpint(carried(a, MSR_IA32_SPEC_CTRL), ==, flag < 3);
        g_assert_cmpint(carried(a, MSR_VIRT_SPEC_CTRL), ==, flag == 3);
        side_fini(a);
    }
    /* POLL_CONTROL resets to 1 (haltpoll allowed), as QEMU */
    side_init(a, "host", false);
    x86_cpu_reset(a->cpu, true);
    g_assert_true(x86_cpu_put(a->cpu, X86_PUT_RESET, NULL));
    g_assert_true(fake_kvm_msr(&a->f, MSR_KVM_POLL_CONTROL, &v));
    g_assert_cmpuint(v, ==, 1);
    side_fini(a);
    g_free(a);
}

/* A reset state goes to KVM whole even if the next put asks for RUNTIME
 * (vcpu_settle_reset resets the cache on the main thread; the vCPU thread
 * then puts at its usual RUNTIME level). */
static void test_reset_put_level(void)
{
    struct side *a = g_new0(struct side, 1);

    side_init(a, "host", false);
    g_array_set_size(a->f.last_set_msrs, 0); /* from side_init's put */
    a->f.events.flags = 0;
    x86_cpu_reset(a->cpu, true);
    g_assert_true(x86_cpu_put(a->cpu, X86_PUT_RUNTIME, NULL));
    /* every MSR (TSC and kvmclock included), NMI state in the events */
    g_assert_true(carried(a, 0x10));
    {
        struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);

        g_assert_true(x86_cpu_save_state(a->cpu, st, NULL));
        g_assert_cmpuint(a->f.last_set_msrs->len, ==, st->nr_msrs);
        g_free(st);
    }
    g_assert_true(a->f.events.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
    /* and only once: the next RUNTIME put writes nothing */
    fake_kvm_clear_log(&a->f);
    g_assert_true(x86_cpu_put(a->cpu, X86_PUT_RUNTIME, NULL));
    g_assert_cmpuint(a->f.calls->len, ==, 0);
    side_fini(a);
    g_free(a);
}

/* -machine smm=: on needs KVM_CAP_X86_SMM, off and auto never refused */
static void test_smm_option(void)
{
    struct fake_kvm *f = g_new0(struct fake_kvm, 1);
    Error *err = NULL;

    fake_kvm_init(f);
    f->accel.has_smm = false;
    g_assert_true(kvm_check_smm_option(&f->accel, "off", &err));
    g_assert_true(kvm_check_smm_option(&f->accel, "auto", &err));
    g_assert_true(kvm_check_smm_option(&f->accel, NULL, &err));
    g_assert_false(kvm_check_smm_option(&f->accel, "on", &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "SMM not supported by this KVM");
    error_free(err), err = NULL;
    g_assert_false(kvm_check_smm_option(&f->accel, "maybe", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "invalid value 'maybe'"));
    error_free(err), err = NULL;
    f->accel.has_smm = true;
    g_assert_true(kvm_check_smm_option(&f->accel, "on", &err));
    g_assert_null(err);
    fake_kvm_destroy(f);
    g_free(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-state/round-trip", test_round_trip);
    g_test_add_func("/cpu-state/xsave-legacy", test_xsave_legacy);
    g_test_add_func("/cpu-state/refusals", test_refusals);
    g_test_add_func("/cpu-state/reset-smm", test_reset_smm);
    g_test_add_func("/cpu-state/msr-gates", test_msr_gates);
    g_test_add_func("/cpu-state/reset-put-level", test_reset_put_level);
    g_test_add_func("/cpu-state/smm-option", test_smm_option);
    return g_test_run();
}
