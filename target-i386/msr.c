/* SPDX-License-Identifier: MIT */
/*
 * msr.c: the MSRs that make up a vCPU's state.  KVM_GET_MSR_INDEX_LIST
 * says which MSRs KVM saves and restores; we carry the intersection of that
 * list with the MSRs vCPU state needs (plus a few KVM always handles but
 * does not list: PAT, MTRRs), each gated by the guest CPUID bit that makes
 * it architectural.  EFER and the APIC base are not here: they travel in
 * sregs.  Which candidates KVM really accepts is probed per vCPU in
 * kvm-state.c, because the list alone is not enough (this machine's KVM
 * lists ARCH_CAPABILITIES and then refuses to have it written).
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "target-i386/cpu-internal.h"

/* CPUID register numbers for the gates below. */
enum { EAX = 0, EBX, ECX, EDX };

#define GATE(l, r, b) .leaf = (l), .reg = (r), .bit = (b)

static const struct x86_msr_def msr_defs[] = {
    /* Written at every level (QEMU's kvm_put_msrs base set). */
    {0x174, "IA32_SYSENTER_CS", MSR_F_ALWAYS},
    {0x175, "IA32_SYSENTER_ESP", MSR_F_ALWAYS},
    {0x176, "IA32_SYSENTER_EIP", MSR_F_ALWAYS},
    {MSR_IA32_PAT, "IA32_PAT", MSR_F_ALWAYS},
    {0xc0000081, "STAR", 0},
    {0xc0000082, "LSTAR", 0, GATE(0x80000001, EDX, 29)},
    {0xc0000083, "CSTAR", 0, GATE(0x80000001, EDX, 29)},
    {0xc0000084, "FMASK", 0, GATE(0x80000001, EDX, 29)},
    {0xc0000102, "KERNEL_GS_BASE", 0, GATE(0x80000001, EDX, 29)},
    {0xc0000103, "TSC_AUX", 0, GATE(0x80000001, EDX, 27),
     .alt = {{7, ECX, 22}}},
    {0x3b, "IA32_TSC_ADJUST", 0},
    /* Intel's spec-ctrl, or AMD's ibrs / amd-stibp / amd-ssbd (leaf
     * 0x80000008 EBX): a guest that may write SPEC_CTRL must find its
     * value again after a migration. */
    {MSR_IA32_SPEC_CTRL, "IA32_SPEC_CTRL", 0, GATE(7, EDX, 26),
     .alt = {{0x80000008, EBX, 14},
             {0x80000008, EBX, 15},
             {0x80000008, EBX, 24}}},
    /* AMD's paravirtual SSBD control (virt-ssbd). */
    {MSR_VIRT_SPEC_CTRL, "VIRT_SPEC_CTRL", 0, GATE(0x80000008, EBX, 25)},
    {MSR_IA32_MISC_ENABLE, "IA32_MISC_ENABLE", 0},
    {0x1d9, "IA32_DEBUGCTL", 0},
    /* Machine check: status and global control (mce / mca). */
    {0x17a, "IA32_MCG_STATUS", 0, GATE(1, EDX, 7)},
    {0x17b, "IA32_MCG_CTL", 0, GATE(1, EDX, 14)},
    /* The host save area of a guest hypervisor (svm). */
    {0xc0010117, "VM_HSAVE_PA", 0, GATE(0x80000001, ECX, 2)},
    /* SMIs taken so far and the SMRAM base: KVM lists them only where it
     * has SMM (KVM_CAP_X86_SMM), and the index list is the gate. */
    {0x34, "MSR_SMI_COUNT", 0},
    {MSR_IA32_SMBASE, "IA32_SMBASE", 0},
    /* Written at RESET/FULL only: side effects on the guest. */
    {MSR_IA32_TSC, "IA32_TSC", MSR_F_RESET_ONLY},
    {0x4b564d01, "KVM_SYSTEM_TIME_NEW", MSR_F_RESET_ONLY,
     GATE(0x40000001, EAX, 3)},
    {0x4b564d00, "KVM_WALL_CLOCK_NEW", MSR_F_RESET_ONLY,
     GATE(0x40000001, EAX, 3)},
    {0x12, "KVM_SYSTEM_TIME", MSR_F_RESET_ONLY, GATE(0x40000001, EAX, 0)},
    {0x11, "KVM_WALL_CLOCK", MSR_F_RESET_ONLY, GATE(0x40000001, EAX, 0)},
    /* The vector before the enable bit (QEMU's order): once ASYNC_PF_EN
     * turns on interrupt delivery KVM uses the ASYNC_PF_INT vector. */
    {0x4b564d06, "KVM_ASYNC_PF_INT", MSR_F_RESET_ONLY,
     GATE(0x40000001, EAX, 14)},
    {0x4b564d02, "KVM_ASYNC_PF_EN", MSR_F_RESET_ONLY, GATE(0x40000001, EAX, 4)},
    {0x4b564d03, "KVM_STEAL_TIME", MSR_F_RESET_ONLY, GATE(0x40000001, EAX, 5)},
    {0x4b564d04, "KVM_PV_EOI_EN", MSR_F_RESET_ONLY, GATE(0x40000001, EAX, 6)},
    {MSR_KVM_POLL_CONTROL, "KVM_POLL_CONTROL", MSR_F_RESET_ONLY,
     GATE(0x40000001, EAX, 12)},
    {0x2ff, "MTRRdefType", MSR_F_ALWAYS | MSR_F_RESET_ONLY, GATE(1, EDX, 12)},
    {0x250, "MTRRfix64K_00000", MSR_F_ALWAYS | MSR_F_RESET_ONLY,
     GATE(1, EDX, 12)},
    {0x258, "MTRRfix16K_80000", MSR_F_ALWAYS | MSR_F_RESET_ONLY,
     GATE(1, EDX, 12)},
    {0x259, "MTRRfix16K_A0000", MSR_F_ALWAYS | MSR_F_RESET_ONLY,
     GATE(1, EDX, 12)},
#define FIX4K(i)                                                               \
    {                                                                          \
        0x268 + (i), "MTRRfix4K_" #i, MSR_F_ALWAYS | MSR_F_RESET_ONLY,         \
            GATE(1, EDX, 12)                                                   \
    }
    FIX4K(0),
    FIX4K(1),
    FIX4K(2),
    FIX4K(3),
    FIX4K(4),
    FIX4K(5),
    FIX4K(6),
    FIX4K(7),
#define VAR(i)                                                                 \
    {0x200 + 2 * (i), "MTRRphysBase" #i, MSR_F_ALWAYS | MSR_F_RESET_ONLY,      \
     GATE(1, EDX, 12)},                                                        \
    {                                                                          \
        0x201 + 2 * (i), "MTRRphysMask" #i, MSR_F_ALWAYS | MSR_F_RESET_ONLY,   \
            GATE(1, EDX, 12)                                                   \
    }
    VAR(0),
    VAR(1),
    VAR(2),
    VAR(3),
    VAR(4),
    VAR(5),
    VAR(6),
    VAR(7),
    /* TSC deadline comes after the LAPIC is restored (put order). */
    {0x6e0, "IA32_TSC_DEADLINE", 0, GATE(1, ECX, 24)},
    /* Feature MSR written once at vCPU creation, not part of the state. */
    {MSR_IA32_ARCH_CAPABILITIES, "IA32_ARCH_CAPABILITIES", MSR_F_INIT_ONLY,
     GATE(7, EDX, 29), .flag = "arch-capabilities"},
};

const struct x86_msr_def *x86_msr_defs(size_t *n)
{
    *n = ARRAY_SIZE(msr_defs);
    return msr_defs;
}

const struct x86_msr_def *x86_msr_def_find(uint32_t index)
{
    for (size_t i = 0; i < ARRAY_SIZE(msr_defs); i++) {
        if (msr_defs[i].index == index) {
            return &msr_defs[i];
        }
    }
    return NULL;
}

static bool in_index_list(const struct kvm_msr_list *l, uint32_t index)
{
    if (!l) {
        return false;
    }
    for (uint32_t i = 0; i < l->nmsrs; i++) {
        if (l->indices[i] == index) {
            return true;
        }
    }
    return false;
}

static bool gate_open(const struct x86_msr_def *d, const struct kvm_cpuid2 *t)
{
    if (!d->leaf) {
        return true;
    }
    if (x86_cpuid_has(t, d->leaf, d->reg, d->bit)) {
        return true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(d->alt) && d->alt[i].leaf; i++) {
        if (x86_cpuid_has(t, d->alt[i].leaf, d->alt[i].reg, d->alt[i].bit)) {
            return true;
        }
    }
    return false;
}

GArray *x86_msr_candidates(struct kvm_accel *k, const struct kvm_cpuid2 *t)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    bool new_clock = in_index_list(k->msr_index_list, 0x4b564d01);

    for (size_t i = 0; i < ARRAY_SIZE(msr_defs); i++) {
        const struct x86_msr_def *d = &msr_defs[i];

        if (!(d->flags & MSR_F_ALWAYS) &&
            !in_index_list(k->msr_index_list, d->index)) {
            continue;
        }
        /* Both kvmclock pairs alias the same KVM state: carry the legacy
         * pair only when KVM lacks the new one. */
        if ((d->index == 0x11 || d->index == 0x12) && new_clock) {
            continue;
        }
        if (!gate_open(d, t)) {
            continue;
        }
        g_array_append_val(out, d->index);
    }
    return out;
}

uint64_t x86_msr_reset_value(uint32_t index)
{
    switch (index) {
    case MSR_IA32_PAT:
        return MSR_PAT_DEFAULT;
    case MSR_IA32_MISC_ENABLE:
        return 1; /* fast strings, as QEMU */
    case MSR_KVM_POLL_CONTROL:
        return 1; /* host-side haltpoll allowed until the guest says no */
    case MSR_IA32_SMBASE:
        return 0x30000; /* SDM 34.4 (SMRAM base after RESET) */
    default:
        return 0;
    }
}
