/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial-device.c: QEMU's `-device virtio-serial-device`, the
 * virtio console device with multiple ports (virtio 1.2 section 5.3) on
 * the virtio-mmio transport (section 4.2): the generic virtio-mmio device
 * bound to the virtio-serial model (hw/virtio/virtio-model.h).  Its ports
 * are virtconsole / virtserialport devices (virtio-serial-port.c).
 */
#include "util/common.h"
#include "hw/char/virtio-serial.h"
#include "hw/virtio/virtio-mmio.h"

VIRTIO_MMIO_DEVICE(virtio_serial_device, "virtio-serial-device",
                   "virtio serial/console device on virtio-mmio (microvm)",
                   struct virtio_serial, virtio_serial_model,
                   VIRTIO_SERIAL_PROPS);
