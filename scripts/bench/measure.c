/* SPDX-License-Identifier: MIT */
/*
 * measure.c: run a command and report its wall time, CPU time and peak
 * RSS, for scripts/bench/run.py.  Why not measure from Python: a child's
 * ru_maxrss includes the memory of the process it was forked from (the
 * kernel folds the pre-exec mm's high-water mark into it), so a child of
 * a Python interpreter never shows less than the interpreter's ~15 MiB.
 * This program is small, so the figure it reports is the command's.
 *
 * usage: measure RESULT_FILE COMMAND [ARGS...]
 * RESULT_FILE gets one line: "wall_s cpu_s maxrss_kib status" where status
 * is the exit code, or 128+signal.  measure itself exits 0, or 2 on error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    struct rusage ru;
    int status;

    if (argc < 3) {
        fprintf(stderr, "usage: measure RESULT_FILE COMMAND [ARGS...]\n");
        return 2;
    }
    FILE *res = fopen(argv[1], "w");
    if (!res) {
        perror(argv[1]);
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double cpu = (double)ru.ru_utime.tv_sec +
                 (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(res, "%.6f %.6f %ld %d\n", wall, cpu, ru.ru_maxrss, code);
    return fclose(res) == 0 ? 0 : 2;
}
