/* SPDX-License-Identifier: MIT */
/*
 * kvm-state.c: the vCPU's architectural state as KVM holds it, cached in
 * register groups with avail/dirty bits (see cpu.h).
 *
 * Why a cache: an exit handler usually needs one or two groups (PIO needs
 * none, a CPUID/MSR exit needs regs), and every KVM_GET/SET is a syscall on
 * a path that runs millions of times; so groups are fetched on demand and
 * only the dirty ones are written back before KVM_RUN.
 *
 * Why the checks: KVM answers a bad KVM_SET_SREGS with a bare -EINVAL, and
 * since QEMU 8.2 (commit 7191f24c) a failed register write stops the VM.
 * We refuse inconsistent state ourselves with a message that says which
 * rule was broken, and we synthesise EFER.LMA for SEV-ES guests (KVM only
 * sees EFER through write traps, the guest never writes LMA; QEMU commit
 * 5746f70d does the same) so that the state we read back can be written.
 *
 * Put order follows QEMU: sregs before regs (so that EFER/CR0 are in place
 * when RIP/RFLAGS land), then xsave and xcrs, the LAPIC (before the MSRs so
 * that the TSC-deadline MSR finds the timer in deadline mode), the MSRs,
 * vCPU events, mp_state and the debug registers last.  Get order also
 * follows QEMU: events and mp_state first (KVM_GET_MP_STATE may change CS
 * and RIP of a vCPU that just got a SIPI).
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "target-i386/cpu-internal.h"

#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define CR0_PE (1ULL << 0)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_DEFAULT_ADDR 0xfee00000ULL

struct msr_slot {
    uint32_t index;
    unsigned flags;
    /* Set by x86_cpu_set_msr.  A RUNTIME put writes only these: writing
     * back an unchanged value can only undo what KVM did since the get
     * (a TSC deadline that fired, kvmclock updates), which is also why
     * TSC and kvmclock (RESET_ONLY) are otherwise left to RESET/FULL. */
    bool changed;
    uint64_t value;
};

struct x86_cpu {
    struct kvm_accel *k;
    int fd;
    unsigned index;
    uint32_t apic_id;
    uint32_t signature; /* CPUID.1:EAX, EDX at reset */
    bool sev_es;
    bool state_protected; /* SEV-ES/SNP after launch on a typed VM */
    unsigned avail, dirty;
    /* The least level the next put writes at: RESET after x86_cpu_reset,
     * FULL after x86_cpu_load_state, so that a state replaced as a whole
     * goes to KVM as a whole whoever puts it next (0: none). */
    enum x86_put_level min_level;

    struct kvm_regs regs;
    struct kvm_sregs2 sregs;
    GArray *msrs; /* struct msr_slot, the accepted state MSRs */
    /* KVM_GET/SET_MSRS buffer and slot selection, allocated once for the
     * candidate list (the most any transfer carries): no allocation per
     * register access on the exit path */
    struct kvm_msrs *msr_buf;
    unsigned *msr_sel;
    size_t msr_cap;
    struct kvm_xsave *xsave;
    size_t xsave_size;
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events events;
    struct kvm_debugregs dbg;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;

    struct kvm_cpuid2 *cpuid;
    GArray *dropped; /* uint32_t: MSRs KVM refused at creation */
};

static void ioctl_error(const struct x86_cpu *c, unsigned long req, int r,
                        Error **errp)
{
    error_setg_errno(errp, -r, "vCPU %u: %s failed", c->index,
                     kvm_ioctl_name(req));
}

static bool vcpu_ioctl(struct x86_cpu *c, unsigned long req, void *arg,
                       Error **errp)
{
    int r = kvm_ioctl(c->k, c->fd, req, arg);

    if (r < 0) {
        ioctl_error(c, req, r, errp);
        return false;
    }
    return true;
}

/* ---- MSRs ---- */

static const char *msr_name(uint32_t index)
{
    const struct x86_msr_def *d = x86_msr_def_find(index);

    return d ? d->name : "?";
}

/* One KVM_GET/SET_MSRS over `slots`; returns how many KVM processed or
 * -errno (Error set only for -errno). */
static int msr_xfer(struct x86_cpu *c, unsigned long req, GArray *slots,
                    const unsigned *sel, size_t n, Error **errp)
{
    struct kvm_msrs *b = c->msr_buf;
    int r;

    g_assert(n <= c->msr_cap);
    b->nmsrs = n;
    for (size_t i = 0; i < n; i++) {
        const struct msr_slot *s =
            &g_array_index(slots, struct msr_slot, sel[i]);

        b->entries[i].index = s->index;
        b->entries[i].data = s->value;
    }
    if (n == 0) {
        return 0; /* nothing to transfer: no ioctl */
    }
    r = kvm_ioctl(c->k, c->fd, req, b);
    if (r < 0) {
        ioctl_error(c, req, r, errp);
        return r;
    }
    if (req == KVM_GET_MSRS) {
        for (int i = 0; i < r && (size_t)i < n; i++) {
            g_array_index(slots, struct msr_slot, sel[i]).value =
                b->entries[i].data;
        }
    }
    return r;
}

static bool msrs_get(struct x86_cpu *c, Error **errp)
{
    size_t n = c->msrs->len;
    unsigned *sel = c->msr_sel;
    int r;

    for (size_t i = 0; i < n; i++) {
        sel[i] = i;
    }
    r = msr_xfer(c, KVM_GET_MSRS, c->msrs, sel, n, errp);
    if (r < 0) {
        return false;
    }
    if ((size_t)r < n) {
        const struct msr_slot *s = &g_array_index(c->msrs, struct msr_slot, r);

        error_setg(errp,
                   "vCPU %u: KVM_GET_MSRS refused MSR 0x%" PRIx32
                   " (%s): read %d of %zu",
                   c->index, s->index, msr_name(s->index), r, n);
        return false;
    }
    return true;
}

static bool msrs_put(struct x86_cpu *c, enum x86_put_level level, Error **errp)
{
    size_t n = 0;
    unsigned *sel = c->msr_sel;
    int r;

    for (size_t i = 0; i < c->msrs->len; i++) {
        const struct msr_slot *s = &g_array_index(c->msrs, struct msr_slot, i);

        if (level >= X86_PUT_RESET || s->changed) {
            sel[n++] = i;
        }
    }
    r = msr_xfer(c, KVM_SET_MSRS, c->msrs, sel, n, errp);
    if (r < 0) {
        return false;
    }
    if ((size_t)r < n) {
        const struct msr_slot *s =
            &g_array_index(c->msrs, struct msr_slot, sel[r]);

        error_setg(errp,
                   "vCPU %u: KVM_SET_MSRS refused MSR 0x%" PRIx32
                   " (%s) value 0x%" PRIx64 ": set %d of %zu",
                   c->index, s->index, msr_name(s->index), s->value, r, n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        g_array_index(c->msrs, struct msr_slot, sel[i]).changed = false;
    }
    return true;
}

/*
 * Finds out which candidate MSRs KVM really reads and writes back: one
 * KVM_GET_MSRS then one KVM_SET_MSRS over the list, dropping the entry KVM
 * stopped at and going on with the rest.  The index list is not enough:
 * this machine's KVM lists ARCH_CAPABILITIES and then refuses it.
 */
static bool msr_probe(struct x86_cpu *c, GArray *slots, unsigned long req,
                      Error **errp)
{
    size_t start = 0;

    while (start < slots->len) {
        size_t n = slots->len - start;
        unsigned *sel = c->msr_sel;
        const struct msr_slot *bad;
        int r;

        for (size_t i = 0; i < n; i++) {
            sel[i] = start + i;
        }
        r = msr_xfer(c, req, slots, sel, n, errp);
        if (r < 0) {
            return false;
        }
        if ((size_t)r >= n) {
            break;
        }
        bad = &g_array_index(slots, struct msr_slot, start + r);
        g_array_append_val(c->dropped, bad->index);
        if (c->index == 0) {
            warn_report("KVM refused to %s MSR 0x%" PRIx32
                        " (%s); vCPUs run without it",
                        req == KVM_GET_MSRS ? "read" : "write", bad->index,
                        msr_name(bad->index));
        }
        g_array_remove_index(slots, start + r);
        start += r;
    }
    return true;
}

/*
 * Feature MSRs (ARCH_CAPABILITIES) get the value KVM offers on the system
 * fd, as QEMU writes it: that is the write this machine's KVM refuses, so
 * probing with the vCPU's current value (0) would hide the problem.
 */
static void feature_msr_values(struct x86_cpu *c, GArray *slots)
{
    for (size_t i = 0; i < slots->len; i++) {
        struct msr_slot *s = &g_array_index(slots, struct msr_slot, i);
        struct kvm_msrs *b = c->msr_buf;

        if (!(s->flags & MSR_F_INIT_ONLY)) {
            continue;
        }
        b->nmsrs = 1;
        b->entries[0].index = s->index;
        if (kvm_ioctl(c->k, c->k->sys_fd, KVM_GET_MSRS, b) == 1) {
            s->value = b->entries[0].data;
        }
    }
}

/* ---- sregs ---- */

/* struct kvm_sregs2 is struct kvm_sregs up to apic_base, then flags and
 * PDPTRs instead of the interrupt bitmap. */
#define SREGS_COMMON offsetof(struct kvm_sregs, interrupt_bitmap)
_Static_assert(offsetof(struct kvm_sregs2, apic_base) ==
                   offsetof(struct kvm_sregs, apic_base),
               "kvm_sregs2 must extend kvm_sregs");
_Static_assert(offsetof(struct kvm_sregs2, flags) == SREGS_COMMON,
               "kvm_sregs2 must extend kvm_sregs");

static void sregs_from_v1(struct kvm_sregs2 *d, const struct kvm_sregs *s)
{
    memset(d, 0, sizeof(*d));
    memcpy(d, s, SREGS_COMMON);
}

static void sregs_to_v1(struct kvm_sregs *d, const struct kvm_sregs2 *s)
{
    /* interrupt_bitmap stays zero: KVM_SET_VCPU_EVENTS always follows. */
    memset(d, 0, sizeof(*d));
    memcpy(d, s, SREGS_COMMON);
}

static void normalise_efer(struct x86_cpu *c)
{
    if (c->sev_es && (c->sregs.efer & EFER_LME) && (c->sregs.cr0 & CR0_PG)) {
        c->sregs.efer |= EFER_LMA;
    }
}

static bool sregs_get(struct x86_cpu *c, Error **errp)
{
    if (c->k->has_sregs2) {
        if (!vcpu_ioctl(c, KVM_GET_SREGS2, &c->sregs, errp)) {
            return false;
        }
    } else {
        struct kvm_sregs s;

        if (!vcpu_ioctl(c, KVM_GET_SREGS, &s, errp)) {
            return false;
        }
        sregs_from_v1(&c->sregs, &s);
    }
    normalise_efer(c);
    return true;
}

struct cr4_feature {
    unsigned bit;
    const char *name;
    uint32_t leaf;
    int reg;
    unsigned fbit;
    const char *flag;
};

/* CR4 bits that are reserved unless the vCPU's CPUID has the feature. */
static const struct cr4_feature cr4_features[] = {
    {11, "UMIP", 7, 2, 2, "umip"},         {12, "LA57", 7, 2, 16, "la57"},
    {13, "VMXE", 1, 2, 5, "vmx"},          {14, "SMXE", 1, 2, 6, "smx"},
    {16, "FSGSBASE", 7, 1, 0, "fsgsbase"}, {17, "PCIDE", 1, 2, 17, "pcid"},
    {18, "OSXSAVE", 1, 2, 26, "xsave"},    {20, "SMEP", 7, 1, 7, "smep"},
    {21, "SMAP", 7, 1, 20, "smap"},        {22, "PKE", 7, 2, 3, "pku"},
    {23, "CET", 7, 2, 7, "cet-ss"},        {24, "PKS", 7, 2, 31, "pks"},
};

/* Architecturally defined CR4 bits (0-14, 16-18, 20-24). */
#define CR4_KNOWN 0x1f77fffULL

/* MAXPHYADDR as KVM computes it from the guest's CPUID. */
static unsigned phys_bits(const struct x86_cpu *c)
{
    const struct kvm_cpuid_entry2 *e =
        x86_cpuid_find_const(c->cpuid, 0x80000008, 0);

    return e && (e->eax & 0xff) ? e->eax & 0xff : 36;
}

/*
 * The rules KVM enforces on KVM_SET_SREGS* (plus one VM-entry rule, CS.L
 * with CS.D), checked here so that the failure names the rule.
 */
static bool sregs_check(const struct x86_cpu *c, const struct kvm_sregs2 *s,
                        Error **errp)
{
    const char *op = c->k->has_sregs2 ? "KVM_SET_SREGS2" : "KVM_SET_SREGS";
    bool lma = s->efer & EFER_LMA, lme = s->efer & EFER_LME;
    bool pg = s->cr0 & CR0_PG, pe = s->cr0 & CR0_PE;
    const char *why = NULL;
    uint64_t bad;

    if (lma && !lme) {
        why = "EFER.LMA set without EFER.LME";
    } else if (lma && !pg) {
        why = "EFER.LMA set without CR0.PG";
    } else if (lme && pg && !lma) {
        why = "EFER.LME and CR0.PG set without EFER.LMA";
    } else if (pg && !pe) {
        why = "CR0.PG set without CR0.PE";
    } else if (lma && !(s->cr4 & CR4_PAE)) {
        why = "EFER.LMA set without CR4.PAE";
    } else if (s->cs.l && !lma) {
        why = "long-mode CS (CS.L) without EFER.LMA";
    } else if (s->cs.l && s->cs.db) {
        why = "CS.L and CS.DB both set";
    } else if ((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD)) {
        why = "CR0.NW set without CR0.CD";
    }
    if (why) {
        error_setg(errp,
                   "vCPU %u: refusing %s: %s (EFER=0x%" PRIx64 " CR0=0x%" PRIx64
                   " CR4=0x%" PRIx64 " CS.L=%u CS.DB=%u)",
                   c->index, op, why, (uint64_t)s->efer, (uint64_t)s->cr0,
                   (uint64_t)s->cr4, s->cs.l, s->cs.db);
        return false;
    }
    if (lme && pg && (s->cr3 >> phys_bits(c))) {
        error_setg(errp,
                   "vCPU %u: refusing %s: CR3=0x%" PRIx64
                   " beyond the %u-bit physical address width",
                   c->index, op, (uint64_t)s->cr3, phys_bits(c));
        return false;
    }
    if (s->flags & ~(uint64_t)KVM_SREGS2_FLAGS_PDPTRS_VALID) {
        error_setg(errp,
                   "vCPU %u: refusing %s: unknown sregs2 flags 0x%" PRIx64,
                   c->index, op, (uint64_t)s->flags);
        return false;
    }
    if (s->cr0 >> 32) {
        error_setg(errp,
                   "vCPU %u: refusing %s: CR0=0x%" PRIx64
                   " sets reserved bits 63:32",
                   c->index, op, (uint64_t)s->cr0);
        return false;
    }
    bad = s->cr4 & ~CR4_KNOWN;
    if (bad) {
        error_setg(errp,
                   "vCPU %u: refusing %s: CR4=0x%" PRIx64
                   " sets reserved bits 0x%" PRIx64,
                   c->index, op, (uint64_t)s->cr4, bad);
        return false;
    }
    for (size_t i = 0; c->cpuid && i < ARRAY_SIZE(cr4_features); i++) {
        const struct cr4_feature *f = &cr4_features[i];

        if ((s->cr4 >> f->bit) & 1 &&
            !x86_cpuid_has(c->cpuid, f->leaf, f->reg, f->fbit)) {
            error_setg(errp,
                       "vCPU %u: refusing %s: CR4=0x%" PRIx64
                       " sets CR4.%s (bit %u), reserved without CPU "
                       "feature %s",
                       c->index, op, (uint64_t)s->cr4, f->name, f->bit,
                       f->flag);
            return false;
        }
    }
    return true;
}

static bool sregs_put(struct x86_cpu *c, Error **errp)
{
    if (!sregs_check(c, &c->sregs, errp)) {
        return false;
    }
    if (c->k->has_sregs2) {
        return vcpu_ioctl(c, KVM_SET_SREGS2, &c->sregs, errp);
    } else {
        struct kvm_sregs s;

        sregs_to_v1(&s, &c->sregs);
        return vcpu_ioctl(c, KVM_SET_SREGS, &s, errp);
    }
}

/* ---- groups ---- */

static bool group_get(struct x86_cpu *c, unsigned g, Error **errp)
{
    switch (g) {
    case X86_REGS:
        return vcpu_ioctl(c, KVM_GET_REGS, &c->regs, errp);
    case X86_SREGS:
        return sregs_get(c, errp);
    case X86_MSRS:
        return msrs_get(c, errp);
    case X86_XSAVE:
        return vcpu_ioctl(c, c->k->has_xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
                          c->xsave, errp);
    case X86_XCRS:
        return !c->k->has_xcrs || vcpu_ioctl(c, KVM_GET_XCRS, &c->xcrs, errp);
    case X86_EVENTS:
        return !c->k->has_vcpu_events ||
               vcpu_ioctl(c, KVM_GET_VCPU_EVENTS, &c->events, errp);
    case X86_DEBUGREGS:
        return !c->k->has_debugregs ||
               vcpu_ioctl(c, KVM_GET_DEBUGREGS, &c->dbg, errp);
    case X86_LAPIC:
        return vcpu_ioctl(c, KVM_GET_LAPIC, &c->lapic, errp);
    case X86_MP_STATE:
        return vcpu_ioctl(c, KVM_GET_MP_STATE, &c->mp, errp);
    default:
        g_assert_not_reached();
    }
}

static bool events_put(struct x86_cpu *c, enum x86_put_level level,
                       Error **errp)
{
    struct kvm_vcpu_events ev = c->events;

    /* NMI pending and the SIPI vector only at reset and after migration:
     * at runtime another vCPU may have queued an NMI since we read. */
    ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
    if (level >= X86_PUT_RESET) {
        ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING;
        if (c->mp.mp_state == KVM_MP_STATE_SIPI_RECEIVED) {
            ev.flags |= KVM_VCPUEVENT_VALID_SIPI_VECTOR;
        }
        /* SMM state (in SMM or not, SMI pending, latched INIT) is written
         * at reset (leaving SMM: x86_cpu_reset cleared it) and after a
         * migration; at runtime KVM's copy is newer than ours. */
        if (c->k->has_smm) {
            ev.flags |= KVM_VCPUEVENT_VALID_SMM;
        }
    }
    return vcpu_ioctl(c, KVM_SET_VCPU_EVENTS, &ev, errp);
}

static bool group_put(struct x86_cpu *c, unsigned g, enum x86_put_level level,
                      Error **errp)
{
    switch (g) {
    case X86_REGS:
        return vcpu_ioctl(c, KVM_SET_REGS, &c->regs, errp);
    case X86_SREGS:
        return sregs_put(c, errp);
    case X86_MSRS:
        return msrs_put(c, level, errp);
    case X86_XSAVE:
        return vcpu_ioctl(c, KVM_SET_XSAVE, c->xsave, errp);
    case X86_XCRS:
        return !c->k->has_xcrs || vcpu_ioctl(c, KVM_SET_XCRS, &c->xcrs, errp);
    case X86_EVENTS:
        return !c->k->has_vcpu_events || events_put(c, level, errp);
    case X86_DEBUGREGS:
        c->dbg.flags = 0;
        return !c->k->has_debugregs ||
               vcpu_ioctl(c, KVM_SET_DEBUGREGS, &c->dbg, errp);
    case X86_LAPIC:
        return vcpu_ioctl(c, KVM_SET_LAPIC, &c->lapic, errp);
    case X86_MP_STATE:
        return vcpu_ioctl(c, KVM_SET_MP_STATE, &c->mp, errp);
    default:
        g_assert_not_reached();
    }
}

static const unsigned get_order[] = {
    X86_EVENTS, X86_MP_STATE, X86_REGS,  X86_XSAVE,     X86_XCRS,
    X86_SREGS,  X86_MSRS,     X86_LAPIC, X86_DEBUGREGS,
};
/*
 * Why this order (each write depends on what the one before set up):
 * - sregs first: CR0/CR4/EFER decide how KVM interprets everything after
 *   (a long-mode RIP, the XSAVE features CR4.OSXSAVE enables, and KVM
 *   resets the MMU on a mode change);
 * - regs after sregs: RFLAGS/RIP of a long-mode guest are only valid once
 *   EFER.LMA is in place;
 * - xsave, then xcrs: XCR0 must allow every component XSTATE_BV names,
 *   and KVM_SET_XSAVE checks the header against the guest's CPUID;
 * - the LAPIC before the MSRs: writing TSC_DEADLINE arms the LAPIC timer,
 *   which only works once the LVT timer is in deadline mode, and the APIC
 *   base (in sregs) has enabled the LAPIC;
 * - the MSRs before the events: kvmclock/TSC values first so that a
 *   pending event does not run against a stale clock;
 * - vCPU events after the LAPIC: an injected interrupt or pending NMI is
 *   checked against the LAPIC state KVM now has (an event written before
 *   would be re-evaluated and lost when KVM_SET_LAPIC resets the APIC);
 * - mp_state after the events: a HALTED or INIT_RECEIVED vCPU must see the
 *   events that would wake it, and KVM_SET_MP_STATE refuses SIPI_RECEIVED
 *   without a latched INIT (from the events' SMM block);
 * - the debug registers last: KVM recomputes DR7 breakpoints from the
 *   final guest state.
 */
static const unsigned put_order[] = {
    X86_SREGS, X86_REGS,   X86_XSAVE,    X86_XCRS,      X86_LAPIC,
    X86_MSRS,  X86_EVENTS, X86_MP_STATE, X86_DEBUGREGS,
};

/* What KVM still reads and writes of a vCPU whose state is encrypted. */
#define X86_UNPROTECTED (X86_LAPIC | X86_MP_STATE)

bool x86_cpu_get(struct x86_cpu *c, unsigned groups, Error **errp)
{
    unsigned want = groups & X86_ALL & ~c->avail;

    if (c->state_protected && (want & ~X86_UNPROTECTED)) {
        error_setg(errp,
                   "vCPU %u: register state is encrypted (SEV-ES/SEV-SNP "
                   "guest): KVM cannot read it",
                   c->index);
        return false;
    }

    /* KVM_GET_MP_STATE processes a pending INIT/SIPI, which rewrites CS,
     * RIP and more: clean cached regs/sregs are re-read after it. */
    if (want & X86_MP_STATE) {
        want |= c->avail & ~c->dirty & (X86_REGS | X86_SREGS);
    }

    for (size_t i = 0; i < ARRAY_SIZE(get_order); i++) {
        unsigned g = get_order[i];

        if (!(want & g)) {
            continue;
        }
        if (!group_get(c, g, errp)) {
            return false;
        }
        c->avail |= g;
    }
    return true;
}

bool x86_cpu_put(struct x86_cpu *c, enum x86_put_level level, Error **errp)
{
    unsigned groups;

    /* A reset or loaded state goes to KVM as a whole (see min_level). */
    if (level < c->min_level) {
        level = c->min_level;
    }
    groups = level == X86_PUT_RUNTIME ? c->dirty : X86_ALL;

    if (c->state_protected) {
        /* KVM refuses these writes; the guest owns its state now. */
        c->dirty &= X86_UNPROTECTED;
        groups &= X86_UNPROTECTED;
    }
    if (!groups) {
        return true; /* the usual case before each KVM_RUN */
    }
    for (size_t i = 0; i < ARRAY_SIZE(put_order); i++) {
        unsigned g = put_order[i];

        if (!(groups & g)) {
            continue;
        }
        if (!group_put(c, g, level, errp)) {
            return false;
        }
        c->dirty &= ~g;
        c->avail |= g;
    }
    c->min_level = 0;
    return true;
}

void x86_cpu_invalidate(struct x86_cpu *c)
{
    /* A group still dirty here was never written; its cache is the truth. */
    c->avail = c->dirty;
}

unsigned x86_cpu_avail(const struct x86_cpu *c)
{
    return c->avail;
}

unsigned x86_cpu_dirty(const struct x86_cpu *c)
{
    return c->dirty;
}

/* ---- accessors ---- */

const struct kvm_regs *x86_cpu_regs(const struct x86_cpu *c)
{
    g_assert(c->avail & X86_REGS);
    return &c->regs;
}

struct kvm_regs *x86_cpu_regs_mut(struct x86_cpu *c)
{
    g_assert(c->avail & X86_REGS);
    c->dirty |= X86_REGS;
    return &c->regs;
}

const struct kvm_sregs2 *x86_cpu_sregs(const struct x86_cpu *c)
{
    g_assert(c->avail & X86_SREGS);
    return &c->sregs;
}

struct kvm_sregs2 *x86_cpu_sregs_mut(struct x86_cpu *c)
{
    g_assert(c->avail & X86_SREGS);
    c->dirty |= X86_SREGS;
    return &c->sregs;
}

struct kvm_mp_state *x86_cpu_mp_state_mut(struct x86_cpu *c)
{
    g_assert(c->avail & X86_MP_STATE);
    c->dirty |= X86_MP_STATE;
    return &c->mp;
}

static struct msr_slot *find_slot(const struct x86_cpu *c, uint32_t index)
{
    for (size_t i = 0; i < c->msrs->len; i++) {
        struct msr_slot *s = &g_array_index(c->msrs, struct msr_slot, i);

        if (s->index == index) {
            return s;
        }
    }
    return NULL;
}

bool x86_cpu_msr(const struct x86_cpu *c, uint32_t index, uint64_t *val)
{
    const struct msr_slot *s = find_slot(c, index);

    g_assert(c->avail & X86_MSRS);
    if (!s) {
        return false;
    }
    *val = s->value;
    return true;
}

bool x86_cpu_set_msr(struct x86_cpu *c, uint32_t index, uint64_t val)
{
    struct msr_slot *s = find_slot(c, index);

    g_assert(c->avail & X86_MSRS);
    if (!s) {
        return false;
    }
    s->value = val;
    s->changed = true;
    c->dirty |= X86_MSRS;
    return true;
}

void x86_cpu_set_sev_es(struct x86_cpu *c, bool on)
{
    c->sev_es = on;
}

void x86_cpu_set_state_protected(struct x86_cpu *c, bool on)
{
    c->state_protected = on;
    if (on) {
        c->avail &= X86_UNPROTECTED;
        c->dirty &= X86_UNPROTECTED;
    }
}

bool x86_cpu_state_protected(const struct x86_cpu *c)
{
    return c->state_protected;
}

unsigned x86_cpu_dropped_msrs(const struct x86_cpu *c, const uint32_t **list)
{
    *list = (const uint32_t *)c->dropped->data;
    return c->dropped->len;
}

const struct kvm_cpuid2 *x86_cpu_cpuid(const struct x86_cpu *c)
{
    return c->cpuid;
}

/* ---- reset and boot state ---- */

static void seg(struct kvm_segment *s, uint16_t sel, uint64_t base,
                uint32_t limit, uint8_t type, uint8_t code_data)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->type = type;
    s->present = 1;
    s->s = code_data;
}

static void lapic_set(struct kvm_lapic_state *l, unsigned off, uint32_t v)
{
    memcpy(&l->regs[off], &v, 4);
}

void x86_cpu_reset(struct x86_cpu *c, bool is_bsp)
{
    struct kvm_sregs2 *s = &c->sregs;
    uint16_t *fcw = (uint16_t *)&c->xsave->region[0];

    memset(&c->regs, 0, sizeof(c->regs));
    c->regs.rip = 0xfff0;
    c->regs.rflags = 0x2;
    c->regs.rdx = c->signature;

    memset(s, 0, sizeof(*s));
    seg(&s->cs, 0xf000, 0xffff0000, 0xffff, 0xb, 1); /* code, R/X, acc. */
    seg(&s->ds, 0, 0, 0xffff, 0x3, 1);               /* data, R/W, acc. */
    s->es = s->ss = s->fs = s->gs = s->ds;
    seg(&s->ldt, 0, 0, 0xffff, 0x2, 0); /* LDT */
    seg(&s->tr, 0, 0, 0xffff, 0xb, 0);  /* busy TSS */
    s->gdt.limit = 0xffff;
    s->idt.limit = 0xffff;
    s->cr0 = 0x60000010; /* CD NW ET */
    s->apic_base =
        APIC_DEFAULT_ADDR | APIC_BASE_ENABLE | (is_bsp ? APIC_BASE_BSP : 0);

    for (size_t i = 0; i < c->msrs->len; i++) {
        struct msr_slot *m = &g_array_index(c->msrs, struct msr_slot, i);

        m->value = x86_msr_reset_value(m->index);
        m->changed = false;
    }

    memset(c->xsave, 0, c->xsave_size);
    *fcw = 0x37f;
    c->xsave->region[6] = 0x1f80; /* MXCSR, byte 24 */
    c->xsave->region[128] = 0x3;  /* XSTATE_BV: x87, SSE */

    memset(&c->xcrs, 0, sizeof(c->xcrs));
    c->xcrs.nr_xcrs = 1;
    c->xcrs.xcrs[0].xcr = 0;
    c->xcrs.xcrs[0].value = 1;

    memset(&c->events, 0, sizeof(c->events));

    memset(&c->dbg, 0, sizeof(c->dbg));
    c->dbg.dr6 = 0xffff0ff0;
    c->dbg.dr7 = 0x400;

    /* LAPIC power-up state (SDM 11.4.7.1): LVTs masked, DFR all ones,
     * SVR 0xff (software-disabled).  The BSP's LINT0 is ExtINT, unmasked,
     * as QEMU's APIC reset does, so the 8259's interrupts reach it. */
    memset(&c->lapic, 0, sizeof(c->lapic));
    lapic_set(&c->lapic, 0x20, c->apic_id << 24);
    lapic_set(&c->lapic, 0x30, 0x50014);
    lapic_set(&c->lapic, 0xe0, 0xffffffff);
    lapic_set(&c->lapic, 0xf0, 0xff);
    for (unsigned off = 0x320; off <= 0x370; off += 0x10) {
        lapic_set(&c->lapic, off, 0x10000);
    }
    lapic_set(&c->lapic, 0x2f0, 0x10000);
    if (is_bsp) {
        lapic_set(&c->lapic, 0x350, 0x700);
    }

    c->mp.mp_state =
        is_bsp ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED;

    c->avail = X86_ALL;
    c->dirty = X86_ALL;
    c->min_level = X86_PUT_RESET;
}

void x86_cpu_apply_boot_state(struct x86_cpu *c, const struct x86_boot_state *b)
{
    uint64_t apic_base = c->sregs.apic_base;

    c->regs = b->regs;
    c->sregs = b->sregs;
    /* Loaders describe the CPU mode, not the APIC: keep the reset value. */
    if (!c->sregs.apic_base) {
        c->sregs.apic_base = apic_base;
    }
    c->avail |= X86_REGS | X86_SREGS;
    c->dirty |= X86_REGS | X86_SREGS;
}

/* ---- creation ---- */

struct x86_cpu *x86_cpu_new(struct kvm_accel *k, int vcpu_fd, unsigned index,
                            const struct x86_cpu_model *model, Error **errp)
{
    struct x86_cpu *c = g_new0(struct x86_cpu, 1);
    const struct kvm_cpuid_entry2 *e;
    g_autoptr(GArray) cand = NULL;
    GArray *slots;
    bool cpuid_changed = false;

    c->k = k;
    c->fd = vcpu_fd;
    c->index = index;
    c->apic_id = x86_cpuid_apic_id(model, index);
    c->dropped = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    c->msrs = g_array_new(FALSE, TRUE, sizeof(struct msr_slot));
    c->xsave_size = sizeof(struct kvm_xsave);
    if (k->has_xsave2 && (size_t)k->xsave2_size > c->xsave_size) {
        c->xsave_size = k->xsave2_size;
    }
    c->xsave = g_malloc0(c->xsave_size);
    c->cpuid = x86_cpuid_build(model, index);
    e = x86_cpuid_find_const(c->cpuid, 1, 0);
    c->signature = e ? e->eax : 0;

    if (!vcpu_ioctl(c, KVM_SET_CPUID2, c->cpuid, errp)) {
        goto fail;
    }

    cand = x86_msr_candidates(k, c->cpuid);
    c->msr_cap = MAX(cand->len, 1);
    c->msr_buf = g_malloc0(sizeof(struct kvm_msrs) +
                           c->msr_cap * sizeof(struct kvm_msr_entry));
    c->msr_sel = g_new0(unsigned, c->msr_cap);
    slots = g_array_new(FALSE, TRUE, sizeof(struct msr_slot));
    for (size_t i = 0; i < cand->len; i++) {
        uint32_t idx = g_array_index(cand, uint32_t, i);
        struct msr_slot s = {.index = idx,
                             .flags = x86_msr_def_find(idx)->flags};

        g_array_append_val(slots, s);
    }
    if (!msr_probe(c, slots, KVM_GET_MSRS, errp)) {
        g_array_free(slots, TRUE);
        goto fail;
    }
    feature_msr_values(c, slots);
    if (!msr_probe(c, slots, KVM_SET_MSRS, errp)) {
        g_array_free(slots, TRUE);
        goto fail;
    }
    for (size_t i = 0; i < slots->len; i++) {
        const struct msr_slot *s = &g_array_index(slots, struct msr_slot, i);

        if (!(s->flags & MSR_F_INIT_ONLY)) {
            g_array_append_val(c->msrs, *s);
        }
    }
    g_array_free(slots, TRUE);

    /* A refused feature MSR takes its CPUID bit with it: the guest must
     * not be told it may read an MSR KVM does not back. */
    for (size_t i = 0; i < c->dropped->len; i++) {
        const struct x86_msr_def *d =
            x86_msr_def_find(g_array_index(c->dropped, uint32_t, i));

        if (d && (d->flags & MSR_F_INIT_ONLY) && d->leaf &&
            x86_cpuid_has(c->cpuid, d->leaf, d->reg, d->bit)) {
            x86_cpuid_clear(c->cpuid, d->leaf, d->reg, d->bit);
            cpuid_changed = true;
            if (index == 0) {
                warn_report("not advertising CPUID flag %s (leaf 0x%" PRIx32
                            " bit %u) without MSR 0x%" PRIx32 " (%s)",
                            d->flag, d->leaf, d->bit, d->index, d->name);
            }
        }
    }
    if (cpuid_changed && !vcpu_ioctl(c, KVM_SET_CPUID2, c->cpuid, errp)) {
        goto fail;
    }
    return c;

fail:
    x86_cpu_free(c);
    return NULL;
}

void x86_cpu_free(struct x86_cpu *c)
{
    if (!c) {
        return;
    }
    g_array_free(c->msrs, TRUE);
    g_array_free(c->dropped, TRUE);
    g_free(c->msr_buf);
    g_free(c->msr_sel);
    g_free(c->xsave);
    g_free(c->cpuid);
    g_free(c);
}

/* ---- whole-state save / check / load (migration) ---- */

bool x86_cpu_save_state(struct x86_cpu *c, struct x86_cpu_state *st,
                        Error **errp)
{
    if (c->msrs->len > X86_STATE_MAX_MSRS) {
        error_setg(errp, "vCPU %u: %u MSRs, a stream carries at most %u",
                   c->index, c->msrs->len, X86_STATE_MAX_MSRS);
        return false;
    }
    if (c->xsave_size > X86_STATE_XSAVE_MAX) {
        error_setg(errp,
                   "vCPU %u: XSAVE area of %zu bytes, a stream carries at "
                   "most %u",
                   c->index, c->xsave_size, X86_STATE_XSAVE_MAX);
        return false;
    }
    /* What is dirty was never written: the cache is the truth for it,
     * everything else is read from KVM now. */
    if (!x86_cpu_get(c, X86_ALL, errp)) {
        return false;
    }
    memset(st, 0, sizeof(*st));
    st->regs = c->regs;
    st->sregs = c->sregs;
    st->nr_msrs = c->msrs->len;
    for (size_t i = 0; i < c->msrs->len; i++) {
        const struct msr_slot *m = &g_array_index(c->msrs, struct msr_slot, i);

        st->msrs[i].index = m->index;
        st->msrs[i].value = m->value;
    }
    st->xsave_size = c->xsave_size;
    memcpy(st->xsave, c->xsave, MIN(c->xsave_size, sizeof(st->xsave)));
    if (c->xsave_size > sizeof(st->xsave)) {
        memcpy(st->xsave_ext, (uint8_t *)c->xsave + sizeof(st->xsave),
               c->xsave_size - sizeof(st->xsave));
    }
    st->xcrs = c->xcrs;
    st->events = c->events;
    st->dbg = c->dbg;
    st->lapic = c->lapic;
    st->mp = c->mp;
    return true;
}

bool x86_cpu_check_state(const struct x86_cpu *c,
                         const struct x86_cpu_state *st, Error **errp)
{
    const struct kvm_vcpu_events *ev = &st->events;

    if (st->nr_msrs > X86_STATE_MAX_MSRS) {
        error_setg(errp, "vCPU %u: %" PRIu32 " MSRs (at most %u)", c->index,
                   st->nr_msrs, X86_STATE_MAX_MSRS);
        return false;
    }
    for (uint32_t i = 0; i < st->nr_msrs; i++) {
        if (!find_slot(c, st->msrs[i].index)) {
            error_setg(errp,
                       "vCPU %u: MSR 0x%" PRIx32 " (%s) is not part of "
                       "this vCPU's state here (CPU model or KVM differs)",
                       c->index, st->msrs[i].index,
                       msr_name(st->msrs[i].index));
            return false;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (st->msrs[j].index == st->msrs[i].index) {
                error_setg(errp, "vCPU %u: MSR 0x%" PRIx32 " appears twice",
                           c->index, st->msrs[i].index);
                return false;
            }
        }
    }
    if (st->xsave_size != c->xsave_size) {
        error_setg(errp,
                   "vCPU %u: XSAVE area of %" PRIu32 " bytes, this KVM's "
                   "is %zu",
                   c->index, st->xsave_size, c->xsave_size);
        return false;
    }
    if (st->xcrs.nr_xcrs > KVM_MAX_XCRS) {
        error_setg(errp, "vCPU %u: %" PRIu32 " XCRs (at most %d)", c->index,
                   st->xcrs.nr_xcrs, KVM_MAX_XCRS);
        return false;
    }
    if (st->mp.mp_state > KVM_MP_STATE_SUSPENDED) {
        error_setg(errp, "vCPU %u: unknown MP state %" PRIu32, c->index,
                   st->mp.mp_state);
        return false;
    }
    if (!c->k->has_smm &&
        (ev->smi.smm || ev->smi.pending || ev->smi.smm_inside_nmi)) {
        error_setg(errp,
                   "vCPU %u: the state is in SMM or has an SMI pending, and "
                   "SMM is not supported by this KVM",
                   c->index);
        return false;
    }
    if ((st->dbg.dr6 >> 32) || (st->dbg.dr7 >> 32)) {
        error_setg(errp,
                   "vCPU %u: DR6=0x%" PRIx64 " DR7=0x%" PRIx64
                   " set reserved bits 63:32",
                   c->index, (uint64_t)st->dbg.dr6, (uint64_t)st->dbg.dr7);
        return false;
    }
    return sregs_check(c, &st->sregs, errp);
}

void x86_cpu_load_state(struct x86_cpu *c, const struct x86_cpu_state *st)
{
    c->regs = st->regs;
    c->sregs = st->sregs;
    normalise_efer(c);
    /* MSRs the stream does not name keep their reset value. */
    for (size_t i = 0; i < c->msrs->len; i++) {
        struct msr_slot *m = &g_array_index(c->msrs, struct msr_slot, i);

        m->value = x86_msr_reset_value(m->index);
        m->changed = false;
    }
    for (uint32_t i = 0; i < st->nr_msrs && i < X86_STATE_MAX_MSRS; i++) {
        struct msr_slot *m = find_slot(c, st->msrs[i].index);

        if (m) {
            m->value = st->msrs[i].value;
        }
    }
    memcpy(c->xsave, st->xsave, MIN(c->xsave_size, sizeof(st->xsave)));
    if (c->xsave_size > sizeof(st->xsave)) {
        memcpy((uint8_t *)c->xsave + sizeof(st->xsave), st->xsave_ext,
               MIN(c->xsave_size - sizeof(st->xsave), sizeof(st->xsave_ext)));
    }
    c->xcrs = st->xcrs;
    c->events = st->events;
    c->dbg = st->dbg;
    c->lapic = st->lapic;
    c->mp = st->mp;
    c->avail = X86_ALL;
    c->dirty = X86_ALL;
    c->min_level = X86_PUT_FULL;
}

/* ---- dump ---- */

/* QEMU's descriptor-flags word: the high dword of a descriptor. */
static uint32_t seg_flags(const struct kvm_segment *s)
{
    return (uint32_t)s->type << 8 | (uint32_t)s->s << 12 |
           (uint32_t)s->dpl << 13 |
           (uint32_t)(s->present && !s->unusable) << 15 |
           (uint32_t)s->avl << 20 | (uint32_t)s->l << 21 |
           (uint32_t)s->db << 22 | (uint32_t)s->g << 23;
}

static void dump_seg(GString *o, const char *name, const struct kvm_segment *s,
                     bool pe, bool lma, bool cs64)
{
    static const char *const sys_type[2][16] = {
        {"Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16", "TaskGate",
         "IntGate16", "TrapGate16", "Reserved", "TSS32-avl", "Reserved",
         "TSS32-busy", "CallGate32", "Reserved", "IntGate32", "TrapGate32"},
        {"<hiword>", "Reserved", "LDT", "Reserved", "Reserved", "Reserved",
         "Reserved", "Reserved", "Reserved", "TSS64-avl", "Reserved",
         "TSS64-busy", "CallGate64", "Reserved", "IntGate64", "TrapGate64"},
    };
    uint32_t fl = seg_flags(s);

    if (cs64) {
        g_string_append_printf(o, "%-3s=%04x %016" PRIx64 " %08x %08x", name,
                               s->selector, (uint64_t)s->base, s->limit, fl);
    } else {
        g_string_append_printf(o, "%-3s=%04x %08x %08x %08x", name, s->selector,
                               (uint32_t)s->base, s->limit, fl);
    }
    if (pe && (fl & (1u << 15))) {
        g_string_append_printf(o, " DPL=%u ", s->dpl);
        if (s->s) {
            if (s->type & 8) {
                g_string_append(o, s->l ? "CS64" : s->db ? "CS32" : "CS16");
                g_string_append_printf(o, " [%c%c", (s->type & 4) ? 'C' : '-',
                                       (s->type & 2) ? 'R' : '-');
            } else {
                g_string_append(o, (s->db || lma) ? "DS  " : "DS16");
                g_string_append_printf(o, " [%c%c", (s->type & 4) ? 'E' : '-',
                                       (s->type & 2) ? 'W' : '-');
            }
            g_string_append_printf(o, "%c]", (s->type & 1) ? 'A' : '-');
        } else {
            g_string_append(o, sys_type[lma][s->type & 15]);
        }
    }
    g_string_append_c(o, '\n');
}

void x86_cpu_dump(struct x86_cpu *c, GString *o)
{
    static const char *const gpr[16] = {
        "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
        "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15"};
    Error *err = NULL;
    const struct kvm_regs *r = &c->regs;
    const struct kvm_sregs2 *s = &c->sregs;
    uint64_t v[16];
    uint64_t fl;
    bool pe, lma, cs64;
    unsigned cpl;

    if (!x86_cpu_get(
            c, X86_REGS | X86_SREGS | X86_DEBUGREGS | X86_EVENTS | X86_MP_STATE,
            &err)) {
        g_string_append_printf(o, "(register state unavailable: %s)\n",
                               error_get_pretty(err));
        error_free(err);
        return;
    }
    v[0] = r->rax, v[1] = r->rbx, v[2] = r->rcx, v[3] = r->rdx;
    v[4] = r->rsi, v[5] = r->rdi, v[6] = r->rbp, v[7] = r->rsp;
    v[8] = r->r8, v[9] = r->r9, v[10] = r->r10, v[11] = r->r11;
    v[12] = r->r12, v[13] = r->r13, v[14] = r->r14, v[15] = r->r15;
    fl = r->rflags;
    pe = s->cr0 & CR0_PE;
    lma = s->efer & EFER_LMA;
    /* QEMU's rule: the 64-bit layout only while running 64-bit code;
     * real, protected and compatibility mode get the 32-bit one. */
    cs64 = lma && s->cs.l;
    cpl = !pe ? 0 : (fl & (1u << 17)) ? 3 : s->ss.dpl;
    if (cs64) {
        for (int i = 0; i < 16; i++) {
            g_string_append_printf(o, "%-3s=%016" PRIx64 "%c", gpr[i], v[i],
                                   (i % 4 == 3) ? '\n' : ' ');
        }
        g_string_append_printf(o, "RIP=%016" PRIx64 " RFL=%08" PRIx64,
                               (uint64_t)r->rip, fl);
    } else {
        for (int i = 0; i < 8; i++) {
            /* EAX..ESP: the register names without the leading R */
            g_string_append_printf(o, "E%s=%08" PRIx32 "%c", gpr[i] + 1,
                                   (uint32_t)v[i], (i % 4 == 3) ? '\n' : ' ');
        }
        g_string_append_printf(o, "EIP=%08" PRIx32 " EFL=%08" PRIx64,
                               (uint32_t)r->rip, fl);
    }
    g_string_append_printf(
        o, " [%c%c%c%c%c%c%c] CPL=%u II=%u A20=1 SMM=%u HLT=%u\n",
        (fl & 0x400) ? 'D' : '-', (fl & 0x800) ? 'O' : '-',
        (fl & 0x80) ? 'S' : '-', (fl & 0x40) ? 'Z' : '-',
        (fl & 0x10) ? 'A' : '-', (fl & 0x4) ? 'P' : '-', (fl & 0x1) ? 'C' : '-',
        cpl, c->events.interrupt.shadow ? 1 : 0, c->events.smi.smm,
        c->mp.mp_state == KVM_MP_STATE_HALTED);
    dump_seg(o, "ES", &s->es, pe, lma, cs64);
    dump_seg(o, "CS", &s->cs, pe, lma, cs64);
    dump_seg(o, "SS", &s->ss, pe, lma, cs64);
    dump_seg(o, "DS", &s->ds, pe, lma, cs64);
    dump_seg(o, "FS", &s->fs, pe, lma, cs64);
    dump_seg(o, "GS", &s->gs, pe, lma, cs64);
    dump_seg(o, "LDT", &s->ldt, pe, lma, cs64);
    dump_seg(o, "TR", &s->tr, pe, lma, cs64);
    if (cs64) {
        g_string_append_printf(o, "GDT=     %016" PRIx64 " %08x\n",
                               (uint64_t)s->gdt.base, s->gdt.limit);
        g_string_append_printf(o, "IDT=     %016" PRIx64 " %08x\n",
                               (uint64_t)s->idt.base, s->idt.limit);
        g_string_append_printf(o,
                               "CR0=%08" PRIx64 " CR2=%016" PRIx64
                               " CR3=%016" PRIx64 " CR4=%08" PRIx64 "\n",
                               (uint64_t)s->cr0, (uint64_t)s->cr2,
                               (uint64_t)s->cr3, (uint64_t)s->cr4);
    } else {
        g_string_append_printf(o, "GDT=     %08" PRIx32 " %08x\n",
                               (uint32_t)s->gdt.base, s->gdt.limit);
        g_string_append_printf(o, "IDT=     %08" PRIx32 " %08x\n",
                               (uint32_t)s->idt.base, s->idt.limit);
        g_string_append_printf(o,
                               "CR0=%08" PRIx32 " CR2=%08" PRIx32
                               " CR3=%08" PRIx32 " CR4=%08" PRIx32 "\n",
                               (uint32_t)s->cr0, (uint32_t)s->cr2,
                               (uint32_t)s->cr3, (uint32_t)s->cr4);
    }
    for (int i = 0; i < 4; i++) {
        g_string_append_printf(o, "DR%d=%016" PRIx64 " ", i,
                               (uint64_t)c->dbg.db[i]);
    }
    g_string_append_printf(o, "\nDR6=%016" PRIx64 " DR7=%016" PRIx64 "\n",
                           (uint64_t)c->dbg.dr6, (uint64_t)c->dbg.dr7);
    g_string_append_printf(o, "EFER=%016" PRIx64 "\n", (uint64_t)s->efer);
}
