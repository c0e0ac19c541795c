/* SPDX-License-Identifier: MIT */
/*
 * test-json-parse.c: the QMP JSON parser: every value kind, escapes and
 * surrogate pairs, integer/double split, and each malformed input refused
 * with its reason (duplicate keys, trailing data, bad numbers, control
 * characters, unpaired surrogates, NUL, depth).
 */
#include "util/common.h"
#include "qapi/json-parse.h"

static JsonNode *ok(const char *text)
{
    char *err = NULL;
    JsonNode *n = json_parse(text, strlen(text), &err);

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
    JsonNode *n = json_parse(text, strlen(text), &err);

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
    JsonNode *n = ok(" {\"a\": [1, -2, 3.5, true, false, null, \"x\"],"
                     " \"b\": {}} \r\n");
    JsonObject *o = json_node_get_object(n);
    JsonArray *a = json_object_get_array_member(o, "a");

    g_assert_cmpuint(json_array_get_length(a), ==, 7);
    g_assert_cmpint(json_array_get_int_element(a, 0), ==, 1);
    g_assert_cmpint(json_array_get_int_element(a, 1), ==, -2);
    g_assert_cmpfloat(json_array_get_double_element(a, 2), ==, 3.5);
    g_assert_true(json_array_get_boolean_element(a, 3));
    g_assert_false(json_array_get_boolean_element(a, 4));
    g_assert_true(json_array_get_null_element(a, 5));
    g_assert_cmpstr(json_array_get_string_element(a, 6), ==, "x");
    g_assert_cmpuint(
        json_object_get_size(json_object_get_object_member(o, "b")), ==, 0);
    json_node_unref(n);
}

static void test_numbers(void)
{
    JsonNode *n = ok("[9223372036854775807, -9223372036854775808, "
                     "9223372036854775808, 1e3, 0, -0.5E-2]");
    JsonArray *a = json_node_get_array(n);

    g_assert_cmpint(json_node_get_value_type(json_array_get_element(a, 0)), ==,
                    G_TYPE_INT64);
    g_assert_cmpint(json_array_get_int_element(a, 0), ==, G_MAXINT64);
    g_assert_cmpint(json_array_get_int_element(a, 1), ==, G_MININT64);
    /* beyond int64: a double, as json-glib does */
    g_assert_cmpint(json_node_get_value_type(json_array_get_element(a, 2)), ==,
                    G_TYPE_DOUBLE);
    g_assert_cmpint(json_node_get_value_type(json_array_get_element(a, 3)), ==,
                    G_TYPE_DOUBLE);
    g_assert_cmpfloat(json_array_get_double_element(a, 3), ==, 1000.0);
    json_node_unref(n);
    for (const char *const *s =
             (const char *const[]){"01", "1.", ".5", "-", "+1", "1e", "1e+",
                                   "0x10", "--1", NULL};
         *s; s++) {
        char *t = g_strdup_printf("[%s]", *s);
        bad(t, "");
        g_free(t);
    }
}

static void test_strings(void)
{
    JsonNode *n = ok("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"");

    g_assert_cmpstr(json_node_get_string(n), ==,
                    "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    json_node_unref(n);
    bad("\"abc", "unterminated string");
    bad("\"a\nb\"", "control character");
    bad("\"\\x\"", "invalid escape");
    bad("\"\\u12\"", "invalid \\u escape");
    bad("\"\\ud83d\"", "unpaired surrogate");
    bad("\"\\ude00\"", "unpaired surrogate");
    bad("\"\\ud83d\\u0041\"", "unpaired surrogate");
    bad("\"\\u0000\"", "\\u0000");
    bad("\"\xff\"", "invalid UTF-8");
}

static void test_structure(void)
{
    bad("", "expecting value");
    bad("   ", "expecting value");
    bad("{\"execute\": \"query-status\", \"execute\": \"quit\"}",
        "duplicate key");
    bad("{\"a\": 1} {}", "unexpected data after the value");
    bad("{\"a\" 1}", "expecting ':'");
    bad("{1: 2}", "expecting a string as object key");
    bad("{\"a\": 1,}", "expecting a string as object key");
    bad("[1 2]", "expecting ',' or ']'");
    bad("[1,]", "expecting value");
    bad("{\"a\": 1", "expecting ',' or '}'");
    bad("tru", "expecting value");
    bad("nul", "expecting value");
    bad("@", "expecting value");
}

static void test_depth(void)
{
    GString *s = g_string_new(NULL);
    JsonNode *n;

    for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++) {
        g_string_append_c(s, '[');
    }
    for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++) {
        g_string_append_c(s, ']');
    }
    n = ok(s->str);
    json_node_unref(n);
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
    g_test_add_func("/json-parse/structure", test_structure);
    g_test_add_func("/json-parse/depth", test_depth);
    return g_test_run();
}
