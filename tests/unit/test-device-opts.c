/* SPDX-License-Identifier: MIT */
/*
 * test-device-opts.c: the one device creation path.  -device text, its
 * JSON form and QMP device_add's arguments become the same typed values
 * (and the same errors); board code creates devices from typed values
 * without option text; device_add and device_del are refused as QEMU
 * refuses a device that cannot be hot-plugged, after the same checks.
 */
#include "util/common.h"
#include "dev-harness.h"
#include "qapi/json-parse.h"
#include "qapi/json-value.h"
#include "qapi/qapi-gen-types.h"

static struct json_value *parse(const char *text)
{
    char *perr = NULL;
    struct json_value *j = json_parse(text, strlen(text), &perr);

    if (!j) {
        g_error("%s: %s", text, perr);
    }
    return j;
}

static struct device_opts *from_json(const char *text, Error **errp)
{
    struct json_value *j = parse(text);
    struct device_opts *o;

    o = device_opts_from_json(j, text, errp);
    json_free(j);
    return o;
}

static const struct prop_value *val(const struct device_opts *o,
                                    const char *name)
{
    for (size_t i = 0; i < o->n; i++) {
        if (!strcmp(o->values[i].name, name)) {
            return &o->values[i];
        }
    }
    g_error("no value for %s", name);
}

/* The same device written both ways gives the same typed values. */
static void test_text_and_json_agree(void)
{
    struct device_opts *t = device_opts_parse(
        "isa-serial,id=com9,index=1,chardev=c0,iobase=0x2f8", NULL);
    struct device_opts *j =
        from_json("{\"driver\": \"isa-serial\", \"id\": \"com9\", \"index\": "
                  "1, \"chardev\": \"c0\", \"iobase\": 760}",
                  NULL);

    g_assert_nonnull(t);
    g_assert_nonnull(j);
    g_assert_true(t->cls == j->cls);
    g_assert_cmpstr(t->id, ==, j->id);
    g_assert_cmpuint(t->n, ==, 3);
    g_assert_cmpuint(j->n, ==, 3);
    g_assert_cmpuint(val(t, "index")->u, ==, val(j, "index")->u);
    g_assert_cmpuint(val(t, "iobase")->u, ==, 0x2f8);
    g_assert_cmpuint(val(j, "iobase")->u, ==, 0x2f8);
    g_assert_cmpstr(val(t, "chardev")->s, ==, "c0");
    g_assert_cmpstr(val(j, "chardev")->s, ==, "c0");
    device_opts_free(t);
    device_opts_free(j);
}

/* call (which takes &err) must fail with a message containing want */
#define EXPECT(call, want)                                                     \
    do {                                                                       \
        Error *err = NULL;                                                     \
        struct device_opts *o_ = call;                                         \
        expect(o_, err, want);                                                 \
    } while (0)

static void expect(struct device_opts *o, Error *err, const char *want)
{
    g_assert_null(o);
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("expected \"%s\", got \"%s\"", want, error_get_pretty(err));
    }
    error_free(err);
}

static void test_errors(void)
{
    EXPECT(device_opts_parse("isa-debug-exit,iosize=0x100000000", &err),
           "'iosize' value '0x100000000' is out of range");
    EXPECT(device_opts_parse("id=x", &err), "parameter 'driver' is missing");
    EXPECT(device_opts_parse("i8042", &err),
           "'i8042' cannot be created with -device");
    EXPECT(from_json("{\"driver\": \"isa-debug-exit\", \"iosize\": "
                     "4294967296}",
                     &err),
           "'iosize' value '4294967296' is out of range");
    EXPECT(from_json("{\"driver\": \"isa-debug-exit\", \"iosize\": -1}", &err),
           "value '-1' is out of range");
    EXPECT(from_json("{\"driver\": \"isa-serial\", \"chardev\": 5}", &err),
           "Invalid parameter type for 'chardev', expected: string");
    EXPECT(from_json("{\"driver\": \"isa-serial\", \"id\": 5}", &err),
           "Invalid parameter type for 'id', expected: string");
    EXPECT(from_json("{\"driver\": 7}", &err),
           "Invalid parameter type for 'driver'");
    EXPECT(from_json("[1]", &err), "must be a JSON object");
    EXPECT(from_json("{\"driver\": \"isa-serial\", \"id\": \"a b\"}", &err),
           "Parameter 'id' expects an identifier");
}

/* A signed property (bootindex, int32): negative values in both forms,
 * the int32 range enforced, text that is not a number refused. */
static void test_signed(void)
{
    struct device_opts *t =
        device_opts_parse("virtio-blk-pci,bootindex=-1", NULL);
    struct device_opts *j =
        from_json("{\"driver\": \"virtio-blk-pci\", \"bootindex\": 2}", NULL);

    g_assert_nonnull(t);
    g_assert_nonnull(j);
    g_assert_cmpint((int64_t)val(t, "bootindex")->u, ==, -1);
    g_assert_cmpint((int64_t)val(j, "bootindex")->u, ==, 2);
    device_opts_free(t);
    device_opts_free(j);
    t = device_opts_parse("virtio-blk-pci,bootindex=-2147483648", NULL);
    g_assert_nonnull(t);
    g_assert_cmpint((int64_t)val(t, "bootindex")->u, ==, INT32_MIN);
    device_opts_free(t);
    EXPECT(device_opts_parse("virtio-blk-pci,bootindex=2147483648", &err),
           "'bootindex' value '2147483648' is out of range");
    EXPECT(device_opts_parse("virtio-blk-pci,bootindex=1x", &err),
           "'bootindex' does not accept '1x'");
    EXPECT(device_opts_parse("virtio-blk-pci,bootindex=", &err),
           "'bootindex' does not accept ''");
    EXPECT(from_json("{\"driver\": \"virtio-blk-pci\", \"bootindex\": "
                     "-2147483649}",
                     &err),
           "'bootindex' value '-2147483649' is out of range");
    EXPECT(from_json("{\"driver\": \"virtio-blk-pci\", \"bootindex\": "
                     "18446744073709551615}",
                     &err),
           "'bootindex' value '18446744073709551615' is out of range");
    EXPECT(from_json("{\"driver\": \"virtio-blk-pci\", \"bootindex\": \"1\"}",
                     &err),
           "Invalid parameter type for 'bootindex', expected: integer");
}

/* Board code: typed values, checked against the class all the same. */
static void test_board_values(void)
{
    struct machine *m = th_machine_new();
    const struct prop_value ok[] = {PROP_VAL_U32("iobase", 0x510),
                                    PROP_VAL_U32("iosize", 2)};
    const struct prop_value wrong_type[] = {PROP_VAL_STR("iobase", "0x510")};
    const struct prop_value unknown[] = {PROP_VAL_U32("nope", 1)};
    const struct prop_value too_big[] = {PROP_VAL_U8("kbd-irq", 300)};
    Error *err = NULL;
    struct device *d;
    GString *map = g_string_new(NULL);

    m->devices = g_ptr_array_new();
    d = device_create(m, "isa-debug-exit", ok, G_N_ELEMENTS(ok), &err);
    g_assert_nonnull(d);
    as_describe(m->pio, map);
    g_assert_nonnull(strstr(map->str, "0000000000000510-0000000000000511"));
    g_assert_null(device_create(m, "isa-debug-exit", wrong_type, 1, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "wrong type"));
    error_free(err);
    err = NULL;
    g_assert_null(device_create(m, "isa-debug-exit", unknown, 1, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Property 'isa-debug-exit.nope' not found");
    error_free(err);
    err = NULL;
    g_assert_null(device_create(m, "i8042", too_big, 1, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "out of range"));
    error_free(err);
    err = NULL;
    g_assert_null(device_create(m, "nosuch", NULL, 0, &err));
    error_free(err);
    device_destroy(d);
    g_ptr_array_free(m->devices, TRUE);
    g_string_free(map, TRUE);
    th_machine_free(m);
}

/* -device and QMP share the path: same checks, then QMP refuses. */
static void test_qmp_device_add_del(void)
{
    struct machine *m = th_machine_new();
    struct device_opts *o = device_opts_parse("isa-debug-exit,id=dx", NULL);
    struct json_value *args;
    Error *err = NULL, *err2 = NULL;

    m->devices = g_ptr_array_new();
    g_assert_nonnull(device_create_opts(m, o, NULL));
    /* the same id twice */
    g_assert_null(device_create_opts(m, o, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Duplicate ID 'dx' for device");
    error_free(err);
    err = NULL;
    device_opts_free(o);

    /* a bad property: the message -device gives */
    args = parse("{\"driver\": \"isa-debug-exit\", \"bogus\": 1}");
    g_assert_nonnull(args);
    g_assert_null(qmp_marshal_device_add(m, args, &err));
    g_assert_null(
        from_json("{\"driver\": \"isa-debug-exit\", \"bogus\": 1}", &err2));
    g_assert_cmpstr(error_get_pretty(err), ==, error_get_pretty(err2));
    error_free(err);
    error_free(err2);
    err = NULL;
    json_free(args);
    /* a valid request: refused, no hot-plug */
    args = parse("{\"driver\": \"isa-serial\", \"id\": \"s1\"}");
    g_assert_nonnull(args);
    g_assert_null(qmp_marshal_device_add(m, args, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Device 'isa-serial' does not support hotplugging");
    error_free(err);
    err = NULL;
    json_free(args);
    g_assert_cmpuint(m->devices->len, ==, 1);
    /* device_del: unknown id, then a real one */
    qmp_device_del(m, "nope", &err);
    g_assert_cmpstr(error_get_pretty(err), ==, "Device 'nope' not found");
    g_assert_cmpint(error_get_class(err), ==, ERROR_CLASS_DEVICE_NOT_FOUND);
    error_free(err);
    err = NULL;
    qmp_device_del(m, "dx", &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Device 'isa-debug-exit' does not support hotplugging");
    error_free(err);
    g_assert_cmpuint(m->devices->len, ==, 1);
    device_destroy(g_ptr_array_index(m->devices, 0));
    g_ptr_array_free(m->devices, TRUE);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/device-opts/text-and-json-agree",
                    test_text_and_json_agree);
    g_test_add_func("/device-opts/errors", test_errors);
    g_test_add_func("/device-opts/signed", test_signed);
    g_test_add_func("/device-opts/board-values", test_board_values);
    g_test_add_func("/device-opts/qmp-device-add-del", test_qmp_device_add_del);
    return g_test_run();
}
