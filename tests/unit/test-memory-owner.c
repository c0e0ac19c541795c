/* SPDX-License-Identifier: MIT */
/*
 * test-memory-owner.c: regions owned by a reference-counted owner
 * (system/memory.h), as PCI BAR programming needs: unmap by owner, an
 * access in flight keeps its handler's opaque alive after the unmap, an
 * access that waited for the device lock while the region went away finds
 * nothing, and map/unmap churn on one thread while others access the
 * space never lets a handler see a released owner.
 */
#include "util/common.h"
#include "system/memory.h"
#include "util/log.h"

#define ALIVE 0xa11fe
#define DEAD 0xdead

struct obj {
    struct mem_owner owner; /* first */
    GMutex lock;
    gint magic;
    gint calls;
    gint released;
    /* for the in-flight test: the handler waits on main's go-ahead */
    bool block;
    gint entered;
    gint go;
};

static void obj_release(struct mem_owner *o)
{
    struct obj *x = (struct obj *)o;

    /* kept in memory so a late handler is caught, not a use after free */
    g_atomic_int_set(&x->magic, DEAD);
    g_atomic_int_inc(&x->released);
}

static void obj_init(struct obj *x)
{
    memset(x, 0, sizeof(*x));
    mem_owner_init(&x->owner, obj_release);
    g_mutex_init(&x->lock);
    x->magic = ALIVE;
}

static uint64_t obj_read(void *opaque, uint64_t off, unsigned size)
{
    struct obj *x = opaque;

    g_assert_cmpint(g_atomic_int_get(&x->magic), ==, ALIVE);
    g_atomic_int_inc(&x->calls);
    if (x->block) {
        g_atomic_int_set(&x->entered, 1);
        while (!g_atomic_int_get(&x->go)) {
            g_usleep(100);
        }
        g_assert_cmpint(g_atomic_int_get(&x->magic), ==, ALIVE);
    }
    return 0x42;
}

static void obj_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    obj_read(opaque, off, size);
}

static const struct io_ops obj_ops = {
    .read = obj_read, .write = obj_write, .min_size = 1, .max_size = 4};

static void test_unmap_by_owner(void)
{
    struct vlog log;
    struct address_space *as;
    struct obj a, b;
    uint8_t v;

    vlog_init(&log);
    as = as_new("mmio", &log);
    obj_init(&a);
    obj_init(&b);
    g_assert_true(as_map_owned(as, &a.owner, 0x1000, 0x100, &obj_ops, &a,
                               &a.lock, "a0", NULL));
    g_assert_true(as_map_owned(as, &a.owner, 0x3000, 0x100, &obj_ops, &a,
                               &a.lock, "a1", NULL));
    g_assert_true(as_map_owned(as, &b.owner, 0x2000, 0x100, &obj_ops, &b,
                               &b.lock, "b", NULL));
    g_assert_cmpint(a.owner.refs, ==, 3); /* creator + two regions */
    g_assert_cmpuint(as_unmap_owner(as, &a.owner), ==, 2);
    g_assert_cmpint(a.owner.refs, ==, 1);
    g_assert_cmpuint(as_unmap_owner(as, &a.owner), ==, 0);
    v = 0;
    as_read(as, 0x1000, &v, 1);
    g_assert_cmphex(v, ==, 0xff);
    as_read(as, 0x2000, &v, 1);
    g_assert_cmphex(v, ==, 0x42);
    g_assert_cmpint(a.calls, ==, 0);
    mem_owner_unref(&a.owner);
    g_assert_cmpint(a.released, ==, 1);
    /* a BAR moves: unmap at the old base, map at the new one */
    g_assert_true(as_unmap(as, 0x2000));
    g_assert_true(as_map_owned(as, &b.owner, 0x8000, 0x100, &obj_ops, &b,
                               &b.lock, "b", NULL));
    as_read(as, 0x8000, &v, 1);
    g_assert_cmphex(v, ==, 0x42);
    /* freeing the space drops the regions' references */
    mem_owner_unref(&b.owner);
    g_assert_cmpint(b.released, ==, 0);
    as_free(as);
    g_assert_cmpint(b.released, ==, 1);
    vlog_close(&log);
}

/* An address space with one object's region at 0x1000+0x10. */
struct fx {
    struct vlog log;
    struct address_space *as;
    struct obj a;
};

static void fx_init(struct fx *f, bool locked, bool block)
{
    vlog_init(&f->log);
    f->as = as_new("mmio", &f->log);
    obj_init(&f->a);
    f->a.block = block;
    g_assert_true(as_map_owned(f->as, &f->a.owner, 0x1000, 0x10, &obj_ops,
                               &f->a, locked ? &f->a.lock : NULL, "a", NULL));
}

static void fx_clear(struct fx *f)
{
    as_free(f->as);
    vlog_close(&f->log);
}

struct reader {
    struct address_space *as;
    uint64_t addr;
    uint8_t val;
};

static void *read_once(void *opaque)
{
    struct reader *r = opaque;

    as_read(r->as, r->addr, &r->val, 1);
    return NULL;
}

/* A vCPU is inside the handler when the device goes away: the owner
 * outlives the handler. */
static void test_inflight_keeps_owner(void)
{
    struct fx f;
    struct reader r;
    GThread *t;

    fx_init(&f, false, true);
    r = (struct reader){f.as, 0x1004, 0};
    t = g_thread_new("vcpu", read_once, &r);
    while (!g_atomic_int_get(&f.a.entered)) {
        g_usleep(100);
    }
    g_assert_cmpuint(as_unmap_owner(f.as, &f.a.owner), ==, 1);
    mem_owner_unref(&f.a.owner); /* the creator lets go */
    g_assert_cmpint(g_atomic_int_get(&f.a.released), ==, 0);
    g_atomic_int_set(&f.a.go, 1);
    g_thread_join(t);
    g_assert_cmphex(r.val, ==, 0x42);
    g_assert_cmpint(f.a.released, ==, 1); /* with the last access */
    fx_clear(&f);
}

/* An access that found the region but waits for the device lock while the
 * region is unmapped under that lock (a BAR reprogrammed from another
 * handler) finds nothing, whichever ran first. */
static void test_unmapped_while_waiting(void)
{
    struct fx f;
    struct reader r;
    GThread *t;

    fx_init(&f, true, false);
    g_mutex_lock(&f.a.lock);
    r = (struct reader){f.as, 0x1000, 0};
    t = g_thread_new("vcpu", read_once, &r);
    g_usleep(20000); /* most likely blocked on a.lock by now */
    g_assert_true(as_unmap(f.as, 0x1000));
    g_mutex_unlock(&f.a.lock);
    g_thread_join(t);
    g_assert_cmphex(r.val, ==, 0xff);
    g_assert_cmpint(f.a.calls, ==, 0);
    mem_owner_unref(&f.a.owner);
    g_assert_cmpint(f.a.released, ==, 1);
    fx_clear(&f);
}

#define CHURN_ROUNDS 3000
#define CHURN_THREADS 2

struct churn {
    struct address_space *as;
    gint stop;
    gint hits;
};

static void *hammer(void *opaque)
{
    struct churn *c = opaque;
    unsigned i = 0;

    while (!g_atomic_int_get(&c->stop)) {
        uint8_t v = 0;
        uint32_t w = 0;

        as_read(c->as, 0x1000 + (i % 4) * 0x100, &v, 1);
        as_write(c->as, 0x1000 + ((i + 1) % 4) * 0x100 + 2, &w, 2);
        g_assert_true(v == 0x42 || v == 0xff);
        if (v == 0x42) {
            g_atomic_int_inc(&c->hits);
        }
        i++;
    }
    return NULL;
}

/* One thread maps, unmaps and releases owners while others access the
 * same addresses: a handler never sees a released owner (obj_read asserts
 * it), nothing leaks a reference. */
static void test_churn(void)
{
    struct vlog log;
    struct churn c = {0};
    GThread *t[CHURN_THREADS];
    struct obj *objs = g_new0(struct obj, CHURN_ROUNDS);

    vlog_init(&log);
    c.as = as_new("mmio", &log);
    for (unsigned i = 0; i < CHURN_THREADS; i++) {
        t[i] = g_thread_new("vcpu", hammer, &c);
    }
    for (unsigned i = 0; i < CHURN_ROUNDS; i++) {
        struct obj *x = &objs[i];
        uint64_t base = 0x1000 + (i % 4) * 0x100;

        obj_init(x);
        g_assert_true(as_map_owned(c.as, &x->owner, base, 0x100, &obj_ops, x,
                                   (i & 1) ? &x->lock : NULL, "churn", NULL));
        if (i % 3 == 0) {
            g_thread_yield();
        }
        g_assert_cmpuint(as_unmap_owner(c.as, &x->owner), ==, 1);
        mem_owner_unref(&x->owner);
    }
    g_atomic_int_set(&c.stop, 1);
    for (unsigned i = 0; i < CHURN_THREADS; i++) {
        g_thread_join(t[i]);
    }
    for (unsigned i = 0; i < CHURN_ROUNDS; i++) {
        g_assert_cmpint(objs[i].released, ==, 1);
        g_assert_cmpint(objs[i].owner.refs, ==, 0);
        g_mutex_clear(&objs[i].lock);
    }
    g_test_message("%d accesses reached a handler", c.hits);
    as_free(c.as);
    vlog_close(&log);
    g_free(objs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory-owner/unmap-by-owner", test_unmap_by_owner);
    g_test_add_func("/memory-owner/inflight-keeps-owner",
                    test_inflight_keeps_owner);
    g_test_add_func("/memory-owner/unmapped-while-waiting",
                    test_unmapped_while_waiting);
    g_test_add_func("/memory-owner/churn", test_churn);
    return g_test_run();
}
