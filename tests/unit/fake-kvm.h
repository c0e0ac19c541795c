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
/* The VM fd: interrupt ioctls, and state (clock, irqchip, PIT); set
 * accel.vm_fd to this to use it */
#define FAKE_VM_FD 43
#define FAKE_MAX_MSRS 128
#define FAKE_XSAVE2_SIZE 8192
#define FAKE_MAX_SLOTS 32

struct fake_fail {
    unsigned long req;
    unsigned nth; /* 1-based, counted from when it was armed */
    unsigned seen;
    int err;
};

struct fake_sev;

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

    /* VM fd: KVM_SIGNAL_MSI messages, KVM_IRQ_LINE as "gsi=level;", the
     * last KVM_SET_GSI_ROUTING table */
    GArray *msis; /* struct kvm_msi */
    GString *irq_lines;
    struct kvm_irq_routing *routing;

    /* KVM_SET_USER_MEMORY_REGION, by slot number (any fd) */
    struct kvm_userspace_memory_region slots[FAKE_MAX_SLOTS];
    /* Dirty logging as KVM does it: a slot's bitmap exists while it has
     * KVM_MEM_LOG_DIRTY_PAGES (fresh, empty, when the flag is set);
     * fake_kvm_dirty() is a guest write.  KVM_GET_DIRTY_LOG copies it and,
     * unless manual protection was enabled (KVM_ENABLE_CAP
     * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, offered when manual_dirty_cap),
     * clears it; KVM_CLEAR_DIRTY_LOG clears the bits it is given and
     * checks KVM's alignment rules. */
    unsigned long *dirty[FAKE_MAX_SLOTS];
    bool manual_dirty_cap, manual_dirty_on;

    GArray *calls;         /* unsigned long: every request, in order */
    GArray *last_set_msrs; /* uint32_t: indices of the last KVM_SET_MSRS */
    struct fake_fail fails[8];
    unsigned nfails;

    /* ---- SEV section (fake_sev_*, below): NULL unless enabled ---- */
    struct fake_sev *sev;
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
/* A guest write to gpa: marked if its slot logs dirty pages; false if
 * no slot covers gpa. */
bool fake_kvm_dirty(struct fake_kvm *f, uint64_t gpa);
/* Whether any slot has KVM_MEM_LOG_DIRTY_PAGES. */
bool fake_kvm_logging(const struct fake_kvm *f);
/* CPUID register of the last KVM_SET_CPUID2 table (0 if absent). */
uint32_t fake_kvm_cpuid(const struct fake_kvm *f, uint32_t leaf,
                        uint32_t subleaf, int reg);

/* ---- SEV platform (sev/) ----------------------------------------------
 * A fake /dev/sev (fd FAKE_SEV_FD) and KVM SEV support on a VM fd
 * (FAKE_VM_FD) that model the AMD firmware's guest state machine
 * (UNINIT -> LUPDATE -> LSECRET -> RUNNING; SNP: UNINIT -> LUPDATE ->
 * RUNNING), refuse commands out of order with the firmware's status
 * (INVALID_GUEST_STATE, ...), and compute the launch digest from what the
 * VMM feeds them: SHA-256 over LAUNCH_UPDATE_DATA/VMSA for SEV and SEV-ES,
 * the SHA-384 PAGE_INFO chain for SNP.  VMSAs are built, as KVM builds
 * them, from each vCPU's state as set through its own fd
 * (FAKE_SEV_VCPU_FD + i, created with fake_sev_add_vcpu); after the VMSAs
 * are encrypted, register reads and writes fail as KVM's do.  The digest
 * is computed here independently of sev/measure.c. */
#define FAKE_VM_FD 43
#define FAKE_SEV_FD 44
#define FAKE_SEV_VCPU_FD 100
#define FAKE_SEV_MAX_VCPUS 8

/* Enables the platform: vm_types is the KVM_CAP_VM_TYPES mask (0: no
 * KVM_SEV_INIT2), vm_type the type the VM was created with. */
struct fake_sev *fake_sev_enable(struct fake_kvm *f, unsigned vm_types,
                                 unsigned long vm_type);
/* A vCPU fd with its own register state (reset like the single one). */
int fake_sev_add_vcpu(struct fake_kvm *f);
/* Makes the next `cmd` (a KVM_SEV_* id) fail with firmware status fw. */
void fake_sev_fail(struct fake_kvm *f, uint32_t cmd, uint32_t fw);
/* KVM without SEV (the NULL op and every command fail with ENOTTY). */
void fake_sev_no_kvm_support(struct fake_kvm *f, bool none);
/* KVM without guest_memfd (KVM_CAP_GUEST_MEMFD / USER_MEMORY2 absent). */
void fake_sev_no_guest_memfd(struct fake_kvm *f);
/* The launch digest once measured/finished (hex, g_free it), else NULL. */
char *fake_sev_digest(const struct fake_kvm *f);
/* Whether [gpa, gpa+size) was made private (KVM_SET_MEMORY_ATTRIBUTES). */
bool fake_sev_is_private(const struct fake_kvm *f, uint64_t gpa, uint64_t size);
/* A vCPU's stored sregs, to model what KVM reports for an SEV-ES guest. */
struct kvm_sregs2 *fake_sev_vcpu_sregs(struct fake_kvm *f, unsigned i);
/* The commands the platform accepted, "LAUNCH_START LAUNCH_UPDATE_DATA". */
const char *fake_sev_log(const struct fake_kvm *f);
/* The fake's transport integrity key (for checking LAUNCH_MEASURE). */
extern const uint8_t fake_sev_tik[16];

#endif
