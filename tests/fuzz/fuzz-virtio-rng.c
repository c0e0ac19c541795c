/* SPDX-License-Identifier: MIT */
/*
 * fuzz-virtio-rng.c: libFuzzer target for the virtio-rng request handler
 * (hw/virtio/virtio-rng.c) over the virtio core.  The first input byte
 * picks the source (getrandom(2), or a pipe topped up after each kick, so
 * the readv path with its trimmed last buffer runs) and the rate limit
 * (unlimited, or 300 bytes for the single period a context-less device
 * has); the hostile driver of fuzz-vring.h builds the chains from the
 * rest.  Checked after each kick (one pass, without a context): no more
 * bytes than one pass may give, none beyond the quota, and a parked
 * request's buffers in RAM.  (The used ring itself is the guest's to
 * scribble on, so its lengths prove nothing.)
 */
#include "util/common.h"
#include "hw/virtio/virtio-rng.h"
#include "fuzz-vring.h"

#include <fcntl.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct fvr *f;
    struct virtio_rng *s;
    int pipe_w;
    uint64_t delivered; /* after the previous kick */
};

static void fz_after_kick(void *opaque)
{
    struct fz *z = opaque;
    struct virtio_rng *s = z->s;
    uint8_t fill[512];

    if (s->pending) {
        fvr_check_iov(z->f->gm, s->pending->in_sg, s->pending->in_num);
        if (s->pending->out_num) {
            fvr_check_iov(z->f->gm, s->pending->out_sg, s->pending->out_num);
        }
    }
    /* without a context one period never ends */
    if (s->delivered > s->max_bytes * s->periods || s->periods > 1 ||
        s->delivered - z->delivered > VIRTIO_RNG_PASS_BYTES) {
        abort();
    }
    z->delivered = s->delivered;
    if (z->pipe_w >= 0) {
        memset(fill, 0x5a, sizeof(fill));
        if (write(z->pipe_w, fill, sizeof(fill)) < 0 && errno != EAGAIN) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fvr f;
    struct virtio_rng s;
    struct fz z = {&f, &s, -1, 0};
    uint8_t mode = size ? data[0] : 0;
    int fd = -1;

    memset(&f, 0, sizeof(f));
    memset(&s, 0, sizeof(s));
    fvr_setup(&f);
    if (mode & 1) {
        int p[2];

        if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
            abort();
        }
        fd = p[0];
        z.pipe_w = p[1];
    }
    virtio_rng_set_defaults(&s);
    s.max_bytes = (mode & 2) ? 300 : INT64_MAX;
    if (!virtio_rng_setup(&s, fd, "fuzz", f.gm, &f.log, NULL)) {
        abort();
    }
    f.vdev = &s.vdev;
    f.after_kick = fz_after_kick;
    f.opaque = &z;
    if (size) {
        fvr_run(&f, data + 1, size - 1);
    }
    virtio_rng_teardown(&s);
    if (z.pipe_w >= 0) {
        close(z.pipe_w);
    }
    vlog_close(&f.log);
    gm_free(f.gm);
    return 0;
}
