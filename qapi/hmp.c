/* SPDX-License-Identifier: MIT */
/*
 * hmp.c: the human monitor.  Each command calls the same qmp_* handler QMP
 * uses, so HMP and QMP cannot disagree; the output text follows QEMU's
 * (libvirt and scripts parse "VM status: ...").  Used by
 * human-monitor-command and by readline monitors (-monitor stdio).
 */
#include "util/common.h"
#include "qapi/monitor.h"
#include "qapi/qapi-gen-types.h"
#include "system/machine.h"
#include "sev/sev.h"
#include "util/keyval.h"

struct hmp_cmd {
    const char *name;
    const char *help;
    void (*run)(struct machine *m, const char *args, int64_t cpu, GString *out);
    bool takes_args; /* else a non-empty rest of the line is an error */
};

static void report(GString *out, Error *err)
{
    if (err) {
        g_string_append_printf(out, "Error: %s\n", error_get_pretty(err));
        error_free(err);
    }
}

static void hmp_info_status(struct machine *m, const char *args, int64_t cpu,
                            GString *out)
{
    Error *err = NULL;
    struct qapi_status_info *st = qmp_query_status(m, &err);

    if (!st) {
        report(out, err);
        return;
    }
    g_string_append_printf(out, "VM status: %s",
                           st->running ? "running" : "paused");
    if (!st->running && st->status != QAPI_RUN_STATE_PAUSED) {
        g_string_append_printf(out, " (%s)", qapi_run_state_str(st->status));
    }
    g_string_append_c(out, '\n');
    qapi_status_info_free(st);
}

static void hmp_info_cpus(struct machine *m, const char *args, int64_t cpu,
                          GString *out)
{
    Error *err = NULL;
    GPtrArray *cpus = qmp_query_cpus_fast(m, &err);

    if (!cpus) {
        report(out, err);
        return;
    }
    for (guint i = 0; i < cpus->len; i++) {
        struct qapi_cpu_info_fast *c = g_ptr_array_index(cpus, i);
        g_string_append_printf(out,
                               "%c CPU #%" PRId64 ": thread_id=%" PRId64 "\n",
                               c->cpu_index == (cpu < 0 ? 0 : cpu) ? '*' : ' ',
                               c->cpu_index, c->thread_id);
    }
    qapi_list_cpu_info_fast_free(cpus);
}

static void dump_one(struct machine *m, unsigned idx, GString *out)
{
    Error *err = NULL;

    g_string_append_printf(out, "\nCPU#%u\n", idx);
    if (!machine_dump_cpu(m, idx, out, &err)) {
        report(out, err);
    }
}

static void hmp_info_registers(struct machine *m, const char *args, int64_t cpu,
                               GString *out)
{
    unsigned idx = cpu < 0 ? 0 : (unsigned)cpu;

    if (args && strcmp(args, "-a") == 0) {
        for (unsigned i = 0; i < m->nr_vcpus; i++) {
            dump_one(m, i, out);
        }
        return;
    }
    if (args && *args) {
        g_string_append_printf(out, "info registers: unexpected '%s'\n", args);
        return;
    }
    if (idx >= m->nr_vcpus) {
        g_string_append_printf(out, "No CPU #%u\n", idx);
        return;
    }
    dump_one(m, idx, out);
}

#define SIMPLE(fn, call)                                                       \
    static void fn(struct machine *m, const char *args, int64_t cpu,           \
                   GString *out)                                               \
    {                                                                          \
        Error *err = NULL;                                                     \
        call(m, &err);                                                         \
        report(out, err);                                                      \
    }
SIMPLE(hmp_stop, qmp_stop)
SIMPLE(hmp_cont, qmp_cont)
SIMPLE(hmp_system_reset, qmp_system_reset)
SIMPLE(hmp_system_powerdown, qmp_system_powerdown)
SIMPLE(hmp_quit, qmp_quit)

/* migrate [-d] URI (QEMU's -d: detach, what vireo's migrate does anyway) */
static void hmp_migrate(struct machine *m, const char *args, int64_t cpu,
                        GString *out)
{
    Error *err = NULL;
    g_autofree char *uri = NULL;

    /* QEMU's "migrate [-d] uri": -d (detach) is what vireo's migrate
     * always does (the command returns at once), so it is taken as is. */
    while (g_ascii_isspace(*args)) {
        args++;
    }
    if (g_str_has_prefix(args, "-d") &&
        (!args[2] || g_ascii_isspace(args[2]))) {
        args += 2;
    }
    uri = g_strstrip(g_strdup(args));
    if (!*uri) {
        g_string_append(out, "migrate: missing URI (usage: migrate [-d] "
                             "uri)\n");
        return;
    }
    if (uri[0] == '-') {
        g_string_append_printf(out,
                               "migrate: unsupported option %.*s (only -d)\n",
                               (int)strcspn(uri, " \t"), uri);
        return;
    }
    qmp_migrate(m, uri, false, false, false, false, false, false, false, false,
                &err);
    report(out, err);
}

static void hmp_info_migrate(struct machine *m, const char *args, int64_t cpu,
                             GString *out)
{
    Error *err = NULL;
    struct qapi_migration_info *i = qmp_query_migrate(m, &err);

    if (!i) {
        report(out, err);
        return;
    }
    if (i->has_status) {
        g_string_append_printf(out, "Migration status: %s\n",
                               qapi_migration_status_str(i->status));
    }
    if (i->has_error_desc) {
        g_string_append_printf(out, "error description: %s\n", i->error_desc);
    }
    if (i->has_total_time) {
        g_string_append_printf(out, "total time: %" PRId64 " ms\n",
                               i->total_time);
    }
    if (i->has_downtime) {
        g_string_append_printf(out, "downtime: %" PRId64 " ms\n", i->downtime);
    }
    if (i->has_setup_time) {
        g_string_append_printf(out, "setup: %" PRId64 " ms\n", i->setup_time);
    }
    if (i->has_ram) {
        g_string_append_printf(out,
                               "transferred ram: %" PRId64 " kbytes\n"
                               "remaining ram: %" PRId64 " kbytes\n"
                               "total ram: %" PRId64 " kbytes\n"
                               "duplicate: %" PRId64 " pages\n"
                               "normal: %" PRId64 " pages\n",
                               i->ram->transferred >> 10,
                               i->ram->remaining >> 10, i->ram->total >> 10,
                               i->ram->duplicate, i->ram->normal);
    }
    qapi_migration_info_free(i);
}

static void hmp_info_balloon(struct machine *m, const char *args, int64_t cpu,
                             GString *out)
{
    Error *err = NULL;
    struct qapi_balloon_info *b = qmp_query_balloon(m, &err);

    if (!b) {
        report(out, err);
        return;
    }
    g_string_append_printf(out, "balloon: actual=%" PRId64 "\n",
                           b->actual >> 20);
    qapi_balloon_info_free(b);
}

/* balloon SIZE: MiB unless suffixed (QEMU's 'M' argument type) */
static void hmp_balloon(struct machine *m, const char *args, int64_t cpu,
                        GString *out)
{
    Error *err = NULL;
    uint64_t bytes;

    if (!*args) {
        /* QEMU's expression parser's words for a missing size */
        g_string_append(out, "unexpected end of expression\n"
                             "Try \"help balloon\" for more information\n");
        return;
    }
    if (!parse_size(args, MiB, &bytes) || bytes > INT64_MAX) {
        g_string_append_printf(out, "balloon: invalid size '%s'\n", args);
        return;
    }
    qmp_balloon(m, (int64_t)bytes, &err);
    report(out, err);
}

static void hmp_info_dirty_rate(struct machine *m, const char *args,
                                int64_t cpu, GString *out)
{
    Error *err = NULL;
    struct qapi_dirty_rate_info *i = qmp_query_dirty_rate(m, &err);

    if (!i) {
        report(out, err);
        return;
    }
    /* QEMU 7.2's lines ("(ms)" is its label for what are seconds) */
    g_string_append_printf(out,
                           "Status: %s\n"
                           "Start Time: %" PRId64 " (ms)\n"
                           "Sample Pages: %" PRId64 " (per GB)\n"
                           "Period: %" PRId64 " (sec)\n"
                           "Mode: %s\n"
                           "Dirty rate: ",
                           qapi_dirty_rate_status_str(i->status), i->start_time,
                           i->sample_pages, i->calc_time,
                           qapi_dirty_rate_measure_mode_str(i->mode));
    if (!i->has_dirty_rate) {
        g_string_append(out, "(not ready)\n");
    } else {
        g_string_append_printf(out, "%" PRId64 " (MB/s)\n", i->dirty_rate);
    }
    for (guint k = 0; i->has_vcpu_dirty_rate && k < i->vcpu_dirty_rate->len;
         k++) {
        const struct qapi_dirty_rate_vcpu *v =
            g_ptr_array_index(i->vcpu_dirty_rate, k);

        g_string_append_printf(
            out, "vcpu[%" PRId64 "], Dirty rate: %" PRId64 " (MB/s)\n", v->id,
            v->dirty_rate);
    }
    qapi_dirty_rate_info_free(i);
}

/* QEMU's monitor words for a bad argument of calc_dirty_rate */
static void calc_usage(GString *out, const char *what)
{
    g_string_append_printf(out,
                           "%s\nTry \"help calc_dirty_rate\" for more "
                           "information\n",
                           what);
}

/* One integer word of calc_dirty_rate (QEMU's expression argument: vireo
 * takes a plain integer); false with the error written. */
static bool calc_int(const char *w, int64_t *v, GString *out)
{
    char *end;

    if (!w) {
        calc_usage(out, "unexpected end of expression");
        return false;
    }
    errno = 0;
    *v = g_ascii_strtoll(w, &end, 0);
    if (end == w || *end || errno) {
        g_autofree char *msg = g_strdup_printf(
            "invalid char '%c' in expression", end == w || !*end ? *w : *end);

        calc_usage(out, msg);
        return false;
    }
    return true;
}

/* calc_dirty_rate [-r] [-b] second [sample_pages_per_GB] */
static void hmp_calc_dirty_rate(struct machine *m, const char *args,
                                int64_t cpu, GString *out)
{
    g_auto(GStrv) w = g_strsplit_set(args, " \t", -1);
    bool ring = false, bitmap = false, has_pages = false;
    int64_t sec, pages = 0;
    const char *words[3] = {NULL};
    unsigned n = 0, i = 0;
    Error *err = NULL;

    for (; w[i] && (!*w[i] || w[i][0] == '-'); i++) {
        if (!*w[i]) {
            continue;
        }
        for (const char *c = w[i] + 1; *c || c == w[i] + 1; c++) {
            if (*c == 'r') {
                ring = true;
            } else if (*c == 'b') {
                bitmap = true;
            } else {
                g_autofree char *msg = g_strdup_printf(
                    "calc_dirty_rate: unsupported option -%c", *c);

                calc_usage(out, msg);
                return;
            }
        }
    }
    for (; w[i]; i++) {
        if (!*w[i]) {
            continue;
        }
        if (n == 2) {
            calc_usage(out, "calc_dirty_rate: extraneous characters at the "
                            "end of line");
            return;
        }
        words[n++] = w[i];
    }
    if (!calc_int(words[0], &sec, out) ||
        (words[1] && !calc_int(words[1], &pages, out))) {
        return;
    }
    has_pages = words[1] != NULL;
    if (!sec) {
        g_string_append(out, "Incorrect period length specified!\n");
        return;
    }
    if (ring && bitmap) {
        g_string_append(out, "Either dirty ring or dirty bitmap can be "
                             "specified!\n");
        return;
    }
    qmp_calc_dirty_rate(m, sec, has_pages, pages, true,
                        bitmap ? QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_BITMAP
                        : ring ? QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_RING
                               : QAPI_DIRTY_RATE_MEASURE_MODE_PAGE_SAMPLING,
                        &err);
    if (err) {
        report(out, err);
        return;
    }
    g_string_append_printf(out,
                           "Starting dirty rate measurement with period "
                           "%" PRId64 " seconds\n"
                           "[Please use 'info dirty_rate' to check results]\n",
                           sec);
}

static void hmp_help(struct machine *m, const char *args, int64_t cpu,
                     GString *out);
static void hmp_info(struct machine *m, const char *args, int64_t cpu,
                     GString *out);

static const struct hmp_cmd hmp_cmds[] = {
    {"balloon",
     "balloon target -- request VM to change its memory allocation "
     "(in MB)",
     hmp_balloon, true},
    {"calc_dirty_rate",
     "calc_dirty_rate [-r] [-b] second [sample_pages_per_GB] -- start a "
     "round of guest dirty rate measurement (using -r to\n\t\t\t specify "
     "dirty ring as the method of calculation and\n\t\t\t -b to specify "
     "dirty bitmap as method of calculation)",
     hmp_calc_dirty_rate, true},
    {"cont", "cont|c -- resume emulation", hmp_cont},
    {"c", NULL, hmp_cont},
    {"help", "help|? [cmd] -- show the help", hmp_help},
    {"?", NULL, hmp_help},
    {"info", "info [subcommand] -- show various information", hmp_info},
    {"migrate",
     "migrate [-d] uri -- migrate to URI (file:, fd:, unix:, "
     "tcp:, exec:)",
     hmp_migrate, true},
    {"quit", "quit|q -- quit the emulator", hmp_quit},
    {"q", NULL, hmp_quit},
    {"stop", "stop|s -- stop emulation", hmp_stop},
    {"s", NULL, hmp_stop},
    {"system_powerdown", "system_powerdown -- send system power down event",
     hmp_system_powerdown},
    {"system_reset", "system_reset -- reset the system", hmp_system_reset},
};

static const struct hmp_cmd hmp_info_cmds[] = {
    {"balloon", "info balloon -- show balloon information", hmp_info_balloon},
    {"cpus", "info cpus -- show infos for each CPU", hmp_info_cpus},
    {"dirty_rate", "info dirty_rate -- show dirty rate information",
     hmp_info_dirty_rate},
    {"migrate", "info migrate -- show migration status", hmp_info_migrate},
    {"registers", "info registers [-a] -- show the cpu registers",
     hmp_info_registers},
    {"sev", "info sev -- show SEV information", hmp_info_sev},
    {"status", "info status -- show the current VM status", hmp_info_status},
};

static void hmp_help(struct machine *m, const char *args, int64_t cpu,
                     GString *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(hmp_cmds); i++) {
        if (hmp_cmds[i].help) {
            g_string_append_printf(out, "%s\n", hmp_cmds[i].help);
        }
    }
}

static void hmp_info(struct machine *m, const char *args, int64_t cpu,
                     GString *out)
{
    char **w;

    if (!args || !*args) {
        for (size_t i = 0; i < ARRAY_SIZE(hmp_info_cmds); i++) {
            g_string_append_printf(out, "%s\n", hmp_info_cmds[i].help);
        }
        return;
    }
    w = g_strsplit_set(args, " \t", 2);
    for (size_t i = 0; i < ARRAY_SIZE(hmp_info_cmds); i++) {
        if (strcmp(w[0], hmp_info_cmds[i].name) == 0) {
            const char *rest = w[1] ? g_strstrip(w[1]) : "";
            hmp_info_cmds[i].run(m, rest, cpu, out);
            g_strfreev(w);
            return;
        }
    }
    g_string_append_printf(out, "unknown command: 'info %s'\n", w[0]);
    g_strfreev(w);
}

char *hmp_run(struct machine *m, const char *line, int64_t cpu_index)
{
    GString *out = g_string_new(NULL);
    GString *crlf;
    char *copy = g_strstrip(g_strdup(line));
    char **w = g_strsplit_set(copy, " \t", 2);
    bool found = false;

    if (w[0] && *w[0]) {
        for (size_t i = 0; i < ARRAY_SIZE(hmp_cmds); i++) {
            if (strcmp(w[0], hmp_cmds[i].name) == 0) {
                const char *rest = w[1] ? g_strstrip(w[1]) : "";
                if (hmp_cmds[i].run != hmp_info &&
                    hmp_cmds[i].run != hmp_help && !hmp_cmds[i].takes_args &&
                    *rest) {
                    g_string_append_printf(out, "%s: extra parameter '%s'\n",
                                           w[0], rest);
                } else {
                    hmp_cmds[i].run(m, rest, cpu_index, out);
                }
                found = true;
                break;
            }
        }
        if (!found) {
            g_string_append_printf(out, "unknown command: '%s'\n", w[0]);
        }
    }
    g_strfreev(w);
    g_free(copy);

    /* QEMU's monitor ends lines with CRLF */
    crlf = g_string_sized_new(out->len + 16);
    for (gsize i = 0; i < out->len; i++) {
        if (out->str[i] == '\n' && (i == 0 || out->str[i - 1] != '\r')) {
            g_string_append_c(crlf, '\r');
        }
        g_string_append_c(crlf, out->str[i]);
    }
    g_string_free(out, TRUE);
    return g_string_free(crlf, FALSE);
}
