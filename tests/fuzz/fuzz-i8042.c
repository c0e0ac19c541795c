/* SPDX-License-Identifier: MIT */
/*
 * fuzz-i8042.c: libFuzzer target for the keyboard controller core
 * (hw/input/i8042.c).  Each input byte pair is a guest access to port 0x60
 * or 0x64 (read or write, with a value), plus occasional resets and vmstate
 * round trips; after every step the invariants are checked (queue bounds,
 * OBF against the queue, at most one IRQ line up and only with data, CPU
 * reset line never left asserted) and a violation aborts.
 */
#include "util/common.h"
#include "hw/input/i8042.h"
#include "migration/vmstate.h"
#include "fuzz-roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct i8042_state s;
    bool level[2];
    unsigned resets;
};

static void fz_irq(void *opaque, unsigned line, bool level)
{
    struct fz *f = opaque;

    if (line > 1) {
        abort();
    }
    f->level[line] = level;
}

static void fz_reset(void *opaque)
{
    ((struct fz *)opaque)->resets++;
}

static const struct i8042_ops fz_ops = {
    .set_irq = fz_irq,
    .request_reset = fz_reset,
};

static void check(struct fz *f)
{
    const struct i8042_state *s = &f->s;

    if (s->q_count > I8042_QUEUE_LEN || s->q_head >= I8042_QUEUE_LEN ||
        !!(s->status & I8042_STS_OBF) != (s->q_count > 0) ||
        ((f->level[0] || f->level[1]) && !s->q_count) ||
        (f->level[0] && f->level[1]) || !(s->outport & I8042_OUT_RESET) ||
        s->kbd_scan_set < 1 || s->kbd_scan_set > 3) {
        abort();
    }
}

static void roundtrip(struct fz *f)
{
    struct fz g;

    memset(&g, 0, sizeof(g));
    i8042_core_init(&g.s, &fz_ops, &g, NULL);
    fuzz_vmstate_roundtrip(&i8042_core_vmsd, &f->s, &g.s);
    if (g.level[0] != f->level[0] || g.level[1] != f->level[1]) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;

    memset(&f, 0, sizeof(f));
    i8042_core_init(&f.s, &fz_ops, &f, NULL);
    for (size_t i = 0; i + 1 < size; i += 2) {
        uint8_t op = data[i], v = data[i + 1];

        switch (op & 7) {
        case 0:
        case 1:
            i8042_core_write(&f.s, I8042_CMD, v);
            break;
        case 2:
        case 3:
            i8042_core_write(&f.s, I8042_DATA, v);
            break;
        case 4:
        case 5:
            i8042_core_read(&f.s, op & 1 ? I8042_CMD : I8042_DATA);
            break;
        case 6:
            /* out-of-range ports are harmless */
            i8042_core_write(&f.s, 2 + v, v);
            i8042_core_read(&f.s, 2 + v);
            roundtrip(&f);
            break;
        default:
            if (v == 0) {
                i8042_core_reset(&f.s);
            }
            break;
        }
        check(&f);
    }
    return 0;
}
