/* SPDX-License-Identifier: MIT */
/*
 * test-guest-mem.c: the only gpa->pointer path refuses anything that is not
 * wholly inside one region: overflow, straddling, ROM writes.
 */
#include "util/common.h"
#include "system/guest-mem.h"

#include <sys/mman.h>
#include <unistd.h>

static void test_bounds(void)
{
    Error *err = NULL;
    struct guest_mem *gm = gm_new(2 * MiB, &err);
    uint8_t buf[16] = {1, 2, 3};
    uint8_t *rom;

    g_assert_nonnull(gm);
    g_assert_true(gm_add_ram(gm, 0, 0, 1 * MiB, "low", &err));
    g_assert_true(gm_add_ram(gm, 4 * GiB, 1 * MiB, 1 * MiB, "high", &err));
    g_assert_false(gm_add_ram(gm, 8 * GiB, 1 * MiB, 2 * MiB, "out", &err));
    error_free(err);
    err = NULL;
    g_assert_false(gm_add_ram(gm, 0x80000, 0, 0x1000, "overlap", &err));
    error_free(err);
    err = NULL;

    g_assert_true(gm_write(gm, 0x1000, buf, 3));
    memset(buf, 0, sizeof(buf));
    g_assert_true(gm_read(gm, 0x1000, buf, 3));
    g_assert_cmpuint(buf[2], ==, 3);
    /* Last byte of low RAM ok; one more straddles into nothing. */
    g_assert_true(gm_read(gm, 1 * MiB - 1, buf, 1));
    g_assert_false(gm_read(gm, 1 * MiB - 1, buf, 2));
    /* gpa + len overflow */
    g_assert_null(gm_map(gm, UINT64_MAX - 3, 16, false));
    g_assert_null(gm_map(gm, 0x1000, 0, false));
    /* high RAM shares the memfd at the right offset */
    g_assert_true(gm_write(gm, 4 * GiB, buf, 1));
    g_assert_true(gm->ram[1 * MiB] == buf[0]);
    g_assert_cmpuint(gm_ram_below_4g(gm), ==, 1 * MiB);
    g_assert_cmpuint(gm_ram_above_4g(gm), ==, 1 * MiB);

    rom = gm_add_rom(gm, 4 * GiB - 64 * KiB, 64 * KiB, "bios", &err);
    g_assert_nonnull(rom);
    rom[0] = 0xaa;
    g_assert_false(gm_write(gm, 4 * GiB - 64 * KiB, buf, 1));
    g_assert_null(gm_map(gm, 4 * GiB - 64 * KiB, 1, true));
    g_assert_true(gm_read(gm, 4 * GiB - 64 * KiB, buf, 1));
    g_assert_cmphex(buf[0], ==, 0xaa);
    g_assert_true(gm_write_any(gm, 4 * GiB - 64 * KiB, "\x55", 1));
    g_assert_cmphex(rom[0], ==, 0x55);
    gm_free(gm);
}

/* RAM from a memory backend's fd (-object memory-backend-file): a shared
 * mapping writes through to the file, a private one never does. */
static void test_backend_fd(void)
{
    for (int shared = 0; shared <= 1; shared++) {
        int fd = memfd_create("test", MFD_CLOEXEC);
        struct guest_mem *gm;
        uint8_t v = 0x5a, back = 0;

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(ftruncate(fd, 1 * MiB), ==, 0);
        gm = gm_new_fd(dup(fd), 1 * MiB, shared, NULL);
        g_assert_nonnull(gm);
        g_assert_true(gm_add_ram(gm, 0, 0, 1 * MiB, "ram", NULL));
        g_assert_true(gm_write(gm, 0x2000, &v, 1));
        g_assert_cmpint(pread(fd, &back, 1, 0x2000), ==, 1);
        g_assert_cmpuint(back, ==, shared ? v : 0);
        g_assert_true(gm_read(gm, 0x2000, &back, 1));
        g_assert_cmpuint(back, ==, v);
        gm_free(gm);
        close(fd);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-mem/bounds", test_bounds);
    g_test_add_func("/guest-mem/backend-fd", test_backend_fd);
    return g_test_run();
}
