/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng-pci.c: QEMU's `-device virtio-rng-pci`, the entropy device on the
 * modern virtio-pci transport (virtio 1.2 section 4.1, q35): the generic
 * virtio-pci device bound to the virtio-rng model (hw/virtio/virtio-model.h).
 */
#include "util/common.h"
#include "hw/virtio/virtio-rng.h"
#include "hw/virtio/virtio-pci.h"

VIRTIO_PCI_DEVICE(virtio_rng_pci, "virtio-rng-pci",
                  "entropy device on virtio-pci (q35)", struct virtio_rng,
                  virtio_rng_model, VIRTIO_RNG_PROPS);
