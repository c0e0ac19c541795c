/* SPDX-License-Identifier: MIT */
/*
 * test-e820.c: the e820 map: carving reservations out of RAM, merging,
 * the map built from guest memory regions, and top-down placement.
 */
#include "util/common.h"
#include "hw/i386/e820.h"
#include "hw/i386/microvm-layout.h"
#include "system/guest-mem.h"

static void check_sorted(const struct e820_table *t)
{
    for (unsigned i = 1; i < t->n; i++) {
        g_assert_cmpuint(t->e[i - 1].addr + t->e[i - 1].size, <=, t->e[i].addr);
    }
}

static void test_set_split(void)
{
    struct e820_table t;

    e820_init(&t);
    g_assert_true(e820_set(&t, 0, 0x1000000, E820_RAM, NULL));
    g_assert_true(
        e820_set(&t, 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED, NULL));
    g_assert_cmpuint(t.n, ==, 3);
    g_assert_cmphex(t.e[0].addr, ==, 0);
    g_assert_cmphex(t.e[0].size, ==, 0x9fc00);
    g_assert_cmpuint(t.e[1].type, ==, E820_RESERVED);
    g_assert_cmphex(t.e[2].addr, ==, 0x100000);
    g_assert_cmphex(t.e[2].size, ==, 0x1000000 - 0x100000);
    /* re-marking a reserved range as RAM merges everything back */
    g_assert_true(e820_set(&t, 0x9fc00, 0x100000 - 0x9fc00, E820_RAM, NULL));
    g_assert_cmpuint(t.n, ==, 1);
    g_assert_cmphex(t.e[0].size, ==, 0x1000000);
    /* a range spanning two entries and the gap between them */
    g_assert_true(e820_set(&t, 0x2000000, 0x1000, E820_RAM, NULL));
    g_assert_true(e820_set(&t, 0xff0000, 0x1002000, E820_ACPI, NULL));
    check_sorted(&t);
    g_assert_cmpuint(e820_sum(&t, E820_ACPI), ==, 0x1002000);
    g_assert_cmpuint(e820_sum(&t, E820_RAM), ==, 0xff1000);
    /* overflow is refused */
    g_assert_false(e820_set(&t, UINT64_MAX - 10, 100, E820_RAM, NULL));
}

static void test_full(void)
{
    struct e820_table t;
    Error *err = NULL;
    unsigned i;

    e820_init(&t);
    for (i = 0; i < 200; i++) {
        if (!e820_set(&t, (uint64_t)i * 0x2000, 0x1000, E820_RAM, &err)) {
            break;
        }
    }
    g_assert_nonnull(err);
    g_assert_cmpuint(i, <, 200);
    g_assert_cmpuint(t.n, <=, E820_MAX_ENTRIES);
    error_free(err);
}

static void test_build_small(void)
{
    struct guest_mem *gm = gm_new(128 * MiB, NULL);
    struct e820_table t;

    g_assert_nonnull(gm);
    g_assert_true(gm_add_ram(gm, 0, 0, 128 * MiB, "ram", NULL));
    g_assert_true(e820_build(&t, gm, NULL));
    check_sorted(&t);
    /* usable RAM is -m minus the legacy BIOS area */
    g_assert_cmpuint(e820_sum(&t, E820_RAM), ==,
                     128 * MiB - (E820_BIOS_AREA_END - E820_BIOS_AREA_START));
    g_assert_false(e820_is_usable(&t, 0xa0000, 1));
    g_assert_true(e820_is_usable(&t, 0x7000, 4096));
    g_assert_true(e820_is_usable(&t, 0x100000, 127 * MiB));
    g_assert_false(e820_is_usable(&t, 0x100000, 127 * MiB + 1));
    /* KVM's TSS/identity map is reserved */
    g_assert_cmphex(t.e[t.n - 1].addr, ==, MICROVM_KVM_IDMAP_ADDR);
    g_assert_cmpuint(t.e[t.n - 1].type, ==, E820_RESERVED);
    /* top-down placement */
    g_assert_cmphex(e820_find_top(&t, 0x10000, 4 * GiB, 4096), ==,
                    128 * MiB - 0x10000);
    g_assert_cmphex(e820_find_top(&t, 0x10001, 64 * MiB, 4096), ==,
                    64 * MiB - 0x11000);
    g_assert_cmphex(e820_find_top(&t, 200 * MiB, 4 * GiB, 4096), ==,
                    UINT64_MAX);
    gm_free(gm);
}

static void test_build_split(void)
{
    uint64_t ram = 4 * GiB;
    uint64_t low = MICROVM_LOWMEM_END;
    struct guest_mem *gm = gm_new(ram, NULL);
    struct e820_table t;
    GString *s = g_string_new(NULL);

    g_assert_nonnull(gm);
    g_assert_true(gm_add_ram(gm, 0, 0, low, "ram-below-4g", NULL));
    g_assert_true(gm_add_ram(gm, MICROVM_HIGHMEM_BASE, low, ram - low,
                             "ram-above-4g", NULL));
    g_assert_nonnull(gm_add_rom(gm, 0xfffc0000, 0x40000, true, "bios", NULL));
    g_assert_true(e820_build(&t, gm, NULL));
    check_sorted(&t);
    e820_describe(&t, s);
    g_test_message("%s", s->str);
    g_assert_cmpuint(e820_sum(&t, E820_RAM), ==,
                     ram - (E820_BIOS_AREA_END - E820_BIOS_AREA_START));
    g_assert_true(e820_is_usable(&t, MICROVM_HIGHMEM_BASE, ram - low));
    g_assert_false(e820_is_usable(&t, low, 1));
    /* the ROM is not RAM */
    g_assert_false(e820_is_usable(&t, 0xfffc0000, 1));
    g_assert_cmphex(e820_find_top(&t, 4096, 4 * GiB, 4096), ==, low - 4096);
    g_string_free(s, TRUE);
    gm_free(gm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/e820/set-split", test_set_split);
    g_test_add_func("/e820/full", test_full);
    g_test_add_func("/e820/build-small", test_build_small);
    g_test_add_func("/e820/build-split", test_build_split);
    return g_test_run();
}
