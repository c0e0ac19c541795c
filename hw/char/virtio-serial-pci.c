/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial-pci.c: QEMU's `-device virtio-serial-pci`, the virtio console
 * with multiple ports on the modern virtio-pci transport (virtio 1.2
 * section 4.1, q35): the generic virtio-pci device bound to the virtio-serial
 * model (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/char/virtio-serial.h"
#include "hw/virtio/virtio-pci.h"

VIRTIO_PCI_DEVICE(virtio_serial_pci, "virtio-serial-pci",
                  "virtio console with multiple ports on virtio-pci (q35)",
                  struct virtio_serial, virtio_serial_model,
                  VIRTIO_SERIAL_PROPS);
