/* SPDX-License-Identifier: MIT */
/*
 * sev.h: launching an SEV, SEV-ES or SEV-SNP guest through KVM the way
 * QEMU does (target/i386/sev.c of 7.2 for SEV/SEV-ES, 9.1 for SNP), and
 * the platform checks that come before any guest memory is touched.
 *
 * Order (Linux Documentation/virt/kvm/x86/amd-memory-encryption.rst):
 *   sev_host_check            /dev/sev answers PLATFORM_STATUS (no KVM yet)
 *   sev_guest_new             KVM has SEV (and the VM type), KVM_SEV_INIT2
 *                             or KVM_SEV_INIT / KVM_SEV_ES_INIT
 *   sev_launch_start          LAUNCH_START / SNP_LAUNCH_START
 *   sev_launch_update         firmware (+ kernel hashes), SEV-ES VMSAs;
 *                             SNP: private memory, pages per OVMF metadata
 *   sev_launch_measure        LAUNCH_MEASURE (SEV/SEV-ES)
 *   sev_inject_secret         LAUNCH_SECRET (optional, QMP)
 *   sev_launch_finish         LAUNCH_FINISH / SNP_LAUNCH_FINISH (ID block)
 * Main thread only.
 */
#ifndef SEV_SEV_H
#define SEV_SEV_H

#include "util/common.h"
#include "util/error.h"
#include "accel/kvm/kvm.h"
#include "sev/measure.h"
#include "sev/sev-config.h"

struct x86_cpu;
struct x86_cpu_model;
struct guest_mem;
struct machine;

/* The guest's state as the SEV API names it (query-sev "state"). */
enum sev_state {
    SEV_STATE_UNINIT = 0,
    SEV_STATE_LAUNCH_UPDATE,
    SEV_STATE_LAUNCH_SECRET,
    SEV_STATE_RUNNING,
};
const char *sev_state_name(enum sev_state s);

struct sev_platform_info {
    uint8_t api_major, api_minor, build;
    uint32_t flags;
    uint32_t cbitpos;           /* CPUID 0x8000001F EBX[5:0] */
    uint32_t reduced_phys_bits; /* CPUID 0x8000001F EBX[11:6] */
};

struct sev_guest {
    const struct sev_config *cfg;
    struct kvm_accel *k;
    const struct kvm_backend *be;
    int sev_fd;
    bool own_fd; /* opened here: closed by sev_guest_free */
    enum sev_state state;
    bool init2; /* KVM_SEV_INIT2 was used (typed VM) */
    uint32_t handle;
    struct sev_platform_info plat;
    struct sev_ovmf ovmf;
    GArray *gmem_fds; /* int: SNP guest_memfd per memory slot */
    /* LAUNCH_MEASURE's output (MEASURE || MNONCE), for QMP */
    uint8_t measurement[48];
    size_t measurement_len;
};

/* The host's CPUID 0x8000001F EBX: C-bit position and the physical
 * address bits encryption costs (zeros on a CPU without the leaf). */
void sev_host_cbit(uint32_t *cbitpos, uint32_t *reduced_phys_bits);

/* /dev/sev exists, opens, and PLATFORM_STATUS answers; the C-bit and
 * reduced-phys-bits asked for match the platform (be NULL: the real host,
 * `path` then "/dev/sev").  Runs before /dev/kvm is opened. */
bool sev_host_check(const struct sev_config *cfg, const struct kvm_backend *be,
                    const char *path, int *sev_fd,
                    struct sev_platform_info *info, Error **errp);

/* The KVM_CREATE_VM type for this guest (KVM_X86_SEV_VM, _SEV_ES_VM,
 * _SNP_VM), used when KVM offers it. */
unsigned long sev_vm_type(const struct sev_config *cfg);

/* KVM has SEV and the VM type; initialises the SEV context. */
struct sev_guest *sev_guest_new(const struct sev_config *cfg,
                                struct kvm_accel *k, int sev_fd, bool own_fd,
                                const struct sev_platform_info *info,
                                Error **errp);
void sev_guest_free(struct sev_guest *g);

/* CPUID 0x8000001F for the guest's vCPUs (before they are created): SEV
 * (bit 1), SEV-ES (bit 3), SNP (bit 4); the C-bit and reduced physical
 * address bits as the platform reports them. */
void sev_cpu_model_setup(const struct sev_guest *g,
                         struct x86_cpu_model *model);

/* SNP: backs every memory slot of gm with a guest_memfd (slot i is
 * region i, as accel/kvm numbers them): the slot is deleted and created
 * again with KVM_SET_USER_MEMORY_REGION2.  The firmware loses
 * KVM_MEM_READONLY (KVM refuses it with guest_memfd, as for QEMU).
 * Called by sev_launch_update before the first SNP_LAUNCH_UPDATE. */
bool sev_snp_private_memory(struct sev_guest *g, struct guest_mem *gm,
                            Error **errp);

bool sev_launch_start(struct sev_guest *g, Error **errp);
/* fw: the firmware's host buffer (mapped at 4 GiB - fw_size); gm: guest
 * RAM (SNP metadata sections, kernel hashes); hashes: NULL or the table of
 * sev_hashes_table_build; cpus: the vCPUs in reset state. */
bool sev_launch_update(struct sev_guest *g, uint8_t *fw, size_t fw_size,
                       struct guest_mem *gm, const uint8_t *hashes,
                       struct x86_cpu **cpus, unsigned nr_cpus, Error **errp);
bool sev_launch_measure(struct sev_guest *g, Error **errp);
/* LAUNCH_SECRET: hdr and secret as given by the guest owner, written at
 * gpa (which must be guest RAM). */
bool sev_inject_secret(struct sev_guest *g, struct guest_mem *gm,
                       const uint8_t *hdr, size_t hdr_len,
                       const uint8_t *secret, size_t secret_len, uint64_t gpa,
                       Error **errp);
bool sev_launch_finish(struct sev_guest *g, struct x86_cpu **cpus,
                       unsigned nr_cpus, Error **errp);

/* KVM_SEV_GET_ATTESTATION_REPORT (SEV/SEV-ES) over a 16-byte nonce;
 * the report in base64. */
char *sev_attestation_report(struct sev_guest *g, const uint8_t mnonce[16],
                             Error **errp);

/* HMP `info sev` (sev-qmp.c). */
void hmp_info_sev(struct machine *m, const char *args, int64_t cpu,
                  GString *out);

/* KVM_EXIT_MEMORY_FAULT (SNP, guest_memfd): the guest asked for
 * [gpa, gpa+size) to be private (flag KVM_MEMORY_EXIT_FLAG_PRIVATE) or
 * shared; converts it with KVM_SET_MEMORY_ATTRIBUTES.  Guest-controlled
 * range: checked for alignment, size and overflow.  The exit loop of
 * accel/kvm is to call it (not wired yet). */
bool sev_handle_memory_fault(struct sev_guest *g, const struct kvm_run *run,
                             Error **errp);

/* Migration of an SEV guest is refused (vireo implements no SEND_* flow):
 * true with errp set when `g` is an SEV guest. */
bool sev_migration_blocked(const struct sev_guest *g, Error **errp);

/* The machine's use of the above (hw/core/machine.c): the host check
 * before /dev/kvm, the SEV context after the VM exists, and the launch
 * once firmware and vCPUs are in place (finished at once unless -S: then
 * on the first `cont`, so the guest owner can read the measurement and
 * inject a secret first). */
bool sev_machine_check(struct machine *m, Error **errp);
bool sev_machine_init(struct machine *m, Error **errp);
bool sev_machine_launch(struct machine *m, Error **errp);
/* LAUNCH_FINISH if the launch is not finished yet (true when no SEV). */
bool sev_machine_finish(struct machine *m, Error **errp);
void sev_machine_free(struct machine *m);
/* False for SEV-ES and SEV-SNP guests: their encrypted vCPU state cannot
 * be reset (QEMU's cpus_are_resettable()). */
bool sev_cpus_resettable(const struct machine *m);

#endif
