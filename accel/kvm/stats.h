/* SPDX-License-Identifier: MIT */
/*
 * stats.h: KVM's binary statistics (KVM_GET_STATS_FD on the VM fd or a
 * vCPU fd, Linux 5.14): a header, one descriptor per statistic (name,
 * type/unit/base flags, exponent, number of u64 values, bucket size) and
 * the values.  query-stats reports them as QEMU does (qapi/schema/
 * stats.json).  Everything read from the fd is checked: a short read or
 * an offset or size out of range is an error, never a read past a buffer.
 */
#ifndef ACCEL_KVM_STATS_H
#define ACCEL_KVM_STATS_H

#include "accel/kvm/kvm.h"

struct kvm_stat {
    char *name;
    uint32_t flags; /* KVM_STATS_TYPE_* | KVM_STATS_UNIT_* | KVM_STATS_BASE_* */
    int16_t exponent;
    uint32_t bucket_size;
    uint16_t size;    /* number of values */
    uint64_t *values; /* `size` of them */
};

/* Reads every statistic of a statistics fd: a GPtrArray of struct
 * kvm_stat (freeing it frees them), NULL with errp set. */
GPtrArray *kvm_stats_parse(int stats_fd, Error **errp);
/* A vCPU's statistics fd (KVM_GET_STATS_FD on vcpu_fd), -1 when KVM has
 * none; take it before the vCPU first runs (struct vcpu.stats_fd). */
int kvm_stats_vcpu_fd(struct kvm_accel *k, int vcpu_fd);
/* The VM's (KVM_GET_STATS_FD on the VM fd, which never waits for a vCPU);
 * a vCPU's fd is taken at its creation (struct vcpu.stats_fd). */
GPtrArray *kvm_stats_read_vm(struct kvm_accel *k, Error **errp);

#endif
