/* SPDX-License-Identifier: MIT */
/*
 * machine.c: the vmstate description of an x86 vCPU (struct
 * x86_cpu_state, cpu.h): every register group KVM holds, field by field
 * with the names of the kernel's structs (Documentation/virt/kvm/api.rst,
 * KVM_GET_REGS ... KVM_GET_MP_STATE), so that `--dump-vmstate` shows the
 * layout and a change to it is seen.  post_load checks what the stream
 * alone can be checked for; x86_cpu_check_state then checks it against
 * the destination vCPU before anything is written.  Also the VM-wide
 * state KVM holds: the KVM clock and, with kernel-irqchip=on, the PICs,
 * the IOAPIC and the PIT.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"
#include "target-i386/cpu.h"
#include "target-i386/machine.h"

static const struct vmstate_field regs_fields[] = {
    VMS_U64(struct kvm_regs, rax),
    VMS_U64(struct kvm_regs, rbx),
    VMS_U64(struct kvm_regs, rcx),
    VMS_U64(struct kvm_regs, rdx),
    VMS_U64(struct kvm_regs, rsi),
    VMS_U64(struct kvm_regs, rdi),
    VMS_U64(struct kvm_regs, rsp),
    VMS_U64(struct kvm_regs, rbp),
    VMS_U64(struct kvm_regs, r8),
    VMS_U64(struct kvm_regs, r9),
    VMS_U64(struct kvm_regs, r10),
    VMS_U64(struct kvm_regs, r11),
    VMS_U64(struct kvm_regs, r12),
    VMS_U64(struct kvm_regs, r13),
    VMS_U64(struct kvm_regs, r14),
    VMS_U64(struct kvm_regs, r15),
    VMS_U64(struct kvm_regs, rip),
    VMS_U64(struct kvm_regs, rflags),
    VMS_END,
};

static const struct vmstate_desc regs_vmsd = {
    .name = "regs",
    .version = 1,
    .fields = regs_fields,
};

static const struct vmstate_field segment_fields[] = {
    VMS_U64(struct kvm_segment, base),
    VMS_U32(struct kvm_segment, limit),
    VMS_U16(struct kvm_segment, selector),
    VMS_U8(struct kvm_segment, type),
    VMS_U8(struct kvm_segment, present),
    VMS_U8(struct kvm_segment, dpl),
    VMS_U8(struct kvm_segment, db),
    VMS_U8(struct kvm_segment, s),
    VMS_U8(struct kvm_segment, l),
    VMS_U8(struct kvm_segment, g),
    VMS_U8(struct kvm_segment, avl),
    VMS_U8(struct kvm_segment, unusable),
    VMS_END,
};

static const struct vmstate_desc segment_vmsd = {
    .name = "segment",
    .version = 1,
    .fields = segment_fields,
};

static const struct vmstate_field dtable_fields[] = {
    VMS_U64(struct kvm_dtable, base),
    VMS_U16(struct kvm_dtable, limit),
    VMS_END,
};

static const struct vmstate_desc dtable_vmsd = {
    .name = "dtable",
    .version = 1,
    .fields = dtable_fields,
};

#define SEG(f) VMS_STRUCT(struct kvm_sregs2, f, &segment_vmsd)
static const struct vmstate_field sregs_fields[] = {
    SEG(cs),
    SEG(ds),
    SEG(es),
    SEG(fs),
    SEG(gs),
    SEG(ss),
    SEG(tr),
    SEG(ldt),
    VMS_STRUCT(struct kvm_sregs2, gdt, &dtable_vmsd),
    VMS_STRUCT(struct kvm_sregs2, idt, &dtable_vmsd),
    VMS_U64(struct kvm_sregs2, cr0),
    VMS_U64(struct kvm_sregs2, cr2),
    VMS_U64(struct kvm_sregs2, cr3),
    VMS_U64(struct kvm_sregs2, cr4),
    VMS_U64(struct kvm_sregs2, cr8),
    VMS_U64(struct kvm_sregs2, efer),
    VMS_U64(struct kvm_sregs2, apic_base),
    VMS_U64(struct kvm_sregs2, flags),
    VMS_U64_ARRAY(struct kvm_sregs2, pdptrs, 4),
    VMS_END,
};
#undef SEG

static const struct vmstate_desc sregs_vmsd = {
    .name = "sregs2",
    .version = 1,
    .fields = sregs_fields,
};

static const struct vmstate_field msr_fields[] = {
    VMS_U32(struct x86_state_msr, index),
    VMS_U64(struct x86_state_msr, value),
    VMS_END,
};

static const struct vmstate_desc msr_vmsd = {
    .name = "msr",
    .version = 1,
    .fields = msr_fields,
};

static const struct vmstate_field xcr_fields[] = {
    VMS_U32(struct kvm_xcr, xcr),
    VMS_U64(struct kvm_xcr, value),
    VMS_END,
};

static const struct vmstate_desc xcr_vmsd = {
    .name = "xcr",
    .version = 1,
    .fields = xcr_fields,
};

static const struct vmstate_field xcrs_fields[] = {
    VMS_U32(struct kvm_xcrs, nr_xcrs),
    VMS_U32(struct kvm_xcrs, flags),
    VMS_STRUCT_ARRAY(struct kvm_xcrs, xcrs, KVM_MAX_XCRS, &xcr_vmsd),
    VMS_END,
};

static const struct vmstate_desc xcrs_vmsd = {
    .name = "xcrs",
    .version = 1,
    .fields = xcrs_fields,
};

/* Every field of struct kvm_vcpu_events but the reserved bytes: NMI
 * (injected, pending, masked) and SMM (smm, pending, inside NMI, latched
 * INIT) included. */
#define EV(t, f) VMS_##t(struct kvm_vcpu_events, f)
static const struct vmstate_field events_fields[] = {
    EV(U8, exception.injected),
    EV(U8, exception.nr),
    EV(U8, exception.has_error_code),
    EV(U8, exception.pending),
    EV(U32, exception.error_code),
    EV(U8, exception_has_payload),
    EV(U64, exception_payload),
    EV(U8, interrupt.injected),
    EV(U8, interrupt.nr),
    EV(U8, interrupt.soft),
    EV(U8, interrupt.shadow),
    EV(U8, nmi.injected),
    EV(U8, nmi.pending),
    EV(U8, nmi.masked),
    EV(U32, sipi_vector),
    EV(U32, flags),
    EV(U8, smi.smm),
    EV(U8, smi.pending),
    EV(U8, smi.smm_inside_nmi),
    EV(U8, smi.latched_init),
    EV(U8, triple_fault.pending),
    VMS_END,
};
#undef EV

static const struct vmstate_desc events_vmsd = {
    .name = "vcpu-events",
    .version = 1,
    .fields = events_fields,
};

static const struct vmstate_field debugregs_fields[] = {
    VMS_U64_ARRAY(struct kvm_debugregs, db, 4),
    VMS_U64(struct kvm_debugregs, dr6),
    VMS_U64(struct kvm_debugregs, dr7),
    VMS_U64(struct kvm_debugregs, flags),
    VMS_END,
};

static const struct vmstate_desc debugregs_vmsd = {
    .name = "debugregs",
    .version = 1,
    .fields = debugregs_fields,
};

/* The LAPIC register page as KVM_GET_LAPIC gives it (1 KiB). */
static const struct vmstate_field lapic_fields[] = {
    VMS_BUFFER(struct kvm_lapic_state, regs),
    VMS_END,
};

static const struct vmstate_desc lapic_vmsd = {
    .name = "lapic",
    .version = 1,
    .fields = lapic_fields,
};

static const struct vmstate_field mp_fields[] = {
    VMS_U32(struct kvm_mp_state, mp_state),
    VMS_END,
};

static const struct vmstate_desc mp_vmsd = {
    .name = "mp-state",
    .version = 1,
    .fields = mp_fields,
};

/* The XSAVE area past the legacy 4 KiB (AMX tile data), only when the
 * source's KVM had one that big. */
static bool xsave_ext_needed(void *opaque)
{
    const struct x86_cpu_state *st = opaque;

    return st->xsave_size > X86_STATE_XSAVE_BASE;
}

static const struct vmstate_field xsave_ext_fields[] = {
    VMS_BUFFER(struct x86_cpu_state, xsave_ext),
    VMS_END,
};

static const struct vmstate_desc xsave_ext_vmsd = {
    .name = "xsave-ext",
    .version = 1,
    .fields = xsave_ext_fields,
    .needed = xsave_ext_needed,
};

static const struct vmstate_desc *const cpu_subsections[] = {
    &xsave_ext_vmsd,
    NULL,
};

/* What the stream alone can be checked for; the rest is checked against
 * the destination vCPU by x86_cpu_check_state. */
static bool cpu_post_load(void *opaque, Error **errp)
{
    const struct x86_cpu_state *st = opaque;

    if (st->nr_msrs > X86_STATE_MAX_MSRS) {
        error_setg(errp, "nr_msrs %" PRIu32 " exceeds %u", st->nr_msrs,
                   X86_STATE_MAX_MSRS);
        return false;
    }
    if (st->xsave_size < X86_STATE_XSAVE_BASE ||
        st->xsave_size > X86_STATE_XSAVE_MAX) {
        error_setg(errp, "xsave_size %" PRIu32 " outside %u..%u",
                   st->xsave_size, X86_STATE_XSAVE_BASE, X86_STATE_XSAVE_MAX);
        return false;
    }
    if (st->xcrs.nr_xcrs > KVM_MAX_XCRS) {
        error_setg(errp, "xcrs.nr_xcrs %" PRIu32 " exceeds %d",
                   st->xcrs.nr_xcrs, KVM_MAX_XCRS);
        return false;
    }
    if (st->mp.mp_state > KVM_MP_STATE_SUSPENDED) {
        error_setg(errp, "mp_state %" PRIu32 " is not a KVM MP state",
                   st->mp.mp_state);
        return false;
    }
    return true;
}

static const struct vmstate_field cpu_fields[] = {
    VMS_STRUCT(struct x86_cpu_state, regs, &regs_vmsd),
    VMS_STRUCT(struct x86_cpu_state, sregs, &sregs_vmsd),
    VMS_U32(struct x86_cpu_state, nr_msrs),
    VMS_STRUCT_ARRAY(struct x86_cpu_state, msrs, X86_STATE_MAX_MSRS, &msr_vmsd),
    VMS_U32(struct x86_cpu_state, xsave_size),
    VMS_BUFFER(struct x86_cpu_state, xsave),
    VMS_STRUCT(struct x86_cpu_state, xcrs, &xcrs_vmsd),
    VMS_STRUCT(struct x86_cpu_state, events, &events_vmsd),
    VMS_STRUCT(struct x86_cpu_state, dbg, &debugregs_vmsd),
    VMS_STRUCT(struct x86_cpu_state, lapic, &lapic_vmsd),
    VMS_STRUCT(struct x86_cpu_state, mp, &mp_vmsd),
    VMS_END,
};

const struct vmstate_desc x86_cpu_vmsd = {
    .name = "cpu",
    .version = 1,
    .fields = cpu_fields,
    .subsections = cpu_subsections,
    .post_load = cpu_post_load,
};

/* ---- savevm sections ---- */

/* A section body parsed into a new object of `size` bytes (post_load, if
 * any, only checks it); NULL with errp set if the body is refused. */
static void *stage_new(const struct vmstate_desc *d, size_t size,
                       const uint8_t *body, size_t len, Error **errp)
{
    void *obj = g_malloc0(size);
    size_t pos = 0;

    if (!vmstate_check(d, body, len, errp) ||
        !vmstate_load(d, obj, body, len, &pos, errp)) {
        g_free(obj);
        return NULL;
    }
    return obj;
}

static bool cpu_sv_save(void *opaque, GByteArray *out, Error **errp)
{
    struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);
    bool ok = x86_cpu_save_state(opaque, st, errp) &&
              vmstate_save(&x86_cpu_vmsd, st, out, errp);

    g_free(st);
    return ok;
}

/* Parsed into a private struct (post_load only checks it), then checked
 * against the destination vCPU; nothing reaches KVM here. */
static void *cpu_sv_stage(void *opaque, const uint8_t *body, size_t len,
                          Error **errp)
{
    struct x86_cpu_state *st =
        stage_new(&x86_cpu_vmsd, sizeof(*st), body, len, errp);

    if (st && !x86_cpu_check_state(opaque, st, errp)) {
        g_free(st);
        return NULL;
    }
    return st;
}

static bool cpu_sv_commit(void *opaque, void *staged, Error **errp)
{
    x86_cpu_load_state(opaque, staged);
    return true;
}

const struct savevm_ops x86_cpu_savevm_ops = {
    .version = 1,
    .save = cpu_sv_save,
    .stage = cpu_sv_stage,
    .commit = cpu_sv_commit,
    .free_staged = g_free,
};

/* ---- the KVM clock (KVM_GET/SET_CLOCK) ---- */

static const struct vmstate_field clock_fields[] = {
    VMS_U64(struct kvm_clock_data, clock),
    VMS_U32(struct kvm_clock_data, flags),
    VMS_END,
};

const struct vmstate_desc x86_kvmclock_vmsd = {
    .name = "kvmclock",
    .version = 1,
    .fields = clock_fields,
};

static bool clock_sv_save(void *opaque, GByteArray *out, Error **errp)
{
    struct kvm_accel *k = opaque;
    struct kvm_clock_data d = {0};
    int r = kvm_ioctl(k, k->vm_fd, KVM_GET_CLOCK, &d);

    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_GET_CLOCK failed");
        return false;
    }
    return vmstate_save(&x86_kvmclock_vmsd, &d, out, errp);
}

static void *clock_sv_stage(void *opaque, const uint8_t *body, size_t len,
                            Error **errp)
{
    return stage_new(&x86_kvmclock_vmsd, sizeof(struct kvm_clock_data), body,
                     len, errp);
}

/* The guest's clock continues from the saved value: no jump forward by
 * the time the VM spent stopped or on the wire (QEMU does the same unless
 * told to account for it). */
static bool clock_sv_commit(void *opaque, void *staged, Error **errp)
{
    struct kvm_accel *k = opaque;
    struct kvm_clock_data d = {.clock =
                                   ((struct kvm_clock_data *)staged)->clock};
    int r = kvm_ioctl(k, k->vm_fd, KVM_SET_CLOCK, &d);

    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_SET_CLOCK failed");
        return false;
    }
    return true;
}

const struct savevm_ops x86_kvmclock_savevm_ops = {
    .version = 1,
    .save = clock_sv_save,
    .stage = clock_sv_stage,
    .commit = clock_sv_commit,
    .free_staged = g_free,
};

/* ---- the in-kernel irqchip and PIT (kernel-irqchip=on) ---- */

/* KVM's own structs, carried as they are: their layout is KVM ABI. */
struct x86_kvm_irqchip_state {
    uint8_t pic_master[512];
    uint8_t pic_slave[512];
    uint8_t ioapic[512];
    uint8_t pit[sizeof(struct kvm_pit_state2)];
};

static const struct vmstate_field irqchip_fields[] = {
    VMS_BUFFER(struct x86_kvm_irqchip_state, pic_master),
    VMS_BUFFER(struct x86_kvm_irqchip_state, pic_slave),
    VMS_BUFFER(struct x86_kvm_irqchip_state, ioapic),
    VMS_BUFFER(struct x86_kvm_irqchip_state, pit),
    VMS_END,
};

const struct vmstate_desc x86_kvm_irqchip_vmsd = {
    .name = "kvm-irqchip",
    .version = 1,
    .fields = irqchip_fields,
};

static bool irqchip_xfer(struct kvm_accel *k, struct x86_kvm_irqchip_state *s,
                         bool set, Error **errp)
{
    uint8_t *chips[3] = {s->pic_master, s->pic_slave, s->ioapic};
    unsigned long req = set ? KVM_SET_IRQCHIP : KVM_GET_IRQCHIP;
    int r;

    for (uint32_t id = 0; id < 3; id++) {
        struct kvm_irqchip c = {.chip_id = id};

        if (set) {
            memcpy(c.chip.dummy, chips[id], 512);
        }
        r = kvm_ioctl(k, k->vm_fd, req, &c);
        if (r < 0) {
            error_setg_errno(errp, -r, "%s (chip %" PRIu32 ") failed",
                             kvm_ioctl_name(req), id);
            return false;
        }
        if (!set) {
            memcpy(chips[id], c.chip.dummy, 512);
        }
    }
    req = set ? KVM_SET_PIT2 : KVM_GET_PIT2;
    r = kvm_ioctl(k, k->vm_fd, req, s->pit);
    if (r < 0) {
        error_setg_errno(errp, -r, "%s failed", kvm_ioctl_name(req));
        return false;
    }
    return true;
}

static bool irqchip_sv_save(void *opaque, GByteArray *out, Error **errp)
{
    struct x86_kvm_irqchip_state *s = g_new0(struct x86_kvm_irqchip_state, 1);
    bool ok = irqchip_xfer(opaque, s, false, errp) &&
              vmstate_save(&x86_kvm_irqchip_vmsd, s, out, errp);

    g_free(s);
    return ok;
}

static void *irqchip_sv_stage(void *opaque, const uint8_t *body, size_t len,
                              Error **errp)
{
    return stage_new(&x86_kvm_irqchip_vmsd,
                     sizeof(struct x86_kvm_irqchip_state), body, len, errp);
}

static bool irqchip_sv_commit(void *opaque, void *staged, Error **errp)
{
    return irqchip_xfer(opaque, staged, true, errp);
}

const struct savevm_ops x86_kvm_irqchip_savevm_ops = {
    .version = 1,
    .save = irqchip_sv_save,
    .stage = irqchip_sv_stage,
    .commit = irqchip_sv_commit,
    .free_staged = g_free,
};
