/* SPDX-License-Identifier: MIT */
/*
 * cpuid.c: builds the CPUID table each vCPU gets with KVM_SET_CPUID2.
 *
 * -cpu host/max start from KVM_GET_SUPPORTED_CPUID (everything KVM can
 * give); named models (qemu64, kvm64) are built leaf by leaf from their
 * definition, their features already filtered against KVM by
 * cpu-models.c.  Either way the per-vCPU parts are written here: APIC id
 * in leaf 1 EBX and leaf 0xB EDX, the logical-processor count, cache
 * sharing in leaf 4 and the levels of leaf 0xB from sockets/cores/threads,
 * and the KVM paravirt leaves 0x40000000/0x40000001.
 *
 * APIC ids follow the usual packed layout: thread, core and socket fields,
 * each ceil(log2(n)) bits wide, so ids are not dense when a count is not a
 * power of two (as on real hardware and in QEMU).
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "target-i386/cpu-internal.h"

const struct x86_feat_word_info x86_feat_words[FEAT_NWORDS] = {
    [FEAT_1_EDX] = {1, 0, 3, "CPUID.01H:EDX"},
    [FEAT_1_ECX] = {1, 0, 2, "CPUID.01H:ECX"},
    [FEAT_7_0_EBX] = {7, 0, 1, "CPUID.07H:EBX"},
    [FEAT_7_0_ECX] = {7, 0, 2, "CPUID.07H:ECX"},
    [FEAT_7_0_EDX] = {7, 0, 3, "CPUID.07H:EDX"},
    [FEAT_8000_0001_EDX] = {0x80000001, 0, 3, "CPUID.80000001H:EDX"},
    [FEAT_8000_0001_ECX] = {0x80000001, 0, 2, "CPUID.80000001H:ECX"},
    [FEAT_8000_0007_EDX] = {0x80000007, 0, 3, "CPUID.80000007H:EDX"},
    [FEAT_6_EAX] = {6, 0, 0, "CPUID.06H:EAX"},
    [FEAT_D_1_EAX] = {0xd, 1, 0, "CPUID.0DH:EAX"},
    [FEAT_KVM] = {0x40000001, 0, 0, "CPUID.40000001H:EAX"},
    [FEAT_8000_0008_EBX] = {0x80000008, 0, 1, "CPUID.80000008H:EBX"},
};

/* Leaves whose subleaf (ECX) selects different data. */
static bool leaf_indexed(uint32_t leaf)
{
    switch (leaf) {
    case 4:
    case 7:
    case 0xb:
    case 0xd:
    case 0xf:
    case 0x10:
    case 0x12:
    case 0x14:
    case 0x17:
    case 0x18:
    case 0x1d:
    case 0x1e:
    case 0x1f:
    case 0x20:
    case 0x23:
    case 0x24:
    case 0x8000001d:
    case 0x80000020:
    case 0x80000026:
        return true;
    default:
        return false;
    }
}

const struct kvm_cpuid_entry2 *x86_cpuid_find_const(const struct kvm_cpuid2 *t,
                                                    uint32_t leaf,
                                                    uint32_t subleaf)
{
    if (!t) {
        return NULL;
    }
    for (uint32_t i = 0; i < t->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &t->entries[i];

        if (e->function != leaf) {
            continue;
        }
        if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
            e->index != subleaf) {
            continue;
        }
        return e;
    }
    return NULL;
}

struct kvm_cpuid_entry2 *x86_cpuid_find(struct kvm_cpuid2 *t, uint32_t leaf,
                                        uint32_t subleaf)
{
    return (struct kvm_cpuid_entry2 *)x86_cpuid_find_const(t, leaf, subleaf);
}

uint32_t *x86_cpuid_reg(struct kvm_cpuid_entry2 *e, int reg)
{
    switch (reg) {
    case 0:
        return &e->eax;
    case 1:
        return &e->ebx;
    case 2:
        return &e->ecx;
    default:
        return &e->edx;
    }
}

static uint32_t reg_of(const struct kvm_cpuid_entry2 *e, int reg)
{
    return *x86_cpuid_reg((struct kvm_cpuid_entry2 *)e, reg);
}

bool x86_cpuid_has(const struct kvm_cpuid2 *t, uint32_t leaf, int reg,
                   unsigned bit)
{
    const struct kvm_cpuid_entry2 *e = x86_cpuid_find_const(t, leaf, 0);

    return e && (reg_of(e, reg) >> bit) & 1;
}

void x86_cpuid_clear(struct kvm_cpuid2 *t, uint32_t leaf, int reg, unsigned bit)
{
    struct kvm_cpuid_entry2 *e = x86_cpuid_find(t, leaf, 0);

    if (e) {
        *x86_cpuid_reg(e, reg) &= ~(1u << bit);
    }
}

static bool msr_listed(struct kvm_accel *k, uint32_t index)
{
    if (!k->msr_index_list) {
        return false;
    }
    for (uint32_t i = 0; i < k->msr_index_list->nmsrs; i++) {
        if (k->msr_index_list->indices[i] == index) {
            return true;
        }
    }
    return false;
}

uint32_t x86_cpuid_supported_word(struct kvm_accel *k, enum x86_feat_word w)
{
    const struct x86_feat_word_info *wi = &x86_feat_words[w];
    const struct kvm_cpuid_entry2 *e =
        x86_cpuid_find_const(k->supported_cpuid, wi->leaf, wi->subleaf);
    uint32_t v = e ? reg_of(e, wi->reg) : 0;

    /* The same fix-ups QEMU applies to KVM's answer: bits KVM emulates
     * without reporting them, and ones it reports but cannot back. */
    switch (w) {
    case FEAT_1_ECX:
        v |= 1u << 31; /* hypervisor */
        if (k->has_tsc_deadline) {
            v |= 1u << 24;
        }
        break;
    case FEAT_1_EDX:
        v |= (1u << 12) | (1u << 16) | (1u << 7) | (1u << 14) | (1u << 28);
        break;
    case FEAT_6_EAX:
        v |= 1u << 2; /* arat: the in-kernel LAPIC timer always runs */
        break;
    case FEAT_7_0_EDX:
        if (!msr_listed(k, MSR_IA32_ARCH_CAPABILITIES)) {
            v &= ~(1u << 29);
        }
        break;
    default:
        break;
    }
    return v;
}

static unsigned bits_for(unsigned n)
{
    unsigned b = 0;

    while ((1u << b) < n) {
        b++;
    }
    return b;
}

uint32_t x86_cpuid_apic_id(const struct x86_cpu_model *m, unsigned index)
{
    unsigned tb = bits_for(m->threads), cb = bits_for(m->cores);
    unsigned thread = index % m->threads;
    unsigned core = (index / m->threads) % m->cores;
    unsigned socket = index / (m->threads * m->cores);

    return (socket << (cb + tb)) | (core << tb) | thread;
}

struct table {
    struct kvm_cpuid2 *t;
    uint32_t cap;
};

static struct kvm_cpuid_entry2 *add(struct table *tb, uint32_t leaf,
                                    uint32_t subleaf)
{
    struct kvm_cpuid_entry2 *e;

    if (tb->t->nent == tb->cap) {
        tb->cap *= 2;
        tb->t = g_realloc(tb->t,
                          sizeof(*tb->t) + tb->cap * sizeof(tb->t->entries[0]));
    }
    e = &tb->t->entries[tb->t->nent++];
    memset(e, 0, sizeof(*e));
    e->function = leaf;
    e->index = subleaf;
    if (leaf_indexed(leaf)) {
        e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    }
    return e;
}

static void set_str(uint32_t *regs[], unsigned n, const char *s, size_t len)
{
    char buf[48] = {0};

    memcpy(buf, s, MIN(len, sizeof(buf)));
    for (unsigned i = 0; i < n; i++) {
        memcpy(regs[i], buf + 4 * i, 4);
    }
}

/* Leaf 4: cache levels with their sharing fields rewritten for the
 * topology.  Named models use QEMU's legacy caches (L1d/L1i 32 KiB, L2
 * 4 MiB, L3 16 MiB); host keeps KVM's geometry. */
static void add_leaf4(struct table *tb, const struct x86_cpu_model *m)
{
    unsigned tbits = bits_for(m->threads), cbits = bits_for(m->cores);
    static const struct {
        uint32_t type, level, ways, sets;
    } legacy[] = {
        {1, 1, 8, 64}, {2, 1, 8, 64}, {3, 2, 16, 4096}, {3, 3, 16, 16384}};
    uint32_t i;

    for (i = 0; i < 16; i++) {
        struct kvm_cpuid_entry2 *e;
        uint32_t level;

        if (m->host) {
            const struct kvm_cpuid_entry2 *h =
                x86_cpuid_find_const(m->supported, 4, i);

            if (!h || !(h->eax & 0x1f)) {
                break;
            }
            e = add(tb, 4, i);
            e->eax = h->eax & 0x3fff;
            e->ebx = h->ebx;
            e->ecx = h->ecx;
            e->edx = h->edx;
        } else {
            if (i >= ARRAY_SIZE(legacy)) {
                break;
            }
            e = add(tb, 4, i);
            e->eax = legacy[i].type | legacy[i].level << 5 | 1u << 8;
            e->ebx = (64 - 1) | (legacy[i].ways - 1) << 22;
            e->ecx = legacy[i].sets - 1;
            e->edx = legacy[i].level == 3 ? 1u << 1 : 0; /* inclusive */
        }
        level = (e->eax >> 5) & 7;
        e->eax |= ((1u << cbits) - 1) << 26;
        e->eax |= (level >= 3 ? (1u << (cbits + tbits)) - 1 : (1u << tbits) - 1)
                  << 14;
    }
    add(tb, 4, i); /* type 0: no more caches */
}

static void add_leafb(struct table *tb, const struct x86_cpu_model *m,
                      uint32_t apic_id)
{
    unsigned tbits = bits_for(m->threads), cbits = bits_for(m->cores);
    struct kvm_cpuid_entry2 *e;

    e = add(tb, 0xb, 0);
    e->eax = tbits;
    e->ebx = m->threads;
    e->ecx = 0 | 1u << 8; /* SMT level */
    e->edx = apic_id;
    e = add(tb, 0xb, 1);
    e->eax = tbits + cbits;
    e->ebx = m->cores * m->threads;
    e->ecx = 1 | 2u << 8; /* core level */
    e->edx = apic_id;
    e = add(tb, 0xb, 2);
    e->ecx = 2; /* invalid level: end of list */
    e->edx = apic_id;
}

static void add_kvm_leaves(struct table *tb, const struct x86_cpu_model *m)
{
    struct kvm_cpuid_entry2 *e = add(tb, 0x40000000, 0);
    uint32_t *r[] = {&e->ebx, &e->ecx, &e->edx};

    e->eax = 0x40000001;
    set_str(r, 3, "KVMKVMKVM\0\0\0", 12);
    e = add(tb, 0x40000001, 0);
    e->eax = m->feat[FEAT_KVM];
}

static void copy_host_leaves(struct table *tb, const struct x86_cpu_model *m)
{
    for (uint32_t i = 0; i < m->supported->nent; i++) {
        const struct kvm_cpuid_entry2 *h = &m->supported->entries[i];

        switch (h->function) {
        case 1:
        case 4:
        case 0xb:
        case 0x1f: /* topology leaves: rebuilt (0x1f absent: use 0xb) */
            continue;
        case 0xd:
            if (!(m->feat[FEAT_1_ECX] & (1u << 26))) {
                continue; /* -xsave */
            }
            break;
        default:
            break;
        }
        if (h->function >= 0x40000000 && h->function < 0x80000000) {
            continue; /* paravirt leaves: rebuilt */
        }
        *add(tb, h->function, h->index) = *h;
    }
}

static void add_named_leaves(struct table *tb, const struct x86_cpu_model *m)
{
    const struct kvm_cpuid_entry2 *h;
    struct kvm_cpuid_entry2 *e;
    uint32_t *vregs[3];

    e = add(tb, 0, 0);
    e->eax = m->level;
    vregs[0] = &e->ebx;
    vregs[1] = &e->edx;
    vregs[2] = &e->ecx;
    set_str(vregs, 3, m->vendor, 12);

    if (m->level >= 6) {
        add(tb, 6, 0);
    }
    if (m->level >= 7) {
        add(tb, 7, 0);
    }
    /* XSAVE: x87, SSE and (with avx) AVX state, sizes from KVM. */
    if (m->level >= 0xd && (m->feat[FEAT_1_ECX] & (1u << 26))) {
        uint64_t xcr0 = 3;
        uint32_t size = 576;
        const struct kvm_cpuid_entry2 *h2 =
            x86_cpuid_find_const(m->supported, 0xd, 2);

        if ((m->feat[FEAT_1_ECX] & (1u << 28)) && h2 && h2->eax) {
            xcr0 |= 4;
            size = MAX(size, h2->ebx + h2->eax);
        }
        e = add(tb, 0xd, 0);
        e->eax = (uint32_t)xcr0;
        e->ebx = size;
        e->ecx = size;
        add(tb, 0xd, 1);
        if (xcr0 & 4) {
            *add(tb, 0xd, 2) = *h2;
        }
    }

    e = add(tb, 0x80000000, 0);
    e->eax = m->xlevel;
    vregs[0] = &e->ebx;
    vregs[1] = &e->edx;
    vregs[2] = &e->ecx;
    set_str(vregs, 3, m->vendor, 12);
    e = add(tb, 0x80000001, 0);
    e->eax = m->signature;
    for (uint32_t l = 0x80000002; l <= 0x80000004; l++) {
        uint32_t *r[4];

        e = add(tb, l, 0);
        r[0] = &e->eax;
        r[1] = &e->ebx;
        r[2] = &e->ecx;
        r[3] = &e->edx;
        set_str(r, 4, m->model_id + 16 * (l - 0x80000002), 16);
    }
    if (m->xlevel >= 0x80000007) {
        add(tb, 0x80000007, 0);
    }
    if (m->xlevel >= 0x80000008) {
        /* 48 bits virtual; 40 physical as QEMU, but never more than the
         * host has (KVM refuses GPAs beyond it). */
        uint32_t phys = 40;

        h = x86_cpuid_find_const(m->supported, 0x80000008, 0);
        if (h && (h->eax & 0xff) && (h->eax & 0xff) < phys) {
            phys = h->eax & 0xff;
        }
        e = add(tb, 0x80000008, 0);
        e->eax = phys | 48u << 8;
    }
}

struct kvm_cpuid2 *x86_cpuid_build(const struct x86_cpu_model *m,
                                   unsigned index)
{
    struct table tb = {.cap = 64};
    uint32_t apic_id = x86_cpuid_apic_id(m, index);
    unsigned per_pkg = m->cores * m->threads;
    struct kvm_cpuid_entry2 *e;

    tb.t = g_malloc0(sizeof(*tb.t) + tb.cap * sizeof(tb.t->entries[0]));

    if (m->host) {
        copy_host_leaves(&tb, m);
    } else {
        add_named_leaves(&tb, m);
    }

    e = add(&tb, 1, 0);
    e->eax = m->signature;
    /* CLFLUSH line size 64 (in 8-byte units), initial APIC id. */
    e->ebx = 8u << 8 | apic_id << 24;
    e->ecx = m->feat[FEAT_1_ECX];
    e->edx = m->feat[FEAT_1_EDX];
    if (per_pkg > 1) {
        e->ebx |= MIN(per_pkg, 255u) << 16;
        e->edx |= 1u << 28; /* ht: more than one logical CPU per package */
    }

    add_leaf4(&tb, m);
    add_leafb(&tb, m, apic_id);
    add_kvm_leaves(&tb, m);

    /* Feature words into their registers (host: replaces KVM's bits). */
    for (int w = 0; w < FEAT_NWORDS; w++) {
        const struct x86_feat_word_info *wi = &x86_feat_words[w];

        if (w == FEAT_1_EDX || w == FEAT_1_ECX || w == FEAT_KVM) {
            continue; /* written above */
        }
        e = x86_cpuid_find(tb.t, wi->leaf, wi->subleaf);
        if (!e) {
            if (!m->feat[w]) {
                continue;
            }
            e = add(&tb, wi->leaf, wi->subleaf);
        }
        *x86_cpuid_reg(e, wi->reg) = m->feat[w];
    }
    if (m->has_mem_encrypt) {
        /* AMD memory encryption leaf (APM vol. 3 E.4.17), as the SEV
         * platform and the guest's mode say. */
        e = x86_cpuid_find(tb.t, 0x8000001f, 0);
        if (!e) {
            e = add(&tb, 0x8000001f, 0);
        }
        e->eax = m->mem_encrypt_eax;
        e->ebx = m->mem_encrypt_ebx;
        e->ecx = e->edx = 0;
        e = x86_cpuid_find(tb.t, 0x80000000, 0);
        if (e && e->eax < 0x8000001f) {
            e->eax = 0x8000001f;
        }
    }
    return tb.t;
}
