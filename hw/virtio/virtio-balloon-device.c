/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon-device.c: QEMU's `-device virtio-balloon-device`, the
 * memory balloon (virtio 1.2 section 5.5) on the virtio-mmio transport
 * (section 4.2): the generic virtio-mmio device bound to the balloon
 * model (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/virtio/virtio-balloon.h"
#include "hw/virtio/virtio-mmio.h"

VIRTIO_MMIO_DEVICE(virtio_balloon_device, "virtio-balloon-device",
                   "virtio memory balloon on virtio-mmio (microvm)",
                   struct virtio_balloon, virtio_balloon_model,
                   VIRTIO_BALLOON_PROPS);
