/* SPDX-License-Identifier: MIT */
/*
 * virtio-hostile.c: the hostile-ring checks of the virtio guest (image
 * virtio-hostile.bin; virtio.bin leaves them out).  On the first queue of
 * each rng and blk device the guest posts a chain that breaks the split
 * ring rules of virtio 1.2, 2.7.5 and 2.7.13 -- a descriptor loop, a next
 * index outside the queue, a buffer outside guest RAM, an avail index
 * jumping by more than the queue size -- and expects the device to give
 * up with DEVICE_NEEDS_RESET (3.1.1, 2.1.2) instead of taking the VMM
 * down.  The device is then reset and its normal check must pass, and
 * the other devices' checks too: the VMM kept running and kept working.
 */
#include "virtio-guest.h"

/* virtio-devs.c's weak definition answers false (virtio.bin) */
bool vt_hostile_mode(void)
{
    return true;
}
