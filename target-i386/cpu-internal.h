/* SPDX-License-Identifier: MIT */
/*
 * cpu-internal.h: what the target-i386 files share among themselves and
 * nobody else needs: the resolved CPU model (feature words after -cpu
 * parsing and filtering against KVM), the CPUID table builder, the MSR
 * candidate table.
 *
 * Feature words follow QEMU's split of CPUID registers so that -cpu
 * flags map one to one onto (word, bit).
 */
#ifndef TARGET_I386_CPU_INTERNAL_H
#define TARGET_I386_CPU_INTERNAL_H

#include "target-i386/cpu.h"

enum x86_feat_word {
    FEAT_1_EDX = 0,
    FEAT_1_ECX,
    FEAT_7_0_EBX,
    FEAT_7_0_ECX,
    FEAT_7_0_EDX,
    FEAT_8000_0001_EDX,
    FEAT_8000_0001_ECX,
    FEAT_8000_0007_EDX,
    FEAT_6_EAX,
    FEAT_D_1_EAX,
    FEAT_KVM,
    FEAT_8000_0008_EBX,
    FEAT_NWORDS,
};

/* Where a feature word lives in CPUID. */
struct x86_feat_word_info {
    uint32_t leaf, subleaf;
    int reg;           /* 0 eax, 1 ebx, 2 ecx, 3 edx */
    const char *label; /* "CPUID.01H:ECX" for QEMU-style warnings */
};
extern const struct x86_feat_word_info x86_feat_words[FEAT_NWORDS];

struct x86_cpu_model {
    char *name;
    bool host;          /* host/max: pass through KVM's table */
    uint32_t level;     /* max basic leaf (named models) */
    uint32_t xlevel;    /* max extended leaf (named models) */
    char vendor[13];    /* 12 chars + NUL */
    uint32_t signature; /* CPUID.1:EAX */
    char model_id[49];
    uint32_t feat[FEAT_NWORDS];     /* after filtering against KVM */
    uint32_t filtered[FEAT_NWORDS]; /* asked for, but KVM cannot give */
    unsigned nr_cpus, sockets, cores, threads;
    const struct kvm_cpuid2 *supported; /* KVM_GET_SUPPORTED_CPUID */
    /* CPUID 0x8000001F for SEV guests (sev/), when has_mem_encrypt */
    bool has_mem_encrypt;
    uint32_t mem_encrypt_eax, mem_encrypt_ebx;
};

/* CPUID register access on a kvm_cpuid2 table. */
struct kvm_cpuid_entry2 *x86_cpuid_find(struct kvm_cpuid2 *t, uint32_t leaf,
                                        uint32_t subleaf);
const struct kvm_cpuid_entry2 *x86_cpuid_find_const(const struct kvm_cpuid2 *t,
                                                    uint32_t leaf,
                                                    uint32_t subleaf);
uint32_t *x86_cpuid_reg(struct kvm_cpuid_entry2 *e, int reg);
/* Bits KVM can give a guest for feature word w (QEMU's fix-ups applied). */
uint32_t x86_cpuid_supported_word(struct kvm_accel *k, enum x86_feat_word w);
/* Builds the CPUID table of vCPU `index` (APIC id, topology leaves). */
struct kvm_cpuid2 *x86_cpuid_build(const struct x86_cpu_model *m,
                                   unsigned index);
/* APIC id of vCPU `index` under the model's topology. */
uint32_t x86_cpuid_apic_id(const struct x86_cpu_model *m, unsigned index);
bool x86_cpuid_has(const struct kvm_cpuid2 *t, uint32_t leaf, int reg,
                   unsigned bit);
void x86_cpuid_clear(struct kvm_cpuid2 *t, uint32_t leaf, int reg,
                     unsigned bit);

/* MSR candidates: what vCPU state needs, with when to write each one. */
enum {
    MSR_F_ALWAYS = 1u << 0,     /* KVM handles it without listing it */
    MSR_F_RESET_ONLY = 1u << 1, /* written at RESET/FULL only (QEMU rule) */
    MSR_F_INIT_ONLY = 1u << 2,  /* feature MSR: written once at creation */
};
struct x86_msr_def {
    uint32_t index;
    const char *name;
    unsigned flags;
    /* CPUID gate: only when the guest's CPUID has this bit (leaf 0: none) */
    uint32_t leaf;
    int reg;
    unsigned bit;
    const char *flag; /* -cpu name of the gate bit, for messages */
    /* or any of these (TSC_AUX: rdtscp or rdpid; SPEC_CTRL: Intel's bit
     * or AMD's ibrs/amd-stibp/amd-ssbd); leaf 0 ends the list */
    struct {
        uint32_t leaf;
        int reg;
        unsigned bit;
    } alt[3];
};
const struct x86_msr_def *x86_msr_defs(size_t *n);
const struct x86_msr_def *x86_msr_def_find(uint32_t index);
/* The candidates this vCPU should carry: in KVM's index list (or
 * MSR_F_ALWAYS) and allowed by its CPUID. */
GArray *x86_msr_candidates(struct kvm_accel *k, const struct kvm_cpuid2 *t);
uint64_t x86_msr_reset_value(uint32_t index);

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SPEC_CTRL 0x48
#define MSR_IA32_SMBASE 0x9e
#define MSR_KVM_POLL_CONTROL 0x4b564d05
#define MSR_VIRT_SPEC_CTRL 0xc001011f
#define MSR_IA32_APICBASE 0x1b
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_PAT 0x277
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_PAT_DEFAULT 0x0007040600070406ULL

#endif
