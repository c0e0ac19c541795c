/* SPDX-License-Identifier: MIT */
/*
 * dev-harness.h: a bare struct machine (port address space, request
 * fields, log) and a way to create one device class on it with props set
 * from text, without the device table, KVM or chardevs.  For the device
 * unit tests of the dev area (debug-exit, port80, i8042).  The machine's
 * GSI lines record what devices drive on them (th_gsi_level/th_gsi_edges),
 * as a board's interrupt controller would receive it.
 */
#ifndef TESTS_UNIT_DEV_HARNESS_H
#define TESTS_UNIT_DEV_HARNESS_H

#include "util/common.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"
#include "system/guest-mem.h"
#include "system/machine.h"
#include "system/memory.h"
#include "util/keyval.h"
#include "util/log.h"

#define TH_NR_GSI 24

struct th_gsi {
    bool level[TH_NR_GSI];
    unsigned edges[TH_NR_GSI]; /* rising edges seen */
    unsigned calls[TH_NR_GSI]; /* every irq_set, redundant ones too */
};

static inline void th_gsi_handler(void *opaque, unsigned n, bool level)
{
    struct th_gsi *g = opaque;

    g_assert_cmpuint(n, <, TH_NR_GSI);
    g->calls[n]++;
    g->edges[n] += level && !g->level[n];
    g->level[n] = level;
}

static inline struct th_gsi *th_gsi(struct machine *m)
{
    return m->gsi[0].opaque;
}

static inline bool th_gsi_level(struct machine *m, unsigned n)
{
    return th_gsi(m)->level[n];
}

static inline unsigned th_gsi_edges(struct machine *m, unsigned n)
{
    return th_gsi(m)->edges[n];
}

static inline struct machine *th_machine_new(void)
{
    struct machine *m = g_new0(struct machine, 1);

    m->gsi = irq_lines_new(th_gsi_handler, g_new0(struct th_gsi, 1), TH_NR_GSI);
    m->nr_gsi = TH_NR_GSI;
    vlog_init(&m->log);
    m->pio = as_new("pio", &m->log);
    g_mutex_init(&m->req_lock);
    m->req_event_fd = -1; /* requests are only recorded */
    /* as after machine_run: devices take input; a test stops them with
     * machine_set_state (system/runstate.c) */
    m->state = RUN_STATE_RUNNING;
    return m;
}

static inline void th_machine_free(struct machine *m)
{
    as_free(m->pio);
    g_free(th_gsi(m));
    irq_lines_free(m->gsi);
    g_mutex_clear(&m->req_lock);
    vlog_close(&m->log);
    g_free(m);
}

static inline bool th_set_prop(struct device *dev, const char *name,
                               const char *val)
{
    return device_set_prop(dev, name, val, NULL);
}

/* props: NULL-terminated name, value, name, value... over the defaults. */
static inline struct device *th_device_new(struct machine *m,
                                           const struct device_class *cls,
                                           const char *const *props,
                                           Error **errp)
{
    struct device *dev = device_new(cls, m, errp);

    g_assert_nonnull(dev);
    for (; props && props[0]; props += 2) {
        g_assert_true(th_set_prop(dev, props[0], props[1]));
    }
    if (!device_realize(dev, errp)) {
        device_destroy(dev);
        return NULL;
    }
    return dev;
}

static inline void th_device_free(struct device *dev)
{
    device_destroy(dev);
}

static inline void th_reset(struct device *dev)
{
    g_mutex_lock(&dev->lock);
    dev->cls->reset(dev);
    g_mutex_unlock(&dev->lock);
}

static inline uint64_t th_in(struct machine *m, uint64_t port, unsigned len)
{
    uint8_t b[8] = {0};
    uint64_t v = 0;

    as_read(m->pio, port, b, len);
    for (unsigned i = 0; i < len; i++) {
        v |= (uint64_t)b[i] << (8 * i);
    }
    return v;
}

static inline void th_out(struct machine *m, uint64_t port, uint64_t v,
                          unsigned len)
{
    uint8_t b[8];

    for (unsigned i = 0; i < len; i++) {
        b[i] = v >> (8 * i);
    }
    as_write(m->pio, port, b, len);
}

/* Takes the pending requests (what the main loop would act on). */
/* A machine of `type` for devices on the memory bus (virtio-mmio): cfg,
 * `ram` bytes of guest RAM at 0, an MMIO address space, a main context of
 * its own (doorbells, timers) and a device list that th_board_free
 * destroys in reverse order of creation. */
static inline struct machine *th_board_new(const struct machine_type *type,
                                           const struct machine_config *cfg,
                                           uint64_t ram)
{
    struct machine *m = th_machine_new();

    m->cfg = cfg;
    m->type = type;
    m->mmio = as_new("memory", &m->log);
    m->gm = gm_new(ram, NULL);
    g_assert_nonnull(m->gm);
    g_assert_true(gm_add_ram(m->gm, 0, 0, ram, "ram", NULL));
    m->ctx = g_main_context_new();
    m->devices = g_ptr_array_new();
    return m;
}

/* Destroys the board's devices, the last created first. */
static inline void th_board_destroy_devices(struct machine *m)
{
    for (guint i = m->devices->len; i > 0; i--) {
        device_destroy(g_ptr_array_index(m->devices, i - 1));
    }
    g_ptr_array_set_size(m->devices, 0);
}

static inline void th_board_free(struct machine *m)
{
    th_board_destroy_devices(m);
    g_ptr_array_free(m->devices, TRUE);
    as_free(m->mmio);
    gm_free(m->gm);
    g_main_context_unref(m->ctx);
    th_machine_free(m);
}

static inline unsigned th_take_requests(struct machine *m,
                                        enum shutdown_cause *cause)
{
    unsigned r;

    g_mutex_lock(&m->req_lock);
    r = m->requests;
    m->requests = 0;
    if (cause) {
        *cause = m->req_cause;
    }
    m->req_cause = SHUTDOWN_CAUSE_NONE;
    g_mutex_unlock(&m->req_lock);
    return r;
}

#endif
