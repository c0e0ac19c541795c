/* SPDX-License-Identifier: MIT */
/*
 * virtio-net-pci.c: QEMU's `-device virtio-net-pci`, the virtio network device
 * on the modern virtio-pci transport (virtio 1.2 section 4.1, q35): the generic
 * virtio-pci device bound to the virtio-net model (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/net/virtio-net.h"
#include "hw/virtio/virtio-pci.h"

VIRTIO_PCI_DEVICE(virtio_net_pci, "virtio-net-pci",
                  "virtio network device on virtio-pci (q35)",
                  struct virtio_net, virtio_net_model, VIRTIO_NET_PROPS);
