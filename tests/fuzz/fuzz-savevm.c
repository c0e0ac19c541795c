/* SPDX-License-Identifier: MIT */
/*
 * fuzz-savevm.c: libFuzzer target for the migration stream loader
 * (migration/savevm.c, stream.c) over a registry like a machine's: a
 * 16550A core, an i8042 core, a section whose post_load refuses a value,
 * and 16 KiB of guest RAM.  The input is the stream.  A load either fails
 * and leaves every state and the RAM exactly as they were, or succeeds
 * and then saves a stream that loads back to the same state.
 *
 * Built with -DFUZZ_SAVEVM_SEEDS it is instead a program that writes the
 * seed corpus (tests/fuzz/corpus/savevm) from real saves.
 */
#include "util/common.h"
#include "hw/char/serial.h"
#include "hw/input/i8042.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"
#include "tests/unit/savevm-probe.h"
#include "system/guest-mem.h"
#include "util/crc32c.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_RAM (16 * 1024)

static void fz_serial_irq(void *opaque, bool level)
{
}

static const struct serial_ops fz_serial_ops = {.set_irq = fz_serial_irq};

static void fz_kbd_irq(void *opaque, unsigned line, bool level)
{
}

static void fz_kbd_reset(void *opaque)
{
}

static const struct i8042_ops fz_kbd_ops = {fz_kbd_irq, fz_kbd_reset};

struct fz_vm {
    struct serial_state serial;
    struct i8042_state kbd;
    struct probe probe;
    struct guest_mem *gm;
    struct savevm *sv;
};

static void fz_vm_init(struct fz_vm *v)
{
    memset(v, 0, sizeof(*v));
    serial_core_init(&v->serial, &fz_serial_ops, v);
    i8042_core_init(&v->kbd, &fz_kbd_ops, v, NULL);
    v->gm = gm_new(FZ_RAM, NULL);
    if (!v->gm) {
        abort();
    }
    v->sv = savevm_new("microvm");
    savevm_fingerprint_add(v->sv, "ram", "%u", FZ_RAM);
    savevm_register_vmsd(v->sv, "serial", 0, &serial_core_vmsd, &v->serial,
                         NULL);
    savevm_register_vmsd(v->sv, "i8042", 0, &i8042_core_vmsd, &v->kbd, NULL);
    savevm_register_vmsd(v->sv, "probe", 0, &probe_vmsd, &v->probe, NULL);
    savevm_register_ram(v->sv, v->gm);
}

static void fz_vm_fini(struct fz_vm *v)
{
    savevm_free(v->sv);
    gm_free(v->gm);
}

static GByteArray *fz_state(struct fz_vm *v)
{
    GByteArray *b = g_byte_array_new();
    uint32_t crc = crc32c(0, v->gm->ram, FZ_RAM);

    if (!vmstate_save(&serial_core_vmsd, &v->serial, b, NULL) ||
        !vmstate_save(&i8042_core_vmsd, &v->kbd, b, NULL) ||
        !vmstate_save(&probe_vmsd, &v->probe, b, NULL)) {
        abort();
    }
    g_byte_array_append(b, (const uint8_t *)&crc, 4);
    return b;
}

static bool same(const GByteArray *a, const GByteArray *b)
{
    return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

/* The whole stream of v, through a memfd. */
static GByteArray *fz_save(struct fz_vm *v, enum savevm_ram_layout layout)
{
    int fd = memfd_create("fz-stream", MFD_CLOEXEC);
    GByteArray *b = g_byte_array_new();
    struct mig_writer w;
    struct stat st;

    if (fd < 0) {
        abort();
    }
    mig_writer_init(&w, fd);
    if (!savevm_save(v->sv, &w, layout, NULL) || !mig_writer_finish(&w, NULL) ||
        fstat(fd, &st) < 0) {
        abort();
    }
    g_byte_array_set_size(b, st.st_size);
    if (pread(fd, b->data, b->len, 0) != (ssize_t)b->len) {
        abort();
    }
    close(fd);
    return b;
}

/* Distinct states for the seeds and for the destination of each input,
 * so that a partial or undone load shows. */
static void fz_scribble(struct fz_vm *v, uint32_t probe, uint8_t pat)
{
    serial_core_write(&v->serial, 3, 0x1b ^ (pat & 0x40));
    serial_core_write(&v->serial, 7, pat);
    i8042_core_write(&v->kbd, 1, 0x60);
    i8042_core_write(&v->kbd, 0, 0x45 ^ (pat & 0x20));
    memset(v->gm->ram + 4096, pat, 300);
    v->probe.v = probe;
}

#ifdef FUZZ_SAVEVM_SEEDS
static void write_seed(const char *dir, const char *name, GByteArray *b)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    if (!g_file_set_contents(path, (const char *)b->data, b->len, NULL)) {
        abort();
    }
    g_byte_array_unref(b);
}

int main(int argc, char **argv)
{
    struct fz_vm v;

    if (argc != 2) {
        return 2;
    }
    fz_vm_init(&v);
    write_seed(argv[1], "reset-stream.bin", fz_save(&v, SAVEVM_RAM_STREAM));
    fz_scribble(&v, 7, 0x5a);
    write_seed(argv[1], "scribbled-stream.bin", fz_save(&v, SAVEVM_RAM_STREAM));
    write_seed(argv[1], "scribbled-file.bin", fz_save(&v, SAVEVM_RAM_FILE));
    fz_scribble(&v, 0xdeadbeef, 0x5a);
    write_seed(argv[1], "post-load-refused.bin",
               fz_save(&v, SAVEVM_RAM_STREAM));
    fz_vm_fini(&v);
    return 0;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_vm v;
    struct mig_reader r;
    GByteArray *before, *after;
    bool ok;

    fz_vm_init(&v);
    fz_scribble(&v, 3, 0x61);
    before = fz_state(&v);
    mig_reader_init_mem(&r, data, size);
    ok = savevm_load(v.sv, &r, NULL);
    after = fz_state(&v);
    if (!ok && !same(before, after)) {
        abort(); /* a refused stream changed the destination */
    }
    if (ok) {
        /* what was loaded saves and loads back to the same state */
        struct fz_vm w;
        GByteArray *again = fz_save(&v, SAVEVM_RAM_STREAM), *got;

        fz_vm_init(&w);
        mig_reader_init_mem(&r, again->data, again->len);
        if (!savevm_load(w.sv, &r, NULL)) {
            abort();
        }
        got = fz_state(&w);
        if (!same(got, after)) {
            abort();
        }
        g_byte_array_unref(got);
        g_byte_array_unref(again);
        fz_vm_fini(&w);
    }
    g_byte_array_unref(before);
    g_byte_array_unref(after);
    fz_vm_fini(&v);
    return 0;
}
