/* SPDX-License-Identifier: MIT */
/*
 * cpu.h: the x86 vCPU state layer over KVM.  The whole architectural state
 * of a vCPU is kept in register groups; each group has an `avail` bit (the
 * cached copy matches KVM) and a `dirty` bit (the cached copy must be
 * written before the next KVM_RUN).  Exit handlers fetch only the groups
 * they read (x86_cpu_get), and x86_cpu_put writes exactly the dirty groups
 * at RUNTIME level, or everything at RESET/FULL level.
 *
 * Every register ioctl is checked; failures name the ioctl, the vCPU and
 * errno.  EFER is normalised after every get (SEV-ES: LMA synthesised when
 * LME and CR0.PG are set) and the state is checked for consistency before
 * every set (LMA without LME, long-mode CS without LMA, PG without PE...).
 */
#ifndef TARGET_I386_CPU_H
#define TARGET_I386_CPU_H

#include "util/common.h"
#include "util/error.h"

#include <linux/kvm.h>

struct kvm_accel;

enum x86_group {
    X86_REGS = 1u << 0,
    X86_SREGS = 1u << 1,
    X86_MSRS = 1u << 2,
    X86_XSAVE = 1u << 3,
    X86_XCRS = 1u << 4,
    X86_EVENTS = 1u << 5,
    X86_DEBUGREGS = 1u << 6,
    X86_LAPIC = 1u << 7,
    X86_MP_STATE = 1u << 8,
    X86_ALL = (1u << 9) - 1,
};

enum x86_put_level {
    X86_PUT_RUNTIME = 1, /* dirty groups only */
    X86_PUT_RESET = 2,   /* all groups, plus TSC/kvmclock MSRs, mp_state */
    X86_PUT_FULL = 3,    /* everything (after incoming migration) */
};

/* A parsed -cpu: model name plus +feat/-feat, resolved against KVM. */
struct x86_cpu_model;

struct x86_cpu_model *x86_cpu_model_new(struct kvm_accel *k, const char *text,
                                        unsigned nr_cpus, unsigned sockets,
                                        unsigned cores, unsigned threads,
                                        Error **errp);
void x86_cpu_model_free(struct x86_cpu_model *model);
const char *x86_cpu_model_name(const struct x86_cpu_model *model);
/* Text for "-cpu help". */
char *x86_cpu_model_help(void);
/* For query-cpu-definitions: NULL-terminated list of model names. */
const char *const *x86_cpu_model_names(void);
/* APIC id of vCPU `index` under the model's sockets/cores/threads (packed
 * fields, so not dense when a count is not a power of two).  Use it as the
 * KVM vCPU id (KVM_CREATE_VCPU): KVM's LAPIC and the guest's CPUID agree. */
uint32_t x86_cpu_model_apic_id(const struct x86_cpu_model *model,
                               unsigned index);
/* True when every bit of flag `name` (QEMU spelling) survived parsing and
 * filtering against KVM; false for unknown flags. */
bool x86_cpu_model_has_feature(const struct x86_cpu_model *model,
                               const char *name);

/* SEV guests: CPUID 0x8000001F with these EAX (SEV/SEV-ES/SNP bits) and
 * EBX (C-bit position, reduced physical address bits) for the vCPUs
 * created from now on (and the extended level raised to reach it). */
void x86_cpu_model_set_mem_encrypt(struct x86_cpu_model *model, uint32_t eax,
                                   uint32_t ebx);
/* QEMU's feature property names (aliases included: "pni" and "sse3"),
 * which qom-list shows on a vCPU. */
size_t x86_cpu_nr_feature_names(void);
const char *x86_cpu_feature_name(size_t i);
/* Flags the model asked for that KVM could not give (QEMU's
 * "unavailable-features"); caller frees the array. */
GPtrArray *x86_cpu_model_unavailable(const struct x86_cpu_model *model);
/* CPUID identity of the model. */
void x86_cpu_model_ident(const struct x86_cpu_model *model, unsigned *family,
                         unsigned *model_nr, unsigned *stepping,
                         const char **vendor, const char **model_id);

struct x86_cpu;

/* Sets CPUID for this vCPU and learns its MSR list. */
struct x86_cpu *x86_cpu_new(struct kvm_accel *k, int vcpu_fd, unsigned index,
                            const struct x86_cpu_model *model, Error **errp);
void x86_cpu_free(struct x86_cpu *c);

/* Architectural power-on/INIT state (BSP runnable at the reset vector,
 * APs waiting for SIPI); marks every group dirty. */
void x86_cpu_reset(struct x86_cpu *c, bool is_bsp);
/* Fetches the groups in `groups` that are not avail. */
bool x86_cpu_get(struct x86_cpu *c, unsigned groups, Error **errp);
bool x86_cpu_put(struct x86_cpu *c, enum x86_put_level level, Error **errp);
/* After KVM_RUN the cache is stale: clears every avail bit (dirty groups
 * were written before the run, so none are dirty here). */
void x86_cpu_invalidate(struct x86_cpu *c);
unsigned x86_cpu_avail(const struct x86_cpu *c);
unsigned x86_cpu_dirty(const struct x86_cpu *c);

/* Access to the cached groups.  The caller must have fetched the group
 * (x86_cpu_get) first; *_mut marks the group dirty. */
const struct kvm_regs *x86_cpu_regs(const struct x86_cpu *c);
struct kvm_regs *x86_cpu_regs_mut(struct x86_cpu *c);
const struct kvm_sregs2 *x86_cpu_sregs(const struct x86_cpu *c);
struct kvm_sregs2 *x86_cpu_sregs_mut(struct x86_cpu *c);
struct kvm_mp_state *x86_cpu_mp_state_mut(struct x86_cpu *c);
/* MSR value from the cached MSR group; false if not in the list. */
bool x86_cpu_msr(const struct x86_cpu *c, uint32_t index, uint64_t *val);
/* Marks the MSR group dirty; a RUNTIME put writes just the MSRs set this
 * way, RESET/FULL write them all (TSC and kvmclock only there). */
bool x86_cpu_set_msr(struct x86_cpu *c, uint32_t index, uint64_t val);

/* MSRs KVM refused when the vCPU was created (dropped with a warning). */
unsigned x86_cpu_dropped_msrs(const struct x86_cpu *c, const uint32_t **list);
/* The CPUID table given to KVM_SET_CPUID2 (after any drop). */
const struct kvm_cpuid2 *x86_cpu_cpuid(const struct x86_cpu *c);

/* SEV-ES guests: KVM never sees EFER.LMA; the layer synthesises it. */
void x86_cpu_set_sev_es(struct x86_cpu *c, bool on);
/* After an SEV-ES/SNP launch on a VM created with its SEV type, KVM
 * refuses to read or write the encrypted state: gets of those groups fail
 * naming the reason (no register dump of garbage), puts skip them.  Only
 * the LAPIC and mp_state stay accessible. */
void x86_cpu_set_state_protected(struct x86_cpu *c, bool on);
bool x86_cpu_state_protected(const struct x86_cpu *c);

/* Entry state a loader (bzImage/PVH/multiboot) wants for the BSP instead
 * of the reset vector; applied after x86_cpu_reset() on every reset. */
struct x86_boot_state {
    struct kvm_regs regs;
    struct kvm_sregs2 sregs;
};
/* Copies b into the regs and sregs groups and marks them dirty. */
void x86_cpu_apply_boot_state(struct x86_cpu *c,
                              const struct x86_boot_state *b);

/*
 * The whole state of one vCPU as a migration stream carries it
 * (x86_cpu_vmsd, target-i386/machine.c): every register group, the MSRs
 * of the vCPU's list as (index, value) pairs, the XSAVE area (the legacy
 * 4 KiB, and the rest only when KVM's area is bigger: AMX).
 */
#define X86_STATE_MAX_MSRS 96
#define X86_STATE_XSAVE_BASE 4096
#define X86_STATE_XSAVE_MAX 12288
struct x86_state_msr {
    uint32_t index;
    uint64_t value;
};
struct x86_cpu_state {
    struct kvm_regs regs;
    struct kvm_sregs2 sregs;
    uint32_t nr_msrs;
    struct x86_state_msr msrs[X86_STATE_MAX_MSRS];
    uint32_t xsave_size;
    uint8_t xsave[X86_STATE_XSAVE_BASE];
    uint8_t xsave_ext[X86_STATE_XSAVE_MAX - X86_STATE_XSAVE_BASE];
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events events;
    struct kvm_debugregs dbg;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
};
struct vmstate_desc;
extern const struct vmstate_desc x86_cpu_vmsd;

/* Reads every group from KVM into st.  The vCPU must be stopped (its
 * thread parked or not started): state read from a running vCPU is torn. */
bool x86_cpu_save_state(struct x86_cpu *c, struct x86_cpu_state *st,
                        Error **errp);
/* Checks st against this vCPU (its MSR list, XSAVE size, what this KVM
 * can load, the consistency rules of KVM_SET_SREGS*) without changing
 * anything: a stream is refused before any vCPU is touched. */
bool x86_cpu_check_state(const struct x86_cpu *c,
                         const struct x86_cpu_state *st, Error **errp);
/* Replaces the cached state with st (checked first) and marks every group
 * dirty; the next x86_cpu_put writes it all at FULL level, whatever level
 * it was asked for, so the state goes to KVM as a whole. */
void x86_cpu_load_state(struct x86_cpu *c, const struct x86_cpu_state *st);

/* QEMU-style register dump (fetches what it needs; on failure says so). */
void x86_cpu_dump(struct x86_cpu *c, GString *out);

#endif
