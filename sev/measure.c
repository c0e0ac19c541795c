/* SPDX-License-Identifier: MIT */
/*
 * measure.c: the launch digest of an SEV / SEV-ES / SEV-SNP guest as the
 * AMD firmware computes it, so that `vireo -measure-launch` can print what
 * a guest owner should expect in the attestation report, without a
 * platform.  SEV API spec 6.5 (LAUNCH_MEASURE: SHA-256 over every
 * LAUNCH_UPDATE_DATA/VMSA in order), SNP ABI spec 8.17 (PAGE_INFO chain,
 * SHA-384), APM vol. 2 table B-4 (VMSA layout); OVMF's footer table and SEV
 * metadata as OvmfPkg/ResetVector defines them.  Untrusted input: every
 * offset read from the firmware image is checked before use.
 */
#include "util/common.h"
#include "sev/measure.h"

const char *sev_mode_name(enum sev_mode mode)
{
    switch (mode) {
    case SEV_MODE_SEV:
        return "SEV";
    case SEV_MODE_ES:
        return "SEV-ES";
    case SEV_MODE_SNP:
        return "SEV-SNP";
    }
    return "?";
}

static uint16_t le16(const uint8_t *p)
{
    return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | (uint32_t)le16(p + 2) << 16;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, v);
    put32(p + 4, v >> 32);
}

/* GUIDs in their in-memory (mixed-endian, EFI_GUID) byte order. */
struct sev_guid {
    uint8_t b[16];
};

#define GUID(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)                          \
    {                                                                          \
        {                                                                      \
            (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff,                 \
                ((a) >> 24) & 0xff, (b)&0xff, ((b) >> 8) & 0xff, (c)&0xff,     \
                ((c) >> 8) & 0xff, d0, d1, d2, d3, d4, d5, d6, d7              \
        }                                                                      \
    }

/* 96b582de-1fb2-45f7-baea-a366c55a082d: the table's own footer entry. */
static const struct sev_guid footer_guid = GUID(
    0x96b582de, 0x1fb2, 0x45f7, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d);
/* 00f771de-1a7e-4fcb-890e-68c77e2fb44e: SEV-ES reset block (AP reset IP). */
static const struct sev_guid reset_block_guid = GUID(
    0x00f771de, 0x1a7e, 0x4fcb, 0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e);
/* dc886566-984a-4798-a75e-5585a7bf67cc: SEV metadata (offset from end). */
static const struct sev_guid metadata_guid = GUID(
    0xdc886566, 0x984a, 0x4798, 0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc);
/* 7255371f-3a3b-4b04-927b-1da6efa8d454: kernel hashes table (gpa, size). */
static const struct sev_guid hashes_rv_guid = GUID(
    0x7255371f, 0x3a3b, 0x4b04, 0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54);
/* 4c2eb361-7d9b-4cc3-8081-127c90d3d294: the launch secret area (gpa, size),
 * where sev-inject-launch-secret puts the secret when no gpa is given. */
static const struct sev_guid secret_guid = GUID(
    0x4c2eb361, 0x7d9b, 0x4cc3, 0x80, 0x81, 0x12, 0x7c, 0x90, 0xd3, 0xd2, 0x94);
/* QEMU's hash table header and entries (target/i386/sev.c names). */
static const struct sev_guid ht_header_guid = GUID(
    0x9438d606, 0x4f22, 0x4cc9, 0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21);
static const struct sev_guid ht_cmdline_guid = GUID(
    0x97d02dd8, 0xbd20, 0x4c94, 0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a);
static const struct sev_guid ht_initrd_guid = GUID(
    0x44baf731, 0x3a2f, 0x4bd7, 0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d);
static const struct sev_guid ht_kernel_guid = GUID(
    0x4de79437, 0xabd2, 0x427f, 0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b);

/* A footer entry that names a guest area: {u32 gpa, u32 size}. */
static bool area_entry(const char *what, const uint8_t *payload, size_t plen,
                       uint32_t *gpa, uint32_t *size, Error **errp)
{
    if (plen < 8) {
        error_setg(errp, "firmware: %s entry is %zu bytes, needs 8", what,
                   plen);
        return false;
    }
    *gpa = le32(payload);
    *size = le32(payload + 4);
    return true;
}

/* Footer layout (OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm): the last
 * 32 bytes of the image are the reset vector; just before them the footer
 * entry {u16 total table size, GUID}; entries before it, each ending in
 * {u16 entry size including this header, GUID}, walked backwards. */
#define FOOTER_TAIL 32u
#define ENTRY_HDR 18u

static bool parse_metadata(struct sev_ovmf *o, const uint8_t *entry,
                           size_t entry_len, Error **errp)
{
    uint32_t off, len, version, n;
    const uint8_t *h;

    if (entry_len < 4) {
        error_setg(errp,
                   "firmware: SEV metadata entry is %zu bytes, "
                   "needs 4",
                   entry_len);
        return false;
    }
    off = le32(entry);
    if (off < 16 || off > o->size) {
        error_setg(errp,
                   "firmware: SEV metadata offset 0x%x lies outside the "
                   "%zu-byte image",
                   off, o->size);
        return false;
    }
    h = o->data + o->size - off;
    len = le32(h + 4);
    version = le32(h + 8);
    n = le32(h + 12);
    if (memcmp(h, "ASEV", 4) != 0) {
        error_setg(errp, "firmware: SEV metadata signature is not 'ASEV'");
        return false;
    }
    if (version != 1) {
        error_setg(errp, "firmware: SEV metadata version %u (only 1 known)",
                   version);
        return false;
    }
    if (len < 16 || len > off) {
        error_setg(errp,
                   "firmware: SEV metadata length %u runs past the image "
                   "end",
                   len);
        return false;
    }
    if (n > SEV_OVMF_MAX_SECTIONS || (uint64_t)n * 12 > len - 16) {
        error_setg(errp,
                   "firmware: SEV metadata declares %u sections, more than "
                   "its %u bytes hold (or than %u)",
                   n, len, SEV_OVMF_MAX_SECTIONS);
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *d = h + 16 + 12 * i;
        struct sev_ovmf_section *s = &o->sections[i];

        s->gpa = le32(d);
        s->size = le32(d + 4);
        s->type = le32(d + 8);
        if ((s->gpa | s->size) & (SEV_PAGE_SIZE - 1) || !s->size ||
            (uint64_t)s->gpa + s->size > SEV_FW_END) {
            error_setg(errp,
                       "firmware: SEV metadata section %u (gpa 0x%x, size "
                       "0x%x) is not a page-aligned range below 4 GiB",
                       i, s->gpa, s->size);
            return false;
        }
        if (sev_ovmf_section_page_type(s->type, false) == 0) {
            error_setg(errp,
                       "firmware: SEV metadata section %u has unknown type "
                       "0x%x",
                       i, s->type);
            return false;
        }
    }
    o->nr_sections = n;
    o->has_metadata = true;
    return true;
}

bool sev_ovmf_parse(const uint8_t *data, size_t size, struct sev_ovmf *out,
                    Error **errp)
{
    const uint8_t *foot;
    size_t table_len, pos;

    memset(out, 0, sizeof(*out));
    out->data = data;
    out->size = size;
    if (!size || size % SEV_PAGE_SIZE || size > SEV_FW_MAX_SIZE) {
        error_setg(errp,
                   "firmware: size %zu is not a multiple of 4 KiB up to "
                   "%llu MiB",
                   size, SEV_FW_MAX_SIZE / MiB);
        return false;
    }
    out->gpa = SEV_FW_END - size;
    if (size < FOOTER_TAIL + ENTRY_HDR) {
        return true;
    }
    foot = data + size - FOOTER_TAIL - ENTRY_HDR;
    if (memcmp(foot + 2, &footer_guid, 16) != 0) {
        return true; /* no table: fine for plain SEV */
    }
    table_len = le16(foot);
    if (table_len < ENTRY_HDR || table_len > size - FOOTER_TAIL) {
        error_setg(errp,
                   "firmware: footer table size %zu does not fit the "
                   "image",
                   table_len);
        return false;
    }
    out->has_table = true;
    /* pos: end (exclusive) of the part not yet walked, from the start. */
    pos = size - FOOTER_TAIL - ENTRY_HDR;
    table_len -= ENTRY_HDR;
    while (table_len >= ENTRY_HDR) {
        const uint8_t *hdr = data + pos - ENTRY_HDR;
        size_t elen = le16(hdr);
        const uint8_t *payload;
        size_t plen;

        if (elen < ENTRY_HDR || elen > table_len) {
            error_setg(errp,
                       "firmware: footer table entry at offset 0x%zx has "
                       "size %zu (must be %u..%zu)",
                       pos - ENTRY_HDR, elen, ENTRY_HDR, table_len);
            return false;
        }
        payload = data + pos - elen;
        plen = elen - ENTRY_HDR;
        if (!memcmp(hdr + 2, &reset_block_guid, 16)) {
            if (plen < 4) {
                error_setg(errp,
                           "firmware: SEV-ES reset block entry is %zu "
                           "bytes, needs 4",
                           plen);
                return false;
            }
            out->has_reset_block = true;
            out->reset_eip = le32(payload);
        } else if (!memcmp(hdr + 2, &metadata_guid, 16)) {
            if (!parse_metadata(out, payload, plen, errp)) {
                return false;
            }
        } else if (!memcmp(hdr + 2, &hashes_rv_guid, 16)) {
            if (!area_entry("kernel hashes", payload, plen,
                            &out->hashes_table_gpa, &out->hashes_table_size,
                            errp)) {
                return false;
            }
            out->has_hashes_table = out->hashes_table_gpa != 0;
        } else if (!memcmp(hdr + 2, &secret_guid, 16)) {
            if (!area_entry("secret area", payload, plen, &out->secret_gpa,
                            &out->secret_size, errp)) {
                return false;
            }
            /* OVMF builds without one (not AmdSev) leave the base 0 */
            out->has_secret_area = out->secret_gpa != 0;
        }
        pos -= elen;
        table_len -= elen;
    }
    return true;
}

bool sev_ovmf_check(const struct sev_ovmf *o, enum sev_mode mode,
                    bool kernel_hashes, Error **errp)
{
    if (mode != SEV_MODE_SEV && !o->has_reset_block) {
        error_setg(errp,
                   "firmware has no SEV-ES reset block (GUID "
                   "00f771de-1a7e-4fcb-890e-68c77e2fb44e in its footer "
                   "table): it cannot start %s vCPUs",
                   sev_mode_name(mode));
        return false;
    }
    if (mode == SEV_MODE_SNP && !o->has_metadata) {
        error_setg(errp, "firmware has no SEV metadata (GUID "
                         "dc886566-984a-4798-a75e-5585a7bf67cc in its footer "
                         "table): it cannot be launched under SEV-SNP");
        return false;
    }
    if (kernel_hashes) {
        bool ok = o->has_hashes_table;

        if (mode == SEV_MODE_SNP) {
            bool section = false;

            for (unsigned i = 0; i < o->nr_sections; i++) {
                section |= o->sections[i].type == SEV_OVMF_KERNEL_HASHES;
            }
            ok &= section;
        }
        if (!ok || o->hashes_table_size < SEV_HASHES_TABLE_LEN) {
            error_setg(errp,
                       "kernel-hashes=on, but the firmware has no room for "
                       "the kernel hashes table (GUID "
                       "7255371f-3a3b-4b04-927b-1da6efa8d454%s)",
                       mode == SEV_MODE_SNP
                           ? " and an SNP kernel-hashes metadata section"
                           : "");
            return false;
        }
    }
    return true;
}

enum sev_snp_page_type sev_ovmf_section_page_type(uint32_t type,
                                                  bool have_hashes)
{
    switch (type) {
    case SEV_OVMF_SEC_MEM:
        return SEV_SNP_PAGE_ZERO;
    case SEV_OVMF_SECRETS:
        return SEV_SNP_PAGE_SECRETS;
    case SEV_OVMF_CPUID:
        return SEV_SNP_PAGE_CPUID;
    case SEV_OVMF_KERNEL_HASHES:
        return have_hashes ? SEV_SNP_PAGE_NORMAL : SEV_SNP_PAGE_ZERO;
    default:
        return 0;
    }
}

bool sev_ovmf_hashes_offset(const struct sev_ovmf *o,
                            const struct sev_ovmf_section *s, uint32_t *off,
                            Error **errp)
{
    uint32_t at = o->hashes_table_gpa;

    if (at < s->gpa || s->size < SEV_HASHES_TABLE_LEN ||
        at - s->gpa > s->size - SEV_HASHES_TABLE_LEN) {
        error_setg(errp,
                   "firmware: kernel hashes table at 0x%x is not inside its "
                   "metadata section 0x%x+0x%x",
                   at, s->gpa, s->size);
        return false;
    }
    *off = at - s->gpa;
    return true;
}

/* VMSA field offsets, APM vol. 2 table B-4 (SEV-ES save area). */
enum {
    VMSA_ES = 0x000, /* 10 segments of 16 bytes: es cs ss ds fs gs gdtr
                        ldtr idtr tr */
    VMSA_EFER = 0x0d0,
    VMSA_CR4 = 0x148,
    VMSA_CR0 = 0x158,
    VMSA_DR7 = 0x160,
    VMSA_DR6 = 0x168,
    VMSA_RFLAGS = 0x170,
    VMSA_RIP = 0x178,
    VMSA_G_PAT = 0x268,
    VMSA_RDX = 0x310,
    VMSA_SEV_FEATURES = 0x3b0,
    VMSA_XCR0 = 0x3e8,
    VMSA_MXCSR = 0x408,
    VMSA_X87_FCW = 0x410,
};

static void vmsa_seg(uint8_t *page, unsigned idx, uint16_t sel, uint16_t attr,
                     uint32_t limit, uint64_t base)
{
    uint8_t *p = page + VMSA_ES + 16 * idx;

    put16(p, sel);
    put16(p + 2, attr);
    put32(p + 4, limit);
    put64(p + 8, base);
}

void sev_vmsa_build(uint8_t page[SEV_VMSA_SIZE], uint32_t eip,
                    uint64_t sev_features, uint32_t vcpu_sig)
{
    memset(page, 0, SEV_VMSA_SIZE);
    /* The x86 reset state (SDM/APM "processor initialization") with the
     * VMCB's packed attribute format, as KVM's sev_es_sync_vmsa writes it
     * from what QEMU set: data segments 0x93, CS 0x9b, LDTR 0x82, TR
     * 0x8b (busy TSS). */
    vmsa_seg(page, 0, 0, 0x93, 0xffff, 0);                      /* es */
    vmsa_seg(page, 1, 0xf000, 0x9b, 0xffff, eip & 0xffff0000u); /* cs */
    vmsa_seg(page, 2, 0, 0x93, 0xffff, 0);                      /* ss */
    vmsa_seg(page, 3, 0, 0x93, 0xffff, 0);                      /* ds */
    vmsa_seg(page, 4, 0, 0x93, 0xffff, 0);                      /* fs */
    vmsa_seg(page, 5, 0, 0x93, 0xffff, 0);                      /* gs */
    vmsa_seg(page, 6, 0, 0, 0xffff, 0);                         /* gdtr */
    vmsa_seg(page, 7, 0, 0x82, 0xffff, 0);                      /* ldtr */
    vmsa_seg(page, 8, 0, 0, 0xffff, 0);                         /* idtr */
    vmsa_seg(page, 9, 0, 0x8b, 0xffff, 0);                      /* tr */
    put64(page + VMSA_EFER, 0x1000); /* KVM keeps EFER.SVME set */
    put64(page + VMSA_CR4, 0x40);    /* KVM keeps CR4.MCE set */
    put64(page + VMSA_CR0, 0x10);    /* ET */
    put64(page + VMSA_DR7, 0x400);
    put64(page + VMSA_DR6, 0xffff0ff0);
    put64(page + VMSA_RFLAGS, 0x2);
    put64(page + VMSA_RIP, eip & 0xffff);
    put64(page + VMSA_G_PAT, 0x0007040600070406ULL); /* PAT reset value */
    put64(page + VMSA_RDX, vcpu_sig);
    put64(page + VMSA_SEV_FEATURES, sev_features);
    put64(page + VMSA_XCR0, 0x1);
    /* KVM copies the FPU reset state (FCW 0x37f, MXCSR 0x1f80) into the
     * VMSA at LAUNCH_UPDATE_VMSA. */
    put32(page + VMSA_MXCSR, 0x1f80);
    put16(page + VMSA_X87_FCW, 0x37f);
}

void sev_snp_ld_update(uint8_t ld[SEV_SHA384_LEN], enum sev_snp_page_type type,
                       uint64_t gpa, const uint8_t contents[SEV_SHA384_LEN])
{
    /* PAGE_INFO (SNP ABI table 67): DIGEST_CUR, CONTENTS, LENGTH=0x70,
     * PAGE_TYPE, IMI_PAGE, VMPL3..1 permissions, reserved, GPA. */
    uint8_t info[0x70] = {0};
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA384);
    gsize len = SEV_SHA384_LEN;

    memcpy(info, ld, SEV_SHA384_LEN);
    memcpy(info + 0x30, contents, SEV_SHA384_LEN);
    put16(info + 0x60, sizeof(info));
    info[0x62] = type;
    put64(info + 0x68, gpa);
    g_checksum_update(c, info, sizeof(info));
    g_checksum_get_digest(c, ld, &len);
    g_checksum_free(c);
}

void sev_snp_ld_page(uint8_t ld[SEV_SHA384_LEN], enum sev_snp_page_type type,
                     uint64_t gpa, const uint8_t *page)
{
    uint8_t contents[SEV_SHA384_LEN] = {0};

    if (type == SEV_SNP_PAGE_NORMAL || type == SEV_SNP_PAGE_VMSA) {
        GChecksum *c = g_checksum_new(G_CHECKSUM_SHA384);
        gsize len = sizeof(contents);

        g_checksum_update(c, page, SEV_PAGE_SIZE);
        g_checksum_get_digest(c, contents, &len);
        g_checksum_free(c);
    }
    sev_snp_ld_update(ld, type, gpa, contents);
}

static void sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    gsize olen = SEV_SHA256_LEN;

    g_checksum_update(c, data, len);
    g_checksum_get_digest(c, out, &olen);
    g_checksum_free(c);
}

static void ht_entry(uint8_t *p, const struct sev_guid *g, const uint8_t *data,
                     size_t len)
{
    memcpy(p, g, 16);
    put16(p + 16, 50);
    sha256(data, len, p + 18);
}

bool sev_hashes_table_build(const uint8_t *kernel, size_t kernel_len,
                            const uint8_t *initrd, size_t initrd_len,
                            const char *cmdline,
                            uint8_t table[SEV_HASHES_TABLE_LEN], Error **errp)
{
    const char *cl = cmdline ? cmdline : "";

    if (!kernel || !kernel_len) {
        error_setg(errp, "kernel-hashes=on needs -kernel");
        return false;
    }
    memset(table, 0, SEV_HASHES_TABLE_LEN);
    memcpy(table, &ht_header_guid, 16);
    put16(table + 16, 168); /* header + three 50-byte entries, unpadded */
    /* The command line is hashed with its terminating NUL. */
    ht_entry(table + 18, &ht_cmdline_guid, (const uint8_t *)cl, strlen(cl) + 1);
    ht_entry(table + 68, &ht_initrd_guid, initrd ? initrd : (const uint8_t *)"",
             initrd ? initrd_len : 0);
    ht_entry(table + 118, &ht_kernel_guid, kernel, kernel_len);
    return true;
}

bool sev_measure_launch(const struct sev_ovmf *o,
                        const struct sev_measure_params *p,
                        uint8_t digest[SEV_DIGEST_MAX], size_t *len,
                        Error **errp)
{
    uint8_t vmsa[SEV_VMSA_SIZE];

    if (!sev_ovmf_check(o, p->mode, p->hashes_table != NULL, errp)) {
        return false;
    }
    if (p->mode != SEV_MODE_SEV && (p->nr_vcpus < 1 || p->nr_vcpus > 512)) {
        error_setg(errp, "%u vCPUs: an encrypted-state guest needs 1..512",
                   p->nr_vcpus);
        return false;
    }
    if (p->mode != SEV_MODE_SNP) {
        GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
        gsize dlen = SEV_SHA256_LEN;

        g_checksum_update(c, o->data, o->size);
        if (p->hashes_table) {
            g_checksum_update(c, p->hashes_table, SEV_HASHES_TABLE_LEN);
        }
        for (unsigned i = 0; p->mode == SEV_MODE_ES && i < p->nr_vcpus; i++) {
            sev_vmsa_build(vmsa, i ? o->reset_eip : SEV_BSP_RESET_EIP,
                           p->sev_features, p->vcpu_sig);
            g_checksum_update(c, vmsa, sizeof(vmsa));
        }
        g_checksum_get_digest(c, digest, &dlen);
        g_checksum_free(c);
        *len = SEV_SHA256_LEN;
        return true;
    }

    memset(digest, 0, SEV_SHA384_LEN);
    for (size_t off = 0; off < o->size; off += SEV_PAGE_SIZE) {
        sev_snp_ld_page(digest, SEV_SNP_PAGE_NORMAL, o->gpa + off,
                        o->data + off);
    }
    for (unsigned i = 0; i < o->nr_sections; i++) {
        const struct sev_ovmf_section *s = &o->sections[i];
        enum sev_snp_page_type t =
            sev_ovmf_section_page_type(s->type, p->hashes_table != NULL);
        g_autofree uint8_t *buf = NULL;

        if (t == SEV_SNP_PAGE_NORMAL) {
            /* The hashes page: the table at its offset in the page. */
            uint32_t at;

            if (!sev_ovmf_hashes_offset(o, s, &at, errp)) {
                return false;
            }
            buf = g_malloc0(s->size);
            memcpy(buf + at, p->hashes_table, SEV_HASHES_TABLE_LEN);
        }
        for (uint32_t off = 0; off < s->size; off += SEV_PAGE_SIZE) {
            sev_snp_ld_page(digest, t, (uint64_t)s->gpa + off,
                            buf ? buf + off : NULL);
        }
    }
    for (unsigned i = 0; i < p->nr_vcpus; i++) {
        sev_vmsa_build(vmsa, i ? o->reset_eip : SEV_BSP_RESET_EIP,
                       p->sev_features, p->vcpu_sig);
        sev_snp_ld_page(digest, SEV_SNP_PAGE_VMSA, SEV_SNP_VMSA_GPA, vmsa);
    }
    *len = SEV_SHA384_LEN;
    return true;
}

/* QEMU's AMD models with the family/model/stepping of target/i386/cpu.c. */
static const struct {
    const char *name;
    uint32_t sig;
} cpu_sigs[] = {
    {"EPYC", 0x00800f12},       {"EPYC-IBPB", 0x00800f12},
    {"EPYC-Rome", 0x00830f10},  {"EPYC-Milan", 0x00a00f11},
    {"EPYC-Genoa", 0x00a10f10}, {"qemu64", 0x00060fb1},
    {"kvm64", 0x00000f61},
};

bool sev_cpu_signature(const char *cpu_model, uint32_t *sig, Error **errp)
{
    g_autofree char *name = g_strndup(cpu_model, strcspn(cpu_model, ","));
    size_t n = strlen(name);
    const char *v = strrchr(name, '-');

    /* "-vN" versions keep the signature of their model. */
    if (v && v[1] == 'v' && v[2] &&
        strspn(v + 2, "0123456789") == strlen(v + 2)) {
        n = v - name;
    }
    for (size_t i = 0; i < ARRAY_SIZE(cpu_sigs); i++) {
        if (strlen(cpu_sigs[i].name) == n &&
            !g_ascii_strncasecmp(cpu_sigs[i].name, name, n)) {
            *sig = cpu_sigs[i].sig;
            return true;
        }
    }
    error_setg(errp,
               "-cpu %s: the CPUID signature of this model is not known "
               "without KVM; use an EPYC model (EPYC, EPYC-Rome, EPYC-Milan, "
               "EPYC-Genoa, with -vN) or qemu64",
               name);
    return false;
}
