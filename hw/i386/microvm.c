/* SPDX-License-Identifier: MIT */
/*
 * microvm.c: vireo's "microvm" machine, after QEMU's: no PCI, no legacy
 * chipset beyond what a firmware or kernel needs (COM ports, i8042 reset
 * line, port 0x80, an RTC), hardware-reduced ACPI (the acpi-ged device:
 * sleep control register for poweroff, the GED for the power button).
 * Everything microvm-specific is behind its struct machine_type hooks.
 * Interrupts: KVM's LAPICs and vireo's userspace IOAPIC by default
 * (kernel-irqchip=split: no PIC, no PIT, as Cloud Hypervisor and
 * Firecracker-style guests expect), or KVM's whole PIC/IOAPIC/PIT with -machine
 * kernel-irqchip=on.
 *
 * Memory: RAM from 0 up to MICROVM_LOWMEM_END, the rest above 4 GiB.  A
 * -bios image is mapped just below 4 GiB with its last 128 KiB aliased
 * below 1 MiB (QEMU's rule), so the reset vector finds it; writable, as
 * QEMU's microvm has it (see x86_bios_load).
 */
#include "util/common.h"
#include "system/machine.h"
#include "hw/acpi/ged.h"
#include "hw/core/device.h"
#include "hw/i386/microvm-layout.h"
#include "hw/i386/x86-board.h"
#include "hw/i386/x86-boot.h"
#include "hw/intc/x86-intc.h"
#include "hw/virtio/virtio-mmio.h"

/* -machine keys microvm understands beyond accel= and kernel-irqchip=
 * (machine_opts() refuses any other; x86_board_read_opts reads them).
 * QEMU's other microvm keys (pic=, rtc=, x-option-roms=...) are refused
 * rather than accepted and ignored (house rule 4). */
static const char *const microvm_options[] = {X86_BOARD_OPTIONS, NULL};

static bool microvm_init_memory(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    struct x86_board_opts o;

    if (!x86_board_read_opts(m, &o, errp)) {
        return false;
    }
    if (!cfg->bios && !cfg->kernel) {
        x86_board_opts_clear(&o);
        error_setg(errp, "no firmware or kernel to boot: give -bios FILE "
                         "or -kernel FILE");
        return false;
    }
    if (!x86_board_ram(m, &o, MICROVM_LOWMEM_END, errp)) {
        return false;
    }
    return !cfg->bios || x86_bios_load(m, cfg->bios, errp);
}

/* The microvm's ACPI tables describe the GED at these: keep them equal. */
G_STATIC_ASSERT(MICROVM_ACPI_SLEEP_CTL_PORT ==
                ACPI_GED_DEFAULT_IOBASE + ACPI_GED_SLEEP_CTL);
G_STATIC_ASSERT(MICROVM_ACPI_SLEEP_STS_PORT ==
                ACPI_GED_DEFAULT_IOBASE + ACPI_GED_SLEEP_STS);
G_STATIC_ASSERT(MICROVM_ACPI_GED_PORT ==
                ACPI_GED_DEFAULT_IOBASE + ACPI_GED_EVT_SEL);
G_STATIC_ASSERT(MICROVM_ACPI_GED_IRQ == ACPI_GED_DEFAULT_IRQ);
G_STATIC_ASSERT(MICROVM_GED_PWR_DOWN_EVT == ACPI_GED_PWR_DOWN_EVT);

static bool microvm_init_devices(struct machine *m, Error **errp)
{
    struct x86_board_opts o;

    if (!x86_board_read_opts(m, &o, errp)) {
        return false;
    }
    x86_board_opts_clear(&o);
    /* acpi=off (-no-acpi): no acpi-ged, so no ACPI registers (a -bios
     * guest then finds no PM block) and no power button to press. */
    if (o.acpi && !device_create(m, "acpi-ged", NULL, 0, errp)) {
        return false;
    }
    return x86_add_legacy_devices(m, errp);
}

/* -kernel: load it, write boot info and ACPI, set the BSP entry. */
static bool microvm_init_boot(struct machine *m, Error **errp)
{
    return !m->cfg->kernel || x86_boot_setup(m, errp);
}

/* virtio-mmio slot index: QEMU microvm's windows, one GSI each. */
static bool microvm_virtio_mmio_slot(struct machine *m, unsigned index,
                                     uint64_t *base, unsigned *gsi,
                                     Error **errp)
{
    if (index >= X86_VIRTIO_MMIO_SLOTS) {
        error_setg(errp, "microvm has %u virtio-mmio slots, all in use",
                   X86_VIRTIO_MMIO_SLOTS);
        return false;
    }
    *base = MICROVM_VIRTIO_MMIO_BASE + (uint64_t)index * VIRTIO_MMIO_SIZE;
    *gsi = MICROVM_VIRTIO_MMIO_GSI + index;
    return true;
}

static const struct x86_boot_state *microvm_boot_cpu_state(struct machine *m)
{
    return x86_boot_cpu_state(m);
}

static void microvm_power_button(struct machine *m)
{
    struct device *ged = machine_find_device(m, "acpi-ged");

    if (ged) {
        acpi_ged_power_button(ged);
    }
}

const struct machine_type microvm_machine_type = {
    .name = "microvm",
    .desc = "microvm (i386): minimal machine, no PCI, hardware-reduced ACPI",
    .is_default = true,
    .max_cpus = 288, /* QEMU's limit for microvm */
    .default_ram_id = "microvm.ram",
    .options = microvm_options,
    .kvm_sys_pages = MICROVM_KVM_IDMAP_ADDR,
    .check_config = x86_boot_check_files,
    .init_memory = microvm_init_memory,
    .init_interrupts = x86_intc_create,
    .init_devices = microvm_init_devices,
    .init_boot = microvm_init_boot,
    .reset = x86_boot_reset,
    .boot_cpu_state = microvm_boot_cpu_state,
    .power_button = microvm_power_button,
    .virtio_blk_driver = "virtio-blk-device",
    .default_nic = "virtio-net-device",
    .virtio_mmio_slot = microvm_virtio_mmio_slot,
    .free = x86_boot_free,
};
