/* SPDX-License-Identifier: MIT */
/*
 * snapshot-bench.c: the cost of vireo's snapshot stream itself, without
 * KVM (this machine has none): guest RAM of N MiB of random data saved in
 * the file layout (migration/savevm.c, as `migrate file:` writes it), the
 * same bytes copied by cp(1), and the restore that maps the file
 * copy-on-write (what `-incoming file:` does before the vCPUs run), plus
 * the read-in restore from a pipe.  Median of R runs each.
 * Live migration's pass rate (migration/precopy.c, no KVM: vireo's own
 * dirty bitmap only): the first pass over all RAM and a second pass over
 * a quarter of it, each into a unix socket that a thread drains, against
 * plain write(2)s of the same bytes into the same kind of socket.
 *
 * usage: snapshot-bench [MiB] [runs] [dir] [save]
 * ("save": only the save and cp figures, the slow restores left out)
 */
#include "util/common.h"
#include "migration/precopy.h"
#include "migration/savevm.h"
#include "system/guest-mem.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static double now_ms(void)
{
    return g_get_monotonic_time() / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static struct savevm *registry(struct guest_mem *gm)
{
    struct savevm *sv = savevm_new("microvm");

    savevm_fingerprint_add(sv, "ram", "%" PRIu64, gm->ram_size);
    savevm_register_ram(sv, gm);
    return sv;
}

static gpointer drain(gpointer opaque)
{
    int fd = GPOINTER_TO_INT(opaque);
    static char buf[1 << 20];

    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    close(fd);
    return NULL;
}

/* A socket pair whose reader thread discards what it reads. */
static int sink(GThread **t)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        return -1;
    }
    *t = g_thread_new("drain", drain, GINT_TO_POINTER(sv[1]));
    return sv[0];
}

struct live_run {
    struct guest_mem *gm;
    double t_pass2; /* when the second pass began */
};

/* After the first pass's sync: the guest "wrote" every 4th page. */
static void live_pass(void *opaque, unsigned pass)
{
    struct live_run *l = opaque;

    if (pass == 2) {
        for (uint64_t off = 0; off < l->gm->ram_size; off += 4 * 4096) {
            gm_mark_dirty_hva(l->gm, l->gm->ram + off, 1);
        }
        l->t_pass2 = now_ms();
    }
}

/* ms of the first pass and of the second (a quarter of RAM) */
static bool bench_live(struct guest_mem *gm, double *first, double *second)
{
    struct precopy p = {.downtime_limit_ms = 0, .max_passes = 2};
    struct live_run l = {.gm = gm};
    struct savevm *sv = registry(gm);
    GThread *t = NULL;
    int fd = sink(&t);
    double t0 = now_ms();
    bool ok;

    p.on_pass = live_pass;
    p.opaque = &l;
    ok = fd >= 0 && precopy_start(&p, gm, NULL, sv, fd, NULL);
    ok = ok && precopy_run(&p, NULL) == PRECOPY_CONVERGED;
    *first = l.t_pass2 - t0;
    /* the pages marked after the first sync go in the last pass: the
     * last sync and copy (vCPUs stopped), then the send */
    t0 = now_ms();
    ok = ok && precopy_save_state(&p, NULL) && precopy_complete(&p, NULL);
    *second = now_ms() - t0;
    precopy_finish(&p);
    g_mutex_clear(&p.lock);
    close(fd);
    if (t) {
        g_thread_join(t);
    }
    savevm_free(sv);
    return ok;
}

static double bench_raw(struct guest_mem *gm)
{
    GThread *t = NULL;
    int fd = sink(&t);
    double t0 = now_ms();

    for (uint64_t off = 0; off < gm->ram_size;) {
        ssize_t n = write(fd, gm->ram + off, MIN(gm->ram_size - off, 1 << 20));

        if (n <= 0) {
            break;
        }
        off += n;
    }
    close(fd);
    if (t) {
        g_thread_join(t);
    }
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    uint64_t mib = argc > 1 ? g_ascii_strtoull(argv[1], NULL, 10) : 1024;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    const char *dir = argc > 3 ? argv[3] : g_get_tmp_dir();
    bool save_only = argc > 4 && !strcmp(argv[4], "save");
    g_autofree char *snap = g_build_filename(dir, "vireo-bench.snap", NULL);
    g_autofree char *copy = g_build_filename(dir, "vireo-bench.cp", NULL);
    double *save = g_new(double, runs), *cp = g_new(double, runs);
    double *map = g_new(double, runs), *readin = g_new(double, runs);
    double *live1 = g_new(double, runs), *live2 = g_new(double, runs);
    double *raw = g_new(double, runs), *ratio = g_new(double, runs);
    double ratio_med;
    struct guest_mem *gm = gm_new(mib << 20, NULL);
    uint64_t x = 0x9e3779b97f4a7c15ULL;

    if (!gm || runs < 1) {
        fprintf(stderr, "snapshot-bench: cannot allocate %" PRIu64 " MiB\n",
                mib);
        return 1;
    }
    for (uint64_t i = 0; i < gm->ram_size; i += 8) { /* xorshift64 */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(gm->ram + i, &x, 8);
    }
    for (int r = 0; r < runs; r++) {
        struct savevm *sv = registry(gm);
        struct mig_writer w;
        char *cp_argv[] = {"cp", snap, copy, NULL};
        int fd, st = 0;
        double t0;

        /* a new file each time, as cp gets: truncating the last one
         * would wait for its writeback */
        unlink(snap);
        t0 = now_ms();
        fd = open(snap, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        mig_writer_init(&w, fd);
        if (!savevm_save(sv, &w, SAVEVM_RAM_FILE, NULL) ||
            !mig_writer_finish(&w, NULL)) {
            return 1;
        }
        close(fd);
        save[r] = now_ms() - t0;
        savevm_free(sv);
        unlink(copy);
        t0 = now_ms();
        if (!g_spawn_sync(NULL, cp_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                          NULL, NULL, &st, NULL) ||
            st) {
            return 1;
        }
        cp[r] = now_ms() - t0;
        ratio[r] = save[r] / cp[r];
    }
    for (int r = 0; r < runs && !save_only; r++) {
        struct guest_mem *d = gm_new(mib << 20, NULL);
        struct savevm *sv = registry(d);
        struct mig_reader rd;
        int fd = open(snap, O_RDONLY), p[2];
        double t0 = now_ms();
        pid_t pid;

        mig_reader_init_fd(&rd, fd);
        if (!savevm_load(sv, &rd, NULL)) {
            return 1;
        }
        map[r] = now_ms() - t0;
        mig_reader_fini(&rd);
        close(fd);
        savevm_free(sv);
        if (memcmp(d->ram, gm->ram, gm->ram_size)) {
            fprintf(stderr, "snapshot-bench: restored RAM differs\n");
            return 1;
        }
        gm_free(d);

        /* the read-in path: the same file through a pipe */
        d = gm_new(mib << 20, NULL);
        sv = registry(d);
        if (pipe(p) < 0) {
            return 1;
        }
        pid = fork();
        if (pid == 0) {
            dup2(p[1], 1);
            close(p[0]);
            execlp("cat", "cat", snap, (char *)NULL);
            _exit(127);
        }
        close(p[1]);
        t0 = now_ms();
        mig_reader_init_fd(&rd, p[0]);
        if (!savevm_load(sv, &rd, NULL)) {
            return 1;
        }
        readin[r] = now_ms() - t0;
        mig_reader_fini(&rd);
        close(p[0]);
        waitpid(pid, NULL, 0);
        savevm_free(sv);
        gm_free(d);
    }
    for (int r = 0; r < runs && !save_only; r++) {
        if (!bench_live(gm, &live1[r], &live2[r])) {
            fprintf(stderr, "snapshot-bench: live migration failed\n");
            return 1;
        }
        raw[r] = bench_raw(gm);
    }
    printf("RAM %" PRIu64 " MiB, %d runs, median ms:\n", mib, runs);
    printf("  save (file layout)     %8.1f\n", median(save, runs));
    printf("  cp of the same file    %8.1f\n", median(cp, runs));
    /* the ratio of each run's save and cp, back to back: steadier than
     * the ratio of the medians when the machine's load drifts (median()
     * sorts, so first) */
    ratio_med = median(ratio, runs);
    printf("  save / cp              %8.2f (per run: median %.2f, %.2f-%.2f)\n",
           median(save, runs) / median(cp, runs), ratio_med, ratio[0],
           ratio[runs - 1]);
    if (save_only) {
        goto out;
    }
    printf("  restore, mapped (file) %8.1f\n", median(map, runs));
    printf("  restore, read (pipe)   %8.1f\n", median(readin, runs));
    printf("  live: first pass (unix socket)   %8.1f (%.0f MiB/s)\n",
           median(live1, runs), mib / median(live1, runs) * 1000);
    printf("  live: pass over 1/4 of RAM       %8.1f (%.0f MiB/s)\n",
           median(live2, runs), mib / 4.0 / median(live2, runs) * 1000);
    printf("  write(2) of RAM to a unix socket %8.1f (%.0f MiB/s)\n",
           median(raw, runs), mib / median(raw, runs) * 1000);
out:
    unlink(snap);
    unlink(copy);
    gm_free(gm);
    return 0;
}
