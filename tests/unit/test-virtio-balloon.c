/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-balloon.c: the balloon model (hw/virtio/virtio-balloon.c)
 * driven through the virtio core with its rings in a fake guest RAM: the
 * features QEMU offers, inflated pages really leaving the host (mincore on
 * the RAM mapping) and reading back as zeros, hostile page frame numbers
 * skipped without breaking the device, the stats buffer parsed and given
 * back on a poll, target and actual through the config space, reset, and
 * free page reporting.
 */
#include "util/common.h"
#include "hw/virtio/virtio-balloon.h"
#include "qapi/json-value.h"
#include "system/guest-mem.h"
#include "util/bytes.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#include <sys/mman.h>
#include <unistd.h>

#define RAM (16 * MiB)
#define NUM 16
#define PFN_GPA 0x100000ULL   /* the driver's PFN arrays */
#define STAT_GPA 0x110000ULL  /* its stats buffer */
#define PAGES_GPA 0x400000ULL /* the pages it gives back */
#define NPAGES 16

struct fx {
    struct guest_mem *gm;
    struct vlog log;
    struct virtio_balloon s;
    struct vr r[4];
    unsigned irqs, config_irqs, changes;
};

static void notify_queue(void *opaque, unsigned q)
{
    ((struct fx *)opaque)->irqs++;
}

static void notify_config(void *opaque)
{
    ((struct fx *)opaque)->config_irqs++;
}

static const struct virtio_transport_ops ops = {notify_queue, notify_config};

static void on_change(struct virtio_balloon *s, void *opaque)
{
    ((struct fx *)opaque)->changes++;
}

static void fx_init(struct fx *f, bool reporting)
{
    Error *err = NULL;
    unsigned nq = reporting ? 4 : 3;

    memset(f, 0, sizeof(*f));
    f->gm = gm_new(RAM, &err);
    g_assert_nonnull(f->gm);
    g_assert_true(gm_add_ram(f->gm, 0, 0, RAM, "ram", &err));
    vlog_init(&f->log);
    virtio_balloon_set_defaults(&f->s);
    f->s.free_page_reporting = reporting;
    g_assert_true(virtio_balloon_setup(&f->s, f->gm, &f->log, RAM, &err));
    g_assert_null(err);
    f->s.actual_changed = on_change;
    f->s.actual_changed_opaque = f;
    virtio_set_transport(&f->s.vdev, &ops, f);
    for (unsigned i = 0; i < nq; i++) {
        vr_init(&f->r[i], f->gm, 0x1000 + 0x1000 * i, NUM);
    }
    g_assert_true(
        vr_driver_start(&f->s.vdev, f->s.vdev.host_features, f->r, nq) &
        VIRTIO_STATUS_DRIVER_OK);
}

static void fx_fini(struct fx *f)
{
    virtio_balloon_teardown(&f->s);
    vlog_close(&f->log);
    gm_free(f->gm);
}

/* Pages of [gpa, gpa + n pages) resident in the host's RAM mapping. */
static unsigned resident(struct fx *f, uint64_t gpa, unsigned n)
{
    unsigned char vec[64];
    unsigned count = 0;

    g_assert_cmpuint(n, <=, sizeof(vec));
    g_assert_cmpint(mincore(f->gm->ram + gpa, (size_t)n * 4096, vec), ==, 0);
    for (unsigned i = 0; i < n; i++) {
        count += vec[i] & 1;
    }
    return count;
}

/* Puts `n` le32 PFNs (plus `extra` stray bytes) on queue q and kicks. */
static void send_pfns(struct fx *f, unsigned q, const uint32_t *pfns,
                      unsigned n, unsigned extra)
{
    struct vr *r = &f->r[q];
    uint16_t head = r->avail_idx % NUM;
    uint8_t buf[256 * 4 + 4] = {0};
    uint32_t id = 0, len = 0;

    g_assert_cmpuint(n, <=, 256);
    for (unsigned i = 0; i < n; i++) {
        le_store(buf + 4 * i, pfns[i], 4);
    }
    g_assert_true(gm_write(f->gm, PFN_GPA, buf, 4 * n + extra));
    vr_desc(r, head, PFN_GPA, 4 * n + extra, 0, 0);
    vr_add(r, head);
    vr_publish(r);
    virtio_queue_notify(&f->s.vdev, q);
    g_assert_true(vr_get_used(r, &id, &len));
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(len, ==, 0);
}

static void test_features(void)
{
    struct fx f;
    uint64_t hf;
    Error *err = NULL;
    struct virtio_balloon s;
    struct guest_mem *gm;

    fx_init(&f, false);
    hf = f.s.vdev.host_features;
    /* QEMU 7.2's defaults: stats queue and page poison, no deflate on OOM */
    g_assert_true(hf & (1ULL << VIRTIO_BALLOON_F_STATS_VQ));
    g_assert_true(hf & (1ULL << VIRTIO_BALLOON_F_PAGE_POISON));
    g_assert_false(hf & (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
    g_assert_false(hf & (1ULL << VIRTIO_BALLOON_F_REPORTING));
    g_assert_false(hf & (1ULL << VIRTIO_BALLOON_F_FREE_PAGE_HINT));
    g_assert_false(hf & (1ULL << VIRTIO_BALLOON_F_MUST_TELL_HOST));
    g_assert_true(hf & (1ULL << VIRTIO_F_VERSION_1));
    g_assert_cmpuint(f.s.vdev.num_queues, ==, 3);
    g_assert_cmpuint(f.s.vdev.ops->config_size, ==, 16);
    g_assert_cmpuint(f.s.vdev.ops->device_id, ==, VIRTIO_ID_BALLOON);
    fx_fini(&f);

    gm = gm_new(RAM, &err);
    memset(&s, 0, sizeof(s));
    virtio_balloon_set_defaults(&s);
    s.deflate_on_oom = true;
    s.page_poison = false;
    s.free_page_reporting = true;
    g_assert_true(virtio_balloon_setup(&s, gm, NULL, RAM, &err));
    hf = s.vdev.host_features;
    g_assert_true(hf & (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
    g_assert_true(hf & (1ULL << VIRTIO_BALLOON_F_REPORTING));
    g_assert_false(hf & (1ULL << VIRTIO_BALLOON_F_PAGE_POISON));
    g_assert_cmpuint(s.vdev.num_queues, ==, 4);
    /* without page poison the config ends before free_page_hint_cmd_id */
    g_assert_cmpuint(s.vdev.ops->config_size, ==, 8);
    virtio_balloon_teardown(&s);
    /* no RAM: refused */
    memset(&s, 0, sizeof(s));
    g_assert_false(virtio_balloon_setup(&s, gm, NULL, 0, &err));
    g_assert_nonnull(err);
    error_free(err);
    gm_free(gm);
}

static void test_inflate_releases(void)
{
    struct fx f;
    uint32_t pfns[NPAGES];
    uint8_t *p;

    fx_init(&f, false);
    p = vr_ptr(f.gm, PAGES_GPA, NPAGES * 4096);
    memset(p, 0xa5, NPAGES * 4096);
    g_assert_cmpuint(resident(&f, PAGES_GPA, NPAGES), ==, NPAGES);
    /* out of order, with a gap: runs and single pages alike */
    for (unsigned i = 0; i < NPAGES; i++) {
        pfns[i] = (uint32_t)(PAGES_GPA >> 12) + (NPAGES - 1 - i);
    }
    send_pfns(&f, VIRTIO_BALLOON_Q_INFLATE, pfns, NPAGES / 2, 0);
    g_assert_cmpuint(f.s.pages_released, ==, NPAGES / 2);
    g_assert_cmpuint(resident(&f, PAGES_GPA, NPAGES), ==, NPAGES / 2);
    g_assert_cmpuint(f.irqs, ==, 1);
    for (unsigned i = 0; i < NPAGES / 2; i++) {
        pfns[i] = (uint32_t)(PAGES_GPA >> 12) + i;
    }
    send_pfns(&f, VIRTIO_BALLOON_Q_INFLATE, pfns, NPAGES / 2, 0);
    g_assert_cmpuint(f.s.pages_released, ==, NPAGES);
    g_assert_cmpuint(resident(&f, PAGES_GPA, NPAGES), ==, 0);
    /* deflate gives nothing back to the host and touches no page */
    send_pfns(&f, VIRTIO_BALLOON_Q_DEFLATE, pfns, NPAGES / 2, 0);
    g_assert_cmpuint(resident(&f, PAGES_GPA, NPAGES), ==, 0);
    g_assert_cmpuint(f.s.pages_released, ==, NPAGES);
    /* the guest reads zeros where its data was (shmem allocates a page
     * on a read fault too), and the pages are usable again */
    for (unsigned i = 0; i < NPAGES * 4096; i += 512) {
        g_assert_cmpuint(p[i], ==, 0);
    }
    p[0] = 1;
    g_assert_cmpuint(resident(&f, PAGES_GPA, 1), ==, 1);
    g_assert_false(f.s.vdev.broken);
    fx_fini(&f);
}

static void test_hostile_pfns(void)
{
    struct fx f;
    uint32_t pfns[] = {
        (uint32_t)(RAM >> 12),        /* first page past RAM */
        0xffffffffu,                  /* the last PFN there is */
        (uint32_t)(PAGES_GPA >> 12),  /* a good one between */
        (uint32_t)(RAM >> 12) + 1000, /* far past RAM */
        (uint32_t)(RAM >> 12) - 1,    /* the last RAM page: fine */
    };
    uint8_t *p;

    fx_init(&f, false);
    p = vr_ptr(f.gm, PAGES_GPA, 4096);
    p[0] = 7;
    *vr_ptr(f.gm, RAM - 4096, 1) = 7;
    /* two stray bytes after the last whole PFN are ignored */
    send_pfns(&f, VIRTIO_BALLOON_Q_INFLATE, pfns, G_N_ELEMENTS(pfns), 2);
    g_assert_cmpuint(f.s.bad_pfns, ==, 3);
    g_assert_cmpuint(f.s.pages_released, ==, 2);
    g_assert_cmpuint(p[0], ==, 0);
    g_assert_cmpuint(*vr_ptr(f.gm, RAM - 4096, 1), ==, 0);
    /* the device carries on */
    g_assert_false(f.s.vdev.broken);
    send_pfns(&f, VIRTIO_BALLOON_Q_INFLATE, pfns + 2, 1, 0);
    g_assert_cmpuint(f.s.bad_pfns, ==, 3);
    /* an empty buffer is fine too */
    send_pfns(&f, VIRTIO_BALLOON_Q_INFLATE, pfns, 0, 3);
    g_assert_false(f.s.vdev.broken);
    fx_fini(&f);
}

static void put_stat(uint8_t *b, unsigned i, uint16_t tag, uint64_t val)
{
    le_store(b + 10 * i, tag, 2);
    le_store(b + 10 * i + 2, val, 8);
}

static void test_stats(void)
{
    struct fx f;
    struct vr *r;
    uint8_t buf[50];
    uint32_t id = 0, len = 0;
    struct json_value *j, *st;
    int64_t before = g_get_real_time() / G_USEC_PER_SEC;

    fx_init(&f, false);
    r = &f.r[VIRTIO_BALLOON_Q_STATS];
    /* nothing reported yet: QEMU's -1 (as uint64) and last-update 0 */
    j = virtio_balloon_stats_json(&f.s);
    st = json_object_get(j, "stats");
    g_assert_nonnull(st);
    g_assert_cmpuint(json_object_len(st), ==, VIRTIO_BALLOON_S_NR);
    g_assert_cmpuint(json_object_get(st, "stat-swap-in")->u.u, ==, UINT64_MAX);
    g_assert_cmpint(json_object_get(j, "last-update")->u.i, ==, 0);
    json_free(j);

    put_stat(buf, 0, VIRTIO_BALLOON_S_MEMFREE, 1000 * 4096);
    put_stat(buf, 1, VIRTIO_BALLOON_S_MEMTOT, 4000 * 4096);
    put_stat(buf, 2, 42, 5); /* unknown tag: skipped */
    put_stat(buf, 3, VIRTIO_BALLOON_S_MAJFLT, 17);
    put_stat(buf, 4, VIRTIO_BALLOON_S_HTLB_PGFAIL, 3);
    /* the buffer split over two descriptors, mid-entry */
    g_assert_true(gm_write(f.gm, STAT_GPA, buf, sizeof(buf)));
    vr_desc(r, 0, STAT_GPA, 13, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(r, 1, STAT_GPA + 13, sizeof(buf) - 13, 0, 0);
    vr_add(r, 0);
    vr_publish(r);
    virtio_queue_notify(&f.s.vdev, VIRTIO_BALLOON_Q_STATS);
    /* held by the device until the next poll */
    g_assert_false(vr_get_used(r, &id, &len));
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_MEMFREE], ==, 1000 * 4096);
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_MEMTOT], ==, 4000 * 4096);
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_MAJFLT], ==, 17);
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_HTLB_PGFAIL], ==, 3);
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_SWAP_IN], ==, UINT64_MAX);
    g_assert_cmpint(f.s.stats_last_update, >=, before);
    j = virtio_balloon_stats_json(&f.s);
    st = json_object_get(j, "stats");
    g_assert_cmpuint(json_object_get(st, "stat-free-memory")->u.u, ==,
                     1000 * 4096);
    g_assert_cmpuint(json_object_get(st, "stat-total-memory")->u.u, ==,
                     4000 * 4096);
    g_assert_cmpuint(json_object_get(st, "stat-major-faults")->u.u, ==, 17);
    g_assert_cmpuint(json_object_get(st, "stat-htlb-pgfail")->u.u, ==, 3);
    g_assert_cmpint(json_object_get(j, "last-update")->u.i, ==,
                    f.s.stats_last_update);
    json_free(j);

    /* a poll gives the buffer back for fresh numbers */
    virtio_balloon_request_stats(&f.s);
    g_assert_true(vr_get_used(r, &id, &len));
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmpuint(len, ==, 0);
    g_assert_cmpuint(f.irqs, ==, 1);
    /* nothing held: a second poll does nothing */
    virtio_balloon_request_stats(&f.s);
    g_assert_false(vr_get_used(r, &id, &len));

    /* the driver refills it; a second buffer while one is held: the
     * first goes back */
    put_stat(buf, 0, VIRTIO_BALLOON_S_MEMFREE, 5);
    g_assert_true(gm_write(f.gm, STAT_GPA, buf, 10));
    vr_desc(r, 2, STAT_GPA, 10, 0, 0);
    vr_add(r, 2);
    vr_desc(r, 3, STAT_GPA, 10, 0, 0);
    vr_add(r, 3);
    vr_publish(r);
    virtio_queue_notify(&f.s.vdev, VIRTIO_BALLOON_Q_STATS);
    g_assert_true(vr_get_used(r, &id, &len));
    g_assert_cmpuint(id, ==, 2);
    g_assert_false(vr_get_used(r, &id, &len));
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_MEMFREE], ==, 5);
    /* reset drops the held buffer (not returned to a reset driver) */
    virtio_reset(&f.s.vdev);
    g_assert_null(f.s.stats_elem);
    g_assert_false(vr_get_used(r, &id, &len));
    fx_fini(&f);
}

static void test_huge_stats_buffer(void)
{
    struct fx f;
    struct vr *r;
    uint8_t *b;
    uint32_t len = 1 * MiB;

    fx_init(&f, false);
    r = &f.r[VIRTIO_BALLOON_Q_STATS];
    b = vr_ptr(f.gm, 0x200000, len);
    memset(b, 0, len);
    /* past the entries read: never seen */
    put_stat(b, 300, VIRTIO_BALLOON_S_MEMTOT, 99);
    put_stat(b, 1, VIRTIO_BALLOON_S_MEMFREE, 7);
    vr_desc(r, 0, 0x200000, len, 0, 0);
    vr_add(r, 0);
    vr_publish(r);
    virtio_queue_notify(&f.s.vdev, VIRTIO_BALLOON_Q_STATS);
    /* entries with tag 0 set swap-in to 0 */
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_SWAP_IN], ==, 0);
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_MEMFREE], ==, 7);
    g_assert_cmpuint(f.s.stats[VIRTIO_BALLOON_S_MEMTOT], ==, UINT64_MAX);
    g_assert_false(f.s.vdev.broken);
    fx_fini(&f);
}

static void test_target_actual(void)
{
    struct fx f;

    fx_init(&f, false);
    g_assert_cmpuint(virtio_config_read(&f.s.vdev, 0, 4), ==, 0);
    g_assert_cmpuint(virtio_balloon_actual_bytes(&f.s), ==, RAM);
    /* target 1 MiB below the RAM: 256 pages to give */
    virtio_balloon_set_target(&f.s, RAM - 1 * MiB);
    g_assert_cmpuint(f.s.num_pages, ==, 256);
    g_assert_cmpuint(virtio_config_read(&f.s.vdev, 0, 4), ==, 256);
    g_assert_cmpuint(f.config_irqs, ==, 1);
    /* above the RAM: nothing to give */
    virtio_balloon_set_target(&f.s, 10 * GiB);
    g_assert_cmpuint(virtio_config_read(&f.s.vdev, 0, 4), ==, 0);
    g_assert_cmpuint(f.config_irqs, ==, 2);
    /* a tiny target: all of it */
    virtio_balloon_set_target(&f.s, 1);
    g_assert_cmpuint(f.s.num_pages, ==, RAM / 4096 - 1);

    /* the driver reports what it holds; a write to num_pages is not kept */
    virtio_config_write(&f.s.vdev, 4, 100, 4);
    g_assert_cmpuint(f.s.actual, ==, 100);
    g_assert_cmpuint(f.changes, ==, 1);
    g_assert_cmpuint(virtio_balloon_actual_bytes(&f.s), ==, RAM - 100 * 4096);
    g_assert_cmpuint(virtio_config_read(&f.s.vdev, 4, 4), ==, 100);
    virtio_config_write(&f.s.vdev, 0, 5, 4);
    g_assert_cmpuint(virtio_config_read(&f.s.vdev, 0, 4), ==, RAM / 4096 - 1);
    /* the same value again: no change reported */
    virtio_config_write(&f.s.vdev, 4, 100, 4);
    g_assert_cmpuint(f.changes, ==, 1);
    /* a hostile count beyond the RAM: no memory, not negative */
    virtio_config_write(&f.s.vdev, 4, 0xffffffff, 4);
    g_assert_cmpuint(virtio_balloon_actual_bytes(&f.s), ==, 0);
    g_assert_cmpuint(f.changes, ==, 2);
    /* the poison value is the driver's to write */
    virtio_config_write(&f.s.vdev, 12, 0xaa, 4);
    g_assert_cmpuint(f.s.poison_val, ==, 0xaa);
    /* out of the config: dropped */
    virtio_config_write(&f.s.vdev, 16, 1, 4);
    g_assert_false(f.s.vdev.broken);

    /* reset: the guest has all its RAM again; the target stays */
    virtio_reset(&f.s.vdev);
    g_assert_cmpuint(f.s.actual, ==, 0);
    g_assert_cmpuint(f.s.poison_val, ==, 0);
    g_assert_cmpuint(f.changes, ==, 3);
    g_assert_cmpuint(f.s.num_pages, ==, RAM / 4096 - 1);
    fx_fini(&f);
}

static void test_poll_interval(void)
{
    struct fx f;
    Error *err = NULL;

    fx_init(&f, false);
    g_assert_false(virtio_balloon_set_poll_interval(&f.s, -1, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "timer value must be greater than zero");
    error_free(err);
    err = NULL;
    g_assert_false(
        virtio_balloon_set_poll_interval(&f.s, (int64_t)UINT32_MAX + 1, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "timer value is too big");
    error_free(err);
    err = NULL;
    g_assert_true(virtio_balloon_set_poll_interval(&f.s, 2, &err));
    g_assert_nonnull(f.s.stats_timer);
    g_assert_cmpuint(f.s.stats_poll_interval, ==, 2);
    g_assert_true(virtio_balloon_set_poll_interval(&f.s, 1, &err));
    g_assert_nonnull(f.s.stats_timer);
    g_assert_true(virtio_balloon_set_poll_interval(&f.s, 0, &err));
    g_assert_null(f.s.stats_timer);
    g_assert_cmpuint(f.s.stats_poll_interval, ==, 0);
    fx_fini(&f);
}

/* One reporting buffer: device-writable descriptors naming free pages. */
static void report(struct fx *f, uint64_t gpa, uint32_t len)
{
    struct vr *r = &f->r[VIRTIO_BALLOON_Q_REPORTING];
    uint16_t head = r->avail_idx % NUM;
    uint32_t id = 0, l = 0;

    vr_desc(r, head, gpa, len, VIRTQ_DESC_F_WRITE, 0);
    vr_add(r, head);
    vr_publish(r);
    virtio_queue_notify(&f->s.vdev, VIRTIO_BALLOON_Q_REPORTING);
    g_assert_true(vr_get_used(r, &id, &l));
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(l, ==, 0);
}

static void test_free_page_reporting(void)
{
    struct fx f;
    uint8_t *p;

    fx_init(&f, true);
    p = vr_ptr(f.gm, PAGES_GPA, NPAGES * 4096);
    memset(p, 0x5a, NPAGES * 4096);
    /* unaligned ends: only the whole pages inside go */
    report(&f, PAGES_GPA + 100, 4 * 4096);
    g_assert_cmpuint(f.s.pages_released, ==, 3);
    g_assert_cmpuint(resident(&f, PAGES_GPA, 5), ==, 2);
    g_assert_cmpuint(p[99], ==, 0x5a);
    g_assert_cmpuint(p[4096], ==, 0);
    /* with a poison value the guest expects its pattern: nothing goes */
    virtio_config_write(&f.s.vdev, 12, 0xaa, 4);
    report(&f, PAGES_GPA + 8 * 4096, 4 * 4096);
    g_assert_cmpuint(f.s.pages_released, ==, 3);
    g_assert_cmpuint(p[8 * 4096], ==, 0x5a);
    g_assert_false(f.s.vdev.broken);
    fx_fini(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-balloon/features", test_features);
    g_test_add_func("/virtio-balloon/inflate-releases", test_inflate_releases);
    g_test_add_func("/virtio-balloon/hostile-pfns", test_hostile_pfns);
    g_test_add_func("/virtio-balloon/stats", test_stats);
    g_test_add_func("/virtio-balloon/huge-stats-buffer",
                    test_huge_stats_buffer);
    g_test_add_func("/virtio-balloon/target-actual", test_target_actual);
    g_test_add_func("/virtio-balloon/poll-interval", test_poll_interval);
    g_test_add_func("/virtio-balloon/free-page-reporting",
                    test_free_page_reporting);
    return g_test_run();
}
