/* SPDX-License-Identifier: MIT */
/*
 * fuzz-object.c: libFuzzer target for -object parsing (system/object.c):
 * any text, key=value or JSON, must either give an object whose every
 * required property is set and whose values have their declared types,
 * or fail with a message; never crash or leak.  Nothing is realized (no
 * file is opened).
 */
#include "util/common.h"
#include "system/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    Error *err = NULL;
    struct object *obj = object_parse(text, &err);

    if (!obj) {
        g_assert(err && *error_get_pretty(err));
        error_free(err);
        return 0;
    }
    g_assert(obj->id && g_ascii_isalpha(obj->id[0]));
    for (const struct object_prop *p = obj->cls->props; p->name; p++) {
        const struct object_value *v = object_get(obj, p->name);

        g_assert(!p->required || v->set);
        if (v->set && p->type == OBJ_PROP_ENUM) {
            g_assert(g_strv_contains((const char *const *)p->values, v->s));
        }
        if (v->set && p->type == OBJ_PROP_SIZE &&
            object_is_memory_backend(obj)) {
            g_assert(v->u > 0);
        }
    }
    object_free(obj);
    return 0;
}
