/* SPDX-License-Identifier: MIT */
/*
 * fuzz-roundtrip.h: the vmstate round trip every device fuzzer checks:
 * save src, load the bytes into dst (a freshly initialised core), save dst
 * again; the load must consume every byte and both saves must be equal,
 * or the target aborts.  The caller compares what the bytes do not carry
 * (IRQ levels reported through its callbacks).
 */
#ifndef TESTS_FUZZ_FUZZ_ROUNDTRIP_H
#define TESTS_FUZZ_FUZZ_ROUNDTRIP_H

#include "util/common.h"
#include "migration/vmstate.h"

static inline void fuzz_vmstate_roundtrip(const struct vmstate_desc *d,
                                          void *src, void *dst)
{
    GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
    size_t pos = 0;

    if (!vmstate_save(d, src, a, NULL) ||
        !vmstate_load(d, dst, a->data, a->len, &pos, NULL) || pos != a->len ||
        !vmstate_save(d, dst, b, NULL) || a->len != b->len ||
        memcmp(a->data, b->data, a->len)) {
        abort();
    }
    g_byte_array_unref(a);
    g_byte_array_unref(b);
}

#endif
