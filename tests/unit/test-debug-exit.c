/* SPDX-License-Identifier: MIT */
/*
 * test-debug-exit.c: isa-debug-exit (hw/misc/debug-exit.c) and the port
 * 0x80 sink (hw/misc/port80.c) through the port address space: QEMU's
 * exit status rule (v << 1) | 1, access widths, the port range, reads,
 * configuration errors; port 0x80 reads 0xff and swallows writes.
 */
#include "util/common.h"
#include "tests/unit/dev-harness.h"

extern const struct device_class debug_exit_class;
extern const struct device_class port80_class;

static void expect_exit(struct machine *m, int status)
{
    enum shutdown_cause cause;

    g_assert_cmphex(th_take_requests(m, &cause), ==, REQ_DEBUG_EXIT);
    g_assert_cmpint(m->exit_status, ==, status);
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
}

static void test_defaults(void)
{
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &debug_exit_class, NULL, NULL);

    g_assert_nonnull(d);
    /* QEMU's default window: 0x501..0x502 */
    th_out(m, 0x500, 0x01, 1);
    th_out(m, 0x503, 0x01, 1);
    g_assert_cmphex(th_take_requests(m, NULL), ==, 0);
    th_out(m, 0x501, 0x00, 1);
    expect_exit(m, 1);
    th_out(m, 0x502, 0x01, 1);
    expect_exit(m, 3);
    g_assert_cmphex(th_in(m, 0x501, 1), ==, 0);
    g_assert_cmphex(th_in(m, 0x501, 2), ==, 0);
    g_assert_cmphex(th_take_requests(m, NULL), ==, 0);
    th_device_free(d);
    /* unrealize unmapped the ports */
    th_out(m, 0x501, 0x00, 1);
    g_assert_cmphex(th_take_requests(m, NULL), ==, 0);
    th_machine_free(m);
}

static void test_test_guest_port(void)
{
    static const char *const props[] = {"iobase", "0xf4", "iosize", "4", NULL};
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &debug_exit_class, props, NULL);

    g_assert_nonnull(d);
    th_out(m, 0xf4, 0x10, 1);
    expect_exit(m, 0x21);
    th_out(m, 0xf4, 0x0102, 2);
    expect_exit(m, (0x0102 * 2 + 1) & 0xff);
    th_out(m, 0xf4, 0x7fffffff, 4);
    expect_exit(m, 0xff);
    th_out(m, 0xf7, 0x41, 1);
    expect_exit(m, 0x83);
    th_out(m, 0xf8, 0x41, 1);
    g_assert_cmphex(th_take_requests(m, NULL), ==, 0);
    g_assert_cmphex(th_in(m, 0xf4, 4), ==, 0);
    th_device_free(d);
    th_machine_free(m);
}

static void test_bad_config(void)
{
    static const char *const zero[] = {"iosize", "0", NULL};
    static const char *const top[] = {"iobase", "0xffff", "iosize", "2", NULL};
    static const char *const big[] = {"iobase", "0", "iosize", "0x10001", NULL};
    struct machine *m = th_machine_new();
    struct device *a;
    Error *err = NULL;

    g_assert_null(th_device_new(m, &debug_exit_class, zero, &err));
    g_assert_nonnull(err);
    error_free(err);
    err = NULL;
    g_assert_null(th_device_new(m, &debug_exit_class, top, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "0xffff"));
    error_free(err);
    err = NULL;
    g_assert_null(th_device_new(m, &debug_exit_class, big, &err));
    error_free(err);
    err = NULL;
    /* two on the same ports: the second is refused */
    a = th_device_new(m, &debug_exit_class, NULL, NULL);
    g_assert_nonnull(a);
    g_assert_null(th_device_new(m, &debug_exit_class, NULL, &err));
    g_assert_nonnull(err);
    error_free(err);
    th_device_free(a);
    th_machine_free(m);
}

static void test_port80(void)
{
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &port80_class, NULL, NULL);
    GString *map = g_string_new(NULL);

    g_assert_nonnull(d);
    g_assert_false(port80_class.user_creatable);
    as_describe(m->pio, map);
    g_assert_nonnull(
        strstr(map->str, "0000000000000080-0000000000000080 port80"));
    g_assert_cmphex(th_in(m, 0x80, 1), ==, 0xff);
    for (unsigned v = 0; v < 256; v++) {
        th_out(m, 0x80, v, 1);
        g_assert_cmphex(th_in(m, 0x80, 1), ==, 0xff);
    }
    th_out(m, 0x80, 0x1234, 2);
    g_assert_cmphex(th_take_requests(m, NULL), ==, 0);
    th_device_free(d);
    g_string_truncate(map, 0);
    as_describe(m->pio, map);
    g_assert_null(strstr(map->str, "port80"));
    g_string_free(map, TRUE);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/debug-exit/defaults", test_defaults);
    g_test_add_func("/debug-exit/test-guest-port", test_test_guest_port);
    g_test_add_func("/debug-exit/bad-config", test_bad_config);
    g_test_add_func("/port80/sink", test_port80);
    return g_test_run();
}
