/* SPDX-License-Identifier: MIT */
/*
 * q35.c: vireo's "pc-q35-7.2" machine (alias "q35"), after QEMU's: a Q35
 * PCIe host bridge with ECAM at 0xb0000000 and the 0xCF8/0xCFC ports, the
 * ICH9 LPC at 00:1f.0 with the full ACPI PM block (PM1a, PM timer, GPE0,
 * SCI on GSI 9, power button through PWRBTN_STS, reset through 0xCF9), the
 * PC's legacy ISA devices, and the ACPI a distribution kernel needs (FADT
 * with the PM block, MCFG, DSDT with \_SB.PCI0, _CRS, _PRT).  Devices plug
 * in with -device NAME,bus=pcie.0|ROOT-PORT-ID,addr=SLOT[.FN].
 *
 * Memory (QEMU's q35 rule): with 2.75 GiB of RAM or more, RAM below 4 GiB
 * ends at 2 GiB, else at 2.75 GiB (0xb0000000, the ECAM window); the rest
 * goes above 4 GiB.  The 32-bit PCI hole runs from the end of low RAM to
 * the IOAPIC (0xfec00000) minus the ECAM window; the 64-bit hole (32 GiB)
 * starts at the next 1 GiB boundary above RAM.
 */
#include "util/common.h"
#include "system/machine.h"
#include "hw/acpi/ich9-lpc.h"
#include "hw/core/device.h"
#include "hw/i386/microvm-layout.h"
#include "hw/i386/x86-board.h"
#include "hw/i386/x86-boot.h"
#include "hw/intc/x86-intc.h"
#include "hw/pci/pcie-host.h"

#define Q35_LOWMEM_SPLIT 0xb0000000ULL
#define Q35_LOWMEM_LARGE 0x80000000ULL
#define Q35_HOLE64_SIZE (32 * GiB)

/* -machine keys q35 understands beyond accel= and kernel-irqchip=: the ones
 * libvirt always gives (QEMU's meaning, x86-board.c).  QEMU's other q35
 * keys are refused rather than accepted and ignored. */
static const char *const q35_options[] = {X86_BOARD_OPTIONS, NULL};

static uint64_t q35_lowmem_end(uint64_t ram)
{
    return ram >= Q35_LOWMEM_SPLIT ? Q35_LOWMEM_LARGE : Q35_LOWMEM_SPLIT;
}

static bool q35_init_memory(struct machine *m, Error **errp)
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
    if (!x86_board_ram(m, &o, q35_lowmem_end(cfg->ram_size), errp)) {
        return false;
    }
    return !cfg->bios || x86_bios_load(m, cfg->bios, errp);
}

static bool q35_init_devices(struct machine *m, Error **errp)
{
    uint64_t ram = m->cfg->ram_size, low = MIN(ram, q35_lowmem_end(ram));
    struct q35_host_windows w = {
        .below_4g_end = low,
        .hole64_start = ALIGN_UP(4 * GiB + (ram - low), 1 * GiB),
        .hole64_size = Q35_HOLE64_SIZE,
    };
    const struct prop_value lpc[] = {
        PROP_VAL_STR("addr", ICH9_LPC_DEVFN_TEXT),
        PROP_VAL_BOOL("multifunction", true),
    };

    if (!q35_host_create(m, &w, errp)) {
        return false;
    }
    return device_create(m, ICH9_LPC_CLASS, lpc, ARRAY_SIZE(lpc), errp) &&
           x86_add_legacy_devices(m, errp);
}

static bool q35_init_boot(struct machine *m, Error **errp)
{
    return !m->cfg->kernel || x86_boot_setup(m, errp);
}

static const struct x86_boot_state *q35_boot_cpu_state(struct machine *m)
{
    return x86_boot_cpu_state(m);
}

static void q35_power_button(struct machine *m)
{
    struct device *lpc = ich9_lpc_find(m);

    if (lpc) {
        ich9_lpc_power_button(lpc);
    }
}

const struct machine_type q35_machine_type = {
    .name = "pc-q35-7.2",
    .alias = "q35",
    .desc = "Standard PC (Q35 + ICH9, 2009)",
    .max_cpus = 288,
    .default_ram_id = "pc.ram",
    .options = q35_options,
    .check_config = x86_boot_check_files,
    .kvm_sys_pages = MICROVM_KVM_IDMAP_ADDR,
    .init_memory = q35_init_memory,
    .init_interrupts = x86_intc_create,
    .init_devices = q35_init_devices,
    .init_boot = q35_init_boot,
    .reset = x86_boot_reset,
    .boot_cpu_state = q35_boot_cpu_state,
    .power_button = q35_power_button,
    .virtio_blk_driver = "virtio-blk-pci",
    .default_nic = "virtio-net-pci",
    .free = x86_boot_free,
};
