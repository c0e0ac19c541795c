/* SPDX-License-Identifier: MIT */
/*
 * fuzz-acpi-ged.c: libFuzzer target for the acpi-ged device
 * (hw/acpi/ged.c) through its ports, as a guest drives it: each 3-byte
 * step is a read or write of 1, 2 or 4 bytes at any of its 8 ports (and
 * just outside them), a power-button press, a reset or a vmstate round
 * trip into a second instance.  Invariants after every step: the GED's
 * line is up exactly while events are pending, only known event bits
 * exist, and the machine is asked to power off only by a write of
 * SLP_EN with sleep type 5.
 */
#include "util/common.h"
#include "hw/acpi/ged.h"
#include "migration/vmstate.h"
#include "../unit/dev-harness.h"
#include "fuzz-roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct device_class acpi_ged_class;

#define BASE ACPI_GED_DEFAULT_IOBASE
#define IRQ ACPI_GED_DEFAULT_IRQ

static void check(struct machine *m, struct device *d, bool s5_written)
{
    uint32_t ev = acpi_ged_events(d);
    unsigned req = th_take_requests(m, NULL);

    if ((ev & ~ACPI_GED_KNOWN_EVENTS) || th_gsi_level(m, IRQ) != (ev != 0) ||
        (req & ~REQ_SHUTDOWN) || (req && !s5_written)) {
        abort();
    }
}

static void roundtrip(struct machine *m, struct device *d)
{
    static const char *const other[] = {"iobase", "0x700", "irq", "10", NULL};
    struct device *e = th_device_new(m, &acpi_ged_class, other, NULL);

    fuzz_vmstate_roundtrip(acpi_ged_class.vmsd, d, e);
    if (th_gsi_level(m, 10) != (acpi_ged_events(e) != 0)) {
        abort();
    }
    th_device_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &acpi_ged_class, NULL, NULL);

    if (!d) {
        abort();
    }
    for (size_t i = 0; i + 2 < size; i += 3) {
        uint8_t op = data[i], off = data[i + 1] % 10, v = data[i + 2];
        unsigned len = 1u << ((op >> 4) % 3);
        uint64_t val = (uint64_t)v * 0x01010101u;
        bool s5 = false;

        switch (op & 7) {
        case 0:
        case 1:
        case 2:
            (void)th_in(m, BASE - 1 + off, len);
            break;
        case 3:
        case 4:
            /* what this write can do: sleep control at BASE+0 gets the
             * byte at BASE+0 of the access */
            s5 = BASE - 1 + off <= BASE && BASE < BASE - 1 + off + len;
            th_out(m, BASE - 1 + off, v, len);
            if (s5) {
                uint8_t ctl = (uint8_t)(v >> (8 * (BASE - (BASE - 1 + off))));
                s5 = (ctl & ACPI_GED_SLP_EN) &&
                     ((ctl >> 2) & 7) == ACPI_GED_SLP_TYP_S5;
            }
            break;
        case 5:
            acpi_ged_power_button(d);
            break;
        case 6:
            roundtrip(m, d);
            break;
        default:
            if (v == 0) {
                th_reset(d);
            }
            th_out(m, BASE + ACPI_GED_SLEEP_STS, val, 1);
            break;
        }
        check(m, d, s5);
    }
    th_device_free(d);
    th_machine_free(m);
    return 0;
}
