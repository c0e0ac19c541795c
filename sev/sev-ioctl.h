/* SPDX-License-Identifier: MIT */
/*
 * sev-ioctl.h: thin wrappers around KVM_MEMORY_ENCRYPT_OP (the SEV
 * commands KVM forwards to the AMD secure processor) and /dev/sev's
 * SEV_ISSUE_CMD, plus the uapi of Linux >= 6.11 (KVM_SEV_INIT2, the SNP
 * launch commands, guest_memfd, memory attributes) that this machine's
 * 6.1 headers lack.  Linux Documentation/virt/kvm/x86/amd-memory-
 * encryption.rst; SEV API spec 56860 (status codes, chapter 4.4).
 */
#ifndef SEV_SEV_IOCTL_H
#define SEV_SEV_IOCTL_H

#include "util/common.h"
#include "util/error.h"
#include "accel/kvm/kvm.h"

#include <linux/psp-sev.h>

/* enum sev_cmd_id values (include/uapi/linux/kvm.h, arch/x86 since 6.10). */
#define SEV_CMD_INIT 0
#define SEV_CMD_ES_INIT 1
#define SEV_CMD_LAUNCH_START 2
#define SEV_CMD_LAUNCH_UPDATE_DATA 3
#define SEV_CMD_LAUNCH_UPDATE_VMSA 4
#define SEV_CMD_LAUNCH_SECRET 5
#define SEV_CMD_LAUNCH_MEASURE 6
#define SEV_CMD_LAUNCH_FINISH 7
#define SEV_CMD_GUEST_STATUS 16
#define SEV_CMD_GET_ATTESTATION_REPORT 20
#define SEV_CMD_INIT2 22
#define SEV_CMD_SNP_LAUNCH_START 100
#define SEV_CMD_SNP_LAUNCH_UPDATE 101
#define SEV_CMD_SNP_LAUNCH_FINISH 102

/* KVM_CREATE_VM types and the capability listing them. */
#define SEV_KVM_CAP_VM_TYPES 235
#define SEV_KVM_X86_SEV_VM 2
#define SEV_KVM_X86_SEV_ES_VM 3
#define SEV_KVM_X86_SNP_VM 4

/* guest_memfd and private memory (Linux 6.8). */
#define SEV_KVM_CAP_MEMORY_ATTRIBUTES 233
#define SEV_KVM_CAP_GUEST_MEMFD 234
#define SEV_KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)
#define SEV_KVM_EXIT_MEMORY_FAULT 39
#define SEV_KVM_MEMORY_EXIT_FLAG_PRIVATE (1ULL << 3)
/* kvm_run's exit union member for KVM_EXIT_MEMORY_FAULT (Linux 6.8). */
struct sev_kvm_memory_fault {
    uint64_t flags;
    uint64_t gpa;
    uint64_t size;
};

struct sev_kvm_create_guest_memfd {
    uint64_t size;
    uint64_t flags;
    uint64_t reserved[6];
};
struct sev_kvm_memory_attributes {
    uint64_t address;
    uint64_t size;
    uint64_t attributes;
    uint64_t flags;
};
#define SEV_KVM_CAP_USER_MEMORY2 231
#define SEV_KVM_MEM_GUEST_MEMFD (1u << 2)
struct sev_kvm_userspace_memory_region2 {
    uint32_t slot;
    uint32_t flags;
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t guest_memfd_offset;
    uint32_t guest_memfd;
    uint32_t pad1;
    uint64_t pad2[14];
};
#define SEV_KVM_SET_USER_MEMORY_REGION2                                        \
    _IOW(KVMIO, 0x49, struct sev_kvm_userspace_memory_region2)
#define SEV_KVM_CREATE_GUEST_MEMFD                                             \
    _IOWR(KVMIO, 0xd4, struct sev_kvm_create_guest_memfd)
#define SEV_KVM_SET_MEMORY_ATTRIBUTES                                          \
    _IOW(KVMIO, 0xd2, struct sev_kvm_memory_attributes)

/* struct kvm_sev_init (KVM_SEV_INIT2). */
struct sev_kvm_init {
    uint64_t vmsa_features;
    uint32_t flags;
    uint16_t ghcb_version;
    uint16_t pad1;
    uint32_t pad2[8];
};

struct sev_kvm_snp_launch_start {
    uint64_t policy;
    uint8_t gosvw[16];
    uint16_t flags;
    uint8_t pad0[6];
    uint64_t pad1[4];
};

struct sev_kvm_snp_launch_update {
    uint64_t gfn_start;
    uint64_t uaddr;
    uint64_t len;
    uint8_t type;
    uint8_t pad0;
    uint16_t flags;
    uint32_t pad1;
    uint64_t pad2[4];
};

struct sev_kvm_snp_launch_finish {
    uint64_t id_block_uaddr;
    uint64_t id_auth_uaddr;
    uint8_t id_block_en;
    uint8_t auth_key_en;
    uint8_t vcek_disabled;
    uint8_t host_data[32];
    uint8_t pad0[3];
    uint16_t flags;
    uint64_t pad1[4];
};

/* The firmware's status code by its spec name ("POLICY_FAILURE"). */
const char *sev_fw_error_name(uint32_t code);

/* KVM_MEMORY_ENCRYPT_OP on the VM fd.  Returns 0 or -errno; *fw_error is
 * the firmware's status (0 when the kernel failed before the firmware).
 * Sets errp naming the command and, when the firmware failed, its status
 * by name. */
int sev_kvm_op(struct kvm_accel *k, uint32_t cmd, void *data, int sev_fd,
               uint32_t *fw_error, Error **errp);
const char *sev_kvm_cmd_name(uint32_t cmd);

/* SEV_ISSUE_CMD on /dev/sev (PLATFORM_STATUS, PDH_CERT_EXPORT, ...). */
int sev_dev_cmd(const struct kvm_backend *be, int sev_fd, uint32_t cmd,
                void *data, uint32_t *fw_error);

#endif
