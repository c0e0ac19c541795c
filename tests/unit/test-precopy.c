/* SPDX-License-Identifier: MIT */
/*
 * test-precopy.c: live migration's dirty tracking and pass loop on the
 * fake KVM backend (tests/unit/fake-kvm.h): KVM's dirty log as
 * accel/kvm/dirty.c reads and re-arms it (with and without
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), vireo's own writes, and
 * migration/precopy.c: pages written between passes are sent again and
 * the destination ends with the source's RAM, the loop stops at the
 * downtime limit or the pass limit, a cancel leaves logging off and a
 * stream the destination refuses.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "fake-kvm.h"
#include "migration/precopy.h"
#include "migration/savevm.h"
#include "system/guest-mem.h"

#include <sys/mman.h>
#include <unistd.h>

#define RAM_LOW (2 * MiB)
#define RAM_SIZE (4 * MiB)
#define HIGH_GPA (4ULL * GiB)
#define PAGE 4096u

struct env {
    struct fake_kvm f;
    struct guest_mem *gm;
};

/* RAM in two slots whose RAM offsets differ from their gpas, as on a
 * board with RAM above 4 GiB. */
static struct guest_mem *new_ram(void)
{
    struct guest_mem *gm = gm_new(RAM_SIZE, NULL);

    g_assert_true(gm_add_ram(gm, 0, 0, RAM_LOW, "low", NULL));
    g_assert_true(
        gm_add_ram(gm, HIGH_GPA, RAM_LOW, RAM_SIZE - RAM_LOW, "high", NULL));
    return gm;
}

static void env_init(struct env *e, bool manual)
{
    fake_kvm_init(&e->f);
    e->f.accel.vm_fd = FAKE_VM_FD;
    e->f.accel.nr_slots = FAKE_MAX_SLOTS;
    e->f.manual_dirty_cap = manual;
    e->gm = new_ram();
    g_assert_true(kvm_set_memory(&e->f.accel, e->gm, NULL));
}

static void env_fini(struct env *e)
{
    gm_free(e->gm);
    fake_kvm_destroy(&e->f);
}

static bool bit(const unsigned long *b, uint64_t i)
{
    return b[i / (sizeof(long) * 8)] & (1UL << (i % (sizeof(long) * 8)));
}

static unsigned count(const unsigned long *b, uint64_t n)
{
    unsigned c = 0;

    for (uint64_t i = 0; i < n; i++) {
        c += bit(b, i);
    }
    return c;
}

static void check_dirty_log(gconstpointer manual_p)
{
    bool manual = GPOINTER_TO_INT(manual_p);
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    struct env e;

    env_init(&e, manual);
    /* before logging: KVM records nothing */
    fake_kvm_dirty(&e.f, 0x3000);
    g_assert_true(kvm_dirty_log_start(&e.f.accel, e.gm, NULL));
    g_assert_true(fake_kvm_logging(&e.f));
    g_assert_cmpuint(fake_kvm_count(&e.f, KVM_ENABLE_CAP), ==, manual);
    g_assert_cmpuint(e.f.slots[0].flags & KVM_MEM_LOG_DIRTY_PAGES, !=, 0);
    g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 0);

    g_assert_true(fake_kvm_dirty(&e.f, 0x3000));
    g_assert_true(fake_kvm_dirty(&e.f, HIGH_GPA + 0x1000));
    fake_kvm_clear_log(&e.f);
    g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
    /* by RAM offset: the high slot starts at RAM offset 2 MiB */
    g_assert_true(bit(bm, 3));
    g_assert_true(bit(bm, RAM_LOW / PAGE + 1));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 2);
    g_assert_cmpuint(fake_kvm_count(&e.f, KVM_GET_DIRTY_LOG), ==, 2);
    /* manual protection: each slot with a dirty page is cleared */
    g_assert_cmpuint(fake_kvm_count(&e.f, KVM_CLEAR_DIRTY_LOG), ==,
                     manual ? 2 : 0);
    /* the log was re-armed: a second sync reports nothing new */
    memset(bm, 0, sizeof(bm));
    g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 0);

    g_assert_true(kvm_dirty_log_stop(&e.f.accel, e.gm, NULL));
    g_assert_false(fake_kvm_logging(&e.f));
    env_fini(&e);
}

/* A refused KVM_GET_DIRTY_LOG is an error naming the ioctl and slot. */
static void test_dirty_log_error(void)
{
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    Error *err = NULL;
    struct env e;

    env_init(&e, true);
    g_assert_true(kvm_dirty_log_start(&e.f.accel, e.gm, NULL));
    fake_kvm_fail(&e.f, KVM_CLEAR_DIRTY_LOG, 1, EFAULT);
    fake_kvm_dirty(&e.f, 0);
    g_assert_false(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "KVM_CLEAR_DIRTY_LOG"));
    g_assert_nonnull(strstr(error_get_pretty(err), "slot 0"));
    error_free(err);
    env_fini(&e);
}

/* vireo's own writes (DMA, loaders) are counted while logging is on. */
static void test_userspace_dirty(void)
{
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    struct guest_mem *gm = new_ram();
    uint32_t v = 1;

    g_assert_true(gm_write(gm, 0x5000, &v, 4));
    gm_dirty_start(gm);
    gm_dirty_collect(gm, bm);
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 0);
    /* a write across a page boundary marks both pages */
    g_assert_true(gm_write(gm, HIGH_GPA + 0x2ffe, &v, 4));
    g_assert_nonnull(gm_map(gm, 0x7000, 8, true));
    gm_mark_dirty_hva(gm, gm->ram + 0x9000, 1);
    gm_dirty_collect(gm, bm);
    g_assert_true(bit(bm, RAM_LOW / PAGE + 2));
    g_assert_true(bit(bm, RAM_LOW / PAGE + 3));
    g_assert_true(bit(bm, 7));
    g_assert_true(bit(bm, 9));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 4);
    /* collected means cleared; a stopped log records nothing */
    memset(bm, 0, sizeof(bm));
    gm_dirty_stop(gm);
    g_assert_true(gm_write(gm, 0x5000, &v, 4));
    gm_dirty_collect(gm, bm);
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 0);
    gm_free(gm);
}

/* ---- the pass loop ---- */

struct run {
    struct env e;
    struct precopy p;
    struct savevm *sv;
    int fd;
    unsigned dirty_until; /* on_pass writes pages through this pass */
    unsigned cancel_at;
    unsigned passes;
};

/* The guest (and a device) write between passes. */
static void on_pass(void *opaque, unsigned pass)
{
    struct run *r = opaque;
    uint32_t v = 0xd0d0 + pass;

    r->passes = pass;
    if (pass <= r->dirty_until) {
        uint64_t off = (pass * 37 % (RAM_SIZE / PAGE)) * PAGE;

        /* the guest writes a page (KVM reports it) */
        memset(r->e.gm->ram + off, (int)pass, 64);
        fake_kvm_dirty(&r->e.f, off < RAM_LOW ? off : HIGH_GPA + off - RAM_LOW);
        /* a device completes into guest RAM, and a page becomes zero */
        g_assert_true(gm_write(r->e.gm, 0x1000 + pass * 8, &v, 4));
        memset(r->e.gm->ram + RAM_LOW, 0, PAGE);
        fake_kvm_dirty(&r->e.f, HIGH_GPA);
    }
    if (pass == r->cancel_at) {
        precopy_cancel(&r->p);
    }
}

static void run_init(struct run *r, unsigned dirty_until, int64_t limit_ms)
{
    memset(r, 0, sizeof(*r));
    env_init(&r->e, true);
    /* data, zero and partly written pages */
    for (uint64_t off = 0; off < RAM_SIZE; off += 3 * PAGE) {
        memset(r->e.gm->ram + off, (int)(off / PAGE) | 1, 100);
    }
    r->sv = savevm_new("test");
    savevm_register_ram(r->sv, r->e.gm);
    r->fd = memfd_create("precopy-stream", MFD_CLOEXEC);
    g_assert_cmpint(r->fd, >=, 0);
    r->dirty_until = dirty_until;
    r->p.downtime_limit_ms = limit_ms;
    r->p.on_pass = on_pass;
    r->p.opaque = r;
    g_assert_true(
        precopy_start(&r->p, r->e.gm, &r->e.f.accel, r->sv, r->fd, NULL));
    g_assert_true(fake_kvm_logging(&r->e.f));
}

static void run_fini(struct run *r)
{
    precopy_finish(&r->p);
    g_assert_false(fake_kvm_logging(&r->e.f));
    g_assert_false(g_atomic_int_get(&r->e.gm->logging));
    savevm_free(r->sv);
    close(r->fd);
    env_fini(&r->e);
}

/* Loads the stream into a fresh RAM of the same size. */
static bool load_stream(int fd, struct guest_mem **out, Error **errp)
{
    struct guest_mem *gm = new_ram();
    struct savevm *sv = savevm_new("test");
    struct mig_reader rd;
    bool ok;

    savevm_register_ram(sv, gm);
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    mig_reader_init_fd(&rd, fd);
    ok = savevm_load(sv, &rd, errp);
    mig_reader_fini(&rd);
    savevm_free(sv);
    if (!ok) {
        gm_free(gm);
        return false;
    }
    *out = gm;
    return true;
}

static void test_resend(void)
{
    struct precopy_progress pr;
    struct guest_mem *dst;
    struct run r;

    /* limit 0: only a pass with nothing dirty converges */
    run_init(&r, 3, 0);
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    /* passes 1-3 wrote; 4 and 5 re-sent; the sync after pass 5 is clean */
    g_assert_cmpuint(r.passes, ==, 5);
    precopy_get_progress(&r.p, &pr);
    g_assert_cmpuint(pr.dirty_sync_count, ==, 5);
    g_assert_cmpuint(pr.remaining, ==, 0);
    /* the stopped phase: a last write is sent too */
    memset(r.e.gm->ram + 5 * PAGE, 0x55, PAGE);
    fake_kvm_dirty(&r.e.f, 5 * PAGE);
    g_assert_true(precopy_complete(&r.p, NULL));
    precopy_get_progress(&r.p, &pr);
    g_assert_cmpuint(pr.transferred, >, RAM_SIZE / 3);
    g_assert_cmpuint(pr.stats.zero_pages, >, 0);
    g_assert_cmpuint(pr.stats.data_pages, >=, RAM_SIZE / PAGE / 3);
    g_assert_true(load_stream(r.fd, &dst, NULL));
    g_assert_cmpint(memcmp(dst->ram, r.e.gm->ram, RAM_SIZE), ==, 0);
    gm_free(dst);
    run_fini(&r);
}

/* A guest that never stops writing: the loop ends at max_passes. */
static void test_pass_limit(void)
{
    struct guest_mem *dst;
    struct run r;

    run_init(&r, 1000, 0);
    r.p.max_passes = 4;
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    g_assert_cmpuint(r.passes, ==, 5);
    g_assert_true(precopy_complete(&r.p, NULL));
    g_assert_true(load_stream(r.fd, &dst, NULL));
    g_assert_cmpint(memcmp(dst->ram, r.e.gm->ram, RAM_SIZE), ==, 0);
    gm_free(dst);
    run_fini(&r);
}

/* A generous downtime limit: the first sync's few pages fit. */
static void test_downtime_limit(void)
{
    struct precopy_progress pr;
    struct run r;

    run_init(&r, 1000, 100000);
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    g_assert_cmpuint(r.passes, ==, 2);
    precopy_get_progress(&r.p, &pr);
    g_assert_cmpuint(pr.remaining, >, 0); /* left for the stopped phase */
    g_assert_cmpuint(pr.expected_downtime, <=, 100000);
    g_assert_true(precopy_complete(&r.p, NULL));
    run_fini(&r);
}

/* Cancel between passes and in a throttled first pass: logging is off
 * afterwards and the partial stream is refused. */
static void test_cancel(gconstpointer at_p)
{
    unsigned at = GPOINTER_TO_UINT(at_p);
    struct guest_mem *dst = NULL;
    Error *err = NULL;
    struct run r;

    run_init(&r, 1000, 0);
    r.cancel_at = at;
    g_assert_cmpint(precopy_run(&r.p, &err), ==, PRECOPY_CANCELLED);
    g_assert_nonnull(strstr(error_get_pretty(err), "cancelled"));
    g_clear_pointer(&err, error_free);
    g_assert_false(load_stream(r.fd, &dst, &err));
    g_assert_nonnull(err);
    error_free(err);
    run_fini(&r);
}

/* max-bandwidth: the live phase takes at least bytes / bandwidth (a
 * lower bound only: never an upper bound on a shared machine). */
static void test_throttle(void)
{
    struct precopy_progress pr;
    struct run r;
    gint64 t0 = g_get_monotonic_time();

    run_init(&r, 0, 1000);
    r.p.max_bandwidth = 8 * MiB;
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    precopy_get_progress(&r.p, &pr);
    g_assert_cmpuint(pr.transferred, >, 1 * MiB);
    /* the last section may end the run before its sleep is due */
    g_assert_cmpint(g_get_monotonic_time() - t0, >=,
                    (gint64)((pr.transferred - PRECOPY_STEP - 64 * KiB) *
                             1000000.0 / (8 * MiB)));
    g_assert_true(precopy_complete(&r.p, NULL));
    run_fini(&r);
}

/* A "ram-dirty" section before the "ram" sections covered RAM is
 * refused by name; after them it is applied over the first pass. */
static void test_ram_dirty_order(void)
{
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    struct guest_mem *src = new_ram(), *dst = NULL;
    struct savevm *sv = savevm_new("test");
    int fd = memfd_create("ram-dirty", MFD_CLOEXEC);
    struct mig_writer w;
    uint64_t page = 0;
    Error *err = NULL;

    savevm_register_ram(sv, src);
    memset(src->ram + 7 * PAGE, 0x77, PAGE);
    bm[0] = 1UL << 7;
    mig_writer_init(&w, fd);
    g_assert_true(savevm_save_begin(sv, &w, SAVEVM_RAM_STREAM, NULL));
    g_assert_true(savevm_save_ram_dirty(sv, &w, bm, &page, NULL));
    g_assert_cmpuint(page, ==, RAM_SIZE / PAGE);
    g_assert_cmpuint(bm[0], ==, 0); /* sent: cleared */
    g_assert_true(savevm_save_ram_range(sv, &w, 0, RAM_SIZE / 2, NULL));
    g_assert_true(
        savevm_save_ram_range(sv, &w, RAM_SIZE / 2, RAM_SIZE / 2, NULL));
    g_assert_true(savevm_save_end(sv, &w, NULL));
    mig_writer_finish(&w, NULL);
    g_assert_false(load_stream(fd, &dst, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "section 'ram-dirty'"));
    g_assert_nonnull(strstr(error_get_pretty(err), "comes before"));
    g_clear_pointer(&err, error_free);

    /* the right order: the dirty page replaces the first pass's zero */
    g_assert_cmpint(ftruncate(fd, 0), ==, 0);
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    memset(src->ram + 7 * PAGE, 0, PAGE);
    mig_writer_init(&w, fd);
    g_assert_true(savevm_save_begin(sv, &w, SAVEVM_RAM_STREAM, NULL));
    g_assert_true(savevm_save_ram_range(sv, &w, 0, RAM_SIZE, NULL));
    memset(src->ram + 7 * PAGE, 0x77, PAGE);
    bm[0] = 1UL << 7;
    page = 0;
    g_assert_true(savevm_save_ram_dirty(sv, &w, bm, &page, NULL));
    g_assert_true(savevm_save_end(sv, &w, NULL));
    mig_writer_finish(&w, NULL);
    g_assert_true(load_stream(fd, &dst, NULL));
    g_assert_cmpint(memcmp(dst->ram, src->ram, RAM_SIZE), ==, 0);
    g_assert_cmpuint(dst->ram[7 * PAGE], ==, 0x77);
    gm_free(dst);
    savevm_free(sv);
    gm_free(src);
    close(fd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/precopy/dirty-log/manual", GINT_TO_POINTER(1),
                         check_dirty_log);
    g_test_add_data_func("/precopy/dirty-log/plain", GINT_TO_POINTER(0),
                         check_dirty_log);
    g_test_add_func("/precopy/dirty-log/error", test_dirty_log_error);
    g_test_add_func("/precopy/userspace-dirty", test_userspace_dirty);
    g_test_add_func("/precopy/resend", test_resend);
    g_test_add_func("/precopy/pass-limit", test_pass_limit);
    g_test_add_func("/precopy/downtime-limit", test_downtime_limit);
    g_test_add_data_func("/precopy/cancel/first-pass", GUINT_TO_POINTER(1),
                         test_cancel);
    g_test_add_data_func("/precopy/cancel/later-pass", GUINT_TO_POINTER(3),
                         test_cancel);
    g_test_add_func("/precopy/throttle", test_throttle);
    g_test_add_func("/precopy/ram-dirty-order", test_ram_dirty_order);
    return g_test_run();
}
