/* SPDX-License-Identifier: MIT */
/*
 * stream-harness.h: one device and a guest RAM saved through the real
 * stream writer (migration/savevm.c, stream layout) into memory and
 * loaded from it into another machine's device of the same class, for
 * the device tests' migrate-* cases; and a way to corrupt one value in a
 * device's section while keeping its CRC right, so that a test reaches
 * the device's checks rather than the framing's.
 */
#ifndef TESTS_UNIT_STREAM_HARNESS_H
#define TESTS_UNIT_STREAM_HARNESS_H

#include "util/common.h"
#include "hw/core/device.h"
#include "migration/savevm.h"
#include "system/guest-mem.h"
#include "util/crc32c.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The sections: the device (instance 0), then RAM. */
static inline struct savevm *th_stream_registry(struct device *d,
                                                struct guest_mem *gm)
{
    struct savevm *sv = savevm_new("test");

    savevm_register_vmsd(sv, d->cls->name, 0, d->cls->vmsd, d, &d->lock);
    savevm_register_ram(sv, gm);
    return sv;
}

/* The whole stream of d and gm, or NULL with errp set. */
static inline GByteArray *th_stream_save(struct device *d, struct guest_mem *gm,
                                         Error **errp)
{
    struct savevm *sv = th_stream_registry(d, gm);
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
        g_byte_array_set_size(b, st.st_size);
        g_assert_cmpint(pread(fd, b->data, b->len, 0), ==, (ssize_t)b->len);
    }
    close(fd);
    savevm_free(sv);
    return b;
}

static inline bool th_stream_load(struct device *d, struct guest_mem *gm,
                                  GByteArray *b, Error **errp)
{
    struct savevm *sv = th_stream_registry(d, gm);
    struct mig_reader r;
    bool ok;

    mig_reader_init_mem(&r, b->data, b->len);
    ok = savevm_load(sv, &r, errp);
    mig_reader_fini(&r);
    savevm_free(sv);
    return ok;
}

/* Overwrites `vlen` bytes at `skip` bytes after the first `pattern` in
 * the body of section `name`, and fixes that section's CRC.  Section:
 * 0x01, u8 name length, name, u32 instance, u32 version, u64 body length,
 * body, u32 CRC32C of all that. */
static inline void th_stream_patch(GByteArray *s, const char *name,
                                   const uint8_t *pattern, size_t n,
                                   size_t skip, const uint8_t *v, size_t vlen)
{
    size_t nl = strlen(name), hdr = 0, at = 0, start;
    uint64_t blen;
    uint8_t *p = s->data;
    uint32_t crc;

    for (size_t i = 0; i + nl + 2 < s->len; i++) {
        if (p[i] == 0x01 && p[i + 1] == nl && !memcmp(p + i + 2, name, nl)) {
            hdr = i;
            break;
        }
    }
    g_assert_cmpuint(hdr, !=, 0);
    start = hdr + 2 + nl + 4 + 4;
    memcpy(&blen, p + start, 8);
    start += 8;
    for (size_t i = start; i + n <= start + blen; i++) {
        if (!memcmp(p + i, pattern, n)) {
            at = i;
            break;
        }
    }
    g_assert_cmpuint(at, !=, 0);
    g_assert_cmpuint(at + skip + vlen, <=, start + blen);
    memcpy(p + at + skip, v, vlen);
    crc = crc32c(0, p + hdr, start + blen - hdr);
    memcpy(p + start + blen, &crc, 4);
}

#endif
