/* SPDX-License-Identifier: MIT */
/*
 * qmp-stats.c: query-stats and query-stats-schemas (QEMU 7.2
 * qapi/stats.json) over KVM's binary statistics (accel/kvm/stats.h).
 * The only provider is "kvm", for the targets "vm" (the VM fd) and
 * "vcpu" (each vCPU's fd, reported under its QOM path).  Without KVM, or
 * with a KVM that has no statistics fds, there is no provider and both
 * commands answer [], as QEMU does under TCG.  Values and descriptors are
 * mapped as QEMU's kvm-all.c maps them: a boolean unit gives a boolean, a
 * single value a number, several (histograms) a list; unit "none" and a
 * zero exponent leave unit and base out.
 */
#include "util/common.h"
#include "qapi/monitor.h"
#include "qapi/qapi-gen-types.h"
#include "system/machine.h"
#include "accel/kvm/kvm.h"
#include "accel/kvm/stats.h"
#include "accel/kvm/vcpu.h"

static bool have_provider(struct machine *m)
{
    return m->kvm && m->kvm->has_stats_fd;
}

static char *vcpu_qom_path(unsigned i)
{
    return g_strdup_printf("/machine/unattached/device[%u]", i);
}

/* The vCPU statistics fd is read with pread from offset 0 on each call,
 * so it can be shared between queries. */
static GPtrArray *read_target(struct machine *m, int vcpu, Error **errp)
{
    if (vcpu < 0) {
        return kvm_stats_read_vm(m->kvm, errp);
    }
    if (m->vcpus[vcpu]->stats_fd < 0) {
        error_setg(errp, "KVM gave no statistics fd for vCPU %d", vcpu);
        return NULL;
    }
    return kvm_stats_parse(m->vcpus[vcpu]->stats_fd, errp);
}

/* The statistic names asked of kvm: NULL for all; *skip when the
 * providers list does not name kvm. */
static GPtrArray *kvm_names(const struct qapi_stats_filter *f, bool *skip)
{
    *skip = false;
    if (!f->has_providers) {
        return NULL;
    }
    for (guint i = 0; i < f->providers->len; i++) {
        const struct qapi_stats_request *r = g_ptr_array_index(f->providers, i);

        if (r->provider == QAPI_STATS_PROVIDER_KVM) {
            return r->has_names ? r->names : NULL;
        }
    }
    *skip = true;
    return NULL;
}

static bool name_wanted(GPtrArray *names, const char *name)
{
    for (guint i = 0; names && i < names->len; i++) {
        if (!strcmp(g_ptr_array_index(names, i), name)) {
            return true;
        }
    }
    return !names;
}

static struct qapi_stats_value *stat_value(const struct kvm_stat *s)
{
    struct qapi_stats_value *v = g_new0(struct qapi_stats_value, 1);

    if ((s->flags & KVM_STATS_UNIT_MASK) == KVM_STATS_UNIT_BOOLEAN) {
        v->kind = QAPI_ALT_BOOL;
        v->u.boolean = s->values[0] != 0;
    } else if (s->size == 1) {
        v->kind = QAPI_ALT_INT;
        v->u.scalar = s->values[0];
    } else {
        v->kind = QAPI_ALT_ARRAY;
        v->u.list = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), s->size);
        g_array_append_vals(v->u.list, s->values, s->size);
    }
    return v;
}

/* One StatsResult, or NULL when the names filter left nothing (QEMU
 * leaves such an entry out). */
static struct qapi_stats_result *result(GPtrArray *stats, GPtrArray *names,
                                        char *qom_path)
{
    struct qapi_stats_result *r;
    GPtrArray *list = g_ptr_array_new();

    for (guint i = 0; i < stats->len; i++) {
        const struct kvm_stat *s = g_ptr_array_index(stats, i);
        struct qapi_stats *st;

        if (!name_wanted(names, s->name)) {
            continue;
        }
        st = g_new0(struct qapi_stats, 1);
        st->name = g_strdup(s->name);
        st->value = stat_value(s);
        g_ptr_array_add(list, st);
    }
    if (list->len == 0) {
        g_ptr_array_free(list, true);
        g_free(qom_path);
        return NULL;
    }
    r = g_new0(struct qapi_stats_result, 1);
    r->provider = QAPI_STATS_PROVIDER_KVM;
    r->has_qom_path = qom_path != NULL;
    r->qom_path = qom_path;
    r->stats = list;
    return r;
}

static bool vcpu_wanted(const struct qapi_stats_filter *f, unsigned i)
{
    g_autofree char *path = NULL;
    const struct qapi_stats_vcpu_filter *v = &f->u.vcpu;

    if (!v->has_vcpus) {
        return true;
    }
    path = vcpu_qom_path(i);
    return name_wanted(v->vcpus, path);
}

GPtrArray *qmp_query_stats(struct machine *m, struct qapi_stats_filter *arg,
                           Error **errp)
{
    GPtrArray *out = g_ptr_array_new();
    GPtrArray *names;
    bool skip;

    names = kvm_names(arg, &skip);
    if (!have_provider(m) || skip) {
        return out;
    }
    if (arg->target == QAPI_STATS_TARGET_VM) {
        GPtrArray *st = read_target(m, -1, errp);
        struct qapi_stats_result *r;

        if (!st) {
            goto fail;
        }
        r = result(st, names, NULL);
        g_ptr_array_free(st, true);
        if (r) {
            g_ptr_array_add(out, r);
        }
        return out;
    }
    for (unsigned i = 0; i < m->nr_vcpus; i++) {
        GPtrArray *st;
        struct qapi_stats_result *r;

        if (!vcpu_wanted(arg, i)) {
            continue;
        }
        st = read_target(m, (int)i, errp);
        if (!st) {
            goto fail;
        }
        r = result(st, names, vcpu_qom_path(i));
        g_ptr_array_free(st, true);
        if (r) {
            g_ptr_array_add(out, r);
        }
    }
    return out;
fail:
    g_ptr_array_foreach(out, (GFunc)(void (*)(void))qapi_stats_result_free,
                        NULL);
    g_ptr_array_free(out, true);
    return NULL;
}

/* The descriptor as QEMU describes it; false for a type QEMU does not
 * know (such a statistic is left out of the schema, as QEMU does). */
static bool schema_value(const struct kvm_stat *s,
                         struct qapi_stats_schema_value *v)
{
    static const enum qapi_stats_unit units[] = {
        [KVM_STATS_UNIT_BYTES >> KVM_STATS_UNIT_SHIFT] = QAPI_STATS_UNIT_BYTES,
        [KVM_STATS_UNIT_SECONDS >> KVM_STATS_UNIT_SHIFT] =
            QAPI_STATS_UNIT_SECONDS,
        [KVM_STATS_UNIT_CYCLES >> KVM_STATS_UNIT_SHIFT] =
            QAPI_STATS_UNIT_CYCLES,
        [KVM_STATS_UNIT_BOOLEAN >> KVM_STATS_UNIT_SHIFT] =
            QAPI_STATS_UNIT_BOOLEAN,
    };
    uint32_t type = (s->flags & KVM_STATS_TYPE_MASK) >> KVM_STATS_TYPE_SHIFT;
    uint32_t unit = (s->flags & KVM_STATS_UNIT_MASK) >> KVM_STATS_UNIT_SHIFT;
    uint32_t base = s->flags & KVM_STATS_BASE_MASK;

    if (type > (KVM_STATS_TYPE_MAX >> KVM_STATS_TYPE_SHIFT) ||
        unit > (KVM_STATS_UNIT_MAX >> KVM_STATS_UNIT_SHIFT) ||
        base > KVM_STATS_BASE_MAX) {
        return false;
    }
    /* KVM_STATS_TYPE_* are in QAPI's StatsType order */
    v->type = (enum qapi_stats_type)type;
    if (unit) {
        v->has_unit = true;
        v->unit = units[unit];
    }
    v->exponent = s->exponent;
    if (s->exponent) {
        v->has_base = true;
        v->base = base == KVM_STATS_BASE_POW2 ? 2 : 10;
    }
    if (type == (KVM_STATS_TYPE_LINEAR_HIST >> KVM_STATS_TYPE_SHIFT)) {
        v->has_bucket_size = true;
        v->bucket_size = s->bucket_size;
    }
    return true;
}

static struct qapi_stats_schema *schema(GPtrArray *stats,
                                        enum qapi_stats_target target)
{
    struct qapi_stats_schema *sc = g_new0(struct qapi_stats_schema, 1);

    sc->provider = QAPI_STATS_PROVIDER_KVM;
    sc->target = target;
    sc->stats = g_ptr_array_new();
    for (guint i = 0; i < stats->len; i++) {
        const struct kvm_stat *s = g_ptr_array_index(stats, i);
        struct qapi_stats_schema_value *v =
            g_new0(struct qapi_stats_schema_value, 1);

        if (!schema_value(s, v)) {
            g_free(v);
            continue;
        }
        v->name = g_strdup(s->name);
        g_ptr_array_add(sc->stats, v);
    }
    return sc;
}

/* The VM's, then the vCPUs' (read from the first vCPU, as QEMU). */
GPtrArray *qmp_query_stats_schemas(struct machine *m, bool has_provider,
                                   enum qapi_stats_provider provider,
                                   Error **errp)
{
    GPtrArray *out = g_ptr_array_new();
    GPtrArray *st;

    if (!have_provider(m)) {
        return out;
    }
    st = read_target(m, -1, errp);
    if (!st) {
        goto fail;
    }
    g_ptr_array_add(out, schema(st, QAPI_STATS_TARGET_VM));
    g_ptr_array_free(st, true);
    if (m->nr_vcpus) {
        st = read_target(m, 0, errp);
        if (!st) {
            goto fail;
        }
        g_ptr_array_add(out, schema(st, QAPI_STATS_TARGET_VCPU));
        g_ptr_array_free(st, true);
    }
    return out;
fail:
    g_ptr_array_foreach(out, (GFunc)(void (*)(void))qapi_stats_schema_free,
                        NULL);
    g_ptr_array_free(out, true);
    return NULL;
}
