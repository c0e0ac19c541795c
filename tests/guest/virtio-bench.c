/* SPDX-License-Identifier: MIT */
/*
 * virtio-bench.c: the request loops of the virtio test guest's benchmark
 * image (virtio-bench.bin; virtio.bin leaves them out).  After a device's
 * normal check has passed, the guest runs VT_BENCH_REQS requests on it,
 * one in flight at a time: on virtio-blk 4 KiB reads and writes by turns
 * over 256 KiB from sector 64, on virtio-net transmitted 60-byte frames
 * (to the broadcast address, the test ethertype).  Each loop is framed by
 * "bench: DEV start N" and "bench: DEV done N" lines on COM1, so that the
 * host (scripts/bench/guest-bench.py) can time it and read the VMM's
 * per-thread CPU at both ends (after "done" the guest waits for a byte
 * on COM1, so the VMM's threads are still there to read); the buffers are
 * allocated once, so the loop costs the guest little beyond the device accesses
 * themselves.
 */
#include "virtio-guest.h"

#define BENCH_BLK_SECTOR 64
#define BENCH_BLK_SPAN 64 /* 4 KiB slots: 256 KiB */
#define BENCH_NET_HDR 12

/* One request, waited for up to VT_TSC_LONG, not vq_xfer's VT_TSC_SHORT:
 * a slow request belongs in the wall time, not in a failed run.  (Under
 * scripts/nested-kvm requests still time out now and then, QEMU's as
 * vireo's, when the nested kernel misses its timer interrupts: the
 * bench's --retries reruns those.) */
static bool bench_xfer(struct vdev *d, struct vq *vq, const struct vbuf *b,
                       unsigned n)
{
    return vq_submit(d, vq, 0, b, n) && vq_wait(vq, VT_TSC_LONG, NULL);
}

/* virtio-devs.c's weak definition does nothing (virtio.bin) */
void vt_bench_device(struct vdev *d)
{
    struct {
        uint32_t type, reserved;
        uint64_t sector;
    } *h = vt_alloc(16, 16);
    volatile uint8_t *status = vt_alloc(1, 1);
    uint8_t *data = vt_alloc(4096, 4096);
    const char *name = d->id == VIRTIO_ID_BLK ? "blk" : "net";
    unsigned done = 0;

    if (d->id != VIRTIO_ID_BLK && d->id != VIRTIO_ID_NET) {
        return;
    }
    for (unsigned i = 0; i < 4096; i++) {
        data[i] = vt_blk_pattern(i);
    }
    vt_puts("bench: ");
    vt_puts(name);
    vt_puts(" start ");
    vt_putdec(VT_BENCH_REQS);
    vt_puts("\n");
    for (unsigned i = 0; i < VT_BENCH_REQS; i++) {
        if (d->id == VIRTIO_ID_BLK) {
            bool in = i & 1;
            struct vbuf b[3] = {
                {h, 16, false}, {data, 4096, in}, {(void *)status, 1, true}};

            h->type = in ? 0 : 1; /* VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT */
            h->sector = BENCH_BLK_SECTOR + (i / 2 % BENCH_BLK_SPAN) * 8;
            *status = 0xff;
            if (!bench_xfer(d, &d->vqs[0], b, 3) || *status != 0) {
                break;
            }
        } else {
            /* tx queue 1: header + frame, the frame set up once */
            struct vbuf b[2] = {{h, BENCH_NET_HDR, false}, {data, 60, false}};

            if (i == 0) {
                memset(h, 0, 16);
                memset(data, 0xff, 6);
                memset(data + 6, 0x52, 6);
                data[12] = 0x88;
                data[13] = 0xb5;
            }
            if (!bench_xfer(d, &d->vqs[1], b, 2)) {
                break;
            }
        }
        done++;
    }
    vt_puts("bench: ");
    vt_puts(name);
    vt_puts(" done ");
    vt_putdec(done);
    vt_puts("\n");
    /* the host reads the VMM's thread times when this line arrives: wait
     * for its go (a byte on COM1) so that the threads still exist then */
    for (uint64_t t0 = vt_rdtsc(); vt_rdtsc() - t0 < VT_TSC_LONG;) {
        if (inb(0x3fd) & 1) {
            (void)inb(0x3f8);
            break;
        }
    }
    if (done != VT_BENCH_REQS) {
        vt_fail("bench", d->where, "a request failed or did not complete");
    }
}
