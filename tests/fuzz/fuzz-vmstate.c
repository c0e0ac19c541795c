/* SPDX-License-Identifier: MIT */
/*
 * fuzz-vmstate.c: libFuzzer target for vmstate_load (migration/vmstate.c)
 * with the device descriptions of the dev area (16550A and i8042 cores)
 * and a description with a nested struct and a subsection.  The first
 * byte picks the description, the rest is the stream.  A load either
 * fails and leaves the object byte-for-byte as it was, or succeeds with
 * a state that saves and loads back identically and survives register
 * accesses.
 */
#include "util/common.h"
#include "hw/char/serial.h"
#include "hw/input/i8042.h"
#include "migration/vmstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct nested {
    uint16_t a;
    uint64_t b[2];
};

struct composite {
    uint8_t tag;
    bool flag;
    uint32_t words[3];
    uint8_t blob[5];
    struct nested n[2];
    uint32_t extra;
};

static const struct vmstate_field nested_fields[] = {
    VMS_U16(struct nested, a),
    VMS_U64_ARRAY(struct nested, b, 2),
    VMS_END,
};

static const struct vmstate_desc nested_vmsd = {
    .name = "nested",
    .version = 1,
    .fields = nested_fields,
};

static bool extra_needed(void *opaque)
{
    return ((struct composite *)opaque)->extra != 0;
}

static bool extra_post_load(void *opaque, Error **errp)
{
    if (((struct composite *)opaque)->extra == 0xdeadbeef) {
        error_setg(errp, "extra: refused value");
        return false;
    }
    return true;
}

static const struct vmstate_field extra_fields[] = {
    VMS_U32(struct composite, extra),
    VMS_END,
};

static const struct vmstate_desc extra_vmsd = {
    .name = "composite/extra",
    .version = 1,
    .fields = extra_fields,
    .needed = extra_needed,
    .post_load = extra_post_load,
};

static const struct vmstate_desc *const composite_subs[] = {&extra_vmsd, NULL};

static const struct vmstate_field composite_fields[] = {
    VMS_U8(struct composite, tag),
    VMS_BOOL(struct composite, flag),
    VMS_U32_ARRAY(struct composite, words, 3),
    VMS_BUFFER(struct composite, blob),
    {"n", VMS_T_STRUCT, offsetof(struct composite, n), sizeof(struct nested), 2,
     &nested_vmsd},
    VMS_END,
};

static const struct vmstate_desc composite_vmsd = {
    .name = "composite",
    .version = 1,
    .fields = composite_fields,
    .subsections = composite_subs,
};

static void noop_irq(void *opaque, bool level)
{
}

static void noop_irq2(void *opaque, unsigned line, bool level)
{
}

static const struct serial_ops serial_fz_ops = {.set_irq = noop_irq};
static const struct i8042_ops i8042_fz_ops = {.set_irq = noop_irq2};

/* Loads; on failure the saved bytes must not change; on success the
 * state must round-trip. */
static void exercise(const struct vmstate_desc *d, void *obj,
                     const uint8_t *buf, size_t len)
{
    GByteArray *before = g_byte_array_new(), *after = g_byte_array_new();
    GByteArray *again = g_byte_array_new();
    size_t pos = 0;
    Error *err = NULL;

    if (!vmstate_save(d, obj, before, NULL)) {
        abort();
    }
    if (!vmstate_load(d, obj, buf, len, &pos, &err)) {
        if (!err || !vmstate_save(d, obj, after, NULL) ||
            after->len != before->len ||
            memcmp(after->data, before->data, before->len)) {
            abort();
        }
        error_free(err);
    } else {
        size_t pos2 = 0;
        if (err || pos > len || !vmstate_save(d, obj, after, NULL) ||
            !vmstate_load(d, obj, after->data, after->len, &pos2, NULL) ||
            pos2 != after->len || !vmstate_save(d, obj, again, NULL) ||
            again->len != after->len ||
            memcmp(again->data, after->data, after->len)) {
            abort();
        }
    }
    g_byte_array_unref(before);
    g_byte_array_unref(after);
    g_byte_array_unref(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0: {
        struct serial_state s;
        serial_core_init(&s, &serial_fz_ops, NULL);
        exercise(&serial_core_vmsd, &s, data + 1, size - 1);
        /* whatever loaded must be safe to drive */
        for (unsigned r = 0; r < 8; r++) {
            serial_core_read(&s, r);
        }
        serial_core_receive(&s, data, MIN(size, (size_t)20));
        serial_core_write(&s, SERIAL_RBR, 'x');
        if (s.rx_count > SERIAL_FIFO_LEN || s.rx_head >= SERIAL_FIFO_LEN) {
            abort();
        }
        break;
    }
    case 1: {
        struct i8042_state s;
        i8042_core_init(&s, &i8042_fz_ops, NULL, NULL);
        exercise(&i8042_core_vmsd, &s, data + 1, size - 1);
        for (unsigned k = 0; k < 20; k++) {
            i8042_core_read(&s, I8042_DATA);
            i8042_core_write(&s, k & 1, data[k % size]);
        }
        if (s.q_count > I8042_QUEUE_LEN || s.q_head >= I8042_QUEUE_LEN) {
            abort();
        }
        break;
    }
    default: {
        struct composite c;
        memset(&c, 0, sizeof(c));
        exercise(&composite_vmsd, &c, data + 1, size - 1);
        break;
    }
    }
    return 0;
}
