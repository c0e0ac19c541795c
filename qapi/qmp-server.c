/* SPDX-License-Identifier: MIT */
/*
 * qmp-server.c: puts monitors on chardevs.  A control monitor wraps a
 * qmp_session; a readline monitor collects lines and runs them through
 * hmp_run().  Machine events reach every negotiated QMP session through
 * one machine listener.
 *
 * A client that stops reading: chardev_write() buffers up to its bound and
 * then refuses bytes; the session is then marked stalled: its input is
 * read and dropped and it gets no replies until it reconnects, so it costs
 * bounded memory and never holds up the VM or the other monitors.
 */
#include "util/common.h"
#include "qapi/monitor.h"
#include "qapi/qmp-session.h"
#include "qapi/qapi-gen-types.h"
#include "hw/char/chardev.h"
#include "system/machine.h"

#define HMP_MAX_LINE 4096

struct monitor {
    struct machine *m;
    struct chardev *chr;
    bool control;
    struct qmp_session *qmp; /* control */
    GString *line;           /* readline */
    bool line_overflow;
    GSource *cut_src; /* pending disconnect of a stalled client */
};

struct monitor_set {
    struct machine *m;
    GPtrArray *mons;                  /* struct monitor * */
    struct machine_listener listener; /* registered by pointer */
};

static gboolean cut_client(gpointer opaque)
{
    struct monitor *mon = opaque;

    g_source_unref(mon->cut_src);
    mon->cut_src = NULL;
    chardev_disconnect(mon->chr);
    return G_SOURCE_REMOVE;
}

/*
 * A client that does not read its replies fills the chardev's bounded
 * buffer; once a reply is refused the client is disconnected (from an idle
 * callback, outside the write's call chain) so the next one can connect.
 */
static bool mon_write(void *opaque, const char *data, size_t len)
{
    struct monitor *mon = opaque;

    if (chardev_write(mon->chr, (const uint8_t *)data, len) == len) {
        return true;
    }
    if (mon->control && !mon->cut_src) {
        mon->cut_src = g_idle_source_new();
        g_source_set_callback(mon->cut_src, cut_client, mon, NULL);
        g_source_attach(mon->cut_src, mon->m->ctx);
    }
    return false;
}

/*
 * Always willing: a stalled session drops its input (qmp_session_input),
 * and reading on is what lets the chardev see the client hang up and
 * accept the next one.
 */
static size_t mon_can_read(void *opaque)
{
    return 64 * 1024;
}

static void hmp_prompt(struct monitor *mon)
{
    mon_write(mon, "(qemu) ", 7);
}

static void hmp_input(struct monitor *mon, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' || mon->line->len || !mon->line_overflow) {
                mon_write(mon, "\r\n", 2);
            }
            if (mon->line_overflow) {
                const char *msg = "line too long\r\n";
                mon_write(mon, msg, strlen(msg));
            } else if (mon->line->len) {
                char *out = hmp_run(mon->m, mon->line->str, -1);
                mon_write(mon, out, strlen(out));
                g_free(out);
            }
            g_string_truncate(mon->line, 0);
            mon->line_overflow = false;
            hmp_prompt(mon);
            /* swallow the \n of a \r\n pair */
            if (c == '\r' && i + 1 < len && buf[i + 1] == '\n') {
                i++;
            }
        } else if (c == 0x7f || c == '\b') {
            if (mon->line->len) {
                g_string_truncate(mon->line, mon->line->len - 1);
                mon_write(mon, "\b \b", 3);
            }
        } else if ((unsigned char)c >= 0x20) {
            if (mon->line->len >= HMP_MAX_LINE) {
                mon->line_overflow = true;
            } else {
                g_string_append_c(mon->line, c);
                mon_write(mon, &c, 1);
            }
        }
    }
}

static void mon_read(void *opaque, const uint8_t *buf, size_t len)
{
    struct monitor *mon = opaque;

    if (mon->control) {
        /* getfd takes the fds that came with these bytes from here */
        mon->m->qmp_cur_chr = mon->chr;
        qmp_session_input(mon->qmp, buf, len);
        mon->m->qmp_cur_chr = NULL;
    } else {
        hmp_input(mon, buf, len);
    }
}

static void mon_greet(struct monitor *mon)
{
    if (mon->control) {
        qmp_session_greet(mon->qmp);
    } else {
        char *g = g_strdup_printf("QEMU %d.%d.%d monitor - type 'help' for "
                                  "more information\r\n",
                                  VIREO_QEMU_MAJOR, VIREO_QEMU_MINOR,
                                  VIREO_QEMU_MICRO);
        g_string_truncate(mon->line, 0);
        mon_write(mon, g, strlen(g));
        g_free(g);
        hmp_prompt(mon);
    }
}

static void mon_event(void *opaque, enum chardev_event ev)
{
    struct monitor *mon = opaque;

    if (ev == CHARDEV_OPENED) {
        mon_greet(mon);
    }
}

static void monitor_free(struct monitor *mon)
{
    if (!mon) {
        return;
    }
    if (mon->cut_src) {
        g_source_destroy(mon->cut_src);
        g_source_unref(mon->cut_src);
    }
    if (mon->chr) {
        chardev_detach(mon->chr, mon);
    }
    qmp_session_free(mon->qmp);
    if (mon->line) {
        g_string_free(mon->line, TRUE);
    }
    g_free(mon);
}

static void set_event(void *opaque, const char *name, const char *data_json)
{
    struct monitor_set *set = opaque;
    gint64 now = g_get_real_time();

    for (guint i = 0; i < set->mons->len; i++) {
        struct monitor *mon = g_ptr_array_index(set->mons, i);
        if (mon->control) {
            qmp_session_event(mon->qmp, name, data_json, now);
        }
    }
}

static void set_free(struct monitor_set *set)
{
    for (guint i = 0; i < set->mons->len; i++) {
        monitor_free(g_ptr_array_index(set->mons, i));
    }
    g_ptr_array_free(set->mons, TRUE);
    g_free(set);
}

bool monitor_init_all(struct machine *m, Error **errp)
{
    struct monitor_set *set = g_new0(struct monitor_set, 1);
    GPtrArray *specs = m->cfg->monitors;
    struct machine_listener l = {.event = set_event, .opaque = set};

    set->m = m;
    set->mons = g_ptr_array_new();
    for (guint i = 0; specs && i < specs->len; i++) {
        const struct mon_spec *spec = g_ptr_array_index(specs, i);
        struct monitor *mon = g_new0(struct monitor, 1);
        struct chardev_frontend fe = {
            .can_read = mon_can_read,
            .read = mon_read,
            .event = mon_event,
            .opaque = mon,
        };

        mon->m = m;
        mon->control = spec->mode == MON_MODE_CONTROL;
        if (mon->control) {
            mon->qmp = qmp_session_new(m, qapi_commands, qapi_nr_commands,
                                       spec->pretty, mon_write, mon);
        } else {
            mon->line = g_string_new(NULL);
        }
        mon->chr = machine_find_chardev(m, spec->chardev_id);
        if (!mon->chr) {
            error_setg(errp, "chardev \"%s\" not found", spec->chardev_id);
        } else if (!chardev_attach(mon->chr, &fe, errp)) {
            mon->chr = NULL;
        }
        if (!mon->chr) {
            monitor_free(mon);
            set_free(set);
            return false;
        }
        /* chardev_attach() reported CHARDEV_OPENED if a client is
         * already there (stdio), which sent the greeting */
        g_ptr_array_add(set->mons, mon);
    }
    /* the machine keeps a copy of l; its opaque owns the monitors */
    machine_add_listener(m, &l);
    return true;
}

void monitor_free_all(struct machine *m)
{
    for (guint i = 0; m->listeners && i < m->listeners->len; i++) {
        struct machine_listener *l = g_ptr_array_index(m->listeners, i);
        if (l->event == set_event) {
            set_free(l->opaque);
            g_ptr_array_remove_index(m->listeners, i);
            return;
        }
    }
}
