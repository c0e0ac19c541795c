/* SPDX-License-Identifier: MIT */
/*
 * test-sandbox.c: the seccomp filters (system/sandbox.c).  Each case runs
 * in a forked child that installs a filter, checks that what the thread
 * class needs still works, then makes one forbidden call: the child must
 * die with status SANDBOX_EXIT_STATUS and a message naming the syscall.
 */
#include "util/common.h"
#include "qapi/json-parse.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <glib-unix.h>
#include "hw/char/chardev.h"
#include "system/machine.h"
#include "system/sandbox.h"

typedef void (*child_fn)(void);

/* Runs fn in a child with stderr captured; returns the wait status. */
static int run_child(child_fn fn, char **err_out)
{
    int pipefd[2], status;
    GString *s = g_string_new(NULL);
    char buf[256];
    ssize_t n;
    pid_t pid;

    g_assert_cmpint(pipe(pipefd), ==, 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        fn();
        _exit(0); /* fn must not return when it expects to be killed */
    }
    close(pipefd[1]);
    while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) {
        g_string_append_len(s, buf, n);
    }
    close(pipefd[0]);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    *err_out = g_string_free(s, FALSE);
    return status;
}

static void expect_killed(child_fn fn, long nr, const char *name)
{
    char *err, *want;
    int st = run_child(fn, &err);

    want = g_strdup_printf("vireo: seccomp: forbidden syscall %ld (%s)\n", nr,
                           name);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != SANDBOX_EXIT_STATUS ||
        !strstr(err, want)) {
        g_error("expected death by %s: status 0x%x, stderr '%s'", name, st,
                err);
    }
    g_assert_true(g_str_has_suffix(err, want)); /* the last thing printed */
    g_free(want);
    g_free(err);
}

static void expect_ok(child_fn fn)
{
    char *err;
    int st = run_child(fn, &err);

    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        g_error("child failed: status 0x%x, stderr '%s'", st, err);
    }
    g_free(err);
}

static void install(enum sandbox_class cls)
{
    Error *err = NULL;

    if (!sandbox_install(cls, &err)) {
        fprintf(stderr, "install: %s\n", error_get_pretty(err));
        _exit(2);
    }
}

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "check failed: %s\n", #cond);                      \
            _exit(3);                                                          \
        }                                                                      \
    } while (0)

/* ---- vCPU class ----------------------------------------------------- */

/* What a vCPU thread does: I/O on open fds, memory, futex, time, signals
 * to threads, KVM ioctls (here on a non-KVM fd: ENOTTY, but not killed). */
static void vcpu_allowed(void)
{
    int p[2];
    char c;
    void *mem;
    GMutex lock;
    struct timespec ts;

    CHECK(pipe(p) == 0);
    install(SANDBOX_VCPU);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(read(p[0], &c, 1) == 1 && c == 'x');
    mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem != MAP_FAILED);
    CHECK(madvise(mem, 1 << 20, MADV_DONTNEED) == 0);
    CHECK(munmap(mem, 1 << 20) == 0);
    g_free(g_malloc(64 * 1024 * 1024)); /* mmap'ed by malloc */
    g_mutex_init(&lock);
    g_mutex_lock(&lock);
    g_mutex_unlock(&lock);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0);
    CHECK(getpid() > 0);
    CHECK(ioctl(p[0], KVM_RUN, 0) < 0 && errno == ENOTTY);
    CHECK(ioctl(p[0], KVM_GET_REGS, NULL) < 0);
    CHECK(ioctl(p[0], KVM_IRQ_LINE_STATUS, NULL) < 0);
    CHECK(send(p[1], "y", 1, MSG_DONTWAIT) < 0 && errno == ENOTSOCK);
    fprintf(stderr, "vcpu ok\n");
    _exit(0);
}

/* What a UART on a vCPU thread does through a chardev: writes that fill
 * the socket and get buffered (a GLib source attached from this thread),
 * and accept_input kicks (an idle source). */
static void vcpu_chardev(void)
{
    struct machine m = {0};
    struct chardev *c;
    char *text;
    uint8_t buf[4096] = {0};
    int sv[2];

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    m.ctx = g_main_context_new();
    text = g_strdup_printf("socket,id=s,fd=%d", sv[0]);
    c = chardev_new(&m, text, NULL);
    CHECK(c != NULL);
    install(SANDBOX_VCPU);
    for (int i = 0; i < 256; i++) {
        chardev_write(c, buf, sizeof(buf));
    }
    CHECK(chardev_dropped(c) > 0);
    chardev_accept_input(c);
    g_main_context_wakeup(m.ctx);
    _exit(0);
}

static void vcpu_socket(void)
{
    install(SANDBOX_VCPU);
    socket(AF_UNIX, SOCK_STREAM, 0);
    _exit(0);
}

static void vcpu_open(void)
{
    install(SANDBOX_VCPU);
    open("/dev/null", O_RDONLY);
    _exit(0);
}

static void vcpu_execve(void)
{
    char *argv[] = {"/bin/true", NULL};

    install(SANDBOX_VCPU);
    execve("/bin/true", argv, environ);
    _exit(0);
}

static void vcpu_tty_ioctl(void)
{
    struct termios t;

    install(SANDBOX_VCPU);
    ioctl(0, TCGETS, &t);
    _exit(0);
}

static void vcpu_clone_thread(void)
{
    install(SANDBOX_VCPU);
    /* clone3 is not in the vCPU list at all (no ENOSYS fallback) */
    syscall(SYS_clone3, NULL, 0);
    _exit(0);
}

static void test_vcpu(void)
{
    expect_ok(vcpu_allowed);
    expect_ok(vcpu_chardev);
    expect_killed(vcpu_socket, SYS_socket, "socket");
    expect_killed(vcpu_open, SYS_openat, "openat");
    expect_killed(vcpu_execve, SYS_execve, "execve");
    expect_killed(vcpu_tty_ioctl, SYS_ioctl, "ioctl");
    expect_killed(vcpu_clone_thread, SYS_clone3, "clone3");
}

/* ---- main class ----------------------------------------------------- */

static gboolean on_timeout(gpointer opaque)
{
    *(int *)opaque |= 1;
    return G_SOURCE_REMOVE;
}

static gboolean on_fd(gint fd, GIOCondition cond, gpointer opaque)
{
    char c;

    CHECK(read(fd, &c, 1) == 1);
    *(int *)opaque |= 2;
    return G_SOURCE_REMOVE;
}

static gpointer thread_fn(gpointer opaque)
{
    return GINT_TO_POINTER(GPOINTER_TO_INT(opaque) + 1);
}

static void main_allowed(void)
{
    GMainContext *ctx;
    GSource *src;
    struct json_value *node;
    char *json, *err = NULL;
    int p[2], sv[2], done = 0, s, fd;
    char c;
    struct termios t;

    install(SANDBOX_MAIN);
    /* the GLib main loop: timers, fd watches, wakeups */
    ctx = g_main_context_new();
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "!", 1) == 1);
    src = g_timeout_source_new(10);
    g_source_set_callback(src, on_timeout, &done, NULL);
    g_source_attach(src, ctx);
    g_source_unref(src);
    src = g_unix_fd_source_new(p[0], G_IO_IN);
    g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_fd, &done, NULL);
    g_source_attach(src, ctx);
    g_source_unref(src);
    while (done != 3) {
        g_main_context_iteration(ctx, TRUE);
    }
    g_main_context_wakeup(ctx);
    g_main_context_unref(ctx);
    /* threads (clone3 -> ENOSYS -> clone with CLONE_THREAD) */
    CHECK(GPOINTER_TO_INT(g_thread_join(
              g_thread_new("t", thread_fn, GINT_TO_POINTER(41)))) == 42);
    /* sockets */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(send(sv[0], "a", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1);
    CHECK(recv(sv[1], &c, 1, 0) == 1);
    s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    close(s);
    /* JSON, stdio */
    node = json_parse("{\"execute\": \"qmp_capabilities\"}", 31, &err);
    CHECK(node != NULL);
    json = json_to_string(node);
    json_free(node);
    fprintf(stderr, "%s\n", json);
    g_free(json);
    /* files, terminal ioctls, eventfd-style I/O */
    fd = open("/dev/null", O_WRONLY);
    CHECK(fd >= 0);
    CHECK(write(fd, "z", 1) == 1);
    CHECK(ioctl(fd, TCGETS, &t) < 0 && errno == ENOTTY);
    close(fd);
    _exit(0);
}

static void ev_count(void *opaque, enum chardev_event ev)
{
    ((int *)opaque)[ev == CHARDEV_OPENED ? 0 : 1]++;
}

static void nop_read(void *opaque, const uint8_t *buf, size_t len)
{
}

/* A chardev server's life on the main thread under the filter: accept,
 * I/O, hang-up, listening again, and the unlink of its socket at free. */
static void main_chardev(void)
{
    struct machine m = {0};
    struct chardev *c;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    /* the parent makes and removes the directory: rmdir is not allowed */
    char *path = g_build_filename(g_getenv("VIREO_TEST_DIR"), "s.sock", NULL);
    char *text =
        g_strdup_printf("socket,id=s,path=%s,server=on,wait=off", path);
    int events[2] = {0, 0};
    struct chardev_frontend fe = {
        .read = nop_read, .event = ev_count, .opaque = events};
    char buf[4];
    int cl;

    m.ctx = g_main_context_new();
    c = chardev_new(&m, text, NULL);
    CHECK(c != NULL);
    CHECK(chardev_attach(c, &fe, NULL));
    install(SANDBOX_MAIN);
    cl = socket(AF_UNIX, SOCK_STREAM, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    CHECK(connect(cl, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    while (events[0] != 1) {
        g_main_context_iteration(m.ctx, TRUE);
    }
    CHECK(chardev_write(c, (const uint8_t *)"out", 3) == 3);
    CHECK(read(cl, buf, 3) == 3);
    close(cl);
    while (events[1] != 1) {
        g_main_context_iteration(m.ctx, TRUE);
    }
    chardev_free(c);
    CHECK(!g_file_test(path, G_FILE_TEST_EXISTS));
    _exit(0);
}

static void main_fork(void)
{
    install(SANDBOX_MAIN);
    fork();
    _exit(0);
}

static void main_execve(void)
{
    char *argv[] = {"/bin/true", NULL};

    install(SANDBOX_MAIN);
    execve("/bin/true", argv, environ);
    _exit(0);
}

static void main_setuid(void)
{
    install(SANDBOX_MAIN);
    syscall(SYS_setuid, 0);
    _exit(0);
}

static void main_blk_ioctl(void)
{
    uint64_t size;

    install(SANDBOX_MAIN);
    ioctl(0, BLKGETSIZE64, &size);
    _exit(0);
}

static void main_packet_socket(void)
{
    install(SANDBOX_MAIN);
    socket(AF_PACKET, SOCK_RAW, 0);
    _exit(0);
}

static void main_then_vcpu(void)
{
    /* filters stack: a vCPU thread under the main filter is limited by
     * both */
    install(SANDBOX_MAIN);
    install(SANDBOX_VCPU);
    socket(AF_UNIX, SOCK_STREAM, 0);
    _exit(0);
}

static gpointer idle_thread(gpointer p)
{
    g_usleep(10 * G_USEC_PER_SEC); /* still running when main exits */
    return p;
}

/* Issue 13: a process under the main filter ends with exit(), running
 * what runs at exit.  In a sanitizer build that is LeakSanitizer's check:
 * a tracer task it clones (CLONE_VM|CLONE_UNTRACED, no CLONE_THREAD)
 * ptrace()s every thread (here a second one too); it died of SIGSYS
 * before sandbox-rules.h let it (SANDBOX_FOR_LSAN).  In other builds
 * nothing runs at exit that the filter could refuse. */
static void main_exit_with_threads(void)
{
    install(SANDBOX_MAIN);
    g_thread_unref(g_thread_new("idle", idle_thread, NULL));
    exit(0);
}

static void test_main(void)
{
    expect_ok(main_allowed);
    expect_ok(main_exit_with_threads);
    {
        char *dir = g_dir_make_tmp("vireo-sandbox-XXXXXX", NULL);

        g_setenv("VIREO_TEST_DIR", dir, TRUE);
        expect_ok(main_chardev);
        g_assert_cmpint(rmdir(dir), ==, 0); /* the socket file is gone */
        g_free(dir);
    }
    expect_killed(main_fork, SYS_clone, "clone");
    expect_killed(main_execve, SYS_execve, "execve");
    expect_killed(main_setuid, SYS_setuid, "setuid");
    expect_killed(main_blk_ioctl, SYS_ioctl, "ioctl");
    expect_killed(main_packet_socket, SYS_socket, "socket");
    expect_killed(main_then_vcpu, SYS_socket, "socket");
}

static void test_names(void)
{
    g_assert_cmpstr(sandbox_syscall_name(SYS_read), ==, "read");
    g_assert_cmpstr(sandbox_syscall_name(SYS_socket), ==, "socket");
    g_assert_cmpstr(sandbox_syscall_name(SYS_execve), ==, "execve");
    g_assert_cmpstr(sandbox_syscall_name(-1), ==, "?");
    g_assert_cmpstr(sandbox_syscall_name(100000), ==, "?");
    g_assert_cmpstr(sandbox_syscall_name(400), ==, "?"); /* a gap */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/names", test_names);
    g_test_add_func("/sandbox/vcpu", test_vcpu);
    g_test_add_func("/sandbox/main", test_main);
    return g_test_run();
}
