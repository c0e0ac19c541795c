/* SPDX-License-Identifier: MIT */
/*
 * test-virtio.c: the virtio core (hw/virtio/virtio.c) driven through its
 * transport entry points with rings built in a fake guest RAM: feature
 * negotiation and status, the split ring walker with indirect tables and
 * event index, and every hostile ring we know of: the device is marked
 * broken (DEVICE_NEEDS_RESET, config notify), another device keeps
 * working, and a reset brings the broken one back.
 */
#include "util/common.h"
#include "hw/virtio/virtio.h"
#include "migration/vmstate.h"
#include "system/guest-mem.h"
#include "util/log.h"
#include "tests/unit/vring-build.h"

#define RAM (16 * MiB)
#define NUM 8

/* An echo device: every chain is consumed at once, "written" in full. */
struct echo {
    struct virtio_dev vdev;
    bool hold; /* keep chains in flight instead of answering */
    struct virtq_elem *held[64];
    unsigned nheld;
    unsigned queue_irqs, config_irqs, popped;
    uint32_t last_out, last_in;
    uint8_t first_byte;
};

static void echo_get_config(struct virtio_dev *vdev, uint8_t *c)
{
    c[0] = 0x5a;
    c[1] = 0xa5;
}

static void echo_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
    struct echo *e = (struct echo *)vdev;
    struct virtq_elem *el;

    while ((el = virtq_pop(vq, sizeof(*el)))) {
        e->popped++;
        e->last_out = (uint32_t)el->out_len;
        e->last_in = (uint32_t)el->in_len;
        if (el->out_num) {
            e->first_byte = *(uint8_t *)el->out_sg[0].iov_base;
        }
        if (e->hold && e->nheld < G_N_ELEMENTS(e->held)) {
            e->held[e->nheld++] = el;
            continue;
        }
        virtq_push(vq, el, (uint32_t)el->in_len);
    }
    virtq_notify(vq);
}

static const struct virtio_device_ops echo_ops = {
    .device_id = 0x7e,
    .config_size = 2,
    .get_config = echo_get_config,
    .queue_notify = echo_notify,
};

static void t_notify_queue(void *opaque, unsigned q)
{
    ((struct echo *)opaque)->queue_irqs++;
}

static void t_notify_config(void *opaque)
{
    ((struct echo *)opaque)->config_irqs++;
}

static const struct virtio_transport_ops t_ops = {t_notify_queue,
                                                  t_notify_config};

struct fx {
    struct guest_mem *gm;
    struct vlog log;
    struct echo e, other;
    struct vr r, r2;
};

static const uint64_t FEAT =
    (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC);

static void fx_init(struct fx *f, uint64_t offered, uint64_t accepted)
{
    Error *err = NULL;

    memset(f, 0, sizeof(*f));
    f->gm = gm_new(RAM, &err);
    g_assert_nonnull(f->gm);
    g_assert_true(gm_add_ram(f->gm, 0, 0, RAM, "ram", &err));
    vlog_init(&f->log); /* mask 0: guest errors counted, not printed */
    virtio_init(&f->e.vdev, "echo", &echo_ops, f->gm, &f->log, offered, 1, NUM);
    virtio_set_transport(&f->e.vdev, &t_ops, &f->e);
    virtio_init(&f->other.vdev, "other", &echo_ops, f->gm, &f->log, offered, 1,
                NUM);
    virtio_set_transport(&f->other.vdev, &t_ops, &f->other);
    vr_init(&f->r, f->gm, 0x1000, NUM);
    vr_init(&f->r2, f->gm, 0x3000, NUM);
    if (accepted) {
        g_assert_true(vr_driver_start(&f->e.vdev, accepted, &f->r, 1) &
                      VIRTIO_STATUS_DRIVER_OK);
        g_assert_true(vr_driver_start(&f->other.vdev, accepted, &f->r2, 1) &
                      VIRTIO_STATUS_DRIVER_OK);
    }
}

static void fx_fini(struct fx *f)
{
    virtio_cleanup(&f->e.vdev);
    virtio_cleanup(&f->other.vdev);
    vlog_close(&f->log);
    gm_free(f->gm);
}

/* The other device still answers a one-buffer chain. */
static void check_other_works(struct fx *f)
{
    uint32_t id = 0, len = 0;

    vr_desc(&f->r2, 0, 0x100000, 64, VIRTQ_DESC_F_WRITE, 0);
    vr_add(&f->r2, 0);
    vr_publish(&f->r2);
    virtio_queue_notify(&f->other.vdev, 0);
    g_assert_true(vr_get_used(&f->r2, &id, &len));
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmpuint(len, ==, 64);
    g_assert_false(f->other.vdev.broken);
}

static void expect_broken(struct fx *f)
{
    uint32_t id = 0, len = 0;

    g_assert_true(f->e.vdev.broken);
    g_assert_true(f->e.vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    g_assert_cmpuint(f->e.config_irqs, ==, 1);
    g_assert_true(f->e.vdev.isr & 2);
    g_assert_false(vr_get_used(&f->r, &id, &len));
    /* nothing more is processed, no second notification */
    virtio_queue_notify(&f->e.vdev, 0);
    g_assert_cmpuint(f->e.config_irqs, ==, 1);
    check_other_works(f);
    /* a reset and a new start bring it back */
    vr_init(&f->r, f->gm, 0x1000, NUM);
    g_assert_true(vr_driver_start(&f->e.vdev, FEAT, &f->r, 1) &
                  VIRTIO_STATUS_DRIVER_OK);
    g_assert_false(f->e.vdev.broken);
    g_assert_false(f->e.vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    vr_desc(&f->r, 0, 0x100000, 8, 0, 0);
    vr_add(&f->r, 0);
    vr_publish(&f->r);
    virtio_queue_notify(&f->e.vdev, 0);
    g_assert_true(vr_get_used(&f->r, &id, &len));
}

static void kick(struct fx *f, uint16_t head)
{
    vr_add(&f->r, head);
    vr_publish(&f->r);
    virtio_queue_notify(&f->e.vdev, 0);
}

/* ---- negotiation -------------------------------------------------- */

static void test_features(void)
{
    struct fx f;
    uint8_t st;

    fx_init(&f, 1ULL << VIRTIO_F_INDIRECT_DESC, 0);
    g_assert_cmphex(virtio_get_host_features(&f.e.vdev, 1), ==, 1);
    g_assert_cmphex(virtio_get_host_features(&f.e.vdev, 0), ==,
                    1u << VIRTIO_F_INDIRECT_DESC);
    g_assert_cmphex(virtio_get_host_features(&f.e.vdev, 2), ==, 0);
    /* no VERSION_1: FEATURES_OK refused */
    st = vr_driver_start(&f.e.vdev, 1ULL << VIRTIO_F_INDIRECT_DESC, &f.r, 1);
    g_assert_false(st & VIRTIO_STATUS_FEATURES_OK);
    /* a feature not offered: refused */
    st = vr_driver_start(&f.e.vdev, FEAT | (1ULL << VIRTIO_F_EVENT_IDX), &f.r,
                         1);
    g_assert_false(st & VIRTIO_STATUS_FEATURES_OK);
    /* DRIVER_OK without FEATURES_OK is ignored */
    virtio_set_status(&f.e.vdev, VIRTIO_STATUS_ACKNOWLEDGE |
                                     VIRTIO_STATUS_DRIVER |
                                     VIRTIO_STATUS_DRIVER_OK);
    g_assert_false(f.e.vdev.status & VIRTIO_STATUS_DRIVER_OK);
    /* the good case; features are frozen after FEATURES_OK */
    st = vr_driver_start(&f.e.vdev, FEAT, &f.r, 1);
    g_assert_true(st & VIRTIO_STATUS_DRIVER_OK);
    virtio_set_guest_features(&f.e.vdev, 0, 0);
    g_assert_cmphex(virtio_get_guest_features(&f.e.vdev, 1), ==, 1);
    g_assert_true(virtio_has_feature(&f.e.vdev, VIRTIO_F_INDIRECT_DESC));
    /* reset clears everything */
    virtio_set_status(&f.e.vdev, 0);
    g_assert_cmpuint(f.e.vdev.status, ==, 0);
    g_assert_cmphex(f.e.vdev.guest_features, ==, 0);
    g_assert_false(f.e.vdev.vqs[0].ready);
    /* config space: in range, out of range reads all ones */
    g_assert_cmphex(virtio_config_read(&f.e.vdev, 0, 2), ==, 0xa55a);
    g_assert_cmphex(virtio_config_read(&f.e.vdev, 1, 2), ==, 0xffff);
    g_assert_cmphex(virtio_config_read(&f.e.vdev, UINT64_MAX, 1), ==, 0xff);
    virtio_config_write(&f.e.vdev, 0, 1, 1); /* read-only: dropped */
    g_assert_cmphex(virtio_config_read(&f.e.vdev, 0, 1), ==, 0x5a);
    fx_fini(&f);
}

/* ---- good rings ----------------------------------------------------- */

static void test_chains(void)
{
    struct fx f;
    uint32_t id = 0, len = 0;
    uint64_t ind = 0x200000;

    fx_init(&f, FEAT, FEAT);
    /* direct: out 16 + in 512 + in 1 */
    *vr_ptr(f.gm, 0x100000, 1) = 0x42;
    vr_desc(&f.r, 2, 0x100000, 16, VIRTQ_DESC_F_NEXT, 5);
    vr_desc(&f.r, 5, 0x101000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7);
    vr_desc(&f.r, 7, 0x102000, 1, VIRTQ_DESC_F_WRITE, 0);
    kick(&f, 2);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpuint(len, ==, 513);
    g_assert_cmpuint(f.e.last_out, ==, 16);
    g_assert_cmpuint(f.e.first_byte, ==, 0x42);
    g_assert_cmpuint(f.e.queue_irqs, ==, 1);
    g_assert_true(f.e.vdev.isr & 1);
    g_assert_cmpuint(virtio_isr_read_clear(&f.e.vdev), ==, 1);
    g_assert_cmpuint(f.e.vdev.isr, ==, 0);
    /* indirect: a table of 3, a zero-length buffer in the middle */
    vr_set_desc_at(f.gm, ind, 0, 0x100000, 16, VIRTQ_DESC_F_NEXT, 1);
    vr_set_desc_at(f.gm, ind, 1, 0x103000, 0, VIRTQ_DESC_F_NEXT, 2);
    vr_set_desc_at(f.gm, ind, 2, 0x101000, 4096, VIRTQ_DESC_F_WRITE, 0);
    vr_desc(&f.r, 0, ind, 48, VIRTQ_DESC_F_INDIRECT, 0);
    kick(&f, 0);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmpuint(len, ==, 4096);
    /* the ring wraps: 3 * NUM chains */
    for (unsigned i = 0; i < 3 * NUM; i++) {
        vr_desc(&f.r, i % NUM, 0x101000, 8, VIRTQ_DESC_F_WRITE, 0);
        kick(&f, i % NUM);
        g_assert_true(vr_get_used(&f.r, &id, &len));
        g_assert_cmpuint(id, ==, i % NUM);
    }
    /* a full ring in one kick */
    for (unsigned i = 0; i < NUM; i++) {
        vr_desc(&f.r, i, 0x101000, 8, VIRTQ_DESC_F_WRITE, 0);
        vr_add(&f.r, i);
    }
    vr_publish(&f.r);
    virtio_queue_notify(&f.e.vdev, 0);
    for (unsigned i = 0; i < NUM; i++) {
        g_assert_true(vr_get_used(&f.r, &id, &len));
    }
    g_assert_false(f.e.vdev.broken);
    fx_fini(&f);
}

static void test_event_idx(void)
{
    uint64_t feat = FEAT | (1ULL << VIRTIO_F_EVENT_IDX);
    struct fx f;
    uint32_t id = 0, len = 0;

    fx_init(&f, feat, feat);
    vr_desc(&f.r, 0, 0x101000, 8, VIRTQ_DESC_F_WRITE, 0);
    /* the first used buffer always interrupts */
    kick(&f, 0);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(f.e.queue_irqs, ==, 1);
    /* the device asks for a kick at the next avail index */
    g_assert_cmpuint(vr_avail_event(&f.r), ==, 1);
    /* used_event = 5: no interrupt for used idx 2..5 */
    vr_set_used_event(&f.r, 5);
    for (unsigned i = 0; i < 4; i++) {
        kick(&f, 0);
        g_assert_true(vr_get_used(&f.r, &id, &len));
    }
    g_assert_cmpuint(f.e.queue_irqs, ==, 1);
    /* used idx goes 5 -> 6: crosses used_event, interrupt */
    kick(&f, 0);
    g_assert_cmpuint(f.e.queue_irqs, ==, 2);
    fx_fini(&f);

    /* without EVENT_IDX: NO_INTERRUPT suppresses */
    fx_init(&f, FEAT, FEAT);
    vr_avail_p(&f.r)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    vr_desc(&f.r, 0, 0x101000, 8, VIRTQ_DESC_F_WRITE, 0);
    kick(&f, 0);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(f.e.queue_irqs, ==, 0);
    vr_avail_p(&f.r)[0] = 0;
    kick(&f, 0);
    g_assert_cmpuint(f.e.queue_irqs, ==, 1);
    fx_fini(&f);
}

/* A full ring in flight is legal: no "too many in flight" error until a
 * chain is made available again while all are held. */
static void test_full_ring_in_flight(void)
{
    struct fx f;
    uint32_t id = 0, len = 0;

    fx_init(&f, FEAT, FEAT);
    f.e.hold = true;
    for (unsigned i = 0; i < NUM; i++) {
        vr_desc(&f.r, i, 0x101000, 8, VIRTQ_DESC_F_WRITE, 0);
        vr_add(&f.r, i);
    }
    vr_publish(&f.r);
    virtio_queue_notify(&f.e.vdev, 0);
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_cmpuint(f.e.nheld, ==, NUM);
    g_assert_false(f.e.vdev.broken);
    for (unsigned i = 0; i < NUM; i++) {
        virtq_push(&f.e.vdev.vqs[0], f.e.held[i], 8);
    }
    f.e.nheld = 0;
    for (unsigned i = 0; i < NUM; i++) {
        g_assert_true(vr_get_used(&f.r, &id, &len));
    }
    /* all held again, then head 0 once more: the driver reused a busy head */
    for (unsigned i = 0; i <= NUM; i++) {
        vr_add(&f.r, i % NUM);
    }
    vr_publish(&f.r);
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_true(f.e.vdev.broken);
    for (unsigned i = 0; i < f.e.nheld; i++) {
        virtq_discard(&f.e.vdev.vqs[0], f.e.held[i]);
    }
    fx_fini(&f);
}

/* ---- packed rings -------------------------------------------------- */

static const uint64_t PFEAT = FEAT | (1ULL << VIRTIO_F_RING_PACKED);

static void packed_start(struct fx *f, struct vpr *p, uint16_t num,
                         uint64_t feat)
{
    struct vr v = {0};

    vpr_init(p, f->gm, 0x8000, num);
    v.desc = p->desc;
    v.avail = p->avail;
    v.used = p->used;
    v.num = num;
    vr_driver_start(&f->e.vdev, feat, &v, 1);
}

static void test_packed(void)
{
    struct fx f;
    struct vpr p;
    uint32_t id = 0, len = 0;
    struct vpr_buf two[2] = {{0x100000, 16, false}, {0x101000, 512, true}};
    uint64_t ind = 0x200000;

    fx_init(&f, PFEAT | (1ULL << VIRTIO_F_EVENT_IDX), 0);
    packed_start(&f, &p, 5, PFEAT);
    g_assert_true(f.e.vdev.vqs[0].packed);
    /* chains of 2 on a ring of 5: they wrap mid-chain */
    for (unsigned i = 0; i < 12; i++) {
        vpr_add(&p, two, 2, (uint16_t)(i % 7));
        virtio_queue_notify(&f.e.vdev, 0);
        g_assert_true(vpr_get_used(&p, &id, &len));
        g_assert_cmpuint(id, ==, i % 7);
        g_assert_cmpuint(len, ==, 512);
        g_assert_cmpuint(f.e.last_out, ==, 16);
        g_assert_false(vpr_get_used(&p, &id, &len));
    }
    g_assert_cmpuint(f.e.queue_irqs, ==, 12);
    /* five chains of one slot in one kick: a whole lap of the ring of 5
     * brings the used index back where it was; still an interrupt */
    for (unsigned i = 0; i < 5; i++) {
        vpr_add(&p, two, 1, (uint16_t)(20 + i));
    }
    virtio_queue_notify(&f.e.vdev, 0);
    for (unsigned i = 0; i < 5; i++) {
        g_assert_true(vpr_get_used(&p, &id, &len));
        g_assert_cmpuint(id, ==, 20 + i);
    }
    g_assert_cmpuint(f.e.queue_irqs, ==, 13);
    /* driver event DISABLE: no interrupt */
    *(uint16_t *)vr_ptr(f.gm, p.avail + 2, 2) = VIRTQ_EVENT_F_DISABLE;
    vpr_add(&p, two, 1, 3);
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_true(vpr_get_used(&p, &id, &len));
    g_assert_cmpuint(f.e.queue_irqs, ==, 13);
    *(uint16_t *)vr_ptr(f.gm, p.avail + 2, 2) = VIRTQ_EVENT_F_ENABLE;
    /* the device asks for kicks (device event ENABLE after processing) */
    g_assert_cmpuint(*(uint16_t *)vr_ptr(f.gm, p.used + 2, 2), ==,
                     VIRTQ_EVENT_F_ENABLE);
    /* indirect: a table of 2 packed descriptors */
    {
        struct virtq_packed_desc t[2] = {
            {0x100000, 16, 0, 0}, {0x101000, 100, 0, VIRTQ_DESC_F_WRITE}};
        g_assert_true(gm_write(f.gm, ind, t, sizeof(t)));
        vpr_add_raw(&p, ind, sizeof(t), VIRTQ_DESC_F_INDIRECT, 9);
        p.ndescs[9] = 1;
    }
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_true(vpr_get_used(&p, &id, &len));
    g_assert_cmpuint(id, ==, 9);
    g_assert_cmpuint(len, ==, 100);
    g_assert_false(f.e.vdev.broken);
    fx_fini(&f);
}

/* Chains given back unused (virtq_unpop, newest first) are popped again,
 * in their order, on a split ring and on a packed ring across its wrap. */
static void test_unpop(void)
{
    struct fx f;
    struct vpr p;
    uint32_t id = 0, len = 0;
    struct vpr_buf two[2] = {{0x100000, 16, false}, {0x101000, 512, true}};

    fx_init(&f, FEAT, FEAT);
    f.e.hold = true;
    for (unsigned i = 0; i < 3; i++) {
        vr_desc(&f.r, i, 0x101000, 8 + i, VIRTQ_DESC_F_WRITE, 0);
        vr_add(&f.r, i);
    }
    vr_publish(&f.r);
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_cmpuint(f.e.nheld, ==, 3);
    g_assert_cmpuint(f.e.vdev.vqs[0].inflight, ==, 3);
    virtq_unpop(&f.e.vdev.vqs[0], f.e.held[2]);
    virtq_unpop(&f.e.vdev.vqs[0], f.e.held[1]);
    f.e.nheld = 1;
    g_assert_cmpuint(f.e.vdev.vqs[0].inflight, ==, 1);
    g_assert_cmpuint(f.e.vdev.vqs[0].last_avail_idx, ==, 1);
    f.e.hold = false;
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_cmpuint(f.e.popped, ==, 5);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(id, ==, 1);
    g_assert_cmpuint(len, ==, 9);
    g_assert_true(vr_get_used(&f.r, &id, &len));
    g_assert_cmpuint(id, ==, 2);
    g_assert_false(vr_get_used(&f.r, &id, &len));
    virtq_push(&f.e.vdev.vqs[0], f.e.held[0], 0);
    g_assert_cmpuint(f.e.vdev.vqs[0].inflight, ==, 0);
    fx_fini(&f);

    /* packed, ring of 5, chains of 2: after one chain used at once, the
     * third chain takes slots 4 and 0 (wrapping); giving back the third
     * and second puts the index back to slot 2 of the first lap */
    fx_init(&f, PFEAT, 0);
    packed_start(&f, &p, 5, PFEAT);
    vpr_add(&p, two, 2, 9);
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_true(vpr_get_used(&p, &id, &len));
    f.e.hold = true;
    vpr_add(&p, two, 2, 10);
    vpr_add(&p, two, 2, 11);
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_cmpuint(f.e.nheld, ==, 2);
    g_assert_cmpuint(f.e.vdev.vqs[0].last_avail_idx, ==, 1);
    g_assert_false(f.e.vdev.vqs[0].avail_wrap);
    virtq_unpop(&f.e.vdev.vqs[0], f.e.held[1]);
    g_assert_cmpuint(f.e.vdev.vqs[0].last_avail_idx, ==, 4);
    g_assert_true(f.e.vdev.vqs[0].avail_wrap);
    virtq_unpop(&f.e.vdev.vqs[0], f.e.held[0]);
    g_assert_cmpuint(f.e.vdev.vqs[0].last_avail_idx, ==, 2);
    g_assert_cmpuint(f.e.vdev.vqs[0].inflight, ==, 0);
    f.e.nheld = 0;
    f.e.hold = false;
    virtio_queue_notify(&f.e.vdev, 0);
    for (unsigned i = 0; i < 2; i++) {
        g_assert_true(vpr_get_used(&p, &id, &len));
        g_assert_cmpuint(id, ==, 10 + i);
    }
    g_assert_false(f.e.vdev.broken);
    g_assert_cmpuint(f.e.vdev.vqs[0].inflight, ==, 0);
    fx_fini(&f);
}

/* The core's migration state with a packed ring mid-lap (wrap counters,
 * slot indices): loaded into a second device on the same RAM, which goes
 * on where the first stopped; an index beyond the ring is refused. */
static void test_packed_migrate(void)
{
    struct fx f;
    struct vpr p;
    uint32_t id = 0, len = 0;
    struct vpr_buf two[2] = {{0x100000, 16, false}, {0x101000, 512, true}};
    GByteArray *out = g_byte_array_new();
    struct virtqueue *vq;
    Error *err = NULL;
    size_t pos = 0;

    fx_init(&f, PFEAT | (1ULL << VIRTIO_F_EVENT_IDX), 0);
    vq = &f.other.vdev.vqs[0];
    packed_start(&f, &p, 5, PFEAT);
    for (unsigned i = 0; i < 3; i++) { /* the third wraps mid-chain */
        vpr_add(&p, two, 2, (uint16_t)i);
        virtio_queue_notify(&f.e.vdev, 0);
        g_assert_true(vpr_get_used(&p, &id, &len));
    }
    g_assert_false(f.e.vdev.vqs[0].used_wrap);
    g_assert_true(vmstate_save(&virtio_core_vmsd, &f.e.vdev, out, &err));
    g_assert_true(vmstate_load(&virtio_core_vmsd, &f.other.vdev, out->data,
                               out->len, &pos, &err));
    g_assert_null(err);
    virtio_load_finish(&f.other.vdev);
    g_assert_true(vq->packed && vq->ready);
    g_assert_false(vq->used_wrap);
    g_assert_false(vq->avail_wrap);
    g_assert_cmpuint(vq->used_idx, ==, 1);
    g_assert_true(vq->pdesc == f.e.vdev.vqs[0].pdesc);
    g_assert_true(vq->device_event == f.e.vdev.vqs[0].device_event);
    vpr_add(&p, two, 2, 9);
    virtio_queue_notify(&f.other.vdev, 0);
    g_assert_true(vpr_get_used(&p, &id, &len));
    g_assert_cmpuint(id, ==, 9);
    g_assert_cmpuint(len, ==, 512);
    g_assert_cmpuint(f.other.queue_irqs, ==, 1);

    /* a slot index beyond the ring */
    f.e.vdev.vqs[0].last_avail_idx = 5;
    g_byte_array_set_size(out, 0);
    g_assert_true(vmstate_save(&virtio_core_vmsd, &f.e.vdev, out, &err));
    pos = 0;
    g_assert_false(vmstate_load(&virtio_core_vmsd, &f.other.vdev, out->data,
                                out->len, &pos, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "vmstate 'virtio': other: queue 0: packed ring index "
                    "(next available 5, next used 1) beyond its 5 slots");
    g_assert_cmpuint(vq->used_idx, ==, 3); /* as it was */
    error_free(err);
    g_byte_array_unref(out);
    fx_fini(&f);
}

static void packed_hostile(unsigned which)
{
    struct fx f;
    struct vpr p;

    fx_init(&f, PFEAT, 0);
    packed_start(&f, &p, 4, PFEAT);
    switch (which) {
    case 0: /* every slot says NEXT: longer than the queue */
        for (unsigned i = 0; i < 4; i++) {
            vpr_add_raw(&p, 0x101000, 8, VIRTQ_DESC_F_NEXT, 0);
        }
        /* the ring wrapped: slot 0 shows the next lap now; put it back */
        vpr_slot(&p, 0)->flags = VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_AVAIL;
        break;
    case 1: /* outside RAM */
        vpr_add_raw(&p, RAM - 4, 8, VIRTQ_DESC_F_WRITE, 0);
        break;
    case 2: /* indirect in indirect */
        vr_set_desc_at(f.gm, 0x200000, 0, 0x201000, 16, 0, 0);
        ((struct virtq_packed_desc *)vr_ptr(f.gm, 0x200000, 16))->flags =
            VIRTQ_DESC_F_INDIRECT;
        vpr_add_raw(&p, 0x200000, 16, VIRTQ_DESC_F_INDIRECT, 0);
        break;
    default: /* descriptor ring outside RAM */
        virtio_set_status(&f.e.vdev, 0);
        p.desc = RAM - 32;
        {
            struct vr v = {
                .desc = p.desc, .avail = p.avail, .used = p.used, .num = 4};
            vr_driver_start(&f.e.vdev, PFEAT, &v, 1);
        }
        g_assert_false(f.e.vdev.vqs[0].ready);
        break;
    }
    virtio_queue_notify(&f.e.vdev, 0);
    g_assert_true(f.e.vdev.broken);
    g_assert_true(f.e.vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    g_assert_cmpuint(f.e.config_irqs, ==, 1);
    fx_fini(&f);
}

static void test_packed_hostile(void)
{
    for (unsigned i = 0; i < 4; i++) {
        packed_hostile(i);
    }
}

/* ---- hostile rings ------------------------------------------------- */

typedef void build_fn(struct fx *f);

static void run_hostile(build_fn *build)
{
    struct fx f;

    fx_init(&f, FEAT, FEAT);
    build(&f);
    expect_broken(&f);
    fx_fini(&f);
}

static void h_loop(struct fx *f)
{
    vr_desc(&f->r, 0, 0x101000, 8, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f->r, 1, 0x101000, 8, VIRTQ_DESC_F_NEXT, 0);
    kick(f, 0);
}

static void h_self_loop(struct fx *f)
{
    vr_desc(&f->r, 3, 0x101000, 8, VIRTQ_DESC_F_NEXT, 3);
    kick(f, 3);
}

static void h_next_oob(struct fx *f)
{
    vr_desc(&f->r, 0, 0x101000, 8, VIRTQ_DESC_F_NEXT, NUM);
    kick(f, 0);
}

static void h_head_oob(struct fx *f)
{
    kick(f, NUM + 3);
}

static void h_avail_jump(struct fx *f)
{
    vr_desc(&f->r, 0, 0x101000, 8, 0, 0);
    vr_set_avail_idx(&f->r, NUM + 1);
    virtio_queue_notify(&f->e.vdev, 0);
}

static void h_addr_outside(struct fx *f)
{
    vr_desc(&f->r, 0, RAM - 4, 8, VIRTQ_DESC_F_WRITE, 0);
    kick(f, 0);
}

static void h_addr_overflow(struct fx *f)
{
    vr_desc(&f->r, 0, UINT64_MAX - 15, 0x100, 0, 0);
    kick(f, 0);
}

static void h_read_after_write(struct fx *f)
{
    vr_desc(&f->r, 0, 0x101000, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f->r, 1, 0x102000, 8, 0, 0);
    kick(f, 0);
}

static void h_indirect_in_indirect(struct fx *f)
{
    vr_set_desc_at(f->gm, 0x200000, 0, 0x201000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    vr_desc(&f->r, 0, 0x200000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    kick(f, 0);
}

static void h_indirect_loop(struct fx *f)
{
    vr_set_desc_at(f->gm, 0x200000, 0, 0x101000, 8, VIRTQ_DESC_F_NEXT, 1);
    vr_set_desc_at(f->gm, 0x200000, 1, 0x101000, 8, VIRTQ_DESC_F_NEXT, 0);
    vr_desc(&f->r, 0, 0x200000, 32, VIRTQ_DESC_F_INDIRECT, 0);
    kick(f, 0);
}

static void h_indirect_bad_len(struct fx *f)
{
    vr_desc(&f->r, 0, 0x200000, 17, VIRTQ_DESC_F_INDIRECT, 0);
    kick(f, 0);
}

static void h_indirect_outside(struct fx *f)
{
    vr_desc(&f->r, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
    kick(f, 0);
}

static void h_indirect_and_next(struct fx *f)
{
    vr_set_desc_at(f->gm, 0x200000, 0, 0x101000, 8, 0, 0);
    vr_desc(&f->r, 0, 0x200000, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT,
            1);
    kick(f, 0);
}

static void h_indirect_not_head(struct fx *f)
{
    vr_set_desc_at(f->gm, 0x200000, 0, 0x101000, 8, 0, 0);
    vr_desc(&f->r, 0, 0x101000, 8, VIRTQ_DESC_F_NEXT, 1);
    vr_desc(&f->r, 1, 0x200000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    kick(f, 0);
}

/* 600 descriptors of 8 MiB each (the same buffer): 4.7 GiB in one chain */
static void h_total_overflow(struct fx *f)
{
    for (unsigned i = 0; i < 600; i++) {
        vr_set_desc_at(f->gm, 0x200000, i, 0x800000, 8 * MiB,
                       VIRTQ_DESC_F_WRITE | (i < 599 ? VIRTQ_DESC_F_NEXT : 0),
                       (uint16_t)(i + 1));
    }
    vr_desc(&f->r, 0, 0x200000, 600 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    kick(f, 0);
}

static void h_ring_outside(struct fx *f)
{
    struct vr bad;

    vr_init(&bad, f->gm, RAM - 0x100, NUM / 2); /* fits */
    bad.used = RAM - 4;                         /* does not */
    vr_driver_start(&f->e.vdev, FEAT, &bad, 1);
    g_assert_false(f->e.vdev.vqs[0].ready);
}

static void h_ring_misaligned(struct fx *f)
{
    struct vr bad;

    vr_init(&bad, f->gm, 0x5000, NUM);
    bad.desc += 8;
    vr_driver_start(&f->e.vdev, FEAT, &bad, 1);
    g_assert_false(f->e.vdev.vqs[0].ready);
}

static void h_bad_size(struct fx *f)
{
    struct vr bad;

    vr_init(&bad, f->gm, 0x5000, 6);
    vr_driver_start(&f->e.vdev, FEAT, &bad, 1);
    g_assert_false(f->e.vdev.vqs[0].ready);
}

/* Without INDIRECT_DESC negotiated an indirect descriptor is an error. */
static void test_indirect_not_negotiated(void)
{
    struct fx f;

    fx_init(&f, FEAT, 1ULL << VIRTIO_F_VERSION_1);
    vr_set_desc_at(f.gm, 0x200000, 0, 0x101000, 8, 0, 0);
    vr_desc(&f.r, 0, 0x200000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    kick(&f, 0);
    g_assert_true(f.e.vdev.broken);
    fx_fini(&f);
}

/* A ring in ROM cannot be written: the used ring is refused. */
static void test_used_ring_in_rom(void)
{
    struct fx f;
    struct vr r;
    Error *err = NULL;

    fx_init(&f, FEAT, 0);
    g_assert_nonnull(gm_add_rom(f.gm, 0x40000000, 0x10000, true, "rom", &err));
    vr_init(&r, f.gm, 0x1000, NUM);
    r.used = 0x40000000;
    vr_driver_start(&f.e.vdev, FEAT, &r, 1);
    g_assert_true(f.e.vdev.broken);
    fx_fini(&f);
}

#define HOSTILE(name)                                                          \
    static void test_##name(void)                                              \
    {                                                                          \
        run_hostile(h_##name);                                                 \
    }
HOSTILE(loop)
HOSTILE(self_loop)
HOSTILE(next_oob)
HOSTILE(head_oob)
HOSTILE(avail_jump)
HOSTILE(addr_outside)
HOSTILE(addr_overflow)
HOSTILE(read_after_write)
HOSTILE(indirect_in_indirect)
HOSTILE(indirect_loop)
HOSTILE(indirect_bad_len)
HOSTILE(indirect_outside)
HOSTILE(indirect_and_next)
HOSTILE(indirect_not_head)
HOSTILE(total_overflow)
HOSTILE(ring_outside)
HOSTILE(ring_misaligned)
HOSTILE(bad_size)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio/features", test_features);
    g_test_add_func("/virtio/chains", test_chains);
    g_test_add_func("/virtio/event-idx", test_event_idx);
    g_test_add_func("/virtio/full-ring-in-flight", test_full_ring_in_flight);
    g_test_add_func("/virtio/packed", test_packed);
    g_test_add_func("/virtio/packed-hostile", test_packed_hostile);
    g_test_add_func("/virtio/packed-migrate", test_packed_migrate);
    g_test_add_func("/virtio/unpop", test_unpop);
    g_test_add_func("/virtio/hostile/loop", test_loop);
    g_test_add_func("/virtio/hostile/self-loop", test_self_loop);
    g_test_add_func("/virtio/hostile/next-out-of-range", test_next_oob);
    g_test_add_func("/virtio/hostile/head-out-of-range", test_head_oob);
    g_test_add_func("/virtio/hostile/avail-index-jump", test_avail_jump);
    g_test_add_func("/virtio/hostile/addr-outside-ram", test_addr_outside);
    g_test_add_func("/virtio/hostile/addr-overflow", test_addr_overflow);
    g_test_add_func("/virtio/hostile/read-after-write", test_read_after_write);
    g_test_add_func("/virtio/hostile/indirect-in-indirect",
                    test_indirect_in_indirect);
    g_test_add_func("/virtio/hostile/indirect-loop", test_indirect_loop);
    g_test_add_func("/virtio/hostile/indirect-bad-len", test_indirect_bad_len);
    g_test_add_func("/virtio/hostile/indirect-outside", test_indirect_outside);
    g_test_add_func("/virtio/hostile/indirect-and-next",
                    test_indirect_and_next);
    g_test_add_func("/virtio/hostile/indirect-not-head",
                    test_indirect_not_head);
    g_test_add_func("/virtio/hostile/total-length-overflow",
                    test_total_overflow);
    g_test_add_func("/virtio/hostile/ring-outside-ram", test_ring_outside);
    g_test_add_func("/virtio/hostile/ring-misaligned", test_ring_misaligned);
    g_test_add_func("/virtio/hostile/queue-size", test_bad_size);
    g_test_add_func("/virtio/hostile/indirect-not-negotiated",
                    test_indirect_not_negotiated);
    g_test_add_func("/virtio/hostile/used-ring-in-rom", test_used_ring_in_rom);
    return g_test_run();
}
