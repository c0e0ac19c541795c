/* SPDX-License-Identifier: MIT */
/*
 * test-qmp-handlers.c: trivial handlers for the unit-test schema; most echo
 * their arguments back so tests can check what the marshallers parsed.
 */
#include "util/common.h"
#include "test-qmp-handlers.h"

void tq_emit_event(struct machine *m, const char *name, const char *data)
{
    g_ptr_array_add(TQ_M(m)->events,
                    g_strdup_printf("%s %s", name, data ? data : "null"));
}

void tq_qmp_qmp_capabilities(struct machine *m, bool has_enable, GArray *enable,
                             Error **errp)
{
}

struct tq_test_ints *tq_qmp_test_ints(struct machine *m, bool has_i8, int8_t i8,
                                      bool has_i16, int16_t i16, bool has_i32,
                                      int32_t i32, bool has_i64, int64_t i64,
                                      bool has_u8, uint8_t u8, bool has_u16,
                                      uint16_t u16, bool has_u32, uint32_t u32,
                                      bool has_u64, uint64_t u64, bool has_sz,
                                      uint64_t sz, bool has_i, int64_t i,
                                      Error **errp)
{
    struct tq_test_ints *r = g_new0(struct tq_test_ints, 1);

    TQ_M(m)->calls++;
    r->has_i8 = has_i8, r->i8 = i8;
    r->has_i16 = has_i16, r->i16 = i16;
    r->has_i32 = has_i32, r->i32 = i32;
    r->has_i64 = has_i64, r->i64 = i64;
    r->has_u8 = has_u8, r->u8 = u8;
    r->has_u16 = has_u16, r->u16 = u16;
    r->has_u32 = has_u32, r->u32 = u32;
    r->has_u64 = has_u64, r->u64 = u64;
    r->has_sz = has_sz, r->sz = sz;
    r->has_i = has_i, r->i = i;
    return r;
}

struct tq_test_struct *
tq_qmp_test_struct(struct machine *m, struct tq_test_struct *s, Error **errp)
{
    /* round trip through JSON: exercises to_json and parse together */
    struct json_value *n = tq_test_struct_to_json(s);
    struct tq_test_struct *copy = NULL;

    TQ_M(m)->calls++;
    g_assert(tq_test_struct_parse(n, NULL, &copy, errp));
    json_free(n);
    return copy;
}

struct tq_test_union *tq_qmp_test_union(struct machine *m,
                                        struct tq_test_union *arg, Error **errp)
{
    struct json_value *n = tq_test_union_to_json(arg);
    struct tq_test_union *copy = NULL;

    TQ_M(m)->calls++;
    g_assert(tq_test_union_parse(n, NULL, &copy, errp));
    json_free(n);
    return copy;
}

char *tq_qmp_test_alt(struct machine *m, struct tq_test_alt *v, Error **errp)
{
    TQ_M(m)->calls++;
    switch (v->kind) {
    case QAPI_ALT_INT:
        return g_strdup_printf("int %" PRId64, v->u.i);
    case QAPI_ALT_STRING:
        return g_strdup_printf("str %s", v->u.s);
    case QAPI_ALT_OBJECT:
        return g_strdup_printf("obj %" PRId64, v->u.o->x);
    default:
        return g_strdup("?");
    }
}

void tq_qmp_test_fail(struct machine *m, bool has_class, int64_t cls,
                      Error **errp)
{
    TQ_M(m)->calls++;
    error_set(errp, has_class ? (enum error_class)cls : ERROR_CLASS_GENERIC,
              "test-fail failed as asked");
}

int64_t tq_qmp_test_oob(struct machine *m, Error **errp)
{
    TQ_M(m)->calls++;
    return 42;
}

GPtrArray *tq_qmp_test_list(struct machine *m, Error **errp)
{
    GPtrArray *l = g_ptr_array_new();

    for (int i = 0; i < 3; i++) {
        struct tq_test_sub *s = g_new0(struct tq_test_sub, 1);
        s->x = i;
        g_ptr_array_add(l, s);
    }
    return l;
}

void tq_qmp_test_no_reply(struct machine *m, Error **errp)
{
    TQ_M(m)->calls++;
}
