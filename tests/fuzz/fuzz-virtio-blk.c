/* SPDX-License-Identifier: MIT */
/*
 * fuzz-virtio-blk.c: libFuzzer target for the virtio-blk request parser
 * (hw/block/virtio-blk.c) over the virtio core, with a real block backend
 * on a 64 KiB memfd image (opened once; its contents are whatever earlier
 * inputs wrote).  The hostile driver of fuzz-vring.h builds the requests;
 * after each kick every I/O is waited for: nothing may stay in flight, and
 * every buffer handed to the backend lies inside guest RAM (ASan watches
 * the copies, fuzz-vring.h the ring invariants).
 */
#include "util/common.h"
#include "hw/block/block-backend.h"
#include "hw/block/virtio-blk.h"
#include "fuzz-vring.h"

#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct blk_backend *fz_backend(void)
{
    static struct blk_backend *be;

    if (!be) {
        int fd = memfd_create("fuzz-blk", MFD_CLOEXEC);
        char *path = g_strdup_printf("/proc/self/fd/%d", fd);
        struct blk_options o = {.filename = path, .max_workers = 2};

        if (fd < 0 || ftruncate(fd, 64 * KiB) < 0) {
            abort();
        }
        be = blk_open(&o, NULL);
        if (!be) {
            abort();
        }
        g_free(path);
    }
    return be;
}

static void fz_after_kick(void *opaque)
{
    struct virtio_blk *s = opaque;

    blk_drain(s->be);
    virtio_blk_complete_io(s);
    if (blk_inflight(s->be)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fvr f;
    struct virtio_blk s;

    memset(&f, 0, sizeof(f));
    memset(&s, 0, sizeof(s));
    fvr_setup(&f);
    virtio_blk_set_defaults(&s);
    s.queue_size = 16;
    s.packed = true; /* restarts with all features use packed rings */
    s.serial = (char *)"fuzz";
    if (!virtio_blk_setup(&s, fz_backend(), f.gm, &f.log, NULL)) {
        abort();
    }
    f.vdev = &s.vdev;
    f.after_kick = fz_after_kick;
    f.opaque = &s;
    fvr_run(&f, data, size);
    s.serial = NULL;
    virtio_blk_teardown(&s);
    vlog_close(&f.log);
    gm_free(f.gm);
    return 0;
}
