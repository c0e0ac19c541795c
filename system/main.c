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
#include "system/machine.h"
#include "system/object.h"
#include "system/sandbox.h"
#include "system/vl.h"
#include "sev/sev-config.h"
#include "target-i386/cpu.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

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

static bool write_pidfile(const char *path, Error **errp)
{
    char buf[32];
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
    if (ftruncate(fd, 0) < 0 || write(fd, buf, strlen(buf)) < 0) {
        error_setg_errno(errp, errno, "cannot write pid file '%s'", path);
        close(fd);
        return false;
    }
    /* The fd stays open (and locked) for the life of the process. */
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
    bool own_pidfile = false;

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
    if (cfg.daemonize) {
        daemon_fd = daemonize_start(&err);
        if (daemon_fd < 0) {
            error_report_err(err);
            goto done;
        }
    }
    if (cfg.pidfile) {
        if (!write_pidfile(cfg.pidfile, &err)) {
            error_report_err(err);
            daemonize_done(&daemon_fd, 1);
            goto done;
        }
        own_pidfile = true;
    }
    vcpu_signals_init();
    m = machine_new(&cfg, &err);
    if (!m || !monitor_init_all(m, &err) ||
        (cfg.sandbox && !sandbox_install(SANDBOX_MAIN, &err))) {
        error_report_err(err);
        daemonize_done(&daemon_fd, 1);
        goto done;
    }
    daemonize_done(&daemon_fd, 0);
    status = machine_run(m);
done:
    machine_free(m);
    if (own_pidfile) {
        unlink(cfg.pidfile);
    }
    machine_config_clear(&cfg);
    g_string_free(out, TRUE);
    return status;
}
