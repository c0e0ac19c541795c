/* SPDX-License-Identifier: MIT */
/*
 * test-machine-type.c: the machine-type table that keeps board policy out
 * of the generic code: lookup by name and alias, one default, the help
 * text, and that every type fills the hooks machine_new() relies on with
 * sane limits (a type with a zero CPU limit or a misaligned KVM area would
 * only fail on a host with /dev/kvm).
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "system/machine.h"

static void test_lookup(void)
{
    const struct machine_type *d = machine_type_default();
    unsigned defaults = 0;

    g_assert_nonnull(d);
    g_assert_true(machine_type_find(d->name) == d);
    g_assert_null(machine_type_find("pc-i440fx-0.1-nonexistent"));
    g_assert_null(machine_type_find(""));
    for (const struct machine_type *const *t = machine_types; *t; t++) {
        defaults += (*t)->is_default;
        g_assert_true(machine_type_find((*t)->name) == *t);
        if ((*t)->alias) {
            g_assert_true(machine_type_find((*t)->alias) == *t);
        }
    }
    g_assert_cmpuint(defaults, ==, 1);
}

static void test_hooks(void)
{
    for (const struct machine_type *const *t = machine_types; *t; t++) {
        g_assert_nonnull((*t)->desc);
        g_assert_cmpuint((*t)->max_cpus, >, 0);
        g_assert_cmphex((*t)->kvm_sys_pages & 0xfff, ==, 0);
        g_assert_cmphex((*t)->kvm_sys_pages + KVM_SYS_PAGES_SIZE, <=, 4 * GiB);
        g_assert_nonnull((*t)->init_memory);
        /* devices need their lines: every board with a guest wires
         * interrupts (none has no device and no guest) */
        if (!(*t)->no_guest) {
            g_assert_nonnull((*t)->init_interrupts);
        }
    }
}

static void test_help(void)
{
    g_autofree char *h = machine_types_help();

    for (const struct machine_type *const *t = machine_types; *t; t++) {
        g_assert_nonnull(strstr(h, (*t)->name));
        if ((*t)->is_default) {
            g_autofree char *line =
                g_strdup_printf("%-20s %s (default)\n", (*t)->name, (*t)->desc);
            g_assert_nonnull(strstr(h, line));
        }
    }
}

/* machine_new() applies the type's limits and options before it opens
 * /dev/kvm, so these fail here the same as on a KVM host. */
static void expect_new_fails(const char *type, const char *opts, unsigned cpus,
                             const char *want)
{
    struct machine_config cfg;
    Error *err = NULL;

    machine_config_init(&cfg);
    if (type) {
        g_free(cfg.machine_type);
        cfg.machine_type = g_strdup(type);
    }
    g_free(cfg.machine_opts);
    cfg.machine_opts = g_strdup(opts);
    cfg.smp_cpus = cfg.smp_maxcpus = cpus;
    g_assert_null(machine_new(&cfg, &err));
    if (!strstr(error_get_pretty(err), want)) {
        g_error("expected \"%s\", got \"%s\"", want, error_get_pretty(err));
    }
    error_free(err);
    machine_config_clear(&cfg);
}

static void test_new_checks_type_policy(void)
{
    const struct machine_type *d = machine_type_default();
    g_autofree char *max = g_strdup_printf(
        "The max CPUs supported by machine '%s' is %u", d->name, d->max_cpus);
    g_autofree char *opt =
        g_strdup_printf("-machine %s: invalid parameter 'pic'", d->name);

    expect_new_fails("nosuch", "", 1, "unsupported machine type 'nosuch'");
    expect_new_fails(NULL, "", d->max_cpus + 1, max);
    expect_new_fails(NULL, "pic=off", 1, opt);
    expect_new_fails(NULL, "kernel-irqchip=off", 1,
                     "kernel-irqchip=off is not supported");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/machine-type/lookup", test_lookup);
    g_test_add_func("/machine-type/hooks", test_hooks);
    g_test_add_func("/machine-type/help", test_help);
    g_test_add_func("/machine-type/new-checks-type-policy",
                    test_new_checks_type_policy);
    return g_test_run();
}
