/* SPDX-License-Identifier: MIT */
/*
 * test-precopy.c: live migration's dirty tracking and pass loop on the
 * fake KVM backend (tests/unit/fake-kvm.h): KVM's dirty log as
 * accel/kvm/dirty.c reads and re-arms it (with and without
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), vireo's own writes, and
 * migration/precopy.c: pages written between passes are sent again and
 * the destination ends with the source's RAM, the loop stops at the
 * downtime limit or the pass limit, a cancel leaves logging off and a
 * stream the destination refuses.  KVM's dirty ring: when it is enabled
 * and with what size, harvesting across vCPUs and slots, hostile
 * entries, a vCPU's KVM_EXIT_DIRTY_RING_FULL, and the pass loop on it.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "fake-kvm.h"
#include "accel/kvm/vcpu.h"
#include "migration/precopy.h"
#include "migration/savevm.h"
#include "system/guest-mem.h"
#include "target-i386/cpu.h"

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

/* KVM's largest ring (KVM_DIRTY_RING_MAX_ENTRIES), as the cap reports */
#define RING_MAX_BYTES (65536 * 16)
/* entries per vCPU in the ring tests: KVM's smallest, soft-full at 192 */
#define RING 256
/* a second vCPU's fd (only its ring is used) */
#define VCPU1_FD 77

/* A KVM offering both ring capabilities (as x86 from Linux 6.1), the
 * ring on with RING entries, two vCPUs. */
static void ring_env_init(struct env *e)
{
    env_init(e, true); /* manual protection offered too: unused */
    e->f.ring_cap_plain = e->f.ring_cap_acq_rel = true;
    e->f.ring_max = RING_MAX_BYTES;
    g_assert_true(kvm_dirty_ring_enable(&e->f.accel, RING, NULL));
    g_assert_cmpuint(e->f.ring_bytes, ==, RING * 16);
    g_assert_true(kvm_dirty_ring_add_vcpu(&e->f.accel, FAKE_VCPU_FD, 0, NULL));
    g_assert_true(kvm_dirty_ring_add_vcpu(&e->f.accel, VCPU1_FD, 1, NULL));
}

/* A guest write as KVM reports it: through the ring of vCPU `vcpu`
 * when the ring is on, else in the slot bitmap. */
static void guest_dirty(struct env *e, unsigned vcpu, uint64_t gpa)
{
    if (e->f.accel.dirty_ring_entries) {
        fake_kvm_ring_write(&e->f, vcpu % 2 ? VCPU1_FD : FAKE_VCPU_FD, gpa);
    } else {
        fake_kvm_dirty(&e->f, gpa);
    }
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

/* How check_dirty_log's KVM looks: the bitmap path in each case. */
enum log_mode {
    LOG_PLAIN,    /* KVM_GET_DIRTY_LOG only */
    LOG_MANUAL,   /* with KVM_CLEAR_DIRTY_LOG */
    LOG_RING_OFF, /* the ring offered, dirty-ring-size=0 */
    LOG_NO_RING,  /* no ring capability, the default size asked */
};

static void check_dirty_log(gconstpointer mode_p)
{
    enum log_mode mode = GPOINTER_TO_INT(mode_p);
    bool manual = mode != LOG_PLAIN;
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    struct env e;

    env_init(&e, manual);
    if (mode == LOG_RING_OFF) {
        e.f.ring_cap_plain = e.f.ring_cap_acq_rel = true;
        e.f.ring_max = RING_MAX_BYTES;
    }
    if (mode >= LOG_RING_OFF) {
        g_assert_true(kvm_dirty_ring_enable(
            &e.f.accel, mode == LOG_RING_OFF ? 0 : -1, NULL));
        g_assert_true(kvm_dirty_ring_add_vcpu(&e.f.accel, FAKE_VCPU_FD, 0,
                                              NULL)); /* no ring to map */
        g_assert_cmpuint(e.f.ring_bytes, ==, 0);
        g_assert_cmpuint(e.f.nrings, ==, 0);
    }
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

/* ---- KVM's dirty ring ---- */

/* What kvm_dirty_ring_enable() does on a KVM offering the plain and/or
 * ACQ_REL capability with max_entries at most: the entries enabled (0:
 * the bitmap stays), or -1 with the error's text in *msg. */
static int64_t ring_enable(bool plain, bool acq_rel, uint32_t max_entries,
                           int64_t want, char **msg)
{
    struct fake_kvm f;
    Error *err = NULL;
    int64_t got = -1;

    fake_kvm_init(&f);
    f.accel.vm_fd = FAKE_VM_FD;
    f.ring_cap_plain = plain;
    f.ring_cap_acq_rel = acq_rel;
    f.ring_max = max_entries * 16;
    if (kvm_dirty_ring_enable(&f.accel, want, &err)) {
        got = f.accel.dirty_ring_entries;
        /* what KVM was told, when anything */
        g_assert_cmpuint(f.ring_bytes, ==, got * 16);
        g_assert_cmpuint(fake_kvm_count(&f, KVM_ENABLE_CAP), ==, got != 0);
    } else {
        *msg = g_strdup(error_get_pretty(err));
        error_free(err);
        g_assert_cmpuint(f.ring_bytes, ==, 0);
    }
    fake_kvm_destroy(&f);
    return got;
}

static void test_ring_enable(void)
{
    char *msg = NULL;

    /* the default: on with 4096 entries where ACQ_REL is offered, off
     * with only the plain capability (older kernels) or none */
    g_assert_cmpint(ring_enable(true, true, 65536, -1, NULL), ==, 4096);
    g_assert_cmpint(ring_enable(false, true, 65536, -1, NULL), ==, 4096);
    g_assert_cmpint(ring_enable(true, false, 65536, -1, NULL), ==, 0);
    g_assert_cmpint(ring_enable(false, false, 0, -1, NULL), ==, 0);
    /* ... within KVM's maximum */
    g_assert_cmpint(ring_enable(false, true, 1024, -1, NULL), ==, 1024);
    g_assert_cmpint(ring_enable(false, true, 128, -1, NULL), ==, 0);
    /* a size asked for: either capability; none is a warning (QEMU's) */
    g_assert_cmpint(ring_enable(true, false, 65536, 1024, NULL), ==, 1024);
    g_assert_cmpint(ring_enable(true, true, 65536, 65536, NULL), ==, 65536);
    g_assert_cmpint(ring_enable(false, false, 0, 1024, NULL), ==, 0);
    g_assert_cmpint(ring_enable(true, true, 65536, 0, NULL), ==, 0);
    /* refused sizes */
    g_assert_cmpint(ring_enable(true, true, 65536, 1000, &msg), ==, -1);
    g_assert_cmpstr(msg, ==, "dirty-ring-size must be a power of two.");
    g_free(msg);
    g_assert_cmpint(ring_enable(true, true, 65536, 131072, &msg), ==, -1);
    g_assert_cmpstr(msg, ==,
                    "dirty-ring-size 131072 is too big (this KVM's maximum "
                    "is 65536)");
    g_free(msg);
    g_assert_cmpint(ring_enable(true, true, 65536, 128, &msg), ==, -1);
    g_assert_nonnull(strstr(msg, "dirty-ring-size 128 is too small"));
    g_free(msg);
}

/* KVM refuses the ring once a vCPU exists; vireo says so first. */
static void test_ring_after_vcpu(void)
{
    Error *err = NULL;
    struct env e;

    ring_env_init(&e);
    g_assert_false(kvm_dirty_ring_enable(&e.f.accel, 1024, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "before any vCPU"));
    error_free(err);
    env_fini(&e);
}

static void test_ring_harvest(void)
{
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    struct env e;

    ring_env_init(&e);
    /* not logging: KVM pushes nothing */
    g_assert_false(fake_kvm_ring_write(&e.f, FAKE_VCPU_FD, 0x3000));
    g_assert_true(kvm_dirty_log_start(&e.f.accel, e.gm, NULL));
    g_assert_true(fake_kvm_logging(&e.f));
    /* the ring only: no manual protection enabled */
    g_assert_cmpuint(fake_kvm_count(&e.f, KVM_ENABLE_CAP), ==, 1);

    g_assert_true(fake_kvm_ring_write(&e.f, FAKE_VCPU_FD, 0x3000));
    g_assert_true(fake_kvm_ring_write(&e.f, FAKE_VCPU_FD, HIGH_GPA + 0x1000));
    g_assert_true(fake_kvm_ring_write(&e.f, VCPU1_FD, 0x5000));
    /* still writable: KVM does not push the page again */
    g_assert_false(fake_kvm_ring_write(&e.f, VCPU1_FD, HIGH_GPA + 0x1000));
    g_assert_true(fake_kvm_ring_write(&e.f, VCPU1_FD, HIGH_GPA + 0x10000));
    g_assert_cmpuint(fake_kvm_ring_used(&e.f, VCPU1_FD), ==, 2);
    g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
    /* by RAM offset, exactly the pages pushed */
    g_assert_true(bit(bm, 3));
    g_assert_true(bit(bm, 5));
    g_assert_true(bit(bm, RAM_LOW / PAGE + 1));
    g_assert_true(bit(bm, RAM_LOW / PAGE + 16));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 4);
    /* every entry reset, in one KVM_RESET_DIRTY_RINGS */
    g_assert_cmpuint(e.f.ring_resets, ==, 4);
    g_assert_cmpuint(fake_kvm_ring_used(&e.f, FAKE_VCPU_FD), ==, 0);
    g_assert_cmpuint(fake_kvm_ring_used(&e.f, VCPU1_FD), ==, 0);
    g_assert_cmpuint(fake_kvm_count(&e.f, KVM_RESET_DIRTY_RINGS), ==, 1);
    g_assert_cmpuint(fake_kvm_count(&e.f, KVM_GET_DIRTY_LOG), ==, 0);

    /* nothing new: nothing reported, no reset */
    memset(bm, 0, sizeof(bm));
    g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 0);
    g_assert_cmpuint(fake_kvm_count(&e.f, KVM_RESET_DIRTY_RINGS), ==, 1);
    /* re-protected: the next write is pushed and reported again, and the
     * ring wraps around */
    for (unsigned i = 0; i < RING + 10; i++) {
        g_assert_true(
            fake_kvm_ring_write(&e.f, i % 2 ? VCPU1_FD : FAKE_VCPU_FD, 0x3000));
        g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
        g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 1);
        g_assert_true(bit(bm, 3));
        memset(bm, 0, sizeof(bm));
    }

    /* stop: logging off, and what is left in a ring is drained */
    g_assert_true(fake_kvm_ring_write(&e.f, VCPU1_FD, 0x7000));
    g_assert_true(kvm_dirty_log_stop(&e.f.accel, e.gm, NULL));
    g_assert_false(fake_kvm_logging(&e.f));
    g_assert_cmpuint(fake_kvm_ring_used(&e.f, VCPU1_FD), ==, 0);
    g_assert_null(e.f.accel.ring_pending);
    /* a new migration starts from a clean ring */
    g_assert_true(kvm_dirty_log_start(&e.f.accel, e.gm, NULL));
    g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 0);
    g_assert_true(kvm_dirty_log_stop(&e.f.accel, e.gm, NULL));
    env_fini(&e);
}

/* What this thread writes to stderr between the two calls. */
static int stderr_capture_begin(int *saved)
{
    int fd = memfd_create("stderr", MFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    fflush(stderr);
    *saved = dup(STDERR_FILENO);
    g_assert_cmpint(dup2(fd, STDERR_FILENO), ==, STDERR_FILENO);
    return fd;
}

static char *stderr_capture_end(int fd, int saved)
{
    char buf[512] = {0};

    fflush(stderr);
    g_assert_cmpint(dup2(saved, STDERR_FILENO), ==, STDERR_FILENO);
    close(saved);
    g_assert_cmpint(pread(fd, buf, sizeof(buf) - 1, 0), >=, 0);
    close(fd);
    return g_strdup(buf);
}

/* Entries KVM could not have pushed are dropped (and logged), the rest
 * still counts, and the ring is reset past them. */
static void test_ring_hostile(void)
{
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    int saved, cap;
    char *log;
    struct env e;

    ring_env_init(&e);
    g_assert_true(kvm_dirty_log_start(&e.f.accel, e.gm, NULL));
    /* a slot vireo never made, an offset past the low slot (512 pages),
     * address space 1 (SMM), a huge offset, then a good entry */
    g_assert_true(fake_kvm_ring_push_raw(&e.f, FAKE_VCPU_FD, 7, 0));
    g_assert_true(fake_kvm_ring_push_raw(&e.f, FAKE_VCPU_FD, 0, 512));
    g_assert_true(fake_kvm_ring_push_raw(&e.f, VCPU1_FD, 1u << 16, 1));
    g_assert_true(fake_kvm_ring_push_raw(&e.f, VCPU1_FD, 1, UINT64_MAX));
    g_assert_true(fake_kvm_ring_push_raw(&e.f, VCPU1_FD, 1, 3));
    cap = stderr_capture_begin(&saved);
    g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
    log = stderr_capture_end(cap, saved);
    g_assert_nonnull(strstr(log, "KVM dirty ring: ignored 4 entries naming "
                                 "no RAM page (first: slot 7 of address "
                                 "space 0, offset 0x0)"));
    g_free(log);
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, 1);
    g_assert_true(bit(bm, RAM_LOW / PAGE + 3));
    g_assert_cmpuint(e.f.ring_resets, ==, 5);
    g_assert_cmpuint(fake_kvm_ring_used(&e.f, FAKE_VCPU_FD), ==, 0);
    g_assert_cmpuint(fake_kvm_ring_used(&e.f, VCPU1_FD), ==, 0);
    g_assert_true(kvm_dirty_log_stop(&e.f.accel, e.gm, NULL));
    env_fini(&e);
}

/* A refused KVM_RESET_DIRTY_RINGS is an error naming it; the pages were
 * recorded, and the reset is owed to the next harvest. */
static void test_ring_reset_error(void)
{
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    Error *err = NULL;
    struct env e;

    ring_env_init(&e);
    g_assert_true(kvm_dirty_log_start(&e.f.accel, e.gm, NULL));
    g_assert_true(fake_kvm_ring_write(&e.f, FAKE_VCPU_FD, 0x3000));
    fake_kvm_fail(&e.f, KVM_RESET_DIRTY_RINGS, 1, EIO);
    g_assert_false(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "KVM_RESET_DIRTY_RINGS"));
    error_free(err);
    g_assert_cmpuint(fake_kvm_ring_used(&e.f, FAKE_VCPU_FD), ==, 1);
    g_assert_true(kvm_dirty_log_sync(&e.f.accel, e.gm, bm, NULL));
    g_assert_true(bit(bm, 3));
    g_assert_cmpuint(fake_kvm_ring_used(&e.f, FAKE_VCPU_FD), ==, 0);
    g_assert_true(kvm_dirty_log_stop(&e.f.accel, e.gm, NULL));
    env_fini(&e);
}

/* A vCPU thread on the fake KVM with the ring on. */
struct ring_vcpu {
    struct env e;
    struct x86_cpu_model *model;
    struct vcpu_env venv;
    struct vcpu cpu;
    struct kvm_run run;
    GMutex lock;
    GCond cond;
    unsigned requests[VCPU_REQ_FATAL + 1];
};

static void ring_request(void *opaque, enum vcpu_request req)
{
    struct ring_vcpu *t = opaque;

    g_mutex_lock(&t->lock);
    t->requests[req]++;
    g_cond_broadcast(&t->cond);
    g_mutex_unlock(&t->lock);
}

static void ring_vcpu_init(struct ring_vcpu *t)
{
    Error *err = NULL;

    memset(t, 0, sizeof(*t));
    ring_env_init(&t->e);
    g_mutex_init(&t->lock);
    g_cond_init(&t->cond);
    t->model = x86_cpu_model_new(&t->e.f.accel, "qemu64", 1, 1, 1, 1, &err);
    g_assert_null(err);
    t->venv.kvm = &t->e.f.accel;
    t->venv.request = ring_request;
    t->venv.opaque = t;
    t->cpu.env = &t->venv;
    t->cpu.fd = FAKE_VCPU_FD;
    t->cpu.run = &t->run;
    g_mutex_init(&t->cpu.lock);
    g_cond_init(&t->cpu.cond);
    t->cpu.want_pause = true;
    t->cpu.pending_reset = true; /* as vcpu_new leaves it */
    t->cpu.arch = x86_cpu_new(&t->e.f.accel, FAKE_VCPU_FD, 0, t->model, &err);
    g_assert_null(err);
    /* the guest's run ends in a triple fault: the vCPU parks itself */
    t->e.f.run = &t->run;
    t->e.f.run_exit = KVM_EXIT_SHUTDOWN;
    g_assert_true(kvm_dirty_log_start(&t->e.f.accel, t->e.gm, NULL));
    /* the guest wrote a soft-full ring's worth of pages */
    for (unsigned i = 0; i < RING - FAKE_RING_RSVD; i++) {
        g_assert_true(fake_kvm_ring_write(&t->e.f, FAKE_VCPU_FD, i * PAGE));
    }
}

/* Runs the vCPU until it asks something of the machine. */
static void ring_vcpu_run(struct ring_vcpu *t)
{
    gint64 end = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
    unsigned n = 0;

    g_assert_true(vcpu_start(&t->cpu, NULL));
    vcpu_resume(&t->cpu);
    g_mutex_lock(&t->lock);
    while (!n && g_get_monotonic_time() < end) {
        g_cond_wait_until(&t->cond, &t->lock, end);
        n = t->requests[VCPU_REQ_RESET] + t->requests[VCPU_REQ_FATAL];
    }
    g_mutex_unlock(&t->lock);
    g_assert_cmpuint(n, ==, 1); /* not hung */
    vcpu_stop_thread(&t->cpu);
}

static void ring_vcpu_fini(struct ring_vcpu *t)
{
    g_assert_true(kvm_dirty_log_stop(&t->e.f.accel, t->e.gm, NULL));
    x86_cpu_free(t->cpu.arch);
    x86_cpu_model_free(t->model);
    g_free(t->cpu.fatal_reason);
    g_mutex_clear(&t->cpu.lock);
    g_cond_clear(&t->cpu.cond);
    g_mutex_clear(&t->lock);
    g_cond_clear(&t->cond);
    env_fini(&t->e);
}

/* KVM_EXIT_DIRTY_RING_FULL: the vCPU harvests, resets and runs on; the
 * pages reach the next sync. */
static void test_ring_full_exit(void)
{
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    struct ring_vcpu t;

    ring_vcpu_init(&t);
    ring_vcpu_run(&t);
    /* full, harvested, then the guest's own exit */
    g_assert_cmpuint(t.e.f.run_calls, ==, 2);
    g_assert_cmpuint(t.requests[VCPU_REQ_RESET], ==, 1);
    g_assert_cmpuint(t.requests[VCPU_REQ_FATAL], ==, 0);
    g_assert_cmpuint(fake_kvm_ring_used(&t.e.f, FAKE_VCPU_FD), ==, 0);
    g_assert_cmpuint(t.e.f.ring_resets, ==, RING - FAKE_RING_RSVD);
    g_assert_true(kvm_dirty_log_sync(&t.e.f.accel, t.e.gm, bm, NULL));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, RING - FAKE_RING_RSVD);
    g_assert_true(bit(bm, 0));
    g_assert_true(bit(bm, RING - FAKE_RING_RSVD - 1));
    ring_vcpu_fini(&t);
}

/* KVM refusing the reset on a full ring stops the vCPU (a fatal
 * request), rather than re-entering into the same full ring forever. */
static void test_ring_full_fatal(void)
{
    unsigned long bm[RAM_SIZE / PAGE / 64 + 1] = {0};
    struct ring_vcpu t;

    ring_vcpu_init(&t);
    fake_kvm_fail(&t.e.f, KVM_RESET_DIRTY_RINGS, 1, EIO);
    ring_vcpu_run(&t);
    g_assert_cmpuint(t.e.f.run_calls, ==, 1);
    g_assert_cmpuint(t.requests[VCPU_REQ_FATAL], ==, 1);
    /* the migration thread's next sync still gets every page */
    g_assert_true(kvm_dirty_log_sync(&t.e.f.accel, t.e.gm, bm, NULL));
    g_assert_cmpuint(count(bm, RAM_SIZE / PAGE), ==, RING - FAKE_RING_RSVD);
    g_assert_cmpuint(fake_kvm_ring_used(&t.e.f, FAKE_VCPU_FD), ==, 0);
    ring_vcpu_fini(&t);
}

/* A KVM that keeps exiting with a full ring holding no dirty entry (a
 * broken one): the vCPU gives up after a bounded number of tries. */
static void test_ring_full_stuck(void)
{
    struct ring_vcpu t;

    ring_vcpu_init(&t);
    for (unsigned i = 0; i < RING; i++) {
        t.e.f.rings[0].gfns[i].flags = 0;
    }
    ring_vcpu_run(&t);
    g_assert_cmpuint(t.requests[VCPU_REQ_FATAL], ==, 1);
    g_assert_cmpuint(t.e.f.run_calls, >, 1);
    g_assert_cmpuint(t.e.f.run_calls, <=, 64);
    g_assert_cmpuint(fake_kvm_count(&t.e.f, KVM_RESET_DIRTY_RINGS), ==, 0);
    ring_vcpu_fini(&t);
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
        guest_dirty(&r->e, pass,
                    off < RAM_LOW ? off : HIGH_GPA + off - RAM_LOW);
        /* a device completes into guest RAM, and a page becomes zero */
        g_assert_true(gm_write(r->e.gm, 0x1000 + pass * 8, &v, 4));
        memset(r->e.gm->ram + RAM_LOW, 0, PAGE);
        guest_dirty(&r->e, pass + 1, HIGH_GPA);
    }
    if (pass == r->cancel_at) {
        precopy_cancel(&r->p);
    }
}

static void run_init(struct run *r, unsigned dirty_until, int64_t limit_ms,
                     bool ring)
{
    memset(r, 0, sizeof(*r));
    if (ring) {
        ring_env_init(&r->e);
    } else {
        env_init(&r->e, true);
    }
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
    /* the rings drained, what was harvested dropped */
    g_assert_cmpuint(fake_kvm_ring_used(&r->e.f, FAKE_VCPU_FD), ==, 0);
    g_assert_cmpuint(fake_kvm_ring_used(&r->e.f, VCPU1_FD), ==, 0);
    g_assert_null(r->e.f.accel.ring_pending);
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

static void test_resend(gconstpointer ring_p)
{
    bool ring = GPOINTER_TO_INT(ring_p);
    struct precopy_progress pr;
    struct guest_mem *dst;
    struct run r;

    /* limit 0: only a pass with nothing dirty converges */
    run_init(&r, 3, 0, ring);
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    /* passes 1-3 wrote; 4 and 5 re-sent; the sync after pass 5 is clean */
    g_assert_cmpuint(r.passes, ==, 5);
    precopy_get_progress(&r.p, &pr);
    g_assert_cmpuint(pr.dirty_sync_count, ==, 5);
    g_assert_cmpuint(pr.remaining, ==, 0);
    /* the stopped phase: a last write is sent too */
    memset(r.e.gm->ram + 5 * PAGE, 0x55, PAGE);
    guest_dirty(&r.e, 1, 5 * PAGE);
    g_assert_true(precopy_save_state(&r.p, NULL));
    g_assert_true(precopy_complete(&r.p, NULL));
    /* 5 syncs: the bitmap reads 2 slots each; the ring replaced it
     * (KVM_GET_DIRTY_LOG would fail) and is reset after each sync that
     * found entries (the 4th, after the clean pass 4, found none) */
    g_assert_cmpuint(fake_kvm_count(&r.e.f, KVM_GET_DIRTY_LOG), ==,
                     ring ? 0 : 10);
    g_assert_cmpuint(fake_kvm_count(&r.e.f, KVM_RESET_DIRTY_RINGS), ==,
                     ring ? 4 : 0);
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

    run_init(&r, 1000, 0, false);
    r.p.max_passes = 4;
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    g_assert_cmpuint(r.passes, ==, 5);
    g_assert_true(precopy_save_state(&r.p, NULL));
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

    run_init(&r, 1000, 100000, false);
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    g_assert_cmpuint(r.passes, ==, 2);
    precopy_get_progress(&r.p, &pr);
    g_assert_cmpuint(pr.remaining, >, 0); /* left for the stopped phase */
    g_assert_cmpuint(pr.expected_downtime, <=, 100000);
    g_assert_true(precopy_save_state(&r.p, NULL));
    g_assert_true(precopy_complete(&r.p, NULL));
    run_fini(&r);
}

/* A cancelled run: err says so, the partial stream is refused, and
 * run_fini checks dirty logging is off (the source runs on as before). */
static void expect_cancelled(struct run *r, Error *err)
{
    struct guest_mem *dst = NULL;

    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "cancelled"));
    g_clear_pointer(&err, error_free);
    g_assert_false(load_stream(r->fd, &dst, &err));
    g_assert_nonnull(err);
    error_free(err);
    run_fini(r);
}

/* Cancel between passes and in a throttled first pass: logging is off
 * afterwards and the partial stream is refused. */
static void test_cancel(gconstpointer at_p)
{
    unsigned at = GPOINTER_TO_UINT(at_p) & 0xff;
    bool ring = GPOINTER_TO_UINT(at_p) & 0x100;
    Error *err = NULL;
    struct run r;

    run_init(&r, 1000, 0, ring);
    r.cancel_at = at;
    if (!at) { /* the setup phase: before the thread ran at all */
        precopy_cancel(&r.p);
    }
    g_assert_cmpint(precopy_run(&r.p, &err), ==, PRECOPY_CANCELLED);
    expect_cancelled(&r, err);
}

/* Cancel in the completion phase (vCPUs stopped, the state captured, the last
 * pass not sent): refused with "cancelled", the stream incomplete, dirty
 * logging off (run_fini) so the source runs on as before. */
static void test_cancel_completion(void)
{
    Error *err = NULL;
    struct run r;

    run_init(&r, 2, 1000, false);
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    g_assert_true(precopy_save_state(&r.p, NULL));
    precopy_cancel(&r.p);
    g_assert_false(precopy_complete(&r.p, &err));
    expect_cancelled(&r, err);
}

/* max-bandwidth: the live phase takes at least bytes / bandwidth (a
 * lower bound only: never an upper bound on a shared machine). */
static void test_throttle(void)
{
    struct precopy_progress pr;
    struct run r;
    gint64 t0 = g_get_monotonic_time();

    run_init(&r, 0, 1000, false);
    r.p.max_bandwidth = 8 * MiB;
    g_assert_cmpint(precopy_run(&r.p, NULL), ==, PRECOPY_CONVERGED);
    precopy_get_progress(&r.p, &pr);
    g_assert_cmpuint(pr.transferred, >, 1 * MiB);
    /* the last section may end the run before its sleep is due */
    g_assert_cmpint(g_get_monotonic_time() - t0, >=,
                    (gint64)((pr.transferred - PRECOPY_STEP - 64 * KiB) *
                             1000000.0 / (8 * MiB)));
    g_assert_true(precopy_save_state(&r.p, NULL));
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
    vcpu_signals_init(); /* the dirty-ring/full-* vCPU threads are kicked */
    g_test_add_data_func("/precopy/dirty-log/manual",
                         GINT_TO_POINTER(LOG_MANUAL), check_dirty_log);
    g_test_add_data_func("/precopy/dirty-log/plain", GINT_TO_POINTER(LOG_PLAIN),
                         check_dirty_log);
    g_test_add_data_func("/precopy/dirty-log/ring-size-0",
                         GINT_TO_POINTER(LOG_RING_OFF), check_dirty_log);
    g_test_add_data_func("/precopy/dirty-log/no-ring-cap",
                         GINT_TO_POINTER(LOG_NO_RING), check_dirty_log);
    g_test_add_func("/precopy/dirty-log/error", test_dirty_log_error);
    g_test_add_func("/precopy/dirty-ring/enable", test_ring_enable);
    g_test_add_func("/precopy/dirty-ring/after-vcpu", test_ring_after_vcpu);
    g_test_add_func("/precopy/dirty-ring/harvest", test_ring_harvest);
    g_test_add_func("/precopy/dirty-ring/hostile", test_ring_hostile);
    g_test_add_func("/precopy/dirty-ring/reset-error", test_ring_reset_error);
    g_test_add_func("/precopy/dirty-ring/full-exit", test_ring_full_exit);
    g_test_add_func("/precopy/dirty-ring/full-fatal", test_ring_full_fatal);
    g_test_add_func("/precopy/dirty-ring/full-stuck", test_ring_full_stuck);
    g_test_add_func("/precopy/userspace-dirty", test_userspace_dirty);
    g_test_add_data_func("/precopy/resend", GINT_TO_POINTER(0), test_resend);
    g_test_add_data_func("/precopy/dirty-ring/resend", GINT_TO_POINTER(1),
                         test_resend);
    g_test_add_func("/precopy/pass-limit", test_pass_limit);
    g_test_add_func("/precopy/downtime-limit", test_downtime_limit);
    g_test_add_data_func("/precopy/cancel/first-pass", GUINT_TO_POINTER(1),
                         test_cancel);
    g_test_add_data_func("/precopy/cancel/later-pass", GUINT_TO_POINTER(3),
                         test_cancel);
    g_test_add_data_func("/precopy/dirty-ring/cancel", GUINT_TO_POINTER(0x103),
                         test_cancel);
    g_test_add_data_func("/precopy/cancel/setup", GUINT_TO_POINTER(0),
                         test_cancel);
    g_test_add_func("/precopy/cancel/completion", test_cancel_completion);
    g_test_add_func("/precopy/throttle", test_throttle);
    g_test_add_func("/precopy/ram-dirty-order", test_ram_dirty_order);
    return g_test_run();
}
