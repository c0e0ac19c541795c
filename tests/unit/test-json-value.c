/* SPDX-License-Identifier: MIT */
/*
 * test-json-value.c: the JSON value tree and writer that replaced
 * json-glib: builders and lookup (small and hash-indexed objects,
 * replacement, order), deep copies, the compact, QMP and pretty layouts,
 * string escaping (control characters, quotes, non-ASCII passed through or
 * \u-escaped, invalid UTF-8 replaced), number edge cases, parse/write
 * round trips and deep nesting.
 */
#include "util/common.h"
#include "qapi/json-parse.h"

static struct json_value *parse(const char *text)
{
    char *err = NULL;
    struct json_value *v = json_parse(text, strlen(text), &err);

    if (!v) {
        g_test_message("%s: %s", text, err);
    }
    g_assert_nonnull(v);
    return v;
}

static void check_write(const struct json_value *v, unsigned flags,
                        const char *expect)
{
    GString *s = g_string_new(NULL);

    json_write(s, v, flags);
    g_assert_cmpstr(s->str, ==, expect);
    g_string_free(s, TRUE);
}

/* text parses, and writes back compactly as expect (NULL: as text) */
static void round_trip(const char *text, const char *expect)
{
    struct json_value *v = parse(text);
    char *out = json_to_string(v);

    g_assert_cmpstr(out, ==, expect ? expect : text);
    g_free(out);
    json_free(v);
}

static void test_build(void)
{
    struct json_value *o = json_new_object(), *a = json_new_array(), *c;

    json_object_set_static(o, "b", json_new_int(1));
    json_object_set(o, "a", json_new_string("x"));
    json_array_append(a, json_new_null());
    json_array_append(a, json_new_bool(true));
    json_array_append(a, json_new_double(0.5));
    json_array_append(a, json_new_uint(UINT64_MAX));
    json_array_append(a, json_new_uint(5));
    json_object_set_static(o, "list", a);
    /* replacing keeps the position */
    json_object_set(o, "b", json_new_string(NULL));
    g_assert_cmpuint(json_object_len(o), ==, 3);
    g_assert_cmpint(json_array_get(a, 4)->type, ==, JSON_INT);
    check_write(o, 0,
                "{\"b\":\"\",\"a\":\"x\",\"list\":[null,true,0.5,"
                "18446744073709551615,5]}");
    check_write(o, JSON_WRITE_QMP,
                "{\"b\": \"\", \"a\": \"x\", \"list\": [null, true, 0.5, "
                "18446744073709551615, 5]}");
    c = json_copy(o);
    json_free(o);
    g_assert_cmpstr(json_string(json_object_get(c, "a")), ==, "x");
    g_assert_null(json_object_get(c, "nope"));
    g_assert_null(json_object_get(json_object_get(c, "a"), "a"));
    check_write(c, 0,
                "{\"b\":\"\",\"a\":\"x\",\"list\":[null,true,0.5,"
                "18446744073709551615,5]}");
    json_free(c);
}

/* Enough members for the hash index, looked up and replaced. */
static void test_big_object(void)
{
    struct json_value *o = json_new_object();
    GString *s = g_string_new("{");
    char *err = NULL;

    for (int i = 0; i < 1000; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        json_object_set(o, k, json_new_int(i));
        g_string_append_printf(s, "%s\"%s\":%d", i ? "," : "", k, i);
    }
    g_string_append_c(s, '}');
    for (int i = 0; i < 1000; i += 7) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        g_assert_cmpint(json_object_get(o, k)->u.i, ==, i);
    }
    json_object_set(o, "k500", json_new_int(500));
    g_assert_cmpuint(json_object_len(o), ==, 1000);
    g_assert_null(json_object_get(o, "k1000"));
    check_write(o, 0, s->str);
    round_trip(s->str, NULL);
    /* a duplicate far into a big object is still found */
    g_string_truncate(s, s->len - 1);
    g_string_append(s, ",\"k999\":1}");
    g_assert_null(json_parse(s->str, s->len, &err));
    g_assert_cmpstr(err, ==, "duplicate key");
    g_free(err);
    g_string_free(s, TRUE);
    json_free(o);
}

static void test_escapes(void)
{
    struct json_value *v =
        json_new_string("q\" b\\ /\b\f\n\r\t\x01\x1f\x7f \xc3\xa9 "
                        "\xe2\x82\xac \xf0\x9f\x98\x80");

    check_write(v, 0,
                "\"q\\\" b\\\\ /\\b\\f\\n\\r\\t\\u0001\\u001F\\u007F "
                "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    check_write(v, JSON_WRITE_ASCII,
                "\"q\\\" b\\\\ /\\b\\f\\n\\r\\t\\u0001\\u001F\\u007F "
                "\\u00E9 \\u20AC \\uD83D\\uDE00\"");
    json_free(v);
    /* invalid UTF-8 (stray continuation, overlong, surrogate, truncated,
     * beyond U+10FFFF, noncharacters) never reaches the output as such:
     * one U+FFFD per sequence, as QEMU writes it */
    v = json_new_string("a\x80"
                        "b\xc0\xaf"
                        "c\xed\xa0\x80"
                        "e\xf4\x90\x80\x80"
                        "f\xef\xb7\x90\xef\xbf\xbe"
                        "d\xe2\x82");
    check_write(v, JSON_WRITE_ASCII,
                "\"a\\uFFFDb\\uFFFDc\\uFFFDe\\uFFFDf\\uFFFD\\uFFFDd\\uFFFD\"");
    {
        GString *s = g_string_new(NULL);
        json_write(s, v, 0);
        g_assert_true(g_utf8_validate(s->str, (gssize)s->len, NULL));
        g_string_free(s, TRUE);
    }
    json_free(v);
    /* embedded bytes after a NUL-free length-carrying string */
    v = json_new_string_len("ab", 1);
    check_write(v, 0, "\"a\"");
    json_free(v);
    round_trip("\"\\u00e9\\ud83d\\ude00\\/\"", "\"\xc3\xa9\xf0\x9f\x98\x80/\"");
}

static void test_numbers(void)
{
    round_trip("[-9223372036854775808,9223372036854775807,"
               "9223372036854775808,18446744073709551615]",
               NULL);
    round_trip("[-0,0,-0.0,0.5,1e3,1.5e300,18446744073709551616]",
               "[0,0,-0,0.5,1000,1.5000000000000001e+300,"
               "1.8446744073709552e+19]");
    round_trip("[-9223372036854775809]", "[-9.2233720368547758e+18]");
    {
        struct json_value *v = json_new_int(INT64_MIN);
        check_write(v, 0, "-9223372036854775808");
        json_free(v);
    }
}

static void test_pretty(void)
{
    struct json_value *v = parse("{\"return\": {\"a\": [1, {}, []], \"b\": "
                                 "{\"c\": null}}, \"id\": \"x\"}");

    check_write(v, JSON_WRITE_PRETTY,
                "{\n"
                "    \"return\": {\n"
                "        \"a\": [\n"
                "            1,\n"
                "            {},\n"
                "            []\n"
                "        ],\n"
                "        \"b\": {\n"
                "            \"c\": null\n"
                "        }\n"
                "    },\n"
                "    \"id\": \"x\"\n"
                "}");
    json_free(v);
    v = json_new_object();
    check_write(v, JSON_WRITE_PRETTY, "{}");
    json_free(v);
}

/* As deep as the parser allows: parse, copy, write and free recurse. */
static void test_deep(void)
{
    GString *s = g_string_new(NULL);
    struct json_value *v, *c;
    char *out;

    for (int i = 0; i < JSON_PARSE_MAX_DEPTH; i++) {
        g_string_append(s, i & 1 ? "{\"k\":" : "[");
    }
    g_string_append(s, "0");
    for (int i = JSON_PARSE_MAX_DEPTH - 1; i >= 0; i--) {
        g_string_append_c(s, i & 1 ? '}' : ']');
    }
    v = parse(s->str);
    c = json_copy(v);
    json_free(v);
    out = json_to_string(c);
    g_assert_cmpstr(out, ==, s->str);
    g_free(out);
    json_free(c);
    g_string_free(s, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-value/build", test_build);
    g_test_add_func("/json-value/big-object", test_big_object);
    g_test_add_func("/json-value/escapes", test_escapes);
    g_test_add_func("/json-value/numbers", test_numbers);
    g_test_add_func("/json-value/pretty", test_pretty);
    g_test_add_func("/json-value/deep", test_deep);
    return g_test_run();
}
