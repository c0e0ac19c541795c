/* SPDX-License-Identifier: MIT */
/*
 * test-q35.c: the q35 machine type's hooks on the fake KVM backend, as
 * machine_new() runs them (memory, interrupts, board devices, -device
 * text), without vCPUs: the RAM split around the PCI hole, the MCH and
 * the ICH9 LPC on pcie.0 through ECAM and 0xCF8, the PM block and power
 * button, 0xCF9 reset, libvirt-style root ports, and the ACPI tables the
 * board writes (RSDP -> XSDT -> FADT with the PM block, MCFG) read back
 * from guest memory.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "fake-kvm.h"
#include "hw/acpi/ich9-lpc.h"
#include "hw/core/device.h"
#include "hw/core/loader.h"
#include "hw/i386/acpi-build.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie-host.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "system/memory.h"
#include "system/object.h"

#include <fcntl.h>
#include <glib/gstdio.h>

struct fx {
    struct fake_kvm f;
    struct machine m;
    struct machine_config cfg;
    char *bios;
};

/* The board with -machine keys `opts` and an -object `object` (realized,
 * as machine_new does before the hooks); false with errp set if a hook
 * refused. */
static bool fx_try(struct fx *x, uint64_t ram, const char *opts,
                   const char *object, Error **errp)
{
    g_autofree uint8_t *img = g_malloc(128 * KiB);
    const struct machine_type *t = machine_type_find("q35");

    memset(x, 0, sizeof(*x));
    g_assert_nonnull(t);
    g_assert_true(machine_type_find("pc-q35-7.2") == t);
    memset(img, 0xf4, 128 * KiB); /* hlt */
    x->bios = g_build_filename(g_get_tmp_dir(), "vireo-q35-bios-XXXXXX", NULL);
    close(g_mkstemp(x->bios));
    g_assert_true(g_file_set_contents(x->bios, (char *)img, 128 * KiB, NULL));
    fake_kvm_init(&x->f);
    x->f.accel.vm_fd = FAKE_VM_FD;
    x->f.accel.irqchip = KVM_IRQCHIP_SPLIT;
    machine_config_init(&x->cfg);
    x->cfg.ram_size = ram;
    x->cfg.bios = g_strdup(x->bios);
    if (opts) {
        g_free(x->cfg.machine_opts);
        x->cfg.machine_opts = g_strdup(opts);
    }
    if (object) {
        struct object *o = object_parse(object, NULL);

        g_assert_nonnull(o);
        g_assert_true(object_realize(o, NULL));
        g_ptr_array_add(x->cfg.objects, o);
    }
    x->m.cfg = &x->cfg;
    x->m.type = t;
    x->m.kvm = &x->f.accel;
    vlog_init(&x->m.log);
    g_mutex_init(&x->m.req_lock);
    x->m.req_event_fd = -1;
    x->m.pio = as_new("pio", &x->m.log);
    x->m.mmio = as_new("mmio", &x->m.log);
    x->m.devices = g_ptr_array_new();
    x->m.chardevs = g_ptr_array_new();
    return t->init_memory(&x->m, errp) && t->init_interrupts(&x->m, errp) &&
           t->init_devices(&x->m, errp);
}

static void fx_init(struct fx *x, uint64_t ram)
{
    Error *err = NULL;

    if (!fx_try(x, ram, NULL, NULL, &err)) {
        g_error("%s", error_get_pretty(err));
    }
}

static void fx_clear(struct fx *x)
{
    for (guint i = x->m.devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(x->m.devices, i - 1));
    }
    g_ptr_array_free(x->m.devices, TRUE);
    g_ptr_array_free(x->m.chardevs, TRUE);
    as_free(x->m.pio);
    as_free(x->m.mmio);
    gm_free(x->m.gm);
    x->m.type->free(&x->m);
    g_mutex_clear(&x->m.req_lock);
    vlog_close(&x->m.log);
    fake_kvm_destroy(&x->f);
    machine_config_clear(&x->cfg);
    g_unlink(x->bios);
    g_free(x->bios);
}

static uint32_t ecam_rd(struct fx *x, unsigned bus, unsigned devfn,
                        unsigned reg)
{
    uint8_t b[4];

    as_read(x->m.mmio,
            Q35_ECAM_BASE + ((uint64_t)bus << 20 | devfn << 12 | reg), b, 4);
    return ld_le32(b);
}

static uint32_t pio_rd(struct fx *x, uint16_t port, unsigned len)
{
    uint8_t b[4] = {0};

    as_read(x->m.pio, port, b, len);
    return ld_le32(b);
}

static void pio_wr(struct fx *x, uint16_t port, uint32_t v, unsigned len)
{
    uint8_t b[4];

    st_le32(b, v);
    as_write(x->m.pio, port, b, len);
}

static unsigned take_requests(struct fx *x)
{
    unsigned r;

    g_mutex_lock(&x->m.req_lock);
    r = x->m.requests;
    x->m.requests = 0;
    g_mutex_unlock(&x->m.req_lock);
    return r;
}

static void test_layout(void)
{
    struct fx x;
    uint8_t b;

    /* 3 GiB: 2 GiB below the hole, 1 GiB above 4 GiB */
    fx_init(&x, 3 * GiB);
    g_assert_true(gm_read(x.m.gm, 2 * GiB - 1, &b, 1));
    g_assert_false(gm_read(x.m.gm, 2 * GiB, &b, 1));
    g_assert_true(gm_read(x.m.gm, 4 * GiB, &b, 1));
    g_assert_true(gm_read(x.m.gm, 5 * GiB - 1, &b, 1));
    g_assert_false(gm_read(x.m.gm, 5 * GiB, &b, 1));
    /* the firmware's last bytes at the reset vector and below 1 MiB */
    g_assert_true(gm_read(x.m.gm, 4 * GiB - 16, &b, 1));
    g_assert_cmphex(b, ==, 0xf4);
    g_assert_true(gm_read(x.m.gm, 1 * MiB - 16, &b, 1));
    g_assert_cmphex(b, ==, 0xf4);
    fx_clear(&x);
    /* 2 GiB: all of it below 0xb0000000 */
    fx_init(&x, 2 * GiB + 512 * MiB);
    g_assert_true(gm_read(x.m.gm, 2 * GiB + 512 * MiB - 1, &b, 1));
    g_assert_false(gm_read(x.m.gm, 4 * GiB, &b, 1));
    fx_clear(&x);
}

/* -device text through the one creation path (hw/core/device-opts.c). */
static struct device *create_from_text(struct machine *m, const char *text,
                                       Error **errp)
{
    struct device_opts *o = device_opts_parse(text, errp);
    struct device *dev;

    if (!o) {
        return NULL;
    }
    dev = device_create_opts(m, o, errp);
    device_opts_free(o);
    return dev;
}

static void test_board(void)
{
    struct fx x;
    const unsigned pm = ICH9_PMBASE_DEFAULT;
    Error *err = NULL;

    fx_init(&x, 256 * MiB);
    /* the MCH at 00.0 and the LPC at 1f.0, both mechanisms */
    g_assert_cmphex(ecam_rd(&x, 0, 0, 0), ==, 0x29c08086);
    g_assert_cmphex(ecam_rd(&x, 0, PCI_DEVFN(0x1f, 0), 0), ==, 0x29188086);
    g_assert_cmphex(ecam_rd(&x, 0, PCI_DEVFN(0x1f, 0), 0xc) >> 16, ==, 0x80);
    pio_wr(&x, 0xcf8, 0x8000f800, 4);
    g_assert_cmphex(pio_rd(&x, 0xcfc, 4), ==, 0x29188086);
    /* the PM block, SCI_EN on; the power button hook sets PWRBTN_STS */
    g_assert_cmphex(pio_rd(&x, pm + ICH9_PM1_CNT, 2), ==, 1);
    g_assert_true(machine_press_power_button(&x.m));
    g_assert_cmphex(pio_rd(&x, pm + ICH9_PM1_STS, 2), ==, ICH9_PM1_PWRBTN_STS);
    /* the legacy set: COM-less (-serial none), RTC, i8042 */
    g_assert_cmphex(pio_rd(&x, 0x64, 1), !=, 0xff);
    /* 0xCF9 */
    pio_wr(&x, 0xcf9, 0x06, 1);
    g_assert_cmphex(take_requests(&x), ==, REQ_RESET);
    /* libvirt's root ports: two functions of slot 2 */
    g_assert_nonnull(create_from_text(
        &x.m,
        "pcie-root-port,port=0x10,chassis=1,id=pci.1,bus=pcie.0,"
        "multifunction=on,addr=0x2",
        &err));
    g_assert_nonnull(create_from_text(
        &x.m,
        "pcie-root-port,port=0x11,chassis=2,id=pci.2,bus=pcie.0,addr=0x2.0x1",
        &err));
    g_assert_cmphex(ecam_rd(&x, 0, PCI_DEVFN(2, 1), 0), ==, 0x000c1b36);
    g_assert_null(create_from_text(
        &x.m, "pcie-root-port,id=pci.3,bus=pcie.0,addr=0x2.0x1", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "in use by pcie-root-port"));
    g_clear_pointer(&err, error_free);
    /* the board's functions cannot be added by the user */
    g_assert_null(create_from_text(&x.m, "ICH9-LPC,addr=5", &err));
    g_clear_pointer(&err, error_free);
    fx_clear(&x);
}

static const uint8_t *find_table(const uint8_t *xsdt, uint32_t xlen,
                                 const char *sig, struct fx *x, uint8_t *buf,
                                 size_t bufsz)
{
    for (uint32_t off = 36; off + 8 <= xlen; off += 8) {
        uint64_t a = ld_le64(xsdt + off);
        g_assert_true(gm_read(x->m.gm, a, buf, 36));
        if (!memcmp(buf, sig, 4)) {
            uint32_t len = ld_le32(buf + 4);
            g_assert_cmpuint(len, <=, bufsz);
            g_assert_true(gm_read(x->m.gm, a, buf, len));
            return buf;
        }
    }
    return NULL;
}

static void test_acpi(void)
{
    struct fx x;
    uint64_t rsdp;
    uint8_t r[36], xsdt[128], fadt[512], mcfg[128];
    uint32_t xlen;

    fx_init(&x, 3 * GiB);
    Error *err = NULL;
    if (!x86_acpi_build_at(&x.m, &rsdp, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_true(gm_read(x.m.gm, rsdp, r, sizeof(r)));
    g_assert_cmpmem(r, 8, "RSD PTR ", 8);
    g_assert_true(gm_read(x.m.gm, ld_le64(r + 24), xsdt, 36));
    xlen = ld_le32(xsdt + 4);
    g_assert_cmpuint(xlen, <=, sizeof(xsdt));
    g_assert_true(gm_read(x.m.gm, ld_le64(r + 24), xsdt, xlen));
    g_assert_nonnull(find_table(xsdt, xlen, "FACP", &x, fadt, sizeof(fadt)));
    g_assert_cmphex(ld_le32(fadt + 56), ==, ICH9_PMBASE_DEFAULT);
    g_assert_false(ld_le32(fadt + 112) & (1u << 20));
    g_assert_nonnull(find_table(xsdt, xlen, "MCFG", &x, mcfg, sizeof(mcfg)));
    g_assert_cmphex(ld_le64(mcfg + 44), ==, Q35_ECAM_BASE);
    fx_clear(&x);
}

/*
 * The -machine keys libvirt always gives q35: usb=off, dump-guest-core=off,
 * acpi=on and memory-backend=pc.ram naming a memory-backend-file with
 * share=off (as the migration benchmark gives it): guest RAM is the
 * file's (a private mapping of it, so the guest sees its content).
 */
static void test_libvirt_opts(void)
{
    g_autofree char *dir = g_dir_make_tmp("vireo-q35-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "ram", NULL);
    g_autofree char *obj = g_strdup_printf(
        "memory-backend-file,id=pc.ram,size=16M,mem-path=%s,share=off", file);
    static const char pattern[] = "vireo-backend";
    char got[sizeof(pattern)];
    int fd = open(file, O_CREAT | O_RDWR, 0600);
    struct fx x;
    Error *err = NULL;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 16 * MiB), ==, 0);
    g_assert_cmpint(pwrite(fd, pattern, sizeof(pattern), 2 * MiB), ==,
                    sizeof(pattern));
    close(fd);
    if (!fx_try(&x, 16 * MiB,
                "usb=off,dump-guest-core=off,acpi=on,memory-backend=pc.ram",
                obj, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_true(gm_read(x.m.gm, 2 * MiB, got, sizeof(got)));
    g_assert_cmpstr(got, ==, pattern);
    g_assert_nonnull(ich9_lpc_find(&x.m));
    fx_clear(&x);
    /* acpi=off with -bios: the firmware owns the tables (vireo gives a
     * -bios guest none); the board is the same */
    if (!fx_try(&x, 16 * MiB, "acpi=off,usb=off", NULL, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_nonnull(ich9_lpc_find(&x.m));
    fx_clear(&x);
    unlink(file);
    g_rmdir(dir);
}

/* What q35 refuses of those keys, naming why. */
static void test_bad_opts(void)
{
    static const char *const bad[][3] = {
        {"usb=on", NULL, "usb=on: pc-q35-7.2 has no USB controller"},
        {"acpi=sometimes", NULL, "acpi=sometimes: expected on, off or auto"},
        {"dump-guest-core=2", NULL, "dump-guest-core"},
        {"memory-backend=nosuch", NULL,
         "memory-backend=nosuch: no such -object"},
        {"memory-backend=pc.ram", "memory-backend-ram,id=pc.ram,size=32M",
         "does not match the size of the memory backend 'pc.ram'"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct fx x;
        Error *err = NULL;

        g_assert_false(fx_try(&x, 16 * MiB, bad[i][0], bad[i][1], &err));
        if (!strstr(error_get_pretty(err), bad[i][2])) {
            g_error("%s: got \"%s\"", bad[i][0], error_get_pretty(err));
        }
        error_free(err);
        fx_clear(&x);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/q35/layout", test_layout);
    g_test_add_func("/q35/board", test_board);
    g_test_add_func("/q35/acpi", test_acpi);
    g_test_add_func("/q35/libvirt-opts", test_libvirt_opts);
    g_test_add_func("/q35/bad-opts", test_bad_opts);
    return g_test_run();
}
