/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk-device.c: QEMU's `-device virtio-blk-device,drive=ID`, the
 * virtio block device (virtio 1.2 section 5.2) on the virtio-mmio
 * transport (section 4.2): the generic virtio-mmio device bound to the
 * virtio-blk model (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/block/virtio-blk.h"
#include "hw/virtio/virtio-mmio.h"

VIRTIO_MMIO_DEVICE(virtio_blk_device, "virtio-blk-device",
                   "virtio block device on virtio-mmio (microvm)",
                   struct virtio_blk, virtio_blk_model, VIRTIO_BLK_PROPS);
