/* SPDX-License-Identifier: MIT */
/*
 * fdset.c: fd sets from -add-fd and "/dev/fdset/N" file names (see
 * fdset.h; QEMU's rules from its qemu-options "-add-fd" text).
 */
#include "util/common.h"
#include "system/fdset.h"
#include "util/keyval.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

struct fdset_fd {
    uint64_t set;
    int fd;
};

struct fdsets {
    GArray *fds; /* struct fdset_fd */
};

struct fdsets *fdsets_new(GPtrArray *texts, Error **errp)
{
    struct fdsets *s = g_new0(struct fdsets, 1);

    s->fds = g_array_new(FALSE, FALSE, sizeof(struct fdset_fd));
    for (guint i = 0; texts && i < texts->len; i++) {
        struct keyval *kv =
            keyval_parse(g_ptr_array_index(texts, i), NULL, errp);
        struct fdset_fd e;
        uint64_t fd;
        bool ok;

        if (!kv) {
            fdsets_free(s);
            return NULL;
        }
        ok = keyval_get_u64(kv, "fd", 0, &fd, errp) &&
             keyval_get_u64(kv, "set", 0, &e.set, errp);
        keyval_free(kv);
        if (!ok || fd > INT_MAX) {
            if (ok) {
                error_setg(errp, "-add-fd: fd %" PRIu64 " is out of range", fd);
            }
            fdsets_free(s);
            return NULL;
        }
        e.fd = fcntl((int)fd, F_DUPFD_CLOEXEC, 3);
        if (e.fd < 0) {
            error_setg_errno(errp, errno, "-add-fd: cannot use fd %" PRIu64,
                             fd);
            fdsets_free(s);
            return NULL;
        }
        g_array_append_val(s->fds, e);
    }
    return s;
}

void fdsets_free(struct fdsets *s)
{
    if (!s) {
        return;
    }
    for (guint i = 0; i < s->fds->len; i++) {
        close(g_array_index(s->fds, struct fdset_fd, i).fd);
    }
    g_array_free(s->fds, TRUE);
    g_free(s);
}

bool fdset_is_path(const char *path)
{
    return g_str_has_prefix(path, "/dev/fdset/");
}

static int fdset_dup(struct fdsets *s, const char *path, int flags,
                     Error **errp)
{
    const char *num = path + strlen("/dev/fdset/");
    bool set_seen = false;
    uint64_t set;

    if (!*num || !g_ascii_isdigit(*num) || !parse_u64(num, &set)) {
        error_setg(errp, "'%s': not a valid fd set name", path);
        return -1;
    }
    for (guint i = 0; s && i < s->fds->len; i++) {
        const struct fdset_fd *e = &g_array_index(s->fds, struct fdset_fd, i);
        int fl;

        if (e->set != set) {
            continue;
        }
        set_seen = true;
        fl = fcntl(e->fd, F_GETFL);
        /* QEMU's rule: the access mode must be the one asked for */
        if (fl >= 0 && (fl & O_ACCMODE) == (flags & O_ACCMODE)) {
            int fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 3);

            if (fd < 0) {
                error_setg_errno(errp, errno, "'%s': dup failed", path);
            }
            return fd;
        }
    }
    if (!set_seen) {
        error_setg(errp, "'%s': no fd set %" PRIu64 " (see -add-fd)", path,
                   set);
    } else {
        error_setg(errp, "'%s': no fd in set %" PRIu64 " opened %s", path, set,
                   (flags & O_ACCMODE) == O_RDONLY   ? "read-only"
                   : (flags & O_ACCMODE) == O_WRONLY ? "write-only"
                                                     : "read-write");
    }
    return -1;
}

int fdset_open(struct fdsets *s, const char *path, int flags, mode_t mode,
               Error **errp)
{
    int fd;

    if (fdset_is_path(path)) {
        fd = fdset_dup(s, path, flags, errp);
        /* As QEMU: the fd is used as whoever opened it left it (append,
         * position); only non-blocking output is vireo's own need. */
        if (fd >= 0 && (flags & O_NONBLOCK)) {
            int fl = fcntl(fd, F_GETFL);

            if (fl >= 0) {
                fcntl(fd, F_SETFL, fl | O_NONBLOCK);
            }
        }
        return fd;
    }
    fd = open(path, flags | O_CLOEXEC, mode);
    if (fd < 0) {
        error_setg_errno(errp, errno, "could not open '%s'", path);
    }
    return fd;
}
