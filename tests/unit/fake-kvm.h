/* SPDX-License-Identifier: MIT */
/*
 * fake-kvm.h: a KVM backend for unit tests.  It models one vCPU's state in
 * memory (regs, sregs2, MSRs, xsave, xcrs, events, debug registers, LAPIC,
 * mp_state, CPUID), applies the checks KVM applies where tests rely on
 * them (KVM_SET_SREGS* consistency, KVM_SET_MSRS stopping at the first
 * refused MSR), reports vCPU event flags as KVM_GET_VCPU_EVENTS does
 * (NMI pending, shadow and SMM valid, whatever the last SET said; the
 * SET's flags stay in `events.flags`), records every ioctl so tests can
 * assert exactly which were
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
/* KVM_GET_TSC_KHZ on the vCPU fd */
#define FAKE_TSC_KHZ 2400000
#define FAKE_XSAVE2_SIZE 8192
#define FAKE_MAX_SLOTS 32
#define FAKE_MAX_RINGS 8
/* KVM_DIRTY_RING_RSVD_ENTRIES: a ring is soft-full this close to full */
#define FAKE_RING_RSVD 64

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

    /* KVM's dirty ring (api.rst 8.29), offered as KVM_CAP_DIRTY_LOG_RING
     * (ring_cap_plain) and/or _ACQ_REL (ring_cap_acq_rel), ring_max bytes
     * at most (KVM_CHECK_EXTENSION's answer).  KVM_ENABLE_CAP applies
     * KVM's rules (a power of 2, a page at least, at most ring_max, once,
     * before any vCPU ring is mapped); KVM_GET_DIRTY_LOG and
     * KVM_CLEAR_DIRTY_LOG then fail with ENXIO as KVM's.  The backend's
     * mmap gives any vCPU fd its ring at KVM_DIRTY_LOG_PAGE_OFFSET.  With
     * the ring on, the slot bitmaps above say which pages were pushed and
     * not yet reset (KVM pushes a page once until then);
     * KVM_RESET_DIRTY_RINGS frees, in order, the entries marked RESET
     * and counts them in ring_resets. */
    bool ring_cap_plain, ring_cap_acq_rel;
    uint32_t ring_max;   /* bytes */
    uint32_t ring_bytes; /* enabled size; 0: off */
    struct fake_ring {
        int fd;
        struct kvm_dirty_gfn *gfns;
        uint32_t dirty_index, reset_index; /* free-running, as KVM's */
    } rings[FAKE_MAX_RINGS];
    unsigned nrings;
    unsigned ring_resets;
    /* A vCPU thread's KVM_RUN on FAKE_VCPU_FD when run is set: as KVM,
     * KVM_EXIT_DIRTY_RING_FULL while that fd's ring is soft-full (within
     * FAKE_RING_RSVD entries of its size), else run_exit (a test picks one
     * that parks the vCPU, e.g. KVM_EXIT_SHUTDOWN); -EINTR with
     * immediate_exit.  run_calls counts these runs. */
    struct kvm_run *run;
    uint32_t run_exit;
    unsigned run_calls;

    /* KVM's binary statistics: KVM_GET_STATS_FD on FAKE_VM_FD ([0]) and
     * FAKE_VCPU_FD ([1]) returns a new memfd holding this file (header,
     * id, descriptors, data; built by fake_kvm_set_stats, and tests may
     * corrupt it); NULL: ENOTTY, a KVM before 5.14. */
    GByteArray *stats_file[2];

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
/* A guest write to gpa by the vCPU whose fd is vcpu_fd, with the dirty
 * ring on: pushed to that vCPU's ring as KVM does (only for a slot that
 * logs, once per page until reset); false if nothing was pushed (no
 * logging slot covers gpa, already pushed, no ring, ring full). */
bool fake_kvm_ring_write(struct fake_kvm *f, int vcpu_fd, uint64_t gpa);
/* Pushes any {slot, offset} to a vCPU's ring, as a broken or hostile KVM
 * might; false if the ring is full or vcpu_fd has none. */
bool fake_kvm_ring_push_raw(struct fake_kvm *f, int vcpu_fd, uint32_t slot,
                            uint64_t offset);
/* Entries pushed and not yet reset on vcpu_fd's ring. */
unsigned fake_kvm_ring_used(const struct fake_kvm *f, int vcpu_fd);
/* Whether any slot has KVM_MEM_LOG_DIRTY_PAGES. */
bool fake_kvm_logging(const struct fake_kvm *f);
/* One statistic for fake_kvm_set_stats: `size` values. */
struct fake_stat {
    const char *name;
    uint32_t flags; /* KVM_STATS_TYPE_* | KVM_STATS_UNIT_* | KVM_STATS_BASE_* */
    int16_t exponent;
    uint32_t bucket_size;
    uint16_t size;
    const uint64_t *values;
};
/* KVM's names are at most this long, NUL included (KVM_STATS_NAME_SIZE) */
#define FAKE_STATS_NAME_SIZE 48
/* Builds the statistics file of the VM (vcpu false) or the vCPU as KVM
 * lays it out: header, id "kvm-1234", descriptors, then the data. */
void fake_kvm_set_stats(struct fake_kvm *f, bool vcpu,
                        const struct fake_stat *stats, unsigned n);

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
