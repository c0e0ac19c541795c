/* SPDX-License-Identifier: MIT */
/*
 * qmp-rtt.c: QMP round-trip latency with a client that costs almost
 * nothing, so the figure is the server's: connect to a QMP unix socket,
 * negotiate, then send `query-status` N times with one request in flight
 * and print the mean, median and p99 round trip in microseconds.
 * Usage: qmp-rtt SOCKET [N]
 *        qmp-rtt --echo SOCKET   serve a QMP-shaped peer that does no work
 *                                (greeting, then {"return": {}} per line):
 *                                the machine's IPC floor for the same client
 *        qmp-rtt --echo-poll SOCKET   the same, but waiting in poll() before
 *                                each read as an event loop does
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 1000000

struct conn {
    int fd;
    char buf[65536];
    size_t have;
    bool event; /* the last message read was an event */
};

/* Reads one CRLF-terminated message; returns its length or -1. */
static long read_msg(struct conn *c)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->have);
        if (nl) {
            long len = nl - c->buf + 1;
            c->event = strncmp(c->buf, "{\"event\"", 8) == 0;
            memmove(c->buf, nl + 1, c->have - (size_t)len);
            c->have -= (size_t)len;
            return len;
        }
        if (c->have == sizeof(c->buf)) {
            return -1;
        }
        ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
        if (n <= 0) {
            return -1;
        }
        c->have += (size_t)n;
    }
}

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int echo_server(const char *path, bool use_poll)
{
    static const char greet[] = "{\"QMP\": {}}\r\n";
    static const char ret[] = "{\"return\": {}}\r\n";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    static struct conn c;
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (strlen(path) >= sizeof(sa.sun_path)) {
        return 2;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, 1) < 0) {
        perror("echo: listen");
        return 1;
    }
    for (;;) {
        c.fd = accept(lfd, NULL, NULL);
        c.have = 0;
        if (c.fd < 0 || write(c.fd, greet, sizeof(greet) - 1) < 0) {
            continue;
        }
        for (;;) {
            if (use_poll && !memchr(c.buf, '\n', c.have)) {
                /* wait as a main loop does, then read */
                struct pollfd pfd = {.fd = c.fd, .events = POLLIN};
                if (poll(&pfd, 1, -1) < 0) {
                    break;
                }
            }
            if (read_msg(&c) < 0) {
                break;
            }
            if (write(c.fd, ret, sizeof(ret) - 1) < 0) {
                break;
            }
        }
        close(c.fd);
    }
}

int main(int argc, char **argv)
{
    static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\r\n";
    static const char req[] = "{\"execute\": \"query-status\"}\r\n";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    long n = argc > 2 ? atol(argv[2]) : 100000;
    static double samples[MAX_SAMPLES];
    double *t, sum = 0;
    static struct conn c;
    int fd;

    if (argc == 3 && !strcmp(argv[1], "--echo")) {
        return echo_server(argv[2], false);
    }
    if (argc == 3 && !strcmp(argv[1], "--echo-poll")) {
        return echo_server(argv[2], true);
    }
    if (argc < 2 || n <= 0 || n > MAX_SAMPLES ||
        strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "usage: qmp-rtt SOCKET [N]\n");
        return 2;
    }
    memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("connect");
        return 1;
    }
    c.fd = fd;
    if (read_msg(&c) < 0 || write(fd, caps, sizeof(caps) - 1) < 0 ||
        read_msg(&c) < 0) {
        fprintf(stderr, "qmp-rtt: negotiation failed\n");
        return 1;
    }
    t = samples;
    for (long i = 0; i < n; i++) {
        double t0 = now_us();
        long len;
        if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
            perror("write");
            return 1;
        }
        do { /* events may come in between; the reply is what counts */
            len = read_msg(&c);
            if (len < 0) {
                fprintf(stderr, "qmp-rtt: connection lost\n");
                return 1;
            }
        } while (c.event);
        t[i] = now_us() - t0;
        sum += t[i];
    }
    qsort(t, (size_t)n, sizeof(*t), cmp);
    printf("%ld round trips: mean %.1f us, median %.1f us, p99 %.1f us\n", n,
           sum / n, t[n / 2], t[n * 99 / 100]);
    return 0;
}
