/* SPDX-License-Identifier: MIT */
/*
 * virtio-balloon-pci.c: QEMU's `-device virtio-balloon-pci`, the memory balloon
 * on the modern virtio-pci transport (virtio 1.2 section 4.1, q35): the generic
 * virtio-pci device bound to the virtio-balloon model
 * (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/virtio/virtio-balloon.h"
#include "hw/virtio/virtio-pci.h"

VIRTIO_PCI_DEVICE(virtio_balloon_pci, "virtio-balloon-pci",
                  "memory balloon on virtio-pci (q35)", struct virtio_balloon,
                  virtio_balloon_model, VIRTIO_BALLOON_PROPS);
