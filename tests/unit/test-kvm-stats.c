/* SPDX-License-Identifier: MIT */
/*
 * test-kvm-stats.c: query-stats and query-stats-schemas (qapi/qmp-stats.c)
 * over KVM's binary statistics files (accel/kvm/stats.c), with the fake
 * KVM laying the files out as KVM does (header, id, descriptors, data):
 * the values and descriptors mapped as QEMU maps them (number, boolean,
 * histogram list; unit, base, exponent, bucket size), the provider, name
 * and vCPU filters, no provider without the capability, and hostile files
 * (truncated, implausible counts) refused with an error naming what was
 * wrong.  The real path (vcpu_new taking the fd) needs /dev/kvm.
 */
#include "util/common.h"
#include "accel/kvm/stats.h"
#include "accel/kvm/vcpu.h"
#include "qapi/json-parse.h"
#include "qapi/json-value.h"
#include "qapi/qapi-gen-types.h"
#include "system/machine.h"
#include "tests/unit/fake-kvm.h"

#include <unistd.h>

static const uint64_t v_exits[] = {1234};
static const uint64_t v_halt_ns[] = {5000};
static const uint64_t v_bool[] = {1};
static const uint64_t v_hist[] = {3, 0, 7, 1};
static const uint64_t v_pages[] = {42};

static const struct fake_stat vm_stats[] = {
    {"remote_tlb_flush", KVM_STATS_TYPE_CUMULATIVE, 0, 0, 1, v_exits},
    {"pages_4k", KVM_STATS_TYPE_INSTANT, 0, 0, 1, v_pages},
    {"max_mmu_page_hash_collisions", KVM_STATS_TYPE_PEAK, 0, 0, 1, v_pages},
};

static const struct fake_stat vcpu_stats[] = {
    {"halt_poll_success_ns",
     KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10,
     -9, 0, 1, v_halt_ns},
    {"guest_mode", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN, 0, 0, 1,
     v_bool},
    {"halt_poll_success_hist",
     KVM_STATS_TYPE_LINEAR_HIST | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW2,
     -3, 64, 4, v_hist},
    {"exits", KVM_STATS_TYPE_CUMULATIVE, 0, 0, 1, v_exits},
};

struct sfx {
    struct fake_kvm f;
    struct machine m;
    struct vcpu cpus[2];
    struct vcpu *ptrs[2];
};

static void sfx_init(struct sfx *s, bool cap)
{
    memset(s, 0, sizeof(*s));
    fake_kvm_init(&s->f);
    s->f.accel.vm_fd = FAKE_VM_FD;
    s->f.accel.has_stats_fd = cap;
    if (cap) {
        fake_kvm_set_stats(&s->f, false, vm_stats, G_N_ELEMENTS(vm_stats));
        fake_kvm_set_stats(&s->f, true, vcpu_stats, G_N_ELEMENTS(vcpu_stats));
    }
    s->m.kvm = &s->f.accel;
    for (unsigned i = 0; i < 2; i++) {
        s->cpus[i].index = i;
        /* as vcpu_new takes it */
        s->cpus[i].stats_fd = kvm_stats_vcpu_fd(&s->f.accel, FAKE_VCPU_FD);
        s->ptrs[i] = &s->cpus[i];
    }
    s->m.vcpus = s->ptrs;
    s->m.nr_vcpus = 2;
}

static void sfx_fini(struct sfx *s)
{
    for (unsigned i = 0; i < 2; i++) {
        if (s->cpus[i].stats_fd >= 0) {
            close(s->cpus[i].stats_fd);
        }
    }
    fake_kvm_destroy(&s->f);
}

/* The reply as JSON text (the wire form libvirt parses). */
static char *results_json(GPtrArray *l)
{
    GString *out = g_string_new("[");

    for (guint i = 0; i < l->len; i++) {
        struct json_value *j =
            qapi_stats_result_to_json(g_ptr_array_index(l, i));
        char *t = json_to_string(j);

        g_string_append_printf(out, "%s%s", i ? "," : "", t);
        g_free(t);
        json_free(j);
        qapi_stats_result_free(g_ptr_array_index(l, i));
    }
    g_ptr_array_free(l, TRUE);
    g_string_append(out, "]");
    return g_string_free(out, FALSE);
}

static char *query(struct machine *m, const char *filter_json)
{
    Error *err = NULL;
    char *perr = NULL;
    struct json_value *j = json_parse(filter_json, strlen(filter_json), &perr);
    struct qapi_stats_filter *f = NULL;
    GPtrArray *l;

    g_assert_null(perr);
    g_assert_true(qapi_stats_filter_parse(j, NULL, &f, &err));
    json_free(j);
    l = qmp_query_stats(m, f, &err);
    qapi_stats_filter_free(f);
    if (!l) {
        char *msg = g_strdup_printf("error: %s", error_get_pretty(err));

        error_free(err);
        return msg;
    }
    return results_json(l);
}

static void test_no_provider(void)
{
    struct sfx s;
    Error *err = NULL;
    GPtrArray *l;
    char *r;

    /* a KVM without KVM_CAP_BINARY_STATS_FD: no vCPU fd taken either */
    sfx_init(&s, false);
    g_assert_cmpint(s.cpus[0].stats_fd, ==, -1);
    r = query(&s.m, "{\"target\":\"vm\"}");
    g_assert_cmpstr(r, ==, "[]");
    g_free(r);
    l = qmp_query_stats_schemas(&s.m, false, 0, &err);
    g_assert_cmpuint(l->len, ==, 0);
    g_ptr_array_free(l, TRUE);
    sfx_fini(&s);
    /* no KVM at all (-M none under TCG) */
    memset(&s.m, 0, sizeof(s.m));
    r = query(&s.m, "{\"target\":\"vcpu\"}");
    g_assert_cmpstr(r, ==, "[]");
    g_free(r);
}

static void test_vm(void)
{
    struct sfx s;
    char *r;

    sfx_init(&s, true);
    r = query(&s.m, "{\"target\":\"vm\"}");
    g_assert_cmpstr(r, ==,
                    "[{\"provider\":\"kvm\",\"stats\":["
                    "{\"name\":\"remote_tlb_flush\",\"value\":1234},"
                    "{\"name\":\"pages_4k\",\"value\":42},"
                    "{\"name\":\"max_mmu_page_hash_collisions\","
                    "\"value\":42}]}]");
    g_free(r);
    /* names: only those, unknown ones ignored */
    r = query(&s.m, "{\"target\":\"vm\",\"providers\":[{\"provider\":"
                    "\"kvm\",\"names\":[\"pages_4k\",\"nosuch\"]}]}");
    g_assert_cmpstr(r, ==,
                    "[{\"provider\":\"kvm\",\"stats\":["
                    "{\"name\":\"pages_4k\",\"value\":42}]}]");
    g_free(r);
    /* nothing left after the names filter: no entry at all */
    r = query(&s.m, "{\"target\":\"vm\",\"providers\":[{\"provider\":"
                    "\"kvm\",\"names\":[\"nosuch\"]}]}");
    g_assert_cmpstr(r, ==, "[]");
    g_free(r);
    /* an empty providers list asks for no provider */
    r = query(&s.m, "{\"target\":\"vm\",\"providers\":[]}");
    g_assert_cmpstr(r, ==, "[]");
    g_free(r);
    /* the values are read afresh on each query */
    {
        static const uint64_t more[] = {99};
        struct fake_stat st = vm_stats[0];

        st.values = more;
        fake_kvm_set_stats(&s.f, false, &st, 1);
        r = query(&s.m, "{\"target\":\"vm\"}");
        g_assert_nonnull(strstr(r, "\"value\":99"));
        g_free(r);
    }
    sfx_fini(&s);
}

static void test_vcpu(void)
{
    struct sfx s;
    char *r;

    sfx_init(&s, true);
    r = query(&s.m, "{\"target\":\"vcpu\",\"providers\":[{\"provider\":"
                    "\"kvm\",\"names\":[\"guest_mode\","
                    "\"halt_poll_success_hist\"]}]}");
    g_assert_cmpstr(
        r, ==,
        "[{\"provider\":\"kvm\",\"qom-path\":"
        "\"/machine/unattached/device[0]\",\"stats\":["
        "{\"name\":\"guest_mode\",\"value\":true},"
        "{\"name\":\"halt_poll_success_hist\",\"value\":[3,0,7,1]}]},"
        "{\"provider\":\"kvm\",\"qom-path\":"
        "\"/machine/unattached/device[1]\",\"stats\":["
        "{\"name\":\"guest_mode\",\"value\":true},"
        "{\"name\":\"halt_poll_success_hist\",\"value\":[3,0,7,1]}]}]");
    g_free(r);
    /* the vcpus filter: by QOM path; an unknown path matches nothing */
    r = query(&s.m, "{\"target\":\"vcpu\",\"vcpus\":"
                    "[\"/machine/unattached/device[1]\"],\"providers\":"
                    "[{\"provider\":\"kvm\",\"names\":[\"exits\"]}]}");
    g_assert_cmpstr(r, ==,
                    "[{\"provider\":\"kvm\",\"qom-path\":"
                    "\"/machine/unattached/device[1]\",\"stats\":["
                    "{\"name\":\"exits\",\"value\":1234}]}]");
    g_free(r);
    r = query(&s.m, "{\"target\":\"vcpu\",\"vcpus\":[\"/machine\"]}");
    g_assert_cmpstr(r, ==, "[]");
    g_free(r);
    /* a vCPU whose fd KVM did not give: the query says which */
    close(s.cpus[1].stats_fd);
    s.cpus[1].stats_fd = -1;
    r = query(&s.m, "{\"target\":\"vcpu\"}");
    g_assert_cmpstr(r, ==, "error: KVM gave no statistics fd for vCPU 1");
    g_free(r);
    sfx_fini(&s);
}

static void test_schemas(void)
{
    struct sfx s;
    Error *err = NULL;
    GPtrArray *l;
    struct qapi_stats_schema *vm, *vcpu;
    struct qapi_stats_schema_value *v;

    sfx_init(&s, true);
    l = qmp_query_stats_schemas(&s.m, false, 0, &err);
    g_assert_nonnull(l);
    g_assert_cmpuint(l->len, ==, 2);
    vm = g_ptr_array_index(l, 0);
    vcpu = g_ptr_array_index(l, 1);
    g_assert_cmpint(vm->target, ==, QAPI_STATS_TARGET_VM);
    g_assert_cmpint(vcpu->target, ==, QAPI_STATS_TARGET_VCPU);
    g_assert_cmpint(vm->provider, ==, QAPI_STATS_PROVIDER_KVM);
    g_assert_cmpuint(vm->stats->len, ==, 3);
    v = g_ptr_array_index(vm->stats, 1);
    g_assert_cmpstr(v->name, ==, "pages_4k");
    g_assert_cmpint(v->type, ==, QAPI_STATS_TYPE_INSTANT);
    g_assert_false(v->has_unit);
    g_assert_false(v->has_base);
    g_assert_cmpint(v->exponent, ==, 0);
    g_assert_cmpint(
        ((struct qapi_stats_schema_value *)g_ptr_array_index(vm->stats, 2))
            ->type,
        ==, QAPI_STATS_TYPE_PEAK);
    g_assert_cmpuint(vcpu->stats->len, ==, 4);
    v = g_ptr_array_index(vcpu->stats, 0);
    g_assert_cmpstr(v->name, ==, "halt_poll_success_ns");
    g_assert_cmpint(v->type, ==, QAPI_STATS_TYPE_CUMULATIVE);
    g_assert_true(v->has_unit);
    g_assert_cmpint(v->unit, ==, QAPI_STATS_UNIT_SECONDS);
    g_assert_true(v->has_base);
    g_assert_cmpint(v->base, ==, 10);
    g_assert_cmpint(v->exponent, ==, -9);
    g_assert_false(v->has_bucket_size);
    v = g_ptr_array_index(vcpu->stats, 1);
    g_assert_cmpint(v->unit, ==, QAPI_STATS_UNIT_BOOLEAN);
    v = g_ptr_array_index(vcpu->stats, 2);
    g_assert_cmpint(v->type, ==, QAPI_STATS_TYPE_LINEAR_HISTOGRAM);
    g_assert_cmpint(v->base, ==, 2);
    g_assert_cmpint(v->exponent, ==, -3);
    g_assert_true(v->has_bucket_size);
    g_assert_cmpuint(v->bucket_size, ==, 64);
    qapi_stats_schema_free(vm);
    qapi_stats_schema_free(vcpu);
    g_ptr_array_free(l, TRUE);
    /* no vCPU yet (preconfig): only the VM's */
    s.m.nr_vcpus = 0;
    l = qmp_query_stats_schemas(&s.m, true, QAPI_STATS_PROVIDER_KVM, &err);
    g_assert_cmpuint(l->len, ==, 1);
    qapi_stats_schema_free(g_ptr_array_index(l, 0));
    g_ptr_array_free(l, TRUE);
    sfx_fini(&s);
}

/* A broken or hostile statistics file: an error, never a read past it. */
static void test_hostile(void)
{
    struct sfx s;
    struct kvm_stats_header *h;
    char *r;

    sfx_init(&s, true);
    /* data cut short */
    g_byte_array_set_size(s.f.stats_file[0], s.f.stats_file[0]->len - 4);
    r = query(&s.m, "{\"target\":\"vm\"}");
    g_assert_cmpstr(r, ==,
                    "error: KVM statistics: cannot read the "
                    "max_mmu_page_hash_collisions (8 bytes at 280): end of "
                    "file");
    g_free(r);
    /* implausible counts */
    fake_kvm_set_stats(&s.f, false, vm_stats, G_N_ELEMENTS(vm_stats));
    h = (struct kvm_stats_header *)s.f.stats_file[0]->data;
    h->num_desc = 1u << 30;
    r = query(&s.m, "{\"target\":\"vm\"}");
    g_assert_cmpstr(r, ==,
                    "error: KVM statistics: implausible header (1073741824 "
                    "statistics, names of 48 bytes)");
    g_free(r);
    h->num_desc = 3;
    h->desc_offset = 1u << 20; /* past the end */
    r = query(&s.m, "{\"target\":\"vm\"}");
    g_assert_nonnull(strstr(r, "cannot read the descriptors"));
    g_free(r);
    /* a statistic without values */
    fake_kvm_set_stats(&s.f, false, vm_stats, G_N_ELEMENTS(vm_stats));
    h = (struct kvm_stats_header *)s.f.stats_file[0]->data;
    ((struct kvm_stats_desc *)(s.f.stats_file[0]->data + h->desc_offset))
        ->size = 0;
    r = query(&s.m, "{\"target\":\"vm\"}");
    g_assert_cmpstr(r, ==, "error: KVM statistics: statistic 0 has 0 values");
    g_free(r);
    /* a name filling its whole field (no NUL) stays inside it */
    fake_kvm_set_stats(&s.f, false, vm_stats, 1);
    h = (struct kvm_stats_header *)s.f.stats_file[0]->data;
    memset(s.f.stats_file[0]->data + h->desc_offset +
               sizeof(struct kvm_stats_desc),
           'a', FAKE_STATS_NAME_SIZE);
    r = query(&s.m, "{\"target\":\"vm\"}");
    g_assert_nonnull(
        strstr(r, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""));
    g_free(r);
    /* KVM refusing the fd itself */
    g_byte_array_free(s.f.stats_file[0], TRUE);
    s.f.stats_file[0] = NULL;
    r = query(&s.m, "{\"target\":\"vm\"}");
    g_assert_cmpstr(r, ==,
                    "error: KVM_GET_STATS_FD: Inappropriate ioctl for device");
    g_free(r);
    sfx_fini(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm-stats/no-provider", test_no_provider);
    g_test_add_func("/kvm-stats/vm", test_vm);
    g_test_add_func("/kvm-stats/vcpu", test_vcpu);
    g_test_add_func("/kvm-stats/schemas", test_schemas);
    g_test_add_func("/kvm-stats/hostile", test_hostile);
    return g_test_run();
}
