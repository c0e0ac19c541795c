/* SPDX-License-Identifier: MIT */
/*
 * exit.c: the pure decoder of struct kvm_run.  It turns one KVM exit into
 * device accesses (port I/O, MMIO through the machine's address spaces)
 * and an exit_action for the vCPU loop.  It makes no ioctl, so unit tests
 * feed it hand-built kvm_run structs.  An exit we do not know stops the VM
 * with a reason; it is never ignored.
 */
#include "util/common.h"
#include "accel/kvm/vcpu.h"
#include "accel/kvm/kvm.h"
#include "system/memory.h"

const char *kvm_exit_reason_name(uint32_t reason)
{
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "UNKNOWN",
        [KVM_EXIT_EXCEPTION] = "EXCEPTION",
        [KVM_EXIT_IO] = "IO",
        [KVM_EXIT_HYPERCALL] = "HYPERCALL",
        [KVM_EXIT_DEBUG] = "DEBUG",
        [KVM_EXIT_HLT] = "HLT",
        [KVM_EXIT_MMIO] = "MMIO",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
        [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
        [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
        [KVM_EXIT_INTR] = "INTR",
        [KVM_EXIT_SET_TPR] = "SET_TPR",
        [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
        [KVM_EXIT_NMI] = "NMI",
        [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
        [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
        [KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
        [KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
        [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
        [KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
    };

    if (reason < ARRAY_SIZE(names) && names[reason]) {
        return names[reason];
    }
    return "unknown";
}

static enum exit_action fatal(struct vcpu *cpu, char *reason)
{
    g_free(cpu->fatal_reason);
    cpu->fatal_reason = reason;
    return EXIT_FATAL;
}

static enum exit_action handle_io(struct vcpu *cpu, struct kvm_run *run)
{
    const struct vcpu_env *env = cpu->env;
    size_t map = env->kvm ? (size_t)env->kvm->vcpu_mmap_size : sizeof(*run);
    unsigned size = run->io.size;
    uint64_t total = (uint64_t)size * run->io.count;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    /* The kernel fills these, but a corrupted run page must not make us
     * read outside the mapping. */
    if ((size != 1 && size != 2 && size != 4) || run->io.count == 0 ||
        run->io.data_offset < sizeof(*run) || run->io.data_offset > map ||
        total > map - run->io.data_offset) {
        return fatal(cpu,
                     g_strdup_printf("malformed KVM_EXIT_IO: port 0x%x size %u "
                                     "count %u offset 0x%llx",
                                     run->io.port, size, run->io.count,
                                     (unsigned long long)run->io.data_offset));
    }
    for (uint32_t i = 0; i < run->io.count; i++) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            as_write(env->pio, run->io.port, data, size);
        } else {
            as_read(env->pio, run->io.port, data, size);
        }
        data += size;
    }
    return EXIT_CONTINUE;
}

static enum exit_action handle_mmio(struct vcpu *cpu, struct kvm_run *run)
{
    unsigned len = run->mmio.len;

    if (len == 0 || len > sizeof(run->mmio.data)) {
        return fatal(
            cpu, g_strdup_printf("malformed KVM_EXIT_MMIO: len %u at 0x%llx",
                                 len, (unsigned long long)run->mmio.phys_addr));
    }
    if (run->mmio.is_write) {
        as_write(cpu->env->mmio, run->mmio.phys_addr, run->mmio.data, len);
    } else {
        as_read(cpu->env->mmio, run->mmio.phys_addr, run->mmio.data, len);
    }
    return EXIT_CONTINUE;
}

/* Linux 6.8; Debian 12's headers predate it. */
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif

/* A guest_memfd VM (SEV-SNP) accessed a page as private while it is
 * shared, or the reverse: the board converts it and the vCPU retries. */
static enum exit_action handle_memory_fault(struct vcpu *cpu,
                                            struct kvm_run *run)
{
    const struct vcpu_env *env = cpu->env;
    Error *err = NULL;
    char *why;

    if (!env->memory_fault) {
        return fatal(cpu, g_strdup("KVM_EXIT_MEMORY_FAULT on a VM without "
                                   "private memory"));
    }
    if (env->memory_fault(env->opaque, run, &err)) {
        return EXIT_CONTINUE;
    }
    why = g_strdup_printf("KVM_EXIT_MEMORY_FAULT: %s", error_get_pretty(err));
    error_free(err);
    return fatal(cpu, why);
}

static enum exit_action handle_system_event(struct vcpu *cpu,
                                            struct kvm_run *run)
{
    switch (run->system_event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        return EXIT_SHUTDOWN;
    case KVM_SYSTEM_EVENT_RESET:
        return EXIT_RESET;
    case KVM_SYSTEM_EVENT_CRASH:
        return fatal(cpu, g_strdup("guest crashed (KVM_SYSTEM_EVENT_CRASH)"));
    default:
        return fatal(cpu, g_strdup_printf("unknown KVM system event %u",
                                          run->system_event.type));
    }
}

static enum exit_action handle_internal_error(struct vcpu *cpu,
                                              struct kvm_run *run)
{
    GString *s = g_string_new(NULL);
    uint32_t n =
        MIN(run->internal.ndata, (uint32_t)ARRAY_SIZE(run->internal.data));

    g_string_append_printf(s, "KVM internal error. Suberror: %u",
                           run->internal.suberror);
    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
        g_string_append(s, " (emulation failure)");
    }
    for (uint32_t i = 0; i < n; i++) {
        g_string_append_printf(s, "\nextra data[%u]: 0x%016llx", i,
                               (unsigned long long)run->internal.data[i]);
    }
    return fatal(cpu, g_string_free(s, FALSE));
}

enum exit_action kvm_exit_dispatch(struct vcpu *cpu, struct kvm_run *run)
{
    cpu->exits++;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        return handle_io(cpu, run);
    case KVM_EXIT_MMIO:
        return handle_mmio(cpu, run);
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        return EXIT_CONTINUE;
    case KVM_EXIT_IOAPIC_EOI:
        /* Split irqchip: a LAPIC EOI'd a level-triggered IOAPIC vector. */
        if (cpu->env->kvm) {
            kvm_ioapic_eoi(cpu->env->kvm, run->eoi.vector);
        }
        return EXIT_CONTINUE;
    case KVM_EXIT_HLT:
        /* Only without an in-kernel LAPIC; nothing can wake the vCPU from
         * userspace then, so park it until the machine is reset. */
        return EXIT_PAUSE;
    case KVM_EXIT_SHUTDOWN:
        /* Triple fault: the platform resets (or exits with -no-reboot). */
        return EXIT_RESET;
    case KVM_EXIT_SYSTEM_EVENT:
        return handle_system_event(cpu, run);
    case KVM_EXIT_DEBUG:
        /* No debugger attached: stop the vCPU rather than spin. */
        return EXIT_PAUSE;
    case KVM_EXIT_INTERNAL_ERROR:
        return handle_internal_error(cpu, run);
    case KVM_EXIT_MEMORY_FAULT:
        return handle_memory_fault(cpu, run);
    case KVM_EXIT_FAIL_ENTRY:
        return fatal(cpu,
                     g_strdup_printf("KVM: entry failed, hardware error 0x%llx",
                                     (unsigned long long)run->fail_entry
                                         .hardware_entry_failure_reason));
    default:
        return fatal(cpu,
                     g_strdup_printf("unhandled KVM exit reason %u (%s)",
                                     run->exit_reason,
                                     kvm_exit_reason_name(run->exit_reason)));
    }
}
