/* SPDX-License-Identifier: MIT */
/*
 * device-list.c: the table of device classes (no constructors, no
 * registration magic: this list is the whole device model of vireo).
 */
#include "util/common.h"
#include "hw/core/device.h"

/* --- dev: serial, debug-exit, port80, i8042 --- */
extern const struct device_class serial_isa_class;
extern const struct device_class debug_exit_class;
extern const struct device_class port80_class;
extern const struct device_class i8042_class;
/* --- boot: rtc --- */
extern const struct device_class mc146818_rtc_class;
/* --- irq: the userspace IOAPIC --- */
extern const struct device_class ioapic_class;
extern const struct device_class kvm_irqchip_class;
/* --- acpi --- */
extern const struct device_class acpi_ged_class;
extern const struct device_class virtio_blk_device_class;
/* --- virtio-rng --- */
extern const struct device_class virtio_rng_device_class;
extern const struct device_class virtio_balloon_device_class;
/* --- virtio-serial --- */
extern const struct device_class virtio_serial_device_class;
extern const struct device_class virtconsole_class;
extern const struct device_class virtserialport_class;
extern const struct device_class virtio_net_device_class;
/* --- pci --- */
extern const struct device_class q35_host_class;
extern const struct device_class mch_class;
extern const struct device_class pcie_root_port_class;
extern const struct device_class ich9_lpc_class;
/* --- virtio-pci --- */
extern const struct device_class virtio_blk_pci_class;
extern const struct device_class virtio_rng_pci_class;
extern const struct device_class virtio_balloon_pci_class;
extern const struct device_class virtio_serial_pci_class;
extern const struct device_class virtio_net_pci_class;

const struct device_class *const device_classes[] = {
    /* --- dev --- */
    &serial_isa_class,
    &debug_exit_class,
    &port80_class,
    &i8042_class,
    /* --- boot --- */
    &mc146818_rtc_class,
    /* --- irq --- */
    &ioapic_class,
    &kvm_irqchip_class,
    /* --- acpi --- */
    &acpi_ged_class,
    &virtio_blk_device_class,
    /* --- virtio-rng --- */
    &virtio_rng_device_class,
    &virtio_balloon_device_class,
    /* --- virtio-serial --- */
    &virtio_serial_device_class,
    &virtconsole_class,
    &virtserialport_class,
    &virtio_net_device_class,
    /* --- pci --- */
    &q35_host_class,
    &mch_class,
    &pcie_root_port_class,
    &ich9_lpc_class,
    /* --- virtio-pci --- */
    &virtio_blk_pci_class,
    &virtio_rng_pci_class,
    &virtio_balloon_pci_class,
    &virtio_serial_pci_class,
    &virtio_net_pci_class,
    NULL,
};
