/* SPDX-License-Identifier: MIT */
/*
 * mig-stream.h: a whole migration stream in memory for device tests that
 * migrate a device between two machines through the real stream writer
 * and loader (migration/savevm.c): the test registers the sections (the
 * device, RAM), saves into a memfd and loads the bytes back elsewhere.
 */
#ifndef TESTS_UNIT_MIG_STREAM_H
#define TESTS_UNIT_MIG_STREAM_H

#include "util/common.h"
#include "migration/savevm.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The stream of sv's sections (stream layout), or NULL with errp set.
 * Frees sv. */
static inline GByteArray *th_stream_save(struct savevm *sv, Error **errp)
{
    int fd = memfd_create("test-stream", MFD_CLOEXEC);
    GByteArray *b = NULL;
    struct mig_writer w;
    struct stat st;

    g_assert_cmpint(fd, >=, 0);
    mig_writer_init(&w, fd);
    if (savevm_save(sv, &w, SAVEVM_RAM_STREAM, errp) &&
        mig_writer_finish(&w, errp)) {
        g_assert_cmpint(fstat(fd, &st), ==, 0);
        b = g_byte_array_new();
        g_byte_array_set_size(b, st.st_size);
        g_assert_cmpint(pread(fd, b->data, b->len, 0), ==, (ssize_t)b->len);
    }
    close(fd);
    savevm_free(sv);
    return b;
}

/* Loads b into sv's sections.  Frees sv. */
static inline bool th_stream_load(struct savevm *sv, const GByteArray *b,
                                  Error **errp)
{
    struct mig_reader r;
    bool ok;

    mig_reader_init_mem(&r, b->data, b->len);
    ok = savevm_load(sv, &r, errp);
    mig_reader_fini(&r);
    savevm_free(sv);
    return ok;
}

#endif
