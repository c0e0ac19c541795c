/* SPDX-License-Identifier: MIT */
/*
 * error.c: implementation of the Error ** convention described in error.h.
 */
#include "util/common.h"
#include "util/error.h"

struct Error {
    char *msg;
    enum error_class cls;
};

void error_setg_internal(Error **errp, enum error_class cls, int err,
                         const char *fmt, ...)
{
    va_list ap;
    Error *e;

    if (!errp) {
        return;
    }
    g_assert(*errp == NULL);
    e = g_new0(Error, 1);
    va_start(ap, fmt);
    e->msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (err) {
        char *m = g_strdup_printf("%s: %s", e->msg, g_strerror(err));
        g_free(e->msg);
        e->msg = m;
    }
    e->cls = cls;
    *errp = e;
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

enum error_class error_get_class(const Error *err)
{
    return err->cls;
}

void error_propagate(Error **dst, Error *local_err)
{
    if (!local_err) {
        return;
    }
    if (dst && !*dst) {
        *dst = local_err;
    } else {
        error_free(local_err);
    }
}

void error_prepend(Error **errp, const char *fmt, ...)
{
    va_list ap;
    char *pre, *m;

    if (!errp || !*errp) {
        return;
    }
    va_start(ap, fmt);
    pre = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    m = g_strconcat(pre, (*errp)->msg, NULL);
    g_free(pre);
    g_free((*errp)->msg);
    (*errp)->msg = m;
}

void error_free(Error *err)
{
    if (err) {
        g_free(err->msg);
        g_free(err);
    }
}

/*
 * -msg timestamp=on: messages start with an ISO 8601 UTC time, as QEMU's
 * (libvirt always asks; it keeps the stderr log).  Set once by main()
 * before any thread starts; like stderr itself it is process-wide output
 * state, not machine state, hence the one static here.
 */
static gint msg_timestamps;

void error_set_timestamps(bool on)
{
    g_atomic_int_set(&msg_timestamps, on);
}

static void msg_prefix(const char *what)
{
    if (g_atomic_int_get(&msg_timestamps)) {
        GDateTime *now = g_date_time_new_now_utc();
        char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ ");

        fputs(ts, stderr);
        g_free(ts);
        g_date_time_unref(now);
    }
    fputs(what, stderr);
}

void error_report_err(Error *err)
{
    msg_prefix("vireo: ");
    fprintf(stderr, "%s\n", err->msg);
    error_free(err);
}

void error_report(const char *fmt, ...)
{
    va_list ap;

    msg_prefix("vireo: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;

    msg_prefix("vireo: warning: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
