/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk-pci.c: QEMU's `-device virtio-blk-pci,drive=ID`, the virtio
 * block device (virtio 1.2 section 5.2) on the modern virtio-pci transport
 * (section 4.1) of the q35 machine: the generic virtio-pci function bound
 * to the virtio-blk model (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/block/virtio-blk.h"
#include "hw/virtio/virtio-pci.h"

VIRTIO_PCI_DEVICE(virtio_blk_pci, "virtio-blk-pci",
                  "virtio block device on virtio-pci (q35)", struct virtio_blk,
                  virtio_blk_model, VIRTIO_BLK_PROPS);
