/* SPDX-License-Identifier: MIT */
/*
 * test-cpu-models.c: -cpu parsing and the CPUID tables it produces
 * (target-i386/cpu-models.c, cpuid.c) against the fake KVM backend's
 * Intel-like host: models, +/-/=on/off precedence, QEMU's aliases, errors
 * for unknown models/flags/values, flags KVM cannot provide (dropped, or an
 * error with enforce), topology in leaves 1/4/0xB, the KVM paravirt leaves,
 * and the -cpu help / query-cpu-definitions lists.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "target-i386/cpu.h"
#include "tests/unit/fake-kvm.h"
#include "qapi/json-value.h"
#include "qapi/qmp-qom.h"

static struct x86_cpu_model *parse(struct fake_kvm *f, const char *text,
                                   Error **errp)
{
    return x86_cpu_model_new(&f->accel, text, 1, 1, 1, 1, errp);
}

static bool has(struct fake_kvm *f, const char *text, const char *flag)
{
    Error *err = NULL;
    struct x86_cpu_model *m = parse(f, text, &err);
    bool r;

    if (!m) {
        g_error("%s: %s", text, error_get_pretty(err));
    }
    r = x86_cpu_model_has_feature(m, flag);
    x86_cpu_model_free(m);
    return r;
}

static char *parse_error(struct fake_kvm *f, const char *text)
{
    Error *err = NULL;
    struct x86_cpu_model *m = parse(f, text, &err);
    char *msg;

    g_assert_null(m);
    g_assert_nonnull(err);
    msg = g_strdup(error_get_pretty(err));
    error_free(err);
    return msg;
}

static void test_models(void)
{
    struct fake_kvm f;
    struct x86_cpu_model *m;

    fake_kvm_init(&f);
    m = parse(&f, "qemu64", NULL);
    g_assert_cmpstr(x86_cpu_model_name(m), ==, "qemu64");
    x86_cpu_model_free(m);
    m = parse(&f, "", NULL); /* the default model */
    g_assert_cmpstr(x86_cpu_model_name(m), ==, "qemu64");
    x86_cpu_model_free(m);

    /* qemu64 under KVM as QEMU builds it. */
    g_assert_true(has(&f, "qemu64", "pni"));
    g_assert_true(has(&f, "qemu64", "cx16"));
    g_assert_true(has(&f, "qemu64", "sse2"));
    g_assert_true(has(&f, "qemu64", "lm"));
    g_assert_true(has(&f, "qemu64", "nx"));
    g_assert_true(has(&f, "qemu64", "syscall"));
    g_assert_true(has(&f, "qemu64", "lahf_lm"));
    g_assert_true(has(&f, "qemu64", "x2apic"));
    g_assert_true(has(&f, "qemu64", "hypervisor"));
    g_assert_true(has(&f, "qemu64", "kvmclock"));
    g_assert_true(has(&f, "qemu64", "kvm-pv-eoi"));
    g_assert_true(has(&f, "qemu64", "kvm-asyncpf-int"));
    g_assert_true(has(&f, "qemu64", "kvmclock-stable-bit"));
    g_assert_false(has(&f, "qemu64", "kvm-pv-ipi")); /* hypercall-based */
    g_assert_false(has(&f, "qemu64", "svm"));
    g_assert_false(has(&f, "qemu64", "avx"));
    g_assert_false(has(&f, "qemu64", "sse4.1"));
    g_assert_true(has(&f, "kvm64", "vme"));
    g_assert_false(has(&f, "qemu64", "vme"));

    /* host and max: everything the fake KVM offers. */
    g_assert_true(has(&f, "host", "avx2"));
    g_assert_true(has(&f, "host", "sse4.2"));
    g_assert_true(has(&f, "host", "arch-capabilities"));
    g_assert_true(has(&f, "host", "tsc-deadline"));
    g_assert_true(has(&f, "max", "avx2"));
    g_assert_true(has(&f, "max", "rdtscp"));
    g_assert_false(has(&f, "host", "avx512f"));
    /* migratable=on (QEMU's default) drops invtsc unless asked for. */
    g_assert_true(has(&f, "host,migratable=off", "invtsc"));
    g_assert_false(has(&f, "host,migratable=on", "invtsc"));
    g_assert_false(has(&f, "host", "invtsc"));
    g_assert_true(has(&f, "host,+invtsc", "invtsc"));
    g_assert_true(has(&f, "host,+invtsc,migratable=on", "invtsc"));
    fake_kvm_destroy(&f);
}

static void test_flags(void)
{
    struct fake_kvm f;

    fake_kvm_init(&f);
    g_assert_true(has(&f, "qemu64,+avx", "avx"));
    g_assert_false(has(&f, "qemu64,-cx16", "cx16"));
    g_assert_true(has(&f, "qemu64,avx=on", "avx"));
    g_assert_false(has(&f, "qemu64,avx=on,avx=off", "avx"));
    g_assert_true(has(&f, "qemu64,avx=off,avx=on", "avx"));
    g_assert_true(has(&f, "qemu64,avx", "avx")); /* bare = on */
    /* QEMU precedence: -feat beats +feat beats feat=on|off. */
    g_assert_false(has(&f, "qemu64,-avx,avx=on", "avx"));
    g_assert_false(has(&f, "qemu64,avx=on,-avx", "avx"));
    g_assert_false(has(&f, "qemu64,-avx,+avx", "avx"));
    g_assert_true(has(&f, "qemu64,+avx,avx=off", "avx"));
    /* Aliases and '_' for '-'. */
    g_assert_true(has(&f, "qemu64,+sse4_1", "sse4.1"));
    g_assert_true(has(&f, "qemu64,sse4-2=on", "sse4.2"));
    g_assert_true(has(&f, "qemu64,+tsc_deadline", "tsc-deadline"));
    g_assert_false(has(&f, "qemu64,lahf_lm=off", "lahf-lm"));
    g_assert_false(has(&f, "qemu64,-sse3", "pni"));
    g_assert_false(has(&f, "qemu64,kvmclock=off", "kvmclock"));
    g_assert_true(has(&f, "qemu64,avx=yes", "avx"));
    g_assert_false(has(&f, "host,avx=false", "avx"));
    fake_kvm_destroy(&f);
}

/* What libvirt reads from a vCPU at start (qom-list, then qom-get of
 * every feature and "unavailable-features"): the model's real flags. */
static struct json_value *cpu_get(const struct x86_cpu_model *m,
                                  const char *prop)
{
    Error *err = NULL;
    struct json_value *v = qom_cpu_get(m, prop, &err);

    if (!v) {
        g_error("qom-get %s: %s", prop, error_get_pretty(err));
    }
    return v;
}

static void test_qom_get(void)
{
    struct fake_kvm f;
    struct x86_cpu_model *m;
    struct json_value *v;
    Error *err = NULL;
    unsigned bools = 0;

    fake_kvm_init(&f);
    m = parse(&f, "qemu64,+svm,-cx16,+avx", &err);
    g_assert_nonnull(m);
    for (size_t i = 0; i < x86_cpu_nr_feature_names(); i++) {
        const char *name = x86_cpu_feature_name(i);

        v = cpu_get(m, name);
        g_assert_true(json_is(v, JSON_BOOL));
        g_assert_cmpint(v->u.b, ==, x86_cpu_model_has_feature(m, name));
        bools++;
        json_free(v);
    }
    g_assert_cmpuint(bools, >, 100);
    v = cpu_get(m, "avx");
    g_assert_true(v->u.b);
    json_free(v);
    v = cpu_get(m, "cx16");
    g_assert_false(v->u.b);
    json_free(v);
    /* an alias answers like its flag */
    v = cpu_get(m, "sse3");
    g_assert_true(v->u.b);
    json_free(v);
    /* svm was asked for, but the fake KVM cannot give it */
    v = cpu_get(m, "unavailable-features");
    g_assert_true(json_is(v, JSON_ARRAY));
    g_assert_cmpuint(json_array_len(v), ==, 1);
    g_assert_cmpstr(json_string(json_array_get(v, 0)), ==, "svm");
    json_free(v);
    v = cpu_get(m, "family");
    g_assert_cmpint(v->u.i, ==, 15);
    json_free(v);
    v = cpu_get(m, "model");
    g_assert_cmpint(v->u.i, ==, 107);
    json_free(v);
    v = cpu_get(m, "vendor");
    g_assert_cmpstr(json_string(v), ==, "AuthenticAMD");
    json_free(v);
    g_assert_null(qom_cpu_get(m, "no-such-flag", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Property 'qemu64-x86_64-cpu.no-such-flag' not found");
    error_free(err);
    x86_cpu_model_free(m);
    fake_kvm_destroy(&f);
}

static void test_errors(void)
{
    struct fake_kvm f;
    g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
    g_autofree char *e5 = NULL, *e6 = NULL, *e7 = NULL;
    Error *err = NULL;

    fake_kvm_init(&f);
    e1 = parse_error(&f, "pentium9");
    g_assert_nonnull(strstr(e1, "'pentium9'"));
    g_assert_nonnull(strstr(e1, "host, max, qemu64, kvm64"));
    e2 = parse_error(&f, "qemu64,+frobnicate");
    g_assert_cmpstr(e2, ==, "CPU feature frobnicate not found");
    e3 = parse_error(&f, "qemu64,frobnicate=on");
    g_assert_cmpstr(e3, ==, "CPU feature frobnicate not found");
    e4 = parse_error(&f, "qemu64,avx=maybe");
    g_assert_nonnull(strstr(e4, "avx=maybe"));
    e5 = parse_error(&f, "qemu64,-nosuch");
    g_assert_cmpstr(e5, ==, "CPU feature nosuch not found");
    /* KVM cannot give svm here: dropped with a warning... */
    g_assert_false(has(&f, "qemu64,+svm", "svm"));
    g_assert_false(has(&f, "host,avx512f=on", "avx512f"));
    /* ...or refused with enforce, naming the flag and its register. */
    e6 = parse_error(&f, "qemu64,+svm,enforce");
    g_assert_cmpstr(e6, ==,
                    "host doesn't support requested feature: "
                    "CPUID.80000001H:ECX.svm [bit 2]");
    e7 = parse_error(&f, "host,migratable=perhaps");
    g_assert_nonnull(strstr(e7, "migratable"));
    /* Bad topology. */
    g_assert_null(x86_cpu_model_new(&f.accel, "qemu64", 8, 1, 2, 2, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "topology"));
    error_free(err);
    err = NULL;
    g_assert_null(
        x86_cpu_model_new(&f.accel, "qemu64", 1, 1, 0x80000000u, 1, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "topology"));
    error_free(err);
    err = NULL;
    g_assert_null(x86_cpu_model_new(&f.accel, "qemu64", 0, 1, 1, 1, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "topology"));
    error_free(err);
    fake_kvm_destroy(&f);
}

static uint32_t cpuid_of(struct fake_kvm *f, struct x86_cpu_model *m,
                         unsigned index, uint32_t leaf, uint32_t sub, int reg)
{
    Error *err = NULL;
    struct x86_cpu *c = x86_cpu_new(&f->accel, FAKE_VCPU_FD, index, m, &err);
    uint32_t v;

    g_assert_null(err);
    v = fake_kvm_cpuid(f, leaf, sub, reg);
    x86_cpu_free(c);
    return v;
}

static void test_topology(void)
{
    struct fake_kvm f;
    struct x86_cpu_model *m;
    Error *err = NULL;

    fake_kvm_init(&f);
    /* 2 sockets x 2 cores x 2 threads. vCPU 5: socket 1, core 0,
     * thread 1 -> APIC id 0b101. */
    m = x86_cpu_model_new(&f.accel, "qemu64", 8, 2, 2, 2, &err);
    g_assert_null(err);
    g_assert_cmphex(cpuid_of(&f, m, 5, 1, 0, 1) >> 24, ==, 5);
    g_assert_cmphex((cpuid_of(&f, m, 5, 1, 0, 1) >> 16) & 0xff, ==, 4);
    g_assert_cmphex(cpuid_of(&f, m, 5, 1, 0, 3) & (1u << 28), !=, 0); /* ht */
    g_assert_cmphex(cpuid_of(&f, m, 5, 0xb, 0, 0), ==, 1);
    g_assert_cmphex(cpuid_of(&f, m, 5, 0xb, 0, 1), ==, 2);
    g_assert_cmphex(cpuid_of(&f, m, 5, 0xb, 0, 2), ==, 0x100);
    g_assert_cmphex(cpuid_of(&f, m, 5, 0xb, 0, 3), ==, 5);
    g_assert_cmphex(cpuid_of(&f, m, 5, 0xb, 1, 0), ==, 2);
    g_assert_cmphex(cpuid_of(&f, m, 5, 0xb, 1, 1), ==, 4);
    g_assert_cmphex(cpuid_of(&f, m, 5, 0xb, 1, 2), ==, 0x201);
    g_assert_cmphex(cpuid_of(&f, m, 5, 0xb, 2, 2), ==, 2);
    /* Leaf 4: L1d shared by the 2 threads, L3 by the package (4). */
    g_assert_cmphex((cpuid_of(&f, m, 5, 4, 0, 0) >> 14) & 0xfff, ==, 1);
    g_assert_cmphex((cpuid_of(&f, m, 5, 4, 3, 0) >> 14) & 0xfff, ==, 3);
    g_assert_cmphex(cpuid_of(&f, m, 5, 4, 0, 0) >> 26, ==, 1);
    g_assert_cmphex(cpuid_of(&f, m, 5, 4, 4, 0) & 0x1f, ==, 0);
    x86_cpu_model_free(m);

    /* 3 cores: ids are not dense across sockets (2 bits of core id). */
    m = x86_cpu_model_new(&f.accel, "host", 6, 2, 3, 1, &err);
    g_assert_null(err);
    g_assert_cmphex(cpuid_of(&f, m, 3, 1, 0, 1) >> 24, ==, 4);
    g_assert_cmpuint(x86_cpu_model_apic_id(m, 3), ==, 4);
    g_assert_cmpuint(x86_cpu_model_apic_id(m, 5), ==, 6);
    g_assert_cmphex(cpuid_of(&f, m, 2, 1, 0, 1) >> 24, ==, 2);
    /* host keeps KVM's cache geometry, rewrites the sharing fields. */
    g_assert_cmphex(cpuid_of(&f, m, 2, 4, 2, 0) & 0x3fff, ==, 0x143);
    g_assert_cmphex(cpuid_of(&f, m, 2, 4, 2, 0) >> 26, ==, 3);
    x86_cpu_model_free(m);

    /* Single vCPU: no ht, count 0. */
    m = x86_cpu_model_new(&f.accel, "qemu64", 1, 1, 1, 1, &err);
    g_assert_cmphex(cpuid_of(&f, m, 0, 1, 0, 3) & (1u << 28), ==, 0);
    x86_cpu_model_free(m);
    fake_kvm_destroy(&f);
}

static void test_leaves(void)
{
    struct fake_kvm f;
    struct x86_cpu_model *m;
    char sig[13] = {0};
    uint32_t r;

    fake_kvm_init(&f);
    m = parse(&f, "qemu64,-kvm-pv-eoi", NULL);
    r = cpuid_of(&f, m, 0, 0x40000000, 0, 1);
    memcpy(sig, &r, 4);
    r = cpuid_of(&f, m, 0, 0x40000000, 0, 2);
    memcpy(sig + 4, &r, 4);
    r = cpuid_of(&f, m, 0, 0x40000000, 0, 3);
    memcpy(sig + 8, &r, 4);
    g_assert_cmpmem(sig, 12, "KVMKVMKVM\0\0\0", 12);
    g_assert_cmphex(cpuid_of(&f, m, 0, 0x40000000, 0, 0), ==, 0x40000001);
    r = cpuid_of(&f, m, 0, 0x40000001, 0, 0);
    g_assert_cmphex(r & 0x9, ==, 0x9);     /* kvmclock, both bits */
    g_assert_cmphex(r & (1u << 6), ==, 0); /* -kvm-pv-eoi */
    g_assert_cmphex(r & (1u << 5), !=, 0); /* steal time */
    /* Vendor, levels and the AMD mirror of leaf-1 EDX. */
    r = cpuid_of(&f, m, 0, 0, 0, 1);
    g_assert_cmpmem(&r, 4, "Auth", 4);
    g_assert_cmphex(cpuid_of(&f, m, 0, 0, 0, 0), ==, 0xd);
    g_assert_cmphex(cpuid_of(&f, m, 0, 0x80000000, 0, 0), ==, 0x8000000a);
    g_assert_cmphex(cpuid_of(&f, m, 0, 0x80000001, 0, 3) & 1, ==, 1);
    /* Physical address bits: never more than the host's 39. */
    g_assert_cmphex(cpuid_of(&f, m, 0, 0x80000008, 0, 0), ==, 0x3027);
    x86_cpu_model_free(m);

    /* host: KVM's leaves pass through (leaf 7), flags still apply. */
    m = parse(&f, "host,-avx2", NULL);
    r = cpuid_of(&f, m, 0, 7, 0, 1);
    g_assert_cmphex(r & (1u << 5), ==, 0);
    g_assert_cmphex(r & (1u << 7), !=, 0); /* smep */
    g_assert_cmphex(cpuid_of(&f, m, 0, 0xd, 0, 0), ==, 7);
    x86_cpu_model_free(m);
    m = parse(&f, "host,-xsave", NULL);
    g_assert_cmphex(cpuid_of(&f, m, 0, 0xd, 0, 0), ==, 0);
    x86_cpu_model_free(m);
    /* A named model with avx gets the x87|SSE|AVX xsave leaf. */
    m = parse(&f, "qemu64,+xsave,+avx", NULL);
    g_assert_cmphex(cpuid_of(&f, m, 0, 0xd, 0, 0), ==, 7);
    g_assert_cmphex(cpuid_of(&f, m, 0, 0xd, 0, 1), ==, 0x340);
    x86_cpu_model_free(m);
    fake_kvm_destroy(&f);
}

static void test_help(void)
{
    g_autofree char *h = x86_cpu_model_help();
    const char *const *names = x86_cpu_model_names();
    unsigned n = 0;

    g_assert_nonnull(strstr(h, "Available CPUs:\n"));
    g_assert_nonnull(strstr(h, "x86 qemu64                "
                               "QEMU Virtual CPU version 2.5+\n"));
    g_assert_nonnull(strstr(h, "x86 host "));
    g_assert_nonnull(strstr(h, "\nRecognized CPUID flags:\n"));
    {
        g_auto(GStrv) words =
            g_strsplit_set(strstr(h, "flags:\n") + 7, " \n", -1);
        unsigned kvmclock = 0, sse41 = 0, eoi = 0;

        for (unsigned i = 0; words[i]; i++) {
            kvmclock += !strcmp(words[i], "kvmclock");
            sse41 += !strcmp(words[i], "sse4.1");
            eoi += !strcmp(words[i], "kvm-pv-eoi");
        }
        /* each flag once, even when several bits share it */
        g_assert_cmpuint(kvmclock, ==, 1);
        g_assert_cmpuint(sse41, ==, 1);
        g_assert_cmpuint(eoi, ==, 1);
    }
    for (; names[n]; n++) {
        g_autofree char *line = g_strdup_printf("x86 %-20s", names[n]);

        g_assert_nonnull(strstr(h, line));
    }
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpstr(names[2], ==, "qemu64");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-models/qom-get", test_qom_get);
    g_test_add_func("/cpu-models/models", test_models);
    g_test_add_func("/cpu-models/flags", test_flags);
    g_test_add_func("/cpu-models/errors", test_errors);
    g_test_add_func("/cpu-models/topology", test_topology);
    g_test_add_func("/cpu-models/leaves", test_leaves);
    g_test_add_func("/cpu-models/help", test_help);
    return g_test_run();
}
