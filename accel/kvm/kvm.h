/* SPDX-License-Identifier: MIT */
/*
 * kvm.h: the KVM accelerator: /dev/kvm, the VM fd, capabilities, memory
 * slots, in-kernel irqchip and PIT, IRQ lines.
 *
 * Every ioctl goes through kvm_ioctl(), which dispatches to a backend: the
 * real one calls ioctl(2); unit tests install a fake backend (see
 * tests/unit/fake-kvm.h) to model what this machine's KVM cannot do (SEV,
 * SMM, error injection).  Thin wrappers return -errno; their first caller
 * turns that into an Error with the ioctl named.
 */
#ifndef ACCEL_KVM_KVM_H
#define ACCEL_KVM_KVM_H

#include "util/common.h"
#include "util/error.h"

#include <linux/kvm.h>

struct guest_mem;

struct kvm_backend {
    /* Returns the ioctl's non-negative result or -errno. */
    int (*ioctl)(void *opaque, int fd, unsigned long req, void *arg);
    void *opaque;
};

struct kvm_accel {
    const struct kvm_backend *be;
    int sys_fd;
    int vm_fd;
    int vcpu_mmap_size;
    int nr_slots; /* KVM_CAP_NR_MEMSLOTS */
    int next_slot;
    bool has_sregs2;
    bool has_xsave2;
    int xsave2_size; /* KVM_CAP_XSAVE2 value, bytes */
    bool has_xcrs;
    bool has_debugregs;
    bool has_vcpu_events;
    bool has_immediate_exit;
    bool has_readonly_mem;
    bool has_tsc_deadline;
    bool has_x2apic_api;
    struct kvm_cpuid2 *supported_cpuid;  /* KVM_GET_SUPPORTED_CPUID */
    struct kvm_msr_list *msr_index_list; /* KVM_GET_MSR_INDEX_LIST */
};

/* The real backend (ioctl(2)). */
extern const struct kvm_backend kvm_real_backend;

int kvm_ioctl(struct kvm_accel *k, int fd, unsigned long req, void *arg);
/* Name of a KVM ioctl for messages, e.g. "KVM_SET_SREGS2". */
const char *kvm_ioctl_name(unsigned long req);

/* Opens /dev/kvm (be == NULL: real), checks the API version and every
 * capability vireo uses, creates the VM, the irqchip and the PIT. */
struct kvm_accel *kvm_accel_new(const struct kvm_backend *be, Error **errp);
void kvm_accel_free(struct kvm_accel *k);
int kvm_check_extension(struct kvm_accel *k, long cap);

/* Registers every region of gm with KVM (ROM read-only). */
bool kvm_set_memory(struct kvm_accel *k, struct guest_mem *gm, Error **errp);
/* Turns dirty logging on/off on every RAM slot. */
bool kvm_set_dirty_logging(struct kvm_accel *k, struct guest_mem *gm, bool on,
                           Error **errp);

/* Raises or lowers a GSI of the in-kernel irqchip.  Safe from any thread. */
bool kvm_set_irq(struct kvm_accel *k, unsigned gsi, bool level);
/* Creates a vCPU fd and maps its kvm_run; returns fd or -errno. */
int kvm_create_vcpu(struct kvm_accel *k, unsigned index, struct kvm_run **run,
                    Error **errp);

#endif
