/* SPDX-License-Identifier: MIT */
/*
 * test-keyval.c: QEMU option-string parsing: implied keys, ",," escapes,
 * duplicates, trailing commas, unknown keys, typed getters and sizes.
 */
#include "util/common.h"
#include "util/keyval.h"

static void test_basic(void)
{
    Error *err = NULL;
    struct keyval *kv =
        keyval_parse("socket,id=m0,path=/tmp/a,,b", "backend", &err);

    g_assert_nonnull(kv);
    g_assert_cmpstr(keyval_get(kv, "backend"), ==, "socket");
    g_assert_cmpstr(keyval_get(kv, "id"), ==, "m0");
    g_assert_cmpstr(keyval_get(kv, "path"), ==, "/tmp/a,b");
    g_assert_true(keyval_check_all_used(kv, "x", &err));
    keyval_free(kv);
}

static void test_errors(void)
{
    static const char *const bad[] = {"a=1,a=2", "a=1,", "=1", "a=1,b", "bare"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        Error *err = NULL;
        struct keyval *kv = keyval_parse(bad[i], NULL, &err);
        g_assert_null(kv);
        g_assert_nonnull(err);
        error_free(err);
    }
}

static void test_unused(void)
{
    Error *err = NULL;
    struct keyval *kv = keyval_parse("a=1,bogus=2", NULL, &err);

    keyval_get(kv, "a");
    g_assert_false(keyval_check_all_used(kv, "-thing", &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "-thing: invalid parameter 'bogus'");
    error_free(err);
    keyval_free(kv);
}

static void test_typed(void)
{
    Error *err = NULL;
    struct keyval *kv =
        keyval_parse("on=on,n=0x10,s=2M,bad=maybe,neg=-1", NULL, &err);
    bool b;
    uint64_t v;

    g_assert_true(keyval_get_bool(kv, "on", false, &b, &err) && b);
    g_assert_true(keyval_get_bool(kv, "absent", true, &b, &err) && b);
    g_assert_true(keyval_get_u64(kv, "n", 0, &v, &err));
    g_assert_cmpuint(v, ==, 16);
    g_assert_true(keyval_get_size(kv, "s", 0, &v, &err));
    g_assert_cmpuint(v, ==, 2 * MiB);
    g_assert_false(keyval_get_bool(kv, "bad", false, &b, &err));
    error_free(err);
    err = NULL;
    g_assert_false(keyval_get_u64(kv, "neg", 0, &v, &err));
    error_free(err);
    keyval_free(kv);
}

static void test_sizes(void)
{
    uint64_t v;

    g_assert_true(parse_size("128", MiB, &v));
    g_assert_cmpuint(v, ==, 128 * MiB);
    g_assert_true(parse_size("1G", MiB, &v));
    g_assert_cmpuint(v, ==, GiB);
    g_assert_true(parse_size("1.5k", 1, &v));
    g_assert_cmpuint(v, ==, 1536);
    g_assert_false(parse_size("12Q", 1, &v));
    g_assert_false(parse_size("", 1, &v));
    g_assert_false(parse_size("-5", 1, &v));
    g_assert_false(parse_size("99999999999999999999", 1, &v));
    g_assert_false(parse_size("17179869184G", 1, &v)); /* overflows */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keyval/basic", test_basic);
    g_test_add_func("/keyval/errors", test_errors);
    g_test_add_func("/keyval/unused", test_unused);
    g_test_add_func("/keyval/typed", test_typed);
    g_test_add_func("/keyval/sizes", test_sizes);
    return g_test_run();
}
