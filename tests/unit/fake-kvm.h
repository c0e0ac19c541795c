/* SPDX-License-Identifier: MIT */
/*
 * fake-kvm.h: a KVM backend for unit tests.  It models one vCPU's state in
 * memory (regs, sregs2, MSRs, xsave, xcrs, events, debug registers, LAPIC,
 * mp_state, CPUID), applies the checks KVM applies where tests rely on
 * them (KVM_SET_SREGS* consistency, KVM_SET_MSRS stopping at the first
 * refused MSR), records every ioctl so tests can assert exactly which were
 * made, and can fail the Nth call of a given ioctl with a chosen errno.
 * It exists because the real KVM here cannot be made to fail on demand and
 * cannot run SEV-ES.
 *
 * `f->accel` is a ready kvm_accel whose capability flags, supported CPUID
 * (an Intel-like host with arch-capabilities, no svm, no avx512) and MSR
 * index list tests may change before creating vCPUs.
 */
#ifndef TESTS_UNIT_FAKE_KVM_H
#define TESTS_UNIT_FAKE_KVM_H

#include "util/common.h"
#include "accel/kvm/kvm.h"

#define FAKE_SYS_FD 41
#define FAKE_VCPU_FD 42
/* VM-fd state (clock, irqchip, PIT): set accel.vm_fd to this to use it */
#define FAKE_VM_FD 43
#define FAKE_MAX_MSRS 128
#define FAKE_XSAVE2_SIZE 8192

struct fake_fail {
    unsigned long req;
    unsigned nth; /* 1-based, counted from when it was armed */
    unsigned seen;
    int err;
};

struct fake_kvm {
    struct kvm_backend be;
    struct kvm_accel accel;

    struct kvm_regs regs;
    struct kvm_sregs2 sregs;
    struct {
        uint32_t index;
        uint64_t value;
        bool refuse_get, refuse_set;
    } msrs[FAKE_MAX_MSRS];
    unsigned nmsrs;
    uint8_t xsave[FAKE_XSAVE2_SIZE];
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events events;
    struct kvm_debugregs dbg;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    struct kvm_cpuid2 *cpuid;    /* last KVM_SET_CPUID2 */
    uint64_t arch_caps;          /* feature MSR 0x10a on the system fd */
    struct kvm_clock_data clock; /* VM fd */
    struct kvm_irqchip chips[3]; /* VM fd: PIC master, slave, IOAPIC */
    struct kvm_pit_state2 pit;   /* VM fd */

    GArray *calls;         /* unsigned long: every request, in order */
    GArray *last_set_msrs; /* uint32_t: indices of the last KVM_SET_MSRS */
    struct fake_fail fails[8];
    unsigned nfails;
};

void fake_kvm_init(struct fake_kvm *f);
void fake_kvm_destroy(struct fake_kvm *f);
/* Fails the nth call (from now) of req with -err. */
void fake_kvm_fail(struct fake_kvm *f, unsigned long req, unsigned nth,
                   int err);
/* Makes KVM refuse to read and/or write an MSR it otherwise knows. */
void fake_kvm_refuse_msr(struct fake_kvm *f, uint32_t index, bool get,
                         bool set);
bool fake_kvm_msr(const struct fake_kvm *f, uint32_t index, uint64_t *val);
void fake_kvm_clear_log(struct fake_kvm *f);
unsigned fake_kvm_count(const struct fake_kvm *f, unsigned long req);
/* The log as "KVM_SET_SREGS2 KVM_SET_REGS ..." (g_free it). */
char *fake_kvm_log(const struct fake_kvm *f);
/* CPUID register of the last KVM_SET_CPUID2 table (0 if absent). */
uint32_t fake_kvm_cpuid(const struct fake_kvm *f, uint32_t leaf,
                        uint32_t subleaf, int reg);

#endif
