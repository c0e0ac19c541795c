/* SPDX-License-Identifier: MIT */
/*
 * test-microvm-board.c: the microvm machine type's hooks run as
 * machine_new() runs them (memory, interrupts, board devices, boot), on
 * the fake KVM, so the board's wiring is checked without /dev/kvm: which
 * devices exist and where, the power button reaching the guest through
 * the GED's line and the IOAPIC (split) or KVM_IRQ_LINE (on), and a
 * system reset clearing the GED.
 */
#include "util/common.h"
#include "fake-kvm.h"
#include "hw/acpi/ged.h"
#include "hw/core/device.h"
#include "hw/intc/ioapic.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "system/memory.h"

extern const struct machine_type microvm_machine_type;

struct fx {
    struct fake_kvm f;
    struct machine m;
    struct machine_config cfg;
    char *bios;
};

/* Runs the hooks with -machine options `opts` (NULL: none); false with
 * the board's error (x is then ready for fx_clear). */
static bool fx_init_opts(struct fx *x, enum kvm_irqchip_mode mode,
                         const char *opts, Error **errp)
{
    const struct machine_type *t = &microvm_machine_type;
    g_autofree uint8_t *img = g_malloc0(64 * KiB);
    int fd;

    memset(x, 0, sizeof(*x));
    fake_kvm_init(&x->f);
    x->f.accel.vm_fd = FAKE_VM_FD;
    x->f.accel.irqchip = mode;
    fd = g_file_open_tmp("vireo-bios-XXXXXX", &x->bios, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(g_file_set_contents(x->bios, (char *)img, 64 * KiB, NULL));
    close(fd);
    x->cfg.ram_size = 16 * MiB;
    x->cfg.smp_cpus = 1;
    x->cfg.bios = x->bios;
    x->cfg.serials = g_ptr_array_new();
    x->cfg.machine_opts = g_strdup(opts);
    x->m.cfg = &x->cfg;
    x->m.type = t;
    x->m.kvm = &x->f.accel;
    vlog_init(&x->m.log);
    g_mutex_init(&x->m.req_lock);
    x->m.req_event_fd = -1;
    x->m.pio = as_new("I/O", &x->m.log);
    x->m.mmio = as_new("memory", &x->m.log);
    x->m.devices = g_ptr_array_new();
    return t->init_memory(&x->m, errp) && t->init_interrupts(&x->m, errp) &&
           t->init_devices(&x->m, errp) && t->init_boot(&x->m, errp);
}

static void fx_init(struct fx *x, enum kvm_irqchip_mode mode)
{
    Error *err = NULL;

    if (!fx_init_opts(x, mode, NULL, &err)) {
        g_error("%s", error_get_pretty(err));
    }
}

static void fx_clear(struct fx *x)
{
    for (guint i = x->m.devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(x->m.devices, i - 1));
    }
    g_assert_null(x->m.gsi);
    g_ptr_array_free(x->m.devices, TRUE);
    if (x->m.type->free) {
        x->m.type->free(&x->m);
    }
    as_free(x->m.pio);
    as_free(x->m.mmio);
    gm_free(x->m.gm);
    g_mutex_clear(&x->m.req_lock);
    vlog_close(&x->m.log);
    g_ptr_array_free(x->cfg.serials, TRUE);
    g_free(x->cfg.machine_opts);
    unlink(x->bios);
    g_free(x->bios);
    fake_kvm_destroy(&x->f);
}

static uint32_t in32(struct fx *x, uint16_t port)
{
    uint32_t v = 0;

    as_read(x->m.pio, port, &v, 4);
    return v;
}

static void ioapic_wr(struct fx *x, uint32_t reg, uint32_t val)
{
    as_write(x->m.mmio, IOAPIC_DEFAULT_ADDR + IOAPIC_IOREGSEL, &reg, 4);
    as_write(x->m.mmio, IOAPIC_DEFAULT_ADDR + IOAPIC_IOWIN, &val, 4);
}

static void test_devices(void)
{
    static const char *const want[] = {"ioapic", "acpi-ged", "port80", "i8042",
                                       "mc146818rtc"};
    struct fx x;
    GString *map = g_string_new(NULL);

    fx_init(&x, KVM_IRQCHIP_SPLIT);
    g_assert_cmpuint(x.m.devices->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        struct device *d = g_ptr_array_index(x.m.devices, i);
        g_assert_cmpstr(d->cls->name, ==, want[i]);
    }
    g_assert_nonnull(x.m.msi.ops);
    g_assert_cmpuint(x.m.nr_gsi, ==, 24);
    as_describe(x.m.pio, map);
    g_assert_nonnull(
        strstr(map->str, "0000000000000600-0000000000000607 acpi-ged"));
    g_string_truncate(map, 0);
    as_describe(x.m.mmio, map);
    g_assert_nonnull(
        strstr(map->str, "00000000fec00000-00000000fec00fff ioapic"));
    g_string_free(map, TRUE);
    fx_clear(&x);
}

/* system_powerdown -> the board's hook -> acpi-ged -> GSI 9 -> IOAPIC. */
static void test_power_button_split(void)
{
    struct fx x;
    const struct kvm_msi *msi;

    fx_init(&x, KVM_IRQCHIP_SPLIT);
    /* the guest routes GSI 9 (level, as the DSDT says) to vector 0x39 */
    ioapic_wr(&x, IOAPIC_REG_REDTBL + 18, 0x39 | IOAPIC_RTE_LEVEL);
    g_assert_true(machine_press_power_button(&x.m));
    g_assert_cmpuint(x.f.msis->len, ==, 1);
    msi = &g_array_index(x.f.msis, struct kvm_msi, 0);
    g_assert_cmphex(msi->data & 0xff, ==, 0x39);
    /* the _EVT method reads the selector: acknowledged, line down */
    g_assert_cmphex(in32(&x, 0x604), ==, ACPI_GED_PWR_DOWN_EVT);
    g_assert_cmphex(in32(&x, 0x604), ==, 0);
    /* a second press while Remote IRR is set waits for the EOI */
    g_assert_true(machine_press_power_button(&x.m));
    g_assert_cmpuint(x.f.msis->len, ==, 1);
    kvm_ioapic_eoi(x.m.kvm, 0x39);
    g_assert_cmpuint(x.f.msis->len, ==, 2);
    /* a system reset clears the GED (and lowers its line) */
    g_assert_true(machine_reset(&x.m, NULL));
    g_assert_cmphex(acpi_ged_events(machine_find_device(&x.m, "acpi-ged")), ==,
                    0);
    g_assert_cmphex(in32(&x, 0x604), ==, 0);
    fx_clear(&x);
}

static void test_power_button_whole_chip(void)
{
    struct fx x;

    fx_init(&x, KVM_IRQCHIP_ON);
    g_assert_nonnull(machine_find_device(&x.m, "kvm-irqchip"));
    g_assert_null(machine_find_device(&x.m, "ioapic"));
    g_assert_true(machine_press_power_button(&x.m));
    g_assert_cmpstr(x.f.irq_lines->str, ==, "9=1;");
    g_assert_cmphex(in32(&x, 0x604), ==, ACPI_GED_PWR_DOWN_EVT);
    g_assert_cmpstr(x.f.irq_lines->str, ==, "9=1;9=0;");
    fx_clear(&x);
}

/* acpi=off (-no-acpi): no acpi-ged, so no ACPI registers, and the power
 * button (system_powerdown) reaches nothing. */
static void test_acpi_off(void)
{
    struct fx x;
    GString *map = g_string_new(NULL);
    Error *err = NULL;

    if (!fx_init_opts(&x, KVM_IRQCHIP_ON, "acpi=off,usb=off", &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_null(machine_find_device(&x.m, "acpi-ged"));
    as_describe(x.m.pio, map);
    g_assert_null(strstr(map->str, "acpi-ged"));
    g_string_free(map, TRUE);
    machine_press_power_button(&x.m);
    g_assert_cmpstr(x.f.irq_lines->str, ==, "");
    fx_clear(&x);
}

/* Bad values of microvm's -machine keys are refused by its hooks. */
static void test_bad_opts(void)
{
    static const char *const bad[][2] = {
        {"usb=on", "microvm has no USB controller"},
        {"usb=maybe", "usb"},
        {"acpi=sometimes", "acpi=sometimes: expected on, off or auto"},
        {"dump-guest-core=2", "dump-guest-core"},
        {"memory-backend=nosuch", "memory-backend=nosuch: no such -object"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct fx x;
        Error *err = NULL;

        g_assert_false(fx_init_opts(&x, KVM_IRQCHIP_ON, bad[i][0], &err));
        if (!strstr(error_get_pretty(err), bad[i][1])) {
            g_error("%s: got \"%s\"", bad[i][0], error_get_pretty(err));
        }
        error_free(err);
        fx_clear(&x);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/microvm-board/devices", test_devices);
    g_test_add_func("/microvm-board/power-button-split",
                    test_power_button_split);
    g_test_add_func("/microvm-board/power-button-whole-chip",
                    test_power_button_whole_chip);
    g_test_add_func("/microvm-board/acpi-off", test_acpi_off);
    g_test_add_func("/microvm-board/bad-opts", test_bad_opts);
    return g_test_run();
}
