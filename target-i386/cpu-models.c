/* SPDX-License-Identifier: MIT */
/*
 * cpu-models.c: the -cpu option.  `-cpu MODEL[,+feat,-feat,feat=on|off]`
 * with QEMU's model and flag names, so libvirt and users can pass what
 * they pass to QEMU:
 *   host, max  everything KVM can give (the same thing under KVM);
 *   qemu64     QEMU's default model, with the KVM defaults QEMU adds
 *              (kvmclock, async PF, PV EOI, steal time, x2apic, no svm);
 *   kvm64      "Common KVM processor".
 * Precedence as QEMU: model defaults < feat=on|off < +feat < -feat.
 * A flag KVM cannot provide is dropped with QEMU's "host doesn't support
 * requested feature" warning (an error with `enforce`); an unknown model,
 * flag or option is an error (nothing is accepted and ignored).
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "target-i386/cpu-internal.h"

struct feat_name {
    const char *name;
    enum x86_feat_word word;
    unsigned bit;
};

/* QEMU's spellings.  Aliases map onto the same bit. */
static const struct feat_name feat_names[] = {
    {"fpu", FEAT_1_EDX, 0},
    {"vme", FEAT_1_EDX, 1},
    {"de", FEAT_1_EDX, 2},
    {"pse", FEAT_1_EDX, 3},
    {"tsc", FEAT_1_EDX, 4},
    {"msr", FEAT_1_EDX, 5},
    {"pae", FEAT_1_EDX, 6},
    {"mce", FEAT_1_EDX, 7},
    {"cx8", FEAT_1_EDX, 8},
    {"apic", FEAT_1_EDX, 9},
    {"sep", FEAT_1_EDX, 11},
    {"mtrr", FEAT_1_EDX, 12},
    {"pge", FEAT_1_EDX, 13},
    {"mca", FEAT_1_EDX, 14},
    {"cmov", FEAT_1_EDX, 15},
    {"pat", FEAT_1_EDX, 16},
    {"pse36", FEAT_1_EDX, 17},
    {"pn", FEAT_1_EDX, 18},
    {"clflush", FEAT_1_EDX, 19},
    {"ds", FEAT_1_EDX, 21},
    {"acpi", FEAT_1_EDX, 22},
    {"mmx", FEAT_1_EDX, 23},
    {"fxsr", FEAT_1_EDX, 24},
    {"sse", FEAT_1_EDX, 25},
    {"sse2", FEAT_1_EDX, 26},
    {"ss", FEAT_1_EDX, 27},
    {"ht", FEAT_1_EDX, 28},
    {"tm", FEAT_1_EDX, 29},
    {"ia64", FEAT_1_EDX, 30},
    {"pbe", FEAT_1_EDX, 31},
    {"pni", FEAT_1_ECX, 0},
    {"sse3", FEAT_1_ECX, 0},
    {"pclmulqdq", FEAT_1_ECX, 1},
    {"pclmuldq", FEAT_1_ECX, 1},
    {"dtes64", FEAT_1_ECX, 2},
    {"monitor", FEAT_1_ECX, 3},
    {"ds-cpl", FEAT_1_ECX, 4},
    {"vmx", FEAT_1_ECX, 5},
    {"smx", FEAT_1_ECX, 6},
    {"est", FEAT_1_ECX, 7},
    {"tm2", FEAT_1_ECX, 8},
    {"ssse3", FEAT_1_ECX, 9},
    {"cid", FEAT_1_ECX, 10},
    {"fma", FEAT_1_ECX, 12},
    {"cx16", FEAT_1_ECX, 13},
    {"xtpr", FEAT_1_ECX, 14},
    {"pdcm", FEAT_1_ECX, 15},
    {"pcid", FEAT_1_ECX, 17},
    {"dca", FEAT_1_ECX, 18},
    {"sse4.1", FEAT_1_ECX, 19},
    {"sse4-1", FEAT_1_ECX, 19},
    {"sse4.2", FEAT_1_ECX, 20},
    {"sse4-2", FEAT_1_ECX, 20},
    {"x2apic", FEAT_1_ECX, 21},
    {"movbe", FEAT_1_ECX, 22},
    {"popcnt", FEAT_1_ECX, 23},
    {"tsc-deadline", FEAT_1_ECX, 24},
    {"aes", FEAT_1_ECX, 25},
    {"xsave", FEAT_1_ECX, 26},
    {"avx", FEAT_1_ECX, 28},
    {"f16c", FEAT_1_ECX, 29},
    {"rdrand", FEAT_1_ECX, 30},
    {"hypervisor", FEAT_1_ECX, 31},
    {"fsgsbase", FEAT_7_0_EBX, 0},
    {"tsc-adjust", FEAT_7_0_EBX, 1},
    {"sgx", FEAT_7_0_EBX, 2},
    {"bmi1", FEAT_7_0_EBX, 3},
    {"hle", FEAT_7_0_EBX, 4},
    {"avx2", FEAT_7_0_EBX, 5},
    {"smep", FEAT_7_0_EBX, 7},
    {"bmi2", FEAT_7_0_EBX, 8},
    {"erms", FEAT_7_0_EBX, 9},
    {"invpcid", FEAT_7_0_EBX, 10},
    {"rtm", FEAT_7_0_EBX, 11},
    {"mpx", FEAT_7_0_EBX, 14},
    {"avx512f", FEAT_7_0_EBX, 16},
    {"avx512dq", FEAT_7_0_EBX, 17},
    {"rdseed", FEAT_7_0_EBX, 18},
    {"adx", FEAT_7_0_EBX, 19},
    {"smap", FEAT_7_0_EBX, 20},
    {"avx512ifma", FEAT_7_0_EBX, 21},
    {"pcommit", FEAT_7_0_EBX, 22},
    {"clflushopt", FEAT_7_0_EBX, 23},
    {"clwb", FEAT_7_0_EBX, 24},
    {"intel-pt", FEAT_7_0_EBX, 25},
    {"avx512pf", FEAT_7_0_EBX, 26},
    {"avx512er", FEAT_7_0_EBX, 27},
    {"avx512cd", FEAT_7_0_EBX, 28},
    {"sha-ni", FEAT_7_0_EBX, 29},
    {"avx512bw", FEAT_7_0_EBX, 30},
    {"avx512vl", FEAT_7_0_EBX, 31},
    {"avx512vbmi", FEAT_7_0_ECX, 1},
    {"umip", FEAT_7_0_ECX, 2},
    {"pku", FEAT_7_0_ECX, 3},
    {"waitpkg", FEAT_7_0_ECX, 5},
    {"avx512vbmi2", FEAT_7_0_ECX, 6},
    {"gfni", FEAT_7_0_ECX, 8},
    {"vaes", FEAT_7_0_ECX, 9},
    {"vpclmulqdq", FEAT_7_0_ECX, 10},
    {"avx512vnni", FEAT_7_0_ECX, 11},
    {"avx512bitalg", FEAT_7_0_ECX, 12},
    {"avx512-vpopcntdq", FEAT_7_0_ECX, 14},
    {"la57", FEAT_7_0_ECX, 16},
    {"rdpid", FEAT_7_0_ECX, 22},
    {"cldemote", FEAT_7_0_ECX, 25},
    {"movdiri", FEAT_7_0_ECX, 27},
    {"movdir64b", FEAT_7_0_ECX, 28},
    {"avx512-4vnniw", FEAT_7_0_EDX, 2},
    {"avx512-4fmaps", FEAT_7_0_EDX, 3},
    {"fsrm", FEAT_7_0_EDX, 4},
    {"avx512-vp2intersect", FEAT_7_0_EDX, 8},
    {"md-clear", FEAT_7_0_EDX, 10},
    {"serialize", FEAT_7_0_EDX, 14},
    {"tsx-ldtrk", FEAT_7_0_EDX, 16},
    {"arch-lbr", FEAT_7_0_EDX, 19},
    {"avx512-fp16", FEAT_7_0_EDX, 23},
    {"spec-ctrl", FEAT_7_0_EDX, 26},
    {"stibp", FEAT_7_0_EDX, 27},
    {"flush-l1d", FEAT_7_0_EDX, 28},
    {"arch-capabilities", FEAT_7_0_EDX, 29},
    {"core-capability", FEAT_7_0_EDX, 30},
    {"ssbd", FEAT_7_0_EDX, 31},
    {"syscall", FEAT_8000_0001_EDX, 11},
    {"nx", FEAT_8000_0001_EDX, 20},
    {"xd", FEAT_8000_0001_EDX, 20},
    {"mmxext", FEAT_8000_0001_EDX, 22},
    {"fxsr-opt", FEAT_8000_0001_EDX, 25},
    {"ffxsr", FEAT_8000_0001_EDX, 25},
    {"pdpe1gb", FEAT_8000_0001_EDX, 26},
    {"rdtscp", FEAT_8000_0001_EDX, 27},
    {"lm", FEAT_8000_0001_EDX, 29},
    {"i64", FEAT_8000_0001_EDX, 29},
    {"3dnowext", FEAT_8000_0001_EDX, 30},
    {"3dnow", FEAT_8000_0001_EDX, 31},
    {"lahf-lm", FEAT_8000_0001_ECX, 0},
    {"cmp-legacy", FEAT_8000_0001_ECX, 1},
    {"svm", FEAT_8000_0001_ECX, 2},
    {"extapic", FEAT_8000_0001_ECX, 3},
    {"cr8legacy", FEAT_8000_0001_ECX, 4},
    {"abm", FEAT_8000_0001_ECX, 5},
    {"sse4a", FEAT_8000_0001_ECX, 6},
    {"misalignsse", FEAT_8000_0001_ECX, 7},
    {"3dnowprefetch", FEAT_8000_0001_ECX, 8},
    {"osvw", FEAT_8000_0001_ECX, 9},
    {"ibs", FEAT_8000_0001_ECX, 10},
    {"xop", FEAT_8000_0001_ECX, 11},
    {"skinit", FEAT_8000_0001_ECX, 12},
    {"wdt", FEAT_8000_0001_ECX, 13},
    {"lwp", FEAT_8000_0001_ECX, 15},
    {"fma4", FEAT_8000_0001_ECX, 16},
    {"tce", FEAT_8000_0001_ECX, 17},
    {"nodeid-msr", FEAT_8000_0001_ECX, 19},
    {"tbm", FEAT_8000_0001_ECX, 21},
    {"topoext", FEAT_8000_0001_ECX, 22},
    {"perfctr-core", FEAT_8000_0001_ECX, 23},
    {"perfctr-nb", FEAT_8000_0001_ECX, 24},
    {"invtsc", FEAT_8000_0007_EDX, 8},
    /* AMD's speculation controls: each makes IA32_SPEC_CTRL (or, for
     * virt-ssbd, VIRT_SPEC_CTRL) part of the vCPU state (msr.c). */
    {"ibpb", FEAT_8000_0008_EBX, 12},
    {"ibrs", FEAT_8000_0008_EBX, 14},
    {"amd-stibp", FEAT_8000_0008_EBX, 15},
    {"amd-ssbd", FEAT_8000_0008_EBX, 24},
    {"virt-ssbd", FEAT_8000_0008_EBX, 25},
    {"amd-no-ssb", FEAT_8000_0008_EBX, 26},
    {"arat", FEAT_6_EAX, 2},
    {"xsaveopt", FEAT_D_1_EAX, 0},
    {"xsavec", FEAT_D_1_EAX, 1},
    {"xgetbv1", FEAT_D_1_EAX, 2},
    {"xsaves", FEAT_D_1_EAX, 3},
    {"kvmclock", FEAT_KVM, 0},
    {"kvm-nopiodelay", FEAT_KVM, 1},
    {"kvm-mmu", FEAT_KVM, 2},
    {"kvmclock", FEAT_KVM, 3}, /* second bit of the same flag */
    {"kvm-asyncpf", FEAT_KVM, 4},
    {"kvm-steal-time", FEAT_KVM, 5},
    {"kvm-pv-eoi", FEAT_KVM, 6},
    {"kvm-pv-unhalt", FEAT_KVM, 7},
    {"kvm-pv-tlb-flush", FEAT_KVM, 9},
    {"kvm-asyncpf-vmexit", FEAT_KVM, 10},
    {"kvm-pv-ipi", FEAT_KVM, 11},
    {"kvm-poll-control", FEAT_KVM, 12},
    {"kvm-pv-sched-yield", FEAT_KVM, 13},
    {"kvm-asyncpf-int", FEAT_KVM, 14},
    {"kvm-msi-ext-dest-id", FEAT_KVM, 15},
    {"kvmclock-stable-bit", FEAT_KVM, 24},
};

/* Flag masks per word, by name (all table rows with that name). */
static bool feat_mask(const char *name, uint32_t mask[FEAT_NWORDS])
{
    bool found = false;

    memset(mask, 0, sizeof(uint32_t) * FEAT_NWORDS);
    for (size_t i = 0; i < ARRAY_SIZE(feat_names); i++) {
        if (!strcmp(feat_names[i].name, name)) {
            mask[feat_names[i].word] |= 1u << feat_names[i].bit;
            found = true;
        }
    }
    return found;
}

static const char *bit_name(enum x86_feat_word w, unsigned bit)
{
    for (size_t i = 0; i < ARRAY_SIZE(feat_names); i++) {
        if (feat_names[i].word == w && feat_names[i].bit == bit) {
            return feat_names[i].name;
        }
    }
    return NULL;
}

#define PPRO_EDX                                                               \
    ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) |   \
     (1u << 8) | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 24) |           \
     (1u << 23) | (1u << 25) | (1u << 26) | (1u << 6) | (1u << 11) |           \
     (1u << 9))
/* mtrr clflush mca pse36 */
#define MODEL_EXTRA_EDX ((1u << 12) | (1u << 19) | (1u << 14) | (1u << 17))
/* Leaf-1 EDX bits AMD mirrors into 0x80000001 EDX. */
#define AMD_ALIASES 0x0183f3ffu
/* QEMU's KVM defaults: kvmclock (both bits), nopiodelay, asyncpf,
 * steal-time, pv-eoi, asyncpf-int (machine types >= 5.2),
 * kvmclock-stable-bit.  None of them needs a hypercall. */
#define KVM_DEFAULT_FEATS                                                      \
    ((1u << 0) | (1u << 3) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 6) |   \
     (1u << 14) | (1u << 24))

struct model_def {
    const char *name;
    const char *desc;
    const char *vendor;
    unsigned family, model, stepping;
    uint32_t level, xlevel;
    uint32_t feat[FEAT_NWORDS];
};

static const struct model_def named_models[] = {
    {
        .name = "qemu64",
        .desc = "QEMU Virtual CPU version 2.5+",
        .vendor = "AuthenticAMD",
        .family = 15,
        .model = 107,
        .stepping = 1,
        .level = 0xd,
        .xlevel = 0x8000000a,
        .feat =
            {
                [FEAT_1_EDX] = PPRO_EDX | MODEL_EXTRA_EDX,
                /* pni cx16; x2apic and hypervisor are QEMU's KVM defaults */
                [FEAT_1_ECX] = (1u << 0) | (1u << 13) | (1u << 21) | (1u << 31),
                [FEAT_8000_0001_EDX] = (1u << 29) | (1u << 11) | (1u << 20),
                /* lahf_lm; svm is switched off under KVM as in QEMU */
                [FEAT_8000_0001_ECX] = 1u << 0,
                [FEAT_KVM] = KVM_DEFAULT_FEATS,
            },
    },
    {
        .name = "kvm64",
        .desc = "Common KVM processor",
        .vendor = "GenuineIntel",
        .family = 15,
        .model = 6,
        .stepping = 1,
        .level = 0xd,
        .xlevel = 0x80000008,
        .feat =
            {
                [FEAT_1_EDX] = PPRO_EDX | MODEL_EXTRA_EDX | (1u << 1),
                [FEAT_1_ECX] = (1u << 0) | (1u << 13) | (1u << 21) | (1u << 31),
                [FEAT_8000_0001_EDX] = (1u << 29) | (1u << 11) | (1u << 20),
                [FEAT_KVM] = KVM_DEFAULT_FEATS,
            },
    },
};

static const char *const model_names[] = {"host", "max", "qemu64", "kvm64",
                                          NULL};

const char *const *x86_cpu_model_names(void)
{
    return model_names;
}

/* g_ptr_array_sort passes pointers to the elements. */
static gint cmp_str_ptr(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *x86_cpu_model_help(void)
{
    GString *s = g_string_new("Available CPUs:\n");
    GPtrArray *flags = g_ptr_array_new();
    unsigned col = 0;

    g_string_append_printf(s, "x86 %-20s  %s\n", "host",
                           "processor with all supported host features");
    g_string_append_printf(
        s, "x86 %-20s  %s\n", "max",
        "Enables all features supported by the accelerator in the current "
        "host");
    for (size_t i = 0; i < ARRAY_SIZE(named_models); i++) {
        g_string_append_printf(s, "x86 %-20s  %s\n", named_models[i].name,
                               named_models[i].desc);
    }
    g_string_append(s, "\nRecognized CPUID flags:\n");
    for (size_t i = 0; i < ARRAY_SIZE(feat_names); i++) {
        bool dup = false;

        for (size_t j = 0; j < flags->len; j++) {
            dup |= !strcmp(flags->pdata[j], feat_names[i].name);
        }
        if (!dup) {
            g_ptr_array_add(flags, (gpointer)feat_names[i].name);
        }
    }
    g_ptr_array_sort(flags, cmp_str_ptr);
    for (size_t i = 0; i < flags->len; i++) {
        const char *f = flags->pdata[i];

        if (col && col + 1 + strlen(f) > 75) {
            g_string_append_c(s, '\n');
            col = 0;
        }
        g_string_append(s, col ? " " : "  ");
        g_string_append(s, f);
        col += (col ? 1 : 2) + strlen(f);
    }
    g_string_append_c(s, '\n');
    g_ptr_array_free(flags, TRUE);
    return g_string_free(s, FALSE);
}

static uint32_t signature(unsigned family, unsigned model, unsigned stepping)
{
    uint32_t eax = stepping & 0xf;

    eax |= (model & 0xf) << 4 | ((model >> 4) & 0xf) << 16;
    if (family > 0xf) {
        eax |= 0xfu << 8 | (family - 0xf) << 20;
    } else {
        eax |= family << 8;
    }
    return eax;
}

static void copy_regs_str(char *dst, const struct kvm_cpuid_entry2 *e,
                          const int *order, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t v = *x86_cpuid_reg((struct kvm_cpuid_entry2 *)e, order[i]);
        memcpy(dst + 4 * i, &v, 4);
    }
}

static bool model_from_host(struct x86_cpu_model *m, struct kvm_accel *k)
{
    const struct kvm_cpuid_entry2 *e;
    static const int vendor_order[] = {1, 3, 2};
    static const int brand_order[] = {0, 1, 2, 3};

    m->host = true;
    e = x86_cpuid_find_const(k->supported_cpuid, 0, 0);
    if (e) {
        copy_regs_str(m->vendor, e, vendor_order, 3);
        m->level = e->eax;
    }
    e = x86_cpuid_find_const(k->supported_cpuid, 1, 0);
    m->signature = e ? e->eax : 0;
    for (uint32_t l = 0; l < 3; l++) {
        e = x86_cpuid_find_const(k->supported_cpuid, 0x80000002 + l, 0);
        if (e) {
            copy_regs_str(m->model_id + 16 * l, e, brand_order, 4);
        }
    }
    for (int w = 0; w < FEAT_NWORDS; w++) {
        m->feat[w] = x86_cpuid_supported_word(k, w);
    }
    return true;
}

static void model_from_def(struct x86_cpu_model *m, const struct model_def *d)
{
    g_strlcpy(m->vendor, d->vendor, sizeof(m->vendor));
    g_strlcpy(m->model_id, d->desc, sizeof(m->model_id));
    m->level = d->level;
    m->xlevel = d->xlevel;
    m->signature = signature(d->family, d->model, d->stepping);
    memcpy(m->feat, d->feat, sizeof(m->feat));
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
        return true;
    }
    return false;
}

/* QEMU turns '_' into '-' in flag names (lahf_lm, sse4_1, tsc_deadline). */
static char *canon_flag(const char *f)
{
    char *c = g_strdup(f);

    for (char *p = c; *p; p++) {
        if (*p == '_') {
            *p = '-';
        }
    }
    return c;
}

static void apply_mask(uint32_t *feat, const uint32_t *mask, bool on)
{
    for (int w = 0; w < FEAT_NWORDS; w++) {
        feat[w] = on ? feat[w] | mask[w] : feat[w] & ~mask[w];
    }
}

static char *model_list(void)
{
    GString *s = g_string_new(NULL);

    for (size_t i = 0; model_names[i]; i++) {
        g_string_append_printf(s, "%s%s", i ? ", " : "", model_names[i]);
    }
    return g_string_free(s, FALSE);
}

struct x86_cpu_model *x86_cpu_model_new(struct kvm_accel *k, const char *text,
                                        unsigned nr_cpus, unsigned sockets,
                                        unsigned cores, unsigned threads,
                                        Error **errp)
{
    g_autofree char *canon = NULL;
    g_auto(GStrv) parts = NULL;
    struct x86_cpu_model *m;
    uint32_t on_mask[FEAT_NWORDS] = {0}, off_mask[FEAT_NWORDS] = {0};
    uint32_t plus[FEAT_NWORDS] = {0}, minus[FEAT_NWORDS] = {0};
    bool enforce = false, migratable = true;
    const char *name;

    if (!kvm_wait_supported_cpuid(k, errp)) {
        return NULL;
    }
    if (!k->supported_cpuid) {
        error_setg(errp, "-cpu: KVM's supported CPUID is not known");
        return NULL;
    }
    /* Each APIC-id field must fit: 8 bits of xAPIC id are not a limit
     * here (x2APIC), but 2^31 would overflow the packing. */
    if (!nr_cpus || !sockets || !cores || !threads || sockets > 65536 ||
        cores > 65536 || threads > 65536 ||
        (uint64_t)sockets * cores * threads < nr_cpus ||
        (uint64_t)sockets * cores * threads > (1u << 24)) {
        error_setg(errp,
                   "-cpu: bad topology: %u CPUs on %u sockets x %u cores x "
                   "%u threads",
                   nr_cpus, sockets, cores, threads);
        return NULL;
    }
    parts = g_strsplit(text && *text ? text : "qemu64", ",", -1);
    name = parts[0];
    m = g_new0(struct x86_cpu_model, 1);
    m->nr_cpus = nr_cpus;
    m->sockets = sockets;
    m->cores = cores;
    m->threads = threads;
    m->supported = k->supported_cpuid;

    if (!strcmp(name, "host") || !strcmp(name, "max")) {
        model_from_host(m, k);
    } else {
        const struct model_def *d = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(named_models); i++) {
            if (!strcmp(named_models[i].name, name)) {
                d = &named_models[i];
            }
        }
        if (!d) {
            g_autofree char *list = model_list();

            error_setg(errp,
                       "unable to find CPU model '%s' (available: %s; see "
                       "-cpu help)",
                       name, list);
            x86_cpu_model_free(m);
            return NULL;
        }
        model_from_def(m, d);
    }
    m->name = g_strdup(name);

    for (size_t i = 1; parts[i]; i++) {
        const char *p = parts[i];
        uint32_t mask[FEAT_NWORDS];
        g_autofree char *flag = NULL;
        char *eq;
        bool val = true;

        if (!*p) {
            continue;
        }
        if (p[0] == '+' || p[0] == '-') {
            flag = canon_flag(p + 1);
            if (!feat_mask(flag, mask)) {
                error_setg(errp, "CPU feature %s not found", p + 1);
                x86_cpu_model_free(m);
                return NULL;
            }
            apply_mask(p[0] == '+' ? plus : minus, mask, true);
            continue;
        }
        eq = strchr(p, '=');
        flag = eq ? g_strndup(p, eq - p) : g_strdup(p);
        if (!strcmp(flag, "enforce") || !strcmp(flag, "check")) {
            if (eq && !parse_bool(eq + 1, &val)) {
                error_setg(errp, "-cpu %s: '%s' is not on or off", flag,
                           eq + 1);
                x86_cpu_model_free(m);
                return NULL;
            }
            if (!strcmp(flag, "enforce")) {
                enforce = val;
            }
            continue;
        }
        if (!strcmp(flag, "migratable")) {
            if (!eq || !parse_bool(eq + 1, &migratable)) {
                error_setg(errp, "-cpu migratable: expected on or off");
                x86_cpu_model_free(m);
                return NULL;
            }
            continue;
        }
        {
            g_autofree char *c = canon_flag(flag);

            if (!feat_mask(c, mask)) {
                error_setg(errp, "CPU feature %s not found", flag);
                x86_cpu_model_free(m);
                return NULL;
            }
        }
        /* A bare flag means flag=on, as in QEMU. */
        if (eq && !parse_bool(eq + 1, &val)) {
            error_setg(errp, "-cpu %s=%s: value must be on or off", flag,
                       eq + 1);
            x86_cpu_model_free(m);
            return NULL;
        }
        apply_mask(val ? on_mask : off_mask, mask, true);
        apply_mask(val ? off_mask : on_mask, mask, false);
    }

    /* The only unmigratable feature we pass through is invtsc: host drops
     * it unless migratable=off (QEMU's default is on), or +invtsc. */
    if (m->host && migratable) {
        m->feat[FEAT_8000_0007_EDX] &= ~(1u << 8);
    }
    apply_mask(m->feat, on_mask, true);
    apply_mask(m->feat, off_mask, false);
    apply_mask(m->feat, plus, true);
    apply_mask(m->feat, minus, false);

    /* Dependencies: without xsave there is no leaf 0xD subleaf 1. */
    if (!(m->feat[FEAT_1_ECX] & (1u << 26))) {
        m->feat[FEAT_D_1_EAX] = 0;
    }

    /* Filter against KVM. */
    for (int w = 0; w < FEAT_NWORDS; w++) {
        uint32_t sup = x86_cpuid_supported_word(k, w);
        uint32_t missing = m->feat[w] & ~sup;

        for (unsigned b = 0; b < 32; b++) {
            const char *fname;

            if (!(missing & (1u << b))) {
                continue;
            }
            fname = bit_name(w, b);
            if (enforce) {
                error_setg(errp,
                           "host doesn't support requested feature: %s.%s "
                           "[bit %u]",
                           x86_feat_words[w].label, fname ? fname : "?", b);
                x86_cpu_model_free(m);
                return NULL;
            }
            warn_report("host doesn't support requested feature: %s.%s "
                        "[bit %u]",
                        x86_feat_words[w].label, fname ? fname : "?", b);
        }
        m->filtered[w] = missing;
        m->feat[w] &= sup;
    }
    /* AMD mirrors leaf-1 EDX bits into 0x80000001 EDX; they are backed by
     * the (filtered) leaf-1 bits, whatever the host vendor reports. */
    if (!m->host && !strcmp(m->vendor, "AuthenticAMD")) {
        m->feat[FEAT_8000_0001_EDX] |= m->feat[FEAT_1_EDX] & AMD_ALIASES;
    }
    return m;
}

void x86_cpu_model_free(struct x86_cpu_model *m)
{
    if (m) {
        g_free(m->name);
        g_free(m);
    }
}

const char *x86_cpu_model_name(const struct x86_cpu_model *m)
{
    return m->name;
}

bool x86_cpu_model_has_feature(const struct x86_cpu_model *m, const char *name)
{
    uint32_t mask[FEAT_NWORDS];
    g_autofree char *c = canon_flag(name);

    if (!feat_mask(c, mask)) {
        return false;
    }
    for (int w = 0; w < FEAT_NWORDS; w++) {
        if ((m->feat[w] & mask[w]) != mask[w]) {
            return false;
        }
    }
    return true;
}

size_t x86_cpu_nr_feature_names(void)
{
    return ARRAY_SIZE(feat_names);
}

const char *x86_cpu_feature_name(size_t i)
{
    return i < ARRAY_SIZE(feat_names) ? feat_names[i].name : NULL;
}

GPtrArray *x86_cpu_model_unavailable(const struct x86_cpu_model *m)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    for (int w = 0; w < FEAT_NWORDS; w++) {
        for (unsigned b = 0; b < 32; b++) {
            const char *n = bit_name(w, b);

            if ((m->filtered[w] & (1u << b)) && n) {
                g_ptr_array_add(names, g_strdup(n));
            }
        }
    }
    return names;
}

void x86_cpu_model_ident(const struct x86_cpu_model *m, unsigned *family,
                         unsigned *model, unsigned *stepping,
                         const char **vendor, const char **model_id)
{
    uint32_t sig = m->signature;
    unsigned base = (sig >> 8) & 0xf;

    *family = base + (base == 0xf ? (sig >> 20) & 0xff : 0);
    *model = ((sig >> 4) & 0xf) | ((sig >> 12) & 0xf0);
    *stepping = sig & 0xf;
    *vendor = m->vendor;
    *model_id = m->model_id;
}

uint32_t x86_cpu_model_apic_id(const struct x86_cpu_model *m, unsigned index)
{
    return x86_cpuid_apic_id(m, index);
}

void x86_cpu_model_set_mem_encrypt(struct x86_cpu_model *model, uint32_t eax,
                                   uint32_t ebx)
{
    model->has_mem_encrypt = true;
    model->mem_encrypt_eax = eax;
    model->mem_encrypt_ebx = ebx;
}
