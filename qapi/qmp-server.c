/* SPDX-License-Identifier: MIT */
/*
 * qmp-server.c: puts monitors on chardevs.  A control monitor wraps a
 * qmp_session; a readline monitor collects lines and runs them through
 * hmp_run().  Machine events reach every negotiated QMP session through
 * one machine listener.
 *
 * Flow control (QMP): replies always go out whole (chardev_write_all).
 * While the chardev holds output its client has not read yet, the session
 * runs no more commands and the chardev stops reading this client's input
 * (can_read 0), so a client that pipelines thousands of commands gets
 * every reply, as in QEMU, and one that stops reading costs bounded
 * memory: its input waits in its own socket.  When the output drains
 * (chardev "drained") the held input runs and reading resumes.  A client
 * that makes no progress at all on its output for stall_ms, or falls more
 * than QMP_EVENT_BACKLOG behind on events, is disconnected so the next one
 * can connect.  Every pending disconnect is cancelled when the client goes
 * away: it must never hit the next client on the same socket.
 */
#include "util/common.h"
#include "qapi/monitor.h"
#include "qapi/qmp-session.h"
#include "qapi/qapi-gen-types.h"
#include "hw/char/chardev.h"
#include "system/machine.h"

#define HMP_MAX_LINE 4096
/* QEMU never disconnects a client; we do when it has read nothing of its
 * pending output for this long. */
#define QMP_STALL_TIMEOUT_MS 30000u
/* Unread output beyond which events are refused (and the client cut). */
#define QMP_EVENT_BACKLOG (1024u * 1024)

struct monitor {
    struct machine *m;
    struct chardev *chr;
    bool control;
    struct qmp_session *qmp; /* control */
    GString *line;           /* readline */
    bool line_overflow;
    GSource *cut_src;   /* pending disconnect of a stalled client */
    GSource *stall_src; /* checks a client with unread output */
    uint64_t stall_progress;
    unsigned stall_ms;
};

struct monitor_set {
    struct machine *m;
    GPtrArray *mons;                  /* struct monitor * */
    struct machine_listener listener; /* registered by pointer */
};

static void source_cancel(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_source_unref(*src);
        *src = NULL;
    }
}

static gboolean cut_client(gpointer opaque)
{
    struct monitor *mon = opaque;

    g_source_unref(mon->cut_src);
    mon->cut_src = NULL;
    chardev_disconnect(mon->chr); /* CHARDEV_CLOSED cancels the rest */
    return G_SOURCE_REMOVE;
}

/* From an idle callback: never inside the write's or the read's call
 * chain, which still use the connection. */
static void schedule_cut(struct monitor *mon)
{
    if (!mon->cut_src) {
        mon->cut_src = g_idle_source_new();
        g_source_set_callback(mon->cut_src, cut_client, mon, NULL);
        g_source_attach(mon->cut_src, mon->m->ctx);
    }
}

static gboolean stall_check(gpointer opaque)
{
    struct monitor *mon = opaque;
    uint64_t p = chardev_out_progress(mon->chr);

    if (chardev_out_pending(mon->chr) && p == mon->stall_progress) {
        /* not a byte read for a whole period */
        g_source_unref(mon->stall_src);
        mon->stall_src = NULL;
        chardev_disconnect(mon->chr);
        return G_SOURCE_REMOVE;
    }
    if (!chardev_out_pending(mon->chr)) {
        g_source_unref(mon->stall_src);
        mon->stall_src = NULL;
        return G_SOURCE_REMOVE;
    }
    mon->stall_progress = p;
    return G_SOURCE_CONTINUE;
}

/* The client has unread output: watch that it keeps reading. */
static void stall_watch(struct monitor *mon)
{
    if (!mon->stall_src) {
        mon->stall_progress = chardev_out_progress(mon->chr);
        mon->stall_src = g_timeout_source_new(mon->stall_ms);
        g_source_set_callback(mon->stall_src, stall_check, mon, NULL);
        g_source_attach(mon->stall_src, mon->m->ctx);
    }
}

static bool qmp_busy(void *opaque)
{
    struct monitor *mon = opaque;

    if (!chardev_out_pending(mon->chr)) {
        return false;
    }
    stall_watch(mon);
    return true;
}

static bool qmp_write(void *opaque, const char *data, size_t len, bool event)
{
    struct monitor *mon = opaque;

    if (event && chardev_out_pending(mon->chr) > QMP_EVENT_BACKLOG) {
        schedule_cut(mon);
        return false;
    }
    chardev_write_all(mon->chr, (const uint8_t *)data, len);
    return true;
}

static const struct qmp_transport qmp_transport = {
    .write = qmp_write,
    .busy = qmp_busy,
};

/* The human monitor: a terminal that cannot keep up loses output. */
static void hmp_write(struct monitor *mon, const char *data, size_t len)
{
    chardev_write(mon->chr, (const uint8_t *)data, len);
}

/*
 * A QMP monitor takes input only while its client has read its replies
 * and nothing is held; the readline monitor always does.
 */
static size_t mon_can_read(void *opaque)
{
    struct monitor *mon = opaque;

    if (mon->control && (qmp_session_held(mon->qmp) || qmp_busy(mon))) {
        return 0;
    }
    return 64 * 1024;
}

/* The client read all its pending output: run what it sent meanwhile. */
static void mon_drained(void *opaque)
{
    struct monitor *mon = opaque;

    if (mon->control && qmp_session_resume(mon->qmp) &&
        !chardev_out_pending(mon->chr)) {
        chardev_accept_input(mon->chr);
    }
}

static void hmp_prompt(struct monitor *mon)
{
    hmp_write(mon, "(qemu) ", 7);
}

static void hmp_input(struct monitor *mon, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' || mon->line->len || !mon->line_overflow) {
                hmp_write(mon, "\r\n", 2);
            }
            if (mon->line_overflow) {
                const char *msg = "line too long\r\n";
                hmp_write(mon, msg, strlen(msg));
            } else if (mon->line->len) {
                char *out = hmp_run(mon->m, mon->line->str, -1);
                hmp_write(mon, out, strlen(out));
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
                hmp_write(mon, "\b \b", 3);
            }
        } else if ((unsigned char)c >= 0x20) {
            if (mon->line->len >= HMP_MAX_LINE) {
                mon->line_overflow = true;
            } else {
                g_string_append_c(mon->line, c);
                hmp_write(mon, &c, 1);
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
        hmp_write(mon, g, strlen(g));
        g_free(g);
        hmp_prompt(mon);
    }
}

static void mon_event(void *opaque, enum chardev_event ev)
{
    struct monitor *mon = opaque;

    if (ev == CHARDEV_OPENED || ev == CHARDEV_CLOSED) {
        /* whatever was pending was about the client that left */
        source_cancel(&mon->cut_src);
        source_cancel(&mon->stall_src);
    }
    if (ev == CHARDEV_OPENED) {
        mon_greet(mon);
    }
}

static void monitor_free(struct monitor *mon)
{
    if (!mon) {
        return;
    }
    source_cancel(&mon->cut_src);
    source_cancel(&mon->stall_src);
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
            .drained = mon_drained,
            .opaque = mon,
        };

        mon->m = m;
        mon->stall_ms = QMP_STALL_TIMEOUT_MS;
        mon->control = spec->mode == MON_MODE_CONTROL;
        if (mon->control) {
            mon->qmp = qmp_session_new(m, qapi_commands, qapi_nr_commands,
                                       spec->pretty, &qmp_transport, mon);
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

static struct monitor_set *find_set(struct machine *m, guint *index)
{
    for (guint i = 0; m->listeners && i < m->listeners->len; i++) {
        struct machine_listener *l = g_ptr_array_index(m->listeners, i);
        if (l->event == set_event) {
            *index = i;
            return l->opaque;
        }
    }
    return NULL;
}

void monitor_free_all(struct machine *m)
{
    guint i;
    struct monitor_set *set = find_set(m, &i);

    if (set) {
        set_free(set);
        g_ptr_array_remove_index(m->listeners, i);
    }
}

void monitor_set_stall_timeout(struct machine *m, unsigned ms)
{
    guint i;
    struct monitor_set *set = find_set(m, &i);

    for (guint j = 0; set && j < set->mons->len; j++) {
        struct monitor *mon = g_ptr_array_index(set->mons, j);
        mon->stall_ms = MAX(ms, 1u);
    }
}
