/* SPDX-License-Identifier: MIT */
/*
 * test-runstate.c: run-state rules of system/runstate.c on a real machine
 * built without KVM: "-machine none,accel=kvm:tcg" (hw/core/null-machine.c)
 * runs with no accelerator when /dev/kvm is missing, and with KVM when it
 * is there.  libvirt's reboot depends on them: a reset of a machine that is
 * not running moves it to prelaunch, with its RESET event, before
 * system_reset returns.
 */
#include "util/common.h"
#include "system/machine.h"
#include "system/vl.h"

#include <unistd.h>

struct fixture {
    struct machine_config cfg;
    struct machine *m;
    GPtrArray *events; /* char *: "NAME data" */
};

static void on_event(void *opaque, const char *name, const char *data)
{
    struct fixture *f = opaque;

    g_ptr_array_add(f->events,
                    g_strdup_printf("%s %s", name, data ? data : "-"));
}

static void setup(struct fixture *f, const char *machine)
{
    char *argv[] = {"vireo",       "-machine", (char *)machine,
                    "-nodefaults", "-display", "none",
                    NULL};
    GString *out = g_string_new(NULL);
    Error *err = NULL;
    struct machine_listener l = {.event = on_event, .opaque = f};

    machine_config_init(&f->cfg);
    g_assert_cmpint(vl_parse(6, argv, &f->cfg, out, &err), ==, VL_RUN);
    g_string_free(out, TRUE);
    f->m = machine_new(&f->cfg, &err);
    if (!f->m) {
        g_error("machine_new: %s", error_get_pretty(err));
    }
    f->events = g_ptr_array_new_with_free_func(g_free);
    machine_add_listener(f->m, &l);
}

static void teardown(struct fixture *f)
{
    machine_free(f->m);
    machine_config_clear(&f->cfg);
    g_ptr_array_unref(f->events);
}

static void test_reset_from_stopped_states(void)
{
    static const enum run_state stopped[] = {
        RUN_STATE_SHUTDOWN, RUN_STATE_PAUSED, RUN_STATE_INTERNAL_ERROR,
        RUN_STATE_GUEST_PANICKED, RUN_STATE_PRELAUNCH};
    struct fixture f;

    setup(&f, "none,accel=kvm:tcg");
    for (size_t i = 0; i < ARRAY_SIZE(stopped); i++) {
        g_ptr_array_set_size(f.events, 0);
        f.m->state = stopped[i];
        g_assert_true(machine_system_reset(
            f.m, SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET, NULL));
        g_assert_cmpint(f.m->state, ==, RUN_STATE_PRELAUNCH);
        g_assert_cmpuint(f.events->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(f.events, 0), ==,
                        "RESET {\"guest\":false,\"reason\":"
                        "\"host-qmp-system-reset\"}");
    }
    /* running stays running; inmigrate waits for its stream */
    f.m->state = RUN_STATE_RUNNING;
    g_assert_true(machine_system_reset(f.m, SHUTDOWN_CAUSE_GUEST_RESET, NULL));
    g_assert_cmpint(f.m->state, ==, RUN_STATE_RUNNING);
    g_assert_cmpstr(g_ptr_array_index(f.events, f.events->len - 1), ==,
                    "RESET {\"guest\":true,\"reason\":\"guest-reset\"}");
    f.m->state = RUN_STATE_INMIGRATE;
    g_assert_true(
        machine_system_reset(f.m, SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET, NULL));
    g_assert_cmpint(f.m->state, ==, RUN_STATE_INMIGRATE);
    teardown(&f);
}

static void test_none_without_kvm(void)
{
    struct machine_config cfg;
    char *argv[] = {"vireo", "-machine", "none", "-nodefaults", NULL};
    GString *out = g_string_new(NULL);
    Error *err = NULL;
    struct machine *m;

    if (access("/dev/kvm", R_OK | W_OK) == 0) {
        g_test_skip("KVM is usable here");
        g_string_free(out, TRUE);
        return;
    }
    machine_config_init(&cfg);
    g_assert_cmpint(vl_parse(4, argv, &cfg, out, &err), ==, VL_RUN);
    /* no fallback in the accelerator list: QEMU would fail too */
    m = machine_new(&cfg, &err);
    g_assert_null(m);
    g_assert_nonnull(strstr(error_get_pretty(err), "/dev/kvm"));
    error_free(err);
    machine_config_clear(&cfg);
    g_string_free(out, TRUE);
}

static void test_none_refuses_guest_options(void)
{
    static const char *const bad[][3] = {
        {"-bios", "/nonexistent",
         "-machine none runs no guest: -bios is not used"},
        {"-kernel", "/nonexistent",
         "-machine none runs no guest: -kernel is not used"},
        {"-m", "64", "-machine none has no guest RAM (-m)"},
        {"-smp", "2",
         "Invalid SMP CPUs 2. The max CPUs supported by machine 'none' is 1"},
        {"-device", "isa-debug-exit", "-machine none has no bus for -device"},
        {"-serial", "null", "-machine none has no serial ports (-serial)"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct machine_config cfg;
        char *argv[] = {"vireo",
                        "-machine",
                        "none,accel=kvm:tcg",
                        (char *)bad[i][0],
                        (char *)bad[i][1],
                        "-nodefaults",
                        NULL};
        GString *out = g_string_new(NULL);
        Error *err = NULL;

        machine_config_init(&cfg);
        /* the command line already checks -smp against the type's
         * max_cpus; the rest is refused by the none machine's hook */
        if (vl_parse(6, argv, &cfg, out, &err) != VL_RUN) {
            if (!strstr(error_get_pretty(err), bad[i][2])) {
                g_error("%s: %s", bad[i][0], error_get_pretty(err));
            }
        } else {
            g_assert_null(machine_new(&cfg, &err));
            g_assert_cmpstr(error_get_pretty(err), ==, bad[i][2]);
        }
        error_free(err);
        machine_config_clear(&cfg);
        g_string_free(out, TRUE);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/runstate/reset-from-stopped-states",
                    test_reset_from_stopped_states);
    g_test_add_func("/runstate/none-without-kvm", test_none_without_kvm);
    g_test_add_func("/runstate/none-refuses-guest-options",
                    test_none_refuses_guest_options);
    return g_test_run();
}
