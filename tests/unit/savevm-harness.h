/* SPDX-License-Identifier: MIT */
/*
 * savevm-harness.h: one device's migration through the real stream
 * (migration/savevm.c): its section, saved under its lock as migrate does
 * (pre_save, a virtio model's drain), and the guest RAM, written to a
 * memfd and read back into a second machine's instance of the device.
 * For the device unit tests that migrate a device between two harness
 * machines (dev-harness.h).
 */
#ifndef TESTS_UNIT_SAVEVM_HARNESS_H
#define TESTS_UNIT_SAVEVM_HARNESS_H

#include "util/common.h"
#include "hw/core/device.h"
#include "migration/savevm.h"
#include "migration/stream.h"
#include "system/guest-mem.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The registry of a machine of `type` with the one device and RAM. */
static inline struct savevm *
th_savevm_registry(const char *type, struct device *d, struct guest_mem *gm)
{
    struct savevm *sv = savevm_new(type);

    savevm_register_vmsd(sv, d->cls->name, 0, d->cls->vmsd, d, &d->lock);
    savevm_register_ram(sv, gm);
    return sv;
}

/* The whole stream of d and gm, or NULL with errp set. */
static inline GByteArray *th_save_stream(const char *type, struct device *d,
                                         struct guest_mem *gm, Error **errp)
{
    struct savevm *sv = th_savevm_registry(type, d, gm);
    int fd = memfd_create("th-stream", MFD_CLOEXEC);
    GByteArray *b = NULL;
    struct mig_writer w;
    struct stat st;

    g_assert_cmpint(fd, >=, 0);
    mig_writer_init(&w, fd);
    if (savevm_save(sv, &w, SAVEVM_RAM_STREAM, errp) &&
        mig_writer_finish(&w, errp)) {
        g_assert_cmpint(fstat(fd, &st), ==, 0);
        b = g_byte_array_new();
        g_byte_array_set_size(b, (guint)st.st_size);
        g_assert_cmpint(pread(fd, b->data, b->len, 0), ==, (ssize_t)b->len);
    }
    close(fd);
    savevm_free(sv);
    return b;
}

/* Loads a stream th_save_stream wrote into d and gm (another machine). */
static inline bool th_load_stream(const char *type, struct device *d,
                                  struct guest_mem *gm, GByteArray *b,
                                  Error **errp)
{
    struct savevm *sv = th_savevm_registry(type, d, gm);
    struct mig_reader r;
    bool ok;

    mig_reader_init_mem(&r, b->data, b->len);
    ok = savevm_load(sv, &r, errp);
    mig_reader_fini(&r);
    savevm_free(sv);
    return ok;
}

#endif
