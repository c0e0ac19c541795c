/* SPDX-License-Identifier: MIT */
/*
 * test-memory.c: the PIO/MMIO dispatcher: lookups, unmapped accesses,
 * size splitting and widening, overlap refusal, and the re-entrancy guard.
 */
#include "util/common.h"
#include "system/memory.h"
#include "util/log.h"

#include <sys/eventfd.h>
#include <unistd.h>

struct rec {
    GArray *ops; /* struct op */
    struct address_space *as;
    uint64_t reenter_addr;
};

struct op {
    bool write;
    uint64_t off, val;
    unsigned size;
};

static uint64_t rec_read(void *opaque, uint64_t off, unsigned size)
{
    struct rec *r = opaque;
    struct op o = {false, off, 0, size};
    uint8_t buf[8];

    g_array_append_val(r->ops, o);
    if (r->reenter_addr) {
        as_read(r->as, r->reenter_addr, buf, 1);
        return buf[0];
    }
    return size == 4 ? 0x11223344 : 0x5a;
}

static void rec_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct rec *r = opaque;
    struct op o = {true, off, val, size};

    g_array_append_val(r->ops, o);
}

static const struct io_ops ops_1_4 = {
    .read = rec_read, .write = rec_write, .min_size = 1, .max_size = 4};
static const struct io_ops ops_4_4 = {
    .read = rec_read, .write = rec_write, .min_size = 4, .max_size = 4};

static void test_unmapped(void)
{
    struct address_space *as = as_new("t", NULL);
    uint8_t buf[4] = {0};

    as_read(as, 0x1000, buf, 4);
    g_assert_cmphex(buf[0], ==, 0xff);
    g_assert_cmphex(buf[3], ==, 0xff);
    as_write(as, 0x1000, buf, 4); /* dropped, must not crash */
    as_free(as);
}

static void test_lookup_and_overlap(void)
{
    struct address_space *as = as_new("t", NULL);
    struct rec r = {g_array_new(FALSE, TRUE, sizeof(struct op)), as, 0};
    Error *err = NULL;
    uint8_t v = 0x5a;

    g_assert_true(as_map(as, 0x100, 8, &ops_1_4, &r, NULL, "a", &err));
    g_assert_false(as_map(as, 0x104, 8, &ops_1_4, &r, NULL, "b", &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "overlaps 'a'"));
    error_free(err);
    err = NULL;
    g_assert_false(as_map(as, 0x200, 0, &ops_1_4, &r, NULL, "z", &err));
    error_free(err);
    err = NULL;
    g_assert_true(as_map(as, 0x108, 8, &ops_1_4, &r, NULL, "c", &err));
    as_write(as, 0x10a, &v, 1);
    g_assert_cmpuint(r.ops->len, ==, 1);
    g_assert_cmphex(g_array_index(r.ops, struct op, 0).off, ==, 2);
    g_assert_cmphex(g_array_index(r.ops, struct op, 0).val, ==, 0x5a);
    g_assert_true(as_unmap(as, 0x108));
    as_write(as, 0x10a, &v, 1);
    g_assert_cmpuint(r.ops->len, ==, 1);
    g_array_free(r.ops, TRUE);
    as_free(as);
}

static void test_split_wide_write(void)
{
    struct address_space *as = as_new("t", NULL);
    struct rec r = {g_array_new(FALSE, TRUE, sizeof(struct op)), as, 0};
    uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    g_assert_true(as_map(as, 0x1000, 0x100, &ops_1_4, &r, NULL, "a", NULL));
    as_write(as, 0x1000, data, 8);
    g_assert_cmpuint(r.ops->len, ==, 2);
    g_assert_cmphex(g_array_index(r.ops, struct op, 0).val, ==, 0x04030201);
    g_assert_cmpuint(g_array_index(r.ops, struct op, 0).size, ==, 4);
    g_assert_cmphex(g_array_index(r.ops, struct op, 1).val, ==, 0x08070605);
    g_assert_cmphex(g_array_index(r.ops, struct op, 1).off, ==, 4);
    /* unaligned 4-byte write at offset 2: split into 2+2 */
    g_array_set_size(r.ops, 0);
    as_write(as, 0x1002, data, 4);
    g_assert_cmpuint(r.ops->len, ==, 2);
    g_assert_cmpuint(g_array_index(r.ops, struct op, 0).size, ==, 2);
    g_assert_cmphex(g_array_index(r.ops, struct op, 0).off, ==, 2);
    g_array_free(r.ops, TRUE);
    as_free(as);
}

static void test_widen_narrow_read(void)
{
    struct address_space *as = as_new("t", NULL);
    struct rec r = {g_array_new(FALSE, TRUE, sizeof(struct op)), as, 0};
    uint8_t b = 0;

    g_assert_true(as_map(as, 0x1000, 0x100, &ops_4_4, &r, NULL, "a", NULL));
    as_read(as, 0x1001, &b, 1);
    g_assert_cmpuint(r.ops->len, ==, 1);
    g_assert_cmpuint(g_array_index(r.ops, struct op, 0).size, ==, 4);
    g_assert_cmphex(g_array_index(r.ops, struct op, 0).off, ==, 0);
    /* the 4-byte value is 0x11223344 little-endian: byte 1 is 0x33 */
    g_assert_cmphex(b, ==, 0x33);
    /* a narrow write to a 4-byte-only device is dropped */
    as_write(as, 0x1001, &b, 1);
    g_assert_cmpuint(r.ops->len, ==, 1);
    g_array_free(r.ops, TRUE);
    as_free(as);
}

/* Found by libFuzzer (fuzz-pci): a misaligned access of exactly the
 * device's only size recursed on itself until the stack overflowed. */
static void test_misaligned_min_size(void)
{
    struct address_space *as = as_new("t", NULL);
    struct rec r = {g_array_new(FALSE, TRUE, sizeof(struct op)), as, 0};
    uint32_t v = 0;

    g_assert_true(as_map(as, 0x1000, 0x100, &ops_4_4, &r, NULL, "a", NULL));
    as_read(as, 0x1001, &v, 4);
    g_assert_cmphex(v, ==, 0xffffffff);
    as_write(as, 0x1002, &v, 4);
    g_assert_cmpuint(r.ops->len, ==, 0);
    g_array_free(r.ops, TRUE);
    as_free(as);
}

static void test_reentry_refused(void)
{
    struct vlog log;
    struct address_space *as;
    struct rec r;
    uint8_t b = 0;

    vlog_init(&log);
    as = as_new("t", &log);
    r = (struct rec){g_array_new(FALSE, TRUE, sizeof(struct op)), as, 0x1000};
    g_assert_true(as_map(as, 0x1000, 0x10, &ops_1_4, &r, NULL, "self", NULL));
    as_read(as, 0x1000, &b, 1);
    /* The outer read ran once; the nested one was refused (all ones). */
    g_assert_cmpuint(r.ops->len, ==, 1);
    g_assert_cmphex(b, ==, 0xff);
    g_array_free(r.ops, TRUE);
    as_free(as);
    vlog_close(&log);
}

static void test_straddle_end(void)
{
    struct address_space *as = as_new("t", NULL);
    struct rec r = {g_array_new(FALSE, TRUE, sizeof(struct op)), as, 0};
    uint8_t data[4] = {0};

    g_assert_true(as_map(as, 0x10, 2, &ops_1_4, &r, NULL, "a", NULL));
    /* 4 bytes at 0x10 cover 2 mapped + 2 unmapped bytes */
    as_read(as, 0x10, data, 4);
    g_assert_cmpuint(r.ops->len, ==, 2);
    g_assert_cmphex(data[2], ==, 0xff);
    g_assert_cmphex(data[3], ==, 0xff);
    g_array_free(r.ops, TRUE);
    as_free(as);
}

/* How many times fd was signalled since the last call (non-blocking). */
static uint64_t drain(int fd)
{
    uint64_t n = 0;

    if (read(fd, &n, sizeof(n)) != sizeof(n)) {
        return 0;
    }
    return n;
}

/* Doorbells without an accelerator: as_write signals the eventfd itself
 * for a write of the registered size (and value), the region's handler
 * gets everything else. */
static void test_eventfd_software(void)
{
    struct address_space *as = as_new("t", NULL);
    struct rec r = {g_array_new(FALSE, TRUE, sizeof(struct op)), as, 0};
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), fd2;
    Error *err = NULL;
    uint16_t q = 3;
    uint32_t w = 3;

    g_assert_cmpint(fd, >=, 0);
    fd2 = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g_assert_true(as_map(as, 0x1000, 0x100, &ops_1_4, &r, NULL, "n", &err));
    g_assert_true(as_add_eventfd(as, 0x1010, 2, false, 0, fd, &err));
    g_assert_true(as_add_eventfd(as, 0x1020, 4, true, 7, fd2, &err));
    as_write(as, 0x1010, &q, 2);
    as_write(as, 0x1010, &q, 2);
    g_assert_cmpuint(drain(fd), ==, 2);
    g_assert_cmpuint(r.ops->len, ==, 0);
    /* another size: the register's handler */
    as_write(as, 0x1010, &w, 4);
    g_assert_cmpuint(drain(fd), ==, 0);
    g_assert_cmpuint(r.ops->len, ==, 1);
    /* datamatch: only the value 7 rings */
    as_write(as, 0x1020, &w, 4);
    g_assert_cmpuint(drain(fd2), ==, 0);
    g_assert_cmpuint(r.ops->len, ==, 2);
    w = 7;
    as_write(as, 0x1020, &w, 4);
    g_assert_cmpuint(drain(fd2), ==, 1);
    /* reads are never doorbells */
    as_read(as, 0x1010, &q, 2);
    g_assert_cmpuint(drain(fd), ==, 0);
    /* refused: twice the same, a bad size; removed: the handler again */
    g_assert_false(as_add_eventfd(as, 0x1010, 2, false, 0, fd, &err));
    error_free(err);
    err = NULL;
    g_assert_false(as_add_eventfd(as, 0x1030, 3, false, 0, fd, &err));
    error_free(err);
    err = NULL;
    g_assert_true(as_del_eventfd(as, 0x1010, 2, false, 0, fd));
    g_assert_false(as_del_eventfd(as, 0x1010, 2, false, 0, fd));
    as_write(as, 0x1010, &q, 2);
    g_assert_cmpuint(drain(fd), ==, 0);
    g_assert_cmpuint(r.ops->len, ==, 4);
    g_array_free(r.ops, TRUE);
    as_free(as);
    close(fd);
    close(fd2);
}

struct fake_listener {
    GString *log;
    bool refuse;
};

static bool fake_update(void *opaque, uint64_t addr, unsigned len,
                        bool datamatch, uint64_t data, int fd, bool assign,
                        Error **errp)
{
    struct fake_listener *l = opaque;

    g_string_append_printf(l->log, "%s 0x%" PRIx64 "+%u%s;",
                           assign ? "add" : "del", addr, len,
                           datamatch ? " =" : "");
    if (l->refuse) {
        error_setg(errp, "refused");
        return false;
    }
    return true;
}

static const struct as_eventfd_listener fake_listener_ops = {fake_update};

/* With an accelerator the kernel takes the write; if it refuses, the
 * software path still works. */
static void test_eventfd_listener(void)
{
    struct address_space *as = as_new("t", NULL);
    struct fake_listener l = {g_string_new(NULL), false};
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    uint16_t q = 1;

    as_set_eventfd_listener(as, &fake_listener_ops, &l);
    g_assert_true(as_add_eventfd(as, 0x10, 2, true, 1, fd, NULL));
    /* (a write reaching us would be the kernel's business: not signalled) */
    as_write(as, 0x10, &q, 2);
    g_assert_cmpuint(drain(fd), ==, 0);
    g_assert_true(as_del_eventfd(as, 0x10, 2, true, 1, fd));
    g_assert_cmpstr(l.log->str, ==, "add 0x10+2 =;del 0x10+2 =;");
    l.refuse = true;
    g_assert_true(as_add_eventfd(as, 0x20, 2, false, 0, fd, NULL));
    as_write(as, 0x20, &q, 2);
    g_assert_cmpuint(drain(fd), ==, 1);
    /* never given to the listener, so not taken back from it */
    g_string_truncate(l.log, 0);
    g_assert_true(as_del_eventfd(as, 0x20, 2, false, 0, fd));
    g_assert_cmpstr(l.log->str, ==, "");
    g_string_free(l.log, TRUE);
    as_free(as);
    close(fd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/unmapped", test_unmapped);
    g_test_add_func("/memory/lookup-overlap", test_lookup_and_overlap);
    g_test_add_func("/memory/split-wide-write", test_split_wide_write);
    g_test_add_func("/memory/widen-narrow-read", test_widen_narrow_read);
    g_test_add_func("/memory/misaligned-min-size", test_misaligned_min_size);
    g_test_add_func("/memory/reentry-refused", test_reentry_refused);
    g_test_add_func("/memory/straddle-end", test_straddle_end);
    g_test_add_func("/memory/eventfd-software", test_eventfd_software);
    g_test_add_func("/memory/eventfd-listener", test_eventfd_listener);
    return g_test_run();
}
