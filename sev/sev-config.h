/* SPDX-License-Identifier: MIT */
/*
 * sev-config.h: `-object sev-guest,...` (QEMU 7.2) and
 * `-object sev-snp-guest,...` (QEMU 9.1) as a typed struct sev_config,
 * with QEMU's property names and defaults, and the `-measure-launch`
 * computation built on it.  The command line hands over parsed key/values
 * so the generic -object table can call the same function.
 */
#ifndef SEV_SEV_CONFIG_H
#define SEV_SEV_CONFIG_H

#include "util/common.h"
#include "util/error.h"
#include "sev/measure.h"

struct keyval;
struct machine_config;

/* SEV guest policy bits (SEV API spec table 2). */
#define SEV_POLICY_NODBG (1u << 0)
#define SEV_POLICY_ES (1u << 2)
/* SNP guest policy (SNP ABI spec 4.3): bit 17 must be one, 63:25 zero. */
#define SEV_SNP_POLICY_MBO (1ULL << 17)
#define SEV_SNP_POLICY_SMT (1ULL << 16)
#define SEV_SNP_POLICY_RSVD_MASK (~0ULL << 25)
#define SEV_SNP_DEFAULT_POLICY 0x30000ULL

#define SEV_SNP_ID_BLOCK_SIZE 96
#define SEV_SNP_ID_AUTH_SIZE 4096
#define SEV_SNP_HOST_DATA_SIZE 32
#define SEV_SNP_GVW_SIZE 16

struct sev_config {
    char *id;
    bool snp;           /* sev-snp-guest */
    enum sev_mode mode; /* SEV / SEV-ES (policy bit 2) / SNP */
    bool has_cbitpos;
    uint32_t cbitpos;
    bool has_reduced_phys_bits;
    uint32_t reduced_phys_bits;
    uint64_t policy; /* 32 bits for SEV, 64 for SNP */
    uint32_t handle;
    char *dh_cert_file, *session_file;
    bool kernel_hashes;
    /* SNP only */
    bool has_gvw, has_id_block, has_id_auth, has_host_data;
    uint8_t gvw[SEV_SNP_GVW_SIZE];
    uint8_t id_block[SEV_SNP_ID_BLOCK_SIZE];
    uint8_t *id_auth; /* SEV_SNP_ID_AUTH_SIZE bytes when has_id_auth */
    bool author_key_enabled;
    uint8_t host_data[SEV_SNP_HOST_DATA_SIZE];
};

/* True for the -object types this module owns. */
bool sev_object_type(const char *type);
/* Fills *cfg from an -object's key/values (every key read; the caller's
 * keyval_check_all_used then refuses unknown ones).  `type` is
 * "sev-guest" or "sev-snp-guest". */
bool sev_config_parse(const char *type, struct keyval *kv,
                      struct sev_config *cfg, Error **errp);
void sev_config_free(struct sev_config *cfg);

/* -machine confidential-guest-support=ID (or memory-encryption=ID): the id
 * must name the SEV object. */
bool sev_config_check_ref(const struct sev_config *cfg, const char *key,
                          const char *id, Error **errp);

/* `vireo -measure-launch`: the launch digest for this command line, as
 * lowercase hex. */
char *sev_measure_for_config(const struct machine_config *mc, Error **errp);

#endif
