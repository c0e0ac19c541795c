/* SPDX-License-Identifier: MIT */
/*
 * log.c: rate-limited -d/-D logging; see log.h.
 */
#include "util/common.h"
#include "util/log.h"

/* At most this many messages per second; the rest are counted. */
#define VLOG_RATE 50

static const struct {
    const char *name;
    unsigned bit;
    const char *help;
} log_items[] = {
    {"guest_errors", VLOG_GUEST_ERROR,
     "log when the guest accesses invalid or unimplemented hardware"},
    {"unimp", VLOG_UNIMP, "log unimplemented functionality"},
    {"int", VLOG_INT, "log interrupts and exceptions"},
    {"cpu_reset", VLOG_CPU_RESET, "log CPU state at reset"},
};

void vlog_init(struct vlog *l)
{
    memset(l, 0, sizeof(*l));
    g_mutex_init(&l->lock);
}

void vlog_close(struct vlog *l)
{
    if (l->out) {
        fclose(l->out);
        l->out = NULL;
    }
    g_mutex_clear(&l->lock);
}

const char *vlog_help(void)
{
    static char buf[1024];

    if (!buf[0]) {
        GString *s = g_string_new("Log items (comma separated):\n");
        for (size_t i = 0; i < ARRAY_SIZE(log_items); i++) {
            g_string_append_printf(s, "%-15s %s\n", log_items[i].name,
                                   log_items[i].help);
        }
        g_strlcpy(buf, s->str, sizeof(buf));
        g_string_free(s, TRUE);
    }
    return buf;
}

bool vlog_parse_mask(const char *items, unsigned *mask, Error **errp)
{
    gchar **v = g_strsplit(items, ",", -1);
    unsigned m = 0;

    for (gchar **p = v; *p; p++) {
        size_t i;
        for (i = 0; i < ARRAY_SIZE(log_items); i++) {
            if (!strcmp(*p, log_items[i].name)) {
                m |= log_items[i].bit;
                break;
            }
        }
        if (i == ARRAY_SIZE(log_items)) {
            error_setg(errp, "-d: unknown log item '%s' (try -d help)", *p);
            g_strfreev(v);
            return false;
        }
    }
    g_strfreev(v);
    *mask = m;
    return true;
}

bool vlog_set_file(struct vlog *l, const char *path, Error **errp)
{
    FILE *f = fopen(path, "a");

    if (!f) {
        error_setg_errno(errp, errno, "-D: cannot open log file '%s'", path);
        return false;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    if (l->out) {
        fclose(l->out);
    }
    l->out = f;
    return true;
}

void vlog_msg(struct vlog *l, unsigned kind, const char *fmt, ...)
{
    va_list ap;
    gint64 now;
    FILE *out;

    if (!l || !(l->mask & kind)) {
        return;
    }
    g_mutex_lock(&l->lock);
    out = l->out ? l->out : stderr;
    now = g_get_monotonic_time();
    if (now - l->window_start_us >= G_USEC_PER_SEC) {
        if (l->suppressed) {
            fprintf(out, "vireo: %u log messages suppressed\n", l->suppressed);
        }
        l->window_start_us = now;
        l->in_window = 0;
        l->suppressed = 0;
    }
    if (l->in_window++ >= VLOG_RATE) {
        l->suppressed++;
        g_mutex_unlock(&l->lock);
        return;
    }
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    g_mutex_unlock(&l->lock);
}
