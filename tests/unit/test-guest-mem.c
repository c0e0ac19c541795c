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

    rom = gm_add_rom(gm, 4 * GiB - 64 * KiB, 64 * KiB, true, "bios", &err);
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

/* Issue 13: -m is refused when the host can never back it (more than
 * RAM + swap, or more than strict overcommit leaves), accepted above the
 * free memory (RAM is reserved lazily). */
static void test_host_can_back(void)
{
    static const char meminfo[] = "MemTotal:       24000000 kB\n"
                                  "MemFree:         1000000 kB\n"
                                  "SwapTotal:       2000000 kB\n"
                                  "CommitLimit:    14000000 kB\n"
                                  "Committed_AS:    4000000 kB\n";
    struct gm_host_mem h;
    Error *err = NULL;

    g_assert_true(gm_host_mem_parse(meminfo, "0\n", &h));
    g_assert_cmpuint(h.mem_total, ==, 24000000ULL * KiB);
    g_assert_cmpuint(h.swap_total, ==, 2000000ULL * KiB);
    g_assert_cmpuint(h.committed, ==, 4000000ULL * KiB);
    g_assert_cmpint(h.overcommit, ==, 0);
    /* more than free, within RAM + swap: fine (heuristic and always) */
    g_assert_true(gm_host_can_back(20000000ULL * KiB, &h, NULL));
    g_assert_true(gm_host_can_back(26000000ULL * KiB, &h, NULL));
    g_assert_false(gm_host_can_back(26000001ULL * KiB, &h, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "of RAM and"));
    g_clear_pointer(&err, error_free);
    g_assert_false(gm_host_can_back(4096 * GiB, &h, NULL));
    h.overcommit = 1;
    g_assert_false(gm_host_can_back(4096 * GiB, &h, NULL));
    /* strict: CommitLimit - Committed_AS = 10000000 kB */
    g_assert_true(gm_host_mem_parse(meminfo, "2", &h));
    g_assert_true(gm_host_can_back(10000000ULL * KiB, &h, NULL));
    g_assert_false(gm_host_can_back(10000001ULL * KiB, &h, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "strict overcommit"));
    g_clear_pointer(&err, error_free);
    /* over-committed already: nothing left */
    h.committed = h.commit_limit + 1;
    g_assert_false(gm_host_can_back(4096, &h, NULL));
    /* a field missing: cannot tell */
    g_assert_false(gm_host_mem_parse("MemTotal: 1 kB\n", NULL, &h));
    /* this host: no 4 TiB of RAM + swap, and gm_new says so first (it
     * took 10-20 s and 10 GB of kernel memory before) */
    g_assert_null(gm_new(4096 * GiB, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "cannot back 4096.0 GiB"));
    g_clear_pointer(&err, error_free);
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
    g_test_add_func("/guest-mem/host-can-back", test_host_can_back);
    g_test_add_func("/guest-mem/backend-fd", test_backend_fd);
    return g_test_run();
}
