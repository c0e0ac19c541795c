/* SPDX-License-Identifier: MIT */
/*
 * virtio-net-device.c: QEMU's `-device virtio-net-device,netdev=ID`, the
 * virtio network device (virtio 1.2 section 5.1) on the virtio-mmio
 * transport (section 4.2): the generic virtio-mmio device bound to the
 * virtio-net model (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/net/virtio-net.h"
#include "hw/virtio/virtio-mmio.h"

VIRTIO_MMIO_DEVICE(virtio_net_device, "virtio-net-device",
                   "virtio network device on virtio-mmio (microvm)",
                   struct virtio_net, virtio_net_model, VIRTIO_NET_PROPS);
