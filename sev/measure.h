/* SPDX-License-Identifier: MIT */
/*
 * measure.h: the launch digest of an SEV, SEV-ES or SEV-SNP guest, computed
 * without a platform, and the parts of OVMF it depends on (the GUIDed footer
 * table, the SEV-ES reset block, the SEV metadata sections).  AMD SEV API
 * spec (56860) 6.5 LAUNCH_MEASURE; SEV-SNP ABI spec (56860/56421) 8.17
 * SNP_LAUNCH_UPDATE, PAGE_INFO; APM vol. 2 table B-4 (the VMSA).
 */
#ifndef SEV_MEASURE_H
#define SEV_MEASURE_H

#include "util/common.h"
#include "util/error.h"

enum sev_mode { SEV_MODE_SEV = 0, SEV_MODE_ES, SEV_MODE_SNP };

const char *sev_mode_name(enum sev_mode mode);

#define SEV_PAGE_SIZE 4096u
#define SEV_VMSA_SIZE 4096u
#define SEV_SHA256_LEN 32u
#define SEV_SHA384_LEN 48u
#define SEV_DIGEST_MAX 48u
/* SNP records the VMSA page at GPA -1, page aligned, bits 63:52 cleared. */
#define SEV_SNP_VMSA_GPA 0xFFFFFFFFF000ULL
/* The guest-physical address the firmware image ends at (4 GiB). */
#define SEV_FW_END 0x100000000ULL
/* The largest firmware image accepted (QEMU's pflash limit is 8 MiB). */
#define SEV_FW_MAX_SIZE (16 * MiB)
/* The reset vector of the BSP (CS base 0xffff0000, IP 0xfff0). */
#define SEV_BSP_RESET_EIP 0xfffffff0u
/* VMSA SEV_FEATURES bit 0: SNP active (KVM always sets it for SNP). */
#define SEV_FEAT_SNP_ACTIVE 0x1ULL

/* SNP_LAUNCH_UPDATE page types (SNP ABI table 67). */
enum sev_snp_page_type {
    SEV_SNP_PAGE_NORMAL = 1,
    SEV_SNP_PAGE_VMSA = 2,
    SEV_SNP_PAGE_ZERO = 3,
    SEV_SNP_PAGE_UNMEASURED = 4,
    SEV_SNP_PAGE_SECRETS = 5,
    SEV_SNP_PAGE_CPUID = 6,
};

/* OVMF SEV metadata section types (OvmfPkg/ResetVector/X64/
 * OvmfSevMetadata.asm). */
enum sev_ovmf_section_type {
    SEV_OVMF_SEC_MEM = 1,
    SEV_OVMF_SECRETS = 2,
    SEV_OVMF_CPUID = 3,
    SEV_OVMF_SVSM_CAA = 4,
    SEV_OVMF_KERNEL_HASHES = 0x10,
};

#define SEV_OVMF_MAX_SECTIONS 32

struct sev_ovmf_section {
    uint32_t gpa, size, type;
};

/* What the footer table of a firmware image declares.  `data` points into
 * the caller's buffer (not copied). */
struct sev_ovmf {
    const uint8_t *data;
    size_t size;
    uint64_t gpa; /* where the image is mapped: SEV_FW_END - size */
    bool has_table;
    bool has_reset_block;
    uint32_t reset_eip; /* the APs' SEV-ES reset address */
    bool has_metadata;
    struct sev_ovmf_section sections[SEV_OVMF_MAX_SECTIONS];
    unsigned nr_sections;
    bool has_hashes_table;
    uint32_t hashes_table_gpa, hashes_table_size;
    bool has_secret_area; /* OVMF's launch secret area (AmdSev builds) */
    uint32_t secret_gpa, secret_size;
};

/* Parses the footer table and (if present) the SEV metadata; every offset
 * and length is checked against the image.  A missing table is not an
 * error here (plain SEV needs none): sev_ovmf_check says what a mode needs. */
bool sev_ovmf_parse(const uint8_t *data, size_t size, struct sev_ovmf *out,
                    Error **errp);
/* Refuses, by name, a firmware that lacks what `mode` needs (the SEV-ES
 * reset block; for SNP the SEV metadata; the kernel-hashes table when
 * kernel hashes are asked for). */
bool sev_ovmf_check(const struct sev_ovmf *o, enum sev_mode mode,
                    bool kernel_hashes, Error **errp);
/* The SNP page type an OVMF metadata section is launched as (the kernel
 * hashes section is NORMAL when hashes are given, else ZERO); 0 for a type
 * vireo does not know. */
enum sev_snp_page_type sev_ovmf_section_page_type(uint32_t type,
                                                  bool have_hashes);

/* Where the kernel hashes table lies inside SNP metadata section s (the
 * offset from its start), checked to fit. */
bool sev_ovmf_hashes_offset(const struct sev_ovmf *o,
                            const struct sev_ovmf_section *s, uint32_t *off,
                            Error **errp);

/* The VMSA of a vCPU in its reset state as KVM writes it for QEMU (reset
 * at `eip`: CS base eip & 0xffff0000, IP eip & 0xffff; RDX the CPUID
 * signature), APM vol. 2 table B-4. */
void sev_vmsa_build(uint8_t page[SEV_VMSA_SIZE], uint32_t eip,
                    uint64_t sev_features, uint32_t vcpu_sig);

/* The SNP launch digest chain: ld = SHA-384(PAGE_INFO(ld, contents, type,
 * gpa)) per page. */
void sev_snp_ld_update(uint8_t ld[SEV_SHA384_LEN], enum sev_snp_page_type type,
                       uint64_t gpa, const uint8_t contents[SEV_SHA384_LEN]);
/* A page's contents field: SHA-384 of the page for NORMAL and VMSA pages,
 * zeros for the others. */
void sev_snp_ld_page(uint8_t ld[SEV_SHA384_LEN], enum sev_snp_page_type type,
                     uint64_t gpa, const uint8_t *page);

/* The kernel-hashes table QEMU builds for -kernel with kernel-hashes=on
 * (SHA-256 of the kernel, initrd and command line, GUIDed), padded to 16
 * bytes as it is measured. */
#define SEV_HASHES_TABLE_LEN 176u
bool sev_hashes_table_build(const uint8_t *kernel, size_t kernel_len,
                            const uint8_t *initrd, size_t initrd_len,
                            const char *cmdline,
                            uint8_t table[SEV_HASHES_TABLE_LEN], Error **errp);

struct sev_measure_params {
    enum sev_mode mode;
    unsigned nr_vcpus;
    uint32_t vcpu_sig;
    uint64_t sev_features;       /* VMSA SEV_FEATURES (SNP: 0x1) */
    const uint8_t *hashes_table; /* NULL: no kernel hashes */
};

/* The digest a correct platform reports for this launch: SHA-256 (32 bytes)
 * for SEV and SEV-ES, SHA-384 (48) for SNP.  *len is set. */
bool sev_measure_launch(const struct sev_ovmf *o,
                        const struct sev_measure_params *p,
                        uint8_t digest[SEV_DIGEST_MAX], size_t *len,
                        Error **errp);

/* CPUID signature (leaf 1 EAX) of a named CPU model, for measurements made
 * without KVM (the VMSA's RDX).  Features after a comma are ignored. */
bool sev_cpu_signature(const char *cpu_model, uint32_t *sig, Error **errp);

#endif
