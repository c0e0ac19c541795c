/* SPDX-License-Identifier: MIT */
/*
 * test-acpi-ged.c: the "acpi-ged" device on its ports: the power button
 * raises the GED's line and sets the event the _EVT method reads (the read
 * acknowledges it and lowers the line), SLP_EN with S5 asks the machine
 * to power off, other sleep types are refused, reset and the vmstate
 * round trip (with validation) carry the event state.
 */
#include "util/common.h"
#include "hw/acpi/ged.h"
#include "migration/vmstate.h"
#include "dev-harness.h"

extern const struct device_class acpi_ged_class;

#define SEL (ACPI_GED_DEFAULT_IOBASE + ACPI_GED_EVT_SEL)
#define IRQ ACPI_GED_DEFAULT_IRQ

static void test_power_button(void)
{
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &acpi_ged_class, NULL, NULL);

    g_assert_nonnull(d);
    g_assert_false(th_gsi_level(m, IRQ));
    g_assert_cmphex(th_in(m, SEL, 4), ==, 0);
    acpi_ged_power_button(d);
    g_assert_true(th_gsi_level(m, IRQ));
    g_assert_cmphex(acpi_ged_events(d), ==, ACPI_GED_PWR_DOWN_EVT);
    g_assert_cmphex(th_in(m, SEL, 4), ==, ACPI_GED_PWR_DOWN_EVT);
    g_assert_false(th_gsi_level(m, IRQ));
    g_assert_cmphex(th_in(m, SEL, 4), ==, 0);
    /* reset drops a pending press */
    acpi_ged_power_button(d);
    th_reset(d);
    g_assert_false(th_gsi_level(m, IRQ));
    g_assert_cmphex(acpi_ged_events(d), ==, 0);
    th_device_free(d);
    th_machine_free(m);
}

static void test_sleep(void)
{
    struct machine *m = th_machine_new();
    struct device *d = th_device_new(m, &acpi_ged_class, NULL, NULL);
    enum shutdown_cause cause;

    g_assert_nonnull(d);
    /* S3 is refused (logged), nothing requested */
    th_out(m, ACPI_GED_DEFAULT_IOBASE, ACPI_GED_SLP_EN | 3 << 2, 1);
    g_assert_cmphex(th_take_requests(m, NULL), ==, 0);
    /* S5 without SLP_EN does nothing */
    th_out(m, ACPI_GED_DEFAULT_IOBASE, ACPI_GED_SLP_TYP_S5 << 2, 1);
    g_assert_cmphex(th_take_requests(m, NULL), ==, 0);
    th_out(m, ACPI_GED_DEFAULT_IOBASE,
           ACPI_GED_SLP_EN | ACPI_GED_SLP_TYP_S5 << 2, 1);
    g_assert_cmphex(th_take_requests(m, &cause), ==, REQ_SHUTDOWN);
    g_assert_cmpint(cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    g_assert_cmphex(th_in(m, ACPI_GED_DEFAULT_IOBASE + 1, 1), ==, 0);
    th_device_free(d);
    th_machine_free(m);
}

static void test_vmstate(void)
{
    struct machine *m = th_machine_new();
    struct device *a = th_device_new(m, &acpi_ged_class, NULL, NULL);
    static const char *const other[] = {"iobase", "0x700", "irq", "10", NULL};
    struct device *b = th_device_new(m, &acpi_ged_class, other, NULL);
    GByteArray *buf = g_byte_array_new(), *idle = g_byte_array_new();
    unsigned diffs = 0;
    size_t pos = 0;
    Error *err = NULL;

    g_assert_nonnull(b);
    acpi_ged_power_button(a);
    g_assert_true(vmstate_save(acpi_ged_class.vmsd, a, buf, &err));
    g_assert_false(th_gsi_level(m, 10));
    g_assert_true(
        vmstate_load(acpi_ged_class.vmsd, b, buf->data, buf->len, &pos, &err));
    /* the loaded device drives its own line */
    g_assert_true(th_gsi_level(m, 10));
    g_assert_cmphex(th_in(m, 0x704, 4), ==, ACPI_GED_PWR_DOWN_EVT);
    /* an event the device does not know is refused: the one byte that
     * differs from the stream of an idle device is the event selector */
    th_reset(a);
    g_assert_true(vmstate_save(acpi_ged_class.vmsd, a, idle, &err));
    g_assert_cmpuint(idle->len, ==, buf->len);
    for (guint i = 0; i < buf->len; i++) {
        if (buf->data[i] != idle->data[i]) {
            g_assert_cmphex(buf->data[i], ==, ACPI_GED_PWR_DOWN_EVT);
            buf->data[i] |= 0x80;
            diffs++;
        }
    }
    g_assert_cmpuint(diffs, ==, 1);
    pos = 0;
    g_assert_false(
        vmstate_load(acpi_ged_class.vmsd, b, buf->data, buf->len, &pos, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "unknown events 0x81"));
    error_free(err);
    g_byte_array_free(buf, TRUE);
    g_byte_array_free(idle, TRUE);
    th_device_free(a);
    th_device_free(b);
    th_machine_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi-ged/power-button", test_power_button);
    g_test_add_func("/acpi-ged/sleep", test_sleep);
    g_test_add_func("/acpi-ged/vmstate", test_vmstate);
    return g_test_run();
}
