/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng-device.c: QEMU's `-device virtio-rng-device[,rng=ID]`, the
 * virtio entropy device (virtio 1.2 section 5.4) on the virtio-mmio
 * transport (section 4.2): the generic virtio-mmio device bound to the
 * virtio-rng model (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/virtio/virtio-rng.h"
#include "hw/virtio/virtio-mmio.h"

VIRTIO_MMIO_DEVICE(virtio_rng_device, "virtio-rng-device",
                   "virtio entropy device on virtio-mmio (microvm)",
                   struct virtio_rng, virtio_rng_model, VIRTIO_RNG_PROPS);
