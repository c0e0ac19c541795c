/* SPDX-License-Identifier: MIT */
/*
 * socket.c: see socket.h.  A path longer than sun_path is refused rather
 * than cut short (a truncated path would name another socket).
 */
#include "util/common.h"
#include "util/socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int unix_stream_socket(const char *path, bool server, Error **errp)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        error_setg(errp, "socket path '%s' is longer than %zu bytes", path,
                   sizeof(sa.sun_path) - 1);
        return -1;
    }
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        error_setg_errno(errp, errno, "socket");
        return -1;
    }
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    if (server) {
        unlink(path); /* a stale socket from an earlier run */
        if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(s, 1) < 0) {
            error_setg_errno(errp, errno, "failed to listen on '%s'", path);
            close(s);
            return -1;
        }
    } else if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        error_setg_errno(errp, errno, "failed to connect to '%s'", path);
        close(s);
        return -1;
    }
    return s;
}
