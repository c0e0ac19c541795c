/* SPDX-License-Identifier: MIT */
/*
 * virtio-crash.c: the crash-safety mode of the virtio guest (image
 * virtio-crash.bin; virtio.bin leaves it out).  On the first virtio-blk
 * device the guest writes a pattern in many requests, flushes, prints
 * "crash: flushed" once the flush completed and then keeps writing other
 * sectors without flushing; the functional test SIGKILLs the VMM as soon
 * as it sees the line and checks that the image file holds the pattern
 * (issue 9: an acknowledged write after a completed flush survives
 * kill -9).  The other devices are left alone.
 */
#include "virtio-guest.h"

/* virtio-devs.c's weak definition answers false (virtio.bin) */
bool vt_crash_mode(void)
{
    return true;
}
