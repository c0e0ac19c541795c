/* SPDX-License-Identifier: MIT */
/*
 * sev-ioctl.c: the thin SEV wrappers of sev-ioctl.h.  Every call goes
 * through the KVM backend so unit tests can model an SEV platform
 * (tests/unit/fake-kvm.c); errors name the command and the firmware's
 * status code as SEV API spec 56860 table "Status codes" spells it.
 */
#include "util/common.h"
#include "sev/sev-ioctl.h"

static const char *const fw_errors[] = {
    [0x00] = "SUCCESS",
    [0x01] = "INVALID_PLATFORM_STATE",
    [0x02] = "INVALID_GUEST_STATE",
    [0x03] = "INVALID_CONFIG",
    [0x04] = "INVALID_LENGTH",
    [0x05] = "ALREADY_OWNED",
    [0x06] = "INVALID_CERTIFICATE",
    [0x07] = "POLICY_FAILURE",
    [0x08] = "INACTIVE",
    [0x09] = "INVALID_ADDRESS",
    [0x0a] = "BAD_SIGNATURE",
    [0x0b] = "BAD_MEASUREMENT",
    [0x0c] = "ASID_OWNED",
    [0x0d] = "INVALID_ASID",
    [0x0e] = "WBINVD_REQUIRED",
    [0x0f] = "DF_FLUSH_REQUIRED",
    [0x10] = "INVALID_GUEST",
    [0x11] = "INVALID_COMMAND",
    [0x12] = "ACTIVE",
    [0x13] = "HWERROR_PLATFORM",
    [0x14] = "HWERROR_UNSAFE",
    [0x15] = "UNSUPPORTED",
    [0x16] = "INVALID_PARAM",
    [0x17] = "RESOURCE_LIMIT",
    [0x18] = "SECURE_DATA_INVALID",
    [0x19] = "INVALID_PAGE_SIZE",
    [0x1a] = "INVALID_PAGE_STATE",
    [0x1b] = "INVALID_MDATA_ENTRY",
    [0x1c] = "INVALID_PAGE_OWNER",
    [0x1d] = "AEAD_OFLOW",
    [0x1f] = "EXIT_RING_BUFFER",
    [0x20] = "RMP_INIT_REQUIRED",
    [0x21] = "BAD_SVN",
    [0x22] = "BAD_VERSION",
    [0x23] = "SHUTDOWN_REQUIRED",
    [0x24] = "UPDATE_FAILED",
    [0x25] = "RESTORE_REQUIRED",
    [0x26] = "RMP_INITIALIZATION_FAILED",
    [0x27] = "INVALID_KEY",
};

const char *sev_fw_error_name(uint32_t code)
{
    if (code < ARRAY_SIZE(fw_errors) && fw_errors[code]) {
        return fw_errors[code];
    }
    return "unknown status";
}

const char *sev_kvm_cmd_name(uint32_t cmd)
{
    switch (cmd) {
    case SEV_CMD_INIT:
        return "KVM_SEV_INIT";
    case SEV_CMD_ES_INIT:
        return "KVM_SEV_ES_INIT";
    case SEV_CMD_LAUNCH_START:
        return "KVM_SEV_LAUNCH_START";
    case SEV_CMD_LAUNCH_UPDATE_DATA:
        return "KVM_SEV_LAUNCH_UPDATE_DATA";
    case SEV_CMD_LAUNCH_UPDATE_VMSA:
        return "KVM_SEV_LAUNCH_UPDATE_VMSA";
    case SEV_CMD_LAUNCH_SECRET:
        return "KVM_SEV_LAUNCH_SECRET";
    case SEV_CMD_LAUNCH_MEASURE:
        return "KVM_SEV_LAUNCH_MEASURE";
    case SEV_CMD_LAUNCH_FINISH:
        return "KVM_SEV_LAUNCH_FINISH";
    case SEV_CMD_GUEST_STATUS:
        return "KVM_SEV_GUEST_STATUS";
    case SEV_CMD_GET_ATTESTATION_REPORT:
        return "KVM_SEV_GET_ATTESTATION_REPORT";
    case SEV_CMD_INIT2:
        return "KVM_SEV_INIT2";
    case SEV_CMD_SNP_LAUNCH_START:
        return "KVM_SEV_SNP_LAUNCH_START";
    case SEV_CMD_SNP_LAUNCH_UPDATE:
        return "KVM_SEV_SNP_LAUNCH_UPDATE";
    case SEV_CMD_SNP_LAUNCH_FINISH:
        return "KVM_SEV_SNP_LAUNCH_FINISH";
    }
    return "KVM_SEV_(unknown)";
}

int sev_kvm_op(struct kvm_accel *k, uint32_t cmd, void *data, int sev_fd,
               uint32_t *fw_error, Error **errp)
{
    struct kvm_sev_cmd c = {
        .id = cmd,
        .data = (uint64_t)(uintptr_t)data,
        .sev_fd = sev_fd,
    };
    int r = kvm_ioctl(k, k->vm_fd, KVM_MEMORY_ENCRYPT_OP, &c);

    *fw_error = c.error;
    if (r < 0) {
        if (c.error) {
            error_setg(errp, "%s failed: firmware error %s (0x%x)",
                       sev_kvm_cmd_name(cmd), sev_fw_error_name(c.error),
                       c.error);
        } else {
            error_setg_errno(errp, -r, "%s failed", sev_kvm_cmd_name(cmd));
        }
    }
    return r;
}

int sev_dev_cmd(const struct kvm_backend *be, int sev_fd, uint32_t cmd,
                void *data, uint32_t *fw_error)
{
    struct sev_issue_cmd c = {.cmd = cmd, .data = (uint64_t)(uintptr_t)data};
    int r = be->ioctl(be->opaque, sev_fd, SEV_ISSUE_CMD, &c);

    *fw_error = c.error;
    return r;
}
