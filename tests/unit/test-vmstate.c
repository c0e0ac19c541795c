/* SPDX-License-Identifier: MIT */
/*
 * test-vmstate.c: the vmstate engine (migration/vmstate.c): the byte
 * layout it writes, round trips with nested structs and needed()
 * subsections, and loads of truncated or garbage streams, which must fail
 * naming the field and leave the object untouched.
 */
#include "util/common.h"
#include "migration/vmstate.h"

struct inner {
    uint16_t a;
    uint8_t b;
};

struct sample {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    bool flag;
    uint8_t buf[3];
    uint32_t arr[2];
    struct inner in;
    /* subsection state */
    bool has_extra;
    uint32_t extra;
    /* post_load rejects u8 == 0xee */
    int post_loads;
    int pre_saves;
    bool fail_pre_save;
};

static const struct vmstate_field inner_fields[] = {
    VMS_U16(struct inner, a),
    VMS_U8(struct inner, b),
    VMS_END,
};

static const struct vmstate_desc inner_vmsd = {
    .name = "inner",
    .version = 1,
    .fields = inner_fields,
};

static bool extra_needed(void *opaque)
{
    struct sample *s = opaque;
    return s->has_extra;
}

static const struct vmstate_field extra_fields[] = {
    VMS_U32(struct sample, extra),
    VMS_END,
};

static const struct vmstate_desc extra_vmsd = {
    .name = "sample/extra",
    .version = 1,
    .fields = extra_fields,
    .needed = extra_needed,
};

static bool sample_post_load(void *opaque, Error **errp)
{
    struct sample *s = opaque;

    s->post_loads++;
    if (s->u8 == 0xee) {
        error_setg(errp, "u8 value 0xee is invalid");
        return false;
    }
    return true;
}

static bool sample_pre_save(void *opaque, Error **errp)
{
    struct sample *s = opaque;

    s->pre_saves++;
    if (s->fail_pre_save) {
        error_setg(errp, "the sample is busy");
        return false;
    }
    return true;
}

static const struct vmstate_field sample_fields[] = {
    VMS_U8(struct sample, u8),
    VMS_U16(struct sample, u16),
    VMS_U32(struct sample, u32),
    VMS_U64(struct sample, u64),
    VMS_BOOL(struct sample, flag),
    VMS_BUFFER(struct sample, buf),
    VMS_U32_ARRAY(struct sample, arr, 2),
    {"in", VMS_T_STRUCT, offsetof(struct sample, in), sizeof(struct inner), 1,
     &inner_vmsd},
    VMS_END,
};

static const struct vmstate_desc *const sample_subs[] = {&extra_vmsd, NULL};

static const struct vmstate_desc sample_vmsd = {
    .name = "sample",
    .version = 1,
    .fields = sample_fields,
    .subsections = sample_subs,
    .pre_save = sample_pre_save,
    .post_load = sample_post_load,
};

static void fill(struct sample *s)
{
    memset(s, 0, sizeof(*s));
    s->u8 = 0x11;
    s->u16 = 0x2233;
    s->u32 = 0x44556677;
    s->u64 = 0x8899aabbccddeeffULL;
    s->flag = true;
    memcpy(s->buf, "xyz", 3);
    s->arr[0] = 0x01020304;
    s->arr[1] = 0x05060708;
    s->in.a = 0xa1a2;
    s->in.b = 0xb1;
}

/* The format is part of the contract: check it byte by byte. */
static const uint8_t expected_plain[] = {
    0x11,                                           /* u8 */
    0x33, 0x22,                                     /* u16 */
    0x77, 0x66, 0x55, 0x44,                         /* u32 */
    0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, /* u64 */
    0x01,                                           /* flag */
    'x',  'y',  'z',                                /* buf */
    0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05, /* arr */
    0xa2, 0xa1, 0xb1, 0x00,                         /* in (+ its end) */
    0x00,                                           /* end */
};

static void test_layout(void)
{
    struct sample s;
    GByteArray *out = g_byte_array_new();
    Error *err = NULL;

    fill(&s);
    g_assert_true(vmstate_save(&sample_vmsd, &s, out, &err));
    g_assert_null(err);
    g_assert_cmpint(s.pre_saves, ==, 1);
    g_assert_cmpmem(out->data, out->len, expected_plain,
                    sizeof(expected_plain));
    g_byte_array_unref(out);
}

static void test_subsection_layout(void)
{
    struct sample s;
    GByteArray *out = g_byte_array_new();
    static const uint8_t tail[] = {
        0x01, 12,   's',  'a',  'm',  'p', 'l', 'e', '/',
        'e',  'x',  't',  'r',  'a',  5,   0,   0,   0, /* body length */
        0x0d, 0xf0, 0xad, 0x0b, 0x00, /* extra, end of its subsections */
        0x00,
    };

    fill(&s);
    s.has_extra = true;
    s.extra = 0x0badf00d;
    g_assert_true(vmstate_save(&sample_vmsd, &s, out, NULL));
    g_assert_cmpuint(out->len, ==, sizeof(expected_plain) - 1 + sizeof(tail));
    g_assert_cmpmem(out->data, sizeof(expected_plain) - 1, expected_plain,
                    sizeof(expected_plain) - 1);
    g_assert_cmpmem(out->data + sizeof(expected_plain) - 1, sizeof(tail), tail,
                    sizeof(tail));
    g_byte_array_unref(out);
}

static void test_roundtrip(void)
{
    struct sample a, b;
    GByteArray *out = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 3;

    fill(&a);
    a.has_extra = true;
    a.extra = 42;
    g_byte_array_append(out, (const uint8_t *)"pre", 3);
    g_assert_true(vmstate_save(&sample_vmsd, &a, out, NULL));
    g_byte_array_append(out, (const uint8_t *)"post", 4);

    memset(&b, 0, sizeof(b));
    g_assert_true(
        vmstate_load(&sample_vmsd, &b, out->data, out->len, &pos, &err));
    g_assert_null(err);
    g_assert_cmpuint(pos, ==, out->len - 4);
    g_assert_cmpint(b.post_loads, ==, 1);
    g_assert_cmpuint(b.u8, ==, a.u8);
    g_assert_cmpuint(b.u16, ==, a.u16);
    g_assert_cmpuint(b.u32, ==, a.u32);
    g_assert_cmpuint(b.u64, ==, a.u64);
    g_assert_true(b.flag);
    g_assert_cmpmem(b.buf, 3, a.buf, 3);
    g_assert_cmpuint(b.arr[0], ==, a.arr[0]);
    g_assert_cmpuint(b.arr[1], ==, a.arr[1]);
    g_assert_cmpuint(b.in.a, ==, a.in.a);
    g_assert_cmpuint(b.in.b, ==, a.in.b);
    g_assert_cmpuint(b.extra, ==, 42);
    g_byte_array_unref(out);
}

static void test_subsection_absent_keeps_value(void)
{
    struct sample a, b;
    GByteArray *out = g_byte_array_new();
    size_t pos = 0;

    fill(&a);
    g_assert_true(vmstate_save(&sample_vmsd, &a, out, NULL));
    memset(&b, 0, sizeof(b));
    b.extra = 7;
    g_assert_true(
        vmstate_load(&sample_vmsd, &b, out->data, out->len, &pos, NULL));
    g_assert_cmpuint(b.extra, ==, 7);
    g_byte_array_unref(out);
}

/* Every strict prefix must fail, name what was being read, and store
 * nothing. */
static void test_truncated(void)
{
    struct sample a, b, before;
    GByteArray *out = g_byte_array_new();

    fill(&a);
    a.has_extra = true;
    a.extra = 99;
    g_assert_true(vmstate_save(&sample_vmsd, &a, out, NULL));
    for (size_t n = 0; n < out->len; n++) {
        Error *err = NULL;
        size_t pos = 0;

        memset(&b, 0x5a, sizeof(b));
        b.post_loads = 0;
        memcpy(&before, &b, sizeof(b));
        g_assert_false(
            vmstate_load(&sample_vmsd, &b, out->data, n, &pos, &err));
        g_assert_nonnull(err);
        /* inside a subsection, its length field sees the cut first */
        g_assert_true(strstr(error_get_pretty(err), "truncated") ||
                      strstr(error_get_pretty(err), "overruns"));
        g_assert_cmpuint(pos, ==, 0);
        g_assert_cmpmem(&b, sizeof(b), &before, sizeof(before));
        error_free(err);
    }
    /* The message names the field being read. */
    {
        Error *err = NULL;
        size_t pos = 0;
        g_assert_false(
            vmstate_load(&sample_vmsd, &b, out->data, 2, &pos, &err));
        g_assert_nonnull(strstr(error_get_pretty(err), "'u16'"));
        error_free(err);
    }
    g_byte_array_unref(out);
}

static GByteArray *saved(bool extra)
{
    struct sample a;
    GByteArray *out = g_byte_array_new();

    fill(&a);
    a.has_extra = extra;
    a.extra = 5;
    g_assert_true(vmstate_save(&sample_vmsd, &a, out, NULL));
    return out;
}

/* Loads a corrupted stream: must fail with `needle` in the message and
 * leave the target as it was. */
static void expect_garbage(GByteArray *s, const char *needle)
{
    struct sample b, before;
    Error *err = NULL;
    size_t pos = 0;

    memset(&b, 0, sizeof(b));
    b.u8 = 1;
    memcpy(&before, &b, sizeof(b));
    g_assert_false(vmstate_load(&sample_vmsd, &b, s->data, s->len, &pos, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), needle)) {
        g_test_message("got: %s", error_get_pretty(err));
    }
    g_assert_nonnull(strstr(error_get_pretty(err), needle));
    g_assert_cmpint(b.post_loads, ==, 0);
    g_assert_cmpmem(&b, sizeof(b), &before, sizeof(before));
    error_free(err);
}

static void test_garbage(void)
{
    GByteArray *s;
    const size_t flag_off = 15, end_off = sizeof(expected_plain) - 1;

    /* bool must be 0 or 1 */
    s = saved(false);
    s->data[flag_off] = 2;
    expect_garbage(s, "'flag'");
    g_byte_array_unref(s);

    /* unknown tag where the end tag belongs */
    s = saved(false);
    s->data[end_off] = 0x7f;
    expect_garbage(s, "bad subsection tag 0x7f");
    g_byte_array_unref(s);

    /* unknown subsection name */
    s = saved(true);
    s->data[end_off + 2] = 'X';
    expect_garbage(s, "unknown subsection 'Xample/extra'");
    g_byte_array_unref(s);

    /* subsection length beyond the stream */
    s = saved(true);
    s->data[end_off + 14] = 0xff;
    s->data[end_off + 17] = 0x7f;
    expect_garbage(s, "overruns");
    g_byte_array_unref(s);

    /* subsection length claims more than its body: trailing bytes */
    s = saved(true);
    {
        static const uint8_t junk[] = {0, 0};
        s->data[end_off + 14] = 7;
        /* insert two bytes after the subsection body */
        g_byte_array_set_size(s, s->len - 1);
        g_byte_array_append(s, junk, 2);
        g_byte_array_append(s, (const uint8_t *)"\0", 1);
    }
    expect_garbage(s, "unexpected bytes");
    g_byte_array_unref(s);

    /* the same subsection twice */
    s = saved(true);
    {
        GByteArray *copy = g_byte_array_new();
        size_t sub_len = s->len - 1 - end_off;
        g_byte_array_append(copy, s->data, s->len - 1);
        g_byte_array_append(copy, s->data + end_off, sub_len);
        g_byte_array_append(copy, (const uint8_t *)"\0", 1);
        expect_garbage(copy, "appears twice");
        g_byte_array_unref(copy);
    }
    g_byte_array_unref(s);

    /* subsection name runs off the end */
    s = saved(false);
    s->data[end_off] = 0x01;
    g_byte_array_append(s, (const uint8_t[]){0x30, 'a', 'b'}, 3);
    expect_garbage(s, "subsection name");
    g_byte_array_unref(s);
}

static void test_post_load_refusal_restores(void)
{
    struct sample a, b, before;
    GByteArray *out = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    fill(&a);
    a.u8 = 0xee;
    a.has_extra = true;
    a.extra = 1234;
    g_assert_true(vmstate_save(&sample_vmsd, &a, out, NULL));
    memset(&b, 0, sizeof(b));
    b.u16 = 9;
    b.extra = 77;
    memcpy(&before, &b, sizeof(b));
    g_assert_false(
        vmstate_load(&sample_vmsd, &b, out->data, out->len, &pos, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "0xee is invalid"));
    g_assert_nonnull(strstr(error_get_pretty(err), "'sample'"));
    g_assert_cmpuint(pos, ==, 0);
    /* post_load ran once (and its counter is state outside the table) */
    g_assert_cmpint(b.post_loads, ==, 1);
    b.post_loads = 0;
    g_assert_cmpmem(&b, sizeof(b), &before, sizeof(before));
    error_free(err);
    g_byte_array_unref(out);
}

static void test_pre_save_failure(void)
{
    struct sample a;
    GByteArray *out = g_byte_array_new();
    Error *err = NULL;

    fill(&a);
    a.fail_pre_save = true;
    g_byte_array_append(out, (const uint8_t *)"x", 1);
    g_assert_false(vmstate_save(&sample_vmsd, &a, out, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "vmstate 'sample': the sample is busy");
    g_assert_cmpuint(out->len, ==, 1);
    error_free(err);
    g_byte_array_unref(out);
}

struct wrong {
    uint32_t v;
};

static void test_table_mistake(void)
{
    /* u16 declared over a 4-byte member: refused, not silently cut */
    static const struct vmstate_field f[] = {
        VMS_FIELD(struct wrong, v, VMS_T_U16, 1),
        VMS_END,
    };
    static const struct vmstate_desc d = {.name = "wrong", .fields = f};
    struct wrong w = {1};
    GByteArray *out = g_byte_array_new();
    Error *err = NULL;

    g_assert_false(vmstate_save(&d, &w, out, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "'v'"));
    g_assert_cmpuint(out->len, ==, 0);
    error_free(err);
    g_byte_array_unref(out);
}

static void test_bad_start(void)
{
    struct sample b;
    uint8_t buf[4] = {0};
    size_t pos = 5;
    Error *err = NULL;

    g_assert_false(
        vmstate_load(&sample_vmsd, &b, buf, sizeof(buf), &pos, &err));
    g_assert_nonnull(err);
    error_free(err);
}

/* Random streams must never crash; the ones that load pass post_load. */
static void test_random(void)
{
    GRand *r = g_rand_new_with_seed(1234);
    GByteArray *good = saved(true);

    for (int i = 0; i < 20000; i++) {
        uint8_t buf[96];
        size_t len = g_rand_int_range(r, 0, sizeof(buf));
        struct sample b;
        size_t pos = 0;
        Error *err = NULL;

        /* half mutate a valid stream, half pure noise */
        if (i & 1) {
            len = MIN(len, (size_t)good->len);
            memcpy(buf, good->data, len);
            for (int k = 0; k < 3; k++) {
                if (len) {
                    buf[g_rand_int_range(r, 0, len)] = g_rand_int(r);
                }
            }
        } else {
            for (size_t k = 0; k < len; k++) {
                buf[k] = g_rand_int(r);
            }
        }
        memset(&b, 0, sizeof(b));
        if (vmstate_load(&sample_vmsd, &b, buf, len, &pos, &err)) {
            g_assert_null(err);
            g_assert_cmpuint(pos, <=, len);
            g_assert_cmpuint(b.u8, !=, 0xee);
        } else {
            g_assert_nonnull(err);
            error_free(err);
        }
    }
    g_byte_array_unref(good);
    g_rand_free(r);
}

/* ---- pointer members, variable arrays, descriptions by reference ---- */

struct elem {
    uint16_t v;
};

struct holder {
    uint8_t tag;
    struct inner *ptr;  /* VMS_T_STRUCT_PTR */
    struct elem *elems; /* VMS_T_VARRAY of n */
    unsigned n;
    struct inner model; /* VMS_STRUCT_REF */
};

static const struct vmstate_field elem_fields[] = {
    VMS_U16(struct elem, v),
    VMS_END,
};

static const struct vmstate_desc elem_vmsd = {
    .name = "elem", .version = 1, .fields = elem_fields};

/* A "class" whose description the table reaches through a pointer. */
struct holder_class {
    const struct vmstate_desc *vmsd;
};

static const struct holder_class with_model = {&inner_vmsd};
static const struct holder_class without_model = {NULL};

#define HOLDER_FIELDS(cls)                                                     \
    {                                                                          \
        VMS_U8(struct holder, tag),                                            \
            VMS_STRUCT_PTR(struct holder, ptr, &inner_vmsd),                   \
            VMS_VARRAY(struct holder, elems, n, &elem_vmsd),                   \
            VMS_STRUCT_REF(struct holder, model, &(cls).vmsd), VMS_END         \
    }

static const struct vmstate_field holder_fields[] = HOLDER_FIELDS(with_model);
static const struct vmstate_field holder_bare_fields[] =
    HOLDER_FIELDS(without_model);
static const struct vmstate_desc holder_vmsd = {
    .name = "holder", .version = 1, .fields = holder_fields};
static const struct vmstate_desc holder_bare_vmsd = {
    .name = "holder", .version = 1, .fields = holder_bare_fields};

static void test_pointers(void)
{
    struct inner pa = {0x1234, 5}, pb = {0};
    struct elem ea[3] = {{1}, {2}, {3}}, eb[3] = {{0}}, ec[2] = {{0}};
    struct holder a = {7, &pa, ea, 3, {0xbeef, 9}};
    struct holder b = {0, &pb, eb, 3, {0}};
    struct holder c = {0, &pb, ec, 2, {0}};
    static const uint8_t expected[] = {
        7, 0x34, 0x12, 5, 0,                      /* tag, *ptr, its end tag */
        3, 0,    0,    0,                         /* count */
        1, 0,    0,                               /* elems[0], end */
        2, 0,    0,    3, 0, 0, 0xef, 0xbe, 9, 0, /* ..., model */
        0};
    GByteArray *out = g_byte_array_new();
    Error *err = NULL;
    size_t pos = 0;

    g_assert_true(vmstate_save(&holder_vmsd, &a, out, &err));
    g_assert_cmpmem(out->data, out->len, expected, sizeof(expected));
    g_assert_true(vmstate_check(&holder_vmsd, out->data, out->len, &err));
    g_assert_true(
        vmstate_load(&holder_vmsd, &b, out->data, out->len, &pos, &err));
    g_assert_null(err);
    g_assert_cmpuint(pos, ==, out->len);
    g_assert_cmpuint(pb.a, ==, 0x1234);
    g_assert_cmpuint(pb.b, ==, 5);
    g_assert_cmpuint(eb[2].v, ==, 3);
    g_assert_cmpuint(b.model.a, ==, 0xbeef);
    /* the stream cannot resize an array: refused, nothing changed */
    pos = 0;
    pb.a = 0;
    g_assert_false(
        vmstate_load(&holder_vmsd, &c, out->data, out->len, &pos, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "vmstate 'holder': 'elems': the stream has 3 elements, "
                    "this device 2");
    g_assert_cmpuint(pb.a, ==, 0);
    g_assert_cmpuint(ec[0].v, ==, 0);
    error_free(err);
    err = NULL;
    /* a hostile count without the bodies is a truncation, not a loop */
    {
        uint8_t huge[] = {7, 0x34, 0x12, 5, 0, 0xff, 0xff, 0xff, 0xff, 1, 0};

        g_assert_false(vmstate_check(&holder_vmsd, huge, sizeof(huge), &err));
        g_assert_nonnull(strstr(error_get_pretty(err), "truncated"));
        error_free(err);
        err = NULL;
    }
    /* a pointer to nothing cannot be saved */
    a.ptr = NULL;
    g_assert_false(vmstate_save(&holder_vmsd, &a, out, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "points to nothing"));
    error_free(err);
    err = NULL;
    /* a class without a model description carries no model bytes */
    a.ptr = &pa;
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&holder_bare_vmsd, &a, out, &err));
    g_assert_cmpuint(out->len, ==, sizeof(expected) - 4);
    g_byte_array_unref(out);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vmstate/layout", test_layout);
    g_test_add_func("/vmstate/subsection-layout", test_subsection_layout);
    g_test_add_func("/vmstate/roundtrip", test_roundtrip);
    g_test_add_func("/vmstate/subsection-absent",
                    test_subsection_absent_keeps_value);
    g_test_add_func("/vmstate/truncated", test_truncated);
    g_test_add_func("/vmstate/garbage", test_garbage);
    g_test_add_func("/vmstate/post-load-refusal",
                    test_post_load_refusal_restores);
    g_test_add_func("/vmstate/pre-save-failure", test_pre_save_failure);
    g_test_add_func("/vmstate/table-mistake", test_table_mistake);
    g_test_add_func("/vmstate/bad-start", test_bad_start);
    g_test_add_func("/vmstate/random", test_random);
    g_test_add_func("/vmstate/pointers", test_pointers);
    return g_test_run();
}
