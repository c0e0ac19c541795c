/* SPDX-License-Identifier: MIT */
/*
 * test-qmp-gen.c: the code scripts/qapi-gen.py generates from
 * qapi-schema-test.json: argument validation (missing, unexpected, wrong
 * type, integer ranges for every width, bad enum values, nested paths),
 * unions, alternates, serialisation, events and introspection data.
 */
#include "util/common.h"
#include "qapi/json-stream.h"
#include "qapi/json-parse.h"
#include "test-qmp-handlers.h"

struct fixture {
    struct tq_machine tm;
};

static struct machine *fake_machine(struct fixture *f)
{
    f->tm.events = g_ptr_array_new_with_free_func(g_free);
    return (struct machine *)(void *)&f->tm;
}

static const struct qmp_command_def *find(const char *name)
{
    for (size_t i = 0; i < tq_nr_commands; i++) {
        if (strcmp(tq_commands[i].name, name) == 0) {
            return &tq_commands[i];
        }
    }
    g_assert_not_reached();
}

static void got_text(void *opaque, const char *text, size_t len)
{
    *(char **)opaque = g_strndup(text, len);
}

static void got_err(void *opaque, const char *msg)
{
    g_assert_not_reached();
}

/* Reads args_json the way the server does: the splitter, then the
 * parser. */
static struct json_value *read_json(const char *args_json)
{
    static const struct json_stream_ops ops = {.message = got_text,
                                               .error = got_err};
    char *text = NULL;
    struct json_stream *js = json_stream_new(1 << 20, 64, &ops, &text);
    struct json_value *n;
    char *err = NULL;

    json_stream_feed(js, (const uint8_t *)args_json, strlen(args_json));
    json_stream_free(js);
    g_assert_nonnull(text);
    n = json_parse(text, strlen(text), &err);
    g_assert_null(err);
    g_free(text);
    return n;
}

/* Runs command `name` with JSON args; returns the reply text or
 * "ERR:<message>". */
static char *run(const char *name, const char *args_json)
{
    struct fixture f = {0};
    struct machine *m = fake_machine(&f);
    struct json_value *args = read_json(args_json);
    Error *err = NULL;
    struct json_value *ret;
    char *out;

    g_assert(json_is(args, JSON_OBJECT));
    ret = find(name)->fn(m, args, &err);
    if (ret) {
        g_assert_null(err);
        out = json_to_string(ret);
        json_free(ret);
    } else {
        g_assert_nonnull(err);
        out = g_strdup_printf("ERR:%s", error_get_pretty(err));
        error_free(err);
    }
    json_free(args);
    g_ptr_array_free(f.tm.events, TRUE);
    return out;
}

static void check(const char *name, const char *args, const char *expect)
{
    char *got = run(name, args);

    if (strcmp(got, expect) != 0) {
        g_test_message("%s %s:\n  got    %s\n  expect %s", name, args, got,
                       expect);
    }
    g_assert_cmpstr(got, ==, expect);
    g_free(got);
}

static void check_ok(const char *name, const char *args)
{
    char *got = run(name, args);

    if (g_str_has_prefix(got, "ERR:")) {
        g_test_message("%s %s: %s", name, args, got);
    }
    g_assert_false(g_str_has_prefix(got, "ERR:"));
    g_free(got);
}

static void test_missing(void)
{
    check("test-struct", "{}", "ERR:Parameter 's' is missing");
    check("test-struct", "{\"s\": {\"a\": \"x\"}}",
          "ERR:Parameter 's.base-member' is missing");
    check("test-struct", "{\"s\": {\"base-member\": \"x\"}}",
          "ERR:Parameter 's.a' is missing");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"sub\": {}}}",
          "ERR:Parameter 's.sub.x' is missing");
}

static void test_unexpected(void)
{
    check("test-ints", "{\"bogus\": 1}", "ERR:Parameter 'bogus' is unexpected");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"z\": 1}}",
          "ERR:Parameter 's.z' is unexpected");
    check("test-oob", "{\"x\": 1}", "ERR:Parameter 'x' is unexpected");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", "
          "\"list\": [{\"x\": 1}, {\"x\": 2, \"q\": 3}]}}",
          "ERR:Parameter 's.list[1].q' is unexpected");
}

static void test_types(void)
{
    check("test-ints", "{\"i8\": \"1\"}",
          "ERR:Invalid parameter type for 'i8', expected: integer");
    check("test-ints", "{\"i\": 1.5}",
          "ERR:Invalid parameter type for 'i', expected: integer");
    check("test-ints", "{\"i\": true}",
          "ERR:Invalid parameter type for 'i', expected: integer");
    check("test-ints", "{\"i\": null}",
          "ERR:Invalid parameter type for 'i', expected: integer");
    check("test-struct", "{\"s\": []}",
          "ERR:Invalid parameter type for 's', expected: object");
    check("test-struct", "{\"s\": {\"base-member\": 1, \"a\": \"y\"}}",
          "ERR:Invalid parameter type for 's.base-member', expected: string");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"b\": 1}}",
          "ERR:Invalid parameter type for 's.b', expected: boolean");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"n\": \"1\"}}",
          "ERR:Invalid parameter type for 's.n', expected: number");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"list\": {}}}",
          "ERR:Invalid parameter type for 's.list', expected: array");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"strs\": [\"a\", "
          "2]}}",
          "ERR:Invalid parameter type for 's.strs[1]', expected: string");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"ints\": [1, "
          "\"2\"]}}",
          "ERR:Invalid parameter type for 's.ints[1]', expected: integer");
}

static void test_ranges(void)
{
    static const struct {
        const char *member, *lo, *hi, *below, *above, *tname;
    } r[] = {
        {"i8", "-128", "127", "-129", "128", "int8_t"},
        {"i16", "-32768", "32767", "-32769", "32768", "int16_t"},
        {"i32", "-2147483648", "2147483647", "-2147483649", "2147483648",
         "int32_t"},
        {"u8", "0", "255", "-1", "256", "uint8_t"},
        {"u16", "0", "65535", "-1", "65536", "uint16_t"},
        {"u32", "0", "4294967295", "-1", "4294967296", "uint32_t"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
        char *a, *e;

        a = g_strdup_printf("{\"%s\": %s}", r[i].member, r[i].lo);
        e = g_strdup_printf("{\"%s\":%s}", r[i].member, r[i].lo);
        check("test-ints", a, e);
        g_free(a), g_free(e);
        a = g_strdup_printf("{\"%s\": %s}", r[i].member, r[i].hi);
        e = g_strdup_printf("{\"%s\":%s}", r[i].member, r[i].hi);
        check("test-ints", a, e);
        g_free(a), g_free(e);
        e = g_strdup_printf("ERR:Parameter '%s' expects %s", r[i].member,
                            r[i].tname);
        a = g_strdup_printf("{\"%s\": %s}", r[i].member, r[i].below);
        check("test-ints", a, e);
        g_free(a);
        a = g_strdup_printf("{\"%s\": %s}", r[i].member, r[i].above);
        check("test-ints", a, e);
        g_free(a), g_free(e);
    }
    check("test-ints", "{\"i64\": -9223372036854775808}",
          "{\"i64\":-9223372036854775808}");
    check("test-ints", "{\"i64\": 9223372036854775807}",
          "{\"i64\":9223372036854775807}");
    check("test-ints", "{\"u64\": 0}", "{\"u64\":0}");
    check("test-ints", "{\"u64\": -1}", "ERR:Parameter 'u64' expects uint64_t");
    check("test-ints", "{\"sz\": -5}", "ERR:Parameter 'sz' expects uint64_t");
    check_ok("test-ints", "{\"u64\": 18446744073709551615}");
    /* beyond int64 an integer is a uint (as QEMU); beyond uint64 a double,
     * which an integer member refuses */
    check("test-ints", "{\"u64\": 9223372036854775808}",
          "{\"u64\":9223372036854775808}");
    check("test-ints", "{\"u64\": 18446744073709551615}",
          "{\"u64\":18446744073709551615}");
    check("test-ints", "{\"u64\": 18446744073709551616}",
          "ERR:Invalid parameter type for 'u64', expected: integer");
    check("test-ints", "{\"i64\": 9223372036854775808}",
          "ERR:Invalid parameter type for 'i64', expected: integer");
    check("test-ints", "{\"u64\": 36893488147419103232}",
          "ERR:Invalid parameter type for 'u64', expected: integer");
    check("test-ints", "{\"i64\": -9223372036854775809}",
          "ERR:Invalid parameter type for 'i64', expected: integer");
    check("test-ints", "{\"u64\": 1e30}",
          "ERR:Invalid parameter type for 'u64', expected: integer");
    check("test-ints", "{\"i\": 99999999999999999999999}",
          "ERR:Invalid parameter type for 'i', expected: integer");
}

static void test_enums(void)
{
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"e\": \"four\"}}",
          "ERR:Parameter 's.e' does not accept value 'four'");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"e\": 1}}",
          "ERR:Invalid parameter type for 's.e', expected: string");
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"enums\": "
          "[\"one\", \"nine\"]}}",
          "ERR:Parameter 's.enums[1]' does not accept value 'nine'");
    check("qmp_capabilities", "{\"enable\": [\"oob\"]}", "{}");
    check("qmp_capabilities", "{\"enable\": [\"x\"]}",
          "ERR:Parameter 'enable[0]' does not accept value 'x'");
}

static void test_round_trip(void)
{
    check("test-struct",
          "{\"s\": {\"base-member\": \"x\", \"a\": \"y\", \"b\": true, "
          "\"n\": 2.5, \"e\": \"two-words\", \"sub\": {\"x\": 7, \"y\": "
          "\"z\"}, \"list\": [{\"x\": 1}], \"strs\": [\"p\", \"q\"], "
          "\"enums\": [\"three\"], \"ints\": [5, -6], \"any\": {\"k\": "
          "[null]}}}",
          "{\"base-member\":\"x\",\"a\":\"y\",\"b\":true,\"n\":2.5,"
          "\"e\":\"two-words\",\"sub\":{\"x\":7,\"y\":\"z\"},"
          "\"list\":[{\"x\":1}],\"strs\":[\"p\",\"q\"],"
          "\"enums\":[\"three\"],\"ints\":[5,-6],\"any\":{\"k\":[null]}}");
    check("test-list", "{}", "[{\"x\":0},{\"x\":1},{\"x\":2}]");
    check("test-oob", "{}", "42");
}

static void test_union(void)
{
    check("test-union", "{\"kind\": \"one\", \"one-val\": 3}",
          "{\"kind\":\"one\",\"one-val\":3}");
    check("test-union",
          "{\"kind\": \"two-words\", \"two-val\": \"t\", \"common\": 1}",
          "{\"kind\":\"two-words\",\"common\":1,\"two-val\":\"t\"}");
    check("test-union", "{\"kind\": \"three\"}", "{\"kind\":\"three\"}");
    check("test-union", "{\"kind\": \"one\"}",
          "ERR:Parameter 'one-val' is missing");
    check("test-union",
          "{\"kind\": \"one\", \"one-val\": 1, \"two-val\": "
          "\"x\"}",
          "ERR:Parameter 'two-val' is unexpected");
    check("test-union", "{\"one-val\": 1}", "ERR:Parameter 'kind' is missing");
    check("test-union", "{\"kind\": \"nope\"}",
          "ERR:Parameter 'kind' does not accept value 'nope'");
}

static void test_alternate(void)
{
    check("test-alt", "{\"v\": 5}", "\"int 5\"");
    check("test-alt", "{\"v\": \"s\"}", "\"str s\"");
    check("test-alt", "{\"v\": {\"x\": 9}}", "\"obj 9\"");
    check("test-alt", "{\"v\": true}",
          "ERR:Invalid parameter type for 'v', expected: TestAlt");
    check("test-alt", "{\"v\": {\"y\": \"a\"}}",
          "ERR:Parameter 'v.x' is missing");
}

static void test_handler_error(void)
{
    check("test-fail", "{}", "ERR:test-fail failed as asked");
    check("test-no-reply", "{}", "{}");
}

static void test_events(void)
{
    struct fixture f = {0};
    struct machine *m = fake_machine(&f);

    tq_event_send_test_event(m, 5, true, TQ_TEST_ENUM_TWO_WORDS);
    tq_event_send_test_event(m, -1, false, TQ_TEST_ENUM_ONE);
    tq_event_send_test_plain(m);
    g_assert_cmpuint(f.tm.events->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(f.tm.events, 0), ==,
                    "TEST_EVENT {\"num\":5,\"e\":\"two-words\"}");
    g_assert_cmpstr(g_ptr_array_index(f.tm.events, 1), ==,
                    "TEST_EVENT {\"num\":-1}");
    g_assert_cmpstr(g_ptr_array_index(f.tm.events, 2), ==, "TEST_PLAIN null");
    g_ptr_array_free(f.tm.events, TRUE);
    g_assert_cmpstr(tq_event_names[0], ==, "TEST_EVENT");
    g_assert_cmpstr(tq_event_names[1], ==, "TEST_PLAIN");
    g_assert_null(tq_event_names[2]);
}

static void test_enum_strings(void)
{
    g_assert_cmpstr(tq_test_enum_str(TQ_TEST_ENUM_TWO_WORDS), ==, "two-words");
    g_assert_cmpstr(tq_test_enum_str(TQ_TEST_ENUM__MAX), ==, "");
    g_assert_cmpint(TQ_TEST_ENUM__MAX, ==, 3);
}

/* Every name the introspection data refers to is defined in it, command
 * flags are there, and non-builtin type names are masked. */
static void test_introspection(void)
{
    char *err = NULL;
    struct json_value *a =
        json_parse(tq_schema_json, strlen(tq_schema_json), &err);
    GHashTable *names = g_hash_table_new(g_str_hash, g_str_equal);
    bool saw_oob = false, saw_union = false, saw_alt = false;

    g_assert_true(json_is(a, JSON_ARRAY));
    for (size_t i = 0; i < json_array_len(a); i++) {
        struct json_value *o = json_array_get(a, i);
        g_assert_true(json_is(o, JSON_OBJECT));
        g_hash_table_add(names,
                         (char *)json_string(json_object_get(o, "name")));
    }
    for (size_t i = 0; i < json_array_len(a); i++) {
        struct json_value *o = json_array_get(a, i);
        const char *meta = json_string(json_object_get(o, "meta-type"));
        const char *name = json_string(json_object_get(o, "name"));
        static const char *const refs[] = {"arg-type", "ret-type",
                                           "element-type"};

        for (size_t k = 0; k < ARRAY_SIZE(refs); k++) {
            if (json_object_get(o, refs[k])) {
                g_assert_true(g_hash_table_contains(
                    names, json_string(json_object_get(o, refs[k]))));
            }
        }
        if (strcmp(meta, "command") == 0 && strcmp(name, "test-oob") == 0) {
            struct json_value *b = json_object_get(o, "allow-oob");
            saw_oob = json_is(b, JSON_BOOL) && b->u.b;
        }
        if (strcmp(meta, "object") == 0) {
            g_assert_true(g_ascii_isdigit(name[0]));
            if (json_object_get(o, "tag")) {
                g_assert_cmpstr(json_string(json_object_get(o, "tag")), ==,
                                "kind");
                saw_union = true;
            }
        }
        if (strcmp(meta, "alternate") == 0) {
            saw_alt = true;
        }
    }
    g_assert_true(saw_oob);
    g_assert_true(saw_union);
    g_assert_true(saw_alt);
    g_hash_table_destroy(names);
    json_free(a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-gen/missing", test_missing);
    g_test_add_func("/qmp-gen/unexpected", test_unexpected);
    g_test_add_func("/qmp-gen/types", test_types);
    g_test_add_func("/qmp-gen/ranges", test_ranges);
    g_test_add_func("/qmp-gen/enums", test_enums);
    g_test_add_func("/qmp-gen/round-trip", test_round_trip);
    g_test_add_func("/qmp-gen/union", test_union);
    g_test_add_func("/qmp-gen/alternate", test_alternate);
    g_test_add_func("/qmp-gen/handler-error", test_handler_error);
    g_test_add_func("/qmp-gen/events", test_events);
    g_test_add_func("/qmp-gen/enum-strings", test_enum_strings);
    g_test_add_func("/qmp-gen/introspection", test_introspection);
    return g_test_run();
}
