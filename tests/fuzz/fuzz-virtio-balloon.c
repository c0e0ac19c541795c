/* SPDX-License-Identifier: MIT */
/*
 * fuzz-virtio-balloon.c: libFuzzer target for the balloon's parsers
 * (hw/virtio/virtio-balloon.c) over the virtio core: the hostile driver of
 * fuzz-vring.h fills queue 0 (inflate: page frame numbers, most outside
 * the 64 KiB RAM, some inside it, releasing the rings' own pages), a stats
 * poll after each kick, and the driver's config writes at the end.
 * Every PFN must be checked before its page is released (ASan watches the
 * discards and copies, fuzz-vring.h the ring invariants); the memory
 * query-balloon reports never exceeds the RAM.
 */
#include "util/common.h"
#include "hw/virtio/virtio-balloon.h"
#include "fuzz-vring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_after_kick(void *opaque)
{
    struct virtio_balloon *s = opaque;

    /* a poll with or without a held stats buffer */
    virtio_balloon_request_stats(s);
    if (virtio_balloon_actual_bytes(s) > s->ram_size) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fvr f;
    struct virtio_balloon s;

    memset(&f, 0, sizeof(f));
    memset(&s, 0, sizeof(s));
    fvr_setup(&f);
    virtio_balloon_set_defaults(&s);
    s.free_page_reporting = size & 1;
    if (!virtio_balloon_setup(&s, f.gm, &f.log, FVR_RAM, NULL)) {
        abort();
    }
    f.vdev = &s.vdev;
    f.after_kick = fz_after_kick;
    f.opaque = &s;
    fvr_run(&f, data, size);
    /* the driver's config writes: actual, poison, and past the end */
    for (size_t i = 0; i + 2 <= size && i < 16; i += 2) {
        virtio_config_write(&s.vdev, data[i] & 31, data[i + 1], 1 << (i & 3));
    }
    if (virtio_balloon_actual_bytes(&s) > s.ram_size) {
        abort();
    }
    virtio_balloon_teardown(&s);
    vlog_close(&f.log);
    gm_free(f.gm);
    return 0;
}
