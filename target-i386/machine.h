/* SPDX-License-Identifier: MIT */
/*
 * machine.h: the x86 state sections of a migration stream that are not
 * device vmstates: each vCPU (opaque: struct x86_cpu), the KVM clock and
 * the in-kernel irqchip + PIT (opaque: struct kvm_accel).  See
 * target-i386/machine.c and migration/savevm.h.
 */
#ifndef TARGET_I386_MACHINE_H
#define TARGET_I386_MACHINE_H

#include "util/common.h"

struct savevm_ops;
struct vmstate_desc;

extern const struct savevm_ops x86_cpu_savevm_ops;
extern const struct savevm_ops x86_kvmclock_savevm_ops;
extern const struct savevm_ops x86_kvm_irqchip_savevm_ops;
extern const struct vmstate_desc x86_kvmclock_vmsd;
extern const struct vmstate_desc x86_kvm_irqchip_vmsd;

#endif
