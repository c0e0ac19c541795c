/* SPDX-License-Identifier: MIT */
/*
 * test-json-parse.c: the QMP JSON parser: every value kind, escapes and
 * surrogate pairs, integer/double split, and each malformed input refused
 * with its reason (duplicate keys, trailing data, bad numbers, control
 * characters, unpaired surrogates, NUL, depth).
 */
#include "util/common.h"
#include "qapi/json-parse.h"

#include <math.h>

static struct json_value *ok(const char *text)
{
    char *err = NULL;
    struct json_value *n = json_parse(text, strlen(text), &err);

    if (!n) {
        g_test_message("unexpected error for %s: %s", text, err);
    }
    g_assert_nonnull(n);
    g_assert_null(err);
    return n;
}

static void bad(const char *text, const char *why)
{
    char *err = NULL;
    struct json_value *n = json_parse(text, strlen(text), &err);

    g_assert_null(n);
    g_assert_nonnull(err);
    if (!strstr(err, why)) {
        g_test_message("%s: got '%s', want '%s'", text, err, why);
        g_assert_not_reached();
    }
    g_free(err);
}

static void test_values(void)
{
    struct json_value *n = ok(" {\"a\": [1, -2, 3.5, true, false, null, \"x\"],"
                              " \"b\": {}} \r\n");
    struct json_value *a = json_object_get(n, "a"), *b;

    g_assert_true(json_is(a, JSON_ARRAY));
    g_assert_cmpuint(json_array_len(a), ==, 7);
    g_assert_cmpint(json_array_get(a, 0)->u.i, ==, 1);
    g_assert_cmpint(json_array_get(a, 1)->u.i, ==, -2);
    g_assert_cmpfloat(json_array_get(a, 2)->u.d, ==, 3.5);
    g_assert_true(json_array_get(a, 3)->u.b);
    g_assert_false(json_array_get(a, 4)->u.b);
    g_assert_true(json_is(json_array_get(a, 5), JSON_NULL));
    g_assert_cmpstr(json_string(json_array_get(a, 6)), ==, "x");
    b = json_object_get(n, "b");
    g_assert_true(json_is(b, JSON_OBJECT));
    g_assert_cmpuint(json_object_len(b), ==, 0);
    json_free(n);
}

static void test_numbers(void)
{
    struct json_value *n = ok("[9223372036854775807, -9223372036854775808, "
                              "9223372036854775808, 18446744073709551615, "
                              "18446744073709551616, -9223372036854775809, "
                              "1e3, 0, -0, -0.0, -0.5E-2, 1e-400]");
    static const enum json_type types[] = {
        JSON_INT,    JSON_INT,    JSON_UINT,   JSON_UINT,
        JSON_DOUBLE, JSON_DOUBLE, JSON_DOUBLE, JSON_INT,
        JSON_INT,    JSON_DOUBLE, JSON_DOUBLE, JSON_DOUBLE};

    g_assert_cmpuint(json_array_len(n), ==, ARRAY_SIZE(types));
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        g_assert_cmpint(json_array_get(n, i)->type, ==, types[i]);
    }
    g_assert_cmpint(json_array_get(n, 0)->u.i, ==, INT64_MAX);
    g_assert_cmpint(json_array_get(n, 1)->u.i, ==, INT64_MIN);
    /* beyond int64 a uint, as QEMU; beyond uint64 a double */
    g_assert_cmpuint(json_array_get(n, 2)->u.u, ==, 9223372036854775808u);
    g_assert_cmpuint(json_array_get(n, 3)->u.u, ==, UINT64_MAX);
    g_assert_cmpfloat(json_array_get(n, 4)->u.d, ==, 18446744073709551616.0);
    g_assert_cmpfloat(json_array_get(n, 6)->u.d, ==, 1000.0);
    g_assert_cmpint(json_array_get(n, 8)->u.i, ==, 0);
    g_assert_true(signbit(json_array_get(n, 9)->u.d));
    g_assert_cmpfloat(json_array_get(n, 11)->u.d, ==, 0.0);
    json_free(n);
    for (const char *const *s =
             (const char *const[]){"01", "1.", ".5", "-", "+1", "1e", "1e+",
                                   "0x10", "--1", "-01", "1.e5", NULL};
         *s; s++) {
        char *t = g_strdup_printf("[%s]", *s);
        bad(t, "");
        g_free(t);
    }
    /* QEMU reads these as inf and writes "inf" back: refused instead */
    bad("[1e400]", "number out of range");
    bad("-1e400", "number out of range");
    bad("[1"
        "000000000000000000000000000000000000000000000000000000000000"
        "e400]",
        "number out of range");
}

static void test_strings(void)
{
    struct json_value *n =
        ok("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"");

    g_assert_cmpstr(json_string(n), ==,
                    "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    json_free(n);
    bad("\"abc", "unterminated string");
    bad("\"a\nb\"", "control character");
    bad("\"\\x\"", "invalid escape");
    bad("\"\\u12\"", "invalid \\u escape");
    bad("\"\\ud83d\"", "unpaired surrogate");
    bad("\"\\ude00\"", "unpaired surrogate");
    bad("\"\\ud83d\\u0041\"", "unpaired surrogate");
    bad("\"\xff\"", "invalid UTF-8");
    bad("\"\xc0\x81\"", "invalid UTF-8");
}

/* U+0000 is kept as QEMU keeps it: the pair C0 80, written back as
 * \u0000 ("The command query-status\u0000 has not been found"). */
static void test_nul(void)
{
    struct json_value *n = ok("\"a\\u0000b\"");
    GString *out = g_string_new(NULL);

    g_assert_cmpstr(json_string(n), ==, "a" JSON_MODIFIED_NUL "b");
    json_write(out, n, JSON_WRITE_QMP);
    g_assert_cmpstr(out->str, ==, "\"a\\u0000b\"");
    json_free(n);
    n = ok("\"\xc0\x80\"");
    g_assert_cmpstr(json_string(n), ==, JSON_MODIFIED_NUL);
    json_free(n);
    g_assert_true(json_utf8_valid("x\xc0\x80", 3));
    g_assert_false(json_utf8_valid("x\xc0", 2));
    g_string_free(out, TRUE);
}

static void test_structure(void)
{
    bad("", "expecting value");
    bad("   ", "expecting value");
    bad("{\"execute\": \"query-status\", \"execute\": \"quit\"}",
        "duplicate key");
    bad("{\"a\": 1} {}", "unexpected data after the value");
    bad("{\"a\" 1}", "missing : in object pair");
    bad("{1: 2}", "key is not a string in object");
    bad("{\"a\": 1,}", "expecting value");
    bad("[1 2]", "expected separator in list");
    bad("[1,]", "expecting value");
    bad("{\"a\": 1", "expected separator in dict");
    bad("tru", "invalid keyword 'tru'");
    bad("nul", "invalid keyword 'nul'");
    bad("[true, query]", "invalid keyword 'query'");
    bad("{execute: 1}", "invalid keyword 'execute'");
    bad("{null: 1}", "key is not a string in object");
    bad("@", "expecting value");
}

static void test_depth(void)
{
    GString *s = g_string_new(NULL);
    struct json_value *n;

    for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++) {
        g_string_append_c(s, '[');
    }
    for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++) {
        g_string_append_c(s, ']');
    }
    n = ok(s->str);
    json_free(n);
    g_string_prepend_c(s, '[');
    g_string_append_c(s, ']');
    bad(s->str, "nesting too deep");
    g_string_free(s, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-parse/values", test_values);
    g_test_add_func("/json-parse/numbers", test_numbers);
    g_test_add_func("/json-parse/strings", test_strings);
    g_test_add_func("/json-parse/nul", test_nul);
    g_test_add_func("/json-parse/structure", test_structure);
    g_test_add_func("/json-parse/depth", test_depth);
    return g_test_run();
}
