/* SPDX-License-Identifier: MIT */
/*
 * main.c: process entry: parse the command line, build the machine, run
 * the main loop, exit with QEMU's statuses (0 on shutdown or quit, 1 on a
 * configuration or start-up error, (v << 1) | 1 from isa-debug-exit).
 * The only place exit() is called.
 */
#include "util/common.h"
#include "accel/kvm/vcpu.h"
#include "hw/core/device.h"
#include "qapi/monitor.h"
#include "migration/vmstate.h"
#include "system/machine.h"
#include "system/object.h"
#include "system/sandbox.h"
#include "system/vl.h"
#include "sev/sev-config.h"
#include "target-i386/cpu.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define VIREO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIREO_ASAN 1
#endif
#endif

#ifdef VIREO_ASAN
#include <sanitizer/common_interface_defs.h>

/* Sanitizer builds: the symbolizer is a child process the sanitizer
 * starts at its first report, and the sandbox forbids starting processes.
 * Start it now so that reports made under the sandbox (leaks at exit) are
 * symbolized; it stays connected by pipes. */
static void sanitizer_start_symbolizer(void)
{
    char buf[128];

    __sanitizer_symbolize_pc(__builtin_return_address(0), "%F %L", buf,
                             sizeof(buf));
}
#else
static void sanitizer_start_symbolizer(void)
{
}
#endif

static int print_help_request(const char *req)
{
    char *text = NULL;

    if (!strcmp(req, "machine")) {
        text = machine_types_help();
    } else if (!strcmp(req, "cpu")) {
        text = x86_cpu_model_help();
    } else if (!strcmp(req, "object")) {
        text = object_help(NULL);
    } else if (g_str_has_prefix(req, "object:")) {
        text = object_help(req + strlen("object:"));
        if (!text) {
            fprintf(stderr, "vireo: -object: invalid object type: %s\n",
                    req + strlen("object:"));
            return 1;
        }
    } else if (!strcmp(req, "device")) {
        text = device_help(NULL);
    } else if (g_str_has_prefix(req, "device:")) {
        text = device_help(req + strlen("device:"));
        if (!text) {
            fprintf(stderr,
                    "vireo: -device: '%s' is not a valid device "
                    "model name\n",
                    req + strlen("device:"));
            return 1;
        }
    }
    if (text) {
        fputs(text, stdout);
        g_free(text);
    }
    return 0;
}

/*
 * -daemonize: the parent waits on a pipe until the child has built the
 * machine (or failed) and exits with the child's verdict, so a caller
 * that sees status 0 knows the VM is up.
 */
/* Returns the pipe to report readiness on (in the child), or -1. */
static int daemonize_start(Error **errp)
{
    int fds[2];
    pid_t pid;
    char status = 1;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        error_setg_errno(errp, errno, "-daemonize: pipe failed");
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        error_setg_errno(errp, errno, "-daemonize: fork failed");
        return -1;
    }
    if (pid > 0) {
        close(fds[1]);
        if (read(fds[0], &status, 1) != 1) {
            int ws;
            waitpid(pid, &ws, 0);
            exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : 1);
        }
        exit(status);
    }
    close(fds[0]);
    setsid();
    return fds[1];
}

/* Tells the waiting parent the outcome; *fd is closed and set to -1. */
static void daemonize_done(int *fd, int status)
{
    char c = status;
    int null;

    if (*fd < 0) {
        return;
    }
    if (status == 0) {
        null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            close(null);
        }
    }
    if (write(*fd, &c, 1) < 0) {
        /* the parent is gone; nothing to tell */
    }
    close(*fd);
    *fd = -1;
}

/* The signals that end vireo.  Blocked from the start (the vCPU threads
 * inherit the mask) and read through the signalfd of system/runstate.c,
 * so a signal during start-up is neither lost nor acted on half-way. */
static void term_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

/*
 * Start-up failed with a termination signal pending (it ended a wait for
 * a QMP client, or came while the machine was being built), and the
 * socket and pidfile are gone: die of the signal, as QEMU does when it
 * is killed before its main loop runs (status 128+N in a shell).
 */
static void die_of_pending_signal(void)
{
    struct timespec now = {0, 0};
    sigset_t set, one;
    siginfo_t si;

    term_signals(&set);
    if (sigtimedwait(&set, &si, &now) < 0) {
        return;
    }
    fprintf(stderr, "vireo: terminating on signal %d from pid %d\n",
            si.si_signo, (int)si.si_pid);
    fflush(NULL);
    signal(si.si_signo, SIG_DFL);
    sigemptyset(&one);
    sigaddset(&one, si.si_signo);
    raise(si.si_signo); /* pending while blocked */
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
}

/* Writes all of buf at offset 0 (a short write is retried, so that its
 * cause, ENOSPC or EFBIG, is what gets reported). */
static bool write_all(int fd, const char *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

/* Writes and locks the pid file; *st is what was written (the file the
 * exit path may remove: only that regular file, never a device such as
 * "-pidfile /dev/zero", nor a file put in its place since). */
static bool write_pidfile(const char *path, struct stat *out, Error **errp)
{
    char buf[32];
    struct stat st = {0};
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot open pid file '%s'", path);
        return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        error_setg(errp,
                   "cannot lock pid file '%s': another instance is "
                   "running",
                   path);
        close(fd);
        return false;
    }
    snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (fstat(fd, &st) < 0 || (S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) ||
        !write_all(fd, buf, strlen(buf))) {
        error_setg_errno(errp, errno, "cannot write pid file '%s'", path);
        /* We hold the lock, so the file is ours: an empty or partial pid
         * file (a full disk) must not be left for others to read, as
         * QEMU also removes it.  Only a regular file: "-pidfile
         * /dev/full" must not remove the device. */
        if (S_ISREG(st.st_mode)) {
            unlink(path);
        }
        close(fd);
        return false;
    }
    /* The fd stays open (and locked) for the life of the process. */
    *out = st;
    return true;
}

int main(int argc, char **argv)
{
    struct machine_config cfg;
    GString *out = g_string_new(NULL);
    Error *err = NULL;
    struct machine *m = NULL;
    int status = 1;
    int daemon_fd = -1;
    bool own_pidfile = false, started = false;
    struct stat pid_st = {0}, now;
    sigset_t term;

    machine_config_init(&cfg);
    switch (vl_parse(argc, argv, &cfg, out, &err)) {
    case VL_ERROR:
        error_report_err(err);
        goto done;
    case VL_EXIT_OK:
        fputs(out->str, stdout);
        status = cfg.help_request ? print_help_request(cfg.help_request) : 0;
        goto done;
    case VL_RUN:
        break;
    }
    error_set_timestamps(cfg.msg_timestamp);

    if (cfg.measure_launch) {
        char *digest = sev_measure_for_config(&cfg, &err);

        if (!digest) {
            error_report_err(err);
            goto done;
        }
        printf("%s\n", digest);
        g_free(digest);
        status = 0;
        goto done;
    }
    if (cfg.dump_vmstate) {
        /* the descriptions are static: no machine needed (QEMU builds one
         * first; the output is the same for every configuration here) */
        status = vmstate_dump_file(cfg.dump_vmstate, &err) ? 0 : 1;
        if (status) {
            error_report_err(err);
        }
        goto done;
    }
    if (cfg.daemonize) {
        daemon_fd = daemonize_start(&err);
        if (daemon_fd < 0) {
            error_report_err(err);
            goto done;
        }
    }
    term_signals(&term);
    pthread_sigmask(SIG_BLOCK, &term, NULL);
    if (cfg.pidfile) {
        if (!write_pidfile(cfg.pidfile, &pid_st, &err)) {
            error_report_err(err);
            daemonize_done(&daemon_fd, 1);
            goto done;
        }
        own_pidfile = true;
    }
    vcpu_signals_init();
    m = machine_new(&cfg, &err);
    if (cfg.sandbox) {
        sanitizer_start_symbolizer();
    }
    if (!m || !monitor_init_all(m, &err) ||
        (cfg.sandbox && !sandbox_install(SANDBOX_MAIN, &err))) {
        error_report_err(err);
        daemonize_done(&daemon_fd, 1);
        goto done;
    }
    daemonize_done(&daemon_fd, 0);
    started = true;
    status = machine_run(m);
done:
    machine_free(m);
    if (own_pidfile && S_ISREG(pid_st.st_mode) &&
        stat(cfg.pidfile, &now) == 0 && now.st_dev == pid_st.st_dev &&
        now.st_ino == pid_st.st_ino) {
        unlink(cfg.pidfile);
    }
    machine_config_clear(&cfg);
    g_string_free(out, TRUE);
    if (!started) {
        die_of_pending_signal();
    }
    return status;
}
